import { z } from "zod";
import type { Verdict } from "./verdict.ts";

/** Someone a review rule names: a reviewer, a team asked to review, or an assignee. */
export const ReviewPerson = z.object({
  role: z.enum(["reviewer", "team", "assignee"]),
  name: z.string(),
});
export type ReviewPerson = z.infer<typeof ReviewPerson>;

/**
 * What the bot asked GitHub for under a review rule, kept hidden in the pull request's
 * auto-merge section. The pull request is the record, so a restarted replica does not ask again,
 * and the body says "requested" only once GitHub took the request.
 */
export const ReviewRecord = z.object({
  /** The deciding review rule. */
  rule: z.string(),
  reviewers: z.array(z.string()),
  teamReviewers: z.array(z.string()),
  assignees: z.array(z.string()),
  /** Whom GitHub would not ask or assign, with its reason; not asked again for this rule. */
  refused: z.array(ReviewPerson.extend({ reason: z.string() })),
});
export type ReviewRecord = z.infer<typeof ReviewRecord>;

const TAG = "pr-autoscaler:review";
const PATTERN = new RegExp(`<!-- ${TAG} (\\{[^\\n]*?\\}) -->`, "g");

/** `<!-- pr-autoscaler:review {json} -->`, with < and > escaped so no value can end it early. */
export function reviewRecordTag(record: ReviewRecord): string {
  const json = JSON.stringify(record).replaceAll("<", "\\u003c").replaceAll(">", "\\u003e");
  return `<!-- ${TAG} ${json} -->`;
}

/** The review record of a pull request body; undefined when there is none or it is unreadable. */
export function readReviewRecord(body: string | null | undefined): ReviewRecord | undefined {
  if (!body) return undefined;
  const json = [...body.matchAll(PATTERN)].at(-1)?.[1];
  if (json === undefined) return undefined;
  try {
    const parsed = ReviewRecord.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the verdict is a review that names someone to ask or assign. */
export function namesPeople(verdict: Verdict): boolean {
  return (
    verdict.action === "review" &&
    verdict.reviewers.length + verdict.teamReviewers.length + verdict.assignees.length > 0
  );
}

/** Whether `record` is of the verdict's rule and people: then they were asked already. */
export function recordsVerdict(record: ReviewRecord | undefined, verdict: Verdict): boolean {
  return (
    record !== undefined &&
    verdict.action === "review" &&
    record.rule === verdict.rule?.name &&
    same(record.reviewers, verdict.reviewers) &&
    same(record.teamReviewers, verdict.teamReviewers) &&
    same(record.assignees, verdict.assignees)
  );
}

/**
 * Whether the bot still has to ask the people a review verdict names, judged from the pull
 * request's body: a review rule that names someone, and no record of asking them under it.
 */
export function reviewRequestDue(verdict: Verdict, body: string | null | undefined): boolean {
  return namesPeople(verdict) && !recordsVerdict(readReviewRecord(body), verdict);
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
