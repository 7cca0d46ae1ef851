import {
  atLineBreak,
  type Cursor,
  consumeLineBreak,
  describeAt,
  lineOf,
  readIdentifier,
  skipTrivia,
  syntaxError,
  withNewlines,
} from "./tfvars-cursor.ts";
import type { TfvarsNode } from "./tfvars-syntax.ts";

/** Reads one expression at the cursor; passed in so templates can hold any expression. */
export type ExpressionReader = (c: Cursor) => TfvarsNode;

/** The directives of one template still waiting for their `%{ endif }` / `%{ endfor }`. */
type OpenDirectives = Array<{ keyword: "if" | "else" | "for"; at: number }>;

const QUOTED_SPECIAL = /["\\\n\r$%]/g;

/**
 * Reads a double-quoted string at the cursor. Returns its decoded text, or `undefined` when it
 * holds an interpolation or a directive (then it is a template, not a literal). HCL reads
 * strings in Unicode NFC form, so the decoded text is normalized the same way.
 */
export function readQuoted(c: Cursor, readExpression: ExpressionReader): string | undefined {
  const start = c.pos;
  const open: OpenDirectives = [];
  let value = "";
  let template = false;
  c.pos++;
  for (;;) {
    QUOTED_SPECIAL.lastIndex = c.pos;
    const special = QUOTED_SPECIAL.exec(c.text);
    const at = special ? special.index : c.text.length;
    value += c.text.slice(c.pos, at);
    c.pos = at;
    const ch = c.text[at];
    if (ch === undefined || ch === "\n" || ch === "\r") throw unclosedString(c, start);
    if (ch === '"') break;
    if (ch === "\\") value += readEscape(c);
    else if (c.text.startsWith("$${", at) || c.text.startsWith("%%{", at)) {
      value += `${ch}{`;
      c.pos += 3;
    } else if (readTemplateSequence(c, open, readExpression)) template = true;
    else {
      value += ch;
      c.pos++;
    }
  }
  c.pos++;
  requireClosedDirectives(c, open);
  return template ? undefined : value.normalize("NFC");
}

function unclosedString(c: Cursor, start: number) {
  return syntaxError(
    c,
    start,
    "this string is not closed on its line (a quoted string cannot span lines; use a heredoc such as <<EOT for multi-line text)",
  );
}

const SIMPLE_ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };

