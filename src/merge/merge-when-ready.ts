import type { ClosedBotPullRequest } from "../forge/forge.ts";
import { ForgeError } from "../forge/forge-error.ts";
import { disableAutoMerge } from "../forge/github/auto-merge.ts";
import {
  createGitHubClient,
  type GitHubClient,
  githubMessage,
} from "../forge/github/github-client.ts";
import { readPullRequestMarker } from "../forge/marker.ts";
import type { AutomergePolicy, MergeMethod, PolicyRule } from "../policy/automerge-policy.ts";
import type { CheckStates } from "./check-states.ts";
import { mergeRecords } from "./daily-cap.ts";
import { evaluatePolicy, type PolicyContext } from "./evaluate-policy.ts";
import { GitHubMergeResult, GitHubPullRequestDetail } from "./github-merge-types.ts";
import { isHeld } from "./hold.ts";
import type { MergeOctokit } from "./merge-octokit.ts";
import { classifyMergeRefusal, type MergeRefusal } from "./merge-refusal.ts";
import { enableNativeAutoMerge } from "./native-auto-merge.ts";
import type { PolicySubject } from "./policy-subject.ts";
import { readCheckStates } from "./read-checks.ts";
import { commentMergeRefusal } from "./refusal-comment.ts";
import { requestReview } from "./request-review.ts";
import { describeBlocker, type Verdict } from "./verdict.ts";

/** A policy together with the branch it was read from (see `loadBranchPolicy`). */
export interface BranchPolicy {
  /** The branch whose `.github/pr-autoscaler.yml` it is: the repository's default branch. */
  branch: string;
  policy: AutomergePolicy;
}

export interface MergeWhenReadyInput {
  octokit: MergeOctokit;
  owner: string;
  repo: string;
  pullNumber: number;
  /**
   * The policy read from the branch the pull request merges into, never from the pull request:
   * a pull request that edits the policy does not gain from its own edit.
   */
  branchPolicy: BranchPolicy;
  /** The facts of the proposal the pull request carries. */
  subject: PolicySubject;
  /** The bot's recently closed pull requests (`RepoState.recentlyClosed`), for the daily caps. */
  recentlyClosed: readonly ClosedBotPullRequest[];
  /** The login the bot acts as (`my-app[bot]`): GitHub auto-merge it turned on is its to turn off. */
  botLogin: string;
  /** A hold the caller recorded for `/autoscaler hold`; the hold label counts as well. */
  held?: boolean;
  /**
   * The commit of the bot's that may merge: the pull request's head as the forge pushed it or
   * checked it to be the plan's change. Any other head is refused, whatever the marker names.
   */
  botSha: string;
  now?: Date;
}

export type MergeAction =
  /** Merged now (squash, merge or rebase, as the rule says). */
  | "merged"
  /** GitHub's auto-merge turned on: GitHub merges once its required checks pass. */
  | "auto-merge-enabled"
  /** GitHub's auto-merge was already on. */
  | "auto-merge-on"
  /** A merge rule applies, but something blocks it for now (see the verdict). */
  | "waiting"
  /**
   * Every condition of the policy holds, but GitHub refused the merge for a reason that does not
   * clear by itself (a review branch protection requires, a merge method the repository does not
   * allow): see `refusal`. Tried again when something changes, not at every look.
   */
  | "blocked"
  /** The policy says a person decides. */
  | "review"
  /** Someone said `/autoscaler hold`. */
  | "held"
  /** Not the bot's to merge: its head is not the bot's commit, or the policy is for another branch. */
  | "refused"
  /** Already merged or closed. */
  | "closed";

export interface MergeOutcome {
  action: MergeAction;
  /** The verdict it acted on (undefined when it stopped before evaluating). */
  verdict: Verdict | undefined;
  /** What happened, in a sentence, for logs. */
  note: string;
  /** GitHub's auto-merge was turned off in this call. */
  disabledAutoMerge: boolean;
  /** The merge commit, when merged. */
  mergeSha?: string;
  /** For `blocked`: GitHub's refusal and what to do about it. */
  refusal?: MergeRefusal;
}

type PullRequest = GitHubPullRequestDetail;

/**
 * Merges a bot pull request when the policy says it may, and only then. It reads the pull
 * request, its checks and the required checks afresh, evaluates the policy (its grace period
 * from the later of the opening and the last change of the values, as the bot's marker records
 * it), and: when everything holds, turns GitHub's auto-merge on (rules without windows or caps,
 * where the repository allows it) or merges directly with the bot's commit as the expected head; when only required checks
 * are still running, leaves the waiting to GitHub's auto-merge where GitHub enforces them; in
 * every other case it does not merge, and turns off auto-merge the bot turned on earlier (any
 * auto-merge, for a hold). Under a review rule it asks the rule's people once (`requestReview`),
 * without reading checks. A merge GitHub refuses for good is said once on the pull request.
 * Safe to call again at any time.
 */
