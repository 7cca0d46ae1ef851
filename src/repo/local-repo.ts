import type { Stats } from "node:fs";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { decodeUtf8 } from "../editors/text.ts";
import { InputError } from "../errors.ts";
import { memoized } from "../util/memoized.ts";
import { type GitFailure, type GitOptions, gitCommand, historyProblemText, runGit } from "./git.ts";
import {
  type FileCommit,
  GitError,
  HistoryUnavailableError,
  LINKED_FILE_ADVICE,
  type RepoReader,
  UnreadableFileError,
} from "./repo-reader.ts";

/** The infra repo as a local checkout, and what it is as far as git goes. */
export interface LocalRepo extends RepoReader {
  /**
   * Why the checkout's git history cannot be read (then the time of every change is unknown);
   * `undefined` when it can.
   */
  historyProblem(): Promise<string | undefined>;
  /**
   * Whether the folder is a git repository at all. A plain folder keeps no history: no change
   * of it has a time, and none is waited for (see {@link localRepo}).
   */
  isRepository(): Promise<boolean>;
  /**
   * Why the folder is no checkout to plan from: a bare repository or a folder inside `.git`,
   * which have no working tree; `undefined` otherwise (a plain folder included).
   */
  notACheckout(): Promise<string | undefined>;
  /**
   * Whether the checkout is a shallow clone: its history stops at commits whose parents it does
   * not have, so a change older than them is dated at them.
   */
  isShallow(): Promise<boolean>;
}

/** What the folder is, as git sees it. */
type Checkout =
  | { kind: "work-tree"; head: boolean; shallow: boolean }
  | { kind: "bare" }
  | { kind: "git-dir" }
  | { kind: "unavailable"; failure: GitFailure };

/**
 * The infra repo as a local checkout: files from the working tree, history from `git log`.
 * A plain folder (not a git repository) keeps no history: its files have no commits, as in a
 * repository without one. When a repository's history cannot be read (git not installed, a
 * repository git refuses to read, git failing), the files are still read, from the directory
 * tree, and every read of the history throws `HistoryUnavailableError`: the time of the last
 * change is unknown.
 */
