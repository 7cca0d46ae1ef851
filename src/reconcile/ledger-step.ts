import { type ControlState, isPaused } from "../control/control-state.ts";
import type { Forge, RepoState } from "../forge/forge.ts";
import type { NodeDecision } from "../planning/node-decision.ts";
import { poolMembers } from "../planning/pool-members.ts";
import type { PlanNote, Proposal } from "../planning/proposal.ts";
import type { Snapshot } from "../planning/snapshot.ts";
import type { RepoConfig } from "../policy/repo-config.ts";
import { StaleControlState } from "./control-freshness.ts";
import type { KeyOutcome, ReconcileResult } from "./reconcile-types.ts";
import type { HeldPool, LedgerPullRequest, RepositoryLedger } from "./repository-ledger.ts";

/** The nodes each pool of the configuration selects in the cluster. */
export function poolNodes(config: RepoConfig, snapshot: Snapshot): Map<string, string[]> {
  return new Map(
    config.pools.map((pool) => [
      pool.name,
      poolMembers(snapshot.nodes, pool.selector).map((node) => node.name),
    ]),
  );
}

/** The bot's pull requests of a state as the ledger counts them: open, and opened lately. */
export function ledgerFacts(
  state: RepoState,
  now: Date,
  pools?: ReadonlyMap<string, readonly string[]>,
): Parameters<RepositoryLedger["publish"]>[1] {
  return {
    open: state.pullRequests.map(({ key, createdAt }) => ({ key, createdAt })),
    opened: [...state.pullRequests, ...state.recentlyClosed].map((pr) => pr.createdAt),
    ...(pools ? { pools } : {}),
    now,
  };
}

/**
 * The ledger's facts after the run: the pull requests it read less those it closed or merged,
 * and those it opened (at `now`).
 */
export function factsAfterRun(
  state: RepoState,
  result: ReconcileResult,
  now: Date,
  pools?: ReadonlyMap<string, readonly string[]>,
): Parameters<RepositoryLedger["publish"]>[1] {
  const gone = new Set(
    result.pullRequests
      .filter((o) => o.action === "closed" || o.action === "already-applied")
      .map((o) => o.number),
  );
  for (const merge of result.merges) if (merge.action === "merged") gone.add(merge.number);
  const kept: LedgerPullRequest[] = state.pullRequests
    .filter((pr) => !gone.has(pr.number))
    .map(({ key, createdAt }) => ({ key, createdAt }));
  const created = result.pullRequests
    .filter((o) => o.action === "created" && !kept.some((pr) => pr.key === o.key))
    .map((o) => ({ key: o.key, createdAt: now.toISOString() }));
  const facts = ledgerFacts(state, now, pools);
  return {
    ...facts,
    open: [...kept, ...created],
    opened: [...facts.opened, ...created.map((pr) => pr.createdAt)],
  };
}

/** A held pool's decision as shown: no change, nothing for its pull request to do. */
export function heldDecision(decision: NodeDecision): NodeDecision {
  const { removes: _removes, removing: _removing, ...rest } = decision;
  return {
    ...rest,
    action: "none",
    ...(decision.current === undefined ? {} : { desired: decision.current }),
    pullRequest: { action: "none" },
  };
}

function heldNote(hold: HeldPool, decisions: readonly NodeDecision[]): PlanNote {
  const decision = decisions.find((d) => d.pool === hold.pool);
  return {
    level: "warning",
    subject: `pool/${hold.pool}`,
    message: `held: ${heldText(hold)}`,
    pool: hold.pool,
    ...(decision ? { decision } : {}),
  };
}

/** Why a held pool's open pull request is closed, and what people can do. */
export function heldText(hold: HeldPool): string {
  const others = hold.by
    .map((by) => `${by.pools.map((pool) => `\`${pool}\``).join(", ")} of ${by.repository}`)
    .join(" and ");
  return `the nodes of pool \`${hold.pool}\` (${hold.nodes.join(", ")}) are also selected by pool ${others}, which claimed them first and manages them: changes to the same nodes from two repositories would add or remove them twice. Nothing is proposed for this pool here until one of the configurations drops it (or the selectors select different nodes).`;
}

/**
 * Closes the open pull requests of held pools (unless paused or left to people), so two
 * repositories never have one open for the same nodes.
 */
