import { placementConflict } from "../planning/scheduling.ts";
import type { PodInfo, Taint } from "../planning/snapshot.ts";
import type { NodeResources, PodArrival, UsageProfile } from "./trace.ts";
import { arrivalKey } from "./trace.ts";
import { usageAt } from "./usage-profile.ts";

/** A node of the simulated cluster, from the moment its machine is created. */
export interface SimNode {
  name: string;
  /** Trace pool it belongs to; absent for the trace's fixed nodes. */
  pool?: string;
  /** Terraform count index within the pool. */
  index?: number;
  controlPlane: boolean;
  allocatable: NodeResources;
  labels: Record<string, string>;
  taints: Taint[];
  /** Simulation time (ms from the trace's start) the machine was created. */
  createdAt: number;
  /** When it joined the cluster Ready; before that it is no node of the cluster yet. */
  readyAt: number;
  ready: boolean;
  used: NodeResources;
  pods: Set<SimPod>;
}

/** A pod of the trace, pending or running, with what the scheduler and snapshot read. */
export interface SimPod {
  key: string;
  /** Order of joining the queue (arrival, or eviction): the scheduling queue's tie-breaker. */
  seq: number;
  arrival: PodArrival;
  /** Its scheduling-relevant fields, in the planner's shape; phase and node are set per snapshot. */
  info: PodInfo;
  profile: UsageProfile;
  profileSince: number;
  /** When it last joined the queue: its arrival, or its eviction (a new pod in Kubernetes). */
  queuedAt: number;
  /** Whether a node of some pool would take it alone (see {@link SimCluster.pendingForPools}). */
  forPools: boolean;
  /** Whether only the config's max keeps it from a node (see {@link SimCluster.pendingBeyondMax}). */
  beyondMax: boolean;
  /** Whether only fixed nodes can hold it (see {@link SimCluster.pendingFixedOnly}). */
  fixedOnly: boolean;
  node?: SimNode;
  startedAt?: number;
  endsAt?: number;
}

/**
 * The cluster's nodes and pods, and a first-fit scheduler by requests that honours
 * nodeSelector, required node affinity, taints and tolerations (the planner's predicates).
 */
export class SimCluster {
  /** In creation order, which is the order first-fit tries them. */
  nodes: SimNode[] = [];
  readonly pods = new Map<string, SimPod>();
  /** Pods waiting for a node, in queue order (priority, then arrival). */
  pending: SimPod[] = [];
  /**
   * How many of them a node of some pool would take alone, by the test the cluster was made
   * with: pods no node can hold, or only fixed nodes, wait however many pool nodes there are.
   */
  pendingForPools = 0;
  /**
   * How many of them only the config's max keeps from a node, by the test the cluster was made
   * with: their hostname names a pool node beyond it.
   */
  pendingBeyondMax = 0;
  /**
   * How many of them only fixed nodes can hold, by the test the cluster was made with: a fixed
   * node would take them alone, no pool's node would.
   */
  pendingFixedOnly = 0;
  /** Pods evicted by a scale-down (each eviction counts). */
  disrupted = 0;
  /** Pods evicted by the scheduler to make room for a pod of higher priority. */
  preempted = 0;
  private seq = 0;
  /** A node gained room (a pod left, a node joined): every pending pod may fit now. */
  private roomGrew = false;
  /** Pods queued since the last scheduling pass: the only ones to try when no room grew. */
  private queued: SimPod[] = [];
  private readonly poolWouldTake: (pod: PodArrival, info: PodInfo) => boolean;
  private readonly beyondMax: (pod: PodArrival, info: PodInfo) => boolean;
  private readonly fixedOnly: (pod: PodArrival, info: PodInfo) => boolean;
  private readonly poolsAlwaysHaveRoom: boolean;

  /**
   * `poolWouldTake`: whether a node of some pool would take the pod alone (all, by default).
   * `beyondMax`: whether only the config's max keeps it from a node (none, by default).
   * `fixedOnly`: whether only fixed nodes can hold it (none, by default).
   * `poolsAlwaysHaveRoom`: the cluster's nodes are the fixed ones, and the pools have a node
   * free for every pod they would take: such a pod that finds no room on the fixed nodes goes to
   * them (and out of this cluster) rather than wait or preempt.
   */
  constructor(
    options: {
      poolWouldTake?: (pod: PodArrival, info: PodInfo) => boolean;
      beyondMax?: (pod: PodArrival, info: PodInfo) => boolean;
      fixedOnly?: (pod: PodArrival, info: PodInfo) => boolean;
      poolsAlwaysHaveRoom?: boolean;
    } = {},
  ) {
    this.poolWouldTake = options.poolWouldTake ?? (() => true);
    this.beyondMax = options.beyondMax ?? (() => false);
    this.fixedOnly = options.fixedOnly ?? (() => false);
    this.poolsAlwaysHaveRoom = options.poolsAlwaysHaveRoom ?? false;
  }

