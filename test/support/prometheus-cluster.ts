/**
 * A small cluster's usage series over the last hour, as kube-prometheus-stack would store them
 * (kubelet cAdvisor, node-exporter, kube-state-metrics label layouts), written as OpenMetrics
 * for `promtool tsdb create-blocks-from openmetrics`, together with the true values behind
 * them so tests can compute what each query must return.
 *
 * Values are chosen so every statistic the reader reports is a whole number: CPU rates are
 * multiples of 200 millicores per minute and memory values multiples of 20 MiB, so averages
 * over 5 or 10 points and Prometheus' interpolated quantiles at 0.5 and 0.95 need no rounding.
 */

import { openMetricsOf, scrapeSeconds } from "./prometheus-series.ts";

/** Seconds between samples, as a 15 s scrape interval (the one openMetricsOf writes at). */
export const sampleSeconds = scrapeSeconds;

const MiB = 2 ** 20;
const GiB = 2 ** 30;

type Labels = Record<string, string>;

/** Millicores used during minute `m` of the Unix epoch, i.e. over (60m, 60m + 60]. */
export type CpuPattern = (minute: number) => number;
/** Bytes in use at time `t` (Unix seconds, on the sample grid). */
export type MemoryPattern = (t: number) => number;

/** What the queries should see for one node or container. */
export interface Truth {
  /** Millicores by the rate over (t - rangeSeconds, t]. */
  cpu?: (t: number, rangeSeconds: number) => number;
  /** Bytes at t. */
  memory?: MemoryPattern;
}

export interface PrometheusCluster {
  /** First and last sample times, Unix seconds, both on minute boundaries. */
  start: number;
  end: number;
  openMetrics: string;
  /** By the default queries: cAdvisor root cgroup where present, else node-exporter. */
  nodes: Record<string, Truth>;
  /** By node-exporter alone, for queries that map nodes through node_uname_info. */
  exporterNodes: Record<string, Truth>;
  /** By `namespace/pod/container`. */
  containers: Record<string, Truth>;
}

type Sampled =
  | { kind: "counter"; name: string; labels: Labels; cpu: CpuPattern }
  | { kind: "gauge"; name: string; labels: Labels; value: (t: number) => number | "NaN" }
  | { kind: "info"; name: string; labels: Labels };

/** A CPU pattern cycling through `length` levels of 200 m, starting at `from` × 200 m. */
function cpuWave(seed: number, from = 1, length = 7): CpuPattern {
  return (minute) => 200 * (from + ((minute * 3 + seed) % length));
}

function memoryWave(seed: number, base: number, length = 13): MemoryPattern {
  return (t) => base + 20 * MiB * (((t / sampleSeconds) * 5 + seed) % length);
}

/** Millicore-seconds used over (from, to], both on the sample grid. */
function usedMilli(cpu: CpuPattern, from: number, to: number): number {
  let total = 0;
  for (let s = Math.floor(from / 60) * 60; s < to; s += 60) {
    const overlap = Math.min(to, s + 60) - Math.max(from, s);
    if (overlap > 0) total += cpu(s / 60) * overlap;
  }
  return total;
}

/** Counter value in millicore-seconds at t, counting from a large value at `start`. */
function counterMilli(cpu: CpuPattern, start: number, t: number): number {
  return 100_000_000 + usedMilli(cpu, start, t);
}

/** Rate over a range that starts and ends on samples: Prometheus needs no extrapolation. */
export function rateMilli(cpu: CpuPattern, t: number, rangeSeconds: number): number {
  return usedMilli(cpu, t - rangeSeconds, t) / rangeSeconds;
}

function sumCpu(patterns: CpuPattern[]): CpuPattern {
  return (minute) => patterns.reduce((total, pattern) => total + pattern(minute), 0);
}

function cpuTruth(cpu: CpuPattern): Truth["cpu"] {
  return (t, rangeSeconds) => rateMilli(cpu, t, rangeSeconds);
}

const kubelet = (node: string, ip: string): Labels => ({
  endpoint: "https-metrics",
  instance: `${ip}:10250`,
  job: "kubelet",
  metrics_path: "/metrics/cadvisor",
  node,
  service: "kube-prometheus-stack-kubelet",
});

const cgroupRoot: Labels = { container: "", id: "/", image: "", name: "", namespace: "", pod: "" };

interface ExporterNode {
  node: string;
  ip: string;
  pod: string;
  /** Per CPU: user and system patterns; iowait and steal run at 100 m each. */
  cpus: { user: CpuPattern; system: CpuPattern }[];
  used: MemoryPattern;
}

