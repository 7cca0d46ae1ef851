import type { z } from "zod";

/** The parts of a zod definition this walker reads; each wrapper exposes its inner schema. */
interface WalkableDef {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  options?: z.core.$ZodType[];
}

/**
 * The keys an object schema accepts at `path` (list indexes and record keys step through), so an
 * unknown key can be matched against what was probably meant. Empty when the path leads to no
 * object schema.
 */
export function knownKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.core.$ZodType | undefined = schema;
  for (const segment of path) {
    if (!current) return [];
    current = childSchema(current, segment);
  }
  return current ? objectKeys(current) : [];
}

/**
 * The schema of what `segment` holds inside a value of `schema`: an object's key, a list's
 * item, a record's value; in a union, the first option that has such a part. Undefined when it
 * has none (a key the object does not know, a part of a plain value).
 */
export function childSchema(
  schema: z.core.$ZodType,
  segment: PropertyKey,
): z.core.$ZodType | undefined {
  const def = defOf(unwrap(schema));
  if (def.type === "union") {
    for (const option of def.options ?? []) {
      const child = childSchema(option, segment);
      if (child) return child;
    }
    return undefined;
  }
  if (def.type === "object") {
    // Own keys only: `constructor` or `__proto__` in a file must not find Object's members.
    const key = String(segment);
    return def.shape && Object.hasOwn(def.shape, key) ? def.shape[key] : undefined;
  }
  if (def.type === "array") return def.element;
  if (def.type === "record") return def.valueType;
  return undefined;
}

/** The keys of the object schema `schema` (or of its union's object options); empty for any other. */
export function objectKeys(schema: z.core.$ZodType): string[] {
  const def = defOf(unwrap(schema));
  if (def.type === "union") return [...new Set((def.options ?? []).flatMap(objectKeys))];
  return def.type === "object" ? Object.keys(def.shape ?? {}) : [];
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    const inner = def.innerType ?? (def.type === "pipe" ? def.in : undefined);
    if (!inner) return current;
    current = inner;
  }
}

function defOf(schema: z.core.$ZodType): WalkableDef {
  return schema._zod.def as unknown as WalkableDef;
}
