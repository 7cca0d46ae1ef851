import type { NewNodeConfig, NodeSelectorConfig } from "../policy/repo-config.ts";
import type { ClusterIndex } from "./cluster-index.ts";
import { missingGpus } from "./gpu-coming.ts";
import { compareNodeNames } from "./removal.ts";
import { emptyRoom, freeRoom, podDemand, type Room } from "./room.ts";
import { type NodeTraits, placementConflict } from "./scheduling.ts";
import type { DaemonSetInfo, HostPort, NodeInfo, PodInfo, Resources, Taint } from "./snapshot.ts";
import type { StartupPod } from "./topology-domain.ts";

/** Kubelet's default pod capacity, used when neither the config nor any node tells. */
export const DEFAULT_MAX_PODS = 110;

/** Labels that name one machine and so never carry over to a new node. */
const INSTANCE_LABELS = new Set(["kubernetes.io/hostname"]);
/** Taints the node lifecycle controller sets and clears; a new node ends up without them. */
const TRANSIENT_TAINT_PREFIXES = ["node.kubernetes.io/", "node.cloudprovider.kubernetes.io/"];

/** What a node added to the pool will look like, and where each part came from. */
export interface NodeShape {
  allocatable: Resources;
  /**
   * What the cluster's DaemonSets that would run on a new node, those running on every Ready
   * pool node, and the static pods every one of them runs, will take on a new node too.
   */
  daemonSetOverhead: StartupOverhead;
  /** The host ports those pods take, which a new node will have in use too. */
  daemonSetHostPorts: HostPort[];
  /**
   * Those pods by their namespace, labels and required pod anti-affinity, one of each DaemonSet
   * (from its pods, or its template while it has none) or static pod: a pod whose required pod
   * affinity selects one of them finds it on a new node, one whose anti-affinity does, or that
   * one's anti-affinity selects, never fits there, and a topology spread constraint counts those
   * it selects in a new node's domain.
   */
  startupPods: StartupPod[];
  /**
   * `cluster` when the pool has no Ready node to see its DaemonSets and static pods on: those
   * counted are then the cluster's DaemonSets whose pod template's nodeSelector, node affinity
   * and tolerations admit a new node's labels and taints (their pods', in a snapshot saved
   * before DaemonSets were read), and no static pod.
   */
  daemonSetsFrom?: "cluster";
  labels: Record<string, string>;
  /**
   * Label keys the pool's nodes carry with different values (or only some of them carry) and
   * neither the selector nor `newNode.labels` sets: which value a new node gets is not known
   * (a zone per Proxmox host, for example).
   */
  unknownLabels: string[];
  /**
   * Of `unknownLabels`, the keys every pool node carries: a new node carries them too, with a
   * value that is not known, which a pod's node selection may depend on. A key only some of them
   * carry is taken as one a new node does not (a label put on a node by hand), unless
   * `newNode.labels` gives it.
   */
  unknownValueLabels: string[];
  taints: Taint[];
  /**
   * Extended resources that nodes the `newNode.from` rule does not tell apart report differently
   * (of two GPU VMs, one just rebooted, its device plugin not registered yet, reports none) and
   * `newNode.extendedResources` does not give: how much of each a new node has is not known,
   * never none. Absent when there are none.
   */
  unknownExtended?: string[];
  /**
   * Of `unknownExtended`, those the pool's nodes are labelled as having (a GPU feature discovery
   * label) and none of them advertises: a new node's amount is not known from them either.
   */
  unadvertisedExtended?: string[];
  source: "configured" | "learned" | "configured+learned";
  /**
   * The node whose allocatable was copied, and how many pool nodes share it. `least` names, for
   * each of cpu, memory, pods and ephemeral storage (`ephemeralStorage`) that another
   * allocatable the rule does not choose against has less of, the node whose amount was taken
   * instead (below, `learnAllocatable`).
   */
  learnedFrom?: {
    node: string;
    alike: number;
    rule: NewNodeConfig["from"];
    least?: Partial<Record<LeastResource, string>>;
  };
}

/**
 * Why what a new node offers is unknown: its size (cpu or memory known from neither the config
 * nor the pool's nodes), a request of a DaemonSet it would run that could not be read, or the
 * cluster's DaemonSets, which tell those a new node runs, not read.
 */
export type ShapeUnknown = "size" | "daemonset-requests" | "daemonsets-unread";

