import { branchForKey } from "../branch-name.ts";
import { botCommitMessage } from "../commit-message.ts";
import type { DesiredPullRequest, FileChange, RepoState } from "../forge.ts";
import { normalizeRepoPath } from "../repo-path.ts";
import { readFileAt } from "./files.ts";
import type { ForgeContext } from "./forge-context.ts";
import { GitHubGitCommit, GitHubTree } from "./github-types.ts";
import { rememberOwnCommit } from "./head-change.ts";

/**
 * Builds the bot's commit for `desired` on the default branch head through the Git data API: one
 * tree with the new contents inline, one commit. Undefined when the head already has these
 * contents (nothing to propose). The commit is not on any branch yet; the forge remembers what it
 * changes, so the pull request's head needs no check while it is this commit.
 */
export async function buildBotCommit(
  context: ForgeContext,
  desired: DesiredPullRequest,
  state: RepoState,
): Promise<{ sha: string } | undefined> {
  const branch = branchForKey(desired.key);
  const { changed } = await planOn(context, desired, state.head.sha);
  if (changed.length === 0) return undefined;
  const tree = await context.client.call(
    `create the tree for ${branch}`,
    "POST /repos/{owner}/{repo}/git/trees",
    {
      base_tree: state.head.treeSha,
      tree: changed.map((change) => ({
        path: change.path,
        mode: "100644",
        type: "blob",
        content: change.content,
      })),
    },
    GitHubTree,
  );
  // GitHub's tree is the head's when the contents differ in nothing it stores: nothing to propose.
  if (tree.sha === state.head.treeSha) return undefined;
  const commit = await context.client.call(
    `create the commit for ${branch}`,
    "POST /repos/{owner}/{repo}/git/commits",
    {
      message: botCommitMessage(desired.title, desired.key, desired.fingerprint),
      tree: tree.sha,
      parents: [state.head.sha],
    },
    GitHubGitCommit,
  );
  rememberOwnCommit(context, commit.sha, state.head.sha, changed);
  return { sha: commit.sha };
}

/**
 * What `desired` writes on the commit `base`: every file its builder writes (`written`, each path
 * once and normalised), and those whose content differs from the file at `base` (`changed`).
 * Files are read at the commit, so the planner's reads of the same files cost nothing again.
 */
export async function planOn(
  context: ForgeContext,
  desired: DesiredPullRequest,
  base: string,
): Promise<{ written: FileChange[]; changed: FileChange[] }> {
  const read = (path: string) => readFileAt(context, normalizeRepoPath(path), base);
  const written = distinctChanges(await desired.build(read));
  const changed: FileChange[] = [];
  for (const change of written) {
    if ((await read(change.path)) !== change.content) changed.push(change);
  }
  return { written, changed };
}

/** Normalised paths, each once: two different contents for one path is a builder bug. */
function distinctChanges(changes: FileChange[]): FileChange[] {
  const byPath = new Map<string, FileChange>();
  for (const change of changes) {
    const path = normalizeRepoPath(change.path);
    const earlier = byPath.get(path);
    if (earlier && earlier.content !== change.content) {
      throw new Error(`the change builder wrote ${path} twice with different contents`);
    }
    byPath.set(path, { path, content: change.content });
  }
  return [...byPath.values()];
}
