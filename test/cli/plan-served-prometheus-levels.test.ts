/**
 * `plan --kubeconfig --prometheus` on levels an operator reads off a Prometheus graph, each
 * worked out by hand before reading the plan: cpu held above the scale-up threshold for the
 * whole window adds nodes; cpu above it for part of the window (early, then down; or only at the
 * end) adds none, and the check says the lowest point it fell to; an idle pool loses its
 * highest-numbered node, whatever a control-plane node or a node gone from the cluster used, and
 * through a counter reset, and when only node-exporter labelled by its address measures it; a
 * worker without series keeps every node; a gap in one worker's points leaves the shorter check
 * uncovered, and its average is not called current; Prometheus answering 500 is not read as
 * zero load, and the checks say it could not be read.
 *
 * One real Prometheus holds the last four hours of the kubelet's cAdvisor root cgroup (the
 * layout kube-prometheus-stack stores, as test/support/prometheus-series.ts writes it) for the
 * Talos cluster of served-cluster.ts, a different level in each hour, and the hour before them
 * of node-exporter alone, as a plain scrape config labels it (`instance` an address, no node
 * name); each plan is for a moment whose window holds the level it checks. Workers have 3800m
 * cpu and 15986572Ki memory allocatable; each uses 2 GiB (13 % of the pool's memory) throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { openMetricsOf, plainExporter, rootCgroup } from "../support/prometheus-series.ts";
import { type PrometheusStub, startPrometheusStub } from "../support/prometheus-stub.ts";
import type { PlanJson } from "./served-cluster.ts";
import { cluster, poolNote, serveForTest, WORKERS } from "./served-plan.ts";
import { isoAt, planOnPrometheus, prometheusForTests, seriesEnd } from "./served-prometheus.ts";

const GiB = 2 ** 30;
// The data ends on a minute boundary a minute ago; `at(hour)` is the end of hour `hour` back.
const end = seriesEnd();
const start = end - 5 * 3600;
const at = (hoursBack: number) => end - hoursBack * 3600;

/** Idle: every worker at 0.5 cores, 1500m of 11400m (13 %). */
const IDLE = 0.5;
/** Hot: 3.5 cores a worker, 10500m of 11400m (92 %). */
const HOT = 3.5;

/** Busy cores of a worker at time t: the level each hour holds around its plan's moment. */
function workerCores(t: number): number {
  // Hour 3: busy over the whole window (and 20 minutes before it).
  if (t > at(3) - 1800 && t <= at(3)) return HOT;
  // Hour 2: 3.8 cores until 2 minutes before the plan, then idle. Of the window's points, all
  // but the last two are 3.8 cores a worker, the next to last about half of it, the last 0.5:
  // the average is above 80 %, the lowest point 13 %.
  if (t > at(2) - 1800 && t <= at(2) - 120) return 3.8;
  // Hour 1: idle until 3 minutes before the plan, then hot.
  if (t > at(1) - 180 && t <= at(1)) return HOT;
  return IDLE;
}

interface NodeSeries {
  node: string;
  cores: (t: number) => number;
  bytes: number;
  /** Times at which the node has samples; all by default. */
  present?: (t: number) => boolean;
  resetAt?: number;
}

/** When talos-worker-3 has no samples: from 7 to 2 minutes before 20 minutes before hour 1. */
const gapOfWorker3 = (t: number) => t > at(1) - 1200 - 420 && t < at(1) - 1200 - 120;

const series: NodeSeries[] = [
  // The control plane runs near its allocatable (1900m of 1950m): not a pool node.
  { node: "talos-cp-1", cores: () => 1.9, bytes: 3 * GiB },
  ...WORKERS.map((node) => ({
    node,
    cores: workerCores,
    bytes: 2 * GiB,
    // Hour 0: talos-worker-2 has had no samples for the last 20 minutes (its kubelet's target
    // is down), while the node is still Ready in the cluster.
    ...(node === "talos-worker-2" ? { present: (t: number) => t <= at(0) - 1200 } : {}),
    // Hour 1: talos-worker-1's kubelet restarted 5 minutes before the plan, resetting its counter.
    ...(node === "talos-worker-1" ? { resetAt: at(1) - 300 } : {}),
    // Hour 1, 20 minutes before the plan: talos-worker-3's scrapes failed for 5 minutes.
    ...(node === "talos-worker-3" ? { present: (t: number) => !gapOfWorker3(t) } : {}),
  })),
  // A node removed from the cluster, still in Prometheus' history: busy, and no pool's node.
  { node: "talos-worker-4", cores: () => 3.8, bytes: 12 * GiB },
];

/** The kubelet's series start after hour 4's plan; node-exporter's end with it. */
const kubeletSince = at(4);

