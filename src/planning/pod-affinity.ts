import { type ClusterIndex, nodeOfPod, podKey } from "./cluster-index.ts";
import { matchesLabelSelector } from "./scheduling.ts";
import type { PodAffinityTerm, PodInfo, Snapshot } from "./snapshot.ts";
import { domainOf, domainUnknown, type PeerBin, type StartupPod } from "./topology-domain.ts";

/**
 * Why required pod (anti-)affinity keeps a pod off a node: `namespaces-unknown` when a term
 * that concerns it selects namespaces by labels that were not read, so whether it may go there
 * is not known.
 */
export type AffinityConflict = "pod-affinity" | "pod-anti-affinity" | "namespaces-unknown";

/**
 * Where the pods that required pod (anti-)affinity looks at are, per topology domain, kept up to
 * date while pods are placed. Only the topology keys some term uses are indexed.
 */
export interface AffinityPlacement {
  /** Topology key → domain value → the pods running (or placed) there. */
  domains: Map<string, Map<string, PodInfo[]>>;
  /**
   * Topology key → domain value → the pods there with an anti-affinity term on that key, which
   * keep the pods the term selects out of the domain.
   */
  holders: Map<string, Map<string, PodInfo[]>>;
}

/**
 * The affinity view for placing `moving` pods (pending pods, or the pods of nodes to remove),
 * with the pods of the nodes in `except` left out as they are leaving. A pod being deleted still
 * counts where it runs, its own anti-affinity too: kube-scheduler's InterPodAffinity counts every
 * pod bound to a node until it is gone (only topology spread leaves such pods out). `undefined`
 * when no pod involved has a required pod (anti-)affinity term, so placement needs no check.
 */
export function affinityPlacement(
  index: ClusterIndex,
  moving: readonly PodInfo[],
  except: readonly string[] = [],
): AffinityPlacement | undefined {
  const keys = new Set<string>();
  for (const pod of moving) for (const term of termsOf(pod)) keys.add(term.topologyKey);
  for (const pod of index.antiAffinityHolders) {
    const node = nodeOfPod(pod);
    if (node !== undefined && !except.includes(node))
      for (const term of pod.podAntiAffinity ?? []) keys.add(term.topologyKey);
  }
  // A DaemonSet's pod a new node starts with keeps the pods its anti-affinity selects off it.
  if (Array.isArray(index.daemonSets))
    for (const daemonSet of index.daemonSets)
      for (const term of daemonSet.podAntiAffinity ?? []) keys.add(term.topologyKey);
  if (keys.size === 0) return undefined;
  const leaving = new Set(moving);
  const placement: AffinityPlacement = { domains: new Map(), holders: new Map() };
  for (const key of keys) placement.domains.set(key, new Map());
  for (const [name, node] of index.nodes) {
    if (except.includes(name)) continue;
    const bin: PeerBin = { name, traits: node };
    for (const pod of index.podsByNode.get(name) ?? [])
      if (!leaving.has(pod)) placeInDomains(placement, pod, bin);
  }
  return placement;
}

/**
 * The required pod affinity or anti-affinity rule that keeps `pod` off `bin`: its own
 * anti-affinity terms (a selected pod runs in the bin's domain), the anti-affinity terms of pods
 * already there that select it (on a new node, those of the DaemonSet and static pods it starts
 * with, which are in each of its domains), and its affinity terms (no selected pod in the domain;
 * the first pod of a group that selects itself may go anywhere the topology key exists, as in the
 * scheduler). A new node whose domain for an anti-affinity key is not known may join the domain
 * of any pod the term avoids, so it is ruled out as soon as one runs anywhere.
 */
