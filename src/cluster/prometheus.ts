import { InputError } from "../errors.ts";
import type { SnapshotWarning, Usage, UsagePoint } from "../planning/snapshot.ts";
import { maxPointAge, usageWindowCovers } from "../planning/utilisation.ts";
import { utcTimeOf } from "../util/utc-time.ts";
import {
  type InstantResult,
  type MatrixResult,
  prometheusEndpoint,
  queryInstant,
  queryMatrix,
} from "./prometheus-client.ts";
import { PrometheusError } from "./prometheus-error.ts";
import {
  defaultPrometheusQueries,
  type PrometheusQueries,
  type PrometheusQueryName,
  prometheusQueryNames,
  type WindowSettings,
  windowQueries,
} from "./prometheus-queries.ts";

export { PrometheusError } from "./prometheus-error.ts";
export {
  coveredRate,
  defaultPrometheusQueries,
  type PrometheusQueries,
} from "./prometheus-queries.ts";

export interface PrometheusOptions {
  /** Server base URL, with its path prefix if any (`https://host/prometheus`). */
  url: string;
  /** Length of the window the statistics cover. Default 600. */
  windowSeconds?: number;
  /** Percentile reported as `peak`, 0 < p <= 100. Default 95. */
  percentile?: number;
  /** Distance between the points of the window the statistics are taken over. Default 60. */
  stepSeconds?: number;
  /**
   * Range of `rate()` in the CPU queries (`$rate`, `$rateSeconds`); at least 4 scrape intervals,
   * and a whole number of them (the node CPU rates are taken where their range is covered: see
   * `coveredRate`). Default 120.
   */
  rateSeconds?: number;
  /** End of the window. Default: now. */
  at?: Date;
  /** Per query. Default 30000. */
  timeoutMs?: number;
  /** Sent with every query, e.g. `{ Authorization: "Bearer …" }`. */
  headers?: Record<string, string>;
  /** Replacements for the default PromQL, for other label layouts. */
  queries?: Partial<PrometheusQueries>;
  /** Names the caller will look up; each one Prometheus has nothing for gets a warning. */
  expect?: {
    /** Kubernetes node names. */
    nodes?: Iterable<string>;
    /** `namespace/pod/container`. */
    containers?: Iterable<string>;
  };
}

export interface PrometheusUsage {
  /** By Kubernetes node name. A node Prometheus has nothing for is absent. */
  nodes: Map<string, Usage>;
  /** By `namespace/pod/container`. */
  containers: Map<string, Usage>;
  /**
   * The container queries failed (a `prometheus-containers-failed` warning says how): no
   * container's usage was read, which says nothing of any one container.
   */
  containersFailed?: true;
  warnings: SnapshotWarning[];
  windowSeconds: number;
  percentile: number;
  /** End of the window (ISO 8601). */
  at: string;
  /** Server URL without credentials. */
  url: string;
}

type Scope = "node" | "container";
type Resource = "cpu" | "memory";
/**
 * The statistics (the lowest point for nodes alone: a pool's level held above a threshold is
 * judged by it), and how the window's points cover it: their count and the first's time.
 */
type Statistic = "average" | "peak" | "low" | "points" | "first";
const statistics: readonly Statistic[] = ["average", "peak", "low", "points", "first"];

const measured: Record<PrometheusQueryName, { scope: Scope; resource: Resource }> = {
  nodeCpu: { scope: "node", resource: "cpu" },
  nodeMemory: { scope: "node", resource: "memory" },
  containerCpu: { scope: "container", resource: "cpu" },
  containerMemory: { scope: "container", resource: "memory" },
};

interface Settings extends WindowSettings {
  at: Date;
}

/**
 * What one node or container got from the queries: averages and peaks in our units, points as
 * counted, the first point's time in Unix seconds.
 */
interface Observed {
  cpu: Partial<Record<Statistic, number>>;
  memory: Partial<Record<Statistic, number>>;
  /** Resources for which Prometheus returned NaN, ±Inf or a negative value, with that value. */
  unusable: Map<Resource, string>;
  /** Nodes only: the value at each step, by Unix seconds, in our units (usable values only). */
  steps: Record<Resource, Map<number, number>>;
}

