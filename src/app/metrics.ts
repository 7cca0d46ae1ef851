import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { KeyOutcome, ReconcileResult, ReconcileStatus } from "../reconcile/reconcile-types.ts";
import type { ClusterReadErrorKind } from "./cluster-observer.ts";
import type { RateLimitKind } from "./github-rate-limit.ts";
import { reconcileHealth } from "./notify.ts";

export interface AppMetrics {
  registry: Registry;
  /** Records one reconcile's outcome. */
  observe(result: ReconcileResult, seconds: number): void;
  /** Records a reconcile that threw before it could finish. */
  failed(repository: string, seconds: number): void;
  /** Records one read of the cluster: `error` undefined for a complete snapshot. */
  clusterRead(error: ClusterReadErrorKind | undefined, atMs: number): void;
  /**
   * Records one answer from GitHub (any status) to a request of `installation` (or `app`):
   * each attempt of a request that was retried is one answer.
   */
  githubResponse(
    installation: string,
    status: number,
    headers: ResponseHeaders,
    atMs: number,
  ): void;
  /**
   * Records a rate limit GitHub answered to a request of `installation` (or `app`), and until
   * when its requests are held.
   */
  rateLimited(installation: string, kind: RateLimitKind, untilMs: number): void;
  /** Records one notification delivery. */
  notified(event: string, outcome: "sent" | "failed"): void;
  /** Whether this replica runs the reconcile loop (it holds the Lease, or there is no election). */
  leader(leading: boolean): void;
  /**
   * The repositories managed now: their reconcile counters start at 0 (so that the first
   * failure is an increase), and the gauges of any other (uninstalled, or dropped from
   * PR_AUTOSCALER_REPOS) are removed, not left saying what its last reconcile said.
   */
  managed(repositories: readonly string[]): void;
}

/** Response headers as Octokit gives them (names in lower case). */
export type ResponseHeaders = Record<string, string | number | undefined>;

/** What the bot did to pull requests, as people say it. */
export type PullRequestEvent = "opened" | "updated" | "closed" | "merged";

/** Every `status` of pr_autoscaler_reconciles_total: a reconcile's own, or `failed` (threw). */
const STATUSES = [
  "ok",
  "no-config",
  "config-error",
  "cluster-error",
  "failed",
] as const satisfies readonly (ReconcileStatus | "failed")[];

const PROPOSAL_SERIES = [
  { kind: "nodes", direction: "up" },
  { kind: "nodes", direction: "down" },
  { kind: "resources", direction: "up" },
  { kind: "resources", direction: "down" },
  { kind: "resources", direction: "mixed" },
] as const;

