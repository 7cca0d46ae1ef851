import { UsageError } from "../errors.ts";
import type { LabelSelector } from "../planning/snapshot.ts";

type Expression = NonNullable<LabelSelector["matchExpressions"]>[number];

const labelKey =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Reads a label selector in kubectl's syntax (`pool=workers,tier!=gpu,zone in (a,b),!old,ssd`)
 * into a {@link LabelSelector}.
 * @throws UsageError naming the term it cannot read.
 */
export function parseSelectorFlag(text: string, flag = "--selector"): LabelSelector {
  const selector: LabelSelector = {};
  const expressions: Expression[] = [];
  for (const term of splitTerms(text)) {
    const equality = /^([^=!\s(),]+)\s*(==|=)\s*([^=!\s(),]*)$/.exec(term);
    if (equality) {
      const [, key = "", , value = ""] = equality;
      checkKey(key, term, flag);
      checkValue(value, term, flag);
      selector.matchLabels ??= {};
      const labels = selector.matchLabels;
      if (labels[key] !== undefined && labels[key] !== value) {
        throw new UsageError(`${flag}: ${key} cannot equal both ${labels[key]} and ${value}`);
      }
      labels[key] = value;
      continue;
    }
    expressions.push(expressionOf(term, flag));
  }
  if (expressions.length > 0) selector.matchExpressions = expressions;
  return selector;
}

function expressionOf(term: string, flag: string): Expression {
  const inequality = /^([^=!\s(),]+)\s*!=\s*([^=!\s(),]*)$/.exec(term);
  if (inequality) {
    const [, key = "", value = ""] = inequality;
    checkKey(key, term, flag);
    checkValue(value, term, flag);
    return { key, operator: "NotIn", values: [value] };
  }
  const set = /^(\S+)\s+(in|notin)\s+\(([^()]*)\)$/.exec(term);
  if (set) {
    const [, key = "", operator, list = ""] = set;
    checkKey(key, term, flag);
    const values = list.split(",").map((value) => value.trim());
    for (const value of values) checkValue(value, term, flag);
    return { key, operator: operator === "in" ? "In" : "NotIn", values };
  }
  if (term.startsWith("!")) {
    const key = term.slice(1).trim();
    checkKey(key, term, flag);
    return { key, operator: "DoesNotExist" };
  }
  checkKey(term, term, flag);
  return { key: term, operator: "Exists" };
}

/** Splits on commas outside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of text) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      terms.push(current.trim());
      current = "";
    } else current += char;
  }
  terms.push(current.trim());
  if (terms.some((term) => term === "")) {
    throw new UsageError(`selector ${JSON.stringify(text)} has an empty term`);
  }
  return terms;
}

function checkKey(key: string, term: string, flag: string): void {
  if (!labelKey.test(key) || key.length > 316) {
    throw new UsageError(`${flag}: ${JSON.stringify(term)} does not start with a label key`);
  }
}

function checkValue(value: string, term: string, flag: string): void {
  if (!labelValue.test(value) || value.length > 63) {
    throw new UsageError(
      `${flag}: ${JSON.stringify(value)} in ${JSON.stringify(term)} is not a label value`,
    );
  }
}

/** A selector in kubectl's syntax, for messages; "every node that is not control plane" when there is none. */
export function formatSelector(selector: LabelSelector | undefined): string {
  const terms = [
    ...Object.entries(selector?.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`),
    ...(selector?.matchExpressions ?? []).map(formatExpression),
  ];
  return terms.length > 0 ? terms.join(",") : "every node that is not control plane";
}

function formatExpression(expression: Expression): string {
  const values = expression.values ?? [];
  switch (expression.operator) {
    case "In":
      return `${expression.key} in (${values.join(",")})`;
    case "NotIn":
      return values.length === 1
        ? `${expression.key}!=${values[0]}`
        : `${expression.key} notin (${values.join(",")})`;
    case "Exists":
      return expression.key;
    case "DoesNotExist":
      return `!${expression.key}`;
  }
}
