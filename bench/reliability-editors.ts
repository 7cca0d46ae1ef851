/**
 * Editor families: real tfvars and YAML values files, damaged and hostile, given to
 * `editValue` with a PATH and a VALUE. An edit that returns text is checked with parsers of
 * its own (hcl2-parser, the yaml package under YAML 1.2 and 1.1), not the editors' own
 * verification: the output must parse, hold VALUE at PATH and the original data everywhere
 * else, and differ from the input only where the value is.
 */
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import hcl from "hcl2-parser";
import { LineCounter, parseAllDocuments } from "yaml";
import { editValue } from "../src/editors/edit-file.ts";
import { formatPath, type PathSegment, parsePath } from "../src/editors/path.ts";
import type { ScalarValue } from "../src/editors/value.ts";
import {
  brokenFile,
  crash,
  excerpt,
  type FamilyOptions,
  type FamilySession,
  handled,
  type InputFamily,
  judgeError,
  type Outcome,
  type ReliabilityCase,
} from "./reliability-case.ts";
import {
  familySeed,
  type Mutation,
  mutate,
  mutation,
  sample,
  trickyStrings,
} from "./reliability-values.ts";

interface SourceFile {
  name: string;
  text: string;
}

function readFiles(folder: URL, pattern: RegExp): SourceFile[] {
  return readdirSync(folder)
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => ({ name, text: readFileSync(new URL(name, folder), "utf8") }));
}

const tfvarsFiles = (): SourceFile[] => [
  ...readFiles(new URL("../test/fixtures/editors/tfvars/", import.meta.url), /\.tfvars$/),
  {
    name: "terraform.tfvars",
    text: readFileSync(
      new URL("../examples/talos-proxmox/terraform/terraform.tfvars", import.meta.url),
      "utf8",
    ),
  },
];

const yamlFiles = (): SourceFile[] =>
  readFiles(new URL("../test/fixtures/editors/yaml/", import.meta.url), /\.ya?ml$/);

const values: fc.Arbitrary<ScalarValue> = fc.oneof(
  fc.integer({ min: -5, max: 100 }),
  fc.constantFrom(0, -0, 1.5, 1e21, 2 ** 53 + 2, Number.NaN, Number.POSITIVE_INFINITY, -1e-7),
  fc.boolean(),
  fc.constantFrom("500m", "2Gi", "1344Mi", ...trickyStrings),
  fc.string({ maxLength: 12 }),
);

/** Paths to the scalars of some data, in PATH syntax. */
function scalarPaths(data: unknown, prefix: PathSegment[] = [], into: string[] = []): string[] {
  if (Array.isArray(data)) {
    data.forEach((item, index) => {
      scalarPaths(item, [...prefix, { kind: "index", index }], into);
    });
  } else if (data !== null && typeof data === "object") {
    for (const [key, item] of Object.entries(data)) {
      scalarPaths(item, [...prefix, { kind: "key", key }], into);
    }
  } else if (prefix.length > 0) into.push(formatPath(prefix));
  return into;
}

/** Paths given as they are: malformed, or naming nothing. */
const hostilePaths = [
  "",
  ".",
  "a..b",
  "[",
  "a[",
  "a[x]",
  "[0]",
  '["unterminated',
  "a[name=]",
  "a[=x]",
  "__proto__.polluted",
  "constructor.prototype",
  "does.not.exist",
  "x".repeat(300),
  "a[99999999999999999999]",
];

interface EditInput {
  file: number;
  mutation: Mutation;
  /** Index into the file's scalar paths, or into hostilePaths when `hostile`. */
  path: number;
  hostile: boolean;
  /** For YAML: add a key under the chosen path's parent, which the editor creates. */
  create: boolean;
  value: ScalarValue;
}

const editInput = (syntax: string[]): fc.Arbitrary<EditInput> =>
  fc.record({
    file: fc.nat(),
    mutation: mutation(syntax),
    path: fc.nat(),
    hostile: fc.constantFrom(false, false, false, true),
    create: fc.constantFrom(false, false, true),
    value: values,
  });