/** The server's Prometheus metrics, on their own registry (served at /metrics). */
export function createAppMetrics(now: () => number = Date.now): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "pr_autoscaler_" });
  const reconciles = new Counter({
    name: "pr_autoscaler_reconciles_total",
    help: "Reconciles by repository and outcome (ok, no-config, config-error, cluster-error, failed).",
    labelNames: ["repository", "status"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "pr_autoscaler_reconcile_duration_seconds",
    help: "How long a reconcile took.",
    labelNames: ["repository"],
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
  });
  const actions = new Counter({
    name: "pr_autoscaler_pull_request_actions_total",
    help: "What reconciles did to the bot's pull requests (created, updated, rebuilt, closed…).",
    labelNames: ["repository", "action"],
    registers: [registry],
  });
  const pullRequests = new Counter({
    name: "pr_autoscaler_pull_requests_total",
    help: "The bot's pull requests opened, updated (new plan or rebuilt), closed and merged by it.",
    labelNames: ["repository", "kind", "event"],
    registers: [registry],
  });
  const proposals = new Gauge({
    name: "pr_autoscaler_proposals",
    help: "Changes the last planned reconcile wanted, by kind (nodes, resources) and direction.",
    labelNames: ["repository", "kind", "direction"],
    registers: [registry],
  });
  const errors = new Counter({
    name: "pr_autoscaler_reconcile_step_errors_total",
    help: "Steps that failed inside a reconcile (each is retried on the next); a cluster that could not be read is counted in reconciles_total only.",
    labelNames: ["repository"],
    registers: [registry],
  });
  const inARow = new Gauge({
    name: "pr_autoscaler_reconcile_failures_in_a_row",
    help: "Reconciles of the repository in a row that failed (threw, could not read the cluster, or had a failed step); 0 once one works.",
    labelNames: ["repository"],
    registers: [registry],
  });
  const last = new Gauge({
    name: "pr_autoscaler_last_reconcile_timestamp_seconds",
    help: "When the last reconcile of the repository ended.",
    labelNames: ["repository"],
    registers: [registry],
  });
  const clusterErrors = new Counter({
    name: "pr_autoscaler_cluster_read_errors_total",
    help: "Cluster reads that failed, by kind (unauthorized, forbidden, unreachable, server, config, other) or gave a partial snapshot (partial).",
    labelNames: ["kind"],
    registers: [registry],
  });
  let observedAt: number | undefined;
  new Gauge({
    name: "pr_autoscaler_last_observation_timestamp_seconds",
    help: "When the cluster was last read completely (absent until the first complete read).",
    registers: [registry],
    collect() {
      // Unknown is absent, not zero (a gauge without labels would say 0).
      if (observedAt === undefined) this.remove();
      else this.set(observedAt / 1000);
    },
  });
  new Gauge({
    name: "pr_autoscaler_observation_age_seconds",
    help: "Seconds since the cluster was last read completely (absent until the first complete read).",
    registers: [registry],
    collect() {
      if (observedAt === undefined) this.remove();
      else this.set(Math.max(0, now() - observedAt) / 1000);
    },
  });
  const rateRemaining = new Gauge({
    name: "pr_autoscaler_github_rate_limit_remaining",
    help: "Requests left in GitHub's rate limit window, from the last answer's x-ratelimit-remaining.",
    labelNames: ["installation", "resource"],
    registers: [registry],
  });
  const rateLimit = new Gauge({
    name: "pr_autoscaler_github_rate_limit_limit",
    help: "Size of GitHub's rate limit window, from the last answer's x-ratelimit-limit.",
    labelNames: ["installation", "resource"],
    registers: [registry],
  });
  const githubAnswers = new Counter({
    name: "pr_autoscaler_github_responses_total",
    help: "Answers from GitHub's API by status class (2xx, 3xx, 4xx, 5xx).",
    labelNames: ["status"],
    registers: [registry],
  });
  const rateLimits = new Counter({
    name: "pr_autoscaler_github_rate_limits_total",
    help: "Requests GitHub refused for a rate limit, by installation and kind (primary: the quota is used up; secondary: too many at once).",
    labelNames: ["installation", "kind"],
    registers: [registry],
  });
  const heldUntil = new Map<string, number>();
  new Gauge({
    name: "pr_autoscaler_github_rate_limited_until_timestamp_seconds",
    help: "Until when a GitHub rate limit holds the installation's requests and reconciles (absent when none does).",
    labelNames: ["installation"],
    registers: [registry],
    collect() {
      // A hold that ended is not a time in the past: the series goes away.
      this.reset();
      for (const [installation, until] of heldUntil) {
        if (until > now()) this.set({ installation }, until / 1000);
        else heldUntil.delete(installation);
      }
    },
  });
  let githubOkAt: number | undefined;
  new Gauge({
    name: "pr_autoscaler_last_github_success_timestamp_seconds",
    help: "When GitHub last answered a request successfully (2xx or 304; absent until then).",
    registers: [registry],
    collect() {
      if (githubOkAt === undefined) this.remove();
      else this.set(githubOkAt / 1000);
    },
  });
  const notifications = new Counter({
    name: "pr_autoscaler_notifications_total",
    help: "Chat notifications by event and outcome (sent, failed).",
    labelNames: ["event", "outcome"],
    registers: [registry],
  });

  function countPullRequests(result: ReconcileResult) {
    const repository = result.repository;
    for (const outcome of result.pullRequests) {
      const event = pullRequestEvent(outcome);
      if (event) pullRequests.inc({ repository, kind: keyKind(outcome.key), event });
    }
    for (const merge of result.merges) {
      if (merge.action !== "merged") continue;
      const outcome = result.pullRequests.find((o) => o.number === merge.number);
      pullRequests.inc({
        repository,
        kind: outcome ? keyKind(outcome.key) : "unknown",
        event: "merged",
      });
    }
  }

  /** Repositories with gauge samples, so that those no longer managed can be removed. */
  const gauged = new Set<string>();

  function setProposals(result: ReconcileResult) {
    const repository = result.repository;
    for (const series of PROPOSAL_SERIES) {
      if (result.status !== "ok" || result.snapshotComplete === false) {
        // The run stopped before planning, or planned nothing on a partial read of the
        // cluster: what it wants is unknown, not zero.
        proposals.remove({ repository, ...series });
        continue;
      }
      const count = result.proposals.filter(
        (p) => p.kind === series.kind && p.direction === series.direction,
      ).length;
      proposals.set({ repository, ...series }, count);
    }
  }

  /** Follows the notifier's run of failures (see reconcileHealth), so alert and chat agree. */
  function countInARow(result: ReconcileResult) {
    const repository = result.repository;
    const health = reconcileHealth(result);
    if (health.kind === "failed") inARow.inc({ repository });
    else if (health.kind !== "unknown") inARow.set({ repository }, 0);
  }

  /**
   * Steps that failed: a cluster-error run's errors hold the cluster's own (it stopped the
   * run: counted by its status), which is not a step of its own.
   */
  function stepErrors(result: ReconcileResult): number {
    const count = result.errors.length;
    return result.status === "cluster-error" ? Math.max(0, count - 1) : count;
  }

  const leader = new Gauge({
    name: "pr_autoscaler_leader",
    help: "1 while this replica runs the reconcile loop (it holds the Lease, or there is no leader election), 0 otherwise.",
    registers: [registry],
  });

  return {
    registry,
    leader(leading) {
      leader.set(leading ? 1 : 0);
    },
    observe(result, seconds) {
      const repository = result.repository;
      reconciles.inc({ repository, status: result.status });
      duration.observe({ repository }, seconds);
      for (const outcome of result.pullRequests) {
        if (outcome.action !== "unchanged") actions.inc({ repository, action: outcome.action });
      }
      for (const merge of result.merges)
        actions.inc({ repository, action: `merge-${merge.action}` });
      countPullRequests(result);
      setProposals(result);
      const failedSteps = stepErrors(result);
      if (failedSteps > 0) errors.inc({ repository }, failedSteps);
      countInARow(result);
      last.set({ repository }, now() / 1000);
      gauged.add(repository);
    },
    failed(repository, seconds) {
      reconciles.inc({ repository, status: "failed" });
      duration.observe({ repository }, seconds);
      for (const series of PROPOSAL_SERIES) proposals.remove({ repository, ...series });
      inARow.inc({ repository });
      last.set({ repository }, now() / 1000);
      gauged.add(repository);
    },
    managed(repositories) {
      for (const repository of repositories) {
        // Adding 0 makes the series without moving it: a counter that appears at 1 would hide
        // its first increase from increase() and rate().
        for (const status of STATUSES) reconciles.inc({ repository, status }, 0);
        errors.inc({ repository }, 0);
      }
      const kept = new Set(repositories.map((name) => name.toLowerCase()));
      for (const repository of [...gauged]) {
        if (kept.has(repository.toLowerCase())) continue;
        for (const series of PROPOSAL_SERIES) proposals.remove({ repository, ...series });
        last.remove({ repository });
        inARow.remove({ repository });
        gauged.delete(repository);
      }
    },
    clusterRead(error, atMs) {
      if (error === undefined) observedAt = atMs;
      else clusterErrors.inc({ kind: error });
    },
    githubResponse(installation, status, headers, atMs) {
      githubAnswers.inc({ status: `${Math.floor(status / 100)}xx` });
      if ((status >= 200 && status < 300) || status === 304) githubOkAt = atMs;
      const resource = String(headers["x-ratelimit-resource"] ?? "core");
      const remaining = headerNumber(headers["x-ratelimit-remaining"]);
      const limit = headerNumber(headers["x-ratelimit-limit"]);
      if (remaining !== undefined) rateRemaining.set({ installation, resource }, remaining);
      if (limit !== undefined) rateLimit.set({ installation, resource }, limit);
    },
    rateLimited(installation, kind, untilMs) {
      rateLimits.inc({ installation, kind });
      heldUntil.set(installation, Math.max(untilMs, heldUntil.get(installation) ?? 0));
    },
    notified(event, outcome) {
      notifications.inc({ event, outcome });
    },
  };
}

