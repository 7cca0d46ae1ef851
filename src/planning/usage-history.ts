import type { RepoConfig } from "../policy/repo-config.ts";
import { indexCluster } from "./cluster-index.ts";
import type { Resource } from "./node-decision.ts";
import type { PoolUtilisationSample, UsageHistory } from "./node-plan-input.ts";
import { poolMembers } from "./pool-members.ts";
import type { NodeInfo, Snapshot } from "./snapshot.ts";
import { percentOf, poolUtilisation, type TimedPercent } from "./utilisation.ts";

/**
 * One utilisation sample per pool from a snapshot, for a caller that keeps history between
 * reconciles. Resources whose usage is unknown are left out of the sample.
 */
export function poolUtilisationSamples(
  snapshot: Snapshot,
  config: RepoConfig,
): PoolUtilisationSample[] {
  const index = indexCluster(snapshot);
  return config.pools.map((pool) => {
    const ready = poolMembers(snapshot.nodes, pool.selector).filter((node) => node.ready);
    const sample: PoolUtilisationSample = { pool: pool.name, at: snapshot.takenAt };
    for (const resource of ["cpu", "memory"] as const) {
      const percent = poolUtilisation(ready, resource, index).percent;
      if (percent !== undefined) sample[resource] = percent;
    }
    return sample;
  });
}

/**
 * The pool's utilisation over time for one resource: its own samples, plus node samples summed
 * at each timestamp where every Ready node of the pool has one (against today's allocatable).
 * A timestamp missing a node is skipped rather than counted as zero.
 */
export function poolHistory(
  pool: string,
  history: UsageHistory | undefined,
  ready: readonly NodeInfo[],
  resource: Resource,
): TimedPercent[] {
  const result: TimedPercent[] = [];
  for (const sample of history?.pools ?? []) {
    const percent = sample[resource];
    const at = Date.parse(sample.at);
    if (sample.pool === pool && percent !== undefined && !Number.isNaN(at))
      result.push({ at, percent });
  }
  result.push(...fromNodeSamples(history, ready, resource));
  return result;
}

function fromNodeSamples(
  history: UsageHistory | undefined,
  ready: readonly NodeInfo[],
  resource: Resource,
): TimedPercent[] {
  if (!history?.nodes?.length || ready.length === 0) return [];
  let allocatable = 0;
  for (const node of ready) {
    const capacity = node.allocatable[resource];
    if (capacity === undefined) return [];
    allocatable += capacity;
  }
  const names = new Set(ready.map((node) => node.name));
  const byTime = new Map<string, { nodes: Set<string>; sum: number }>();
  for (const sample of history.nodes) {
    const value = sample[resource];
    if (!names.has(sample.node) || value === undefined) continue;
    const entry = byTime.get(sample.at) ?? { nodes: new Set<string>(), sum: 0 };
    if (entry.nodes.has(sample.node)) continue;
    entry.nodes.add(sample.node);
    entry.sum += value;
    byTime.set(sample.at, entry);
  }
  const result: TimedPercent[] = [];
  for (const [at, entry] of byTime) {
    const time = Date.parse(at);
    const percent = percentOf(entry.sum, allocatable);
    if (entry.nodes.size === names.size && !Number.isNaN(time) && percent !== undefined)
      result.push({ at: time, percent });
  }
  return result;
}