/**
 * The shape of a new node: configured cpu/memory/pods and extended resources win, the rest is
 * learned from the pool's Ready nodes (the most common allocatable or the smallest; an extended
 * resource that nodes the rule does not tell apart report differently is unknown). `undefined`
 * when it is unknown (`newNodeShapeOrWhy` says why).
 */
export function newNodeShape(
  members: readonly NodeInfo[],
  config: NewNodeConfig,
  selector: NodeSelectorConfig | undefined,
  index: ClusterIndex,
  now?: Date,
): NodeShape | undefined {
  const found = newNodeShapeOrWhy(members, config, selector, index, now);
  return "shape" in found ? found.shape : undefined;
}

/**
 * The shape of a new node, as `newNodeShape` tells it, or why it is unknown; with its
 * allocatable when that is known and only the room its DaemonSets leave is not.
 */
export function newNodeShapeOrWhy(
  members: readonly NodeInfo[],
  config: NewNodeConfig,
  selector: NodeSelectorConfig | undefined,
  index: ClusterIndex,
  now?: Date,
): { shape: NodeShape } | { unknown: ShapeUnknown; allocatable?: Resources } {
  const learned = learnAllocatable(members, config.from);
  const allocatable: Resources = { ...learned?.allocatable };
  if (config.cpu !== undefined) allocatable.cpu = config.cpu;
  if (config.memory !== undefined) allocatable.memory = config.memory;
  if (config.pods !== undefined) allocatable.pods = config.pods;
  if (Object.keys(config.extendedResources).length > 0)
    allocatable.extended = { ...allocatable.extended, ...config.extendedResources };
  if (allocatable.cpu === undefined || allocatable.memory === undefined) return { unknown: "size" };
  allocatable.pods ??= DEFAULT_MAX_PODS;
  const configured =
    config.cpu !== undefined ||
    config.memory !== undefined ||
    config.pods !== undefined ||
    Object.keys(config.extendedResources).length > 0 ||
    Object.keys(config.labels).length > 0 ||
    config.taints.length > 0;
  const selected = selectorLabels(selector);
  const labels = { ...sharedLabels(members), ...selected.labels, ...config.labels };
  // A node holds one taint per key and effect: a configured one takes the place of the shared.
  const taints = [
    ...sharedTaints(members).filter(
      (shared) =>
        !config.taints.some((taint) => taint.key === shared.key && taint.effect === shared.effect),
    ),
    ...config.taints,
  ];
  const unknownLabels = varyingLabels(members, labels);
  const unknownValueLabels = [
    ...new Set([
      ...unknownLabels.filter((key) => members.every((node) => node.labels[key] !== undefined)),
      ...selected.present.filter((key) => labels[key] === undefined),
    ]),
  ].sort();
  const traits = { labels, taints, unknownValueLabels };
  const daemonSets = daemonSetLoad(members, index, now, traits);
  if (typeof daemonSets === "string") return { unknown: daemonSets, allocatable };
  const shape: NodeShape = {
    allocatable,
    ...daemonSets,
    labels,
    unknownLabels,
    unknownValueLabels,
    taints,
    source: !learned ? "configured" : configured ? "configured+learned" : "learned",
  };
  if (learned) {
    shape.learnedFrom = { node: learned.node.name, alike: learned.alike, rule: config.from };
    // A configured amount wins, and was taken from no node.
    const least = Object.fromEntries(
      Object.entries(learned.least ?? {}).filter(
        ([resource]) =>
          resource === "ephemeralStorage" ||
          config[resource as Exclude<LeastResource, "ephemeralStorage">] === undefined,
      ),
    );
    if (Object.keys(least).length > 0) shape.learnedFrom.least = least;
  }
  const unknownExtended = (learned?.unknownExtended ?? []).filter(
    (name) => !(name in config.extendedResources),
  );
  if (unknownExtended.length > 0) shape.unknownExtended = unknownExtended;
  const unadvertised = (learned?.unadvertised ?? []).filter((name) =>
    unknownExtended.includes(name),
  );
  if (unadvertised.length > 0) shape.unadvertisedExtended = unadvertised;
  return { shape };
}

