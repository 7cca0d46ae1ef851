import { createCommandGitHub } from "../control/command-github.ts";
import { autoMergeAfterPush } from "../forge/github/auto-merge.ts";
import { createGitHubClient, type GitHubClient } from "../forge/github/github-client.ts";
import { createGitHubForge } from "../forge/github/github-forge.ts";
import { GitHubGitCommit } from "../forge/github/github-types.ts";
import { githubPolicyReader } from "../merge/load-branch-policy.ts";
import type { MergeOctokit } from "../merge/merge-octokit.ts";
import { mergeWhenReady } from "../merge/merge-when-ready.ts";
import {
  githubFolderFiles,
  githubRepoFiles,
  githubRepoPaths,
  githubTree,
} from "../reconcile/github-repo-files.ts";
import type { ReconcileSettings, ReconcileTarget } from "../reconcile/reconcile-types.ts";
import { createRepoMemory } from "../reconcile/repo-memory.ts";

export interface GitHubTargetOptions {
  /** An installation's Octokit (Probot's, with its retry and throttling plugins). */
  octokit: MergeOctokit;
  owner: string;
  repo: string;
  /** Known from the webhook or the installation's repository list; else read once. */
  defaultBranch?: string;
  /** The app's bot account, `<slug>[bot]`: auto-merge it turned on is its own to turn off. */
  botLogin: string;
  observe: ReconcileTarget["observe"];
  settings: ReconcileSettings;
  now?: () => Date;
}

/**
 * Everything the reconcile needs for one repository on GitHub: the forge, the commands, merging,
 * the file tree for right-sizing and a reader for policies other repositories hold. Keep one per
 * repository for the life of the process: it holds the ETag and file caches.
 */
export function createGitHubTarget(options: GitHubTargetOptions): ReconcileTarget {
  const { octokit, owner, repo } = options;
  const client = createGitHubClient(octokit, { owner, repo });
  const tree = githubTree(client);
  // Trees read one level at a time are kept by sha: the default branch and a pull request's
  // head share the folders they have in common.
  const folderFiles = githubFolderFiles(client);
  const otherRepos = githubPolicyReader(octokit, {
    owner,
    repo,
    ref: options.defaultBranch ?? "HEAD",
  });
  return {
    owner,
    repo,
    forge: createGitHubForge({
      octokit,
      owner,
      repo,
      ...(options.defaultBranch ? { defaultBranch: options.defaultBranch } : {}),
      botLogin: options.botLogin,
    }),
    observe: options.observe,
    repoFiles: githubRepoFiles(client, tree),
    repoPaths: githubRepoPaths(tree, folderFiles),
    github: {
      commands: createCommandGitHub(client, { botLogin: options.botLogin, graphql: octokit }),
      merge: (request) =>
        mergeWhenReady({
          octokit,
          owner,
          repo,
          pullNumber: request.pullNumber,
          botSha: request.botSha,
          branchPolicy: { branch: request.defaultBranch, policy: request.policy },
          subject: request.subject,
          recentlyClosed: request.recentlyClosed,
          botLogin: options.botLogin,
          now: request.now,
        }),
      readOtherRepo: (other, path) => otherRepos(other, path),
      afterPush: (push) => autoMergeAfterPush(octokit, options.botLogin, push),
      repoPathsAt: commitPaths(client, folderFiles),
    },
    memory: createRepoMemory(),
    settings: options.settings,
    ...(options.now ? { now: options.now } : {}),
  };
}

/**
 * The paths of the repository's files at a commit: its tree, read through the commit (a tree of
 * its own, so that a pull request's head does not take the default branch's from the cache),
 * with each of `folders` whole when GitHub truncates the tree (`githubRepoPaths`).
 */
function commitPaths(
  client: GitHubClient,
  folderFiles: (treeSha: string, folder: string) => Promise<string[]>,
): (sha: string, folders?: readonly string[]) => Promise<string[]> {
  const paths = githubRepoPaths(githubTree(client), folderFiles);
  return async (sha, folders) => {
    const commit = await client.call(
      "read the pull request's head commit",
      "GET /repos/{owner}/{repo}/git/commits/{commit_sha}",
      { commit_sha: sha },
      GitHubGitCommit,
    );
    return paths({ treeSha: commit.tree.sha }, folders);
  };
}
