/**
 * `plan --kubeconfig --prometheus` through a query frontend that refuses the container queries
 * as Prometheus does past its `--query.max-samples` limit (HTTP 422, `execution`), the way a
 * large cluster's per-container series can exceed it, and passes the node queries on. Node
 * scaling rests on node usage alone: the pool's window is still read from Prometheus and the
 * idle worker goes, with a warning that container usage is unknown, not one per pod.
 *
 * One real Prometheus holds the last hour of each worker's kubelet cAdvisor root cgroup, idle
 * at 0.5 cores and 2 GiB, as test/support/prometheus-series.ts writes them.
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

// Prometheus' own error for a query over the sample limit (promql's ErrTooManySamples).
const TOO_MANY = "query processing would load too many samples into memory in query execution";

const refused: string[] = [];
/** Every query, in the order it arrived. */
const arrived: string[] = [];

const frontend = frontendForTests(prometheus, async (query, passOn) => {
  arrived.push(query);
  if (!query.includes("by (namespace, pod, container)")) return passOn();
  refused.push(query);
  const error = { status: "error", errorType: "execution", error: TOO_MANY };
  return { status: 422, body: JSON.stringify(error) };
});

describe("plan --prometheus: the container queries refused, the node queries answered", () => {
  it("removes the idle pool's highest worker on the nodes' window, and says container usage is unknown once", async () => {
    const served = await serveForTest(cluster());
    const args = ["--prometheus", frontend.url, "--now", isoAt(end)];
    const run = await served.run(args);
    expect(refused.length).toBeGreaterThan(0);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("scale down 3 → 2, removing talos-worker-3");
    const warnings = run.stderr.split("\n").filter((line) => line.startsWith("warning:"));
    expect(warnings.filter((line) => line.includes("[prometheus-containers-failed]"))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^warning: prometheus: Prometheus at ${frontend.url} .*\\(HTTP 422, execution\\).*${TOO_MANY}.*; container usage is unknown \\(node usage is read from the other queries\\) \\[prometheus-containers-failed\\]$`,
        ),
      ),
    ]);
    expect(run.stderr).not.toContain("usage-source-failed");
    expect(run.stderr).not.toContain("metrics-missing");
    // The heavy container queries wait for the node queries' answers, not slow them down.
    const isContainer = (query: string) => query.includes("by (namespace, pod, container)");
    const firstContainer = arrived.findIndex(isContainer);
    expect(firstContainer).toBeGreaterThan(0);
    expect(arrived.slice(firstContainer).filter((query) => !isContainer(query))).toEqual([]);

    const json = await served.run(["--json", ...args]);
    const output = JSON.parse(json.stdout) as PlanJson;
    expect(poolDecision(output)).toMatchObject({
      action: "scale-down",
      utilisation: { cpu: { source: "prometheus" } },
    });
  });
});
