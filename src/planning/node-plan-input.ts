import type { RepoConfig } from "../policy/repo-config.ts";
import type { Snapshot } from "./snapshot.ts";

/** What the infra repo says about one pool, read by the forge from the default branch. */
export interface PoolRepoFacts {
  pool: string;
  /** The target's current value as a number; absent when it could not be read. */
  currentValue?: number;
  /** Why the value could not be read (missing file, PATH not found, not a number). */
  currentValueProblem?: string;
  /** The last merged change to the target's file, from git history. */
  lastChange?: LastChange;
  /**
   * When the last change lowered the count: the newest change before it that raised the count
   * (or whose direction is unknown), so that the delay after a scale-up still runs from it.
   * Absent otherwise: a last change that did not lower the count is the last scale-up itself.
   */
  lastScaleUp?: { at: string };
  /**
   * Without a last change: when the repository's first commit set the count, which changed no
   * count, so no cooldown and no delay after a scale-up runs from it; the count's nodes have been
   * awaited since then (the planning time for a commit dated after it).
   */
  countSince?: string;
  /**
   * Why the history of the target's file could not be read (not a git repository, git not
   * installed, a repository git refuses to read): the time of the last change is unknown, which
   * is not "long ago", so no scale-down rests on it.
   */
  historyProblem?: string;
  /**
   * An open scaling pull request for this pool: the count it writes (`desired`) and the count it
   * changes (`from`), when known.
   */
  openPullRequest?: { number: number; desired?: number; from?: number };
}

export interface LastChange {
  /**
   * When it reached the default branch (ISO 8601); the planning time for a commit dated after it
   * (then `committedAt` holds the commit's own date).
   */
  at: string;
  /**
   * The commit's date when it is later than the planning time (a clock ahead of the planner's, a
   * plan made as of a past moment): the change counts as made at the planning time, just now.
   */
  committedAt?: string;
  /** Whether it raised or lowered the count, when known; unknown is treated as a raise. */
  direction?: "up" | "down";
}

/** Utilisation of a whole pool at one moment, in percent of allocatable (Ready workers). */
export interface PoolUtilisationSample {
  pool: string;
  at: string;
  /** Percent of the pool's Ready allocatable at that moment. */
  cpu?: number;
  memory?: number;
  /**
   * The Ready allocatable the percentages were taken of (millicores, bytes): a sample from
   * before the pool changed size is read against today's allocatable, not its own.
   */
  cpuAllocatable?: number;
  memoryAllocatable?: number;
  /** Requests of the pool's Ready nodes (millicores, bytes), when every one was known. */
  cpuRequests?: number;
  memoryRequests?: number;
}

/** Usage of one node at one moment: cpu in millicores, memory in bytes. */
export interface NodeUsageSample {
  node: string;
  at: string;
  cpu?: number;
  memory?: number;
}

/**
 * Earlier observations: pool samples (e.g. kept in memory from earlier reconciles via
 * `poolUtilisationSamples`) and node samples (e.g. a Prometheus range query, one sample per
 * node per step, with equal timestamps across nodes).
 */
export interface UsageHistory {
  pools?: PoolUtilisationSample[];
  nodes?: NodeUsageSample[];
}

export interface NodePlanInput {
  snapshot: Snapshot;
  config: RepoConfig;
  /** One entry per configured pool; a pool without one has an unknown current value. */
  repo: PoolRepoFacts[];
  now: Date;
  history?: UsageHistory;
}
