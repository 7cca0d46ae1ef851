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
import { changesValues } from "../values-changed.ts";
import { disableAutoMerge } from "./auto-merge.ts";
import { buildBotCommit } from "./bot-commit.ts";
import { closeBotPullRequest, leaveToPeople, refreshMarker } from "./close-pull-request.ts";
import { byBot, type ForgeContext } from "./forge-context.ts";
import { failedWith } from "./github-client.ts";
import { type GitHubPullRequest, GitHubPullRequest as PullRequestSchema } from "./github-types.ts";
import { checkHead } from "./head-check.ts";
import {
  addLabels,
  createBranch,
  deleteBranch,
  findOpenPullRequest,
  isBotCommitFor,
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
  // The marker naming the head does not make it the bot's: people may edit the marker.
  const check = await checkHead(context, desired, pr.headSha, state);
  if (check.kind === "foreign") {
    const reason = `${notMade(`its branch has commit ${pr.headSha.slice(0, 7)}`)}: ${check.why}`;
    await leaveToPeople(context, { ...pr, control: "human", handsOffReason: reason });
    return { action: "human-edited", ...found, note: reason };
  }
  const replanned = pr.fingerprint !== desired.fingerprint;
  const current = check.kind === "current" && check.parent === state.head.sha;
  if (!replanned && pr.upToDate && current) {
    await addLabels(context, pr.number, missingLabels(desired, pr.labels));
    // Wanted as it is again after it was kept for a change that could not be judged, or
    // written before its marker named what it changes.
    await refreshMarker(context, pr, desired);
    return { action: "unchanged", ...found, botSha: pr.headSha };
  }
  const commit = await buildBotCommit(context, desired, state);
  if (!commit) {
    await closeBotPullRequest(context, pr, ALREADY_APPLIED);
    return { action: "already-applied", ...found, note: ALREADY_APPLIED };
  }
  // Read just before writing: a push, merge or branch deletion since readState stops the update
  // before anything people see changes.
  const head = await readBranchSha(context, pr.branch);
  if (head !== pr.headSha) {
    return { action: "human-edited", ...found, note: branchMoved(pr.branch, head) };
  }
  const autoMergeOff = await autoMergeBeforeNewValues(context, pr, desired);
  const previousLabels = readPullRequestMarker(pr.body)?.labels ?? [];
  // The marker names the new commit before the branch moves: if moving fails, the head is still
  // the marker's `previous`, which the next run recognises as the bot's and rebuilds.
  const updated = await context.client.call(
    `update pull request #${pr.number}`,
    "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
    {
      pull_number: pr.number,
      title: desired.title,
      body: markedBody(desired, commit.sha, state, pr.headSha, pr.keptSaid),
    },
    PullRequestSchema,
  );
  const interrupted = interruption(pr, updated);
  if (interrupted) {
    await restoreText(context, pr);
    return { action: "human-edited", ...found, note: interrupted };
  }
  await moveBranch(context, pr.branch, commit.sha);
  await replaceBotLabels(context, pr, previousLabels, desired.labels);
  return {
    action: replanned ? "updated" : "rebuilt",
    ...found,
    ...(autoMergeOff ? { note: AUTO_MERGE_OFF } : {}),
    botSha: commit.sha,
  };
}

const AUTO_MERGE_OFF =
  "GitHub's auto-merge turned off: the values changed, and they merge only when the policy allows again";

/**
 * GitHub keeps its auto-merge on when someone with write access pushes, the bot included: it would
 * merge the new values as soon as the checks pass, without the grace period people have to hold
 * them. So an update that changes the values turns it off (whoever turned it on) before anything
 * is written; the merge step turns it on again when the policy allows. True when it did.
 */
