import type { ClusterIndex } from "./cluster-index.ts";
import type { HostPort, PodInfo } from "./snapshot.ts";
import { binKey, type PeerBin } from "./topology-domain.ts";

/** The host ports in use per bin (by `binKey`), read from the node's pods on first use. */
export interface PortPlacement {
  index: ClusterIndex;
  leaving: ReadonlySet<PodInfo>;
  used: Map<string, HostPort[]>;
}

/** The host-port view for placing `moving` pods (their own ports leave with them). */
export function portPlacement(index: ClusterIndex, moving: readonly PodInfo[]): PortPlacement {
  return { index, leaving: new Set(moving), used: new Map() };
}

/**
 * Whether a host port of `pod` is already taken on `bin`: same protocol and port, on the same
 * address or where either side binds every address.
 */
export function portConflict(placement: PortPlacement, pod: PodInfo, bin: PeerBin): boolean {
  const wanted = pod.hostPorts;
  if (!wanted) return false;
  const used = usedOn(placement, bin);
  return wanted.some((port) => used.some((other) => clash(port, other)));
}

/** Records the host ports of `pod` as taken on `bin`. */
export function placePorts(placement: PortPlacement, pod: PodInfo, bin: PeerBin): void {
  if (pod.hostPorts) usedOn(placement, bin).push(...pod.hostPorts);
}

function usedOn(placement: PortPlacement, bin: PeerBin): HostPort[] {
  const key = binKey(bin);
  let used = placement.used.get(key);
  if (!used) {
    // A node still to be added has only its DaemonSet pods on it.
    used = bin.traits.name === undefined ? [...(bin.traits.daemonSetHostPorts ?? [])] : [];
    // A pod being deleted holds its ports until it is gone, as the scheduler's NodePorts counts it.
    if (bin.traits.name !== undefined)
      for (const pod of placement.index.podsByNode.get(bin.name) ?? [])
        if (pod.hostPorts && !placement.leaving.has(pod)) used.push(...pod.hostPorts);
    placement.used.set(key, used);
  }
  return used;
}

function clash(a: HostPort, b: HostPort): boolean {
  return (
    a.port === b.port &&
    a.protocol === b.protocol &&
    (a.hostIP === undefined || b.hostIP === undefined || a.hostIP === b.hostIP)
  );
}
