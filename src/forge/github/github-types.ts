import { z } from "zod";

/**
 * The fields of GitHub's answers the forge reads, and nothing more (zod drops the rest). Lenient:
 * these describe data we only read.
 */

export const GitHubRepositoryInfo = z.object({ default_branch: z.string() });

export const GitHubBranch = z.object({
  commit: z.object({
    sha: z.string(),
    commit: z.object({ tree: z.object({ sha: z.string() }) }),
  }),
});
export type GitHubBranch = z.infer<typeof GitHubBranch>;

const Label = z.object({ name: z.string() });

export const GitHubPullRequest = z.object({
  number: z.number(),
  /** The GraphQL id, which turning auto-merge off needs. */
  node_id: z.string().optional(),
  title: z.string(),
  body: z.string().nullable(),
  html_url: z.string(),
  /** "open" or "closed" (a merged pull request is closed, with `merged_at`). */
  state: z.string(),
  created_at: z.string(),
  closed_at: z.string().nullable(),
  merged_at: z.string().nullable(),
  labels: z.array(Label),
  head: z.object({
    ref: z.string(),
    sha: z.string(),
    repo: z.object({ full_name: z.string() }).nullable(),
  }),
  base: z.object({
    ref: z.string(),
    /** The base branch commit GitHub last compared the pull request with. */
    sha: z.string().optional(),
    repo: z.object({ full_name: z.string() }),
  }),
  /** Who opened it; null for an account that was deleted. */
  user: z.object({ login: z.string() }).nullable().optional(),
  /** Opened, or turned back, as a draft. */
  draft: z.boolean().optional(),
  /** Set while GitHub's auto-merge is on, with who turned it on. */
  auto_merge: z
    .object({ enabled_by: z.object({ login: z.string() }).nullable().optional() })
    .nullable()
    .optional(),
});
export type GitHubPullRequest = z.infer<typeof GitHubPullRequest>;

export const GitHubPullRequests = z.array(GitHubPullRequest);

export const GitHubRef = z.object({ ref: z.string(), object: z.object({ sha: z.string() }) });
export const GitHubRefs = z.array(GitHubRef);

export const GitHubGitCommit = z.object({
  sha: z.string(),
  message: z.string(),
  tree: z.object({ sha: z.string() }),
  parents: z.array(z.object({ sha: z.string() })),
});
export type GitHubGitCommit = z.infer<typeof GitHubGitCommit>;

export const GitHubTree = z.object({ sha: z.string() });

/**
 * A comparison of two commits (`base...head`): the commits `head` has that `base` lacks, their
 * merge base, and the files `head` changes on that merge base with their blob shas.
 */
export const GitHubComparison = z.object({
  ahead_by: z.number(),
  merge_base_commit: z.object({ sha: z.string() }),
  commits: z.array(z.object({ sha: z.string(), parents: z.array(z.object({ sha: z.string() })) })),
  /** At most 300; absent when the comparison has none to show. */
  files: z
    .array(
      z.object({
        filename: z.string(),
        status: z.string(),
        /** The blob at `head`; null for a file without one (a submodule, a removed file). */
        sha: z.string().nullable(),
        previous_filename: z.string().optional(),
      }),
    )
    .optional(),
});
export type GitHubComparison = z.infer<typeof GitHubComparison>;

export const GitHubFileContent = z.object({
  type: z.string(),
  /** The path answered: a symbolic link's target when the link was followed. */
  path: z.string().optional(),
  /** Where a symbolic link GitHub did not follow points. */
  target: z.string().optional(),
  sha: z.string(),
  encoding: z.string().optional(),
  content: z.string().optional(),
});
/** The contents API answers a directory with an array. */
export const GitHubContent = z.union([GitHubFileContent, z.array(z.unknown())]);
export type GitHubContent = z.infer<typeof GitHubContent>;

export const GitHubBlob = z.object({ content: z.string(), encoding: z.string() });

export const GitHubIssue = z.object({
  number: z.number(),
  title: z.string(),
  body: z.string().nullable().optional(),
  state: z.string(),
  html_url: z.string(),
  pull_request: z.unknown().optional(),
});
export type GitHubIssue = z.infer<typeof GitHubIssue>;
export const GitHubIssues = z.array(GitHubIssue);

export const GitHubComment = z.object({
  id: z.number(),
  body: z.string().nullish(),
  /** Null for an account GitHub deleted. */
  user: z.object({ login: z.string() }).nullable(),
});
export const GitHubComments = z.array(GitHubComment);

export const GitHubCommitSummaries = z.array(
  z.object({
    sha: z.string(),
    commit: z.object({
      message: z.string(),
      committer: z.object({ date: z.string().optional() }).nullable(),
      author: z.object({ date: z.string().optional() }).nullable(),
    }),
    parents: z.array(z.object({ sha: z.string() })).optional(),
  }),
);

export const GitHubCheckRuns = z.object({
  check_runs: z.array(
    z.object({ id: z.number(), status: z.string(), external_id: z.string().nullable() }),
  ),
});

export const GitHubCheckRun = z.object({ id: z.number() });

export const GitHubCombinedStatus = z.object({
  statuses: z.array(
    z.object({
      context: z.string(),
      state: z.string(),
      description: z.string().nullable(),
      target_url: z.string().nullable(),
    }),
  ),
});
