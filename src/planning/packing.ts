import { notYetTried, podKey } from "./cluster-index.ts";
import { portConflict } from "./host-ports.ts";
import {
  namedPeerConflict,
  type PeerConflict,
  type PeerRules,
  peerConflict,
  placePeer,
} from "./peer-rules.ts";
import {
  affinitySelects,
  deletingAntiAffinity,
  startupAntiAffinity,
  unknownAntiAffinityKey,
} from "./pod-affinity.ts";
import {
  addTo,
  copyRoom,
  emptyRoom,
  fitsIn,
  podDemand,
  type Room,
  shortfall,
  takeFrom,
  unknownRequests,
} from "./room.ts";
import {
  type NodeTraits,
  type PlacementConflict,
  placementConflict,
  taintText,
  unknownLabelOf,
  unreachableClaim,
  untoleratedTaints,
} from "./scheduling.ts";
import type { PodInfo } from "./snapshot.ts";
import { domainUnknown, type PeerBin, type RuleBin } from "./topology-domain.ts";
import {
  newNodeVolumesExceeded,
  volumeLimitsExceeded,
  volumeLimitsUnknown,
} from "./volume-limits.ts";
import {
  type VolumeWait,
  volumeLimitReached,
  volumesWantANode,
  volumeWait,
} from "./volume-wait.ts";

/** A node pods can be placed on, with the room still free on it. */
export interface Bin {
  name: string;
  traits: NodeTraits;
  room: Room;
  /**
   * A node outside the pool being judged (a control plane, a node no pool selects, another
   * pool's node): why a pod found no node does not speak of such a node its own placement rules
   * keep it off.
   */
  outside?: true;
  /** For a node outside the pool: the other pool it is of, if any. */
  pool?: string;
}

/** The node to add, as far as placing pods goes. */
export interface NewBinTemplate {
  traits: NodeTraits;
  /** Room on an empty new node once its DaemonSet pods run. */
  room: Room;
  /** Extended resources of which how much a new node has is not known (none in `room`). */
  unknownExtended?: readonly string[];
}

export interface PendingPod {
  pod: string;
  /** Its requests; 0 stands in for a request that could not be read, which `unknown` names. */
  cpu: number;
  memory: number;
  /** The requests that could not be read: what the pod needs of them is unknown, not zero. */
  unknown?: ("cpu" | "memory")[];
  /** Its ephemeral storage request in bytes, when it makes one: it takes a node's disk too. */
  ephemeralStorage?: number;
  /** Its extended resource requests by name (`nvidia.com/gpu`), when it makes some. */
  extended?: Record<string, number>;
  /** The scheduler's message, e.g. `0/4 nodes are available: 4 Insufficient cpu.` */
  message?: string;
  /**
   * False for a pod the scheduler has not tried yet (no PodScheduled condition): where it goes
   * is the packing's judgement alone. Absent for a pod marked Unschedulable.
   */
  judged?: false;
}

export interface PodPlacement extends PendingPod {
  /** An existing node's name, or `new-1`, `new-2`… for nodes to add. */
  node: string;
  /** On a node to add: why the existing nodes did not take it, when the packing judged them. */
  keptOff?: KeptOff;
  /**
   * On an existing node: the extended resources it asks for that the node's labels say it has
   * and its device plugin does not advertise yet (a GPU after a reboot), counted on until
   * `provisionTimeout` after the node became Ready: the pod waits for them there.
   */
  awaits?: string[];
}

/**
 * Why no existing node took a pod that goes on a new node, in short: the rules that kept it off
 * the most nodes that had room for it, and the nodes with too little room, each with a count and
 * the first node (as the scheduler's `3 Insufficient cpu, 1 node(s) had untolerated taint`).
 */
export interface KeptOff {
  /**
   * The existing nodes judged: Ready, of known room, and those not Ready or of unknown room; in
   * the pool or not.
   */
  nodes: number;
  /**
   * The nodes not Ready, with the first (the pool's own first): kube-scheduler keeps pods off
   * them by the `node.kubernetes.io/not-ready` (or `unreachable`) taint; the packing offers them
   * nothing.
   */
  notReady?: { nodes: number; node: string };
  /**
   * The Ready nodes whose room is unknown (a request of one of their pods, or their allocatable,
   * could not be read), with the first (the pool's own first): the packing offers them nothing,
   * as their room is not counted on.
   */
  roomUnknown?: { nodes: number; node: string };
  /**
   * The rules that kept it off nodes with room for it, and off nodes short of room by a rule
   * kube-scheduler checks before their room (a cordon, a taint, the pod's nodeSelector or node
   * affinity, a host port in use), the one that kept it off the most first (the first met among
   * equals); two at most.
   */
  rules?: {
    cause: PlacementConflict | PeerConflict;
    nodes: number;
    node: string;
    /** How many of those nodes have too little room for it as well. */
    tooLittleRoom?: number;
    /** For `pod-anti-affinity`: pods being deleted that alone keep it off some of those nodes. */
    deleting?: DeletingPod[];
  }[];
  /** Nodes with room for it that other rules than those of `rules` kept it off. */
  otherRules?: number;
  /** The nodes with too little free room for it. */
  room?: {
    nodes: number;
    node: string;
    /**
     * The resources it needs more of than any of them has free (none when no one is short on
     * all); those it needed more of than any had before the pending pods placed ahead of it took
     * theirs, when there are such.
     */
    resources?: string[];
    /** One of them had room before the pending pods placed ahead of it took theirs. */
    afterOthers?: true;
  };
  /**
   * The scheduler found the existing nodes at their limit of attached volumes: room there does
   * not help it, so they were not judged one by one (no `rules` or `room` then).
   */
  volumeLimit?: true;
}

/**
 * A pod being deleted, by its key, with the node it runs on: required pod anti-affinity counts
 * it until it is gone, as the scheduler does.
 */
export interface DeletingPod {
  pod: string;
  node: string;
}

export type NeverFitReason =
  | PlacementConflict
  | PeerConflict
  | "too-large"
  | "shape-unknown"
  | "volumes"
  | "requests-unknown"
  | "topology-unknown"
  | "extended-unknown"
  | "claims-unknown";

/**
 * Reasons a pod is not placed on a new node that say what is unknown, not what is wrong: the pod
 * may fit one, or a pool node once what is unknown is known (a GPU its device plugin reports
 * again after a reboot).
 */
const FIT_UNKNOWN = new Set<NeverFitReason>([
  "shape-unknown",
  "requests-unknown",
  "label-unknown",
  "topology-unknown",
  "extended-unknown",
  "claims-unknown",
  "namespaces-unknown",
  "volume-limits-unknown",
]);

/** Whether `reason` says a pod's fit on a new node is unknown rather than that it never fits. */
export function fitUnknown(reason: NeverFitReason): boolean {
  return FIT_UNKNOWN.has(reason);
}

