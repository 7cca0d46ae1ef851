import type { PoolConfig } from "../policy/repo-config.ts";
import { blockerListsUnread, type DrainBlocker, nodeBlockers } from "./blockers.ts";
import { maxBound, minAsked, poolBounds, raisingSchedule } from "./bounds.ts";
import { type ClusterIndex, indexCluster, podKey } from "./cluster-index.ts";
import { type GpuComing, gpusComing } from "./gpu-coming.ts";
import { hysteresisHolds, joiningNodes, unreadyHold } from "./hysteresis.ts";
import type {
  BoundsReport,
  BulkStop,
  Hold,
  NodeAction,
  NodeDecision,
  PullRequestAction,
  PullRequestCloseReason,
  Resource,
  ScaleDownReport,
  Trigger,
  UncoveredCheck,
} from "./node-decision.ts";
import type { NodePlanInput, PoolRepoFacts } from "./node-plan-input.ts";
import { newNodeShapeOrWhy } from "./node-shape.ts";
import { ASKS_UNKNOWN, type Bin, fitUnknown, type PodPlacement } from "./packing.ts";
import { resolveNamespaceSelectors } from "./pod-affinity.ts";
import {
  clusterBins,
  cordonedPods,
  countedOnPool,
  nodeStateWhy,
  type OtherPools,
  otherPoolWhy,
  type PoolContext,
  placeDecrease,
} from "./pool-context.ts";
import { isCordoned, measuredNodes, poolMembers, readyAndSchedulable } from "./pool-members.ts";
import { leavingRequests } from "./projection.ts";
import { compareNodeNames, nodesToRemove } from "./removal.ts";
import { safetyHolds } from "./safety.ts";
import { evaluateScaleDown, type ScaleDownEvaluation } from "./scale-down.ts";
import { scaleDownRefusal } from "./scale-down-refusal.ts";
import {
  evaluateScaleUp,
  handOverBeyondMax,
  handOverHeld,
  type ScaleUpEvaluation,
} from "./scale-up.ts";
import { placementConflict } from "./scheduling.ts";
import type { NodeInfo, PodInfo, Snapshot } from "./snapshot.ts";
import { poolHistory, poolRequestsHistory } from "./usage-history.ts";
import { poolUtilisation, type SustainedCheck } from "./utilisation.ts";
import { windowKept } from "./window-kept.ts";

/**
 * The snapshot with its nodes in the order of their names as a person reads them
 * (talos-worker-7 before talos-worker-10): the API server lists them in text order, and every
 * list of nodes a decision gives (not Ready, cordoned, the nodes a pending pod is kept off)
 * follows the order the nodes are met in. Which node a decrease removes is the removal rule's,
 * whatever the order.
 */
function inNamingOrder(snapshot: Snapshot): Snapshot {
  const nodes = [...snapshot.nodes].sort((a, b) => compareNodeNames(a.name, b.name));
  return nodes.every((node, at) => node === snapshot.nodes[at]) ? snapshot : { ...snapshot, nodes };
}

/**
 * Decides, for every configured pool, whether its node count should go up, down (by one node,
 * or by several empty ones at once), or stay, with every reason for and against as data. Pure:
 * reads only its input. Pools are planned in config order; a pending pod that an earlier pool
 * places is not counted again, unless that pool takes no action and would put it on a new node.
 * A pending pod takes free room on any node that admits it, in the pool or not, before a pool
 * adds a node for it. The pods of a node a pool removes may go to another pool's nodes, less the
 * room the decisions before it take there and never onto a node another decision removes
 * (`OtherPools`).
 */
export function planNodes(given: NodePlanInput): NodeDecision[] {
  const input = { ...given, snapshot: inNamingOrder(resolveNamespaceSelectors(given.snapshot)) };
  const index = indexCluster(input.snapshot);
  const { pools } = input.config;
  const members = new Map(
    pools.map((pool) => [pool.name, poolMembers(input.snapshot.nodes, pool.selector)]),
  );
  const bins = clusterBins(input.snapshot.nodes, index);
  const coming = new Map(
    pools.map((pool) => [pool.name, gpusComing(members.get(pool.name) ?? [], pool, input.now)]),
  );
  countOnComingGpus(bins, [...coming.values()].flat());
  const pooled = new Set([...members.values()].flat());
  const unpooled = input.snapshot.nodes.filter((node) => !pooled.has(node));
  let pending: readonly PodInfo[] = index.pending;
  const evaluated: Evaluated[] = [];
  const earlierPending: { pod: PodInfo; node: string }[] = [];
  for (const pool of pools) {
    const facts = input.repo.find((entry) => entry.pool === pool.name);
    const own = members.get(pool.name) ?? [];
    const context = poolContext(input, pool, facts, index, own, sharedBins(bins, own), unpooled);
    const gpus = coming.get(pool.name) ?? [];
    if (gpus.length > 0) context.gpuComing = gpus;
    const overlap = overlapping(pool, own, members);
    if (overlap) context.overlap = overlap;
    if (earlierPending.length > 0) context.earlierPending = [...earlierPending];
    const up = evaluateScaleUp(context, pending);
    earlierPending.push(...up.pending.placedOnExisting);
    // A pool that takes no action adds no node: the pods it would put on new nodes are left to
    // the pools after it, as cluster-autoscaler passes over a node group it cannot scale up.
    const inert = takesNoAction(input.snapshot, context);
    const released = inert ? releaseNewNodePods(up) : [];
    const { claimed } = up.pending;
    if (claimed.size > 0) pending = pending.filter((pod) => !claimed.has(pod));
    evaluated.push({ context, up, inert, released });
  }
  // A pod a later pool takes is that pool's: an earlier one lists it with that pool, neither as
  // never fitting nor as left pending beyond its max, nor as going on a node it does not add.
  // One a held pool let go that no pool took stays the held pool's, whose new node it names:
  // the others list it with that pool, as when the pool claimed it.
  // A held pool hands a pod over only to a pool that claimed it: one held too adds no node.
  // One a pool left pending beyond its max (or host cap) that no pool took is that pool's too:
  // the others no new node of which holds it list it with that pool, not as never fitting.
  const claimedBy = new Map<string, string>();
  for (const { context, up } of evaluated)
    for (const pod of up.pending.claimed) claimedBy.set(podKey(pod), context.pool.name);
  const takenBy = new Map(claimedBy);
  for (const { context, released } of evaluated)
    for (const pod of released)
      if (!takenBy.has(podKey(pod))) takenBy.set(podKey(pod), context.pool.name);
  const leftBy = new Map<string, string>();
  for (const { context, up } of evaluated)
    for (const { pod } of up.pending.overMax)
      if (!takenBy.has(pod) && !leftBy.has(pod)) leftBy.set(pod, context.pool.name);
  for (const { context, up, inert } of evaluated) {
    if (inert) handOverHeld(up, claimedBy, context);
    handOverBeyondMax(up, takenBy, context, leftBy);
    markAwaitedGpus(up.pending.onExisting, [...coming.values()].flat());
  }
  // Pending pods counted on a node's room, whichever pool's packing put them there: removing
  // the node must leave them room elsewhere.
  const placedOn = new Map<string, PodInfo[]>();
  const roomTaken: NonNullable<PoolContext["roomTaken"]> = [];
  for (const { up } of evaluated)
    for (const { pod, node } of up.pending.placedOnExisting) {
      roomTaken.push({ pod, node });
      const list = placedOn.get(node);
      if (list) list.push(pod);
      else placedOn.set(node, [pod]);
    }
  // The room they were counted on outside the pool is theirs, not free for a node's pods; so is
  // the room an earlier pool's decrease moves pods into (`planPool` adds those).
  // An earlier pool's open decrease kept open whose nodes are not known withholds that room.
  const unpooledWithheld: string[] = [];
  const otherPools = otherPoolsOf(evaluated, members, placedOn);
  for (const { context } of evaluated) {
    context.roomTaken = roomTaken;
    context.unpooledWithheld = unpooledWithheld;
    context.otherPools = otherPools;
  }
  return evaluated.map(({ context, up }) => {
    const decision = planPool(input, context, up, movingWithMembers(context, placedOn));
    if (decision.pullRequest.action === "leave" && openMayLower(context))
      reserveOpenDecrease(context, placedOn);
    return decision;
  });
}

/**
 * What the pools know of one another's nodes before any decrease is planned (`OtherPools`): each
 * pool's nodes, the nodes every open decrease removes as the naming rule tells them (or, when it
 * cannot tell them all, the pool withheld), the pools whose Ready cordoned nodes have pods to
 * move, and the requests headroom of those with `scaleUp.requests`, less the pending pods the
 * plan counted on their nodes.
 */
