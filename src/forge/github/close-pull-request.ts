import type { BotPullRequest, CloseResult, DesiredPullRequest, StrayBranch } from "../forge.ts";
import {
  commentTag,
  hasCommentTag,
  type PullRequestMarker,
  readPullRequestMarker,
  replacePullRequestMarker,
} from "../marker.ts";
import { disableAutoMerge, isBotAccount } from "./auto-merge.ts";
import type { ForgeContext } from "./forge-context.ts";
import { GitHubPullRequest } from "./github-types.ts";
import {
  deleteBranch,
  findOpenPullRequest,
  isBotCommitFor,
  listOwnCommentBodies,
  postComment,
  readBranchSha,
  readCommit,
} from "./pull-request-steps.ts";

/**
 * Says why in a comment (once, even when a step after it failed and this runs again), closes the
 * pull request, marking it closed by the bot in its hidden marker, and deletes its branch. One
 * people reopened after the bot closed it gets a comment of its own for each reopening, saying
 * why it is closed again and how to ask for a count by hand: the count of reopenings is in the
 * marker, so neither a later run nor a restarted process says it twice.
 * GitHub's auto-merge that the bot's account turned on is turned off before anything else: it
 * could merge the change the plan no longer wants before the close. A pull request people took
 * over is left alone (see `leaveToPeople`).
 */
export async function closeBotPullRequest(
  context: ForgeContext,
  pr: BotPullRequest,
  reason: string,
): Promise<CloseResult> {
  if (pr.control === "human") {
    return { action: "left-alone", note: pr.handsOffReason ?? "people have changed it" };
  }
  await withdrawAutoMerge(context, pr);
  const read = readPullRequestMarker(pr.body) ?? { key: pr.key };
  // Open with the bot's close mark still on: reopened, and the mark's removal (which counts it)
  // failed; it is counted here instead.
  const reopened = (read.reopened ?? 0) + (read.closedBy === undefined ? 0 : 1);
  const tag: Record<string, string> =
    reopened > 0 ? { sha: pr.headSha, reopened: String(reopened) } : { sha: pr.headSha };
  const comments = await listOwnCommentBodies(context, pr.number);
  if (!comments.some((body) => hasCommentTag(body, "closing", tag))) {
    const text = reopened > 0 ? closedAgainMessage(pr.key, reason) : reason;
    await postComment(context, pr.number, `${text}\n\n${commentTag("closing", tag)}`);
  }
  // The same request says the bot closed it: a pull request closed without this mark was closed
  // by people, which later runs tell from the list of closed pull requests alone.
  const marker = reopened > 0 ? { ...read, reopened } : read;
  await context.client.call(
    `close pull request #${pr.number}`,
    "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
    {
      pull_number: pr.number,
      state: "closed",
      body: replacePullRequestMarker(pr.body, { ...marker, closedBy: "bot" }),
    },
    GitHubPullRequest,
  );
  await deleteBranch(context, pr.branch);
  return { action: "closed" };
}

/**
 * Tells people, once, that the bot no longer touches this pull request, and records that in its
 * hidden marker so later runs need no request to know it. GitHub's auto-merge that the bot's
 * account turned on is turned off first: GitHub keeps it on when someone with write access
 * pushes, and would merge what they pushed as if the bot had said yes to it.
 */
export async function leaveToPeople(context: ForgeContext, pr: BotPullRequest): Promise<void> {
  const autoMergeOff = await withdrawAutoMerge(context, pr);
  if (pr.handsOffNoticed) return;
  const tag = { key: pr.key };
  const comments = await listOwnCommentBodies(context, pr.number);
  if (!comments.some((body) => hasCommentTag(body, "hands-off", tag))) {
    const message = handsOffMessage(pr, autoMergeOff, commentTag("hands-off", tag));
    await postComment(context, pr.number, message);
  }
  const marker = readPullRequestMarker(pr.body) ?? { key: pr.key };
  await context.client.call(
    `mark pull request #${pr.number} as left to people`,
    "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
    {
      pull_number: pr.number,
      body: replacePullRequestMarker(pr.body, { ...marker, handsOff: pr.headSha }),
    },
    GitHubPullRequest,
  );
}

/**
 * Says in a comment why the pull request is kept as it is, once for NOTICE: a comment already
 * tagged with it (a step after it failed, and this runs again) is not posted twice, and it goes
 * into the hidden marker so later runs need no request to know it.
 */
export async function noticeKept(
  context: ForgeContext,
  pr: BotPullRequest,
  message: string,
  digest: string,
): Promise<void> {
  if (pr.keptNotice === digest) return;
  // Numbered: the same keep said again after the pull request was wanted as it is in between.
  const said = (pr.keptSaid ?? 0) + 1;
  const tag = { key: pr.key, notice: digest, said: String(said) };
  const comments = await listOwnCommentBodies(context, pr.number);
  if (!comments.some((body) => hasCommentTag(body, "kept", tag)))
    await postComment(context, pr.number, `${message}\n\n${commentTag("kept", tag)}`);
  const marker = readPullRequestMarker(pr.body) ?? { key: pr.key };
  await context.client.call(
    `record on pull request #${pr.number} why it is kept`,
    "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
    {
      pull_number: pr.number,
      body: replacePullRequestMarker(pr.body, { ...marker, kept: digest, keptSaid: said }),
    },
    GitHubPullRequest,
  );
}