/** Sets `value` at PATH in plain data, creating missing mappings; the concrete path reached. */
function setPath(
  data: unknown,
  segments: readonly PathSegment[],
  value: unknown,
): { data: unknown; keys: (string | number)[] } | undefined {
  const root = structuredClone(data) ?? {};
  const keys: (string | number)[] = [];
  let parent: unknown = root;
  for (const [index, segment] of segments.entries()) {
    let key: string | number;
    if (segment.kind === "key") {
      if (parent === null || typeof parent !== "object" || Array.isArray(parent)) return undefined;
      key = segment.key;
    } else if (!Array.isArray(parent)) return undefined;
    else if (segment.kind === "index") {
      if (segment.index >= parent.length) return undefined;
      key = segment.index;
    } else {
      const found = parent.findIndex(
        (item) =>
          item !== null &&
          typeof item === "object" &&
          String((item as Record<string, unknown>)[segment.field]) === segment.value,
      );
      if (found < 0) return undefined;
      key = found;
    }
    keys.push(key);
    const container = parent as Record<string | number, unknown>;
    if (index === segments.length - 1) container[key] = value;
    else {
      if (container[key] === undefined || container[key] === null) container[key] = {};
      parent = container[key];
    }
  }
  return { data: root, keys };
}

function sameData(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") return Object.is(a, b) || a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, index) => sameData(item, b[index]))
    );
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const keysA = Object.keys(a).sort();
    const keysB = Object.keys(b).sort();
    return (
      sameData(keysA, keysB) &&
      keysA.every((key) =>
        sameData((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
      )
    );
  }
  return a === b;
}

/** The part of `before` that `after` replaced, and what replaced it. */
function changedSpan(before: string, after: string): { removed: string; inserted: string } {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let end = 0;
  while (
    end < before.length - start &&
    end < after.length - start &&
    before[before.length - 1 - end] === after[after.length - 1 - end]
  ) {
    end++;
  }
  return {
    removed: before.slice(start, before.length - end),
    inserted: after.slice(start, after.length - end),
  };
}

function parseHcl(text: string): { ok: true; data: unknown } | { ok: false } {
  try {
    const [data, error] = hcl.parseToObject(text) as [unknown, unknown];
    return error || data === null ? { ok: false } : { ok: true, data };
  } catch {
    return { ok: false };
  }
}

function isExpectedValue(value: ScalarValue): boolean {
  return typeof value !== "number" || Number.isFinite(value);
}

/** Checks an edited tfvars text independently of the editor. */
export function judgeTfvarsEdit(
  original: string,
  edited: string,
  path: string,
  value: ScalarValue,
): Outcome {
  if (!isExpectedValue(value)) return crash(`wrote the non-finite number ${value} into the file`);
  const span = changedSpan(original, edited);
  if (span.removed.includes("\n") || span.inserted.includes("\n")) {
    return brokenFile(
      `changed more than one value: replaced ${excerpt(span.removed)} with ${excerpt(span.inserted)}`,
    );
  }
  const before = parseHcl(original);
  const after = parseHcl(edited);
  if (!after.ok) {
    return before.ok
      ? brokenFile("the edited file no longer parses (hcl2-parser)")
      : handled("edited a file hcl2-parser cannot read either; only the changed span checked");
  }
  if (!before.ok) return handled("hcl2-parser reads the edit but not the original");
  const expected = setPath(before.data, parsePath(path), value);
  if (!expected)
    return brokenFile(`PATH ${path} does not exist in the original, yet it was edited`);
  if (!sameData(after.data, expected.data)) {
    return brokenFile("the edited file's data differs from the original with VALUE at PATH");
  }
  return handled();
}

/** How Helm reads values: YAML 1.2 with `<<` merge keys (go-yaml supports them). */
const helmReading = { merge: true, logLevel: "error" } as const;

