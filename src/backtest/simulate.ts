import type { Autoscaler, PullRequestIntent } from "./autoscaler.ts";
import {
  fitsFixedNodeAlone,
  fitsPoolNodeAlone,
  heldOnlyBeyondMax,
  placementOf,
} from "./oracle-packing.ts";
import { SimCluster } from "./sim-cluster.ts";
import { DAY_MS, type MergedChange, type SimPullRequest, SimRepo } from "./sim-repo.ts";
import { simulationSnapshot } from "./sim-snapshot.ts";
import type { Trace, TraceEvent } from "./trace.ts";

/** Timing of the simulated world, in milliseconds. */
export interface SimulationOptions {
  /** Length of one simulation step. */
  stepMs: number;
  /** From the apply to a new node being Ready. */
  bootDelayMs: number;
  /** From opening (or updating) a pull request to its merge and apply. */
  mergeDelayMs: number;
}

export const DEFAULT_SIMULATION: SimulationOptions = {
  stepMs: 10_000,
  bootDelayMs: 180_000,
  mergeDelayMs: 120_000,
};

/** What one autoscaler did to the trace's workload. */
export interface RunMetrics {
  /** Pool nodes (booting ones included) integrated over time. */
  nodeHours: number;
  /** Pods waiting for a node, integrated over time. */
  pendingPodMinutes: number;
  /**
   * The part of `pendingPodMinutes` of pods that only the config's max keeps from a node (their
   * hostname names a pool node beyond it): the pending goal leaves it out.
   */
  pendingBeyondMaxPodMinutes: number;
  /**
   * The part of `pendingPodMinutes` of pods only fixed nodes can hold: the pending goal leaves
   * out what they would wait were every other pod to find a node at once, but never more than
   * this.
   */
  pendingFixedOnlyPodMinutes: number;
  pullRequestsOpened: number;
  pullRequestsMerged: number;
  /** Opened, then closed without merging. */
  pullRequestsClosed: number;
  /** Merged changes whose direction differs from the pool's previous merged change. */
  directionChanges: number;
  /** Pod evictions by scale-downs. */
  podsDisrupted: number;
  /** Pods the scheduler evicted to make room for a pod of higher priority. */
  podsPreempted: number;
  peakNodes: number;
}

/**
 * What each step ended with, for the timeline: entry `k` holds from `k × stepMs` for one step
 * (the last one only to the trace's end).
 */
export interface RunSeries {
  stepMs: number;
  /** Pool nodes, booting ones included. */
  nodes: number[];
  /** Pool machines created and not Ready yet. */
  booting: number[];
  /** Ready pool nodes that run no pod. */
  empty: number[];
  /** Pods waiting for a node. */
  pending: number[];
  /**
   * The part of `pending` that a node of some pool would take alone (by selectors, tolerations
   * and requests): pods no node can hold, or only fixed nodes, wait however many pool nodes
   * there are.
   */
  pendingForPools: number[];
}

export interface RunResult {
  autoscaler: string;
  metrics: RunMetrics;
  pullRequests: SimPullRequest[];
  changes: MergedChange[];
  series: RunSeries;
}

/**
 * Replays the trace against one autoscaler in discrete steps. Each step, in order: the trace's
 * events due by then; batch pods that finished; pull requests due are merged and applied (new
 * machines start booting, removed nodes are drained, their pods back in the queue); nodes
 * whose boot finished join Ready; the scheduler places pending pods; the autoscaler is asked
 * when its interval has passed; then the step's node and pending time is counted.
 */
export function simulate(
  trace: Trace,
  autoscaler: Autoscaler,
  options: SimulationOptions = DEFAULT_SIMULATION,
): RunResult {
  const world = createWorld(trace, options);
  const totals: Totals = {
    nodeMs: 0,
    pendingMs: 0,
    pendingBeyondMaxMs: 0,
    pendingFixedOnlyMs: 0,
    peakNodes: 0,
  };
  const series: RunSeries = {
    stepMs: options.stepMs,
    nodes: [],
    booting: [],
    empty: [],
    pending: [],
    pendingForPools: [],
  };
  let nextCheck = 0;
  for (let now = 0; now < trace.durationMs; now += options.stepMs) {
    advance(world, trace, now);
    if (now >= nextCheck) {
      ask(world, trace, autoscaler, now);
      while (nextCheck <= now) nextCheck += autoscaler.intervalMs;
    }
    count(totals, world.cluster, Math.min(options.stepMs, trace.durationMs - now));
    record(series, world.cluster);
  }
  const { cluster, repo } = world;
  return {
    autoscaler: autoscaler.name,
    metrics: {
      nodeHours: totals.nodeMs / 3_600_000,
      pendingPodMinutes: totals.pendingMs / 60_000,
      pendingBeyondMaxPodMinutes: totals.pendingBeyondMaxMs / 60_000,
      pendingFixedOnlyPodMinutes: totals.pendingFixedOnlyMs / 60_000,
      pullRequestsOpened: repo.pullRequests.length,
      pullRequestsMerged: repo.pullRequests.filter((pr) => pr.state === "merged").length,
      pullRequestsClosed: repo.pullRequests.filter((pr) => pr.state === "closed").length,
      directionChanges: directionChanges(repo.changes),
      podsDisrupted: cluster.disrupted,
      podsPreempted: cluster.preempted,
      peakNodes: totals.peakNodes,
    },
    pullRequests: repo.pullRequests,
    changes: repo.changes,
    series,
  };
}

