import { addTo, emptyRoom, podDemand, type Room, unknownRequests } from "./room.ts";
import { matchesLabelSelector, placementConflict } from "./scheduling.ts";
import type {
  DaemonSetInfo,
  NodeInfo,
  PodDisruptionBudgetInfo,
  PodInfo,
  Snapshot,
  Taint,
} from "./snapshot.ts";

/** Lookups built once per snapshot so each pool's evaluation stays linear. */
export interface ClusterIndex {
  nodes: Map<string, NodeInfo>;
  /**
   * Pods that hold resources on each node (not Succeeded or Failed), with the pods nominated to
   * it by preemption.
   */
  podsByNode: Map<string, PodInfo[]>;
  /** Sum of the requests of `podsByNode`, per node. */
  usedByNode: Map<string, Room>;
  /** Nodes running a pod whose cpu or memory request could not be read: their room is unknown. */
  requestsUnknown: Map<string, Set<"cpu" | "memory">>;
  /** Pods the scheduler reported Unschedulable, DaemonSet and mirror pods left out. */
  pending: PodInfo[];
  /**
   * Pods bound to a node the snapshot does not hold, that a controller makes again once the
   * pod garbage collector deletes them (DaemonSet, mirror and bare pods left out): they will
   * need room somewhere, which no node's figures show.
   */
  orphans: PodInfo[];
  /**
   * DaemonSet pods not bound yet, by the node their controller made them for (the
   * `metadata.name` its required node affinity names): a full node still runs the DaemonSet.
   */
  unboundDaemonSetPods: Map<string, PodInfo[]>;
  /** Pods on nodes with required pod anti-affinity: they keep matching pods off their domain. */
  antiAffinityHolders: PodInfo[];
  pdbs: PdbIndex;
  /** The snapshot's DaemonSets (absent from a snapshot saved before they were read). */
  daemonSets?: readonly DaemonSetInfo[] | "unknown";
  /** The window Prometheus was asked for (`--prometheus-window`), seconds, when usage is its. */
  prometheusWindowSeconds?: number;
  /** The usage source that could not be read (`usage-source-failed`), metrics-server's in its place. */
  usageSourceFailed?: string;
  /**
   * The pod list failed or stopped part way: the pods above are those read, so a node's pods,
   * its requests and its free room, and the pending pods, are unknown beyond them (not none).
   */
  podsUnread: boolean;
}

/**
 * PDBs found by one of their matchLabels pairs, so matching a pod costs a lookup per pod label
 * rather than a scan of every budget in its namespace. Budgets without matchLabels are scanned.
 */
export interface PdbIndex {
  byLabel: Map<string, PodDisruptionBudgetInfo[]>;
  scanned: Map<string, PodDisruptionBudgetInfo[]>;
}

export function indexCluster(snapshot: Snapshot): ClusterIndex {
  const index: ClusterIndex = {
    nodes: new Map(snapshot.nodes.map((node) => [node.name, node])),
    podsByNode: new Map(),
    usedByNode: new Map(),
    requestsUnknown: new Map(),
    pending: [],
    orphans: [],
    unboundDaemonSetPods: new Map(),
    antiAffinityHolders: [],
    pdbs: indexPdbs(snapshot.pdbs),
    podsUnread: snapshot.warnings.some(
      (warning) =>
        warning.subject === "pods" &&
        (warning.code === "list-failed" || warning.code === "list-partial"),
    ),
  };
  if (snapshot.daemonSets !== undefined) index.daemonSets = snapshot.daemonSets;
  const metrics = snapshot.metrics;
  if (metrics?.source === "prometheus" && metrics.windowSeconds !== undefined)
    index.prometheusWindowSeconds = metrics.windowSeconds;
  const failed = snapshot.warnings.find((warning) => warning.code === "usage-source-failed");
  if (failed) index.usageSourceFailed = failed.subject;
  for (const pod of snapshot.pods) {
    if (pod.phase === "Succeeded" || pod.phase === "Failed") continue;
    if (pod.nodeName) {
      if (!index.nodes.has(pod.nodeName) && comesBack(pod)) index.orphans.push(pod);
      addPod(index, pod.nodeName, pod);
      // One being deleted keeps others away until it is gone, as the scheduler counts it.
      if (pod.podAntiAffinity) index.antiAffinityHolders.push(pod);
      continue;
    }
    if (isPendingForCapacity(pod, index.nodes)) index.pending.push(pod);
    else if (pod.daemonSet) {
      const target = daemonSetTarget(pod);
      if (target !== undefined) push(index.unboundDaemonSetPods, target, pod);
    } else if (nominatedTo(pod, index.nodes)) {
      // The scheduler keeps the room of the node it nominated for the pod, which runs there
      // once the pods it preempts are gone: its requests are that node's, and removing the
      // node would leave it to find room elsewhere.
      addPod(index, pod.nominatedNode as string, pod);
      if (pod.podAntiAffinity) index.antiAffinityHolders.push(pod);
    }
  }
  return index;
}

/** Whether a controller makes `pod` again when it is deleted (not on its node: it is gone). */
function comesBack(pod: PodInfo): boolean {
  return pod.owner !== undefined && !pod.daemonSet && !pod.mirror;
}

function indexPdbs(pdbs: readonly PodDisruptionBudgetInfo[]): PdbIndex {
  const index: PdbIndex = { byLabel: new Map(), scanned: new Map() };
  for (const pdb of pdbs) {
    // A budget without a selector selects no pods (policy/v1).
    if (!pdb.selector) continue;
    const first = Object.entries(pdb.selector.matchLabels ?? {})[0];
    if (first) push(index.byLabel, labelKey(pdb.namespace, first[0], first[1]), pdb);
    else push(index.scanned, pdb.namespace, pdb);
  }
  return index;
}

