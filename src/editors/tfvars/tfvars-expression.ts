import {
  atLineBreak,
  type Cursor,
  consumeLineBreak,
  describeAt,
  expectChar,
  lineOf,
  nested,
  peekIdentifier,
  readIdentifier,
  skipTrivia,
  syntaxError,
  withNewlines,
} from "./tfvars-cursor.ts";
import type {
  ComputedKey,
  ExpressionForm,
  ExpressionNode,
  LiteralNode,
  ObjectItem,
  ObjectNode,
  StaticKey,
  TfvarsNode,
  TupleNode,
} from "./tfvars-syntax.ts";
import { readHeredoc, readQuoted } from "./tfvars-template.ts";

/**
 * Reads one HCL expression at the cursor. Literals, objects and tuples are parsed into nodes;
 * every other expression (references, calls, operators, conditionals, for expressions,
 * templates, heredocs) is read only far enough to know where it ends, and kept as source.
 */
export function parseExpression(c: Cursor): TfvarsNode {
  return nested(c, () => parseConditional(c));
}

function parseConditional(c: Cursor): TfvarsNode {
  const condition = parseOperation(c);
  const afterCondition = c.pos;
  skipTrivia(c);
  if (c.text[c.pos] !== "?") {
    c.pos = afterCondition;
    return condition;
  }
  c.pos++;
  skipTrivia(c);
  parseExpression(c);
  skipTrivia(c);
  expectChar(c, ":", "in the conditional expression");
  skipTrivia(c);
  const otherwise = parseExpression(c);
  return expression("conditional expression", condition.span.start, otherwise.span.end);
}