export interface NeverFitPod extends PendingPod {
  reason: NeverFitReason;
  /**
   * For `too-large`: the resource a new node has too little of; for `requests-unknown`, the
   * unread one; for `extended-unknown`, the extended resource it asks for of which how much a
   * new node has is not known.
   */
  resource?: string;
  /** For `too-large`, when a new node has too little of several: each of them, `resource` first. */
  resources?: string[];
  /**
   * For `volumes`: the scheduler's words about the volume that keeps the pod pending; absent for
   * a pod it has not tried yet, whose claims alone tell it (`claims`).
   */
  volume?: string;
  /** For `claims-unknown`: the pod's resource claims (`spec.resourceClaims`), by name. */
  resourceClaims?: string[];
  /**
   * For `volumes`: the claims that wait on something a node does not change, and what; for
   * `volume-node-affinity`: the claim whose volume a new node could not reach.
   */
  claims?: { claim: string; why?: string }[];
  /**
   * For `topology-unknown`: the topology key of a pod (anti-)affinity or spread rule whose value
   * on a new node is not known, because the pool's nodes differ in it.
   */
  topologyKey?: string;
  /** For `host-ports`: the ports (`443/TCP`) the new node's DaemonSets already take. */
  ports?: string[];
  /**
   * For `volume-limit`: each CSI driver of which the pod uses more volumes (`volumes`) than a new
   * node can attach (`limit`, the least count of the pool's nodes' CSINodes).
   */
  volumeLimits?: { driver: string; limit: number; volumes: number }[];
  /**
   * For `pod-anti-affinity`: set when it is the required anti-affinity of a DaemonSet or static
   * pod a new node starts with that keeps the pod off it, not that of a pod already running.
   */
  startupPods?: true;
  /**
   * For `pod-anti-affinity`: the pods being deleted whose anti-affinity, or whose own that
   * selects them, alone keeps it off a new node; they count until gone.
   */
  deleting?: DeletingPod[];
  /** For `taints`: the new node's taints it does not tolerate, as kubectl writes them. */
  taints?: string[];
  /**
   * For `label-unknown`: the label its nodeSelector, required node affinity or a volume's node
   * affinity asks about, whose value on a new node is not known, because the pool's nodes differ
   * in it.
   */
  label?: string;
}

/** Where pending pods go: free room on existing nodes first, then as few new nodes as packing needs. */
export interface PendingReport {
  enabled: boolean;
  /** Pending pods offered to this pool (after earlier pools took theirs). */
  considered: number;
  onExisting: PodPlacement[];
  onNew: PodPlacement[];
  /** New nodes within what the pool may add. */
  newNodes: number;
  /** New nodes the pods would need without the pool's max. */
  neededNewNodes: number;
  /** Of those, nodes the repo already asks for that are not Ready yet (joining). */
  awaited?: number;
  /** Pods no new node of this pool could ever hold; they do not add nodes. */
  neverFit: NeverFitPod[];
  /** Pods that would need more nodes than the pool's max (or host cap) allows. */
  overMax: PendingPod[];
  /**
   * The CSI volumes a new node can attach, per driver (the least count of the pool's nodes'
   * CSINodes), for the drivers the pods that go on new nodes use: they are packed within it.
   */
  newNodeVolumeLimits?: { driver: string; limit: number }[];
  /**
   * Pods a later pool takes (placing them on a node it adds, or on room it found), with that
   * pool's name: pods no new node of this pool could hold, those beyond its max (or host cap,
   * `beyondMax`), which are not left pending, and those it would put on a new node while a hold
   * keeps it from any change (`held`: its count unknown, say), which no node of its own takes.
   */
  elsewhere?: (PendingPod & { pool: string; beyondMax?: true; held?: true })[];
  /** Pods below the pool's `expendablePriority`: they wait for room and add no node. */
  expendable: (PendingPod & { priority: number; below: number })[];
  /**
   * `["pods"]` when the pod list was not read in full: pending pods not read are not counted,
   * and pods not read may hold the room counted as free on existing nodes.
   */
  unread?: string[];
}

export interface PackResult extends PendingReport {
  /** Pods this pool accounts for (placed somewhere), so later pools do not add nodes for them. */
  claimed: Set<PodInfo>;
  /** The pods placed in free room of existing nodes, with the node each went to. */
  placedOnExisting: { pod: PodInfo; node: string }[];
  /** For each pod over max, by its key: the new node (0-based, among those opened) it went on. */
  overMaxNodes: Map<string, number>;
}

/**
 * The room already there first: each pod that an existing node would take goes to the first
 * such node, those the fewest nodes would take first (`roomOrder`). Then first-fit decreasing:
 * the other pods in decreasing order of their largest share of a new node; each goes to the
 * first existing node with room that admits it, else the first new node with room, else a
 * further new node. Never places a pod where its requests exceed the free room, nor against its
 * nodeSelector, required node affinity, untolerated taints or (with `rules`) the rules that depend
 * on other pods: required pod affinity and anti-affinity, topology spread, host ports. Pods the
 * scheduler reports waiting on their volumes (an unbound claim, a volume node affinity conflict) go
 * nowhere and are reported as never fitting: room is not what they lack. Where the pods differ in
 * priority, those of higher priority take the existing room first. Nodes opened beyond
 * `maxNewNodes` are not added (those holding the pods of lowest priority, else the last opened):
 * their pods are reported as over max. `existing` bins are used up in place.
 */