interface World {
  cluster: SimCluster;
  repo: SimRepo;
  /** Index of the next trace event to apply. */
  nextEvent: number;
}

interface Totals {
  nodeMs: number;
  pendingMs: number;
  pendingBeyondMaxMs: number;
  pendingFixedOnlyMs: number;
  peakNodes: number;
}

/** The trace's fixed nodes and first pool nodes, Ready since a day before the start. */
function createWorld(trace: Trace, options: SimulationOptions): World {
  const cluster = new SimCluster({
    poolWouldTake: (pod, info) => fitsPoolNodeAlone(pod.requests, placementOf(info, trace), trace),
    beyondMax: (pod, info) => heldOnlyBeyondMax(pod.requests, placementOf(info, trace), trace),
    fixedOnly: (pod, info) => {
      const placement = placementOf(info, trace);
      return (
        fitsFixedNodeAlone(pod.requests, placement, trace) &&
        !fitsPoolNodeAlone(pod.requests, placement, trace)
      );
    },
  });
  addFixedNodes(cluster, trace);
  return { cluster, repo: new SimRepo(trace.pools, cluster, options, trace.start), nextEvent: 0 };
}

/** The trace's fixed nodes, Ready since a day before the start. */
export function addFixedNodes(cluster: SimCluster, trace: Trace): void {
  for (const node of trace.nodes)
    cluster.addNode({
      ...node,
      // Every node carries its name as its hostname label, fixed ones too.
      labels: { "kubernetes.io/hostname": node.name, ...node.labels },
      createdAt: -DAY_MS,
      readyAt: -DAY_MS,
      ready: true,
      used: { cpu: 0, memory: 0, pods: 0 },
      pods: new Set(),
    });
}

/** Steps 1–5: events, finished batch pods, merges and applies, boots, scheduling. */
function advance(world: World, trace: Trace, now: number): void {
  const { cluster, repo } = world;
  while ((trace.events[world.nextEvent]?.at ?? Infinity) <= now)
    applyEvent(cluster, trace.events[world.nextEvent++] as TraceEvent);
  cluster.completeFinished(now);
  repo.mergeDue(now);
  cluster.updateReadiness(now);
  cluster.schedule(now);
}

function ask(world: World, trace: Trace, autoscaler: Autoscaler, now: number): void {
  const view = {
    now: new Date(trace.start + now),
    snapshot: simulationSnapshot(world.cluster, trace.start, now),
    repo: world.repo.facts(),
  };
  for (const intent of autoscaler.decide(view)) act(world.repo, intent, now);
}

function count(totals: Totals, cluster: SimCluster, span: number): void {
  const poolNodes = cluster.nodes.filter((node) => node.pool !== undefined).length;
  totals.nodeMs += poolNodes * span;
  totals.pendingMs += cluster.pending.length * span;
  totals.pendingBeyondMaxMs += cluster.pendingBeyondMax * span;
  totals.pendingFixedOnlyMs += cluster.pendingFixedOnly * span;
  totals.peakNodes = Math.max(totals.peakNodes, poolNodes);
}

function record(series: RunSeries, cluster: SimCluster): void {
  let nodes = 0;
  let booting = 0;
  let empty = 0;
  for (const node of cluster.nodes) {
    if (node.pool === undefined) continue;
    nodes += 1;
    if (!node.ready) booting += 1;
    else if (node.pods.size === 0) empty += 1;
  }
  series.nodes.push(nodes);
  series.booting.push(booting);
  series.empty.push(empty);
  series.pending.push(cluster.pending.length);
  series.pendingForPools.push(cluster.pendingForPools);
}

export function applyEvent(cluster: SimCluster, event: TraceEvent): void {
  // A profile's clock starts at the event's own time, even when the step comes a little later.
  if (event.kind === "pod") cluster.arrive(event, event.at);
  else if (event.kind === "usage") cluster.setUsage(event.pod, event.usage, event.at);
  else cluster.deletePod(event.pod);
}

function act(repo: SimRepo, intent: PullRequestIntent, now: number): void {
  if (intent.action === "close") repo.close(intent.pool, now);
  else if (intent.action === "update") repo.update(intent.pool, intent.desired, intent.reason, now);
  else repo.open(intent.pool, intent.desired, intent.reason, now);
}

/** Per pool, how often a merged change went the other way from the one before it. */
export function directionChanges(changes: readonly MergedChange[]): number {
  const last = new Map<string, number>();
  let count = 0;
  for (const change of changes) {
    const sign = Math.sign(change.to - change.from);
    const previous = last.get(change.pool);
    if (previous !== undefined && previous !== sign) count += 1;
    last.set(change.pool, sign);
  }
  return count;
}
