import type { PoolConfig } from "../policy/repo-config.ts";
import { evictablePods } from "./blockers.ts";
import { type ClusterIndex, podKey } from "./cluster-index.ts";
import type { GpuComing } from "./gpu-coming.ts";
import type {
  BoundsReport,
  OutsidePlacement,
  OutsideTaken,
  Resource,
  UncountedNode,
} from "./node-decision.ts";
import type { PoolRepoFacts } from "./node-plan-input.ts";
import type { NodeShape, ShapeUnknown } from "./node-shape.ts";
import { type Bin, packOntoNodes, type UnplacedPod } from "./packing.ts";
import { peerRules, placePeer } from "./peer-rules.ts";
import { isCordoned } from "./pool-members.ts";
import { freeRoom, podDemand, takeFrom } from "./room.ts";
import { type NodeTraits, UNSCHEDULABLE_TAINT } from "./scheduling.ts";
import type { CsiVolumeLimits, NodeInfo, PodInfo, Resources } from "./snapshot.ts";
import type { ResourceUtilisation, TimedPercent } from "./utilisation.ts";

/** Everything one pool's evaluation reads, gathered once. */
export interface PoolContext {
  pool: PoolConfig;
  facts?: PoolRepoFacts;
  now: Date;
  index: ClusterIndex;
  members: NodeInfo[];
  ready: NodeInfo[];
  bounds: BoundsReport;
  /** The target's value in the repo; absent when unknown. */
  current?: number;
  shape?: NodeShape;
  /** Why `shape` is absent. */
  shapeUnknown?: ShapeUnknown;
  /**
   * A new node's allocatable when `shape` is absent for the room its DaemonSets leave alone:
   * what it adds to the pool's allocatable is known, what it offers pending pods is not.
   */
  newNodeAllocatable?: Resources;
  utilisation: Record<Resource, ResourceUtilisation>;
  history: Record<Resource, TimedPercent[]>;
  /** The pool's requests over time, as percentages of today's allocatable. */
  requestsHistory: Record<Resource, TimedPercent[]>;
  /**
   * Free room pending pods may take on existing nodes: every Ready, schedulable node of the
   * cluster, this pool's first. The bins are shared by the pools of one plan, so room one pool's
   * pending pods take is gone for the next.
   */
  existingBins: Bin[];
  /**
   * The nodes in no pool: control planes and the nodes no pool's selector matches. The planner
   * never removes them, so the pods of a node that goes may move into their room, as the
   * scheduler would put them there.
   */
  unpooled: NodeInfo[];
  /**
   * Every pool's nodes, and which of them another pool's decrease may count on: after the pool's
   * own nodes and the nodes in no pool, the pods of a node that goes may move to another pool's
   * nodes, as the scheduler would put them there, unless that pool removes the node in this plan,
   * its open decrease removes nodes the naming rule cannot tell, or its cordoned nodes' pods
   * need its room. Shared by the pools of one plan.
   */
  otherPools?: OtherPools;
  /**
   * Pods that take room on a node in this plan, with the node: the pending pods counted there
   * (whichever pool's packing put them there), then the pods an earlier pool's decrease moves
   * there. That room is theirs, not free for the pods of a node another pool removes; on the
   * pool's own nodes they move with the node that goes (`pendingOnExisting`). Shared by the
   * pools of one plan; set once every pool's pending pods were placed.
   */
  roomTaken?: {
    pod: PodInfo;
    node: string;
    /** The pool whose decrease moves it (none for a pending pod). */
    pool?: string;
  }[];
  /**
   * Pools before this one whose open decrease, kept open this plan, removes nodes the naming rule
   * cannot tell: where their pods go is unknown, so no room on `unpooled` nodes is counted while
   * it is open. Shared by the pools of one plan.
   */
  unpooledWithheld?: string[];
  /** The pool's Ready nodes whose GPU is not advertised yet (absent when none). */
  gpuComing?: GpuComing[];
  /** Nodes of this pool that other pools' selectors match too, and those pools. */
  overlap?: { nodes: string[]; pools: string[] };
  /**
   * The snapshot's `csiVolumeLimits`: how many CSI volumes each node can attach, which the pods
   * of a node that goes must stay within where they move.
   */
  csiVolumeLimits?: CsiVolumeLimits | "unknown";
  /**
   * The pending pods the pools before this one counted on existing nodes' room, with the node
   * each went on: their room is already taken from the shared bins, and their host ports, CSI
   * volumes and pod (anti-)affinity count there too when this pool places its own.
   */
  earlierPending?: { pod: PodInfo; node: string }[];
}

