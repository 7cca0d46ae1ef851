import type { LabelSelector } from "../planning/snapshot.ts";
import { list, oneOf, record, string, stringList, stringMap } from "./raw.ts";

const selectorOperators = ["In", "NotIn", "Exists", "DoesNotExist"] as const;

/**
 * A metav1.LabelSelector; `undefined` for null or a non-object (which selects nothing where
 * Kubernetes reads a null selector so). Expressions with an unknown operator are dropped.
 */
export function readLabelSelector(value: unknown): LabelSelector | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const source = record(value);
  const selector: LabelSelector = {};
  if (source.matchLabels !== undefined) selector.matchLabels = stringMap(source.matchLabels);
  const expressions: NonNullable<LabelSelector["matchExpressions"]> = [];
  for (const item of list(source.matchExpressions)) {
    const entry = record(item);
    const key = string(entry.key);
    const operator = oneOf(entry.operator, selectorOperators);
    if (key === undefined || operator === undefined) continue;
    expressions.push(
      Array.isArray(entry.values)
        ? { key, operator, values: stringList(entry.values) }
        : { key, operator },
    );
  }
  if (expressions.length > 0) selector.matchExpressions = expressions;
  return selector;
}