function exporterSeries(exporter: ExporterNode): Sampled[] {
  const labels: Labels = {
    container: "node-exporter",
    endpoint: "http-metrics",
    instance: `${exporter.ip}:9100`,
    job: "node-exporter",
    namespace: "monitoring",
    pod: exporter.pod,
    service: "kube-prometheus-stack-prometheus-node-exporter",
  };
  const series: Sampled[] = [];
  exporter.cpus.forEach(({ user, system }, cpu) => {
    const modes: Record<string, CpuPattern> = {
      user,
      system,
      iowait: () => 100,
      steal: () => 100,
      idle: (minute) => 1000 - user(minute) - system(minute) - 200,
    };
    for (const [mode, pattern] of Object.entries(modes)) {
      series.push({
        kind: "counter",
        name: "node_cpu_seconds_total",
        labels: { ...labels, cpu: String(cpu), mode },
        cpu: pattern,
      });
    }
  });
  const total = 8 * GiB;
  series.push(
    { kind: "gauge", name: "node_memory_MemTotal_bytes", labels, value: () => total },
    {
      kind: "gauge",
      name: "node_memory_MemAvailable_bytes",
      labels,
      value: (t) => total - exporter.used(t),
    },
    {
      kind: "info",
      name: "node_uname_info",
      labels: { ...labels, nodename: exporter.node, sysname: "Linux", release: "6.6.60-talos" },
    },
  );
  return series;
}

function exporterTruth(exporter: ExporterNode): Truth {
  const busy = sumCpu(exporter.cpus.flatMap(({ user, system }) => [user, system]));
  return { cpu: cpuTruth(busy), memory: exporter.used };
}

/** kube-state-metrics' pod info; two replicas of kube-state-metrics report the same pod twice. */
function podInfo(namespace: string, pod: string, node: string, replicas = 1): Sampled[] {
  return Array.from({ length: replicas }, (_, replica) => ({
    kind: "info" as const,
    name: "kube_pod_info",
    labels: {
      container: "kube-state-metrics",
      instance: `10.244.0.${20 + replica}:8080`,
      job: "kube-state-metrics",
      namespace,
      pod,
      node,
      created_by_kind: "DaemonSet",
      host_network: "true",
    },
  }));
}

interface ContainerSpec {
  namespace: string;
  pod: string;
  container: string;
  node: string;
  ip: string;
  id: string;
  cpu: CpuPattern;
  memory: MemoryPattern | "NaN";
}

function containerSeries(spec: ContainerSpec): Sampled[] {
  const labels: Labels = {
    ...kubelet(spec.node, spec.ip),
    container: spec.container,
    id: spec.id,
    image: `registry.example/${spec.container}:1.0`,
    name: spec.id.split("/").at(-1) ?? "",
    namespace: spec.namespace,
    pod: spec.pod,
  };
  const memory = spec.memory;
  return [
    { kind: "counter", name: "container_cpu_usage_seconds_total", labels, cpu: spec.cpu },
    {
      kind: "gauge",
      name: "container_memory_working_set_bytes",
      labels,
      value: memory === "NaN" ? () => "NaN" : memory,
    },
  ];
}

