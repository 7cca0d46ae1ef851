import { describe, expect, it } from "@jest/globals";
import { runBacktest } from "../../src/backtest/backtest.ts";
import { backtestJson } from "../../src/backtest/format-backtest.ts";
import { loadBacktestInputs } from "../../src/backtest/load-backtest.ts";

const FIXTURES = "test/fixtures/backtest";

async function tiny() {
  const inputs = await loadBacktestInputs(`${FIXTURES}/tiny.jsonl`, undefined, process.cwd());
  return runBacktest(inputs.trace, inputs.config);
}

describe("runBacktest on a tiny trace, worked out by hand", () => {
  // One 4-cpu node with web (1 cpu); at 10 min two batch pods (3 cpu, using 2, 20 min each).
  // job-0 fits beside web; job-1 waits.

  it("planner: a node for the pending pod, then one fewer once the jobs are done", async () => {
    const { planner } = await tiny();
    // 00:10 one pod pending → 1 → 2 (merged 00:12, Ready 00:15, job-1 runs 00:15–00:35).
    // job-0 ends 00:30, but cpu is 31 % until job-1 ends at 00:35; 10 minutes below 30 %
    // later, at 00:45, 2 → 1 (merged 00:47).
    expect(
      planner.pullRequests.map((pr) => [pr.openedAt / 1000, pr.from, pr.desired, pr.mergedAt]),
    ).toEqual([
      [600, 1, 2, 720_000],
      [2700, 2, 1, 2_820_000],
    ]);
    expect(planner.metrics.pendingPodMinutes).toBeCloseTo(5, 10);
    // worker-1 all hour, worker-2 from 00:12 to 00:47.
    expect(planner.metrics.nodeHours).toBeCloseTo((3600 + 2100) / 3600, 10);
    expect(planner.metrics).toMatchObject({
      pullRequestsOpened: 2,
      pullRequestsMerged: 2,
      pullRequestsClosed: 0,
      directionChanges: 1,
      podsDisrupted: 0,
      peakNodes: 2,
    });
  });

  it("baseline: raised to its min of 2 at once, then never below 80 % nor allowed below 2", async () => {
    const { baseline } = await tiny();
    expect(baseline.changes).toEqual([{ pool: "workers", at: 120_000, from: 1, to: 2 }]);
    expect(baseline.metrics.pendingPodMinutes).toBe(0);
    expect(baseline.metrics.nodeHours).toBeCloseTo((3600 + 3480) / 3600, 10);
  });

  it("oracle: two nodes from 3 minutes before the jobs until they end", async () => {
    const { oracle } = await tiny();
    expect(oracle.nodeHours).toBeCloseTo((3600 + 1380) / 3600, 10);
    expect(oracle.peakNodes).toBe(2);
  });

  it("checks the goals against those figures", async () => {
    const { goals } = await tiny();
    expect(goals.map((goal) => [goal.name, goal.met])).toEqual([
      ["pending pod-minutes ≤ 25 % of the baseline's", false],
      ["node-hours ≤ 1.10 × the oracle's", false],
      ["PRs opened ≤ the baseline's", false],
    ]);
    expect(goals[1]?.limit).toBeCloseTo((1.1 * 4980) / 3600, 10);
  });

  it("gives the same report for the same input", async () => {
    const first = JSON.stringify(backtestJson(await tiny(), "tiny.yml"));
    const second = JSON.stringify(backtestJson(await tiny(), "tiny.yml"));
    expect(second).toBe(first);
  });
});
