import { formatPath, type PathSegment, parsePath } from "../editors/path.ts";
import { isPlainObject, valueAt } from "../editors/verify.ts";
import { InputError } from "../errors.ts";
import type { PlanNote } from "../planning/proposal.ts";
import type { Snapshot, VpaInfo } from "../planning/snapshot.ts";
import type { RightsizingConfig } from "../policy/rightsizing-config.ts";
import {
  type DecideWorkloadInput,
  decideWorkload,
  type LocatedContainer,
} from "./decide-workload.ts";
import { explainWorkload } from "./explain-rightsizing.ts";
import {
  compareWorkloads,
  groupKey,
  groupProposals,
  type WorkloadChanges,
} from "./group-proposals.ts";
import { type LocateResult, locateContainer, workloadKey } from "./locate-container.ts";
import type { RepoFile } from "./repo-files.ts";
import { indexRepo, type RepoIndex } from "./repo-index.ts";
import type {
  ContainerRightsizing,
  ResourceDecision,
  ResourceName,
  ResourcesLocation,
  ResourcesProposal,
  RightsizeHold,
  WorkloadId,
  WorkloadRightsizing,
} from "./resources-proposal.ts";
import { otherReaders, placeId, sharedPlaces } from "./shared-places.ts";
import {
  containerNamesOf,
  exclusionOf,
  policyFor,
  RIGHTSIZED_KINDS,
  type WorkloadFacts,
  withoutStaleRecommendations,
  workloadFacts,
  workloadOf,
} from "./workload-facts.ts";
import { identityOf, workloadKeys } from "./workload-keys.ts";
import { applyChanges, resourceChanges } from "./write-resources.ts";

export interface PlanRightsizingInput {
  snapshot: Snapshot;
  /** The `rightsizing` section; absent means right-sizing is off. */
  config: RightsizingConfig | undefined;
  /** The infra repo's YAML files, or an index already built from them. */
  files: readonly RepoFile[] | RepoIndex;
  /** What the repo is known by, for FILES (see `RepoIndex.repository`); an index has its own. */
  repository?: readonly string[];
  now: Date;
  /**
   * The keys of the open right-sizing pull requests that carry one workload each, by its
   * identity (`namespace/Kind/name`): a workload keeps its pull request's key when another one
   * comes to render the same (absent: none is open, as for the command line).
   */
  held?: ReadonlyMap<string, string>;
}

export interface RightsizingPlan {
  /** Most important first: OOM kills, then the largest relative change. */
  proposals: ResourcesProposal[];
  notes: PlanNote[];
  /**
   * The workloads whose requests are not judged, with no change decided otherwise: their VPA
   * gives nothing to go by yet (no recommendation, just created or recreated and its history
   * lost, or one held for want of history), several VPAs target them, or a container's
   * resources cannot be located in the repo (discovery ambiguous, a target invalid, a template).
   * A pull request already open for one is neither still wanted nor no longer wanted. Each with
   * the key its pull request has under `group`. A VPA whose target is gone is not among them.
   */
  unjudged: UnjudgedWorkload[];
  /**
   * The workloads left out by the configuration or an opt-out marker (or left as they are for
   * values they share with a container so left out), each with the key of its pull request and
   * why ("media/plex is in rightsizing.exclude"): a pull request open for one is not wanted any
   * more, for that reason. Under `group: namespace` or `repo` (`whenCarried`), only for a pull
   * request whose marker names the workload among those it carries.
   */
  leftOut: WorkloadStanding[];
}

/** A workload the plan leaves without a proposal, the key of its pull request, and why. */
export interface WorkloadStanding {
  workload: WorkloadId;
  vpa: string;
  key: string;
  /** Why, for people: "the VPA plex has no recommendation", "media/plex is in rightsizing.exclude". */
  why: string;
  /**
   * Set under `group: namespace` or `repo` when the standing counts only for a pull request whose
   * marker names the workload among those it carries (see `UnjudgedWorkload`).
   */
  whenCarried?: true;
}