/** The kubelet's root cgroups after kubeletSince, and node-exporter up to it, as OpenMetrics. */
function openMetrics(): string {
  const kubelet = series.flatMap((one, index) =>
    rootCgroup(
      {
        node: one.node,
        ip: `192.168.50.${20 + index}`,
        cores: one.cores,
        bytes: one.bytes,
        present: (t) => t > kubeletSince && (one.present?.(t) ?? true),
        ...(one.resetAt !== undefined ? { resetAt: one.resetAt } : {}),
      },
      start,
    ),
  );
  // node-exporter as a plain scrape config labels it, named by node_uname_info's nodename.
  const exporters = ["talos-cp-1", ...WORKERS].flatMap((node, index) =>
    plainExporter(
      { hostname: node, ip: `192.168.50.${20 + index}`, present: (t) => t <= kubeletSince },
      start,
    ),
  );
  return openMetricsOf([...kubelet, ...exporters], start, end);
}

const prometheus = prometheusForTests(openMetrics);

/** Runs `plan` against the served cluster for the moment `hoursBack` hours before the data's end. */
function planAt(hoursBack: number, json: boolean, url = prometheus.url) {
  return planOnPrometheus(url, at(hoursBack), { args: json ? ["--json"] : [] });
}

async function planJson(hoursBack: number): Promise<PlanJson> {
  return JSON.parse((await planAt(hoursBack, true)).stdout) as PlanJson;
}

function cpuOf(output: PlanJson) {
  const decision =
    output.proposals.find((p) => p.pool === "workers")?.decision ??
    output.notes.find((n) => n.subject === "pool/workers")?.decision;
  if (!decision) throw new Error(`no decision for the pool: ${JSON.stringify(output)}`);
  return (decision.utilisation as Record<string, Record<string, unknown>>).cpu as {
    usage?: number;
    percent?: number;
    low?: number;
    unknownNodes: string[];
  };
}

describe("plan --prometheus: cpu above the scale-up threshold", () => {
  it("adds the node that brings cpu held at 92 % for the whole window below 80 %", async () => {
    // 10500m over 80 % takes 13125m of allocatable: 4 workers (15200m, 69 %), not 3.
    const output = await planJson(3);
    expect(output.proposals[0]).toMatchObject({ pool: "workers", from: 3, to: 4 });
    const text = (await planAt(3, false)).stdout;
    expect(text).toContain(
      "utilisation: cpu 92 % (prometheus over 10m, lowest 92 %, p95 92 %), requests 2.6 %",
    );
    expect(text).toContain("trigger: cpu 92 % ≥ 80 % for 5m (usage-window): 1 new node");
    expect(text).toContain("-worker_count      = 3\n+worker_count      = 4");
  });

  it("adds none for cpu that was above it most of the window but fell 2 minutes ago, and says it fell", async () => {
    // The window's average is 87 %, above 80 %; but cpu is at 13 % now: it did not stay above
    // 80 % for 5 minutes, and a fifth worker would only stand idle.
    const output = await planJson(2);
    expect(output.proposals).toEqual([]);
    const cpu = cpuOf(output);
    expect(cpu.percent).toBeGreaterThan(80);
    expect(cpu.low).toBe(1500);
    const note = poolNote(output);
    expect(note).toMatch(/utilisation: cpu 8\d % \(prometheus over 10m, lowest 13 %, p95 100 %\)/);
    expect(note).toContain(
      "scale-up check: cpu ≥ 80 % for 5m: not met (usage-window, lowest point of the last 5m 13 %)",
    );
  });

  it("adds none for cpu above it only in the window's last 3 minutes, and says so", async () => {
    const output = await planJson(1);
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toMatch(/utilisation: cpu \d+ % \(prometheus over 10m, lowest 13 %, p95 9\d %\)/);
    // Its points have been above 80 % for 2 minutes: the point 3 minutes ago is a rate over a
    // minute idle and a minute hot.
    expect(note).toContain(
      "scale-up check: cpu ≥ 80 % for 5m: not met (usage-window, lowest point of the last 5m 13 %; at or above 80 % for the last 2m only)",
    );
    // Nor is the pool idle enough to shrink: its 95th percentile is far above 30 %.
    expect(note).toMatch(
      /scale-down: cpu < 30 % for 10m: not met \(usage-window, p95 of the last 10m 9\d %\)/,
    );
  });
});

