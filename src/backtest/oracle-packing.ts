import { type NodeTraits, placementConflict } from "../planning/scheduling.ts";
import type { PodInfo } from "../planning/snapshot.ts";
import { poolNodeIndex, poolNodeName } from "./parse-trace.ts";
import type { NodeResources, Trace, TraceNode, TracePool } from "./trace.ts";

/** What a pod needs at one moment: cpu in millicores, memory in bytes. */
export interface Need {
  cpu: number;
  memory: number;
}

/**
 * Where a pod may go by its selectors and tolerations, sizes aside; it does not change over
 * the pod's life, so it is worked out once.
 */
export interface Placement {
  /** Per fixed node (trace order). */
  fixed: boolean[];
  /**
   * Per pool (trace order): `"any"` node, the count index of the one node its hostname
   * selector names, or undefined when it may not go on the pool's nodes.
   */
  pools: (PoolSlot | undefined)[];
  /**
   * The pool (trace order) whose node the pod's hostname names at or beyond the pool's `max`:
   * that node never exists, so the pool's slot is undefined.
   */
  beyondMax?: number;
}

type PoolSlot = "any" | number;

/** A live pod to pack: `pod` is handed back when it fits nowhere. */
export interface PackItem<T> {
  pod: T;
  need: Need;
  placement: Placement;
}

/** The fewest pool nodes that hold a moment's pods. */
export interface PoolNeeds<T> {
  /** Per pool (trace order): its fewest nodes while the other pools may have any number. */
  pools: number[];
  /** The fewest pool nodes in all: at least the sum of `pools`. */
  total: number;
  /** False when a search ran out of steps and a figure is only a proven lower bound. */
  exact: boolean;
  /** Pods that fit no node of any kind even alone, in the order given. */
  unplaceable: T[];
}

/**
 * The searches for the fewest nodes of one run: how many branches they may still try (each
 * search at most `perSearch`), and what the searches of earlier steps found for the same
 * pods. A search that runs out settles for the lower bound it has proven.
 */
export class PackingSearch {
  left: number;
  readonly perSearch: number;
  private readonly found = new Map<string, { count: number; exact: boolean }>();

  /** A day's packings settle in far fewer branches than these. */
  constructor(left = 2_000_000, perSearch = 20_000) {
    this.left = left;
    this.perSearch = perSearch;
  }

  /**
   * The count `search` finds for `items`, or the one found before for the same pods (by their
   * needs and placements) under the same `key`.
   */
  settle<T>(
    key: string,
    items: readonly PackItem<T>[],
    search: (budget: { left: number }) => { count: number; exact: boolean },
  ): { count: number; exact: boolean } {
    const kinds = items.map(kindOf).sort().join(";");
    const cacheKey = `${key}|${kinds}`;
    const known = this.found.get(cacheKey);
    if (known) return known;
    const budget = { left: Math.min(this.perSearch, this.left) };
    const start = budget.left;
    const result = search(budget);
    this.left -= start - Math.max(0, budget.left);
    if (this.found.size >= 1_000) this.found.clear();
    this.found.set(cacheKey, result);
    return result;
  }
}

/** A pod's need and placement as text: pods of the same kind pack alike. */
function kindOf<T>(item: PackItem<T>): string {
  return `${item.need.cpu}/${item.need.memory}/${JSON.stringify(item.placement)}`;
}

/** Where a pod may go by its nodeSelector and tolerations, on each fixed node and pool. */
export function placementOf(info: PodInfo, trace: Trace): Placement {
  const host = info.nodeSelector["kubernetes.io/hostname"];
  let beyondMax: number | undefined;
  const placement: Placement = {
    fixed: trace.nodes.map((node) => placementConflict(info, fixedTraits(node)) === undefined),
    pools: trace.pools.map((pool, p): PoolSlot | undefined => {
      const index = host === undefined ? undefined : poolNodeIndex(pool, host);
      if (placementConflict(info, poolTraits(pool, index ?? 0)) !== undefined) return undefined;
      if (index !== undefined && pool.max !== undefined && index >= pool.max) {
        beyondMax = p;
        return undefined;
      }
      return index ?? "any";
    }),
  };
  if (beyondMax !== undefined) placement.beyondMax = beyondMax;
  return placement;
}

