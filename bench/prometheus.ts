/**
 * Prometheus benchmark: how long `readPrometheusUsage` takes with its default settings (10
 * minute window at 60 s steps, 120 s rate range) against a real Prometheus holding the usage
 * series of N nodes with M containers each, in kube-prometheus-stack's kubelet cAdvisor layout
 * (a root cgroup per node, a cgroup per container), sampled every 15 s.
 *
 *   node bench/prometheus.ts [--sizes 100x5,500x5,2000x5,500x24] [--runs 5]
 *
 * For each size the series are written as OpenMetrics, backfilled with promtool and served by
 * a Prometheus of their own (test/support/prometheus.ts), which is stopped, and its directory
 * removed, before the next size and on any failure. The whole read runs `--runs` times, then
 * one window statistic (the average) of each query, the default ones and, for comparison, the
 * node CPU query with a plain rate and the container CPU query with the covered rate the node
 * query uses. Prints median, min and max milliseconds, the Prometheus version and the bench's
 * peak RSS; asserts nothing about time. Fails (exit 1) when Prometheus does not start, when a
 * read warns, or when a generated node or container lacks a CPU or memory figure, or has
 * another than the one its series give: a read that failed quietly would time nothing.
 */
import { execFile } from "node:child_process";
import { loadavg } from "node:os";
import { parseArgs, promisify } from "node:util";
import { type PrometheusUsage, readPrometheusUsage } from "../src/cluster/prometheus.ts";
import {
  type InstantResult,
  prometheusEndpoint,
  queryInstant,
} from "../src/cluster/prometheus-client.ts";
import {
  coveredRate,
  defaultPrometheusQueries,
  windowQueries,
} from "../src/cluster/prometheus-queries.ts";
import { type RunningPrometheus, startPrometheus } from "../test/support/prometheus.ts";
import {
  containerCgroup,
  openMetricsOf,
  rootCgroup,
  type Series,
} from "../test/support/prometheus-series.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "100x5,500x5,2000x5,500x24" },
    runs: { type: "string", default: "5" },
  },
});

/** readPrometheusUsage's defaults, which the single queries are timed with as well. */
const settings = { windowSeconds: 600, stepSeconds: 60, rateSeconds: 120, percentile: 95 };
/** readPrometheusUsage's default time a query may take. */
const TIMEOUT_MS = 30_000;
/**
 * Seconds of samples before the window's end: the window, the rate range before its first
 * step and the range before that (the covered rate compares the two), and one minute more.
 */
const HISTORY_SECONDS = settings.windowSeconds + 2 * settings.rateSeconds + 60;
const GiB = 2 ** 30;
const MiB = 2 ** 20;

interface Size {
  nodes: number;
  containersPerNode: number;
}

interface Generated {
  series: Series[];
  /** Millicores and bytes each node's and container's series give. */
  nodes: Map<string, { cpu: number; memory: number }>;
  containers: Map<string, { cpu: number; memory: number }>;
}

interface Timing {
  median: number;
  min: number;
  max: number;
}

function parseSizes(text: string): Size[] {
  return text.split(",").map((part) => {
    const match = /^(\d+)x(\d+)$/.exec(part.trim());
    if (!match || Number(match[1]) < 1) {
      throw new Error(`--sizes: "${part}" is not NODESxCONTAINERS (e.g. 500x24)`);
    }
    return { nodes: Number(match[1]), containersPerNode: Number(match[2]) };
  });
}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--${name}: expected a whole number of 1 or more, got "${text}"`);
  }
  return value;
}

/**
 * Each node's root cgroup and its containers' cgroups, at constant rates and sizes that differ
 * from node to node, so that every figure the read gives can be checked against its series.
 */
function generate(size: Size, start: number): Generated {
  const series: Series[] = [];
  const nodes = new Map<string, { cpu: number; memory: number }>();
  const containers = new Map<string, { cpu: number; memory: number }>();
  for (let i = 0; i < size.nodes; i++) {
    const node = `worker-${i}`;
    const ip = `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    const cores = 0.5 + (i % 7) * 0.25;
    const bytes = (2 + (i % 5)) * GiB;
    series.push(...rootCgroup({ node, ip, cores, bytes }, start));
    nodes.set(node, { cpu: cores * 1000, memory: bytes });
    for (let j = 0; j < size.containersPerNode; j++) {
      const container = { namespace: "bench", pod: `p${i}-${j}`, container: `c${j}`, node, ip };
      const spec = { ...container, cores: 0.125 * (1 + (j % 4)), bytes: (64 + 16 * (j % 8)) * MiB };
      series.push(...containerCgroup(spec, start));
      containers.set(`bench/${container.pod}/${container.container}`, {
        cpu: spec.cores * 1000,
        memory: spec.bytes,
      });
    }
  }
  return { series, nodes, containers };
}

