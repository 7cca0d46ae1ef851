import type { z } from "zod";

/** The parts of a zod definition this walker reads; each wrapper exposes its inner schema. */
interface WalkableDef {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
}

/**
 * The keys an object schema accepts at `path` (list indexes and record keys step through), so an
 * unknown key can be matched against what was probably meant. Empty when the path leads to no
 * object schema.
 */
export function knownKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.core.$ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (!current) return [];
    const def = defOf(current);
    if (def.type === "object") current = def.shape?.[String(segment)];
    else if (def.type === "array") current = def.element;
    else if (def.type === "record") current = def.valueType;
    else return [];
    current = current && unwrap(current);
  }
  const def = current && defOf(current);
  return def?.type === "object" ? Object.keys(def.shape ?? {}) : [];
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
