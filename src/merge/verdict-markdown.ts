import { describeBlocker, type Verdict } from "./verdict.ts";
import { formatLocal } from "./zoned-time.ts";

const START = "<!-- pr-autoscaler:verdict -->";
const END = "<!-- /pr-autoscaler:verdict -->";

/**
 * The pull request body's auto-merge section: the decision, the rule that made it and why, and
 * for a merge what still has to happen. Wrapped in hidden markers so `withVerdictSection` can
 * replace it when the verdict changes.
 */
export function renderVerdictSection(verdict: Verdict): string {
  const lines = ["### Auto-merge", "", headline(verdict), ...details(verdict)];
  return [START, ...lines, END].join("\n");
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

function details(verdict: Verdict): string[] {
  if (!verdict.rule) return verdict.reasons.slice(1).map((reason) => `- ${reason}`);
  const matched = verdict.reasons.map((reason) => reason.replace(/^rule .* matched: /, ""));
  const lines = ["", `Matched: ${matched.join("; ")}.`];
  if (verdict.action === "review") return [...lines, ...reviewLines(verdict)];
  return [...lines, "", ...mergeLines(verdict)];
}

function reviewLines(verdict: Verdict): string[] {
  const asked = [
    ...verdict.reviewers.map((login) => `@${login}`),
    ...verdict.teamReviewers.map((team) => `team ${code(team)}`),
  ];
  const lines: string[] = [];
  if (asked.length > 0) lines.push("", `Review requested from ${asked.join(", ")}.`);
  if (verdict.assignees.length > 0)
    lines.push("", `Assigned to ${verdict.assignees.map((login) => `@${login}`).join(", ")}.`);
  return lines;
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