export function packPendingPods(
  pods: readonly PodInfo[],
  existing: Bin[],
  template: NewBinTemplate | undefined,
  maxNewNodes: number,
  rules?: PeerRules,
): PackResult {
  const result: PackResult = { ...disabledPendingReport(), enabled: true, considered: pods.length };
  const opened: Bin[] = [];
  const onOpened: { pod: PodInfo; placement: PodPlacement; bin: number }[] = [];
  const placed = new Set<PodInfo>();
  // The room of the existing nodes this pool's pending pods take some of, as it was before: a pod
  // they left no room for is told from one no existing node had room for.
  const before = new Map<Bin, Room>();
  /** Pods whose required affinity selects pods still to be placed: they go with those. */
  const riders: Sized[] = [];
  const record = (entry: Sized, bin: Bin, isNew: boolean, keptOff?: KeptOff) => {
    const info = pendingPod(entry.pod);
    if (!isNew && !before.has(bin)) before.set(bin, copyRoom(bin.room));
    take(bin, entry.pod, entry.demand, rules);
    placed.add(entry.pod);
    if (isNew) {
      onOpened.push({
        pod: entry.pod,
        placement: { ...info, node: bin.name, ...(keptOff ? { keptOff } : {}) },
        bin: opened.indexOf(bin),
      });
      return;
    }
    result.onExisting.push({ ...info, node: bin.name });
    result.claimed.add(entry.pod);
    result.placedOnExisting.push({ pod: entry.pod, node: bin.name });
  };
  /** Places `entry` (with the riders that must go beside it, when one bin holds them all). */
  const place = (entry: Sized): NeverFitPod | undefined => {
    const company = riders.filter((rider) => affinitySelects(rider.pod, entry.pod));
    if (company.length > 0) {
      const bundle = [entry, ...company];
      const onlyNew = bundle.some((member) => volumeLimitReached(member.pod));
      const together = bundleBin(bundle, onlyNew ? [] : existing, opened, template, rules);
      if (together) {
        const bin = together === "new" ? openBin(opened, template as NewBinTemplate) : together;
        const isNew = together === "new" || opened.includes(bin);
        record(entry, bin, isNew, isNew ? bundleKeptOff(entry, onlyNew) : undefined);
        for (const rider of company)
          if (!(rules && peerConflict(rules, rider.pod, bin))) {
            const limit = isNew && volumeLimitReached(rider.pod) ? atVolumeLimit() : undefined;
            record(rider, bin, isNew, limit);
            riders.splice(riders.indexOf(rider), 1);
          }
        return undefined;
      }
    }
    const tally = newTally(entry.demand, before);
    const onExisting = volumeLimitReached(entry.pod)
      ? undefined
      : firstFit(entry.pod, entry.demand, existing, rules, tally);
    if (onExisting) {
      record(entry, onExisting, false);
      return undefined;
    }
    let bin = firstFit(entry.pod, entry.demand, opened, rules);
    if (!bin) {
      const never = neverFits(entry.pod, entry.demand, template, rules, opened.length);
      if (never) return { ...pendingPod(entry.pod), ...never };
      bin = openBin(opened, template as NewBinTemplate);
    }
    const keptOff = volumeLimitReached(entry.pod)
      ? atVolumeLimit()
      : keptOffExisting(entry, existing, tally);
    record(entry, bin, true, keptOff);
    return undefined;
  };
  /** The existing nodes at their volume limit, as the scheduler found them for a pod. */
  const atVolumeLimit = (): KeptOff | undefined =>
    existing.length > 0 ? { nodes: existing.length, volumeLimit: true } : undefined;
  /**
   * Why the first pod of a group that goes on a new node together did not go on an existing
   * node alone: its volume limit, or what kept it off each. When it alone would fit on one (the
   * group as a whole does not), the packing does not tell why, and none is given.
   */
  const bundleKeptOff = (entry: Sized, onlyNew: boolean): KeptOff | undefined => {
    if (volumeLimitReached(entry.pod)) return atVolumeLimit();
    if (onlyNew) return undefined;
    const tally = newTally(entry.demand, before);
    if (firstFit(entry.pod, entry.demand, existing, rules, tally)) return undefined;
    return keptOffExisting(entry, existing, tally);
  };
  const sized = decreasing(pods, template);
  // The room already there is given out before any node is added: to pods of higher priority
  // first, as the scheduler serves them and cluster-autoscaler fills it before it packs the
  // others onto new nodes; then to the pods the fewest existing nodes admit, so that a pod that
  // could go elsewhere does not take the only room another one could use.
  // A pod goes there with the pending pods whose required affinity selects it, when one node
  // holds them all: they wait for it, and the scheduler binds them beside it once it runs.
  // A pod that one node alone would take keeps that room from the pods served before it (of
  // higher priority) that another node would take as well.
  const order = roomOrder(sized, existing, rules);
  const held = new Map<Bin, Room>();
  for (const { only, demand } of order)
    if (only) {
      const room = held.get(only) ?? copyRoom(emptyRoom());
      addTo(room, demand);
      held.set(only, room);
    }
  for (const { entry, company, only, demand } of order) {
    const keeping = only && held.get(only);
    if (keeping) takeFrom(keeping, demand);
    if (placed.has(entry.pod)) continue;
    const riders = company.filter((rider) => !placed.has(rider.pod));
    if (riders.length === 0) {
      const bin =
        besideKept(entry, existing, held, rules) ??
        firstFit(entry.pod, entry.demand, existing, rules);
      if (bin) record(entry, bin, false);
      continue;
    }
    const bin = bundleBin([entry, ...riders], existing, [], undefined, rules);
    if (!bin || bin === "new") continue;
    record(entry, bin, false);
    for (const rider of riders)
      if (!(rules && peerConflict(rules, rider.pod, bin))) record(rider, bin, false);
  }
  for (const entry of sized) {
    if (placed.has(entry.pod)) continue;
    // Waiting on its volumes, the pod takes no room: a node with room is not what it lacks,
    // unless a node its volumes can reach is (placed below, its volumes' node affinity judged).
    const volume = volumeWait(entry.pod);
    if (volume && !volumesWantANode(entry.pod)) {
      result.neverFit.push({ ...pendingPod(entry.pod), ...volumesDetail(entry.pod, volume) });
      continue;
    }
    // Devices it is given through resource claims come from ResourceSlices, which are not read:
    // which node, existing or new, could give them is unknown, and no node is added on a guess.
    if (entry.pod.resourceClaims) {
      result.neverFit.push({
        ...pendingPod(entry.pod),
        reason: "claims-unknown",
        resourceClaims: entry.pod.resourceClaims,
      });
      continue;
    }
    // What it needs is unknown: no room can be said to hold it, and no node is added on a guess.
    const [unread] = unknownRequests(entry.pod);
    if (unread) {
      result.neverFit.push({
        ...pendingPod(entry.pod),
        reason: "requests-unknown",
        resource: unread,
      });
      continue;
    }
    const never = place(entry);
    if (!never) continue;
    // Its partner is pending too: it goes beside the partner once that is placed.
    const waitsForPartner =
      never.reason === "pod-affinity" &&
      sized.some(
        (other) =>
          other !== entry && !placed.has(other.pod) && affinitySelects(entry.pod, other.pod),
      );
    if (waitsForPartner) riders.push(entry);
    else result.neverFit.push(never);
  }
  // Riders whose partners went where they could not follow: one more try on their own.
  for (const rider of [...riders]) {
    riders.splice(riders.indexOf(rider), 1);
    const never = place(rider);
    if (never) result.neverFit.push(never);
  }
  result.neededNewNodes = opened.length;
  result.newNodes = Math.min(opened.length, Math.max(0, maxNewNodes));
  const kept = keptBins(onOpened, opened.length, result.newNodes);
  for (const { pod, placement, bin } of onOpened) {
    const rank = kept.get(bin);
    if (rank === undefined) {
      const { node: _, keptOff: __, ...over } = placement;
      result.overMax.push(over);
      result.overMaxNodes.set(over.pod, bin);
      continue;
    }
    result.onNew.push({ ...placement, node: `new-${rank + 1}` });
    result.claimed.add(pod);
  }
  return result;
}

/**
 * The most nodes counted for a pod by `fewestNodesFirst`: enough to tell a pod held to a pool of
 * a few nodes, or to one node, from one that many nodes would take.
 */
const COUNTED_NODES = 32;

/**
 * The pods of `sized` that take room on `existing` nodes before any is packed onto a new one,
 * in the order they take it: by priority, highest first, then those the fewest nodes would take
 * first (`fewestNodesFirst`). A pod that other pending pods must run beside (their required pod
 * affinity selects it) comes with them as its `company`, counted on the nodes that would take
 * them all; those pods do not come on their own. Pods that select one another come as one
 * group. Pods no node would take are left out: they find no room there. `only`: the node, when
 * one alone would take the pod (and its company); `demand`: what they ask for together.
 */
