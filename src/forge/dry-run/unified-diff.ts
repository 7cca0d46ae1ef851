/**
 * Unified diffs ("diff -u" / "git diff" format) of one file's old and new text, for showing what
 * a pull request would change. Lines are compared with their line ending, so a change of the
 * final newline shows as a change, with "\ No newline at end of file" like git and GNU diff.
 */

export interface UnifiedDiffOptions {
  /** Unchanged lines shown around each change (default 3). */
  context?: number;
}

type Edit = { kind: "equal" | "delete" | "insert"; line: string };

/** Above this many differences the diff stops searching for a shortest edit and replaces the
 * differing middle as one block: still a correct diff, never an unbounded amount of work. */
const MAX_EDIT_DISTANCE = 1000;

/**
 * The unified diff from `before` to `after` of `path` (undefined = the file does not exist), or
 * "" when they are equal. Paths are shown as `a/<path>` and `b/<path>`, as git does.
 */
export function unifiedDiff(
  path: string,
  before: string | undefined,
  after: string | undefined,
  options: UnifiedDiffOptions = {},
): string {
  if (before === after) return "";
  const edits = diffLines(splitLines(before ?? ""), splitLines(after ?? ""));
  const hunks = formatHunks(edits, options.context ?? 3);
  const from = before === undefined ? "/dev/null" : `a/${path}`;
  const to = after === undefined ? "/dev/null" : `b/${path}`;
  return `--- ${from}\n+++ ${to}\n${hunks}`;
}

/** Lines with their "\n" kept; the last one may have none. */
export function splitLines(text: string): string[] {
  return text === "" ? [] : (text.match(/[^\n]*\n|[^\n]+$/g) ?? []);
}

/** The edit script from `a` to `b`: common prefix and suffix, and a shortest edit between. */
function diffLines(a: string[], b: string[]): Edit[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const equal = (line: string): Edit => ({ kind: "equal", line });
  return [
    ...a.slice(0, start).map(equal),
    ...middleEdits(a.slice(start, endA), b.slice(start, endB)),
    ...a.slice(endA).map(equal),
  ];
}

function middleEdits(a: string[], b: string[]): Edit[] {
  const replaced = (): Edit[] => [
    ...a.map((line): Edit => ({ kind: "delete", line })),
    ...b.map((line): Edit => ({ kind: "insert", line })),
  ];
  if (a.length === 0 || b.length === 0) return replaced();
  return myers(a, b) ?? replaced();
}

/**
 * Myers' O((N+M)·D) shortest edit script, keeping each round's frontier to walk back. Undefined
 * when the distance exceeds MAX_EDIT_DISTANCE.
 */
function myers(a: string[], b: string[]): Edit[] | undefined {
  const max = Math.min(a.length + b.length, MAX_EDIT_DISTANCE);
  const offset = max + 1;
  const frontier = new Int32Array(2 * max + 3);
  const rounds: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    for (let k = -d; k <= d; k += 2) {
      const down =
        k === -d || (k !== d && at(frontier, offset + k - 1) < at(frontier, offset + k + 1));
      let x = down ? at(frontier, offset + k + 1) : at(frontier, offset + k - 1) + 1;
      let y = x - k;
      while (x < a.length && y < b.length && a[x] === b[y]) {
        x++;
        y++;
      }
      frontier[offset + k] = x;
      if (x >= a.length && y >= b.length) {
        rounds.push(frontier.slice());
        return walkBack(rounds, offset, a, b);
      }
    }
    rounds.push(frontier.slice());
  }
  return undefined;
}

function at(array: Int32Array, index: number): number {
  return array[index] ?? 0;
}

function walkBack(rounds: Int32Array[], offset: number, a: string[], b: string[]): Edit[] {
  const edits: Edit[] = [];
  let x = a.length;
  let y = b.length;
  const snake = (toX: number) => {
    while (x > toX) {
      x--;
      y--;
      edits.push({ kind: "equal", line: a[x] as string });
    }
  };
  for (let d = rounds.length - 1; d > 0; d--) {
    const previous = rounds[d - 1] as Int32Array;
    const k = x - y;
    const down =
      k === -d || (k !== d && at(previous, offset + k - 1) < at(previous, offset + k + 1));
    const startX = at(previous, offset + (down ? k + 1 : k - 1)) + (down ? 0 : 1);
    snake(startX);
    if (down) {
      y--;
      edits.push({ kind: "insert", line: b[y] as string });
    } else {
      x--;
      edits.push({ kind: "delete", line: a[x] as string });
    }
  }
  snake(0);
  return edits.reverse();
}

/** Groups changes with `context` lines around them; hunks whose context touches are merged. */
function formatHunks(edits: Edit[], context: number): string {
  const changed = edits.flatMap((edit, index) => (edit.kind === "equal" ? [] : [index]));
  let output = "";
  let group = 0;
  while (group < changed.length) {
    let last = group;
    while (
      last + 1 < changed.length &&
      (changed[last + 1] as number) - (changed[last] as number) - 1 <= 2 * context
    ) {
      last++;
    }
    const from = Math.max(0, (changed[group] as number) - context);
    const to = Math.min(edits.length, (changed[last] as number) + context + 1);
    output += formatHunk(edits, from, to);
    group = last + 1;
  }
  return output;
}

function formatHunk(edits: Edit[], from: number, to: number): string {
  let oldStart = 1;
  let newStart = 1;
  for (const edit of edits.slice(0, from)) {
    if (edit.kind !== "insert") oldStart++;
    if (edit.kind !== "delete") newStart++;
  }
  const slice = edits.slice(from, to);
  const oldLength = slice.filter((edit) => edit.kind !== "insert").length;
  const newLength = slice.filter((edit) => edit.kind !== "delete").length;
  const lines = slice.map((edit) => {
    const sign = edit.kind === "equal" ? " " : edit.kind === "delete" ? "-" : "+";
    const text = edit.line.endsWith("\n")
      ? edit.line
      : `${edit.line}\n\\ No newline at end of file\n`;
    return `${sign}${text}`;
  });
  return `@@ -${range(oldStart, oldLength)} +${range(newStart, newLength)} @@\n${lines.join("")}`;
}

/** "start,length", with an empty range starting at the line before it and ",1" left out. */
function range(start: number, length: number): string {
  if (length === 0) return `${start - 1},0`;
  return length === 1 ? `${start}` : `${start},${length}`;
}
