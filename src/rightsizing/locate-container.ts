import { posix } from "node:path";
import { formatPath, parsePath } from "../editors/path.ts";
import { valueAt } from "../editors/verify.ts";
import type { RightsizingConfig, RightsizingTargetConfig } from "../policy/rightsizing-config.ts";
import {
  discoverCandidates,
  type LocationCandidate,
  releasesFromPath,
} from "./discover-locations.ts";
import type { RepoIndex } from "./repo-index.ts";
import type { ResourcesLocation, WorkloadId } from "./resources-proposal.ts";
import type { ContainerQuery } from "./values-locations.ts";

/** Where a container's resources are written, or why that is not known. */
export type LocateResult =
  | { ok: true; location: ResourcesLocation }
  | {
      ok: false;
      problem:
        | "not-found"
        | "ambiguous"
        | "not-accepted"
        | "target-invalid"
        | "not-targeted"
        | "not-editable";
      message: string;
      candidates: LocationCandidate[];
    };

/** `namespace/name`, as the config writes workloads. */
export function workloadKey(workload: Pick<WorkloadId, "namespace" | "name">): string {
  return `${workload.namespace}/${workload.name}`;
}

/**
 * Finds where the container's `resources` are written: a configured target always wins;
 * otherwise discovery, where a patch overrides its base manifest, one exact match is taken,
 * else one likely match (when accepted). Several equally good matches are ambiguous: the
 * plan then says so instead of guessing.
 */
export function locateContainer(
  index: RepoIndex,
  config: RightsizingConfig,
  query: ContainerQuery,
): LocateResult {
  const targets = config.targets.filter(
    (target) =>
      target.workload === workloadKey(query.workload) &&
      (target.kind === undefined || target.kind === query.workload.kind),
  );
  if (targets.length > 0) return fromTargets(index, targets, query);
  if (!config.discovery.enabled)
    return failure("not-found", "discovery is off and no target is configured for it", []);
  const chosen = choose(discoverCandidates(index, query), config.discovery.accept);
  if (chosen.ok || chosen.problem !== "not-found") return chosen;
  const unreadable = unreadableNear(index, query.workload.name);
  return unreadable.length === 0
    ? chosen
    : failure(
        "not-found",
        `${chosen.message}; ${unreadable.map((u) => `${u.file} may, but it is not YAML that can be read (${u.reason})`).join("; ")}`,
        [],
      );
}

/** Unreadable YAML files whose path names the workload, e.g. a values file with Helm `{{ }}`. */
function unreadableNear(index: RepoIndex, name: string): RepoIndex["unreadable"] {
  return index.unreadable.filter(
    (entry) =>
      entry.file.split("/").includes(name) ||
      releasesFromPath(entry.file).includes(name) ||
      posix.basename(entry.file).replace(/\.ya?ml$/i, "") === name,
  );
}

function fromTargets(
  index: RepoIndex,
  targets: RightsizingTargetConfig[],
  query: ContainerQuery,
): LocateResult {
  const target =
    targets.find((t) => t.container === query.container) ??
    (query.containerCount === 1 ? targets.find((t) => t.container === undefined) : undefined);
  if (!target)
    return failure(
      "not-targeted",
      `targets map ${workloadKey(query.workload)} but not its container ${query.container}`,
      [],
    );
  const documents = index.documents.filter((document) => document.file === target.file);
  if (documents.length === 0)
    return failure(
      "target-invalid",
      index.texts.has(target.file)
        ? `the configured target ${target.file} is not a YAML file that could be read`
        : `the configured target ${target.file} does not exist`,
      [],
    );
  const parent = parsePath(target.path).slice(0, -1);
  const holding = documents.filter(
    (document) =>
      (target.document === undefined || document.index === target.document) &&
      (parent.length === 0 || valueAt(document.data, parent) !== undefined),
  );
  const [document] = holding;
  if (!document || holding.length > 1)
    return failure(
      "target-invalid",
      holding.length > 1
        ? `${formatPath(parent)} is in several documents of ${target.file}: set the target's document`
        : `${target.file} has no ${formatPath(parent) || "document"}${target.document === undefined ? "" : ` in document ${target.document}`}`,
      [],
    );
  return {
    ok: true,
    location: {
      file: target.file,
      document: document.index,
      path: target.path,
      confidence: "explicit",
      how: "configured target",
    },
  };
}

function choose(found: LocationCandidate[], accept: "exact" | "likely"): LocateResult {
  // A resourcesPreset where the values have no resources is no place to edit, only named.
  const candidates = found.filter((candidate) => !candidate.preset);
  const patches = candidates.filter((candidate) => candidate.source === "patch");
  const considered =
    patches.length > 0
      ? candidates.filter((candidate) => candidate.source !== "manifest")
      : candidates;
  // Something that sets the resources out of reach would override any edit: say so, edit nothing.
  const blocked = considered.filter((candidate) => candidate.blocked);
  if (blocked.length > 0)
    return failure(
      "not-editable",
      [...new Set(blocked.map((candidate) => `${candidate.file}: ${candidate.blocked}`))].join(
        "; ",
      ),
      blocked,
    );
  const exact = considered.filter((candidate) => candidate.confidence === "exact");
  if (exact.length === 1) return { ok: true, location: strip(exact[0] as LocationCandidate) };
  if (exact.length > 1)
    return failure("ambiguous", `several files match exactly: ${list(exact)}`, exact);
  if (considered.length === 0)
    return failure("not-found", `no file in the repo sets its resources${presetsOf(found)}`, []);
  if (considered.length > 1)
    return failure(
      "ambiguous",
      `several files may set its resources: ${list(considered)}`,
      considered,
    );
  const only = considered[0] as LocationCandidate;
  if (accept === "exact")
    return failure(
      "not-accepted",
      `only a likely match (${only.file}: ${only.how}) and discovery.accept is exact`,
      considered,
    );
  return { ok: true, location: strip(only) };
}

/**
 * `; the chart's resourcesPreset nano (apps/db.yaml spec.values.primary.resourcesPreset) sets
 * them` for each preset found where the values have no resources; nothing without one.
 */
function presetsOf(found: LocationCandidate[]): string {
  const named = found.flatMap((candidate) =>
    candidate.preset
      ? [
          `the chart's resourcesPreset ${candidate.preset} (${candidate.file} ${candidate.path.replace(/resources$/, "resourcesPreset")}) sets them`,
        ]
      : [],
  );
  return [...new Set(named)].map((phrase) => `; ${phrase}`).join("");
}

function strip(candidate: LocationCandidate): ResourcesLocation {
  const { source: _source, blocked: _blocked, preset: _preset, ...location } = candidate;
  return location;
}

function list(candidates: LocationCandidate[]): string {
  return candidates.map((candidate) => `${candidate.file} (${candidate.how})`).join("; ");
}

function failure(
  problem: Exclude<LocateResult, { ok: true }>["problem"],
  message: string,
  candidates: LocationCandidate[],
): LocateResult {
  return { ok: false, problem, message, candidates };
}