function roomOrder(
  sized: readonly Sized[],
  existing: readonly Bin[],
  rules: PeerRules | undefined,
): { entry: Sized; company: Sized[]; demand: Room; only?: Bin }[] {
  const eligible = sized.filter((entry) => takesRoomFirst(entry.pod));
  // Each pod whose affinity selects another pending pod goes with the group that pod is in, led
  // by a pod that goes with none: pods that select each other (the replicas of one workload that
  // must share a node) make one group, led by the last of them, not a ring that none leads.
  const leader = new Map<Sized, Sized>();
  const lead = (entry: Sized): Sized => {
    let first = entry;
    for (let next = leader.get(first); next; next = leader.get(first)) first = next;
    // Those on the way go straight to it from now on.
    for (let at = entry; at !== first; ) {
      const next = leader.get(at) as Sized;
      leader.set(at, first);
      at = next;
    }
    return first;
  };
  for (const rider of eligible) {
    if (!rider.pod.podAffinity) continue;
    const partner = eligible.find(
      (other) => other !== rider && affinitySelects(rider.pod, other.pod) && lead(other) !== rider,
    );
    if (partner) leader.set(rider, lead(partner));
  }
  const companies = new Map<Sized, Sized[]>();
  for (const rider of eligible)
    if (leader.has(rider)) {
      const first = lead(rider);
      const company = companies.get(first);
      if (company) company.push(rider);
      else companies.set(first, [rider]);
    }
  const groups = eligible
    .filter((entry) => !leader.has(entry))
    .map((entry) => {
      const company = companies.get(entry) ?? [];
      const demand = copyRoom(entry.demand);
      for (const rider of company) addTo(demand, rider.demand);
      return { entry, company, demand };
    });
  const takes = (group: (typeof groups)[number], bin: Bin) =>
    admitsGroup(bin, [group.entry, ...group.company], group.demand, rules);
  // A stable sort keeps the order by nodes within a priority.
  return fewestNodesFirst(groups, existing, takes)
    .map(({ item, nodes, first }) =>
      nodes === 1 && groups.length > 1 ? { ...item, only: first } : item,
    )
    .sort((a, b) => (b.entry.pod.priority ?? 0) - (a.entry.pod.priority ?? 0));
}

/**
 * The first of `bins` that takes `entry` with room left for what `kept` keeps there for the
 * pods that only that node would take; `undefined` when none does, or when nothing is kept.
 */
function besideKept(
  entry: Sized,
  bins: readonly Bin[],
  kept: ReadonlyMap<Bin, Room>,
  rules: PeerRules | undefined,
): Bin | undefined {
  const keeps = (room: Room) => room.cpu > 0 || room.memory > 0 || room.pods > 0;
  if (![...kept.values()].some(keeps)) return undefined;
  return bins.find((bin) => {
    const keeping = kept.get(bin);
    const room = keeping && keeps(keeping) ? copyRoom(bin.room) : bin.room;
    if (keeping && room !== bin.room) takeFrom(room, keeping);
    return admitsGroup(bin, [entry], entry.demand, rules, room);
  });
}

/**
 * The items of `items` that some of `bins` would take now (`takes`: room for their requests,
 * and no rule keeping them off), those the fewest would take first, in the order of `items`
 * among equals, each with that count (`nodes`) and the first of the nodes (`first`). The count
 * stops at as many nodes as there are items (the others, each taking room on one node, cannot
 * leave one that many take without room) and at `COUNTED_NODES`, so that judging the rules on
 * the nodes does not grow with the pods.
 */
function fewestNodesFirst<T>(
  items: readonly T[],
  bins: readonly Bin[],
  takes: (item: T, bin: Bin) => boolean,
): { item: T; nodes: number; first: Bin }[] {
  const enough = Math.min(items.length, COUNTED_NODES);
  const order: { item: T; nodes: number; first: Bin; at: number }[] = [];
  items.forEach((item, at) => {
    let nodes = 0;
    let first: Bin | undefined;
    for (const bin of bins) {
      if (!takes(item, bin)) continue;
      first ??= bin;
      nodes += 1;
      if (nodes >= enough) break;
    }
    if (first) order.push({ item, nodes, first, at });
  });
  order.sort((a, b) => a.nodes - b.nodes || a.at - b.at);
  return order.map(({ item, nodes, first }) => ({ item, nodes, first }));
}

/** A pod first-fit may place on existing room ahead of the others: one nothing else holds. */
function takesRoomFirst(pod: PodInfo): boolean {
  return (
    volumeWait(pod) === undefined &&
    !volumeLimitReached(pod) &&
    pod.resourceClaims === undefined &&
    unknownRequests(pod).length === 0
  );
}

/**
 * The new nodes the count allows (`allowed` of the `count` opened), each by its index with its
 * rank among them: the first ones opened, unless the pods on them differ in priority; then those
 * holding the pods of highest priority, which the scheduler serves first once the nodes join.
 */
function keptBins(
  onOpened: readonly { pod: PodInfo; bin: number }[],
  count: number,
  allowed: number,
): Map<number, number> {
  const top: number[] = new Array(count).fill(Number.NEGATIVE_INFINITY);
  for (const { pod, bin } of onOpened) top[bin] = Math.max(top[bin] ?? 0, pod.priority ?? 0);
  const order = [...top.keys()].sort((a, b) => (top[b] ?? 0) - (top[a] ?? 0) || a - b);
  const chosen = order.slice(0, allowed).sort((a, b) => a - b);
  return new Map(chosen.map((bin, rank) => [bin, rank]));
}

/**
 * Why a pod found no node: no node has room for it (or no node is there to take it), or the rule
 * that keeps it off those that do.
 */
export type UnplacedCause =
  | "room"
  | "no-node"
  | "requests-unknown"
  | "volume-unknown"
  | "claims-unknown"
  | PlacementConflict
  | PeerConflict;

/**
 * Causes that say what the pod asks (its requests, volumes, claims or their limits) is not known,
 * so no node was judged for it: its fit is unknown, not refused.
 */
export const ASKS_UNKNOWN: ReadonlySet<UnplacedCause> = new Set([
  "requests-unknown",
  "volume-unknown",
  "claims-unknown",
  "volume-limits-unknown",
]);

export interface UnplacedPod {
  pod: PodInfo;
  cause: UnplacedCause;
  /**
   * For `room`: the resources the pod needs more of than any of the nodes has free (none when
   * each one alone would be found on some node, but not all together).
   */
  resources?: string[];
  /**
   * For `room`: a node had room for it before the pods placed ahead of it (the others that move)
   * took theirs: they fit one by one, not all together.
   */
  afterOthers?: true;
  /** For `volume-unknown`: the claims whose volume was not found, and why. */
  claims?: { claim: string; why?: string }[];
  /**
   * For `room` with `resources`: the nodes outside the pool (a control plane, a node no pool
   * selects) whose room was judged beside the pool's, as the pod's rules let it onto them.
   */
  outside?: string[];
  /**
   * For `room` with `resources`: the other pools whose nodes were judged beside the pool's, as
   * the pod's rules let it onto them.
   */
  pools?: string[];
  /**
   * For `volume-limit`: the first node with room for it, and the CSI drivers whose count of
   * volumes (its CSINode's) its volumes would take that node above.
   */
  volumeLimit?: VolumeLimitDetail;
  /**
   * For `pod-anti-affinity`: pods being deleted that alone keep it off some of the nodes with
   * room; they count until gone.
   */
  deleting?: DeletingPod[];
}

/** A node a pod's CSI volumes would take above its count for their drivers. */
export interface VolumeLimitDetail {
  node: string;
  drivers: { driver: string; limit: number }[];
}

/**
 * The claims of a pod bound to a node that show no volume it could be running with (the claim
 * or its PersistentVolume not in the lists, read a moment apart from the pods): whether its data
 * lies on that node, and which nodes its volume reaches, are unknown.
 */
