import { posix } from "node:path";
import type { PathSegment } from "../editors/path.ts";
import { isPlainObject } from "../editors/verify.ts";
import { type LocationCandidate, matchesPattern, placement } from "./location-candidate.ts";
import {
  type HelmChartInfo,
  type IndexedDocument,
  type KustomizeInfo,
  kustomizationDeployments,
  type NamespaceSource,
  type RepoIndex,
  valuesDocument,
} from "./repo-index.ts";
import { layeredCandidates, type ValuesLayer } from "./values-layers.ts";
import type { ContainerQuery, ReleaseContext } from "./values-locations.ts";

/*
 * How kustomize's Helm chart inflation generator gives a chart its values, as read from
 * kubernetes-sigs/kustomize, plugin/builtin/helmchartinflationgenerator/
 * HelmChartInflationGenerator.go and api/types/helmchartargs.go (commit
 * 0153090f4b6a9b926b92335437009bd9d1dc3900), and described on
 * https://kubectl.docs.kubernetes.io/references/kustomize/builtins/#_helmchartinflationgenerator_
 * - `valuesFile` replaces the chart's own values.yaml (which is used when it is absent);
 * - a non-empty `valuesInline` is merged with that file as `valuesMerge` says: `override` (the
 *   default) puts valuesInline over the file, `merge` puts the file over valuesInline, and
 *   `replace` uses valuesInline alone;
 * - the result is the first `helm template -f`, then each `additionalValuesFiles` entry, in
 *   order, each over what comes before it.
 */

const key = (name: string | number): PathSegment =>
  typeof name === "number" ? { kind: "index", index: name } : { kind: "key", key: name };

/** Every repo file a kustomize `helmCharts` entry reads as values. */
export function helmChartValuesFiles(index: RepoIndex): Set<string> {
  return new Set(readersByFile(index).keys());
}

/**
 * The candidates in the values of the Helm charts a kustomization renders (`helmCharts`): the
 * chart's workloads are named by the release, and go to the kustomization's namespace, else the
 * entry's `namespace`.
 */
export function helmChartCandidates(
  index: RepoIndex,
  document: IndexedDocument,
  query: ContainerQuery,
): LocationCandidate[] {
  if (document.index !== 0 || !/kustomization\.ya?ml$/i.test(document.file)) return [];
  const kustomization = index.kustomizations.get(posix.dirname(document.file));
  if (kustomization?.file !== document.file) return [];
  return kustomization.helmCharts.flatMap((chart) =>
    chartCandidates(index, kustomization, document, chart, query),
  );
}

function chartCandidates(
  index: RepoIndex,
  kustomization: KustomizeInfo,
  document: IndexedDocument,
  chart: HelmChartInfo,
  query: ContainerQuery,
): LocationCandidate[] {
  // Without a release name Helm makes one up: no workload name can be matched to it.
  if (!chart.releaseName) return [];
  const own: NamespaceSource | undefined = chart.namespace
    ? { namespace: chart.namespace, from: "kustomization", file: kustomization.file }
    : undefined;
  const placed = placement(
    kustomizationDeployments(index, kustomization, own),
    kustomization.file,
    query.workload.namespace,
    { remedy: () => "set rightsizing.targets" },
  );
  if (!placed) return [];
  const entry = `helmCharts[${chart.index}]`;
  const context: ReleaseContext = chart.chart
    ? { releases: [chart.releaseName], chart: chart.chart }
    : { releases: [chart.releaseName] };
  const { layers, problems } = chartLayers(index, kustomization, document, chart, entry);
  const patched = patchOver(index, kustomization, query.workload);
  const blocked = [placed.shared, ...problems, patched].filter((reason) => reason !== undefined);
  return layeredCandidates(
    {
      layers,
      fallback: layers.length - 1,
      context,
      namespace: placed.namespace,
      source: "helm-chart",
      ...(blocked.length > 0 ? { blocked: blocked.join("; ") } : {}),
    },
    query,
  );
}

