import type { Forge } from "../forge/forge.ts";
import { NotATextFileError } from "../forge/forge-error.ts";
import { landingTimes } from "../repo/landing-times.ts";
import { type FileCommit, type RepoReader, UnreadableFileError } from "../repo/repo-reader.ts";

export interface ForgeRepoReaderOptions {
  forge: Pick<Forge, "readFile" | "fileHistory"> & Partial<Pick<Forge, "branchCommits">>;
  /** The default branch head the reconcile read: every read is at this commit. */
  headSha: string;
  /**
   * The file list at the head (a git tree on GitHub), whole in each of `folders` when GitHub
   * truncates it (`RepoReader.listFiles`); absent: an empty list.
   */
  listFiles?: (folders?: readonly string[]) => Promise<string[]>;
  /**
   * When the commits of merged pull requests reached the default branch, by commit sha. A pull
   * request merged with a merge commit leaves its branch commit in the file's history with the
   * date it was written; the change landed at the merge.
   */
  landedAt?: ReadonlyMap<string, string>;
}

/**
 * The infra repo's default branch as the planner reads it, through the forge. Reads at the
 * head's sha are cached by the GitHub forge, so a reconcile whose head did not move reads
 * nothing again. A commit of the file's history is dated when it reached the branch, as
 * `git log --first-parent` dates it: a commit a merge brought in (a pull request's commits
 * merged with a merge commit, a branch merged and pushed) counts from the merge.
 */
export function forgeRepoReader(options: ForgeRepoReaderOptions): RepoReader {
  const { forge, headSha } = options;
  let landing: Promise<ReadonlyMap<string, string>> | undefined;
  const landed = () => {
    landing ??= forge.branchCommits
      ? forge.branchCommits().then((commits) => landingTimes(commits, headSha))
      : Promise.resolve(new Map());
    return landing;
  };
  return {
    readFile: (path) => unreadableAsFileError(forge.readFile(path, headSha)),
    readFileAt: (path, sha) => forge.readFile(path, sha),
    async fileCommits(path, limit) {
      // One entry more than asked: its sha is the previous version of the file for the last one.
      const history = await forge.fileHistory(path, { limit: limit + 1 });
      if (history.length === 0) return [];
      const branch = await landed();
      return history.slice(0, limit).map((entry, index): FileCommit => {
        const previous = history[index + 1];
        const at = latest(entry.date, branch.get(entry.sha), options.landedAt?.get(entry.sha));
        // The file at the commit that touched it before holds what the change's parent held:
        // reading it costs nothing more than the history already did.
        if (previous) return { sha: entry.sha, parent: previous.sha, at };
        // The first commit of the file: the repository's first, or one that brought the file in.
        return entry.root ? { sha: entry.sha, at, root: true } : { sha: entry.sha, at };
      });
    },
    listFiles: async (folders) => (options.listFiles ? options.listFiles(folders) : []),
  };
}

/** A file the forge says is no text file of its own is unreadable for the planner, not a failure. */
export async function unreadableAsFileError(
  read: Promise<string | undefined>,
): Promise<string | undefined> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof NotATextFileError)
      throw new UnreadableFileError(error.path, error.problem);
    throw error;
  }
}

/** The latest of a commit's own date and the times it is known to have reached the branch. */
function latest(date: string, ...others: (string | undefined)[]): string {
  let result = date;
  for (const other of others)
    if (other !== undefined && Date.parse(other) > Date.parse(result)) result = other;
  return result;
}
