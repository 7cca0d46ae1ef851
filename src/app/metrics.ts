import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ReconcileResult } from "../reconcile/reconcile-types.ts";

export interface AppMetrics {
  registry: Registry;
  /** Records one reconcile's outcome. */
  observe(result: ReconcileResult, seconds: number): void;
  /** Records a reconcile that threw before it could finish. */
  failed(repository: string, seconds: number): void;
}

/** The server's Prometheus metrics, on their own registry (served at /metrics). */
export function createAppMetrics(): AppMetrics {
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
  return {
    registry,
    observe(result, seconds) {
      const repository = result.repository;
      reconciles.inc({ repository, status: result.status });
      duration.observe({ repository }, seconds);
      for (const outcome of result.pullRequests) {
        if (outcome.action !== "unchanged") actions.inc({ repository, action: outcome.action });
      }
      for (const merge of result.merges)
        actions.inc({ repository, action: `merge-${merge.action}` });
      if (result.errors.length > 0) errors.inc({ repository }, result.errors.length);
      last.set({ repository }, Date.now() / 1000);
    },
    failed(repository, seconds) {
      reconciles.inc({ repository, status: "failed" });
      duration.observe({ repository }, seconds);
      last.set({ repository }, Date.now() / 1000);
    },
  };
}