/** The chart's values in the repo, lowest first, and what may set values the repo does not show. */
function chartLayers(
  index: RepoIndex,
  kustomization: KustomizeInfo,
  document: IndexedDocument,
  chart: HelmChartInfo,
  entry: string,
): { layers: ValuesLayer[]; problems: string[] } {
  const problems = chart.outside.map(
    (path) =>
      `${entry} takes values from ${path}, which is not in the repo and may set these resources`,
  );
  const readers = readersByFile(index);
  const fileLayer = (path: string, field: string): ValuesLayer[] => {
    const values = valuesDocument(index, path);
    if (!values) {
      problems.push(
        `${path} (${entry}.${field} of ${kustomization.file}) is not a values file that could be read, and may set these resources`,
      );
      return [];
    }
    const others = (readers.get(path) ?? []).filter(
      (reader) => reader !== `${kustomization.file} ${entry}`,
    );
    return [
      {
        document: values,
        prefix: [],
        data: values.data,
        label: path,
        how: `${path} (${entry}.${field} of ${kustomization.file}, release ${chart.releaseName})`,
        present: true,
        ...(others.length > 0
          ? {
              shared: `${path} is also the values of ${others.join(", ")}, which an edit would change too`,
            }
          : {}),
      },
    ];
  };
  const inline = chart.valuesInline && Object.keys(chart.valuesInline).length > 0;
  const inlineLayer: ValuesLayer = {
    document,
    prefix: [key("helmCharts"), key(chart.index), key("valuesInline")],
    data: inline ? (chart.valuesInline as Record<string, unknown>) : {},
    label: `${kustomization.file} ${entry}.valuesInline`,
    how: `${kustomization.file} ${entry}.valuesInline (release ${chart.releaseName})`,
    present: inline === true,
  };
  const file = chart.valuesFile ? fileLayer(chart.valuesFile, "valuesFile") : [];
  let base: ValuesLayer[];
  if (!inline || chart.valuesMerge === "override") base = [...file, inlineLayer];
  else if (chart.valuesMerge === "replace") base = [inlineLayer];
  else {
    if (chart.valuesMerge !== "merge")
      problems.push(
        `${entry} has valuesMerge ${chart.valuesMerge}, which kustomize does not know (merge, override or replace)`,
      );
    else if (!chart.valuesFile)
      problems.push(
        `${entry} has valuesMerge merge, which puts the chart's own values, not in the repo, over valuesInline`,
      );
    base = [inlineLayer, ...file];
  }
  const additional = chart.additionalValuesFiles.flatMap((path) =>
    fileLayer(path, "additionalValuesFiles"),
  );
  return { layers: [...base, ...additional], problems };
}

/** `<kustomization> helmCharts[i]` of every entry that reads each values file. */
function readersByFile(index: RepoIndex): Map<string, string[]> {
  const readers = new Map<string, string[]>();
  for (const kustomization of index.kustomizations.values())
    for (const chart of kustomization.helmCharts) {
      const reader = `${kustomization.file} helmCharts[${chart.index}]`;
      const files = [
        ...(chart.valuesFile ? [chart.valuesFile] : []),
        ...chart.additionalValuesFiles,
      ];
      for (const file of new Set(files)) readers.set(file, [...(readers.get(file) ?? []), reader]);
    }
  return readers;
}

/**
 * A kustomize patch, in the kustomization or one that includes it, that applies to the workload
 * the chart renders and may set its containers: what the values say is then not what is
 * deployed. A patch of another kind or name is no matter.
 */
function patchOver(
  index: RepoIndex,
  kustomization: KustomizeInfo,
  workload: { kind: string; name: string },
): string | undefined {
  for (const over of kustomizationsOver(index, kustomization)) {
    const opaque = over.opaquePatches.find(
      (patch) =>
        patch.touchesResources &&
        matchesPattern(patch.target.kind, workload.kind) &&
        matchesPattern(patch.target.name, workload.name),
    );
    const merged = over.patchFiles.find((file) =>
      index.documents.some(
        (patch) =>
          patch.file === file &&
          patch.kind === workload.kind &&
          patch.name === workload.name &&
          setsContainers(patch.data),
      ),
    );
    const patch = opaque ? (opaque.file ?? "an inline patch") : merged;
    if (patch)
      return `${patch} in ${over.file} patches ${workload.kind} ${workload.name}, which the chart renders, and may set its resources; the values are then not what is deployed, so they are not edited (edit the patch, or set rightsizing.targets)`;
  }
  return undefined;
}

/** Whether a strategic-merge patch of a workload touches its containers. */
function setsContainers(data: Record<string, unknown>): boolean {
  const spec = isPlainObject(data.spec) ? data.spec : {};
  const template = isPlainObject(spec.template) ? spec.template : {};
  const podSpec = isPlainObject(template.spec) ? template.spec : {};
  return (
    JSON.stringify(data).includes("$patch") ||
    podSpec.containers !== undefined ||
    podSpec.initContainers !== undefined
  );
}

/** The kustomization and every kustomization that includes it, however far up. */
function kustomizationsOver(index: RepoIndex, kustomization: KustomizeInfo): KustomizeInfo[] {
  const found = [kustomization];
  for (let i = 0; i < found.length; i++) {
    const current = found[i] as KustomizeInfo;
    for (const parent of index.includers.get(current.dir) ?? [])
      if (!found.includes(parent)) found.push(parent);
  }
  return found;
}