  addNode(node: SimNode): void {
    this.nodes.push(node);
  }

  /** Marks nodes whose boot finished by `now` Ready. */
  updateReadiness(now: number): void {
    for (const node of this.nodes)
      if (!node.ready && node.readyAt <= now) {
        node.ready = true;
        this.roomGrew = true;
      }
  }

  /**
   * Drains and deletes a node at `now`: its pods are evicted and counted. Each comes back to the
   * queue as its controller's new pod, created now; a bare pod has no controller to bring it
   * back, and is gone.
   */
  removeNode(node: SimNode, now: number): void {
    for (const pod of [...node.pods]) {
      this.disrupted += 1;
      this.evict(pod, now);
    }
    this.nodes = this.nodes.filter((other) => other !== node);
  }

  /** A pod joins the queue; its usage profile starts at `since`. */
  arrive(arrival: PodArrival, since: number): void {
    const key = arrivalKey(arrival);
    const info = podInfo(arrival);
    const pod: SimPod = {
      key,
      seq: this.seq++,
      arrival,
      info,
      profile: arrival.usage,
      profileSince: since,
      queuedAt: arrival.at,
      forPools: this.poolWouldTake(arrival, info),
      beyondMax: this.beyondMax(arrival, info),
      fixedOnly: this.fixedOnly(arrival, info),
    };
    this.pods.set(key, pod);
    this.enqueue(pod);
  }

  setUsage(key: string, profile: UsageProfile, since: number): void {
    const pod = this.pods.get(key);
    if (!pod) return;
    pod.profile = profile;
    pod.profileSince = since;
  }

  deletePod(key: string): void {
    const pod = this.pods.get(key);
    if (!pod) return;
    this.pods.delete(key);
    if (pod.node) this.unbind(pod);
    else {
      this.pending = this.pending.filter((other) => other !== pod);
      this.unqueued(pod);
    }
  }

  /** Removes pods whose run ended by `now`; only running pods have an end. */
  completeFinished(now: number): void {
    for (const node of this.nodes)
      for (const pod of [...node.pods])
        if (pod.endsAt !== undefined && pod.endsAt <= now) this.deletePod(pod.key);
  }

  /**
   * Binds pending pods, in queue order, to the first Ready node where they fit. When no node
   * gained room since the last pass, the pods that waited then still fit nowhere (binding only
   * takes room), so only those queued since are tried: thousands may wait behind a full cluster.
   */
  schedule(now: number): void {
    const candidates = this.roomGrew
      ? this.pending
      : this.queued.sort((a, b) => (before(a, b) ? -1 : 1));
    this.roomGrew = false;
    this.queued = [];
    if (candidates.length === 0) return;
    // The most any Ready node has free: binding only lowers it, so a pod above it fits nowhere
    // and need not be tried node by node.
    let room = this.largestRoom();
    // Only a pod above the least important running one can preempt: most traces have none.
    let lowest = this.lowestRunningPriority();
    const bound = new Set<SimPod>();
    // A copy: pods a preemption evicts join the queue, and are tried from the next pass on.
    for (const pod of [...candidates]) {
      if (pod.node || !this.pods.has(pod.key)) continue;
      const { requests } = pod.arrival;
      const roomy = requests.cpu <= room.cpu && requests.memory <= room.memory && room.pods >= 1;
      let node = roomy ? this.nodes.find((candidate) => fits(pod, candidate)) : undefined;
      if (!node && this.poolsAlwaysHaveRoom && pod.forPools) {
        this.pods.delete(pod.key);
        bound.add(pod);
        this.unqueued(pod);
        continue;
      }
      if (!node) {
        node = pod.arrival.priority > lowest ? this.preempt(pod, now) : undefined;
        if (!node) continue;
        room = this.largestRoom();
      }
      this.bind(pod, node, now);
      bound.add(pod);
      this.unqueued(pod);
      lowest = Math.min(lowest, pod.arrival.priority);
    }
    if (bound.size > 0) this.pending = this.pending.filter((pod) => !bound.has(pod));
  }

