import { type NodeTraits, placementConflict } from "../planning/scheduling.ts";
import type { PodInfo } from "../planning/snapshot.ts";
import { poolNodeName } from "./parse-trace.ts";
import { podInfo } from "./sim-cluster.ts";
import type { NodeResources, PodArrival, Trace, TracePool, UsageProfile } from "./trace.ts";
import { arrivalKey } from "./trace.ts";
import { usageAt } from "./usage-profile.ts";

export interface OracleOptions {
  stepMs: number;
  bootDelayMs: number;
}

/** The capacity that exactly meets demand with perfect foresight. */
export interface OracleResult {
  nodeHours: number;
  peakNodes: number;
  /** Pods that fit no node of any pool even alone; no capacity helps them. */
  unplaceablePods: number;
  /** Those pods, `namespace/name`, with the trace line that brought each, in trace order. */
  unplaceable: { pod: string; line: number }[];
  series: OracleSeries;
}

/** Pool nodes paid for at each step (entry `k` from `k × stepMs`), summed over the pools. */
export interface OracleSeries {
  stepMs: number;
  nodes: number[];
}

/** A pod as the oracle sees it: alive from its arrival for its duration, never waiting. */
interface OraclePod {
  info: PodInfo;
  arrival: PodArrival;
  end: number;
  profiles: { from: number; profile: UsageProfile }[];
}

interface Bin {
  pool?: TracePool;
  traits: NodeTraits;
  free: NodeResources;
}

/**
 * Lower bound on node-hours. At each step, every live pod needs max(request, usage) of cpu and
 * memory (it must be schedulable and must not be starved); first-fit-decreasing packs those
 * onto the fixed nodes and then as few pool nodes as it can, respecting selectors and taints,
 * never fewer than the pool's `min`. A node needed at some moment is created a boot delay
 * before, so the count paid for at `t` is the largest need over [t, t + boot delay].
 */
export function oracle(trace: Trace, options: OracleOptions): OracleResult {
  const { needs, unplaceable } = needPerStep(trace, options.stepMs);
  const ahead = Math.floor(options.bootDelayMs / options.stepMs);
  const series: OracleSeries = { stepMs: options.stepMs, nodes: [] };
  let nodeMs = 0;
  let peak = 0;
  for (let k = 0; k < (needs[0]?.length ?? 0); k++) {
    let paid = 0;
    for (const need of needs) paid += Math.max(...need.slice(k, k + ahead + 1));
    nodeMs += paid * Math.min(options.stepMs, trace.durationMs - k * options.stepMs);
    peak = Math.max(peak, paid);
    series.nodes.push(paid);
  }
  return {
    nodeHours: nodeMs / 3_600_000,
    peakNodes: peak,
    unplaceablePods: unplaceable.length,
    unplaceable,
    series,
  };
}

/** Nodes each pool needs at each step (trace pool order), and the pods no node can hold. */
function needPerStep(
  trace: Trace,
  stepMs: number,
): { needs: number[][]; unplaceable: OracleResult["unplaceable"] } {
  const pods = oraclePods(trace);
  const steps = Math.ceil(trace.durationMs / stepMs);
  const needs = trace.pools.map(() => new Array<number>(steps).fill(0));
  const unplaceable = new Set<OraclePod>();
  for (let k = 0; k < steps; k++) {
    const now = k * stepMs;
    const live = pods.filter((pod) => pod.arrival.at <= now && now < pod.end);
    const opened = pack(trace, live, now, unplaceable);
    trace.pools.forEach((pool, p) => {
      (needs[p] as number[])[k] = Math.max(pool.min, opened[p] ?? 0);
    });
  }
  const listed = pods
    .filter((pod) => unplaceable.has(pod))
    .map((pod) => ({
      pod: `${pod.arrival.namespace}/${pod.arrival.name}`,
      line: pod.arrival.line,
    }));
  return { needs, unplaceable: listed };
}