/** A workload whose requests are not judged now, the key of its pull request, and why. */
export interface UnjudgedWorkload extends WorkloadStanding {
  /**
   * Set under `group: namespace` or `repo` when the repo, or several VPAs, leave the workload
   * unjudged (not its VPA's recommendation): it keeps the pull request of its key open only when
   * that pull request's marker names it among the workloads it carries. One written before
   * markers named them may not carry it at all, and one never located would keep it open for
   * good.
   */
  whenCarried?: true;
  /**
   * Set when only this container of the workload is not judged (the VPA recommends for others,
   * not for it): it counts only for a pull request whose marker names it among the containers it
   * changes.
   */
  container?: string;
  /**
   * Set with `container` when only this request of it is not judged while its other one
   * changes: it counts only for a pull request whose marker names it among the requests it
   * changes (one whose marker names none counts the container alone).
   */
  resource?: ResourceName;
}

/** VPA conditions that say its target does not exist or cannot be read: nothing of it is wanted. */
const TARGET_GONE = new Set(["ConfigUnsupported", "NoPodsMatched"]);

type LocateProblem = Extract<LocateResult, { ok: false }>["problem"];

/** Right-sizing is configured, yet there are no recommendations to read at all. */
const VPA_NOT_SERVED: PlanNote = {
  level: "warning",
  subject: "rightsizing",
  message:
    "the VerticalPodAutoscaler API (autoscaling.k8s.io/v1) is not served in the cluster: nothing to right-size; install the VPA recommender, or upgrade a VPA release that serves only v1beta2",
};

/**
 * Plans request changes from the snapshot's VPA recommendations: for each VPA, finds where
 * its workload's containers set their resources, decides each request (and limit), and has
 * the editors write the changes. Pure: the files' texts are given. Anything not changed and
 * not obvious (ambiguous files, holds, exclusions) becomes a note.
 */
