/**
 * Checks a GraphQL request against a schema written in SDL: the document must parse (per the
 * GraphQL grammar, for the subset a single operation without fragments uses), every field and
 * argument must exist with the right types, variables must be declared, used and supplied with
 * values of their types. Enough to catch a misspelt mutation, input field or variable.
 */
import { readFileSync } from "node:fs";

type TypeRef =
  | { kind: "named"; name: string }
  | { kind: "list"; of: TypeRef }
  | { kind: "nonNull"; of: TypeRef };

interface FieldDef {
  type: TypeRef;
  args: Map<string, { type: TypeRef; hasDefault: boolean }>;
}

interface TypeDef {
  kind: "scalar" | "enum" | "input" | "object";
  values: Set<string>;
  fields: Map<string, FieldDef>;
}

type Value =
  | { kind: "variable"; name: string }
  | { kind: "int" | "float" | "string" | "boolean" | "null" | "enum"; text: string }
  | { kind: "list"; items: Value[] }
  | { kind: "object"; fields: Map<string, Value> };

interface Selection {
  name: string;
  args: Map<string, Value>;
  selections: Selection[] | undefined;
}

interface Operation {
  type: "query" | "mutation" | "subscription";
  name: string | undefined;
  variables: Map<string, TypeRef>;
  selections: Selection[];
}

export interface GraphqlCheck {
  problems: string[];
  operation: Operation | undefined;
  /** The root fields the operation selects. */
  rootFields: string[];
}

// ---------------------------------------------------------------- lexer

interface Token {
  kind: "punct" | "name" | "int" | "float" | "string" | "eof";
  text: string;
  at: number;
}

const PUNCT = /^(\.\.\.|[!$&()\-:=@[\]{|}])/;
const NAME = /^[_A-Za-z][_0-9A-Za-z]*/;
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const rest = source.slice(i);
    const ignored = /^([\s,\uFEFF]+|#[^\n\r]*)/.exec(rest);
    if (ignored) {
      i += ignored[0].length;
      continue;
    }
    if (rest.startsWith('"""')) {
      const end = rest.indexOf('"""', 3);
      if (end < 0) throw new Error(`unterminated block string at ${i}`);
      tokens.push({ kind: "string", text: rest.slice(3, end), at: i });
      i += end + 3;
      continue;
    }
    if (rest.startsWith('"')) {
      const match = /^"((?:[^"\\\n\r]|\\.)*)"/.exec(rest);
      if (!match) throw new Error(`unterminated string at ${i}`);
      tokens.push({ kind: "string", text: JSON.parse(match[0]) as string, at: i });
      i += match[0].length;
      continue;
    }
    const number = NUMBER.exec(rest);
    if (number && !NAME.test(rest.slice(number[0].length))) {
      const kind = number[2] || number[3] ? "float" : "int";
      tokens.push({ kind, text: number[0], at: i });
      i += number[0].length;
      continue;
    }
    const punct = PUNCT.exec(rest);
    if (punct?.[0] && punct[0] !== "-") {
      tokens.push({ kind: "punct", text: punct[0], at: i });
      i += punct[0].length;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      tokens.push({ kind: "name", text: name[0], at: i });
      i += name[0].length;
      continue;
    }
    throw new Error(`unexpected character ${JSON.stringify(rest[0])} at ${i}`);
  }
  tokens.push({ kind: "eof", text: "", at: source.length });
  return tokens;
}