function otherPoolsOf(
  evaluated: readonly Evaluated[],
  members: ReadonlyMap<string, readonly NodeInfo[]>,
  placedOn: ReadonlyMap<string, readonly PodInfo[]>,
): OtherPools {
  const count = new Map<NodeInfo, number>();
  for (const nodes of members.values())
    for (const node of nodes) count.set(node, (count.get(node) ?? 0) + 1);
  const others: OtherPools = {
    pools: [],
    poolOf: new Map(),
    removed: new Map(),
    withheld: new Set(),
    changeUnknown: new Set(),
    draining: new Set(),
    headroom: new Map(),
  };
  for (const { context } of evaluated) {
    const { pool, current } = context;
    const nodes = context.members.filter((node) => count.get(node) === 1);
    others.pools.push({ name: pool.name, nodes });
    for (const node of nodes) others.poolOf.set(node.name, pool.name);
    const removing = openDecreaseRemoving(context);
    const desired = context.facts?.openPullRequest?.desired;
    if (removing && current !== undefined && desired !== undefined) {
      if (removing.length < current - desired) others.withheld.add(pool.name);
      for (const node of removing) others.removed.set(node, pool.name);
    } else if (openMayLower(context)) {
      // Its count, or the one it asks for, is unknown: merged, it may remove any of its nodes.
      others.withheld.add(pool.name);
      others.changeUnknown.add(pool.name);
    }
    if (cordonedPods(context, []).nodes.length > 0) others.draining.add(pool.name);
    const threshold = pool.scaleUp.requests;
    if (threshold === undefined) continue;
    const pending = context.members.flatMap((node) => placedOn.get(node.name) ?? []);
    // Requests not known leave no headroom: the pods could take the pool to its threshold.
    const unknown = (["cpu", "memory"] as const).some((resource) => {
      const { requestsPercent, allocatable } = context.utilisation[resource];
      return requestsPercent === undefined || allocatable === undefined;
    });
    const left = (resource: Resource) => {
      const { requests, allocatable } = context.utilisation[resource];
      if (unknown || allocatable === undefined) return 0;
      const counted = pending.reduce((sum, pod) => sum + (pod.requests[resource] ?? 0), 0);
      return (threshold / 100) * allocatable - requests - counted;
    };
    others.headroom.set(pool.name, {
      cpu: left("cpu"),
      memory: left("memory"),
      ...(unknown ? { unknown } : {}),
    });
    // The nodes its open decrease removes take their room from it (`lessRemoved`).
    if (removing) lessRemoved({ ...context, otherPools: others }, removing);
  }
  return others;
}

/**
 * What moves with a node of the pool that goes besides its own pods: the pending pods the plan
 * counted on the pool's nodes, then the pods the decreases of pools before it move there (their
 * room is theirs as much).
 */
function movingWithMembers(
  context: PoolContext,
  placedOn: ReadonlyMap<string, readonly PodInfo[]>,
): PodInfo[] {
  const { moved } = countedOnPool(context);
  return [
    ...context.members.flatMap((node) => placedOn.get(node.name) ?? []),
    ...moved.map(({ pod }) => pod),
  ];
}

/**
 * The room a decrease of the pool takes for the pools planned after it: the pods it moves, on the
 * nodes they go to (`roomTaken`; a pending pod, or one an earlier decrease moved, that it sends
 * elsewhere is counted where it goes now, as this decrease's), the requests headroom they take of
 * another pool, and the nodes it removes.
 */
function takeRoom(
  context: PoolContext,
  moved: readonly { pod: PodInfo; node: string }[],
  removes: readonly string[],
): void {
  const { pool, otherPools, roomTaken } = context;
  const counted = new Map((roomTaken ?? []).map((entry) => [entry.pod, entry]));
  for (const { pod, node } of moved) {
    const entry = counted.get(pod);
    if (!entry) roomTaken?.push({ pod, node, pool: pool.name });
    else if (entry.node !== node) {
      entry.node = node;
      entry.pool = pool.name;
    }
    const other = otherPools?.poolOf.get(node);
    const left = other !== undefined && other !== pool.name && otherPools?.headroom.get(other);
    if (!left) continue;
    left.cpu -= pod.requests.cpu ?? 0;
    left.memory -= pod.requests.memory ?? 0;
  }
  // A node its open decrease removes already gave up its room (`otherPoolsOf`).
  lessRemoved(
    context,
    removes.filter((node) => otherPools?.removed.get(node) !== pool.name),
  );
  for (const node of removes) otherPools?.removed.set(node, pool.name);
}

/**
 * Where what moves goes once the decrease's nodes `removing` are gone: the evaluation's placement
 * for that many nodes of its run. A decrease a hold or a window cuts short removes fewer nodes
 * than the run, and those it keeps keep their pods and the room of the pending pods counted
 * there. Placed here should the evaluation have placed nothing for those nodes: leaving their pods
 * unrecorded would give the room they take to the pools after this one.
 */
function placedFor(
  context: PoolContext,
  down: ScaleDownEvaluation,
  removing: readonly string[],
  pendingOnMembers: readonly PodInfo[],
): { pod: PodInfo; node: string }[] {
  const run = down.removals.length > 0 ? down.removals : [down.candidate];
  const placed = down.placements[removing.length - 1];
  if (placed && removing.every((node, at) => run[at] === node)) return placed;
  return placeDecrease(context, removing, pendingOnMembers).placedPods;
}

/**
 * Takes from the pool's requests headroom (`OtherPools.headroom`) its share of the allocatable of
 * the nodes in `removes` that count in it (Ready, not cordoned): with them gone, the same requests
 * are a larger part of what is left, so the pods other pools move onto its nodes must stay below
 * `scaleUp.requests` of the nodes that stay. The requests of the pods that go elsewhere are left
 * counted: they may come back. Those of the nodes' DaemonSet and mirror pods, of their pods
 * being deleted, and of their expendable pods, are not: they go with the nodes (`leavingRequests`, as the pool's requests
 * projection); while a request there cannot be read, the headroom is already unknown, and
 * nothing is given back.
 */
function lessRemoved(context: PoolContext, removes: readonly string[]): void {
  const threshold = context.pool.scaleUp.requests;
  const left = context.otherPools?.headroom.get(context.pool.name);
  if (threshold === undefined || !left) return;
  const gone: NodeInfo[] = [];
  for (const name of removes) {
    const node = context.members.find((member) => member.name === name);
    if (!node || !readyAndSchedulable(node)) continue;
    gone.push(node);
    left.cpu -= (threshold / 100) * (node.allocatable.cpu ?? 0);
    left.memory -= (threshold / 100) * (node.allocatable.memory ?? 0);
  }
  const leaving = left.unknown ? undefined : leavingRequests(context, gone);
  if (!leaving) return;
  left.cpu += leaving.cpu;
  left.memory += leaving.memory;
}

interface Evaluated {
  context: PoolContext;
  up: ScaleUpEvaluation;
  /** Held whatever it would do (`takesNoAction`): it claims no pod for a node of its own. */
  inert: boolean;
  /** The pods it would have put on new nodes, let go for the pools after it. */
  released: PodInfo[];
}

/**
 * Whether a hold keeps the pool from any change until a person or time resolves it: its count
 * unknown, its nodes also another pool's, too many of them not Ready, an incomplete snapshot, or
 * a change whose nodes never joined (or never went) by `provisionTimeout`. A cooldown, or nodes
 * still joining, is not: the pool adds the node once it is over, or the joining node takes them.
 * Nor is a pool whose open pull request may raise its count: merged, it brings nodes for the
 * pods, and a later pool adding its own for them too would add them twice.
 */
function takesNoAction(snapshot: NodePlanInput["snapshot"], context: PoolContext): boolean {
  const open = context.facts?.openPullRequest;
  const base = open?.from ?? context.current;
  if (open && !(open.desired !== undefined && base !== undefined && open.desired <= base))
    return false;
  if (safetyHolds(snapshot, context).length > 0) return true;
  const { all } = hysteresisHolds(
    context.pool,
    context.facts,
    context.members,
    context.now,
    context.overlap !== undefined,
  );
  return all.some((hold) => hold.kind === "provisioning-failed");
}

/** Unclaims the pods `up` put on new nodes, so that the pools after it may take them. */
function releaseNewNodePods(up: ScaleUpEvaluation): PodInfo[] {
  const onNew = new Set(up.pending.onNew.map((placement) => placement.pod));
  const released = [...up.pending.claimed].filter((pod) => onNew.has(podKey(pod)));
  for (const pod of released) up.pending.claimed.delete(pod);
  return released;
}

/**
 * Gives the bin of each node whose GPU is on its way (within its wait) the GPUs it is counted on
 * for, less those its pods already ask for: a pending pod that needs one goes there, as it will
 * once the device plugin registers it, and adds no node; a node that goes must leave it room.
 */
