import { type DrainBlocker, emptyDirDeleted, expendablePods } from "./blockers.ts";
import { minAsked, raisingSchedule } from "./bounds.ts";
import { bulkRemoval, forcedRemoval, type RemovalRun } from "./bulk-removal.ts";
import { podKey } from "./cluster-index.ts";
import { awaitedGpus } from "./gpu-coming.ts";
import { emptiesPool, gapsClosed, newNodeGaps } from "./last-node.ts";
import type {
  PodPlacement,
  Resource,
  ScaleDownCondition,
  ScaleDownReport,
  UncountedNode,
} from "./node-decision.ts";
import { ASKS_UNKNOWN, type UnplacedCause, unplacedReports } from "./packing.ts";
import {
  countedOnPool,
  nodeStateWhy,
  otherPoolWhy,
  type PoolContext,
  placeDecrease,
} from "./pool-context.ts";
import { isCordoned } from "./pool-members.ts";
import { projectPercent, projectRequests } from "./projection.ts";
import { nodeToRemove } from "./removal.ts";
import { placementConflict } from "./scheduling.ts";
import type { NodeInfo, PodInfo } from "./snapshot.ts";
import { type SustainedCheck, sustainedCheck } from "./utilisation.ts";

const RESOURCES: readonly Resource[] = ["cpu", "memory"];

export interface ScaleDownEvaluation {
  report: ScaleDownReport;
  checks: SustainedCheck[];
  /** Usage and requests stayed below their thresholds: a node is not needed. */
  underutilised: boolean;
  /**
   * The node the naming rule picks can go: known, no blockers, its pods fit elsewhere, and, when
   * it is the pool's last, a new node can be told from the config alone.
   */
  removable: boolean;
  /** Removable, and the utilisation projected without it stays below scale-up minus margin. */
  projectionMet: boolean;
  candidate?: string;
  /**
   * The candidate is cordoned: it goes only when the count must come down (above the max or the
   * host cap), not on low usage nor for not being Ready.
   */
  candidateCordoned: boolean;
  /**
   * Where what moves goes, each pod with the node it is placed on: `[0]` once the candidate is
   * gone (its pods and those moving with them), then for a run of nodes (`removals`), once each
   * node and those before it are gone. A decrease cut short removes fewer: the room its pods take
   * is the one for that many nodes.
   */
  placements: { pod: PodInfo; node: string }[][];
  /**
   * The nodes a scale-down removes once every condition is met: the candidate alone, or
   * with the empty nodes after it (`report.bulk`), or above the max (or the host cap) the nodes
   * down to it that can go. Empty while any condition is not met, unless above the max.
   */
  removals: string[];
}

/**
 * The conditions for removing one node, all evaluated so the explanation lists each: usage
 * below the thresholds for the unneeded time, requests below theirs, the count above the min,
 * the node the naming rule picks, not cordoned, no blockers on it, its pods (and pending pods
 * counted on existing room) fitting on the other nodes, the projected utilisation clearly below
 * the scale-up thresholds, and for the pool's last node a shape a new node can take without it.
 */
export function evaluateScaleDown(
  context: PoolContext,
  blockers: ReadonlyMap<string, DrainBlocker[]>,
  pendingOnExisting: readonly PodInfo[],
  unread: readonly string[] = [],
): ScaleDownEvaluation {
  const { pool } = context;
  const conditions: ScaleDownCondition[] = [];
  const checks = RESOURCES.map((resource) =>
    sustainedCheck({
      resource,
      direction: "below",
      threshold: pool.scaleDown[resource],
      windowMs: pool.scaleDown.unneededTime,
      utilisation: context.utilisation[resource],
      history: context.history[resource],
      now: context.now,
    }),
  );
  for (const check of checks)
    conditions.push({ kind: "utilisation", met: check.outcome === "met", check });
  for (const resource of RESOURCES) conditions.push(requestsCondition(context, resource));
  const underutilised = conditions.every((condition) => condition.met);
  const schedule = raisingSchedule(context.bounds);
  const asked = minAsked(context.bounds);
  const aboveMin = {
    kind: "above-min" as const,
    met: context.current !== undefined && context.current > context.bounds.effectiveMin,
    min: context.bounds.effectiveMin,
    ...(schedule ? { schedule } : {}),
    ...(asked === undefined ? {} : { asked }),
    ...(context.current !== undefined ? { current: context.current } : {}),
  };
  conditions.push(aboveMin);
  const removal = removalConditions(context, blockers, pendingOnExisting, checks, unread);
  conditions.push(...removal.conditions);
  const report: ScaleDownReport = { enabled: pool.scaleDown.enabled, conditions };
  const evaluation: ScaleDownEvaluation = {
    report,
    checks,
    underutilised,
    removable: removal.removable,
    projectionMet: removal.projectionMet,
    candidateCordoned: conditions.some((condition) => condition.kind === "not-cordoned"),
    placements: [removal.placedPods],
    removals: [],
  };
  if (removal.candidate) evaluation.candidate = removal.candidate;
  const first = context.members.find((member) => member.name === removal.candidate);
  if (!pool.scaleDown.enabled || !first) return evaluation;
  const bulk = conditions.every((condition) => condition.met)
    ? bulkRemoval({
        context,
        blockers,
        pendingOnExisting,
        checks,
        first,
        placed: removal.placedPods,
      })
    : undefined;
  // More than one node above the max (or the host cap): one decrease comes down to it, as far
  // as its nodes can go, unless empty nodes of an idle pool reach further.
  const over = (context.current ?? 0) - context.bounds.effectiveMax;
  const forced =
    over > 1 && removal.removable
      ? forcedRemoval({ context, blockers, pendingOnExisting, first, placed: removal.placedPods })
      : undefined;
  const run = forced && (!bulk || forcedReachesFurther(forced, bulk)) ? forced : bulk;
  if (!run) return evaluation;
  report.bulk = run.report;
  evaluation.removals = run.report.nodes;
  // With more nodes of the run gone, what moves goes elsewhere than with the first alone: the
  // room the decrease takes from the pools after this one is that of the nodes it removes.
  evaluation.placements = run.placements;
  return evaluation;
}

