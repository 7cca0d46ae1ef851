import { type PdbIndex, pdbsOf, podKey } from "./cluster-index.ts";
import type {
  BlockingVolume,
  NodeInfo,
  OwnerRef,
  PodDisruptionBudgetInfo,
  PodInfo,
  Snapshot,
} from "./snapshot.ts";

export type DrainBlockerKind =
  | "scale-down-disabled"
  | "pdb"
  | "pdbs-overlap"
  | "local-storage"
  | "safe-to-evict-false"
  | "do-not-disrupt"
  | "bare-pod"
  | "custom-controller"
  | "system-pod";

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
  /**
   * For `pdb`: the budget, its allowed disruptions and how many of its pods the node holds;
   * `whenHealthy`, the disruptions it would allow with every pod it expects healthy, when more
   * than now: the budget may let the node go once its pods are healthy again.
   */
  pdb?: { name: string; disruptionsAllowed: number; podsOnNode: number; whenHealthy?: number };
  /** For `pdbs-overlap`: the budgets selecting the pod (the eviction API refuses such a pod). */
  pdbs?: string[];
  /** For `local-storage`: the volumes whose data would be lost. */
  volumes?: string[];
  /**
   * For `local-storage`: every one of those volumes is an emptyDir on disk (or a generic
   * ephemeral volume on a node-local volume, deleted with the pod as an emptyDir is), so the
   * pool's `scaleDown.deleteEmptyDirData` (not set) would let them go with the node.
   */
  emptyDirOnly?: true;
  /** For `custom-controller`: the pod's controller. */
  owner?: OwnerRef;
  /** For `do-not-disrupt` set to a duration: when it ends (ISO 8601). */
  until?: string;
}

/**
 * Controllers Kubernetes ships that make a new pod for one evicted, with their API group (a
 * Deployment is the ReplicaSet the snapshot resolves to it; DaemonSet pods and mirror pods,
 * owned by their Node, are never evicted), as kubectl drain and cluster-autoscaler count them.
 */
const REPLICATING_KINDS: ReadonlyMap<string, string> = new Map([
  ["ReplicaSet", "apps"],
  ["Deployment", "apps"],
  ["StatefulSet", "apps"],
  ["Job", "batch"],
  ["ReplicationController", ""],
]);

/**
 * Whether `owner` is one of the controllers Kubernetes ships that make an evicted pod again: by
 * its kind and, when known, its API group, so a custom resource of the same kind (Volcano's
 * `Job` of `batch.volcano.sh`, OpenKruise's `StatefulSet` of `apps.kruise.io`) is not taken for
 * it. An owner without a group is of the core group or from a snapshot saved before groups were
 * read; a custom resource always has a group, so such an owner is taken by its kind.
 */
export function kubernetesController(owner: { kind: string; group?: string }): boolean {
  const group = REPLICATING_KINDS.get(owner.kind);
  return group !== undefined && (owner.group === undefined || owner.group === group);
}