interface Answer {
  name: PrometheusQueryName;
  statistic: Statistic;
  query: string;
  result: InstantResult;
}

interface Context {
  settings: Settings;
  url: string;
  queries: PrometheusQueries;
  warnings: SnapshotWarning[];
}

/**
 * Reads windowed usage from Prometheus: per node and per container, the average and a percentile
 * over the window of CPU used (millicores) and memory working set (bytes), for nodes their lowest
 * point too, and how much of the window the points behind them cover (`windowSeconds`,
 * `gapSeconds`). Missing or non-finite data stays unknown (absent) and is explained in `warnings`,
 * as is a node whose points do not cover the window; an unreachable server, an HTTP error or an
 * error body throws a PrometheusError naming the URL and the query.
 */
export async function readPrometheusUsage(options: PrometheusOptions): Promise<PrometheusUsage> {
  const settings = resolveSettings(options);
  const endpoint = prometheusEndpoint(options.url, options.headers, options.timeoutMs);
  const queries = resolveQueries(options.queries);
  // The node queries' values at each step too, asked alongside: each check of a level held
  // over its own window (at most this one) is judged on the steps of that window.
  const steps = Promise.all(
    prometheusQueryNames
      .filter((name) => measured[name].scope === "node")
      .map(async (name) => {
        const query = windowQueries(queries[name], settings).steps;
        return { name, result: await queryMatrix(endpoint, query, settings.at) };
      }),
  );
  // Awaited below; a failure of the statistics first must not leave it unhandled.
  steps.catch(() => undefined);
  const ask = (scope: Scope) =>
    Promise.all(
      prometheusQueryNames
        .filter((name) => measured[name].scope === scope)
        .flatMap((name) => {
          const window = windowQueries(queries[name], settings);
          const asked = statistics.filter((s) => s !== "low" || scope === "node");
          return asked.map(async (statistic): Promise<Answer> => {
            const query = window[statistic];
            const result = await queryInstant(endpoint, query, settings.at);
            return { name, statistic, query, result };
          });
        }),
    );
  const nodeAnswers = await ask("node");
  const stepAnswers = await steps;
  // The container queries are the heavy ones (a series per container), asked once the nodes'
  // are answered so that they do not slow those down; one that fails (its timeout, Prometheus'
  // sample limit) leaves container usage unknown, not the nodes'.
  const { answers: containerAnswers, failed } = await ask("container").then(
    (answers) => partialContainers(answers, endpoint.url),
    (error: unknown) => {
      if (error instanceof PrometheusError) return { answers: [], failed: error };
      throw error;
    },
  );
  const answers = [...nodeAnswers, ...containerAnswers];
  const context: Context = { settings, url: endpoint.url, queries, warnings: [] };
  reportServerWarnings([...answers, ...stepAnswers], context);
  const observed = { node: new Map<string, Observed>(), container: new Map<string, Observed>() };
  for (const answer of answers) collect(answer, observed[measured[answer.name].scope], context);
  for (const answer of stepAnswers) collectSteps(answer, observed.node);
  const nodes = toUsage("node", observed.node, answers, context);
  const containers = toUsage("container", observed.container, answers, context);
  warnMissing("node", options.expect?.nodes, observed.node, answers, context);
  if (failed) {
    context.warnings.push({
      code: "prometheus-containers-failed",
      message: `${failed.message}; container usage is unknown (node usage is read from the other queries)`,
      subject: "prometheus",
    });
  } else {
    warnMissing("container", options.expect?.containers, observed.container, answers, context);
  }
  return {
    nodes,
    containers,
    ...(failed ? { containersFailed: true as const } : {}),
    warnings: context.warnings,
    windowSeconds: settings.windowSeconds,
    percentile: settings.percentile,
    at: settings.at.toISOString(),
    url: endpoint.url,
  };
}

