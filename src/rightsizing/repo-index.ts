import { posix } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { isPlainObject } from "../editors/verify.ts";
import { isDiscoverable, type RepoFile } from "./repo-files.ts";

/** One YAML document of the repo with the fields discovery matches on. */
export interface IndexedDocument {
  file: string;
  /** 0-based document index in the file. */
  index: number;
  data: Record<string, unknown>;
  kind?: string;
  apiVersion?: string;
  name?: string;
  /** `metadata.namespace` as written. */
  namespace?: string;
}

/** A kustomize `kustomization.yaml`: the namespace it sets and the patches it applies. */
export interface KustomizeInfo {
  file: string;
  dir: string;
  namespace?: string;
  /** Resources and components, as normalized repo paths. */
  resources: string[];
  /** Patch files (strategic merge or JSON 6902), as normalized repo paths. */
  patchFiles: string[];
  /** Patches written inline as text, which cannot be edited in place. */
  inlinePatches: number;
  /** Patches discovery cannot follow (JSON 6902, inline), with what they target. */
  opaquePatches: OpaquePatch[];
  /** `configMapGenerator` entries: generated name → key → repo path of the file. */
  configMapFiles: Map<string, Map<string, string>>;
  /** Generated names with `behavior: merge` or `replace`: they change a ConfigMap made elsewhere. */
  configMapOverrides: Set<string>;
  /** `helmCharts` entries: charts kustomize renders with Helm, with the values they get. */
  helmCharts: HelmChartInfo[];
}

/**
 * A kustomize `helmCharts` entry (the Helm chart inflation generator). Paths are repo paths;
 * a values file given as a URL or an absolute path is kept as written in `outside`.
 */
export interface HelmChartInfo {
  /** Its position in the kustomization's `helmCharts` list. */
  index: number;
  chart?: string;
  /** Absent: kustomize has Helm generate a name, which no workload name can be matched to. */
  releaseName?: string;
  /** `.Release.Namespace` of what the chart renders. */
  namespace?: string;
  valuesFile?: string;
  valuesInline?: Record<string, unknown>;
  /** `override` (the default), `merge` or `replace`, or what else is written (kustomize refuses it). */
  valuesMerge: string;
  additionalValuesFiles: string[];
  /** Values files that are not in the repo (a URL, an absolute path). */
  outside: string[];
}

/**
 * A kustomize patch that discovery cannot follow into a file and PATH: a JSON 6902 patch
 * (file or inline) or an inline strategic-merge patch. When it may set a container's
 * resources, an edit of its target would be overridden, so the target is not edited.
 */
export interface OpaquePatch {
  /** The kustomization that applies it. */
  kustomization: string;
  /** The patch file; absent for an inline patch. */
  file?: string;
  form: "json6902" | "inline" | "unread" | "targeted";
  /**
   * What the patch applies to; an absent field matches anything. Kind and name are patterns,
   * as kustomize reads them; `selector` is set when labels or annotations also choose.
   */
  target: { kind?: string; name?: string; selector?: boolean };
  /** True when the patch may set resources (or replace what holds them). */
  touchesResources: boolean;
}

/** A Flux `Kustomization` that deploys a folder into a namespace. */
export interface FluxKustomizationInfo {
  file: string;
  path: string;
  targetNamespace: string;
}

export interface RepoIndex {
  texts: ReadonlyMap<string, string>;
  documents: IndexedDocument[];
  kustomizations: ReadonlyMap<string, KustomizeInfo>;
  fluxKustomizations: FluxKustomizationInfo[];
  /** Files referenced as patches by some kustomization. */
  patchFiles: ReadonlySet<string>;
  /**
   * The kustomizations that list each repo path (a file, or a folder holding a kustomization)
   * in their `resources`, `components` or patches.
   */
  includers: ReadonlyMap<string, readonly KustomizeInfo[]>;
  /** YAML files that could not be parsed, with the reason. */
  unreadable: { file: string; reason: string }[];
  /**
   * What this repository is known by: its remotes' URLs (a checkout) or its `owner/name` (the
   * app). Empty when not known: a Flux GitRepository is then told from this repo by what the
   * repo itself shows.
   */
  repository: readonly string[];
  /**
   * Built from part of the repository's files (`DiscoveredFiles`): what lies past the cut of
   * their list is not in it.
   */
  partial?: true;
}

/**
 * One way a document reaches the cluster: up through the kustomizations that include it, one
 * by one, to one that nothing includes (or that a Flux Kustomization deploys), or the file
 * alone when no kustomization lists it.
 */
