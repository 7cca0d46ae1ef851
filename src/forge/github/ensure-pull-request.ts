import { assertValidKey, branchForKey } from "../branch-name.ts";
import { readBotTrailers } from "../commit-message.ts";
import type {
  BotPullRequest,
  DesiredPullRequest,
  EnsureResult,
  RepoState,
  StrayBranch,
} from "../forge.ts";
import { ForgeError } from "../forge-error.ts";
import { readPullRequestMarker, withPullRequestMarker } from "../marker.ts";
import { buildBotCommit } from "./bot-commit.ts";
import { closeBotPullRequest, leaveToPeople } from "./close-pull-request.ts";
import type { ForgeContext } from "./forge-context.ts";
import { failedWith } from "./github-client.ts";
import { type GitHubPullRequest, GitHubPullRequest as PullRequestSchema } from "./github-types.ts";
import {
  addLabels,
  createBranch,
  deleteBranch,
  findOpenPullRequest,
  moveBranch,
  readBranchSha,
  readCommit,
  replaceBotLabels,
} from "./pull-request-steps.ts";

const ALREADY_APPLIED =
  "The default branch already contains this change, so this pull request is no longer needed.";

/**
 * Converges the pull request for `desired.key`: opens it, updates it when the plan changed,
 * rebuilds it when the default branch moved, or leaves it to people who changed it. Creating the
 * branch is the lock: a concurrent run that finds the branch existing converges on the same pull
 * request instead of opening a second one.
 */
export async function ensureBotPullRequest(
  context: ForgeContext,
  desired: DesiredPullRequest,
  state: RepoState,
): Promise<EnsureResult> {
  assertValidKey(desired.key);
  const existing = state.pullRequests.find((pr) => pr.key === desired.key);
  if (existing) return refresh(context, existing, desired, state);
  const stray = state.strayBranches.find((branch) => branch.key === desired.key);
  if (stray) return adopt(context, stray, desired, state, undefined);
  return open(context, desired, state);
}

async function refresh(
  context: ForgeContext,
  pr: BotPullRequest,
  desired: DesiredPullRequest,
  state: RepoState,
): Promise<EnsureResult> {
  const found = { key: desired.key, number: pr.number, url: pr.url };
  if (pr.control === "human") {
    await leaveToPeople(context, pr);
    return { action: "human-edited", ...found, note: pr.handsOffReason };
  }
  const replanned = pr.fingerprint !== desired.fingerprint;
  if (!replanned && pr.upToDate) {
    await addLabels(
      context,
      pr.number,
      desired.labels.filter((label) => !pr.labels.includes(label)),
    );
    return { action: "unchanged", ...found };
  }
  const commit = await buildBotCommit(context, desired, state);
  if (!commit) {
    await closeBotPullRequest(context, pr, ALREADY_APPLIED);
    return { action: "already-applied", ...found, note: ALREADY_APPLIED };
  }
  const previousLabels = readPullRequestMarker(pr.body)?.labels ?? [];
  // The marker names the new commit before the branch moves: if moving fails, the head is still
  // the marker's `previous`, which the next run recognises as the bot's and rebuilds.
  await context.client.call(
    `update pull request #${pr.number}`,
    "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
    {
      pull_number: pr.number,
      title: desired.title,
      body: markedBody(desired, commit.sha, state, pr.headSha),
    },
    PullRequestSchema,
  );
  await moveBranch(context, pr.branch, commit.sha);
  await replaceBotLabels(context, pr, previousLabels, desired.labels);
  return { action: replanned ? "updated" : "rebuilt", ...found };
}

async function open(
  context: ForgeContext,
  desired: DesiredPullRequest,
  state: RepoState,
): Promise<EnsureResult> {
  const commit = await buildBotCommit(context, desired, state);
  if (!commit) return { action: "already-applied", key: desired.key, note: ALREADY_APPLIED };
  const branch = branchForKey(desired.key);
  try {
    await createBranch(context, branch, commit.sha);
  } catch (error) {
    if (!failedWith(error, 422, /Reference already exists/i)) throw error;
    return converge(context, desired, state, commit);
  }
  return openPullRequest(context, desired, state, commit.sha);
}

