import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
  type YAMLError,
} from "yaml";
import type { ConfigIssue } from "./load-repo-config.ts";
import { isMergeKey } from "./yaml-locations.ts";

/**
 * How config files (the repo config, policy files) are parsed: duplicate keys are errors, and
 * merge keys (`<<: *defaults`) merge, so one pool or rule can build on another.
 */
export const CONFIG_YAML_OPTIONS = { prettyErrors: false, uniqueKeys: true, merge: true } as const;

/** A config file's YAML: the document and its line counter (for positions) and its data. */
export interface ConfigYaml {
  doc: Document;
  lineCounter: LineCounter;
  /** The data; `null` for an empty file or one of comments only. */
  data: unknown;
}

export type ReadConfigYamlResult =
  | { ok: true; yaml: ConfigYaml }
  | { ok: false; issues: ConfigIssue[] };

/** Most aliases a file may expand: a config needs a handful; a "billion laughs" file, millions. */
const MAX_ALIAS_COUNT = 100;

/**
 * Reads a config file's YAML text. Syntax errors, a second document, an alias without its anchor,
 * an alias bomb, a merge key that merges no mapping and a key that is a mapping or a list come
 * back as issues at their line and column, never as an exception.
 */
export function readConfigYaml(text: string, file: string): ReadConfigYamlResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...CONFIG_YAML_OPTIONS, lineCounter });
  const at = (offset: number, message: string): ConfigIssue => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col, path: "", message };
  };
  // The yaml package reads nested collections recursively: thousands of levels exhaust the
  // stack, which it reports as one more syntax error among those that follow from it.
  const tooDeep = doc.errors.find((error) => isStackOverflow(error.message));
  if (tooDeep) return { ok: false, issues: [at(tooDeep.pos[0], TOO_DEEP)] };
  if (doc.errors.length > 0)
    return {
      ok: false,
      issues: doc.errors.map((error) => at(error.pos[0], syntaxMessage(error, doc, lineCounter))),
    };
  try {
    const badMerge = badMergeSource(doc);
    if (badMerge) return { ok: false, issues: [at(badMerge.offset, badMerge.message)] };
    const collectionKeys = collectionKeyOffsets(doc);
    if (collectionKeys.length > 0)
      return { ok: false, issues: collectionKeys.map((offset) => at(offset, COLLECTION_KEY)) };
    return {
      ok: true,
      yaml: { doc, lineCounter, data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) },
    };
  } catch (error) {
    // Nesting the parser got through may still be too deep to walk.
    if (error instanceof RangeError && isStackOverflow(error.message))
      return { ok: false, issues: [at(0, TOO_DEEP)] };
    // The yaml package throws a ReferenceError for an alias without an anchor before it, and for
    // aliases that expand beyond maxAliasCount.
    if (!(error instanceof ReferenceError)) throw error;
    return { ok: false, issues: [at(blamedAliasOffset(doc), `YAML aliases: ${error.message}`)] };
  }
}

const TOO_DEEP =
  "YAML nesting: mappings or lists nested too deeply to read (a config needs a few levels); reading stopped here";

function isStackOverflow(message: string): boolean {
  return message.includes("Maximum call stack size exceeded");
}

const COLLECTION_KEY =
  "a key must be a name, not a mapping or a list (a `? ` line, or `[a, b]:` or `{a: b}:` before a value)";

/**
 * Where the keys that are mappings or lists start. No config key is one, and the yaml package
 * would turn each into text with a warning on the process's stderr.
 */
function collectionKeyOffsets(doc: Document): number[] {
  const offsets: number[] = [];
  visit(doc, {
    Pair(_, pair) {
      const key = pair.key as Node | null;
      if ((isMap(key) || isSeq(key)) && key.range) offsets.push(key.range[0]);
    },
  });
  return offsets;
}

function syntaxMessage(error: YAMLError, doc: Document, lineCounter: LineCounter): string {
  // The yaml package's own text points at its API (parseAllDocuments), not at the file.
  if (error.code === "MULTIPLE_DOCS")
    return "the file must hold one YAML document, but a second one starts here";
  if (error.code === "DUPLICATE_KEY") {
    const first = firstOfDuplicateKey(doc, error.pos[0]);
    if (first)
      return `YAML syntax: the key ${JSON.stringify(first.key)} is written twice in one mapping (first at line ${lineCounter.linePos(first.offset).line}); keep one`;
  }
  return `YAML syntax: ${error.message}`;
}

/** The key written again at `offset`, and where the mapping holding it first has that key. */
function firstOfDuplicateKey(
  doc: Document,
  offset: number,
): { key: string; offset: number } | undefined {
  let found: { key: string; offset: number } | undefined;
  visit(doc, {
    Map(_, map) {
      const keys = map.items.map((pair) => pair.key as Node | null);
      const again = keys.find((key) => key?.range?.[0] === offset);
      if (!isScalar(again)) return undefined;
      const first = keys.find((key) => isScalar(key) && key.value === again.value);
      found = { key: String(again.value), offset: first?.range?.[0] ?? offset };
      return visit.BREAK;
    },
  });
  return found;
}

/**
 * The first merge key whose value is not a mapping, an alias of one, or a list of those; the
 * yaml package would throw a plain Error for it while converting.
 */
function badMergeSource(doc: Document): { offset: number; message: string } | undefined {
  let found: { offset: number; message: string } | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (!isMergeKey(pair.key)) return undefined;
      const value = pair.value as Node | null;
      // The value may be a list of sources, or an alias of such a list.
      const list = isAlias(value) ? value.resolve(doc) : value;
      const sources = isSeq(list) ? (list.items as (Node | null)[]) : [value];
      for (const source of sources) {
        const problem = mergeSourceProblem(doc, source);
        if (problem === undefined) continue;
        const offset = source?.range?.[0] ?? (pair.key as Node).range?.[0] ?? 0;
        found = { offset, message: problem };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function mergeSourceProblem(doc: Document, source: Node | null): string | undefined {
  if (isAlias(source)) {
    const target = source.resolve(doc);
    if (target === undefined)
      return `YAML aliases: Unresolved alias (the anchor must be set before the alias): ${source.source}`;
    if (isMap(target)) return undefined;
  } else if (isMap(source)) return undefined;
  return "a merge key (<<) takes a mapping, an alias of one such as *defaults, or a list of them";
}

/** Where the first unresolved alias starts, else the first alias (the expansion's start). */
function blamedAliasOffset(doc: Document): number {
  let first: number | undefined;
  let unresolved: number | undefined;
  visit(doc, {
    Alias(_, alias) {
      const offset = alias.range?.[0] ?? 0;
      first ??= offset;
      if (unresolved === undefined && alias.resolve(doc) === undefined) unresolved = offset;
    },
  });
  return unresolved ?? first ?? 0;
}
