import { InputError } from "../errors.ts";
import { formatDuration } from "../planning/format.ts";
import { maxSampleGap } from "../planning/utilisation.ts";
import { hostCap } from "../policy/host-cap.ts";
import type { RepoConfig } from "../policy/repo-config.ts";
import { listing } from "../util/listing.ts";
import { baselineAutoscaler } from "./baseline-autoscaler.ts";
import { type OracleResult, oracle } from "./oracle.ts";
import {
  fitsAnyNodeAlone,
  fitsFixedNodeAlone,
  fitsPoolNodeAlone,
  heldOnlyBeyondMax,
  placementOf,
} from "./oracle-packing.ts";
import { plannerAutoscaler } from "./planner-autoscaler.ts";
import { podInfo, SimCluster } from "./sim-cluster.ts";
import {
  addFixedNodes,
  applyEvent,
  DEFAULT_SIMULATION,
  type RunMetrics,
  type RunResult,
  type SimulationOptions,
  simulate,
} from "./simulate.ts";
import { arrivalKey, type Trace, type TraceEvent } from "./trace.ts";

export interface BacktestOptions extends SimulationOptions {
  /** How often the planner is asked. */
  intervalMs: number;
}

export const DEFAULT_BACKTEST: BacktestOptions = { ...DEFAULT_SIMULATION, intervalMs: 60_000 };

/** The most steps one run takes: about 115 days at 10 s, some minutes of replay. */
export const MAX_STEPS = 1_000_000;

/** One goal the planner should meet against the baseline or the oracle. */
export interface Goal {
  name: string;
  unit: "node-hours" | "pod-minutes" | "pull requests";
  /** The planner's figure. */
  value: number;
  /** What it must not exceed. */
  limit: number;
  met: boolean;
}

export interface BacktestReport {
  trace: { name: string; file: string; description?: string; durationMs: number; pools: string[] };
  options: BacktestOptions;
  planner: RunResult;
  baseline: RunResult;
  oracle: OracleResult;
  /** Pods no pool's node takes that waited for room on the fixed nodes ({@link fixedNodesOnly}). */
  fixedNodesOnly: FixedNodesOnly;
  goals: Goal[];
  /**
   * What makes this run say less than it seems to: a check interval too wide for a window, a
   * config min below the trace's, an oracle that could only bound some steps.
   */
  warnings: string[];
}

/**
 * Replays the trace against the planner (with the repo config), the seed baseline and the
 * oracle, and checks the planner's goals: pending pod-minutes at most 25 % of the baseline's
 * (both without the waiting of pods no node can hold, of pods pinned by hostname to a pool
 * node beyond the config's max, and of pods only fixed nodes can hold waiting for room there),
 * node-hours at most 1.10 × the oracle's, no more pull requests than the baseline.
 */
export function runBacktest(
  traced: Trace,
  config: RepoConfig,
  options: BacktestOptions = DEFAULT_BACKTEST,
): BacktestReport {
  checkLength(traced, options.stepMs);
  const trace = withConfigMax(traced, config);
  const planner = simulate(trace, plannerAutoscaler(config, options.intervalMs), options);
  const baseline = simulate(trace, baselineAutoscaler(), options);
  const bound = oracle(trace, options);
  const fixed = fixedNodesOnly(trace, options.stepMs);
  const report: BacktestReport = {
    trace: {
      name: trace.name,
      file: trace.file,
      durationMs: trace.durationMs,
      pools: trace.pools.map((pool) => pool.name),
    },
    options,
    planner,
    baseline,
    oracle: bound,
    fixedNodesOnly: fixed,
    goals: goals(planner, baseline, bound, {
      noNode: unavoidablePendingPodMinutes(trace, options.stepMs),
      fixedOnly: fixed.pendingPodMinutes,
    }),
    warnings: [
      ...intervalWarnings(config, options.intervalMs),
      ...minWarnings(config, trace),
      ...oracleWarnings(bound),
    ],
  };
  if (trace.description !== undefined) report.trace.description = trace.description;
  return report;
}

/**
 * The trace's pools with the most nodes a run of the config may have: its `max` (or the host
 * cap when lower), or the pool's count at the start when above it. A node a pod's hostname
 * names beyond that never exists in a run of this config, nor for the oracle, and the pending
 * goal leaves such a pod's waiting out of both runs.
 */
export function withConfigMax(trace: Trace, config: RepoConfig): Trace {
  return {
    ...trace,
    pools: trace.pools.map((pool) => {
      const configured = config.pools.find((candidate) => candidate.name === pool.name);
      if (!configured) return pool;
      const { cap } = hostCap(configured.host);
      const max = cap === undefined ? configured.max : Math.min(configured.max, cap);
      return { ...pool, max: Math.max(max, pool.count) };
    }),
  };
}

