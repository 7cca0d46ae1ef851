import { describe, expect, it } from "@jest/globals";
import { runBacktest } from "../../src/backtest/backtest.ts";
import { loadBacktestInputs } from "../../src/backtest/load-backtest.ts";
import { nodeTimeline } from "../../src/backtest/node-timeline.ts";
import type { OracleSeries } from "../../src/backtest/oracle.ts";
import type { RunSeries } from "../../src/backtest/simulate.ts";
import { loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import { header, pod, trace } from "./trace-helpers.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A run of `steps` one-minute steps where every field is the same at each step. */
function runSeries(
  steps: number,
  fields: { nodes: number; booting?: number; empty?: number; pending?: number },
): RunSeries {
  // Every waiting pod is one a pool node could hold, unless a test says otherwise.
  const fill = (value: number) => new Array<number>(steps).fill(value);
  return {
    stepMs: MINUTE,
    nodes: fill(fields.nodes),
    booting: fill(fields.booting ?? 0),
    empty: fill(fields.empty ?? 0),
    pending: fill(fields.pending ?? 0),
    pendingForPools: fill(fields.pending ?? 0),
  };
}

function oracleSeries(steps: number, nodes: number): OracleSeries {
  return { stepMs: MINUTE, nodes: new Array<number>(steps).fill(nodes), aheadSteps: 0 };
}

describe("nodeTimeline on the tiny trace, worked out by hand", () => {
  // The planner has worker-2 from 00:12 (Ready 00:15) to 00:47; job-1 runs on it 00:15–00:35.
  // The oracle pays for 2 nodes from 00:07 to 00:30.
  async function tiny() {
    const inputs = await loadBacktestInputs(
      "test/fixtures/backtest/tiny.jsonl",
      undefined,
      process.cwd(),
    );
    const report = runBacktest(inputs.trace, inputs.config);
    return nodeTimeline(report.planner.series, report.oracle.series, report.trace.durationMs);
  }

  it("splits the planner's node-hours over the oracle's by what the extra nodes did", async () => {
    const { excess } = await tiny();
    // 00:35–00:47 worker-2 is empty; 00:30–00:35 it runs job-1, which started 5 minutes late;
    // 00:07–00:12 the planner has one node where the oracle has two.
    expect(excess.emptyNodes).toBeCloseTo(12 / 60, 10);
    expect(excess.occupiedNodes).toBeCloseTo(5 / 60, 10);
    expect(excess.bootingNodes).toBe(0);
    expect(excess.belowOracle).toBeCloseTo(-5 / 60, 10);
    // job-2 waited from 00:10, and the oracle's second node boots for it from 00:07.
    expect(excess.belowOracleNoneWaiting).toBe(0);
    expect(excess.total).toBeCloseTo((2100 - 1380) / 3600, 10);
  });

  it("lists the node counts in 5-minute spans for an hour", async () => {
    const { bucketMs, rows } = await tiny();
    expect(bucketMs).toBe(5 * MINUTE);
    expect(rows).toHaveLength(12);
    const row = (minute: number) => rows[minute / 5];
    expect(row(10)).toMatchObject({
      from: 10 * MINUTE,
      to: 15 * MINUTE,
      run: { min: 1, max: 2, pendingPodMinutes: expect.closeTo(5, 10) },
      oracle: { min: 2, max: 2 },
    });
    expect(row(10)?.run.nodeHours).toBeCloseTo((2 + 3 * 2) / 60, 10);
    expect(row(30)).toMatchObject({ run: { min: 2, max: 2 }, oracle: { min: 1, max: 1 } });
    const total = rows.reduce((sum, entry) => sum + entry.run.nodeHours, 0);
    expect(total).toBeCloseTo((3600 + 2100) / 3600, 10);
  });
});

describe("nodeTimeline with a config min below the trace's", () => {
  it("does not say pods waited when the only waiting pod is one no node can hold", () => {
    const loaded = loadRepoConfig(
      [
        "pools:",
        "  - name: workers",
        "    target: { file: terraform/terraform.tfvars, path: worker_count }",
        "    selector: { matchLabels: { pool: workers } }",
        "    min: 1",
        "    max: 4",
      ].join("\n"),
      "c.yml",
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    // Two workers, the trace's min; web fits on one, so the planner goes down to 1 while the
    // oracle keeps 2. A pod whose selector no node carries waits all hour in every run.
    const day = trace(
      header({}, { count: 2, min: 2 }),
      pod(0, "web"),
      pod(0, "typo", { nodeSelector: { pool: "wokers" } }),
    );
    const report = runBacktest(day, loaded.config);
    expect(report.planner.series.pending.every((count) => count === 1)).toBe(true);
    expect(report.planner.series.pendingForPools.every((count) => count === 0)).toBe(true);
    const { excess } = nodeTimeline(
      report.planner.series,
      report.oracle.series,
      report.trace.durationMs,
    );
    expect(excess.belowOracle).toBeLessThan(-0.5);
    expect(excess.belowOracleNoneWaiting).toBe(excess.belowOracle);
  });
});

describe("nodeTimeline", () => {
  it("puts the surplus on empty nodes first, then on booting ones, then on busy ones", () => {
    // 6 nodes against the oracle's 2 for an hour: 1 empty, 2 booting, so 1 busy.
    const { excess } = nodeTimeline(
      runSeries(60, { nodes: 6, booting: 2, empty: 1 }),
      oracleSeries(60, 2),
      HOUR,
    );
    expect(excess).toEqual({
      total: 4,
      emptyNodes: 1,
      bootingNodes: 2,
      occupiedNodes: 1,
      belowOracle: 0,
      belowOracleNoneWaiting: 0,
    });
  });

  it("counts no more empty or booting node-hours than the surplus", () => {
    const { excess } = nodeTimeline(
      runSeries(60, { nodes: 4, booting: 3, empty: 3 }),
      oracleSeries(60, 3),
      HOUR,
    );
    expect(excess).toMatchObject({ total: 1, emptyNodes: 1, bootingNodes: 0, occupiedNodes: 0 });
  });

  it("counts steps under the oracle as negative, whatever the nodes did", () => {
    const { excess } = nodeTimeline(
      runSeries(30, { nodes: 2, empty: 2, pending: 1 }),
      oracleSeries(30, 3),
      30 * MINUTE,
    );
    expect(excess).toEqual({
      total: -0.5,
      emptyNodes: 0,
      bootingNodes: 0,
      occupiedNodes: 0,
      belowOracle: -0.5,
      belowOracleNoneWaiting: 0,
    });
  });

  it("tells the steps under the oracle while no pod waited, then or a boot delay after, apart", () => {
    // Pods wait from 00:20 to 00:30; the oracle boots for them 3 steps ahead, from 00:17.
    const waiting = runSeries(60, { nodes: 2 });
    waiting.pending.fill(3, 20, 30);
    waiting.pendingForPools.fill(3, 20, 30);
    const { excess } = nodeTimeline(waiting, { ...oracleSeries(60, 3), aheadSteps: 3 }, HOUR);
    expect(excess.belowOracle).toBe(-1);
    expect(excess.belowOracleNoneWaiting).toBeCloseTo(-47 / 60, 10);
    expect(excess.total).toBe(-1);
  });

  it("does not take pods that no pool node could hold for pods waiting for nodes", () => {
    // One pod waits all hour, but no pool node would take it: the pool's nodes were not what
    // it waited for.
    const run = runSeries(60, { nodes: 2, pending: 1 });
    run.pendingForPools.fill(0);
    const { excess, rows } = nodeTimeline(run, oracleSeries(60, 3), HOUR);
    expect(excess.belowOracle).toBe(-1);
    expect(excess.belowOracleNoneWaiting).toBe(-1);
    // The timeline's pending column still counts it.
    expect(rows.reduce((sum, row) => sum + row.run.pendingPodMinutes, 0)).toBe(60);
  });

  it("uses hour spans for a day and wider ones for longer traces, never shorter than a step", () => {
    expect(
      nodeTimeline(runSeries(1440, { nodes: 1 }), oracleSeries(1440, 1), 24 * HOUR),
    ).toMatchObject({ bucketMs: HOUR, rows: { length: 24 } });
    expect(
      nodeTimeline(runSeries(2880, { nodes: 1 }), oracleSeries(2880, 1), 48 * HOUR),
    ).toMatchObject({ bucketMs: 2 * HOUR, rows: { length: 24 } });
    const week = 7 * 24 * HOUR;
    expect(nodeTimeline(runSeries(1, { nodes: 1 }), oracleSeries(1, 1), week).bucketMs).toBe(
      8 * HOUR,
    );
    expect(nodeTimeline(runSeries(1, { nodes: 1 }), oracleSeries(1, 1), 5 * week).bucketMs).toBe(
      2 * 24 * HOUR,
    );
    const slow = { ...runSeries(4, { nodes: 1 }), stepMs: 15 * MINUTE };
    expect(nodeTimeline(slow, { ...oracleSeries(4, 1), stepMs: 15 * MINUTE }, HOUR).bucketMs).toBe(
      15 * MINUTE,
    );
  });

  it("counts a shorter last span and step only for their length", () => {
    // 90 s in 60 s steps: the second step lasts 30 s.
    const { rows, excess } = nodeTimeline(
      runSeries(2, { nodes: 2, empty: 1 }),
      oracleSeries(2, 1),
      90_000,
    );
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ from: MINUTE, to: 90_000 });
    expect(rows[1]?.run.nodeHours).toBeCloseTo((2 * 30) / 3600, 10);
    expect(excess.emptyNodes).toBeCloseTo(90 / 3600, 10);
  });

  it("refuses series of different steps", () => {
    expect(() =>
      nodeTimeline(
        runSeries(2, { nodes: 1 }),
        { stepMs: 10_000, nodes: [1, 1], aheadSteps: 0 },
        2 * MINUTE,
      ),
    ).toThrow("the run's step (60000 ms) differs from the oracle's");
  });
});
