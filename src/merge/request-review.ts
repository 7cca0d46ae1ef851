import { z } from "zod";
import { ForgeError } from "../forge/forge-error.ts";
import { type GitHubClient, githubMessage } from "../forge/github/github-client.ts";
import { MAX_BODY_LENGTH } from "../forge/marker.ts";
import {
  namesPeople,
  type ReviewPerson,
  type ReviewRecord,
  readReviewRecord,
  recordsVerdict,
} from "./review-record.ts";
import type { Verdict } from "./verdict.ts";
import { hasVerdictSection, renderVerdictSection, withVerdictSection } from "./verdict-markdown.ts";

/** What `requestReview` did. */
export interface ReviewRequestOutcome {
  /**
   * `asked`: the people were asked now and the body records it; `recorded`: the body shows they
   * were asked under this rule before; `nobody`: the verdict names no one (or is no review).
   */
  result: "asked" | "recorded" | "nobody";
  record: ReviewRecord | undefined;
  /** What happened, for logs; empty for `nobody`. */
  note: string;
}

/** The pull request as GitHub returned it: its number and current body (hidden marker included). */
export interface ReviewedPullRequest {
  number: number;
  body: string | null;
}

const AssignedIssue = z.object({
  assignees: z
    .array(z.object({ login: z.string() }))
    .nullable()
    .optional(),
});

/** GitHub's statuses for a request it will not carry out as asked; asking again changes nothing. */
const REFUSED = new Set([403, 422]);

const NOT_ASSIGNED =
  "GitHub did not assign them: only people with access to the repository can be assigned";

/**
 * Asks the people a review verdict names to review the pull request, and assigns it, once per
 * rule and people: the pull request body records what was asked (and what GitHub refused), so
 * neither a second reconcile nor a restarted replica asks again, and a change of the rule or its
 * people asks anew. Asking again would ping people who already reviewed. A name GitHub refuses
 * (no access, the pull request's author) is recorded with GitHub's reason and not asked again;
 * the others are still asked. The body says "requested" only for those GitHub took.
 */
export async function requestReview(
  client: GitHubClient,
  pr: ReviewedPullRequest,
  verdict: Verdict,
): Promise<ReviewRequestOutcome> {
  if (!namesPeople(verdict)) return { result: "nobody", record: undefined, note: "" };
  const previous = readReviewRecord(pr.body);
  if (previous && recordsVerdict(previous, verdict))
    return { result: "recorded", record: previous, note: "review asked for earlier" };
  const refused = [
    ...(await askReviewers(client, pr.number, verdict)),
    ...(await assign(client, pr.number, verdict.assignees)),
  ];
  const record: ReviewRecord = {
    rule: verdict.rule?.name ?? "",
    reviewers: verdict.reviewers,
    teamReviewers: verdict.teamReviewers,
    assignees: verdict.assignees,
    refused,
  };
  const recorded = await recordInBody(client, pr, verdict, record);
  const note = describeAsked(record);
  return {
    result: "asked",
    record,
    note: recorded ? note : `${note}; not recorded: the body has no whole auto-merge section`,
  };
}

/**
 * Writes the record into the body's auto-merge section. A body shortened to GitHub's limit may
 * have lost that section, or have no room for it: it is left as it is (it claims nothing).
 */
async function recordInBody(
  client: GitHubClient,
  pr: ReviewedPullRequest,
  verdict: Verdict,
  record: ReviewRecord,
): Promise<boolean> {
  const body = pr.body ?? "";
  const updated = withVerdictSection(body, renderVerdictSection(verdict, record));
  if (!hasVerdictSection(body) || updated.length > MAX_BODY_LENGTH) return false;
  await client.send(
    `record the review request on #${pr.number}`,
    "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
    { pull_number: pr.number, body: updated },
  );
  return true;
}

type Refusal = ReviewRecord["refused"][number];

async function askReviewers(
  client: GitHubClient,
  pullNumber: number,
  verdict: Verdict,
): Promise<Refusal[]> {
  const people: ReviewPerson[] = [
    ...verdict.reviewers.map((name) => ({ role: "reviewer" as const, name })),
    ...verdict.teamReviewers.map((name) => ({ role: "team" as const, name })),
  ];
  if (people.length === 0) return [];
  const reason = await ask(client, pullNumber, people);
  if (reason === undefined) return [];
  const [only] = people;
  if (only && people.length === 1) return [{ ...only, reason }];
  // One name GitHub refuses fails the whole request: each is asked alone, so the others still are.
  const refused: Refusal[] = [];
  for (const person of people) {
    const alone = await ask(client, pullNumber, [person]);
    if (alone !== undefined) refused.push({ ...person, reason: alone });
  }
  return refused;
}

/** Undefined when GitHub took the request, else GitHub's reason for refusing it. */
async function ask(
  client: GitHubClient,
  pullNumber: number,
  people: readonly ReviewPerson[],
): Promise<string | undefined> {
  const reviewers = people.filter((p) => p.role === "reviewer").map((p) => p.name);
  const teams = people.filter((p) => p.role === "team").map((p) => p.name);
  try {
    await client.send(
      `request reviews on #${pullNumber}`,
      "POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
      {
        pull_number: pullNumber,
        ...(reviewers.length > 0 ? { reviewers } : {}),
        ...(teams.length > 0 ? { team_reviewers: teams } : {}),
      },
    );
    return undefined;
  } catch (error) {
    return refusedReason(error);
  }
}

/** The assignees GitHub did not take: it leaves out people without access, without an error. */
async function assign(
  client: GitHubClient,
  pullNumber: number,
  assignees: readonly string[],
): Promise<Refusal[]> {
  if (assignees.length === 0) return [];
  let issue: z.infer<typeof AssignedIssue>;
  try {
    issue = await client.call(
      `assign #${pullNumber}`,
      "POST /repos/{owner}/{repo}/issues/{issue_number}/assignees",
      { issue_number: pullNumber, assignees },
      AssignedIssue,
    );
  } catch (error) {
    const reason = refusedReason(error);
    return assignees.map((name) => ({ role: "assignee", name, reason }));
  }
  if (!issue.assignees) return [];
  const taken = new Set(issue.assignees.map((user) => user.login.toLowerCase()));
  return assignees
    .filter((name) => !taken.has(name.toLowerCase()))
    .map((name) => ({ role: "assignee", name, reason: NOT_ASSIGNED }));
}

/** GitHub's message for a refusal; any other failure is thrown, to be retried. */
function refusedReason(error: unknown): string {
  if (error instanceof ForgeError && error.status !== undefined && REFUSED.has(error.status))
    return githubMessage(error.cause);
  throw error;
}

function describeAsked(record: ReviewRecord): string {
  const refused = (role: ReviewPerson["role"], name: string) =>
    record.refused.some((entry) => entry.role === role && entry.name === name);
  const asked = [
    ...record.reviewers.filter((name) => !refused("reviewer", name)).map((name) => `@${name}`),
    ...record.teamReviewers.filter((name) => !refused("team", name)).map((name) => `team ${name}`),
  ];
  const assigned = record.assignees.filter((name) => !refused("assignee", name));
  const parts = [
    ...(asked.length > 0 ? [`asked ${asked.join(", ")} to review`] : []),
    ...(assigned.length > 0 ? [`assigned ${assigned.map((name) => `@${name}`).join(", ")}`] : []),
    ...record.refused.map(
      (entry) =>
        `GitHub refused ${entry.role === "team" ? `team ${entry.name}` : `@${entry.name}`}: ${entry.reason}`,
    ),
  ];
  return parts.join("; ");
}