/** Room a new node offers to pending pods once its DaemonSet and static pods run. */
export function newNodeRoom(shape: NodeShape): Room {
  const overhead = shape.daemonSetOverhead;
  const room = freeRoom(shape.allocatable, undefined) as Room;
  room.cpu -= overhead.cpu;
  room.memory -= overhead.memory;
  room.pods -= overhead.pods;
  if (room.ephemeralStorage !== undefined) room.ephemeralStorage -= overhead.ephemeralStorage ?? 0;
  for (const [name, amount] of Object.entries(overhead.extended ?? {}))
    room.extended[name] = (room.extended[name] ?? 0) - amount;
  return room;
}

/**
 * The pool's nodes a new node is learned from: those Ready (all of them when none is) that
 * report cpu and memory; a node reporting none at all (a kubelet whose reservations exceed the
 * machine) is no model for a new VM.
 */
export function modelNodes(members: readonly NodeInfo[]): NodeInfo[] {
  const known = members.filter(
    (node) => (node.allocatable.cpu ?? 0) > 0 && (node.allocatable.memory ?? 0) > 0,
  );
  const ready = known.filter((node) => node.ready);
  return ready.length > 0 ? ready : known;
}

function learnAllocatable(
  members: readonly NodeInfo[],
  rule: NewNodeConfig["from"],
): LearnedAllocatable | undefined {
  const usable = modelNodes(members);
  // A node whose label says it has a GPU its allocatable does not advertise (its device plugin
  // not registered yet) is no model for a new VM's GPU: the others are. With no other, a new
  // VM's amount of it is not known, never none.
  const advertising = usable.filter((node) => missingGpus(node).length === 0);
  const pool = advertising.length > 0 ? advertising : usable;
  const missing = new Set(
    advertising.length > 0
      ? []
      : usable.flatMap((node) => missingGpus(node)).map((gpu) => gpu.resource),
  );
  if (pool.length === 0) return undefined;
  const groups = new Map<string, NodeInfo[]>();
  for (const node of pool) {
    // Extended resources (a GPU passed through to one VM) set a node apart: a new VM has them
    // only if it is like the nodes that do.
    const extended = reportedExtended(node).map(([name, amount]) => `${name}=${amount}`);
    const key = [
      node.allocatable.cpu,
      node.allocatable.memory,
      node.allocatable.pods,
      ...extended,
    ].join("/");
    const group = groups.get(key);
    if (group) group.push(node);
    else groups.set(key, [node]);
  }
  const rank = (a: NodeInfo[], b: NodeInfo[]) =>
    rule === "most-common" ? b.length - a.length || smaller(a, b) : smaller(a, b);
  const [first] = [...groups.values()].sort(rank);
  if (!first) return undefined;
  // Groups the rule does not tell apart differ in their extended resources (or pods) alone: two
  // GPU VMs, one just rebooted whose device plugin has not registered its GPU yet. Which of them
  // a new VM is like is not known: a resource they report differently is unknown on it, never
  // none, and the group reporting the most is the model.
  const tied = [...groups.values()]
    .filter((group) => rank(first, group) === 0)
    .map((group) => ({ group, model: [...group].sort(byName)[0] as NodeInfo }))
    .sort(
      (a, b) =>
        reportedExtended(b.model).length - reportedExtended(a.model).length ||
        byName(a.model, b.model),
    );
  const { group: best, model: node } = tied[0] as { group: NodeInfo[]; model: NodeInfo };
  const { extended: _, ...size } = node.allocatable;
  const allocatable: Resources = size;
  // Disks of alike VMs differ by a few blocks: a new one is counted on for the least of them.
  const disks = best.flatMap((alike) => alike.allocatable.ephemeralStorage ?? []);
  if (disks.length > 0) allocatable.ephemeralStorage = Math.min(...disks);
  // `smallest`, or a most-common allocatable that as many nodes share as another, leaves shapes
  // the rule does not choose between, and `smaller` orders them by memory first: of an 8-core
  // 16 GiB VM and a 4-core 32 GiB one it takes the former, whose 8 cores a new VM may not have.
  // Which of them a new VM is like is not known, so it is counted on for the least of each, its
  // disk too (the least of any of their nodes, as of alike ones).
  const candidates = [...groups.values()].filter(
    (group) => rule === "smallest" || group.length === first.length,
  );
  const least = leastOf(candidates, allocatable);
  const names = new Set(tied.flatMap(({ model }) => reportedExtended(model).map(([name]) => name)));
  const extended: Record<string, number> = {};
  const unknownExtended: string[] = [];
  for (const name of [...names].sort()) {
    const amounts = new Set(tied.map(({ model }) => model.allocatable.extended?.[name] ?? 0));
    const [amount = 0] = amounts;
    if (amounts.size > 1) unknownExtended.push(name);
    else if (amount > 0) extended[name] = amount;
  }
  const unadvertised = [...missing].filter(
    (name) => !(name in extended) && !unknownExtended.includes(name),
  );
  unknownExtended.push(...unadvertised);
  unknownExtended.sort();
  if (Object.keys(extended).length > 0) allocatable.extended = extended;
  return {
    node,
    alike: best.length,
    allocatable,
    unknownExtended,
    unadvertised,
    ...(least ? { least } : {}),
  };
}