export interface Deployment {
  /** The outermost file of the chain: that kustomization, or the document's own file. */
  root: string;
  /** The namespace it is deployed to; absent when nothing says. */
  namespace?: NamespaceSource;
}

/** Where the namespace of a document comes from. */
export interface NamespaceSource {
  namespace: string;
  from: "metadata" | "kustomization" | "flux";
  /** The file that set it, for kustomization and flux. */
  file?: string;
}

/**
 * Parses every discoverable YAML file once. Pure: the texts are given, and what the repository
 * is known by (see `RepoIndex.repository`).
 */
export function indexRepo(
  files: readonly RepoFile[],
  repository: readonly string[] = [],
): RepoIndex {
  const texts = new Map<string, string>();
  const documents: IndexedDocument[] = [];
  const unreadable: RepoIndex["unreadable"] = [];
  for (const file of files) {
    texts.set(file.path, file.text);
    if (!isDiscoverable(file.path)) continue;
    const parsed = parseFile(file);
    if ("reason" in parsed) unreadable.push({ file: file.path, reason: parsed.reason });
    else documents.push(...parsed.documents);
  }
  const kustomizations = new Map<string, KustomizeInfo>();
  const fluxKustomizations: FluxKustomizationInfo[] = [];
  for (const document of documents) {
    if (isKustomize(document)) {
      const info = kustomizeInfo(document);
      kustomizations.set(info.dir, info);
    }
    const flux = fluxKustomizationInfo(document);
    if (flux) fluxKustomizations.push(flux);
  }
  const patchFiles = new Set([...kustomizations.values()].flatMap((k) => k.patchFiles));
  for (const info of kustomizations.values()) resolvePatchForms(info, texts);
  return {
    texts,
    documents,
    kustomizations,
    fluxKustomizations,
    patchFiles,
    includers: includersOf(kustomizations),
    unreadable,
    repository,
  };
}

function includersOf(
  kustomizations: ReadonlyMap<string, KustomizeInfo>,
): Map<string, KustomizeInfo[]> {
  const includers = new Map<string, KustomizeInfo[]>();
  for (const kustomization of kustomizations.values())
    for (const path of new Set([...kustomization.resources, ...kustomization.patchFiles]))
      includers.set(path, [...(includers.get(path) ?? []), kustomization]);
  return includers;
}

function parseFile(file: RepoFile): { documents: IndexedDocument[] } | { reason: string } {
  let parsed: ReturnType<typeof parseAllDocuments>;
  try {
    parsed = parseAllDocuments(file.text, { merge: true, prettyErrors: false, logLevel: "error" });
  } catch (error) {
    return { reason: (error as Error).message };
  }
  const list = Array.isArray(parsed) ? parsed : [];
  const documents: IndexedDocument[] = [];
  for (const [index, document] of list.entries()) {
    if (document.errors[0]) return { reason: document.errors[0].message };
    let data: unknown;
    try {
      data = document.toJS({ maxAliasCount: 10_000 });
    } catch (error) {
      return { reason: (error as Error).message };
    }
    if (isPlainObject(data)) documents.push(describe(file.path, index, data));
  }
  return { documents };
}

function describe(file: string, index: number, data: Record<string, unknown>): IndexedDocument {
  const metadata = isPlainObject(data.metadata) ? data.metadata : {};
  const document: IndexedDocument = { file, index, data };
  if (typeof data.kind === "string") document.kind = data.kind;
  if (typeof data.apiVersion === "string") document.apiVersion = data.apiVersion;
  if (typeof metadata.name === "string") document.name = metadata.name;
  if (typeof metadata.namespace === "string") document.namespace = metadata.namespace;
  return document;
}

function isKustomize(document: IndexedDocument): boolean {
  const base = posix.basename(document.file);
  if (!/^kustomization\.ya?ml$/i.test(base)) return false;
  return (
    document.apiVersion === undefined || document.apiVersion.startsWith("kustomize.config.k8s.io")
  );
}

