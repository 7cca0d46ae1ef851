import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { isScalar, parseAllDocuments, parseDocument } from "yaml";
import { type PathSegment, parsePath } from "../../../src/editors/path.ts";
import type { ScalarValue } from "../../../src/editors/value.ts";
import { dataEqual, withValueAt } from "../../../src/editors/verify.ts";
import { editYaml, readYamlValue } from "../../../src/editors/yaml/yaml-editor.ts";
import { InputError } from "../../../src/errors.ts";
import { fixture, lineDiff, streamData } from "./yaml-test-helpers.ts";

// A generated YAML value, rendered below in many layouts.
type Tree =
  | { kind: "map"; entries: [string, Tree][] }
  | { kind: "list"; items: Tree[] }
  | { kind: "scalar"; value: ScalarValue | null };

const KEYS = [
  "app",
  "cpu",
  "memory",
  "resources",
  "limits",
  "requests",
  "spec",
  "name",
  "image",
  "env",
  "x-1",
  "key.with.dot",
  "with space",
  "talos-aws:workerCount",
  "über",
  "it's",
];

const STRINGS = [
  "100m",
  "2Gi",
  "nginx:1.25",
  "hello world",
  "yes",
  "on",
  "0755",
  "12:30",
  "true",
  "null",
  "",
  "a: b",
  "#x",
  "it's",
  'quote"d',
  "ünï 🦞",
  "- dash",
  "multi\nline",
  " padded ",
  "[flow]",
];

const scalarValue = fc.oneof(
  fc.constantFrom(...STRINGS),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.boolean(),
);

const treeArbitrary = fc.letrec<{ tree: Tree; map: Tree; list: Tree; scalar: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    tie("scalar"),
    tie("map"),
    tie("list"),
  ),
  scalar: fc
    .oneof(scalarValue, fc.constant(null))
    .map((value): Tree => ({ kind: "scalar", value })),
  map: fc
    .uniqueArray(fc.tuple(fc.constantFrom(...KEYS), tie("tree")), {
      selector: ([key]) => key,
      maxLength: 4,
    })
    .map((entries): Tree => ({ kind: "map", entries })),
  list: fc.array(tie("tree"), { maxLength: 3 }).map((items): Tree => ({ kind: "list", items })),
}));

const rootArbitrary = fc
  .uniqueArray(fc.tuple(fc.constantFrom(...KEYS), treeArbitrary.tree), {
    selector: ([key]) => key,
    minLength: 1,
    maxLength: 5,
  })
  .map((entries): Tree => ({ kind: "map", entries }));

interface Layout {
  indent: number;
  sequenceIndented: boolean;
  lineEnding: "\n" | "\r\n";
  finalNewline: boolean;
  nullText: "" | "~" | "null";
  /** Per-node choices (quote style, comments, flow style), used in turn. */
  choices: number[];
}

const layoutArbitrary: fc.Arbitrary<Layout> = fc.record({
  indent: fc.constantFrom(1, 2, 3, 4),
  sequenceIndented: fc.boolean(),
  lineEnding: fc.constantFrom("\n" as const, "\r\n" as const),
  finalNewline: fc.boolean(),
  nullText: fc.constantFrom("" as const, "~" as const, "null" as const),
  choices: fc.array(fc.nat(99), { minLength: 32, maxLength: 32 }),
});