/** The resources a new node is counted on for the least of, among shapes alike to the rule. */
type LeastResource = "cpu" | "memory" | "pods" | "ephemeralStorage";

/**
 * Lowers each of `allocatable`'s cpu, memory and pods to the least that a node of `candidates`
 * reports, and its ephemeral storage to the least that any of their nodes reports (disks of
 * alike VMs differ by a few blocks), and names the node each lowered amount was taken from
 * (`undefined` when none was). A disk is lowered only when the model reports one: unknown stays
 * unknown.
 */
function leastOf(
  candidates: readonly NodeInfo[][],
  allocatable: Resources,
): Partial<Record<LeastResource, string>> | undefined {
  const least: Partial<Record<LeastResource, string>> = {};
  for (const resource of ["cpu", "memory", "pods"] as const) {
    for (const group of candidates) {
      const model = [...group].sort(byName)[0];
      const amount = model?.allocatable[resource];
      const current = allocatable[resource];
      if (!model || amount === undefined || current === undefined || amount >= current) continue;
      allocatable[resource] = amount;
      least[resource] = model.name;
    }
  }
  for (const node of candidates.flat().sort(byName)) {
    const amount = node.allocatable.ephemeralStorage;
    const current = allocatable.ephemeralStorage;
    if (amount === undefined || current === undefined || amount >= current) continue;
    allocatable.ephemeralStorage = amount;
    least.ephemeralStorage = node.name;
  }
  return Object.keys(least).length > 0 ? least : undefined;
}

interface LearnedAllocatable {
  node: NodeInfo;
  alike: number;
  allocatable: Resources;
  /**
   * Extended resources that groups of nodes the rule does not tell apart report differently:
   * how much of each a new node has is not known.
   */
  unknownExtended: string[];
  /** Of them, those the nodes are labelled as having and none advertises. */
  unadvertised: string[];
  /** The resources taken from another node, each at the least among shapes alike to the rule. */
  least?: Partial<Record<LeastResource, string>>;
}

/** The extended resources a node reports some of, by name. */
function reportedExtended(node: NodeInfo): [string, number][] {
  return Object.entries(node.allocatable.extended ?? {})
    .filter(([, amount]) => amount > 0)
    .sort(([a], [b]) => a.localeCompare(b));
}

/** By name as the removal rule counts names: talos-worker-7 before talos-worker-10. */
function byName(a: NodeInfo, b: NodeInfo): number {
  return compareNodeNames(a.name, b.name);
}

/** Less memory, then less cpu. */
function smaller(a: NodeInfo[], b: NodeInfo[]): number {
  const x = a[0]?.allocatable;
  const y = b[0]?.allocatable;
  return (x?.memory ?? 0) - (y?.memory ?? 0) || (x?.cpu ?? 0) - (y?.cpu ?? 0);
}

/**
 * What the pool's selector says of every node it recognises, a new one included: the labels
 * `matchLabels` and a one-value `In` give, and the keys `Exists` or an `In` of several values
 * require, whose value is not known.
 */
function selectorLabels(selector: NodeSelectorConfig | undefined): {
  labels: Record<string, string>;
  present: string[];
} {
  const labels: Record<string, string> = { ...selector?.matchLabels };
  const present: string[] = [];
  for (const requirement of selector?.matchExpressions ?? []) {
    const values = requirement.values ?? [];
    if (requirement.operator === "In" && values.length === 1)
      labels[requirement.key] = values[0] as string;
    else if (requirement.operator === "In" || requirement.operator === "Exists")
      present.push(requirement.key);
  }
  return { labels, present: present.filter((key) => labels[key] === undefined) };
}

