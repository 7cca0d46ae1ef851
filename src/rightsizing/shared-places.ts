import type { Snapshot, VpaInfo } from "../planning/snapshot.ts";
import type { RightsizingConfig } from "../policy/rightsizing-config.ts";
import {
  type DecideWorkloadInput,
  type LocatedContainer,
  readerLabel,
  type SharedValues,
} from "./decide-workload.ts";
import { locateContainer } from "./locate-container.ts";
import type { RepoIndex } from "./repo-index.ts";
import type { ResourcesLocation, WorkloadId } from "./resources-proposal.ts";
import {
  containerNamesOf,
  exclusionOf,
  exclusionWithoutVpa,
  policyFor,
  RIGHTSIZED_KINDS,
  type WorkloadFacts,
  withoutStaleRecommendations,
  workloadFacts,
  workloadOf,
} from "./workload-facts.ts";
import { identityOf } from "./workload-keys.ts";

/**
 * A container that may read values a planned container's are decided in, without a
 * recommendation of its own to go by (no VPA, left alone, mode Off…): WHY says which.
 */
export interface OtherReader {
  workload: WorkloadId;
  container: string;
  /** How many containers its pods have, as discovery asks. */
  containerCount: number;
  why: string;
  /**
   * Set when right-sizing leaves it out on purpose (the configuration or an opt-out, its VPA's
   * policy mode Off, a kind that is not right-sized): its needs stay unknown for good.
   */
  settled?: true;
}

/**
 * Kinds of documents whose resources are Helm values, which a chart may give to the
 * containers of several workloads; a workload manifest's (or patch's) are its own alone.
 */
const VALUES_KINDS = new Set([undefined, "HelmRelease", "Application", "Kustomization"]);

/** One text per place: file, YAML document and path. */
export function placeId(location: Pick<ResourcesLocation, "file" | "document" | "path">): string {
  return `${location.file}\u0000${location.document}\u0000${location.path}`;
}

/**
 * The values places of the planned containers that other containers read too: the planned
 * containers located at the same place, and the OTHERS (asked for only when a planned
 * container's resources are in Helm values) that discovery or a target puts there, or may put
 * there among other places. A place read by one container alone is left out. Readers are in a
 * stable order (by their label); the first planned one decides. A release deploys into one
 * namespace, so planned readers in another namespace than the first one's count as readers
 * without a recommendation: the values are not theirs, or several releases read them.
 */
export function sharedPlaces(
  planned: readonly DecideWorkloadInput[],
  others: () => readonly OtherReader[],
  index: RepoIndex,
  config: RightsizingConfig,
): Map<string, SharedValues> {
  const places = new Map<string, SharedValues>();
  for (const input of planned)
    for (const container of input.containers) {
      if (!isValuesPlace(index, container)) continue;
      const id = placeId(container.location);
      const place = places.get(id) ?? { readers: [], planned: [], unknown: [] };
      const reader = readerLabel(input.facts.workload, container.name);
      place.planned.push({ reader, input, container });
      places.set(id, place);
    }
  if (places.size === 0) return places;
  for (const other of others()) {
    const reader = readerLabel(other.workload, other.container);
    for (const id of placesOf(index, config, other)) {
      const place = places.get(id);
      if (place && !place.unknown.some((entry) => entry.reader === reader))
        place.unknown.push({
          reader,
          why: other.why,
          ...(other.settled ? { settled: true as const } : {}),
        });
    }
  }
  const shared = new Map<string, SharedValues>();
  for (const [id, place] of places) {
    if (place.planned.length + place.unknown.length < 2) continue;
    place.planned.sort((a, b) => a.reader.localeCompare(b.reader));
    const namespace = place.planned[0]?.input.facts.workload.namespace;
    for (const { reader, input } of place.planned)
      if (input.facts.workload.namespace !== namespace)
        place.unknown.push({
          reader,
          why: `it is in namespace ${input.facts.workload.namespace}, not ${namespace}: one release's values go to one namespace, so these are not its, or several releases read them`,
        });
    place.unknown.sort((a, b) => a.reader.localeCompare(b.reader));
    place.readers = [
      ...new Set([...place.planned, ...place.unknown].map((entry) => entry.reader)),
    ].sort((a, b) => a.localeCompare(b));
    shared.set(id, place);
  }
  return shared;
}

function isValuesPlace(index: RepoIndex, container: LocatedContainer): boolean {
  const { file, document } = container.location;
  const found = index.documents.find((d) => d.file === file && d.index === document);
  return found !== undefined && VALUES_KINDS.has(found.kind);
}

/** Where the other container's resources are, or may be: its one place, else every candidate. */
function placesOf(index: RepoIndex, config: RightsizingConfig, other: OtherReader): string[] {
  const result = locateContainer(index, config, {
    workload: other.workload,
    container: other.container,
    containerCount: other.containerCount,
  });
  return result.ok ? [placeId(result.location)] : result.candidates.map(placeId);
}

