import type { Logger } from "pino";
import type { Proposal } from "../planning/proposal.ts";
import { type Deferral, type LimitInput, limitNewPullRequests } from "./limits.ts";
import { type Claims, claimNodes, compare, type HeldPool, heldPools } from "./pool-claims.ts";

export type { HeldPool } from "./pool-claims.ts";

export interface RepositoryLedgerOptions {
  log?: Logger;
  /** Asks for a reconcile of a repository not read yet by this process (nothing runs it yet). */
  request?: (repository: string) => void;
  /** How long a reconcile waits for the other repositories' first read (default 30 s). */
  waitMs?: number;
}

/** A bot pull request as the app-wide limits count it. */
export interface LedgerPullRequest {
  key: string;
  /** ISO time it was opened. */
  createdAt: string;
}

/** What one reconcile read of its repository, and the nodes its pools select. */
export interface RepositoryFacts {
  /** The bot's pull requests open now. */
  open: readonly LedgerPullRequest[];
  /** When the bot's recent pull requests were opened (ISO), open or closed since. */
  opened: readonly string[];
  /**
   * The nodes each configured pool selects now. Absent: not known in this run (the cluster or
   * the configuration could not be read), so the earlier claim stands; empty: no pool any more.
   */
  pools?: ReadonlyMap<string, readonly string[]>;
  now: Date;
}

/**
 * What every repository the app manages last showed, shared by their reconciles: the bot's open
 * pull requests and those opened in the last hour (the app-wide limits count them all), the
 * proposals waiting for room (oldest first), and the nodes each pool selects (one cluster: two
 * repositories must not scale the same nodes). A restart loses it; the first reconcile of
 * every repository gives it back, and until each has answered none opens a pull request.
 */
export interface RepositoryLedger {
  /** The repositories managed now; what the others showed is forgotten. */
  manage(repositories: readonly string[]): void;
  /** A reconcile of `repository` starts. */
  begin(repository: string): void;
  /** What the reconcile read; `facts.pools` also claims the nodes. */
  publish(repository: string, facts: RepositoryFacts): void;
  /**
   * Waits until every other managed repository answered once since the app started, at most
   * the wait; resolves to those that still have not (their pull requests are unknown).
   */
  settled(repository: string): Promise<string[]>;
  /** The pools of `repository` that another repository's pools claimed first. */
  holds(repository: string): HeldPool[];
  /**
   * Which new pull requests of `repository` may open under the app-wide limits, oldest waiting
   * proposal first across repositories; room for the allowed ones is taken at once, so two
   * reconciles running side by side do not both take the last of it.
   */
  admit(
    repository: string,
    candidates: readonly Proposal[],
    input: Omit<LimitInput, "others" | "ahead">,
    unknown: readonly string[],
  ): { allowed: Proposal[]; deferred: Deferral[] };
  /** The reconcile ended, whatever happened (a run that threw counts as answered too). */
  end(repository: string): void;
  /** Lets every waiting reconcile go on (the process stops). */
  close(): void;
}

interface Entry {
  name: string;
  answered: boolean;
  running: boolean;
  requested: boolean;
  open: LedgerPullRequest[];
  opened: number[];
  /** Epoch ms of pull requests admitted in the running reconcile, not yet published. */
  reserved: number[];
  /** Proposals waiting for app-wide room: key → epoch ms since it waits. */
  waiting: Map<string, number>;
  admitted: boolean;
  claims?: Claims;
  /** The holds last logged, to log a change once. */
  held: string;
}

const HOUR = 60 * 60 * 1000;
const WAIT_MS = 30_000;

