import { posix } from "node:path";
import { parse } from "yaml";
import { formatPath, type PathSegment, parsePath } from "../editors/path.ts";
import { isPlainObject, valueAt } from "../editors/verify.ts";
import { agreeing } from "../util/plural.ts";
import { helmChartCandidates, helmChartValuesFiles } from "./helm-chart-candidates.ts";
import {
  confidenceFor,
  describeNamespace,
  type LocationCandidate,
  matchesPattern,
  placement,
} from "./location-candidate.ts";
import {
  deploymentsOf,
  type IndexedDocument,
  kustomizationsAbove,
  type NamespaceSource,
  postRendererPatches,
  type RepoIndex,
  valuesDocument,
} from "./repo-index.ts";
import {
  hiddenAmounts,
  layeredCandidates,
  mergeValues,
  type ValuesLayer,
} from "./values-layers.ts";
import {
  amountsOf,
  type ContainerQuery,
  type ReleaseContext,
  valuesMatches,
} from "./values-locations.ts";

export type { LocationCandidate } from "./location-candidate.ts";

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
  // A values file a kustomize helmCharts entry names is read as that, not guessed at by name.
  const chartValues = helmChartValuesFiles(index);
  // So is one that a Flux HelmRelease or an Argo CD Application names.
  const { named, elsewhere } = releaseValuesFiles(index);
  const parameters = applicationParameters(index);
  const guesses = new Set<LocationCandidate>();
  for (const document of index.documents) {
    const candidates = [
      ...manifestCandidates(index, document, query),
      ...helmReleaseCandidates(index, document, query),
      ...helmChartCandidates(index, document, query),
      ...applicationCandidates(index, document, query),
      ...(chartValues.has(document.file) || named.has(document.file)
        ? []
        : valuesFileCandidates(document, query).map((candidate) => {
            const reason = elsewhere.get(document.file);
            return reason && !candidate.blocked ? { ...candidate, blocked: reason } : candidate;
          })),
    ];
    if (candidates.length === 0) continue;
    const patched = opaquePatchOver(index, document);
    found.push(
      ...candidates.map((candidate) => {
        const over =
          patched ??
          releasePatchOver(index, document, candidate) ??
          parameterOverFile(parameters, candidate);
        const shared = over ?? sharedValuesFile(named, document, candidate);
        const made = shared && !candidate.blocked ? { ...candidate, blocked: shared } : candidate;
        if (candidate.source === "values-file" && document.kind === undefined) guesses.add(made);
        return made;
      }),
    );
  }
  // A values file a release names for the container wins over one only its path suggests.
  const releaseNamed = found.some(
    (candidate) => candidate.source === "values-file" && !guesses.has(candidate),
  );
  return dedupe(releaseNamed ? found.filter((candidate) => !guesses.has(candidate)) : found);
}

/**
 * Why a values file that the release in DOCUMENT names, found through it, is not edited: other
 * releases read it too (READERS, by file), and an edit would change them as well.
 */
function sharedValuesFile(
  readers: ReadonlyMap<string, readonly { document: IndexedDocument; what: string }[]>,
  document: IndexedDocument,
  candidate: LocationCandidate,
): string | undefined {
  if (candidate.source !== "values-file" || candidate.file === document.file) return undefined;
  const others = (readers.get(candidate.file) ?? []).filter(
    (reader) => reader.document !== document,
  );
  if (others.length === 0) return undefined;
  const names = [...new Set(others.map((reader) => reader.what))];
  return `${candidate.file} is also the values of ${names.join(", ")}, which an edit would change too`;
}

/**
 * The repo files that a Flux HelmRelease's chart (`valuesFiles`, or the chart's own
 * `values.yaml`) or an Argo CD Application source (`helm.valueFiles`) names as its values: each
 * is read as that release's, not guessed at by its path.
 */
function releaseValuesFiles(index: RepoIndex): {
  named: Map<string, { document: IndexedDocument; what: string }[]>;
  elsewhere: Map<string, string>;
} {
  const files = new Map<string, { document: IndexedDocument; what: string }[]>();
  const read = (file: string, document: IndexedDocument, kind: string) =>
    files.set(file, [
      ...(files.get(file) ?? []),
      { document, what: `${kind} ${document.name ?? "(unnamed)"} (${document.file})` },
    ]);
  const elsewhere = new Map<string, string>();
  for (const document of index.documents) {
    if (
      document.kind === "HelmRelease" &&
      document.apiVersion?.startsWith("helm.toolkit.fluxcd.io")
    ) {
      const { referenced, files: chart } = releaseChartFiles(index, document);
      for (const layer of chart.layers) read(layer.document.file, document, "HelmRelease");
      // This repo's file at the path of one in another repository is not what the release reads.
      const field = referenced
        ? `spec.valuesFiles of ${referenced.what}`
        : "spec.chart.spec.valuesFiles";
      for (const entry of chart.elsewhere ? chart.unresolved : [])
        elsewhere.set(
          posix.normalize(entry),
          `HelmRelease ${document.name ?? "(unnamed)"} (${document.file}) takes its values from ${entry} (${field}) of ${chart.elsewhere}, another repository: this repo's file at that path is not it, and an edit of it would change nothing the release reads`,
        );
      continue;
    }
    const application = applicationOf(document);
    for (const [, source] of application?.sources ?? []) {
      if (!application || !isPlainObject(source) || !isPlainObject(source.helm)) continue;
      const reading = valueFiles(index, application.spec, source, source.helm);
      for (const layer of reading.layers) read(layer.document.file, document, "Application");
      for (const { entry, path, url } of reading.foreign)
        elsewhere.set(
          path,
          `Application ${document.name ?? "(unnamed)"} (${document.file}) takes its values from ${entry} (helm.valueFiles) of ${url}, another repository: this repo's file at that path is not it, and an edit of it would change nothing the release reads`,
        );
    }
  }
  return { named: files, elsewhere };
}

/**
 * A JSON 6902 or inline kustomize patch that targets the document's kind and name and may set
 * resources: what the file says is then not what is deployed. Namespaces are not compared,
 * so a same-named object elsewhere is held back too (safe side).
 */
