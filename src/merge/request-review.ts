import { createGitHubClient } from "../forge/github/github-client.ts";
import type { MergeOctokit } from "./merge-octokit.ts";
import type { Verdict } from "./verdict.ts";

/** What `requestReview` asked GitHub for (empty lists when the verdict names nobody). */
export interface ReviewRequest {
  reviewers: string[];
  teamReviewers: string[];
  assignees: string[];
}

/**
 * Asks the people a review verdict names to review the pull request, and assigns it. Call it once
 * per verdict (when the pull request opens, or when the deciding rule changes): asking again
 * would ping people who already reviewed.
 */
export async function requestReview(
  octokit: MergeOctokit,
  where: { owner: string; repo: string; pullNumber: number },
  verdict: Verdict,
): Promise<ReviewRequest> {
  const asked: ReviewRequest = { reviewers: [], teamReviewers: [], assignees: [] };
  if (verdict.action !== "review") return asked;
  const client = createGitHubClient(octokit, { owner: where.owner, repo: where.repo });
  if (verdict.reviewers.length > 0 || verdict.teamReviewers.length > 0) {
    await client.send(
      `request reviews on #${where.pullNumber}`,
      "POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
      {
        pull_number: where.pullNumber,
        reviewers: verdict.reviewers,
        team_reviewers: verdict.teamReviewers,
      },
    );
    asked.reviewers = verdict.reviewers;
    asked.teamReviewers = verdict.teamReviewers;
  }
  if (verdict.assignees.length > 0) {
    await client.send(
      `assign #${where.pullNumber}`,
      "POST /repos/{owner}/{repo}/issues/{issue_number}/assignees",
      { issue_number: where.pullNumber, assignees: verdict.assignees },
    );
    asked.assignees = verdict.assignees;
  }
  return asked;
}