export function planRightsizing(input: PlanRightsizingInput): RightsizingPlan {
  const { config, snapshot } = input;
  if (!config?.enabled) return { proposals: [], notes: [], unjudged: [], leftOut: [] };
  if (!snapshot.complete)
    return {
      proposals: [],
      unjudged: [],
      leftOut: [],
      notes: [
        {
          level: "warning",
          subject: "rightsizing",
          message:
            "the cluster snapshot is incomplete (see its warnings); no request is changed on partial data",
        },
      ],
    };
  if (snapshot.warnings.some((warning) => warning.code === "vpa-not-installed"))
    return { proposals: [], notes: [{ ...VPA_NOT_SERVED }], unjudged: [], leftOut: [] };
  const index = "documents" in input.files ? input.files : indexRepo(input.files, input.repository);
  const notes: PlanNote[] = [];
  const context: PlanContext = { snapshot, index, config, now: input.now };
  const unknown: Omit<UnjudgedWorkload, "key">[] = [];
  const excluded: Omit<WorkloadStanding, "key">[] = [];
  // Under `group: namespace` or `repo` a pull request may not carry the workload at all: one
  // never located (or long targeted by several VPAs) counts only for one that carries it.
  const carried = config.group === "workload" ? {} : { whenCarried: true as const };
  const { usable, contested } = usableVpas(snapshot.vpas, notes);
  for (const group of contested) {
    const standing = contestedStanding(group, context);
    if (standing?.leftOut) excluded.push(standing.leftOut);
    if (standing?.unjudged) unknown.push({ ...standing.unjudged, ...carried });
  }
  const prepared = usable.map((vpa) => prepareWorkload(vpa, context));
  const planned = prepared.flatMap((entry) => (entry.input ? [entry.input] : []));
  // Values one key gives to several containers are decided once, for all of them.
  const shared = sharedPlaces(
    planned,
    () => otherReaders(snapshot, config, planned),
    index,
    config,
  );
  const changed: WorkloadChanges[] = [];
  for (const entry of prepared) {
    notes.push(...entry.notes);
    if (entry.unjudged) unknown.push(entry.unjudged);
    // No container located: nothing is decided, yet a container the repo sets elsewhere (or
    // several places may set) is not one whose requests are right.
    const { vpa } = entry;
    if (!entry.input && vpa && !targetGone(vpa) && entry.unlocated.length > 0) {
      const workload = workloadOf(vpa);
      const why = entry.unlocated.map((unlocated) => unlocated.why).join("; ");
      unknown.push({ workload, vpa: vpa.name, why, ...carried });
    }
    if (entry.leftOut) excluded.push(entry.leftOut);
    if (vpa && !targetGone(vpa))
      for (const container of entry.unrecommended)
        unknown.push({
          workload: workloadOf(vpa),
          vpa: vpa.name,
          why: `container ${container}: the VPA ${vpa.name} recommends nothing for it`,
          container,
        });
    if (!entry.input) continue;
    const decided = decideWorkload(entry.input, (location) => shared.get(placeId(location)));
    if (!hasChange(decided)) {
      notes.push({
        level: "info",
        subject: entry.subject,
        message: explainWorkload(decided).join("\n"),
      });
      const recommendation = targetGone(entry.input.vpa)
        ? undefined
        : unusableRecommendation(decided);
      const unplaced = targetGone(entry.input.vpa) ? [] : entry.unlocated;
      const why = [recommendation ?? [], ...unplaced.map((unlocated) => unlocated.why)].flat();
      const own = { workload: decided.workload, vpa: entry.input.vpa.name };
      if (why.length > 0)
        unknown.push({
          ...own,
          why: why.join("; "),
          ...(recommendation === undefined ? carried : {}),
        });
      else {
        // Values it shares with containers right-sizing leaves out on purpose stay as they are.
        const settled = decided.containers.flatMap((container) => settledShare(container) ?? []);
        if (settled.length > 0) excluded.push({ ...own, why: settled.join("; ") });
      }
    } else if (!targetGone(entry.input.vpa)) {
      // Changed, yet some of its containers are not judged: a pull request that changed them
      // before keeps their change, not reverted.
      const own = { workload: decided.workload, vpa: entry.input.vpa.name };
      for (const container of decided.containers) {
        if (!container.resources.some((decision) => decision.action === "change")) {
          const why = unusableFor(decided, container);
          if (why !== undefined) unknown.push({ ...own, why, container: container.name });
          continue;
        }
        // One request changes, the other is held unjudged: its change before is kept too.
        for (const decision of container.resources) {
          const why = unusableDecision(decided, container, decision);
          if (why === undefined) continue;
          const named = why.startsWith("container ") ? why : `container ${container.name}: ${why}`;
          const { resource } = decision;
          unknown.push({ ...own, why: named, container: container.name, resource });
        }
      }
      for (const { container, why } of entry.unlocated) unknown.push({ ...own, why, container });
    }
    const changes = withEdits(decided, index, notes);
    if (changes) changed.push(changes);
  }
  // Every workload a VPA names may hold a pull request: keys are made unique among all of them.
  const known = knownWorkloads(snapshot.vpas);
  const keys = workloadKeys(known, input.held);
  // A workload left out for a wrong match is not judged: where its resources are is not certain.
  const kept = dropConflicts(changed, index, keys, notes, (workload, why) =>
    unknown.push({ workload: workload.workload, vpa: workload.vpa.name, why, ...carried }),
  );
  const proposals = groupProposals(kept, index, config.group, notes, known, input.held);
  const keyed = <T extends Omit<WorkloadStanding, "key">>(entry: T) => ({
    ...entry,
    key: groupKey(entry.workload, config.group, keys),
  });
  const leftOut = excluded.map((entry) => ({ ...keyed(entry), ...carried }));
  return { proposals, notes, unjudged: unknown.map(keyed), leftOut };
}

function targetGone(vpa: VpaInfo): boolean {
  return vpa.conditions.some(
    (condition) => TARGET_GONE.has(condition.type) && condition.status === "True",
  );
}

