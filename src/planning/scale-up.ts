import { isExpendable } from "./blockers.ts";
import { minAsked, raisingSchedule } from "./bounds.ts";
import { podKey } from "./cluster-index.ts";
import { joiningNodes } from "./hysteresis.ts";
import type { RequestsCheck, Resource, Trigger } from "./node-decision.ts";
import { modelNodes, newNodeRoom } from "./node-shape.ts";
import {
  disabledPendingReport,
  fitUnknown,
  type NeverFitPod,
  newNodeNumber,
  type PackResult,
  type PendingPod,
  type PodPlacement,
  packPendingPods,
  pendingPod,
} from "./packing.ts";
import { peerRules, placePeer } from "./peer-rules.ts";
import { type PoolContext, roomUnknown } from "./pool-context.ts";
import type { NodeInfo, PodInfo } from "./snapshot.ts";
import { type SustainedCheck, sustainedCheck } from "./utilisation.ts";
import { csiVolumes, newNodeVolumeLimits } from "./volume-limits.ts";

const RESOURCES: readonly Resource[] = ["cpu", "memory"];

export interface ScaleUpEvaluation {
  triggers: Trigger[];
  checks: SustainedCheck[];
  /** Requests against `scaleUp.requests`, met or not; empty when it is not set. */
  requestsChecks: RequestsCheck[];
  /** Nodes wanted on top of the current count, before clamping to the bounds. */
  newNodes: number;
  pending: PackResult;
  /** Pending pods that need new nodes but have not waited `scaleUp.pendingFor` yet. */
  waiting?: PendingWait;
}

export interface PendingWait {
  pods: number;
  /** When the first of them will have waited long enough (ISO 8601). */
  until: string;
}

/**
 * Every reason to add nodes, each with how many it needs: the min (or a schedule's min) not
 * reached, pending pods that pack onto new nodes, utilisation that stayed above its threshold
 * for the window, and (when configured) requests above their threshold.
 */
export function evaluateScaleUp(
  context: PoolContext,
  pendingPods: readonly PodInfo[],
): ScaleUpEvaluation {
  const { pool, bounds } = context;
  const base = context.current ?? context.members.length;
  const triggers: Trigger[] = [];
  let newNodes = 0;
  if (context.current !== undefined && context.current < bounds.effectiveMin) {
    const schedule = raisingSchedule(bounds);
    const asked = minAsked(bounds);
    triggers.push({
      kind: "below-min",
      current: context.current,
      min: bounds.effectiveMin,
      ...(schedule ? { schedule } : {}),
      ...(asked === undefined ? {} : { asked }),
    });
    newNodes = bounds.effectiveMin - context.current;
  }
  // Nodes the repo already asks for that are not Ready yet take pending pods too: the first
  // nodes the packing opens are theirs, and only the rest are more than the count.
  const awaited = awaitedCount(context);
  const pending = packPending(
    context,
    pendingPods,
    Math.max(0, bounds.effectiveMax - base + awaited),
  );
  if (awaited > 0) pending.awaited = Math.min(awaited, pending.neededNewNodes);
  const waiting = pendingWait(context, pendingPods, pending);
  const beyondCount = Math.max(0, pending.neededNewNodes - awaited);
  if (beyondCount > 0 && !waiting) {
    // Pods the nodes on their way take are not counted: only those beyond the count are.
    const beyondAwaited = pending.onNew.filter((pod) => newNodeNumber(pod.node) > awaited);
    triggers.push({
      kind: "pending-pods",
      pods: beyondAwaited.length + pending.overMax.length,
      newNodes: beyondCount,
    });
    newNodes = Math.max(newNodes, beyondCount);
  }
  const checks: SustainedCheck[] = [];
  for (const resource of RESOURCES) {
    const check = sustainedCheck({
      resource,
      direction: "above",
      threshold: pool.scaleUp[resource],
      windowMs: pool.scaleUp.window,
      utilisation: context.utilisation[resource],
      history: context.history[resource],
      now: context.now,
    });
    checks.push(check);
    if (check.outcome !== "met" || check.percent === undefined) continue;
    const nodes = nodesToBringBelow(context, resource, check.percent, pool.scaleUp[resource]);
    triggers.push({
      kind: "utilisation",
      resource,
      percent: check.percent,
      threshold: check.threshold,
      windowMs: check.windowMs,
      basis: check.basis,
      newNodes: nodes,
    });
    newNodes = Math.max(newNodes, nodes);
  }
  const requestsChecks: RequestsCheck[] = [];
  const requestsThreshold = pool.scaleUp.requests;
  if (requestsThreshold !== undefined) {
    for (const resource of RESOURCES) {
      const { requestsPercent: percent, requestsUnread: unread } = context.utilisation[resource];
      const met = percent !== undefined && percent >= requestsThreshold;
      requestsChecks.push({
        resource,
        threshold: requestsThreshold,
        ...(percent === undefined ? {} : { percent }),
        met,
        ...(unread ? { unread } : {}),
      });
      if (percent === undefined || !met) continue;
      // A new node brings its DaemonSets' requests along with its allocatable; while they are
      // unknown, one node at a time.
      const overhead = context.shape?.daemonSetOverhead[resource];
      const nodes =
        overhead === undefined
          ? 1
          : nodesToBringBelow(context, resource, percent, requestsThreshold, overhead);
      triggers.push({
        kind: "requests",
        resource,
        percent,
        threshold: requestsThreshold,
        newNodes: nodes,
      });
      newNodes = Math.max(newNodes, nodes);
    }
  }
  const evaluation: ScaleUpEvaluation = { triggers, checks, requestsChecks, newNodes, pending };
  if (waiting) evaluation.waiting = waiting;
  return evaluation;
}

