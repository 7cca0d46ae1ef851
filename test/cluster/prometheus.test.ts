import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  PrometheusError,
  type PrometheusUsage,
  readPrometheusUsage,
} from "../../src/cluster/prometheus.ts";
import type { SnapshotWarning, Usage } from "../../src/planning/snapshot.ts";
import { type RunningPrometheus, startPrometheus } from "../support/prometheus.ts";
import {
  mean,
  prometheusCluster,
  prometheusQuantile,
  type Truth,
  windowPoints,
} from "../support/prometheus-cluster.ts";

// The data ends two minutes ago on a minute boundary; queries are anchored to it with `at`,
// 30 s off the step grid so no window edge falls on an evaluation point.
const end = Math.floor(Date.now() / 60_000) * 60 - 120;
const cluster = prometheusCluster(end);
const at = new Date((end - 30) * 1000);

let prometheus: RunningPrometheus | undefined;

beforeAll(async () => {
  prometheus = await startPrometheus(cluster.openMetrics);
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
});

function url(): string {
  if (!prometheus) throw new Error("Prometheus did not start");
  return prometheus.url;
}

interface Window {
  at: Date;
  windowSeconds: number;
  stepSeconds: number;
  rateSeconds: number;
  percentile: number;
}

const defaults: Window = {
  at,
  windowSeconds: 600,
  stepSeconds: 60,
  rateSeconds: 120,
  percentile: 95,
};

/**
 * The statistics the reader must report for `truth`, computed from the series themselves; a
 * node's lowest point too, which a container does not get.
 */
function expectedUsage(truth: Truth, window: Window = defaults, scope = "node"): Usage {
  const points = windowPoints(window.at.getTime() / 1000, window.windowSeconds, window.stepSeconds);
  const phi = window.percentile / 100;
  // Every step of these windows has a point: they cover the window, a step apart.
  const usage: Usage = {
    windowSeconds: window.windowSeconds,
    gapSeconds: window.stepSeconds,
    timestamp: window.at.toISOString(),
    source: "prometheus",
    peak: { percentile: window.percentile },
  };
  if (truth.cpu) {
    const values = points.map((t) => truth.cpu!(t, window.rateSeconds));
    usage.cpu = whole(mean(values));
    usage.peak!.cpu = whole(prometheusQuantile(phi, values));
    if (scope === "node") usage.low = { cpu: whole(Math.min(...values)) };
  }
  if (truth.memory) {
    const values = points.map((t) => truth.memory!(t));
    usage.memory = whole(mean(values));
    usage.peak!.memory = whole(prometheusQuantile(phi, values));
    if (scope === "node") usage.low = { ...usage.low, memory: whole(Math.min(...values)) };
  }
  // A node's value at each step as well, rounded as the reader rounds it.
  if (scope === "node")
    usage.points = points.map((t) => ({
      at: new Date(t * 1000).toISOString(),
      ...(truth.cpu ? { cpu: Math.round(truth.cpu(t, window.rateSeconds)) } : {}),
      ...(truth.memory ? { memory: Math.round(truth.memory(t)) } : {}),
    }));
  return usage;
}

/** The data is built so every statistic is whole; Prometheus' float error is far below 0.5. */
function whole(value: number): number {
  const rounded = Math.round(value);
  if (Math.abs(value - rounded) > 1e-6) {
    throw new Error(`test data gives ${value}, not a whole number; adjust the patterns`);
  }
  return rounded;
}

function warningsAbout(result: PrometheusUsage, subject: string): SnapshotWarning[] {
  return result.warnings.filter((w) => w.subject === subject);
}

