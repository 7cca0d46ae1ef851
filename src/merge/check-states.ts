import type { Blocker } from "./verdict.ts";

export type CheckState = "success" | "pending" | "failure";

/** What GitHub says about the checks of a pull request's head commit. */
export interface CheckStates {
  /** Checks branch protection and rulesets require; undefined when neither could be read. */
  required: string[] | undefined;
  /** Every commit status context and check run name on the head commit, with its state. */
  states: Record<string, CheckState>;
}

/**
 * Which checks must pass: those the policy names, plus those branch protection and rulesets
 * require. When none are named anywhere, every check reported on the commit must pass.
 */
export function requiredCheckNames(
  policyChecks: readonly string[],
  checks: CheckStates | undefined,
): string[] {
  const names = new Set([...policyChecks, ...(checks?.required ?? [])]);
  if (names.size === 0 && checks) for (const name of Object.keys(checks.states)) names.add(name);
  return [...names].sort();
}

/**
 * The checks blocker: every required check must be green on the head commit; a failing, pending
 * or missing one blocks. Undefined when all pass.
 */
export function checksBlocker(
  required: readonly string[],
  checks: CheckStates | undefined,
): Blocker | undefined {
  if (!checks)
    return {
      kind: "checks",
      message:
        required.length > 0
          ? `checks not read yet: ${required.join(", ")} must pass`
          : "checks not read yet",
      checks: required.map((name) => ({ name, state: "missing" })),
    };
  const open = required.flatMap((name) => {
    const state = checks.states[name];
    if (state === "success") return [];
    return [{ name, state: state ?? ("missing" as const) }];
  });
  if (open.length === 0) return undefined;
  const part = (state: string, label: string) => {
    const names = open.filter((check) => check.state === state).map((check) => check.name);
    return names.length > 0 ? [`${label} ${names.join(", ")}`] : [];
  };
  const message = [
    ...part("failure", "failing:"),
    ...part("pending", "running:"),
    ...part("missing", "not reported yet:"),
  ].join("; ");
  return { kind: "checks", message, checks: open };
}