/**
 * Whether the pool's `max` alone keeps the pod from every node: it fits no node even alone,
 * but the pool node its hostname names, beyond that `max`, would take it.
 */
export function heldOnlyBeyondMax(need: Need, placement: Placement, trace: Trace): boolean {
  if (placement.beyondMax === undefined || fitsAnyNodeAlone(need, placement, trace)) return false;
  const pool = trace.pools[placement.beyondMax];
  return pool !== undefined && fitsRoom(need, pool.allocatable);
}

/**
 * The fewest pool nodes the pods need, each pod its `need` of cpu and memory and one pod slot:
 * per pool the minimum over every placement (pods that another pool could take left to it),
 * found by a search between lower bounds and first-fit decreasing, and with several pools the
 * fewest in all, searched for from the sum of those. Pods that only fixed nodes take are packed
 * there first; one that finds no room there is left out (it waits whatever the autoscaler
 * does), and one that fits no node even alone is returned as unplaceable.
 */
export function poolNeeds<T>(
  trace: Trace,
  items: readonly PackItem<T>[],
  search: PackingSearch = new PackingSearch(),
): PoolNeeds<T> {
  const scale = largestNode(trace);
  const size = (need: Need) => Math.max(need.cpu / scale.cpu, need.memory / scale.memory);
  const sorted = items
    .map((item, order) => ({ ...item, order, size: size(item.need) }))
    .sort((a, b) => b.size - a.size || a.order - b.order);
  const unplaceable: Sorted<T>[] = [];
  const fixedOnly: Sorted<T>[] = [];
  /** Pods a pool can take, and per pool those no other pool can. */
  const inPools: Sorted<T>[] = [];
  const byPool = trace.pools.map((): Sorted<T>[] => []);
  for (const item of sorted) {
    const pools = trace.pools.flatMap((pool, p) => (poolSlotFor(item, pool, p) ? [p] : []));
    if (pools.length > 0) {
      inPools.push(item);
      if (pools.length === 1) byPool[pools[0] as number]?.push(item);
    } else if (trace.nodes.some((node, i) => fixedFits(item, node, i))) fixedOnly.push(item);
    else unplaceable.push(item);
  }
  const onFixed = packFixedOnly(trace, fixedOnly);
  let exact = true;
  const counts = trace.pools.map((_, p) => {
    const result = fewestNodes(trace, p, [...onFixed, ...(byPool[p] ?? [])], search);
    exact &&= result.exact;
    return result.count;
  });
  const poolBound = counts.reduce((sum, count) => sum + count, 0);
  let total = Math.max(poolBound, togetherBound(trace, [...onFixed, ...inPools]));
  // Each pool's count leaves the pods another pool could take to it, and the fixed nodes' room
  // to its own pods: with several pools the fewest in all is searched for from there.
  if (trace.pools.length > 1) {
    const joint = fewestInAll(trace, counts, total, [...onFixed, ...inPools], search);
    total = joint.total;
    exact &&= joint.exact;
  }
  return {
    pools: counts,
    total,
    exact,
    unplaceable: unplaceable.sort((a, b) => a.order - b.order).map((item) => item.pod),
  };
}

/**
 * The fewest pool nodes in all, from `lower` up to what first-fit decreasing over every pool
 * needs: each total is tried with every split between the pools that gives each at least its
 * own fewest (`fewest`).
 */
function fewestInAll<T>(
  trace: Trace,
  fewest: readonly number[],
  lower: number,
  items: readonly Sorted<T>[],
  search: PackingSearch,
): { total: number; exact: boolean } {
  const all = trace.pools.map((_, p) => p);
  const { counts, kept } = firstFitDecreasing(trace, all, items);
  const upper = trace.pools.reduce(
    (sum, pool, p) => sum + Math.max(pool.min, counts[p] as number, fewest[p] as number),
    0,
  );
  if (lower >= upper) return { total: lower, exact: true };
  const found = search.settle(`all/${fewest.join(",")}/${lower}`, kept, (budget) => {
    for (let total = lower; total < upper; total++)
      for (const split of splits(fewest, total)) {
        const packed = packs(trace, split, kept, budget);
        if (packed === undefined) return { count: total, exact: false };
        if (packed) return { count: total, exact: true };
      }
    return { count: upper, exact: true };
  });
  return { total: found.count, exact: found.exact };
}