/** Labels every node carries with the same value, those naming one machine aside. */
export function sharedLabels(members: readonly NodeInfo[]): Record<string, string> {
  const [first, ...rest] = members;
  if (!first) return {};
  const shared: Record<string, string> = {};
  for (const [key, value] of Object.entries(first.labels)) {
    if (INSTANCE_LABELS.has(key) || value === first.name) continue;
    if (rest.every((node) => node.labels[key] === value)) shared[key] = value;
  }
  return shared;
}

function varyingLabels(members: readonly NodeInfo[], known: Record<string, string>): string[] {
  const keys = new Set<string>();
  for (const node of members)
    for (const [key, value] of Object.entries(node.labels))
      if (!(key in known) && !INSTANCE_LABELS.has(key) && value !== node.name) keys.add(key);
  return [...keys].sort();
}

/** Taints every node carries, those the node lifecycle controller sets and clears aside. */
export function sharedTaints(members: readonly NodeInfo[]): Taint[] {
  const [first, ...rest] = members;
  if (!first) return [];
  return first.taints.filter(
    (taint) =>
      !TRANSIENT_TAINT_PREFIXES.some((prefix) => taint.key.startsWith(prefix)) &&
      rest.every((node) => node.taints.some((other) => sameTaint(taint, other))),
  );
}

/** Same key, value (none and empty alike) and effect. */
export function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && (a.value ?? "") === (b.value ?? "") && a.effect === b.effect;
}

/**
 * What the pods every node of the pool starts on its own take: those of DaemonSets and static
 * pods. `pods` counts both; `staticPods` how many of them are static pods (absent when none);
 * ephemeral storage and extended resources only when one of them requests some.
 */
export interface StartupOverhead {
  cpu: number;
  memory: number;
  pods: number;
  ephemeralStorage?: number;
  extended?: Record<string, number>;
  staticPods?: number;
}

interface StartupPodGroup {
  nodes: number;
  requests: Room;
  unknown: boolean;
  hostPorts: readonly HostPort[];
  static: boolean;
  /** One of its pods, for the labels the group's pods carry. */
  pod?: StartupPod;
}

/**
 * The pods a new node starts on its own. The DaemonSets are those of the cluster that would run on
 * a node with `traits`, by their pod templates (a DaemonSet just made, or rolled out with a
 * template asking more, has no pod, or no such pod, on the pool yet), each at the larger of its
 * template's request and its pods'; besides them, the DaemonSets with a pod on every settled Ready
 * pool node (a DaemonSet pod still waiting for room on its node counts for that node), and the
 * static pods every such node runs (a machine configuration they share), which no list tells. A
 * pool with no Ready node counts the cluster's DaemonSets alone, those known only by their pods
 * included (a snapshot saved before DaemonSets were read, or pods whose DaemonSet is gone); one
 * with Ready nodes counts such pods only where they run on every one of them. Unknown when one of
 * them has a request that could not be read, or when the cluster's DaemonSets could not be read: a
 * new node runs those that admit it, whether or not the pool's nodes show them yet.
 */
function daemonSetLoad(
  members: readonly NodeInfo[],
  index: ClusterIndex,
  now: Date | undefined,
  traits: NodeTraits,
): StartupLoad | Exclude<ShapeUnknown, "size"> {
  if (index.daemonSets === "unknown") return "daemonsets-unread";
  const ready = settled(
    members.filter((node) => node.ready),
    now,
  );
  if (ready.length === 0) {
    const load = startupLoad(clusterDaemonSets(index, index.daemonSets, traits, true).values());
    return load ? { ...load, daemonSetsFrom: "cluster" } : "daemonset-requests";
  }
  const groups = onEveryNode(ready, index);
  if (index.daemonSets !== undefined)
    // A DaemonSet's cluster-wide group holds its pods on the pool's nodes too, and its template.
    for (const [key, group] of clusterDaemonSets(index, index.daemonSets, traits, false))
      groups.set(key, group);
  return startupLoad(groups.values()) ?? "daemonset-requests";
}

