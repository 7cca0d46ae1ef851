// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold HCL templates, not JavaScript ones
import fc from "fast-check";
import type { PathSegment } from "../../../src/editors/path.ts";

/**
 * Generated tfvars files for property tests. The generator writes the text itself and knows
 * the data it stands for and where each literal sits, independently of the parser under test.
 */

/** A value as generated: its source (with `\n` for line breaks) and what it means. */
type GenValue =
  | { kind: "literal"; source: string; value: string | number | boolean | null }
  | { kind: "expression"; source: string; heredoc: boolean }
  | {
      kind: "object";
      items: GenItem[];
      multiline: boolean;
      trailingComma: boolean;
      aligned: boolean;
    }
  | { kind: "tuple"; items: GenValue[]; multiline: boolean; trailingComma: boolean };

interface GenItem {
  key: string;
  quoted: boolean;
  colon: boolean;
  comment: string | undefined;
  value: GenValue;
}

interface GenAttribute {
  name: string;
  value: GenValue;
  comment: string | undefined;
  blankLineAfter: boolean;
  commentLineBefore: string | undefined;
}

interface GenPool {
  name: string;
  count: number;
}

interface GenFile {
  attributes: GenAttribute[];
  pools: GenPool[] | undefined;
  crlf: boolean;
  finalNewline: boolean;
  aligned: boolean;
}

/** A literal in the generated text: where it is, its PATH and its value. */
export interface GeneratedLiteral {
  path: PathSegment[];
  value: string | number | boolean | null;
  start: number;
  end: number;
}

export interface GeneratedTfvars {
  text: string;
  /** The data of each attribute, expressions as `{ expression: "<source>" }`. */
  data: Record<string, unknown>;
  literals: GeneratedLiteral[];
}

const RESERVED = new Set(["true", "false", "null", "for", "in", "if"]);
const identifier = fc
  .stringMatching(/^[a-z][a-z0-9_-]{0,9}$/)
  .filter((name) => !RESERVED.has(name));
const quotedKey = fc.stringMatching(/^[A-Za-z0-9 ./:é-]{1,12}$/);

const numberLiteral = fc.oneof(
  fc.nat({ max: 100_000 }).map(String),
  fc.integer({ min: -5000, max: -1 }).map(String),
  fc.tuple(fc.nat({ max: 999 }), fc.nat({ max: 999 })).map(([a, b]) => `${a}.${b}`),
  fc
    .tuple(fc.nat({ max: 99 }), fc.constantFrom("e", "E", "e+", "e-", "E-"), fc.nat({ max: 20 }))
    .map(([a, e, b]) => `${a}${e}${b}`),
);

const STRING_CHARS = ["a", "z", "Q", "0", " ", "-", "_", ".", "/", ":", '"', "\\", "$", "{", "}"];
const stringValue = fc.string({
  unit: fc.constantFrom(...STRING_CHARS, "%", "é", "中", "😀", "\t", "\n", "#", "="),
  maxLength: 12,
});

/** The generator's own HCL quoting, kept apart from the code under test. */
function quote(text: string): string {
  const escaped = text
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\n/g, "\\n")
    .replace(/\t/g, "\\t")
    .replace(/([$%])\{/g, (_, sign: string) => `${sign}${sign}{`);
  return `"${escaped}"`;
}

const literal: fc.Arbitrary<GenValue> = fc.oneof(
  numberLiteral.map((source) => ({ kind: "literal" as const, source, value: Number(source) })),
  stringValue.map((value) => ({ kind: "literal" as const, source: quote(value), value })),
  fc.constantFrom(true, false, null).map((value) => ({
    kind: "literal" as const,
    source: String(value),
    value,
  })),
);

const EXPRESSIONS = [
  "var.region",
  "max(1, 2)",
  '"${var.name}-x"',
  "1024 * 4",
  "local.a ? 1 : 2",
  "[for s in var.l : upper(s)]",
  "!true",
  "(3)",
  'upper("a")',
  "x[0].y",
  "- var.n",
];
const HEREDOCS = ["<<EOT\nline ${x}\nEOT", "<<-EOT\n  indented\n    more\n  EOT"];