function unknownVolumes(pod: PodInfo): { claim: string; why?: string }[] {
  if (pod.nodeName === undefined) return [];
  return (pod.volumeClaims ?? [])
    .filter((claim) => claim.state === "waiting")
    .map(({ claim, why }) => (why === undefined ? { claim } : { claim, why }));
}

/**
 * Places `pods` on `bins` without adding nodes, each on the first bin that takes it, those the
 * fewest bins would take first, then the others largest first: whether the pods of a node to
 * remove fit on the others. Returns the pods that found no node, each with why (judged on the
 * bins as the others left them); `placed`, when given, gets the bin each other pod went to.
 * `later`: groups of pods placed after `pods`, each in the same way on the room the groups
 * before it left (the pods of the nodes a decrease takes after the first). `bins` are used up in
 * place.
 */
export function packOntoNodes(
  pods: readonly PodInfo[],
  bins: Bin[],
  rules?: PeerRules,
  placed?: Map<PodInfo, Bin>,
  later: readonly (readonly PodInfo[])[] = [],
): UnplacedPod[] {
  const unplaced: Sized[] = [];
  // The room each node has before any pod moves, to tell a pod that fits alone from one that
  // fits nowhere.
  const free = bins.map((bin) => copyRoom(bin.room));
  const tryPlace = (entry: Sized) => {
    const bin = firstFit(entry.pod, entry.demand, bins, rules);
    if (bin) {
      take(bin, entry.pod, entry.demand, rules);
      placed?.set(entry.pod, bin);
    }
    return bin !== undefined;
  };
  const unknown = (pod: PodInfo) =>
    unknownRequests(pod).length > 0 ||
    unknownVolumes(pod).length > 0 ||
    pod.resourceClaims !== undefined ||
    (rules?.volumes !== undefined && volumeLimitsUnknown(rules.volumes, pod));
  // Each group of `later` is placed once those before it have taken their room: first the pods
  // the fewest nodes would take, each where it fits, then the others largest first, so that a
  // pod that could go elsewhere does not take the only room another one could use.
  for (const group of [pods, ...later]) {
    const sized = decreasing(group, undefined);
    const known = sized.filter((entry) => !unknown(entry.pod));
    const done = new Set<Sized>();
    const takes = (entry: Sized, bin: Bin) => admitsGroup(bin, [entry], entry.demand, rules);
    for (const { item } of fewestNodesFirst(known, bins, takes)) if (tryPlace(item)) done.add(item);
    for (const entry of sized)
      if (!done.has(entry) && (unknown(entry.pod) || !tryPlace(entry))) unplaced.push(entry);
  }
  // A pod that must run beside another one being moved can follow it once that one is placed.
  const retried = unplaced.filter(
    (entry) => !(entry.pod.podAffinity && !unknown(entry.pod) && tryPlace(entry)),
  );
  return retried.map((entry) => unplacedPod(entry, bins, free, rules));
}

function unplacedPod(
  entry: Sized,
  bins: readonly Bin[],
  free: readonly Room[],
  rules: PeerRules | undefined,
): UnplacedPod {
  const { pod } = entry;
  if (unknownRequests(pod).length > 0) return { pod, cause: "requests-unknown" };
  const claims = unknownVolumes(pod);
  if (claims.length > 0) return { pod, cause: "volume-unknown", claims };
  if (pod.resourceClaims) return { pod, cause: "claims-unknown" };
  if (rules?.volumes && volumeLimitsUnknown(rules.volumes, pod))
    return { pod, cause: "volume-limits-unknown" };
  // A node outside the pool that the pod's own rules keep it off (a control plane's taint) is
  // no node it could go to: the pod's account speaks of the pool's nodes and those it admits.
  const judged = bins.flatMap((bin, at) =>
    bin.outside && placementConflict(pod, bin.traits) !== undefined
      ? []
      : [{ bin, before: free[at] as Room }],
  );
  if (judged.length === 0) return { pod, cause: "no-node" };
  for (const { bin } of judged) {
    if (!fitsIn(entry.demand, bin.room)) continue;
    const conflict = namedConflict(pod, bin, rules);
    if (conflict === "volume-limit" && rules?.volumes) {
      const drivers = volumeLimitsExceeded(rules.volumes, pod, bin);
      return { pod, cause: conflict, volumeLimit: { node: bin.name, drivers } };
    }
    if (conflict === "pod-anti-affinity" && rules?.affinity) {
      const { affinity } = rules;
      const deleting = judged.flatMap(({ bin: other }) =>
        fitsIn(entry.demand, other.room) &&
        placementConflict(pod, other.traits) === undefined &&
        namedPeerConflict(rules, pod, other) === conflict
          ? deletingPods(deletingAntiAffinity(affinity, pod, other))
          : [],
      );
      return deleting.length > 0 ? { pod, cause: conflict, deleting } : { pod, cause: conflict };
    }
    if (conflict) return { pod, cause: conflict };
  }
  const resources = shortEverywhere(
    entry.demand,
    judged.map(({ bin }) => bin.room),
  );
  if (resources.length === 0) return { pod, cause: "room" };
  const outside = judged.flatMap(({ bin }) =>
    bin.outside && bin.pool === undefined ? [bin.name] : [],
  );
  const pools = [
    ...new Set(judged.flatMap(({ bin }) => (bin.pool === undefined ? [] : [bin.pool]))),
  ];
  // "More than any node has free" reads as the cluster now: say so when the room it lacks was
  // there, on a node its own rules let it onto, before the others that move took it.
  const afterOthers = roomTakenBefore(
    entry,
    judged.map(({ bin, before }) => [bin, before] as const),
  );
  return {
    pod,
    cause: "room",
    resources,
    ...(afterOthers ? { afterOthers } : {}),
    ...(outside.length > 0 ? { outside } : {}),
    ...(pools.length > 0 ? { pools } : {}),
  };
}

/**
 * Whether the room a pod lacks now was there before others took it: on one of `nodes` (each
 * with its room before) that its own rules let it onto, it fitted then and does not now.
 */
function roomTakenBefore(entry: Sized, nodes: Iterable<readonly [Bin, Room]>): boolean {
  for (const [bin, before] of nodes)
    if (
      !fitsIn(entry.demand, bin.room) &&
      fitsIn(entry.demand, before) &&
      placementConflict(entry.pod, bin.traits) === undefined
    )
      return true;
  return false;
}

/**
 * Why each pod found no node, as a decision reports it: the pod by its key, with the details of
 * `UnplacedPod`.
 */
export interface UnplacedReport extends Omit<UnplacedPod, "pod"> {
  pod: string;
  /**
   * For `room` with `resources`: of those (cpu, memory), the ones the pod counts otherwise than
   * its spec asks, as a resize in place is not done: what it counts (the larger of the spec and
   * what its node allocated, as the scheduler does) and what the spec asks for.
   */
  resized?: { resource: "cpu" | "memory"; counted: number; spec: number }[];
}

/** The decision's account of pods that found no node: each by its key, with why. */
export function unplacedReports(unplaced: readonly UnplacedPod[]): UnplacedReport[] {
  return unplaced.map(
    ({ pod, cause, resources, afterOthers, claims, outside, pools, volumeLimit, deleting }) => ({
      pod: podKey(pod),
      cause,
      ...(resources ? { resources } : {}),
      ...resizedReport(pod, resources),
      ...(afterOthers ? { afterOthers } : {}),
      ...(claims ? { claims } : {}),
      ...(outside ? { outside } : {}),
      ...(pools ? { pools } : {}),
      ...(volumeLimit ? { volumeLimit } : {}),
      ...(deleting ? { deleting } : {}),
    }),
  );
}

