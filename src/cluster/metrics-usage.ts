import { parseCpu, parseUnits, QuantityError } from "../planning/quantity.ts";
import type { ContainerInfo, PodInfo, Usage } from "../planning/snapshot.ts";
import { type Intern, list, type Raw, record, string } from "./raw.ts";
import { nonNegative } from "./resources.ts";
import type { WarningCollector } from "./warnings.ts";

export interface MetricsContext {
  now: Date;
  /** The time planned for, when not now: samples are fresh within maxAgeSeconds of it instead. */
  planningTime?: Date;
  /** Samples older than this are stale: their usage is unknown. */
  maxAgeSeconds: number;
  warnings: WarningCollector;
  /** Shares timestamps and names (metrics-server stamps all pods of a node alike). */
  intern?: Intern;
  /**
   * Where samples refused with a warning (stale, or without a readable timestamp) are noted,
   * so that the object is not warned about again as having no metrics: node names, and pods.
   */
  refused?: { nodes: Set<string>; pods: Set<PodInfo> };
}

/** Usage of one pod from metrics.k8s.io, and of each of its containers by name. */
export interface PodUsage {
  /** Absent when unknown: a container the pod runs has none. */
  usage?: Usage;
  containers: Map<string, Usage>;
}

const durationUnits: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** Parses a Go duration as metrics-server writes it (`30s`, `20.035s`, `1m0s`) into seconds. */
export function parseGoDuration(text: string): number | undefined {
  if (text === "0") return 0;
  const pattern = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(pattern)) {
    total += Number(match[1]) * (durationUnits[match[2] as string] as number);
    consumed += match[0].length;
  }
  return consumed > 0 && consumed === text.length ? total : undefined;
}

/**
 * How many seconds a sample taken at `at` (ms) lies before `time` (negative: after), when that
 * is more than `maxAgeSeconds` either way; undefined while it is fresh. A little ahead is clock
 * skew; days ahead is not a measurement of that time.
 */
export function staleBy(at: number, time: Date, maxAgeSeconds: number): number | undefined {
  const age = (time.getTime() - at) / 1000;
  return Math.abs(age) > maxAgeSeconds ? age : undefined;
}

/**
 * The common part of NodeMetrics and PodMetrics: when and over what window. Undefined, with a
 * warning, when the sample is stale or has no readable timestamp.
 */
function readSample(raw: Raw, subject: string, context: MetricsContext): Usage | undefined {
  const timestamp = string(raw.timestamp);
  const at = timestamp === undefined ? Number.NaN : Date.parse(timestamp);
  if (Number.isNaN(at)) {
    context.warnings.add(
      "metrics-invalid",
      "the metrics sample has no readable timestamp",
      subject,
    );
    return undefined;
  }
  // A sample stands for the time it was taken: fresh within maxAgeSeconds of the time planned
  // for (the read, unless the caller plans for another time), as a saved snapshot's is.
  const age = staleBy(at, context.planningTime ?? context.now, context.maxAgeSeconds);
  if (age !== undefined) {
    context.warnings.add(
      "metrics-stale",
      age > 0
        ? `metrics are ${Math.round(age)}s old (more than ${context.maxAgeSeconds}s); usage treated as unknown`
        : `metrics are stamped ${Math.round(-age)}s in the future (more than ${context.maxAgeSeconds}s); usage treated as unknown`,
      subject,
    );
    return undefined;
  }
  const usage: Usage = {
    source: "metrics-server",
    timestamp: context.intern ? context.intern(timestamp as string) : (timestamp as string),
  };
  const window = parseGoDuration(string(raw.window) ?? "");
  if (window !== undefined) usage.windowSeconds = window;
  return usage;
}

/**
 * Why cpu over a sample's `window` (as written) is no measurement, said after "a rate over the
 * sample's window": cpu is a rate over it (the cpu time used between two scrapes, divided by
 * the time between them), so over a window of 0s, or one that is not a duration, it is
 * unknown, not the figure written. Undefined for a window of some time, and for a sample that
 * gives none: the metrics API always writes it, so only a hand-made sample leaves it out, and
 * its figure is read as `kubectl top` and the HPA controller read it, as the rate now (such a
 * sample covers no window: its usage is one point in time, as any metrics-server sample).
 */
