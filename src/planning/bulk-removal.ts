import {
  type DrainBlocker,
  emptyDirDeleted,
  evictablePods,
  expendablePods,
  pdbBlockers,
} from "./blockers.ts";
import { maxBound } from "./bounds.ts";
import { podKey } from "./cluster-index.ts";
import { awaitedGpus } from "./gpu-coming.ts";
import { emptiesPool, gapsClosed, newNodeGaps } from "./last-node.ts";
import type { BulkProjection, BulkRemovalReport, BulkStop, Resource } from "./node-decision.ts";
import { unplacedReports } from "./packing.ts";
import {
  cordonedPods,
  type MoveResult,
  type PoolContext,
  placeDecrease,
  placeMoving,
} from "./pool-context.ts";
import { isCordoned } from "./pool-members.ts";
import { projectPercent, projectRequests } from "./projection.ts";
import { nodesToRemove } from "./removal.ts";
import type { NodeInfo, PodInfo } from "./snapshot.ts";
import type { SustainedCheck } from "./utilisation.ts";

const RESOURCES: readonly Resource[] = ["cpu", "memory"];

export interface BulkRemovalInput {
  context: PoolContext;
  blockers: ReadonlyMap<string, DrainBlocker[]>;
  pendingOnExisting: readonly PodInfo[];
  /** The scale-down usage checks, met: their values are the usage the removal is judged on. */
  checks: readonly SustainedCheck[];
  /** The node a decrease by one removes, which every scale-down condition already allows. */
  first: NodeInfo;
  /** Where the removal of `first` alone places what moves (`ScaleDownEvaluation.placedPods`). */
  placed: Placed;
}

/** Pods placed, each with its node (`MoveResult.placedPods`). */
type Placed = MoveResult["placedPods"];

/** The nodes one decrease removes (`report`), and where what moves goes as each joined. */
export interface RemovalRun {
  report: BulkRemovalReport;
  /**
   * For each node of `report.nodes`, where what moves goes once it and those before it are gone;
   * the first's is `BulkRemovalInput.placed`.
   */
  placements: Placed[];
}

/**
 * How many nodes one decrease removes, as cluster-autoscaler's bulk deletion of empty nodes:
 * the first node, and after it the next ones Terraform would destroy, while each holds no pods
 * but DaemonSet and mirror pods (finished, deleted and expendable pods aside: none of them
 * moves; the expendable ones are named), up to `scaleDown.maxEmptyBulk` and never below the
 * min. A node with pods to evict goes alone. Each further node must also pass what a later
 * decrease by one would check: the pool still below every scale-down threshold without
 * the nodes before it (so the bulk reaches no further than removals one at a time would), the
 * projection after removing all of them still the margin below the scale-up thresholds, and the
 * pending pods counted on existing room still fitting, and the pool's last node taken only when
 * a new node can be told from the config alone. A node whose usage is unknown never gets this
 * far: the usage checks stop any scale-down first. A node that is not Ready may (it adds no
 * allocatable, so taking it changes no projection): the pool's `nodes-unready` hold lets a
 * decrease that takes a Ready node through only when it takes every node not Ready as well, and
 * one that takes only not-Ready nodes, each once not Ready for `scaleDown.unreadyTime`. A
 * cordoned node stops the run, as it stops a decrease by one.
 */
export function bulkRemoval(input: BulkRemovalInput): RemovalRun {
  const { context, first } = input;
  const maxEmptyBulk = context.pool.scaleDown.maxEmptyBulk;
  const removed = [first];
  const placements: Placed[] = [input.placed];
  const report = (stop: BulkStop): RemovalRun => ({
    report: {
      maxEmptyBulk,
      nodes: removed.map((node) => node.name),
      stop,
      ...droppedOf(context, removed.slice(1)),
      ...emptyDirDeletedOf(context, removed.slice(1)),
      ...(removed.length > 1
        ? {
            projection: removed.map((_, i) =>
              bulkProjection(input, removed.slice(0, i + 1), placements[i] ?? []),
            ),
          }
        : {}),
    },
    placements,
  });
  const occupied = occupiedStop(input, first);
  if (occupied) return report(occupied);
  const current = context.current ?? 0;
  const room = current - context.bounds.effectiveMin;
  const limit = Math.min(maxEmptyBulk, room);
  const picks = nodesToRemove(
    context.members.map((node) => node.name),
    current,
    context.pool.removal,
    limit,
  );
  for (const pick of picks.slice(1)) {
    if ("problem" in pick) return report({ kind: "candidate", problem: pick.problem });
    const node = context.members.find((member) => member.name === pick.node) as NodeInfo;
    const next = nodeStop(input, removed, node, placements.at(-1) ?? []);
    if ("stop" in next) return report(next.stop);
    removed.push(node);
    placements.push(next.placed);
  }
  // When the min leaves no more to take, it is what stops the run, whatever maxEmptyBulk says:
  // a pool one node above its min is not held back by the setting.
  return report(
    room <= maxEmptyBulk
      ? { kind: "min", min: context.bounds.effectiveMin }
      : { kind: "max-empty-bulk", max: maxEmptyBulk },
  );
}

