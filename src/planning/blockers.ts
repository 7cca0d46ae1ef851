import { type PdbIndex, pdbsOf, podKey } from "./cluster-index.ts";
import type { NodeInfo, PodDisruptionBudgetInfo, PodInfo } from "./snapshot.ts";

export type DrainBlockerKind =
  | "scale-down-disabled"
  | "pdb"
  | "local-storage"
  | "safe-to-evict-false"
  | "do-not-disrupt"
  | "bare-pod";

/**
 * One reason a node cannot be drained, tied to the pod that causes it, or for
 * `scale-down-disabled` to the node's own annotation.
 */
export interface DrainBlocker {
  kind: DrainBlockerKind;
  /** The pod, `namespace/name`; absent for `scale-down-disabled`. */
  pod?: string;
  /** For `scale-down-disabled`: the node annotation set to "true". */
  annotation?: string;
  /** For `pdb`: the budget, its allowed disruptions and how many of its pods the node holds. */
  pdb?: { name: string; disruptionsAllowed: number; podsOnNode: number };
  /** For `local-storage`: the volumes whose data would be lost. */
  volumes?: string[];
}

/**
 * Pods a drain would evict that must find room elsewhere: running pods that are neither
 * DaemonSet nor mirror pods (those stay with the node, as cluster-autoscaler treats them), nor
 * already being deleted (they are leaving whatever happens to the node, and their controller has
 * already asked for a replacement), nor expendable (priority below `expendableBelow`).
 */
export function evictablePods(
  pods: readonly PodInfo[],
  expendableBelow = Number.NEGATIVE_INFINITY,
): PodInfo[] {
  return pods.filter(
    (pod) =>
      !pod.daemonSet &&
      !pod.mirror &&
      pod.deletingSince === undefined &&
      pod.phase !== "Succeeded" &&
      pod.phase !== "Failed" &&
      !isExpendable(pod, expendableBelow),
  );
}

/** A pod whose priority is below the cutoff: it adds no node and holds none. */
export function isExpendable(pod: PodInfo, expendableBelow: number): boolean {
  return (pod.priority ?? 0) < expendableBelow;
}

/**
 * Everything that stops `node`, holding `pods`, from being drained: the node's own
 * scale-down-disabled or do-not-disrupt annotation, a PDB whose allowed disruptions are fewer
 * than its pods on the node, local storage (emptyDir/hostPath/local), `safe-to-evict: "false"`,
 * `do-not-disrupt`, and pods without a controller; expendable pods hold nothing. As in cluster-autoscaler,
 * `safe-to-evict: "true"` lifts the local-storage and bare-pod blockers (never a PDB or
 * do-not-disrupt).
 */
export function nodeBlockers(
  node: NodeInfo,
  pods: readonly PodInfo[],
  pdbs: PdbIndex,
  expendableBelow = Number.NEGATIVE_INFINITY,
): DrainBlocker[] {
  const evictable = evictablePods(pods, expendableBelow);
  const blockers: DrainBlocker[] = [];
  if (node.scaleDownDisabled)
    blockers.push({ kind: "scale-down-disabled", annotation: node.scaleDownDisabled });
  for (const pod of evictable) blockers.push(...podOwnBlockers(pod));
  blockers.push(...pdbBlockers(evictable, pdbs));
  return blockers;
}

function podOwnBlockers(pod: PodInfo): DrainBlocker[] {
  const key = podKey(pod);
  const blockers: DrainBlocker[] = [];
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
function pdbBlockers(pods: readonly PodInfo[], pdbs: PdbIndex): DrainBlocker[] {
  const covered = new Map<PodDisruptionBudgetInfo, PodInfo[]>();
  for (const pod of pods) {
    for (const pdb of pdbsOf(pdbs, pod)) {
      const list = covered.get(pdb);
      if (list) list.push(pod);
      else covered.set(pdb, [pod]);
    }
  }
  const blockers: DrainBlocker[] = [];
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