/**
 * Takes out of `up` the pods another pool takes (`takenBy`: pod key → pool; a later pool that
 * claimed it, or a held pool that let it go and no pool claimed), listing them with that pool:
 * one no new node of this pool could hold is not said never to fit, and one beyond its max (or
 * host cap) is not left pending, nor are the new nodes this pool wanted for such pods alone
 * wanted: the pending-pods trigger and the nodes wanted are counted again from what is left.
 * One no new node of this pool could hold that another pool left pending beyond its own max
 * (`leftBy`, pod key → that pool) is listed with that pool too, not said never to fit.
 */
export function handOverBeyondMax(
  up: ScaleUpEvaluation,
  takenBy: ReadonlyMap<string, string>,
  context: PoolContext,
  leftBy: ReadonlyMap<string, string> = new Map(),
): void {
  const { pending } = up;
  // A pod whose fit here is unknown, not "no", stays: no node comes for it, and it may need
  // the room of this pool's nodes.
  const owner = (pod: NeverFitPod | PendingPod) => {
    const left = "reason" in pod && fitUnknown(pod.reason) ? undefined : leftBy.get(pod.pod);
    const pool = takenBy.get(pod.pod) ?? left;
    return pool === context.pool.name ? undefined : pool;
  };
  const neverHere = pending.neverFit.filter((pod) => owner(pod) !== undefined);
  const gone = pending.overMax.filter((pod) => takenBy.has(pod.pod));
  if (neverHere.length === 0 && gone.length === 0) return;
  pending.neverFit = pending.neverFit.filter((pod) => owner(pod) === undefined);
  pending.elsewhere = [
    ...(pending.elsewhere ?? []),
    ...neverHere.map((never) => {
      const { pod, cpu, memory, unknown, ephemeralStorage, extended, message } = never;
      return {
        pod,
        cpu,
        memory,
        ...(unknown ? { unknown } : {}),
        ...(ephemeralStorage ? { ephemeralStorage } : {}),
        ...(extended ? { extended } : {}),
        ...(message ? { message } : {}),
        pool: owner(never) as string,
      };
    }),
    ...gone.map((pod) => ({ ...pod, pool: owner(pod) as string, beyondMax: true as const })),
  ];
  if (gone.length === 0) return;
  pending.overMax = pending.overMax.filter((pod) => !takenBy.has(pod.pod));
  recountPending(up, context, gone.length);
}

/**
 * For a pool that takes no action (its count unknown, say): takes out of `up` the pods it would
 * have put on new nodes that a later pool takes (`takenBy`: pod key → pool), listing them with
 * that pool (`held`), as no node of this pool is coming for them. The pending-pods trigger and
 * the nodes wanted are counted again from what is left.
 */
export function handOverHeld(
  up: ScaleUpEvaluation,
  takenBy: ReadonlyMap<string, string>,
  context: PoolContext,
): void {
  const { pending } = up;
  const taker = (pod: string) => {
    const pool = takenBy.get(pod);
    return pool === context.pool.name ? undefined : pool;
  };
  const gone = pending.onNew.filter((placement) => taker(placement.pod) !== undefined);
  if (gone.length === 0) return;
  pending.onNew = pending.onNew.filter((placement) => taker(placement.pod) === undefined);
  pending.elsewhere = [
    ...(pending.elsewhere ?? []),
    ...gone.map(({ node: _, ...pod }) => ({
      ...pod,
      pool: taker(pod.pod) as string,
      held: true as const,
    })),
  ];
  pending.newNodes = new Set(pending.onNew.map((placement) => placement.node)).size;
  // With no pod left on a new node, no count was packed within.
  if (pending.onNew.length === 0) delete pending.newNodeVolumeLimits;
  recountPending(up, context, gone.length);
  if (pending.awaited !== undefined)
    pending.awaited = Math.min(pending.awaited, pending.neededNewNodes);
}