/**
 * Brings the marker of a pull request the plan wants as it is up to date, in one request and only
 * when something is to change in it (no push: the branch holds the plan's values already):
 * - the record of a comment saying why it is kept goes (it was kept before), so that a later
 *   keep, even of the same changes, is said again;
 * - a right-sizing pull request whose marker was written before it named the workloads,
 *   containers and requests it changes gets them from the plan, whose changes it holds as they
 *   are, so that a change in it that comes to be not judged is kept, not reverted, and a close
 *   names its workloads. Not when they would not fit in the marker (see `withPullRequestMarker`).
 */
export async function refreshMarker(
  context: ForgeContext,
  pr: BotPullRequest,
  desired: Pick<DesiredPullRequest, "workloads" | "containers" | "requests">,
): Promise<void> {
  const marker = readPullRequestMarker(pr.body) ?? { key: pr.key };
  const { kept: _kept, ...unkept } = marker;
  const base = pr.keptNotice === undefined ? marker : unkept;
  const lists = recordedLists(pr.body, base, desired);
  if (pr.keptNotice === undefined && lists === undefined) return;
  await context.client.call(
    lists === undefined
      ? `record on pull request #${pr.number} that it is no longer kept`
      : `record on pull request #${pr.number} the workloads, containers and requests it changes`,
    "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
    { pull_number: pr.number, body: replacePullRequestMarker(pr.body, lists ?? base) },
    GitHubPullRequest,
  );
}

const LISTS = ["workloads", "containers", "requests"] as const;

/**
 * MARKER with the plan's lists where it lacks them, when the marker so written records more of
 * them than it did; undefined otherwise (a node pull request, lists already recorded, or lists
 * too long for the marker).
 */
function recordedLists(
  body: string,
  marker: PullRequestMarker,
  desired: Pick<DesiredPullRequest, "workloads" | "containers" | "requests">,
): PullRequestMarker | undefined {
  if (LISTS.every((list) => marker[list] !== undefined || desired[list] === undefined))
    return undefined;
  const next: PullRequestMarker = { ...marker };
  for (const list of LISTS) {
    const value = desired[list];
    if (next[list] === undefined && value !== undefined) next[list] = value;
  }
  const written = readPullRequestMarker(replacePullRequestMarker(body, next));
  const count = (recorded: PullRequestMarker | undefined) =>
    LISTS.filter((list) => recorded?.[list] !== undefined).length;
  return count(written) > count(marker) ? next : undefined;
}

/** Turns off GitHub's auto-merge when the bot's account turned it on; true when it did. */
export async function withdrawAutoMerge(
  context: ForgeContext,
  pr: BotPullRequest,
): Promise<boolean> {
  const ours = isBotAccount(context.botLogin, pr.autoMergeBy);
  if (!ours || !pr.autoMerge || pr.nodeId === undefined || !context.graphql) return false;
  await disableAutoMerge(context.graphql, pr.nodeId);
  return true;
}

/** The closing comment of a pull request people reopened after the bot closed it. */
function closedAgainMessage(key: string, reason: string): string {
  const pool = key.startsWith("nodes-") ? key.slice("nodes-".length) : undefined;
  return [
    `This pull request was reopened, and pr-autoscaler closes it again. ${reason}`,
    "",
    "Reopening it does not keep it open while pr-autoscaler does not want the change.",
    ...(pool === undefined
      ? []
      : [
          `To ask for a count by hand, comment \`/autoscaler scale ${pool}=N\` (N within the pool's min and max): pr-autoscaler proposes N until the default branch has it, and \`/autoscaler scale ${pool}=auto\` gives the pool back to the plan.`,
        ]),
  ].join("\n");
}

function handsOffMessage(pr: BotPullRequest, autoMergeOff: boolean, tag: string): string {
  const why = pr.handsOffReason ? ` because ${pr.handsOffReason}` : "";
  return [
    `pr-autoscaler leaves this pull request to you${why}.`,
    "It will not update, rebuild, close or merge it. To have pr-autoscaler propose this change again, close this pull request and delete its branch.",
    ...(autoMergeOff
      ? [
          "GitHub's auto-merge, which pr-autoscaler had turned on, is off: turn it on again if you want it.",
        ]
      : []),
    "",
    tag,
  ].join("\n");
}

/**
 * Deletes a stray bot branch, after checking (fresh) that its head is the bot's commit for that
 * key and that no pull request is open on it. Anything else is left alone. A head that is not the
 * bot's is judged from its commit, which is read once: a people's branch costs no request again
 * until it moves.
 */
export async function deleteStray(context: ForgeContext, stray: StrayBranch): Promise<CloseResult> {
  const listed = await readCommit(context, stray.branch, stray.sha);
  if (!isBotCommitFor(listed, stray.key)) return notTheBots(stray.sha);
  const sha = await readBranchSha(context, stray.branch);
  if (sha === undefined) return { action: "deleted", note: "the branch was already gone" };
  if (sha !== stray.sha && !isBotCommitFor(await readCommit(context, stray.branch, sha), stray.key))
    return notTheBots(sha);
  if (await findOpenPullRequest(context, stray.branch)) {
    return { action: "left-alone", note: "a pull request is open on it" };
  }
  await deleteBranch(context, stray.branch);
  return { action: "deleted" };
}

function notTheBots(sha: string): CloseResult {
  return { action: "left-alone", note: `its head ${sha.slice(0, 7)} is not pr-autoscaler's` };
}