/** The branch exists: another run made it (or a failed one left it). */
async function converge(
  context: ForgeContext,
  desired: DesiredPullRequest,
  state: RepoState,
  commit: { sha: string },
): Promise<EnsureResult> {
  const branch = branchForKey(desired.key);
  const existing = await findOpenPullRequest(context, branch);
  if (existing) return openedElsewhere(desired, existing);
  const sha = await readBranchSha(context, branch);
  if (sha === undefined) {
    throw new ForgeError(
      `create branch ${branch}`,
      "the branch existed and then disappeared; the next run opens the pull request",
    );
  }
  return adopt(context, { key: desired.key, branch, sha }, desired, state, commit);
}

/**
 * A bot branch without a pull request: its commit is used as it is when it already holds this
 * plan on the current head (a concurrent run's), or the branch is rebuilt; a branch whose head
 * the bot did not make is left alone.
 */
async function adopt(
  context: ForgeContext,
  stray: StrayBranch,
  desired: DesiredPullRequest,
  state: RepoState,
  built: { sha: string } | undefined,
): Promise<EnsureResult> {
  const head = await readCommit(context, stray.branch, stray.sha);
  if (readBotTrailers(head.message)?.key !== desired.key) {
    return {
      action: "blocked",
      key: desired.key,
      note: `branch ${stray.branch} has commit ${stray.sha.slice(0, 7)}, which pr-autoscaler did not make; delete the branch to let it open a pull request`,
    };
  }
  const current =
    readBotTrailers(head.message)?.fingerprint === desired.fingerprint &&
    head.parents.length === 1 &&
    head.parents[0]?.sha === state.head.sha;
  if (current) return openPullRequest(context, desired, state, stray.sha);
  const commit = built ?? (await buildBotCommit(context, desired, state));
  if (!commit) {
    await deleteBranch(context, stray.branch);
    return { action: "already-applied", key: desired.key, note: ALREADY_APPLIED };
  }
  await moveBranch(context, stray.branch, commit.sha);
  return openPullRequest(context, desired, state, commit.sha);
}

/** Opens the pull request for a branch at `sha`; GitHub allows one open pull request per head. */
async function openPullRequest(
  context: ForgeContext,
  desired: DesiredPullRequest,
  state: RepoState,
  sha: string,
): Promise<EnsureResult> {
  const branch = branchForKey(desired.key);
  let pr: GitHubPullRequest;
  try {
    pr = await context.client.call(
      `open the pull request for ${branch}`,
      "POST /repos/{owner}/{repo}/pulls",
      {
        title: desired.title,
        head: branch,
        base: state.defaultBranch,
        body: markedBody(desired, sha, state, undefined),
      },
      PullRequestSchema,
    );
  } catch (error) {
    if (!failedWith(error, 422, /pull request already exists/i)) throw error;
    const existing = await findOpenPullRequest(context, branch);
    if (!existing) throw error;
    return openedElsewhere(desired, existing);
  }
  await addLabels(context, pr.number, desired.labels);
  return { action: "created", key: desired.key, number: pr.number, url: pr.html_url };
}

function openedElsewhere(desired: DesiredPullRequest, pr: GitHubPullRequest): EnsureResult {
  return {
    action: "unchanged",
    key: desired.key,
    number: pr.number,
    url: pr.html_url,
    note: "another run opened this pull request",
  };
}

function markedBody(
  desired: DesiredPullRequest,
  sha: string,
  state: RepoState,
  previous: string | undefined,
): string {
  return withPullRequestMarker(desired.body, {
    key: desired.key,
    fingerprint: desired.fingerprint,
    sha,
    base: state.head.sha,
    ...(previous ? { previous } : {}),
    labels: desired.labels,
    ...(desired.change ? { from: desired.change.from, to: desired.change.to } : {}),
  });
}