async function autoMergeBeforeNewValues(
  context: ForgeContext,
  pr: BotPullRequest,
  desired: DesiredPullRequest,
): Promise<boolean> {
  if (!pr.autoMerge || !changesValues(pr, desired)) return false;
  const step = `turn GitHub's auto-merge off before updating pull request #${pr.number}`;
  if (!context.graphql || pr.nodeId === undefined)
    throw new ForgeError(
      step,
      "no GraphQL API to do it with; the new values are not written, so that GitHub does not merge them at once",
    );
  await disableAutoMerge(context.graphql, pr.nodeId);
  return true;
}

/**
 * What people did to the pull request while the bot updated it, as GitHub's answer to the update
 * shows: merged, closed, or its branch moved. Undefined when it is still open at the same head.
 */
function interruption(pr: BotPullRequest, updated: GitHubPullRequest): string | undefined {
  const kept = "its title and description are as they were";
  if (updated.merged_at !== null)
    return `it was merged while pr-autoscaler was updating it; ${kept}`;
  if (updated.state !== "open") return `it was closed while pr-autoscaler was updating it; ${kept}`;
  if (updated.head.sha !== pr.headSha)
    return `${branchMoved(pr.branch, updated.head.sha)}; ${kept}`;
  return undefined;
}

function branchMoved(branch: string, head: string | undefined): string {
  const where = head === undefined ? "was deleted" : `moved to ${head.slice(0, 7)}`;
  return `its branch ${branch} ${where} while pr-autoscaler was updating it, so it was left as it is`;
}

/**
 * Puts back the title and body (marker included) the pull request had: a merged one says what was
 * merged, and a closed one records the change people said no to, not one they never saw.
 */
async function restoreText(context: ForgeContext, pr: BotPullRequest): Promise<void> {
  await context.client.call(
    `restore the title and description of pull request #${pr.number}`,
    "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
    { pull_number: pr.number, title: pr.title, body: pr.body },
    PullRequestSchema,
  );
}

function missingLabels(desired: DesiredPullRequest, present: readonly string[]): string[] {
  return desired.labels.filter((label) => !present.includes(label));
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
  return openPullRequest(context, desired, state, commit.sha, true);
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
  if (existing) return openedElsewhere(context, desired, existing);
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
  const made = `branch ${stray.branch} has commit ${stray.sha.slice(0, 7)}`;
  const unblock = "delete the branch to let it open a pull request";
  if (!isBotCommitFor(head, desired.key))
    return { action: "blocked", key: desired.key, note: `${notMade(made)}; ${unblock}` };
  // The message's trailers are anyone's to copy: what the commit changes tells.
  const check = await checkHead(context, desired, stray.sha, state);
  if (check.kind === "foreign")
    return {
      action: "blocked",
      key: desired.key,
      note: `${notMade(made)}: ${check.why}; ${unblock}`,
    };
  const current =
    readBotTrailers(head.message)?.fingerprint === desired.fingerprint &&
    check.kind === "current" &&
    check.parent === state.head.sha;
  if (current) return openPullRequest(context, desired, state, stray.sha, false);
  const commit = built ?? (await buildBotCommit(context, desired, state));
  if (!commit) {
    await deleteBranch(context, stray.branch);
    return { action: "already-applied", key: desired.key, note: ALREADY_APPLIED };
  }
  const now = await readBranchSha(context, stray.branch);
  if (now !== stray.sha) {
    // Pushed to, recreated or deleted since it was listed: looked at afresh by the next run.
    context.memory.sweepDue = true;
    throw new ForgeError(
      `move ${stray.branch} to ${commit.sha.slice(0, 7)}`,
      `the branch ${now === undefined ? "was deleted" : `moved to ${now.slice(0, 7)}`} since it was read; nothing was overwritten, and the next run looks at it again`,
    );
  }
  await moveBranch(context, stray.branch, commit.sha);
  return openPullRequest(context, desired, state, commit.sha, true);
}

/**
 * Opens the pull request for a branch at `sha` (a commit this run `pushed`, or one it found);
 * GitHub allows one open pull request per head.
 */
