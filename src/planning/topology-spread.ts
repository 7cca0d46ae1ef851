import type { ClusterIndex } from "./cluster-index.ts";
import {
  matchesLabelSelector,
  matchesNodeSelector,
  matchesRequiredAffinity,
  toleratesTaints,
} from "./scheduling.ts";
import type { PodInfo, TopologySpreadConstraint } from "./snapshot.ts";
import { binKey, domainOf, type RuleBin, type StartupPod } from "./topology-domain.ts";

/** The matching pods per eligible domain for one constraint of one kind of pod. */
interface SpreadCount {
  constraint: TopologySpreadConstraint;
  /** Whether a bin's node counts for the constraint (the node affinity and taint policies). */
  eligible: (bin: RuleBin) => boolean;
  /** Whether a pod is one the constraint counts. */
  counts: (pod: StartupPod) => boolean;
  perDomain: Map<string, number>;
  /** The smallest count, recomputed when a count changed. */
  min?: number;
}

/**
 * What topology spread constraints look at while pods are placed: the nodes (existing ones
 * outside `except`, and new ones once a pod is placed on them) and where each pod is. Counts are
 * built per constraint and pod kind on first use and kept up to date.
 */
export interface SpreadPlacement {
  bins: RuleBin[];
  /**
   * Pods per bin (by `binKey`), the leaving ones left out; on a new node, the DaemonSet and
   * static pods it starts with too.
   */
  pods: Map<string, StartupPod[]>;
  entries: Map<string, SpreadCount>;
}

/** The spread view for placing `moving` pods with the pods of `except` gone. */
export function spreadPlacement(
  index: ClusterIndex,
  moving: readonly PodInfo[],
  except: readonly string[],
): SpreadPlacement {
  const leaving = new Set(moving);
  const placement: SpreadPlacement = { bins: [], pods: new Map(), entries: new Map() };
  for (const [name, node] of index.nodes) {
    if (except.includes(name)) continue;
    placement.bins.push({ name, traits: node });
    placement.pods.set(
      name, // an existing node's key is its name
      (index.podsByNode.get(name) ?? []).filter(
        (pod) => pod.deletingSince === undefined && !leaving.has(pod),
      ),
    );
  }
  return placement;
}

/**
 * Whether a `DoNotSchedule` constraint of `pod` keeps it off `bin`: the node has no value for the
 * topology key, or its domain would then hold more than `maxSkew` matching pods above the
 * emptiest eligible domain (taken as 0 while there are fewer domains than `minDomains`). A new
 * node no pod was placed on yet brings the DaemonSet pods it starts with into its domain.
 */
export function spreadConflict(placement: SpreadPlacement, pod: PodInfo, bin: RuleBin): boolean {
  for (const constraint of pod.topologySpread ?? []) {
    const domain = domainOf(bin, constraint.topologyKey);
    if (domain === undefined) return true;
    const entry = entryFor(placement, pod, constraint);
    const known = entry.perDomain.get(domain);
    const startup = placement.pods.has(binKey(bin)) ? 0 : startupCount(entry, bin);
    const count = (known ?? 0) + startup;
    const domains = entry.perDomain.size + (known === undefined ? 1 : 0);
    const fewDomains = constraint.minDomains !== undefined && domains < constraint.minDomains;
    const min = fewDomains
      ? 0
      : startup > 0
        ? smallestWith(entry, domain, count)
        : known === undefined
          ? 0
          : smallest(entry);
    const self = entry.counts(pod) ? 1 : 0;
    if (count + self - min > constraint.maxSkew) return true;
  }
  return false;
}

/** Records `pod` as placed on `bin` in every count it belongs to. */
export function placeSpread(placement: SpreadPlacement, pod: PodInfo, bin: RuleBin): void {
  let pods = placement.pods.get(binKey(bin));
  if (!pods) {
    // A new node: the pods it starts with count from the first pod placed on it.
    const startup = bin.traits.startupPods ?? [];
    pods = [...startup];
    placement.pods.set(binKey(bin), pods);
    placement.bins.push(bin);
    for (const entry of placement.entries.values()) add(entry, bin, startup);
  }
  pods.push(pod);
  for (const entry of placement.entries.values()) add(entry, bin, [pod]);
}

function entryFor(
  placement: SpreadPlacement,
  pod: PodInfo,
  constraint: TopologySpreadConstraint,
): SpreadCount {
  const key = JSON.stringify([
    pod.namespace,
    constraint,
    constraint.honorNodeAffinity ? [pod.nodeSelector, pod.requiredNodeAffinity ?? null] : null,
    constraint.honorTaints ? pod.tolerations : null,
  ]);
  const known = placement.entries.get(key);
  if (known) return known;
  const entry: SpreadCount = {
    constraint,
    eligible: (bin) =>
      (!constraint.honorNodeAffinity ||
        (matchesNodeSelector(pod.nodeSelector, bin.traits.labels) &&
          matchesRequiredAffinity(pod.requiredNodeAffinity, bin.traits))) &&
      (!constraint.honorTaints || toleratesTaints(pod.tolerations, bin.traits.taints)),
    counts: (other) =>
      other.namespace === pod.namespace &&
      constraint.selector !== undefined &&
      matchesLabelSelector(constraint.selector, other.labels),
    perDomain: new Map(),
  };
  for (const bin of placement.bins) add(entry, bin, placement.pods.get(binKey(bin)) ?? []);
  placement.entries.set(key, entry);
  return entry;
}

function add(entry: SpreadCount, bin: RuleBin, pods: readonly StartupPod[]): void {
  if (!entry.eligible(bin)) return;
  const domain = domainOf(bin, entry.constraint.topologyKey);
  if (domain === undefined) return;
  const before = entry.perDomain.get(domain);
  let count = before ?? 0;
  for (const pod of pods) if (entry.counts(pod)) count++;
  if (count === before) return;
  entry.perDomain.set(domain, count);
  entry.min = undefined;
}

/** The DaemonSet and static pods a new node starts with that the constraint counts there. */
function startupCount(entry: SpreadCount, bin: RuleBin): number {
  const startup = bin.traits.startupPods ?? [];
  return entry.eligible(bin) ? startup.filter(entry.counts).length : 0;
}

/** The smallest count with `domain`'s taken as `count`. */
function smallestWith(entry: SpreadCount, domain: string, count: number): number {
  let min = count;
  for (const [other, counted] of entry.perDomain)
    if (other !== domain && counted < min) min = counted;
  return min;
}

function smallest(entry: SpreadCount): number {
  if (entry.min === undefined) {
    let min = Number.POSITIVE_INFINITY;
    for (const count of entry.perDomain.values()) if (count < min) min = count;
    entry.min = Number.isFinite(min) ? min : 0;
  }
  return entry.min;
}