function countOnComingGpus(bins: ReadonlyMap<string, Bin>, coming: readonly GpuComing[]): void {
  const counted = new Set<string>();
  for (const gpu of coming) {
    const bin = bins.get(gpu.node);
    const key = `${gpu.node}/${gpu.resource}`;
    if (!bin || gpu.amount === undefined || counted.has(key)) continue;
    counted.add(key);
    bin.room.extended[gpu.resource] = (bin.room.extended[gpu.resource] ?? 0) + gpu.amount;
  }
}

/** Names, on each pod placed on a node whose GPU is on its way, the GPUs it waits for there. */
function markAwaitedGpus(placements: PodPlacement[], coming: readonly GpuComing[]): void {
  for (const placement of placements) {
    const awaits = coming
      .filter(
        (gpu) =>
          gpu.node === placement.node &&
          gpu.amount !== undefined &&
          (placement.extended?.[gpu.resource] ?? 0) > 0,
      )
      .map((gpu) => gpu.resource);
    if (awaits.length > 0) placement.awaits = [...new Set(awaits)];
  }
}

/** The cluster's bins with the pool's own nodes first, so its pending pods fill them first. */
function sharedBins(bins: ReadonlyMap<string, Bin>, own: readonly NodeInfo[]): Bin[] {
  const names = new Set(own.map((node) => node.name));
  const first: Bin[] = [];
  const rest: Bin[] = [];
  for (const bin of bins.values()) (names.has(bin.name) ? first : rest).push(bin);
  return [...first, ...rest];
}

/** The pool's nodes that other pools' selectors also match, and those pools. */
function overlapping(
  pool: PoolConfig,
  own: readonly NodeInfo[],
  members: ReadonlyMap<string, readonly NodeInfo[]>,
): PoolContext["overlap"] {
  const nodes = new Set<string>();
  const pools: string[] = [];
  const mine = new Set(own);
  for (const [name, theirs] of members) {
    if (name === pool.name) continue;
    const shared = theirs.filter((node) => mine.has(node));
    if (shared.length === 0) continue;
    pools.push(name);
    for (const node of shared) nodes.add(node.name);
  }
  return pools.length > 0 ? { nodes: [...nodes], pools } : undefined;
}

function planPool(
  input: NodePlanInput,
  context: PoolContext,
  up: ScaleUpEvaluation,
  pendingOnMembers: readonly PodInfo[],
): NodeDecision {
  const { pool, index, facts } = context;
  const blockers = new Map<string, DrainBlocker[]>(
    context.members.map((node) => [
      node.name,
      nodeBlockers(node, index.podsByNode.get(node.name) ?? [], index.pdbs, {
        replicatedKinds: pool.scaleDown.replicatedKinds,
        expendableBelow: pool.expendablePriority,
        deleteEmptyDirData: pool.scaleDown.deleteEmptyDirData,
        skipNodesWithSystemPods: pool.scaleDown.skipNodesWithSystemPods,
        now: context.now,
      }),
    ]),
  );
  const down = evaluateScaleDown(
    context,
    blockers,
    pendingOnMembers,
    blockerListsUnread(input.snapshot),
  );
  unreadyAtMin(context, down);
  unreadyScaleDownOff(context, down);
  const outcome = decide(context, input, up, down);
  // The pods this decrease moves outside the pool take that room from the pools after it, and
  // the nodes it removes are offered to none.
  if (outcome.action === "scale-down") {
    const removing = outcome.removing ?? [];
    takeRoom(context, placedFor(context, down, removing, pendingOnMembers), removing);
  }
  const decision: NodeDecision = {
    pool: pool.name,
    target: pool.target,
    action: outcome.action,
    pullRequest: pullRequestAction(outcome, facts, {
      podsWaiting:
        growthCloses(context, up) ||
        orphansInTheWay(context) ||
        fitUnknownClosing(context, up, outcome.triggers) !== undefined,
      unreadyInTheWay: openDecreaseMeetsUnready(context),
      stranded:
        outcome.action === "none"
          ? openDecreaseStranded(context, outcome.holds, pendingOnMembers)
          : undefined,
      bounds: context.bounds,
    }),
    triggers: outcome.triggers,
    holds: outcome.holds,
    bounds: context.bounds,
    nodes: {
      members: context.members.length,
      ready: context.ready.length,
      unready: context.members.filter((node) => !node.ready).map((node) => node.name),
      cordoned: context.members.filter(isCordoned).map((node) => node.name),
      ...(context.shape ? { shape: context.shape } : {}),
      ...(context.gpuComing ? { gpuComing: context.gpuComing } : {}),
    },
    utilisation: {
      ...context.utilisation,
      checks: [...up.checks, ...down.checks],
      ...(pool.scaleUp.requests === undefined ? {} : { requestsChecks: up.requestsChecks }),
    },
    pending: withoutInternals(up.pending),
    scaleDown: down.report,
    blockers: context.members.map((node) => ({
      node: node.name,
      blockers: blockers.get(node.name) ?? [],
    })),
  };
  if (context.current !== undefined) decision.current = context.current;
  if (outcome.desired !== undefined) decision.desired = outcome.desired;
  if (outcome.action === "scale-down" && outcome.removing) {
    decision.removes = outcome.removing[0];
    decision.removing = outcome.removing;
  }
  nameRun(decision);
  const refusedBy = scaleDownRefusal(decision);
  if (refusedBy) decision.scaleDown.refusedBy = refusedBy;
  return decision;
}

/**
 * The candidate condition names every node the decrease removes when it removes several: those
 * of the decision, or while it is held those the bulk line says would go, less those a window
 * about to open keeps (the bulk line names them).
 */
function nameRun(decision: NodeDecision): void {
  const { scaleDown } = decision;
  const bulk = scaleDown.bulk?.nodes ?? [];
  const kept = windowKept(bulk, decision);
  const nodes = decision.removing ?? bulk.filter((node) => !kept.includes(node));
  if (nodes.length < 2) return;
  scaleDown.conditions = scaleDown.conditions.map((condition) =>
    condition.kind === "candidate" && condition.met && condition.node === nodes[0]
      ? { ...condition, nodes: [...nodes] }
      : condition,
  );
}

/**
 * At the min (a window's, say), the node a decrease would remove, long not Ready, stays: the
 * count never goes below the min, as cluster-autoscaler never takes a node group below its min
 * size. The `above-min` condition names it, as no time ends it while the min holds.
 */
function unreadyAtMin(context: PoolContext, down: ScaleDownEvaluation): void {
  const { current, bounds, pool } = context;
  // Below the min the count is raised, and the node a decrease would remove is another.
  if (!pool.scaleDown.enabled || current !== bounds.effectiveMin) return;
  if (current > bounds.effectiveMax || !longUnready(context, down)) return;
  for (const condition of down.report.conditions)
    if (condition.kind === "above-min") condition.unready = down.candidate as string;
}

/**
 * With scale-down off, the nodes long not Ready stay, as no node is removed: the report names
 * them, as nothing but a person (or the node coming back) ends that.
 */
function unreadyScaleDownOff(context: PoolContext, down: ScaleDownEvaluation): void {
  if (context.pool.scaleDown.enabled) return;
  const dead = [...longUnreadyNodes(context)];
  if (dead.length > 0) down.report.unready = dead;
}

function poolContext(
  input: NodePlanInput,
  pool: PoolConfig,
  facts: PoolRepoFacts | undefined,
  index: ClusterIndex,
  members: NodeInfo[],
  existingBins: Bin[],
  unpooled: NodeInfo[],
): PoolContext {
  const ready = members.filter((node) => node.ready);
  const measured = measuredNodes(members);
  const context: PoolContext = {
    pool,
    now: input.now,
    index,
    members,
    ready,
    bounds: poolBounds(pool, input.now),
    utilisation: {
      cpu: poolUtilisation(measured, "cpu", index),
      memory: poolUtilisation(measured, "memory", index),
    },
    history: {
      cpu: poolHistory(pool.name, input.history, measured, "cpu"),
      memory: poolHistory(pool.name, input.history, measured, "memory"),
    },
    requestsHistory: {
      cpu: poolRequestsHistory(pool.name, input.history, measured, "cpu"),
      memory: poolRequestsHistory(pool.name, input.history, measured, "memory"),
    },
    existingBins,
    unpooled,
  };
  if (facts) context.facts = facts;
  if (facts?.currentValue !== undefined) context.current = facts.currentValue;
  if (input.snapshot.csiVolumeLimits !== undefined)
    context.csiVolumeLimits = input.snapshot.csiVolumeLimits;
  const shape = newNodeShapeOrWhy(members, pool.newNode, pool.selector, index, input.now);
  if ("shape" in shape) context.shape = shape.shape;
  else {
    context.shapeUnknown = shape.unknown;
    if (shape.allocatable) context.newNodeAllocatable = shape.allocatable;
  }
  return context;
}

interface Outcome {
  action: NodeAction;
  desired?: number;
  /** The nodes a scale-down removes, in the order Terraform destroys them. */
  removing?: string[];
  triggers: Trigger[];
  holds: Hold[];
}

