import { detectFormat, readValueLocated, targetEditOptions } from "../editors/edit-file.ts";
import { formatPath, parsePath } from "../editors/path.ts";
import { formatLocated, InputError, type SourceLocation } from "../errors.ts";
import type { LastChange, PoolRepoFacts } from "../planning/node-plan-input.ts";
import { readConfigYaml } from "../policy/config-yaml.ts";
import type { PoolConfig, RepoConfig } from "../policy/repo-config.ts";
import { locateInYaml } from "../policy/yaml-locations.ts";
import { memoized } from "../util/memoized.ts";
import {
  type FileCommit,
  HistoryUnavailableError,
  type RepoReader,
  UnreadableFileError,
  workingTreeDeletion,
} from "./repo-reader.ts";
import { laterVariableFiles, readByTerraform, variableFileFolders } from "./tfvars-precedence.ts";

/** How many commits of a target file are searched for the last change of its value. */
const HISTORY_DEPTH = 20;

export interface PoolFacts {
  facts: PoolRepoFacts[];
  /** Text of every target file on the default branch, by path (absent files left out). */
  files: Map<string, string>;
  /**
   * Why the repository's files could not be listed, when a pool needed them: a variable file
   * Terraform reads after its target, which would override the count, was not looked for.
   */
  listingProblem?: string;
}

/**
 * What is said when `files` (the repository's, a pull request head's) could not be listed for
 * the look for a variable file overriding a pool's count: that the look was left out, not that
 * it found nothing.
 */
export function unlistedFilesMessage(files: string, problem: string): string {
  return `${files} could not be listed (${problem}): a variable file Terraform reads after a pool's target, which would override its count, was not looked for`;
}

/**
 * Reads what the repo says about each pool: the target's current value, and when (and in which
 * direction) the value last changed, from the history of its file. The time of a change is
 * when its commit reached the branch, so cooldowns survive restarts: they live in git.
 * A change dated after `asOf` (a clock ahead of this one, a plan as of a past moment) counts as
 * made at `asOf`, just now: the count read is the one it made, so its history must have it too.
 * A history that cannot be read leaves the time of the last change unknown, and says why.
 * With `source` (the configuration's text and file name), a count that cannot be read for the
 * pool's target (its file missing or unreadable, its PATH not set, a later variable file
 * overriding it) names the configuration's line of `target.file` or `target.path`, as `validate`
 * does.
 */
export async function readPoolFacts(
  repo: RepoReader,
  config: RepoConfig,
  asOf?: Date,
  source?: { text: string; file: string },
): Promise<PoolFacts> {
  const at = targetLines(source);
  const files = new Map<string, string>();
  const facts: PoolRepoFacts[] = [];
  const unreadable = new Map<string, string>();
  let listed: Promise<string[]> | undefined;
  let listingProblem: string | undefined;
  // Listed once, and only for a pool whose count Terraform reads from a file of its own choice;
  // a list that cannot be whole at once is whole in the targets' folders, where such files are.
  const folders = variableFileFolders(config.pools.map((pool) => pool.target.file));
  const listing = () => {
    listed ??= repo.listFiles(folders).catch((error: unknown) => {
      listingProblem = error instanceof Error ? error.message : String(error);
      return [];
    });
    return listed;
  };
  for (const [index, pool] of config.pools.entries()) {
    const { file } = pool.target;
    const where = (key: "file" | "path") => at(index, key);
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
      facts.push({ pool: pool.name, currentValueProblem: `${problem}${where("file")}` });
      continue;
    }
    if (text !== undefined) files.set(file, text);
    const fact = await poolFacts(repo, pool, text, asOf, where);
    const overridden =
      fact.currentValue === undefined
        ? undefined
        : await laterOverride(pool, (other) => repo.readFile(other), listing, repo);
    if (overridden !== undefined) {
      delete fact.currentValue;
      // A file only the checkout lacks is the checkout's to mend, not the configuration's line.
      fact.currentValueProblem = overridden.deleted
        ? overridden.problem
        : `${overridden.problem}${where("file")}`;
    }
    facts.push(fact);
  }
  return { facts, files, ...(listingProblem === undefined ? {} : { listingProblem }) };
}

/**
 * ` (target.file at .github/pr-autoscaler.yml:4)`: where the configuration `source` sets a key of
 * the target of the pool at `index`; empty without a source, or when it cannot be located.
 */