function opaquePatchOver(index: RepoIndex, document: IndexedDocument): string | undefined {
  if (!document.kind || !document.name) return undefined;
  for (const kustomization of index.kustomizations.values()) {
    for (const patch of kustomization.opaquePatches) {
      const { kind, name, selector } = patch.target;
      if (!patch.touchesResources || (kind === undefined && name === undefined && !selector))
        continue;
      // Labels are not compared: a selector may pick the document (safe side).
      if (!matchesPattern(kind, document.kind) || !matchesPattern(name, document.name)) continue;
      const what =
        patch.form === "json6902"
          ? `the JSON 6902 patch ${patch.file ?? "written inline"}`
          : patch.form === "inline"
            ? "an inline patch"
            : patch.form === "targeted"
              ? `the patch ${patch.file}, applied through its target,`
              : `the patch ${patch.file}, which could not be read`;
      return `${what} in ${kustomization.file} patches ${document.kind} ${document.name} and may set its resources; such patches are not edited`;
    }
  }
  return undefined;
}

/**
 * A kustomize patch file of the same HelmRelease that sets something at the candidate's place
 * (`spec.values.…resources`): the merged release is not what the base says, and the patch may
 * not be recognised on its own (it lacks the chart, or some controllers), so the base is not
 * edited.
 */
function releasePatchOver(
  index: RepoIndex,
  document: IndexedDocument,
  candidate: LocationCandidate,
): string | undefined {
  if (candidate.source !== "helm-release" || index.patchFiles.has(document.file)) return undefined;
  const path = parsePath(candidate.path);
  for (const other of index.documents) {
    if (other === document || other.kind !== "HelmRelease" || other.name !== document.name)
      continue;
    if (!index.patchFiles.has(other.file) || valueAt(other.data, path) === undefined) continue;
    return `the kustomize patch ${other.file} of HelmRelease ${document.name} also sets ${candidate.path}; edit it there or set rightsizing.targets`;
  }
  return undefined;
}

/**
 * A kustomize patch the HelmRelease's post-renderers apply to the workload that may set its
 * resources: what the values say is then not what is deployed. A patch without a kind or
 * name may apply to it (safe side).
 */
function postRendererOver(
  document: IndexedDocument,
  spec: Record<string, unknown>,
  workload: { kind: string; name: string },
): string | undefined {
  const patch = postRendererPatches(document.file, spec).find(
    (candidate) =>
      candidate.touchesResources &&
      matchesPattern(candidate.target.kind, workload.kind) &&
      matchesPattern(candidate.target.name, workload.name),
  );
  if (!patch) return undefined;
  return `HelmRelease ${document.name} post-renders what its chart makes with a kustomize patch (spec.postRenderers) that applies to ${workload.kind} ${workload.name} and may set its resources; the values are then not what is deployed, so they are not edited`;
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
  const placed = placement(deploymentsOf(index, document), document.file, workload.namespace);
  if (!placed) return [];
  const { namespace, shared } = placed;
  const confidence = confidenceFor(namespace, workload.namespace, true);
  if (!confidence) return [];
  const segments = [
    ...POD_SPEC,
    key(list),
    { kind: "match", field: "name", value: container } as const,
    key("resources"),
  ];
  const what = patch ? "kustomize patch of" : "manifest of";
  const candidate: LocationCandidate = {
    file: document.file,
    document: document.index,
    path: formatPath(segments),
    confidence,
    how: `${what} ${workload.kind} ${workload.name}${describeNamespace(namespace)}, ${list} ${container}`,
    source: patch ? "patch" : "manifest",
    ...(shared ? { blocked: shared } : {}),
  };
  if (!patch || shared) return [candidate];
  // A strategic merge keeps what the base sets and the patch does not (a limit under a request).
  const layers = [
    ...index.documents
      .filter(
        (base) =>
          base.kind === document.kind &&
          base.name === document.name &&
          !index.patchFiles.has(base.file),
      )
      .map((base) => ({ data: base.data, label: base.file })),
    { data: document.data, label: document.file },
  ];
  const hidden = hiddenAmounts(layers, layers.length - 1, segments);
  return [
    hidden
      ? {
          ...candidate,
          blocked: `the base ${hidden.label} also sets ${hidden.fields.join(", ")} of these resources, which the patch does not: an edit of the patch would be decided without it; set them in one place`,
        }
      : candidate,
  ];
}

function findContainer(list: unknown, name: string): unknown {
  return Array.isArray(list)
    ? list.find((item) => isPlainObject(item) && item.name === name)
    : undefined;
}

