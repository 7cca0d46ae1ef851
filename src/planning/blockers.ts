import { type PdbIndex, pdbsOf, podKey } from "./cluster-index.ts";
import type { PodDisruptionBudgetInfo, PodInfo } from "./snapshot.ts";

export type PodBlockerKind =
  | "pdb"
  | "local-storage"
  | "safe-to-evict-false"
  | "do-not-disrupt"
  | "bare-pod";

/** One reason a node cannot be drained, tied to the pod that causes it. */
export interface PodBlocker {
  kind: PodBlockerKind;
  pod: string;
  /** For `pdb`: the budget, its allowed disruptions and how many of its pods the node holds. */
  pdb?: { name: string; disruptionsAllowed: number; podsOnNode: number };
  /** For `local-storage`: the volumes whose data would be lost. */
  volumes?: string[];
}

/**
 * Pods a drain would evict: running pods that are neither DaemonSet nor mirror pods (those stay
 * with the node, as cluster-autoscaler treats them).
 */
export function evictablePods(pods: readonly PodInfo[]): PodInfo[] {
  return pods.filter(
    (pod) => !pod.daemonSet && !pod.mirror && pod.phase !== "Succeeded" && pod.phase !== "Failed",
  );
}

/**
 * Everything that stops the node holding `pods` from being drained: a PDB whose allowed
 * disruptions are fewer than its pods on the node, local storage (emptyDir/hostPath/local),
 * `safe-to-evict: "false"`, `do-not-disrupt`, and pods without a controller. As in
 * cluster-autoscaler, `safe-to-evict: "true"` lifts the local-storage and bare-pod blockers
 * (never a PDB or do-not-disrupt).
 */
export function nodeBlockers(pods: readonly PodInfo[], pdbs: PdbIndex): PodBlocker[] {
  const evictable = evictablePods(pods);
  const blockers: PodBlocker[] = [];
  for (const pod of evictable) blockers.push(...podOwnBlockers(pod));
  blockers.push(...pdbBlockers(evictable, pdbs));
  return blockers;
}

function podOwnBlockers(pod: PodInfo): PodBlocker[] {
  const key = podKey(pod);
  const blockers: PodBlocker[] = [];
  const allowedToEvict = pod.safeToEvict === true;
  if (pod.safeToEvict === false) blockers.push({ kind: "safe-to-evict-false", pod: key });
  if (pod.doNotDisrupt) blockers.push({ kind: "do-not-disrupt", pod: key });
  if (!allowedToEvict && pod.blockingVolumes.length > 0)
    blockers.push({
      kind: "local-storage",
      pod: key,
      volumes: pod.blockingVolumes.map((volume) => `${volume.name} (${volume.type})`),
    });
  if (!allowedToEvict && !pod.owner) blockers.push({ kind: "bare-pod", pod: key });
  return blockers;
}

/** Evicting every pod of a budget from this node must stay within its allowed disruptions. */
function pdbBlockers(pods: readonly PodInfo[], pdbs: PdbIndex): PodBlocker[] {
  const covered = new Map<PodDisruptionBudgetInfo, PodInfo[]>();
  for (const pod of pods) {
    for (const pdb of pdbsOf(pdbs, pod)) {
      const list = covered.get(pdb);
      if (list) list.push(pod);
      else covered.set(pdb, [pod]);
    }
  }
  const blockers: PodBlocker[] = [];
  for (const [pdb, matched] of covered) {
    if (matched.length <= pdb.disruptionsAllowed) continue;
    const info = {
      name: `${pdb.namespace}/${pdb.name}`,
      disruptionsAllowed: pdb.disruptionsAllowed,
      podsOnNode: matched.length,
    };
    for (const pod of matched) blockers.push({ kind: "pdb", pod: podKey(pod), pdb: info });
  }
  return blockers;
}
