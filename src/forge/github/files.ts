import { notUtf8Message } from "../../editors/text.ts";
import { LINKED_FILE_ADVICE } from "../../repo/repo-reader.ts";
import { pullRequestNumberOf } from "../commit-message.ts";
import type { BranchCommit, FileHistoryEntry, FileHistoryOptions } from "../forge.ts";
import { ForgeError, NotATextFileError } from "../forge-error.ts";
import { normalizeRepoPath } from "../repo-path.ts";
import { type ForgeContext, isCommitSha } from "./forge-context.ts";
import { failedWith } from "./github-client.ts";
import { GitHubBlob, GitHubCommitSummaries, GitHubContent } from "./github-types.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A file's text at `ref` (a sha, a branch; default the head seen by the last readState, else the
 * default branch). Undefined when the file does not exist. Reads at a commit sha are cached: the
 * planner and the pull request builder reading the same file cost one request.
 */
export async function readFileAt(
  context: ForgeContext,
  path: string,
  ref?: string,
): Promise<string | undefined> {
  const file = normalizeRepoPath(path);
  const at = ref ?? context.memory.headSha;
  const cacheKey = at !== undefined && isCommitSha(at) ? `${at}:${file}` : undefined;
  const cached = cacheKey ? context.memory.files.get(cacheKey) : undefined;
  if (cached) return cached.text;
  const text = await fetchFile(context, file, at);
  if (cacheKey) context.memory.files.set(cacheKey, { text });
  return text;
}

async function fetchFile(
  context: ForgeContext,
  path: string,
  ref: string | undefined,
): Promise<string | undefined> {
  const step = `read ${path}${ref ? ` at ${ref}` : ""}`;
  let content: GitHubContent;
  try {
    content = await context.client.call(
      step,
      "GET /repos/{owner}/{repo}/contents/{path}",
      { path, ...(ref ? { ref } : {}) },
      GitHubContent,
    );
  } catch (error) {
    if (failedWith(error, 404)) return undefined;
    throw error;
  }
  if (Array.isArray(content))
    throw new NotATextFileError(step, path, `${path} is a directory, not a file`);
  // A symbolic link to a file of the repo is answered with that file, under its own path: the
  // link's history is not the file's, and a commit to the link's path would replace the link.
  const linkTarget = content.type === "symlink" ? content.target : content.path;
  if (linkTarget !== undefined && linkTarget !== path)
    throw new NotATextFileError(
      step,
      path,
      `${path} is a symbolic link to ${linkTarget}: ${LINKED_FILE_ADVICE}`,
    );
  if (content.type !== "file")
    throw new NotATextFileError(step, path, `${path} is a ${content.type}, not a file`);
  // Over 1 MB the contents API leaves the text out ("none"); the blob API still has it.
  if (content.encoding === "base64" && content.content !== undefined) {
    return decode(step, path, content.content);
  }
  const blob = await context.client.call(
    step,
    "GET /repos/{owner}/{repo}/git/blobs/{file_sha}",
    { file_sha: content.sha },
    GitHubBlob,
  );
  if (blob.encoding !== "base64") {
    throw new ForgeError(step, `unexpected blob encoding ${JSON.stringify(blob.encoding)}`);
  }
  return decode(step, path, blob.content);
}

function decode(step: string, path: string, base64: string): string {
  const bytes = Buffer.from(base64, "base64");
  try {
    return utf8.decode(bytes);
  } catch {
    throw new NotATextFileError(step, path, `${path} is ${notUtf8Message(bytes)}`);
  }
}

const DEFAULT_HISTORY = 10;
const MAX_HISTORY = 100;

/**
 * The latest commits on the default branch that changed `path`, newest first (for cooldowns).
 * Cached by the head sha: when the branch did not move, asking again costs nothing.
 */
export async function readFileHistory(
  context: ForgeContext,
  defaultBranch: string,
  path: string,
  options: FileHistoryOptions = {},
): Promise<FileHistoryEntry[]> {
  const file = normalizeRepoPath(path);
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? DEFAULT_HISTORY), 1), MAX_HISTORY);
  const at = context.memory.headSha ?? defaultBranch;
  const cacheKey = isCommitSha(at) ? `${at}:${file}:${limit}` : undefined;
  const entries =
    (cacheKey ? context.memory.histories.get(cacheKey) : undefined) ??
    (await fetchHistory(context, file, at, limit));
  if (cacheKey) context.memory.histories.set(cacheKey, entries);
  if (options.since === undefined) return entries;
  const since = Date.parse(options.since);
  if (Number.isNaN(since)) throw new Error(`invalid time ${JSON.stringify(options.since)}`);
  return entries.filter((entry) => Date.parse(entry.date) >= since);
}

async function fetchHistory(
  context: ForgeContext,
  path: string,
  at: string,
  limit: number,
): Promise<FileHistoryEntry[]> {
  const step = `read the history of ${path}`;
  const commits = await context.client.call(
    step,
    "GET /repos/{owner}/{repo}/commits",
    { sha: at, path, per_page: limit },
    GitHubCommitSummaries,
  );
  return commits.map(({ sha, commit, parents }) => {
    const date = commitDate(step, sha, commit);
    const prNumber = pullRequestNumberOf(commit.message);
    // Only a list of parents given, and empty, says the commit has none.
    const root = parents !== undefined && parents.length === 0;
    return {
      sha,
      date,
      message: commit.message,
      ...(prNumber ? { prNumber } : {}),
      ...(root ? { root: true as const } : {}),
    };
  });
}

/**
 * The latest commits reachable from the default branch head, newest first, with their parents
 * (one page of GitHub's list, which has every commit: merges and the commits they brought in).
 * Cached by the head sha.
 */
export async function readBranchCommits(
  context: ForgeContext,
  defaultBranch: string,
  limit = MAX_HISTORY,
): Promise<BranchCommit[]> {
  const count = Math.min(Math.max(Math.trunc(limit), 1), MAX_HISTORY);
  const at = context.memory.headSha ?? defaultBranch;
  const cacheKey = isCommitSha(at) ? `${at}:${count}` : undefined;
  const cached = cacheKey ? context.memory.branchCommits.get(cacheKey) : undefined;
  if (cached) return cached;
  const step = `read the latest commits of ${defaultBranch}`;
  const commits = await context.client.call(
    step,
    "GET /repos/{owner}/{repo}/commits",
    { sha: at, per_page: count },
    GitHubCommitSummaries,
  );
  const entries = commits.map(({ sha, commit, parents }) => ({
    sha,
    date: commitDate(step, sha, commit),
    parents: (parents ?? []).map((parent) => parent.sha),
  }));
  if (cacheKey) context.memory.branchCommits.set(cacheKey, entries);
  return entries;
}

/** When a commit was committed (the committer's date, else the author's). */
function commitDate(
  step: string,
  sha: string,
  commit: { committer: { date?: string } | null; author: { date?: string } | null },
): string {
  const date = commit.committer?.date ?? commit.author?.date;
  if (!date) throw new ForgeError(step, `commit ${sha} has no date`);
  return date;
}