/**
 * Scale-up reasons win over scale-down; a safety stop or a hysteresis hold turns the wanted
 * change into no action, with the hold saying why.
 */
function decide(
  context: PoolContext,
  input: NodePlanInput,
  up: ScaleUpEvaluation,
  down: ScaleDownEvaluation,
): Outcome {
  const { pool, current } = context;
  const hysteresis = hysteresisHolds(
    pool,
    context.facts,
    context.members,
    context.now,
    context.overlap !== undefined,
  );
  const stops = [...safetyHolds(input.snapshot, context), ...hysteresis.all];
  const holds: Hold[] = [...stops, ...usageUnknownHolds(context), ...pendingHolds(context, up)];
  const triggers = [...up.triggers];
  if (current === undefined) return { action: "none", triggers, holds };
  let wanted = wantedChange(context, current, up, down, triggers, holds);
  const downWanted = triggers.some(
    (t) => t.kind === "above-max" || t.kind === "underutilised" || t.kind === "unready-node",
  );
  if (downWanted) holds.push(...hysteresis.scaleDown);
  // Pods waiting for room (for `scaleUp.pendingFor`, of unknown fit, to be made again off a node
  // the cluster does not list, or off a node not Ready) hold back a decrease none of whose nodes
  // goes whatever they ask (`goesWhateverAsked`), one for low usage; of one that takes such
  // nodes, `forcedOnly` keeps to those.
  const allHeld =
    wanted.action === "scale-down" && goesWhateverAsked(context, wanted.removing ?? []) === 0;
  const unready = allHeld
    ? unreadyHold(pool, context.facts, context.members, wanted.removing ?? [], context.now)
    : undefined;
  if (unready) holds.push(unready);
  const orphaned = allHeld ? orphanedHold(context, wanted) : undefined;
  if (orphaned) holds.push(orphaned);
  const fitUnknownHeld = allHeld ? fitUnknownHold(up) : undefined;
  if (fitUnknownHeld) holds.push(fitUnknownHeld);
  const heldDown =
    wanted.action === "scale-down" &&
    (hysteresis.scaleDown.length > 0 ||
      (up.waiting !== undefined && allHeld) ||
      unready !== undefined ||
      orphaned !== undefined ||
      fitUnknownHeld !== undefined);
  if (stops.length > 0 || heldDown) {
    // The report still says which nodes would go once the hold is over: no more than go whatever
    // such pods ask, while they wait, and none a window about to open keeps. The hold that cuts
    // it is listed, so that the bulk line's stop names pods (or nodes) a hold names too.
    if (wanted.action === "scale-down")
      heldBeforeSchedule(
        context,
        current,
        forcedOnly(context, up, wanted, down.report, holds),
        holds,
        [...stops, ...hysteresis.scaleDown],
      );
    wanted = { action: "none", desired: current };
  }
  if (wanted.action === "scale-down") {
    wanted = forcedOnly(context, up, wanted, down.report, holds);
    wanted = beforeSchedule(context, current, wanted, holds);
    trimBulk(down.report, wanted, holds);
  }
  // Whatever left the pool as it is (a cooldown, say), an open decrease is closed while such pods
  // wait (`pullRequestAction`), unless it is one they let go: the hold says why.
  if (wanted.action === "none" && openDecrease(context)) {
    // Once each: the plan's own decrease, cut while held, may have listed the hold already.
    const listed = (kind: Hold["kind"]) => holds.some((hold) => hold.kind === kind);
    const closing = fitUnknownClosing(context, up, triggers);
    if (!listed("pending-fit-unknown") && closing) holds.push(closing);
    const orphans =
      listed("pods-orphaned") || !orphansInTheWay(context) ? undefined : orphansClosing(context);
    if (orphans) holds.push(orphans);
    const down =
      listed("nodes-unready") || !openDecreaseMeetsUnready(context)
        ? undefined
        : unreadyClosing(context);
    if (down) holds.push(down);
    // A cooldown (say) kept `beforeSchedule` from looking: an open decrease below the min of a
    // window about to open is closed all the same, and the hold names the window, unless it
    // removes only nodes long not Ready, which go before a window all the same.
    const soon = windowSoon(context);
    if (
      soon &&
      !openDecreaseGoes(context, soon.min) &&
      !holds.some((hold) => hold.kind === "schedule-soon")
    )
      holds.push({ kind: "schedule-soon", ...soon });
  }
  // Above the max, pods waiting for `scaleUp.pendingFor` let the count come down to it: not now
  // when no decrease is made (its node cannot go, or a cooldown holds it), which the hold says.
  if (wanted.action !== "scale-down")
    for (const [at, hold] of holds.entries())
      if (hold.kind === "pending-wait" && hold.above && !hold.stays)
        holds[at] = { ...hold, notNow: true };
  // Unknown usage holds back only a pool left as it is: a change made on other grounds (pending
  // pods, the min, the max) did not rest on it, and the utilisation report names the nodes.
  const kept =
    wanted.action === "none"
      ? [...holds, ...uncoveredHolds(context, up, down, triggers)]
      : holds.filter((hold) => hold.kind !== "usage-unknown");
  return { ...wanted, triggers, holds: kept };
}

/**
 * For a pool left as it is: usage past a threshold now that no samples show for the window yet.
 * Below the scale-down thresholds (and requests below theirs) with a node to spare that could
 * go (the naming rule picks one, nothing blocks it, its pods fit elsewhere), or above a
 * scale-up threshold with room to grow, the change it would lead to is not known yet: not
 * "no change", so an open pull request is not closed on it (nor a person's "no" lifted). A node
 * that could not go whatever the window shows leads to no change, which is known now; and so
 * does a count above the max (or the host cap), or a node long not Ready, whose node goes
 * whatever usage shows once nothing else holds it.
 */
function uncoveredHolds(
  context: PoolContext,
  up: ScaleUpEvaluation,
  down: ScaleDownEvaluation,
  triggers: readonly Trigger[],
): Hold[] {
  const { current, bounds, pool } = context;
  if (current === undefined) return [];
  const holds: Hold[] = [];
  const uncovered = (checks: readonly SustainedCheck[]) =>
    checks.filter((check) => check.outcome === "no-evidence");
  const belowUnproven = uncovered(down.checks);
  const downConditions = down.report.conditions.filter(
    (condition) => condition.kind === "utilisation" || condition.kind === "requests",
  );
  const onlyEvidenceMissing = downConditions.every(
    (condition) =>
      condition.met ||
      (condition.kind === "utilisation" && condition.check.outcome === "no-evidence"),
  );
  const forced = triggers.some(
    (trigger) => trigger.kind === "above-max" || trigger.kind === "unready-node",
  );
  if (
    pool.scaleDown.enabled &&
    !forced &&
    current > bounds.effectiveMin &&
    down.removable &&
    !down.candidateCordoned &&
    // Nor is the window all a node whose GPU is on its way waits for.
    !down.report.conditions.some((condition) => condition.kind === "gpu-advertised") &&
    belowUnproven.length > 0 &&
    onlyEvidenceMissing
  )
    holds.push({
      kind: "window-uncovered",
      direction: "down",
      checks: belowUnproven.map(checkWindow),
    });
  const aboveUnproven = uncovered(up.checks.filter((check) => check.direction === "above"));
  if (current < bounds.effectiveMax && aboveUnproven.length > 0)
    holds.push({
      kind: "window-uncovered",
      direction: "up",
      checks: aboveUnproven.map(checkWindow),
    });
  return holds;
}

function checkWindow(check: SustainedCheck): UncoveredCheck {
  const stale = check.shortfall?.kind === "stale" ? check.shortfall.ageMs : undefined;
  return {
    resource: check.resource,
    threshold: check.threshold,
    windowMs: check.windowMs,
    coveredMs: check.coveredMs ?? 0,
    ...(stale === undefined ? {} : { lastPointAgeMs: stale }),
  };
}

/**
 * A scale-down kept at the min of a schedule window that opens before a node removed now could
 * be back (a cooldown, then a merge and a boot within `provisionTimeout`): removing it would
 * destroy a VM only to create it again, late for the load the window is there for. Not the nodes
 * long not Ready the decrease starts with: kept, they would count toward the window's min with
 * no room to give, and once the window is open nothing removes them (never below the min), so
 * the window would have fewer working nodes than it asks for. They go now, and the window's min
 * brings new ones in their place (`goesWhateverAsked`, with the window's min as the floor).
 */
function beforeSchedule(
  context: PoolContext,
  current: number,
  wanted: Wanted,
  holds: Hold[],
): Wanted {
  const soon = windowSoon(context);
  if (!soon || wanted.desired >= soon.min) return wanted;
  const removing = wanted.removing ?? [];
  const keep = goesWhateverAsked(context, removing, soon.min);
  const unready = removing.slice(Math.max(0, current - soon.min), keep);
  holds.push({ kind: "schedule-soon", ...soon, ...(unready.length > 0 ? { unready } : {}) });
  return keep > 0
    ? scaleDown(current, removing.slice(0, keep))
    : { action: "none", desired: current };
}

