import hcl from "hcl2-parser";
import { type PathSegment, parsePath } from "../editors/path.ts";
import { isPlainObject, valueAt } from "../editors/verify.ts";
import { InputError } from "../errors.ts";
import type { ExpectedChange } from "./guard.ts";

/** One version of a tfvars file: its text and the name to use in messages. */
export interface TfvarsVersion {
  text: string;
  file: string;
}

/** A pool size: a count, or the keys of a for_each map/set. */
export type PoolSize = { kind: "count"; count: number } | { kind: "keys"; keys: string[] };

/**
 * The expected worker change from the tfvars before and after the merged pull request.
 * `variable` is the variable's name or a PATH into it (`pools.workers.count`,
 * `workers["gpu"].count`). A whole number gives {from, to}; a list of names or a map gives the
 * counts and the keys added and removed (for `for_each` pools).
 * Throws an InputError (file and line) when either side lacks the value or it is of another kind.
 */
export function expectedChangeFromTfvars(
  before: TfvarsVersion,
  after: TfvarsVersion,
  variable: string,
): ExpectedChange {
  const from = tfvarsPoolSize(before, variable);
  const to = tfvarsPoolSize(after, variable);
  const change = changeBetween(from, to);
  if (change !== undefined) return change;
  throw new InputError(
    `${variable} is a ${describe(from)} before and a ${describe(to)} after: the guard cannot compare them`,
    { file: after.file },
  );
}

/**
 * The pool size that `variable` (a name or PATH) gives in one tfvars version. Throws an
 * InputError (file and line) when the value is missing or of another kind.
 */
export function tfvarsPoolSize(version: TfvarsVersion, variable: string): PoolSize {
  return poolSize(version, parsePath(variable), variable);
}

/**
 * The change from one pool size to another, or undefined when one is a count and the other a
 * set of keys (no change can turn one into the other).
 */
export function changeBetween(from: PoolSize, to: PoolSize): ExpectedChange | undefined {
  if (from.kind === "count" && to.kind === "count") return { from: from.count, to: to.count };
  if (from.kind === "keys" && to.kind === "keys") {
    return {
      from: from.keys.length,
      to: to.keys.length,
      addedKeys: to.keys.filter((k) => !from.keys.includes(k)),
      removedKeys: from.keys.filter((k) => !to.keys.includes(k)),
    };
  }
  return undefined;
}

/** Whether two pool sizes are the same: equal counts, or the same set of keys. */
export function samePoolSize(a: PoolSize, b: PoolSize): boolean {
  if (a.kind === "count" && b.kind === "count") return a.count === b.count;
  if (a.kind === "keys" && b.kind === "keys") {
    return a.keys.length === b.keys.length && a.keys.every((k) => b.keys.includes(k));
  }
  return false;
}

function poolSize(version: TfvarsVersion, path: PathSegment[], variable: string): PoolSize {
  const data = parseTfvars(version);
  const value = valueAt(data, path);
  const location = { file: version.file, ...lineOf(version.text, path) };
  if (value === undefined || value === null) {
    throw new InputError(
      `${variable} is not set here, so the worker count is unknown (a variable's default is not read: set it in the tfvars)`,
      { file: version.file },
    );
  }
  if (typeof value === "number" || (typeof value === "string" && /^\d+$/.test(value))) {
    const count = Number(value);
    if (Number.isSafeInteger(count) && count >= 0) return { kind: "count", count };
  }
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
    return { kind: "keys", keys: [...new Set(value as string[])] };
  }
  if (isPlainObject(value)) return { kind: "keys", keys: Object.keys(value) };
  throw new InputError(
    `${variable} is ${JSON.stringify(value)}: expected a whole number (count), a list of names or a map (for_each)`,
    location,
  );
}

/**
 * The tfvars file's values: HCL, or JSON (`terraform.tfvars.json`). JSON is told by the name, or
 * by the text, which in HCL cannot begin with `{`: the workflow hands the guard the earlier
 * version under a name of its own (`tfvars-before`).
 */
function parseTfvars(version: TfvarsVersion): unknown {
  if (version.file.endsWith(".json") || version.text.trimStart().startsWith("{")) {
    return parseJsonTfvars(version);
  }
  const [data, error] = hcl.parseToObject(version.text) as [unknown, unknown];
  if (error !== null && error !== undefined) {
    throw new InputError(
      "not valid HCL: the tfvars file does not parse (run `terraform fmt` on it to see where)",
      { file: version.file },
    );
  }
  return data;
}

function parseJsonTfvars(version: TfvarsVersion): unknown {
  let data: unknown;
  try {
    data = JSON.parse(version.text);
  } catch (error) {
    throw new InputError(
      `not valid JSON: the tfvars file does not parse (${(error as Error).message})`,
      { file: version.file },
    );
  }
  if (!isPlainObject(data)) {
    throw new InputError("a JSON tfvars file holds one object of variable values", {
      file: version.file,
    });
  }
  return data;
}

/** Line of the top-level attribute the path starts with (HCL `name =`, JSON `"name":`). */
function lineOf(text: string, path: PathSegment[]): { line?: number } {
  const first = path[0];
  if (first?.kind !== "key") return {};
  const name = first.key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`^\\s*(?:${name}|"${name}")\\s*[=:]`);
  const index = text.split("\n").findIndex((line) => pattern.test(line));
  return index < 0 ? {} : { line: index + 1 };
}

function describe(size: PoolSize): string {
  return size.kind === "count" ? "count" : "set of keys";
}
