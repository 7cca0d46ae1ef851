import type { OwnerRef, Taint, Toleration } from "../planning/snapshot.ts";

/**
 * A workload trace, read from JSON lines (docs/backtest.md): the cluster at the start and the
 * events that follow. Times are milliseconds from the trace's start; cpu in millicores, memory
 * in bytes, as in the Snapshot.
 */
export interface Trace {
  /** The file it was read from, for messages. */
  file: string;
  name: string;
  description?: string;
  /** Wall-clock time of the start (epoch ms); schedules in the repo config read it. */
  start: number;
  durationMs: number;
  /** Repo config to plan with, relative to the trace file. */
  config?: string;
  pools: TracePool[];
  /** Nodes no autoscaler changes (control plane, fixed workers). */
  nodes: TraceNode[];
  /** In time order; pod arrivals with `count` already expanded. */
  events: TraceEvent[];
}

/** Allocatable of a node. */
export interface NodeResources {
  cpu: number;
  memory: number;
  pods: number;
}

/**
 * A group of identical nodes whose count is one value in the infra repo, named like Terraform
 * `count` names them: `nodeName` with `{index}` replaced by `indexBase + i`.
 */
export interface TracePool {
  name: string;
  /** Nodes at the start, which is also the repo's value at the start. */
  count: number;
  /** Fewest nodes the operator keeps; the oracle never goes below it. */
  min: number;
  /**
   * Most nodes a run of the repo config may have (its `max`, or host cap when lower; `count`
   * when above it), set by the backtest: a node a pod's hostname names beyond it never exists
   * in a run of that config, so the pod is placed as if that node were none.
   */
  max?: number;
  nodeName: string;
  indexBase: number;
  allocatable: NodeResources;
  labels: Record<string, string>;
  taints: Taint[];
}

export interface TraceNode {
  name: string;
  controlPlane: boolean;
  allocatable: NodeResources;
  labels: Record<string, string>;
  taints: Taint[];
}

export type TraceEvent = PodArrival | UsageChange | PodDeletion;

interface EventBase {
  /** Milliseconds from the trace's start. */
  at: number;
  /** Line of the trace file the event came from. */
  line: number;
}

export interface PodArrival extends EventBase {
  kind: "pod";
  namespace: string;
  name: string;
  requests: { cpu: number; memory: number };
  usage: UsageProfile;
  /** Run time once scheduled; absent for pods that run until deleted. */
  durationMs?: number;
  labels: Record<string, string>;
  owner?: OwnerRef;
  nodeSelector: Record<string, string>;
  tolerations: Toleration[];
  priority: number;
  /**
   * The pod keeps data on its node (emptyDir on disk): a drain would lose it, which only a pool
   * that sets `scaleDown.deleteEmptyDirData` allows.
   */
  localStorage: boolean;
  safeToEvict?: boolean;
}

export interface UsageChange extends EventBase {
  kind: "usage";
  /** `namespace/name`. */
  pod: string;
  usage: UsageProfile;
}

export interface PodDeletion extends EventBase {
  kind: "delete";
  pod: string;
}

/**
 * How much a pod uses over time. Profile time starts when the profile is set (the pod's arrival
 * or a usage event) and does not restart when the pod is evicted and rescheduled.
 */
export type UsageProfile = ConstantUsage | PointsUsage;

export interface ConstantUsage {
  kind: "constant";
  cpu: number;
  memory: number;
}

/**
 * Values at points in time: held until the next point (`step`) or interpolated (`linear`);
 * before the first point its value, after the last the last one's. With a period the points
 * repeat (a linear profile then runs from the last point back to the first).
 */
export interface PointsUsage {
  kind: "points";
  shape: "step" | "linear";
  periodMs?: number;
  points: UsagePoint[];
}

export interface UsagePoint {
  at: number;
  cpu: number;
  memory: number;
}

/** `namespace/name` of an arrival. */
export function arrivalKey(arrival: { namespace: string; name: string }): string {
  return `${arrival.namespace}/${arrival.name}`;
}