/** The DaemonSets and static pods with a pod on every one of `ready`, by their key. */
function onEveryNode(
  ready: readonly NodeInfo[],
  index: ClusterIndex,
): Map<string, StartupPodGroup> {
  const groups = new Map<string, StartupPodGroup>();
  for (const node of ready) {
    const seen = new Set<string>();
    for (const pod of podsOf(node.name, index)) {
      const key = startupKey(pod, node);
      if (key === undefined) continue;
      const group = groups.get(key) ?? newGroup(pod.mirror);
      if (!seen.has(key)) group.nodes += 1;
      seen.add(key);
      addPodTo(group, pod);
      groups.set(key, group);
    }
  }
  for (const [key, group] of groups) if (group.nodes < ready.length) groups.delete(key);
  return groups;
}

type StartupLoad = Pick<
  NodeShape,
  "daemonSetOverhead" | "daemonSetHostPorts" | "startupPods" | "daemonSetsFrom"
>;

/** The node's pods, with the DaemonSet pods made for it that wait for room on it. */
function podsOf(node: string, index: ClusterIndex): PodInfo[] {
  return [...(index.podsByNode.get(node) ?? []), ...(index.unboundDaemonSetPods.get(node) ?? [])];
}

/**
 * What the groups take on a new node; `undefined` when one of them has a request that could not
 * be read: what it takes is unknown, and so is the room it leaves on a new node, never taken as
 * zero.
 */
function startupLoad(groups: Iterable<StartupPodGroup>): StartupLoad | undefined {
  const overhead: StartupOverhead = { cpu: 0, memory: 0, pods: 0 };
  const hostPorts: HostPort[] = [];
  const startupPods: StartupPod[] = [];
  for (const group of groups) {
    if (group.unknown) return undefined;
    addOverhead(overhead, group);
    hostPorts.push(...group.hostPorts);
    if (group.pod) startupPods.push(group.pod);
  }
  return { daemonSetOverhead: overhead, daemonSetHostPorts: hostPorts, startupPods };
}

/**
 * The cluster's DaemonSets that would run a pod on a node with `traits`, by their key: each
 * DaemonSet of `daemonSets` by its pod template (which keeps the node affinity its pods lose),
 * counted with the larger of its template's request and its pods'; with `unlisted`, a DaemonSet
 * known only by its pods (a snapshot saved before DaemonSets were read, or pods whose DaemonSet
 * is gone) by its pods.
 */
function clusterDaemonSets(
  index: ClusterIndex,
  daemonSets: readonly DaemonSetInfo[] | undefined,
  traits: NodeTraits,
  unlisted: boolean,
): Map<string, StartupPodGroup> {
  const objects = new Map(
    (daemonSets ?? []).map((daemonSet) => [
      daemonSetKey(daemonSet.namespace, daemonSet.name),
      daemonSet,
    ]),
  );
  const groups = new Map<string, StartupPodGroup>();
  const admitted = new Set<string>();
  const pods = [...index.podsByNode.values(), ...index.unboundDaemonSetPods.values()].flat();
  for (const pod of pods) {
    if (!pod.daemonSet) continue;
    const key = podDaemonSetKey(pod);
    const group = groups.get(key) ?? newGroup(false);
    addPodTo(group, pod);
    groups.set(key, group);
    if (unlisted && !objects.has(key) && daemonSetAdmits(pod, traits)) admitted.add(key);
  }
  for (const [key, daemonSet] of objects) {
    if (!mayRun(daemonSet, traits)) continue;
    const group = groups.get(key) ?? newGroup(false);
    addPodTo(group, daemonSet);
    groups.set(key, group);
    admitted.add(key);
  }
  return new Map([...admitted].map((key) => [key, groups.get(key) as StartupPodGroup]));
}

/**
 * Whether the DaemonSet of `pod` would run a pod on a node with `traits`. Its controller pins
 * each pod to its node by name (required node affinity on `metadata.name`, in place of the
 * DaemonSet's own), which says nothing of a node to come: a term asking for a name alone
 * admits any node.
 */
function daemonSetAdmits(pod: PodInfo, traits: NodeTraits): boolean {
  const terms = pod.requiredNodeAffinity?.map((term) => ({
    ...term,
    matchFields: (term.matchFields ?? []).filter((field) => field.key !== "metadata.name"),
  }));
  const anyNode = terms?.some(
    (term) => (term.matchExpressions ?? []).length === 0 && term.matchFields.length === 0,
  );
  const affinity = anyNode ? undefined : terms;
  const unpinned: PodInfo = { ...pod };
  if (affinity) unpinned.requiredNodeAffinity = affinity;
  else delete unpinned.requiredNodeAffinity;
  return mayRun(unpinned, traits);
}