/** Every way to give each pool at least `fewest` nodes and `total` in all, one at a time. */
function* splits(fewest: readonly number[], total: number): Generator<number[]> {
  const spare = total - fewest.reduce((sum, count) => sum + count, 0);
  if (spare >= 0)
    for (const share of shares(fewest.length, spare))
      yield share.map((extra, p) => (fewest[p] as number) + extra);
}

/** Every way to share `spare` out between `pools`, the first pool's largest share first. */
function* shares(pools: number, spare: number): Generator<number[]> {
  if (pools <= 1) {
    yield [spare];
    return;
  }
  for (let first = spare; first >= 0; first--)
    for (const rest of shares(pools - 1, spare - first)) yield [first, ...rest];
}

interface Sorted<T> extends PackItem<T> {
  order: number;
  size: number;
}

interface Bin {
  /** Pool index, or -1 for a fixed node. */
  pool: number;
  /** Count index within the pool, or the fixed node's index. */
  index: number;
  free: NodeResources;
}

/** The pods only fixed nodes take, first-fit decreasing; those left without room drop out. */
function packFixedOnly<T>(trace: Trace, items: readonly Sorted<T>[]): Sorted<T>[] {
  const bins = fixedBins(trace);
  return items.filter((item) => {
    const bin = bins.find((candidate) => fitsBin(item, candidate));
    if (bin) take(bin, item.need);
    return bin !== undefined;
  });
}

/**
 * Pool `p`'s fewest nodes for `items` (fixed-only pods first): first-fit decreasing gives a
 * count that works, bounds give one nothing can go below, and a search settles the counts in
 * between, from the lowest up.
 */
function fewestNodes<T>(
  trace: Trace,
  p: number,
  items: readonly Sorted<T>[],
  search: PackingSearch,
): { count: number; exact: boolean } {
  const pool = trace.pools[p] as TracePool;
  const { counts, kept } = firstFitDecreasing(trace, [p], items);
  const upper = counts[p] as number;
  let lower = Math.max(pool.min, simpleBound(trace, p, kept));
  if (lower < upper) lower = Math.max(lower, perResourceBound(trace, p, kept));
  if (lower >= upper) return { count: lower, exact: true };
  return search.settle(`${p}/${lower}`, kept, (budget) => {
    for (let count = lower; count < upper; count++) {
      const found = packs(trace, onlyPool(trace, p, count), kept, budget);
      if (found === undefined) return { count, exact: false };
      if (found) return { count, exact: true };
    }
    return { count: upper, exact: true };
  });
}

/** Counts per pool with `count` nodes of pool `p` and none of the others. */
function onlyPool(trace: Trace, p: number, count: number): number[] {
  return trace.pools.map((_, i) => (i === p ? count : 0));
}

/**
 * First-fit decreasing onto the fixed nodes, then the nodes of `pools` in the order they were
 * added, adding the next index of the first pool that takes the pod when none has room (or up
 * to the index its hostname names). Returns the counts per pool (trace order) and the pods it
 * placed: a pod whose named node is full, or a fixed-only pod without room, is left out, as no
 * packing could hold it.
 */
function firstFitDecreasing<T>(
  trace: Trace,
  pools: readonly number[],
  items: readonly Sorted<T>[],
): { counts: number[]; kept: Sorted<T>[] } {
  const bins = fixedBins(trace);
  const counts = trace.pools.map(() => 0);
  const kept: Sorted<T>[] = [];
  for (const item of items) {
    let bin = bins.find((candidate) => fitsBin(item, candidate));
    for (const p of bin ? [] : pools) {
      const pool = trace.pools[p] as TracePool;
      const slot = item.placement.pools[p];
      const count = counts[p] as number;
      if (!poolSlotFor(item, pool, p) || slot === undefined) continue;
      const index = slot === "any" ? count : slot;
      if (index < count) continue;
      for (let next = count; next <= index; next++) bins.push(poolBin(pool, p, next));
      counts[p] = index + 1;
      bin = bins.at(-1);
      break;
    }
    if (!bin) continue;
    take(bin, item.need);
    kept.push(item);
  }
  return { counts, kept };
}

