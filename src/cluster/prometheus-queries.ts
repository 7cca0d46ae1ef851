/**
 * PromQL giving one instant vector of current usage: CPU in cores (CPU-seconds per second),
 * memory in bytes. Node queries return one series per node labelled `node` (the Kubernetes
 * node name); container queries one series per container labelled `namespace`, `pod` and
 * `container`. Each is evaluated at every step of the window through a subquery, so it must
 * not contain a subquery window of its own. `$rate` stands for the rate range (e.g. `120s`),
 * `$rateSeconds` for its seconds as a number (`120`).
 */
export interface PrometheusQueries {
  nodeCpu: string;
  nodeMemory: string;
  containerCpu: string;
  containerMemory: string;
}

export type PrometheusQueryName = keyof PrometheusQueries;

export const prometheusQueryNames: readonly PrometheusQueryName[] = [
  "nodeCpu",
  "nodeMemory",
  "containerCpu",
  "containerMemory",
];

/**
 * Node name for node-exporter series, which prometheus-operator labels with the exporter's
 * `namespace` and `pod`: kube-state-metrics' `kube_pod_info` says which node that pod runs on.
 * `topk` keeps one node per pod when kube-state-metrics runs more than one replica.
 */
const onExporterNode =
  "* on (namespace, pod) group_left (node) " +
  'topk by (namespace, pod) (1, max by (namespace, pod, node) (kube_pod_info{node!=""}))';

/**
 * Node name for node-exporter series by their `instance` alone (a plain scrape config, without
 * prometheus-operator's labels): `node_uname_info`'s `nodename`, the machine's hostname, which
 * the kubelet names its node after unless told otherwise. `topk` keeps one name per instance.
 */
const byUname = (expression: string) =>
  "max by (node) (label_replace(" +
  `${expression} * on (instance) group_left (nodename) ` +
  "topk by (instance) (1, max by (instance, nodename) (node_uname_info)), " +
  '"node", "$1", "nodename", "(.+)"))';

/**
 * `rate()` of a counter over `$rate`, kept only at steps where the series' samples cover that
 * range. rate() extrapolates at most about half a scrape interval past the samples it has and
 * divides by the whole range, so a range the series covers in part reads low: one it entered
 * part way through (the node joined, Prometheus started, scrapes came back after a gap) or one
 * it left (scrapes stopped or failed). Such a step has no value rather than a low one:
 * - the range before must have samples, and this range no more than one fewer (a series that
 *   entered the range part way has none in the range before; one back from a gap lacks more);
 * - the last sample must be no older than 1.1 times the interval between the samples of the
 *   range before (rate() extrapolates to the end of the range within 1.1 intervals).
 * One failed scrape inside the range changes neither, and a rate between samples at both ends
 * reads right. A series scraped throughout meets both at every step (with a range of a whole
 * number of scrape intervals, each range holds as many samples) and keeps every value.
 */
export function coveredRate(selector: string): string {
  const range = `${selector}[$rate]`;
  const before = `count_over_time(${range} offset $rate)`;
  return (
    `(rate(${range}) and count_over_time(${range}) + 1 >= ${before} ` +
    `and time() - timestamp(${selector}) < 1.1 * $rateSeconds / ${before})`
  );
}

/**
 * The defaults read the kubelet's cAdvisor root cgroup (`id="/"`) where it is kept: the same
 * quantity metrics-server reports, labelled `node` by prometheus-operator's kubelet targets.
 * kube-prometheus-stack drops cgroup series without a pod, root included, so for nodes without
 * them `or` falls back to node-exporter, mapped to node names through `kube_pod_info`, and for
 * nodes still without, to node-exporter mapped through `node_uname_info`.
 * Several series for one container are the same cgroup seen twice (a second scrape of the
 * kubelet, a restarted container still inside the rate range), hence `max`, never `sum`.
 * A node's CPU is read only where its rate range is covered (`coveredRate`).
 */
export const defaultPrometheusQueries: PrometheusQueries = {
  nodeCpu:
    `max by (node) (${coveredRate('container_cpu_usage_seconds_total{id="/", node!=""}')}) or ` +
    "max by (node) (sum by (namespace, pod) (max by (namespace, pod, cpu, mode) " +
    `${coveredRate('node_cpu_seconds_total{mode!~"idle|iowait|steal"}')}) ` +
    `${onExporterNode}) or ` +
    byUname(
      "sum by (instance) (max by (instance, cpu, mode) " +
        `${coveredRate('node_cpu_seconds_total{mode!~"idle|iowait|steal"}')})`,
    ),
  nodeMemory:
    'max by (node) (container_memory_working_set_bytes{id="/", node!=""}) or ' +
    "max by (node) (max by (namespace, pod) (node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes) " +
    `${onExporterNode}) or ` +
    byUname("max by (instance) (node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes)"),
  containerCpu:
    "max by (namespace, pod, container) " +
    '(rate(container_cpu_usage_seconds_total{container!="", container!="POD"}[$rate]))',
  containerMemory:
    "max by (namespace, pod, container) " +
    '(container_memory_working_set_bytes{container!="", container!="POD"})',
};

export interface WindowSettings {
  windowSeconds: number;
  stepSeconds: number;
  rateSeconds: number;
  /** 0 < percentile <= 100. */
  percentile: number;
}

export interface WindowQueries {
  /** Mean of the query's values at each step of the window. */
  average: string;
  /** The percentile of those values (Prometheus interpolates between neighbours). */
  peak: string;
  /** The lowest of those values: what a level held over the window never fell below. */
  low: string;
  /** How many steps of the window the query has a value at. */
  points: string;
  /** When the first of those steps is, Unix seconds. */
  first: string;
  /** The values at each step themselves, a range vector (asked of the node queries). */
  steps: string;
}

/** Wraps one usage query into the window statistics sent to Prometheus. */
export function windowQueries(query: string, settings: WindowSettings): WindowQueries {
  const inner = query
    .replaceAll(/\$rateSeconds\b/g, String(settings.rateSeconds))
    .replaceAll(/\$rate\b/g, `${settings.rateSeconds}s`);
  const range = `[${settings.windowSeconds}s:${settings.stepSeconds}s]`;
  return {
    average: `avg_over_time((${inner})${range})`,
    peak: `quantile_over_time(${settings.percentile / 100}, (${inner})${range})`,
    low: `min_over_time((${inner})${range})`,
    points: `count_over_time((${inner})${range})`,
    // `* 0` makes every value a computed one, which timestamp() stamps with the step's time;
    // a bare selector would give its raw sample's time, up to the lookback before the step.
    first: `min_over_time(timestamp((${inner}) * 0)${range})`,
    steps: `(${inner})${range}`,
  };
}
