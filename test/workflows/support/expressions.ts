/**
 * GitHub Actions expressions, enough of them to run this project's workflows in tests: literals,
 * context paths (`steps.guard.outputs.exit-code`), `!`, `==`, `!=`, `&&`, `||`, parentheses and
 * function calls. Semantics follow GitHub's documentation: `&&`/`||` return an operand, strings
 * compare case-insensitively, a missing property is null.
 */

export type Value = string | number | boolean | null | { [key: string]: Value } | Value[];

export interface Scope {
  contexts: Record<string, Value>;
  functions: Record<string, (...args: Value[]) => Value>;
}

type Token =
  | { kind: "op"; text: string }
  | { kind: "string"; value: string }
  | { kind: "number"; value: number }
  | { kind: "word"; text: string };

const WORD = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_*][A-Za-z0-9_-]*)*/;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let rest = source;
  while (rest.length > 0) {
    const space = /^\s+/.exec(rest);
    if (space) {
      rest = rest.slice(space[0].length);
      continue;
    }
    const op = /^(\|\||&&|==|!=|<=|>=|!|<|>|\(|\)|,)/.exec(rest);
    if (op) {
      tokens.push({ kind: "op", text: op[0] });
      rest = rest.slice(op[0].length);
      continue;
    }
    if (rest.startsWith("'")) {
      const end = /^'((?:[^']|'')*)'/.exec(rest);
      if (!end) throw new Error(`unterminated string in ${JSON.stringify(source)}`);
      tokens.push({ kind: "string", value: (end[1] ?? "").replaceAll("''", "'") });
      rest = rest.slice(end[0].length);
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(rest);
    if (number) {
      tokens.push({ kind: "number", value: Number(number[0]) });
      rest = rest.slice(number[0].length);
      continue;
    }
    const word = WORD.exec(rest);
    if (word) {
      tokens.push({ kind: "word", text: word[0] });
      rest = rest.slice(word[0].length);
      continue;
    }
    throw new Error(
      `cannot read ${JSON.stringify(rest.slice(0, 20))} in ${JSON.stringify(source)}`,
    );
  }
  return tokens;
}

/** A parsed expression: evaluate it against a scope. */
type Node = (scope: Scope) => Value;

/** Parses an expression (without `${{ }}`). Throws on syntax GitHub would refuse. */
export function parseExpression(source: string): Node {
  const tokens = tokenize(source);
  let at = 0;
  const peek = () => tokens[at];
  const isOp = (text: string) => {
    const token = peek();
    return token?.kind === "op" && token.text === text;
  };
  const expect = (text: string) => {
    if (!isOp(text)) throw new Error(`expected ${text} in ${JSON.stringify(source)}`);
    at++;
  };

  function or(): Node {
    let left = and();
    while (isOp("||")) {
      at++;
      const l = left;
      const r = and();
      left = (scope) => {
        const value = l(scope);
        return truthy(value) ? value : r(scope);
      };
    }
    return left;
  }
  function and(): Node {
    let left = equality();
    while (isOp("&&")) {
      at++;
      const l = left;
      const r = equality();
      left = (scope) => {
        const value = l(scope);
        return truthy(value) ? r(scope) : value;
      };
    }
    return left;
  }
  function equality(): Node {
    let left = unary();
    while (isOp("==") || isOp("!=")) {
      const negate = (peek() as { text: string }).text === "!=";
      at++;
      const l = left;
      const r = unary();
      left = (scope) => equal(l(scope), r(scope)) !== negate;
    }
    return left;
  }
  function unary(): Node {
    if (isOp("!")) {
      at++;
      const inner = unary();
      return (scope) => !truthy(inner(scope));
    }
    return primary();
  }
  function primary(): Node {
    const token = peek();
    if (!token) throw new Error(`unexpected end of ${JSON.stringify(source)}`);
    at++;
    if (token.kind === "op" && token.text === "(") {
      const inner = or();
      expect(")");
      return inner;
    }
    if (token.kind === "string" || token.kind === "number") return () => token.value;
    if (token.kind === "word") return word(token.text);
    throw new Error(`unexpected ${token.text} in ${JSON.stringify(source)}`);
  }
  function word(text: string): Node {
    if (text === "true") return () => true;
    if (text === "false") return () => false;
    if (text === "null") return () => null;
    if (isOp("(")) {
      at++;
      const args: Node[] = [];
      while (!isOp(")")) {
        args.push(or());
        if (isOp(",")) at++;
      }
      expect(")");
      return (scope) => {
        const fn = scope.functions[text];
        if (!fn) throw new Error(`unknown function ${text}()`);
        return fn(...args.map((arg) => arg(scope)));
      };
    }
    const [head = "", ...path] = text.split(".");
    return (scope) => {
      if (!(head in scope.contexts))
        throw new Error(`unknown context ${head} in ${JSON.stringify(source)}`);
      let value: Value = scope.contexts[head] ?? null;
      for (const key of path) {
        value =
          value !== null && typeof value === "object" && !Array.isArray(value)
            ? (value[key] ?? null)
            : null;
      }
      return value;
    };
  }

  const node = or();
  if (at !== tokens.length)
    throw new Error(`unexpected text after the expression in ${JSON.stringify(source)}`);
  return node;
}

export function truthy(value: Value): boolean {
  return !(value === false || value === null || value === 0 || value === "" || Number.isNaN(value));
}

function equal(a: Value, b: Value): boolean {
  if (typeof a === "string" && typeof b === "string") return a.toLowerCase() === b.toLowerCase();
  if (typeof a === typeof b || a === null || b === null) {
    if (a === null || b === null) return a === b || toNumber(a) === toNumber(b);
    return a === b;
  }
  return toNumber(a) === toNumber(b);
}

function toNumber(value: Value): number {
  if (value === null) return 0;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") return value;
  if (typeof value === "string") return value.trim() === "" ? 0 : Number(value);
  return Number.NaN;
}

/** The text of a value where `${{ }}` stands in a string. */
export function asText(value: Value): string {
  if (value === null) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Every `${{ … }}` in `text`, with its inner expression. */
export function embeddedExpressions(text: string): { whole: string; expression: string }[] {
  return [...text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((match) => ({
    whole: match[0],
    expression: (match[1] ?? "").trim(),
  }));
}

/** `text` with each `${{ }}` replaced by its value. */
export function interpolate(text: string, scope: Scope): string {
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_whole, inner: string) =>
    asText(parseExpression(inner.trim())(scope)),
  );
}

/** Evaluates an `if:` the way GitHub does: `${{ }}` optional, `success() &&` implied. */
export function evaluateCondition(condition: string | boolean | undefined, scope: Scope): boolean {
  if (condition === undefined) return truthy(scope.functions.success?.() ?? false);
  if (typeof condition === "boolean")
    return condition && truthy(scope.functions.success?.() ?? false);
  const inner = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(condition)?.[1] ?? condition;
  const explicit = /\b(success|failure|always|cancelled)\s*\(/.test(inner);
  const source = explicit ? inner : `success() && (${inner})`;
  return truthy(parseExpression(source)(scope));
}