export function affinityConflict(
  placement: AffinityPlacement,
  pod: PodInfo,
  bin: PeerBin,
): AffinityConflict | undefined {
  if (termsOf(pod).some(unresolved)) return "namespaces-unknown";
  if (unknownAntiAffinityKey(placement, pod, bin) !== undefined) return "pod-anti-affinity";
  for (const term of pod.podAntiAffinity ?? []) {
    const value = domainOf(bin, term.topologyKey);
    if (value === undefined) continue;
    if (podsAround(placement, bin, term.topologyKey, value).some((o) => selects(term, pod, o)))
      return "pod-anti-affinity";
  }
  for (const [key, byValue] of placement.holders) {
    const value = domainOf(bin, key);
    if (value === undefined) continue;
    for (const holder of byValue.get(value) ?? [])
      for (const term of holder.podAntiAffinity ?? [])
        if (term.topologyKey === key && selects(term, holder, pod)) return "pod-anti-affinity";
  }
  const startup = startupAntiAffinity(pod, bin);
  if (startup) return startup;
  // A running pod's term whose namespaces are unknown may or may not reach the pod.
  for (const [key, byValue] of placement.holders) {
    const value = domainOf(bin, key);
    if (value === undefined) continue;
    for (const holder of byValue.get(value) ?? [])
      for (const term of holder.podAntiAffinity ?? [])
        if (term.topologyKey === key && mayReach(term, pod)) return "namespaces-unknown";
  }
  return pod.podAffinity && !affinityMet(placement, pod, pod.podAffinity, bin)
    ? "pod-affinity"
    : undefined;
}

/**
 * The pods being deleted that alone keep `pod` off `bin` by required pod anti-affinity (its own
 * terms select them there, or their terms select it), each with the node it runs on; none when
 * another pod (one not being deleted, one the node starts with), or a domain not known, keeps it
 * off too, or anti-affinity does not. They count until gone, as the scheduler counts them.
 */
export function deletingAntiAffinity(
  placement: AffinityPlacement,
  pod: PodInfo,
  bin: PeerBin,
): { pod: PodInfo; node: string }[] {
  if (unknownAntiAffinityKey(placement, pod, bin) !== undefined) return [];
  if (startupAntiAffinity(pod, bin) !== undefined) return [];
  const blockers = new Set<StartupPod>();
  for (const term of pod.podAntiAffinity ?? []) {
    const value = domainOf(bin, term.topologyKey);
    if (value === undefined) continue;
    for (const other of podsAround(placement, bin, term.topologyKey, value))
      if (selects(term, pod, other)) blockers.add(other);
  }
  for (const [key, byValue] of placement.holders) {
    const value = domainOf(bin, key);
    if (value === undefined) continue;
    for (const holder of byValue.get(value) ?? [])
      if (
        (holder.podAntiAffinity ?? []).some(
          (term) => term.topologyKey === key && selects(term, holder, pod),
        )
      )
        blockers.add(holder);
  }
  const deleting: { pod: PodInfo; node: string }[] = [];
  for (const blocker of blockers) {
    const other = blocker as PodInfo;
    const node = other.deletingSince === undefined ? undefined : nodeOfPod(other);
    if (node === undefined) return [];
    deleting.push({ pod: other, node });
  }
  return deleting.sort((a, b) => podKey(a.pod).localeCompare(podKey(b.pod)));
}

/**
 * Whether the required anti-affinity of a pod `bin` starts with (a new node's DaemonSet and static
 * pods) keeps `pod` off it: a term that selects it, on a topology key the node has (whatever its
 * value, the two pods share it), or one whose namespaces are unknown that may.
 */
export function startupAntiAffinity(pod: PodInfo, bin: PeerBin): AffinityConflict | undefined {
  let unknown = false;
  for (const startup of bin.traits.startupPods ?? [])
    for (const term of startup.podAntiAffinity ?? []) {
      const key = term.topologyKey;
      if (domainOf(bin, key) === undefined && !domainUnknown(bin, key)) continue;
      if (selects(term, startup, pod)) return "pod-anti-affinity";
      if (mayReach(term, pod)) unknown = true;
    }
  return unknown ? "namespaces-unknown" : undefined;
}