describe("plan --prometheus: an idle pool", () => {
  it("keeps every node while one worker has no series in the window, and names it", async () => {
    const run = await planAt(0, false);
    expect(run.stdout).toContain("No changes proposed.");
    expect(run.stdout).toContain(
      "hold: cpu and memory usage unknown on talos-worker-2; no decision is taken on the pool's usage (unknown is not zero)",
    );
    expect(run.stdout).toContain(
      "scale-down: cpu < 30 % for 10m: unknown, usage not observed on talos-worker-2",
    );
    expect(run.stderr).toMatch(
      /warning: node\/talos-worker-2: Prometheus at http:\/\/127\.0\.0\.1:\d+ has no usage series for node talos-worker-2 over the 600 s window ending .*\[prometheus-no-series\]/,
    );
  });

  it("removes the highest-numbered worker, counting neither the control plane nor a node gone from the cluster, through a counter reset", async () => {
    // Hour 1's plan is 3 minutes into a hot spell; an hour and a half earlier the pool was
    // idle for long. The busy control plane (97 %) and talos-worker-4, gone from the cluster
    // but still in Prometheus at 3.8 cores, are no pool node: the pool's cpu is 3 × 500m of
    // 11400m (13 %). talos-worker-1's counter reset in that window reads as no drop to zero.
    const quiet = isoAt(at(1) - 1800);
    const served = await serveForTest(cluster());
    const withReset = await served.run([
      "--json",
      "--prometheus",
      prometheus.url,
      "--now",
      isoAt(at(1) - 240),
    ]);
    expect(withReset.code).toBe(0);
    const reset = JSON.parse(withReset.stdout) as PlanJson;
    expect(cpuOf(reset)).toMatchObject({ usage: 1500, low: 1500, unknownNodes: [] });

    const run = await served.run(["--prometheus", prometheus.url, "--now", quiet]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "pool workers (terraform/terraform.tfvars worker_count): scale down 3 → 2, removing talos-worker-3",
    );
    expect(run.stdout).toContain(
      "utilisation: cpu 13 % (prometheus over 10m, lowest 13 %, p95 13 %), requests 2.6 %; memory 13 %",
    );
    expect(run.stdout).toContain(
      "scale-down: cpu < 30 % for 10m: met (usage-window, p95 of the last 10m 13 %)",
    );
    expect(run.stdout).toContain("scale-down: cpu after removal 20 % < 70 %: met");
    expect(run.stdout).toContain("-worker_count      = 3\n+worker_count      = 2");
  });
});

describe("plan --prometheus: points missing in the window", () => {
  it("says a window average on the wrong side is the window's, though a gap leaves the shorter check uncovered", async () => {
    // talos-worker-3's CPU points are missing for 4 steps: a gap of 5 minutes, as long as the
    // 10 minute scale-down window allows and longer than the 5 minute scale-up one does. The
    // pool is idle all the same: its lowest point is no sample of now, and says so.
    const run = await planOnPrometheus(prometheus.url, at(1) - 1200);
    // The 5 minutes' points do not cover them, but any one of them below 80 % shows the level
    // was not held there. (A point at the gap's edge, a rate over fewer samples, is a little
    // lower than 13 %.)
    expect(run.stdout).toMatch(
      /scale-up check: cpu ≥ 80 % for 5m: not met \(usage-window, lowest point of the last 5m 1\d %\)/,
    );
    expect(run.stdout).not.toContain("(current,");
  });
});

describe("plan --prometheus: node-exporter labelled by address alone", () => {
  it("finds each node through node_uname_info's hostname, and removes the idle pool's highest worker", async () => {
    // No kubelet series and no kube-state-metrics: the machines' own figures, named by their
    // hostname, are the nodes' (500m of 3800m a worker, 13 %; 2 GiB used).
    const run = await planAt(4, false);
    expect(run.stdout).toContain(
      "pool workers (terraform/terraform.tfvars worker_count): scale down 3 → 2, removing talos-worker-3",
    );
    expect(run.stdout).toContain(
      "utilisation: cpu 13 % (prometheus over 10m, lowest 13 %, p95 13 %), requests 2.6 %; memory 13 % (prometheus over 10m, lowest 13 %, p95 13 %)",
    );
    expect(run.stderr).not.toMatch(/The node(Cpu|Memory) query found no series/);
    expect(run.stderr).not.toContain("node/talos-worker");
  });
});

describe("plan --prometheus: Prometheus that fails", () => {
  let stub: PrometheusStub;
  let url: string;

  beforeAll(async () => {
    stub = await startPrometheusStub(() => ({
      status: 500,
      contentType: "text/plain",
      body: "upstream storage unavailable\n",
    }));
    url = stub.url;
  });

  afterAll(async () => {
    await stub.stop();
  });

  it("falls back to metrics-server's one sample with a warning, and removes no node on it", async () => {
    // metrics-server's sample says 600m a worker (16 %): low, but one sample is no window.
    const run = await planAt(0, false, url);
    expect(run.stderr).toContain(
      `warning: prometheus: Prometheus at ${url} answered HTTP 500 with a body that is not a Prometheus API response (text/plain: "upstream storage unavailable")`,
    );
    expect(run.stderr).toContain("using metrics-server instead [usage-source-failed]");
    expect(run.stdout).toContain("utilisation: cpu 16 % (metrics-server over 20s), requests 2.6 %");
    // The check says why there is no window: Prometheus, asked for, could not be read.
    expect(run.stdout).toContain(
      "scale-down: cpu < 30 % for 10m: no evidence over the window (usage covers 20s, no history, now 16 %; Prometheus could not be read (usage-source-failed), so the usage is metrics-server's one sample, which is no window)",
    );
    expect(run.stdout).toContain("No changes proposed.");
  });
});
