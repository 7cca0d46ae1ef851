import type { PendingClaim } from "./pod-info.ts";
import { list, type Raw, record, string } from "./raw.ts";

/**
 * The last part of a node label key (after its `/`) that names one node, when a PV's node
 * affinity uses it: `kubernetes.io/hostname` (local-path-provisioner, `local` volumes),
 * `topology.topolvm.io/node` (TopoLVM), `topology.lvms.io/node` (LVM Storage),
 * `openebs.io/nodename` and `openebs.io/nodeid` (OpenEBS LocalPV LVM and ZFS, whose node id is
 * a label the operator sets), `topology.hostpath.csi/node` (the CSI hostpath driver). Zones,
 * regions and racks name places that hold several nodes.
 */
const NODE_KEY_END = /(?:^|\/)(?:hostname|node|nodename|node-name|nodeid|node-id)$/;

/**
 * True when a PersistentVolume lives on one node: a `local` or `hostPath` volume, or any
 * volume whose required node affinity names a node by a key NODE_KEY_END matches. Zone-pinned
 * disks are not node-local: their affinity names zones, not nodes.
 */
export function isNodeLocalVolume(raw: Raw): boolean {
  const spec = record(raw.spec);
  if (spec.local !== undefined || spec.hostPath !== undefined) return true;
  const terms = list(record(record(spec.nodeAffinity).required).nodeSelectorTerms);
  return terms.some((term) =>
    list(record(term).matchExpressions).some((expression) => {
      const key = string(record(expression).key);
      return key !== undefined && NODE_KEY_END.test(key);
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