function unmeasuredCpu(window: unknown): string | undefined {
  if (window === undefined) return undefined;
  const seconds = typeof window === "string" ? parseGoDuration(window) : undefined;
  if (seconds === undefined) return `, and ${JSON.stringify(window)} is not a duration`;
  return seconds > 0 ? undefined : " of 0s, which measures nothing";
}

/**
 * Reads `value`'s cpu and memory into `usage`. `window` is the sample's, as written: cpu over
 * a window that is no time is unknown ({@link unmeasuredCpu}); memory is the working set at
 * the scrape, whatever the window.
 */
function readUsageValues(
  value: unknown,
  usage: Usage,
  subject: string,
  field: string,
  context: MetricsContext,
  window: unknown,
): void {
  const source = record(value);
  for (const [name, parse] of [
    ["cpu", parseCpu],
    ["memory", parseUnits],
  ] as const) {
    const text = source[name];
    if (text === undefined) {
      // metrics-server always writes both: a sample without one was cut or made by hand.
      context.warnings.add(
        "metrics-invalid",
        `${field}.${name} is missing from the sample; ${name} usage treated as unknown`,
        subject,
      );
      continue;
    }
    const unmeasured = name === "cpu" ? unmeasuredCpu(window) : undefined;
    if (unmeasured !== undefined) {
      context.warnings.add(
        "metrics-invalid",
        `${field}.cpu is a rate over the sample's window${unmeasured}; cpu usage treated as unknown`,
        subject,
      );
      continue;
    }
    try {
      if (typeof text !== "string") throw new QuantityError(String(text), "not a string");
      usage[name] = nonNegative(parse(text), text);
    } catch (error) {
      if (!(error instanceof QuantityError)) throw error;
      context.warnings.add(
        "quantity-invalid",
        `${field}.${name}: ${error.message}; treated as unknown`,
        subject,
      );
    }
  }
}

/** A NodeMetrics object → [node name, usage], or undefined when stale or unreadable. */
export function toNodeUsage(raw: Raw, context: MetricsContext): [string, Usage] | undefined {
  const name = string(record(raw.metadata).name);
  if (name === undefined) return undefined;
  const subject = `node/${name}`;
  const usage = readSample(raw, subject, context);
  if (!usage) {
    context.refused?.nodes.add(name);
    return undefined;
  }
  readUsageValues(raw.usage, usage, subject, "usage", context, raw.window);
  return [name, usage];
}

/** A pod's usage, ready to be put on it and on its containers (see {@link podUsageUpdate}). */
export interface PodUsageUpdate {
  pod: PodInfo;
  /** Absent when a container the pod runs has no usage in the sample: the pod's is unknown. */
  usage?: Usage;
  /**
   * By position in the pod's containers, then its init containers. Absent when the pod has
   * one container and `usage` is that container's (most pods; it saves a list per pod).
   */
  containers?: (Usage | undefined)[];
}

/**
 * A PodMetrics object → the usage of a pod in `pods`, matched to its containers by name;
 * undefined when the pod is unknown, the sample stale or unreadable. Nothing is changed
 * until {@link applyPodUsageUpdate}, so a list that fails half way changes nothing.
 * A pod with one container shares that container's usage object (they are equal). When an
 * app container or sidecar of the pod is not in the sample (it was restarting, say), the
 * pod's usage is unknown, not the sum of the others, and a `metrics-missing` warning names it.
 */
export function podUsageUpdate(
  raw: Raw,
  pods: PodIndex,
  context: MetricsContext,
): PodUsageUpdate | undefined {
  const metadata = record(raw.metadata);
  const namespace = string(metadata.namespace) ?? "";
  const name = string(metadata.name);
  if (name === undefined) return undefined;
  const pod = pods.find(namespace, name);
  if (!pod) return undefined;
  const subject = `pod/${namespace}/${name}`;
  const sample = readSample(raw, subject, context);
  if (!sample) {
    context.refused?.pods.add(pod);
    return undefined;
  }
  const byName = new Map<string, Usage>();
  const items = list(raw.containers);
  for (let index = 0; index < items.length; index++) {
    const item = record(items[index]);
    const values: Usage = { source: sample.source };
    readUsageValues(item.usage, values, subject, `containers[${index}].usage`, context, raw.window);
    byName.set(string(item.name) ?? "", withSample(sample, values.cpu, values.memory));
  }
  const parts = [...byName.values()];
  const usage = parts.length === 1 ? (parts[0] as Usage) : sumUsage(sample, parts);
  const [only] = pod.containers;
  if (pod.containers.length === 1 && pod.initContainers.length === 0) {
    const own = byName.get((only as ContainerInfo).name);
    if (own === usage) return { pod, usage };
  }
  const find = (container: ContainerInfo) => byName.get(container.name);
  const containers = pod.containers.map(find);
  const update: PodUsageUpdate = {
    pod,
    containers:
      pod.initContainers.length === 0
        ? containers
        : containers.concat(pod.initContainers.map(find)),
  };
  const missing = unmeasured(pod, byName);
  if (missing.length === 0) update.usage = usage;
  else {
    context.refused?.pods.add(pod);
    context.warnings.add(
      "metrics-missing",
      `no metrics for ${missing.length === 1 ? "container" : "containers"} ${missing.join(", ")}; the pod's usage unknown`,
      subject,
    );
  }
  return update;
}