/**
 * Above the max (or the host cap), the nodes one decrease removes to come down to it: the first
 * node, which every condition of a decrease by one already lets go, and after it the next ones
 * Terraform would destroy, up to the bound, whatever the usage and whatever they run, cordoned
 * or not, as the count must come down (below the bound `bulkRemoval` alone reaches further).
 * Each further node goes only as a decrease by one would take it from the pool the nodes before
 * it leave: nothing blocks it, the budgets over the pods of all of them allow every eviction
 * (what the earlier nodes' evictions spend is spent), their pods and the pending pods counted on
 * existing room all fit on the nodes left, and the pool's last node only when a new node can be
 * told from the config alone. The first node that cannot go ends the run, and says why.
 */
export function forcedRemoval(input: Omit<BulkRemovalInput, "checks">): RemovalRun {
  const { context, first } = input;
  const { bounds } = context;
  const current = context.current ?? 0;
  const downTo = { max: bounds.effectiveMax, bound: maxBound(bounds) };
  const removed = [first];
  const placements: Placed[] = [input.placed];
  const report = (stop: BulkStop): RemovalRun => ({
    report: {
      maxEmptyBulk: context.pool.scaleDown.maxEmptyBulk,
      nodes: removed.map((node) => node.name),
      stop,
      downTo,
      ...droppedOf(context, removed.slice(1)),
      ...emptyDirDeletedOf(context, removed.slice(1)),
    },
    placements,
  });
  const picks = nodesToRemove(
    context.members.map((node) => node.name),
    current,
    context.pool.removal,
    current - bounds.effectiveMax,
  );
  for (const pick of picks.slice(1)) {
    if ("problem" in pick) return report({ kind: "candidate", problem: pick.problem });
    const node = context.members.find((member) => member.name === pick.node) as NodeInfo;
    const next = forcedStop(input, [...removed, node], node);
    if ("stop" in next) return report(next.stop);
    removed.push(node);
    placements.push(next.placed);
  }
  return report({ kind: "max", ...downTo });
}

/**
 * What keeps `node`, the last of `run`, from going with the nodes before it above the max, or,
 * when nothing does, where what moves goes once all of `run` are gone: the pods of the whole run,
 * with the pending pods counted on existing room, must all fit.
 */
function forcedStop(
  input: Omit<BulkRemovalInput, "checks">,
  run: readonly NodeInfo[],
  node: NodeInfo,
): { stop: BulkStop } | { placed: Placed } {
  const blockers = input.blockers.get(node.name) ?? [];
  if (blockers.length > 0) return { stop: { kind: "blockers", node: node.name, blockers } };
  const budget = budgetStop(input.context, run, node);
  if (budget) return { stop: budget };
  const names = run.map((entry) => entry.name);
  const { unplaced, placedPods } = placeDecrease(input.context, names, input.pendingOnExisting);
  const stop = podsFitStop(input.context, node, unplaced) ?? lastNodeStop(input, run, node);
  return stop ? { stop } : { placed: placedPods };
}

/**
 * A budget whose allowed disruptions the evictions of the whole run would exceed, though those
 * of each node alone stay within it: the nodes before `node` spent them.
 */
function budgetStop(
  context: PoolContext,
  run: readonly NodeInfo[],
  node: NodeInfo,
): BulkStop | undefined {
  const pods = run.flatMap((entry) =>
    evictablePods(context.index.podsByNode.get(entry.name) ?? []),
  );
  const spent = pdbBlockers(pods, context.index.pdbs).find((blocker) => blocker.pdb);
  if (!spent?.pdb) return undefined;
  const { name, disruptionsAllowed, podsOnNode } = spent.pdb;
  return {
    kind: "budget",
    node: node.name,
    pdb: name,
    disruptionsAllowed,
    pods: podsOnNode,
    nodes: run.map((entry) => entry.name),
  };
}

/**
 * The expendable pods of the nodes taken after the first (the first's are in its pods-fit
 * condition): a drain evicts them, and they are not placed elsewhere.
 */