/**
 * Counts again, once `gone` pods went to another pool, how many new nodes the pods left need,
 * and the pending-pods trigger and the nodes wanted with them.
 */
function recountPending(up: ScaleUpEvaluation, context: PoolContext, gone: number): void {
  const { pending } = up;
  // Pods another pool takes are not this pool's to wait for (`scaleUp.pendingFor`): how many
  // wait and until when is told again from those left, and one of them that waited long enough
  // no longer adds nodes for the rest.
  const waiting = pendingWait(context, context.index.pending, pending);
  if (waiting) up.waiting = waiting;
  else delete up.waiting;
  const stillNeeded = new Set(pending.overMax.map((pod) => pending.overMaxNodes.get(pod.pod)));
  pending.neededNewNodes = pending.newNodes + stillNeeded.size;
  const awaited = pending.awaited ?? 0;
  const trigger = up.triggers.find((entry) => entry.kind === "pending-pods");
  if (trigger?.kind === "pending-pods") {
    trigger.pods -= gone;
    trigger.newNodes = Math.max(0, pending.neededNewNodes - awaited);
    if (trigger.pods <= 0 || trigger.newNodes === 0 || waiting)
      up.triggers.splice(up.triggers.indexOf(trigger), 1);
  }
  up.newNodes = Math.max(0, ...up.triggers.map((trigger) => nodesAskedFor(trigger) ?? 0));
}

/** The new nodes a scale-up trigger asks for; undefined for a trigger of another direction. */
export function nodesAskedFor(trigger: Trigger): number | undefined {
  switch (trigger.kind) {
    case "below-min":
      return trigger.min - trigger.current;
    case "pending-pods":
    case "utilisation":
    case "requests":
      return trigger.newNodes;
    case "above-max":
    case "unready-node":
    case "underutilised":
      return undefined;
  }
}

/**
 * Set when every pod that needs a new node has been unschedulable for less than
 * `scaleUp.pendingFor` (counted from its PodScheduled=False transition, else its creation, as for
 * a pod the scheduler has not tried yet, which has no such transition; a time that cannot be read
 * counts as long ago). One pod that waited long enough adds nodes for all of them.
 */
function pendingWait(
  context: PoolContext,
  pods: readonly PodInfo[],
  pending: PackResult,
): PendingWait | undefined {
  const wait = context.pool.scaleUp.pendingFor;
  const needy = [...pending.onNew, ...pending.overMax];
  if (wait <= 0 || needy.length === 0) return undefined;
  const byKey = new Map(pods.map((pod) => [podKey(pod), pod]));
  const now = context.now.getTime();
  let until = Number.POSITIVE_INFINITY;
  for (const entry of needy) {
    const pod = byKey.get(entry.pod);
    const since = pod ? Date.parse(pod.unschedulable?.since ?? pod.createdAt) : Number.NaN;
    if (Number.isNaN(since) || now - since >= wait) return undefined;
    until = Math.min(until, since + wait);
  }
  return { pods: needy.length, until: new Date(until).toISOString() };
}

function packPending(
  context: PoolContext,
  pods: readonly PodInfo[],
  maxNewNodes: number,
): PackResult {
  if (!context.pool.scaleUp.pendingPods) return disabledPendingReport();
  const template = context.shape
    ? {
        traits: context.shape,
        room: newNodeRoom(context.shape),
        unknownExtended: context.shape.unknownExtended ?? [],
      }
    : undefined;
  const cutoff = context.pool.expendablePriority;
  const counted = pods.filter((pod) => !isExpendable(pod, cutoff));
  // Known CSI volume limits keep a pod off an existing node its volumes would take above them,
  // and off a new node above the least count of the pool's nodes it is learned from; unknown
  // ones send no pod to a new node on a guess (the scheduler's message tells then).
  const limits = context.csiVolumeLimits === "unknown" ? undefined : context.csiVolumeLimits;
  const newNode = newNodeVolumeLimits(modelNodes(context.members), limits);
  // The pending pods earlier pools counted on shared nodes took their room there already; their
  // host ports, CSI volumes and pod (anti-)affinity are seen there too, as the scheduler will.
  const earlier = context.earlierPending ?? [];
  const rules = peerRules(
    context.index,
    earlier.length > 0 ? [...counted, ...earlier.map((entry) => entry.pod)] : counted,
    [],
    limits,
    newNode,
  );
  if (rules)
    for (const { pod, node } of earlier) {
      const bin = context.existingBins.find((entry) => entry.name === node);
      if (bin) placePeer(rules, pod, bin);
    }
  const result = packPendingPods(counted, context.existingBins, template, maxNewNodes, rules);
  keptOffUnoffered(result.onNew, context);
  if (newNode) {
    // The count a new node was packed within, for the drivers of the pods that go on one.
    const onNew = new Set(result.onNew.map((placement) => placement.pod));
    const drivers = new Set(
      counted
        .filter((pod) => onNew.has(podKey(pod)))
        .flatMap((pod) => csiVolumes(pod).map((volume) => volume.driver)),
    );
    const judged = Object.entries(newNode)
      .filter(([driver]) => drivers.has(driver))
      .map(([driver, limit]) => ({ driver, limit }));
    if (judged.length > 0) result.newNodeVolumeLimits = judged;
  }
  result.considered = pods.length;
  result.expendable = pods
    .filter((pod) => isExpendable(pod, cutoff))
    .map((pod) => ({ ...pendingPod(pod), priority: pod.priority ?? 0, below: cutoff }));
  if (context.index.podsUnread) result.unread = ["pods"];
  return result;
}