function kustomizeInfo(document: IndexedDocument): KustomizeInfo {
  const dir = posix.dirname(document.file);
  const data = document.data;
  const resolve = (path: string) => posix.normalize(posix.join(dir, path)).replace(/\/$/, "");
  const strings = (value: unknown) =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  const resources = [...strings(data.resources), ...strings(data.components)].map(resolve);
  const patchFiles: string[] = [];
  const opaquePatches: OpaquePatch[] = [];
  let inlinePatches = 0;
  const json6902 = new Set(listOf(data.patchesJson6902));
  for (const entry of [
    ...listOf(data.patches),
    ...listOf(data.patchesStrategicMerge),
    ...listOf(data.patchesJson6902),
  ]) {
    if (typeof entry === "string") {
      // patchesStrategicMerge entries are file paths, or whole patches written inline.
      if (entry.includes("\n")) {
        inlinePatches++;
        opaquePatches.push(inlinePatch(document.file, entry, {}));
      } else patchFiles.push(resolve(entry));
    } else if (isPlainObject(entry)) {
      const target = patchTarget(entry.target);
      if (typeof entry.path === "string") {
        patchFiles.push(resolve(entry.path));
        // A file patch's form is known once its text is read (resolvePatchForms).
        opaquePatches.push({
          kustomization: document.file,
          file: resolve(entry.path),
          form: json6902.has(entry) ? "json6902" : "unread",
          target,
          touchesResources: true,
        });
      } else if (typeof entry.patch === "string") {
        inlinePatches++;
        opaquePatches.push(inlinePatch(document.file, entry.patch, target));
      }
    }
  }
  const info: KustomizeInfo = {
    file: document.file,
    dir,
    resources,
    patchFiles,
    inlinePatches,
    opaquePatches,
    configMapFiles: configMapFiles(data.configMapGenerator, resolve),
    configMapOverrides: new Set(
      listOf(data.configMapGenerator).flatMap((generator) =>
        isPlainObject(generator) &&
        typeof generator.name === "string" &&
        (generator.behavior === "merge" || generator.behavior === "replace")
          ? [generator.name]
          : [],
      ),
    ),
    helmCharts: helmCharts(data.helmCharts, resolve),
  };
  if (typeof data.namespace === "string") info.namespace = data.namespace;
  return info;
}

/** `helmCharts` entries that are mappings, with their values files resolved in the repo. */
function helmCharts(value: unknown, resolve: (path: string) => string): HelmChartInfo[] {
  const charts: HelmChartInfo[] = [];
  for (const [index, entry] of listOf(value).entries()) {
    if (!isPlainObject(entry)) continue;
    const text = (field: string) =>
      typeof entry[field] === "string" && entry[field] !== ""
        ? (entry[field] as string)
        : undefined;
    const outside: string[] = [];
    const local = (path: string): string[] => {
      if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(path) && !path.startsWith("/")) return [resolve(path)];
      outside.push(path);
      return [];
    };
    const given = text("valuesFile");
    const [valuesFile] = given ? local(given) : [];
    const info: HelmChartInfo = {
      index,
      valuesMerge: text("valuesMerge") ?? "override",
      additionalValuesFiles: listOf(entry.additionalValuesFiles)
        .filter((path): path is string => typeof path === "string")
        .flatMap(local),
      outside,
    };
    if (valuesFile) info.valuesFile = valuesFile;
    if (isPlainObject(entry.valuesInline)) info.valuesInline = entry.valuesInline;
    for (const [field, key] of [
      ["name", "chart"],
      ["releaseName", "releaseName"],
      ["namespace", "namespace"],
    ] as const) {
      const found = text(field);
      if (found) info[key] = found;
    }
    charts.push(info);
  }
  return charts;
}

function patchTarget(value: unknown): OpaquePatch["target"] {
  const target: OpaquePatch["target"] = {};
  if (!isPlainObject(value)) return target;
  if (typeof value.kind === "string") target.kind = value.kind;
  if (typeof value.name === "string") target.name = value.name;
  if (value.labelSelector !== undefined || value.annotationSelector !== undefined)
    target.selector = true;
  return target;
}

/**
 * The kustomize patches a Flux HelmRelease applies to what its chart renders
 * (`spec.postRenderers[].kustomize`): `patches` (text, with a target), and the older
 * `patchesStrategicMerge` (objects) and `patchesJson6902` (a target and a list of operations).
 */
export function postRendererPatches(file: string, spec: Record<string, unknown>): OpaquePatch[] {
  const found: OpaquePatch[] = [];
  for (const renderer of listOf(spec.postRenderers)) {
    const kustomize =
      isPlainObject(renderer) && isPlainObject(renderer.kustomize) ? renderer.kustomize : {};
    for (const entry of listOf(kustomize.patches))
      if (isPlainObject(entry) && typeof entry.patch === "string")
        found.push(inlinePatch(file, entry.patch, patchTarget(entry.target)));
    for (const entry of listOf(kustomize.patchesStrategicMerge))
      if (isPlainObject(entry)) found.push(inlinePatch(file, JSON.stringify(entry), {}));
    for (const entry of listOf(kustomize.patchesJson6902))
      if (isPlainObject(entry))
        found.push({
          kustomization: file,
          form: "json6902",
          target: patchTarget(entry.target),
          touchesResources: opsTouchResources(listOf(entry.patch)),
        });
  }
  return found;
}