export async function mergeWhenReady(input: MergeWhenReadyInput): Promise<MergeOutcome> {
  const client = createGitHubClient(input.octokit, { owner: input.owner, repo: input.repo });
  const pr = await client.call(
    `read pull request #${input.pullNumber}`,
    "GET /repos/{owner}/{repo}/pulls/{pull_number}",
    { pull_number: input.pullNumber },
    GitHubPullRequestDetail,
  );
  if (pr.state !== "open" || pr.merged) return stop("closed", "the pull request is no longer open");
  const ours = pr.auto_merge?.enabled_by?.login === input.botLogin;
  const refusal = refusalReason(pr, input);
  if (refusal)
    return withOff(ours, input, pr, { action: "refused", verdict: undefined, note: refusal });

  const held = input.held === true || isHeld(pr.labels.map((label) => label.name));
  const { policy } = input.branchPolicy;
  // The grace period counts from the last change of the values, as the bot's marker records it.
  const changedAt = readPullRequestMarker(pr.body)?.changedAt;
  const context: PolicyContext = {
    now: input.now ?? new Date(),
    openedAt: pr.created_at,
    ...(changedAt ? { changedAt } : {}),
    merges: mergeRecords(input.recentlyClosed),
    held,
  };
  // Which rule decides does not depend on the checks: a person's decision needs none read.
  const decided = evaluatePolicy(policy, input.subject, context);
  const rule = decided.rule ? policy.rules[decided.rule.index] : undefined;
  if (decided.action === "review" || !rule) return review(client, input, pr, decided, held);
  const checks = await readCheckStates(client, pr.head.sha, pr.base.ref);
  const verdict = evaluatePolicy(policy, input.subject, { ...context, checks });
  if (held)
    return withOff(pr.auto_merge != null, input, pr, {
      action: "held",
      verdict,
      note: "on hold: not merging",
    });
  const native = nativeAllowed(policy, rule, input.subject, pr);
  const waitingOn = verdict.blockedBy.filter((blocker) => !onlyRunning(blocker, checks, native));
  if (waitingOn.length > 0)
    return withOff(ours, input, pr, {
      action: "waiting",
      verdict,
      note: waitingOn.map(describeBlocker).join("; "),
    });
  if (native) {
    const answer = await enableOrKeep(input, pr, rule.method);
    if (answer) return { ...answer, verdict };
  }
  if (!verdict.ready)
    return {
      action: "waiting",
      verdict,
      note: "waiting for required checks",
      disabledAutoMerge: false,
    };
  return mergeDirectly(client, input, pr, rule.method, verdict);
}

/**
 * A person decides: the rule's people are asked (once), and GitHub's auto-merge is turned off
 * where the bot turned it on (anyone's, for a hold).
 */
async function review(
  client: GitHubClient,
  input: MergeWhenReadyInput,
  pr: PullRequest,
  verdict: Verdict,
  held: boolean,
): Promise<MergeOutcome> {
  const asked = await requestReview(client, pr, verdict);
  const note = [held ? "on hold" : verdict.reasons.join(" "), asked.note]
    .filter((part) => part !== "")
    .join("; ");
  if (held) return withOff(pr.auto_merge != null, input, pr, { action: "held", verdict, note });
  const ours = pr.auto_merge?.enabled_by?.login === input.botLogin;
  return withOff(ours, input, pr, { action: "review", verdict, note });
}

/** Why the bot must not merge this pull request at all, or undefined. */
function refusalReason(pr: PullRequest, input: MergeWhenReadyInput): string | undefined {
  if (input.branchPolicy.branch !== pr.base.ref)
    return `the policy was read from ${input.branchPolicy.branch}, but the pull request merges into ${pr.base.ref}`;
  if (pr.user?.login.toLowerCase() !== input.botLogin.toLowerCase())
    return `it was opened by ${pr.user?.login ?? "an account since deleted"}, not by pr-autoscaler`;
  const marker = readPullRequestMarker(pr.body);
  if (!marker?.sha) return "the pull request carries no record of the bot's commit";
  if (marker.handsOff !== undefined) return "people took the pull request over";
  if (pr.head.sha !== marker.sha || input.botSha !== pr.head.sha)
    return `its head ${pr.head.sha.slice(0, 7)} is not the commit pr-autoscaler made`;
  if (pr.draft) return "it is a draft";
  return undefined;
}

/**
 * GitHub's auto-merge only where GitHub can keep every condition itself: no windows and no
 * daily caps (GitHub would merge whenever checks finish), and the repository allows it.
 */
function nativeAllowed(
  policy: AutomergePolicy,
  rule: PolicyRule,
  subject: PolicySubject,
  pr: PullRequest,
): boolean {
  return (
    policy.nativeAutoMerge &&
    rule.during.length === 0 &&
    rule.notDuring.length === 0 &&
    policy.notDuring.length === 0 &&
    rule.maxPerDay === undefined &&
    policy.maxPerDay[subject.kind] === undefined &&
    pr.base.repo?.allow_auto_merge !== false
  );
}