/**
 * A decrease a hold keeps back (a cooldown, the delay after a scale-up) that would go below the
 * min of a window about to open: once the hold is over the window is nearer still, or open, and
 * the count stays at its min all the same, so the window is named beside the hold, and the report
 * says which nodes it keeps (`windowKeepsText`), not that they would go. Not with an open
 * decrease, which `decide` judges against the window itself. The nodes long not Ready the
 * decrease starts with go before a window all the same once what holds it (`holding`) is over,
 * not now (`held`), when that is known to be before the window opens; otherwise the window is
 * open by then, and its min keeps them too (the count never goes below the min).
 */
function heldBeforeSchedule(
  context: PoolContext,
  current: number,
  wanted: Wanted,
  holds: Hold[],
  holding: readonly Hold[],
): void {
  if (wanted.action !== "scale-down" || openDecrease(context)) return;
  const window: Hold[] = [];
  beforeSchedule(context, current, wanted, window);
  const [soon] = window;
  if (soon?.kind !== "schedule-soon") return;
  if (soon.unready === undefined) holds.push(soon);
  else if ((heldUntil(holding) ?? Number.POSITIVE_INFINITY) < Date.parse(soon.opensAt))
    holds.push({ ...soon, held: true });
  else {
    const { unready: _unready, ...keeps } = soon;
    holds.push(keeps);
  }
}

/**
 * When the last of `holding` is over (a cooldown, the delay after a scale-up), in ms; unknown
 * when one of them names no end, or only the earliest (the delay while nodes still join).
 */
function heldUntil(holding: readonly Hold[]): number | undefined {
  let end = Number.NEGATIVE_INFINITY;
  for (const hold of holding) {
    const until =
      "until" in hold && typeof hold.until === "string" && !("joining" in hold)
        ? Date.parse(hold.until)
        : Number.NaN;
    if (Number.isNaN(until)) return undefined;
    end = Math.max(end, until);
  }
  return end;
}

/**
 * The window with the highest min among those that open before a node removed now could be back (a
 * cooldown, then a merge and a boot within `provisionTimeout`: `horizonMs`, from now); none if no
 * window opens so soon. With the pool's count (`current`) when that is below the window's min
 * already: the count stays there until the window opens, not at the min.
 */
function windowSoon(
  context: PoolContext,
):
  | { schedule: string; opensAt: string; min: number; horizonMs: number; current?: number }
  | undefined {
  const horizonMs = context.pool.cooldown + context.pool.provisionTimeout;
  const horizon = context.now.getTime() + horizonMs;
  let soon: { schedule: string; opensAt: string; min: number; horizonMs: number } | undefined;
  for (const schedule of context.bounds.schedules) {
    if (schedule.active || schedule.nextStart === undefined) continue;
    if (Date.parse(schedule.nextStart) > horizon) continue;
    const min = Math.min(schedule.min, context.bounds.effectiveMax);
    if (!soon || min > soon.min)
      soon = { schedule: schedule.name, opensAt: schedule.nextStart, min, horizonMs };
  }
  const { current } = context;
  return soon && current !== undefined && current < soon.min ? { ...soon, current } : soon;
}

/**
 * The empty nodes the report says go together, cut to those the decrease still removes once a
 * window opening soon has held the count at its min: the explanation names what goes. Where
 * pending pods (`forcedOnly`) stopped it at the same node, the stop names the window all the
 * same: the count stays at its min whatever those pods do.
 */
function trimBulk(report: ScaleDownReport, wanted: Wanted, holds: readonly Hold[]): void {
  const soon = holds.find((hold) => hold.kind === "schedule-soon");
  if (soon?.kind !== "schedule-soon" || wanted.action !== "scale-down") return;
  const removing = wanted.removing ?? [];
  const stop: BulkStop = { kind: "schedule-soon", schedule: soon.schedule, min: soon.min };
  const { bulk } = report;
  const pending = bulk?.stop?.kind === "pending-wait" || bulk?.stop?.kind === "pending-fit-unknown";
  if (bulk && pending && bulk.nodes.length === removing.length) report.bulk = { ...bulk, stop };
  else cutBulk(report, removing, stop);
}

/** The report's bulk removal cut to `removing`, when that is fewer nodes, and why it stops. */
function cutBulk(report: ScaleDownReport, removing: string[], stop: BulkStop): void {
  const { bulk } = report;
  if (!bulk || removing.length >= bulk.nodes.length) return;
  const { projection, ...rest } = bulk;
  report.bulk = {
    ...rest,
    nodes: removing,
    stop,
    ...(projection && removing.length > 1
      ? { projection: projection.slice(0, removing.length) }
      : {}),
  };
}

/**
 * A decrease cut to the nodes that go whatever pods waiting for room ask (`goesWhateverAsked`)
 * while pending pods whose fit on a new node is unknown wait, pods that need new nodes have not
 * waited `scaleUp.pendingFor` yet, or pods bound to nodes the cluster does not list are to be
 * made again and it takes a Ready node beyond those: the nodes it takes beyond them go for low
 * usage, which those pods hold back (`fitUnknownHold`, the pending-wait hold, `orphanedHold`).
 * The hold and the bulk line name the max (or the host cap) the count comes down to, or the
 * nodes long not Ready that go when they reach further. A decrease none of whose nodes goes so
 * is held back whole (`decide`).
 */
function forcedOnly(
  context: PoolContext,
  up: ScaleUpEvaluation,
  wanted: Wanted,
  report: ScaleDownReport,
  holds: Hold[],
): Wanted {
  const { current } = context;
  const removing = wanted.removing ?? [];
  const keep = goesWhateverAsked(context, removing);
  if (current === undefined || keep === 0 || keep >= removing.length) return wanted;
  const pods = fitUnknownPods(up);
  const orphans = takesReady(context, removing.slice(keep)) ? orphansHold(context) : undefined;
  const unready = unreadyBeyond(context, removing, keep);
  if (pods.length === 0 && up.waiting === undefined && !orphans && !unready) return wanted;
  const kept = removing.slice(0, keep);
  const named = whatGoes(context, kept);
  const max = "max" in named ? named : {};
  if (pods.length > 0) holds.push({ kind: "pending-fit-unknown", pods, ...named });
  if (orphans?.kind === "pods-orphaned") holds.push({ ...orphans, ...max });
  if (unready?.kind === "nodes-unready")
    holds.push(unready.until || unready.sinceUnknown ? unready : { ...unready, ...max });
  const kind =
    pods.length > 0
      ? "pending-fit-unknown"
      : up.waiting
        ? "pending-wait"
        : orphans
          ? "pods-orphaned"
          : "nodes-unready";
  cutBulk(report, kept, { kind, ...max });
  return scaleDown(current, kept);
}

/**
 * The nodes-unready hold on a decrease that takes, beyond the `keep` nodes that go whatever is
 * asked, a Ready node their pods may need (named for the whole decrease, so a node long not
 * Ready it removes is not said to stay), or a node not Ready for less than
 * `scaleDown.unreadyTime` (named for those nodes alone: the others go now).
 */
function unreadyBeyond(
  context: PoolContext,
  removing: readonly string[],
  keep: number,
): Hold | undefined {
  const { pool, facts, members, now } = context;
  const whole = unreadyHold(pool, facts, members, removing, now);
  if (whole?.kind !== "nodes-unready" || !(whole.until || whole.sinceUnknown)) return whole;
  return unreadyHold(pool, facts, members, removing.slice(keep), now);
}

/**
 * What goes whatever a hold that asks for room asks, as the hold names it: the max (or the host
 * cap) the count comes down to, or the nodes long not Ready (`unready`) when they reach further.
 */
function whatGoes(
  context: PoolContext,
  unready: string[],
): { max: number; bound: "max" | "host-cap" } | { unready: string[] } {
  const { current, bounds } = context;
  const over = (current ?? 0) - bounds.effectiveMax;
  return over > 0 && over >= unready.length
    ? { max: bounds.effectiveMax, bound: maxBound(bounds) }
    : { unready };
}

/**
 * The rule every hold that asks for room keeps to (pods that wait, usage above a scale-up
 * threshold, a window about to open): how many of the nodes a decrease removes first, in the
 * order Terraform destroys them, go whatever it asks. Those that bring the count down no further
 * than `floor` (the max or the host cap, as no node is added above it; a window's min), and the
 * nodes long not Ready it starts with, which have no room to give. Such a hold lets no more of
 * a decrease go (`forcedOnly`, `beforeSchedule`), and closes an open one that takes more
 * (`openDecreaseGoes`).
 */
