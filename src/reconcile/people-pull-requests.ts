import type { Forge, PeoplePullRequest, RepoState } from "../forge/forge.ts";
import type { PlanNote } from "../planning/proposal.ts";
import type { PoolConfig, RepoConfig } from "../policy/repo-config.ts";
import { countAt } from "../repo/pool-facts.ts";

/** The pools people's open pull requests hold, and what could not be told of them. */
export interface PeopleHolds {
  /** Pool → why the bot proposes nothing new for it ("#12 by alice changes worker_count 3 → 5; …"). */
  held: Map<string, string>;
  /** Pool → the count the holding pull request sets at its head. */
  counts: Map<string, number>;
  /** People's pull requests whose count could not be read at their head: they hold nothing. */
  notes: PlanNote[];
}

/**
 * Which pools a person's open pull request into the default branch changes the count of: the
 * target file at its head holds another value at the target PATH than on the default branch now
 * and than where its branch left the default branch (a branch that merely lags behind a count
 * changed since changes nothing). The oldest such pull request holds the pool, a draft too.
 * Reads go by commit sha, which the GitHub forge caches: a pull request costs a read of each
 * target file when its head moves, and only when that value differs from the default branch's,
 * a comparison and a read where its branch left; none while its head stays. A head that cannot
 * be read (a fork's GitHub no longer serves, a file the pull request removes or breaks) holds
 * nothing, and a note says so.
 */
export async function poolsHeldByPeople(
  forge: Pick<Forge, "readFile" | "mergeBase">,
  state: RepoState,
  config: RepoConfig,
): Promise<PeopleHolds> {
  const result: PeopleHolds = { held: new Map(), counts: new Map(), notes: [] };
  const people = state.peoplePullRequests ?? [];
  if (people.length === 0) return result;
  for (const pool of config.pools) {
    const now = await countAtSha(forge, pool, state.head.sha).catch(() => undefined);
    for (const pr of people) {
      let head: number | undefined;
      try {
        head = await countAtSha(forge, pool, pr.headSha);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        result.notes.push(unreadNote(pr, pool, ` (${why})`));
        continue;
      }
      if (head === undefined) {
        // With no count on the default branch either, the pool is held by that already.
        if (now !== undefined) result.notes.push(unreadNote(pr, pool, ""));
        continue;
      }
      if (head === now) continue;
      const base = await baseCount(forge, pool, pr, state.head.sha, now);
      if (head === base) continue;
      const change =
        base === undefined
          ? `sets ${pool.target.path} to ${head}`
          : `changes ${pool.target.path} ${base} → ${head}`;
      result.held.set(pool.name, heldBy(pr, change));
      result.counts.set(pool.name, head);
      break;
    }
  }
  return result;
}

/** The pool's count in its target file at commit `sha`; undefined when the file or count is not there. */
async function countAtSha(
  forge: Pick<Forge, "readFile">,
  pool: PoolConfig,
  sha: string,
): Promise<number | undefined> {
  const text = await forge.readFile(pool.target.file, sha);
  if (text === undefined) return undefined;
  const count = countAt(text, pool);
  return typeof count === "number" ? count : undefined;
}

/**
 * The count the pull request's changes start from: at the commit its branch left the default
 * branch (a comparison of its base and head), or at its base commit where that cannot be told;
 * the default branch's count when neither is known.
 */
async function baseCount(
  forge: Pick<Forge, "readFile" | "mergeBase">,
  pool: PoolConfig,
  pr: PeoplePullRequest,
  defaultHead: string,
  now: number | undefined,
): Promise<number | undefined> {
  const base = pr.baseSha ?? defaultHead;
  try {
    const from = forge.mergeBase ? await forge.mergeBase(base, pr.headSha) : base;
    return from === defaultHead ? now : await countAtSha(forge, pool, from);
  } catch {
    return pr.baseSha === undefined ? now : countAtSha(forge, pool, pr.baseSha).catch(() => now);
  }
}

/**
 * Why the pull request holds the pool. A draft holds it as well (it is someone's stated change
 * to the count), but one left forgotten would hold it for good, so the words say how to let go.
 */
function heldBy(pr: PeoplePullRequest, change: string): string {
  return pr.draft
    ? `draft ${who(pr)} ${change}; nothing new while it is open, closing it releases the pool`
    : `${who(pr)} ${change}; nothing new while it is open`;
}

/** "#12 by alice", or "#12" for a deleted account. */
function who(pr: PeoplePullRequest): string {
  return pr.login ? `#${pr.number} by ${pr.login}` : `#${pr.number}`;
}

/** Why a person's pull request whose count cannot be read holds nothing; `why` in parentheses. */
function unreadNote(pr: PeoplePullRequest, pool: PoolConfig, why: string): PlanNote {
  const { file, path } = pool.target;
  const head = pr.fork ? "the head of its fork" : "its head";
  const subject = `pool/${pool.name}`;
  return {
    level: "warning",
    subject,
    message: `Pull request ${who(pr)} holds nothing for pool ${pool.name}: ${path} of ${file} cannot be read at ${head} (${pr.headSha.slice(0, 7)})${why}, so whether it changes the count is not known.`,
  };
}