/** Renders TREE as block YAML with LAYOUT's indentation, quoting, comments and flow parts. */
function render(tree: Tree, layout: Layout): string {
  let turn = 0;
  const choose = () => layout.choices[turn++ % layout.choices.length] ?? 0;
  const pad = (column: number) => " ".repeat(column);

  const plainSafe = (text: string, inFlow: boolean) =>
    /^[A-Za-z0-9][\w .:/-]*$/.test(text) &&
    !/: |:$| $/.test(text) &&
    !(inFlow && /[,[\]{}]/.test(text)) &&
    ["1.1", "1.2"].every((version) => {
      const document = parseDocument(text, { version: version as "1.1" | "1.2" });
      return isScalar(document.contents) && document.contents.value === text;
    });
  const scalarText = (value: ScalarValue | null, inFlow: boolean): string => {
    if (value === null) return inFlow ? "null" : layout.nullText;
    if (typeof value !== "string") return String(value);
    const pick = choose();
    if (pick < 60 && plainSafe(value, inFlow)) return value;
    if (pick < 80 && !/[\n\\]/.test(value)) return `'${value.replaceAll("'", "''")}'`;
    return JSON.stringify(value);
  };
  const keyText = (key: string, inFlow: boolean) =>
    plainSafe(key, inFlow) ? key : JSON.stringify(key);
  const flowText = (node: Tree): string => {
    if (node.kind === "scalar") return scalarText(node.value, true);
    if (node.kind === "list") return `[${node.items.map(flowText).join(", ")}]`;
    return `{${node.entries.map(([k, v]) => `${keyText(k, true)}: ${flowText(v)}`).join(", ")}}`;
  };
  const depth = (node: Tree): number =>
    node.kind === "scalar"
      ? 0
      : 1 +
        Math.max(
          0,
          ...(node.kind === "map" ? node.entries.map((e) => e[1]) : node.items).map(depth),
        );
  const comment = () => (choose() < 15 ? "  # note" : "");

  const mapLines = (node: Tree & { kind: "map" }, column: number, firstLineFixed: boolean) => {
    const lines: string[] = [];
    for (const [i, [key, value]] of node.entries.entries()) {
      if (!(firstLineFixed && i === 0)) {
        const extra = choose();
        if (extra < 8) lines.push(`${pad(column)}# a comment`);
        else if (extra < 12) lines.push("");
      }
      lines.push(...entryLines(key, value, column));
    }
    return lines;
  };
  const entryLines = (key: string, value: Tree, column: number): string[] => {
    const head = `${pad(column)}${keyText(key, false)}:`;
    if (value.kind === "scalar") {
      const text = scalarText(value.value, false);
      return [`${head}${text === "" ? "" : ` ${text}`}${comment()}`];
    }
    const empty = value.kind === "map" ? value.entries.length === 0 : value.items.length === 0;
    if (empty || (depth(value) <= 2 && choose() < 20)) return [`${head} ${flowText(value)}`];
    if (value.kind === "map")
      return [`${head}${comment()}`, ...mapLines(value, column + layout.indent, false)];
    const itemColumn = column + (layout.sequenceIndented ? layout.indent : 0);
    return [`${head}${comment()}`, ...listLines(value, itemColumn)];
  };
  const listLines = (node: Tree & { kind: "list" }, column: number): string[] =>
    node.items.flatMap((item) => {
      if (item.kind === "scalar")
        return [`${pad(column)}- ${scalarText(item.value, false)}`.trimEnd()];
      const empty = item.kind === "map" ? item.entries.length === 0 : item.items.length === 0;
      if (empty) return [`${pad(column)}- ${flowText(item)}`];
      if (item.kind === "list") return [`${pad(column)}-`, ...listLines(item, column + 2)];
      const lines = mapLines(item, column + 2, true);
      return [`${pad(column)}- ${(lines[0] ?? "").trimStart()}`, ...lines.slice(1)];
    });

  const lines = ["# generated", ...mapLines(tree as Tree & { kind: "map" }, 0, false)];
  return lines.join(layout.lineEnding) + (layout.finalNewline ? layout.lineEnding : "");
}

function treeData(node: Tree): unknown {
  if (node.kind === "scalar") return node.value;
  if (node.kind === "list") return node.items.map(treeData);
  return Object.fromEntries(node.entries.map(([key, value]) => [key, treeData(value)]));
}

interface Target {
  path: PathSegment[];
  /** The same place with list items as indexes, for looking the node up with getIn. */
  indexes: (string | number)[];
  exists: boolean;
}

