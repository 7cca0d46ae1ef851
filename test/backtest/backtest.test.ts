import { describe, expect, it } from "@jest/globals";
import {
  fixedNodesOnly,
  runBacktest,
  unavoidablePendingPodMinutes,
  withConfigMax,
} from "../../src/backtest/backtest.ts";
import { backtestJson, formatBacktest } from "../../src/backtest/format-backtest.ts";
import { loadBacktestInputs } from "../../src/backtest/load-backtest.ts";
import { loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import { header, pod, trace } from "./trace-helpers.ts";

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

describe("the pending goal", () => {
  const config = () => {
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
    return loaded.config;
  };
  // One 4-cpu node with web; a pod whose selector no node carries (seen at the 20 s step,
  // deleted at the 1810 s one) and one bigger than any node (from 00:10 to the end).
  const day = trace(
    header(),
    pod(0, "web"),
    pod(15, "typo", { nodeSelector: { pool: "wokers" } }),
    pod("10m", "huge", { requests: { cpu: "8", memory: "1Gi" } }),
    { type: "delete", at: "30m5s", pod: "default/typo" },
  );
  const unavoidable = (1790 + 3000) / 60;

  it("counts the waiting of pods no node can hold, from the step each is seen to its deletion", () => {
    expect(unavoidablePendingPodMinutes(day, 10_000)).toBeCloseTo(unavoidable, 10);
    // With 7 s steps typo is seen at 21 s and deleted at 1806 s, huge seen at 602 s.
    expect(unavoidablePendingPodMinutes(day, 7_000)).toBeCloseTo((1785 + 2998) / 60, 10);
  });

  it("leaves that waiting out of both runs' figures, which still count it", () => {
    const report = runBacktest(day, config());
    expect(report.planner.metrics.pendingPodMinutes).toBeCloseTo(unavoidable, 10);
    expect(report.baseline.metrics.pendingPodMinutes).toBeCloseTo(unavoidable, 10);
    expect(report.goals[0]).toMatchObject({
      name: "pending pod-minutes ≤ 25 % of the baseline's, without the 79.8 of pods no node can hold",
      value: 0,
      limit: 0,
      met: true,
    });
  });

  it("keeps every waiting pod when none is beyond every node", () => {
    const burst = trace(
      header(),
      pod(0, "job", { count: 5, requests: { cpu: "1", memory: "1Gi" } }),
    );
    expect(unavoidablePendingPodMinutes(burst, 10_000)).toBe(0);
    const report = runBacktest(burst, config());
    expect(report.goals[0]?.name).toBe("pending pod-minutes ≤ 25 % of the baseline's");
    expect(report.goals[0]?.value).toBe(report.planner.metrics.pendingPodMinutes);
    expect(report.fixedNodesOnly).toEqual({ pendingPodMinutes: 0, pods: [] });
  });

  // A 2-core fixed node `nas` that index (20 minutes) and the backups select. The scheduler
  // tries fixed nodes first, so web takes one core of it and index the other: backup-0 waits
  // until 00:20, backup-1 all hour, whatever the pools have.
  const nas = { name: "nas", cpu: "2", memory: "8Gi", labels: { storage: "nas" } };
  const backups = trace(
    header({ nodes: [nas] }),
    pod(0, "web"),
    pod(0, "index", { nodeSelector: { storage: "nas" }, duration: "20m" }),
    pod(0, "backup", { count: 2, nodeSelector: { storage: "nas" } }),
  );

  it("counts the waiting of pods only fixed nodes can hold, with those nodes to themselves", () => {
    expect(fixedNodesOnly(backups, 10_000)).toEqual({
      pendingPodMinutes: 80,
      pods: [
        { pod: "default/backup-0", line: 4 },
        { pod: "default/backup-1", line: 4 },
      ],
    });
    // A pod a pool would take as well goes there when the fixed node is full, rather than wait
    // for its room: late arrives at 00:05 and backup-0 still gets index's core at 00:20.
    const late = trace(
      header({ nodes: [nas] }),
      pod(0, "web"),
      pod(0, "index", { nodeSelector: { storage: "nas" }, duration: "20m" }),
      pod(0, "backup", { count: 2, nodeSelector: { storage: "nas" } }),
      pod("5m", "late"),
    );
    expect(fixedNodesOnly(late, 10_000).pendingPodMinutes).toBe(80);
    // A pod a pool node would take as well is not one of them.
    const flexible = trace(header({ nodes: [nas] }), pod(0, "web", { count: 12 }));
    expect(fixedNodesOnly(flexible, 10_000)).toEqual({ pendingPodMinutes: 0, pods: [] });
  });

  it("leaves the waiting of pods only fixed nodes can hold out of both runs, and names them", () => {
    const report = runBacktest(backups, config());
    expect(report.planner.metrics.pendingPodMinutes).toBeCloseTo(80, 10);
    expect(report.baseline.metrics.pendingPodMinutes).toBeCloseTo(80, 10);
    expect(report.goals[0]).toMatchObject({
      name: "pending pod-minutes ≤ 25 % of the baseline's, without the 80.0 of pods only fixed nodes can hold",
      value: 0,
      limit: 0,
      met: true,
    });
    expect(formatBacktest(report, "c.yml")).toContain(
      [
        "2 pods that only fixed nodes can hold waited for room there: no pool's node takes them, so they wait whatever the autoscaler does, and their waiting while every other pod finds a node at once (80.0 pod-minutes) counts in the planner's and the baseline's pending pod-minutes alike (the pending goal leaves it out, no more of it than they waited in each run):",
        "  default/backup-0 (trace line 4)",
        "  default/backup-1 (trace line 4)",
      ].join("\n"),
    );
    expect(backtestJson(report, "c.yml")).toMatchObject({
      fixedNodesOnly: {
        pendingPodMinutes: 80,
        pods: [
          { pod: "default/backup-0", line: 4 },
          { pod: "default/backup-1", line: 4 },
        ],
      },
    });
  });

  it("leaves out no more of it than those pods waited in the run", () => {
    // job takes nas until 00:05. f0 waits for it (worker-1 is full) and runs there from 00:05 to
    // 00:10; the planner's worker-2 is Ready at 00:06, so f1 (00:07) goes there, and x (00:08)
    // takes nas once f0 is done: 2 minutes. With the pools always having room, f0 goes to them
    // at once, f1 takes nas for good, and x waits the 52 minutes to the end.
    const order = trace(
      header({ nodes: [nas] }),
      pod(0, "web", { requests: { cpu: "4", memory: "1Gi" } }),
      pod(0, "job", { requests: { cpu: "2", memory: "1Gi" }, duration: "5m" }),
      pod("1m", "f0", { duration: "5m" }),
      pod("7m", "f1", { requests: { cpu: "2", memory: "1Gi" } }),
      pod("8m", "x", { requests: { cpu: "2", memory: "1Gi" }, nodeSelector: { storage: "nas" } }),
    );
    expect(fixedNodesOnly(order, 10_000).pendingPodMinutes).toBeCloseTo(52, 10);
    const report = runBacktest(order, config());
    expect(report.planner.pullRequests[0]).toMatchObject({ openedAt: 60_000, desired: 2 });
    expect(report.planner.metrics.pendingFixedOnlyPodMinutes).toBeCloseTo(2, 10);
    expect(report.planner.metrics.pendingPodMinutes).toBeCloseTo(6, 10);
    // f0's 4 minutes stay in.
    expect(report.goals[0]?.name).toBe(
      "pending pod-minutes ≤ 25 % of the baseline's, without the 2.0 of pods only fixed nodes can hold",
    );
    expect(report.goals[0]?.value).toBeCloseTo(4, 10);
  });

  it("names both kinds of waiting no autoscaler can spare in the goal", () => {
    const both = trace(
      header({ nodes: [nas] }),
      pod(0, "web"),
      pod(0, "index", { nodeSelector: { storage: "nas" }, duration: "20m" }),
      pod(0, "backup", { count: 2, nodeSelector: { storage: "nas" } }),
      pod("10m", "huge", { requests: { cpu: "8", memory: "1Gi" } }),
    );
    const report = runBacktest(both, config());
    expect(report.goals[0]).toMatchObject({
      name: "pending pod-minutes ≤ 25 % of the baseline's, without the 50.0 of pods no node can hold and the 80.0 of pods only fixed nodes can hold",
      value: 0,
      met: true,
    });
  });
});

describe("a pod pinned by hostname to a pool node beyond the config's max", () => {
  const config = (max: number) => {
    const loaded = loadRepoConfig(
      [
        "pools:",
        "  - name: workers",
        "    target: { file: terraform/terraform.tfvars, path: worker_count }",
        "    selector: { matchLabels: { pool: workers } }",
        "    min: 1",
        `    max: ${max}`,
      ].join("\n"),
      "c.yml",
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    return loaded.config;
  };
  // One 4-cpu node with web; a pod pinned to worker-5 all hour. With max 4 no run of the config
  // has worker-5; the baseline (min 2) adds worker-2 and no more.
  const pinned = trace(
    header(),
    pod(0, "web"),
    pod(0, "local", { nodeSelector: { "kubernetes.io/hostname": "worker-5" } }),
  );

  it("is left out by the oracle and out of both runs' pending goal, and named", () => {
    const report = runBacktest(pinned, config(4));
    expect(report.planner.metrics.pendingPodMinutes).toBeCloseTo(60, 10);
    expect(report.planner.metrics.pendingBeyondMaxPodMinutes).toBeCloseTo(60, 10);
    expect(report.baseline.metrics.pendingBeyondMaxPodMinutes).toBeCloseTo(60, 10);
    // One node all hour, not five for a node the config never has.
    expect(report.oracle.nodeHours).toBeCloseTo(1, 10);
    expect(report.oracle.unplaceable).toEqual([]);
    expect(report.oracle.beyondMax).toEqual([
      { pod: "default/local", line: 3, node: "worker-5", pool: "workers", max: 4 },
    ]);
    expect(report.goals[0]).toMatchObject({
      name: "pending pod-minutes ≤ 25 % of the baseline's, without the 60.0 of pods pinned by hostname to a node beyond the config's max",
      value: 0,
      limit: 0,
      met: true,
    });
    expect(formatBacktest(report, "c.yml")).toContain(
      [
        "1 pod is pinned by hostname to a pool node beyond the config's max: no run of this config has that node, so the oracle adds none for it, and what it waited (planner 60.0, baseline 60.0 pod-minutes) counts in the table's pending pod-minutes but not in the pending goal:",
        "  default/local (trace line 3): worker-5, where workers has max 4",
      ].join("\n"),
    );
    expect(backtestJson(report, "c.yml")).toMatchObject({
      oracle: { beyondMax: [{ pod: "default/local", node: "worker-5" }] },
      planner: { metrics: { pendingBeyondMaxPodMinutes: 60 } },
    });
    // Not counted as a pod no node can hold: a run may go beyond the config's max.
    expect(unavoidablePendingPodMinutes(withConfigMax(pinned, config(4)), 10_000)).toBe(0);
  });

  it("within the max is the autoscaler's to serve, and the oracle's to pay for", () => {
    const report = runBacktest(pinned, config(5));
    expect(report.oracle.beyondMax).toEqual([]);
    expect(report.oracle.peakNodes).toBe(5);
    expect(report.planner.metrics.pendingBeyondMaxPodMinutes).toBe(0);
    expect(report.goals[0]?.name).toBe("pending pod-minutes ≤ 25 % of the baseline's");
    expect(report.goals[0]?.value).toBeCloseTo(report.planner.metrics.pendingPodMinutes, 10);
  });

  it("leaves out what it waited in each run: the baseline, not held to the max, may run it", () => {
    // Four busy nodes: the baseline adds worker-5 (asked at 0, merged 2m, Ready 5m), where the
    // pinned pod runs from then on; the planner, at its max of 4, never has it.
    const busy = trace(
      header({}, { count: 4 }),
      pod(0, "job", { count: 4, requests: { cpu: "3.5", memory: "1Gi" }, usage: { cpu: "3.9" } }),
      pod(0, "local", { nodeSelector: { "kubernetes.io/hostname": "worker-5" } }),
    );
    const report = runBacktest(busy, config(4));
    expect(report.baseline.changes[0]).toMatchObject({ from: 4, to: 5, at: 120_000 });
    expect(report.baseline.metrics.pendingBeyondMaxPodMinutes).toBeCloseTo(5, 10);
    expect(report.planner.metrics.pendingBeyondMaxPodMinutes).toBeCloseTo(60, 10);
    expect(report.goals[0]).toMatchObject({
      name: "pending pod-minutes ≤ 25 % of the baseline's, without the planner's 60.0 and the baseline's 5.0 of pods pinned by hostname to a node beyond the config's max",
      value: report.planner.metrics.pendingPodMinutes - 60,
    });
    expect(report.goals[0]?.limit).toBeCloseTo(
      0.25 * (report.baseline.metrics.pendingPodMinutes - 5),
      10,
    );
  });

  it("on a node the pool starts with is not beyond it", () => {
    const started = trace(
      header({}, { count: 5 }),
      pod(0, "local", { nodeSelector: { "kubernetes.io/hostname": "worker-5" } }),
    );
    const report = runBacktest(started, config(4));
    expect(report.oracle.beyondMax).toEqual([]);
    expect(report.oracle.peakNodes).toBe(5);
  });
});

describe("runBacktest on a pool that starts below its min", () => {
  it("never has the planner under the oracle's node-hours", () => {
    const loaded = loadRepoConfig(
      [
        "pools:",
        "  - name: workers",
        "    target: { file: terraform/terraform.tfvars, path: worker_count }",
        "    selector: { matchLabels: { pool: workers } }",
        "    min: 3",
        "    max: 4",
      ].join("\n"),
      "c.yml",
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    // One node of three at the start: the planner raises the pool and waits out a merge.
    const low = trace(
      header({}, { count: 1, min: 3 }),
      pod(0, "web", { requests: { cpu: "1", memory: "1Gi" } }),
    );
    const report = runBacktest(low, loaded.config);
    expect(report.planner.changes[0]).toMatchObject({ from: 1, to: 3 });
    expect(report.planner.metrics.nodeHours).toBeGreaterThanOrEqual(report.oracle.nodeHours);
    // The oracle pays for the one node until the merge (2 minutes), then for three.
    expect(report.oracle.nodeHours).toBeCloseTo(3 - (2 * 2) / 60, 10);
  });
});

describe("runBacktest warnings", () => {
  const config = (min: number) => {
    const loaded = loadRepoConfig(
      [
        "pools:",
        "  - name: workers",
        "    target: { file: terraform/terraform.tfvars, path: worker_count }",
        "    selector: { matchLabels: { pool: workers } }",
        `    min: ${min}`,
        "    max: 4",
      ].join("\n"),
      "c.yml",
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    return loaded.config;
  };

  it("say when the config's min is below the trace's, which the oracle keeps", () => {
    const day = trace(header({}, { count: 2, min: 2 }), pod(0, "web"));
    expect(runBacktest(day, config(2)).warnings).toEqual([]);
    expect(runBacktest(day, config(1)).warnings).toEqual([
      "workers: the config's min 1 is below the trace's min 2, which the oracle never goes below: the planner can come in under the oracle's node-hours; give the pool \"min\": 1 in the trace to compare them",
    ]);
  });

  it("say at how many steps the oracle could only prove a bound", () => {
    // 40 pods of 200 to 399 millicores on 1-core nodes: their sum (12.58 cores) says 13 nodes,
    // first-fit decreasing needs 14, and no search within its branches settles which.
    const sizes = [
      200, 217, 320, 378, 393, 237, 302, 279, 252, 348, 217, 312, 316, 361, 318, 302, 375, 399, 345,
      393, 259, 285, 379, 330, 380, 392, 232, 371, 381, 258, 387, 282, 261, 302, 279, 357, 337, 308,
      318, 218,
    ];
    const hard = trace(
      header({ duration: "10m" }, { count: 13, min: 1, node: { cpu: "1", memory: "16Gi" } }),
      ...sizes.map((cpu, i) => pod(0, `p${i}`, { requests: { cpu: `${cpu}m`, memory: "1Mi" } })),
    );
    const report = runBacktest(hard, config(1));
    expect(report.oracle.boundedSteps).toBe(60);
    expect(report.oracle.nodeHours).toBeCloseTo(13 / 6, 10);
    expect(report.warnings).toEqual([
      "at 60 of 60 steps the oracle's count is a lower bound it proved, not a packing it found (its search for the fewest nodes ran out of branches): there no autoscaler may reach it",
    ]);
  });
});
