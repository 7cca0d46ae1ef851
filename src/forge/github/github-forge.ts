import type { CloseResult, EnsureResult, Forge } from "../forge.ts";
import type { GraphqlOctokit } from "./auto-merge.ts";
import { reportCheckRun, reportCommitStatus } from "./checks.ts";
import {
  closeBotPullRequest,
  deleteStray,
  leaveToPeople,
  noticeKept,
  withdrawAutoMerge,
} from "./close-pull-request.ts";
import { ensureBotPullRequest } from "./ensure-pull-request.ts";
import { readBranchCommits, readFileAt, readFileHistory } from "./files.ts";
import { createForgeMemory, type ForgeContext } from "./forge-context.ts";
import { createGitHubClient, type OctokitLike } from "./github-client.ts";
import { readMergeBase } from "./head-change.ts";
import { ensureBotIssue } from "./issues.ts";
import { postComment } from "./pull-request-steps.ts";
import { readRepoState, resolveDefaultBranch } from "./read-state.ts";

export interface GitHubForgeOptions {
  /**
   * Probot's `context.octokit`, or an `@octokit/rest` Octokit for the command line. Its GraphQL
   * API, which both have, turns GitHub's auto-merge off when an update changes the values.
   */
  octokit: OctokitLike & Partial<GraphqlOctokit>;
  owner: string;
  repo: string;
  /** The default branch, when known (every webhook payload has it); else read once. */
  defaultBranch?: string;
  /** The label that finds the bot's issues again; default "pr-autoscaler". */
  issueLabel?: string;
  /**
   * The account the bot acts as (`<app-slug>[bot]`): only pull requests it opened are its own,
   * and only its comments say what it already said. Without it, any pull request from a
   * `pr-autoscaler/` branch with the marker is, and any comment with its hidden tag.
   */
  botLogin?: string;
}

/** Actions after which closed pull requests and bot branches must be read again. */
const SWEEP_AFTER = new Set([
  "created",
  "updated",
  "rebuilt",
  "already-applied",
  "closed",
  "deleted",
]);

/**
 * The forge on GitHub's REST API. Keep one instance per repository for the life of the process:
 * it owns the ETag and file caches that make an idle reconcile cost two 304s.
 */
export function createGitHubForge(options: GitHubForgeOptions): Forge {
  const context: ForgeContext = {
    client: createGitHubClient(options.octokit, { owner: options.owner, repo: options.repo }),
    graphql: graphqlOf(options.octokit),
    issueLabel: options.issueLabel ?? "pr-autoscaler",
    defaultBranch: options.defaultBranch,
    botLogin: options.botLogin,
    memory: createForgeMemory(),
  };

  /** A failed or branch-changing step is followed by a fresh look at stray branches. */
  async function sweeping<R extends EnsureResult | CloseResult>(run: () => Promise<R>): Promise<R> {
    try {
      const result = await run();
      if (SWEEP_AFTER.has(result.action)) context.memory.sweepDue = true;
      return result;
    } catch (error) {
      context.memory.sweepDue = true;
      throw error;
    }
  }

  return {
    readState: () => readRepoState(context),
    ensurePullRequest: (desired, state) =>
      sweeping(() => ensureBotPullRequest(context, desired, state)),
    closePullRequest: (pr, reason) => sweeping(() => closeBotPullRequest(context, pr, reason)),
    leavePullRequest: (pr) => leaveToPeople(context, pr),
    withdrawAutoMerge: (pr) => withdrawAutoMerge(context, pr),
    noticeKept: (pr, message, notice) => noticeKept(context, pr, message, notice),
    deleteStrayBranch: (branch) => sweeping(() => deleteStray(context, branch)),
    readFile: (path, ref) => readFileAt(context, path, ref),
    mergeBase: (base, head) => readMergeBase(context, base, head),
    fileHistory: async (path, historyOptions) =>
      readFileHistory(context, await resolveDefaultBranch(context), path, historyOptions),
    branchCommits: async (limit) =>
      readBranchCommits(context, await resolveDefaultBranch(context), limit),
    ensureIssue: (issue) => ensureBotIssue(context, issue),
    comment: (issueNumber, body) => postComment(context, issueNumber, body),
    reportCheck: (check) => reportCheckRun(context, check),
    setCommitStatus: (status) => reportCommitStatus(context, status),
  };
}

function graphqlOf(octokit: OctokitLike & Partial<GraphqlOctokit>): GraphqlOctokit | undefined {
  const { graphql } = octokit;
  return typeof graphql === "function" ? { graphql: graphql.bind(octokit) } : undefined;
}