/** Throws unless the read answered for every generated node and container, as generated. */
function checkRead(usage: PrometheusUsage, generated: Generated): void {
  if (usage.warnings.length > 0) {
    const listed = usage.warnings.slice(0, 5).map((warning) => `  ${warning.message}`);
    throw new Error(
      `the read warned ${usage.warnings.length} time(s); first:\n${listed.join("\n")}`,
    );
  }
  for (const [scope, wanted, got] of [
    ["node", generated.nodes, usage.nodes],
    ["container", generated.containers, usage.containers],
  ] as const) {
    if (got.size !== wanted.size) {
      throw new Error(`the read gave usage for ${got.size} ${scope}s of ${wanted.size}`);
    }
    for (const [key, truth] of wanted) {
      const found = got.get(key);
      if (found?.cpu !== truth.cpu || found.memory !== truth.memory) {
        throw new Error(
          `${scope} ${key}: expected ${truth.cpu}m and ${truth.memory} bytes, ` +
            `the read gave ${found?.cpu ?? "no"} cpu and ${found?.memory ?? "no"} memory`,
        );
      }
    }
  }
}

/** Throws unless one query answered one series per node or container, without warnings. */
function checkAnswer(label: string, result: InstantResult, expected: number): void {
  if (result.warnings.length > 0) {
    throw new Error(`${label}: Prometheus warned: ${result.warnings.join("; ")}`);
  }
  if (result.samples.length !== expected) {
    throw new Error(`${label}: ${result.samples.length} series answered, ${expected} expected`);
  }
}

async function time(runs: number, once: () => Promise<void>): Promise<Timing> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const began = performance.now();
    await once();
    times.push(performance.now() - began);
  }
  times.sort((a, b) => a - b);
  const middle = Math.floor(times.length / 2);
  const median = times.length % 2 ? times[middle]! : (times[middle - 1]! + times[middle]!) / 2;
  return { median, min: times[0]!, max: times.at(-1)! };
}

/**
 * The default node CPU query with `rate()` where it takes the covered rate: what the covered
 * form costs on top.
 */
function plainNodeCpu(): string {
  let query = defaultPrometheusQueries.nodeCpu;
  for (const selector of [
    'container_cpu_usage_seconds_total{id="/", node!=""}',
    'node_cpu_seconds_total{mode!~"idle|iowait|steal"}',
  ]) {
    query = query.replaceAll(coveredRate(selector), `(rate(${selector}[$rate]))`);
  }
  if (query.includes("count_over_time")) {
    throw new Error(
      `the node CPU query no longer takes the covered rate of the selectors known here: ${query}`,
    );
  }
  return query;
}

/** The default container CPU query with the covered rate the node query takes. */
function coveredContainerCpu(): string {
  const selector = 'container_cpu_usage_seconds_total{container!="", container!="POD"}';
  const plain = `rate(${selector}[$rate])`;
  if (!defaultPrometheusQueries.containerCpu.includes(plain)) {
    throw new Error(`the container CPU query no longer takes ${plain}`);
  }
  return defaultPrometheusQueries.containerCpu.replace(plain, coveredRate(selector));
}

const queries = [
  { label: "node cpu (covered rate)", query: defaultPrometheusQueries.nodeCpu, scope: "node" },
  { label: "node cpu, plain rate", query: plainNodeCpu(), scope: "node" },
  { label: "node memory", query: defaultPrometheusQueries.nodeMemory, scope: "node" },
  {
    label: "container cpu (plain rate)",
    query: defaultPrometheusQueries.containerCpu,
    scope: "container",
  },
  { label: "container cpu, covered rate", query: coveredContainerCpu(), scope: "container" },
  {
    label: "container memory",
    query: defaultPrometheusQueries.containerMemory,
    scope: "container",
  },
] as const;

interface Row {
  size: Size;
  series: number;
  generateSeconds: number;
  startSeconds: number;
  read: Timing;
  /** One-minute load average after the reads: other work on the machine moves the times. */
  load: number;
  perQuery: { label: string; answered: number; timing: Timing }[];
}