/**
 * Adds the nodes the packing offers nothing to what kept each pod that goes on a new node off the
 * existing nodes: those not Ready, which kube-scheduler keeps pods off by their
 * `node.kubernetes.io/not-ready` (or `unreachable`) taint, and the Ready nodes whose room is
 * unknown (a request of one of their pods, or their allocatable, could not be read), whose room is
 * not counted on. The pool's own nodes are named first, as they are offered first. A pod kept off
 * by the nodes' volume limit, or one that goes with the pods its affinity needs while an existing
 * node would take it alone, says nothing of them, as it says nothing of the Ready nodes.
 */
function keptOffUnoffered(onNew: PodPlacement[], context: PoolContext): void {
  const own = new Set(context.members.map((node) => node.name));
  const offered = new Set(context.existingBins.map((bin) => bin.name));
  const all = [...context.index.nodes.values()];
  const counted = (nodes: NodeInfo[]) => {
    const first = nodes.find((node) => own.has(node.name)) ?? nodes[0];
    return first ? { nodes: nodes.length, node: first.name } : undefined;
  };
  // The nodes joining are the first nodes the packing opens (`new-1` on, the nodes the repo asks
  // for): pods are counted on them there, not kept off them for not being Ready yet.
  const joining = new Set(
    joiningNodes(context.members, context.pool, context.facts, context.now).map(
      (node) => node.name,
    ),
  );
  const opened = awaitedCount(context) >= joining.size;
  const notReady = counted(
    all.filter((node) => !node.ready && !(opened && joining.has(node.name))),
  );
  const unknownRoom = counted(
    all.filter(
      (node) =>
        node.ready && !offered.has(node.name) && roomUnknown(node, context.index) !== undefined,
    ),
  );
  if (!notReady && !unknownRoom) return;
  const added = (notReady?.nodes ?? 0) + (unknownRoom?.nodes ?? 0);
  for (const placement of onNew) {
    const kept = placement.keptOff;
    // Without a reason, the Ready nodes were not judged one by one, unless there are none.
    if (kept ? kept.volumeLimit : context.existingBins.length > 0) continue;
    placement.keptOff = {
      ...kept,
      nodes: (kept?.nodes ?? 0) + added,
      ...(notReady ? { notReady } : {}),
      ...(unknownRoom ? { roomUnknown: unknownRoom } : {}),
    };
  }
}

/**
 * New nodes that bring `percent` of today's allocatable below `threshold`, each adding a new
 * node's allocatable (known also when the room its DaemonSets leave is not) and `loadPerNode`
 * to what is measured; one when the new node's size is unknown, or when what a new node brings
 * is already at the threshold of its own allocatable.
 */
function nodesToBringBelow(
  context: PoolContext,
  resource: Resource,
  percent: number,
  threshold: number,
  loadPerNode = 0,
): number {
  const allocatable = context.utilisation[resource].allocatable;
  const perNode = (context.shape?.allocatable ?? context.newNodeAllocatable)?.[resource];
  if (allocatable === undefined || !perNode) return 1;
  const load = (percent / 100) * allocatable;
  const needed = (load * 100) / threshold - allocatable;
  // Each node's load needs `100 / threshold` times as much allocatable to stay below it.
  const freedPerNode = perNode - (loadPerNode * 100) / threshold;
  if (freedPerNode <= 0) return 1;
  return Math.max(1, Math.floor(needed / freedPerNode) + 1);
}

/**
 * The nodes the repo asks for that are not Ready yet (joining, or not listed yet): the count less
 * the pool's nodes that are not on their way (Ready, or there before the change and not Ready).
 * The packing opens them first, as `new-1` to `new-N`.
 */
function awaitedCount(context: PoolContext): number {
  if (context.current === undefined) return 0;
  const joining = joiningNodes(context.members, context.pool, context.facts, context.now);
  return Math.max(0, context.current - (context.members.length - joining.length));
}