/**
 * What the pools of one plan know of one another's nodes, for the pods of a node that goes.
 */
export interface OtherPools {
  /**
   * Each pool's nodes, in config order, each in the order of names; a node two pools' selectors
   * match is in neither (the overlap hold stops those pools).
   */
  pools: { name: string; nodes: NodeInfo[] }[];
  /** The pool of each node of `pools`, by name. */
  poolOf: Map<string, string>;
  /**
   * Nodes a pool removes in this plan, with that pool: the nodes every open decrease removes as
   * the naming rule tells them (set before any pool is planned, so that an earlier pool does not
   * count on a node a later pool's open pull request removes), then the nodes of each decrease
   * decided, as its pool is planned.
   */
  removed: Map<string, string>;
  /**
   * Pools whose open decrease removes nodes the naming rule cannot all tell, or whose open pull
   * request may lower a count that is unknown, or ask for one that is (`changeUnknown`).
   */
  withheld: Set<string>;
  /** Among `withheld`: the pools whose open pull request's change to the count is unknown. */
  changeUnknown: Set<string>;
  /** Pools with Ready cordoned nodes whose pods a drain would move: their room is for those. */
  draining: Set<string>;
  /**
   * Pools with `scaleUp.requests`, and the requests their nodes may still take before reaching
   * it: pods moved there must not take the pool to its threshold, or its next plan adds a node
   * for them. Less what the decreases planned before took there. `unknown`: the pool's requests
   * could not be read, so it has none.
   */
  headroom: Map<string, { cpu: number; memory: number; unknown?: true }>;
}

/**
 * Bins for every node that can take pending pods now (Ready, room known), by name: the
 * scheduler places a pending pod on any node that admits it, in a pool or not (an untainted
 * control plane, a node no pool selects). A cordoned node takes only the pods that tolerate
 * its `node.kubernetes.io/unschedulable:NoSchedule` taint, as the scheduler's NodeUnschedulable
 * plugin lets them in: its bin carries that taint.
 */
export function clusterBins(nodes: readonly NodeInfo[], index: ClusterIndex): Map<string, Bin> {
  const bins = new Map<string, Bin>();
  for (const node of nodes) {
    const bin = binOf(node, index, true);
    if (bin) bins.set(node.name, bin);
  }
  return bins;
}

/** Where the pods of the nodes that go were placed, as far as packing found room. */
export interface MoveResult {
  unplaced: UnplacedPod[];
  /** The pods placed on nodes outside the pool, by node, in the order the nodes are offered. */
  outside: OutsidePlacement[];
  /**
   * Every pod placed, each with its node, in the pool or not: the room they take there once the
   * node goes, which the pools planned after this one must not count on.
   */
  placedPods: { pod: PodInfo; node: string }[];
  /**
   * Nodes outside the pool offered with room an earlier pool's decrease moves pods into, and
   * those pools; nodes in no pool withheld by an earlier pool's open decrease.
   */
  taken: OutsideTaken[];
  /** Other pools not offered: the pods moved there would take their requests to `scaleUp.requests`. */
  full: string[];
}

/** What a decrease removing `removed` moves, and where it goes: see `placeDecrease`. */
export interface DecreaseMove extends MoveResult {
  /** The evictable pods of the nodes in `removed`. */
  pods: PodInfo[];
  /** The pool's Ready cordoned nodes with pods to move (those in `removed` aside), and their pods. */
  cordoned: { nodes: string[]; pods: PodInfo[] };
}

/**
 * Places what must find room once the nodes `removed` go, as the drain would move it: their
 * evictable pods, the pending pods the plan counted on the pool's room, and the pods of the
 * pool's cordoned nodes (about to be drained). A decrease decided now and one already open, left
 * open, are placed alike.
 */
