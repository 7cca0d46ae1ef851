import { createHash } from "node:crypto";
import type { FileChange } from "../forge.ts";
import type { ForgeContext } from "./forge-context.ts";
import { GitHubComparison as ComparisonSchema, type GitHubComparison } from "./github-types.ts";

/** GitHub lists at most this many files of a comparison: a head that changes more is no bot's. */
const MAX_LISTED_FILES = 300;

/**
 * What the head commit of a bot branch changes on the default branch: the commit of the default
 * branch it sits on, when it is a single commit on top of one (`parent`), and the files it changes
 * there, each with the sha of its new content (null: removed); `own` when this forge made it. Or
 * why it is no such commit.
 */
export type HeadChange =
  | { parent: string; files: ReadonlyMap<string, string | null>; own: boolean }
  | { problem: string };

/**
 * What `head` changes on the default branch, read once per commit (one comparison with the
 * default branch's head, `base`): a commit never changes, and one the forge made is known
 * without asking.
 */
export async function readHeadChange(
  context: ForgeContext,
  head: string,
  base: { sha: string; branch: string },
): Promise<HeadChange> {
  const known = context.memory.heads.get(head);
  if (known) return known;
  const comparison = await context.client.call(
    `compare commit ${head.slice(0, 7)} with ${base.branch}`,
    "GET /repos/{owner}/{repo}/compare/{basehead}",
    { basehead: `${base.sha}...${head}` },
    ComparisonSchema,
  );
  const change = headChangeOf(comparison, head, base.branch);
  context.memory.heads.set(head, change);
  return change;
}

/**
 * The last commit `head` and `base` share, read once per pair (a comparison): what a pull
 * request's changes are counted from.
 */
export async function readMergeBase(
  context: ForgeContext,
  base: string,
  head: string,
): Promise<string> {
  const basehead = `${base}...${head}`;
  const known = context.memory.mergeBases.get(basehead);
  if (known) return known;
  const comparison = await context.client.call(
    `compare commit ${head.slice(0, 7)} with ${base.slice(0, 7)}`,
    "GET /repos/{owner}/{repo}/compare/{basehead}",
    { basehead },
    ComparisonSchema,
  );
  const sha = comparison.merge_base_commit.sha;
  context.memory.mergeBases.set(basehead, sha);
  return sha;
}

function headChangeOf(comparison: GitHubComparison, head: string, branch: string): HeadChange {
  const [commit] = comparison.commits;
  const parents = commit?.parents ?? [];
  const parent = parents.length === 1 ? parents[0]?.sha : undefined;
  if (
    comparison.ahead_by !== 1 ||
    commit?.sha !== head ||
    parent === undefined ||
    parent !== comparison.merge_base_commit.sha
  )
    return { problem: `it is not a single commit on top of ${branch}` };
  const listed = comparison.files ?? [];
  if (listed.length >= MAX_LISTED_FILES)
    return { problem: `it changes ${MAX_LISTED_FILES} files or more` };
  const files = new Map<string, string | null>();
  for (const file of listed) {
    if (file.previous_filename !== undefined) files.set(file.previous_filename, null);
    files.set(file.filename, file.status === "removed" ? null : file.sha);
  }
  return { parent, files, own: false };
}

/** Remembers what a commit the forge just made changes: its head is known without a request. */
export function rememberOwnCommit(
  context: ForgeContext,
  sha: string,
  parent: string,
  changes: readonly FileChange[],
): void {
  const files = new Map(changes.map((change) => [change.path, gitBlobSha(change.content)]));
  context.memory.heads.set(sha, { parent, files, own: true });
}

/** Git's name for a file's content, as GitHub lists it: the sha-1 of `blob <size>\0<bytes>`. */
export function gitBlobSha(content: string): string {
  const bytes = Buffer.from(content, "utf8");
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}
