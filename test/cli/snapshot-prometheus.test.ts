import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readPrometheusUsage } from "../../src/cluster/prometheus.ts";
import { loadSnapshot } from "../../src/cluster/snapshot-file.ts";
import { runCli } from "../support/cli.ts";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";
import { commitEverything } from "../support/git-repo.ts";
import type { PlanJson } from "../support/plan-json.ts";
import { type RunningPrometheus, startPrometheus } from "../support/prometheus.ts";
import { prometheusCluster } from "../support/prometheus-cluster.ts";

// Prometheus holds an hour of generated series ending two minutes ago (test/support/prometheus-cluster.ts).
const end = Math.floor(Date.now() / 60_000) * 60 - 120;
const cluster = prometheusCluster(end);
/**
 * "Now" as the series were made: two minutes after their end. A plan that must see the series
 * as recent plans for this time, not the clock's, which runs on for as long as starting
 * Prometheus and the tests before take on a loaded machine.
 */
const seriesMadeAt = new Date((end + 120) * 1000).toISOString();
const dir = mkdtempSync(join(tmpdir(), "snapshot-prometheus-"));
let prometheus: RunningPrometheus;
let fake: FakeKubeApiserver;
let kubeconfig: string;

function node(name: string) {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      creationTimestamp: "2025-01-10T08:00:00Z",
      labels: { "kubernetes.io/hostname": name },
    },
    spec: {},
    status: {
      capacity: { cpu: "4", memory: "16Gi", pods: "110" },
      allocatable: { cpu: "4", memory: "16Gi", pods: "110" },
      conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2025-01-10T08:02:00Z" }],
    },
  };
}