export function placeDecrease(
  context: PoolContext,
  removed: readonly string[],
  pendingOnExisting: readonly PodInfo[],
): DecreaseMove {
  const byNode = removed.map((name) =>
    evictablePods(context.index.podsByNode.get(name) ?? [], context.pool.expendablePriority),
  );
  const pods = byNode.flat();
  const cordoned = cordonedPods(context, removed);
  // The nodes after the first in the order they join the run: the pods of each find room once
  // those of the nodes before it took theirs, so a pod that does not fit is of the node that
  // made the run too long.
  const [own = [], ...later] = byNode.map((entry) => entry.map(replacement));
  const moving = [...own, ...pendingOnExisting, ...cordoned.pods];
  return { ...placeMoving(context, moving, removed, cordoned.nodes, later), pods, cordoned };
}

/**
 * The pod its controller makes in place of `pod` once evicted, as far as where it may run goes:
 * a generic ephemeral volume's claim is deleted with its pod, and the new pod gets a claim of
 * its own, made where it goes (`remade`), not the volume the evicted one had.
 */
function replacement(pod: PodInfo): PodInfo {
  if (!pod.volumeClaims?.some((claim) => claim.remade)) return pod;
  return { ...pod, volumeClaims: pod.volumeClaims.map((claim) => claim.remade ?? claim) };
}

/**
 * Places `moving` (the pods of the nodes in `removed`, with those of `leaving`, cordoned nodes on
 * their way out, and pending pods counted on the pool's room) on the nodes that can take them:
 * the pool's other nodes first, then the nodes in no pool, then the nodes of the other pools
 * offered (`otherPools`), each with its taints, labels, pods and room, less the room `roomTaken`
 * gives others there. The rules that depend on other pods see the pods of `removed` and
 * `leaving` gone, and a node takes no more CSI volumes than its CSINode allows. A pool whose
 * `scaleUp.requests` the pods moved onto its nodes would reach is not offered. `later`: the pods
 * of further nodes of `removed`, node by node, each placed once those before it took their room.
 */
export function placeMoving(
  context: PoolContext,
  moving: readonly PodInfo[],
  removed: readonly string[],
  leaving: readonly string[],
  later: readonly (readonly PodInfo[])[] = [],
): MoveResult {
  const full = new Set<string>();
  for (;;) {
    const attempt = placeOnce(context, moving, removed, leaving, later, full);
    const over = overHeadroom(context, attempt.placed);
    if (over.length === 0) return { ...attempt.result, full: [...full] };
    for (const pool of over) full.add(pool);
  }
}

/** One placement of `placeMoving`, the pools in `full` not offered. */
function placeOnce(
  context: PoolContext,
  moving: readonly PodInfo[],
  removed: readonly string[],
  leaving: readonly string[],
  later: readonly (readonly PodInfo[])[],
  full: ReadonlySet<string>,
): { result: Omit<MoveResult, "full">; placed: Map<PodInfo, Bin> } {
  const all = later.length > 0 ? [...moving, ...later.flat()] : moving;
  const withheld = context.unpooledWithheld ?? [];
  const taken: OutsideTaken[] = [];
  // An earlier pool's open decrease whose pods may go to any node in no pool: none is offered.
  const bins = schedulableBins(context, removed, full).filter((bin) => {
    if (!bin.outside || bin.pool !== undefined || withheld.length === 0) return true;
    const unknown = context.otherPools?.changeUnknown;
    const naming = withheld.filter((pool) => !unknown?.has(pool));
    const changing = withheld.filter((pool) => unknown?.has(pool));
    if (naming.length > 0) taken.push({ node: bin.name, pools: naming, withheld: true });
    if (changing.length > 0)
      taken.push({ node: bin.name, pools: changing, withheld: true, changeUnknown: true });
    return false;
  });
  const byName = new Map(bins.map((bin) => [bin.name, bin]));
  const held = (context.roomTaken ?? []).flatMap(({ pod, node, pool }) => {
    const bin = byName.get(node);
    return bin?.outside ? [{ pod, bin, pool }] : [];
  });
  const rules = peerRules(
    context.index,
    held.length > 0 ? [...all, ...held.map((entry) => entry.pod)] : all,
    [...removed, ...leaving],
    context.csiVolumeLimits,
  );
  for (const { pod, bin, pool } of held) {
    takeFrom(bin.room, podDemand(pod));
    if (rules) placePeer(rules, pod, bin);
    if (pool === undefined) continue;
    const entry = taken.find((known) => known.node === bin.name);
    if (!entry) taken.push({ node: bin.name, pools: [pool] });
    else if (!entry.pools.includes(pool)) entry.pools.push(pool);
  }
  const placed = new Map<PodInfo, Bin>();
  const unplaced = packOntoNodes(moving, bins, rules, placed, later);
  const outside: OutsidePlacement[] = [];
  const placedPods: { pod: PodInfo; node: string }[] = [];
  for (const pod of all) {
    const bin = placed.get(pod);
    if (bin) placedPods.push({ pod, node: bin.name });
  }
  for (const bin of bins) {
    if (!bin.outside) continue;
    const pods = all.filter((pod) => placed.get(pod) === bin);
    if (pods.length === 0) continue;
    const controlPlane = context.index.nodes.get(bin.name)?.controlPlane === true;
    outside.push({
      node: bin.name,
      ...(bin.pool !== undefined ? { pool: bin.pool } : controlPlane ? { controlPlane } : {}),
      pods: pods.map(podKey),
    });
  }
  return { result: { unplaced, outside, placedPods, taken }, placed };
}