/**
 * Why a request of the workload was held for want of a usable recommendation (too little
 * history, a VPA condition, no target for the resource), its own or that of another container
 * its values set too (one of unknown needs: no VPA, no recommendation, left alone); undefined
 * when none was.
 */
function unusableRecommendation(workload: WorkloadRightsizing): string | undefined {
  for (const container of workload.containers) {
    const why = unusableFor(workload, container);
    if (why !== undefined) return why;
  }
  return undefined;
}

/** As `unusableRecommendation`, for one container of the workload. */
function unusableFor(
  workload: WorkloadRightsizing,
  container: ContainerRightsizing,
): string | undefined {
  for (const decision of container.resources) {
    const why = unusableDecision(workload, container, decision);
    if (why !== undefined) return why;
  }
  return undefined;
}

/** As `unusableRecommendation`, for one request of one container of the workload. */
function unusableDecision(
  workload: WorkloadRightsizing,
  container: ContainerRightsizing,
  decision: ResourceDecision,
): string | undefined {
  if (decision.action === "change") return undefined;
  const why = unusableHold(decision.hold, workload, decision.resource);
  if (why === undefined) return undefined;
  if (decision.hold?.kind === "history" || decision.hold?.kind === "no-recommendation") return why;
  const { file, path } = container.location;
  return `container ${container.name}: ${file} ${path} also sets the resources of ${why}`;
}

function unusableHold(
  hold: RightsizeHold | undefined,
  workload: WorkloadRightsizing,
  resource: string,
): string | undefined {
  if (hold?.kind === "history") return hold.problems.join("; ");
  if (hold?.kind === "no-recommendation")
    return `the VPA ${workload.vpa.name} has no ${resource} recommendation`;
  if (hold?.kind === "shared-unknown") {
    // A reader right-sizing leaves out on purpose has needs unknown for good: not a wait.
    const unknown = hold.readers.filter((entry) => !entry.settled);
    if (unknown.length === 0) return undefined;
    return `${unknown.map(({ reader, why }) => `${reader} (${why})`).join(", ")}, whose needs are not known`;
  }
  if (hold?.kind === "shared-reader") {
    const inner = hold.hold;
    if (inner.kind === "history") return `${hold.reader}, for which: ${inner.problems.join("; ")}`;
    if (inner.kind === "no-recommendation")
      return `${hold.reader}, whose VPA has no ${resource} recommendation`;
  }
  return undefined;
}

/**
 * Why the container's values are left as they are for good: they also set the resources of
 * containers right-sizing leaves out on purpose (the configuration or an opt-out, mode Off, a
 * kind that is not right-sized), and of no container whose needs may yet be known; undefined
 * otherwise.
 */
function settledShare(container: ContainerRightsizing): string | undefined {
  for (const decision of container.resources) {
    const hold = decision.hold;
    if (hold?.kind !== "shared-unknown" || hold.readers.some((entry) => !entry.settled)) continue;
    const readers = hold.readers.map(({ reader, why }) => `${reader} (${why})`).join(", ");
    const { file, path } = container.location;
    return `container ${container.name}: ${file} ${path} also sets the resources of ${readers}`;
  }
  return undefined;
}

/**
 * VPAs sorted by workload, and apart the groups of several VPAs on one workload: undefined
 * behaviour for the VPA too, so none of them is used.
 */
function usableVpas(
  vpas: readonly VpaInfo[],
  notes: PlanNote[],
): { usable: VpaInfo[]; contested: VpaInfo[][] } {
  const byWorkload = new Map<string, VpaInfo[]>();
  for (const vpa of vpas) {
    const id = `${vpa.namespace}/${vpa.target.kind}/${vpa.target.name}`;
    byWorkload.set(id, [...(byWorkload.get(id) ?? []), vpa]);
  }
  const usable: VpaInfo[] = [];
  const contested: VpaInfo[][] = [];
  for (const group of byWorkload.values()) {
    const [first] = group;
    if (!first) continue;
    if (group.length > 1) {
      notes.push({
        level: "warning",
        subject: subjectOf(first),
        message: `several VPAs target it (${group.map((vpa) => vpa.name).join(", ")}); none is used`,
      });
      contested.push(group);
      continue;
    }
    usable.push(first);
  }
  return { usable: usable.sort((a, b) => subjectOf(a).localeCompare(subjectOf(b))), contested };
}

