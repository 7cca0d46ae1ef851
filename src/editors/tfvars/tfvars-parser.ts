import {
  atLineBreak,
  type Cursor,
  consumeLineBreak,
  createCursor,
  describeAt,
  lineOf,
  readIdentifier,
  skipTrivia,
  syntaxError,
} from "./tfvars-cursor.ts";
import { parseExpression } from "./tfvars-expression.ts";
import type { TfvarsAttribute, TfvarsDocument } from "./tfvars-syntax.ts";

/**
 * Parses a Terraform/OpenTofu variable-definitions file (`*.tfvars`) into its attributes,
 * keeping the position of every value. Throws an InputError located at the first syntax error,
 * at a block (blocks are not valid in tfvars) or at an attribute defined twice.
 */
export function parseTfvars(text: string, file: string): TfvarsDocument {
  const c = createCursor(text, file);
  const attributes: TfvarsAttribute[] = [];
  const byName = new Map<string, TfvarsAttribute>();
  for (;;) {
    skipTrivia(c, true);
    if (c.pos >= text.length) break;
    const attribute = parseAttribute(c);
    const earlier = byName.get(attribute.name);
    if (earlier) {
      throw syntaxError(
        c,
        attribute.nameSpan.start,
        `${attribute.name} is assigned twice (first at line ${lineOf(c, earlier.nameSpan.start)}); a variable may be set only once per file`,
      );
    }
    byName.set(attribute.name, attribute);
    attributes.push(attribute);
  }
  return { file, text, attributes };
}

function parseAttribute(c: Cursor): TfvarsAttribute {
  const start = c.pos;
  const name = readIdentifier(c);
  if (name === undefined) throw notAnAttribute(c, start);
  const nameSpan = { start, end: c.pos };
  skipTrivia(c);
  requireEquals(c, name, start);
  skipTrivia(c);
  const value = parseExpression(c);
  skipTrivia(c);
  if (c.pos < c.text.length) {
    if (!atLineBreak(c)) {
      throw syntaxError(
        c,
        c.pos,
        `expected a line break after the value of ${name} but found ${describeAt(c, c.pos)} (each variable goes on its own line)`,
      );
    }
    consumeLineBreak(c);
  }
  return { name, nameSpan, value };
}

function notAnAttribute(c: Cursor, start: number) {
  const quoted = c.text[start] === '"';
  return syntaxError(
    c,
    start,
    quoted
      ? "a variable name cannot be quoted in a tfvars file (write name = value)"
      : `expected a variable name (name = value) but found ${describeAt(c, start)}`,
  );
}

function requireEquals(c: Cursor, name: string, start: number): void {
  const ch = c.text[c.pos];
  if (ch === "=" && c.text[c.pos + 1] !== "=" && c.text[c.pos + 1] !== ">") {
    c.pos++;
    return;
  }
  const startsBlock =
    ch === "{" ||
    ch === '"' ||
    (ch !== undefined && readIdentifier({ ...c, pos: c.pos }) !== undefined);
  if (startsBlock) {
    throw syntaxError(
      c,
      start,
      `${name} starts a block, and blocks are not valid in a tfvars file: it may only assign values to variables (name = value)`,
    );
  }
  throw syntaxError(c, c.pos, `expected '=' after ${name} but found ${describeAt(c, c.pos)}`);
}
