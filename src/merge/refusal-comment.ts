import { z } from "zod";
import type { GitHubClient } from "../forge/github/github-client.ts";
import { commentTag, saidBy } from "../forge/marker.ts";
import type { MergeRefusal } from "./merge-refusal.ts";

const CommentList = z.array(
  z.object({
    body: z.string().nullish(),
    user: z.object({ login: z.string() }).nullable(),
  }),
);

/** Pages of 100 comments looked through for the tag (a bot pull request has few). */
const MAX_PAGES = 10;
const TAG = "merge-refused";

/**
 * Says on the pull request, once per head commit and kind of refusal, that GitHub refused to
 * merge it, why, and what to do. The comment carries a hidden tag, and the pull request's
 * comments are read first, so another look (or a restarted replica) does not say it again:
 * among those `botLogin` wrote, since anyone could post the tag first to keep it unsaid.
 * Returns whether a comment was posted.
 */
export async function commentMergeRefusal(
  client: GitHubClient,
  botLogin: string,
  pr: { number: number; headSha: string },
  refusal: MergeRefusal,
): Promise<boolean> {
  const tag = { head: pr.headSha, kind: refusal.kind };
  if (await alreadySaid(client, botLogin, pr.number, tag)) return false;
  await client.send(
    `comment on #${pr.number} that GitHub refused the merge`,
    "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
    { issue_number: pr.number, body: refusalComment(refusal, tag) },
  );
  return true;
}

/** The comment: GitHub's words quoted, the advice, and when the bot tries again. */
export function refusalComment(refusal: MergeRefusal, tag: Record<string, string>): string {
  const quoted = refusal.message
    .split("\n")
    .map((line) => (line === "" ? ">" : `> ${line}`))
    .join("\n");
  return [
    "GitHub refused to merge this pull request, which the auto-merge policy lets merge itself:",
    quoted,
    refusal.advice,
    "pr-autoscaler does not try again at every look: it tries when a check finishes, when this pull request, its labels or the default branch (and with it the policy) change, when someone comments `/autoscaler recheck`, and otherwise an hour after the last try.",
    commentTag(TAG, tag),
  ].join("\n\n");
}

async function alreadySaid(
  client: GitHubClient,
  botLogin: string,
  issueNumber: number,
  tag: Record<string, string>,
): Promise<boolean> {
  for (let page = 1; page <= MAX_PAGES; page++) {
    const comments = await client.call(
      `read the comments of #${issueNumber}`,
      "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
      { issue_number: issueNumber, per_page: 100, ...(page > 1 ? { page } : {}) },
      CommentList,
    );
    if (saidBy(comments, botLogin, TAG, tag)) return true;
    if (comments.length < 100) return false;
  }
  return false;
}
