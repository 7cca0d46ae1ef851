import type { Resource } from "./node-decision.ts";
import { countedOnPool, type PoolContext } from "./pool-context.ts";
import { readyAndSchedulable } from "./pool-members.ts";
import type { NodeInfo } from "./snapshot.ts";
import { percentOf } from "./utilisation.ts";

const RESOURCES: readonly Resource[] = ["cpu", "memory"];

/**
 * `percent` of the pool's allocatable spread over what is left once `removed` are gone: the
 * same load on fewer nodes. Unknown when the pool's allocatable is. With every node of the pool
 * removed it is 0: the load leaves with the nodes, for a removal is made only when their pods
 * need no room elsewhere (DaemonSet, mirror and expendable pods) or find it.
 */
export function projectPercent(
  context: PoolContext,
  removed: readonly NodeInfo[],
  resource: Resource,
  percent: number,
): number | undefined {
  const allocatable = context.utilisation[resource].allocatable;
  if (allocatable === undefined) return undefined;
  const names = new Set(removed.map((node) => node.name));
  if (context.members.every((node) => names.has(node.name))) return 0;
  let gone = 0;
  // Only Ready nodes that are not cordoned count in the pool's allocatable, so only they take
  // it away: the load of the nodes that go meets the room of those left that take pods.
  for (const node of removed)
    if (readyAndSchedulable(node)) gone += node.allocatable[resource] ?? 0;
  const load = (percent / 100) * allocatable;
  return percentOf(load, allocatable - gone);
}

/**
 * The higher of cpu and memory requests once `removed` are gone, and whose it is (cpu when
 * they are equal); unknown if either is. The requests of the pending pods the plan counted on the
 * pool's nodes, and of the pods the decreases of pools planned before this one move onto them
 * (both in `roomTaken`), count with the pool's own: once the decreases are made, they run there.
 */
export function projectRequests(
  context: PoolContext,
  removed: readonly NodeInfo[],
):
  | {
      resource: Resource;
      percent: number;
      pending?: number;
      moved?: { pods: number; pools: string[] };
    }
  | undefined {
  const { pending, moved } = countedOnPool(context);
  const added = [...pending, ...moved.map(({ pod }) => pod)];
  let highest: { resource: Resource; percent: number } | undefined;
  for (const resource of RESOURCES) {
    const { requestsPercent, allocatable } = context.utilisation[resource];
    const sum = added.reduce((total, pod) => total + (pod.requests[resource] ?? 0), 0);
    const percent =
      sum > 0 && requestsPercent !== undefined && allocatable !== undefined
        ? requestsPercent + (percentOf(sum, allocatable) ?? 0)
        : requestsPercent;
    const projected =
      percent === undefined ? undefined : projectPercent(context, removed, resource, percent);
    if (projected === undefined) return undefined;
    if (!highest || projected > highest.percent) highest = { resource, percent: projected };
  }
  if (!highest) return highest;
  const pools = [...new Set(moved.map(({ pool }) => pool))];
  return {
    ...highest,
    ...(pending.length > 0 ? { pending: pending.length } : {}),
    ...(moved.length > 0 ? { moved: { pods: moved.length, pools } } : {}),
  };
}