/** Builds the cluster's series for the hour ending at `end` (a minute boundary). */
export function prometheusCluster(end: number): PrometheusCluster {
  if (end % 60 !== 0) throw new Error(`end ${end} is not on a minute boundary`);
  const start = end - 3600;
  const series: Sampled[] = [];
  const truth = { nodes: {}, exporterNodes: {}, containers: {} } as Pick<
    PrometheusCluster,
    "nodes" | "exporterNodes" | "containers"
  >;

  // Nodes whose kubelet keeps the cAdvisor root cgroup series.
  const roots = [
    { node: "cp-1", ip: "10.0.0.10", cpu: cpuWave(1), memory: memoryWave(1, 3 * GiB) },
    { node: "worker-1", ip: "10.0.0.11", cpu: cpuWave(2, 2), memory: memoryWave(2, 5 * GiB) },
  ];
  for (const root of roots) {
    const labels = { ...kubelet(root.node, root.ip), ...cgroupRoot };
    series.push(
      { kind: "counter", name: "container_cpu_usage_seconds_total", labels, cpu: root.cpu },
      { kind: "gauge", name: "container_memory_working_set_bytes", labels, value: root.memory },
    );
    truth.nodes[root.node] = { cpu: cpuTruth(root.cpu), memory: root.memory };
  }
  // A node whose memory series are missing everywhere: its memory stays unknown.
  const edgeCpu = cpuWave(3);
  series.push({
    kind: "counter",
    name: "container_cpu_usage_seconds_total",
    labels: { ...kubelet("edge-1", "10.0.0.20"), ...cgroupRoot },
    cpu: edgeCpu,
  });
  truth.nodes["edge-1"] = { cpu: cpuTruth(edgeCpu) };

  // node-exporter on worker-1 (shadowed by its cAdvisor root) and worker-2 (node-exporter only).
  const exporters: ExporterNode[] = [
    {
      node: "worker-1",
      ip: "10.0.0.11",
      pod: "node-exporter-7xk2p",
      cpus: [0, 1].map((c) => ({ user: cpuWave(10 + c, 1, 2), system: cpuWave(20 + c, 0, 2) })),
      used: memoryWave(4, 4 * GiB),
    },
    {
      node: "worker-2",
      ip: "10.0.0.12",
      pod: "node-exporter-q9m4d",
      cpus: [0, 1].map((c) => ({ user: cpuWave(30 + c, 1, 2), system: cpuWave(40 + c, 0, 2) })),
      used: memoryWave(5, 2 * GiB),
    },
  ];
  for (const exporter of exporters) {
    series.push(...exporterSeries(exporter));
    series.push(...podInfo("monitoring", exporter.pod, exporter.node, 2));
    truth.exporterNodes[exporter.node] = exporterTruth(exporter);
  }
  truth.nodes["worker-2"] = exporterTruth(exporters[1]!);

  const web = {
    namespace: "default",
    pod: "web-7d9f8c6b5-x2x9q",
    node: "worker-1",
    ip: "10.0.0.11",
  };
  const webCgroup = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3f2a";
  const containers: ContainerSpec[] = [
    {
      ...web,
      container: "nginx",
      id: `${webCgroup}/cri-containerd-a1.scope`,
      cpu: cpuWave(50),
      memory: memoryWave(6, 200 * MiB),
    },
    {
      ...web,
      container: "metrics-exporter",
      id: `${webCgroup}/cri-containerd-a2.scope`,
      cpu: cpuWave(51, 0, 3),
      memory: memoryWave(7, 40 * MiB),
    },
    {
      namespace: "media",
      pod: "plex-0",
      container: "plex",
      node: "worker-2",
      ip: "10.0.0.12",
      id: "/kubepods.slice/kubepods-pod77b1/cri-containerd-c2.scope",
      cpu: cpuWave(52, 3),
      memory: memoryWave(8, 1 * GiB),
    },
    {
      namespace: "monitoring",
      pod: "broken-0",
      container: "app",
      node: "worker-2",
      ip: "10.0.0.12",
      id: "/kubepods.slice/kubepods-pod9c0d/cri-containerd-d1.scope",
      cpu: cpuWave(53),
      memory: "NaN",
    },
  ];
  for (const spec of containers) {
    series.push(...containerSeries(spec));
    const key = `${spec.namespace}/${spec.pod}/${spec.container}`;
    truth.containers[key] = {
      cpu: cpuTruth(spec.cpu),
      ...(spec.memory === "NaN" ? {} : { memory: spec.memory }),
    };
  }
  // The restarted plex container's previous cgroup, always below the current one: not summed.
  series.push(
    ...containerSeries({
      ...containers[2]!,
      id: "/kubepods.slice/kubepods-pod77b1/cri-containerd-c1.scope",
      cpu: (minute) => containers[2]!.cpu(minute) - 200,
      memory: (t) => memoryWave(8, 1 * GiB)(t) - 20 * MiB,
    }),
  );
  // Cgroups that are not containers: the web pod's own cgroup and a dockershim pause container.
  series.push(
    ...containerSeries({ ...containers[0]!, container: "", id: webCgroup, cpu: cpuWave(54, 5) }),
    ...containerSeries({ ...containers[0]!, container: "POD", id: `${webCgroup}/pause` }),
  );

  return { start, end, openMetrics: openMetrics(series, start, end), ...truth };
}

/** Renders the series as OpenMetrics, one family per metric name, samples in time order. */
function openMetrics(series: Sampled[], start: number, end: number): string {
  return openMetricsOf(
    series.map((one) => ({
      name: one.name,
      kind: one.kind,
      labels: one.labels,
      value: (t: number) => sampleValue(one, start, t),
    })),
    start,
    end,
  );
}

function sampleValue(one: Sampled, start: number, t: number): string {
  if (one.kind === "info") return "1";
  if (one.kind === "gauge") return String(one.value(t));
  const milli = counterMilli(one.cpu, start, t);
  return `${Math.trunc(milli / 1000)}.${String(milli % 1000).padStart(3, "0")}`;
}

/** The times Prometheus evaluates a `[window:step]` subquery at, for a query at `at`. */
export function windowPoints(at: number, windowSeconds: number, stepSeconds: number): number[] {
  const points: number[] = [];
  const first = Math.ceil((at - windowSeconds) / stepSeconds) * stepSeconds;
  for (let t = first; t <= at; t += stepSeconds) points.push(t);
  return points;
}

export function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Prometheus' φ-quantile: linear interpolation between the closest ranks (rank φ·(n−1)). */
export function prometheusQuantile(phi: number, values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = phi * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.min(lower + 1, sorted.length - 1);
  const weight = rank - lower;
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}
