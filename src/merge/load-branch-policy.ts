import { ForgeError } from "../forge/forge-error.ts";
import { createGitHubClient } from "../forge/github/github-client.ts";
import type { PresetStore } from "../policy/policy-presets.ts";
import type { PolicyFileReader } from "../policy/policy-resolve.ts";
import { type RepoConfiguration, validateRepoConfiguration } from "../policy/policy-validate.ts";
import { GitHubContentFile } from "./github-merge-types.ts";
import type { MergeOctokit } from "./merge-octokit.ts";
import type { BranchPolicy } from "./merge-when-ready.ts";

export interface LoadBranchPolicyOptions {
  octokit: MergeOctokit;
  owner: string;
  repo: string;
  /** The repository's default branch: the only branch the policy is read from. */
  defaultBranch: string;
  presets?: PresetStore;
}

/**
 * Reads and validates the repository's configuration from its default branch (following
 * `extends` into presets, files of the repository at the same branch, and other repositories'
 * default branches) and returns the policy with the branch it came from. A configuration with
 * errors gives a policy under which nothing merges itself; the issues are returned for the check
 * or issue that reports them.
 */
export async function loadBranchPolicy(
  options: LoadBranchPolicyOptions,
): Promise<BranchPolicy & { configuration: RepoConfiguration }> {
  const read = githubPolicyReader(options.octokit, {
    owner: options.owner,
    repo: options.repo,
    ref: options.defaultBranch,
  });
  const configuration = await validateRepoConfiguration({
    read,
    owner: options.owner,
    repository: `${options.owner}/${options.repo}`,
    ...(options.presets ? { presets: options.presets } : {}),
  });
  return { branch: options.defaultBranch, policy: configuration.policy, configuration };
}

/**
 * Reads policy files through GitHub's contents API: this repository's at `ref`, another
 * repository's (`owner/name`, or `name` under the same owner) at its default branch.
 * Undefined for a file that does not exist.
 */
export function githubPolicyReader(
  octokit: MergeOctokit,
  where: { owner: string; repo: string; ref: string },
): PolicyFileReader {
  return async (repo, path) => {
    const [owner, name] = repoOf(repo, where.owner) ?? [where.owner, where.repo];
    const client = createGitHubClient(octokit, { owner, repo: name });
    try {
      const file = await client.call(
        `read ${path} of ${owner}/${name}`,
        "GET /repos/{owner}/{repo}/contents/{path}",
        { path, ...(repo === undefined ? { ref: where.ref } : {}) },
        GitHubContentFile,
      );
      if (file.type !== "file" || file.encoding !== "base64" || file.content === undefined)
        throw new Error(`${path} of ${owner}/${name} is not a readable file`);
      return Buffer.from(file.content, "base64").toString("utf8");
    } catch (error) {
      if (error instanceof ForgeError && error.status === 404) return undefined;
      throw error;
    }
  };
}

function repoOf(repo: string | undefined, owner: string): [string, string] | undefined {
  if (repo === undefined) return undefined;
  const [first, second] = repo.split("/");
  return second === undefined ? [owner, first ?? repo] : [first ?? owner, second];
}