/**
 * Whether the items fit the fixed nodes and `counts` nodes of each pool: a depth-first search,
 * biggest pod first, that tries one of each set of pool nodes alike. Undefined when the budget
 * ran out.
 */
function packs<T>(
  trace: Trace,
  counts: readonly number[],
  items: readonly Sorted<T>[],
  budget: { left: number },
): boolean | undefined {
  const bins = fixedBins(trace);
  trace.pools.forEach((pool, p) => {
    for (let index = 0; index < (counts[p] ?? 0); index++) bins.push(poolBin(pool, p, index));
  });
  // A pool node that a pod's hostname names is not like the others.
  const named = new Set<string>();
  for (const item of items)
    item.placement.pools.forEach((slot, p) => {
      if (typeof slot === "number") named.add(`${p}/${slot}`);
    });
  const rest = suffixTotals(items);
  const free = { cpu: 0, memory: 0, pods: 0 };
  for (const bin of bins) add(free, bin.free, 1);
  // A pod like the one before it goes to the same node or a later one: the other orders are
  // the same packings.
  const kinds = items.map(kindOf);
  const chosen = new Array<number>(items.length).fill(0);
  const place = (i: number): boolean | undefined => {
    const item = items[i];
    if (!item) return true;
    if (--budget.left < 0) return undefined;
    const left = rest[i] as NodeResources;
    if (left.cpu > free.cpu || left.memory > free.memory || left.pods > free.pods) return false;
    const tried = new Set<string>();
    const from = i > 0 && kinds[i] === kinds[i - 1] ? (chosen[i - 1] as number) : 0;
    for (let b = from; b < bins.length; b++) {
      const bin = bins[b] as Bin;
      if (!fitsBin(item, bin)) continue;
      if (bin.pool >= 0 && !named.has(`${bin.pool}/${bin.index}`)) {
        const key = `${bin.pool}/${bin.free.cpu}/${bin.free.memory}/${bin.free.pods}`;
        if (tried.has(key)) continue;
        tried.add(key);
      }
      chosen[i] = b;
      take(bin, item.need);
      add(free, { ...item.need, pods: 1 }, -1);
      const found = place(i + 1);
      add(free, { ...item.need, pods: 1 }, 1);
      give(bin, item.need);
      if (found !== false) return found;
    }
    return false;
  };
  return place(0);
}

/** What the items from each index on need in all, pods counted. */
function suffixTotals<T>(items: readonly Sorted<T>[]): NodeResources[] {
  const totals: NodeResources[] = new Array(items.length + 1);
  totals[items.length] = { cpu: 0, memory: 0, pods: 0 };
  for (let i = items.length - 1; i >= 0; i--) {
    const next = totals[i + 1] as NodeResources;
    const need = (items[i] as Sorted<T>).need;
    totals[i] = {
      cpu: next.cpu + need.cpu,
      memory: next.memory + need.memory,
      pods: next.pods + 1,
    };
  }
  return totals;
}

/**
 * Nodes pool `p` needs at least: up to the highest index a pod's hostname names, and enough
 * room for what the items need beyond what the fixed nodes they may use have, in each of cpu,
 * memory and pod slots, counting only the pods no fixed node takes as well.
 */
function simpleBound<T>(trace: Trace, p: number, items: readonly Sorted<T>[]): number {
  const pool = trace.pools[p] as TracePool;
  let bound = 0;
  for (const item of items) {
    const slot = item.placement.pools[p];
    if (typeof slot === "number") bound = Math.max(bound, slot + 1);
  }
  const poolOnly = onNoFixedNode(trace, items);
  bound = Math.max(bound, roomBound(poolOnly, pool.allocatable, zero()));
  const usable = zero();
  trace.nodes.forEach((node, i) => {
    if (items.some((item) => item.placement.fixed[i])) add(usable, node.allocatable, 1);
  });
  return Math.max(bound, roomBound(items, pool.allocatable, usable));
}

