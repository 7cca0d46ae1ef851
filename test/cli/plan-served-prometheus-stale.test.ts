/**
 * `plan --kubeconfig --prometheus` when one worker's scrapes stopped 4 minutes before the plan:
 * what an overloaded node that fails its scrapes, or a scrape target gone down, looks like.
 * Its CPU points (each a rate over the 2 minutes up to its step) end with its last sample, 4
 * minutes before the plan (the rates after it are over ranges its samples stop inside, which
 * read low, and are left out), so the pool's points do too: the minutes since are not seen, and
 * a scale-down is not made on them, however quiet the window before was and however few points
 * a gap inside it allows.
 *
 * One real Prometheus holds the last hour of each worker's kubelet cAdvisor root cgroup, idle
 * at 0.5 cores and 2 GiB (13 % of 3800m and of the memory allocatable), as
 * test/support/prometheus-series.ts writes them; talos-worker-1's samples stop 4 minutes before
 * the end.
 */
import { describe, expect, it } from "@jest/globals";
import { openMetricsOf, rootCgroup } from "../support/prometheus-series.ts";
import { WORKERS } from "./served-plan.ts";
import { planOnPrometheus, prometheusForTests, seriesEnd } from "./served-prometheus.ts";

const end = seriesEnd();
const stopped = end - 240;

/**
 * The workers' hour of series up to the end at `cores` each (idle by default),
 * talos-worker-1's samples stopping at `at`.
 */
function firstStoppingAt(at: number, cores = 0.5): string {
  return openMetricsOf(
    WORKERS.flatMap((node, index) =>
      rootCgroup(
        {
          node,
          ip: `192.168.50.2${index}`,
          cores,
          bytes: 2 * 2 ** 30,
          ...(index === 0 ? { present: (t: number) => t <= at } : {}),
        },
        end - 3600,
      ),
    ),
    end - 3600,
    end,
  );
}

const prometheus = prometheusForTests(() => firstStoppingAt(stopped));

describe("plan --prometheus: a worker whose scrapes stopped", () => {
  it("removes the idle pool's highest worker while every scrape is still in", async () => {
    const run = await planOnPrometheus(prometheus.url, stopped);
    expect(run.stdout).toContain("scale down 3 → 2, removing talos-worker-3");
    expect(run.stderr).not.toContain("prometheus-window-partial");
  });

  it("removes no node 4 minutes later: the last point is too old to show usage stayed low", async () => {
    const run = await planOnPrometheus(prometheus.url, end);
    expect(run.stdout).toContain("No changes proposed.");
    // Waiting does not cover the window: the points have to reach its end.
    expect(run.stdout).toContain(
      "hold: cpu < 30 % not seen up to now: Prometheus' last point is 4m old; no node is removed until its points reach the end, and an open pull request is left as it is",
    );
    expect(run.stdout).not.toContain("not yet over the window");
    expect(run.stdout).toContain(
      "scale-down: cpu < 30 % for 10m: no evidence over the window (usage covers 6m, no history, now 13 %; Prometheus' last point is 4m old, more than 2m: its scrapes may have stopped, and staying below is not seen up to now)",
    );
    // The gaps the window allows hold the minutes since, so the node's points are said to cover
    // it; the warning names the node whose points stopped, not only the pool.
    expect(run.stderr).toMatch(
      /warning: node\/talos-worker-1: Prometheus at \S+ has usage for node talos-worker-1 over the 600 s window ending [^,]+, but its last CPU point, at [^,]+ UTC, is 240 s old, more than 120 s: its scrapes may have stopped; its usage is no evidence of a level held below up to now \[prometheus-window-partial\]/,
    );
    expect(run.stderr).not.toMatch(/node\/talos-worker-[23]: .*prometheus-window-partial/);
  });
});

describe("plan --prometheus: a worker whose scrapes stopped 8 minutes ago", () => {
  const longAgo = prometheusForTests(() => firstStoppingAt(end - 480));

  it("names the node in one warning, with the age of each resource's last point", async () => {
    // CPU's last point, at the last sample, is 8 minutes old; memory, read as last scraped, lasts out Prometheus'
    // 5 minute lookback, 3 minutes before the end: both are too old.
    const run = await planOnPrometheus(longAgo.url, end);
    expect(run.stdout).toContain("No changes proposed.");
    expect(run.stderr).toMatch(
      /, and its last CPU point, at [^,]+, is 480 s old, and its last memory point, at [^,]+, is 180 s old, more than 120 s: its scrapes may have stopped; its usage is no evidence of a level held over the window \[prometheus-window-partial\]/,
    );
    expect(run.stderr.split("its scrapes may have stopped")).toHaveLength(2);
  });
});

describe("plan --prometheus: a busy worker whose scrapes stopped", () => {
  const busy = prometheusForTests(() => firstStoppingAt(stopped, 3.5));

  it("says cpu did not stay low, rather than hold for the window as if it might have", async () => {
    // 92 % at the 95th percentile up to 3 minutes ago: the window is not held below whatever
    // came since, so no hold leaves an open decrease waiting on it.
    const run = await planOnPrometheus(busy.url, end);
    expect(run.stdout).toContain("No changes proposed.");
    expect(run.stdout).toMatch(
      /scale-down: cpu < 30 % for 10m: not met \(usage-window, p95 of the last 10m \d+ %\)/,
    );
    expect(run.stdout).not.toContain("hold: cpu < 30 %");
  });
});
