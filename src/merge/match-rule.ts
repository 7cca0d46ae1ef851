import { percentBeside } from "../planning/format.ts";
import type { PolicyMatch } from "../policy/automerge-policy.ts";
import type { PolicySubject } from "./policy-subject.ts";

/** Whether a rule's match holds for a subject: the facts that matched, or the first that did not. */
export type RuleMatch = { matches: true; facts: string[] } | { matches: false; reason: string };

type Check = (match: PolicyMatch, subject: PolicySubject) => string | { fact: string } | undefined;

/**
 * Matches a rule against a subject. Every key of the match must hold; a key that cannot be
 * checked (a step for a resources change, a percentage without a previous value) does not hold.
 */
export function matchRule(match: PolicyMatch, subject: PolicySubject): RuleMatch {
  const facts: string[] = [];
  for (const check of CHECKS) {
    const result = check(match, subject);
    if (result === undefined) continue;
    if (typeof result === "string") return { matches: false, reason: result };
    facts.push(result.fact);
  }
  return { matches: true, facts: facts.length > 0 ? facts : ["it matches every change"] };
}

const CHECKS: Check[] = [
  function kind(match, subject) {
    if (!match.kind) return undefined;
    return match.kind.includes(subject.kind)
      ? { fact: `kind ${subject.kind}` }
      : `kind ${subject.kind} is not ${list(match.kind)}`;
  },
  function direction(match, subject) {
    if (!match.direction) return undefined;
    const allowed = match.direction;
    if (subject.kind === "resources") {
      if (subject.resources.length === 0) return "the change has no values to compare";
      const wrong = subject.resources.find((change) => !allowed.includes(change.direction));
      return wrong
        ? `${describeChange(wrong)} goes ${wrong.direction}, not ${list(allowed)}`
        : { fact: `every value goes ${list(allowed)}` };
    }
    return subject.direction !== "mixed" && allowed.includes(subject.direction)
      ? { fact: `direction ${subject.direction}` }
      : `direction ${subject.direction} is not ${list(allowed)}`;
  },
  function maxStep(match, subject) {
    if (match.maxStep === undefined) return undefined;
    if (subject.kind !== "nodes" || subject.step === undefined)
      return "maxStep applies to node changes only";
    return subject.step <= match.maxStep
      ? { fact: `step ${subject.step} ≤ ${match.maxStep}` }
      : `step ${subject.step} is more than maxStep ${match.maxStep}`;
  },
  function maxChange(match, subject) {
    if (match.maxChange === undefined) return undefined;
    if (subject.kind !== "resources") return "maxChange applies to resource changes only";
    if (subject.resources.length === 0) return "the change has no values to compare";
    const limit = match.maxChange;
    for (const change of subject.resources) {
      if (change.relativeChange === undefined)
        return `${describeChange(change)} had no value before, so its change is unknown`;
      const percent = Math.abs(change.relativeChange) * 100;
      // A hair of tolerance for percentages that are not exact in binary.
      if (percent > limit + 1e-9)
        return `${describeChange(change)} changes by ${above(percent, limit)} %, more than maxChange ${limit} %`;
    }
    return { fact: `every value changes by at most ${limit} %` };
  },
  function resource(match, subject) {
    if (!match.resource) return undefined;
    if (subject.kind !== "resources") return "resource applies to resource changes only";
    if (subject.resources.length === 0) return "the change has no values to compare";
    const allowed = match.resource;
    const wrong = subject.resources.find((change) => !allowed.includes(change.resource));
    return wrong
      ? `${describeChange(wrong)} is not ${list(allowed)}`
      : { fact: `only ${list(allowed)} changes` };
  },
  (match, subject) => names("pool", match.pool, subject.pool),
  (match, subject) => names("namespace", match.namespace, subject.namespace),
  (match, subject) => names("workload", match.workload, subject.workload),
  function labels(match, subject) {
    if (!match.labels) return undefined;
    for (const [key, value] of Object.entries(match.labels)) {
      const actual = subject.labels[key];
      if (actual === undefined) return `label ${key} is not set`;
      if (value !== "*" && actual !== value)
        return `label ${key} is ${JSON.stringify(actual)}, not ${JSON.stringify(value)}`;
    }
    return {
      fact: `labels ${Object.entries(match.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}`,
    };
  },
];

function names(what: string, patterns: string[] | undefined, value: string | undefined) {
  if (!patterns) return undefined;
  if (value === undefined) return `the change has no ${what}`;
  return patterns.some((pattern) => globMatches(pattern, value))
    ? { fact: `${what} ${value}` }
    : `${what} ${value} is not ${list(patterns)}`;
}

/** `*` matches any run of characters; everything else is literal. */
export function globMatches(pattern: string, value: string): boolean {
  const source = pattern.split("*").map(escapeRegExp).join(".*");
  return new RegExp(`^${source}$`).test(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function describeChange(change: PolicySubject["resources"][number]): string {
  return change.container ? `${change.container} ${change.resource}` : change.resource;
}

function list(values: readonly string[]): string {
  return values.length === 1 ? String(values[0]) : `one of ${values.join(", ")}`;
}

/**
 * PERCENT, which is above LIMIT, to one decimal, or to as many more as it takes to read as
 * above it (20.04, not 20.0, against 20).
 */
function above(percent: number, limit: number): string {
  return String(percentBeside(percent, limit, 1));
}