/** A ledger for the repositories one app process manages. */
export function createRepositoryLedger(options: RepositoryLedgerOptions = {}): RepositoryLedger {
  const entries = new Map<string, Entry>();
  let managed: string[] | undefined;
  let startedAt: number | undefined;
  let firstRound = true;
  let closed = false;
  const waiters = new Set<() => void>();

  const key = (name: string) => name.toLowerCase();

  function entry(name: string): Entry {
    let found = entries.get(key(name));
    if (!found) {
      found = {
        name,
        answered: false,
        running: false,
        requested: false,
        open: [],
        opened: [],
        reserved: [],
        waiting: new Map(),
        admitted: false,
        held: "",
      };
      entries.set(key(name), found);
    }
    return found;
  }

  /** Managed repositories other than `name` not heard from since the app started. */
  function unanswered(name: string): string[] {
    const all = managed ?? [...entries.values()].map((e) => e.name);
    return all.filter((other) => key(other) !== key(name) && !entries.get(key(other))?.answered);
  }

  function changed(): void {
    const all = managed ?? [...entries.values()].map((e) => e.name);
    if (firstRound && all.length > 0 && all.every((name) => entries.get(key(name))?.answered))
      firstRound = false;
    for (const wake of [...waiters]) wake();
  }

  function claim(current: Entry, facts: RepositoryFacts): void {
    if (!facts.pools) return;
    const now = facts.now.getTime();
    startedAt ??= now;
    // Claims made while the app first hears from every repository count as made together, so
    // the rule does not rest on which reconcile happened to finish first: then names decide.
    const fresh = firstRound ? startedAt : now;
    current.claims = claimNodes(current.claims, facts.pools, facts.open, fresh);
  }

  function others(name: string, now: number) {
    return [...entries.values()]
      .filter((other) => key(other.name) !== key(name) && isManaged(other.name))
      .map((other) => ({
        repository: other.name,
        open: other.open.length + other.reserved.length,
        opened: other.opened.filter((at) => at > now - HOUR).length + other.reserved.length,
      }));
  }

  function isManaged(name: string): boolean {
    return managed === undefined || managed.some((other) => key(other) === key(name));
  }

  /** Repositories with a proposal that waits longer than `since` (ties: by name, then key). */
  function ahead(name: string, proposalKey: string, since: number): string[] {
    const found: string[] = [];
    for (const other of entries.values()) {
      if (key(other.name) === key(name) || !isManaged(other.name)) continue;
      for (const [otherKey, otherSince] of other.waiting) {
        const order =
          otherSince - since ||
          compare(key(other.name), key(name)) ||
          compare(otherKey, proposalKey);
        if (order < 0) found.push(other.name);
      }
    }
    return found;
  }

  function logHolds(current: Entry, holds: HeldPool[]): void {
    const text = JSON.stringify(holds);
    if (text === current.held) return;
    const before = current.held;
    current.held = text;
    if (holds.length > 0)
      options.log?.warn(
        { repository: current.name, held: holds },
        "pool held: another repository manages its nodes; remove the pool from one of the configurations",
      );
    else if (before !== "")
      options.log?.info({ repository: current.name }, "pool no longer held by another repository");
  }

  return {
    manage(repositories) {
      managed = [...repositories];
      for (const [name, found] of entries) if (!isManaged(found.name)) entries.delete(name);
      changed();
    },
    begin(repository) {
      const current = entry(repository);
      current.running = true;
      current.admitted = false;
    },
    publish(repository, facts) {
      const current = entry(repository);
      current.open = [...facts.open];
      current.opened = facts.opened.map((at) => Date.parse(at));
      current.reserved = [];
      claim(current, facts);
      current.answered = true;
      changed();
    },
    async settled(repository) {
      if (unanswered(repository).length === 0) return [];
      for (const name of unanswered(repository)) {
        const other = entry(name);
        if (other.running || other.requested) continue;
        other.requested = true;
        options.request?.(other.name);
      }
      return new Promise<string[]>((resolve) => {
        const done = () => {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(unanswered(repository));
        };
        const check = () => {
          if (closed || unanswered(repository).length === 0) done();
        };
        const giveUp = () => {
          // Claims made from now on are later ones, and the silent are asked again next time.
          firstRound = false;
          for (const name of unanswered(repository)) entry(name).requested = false;
          done();
        };
        const timer = setTimeout(giveUp, options.waitMs ?? WAIT_MS);
        timer.unref();
        waiters.add(check);
      });
    },
    holds(repository) {
      const current = entry(repository);
      const others = [...entries.values()].filter((e) => e !== current && isManaged(e.name));
      const holds = heldPools(current, others);
      logHolds(current, holds);
      return holds;
    },
    admit(repository, candidates, input, unknown) {
      const current = entry(repository);
      const now = input.now.getTime();
      const since = (proposal: Proposal) => current.waiting.get(proposal.key) ?? now;
      const result =
        unknown.length > 0
          ? {
              allowed: [],
              deferred: candidates.map((proposal) => ({
                proposal,
                limit: "unknown" as const,
                reason: `the pull requests of ${[...unknown].sort().join(", ")} are not known yet (not read since the app started), and the limits count every repository`,
              })),
            }
          : limitNewPullRequests(candidates, {
              ...input,
              others: others(repository, now),
              ahead: (proposal) => ahead(repository, proposal.key, since(proposal)),
            });
      const waiting = new Map<string, number>();
      for (const { proposal, limit } of result.deferred)
        if (limit !== "resources") waiting.set(proposal.key, since(proposal));
      current.waiting = waiting;
      current.reserved = result.allowed.map(() => now);
      current.admitted = true;
      return result;
    },
    end(repository) {
      const current = entry(repository);
      current.running = false;
      current.answered = true;
      // Opened or not, a pull request admitted by a run that did not say counts until the
      // next read: unknown is not none.
      for (const at of current.reserved) {
        current.open.push({ key: "", createdAt: new Date(at).toISOString() });
        current.opened.push(at);
      }
      current.reserved = [];
      // A run that never got to ask for room no longer waits for it.
      if (!current.admitted) current.waiting = new Map();
      changed();
    },
    close() {
      closed = true;
      changed();
    },
  };
}