/** A Flux HelmRelease: its `spec.values`, `valuesFrom`, and the values files of its chart. */
function helmReleaseCandidates(
  index: RepoIndex,
  document: IndexedDocument,
  query: ContainerQuery,
): LocationCandidate[] {
  if (document.kind !== "HelmRelease" || !document.apiVersion?.startsWith("helm.toolkit.fluxcd.io"))
    return [];
  const spec = isPlainObject(document.data.spec) ? document.data.spec : {};
  if (!document.name) return [];
  const targetNamespace =
    typeof spec.targetNamespace === "string" ? spec.targetNamespace : undefined;
  const placed = placement(
    deploymentsOf(index, document),
    document.file,
    query.workload.namespace,
    targetNamespace ? { fixed: targetNamespace } : {},
  );
  if (!placed) return [];
  const { namespace } = placed;
  // What keeps any place of this release from being edited: another deployment of the file, a
  // post-renderer patch of the workload.
  const shared =
    [placed.shared, postRendererOver(document, spec, query.workload)]
      .filter((reason) => reason !== undefined)
      .join("; ") || undefined;
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
  const what = `HelmRelease ${document.name}`;
  const inlineValues = isPlainObject(spec.values) ? spec.values : {};
  const valuesFrom = Array.isArray(spec.valuesFrom) ? spec.valuesFrom : [];
  // The chart's values files lie under valuesFrom and spec.values: read, never edited.
  const { referenced, files: chartFiles } = releaseChartFiles(index, document);
  const filesField = referenced
    ? `spec.valuesFiles of ${referenced.what}`
    : "spec.chart.spec.valuesFiles";
  const unseen = unseenValues(
    what,
    chartFiles.unresolved,
    filesField,
    "spec.values",
    chartFiles.elsewhere,
  );
  // Without values of its own the release is its chart's values files alone: one of them, found
  // by its path, is edited as a values file, and is held here when a later one sets more.
  const held = (above: { data: Record<string, unknown>; label: string }[]) =>
    valuesFileHolds(chartFiles.layers, above, context, namespace, query, {
      what,
      field: referenced ? filesField : "spec.chart.spec.valuesFiles",
      unseen: unseenValues(what, chartFiles.unresolved, filesField),
    });
  if (!isPlainObject(spec.values) && valuesFrom.length === 0) {
    // Values files of another repository alone: say so when the release plainly is the workload.
    const name = query.workload.name;
    const confidence = confidenceFor(namespace, query.workload.namespace, false);
    if (!chartFiles.elsewhere || chartFiles.unresolved.length === 0 || !confidence) return held([]);
    if (name !== release && !name.startsWith(`${release}-`)) return [];
    return [
      {
        file: document.file,
        document: document.index,
        path: referenced ? "spec.chartRef" : "spec.chart.spec.valuesFiles",
        confidence,
        how: `${what}${describeNamespace(namespace)}, ${filesField}`,
        source: "helm-release",
        blocked: `${what} takes its values from ${chartFiles.unresolved.join(", ")} (${filesField}), which ${elsewhereText(chartFiles.elsewhere, chartFiles.unresolved.length)}`,
      },
    ];
  }
  if (valuesFrom.length === 0)
    return [
      ...held([{ data: inlineValues, label: `${document.file} spec.values` }]),
      ...fromValues(
        document,
        inlineValues,
        [key("spec"), key("values")],
        context,
        namespace,
        query,
        {
          source: "helm-release",
          what,
          below: chartFiles.layers,
          // Matched as Helm reads the release: spec.values merged over its chart's values files.
          matchMerged: true,
        },
      ).map((candidate) => {
        const blocked = shared ?? candidate.blocked ?? unseen;
        return blocked ? { ...candidate, blocked } : candidate;
      }),
    ];
  // Flux merges the chart's values files, then valuesFrom in order, then spec.values over them.
  const layers: ValuesLayer[] = chartFiles.layers.map((file) => ({
    document: file.document,
    prefix: [],
    data: file.data,
    label: file.label,
    how: `${file.label} (${referenced ? filesField : `spec.chart.spec.valuesFiles of ${what}`})`,
    present: false,
  }));
  const unresolved: string[] = [];
  const problems: string[] = [shared, unseen].filter((reason) => reason !== undefined);
  for (const entry of valuesFrom) {
    const generated = isPlainObject(entry)
      ? generatedValuesFile(index, document, entry)
      : undefined;
    const file = generated?.file;
    const values = file ? valuesDocument(index, file) : undefined;
    if (generated?.overriddenBy)
      problems.push(
        `${generated.overriddenBy} generates ${describeValuesFrom(entry)} again with behavior merge or replace, so what ${what} reads may not be ${file}`,
      );
    if (values) {
      const others = otherReleasesReading(index, document, values.file);
      layers.push({
        document: values,
        prefix: [],
        data: values.data,
        label: values.file,
        how: `${file} (valuesFrom ${describeValuesFrom(entry)} of ${what})`,
        present: true,
        ...(others.length > 0
          ? {
              shared: `${values.file} is also the values of ${others.join(", ")}, which an edit would change too`,
            }
          : {}),
      });
    } else unresolved.push(describeUnresolved(index, entry));
  }
  const unread = unseenValues(what, unresolved, "valuesFrom");
  if (unread) problems.unshift(unread);
  const blocked = problems.length === 0 ? undefined : problems.join("; ");
  // Inline values win over every valuesFrom entry, known or not.
  layers.push({
    document,
    prefix: [key("spec"), key("values")],
    data: inlineValues,
    label: `${document.file} spec.values`,
    how: what,
    present: isPlainObject(spec.values),
  });
  const candidates = layeredCandidates(
    {
      layers,
      fallback: layers.length - 1,
      context,
      namespace,
      source: "helm-release",
      ...(blocked ? { blocked } : {}),
    },
    query,
  );
  if (candidates.length > 0 || !blocked) return candidates;
  // Nothing inline names the container; still say why when the release plainly is the workload.
  const name = query.workload.name;
  const confidence = confidenceFor(namespace, query.workload.namespace, false);
  if (!confidence || (name !== release && !name.startsWith(`${release}-`))) return [];
  return [
    {
      file: document.file,
      document: document.index,
      path: "spec.valuesFrom",
      confidence,
      how: `${what}${describeNamespace(namespace)}, valuesFrom`,
      source: "helm-release",
      blocked,
    },
  ];
}

/** The other Flux HelmReleases whose valuesFrom reads FILE through a generated ConfigMap. */
function otherReleasesReading(index: RepoIndex, self: IndexedDocument, file: string): string[] {
  const names: string[] = [];
  for (const document of index.documents) {
    if (document === self || document.kind !== "HelmRelease") continue;
    if (!document.apiVersion?.startsWith("helm.toolkit.fluxcd.io")) continue;
    const spec = isPlainObject(document.data.spec) ? document.data.spec : {};
    const reads = (Array.isArray(spec.valuesFrom) ? spec.valuesFrom : []).some(
      (entry) => isPlainObject(entry) && generatedValuesFile(index, document, entry)?.file === file,
    );
    if (reads) names.push(`HelmRelease ${document.name ?? "(unnamed)"} (${document.file})`);
  }
  return names;
}

/**
 * The repo file behind a `valuesFrom` ConfigMap that a kustomization at or above the
 * HelmRelease generates (`configMapGenerator`), for the entry's `valuesKey`. Undefined for
 * Secrets, `targetPath` entries and ConfigMaps made elsewhere.
 */
