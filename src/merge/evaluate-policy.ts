import type { AutomergePolicy, PolicyRule } from "../policy/automerge-policy.ts";
import { describeWindow, formatDuration } from "../policy/policy-describe.ts";
import { counted } from "../util/plural.ts";
import { type CheckStates, checksBlocker, requiredCheckNames } from "./check-states.ts";
import { capResetsAt, type MergeRecord, mergesToday } from "./daily-cap.ts";
import { matchRule } from "./match-rule.ts";
import type { PolicySubject } from "./policy-subject.ts";
import { firstOpenMoment, windowContains } from "./policy-windows.ts";
import type { Blocker, Verdict, VerdictRule } from "./verdict.ts";
import { formatLocal } from "./zoned-time.ts";

/** The facts about the moment and the pull request that conditions need. */
export interface PolicyContext {
  now: Date;
  /** When the pull request opened (ISO); for one about to open, `now`. */
  openedAt: string;
  /**
   * When the bot last wrote other values into it (ISO; absent: the values it opened with). The
   * grace period counts from the later of this and `openedAt`: people get the whole of it to hold
   * the values that would merge, not only the first ones.
   */
  changedAt?: string;
  /** The bot's merged pull requests (see `mergeRecords`), for the daily caps. */
  merges: readonly MergeRecord[];
  /** The head commit's checks; undefined while not read (required checks then block). */
  checks?: CheckStates;
  /** Someone with write access said `/autoscaler hold`. */
  held?: boolean;
}

/**
 * Decides whether a change merges itself or waits for review, and what still blocks a merge.
 * The first rule whose match holds decides; when none does, review. A merge rule's conditions
 * (hold, grace period, windows, daily caps, checks) never pass the decision to a later rule:
 * they only say when it may merge. Pure: the same inputs give the same verdict.
 */
export function evaluatePolicy(
  policy: AutomergePolicy,
  subject: PolicySubject,
  context: PolicyContext,
): Verdict {
  const base = reviewVerdict(policy);
  if (policy.problems.length > 0)
    return {
      ...base,
      reasons: [
        "the auto-merge policy has errors, so nothing merges itself until they are fixed:",
        ...policy.problems,
      ],
    };
  for (const [index, rule] of policy.rules.entries()) {
    const match = matchRule(rule.match, subject);
    if (!match.matches) {
      base.skipped.push({ rule: verdictRule(rule, index), reason: match.reason });
      continue;
    }
    const reason = `rule ${ruleLabel(rule)} matched: ${match.facts.join(", ")}`;
    const decided = { ...base, rule: verdictRule(rule, index), reasons: [reason] };
    if (rule.action === "review")
      return {
        ...decided,
        reviewers: rule.reviewers,
        teamReviewers: rule.teamReviewers,
        assignees: rule.assignees,
      };
    return mergeVerdict(decided, policy, rule, subject, context);
  }
  return { ...base, reasons: ["no rule matched; the default is review"] };
}

function reviewVerdict(policy: AutomergePolicy): Verdict {
  return {
    action: "review",
    rule: undefined,
    reasons: [],
    skipped: [],
    method: undefined,
    requiredChecks: [],
    reviewers: [],
    teamReviewers: [],
    assignees: [],
    blockedBy: [],
    ready: false,
    timezone: policy.timezone,
  };
}

function mergeVerdict(
  decided: Verdict,
  policy: AutomergePolicy,
  rule: PolicyRule,
  subject: PolicySubject,
  context: PolicyContext,
): Verdict {
  const requiredChecks = requiredCheckNames(
    [...policy.requiredChecks, ...rule.requiredChecks],
    context.checks,
  );
  const timed = timeBlockers(policy, rule, subject, context);
  const blockedBy: Blocker[] = [
    ...(context.held ? [holdBlocker()] : []),
    ...timed.blockers,
    ...[checksBlocker(requiredChecks, context.checks)].filter((b) => b !== undefined),
  ];
  const verdict: Verdict = {
    ...decided,
    action: "merge",
    method: rule.method,
    requiredChecks,
    blockedBy,
    ready: blockedBy.length === 0,
  };
  if (timed.blockers.length > 0 && !context.held && timed.openAt !== undefined)
    verdict.mergeableAt = new Date(timed.openAt).toISOString();
  return verdict;
}