function resolveSettings(options: PrometheusOptions): Settings {
  const stepSeconds = wholeSeconds("step", options.stepSeconds ?? 60);
  const windowSeconds = wholeSeconds("window", options.windowSeconds ?? 600);
  const rateSeconds = wholeSeconds("rate range", options.rateSeconds ?? 120);
  if (windowSeconds < stepSeconds) {
    throw new InputError(
      `Prometheus window (${windowSeconds} s) must be at least one step (${stepSeconds} s) long`,
    );
  }
  const percentile = options.percentile ?? 95;
  if (!Number.isFinite(percentile) || percentile <= 0 || percentile > 100) {
    throw new InputError(
      `Prometheus percentile must be above 0 and at most 100 (e.g. 95); got ${percentile}`,
    );
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new InputError(`Prometheus timeout must be a positive number of ms; got ${timeoutMs}`);
  }
  const at = options.at ?? new Date();
  if (Number.isNaN(at.getTime())) throw new InputError("Prometheus query time is not a valid date");
  return { windowSeconds, stepSeconds, rateSeconds, percentile, at };
}

function wholeSeconds(what: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InputError(
      `Prometheus ${what} must be a whole number of seconds (1 or more); got ${value}`,
    );
  }
  return value;
}

function resolveQueries(overrides: Partial<PrometheusQueries> = {}): PrometheusQueries {
  const queries = { ...defaultPrometheusQueries };
  for (const name of prometheusQueryNames) {
    const query = overrides[name];
    if (query === undefined) continue;
    if (query.trim() === "") throw new InputError(`Prometheus query ${name} is empty`);
    queries[name] = query;
  }
  return queries;
}

/**
 * The container queries' answers, or none when Prometheus warned that one of them may be
 * incomplete (a store that did not answer): which containers or points it lacks is not said, so
 * none of them is taken, and the failure says why; the nodes' answers are judged on their own.
 */
function partialContainers(
  answers: Answer[],
  url: string,
): { answers: Answer[]; failed?: PrometheusError } {
  const warned = [...new Set(answers.flatMap((answer) => answer.result.warnings))];
  if (warned.length === 0) return { answers };
  const message = `Prometheus at ${url} warned that its answer to the container queries may be incomplete: ${warned.join("; ")}`;
  return { answers: [], failed: new PrometheusError(message, { url }) };
}

function reportServerWarnings(
  answers: readonly { result: { warnings: string[] } }[],
  context: Context,
): void {
  const seen = new Set<string>();
  for (const answer of answers) {
    for (const text of answer.result.warnings) {
      if (seen.has(text)) continue;
      seen.add(text);
      context.warnings.push({
        code: "prometheus-partial",
        message: `Prometheus at ${context.url} warned that its answer may be incomplete: ${text}`,
        subject: "prometheus",
      });
    }
  }
}

/** Files one answer's series under their node or container, in millicores and bytes. */
function collect(answer: Answer, into: Map<string, Observed>, context: Context): void {
  const { scope, resource } = measured[answer.name];
  let unlabelled = 0;
  const repeated = new Set<string>();
  const seen = new Set<string>();
  for (const sample of answer.result.samples) {
    const key = keyOf(scope, sample.labels);
    if (key === undefined) {
      unlabelled++;
      continue;
    }
    if (seen.has(key)) repeated.add(key);
    seen.add(key);
    const observed = observedFor(into, key);
    if (answer.statistic === "points" || answer.statistic === "first") {
      // Of repeated series the largest is kept: fewer points covered, a later start.
      if (Number.isFinite(sample.value)) {
        const previous = observed[resource][answer.statistic];
        observed[resource][answer.statistic] = Math.max(sample.value, previous ?? sample.value);
      }
      continue;
    }
    if (!Number.isFinite(sample.value) || sample.value < 0) {
      observed.unusable.set(resource, sample.raw);
      continue;
    }
    const value = resource === "cpu" ? Math.round(sample.value * 1000) : Math.round(sample.value);
    const previous = observed[resource][answer.statistic];
    observed[resource][answer.statistic] = Math.max(value, previous ?? value);
  }
  if (answer.statistic !== "average") return;
  if (unlabelled > 0) warnUnlabelled(answer, scope, unlabelled, context);
  if (repeated.size > 0) warnRepeated(answer, scope, [...repeated], context);
}

