import { InputError } from "../errors.ts";
import { formatPath, type PathSegment } from "./path.ts";
import type { ScalarValue } from "./value.ts";

/**
 * The data a file must hold after setting PATH to VALUE: a deep copy of `data` with the value
 * placed at PATH and any missing mappings on the way created. Editors compare the re-parsed
 * edited file against this, so an edit that disturbs anything else is refused.
 */
export function withValueAt(
  data: unknown,
  path: readonly PathSegment[],
  value: ScalarValue,
): unknown {
  const root = structuredClone(data) ?? {};
  let parent: unknown = root;
  path.forEach((segment, i) => {
    const last = i === path.length - 1;
    const container = parent as Record<string, unknown> | unknown[];
    const key = childKey(container, segment, path.slice(0, i + 1));
    if (last) {
      (container as Record<string | number, unknown>)[key] = value;
      return;
    }
    const next = (container as Record<string | number, unknown>)[key];
    if (next === undefined || next === null)
      (container as Record<string | number, unknown>)[key] = {};
    parent = (container as Record<string | number, unknown>)[key];
  });
  return root;
}

function childKey(
  container: unknown,
  segment: PathSegment,
  upTo: readonly PathSegment[],
): string | number {
  if (segment.kind === "key") {
    if (isPlainObject(container)) return segment.key;
  } else if (Array.isArray(container)) {
    if (segment.kind === "index" && segment.index < container.length) return segment.index;
    if (segment.kind === "match") {
      const found = container.findIndex(
        (item) => isPlainObject(item) && scalarText(item[segment.field]) === segment.value,
      );
      if (found >= 0) return found;
    }
  }
  throw new InputError(`${formatPath(upTo)} does not exist in the data`);
}

/** Reads the value at PATH from plain data, or `undefined` when some step is missing. */
export function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let current: unknown = data;
  for (const segment of path) {
    if (segment.kind === "key") {
      if (!isPlainObject(current) || !Object.hasOwn(current, segment.key)) return undefined;
      current = current[segment.key];
    } else if (!Array.isArray(current)) {
      return undefined;
    } else if (segment.kind === "index") {
      current = current[segment.index];
    } else {
      current = current.find(
        (item) => isPlainObject(item) && scalarText(item[segment.field]) === segment.value,
      );
    }
  }
  return current;
}

/** Text of a scalar as a `[field=value]` selector compares it. */
export function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Structural equality of parsed data (objects compared by key set, not key order). */
export function dataEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a === "number" && typeof b === "number") return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => dataEqual(item, b[i]));
  }
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.hasOwn(b, key) && dataEqual(a[key], b[key]));
  }
  return false;
}
