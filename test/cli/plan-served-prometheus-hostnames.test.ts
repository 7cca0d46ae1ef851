/**
 * `plan --kubeconfig --prometheus` where node-exporter is scraped by a plain config (`instance`
 * an address, no node label) on machines whose hostname is fully qualified: `node_uname_info`
 * says `talos-worker-1.lan`, and the kubelet registered `talos-worker-1`. The default queries
 * name each machine by that hostname, so no series carries a node's name. The pool is idle
 * (500m of 3800m a worker): were the names matched, a worker would go. They are not matched,
 * so every node's usage is unknown and nothing is removed, and each node's warning names the
 * series that differs from it by the domain, for the operator to relabel. The same holds where
 * each kubelet was started with --hostname-override (hostnames `ip-192-168-50-2X`, nodes named
 * otherwise): the warnings name the names Prometheus has, which no node has.
 *
 * One real Prometheus for each holds 30 minutes of those series, backfilled as
 * test/support/prometheus-series.ts writes them.
 */
import { describe, expect, it } from "@jest/globals";
import { openMetricsOf, plainExporter } from "../support/prometheus-series.ts";
import type { PlanJson } from "./served-cluster.ts";
import { cluster, poolNote, serveForTest, WORKERS } from "./served-plan.ts";
import { isoAt, prometheusForTests, seriesEnd } from "./served-prometheus.ts";

const end = seriesEnd();
const start = end - 1800;
const MACHINES = ["talos-cp-1", ...WORKERS];

const prometheus = prometheusForTests(() =>
  openMetricsOf(
    MACHINES.flatMap((machine, index) =>
      plainExporter({ hostname: `${machine}.lan`, ip: `192.168.50.${20 + index}` }, start),
    ),
    start,
    end,
  ),
);

describe("plan --prometheus: node-exporter naming machines by a fully qualified hostname", () => {
  it("takes no usage from names that only look alike, keeps every node, and says how they differ", async () => {
    const served = await serveForTest(cluster());
    const args = ["--prometheus", prometheus.url, "--now", isoAt(end)];
    const json = await served.run(["--json", ...args]);
    expect(json.code).toBe(0);
    const output = JSON.parse(json.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "hold: cpu and memory usage unknown on talos-worker-1, talos-worker-2, talos-worker-3; no decision is taken on the pool's usage (unknown is not zero)",
    );

    const run = await served.run(args);
    expect(run.code).toBe(0);
    for (const node of WORKERS)
      expect(run.stderr).toMatch(
        new RegExp(
          `warning: node/${node}: Prometheus at http://127\\.0\\.0\\.1:\\d+ has no usage series for node ${node} over the 600 s window ending [^;]+; its usage is unknown\\. Prometheus has ${node}\\.lan: node names differ by the domain, and usage under another name is not taken as this node's; relabel so that the series carry the Kubernetes node name`,
        ),
      );
  });
});

describe("plan --prometheus: node-exporter naming machines otherwise than their nodes", () => {
  // Each machine's hostname is its address, as a cloud image sets it; the kubelets registered
  // the nodes under the names the cluster knows.
  const hostnames = MACHINES.map((_, index) => `ip-192-168-50-${20 + index}`);
  const overridden = prometheusForTests(() =>
    openMetricsOf(
      hostnames.flatMap((hostname, index) =>
        plainExporter({ hostname, ip: `192.168.50.${20 + index}` }, start),
      ),
      start,
      end,
    ),
  );

  it("takes no usage from names no node has, keeps every node, and names them", async () => {
    const served = await serveForTest(cluster());
    const args = ["--prometheus", overridden.url, "--now", isoAt(end)];
    const json = await served.run(["--json", ...args]);
    expect(json.code).toBe(0);
    const output = JSON.parse(json.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "hold: cpu and memory usage unknown on talos-worker-1, talos-worker-2, talos-worker-3; no decision is taken on the pool's usage (unknown is not zero)",
    );

    const run = await served.run(args);
    expect(run.code).toBe(0);
    for (const node of WORKERS)
      expect(run.stderr).toMatch(
        new RegExp(
          `warning: node/${node}: Prometheus at http://127\\.0\\.0\\.1:\\d+ has no usage series for node ${node} over the 600 s window ending [^;]+; its usage is unknown\\. Prometheus has usage under names no node of the cluster has: ${hostnames.join(", ")}; usage under another name is not taken as this node's\\. If they are machines of this cluster \\(the nodename of node_uname_info is the machine's hostname; a kubelet started with --hostname-override names its node otherwise\\), relabel so that the series carry the Kubernetes node name`,
        ),
      );
  });
});
