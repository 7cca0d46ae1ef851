import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { KeyOutcome, ReconcileResult } from "../reconcile/reconcile-types.ts";
import type { ClusterReadErrorKind } from "./cluster-observer.ts";
import type { RateLimitKind } from "./github-rate-limit.ts";

export interface AppMetrics {
  registry: Registry;
  /** Records one reconcile's outcome. */
  observe(result: ReconcileResult, seconds: number): void;
  /** Records a reconcile that threw before it could finish. */
  failed(repository: string, seconds: number): void;
  /** Records one read of the cluster: `error` undefined for a complete snapshot. */
  clusterRead(error: ClusterReadErrorKind | undefined, atMs: number): void;
  /** Records one answer from GitHub (any status) to a request of `installation` (or `app`). */
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
   * The repositories managed now: the gauges of any other (uninstalled, or dropped from
   * PR_AUTOSCALER_REPOS) are removed, not left saying what its last reconcile said.
   */
  managed(repositories: readonly string[]): void;
}

/** Response headers as Octokit gives them (names in lower case). */
export type ResponseHeaders = Record<string, string | number | undefined>;

/** What the bot did to pull requests, as people say it. */
export type PullRequestEvent = "opened" | "updated" | "closed" | "merged";

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
    help: "Steps that failed inside a reconcile (each is retried on the next).",
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
      if (result.status !== "ok") {
        // The run stopped before planning: what it wants is unknown, not zero.
        proposals.remove({ repository, ...series });
        continue;
      }
      const count = result.proposals.filter(
        (p) => p.kind === series.kind && p.direction === series.direction,
      ).length;
      proposals.set({ repository, ...series }, count);
    }
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
      if (result.errors.length > 0) errors.inc({ repository }, result.errors.length);
      last.set({ repository }, now() / 1000);
      gauged.add(repository);
    },
    failed(repository, seconds) {
      reconciles.inc({ repository, status: "failed" });
      duration.observe({ repository }, seconds);
      for (const series of PROPOSAL_SERIES) proposals.remove({ repository, ...series });
      last.set({ repository }, now() / 1000);
      gauged.add(repository);
    },
    managed(repositories) {
      const kept = new Set(repositories.map((name) => name.toLowerCase()));
      for (const repository of [...gauged]) {
        if (kept.has(repository.toLowerCase())) continue;
        for (const series of PROPOSAL_SERIES) proposals.remove({ repository, ...series });
        last.remove({ repository });
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

/** The part of Octokit's hook API the watch uses. */
export interface HookedOctokit {
  hook: {
    after(
      name: "request",
      hook: (response: { status: number; headers: ResponseHeaders }) => void,
    ): void;
    error(name: "request", hook: (error: unknown) => unknown): void;
  };
}

/** GitHub's answers as the metrics and the readiness see them. */
export interface GitHubWatch {
  /** Reports every answer to `octokit`'s requests; `installation` undefined: the app itself. */
  watch<O extends HookedOctokit>(octokit: O, installation: number | undefined): O;
  /** When GitHub last answered with 2xx or 304 (ms since the epoch); undefined: never. */
  lastSuccessAt(): number | undefined;
}

/** Watches the Octokits the app makes, feeding `metrics` and remembering the last success. */
export function createGitHubWatch(metrics: AppMetrics, now: () => number = Date.now): GitHubWatch {
  let okAt: number | undefined;
  // Probot hands out the same app Octokit each time: its hooks are added once.
  const watched = new WeakSet<object>();
  return {
    watch(octokit, installation) {
      if (watched.has(octokit)) return octokit;
      watched.add(octokit);
      const label = installation === undefined ? "app" : String(installation);
      return watchGitHubRequests(octokit, (status, headers) => {
        const at = now();
        if ((status >= 200 && status < 300) || status === 304) okAt = at;
        metrics.githubResponse(label, status, headers, at);
      });
    },
    lastSuccessAt: () => okAt,
  };
}

/**
 * Calls `onResponse` for every answer GitHub gives to `octokit`, including errors and 304s,
 * which Octokit throws; the error goes on unchanged.
 */
export function watchGitHubRequests<O extends HookedOctokit>(
  octokit: O,
  onResponse: (status: number, headers: ResponseHeaders) => void,
): O {
  octokit.hook.after("request", (response) => {
    onResponse(response.status, response.headers);
  });
  octokit.hook.error("request", (error) => {
    const response = (error as { response?: { status?: unknown; headers?: unknown } }).response;
    if (response && typeof response.status === "number" && typeof response.headers === "object")
      onResponse(response.status, (response.headers ?? {}) as ResponseHeaders);
    throw error;
  });
  return octokit;
}
