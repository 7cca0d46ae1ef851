import type { MergeMethod, PolicyAction } from "../policy/automerge-policy.ts";

/** The rule that decided, as shown in the pull request and logs. */
export interface VerdictRule {
  /** Position in the effective policy (0-based; the repo's own rules come first). */
  index: number;
  name: string;
  description: string | undefined;
  /** The file or preset it comes from, and its index there. */
  source: string;
  sourceIndex: number;
}

/** What keeps a merge rule's pull request from merging now. */
export type BlockerKind = "hold" | "window" | "cap" | "age" | "checks";

const BLOCKER_TITLES: Record<BlockerKind, string> = {
  hold: "Hold",
  window: "Window",
  cap: "Daily cap",
  age: "Grace period",
  checks: "Checks",
};

/** `Grace period: not before …`: a blocker in a line of its own. */
export function describeBlocker(blocker: Blocker): string {
  return `${BLOCKER_TITLES[blocker.kind]}: ${blocker.message}`;
}

export interface Blocker {
  kind: BlockerKind;
  /** A sentence for people. */
  message: string;
  /** ISO time when this blocker alone clears, when that is known (windows, caps, grace periods). */
  until?: string;
  /** For checks: each required check that is not green, with its state. */
  checks?: { name: string; state: "pending" | "failure" | "missing" }[];
}

/** The decision for one pull request, with everything needed to explain it. */
export interface Verdict {
  action: PolicyAction;
  /** The rule that matched; undefined when none did (the default is review). */
  rule: VerdictRule | undefined;
  /** Why, in sentences: which facts matched, or that nothing did. */
  reasons: string[];
  /** Rules before the deciding one, each with why it did not match. */
  skipped: { rule: VerdictRule; reason: string }[];
  /** Merge: the method. */
  method: MergeMethod | undefined;
  /** Merge: every check that must pass. */
  requiredChecks: string[];
  /** Review: who to ask. */
  reviewers: string[];
  teamReviewers: string[];
  assignees: string[];
  /** Merge: what still stands in the way (empty: it may merge now). */
  blockedBy: Blocker[];
  /** Merge and nothing blocks. */
  ready: boolean;
  /**
   * Merge: the earliest time the time-based conditions (window, cap, grace period) all hold,
   * when only those block or checks are also pending; undefined when it is now or unknown.
   */
  mergeableAt?: string;
  /** The time zone times are shown in (the policy's). */
  timezone: string;
}