/** An inline patch: a JSON 6902 list of operations, or a strategic-merge object. */
function inlinePatch(
  kustomization: string,
  text: string,
  target: OpaquePatch["target"],
): OpaquePatch {
  const data = parseQuietly(text);
  if (Array.isArray(data))
    return { kustomization, form: "inline", target, touchesResources: opsTouchResources(data) };
  const patchTarget = { ...target };
  if (isPlainObject(data)) {
    const metadata = isPlainObject(data.metadata) ? data.metadata : {};
    if (patchTarget.kind === undefined && typeof data.kind === "string")
      patchTarget.kind = data.kind;
    if (patchTarget.name === undefined && typeof metadata.name === "string")
      patchTarget.name = metadata.name;
  }
  return {
    kustomization,
    form: "inline",
    target: patchTarget,
    touchesResources: /resources|containers|values/.test(text),
  };
}

/**
 * Sorts the file patches: a strategic-merge patch is an ordinary document discovery reads
 * (and edits); a list of operations is JSON 6902; an unread file may be either.
 */
function resolvePatchForms(info: KustomizeInfo, texts: ReadonlyMap<string, string>): void {
  info.opaquePatches = info.opaquePatches.flatMap((patch) => {
    if (!patch.file) return [patch];
    const text = texts.get(patch.file);
    // An unread file without a target (a strategic-merge file) names nothing to hold back.
    if (text === undefined)
      return patch.target.kind || patch.target.name || patch.target.selector
        ? [{ ...patch, form: "unread" as const }]
        : [];
    const data = parseQuietly(text);
    if (Array.isArray(data))
      return [{ ...patch, form: "json6902" as const, touchesResources: opsTouchResources(data) }];
    if (patch.form === "json6902") return [{ ...patch, touchesResources: true }];
    // A strategic-merge file that its target applies under another name (or to whatever a
    // pattern or selector picks) is not read as a patch of its target.
    return followedByName(patch.target, data)
      ? []
      : [
          {
            ...patch,
            form: "targeted" as const,
            touchesResources: /resources|containers|values/.test(text),
          },
        ];
  });
}

/** True when a strategic-merge patch applies to the object its own kind and name say. */
function followedByName(target: OpaquePatch["target"], data: unknown): boolean {
  if (target.kind === undefined && target.name === undefined && !target.selector) return true;
  if (target.selector || !isPlainObject(data)) return false;
  const metadata = isPlainObject(data.metadata) ? data.metadata : {};
  return (
    (target.kind === undefined || target.kind === data.kind) &&
    (target.name === undefined || target.name === metadata.name)
  );
}

/** Whether JSON 6902 operations may set resources: a path naming them, or one above them. */
function opsTouchResources(ops: unknown[]): boolean {
  return ops.some((op) => {
    if (!isPlainObject(op) || typeof op.path !== "string") return true;
    const path = op.path;
    return (
      /resources|containers|values/i.test(path) || "/spec/template/spec/containers".startsWith(path)
    );
  });
}

function parseQuietly(text: string): unknown {
  try {
    return parse(text, { logLevel: "error" });
  } catch {
    return undefined;
  }
}

/** `configMapGenerator[].files`: `key=path` or `path` (the key is then the file name). */
function configMapFiles(
  value: unknown,
  resolve: (path: string) => string,
): Map<string, Map<string, string>> {
  const generated = new Map<string, Map<string, string>>();
  for (const generator of listOf(value)) {
    if (!isPlainObject(generator) || typeof generator.name !== "string") continue;
    const files = new Map<string, string>();
    for (const entry of listOf(generator.files)) {
      if (typeof entry !== "string") continue;
      const at = entry.indexOf("=");
      const path = at >= 0 ? entry.slice(at + 1) : entry;
      files.set(at >= 0 ? entry.slice(0, at) : posix.basename(path), resolve(path));
    }
    generated.set(generator.name, files);
  }
  return generated;
}

/** The values in a repo file: its first document that is no Kubernetes object. */
export function valuesDocument(index: RepoIndex, file: string): IndexedDocument | undefined {
  return index.documents.find((d) => d.file === file && d.kind === undefined);
}

