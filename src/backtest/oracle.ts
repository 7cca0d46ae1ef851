import {
  heldOnlyBeyondMax,
  largestNode,
  type Need,
  nodesHoldingAlone,
  PackingSearch,
  type Placement,
  placementOf,
  poolNeeds,
} from "./oracle-packing.ts";
import { podInfo } from "./sim-cluster.ts";
import type { PodArrival, Trace, UsageProfile } from "./trace.ts";
import { arrivalKey } from "./trace.ts";
import { usageAt } from "./usage-profile.ts";

export interface OracleOptions {
  stepMs: number;
  bootDelayMs: number;
  /** From a pull request's opening to its apply; 0 when omitted, the soonest any run can. */
  mergeDelayMs?: number;
}

/** The fewest pool nodes that meet demand with perfect foresight: a lower bound. */
export interface OracleResult {
  nodeHours: number;
  peakNodes: number;
  /** Pods that fit no node, fixed or of a pool, even alone; no capacity helps them. */
  unplaceablePods: number;
  /** Those pods, `namespace/name`, with the trace line that brought each, in trace order. */
  unplaceable: { pod: string; line: number }[];
  /**
   * Pods that only the config's max keeps from a node: their hostname names a pool node beyond
   * it (`node`, of `pool` whose max is `max`), which no run of that config has. Left out, as no
   * node can hold them.
   */
  beyondMax: { pod: string; line: number; node: string; pool: string; max: number }[];
  /** Steps whose count is a lower bound the search proved, not a packing it found. */
  boundedSteps: number;
  series: OracleSeries;
}

/** Pool nodes paid for at each step (entry `k` from `k × stepMs`), summed over the pools. */
export interface OracleSeries {
  stepMs: number;
  nodes: number[];
  /** How many steps ahead a step's count looks: nodes are paid for a boot delay before need. */
  aheadSteps: number;
}

/** A pod as the oracle sees it: alive from its arrival for its duration, never waiting. */
interface OraclePod {
  arrival: PodArrival;
  placement: Placement;
  /** What the nodes that would take it alone by its requests have. */
  holders: Need[];
  end: number;
  profiles: { from: number; profile: UsageProfile }[];
}

/**
 * Lower bound on node-hours. At each step, every live pod needs max(request, usage) of cpu and
 * memory (it must be schedulable and must not be starved); the fewest pool nodes that hold
 * them beside the fixed nodes, respecting selectors and taints, never fewer than the pool's
 * `min`, is the need ({@link poolNeeds}). A node needed at some moment is created a boot delay
 * before, so the count paid for at `t` is the largest need over [t, t + boot delay]: per pool,
 * and at least the largest need of all pools together. A pool that starts with `count` below
 * its `min` is floored at its `count` until the first apply a run can make (a merge delay after
 * the start, one step at least) and at its `min` from then on: no autoscaler adds one sooner.
 */
export function oracle(trace: Trace, options: OracleOptions): OracleResult {
  // A pool that starts below its `min` can only reach it with new nodes, which exist (booting)
  // from the first apply: the needs floor it at its `count` and `min` applies from then on.
  const startingFloors: Trace = {
    ...trace,
    pools: trace.pools.map((pool) => ({ ...pool, min: Math.min(pool.min, pool.count) })),
  };
  const needs = needPerStep(startingFloors, options.stepMs);
  // The simulation makes a machine Ready at the first step a boot delay after its apply.
  const ahead = Math.ceil(options.bootDelayMs / options.stepMs);
  // A pull request opened at the first step is merged and applied at the first later step its
  // merge delay has passed by.
  const firstApply = Math.max(1, Math.ceil((options.mergeDelayMs ?? 0) / options.stepMs));
  const series: OracleSeries = { stepMs: options.stepMs, nodes: [], aheadSteps: ahead };
  const pools = needs.pools.map((need, p) =>
    minFrom(largestAhead(need, ahead), firstApply, trace.pools[p]?.min as number),
  );
  const total = largestAhead(needs.total, ahead);
  let nodeMs = 0;
  let peak = 0;
  for (let k = 0; k < needs.total.length; k++) {
    let paid = 0;
    for (const need of pools) paid += need[k] as number;
    paid = Math.max(paid, total[k] as number);
    nodeMs += paid * Math.min(options.stepMs, trace.durationMs - k * options.stepMs);
    peak = Math.max(peak, paid);
    series.nodes.push(paid);
  }
  return {
    nodeHours: nodeMs / 3_600_000,
    peakNodes: peak,
    unplaceablePods: needs.unplaceable.length,
    unplaceable: needs.unplaceable,
    beyondMax: needs.beyondMax,
    boundedSteps: needs.boundedSteps,
    series,
  };
}

/** The counts, each at least `min` from step `from` on. */
function minFrom(counts: number[], from: number, min: number): number[] {
  for (let k = from; k < counts.length; k++) counts[k] = Math.max(counts[k] as number, min);
  return counts;
}

/**
 * For each step, the largest value from it to `ahead` steps later: a window sliding over the
 * steps, so a boot delay of many steps costs no more than a short one.
 */
function largestAhead(values: readonly number[], ahead: number): number[] {
  const largest = new Array<number>(values.length);
  /** From `head` on: indexes of the values in the window that no later one exceeds. */
  const window: number[] = [];
  let head = 0;
  for (let i = values.length - 1; i >= 0; i--) {
    const value = values[i] as number;
    while (window.length > head && (values[window.at(-1) as number] as number) <= value)
      window.pop();
    window.push(i);
    while ((window[head] as number) > i + ahead) head += 1;
    largest[i] = values[window[head] as number] as number;
  }
  return largest;
}