const BINARY_OPERATORS = ["||", "&&", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%"];
const OPERATOR_START = new Set("|&=!<>+-*/%");

function binaryOperatorAt(c: Cursor): string | undefined {
  const ch = c.text[c.pos];
  if (ch === undefined || !OPERATOR_START.has(ch) || c.text.startsWith("<<", c.pos))
    return undefined;
  return BINARY_OPERATORS.find((operator) => c.text.startsWith(operator, c.pos));
}

function parseOperation(c: Cursor): TfvarsNode {
  const first = parseUnary(c);
  let last = first;
  for (;;) {
    const afterOperand = c.pos;
    skipTrivia(c);
    const operator = binaryOperatorAt(c);
    if (operator === undefined) {
      c.pos = afterOperand;
      return last === first ? first : expression("operation", first.span.start, last.span.end);
    }
    c.pos += operator.length;
    skipTrivia(c);
    last = parseUnary(c);
  }
}

function parseUnary(c: Cursor): TfvarsNode {
  const start = c.pos;
  const operator = c.text[start];
  if (operator !== "-" && operator !== "!") return parsePostfix(c);
  c.pos++;
  skipTrivia(c);
  const operand = nested(c, () => parseUnary(c));
  // `-5` is how a negative number is written: HCL's converters treat it as the literal -5.
  if (operator === "-" && isBareNumber(c, operand)) {
    return literal(-(operand.value as number), start, operand.span.end);
  }
  return expression("operation", start, operand.span.end);
}

function isBareNumber(c: Cursor, node: TfvarsNode): node is LiteralNode {
  return (
    node.kind === "literal" && typeof node.value === "number" && isDigit(c.text[node.span.start])
  );
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= "0" && ch <= "9";
}

/** A primary value followed by any attribute accesses, indexes and splats. */
function parsePostfix(c: Cursor): TfvarsNode {
  let node = parsePrimary(c);
  for (;;) {
    const afterNode = c.pos;
    skipTrivia(c);
    const ch = c.text[c.pos];
    if (ch === "." && !c.text.startsWith("...", c.pos)) readAttributeStep(c);
    else if (ch === "[") readIndexStep(c);
    else {
      c.pos = afterNode;
      return node;
    }
    node = expression("reference", node.span.start, c.pos);
  }
}

const LEGACY_INDEX = /[0-9]+/y;

function readAttributeStep(c: Cursor): void {
  c.pos++;
  if (c.text[c.pos] === "*") {
    c.pos++;
    return;
  }
  LEGACY_INDEX.lastIndex = c.pos;
  const index = LEGACY_INDEX.exec(c.text);
  if (index) {
    c.pos += index[0].length;
    return;
  }
  if (readIdentifier(c) === undefined) {
    throw syntaxError(
      c,
      c.pos,
      `expected an attribute name after '.' but found ${describeAt(c, c.pos)}`,
    );
  }
}

function readIndexStep(c: Cursor): void {
  const start = c.pos;
  c.pos++;
  withNewlines(c, false, () => {
    skipTrivia(c);
    if (c.text[c.pos] === "*") c.pos++;
    else parseExpression(c);
    skipTrivia(c);
  });
  expectChar(c, "]", `to close the index that starts at line ${lineOf(c, start)}`);
}

function parsePrimary(c: Cursor): TfvarsNode {
  const start = c.pos;
  const ch = c.text[start];
  if (isDigit(ch)) return parseNumber(c);
  if (ch === '"') return parseQuotedString(c);
  if (c.text.startsWith("<<", start)) {
    readHeredoc(c, parseExpression);
    return expression("heredoc", start, c.pos);
  }
  if (ch === "(") return parseParenthesized(c);
  if (ch === "[") return parseTuple(c);
  if (ch === "{") return parseObject(c);
  const name = readIdentifier(c);
  if (name !== undefined) return parseNamed(c, name, start);
  throw syntaxError(
    c,
    start,
    `expected a value (number, string, bool, null, object, list or expression) but found ${describeAt(c, start)}`,
  );
}

const NUMBER = /[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

function parseNumber(c: Cursor): LiteralNode {
  const start = c.pos;
  NUMBER.lastIndex = start;
  const raw = NUMBER.exec(c.text)?.[0] ?? "";
  c.pos += raw.length;
  return literal(Number(raw), start, c.pos);
}

function parseQuotedString(c: Cursor): TfvarsNode {
  const start = c.pos;
  const value = readQuoted(c, parseExpression);
  if (value === undefined) return expression("string template with interpolation", start, c.pos);
  return literal(value, start, c.pos);
}

function parseNamed(c: Cursor, name: string, start: number): TfvarsNode {
  if (name === "true" || name === "false") return literal(name === "true", start, c.pos);
  if (name === "null") return literal(null, start, c.pos);
  const afterName = c.pos;
  skipTrivia(c);
  if (c.text.startsWith("::", c.pos)) readNamespacedName(c);
  if (c.text[c.pos] === "(") {
    readArguments(c);
    return expression("function call", start, c.pos);
  }
  c.pos = afterName;
  return { ...expression("reference", start, afterName), name };
}

/** Provider functions are called as `provider::name::function(...)`. */
function readNamespacedName(c: Cursor): void {
  while (c.text.startsWith("::", c.pos)) {
    c.pos += 2;
    if (readIdentifier(c) === undefined) {
      throw syntaxError(c, c.pos, `expected a name after '::' but found ${describeAt(c, c.pos)}`);
    }
  }
  if (c.text[c.pos] !== "(") {
    throw syntaxError(
      c,
      c.pos,
      `expected '(' after a namespaced function name but found ${describeAt(c, c.pos)}`,
    );
  }
}

function readArguments(c: Cursor): void {
  const start = c.pos;
  c.pos++;
  withNewlines(c, false, () => {
    for (;;) {
      skipTrivia(c);
      requireMore(c, start);
      if (c.text[c.pos] === ")") return;
      parseExpression(c);
      skipTrivia(c);
      if (c.text.startsWith("...", c.pos)) {
        c.pos += 3;
        skipTrivia(c);
      }
      if (c.text[c.pos] === ",") c.pos++;
      else if (c.text[c.pos] !== ")") throw unexpectedInList(c, "',' or ')'", "arguments", start);
    }
  });
  c.pos++;
}

function unexpectedInList(c: Cursor, expected: string, what: string, start: number) {
  if (c.pos >= c.text.length) return unclosed(c, start);
  return syntaxError(
    c,
    c.pos,
    `expected ${expected} in the ${what} that start at line ${lineOf(c, start)} but found ${describeAt(c, c.pos)}`,
  );
}

const CLOSERS: Record<string, string> = {
  "{": "this object is never closed with '}'",
  "[": "this list is never closed with ']'",
  "(": "these arguments are never closed with ')'",
};

/** The error for a bracket still open at the end of the file, located at the bracket. */
function unclosed(c: Cursor, start: number) {
  return syntaxError(c, start, CLOSERS[c.text[start] ?? ""] ?? "this expression is never closed");
}

function requireMore(c: Cursor, start: number): void {
  if (c.pos >= c.text.length) throw unclosed(c, start);
}

function parseParenthesized(c: Cursor): ExpressionNode {
  const start = c.pos;
  c.pos++;
  withNewlines(c, false, () => {
    skipTrivia(c);
    parseExpression(c);
    skipTrivia(c);
  });
  expectChar(c, ")", `to close the parenthesis opened at line ${lineOf(c, start)}`);
  return expression("parenthesized expression", start, c.pos);
}

function atForKeyword(c: Cursor): boolean {
  return peekIdentifier(c) === "for";
}

function parseTuple(c: Cursor): TupleNode | ExpressionNode {
  const start = c.pos;
  c.pos++;
  return withNewlines(c, false, () => {
    skipTrivia(c);
    if (atForKeyword(c)) {
      readForBody(c, "]");
      return expression("for expression", start, c.pos);
    }
    const items: TfvarsNode[] = [];
    for (;;) {
      skipTrivia(c);
      requireMore(c, start);
      if (c.text[c.pos] === "]") break;
      items.push(parseExpression(c));
      skipTrivia(c);
      if (c.text[c.pos] === ",") c.pos++;
      else if (c.text[c.pos] !== "]") throw unexpectedInList(c, "',' or ']'", "list items", start);
    }
    c.pos++;
    return { kind: "tuple", items, span: { start, end: c.pos } };
  });
}

function parseObject(c: Cursor): ObjectNode | ExpressionNode {
  const start = c.pos;
  c.pos++;
  skipTrivia(c, true);
  if (atForKeyword(c)) {
    withNewlines(c, false, () => readForBody(c, "}"));
    return expression("for expression", start, c.pos);
  }
  const items = withNewlines(c, true, () => readObjectItems(c, start));
  return { kind: "object", items, span: { start, end: c.pos } };
}

/** Items are separated by commas or line breaks; a trailing comma is allowed. */
function readObjectItems(c: Cursor, start: number): ObjectItem[] {
  const items: ObjectItem[] = [];
  for (;;) {
    skipTrivia(c, true);
    requireMore(c, start);
    if (c.text[c.pos] === "}") {
      c.pos++;
      return items;
    }
    const item = readObjectItem(c, start);
    items.push(item);
    skipTrivia(c);
    if (c.text[c.pos] === ",") c.pos++;
    else if (atLineBreak(c)) consumeLineBreak(c);
    else if (c.text[c.pos] !== "}") {
      requireMore(c, start);
      throw syntaxError(
        c,
        c.pos,
        `expected ',', a line break or '}' after the value of ${keyLabel(c, item.key)} in the object that starts at line ${lineOf(c, start)} but found ${describeAt(c, c.pos)}`,
      );
    }
  }
}

function keyLabel(c: Cursor, key: StaticKey | ComputedKey): string {
  return key.kind === "static"
    ? JSON.stringify(key.name)
    : c.text.slice(key.span.start, key.span.end);
}

function readObjectItem(c: Cursor, objectStart: number): ObjectItem {
  const key = readObjectKey(c);
  skipTrivia(c);
  const separator = c.text[c.pos];
  const next = c.text[c.pos + 1];
  if (separator !== ":" && (separator !== "=" || next === "=" || next === ">")) {
    throw syntaxError(
      c,
      c.pos,
      `expected '=' or ':' after the key ${keyLabel(c, key)} in the object that starts at line ${lineOf(c, objectStart)} but found ${describeAt(c, c.pos)}`,
    );
  }
  c.pos++;
  skipTrivia(c);
  return { key, value: parseExpression(c) };
}

/**
 * An identifier key is its name; a literal string, number or bool key is its text (as HCL
 * converts keys to strings); anything else, such as `(var.x)`, is a computed key.
 */
function readObjectKey(c: Cursor): StaticKey | ComputedKey {
  const node = parseExpression(c);
  const span = node.span;
  if (node.kind === "expression" && node.name !== undefined) {
    return { kind: "static", name: node.name, span };
  }
  if (node.kind === "literal") return { kind: "static", name: String(node.value), span };
  return { kind: "computed", span };
}

/** `for k, v in coll : value if cond` up to the closing bracket; `key => value...` in objects. */
function readForBody(c: Cursor, close: "]" | "}"): void {
  const start = c.pos;
  c.pos += 3;
  skipTrivia(c);
  requireIdentifier(c, "a variable name after 'for'");
  skipTrivia(c);
  if (c.text[c.pos] === ",") {
    c.pos++;
    skipTrivia(c);
    requireIdentifier(c, "a second variable name after ','");
    skipTrivia(c);
  }
  if (readIdentifier(c) !== "in")
    throw syntaxError(c, c.pos, "expected 'in' in the for expression");
  skipTrivia(c);
  parseExpression(c);
  skipTrivia(c);
  expectChar(c, ":", "after the collection of the for expression");
  skipTrivia(c);
  parseExpression(c);
  skipTrivia(c);
  if (close === "}") readForObjectValue(c);
  if (peekIdentifier(c) === "if") {
    c.pos += 2;
    skipTrivia(c);
    parseExpression(c);
    skipTrivia(c);
  }
  expectChar(c, close, `to close the for expression that starts at line ${lineOf(c, start)}`);
}

function readForObjectValue(c: Cursor): void {
  if (!c.text.startsWith("=>", c.pos)) {
    throw syntaxError(
      c,
      c.pos,
      `expected '=>' in the object for expression but found ${describeAt(c, c.pos)}`,
    );
  }
  c.pos += 2;
  skipTrivia(c);
  parseExpression(c);
  skipTrivia(c);
  if (c.text.startsWith("...", c.pos)) {
    c.pos += 3;
    skipTrivia(c);
  }
}

function requireIdentifier(c: Cursor, what: string): void {
  if (readIdentifier(c) === undefined) {
    throw syntaxError(c, c.pos, `expected ${what} but found ${describeAt(c, c.pos)}`);
  }
}

function literal(value: LiteralNode["value"], start: number, end: number): LiteralNode {
  return { kind: "literal", value, span: { start, end } };
}

function expression(form: ExpressionForm, start: number, end: number): ExpressionNode {
  return { kind: "expression", form, span: { start, end } };
}