/** The Prometheus of the size being measured, stopped on an interrupt as on any other exit. */
let running: RunningPrometheus | undefined;

async function measure(size: Size, runs: number): Promise<Row> {
  // The window ends on a minute a little before now: inside retention, and after the samples.
  const end = Math.floor(Date.now() / 60_000) * 60 - 60;
  const start = end - HISTORY_SECONDS;
  const at = new Date(end * 1000);
  let began = performance.now();
  const generated = generate(size, start);
  const openMetrics = openMetricsOf(generated.series, start, end);
  const generateSeconds = (performance.now() - began) / 1000;
  began = performance.now();
  running = await startPrometheus(openMetrics);
  const startSeconds = (performance.now() - began) / 1000;
  try {
    const { url } = running;
    const expect = {
      nodes: [...generated.nodes.keys()],
      containers: [...generated.containers.keys()],
    };
    const readOnce = async () => {
      checkRead(await readPrometheusUsage({ url, at, expect }), generated);
    };
    // Once untimed: the first read after Prometheus starts also pays for paging its blocks
    // in; the reads timed are those of a Prometheus already running.
    await readOnce();
    const read = await time(runs, readOnce);
    const load = loadavg()[0] ?? 0;
    const endpoint = prometheusEndpoint(url, {}, TIMEOUT_MS);
    const perQuery = [];
    for (const { label, query, scope } of queries) {
      const average = windowQueries(query, settings).average;
      const expected = scope === "node" ? generated.nodes.size : generated.containers.size;
      const timing = await time(runs, async () => {
        checkAnswer(label, await queryInstant(endpoint, average, at), expected);
      });
      perQuery.push({ label, answered: expected, timing });
    }
    return {
      size,
      series: generated.series.length,
      generateSeconds,
      startSeconds,
      read,
      load,
      perQuery,
    };
  } finally {
    await running.stop();
    running = undefined;
  }
}

async function prometheusVersion(): Promise<string> {
  const { stdout } = await promisify(execFile)("prometheus", ["--version"]);
  return stdout.split("\n")[0] ?? stdout;
}

const ms = (value: number) => Math.round(value).toLocaleString("en-US");
const sizeText = (size: Size) =>
  `${size.nodes.toLocaleString("en-US")} nodes × ${size.containersPerNode} containers`;

function print(rows: Row[], runs: number): void {
  console.log(`\nWhole read (readPrometheusUsage, defaults), ${runs} runs:`);
  console.log(
    "| size | series | generate s | backfill + start s | read ms median | min | max | load |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const row of rows) {
    console.log(
      `| ${sizeText(row.size)} | ${row.series.toLocaleString("en-US")} | ` +
        `${row.generateSeconds.toFixed(1)} | ${row.startSeconds.toFixed(1)} | ` +
        `${ms(row.read.median)} | ${ms(row.read.min)} | ${ms(row.read.max)} | ` +
        `${row.load.toFixed(1)} |`,
    );
  }
  console.log(`\nOne window statistic (the average) per query, ${runs} runs:`);
  console.log("| size | query | series answered | ms median | min | max |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: |");
  for (const row of rows) {
    for (const one of row.perQuery) {
      console.log(
        `| ${sizeText(row.size)} | ${one.label} | ${one.answered.toLocaleString("en-US")} | ` +
          `${ms(one.timing.median)} | ${ms(one.timing.min)} | ${ms(one.timing.max)} |`,
      );
    }
  }
}

async function main(): Promise<void> {
  const sizes = parseSizes(values.sizes);
  const runs = positiveInteger("runs", values.runs);
  console.log(await prometheusVersion());
  console.log(
    `Sizes: ${sizes.map(sizeText).join(", ")}; samples every 15 s over the ` +
      `${HISTORY_SECONDS} s before the window's end; a query may take ${TIMEOUT_MS / 1000} s.`,
  );
  const rows: Row[] = [];
  for (const size of sizes) {
    const row = await measure(size, runs);
    console.log(
      `${sizeText(row.size)}: ${row.series.toLocaleString("en-US")} series, ` +
        `read ${ms(row.read.median)} ms (median of ${runs})`,
    );
    rows.push(row);
  }
  print(rows, runs);
  console.log(`\nPeak RSS of the bench: ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
  });
}

try {
  await main();
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
}