/** The PDBs whose selector matches `pod`. */
export function pdbsOf(index: PdbIndex, pod: PodInfo): PodDisruptionBudgetInfo[] {
  const found: PodDisruptionBudgetInfo[] = [];
  const consider = (pdb: PodDisruptionBudgetInfo) => {
    if (pdb.selector && matchesLabelSelector(pdb.selector, pod.labels) && !found.includes(pdb))
      found.push(pdb);
  };
  for (const key in pod.labels)
    for (const pdb of index.byLabel.get(labelKey(pod.namespace, key, pod.labels[key] ?? "")) ?? [])
      consider(pdb);
  for (const pdb of index.scanned.get(pod.namespace) ?? []) consider(pdb);
  return found;
}

function labelKey(namespace: string, key: string, value: string): string {
  return `${namespace}\u0000${key}\u0000${value}`;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function addPod(index: ClusterIndex, nodeName: string, pod: PodInfo): void {
  const pods = index.podsByNode.get(nodeName);
  if (pods) pods.push(pod);
  else index.podsByNode.set(nodeName, [pod]);
  let used = index.usedByNode.get(nodeName);
  if (!used) {
    used = emptyRoom();
    index.usedByNode.set(nodeName, used);
  }
  addTo(used, podDemand(pod));
  for (const resource of unknownRequests(pod)) {
    const unknown = index.requestsUnknown.get(nodeName) ?? new Set();
    unknown.add(resource);
    index.requestsUnknown.set(nodeName, unknown);
  }
}

/**
 * DaemonSet pods follow nodes rather than cause them; mirror pods are tied to one node. A pod
 * being deleted needs no node, and one the scheduler has nominated a Ready node for (it
 * preempted pods there) runs there once they are gone: the pods it displaced are the ones that
 * may need room.
 */
function isPendingForCapacity(pod: PodInfo, nodes: ReadonlyMap<string, NodeInfo>): boolean {
  if (!mayWaitForRoom(pod) || !awaitsRoom(pod)) return false;
  return !nominatedTo(pod, nodes);
}

/**
 * Whether an unbound pod is one whose room the planner judges: the scheduler marked it
 * Unschedulable, or it is one the default scheduler has not tried yet (`notYetTried`), which the
 * packing places as the scheduler would. The scheduler gets to a burst of new pods in its own
 * time, and a cluster with none (a bare API server, a state written by hand) never marks them.
 */
export function awaitsRoom(pod: PodInfo): boolean {
  return pod.unschedulable !== undefined || notYetTried(pod);
}

/**
 * An unbound pod with no PodScheduled condition at all, which the default scheduler is free to
 * judge: no scheduling gate holds it and no other scheduler is named for it. A condition of any
 * other reason (SchedulingGated, SchedulerError) is a verdict of the scheduler's to wait for;
 * one that is True says the scheduler placed the pod (it takes no new room), one that is
 * Unknown gives no verdict, as a False one with no reason.
 */
export function notYetTried(pod: PodInfo): boolean {
  return (
    pod.nodeName === undefined &&
    pod.unschedulable === undefined &&
    pod.notScheduled === undefined &&
    pod.podScheduled === undefined &&
    (pod.schedulingGates ?? []).length === 0 &&
    pod.schedulerName === undefined
  );
}

/** A Pending pod that is neither a DaemonSet nor a mirror pod, nor being deleted. */
export function mayWaitForRoom(pod: PodInfo): boolean {
  return (
    pod.phase === "Pending" && !pod.daemonSet && !pod.mirror && pod.deletingSince === undefined
  );
}

/**
 * The node a DaemonSet pod is made for: the DaemonSet controller pins each pod with one required
 * node affinity term naming its node by `metadata.name`.
 */
function daemonSetTarget(pod: PodInfo): string | undefined {
  if (pod.phase !== "Pending" || pod.deletingSince !== undefined) return undefined;
  const terms = pod.requiredNodeAffinity ?? [];
  if (terms.length !== 1) return undefined;
  const field = terms[0]?.matchFields?.find(
    (requirement) => requirement.key === "metadata.name" && requirement.operator === "In",
  );
  return field?.values?.length === 1 ? field.values[0] : undefined;
}

/**
 * An unbound pod, not being deleted, that the scheduler nominated a Ready node for, which still
 * admits it: a node cordoned (unless the pod tolerates it), tainted or relabelled since will not
 * take it, and the scheduler drops the nomination on its next try.
 */
function nominatedTo(pod: PodInfo, nodes: ReadonlyMap<string, NodeInfo>): boolean {
  if (pod.phase !== "Pending" || pod.deletingSince !== undefined) return false;
  if (pod.nominatedNode === undefined || pod.daemonSet || pod.mirror) return false;
  const node = nodes.get(pod.nominatedNode);
  if (node?.ready !== true) return false;
  const taints = node.unschedulable ? [...node.taints, UNSCHEDULABLE] : node.taints;
  return placementConflict(pod, { ...node, taints }) === undefined;
}

/** The taint of a cordoned node, which the scheduler's NodeUnschedulable plugin judges. */
const UNSCHEDULABLE: Taint = { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" };

/** The node a pod runs on, or will once the scheduler's nomination is carried out. */
export function nodeOfPod(pod: PodInfo): string | undefined {
  return pod.nodeName ?? pod.nominatedNode;
}

/** `namespace/name`, the way pods are named in every explanation. */
export function podKey(pod: { namespace: string; name: string }): string {
  return `${pod.namespace}/${pod.name}`;
}