/** Nodes of size `node` that what `items` need beyond `besides` takes, resource by resource. */
function roomBound<T>(
  items: readonly PackItem<T>[],
  node: NodeResources,
  besides: NodeResources,
): number {
  const total = zero();
  for (const item of items) add(total, { ...item.need, pods: 1 }, 1);
  let bound = 0;
  for (const resource of ["cpu", "memory", "pods"] as const) {
    const beyond = total[resource] - besides[resource];
    if (beyond > 0) bound = Math.max(bound, Math.ceil(beyond / node[resource]));
  }
  return bound;
}

/**
 * Martello and Toth's bound L2 for the pods no fixed node takes, in cpu and in memory apart:
 * pods bigger than half a node each need their own, and the smaller ones fill what is left.
 */
function perResourceBound<T>(trace: Trace, p: number, items: readonly Sorted<T>[]): number {
  const pool = trace.pools[p] as TracePool;
  const poolOnly = onNoFixedNode(trace, items);
  let bound = 0;
  for (const resource of ["cpu", "memory"] as const) {
    const sizes = poolOnly.map((item) => item.need[resource]);
    const capacity = pool.allocatable[resource];
    bound = Math.max(bound, binPackingBound(sizes, capacity), countBound(sizes, capacity));
  }
  return bound;
}

/**
 * Bins for sizes that each fit one of `capacity`, counted by size: a bin holds at most
 * floor(capacity / s) sizes of `s` or more (16 one-core pods need 6 nodes of 3.8 cores, where
 * their sum says 5).
 */
export function countBound(sizes: readonly number[], capacity: number): number {
  const desc = sizes.filter((size) => size > 0).sort((a, b) => b - a);
  let bound = 0;
  desc.forEach((size, i) => {
    if (size !== desc[i + 1])
      bound = Math.max(bound, Math.ceil((i + 1) / Math.floor(capacity / size)));
  });
  return bound;
}

/**
 * L2 of one-dimensional bin packing (Martello and Toth, 1990) for sizes that each fit a bin of
 * `capacity`: for each cut `k` up to half a bin, the sizes above `capacity - k` and those
 * above half each need a bin of their own, and the sizes from `k` to half need at least what
 * the room beside the big ones cannot take.
 */
