import { describe, expect, it } from "@jest/globals";
import {
  averageCpuPercent,
  baselineAutoscaler,
  baselineIntent,
  SEED_BASELINE,
} from "../../src/backtest/baseline-autoscaler.ts";
import { simulate } from "../../src/backtest/simulate.ts";
import type { PoolRepoFacts } from "../../src/planning/node-plan-input.ts";
import { node } from "../support/snapshot-builder.ts";
import { header, pod, trace } from "./trace-helpers.ts";

const NOW = new Date("2025-06-06T12:00:00.000Z");

/** `count` 4-cpu nodes each using `cpu`. */
function busy(count: number, cpu: string) {
  return Array.from({ length: count }, (_, i) => node(`worker-${i + 1}`, { usage: { cpu } }));
}

function facts(current: number, extra: Partial<PoolRepoFacts> = {}): PoolRepoFacts {
  return { pool: "workers", currentValue: current, ...extra };
}

function secondsAgo(seconds: number): string {
  return new Date(NOW.getTime() - seconds * 1000).toISOString();
}

describe("baselineIntent: the seed rules", () => {
  it("adds one node above 80 % average cpu, not at 80 %", () => {
    expect(baselineIntent(facts(3), busy(3, "3300m"), NOW, SEED_BASELINE)).toEqual({
      pool: "workers",
      action: "open",
      desired: 4,
      reason: "average cpu 83 %",
    });
    expect(baselineIntent(facts(3), busy(3, "3200m"), NOW, SEED_BASELINE)).toBeUndefined();
  });

  it("removes one node below 30 %, not at 30 %", () => {
    expect(baselineIntent(facts(3), busy(3, "1100m"), NOW, SEED_BASELINE)).toMatchObject({
      desired: 2,
    });
    expect(baselineIntent(facts(3), busy(3, "1200m"), NOW, SEED_BASELINE)).toBeUndefined();
  });

  it("averages the nodes' percentages", () => {
    const nodes = [
      node("a", { cpu: "4", usage: { cpu: "4" } }),
      node("b", { cpu: "8", usage: { cpu: "0" } }),
    ];
    expect(averageCpuPercent(nodes)).toBe(50);
    expect(averageCpuPercent([node("a")])).toBeUndefined();
    expect(averageCpuPercent([])).toBeUndefined();
  });

  it("stays within min 2 and max 6, and brings a count outside them back", () => {
    expect(baselineIntent(facts(6), busy(6, "4"), NOW, SEED_BASELINE)).toBeUndefined();
    expect(baselineIntent(facts(2), busy(2, "0"), NOW, SEED_BASELINE)).toBeUndefined();
    expect(baselineIntent(facts(1), busy(1, "2"), NOW, SEED_BASELINE)).toMatchObject({
      desired: 2,
    });
    expect(baselineIntent(facts(8), busy(8, "2"), NOW, SEED_BASELINE)).toMatchObject({
      desired: 6,
    });
  });

  it("waits 300 s after the last merged change, whichever way it went", () => {
    const recent = facts(3, { lastChange: { at: secondsAgo(299), direction: "down" } });
    expect(baselineIntent(recent, busy(3, "4"), NOW, SEED_BASELINE)).toBeUndefined();
    const old = facts(3, { lastChange: { at: secondsAgo(300), direction: "down" } });
    expect(baselineIntent(old, busy(3, "4"), NOW, SEED_BASELINE)).toMatchObject({ desired: 4 });
  });

  it("does nothing while its pull request is open or usage is unknown", () => {
    const open = facts(3, { openPullRequest: { number: 1, desired: 4 } });
    expect(baselineIntent(open, busy(3, "4"), NOW, SEED_BASELINE)).toBeUndefined();
    expect(baselineIntent(facts(3), [node("worker-1")], NOW, SEED_BASELINE)).toBeUndefined();
  });
});

describe("baselineAutoscaler in the simulation", () => {
  it("removes a node whose pods fit nowhere else: they are evicted and wait", () => {
    // Three nodes, each holding one 3-cpu pod that uses almost nothing: 2.5 % average.
    const day = trace(
      header({}, { count: 3 }),
      pod(0, "a", { requests: { cpu: "3" }, usage: { cpu: "100m" } }),
      pod(0, "b", { requests: { cpu: "3" }, usage: { cpu: "100m" } }),
      pod(0, "c", { requests: { cpu: "3" }, usage: { cpu: "100m" } }),
    );
    const result = simulate(day, baselineAutoscaler());
    // At 0 s it opens 3 → 2 (merged at 120 s); at 2 nodes it is at its min.
    expect(result.changes).toEqual([{ pool: "workers", at: 120_000, from: 3, to: 2 }]);
    expect(result.metrics.podsDisrupted).toBe(1);
    expect(result.metrics.pendingPodMinutes).toBeCloseTo((3600 - 120) / 60, 10);
  });

  it("averages all the cluster's nodes, the control plane and fixed nodes included", () => {
    // Two workers at 90 % (3.6 of 4 cpu), a control plane and a fixed node idle: 45 % on
    // average, so no raise, where the pool's own nodes alone would be above 80 %.
    const cluster = {
      nodes: [
        {
          name: "cp-1",
          controlPlane: true,
          cpu: "4",
          memory: "8Gi",
          taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
        },
        { name: "nas", cpu: "4", memory: "8Gi", labels: { role: "nas" } },
      ],
    };
    const workers = { count: 2, requests: { cpu: "3" }, usage: { cpu: "3600m" } };
    const hot = trace(
      header(cluster, { count: 2, min: 2 }),
      pod(0, "hot", { ...workers, nodeSelector: { pool: "workers" } }),
    );
    expect(simulate(hot, baselineAutoscaler()).pullRequests).toEqual([]);
    // With those two busy as well, the average is 90 %: one node more.
    const busyToo = trace(
      header(cluster, { count: 2, min: 2 }),
      pod(0, "hot", { ...workers, nodeSelector: { pool: "workers" } }),
      pod(0, "db", { ...workers, count: 1, nodeSelector: { role: "nas" } }),
      pod(0, "etcd", { ...workers, count: 1, tolerations: [{ operator: "Exists" }] }),
    );
    expect(simulate(busyToo, baselineAutoscaler()).pullRequests[0]).toMatchObject({
      openedAt: 0,
      from: 2,
      desired: 3,
      reason: "average cpu 90 %",
    });
  });

  it("adds one node at a time, 300 s after each merged change, up to 6", () => {
    // Every node busy at 100 % while pods wait: a raise at 0 s (merged 120 s), the next at
    // 420 s (merged 540 s), the last at 840 s; six is its max.
    const day = trace(
      header({}, { count: 3 }),
      pod(0, "hot", { count: 3, requests: { cpu: "3" }, usage: { cpu: "4" } }),
      pod(0, "more", { count: 2, requests: { cpu: "3" }, usage: { cpu: "4" } }),
    );
    const result = simulate(day, baselineAutoscaler());
    expect(result.pullRequests.map((pr) => [pr.openedAt / 1000, pr.from, pr.desired])).toEqual([
      [0, 3, 4],
      [420, 4, 5],
      [840, 5, 6],
    ]);
  });
});