/**
 * A blocker GitHub's auto-merge can wait out: required checks that are running or not yet
 * reported, all of them enforced by branch protection or rulesets (GitHub waits for those only).
 */
function onlyRunning(
  blocker: Verdict["blockedBy"][number],
  checks: CheckStates,
  native: boolean,
): boolean {
  if (blocker.kind !== "checks" || !native || !checks.required) return false;
  const enforced = new Set(checks.required);
  return (blocker.checks ?? []).every(
    (check) => check.state !== "failure" && enforced.has(check.name),
  );
}

/** Turns GitHub's auto-merge on (or finds it on); undefined when GitHub wants a direct merge. */
async function enableOrKeep(
  input: MergeWhenReadyInput,
  pr: PullRequest,
  method: MergeMethod,
): Promise<Omit<MergeOutcome, "verdict"> | undefined> {
  if (pr.auto_merge && pr.auto_merge.merge_method === method)
    return { action: "auto-merge-on", note: "GitHub's auto-merge is on", disabledAutoMerge: false };
  const answer = await enableNativeAutoMerge(input.octokit, {
    pullRequestId: pr.node_id,
    method,
    expectedHeadOid: pr.head.sha,
  });
  if (answer.result === "enabled")
    return {
      action: "auto-merge-enabled",
      note: `GitHub's auto-merge is on (${method}); GitHub merges once the required checks pass`,
      disabledAutoMerge: false,
    };
  return undefined;
}

async function mergeDirectly(
  client: GitHubClient,
  input: MergeWhenReadyInput,
  pr: PullRequest,
  method: MergeMethod,
  verdict: Verdict,
): Promise<MergeOutcome> {
  try {
    const result = await client.call(
      `merge pull request #${pr.number}`,
      "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",
      {
        pull_number: pr.number,
        // The expected head: GitHub refuses (409) when the branch moved since it was read.
        sha: pr.head.sha,
        merge_method: method,
        // A refusal (405, 409) is answered here, by its reason: Octokit's retries would only
        // repeat it, seconds apart, within this reconcile.
        request: { retries: 0 },
      },
      GitHubMergeResult,
    );
    return {
      action: "merged",
      verdict,
      note: `merged (${method}) under rule "${verdict.rule?.name}"`,
      disabledAutoMerge: false,
      mergeSha: result.sha,
    };
  } catch (error) {
    if (!(error instanceof ForgeError)) throw error;
    if (error.status === 409)
      return withOff(pr.auto_merge?.enabled_by?.login === input.botLogin, input, pr, {
        action: "refused",
        verdict,
        note: `GitHub refused: the head moved (${error.message})`,
      });
    if (error.status === 405 || error.status === 422)
      return refused(client, input.botLogin, pr, method, verdict, githubMessage(error.cause));
    throw error;
  }
}

/**
 * GitHub refused the merge: a refusal that clears by itself (the base branch moved, checks
 * still running) waits for the next look; any other is `blocked`, said once on the pull request.
 */
async function refused(
  client: GitHubClient,
  botLogin: string,
  pr: PullRequest,
  method: MergeMethod,
  verdict: Verdict,
  message: string,
): Promise<MergeOutcome> {
  const repo = pr.base.repo;
  const refusal = classifyMergeRefusal(message, method, {
    merge: repo?.allow_merge_commit,
    squash: repo?.allow_squash_merge,
    rebase: repo?.allow_rebase_merge,
  });
  if (!refusal)
    return {
      action: "waiting",
      verdict,
      note: `GitHub did not merge yet: ${message}`,
      disabledAutoMerge: false,
    };
  let said = "";
  try {
    const head = { number: pr.number, headSha: pr.head.sha };
    await commentMergeRefusal(client, botLogin, head, refusal);
  } catch (error) {
    // The refusal stands either way; the comment is tried again with the next refusal.
    if (!(error instanceof ForgeError)) throw error;
    said = `; ${error.message}`;
  }
  return {
    action: "blocked",
    verdict,
    note: `GitHub refused the merge: ${message}${said}`,
    disabledAutoMerge: false,
    refusal,
  };
}

function stop(action: MergeAction, note: string): MergeOutcome {
  return { action, verdict: undefined, note, disabledAutoMerge: false };
}

/** The outcome, after turning GitHub's auto-merge off when `off` and it is on. */
async function withOff(
  off: boolean,
  input: MergeWhenReadyInput,
  pr: PullRequest,
  outcome: Omit<MergeOutcome, "disabledAutoMerge">,
): Promise<MergeOutcome> {
  if (!off || !pr.auto_merge) return { ...outcome, disabledAutoMerge: false };
  await disableAutoMerge(input.octokit, pr.node_id);
  return {
    ...outcome,
    note: `${outcome.note}; GitHub's auto-merge turned off`,
    disabledAutoMerge: true,
  };
}