/** Checks an edited YAML text with the yaml package, under YAML 1.2 and 1.1. */
export function judgeYamlEdit(
  original: string,
  edited: string,
  path: string,
  value: ScalarValue,
): Outcome {
  if (!isExpectedValue(value)) return crash(`wrote the non-finite number ${value} into the file`);
  const before = parseAllDocuments(original, helmReading);
  const after = parseAllDocuments(edited, helmReading);
  if (after.some((document) => document.errors.length > 0)) {
    return brokenFile(
      `the edited file no longer parses: ${after.find((d) => d.errors.length)?.errors[0]?.message}`,
    );
  }
  if (before.some((document) => document.errors.length > 0)) {
    return brokenFile("edited a file that does not parse");
  }
  // A file with no document (empty, or only comments) gains one.
  const beforeData = before.length === 0 ? [null] : before.map((document) => document.toJS());
  if (beforeData.length !== after.length) return brokenFile("the number of documents changed");
  const segments = parsePath(path);
  const changed: number[] = [];
  for (const [index, document] of after.entries()) {
    if (!sameData(document.toJS(), beforeData[index])) changed.push(index);
  }
  // Setting the value a document already holds changes no data.
  if (changed.length === 0) {
    changed.push(
      beforeData.findIndex((data) => sameData(setPath(data, segments, value)?.data, data)),
    );
  }
  if (changed.length !== 1 || changed[0] === -1) {
    return brokenFile(`${changed.length} documents changed, not one`);
  }
  const index = changed[0] as number;
  const expected = setPath(beforeData[index], segments, value);
  if (!expected || !sameData(after[index]?.toJS(), expected.data)) {
    return brokenFile(`document ${index}'s data differs from the original with VALUE at PATH`);
  }
  const yaml11 = parseAllDocuments(edited, { ...helmReading, version: "1.1" })[index]?.getIn(
    expected.keys,
  );
  if (!sameData(yaml11, value)) {
    return brokenFile(
      `YAML 1.1 reads the new value as ${JSON.stringify(yaml11)}, not ${JSON.stringify(value)}`,
    );
  }
  return checkYamlLines(original, edited, before[index]?.getIn(expected.keys, true));
}

/** Lines may be added (new mappings); of the original, only the old value's lines change. */
function checkYamlLines(original: string, edited: string, node: unknown): Outcome {
  const before = original.split("\n");
  const after = edited.split("\n");
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let end = 0;
  while (
    end < before.length - start &&
    end < after.length - start &&
    before[before.length - 1 - end] === after[after.length - 1 - end]
  ) {
    end++;
  }
  const removedLines = before.length - start - end;
  let allowed = 1;
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  if (range) {
    const counter = new LineCounter();
    parseAllDocuments(original, { ...helmReading, lineCounter: counter });
    allowed = Math.max(1, counter.linePos(range[1]).line - counter.linePos(range[0]).line + 1);
  }
  return removedLines <= allowed
    ? handled()
    : brokenFile(`changed ${removedLines} lines of the original where the value spans ${allowed}`);
}

interface EditorSetup {
  family: string;
  extension: string;
  files: SourceFile[];
  syntax: string[];
  parse(text: string): unknown;
  judge(original: string, edited: string, path: string, value: ScalarValue): Outcome;
  handWritten: { name: string; text: string; path: string; value: ScalarValue }[];
}

function editCase(
  setup: EditorSetup,
  id: string,
  text: string,
  path: string,
  value: ScalarValue,
): ReliabilityCase {
  const file = `reliability-${setup.family}.${setup.extension}`;
  return {
    id,
    input: `${excerpt(text, 80)} PATH ${excerpt(path, 40)} VALUE ${String(value).slice(0, 30)}`,
    payload: () => ({ file, text, path, value: typeof value === "number" ? String(value) : value }),
    run() {
      let edited: string;
      try {
        edited = editValue(text, path, value, file);
      } catch (error) {
        return judgeError(error, [file, path, JSON.stringify(path), `VALUE ${String(value)}`]);
      }
      return setup.judge(text, edited, path, value);
    },
  };
}