export function localRepo(dir: string, options: GitOptions = {}): LocalRepo {
  const git = (args: string[]) => runGit(dir, args, options);
  let checkout: Promise<Checkout> | undefined;
  const probe = () => {
    checkout ??= probeCheckout(dir, options);
    return checkout;
  };
  /** The checkout when its history can be read; throws why not otherwise. */
  const workTree = async () => {
    const found = await probe();
    if (found.kind === "work-tree") return found;
    throw new HistoryUnavailableError(checkoutProblem(found, dir));
  };
  /** Whether the path's attributes name a filter driver (what checkout would apply). */
  const filtered = memoized((path: string) => hasFilter(dir, path, options));
  return {
    async readFile(path) {
      const found = await lookUp(dir, path);
      if (found === "missing") return undefined;
      if (found !== "file") throw new UnreadableFileError(path, `${path} ${found.problem}`);
      const nested =
        (await probe()).kind === "work-tree" ? await nestedRepository(dir, path) : undefined;
      if (nested !== undefined)
        throw new UnreadableFileError(
          path,
          `${path} is inside ${nested}, a git repository of its own (a submodule): its commits are not this repository's, and a pull request here cannot change it; keep the count in a file of this repository`,
        );
      const bytes = await readFile(join(dir, path));
      try {
        return decodeUtf8(bytes, path);
      } catch (error) {
        if (error instanceof InputError)
          throw new UnreadableFileError(path, `${path} is ${error.message}`);
        throw error;
      }
    },
    async readFileAt(path, sha) {
      await workTree();
      // `./`: the path is the checkout folder's, which may be a subfolder of the git repository.
      // cat-file, not show: a blob as it is, without the textconv filters show may apply.
      const object = `${sha}:./${path}`;
      const result = await git(["cat-file", "blob", object]);
      if (!result.ok && absentAtCommit(result.failure)) return undefined;
      // A file stored through a filter (git-crypt, a Git LFS pointer) is read as a checkout
      // writes it, as the working tree holds it: its stored form has no count to compare.
      const read =
        result.ok && (await filtered(path)) ? await git(["cat-file", "--filters", object]) : result;
      if (read.ok) return read.stdout;
      throw new HistoryUnavailableError(historyProblemText(read.failure, dir));
    },
    async fileCommits(path, limit) {
      // A plain folder, or a repository without a commit yet: no history of any file, known.
      if (isPlainFolder(await probe())) return [];
      const tree = await workTree();
      if (!tree.head) return [];
      // First parents only: a change merged with a merge commit reached the branch when it was
      // merged, which is the merge commit's date, not the date of the commit on the PR branch.
      const args = ["log", "--first-parent", `-n${limit}`, "--format=%H %P%x09%cI", "--", path];
      const result = await git(args);
      if (!result.ok) throw new HistoryUnavailableError(historyProblemText(result.failure, dir));
      const commits = result.stdout
        .split("\n")
        .filter((line) => line !== "")
        // A shallow clone's oldest commits show no parent either: which one is the first of the
        // repository is not known there.
        .map((line) => parseLogLine(line, gitCommand(dir, args), !tree.shallow));
      return notBeforeEarlier(commits);
    },
    async uncommitted(path) {
      // Outside a git repository there is no branch to compare with: nothing is "uncommitted".
      // A repository git cannot read is another matter: what its branch holds is unknown.
      if (isPlainFolder(await probe())) return false;
      // In HEAD's tree, not the index: a file only staged is not on the branch either. Without
      // a commit at all, nothing is on the branch.
      if (!(await workTree()).head) return true;
      const result = await git(["ls-tree", "--name-only", "HEAD", "--", path]);
      if (!result.ok) throw new HistoryUnavailableError(historyProblemText(result.failure, dir));
      return result.stdout.trim() === "";
    },
    async branchFiles() {
      if (isPlainFolder(await probe())) return [];
      if (!(await workTree()).head) return [];
      // Relative to the folder, as listFiles gives them: ls-tree names paths from the cwd.
      const result = await git(["ls-tree", "-r", "-z", "--name-only", "HEAD", "--", "."]);
      if (!result.ok) throw new HistoryUnavailableError(historyProblemText(result.failure, dir));
      return result.stdout.split("\0").filter((path) => path !== "");
    },
    async remoteUrls() {
      if ((await probe()).kind !== "work-tree") return [];
      // Exits 1 when no remote is set: then none, as when git cannot tell.
      const result = await git(["config", "--get-regexp", "^remote\\..*\\.url$"]);
      if (!result.ok) return [];
      return result.stdout
        .split("\n")
        .map((line) => line.split(" ").slice(1).join(" ").trim())
        .filter((url) => url !== "");
    },
    async listFiles() {
      // Without a work tree git can list, the directory tree is what there is.
      if ((await probe()).kind !== "work-tree") return walk(dir, "");
      // Tracked and untracked files, without what .gitignore excludes: what a push would hold.
      const args = ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "."];
      const result = await git(args);
      if (!result.ok) throw new GitError(historyProblemText(result.failure, dir));
      const paths = result.stdout.split("\0").filter((path) => path !== "");
      return [...new Set(paths)].sort();
    },
    async historyProblem() {
      const found = await probe();
      return found.kind === "work-tree" || isPlainFolder(found)
        ? undefined
        : checkoutProblem(found, dir);
    },
    async isRepository() {
      return !isPlainFolder(await probe());
    },
    async isShallow() {
      const found = await probe();
      return found.kind === "work-tree" && found.shallow;
    },
    async notACheckout() {
      const found = await probe();
      if (found.kind === "bare")
        return `${dir} is a bare git repository: it has no working tree to read the files from; clone it (git clone ${dir} DIR) and use the clone`;
      if (found.kind === "git-dir")
        return `${dir} is inside a repository's .git folder: give the folder of the checkout`;
      return undefined;
    },
  };
}

/**
 * Asks git once what the folder is: a work tree (whether it has a commit yet, and is a shallow
 * clone), a bare
 * repository, a `.git` folder, or a folder git cannot read (with why).
 */
async function probeCheckout(dir: string, options: GitOptions): Promise<Checkout> {
  const args = [
    "rev-parse",
    "--is-bare-repository",
    "--is-inside-git-dir",
    "--is-inside-work-tree",
    "--is-shallow-repository",
  ];
  const result = await runGit(dir, args, options);
  if (!result.ok) return { kind: "unavailable", failure: result.failure };
  const answers = result.stdout.trim().split("\n");
  if (answers.length !== 4 || answers.some((answer) => answer !== "true" && answer !== "false"))
    throw new GitError(
      `${gitCommand(dir, args)} printed ${JSON.stringify(result.stdout)}, not four lines of true or false`,
    );
  const [bare, inGitDir, inWorkTree, shallow = false] = answers.map((answer) => answer === "true");
  if (bare) return { kind: "bare" };
  if (inGitDir) return { kind: "git-dir" };
  if (!inWorkTree)
    return {
      kind: "unavailable",
      failure: {
        kind: "failed",
        command: gitCommand(dir, args),
        stderr: "not inside a work tree",
      },
    };
  // Exit 1 without a word: HEAD names no commit yet (a repository just made).
  const head = await runGit(dir, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], options);
  if (head.ok) return { kind: "work-tree", head: true, shallow };
  if (head.failure.exitCode === 1 && head.failure.stderr === "")
    return { kind: "work-tree", head: false, shallow };
  return { kind: "unavailable", failure: head.failure };
}

/** A folder that is no git repository at all, as git says (git ran and answered). */
function isPlainFolder(checkout: Checkout): boolean {
  return checkout.kind === "unavailable" && checkout.failure.kind === "not-a-repository";
}