/** The resources of `resources` a resize in place has the pod count otherwise than its spec. */
function resizedReport(
  pod: PodInfo,
  resources: readonly string[] | undefined,
): Pick<UnplacedReport, "resized"> {
  const spec = pod.specRequests;
  if (!spec || !resources) return {};
  const resized = (["cpu", "memory"] as const).flatMap((resource) => {
    const counted = pod.requests[resource];
    const asked = spec[resource];
    return resources.includes(resource) &&
      counted !== undefined &&
      asked !== undefined &&
      counted !== asked
      ? [{ resource, counted, spec: asked }]
      : [];
  });
  return resized.length > 0 ? { resized } : {};
}

/** The resources `demand` asks more of than any of `rooms` has free. */
function shortEverywhere(demand: Room, rooms: readonly Room[]): string[] {
  const needs: [string, number | undefined, (room: Room) => number | undefined][] = [
    ["cpu", demand.cpu, (room) => room.cpu],
    ["memory", demand.memory, (room) => room.memory],
    ["pods", demand.pods, (room) => room.pods],
    ["ephemeral-storage", demand.ephemeralStorage, (room) => room.ephemeralStorage],
    ...Object.entries(demand.extended).map(
      ([name, amount]): [string, number, (room: Room) => number] => [
        name,
        amount,
        (room) => room.extended[name] ?? 0,
      ],
    ),
  ];
  // A node that does not report a dimension is not checked in it, as `shortfall` does not.
  const short = (needed: number, left: number | undefined) => left !== undefined && needed > left;
  return needs
    .filter(
      ([, needed, free]) =>
        needed !== undefined && needed > 0 && rooms.every((room) => short(needed, free(room))),
    )
    .map(([name]) => name);
}

/** The result for a pool that does not add nodes for pending pods: it places and claims none. */
export function disabledPendingReport(): PackResult {
  return {
    enabled: false,
    considered: 0,
    onExisting: [],
    onNew: [],
    newNodes: 0,
    neededNewNodes: 0,
    neverFit: [],
    overMax: [],
    expendable: [],
    claimed: new Set(),
    placedOnExisting: [],
    overMaxNodes: new Map(),
  };
}

/** A pod with its demand and its size relative to a new node, for ordering. */
interface Sized {
  pod: PodInfo;
  demand: Room;
  size: number;
}

function decreasing(pods: readonly PodInfo[], template: NewBinTemplate | undefined): Sized[] {
  const scale = template?.room;
  const cpuScale = scale && scale.cpu > 0 ? scale.cpu : 1000;
  const memoryScale = scale && scale.memory > 0 ? scale.memory : 2 ** 30;
  return pods
    .map((pod) => {
      const demand = podDemand(pod);
      const size = Math.max(demand.cpu / cpuScale, demand.memory / memoryScale);
      return { pod, demand, size };
    })
    .sort((a, b) => b.size - a.size || podKey(a.pod).localeCompare(podKey(b.pod)));
}

/**
 * What kept a pod off the nodes `firstFit` tried: the rules that kept it off nodes with room for
 * it, each with how many and the first; the nodes with too little room, how many, the first, and
 * the most cpu, memory and pod slots one of them has free.
 */
interface Tally {
  ruled: Map<
    PlacementConflict | PeerConflict,
    { nodes: number; node: string; tooLittleRoom?: number; deleting?: DeletingPod[] }
  >;
  roomless: number;
  /** The room the nodes pending pods went on had before them. */
  before: ReadonlyMap<Bin, Room>;
  /**
   * The nodes counted under room (too little of it, and no rule checked before it failed) that
   * pending pods went on, with the room they had before.
   */
  shortBefore: (readonly [Bin, Room])[];
  /** For a pod asking for ephemeral storage or an extended resource: the nodes counted under room's. */
  shortRooms?: Room[];
  first?: string;
  most?: { cpu: number; memory: number; pods: number };
}

/**
 * Ephemeral storage and extended resources, which few pods ask for, are judged on each node
 * without room; cpu, memory and pod slots from the most any of them has free.
 */
function askedOfEach(demand: Room): boolean {
  return (demand.ephemeralStorage ?? 0) > 0 || Object.keys(demand.extended).length > 0;
}

function newTally(demand: Room, before: ReadonlyMap<Bin, Room>): Tally {
  const tally: Tally = { ruled: new Map(), roomless: 0, before, shortBefore: [] };
  if (askedOfEach(demand)) tally.shortRooms = [];
  return tally;
}

/**
 * The first of `bins` with room for the pod that admits it; `tally`, when given, gets what kept
 * it off those before it, in the same pass (kept in locals, as every pod is tried on every node):
 * a node short of room that a rule kube-scheduler checks before room keeps it off too is counted
 * under that rule, as the scheduler names it.
 */
function firstFit(
  pod: PodInfo,
  demand: Room,
  bins: readonly Bin[],
  rules: PeerRules | undefined,
  tally?: Tally,
): Bin | undefined {
  let roomless = 0;
  let first: string | undefined;
  let cpu = 0;
  let memory = 0;
  let pods = 0;
  // Read once for the nodes short of room, where only the tally looks at the rules.
  const selector = tally ? Object.entries(pod.nodeSelector) : [];
  for (const bin of bins) {
    const room = bin.room;
    if (!fitsIn(demand, room)) {
      if (!tally) continue;
      const rule = ruleBeforeRoom(pod, selector, bin, rules);
      if (rule) {
        const seen = tally.ruled.get(rule);
        if (seen) {
          seen.nodes += 1;
          seen.tooLittleRoom = (seen.tooLittleRoom ?? 0) + 1;
        } else tally.ruled.set(rule, { nodes: 1, node: bin.name, tooLittleRoom: 1 });
        continue;
      }
      const had = tally.before.get(bin);
      if (had) tally.shortBefore.push([bin, had]);
      tally.shortRooms?.push(room);
      if (roomless === 0 || room.cpu > cpu) cpu = room.cpu;
      if (roomless === 0 || room.memory > memory) memory = room.memory;
      if (roomless === 0 || room.pods > pods) pods = room.pods;
      first ??= bin.name;
      roomless += 1;
      continue;
    }
    const conflict = namedConflict(pod, bin, rules);
    if (!conflict) return bin;
    if (!tally) continue;
    let seen = tally.ruled.get(conflict);
    if (seen) seen.nodes += 1;
    else {
      seen = { nodes: 1, node: bin.name };
      tally.ruled.set(conflict, seen);
    }
    if (conflict === "pod-anti-affinity" && rules?.affinity) {
      const deleting = deletingPods(deletingAntiAffinity(rules.affinity, pod, bin));
      if (deleting.length > 0) seen.deleting = [...(seen.deleting ?? []), ...deleting];
    }
  }
  if (tally && first !== undefined) {
    tally.roomless = roomless;
    tally.first = first;
    tally.most = { cpu, memory, pods };
  }
  return undefined;
}