/**
 * Files the node query's value at each step under its node, in millicores or bytes. A value
 * that is NaN, ±Inf or negative is left out (the step counts as missing); of repeated series
 * the largest is kept, as for the statistics.
 */
function collectSteps(
  answer: { name: PrometheusQueryName; result: MatrixResult },
  into: Map<string, Observed>,
): void {
  const { resource } = measured[answer.name];
  for (const series of answer.result.series) {
    // Only beside the node's statistics: points alone are no usage of their own.
    const key = keyOf("node", series.labels);
    const observed = key === undefined ? undefined : into.get(key);
    if (!observed) continue;
    const steps = observed.steps[resource];
    for (const { at, value } of series.points) {
      if (!Number.isFinite(value) || value < 0) continue;
      const ours = resource === "cpu" ? Math.round(value * 1000) : Math.round(value);
      steps.set(at, Math.max(ours, steps.get(at) ?? ours));
    }
  }
}

function keyOf(scope: Scope, labels: Record<string, string>): string | undefined {
  if (scope === "node") return labels.node || undefined;
  const { namespace, pod, container } = labels;
  return namespace && pod && container ? `${namespace}/${pod}/${container}` : undefined;
}

function observedFor(into: Map<string, Observed>, key: string): Observed {
  let observed = into.get(key);
  if (!observed) {
    observed = {
      cpu: {},
      memory: {},
      unusable: new Map(),
      steps: { cpu: new Map(), memory: new Map() },
    };
    into.set(key, observed);
  }
  return observed;
}

function warnUnlabelled(answer: Answer, scope: Scope, count: number, context: Context): void {
  const labels = scope === "node" ? "a node label" : "namespace, pod and container labels";
  const by = scope === "node" ? "node" : "namespace, pod, container";
  context.warnings.push({
    code: "prometheus-series-unlabelled",
    message:
      `${count} series of the ${answer.name} query lack ${labels} and were ignored; ` +
      `the query must aggregate by (${by}). Query: ${context.queries[answer.name]}`,
    subject: "prometheus",
  });
}

function warnRepeated(answer: Answer, scope: Scope, keys: string[], context: Context): void {
  const by = scope === "node" ? "node" : "namespace, pod, container";
  context.warnings.push({
    code: "prometheus-series-repeated",
    message:
      `The ${answer.name} query returned several series for ${keys.map((k) => `${scope}/${k}`).join(", ")}; ` +
      `the largest value was used. Aggregate with max by (${by}) to say which one counts. ` +
      `Query: ${context.queries[answer.name]}`,
    subject: "prometheus",
  });
}

function toUsage(
  scope: Scope,
  observed: Map<string, Observed>,
  answers: Answer[],
  context: Context,
): Map<string, Usage> {
  const usage = new Map<string, Usage>();
  for (const [key, entry] of [...observed].sort(([a], [b]) => a.localeCompare(b))) {
    for (const resource of ["cpu", "memory"] as const) {
      warnUnknown(scope, key, resource, entry, answers, context);
    }
    const built = buildUsage(entry, context.settings);
    if (!built) continue;
    usage.set(key, built);
    // A container younger than the window is usual; a node's partial window is worth a word.
    if (scope === "node") warnPartial(key, entry, built, context);
  }
  return usage;
}

/** How much of the window one resource's points cover, seconds. */
interface Coverage {
  seconds: number;
  gapSeconds: number;
  points: number;
  /** Steps from the first point to the window's end. */
  steps: number;
  /** The first point, Unix seconds. */
  first: number;
}

/**
 * Coverage from the number of points and the first one's time. Where the missing points lie
 * is not known, so they are taken as one gap: the longest they can make.
 */