describe("readPrometheusUsage against a real Prometheus", () => {
  it("reports each node's average, 95th percentile and lowest point over the last 10 minutes", async () => {
    const result = await readPrometheusUsage({ url: url(), at });

    expect([...result.nodes.keys()].sort()).toEqual(["cp-1", "edge-1", "worker-1", "worker-2"]);
    for (const node of ["cp-1", "worker-1", "worker-2"]) {
      expect({ node, usage: result.nodes.get(node) }).toEqual({
        node,
        usage: expectedUsage(cluster.nodes[node]!),
      });
    }
    const cp = result.nodes.get("cp-1")!;
    expect(cp.peak!.cpu).toBeGreaterThan(cp.cpu!);
    expect(cp.low!.cpu).toBeLessThan(cp.cpu!);
    expect(result).toMatchObject({ windowSeconds: 600, percentile: 95, at: at.toISOString() });
  });

  it("takes a node from cAdvisor's root cgroup when kept, else from node-exporter via kube_pod_info", async () => {
    const result = await readPrometheusUsage({ url: url(), at });

    const fromCadvisor = expectedUsage(cluster.nodes["worker-1"]!);
    const fromExporter = expectedUsage(cluster.exporterNodes["worker-1"]!);
    expect(fromCadvisor.cpu).not.toBe(fromExporter.cpu);
    expect(result.nodes.get("worker-1")).toEqual(fromCadvisor);
    // worker-2 has only node-exporter, reported twice by two kube-state-metrics replicas.
    expect(result.nodes.get("worker-2")).toEqual(expectedUsage(cluster.exporterNodes["worker-2"]!));
  });

  it("reports containers, leaving out pod cgroups and pause containers and not summing a restart's two cgroups", async () => {
    const result = await readPrometheusUsage({ url: url(), at });

    expect([...result.containers.keys()].sort()).toEqual([
      "default/web-7d9f8c6b5-x2x9q/metrics-exporter",
      "default/web-7d9f8c6b5-x2x9q/nginx",
      "media/plex-0/plex",
      "monitoring/broken-0/app",
    ]);
    for (const key of [
      "default/web-7d9f8c6b5-x2x9q/metrics-exporter",
      "default/web-7d9f8c6b5-x2x9q/nginx",
      "media/plex-0/plex",
    ]) {
      expect({ key, usage: result.containers.get(key) }).toEqual({
        key,
        usage: expectedUsage(cluster.containers[key]!, defaults, "container"),
      });
    }
  });

  it("leaves a node's memory unknown, not zero, when it has no memory series, and says so", async () => {
    const result = await readPrometheusUsage({ url: url(), at });

    const edge = result.nodes.get("edge-1");
    expect(edge).toEqual(expectedUsage(cluster.nodes["edge-1"]!));
    expect(edge).not.toHaveProperty("memory");
    expect(edge?.peak).not.toHaveProperty("memory");
    const warnings = warningsAbout(result, "node/edge-1");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: "prometheus-no-series" });
    expect(warnings[0]!.message).toContain("no memory series for node edge-1");
    expect(warnings[0]!.message).toContain(url());
  });

  it("leaves expected nodes and containers with no series absent, naming each in a warning", async () => {
    const result = await readPrometheusUsage({
      url: url(),
      at,
      expect: {
        nodes: ["cp-1", "worker-1", "worker-2", "worker-3"],
        containers: ["media/plex-0/plex", "media/plex-0/transcoder"],
      },
    });

    expect(result.nodes.has("worker-3")).toBe(false);
    expect(result.containers.has("media/plex-0/transcoder")).toBe(false);
    expect(warningsAbout(result, "node/worker-3")).toEqual([
      expect.objectContaining({
        code: "prometheus-no-series",
        message: expect.stringContaining("no usage series for node worker-3"),
      }),
    ]);
    expect(warningsAbout(result, "container/media/plex-0/transcoder")).toHaveLength(1);
    expect(warningsAbout(result, "node/cp-1")).toEqual([]);
    expect(warningsAbout(result, "container/media/plex-0/plex")).toEqual([]);
  });

  it("says a node named with a domain that Prometheus has without it is alike, and leaves its usage unknown", async () => {
    // A kubelet that registered worker-1 by its fully qualified name, while Prometheus names the
    // machine by its short hostname: the names only look alike, which is no evidence they are one.
    const result = await readPrometheusUsage({
      url: url(),
      at,
      expect: { nodes: ["cp-1", "worker-1.lan", "worker-2", "worker-3.lan"] },
    });

    expect(result.nodes.has("worker-1.lan")).toBe(false);
    const [warning, ...others] = warningsAbout(result, "node/worker-1.lan");
    expect(others).toEqual([]);
    expect(warning).toMatchObject({ code: "prometheus-no-series" });
    expect(warning!.message).toContain(
      "has no usage series for node worker-1.lan over the 600 s window ending",
    );
    expect(warning!.message).toContain(
      "; its usage is unknown. Prometheus has worker-1: node names differ by the domain, and usage under another name is not taken as this node's; relabel so that the series carry the Kubernetes node name",
    );
    // A node Prometheus has nothing alike for gets no such hint, but the name no node has nor
    // is alike to one is named (worker-1 is worker-1.lan's alike); nor does a node Prometheus
    // has by its own name get a warning.
    const unlike = warningsAbout(result, "node/worker-3.lan")[0]?.message;
    expect(unlike).not.toContain("node names differ by the domain");
    expect(unlike).toContain(
      "; its usage is unknown. Prometheus has usage under a name no node of the cluster has: edge-1; usage under another name is not taken as this node's. If it is a machine of this cluster",
    );
    expect(warningsAbout(result, "node/worker-2")).toEqual([]);
  });

  it("treats NaN samples as unknown, never zero", async () => {
    const result = await readPrometheusUsage({ url: url(), at });

    const broken = result.containers.get("monitoring/broken-0/app");
    expect(broken).toEqual(
      expectedUsage(cluster.containers["monitoring/broken-0/app"]!, defaults, "container"),
    );
    expect(broken).not.toHaveProperty("memory");
    expect(broken?.peak).not.toHaveProperty("memory");
    expect(warningsAbout(result, "container/monitoring/broken-0/app")).toEqual([
      expect.objectContaining({
        code: "prometheus-value-unusable",
        message: expect.stringContaining("gave NaN for the memory usage"),
      }),
    ]);
  });

  it("respects the window, percentile, step and rate range asked for", async () => {
    const window: Window = {
      at: new Date((end - 1230) * 1000),
      windowSeconds: 300,
      stepSeconds: 60,
      rateSeconds: 60,
      percentile: 50,
    };
    const result = await readPrometheusUsage({ url: url(), ...window });

    expect(result).toMatchObject({ windowSeconds: 300, percentile: 50 });
    for (const node of ["cp-1", "worker-1", "worker-2"]) {
      expect({ node, usage: result.nodes.get(node) }).toEqual({
        node,
        usage: expectedUsage(cluster.nodes[node]!, window),
      });
    }
    expect(result.containers.get("media/plex-0/plex")).toEqual(
      expectedUsage(cluster.containers["media/plex-0/plex"]!, window, "container"),
    );
    // A different window gives different numbers; the options are not decoration.
    const byDefault = await readPrometheusUsage({ url: url(), at });
    expect(result.nodes.get("cp-1")?.cpu).not.toBe(byDefault.nodes.get("cp-1")?.cpu);
  });

  it("runs overridden queries, e.g. node-exporter mapped to nodes through node_uname_info", async () => {
    const byUname = (expression: string) =>
      "max by (node) (label_replace(" +
      `${expression} * on (instance) group_left (nodename) max by (instance, nodename) (node_uname_info), ` +
      '"node", "$1", "nodename", "(.+)"))';
    const result = await readPrometheusUsage({
      url: url(),
      at,
      queries: {
        nodeCpu: byUname(
          'sum by (instance) (rate(node_cpu_seconds_total{mode!~"idle|iowait|steal"}[$rate]))',
        ),
        nodeMemory: byUname(
          "max by (instance) (node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes)",
        ),
      },
    });

    expect([...result.nodes.keys()].sort()).toEqual(["worker-1", "worker-2"]);
    for (const node of ["worker-1", "worker-2"]) {
      expect({ node, usage: result.nodes.get(node) }).toEqual({
        node,
        usage: expectedUsage(cluster.exporterNodes[node]!),
      });
    }
    // Container queries kept their defaults.
    expect(result.containers.get("media/plex-0/plex")).toEqual(
      expectedUsage(cluster.containers["media/plex-0/plex"]!, defaults, "container"),
    );
  });

  it("warns once, naming the query, when a query finds no series at all", async () => {
    const query = "max by (node) (node_memory_Nonexistent_bytes)";
    const result = await readPrometheusUsage({
      url: url(),
      at,
      queries: { nodeMemory: query },
      expect: { nodes: ["cp-1"] },
    });

    expect(result.nodes.get("cp-1")).not.toHaveProperty("memory");
    expect(result.nodes.get("cp-1")?.cpu).toBe(expectedUsage(cluster.nodes["cp-1"]!).cpu);
    const empty = result.warnings.filter((w) => w.code === "prometheus-query-empty");
    expect(empty).toHaveLength(1);
    expect(empty[0]!.message).toContain("nodeMemory");
    expect(empty[0]!.message).toContain(query);
    // plan and the app take no override: relabelling is what a user of theirs can do.
    expect(empty[0]!.message).toContain(
      'relabel them or override the query (see "Overriding the queries" in docs/prometheus.md)',
    );
    expect(warningsAbout(result, "node/cp-1")).toEqual([]);
  });

  it("warns about series a query did not label with a node", async () => {
    const result = await readPrometheusUsage({
      url: url(),
      at,
      queries: { nodeCpu: 'sum(rate(container_cpu_usage_seconds_total{id="/"}[$rate]))' },
    });

    expect(result.warnings).toContainEqual(
      expect.objectContaining({
        code: "prometheus-series-unlabelled",
        message: expect.stringContaining("1 series of the nodeCpu query lack a node label"),
      }),
    );
    expect(result.nodes.get("cp-1")).not.toHaveProperty("cpu");
  });

  it("fails with Prometheus' own message, the URL and the query when the query does not parse", async () => {
    const query = "max by (node) (rate(container_cpu_usage_seconds_total[$rate])";
    const failure = readPrometheusUsage({ url: url(), at, queries: { nodeCpu: query } });

    await expect(failure).rejects.toThrow(PrometheusError);
    const error = (await failure.catch((e: unknown) => e)) as PrometheusError;
    expect(error.status).toBe(400);
    expect(error.message).toContain(
      `Prometheus at ${url()} rejected the query (HTTP 400, bad_data)`,
    );
    expect(error.message).toContain("parse error");
    expect(error.message).toContain("rate(container_cpu_usage_seconds_total[120s])");
    expect(error.exitCode).toBe(1);
  });

  it("fails with Prometheus' message when a node query cannot be evaluated", async () => {
    // Many series on both sides of a one-to-one match: Prometheus refuses at evaluation time.
    const query =
      "container_cpu_usage_seconds_total * on (node) container_memory_working_set_bytes";
    const error = (await readPrometheusUsage({
      url: url(),
      at,
      queries: { nodeMemory: query },
    }).catch((e: unknown) => e)) as PrometheusError;

    expect(error).toBeInstanceOf(PrometheusError);
    expect(error.status).toBe(422);
    expect(error.message).toContain("(HTTP 422, execution)");
    expect(error.message).toMatch(/many-to-many|duplicate series/);
    expect(error.message).toContain(query);
  });

  it("reads the nodes when a container query fails, with Prometheus' message in a warning", async () => {
    const query =
      "container_cpu_usage_seconds_total * on (node) container_memory_working_set_bytes";
    const result = await readPrometheusUsage({
      url: url(),
      at,
      queries: { containerCpu: query },
      expect: { containers: ["media/plex-0/plex"] },
    });

    for (const node of ["cp-1", "worker-1"])
      expect(result.nodes.get(node)).toEqual(expectedUsage(cluster.nodes[node]!));
    // No container is known: the memory answers are not half of a usage.
    expect(result.containers.size).toBe(0);
    expect(result.containersFailed).toBe(true);
    const failed = warningsAbout(result, "prometheus");
    expect(failed).toEqual([
      {
        code: "prometheus-containers-failed",
        subject: "prometheus",
        message: expect.stringMatching(
          /\(HTTP 422, execution\).*(many-to-many|duplicate series).*; container usage is unknown \(node usage is read from the other queries\)$/s,
        ),
      },
    ]);
    expect(failed[0]?.message).toContain(query);
    // Not a missing series of each container as well.
    expect(result.warnings.filter((w) => w.subject?.startsWith("container/"))).toEqual([]);
  });
});