/**
 * The rule that keeps `pod` off `bin`, named as kube-scheduler names it: its default filters run
 * in turn and stop at the first that fails, the pod's own rules (scheduling.ts) before those that
 * depend on the other pods (peer-rules.ts), save that NodePorts and NodeVolumeLimits run before
 * VolumeBinding, so a node where a host port the pod takes is in use, or whose count of CSI
 * volumes its volumes would pass, is counted under that whatever its volumes' node affinity says.
 * It finds a rule exactly when `placementConflict` or `peerConflict` does.
 */
function namedConflict(
  pod: PodInfo,
  bin: Bin,
  rules: PeerRules | undefined,
): PlacementConflict | PeerConflict | undefined {
  const own = placementConflict(pod, bin.traits);
  if (!rules) return own;
  if (own !== "volume-node-affinity") return own ?? namedPeerConflict(rules, pod, bin);
  const peer = namedPeerConflict(rules, pod, bin);
  return peer === "host-ports" || peer === "volume-limit" ? peer : own;
}

/**
 * The rule that keeps `pod` off `bin` among those kube-scheduler's default filters check before
 * NodeResourcesFit (NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts), named as it
 * names it; `undefined` when none does. A volume's node affinity (VolumeBinding), CSI counts,
 * topology spread and pod (anti-)affinity are checked after room, so a node short of room is
 * counted under room whatever they say.
 */
function ruleBeforeRoom(
  pod: PodInfo,
  selector: readonly (readonly [string, string])[],
  bin: Bin,
  rules: PeerRules | undefined,
): PlacementConflict | "host-ports" | undefined {
  const { traits } = bin;
  // Every pending pod is tried on every node short of room. Without a cordon, a taint, a label
  // of unknown value or a node affinity term, placementConflict can only find the nodeSelector
  // unmet (else a volume's node affinity, which is checked after room): that alone is looked at.
  if (
    traits.cordoned ||
    traits.taints.length > 0 ||
    traits.unknownValueLabels ||
    (pod.requiredNodeAffinity?.length ?? 0) > 0
  ) {
    const own = placementConflict(pod, traits);
    if (own !== undefined && own !== "volume-node-affinity") return own;
  } else
    for (const [key, value] of selector) if (traits.labels[key] !== value) return "node-selector";
  return rules?.ports && portConflict(rules.ports, pod, bin) ? "host-ports" : undefined;
}

/** Pods being deleted as a report names them. */
function deletingPods(pods: readonly { pod: PodInfo; node: string }[]): DeletingPod[] {
  return pods.map(({ pod, node }) => ({ pod: podKey(pod), node }));
}

/**
 * Why none of `existing` took a pod that `firstFit` (with `tally`) found none for: the rules that
 * kept it off the most nodes (with room, or short of it by a rule checked before room; the first
 * met among equals), and the nodes with too little room that no such rule kept it off, with what
 * it lacks on all of them and whether the pending pods placed before it took that room (the
 * tally's `shortBefore`). Undefined when there is no existing node.
 */
function keptOffExisting(
  entry: Sized,
  existing: readonly Bin[],
  tally: Tally,
): KeptOff | undefined {
  if (existing.length === 0) return undefined;
  const kept: KeptOff = { nodes: existing.length };
  // A stable sort keeps the first met first among equals.
  const ruled = [...tally.ruled]
    .map(([cause, seen]) => ({ cause, ...seen }))
    .sort((a, b) => b.nodes - a.nodes);
  if (ruled.length > 0) kept.rules = ruled.slice(0, 2);
  const others = ruled.slice(2).reduce((sum, rule) => sum + rule.nodes, 0);
  if (others > 0) kept.otherRules = others;
  if (tally.first === undefined || !tally.most) return kept;
  const { demand } = entry;
  const rooms = tally.shortRooms ?? [{ ...tally.most, extended: {} }];
  // What it lacked on all of them before the pending pods placed ahead of it took their room is
  // what keeps it off: what they took since is not named beside it.
  const had = tally.shortBefore.map(([, room]) => room);
  const lacked = had.length > 0 ? shortEverywhere(demand, [...rooms, ...had]) : [];
  const resources = lacked.length > 0 ? lacked : shortEverywhere(demand, rooms);
  // Only a node a pending pod went on can have had room before: the others are as they were.
  const afterOthers = roomTakenBefore(entry, tally.shortBefore);
  kept.room = {
    nodes: tally.roomless,
    node: tally.first,
    ...(resources.length > 0 ? { resources } : {}),
    ...(afterOthers ? { afterOthers: true as const } : {}),
  };
  return kept;
}

/**
 * A bin where a pod and the pods that must run beside it all fit: an existing or already opened
 * node with room for the lot that admits each of them, or `"new"` when an empty new node would.
 */
function bundleBin(
  bundle: readonly Sized[],
  existing: readonly Bin[],
  opened: readonly Bin[],
  template: NewBinTemplate | undefined,
  rules: PeerRules | undefined,
): Bin | "new" | undefined {
  const total = copyRoom(emptyRoom());
  for (const entry of bundle) addTo(total, entry.demand);
  if (bundle.length === 0) return undefined;
  const admits = (bin: Bin) => admitsGroup(bin, bundle, total, rules);
  const found = existing.find(admits) ?? opened.find(admits);
  if (found) return found;
  if (!template) return undefined;
  const fresh = { name: `new-${opened.length + 1}`, traits: template.traits, room: template.room };
  return admits(fresh) ? "new" : undefined;
}

/**
 * Whether `bin` takes `members` together, asking `demand` of `room` (its free room unless said):
 * room for them all, each admitted by the node's taints and labels, the first by the rules that
 * depend on other pods, and the others, which must run beside it, by those rules but their pod
 * affinity (`ridersAdmitted`).
 */
function admitsGroup(
  bin: Bin,
  members: readonly Sized[],
  demand: Room,
  rules: PeerRules | undefined,
  room: Room = bin.room,
): boolean {
  const [first, ...riders] = members;
  return (
    first !== undefined &&
    fitsIn(demand, room) &&
    members.every((member) => placementConflict(member.pod, bin.traits) === undefined) &&
    !(rules && peerConflict(rules, first.pod, bin)) &&
    ridersAdmitted(riders, bin, rules)
  );
}

/**
 * Whether the rules that depend on other pods let each of `riders` go on `bin` beside the pod
 * their affinity needs, before that pod is there: judged without their own pod affinity, which
 * it meets there. A rider another rule keeps off the node (a running pod its anti-affinity
 * avoids, a host port in use) could not follow the pod there.
 */
function ridersAdmitted(
  riders: readonly Sized[],
  bin: RuleBin,
  rules: PeerRules | undefined,
): boolean {
  if (!rules) return true;
  return riders.every(({ pod: { podAffinity: _, ...rest } }) => !peerConflict(rules, rest, bin));
}

function take(bin: Bin, pod: PodInfo, demand: Room, rules: PeerRules | undefined): void {
  takeFrom(bin.room, demand);
  if (rules) placePeer(rules, pod, bin);
}

function openBin(opened: Bin[], template: NewBinTemplate): Bin {
  const bin = {
    name: `new-${opened.length + 1}`,
    traits: template.traits,
    room: copyRoom(template.room),
  };
  opened.push(bin);
  return bin;
}

/**
 * Why no new node could take the pod, checked on an empty one: its shape is unknown, a
 * placement rule, a rule that depends on other pods (a pod it must be with runs only on existing
 * nodes, or one it must avoid shares the new node's zone), its size, or an extended resource it
 * asks for of which how much a new node has is not known.
 */
