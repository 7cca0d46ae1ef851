import type {
  MERGE_METHODS,
  POLICY_ACTIONS,
  POLICY_DIRECTIONS,
  POLICY_KINDS,
  POLICY_RESOURCES,
} from "./automerge-config.ts";

export type PolicyKind = (typeof POLICY_KINDS)[number];
export type PolicyDirection = (typeof POLICY_DIRECTIONS)[number];
export type PolicyResource = (typeof POLICY_RESOURCES)[number];
export type MergeMethod = (typeof MERGE_METHODS)[number];
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

/** Defaults of settings no file in the `extends` chain sets. */
export const POLICY_DEFAULTS = {
  timezone: "UTC",
  method: "squash" as MergeMethod,
  nativeAutoMerge: true,
};

/** A window whose start is a cron expression, lasting `durationMs`. */
export interface CronWindow {
  type: "cron";
  name: string | undefined;
  cron: string;
  durationMs: number;
  timezone: string;
}

/** A window on week days and/or hours of the day (wall-clock time in `timezone`). */
export interface WeeklyWindow {
  type: "weekly";
  name: string | undefined;
  /** 0 = Sunday … 6 = Saturday. */
  days: number[];
  /** Minutes after midnight; `end` ≤ `start` runs past midnight into the next day. */
  start: number;
  end: number;
  timezone: string;
}

export type PolicyWindow = CronWindow | WeeklyWindow;

/** A rule's match, every list normalised; an absent key matches anything. */
export interface PolicyMatch {
  kind?: PolicyKind[];
  direction?: PolicyDirection[];
  maxStep?: number;
  /** Percent. */
  maxChange?: number;
  resource?: PolicyResource[];
  pool?: string[];
  namespace?: string[];
  workload?: string[];
  labels?: Record<string, string>;
}

export interface PolicyRule {
  /** The rule's name, or `rules[i]` when it has none. */
  name: string;
  description: string | undefined;
  /** The file or preset the rule comes from, e.g. `.github/pr-autoscaler.yml`, `preset:homelab`. */
  source: string;
  /** Its index in that file's rules. */
  sourceIndex: number;
  action: PolicyAction;
  match: PolicyMatch;
  /** Merge rules: the method (the policy's when the rule sets none). */
  method: MergeMethod;
  during: PolicyWindow[];
  notDuring: PolicyWindow[];
  /** Milliseconds after the pull request opened before it may merge. */
  minAgeMs: number | undefined;
  maxPerDay: number | undefined;
  requiredChecks: string[];
  reviewers: string[];
  teamReviewers: string[];
  assignees: string[];
}

/** The effective auto-merge policy: every file of the `extends` chain merged, defaults applied. */
export interface AutomergePolicy {
  timezone: string;
  method: MergeMethod;
  /** Checks every merge needs (from every file of the chain). */
  requiredChecks: string[];
  maxPerDay: Partial<Record<PolicyKind, number>>;
  /** Windows in which nothing merges itself. */
  notDuring: PolicyWindow[];
  nativeAutoMerge: boolean;
  /** In order: the repo's own rules first, then those of what it extends. */
  rules: PolicyRule[];
  /** The files and presets it was built from, nearest first. */
  sources: string[];
  /** Why the policy could not be used; non-empty means nothing merges itself. */
  problems: string[];
}

/** The policy of a repository without an `automerge:` section: every pull request waits for review. */
export function emptyPolicy(): AutomergePolicy {
  return {
    ...POLICY_DEFAULTS,
    requiredChecks: [],
    maxPerDay: {},
    notDuring: [],
    rules: [],
    sources: [],
    problems: [],
  };
}

/** The policy used when the configuration has errors: nothing merges itself, and it says why. */
export function brokenPolicy(problems: string[]): AutomergePolicy {
  return { ...emptyPolicy(), problems: problems.length > 0 ? problems : ["the policy is invalid"] };
}