function generatedValuesFile(
  index: RepoIndex,
  document: IndexedDocument,
  entry: Record<string, unknown>,
): { file?: string; overriddenBy?: string } | undefined {
  if (entry.kind !== "ConfigMap" || typeof entry.name !== "string") return undefined;
  if (entry.targetPath !== undefined) return undefined;
  const name = entry.name;
  const valuesKey = typeof entry.valuesKey === "string" ? entry.valuesKey : "values.yaml";
  for (const kustomization of kustomizationsAbove(index, document.file)) {
    const files = kustomization.configMapFiles.get(name);
    if (!files) continue;
    const file = files.get(valuesKey);
    // An overlay may regenerate the ConfigMap over this one: the file is then not what is read.
    const overriddenBy = [...index.kustomizations.values()].find(
      (other) => other !== kustomization && other.configMapOverrides.has(name),
    )?.file;
    return { ...(file ? { file } : {}), ...(overriddenBy ? { overriddenBy } : {}) };
  }
  return undefined;
}

/**
 * A valuesFrom entry that is no values file of the repo; a manifest of that object in the repo
 * is named, with why it is not edited (its values are text inside a string).
 */
function describeUnresolved(index: RepoIndex, entry: unknown): string {
  const described = describeValuesFrom(entry);
  if (!isPlainObject(entry)) return described;
  const manifest = index.documents.find(
    (document) =>
      document.kind === entry.kind &&
      document.name === entry.name &&
      document.apiVersion === "v1" &&
      (entry.kind === "ConfigMap" || entry.kind === "Secret"),
  );
  return manifest
    ? `${described} (its values are text in a string in ${manifest.file}, which is not edited)`
    : described;
}

function describeValuesFrom(entry: unknown): string {
  if (!isPlainObject(entry)) return "an entry that is not a mapping";
  const kind = typeof entry.kind === "string" ? entry.kind : "object";
  const name = typeof entry.name === "string" ? entry.name : "(unnamed)";
  return `${kind} ${name}`;
}

/**
 * An Argo CD Application's spec and the sources Argo CD reads, each with its place: with
 * `spec.sources`, Argo CD ignores `spec.source`, so an edit there would change nothing.
 * Undefined for any other document.
 */
function applicationOf(
  document: IndexedDocument,
): { spec: Record<string, unknown>; sources: [PathSegment[], unknown][] } | undefined {
  if (document.kind !== "Application" || !document.apiVersion?.startsWith("argoproj.io"))
    return undefined;
  const spec = isPlainObject(document.data.spec) ? document.data.spec : {};
  const sources: [PathSegment[], unknown][] = Array.isArray(spec.sources)
    ? spec.sources.map((source, i) => [[key("spec"), key("sources"), key(i)], source])
    : [[[key("spec"), key("source")], spec.source]];
  return { spec, sources };
}

/** An Argo CD Application with `helm.valuesObject` in `spec.sources[i]`, else in `spec.source`. */
function applicationCandidates(
  index: RepoIndex,
  document: IndexedDocument,
  query: ContainerQuery,
): LocationCandidate[] {
  const application = applicationOf(document);
  if (!application) return [];
  const { spec, sources } = application;
  const destination = isPlainObject(spec.destination) ? spec.destination : {};
  const namespace: NamespaceSource | undefined =
    typeof destination.namespace === "string"
      ? { namespace: destination.namespace, from: "metadata" }
      : undefined;
  return sources.flatMap(([prefix, source]) => {
    if (!isPlainObject(source) || !isPlainObject(source.helm)) return [];
    const helm = source.helm;
    const release = typeof helm.releaseName === "string" ? helm.releaseName : document.name;
    if (!release) return [];
    const context: ReleaseContext =
      typeof source.chart === "string"
        ? { releases: [release], chart: source.chart }
        : { releases: [release] };
    const what = `Application ${document.name}`;
    const path = formatPath([...prefix, key("helm"), key("values")]);
    const inner = typeof helm.values === "string" ? parseValuesString(helm.values) : undefined;
    // Argo CD merges valuesObject over the `values` string: the object decides when it matches,
    // but a request or limit only the string sets still applies under it.
    const objectPrefix = [...prefix, key("helm"), key("valuesObject")];
    const files = valueFiles(index, spec, source, helm);
    const below = [
      ...files.layers,
      ...(inner ? [{ data: inner, label: `the string ${path}` }] : []),
    ];
    const unseen = unseenValues(
      what,
      files.unresolved,
      formatPath([...prefix, key("helm"), key("valueFiles")]),
      "helm.valuesObject",
    );
    const fromObject = isPlainObject(helm.valuesObject)
      ? fromValues(document, helm.valuesObject, objectPrefix, context, namespace, query, {
          source: "application",
          what,
          below,
          // Matched as Helm reads the source: valuesObject merged over the files and the string.
          matchMerged: true,
        }).map((candidate) =>
          unseen && !candidate.blocked ? { ...candidate, blocked: unseen } : candidate,
        )
      : [];
    // A value file found by its path, under the string and valuesObject, held as Flux's are.
    const held = valuesFileHolds(
      files.layers,
      [
        ...(inner ? [{ data: inner, label: `the string ${path}` }] : []),
        ...(isPlainObject(helm.valuesObject)
          ? [{ data: helm.valuesObject, label: `${document.file} ${formatPath(objectPrefix)}` }]
          : []),
      ],
      context,
      namespace,
      query,
      {
        what,
        field: formatPath([...prefix, key("helm"), key("valueFiles")]),
        unseen: unseenValues(
          what,
          files.unresolved,
          formatPath([...prefix, key("helm"), key("valueFiles")]),
        ),
      },
    );
    // Value files of another repository alone: say so when the release plainly is the workload.
    const name = query.workload.name;
    const confidence = confidenceFor(namespace, query.workload.namespace, false);
    if (
      files.foreign.length > 0 &&
      !inner &&
      !isPlainObject(helm.valuesObject) &&
      confidence &&
      (name === release || name.startsWith(`${release}-`))
    ) {
      const field = formatPath([...prefix, key("helm"), key("valueFiles")]);
      const entries = files.foreign.map((file) => `${file.entry} (in ${file.url})`);
      return [
        {
          file: document.file,
          document: document.index,
          path: field,
          confidence,
          how: `${what}${describeNamespace(namespace)}, ${field}`,
          source: "application" as const,
          blocked: `${what} takes its values from ${entries.join(", ")} (${field}), which ${agreeing(entries.length, "is a file", "are files")} of another repository (nothing here changes ${agreeing(entries.length, "it", "them")})`,
        },
      ];
    }
    if (fromObject.length > 0 || !inner)
      return [
        ...held,
        ...fromObject.map((candidate) => {
          const over = parameterOver(helm, parsePath(candidate.path).slice(objectPrefix.length));
          return over && !candidate.blocked
            ? {
                ...candidate,
                blocked: parameterNote(
                  what,
                  over,
                  formatPath([...prefix, key("helm"), key("parameters")]),
                  "helm.valuesObject",
                ),
              }
            : candidate;
        }),
      ];
    return [
      ...held,
      ...fromValues(document, inner, [], context, namespace, query, {
        source: "application",
        what,
      }).map((candidate) => ({
        ...candidate,
        path,
        how: `${candidate.how} inside the string ${path}`,
        blocked: `${what} gives its Helm values as a YAML string (${path}: |) and text inside a string is not edited; move the values to helm.valuesObject, or set rightsizing.targets to a values file`,
      })),
    ];
  });
}