function targetLines(
  source: { text: string; file: string } | undefined,
): (index: number, key: "file" | "path") => string {
  const parsed = source === undefined ? undefined : readConfigYaml(source.text, source.file);
  if (!source || !parsed?.ok) return () => "";
  const { doc, lineCounter } = parsed.yaml;
  return (index, key) => {
    const { line } = locateInYaml(doc, lineCounter, ["pools", index, "target", key]);
    return line > 0 ? ` (target.${key} at ${source.file}:${line})` : "";
  };
}

/**
 * Why the count `read` finds for the pool is not the one Terraform applies: a variable file
 * Terraform reads after the target (`laterVariableFiles` of `listing`, the repository's files)
 * sets the same variable, and wins. With `checkout`, also one the working tree deleted while its
 * branch holds it (`deleted`: the checkout's to mend, `workingTreeOverride`). Undefined when
 * neither overrides it, and for a target Terraform does not read variables from.
 */
export async function laterOverride(
  pool: PoolConfig,
  read: (file: string) => Promise<string | undefined>,
  listing: () => Promise<string[]>,
  checkout?: RepoReader,
): Promise<{ problem: string; deleted?: true } | undefined> {
  const { file } = pool.target;
  if (!readByTerraform(file)) return undefined;
  const files = await listing();
  const later = laterVariableFiles(file, files);
  const overridden = later.length === 0 ? undefined : await overriddenCount(read, pool, later);
  if (overridden !== undefined) return { problem: overridden };
  const deleted = checkout && (await workingTreeOverride(checkout, pool, files));
  return deleted === undefined ? undefined : { problem: deleted, deleted: true };
}

/**
 * Why the count is not the one Terraform applies: one of `later`, the variable files Terraform
 * reads after the target (`laterVariableFiles`), sets the same variable, and wins. Undefined
 * when none does.
 */
async function overriddenCount(
  read: (file: string) => Promise<string | undefined>,
  pool: PoolConfig,
  later: readonly string[],
): Promise<string | undefined> {
  const { file, path } = pool.target;
  const found = await overridingFile(read, pool, later);
  if (found === undefined) return undefined;
  const { other, name, location } = found;
  return formatLocated(
    `${name} is set here too, and Terraform reads this file after ${file}: its value is the one applied, not ${path} of ${file}; point the pool's target.file at ${other}, or set ${name} in one file only`,
    location,
  );
}

/**
 * Why `plan` holds a pool whose count no file of the working tree overrides: a variable file
 * Terraform reads after the target, which the checkout deleted (`files`, its files, lack it, or
 * hold it deleted in the working tree only) while its branch holds it, sets the variable there.
 * Terraform applies what the branch holds, so a pull request to it would change nothing
 * Terraform applies until the deletion is committed. Undefined when no such file sets it, and
 * for a reader of the branch itself; a history git cannot read tells nothing here.
 */
async function workingTreeOverride(
  repo: RepoReader,
  pool: PoolConfig,
  files: readonly string[],
): Promise<string | undefined> {
  if (!repo.uncommitted) return undefined;
  const { file, path } = pool.target;
  let found: Awaited<ReturnType<typeof overridingFile>>;
  try {
    // A deletion staged with `git rm` leaves the file out of the checkout's list: the branch's
    // list has it.
    const branch = repo.branchFiles ? await repo.branchFiles() : [];
    const later = laterVariableFiles(file, [...new Set([...files, ...branch])]);
    const deleted: string[] = [];
    for (const other of later) if (await deletedHere(repo, other)) deleted.push(other);
    if (deleted.length === 0) return undefined;
    // The branch's copy, which Terraform applies from.
    found = await overridingFile((other) => repo.readFileAt(other, "HEAD"), pool, deleted);
  } catch (error) {
    if (error instanceof HistoryUnavailableError) return undefined;
    throw error;
  }
  if (found === undefined) return undefined;
  const { other, name } = found;
  return `${other} is deleted in the working tree, but the branch holds it and sets ${name} there, and Terraform reads it after ${file}: the branch's ${name} is the one applied, not ${path} of ${file}; commit the deletion, or plan from a clean checkout`;
}

