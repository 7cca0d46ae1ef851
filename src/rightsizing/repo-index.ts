import { posix } from "node:path";
import { parseAllDocuments } from "yaml";
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
  /** YAML files that could not be parsed, with the reason. */
  unreadable: { file: string; reason: string }[];
}

/** Where the namespace of a document comes from. */
export interface NamespaceSource {
  namespace: string;
  from: "metadata" | "kustomization" | "flux";
  /** The file that set it, for kustomization and flux. */
  file?: string;
}

/** Parses every discoverable YAML file once. Pure: the texts are given. */
export function indexRepo(files: readonly RepoFile[]): RepoIndex {
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
  return { texts, documents, kustomizations, fluxKustomizations, patchFiles, unreadable };
}

function parseFile(file: RepoFile): { documents: IndexedDocument[] } | { reason: string } {
  let parsed: ReturnType<typeof parseAllDocuments>;
  try {
    parsed = parseAllDocuments(file.text, { merge: true, prettyErrors: false });
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
  let inlinePatches = 0;
  for (const entry of [
    ...listOf(data.patches),
    ...listOf(data.patchesStrategicMerge),
    ...listOf(data.patchesJson6902),
  ]) {
    if (typeof entry === "string") {
      // patchesStrategicMerge entries are file paths, or whole patches written inline.
      if (entry.includes("\n")) inlinePatches++;
      else patchFiles.push(resolve(entry));
    } else if (isPlainObject(entry)) {
      if (typeof entry.path === "string") patchFiles.push(resolve(entry.path));
      else if (typeof entry.patch === "string") inlinePatches++;
    }
  }
  const info: KustomizeInfo = { file: document.file, dir, resources, patchFiles, inlinePatches };
  if (typeof data.namespace === "string") info.namespace = data.namespace;
  return info;
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
 * The namespace a document is deployed to, as far as the repo tells: a Flux Kustomization's
 * targetNamespace for its folder, else the `namespace:` of the kustomization that includes the
 * file, else its own `metadata.namespace`. Undefined when nothing says.
 */
export function namespaceOf(
  index: RepoIndex,
  document: IndexedDocument,
): NamespaceSource | undefined {
  const flux = fluxNamespace(index, document.file);
  if (flux) return flux;
  const kustomize = kustomizeNamespace(index, document.file);
  if (kustomize) return kustomize;
  return document.namespace ? { namespace: document.namespace, from: "metadata" } : undefined;
}

function fluxNamespace(index: RepoIndex, file: string): NamespaceSource | undefined {
  let best: FluxKustomizationInfo | undefined;
  for (const flux of index.fluxKustomizations) {
    const inside = flux.path === "" || file.startsWith(`${flux.path}/`);
    if (inside && (!best || flux.path.length > best.path.length)) best = flux;
  }
  return best ? { namespace: best.targetNamespace, from: "flux", file: best.file } : undefined;
}

/** Walks up from the file's folder through kustomizations that include the folder below. */
function kustomizeNamespace(index: RepoIndex, file: string): NamespaceSource | undefined {
  let dir = posix.dirname(file);
  let child = file;
  for (;;) {
    const kustomization = index.kustomizations.get(dir);
    const includes =
      kustomization &&
      (kustomization.resources.includes(child) || kustomization.patchFiles.includes(child));
    if (!includes) return undefined;
    if (kustomization.namespace)
      return {
        namespace: kustomization.namespace,
        from: "kustomization",
        file: kustomization.file,
      };
    if (dir === "." || dir === "") return undefined;
    child = dir;
    dir = posix.dirname(dir);
  }
}