/**
 * Why values files a release reads that are not in the repo block an edit: `WHAT also takes
 * values from a.yaml (FIELD), which is not a values file in the repo and may set these
 * resources`, and with EDITED, `; an edit of EDITED would be decided without them`. Undefined
 * when every file is in the repo.
 */
function unseenValues(
  what: string,
  unresolved: readonly string[],
  field: string,
  edited?: string,
  elsewhere?: string,
): string | undefined {
  if (unresolved.length === 0) return undefined;
  const without = edited ? `; an edit of ${edited} would be decided without them` : "";
  if (elsewhere)
    return `${what} also takes values from ${unresolved.join(", ")} (${field}), which ${elsewhereText(elsewhere, unresolved.length)}, and may set these resources${without}`;
  return `${what} also takes values from ${unresolved.join(", ")} (${field}), which ${agreeing(unresolved.length, "is", "are")} not a values file in the repo and may set these resources${without}`;
}

/** `is a file of ELSEWHERE, another repository (nothing here changes it)`, for COUNT files. */
function elsewhereText(elsewhere: string, count: number): string {
  return `${agreeing(count, "is a file", "are files")} of ${elsewhere}, another repository (nothing here changes ${agreeing(count, "it", "them")})`;
}

/**
 * The value files an Argo CD Application source's `helm.valueFiles` names, in order (Argo CD
 * merges them under `values` and `valuesObject`): `$<ref>/<path>` is a path in the repo of the
 * source with that `ref`; any other is relative to the source's `path` in its repo. That repo is
 * taken as this one, unless what this repository is known by (`index.repository`) is known and
 * the source's `repoURL` is another: its files are then not read here, and are named in
 * `unresolved` with their repository and in `foreign` with their path.
 */
function valueFiles(
  index: RepoIndex,
  spec: Record<string, unknown>,
  source: Record<string, unknown>,
  helm: Record<string, unknown>,
): ValuesFiles & { foreign: { entry: string; path: string; url: string }[] } {
  const sources = Array.isArray(spec.sources) ? spec.sources : [];
  const foreign: { entry: string; path: string; url: string }[] = [];
  const entries = (Array.isArray(helm.valueFiles) ? helm.valueFiles : []).map((entry) => {
    if (typeof entry !== "string") return entry;
    const ref = /^\$([^/]+)\/(.+)$/.exec(entry);
    const from = ref
      ? sources.find((other) => isPlainObject(other) && other.ref === ref[1])
      : source;
    const path = ref
      ? posix.normalize(ref[2] as string)
      : typeof source.path === "string"
        ? posix.normalize(posix.join(source.path, entry))
        : undefined;
    const url = isPlainObject(from) ? from.repoURL : undefined;
    if (
      path === undefined ||
      typeof url !== "string" ||
      index.repository.length === 0 ||
      index.repository.some((known) => sameRepository(url, known))
    )
      return entry;
    foreign.push({ entry, path, url });
    return `${entry} (in ${url})`;
  });
  const files = valuesFilesOf(index, entries, (entry) => {
    const ref = /^\$([^/]+)\/(.+)$/.exec(entry);
    if (ref)
      return sources.some((other) => isPlainObject(other) && other.ref === ref[1])
        ? posix.normalize(ref[2] as string)
        : undefined;
    return typeof source.path === "string"
      ? posix.normalize(posix.join(source.path, entry))
      : undefined;
  });
  return { ...files, foreign };
}

/** The values files of a Flux HelmRelease's chart, and the HelmChart its `spec.chartRef` names. */
function releaseChartFiles(
  index: RepoIndex,
  document: IndexedDocument,
): { referenced?: ReturnType<typeof referencedChart>; files: ValuesFiles } {
  const spec = isPlainObject(document.data.spec) ? document.data.spec : {};
  const chartSpec =
    isPlainObject(spec.chart) && isPlainObject(spec.chart.spec) ? spec.chart.spec : {};
  const chartRef = isPlainObject(spec.chartRef) ? spec.chartRef : {};
  const referenced = isPlainObject(spec.chart) ? undefined : referencedChart(index, chartRef);
  return {
    ...(referenced ? { referenced } : {}),
    // A source that names no namespace is in its HelmChart's, else the HelmRelease's.
    files: chartValuesFiles(
      index,
      referenced?.spec ?? chartSpec,
      referenced ? (referenced.namespace ?? document.namespace) : document.namespace,
    ),
  };
}

/**
 * The values files a Flux HelmRelease's `spec.chart.spec` names, in order: the deprecated
 * `valuesFile`, then `valuesFiles` (Flux merges them into the chart's values, under `valuesFrom`
 * and `spec.values`). They are paths in the chart's source: for a GitRepository, from its root,
 * the GitRepository taken as this repo; for a Helm repository, inside the chart, where
 * `values.yaml` is the chart's defaults, unread as for any chart from there. Without them, a
 * chart from a GitRepository has its own `values.yaml` under the release's values.
 */
