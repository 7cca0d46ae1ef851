import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
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
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = pair.key as Node | null;
      const name = isScalar(key) ? String(key.value) : undefined;
      if (name !== String(segment)) continue;
      return { key: key ?? undefined, value: resolve(doc, pair.value as Node | null) ?? undefined };
    }
    return undefined;
  }
  if (isSeq(node) && typeof segment === "number") {
    const item = resolve(doc, node.items[segment] as Node | null | undefined);
    return item ? { value: item } : undefined;
  }
  return undefined;
}

function resolve(doc: Document, node: Node | null | undefined): Node | undefined {
  if (node === null || node === undefined) return undefined;
  if (isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? node;
  return node;
}