/** The kustomizations at or above the file's folder, nearest first. */
export function kustomizationsAbove(index: RepoIndex, file: string): KustomizeInfo[] {
  const found: KustomizeInfo[] = [];
  let dir = posix.dirname(file);
  for (;;) {
    const kustomization = index.kustomizations.get(dir);
    if (kustomization) found.push(kustomization);
    if (dir === "." || dir === "" || dir === "/") return found;
    const parent = posix.dirname(dir);
    dir = parent === dir ? "." : parent;
  }
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function fluxKustomizationInfo(document: IndexedDocument): FluxKustomizationInfo | undefined {
  if (document.kind !== "Kustomization") return undefined;
  if (!document.apiVersion?.startsWith("kustomize.toolkit.fluxcd.io")) return undefined;
  const spec = isPlainObject(document.data.spec) ? document.data.spec : {};
  if (typeof spec.path !== "string" || typeof spec.targetNamespace !== "string") return undefined;
  const path = posix.normalize(spec.path.replace(/^\.\//, "")).replace(/\/$/, "");
  return {
    file: document.file,
    path: path === "." ? "" : path,
    targetNamespace: spec.targetNamespace,
  };
}

/**
 * Every way the document is deployed, as far as the repo tells, each with its namespace. As
 * kustomize applies them, the outermost kustomization that sets `namespace:` decides, over
 * the ones inside it and the document's own `metadata.namespace`; a Flux Kustomization's
 * `targetNamespace` for the folder deployed decides over all of them. A base that two
 * overlays include is deployed twice.
 */
export function deploymentsOf(index: RepoIndex, document: IndexedDocument): Deployment[] {
  return walkDeployments(index, document.file, [], document.file, metadataNamespace(document));
}

/**
 * Every way what a kustomization generates (a Helm chart it renders) is deployed: from the
 * kustomization itself up, as `deploymentsOf`; OWN is the namespace the generated objects carry
 * when no kustomization on the way sets one.
 */
export function kustomizationDeployments(
  index: RepoIndex,
  kustomization: KustomizeInfo,
  own?: NamespaceSource,
): Deployment[] {
  return walkDeployments(index, kustomization.dir, [kustomization], kustomization.file, own);
}

function walkDeployments(
  index: RepoIndex,
  start: string,
  first: KustomizeInfo[],
  file: string,
  own: NamespaceSource | undefined,
): Deployment[] {
  const found: Deployment[] = [];
  const walk = (node: string, chain: KustomizeInfo[]): void => {
    const outer = chain.at(-1);
    // Flux deploys its folder from there: what includes the folder is not how it arrives.
    const deployedByFlux = outer && index.fluxKustomizations.some((f) => f.path === outer.dir);
    const parents = deployedByFlux
      ? []
      : (index.includers.get(node) ?? []).filter((parent) => !chain.includes(parent));
    if (parents.length === 0) found.push(deployment(index, file, chain, own));
    for (const parent of parents) walk(parent.dir, [...chain, parent]);
  };
  walk(start, first);
  return found;
}

function deployment(
  index: RepoIndex,
  file: string,
  chain: readonly KustomizeInfo[],
  own: NamespaceSource | undefined,
): Deployment {
  const root = chain.at(-1)?.file ?? file;
  const namespace = fluxNamespace(index, root) ?? kustomizeNamespace(chain) ?? own;
  return namespace ? { root, namespace } : { root };
}

function fluxNamespace(index: RepoIndex, file: string): NamespaceSource | undefined {
  let best: FluxKustomizationInfo | undefined;
  for (const flux of index.fluxKustomizations) {
    const inside = flux.path === "" || file.startsWith(`${flux.path}/`);
    if (inside && (!best || flux.path.length > best.path.length)) best = flux;
  }
  return best ? { namespace: best.targetNamespace, from: "flux", file: best.file } : undefined;
}

/** The namespace of the outermost kustomization in the chain that sets one. */
function kustomizeNamespace(chain: readonly KustomizeInfo[]): NamespaceSource | undefined {
  const outermost = [...chain].reverse().find((kustomization) => kustomization.namespace);
  return outermost?.namespace
    ? { namespace: outermost.namespace, from: "kustomization", file: outermost.file }
    : undefined;
}

function metadataNamespace(document: IndexedDocument): NamespaceSource | undefined {
  return document.namespace ? { namespace: document.namespace, from: "metadata" } : undefined;
}
