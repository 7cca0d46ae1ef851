/** Replace the text from `start` to `end` (offsets into the original text) with `text`. */
export interface Splice {
  start: number;
  end: number;
  text: string;
}

/** Applies non-overlapping SPLICES to TEXT; offsets refer to the original text. */
export function applySplices(text: string, splices: readonly Splice[]): string {
  const ordered = [...splices].sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  let limit = text.length;
  for (const splice of ordered) {
    if (splice.start > splice.end || splice.end > limit)
      throw new Error(`overlapping or inverted splice at ${splice.start}..${splice.end}`);
    out = out.slice(0, splice.start) + splice.text + out.slice(splice.end);
    limit = splice.start;
  }
  return out;
}

/**
 * A splice that adds LINES after the line holding offset AFTER, keeping the file's line
 * ending and its final newline (or its absence). When AFTER is already at a line start the
 * lines go there, each with its own line break.
 */
export function addLinesAfter(
  text: string,
  after: number,
  lines: readonly string[],
  lineEnding: string,
): Splice {
  if (after === 0 || text[after - 1] === "\n") {
    const added = lines.map((line) => line + lineEnding).join("");
    return { start: after, end: after, text: added };
  }
  let at = text.indexOf("\n", after);
  if (at < 0) at = text.length;
  else if (text[at - 1] === "\r") at--;
  return { start: at, end: at, text: lines.map((line) => lineEnding + line).join("") };
}

/** Writes TEXT where a value is missing (`key:`), keeping it apart from a following comment. */
export function fillEmpty(text: string, at: number, value: string): Splice {
  const before = /[ \t]/.test(text[at - 1] ?? "") ? "" : " ";
  const after = text[at] === "#" ? " " : "";
  return { start: at, end: at, text: before + value + after };
}

/** Offset where the run of spaces and tabs ending at OFFSET starts. */
export function spacesBefore(text: string, offset: number): number {
  let i = offset;
  while (i > 0 && (text[i - 1] === " " || text[i - 1] === "\t")) i--;
  return i;
}

/** Number of spaces that indent the line holding OFFSET. */
export function lineIndent(text: string, offset: number): number {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  return /^ */.exec(text.slice(lineStart))?.[0].length ?? 0;
}