function oraclePods(trace: Trace): OraclePod[] {
  const byKey = new Map<string, OraclePod>();
  const pods: OraclePod[] = [];
  for (const event of trace.events) {
    if (event.kind === "pod") {
      const end = event.durationMs === undefined ? trace.durationMs : event.at + event.durationMs;
      const pod: OraclePod = {
        info: podInfo(event),
        arrival: event,
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
 * What a live pod needs now: max(request, usage), usage capped at the largest node, as the
 * simulation caps a node's usage at its allocatable (a pod cannot use more than a node has).
 */
function demand(
  pod: OraclePod,
  now: number,
  largest: { cpu: number; memory: number },
): { cpu: number; memory: number } {
  let current = pod.profiles[0] as OraclePod["profiles"][number];
  for (const entry of pod.profiles) if (entry.from <= now) current = entry;
  const usage = usageAt(current.profile, now - current.from);
  return {
    cpu: Math.max(pod.arrival.requests.cpu, Math.min(usage.cpu, largest.cpu)),
    memory: Math.max(pod.arrival.requests.memory, Math.min(usage.memory, largest.memory)),
  };
}

/**
 * First-fit decreasing; returns the number of nodes opened per pool (trace order). Pods that
 * only fixed nodes can take go first, so a pod that could use a pool node does not take their
 * room. A pod left over that would fit some node alone is not counted unplaceable: only one
 * that no empty node could hold is.
 */
function pack(
  trace: Trace,
  live: readonly OraclePod[],
  now: number,
  unplaceable: Set<OraclePod>,
): number[] {
  const scale = largestNode(trace);
  const items = live.map((pod) => {
    const need = demand(pod, now, scale);
    const poolable = trace.pools.some((pool) => fitsBin(pod.info, need, emptyBin(pool, 0)));
    return { pod, need, poolable };
  });
  const size = (need: { cpu: number; memory: number }) =>
    Math.max(need.cpu / scale.cpu, need.memory / scale.memory);
  items.sort(
    (a, b) =>
      Number(a.poolable) - Number(b.poolable) ||
      size(b.need) - size(a.need) ||
      a.pod.arrival.line - b.pod.arrival.line,
  );
  const bins: Bin[] = trace.nodes.map(fixedBin);
  const opened = trace.pools.map(() => 0);
  for (const { pod, need, poolable } of items) {
    const bin = bins.find((candidate) => fitsBin(pod.info, need, candidate));
    if (bin) {
      take(bin, need);
      continue;
    }
    const p = trace.pools.findIndex((pool, i) =>
      fitsBin(pod.info, need, emptyBin(pool, opened[i] ?? 0)),
    );
    const pool = trace.pools[p];
    if (!pool) {
      const alone =
        !poolable && trace.nodes.some((node) => fitsBin(pod.info, need, fixedBin(node)));
      if (!alone) unplaceable.add(pod);
      continue;
    }
    const fresh = emptyBin(pool, opened[p] ?? 0);
    take(fresh, need);
    bins.push(fresh);
    opened[p] = (opened[p] ?? 0) + 1;
  }
  return opened;
}

function fixedBin(node: Trace["nodes"][number]): Bin {
  return {
    traits: {
      name: node.name,
      labels: { "kubernetes.io/hostname": node.name, ...node.labels },
      taints: node.taints,
    },
    free: { ...node.allocatable },
  };
}

/** The pool's `index`-th node to add, named as Terraform `count` would name it. */
function emptyBin(pool: TracePool, index: number): Bin {
  const name = poolNodeName(pool, index);
  return {
    pool,
    traits: {
      name,
      labels: { "kubernetes.io/hostname": name, ...pool.labels },
      taints: pool.taints,
    },
    free: { ...pool.allocatable },
  };
}

function fitsBin(info: PodInfo, need: { cpu: number; memory: number }, bin: Bin): boolean {
  if (need.cpu > bin.free.cpu || need.memory > bin.free.memory || bin.free.pods < 1) return false;
  return placementConflict(info, bin.traits) === undefined;
}

function take(bin: Bin, need: { cpu: number; memory: number }): void {
  bin.free.cpu -= need.cpu;
  bin.free.memory -= need.memory;
  bin.free.pods -= 1;
}

function largestNode(trace: Trace): { cpu: number; memory: number } {
  let cpu = 1;
  let memory = 1;
  for (const pool of trace.pools) {
    cpu = Math.max(cpu, pool.allocatable.cpu);
    memory = Math.max(memory, pool.allocatable.memory);
  }
  return { cpu, memory };
}
