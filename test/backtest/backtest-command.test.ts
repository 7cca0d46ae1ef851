import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { backtestCommand } from "../../src/cli/backtest-command.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { formatLocated, InputError } from "../../src/errors.ts";

const TINY = "test/fixtures/backtest/tiny.jsonl";

/** Runs the command as `pr-autoscaler backtest …` would, with captured streams. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    cwd: process.cwd(),
    env: {},
    isTty: false,
  };
  try {
    const code = await backtestCommand.run(args, io);
    return { code, stdout, stderr };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    stderr += `pr-autoscaler backtest: ${formatLocated(error.message, error.location)}\n`;
    return { code: error.exitCode, stdout, stderr };
  }
}

/** Runs the command on the tiny trace made 20 days long, in a temporary folder. */
async function runLong(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "backtest-long-"));
  try {
    const [first, ...rest] = readFileSync(TINY, "utf8").split("\n");
    const headerLine = JSON.parse(first as string) as Record<string, unknown>;
    const file = join(dir, "long.jsonl");
    writeFileSync(file, [JSON.stringify({ ...headerLine, duration: "20d" }), ...rest].join("\n"));
    writeFileSync(join(dir, "tiny.yml"), readFileSync("test/fixtures/backtest/tiny.yml"));
    return { file, ...(await run(["--trace", file, ...args])) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("pr-autoscaler backtest", () => {
  it("prints the comparison table and the goals", async () => {
    const { code, stdout, stderr } = await run(["--trace", TINY]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    const lines = stdout.split("\n");
    expect(lines[0]).toBe(`Backtest of tiny (${TINY}) with test/fixtures/backtest/tiny.yml`);
    expect(lines[1]).toBe("1h in 10s steps; planner every 1m; merge+apply 2m; boot 3m");
    const row = (name: string) =>
      lines
        .find((line) => line.startsWith(name))
        ?.slice(name.length)
        .trim()
        .split(/\s+/);
    expect(row("planner (repo config)")).toEqual(["1.6", "5.0", "2", "2", "0", "1", "0", "2"]);
    expect(row("baseline (seed rules)")).toEqual(["2.0", "0.0", "1", "1", "0", "0", "0", "2"]);
    expect(row("oracle (lower bound)")).toEqual(["1.4", "0.0", "-", "-", "-", "-", "-", "2"]);
    expect(stdout).toContain("  not met  PRs opened ≤ the baseline's: 2 vs 1\n");
  });

  it("names the pods no node of any pool could hold, with their trace lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), "backtest-unplaceable-"));
    try {
      const lines = readFileSync(TINY, "utf8").trimEnd().split("\n");
      const trace = join(dir, "typo.jsonl");
      writeFileSync(
        trace,
        `${[
          ...lines,
          '{"type":"pod","at":"15m","name":"apps/typo","nodeSelector":{"pool":"wokers"},"requests":{"cpu":"100m","memory":"64Mi"}}',
        ].join("\n")}\n`,
      );
      const { code, stdout, stderr } = await run([
        "--trace",
        trace,
        "--config",
        "test/fixtures/backtest/tiny.yml",
      ]);
      expect(stderr).toBe("");
      expect(code).toBe(0);
      expect(stdout).toContain(
        "1 pod fits no node, fixed or of a pool, even alone: it stays pending whatever the autoscaler does, and its waiting counts in the planner's and the baseline's pending pod-minutes alike (the pending goal leaves it out):\n  apps/typo (trace line 4)\n",
      );
      // It waits from 00:15 to the end in both runs: 45 of the planner's 50 pod-minutes (the
      // other 5 are job-1's) and all of the baseline's 45.
      expect(stdout).toContain(
        "  not met  pending pod-minutes ≤ 25 % of the baseline's, without the 45.0 of pods no node can hold: 5.0 vs 0.0\n",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says how many pods were preempted, apart from those a scale-down disrupted", async () => {
    const dir = mkdtempSync(join(tmpdir(), "backtest-preempted-"));
    try {
      // At 12 min a 3-cpu pod of priority 100 finds no room: in both runs it preempts a job.
      const lines = readFileSync(TINY, "utf8").trimEnd().split("\n");
      const trace = join(dir, "critical.jsonl");
      writeFileSync(
        trace,
        `${[
          ...lines,
          '{"type":"pod","at":"12m","name":"apps/critical","priority":100,"requests":{"cpu":"3","memory":"1Gi"}}',
        ].join("\n")}\n`,
      );
      const { code, stdout } = await run([
        "--trace",
        trace,
        "--config",
        "test/fixtures/backtest/tiny.yml",
      ]);
      expect(code).toBe(0);
      expect(stdout).toContain(
        "\nPods preempted by pods of higher priority (not counted as disrupted): planner 1, baseline 1.\n",
      );
      const quiet = await run(["--trace", TINY]);
      expect(quiet.stdout).not.toContain("preempted");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lists every pull request with --timeline", async () => {
    const { stdout } = await run(["--trace", TINY, "--timeline"]);
    expect(stdout).toContain(
      "planner (repo config) pull requests:\n" +
        "  #1 00:10:00 workers 1 → 2, merged 00:12:00 (1 pending pod)\n" +
        "  #2 00:45:00 workers 2 → 1, merged 00:47:00 (underutilised)\n",
    );
    expect(stdout).toContain(
      "baseline (seed rules) pull requests:\n  #1 00:00:00 workers 1 → 2, merged 00:02:00 (below min 2)\n",
    );
  });

  it("prints the pool's nodes against the oracle's over time with --timeline", async () => {
    const { stdout } = await run(["--trace", TINY, "--timeline"]);
    const lines = stdout.split("\n");
    const title = lines.indexOf(
      "Pool nodes over time, planner against oracle (booting machines included; per 5m):",
    );
    expect(title).toBeGreaterThan(0);
    expect(lines[title + 1]?.trim().split(/\s{2,}/)).toEqual([
      "from",
      "planner nodes",
      "node-hours",
      "oracle nodes",
      "node-hours",
      "difference",
      "pending pod-min",
    ]);
    const row = (from: string) =>
      lines
        .find((line) => line.trim().startsWith(from))
        ?.trim()
        .split(/\s+/);
    expect(row("00:10:00")).toEqual(["00:10:00", "1–2", "0.13", "2", "0.17", "-0.03", "5.0"]);
    expect(row("00:35:00")).toEqual(["00:35:00", "2", "0.17", "1", "0.08", "+0.08", "0.0"]);
    expect(stdout).toContain(
      "Planner minus oracle: +0.20 node-hours\n" +
        "  +0.20  Ready nodes without pods (scale-down not due yet, or not allowed)\n" +
        "  +0.00  machines still booting\n" +
        "  +0.08  nodes running pods that the oracle packs onto fewer nodes\n" +
        "  -0.08  fewer nodes than the oracle (pods waited for nodes instead)\n",
    );
  });

  it("does not say pods waited for the nodes a config min below the trace's leaves out", async () => {
    const dir = mkdtempSync(join(tmpdir(), "backtest-min-"));
    try {
      // The trace keeps 2 workers at least, tiny.yml 1: the planner has one node where the
      // oracle pays for two from 00:10 to 00:17, while job-2 waits, and from 00:52 on, while no
      // pod does.
      const [first, ...rest] = readFileSync(TINY, "utf8").split("\n");
      const header = JSON.parse(first ?? "");
      header.pools[0].count = 2;
      header.pools[0].min = 2;
      const trace = join(dir, "min.jsonl");
      writeFileSync(trace, [JSON.stringify(header), ...rest].join("\n"));
      const args = ["--trace", trace, "--config", "test/fixtures/backtest/tiny.yml"];
      const { code, stdout } = await run([...args, "--timeline"]);
      expect(code).toBe(0);
      const lines = stdout.split("\n");
      const total = lines.findIndex((line) => line.startsWith("Planner minus oracle:"));
      const below = lines.slice(total + 4, total + 6).map((line) => line.trim().split(/\s{2,}/));
      expect(below).toEqual([
        ["-0.12", "fewer nodes than the oracle (pods waited for nodes instead)"],
        [
          "-0.13",
          "fewer nodes than the oracle while no pod waited for a pool node (config min below the trace's, or bare pods evicted for good)",
        ],
      ]);
      const json = JSON.parse((await run([...args, "--json"])).stdout);
      const excess = json.timeline.plannerMinusOracle;
      expect(excess.belowOracleNoneWaiting).toBeCloseTo(-8 / 60, 10);
      expect(excess.belowOracle).toBeCloseTo(-15 / 60, 10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("prints JSON with --json, times in seconds", async () => {
    const { code, stdout } = await run(["--trace", TINY, "--json"]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    // The shape docs/backtest.md#json describes.
    expect(Object.keys(report).sort()).toEqual([
      "baseline",
      "config",
      "fixedNodesOnly",
      "goals",
      "options",
      "oracle",
      "planner",
      "timeline",
      "trace",
      "warnings",
    ]);
    expect(Object.keys(report.baseline).sort()).toEqual(["changes", "metrics", "pullRequests"]);
    expect(report.fixedNodesOnly).toEqual({ pendingPodMinutes: 0, pods: [] });
    expect(Object.keys(report.planner.metrics).sort()).toEqual([
      "directionChanges",
      "nodeHours",
      "peakNodes",
      "pendingBeyondMaxPodMinutes",
      "pendingFixedOnlyPodMinutes",
      "pendingPodMinutes",
      "podsDisrupted",
      "podsPreempted",
      "pullRequestsClosed",
      "pullRequestsMerged",
      "pullRequestsOpened",
    ]);
    expect(report.trace).toEqual({
      name: "tiny",
      file: TINY,
      pools: ["workers"],
      durationSeconds: 3600,
    });
    expect(report.options).toEqual({
      stepSeconds: 10,
      intervalSeconds: 60,
      bootDelaySeconds: 180,
      mergeDelaySeconds: 120,
    });
    expect(report.planner.metrics).toMatchObject({ pullRequestsOpened: 2, pendingPodMinutes: 5 });
    expect(report.planner.pullRequests[0]).toEqual({
      number: 1,
      pool: "workers",
      from: 1,
      desired: 2,
      reason: "1 pending pod",
      openedAt: 600,
      mergedAt: 720,
      updates: 0,
      state: "merged",
    });
    expect(report.planner.changes).toEqual([
      { pool: "workers", at: 720, from: 1, to: 2 },
      { pool: "workers", at: 2820, from: 2, to: 1 },
    ]);
    expect(Object.keys(report.oracle).sort()).toEqual([
      "beyondMax",
      "boundedSteps",
      "nodeHours",
      "peakNodes",
      "unplaceable",
      "unplaceablePods",
    ]);
    expect(report.oracle).toMatchObject({ peakNodes: 2, unplaceablePods: 0 });
    expect(report.timeline.spanSeconds).toBe(300);
    expect(report.timeline.rows).toHaveLength(12);
    expect(report.timeline.rows[2]).toMatchObject({
      fromSeconds: 600,
      toSeconds: 900,
      planner: { min: 1, max: 2 },
      oracle: { min: 2, max: 2 },
    });
    expect(report.timeline.plannerMinusOracle.emptyNodes).toBeCloseTo(0.2, 10);
    expect(report.goals).toHaveLength(3);
  });

  it("takes the delays and step from flags, in seconds or as durations", async () => {
    const fast = JSON.parse(
      (
        await run([
          "--trace",
          TINY,
          "--json",
          "--boot-delay",
          "60",
          "--merge-delay",
          "30s",
          "--step",
          "5",
        ])
      ).stdout,
    );
    expect(fast.options).toMatchObject({
      stepSeconds: 5,
      bootDelaySeconds: 60,
      mergeDelaySeconds: 30,
    });
    expect(fast.planner.metrics.pendingPodMinutes).toBeCloseTo(1.5, 10);
    const reviewed = await run([
      "--trace",
      TINY,
      "--timeline",
      "--merge-delay",
      "4h",
      "--interval",
      "2m",
    ]);
    expect(reviewed.stdout).toContain("planner every 2m; merge+apply 4h;");
    // The planner's pull request waits for review until job-0 ends and job-1 takes its room.
    expect(reviewed.stdout).toContain("#1 00:10:00 workers 1 → 2, closed 00:30:00 (1 pending pod)");
    expect(reviewed.stdout).toContain("#1 00:00:00 workers 1 → 2, still open (below min 2)");
  });

  it("says when the planner's checks are too far apart for a window to show", async () => {
    const quiet = await run(["--trace", TINY, "--json"]);
    expect(JSON.parse(quiet.stdout).warnings).toEqual([]);
    const { code, stdout } = await run(["--trace", TINY, "--interval", "6m"]);
    expect(code).toBe(0);
    expect(stdout).toContain(
      "Note: workers: with the planner asked every 6m, its samples are too far apart to show usage staying the same for scaleUp.window 5m (at most 2m30s apart): in this run utilisation never adds a node; use --interval 2m30s or less.",
    );
  });

  it("exits 2 with file:line for a bad trace", async () => {
    const { code, stdout, stderr } = await run([
      "--trace",
      "test/fixtures/backtest/bad-trace.jsonl",
    ]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      'pr-autoscaler backtest: test/fixtures/backtest/bad-trace.jsonl:3: requests.cpu: "two" is not a cpu quantity: write it like 2, 0.5 or 500m\n',
    );
  });

  it("exits 2 for a run of more steps than it takes, before running", async () => {
    // 20 days in 1 s steps would be 1.7 million steps.
    const long = await runLong(["--step", "1"]);
    expect({ code: long.code, stdout: long.stdout }).toEqual({ code: 2, stdout: "" });
    expect(long.stderr).toBe(
      `pr-autoscaler backtest: ${long.file}:1: duration: 20d in 1s steps is 1,728,000 steps, more than the 1,000,000 a run takes: give --step 2s or more, or a shorter trace\n`,
    );
  });

  it("exits 2 with file:line:column for a bad config", async () => {
    const { code, stderr } = await run([
      "--trace",
      TINY,
      "--config",
      "test/fixtures/backtest/bad-config.yml",
    ]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      'pr-autoscaler backtest: test/fixtures/backtest/bad-config.yml:6:10: pools[0].min: expected a number, got the string "2"\n',
    );
  });

  it("exits 2 on usage errors", async () => {
    const cases: [string[], string][] = [
      [[], "--trace FILE is required"],
      [
        ["--trace", TINY, "--step", "fast"],
        '--step expects seconds or a duration such as 90s or 3m, got "fast"',
      ],
      [["--trace", TINY, "--step", "0"], "--step must be at least 1s"],
      [
        ["--trace", TINY, "--step", "2m", "--interval", "5m"],
        "--step 2m is longer than the 1m between the baseline's checks, and an autoscaler is asked at most once a step: give --step 1m or less",
      ],
      [
        ["--trace", TINY, "--interval", "5s"],
        "--interval 5s is shorter than the step (10s), and the planner is asked at most once a step: give --step 5s or less, or a longer --interval",
      ],
      [["--trace", TINY, "--speed", "9"], "Unknown option '--speed'"],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await run(args);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr).toContain(message);
    }
  });

  it("describes itself for the command list and --help", () => {
    expect(backtestCommand.name).toBe("backtest");
    expect(backtestCommand.usage).toContain("--trace TRACE.jsonl");
    expect(backtestCommand.usage).toContain("docs/backtest.md");
    // A pull request is never merged at the step that opens it, even with no delay.
    expect(backtestCommand.usage).toContain("0 merges at the next step");
  });
});