  /**
   * kube-scheduler's default preemption, for a pod no node has room for: on each Ready node it
   * may go on, the fewest lower-priority pods whose eviction makes room (the more important
   * ones spared first); of those nodes, the one whose most important victim is least
   * important, then the least priority evicted in all, then the fewest victims, then the first.
   * The victims are evicted (each comes back as its controller's new pod, a bare pod is gone);
   * the node is returned for the pod to take.
   */
  private preempt(pod: SimPod, now: number): SimNode | undefined {
    let best: { node: SimNode; victims: SimPod[] } | undefined;
    for (const node of this.nodes) {
      if (!node.ready || placementConflict(pod.info, node) !== undefined) continue;
      const victims = victimsFor(pod, node);
      if (victims && (!best || preferredVictims(victims, best.victims))) best = { node, victims };
    }
    if (!best) return undefined;
    for (const victim of best.victims) this.evict(victim, now);
    this.preempted += best.victims.length;
    return best.node;
  }

  /** Takes a pod off its node: its controller's new pod joins the queue, a bare pod is gone. */
  private evict(pod: SimPod, now: number): void {
    this.unbind(pod);
    if (!pod.arrival.owner) {
      this.pods.delete(pod.key);
      return;
    }
    // The replacement is a new pod: it queues behind the pods of its priority already waiting.
    pod.queuedAt = now;
    pod.seq = this.seq++;
    this.enqueue(pod);
  }

  private lowestRunningPriority(): number {
    let lowest = Infinity;
    for (const node of this.nodes)
      for (const pod of node.pods) lowest = Math.min(lowest, pod.arrival.priority);
    return lowest;
  }

  /** The most cpu, memory and pod slots any Ready node has free, each on its own. */
  private largestRoom(): NodeResources {
    const room = { cpu: 0, memory: 0, pods: 0 };
    for (const node of this.nodes) {
      if (!node.ready) continue;
      room.cpu = Math.max(room.cpu, node.allocatable.cpu - node.used.cpu);
      room.memory = Math.max(room.memory, node.allocatable.memory - node.used.memory);
      room.pods = Math.max(room.pods, node.allocatable.pods - node.used.pods);
    }
    return room;
  }

  /** Usage of a pod now: zero while it waits for a node. */
  podUsage(pod: SimPod, now: number): { cpu: number; memory: number } {
    if (!pod.node) return { cpu: 0, memory: 0 };
    return usageAt(pod.profile, now - pod.profileSince);
  }

  /** Sum of the usage of the node's pods; cpu cannot exceed what the node has. */
  nodeUsage(node: SimNode, now: number): { cpu: number; memory: number } {
    let cpu = 0;
    let memory = 0;
    for (const pod of node.pods) {
      const usage = this.podUsage(pod, now);
      cpu += usage.cpu;
      memory += usage.memory;
    }
    return { cpu: Math.min(cpu, node.allocatable.cpu), memory };
  }

  private bind(pod: SimPod, node: SimNode, now: number): void {
    pod.node = node;
    pod.startedAt = now;
    if (pod.arrival.durationMs !== undefined) pod.endsAt = now + pod.arrival.durationMs;
    node.pods.add(pod);
    node.used.cpu += pod.arrival.requests.cpu;
    node.used.memory += pod.arrival.requests.memory;
    node.used.pods += 1;
  }

  /** Takes a pod off its node; a batch pod that runs again starts its work over. */
  private unbind(pod: SimPod): void {
    const node = pod.node;
    if (!node) return;
    node.pods.delete(pod);
    node.used.cpu -= pod.arrival.requests.cpu;
    node.used.memory -= pod.arrival.requests.memory;
    node.used.pods -= 1;
    pod.node = undefined;
    pod.startedAt = undefined;
    pod.endsAt = undefined;
    this.roomGrew = true;
  }