/** Whether the checkout lacks `file` while its branch holds it (`workingTreeDeletion`). */
async function deletedHere(repo: RepoReader, file: string): Promise<boolean> {
  try {
    if ((await repo.readFile(file)) !== undefined) return false;
  } catch (error) {
    // There, but no text file: not deleted.
    if (error instanceof UnreadableFileError) return false;
    throw error;
  }
  return (await workingTreeDeletion(repo, file)) !== undefined;
}

/** The last of `later` that sets the variable of the pool's PATH, and where. */
async function overridingFile(
  read: (file: string) => Promise<string | undefined>,
  pool: PoolConfig,
  later: readonly string[],
): Promise<{ other: string; name: string; location: SourceLocation } | undefined> {
  const [variable] = parsePath(pool.target.path);
  if (variable?.kind !== "key") return undefined;
  const name = formatPath([variable]);
  // The last file that sets it is the one whose value Terraform keeps.
  for (const other of [...later].reverse()) {
    const text = await readIfText(read, other);
    const location = text === undefined ? undefined : variableAt(text, name, other);
    if (location !== undefined) return { other, name, location };
  }
  return undefined;
}

async function readIfText(
  read: (file: string) => Promise<string | undefined>,
  file: string,
): Promise<string | undefined> {
  try {
    return await read(file);
  } catch (error) {
    if (error instanceof UnreadableFileError) return undefined;
    throw error;
  }
}

/** Where `text` sets the variable `name`; undefined when it does not, or cannot be read. */
function variableAt(text: string, name: string, file: string): SourceLocation | undefined {
  try {
    return readValueLocated(text, name, file, { format: detectFormat(file) }).location;
  } catch (error) {
    // A file Terraform cannot read either fails its own plan: that is not this pool's to say.
    if (error instanceof InputError) return undefined;
    throw error;
  }
}

async function poolFacts(
  repo: RepoReader,
  pool: PoolConfig,
  text: string | undefined,
  asOf: Date | undefined,
  where: (key: "file" | "path") => string,
): Promise<PoolRepoFacts> {
  const { file } = pool.target;
  if (text === undefined) {
    const deleted = await workingTreeDeletion(repo, file);
    return {
      pool: pool.name,
      currentValueProblem: deleted
        ? `${deleted}, or plan from a clean checkout`
        : `${file} does not exist in the repo${where("file")}`,
    };
  }
  const current = countAt(text, pool);
  const facts: PoolRepoFacts = { pool: pool.name };
  if (typeof current === "number") facts.currentValue = current;
  else facts.currentValueProblem = `${current.problem}${where("path")}`;
  try {
    return await withHistory(repo, pool, facts, asOf);
  } catch (error) {
    if (!(error instanceof HistoryUnavailableError)) throw error;
    // Unknown, not long ago: the planner holds what needs the time (a scale-down).
    delete facts.lastChange;
    delete facts.lastScaleUp;
    delete facts.countSince;
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
  const { file } = pool.target;
  const current = facts.currentValue;
  const commits = await repo.fileCommits(file, HISTORY_DEPTH);
  Object.assign(facts, await lastValueChange(repo, pool, commits, asOf));
  const problem = await uncommittedProblem(repo, pool, current, commits[0]);
  if (problem !== undefined) {
    delete facts.currentValue;
    facts.currentValueProblem = problem;
  }
  return facts;
}

/**
 * Why `plan` holds a pool whose count `current` reads in a checkout's working tree: the branch
 * holds another count, or none (`uncommittedProblem`). Undefined when it holds the same, for a
 * reader of the branch itself, and when the history cannot be read (`plan` says that on its own).
 * `validate`, which checks the working tree as a commit of it would hold it, gives it as a note.
 */
export async function workingTreeCountProblem(
  repo: RepoReader,
  pool: PoolConfig,
  current: number,
): Promise<string | undefined> {
  if (!repo.uncommitted) return undefined;
  try {
    const [last] = await repo.fileCommits(pool.target.file, 1);
    return await uncommittedProblem(repo, pool, current, last);
  } catch (error) {
    if (error instanceof HistoryUnavailableError) return undefined;
    throw error;
  }
}

/**
 * Why the count a checkout's working tree holds is not the branch's: its file's last commit
 * holds another count, or none, or no commit of the branch holds the file. The change is not in
 * the branch yet, so nothing has applied it and no time can be put on it.
 */
async function uncommittedProblem(
  repo: RepoReader,
  pool: PoolConfig,
  current: number | undefined,
  last: FileCommit | undefined,
): Promise<string | undefined> {
  const { file, path } = pool.target;
  const committed = last ? await countAtCommit(repo, pool, last.sha) : undefined;
  if (current !== undefined && committed !== undefined && committed !== current)
    return `${file} ${path} is ${current} in the working tree but ${committed} in its last commit: commit the change, or plan from a clean checkout`;
  // A reader of the branch itself (the GitHub API) has no working tree to differ from it.
  if (!repo.uncommitted || (last && (current === undefined || committed !== undefined)))
    return undefined;
  if (await repo.uncommitted(file))
    return `${file} is not committed (no commit of the branch has it): commit it, or plan from a clean checkout`;
  if (!last) return undefined;
  return `${file} ${path} is ${current} in the working tree, but its last commit has no whole number there: commit the change, or plan from a clean checkout`;
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
  // A count beyond 2^53 is no count a number can hold exactly (30000000000000000000000 reads as
  // 3e+22, 9007199254740993 as …992): it is refused as out of range, not read as what it rounds to.
  if (typeof number === "number" && Number.isSafeInteger(number) && number >= 0) return number;
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
    return Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value))
      ? `the number ${value}`
      : "a number out of range";
  if (value === null) return "null";
  if (typeof value === "boolean") return `the boolean ${value}`;
  if (Array.isArray(value)) return "a list";
  const expression = (value as { expression?: unknown }).expression;
  if (typeof expression === "string") return `the expression ${expression}`;
  return "an object";
}

