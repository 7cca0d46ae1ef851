import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type YAMLMap,
} from "yaml";

/** A 1-based line and column in the YAML text. */
export interface YamlPosition {
  line: number;
  column: number;
}

/**
 * Where the value at `path` is written. With `key`, the position of the key that holds it
 * instead (for unknown keys). When the path does not exist (a missing key), the position of the
 * deepest mapping or list on the way, so the error still points at the right block.
 */
export function locateInYaml(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
  options: { key?: boolean } = {},
): YamlPosition {
  let node = resolve(doc, doc.contents);
  let keyNode: Node | undefined;
  for (const segment of path) {
    const child = childOf(doc, node, segment);
    if (!child) break;
    node = child.value ?? child.key ?? node;
    keyNode = child.key;
  }
  const at = options.key && keyNode ? keyNode : (node ?? keyNode);
  const offset = at?.range?.[0] ?? 0;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function childOf(
  doc: Document,
  node: Node | undefined,
  segment: PropertyKey,
): { key?: Node; value?: Node } | undefined {
  if (isMap(node)) return entryOf(doc, node, String(segment), new Set());
  if (isSeq(node) && typeof segment === "number") {
    const item = resolve(doc, node.items[segment] as Node | null | undefined);
    return item ? { value: item } : undefined;
  }
  return undefined;
}

/**
 * The key and value of `name` in a mapping. A key merged in (`<<: *defaults`) is found where its
 * source writes it: the mapping's own keys first, then each source in order, as merging decides
 * which value wins.
 */
function entryOf(
  doc: Document,
  map: YAMLMap,
  name: string,
  seen: Set<Node>,
): { key?: Node; value?: Node } | undefined {
  // An anchor merged into itself would otherwise lead the search in circles.
  if (seen.has(map)) return undefined;
  seen.add(map);
  const merged: Node[] = [];
  for (const pair of map.items) {
    if (!isPair(pair)) continue;
    const key = pair.key as Node | null;
    if (isMergeKey(key)) {
      merged.push(...mergeSources(doc, pair.value as Node | null));
      continue;
    }
    if (!isScalar(key) || String(key.value) !== name) continue;
    return { key: key ?? undefined, value: resolve(doc, pair.value as Node | null) ?? undefined };
  }
  for (const source of merged) {
    const found = isMap(source) ? entryOf(doc, source, name, seen) : undefined;
    if (found) return found;
  }
  return undefined;
}

/** The mappings a merge key's value names: one, or a list of them, directly or through aliases. */
function mergeSources(doc: Document, value: Node | null): Node[] {
  const resolved = resolve(doc, value);
  const items = isSeq(resolved) ? (resolved.items as (Node | null)[]) : [resolved ?? null];
  return items.flatMap((item) => resolve(doc, item) ?? []);
}

/**
 * Whether a mapping key is the merge key `<<`. A document parsed with merging on holds it as a
 * symbol; one parsed without holds the plain text, yet its data may have come from a merging
 * parse of the same text, so both count.
 */
export function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  const { value } = key;
  if (typeof value === "symbol") return value.description === "<<";
  return value === "<<" && key.type === "PLAIN";
}

function resolve(doc: Document, node: Node | null | undefined): Node | undefined {
  if (node === null || node === undefined) return undefined;
  if (isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? node;
  return node;
}
