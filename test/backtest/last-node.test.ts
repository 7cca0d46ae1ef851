import { describe, expect, it } from "@jest/globals";
import { runBacktest } from "../../src/backtest/backtest.ts";
import { loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import { header, pod, trace } from "./trace-helpers.ts";

/** A pool of 4-cpu nodes labelled pool=workers, min 0, with or without a configured newNode. */
function config(newNode: string[]) {
  const loaded = loadRepoConfig(
    [
      "pools:",
      "  - name: workers",
      "    target: { file: terraform/terraform.tfvars, path: worker_count }",
      "    selector: { matchLabels: { pool: workers } }",
      "    min: 0",
      "    max: 4",
      ...newNode,
    ].join("\n"),
    "c.yml",
  );
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  return loaded.config;
}

// One node; a 20-minute job at 00:00 and another at 01:00, nothing else all day.
const day = trace(
  header({ duration: "2h" }, { count: 1, min: 0 }),
  pod(0, "job", { duration: "20m" }),
  pod("1h", "later", { duration: "20m" }),
);

describe("a min-0 pool over a day", () => {
  it("goes to no node between jobs, and back to one for the next, when newNode sizes a node", () => {
    const { planner } = runBacktest(day, config(['    newNode: { cpu: "4", memory: 16Gi }']));
    // 00:20 the job ends and the node is empty: 1 → 0 (merged 00:22). 01:00 the next job is
    // pending: 0 → 1 (merged 01:02, Ready 01:05, job runs to 01:25), then 1 → 0 (merged 01:27).
    expect(
      planner.pullRequests.map((pr) => [pr.openedAt / 1000, pr.from, pr.desired, pr.mergedAt]),
    ).toEqual([
      [1200, 1, 0, 1_320_000],
      [3600, 0, 1, 3_720_000],
      [5100, 1, 0, 5_220_000],
    ]);
    // 22 minutes, then 01:02 to 01:27.
    expect(planner.metrics.nodeHours).toBeCloseTo((22 + 25) / 60, 10);
  });

  it("keeps its last node all day when a node's shape could not be told without it", () => {
    const { planner } = runBacktest(day, config([]));
    expect(planner.pullRequests).toEqual([]);
    expect(planner.metrics.nodeHours).toBeCloseTo(2, 10);
  });
});
