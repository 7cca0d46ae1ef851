import type { LedgerPullRequest } from "./repository-ledger.ts";

/** The nodes one repository's pools claim, and since when. */
export interface Claims {
  /** Node → epoch ms since which the repository claims it. */
  nodes: Map<string, number>;
  /** Pool → the nodes it selects. */
  pools: Map<string, string[]>;
}

/** A pool whose nodes pools of other repositories claimed first: nothing is proposed for it. */
export interface HeldPool {
  pool: string;
  /** The nodes it shares with them. */
  nodes: string[];
  /** Those repositories, each with its pools that select the shared nodes. */
  by: { repository: string; pools: string[] }[];
}

/**
 * A repository's claims once a reconcile saw its pools select `pools`: a node claimed before
 * keeps its time, a new one is claimed from `fresh`, and a node of a pool whose pull request is
 * open is claimed at the latest since that pull request was opened.
 */
export function claimNodes(
  before: Claims | undefined,
  pools: ReadonlyMap<string, readonly string[]>,
  open: readonly LedgerPullRequest[],
  fresh: number,
): Claims {
  const nodes = new Map<string, number>();
  const selected = new Map<string, string[]>();
  for (const [pool, members] of pools) {
    selected.set(pool, [...members]);
    const pullRequest = open.find((pr) => pr.key === `nodes-${pool}`);
    const opened = pullRequest ? Date.parse(pullRequest.createdAt) : Number.POSITIVE_INFINITY;
    for (const node of members) {
      const since = Math.min(nodes.get(node) ?? fresh, before?.nodes.get(node) ?? fresh, opened);
      nodes.set(node, since);
    }
  }
  return { nodes, pools: selected };
}

interface Claimant {
  name: string;
  claims?: Claims | undefined;
}

/**
 * The pools of `current` sharing nodes with pools of other repositories that claimed those
 * nodes first: the earliest claim of the shared nodes, and at the same time the name that
 * sorts first.
 */
export function heldPools(current: Claimant, others: readonly Claimant[]): HeldPool[] {
  const mine = current.claims;
  if (!mine) return [];
  const holds: HeldPool[] = [];
  for (const [pool, members] of mine.pools) {
    const nodes = new Set<string>();
    const by: HeldPool["by"] = [];
    for (const other of others) {
      const theirs = other.claims;
      const shared = theirs ? members.filter((node) => theirs.nodes.has(node)) : [];
      if (!theirs || shared.length === 0 || !first(other.name, theirs, current.name, mine, shared))
        continue;
      for (const node of shared) nodes.add(node);
      by.push({ repository: other.name, pools: poolsSelecting(theirs, shared) });
    }
    if (by.length > 0)
      holds.push({
        pool,
        nodes: [...nodes].sort(),
        by: by.sort((a, b) => compare(a.repository, b.repository)),
      });
  }
  return holds;
}

/** Whether `name` claimed `shared` before `than` did. */
function first(
  name: string,
  claims: Claims,
  than: string,
  theirs: Claims,
  shared: readonly string[],
): boolean {
  const since = (of: Claims) => Math.min(...shared.map((node) => of.nodes.get(node) ?? 0));
  const order = since(claims) - since(theirs) || compare(name.toLowerCase(), than.toLowerCase());
  return order < 0;
}

function poolsSelecting(claims: Claims, nodes: readonly string[]): string[] {
  return [...claims.pools]
    .filter(([, selected]) => selected.some((node) => nodes.includes(node)))
    .map(([name]) => name)
    .sort();
}

/** Code-unit order, for names and keys. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