const expression: fc.Arbitrary<GenValue> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(...EXPRESSIONS)
      .map((source) => ({ kind: "expression" as const, source, heredoc: false })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...HEREDOCS)
      .map((source) => ({ kind: "expression" as const, source, heredoc: true })),
  },
);

const COMMENTS = ["# note", "// note", "/* note */", "# Größe – 中文"];
const comment = fc.option(fc.constantFrom(...COMMENTS), { freq: 3, nil: undefined });

const { value } = fc.letrec<{ value: GenValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 5, arbitrary: literal },
    { weight: 1, arbitrary: expression },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("object" as const),
        items: fc.uniqueArray(
          fc.record({
            key: fc.oneof(identifier, quotedKey),
            quoted: fc.boolean(),
            colon: fc.boolean(),
            comment,
            value: tie("value"),
          }),
          { maxLength: 4, selector: (item) => item.key },
        ),
        multiline: fc.boolean(),
        trailingComma: fc.boolean(),
        aligned: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("tuple" as const),
        items: fc.array(tie("value"), { maxLength: 4 }),
        multiline: fc.boolean(),
        trailingComma: fc.boolean(),
      }),
    },
  ),
}));

const attribute = fc.record({
  name: identifier,
  value,
  comment,
  blankLineAfter: fc.boolean(),
  commentLineBefore: comment,
});

const pools = fc.uniqueArray(
  fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/), count: fc.nat({ max: 20 }) }),
  { minLength: 1, maxLength: 4, selector: (pool) => pool.name },
);

export const tfvarsFile: fc.Arbitrary<GeneratedTfvars> = fc
  .record({
    attributes: fc.uniqueArray(attribute, { minLength: 1, maxLength: 6, selector: (a) => a.name }),
    pools: fc.option(pools, { nil: undefined }),
    crlf: fc.boolean(),
    finalNewline: fc.boolean(),
    aligned: fc.boolean(),
  })
  .filter((file) => !file.attributes.some((a) => a.name === "pools"))
  .map(render);

/** Builds the text piece by piece, tracking offsets so literals can be located. */
interface Writer {
  text: string;
  readonly nl: string;
  readonly literals: GeneratedLiteral[];
}

function write(writer: Writer, piece: string): void {
  writer.text += piece.replace(/\n/g, writer.nl);
}

function writeLiteral(
  writer: Writer,
  path: PathSegment[],
  source: string,
  value: GeneratedLiteral["value"],
): void {
  const start = writer.text.length;
  write(writer, source);
  writer.literals.push({ path, value, start, end: writer.text.length });
}

function render(file: GenFile): GeneratedTfvars {
  const writer: Writer = { text: "", nl: file.crlf ? "\r\n" : "\n", literals: [] };
  const data: Record<string, unknown> = {};
  const width = Math.max(...file.attributes.map((a) => a.name.length));
  file.attributes.forEach((attribute, i) => {
    if (attribute.commentLineBefore !== undefined)
      write(writer, `${attribute.commentLineBefore}\n`);
    const pad = file.aligned ? " ".repeat(width - attribute.name.length) : "";
    write(writer, `${attribute.name}${pad} = `);
    data[attribute.name] = writeValue(
      writer,
      attribute.value,
      [{ kind: "key", key: attribute.name }],
      "",
    );
    const last = i === file.attributes.length - 1 && file.pools === undefined;
    endLine(writer, attribute.value, attribute.comment, last && !file.finalNewline);
    if (!last && attribute.blankLineAfter) write(writer, "\n");
  });
  if (file.pools) data.pools = writePools(writer, file.pools, file.finalNewline);
  return { text: writer.text, data, literals: writer.literals };
}

function endLine(
  writer: Writer,
  value: GenValue,
  comment: string | undefined,
  lastWithoutNewline: boolean,
): void {
  const heredoc = value.kind === "expression" && value.heredoc;
  if (heredoc) {
    write(writer, "\n");
    return;
  }
  if (comment !== undefined) write(writer, ` ${comment}`);
  if (!lastWithoutNewline) write(writer, "\n");
}