/** A trace that would take more than {@link MAX_STEPS} steps is refused before it runs for hours. */
function checkLength(trace: Trace, stepMs: number): void {
  const steps = Math.ceil(trace.durationMs / stepMs);
  if (steps <= MAX_STEPS) return;
  const shortest = Math.ceil(trace.durationMs / MAX_STEPS / 1000);
  throw new InputError(
    `duration: ${formatDuration(trace.durationMs)} in ${formatDuration(stepMs)} steps is ${steps.toLocaleString("en-US")} steps, more than the ${MAX_STEPS.toLocaleString("en-US")} a run takes: give --step ${formatDuration(shortest * 1000)} or more, or a shorter trace`,
    { file: trace.file, line: 1 },
  );
}

/**
 * The planner judges "stayed above/below for a window" on the samples of its earlier checks,
 * which must be close enough together; checks further apart than that never make a window,
 * so utilisation would never add or remove a node in the run.
 */
function intervalWarnings(config: RepoConfig, intervalMs: number): string[] {
  const warnings: string[] = [];
  for (const pool of config.pools) {
    const windows = [
      ["scaleUp.window", pool.scaleUp.window],
      ["scaleDown.unneededTime", pool.scaleDown.unneededTime],
    ] as const;
    for (const [key, windowMs] of windows) {
      if (windowMs === 0 || intervalMs <= maxSampleGap(windowMs)) continue;
      warnings.push(
        `${pool.name}: with the planner asked every ${formatDuration(intervalMs)}, its samples are too far apart to show usage staying the same for ${key} ${formatDuration(windowMs)} (at most ${formatDuration(maxSampleGap(windowMs))} apart): in this run utilisation never ${key === "scaleUp.window" ? "adds" : "removes"} a node; use --interval ${formatDuration(maxSampleGap(windowMs))} or less`,
      );
    }
  }
  return warnings;
}

/** A config min below the trace's lets the planner keep fewer nodes than the oracle. */
function minWarnings(config: RepoConfig, trace: Trace): string[] {
  return config.pools.flatMap((pool) => {
    const traced = trace.pools.find((candidate) => candidate.name === pool.name);
    if (!traced || pool.min >= traced.min) return [];
    return [
      `${pool.name}: the config's min ${pool.min} is below the trace's min ${traced.min}, which the oracle never goes below: the planner can come in under the oracle's node-hours; give the pool "min": ${pool.min} in the trace to compare them`,
    ];
  });
}

/** Steps where the oracle could only prove a bound: its node-hours may be below any packing. */
function oracleWarnings(bound: OracleResult): string[] {
  if (bound.boundedSteps === 0) return [];
  return [
    `at ${bound.boundedSteps} of ${bound.series.nodes.length} steps the oracle's count is a lower bound it proved, not a packing it found (its search for the fewest nodes ran out of branches): there no autoscaler may reach it`,
  ];
}

/**
 * The pending pod-minutes no autoscaler can spare, the same in every run: a pod whose requests,
 * nodeSelector and tolerations fit no node even alone (no fixed node, no node of any pool) is
 * never placed, so it waits from the step it arrives at until it is deleted or the trace ends.
 * One that only the config's max keeps from a node is not among them: a run whose pool goes
 * beyond that max (the baseline's) may place it, so each run counts its waiting apart.
 */
export function unavoidablePendingPodMinutes(trace: Trace, stepMs: number): number {
  // An event is applied at the first step at or after its time.
  const step = (at: number) => Math.min(Math.ceil(at / stepMs) * stepMs, trace.durationMs);
  const since = new Map<string, number>();
  let waitedMs = 0;
  for (const event of trace.events) {
    if (event.kind === "pod") {
      const placement = placementOf(podInfo(event), trace);
      if (
        !fitsAnyNodeAlone(event.requests, placement, trace) &&
        !heldOnlyBeyondMax(event.requests, placement, trace)
      )
        since.set(arrivalKey(event), step(event.at));
    } else if (event.kind === "delete") {
      const from = since.get(event.pod);
      if (from === undefined) continue;
      waitedMs += step(event.at) - from;
      since.delete(event.pod);
    }
  }
  for (const from of since.values()) waitedMs += trace.durationMs - from;
  return waitedMs / 60_000;
}

/** Pods only fixed nodes can hold that waited for room there while every other pod had a node. */
export interface FixedNodesOnly {
  /** Their waiting, the same in every run: the pending goal leaves it out. */
  pendingPodMinutes: number;
  /** Those that waited, `namespace/name`, with the trace line that brought each, in trace order. */
  pods: { pod: string; line: number }[];
}

/**
 * The waiting of pods that only fixed nodes can hold (their requests, nodeSelector and
 * tolerations fit a fixed node alone but no pool's node), were the pools to have a node free
 * for every other pod at once: no pool node takes them, so no autoscaler shortens it. The same
 * simulation as the runs (steps, queue, fixed nodes first, run times, deletions, preemption)
 * with the fixed nodes and the pods that fit one; a pod a pool would take as well goes there
 * when it finds no room on them. In a run such pods may also wait, and take the fixed nodes'
 * room when it frees: that waiting is the autoscaler's, and stays in.
 */