/** The people-facing event of a pull request outcome; undefined when nothing happened to it. */
export function pullRequestEvent(outcome: KeyOutcome): PullRequestEvent | undefined {
  switch (outcome.action) {
    case "created":
      return "opened";
    case "updated":
    case "rebuilt":
      return "updated";
    case "closed":
      return "closed";
    case "already-applied":
      // With a number, an open pull request was closed; without, nothing was opened.
      return outcome.number === undefined ? undefined : "closed";
    default:
      return undefined;
  }
}

function keyKind(key: string): "nodes" | "resources" {
  return key.startsWith("nodes-") ? "nodes" : "resources";
}

/** A rate-limit header as a number; undefined when absent or not a count (GHE without limits). */
function headerNumber(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 ? number : undefined;
}

/** GitHub's answers as the metrics and the readiness see them. */
export interface GitHubWatch {
  /**
   * Records one answer GitHub gave to a request of `installation` (undefined: the app itself,
   * with its JWT), whatever its status: each attempt of a retried request is one.
   */
  answered(installation: number | undefined, status: number, headers: ResponseHeaders): void;
  /** When GitHub last answered with 2xx or 304 (ms since the epoch); undefined: never. */
  lastSuccessAt(): number | undefined;
}

/** Feeds GitHub's answers to `metrics`, remembering the last success for the readiness. */
export function createGitHubWatch(metrics: AppMetrics, now: () => number = Date.now): GitHubWatch {
  let okAt: number | undefined;
  return {
    answered(installation, status, headers) {
      const at = now();
      if ((status >= 200 && status < 300) || status === 304) okAt = at;
      metrics.githubResponse(
        installation === undefined ? "app" : String(installation),
        status,
        headers,
        at,
      );
    },
    lastSuccessAt: () => okAt,
  };
}