/**
 * Whether the run down to the max is the one the decrease takes rather than the run of empty
 * nodes: when it removes more, and when it removes as many but stops short of the bound, since
 * its stop is then why the count stays above it. The empty run's stop there (`maxEmptyBulk`,
 * a node with pods) is no limit above the bound, and would say the wrong thing.
 */
function forcedReachesFurther(forced: RemovalRun, bulk: RemovalRun): boolean {
  const taken = forced.report.nodes.length - bulk.report.nodes.length;
  return taken > 0 || (taken === 0 && forced.report.stop.kind !== "max");
}

/**
 * Requests below `scaleDown.requests` for `unneededTime`, as far as the caller's history shows
 * (the app's samples, the backtest's): the highest of the samples within the window and the
 * current value must be below, so a node that emptied a minute ago (a rollout between two pods,
 * a job that just ended) is not removed at once, even when the samples since a restart cover
 * only part of the window. Without samples (a one-off plan) requests are judged as they are now.
 */
function requestsCondition(context: PoolContext, resource: Resource): ScaleDownCondition {
  const { requestsPercent: current, requestsUnread: unread } = context.utilisation[resource];
  const threshold = context.pool.scaleDown.requests;
  if (current === undefined)
    return { kind: "requests", met: false, resource, threshold, ...(unread ? { unread } : {}) };
  const now = context.now.getTime();
  const since = now - context.pool.scaleDown.unneededTime;
  const window = context.requestsHistory[resource].filter(
    (sample) => sample.at >= since && sample.at <= now,
  );
  const percent = Math.max(current, ...window.map((sample) => sample.percent));
  const basis = window.length > 0 ? "history" : "current";
  return { kind: "requests", met: percent < threshold, resource, percent, threshold, basis };
}