/**
 * What becomes of a pull request open for a workload several VPAs target: no recommendation is
 * used, so its requests are not judged; unless the configuration or an opt-out marker on each
 * VPA leaves it out, or the VPAs say its target is gone.
 */
function contestedStanding(
  group: readonly VpaInfo[],
  context: PlanContext,
): Pick<PreparedWorkload, "unjudged" | "leftOut"> | undefined {
  const [first] = group;
  if (!first || !RIGHTSIZED_KINDS.has(first.target.kind)) return undefined;
  if (group.every(targetGone)) return undefined;
  const workload = workloadOf(first);
  const names = group.map((vpa) => vpa.name).join(", ");
  const exclusions = group.map((vpa) =>
    exclusionOf(context.config, vpa, workloadFacts(context.snapshot, vpa)),
  );
  const [excluded] = exclusions;
  if (excluded && exclusions.every((why) => why !== undefined))
    return { leftOut: { workload, vpa: names, why: excluded } };
  return { unjudged: { workload, vpa: names, why: `several VPAs target it (${names})` } };
}

function knownWorkloads(vpas: readonly VpaInfo[]): WorkloadId[] {
  return vpas.filter((vpa) => RIGHTSIZED_KINDS.has(vpa.target.kind)).map(workloadOf);
}

function subjectOf(vpa: VpaInfo): string {
  return `${vpa.target.kind.toLowerCase()}/${vpa.namespace}/${vpa.target.name}`;
}

interface PlanContext {
  snapshot: Snapshot;
  index: RepoIndex;
  config: RightsizingConfig;
  now: Date;
}

/** A VPA's workload, its containers located, ready to be decided; or only notes on why not. */
interface PreparedWorkload {
  subject: string;
  notes: PlanNote[];
  input?: DecideWorkloadInput;
  /** Set when the VPA has no recommendation to judge the workload's requests by. */
  unjudged?: Omit<WorkloadStanding, "key">;
  /** Set once the VPA's containers were looked for in the repo. */
  vpa?: VpaInfo;
  /**
   * Why containers the VPA recommends for are not decided, their resources not located in the
   * repo: "container app: several files match exactly: …". Their requests are not judged.
   */
  unlocated: { container: string; why: string }[];
  /**
   * The containers of the workload's pods the VPA recommends nothing for while it recommends for
   * others (not those its policy puts in mode Off): their requests are not judged.
   */
  unrecommended: string[];
  /** Set when the configuration or an opt-out marker leaves the workload out. */
  leftOut?: Omit<WorkloadStanding, "key">;
}

/**
 * For a VPA left with no recommendation once those for containers the pods do not have are
 * ignored (a sidecar removed since): that it has some, for which containers, and none for the
 * pods' own. Not "no recommendation yet", which says the recommender has not run for it.
 */
function staleOnly(given: VpaInfo): string | undefined {
  const names = [...new Set(given.recommendations.map((r) => r.containerName))];
  if (names.length === 0) return undefined;
  const containers = `${names.length === 1 ? "container" : "containers"} ${names.join(", ")}`;
  return `the VPA ${given.name} recommends only for ${containers}, which the pods do not have, and for none of theirs yet`;
}

