import type { NodeDecision } from "../../src/planning/node-decision.ts";
import { planNodes } from "../../src/planning/node-plan.ts";
import type { PoolRepoFacts, UsageHistory } from "../../src/planning/node-plan-input.ts";
import type { NodeInfo, PodInfo, Snapshot } from "../../src/planning/snapshot.ts";
import { type PoolConfigInput, RepoConfig } from "../../src/policy/repo-config.ts";
import {
  buildSnapshot,
  type NodeSpec,
  node,
  nodes,
  pod,
  TAKEN_AT,
} from "../support/snapshot-builder.ts";

export const NOW = new Date(TAKEN_AT);

/** Workers at half their cpu and memory: no utilisation trigger either way. */
export const BUSY: NodeSpec = { usage: { cpu: "2", memory: "8Gi" } };
/** Workers far below every scale-down threshold, measured by Prometheus over an hour. */
export const QUIET: NodeSpec = { usage: { cpu: "400m", memory: "2Gi" } };

/** A pool named `workers` scaling terraform/terraform.tfvars worker_count, min 1, max 10. */
export function poolInput(overrides: Partial<PoolConfigInput> = {}): PoolConfigInput {
  return {
    name: "workers",
    target: { file: "terraform/terraform.tfvars", path: "worker_count" },
    min: 1,
    max: 10,
    ...overrides,
  };
}

/**
 * A pool `name` of the nodes labelled node.kubernetes.io/pool=`name`, counted at `target` of
 * terraform/terraform.tfvars, max 4, judged at once (unneededTime 0), its nodes named
 * `template` from index 1.
 */
export function labelledPool(name: string, target: string, template: string): PoolConfigInput {
  return poolInput({
    name,
    target: { file: "terraform/terraform.tfvars", path: target },
    selector: { matchLabels: { "node.kubernetes.io/pool": name } },
    max: 4,
    scaleDown: { unneededTime: 0 },
    removal: { nameTemplate: template, indexBase: 1 },
  });
}

/** `count` QUIET nodes, `prefix`1 and on, of the labelledPool `name`. */
export function labelledNodes(name: string, prefix: string, count = 2): NodeInfo[] {
  return Array.from({ length: count }, (_, index) =>
    node(`${prefix}${index + 1}`, { ...QUIET, labels: { "node.kubernetes.io/pool": name } }),
  );
}

export function repoConfig(...pools: PoolConfigInput[]): RepoConfig {
  return RepoConfig.parse({ pools });
}

export interface PlanOptions {
  /** The repo facts; `currentValue` defaults to the number of worker nodes in the snapshot. */
  facts?: Partial<PoolRepoFacts>;
  now?: Date;
  history?: UsageHistory;
}

/** Plans a single pool and returns its decision. */
export function planOne(
  snapshot: Snapshot,
  pool: Partial<PoolConfigInput> = {},
  options: PlanOptions = {},
): NodeDecision {
  const config = repoConfig(poolInput(pool));
  const workers = snapshot.nodes.filter((node) => !node.controlPlane).length;
  const facts: PoolRepoFacts = { pool: "workers", currentValue: workers, ...options.facts };
  const [decision] = planNodes({
    snapshot,
    config,
    repo: [facts],
    now: options.now ?? NOW,
    ...(options.history ? { history: options.history } : {}),
  });
  if (!decision) throw new Error("no decision for the pool");
  return decision;
}

/** Kinds of the triggers and holds, for compact assertions. */
export function kinds(items: readonly { kind: string }[]): string[] {
  return items.map((item) => item.kind);
}

/** The time `seconds` before NOW, as the API writes it. */
export function ago(seconds: number): string {
  return new Date(NOW.getTime() - seconds * 1000).toISOString();
}

/**
 * `workers` with a pod of 1.5 cores on each of the first `busy` (all of them unless given), and
 * `others` besides.
 */
export function withWebPods(
  workers: NodeInfo[],
  others: PodInfo[] = [],
  busy = workers.length,
): Snapshot {
  return buildSnapshot({
    nodes: workers,
    pods: [
      ...workers.slice(0, busy).map((w) => pod(`web/${w.name}`, { node: w.name, cpu: "1500m" })),
      ...others,
    ],
  });
}

/** Two busy workers with 3.5 of their 4 cores requested, and the given pending pods. */
export function twoFullWorkers(pending: PodInfo[]): Snapshot {
  return fullWorkers(2, pending);
}

/** `count` busy workers with 3.5 of their 4 cores requested, and the given pending pods. */
export function fullWorkers(count: number, pending: PodInfo[] = []): Snapshot {
  const workers = nodes(count, BUSY);
  return buildSnapshot({
    nodes: workers,
    pods: [
      ...workers.map((w) => pod(`fill/${w.name}`, { node: w.name, cpu: "3500m" })),
      ...pending,
    ],
  });
}