function writeValue(writer: Writer, node: GenValue, path: PathSegment[], indent: string): unknown {
  switch (node.kind) {
    case "literal":
      writeLiteral(writer, path, node.source, node.value);
      return node.value;
    case "expression":
      write(writer, node.source);
      return { expression: node.source.replace(/\n/g, writer.nl) };
    case "tuple":
      return writeTuple(writer, node, path, indent);
    case "object":
      return writeObject(writer, node, path, indent);
  }
}

function writeTuple(
  writer: Writer,
  node: Extract<GenValue, { kind: "tuple" }>,
  path: PathSegment[],
  indent: string,
): unknown[] {
  const inner = `${indent}  `;
  const data: unknown[] = [];
  write(writer, node.multiline && node.items.length > 0 ? "[\n" : "[");
  node.items.forEach((item, index) => {
    if (node.multiline) write(writer, inner);
    data.push(writeValue(writer, item, [...path, { kind: "index", index }], inner));
    const heredoc = item.kind === "expression" && item.heredoc;
    const last = index === node.items.length - 1;
    if (heredoc) write(writer, "\n");
    if (!last || node.trailingComma) write(writer, heredoc ? `${inner},` : ",");
    if (node.multiline) write(writer, index % 2 === 0 ? " # item\n" : "\n");
    else if (!last) write(writer, " ");
  });
  write(writer, node.multiline && node.items.length > 0 ? `${indent}]` : "]");
  return data;
}

function writeObject(
  writer: Writer,
  node: Extract<GenValue, { kind: "object" }>,
  path: PathSegment[],
  indent: string,
): Record<string, unknown> {
  const inner = `${indent}  `;
  const data: Record<string, unknown> = {};
  const keys = node.items.map((item) =>
    item.quoted || !isIdentifier(item.key) ? JSON.stringify(item.key) : item.key,
  );
  const width = Math.max(0, ...keys.map((key) => key.length));
  const multiline =
    node.multiline ||
    node.items.some((item) => item.value.kind === "expression" && item.value.heredoc);
  write(writer, multiline ? "{\n" : "{ ");
  node.items.forEach((item, i) => {
    const key = keys[i] ?? "";
    const pad = node.aligned && multiline ? " ".repeat(width - key.length) : "";
    if (multiline) write(writer, inner);
    write(writer, `${key}${pad} ${item.colon ? ":" : "="} `);
    data[item.key] = writeValue(
      writer,
      item.value,
      [...path, { kind: "key", key: item.key }],
      inner,
    );
    const heredoc = item.value.kind === "expression" && item.value.heredoc;
    const last = i === node.items.length - 1;
    if (multiline) {
      if (!heredoc && node.trailingComma) write(writer, ",");
      if (!heredoc && item.comment !== undefined) write(writer, ` ${item.comment}`);
      write(writer, "\n");
    } else write(writer, last ? (node.trailingComma ? ", " : " ") : ", ");
  });
  write(writer, multiline ? `${indent}}` : "}");
  return data;
}

function isIdentifier(key: string): boolean {
  return /^[a-z][a-z0-9_-]*$/.test(key) && !RESERVED.has(key);
}

function writePools(writer: Writer, pools: GenPool[], finalNewline: boolean): unknown[] {
  write(writer, "pools = [\n");
  const data = pools.map((pool, index) => {
    write(writer, `  { name = ${quote(pool.name)}, count = `);
    const selector: PathSegment = { kind: "match", field: "name", value: pool.name };
    writeLiteral(
      writer,
      [{ kind: "key", key: "pools" }, selector, { kind: "key", key: "count" }],
      String(pool.count),
      pool.count,
    );
    write(writer, index === pools.length - 1 ? " }\n" : " },\n");
    return { name: pool.name, count: pool.count };
  });
  write(writer, finalNewline ? "]\n" : "]");
  return data;
}