function removalConditions(
  context: PoolContext,
  blockers: ReadonlyMap<string, DrainBlocker[]>,
  pendingOnExisting: readonly PodInfo[],
  checks: readonly SustainedCheck[],
  unread: readonly string[],
): {
  conditions: ScaleDownCondition[];
  removable: boolean;
  projectionMet: boolean;
  candidate?: string;
  placedPods: { pod: PodInfo; node: string }[];
} {
  if (context.current === undefined)
    return {
      conditions: [
        { kind: "candidate", met: false, problem: "the target's current value is unknown" },
      ],
      removable: false,
      projectionMet: false,
      placedPods: [],
    };
  const pick = nodeToRemove(
    context.members.map((node) => node.name),
    context.current,
    context.pool.removal,
  );
  if ("problem" in pick)
    return {
      conditions: [{ kind: "candidate", met: false, problem: pick.problem }],
      removable: false,
      projectionMet: false,
      placedPods: [],
    };
  const node = context.members.find((member) => member.name === pick.node) as NodeInfo;
  const nodeBlockers = blockers.get(node.name) ?? [];
  const onNode = context.index.podsByNode.get(node.name) ?? [];
  // Expendable pods are evicted with the node and need no room elsewhere: named, not counted.
  const dropped = expendablePods(onNode, context.pool.expendablePriority);
  // Scratch the pool lets go: the drain deletes it, and the operator is told whose.
  const deleted = emptyDirDeleted(onNode, context.pool.scaleDown.deleteEmptyDirData);
  // The pods of a cordoned node (one about to be drained) need room on the nodes left too.
  const { pods, cordoned, unplaced, outside, placedPods, taken, full } = placeDecrease(
    context,
    [node.name],
    pendingOnExisting,
  );
  const uncounted = uncountedNodes(
    context,
    node.name,
    unplaced.filter((entry) => !UNJUDGED.has(entry.cause)).map((entry) => entry.pod),
    full,
  );
  const moved = movedOnto(context);
  const projections = projectionConditions(context, node, checks, placedPods);
  const conditions: ScaleDownCondition[] = [
    { kind: "candidate", met: true, node: node.name },
    // A cordon is a person's: the node may be down for maintenance, to come back. Terraform
    // `count` destroys this node whatever, so no other goes instead.
    ...(isCordoned(node)
      ? [{ kind: "not-cordoned" as const, met: false as const, node: node.name }]
      : []),
    // A GPU on its way: the node just came up, and what runs on it once the GPU is advertised
    // is not shown by its usage yet. Above the max it goes all the same, as a cordoned one.
    ...gpuAdvertised(context, node.name),
    // A list the blockers rest on that was not read in full may hold one: unknown is not none.
    {
      kind: "no-blockers",
      met: nodeBlockers.length === 0 && unread.length === 0,
      node: node.name,
      blockers: nodeBlockers,
      ...(unread.length > 0 ? { unread: [...unread] } : {}),
      ...(deleted.length > 0 ? { emptyDirDeleted: deleted } : {}),
    },
    // With the pod list read in part, the node may run pods not read, and the others hold
    // pods not read in the room counted as free: whether they fit is unknown.
    {
      kind: "pods-fit",
      met: unplaced.length === 0 && !context.index.podsUnread,
      node: node.name,
      pods: pods.length,
      ...(dropped.length > 0 ? { dropped: dropped.map(podKey) } : {}),
      ...(cordoned.pods.length > 0
        ? { cordoned: { nodes: cordoned.nodes, pods: cordoned.pods.length } }
        : {}),
      ...(pendingOnExisting.length > moved.pods
        ? { pending: pendingOnExisting.length - moved.pods }
        : {}),
      ...(moved.pods > 0 ? { moved } : {}),
      ...placementsOf(pods, placedPods),
      unplaced: unplaced.map((entry) => podKey(entry.pod)),
      causes: unplacedReports(unplaced),
      ...(outside.length > 0 ? { outside } : {}),
      // "No room on any other node", or "none of the nodes with room", would read as wrong
      // beside a node with room that takes no pods.
      ...(unplaced.some((entry) => !UNJUDGED.has(entry.cause)) && uncounted.length > 0
        ? { uncounted }
        : {}),
      ...(unplaced.some((entry) => !UNJUDGED.has(entry.cause)) && taken.length > 0
        ? { outsideTaken: taken }
        : {}),
      ...(context.index.podsUnread ? { unread: ["pods"] } : {}),
    },
    ...projections,
  ];
  // The pool's last node, where the min lets it go: with none left, a new node's shape is the
  // config's alone.
  let regrows = true;
  if (emptiesPool(context, 1) && context.bounds.effectiveMin === 0) {
    const gaps = newNodeGaps(context);
    regrows = gapsClosed(gaps);
    conditions.push({ kind: "last-node", met: regrows, node: node.name, ...gaps });
  }
  return {
    conditions,
    removable:
      nodeBlockers.length === 0 &&
      unread.length === 0 &&
      unplaced.length === 0 &&
      !context.index.podsUnread &&
      regrows,
    projectionMet: projections.every((condition) => condition.met),
    candidate: node.name,
    placedPods,
  };
}

/**
 * Where each of the node's own pods goes once it is gone (the pending pods and the cordoned
 * nodes' pods placed with them aside): none when none of them found room. Matched by key: a pod
 * whose generic ephemeral claim is remade is placed as its replacement, a copy.
 */
function placementsOf(
  pods: readonly PodInfo[],
  placed: readonly { pod: PodInfo; node: string }[],
): { placements?: PodPlacement[] } {
  const own = new Set(pods.map(podKey));
  const placements = placed
    .filter((entry) => own.has(podKey(entry.pod)))
    .map((entry) => ({ pod: podKey(entry.pod), node: entry.node }));
  return placements.length > 0 ? { placements } : {};
}

/** The condition a node whose GPU is on its way does not meet; none for another node. */
function gpuAdvertised(context: PoolContext, node: string): ScaleDownCondition[] {
  const awaited = awaitedGpus(context.gpuComing, node);
  return awaited ? [{ kind: "gpu-advertised", met: false, node, ...awaited }] : [];
}

/**
 * How many of the pods moving with the node the decreases of pools before this one move onto the
 * pool's nodes (the others are pending pods counted there), and those pools.
 */