/**
 * The newest commit that changed the pool's count, with the change's direction and, when it
 * lowered the count, the newest raise before it (`lastScaleUp`): a decrease made soon after a
 * raise does not end the delay after that raise. A change of unknown direction counts as a
 * raise. When the history searched is full and no such change is in it, the change is older
 * than its oldest commit: that commit's time is used (the latest the change can have been, so
 * cooldowns and deadlines err on the late side), without a direction. The repository's first
 * commit changed no count: the count it holds was there from the start, and none older is
 * looked for; when no later commit changed it, the count has been asked for since that commit
 * (`countSince`).
 */
async function lastValueChange(
  repo: RepoReader,
  pool: PoolConfig,
  commits: readonly FileCommit[],
  asOf: Date | undefined,
): Promise<Pick<PoolRepoFacts, "lastChange" | "lastScaleUp" | "countSince">> {
  let last: LastChange | undefined;
  for await (const change of countChanges(repo, pool, commits)) {
    const dated: LastChange = { ...changeTime(change.commit, asOf), ...change.direction };
    if (last === undefined && dated.direction === "down") last = dated;
    else if (last === undefined) return { lastChange: dated };
    else if (dated.direction !== "down") return { lastChange: last, lastScaleUp: { at: dated.at } };
  }
  const oldest = commits.at(-1);
  if (oldest?.root && last === undefined) return { countSince: changeTime(oldest, asOf).at };
  const beyond =
    commits.length >= HISTORY_DEPTH && oldest && !oldest.root
      ? changeTime(oldest, asOf)
      : undefined;
  if (last === undefined) return beyond ? { lastChange: beyond } : {};
  return beyond ? { lastChange: last, lastScaleUp: { at: beyond.at } } : { lastChange: last };
}

/**
 * The commits of `commits` that changed the pool's count, newest first, with the direction. The
 * repository's first commit is not one: it made the repository, not a change to a count. A later
 * commit that brings the file in (added, moved or renamed: the path's history is not followed)
 * is one, of unknown direction.
 */
async function* countChanges(
  repo: RepoReader,
  pool: PoolConfig,
  commits: readonly FileCommit[],
): AsyncGenerator<{ commit: FileCommit; direction: Pick<LastChange, "direction"> }> {
  // A commit's parent is often the next commit of the list: each count is read once.
  const countOf = memoized((sha: string) => countAtCommit(repo, pool, sha));
  for (const commit of commits) {
    if (commit.root) return;
    const after = await countOf(commit.sha);
    const before = commit.parent ? await countOf(commit.parent) : undefined;
    if (after !== before) yield { commit, direction: direction(before, after) };
  }
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