/**
 * The pools whose nodes `placed` puts pods on whose requests would take them to their
 * `scaleUp.requests` (`OtherPools.headroom`): its next plan would add a node for them.
 */
function overHeadroom(context: PoolContext, placed: ReadonlyMap<PodInfo, Bin>): string[] {
  const headroom = context.otherPools?.headroom;
  if (!headroom || headroom.size === 0) return [];
  const took = new Map<string, { cpu: number; memory: number }>();
  for (const [pod, bin] of placed) {
    if (bin.pool === undefined || !headroom.has(bin.pool)) continue;
    const sum = took.get(bin.pool) ?? { cpu: 0, memory: 0 };
    sum.cpu += pod.requests.cpu ?? 0;
    sum.memory += pod.requests.memory ?? 0;
    took.set(bin.pool, sum);
  }
  return [...took].flatMap(([pool, sum]) => {
    const left = headroom.get(pool) as { cpu: number; memory: number };
    return sum.cpu >= left.cpu || sum.memory >= left.memory ? [pool] : [];
  });
}

/**
 * Nodes that can take the pods of a node that goes now (Ready, not cordoned, room known), with
 * their free room: the pool's own (those in `except` aside), then the nodes in no pool, then the
 * other pools' nodes that `otherPoolWhy` offers (those of the pools in `full` aside). A cordoned
 * node is left out whatever the pods tolerate: it is usually being drained, so the pods of a node
 * to remove do not go there.
 */
function schedulableBins(
  context: PoolContext,
  except: readonly string[],
  full: ReadonlySet<string> = new Set(),
): Bin[] {
  const bins: Bin[] = [];
  for (const node of context.ready) {
    const bin = except.includes(node.name) ? undefined : binOf(node, context.index, false);
    if (bin) bins.push(bin);
  }
  for (const node of context.unpooled) {
    const bin = binOf(node, context.index, false);
    if (bin) bins.push({ ...bin, outside: true });
  }
  const others = context.otherPools;
  if (!others) return bins;
  for (const { name, nodes } of others.pools) {
    if (name === context.pool.name || full.has(name)) continue;
    for (const node of nodes) {
      const bin = otherPoolWhy(context, name, node) ? undefined : binOf(node, context.index, false);
      if (bin) bins.push({ ...bin, outside: true, pool: name });
    }
  }
  return bins;
}

/**
 * Why a node of pool `pool` (not the one planned) is not offered to the pods of a node that goes:
 * that pool removes it in this plan, its open decrease removes nodes the naming rule cannot tell,
 * its own Ready cordoned nodes' pods need its room, or the node is not Ready, cordoned, or of
 * unknown room; `undefined` when it is offered.
 */
export function otherPoolWhy(
  context: PoolContext,
  pool: string,
  node: NodeInfo,
): UncountedNode["why"] | undefined {
  const others = context.otherPools;
  if (others?.withheld.has(pool)) return "withheld";
  if (others?.removed.has(node.name)) return "removed";
  const state = nodeStateWhy(node, context.index);
  if (state) return state;
  if (others?.draining.has(pool)) return "draining";
  return undefined;
}