/** The pod's app containers and sidecars (the containers that run) without usage. */
export function unmeasured(pod: PodInfo, measured: ReadonlyMap<string, unknown>): string[] {
  const missing: string[] = [];
  for (const container of pod.containers)
    if (!measured.has(container.name)) missing.push(container.name);
  for (const container of pod.initContainers)
    if (container.sidecar && !measured.has(container.name)) missing.push(container.name);
  return missing;
}

/** Puts an update's usage on its pod and containers. */
export function applyPodUsageUpdate({ pod, usage, containers }: PodUsageUpdate): void {
  if (usage) pod.usage = usage;
  if (containers === undefined) {
    if (usage) (pod.containers[0] as ContainerInfo).usage = usage;
    return;
  }
  let index = 0;
  const put = (container: ContainerInfo) => {
    const found = containers[index++];
    if (found) container.usage = found;
  };
  pod.containers.forEach(put);
  pod.initContainers.forEach(put);
}

/**
 * The sample's fields and the given amounts in one object literal when all are known (the
 * usual case), which keeps the object in one piece in memory.
 */
function withSample(sample: Usage, cpu: number | undefined, memory: number | undefined): Usage {
  const { source, timestamp, windowSeconds } = sample;
  if (
    timestamp !== undefined &&
    windowSeconds !== undefined &&
    cpu !== undefined &&
    memory !== undefined
  ) {
    return { source, timestamp, windowSeconds, cpu, memory };
  }
  const usage: Usage = { ...sample };
  if (cpu !== undefined) usage.cpu = cpu;
  if (memory !== undefined) usage.memory = memory;
  return usage;
}

/** Adds container usages into a pod usage; a resource missing anywhere stays unknown. */
export function sumUsage(sample: Usage, parts: readonly Usage[]): Usage {
  const total: Usage = { ...sample };
  if (parts.length === 0) return total;
  for (const resource of ["cpu", "memory"] as const) {
    let sum = 0;
    let known = true;
    for (const part of parts) {
      const value = part[resource];
      if (value === undefined) {
        known = false;
        break;
      }
      sum += value;
    }
    if (known) total[resource] = sum;
  }
  return total;
}

/** Pods by namespace, then name, keyed by the strings the pods already hold. */
export class PodIndex {
  readonly #byNamespace = new Map<string, Map<string, PodInfo>>();

  add(pod: PodInfo): void {
    let names = this.#byNamespace.get(pod.namespace);
    if (!names) {
      names = new Map();
      this.#byNamespace.set(pod.namespace, names);
    }
    names.set(pod.name, pod);
  }

  /** By `namespace/name`. */
  get(key: string): PodInfo | undefined {
    const slash = key.indexOf("/");
    return this.find(key.slice(0, slash), key.slice(slash + 1));
  }

  find(namespace: string, name: string): PodInfo | undefined {
    return this.#byNamespace.get(namespace)?.get(name);
  }
}

export function indexPods(pods: readonly PodInfo[]): PodIndex {
  const index = new PodIndex();
  for (const pod of pods) index.add(pod);
  return index;
}

/** Puts a pod's usage on it and on its containers (app, init and sidecar) by name. */
export function applyPodUsage(pod: PodInfo, usage: PodUsage): void {
  if (usage.usage) pod.usage = usage.usage;
  for (const container of pod.containers) {
    const found = usage.containers.get(container.name);
    if (found) container.usage = found;
  }
  for (const container of pod.initContainers) {
    const found = usage.containers.get(container.name);
    if (found) container.usage = found;
  }
}
