/** A JSON Schema fragment; the rules below are written for draft 7. */
export type SchemaFragment = Record<string, unknown>;

/**
 * JSON Schema that an object has all of `keys`. The keys are also listed (as `true`) under
 * `properties`, so strict validators such as Ajv do not take them for typos of undefined keys.
 */
export function hasKeys(...keys: string[]): SchemaFragment {
  return { required: keys, properties: Object.fromEntries(keys.map((key) => [key, true])) };
}

/** JSON Schema that an object has at least one of `keys`. */
export function hasAnyKey(keys: readonly string[]): SchemaFragment {
  return { anyOf: keys.map((key) => hasKeys(key)) };
}

/** JSON Schema `if`/`then`/`else`: data that matches `condition` must match `then`, else `otherwise`. */
export function conditional(
  condition: SchemaFragment,
  then: SchemaFragment,
  otherwise?: SchemaFragment,
): SchemaFragment {
  const rule: SchemaFragment = { if: condition };
  // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword; this object is data, never awaited.
  rule.then = then;
  if (otherwise) rule.else = otherwise;
  return rule;
}