export function fixedNodesOnly(trace: Trace, stepMs: number): FixedNodesOnly {
  const onFixed = new Set<string>();
  const only = new Set<string>();
  const events = trace.events.filter((event) => {
    if (event.kind !== "pod") return onFixed.has(event.pod);
    const placement = placementOf(podInfo(event), trace);
    if (!fitsFixedNodeAlone(event.requests, placement, trace)) return false;
    onFixed.add(arrivalKey(event));
    if (!fitsPoolNodeAlone(event.requests, placement, trace)) only.add(arrivalKey(event));
    return true;
  });
  if (only.size === 0) return { pendingPodMinutes: 0, pods: [] };
  const cluster = new SimCluster({
    poolWouldTake: (pod) => !only.has(arrivalKey(pod)),
    poolsAlwaysHaveRoom: true,
  });
  addFixedNodes(cluster, trace);
  const waited = new Set<string>();
  let waitedMs = 0;
  let next = 0;
  for (let now = 0; now < trace.durationMs; now += stepMs) {
    while ((events[next]?.at ?? Infinity) <= now) applyEvent(cluster, events[next++] as TraceEvent);
    cluster.completeFinished(now);
    cluster.schedule(now);
    const waiting = cluster.pending.length - cluster.pendingForPools;
    waitedMs += waiting * Math.min(stepMs, trace.durationMs - now);
    if (waiting > 0) for (const pod of cluster.pending) if (!pod.forPools) waited.add(pod.key);
  }
  const pods = events.flatMap((event) =>
    event.kind === "pod" && waited.has(arrivalKey(event))
      ? [{ pod: arrivalKey(event), line: event.line }]
      : [],
  );
  return { pendingPodMinutes: waitedMs / 60_000, pods };
}

/** Pending pod-minutes no autoscaler can spare, the same in every run. */
interface Unavoidable {
  /** Of pods no node can hold. */
  noNode: number;
  /** Of pods only fixed nodes can hold, waiting for room there. */
  fixedOnly: number;
}

/**
 * The planner's goals. The pending one leaves out the waiting no autoscaler can spare (pods no
 * node can hold, pods only fixed nodes can hold waiting for room there), which both runs count
 * alike: kept in, it would hold the planner to a quarter of a figure neither run could lower.
 * Of pods only fixed nodes can hold, no more is left out of a run than they waited in it: with
 * pools that did not always have room, other pods may have kept a fixed node's room from the
 * one that, with them gone at once, would have taken it and kept a pod of those waiting. It
 * leaves out too, from each run, what pods pinned by hostname to a pool node beyond the
 * config's max waited in it: no run of the config has that node, and the oracle adds none.
 */
function goals(
  planner: RunResult,
  baseline: RunResult,
  bound: OracleResult,
  { noNode, fixedOnly }: Unavoidable,
): Goal[] {
  const p = planner.metrics;
  const b = baseline.metrics;
  const leftOut = (m: RunMetrics) => ({
    beyond: m.pendingBeyondMaxPodMinutes,
    fixed: Math.min(fixedOnly, m.pendingFixedOnlyPodMinutes),
  });
  const pOut = leftOut(p);
  const bOut = leftOut(b);
  const parts = [
    ...(noNode > 0 ? [`the ${noNode.toFixed(1)} of pods no node can hold`] : []),
    ...(pOut.beyond > 0 || bOut.beyond > 0
      ? [
          `${amounts(pOut.beyond, bOut.beyond)} of pods pinned by hostname to a node beyond the config's max`,
        ]
      : []),
    ...(pOut.fixed > 0 || bOut.fixed > 0
      ? [`${amounts(pOut.fixed, bOut.fixed)} of pods only fixed nodes can hold`]
      : []),
  ];
  const pendingName =
    parts.length > 0
      ? `pending pod-minutes ≤ 25 % of the baseline's, without ${listing(parts)}`
      : "pending pod-minutes ≤ 25 % of the baseline's";
  return [
    goal(
      pendingName,
      "pod-minutes",
      Math.max(0, p.pendingPodMinutes - noNode - pOut.beyond - pOut.fixed),
      0.25 * Math.max(0, b.pendingPodMinutes - noNode - bOut.beyond - bOut.fixed),
    ),
    goal("node-hours ≤ 1.10 × the oracle's", "node-hours", p.nodeHours, 1.1 * bound.nodeHours),
    goal(
      "PRs opened ≤ the baseline's",
      "pull requests",
      p.pullRequestsOpened,
      b.pullRequestsOpened,
    ),
  ];
}

/** `the 5.0`, or `the planner's 5.0 and the baseline's 2.0` when the runs differ. */
function amounts(planner: number, baseline: number): string {
  return planner.toFixed(1) === baseline.toFixed(1)
    ? `the ${planner.toFixed(1)}`
    : `the planner's ${planner.toFixed(1)} and the baseline's ${baseline.toFixed(1)}`;
}

function goal(name: string, unit: Goal["unit"], value: number, limit: number): Goal {
  // Sums of floating-point steps may differ in the last bits from an equal limit.
  return { name, unit, value, limit, met: value <= limit + 1e-9 };
}