function movedOnto(context: PoolContext): { pods: number; pools: string[] } {
  const { moved } = countedOnPool(context);
  return { pods: moved.length, pools: [...new Set(moved.map(({ pool }) => pool))] };
}

/** Causes that say why no node was judged, rather than which nodes had room or rules allowed. */
const UNJUDGED: ReadonlySet<UnplacedCause> = new Set(["no-node", ...ASKS_UNKNOWN]);

/**
 * The nodes whose room the pods to move are not given, and why: not Ready, cordoned (its own pods
 * are on their way out), or its room unknown (its pods' requests, or its allocatable). The pool's
 * other nodes, then the nodes in no pool that would be offered were they Ready, not cordoned and
 * of known room, then the other pools' nodes not offered (`otherPoolWhy`, or their pool in
 * `full`, its requests headroom spent): those of both whose taints and labels admit one of
 * `unplaced`, the pods that found no node.
 */
function uncountedNodes(
  context: PoolContext,
  removed: string,
  unplaced: readonly PodInfo[],
  full: readonly string[] = [],
): UncountedNode[] {
  const uncounted: UncountedNode[] = [];
  for (const member of context.members) {
    if (member.name === removed) continue;
    const why = nodeStateWhy(member, context.index);
    if (why) uncounted.push({ node: member.name, why });
  }
  // The taints its state brings (not Ready, cordoned) are the reason it gives no room: the
  // pods are judged against the node as it would be once it takes pods again.
  const admits = (node: NodeInfo) => {
    const traits = { ...node, taints: node.taints.filter((taint) => !STATE_TAINTS.has(taint.key)) };
    return unplaced.some((pod) => placementConflict(pod, traits) === undefined);
  };
  for (const node of context.unpooled) {
    const why = nodeStateWhy(node, context.index);
    if (!why || !admits(node)) continue;
    uncounted.push({
      node: node.name,
      why,
      outside: true,
      ...(node.controlPlane === true ? { controlPlane: true as const } : {}),
    });
  }
  for (const { name, nodes } of context.otherPools?.pools ?? []) {
    if (name === context.pool.name) continue;
    for (const node of nodes) {
      const why =
        otherPoolWhy(context, name, node) ?? (full.includes(name) ? "requests" : undefined);
      if (!why || !admits(node)) continue;
      const unknown = why === "requests" && context.otherPools?.headroom.get(name)?.unknown;
      const changeUnknown = why === "withheld" && context.otherPools?.changeUnknown.has(name);
      uncounted.push({
        node: node.name,
        why,
        outside: true,
        pool: name,
        ...(unknown ? { requestsUnknown: true as const } : {}),
        ...(changeUnknown ? { changeUnknown: true as const } : {}),
      });
    }
  }
  return uncounted;
}

/** Taints the node lifecycle controller and a cordon put on a node for its state. */
const STATE_TAINTS: ReadonlySet<string> = new Set([
  "node.kubernetes.io/not-ready",
  "node.kubernetes.io/unreachable",
  "node.kubernetes.io/unschedulable",
]);

/**
 * Utilisation once the node is gone: the value the scale-down check compared (the window's
 * highest, or the percentile) spread over the remaining allocatable, which must stay below the
 * scale-up threshold by the margin so the next plan does not add the node back. `placed`: where
 * the node's placement puts what moves (`projectRequests`).
 */
function projectionConditions(
  context: PoolContext,
  node: NodeInfo,
  checks: readonly SustainedCheck[],
  placed: readonly { pod: PodInfo; node: string }[],
): ScaleDownCondition[] {
  const { pool } = context;
  const conditions: ScaleDownCondition[] = [];
  for (const check of checks) {
    const resource = check.resource;
    const limit = pool.scaleUp[resource] - pool.scaleDown.margin;
    const percent = check.percent ?? context.utilisation[resource].percent;
    const projected =
      percent === undefined ? undefined : projectPercent(context, [node], resource, percent);
    conditions.push({
      kind: "projection",
      met: projected !== undefined && projected < limit,
      resource,
      limit,
      ...(projected !== undefined ? { projected } : {}),
    });
  }
  const requestsThreshold = pool.scaleUp.requests;
  if (requestsThreshold !== undefined) {
    const limit = requestsThreshold - pool.scaleDown.margin;
    const projected = projectRequests(context, [node], placed);
    conditions.push({
      kind: "projection",
      met: projected !== undefined && projected.percent < limit,
      resource: "requests",
      limit,
      ...(projected !== undefined
        ? { requestsOf: projected.resource, projected: projected.percent }
        : {}),
      ...(projected?.pending ? { pending: projected.pending } : {}),
      ...(projected?.moved ? { moved: projected.moved } : {}),
    });
  }
  return conditions;
}
