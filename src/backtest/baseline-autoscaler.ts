import type { PoolRepoFacts } from "../planning/node-plan-input.ts";
import type { NodeInfo } from "../planning/snapshot.ts";
import type { Autoscaler, AutoscalerView, PullRequestIntent } from "./autoscaler.ts";

/** The seed's rules, the yardstick the planner is measured against. */
export interface BaselineRules {
  /** Average cpu % of all the cluster's Ready nodes above which one node is added. */
  scaleUpAbove: number;
  /** Average cpu % below which one node is removed. */
  scaleDownBelow: number;
  /** No new change this long after the last merged one. */
  cooldownMs: number;
  intervalMs: number;
  min: number;
  max: number;
}

export const SEED_BASELINE: BaselineRules = {
  scaleUpAbove: 80,
  scaleDownBelow: 30,
  cooldownMs: 300_000,
  intervalMs: 60_000,
  min: 2,
  max: 6,
};

/**
 * The seed baseline, its rules as written: every check, the average cpu usage of all the
 * cluster's Ready nodes (control plane and fixed nodes included, as `kubectl top nodes` lists
 * them) above 80 % adds one node and below 30 % removes one, within min 2 and max 6, with a
 * 300 s cooldown after a merged change and one pull request at a time (a count outside min/max
 * is brought back first). The seed had one pool; with several, each acts on that average. It
 * looks at nothing else: not pending pods, not memory, not whether the removed node's pods fit
 * elsewhere.
 */
export function baselineAutoscaler(rules: BaselineRules = SEED_BASELINE): Autoscaler {
  return {
    name: "baseline",
    intervalMs: rules.intervalMs,
    decide(view: AutoscalerView): PullRequestIntent[] {
      const nodes = view.snapshot.nodes.filter((node) => node.ready);
      return view.repo.flatMap((facts) => {
        const intent = baselineIntent(facts, nodes, view.now, rules);
        return intent ? [intent] : [];
      });
    },
  };
}

/** The rule for one pool; exported for tests of the thresholds, cooldown and bounds. */
export function baselineIntent(
  facts: PoolRepoFacts,
  nodes: readonly NodeInfo[],
  now: Date,
  rules: BaselineRules,
): PullRequestIntent | undefined {
  const current = facts.currentValue;
  if (current === undefined || facts.openPullRequest) return undefined;
  const changedAt = facts.lastChange ? Date.parse(facts.lastChange.at) : Number.NaN;
  if (now.getTime() < changedAt + rules.cooldownMs) return undefined;
  if (current < rules.min)
    return {
      pool: facts.pool,
      action: "open",
      desired: rules.min,
      reason: `below min ${rules.min}`,
    };
  if (current > rules.max)
    return {
      pool: facts.pool,
      action: "open",
      desired: rules.max,
      reason: `above max ${rules.max}`,
    };
  const average = averageCpuPercent(nodes);
  if (average === undefined) return undefined;
  const reason = `average cpu ${Math.round(average)} %`;
  if (average > rules.scaleUpAbove && current < rules.max)
    return { pool: facts.pool, action: "open", desired: current + 1, reason };
  if (average < rules.scaleDownBelow && current > rules.min)
    return { pool: facts.pool, action: "open", desired: current - 1, reason };
  return undefined;
}

/** Mean of the nodes' cpu usage in % of allocatable; undefined without nodes or usage. */
export function averageCpuPercent(nodes: readonly NodeInfo[]): number | undefined {
  const percents: number[] = [];
  for (const node of nodes) {
    const used = node.usage?.cpu;
    const allocatable = node.allocatable.cpu;
    if (used === undefined || !allocatable) return undefined;
    percents.push((used / allocatable) * 100);
  }
  if (percents.length === 0) return undefined;
  return percents.reduce((sum, value) => sum + value, 0) / percents.length;
}