async function openPullRequest(
  context: ForgeContext,
  desired: DesiredPullRequest,
  state: RepoState,
  sha: string,
  pushed: boolean,
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
        body: markedBody(desired, sha, state, undefined, undefined),
      },
      PullRequestSchema,
    );
  } catch (error) {
    if (!failedWith(error, 422, /pull request already exists/i)) throw error;
    const existing = await findOpenPullRequest(context, branch);
    if (!existing) throw error;
    // A request GitHub carried out but answered with an error (a 502 from its proxy), retried:
    // the pull request found is this run's own when it carries this run's commit and plan.
    if (pushed && byBot(context, existing) && openedBy(existing, desired, sha)) {
      await addLabels(context, existing.number, missingLabels(desired, labelNames(existing)));
      return createdResult(desired, existing, sha);
    }
    return openedElsewhere(context, desired, existing);
  }
  await addLabels(context, pr.number, desired.labels);
  return createdResult(desired, pr, sha);
}

/** Whether `pr` is the one this run asked for: its head and its marker are this run's. */
function openedBy(pr: GitHubPullRequest, desired: DesiredPullRequest, sha: string): boolean {
  const marker = readPullRequestMarker(pr.body);
  return (
    pr.head.sha === sha &&
    marker?.key === desired.key &&
    marker.fingerprint === desired.fingerprint &&
    marker.sha === sha
  );
}

function createdResult(
  desired: DesiredPullRequest,
  pr: GitHubPullRequest,
  sha: string,
): EnsureResult {
  return { action: "created", key: desired.key, number: pr.number, url: pr.html_url, botSha: sha };
}

function notMade(what: string): string {
  return `${what}, which pr-autoscaler did not make`;
}

/**
 * Another run opened the pull request: it is returned as found, with the plan's labels that it
 * lacks (that run may have stopped before labelling it). One that someone else opened from the
 * bot's branch is theirs: left alone, and nothing is opened meanwhile.
 */
async function openedElsewhere(
  context: ForgeContext,
  desired: DesiredPullRequest,
  pr: GitHubPullRequest,
): Promise<EnsureResult> {
  if (!byBot(context, pr)) {
    return {
      action: "blocked",
      key: desired.key,
      note: `pull request #${pr.number} from ${pr.head.ref} was opened by ${pr.user?.login ?? "an account since deleted"}, not by pr-autoscaler; it is left alone until it is closed`,
    };
  }
  await addLabels(context, pr.number, missingLabels(desired, labelNames(pr)));
  return {
    action: "unchanged",
    key: desired.key,
    number: pr.number,
    url: pr.html_url,
    note: "another run opened this pull request",
  };
}

function labelNames(pr: GitHubPullRequest): string[] {
  return pr.labels.map((label) => label.name);
}

/**
 * The body with the marker of the pull request as the bot writes it; KEPT_SAID, the comments
 * saying why it was kept posted on it before, is carried over (the record of the last is not:
 * an update means the plan wants it).
 */
function markedBody(
  desired: DesiredPullRequest,
  sha: string,
  state: RepoState,
  previous: string | undefined,
  keptSaid: number | undefined,
): string {
  return withPullRequestMarker(desired.body, {
    key: desired.key,
    fingerprint: desired.fingerprint,
    sha,
    base: state.head.sha,
    ...(previous ? { previous } : {}),
    labels: desired.labels,
    ...(desired.change ? { from: desired.change.from, to: desired.change.to } : {}),
    ...(desired.valuesFingerprint ? { valuesFingerprint: desired.valuesFingerprint } : {}),
    ...(desired.changedAt ? { changedAt: desired.changedAt } : {}),
    ...(desired.workloads ? { workloads: desired.workloads } : {}),
    ...(desired.containers ? { containers: desired.containers } : {}),
    ...(desired.requests ? { requests: desired.requests } : {}),
    ...(keptSaid ? { keptSaid } : {}),
  });
}
