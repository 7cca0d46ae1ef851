import type { RefusalReason, SkipReason } from "./drain-decide.ts";
import type { NotWaitedFor } from "./drain-terminating.ts";

/** How the drain reads the time and waits; tests pass a clock that does not wait. */
export interface DrainClock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock. */
export const systemClock: DrainClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * - drained: every node is cordoned and empty (DaemonSet and mirror pods aside);
 * - would-drain: dry run, nothing refuses (PDBs may still make the real drain wait);
 * - refused: a pod may not be moved (or would not be, in a dry run); nothing was cordoned
 *   unless the pod appeared after the nodes were cordoned;
 * - timed-out: pods were still there at the deadline;
 * - failed: a node does not exist, or the API said no in a way retrying cannot fix;
 * - cancelled: stopped from outside (a signal) before it could finish.
 */
export type DrainOutcome =
  | "drained"
  | "would-drain"
  | "refused"
  | "timed-out"
  | "failed"
  | "cancelled";

export type NodeState =
  | "not-found"
  | "not-started"
  | "checked"
  | "drained"
  | "refused"
  | "timed-out"
  | "failed"
  | "cancelled";

/** A pod that would not move, and why. */
export interface StuckPod {
  pod: string;
  /** Why it is still there, in words. */
  reason: string;
  /** The PodDisruptionBudget that refused its eviction, when one did. */
  budget?: string;
  /** The pod is being deleted and still there: evicted by this drain, or deleted otherwise. */
  terminating?: boolean;
  /** For a pod being deleted: its `metadata.deletionTimestamp`, when read. */
  deletionTimestamp?: string;
  /** For a pod being deleted: the finalizers still on it, when there are any. */
  finalizers?: string[];
}

export interface RefusedPodReport {
  pod: string;
  reasons: { reason: RefusalReason; message: string; flag?: string; budgets?: string[] }[];
}

/** A PodDisruptionBudget that selects a pod to evict (dry run). */
export interface BudgetReport {
  pod: string;
  budget: string;
  disruptionsAllowed?: number;
  /**
   * The pods this drain would evict before this one under the same budget, when they would
   * spend all it allows now: this pod's eviction would wait for their replacements.
   */
  spentBy?: string[];
  /**
   * The budget's status was written for an older spec: the API allows no eviction until the
   * disruption controller catches up (`disruptionsAllowed` is then 0).
   */
  stale?: true;
  /** The pod is running and not Ready. */
  notReady?: true;
  /**
   * The eviction API would evict this pod, not Ready, without spending the budget: under
   * `AlwaysAllow`, or under `IfHealthyBudget` while the budget has the healthy pods it wants.
   */
  outsideBudget?: "AlwaysAllow" | "IfHealthyBudget";
}

export interface NodeReport {
  name: string;
  state: NodeState;
  /** The node was unschedulable before the drain began (it stays so). */
  wasCordoned: boolean;
  /** This drain cordoned it. */
  cordoned: boolean;
  /** This drain uncordoned it again after a failure or a cancel. */
  uncordoned: boolean;
  /** The node's Ready condition was True at the last look; absent when never read. */
  ready?: boolean;
  /** Why it is not Ready, when it is not. */
  notReadyReason?: string;
  evicted: string[];
  skipped: { pod: string; reason: SkipReason; message: string }[];
  refused: RefusedPodReport[];
  /** Pods still on the node when the drain stopped. */
  stuck: StuckPod[];
  /**
   * Pods being deleted that the drain did not wait for (dry run: would not wait for), with
   * the rule that let it.
   */
  notWaitedFor: NotWaitedFor[];
  /** About a pod when `pod` is set, else about the node. */
  warnings: { pod?: string; message: string }[];
  /** Dry run: the budget over each pod to evict (a pod several select is refused instead). */
  budgets: BudgetReport[];
  /** Dry run: pods the drain would evict. */
  wouldEvict: string[];
}

export interface DrainResult {
  outcome: DrainOutcome;
  dryRun: boolean;
  nodes: NodeReport[];
  /** What stopped the drain, in one sentence; absent when it drained. */
  message?: string;
  /**
   * Nodes this drain cordoned and did not uncordon: all of them after a success; after a
   * failure or a cancel, with --keep-cordoned or when uncordoning failed or ran out of time.
   */
  leftCordoned: string[];
  /** Uncordoning that failed, so a person knows what to fix. */
  uncordonErrors: string[];
  elapsedMs: number;
}

/** Something worth telling while the drain runs. */
export type DrainEvent =
  | { type: "cordoned"; node: string; already: boolean }
  | { type: "evicted"; node: string; pod: string }
  | {
      type: "waiting";
      node: string;
      /** Pods not yet evicted plus pods evicted and still terminating. */
      left: number;
      terminating: number;
      blocked: StuckPod[];
      /** When the drain's timeout ends (epoch milliseconds): it waits no longer. */
      until: number;
    }
  | { type: "not-waited-for"; node: string; pod: string; rule: NotWaitedFor["rule"] }
  | { type: "drained"; node: string }
  /**
   * A signal stopped the drain: it sends nothing more and uncordons `uncordoning` (none with
   * `keepCordoned`).
   */
  | { type: "cancelling"; reason: string; uncordoning: string[]; keepCordoned: boolean }
  | { type: "uncordoned"; node: string };

export function emptyNodeReport(name: string): NodeReport {
  return {
    name,
    state: "not-started",
    wasCordoned: false,
    cordoned: false,
    uncordoned: false,
    evicted: [],
    skipped: [],
    refused: [],
    stuck: [],
    notWaitedFor: [],
    warnings: [],
    budgets: [],
    wouldEvict: [],
  };
}