function prepareWorkload(given: VpaInfo, context: PlanContext): PreparedWorkload {
  const subject = subjectOf(given);
  const notes: PlanNote[] = [];
  const info = (message: string) => notes.push({ level: "info", subject, message });
  if (!RIGHTSIZED_KINDS.has(given.target.kind)) {
    info(
      `the VPA ${given.name} targets a ${given.target.kind || "resource of unknown kind"}; only Deployments, StatefulSets and DaemonSets are right-sized`,
    );
    return { subject, notes, unlocated: [], unrecommended: [] };
  }
  const facts = workloadFacts(context.snapshot, given);
  const excluded = exclusionOf(context.config, given, facts);
  const vpa = excluded ? given : withoutStale(given, facts, info);
  if (excluded) {
    info(`left alone: ${excluded}`);
    const workload = workloadOf(vpa);
    return {
      subject,
      notes,
      unlocated: [],
      unrecommended: [],
      leftOut: { workload, vpa: vpa.name, why: excluded },
    };
  }
  if (vpa.recommendations.length === 0) {
    if (targetGone(vpa)) {
      info(`the VPA ${vpa.name} has no recommendation yet`);
      return { subject, notes, unlocated: [], unrecommended: [] };
    }
    // Every container in mode Off: the VPA never recommends for them, and the workload is left
    // out by its policy, not waiting for a recommendation.
    const names = containerNamesOf(vpa, facts);
    if (names.length > 0 && names.every((name) => policyFor(vpa, name)?.mode === "Off")) {
      const settled = names.map((name) => `container ${name}: the VPA's policy for it is mode Off`);
      for (const message of settled) info(message);
      const workload = workloadOf(vpa);
      return {
        subject,
        notes,
        unlocated: [],
        unrecommended: [],
        leftOut: { workload, vpa: vpa.name, why: settled.join("; ") },
      };
    }
    const stale = staleOnly(given);
    info(
      `${stale ?? `the VPA ${vpa.name} has no recommendation yet`}: its requests are not judged, and a pull request open for them stays open`,
    );
    const workload = workloadOf(vpa);
    const why = stale ?? `the VPA ${vpa.name} has no recommendation`;
    return {
      subject,
      notes,
      unlocated: [],
      unrecommended: [],
      unjudged: { workload, vpa: vpa.name, why },
    };
  }
  const unlocated: PreparedWorkload["unlocated"] = [];
  const settled: string[] = [];
  const containers = locateAll(vpa, facts, context, notes, unlocated, settled);
  const recommended = new Set(vpa.recommendations.map((r) => r.containerName));
  const unrecommended = containerNamesOf(vpa, facts).filter(
    (name) => !recommended.has(name) && policyFor(vpa, name)?.mode !== "Off",
  );
  if (!targetGone(vpa))
    for (const name of unrecommended)
      info(
        `container ${name}: the VPA ${vpa.name} recommends nothing for it: its requests are not judged, and a change a pull request made to them is kept`,
      );
  if (containers.length === 0 && unlocated.length === 0 && settled.length > 0) {
    const workload = workloadOf(vpa);
    const leftOut = { workload, vpa: vpa.name, why: settled.join("; ") };
    return {
      subject,
      notes,
      vpa,
      unlocated,
      unrecommended,
      ...(targetGone(vpa) ? {} : { leftOut }),
    };
  }
  if (containers.length === 0) return { subject, notes, vpa, unlocated, unrecommended };
  return {
    subject,
    notes,
    vpa,
    unlocated,
    unrecommended,
    input: { vpa, facts, containers, ...context },
  };
}

/** The VPA without its recommendations for containers the pods do not have, each named in a note. */
function withoutStale(
  vpa: VpaInfo,
  facts: WorkloadFacts,
  info: (message: string) => void,
): VpaInfo {
  const current = withoutStaleRecommendations(vpa, facts);
  for (const name of current.stale)
    info(`recommendation for container ${name}, which the pods do not have: ignored`);
  return current.vpa;
}

/**
 * The VPA's containers whose resources are located in the repo; for each other one, why not is
 * added to `leftOut` when a setting leaves it out (its VPA policy's mode Off, the discovery
 * settings), else to `unlocated`. A container of the pods in mode Off that the VPA has no
 * recommendation for is named in `leftOut` too.
 */
