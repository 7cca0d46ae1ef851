import type { z } from "zod";
import { counted } from "../util/plural.ts";
import { didYouMean } from "./did-you-mean.ts";

type RawIssue = z.core.$ZodRawIssue;

/**
 * Plain-language messages for zod's generic issues; `undefined` leaves zod's own message
 * (schemas that set their own `error` text keep it, since those take precedence).
 */
export function configIssueMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      return invalidType(issue.expected, issue.input, issue.path);
    case "too_small":
      return tooSmall(issue.origin, Number(issue.minimum), issue.inclusive !== false);
    case "too_big":
      return tooBig(issue.origin, Number(issue.maximum), issue.inclusive !== false);
    case "invalid_value":
      return invalidValue(issue.values, issue.input);
    case "invalid_key":
      // A record's key refused by its own schema: that schema's message says why.
      return issue.issues.map((inner) => inner.message).join("; ");
    default:
      return undefined;
  }
}

function invalidType(expected: string, input: unknown, path: PropertyKey[] | undefined): string {
  if (input === undefined) {
    const key = path?.at(-1);
    return key === undefined
      ? `${noun(expected)} is required`
      : `missing required key "${String(key)}"`;
  }
  if (input === null) return `expected ${noun(expected)}, got an empty value${emptyHint(expected)}`;
  return `expected ${noun(expected)}, got ${describe(input)}`;
}

/** How to write an empty collection, which a key with nothing after it is not. */
function emptyHint(expected: string): string {
  if (expected === "object" || expected === "record") return " (for an empty mapping, write {})";
  if (expected === "array") return " (for an empty list, write [])";
  return "";
}

function tooSmall(origin: string, minimum: number, inclusive: boolean): string {
  if (origin === "string")
    return minimum <= 1 ? "must not be empty" : `needs at least ${minimum} characters`;
  if (origin === "array") return `needs at least ${counted(minimum, "item")}`;
  return inclusive ? `must be at least ${minimum}` : `must be more than ${minimum}`;
}

function tooBig(origin: string, maximum: number, inclusive: boolean): string {
  if (origin === "string") return `must be at most ${maximum} characters`;
  if (origin === "array") return `takes at most ${counted(maximum, "item")}`;
  return inclusive ? `must be at most ${maximum}` : `must be less than ${maximum}`;
}

function invalidValue(values: readonly unknown[], input: unknown): string {
  const choices = values.map((value) => JSON.stringify(value)).join(", ");
  const suggestion =
    typeof input === "string"
      ? didYouMean(
          input,
          values.filter((value): value is string => typeof value === "string"),
        )
      : undefined;
  const hint = suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : "";
  return `${describe(input)} is not allowed: use one of ${choices}${hint}`;
}

function noun(expected: string): string {
  switch (expected) {
    case "int":
      return "a whole number";
    case "number":
      return "a number";
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "object":
    case "record":
      return "a mapping";
    case "array":
      return "a list";
    default:
      return expected;
  }
}

function describe(input: unknown): string {
  if (typeof input === "string") return `the string ${JSON.stringify(input)}`;
  if (typeof input === "number" || typeof input === "boolean") return String(input);
  if (Array.isArray(input)) return "a list";
  if (input === null) return "an empty value";
  if (typeof input === "object") return "a mapping";
  return typeof input;
}