class Parser {
  private index = 0;
  private readonly tokens: Token[];
  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  peek(): Token {
    return this.tokens[this.index] as Token;
  }
  next(): Token {
    const token = this.peek();
    this.index++;
    return token;
  }
  is(text: string): boolean {
    const token = this.peek();
    return token.kind !== "string" && token.text === text;
  }
  skip(text: string): boolean {
    if (!this.is(text)) return false;
    this.index++;
    return true;
  }
  expect(text: string): void {
    const token = this.next();
    if (token.text !== text || token.kind === "string")
      throw new Error(`expected "${text}" at ${token.at}, got "${token.text}"`);
  }
  name(): string {
    const token = this.next();
    if (token.kind !== "name")
      throw new Error(`expected a name at ${token.at}, got "${token.text}"`);
    return token.text;
  }
  type(): TypeRef {
    let type: TypeRef;
    if (this.skip("[")) {
      type = { kind: "list", of: this.type() };
      this.expect("]");
    } else type = { kind: "named", name: this.name() };
    return this.skip("!") ? { kind: "nonNull", of: type } : type;
  }
  value(): Value {
    const token = this.peek();
    if (this.skip("$")) return { kind: "variable", name: this.name() };
    if (this.skip("[")) {
      const items: Value[] = [];
      while (!this.skip("]")) items.push(this.value());
      return { kind: "list", items };
    }
    if (this.skip("{")) {
      const fields = new Map<string, Value>();
      while (!this.skip("}")) {
        const key = this.name();
        this.expect(":");
        if (fields.has(key)) throw new Error(`field ${key} given twice at ${token.at}`);
        fields.set(key, this.value());
      }
      return { kind: "object", fields };
    }
    this.next();
    if (token.kind === "int" || token.kind === "float" || token.kind === "string")
      return { kind: token.kind, text: token.text };
    if (token.kind === "name") {
      if (token.text === "true" || token.text === "false")
        return { kind: "boolean", text: token.text };
      if (token.text === "null") return { kind: "null", text: token.text };
      return { kind: "enum", text: token.text };
    }
    throw new Error(`expected a value at ${token.at}, got "${token.text}"`);
  }
  skipDescription(): void {
    if (this.peek().kind === "string") this.next();
  }
}

// ---------------------------------------------------------------- documents

function parseOperation(source: string): Operation {
  const parser = new Parser(tokenize(source));
  const keyword = parser.name();
  if (keyword !== "query" && keyword !== "mutation" && keyword !== "subscription")
    throw new Error(`expected query, mutation or subscription, got ${keyword}`);
  const name = parser.peek().kind === "name" ? parser.name() : undefined;
  const variables = new Map<string, TypeRef>();
  if (parser.skip("(")) {
    while (!parser.skip(")")) {
      parser.expect("$");
      const variable = parser.name();
      parser.expect(":");
      if (variables.has(variable)) throw new Error(`variable $${variable} declared twice`);
      variables.set(variable, parser.type());
      if (parser.skip("=")) parser.value();
    }
  }
  const selections = parseSelectionSet(parser);
  if (parser.peek().kind !== "eof") throw new Error("only one operation is supported");
  return { type: keyword, name, variables, selections };
}

function parseSelectionSet(parser: Parser): Selection[] {
  parser.expect("{");
  const selections: Selection[] = [];
  while (!parser.skip("}")) {
    if (parser.is("...")) throw new Error("fragments are not supported");
    let name = parser.name();
    if (parser.skip(":")) name = parser.name();
    const args = new Map<string, Value>();
    if (parser.skip("(")) {
      while (!parser.skip(")")) {
        const arg = parser.name();
        parser.expect(":");
        args.set(arg, parser.value());
      }
    }
    const sub = parser.is("{") ? parseSelectionSet(parser) : undefined;
    selections.push({ name, args, selections: sub });
  }
  if (selections.length === 0) throw new Error("empty selection set");
  return selections;
}

/** Reads the SDL subset the schema excerpt uses: scalar, enum, input and type definitions. */
export function parseSchema(source: string): Map<string, TypeDef> {
  const parser = new Parser(tokenize(source));
  const types = new Map<string, TypeDef>();
  for (;;) {
    parser.skipDescription();
    if (parser.peek().kind === "eof") return types;
    const keyword = parser.name();
    const name = parser.name();
    const def: TypeDef = { kind: "scalar", values: new Set(), fields: new Map() };
    if (keyword === "scalar") def.kind = "scalar";
    else if (keyword === "enum") {
      def.kind = "enum";
      parser.expect("{");
      while (!parser.skip("}")) {
        parser.skipDescription();
        def.values.add(parser.name());
      }
    } else if (keyword === "input" || keyword === "type") {
      def.kind = keyword === "input" ? "input" : "object";
      parser.expect("{");
      while (!parser.skip("}")) {
        parser.skipDescription();
        const field = parser.name();
        const args = new Map<string, { type: TypeRef; hasDefault: boolean }>();
        if (parser.skip("(")) {
          while (!parser.skip(")")) {
            parser.skipDescription();
            const arg = parser.name();
            parser.expect(":");
            const type = parser.type();
            const hasDefault = parser.skip("=");
            if (hasDefault) parser.value();
            args.set(arg, { type, hasDefault });
          }
        }
        parser.expect(":");
        const type = parser.type();
        // An input field's default makes it optional, like an argument's.
        if (parser.skip("=")) {
          parser.value();
          args.set("=default", { type, hasDefault: true });
        }
        def.fields.set(field, { type, args });
      }
    } else throw new Error(`unsupported definition ${keyword}`);
    types.set(name, def);
  }
}

