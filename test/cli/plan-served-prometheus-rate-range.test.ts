/**
 * `plan --kubeconfig --prometheus` on CPU points whose rate range a node's series covers only in
 * part. Prometheus' rate() extrapolates at most half a scrape interval past the samples it has
 * and divides by the whole range, so a rate over a range the series entered part way through
 * (a node that joined) or left (scrapes that stopped) reads low. Such a point is no measurement:
 * it is left out, and counts as a gap, never as a low value. Before, the pool's lowest point of
 * the 5 minutes, 73 % and 66 % below, read "not met".
 *
 * One real Prometheus holds each worker's kubelet cAdvisor root cgroup at 90 % of its 3800m
 * (3420m) and 2 GiB, as test/support/prometheus-series.ts writes them, scraped every 15 s;
 * each CPU point is a rate over the 2 minutes up to it. With all three workers scraped
 * throughout, the 5 minute `scaleUp.window` is met and a node is added.
 */
import { describe, expect, it } from "@jest/globals";
import { openMetricsOf, type Presence, rootCgroup } from "../support/prometheus-series.ts";
import { WORKERS } from "./served-plan.ts";
import { planOnPrometheus, prometheusForTests, seriesEnd } from "./served-prometheus.ts";

const end = seriesEnd();
/** 90 % of a worker's 3800m. */
const HOT = 3.42;

/** The workers' hour of series up to the end, hot throughout, talos-worker-1 scraped `when`. */
function hotWorkers(when: Presence): string {
  return openMetricsOf(
    WORKERS.flatMap((node, index) =>
      rootCgroup(
        {
          node,
          ip: `192.168.50.2${index}`,
          cores: HOT,
          bytes: 2 * 2 ** 30,
          ...(index === 0 ? { present: when } : {}),
        },
        end - 3600,
      ),
    ),
    end - 3600,
    end,
  );
}

describe("plan --prometheus: every worker scraped throughout", () => {
  const prometheus = prometheusForTests(() => hotWorkers(() => true));

  it("adds a node: the 5 minutes' points are all at 90 %", async () => {
    const run = await planOnPrometheus(prometheus.url, end);
    expect(run.stdout).toContain(
      "utilisation: cpu 90 % (prometheus over 10m, lowest 90 %, p95 90 %)",
    );
    expect(run.stdout).toContain(
      "scale-up check: cpu ≥ 80 % for 5m: met (usage-window, lowest point of the last 5m 90 %)",
    );
    expect(run.stdout).toContain("-worker_count      = 3\n+worker_count      = 4");
  });
});

describe("plan --prometheus: talos-worker-1 joined 4m50s before the plan", () => {
  // Its first sample is 290 s before the end: the rate 4 minutes before the end is over 45 s of
  // samples in its 2 minutes, about 44 % of the level (the pool's point there 73 %). The range
  // of the one 3 minutes before the end begins 15 s before the first sample, within the
  // interval rate() extrapolates over, but the range before it has no sample: both are left
  // out, and the worker's points begin 2 minutes before the end.
  const prometheus = prometheusForTests(() => hotWorkers((t) => t >= end - 290));

  it("takes no point of a rate range the worker's series only partly covers: no evidence, not 'not met'", async () => {
    const run = await planOnPrometheus(prometheus.url, end);
    expect(run.stdout).not.toContain("scale-up check: cpu ≥ 80 % for 5m: not met");
    expect(run.stdout).toContain(
      "scale-up check: cpu ≥ 80 % for 5m: no evidence over the window (usage covers 3m, no history, now 90 %; Prometheus' points do not reach back over the whole window)",
    );
    expect(run.stdout).toContain(
      "utilisation: cpu 90 % (prometheus over 3m, lowest 90 %, p95 90 %)",
    );
    expect(run.stdout).toContain("No changes proposed.");
  });
});

describe("plan --prometheus: talos-worker-1's scrapes stopped 100 s before the plan", () => {
  // Its last sample is 105 s before the end: the rate a minute before the end holds 75 s of
  // samples (about 69 % of the level), the one at the end 15 s (about 19 %: the pool's point
  // there 66 %). Both are left out: the worker's points end 2 minutes before the plan.
  const prometheus = prometheusForTests(() => hotWorkers((t) => t <= end - 100));

  it("reads no low point from the rates that run on after its last sample", async () => {
    const run = await planOnPrometheus(prometheus.url, end);
    expect(run.stdout).not.toContain("scale-up check: cpu ≥ 80 % for 5m: not met");
    expect(run.stdout).toContain(
      "scale-up check: cpu ≥ 80 % for 5m: no evidence over the window (usage covers 10m, no history, now 90 %; Prometheus' points leave a gap of 3m, more than 2m30s)",
    );
    expect(run.stdout).toContain(
      "utilisation: cpu 90 % (prometheus over 10m, lowest 90 %, p95 90 %)",
    );
    expect(run.stdout).toContain("No changes proposed.");
  });
});
