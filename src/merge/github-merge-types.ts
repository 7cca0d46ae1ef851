import { z } from "zod";

/** The fields of GitHub's answers merging reads, and nothing more. Lenient: data we only read. */

export const GitHubPullRequestDetail = z.object({
  number: z.number(),
  node_id: z.string(),
  state: z.string(),
  merged: z.boolean().optional(),
  draft: z.boolean().optional(),
  body: z.string().nullable(),
  /** Who opened it; null for an account that was deleted. */
  user: z.object({ login: z.string() }).nullable().optional(),
  created_at: z.string(),
  labels: z.array(z.object({ name: z.string() })),
  head: z.object({ sha: z.string(), ref: z.string() }),
  base: z.object({
    ref: z.string(),
    repo: z
      .object({
        allow_auto_merge: z.boolean().optional(),
        allow_merge_commit: z.boolean().optional(),
        allow_squash_merge: z.boolean().optional(),
        allow_rebase_merge: z.boolean().optional(),
      })
      .nullable()
      .optional(),
  }),
  auto_merge: z
    .object({
      enabled_by: z.object({ login: z.string() }).nullable().optional(),
      merge_method: z.string().optional(),
    })
    .nullable()
    .optional(),
  mergeable_state: z.string().optional(),
});
export type GitHubPullRequestDetail = z.infer<typeof GitHubPullRequestDetail>;

export const GitHubProtectedBranch = z.object({
  protected: z.boolean().optional(),
  protection: z
    .object({
      required_status_checks: z
        .object({
          enforcement_level: z.string().optional(),
          contexts: z.array(z.string()).optional(),
          checks: z.array(z.object({ context: z.string() })).optional(),
        })
        .optional(),
    })
    .optional(),
});

export const GitHubBranchRules = z.array(
  z.object({
    type: z.string(),
    parameters: z
      .object({
        required_status_checks: z.array(z.object({ context: z.string() })).optional(),
      })
      .optional(),
  }),
);

export const GitHubStatuses = z.object({
  statuses: z.array(z.object({ context: z.string(), state: z.string() })),
});

export const GitHubCheckRunList = z.object({
  total_count: z.number(),
  check_runs: z.array(
    z.object({ name: z.string(), status: z.string(), conclusion: z.string().nullable() }),
  ),
});

export const GitHubMergeResult = z.object({ sha: z.string(), merged: z.boolean() });

export const GitHubContentFile = z.object({
  type: z.string(),
  encoding: z.string().optional(),
  content: z.string().optional(),
});
