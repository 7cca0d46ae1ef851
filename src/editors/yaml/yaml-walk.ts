import {
  type Alias,
  type Document,
  isAlias,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  type Scalar,
  visit,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import type { PathSegment } from "../path.ts";
import { scalarText } from "../verify.ts";

/** One node reached while following a PATH; `steps[0]` is the document root. */
export interface WalkStep {
  node: Node | null;
  /** The mapping pair whose value `node` is. */
  pair?: Pair;
  /** The merge pair (`<<: *anchor`) through which the key was found, if it was. */
  mergePair?: Pair;
}

/** Why a walk stopped before the end of the PATH; `at` is the index of the segment. */
export type WalkStop =
  | { reason: "alias"; at: number; alias: Alias }
  | { reason: "missing-key"; at: number; container: YAMLMap | Scalar | null }
  | { reason: "merged-key"; at: number; map: YAMLMap; mergePair: Pair; found: Pair }
  | { reason: "not-a-mapping"; at: number; node: Node }
  | { reason: "not-a-list"; at: number; node: Node | null }
  | { reason: "index-out-of-range"; at: number; seq: YAMLSeq }
  | { reason: "no-match"; at: number; seq: YAMLSeq; found: string[] }
  | { reason: "several-match"; at: number; items: Node[] };

export interface PathWalk {
  steps: WalkStep[];
  stop?: WalkStop;
}

/** Reading follows aliases and merge keys; editing stops at them so they can be refused. */
export interface WalkOptions {
  follow: boolean;
}

type StepResult = { step: WalkStep } | { stop: WalkStop };

/** Follows PATH through the nodes of DOCUMENT as far as it goes. */
export function walkPath(
  document: Document.Parsed,
  path: readonly PathSegment[],
  options: WalkOptions,
): PathWalk {
  const steps: WalkStep[] = [{ node: document.contents ?? null }];
  for (const [at, segment] of path.entries()) {
    let current = steps[at]?.node ?? null;
    if (isAlias(current)) {
      if (!options.follow) return { steps, stop: { reason: "alias", at, alias: current } };
      current = resolveAlias(document, current);
    }
    const result = stepInto(document, current, segment, at, options);
    if ("stop" in result) return { steps, stop: result.stop };
    steps.push(result.step);
  }
  return { steps };
}

function stepInto(
  document: Document.Parsed,
  current: Node | null,
  segment: PathSegment,
  at: number,
  options: WalkOptions,
): StepResult {
  if (segment.kind === "key") return stepIntoKey(document, current, segment.key, at, options);
  if (!isSeq(current)) return { stop: { reason: "not-a-list", at, node: current } };
  if (segment.kind === "index") {
    const item = current.items[segment.index];
    if (item === undefined) return { stop: { reason: "index-out-of-range", at, seq: current } };
    return { step: { node: item as Node | null } };
  }
  const texts = current.items.map((item) =>
    fieldText(document, item as Node | null, segment.field),
  );
  const matches = current.items.filter((_, i) => texts[i] === segment.value) as Node[];
  if (matches.length === 0) {
    const found = texts.filter((text): text is string => text !== undefined);
    return { stop: { reason: "no-match", at, seq: current, found } };
  }
  // Two items of one name: which is meant is not for the editor to guess (the first is no answer).
  if (matches.length > 1) return { stop: { reason: "several-match", at, items: matches } };
  return { step: { node: matches[0] as Node } };
}

function stepIntoKey(
  document: Document.Parsed,
  current: Node | null,
  key: string,
  at: number,
  options: WalkOptions,
): StepResult {
  if (isMap(current)) {
    const own = findOwnPair(current, key);
    if (own) return { step: { node: own.value as Node | null, pair: own } };
    const merged = findMergedPair(document, current, key, new Set());
    if (merged && options.follow)
      return {
        step: { node: merged.pair.value as Node | null, pair: merged.pair, mergePair: merged.via },
      };
    if (merged)
      return {
        stop: { reason: "merged-key", at, map: current, mergePair: merged.via, found: merged.pair },
      };
    return { stop: { reason: "missing-key", at, container: current } };
  }
  if (current === null || isNullScalar(current))
    return { stop: { reason: "missing-key", at, container: current } };
  return { stop: { reason: "not-a-mapping", at, node: current } };
}

/** A scalar that reads as null (`~`, `null`, or nothing at all) and carries no explicit tag. */
export function isNullScalar(node: unknown): node is Scalar {
  return (
    isScalar(node) && node.value === null && (node.tag === undefined || node.tag.endsWith(":null"))
  );
}

/** The text a `[field=value]` selector compares for ITEM, or undefined when it has none. */
function fieldText(
  document: Document.Parsed,
  item: Node | null,
  field: string,
): string | undefined {
  const map = isAlias(item) ? resolveAlias(document, item) : item;
  if (!isMap(map)) return undefined;
  const pair = findOwnPair(map, field) ?? findMergedPair(document, map, field, new Set())?.pair;
  const value = isAlias(pair?.value) ? resolveAlias(document, pair.value) : pair?.value;
  return isScalar(value) ? scalarText(value.value) : undefined;
}

/** The key of PAIR as a PATH segment names it (`1` and `"1"` both read as "1"). */
export function keyText(pair: Pair): string | undefined {
  if (!isScalar(pair.key) || isMergePair(pair)) return undefined;
  const value = pair.key.value;
  if (value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  return undefined;
}

/** True for a `<<` merge pair (a plain `<<` key; a quoted "<<" is an ordinary key). */
export function isMergePair(pair: Pair): boolean {
  return isScalar(pair.key) && typeof pair.key.value === "symbol";
}

/** The pair of MAP whose key reads as KEY, not counting merged mappings. */
export function findOwnPair(map: YAMLMap, key: string): Pair | undefined {
  return (map.items as Pair[]).find((pair) => keyText(pair) === key);
}

/** Finds KEY among the mappings merged into MAP, earlier merge sources first. */
export function findMergedPair(
  document: Document.Parsed,
  map: YAMLMap,
  key: string,
  seen: Set<YAMLMap>,
): { pair: Pair; via: Pair } | undefined {
  seen.add(map);
  for (const via of (map.items as Pair[]).filter(isMergePair)) {
    for (const source of mergeSources(document, via)) {
      if (seen.has(source)) continue;
      const pair = findOwnPair(source, key) ?? findMergedPair(document, source, key, seen)?.pair;
      if (pair) return { pair, via };
    }
  }
  return undefined;
}

/** The mappings a merge pair brings in: one alias, a list of aliases, or an inline mapping. */
export function mergeSources(document: Document.Parsed, mergePair: Pair): YAMLMap[] {
  const value = mergePair.value;
  const items = isSeq(value) ? (value.items as unknown[]) : [value];
  return items
    .map((item) => (isAlias(item) ? resolveAlias(document, item) : item))
    .filter((item): item is YAMLMap => isMap(item));
}

/** All keys of MAP, its own first, then those brought in by merge keys. */
export function mappingKeys(
  document: Document.Parsed,
  map: YAMLMap,
  seen: Set<YAMLMap> = new Set(),
): string[] {
  seen.add(map);
  const keys = new Set<string>();
  for (const pair of map.items as Pair[]) {
    const key = keyText(pair);
    if (key !== undefined) keys.add(key);
  }
  for (const via of (map.items as Pair[]).filter(isMergePair))
    for (const source of mergeSources(document, via)) {
      if (!seen.has(source)) for (const key of mappingKeys(document, source, seen)) keys.add(key);
    }
  return [...keys];
}

/** The node an alias refers to (the last anchor of that name before it). */
export function resolveAlias(document: Document.Parsed, alias: Alias): Node | null {
  return (alias.resolve(document) as Node | undefined) ?? null;
}

/** For each anchored node of DOCUMENT, the aliases (and merge keys) that use it. */
export function aliasUses(document: Document.Parsed): Map<Node, Alias[]> {
  const uses = new Map<Node, Alias[]>();
  visit(document, {
    Alias(_key, alias) {
      const target = resolveAlias(document, alias);
      if (target) uses.set(target, [...(uses.get(target) ?? []), alias]);
    },
  });
  return uses;
}

/** True for a `{…}` or `[…]` collection. */
export function isFlowCollection(node: Node | null | undefined): boolean {
  return isCollection(node) && node.flow === true;
}
