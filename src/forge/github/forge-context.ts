import type { BranchCommit, FileHistoryEntry } from "../forge.ts";
import { type ListedComment, writtenBy } from "../marker.ts";
import type { GraphqlOctokit } from "./auto-merge.ts";
import { type BoundedCache, createBoundedCache } from "./bounded-cache.ts";
import type { GitHubClient } from "./github-client.ts";
import type { GitHubGitCommit, GitHubPullRequest } from "./github-types.ts";
import type { HeadChange } from "./head-change.ts";

/** What one GitHub forge instance remembers between reconciles; losing it only costs requests. */
export interface ForgeMemory {
  defaultBranch: string | undefined;
  /** The default branch head seen by the last readState: reads default to it (and cache by it). */
  headSha: string | undefined;
  /** Re-read closed pull requests and bot branches on the next readState (after a failure). */
  sweepDue: boolean;
  /** Closed pull requests and bot branch refs from the last sweep. */
  sweep: SweepResult | undefined;
  /** File texts by commit sha and path: immutable, so never re-read. */
  files: BoundedCache<{ text: string | undefined }>;
  /** File histories by head sha, path and limit: immutable for a given head. */
  histories: BoundedCache<FileHistoryEntry[]>;
  /** The latest commits of the default branch by head sha and count: immutable for a head. */
  branchCommits: BoundedCache<BranchCommit[]>;
  /**
   * Commits read by sha (immutable), to tell whether a branch's head is the bot's: a people's
   * branch under the bot's prefix is read once per head, not at every reconcile.
   */
  commits: BoundedCache<GitHubGitCommit>;
  /**
   * What the head commits of bot branches change on the default branch, by sha (immutable): a
   * pull request's head is checked once per commit, and the forge's own commits not at all.
   */
  heads: BoundedCache<HeadChange>;
  /** `base...head` → the commit a branch left `base`'s history at (people's pull requests). */
  mergeBases: BoundedCache<string>;
}

export interface SweepResult {
  closed: GitHubPullRequest[];
  /** Full names of the `pr-autoscaler/…` branches with their head shas. */
  branches: { branch: string; sha: string }[];
}

/** Shared by the GitHub forge's modules. */
export interface ForgeContext {
  client: GitHubClient;
  /** GitHub's GraphQL API, to turn auto-merge off; undefined when the Octokit given has none. */
  graphql: GraphqlOctokit | undefined;
  /** The label that finds the bot's issues again (issues only; pull requests have their own). */
  issueLabel: string;
  /** The default branch name, when the caller knows it (saves one request per instance). */
  defaultBranch: string | undefined;
  /**
   * The account the bot opens pull requests and comments as (`<app-slug>[bot]`): a pull request
   * someone else opened is never the bot's, whatever its branch and description say, and a hidden
   * tag in someone else's comment is not the bot's word. Undefined: not checked.
   */
  botLogin: string | undefined;
  memory: ForgeMemory;
}

const FILE_CACHE_ENTRIES = 500;
const HISTORY_CACHE_ENTRIES = 200;
const BRANCH_COMMITS_CACHE_ENTRIES = 4;
const COMMIT_CACHE_ENTRIES = 1000;
const HEAD_CACHE_ENTRIES = 500;

export function createForgeMemory(): ForgeMemory {
  return {
    defaultBranch: undefined,
    headSha: undefined,
    sweepDue: true,
    sweep: undefined,
    files: createBoundedCache(FILE_CACHE_ENTRIES),
    histories: createBoundedCache(HISTORY_CACHE_ENTRIES),
    branchCommits: createBoundedCache(BRANCH_COMMITS_CACHE_ENTRIES),
    commits: createBoundedCache(COMMIT_CACHE_ENTRIES),
    heads: createBoundedCache(HEAD_CACHE_ENTRIES),
    mergeBases: createBoundedCache(HEAD_CACHE_ENTRIES),
  };
}

/** Whether `ref` is a full commit sha (content at it never changes). */
export function isCommitSha(ref: string): boolean {
  return /^[0-9a-f]{40}$/i.test(ref);
}

/**
 * Whether the bot's account wrote `item` (opened a pull request, wrote a comment); every item
 * counts when the forge does not know the account.
 */
export function byBot(context: ForgeContext, item: Pick<ListedComment, "user">): boolean {
  return context.botLogin === undefined || writtenBy(item, context.botLogin);
}
