import type { z } from "zod";
import type { SnapshotWarning } from "../planning/snapshot.ts";
import { didYouMean } from "../policy/did-you-mean.ts";
import { childSchema, objectKeys } from "../policy/schema-keys.ts";

/** Distinct unknown fields warned about one by one; the rest are counted in one more warning. */
const LISTED_FIELDS = 20;

interface UnknownField {
  /** Where it was met first, with its indexes: `pods[3].annotations`. */
  first: string;
  /** How many objects of the same place have it: `pods[].annotations` in 12 pods. */
  count: number;
  suggestion?: string;
}

/**
 * Warnings for the fields of a saved snapshot that `schema` does not know, so that a field that
 * is ignored says so: one written by a newer pr-autoscaler, or a typo in a file written by hand
 * (`safe_to_evict`, an `annotations` map the planner never reads), which would otherwise leave a
 * pod evictable without a word. One warning per place (`pods[].annotations`), with how many
 * objects have it and the likely field meant.
 */
export function unknownFieldWarnings(schema: z.core.$ZodType, data: unknown): SnapshotWarning[] {
  const found = new Map<string, UnknownField>();
  walk(schema, data, [], found);
  const warnings = [...found].slice(0, LISTED_FIELDS).map(([place, field]) => ({
    code: "field-unknown",
    message: `${field.first}: not a snapshot field, ignored${field.suggestion ? `; did you mean "${field.suggestion}"?` : ""}${field.count > 1 ? ` (${place} is in ${field.count} places)` : ""}`,
  }));
  const rest = found.size - warnings.length;
  if (rest > 0)
    warnings.push({
      code: "field-unknown",
      message: `${rest} more fields that are not snapshot fields, ignored`,
    });
  return warnings;
}

/** Walks `value` beside its schema; `path` is the way there, changed in place as it goes. */
function walk(
  schema: z.core.$ZodType,
  value: unknown,
  path: PropertyKey[],
  found: Map<string, UnknownField>,
): void {
  if (value === null || typeof value !== "object") return;
  const parts = partsOf(schema);
  if (Array.isArray(value)) {
    const item = parts.child(0);
    if (!item) return;
    for (let index = 0; index < value.length; index++) {
      path.push(index);
      walk(item, value[index], path, found);
      path.pop();
    }
    return;
  }
  for (const key in value) {
    path.push(key);
    const child = parts.child(key);
    if (child) walk(child, (value as Record<string, unknown>)[key], path, found);
    else if (parts.keys.length > 0) note(found, path, didYouMean(key, parts.keys));
    path.pop();
  }
}

interface SchemaParts {
  /** The object's keys; empty for a list, a record or a plain value. */
  keys: string[];
  child(segment: PropertyKey): z.core.$ZodType | undefined;
}

// A snapshot has a few dozen schemas and hundreds of thousands of objects: each schema's parts
// are looked up once.
const parts = new WeakMap<z.core.$ZodType, SchemaParts>();

function partsOf(schema: z.core.$ZodType): SchemaParts {
  let known = parts.get(schema);
  if (known) return known;
  const children = new Map<PropertyKey, z.core.$ZodType | undefined>();
  known = {
    keys: objectKeys(schema),
    child(segment) {
      const key = typeof segment === "number" ? 0 : segment;
      if (!children.has(key)) children.set(key, childSchema(schema, key));
      return children.get(key);
    },
  };
  parts.set(schema, known);
  return known;
}

function note(
  found: Map<string, UnknownField>,
  path: readonly PropertyKey[],
  suggestion: string | undefined,
): void {
  const first = formatFieldPath(path);
  const place = first.replace(/\[\d+\]/g, "[]");
  const field = found.get(place);
  if (field) field.count++;
  else found.set(place, { first, count: 1, ...(suggestion ? { suggestion } : {}) });
}

/** A place in a snapshot as its messages name it: `nodes[3].capacity.cpu`, `labels["a/b"]`. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else {
      const name = String(key);
      text += /^[A-Za-z_$][\w$]*$/.test(name)
        ? `${text ? "." : ""}${name}`
        : `[${JSON.stringify(name)}]`;
    }
  }
  return text;
}