export async function closeHeldPullRequests(input: {
  forge: Pick<Forge, "closePullRequest">;
  state: RepoState;
  held: readonly HeldPool[];
  control: ControlState;
  beforeWrite: () => Promise<void>;
}): Promise<{ outcomes: KeyOutcome[]; closed: number[]; errors: string[] }> {
  const done = { outcomes: [] as KeyOutcome[], closed: [] as number[], errors: [] as string[] };
  for (const hold of input.held) {
    const pr = input.state.pullRequests.find((open) => open.key === `nodes-${hold.pool}`);
    if (pr?.control !== "bot" || isPaused(input.control, hold.pool)) continue;
    const reason = `pr-autoscaler closes this pull request: ${heldText(hold)}`;
    try {
      await input.beforeWrite();
      const closed = await input.forge.closePullRequest(pr, reason, input.state);
      if (closed.action === "closed") done.closed.push(pr.number);
      done.outcomes.push({
        key: pr.key,
        action: closed.action === "closed" ? "closed" : "left-alone",
        number: pr.number,
        note: closed.note ?? "another repository manages the pool's nodes",
      });
    } catch (error) {
      if (error instanceof StaleControlState) throw error;
      const message = error instanceof Error ? error.message : String(error);
      done.outcomes.push({ key: pr.key, action: "failed", number: pr.number, note: message });
      done.errors.push(`${pr.key}: ${message}`);
    }
  }
  return done;
}

export interface ShareInput {
  ledger: RepositoryLedger | undefined;
  repository: string;
  state: RepoState;
  proposals: readonly Proposal[];
  decisions: readonly NodeDecision[];
  /** The nodes each pool selects now. */
  pools: Map<string, string[]>;
  control: ControlState;
  forge: Pick<Forge, "closePullRequest">;
  beforeWrite: () => Promise<void>;
  now: Date;
}

export interface ShareResult {
  /** The repository's state less the pull requests closed here. */
  state: RepoState;
  /**
   * The changes the plan wants, held pools' left out: the pull request step opens or updates
   * them, within the limits.
   */
  wanted: Proposal[];
  decisions: NodeDecision[];
  /** Held pools' pull requests closed. */
  outcomes: KeyOutcome[];
  /** The other managed repositories whose pull requests are not known yet. */
  unknown: string[];
  held: HeldPool[];
  /** One warning per held pool, with its decision (the dashboard gives them a section). */
  notes: PlanNote[];
  pools: Map<string, string[]> | undefined;
  errors: string[];
}

/**
 * The reconcile's part in the app's ledger before its pull requests: tells what it read and the
 * nodes its pools select, waits for the other repositories' first read, and holds the pools
 * another repository claimed first (closing their pull requests). The app-wide limits are the
 * pull request step's, once it knows what closes in the run. Without a ledger, everything goes
 * on to the pull request step as it is.
 */
export async function shareWithOtherRepositories(input: ShareInput): Promise<ShareResult> {
  const { ledger } = input;
  const alone: ShareResult = {
    state: input.state,
    wanted: [...input.proposals],
    decisions: [...input.decisions],
    outcomes: [],
    unknown: [],
    held: [],
    notes: [],
    pools: undefined,
    errors: [],
  };
  if (!ledger) return alone;
  ledger.publish(input.repository, ledgerFacts(input.state, input.now, input.pools));
  const unknown = await ledger.settled(input.repository);
  const held = ledger.holds(input.repository);
  const heldPools = new Set(held.map((hold) => hold.pool));
  const wanted = input.proposals.filter(
    (proposal) => proposal.kind !== "nodes" || !heldPools.has(proposal.pool),
  );
  const closing = await closeHeldPullRequests({ ...input, held });
  const state = {
    ...input.state,
    pullRequests: input.state.pullRequests.filter((pr) => !closing.closed.includes(pr.number)),
  };
  const decisions = input.decisions.map((d) => (heldPools.has(d.pool) ? heldDecision(d) : d));
  return {
    state,
    wanted,
    decisions,
    outcomes: closing.outcomes,
    unknown,
    held,
    notes: held.map((hold) => heldNote(hold, decisions)),
    pools: input.pools,
    errors: closing.errors,
  };
}
