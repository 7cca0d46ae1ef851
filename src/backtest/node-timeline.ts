import type { OracleSeries } from "./oracle.ts";
import type { RunSeries } from "./simulate.ts";

/**
 * Where a run's node-hours differ from the oracle's, step by step. At a step with more pool
 * nodes than the oracle pays for, the surplus is put first on Ready nodes that run no pod, then
 * on machines still booting, and the rest on nodes running pods; a step with fewer counts below.
 * The four parts add up to `total`; `belowOracleNoneWaiting` is the part of `belowOracle` at
 * steps where no pod that a pool node could hold waited, then or a boot delay after.
 */
export interface ExcessOverOracle {
  /** The run's node-hours minus the oracle's. */
  total: number;
  /** Surplus Ready nodes without pods: a scale-down not due yet, or not allowed. */
  emptyNodes: number;
  /** Surplus machines still booting. */
  bootingNodes: number;
  /** Surplus nodes running pods, which the oracle packs onto fewer nodes. */
  occupiedNodes: number;
  /** Node-hours under the oracle's, as a negative number: pods waited for nodes instead. */
  belowOracle: number;
  /**
   * The part of `belowOracle` at steps where no pod that a pool node could hold waited then or
   * within the boot delay after (the oracle's nodes booting for them): pods did not wait for
   * those nodes. A config min below the trace's leaves them out, or bare pods that a drain or
   * preemption evicted for good. Pods no node can hold, or only fixed nodes, or pinned to a pool
   * node beyond the config's max, wait whatever the pools have, and are not taken for pods
   * waiting for those nodes.
   */
  belowOracleNoneWaiting: number;
}

/** One span of the timeline: the run's and the oracle's pool node counts over it. */
export interface TimelineRow {
  /** ms from the trace's start. */
  from: number;
  to: number;
  run: { min: number; max: number; nodeHours: number; pendingPodMinutes: number };
  oracle: { min: number; max: number; nodeHours: number };
}

export interface NodeTimeline {
  bucketMs: number;
  rows: TimelineRow[];
  excess: ExcessOverOracle;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Spans a timeline may use, smallest first; the first that gives at most 24 rows is taken. */
const BUCKETS = [
  ...[1, 5, 10, 15, 30].map((minutes) => minutes * MINUTE),
  ...[1, 2, 3, 4, 6, 8, 12, 24].map((hours) => hours * HOUR),
];
const MAX_ROWS = 24;

/**
 * A run's pool node counts against the oracle's over the trace, in spans of a round length (at
 * most 24 of them, never shorter than a step), and the run's node-hours over or under the
 * oracle's split by cause (`ExcessOverOracle`). Both series must come from the same step.
 */
export function nodeTimeline(
  run: RunSeries,
  oracle: OracleSeries,
  durationMs: number,
): NodeTimeline {
  if (run.stepMs !== oracle.stepMs)
    throw new Error(`the run's step (${run.stepMs} ms) differs from the oracle's`);
  const bucketMs = bucketFor(durationMs, run.stepMs);
  const rows: TimelineRow[] = [];
  for (let from = 0; from < durationMs; from += bucketMs) {
    const to = Math.min(from + bucketMs, durationMs);
    rows.push({
      from,
      to,
      run: { min: Infinity, max: 0, nodeHours: 0, pendingPodMinutes: 0 },
      oracle: { min: Infinity, max: 0, nodeHours: 0 },
    });
  }
  // Sums in node-milliseconds, whole numbers for whole-second steps, so they add up exactly.
  const excess: ExcessOverOracle = {
    total: 0,
    emptyNodes: 0,
    bootingNodes: 0,
    occupiedNodes: 0,
    belowOracle: 0,
    belowOracleNoneWaiting: 0,
  };
  const steps = Math.min(run.nodes.length, oracle.nodes.length);
  const waiting = waitingAhead(run.pendingForPools, oracle.aheadSteps);
  for (let k = 0; k < steps; k++) {
    const start = k * run.stepMs;
    const end = Math.min(start + run.stepMs, durationMs);
    const nodes = run.nodes[k] ?? 0;
    const paid = oracle.nodes[k] ?? 0;
    for (const row of rows) {
      const overlap = Math.min(end, row.to) - Math.max(start, row.from);
      if (overlap <= 0) continue;
      addToRow(row, nodes, paid, run.pending[k] ?? 0, overlap);
    }
    attribute(excess, run, k, paid, end - start, waiting[k] ?? false);
  }
  for (const row of rows) {
    if (row.run.min === Infinity) row.run.min = 0;
    if (row.oracle.min === Infinity) row.oracle.min = 0;
    row.run.nodeHours /= HOUR;
    row.run.pendingPodMinutes /= MINUTE;
    row.oracle.nodeHours /= HOUR;
  }
  for (const key of Object.keys(excess) as (keyof ExcessOverOracle)[]) excess[key] /= HOUR;
  return { bucketMs, rows, excess };
}

function addToRow(row: TimelineRow, nodes: number, paid: number, pending: number, ms: number) {
  row.run.min = Math.min(row.run.min, nodes);
  row.run.max = Math.max(row.run.max, nodes);
  row.run.nodeHours += nodes * ms;
  row.run.pendingPodMinutes += pending * ms;
  row.oracle.min = Math.min(row.oracle.min, paid);
  row.oracle.max = Math.max(row.oracle.max, paid);
  row.oracle.nodeHours += paid * ms;
}

function attribute(
  excess: ExcessOverOracle,
  run: RunSeries,
  k: number,
  paid: number,
  ms: number,
  waiting: boolean,
): void {
  const surplus = (run.nodes[k] ?? 0) - paid;
  excess.total += surplus * ms;
  if (surplus <= 0) {
    excess.belowOracle += surplus * ms;
    if (!waiting) excess.belowOracleNoneWaiting += surplus * ms;
    return;
  }
  const empty = Math.min(surplus, run.empty[k] ?? 0);
  const booting = Math.min(surplus - empty, run.booting[k] ?? 0);
  excess.emptyNodes += empty * ms;
  excess.bootingNodes += booting * ms;
  excess.occupiedNodes += (surplus - empty - booting) * ms;
}

/** For each step, whether a pod a pool node could hold waits at it or at one of the `ahead` after. */
function waitingAhead(pending: readonly number[], ahead: number): boolean[] {
  const waiting: boolean[] = [];
  let next = Infinity; // the nearest step from k on at which a pod waits
  for (let k = pending.length - 1; k >= 0; k--) {
    if ((pending[k] ?? 0) > 0) next = k;
    waiting[k] = next - k <= ahead;
  }
  return waiting;
}

function bucketFor(durationMs: number, stepMs: number): number {
  for (const bucket of BUCKETS)
    if (bucket >= stepMs && Math.ceil(durationMs / bucket) <= MAX_ROWS) return bucket;
  return Math.max(Math.ceil(durationMs / MAX_ROWS / DAY), Math.ceil(stepMs / DAY)) * DAY;
}
