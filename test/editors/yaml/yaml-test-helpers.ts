import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { PathSegment } from "../../../src/editors/path.ts";
import type { ScalarValue } from "../../../src/editors/value.ts";
import { withValueAt } from "../../../src/editors/verify.ts";
import { InputError } from "../../../src/errors.ts";

const FIXTURES = new URL("../../fixtures/editors/yaml/", import.meta.url);

export function fixture(name: string): string {
  return readFileSync(new URL(name, FIXTURES), "utf8");
}

/** The lines that differ between two texts (split on LF, so CR stays visible). */
export interface LineDiff {
  /** 1-based line of the first difference. */
  line: number;
  removed: string[];
  added: string[];
}

export function lineDiff(before: string, after: string): LineDiff {
  const a = before.split("\n");
  const b = after.split("\n");
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (
    end < a.length - start &&
    end < b.length - start &&
    a[a.length - 1 - end] === b[b.length - 1 - end]
  )
    end++;
  return {
    line: start + 1,
    removed: a.slice(start, a.length - end),
    added: b.slice(start, b.length - end),
  };
}

/** Plain data of every document, read directly with the yaml package. */
export function streamData(text: string, version: "1.1" | "1.2"): unknown[] {
  const documents = parseAllDocuments(text, { version, merge: true });
  if (!Array.isArray(documents)) return [];
  return documents.map((document) => {
    if (document.errors.length > 0) throw new Error(document.errors[0]?.message);
    return document.toJS({ maxAliasCount: 10_000 });
  });
}

/** What the whole stream must read as once PATH in document INDEX holds VALUE. */
export function expectedStream(
  text: string,
  version: "1.1" | "1.2",
  index: number,
  path: readonly PathSegment[],
  value: ScalarValue,
): unknown[] {
  return streamData(text, version).map((data, i) =>
    i === index ? withValueAt(data, path, value) : data,
  );
}

/** Runs FN and returns the InputError it throws (failing when it throws nothing or else). */
export function inputErrorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error("expected an InputError, but nothing was thrown");
}