function goesWhateverAsked(
  context: PoolContext,
  removing: readonly string[],
  floor: number = context.bounds.effectiveMax,
): number {
  const { current } = context;
  return Math.max(0, (current ?? 0) - floor, leadingUnready(context, removing).length);
}

/**
 * Whether the pool's open decrease takes no more nodes than go whatever a hold that asks for room
 * asks (`goesWhateverAsked`, with `floor`): a hold that asks for room closes it otherwise. A node
 * the naming rule cannot tell may be a Ready one.
 */
function openDecreaseGoes(
  context: PoolContext,
  floor: number = context.bounds.effectiveMax,
): boolean {
  const { current } = context;
  const desired = context.facts?.openPullRequest?.desired;
  if (current === undefined || desired === undefined) return false;
  return (
    current - desired <= goesWhateverAsked(context, openDecreaseRemoving(context) ?? [], floor)
  );
}

/** The nodes long not Ready that `removing` starts with, before any that is not one. */
function leadingUnready(context: PoolContext, removing: readonly string[]): readonly string[] {
  const dead = longUnreadyNodes(context);
  const first = removing.findIndex((name) => !dead.has(name));
  return first < 0 ? removing : removing.slice(0, first);
}

/**
 * The pool's nodes a decrease removes whatever the usage for not being Ready: not Ready for
 * `scaleDown.unreadyTime` (since a known time), not cordoned, and not one a change is adding.
 */
function longUnreadyNodes(context: PoolContext): Set<string> {
  const { pool, facts, now } = context;
  const joining = new Set(joiningNodes(context.members, pool, facts, now));
  return new Set(
    context.members
      .filter((node) => {
        if (node.ready || isCordoned(node) || joining.has(node)) return false;
        const since = Date.parse(node.readySince ?? "");
        return !Number.isNaN(since) && now.getTime() >= since + pool.scaleDown.unreadyTime;
      })
      .map((node) => node.name),
  );
}

/**
 * Whether the pool asking for more room closes its open decrease, as it would take room that is
 * needed: pods that need new nodes and have not waited `scaleUp.pendingFor`, or anything that asks
 * for nodes (pods that have waited, usage or requests above their thresholds) while something
 * leaves the pool as it is (the max or the host cap reached, a cooldown): no node is added now,
 * and one would go. Not one that goes whatever is asked (`openDecreaseGoes`).
 */
function growthCloses(context: PoolContext, up: ScaleUpEvaluation): boolean {
  return (up.waiting !== undefined || up.newNodes > 0) && !openDecreaseGoes(context);
}

interface Wanted {
  action: NodeAction;
  desired: number;
  removing?: string[];
}

/** The change the evaluations ask for, before stops; adds its trigger or at-max hold. */
function wantedChange(
  context: PoolContext,
  current: number,
  up: ScaleUpEvaluation,
  down: ScaleDownEvaluation,
  triggers: Trigger[],
  holds: Hold[],
): Wanted {
  const { pool, bounds } = context;
  if (up.newNodes > 0) {
    const wanted = current + up.newNodes;
    const allowed = Math.min(bounds.effectiveMax, wanted);
    if (allowed < wanted) holds.push({ kind: "at-max", wanted, allowed, bound: maxBound(bounds) });
    if (allowed > current) return { action: "scale-up", desired: allowed };
    // Above the max already, the count comes down whatever asks for more (below).
    if (current <= bounds.effectiveMax) return { action: "none", desired: current };
  }
  if (current > bounds.effectiveMax) {
    triggers.push({
      kind: "above-max",
      current,
      max: bounds.effectiveMax,
      bound: maxBound(bounds),
    });
    // Forced down whatever the usage; several at once only when every condition allows it.
    // With scale-down off the count stays above the bound: a person has to lower it.
    if (pool.scaleDown.enabled && down.removable && down.candidate)
      return scaleDown(current, down.removals.length > 0 ? down.removals : [down.candidate]);
  } else if (
    pool.scaleDown.enabled &&
    current > bounds.effectiveMin &&
    longUnready(context, down)
  ) {
    const node = context.members.find((member) => member.name === down.candidate) as NodeInfo;
    const since = Date.parse(node.readySince as string);
    triggers.push({
      kind: "unready-node",
      node: node.name,
      // As every time the plan writes, whatever form the API server gave it in.
      since: new Date(since).toISOString(),
      notReadyForMs: context.now.getTime() - since,
      unreadyTimeMs: pool.scaleDown.unreadyTime,
    });
    // Several at once only when every condition allows it.
    if (down.removable)
      return scaleDown(current, down.removals.length > 0 ? down.removals : [node.name]);
  } else if (pool.scaleDown.enabled && down.underutilised && current > bounds.effectiveMin) {
    triggers.push(underutilisedTrigger(down));
    if (down.removals.length > 0) return scaleDown(current, down.removals);
  }
  return { action: "none", desired: current };
}

/**
 * The scale-down trigger with what it rests on, as the scale-down conditions give it: each
 * usage check and each resource's requests, below its threshold. Underutilised means every one
 * was met, so each has its value.
 */
function underutilisedTrigger(down: ScaleDownEvaluation): Trigger {
  const usage = down.checks.flatMap(({ resource, percent, threshold, windowMs, basis }) =>
    percent === undefined
      ? []
      : [{ resource, percent, threshold, windowMs, ...(basis ? { basis } : {}) }],
  );
  const requests = down.report.conditions.flatMap((condition) =>
    condition.kind === "requests" && condition.percent !== undefined
      ? [
          {
            resource: condition.resource,
            percent: condition.percent,
            threshold: condition.threshold,
            ...(condition.basis ? { basis: condition.basis } : {}),
          },
        ]
      : [],
  );
  return { kind: "underutilised", usage, requests };
}

/**
 * Whether the node a decrease would remove has not been Ready for `scaleDown.unreadyTime`
 * (and is not one a change is still adding): an unready node is removed whatever the usage.
 * Not a cordoned one: a VM shut down after `kubectl cordon` is being looked after by a person.
 */
function longUnready(context: PoolContext, down: ScaleDownEvaluation): boolean {
  const { candidate } = down;
  return candidate !== undefined && longUnreadyNodes(context).has(candidate);
}

function scaleDown(current: number, removing: string[]): Wanted {
  return { action: "scale-down", desired: current - removing.length, removing };
}

/**
 * What keeps a decrease from removing a Ready node while pods are bound to nodes the cluster
 * does not list: made again once the pod garbage collector deletes them, they will need room.
 * For a decrease none of whose nodes goes whatever such pods ask (`goesWhateverAsked`); above
 * the max the count comes down to it all the same, as for pending pods (`forcedOnly`). A
 * decrease removing only nodes that are not Ready, however briefly, takes no room they could
 * use (one not Ready for less than `scaleDown.unreadyTime` is held by the nodes-unready hold).
 */
function orphanedHold(context: PoolContext, wanted: Wanted): Hold | undefined {
  return takesReady(context, wanted.removing ?? []) ? orphansHold(context) : undefined;
}

/** Whether any of `removing` is a Ready node of the pool. */
function takesReady(context: PoolContext, removing: readonly string[]): boolean {
  return context.members.some((node) => node.ready && removing.includes(node.name));
}

/**
 * The pods-orphaned hold that closes the pool's open decrease, naming the max (or the host cap)
 * the count comes down to when it is above it, unless the nodes long not Ready the decrease
 * starts with reach further (no Ready node goes then): only what goes beyond is closed for them.
 */
function orphansClosing(context: PoolContext): Hold | undefined {
  const hold = orphansHold(context);
  const { current, bounds, pool } = context;
  if (hold?.kind !== "pods-orphaned" || !pool.scaleDown.enabled) return hold;
  if (current === undefined || current <= bounds.effectiveMax) return hold;
  const named = whatGoes(context, openDecreaseDeadFirst(context));
  return "max" in named ? { ...hold, ...named } : hold;
}

/** The pods bound to nodes the cluster does not list, as a hold; none when there are none. */
function orphansHold(context: PoolContext): Hold | undefined {
  const { orphans } = context.index;
  if (orphans.length === 0) return undefined;
  const nodes = [...new Set(orphans.map((pod) => pod.nodeName as string))].sort(compareNodeNames);
  return { kind: "pods-orphaned", pods: orphans.length, nodes };
}

/** The pending pods whose fit on a new node is unknown (`fit unknown` in the explanation). */
function fitUnknownPods(up: ScaleUpEvaluation): string[] {
  return up.pending.neverFit.filter((pod) => fitUnknown(pod.reason)).map((pod) => pod.pod);
}

/**
 * What keeps a decrease for low usage from removing a node while pending pods whose fit on a new
 * node is unknown wait: the pool's nodes disagree about what they ask for (a GPU VM that rebooted
 * and has not reported its GPU yet), so they may need that node's room, most likely the very
 * node that disagrees. For a decrease none of whose nodes goes whatever such pods ask
 * (`goesWhateverAsked`); one above the max or the host cap (down to it), or of a node long not
 * Ready (those: `forcedOnly`), still goes: usage does not decide those, and a pod whose fit
 * stays unknown until a person sets `newNode` would keep them forever.
 */
