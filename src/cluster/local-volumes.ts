import type { ClaimRecord, VolumeRecord } from "./claim-placement.ts";
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

/**
 * Adds a `local` blocking volume to each pod whose claim is bound to a node-local PV, marked
 * `ephemeral` for a generic ephemeral volume's claim (deleted with the pod, as an emptyDir is).
 * Unbound claims and claims on network storage do not tie a pod to its node, nor do claims the
 * pod names in `safe-to-evict-local-volumes`.
 */
export function resolveLocalClaims(
  pending: readonly PendingClaim[],
  claims: ReadonlyMap<string, ClaimRecord>,
  volumes: ReadonlyMap<string, VolumeRecord>,
): void {
  for (const { pod, volume, claim, evictable, ephemeral } of pending) {
    if (evictable) continue;
    const bound = claims.get(`${pod.namespace}/${claim}`)?.volume;
    if (bound !== undefined && volumes.get(bound)?.local) {
      // Replaced, not pushed to: a pod without blocking volumes shares one frozen empty list.
      pod.blockingVolumes = [
        ...pod.blockingVolumes,
        { name: volume, type: "local", claim, ...(ephemeral ? { ephemeral: true as const } : {}) },
      ];
    }
  }
}
