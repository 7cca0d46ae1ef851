/**
 * `plan --kubeconfig --prometheus` where Prometheus does not scrape the control plane (the
 * kubelet of talos-cp-1 is no target, as a kube-prometheus-stack that leaves control-plane
 * nodes out has it). No decision reads a control plane's usage: it is in no pool, and the room
 * a pending pod or a removed node's pod finds there is judged by requests. So its missing
 * series is said in an info note, not a warning, run after run; a worker of the pool without
 * series still warns, as its usage is what the pool's checks rest on. The same holds for a
 * control plane metrics-server reports no sample for.
 *
 * One real Prometheus holds 30 minutes of the workers' kubelet cAdvisor root cgroup, idle at
 * 0.5 cores and 2 GiB each, and of the Cilium agent's container on each, as
 * test/support/prometheus-series.ts writes them.
 */
import { describe, expect, it } from "@jest/globals";
import { containerCgroup, openMetricsOf, rootCgroup } from "../support/prometheus-series.ts";
import type { PlanJson, Raw } from "./served-cluster.ts";
import { cluster, FOUR, poolNote, serveForTest, tfvars, WORKERS } from "./served-plan.ts";
import { isoAt, prometheusForTests, seriesEnd } from "./served-prometheus.ts";

const end = seriesEnd();
const start = end - 1800;
const now = isoAt(end);

const prometheus = prometheusForTests(() => {
  const series = WORKERS.flatMap((node, index) => {
    const ip = `192.168.50.${21 + index}`;
    const cilium = `cilium-${index.toString(36).padStart(5, "x")}`;
    return [
      ...rootCgroup({ node, ip, cores: 0.5, bytes: 2 * 2 ** 30 }, start),
      ...containerCgroup(
        {
          namespace: "kube-system",
          pod: cilium,
          container: "app",
          node,
          ip,
          cores: 0.05,
          bytes: 2 ** 27,
        },
        start,
      ),
    ];
  });
  return openMetricsOf(series, start, end);
});

const CP_NOTE =
  /node\/talos-cp-1: Prometheus at http:\/\/127\.0\.0\.1:\d+ has no usage series for node talos-cp-1 over the 600 s window ending [^;]+; its usage is unknown \[prometheus-no-series\]; no pool has talos-cp-1, so no decision reads its usage \(the room pods find on it is judged by their requests\)\n/;

describe("plan --prometheus: a control plane Prometheus does not scrape", () => {
  it("removes the idle pool's highest worker and says the control plane's missing series in a note, not a warning", async () => {
    const served = await serveForTest(cluster());
    const args = ["--prometheus", prometheus.url, "--now", now];
    const run = await served.run(args);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "pool workers (terraform/terraform.tfvars worker_count): scale down 3 → 2, removing talos-worker-3",
    );
    expect(run.stdout).toMatch(CP_NOTE);
    expect(run.stderr).not.toContain("talos-cp-1");
    expect(run.stderr).not.toContain("warning:");

    const json = await served.run(["--json", ...args]);
    expect(json.code).toBe(0);
    const output = JSON.parse(json.stdout) as PlanJson;
    expect(output.notes.filter((note) => note.subject === "node/talos-cp-1")).toEqual([
      expect.objectContaining({
        level: "info",
        message: expect.stringContaining("[prometheus-no-series]; no pool has talos-cp-1"),
      }),
    ]);
    expect(json.stderr).not.toContain("talos-cp-1");
  });

  it("still warns for a worker of the pool without series, and keeps every node", async () => {
    const served = await serveForTest(cluster(FOUR));
    const run = await served.run(["--prometheus", prometheus.url, "--now", now], {
      tfvars: tfvars(4),
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("No changes proposed.");
    expect(run.stderr).toMatch(
      /warning: node\/talos-worker-4: Prometheus at http:\/\/127\.0\.0\.1:\d+ has no usage series for node talos-worker-4 over the 600 s window ending [^;]+; its usage is unknown \[prometheus-no-series\]\n/,
    );
    // Once: Prometheus' warning says why, and no metrics-missing repeats it.
    expect(run.stderr.match(/warning: node\/talos-worker-4:/g)).toHaveLength(1);
    expect(run.stdout).not.toContain("node/talos-worker-4:");
    expect(run.stdout).toMatch(CP_NOTE);
    expect(run.stderr).not.toContain("talos-cp-1");
  });
});

describe("plan with metrics-server: a control plane without a sample", () => {
  it("says the control plane's missing sample in a note and a worker's in a warning", async () => {
    const withoutSample = (name: string) => (object: Raw) =>
      !(object.kind === "NodeMetrics" && (object.metadata as Raw).name === name);
    const served = await serveForTest(
      cluster().filter(withoutSample("talos-cp-1")).filter(withoutSample("talos-worker-2")),
    );
    const output = await served.plan();
    expect(output.notes.filter((note) => note.subject === "node/talos-cp-1")).toEqual([
      {
        level: "info",
        subject: "node/talos-cp-1",
        message:
          "no usable metrics for this node; usage unknown [metrics-missing]; no pool has talos-cp-1, so no decision reads its usage (the room pods find on it is judged by their requests)",
      },
    ]);
    expect(poolNote(output)).toContain("usage unknown on talos-worker-2");
    const run = await served.run([]);
    expect(run.stderr).toContain(
      "warning: node/talos-worker-2: no usable metrics for this node; usage unknown [metrics-missing]\n",
    );
    expect(run.stderr).not.toContain("talos-cp-1");
  });
});
