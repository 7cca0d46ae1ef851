/**
 * Hand-made usage series for `promtool tsdb create-blocks-from openmetrics`, in the label
 * layout kube-prometheus-stack stores (kubelet cAdvisor root cgroup, node-exporter joined to
 * its node through kube-state-metrics' `kube_pod_info`), with samples left out where a test
 * wants a gap. CPU runs at a constant rate, so every rate Prometheus computes is exact.
 */

/** Seconds between samples, as a 15 s scrape interval. */
export const scrapeSeconds = 15;

type Labels = Record<string, string>;

/** Sample times (Unix seconds) at which a series has a sample. */
export type Presence = (t: number) => boolean;

const always: Presence = () => true;

export interface Series {
  name: string;
  kind: "counter" | "gauge" | "info";
  labels: Labels;
  /** The value at t (a number, or its exact text), or undefined for no sample. */
  value: (t: number) => number | string | undefined;
}

/** Busy cores: a constant, or the rate over the scrape interval ending at t. */
export type Cores = number | ((t: number) => number);

/**
 * A CPU-seconds counter from a large value at `start`, growing by `cores` per second; where
 * `cores` varies, or the counter is reset at `resetAt` (a kubelet restart, after which it counts
 * from the CPU time of the interval up to it), by `cores(t)` over each scrape interval ending at
 * t, read on the sample grid.
 */
function cpuCounter(cores: Cores, start: number, resetAt?: number): (t: number) => number {
  if (typeof cores === "number" && resetAt === undefined) {
    return (t) => 1_000_000 + cores * (t - start);
  }
  const rate = typeof cores === "number" ? () => cores : cores;
  const values = new Map([[start, 1_000_000]]);
  let at = start;
  let value = 1_000_000;
  return (t) => {
    while (at < t) {
      at += scrapeSeconds;
      value += rate(at) * scrapeSeconds;
      if (at === resetAt) value = rate(at) * scrapeSeconds;
      values.set(at, value);
    }
    const found = values.get(t);
    if (found === undefined)
      throw new Error(`no sample at ${t}: samples are every ${scrapeSeconds} s from ${start}`);
    return found;
  };
}

export interface RootCgroup {
  node: string;
  ip: string;
  cores: Cores;
  bytes: number;
  present?: Presence;
  /** When the kubelet restarted, resetting its CPU counter. */
  resetAt?: number;
  /** Extra labels, e.g. another Prometheus replica's `prometheus_replica`. */
  extra?: Labels;
}

/** The kubelet's cAdvisor root cgroup (`id="/"`) of one node. */
export function rootCgroup(spec: RootCgroup, start: number): Series[] {
  const labels: Labels = {
    endpoint: "https-metrics",
    id: "/",
    instance: `${spec.ip}:10250`,
    job: "kubelet",
    metrics_path: "/metrics/cadvisor",
    node: spec.node,
    service: "kube-prometheus-stack-kubelet",
    ...spec.extra,
  };
  const present = spec.present ?? always;
  const cpu = cpuCounter(spec.cores, start, spec.resetAt);
  return [
    {
      name: "container_cpu_usage_seconds_total",
      kind: "counter",
      labels,
      value: (t) => (present(t) ? cpu(t) : undefined),
    },
    {
      name: "container_memory_working_set_bytes",
      kind: "gauge",
      labels,
      value: (t) => (present(t) ? spec.bytes : undefined),
    },
  ];
}

export interface Container {
  namespace: string;
  pod: string;
  container: string;
  node: string;
  ip: string;
  cores: number;
  bytes: number;
  extra?: Labels;
}

/** One container's cgroup as the kubelet's cAdvisor reports it. */
export function containerCgroup(spec: Container, start: number): Series[] {
  const labels: Labels = {
    container: spec.container,
    endpoint: "https-metrics",
    id: `/kubepods.slice/kubepods-pod-${spec.pod}/cri-containerd-${spec.container}.scope`,
    instance: `${spec.ip}:10250`,
    job: "kubelet",
    metrics_path: "/metrics/cadvisor",
    namespace: spec.namespace,
    node: spec.node,
    pod: spec.pod,
    ...spec.extra,
  };
  const cpu = cpuCounter(spec.cores, start);
  return [
    { name: "container_cpu_usage_seconds_total", kind: "counter", labels, value: cpu },
    { name: "container_memory_working_set_bytes", kind: "gauge", labels, value: () => spec.bytes },
  ];
}

export interface Exporter {
  node: string;
  ip: string;
  /** Busy cores over the machine's 4 CPUs, split evenly between user and system. */
  cores: number;
  usedBytes: number;
  /** One set of series per scrape: extra labels for each (another job, another replica). */
  scrapes: Labels[];
}

/**
 * node-exporter with prometheus-operator's labels, once per scrape, and kube-state-metrics'
 * `kube_pod_info` for its pod, once per scrape as well.
 */