/** What decides which of a pool's pods hold their node: the pool's settings. */
export interface BlockerRules {
  /**
   * `scaleDown.replicatedKinds`: custom controller kinds whose pods move, as `Kind` (of any API
   * group) or `Kind.group`; `*` for all.
   */
  replicatedKinds: readonly string[];
  /** `expendablePriority`: pods below it need not come back. */
  expendableBelow: number;
  /**
   * `scaleDown.deleteEmptyDirData`: an emptyDir on disk, and a generic ephemeral volume on a
   * node-local volume, are scratch the pool lets go with their pod, as kubectl drain's
   * `--delete-emptydir-data`; absent is false.
   */
  deleteEmptyDirData?: boolean;
  /**
   * `scaleDown.skipNodesWithSystemPods`: a kube-system pod no PodDisruptionBudget selects keeps
   * its node, as cluster-autoscaler's `--skip-nodes-with-system-pods`; absent is false.
   */
  skipNodesWithSystemPods?: boolean;
  /** The planning time: a `do-not-disrupt` duration holds the node until it has run out. */
  now: Date;
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

/**
 * The pods a drain of the node evicts that need no room elsewhere: those `evictablePods` leaves
 * out for a priority below the cutoff.
 */
export function expendablePods(pods: readonly PodInfo[], expendableBelow: number): PodInfo[] {
  return evictablePods(pods).filter((pod) => isExpendable(pod, expendableBelow));
}

/** A pod whose priority is below the cutoff: it adds no node and holds none. */
export function isExpendable(pod: PodInfo, expendableBelow: number): boolean {
  return (pod.priority ?? 0) < expendableBelow;
}

/**
 * Everything that stops `node`, holding `pods`, from being drained: the node's own
 * scale-down-disabled or do-not-disrupt annotation, a PDB whose allowed disruptions are fewer
 * than its pods on the node, local storage (emptyDir/hostPath/local; emptyDir and generic
 * ephemeral volumes not when `rules.deleteEmptyDirData`), `safe-to-evict: "false"`,
 * `do-not-disrupt`, pods without a controller, and pods of a custom controller (one Kubernetes
 * does not ship) that `rules.replicatedKinds` does not name: nothing says it makes the pod again
 * elsewhere, so, as cluster-autoscaler's `skip-nodes-with-custom-controller-pods`, it keeps its
 * node. With `rules.skipNodesWithSystemPods`, a kube-system pod that no PodDisruptionBudget
 * selects keeps it too, as cluster-autoscaler's `skip-nodes-with-system-pods`. Expendable pods
 * need no room elsewhere, nor to come back, but the drain evicts them like any other pod, so what
 * would stop their eviction blocks the node too. What guards only a pod's coming back holds none
 * of them: neither a custom controller nor `rules.skipNodesWithSystemPods`, as cluster-autoscaler
 * leaves expendable pods out of the cluster it simulates before any drainability rule reads them.
 * As in cluster-autoscaler, `safe-to-evict: "true"` lifts the local-storage, bare-pod,
 * custom-controller and system-pod blockers (never a PDB or do-not-disrupt). DaemonSet and
 * mirror pods, which the drain leaves, hold the node only by `do-not-disrupt`, as Karpenter
 * reads it.
 */
export function nodeBlockers(
  node: NodeInfo,
  pods: readonly PodInfo[],
  pdbs: PdbIndex,
  rules: BlockerRules,
): DrainBlocker[] {
  const evictable = evictablePods(pods);
  const blockers: DrainBlocker[] = [];
  if (node.scaleDownDisabled)
    blockers.push({ kind: "scale-down-disabled", annotation: node.scaleDownDisabled });
  for (const pod of evictable) {
    blockers.push(...podOwnBlockers(pod, rules));
    if (
      rules.skipNodesWithSystemPods &&
      unbudgetedSystemPod(pod, pdbs) &&
      !isExpendable(pod, rules.expendableBelow)
    )
      blockers.push({ kind: "system-pod", pod: podKey(pod) });
  }
  for (const pod of stayingPods(pods)) blockers.push(...doNotDisruptBlockers(pod, rules.now));
  blockers.push(...pdbBlockers(evictable, pdbs));
  return blockers;
}

/**
 * A pod `scaleDown.skipNodesWithSystemPods` keeps on its node, unless it is expendable: in
 * kube-system, selected by no PodDisruptionBudget (one that selects it says how many may go, and
 * is judged as any budget), and not annotated `safe-to-evict: "true"`. The caller passes pods the drain evicts: DaemonSet
 * and mirror pods, which stay with the node, are never among them.
 */
function unbudgetedSystemPod(pod: PodInfo, pdbs: PdbIndex): boolean {
  return (
    pod.namespace === "kube-system" && pod.safeToEvict !== true && pdbsOf(pdbs, pod).length === 0
  );
}

/**
 * `karpenter.sh/do-not-disrupt` on the pod, while it holds: for good, or set to a duration until
 * that long after the pod started.
 */
function doNotDisruptBlockers(pod: PodInfo, now: Date): DrainBlocker[] {
  if (pod.doNotDisrupt) return [{ kind: "do-not-disrupt", pod: podKey(pod) }];
  const until = pod.doNotDisruptUntil;
  return until !== undefined && now.getTime() < Date.parse(until)
    ? [{ kind: "do-not-disrupt", pod: podKey(pod), until }]
    : [];
}

/**
 * The DaemonSet and mirror pods still running on the node: the drain leaves them, so nothing
 * but `do-not-disrupt` on them holds the node. Karpenter, whose annotation that is, reads it on
 * every active pod of a node (not finished, not being deleted), these included: someone asked
 * that the node not be disrupted while the pod runs.
 */
function stayingPods(pods: readonly PodInfo[]): PodInfo[] {
  return pods.filter(
    (pod) =>
      (pod.daemonSet || pod.mirror) &&
      pod.deletingSince === undefined &&
      pod.phase !== "Succeeded" &&
      pod.phase !== "Failed",
  );
}

/**
 * The lists a node's blockers rest on: its pods, the budgets over them, and the volumes and
 * claims that tell local storage (read only when a pod has a claim: a failure of those lists
 * then makes the snapshot incomplete).
 */
const BLOCKER_LISTS: readonly string[] = [
  "pods",
  "poddisruptionbudgets",
  "persistentvolumes",
  "persistentvolumeclaims",
];

/**
 * The lists a node's blockers rest on that failed or stopped part way, in the order above: while
 * one is, a node with no blocker found may have one the list would have shown (a budget allowing
 * no disruption, a pod on a node-local volume), so its blockers are unknown, not none.
 */
export function blockerListsUnread(snapshot: Snapshot): string[] {
  const failed = new Set(
    snapshot.warnings
      .filter((warning) => warning.code === "list-failed" || warning.code === "list-partial")
      .map((warning) => warning.subject),
  );
  return BLOCKER_LISTS.filter((list) => failed.has(list));
}

/**
 * Whether pods of this controller are made again elsewhere once evicted: it is of a kind
 * Kubernetes ships, or `replicatedKinds` names it by its kind alone (any group), by its kind and
 * API group (`Cluster.postgresql.cnpg.io`), or is `*`. An owner whose group is not known (a
 * snapshot saved before groups were read) matches no `Kind.group`.
 */
export function replicates(owner: OwnerRef, replicatedKinds: readonly string[]): boolean {
  return kubernetesController(owner) || replicatedKinds.some((named) => names(named, owner));
}

function names(entry: string, owner: OwnerRef): boolean {
  if (entry === "*") return true;
  const dot = entry.indexOf(".");
  if (dot < 0) return entry === owner.kind;
  return entry.slice(0, dot) === owner.kind && entry.slice(dot + 1) === owner.group;
}

function podOwnBlockers(pod: PodInfo, rules: BlockerRules): DrainBlocker[] {
  const key = podKey(pod);
  const blockers: DrainBlocker[] = [];
  const allowedToEvict = pod.safeToEvict === true;
  if (pod.safeToEvict === false) blockers.push({ kind: "safe-to-evict-false", pod: key });
  blockers.push(...doNotDisruptBlockers(pod, rules.now));
  const kept = keptVolumes(pod, rules);
  if (!allowedToEvict && kept.length > 0)
    blockers.push({
      kind: "local-storage",
      pod: key,
      volumes: kept.map(volumeLabel),
      ...(kept.every(diesWithPod) ? { emptyDirOnly: true as const } : {}),
    });
  if (!allowedToEvict && !pod.owner) blockers.push({ kind: "bare-pod", pod: key });
  else if (
    !allowedToEvict &&
    pod.owner &&
    !replicates(pod.owner, rules.replicatedKinds) &&
    !isExpendable(pod, rules.expendableBelow)
  )
    blockers.push({ kind: "custom-controller", pod: key, owner: pod.owner });
  return blockers;
}

/**
 * The pod's volumes whose data would be lost with its node: all of them, or, when the pool lets
 * emptyDir data go, its hostPath and node-local claims alone (what they hold outlives the pod).
 */
function keptVolumes(pod: PodInfo, rules: BlockerRules): BlockingVolume[] {
  return rules.deleteEmptyDirData
    ? pod.blockingVolumes.filter((volume) => !diesWithPod(volume))
    : pod.blockingVolumes;
}

/**
 * A volume whose data is deleted with its pod, wherever the pod goes: an emptyDir on disk, or a
 * generic ephemeral volume's claim on a node-local volume (the claim is the pod's own, deleted
 * with it, and the pod made in its place gets a new one where it lands). Such scratch holds the
 * node only while the pool keeps emptyDir data.
 */
function diesWithPod(volume: BlockingVolume): boolean {
  return volume.type === "emptyDir" || volume.ephemeral === true;
}

/** How a generic ephemeral volume on a node-local volume is labelled where a volume is named. */
export const GENERIC_EPHEMERAL_LABEL = "(generic ephemeral, local)";

/** `tmp (emptyDir)`, `config (hostPath)`, `data (local)`, `scratch (generic ephemeral, local)`. */
function volumeLabel(volume: BlockingVolume): string {
  return volume.ephemeral
    ? `${volume.name} ${GENERIC_EPHEMERAL_LABEL}`
    : `${volume.name} (${volume.type})`;
}

/**
 * The pods of a node whose emptyDir data on disk the drain deletes because the pool sets
 * `scaleDown.deleteEmptyDirData`, each as `namespace/name (volume, …)`: the pods it evicts
 * (expendable ones too) whose emptyDir, or generic ephemeral volume on a node-local volume, would
 * otherwise have held the node. A pod with such a generic ephemeral volume has each of its volumes
 * labelled with what it is (`ci/runner-1 (tmp (emptyDir), work (generic ephemeral, local))`), so
 * that nothing calls that volume an emptyDir; a pod with emptyDirs alone names them bare. A pod annotated
 * `safe-to-evict: "true"` is not among them (its owner let its data go), nor a volume
 * `safe-to-evict-local-volumes` names, nor a memory-backed emptyDir (no data on disk).
 */
export function emptyDirDeleted(
  pods: readonly PodInfo[],
  deleteEmptyDirData: boolean | undefined,
): string[] {
  if (!deleteEmptyDirData) return [];
  return evictablePods(pods).flatMap((pod) => {
    if (pod.safeToEvict === true) return [];
    const deleted = pod.blockingVolumes.filter(diesWithPod);
    const labelled = deleted.some((volume) => volume.ephemeral === true);
    const names = deleted.map((volume) => (labelled ? volumeLabel(volume) : volume.name));
    return names.length > 0 ? [`${podKey(pod)} (${names.join(", ")})`] : [];
  });
}

/**
 * Evicting every pod of a budget from this node must stay within its allowed disruptions. As
 * the eviction API decides: a pod not yet running (phase Pending) is evicted whatever its
 * budget says, and a running pod that is not Ready is evicted without spending an allowed
 * disruption when the budget's `unhealthyPodEvictionPolicy` is `AlwaysAllow`, or under the
 * default `IfHealthyBudget` while the budget's healthy pods are at least its desired number,
 * itself above zero.
 * A running pod two budgets select is never evicted (the API answers 500), so it blocks.
 * The pods of several nodes drained by one decrease are judged together: each eviction spends
 * the budget for those after it.
 */
export function pdbBlockers(pods: readonly PodInfo[], pdbs: PdbIndex): DrainBlocker[] {
  const covered = new Map<PodDisruptionBudgetInfo, PodInfo[]>();
  const blockers: DrainBlocker[] = [];
  for (const pod of pods) {
    if (pod.phase === "Pending") continue;
    const budgets = pdbsOf(pdbs, pod);
    if (budgets.length > 1) {
      blockers.push({
        kind: "pdbs-overlap",
        pod: podKey(pod),
        pdbs: budgets.map((pdb) => `${pdb.namespace}/${pdb.name}`),
      });
      continue;
    }
    for (const pdb of budgets) {
      if (evictedOutsideBudget(pod, pdb)) continue;
      const list = covered.get(pdb);
      if (list) list.push(pod);
      else covered.set(pdb, [pod]);
    }
  }
  for (const [pdb, matched] of covered) {
    if (matched.length <= pdb.disruptionsAllowed) continue;
    const whenHealthy = healthyAllowance(pdb);
    const info = {
      name: `${pdb.namespace}/${pdb.name}`,
      disruptionsAllowed: pdb.disruptionsAllowed,
      podsOnNode: matched.length,
      ...(whenHealthy !== undefined && whenHealthy > pdb.disruptionsAllowed ? { whenHealthy } : {}),
    };
    for (const pod of matched) blockers.push({ kind: "pdb", pod: podKey(pod), pdb: info });
  }
  return blockers;
}

/**
 * The disruptions a budget allows with every pod it expects healthy (the disruption controller's
 * `expectedPods - desiredHealthy`); unknown without those counts. A budget that allows fewer now
 * waits on its pods' health, not on a person.
 */
function healthyAllowance(pdb: PodDisruptionBudgetInfo): number | undefined {
  if (pdb.expectedPods === undefined || pdb.desiredHealthy === undefined) return undefined;
  return Math.max(0, pdb.expectedPods - pdb.desiredHealthy);
}

/**
 * Whether the eviction API evicts the pod without spending an allowed disruption of `pdb`: a
 * running pod that is not Ready, under `AlwaysAllow`, or under `IfHealthyBudget` while the
 * budget has the healthy pods it wants.
 */
export function evictedOutsideBudget(
  pod: { phase: string; ready?: boolean | undefined },
  pdb: Pick<
    PodDisruptionBudgetInfo,
    "unhealthyPodEvictionPolicy" | "currentHealthy" | "desiredHealthy"
  >,
): boolean {
  if (pod.phase !== "Running" || pod.ready !== false) return false;
  if (pdb.unhealthyPodEvictionPolicy === "AlwaysAllow") return true;
  // The API takes this way out only for a budget that wants some pod healthy: one that wants
  // none (a single replica under maxUnavailable: 1) goes through its allowance, 0 here.
  return (
    pdb.currentHealthy !== undefined &&
    pdb.desiredHealthy !== undefined &&
    pdb.desiredHealthy > 0 &&
    pdb.currentHealthy >= pdb.desiredHealthy
  );
}