function droppedOf(context: PoolContext, nodes: readonly NodeInfo[]): { dropped?: string[] } {
  const dropped = nodes.flatMap((node) =>
    expendablePods(
      context.index.podsByNode.get(node.name) ?? [],
      context.pool.expendablePriority,
    ).map(podKey),
  );
  return dropped.length > 0 ? { dropped } : {};
}

/**
 * The pods of the nodes taken after the first whose emptyDir data the drain deletes with them,
 * as the pool's `scaleDown.deleteEmptyDirData` allows (the first's are in its no-blockers
 * condition).
 */
function emptyDirDeletedOf(
  context: PoolContext,
  nodes: readonly NodeInfo[],
): { emptyDirDeleted?: string[] } {
  const deleted = nodes.flatMap((node) =>
    emptyDirDeleted(
      context.index.podsByNode.get(node.name) ?? [],
      context.pool.scaleDown.deleteEmptyDirData,
    ),
  );
  return deleted.length > 0 ? { emptyDirDeleted: deleted } : {};
}

/**
 * What keeps `node` from joining the run after `removed` (`before`: where what moves goes with
 * those gone), or, when nothing does, where what moves goes once it is gone too: the pending pods
 * counted on existing room and the pods of cordoned nodes must still find room without all of
 * them.
 */
function nodeStop(
  input: BulkRemovalInput,
  removed: readonly NodeInfo[],
  node: NodeInfo,
  before: Placed,
): { stop: BulkStop } | { placed: Placed } {
  if (isCordoned(node)) return { stop: { kind: "cordoned", node: node.name } };
  const awaited = awaitedGpus(input.context.gpuComing, node.name);
  if (awaited) return { stop: { kind: "gpu-coming", node: node.name, ...awaited } };
  const early = occupiedStop(input, node) ?? neededStop(input, removed, node, before);
  if (early) return { stop: early };
  const run = [...removed, node];
  const names = run.map((entry) => entry.name);
  const { unplaced, placedPods } = placeBulkMoving(input.context, input.pendingOnExisting, names);
  const stop =
    projectionStop(input, run, node, placedPods) ??
    podsFitStop(input.context, node, unplaced) ??
    lastNodeStop(input, run, node);
  return stop ? { stop } : { placed: placedPods };
}

/** The pool's last node goes only when a new node can be told from the config alone. */
function lastNodeStop(
  input: Pick<BulkRemovalInput, "context">,
  removed: readonly NodeInfo[],
  node: NodeInfo,
): BulkStop | undefined {
  if (!emptiesPool(input.context, removed.length)) return undefined;
  const gaps = newNodeGaps(input.context);
  return gapsClosed(gaps) ? undefined : { kind: "last-node", node: node.name, ...gaps };
}

/** Blockers or pods to evict: the node is not empty, so it is not removed with others. */
function occupiedStop(input: BulkRemovalInput, node: NodeInfo): BulkStop | undefined {
  const blockers = input.blockers.get(node.name) ?? [];
  if (blockers.length > 0) return { kind: "blockers", node: node.name, blockers };
  const pods = evictablePods(
    input.context.index.podsByNode.get(node.name) ?? [],
    input.context.pool.expendablePriority,
  ).length;
  return pods > 0 ? { kind: "not-empty", node: node.name, pods } : undefined;
}

/**
 * Without the nodes already taken, the pool must still be below every scale-down threshold
 * (`placed`: where what moves goes with them gone).
 */
function neededStop(
  input: BulkRemovalInput,
  removed: readonly NodeInfo[],
  node: NodeInfo,
  placed: Placed,
): BulkStop | undefined {
  const { context, checks } = input;
  const scaleDown = context.pool.scaleDown;
  for (const check of checks) {
    const percent = check.percent ?? context.utilisation[check.resource].percent;
    const projected =
      percent === undefined ? undefined : projectPercent(context, removed, check.resource, percent);
    if (projected === undefined || projected >= scaleDown[check.resource])
      return needed(node, check.resource, projected, scaleDown[check.resource]);
  }
  const requests = projectRequests(context, removed, placed);
  if (requests === undefined || requests.percent >= scaleDown.requests)
    return needed(
      node,
      "requests",
      requests?.percent,
      scaleDown.requests,
      requests?.resource,
      countedIn(requests),
    );
  return undefined;
}

/** The pods counted with the pool's own requests in `requests` (`projectRequests`), when any. */
function countedIn(requests: ReturnType<typeof projectRequests>): {
  pending?: number;
  moved?: { pods: number; pools: string[] };
} {
  return {
    ...(requests?.pending ? { pending: requests.pending } : {}),
    ...(requests?.moved ? { moved: requests.moved } : {}),
  };
}