// ---------------------------------------------------------------- validation

function named(type: TypeRef): string {
  return type.kind === "named" ? type.name : named(type.of);
}

function show(type: TypeRef): string {
  if (type.kind === "named") return type.name;
  if (type.kind === "list") return `[${show(type.of)}]`;
  return `${show(type.of)}!`;
}

function sameType(a: TypeRef, b: TypeRef): boolean {
  return show(a) === show(b);
}

/** Whether a variable of type `variable` may stand where `expected` is wanted. */
function variableFits(variable: TypeRef, expected: TypeRef, hasDefault: boolean): boolean {
  if (sameType(variable, expected)) return true;
  if (variable.kind === "nonNull" && sameType(variable.of, expected)) return true;
  return hasDefault && expected.kind === "nonNull" && sameType(variable, expected.of);
}

class Checker {
  readonly problems: string[] = [];
  readonly used = new Set<string>();
  private readonly types: Map<string, TypeDef>;
  private readonly variables: Map<string, TypeRef>;
  constructor(types: Map<string, TypeDef>, variables: Map<string, TypeRef>) {
    this.types = types;
    this.variables = variables;
  }

  selections(parent: string, selections: Selection[], where: string): void {
    const type = this.types.get(parent);
    if (type?.kind !== "object") {
      this.problems.push(`${where}: ${parent} is not an object type`);
      return;
    }
    for (const selection of selections) {
      const path = `${where}.${selection.name}`;
      const field = type.fields.get(selection.name);
      if (!field) {
        this.problems.push(`${path}: ${parent} has no field ${selection.name}`);
        continue;
      }
      this.arguments(field, selection.args, path);
      const target = this.types.get(named(field.type));
      if (target?.kind === "object") {
        if (!selection.selections) this.problems.push(`${path}: an object needs a selection set`);
        else this.selections(named(field.type), selection.selections, path);
      } else if (selection.selections)
        this.problems.push(`${path}: ${show(field.type)} takes no selection set`);
    }
  }

  private arguments(field: FieldDef, args: Map<string, Value>, where: string): void {
    for (const [name, value] of args) {
      const def = field.args.get(name);
      if (!def) this.problems.push(`${where}: unknown argument ${name}`);
      else this.value(value, def.type, def.hasDefault, `${where}(${name})`);
    }
    for (const [name, def] of field.args)
      if (def.type.kind === "nonNull" && !def.hasDefault && !args.has(name))
        this.problems.push(`${where}: missing required argument ${name}`);
  }

  private value(value: Value, expected: TypeRef, hasDefault: boolean, where: string): void {
    if (value.kind === "variable") {
      this.used.add(value.name);
      const declared = this.variables.get(value.name);
      if (!declared) this.problems.push(`${where}: $${value.name} is not declared`);
      else if (!variableFits(declared, expected, hasDefault))
        this.problems.push(
          `${where}: $${value.name} is ${show(declared)}, ${show(expected)} is wanted`,
        );
      return;
    }
    if (value.kind === "null") {
      if (expected.kind === "nonNull")
        this.problems.push(`${where}: null where ${show(expected)} is wanted`);
      return;
    }
    const inner = expected.kind === "nonNull" ? expected.of : expected;
    if (inner.kind === "list") {
      const items = value.kind === "list" ? value.items : [value];
      for (const item of items) this.value(item, inner.of, false, where);
      return;
    }
    const typeName = named(inner);
    const type = this.types.get(typeName);
    if (!type) {
      this.problems.push(`${where}: unknown type ${typeName}`);
      return;
    }
    if (type.kind === "input") {
      this.inputObject(value, typeName, type, where);
      return;
    }
    if (type.kind === "enum") {
      if (value.kind !== "enum" || !type.values.has(value.text))
        this.problems.push(
          `${where}: ${value.kind === "enum" ? value.text : value.kind} is not a ${typeName}`,
        );
      return;
    }
    if (!scalarLiteralFits(typeName, value))
      this.problems.push(`${where}: ${value.kind} is not a ${typeName}`);
  }