function fitUnknownHold(up: ScaleUpEvaluation): Hold | undefined {
  const pods = fitUnknownPods(up);
  return pods.length > 0 ? { kind: "pending-fit-unknown", pods } : undefined;
}

/**
 * The hold that closes the pool's open decrease while pending pods whose fit on a new node is
 * unknown wait, as it would take room they may need; none for one that goes whatever such pods
 * ask (`openDecreaseGoes`: down to the max or the host cap, or of nodes long not Ready alone),
 * as usage does not decide that one, and closing it would only have it opened again once what
 * holds the pool is over.
 */
function fitUnknownClosing(
  context: PoolContext,
  up: ScaleUpEvaluation,
  triggers: readonly Trigger[],
): Hold | undefined {
  const pods = fitUnknownPods(up);
  if (pods.length === 0 || !openDecrease(context) || openDecreaseGoes(context)) return undefined;
  const { current, bounds, pool } = context;
  // With scale-down off nothing goes, down to the max or long not Ready: the hold names neither.
  if (!pool.scaleDown.enabled) return { kind: "pending-fit-unknown", pods };
  if (current !== undefined && current > bounds.effectiveMax)
    return {
      kind: "pending-fit-unknown",
      pods,
      ...whatGoes(context, openDecreaseDeadFirst(context)),
    };
  const trigger = triggers.find((each) => each.kind === "unready-node");
  if (trigger?.kind !== "unready-node") return { kind: "pending-fit-unknown", pods };
  const dead = openDecreaseDeadFirst(context);
  return { kind: "pending-fit-unknown", pods, unready: dead.length > 0 ? dead : [trigger.node] };
}

/**
 * The nodes long not Ready that the pool's open decrease removes before any other, in the order
 * Terraform destroys them, and no more than the min leaves room for: each may go whatever
 * pending pods ask, though the decrease, which removes another node too, is closed.
 */
function openDecreaseDeadFirst(context: PoolContext): string[] {
  const { current, bounds } = context;
  const leading = leadingUnready(context, openDecreaseRemoving(context) ?? []);
  return leading.slice(0, Math.max(0, (current ?? 0) - bounds.effectiveMin));
}

/**
 * An open decrease left open this plan is merged as it stands: the pods of the nodes it removes,
 * the pending pods counted on the pool's room and the pods of its cordoned nodes take room on the
 * nodes in no pool as those of a decrease decided now do (`placeDecrease` places both), so the
 * pools after it do not count on that room too. When the naming rule cannot tell every node it
 * removes, or the count it asks for or the pool's own is unknown (`openMayLower`), where its pods
 * go is unknown: the pools after it count on no room outside the pools while it is open.
 */
function reserveOpenDecrease(
  context: PoolContext,
  placedOn: ReadonlyMap<string, readonly PodInfo[]>,
): void {
  const { pool, current, facts } = context;
  const desired = facts?.openPullRequest?.desired;
  const removing = openDecreaseRemoving(context) ?? [];
  if (current === undefined || desired === undefined || removing.length < current - desired) {
    context.unpooledWithheld?.push(pool.name);
    return;
  }
  const { placedPods } = placeDecrease(context, removing, movingWithMembers(context, placedOn));
  takeRoom(context, placedPods, []);
}

/**
 * Whether the pool's open pull request may lower the count: it does (`openDecrease`), or the
 * count it asks for is unknown, or the count it changes is (the pool's own, or failing that the
 * one the pull request was opened against). One known to raise or keep the count removes no node.
 */
function openMayLower(context: PoolContext): boolean {
  const open = context.facts?.openPullRequest;
  if (!open) return false;
  const base = context.current ?? open.from;
  return open.desired === undefined || base === undefined || open.desired < base;
}

/** Whether the pool's open pull request lowers the count. */
function openDecrease(context: PoolContext): boolean {
  const { facts } = context;
  const desired = facts?.openPullRequest?.desired;
  return desired !== undefined && facts?.currentValue !== undefined && desired < facts.currentValue;
}

function pendingHolds(context: PoolContext, up: ScaleUpEvaluation): Hold[] {
  const holds: Hold[] = [];
  if (up.pending.neverFit.some((pod) => pod.reason === "shape-unknown")) {
    const why = context.shapeUnknown;
    // The keys the config leaves out, so that one set is not asked for again.
    const unset = (["cpu", "memory"] as const)
      .filter((key) => context.pool.newNode[key] === undefined)
      .map((key) => `newNode.${key}`);
    holds.push(
      why === undefined || why === "size"
        ? { kind: "shape-unknown", ...(unset.length > 0 ? { unset } : {}) }
        : { kind: "shape-unknown", daemonSets: why },
    );
  }
  if (up.waiting) {
    // At the max (or above it) no node is added for them, however long they wait, unless they go
    // on nodes the repo already asks for.
    const { current, bounds } = context;
    const atMax = current !== undefined && current >= bounds.effectiveMax;
    holds.push({
      kind: "pending-wait",
      pods: up.waiting.pods,
      pendingForMs: context.pool.scaleUp.pendingFor,
      until: up.waiting.until,
      ...(atMax ? { max: bounds.effectiveMax, bound: maxBound(bounds) } : {}),
      ...(atMax && current > bounds.effectiveMax ? { above: true as const } : {}),
      ...(atMax && current > bounds.effectiveMax && !context.pool.scaleDown.enabled
        ? { stays: true as const }
        : {}),
    });
  }
  return holds;
}

function usageUnknownHolds(context: PoolContext): Hold[] {
  const nodes = new Set<string>();
  const allocatable = new Set<string>();
  const resources: ("cpu" | "memory")[] = [];
  for (const resource of ["cpu", "memory"] as const) {
    const utilisation = context.utilisation[resource];
    if (utilisation.unknownNodes.length === 0) continue;
    resources.push(resource);
    for (const name of utilisation.unknownNodes) nodes.add(name);
    for (const name of utilisation.unknownAllocatable ?? []) allocatable.add(name);
  }
  if (resources.length === 0) return [];
  const hold: Hold = { kind: "usage-unknown", nodes: [...nodes], resources };
  if (allocatable.size > 0) hold.allocatable = [...allocatable];
  return [hold];
}

/**
 * Whether the decrease an open pull request asks for would, merged now, remove a Ready node
 * while a pool node is not Ready: the pods of the not-Ready nodes will need that room. One that
 * removes only the not-Ready nodes stays open (it is what will be wanted once they have been so
 * for `scaleDown.unreadyTime`), as does one that goes whatever is asked (`openDecreaseGoes`:
 * down to the max, say).
 */
function openDecreaseMeetsUnready(context: PoolContext): boolean {
  const { facts, pool, members, now } = context;
  const removing = openDecreaseRemoving(context);
  if (removing === undefined || openDecreaseGoes(context)) return false;
  if (unreadyHold(pool, facts, members, removing, now) === undefined) return false;
  return members.some((node) => node.ready && removing.includes(node.name));
}

/**
 * The nodes-unready hold that closes the pool's open decrease (`openDecreaseMeetsUnready`), so
 * the explanation says why, naming the max the count comes down to when it is above it, as
 * `orphansClosing` does. Without `stuck`: the plan's own decrease, not the open one, says whether
 * a node long not Ready stays for good.
 */
function unreadyClosing(context: PoolContext): Hold | undefined {
  const { pool, facts, members, now, current, bounds } = context;
  const hold = unreadyHold(pool, facts, members, openDecreaseRemoving(context) ?? [], now);
  if (hold?.kind !== "nodes-unready") return hold;
  const { stuck: _stuck, ...closing } = hold;
  if (!pool.scaleDown.enabled || current === undefined || current <= bounds.effectiveMax)
    return closing;
  const named = whatGoes(context, openDecreaseDeadFirst(context));
  return "max" in named ? { ...closing, ...named } : closing;
}

/**
 * Whether pods bound to nodes the cluster does not list would lose room to the open decrease:
 * one that removes only nodes that are not Ready takes none, as `orphanedHold` says, and one
 * that goes whatever they ask (`openDecreaseGoes`: down to the max, say) is not closed for them.
 */
function orphansInTheWay(context: PoolContext): boolean {
  const { facts, current } = context;
  if (context.index.orphans.length === 0 || openDecreaseGoes(context)) return false;
  const removing = openDecreaseRemoving(context);
  if (removing === undefined) return false;
  // A node the naming rule cannot tell may be a Ready one.
  const desired = facts?.openPullRequest?.desired ?? 0;
  if (current !== undefined && removing.length < current - desired) return true;
  return context.members.some((node) => node.ready && removing.includes(node.name));
}