  /** Puts the pod in queue order: the queue is always sorted, so a binary search finds its place. */
  private enqueue(pod: SimPod): void {
    let low = 0;
    let high = this.pending.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (before(pod, this.pending[middle] as SimPod)) high = middle;
      else low = middle + 1;
    }
    this.pending.splice(low, 0, pod);
    this.queued.push(pod);
    if (pod.forPools) this.pendingForPools += 1;
    if (pod.beyondMax) this.pendingBeyondMax += 1;
    if (pod.fixedOnly) this.pendingFixedOnly += 1;
  }

  /** A pod left the queue (bound, deleted, or gone to a pool node): the counts lose it. */
  private unqueued(pod: SimPod): void {
    if (pod.forPools) this.pendingForPools -= 1;
    if (pod.beyondMax) this.pendingBeyondMax -= 1;
    if (pod.fixedOnly) this.pendingFixedOnly -= 1;
  }
}

function before(a: SimPod, b: SimPod): boolean {
  const pa = a.arrival.priority;
  const pb = b.arrival.priority;
  return pa > pb || (pa === pb && a.seq < b.seq);
}

/**
 * The lower-priority pods of `node` to evict so that `pod` fits, or undefined when evicting
 * all of them would not make room: all of them, less those that can stay, tried from the most
 * important (higher priority, then the longer running), as kube-scheduler spares them.
 */
function victimsFor(pod: SimPod, node: SimNode): SimPod[] | undefined {
  const { requests, priority } = pod.arrival;
  const lower = [...node.pods].filter((other) => other.arrival.priority < priority);
  if (lower.length === 0) return undefined;
  const free = {
    cpu: node.allocatable.cpu - node.used.cpu,
    memory: node.allocatable.memory - node.used.memory,
    pods: node.allocatable.pods - node.used.pods,
  };
  for (const other of lower) release(free, other, 1);
  if (!room(free, requests)) return undefined;
  lower.sort(
    (a, b) => b.arrival.priority - a.arrival.priority || (a.startedAt ?? 0) - (b.startedAt ?? 0),
  );
  const victims: SimPod[] = [];
  for (const other of lower) {
    release(free, other, -1);
    if (room(free, requests)) continue;
    release(free, other, 1);
    victims.push(other);
  }
  return victims;
}

function release(free: NodeResources, pod: SimPod, sign: 1 | -1): void {
  free.cpu += sign * pod.arrival.requests.cpu;
  free.memory += sign * pod.arrival.requests.memory;
  free.pods += sign;
}

function room(free: NodeResources, requests: { cpu: number; memory: number }): boolean {
  return free.cpu >= requests.cpu && free.memory >= requests.memory && free.pods >= 1;
}

/** kube-scheduler's choice between nodes to preempt on: is `a` better than `b`? */
function preferredVictims(a: readonly SimPod[], b: readonly SimPod[]): boolean {
  const highest = (victims: readonly SimPod[]) =>
    Math.max(...victims.map((victim) => victim.arrival.priority));
  const sum = (victims: readonly SimPod[]) =>
    victims.reduce((total, victim) => total + victim.arrival.priority, 0);
  if (highest(a) !== highest(b)) return highest(a) < highest(b);
  if (sum(a) !== sum(b)) return sum(a) < sum(b);
  return a.length < b.length;
}

function fits(pod: SimPod, node: SimNode): boolean {
  if (!node.ready) return false;
  const { requests } = pod.arrival;
  const { used, allocatable } = node;
  if (used.cpu + requests.cpu > allocatable.cpu) return false;
  if (used.memory + requests.memory > allocatable.memory) return false;
  if (used.pods + 1 > allocatable.pods) return false;
  return placementConflict(pod.info, node) === undefined;
}

/** The planner's view of a pod, without phase, node and usage (set per snapshot). */
export function podInfo(arrival: PodArrival): PodInfo {
  const requests = { cpu: arrival.requests.cpu, memory: arrival.requests.memory };
  const info: PodInfo = {
    namespace: arrival.namespace,
    name: arrival.name,
    phase: "Pending",
    labels: arrival.labels,
    requests,
    containers: [{ name: "app", requests, limits: {} }],
    initContainers: [],
    nodeSelector: arrival.nodeSelector,
    tolerations: arrival.tolerations,
    priority: arrival.priority,
    blockingVolumes: arrival.localStorage ? [{ name: "data", type: "emptyDir" }] : [],
    doNotDisrupt: false,
    daemonSet: false,
    mirror: false,
    oomKills: [],
    createdAt: "",
  };
  if (arrival.owner) info.owner = arrival.owner;
  if (arrival.safeToEvict !== undefined) info.safeToEvict = arrival.safeToEvict;
  return info;
}
