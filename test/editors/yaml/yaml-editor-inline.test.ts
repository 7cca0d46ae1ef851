import { describe, expect, it } from "@jest/globals";
import { parsePath } from "../../../src/editors/path.ts";
import type { ScalarValue } from "../../../src/editors/value.ts";
import { applyYamlEdits, editYaml } from "../../../src/editors/yaml/yaml-editor.ts";
import { inputErrorOf } from "./yaml-test-helpers.ts";

function edit(text: string, path: string, value: ScalarValue): string {
  return editYaml(text, parsePath(path), value, "inline.yaml");
}

describe("editYaml on small files", () => {
  it.each<[string, string, string, ScalarValue, string]>([
    ["an empty file", "", "a.b", 1, "a:\n  b: 1\n"],
    ["a comment without final newline", "# c", "a.b", 1, "# c\na:\n  b: 1"],
    ["a root {}", "{}\n", "a.b", 1, "a:\n  b: 1\n"],
    ["a root ~", "~\n", "a", "x", "a: x\n"],
    ["an empty value before a comment", "cpu: # set me\n", "cpu", "100m", "cpu: 100m # set me\n"],
    ["a value on the next line", "cpu:\n  100m\n", "cpu", "200m", "cpu:\n  200m\n"],
    ["an explicit key", "? cpu\n: 100m\n", "cpu", "200m", "? cpu\n: 200m\n"],
    ["a {} list item", "list:\n- {}\n", "list[0].cpu", "1m", "list:\n-\n  cpu: 1m\n"],
    ["an empty list item", "list:\n-\n- b\n", "list[0].cpu", "1m", "list:\n-\n  cpu: 1m\n- b\n"],
    [
      "a {} inside a flow list",
      "containers: [{name: a, resources: {}}]\n",
      "containers[name=a].resources.requests.cpu",
      "1m",
      "containers: [{name: a, resources: {requests: {cpu: 1m}}}]\n",
    ],
    [
      "a keep-chomped block scalar before the new key",
      "m:\n  s: |+\n    x\n\nn: 1\n",
      "m.t",
      "v",
      "m:\n  s: |+\n    x\n\n  t: v\nn: 1\n",
    ],
    [
      "a comment closing a mapping",
      "a:\n  b: 1\n  # about a\nc: 2\n",
      "a.d",
      3,
      "a:\n  b: 1\n  d: 3\n  # about a\nc: 2\n",
    ],
    [
      "a mapping whose last list item is empty, before a shallower comment",
      "a:\n b:\n  - x\n  -\n # about c\nc: 1",
      "a.b2",
      "v",
      "a:\n b:\n  - x\n  -\n b2: v\n # about c\nc: 1",
    ],
    ["a tagged {}", "a: !!map {}\n", "a.b", 3, "a: !!map\n  b: 3\n"],
    ["an unused anchor", "a: &x {}\n", "a.b", 3, "a: &x\n  b: 3\n"],
    [
      "a directive and document markers",
      "%YAML 1.2\n---\na: 1\n...\n",
      "b",
      2,
      "%YAML 1.2\n---\na: 1\nb: 2\n...\n",
    ],
    ["a key that must be quoted", "a: 1\n", "on", 5, 'a: 1\n"on": 5\n'],
    ["a key that would be a merge key", "a: 1\n", "<<", 5, 'a: 1\n"<<": 5\n'],
    ["an inline merge source", "<<: {a: 1}\nb: 2\n", "a", 5, "<<: {a: 1}\nb: 2\na: 5\n"],
    [
      "a file starting with a byte order mark",
      "\ufeffa: 1\n",
      "b.c",
      3,
      "\ufeffa: 1\nb:\n  c: 3\n",
    ],
    ["a tab after the value", "a: 1\t\nb: 2\n", "a", 5, "a: 5\t\nb: 2\n"],
    ["an emoji", "a: x\n", "a", "🦞", "a: 🦞\n"],
    ["a lone surrogate, which only an escape can carry", "a: x\n", "a", "\ud800", 'a: "\\ud800"\n'],
    ["a line separator", "a: 'x'\n", "a", "\u2028", 'a: "\\u2028"\n'],
  ])("%s", (_name, text, path, value, expected) => {
    expect(edit(text, path, value)).toBe(expected);
  });

  it("refuses to create under a key that has no value node", () => {
    const error = inputErrorOf(() => edit("a: 1\n? cpu\n", "cpu.x", 1));
    expect(error.message).toBe(
      "cannot edit cpu.x: cpu is a key with no value at all; give it a value by hand first",
    );
    expect(error.location).toEqual({ file: "inline.yaml", line: 2, column: 3 });
  });

  it("refuses a root that is a scalar", () => {
    const error = inputErrorOf(() => edit("hello\n", "a.b", 1));
    expect(error.message).toMatch(/the document root is the value "hello", not a mapping/);
  });
});

describe("applyYamlEdits", () => {
  it("applies several edits in turn", () => {
    const text = "resources:\n  requests:\n    cpu: 100m # keep\n";
    const edited = applyYamlEdits(
      text,
      [
        { path: parsePath("resources.requests.cpu"), value: "250m" },
        { path: parsePath("resources.requests.memory"), value: "256Mi" },
        { path: parsePath("resources.limits.memory"), value: "512Mi" },
      ],
      "values.yaml",
    );
    expect(edited).toBe(
      "resources:\n  requests:\n    cpu: 250m # keep\n    memory: 256Mi\n  limits:\n    memory: 512Mi\n",
    );
  });

  it("returns nothing when one edit is refused", () => {
    const error = inputErrorOf(() =>
      applyYamlEdits(
        "a: &x 1\nb: *x\n",
        [
          { path: parsePath("c"), value: 1 },
          { path: parsePath("a"), value: 2 },
        ],
        "values.yaml",
      ),
    );
    expect(error.message).toMatch(/it is the anchor &x, which is also used at line 2/);
  });
});