/**
 * Why the pool's open decrease is not to merge as it stands, whatever holds the pool: the nodes
 * it removes (those the naming rule tells; more removed leave less room) take room that the pods
 * moving off them, the pending pods the plan counted on the pool's room and the pods of its
 * cordoned nodes need, placed as for a decrease decided now (`placeDecrease`): the pods that find
 * none, and those whose fit is unknown (their requests, volumes or claims not known, or a node of
 * unknown room may take them: `mayTakeUnknown`), as a pod whose fit is unknown closes an open
 * decrease while it waits (`fitUnknownClosing`). None when
 * every one finds room, or when a list the plan rests on was not read in full (pods not read may
 * be anywhere): missing data closes nothing the hold leaves open.
 */
function openDecreaseStranded(
  context: PoolContext,
  holds: readonly Hold[],
  pendingOnMembers: readonly PodInfo[],
): PullRequestCloseReason | undefined {
  if (!openDecrease(context) || context.index.podsUnread) return undefined;
  if (holds.some((hold) => hold.kind === "snapshot-incomplete")) return undefined;
  const nodes = openDecreaseRemoving(context) ?? [];
  if (nodes.length === 0) return undefined;
  const { unplaced, full } = placeDecrease(context, nodes, pendingOnMembers);
  if (unplaced.length === 0) return undefined;
  const pods: string[] = [];
  const unknown: string[] = [];
  for (const { pod, cause } of unplaced)
    (ASKS_UNKNOWN.has(cause) || mayTakeUnknown(context, nodes, full, pod) ? unknown : pods).push(
      podKey(pod),
    );
  return { kind: "pods-stranded", nodes, pods, ...(unknown.length > 0 ? { unknown } : {}) };
}

/**
 * Whether a node whose room is not known admits `pod` by its taints and labels: one of the pool's
 * nodes that stay, or a node in no pool, Ready and not cordoned but with pods whose requests (or
 * an allocatable) are unknown; a node in no pool that an earlier pool's open decrease, whose nodes
 * are not all known, may move pods onto; or a node of a pool whose open pull request changes the
 * count by an amount unknown, or whose requests are not known (`full`, `scaleUp.requests`). The
 * pod found no room on the nodes of known room, but may on such a node.
 */
function mayTakeUnknown(
  context: PoolContext,
  removed: readonly string[],
  full: readonly string[],
  pod: PodInfo,
): boolean {
  const unknownRoom = (node: NodeInfo) => {
    const why = nodeStateWhy(node, context.index);
    return why === "room-unknown" || why === "allocatable-unknown";
  };
  const admits = (node: NodeInfo) => placementConflict(pod, node) === undefined;
  const own = context.members.filter((node) => !removed.includes(node.name) && unknownRoom(node));
  const withheld = (context.unpooledWithheld ?? []).length > 0;
  const unpooled = context.unpooled.filter(
    (node) => unknownRoom(node) || (withheld && nodeStateWhy(node, context.index) === undefined),
  );
  const others = context.otherPools;
  const theirs = (others?.pools ?? []).flatMap(({ name, nodes }) => {
    if (name === context.pool.name) return [];
    const requestsUnknown = full.includes(name) && others?.headroom.get(name)?.unknown === true;
    return nodes.filter((node) => {
      const why = otherPoolWhy(context, name, node);
      if (why === "withheld") return others?.changeUnknown.has(name) === true;
      if (why === "room-unknown" || why === "allocatable-unknown") return true;
      return why === undefined && requestsUnknown;
    });
  });
  return [...own, ...unpooled, ...theirs].some(admits);
}

/** The nodes the open pull request's decrease would remove, by the naming rule; none if no decrease. */
function openDecreaseRemoving(context: PoolContext): string[] | undefined {
  const { facts, pool, members, current } = context;
  const desired = facts?.openPullRequest?.desired;
  if (desired === undefined || current === undefined || desired >= current) return undefined;
  const names = members.map((node) => node.name);
  return nodesToRemove(names, current, pool.removal, current - desired).flatMap((pick) =>
    "node" in pick ? [pick.node] : [],
  );
}

/**
 * What to do with the pool's pull request. A hold leaves an open one as it is, except that an
 * open decrease is closed while pods wait for room (merged, it would take room they need), or
 * will (off a node not Ready), or when it goes below the min of a window about to open, or when
 * the pods of the nodes it removes would not all find room (`stranded`, named), and the
 * max that keeps nodes from being added (`at-max`) leaves no open decrease; and one
 * whose count was changed under it, or that the bounds no longer allow, is closed whatever holds.
 */
function pullRequestAction(
  outcome: Outcome,
  facts: PoolRepoFacts | undefined,
  state: {
    podsWaiting: boolean;
    unreadyInTheWay: boolean;
    /** Why the open decrease, merged as it stands, would leave pods without room. */
    stranded?: PullRequestCloseReason | undefined;
    bounds: BoundsReport;
  },
): NodeDecision["pullRequest"] {
  const { podsWaiting, unreadyInTheWay, stranded, bounds } = state;
  const { action, holds } = outcome;
  const open = facts?.openPullRequest;
  if (!open) return { action: action === "none" ? "none" : "open" };
  const openDecrease =
    open.desired !== undefined &&
    facts?.currentValue !== undefined &&
    open.desired < facts.currentValue;
  // An open decrease that would take room pods wait for (or will, off a node not Ready or a
  // node the cluster no longer lists), or nodes a window about to open needs, is closed rather
  // than left to be merged.
  const decreaseUnwanted =
    openDecrease &&
    (podsWaiting ||
      unreadyInTheWay ||
      holds.some(
        (hold) =>
          hold.kind === "schedule-soon" && (open.desired ?? Number.POSITIVE_INFINITY) < hold.min,
      ));
  // Someone changed the count under it (3 → 5 on the default branch while it says 3 → 4): its
  // change no longer applies, and a hold (nodes joining for that change) is no reason to keep it.
  const overtaken =
    open.from !== undefined &&
    facts?.currentValue !== undefined &&
    open.from !== facts.currentValue;
  // A count the bounds no longer allow (the max lowered below it since it opened) is never to
  // merge, whatever holds the decision: an at-max hold says the plan stops at the max.
  const outOfBounds =
    open.desired !== undefined &&
    (open.desired > bounds.effectiveMax || open.desired < bounds.effectiveMin);
  // Pods waiting for `scaleUp.pendingFor` above the max hold nothing back: no node is added for
  // them, and the count comes down to the max all the same. Nor does the max (or the host cap)
  // that keeps nodes from being added hold back a decrease: above it, one the plan does not make
  // (the node's pods fit nowhere else, say) is closed as it would be with no pod asking for more.
  const holding = holds.filter(
    (hold) =>
      !(hold.kind === "pending-wait" && hold.above) && !(openDecrease && hold.kind === "at-max"),
  );
  let prAction: PullRequestAction = "close";
  if (action !== "none") prAction = "update";
  else if (holding.length > 0 && !decreaseUnwanted && !overtaken && !outOfBounds && !stranded)
    prAction = "leave";
  // A decrease whose nodes cannot go (a pending pod counted on their room, say) is closed, held
  // or not, and says why: merged, it would strand pods. One closed for pods waiting for room, a
  // window or nodes not Ready says so too when its removal would strand pods (the holds say the
  // rest); otherwise the holds say why.
  const closes =
    prAction !== "close"
      ? undefined
      : overtaken
        ? countChanged(open, facts?.currentValue as number)
        : outOfBounds
          ? outsideBounds(open.desired as number, bounds)
          : stranded;
  return { action: prAction, number: open.number, ...(closes ? { closes } : {}) };
}

/** The open pull request's change, made to a count the default branch no longer has. */
function countChanged(
  open: { desired?: number; from?: number },
  current: number,
): PullRequestCloseReason {
  return {
    kind: "count-changed",
    from: open.from as number,
    ...(open.desired === undefined ? {} : { desired: open.desired }),
    current,
  };
}

/** The bound in effect now that `desired` is outside of. */
function outsideBounds(desired: number, bounds: BoundsReport): PullRequestCloseReason {
  if (desired > bounds.effectiveMax)
    return { kind: "out-of-bounds", desired, bound: maxBound(bounds), limit: bounds.effectiveMax };
  const schedule = raisingSchedule(bounds);
  const asked = minAsked(bounds);
  return {
    kind: "out-of-bounds",
    desired,
    bound: "min",
    limit: bounds.effectiveMin,
    ...(schedule ? { schedule } : {}),
    ...(asked === undefined ? {} : { asked }),
  };
}

function withoutInternals(pending: ScaleUpEvaluation["pending"]): NodeDecision["pending"] {
  const {
    claimed: _claimed,
    placedOnExisting: _placed,
    overMaxNodes: _overMaxNodes,
    ...report
  } = pending;
  return report;
}