function locateAll(
  vpa: VpaInfo,
  facts: WorkloadFacts,
  context: PlanContext,
  notes: PlanNote[],
  unlocated: PreparedWorkload["unlocated"],
  leftOut: string[],
): LocatedContainer[] {
  const subject = subjectOf(vpa);
  const names = vpa.recommendations.map((r) => r.containerName);
  // The VPA recommends nothing for a container in mode Off: the pod may have more containers.
  const containerCount = containerNamesOf(vpa, facts).length;
  const located: LocatedContainer[] = [];
  for (const name of names) {
    if (policyFor(vpa, name)?.mode === "Off") {
      const message = `container ${name}: the VPA's policy for it is mode Off`;
      notes.push({ level: "info", subject, message });
      leftOut.push(message);
      continue;
    }
    const workload = workloadOf(vpa);
    const result = locateContainer(context.index, context.config, {
      workload,
      container: name,
      containerCount,
    });
    if (result.ok) {
      const template = templateIn(context.index, result.location);
      if (template) {
        const where = `${result.location.file} ${result.location.path} holds a template (${template})`;
        notes.push({
          level: "info",
          subject,
          message: `container ${name}: ${where}; it is rendered by something else, so none of its values is changed`,
        });
        unlocated.push({ container: name, why: `container ${name}: ${where}` });
      } else located.push({ name, location: result.location });
    } else {
      // Discovery off, or only a likely match it may not take: the configuration leaves it out.
      const setting =
        result.problem === "not-accepted" ||
        (result.problem === "not-found" && !context.config.discovery.enabled);
      const why = `container ${name}: ${result.message}`;
      if (setting) leftOut.push(why);
      else unlocated.push({ container: name, why });
      notes.push({
        level:
          result.problem === "not-found" || result.problem === "not-targeted" ? "info" : "warning",
        subject,
        message: `container ${name}: ${result.message}; ${nextStep(result.problem, workloadKey(workload))}`,
      });
    }
  }
  // A container in mode Off normally has no recommendation: it is left out all the same.
  for (const name of containerNamesOf(vpa, facts)) {
    if (names.includes(name) || policyFor(vpa, name)?.mode !== "Off") continue;
    const message = `container ${name}: the VPA's policy for it is mode Off`;
    notes.push({ level: "info", subject, message });
    leftOut.push(message);
  }
  return located;
}

/** What to do about a container whose resources were not located. */
function nextStep(problem: LocateProblem, workload: string): string {
  if (problem === "target-invalid") return `fix rightsizing.targets for ${workload}`;
  if (problem === "not-targeted") return `add the container to rightsizing.targets for ${workload}`;
  return `set rightsizing.targets for ${workload} to choose`;
}

/**
 * The first templated text in the resources mapping: a Helm template (`{{ .Values.cpu }}`),
 * which YAML reads as a string or, unquoted, as a mapping with a stringified key, or a Flux
 * post-build variable (`${APP_CPU}`, `${APP_CPU:=100m}`). Such values are filled in before
 * deployment: changing the mapping's other values would mix edited and rendered data.
 */
function templateIn(index: RepoIndex, location: ResourcesLocation): string | undefined {
  const document = index.documents.find(
    (d) => d.file === location.file && d.index === location.document,
  );
  if (!document) return undefined;
  const found: string[] = [];
  const walk = (value: unknown): void => {
    if (found.length > 0) return;
    if (typeof value === "string") {
      if (value.includes("{{") || /\$\{[^}]*\}/.test(value)) found.push(value);
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (isPlainObject(value))
      for (const [key, inner] of Object.entries(value)) {
        // An unquoted `{{ … }}` is a flow mapping: its key reads back as `{ … }`.
        if (key.includes("{{") || key.startsWith("{")) found.push(key);
        walk(inner);
      }
  };
  walk(valueAt(document.data, parsePath(location.path)));
  return found[0];
}

function hasChange(workload: WorkloadRightsizing): boolean {
  return workload.containers.some((c) => c.resources.some((r) => r.action === "change"));
}

