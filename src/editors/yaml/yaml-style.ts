import { isMap, isSeq, type Node, type Pair, visit, type YAMLMap, type YAMLSeq } from "yaml";
import { columnAt, lineEndingOf, type YamlFile } from "./yaml-file.ts";

/** How a file lays out its block collections, so that added lines look like their neighbours. */
export interface YamlStyle {
  /** Columns a nested block mapping is indented under its key. */
  indent: number;
  /** Whether block sequences under a key are indented (`key:\n  - a`) or not (`key:\n- a`). */
  sequenceIndented: boolean;
  lineEnding: "\n" | "\r\n";
}

const DEFAULT_INDENT = 2;

/** Detects the indentation step and sequence style FILE uses most often. */
export function detectYamlStyle(file: YamlFile): YamlStyle {
  const steps = new Map<number, number>();
  let indented = 0;
  let flush = 0;
  for (const document of file.documents) {
    visit(document, {
      Pair(_key, pair) {
        const keyStart = nodeStart(pair.key);
        const value = pair.value as Node | null;
        if (keyStart === undefined || !isBlock(value)) return;
        const valueStart = firstItemStart(file.text, value);
        if (valueStart === undefined) return;
        const step = columnAt(file, valueStart) - columnAt(file, keyStart);
        if (isMap(value) && step > 0) steps.set(step, (steps.get(step) ?? 0) + 1);
        if (isSeq(value) && step > 0) indented++;
        if (isSeq(value) && step === 0) flush++;
      },
    });
  }
  return {
    indent: mostCommon(steps) ?? DEFAULT_INDENT,
    sequenceIndented: indented >= flush,
    lineEnding: lineEndingOf(file.text),
  };
}

function isBlock(node: Node | null): node is YAMLMap | YAMLSeq {
  return (isMap(node) || isSeq(node)) && !node.flow && node.items.length > 0;
}

/** Offset of the first key of a block mapping, or of the first `-` of a block sequence. */
function firstItemStart(text: string, node: Node): number | undefined {
  if (isMap(node)) return nodeStart((node.items[0] as Pair | undefined)?.key);
  const itemStart = nodeStart(isSeq(node) ? node.items[0] : undefined);
  if (itemStart === undefined) return undefined;
  let i = itemStart - 1;
  while (i >= 0 && (text[i] === " " || text[i] === "\t")) i--;
  return text[i] === "-" ? i : undefined;
}

function nodeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}

function mostCommon(counts: Map<number, number>): number | undefined {
  let best: number | undefined;
  let bestCount = 0;
  for (const [value, count] of [...counts].sort((a, b) => a[0] - b[0])) {
    if (count > bestCount) {
      best = value;
      bestCount = count;
    }
  }
  return best;
}
