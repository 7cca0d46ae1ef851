import { readValue } from "../editors/edit-file.ts";
import { InputError } from "../errors.ts";
import type { LastChange, PoolRepoFacts } from "../planning/node-plan-input.ts";
import type { PoolConfig, RepoConfig } from "../policy/repo-config.ts";
import type { FileCommit, RepoReader } from "./repo-reader.ts";

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
 * Commits dated after `asOf` are not changes yet for a plan made as of that time.
 */
export async function readPoolFacts(
  repo: RepoReader,
  config: RepoConfig,
  asOf?: Date,
): Promise<PoolFacts> {
  const files = new Map<string, string>();
  const facts: PoolRepoFacts[] = [];
  for (const pool of config.pools) {
    const text = files.get(pool.target.file) ?? (await repo.readFile(pool.target.file));
    if (text !== undefined) files.set(pool.target.file, text);
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
  const { file, path } = pool.target;
  if (text === undefined) {
    return { pool: pool.name, currentValueProblem: `${file} does not exist in the repo` };
  }
  const current = countAt(text, pool);
  const lastChange = await lastValueChange(repo, pool, asOf);
  const facts: PoolRepoFacts = { pool: pool.name };
  if (typeof current === "number") facts.currentValue = current;
  else facts.currentValueProblem = `${file} ${path}: ${current.problem}`;
  if (lastChange) facts.lastChange = lastChange;
  return facts;
}

/** The count at the pool's PATH: a whole number, or a numeric string (Pulumi config). */
export function countAt(text: string, pool: PoolConfig): number | { problem: string } {
  let value: unknown;
  try {
    value = readValue(text, pool.target.path, pool.target.file);
  } catch (error) {
    if (error instanceof InputError) return { problem: error.message };
    throw error;
  }
  const number = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number === "number" && Number.isInteger(number) && number >= 0) return number;
  return { problem: `expected a whole number of nodes, found ${JSON.stringify(value)}` };
}

/** The newest commit that changed the pool's count, with the change's direction. */
async function lastValueChange(
  repo: RepoReader,
  pool: PoolConfig,
  asOf: Date | undefined,
): Promise<LastChange | undefined> {
  const commits = await repo.fileCommits(pool.target.file, HISTORY_DEPTH);
  for (const commit of commits) {
    if (asOf && Date.parse(commit.at) > asOf.getTime()) continue;
    const after = await countAtCommit(repo, pool, commit.sha);
    const before = commit.parent ? await countAtCommit(repo, pool, commit.parent) : undefined;
    if (after === before) continue;
    return changeOf(commit, before, after);
  }
  return undefined;
}

function changeOf(commit: FileCommit, before?: number, after?: number): LastChange {
  if (before === undefined || after === undefined) return { at: commit.at };
  return { at: commit.at, direction: after > before ? "up" : "down" };
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