/** Why a node's room is not given to pods: not Ready, cordoned, or its room unknown. */
export function nodeStateWhy(
  node: NodeInfo,
  index: ClusterIndex,
): "not-ready" | "cordoned" | "room-unknown" | "allocatable-unknown" | undefined {
  if (!node.ready) return "not-ready";
  if (isCordoned(node)) return "cordoned";
  const unknown = roomUnknown(node, index);
  if (unknown === "requests") return "room-unknown";
  if (unknown === "allocatable") return "allocatable-unknown";
  return undefined;
}

/**
 * The pods a drain of the pool's Ready cordoned nodes would evict (those in `except` aside),
 * and those nodes: a node is cordoned ahead of `kubectl drain`, so its pods are on their way to
 * the nodes that take pods, and a node removed meanwhile must leave them room.
 */
export function cordonedPods(
  context: PoolContext,
  except: readonly string[],
): { nodes: string[]; pods: PodInfo[] } {
  const nodes: string[] = [];
  const pods: PodInfo[] = [];
  for (const node of context.members) {
    if (!node.ready || !isCordoned(node) || except.includes(node.name)) continue;
    const evicted = evictablePods(
      context.index.podsByNode.get(node.name) ?? [],
      context.pool.expendablePriority,
    );
    if (evicted.length === 0) continue;
    nodes.push(node.name);
    pods.push(...evicted.map(replacement));
  }
  return { nodes, pods };
}

/**
 * The node's free room, when it can take pods now: Ready, room known, and not cordoned unless
 * `cordoned` lets a cordoned node in, as a node tainted unschedulable.
 */
/**
 * Why a node's room cannot be counted, so that no pod is given it: a request of one of its pods
 * (`requests`), or its cpu, memory or pods allocatable (`allocatable`), could not be read.
 */
export function roomUnknown(
  node: NodeInfo,
  index: ClusterIndex,
): "requests" | "allocatable" | undefined {
  if (index.requestsUnknown.has(node.name)) return "requests";
  if (freeRoom(node.allocatable, undefined) === undefined) return "allocatable";
  return undefined;
}

function binOf(node: NodeInfo, index: ClusterIndex, cordoned: boolean): Bin | undefined {
  const unschedulable = isCordoned(node);
  if (!node.ready || (unschedulable && !cordoned) || index.requestsUnknown.has(node.name))
    return undefined;
  const room = freeRoom(node.allocatable, index.usedByNode.get(node.name));
  if (!room) return undefined;
  return { name: node.name, traits: unschedulable ? cordonedTraits(node) : node, room };
}

/**
 * The node lifecycle controller taints a cordoned node `node.kubernetes.io/unschedulable`
 * (NoSchedule); a node read without that taint is judged as carrying it all the same. A node
 * cordoned by `spec.unschedulable` is marked so, as kube-scheduler names it: `node(s) were
 * unschedulable`, not an untolerated taint.
 */
function cordonedTraits(node: NodeInfo): NodeTraits {
  const tainted = node.taints.some(
    (taint) => taint.key === UNSCHEDULABLE_TAINT.key && taint.effect === UNSCHEDULABLE_TAINT.effect,
  );
  const traits = tainted ? node : { ...node, taints: [...node.taints, UNSCHEDULABLE_TAINT] };
  return node.unschedulable ? { ...traits, cordoned: true } : traits;
}

/**
 * The pods that take room on the pool's nodes in this plan (`roomTaken`): the pending pods counted
 * there (whichever pool's packing put them there), and those the decreases of other pools, planned
 * before this one, move there, with that pool. They move with a node of the pool that goes, and
 * count in its requests once it is gone.
 */
export function countedOnPool(context: PoolContext): {
  pending: PodInfo[];
  moved: { pod: PodInfo; pool: string }[];
} {
  const names = new Set(context.members.map((node) => node.name));
  const pending: PodInfo[] = [];
  const moved: { pod: PodInfo; pool: string }[] = [];
  for (const { pod, node, pool } of context.roomTaken ?? []) {
    if (!names.has(node)) continue;
    if (pool === undefined) pending.push(pod);
    else if (pool !== context.pool.name) moved.push({ pod, pool });
  }
  return { pending, moved };
}
