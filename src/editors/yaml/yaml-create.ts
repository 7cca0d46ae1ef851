import { isMap, isPair, isSeq, type Node, type Pair, type Scalar, type YAMLMap } from "yaml";
import { formatPath } from "../path.ts";
import type { EditContext, EditPlan } from "./yaml-edit-context.ts";
import { columnAt, type YamlFile } from "./yaml-file.ts";
import { nodeStart, refusal } from "./yaml-messages.ts";
import { doubleQuoted, plainTexts, type ScalarSite, scalarCandidates } from "./yaml-scalar-text.ts";
import { addLinesAfter, fillEmpty, type Splice, spacesBefore } from "./yaml-splice.ts";
import { isFlowCollection, type WalkStep } from "./yaml-walk.ts";

/**
 * Splices that create the missing keys of PATH from segment AT on inside CONTAINER (a
 * mapping, an empty `{}`, a null value, or an empty document). Block mappings get new lines
 * at their keys' column; flow mappings get `, key: value`.
 */
export function planCreate(
  context: EditContext,
  steps: readonly WalkStep[],
  container: YAMLMap | Scalar | null,
  at: number,
): EditPlan {
  const step = steps[at] ?? { node: null };
  const parent = steps[at - 1]?.node ?? null;
  const offset = nodeStart(container) ?? nodeStart(step.pair?.key);
  const keys = keysToCreate(context, at, offset);
  if (isMap(container) && container.items.length > 0) {
    const candidates = container.flow
      ? addToFlowMapping(context, container, keys)
      : addToBlockMapping(context, container, keys);
    return { candidates, at: offset };
  }
  if (at > 0 && isFlowCollection(parent))
    return { candidates: replaceWithFlowMapping(context, container, parent, keys), at: offset };
  return { candidates: replaceWithBlockMapping(context, step, container, at, keys), at: offset };
}

function keysToCreate(context: EditContext, at: number, offset: number | undefined): string[] {
  const rest = context.path.slice(at);
  const listStep = rest.findIndex((segment) => segment.kind !== "key");
  if (listStep >= 0) {
    const missing = formatPath(context.path.slice(0, at + listStep + 1));
    throw refusal(
      context.file,
      offset,
      `cannot edit ${formatPath(context.path)}: ${formatPath(context.path.slice(0, at + 1))} does not exist, and ${missing} would be a list item; missing list items are never created`,
    );
  }
  return rest.map((segment) => (segment.kind === "key" ? segment.key : ""));
}

/** New `key:` lines after the last entry of a block mapping, at its keys' column. */
function addToBlockMapping(context: EditContext, map: YAMLMap, keys: string[]): Splice[][] {
  const pairs = map.items as Pair[];
  const column = columnAt(context.file, nodeStart(pairs[0]?.key) ?? 0);
  const end = entryEnd(pairs[pairs.length - 1]);
  return leafTexts(context, false).map((leaf) => [
    addLinesAfter(
      context.file.text,
      end,
      blockLines(context, column, keys, leaf),
      context.style.lineEnding,
    ),
  ]);
}

/** `, key: value` after the last entry of a non-empty flow mapping. */
function addToFlowMapping(context: EditContext, map: YAMLMap, keys: string[]): Splice[][] {
  const end = entryEnd((map.items as Pair[])[map.items.length - 1]);
  const spaced = isSpaced(context.file.text, nodeStart(map) ?? 0);
  return leafTexts(context, true).map((leaf) => [
    { start: end, end, text: `, ${flowEntry(keys, leaf, spaced)}` },
  ]);
}

/** An empty `{}` or null inside a flow collection becomes `{ key: value }`. */
function replaceWithFlowMapping(
  context: EditContext,
  container: YAMLMap | Scalar | null,
  parent: Node | null,
  keys: string[],
): Splice[][] {
  const [start, end] = container?.range ?? [0, 0];
  const spaced = isSpaced(context.file.text, nodeStart(parent) ?? 0);
  return leafTexts(context, true).map((leaf) => {
    const mapping = wrapFlow(flowEntry(keys, leaf, spaced), spaced);
    return [
      start === end ? fillEmpty(context.file.text, start, mapping) : { start, end, text: mapping },
    ];
  });
}

/**
 * An empty `{}`, a null value or an empty document becomes a block mapping: the `{}` or
 * `~` goes and the new lines follow, indented one step under their key.
 */