function chartValuesFiles(
  index: RepoIndex,
  chartSpec: Record<string, unknown>,
  namespace: string | undefined,
): ValuesFiles {
  const sourceRef = isPlainObject(chartSpec.sourceRef) ? chartSpec.sourceRef : {};
  const fromGit = sourceRef.kind === "GitRepository";
  const entries = [
    chartSpec.valuesFile,
    ...(Array.isArray(chartSpec.valuesFiles) ? chartSpec.valuesFiles : []),
  ].filter((entry) => typeof entry === "string");
  const elsewhere = fromGit ? otherRepository(index, sourceRef, namespace) : undefined;
  // Files of another repository: none is read here, whatever this repo has at the same path.
  if (elsewhere) return { layers: [], unresolved: entries, elsewhere };
  if (!fromGit)
    return valuesFilesOf(
      index,
      entries.filter((entry) => posix.normalize(entry) !== "values.yaml"),
      () => undefined,
    );
  if (entries.length > 0) return valuesFilesOf(index, entries, (entry) => posix.normalize(entry));
  // The chart's defaults, when its directory is in the repo; unread otherwise, as for any chart.
  const own =
    typeof chartSpec.chart === "string"
      ? posix.join(posix.normalize(chartSpec.chart), "values.yaml")
      : undefined;
  const files = valuesFilesOf(index, own ? [own] : [], (entry) => entry);
  return { layers: files.layers, unresolved: [] };
}

/**
 * The GitRepository SOURCEREF names (in NAMESPACE unless it says its own), described, when it is
 * known to be another repository than this one: the repo holds it, and its `spec.url` is not
 * what this repo is known by (its remotes, or its `owner/name`: `index.repository`); when that
 * is not known, none of the URLs this repo's own Flux Kustomizations are synced from (a
 * Kustomization whose `spec.path` is a folder of this repo). Undefined when that cannot be told
 * (no such GitRepository in the repo, no URL, nothing to compare it with): the GitRepository is
 * then taken as this repo.
 */
function otherRepository(
  index: RepoIndex,
  sourceRef: Record<string, unknown>,
  namespace: string | undefined,
): string | undefined {
  const source = gitRepository(index, sourceRef, namespace);
  const url = source && isPlainObject(source.data.spec) ? source.data.spec.url : undefined;
  if (!source || typeof url !== "string") return undefined;
  const described = `GitRepository ${source.name} (${url})`;
  if (index.repository.length > 0)
    return index.repository.some((known) => sameRepository(url, known)) ? undefined : described;
  const own = new Set<string>();
  for (const document of index.documents) {
    if (document.kind !== "Kustomization") continue;
    if (!document.apiVersion?.startsWith("kustomize.toolkit.fluxcd.io")) continue;
    const spec = isPlainObject(document.data.spec) ? document.data.spec : {};
    const ref = isPlainObject(spec.sourceRef) ? spec.sourceRef : {};
    if (ref.kind !== "GitRepository" || typeof spec.path !== "string") continue;
    const folder = posix.normalize(spec.path).replace(/^\/+|\/+$/g, "");
    const inRepo =
      folder === "." || index.documents.some((file) => file.file.startsWith(`${folder}/`));
    const synced = inRepo ? gitRepository(index, ref, document.namespace) : undefined;
    const from = synced && isPlainObject(synced.data.spec) ? synced.data.spec.url : undefined;
    if (typeof from === "string") own.add(repositoryOf(from));
  }
  if (own.size === 0 || own.has(repositoryOf(url))) return undefined;
  return described;
}

/**
 * Whether URL is the repository KNOWN names: a URL in any form, or an `owner/name` (a forge's
 * name for it, whatever the host).
 */
function sameRepository(url: string, known: string): boolean {
  const repository = repositoryOf(url);
  const other = repositoryOf(known);
  return (
    repository === other || (other.split("/").length === 2 && repository.endsWith(`/${other}`))
  );
}

/** The one Flux GitRepository of the repo that REF names, in NAMESPACE unless it says its own. */
function gitRepository(
  index: RepoIndex,
  ref: Record<string, unknown>,
  namespace: string | undefined,
): IndexedDocument | undefined {
  if (typeof ref.name !== "string") return undefined;
  const wanted = typeof ref.namespace === "string" ? ref.namespace : namespace;
  return fluxSource(index, "GitRepository", ref.name, wanted);
}

/**
 * The one Flux source object (source.toolkit.fluxcd.io) of KIND named NAME the repo holds, in
 * NAMESPACE where both it and NAMESPACE are written; none when there are none or several.
 */
function fluxSource(
  index: RepoIndex,
  kind: string,
  name: string,
  namespace: string | undefined,
): IndexedDocument | undefined {
  const [found, ...more] = index.documents.filter(
    (document) =>
      document.kind === kind &&
      document.apiVersion?.startsWith("source.toolkit.fluxcd.io") &&
      document.name === name &&
      (!namespace || !document.namespace || document.namespace === namespace),
  );
  return found && more.length === 0 ? found : undefined;
}

/**
 * A Git URL as host and path, so that the forms of one repository compare equal:
 * `https://github.com/a/b.git`, `ssh://git@github.com/a/b`, `git@github.com:a/b` give
 * `github.com/a/b`.
 */
