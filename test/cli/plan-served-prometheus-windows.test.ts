/**
 * `plan --kubeconfig --prometheus` judging each check of a level held over its own window, from
 * Prometheus' points: cpu at 90 % for the last 6 minutes adds a node under the default 5 minute
 * `scaleUp.window`, though the 10 minutes Prometheus is asked for began at 50 %; cpu at 90 % for
 * the last 4 minutes adds none, and the check says the lowest point of its 5 minutes and how long
 * the points have been above; an idle pool shrinks on its 10 minute `scaleDown.unneededTime` even
 * when a shorter `--prometheus-window` is asked for, since plan widens it to the longest check;
 * a window shorter than the step, or 0, takes the last point, not the window's average.
 *
 * One real Prometheus holds the last four hours of the kubelet's cAdvisor root cgroup (the
 * layout kube-prometheus-stack stores, as test/support/prometheus-series.ts writes it) for the
 * Talos cluster of served-cluster.ts, a different level before each hour's plan. Workers have
 * 3800m cpu and 15986572Ki memory allocatable; each uses 2 GiB (13 % of the pool's memory)
 * throughout. Each CPU point is a rate over the two minutes up to it, worked out by hand below.
 */
import { describe, expect, it } from "@jest/globals";
import { openMetricsOf, rootCgroup } from "../support/prometheus-series.ts";
import { config, tfvars, WORKERS } from "./served-plan.ts";
import { planOnPrometheus, prometheusForTests, seriesEnd } from "./served-prometheus.ts";

const GiB = 2 ** 30;
// The data ends on a minute boundary a minute ago; `at(hour)` is the end of hour `hour` back.
const end = seriesEnd();
const start = end - 4 * 3600;
const at = (hoursBack: number) => end - hoursBack * 3600;

/** 50 % of a worker's 3800m. */
const HALF = 1.9;
/** 90 %: 3420m a worker, 10260m of the pool's 11400m. */
const HOT = 3.42;
/** 20 %: 760m a worker. */
const IDLE = 0.76;

/** Busy cores of a worker over the scrape interval ending at t. */
function workerCores(t: number): number {
  // Hour 3: hot for the last 6 minutes before the plan, half busy before.
  if (t > at(3) - 360 && t <= at(3)) return HOT;
  // Hour 2: idle for the last half hour before the plan.
  if (t > at(2) - 1800 && t <= at(2)) return IDLE;
  // Hour 1: hot for the last 4 minutes before the plan, half busy before.
  if (t > at(1) - 240 && t <= at(1)) return HOT;
  return HALF;
}

function openMetrics(): string {
  const nodes = [
    { node: "talos-cp-1", cores: 0.5, bytes: 3 * GiB },
    ...WORKERS.map((node) => ({ node, cores: workerCores, bytes: 2 * GiB })),
  ];
  const series = nodes.flatMap((one, index) =>
    rootCgroup({ ...one, ip: `192.168.50.${20 + index}` }, start),
  );
  return openMetricsOf(series, start, end);
}

const prometheus = prometheusForTests(openMetrics);

/** Runs `plan` for the moment `hoursBack` hours before the data's end, with `args` added. */
const planAt = (hoursBack: number, args: string[] = []) =>
  planOnPrometheus(prometheus.url, at(hoursBack), { args });