beforeAll(async () => {
  prometheus = await startPrometheus(cluster.openMetrics);
  fake = await FakeKubeApiserver.start();
  // worker-9 has no series in Prometheus: its usage must stay unknown, with a warning.
  fake.add(...["cp-1", "worker-1", "worker-2", "worker-9"].map(node));
  kubeconfig = await fake.writeKubeconfig(join(dir, "kubeconfig"));
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("pr-autoscaler snapshot --prometheus", () => {
  it("takes node usage from Prometheus' window instead of one metrics-server sample", async () => {
    const out = join(dir, "snapshot.json");
    const run = await runCli([
      "snapshot",
      "--kubeconfig",
      kubeconfig,
      "--out",
      out,
      "--prometheus",
      prometheus.url,
      "--prometheus-window",
      "10m",
      "--prometheus-percentile",
      "90",
    ]);
    expect(run.code).toBe(0);
    const snapshot = loadSnapshot(readFileSync(out, "utf8"), out);
    expect(snapshot.metrics).toMatchObject({
      source: "prometheus",
      windowSeconds: 600,
      percentile: 90,
    });
    expect(snapshot.source.prometheus).toBe(prometheus.url);

    const at = snapshot.nodes.find((n) => n.name === "worker-1")?.usage?.timestamp;
    expect(at).toBeDefined();
    const direct = await readPrometheusUsage({
      url: prometheus.url,
      windowSeconds: 600,
      percentile: 90,
      at: new Date(at as string),
    });
    for (const name of ["cp-1", "worker-1", "worker-2"]) {
      const usage = snapshot.nodes.find((n) => n.name === name)?.usage;
      expect(usage).toEqual(direct.nodes.get(name));
      expect(usage?.source).toBe("prometheus");
      expect(usage?.cpu).toBeGreaterThan(0);
    }
    expect(snapshot.nodes.find((n) => n.name === "worker-9")?.usage).toBeUndefined();
    expect(JSON.stringify(snapshot.warnings)).toContain("worker-9");
  });

  it("refuses a malformed URL or window with exit 2", async () => {
    expect(
      (await runCli(["snapshot", "--kubeconfig", kubeconfig, "--prometheus", "localhost:9090"]))
        .code,
    ).toBe(2);
    const window = await runCli([
      "snapshot",
      "--kubeconfig",
      kubeconfig,
      "--prometheus",
      prometheus.url,
      "--prometheus-window",
      "10x",
    ]);
    expect(window.code).toBe(2);
    expect(window.stderr).toContain("--prometheus-window");
    expect(
      (await runCli(["snapshot", "--kubeconfig", kubeconfig, "--prometheus-percentile", "95"]))
        .code,
    ).toBe(2);
  });
});

describe("pr-autoscaler plan --prometheus", () => {
  function repo(): string {
    const root = mkdtempSync(join(dir, "repo-"));
    mkdirSync(join(root, "terraform"));
    mkdirSync(join(root, ".github"));
    writeFileSync(join(root, "terraform/terraform.tfvars"), "worker_count = 2\n");
    writeFileSync(
      join(root, ".github/pr-autoscaler.yml"),
      [
        "pools:",
        "  - name: workers",
        "    target: { file: terraform/terraform.tfvars, path: worker_count }",
        "    selector:",
        "      matchExpressions:",
        "        - { key: kubernetes.io/hostname, operator: In, values: [worker-1, worker-2] }",
        "    min: 1",
        "    max: 4",
      ].join("\n"),
    );
    // A checkout with history, committed long before the plan, as an infra repo is.
    commitEverything(root, "2025-01-10T08:00:00Z");
    return root;
  }

  it("judges the pool over Prometheus' window, so an idle pool shrinks from one plan", async () => {
    const run = await runCli([
      "plan",
      "--repo",
      repo(),
      "--kubeconfig",
      kubeconfig,
      "--prometheus",
      prometheus.url,
      "--prometheus-window",
      "15m",
      "--now",
      seriesMadeAt,
    ]);
    expect(run.code).toBe(0);
    // worker-9 is in no pool, nor is edge-1, a name only Prometheus has: no decision reads
    // their usage, so their missing series are said in notes. Nor is a container's usage read
    // with right-sizing off: its unusable value is said in the note on stderr about pods.
    expect(run.stdout).toMatch(
      /node\/worker-9: Prometheus at http:\/\/127\.0\.0\.1:\d+ has no usage series for node worker-9 [^\n]*\[prometheus-no-series\]; no pool has worker-9, so no decision reads its usage/,
    );
    expect(run.stdout).toMatch(
      /node\/edge-1: Prometheus at [^\n]* has no memory series for node edge-1 [^\n]*\[prometheus-no-series\]; no pool has edge-1/,
    );
    expect(run.stderr).not.toMatch(/worker-9|edge-1/);
    expect(run.stderr).not.toContain("warning: container/");
    expect(run.stderr).toContain(
      "note: pods: usage unknown for 1 pod (monitoring/broken-0) [prometheus-value-unusable]; right-sizing is off (the config has no rightsizing section)",
    );
    expect(run.stdout).toMatch(
      /utilisation: cpu [\d.]+ % \(prometheus over 15m, lowest [\d.]+ %, p95/,
    );
    // The scale-down window (10m) lies inside Prometheus' 15m: its last 10 minutes are
    // evidence enough, so the idle pool shrinks, which one metrics-server sample could never show.
    expect(run.stdout).toMatch(
      /scale-down: cpu < 30 % for 10m: met \(usage-window, p95 of the last 10m [\d.]+ %\)/,
    );
    expect(run.stdout).toContain("pool/workers: scale down 2 → 1 node\n");
    expect(run.stdout).toContain("-worker_count = 2\n+worker_count = 1");
  });

  /** The workers pool's utilisation of one resource, from a plan's proposal or its note. */
  function poolUtilisation(stdout: string, resource: "cpu" | "memory") {
    const json = JSON.parse(stdout) as PlanJson;
    const decision =
      json.proposals.find((p) => p.pool === "workers")?.decision ??
      json.notes.find((n) => n.subject === "pool/workers")?.decision;
    const utilisation = decision?.utilisation as Record<string, Record<string, unknown>>;
    return utilisation[resource] as { usage?: number; unknownNodes: string[] };
  }

  function plan(...args: string[]) {
    return runCli([
      "plan",
      "--repo",
      repo(),
      "--kubeconfig",
      kubeconfig,
      "--prometheus",
      prometheus.url,
      ...args,
    ]);
  }

  it("reads Prometheus' window ending at --now when that is past", async () => {
    const now = new Date((end - 1230) * 1000);
    const then = await plan("--json", "--now", now.toISOString());
    const today = await plan("--json");
    expect(then.code).toBe(0);
    expect(today.code).toBe(0);

    const direct = await readPrometheusUsage({ url: prometheus.url, at: now });
    const workers = ["worker-1", "worker-2"].map((name) => direct.nodes.get(name)?.cpu ?? NaN);
    const usage = poolUtilisation(then.stdout, "cpu").usage;
    expect(usage).toBe(workers[0]! + workers[1]!);
    // The window ending now holds other values: the plan did not read the present.
    expect(poolUtilisation(today.stdout, "cpu").usage).not.toBe(usage);
  });

  it("takes usage as unknown, with metrics-stale, for a --now beyond 300 s ahead", async () => {
    const later = new Date(Date.now() + 3600_000);
    const run = await plan("--json", "--now", later.toISOString());
    expect(run.code).toBe(0);

    expect(poolUtilisation(run.stdout, "cpu").unknownNodes).toEqual(["worker-1", "worker-2"]);
    expect(run.stderr).toMatch(
      /warning: node\/worker-1: measured \d+s before the time planned for/,
    );
    expect(run.stderr).toContain("[metrics-stale]");
    // Said once: stale, not missing as well.
    expect(run.stderr).not.toMatch(/node\/worker-1: no usable metrics/);
    expect(JSON.parse(run.stdout).proposals).toEqual([]);
  });

  it("does not shrink the pool on a window Prometheus holds only 3 minutes of", async () => {
    // Three minutes after the first samples: the 10 minute window is mostly before them, and
    // the CPU rates whose range began before the first sample are left out: 2 minutes of points.
    const run = await plan("--now", new Date((cluster.start + 180) * 1000).toISOString());
    expect(run.code).toBe(0);

    expect(run.stderr).toMatch(
      /warning: node\/worker-1: .* its CPU points cover 120 s of it.*\[prometheus-window-partial\]/,
    );
    expect(run.stdout).toMatch(/scale-down: cpu < 30 % for 10m: no evidence/);
    expect(run.stdout).not.toContain("scale down");
  });

  it("refuses --prometheus with a saved snapshot", async () => {
    const run = await runCli([
      "plan",
      "--repo",
      repo(),
      "--snapshot",
      join(dir, "snapshot.json"),
      "--prometheus",
      prometheus.url,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("a saved snapshot already holds its usage");
  });
});