function coverageOf(
  measured: Partial<Record<Statistic, number>>,
  settings: Settings,
): Coverage | undefined {
  const { points, first: firstPoint } = measured;
  if (points === undefined || firstPoint === undefined || points < 1) return undefined;
  const { windowSeconds, stepSeconds } = settings;
  const end = settings.at.getTime() / 1000;
  // The window's first step: a point stamped earlier than that is counted from there.
  const first = Math.max(firstPoint, Math.ceil((end - windowSeconds) / stepSeconds) * stepSeconds);
  // Each point stands for the step up to it, so a full window's points cover it exactly
  // whether or not it starts on a step (10 points; 11 when it does, on Prometheus 2).
  const steps = Math.max(1, Math.floor((end - first) / stepSeconds + 1e-9) + 1);
  const missing = Math.max(0, steps - points);
  return {
    seconds: Math.min(windowSeconds, steps * stepSeconds),
    gapSeconds: (missing + 1) * stepSeconds,
    points,
    steps,
    first: firstPoint,
  };
}

function buildUsage(entry: Observed, settings: Settings): Usage | undefined {
  const { cpu, memory } = entry;
  if ([cpu.average, cpu.peak, memory.average, memory.peak].every((v) => v === undefined)) {
    return undefined;
  }
  const usage: Usage = { timestamp: settings.at.toISOString(), source: "prometheus" };
  // The resources' points cover what the less covered one does; unknown coverage, nothing.
  const covered = measuredResources(entry).map((resource) => coverageOf(entry[resource], settings));
  if (covered.length > 0 && covered.every((c) => c !== undefined)) {
    usage.windowSeconds = Math.min(...covered.map((c) => c.seconds));
    usage.gapSeconds = Math.max(...covered.map((c) => c.gapSeconds));
  }
  if (cpu.average !== undefined) usage.cpu = cpu.average;
  if (memory.average !== undefined) usage.memory = memory.average;
  if (cpu.peak !== undefined || memory.peak !== undefined) {
    usage.peak = { percentile: settings.percentile };
    if (cpu.peak !== undefined) usage.peak.cpu = cpu.peak;
    if (memory.peak !== undefined) usage.peak.memory = memory.peak;
  }
  // Beside a resource's average only: a lowest point is no usage of its own.
  const lowCpu = cpu.average === undefined ? undefined : cpu.low;
  const lowMemory = memory.average === undefined ? undefined : memory.low;
  if (lowCpu !== undefined || lowMemory !== undefined) {
    usage.low = {};
    if (lowCpu !== undefined) usage.low.cpu = lowCpu;
    if (lowMemory !== undefined) usage.low.memory = lowMemory;
  }
  const points = pointsOf(entry);
  if (points.length > 0) usage.points = points;
  return usage;
}

/**
 * The node's values at each step, oldest first, for the resources its usage has an average
 * of; a step with neither value is left out.
 */
function pointsOf(entry: Observed): UsagePoint[] {
  const times = new Set<number>();
  const resources = (["cpu", "memory"] as const).filter((r) => entry[r].average !== undefined);
  for (const resource of resources) for (const at of entry.steps[resource].keys()) times.add(at);
  return [...times]
    .sort((a, b) => a - b)
    .map((at) => {
      const point: UsagePoint = { at: new Date(at * 1000).toISOString() };
      for (const resource of resources) {
        const value = entry.steps[resource].get(at);
        if (value !== undefined) point[resource] = value;
      }
      return point;
    });
}

/** The resources with a value in the usage: their points are what the usage stands on. */
function measuredResources(entry: Observed): Resource[] {
  return (["cpu", "memory"] as const).filter(
    (resource) => entry[resource].average !== undefined || entry[resource].peak !== undefined,
  );
}

/**
 * Warns about a node whose points do not cover the window, by the rule history follows: a
 * start later than the first history sample may be, or a gap longer than samples may leave.
 * Its usage is then the level over what they cover, which is no evidence for the window. Warns
 * too about a node whose last point is older than a level held below allows (`maxPointAge`):
 * its scrapes may have stopped, and the gaps a window may leave do not cover that.
 */