/** Existing scalars, and new keys (one or two deep) under mappings and null values. */
function targets(
  node: Tree,
  path: PathSegment[] = [],
  indexes: (string | number)[] = [],
): Target[] {
  if (node.kind === "scalar") {
    const here: Target[] = [{ path, indexes, exists: true }];
    if (node.value === null && path.length > 0)
      here.push({ path: [...path, { kind: "key", key: "cpu" }], indexes, exists: false });
    return here;
  }
  if (node.kind === "list")
    return node.items.flatMap((item, i) => {
      const name =
        item.kind === "map" ? item.entries.find(([key]) => key === "name")?.[1] : undefined;
      const byName =
        name?.kind === "scalar" &&
        typeof name.value === "string" &&
        firstWithName(node, name.value) === i;
      const segment: PathSegment =
        byName && name.kind === "scalar"
          ? { kind: "match", field: "name", value: String(name.value) }
          : { kind: "index", index: i };
      return targets(item, [...path, segment], [...indexes, i]);
    });
  const fresh = KEYS.filter((key) => !node.entries.some(([existing]) => existing === key));
  const created: Target[] = fresh.slice(0, 2).flatMap((key, i) => [
    {
      path: [
        ...path,
        { kind: "key", key },
        ...(i === 1 ? [{ kind: "key" as const, key: "cpu" }] : []),
      ],
      indexes,
      exists: false,
    },
  ]);
  return [
    ...created,
    ...node.entries.flatMap(([key, value]) =>
      targets(value, [...path, { kind: "key", key }], [...indexes, key]),
    ),
  ];
}

/** TARGET's path with list items by index: an edit of `name` changes what `[name=…]` matches. */
function byIndex(target: Target): PathSegment[] {
  const head = target.indexes.map(
    (step): PathSegment =>
      typeof step === "number" ? { kind: "index", index: step } : { kind: "key", key: step },
  );
  return [...head, ...target.path.slice(head.length)];
}

function firstWithName(list: Tree & { kind: "list" }, name: string): number {
  return list.items.findIndex(
    (item) =>
      item.kind === "map" &&
      item.entries.some(
        ([key, value]) => key === "name" && value.kind === "scalar" && value.value === name,
      ),
  );
}

const editValue: fc.Arbitrary<ScalarValue> = fc.oneof(
  fc.constantFrom(...STRINGS),
  fc.string({ unit: "binary", maxLength: 16 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }),
  fc.boolean(),
);