function generatedCases(setup: EditorSetup, options: FamilyOptions): ReliabilityCase[] {
  const inputs = sample(
    editInput(setup.syntax),
    options.generated,
    familySeed(options.seed, setup.family),
  );
  const pathsOf = new Map<SourceFile, string[]>();
  return inputs.map((input, index) => {
    const source = setup.files[input.file % setup.files.length] as SourceFile;
    let paths = pathsOf.get(source);
    if (!paths) {
      paths = scalarPaths(setup.parse(source.text));
      pathsOf.set(source, paths);
    }
    let path =
      input.hostile || paths.length === 0
        ? (hostilePaths[input.path % hostilePaths.length] as string)
        : (paths[input.path % paths.length] as string);
    if (input.create && !input.hostile && setup.extension === "yaml") {
      path = path.replace(/(\.[^.[\]]+|\[\d+\])$/, "") || path;
      path = `${path}.resources.requests.memory`;
    }
    const text = mutate(source.text, input.mutation);
    return editCase(setup, `${setup.family}/gen-${index}`, text, path, input.value);
  });
}

function parseYamlData(text: string): unknown {
  const documents = parseAllDocuments(text, helmReading);
  const data = documents.map((document) => document.toJS());
  return data.length === 1
    ? data[0]
    : (data.find((d) => d !== null && typeof d === "object") ?? null);
}

const tfvarsSetup = (): EditorSetup => ({
  family: "tfvars-edit",
  extension: "tfvars",
  files: tfvarsFiles(),
  syntax: [
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    '"',
    "=",
    "\n",
    "#",
    "//",
    "/*",
    "*/",
    "<<EOF\n",
    "${",
    "%{",
    ",",
    ":",
  ],
  parse: (text) => {
    const parsed = parseHcl(text);
    return parsed.ok ? parsed.data : {};
  },
  judge: judgeTfvarsEdit,
  handWritten: [
    { name: "empty-file", text: "", path: "worker_count", value: 4 },
    { name: "unclosed-object", text: "nodes = {\n  a = 1\n", path: "nodes.a", value: 2 },
    { name: "unterminated-string", text: 'name = "talos\n', path: "name", value: "x" },
    { name: "unterminated-heredoc", text: "script = <<EOF\nhello\n", path: "script", value: "x" },
    { name: "missing-value", text: "worker_count =\n", path: "worker_count", value: 4 },
    { name: "reference", text: "worker_count = var.count\n", path: "worker_count", value: 4 },
    { name: "function-call", text: "worker_count = max(1, 2)\n", path: "worker_count", value: 4 },
    // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL interpolation, as written in a file
    { name: "template", text: 'name = "${var.prefix}-1"\n', path: "name", value: "x" },
    {
      name: "duplicate-attribute",
      text: "worker_count = 3\nworker_count = 4\n",
      path: "worker_count",
      value: 5,
    },
    { name: "nul-byte", text: "worker_count = 3\u0000\n", path: "worker_count", value: 4 },
    { name: "bom", text: "\ufeffworker_count = 3\n", path: "worker_count", value: 4 },
    { name: "crlf-only", text: "\r\n\r\nworker_count = 3\r\n", path: "worker_count", value: 4 },
    { name: "lone-cr", text: "a = 1\rworker_count = 3\r", path: "worker_count", value: 4 },
    {
      name: "deep-nesting",
      text: `x = ${"{ a = ".repeat(300)}1${" }".repeat(300)}\n`,
      path: "x.a",
      value: 2,
    },
    {
      name: "deep-list",
      text: `x = ${"[".repeat(500)}1${"]".repeat(500)}\n`,
      path: "x[0]",
      value: 2,
    },
    {
      name: "huge-number",
      text: `worker_count = ${"9".repeat(400)}\n`,
      path: "worker_count",
      value: 4,
    },
    {
      name: "number-overflow-exponent",
      text: "worker_count = 1e999\n",
      path: "worker_count",
      value: 4,
    },
    { name: "value-with-newline", text: 'name = "a"\n', path: "name", value: "line1\nline2" },
    // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL interpolation, as written in a file
    { name: "value-with-interpolation", text: 'name = "a"\n', path: "name", value: "${var.x}" },
    {
      name: "value-with-directive",
      text: 'name = "a"\n',
      path: "name",
      value: "%{if true}x%{endif}",
    },
    { name: "value-with-quotes", text: 'name = "a"\n', path: "name", value: '"\\' },
    { name: "value-nan", text: "worker_count = 3\n", path: "worker_count", value: Number.NaN },
    {
      name: "value-infinity",
      text: "worker_count = 3\n",
      path: "worker_count",
      value: Number.POSITIVE_INFINITY,
    },
    { name: "value-huge", text: "worker_count = 3\n", path: "worker_count", value: 1e21 },
    { name: "value-negative-zero", text: "worker_count = 3\n", path: "worker_count", value: -0 },
    { name: "comment-only", text: "# worker_count = 3\n", path: "worker_count", value: 4 },
    {
      name: "block-not-attribute",
      text: 'variable "x" {\n  default = 3\n}\n',
      path: "x",
      value: 4,
    },
    { name: "json-syntax", text: '{"worker_count": 3}\n', path: "worker_count", value: 4 },
    { name: "path-into-number", text: "worker_count = 3\n", path: "worker_count.x", value: 4 },
    { name: "index-out-of-range", text: "xs = [1, 2]\n", path: "xs[5]", value: 4 },
    { name: "proto-path", text: "worker_count = 3\n", path: "__proto__.polluted", value: "yes" },
    {
      name: "long-line",
      text: `worker_count = 3 # ${"x".repeat(200_000)}\n`,
      path: "worker_count",
      value: 4,
    },
    { name: "unicode-key", text: "größe = 3\n", path: "größe", value: 4 },
    { name: "invalid-surrogate", text: 'name = "\ud800"\n', path: "name", value: "x" },
  ],
});