export function nodeExporter(spec: Exporter, start: number): Series[] {
  const pod = `prometheus-node-exporter-${spec.node}`;
  const series: Series[] = [];
  const total = 16 * 2 ** 30;
  for (const extra of spec.scrapes) {
    const labels: Labels = {
      container: "node-exporter",
      endpoint: "http-metrics",
      instance: `${spec.ip}:9100`,
      job: "node-exporter",
      namespace: "monitoring",
      pod,
      service: "kube-prometheus-stack-prometheus-node-exporter",
      ...extra,
    };
    for (let cpu = 0; cpu < 4; cpu++) {
      const modes: Record<string, number> = {
        user: spec.cores / 8,
        system: spec.cores / 8,
        idle: 1 - spec.cores / 4,
      };
      for (const [mode, cores] of Object.entries(modes)) {
        series.push({
          name: "node_cpu_seconds_total",
          kind: "counter",
          labels: { ...labels, cpu: String(cpu), mode },
          value: cpuCounter(cores, start),
        });
      }
    }
    series.push(
      { name: "node_memory_MemTotal_bytes", kind: "gauge", labels, value: () => total },
      {
        name: "node_memory_MemAvailable_bytes",
        kind: "gauge",
        labels,
        value: () => total - spec.usedBytes,
      },
      {
        name: "kube_pod_info",
        kind: "info",
        labels: {
          container: "kube-state-metrics",
          instance: "10.244.0.20:8080",
          job: "kube-state-metrics",
          namespace: "monitoring",
          pod,
          node: spec.node,
          created_by_kind: "DaemonSet",
          host_network: "true",
          ...(extra.prometheus_replica ? { prometheus_replica: extra.prometheus_replica } : {}),
        },
        value: () => 1,
      },
    );
  }
  return series;
}

export interface PlainExporter {
  /** The machine's hostname, as node_uname_info's `nodename` says it. */
  hostname: string;
  ip: string;
  present?: Presence;
}

/**
 * node-exporter as a plain `kubernetes_sd_configs` scrape labels it: `instance` is the machine's
 * address, and only node_uname_info's `nodename` says which machine it is (no node label, no
 * kube-state-metrics). One of its 4 CPUs is busy, at 0.5 cores (user and system a quarter core
 * each); 2 GiB of 16 are in use.
 */
export function plainExporter(spec: PlainExporter, start: number): Series[] {
  const labels: Labels = { instance: `${spec.ip}:9100`, job: "node-exporter" };
  const present = spec.present ?? always;
  const sampled = (value: (t: number) => number) => (t: number) =>
    present(t) ? value(t) : undefined;
  const cpus = [0, 1, 2, 3].flatMap((cpu) =>
    Object.entries(
      cpu === 0 ? { user: 0.25, system: 0.25, idle: 0.5 } : { user: 0, system: 0, idle: 1 },
    ).map(
      ([mode, cores]): Series => ({
        name: "node_cpu_seconds_total",
        kind: "counter",
        labels: { cpu: String(cpu), ...labels, mode },
        value: sampled(cpuCounter(cores, start)),
      }),
    ),
  );
  const total = 16 * 2 ** 30;
  return [
    ...cpus,
    { name: "node_memory_MemTotal_bytes", kind: "gauge", labels, value: sampled(() => total) },
    {
      name: "node_memory_MemAvailable_bytes",
      kind: "gauge",
      labels,
      value: sampled(() => total - 2 * 2 ** 30),
    },
    {
      name: "node_uname_info",
      kind: "info",
      labels: {
        ...labels,
        machine: "x86_64",
        nodename: spec.hostname,
        release: "6.12.36-talos",
        sysname: "Linux",
      },
      value: sampled(() => 1),
    },
  ];
}

/** The series as OpenMetrics, one family per metric name, samples from start to end. */
export function openMetricsOf(series: Series[], start: number, end: number): string {
  const families = new Map<string, Series[]>();
  for (const one of series) {
    const members = families.get(one.name);
    if (members) members.push(one);
    else families.set(one.name, [one]);
  }
  const lines: string[] = [];
  const written = new Set<string>();
  for (const [name, members] of families) {
    const kind = members[0]!.kind;
    const family =
      kind === "counter"
        ? name.replace(/_total$/, "")
        : kind === "info"
          ? name.replace(/_info$/, "")
          : name;
    lines.push(`# TYPE ${family} ${kind}`);
    for (const one of members) {
      const labels = Object.entries(one.labels)
        .map(([key, value]) => `${key}="${value}"`)
        .join(",");
      // The same series twice (kube_pod_info of one pod per scrape job) is written once.
      if (written.has(`${name}{${labels}}`)) continue;
      written.add(`${name}{${labels}}`);
      for (let t = start; t <= end; t += scrapeSeconds) {
        const value = one.value(t);
        if (value !== undefined) lines.push(`${name}{${labels}} ${value} ${t}`);
      }
    }
  }
  lines.push("# EOF", "");
  return lines.join("\n");
}