/**
 * Every container of the cluster's workloads that has no recommendation to go by, with why:
 * those of the VPAs' workloads that were not planned (left alone, mode Off, not located for
 * sure…), and those of workloads with running pods and no VPA. Values they share with a
 * planned container are not changed for it alone.
 */
export function otherReaders(
  snapshot: Snapshot,
  config: RightsizingConfig,
  planned: readonly DecideWorkloadInput[],
): OtherReader[] {
  const located = new Set(
    planned.flatMap((input) =>
      input.containers.map((container) => readerLabel(input.facts.workload, container.name)),
    ),
  );
  const readers: OtherReader[] = [];
  const add = (workload: WorkloadId, names: string[], why: (name: string) => Unplanned) => {
    for (const container of names)
      if (!located.has(readerLabel(workload, container)))
        readers.push({ workload, container, containerCount: names.length, ...why(container) });
  };
  const byWorkload = new Map<string, VpaInfo[]>();
  for (const vpa of snapshot.vpas) {
    const id = identityOf(workloadOf(vpa));
    byWorkload.set(id, [...(byWorkload.get(id) ?? []), vpa]);
  }
  for (const group of byWorkload.values()) {
    const facts = workloadFacts(snapshot, group[0] as VpaInfo);
    // A recommendation left for a container the pods no longer have reads no values.
    const current = group.map((vpa) => withoutStaleRecommendations(vpa, facts).vpa);
    add(facts.workload, containerNamesOf(current[0] as VpaInfo, facts), (name) =>
      unplannedWhy(current, facts, config, name, group[0] as VpaInfo),
    );
  }
  const owners = new Map<
    string,
    { workload: WorkloadId; names: Set<string>; pods: Snapshot["pods"] }
  >();
  for (const pod of snapshot.pods) {
    if (!pod.owner || !RIGHTSIZED_KINDS.has(pod.owner.kind)) continue;
    const workload = { namespace: pod.namespace, kind: pod.owner.kind, name: pod.owner.name };
    const id = identityOf(workload);
    if (byWorkload.has(id)) continue;
    const entry = owners.get(id) ?? { workload, names: new Set<string>(), pods: [] };
    entry.pods.push(pod);
    for (const container of pod.containers) entry.names.add(container.name);
    for (const container of pod.initContainers)
      if (container.sidecar) entry.names.add(container.name);
    owners.set(id, entry);
  }
  for (const { workload, names, pods } of owners.values()) {
    // Left out by the configuration, it stays so whether or not a VPA comes.
    const excluded = exclusionWithoutVpa(config, { workload, pods });
    const why: Unplanned = excluded
      ? { why: `it is left alone: ${excluded}`, settled: true }
      : { why: "it has no VPA" };
    add(workload, [...names], () => why);
  }
  return readers;
}

/** Why a container has no recommendation the plan goes by, and whether that is on purpose. */
type Unplanned = Pick<OtherReader, "why" | "settled">;

/**
 * A VPA with no recommendation to go by: none yet, or only those left for containers the pods do
 * not have (a sidecar removed since), named: not "none yet" then, which the note on the workload
 * does not say either.
 */
function noRecommendationWhy(given: VpaInfo): string {
  const stale = [...new Set(given.recommendations.map((r) => r.containerName))];
  if (stale.length === 0) return "its VPA has no recommendation yet";
  const containers = `${stale.length === 1 ? "container" : "containers"} ${stale.join(", ")}`;
  return `its VPA recommends only for ${containers}, which the pods do not have, and for none of theirs yet`;
}

/**
 * Why a container of a VPA's workload has no recommendation the plan goes by; `given` is the VPA
 * as read, with the recommendations left for containers the pods do not have, which `group` is
 * without.
 */
function unplannedWhy(
  group: readonly VpaInfo[],
  facts: WorkloadFacts,
  config: RightsizingConfig,
  container: string,
  given: VpaInfo,
): Unplanned {
  const vpa = group[0] as VpaInfo;
  if (group.length > 1) return { why: "several VPAs target it" };
  if (!RIGHTSIZED_KINDS.has(vpa.target.kind))
    return { why: `a ${vpa.target.kind} is not right-sized`, settled: true };
  const excluded = exclusionOf(config, vpa, facts);
  if (excluded) return { why: `it is left alone: ${excluded}`, settled: true };
  // Mode Off first: the VPA recommends nothing for such a container, and never will.
  if (policyFor(vpa, container)?.mode === "Off")
    return { why: "the VPA's policy for it is mode Off", settled: true };
  if (vpa.recommendations.length === 0) return { why: noRecommendationWhy(given) };
  if (!vpa.recommendations.some((r) => r.containerName === container))
    return { why: "its VPA recommends nothing for it" };
  return { why: "where its resources are set is not certain" };
}