/** Only lines were added, except one line that lost its `{}`, `~` or `null` or got a flow entry. */
function onlyLinesAdded(original: string, edited: string): boolean {
  // Line breaks are compared apart: a line added after a last line without one gives it one.
  const diff = lineDiff(original.replaceAll("\r\n", "\n"), edited.replaceAll("\r\n", "\n"));
  if (diff.removed.length === 0) return true;
  if (diff.removed.length !== 1) return false;
  const [removed] = diff.removed;
  const stripped = removed?.replace(/ +(\{\}|~|null)(?=( +#.*)?$)/, "");
  return diff.added.length === 1 || diff.added[0] === stripped;
}

describe("editYaml on generated files", () => {
  it("sets any existing scalar or new key and changes nothing else", () => {
    fc.assert(
      fc.property(
        rootArbitrary,
        layoutArbitrary,
        fc.nat(),
        editValue,
        (tree, layout, pick, value) => {
          const original = render(tree, layout);
          expect(streamData(original, "1.2")).toEqual([treeData(tree)]);
          const all = targets(tree);
          const target = all[pick % all.length] as Target;

          const edited = editYaml(original, target.path, value, "generated.yaml");

          for (const version of ["1.2", "1.1"] as const) {
            const [data] = streamData(edited, version);
            const [before] = streamData(original, version);
            expect(dataEqual(data, withValueAt(before, target.path, value))).toBe(true);
          }
          const readBack = readYamlValue(edited, byIndex(target), "generated.yaml");
          expect(dataEqual(readBack, value)).toBe(true);
          expect(edited.endsWith(layout.lineEnding)).toBe(layout.finalNewline);
          if (layout.lineEnding === "\r\n") expect(edited).not.toMatch(/(^|[^\r])\n/);
          else expect(edited).not.toContain("\r");
          if (target.exists) expectOnlyTargetChanged(original, edited, target);
          else expect(onlyLinesAdded(original, edited)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

function expectOnlyTargetChanged(original: string, edited: string, target: Target): void {
  const node = parseDocument(original).getIn(target.indexes, true);
  const [start, end] = isScalar(node) && node.range ? node.range : [0, original.length];
  expect(edited.slice(0, start)).toBe(original.slice(0, start));
  expect(edited.slice(edited.length - (original.length - end))).toBe(original.slice(end));
}

const CORPUS = [
  "flux-helmrelease-app-template-v1-bazarr.yaml",
  "flux-helmrelease-kube-prometheus-stack.yaml",
  "anchors-and-merge-keys.yaml",
  "edge-cases-values.yaml",
  "deployment-guestbook-all-in-one.yaml",
  "pod-flow-style-cpu-request-limit.yaml",
  "pulumi-stack-kluster.yaml",
  "bitnami-postgresql-values-crlf.yaml",
];

const FRAGMENTS = [
  ":",
  "- ",
  "[",
  "]",
  "{",
  "}",
  "#",
  "&a ",
  "*a",
  "!!str ",
  "|",
  ">-",
  "'",
  '"',
  "\n",
  "\t",
  "  ",
  "<<: *a\n",
  "---\n",
  "%YAML 1.1\n",
  "? ",
  "\r\n",
  "\u2028",
  "\ufeff",
  "yes",
  "0755",
];

const mutation = fc.record({
  kind: fc.constantFrom("delete", "insert", "duplicate-line", "drop-line"),
  at: fc.nat(),
  length: fc.nat(12),
  text: fc.constantFrom(...FRAGMENTS),
});

const mutatedCorpus = fc
  .tuple(fc.constantFrom(...CORPUS), fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([name, mutations]) =>
    mutations.reduce((text, change) => {
      const at = text.length === 0 ? 0 : change.at % text.length;
      if (change.kind === "delete") return text.slice(0, at) + text.slice(at + change.length);
      if (change.kind === "insert") return text.slice(0, at) + change.text + text.slice(at);
      const lines = text.split("\n");
      const line = change.at % lines.length;
      if (change.kind === "drop-line") lines.splice(line, 1);
      else lines.splice(line, 0, lines[line] ?? "");
      return lines.join("\n");
    }, fixture(name)),
  );

const segment: fc.Arbitrary<PathSegment> = fc.oneof(
  fc
    .constantFrom(...KEYS, "values", "controllers", "containers", "a", "b")
    .map((key): PathSegment => ({ kind: "key", key })),
  fc.nat(3).map((index): PathSegment => ({ kind: "index", index })),
  fc
    .constantFrom("app", "main", "master")
    .map((value): PathSegment => ({ kind: "match", field: "name", value })),
);

// Paths that exist (or almost exist) in the corpus files, so that mutated files get edited too.
const CORPUS_PATHS = [
  "spec.values.resources.requests.cpu",
  "spec.values.sidecars.subcleaner.resources.limits.memory",
  "spec.values.kubeEtcd.enabled",
  "spec.values.prometheus.prometheusSpec.resources.requests.cpu",
  "controllers.web.containers.app.resources.limits.cpu",
  "controllers.web.containers.metrics.resources.requests.cpu",
  "emptyFlow.resources.requests.cpu",
  "nullish.tilde.cpu",
  "blockLiteral",
  "spec.template.spec.containers[name=master].resources.requests.cpu",
  "spec.containers[name=cpu-demo-ctr].resources.limits.memory",
  'config."kluster-code:staging"',
  "primary.resources.requests.cpu",
].map(parsePath);

const pathArbitrary = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 6 }),
  fc.constantFrom(...CORPUS_PATHS),
);

function parsesCleanly(text: string): boolean {
  return (["1.1", "1.2"] as const).every((version) => {
    const documents = parseAllDocuments(text, { version, merge: true });
    return !Array.isArray(documents) || documents.every((document) => document.errors.length === 0);
  });
}

describe("editYaml on broken input", () => {
  it("only ever throws InputError, and writes nothing for a file that does not parse", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), mutatedCorpus),
        pathArbitrary,
        editValue,
        fc.option(fc.nat(3), { nil: undefined }),
        (text, path, value, document) => {
          const options = document === undefined ? {} : { document };
          let edited: string | undefined;
          try {
            edited = editYaml(text, path, value, "broken.yaml", options);
          } catch (error) {
            expect(error).toBeInstanceOf(InputError);
            expect((error as InputError).location?.file).toBe("broken.yaml");
          }
          if (!parsesCleanly(text)) expect(edited).toBeUndefined();
          if (edited !== undefined) expect(parsesCleanly(edited)).toBe(true);
          try {
            readYamlValue(text, path, "broken.yaml", options);
          } catch (error) {
            expect(error).toBeInstanceOf(InputError);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
