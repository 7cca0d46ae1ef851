import { type Document, isAlias, isMap, isScalar, isSeq, type Node } from "yaml";
import { InputError } from "../../errors.ts";
import { formatPath, type PathSegment } from "../path.ts";
import { lineAt, locationAt, type YamlFile } from "./yaml-file.ts";
import { mappingKeys, resolveAlias, type WalkStop } from "./yaml-walk.ts";

/** An InputError located at OFFSET of FILE (or at the file alone when OFFSET is unknown). */
export function refusal(file: YamlFile, offset: number | undefined, message: string): InputError {
  const location =
    offset === undefined ? { file: file.file } : locationAt(file.lineStarts, offset, file.file);
  return new InputError(message, location);
}

/** Offset where NODE starts in the file, when it has a position. */
export function nodeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}

/** "the mapping", "the list", "the value "100m"", for messages. */
export function describeNode(node: Node | null): string {
  if (node === null) return "empty";
  if (isMap(node)) return node.flow ? "a flow mapping" : "a mapping";
  if (isSeq(node)) return node.flow ? "a flow list" : "a list";
  if (isAlias(node)) return `an alias (*${node.source})`;
  if (isScalar(node)) return `the value ${JSON.stringify(node.value)}`;
  return "a node";
}

/** What to call the part of PATH before segment AT. */
export function prefixName(path: readonly PathSegment[], at: number): string {
  return at === 0 ? "the document root" : formatPath(path.slice(0, at));
}

/**
 * Explains why PATH cannot be followed past segment STOP.at, for reading (`does not exist`)
 * or editing (`cannot be created`). Missing list items are never created.
 */
export function stopRefusal(
  file: YamlFile,
  document: Document.Parsed,
  path: readonly PathSegment[],
  stop: WalkStop,
  mode: "read" | "edit",
): InputError {
  const whole = formatPath(path);
  const head = mode === "read" ? `${whole} does not exist` : `cannot edit ${whole}`;
  const before = prefixName(path, stop.at);
  const segment = formatPath(path.slice(stop.at, stop.at + 1));
  switch (stop.reason) {
    case "alias": {
      const target = resolveAlias(document, stop.alias);
      const anchorLine = target ? ` anchored at line ${lineAt(file, nodeStart(target) ?? 0)}` : "";
      return refusal(
        file,
        nodeStart(stop.alias),
        `${head}: ${before} is an alias (*${stop.alias.source}) of the value${anchorLine}; editing through it would change the anchor and every place that uses it. Edit the anchor by hand, or write the value out in full here`,
      );
    }
    case "missing-key": {
      const keys = isMap(stop.container) ? mappingKeys(document, stop.container) : [];
      const known = keys.length > 0 ? `; its keys are: ${keys.join(", ")}` : "";
      return refusal(
        file,
        nodeStart(stop.container),
        `${head}: ${before} has no key ${segment}${known}`,
      );
    }
    case "merged-key":
      return refusal(
        file,
        nodeStart(stop.mergePair.key),
        `${head}: ${formatPath(path.slice(0, stop.at + 1))} comes from the merge key (<<) at line ${lineAt(file, nodeStart(stop.mergePair.key) ?? 0)}, so the values inside it belong to the anchor that other places share. Write that mapping out beside the merge key by hand, or edit the anchor itself`,
      );
    case "not-a-mapping":
      return refusal(
        file,
        nodeStart(stop.node),
        `${head}: ${before} is ${describeNode(stop.node)}, not a mapping, so it cannot hold ${segment}`,
      );
    case "not-a-list":
      return refusal(
        file,
        nodeStart(stop.node),
        `${head}: ${before} is ${describeNode(stop.node)}, not a list, so ${segment} does not apply; missing list items are never created`,
      );
    case "index-out-of-range":
      return refusal(
        file,
        nodeStart(stop.seq),
        `${head}: ${before} has ${stop.seq.items.length} item${stop.seq.items.length === 1 ? "" : "s"}, so ${segment} does not exist; missing list items are never created`,
      );
    case "no-match": {
      const segmentAt = path[stop.at];
      const field = segmentAt?.kind === "match" ? segmentAt.field : "field";
      const found = stop.found.length > 0 ? stop.found.join(", ") : "none";
      return refusal(
        file,
        nodeStart(stop.seq),
        `${head}: no item of ${before} matches ${segment} (${field} values there: ${found}); missing list items are never created`,
      );
    }
    case "several-match": {
      const lines = stop.items.map((item) => lineAt(file, nodeStart(item) ?? 0)).join(", ");
      return refusal(
        file,
        nodeStart(stop.items[1] ?? null),
        `cannot ${mode} ${whole}: ${stop.items.length} items of ${before} match ${segment} (lines ${lines}); pick one with [N]`,
      );
    }
  }
}
