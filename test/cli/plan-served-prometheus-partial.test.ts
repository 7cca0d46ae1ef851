/**
 * `plan --kubeconfig --prometheus` through a query frontend that answers with Prometheus'
 * `warnings` field (a store or remote read that did not answer, as Thanos and remote storage
 * report a partial response). Which series or points are missing is not said: node-exporter's
 * CPUs summed without some read low, and points missing inside the window go unseen. So the
 * answer is not taken: the plan falls back to metrics-server's one sample, which is no window,
 * and removes no node, where the same answer without the warning removes one. When only the
 * container queries' answers carry it, their answers alone are left out: node scaling rests on
 * the nodes' usage.
 *
 * One real Prometheus holds the last hour of each worker's kubelet cAdvisor root cgroup, idle
 * at 0.5 cores and 2 GiB (13 % of 3800m and of the memory allocatable), as
 * test/support/prometheus-series.ts writes them; a proxy in front of it passes its answers on,
 * adding the warning a Thanos querier gives for a store that did not answer.
 */
import { describe, expect, it } from "@jest/globals";
import type { PlanJson } from "./served-cluster.ts";
import { cluster, poolDecision, serveForTest } from "./served-plan.ts";
import {
  frontendForTests,
  isoAt,
  prometheusForTests,
  seriesEnd,
  steadyWorkers,
} from "./served-prometheus.ts";

const end = seriesEnd();
const prometheus = prometheusForTests(() => steadyWorkers(0.5, 2 * 2 ** 30, end));

const STORE_DOWN = "partial response: store 10.0.0.9:10901 unavailable";

/** A query frontend before the real Prometheus that adds the warning to every answer. */
const frontend = frontendForTests(prometheus, async (_query, passOn) => {
  const upstream = await passOn();
  const answer = JSON.parse(upstream.body) as Record<string, unknown>;
  return { status: upstream.status, body: JSON.stringify({ ...answer, warnings: [STORE_DOWN] }) };
});

/** One that adds it to the container queries' answers only. */
const containersOnly = frontendForTests(prometheus, async (query, passOn) => {
  const upstream = await passOn();
  if (!query.includes("by (namespace, pod, container)")) return upstream;
  const answer = JSON.parse(upstream.body) as Record<string, unknown>;
  return { status: upstream.status, body: JSON.stringify({ ...answer, warnings: [STORE_DOWN] }) };
});

describe("plan --prometheus: an answer Prometheus says may be incomplete", () => {
  it("removes the idle pool's highest worker on the complete answer", async () => {
    const served = await serveForTest(cluster());
    const run = await served.run(["--prometheus", prometheus.url, "--now", isoAt(end)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("scale down 3 → 2, removing talos-worker-3");
    expect(run.stderr).not.toContain("prometheus-partial");
  });

  it("takes none of a partial answer, falls back to metrics-server and removes no node", async () => {
    const served = await serveForTest(cluster());
    const args = ["--prometheus", frontend.url, "--now", isoAt(end)];
    const run = await served.run(args);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("No changes proposed.");
    expect(run.stderr).toContain(
      `warning: prometheus: Prometheus at ${frontend.url} warned that its answer may be incomplete: ${STORE_DOWN}; an incomplete answer can lack series and points and read usage low, so none of it is taken; using metrics-server instead [usage-source-failed]`,
    );
    // metrics-server's sample says 600m a worker (16 %): low, but one sample is no window.
    expect(run.stdout).toContain("utilisation: cpu 16 % (metrics-server over 20s), requests 2.6 %");
    expect(run.stdout).toContain(
      "scale-down: cpu < 30 % for 10m: no evidence over the window (usage covers 20s, no history, now 16 %; Prometheus could not be read (usage-source-failed), so the usage is metrics-server's one sample, which is no window)",
    );

    const json = await served.run(["--json", ...args]);
    expect(json.code).toBe(0);
    const output = JSON.parse(json.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    expect(poolDecision(output)).toMatchObject({ action: "none" });
  });

  it("takes the nodes' answers when only the container queries' may be incomplete, and removes the idle worker", async () => {
    const served = await serveForTest(cluster());
    const run = await served.run(["--prometheus", containersOnly.url, "--now", isoAt(end)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("scale down 3 → 2, removing talos-worker-3");
    expect(run.stderr).toContain(
      `warning: prometheus: Prometheus at ${containersOnly.url} warned that its answer to the container queries may be incomplete: ${STORE_DOWN}; container usage is unknown (node usage is read from the other queries) [prometheus-containers-failed]`,
    );
    expect(run.stderr).not.toContain("usage-source-failed");
    expect(run.stderr).not.toContain("[prometheus-partial]");
  });
});