function readEscape(c: Cursor): string {
  const letter = c.text[c.pos + 1] ?? "";
  const simple = SIMPLE_ESCAPES[letter];
  if (simple !== undefined) {
    c.pos += 2;
    return simple;
  }
  const digits = letter === "u" ? 4 : letter === "U" ? 8 : 0;
  const code = c.text.slice(c.pos + 2, c.pos + 2 + digits);
  const value = Number.parseInt(code, 16);
  const valid =
    digits > 0 &&
    /^[0-9A-Fa-f]+$/.test(code) &&
    code.length === digits &&
    value <= 0x10ffff &&
    (value < 0xd800 || value > 0xdfff);
  if (!valid) {
    const shown = c.text.slice(c.pos, c.pos + 2 + digits).split(/[\r\n"]/)[0];
    throw syntaxError(
      c,
      c.pos,
      `invalid escape sequence ${shown} in a string (valid: \\n \\r \\t \\" \\\\ \\uNNNN \\UNNNNNNNN)`,
    );
  }
  c.pos += 2 + digits;
  return String.fromCodePoint(value);
}

/**
 * Reads `${ ... }` or `%{ ... }` at the cursor when there is one and returns true; the
 * expressions inside are read in full (they may hold strings, braces and other templates).
 */
function readTemplateSequence(
  c: Cursor,
  open: OpenDirectives,
  readExpression: ExpressionReader,
): boolean {
  if (c.text.startsWith("${", c.pos)) {
    readInterpolation(c, readExpression);
    return true;
  }
  if (c.text.startsWith("%{", c.pos)) {
    readDirective(c, open, readExpression);
    return true;
  }
  return false;
}

function readInterpolation(c: Cursor, readExpression: ExpressionReader): void {
  const start = c.pos;
  c.pos += c.text.startsWith("${~", c.pos) ? 3 : 2;
  withNewlines(c, false, () => {
    skipTrivia(c);
    readExpression(c);
    skipTrivia(c);
  });
  closeSequence(c, start, "interpolation");
}

function closeSequence(c: Cursor, start: number, what: string): void {
  if (c.text.startsWith("~}", c.pos)) c.pos++;
  if (c.text[c.pos] !== "}") {
    throw syntaxError(
      c,
      c.pos,
      `expected '}' to close the ${what} that starts at line ${lineOf(c, start)} but found ${describeAt(c, c.pos)}`,
    );
  }
  c.pos++;
}

function readDirective(c: Cursor, open: OpenDirectives, readExpression: ExpressionReader): void {
  const start = c.pos;
  c.pos += c.text.startsWith("%{~", c.pos) ? 3 : 2;
  withNewlines(c, false, () => {
    skipTrivia(c);
    const keyword = readIdentifier(c);
    skipTrivia(c);
    applyDirective(c, keyword, start, open, readExpression);
    skipTrivia(c);
  });
  closeSequence(c, start, "template directive");
}

function applyDirective(
  c: Cursor,
  keyword: string | undefined,
  start: number,
  open: OpenDirectives,
  readExpression: ExpressionReader,
): void {
  const top = open.at(-1);
  if (keyword === "if") {
    readExpression(c);
    open.push({ keyword: "if", at: start });
  } else if (keyword === "else" && top?.keyword === "if") {
    top.keyword = "else";
  } else if (keyword === "endif" && (top?.keyword === "if" || top?.keyword === "else")) {
    open.pop();
  } else if (keyword === "for") {
    readForHeader(c, readExpression);
    open.push({ keyword: "for", at: start });
  } else if (keyword === "endfor" && top?.keyword === "for") {
    open.pop();
  } else if (keyword === "else" || keyword === "endif" || keyword === "endfor") {
    throw syntaxError(c, start, `%{ ${keyword} } has no matching opening directive`);
  } else {
    throw syntaxError(
      c,
      start,
      `unknown template directive ${keyword === undefined ? "" : `'${keyword}' `}(expected if, else, endif, for or endfor)`,
    );
  }
}

function readForHeader(c: Cursor, readExpression: ExpressionReader): void {
  requireName(c, "a variable name after 'for'");
  skipTrivia(c);
  if (c.text[c.pos] === ",") {
    c.pos++;
    skipTrivia(c);
    requireName(c, "a second variable name after ','");
    skipTrivia(c);
  }
  const keyword = readIdentifier(c);
  if (keyword !== "in") throw syntaxError(c, c.pos, "expected 'in' in the for directive");
  skipTrivia(c);
  readExpression(c);
}

function requireName(c: Cursor, what: string): void {
  if (readIdentifier(c) === undefined) {
    throw syntaxError(c, c.pos, `expected ${what} but found ${describeAt(c, c.pos)}`);
  }
}

function requireClosedDirectives(c: Cursor, open: OpenDirectives): void {
  const unclosed = open.at(-1);
  if (unclosed) {
    const end = unclosed.keyword === "for" ? "endfor" : "endif";
    throw syntaxError(c, unclosed.at, `this template directive is never closed with %{ ${end} }`);
  }
}

/**
 * Reads a heredoc (`<<EOT` or `<<-EOT`) up to and including its closing marker. The body is a
 * template: interpolations and directives are read so that a `}` or marker-like text inside
 * them cannot end it early. Backslashes are not escapes in heredocs.
 */
export function readHeredoc(c: Cursor, readExpression: ExpressionReader): void {
  const start = c.pos;
  c.pos += c.text.startsWith("<<-", c.pos) ? 3 : 2;
  const marker = readIdentifier(c);
  if (marker === undefined) throw syntaxError(c, c.pos, "expected a marker name after '<<'");
  if (!atLineBreak(c)) {
    throw syntaxError(
      c,
      c.pos,
      `the heredoc marker ${marker} must be followed directly by a line break`,
    );
  }
  consumeLineBreak(c);
  const open: OpenDirectives = [];
  while (!atClosingMarker(c, marker, start))
    readHeredocLine(c, open, start, marker, readExpression);
  requireClosedDirectives(c, open);
}

function atClosingMarker(c: Cursor, marker: string, start: number): boolean {
  const lineEnd = endOfLine(c.text, c.pos);
  const line = c.text.slice(c.pos, lineEnd);
  if (line.replace(/^[ \t]+|[ \t]+$/g, "") !== marker) return false;
  if (lineEnd >= c.text.length) {
    throw syntaxError(
      c,
      c.pos,
      `the closing marker ${marker} of the heredoc that starts at line ${lineOf(c, start)} must be followed by a line break (add one at the end of the file)`,
    );
  }
  c.pos += line.trimEnd().length;
  return true;
}

function endOfLine(text: string, from: number): number {
  const newline = text.indexOf("\n", from);
  if (newline < 0) return text.length;
  return text[newline - 1] === "\r" ? newline - 1 : newline;
}

function readHeredocLine(
  c: Cursor,
  open: OpenDirectives,
  start: number,
  marker: string,
  readExpression: ExpressionReader,
): void {
  for (;;) {
    if (c.pos >= c.text.length) {
      throw syntaxError(c, start, `this heredoc is never closed: no line holds just ${marker}`);
    }
    if (atLineBreak(c)) {
      consumeLineBreak(c);
      return;
    }
    if (c.text[c.pos] === "\r") {
      throw syntaxError(c, c.pos, "a carriage return (CR) that is not part of a CRLF line break");
    }
    if (c.text.startsWith("$${", c.pos) || c.text.startsWith("%%{", c.pos)) c.pos += 3;
    else if (!readTemplateSequence(c, open, readExpression)) c.pos++;
  }
}
