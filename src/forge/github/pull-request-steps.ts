import { readBotTrailers } from "../commit-message.ts";
import type { BotPullRequest } from "../forge.ts";
import { withinCommentLimit } from "../marker.ts";
import { byBot, type ForgeContext } from "./forge-context.ts";
import { failedWith } from "./github-client.ts";
import {
  GitHubComments,
  GitHubGitCommit,
  type GitHubPullRequest,
  GitHubPullRequests,
  GitHubRef,
} from "./github-types.ts";

/** Comments beyond this many pages (of 100) are not looked through. */
const MAX_COMMENT_PAGES = 10;

/** Points a new branch at `sha`. Throws a ForgeError with status 422 when the branch exists. */
export async function createBranch(context: ForgeContext, branch: string, sha: string) {
  await context.client.call(
    `create branch ${branch}`,
    "POST /repos/{owner}/{repo}/git/refs",
    { ref: `refs/heads/${branch}`, sha },
    GitHubRef,
  );
}

/**
 * Force-moves a bot branch to `sha` (the bot's commits are rebuilt on the default branch, never
 * stacked, so the move is not a fast-forward). Callers read the branch just before and move it
 * only when it is still at the head they know, so that a person's push is not overwritten.
 */
export async function moveBranch(context: ForgeContext, branch: string, sha: string) {
  await context.client.call(
    `move ${branch} to ${sha.slice(0, 7)}`,
    "PATCH /repos/{owner}/{repo}/git/refs/{ref}",
    { ref: `heads/${branch}`, sha, force: true },
    GitHubRef,
  );
}

/** Deletes a branch; one that is already gone counts as deleted. */
export async function deleteBranch(context: ForgeContext, branch: string) {
  try {
    await context.client.send(
      `delete branch ${branch}`,
      "DELETE /repos/{owner}/{repo}/git/refs/{ref}",
      {
        ref: `heads/${branch}`,
      },
    );
  } catch (error) {
    if (failedWith(error, 422, /Reference does not exist/i) || failedWith(error, 404)) return;
    throw error;
  }
}

/** The branch's head sha, or undefined when it does not exist. */
export async function readBranchSha(
  context: ForgeContext,
  branch: string,
): Promise<string | undefined> {
  try {
    const ref = await context.client.call(
      `read branch ${branch}`,
      "GET /repos/{owner}/{repo}/git/ref/{ref}",
      { ref: `heads/${branch}` },
      GitHubRef,
    );
    return ref.object.sha;
  } catch (error) {
    if (failedWith(error, 404)) return undefined;
    throw error;
  }
}

/** The commit `sha` (the head of `branch`); a commit never changes, so it is read once. */
export async function readCommit(
  context: ForgeContext,
  branch: string,
  sha: string,
): Promise<GitHubGitCommit> {
  const known = context.memory.commits.get(sha);
  if (known) return known;
  const commit = await context.client.call(
    `read the head commit of ${branch}`,
    "GET /repos/{owner}/{repo}/git/commits/{commit_sha}",
    { commit_sha: sha },
    GitHubGitCommit,
  );
  context.memory.commits.set(sha, commit);
  return commit;
}

/** Whether `commit` is one the bot made for `key` (its trailers say so). */
export function isBotCommitFor(commit: GitHubGitCommit, key: string): boolean {
  return readBotTrailers(commit.message)?.key === key;
}

/** The open pull request whose head is `branch` of this repository, if any. */
export async function findOpenPullRequest(
  context: ForgeContext,
  branch: string,
): Promise<GitHubPullRequest | undefined> {
  const { owner } = context.client.repository;
  const found = await context.client.call(
    `find the open pull request for ${branch}`,
    "GET /repos/{owner}/{repo}/pulls",
    { state: "open", head: `${owner}:${branch}`, per_page: 1 },
    GitHubPullRequests,
  );
  return found[0];
}

/**
 * The bodies of the bot's own comments on an issue or pull request, oldest first: what it said
 * there. Those of everyone else are left out, for anyone may copy the bot's hidden tags (all
 * count when the forge does not know the bot's login).
 */
export async function listOwnCommentBodies(
  context: ForgeContext,
  issueNumber: number,
): Promise<string[]> {
  const bodies: string[] = [];
  for (let page = 1; page <= MAX_COMMENT_PAGES; page++) {
    const comments = await context.client.call(
      `read the comments of #${issueNumber}`,
      "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
      { issue_number: issueNumber, per_page: 100, ...(page > 1 ? { page } : {}) },
      GitHubComments,
    );
    const own = comments.filter((comment) => byBot(context, comment));
    bodies.push(...own.map((comment) => comment.body ?? ""));
    if (comments.length < 100) break;
  }
  return bodies;
}

export async function postComment(context: ForgeContext, issueNumber: number, body: string) {
  await context.client.send(
    `comment on #${issueNumber}`,
    "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
    { issue_number: issueNumber, body: withinCommentLimit(body) },
  );
}

/** Adds labels; GitHub creates a label that does not exist yet (with its default colour). */
export async function addLabels(context: ForgeContext, issueNumber: number, labels: string[]) {
  if (labels.length === 0) return;
  await context.client.send(
    `label #${issueNumber}`,
    "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
    { issue_number: issueNumber, labels },
  );
}

/**
 * Moves the pull request from the labels the bot set before to the ones it wants now, keeping
 * labels people added. One request, and none when nothing changes.
 */
export async function replaceBotLabels(
  context: ForgeContext,
  pr: BotPullRequest,
  previous: string[],
  wanted: string[],
) {
  const kept = pr.labels.filter((label) => !previous.includes(label) || wanted.includes(label));
  const next = [...kept, ...wanted.filter((label) => !kept.includes(label))];
  if (sameMembers(next, pr.labels)) return;
  const step = `relabel pull request #${pr.number}`;
  const route = "/repos/{owner}/{repo}/issues/{issue_number}/labels";
  if (next.length === 0) {
    await context.client.send(step, `DELETE ${route}`, { issue_number: pr.number });
  } else {
    await context.client.send(step, `PUT ${route}`, { issue_number: pr.number, labels: next });
  }
}

function sameMembers(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}