/** The workload's changes, made and verified by the editors; an edit refused becomes a note. */
function withEdits(
  workload: WorkloadRightsizing,
  index: RepoIndex,
  notes: PlanNote[],
): WorkloadChanges | undefined {
  if (!hasChange(workload)) return undefined;
  const changes = resourceChanges(workload, index);
  try {
    applyChanges(index.texts, changes);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const { namespace, kind, name } = workload.workload;
    notes.push({
      level: "warning",
      subject: `${kind.toLowerCase()}/${namespace}/${name}`,
      message: `the change cannot be written: ${error.message}${error.location?.line ? ` (${error.location.file}:${error.location.line})` : ""}`,
    });
    return undefined;
  }
  return { workload, changes };
}

/**
 * Two workloads changing values at one place means a wrong match (a place several workloads read
 * is decided once, by one of them: see `sharedPlaces`): the less important one is dropped, whether
 * or not they write the same request there.
 */
function dropConflicts(
  changed: WorkloadChanges[],
  index: RepoIndex,
  keys: ReadonlyMap<string, string>,
  notes: PlanNote[],
  dropped: (workload: WorkloadRightsizing, why: string) => void,
): WorkloadChanges[] {
  const owners = new Map<string, WorkloadId>();
  const kept: WorkloadChanges[] = [];
  for (const entry of [...changed].sort((a, b) => compareWorkloads(a, b, keys))) {
    const self = entry.workload.workload;
    const changing = entry.workload.containers.filter((container) =>
      container.resources.some((decision) => decision.action === "change"),
    );
    const clash = changing.find(({ location }) => {
      const owner = owners.get(resolvedPlace(index, location));
      return owner !== undefined && identityOf(owner) !== identityOf(self);
    });
    if (clash) {
      const { file, path } = clash.location;
      const other = owners.get(resolvedPlace(index, clash.location)) as WorkloadId;
      const [mine, theirs] = distinctNames(self, other);
      const place = `${file} ${path} is also where ${theirs} was matched`;
      notes.push({
        level: "warning",
        subject: `${self.kind.toLowerCase()}/${workloadKey(self)}`,
        message: `${place}; neither match can be trusted for both, so ${mine} is left out (set rightsizing.targets)`,
      });
      dropped(entry.workload, `container ${clash.name}: ${place}`);
      continue;
    }
    for (const { location } of changing) owners.set(resolvedPlace(index, location), self);
    kept.push(entry);
  }
  return kept;
}

/**
 * The place's id with each list item its path picks by a field (`containers[name=app]`) given by
 * its index in the document instead: a target written `containers[0]` and a match found as
 * `containers[name=app]` are one place.
 */
function resolvedPlace(index: RepoIndex, location: ResourcesLocation): string {
  const document = index.documents.find(
    (d) => d.file === location.file && d.index === location.document,
  );
  let value: unknown = document?.data;
  const segments = parsePath(location.path).map((segment): PathSegment => {
    let resolved = segment;
    if (segment.kind === "match" && Array.isArray(value)) {
      const items: unknown[] = value;
      const at = items.findIndex((item) => sameField(item, segment));
      // Several items that match are the editor's to refuse: the place stays as written.
      if (at >= 0 && !items.some((item, i) => i > at && sameField(item, segment)))
        resolved = { kind: "index", index: at };
    }
    value =
      resolved.kind === "key" && isPlainObject(value)
        ? value[resolved.key]
        : resolved.kind === "index" && Array.isArray(value)
          ? value[resolved.index]
          : undefined;
    return resolved;
  });
  return placeId({ ...location, path: formatPath(segments) });
}

function sameField(item: unknown, segment: { field: string; value: string }): boolean {
  return isPlainObject(item) && String(item[segment.field]) === segment.value;
}

/** `namespace/name` of two workloads, with their kinds when that is all that tells them apart. */
function distinctNames(a: WorkloadId, b: WorkloadId): [string, string] {
  if (workloadKey(a) !== workloadKey(b)) return [workloadKey(a), workloadKey(b)];
  return [`${a.kind} ${workloadKey(a)}`, `${b.kind} ${workloadKey(b)}`];
}
