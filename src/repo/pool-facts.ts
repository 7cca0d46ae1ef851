import { readValueLocated, targetEditOptions } from "../editors/edit-file.ts";
import { formatLocated, InputError, type SourceLocation } from "../errors.ts";
import type { LastChange, PoolRepoFacts } from "../planning/node-plan-input.ts";
import type { PoolConfig, RepoConfig } from "../policy/repo-config.ts";
import {
  type FileCommit,
  HistoryUnavailableError,
  type RepoReader,
  UnreadableFileError,
} from "./repo-reader.ts";

/** How many commits of a target file are searched for the last change of its value. */
const HISTORY_DEPTH = 20;

export interface PoolFacts {
  facts: PoolRepoFacts[];
  /** Text of every target file on the default branch, by path (absent files left out). */
  files: Map<string, string>;
}

/**
 * Reads what the repo says about each pool: the target's current value, and when (and in which
 * direction) the value last changed, from the history of its file. The time of a change is
 * when its commit reached the branch, so cooldowns survive restarts: they live in git.
 * A change dated after `asOf` (a clock ahead of this one, a plan as of a past moment) counts as
 * made at `asOf`, just now: the count read is the one it made, so its history must have it too.
 * A history that cannot be read leaves the time of the last change unknown, and says why.
 */
export async function readPoolFacts(
  repo: RepoReader,
  config: RepoConfig,
  asOf?: Date,
): Promise<PoolFacts> {
  const files = new Map<string, string>();
  const facts: PoolRepoFacts[] = [];
  const unreadable = new Map<string, string>();
  for (const pool of config.pools) {
    const { file } = pool.target;
    let text = files.get(file);
    try {
      if (text === undefined && !unreadable.has(file)) text = await repo.readFile(file);
    } catch (error) {
      // A file that can never be read holds its pools only: the others still plan.
      if (!(error instanceof UnreadableFileError)) throw error;
      unreadable.set(file, error.message);
    }
    const problem = unreadable.get(file);
    if (problem !== undefined) {
      facts.push({ pool: pool.name, currentValueProblem: problem });
      continue;
    }
    if (text !== undefined) files.set(file, text);
    facts.push(await poolFacts(repo, pool, text, asOf));
  }
  return { facts, files };
}

async function poolFacts(
  repo: RepoReader,
  pool: PoolConfig,
  text: string | undefined,
  asOf: Date | undefined,
): Promise<PoolRepoFacts> {
  const { file } = pool.target;
  if (text === undefined) {
    return { pool: pool.name, currentValueProblem: `${file} does not exist in the repo` };
  }
  const current = countAt(text, pool);
  const facts: PoolRepoFacts = { pool: pool.name };
  if (typeof current === "number") facts.currentValue = current;
  else facts.currentValueProblem = current.problem;
  try {
    return await withHistory(repo, pool, facts, asOf);
  } catch (error) {
    if (!(error instanceof HistoryUnavailableError)) throw error;
    // Unknown, not long ago: the planner holds what needs the time (a scale-down).
    delete facts.lastChange;
    facts.historyProblem = error.message;
    return facts;
  }
}

/** `facts` with the last change of the count, and the count checked against its last commit. */
async function withHistory(
  repo: RepoReader,
  pool: PoolConfig,
  facts: PoolRepoFacts,
  asOf: Date | undefined,
): Promise<PoolRepoFacts> {
  const { file, path } = pool.target;
  const current = facts.currentValue;
  const commits = await repo.fileCommits(file, HISTORY_DEPTH);
  const lastChange = await lastValueChange(repo, pool, commits, asOf);
  if (lastChange) facts.lastChange = lastChange;
  // A checkout whose file says another count than its last commit: the change is not in the
  // branch yet, so nothing has applied it and no time can be put on it.
  const committed = commits[0] ? await countAtCommit(repo, pool, commits[0].sha) : undefined;
  if (current !== undefined && committed !== undefined && committed !== current) {
    delete facts.currentValue;
    facts.currentValueProblem = `${file} ${path} is ${current} in the working tree but ${committed} in its last commit: commit the change, or plan from a clean checkout`;
  } else if (commits.length === 0 && (await repo.uncommitted?.(file))) {
    delete facts.currentValue;
    facts.currentValueProblem = `${file} is not committed (no commit of the branch has it): commit it, or plan from a clean checkout`;
  }
  return facts;
}

/**
 * The count at the pool's PATH: a whole number, or a numeric string (Pulumi config). A problem
 * says where (`file:line:column`) and what was found.
 */
export function countAt(text: string, pool: PoolConfig): number | { problem: string } {
  const { file, path } = pool.target;
  let read: { value: unknown; location: SourceLocation };
  try {
    read = readValueLocated(text, path, file, targetEditOptions(pool.target));
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return {
      problem: formatLocated(`reading ${path}: ${error.message}`, error.location ?? { file }),
    };
  }
  const { value, location } = read;
  const number = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number === "number" && Number.isInteger(number) && number >= 0) return number;
  return {
    problem: formatLocated(
      `${path} is ${describeValue(value)}; expected a whole number of nodes`,
      location,
    ),
  };
}

/** A value read from a file, as its author would recognise it. */
function describeValue(value: unknown): string {
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "number")
    return Number.isFinite(value) ? `the number ${value}` : "a number out of range";
  if (value === null) return "null";
  if (typeof value === "boolean") return `the boolean ${value}`;
  if (Array.isArray(value)) return "a list";
  const expression = (value as { expression?: unknown }).expression;
  if (typeof expression === "string") return `the expression ${expression}`;
  return "an object";
}

/**
 * The newest commit that changed the pool's count, with the change's direction. When the
 * history searched is full and none of it changed the count, the change is older than its
 * oldest commit: that commit's time is used (the latest the change can have been, so cooldowns
 * and deadlines err on the late side), without a direction.
 */
async function lastValueChange(
  repo: RepoReader,
  pool: PoolConfig,
  commits: readonly FileCommit[],
  asOf: Date | undefined,
): Promise<LastChange | undefined> {
  for (const commit of commits) {
    const after = await countAtCommit(repo, pool, commit.sha);
    const before = commit.parent ? await countAtCommit(repo, pool, commit.parent) : undefined;
    if (after === before) continue;
    return { ...changeTime(commit, asOf), ...direction(before, after) };
  }
  const oldest = commits.at(-1);
  return commits.length >= HISTORY_DEPTH && oldest ? changeTime(oldest, asOf) : undefined;
}

/**
 * When a commit's change counts as made: its date, or `asOf` for a commit dated after it (its
 * own date kept as `committedAt`). The count it made is the one read, so it is not left out.
 */
function changeTime(commit: FileCommit, asOf: Date | undefined): LastChange {
  if (asOf === undefined || Date.parse(commit.at) <= asOf.getTime()) return { at: commit.at };
  return { at: asOf.toISOString(), committedAt: commit.at };
}

function direction(before?: number, after?: number): Pick<LastChange, "direction"> {
  if (before === undefined || after === undefined) return {};
  return { direction: after > before ? "up" : "down" };
}

async function countAtCommit(
  repo: RepoReader,
  pool: PoolConfig,
  sha: string,
): Promise<number | undefined> {
  const text = await repo.readFileAt(pool.target.file, sha);
  if (text === undefined) return undefined;
  const count = countAt(text, pool);
  return typeof count === "number" ? count : undefined;
}
