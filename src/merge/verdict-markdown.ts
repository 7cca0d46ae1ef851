import {
  type ReviewPerson,
  type ReviewRecord,
  recordsVerdict,
  reviewRecordTag,
} from "./review-record.ts";
import { describeBlocker, type Verdict } from "./verdict.ts";
import { formatLocal } from "./zoned-time.ts";

const START = "<!-- pr-autoscaler:verdict -->";
const END = "<!-- /pr-autoscaler:verdict -->";

/**
 * The pull request body's auto-merge section: the decision, the rule that made it and why, and
 * for a merge what still has to happen. Wrapped in hidden markers so `withVerdictSection` can
 * replace it when the verdict changes. A review rule's people are "requested" only with `review`,
 * the record of asking them under that rule (see `requestReview`); without it they are "to be
 * requested".
 */
export function renderVerdictSection(verdict: Verdict, review?: ReviewRecord): string {
  const asked = recordsVerdict(review, verdict) ? review : undefined;
  const lines = ["### Auto-merge", "", headline(verdict), ...details(verdict, asked)];
  return [START, ...lines, END].join("\n");
}

/** Whether `body` holds a whole auto-merge section (a body GitHub made us shorten may not). */
export function hasVerdictSection(body: string): boolean {
  const start = body.indexOf(START);
  return start >= 0 && body.indexOf(END, start) > start;
}

/** `body` with its auto-merge section replaced by `section`, or with `section` appended. */
export function withVerdictSection(body: string, section: string): string {
  const start = body.indexOf(START);
  const end = body.indexOf(END, start);
  if (start >= 0 && end > start)
    return body.slice(0, start) + section + body.slice(end + END.length);
  return body.trimEnd() === "" ? section : `${body.trimEnd()}\n\n${section}`;
}

function headline(verdict: Verdict): string {
  const decision = verdict.action === "merge" ? "**Merges itself**" : "**Waits for review**";
  if (!verdict.rule)
    return `${decision}: ${verdict.reasons[0] ?? "no rule matched; the default is review"}`;
  const rule = verdict.rule;
  const about = rule.description ? ` ${rule.description.trim()}` : "";
  return `${decision} under rule ${code(rule.name)} from ${code(rule.source)}.${about}`;
}

function details(verdict: Verdict, review: ReviewRecord | undefined): string[] {
  if (!verdict.rule) return verdict.reasons.slice(1).map((reason) => `- ${reason}`);
  const matched = verdict.reasons.map((reason) => reason.replace(/^rule .* matched: /, ""));
  const lines = ["", `Matched: ${matched.join("; ")}.`];
  if (verdict.action === "review")
    return [...lines, ...(review ? askedLines(review) : toAskLines(verdict))];
  return [...lines, "", ...mergeLines(verdict)];
}

/** The people a review rule names, before the bot asked GitHub: nothing is claimed yet. */
function toAskLines(verdict: Verdict): string[] {
  const reviewers = [
    ...verdict.reviewers.map((name) => person({ role: "reviewer", name })),
    ...verdict.teamReviewers.map((name) => person({ role: "team", name })),
  ];
  const lines: string[] = [];
  if (reviewers.length > 0) lines.push("", `Review to be requested from ${reviewers.join(", ")}.`);
  if (verdict.assignees.length > 0)
    lines.push("", `To be assigned to ${verdict.assignees.map((name) => `@${name}`).join(", ")}.`);
  return lines;
}

/** What GitHub took and what it refused, then the hidden record itself. */
function askedLines(review: ReviewRecord): string[] {
  const refused = (role: ReviewPerson["role"], name: string) =>
    review.refused.some((entry) => entry.role === role && entry.name === name);
  const reviewers = [
    ...review.reviewers.filter((name) => !refused("reviewer", name)).map((name) => `@${name}`),
    ...review.teamReviewers
      .filter((name) => !refused("team", name))
      .map((name) => person({ role: "team", name })),
  ];
  const assignees = review.assignees.filter((name) => !refused("assignee", name));
  const lines: string[] = [];
  if (reviewers.length > 0) lines.push("", `Review requested from ${reviewers.join(", ")}.`);
  if (assignees.length > 0)
    lines.push("", `Assigned to ${assignees.map((name) => `@${name}`).join(", ")}.`);
  if (review.refused.length > 0)
    lines.push(
      "",
      "GitHub refused, so these were not asked (fix the rule's names or their access):",
      ...review.refused.map((entry) => `- ${person(entry)}: ${entry.reason}`),
    );
  return [...lines, "", reviewRecordTag(review)];
}

function person(entry: ReviewPerson): string {
  if (entry.role === "team") return `team ${code(entry.name)}`;
  return entry.role === "assignee" ? `@${entry.name} (assignee)` : `@${entry.name}`;
}

function mergeLines(verdict: Verdict): string[] {
  const method = verdict.method ? ` (${verdict.method})` : "";
  const checks =
    verdict.requiredChecks.length > 0
      ? ` Required checks: ${verdict.requiredChecks.map(code).join(", ")}.`
      : "";
  if (verdict.ready) return [`Every condition holds: it merges now${method}.${checks}`];
  const lines = [`Before it merges${method}:`];
  for (const blocker of verdict.blockedBy) lines.push(`- ${describeBlocker(blocker)}`);
  if (verdict.mergeableAt)
    lines.push(
      "",
      `Earliest: ${formatLocal(Date.parse(verdict.mergeableAt), verdict.timezone)}.${checks}`,
    );
  else if (checks) lines.push("", checks.trim());
  if (!verdict.blockedBy.some((blocker) => blocker.kind === "hold"))
    lines.push("", "Comment `/autoscaler hold` to stop it merging by itself.");
  return lines;
}

function code(text: string): string {
  return `\`${text.replaceAll("`", "'")}\``;
}