const yamlSetup = (): EditorSetup => ({
  family: "yaml-edit",
  extension: "yaml",
  files: yamlFiles(),
  syntax: [
    ":",
    "- ",
    "  ",
    "\t",
    "{",
    "}",
    "[",
    "]",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!str ",
    "? ",
    "---\n",
    "...\n",
    "|\n",
    ">-\n",
    "#",
    '"',
    "'",
    "%YAML 1.1\n",
  ],
  parse: parseYamlData,
  judge: judgeYamlEdit,
  handWritten: [
    { name: "empty-file", text: "", path: "resources.requests.memory", value: "1Gi" },
    { name: "only-comment", text: "# nothing\n", path: "a", value: 1 },
    { name: "tab-indent", text: "a:\n\tb: 1\n", path: "a.b", value: 2 },
    { name: "unclosed-flow", text: "a: {b: 1\n", path: "a.b", value: 2 },
    { name: "duplicate-key", text: "a: 1\na: 2\n", path: "a", value: 3 },
    { name: "alias-target", text: "x: &v 1\na: *v\n", path: "a", value: 2 },
    { name: "anchor-used-elsewhere", text: "x: &v 1\na: *v\n", path: "x", value: 2 },
    { name: "unknown-alias", text: "a: *nowhere\n", path: "a", value: 2 },
    {
      name: "alias-bomb",
      text: `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nt: 1\n`,
      path: "t",
      value: 2,
    },
    { name: "merge-key", text: "base: &b {cpu: 1}\nr:\n  <<: *b\n", path: "r.cpu", value: "2" },
    { name: "recursive-alias", text: "a: &a\n  b: *a\n", path: "a.c", value: 1 },
    { name: "custom-tag", text: "a: !Ref x\n", path: "a", value: "y" },
    { name: "binary-tag", text: "a: !!binary aGVsbG8=\n", path: "a", value: "y" },
    { name: "block-scalar", text: "a: |\n  line1\n  line2\nb: 1\n", path: "a", value: "x" },
    { name: "folded-scalar", text: "a: >-\n  x\n  y\n", path: "a", value: 1 },
    { name: "multi-document-ambiguous", text: "a: 1\n---\na: 2\n", path: "a", value: 3 },
    { name: "document-end-marker", text: "a: 1\n...\n", path: "a", value: 2 },
    { name: "directive", text: "%YAML 1.1\n---\na: yes\n", path: "a", value: "no" },
    { name: "yaml11-octal-neighbour", text: "mode: 0755\nb: 1\n", path: "b", value: "0755" },
    { name: "value-yes", text: "a: x\n", path: "a", value: "yes" },
    { name: "value-null-word", text: "a: x\n", path: "a", value: "null" },
    { name: "value-tilde", text: "a: x\n", path: "a", value: "~" },
    { name: "value-colon", text: "a: x\n", path: "a", value: "b: c" },
    { name: "value-newline", text: "a: x\n", path: "a", value: "1\n2" },
    { name: "value-leading-space", text: "a: x\n", path: "a", value: " 1" },
    { name: "value-nan", text: "a: 1\n", path: "a", value: Number.NaN },
    { name: "value-infinity", text: "a: 1\n", path: "a", value: Number.NEGATIVE_INFINITY },
    { name: "value-huge", text: "a: 1\n", path: "a", value: 1e21 },
    { name: "scalar-root", text: "just text\n", path: "a", value: 1 },
    { name: "list-root", text: "- a\n- b\n", path: "[1]", value: "c" },
    {
      name: "create-under-scalar",
      text: "resources: 1\n",
      path: "resources.requests.cpu",
      value: "1",
    },
    { name: "create-under-null", text: "resources:\n", path: "resources.requests.cpu", value: "1" },
    {
      name: "create-under-empty-flow",
      text: "resources: {}\n",
      path: "resources.requests.cpu",
      value: "1",
    },
    {
      name: "create-under-list",
      text: "resources: []\n",
      path: "resources.requests.cpu",
      value: "1",
    },
    {
      name: "match-missing",
      text: "containers:\n- name: app\n",
      path: "containers[name=web].image",
      value: "x",
    },
    {
      name: "match-non-mapping-items",
      text: "containers: [1, 2]\n",
      path: "containers[name=1].x",
      value: "y",
    },
    {
      name: "deep-nesting",
      text: `a:${" {a:".repeat(400)} 1${"}".repeat(400)}\n`,
      path: "a.a",
      value: 2,
    },
    { name: "bom", text: "\ufeffa: 1\n", path: "a", value: 2 },
    { name: "nul-byte", text: "a: 1\u0000\n", path: "a", value: 2 },
    { name: "crlf-mixed", text: "a: 1\r\nb: 2\nc: 3\r\n", path: "b", value: 4 },
    { name: "lone-cr", text: "a: 1\rb: 2\r", path: "b", value: 4 },
    { name: "complex-key", text: "? [a, b]\n: 1\nc: 2\n", path: "c", value: 3 },
    { name: "proto-key", text: "__proto__: {a: 1}\n", path: "__proto__.a", value: 2 },
    { name: "long-line", text: `a: 1 # ${"x".repeat(200_000)}\n`, path: "a", value: 2 },
  ],
});

function editorFamily(name: string, description: string, setup: () => EditorSetup): InputFamily {
  return {
    name,
    description,
    async open(options): Promise<FamilySession> {
      const built = setup();
      const cases = [
        ...built.handWritten.map((c) =>
          editCase(built, `${name}/${c.name}`, c.text, c.path, c.value),
        ),
        ...generatedCases(built, options),
      ];
      return { cases, close: async () => {} };
    },
  };
}

export const tfvarsEditFamily = editorFamily(
  "tfvars-edit",
  "tfvars files (real ones damaged, and hand-written) given to editValue",
  tfvarsSetup,
);

export const yamlEditFamily = editorFamily(
  "yaml-edit",
  "YAML values files and manifests (real ones damaged, and hand-written) given to editValue",
  yamlSetup,
);
