import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { splitLines, unifiedDiff } from "../../../src/forge/dry-run/unified-diff.ts";

/** Applies a unified diff to `before`, checking every context and removed line. */
function applyDiff(before: string, diff: string): string {
  if (diff === "") return before;
  const old = splitLines(before);
  const lines = diff.split("\n").slice(2, -1);
  const out: string[] = [];
  let position = 0;
  let index = 0;
  while (index < lines.length) {
    const header = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(lines[index] ?? "");
    if (!header) throw new Error(`bad hunk header ${lines[index]}`);
    const oldStart = Number(header[1]);
    const start = header[2] === "0" ? oldStart : oldStart - 1;
    out.push(...old.slice(position, start));
    position = start;
    index++;
    while (index < lines.length && !lines[index]?.startsWith("@@")) {
      const line = lines[index] ?? "";
      const noNewline = lines[index + 1] === "\\ No newline at end of file";
      const text = line.slice(1) + (noNewline ? "" : "\n");
      if (line[0] === "+") out.push(text);
      else {
        if (old[position] !== text) throw new Error(`context mismatch at old line ${position + 1}`);
        if (line[0] === " ") out.push(text);
        position++;
      }
      index += noNewline ? 2 : 1;
    }
  }
  out.push(...old.slice(position));
  return out.join("");
}

/** Lines added plus lines removed by the shortest edit (through the longest common subsequence). */
function editDistance(a: string[], b: string[]): number {
  const table = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const row = table[i] as number[];
      row[j] =
        a[i] === b[j]
          ? ((table[i + 1] as number[])[j + 1] as number) + 1
          : Math.max((table[i + 1] as number[])[j] as number, row[j + 1] as number);
    }
  }
  return a.length + b.length - 2 * ((table[0] as number[])[0] as number);
}

const text = fc
  .tuple(
    fc.array(fc.constantFrom("a", "b", "c", "", "worker_count = 3", "  x: 1"), { maxLength: 25 }),
    fc.boolean(),
  )
  .map(([lines, newline]) => (lines.length === 0 ? "" : lines.join("\n") + (newline ? "\n" : "")));

describe("unified diffs", () => {
  it("shows a one-line change with three lines of context, as diff -u does", () => {
    const before = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
    const after = "a\nb\nc\nd\nE\nf\ng\nh\ni\n";
    expect(unifiedDiff("values.yaml", before, after)).toBe(
      "--- a/values.yaml\n+++ b/values.yaml\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n",
    );
  });

  it("marks a missing final newline and shows new and removed files against /dev/null", () => {
    expect(unifiedDiff("x", "a\nb", "a\nb\n")).toBe(
      "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
    );
    expect(unifiedDiff("new.yaml", undefined, "a: 1\n")).toBe(
      "--- /dev/null\n+++ b/new.yaml\n@@ -0,0 +1 @@\n+a: 1\n",
    );
    expect(unifiedDiff("old.yaml", "a: 1\n", undefined)).toBe(
      "--- a/old.yaml\n+++ /dev/null\n@@ -1 +0,0 @@\n-a: 1\n",
    );
  });

  it("splits changes far apart into hunks and merges close ones", () => {
    const lines = Array.from({ length: 20 }, (_, index) => `line ${index + 1}`);
    const changed = lines.map((line, index) => (index === 1 || index === 17 ? `${line}!` : line));
    const diff = unifiedDiff("f", `${lines.join("\n")}\n`, `${changed.join("\n")}\n`);
    expect(diff.match(/^@@ .* @@$/gm)).toEqual(["@@ -1,5 +1,5 @@", "@@ -15,6 +15,6 @@"]);
    const near = lines.map((line, index) => (index === 1 || index === 7 ? `${line}!` : line));
    expect(
      unifiedDiff("f", `${lines.join("\n")}\n`, `${near.join("\n")}\n`).match(/^@@ .* @@$/gm),
    ).toEqual(["@@ -1,11 +1,11 @@"]);
  });

  it("is empty exactly when nothing changed", () => {
    fc.assert(fc.property(text, text, (a, b) => (unifiedDiff("f", a, b) === "") === (a === b)));
  });

  it("turns the old text into the new one when applied", () => {
    fc.assert(
      fc.property(text, text, fc.integer({ min: 0, max: 4 }), (a, b, context) => {
        expect(applyDiff(a, unifiedDiff("f", a, b, { context }))).toBe(b);
      }),
      { numRuns: 500 },
    );
  });

  it("changes as few lines as possible", () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const changed = unifiedDiff("f", a, b, { context: 0 })
          .split("\n")
          .slice(2)
          .filter((line) => line.startsWith("+") || line.startsWith("-")).length;
        expect(changed).toBe(editDistance(splitLines(a), splitLines(b)));
      }),
      { numRuns: 300 },
    );
  });

  it("is accepted by git apply", () => {
    const directory = mkdtempSync(join(tmpdir(), "unified-diff-"));
    try {
      fc.assert(
        fc.property(text, text, (a, b) => {
          fc.pre(a !== b && a !== "");
          writeFileSync(join(directory, "f"), a);
          writeFileSync(join(directory, "change.patch"), unifiedDiff("f", a, b));
          const applied = spawnSync("git", ["apply", "--whitespace=nowarn", "change.patch"], {
            cwd: directory,
            encoding: "utf8",
          });
          expect(applied.stderr).toBe("");
          expect(applied.status).toBe(0);
          expect(readFileSync(join(directory, "f"), "utf8")).toBe(b);
        }),
        { numRuns: 40 },
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("stays correct, if not minimal, when the texts differ everywhere", () => {
    const a = Array.from({ length: 3000 }, (_, index) => `a${index}\n`).join("");
    const b = Array.from({ length: 3000 }, (_, index) => `b${index}\n`).join("");
    expect(applyDiff(a, unifiedDiff("f", a, b))).toBe(b);
  });
});
