import { InputError } from "../errors.ts";

/** One commit that touched a file on the default branch, newest first. */
export interface FileCommit {
  sha: string;
  /** Its first parent, absent for a root commit. */
  parent?: string;
  /**
   * The repository's first commit (it has no parent at all, and is not where a shallow clone's
   * history stops): the file as the repository started, which changed no count.
   */
  root?: true;
  /** When it was committed (ISO 8601): the moment the change reached the branch. */
  at: string;
}

/**
 * Read access to the infra repo's default branch: the local checkout in CLI mode, the GitHub
 * API in app mode. Paths are relative to the repo root, with forward slashes.
 */
export interface RepoReader {
  /** The file's text on the default branch head; `undefined` when it does not exist. */
  readFile(path: string): Promise<string | undefined>;
  /**
   * The file's text at a commit; `undefined` when it did not exist there. Throws
   * `HistoryUnavailableError` when the commit cannot be read.
   */
  readFileAt(path: string, sha: string): Promise<string | undefined>;
  /**
   * The latest commits that touched the file, newest first, at most `limit`. Throws
   * `HistoryUnavailableError` when the history cannot be read: an empty list means the branch
   * has no commit of the file, never "unknown".
   */
  fileCommits(path: string, limit: number): Promise<FileCommit[]>;
  /**
   * Every file path on the default branch head, relative to the root (for discovery). A reader
   * that cannot list them all at once (GitHub truncates the tree of a repository of over
   * 100,000 entries or 7 MB) lists at least every file directly in each of `folders` ("" for
   * the root).
   */
  listFiles(folders?: readonly string[]): Promise<string[]>;
  /**
   * A checkout's file that no commit of the branch holds (untracked, or only staged): it exists
   * in the working tree only. Readers of a branch itself (the GitHub API) have no such files
   * and leave it out.
   */
  uncommitted?(path: string): Promise<boolean>;
  /**
   * Every file path a checkout's branch holds (its HEAD commit's tree), whether or not the
   * working tree or the index still has it: a file deleted with `git rm` but not committed is
   * among them, and not among `listFiles`. Empty without a commit. Readers of a branch itself
   * leave it out.
   */
  branchFiles?(): Promise<string[]>;
  /**
   * The URLs of a checkout's remotes, which say what repository it is; empty when it has none or
   * git cannot tell. Readers of a forge's repository, which know it by name, leave it out.
   */
  remoteUrls?(): Promise<string[]>;
}

/**
 * What a file read through a symbolic link is told to do, after what the link is: a pool's
 * target is named as the file itself. The repo's configuration, whose name is fixed, says
 * otherwise (`unreadableConfigIssue`).
 */
export const LINKED_FILE_ADVICE = "set the pool's target to the file itself";

/**
 * A file of the repo that exists but is not a text file the editors can read: a directory, a
 * symbolic link, a file that is not UTF-8. Reading it again does not help; the pool that targets
 * it is held with this message, and the other pools go on.
 */
export class UnreadableFileError extends InputError {
  readonly file: string;

  /** `message` names the file itself: it is also a pool's note, where no location is shown. */
  constructor(file: string, message: string) {
    super(message);
    this.name = "UnreadableFileError";
    this.file = file;
  }
}

/**
 * The history of the repo cannot be read (a folder that is not a git repository, git not
 * installed, a repository git refuses to read): the time of the last change is unknown, which
 * is not "long ago". `message` says why and, where it is clear, what to do.
 */
export class HistoryUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HistoryUnavailableError";
  }
}

/**
 * Git failed where nothing else can be done, or answered with output that cannot be read as
 * what was asked for: an error that names the command, never a guess. Exit code 1: the run
 * failed, the input is not at fault.
 */
export class GitError extends InputError {
  constructor(message: string) {
    super(message, undefined, 1);
    this.name = "GitError";
  }
}

/**
 * For a file missing from a checkout that its branch holds (deleted in the working tree, not
 * committed), what that is and how to mend it: `F is deleted in the working tree, but the
 * branch holds it: restore it (git checkout HEAD -- F)`, which `plan` and `validate` both give, for a
 * pool's target and for the repo's configuration. What the branch holds is then right, and only
 * the checkout needs mending. Undefined when the branch does not hold the file either, and for a
 * reader of the branch itself; a history git cannot read tells nothing here, and the file is
 * then said to be missing.
 */
export async function workingTreeDeletion(
  repo: RepoReader,
  file: string,
): Promise<string | undefined> {
  if (!repo.uncommitted) return undefined;
  try {
    // A plain folder, or a repository without a commit, has no commit of the file: nothing to
    // restore. Nor has a branch whose last commit deleted it, which HEAD then lacks.
    if ((await repo.fileCommits(file, 1)).length === 0) return undefined;
    if (await repo.uncommitted(file)) return undefined;
  } catch (error) {
    if (error instanceof HistoryUnavailableError) return undefined;
    throw error;
  }
  return `${file} is deleted in the working tree, but the branch holds it: restore it (git checkout HEAD -- ${file})`;
}
