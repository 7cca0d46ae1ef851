import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { decodeUtf8 } from "../editors/text.ts";
import type { FileCommit, RepoReader } from "./repo-reader.ts";

const run = promisify(execFile);

/**
 * The infra repo as a local checkout: files from the working tree, history from `git log`.
 * A directory that is not a git repository still works; its files have no history, and its file
 * list is the directory tree.
 */
export function localRepo(dir: string): RepoReader {
  return {
    async readFile(path) {
      try {
        return decodeUtf8(await readFile(join(dir, path)), path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
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
