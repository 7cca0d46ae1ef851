import { execFile } from "node:child_process";
import type { Stats } from "node:fs";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { decodeUtf8 } from "../editors/text.ts";
import { InputError } from "../errors.ts";
import { type FileCommit, type RepoReader, UnreadableFileError } from "./repo-reader.ts";

const run = promisify(execFile);

/**
 * The infra repo as a local checkout: files from the working tree, history from `git log`.
 * A directory that is not a git repository still works; its files have no history, and its file
 * list is the directory tree.
 */
export function localRepo(dir: string): RepoReader {
  return {
    async readFile(path) {
      const found = await lookUp(dir, path);
      if (found === "missing") return undefined;
      if (found !== "file") throw new UnreadableFileError(path, `${path} ${found.problem}`);
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
      // `./`: the path is the checkout folder's, which may be a subfolder of the git repository.
      return git(dir, ["show", `${sha}:./${path}`]);
    },
    async fileCommits(path, limit) {
      // First parents only: a change merged with a merge commit reached the branch when it was
      // merged, which is the merge commit's date, not the date of the commit on the PR branch.
      const out = await git(dir, [
        "log",
        "--first-parent",
        `-n${limit}`,
        "--format=%H %P%x09%cI",
        "--",
        path,
      ]);
      if (out === undefined) return [];
      return out
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map(parseLogLine);
    },
    async uncommitted(path) {
      // Outside a git work tree there is no branch to compare with: nothing is "uncommitted".
      if ((await git(dir, ["rev-parse", "--is-inside-work-tree"]))?.trim() !== "true") return false;
      // In HEAD's tree, not the index: a file only staged is not on the branch either. Without
      // a commit at all, git fails and nothing is on the branch.
      const inHead = await git(dir, ["ls-tree", "--name-only", "HEAD", "--", path]);
      return inHead === undefined || inHead.trim() === "";
    },
    async listFiles() {
      // Tracked and untracked files, without what .gitignore excludes: what a push would hold.
      const out = await git(dir, [
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        ".",
      ]);
      if (out === undefined) return walk(dir, "");
      const paths = out.split("\0").filter((path) => path !== "");
      return [...new Set(paths)].sort();
    },
  };
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
      return { problem: `${what}: set the pool's target to the file itself` };
    }
    if (end === parts.length && stats.isDirectory())
      return { problem: "is a directory, not a file" };
    if (end === parts.length && !stats.isFile()) return { problem: "is not a regular file" };
  }
  return "file";
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

function parseLogLine(line: string): FileCommit {
  const [hashes = "", at = ""] = line.split("\t");
  const [sha = "", parent] = hashes.trim().split(" ");
  const iso = new Date(at).toISOString();
  return parent ? { sha, parent, at: iso } : { sha, at: iso };
}

/** Runs git; a failure (not a repository, a path absent from a commit) is `undefined`. */
async function git(dir: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run("git", ["-C", dir, ...args], {
      maxBuffer: 64 * 1024 * 1024,
      encoding: "utf8",
    });
    return stdout;
  } catch {
    return undefined;
  }
}
