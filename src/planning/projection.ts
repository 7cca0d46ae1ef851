import { isExpendable } from "./blockers.ts";
import type { Resource } from "./node-decision.ts";
import { countedOnPool, type PoolContext } from "./pool-context.ts";
import { readyAndSchedulable } from "./pool-members.ts";
import type { NodeInfo, PodInfo } from "./snapshot.ts";
import { percentOf } from "./utilisation.ts";

const RESOURCES: readonly Resource[] = ["cpu", "memory"];

/**
 * `percent` of the pool's allocatable spread over what is left once `removed` are gone: the
 * same load on fewer nodes. Usage is projected so, as it cannot be told per pod; requests are
 * told per pod, and `projectRequests` takes out those that leave first. Unknown when the pool's
 * allocatable is. With every node of the pool removed it is 0: the load leaves with the nodes,
 * for a removal is made only when their pods need no room elsewhere (DaemonSet, mirror and
 * expendable pods) or find it.
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
 * pool's nodes, and of the pods the decreases of pools before this one move onto them (both in
 * `roomTaken`), count with the pool's own when the removal leaves them there: once the decreases
 * are made, they run there. `placed` is where the removal's placement puts what moves once
 * `removed` go (`MoveResult.placedPods`): a pod it sends off the pool (to a node in no pool,
 * another pool's node) runs there, not on the pool; one it did not place counts, as it may.
 * The DaemonSet and mirror pods of the removed nodes counted in the pool's requests (those of
 * Ready nodes that are not cordoned) do not move: they go with their node, so their requests
 * leave the pool with it (`leavingRequests`), as do those of its pods already being deleted,
 * which the removal does not move either (their controller has made their replacement, which
 * the pool's requests or its pending pods count already). The pods the removal moves still count, on the
 * nodes left. A removed node whose pod's request could not be read leaves the projection unknown,
 * never a figure short of that pod's requests (the pool's requests are unknown then too).
 */
export function projectRequests(
  context: PoolContext,
  removed: readonly NodeInfo[],
  placed: readonly { pod: PodInfo; node: string }[],
):
  | {
      resource: Resource;
      percent: number;
      pending?: number;
      moved?: { pods: number; pools: string[] };
    }
  | undefined {
  const staying = stayingOnPool(context, removed, placed);
  const counted = countedOnPool(context);
  const pending = counted.pending.filter(staying);
  const moved = counted.moved.filter(({ pod }) => staying(pod));
  const added = [...pending, ...moved.map(({ pod }) => pod)];
  const leaving = leavingRequests(context, removed);
  if (leaving === undefined) return undefined;
  let highest: { resource: Resource; percent: number } | undefined;
  for (const resource of RESOURCES) {
    const { requestsPercent, allocatable } = context.utilisation[resource];
    const sum = added.reduce((total, pod) => total + (pod.requests[resource] ?? 0), 0);
    const net = sum - leaving[resource];
    const percent =
      net !== 0 && requestsPercent !== undefined && allocatable !== undefined
        ? requestsPercent + (percentOf(net, allocatable) ?? 0)
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

/**
 * The cpu and memory requests of the DaemonSet and mirror pods, of the pods being deleted
 * (`deletionTimestamp` set), and of the expendable pods (priority below `expendablePriority`) on
 * the `removed` nodes whose requests the pool's figure counts (Ready, not cordoned:
 * `readyAndSchedulable`, as `measuredNodes`), which go with their node rather than move (as
 * `evictablePods` leaves them out): an expendable pod made again waits for room, and a pending
 * expendable pod's requests are not counted (nor in cluster-autoscaler's scale-down simulation,
 * which leaves such pods out). Unknown when a request on such a node could not be read.
 */
export function leavingRequests(
  context: PoolContext,
  removed: readonly NodeInfo[],
): Record<Resource, number> | undefined {
  const leaving: Record<Resource, number> = { cpu: 0, memory: 0 };
  for (const node of removed) {
    if (!readyAndSchedulable(node)) continue;
    if (context.index.requestsUnknown.has(node.name)) return undefined;
    for (const pod of context.index.podsByNode.get(node.name) ?? [])
      if (
        pod.daemonSet ||
        pod.mirror ||
        pod.deletingSince !== undefined ||
        isExpendable(pod, context.pool.expendablePriority)
      )
        for (const resource of RESOURCES) leaving[resource] += pod.requests[resource] ?? 0;
  }
  return leaving;
}

/**
 * Whether a pod counted on the pool's room is still on it once `removed` go: placed on one of the
 * pool's nodes left, or not placed at all (where it runs is not known, so it counts).
 */
function stayingOnPool(
  context: PoolContext,
  removed: readonly NodeInfo[],
  placed: readonly { pod: PodInfo; node: string }[],
): (pod: PodInfo) => boolean {
  const gone = new Set(removed.map((node) => node.name));
  const left = new Set(
    context.members.filter((node) => !gone.has(node.name)).map((node) => node.name),
  );
  const nodeOf = new Map(placed.map(({ pod, node }) => [pod, node]));
  return (pod) => {
    const node = nodeOf.get(pod);
    return node === undefined || left.has(node);
  };
}