function replaceWithBlockMapping(
  context: EditContext,
  step: WalkStep,
  container: YAMLMap | Scalar | null,
  at: number,
  keys: string[],
): Splice[][] {
  const { file } = context;
  if (container === null && at === 0) return addToEmptyDocument(context, keys);
  if (container === null)
    throw refusal(
      file,
      nodeStart(step.pair?.key),
      `cannot edit ${formatPath(context.path)}: ${formatPath(context.path.slice(0, at))} is a key with no value at all; give it a value by hand first`,
    );
  const [start, end] = container.range ?? [0, 0];
  const eol = context.style.lineEnding;
  if (at === 0)
    return leafTexts(context, false).map((leaf) => [
      { start, end, text: blockLines(context, 0, keys, leaf).join(eol) },
    ]);
  const column = step.pair
    ? columnAt(file, nodeStart(step.pair.key) ?? 0) + context.style.indent
    : itemColumn(file.text, start, file);
  const removal: Splice[] =
    start < end ? [{ start: spacesBefore(file.text, start), end, text: "" }] : [];
  return leafTexts(context, false).map((leaf) => [
    ...removal,
    addLinesAfter(file.text, end, blockLines(context, column, keys, leaf), eol),
  ]);
}

function addToEmptyDocument(context: EditContext, keys: string[]): Splice[][] {
  const { file } = context;
  if (file.documents.length !== 1)
    throw refusal(
      file,
      undefined,
      `cannot edit ${formatPath(context.path)}: document ${context.index} is empty; add its first key by hand`,
    );
  return leafTexts(context, false).map((leaf) => [
    addLinesAfter(
      file.text,
      file.text.length,
      blockLines(context, 0, keys, leaf),
      context.style.lineEnding,
    ),
  ]);
}

function blockLines(context: EditContext, column: number, keys: string[], leaf: string): string[] {
  return keys.map((key, i) => {
    const indent = " ".repeat(column + i * context.style.indent);
    const last = i === keys.length - 1;
    return `${indent}${keyOutput(key, false)}:${last ? ` ${leaf}` : ""}`;
  });
}

function flowEntry(keys: string[], leaf: string, spaced: boolean): string {
  let entry = `${keyOutput(keys[keys.length - 1] ?? "", true)}: ${leaf}`;
  for (const key of keys.slice(0, -1).reverse())
    entry = `${keyOutput(key, true)}: ${wrapFlow(entry, spaced)}`;
  return entry;
}

function wrapFlow(entry: string, spaced: boolean): string {
  return spaced ? `{ ${entry} }` : `{${entry}}`;
}

/** A key as written: plain when it reads back as the same string everywhere, else quoted. */
function keyOutput(key: string, inFlow: boolean): string {
  const plain = key === "<<" ? undefined : plainTexts(key, inFlow)[0];
  return plain ?? doubleQuoted(key);
}

/** Texts for the new value, plain when it reads back as VALUE, else double-quoted. */
function leafTexts(context: EditContext, inFlow: boolean): string[] {
  const site: ScalarSite = { inFlow, lineEnding: context.style.lineEnding, blockIndent: "" };
  return scalarCandidates(undefined, context.value, site);
}

/**
 * Where the content of PAIR ends. Block collections are followed down to their last item:
 * their own range (and that of an empty last value) can run on over the comments and the
 * indentation that come after.
 */
function entryEnd(pair: Pair | undefined): number {
  return contentEnd((pair?.value ?? pair?.key) as Node | null | undefined);
}

function contentEnd(node: Node | null | undefined): number {
  if ((isMap(node) || isSeq(node)) && !node.flow && node.items.length > 0) {
    const last = node.items[node.items.length - 1];
    return isPair(last) ? entryEnd(last) : contentEnd(last as Node | null);
  }
  return node?.range?.[1] ?? 0;
}

function isSpaced(text: string, start: number): boolean {
  return /[ \t\r\n]/.test(text[start + 1] ?? "");
}

/** Column for the keys of a mapping that replaces a list item: two past its `-`. */
function itemColumn(text: string, start: number, file: YamlFile): number {
  const dash = spacesBefore(text, start) - 1;
  return text[dash] === "-" ? columnAt(file, dash) + 2 : columnAt(file, start);
}
