import type { PendingClaim } from "./pod-info.ts";
import { list, type Raw, record, string } from "./raw.ts";

/** Node labels whose use in a PV's node affinity pins the volume to one node. */
const hostnameKeys = new Set(["kubernetes.io/hostname"]);

/**
 * True when a PersistentVolume lives on one node: a `local` or `hostPath` volume, or any
 * volume whose node affinity names hosts (local-path-provisioner, OpenEBS LocalPV, TopoLVM).
 * Zone-pinned cloud disks are not node-local: their affinity names zones, not hosts.
 */
export function isNodeLocalVolume(raw: Raw): boolean {
  const spec = record(raw.spec);
  if (spec.local !== undefined || spec.hostPath !== undefined) return true;
  const terms = list(record(record(spec.nodeAffinity).required).nodeSelectorTerms);
  return terms.some((term) =>
    list(record(term).matchExpressions).some((expression) => {
      const key = string(record(expression).key);
      return key !== undefined && hostnameKeys.has(key);
    }),
  );
}

/** `namespace/name` of a PVC → the PV it is bound to. */
export function claimBinding(raw: Raw): [key: string, volume: string | undefined] {
  const metadata = record(raw.metadata);
  const key = `${string(metadata.namespace) ?? ""}/${string(metadata.name) ?? ""}`;
  return [key, string(record(raw.spec).volumeName) || undefined];
}

/**
 * Adds a `local` blocking volume to each pod whose claim is bound to a node-local PV.
 * Unbound claims and claims on network storage do not tie a pod to its node.
 */
export function resolveLocalClaims(
  pending: readonly PendingClaim[],
  bindings: ReadonlyMap<string, string | undefined>,
  localVolumes: ReadonlySet<string>,
): void {
  for (const { pod, volume, claim } of pending) {
    const bound = bindings.get(`${pod.namespace}/${claim}`);
    if (bound !== undefined && localVolumes.has(bound)) {
      // Replaced, not pushed to: a pod without blocking volumes shares one frozen empty list.
      pod.blockingVolumes = [...pod.blockingVolumes, { name: volume, type: "local", claim }];
    }
  }
}