  private inputObject(value: Value, name: string, type: TypeDef, where: string): void {
    if (value.kind !== "object") {
      this.problems.push(`${where}: ${name} wants an object`);
      return;
    }
    for (const [key, item] of value.fields) {
      const field = type.fields.get(key);
      if (!field) this.problems.push(`${where}: ${name} has no field ${key}`);
      else this.value(item, field.type, field.args.has("=default"), `${where}.${key}`);
    }
    for (const [key, field] of type.fields)
      if (field.type.kind === "nonNull" && !field.args.has("=default") && !value.fields.has(key))
        this.problems.push(`${where}: ${name} needs ${key}`);
  }
}

function scalarLiteralFits(scalar: string, value: Value): boolean {
  switch (scalar) {
    case "Int":
      return value.kind === "int";
    case "Boolean":
      return value.kind === "boolean";
    case "ID":
      return value.kind === "string" || value.kind === "int";
    default:
      return value.kind === "string";
  }
}

/** Whether a JSON variable value fits its declared type. */
function jsonFits(
  types: Map<string, TypeDef>,
  type: TypeRef,
  value: unknown,
  where: string,
  problems: string[],
): void {
  if (value === null || value === undefined) {
    if (type.kind === "nonNull") problems.push(`${where}: required, got ${String(value)}`);
    return;
  }
  const inner = type.kind === "nonNull" ? type.of : type;
  if (inner.kind === "list") {
    if (!Array.isArray(value)) problems.push(`${where}: expected a list`);
    else
      for (const [i, item] of value.entries())
        jsonFits(types, inner.of, item, `${where}[${i}]`, problems);
    return;
  }
  const name = named(inner);
  const def = types.get(name);
  if (def?.kind === "enum") {
    if (typeof value !== "string" || !def.values.has(value))
      problems.push(`${where}: ${JSON.stringify(value)} is not a ${name}`);
    return;
  }
  const ok =
    name === "Int"
      ? Number.isInteger(value)
      : name === "Boolean"
        ? typeof value === "boolean"
        : name === "GitObjectID"
          ? typeof value === "string" && /^[0-9a-f]{40}$/.test(value)
          : typeof value === "string";
  if (!ok) problems.push(`${where}: ${JSON.stringify(value)} is not a ${name}`);
}

let excerpt: Map<string, TypeDef> | undefined;

/** GitHub's schema excerpt (test/merge/fixtures/github-schema-excerpt.graphql). */
export function githubSchema(): Map<string, TypeDef> {
  excerpt ??= parseSchema(
    readFileSync(new URL("./fixtures/github-schema-excerpt.graphql", import.meta.url), "utf8"),
  );
  return excerpt;
}

/** Every problem of a GraphQL request against `types` (default: GitHub's excerpt). */
export function checkGraphqlRequest(
  query: string,
  variables: Record<string, unknown>,
  types: Map<string, TypeDef> = githubSchema(),
): GraphqlCheck {
  let operation: Operation;
  try {
    operation = parseOperation(query);
  } catch (error) {
    return {
      problems: [`does not parse: ${(error as Error).message}`],
      operation: undefined,
      rootFields: [],
    };
  }
  const problems: string[] = [];
  for (const [name, type] of operation.variables) {
    const def = types.get(named(type));
    if (!def || def.kind === "object")
      problems.push(`$${name}: ${show(type)} is not an input type`);
  }
  const root = { query: "Query", mutation: "Mutation", subscription: "Subscription" }[
    operation.type
  ];
  const checker = new Checker(types, operation.variables);
  checker.selections(root, operation.selections, operation.type);
  problems.push(...checker.problems);
  for (const name of operation.variables.keys())
    if (!checker.used.has(name)) problems.push(`$${name} is declared but not used`);
  for (const [name, type] of operation.variables)
    jsonFits(types, type, variables[name], `$${name}`, problems);
  for (const name of Object.keys(variables))
    if (!operation.variables.has(name))
      problems.push(`variable ${name} is supplied but not declared`);
  return { problems, operation, rootFields: operation.selections.map((s) => s.name) };
}