function warnPartial(key: string, entry: Observed, usage: Usage, context: Context): void {
  const { windowSeconds } = context.settings;
  const { windowSeconds: covered, gapSeconds } = usage;
  const windowMs = windowSeconds * 1000;
  const covers =
    covered !== undefined &&
    gapSeconds !== undefined &&
    usageWindowCovers(covered * 1000, gapSeconds * 1000, windowMs);
  const stale = staleText(usage, context.settings);
  if (covers && stale === undefined) return;
  const parts = covers
    ? []
    : measuredResources(entry).map((resource) => {
        const what = resource === "cpu" ? "CPU" : "memory";
        const coverage = coverageOf(entry[resource], context.settings);
        if (!coverage) return `how much of it its ${what} points cover is unknown`;
        const from = utcTimeOf(coverage.first * 1000);
        const missing = coverage.steps - Math.min(coverage.points, coverage.steps);
        const gaps =
          missing === 0
            ? "none missing"
            : `${missing} missing, gaps up to ${coverage.gapSeconds} s`;
        return `its ${what} points cover ${coverage.seconds} s of it, from ${from} (${coverage.points} points, ${gaps})`;
      });
  const held = parts.length > 0 ? "a level held over the window" : "a level held below up to now";
  context.warnings.push({
    code: "prometheus-window-partial",
    message:
      `Prometheus at ${context.url} has usage for node ${key} ${windowText(context)}, but ` +
      `${[...parts, ...(stale === undefined ? [] : [stale])].join(", and ")}; its usage is no evidence of ${held}`,
    subject: `node/${key}`,
  });
}

/**
 * What says which of the node's resources have their last point longer before the end of the
 * window than a level held below allows (the pool's points end there too), and how old it is;
 * undefined when none has.
 */
function staleText(usage: Usage, settings: Settings): string | undefined {
  const end = settings.at.getTime();
  const maxAgeMs = maxPointAge(settings.stepSeconds * 1000);
  const parts = (["cpu", "memory"] as const).flatMap((resource) => {
    const last = usage.points?.findLast(
      (point) => point[resource] !== undefined && Date.parse(point.at) <= end,
    );
    if (!last) return [];
    const ageMs = end - Date.parse(last.at);
    if (ageMs <= maxAgeMs) return [];
    const what = resource === "cpu" ? "CPU" : "memory";
    return [
      `its last ${what} point, at ${utcTimeOf(Date.parse(last.at))}, is ${Math.round(ageMs / 1000)} s old`,
    ];
  });
  if (parts.length === 0) return undefined;
  return `${parts.join(", and ")}, more than ${maxAgeMs / 1000} s: its scrapes may have stopped`;
}

/** Says why a resource of a node or container that has other series stayed unknown. */
function warnUnknown(
  scope: Scope,
  key: string,
  resource: Resource,
  entry: Observed,
  answers: Answer[],
  context: Context,
): void {
  const what = resource === "cpu" ? "CPU" : "memory";
  if (entry[resource].average !== undefined) return;
  const raw = entry.unusable.get(resource);
  if (raw !== undefined) {
    context.warnings.push({
      code: "prometheus-value-unusable",
      message: `Prometheus at ${context.url} gave ${raw} for the ${what} usage of ${scope} ${key} ${windowText(context)}; its ${what} usage is unknown`,
      subject: `${scope}/${key}`,
    });
    return;
  }
  // A query with no series at all gets one warning of its own, not one per name.
  if (!returnedSeries(answers, queryFor(scope, resource))) return;
  context.warnings.push({
    code: "prometheus-no-series",
    message: `Prometheus at ${context.url} has no ${what} series for ${scope} ${key} ${windowText(context)}; its ${what} usage is unknown`,
    subject: `${scope}/${key}`,
  });
}

