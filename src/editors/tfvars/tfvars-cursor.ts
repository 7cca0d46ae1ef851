import { InputError, type SourceLocation } from "../../errors.ts";

/**
 * The reading position in a tfvars file. HCL gives line breaks meaning in the body and inside
 * object constructors (they end an item) but ignores them inside brackets, parentheses and
 * interpolations; `newlineModes` is that stack, innermost last.
 */
export interface Cursor {
  readonly text: string;
  readonly file: string;
  pos: number;
  readonly newlineModes: boolean[];
  /** How many expressions enclose the one being read. */
  depth: number;
}

export function createCursor(text: string, file: string): Cursor {
  // A UTF-8 byte order mark is not part of the HCL text (HashiCorp's parser skips it too).
  return { text, file, pos: text.startsWith("\uFEFF") ? 1 : 0, newlineModes: [true], depth: 0 };
}

/** Far deeper than any real tfvars file, and well within the JavaScript call stack. */
const MAX_DEPTH = 200;

/** Runs `read` one nesting level deeper, refusing absurdly deep input instead of overflowing. */
export function nested<T>(c: Cursor, read: () => T): T {
  if (c.depth >= MAX_DEPTH) {
    throw syntaxError(c, c.pos, `values are nested more than ${MAX_DEPTH} levels deep here`);
  }
  c.depth++;
  try {
    return read();
  } finally {
    c.depth--;
  }
}

export function newlinesMatter(c: Cursor): boolean {
  return c.newlineModes.at(-1) ?? true;
}

/** Runs `read` with line breaks significant (`true`) or ignored (`false`). */
export function withNewlines<T>(c: Cursor, significant: boolean, read: () => T): T {
  c.newlineModes.push(significant);
  try {
    return read();
  } finally {
    c.newlineModes.pop();
  }
}

export function atLineBreak(c: Cursor): boolean {
  const ch = c.text[c.pos];
  return ch === "\n" || (ch === "\r" && c.text[c.pos + 1] === "\n");
}

export function consumeLineBreak(c: Cursor): void {
  c.pos += c.text[c.pos] === "\r" ? 2 : 1;
}

/**
 * Skips spaces, tabs and comments, and line breaks too when `crossLines` (by default: when
 * line breaks do not matter here). A multi-line block comment does not count as a line break,
 * as in HCL.
 */
export function skipTrivia(c: Cursor, crossLines = !newlinesMatter(c)): void {
  const { text } = c;
  while (c.pos < text.length) {
    const ch = text[c.pos];
    const next = text[c.pos + 1];
    if (ch === " " || ch === "\t") c.pos++;
    else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && next !== "\n") {
        throw syntaxError(c, c.pos, "a carriage return (CR) that is not part of a CRLF line break");
      }
      if (!crossLines) return;
      consumeLineBreak(c);
    } else if (ch === "#" || (ch === "/" && next === "/")) skipLineComment(c);
    else if (ch === "/" && next === "*") skipBlockComment(c);
    else return;
  }
}

function skipLineComment(c: Cursor): void {
  while (c.pos < c.text.length && !atLineBreak(c)) c.pos++;
}

function skipBlockComment(c: Cursor): void {
  const close = c.text.indexOf("*/", c.pos + 2);
  if (close < 0) throw syntaxError(c, c.pos, "this /* comment is never closed with */");
  c.pos = close + 2;
}

const IDENTIFIER = /[\p{ID_Start}_][\p{ID_Continue}-]*/uy;

/** Reads an HCL identifier (letters, digits, `_` and `-`, not starting with a digit or `-`). */
export function readIdentifier(c: Cursor): string | undefined {
  IDENTIFIER.lastIndex = c.pos;
  const match = IDENTIFIER.exec(c.text);
  if (!match) return undefined;
  c.pos += match[0].length;
  return match[0];
}

export function peekIdentifier(c: Cursor): string | undefined {
  const start = c.pos;
  const name = readIdentifier(c);
  c.pos = start;
  return name;
}

export function expectChar(c: Cursor, char: string, context: string): void {
  if (c.text[c.pos] !== char) {
    throw syntaxError(c, c.pos, `expected '${char}' ${context} but found ${describeAt(c, c.pos)}`);
  }
  c.pos++;
}

/** Names what is at `offset` for an error message. */
export function describeAt(c: Cursor, offset: number): string {
  if (offset >= c.text.length) return "the end of the file";
  if (c.text[offset] === "\n" || c.text.startsWith("\r\n", offset)) return "a line break";
  const codePoint = c.text.codePointAt(offset) ?? 0;
  const char = String.fromCodePoint(codePoint);
  return codePoint < 0x20 ? `the control character U+${hex(codePoint)}` : `'${char}'`;
}

function hex(codePoint: number): string {
  return codePoint.toString(16).toUpperCase().padStart(4, "0");
}

/** 1-based line and column (in UTF-16 units) of an offset. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  // A byte order mark is invisible in editors, so it does not count as a column.
  if (line === 1 && text.startsWith("\uFEFF") && offset > 0) lineStart = 1;
  return { line, column: offset - lineStart + 1 };
}

export function locationOf(text: string, file: string, offset: number): SourceLocation {
  return { file, ...positionOf(text, offset) };
}

/** An error for text that is not valid HCL, located at `offset`. */
export function syntaxError(c: Cursor, offset: number, reason: string): InputError {
  return new InputError(`not valid HCL: ${reason}`, locationOf(c.text, c.file, offset));
}

export function lineOf(c: Cursor, offset: number): number {
  return positionOf(c.text, offset).line;
}
