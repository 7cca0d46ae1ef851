import type { PoolRepoFacts } from "../planning/node-plan-input.ts";
import { poolNodeName } from "./parse-trace.ts";
import type { SimCluster, SimNode } from "./sim-cluster.ts";
import type { TracePool } from "./trace.ts";

/** The trace's first nodes joined a day before it starts. */
export const DAY_MS = 86_400_000;

/** A scaling pull request of the simulation, from opening to merge or close. */
export interface SimPullRequest {
  number: number;
  pool: string;
  /** The repo's value when it was opened. */
  from: number;
  desired: number;
  /** Why it was opened, as the autoscaler put it. */
  reason: string;
  openedAt: number;
  /** When it will be merged and applied (moves when the pull request is updated). */
  mergeAt: number;
  updates: number;
  state: "open" | "merged" | "closed";
  mergedAt?: number;
  closedAt?: number;
}

/** A change that reached the repo and was applied. */
export interface MergedChange {
  pool: string;
  at: number;
  from: number;
  to: number;
}

interface PoolRepo {
  pool: TracePool;
  target: number;
  lastChange?: { at: number; direction: "up" | "down" };
  /** The last raise of the count, which the delay after a scale-up runs from. */
  lastRaise?: number;
  open?: SimPullRequest;
}

export interface RepoTiming {
  /** Opening (or last updating) a pull request to the apply starting. */
  mergeDelayMs: number;
  /** Apply starting to a new node being Ready. */
  bootDelayMs: number;
}

/**
 * The infra repo and what applying it does: each pool's count (the merged value), its pull
 * requests, and Terraform `count` semantics on apply (a raise creates the next indexes, a cut
 * drains and destroys the highest ones).
 */
export class SimRepo {
  readonly pullRequests: SimPullRequest[] = [];
  readonly changes: MergedChange[] = [];
  private readonly pools = new Map<string, PoolRepo>();
  private readonly timing: RepoTiming;
  private readonly cluster: SimCluster;
  private readonly start: number;

  constructor(pools: readonly TracePool[], cluster: SimCluster, timing: RepoTiming, start: number) {
    this.timing = timing;
    this.cluster = cluster;
    this.start = start;
    for (const pool of pools) {
      this.pools.set(pool.name, { pool, target: pool.count });
      for (let i = 0; i < pool.count; i++) cluster.addNode(poolNode(pool, i, -DAY_MS, -DAY_MS));
    }
  }

  /** What the forge would read: value, last merged change (and raise), open pull request. */
  facts(): PoolRepoFacts[] {
    return [...this.pools.values()].map((state) => {
      const facts: PoolRepoFacts = { pool: state.pool.name, currentValue: state.target };
      if (state.lastChange)
        facts.lastChange = {
          at: new Date(this.start + state.lastChange.at).toISOString(),
          direction: state.lastChange.direction,
        };
      if (state.lastChange?.direction === "down" && state.lastRaise !== undefined)
        facts.lastScaleUp = { at: new Date(this.start + state.lastRaise).toISOString() };
      if (state.open)
        facts.openPullRequest = { number: state.open.number, desired: state.open.desired };
      return facts;
    });
  }

  open(pool: string, desired: number, reason: string, now: number): void {
    const state = this.poolState(pool);
    if (state.open || desired === state.target || desired < 0) return;
    const pr: SimPullRequest = {
      number: this.pullRequests.length + 1,
      pool,
      from: state.target,
      desired,
      reason,
      openedAt: now,
      mergeAt: now + this.timing.mergeDelayMs,
      updates: 0,
      state: "open",
    };
    this.pullRequests.push(pr);
    state.open = pr;
  }

  /** A new count on the open pull request is a new commit: its checks and merge start over. */
  update(pool: string, desired: number, reason: string, now: number): void {
    const pr = this.poolState(pool).open;
    if (!pr || pr.desired === desired || desired < 0) return;
    pr.desired = desired;
    pr.reason = reason;
    pr.mergeAt = now + this.timing.mergeDelayMs;
    pr.updates += 1;
  }

  close(pool: string, now: number): void {
    const state = this.poolState(pool);
    if (!state.open) return;
    state.open.state = "closed";
    state.open.closedAt = now;
    state.open = undefined;
  }

  /** Merges and applies the pull requests due by `now`. */
  mergeDue(now: number): void {
    for (const state of this.pools.values()) {
      const pr = state.open;
      if (!pr || pr.mergeAt > now) continue;
      pr.state = "merged";
      pr.mergedAt = now;
      state.open = undefined;
      this.apply(state, pr.desired, now);
    }
  }

  private apply(state: PoolRepo, desired: number, now: number): void {
    const from = state.target;
    if (desired === from) return;
    state.target = desired;
    state.lastChange = { at: now, direction: desired > from ? "up" : "down" };
    if (desired > from) state.lastRaise = now;
    this.changes.push({ pool: state.pool.name, at: now, from, to: desired });
    const members = this.cluster.nodes.filter((node) => node.pool === state.pool.name);
    if (desired > from) {
      for (let i = from; i < desired; i++)
        if (!members.some((node) => node.index === i))
          this.cluster.addNode(poolNode(state.pool, i, now, now + this.timing.bootDelayMs));
      return;
    }
    const doomed = members.filter((node) => (node.index ?? 0) >= desired);
    doomed.sort((a, b) => (b.index ?? 0) - (a.index ?? 0));
    for (const node of doomed) this.cluster.removeNode(node, now);
  }

  private poolState(pool: string): PoolRepo {
    const state = this.pools.get(pool);
    if (!state) throw new Error(`no pool ${pool} in the trace`);
    return state;
  }
}

function poolNode(pool: TracePool, index: number, createdAt: number, readyAt: number): SimNode {
  const name = poolNodeName(pool, index);
  return {
    name,
    pool: pool.name,
    index,
    controlPlane: false,
    allocatable: { ...pool.allocatable },
    labels: { "kubernetes.io/hostname": name, ...pool.labels },
    taints: pool.taints,
    createdAt,
    readyAt,
    ready: readyAt <= 0,
    used: { cpu: 0, memory: 0, pods: 0 },
    pods: new Set(),
  };
}