/**
 * Whether a DaemonSet pod may run on a new node with `traits`: one that would where the value
 * of a label the new node gets is not known counts, so the room left is less, never more.
 */
function mayRun(pod: Parameters<typeof placementConflict>[0], traits: NodeTraits): boolean {
  const conflict = placementConflict(pod, traits);
  return conflict === undefined || conflict === "label-unknown";
}

/**
 * Adds what one of a group's pods (or its DaemonSet's template) takes: its request, if larger,
 * and its host ports; the first pod gives the group's labels and required pod anti-affinity, the
 * template those of a DaemonSet with no pod yet (none when its labels were not read, in a
 * snapshot saved before they were).
 */
function addPodTo(
  group: StartupPodGroup,
  pod: Pick<PodInfo, "requests" | "hostPorts"> & Partial<StartupPod>,
): void {
  if (pod.requests.cpu === undefined || pod.requests.memory === undefined) group.unknown = true;
  largest(group.requests, podDemand(pod));
  if (pod.hostPorts && pod.hostPorts.length > group.hostPorts.length)
    group.hostPorts = pod.hostPorts;
  if (!group.pod && pod.labels && pod.namespace !== undefined) {
    group.pod = { namespace: pod.namespace, labels: pod.labels };
    if (pod.podAntiAffinity) group.pod.podAntiAffinity = pod.podAntiAffinity;
  }
}

function newGroup(isStatic: boolean): StartupPodGroup {
  return { nodes: 0, requests: emptyRoom(), unknown: false, hostPorts: [], static: isStatic };
}

/** Raises each amount of `into` to that of `demand` where it is larger. */
function largest(into: Room, demand: Room): void {
  into.cpu = Math.max(into.cpu, demand.cpu);
  into.memory = Math.max(into.memory, demand.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage ?? 0, demand.ephemeralStorage ?? 0);
  for (const [name, amount] of Object.entries(demand.extended))
    into.extended[name] = Math.max(into.extended[name] ?? 0, amount);
}

function addOverhead(overhead: StartupOverhead, group: StartupPodGroup): void {
  const { requests } = group;
  overhead.cpu += requests.cpu;
  overhead.memory += requests.memory;
  overhead.pods += 1;
  if (group.static) overhead.staticPods = (overhead.staticPods ?? 0) + 1;
  if (requests.ephemeralStorage)
    overhead.ephemeralStorage = (overhead.ephemeralStorage ?? 0) + requests.ephemeralStorage;
  for (const [name, amount] of Object.entries(requests.extended)) {
    if (amount <= 0) continue;
    overhead.extended ??= {};
    overhead.extended[name] = (overhead.extended[name] ?? 0) + amount;
  }
}

/** A node Ready for less than this may not run all its DaemonSets' pods yet. */
const DAEMONSETS_SETTLE_MS = 10 * 60_000;

/**
 * The Ready nodes whose DaemonSet pods tell which DaemonSets a new node will run: those Ready
 * for a while (a node that joined a minute ago has not started them all), or every Ready node
 * when none has settled yet.
 */
function settled(ready: readonly NodeInfo[], now: Date | undefined): readonly NodeInfo[] {
  if (now === undefined) return ready;
  const old = ready.filter((node) => {
    const since = node.readySince === undefined ? Number.NaN : Date.parse(node.readySince);
    return Number.isNaN(since) || now.getTime() - since >= DAEMONSETS_SETTLE_MS;
  });
  return old.length > 0 ? old : ready;
}

/**
 * Which pods of a node are one of those every node starts: a DaemonSet's (by the DaemonSet) or a
 * static pod's mirror (by its name, which the kubelet suffixes with the node's); others are not.
 */
function startupKey(pod: PodInfo, node: NodeInfo): string | undefined {
  if (pod.daemonSet) return podDaemonSetKey(pod);
  if (!pod.mirror) return undefined;
  const suffix = `-${node.name}`;
  const name = pod.name.endsWith(suffix) ? pod.name.slice(0, -suffix.length) : pod.name;
  return `static:${pod.namespace}/${name}`;
}

function podDaemonSetKey(pod: PodInfo): string {
  return daemonSetKey(pod.namespace, pod.owner?.name ?? pod.name);
}

function daemonSetKey(namespace: string, name: string): string {
  return `daemonset:${namespace}/${name}`;
}
