import type { NodeInfo, PodInfo, Snapshot } from "../planning/snapshot.ts";
import type { SimCluster, SimNode, SimPod } from "./sim-cluster.ts";

const isoCache = new Map<number, string>();

/** metrics-server's resolution: one sample, no window the planner can lean on. */
const SAMPLE_WINDOW_SECONDS = 30;

/**
 * The cluster as the app's readers would see it at `now`: Ready nodes with allocatable and
 * usage (the sum of their pods' usage), running pods with requests and usage, and pending pods
 * marked Unschedulable. Usage comes as metrics-server gives it, so any "stayed above for a
 * window" rests on the history the caller keeps, as in the app.
 */
export function simulationSnapshot(cluster: SimCluster, start: number, now: number): Snapshot {
  const takenAt = new Date(start + now).toISOString();
  // Node and pod times never change, and formatting them each check is most of the cost.
  const iso = (ms: number) => {
    if (ms === now) return takenAt;
    let text = isoCache.get(start + ms);
    if (text === undefined) {
      text = new Date(start + ms).toISOString();
      if (isoCache.size > 100_000) isoCache.clear();
      isoCache.set(start + ms, text);
    }
    return text;
  };
  const nodes = cluster.nodes
    .filter((node) => node.ready)
    .map((node) => nodeInfo(cluster, node, now, iso));
  const pods: PodInfo[] = [];
  for (const node of cluster.nodes)
    for (const pod of node.pods) pods.push(runningPod(cluster, pod, now, iso));
  for (const pod of cluster.pending) pods.push(pendingPod(pod, iso));
  return {
    version: 1,
    takenAt,
    source: { kind: "simulation" },
    complete: true,
    warnings: [],
    nodes,
    pods,
    pdbs: [],
    vpas: [],
    hpas: [],
    metrics: { nodes: "available", pods: "available", source: "metrics-server" },
  };
}

function nodeInfo(
  cluster: SimCluster,
  node: SimNode,
  now: number,
  iso: (ms: number) => string,
): NodeInfo {
  const usage = cluster.nodeUsage(node, now);
  const allocatable = { ...node.allocatable };
  return {
    name: node.name,
    pool: node.pool ?? (node.controlPlane ? "control-plane" : "fixed"),
    labels: node.labels,
    taints: node.taints,
    unschedulable: false,
    ready: true,
    readySince: iso(node.readyAt),
    createdAt: iso(node.createdAt),
    controlPlane: node.controlPlane,
    capacity: allocatable,
    allocatable,
    usage: {
      cpu: usage.cpu,
      memory: usage.memory,
      windowSeconds: SAMPLE_WINDOW_SECONDS,
      timestamp: iso(now),
      source: "metrics-server",
    },
  };
}

function runningPod(
  cluster: SimCluster,
  pod: SimPod,
  now: number,
  iso: (ms: number) => string,
): PodInfo {
  const used = cluster.podUsage(pod, now);
  const usage = {
    cpu: used.cpu,
    memory: used.memory,
    windowSeconds: SAMPLE_WINDOW_SECONDS,
    timestamp: iso(now),
    source: "metrics-server" as const,
  };
  const containers = pod.info.containers.map((container) => ({ ...container, usage }));
  const info: PodInfo = {
    ...pod.info,
    phase: "Running",
    containers,
    // An evicted pod runs again as its controller's new pod, created at the drain.
    createdAt: iso(pod.queuedAt),
    usage,
  };
  if (pod.node) info.nodeName = pod.node.name;
  return info;
}

/**
 * A waiting pod's view, kept while it waits in the same place in the queue: it does not change
 * from check to check, and thousands may wait behind a full cluster.
 */
const waiting = new WeakMap<SimPod, { queuedAt: number; info: PodInfo }>();

/** A waiting pod, created when it joined the queue (an evicted pod's replacement is new). */
function pendingPod(pod: SimPod, iso: (ms: number) => string): PodInfo {
  const known = waiting.get(pod);
  if (known?.queuedAt === pod.queuedAt) return known.info;
  const info: PodInfo = {
    ...pod.info,
    phase: "Pending",
    createdAt: iso(pod.queuedAt),
    unschedulable: {
      message: "0 nodes are available: Insufficient resources or no matching node.",
      since: iso(pod.queuedAt),
    },
  };
  waiting.set(pod, { queuedAt: pod.queuedAt, info });
  return info;
}