function checkoutProblem(checkout: Exclude<Checkout, { kind: "work-tree" }>, dir: string): string {
  switch (checkout.kind) {
    case "bare":
      return `${dir} is a bare git repository, not a checkout`;
    case "git-dir":
      return `${dir} is inside a repository's .git folder, not a checkout`;
    case "unavailable":
      return historyProblemText(checkout.failure, dir);
  }
}

/** Whether `.gitattributes` give the path a `filter` driver; `unset` and `unspecified` are none. */
async function hasFilter(dir: string, path: string, options: GitOptions): Promise<boolean> {
  const args = ["check-attr", "-z", "filter", "--", `./${path}`];
  const result = await runGit(dir, args, options);
  if (!result.ok) throw new HistoryUnavailableError(historyProblemText(result.failure, dir));
  const [, attribute, value] = result.stdout.split("\0");
  if (attribute !== "filter" || value === undefined)
    throw new GitError(
      `${gitCommand(dir, args)} printed ${JSON.stringify(result.stdout)}, not the path, filter and its value`,
    );
  return value !== "unspecified" && value !== "unset";
}

/** git's answer when the path was no file at the commit: absent there, or a folder. */
function absentAtCommit(failure: GitFailure): boolean {
  return (
    failure.kind === "failed" &&
    /does not exist in '|exists on disk, but not in '|: bad file$/m.test(failure.stderr)
  );
}

/**
 * What `path` is below `root`, without following links: a link (at the file or at a folder on
 * the way) would read a file other than the one a pull request edits, perhaps outside the repo,
 * and its history is the link's, not the file's.
 */
async function lookUp(
  root: string,
  path: string,
): Promise<"file" | "missing" | { problem: string }> {
  const parts = path.split("/");
  for (let end = 1; end <= parts.length; end++) {
    const shown = parts.slice(0, end).join("/");
    let stats: Stats;
    try {
      stats = await lstat(join(root, shown));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return "missing";
      throw error;
    }
    if (stats.isSymbolicLink()) {
      const target = await readlink(join(root, shown));
      const what =
        end === parts.length
          ? `is a symbolic link to ${target}`
          : `is behind a symbolic link (${shown} → ${target})`;
      return { problem: `${what}: ${LINKED_FILE_ADVICE}` };
    }
    if (end === parts.length && stats.isDirectory())
      return { problem: "is a directory, not a file" };
    if (end === parts.length && !stats.isFile()) return { problem: "is not a regular file" };
  }
  return "file";
}

/**
 * The folder on the way to `path` that is a git repository of its own (it has a `.git`: a
 * submodule, or a repository cloned inside the checkout), if any.
 */
async function nestedRepository(root: string, path: string): Promise<string | undefined> {
  const folders = path.split("/").slice(0, -1);
  for (let end = 1; end <= folders.length; end++) {
    const folder = folders.slice(0, end).join("/");
    try {
      await lstat(join(root, folder, ".git"));
      return folder;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
    }
  }
  return undefined;
}

/** Every file under `root`, for a directory that is not a git checkout (.git never descended). */
async function walk(root: string, prefix: string): Promise<string[]> {
  const entries = await readdir(join(root, prefix), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== ".git") files.push(...(await walk(root, path)));
    } else if (entry.isFile()) files.push(path);
  }
  return files;
}

/**
 * First-parent commits, newest first, each dated no earlier than the commits before it: a
 * commit of the branch's line reached the branch after its parent did, so one dated earlier
 * (made on a machine whose clock was behind, or rebased keeping its dates) is dated at the
 * latest commit before it, the earliest it can have landed.
 */
function notBeforeEarlier(commits: FileCommit[]): FileCommit[] {
  let latest = Number.NEGATIVE_INFINITY;
  return commits
    .toReversed()
    .map((commit) => {
      latest = Math.max(latest, Date.parse(commit.at));
      return { ...commit, at: new Date(latest).toISOString() };
    })
    .reverse();
}

/** One line of `--format=%H %P%x09%cI`: the commit, its parents, and its committer date. */
const LOG_LINE = /^([0-9a-f]{40,64}) ([0-9a-f]{40,64}(?: [0-9a-f]{40,64})*)?\t(\S+)$/;

/** A commit without a parent is the repository's first when `rootKnown` (no shallow clone). */
function parseLogLine(line: string, command: string, rootKnown: boolean): FileCommit {
  const match = LOG_LINE.exec(line);
  const at = match ? Date.parse(match[3] ?? "") : Number.NaN;
  if (!match || Number.isNaN(at))
    throw new GitError(
      `${command} printed a line that is not a commit (sha, parents, tab, date): ${JSON.stringify(line)}`,
    );
  const sha = match[1] ?? "";
  const parent = match[2]?.split(" ")[0];
  const iso = new Date(at).toISOString();
  if (parent) return { sha, parent, at: iso };
  return rootKnown ? { sha, at: iso, root: true } : { sha, at: iso };
}
