import { posix } from "node:path";
import { formatPath, type PathSegment } from "../editors/path.ts";
import { isPlainObject } from "../editors/verify.ts";
import {
  type IndexedDocument,
  type NamespaceSource,
  namespaceOf,
  type RepoIndex,
} from "./repo-index.ts";
import type { Confidence, ResourcesLocation } from "./resources-proposal.ts";
import { type ContainerQuery, type ReleaseContext, valuesMatches } from "./values-locations.ts";

/** A candidate place, before one is chosen. */
export interface LocationCandidate extends ResourcesLocation {
  /** What kind of file it is; a kustomize `patch` overrides what its base `manifest` sets. */
  source: "manifest" | "patch" | "helm-release" | "application" | "values-file";
}

const key = (name: string | number): PathSegment =>
  typeof name === "number" ? { kind: "index", index: name } : { kind: "key", key: name };

/** Folder names that say nothing about the app (`kubernetes/apps/media/plex/app/values.yaml`). */
const GENERIC_DIRS = new Set([
  "app",
  "apps",
  "values",
  "helm",
  "chart",
  "charts",
  "base",
  "config",
  "deploy",
]);

/** Values-file name parts that name an environment, not a release (`values-prod.yaml`). */
const ENVIRONMENTS = new Set([
  "prod",
  "production",
  "dev",
  "staging",
  "test",
  "override",
  "overrides",
]);

/** Every place in the repo that may set the container's resources, each with its confidence. */
export function discoverCandidates(index: RepoIndex, query: ContainerQuery): LocationCandidate[] {
  const found: LocationCandidate[] = [];
  for (const document of index.documents) {
    found.push(
      ...manifestCandidates(index, document, query),
      ...helmReleaseCandidates(index, document, query),
      ...applicationCandidates(document, query),
      ...valuesFileCandidates(document, query),
    );
  }
  return dedupe(found);
}

const POD_SPEC: PathSegment[] = ["spec", "template", "spec"].map(key);

/** A Deployment/StatefulSet/DaemonSet manifest, or a kustomize patch of one. */
function manifestCandidates(
  index: RepoIndex,
  document: IndexedDocument,
  query: ContainerQuery,
): LocationCandidate[] {
  const { workload, container } = query;
  if (document.kind !== workload.kind || document.name !== workload.name) return [];
  const podSpec = valueAtKeys(document.data, ["spec", "template", "spec"]);
  if (!isPlainObject(podSpec)) return [];
  const list = ["containers", "initContainers"].find((field) =>
    findContainer(podSpec[field], container),
  );
  if (!list) return [];
  const patch = index.patchFiles.has(document.file);
  const entry = findContainer(podSpec[list], container) as Record<string, unknown>;
  // A patch that does not mention resources leaves them to the base manifest.
  if (patch && !Object.hasOwn(entry, "resources")) return [];
  const namespace = namespaceOf(index, document);
  const confidence = confidenceFor(namespace, workload.namespace, true);
  if (!confidence) return [];
  const segments = [
    ...POD_SPEC,
    key(list),
    { kind: "match", field: "name", value: container } as const,
    key("resources"),
  ];
  const what = patch ? "kustomize patch of" : "manifest of";
  return [
    {
      file: document.file,
      document: document.index,
      path: formatPath(segments),
      confidence,
      how: `${what} ${workload.kind} ${workload.name}${describeNamespace(namespace)}, ${list} ${container}`,
      source: patch ? "patch" : "manifest",
    },
  ];
}

function findContainer(list: unknown, name: string): unknown {
  return Array.isArray(list)
    ? list.find((item) => isPlainObject(item) && item.name === name)
    : undefined;
}

/** A Flux HelmRelease with inline `spec.values`. */
function helmReleaseCandidates(
  index: RepoIndex,
  document: IndexedDocument,
  query: ContainerQuery,
): LocationCandidate[] {
  if (document.kind !== "HelmRelease" || !document.apiVersion?.startsWith("helm.toolkit.fluxcd.io"))
    return [];
  const spec = isPlainObject(document.data.spec) ? document.data.spec : {};
  if (!isPlainObject(spec.values) || !document.name) return [];
  const targetNamespace =
    typeof spec.targetNamespace === "string" ? spec.targetNamespace : undefined;
  const namespace: NamespaceSource | undefined = targetNamespace
    ? { namespace: targetNamespace, from: "metadata" }
    : namespaceOf(index, document);
  // Flux names the release `[<targetNamespace>-]<name>` unless releaseName is set.
  const release =
    typeof spec.releaseName === "string"
      ? spec.releaseName
      : targetNamespace
        ? `${targetNamespace}-${document.name}`
        : document.name;
  const chartSpec =
    isPlainObject(spec.chart) && isPlainObject(spec.chart.spec) ? spec.chart.spec : {};
  const chartRef = isPlainObject(spec.chartRef) ? spec.chartRef : {};
  const chart =
    typeof chartSpec.chart === "string"
      ? chartSpec.chart
      : typeof chartRef.name === "string"
        ? chartRef.name
        : undefined;
  const context: ReleaseContext = chart ? { releases: [release], chart } : { releases: [release] };
  return fromValues(
    document,
    spec.values,
    [key("spec"), key("values")],
    context,
    namespace,
    query,
    {
      source: "helm-release",
      what: `HelmRelease ${document.name}`,
    },
  );
}

