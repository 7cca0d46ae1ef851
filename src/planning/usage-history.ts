import type { RepoConfig } from "../policy/repo-config.ts";
import { indexCluster } from "./cluster-index.ts";
import type { Resource } from "./node-decision.ts";
import type { PoolUtilisationSample, UsageHistory } from "./node-plan-input.ts";
import { measuredNodes, poolMembers } from "./pool-members.ts";
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
    const ready = measuredNodes(poolMembers(snapshot.nodes, pool.selector));
    const sample: PoolUtilisationSample = { pool: pool.name, at: snapshot.takenAt };
    for (const resource of ["cpu", "memory"] as const) {
      const { percent, allocatable, requests, requestsPercent } = poolUtilisation(
        ready,
        resource,
        index,
      );
      if (allocatable === undefined) continue;
      sample[`${resource}Allocatable`] = allocatable;
      if (percent !== undefined) sample[resource] = percent;
      if (requestsPercent !== undefined) sample[`${resource}Requests`] = requests;
    }
    return sample;
  });
}

/**
 * The pool's utilisation over time for one resource, against today's Ready allocatable: its
 * own samples (rescaled from the allocatable they were taken of, so that a sample from a bigger
 * pool does not make a smaller one look idle), plus node samples summed at each timestamp where
 * every Ready node of the pool has one. A timestamp missing a node is skipped rather than
 * counted as zero.
 */
export function poolHistory(
  pool: string,
  history: UsageHistory | undefined,
  ready: readonly NodeInfo[],
  resource: Resource,
): TimedPercent[] {
  const result: TimedPercent[] = [];
  const today = readyAllocatable(ready, resource);
  for (const sample of history?.pools ?? []) {
    const percent = sample[resource];
    const then = sample[`${resource}Allocatable`];
    const at = Date.parse(sample.at);
    if (sample.pool !== pool || percent === undefined || Number.isNaN(at)) continue;
    // Without the sample's own allocatable there is nothing to rescale by: it is taken as is.
    const rescaled =
      then !== undefined && today !== undefined
        ? percentOf((percent * then) / 100, today)
        : percent;
    if (rescaled !== undefined) result.push({ at, percent: rescaled });
  }
  result.push(...fromNodeSamples(history, ready, resource));
  return result;
}

/**
 * The pool's requests over time for one resource, as a percentage of today's Ready allocatable
 * (what the pods asked for then, on the nodes there are now).
 */
export function poolRequestsHistory(
  pool: string,
  history: UsageHistory | undefined,
  ready: readonly NodeInfo[],
  resource: Resource,
): TimedPercent[] {
  const today = readyAllocatable(ready, resource);
  if (today === undefined) return [];
  const result: TimedPercent[] = [];
  for (const sample of history?.pools ?? []) {
    const requests = sample[`${resource}Requests`];
    const at = Date.parse(sample.at);
    if (sample.pool !== pool || requests === undefined || Number.isNaN(at)) continue;
    const percent = percentOf(requests, today);
    if (percent !== undefined) result.push({ at, percent });
  }
  return result;
}

/** The Ready nodes' allocatable of a resource; undefined when a node's is unknown or none is Ready. */
function readyAllocatable(ready: readonly NodeInfo[], resource: Resource): number | undefined {
  let sum = 0;
  for (const node of ready) {
    const capacity = node.allocatable[resource];
    if (capacity === undefined) return undefined;
    sum += capacity;
  }
  return ready.length > 0 ? sum : undefined;
}

function fromNodeSamples(
  history: UsageHistory | undefined,
  ready: readonly NodeInfo[],
  resource: Resource,
): TimedPercent[] {
  const allocatable = readyAllocatable(ready, resource);
  if (!history?.nodes?.length || allocatable === undefined) return [];
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