/**
 * Required pod affinity as the scheduler reads several terms: only a pod that every term selects
 * counts, and each term's domain of the bin must run one. The first pod of a group (none runs
 * anywhere yet) may go wherever every term's topology key exists, if its terms select itself.
 */
function affinityMet(
  placement: AffinityPlacement,
  pod: PodInfo,
  terms: readonly PodAffinityTerm[],
  bin: PeerBin,
): boolean {
  const partner = (other: StartupPod) => terms.every((term) => selects(term, pod, other));
  let met = true;
  for (const term of terms) {
    const value = domainOf(bin, term.topologyKey);
    if (value === undefined) return false;
    if (!podsAround(placement, bin, term.topologyKey, value).some(partner)) met = false;
  }
  if (met) return true;
  if (!partner(pod)) return false;
  return !terms.some((term) =>
    [...(placement.domains.get(term.topologyKey)?.values() ?? [])].some((pods) =>
      pods.some(partner),
    ),
  );
}

/**
 * The anti-affinity topology key for which `bin`, a node still to be added, may join a domain
 * the pod must stay out of: its domain for the key is not known, and a pod the rule concerns (one
 * the pod's term avoids, or one whose term avoids the pod) runs in some domain of that key.
 */
export function unknownAntiAffinityKey(
  placement: AffinityPlacement,
  pod: PodInfo,
  bin: PeerBin,
): string | undefined {
  for (const term of pod.podAntiAffinity ?? [])
    if (domainUnknown(bin, term.topologyKey) && anySelected(placement, term, pod))
      return term.topologyKey;
  for (const [key, byValue] of placement.holders) {
    if (!domainUnknown(bin, key)) continue;
    for (const holders of byValue.values())
      for (const holder of holders)
        for (const term of holder.podAntiAffinity ?? [])
          if (term.topologyKey === key && (selects(term, holder, pod) || mayReach(term, pod)))
            return key;
  }
  return undefined;
}

/** Records `pod` as on `bin` (running there, or placed), so later placements see it. */
export function placeInDomains(placement: AffinityPlacement, pod: PodInfo, bin: PeerBin): void {
  for (const [key, byValue] of placement.domains) {
    const value = domainOf(bin, key);
    if (value !== undefined) push(byValue, value, pod);
  }
  for (const term of pod.podAntiAffinity ?? []) {
    const value = domainOf(bin, term.topologyKey);
    if (value === undefined) continue;
    let byValue = placement.holders.get(term.topologyKey);
    if (!byValue) {
      byValue = new Map();
      placement.holders.set(term.topologyKey, byValue);
    }
    // A pod with two terms on one key is listed once (its terms come one after the other).
    const listed = byValue.get(value);
    if (listed?.[listed.length - 1] !== pod) push(byValue, value, pod);
  }
}

function push(map: Map<string, PodInfo[]>, key: string, pod: PodInfo): void {
  const list = map.get(key);
  if (list) list.push(pod);
  else map.set(key, [pod]);
}

function podsIn(placement: AffinityPlacement, key: string, value: string): PodInfo[] {
  return placement.domains.get(key)?.get(value) ?? [];
}

/**
 * The pods in `bin`'s domain `value` of `key`: those running or placed there and, for a node
 * still to be added, the DaemonSet and static pods it will run, which are in each of its domains.
 */
function podsAround(
  placement: AffinityPlacement,
  bin: PeerBin,
  key: string,
  value: string,
): readonly StartupPod[] {
  const pods = podsIn(placement, key, value);
  const startup = bin.traits.startupPods ?? [];
  return startup.length > 0 ? [...pods, ...startup] : pods;
}

function anySelected(placement: AffinityPlacement, term: PodAffinityTerm, owner: PodInfo): boolean {
  for (const pods of placement.domains.get(term.topologyKey)?.values() ?? [])
    if (pods.some((other) => selects(term, owner, other))) return true;
  return false;
}