export function binPackingBound(sizes: readonly number[], capacity: number): number {
  const desc = [...sizes].sort((a, b) => b - a);
  const prefix = [0];
  for (const value of desc) prefix.push((prefix.at(-1) as number) + value);
  /** How many sizes come before the first for which `holds` is false. */
  const leading = (holds: (size: number) => boolean) => {
    let low = 0;
    let high = desc.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (holds(desc[middle] as number)) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  const above = (limit: number) => leading((size) => size > limit);
  const half = capacity / 2;
  const big = above(half);
  const cuts = new Set([0, ...desc.filter((value) => value <= half)]);
  let bound = 0;
  for (const cut of cuts) {
    const own = above(capacity - cut);
    const second = big - own;
    const small = leading((size) => size >= cut) - big;
    const smallSum = (prefix[big + small] as number) - (prefix[big] as number);
    const room = second * capacity - ((prefix[big] as number) - (prefix[own] as number));
    bound = Math.max(bound, big + Math.max(0, Math.ceil((smallSum - room) / capacity)));
  }
  return bound;
}

/**
 * Pool nodes in all that the items need at least: room for what they need beyond the fixed
 * nodes, on nodes as big as the biggest pool's.
 */
function togetherBound<T>(trace: Trace, items: readonly Sorted<T>[]): number {
  const largest = { ...largestNode(trace), pods: 0 };
  for (const pool of trace.pools) largest.pods = Math.max(largest.pods, pool.allocatable.pods);
  const fixed = zero();
  for (const node of trace.nodes) add(fixed, node.allocatable, 1);
  const poolOnly = onNoFixedNode(trace, items);
  return Math.max(roomBound(items, largest, fixed), roomBound(poolOnly, largest, zero()));
}

/** The items no fixed node can take. */
function onNoFixedNode<T>(trace: Trace, items: readonly PackItem<T>[]): PackItem<T>[] {
  return items.filter((item) => !trace.nodes.some((node, i) => fixedFits(item, node, i)));
}

function poolSlotFor<T>(item: PackItem<T>, pool: TracePool, p: number): boolean {
  return item.placement.pools[p] !== undefined && fitsRoom(item.need, pool.allocatable);
}

function fixedFits<T>(item: PackItem<T>, node: TraceNode, i: number): boolean {
  return item.placement.fixed[i] === true && fitsRoom(item.need, node.allocatable);
}

/**
 * Whether an empty fixed node, or a node of some pool, would take a pod of `need` placed as
 * `placement` allows, alone.
 */
export function fitsAnyNodeAlone(need: Need, placement: Placement, trace: Trace): boolean {
  return fitsFixedNodeAlone(need, placement, trace) || fitsPoolNodeAlone(need, placement, trace);
}

/**
 * The allocatable of each fixed node, and of each pool's nodes, that would take a pod of `need`
 * placed as `placement` allows, alone.
 */
export function nodesHoldingAlone(need: Need, placement: Placement, trace: Trace): NodeResources[] {
  return [
    ...trace.nodes.flatMap((node, i) =>
      placement.fixed[i] === true && fitsRoom(need, node.allocatable) ? [node.allocatable] : [],
    ),
    ...trace.pools.flatMap((pool, p) =>
      placement.pools[p] !== undefined && fitsRoom(need, pool.allocatable)
        ? [pool.allocatable]
        : [],
    ),
  ];
}

/** Whether an empty fixed node would take a pod of `need` placed as `placement` allows. */
export function fitsFixedNodeAlone(need: Need, placement: Placement, trace: Trace): boolean {
  return trace.nodes.some(
    (node, i) => placement.fixed[i] === true && fitsRoom(need, node.allocatable),
  );
}

/**
 * Whether a node of some pool would take a pod of `need` placed as `placement` allows, alone:
 * when it would not, no number of pool nodes helps the pod.
 */
export function fitsPoolNodeAlone(need: Need, placement: Placement, trace: Trace): boolean {
  return trace.pools.some(
    (pool, p) => placement.pools[p] !== undefined && fitsRoom(need, pool.allocatable),
  );
}

function fitsRoom(need: Need, free: NodeResources): boolean {
  return need.cpu <= free.cpu && need.memory <= free.memory && free.pods >= 1;
}

function fitsBin<T>(item: PackItem<T>, bin: Bin): boolean {
  if (bin.pool < 0) {
    if (!item.placement.fixed[bin.index]) return false;
  } else {
    const slot = item.placement.pools[bin.pool];
    if (slot === undefined || (slot !== "any" && slot !== bin.index)) return false;
  }
  return fitsRoom(item.need, bin.free);
}

function take(bin: Bin, need: Need): void {
  bin.free.cpu -= need.cpu;
  bin.free.memory -= need.memory;
  bin.free.pods -= 1;
}

function give(bin: Bin, need: Need): void {
  bin.free.cpu += need.cpu;
  bin.free.memory += need.memory;
  bin.free.pods += 1;
}

function add(total: NodeResources, amount: NodeResources, sign: 1 | -1): void {
  total.cpu += sign * amount.cpu;
  total.memory += sign * amount.memory;
  total.pods += sign * amount.pods;
}

function zero(): NodeResources {
  return { cpu: 0, memory: 0, pods: 0 };
}

function fixedBins(trace: Trace): Bin[] {
  return trace.nodes.map((node, index) => ({ pool: -1, index, free: { ...node.allocatable } }));
}

function poolBin(pool: TracePool, p: number, index: number): Bin {
  return { pool: p, index, free: { ...pool.allocatable } };
}

/** A fixed node's labels and taints; each node carries its name as its hostname. */
function fixedTraits(node: TraceNode): NodeTraits {
  return {
    name: node.name,
    labels: { "kubernetes.io/hostname": node.name, ...node.labels },
    taints: node.taints,
  };
}

/** The pool's node at count `index`, named as Terraform `count` names it. */
function poolTraits(pool: TracePool, index: number): NodeTraits {
  const name = poolNodeName(pool, index);
  return { name, labels: { "kubernetes.io/hostname": name, ...pool.labels }, taints: pool.taints };
}

/** The largest pool node's cpu and memory, the scale that sizes compare on. */
export function largestNode(trace: Trace): Need {
  let cpu = 1;
  let memory = 1;
  for (const pool of trace.pools) {
    cpu = Math.max(cpu, pool.allocatable.cpu);
    memory = Math.max(memory, pool.allocatable.memory);
  }
  return { cpu, memory };
}
