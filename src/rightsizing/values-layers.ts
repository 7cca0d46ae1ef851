import { formatPath, type PathSegment } from "../editors/path.ts";
import { isPlainObject, valueAt } from "../editors/verify.ts";
import { confidenceFor, describeNamespace, type LocationCandidate } from "./location-candidate.ts";
import type { IndexedDocument, NamespaceSource } from "./repo-index.ts";
import {
  amountsOf,
  type ContainerQuery,
  type ReleaseContext,
  valuesMatches,
} from "./values-locations.ts";

/** One source of a release's values; a release merges them in order, the last winning. */
export interface ValuesLayer {
  document: IndexedDocument;
  /** Where the values are in the document (`spec.values`; nothing for a values file). */
  prefix: PathSegment[];
  data: Record<string, unknown>;
  /** The layer in a sentence about what it sets: `values.yaml`, `x.yaml spec.values`. */
  label: string;
  /** What a match there is, for people: `HelmRelease piped`, `values.yaml (valuesFrom …)`. */
  how: string;
  /** Why this layer is not edited although it sets the resources (another release reads it). */
  shared?: string;
  /**
   * False for a place that is not edited: one that holds no values yet (`spec.values` absent),
   * or values only read (a Flux chart's valuesFiles).
   */
  present: boolean;
}

/** A release whose values are merged from several layers. */
export interface LayeredRelease {
  /** Lowest first, as they are merged. */
  layers: ValuesLayer[];
  /** The layer that gets a container's resources when no layer has a place for them. */
  fallback: number;
  context: ReleaseContext;
  namespace: NamespaceSource | undefined;
  source: LocationCandidate["source"];
  /** Why no layer of the release can be edited (values that are not in the repo, …). */
  blocked?: string;
}

/**
 * The candidates for the container in a release with layered values: matched on the merged
 * values (app-template names controllers by how many there are in all), each placed in the
 * last layer that sets the container's resources, else the last that holds the place above
 * them, else the fallback. A request or limit that only a lower layer sets blocks the edit,
 * which would be decided without it.
 */
export function layeredCandidates(
  release: LayeredRelease,
  query: ContainerQuery,
): LocationCandidate[] {
  const { layers, namespace } = release;
  const merged = layers.reduce(
    (into, layer) => mergeValues(into, layer.data),
    {} as Record<string, unknown>,
  );
  return valuesMatches(merged, release.context, query).flatMap((match) => {
    const confidence = confidenceFor(namespace, query.workload.namespace, match.structured);
    if (!confidence) return [];
    const top = editedLayer(release, match.segments);
    const layer = layers[top] as ValuesLayer;
    const hidden = hiddenAmounts(layers, top, match.segments);
    const reasons = [
      ...(match.blocked ? [match.blocked] : []),
      ...(release.blocked ? [release.blocked] : []),
      ...(layer.shared ? [layer.shared] : []),
      ...(hidden
        ? [
            `${hidden.label} also sets ${hidden.fields.join(", ")} of these resources, which ${layer.label} does not: an edit of one would be decided without the other; set them in one place`,
          ]
        : []),
    ];
    const candidate: LocationCandidate = {
      file: layer.document.file,
      document: layer.document.index,
      path: formatPath([...layer.prefix, ...match.segments]),
      confidence,
      how: `${layer.how}${describeNamespace(namespace)}, ${match.how}`,
      source: release.source,
      ...(match.preset ? { preset: match.preset } : {}),
    };
    return [reasons.length > 0 ? { ...candidate, blocked: reasons.join("; ") } : candidate];
  });
}

/** The layer a container's resources at SEGMENTS are edited in (see `layeredCandidates`). */
function editedLayer(release: LayeredRelease, segments: PathSegment[]): number {
  const { layers } = release;
  const last = (test: (layer: ValuesLayer) => boolean) =>
    layers.findLastIndex((layer) => layer.present && test(layer));
  const setting = last((layer) => isPlainObject(valueAt(layer.data, segments)));
  if (setting >= 0) return setting;
  const holding = last((layer) => valueAt(layer.data, segments.slice(0, -1)) !== undefined);
  return holding >= 0 ? holding : release.fallback;
}

/** Helm's merge of values: mappings merge key by key, anything else is replaced. */
export function mergeValues(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(over)) {
    const under = merged[name];
    merged[name] = isPlainObject(under) && isPlainObject(value) ? mergeValues(under, value) : value;
  }
  return merged;
}

/**
 * A request or limit that a layer under the edited one sets and the edited one does not: the
 * merged value comes from below, unseen by the decision (a limit below a raised request).
 */
export function hiddenAmounts(
  layers: readonly { data: Record<string, unknown>; label: string }[],
  top: number,
  segments: PathSegment[],
): { label: string; fields: string[] } | undefined {
  const amounts = (data: Record<string, unknown>) => amountsOf(valueAt(data, segments));
  const edited = new Set(top >= 0 && layers[top] ? amounts(layers[top].data) : []);
  for (const layer of layers.slice(0, Math.max(top, 0)).reverse()) {
    const fields = amounts(layer.data).filter((field) => !edited.has(field));
    if (fields.length > 0) return { label: layer.label, fields };
  }
  return undefined;
}