function needed(
  node: NodeInfo,
  resource: Resource | "requests",
  projected: number | undefined,
  threshold: number,
  requestsOf?: Resource,
  counted: ReturnType<typeof countedIn> = {},
): BulkStop {
  return {
    kind: "needed",
    node: node.name,
    resource,
    ...(requestsOf ? { requestsOf } : {}),
    ...counted,
    threshold,
    ...(projected !== undefined ? { projected } : {}),
  };
}

/** With all of them gone, utilisation must stay the margin below the scale-up thresholds. */
function projectionStop(
  input: BulkRemovalInput,
  removed: readonly NodeInfo[],
  node: NodeInfo,
  placed: Placed,
): BulkStop | undefined {
  for (const { resource, requestsOf, projected, limit, ...counted } of projections(
    input,
    removed,
    placed,
  ))
    if (projected === undefined || projected >= limit)
      return {
        kind: "projection",
        node: node.name,
        resource,
        ...(requestsOf ? { requestsOf } : {}),
        ...counted,
        limit,
        ...(projected !== undefined ? { projected } : {}),
      };
  return undefined;
}

/**
 * The projections with `removed` gone: each was checked as the last of them joined the run, so
 * each is known and below its limit.
 */
function bulkProjection(
  input: BulkRemovalInput,
  removed: readonly NodeInfo[],
  placed: Placed,
): BulkProjection[] {
  return projections(input, removed, placed).flatMap(
    ({ resource, requestsOf, projected, limit, ...counted }) =>
      projected === undefined
        ? []
        : [{ resource, ...(requestsOf ? { requestsOf } : {}), ...counted, projected, limit }],
  );
}

/**
 * Utilisation once `removed` are gone, with the limit the margin below each scale-up threshold
 * (`placed`: where what moves goes with them gone).
 */
function projections(
  input: BulkRemovalInput,
  removed: readonly NodeInfo[],
  placed: Placed,
): {
  resource: Resource | "requests";
  requestsOf?: Resource;
  pending?: number;
  moved?: { pods: number; pools: string[] };
  projected: number | undefined;
  limit: number;
}[] {
  const { context, checks } = input;
  const { scaleUp, scaleDown } = context.pool;
  const limits = RESOURCES.map((resource) => {
    const check = checks.find((entry) => entry.resource === resource);
    const percent = check?.percent ?? context.utilisation[resource].percent;
    const projected =
      percent === undefined ? undefined : projectPercent(context, removed, resource, percent);
    return { resource, projected, limit: scaleUp[resource] - scaleDown.margin };
  });
  if (scaleUp.requests === undefined) return limits;
  // The higher of cpu and memory requests, named as the single removal's projection names it.
  const requests = projectRequests(context, removed, placed);
  return [
    ...limits,
    {
      resource: "requests",
      ...(requests ? { requestsOf: requests.resource } : {}),
      ...countedIn(requests),
      projected: requests?.percent,
      limit: scaleUp.requests - scaleDown.margin,
    },
  ];
}

/**
 * Places what must find room once the empty nodes `names` go: the pending pods the plan counted
 * on the pool's room, and the pods of its cordoned nodes (an empty node has none of its own).
 */
export function placeBulkMoving(
  context: PoolContext,
  pendingOnExisting: readonly PodInfo[],
  names: readonly string[],
): MoveResult {
  const cordoned = cordonedPods(context, names);
  return placeMoving(context, [...pendingOnExisting, ...cordoned.pods], names, cordoned.nodes);
}

/**
 * The run stops at `node` when pods are left without room: they are named, with their causes,
 * and those among them that the decreases of pools before this one move onto its nodes, with
 * those pools.
 */
function podsFitStop(
  context: PoolContext,
  node: NodeInfo,
  unplaced: Parameters<typeof unplacedReports>[0],
): BulkStop | undefined {
  if (unplaced.length === 0) return undefined;
  const left = new Set(unplaced.map((entry) => entry.pod));
  const pods: string[] = [];
  const pools: string[] = [];
  for (const { pod, pool } of context.roomTaken ?? []) {
    if (pool === undefined || pool === context.pool.name || !left.has(pod)) continue;
    pods.push(podKey(pod));
    if (!pools.includes(pool)) pools.push(pool);
  }
  return {
    kind: "pods-fit",
    node: node.name,
    unplaced: unplaced.map((entry) => podKey(entry.pod)),
    causes: unplacedReports(unplaced),
    ...(pods.length > 0 ? { moved: { pods, pools } } : {}),
  };
}