/** An Argo CD Application with `helm.valuesObject` in `spec.source` or `spec.sources[i]`. */
function applicationCandidates(
  document: IndexedDocument,
  query: ContainerQuery,
): LocationCandidate[] {
  if (document.kind !== "Application" || !document.apiVersion?.startsWith("argoproj.io")) return [];
  const spec = isPlainObject(document.data.spec) ? document.data.spec : {};
  const destination = isPlainObject(spec.destination) ? spec.destination : {};
  const namespace: NamespaceSource | undefined =
    typeof destination.namespace === "string"
      ? { namespace: destination.namespace, from: "metadata" }
      : undefined;
  const sources: [PathSegment[], unknown][] = [[[key("spec"), key("source")], spec.source]];
  if (Array.isArray(spec.sources))
    spec.sources.forEach((source, i) => {
      sources.push([[key("spec"), key("sources"), key(i)], source]);
    });
  return sources.flatMap(([prefix, source]) => {
    if (!isPlainObject(source) || !isPlainObject(source.helm)) return [];
    const helm = source.helm;
    if (!isPlainObject(helm.valuesObject)) return [];
    const release = typeof helm.releaseName === "string" ? helm.releaseName : document.name;
    if (!release) return [];
    const context: ReleaseContext =
      typeof source.chart === "string"
        ? { releases: [release], chart: source.chart }
        : { releases: [release] };
    return fromValues(
      document,
      helm.valuesObject,
      [...prefix, key("helm"), key("valuesObject")],
      context,
      namespace,
      query,
      { source: "application", what: `Application ${document.name}` },
    );
  });
}

/**
 * A standalone values file (`values.yaml`, `plex-values.yaml`, `values/plex.yaml`): its
 * release is known only from the folder and file names, so a match is at best likely.
 */
function valuesFileCandidates(
  document: IndexedDocument,
  query: ContainerQuery,
): LocationCandidate[] {
  if (document.kind !== undefined || document.apiVersion !== undefined) return [];
  const releases = releasesFromPath(document.file);
  if (releases.length === 0) return [];
  const matches = valuesMatches(document.data, { releases }, query);
  return matches.map((match) => ({
    file: document.file,
    document: document.index,
    path: formatPath(match.segments),
    confidence: "likely" as const,
    how: `values file for release ${releases.join(" or ")}, ${match.how}`,
    source: "values-file" as const,
  }));
}

/** Release names a values file's path suggests. */
export function releasesFromPath(file: string): string[] {
  const base = posix.basename(file).replace(/\.ya?ml$/i, "");
  const names: string[] = [];
  const stem = /^(.+)[-.]values$/.exec(base)?.[1] ?? /^values[-.](.+)$/.exec(base)?.[1];
  const isValues = /(^|[-.])values($|[-.])/.test(base);
  const dirs = posix
    .dirname(file)
    .split("/")
    .filter((part) => part !== ".");
  if (stem && !ENVIRONMENTS.has(stem)) names.push(stem);
  if (isValues) {
    const meaningful = [...dirs].reverse().find((dir) => !GENERIC_DIRS.has(dir));
    if (meaningful) names.push(meaningful);
  } else if (dirs.at(-1) === "values") {
    names.push(base);
  }
  return [...new Set(names)];
}

function fromValues(
  document: IndexedDocument,
  values: Record<string, unknown>,
  prefix: PathSegment[],
  release: ReleaseContext,
  namespace: NamespaceSource | undefined,
  query: ContainerQuery,
  origin: { source: LocationCandidate["source"]; what: string },
): LocationCandidate[] {
  return valuesMatches(values, release, query).flatMap((match) => {
    const confidence = confidenceFor(namespace, query.workload.namespace, match.structured);
    if (!confidence) return [];
    return [
      {
        file: document.file,
        document: document.index,
        path: formatPath([...prefix, ...match.segments]),
        confidence,
        how: `${origin.what}${describeNamespace(namespace)}, ${match.how}`,
        source: origin.source,
      },
    ];
  });
}

/** Exact needs a declared, equal namespace and a structural name match; a different namespace rules out. */
function confidenceFor(
  namespace: NamespaceSource | undefined,
  wanted: string,
  structured: boolean,
): Confidence | undefined {
  if (namespace && namespace.namespace !== wanted) return undefined;
  return namespace && structured ? "exact" : "likely";
}

function describeNamespace(namespace: NamespaceSource | undefined): string {
  if (!namespace) return " (no namespace declared)";
  if (namespace.from === "metadata") return ` (namespace ${namespace.namespace})`;
  return ` (namespace ${namespace.namespace} from ${namespace.file})`;
}

function valueAtKeys(data: unknown, keys: string[]): unknown {
  let current = data;
  for (const name of keys) {
    if (!isPlainObject(current)) return undefined;
    current = current[name];
  }
  return current;
}

function dedupe(candidates: LocationCandidate[]): LocationCandidate[] {
  const seen = new Set<string>();
  return candidates.filter((candidate) => {
    const id = `${candidate.file}\u0000${candidate.document}\u0000${candidate.path}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