/** Warns about each expected name with no series at all, and about queries that found nothing. */
function warnMissing(
  scope: Scope,
  expected: Iterable<string> | undefined,
  observed: Map<string, Observed>,
  answers: Answer[],
  context: Context,
): void {
  const names = [queryFor(scope, "cpu"), queryFor(scope, "memory")];
  const empty = names.filter((name) => !returnedSeries(answers, name));
  for (const name of empty) {
    context.warnings.push({
      code: "prometheus-query-empty",
      message:
        `The ${name} query found no series at all in Prometheus at ${context.url} ${windowText(context)}, ` +
        `so every ${scope}'s ${measured[name].resource === "cpu" ? "CPU" : "memory"} usage is unknown; ` +
        `if your metrics are labelled differently, relabel them or override the query (see "Overriding the queries" in docs/prometheus.md). ` +
        `Query: ${context.queries[name]}`,
      subject: "prometheus",
    });
  }
  if (empty.length === names.length) return;
  const wanted = new Set(expected ?? []);
  const missing = [...wanted].filter((key) => !observed.has(key));
  const alikeOf = new Map(
    missing.map((key) => [key, scope === "node" ? sameHost(key, observed.keys(), wanted) : []]),
  );
  // Names Prometheus has that no expected node has, nor is alike to one: the nodes' own under
  // other names, or nodes gone from the cluster. Which is not known, so they are named, never
  // taken.
  const alikes = new Set([...alikeOf.values()].flat());
  const strangers =
    scope === "node" ? [...observed.keys()].filter((k) => !wanted.has(k) && !alikes.has(k)) : [];
  for (const key of missing) {
    const alike = alikeOf.get(key) ?? [];
    const hint =
      alike.length > 0 ? domainHint(alike) : strangers.length > 0 ? strangerHint(strangers) : "";
    context.warnings.push({
      code: "prometheus-no-series",
      message: `Prometheus at ${context.url} has no usage series for ${scope} ${key} ${windowText(context)}; its usage is unknown${hint}`,
      subject: `${scope}/${key}`,
    });
  }
}

/** How many of the names no node has a hint lists before it counts the rest. */
const STRANGERS_LISTED = 5;

/**
 * Says which names Prometheus has usage under that no node of the cluster has, so that a node
 * named otherwise than its machine (a kubelet started with `--hostname-override`, a nodename
 * that is not the node's name) reads as a naming mismatch, not as a node without series.
 */
function strangerHint(names: readonly string[]): string {
  const sorted = [...names].sort();
  const one = sorted.length === 1;
  const listed = sorted.slice(0, STRANGERS_LISTED).join(", ");
  const more = sorted.length - STRANGERS_LISTED;
  return (
    `. Prometheus has usage under ${one ? "a name" : "names"} no node of the cluster has: ` +
    `${listed}${more > 0 ? ` and ${more} more` : ""}; usage under another name is not taken as this node's. ` +
    `If ${one ? "it is a machine" : "they are machines"} of this cluster (the nodename of node_uname_info ` +
    "is the machine's hostname; a kubelet started with --hostname-override names its node otherwise), " +
    'relabel so that the series carry the Kubernetes node name (see "Overriding the queries" in docs/prometheus.md)'
  );
}

/**
 * The names Prometheus has that are `node`'s up to the first dot, one with a domain and the
 * other without, or with another (`worker-1.lan` for node `worker-1`, or the reverse): what a
 * `nodename` that is the machine's fully qualified hostname gives. Names of other expected
 * nodes are theirs, and an address (`192.168.50.21`) is no hostname.
 */
function sameHost(node: string, names: Iterable<string>, expected: ReadonlySet<string>): string[] {
  const host = (name: string) => name.split(".")[0] ?? name;
  if (!/[a-z]/i.test(host(node))) return [];
  return [...names]
    .filter((name) => name !== node && !expected.has(name) && host(name) === host(node))
    .sort();
}

/** Names alike are only a hint: usage under another name is never taken as the node's. */
function domainHint(alike: readonly string[]): string {
  return (
    `. Prometheus has ${alike.join(", ")}: node names differ by the domain, and usage under another name is not taken as this node's; ` +
    "relabel so that the series carry the Kubernetes node name (the nodename of node_uname_info is the machine's hostname; " +
    'see "Overriding the queries" in docs/prometheus.md)'
  );
}

function queryFor(scope: Scope, resource: Resource): PrometheusQueryName {
  if (scope === "node") return resource === "cpu" ? "nodeCpu" : "nodeMemory";
  return resource === "cpu" ? "containerCpu" : "containerMemory";
}

function returnedSeries(answers: Answer[], name: PrometheusQueryName): boolean {
  return answers.some((a) => a.name === name && a.result.samples.length > 0);
}

function windowText(context: Context): string {
  const { windowSeconds, at } = context.settings;
  return `over the ${windowSeconds} s window ending ${utcTimeOf(at.getTime())}`;
}