function holdBlocker(): Blocker {
  return {
    kind: "hold",
    message:
      "on hold: someone commented /autoscaler hold (comment /autoscaler unhold to release it)",
  };
}

/** Grace period, windows and daily cap, and the first moment all of them hold. */
function timeBlockers(
  policy: AutomergePolicy,
  rule: PolicyRule,
  subject: PolicySubject,
  context: PolicyContext,
): { blockers: Blocker[]; openAt: number | undefined } {
  const now = context.now.getTime();
  const tz = policy.timezone;
  const blockers: Blocker[] = [];
  let earliest = now;

  const grace = graceStart(context, subject);
  const ageReady = rule.minAgeMs === undefined ? now : grace.at + rule.minAgeMs;
  if (ageReady > now) {
    blockers.push({
      kind: "age",
      message: `not before ${formatLocal(ageReady, tz)} (${formatDuration(rule.minAgeMs ?? 0)} after ${grace.since})`,
      until: new Date(ageReady).toISOString(),
    });
    earliest = Math.max(earliest, ageReady);
  }

  const cap = dailyCap(policy, rule, subject);
  if (cap !== undefined) {
    const count = mergesToday(context.merges, subject.kind, context.now, tz);
    if (count >= cap) {
      const reset = capResetsAt(context.now, tz).getTime();
      blockers.push({
        kind: "cap",
        message: `${counted(count, `${subject.kind} pull request`)} merged today, at most ${cap} per day; the count starts again ${formatLocal(reset, tz)}`,
        until: new Date(reset).toISOString(),
      });
      earliest = Math.max(earliest, reset);
    }
  }

  const notDuring = [...rule.notDuring, ...policy.notDuring];
  const windowOpen = firstOpenMoment(rule.during, notDuring, now);
  if (windowOpen !== now) blockers.push(windowBlocker(rule, notDuring, now, windowOpen, tz));
  const openAt = firstOpenMoment(rule.during, notDuring, earliest);
  return { blockers, openAt };
}

/**
 * Where the grace period starts: the opening, or the last change of the values when that came
 * later, with how the message says it. An opening that cannot be read counts as now. So does a
 * change recorded after now (a replica whose clock is ahead, a marker edited by hand): the grace
 * is not shortened by it, nor is a time worked out from a date that cannot come.
 */
function graceStart(context: PolicyContext, subject: PolicySubject): { at: number; since: string } {
  const now = context.now.getTime();
  const parsed = Date.parse(context.openedAt);
  const opened = Number.isFinite(parsed) ? parsed : now;
  const recorded = context.changedAt === undefined ? Number.NaN : Date.parse(context.changedAt);
  const changed = Math.min(recorded, now);
  if (!(changed > opened)) return { at: opened, since: "it opened" };
  const to =
    subject.from !== undefined && subject.to !== undefined
      ? `it changed to ${subject.from} → ${subject.to}`
      : "its last change";
  return { at: changed, since: to };
}

function windowBlocker(
  rule: PolicyRule,
  notDuring: PolicyRule["notDuring"],
  now: number,
  openAt: number | undefined,
  tz: string,
): Blocker {
  const inside = notDuring.find((window) => windowContains(window, now));
  const where = inside
    ? `inside a no-merge window (${describeWindow(inside)})`
    : `outside the merge window (${rule.during.map(describeWindow).join("; ")})`;
  if (openAt === undefined)
    return { kind: "window", message: `${where}; no time to merge found in the coming weeks` };
  return {
    kind: "window",
    message: `${where}; it may merge from ${formatLocal(openAt, tz)}`,
    until: new Date(openAt).toISOString(),
  };
}

function dailyCap(
  policy: AutomergePolicy,
  rule: PolicyRule,
  subject: PolicySubject,
): number | undefined {
  const caps = [rule.maxPerDay, policy.maxPerDay[subject.kind]].filter((cap) => cap !== undefined);
  return caps.length > 0 ? Math.min(...caps) : undefined;
}

function verdictRule(rule: PolicyRule, index: number): VerdictRule {
  return {
    index,
    name: rule.name,
    description: rule.description,
    source: rule.source,
    sourceIndex: rule.sourceIndex,
  };
}

/** `"scale-up-one-node" (preset:homelab)`. */
export function ruleLabel(rule: { name: string; source: string }): string {
  return `"${rule.name}" (${rule.source})`;
}
