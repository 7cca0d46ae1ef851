import { isScalar, parseDocument, Scalar } from "yaml";
import type { ScalarValue } from "../value.ts";

/** Where a scalar is written: inside a flow collection plain scalars cannot hold `,[]{}`. */
export interface ScalarSite {
  inFlow: boolean;
  lineEnding: string;
  /** Indentation for the lines of a block scalar with no content line to copy it from. */
  blockIndent: string;
}

// Characters YAML cannot hold literally (or that YAML 1.1 treats as line breaks).
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the ones to escape
const UNPRINTABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;
const NEEDS_ESCAPE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the ones to escape
  /[\\"\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Half of a surrogate pair with no other half: it cannot be written as UTF-8 at all.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const NAMED_ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  '"': '\\"',
  "\0": "\\0",
  "\t": "\\t",
  "\n": "\\n",
  "\r": "\\r",
};

/**
 * Texts that could replace a scalar written in STYLE so that it reads as VALUE, best first:
 * the original quote style when it can carry the value's type, then a fallback. Every
 * candidate is still verified by re-parsing the whole file.
 */
export function scalarCandidates(
  style: Scalar.Type | undefined,
  value: ScalarValue,
  site: ScalarSite,
  originalSource = "",
): string[] {
  const endsWithBreak = /\r?\n$/.test(originalSource);
  const inline = (texts: string[]) =>
    isBlockStyle(style) && endsWithBreak ? texts.map((text) => text + site.lineEnding) : texts;
  if (typeof value !== "string") return inline(plainTexts(value, site.inFlow));
  const candidates: (string | undefined)[] = [];
  if (isBlockStyle(style)) candidates.push(blockScalarText(originalSource, value, site));
  if (style === Scalar.QUOTE_SINGLE) candidates.push(...inline([singleQuoted(value) ?? ""]));
  if (style === Scalar.PLAIN || style === undefined)
    candidates.push(...inline(plainTexts(value, site.inFlow)));
  candidates.push(...inline([doubleQuoted(value)]));
  return [...new Set(candidates.filter((text): text is string => !!text))];
}

/** Plain texts for VALUE that read as exactly VALUE under both YAML 1.2 core and YAML 1.1. */
export function plainTexts(value: ScalarValue, inFlow: boolean): string[] {
  const texts =
    typeof value === "boolean"
      ? [String(value)]
      : typeof value === "number"
        ? numberTexts(value)
        : [value];
  return texts.filter((text) => readsAsPlain(text, value, inFlow));
}

function numberTexts(value: number): string[] {
  if (!Number.isFinite(value)) return [];
  const text = String(value);
  // YAML 1.1 floats need a dot before the exponent.
  return /e/.test(text) && !text.includes(".") ? [text, text.replace("e", ".0e")] : [text];
}

function readsAsPlain(text: string, value: ScalarValue, inFlow: boolean): boolean {
  if (text === "" || text !== text.trim() || /[\r\n]/.test(text)) return false;
  if (UNPRINTABLE.test(text) || LONE_SURROGATE.test(text)) return false;
  if (inFlow && /[,[\]{}]/.test(text)) return false;
  return readsAs(text, value, "1.2") && readsAs(text, value, "1.1");
}

function readsAs(text: string, value: ScalarValue, version: "1.1" | "1.2"): boolean {
  const document = parseDocument(text, { version, merge: false });
  if (document.errors.length > 0 || document.warnings.length > 0) return false;
  const node = document.contents;
  return isScalar(node) && node.type === Scalar.PLAIN && node.value === value;
}

/** VALUE as a double-quoted scalar on one line. */
export function doubleQuoted(value: string): string {
  const escaped = value.replace(NEEDS_ESCAPE, (char) => {
    const named = NAMED_ESCAPES[char];
    if (named) return named;
    const code = char.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
  return `"${escaped}"`;
}

/** VALUE as a single-quoted scalar, or undefined when it needs escapes single quotes lack. */
export function singleQuoted(value: string): string | undefined {
  if (/[\r\n]/.test(value) || UNPRINTABLE.test(value) || LONE_SURROGATE.test(value))
    return undefined;
  return `'${value.replaceAll("'", "''")}'`;
}

function isBlockStyle(style: Scalar.Type | undefined): boolean {
  return style === Scalar.BLOCK_LITERAL || style === Scalar.BLOCK_FOLDED;
}

const BLOCK_HEADER = /^([|>])[-+0-9]*([^\r\n]*)(\r?\n|$)/;

/**
 * VALUE as a block scalar that replaces ORIGINAL (the old block scalar's text, header to last
 * content line), keeping its header comment and content indentation. Folded style is kept
 * only for one-line values (folding would turn inner line breaks into spaces).
 */
export function blockScalarText(
  original: string,
  value: string,
  site: ScalarSite,
): string | undefined {
  const header = BLOCK_HEADER.exec(original);
  if (!header || UNPRINTABLE.test(value) || LONE_SURROGATE.test(value) || /[\r\t]/.test(value))
    return undefined;
  const trailing = /\n*$/.exec(value)?.[0].length ?? 0;
  const content = value.slice(0, value.length - trailing);
  if (content === "" || content.startsWith(" ") || content.startsWith("\n")) return undefined;
  const lines = content.split("\n");
  const indicator = header[1] === ">" && lines.length === 1 ? ">" : "|";
  const chomping = trailing === 0 ? "-" : trailing === 1 ? "" : "+";
  const indent = contentIndent(original) ?? site.blockIndent;
  const eol = site.lineEnding;
  const body = lines.map((line) => (line === "" ? "" : indent + line)).join(eol);
  // One line break ends the last content line; keep chomping adds one per trailing newline.
  const breaks = Math.max(trailing, 1) - (/\r?\n$/.test(original) ? 0 : 1);
  return `${indicator}${chomping}${header[2] ?? ""}${eol}${body}${eol.repeat(breaks)}`;
}

function contentIndent(original: string): string | undefined {
  const lines = original.split(/\r?\n/).slice(1);
  const first = lines.find((line) => line.trim() !== "");
  return first === undefined ? undefined : (/^ */.exec(first)?.[0] ?? undefined);
}
