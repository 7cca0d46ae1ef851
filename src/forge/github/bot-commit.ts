import { branchForKey } from "../branch-name.ts";
import { botCommitMessage } from "../commit-message.ts";
import type { DesiredPullRequest, FileChange, RepoState } from "../forge.ts";
import { normalizeRepoPath } from "../repo-path.ts";
import { readFileAt } from "./files.ts";
import type { ForgeContext } from "./forge-context.ts";
import { GitHubGitCommit, GitHubTree } from "./github-types.ts";

/**
 * Builds the bot's commit for `desired` on the default branch head through the Git data API: one
 * tree with the new contents inline, one commit. Undefined when the head already has these
 * contents (nothing to propose). The commit is not on any branch yet.
 */
export async function buildBotCommit(
  context: ForgeContext,
  desired: DesiredPullRequest,
  state: RepoState,
): Promise<{ sha: string } | undefined> {
  const branch = branchForKey(desired.key);
  const base = new Map<string, string | undefined>();
  const changes = await desired.build(async (path) => {
    const file = normalizeRepoPath(path);
    if (!base.has(file)) base.set(file, await readFileAt(context, file, state.head.sha));
    return base.get(file);
  });
  const effective = distinctChanges(changes).filter(
    (change) => !base.has(change.path) || base.get(change.path) !== change.content,
  );
  if (effective.length === 0) return undefined;
  const tree = await context.client.call(
    `create the tree for ${branch}`,
    "POST /repos/{owner}/{repo}/git/trees",
    {
      base_tree: state.head.treeSha,
      tree: effective.map((change) => ({
        path: change.path,
        mode: "100644",
        type: "blob",
        content: change.content,
      })),
    },
    GitHubTree,
  );
  // A file the builder wrote without reading may equal the base: the tree tells.
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
  return { sha: commit.sha };
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