function neverFits(
  pod: PodInfo,
  demand: Room,
  template: NewBinTemplate | undefined,
  rules: PeerRules | undefined,
  opened: number,
): NeverFitDetail | undefined {
  if (!template) return { reason: "shape-unknown" };
  const conflict = placementConflict(pod, template.traits);
  if (conflict === "volume-node-affinity") {
    const claim = unreachableClaim(pod.volumeClaims, template.traits) as string;
    return { reason: conflict, claims: [{ claim }] };
  }
  if (conflict === "label-unknown") {
    const label = unknownLabelOf(pod, template.traits);
    return label ? { reason: conflict, label } : { reason: conflict };
  }
  if (conflict === "taints") {
    const taints = untoleratedTaints(pod.tolerations, template.traits.taints);
    return { reason: conflict, taints: taints.map(taintText) };
  }
  if (conflict) return { reason: conflict };
  const fresh = { name: `new-${opened + 1}`, traits: template.traits };
  const podConflict = rules && peerConflict(rules, pod, fresh);
  if (podConflict === "volume-limit" && rules?.volumes) {
    const volumeLimits = newNodeVolumesExceeded(rules.volumes, pod);
    return volumeLimits.length > 0
      ? { reason: podConflict, volumeLimits }
      : { reason: podConflict };
  }
  if (podConflict) {
    const unknown = podConflict === "host-ports" ? undefined : unknownKey(rules, pod, fresh);
    if (unknown) return { reason: "topology-unknown", topologyKey: unknown };
    return conflictDetail(rules, pod, fresh, podConflict);
  }
  const resource = shortfall(demand, template.room);
  if (!resource) return undefined;
  // Every resource a new node lacks, not the first alone: a pod too large in cpu and memory
  // still fits no node of more cores. One of which how much a new node has is not known is not
  // lacking: a pod too large in nothing else may fit, and adds no node on a guess.
  const unknown = template.unknownExtended ?? [];
  const lacking = shortEverywhere(demand, [template.room]).filter(
    (name) => !unknown.includes(name),
  );
  const [first, ...rest] = unknown.includes(resource)
    ? lacking
    : [resource, ...lacking.filter((name) => name !== resource)];
  if (!first) return { reason: "extended-unknown", resource };
  return rest.length > 0
    ? { reason: "too-large", resource: first, resources: [first, ...rest] }
    : { reason: "too-large", resource: first };
}

type NeverFitDetail = Pick<
  NeverFitPod,
  | "reason"
  | "resource"
  | "resources"
  | "topologyKey"
  | "ports"
  | "claims"
  | "label"
  | "taints"
  | "startupPods"
  | "volumeLimits"
  | "deleting"
>;

/**
 * A pod its volumes keep pending, with the scheduler's words when it gave them and its claims
 * that wait on what a node does not change.
 */
function volumesDetail(pod: PodInfo, wait: VolumeWait): NeverFitDetail & { volume?: string } {
  const claims = (pod.volumeClaims ?? [])
    .filter((claim) => claim.state === "waiting")
    .map(({ claim, why }) => (why === undefined ? { claim } : { claim, why }));
  return {
    reason: "volumes",
    ...(wait.scheduler === undefined ? {} : { volume: wait.scheduler }),
    ...(claims.length > 0 ? { claims } : {}),
  };
}

/**
 * A rule that depends on other pods, with what it is about: the topology key of the pod's own
 * term or constraint that rules the new node out (none when a running pod's anti-affinity does),
 * or the host ports already taken there.
 */
function conflictDetail(
  rules: PeerRules,
  pod: PodInfo,
  bin: RuleBin,
  reason: PeerConflict,
): NeverFitDetail {
  if (reason === "host-ports") {
    const taken = bin.traits.daemonSetHostPorts ?? [];
    const ports = (pod.hostPorts ?? [])
      .filter((port) =>
        taken.some((other) => other.port === port.port && other.protocol === port.protocol),
      )
      .map((port) => `${port.port}/${port.protocol}`);
    return ports.length > 0 ? { reason, ports } : { reason };
  }
  const { podAffinity, podAntiAffinity, topologySpread, hostPorts, ...bare } = pod;
  const alone = (patch: Partial<PodInfo>) =>
    peerConflict(rules, { ...bare, ...patch }, bin) === reason;
  // Another pod's anti-affinity rules it out whatever the pod's own terms say: one running, or
  // one the new node starts with.
  if (reason === "pod-anti-affinity" && rules.affinity) {
    const deleting = deletingPods(deletingAntiAffinity(rules.affinity, pod, bin));
    if (deleting.length > 0) {
      const [term] = (podAntiAffinity ?? []).filter((term) => alone({ podAntiAffinity: [term] }));
      return term ? { reason, topologyKey: term.topologyKey, deleting } : { reason, deleting };
    }
  }
  if (reason === "pod-anti-affinity" && alone({}))
    return startupAntiAffinity(bare, bin) === reason ? { reason, startupPods: true } : { reason };
  const terms =
    reason === "pod-anti-affinity"
      ? (podAntiAffinity ?? []).filter((term) => alone({ podAntiAffinity: [term] }))
      : reason === "topology-spread"
        ? (topologySpread ?? []).filter((constraint) => alone({ topologySpread: [constraint] }))
        : (podAffinity ?? []);
  const [first] = terms;
  return first ? { reason, topologyKey: first.topologyKey } : { reason };
}

/**
 * The topology key, among those of the pod's own rules and of the anti-affinity of pods already
 * placed, whose value a new node would get is not known.
 */
function unknownKey(rules: PeerRules, pod: PodInfo, bin: PeerBin): string | undefined {
  const avoided = rules.affinity && unknownAntiAffinityKey(rules.affinity, pod, bin);
  if (avoided) return avoided;
  // A key a new node lacks already rules it out for affinity and spread; say why it lacks it.
  const keys = [
    ...(pod.podAffinity ?? []).map((term) => term.topologyKey),
    ...(pod.topologySpread ?? []).map((constraint) => constraint.topologyKey),
  ];
  return keys.find((key) => domainUnknown(bin, key));
}

/** A pending pod as the report lists it: its key, requests and the scheduler's message. */
export function pendingPod(pod: PodInfo): PendingPod {
  const info: PendingPod = {
    pod: podKey(pod),
    cpu: pod.requests.cpu ?? 0,
    memory: pod.requests.memory ?? 0,
  };
  const unknown = (["cpu", "memory"] as const).filter((name) => pod.requests[name] === undefined);
  if (unknown.length > 0) info.unknown = [...unknown];
  if (pod.requests.ephemeralStorage) info.ephemeralStorage = pod.requests.ephemeralStorage;
  const extended = Object.entries(pod.requests.extended ?? {}).filter(([, amount]) => amount > 0);
  if (extended.length > 0) info.extended = Object.fromEntries(extended);
  if (pod.unschedulable?.message) info.message = pod.unschedulable.message;
  if (notYetTried(pod)) info.judged = false;
  return info;
}

/** `3` for `new-3`, the third node the packing opens; 0 for an existing node's name. */
export function newNodeNumber(node: string): number {
  const match = /^new-(\d+)$/.exec(node);
  return match ? Number(match[1]) : 0;
}