/**
 * Whether `other` is a pod `pod` must run beside: one that every required pod affinity term of
 * `pod` selects (the scheduler counts only such a pod).
 */
export function affinitySelects(pod: PodInfo, other: PodInfo): boolean {
  const terms = pod.podAffinity ?? [];
  return terms.length > 0 && terms.every((term) => selects(term, pod, other));
}

/**
 * Whether `term` of `owner` selects `other`: in one of its namespaces, matching its selector. A
 * namespace an unresolved `namespaceSelector` might pick is not counted ({@link mayReach}).
 */
function selects(term: PodAffinityTerm, owner: StartupPod, other: StartupPod): boolean {
  if (!term.selector) return false;
  // A term with a namespaceSelector looks only where it and `namespaces` say, not in its own.
  const own = term.namespaceSelector ? [] : [owner.namespace];
  if (!term.allNamespaces && !(term.namespaces ?? own).includes(other.namespace)) return false;
  return matchesLabelSelector(term.selector, other.labels);
}

/** A term whose `namespaceSelector` could not be resolved: the namespace labels are unknown. */
function unresolved(term: PodAffinityTerm): boolean {
  return term.namespaceSelector !== undefined;
}

/**
 * Whether unresolved `term` may select `other`: its selector matches it, in a namespace the
 * term does not name, which its `namespaceSelector` may pick.
 */
function mayReach(term: PodAffinityTerm, other: PodInfo): boolean {
  if (!unresolved(term) || !term.selector) return false;
  return matchesLabelSelector(term.selector, other.labels);
}

/**
 * The snapshot with each pod (anti-)affinity term's `namespaceSelector` resolved into the
 * namespaces whose labels it matches (added to those the term names). Terms are left as they are
 * when the namespace labels are unknown, or absent (a snapshot saved before they were read).
 */
export function resolveNamespaceSelectors(snapshot: Snapshot): Snapshot {
  const labels = snapshot.namespaceLabels;
  if (labels === undefined || labels === "unknown") return snapshot;
  const namespaces = Object.entries(labels);
  const resolve = (terms: PodAffinityTerm[] | undefined) =>
    terms?.map((term) => {
      if (!term.namespaceSelector) return term;
      const { namespaceSelector, ...rest } = term;
      const picked = namespaces
        .filter(([, own]) => matchesLabelSelector(namespaceSelector, own))
        .map(([name]) => name);
      return { ...rest, namespaces: [...new Set([...(term.namespaces ?? []), ...picked])] };
    });
  let changed = false;
  const pods = snapshot.pods.map((pod) => {
    if (!termsOf(pod).some(unresolved)) return pod;
    changed = true;
    const resolved: PodInfo = { ...pod };
    const affinity = resolve(pod.podAffinity);
    const antiAffinity = resolve(pod.podAntiAffinity);
    if (affinity) resolved.podAffinity = affinity;
    if (antiAffinity) resolved.podAntiAffinity = antiAffinity;
    return resolved;
  });
  const daemonSets = Array.isArray(snapshot.daemonSets)
    ? snapshot.daemonSets.map((daemonSet) => {
        if (!daemonSet.podAntiAffinity?.some(unresolved)) return daemonSet;
        changed = true;
        return { ...daemonSet, podAntiAffinity: resolve(daemonSet.podAntiAffinity) ?? [] };
      })
    : snapshot.daemonSets;
  if (!changed) return snapshot;
  const resolved: Snapshot = { ...snapshot, pods };
  if (daemonSets !== undefined) resolved.daemonSets = daemonSets;
  return resolved;
}

function termsOf(pod: PodInfo): PodAffinityTerm[] {
  if (!pod.podAffinity) return pod.podAntiAffinity ?? [];
  if (!pod.podAntiAffinity) return pod.podAffinity;
  return [...pod.podAffinity, ...pod.podAntiAffinity];
}