export function repositoryOf(url: string): string {
  return url
    .trim()
    .replace(/^[a-z+]+:\/\//i, "")
    .replace(/^[^@/]+@/, "")
    .replace(/^([^/:]+):\d+\//, "$1/")
    .replace(/^([^/:]+):/, "$1/")
    .replace(/\/+$/, "")
    .replace(/\.git$/i, "")
    .toLowerCase();
}

/**
 * The Flux HelmChart a HelmRelease's `spec.chartRef` names, when the repo holds exactly one of
 * that name (in its namespace, where both are written): its spec names the chart's values files
 * as `spec.chart.spec` does.
 */
function referencedChart(
  index: RepoIndex,
  chartRef: Record<string, unknown>,
): { spec: Record<string, unknown>; what: string; namespace?: string } | undefined {
  if (chartRef.kind !== "HelmChart" || typeof chartRef.name !== "string") return undefined;
  const namespace = typeof chartRef.namespace === "string" ? chartRef.namespace : undefined;
  const chart = fluxSource(index, "HelmChart", chartRef.name, namespace);
  if (!chart || !isPlainObject(chart.data.spec)) return undefined;
  return {
    spec: chart.data.spec,
    what: `HelmChart ${chart.name} (${chart.file})`,
    ...(chart.namespace ? { namespace: chart.namespace } : {}),
  };
}

/** Values files a release reads under its own values, lowest first. */
interface ValuesFiles {
  layers: { document: IndexedDocument; data: Record<string, unknown>; label: string }[];
  /** The entries that are not a values file of the repo. */
  unresolved: string[];
  /**
   * The chart's GitRepository, when it is another repository than this one (`GitRepository apps
   * (https://github.com/example/apps)`): every entry is a file there, none is read here.
   */
  elsewhere?: string;
}

/**
 * The values files ENTRIES name, in order, each the repo file RESOLVE gives for it (undefined:
 * not a file of this repo). One that is not a values file of the repo (a path inside a chart
 * from a Helm repository, a file that is not there) is named in `unresolved`.
 */
function valuesFilesOf(
  index: RepoIndex,
  entries: readonly unknown[],
  resolve: (entry: string) => string | undefined,
): ValuesFiles {
  const files: ValuesFiles = { layers: [], unresolved: [] };
  for (const entry of entries) {
    if (typeof entry !== "string") continue;
    const file = resolve(entry);
    const [document, ...more] = index.documents.filter((candidate) => candidate.file === file);
    if (file && document && more.length === 0)
      files.layers.push({ document, data: document.data, label: file });
    else files.unresolved.push(entry);
  }
  return files;
}

/** Why an edit under an Argo CD `helm.parameters` entry OVER (in FIELD of WHAT) is held. */
function parameterNote(what: string, over: string, field: string, under: string): string {
  return `${what} sets the Helm parameter ${over} (${field}), which Argo CD applies over ${under}; an edit of the values would be overridden or decided without it`;
}

/** An Argo CD Application source's `helm.parameters`, over a value file its `helm.valueFiles` reach. */
interface FileParameters {
  file: string;
  document: number;
  helm: Record<string, unknown>;
  what: string;
  field: string;
}

/** For every value file of the repo an Application source reads, that source's parameters. */
function applicationParameters(index: RepoIndex): FileParameters[] {
  return index.documents.flatMap((document) => {
    const application = applicationOf(document);
    if (!application) return [];
    const { spec, sources } = application;
    return sources.flatMap(([prefix, source]) => {
      if (!isPlainObject(source) || !isPlainObject(source.helm)) return [];
      const helm = source.helm;
      if (!Array.isArray(helm.parameters) || helm.parameters.length === 0) return [];
      return valueFiles(index, spec, source, helm).layers.map((layer) => ({
        file: layer.document.file,
        document: layer.document.index,
        helm,
        what: `Application ${document.name ?? "(unnamed)"} (${document.file})`,
        field: formatPath([...prefix, key("helm"), key("parameters")]),
      }));
    });
  });
}

/**
 * Why a candidate in a value file an Argo CD Application reads is held: a `helm.parameters`
 * entry of that Application at, inside or above it, which Argo CD applies over the file.
 */
function parameterOverFile(
  parameters: readonly FileParameters[],
  candidate: LocationCandidate,
): string | undefined {
  for (const reading of parameters) {
    if (reading.file !== candidate.file || reading.document !== candidate.document) continue;
    const over = parameterOver(reading.helm, candidate.path ? parsePath(candidate.path) : []);
    if (over) return parameterNote(reading.what, over, reading.field, "helm.valueFiles");
  }
  return undefined;
}

/**
 * The name of an Argo CD `helm.parameters` entry (Helm's `--set`) at, inside or above the
 * values at SEGMENTS: Argo CD applies parameters over every other source of values.
 */
function parameterOver(helm: Record<string, unknown>, segments: PathSegment[]): string | undefined {
  const names = (Array.isArray(helm.parameters) ? helm.parameters : []).flatMap((parameter) =>
    isPlainObject(parameter) && typeof parameter.name === "string" ? [parameter.name] : [],
  );
  const at = segments
    .map((segment, i) =>
      segment.kind === "key"
        ? `${i === 0 ? "" : "."}${segment.key.replaceAll(".", "\\.")}`
        : segment.kind === "index"
          ? `[${segment.index}]`
          : "",
    )
    .join("");
  const within = (inner: string, outer: string) =>
    inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
  return names.find((name) => within(name, at) || within(at, name));
}

/** The values an Argo CD `helm.values` string holds, when it is a YAML mapping. */
function parseValuesString(text: string): Record<string, unknown> | undefined {
  try {
    const data: unknown = parse(text, { logLevel: "error" });
    return isPlainObject(data) ? data : undefined;
  } catch {
    return undefined;
  }
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
    ...(match.blocked ? { blocked: match.blocked } : {}),
    ...(match.preset ? { preset: match.preset } : {}),
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

/**
 * The places in a release's values files (FILES, lowest first, with ABOVE merged over them: the
 * release's own values) that a later file overrides: matched on all of them merged, as Helm
 * reads them, one of the files holds the container's resources (or the place above them) and a
 * later file sets a request or limit of them that it does not, so an edit of it would be
 * decided without that, or one that it sets too, so an edit of it would be overridden. Where
 * ABOVE sets the resources they are edited there instead, over the files (see `fromValues`).
 * Beside them, the file the release takes the container's resources from (the last that sets
 * them; with no values of its own, else the last that holds the place above them) is a candidate
 * of its own, found because the release names it, whatever its path.
 */
function valuesFileHolds(
  files: ValuesFiles["layers"],
  above: { data: Record<string, unknown>; label: string }[],
  release: ReleaseContext,
  namespace: NamespaceSource | undefined,
  query: ContainerQuery,
  origin: { what: string; field: string; unseen?: string | undefined },
): LocationCandidate[] {
  const layers = [...files, ...above];
  if (files.length === 0) return [];
  const merged = layers.reduce(
    (into, layer) => mergeValues(into, layer.data),
    {} as Record<string, unknown>,
  );
  return valuesMatches(merged, release, query).flatMap((match) => {
    const confidence = confidenceFor(namespace, query.workload.namespace, match.structured);
    if (!confidence || match.preset) return [];
    // Resources the release's own values set are edited there, over the files (see `fromValues`).
    if (above.some((layer) => isPlainObject(valueAt(layer.data, match.segments)))) return [];
    // The file the release takes these resources from: the last that sets them; with no values of
    // its own, else the last that holds the place above them (they are added there).
    const setting = files.findLastIndex((layer) =>
      isPlainObject(valueAt(layer.data, match.segments)),
    );
    const edited =
      setting >= 0 || above.length > 0
        ? setting
        : files.findLastIndex(
            (layer) => valueAt(layer.data, match.segments.slice(0, -1)) !== undefined,
          );
    const held = files.flatMap((layer, i) => {
      if (valueAt(layer.data, match.segments.slice(0, -1)) === undefined) return [];
      // The later files, nearest last, over this one: what they set that it does not is hidden,
      // and what they set that it does too overrides an edit of it.
      const over = [...layers.slice(i + 1).reverse(), layer];
      const hidden = hiddenAmounts(over, over.length - 1, match.segments);
      const own = new Set(amountsOf(valueAt(layer.data, match.segments)));
      const overriding = layers
        .slice(i + 1)
        .reverse()
        .map((later) => ({
          label: later.label,
          fields: amountsOf(valueAt(later.data, match.segments)).filter((field) => own.has(field)),
        }))
        .find((later) => later.fields.length > 0);
      const blocked = hidden
        ? `${hidden.label} also sets ${hidden.fields.join(", ")} of these resources, which ${layer.label} does not: an edit of one would be decided without the other; set them in one place`
        : overriding
          ? `${overriding.label}, listed after ${layer.label}, sets ${overriding.fields.join(", ")} of these resources over it: an edit of ${layer.label} would be overridden; set them in one place`
          : undefined;
      if (!blocked) return [];
      return [
        {
          file: layer.document.file,
          document: layer.document.index,
          path: formatPath(match.segments),
          confidence,
          how: `${layer.label} (${origin.field} of ${origin.what})${describeNamespace(namespace)}, ${match.how}`,
          source: "values-file" as const,
          blocked,
        },
      ];
    });
    const file = files[edited];
    if (!file || held.some((candidate) => candidate.file === file.document.file)) return held;
    // Named by the release, the file is its, whatever its path says.
    return [
      ...held,
      {
        file: file.document.file,
        document: file.document.index,
        path: formatPath(match.segments),
        confidence,
        how: `${file.label} (${origin.field} of ${origin.what})${describeNamespace(namespace)}, ${match.how}`,
        source: "values-file" as const,
        // Files the release names that are not here may set the resources over it, unseen.
        ...(origin.unseen ? { blocked: origin.unseen } : {}),
      },
    ];
  });
}

/**
 * The candidates for the container in VALUES (at PREFIX of the document). `below` is values merged
 * under them, lowest first (an Argo CD `values` string under `valuesObject`): a request or limit
 * that only it sets blocks the edit, which would be decided without it.
 */
function fromValues(
  document: IndexedDocument,
  values: Record<string, unknown>,
  prefix: PathSegment[],
  release: ReleaseContext,
  namespace: NamespaceSource | undefined,
  query: ContainerQuery,
  origin: {
    source: LocationCandidate["source"];
    what: string;
    below?: { data: Record<string, unknown>; label: string }[];
    /** Match on the values merged over `below`, as Helm merges them, not on VALUES alone. */
    matchMerged?: boolean;
  },
): LocationCandidate[] {
  const read = origin.matchMerged
    ? [...(origin.below ?? []), { data: values }].reduce(
        (into, layer) => mergeValues(into, layer.data),
        {} as Record<string, unknown>,
      )
    : values;
  return valuesMatches(read, release, query).flatMap((match) => {
    const confidence = confidenceFor(namespace, query.workload.namespace, match.structured);
    if (!confidence) return [];
    // Resources only a values file under VALUES sets are that file's: found by its path, if at all.
    const setHere = isPlainObject(valueAt(values, match.segments));
    const below = origin.below ?? [];
    if (
      origin.matchMerged &&
      !setHere &&
      below.some((layer) => isPlainObject(valueAt(layer.data, match.segments)))
    )
      return [];
    const path = formatPath([...prefix, ...match.segments]);
    const layers = [
      ...(origin.below ?? []),
      { data: values, label: `${document.file} ${formatPath(prefix)}` },
    ];
    const hidden = hiddenAmounts(layers, layers.length - 1, match.segments);
    const reasons = [
      ...(match.blocked ? [match.blocked] : []),
      ...(hidden
        ? [
            `${hidden.label} also sets ${hidden.fields.join(", ")} of these resources, which ${formatPath(prefix)} does not: an edit of one would be decided without the other; set them in one place`,
          ]
        : []),
    ];
    return [
      {
        file: document.file,
        document: document.index,
        path,
        confidence,
        how: `${origin.what}${describeNamespace(namespace)}, ${match.how}`,
        source: origin.source,
        ...(reasons.length > 0 ? { blocked: reasons.join("; ") } : {}),
        ...(match.preset ? { preset: match.preset } : {}),
      },
    ];
  });
}

function valueAtKeys(data: unknown, keys: string[]): unknown {
  let current = data;
  for (const name of keys) {
    if (!isPlainObject(current)) return undefined;
    current = current[name];
  }
  return current;
}

/** One candidate per place: the surest reading of it (a values file a HelmRelease names wins over a folder guess). */
function dedupe(candidates: LocationCandidate[]): LocationCandidate[] {
  const best = new Map<string, LocationCandidate>();
  for (const candidate of candidates) {
    const id = `${candidate.file}\u0000${candidate.document}\u0000${candidate.path}`;
    const seen = best.get(id);
    if (!seen || (seen.confidence === "likely" && candidate.confidence === "exact"))
      best.set(
        id,
        seen?.blocked && !candidate.blocked ? { ...candidate, blocked: seen.blocked } : candidate,
      );
    else if (candidate.blocked && !seen.blocked)
      best.set(id, { ...seen, blocked: candidate.blocked });
  }
  return [...best.values()];
}
