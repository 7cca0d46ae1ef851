import type { NodeDecision, Trigger } from "../planning/node-decision.ts";
import { planNodes } from "../planning/node-plan.ts";
import type { PoolUtilisationSample } from "../planning/node-plan-input.ts";
import { poolUtilisationSamples } from "../planning/usage-history.ts";
import type { RepoConfig } from "../policy/repo-config.ts";
import { counted } from "../util/plural.ts";
import type { Autoscaler, AutoscalerView, PullRequestIntent } from "./autoscaler.ts";

/**
 * The node planner as the app runs it: `planNodes` on each check, with the pool utilisation
 * samples of earlier checks kept in memory as history (only as far back as a window reaches).
 */
export function plannerAutoscaler(config: RepoConfig, intervalMs: number): Autoscaler {
  let samples: PoolUtilisationSample[] = [];
  const keepMs = longestWindow(config) + 2 * intervalMs;
  return {
    name: "planner",
    intervalMs,
    decide(view: AutoscalerView): PullRequestIntent[] {
      const decisions = planNodes({
        snapshot: view.snapshot,
        config,
        repo: view.repo,
        now: view.now,
        history: { pools: samples },
      });
      const oldest = view.now.getTime() - keepMs;
      samples = samples.filter((sample) => Date.parse(sample.at) >= oldest);
      samples.push(...poolUtilisationSamples(view.snapshot, config));
      return decisions.flatMap(intent);
    },
  };
}

function intent(decision: NodeDecision): PullRequestIntent[] {
  const { pool, desired } = decision;
  const reason = decision.triggers.map(triggerText).join(", ") || "no change wanted";
  switch (decision.pullRequest.action) {
    case "open":
    case "update":
      return desired === undefined
        ? []
        : [{ pool, action: decision.pullRequest.action, desired, reason }];
    case "close":
      return [{ pool, action: "close", reason }];
    default:
      return [];
  }
}

function triggerText(trigger: Trigger): string {
  switch (trigger.kind) {
    case "utilisation":
      return `${trigger.resource} ${Math.round(trigger.percent)} % ≥ ${trigger.threshold} %`;
    case "requests":
      return `${trigger.resource} requests ${Math.round(trigger.percent)} % ≥ ${trigger.threshold} %`;
    case "pending-pods":
      return counted(trigger.pods, "pending pod");
    case "below-min":
      return `below min ${trigger.min}`;
    case "above-max":
      return `above max ${trigger.max}`;
    case "unready-node":
      return `${trigger.node} not Ready`;
    case "underutilised":
      return "underutilised";
  }
}

function longestWindow(config: RepoConfig): number {
  let longest = 0;
  for (const pool of config.pools)
    longest = Math.max(longest, pool.scaleUp.window, pool.scaleDown.unneededTime);
  return longest;
}