/**
 * Pool nodes needed at each step: per pool (trace order) and in all, and the pods no node can
 * hold.
 */
function needPerStep(trace: Trace, stepMs: number): StepNeeds {
  const pods = oraclePods(trace, stepMs);
  const steps = Math.ceil(trace.durationMs / stepMs);
  const needs: StepNeeds = {
    pools: trace.pools.map(() => new Array<number>(steps).fill(0)),
    total: new Array<number>(steps).fill(0),
    boundedSteps: 0,
    unplaceable: [],
    beyondMax: [],
  };
  const unplaceable = new Set<OraclePod>();
  const largest = largestNode(trace);
  const live = new LivePods(pods);
  const search = new PackingSearch();
  for (let k = 0; k < steps; k++) {
    const now = k * stepMs;
    const items = live.at(now).map((pod) => ({
      pod,
      need: demand(pod, now, largest),
      placement: pod.placement,
    }));
    const result = poolNeeds(trace, items, search);
    trace.pools.forEach((_, p) => {
      (needs.pools[p] as number[])[k] = result.pools[p] as number;
    });
    needs.total[k] = result.total;
    if (!result.exact) needs.boundedSteps += 1;
    for (const pod of result.unplaceable) unplaceable.add(pod);
  }
  for (const pod of pods) {
    if (!unplaceable.has(pod)) continue;
    const entry = { pod: `${pod.arrival.namespace}/${pod.arrival.name}`, line: pod.arrival.line };
    const pool = trace.pools[pod.placement.beyondMax ?? -1];
    if (!pool?.max || !heldOnlyBeyondMax(pod.arrival.requests, pod.placement, trace))
      needs.unplaceable.push(entry);
    else
      needs.beyondMax.push({
        ...entry,
        node: pod.arrival.nodeSelector["kubernetes.io/hostname"] as string,
        pool: pool.name,
        max: pool.max,
      });
  }
  return needs;
}

interface StepNeeds {
  pools: number[][];
  total: number[];
  boundedSteps: number;
  unplaceable: OracleResult["unplaceable"];
  beyondMax: OracleResult["beyondMax"];
}

/** The pods alive at increasing times: those arrived and not yet ended, in trace order. */
class LivePods {
  private readonly pods: readonly OraclePod[];
  private next = 0;
  private live: OraclePod[] = [];

  constructor(pods: readonly OraclePod[]) {
    this.pods = pods;
  }

  at(now: number): OraclePod[] {
    while ((this.pods[this.next]?.arrival.at ?? Infinity) <= now)
      this.live.push(this.pods[this.next++] as OraclePod);
    this.live = this.live.filter((pod) => now < pod.end);
    return this.live;
  }
}

/**
 * The trace's pods, each live from its arrival until its run time is over or it is deleted. A
 * batch pod runs at least at the step that sees it arrive, as in the simulation: one shorter than
 * a step that would end before the next step still needs a node at that step.
 */
function oraclePods(trace: Trace, stepMs: number): OraclePod[] {
  const byKey = new Map<string, OraclePod>();
  const pods: OraclePod[] = [];
  for (const event of trace.events) {
    if (event.kind === "pod") {
      const seen = Math.ceil(event.at / stepMs) * stepMs;
      const end =
        event.durationMs === undefined
          ? trace.durationMs
          : Math.max(event.at + event.durationMs, seen + 1);
      const placement = placementOf(podInfo(event), trace);
      const pod: OraclePod = {
        arrival: event,
        placement,
        holders: nodesHoldingAlone(event.requests, placement, trace),
        end,
        profiles: [{ from: event.at, profile: event.usage }],
      };
      byKey.set(arrivalKey(event), pod);
      pods.push(pod);
      continue;
    }
    const pod = byKey.get(event.pod);
    if (!pod) continue;
    if (event.kind === "delete") pod.end = Math.min(pod.end, event.at);
    else pod.profiles.push({ from: event.at, profile: event.usage });
  }
  return pods;
}

/**
 * What a live pod needs now: max(request, usage), usage capped at the largest pool node in each
 * resource, as the simulation caps a node's usage at its allocatable (a pod cannot use more
 * than a node has). When no node the pod's requests fit holds that much of both (the cpu of one
 * pool's nodes and the memory of another's, or more than a fixed node it is pinned to has), it
 * needs no more of each than the node that gives it least of it would: that fits every node its
 * requests fit, and is below what it takes on any of them.
 */
function demand(pod: OraclePod, now: number, largest: Need): Need {
  let current = pod.profiles[0] as OraclePod["profiles"][number];
  for (const entry of pod.profiles) if (entry.from <= now) current = entry;
  const usage = usageAt(current.profile, now - current.from);
  const { requests } = pod.arrival;
  const upTo = (room: Need): Need => ({
    cpu: Math.max(requests.cpu, Math.min(usage.cpu, room.cpu)),
    memory: Math.max(requests.memory, Math.min(usage.memory, room.memory)),
  });
  const need = upTo(largest);
  if (pod.holders.length === 0 || pod.holders.some((room) => fitsIn(need, room))) return need;
  for (const room of pod.holders) {
    const there = upTo(room);
    need.cpu = Math.min(need.cpu, there.cpu);
    need.memory = Math.min(need.memory, there.memory);
  }
  return need;
}

function fitsIn(need: Need, room: Need): boolean {
  return need.cpu <= room.cpu && need.memory <= room.memory;
}