describe("plan --prometheus: each check over its own window", () => {
  it("adds a node for cpu at 90 % for the last 6 minutes, though the 10 minutes asked for began at 50 %", async () => {
    // The 10 minute window's points: 4 at 50 %, one at 70 % (a rate over a minute at each
    // level), 5 at 90 %: 72 % on average (70 % on Prometheus 2, which counts an 11th point, at
    // 50 %, at the window's start), lowest 50 %. The 5 minute check's own points are the last
    // 5, each a rate over 2 minutes inside the hot 6: all at 90 %. 10260m over 80 % takes
    // 12825m of allocatable: 4 workers (15200m), not 3.
    const run = await planAt(3);
    expect(run.stdout).toMatch(
      /utilisation: cpu 7[02] % \(prometheus over 10m, lowest 50 %, p95 90 %\), requests 2\.6 %/,
    );
    expect(run.stdout).toContain(
      "scale-up check: cpu ≥ 80 % for 5m: met (usage-window, lowest point of the last 5m 90 %)",
    );
    expect(run.stdout).toContain("trigger: cpu 90 % ≥ 80 % for 5m (usage-window): 1 new node");
    expect(run.stdout).toContain("-worker_count      = 3\n+worker_count      = 4");
  });

  it("adds none for cpu at 90 % for the last 4 minutes, and says how long its points have held", async () => {
    // The check's 5 points: 50 % (a rate over the 2 minutes before the rise), 70 % (one minute
    // at each level), then 90 %: the lowest is 50 %, and the points have been at or above 80 %
    // for the last 3 minutes.
    const run = await planAt(1);
    expect(run.stdout).toContain("No changes proposed.");
    expect(run.stdout).toContain(
      "scale-up check: cpu ≥ 80 % for 5m: not met (usage-window, lowest point of the last 5m 50 %; at or above 80 % for the last 3m only)",
    );
    // Nor is the pool idle enough to shrink: the 95th percentile of its 10 minutes is 90 %.
    expect(run.stdout).toContain(
      "scale-down: cpu < 30 % for 10m: not met (usage-window, p95 of the last 10m 90 %)",
    );
  });

  it("judges a 30s scaleUp.window on the last point when the plan's moment is between two steps", async () => {
    // 30 seconds after hour 3's plan no step falls inside the last 30 s: the point of hour 3's
    // very moment, a rate over 2 minutes of the hot 6, is the latest evidence, as it is for the
    // plan made on the step itself; the lowest of the whole 10 minutes (50 %, before the rise)
    // says nothing of the last 30 s.
    const files = {
      tfvars: tfvars(3),
      config: config({ "    removal:": "    scaleUp:\n      window: 30s\n    removal:" }),
    };
    for (const moment of [at(3), at(3) + 30]) {
      const run = await planOnPrometheus(prometheus.url, moment, { files });
      expect(run.stdout).toContain(
        "scale-up check: cpu ≥ 80 % for 30s: met (usage-window, lowest point of the last 30s 90 %)",
      );
      expect(run.stdout).toContain("-worker_count      = 3\n+worker_count      = 4");
    }
  });

  it("takes the last point, not the window's average, as the usage of now for a scaleUp.window of 0", async () => {
    // Hour 3's 10 minutes average 70 % (72 % over Prometheus 3's 10 points); the last point is 90 %.
    const files = {
      tfvars: tfvars(3),
      config: config({ "    removal:": "    scaleUp:\n      window: 0\n    removal:" }),
    };
    const run = await planOnPrometheus(prometheus.url, at(3), { files });
    expect(run.stdout).toContain(
      "scale-up check: cpu ≥ 80 % for 0s: met (usage-window, last point 90 %)",
    );
    expect(run.stdout).toContain("-worker_count      = 3\n+worker_count      = 4");
  });

  it("removes no node on a window's low average when the last point is above scaleDown.cpu and unneededTime is 0", async () => {
    // Two minutes after hour 2's plan the level is back at 50 %: the last point (a rate over the
    // 2 minutes since) is 50 %, the one before 35 %, the 8 (9 on Prometheus 2) before them 20 %:
    // 24 % on average, below 30 %, though the usage of now is not.
    const files = {
      tfvars: tfvars(3),
      config: config({ "    removal:": "    scaleDown:\n      unneededTime: 0\n    removal:" }),
    };
    const run = await planOnPrometheus(prometheus.url, at(2) + 120, { files });
    expect(run.stdout).toMatch(/utilisation: cpu 2[45] % \(prometheus over 10m/);
    expect(run.stdout).toContain(
      "scale-down: cpu < 30 % for 0s: not met (usage-window, last point 50 %)",
    );
    expect(run.stdout).toContain("No changes proposed.");
  });

  it("removes a node after cpu at 20 % for 10 minutes, as over the one window", async () => {
    const run = await planAt(2);
    expect(run.stdout).toContain(
      "pool workers (terraform/terraform.tfvars worker_count): scale down 3 → 2, removing talos-worker-3",
    );
    expect(run.stdout).toContain(
      "utilisation: cpu 20 % (prometheus over 10m, lowest 20 %, p95 20 %), requests 2.6 %",
    );
    expect(run.stdout).toContain(
      "scale-down: cpu < 30 % for 10m: met (usage-window, p95 of the last 10m 20 %)",
    );
    expect(run.stdout).toContain("-worker_count      = 3\n+worker_count      = 2");
  });

  it("asks for the 10 minutes of scaleDown.unneededTime when --prometheus-window asks for 5", async () => {
    const run = await planAt(2, ["--prometheus-window", "5m"]);
    expect(run.stdout).toContain(
      "utilisation: cpu 20 % (prometheus over 10m, lowest 20 %, p95 20 %), requests 2.6 %",
    );
    expect(run.stdout).toContain(
      "scale-down: cpu < 30 % for 10m: met (usage-window, p95 of the last 10m 20 %)",
    );
    expect(run.stdout).toContain("scale down 3 → 2, removing talos-worker-3");
  });

  it("judges the 10 minutes of scaleDown.unneededTime inside a longer --prometheus-window", async () => {
    // 40 minutes before hour 2's plan: the first 10 half busy, the last 30 idle. The window's
    // 95th percentile is 50 %; that of the check's last 10 minutes is 20 %.
    const run = await planAt(2, ["--prometheus-window", "40m"]);
    expect(run.stdout).toMatch(
      /utilisation: cpu 2\d % \(prometheus over 40m, lowest 20 %, p95 50 %\), requests 2\.6 %/,
    );
    expect(run.stdout).toContain(
      "scale-down: cpu < 30 % for 10m: met (usage-window, p95 of the last 10m 20 %)",
    );
  });
});
