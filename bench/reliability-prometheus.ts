/**
 * Prometheus answers with NaN, ±Inf, negative and garbage values, missing and wrong labels,
 * wrong result types, error bodies and proxy pages, from a stub HTTP server on 127.0.0.1,
 * read by readPrometheusUsage. A value that is not a usable number must leave that usage
 * unknown, with a warning; an answer that is not a usable vector must be a PrometheusError
 * naming the server and the query.
 */
import fc from "fast-check";
import { readPrometheusUsage } from "../src/cluster/prometheus.ts";
import type { SnapshotWarning, Usage } from "../src/planning/snapshot.ts";
import {
  type PrometheusStub,
  type StubAnswer,
  type StubRequest,
  startPrometheusStub,
} from "../test/support/prometheus-stub.ts";
import {
  crash,
  type FamilySession,
  handled,
  type InputFamily,
  judgeError,
  type Outcome,
  type ReliabilityCase,
} from "./reliability-case.ts";
import { familySeed, invariantViolations, sample } from "./reliability-values.ts";

type Scope = "node" | "container";
type Resource = "cpu" | "memory";
type Statistic = "average" | "peak";

/** One series as the stub writes it: labels, and the value (normally a string). */
interface Series {
  metric: unknown;
  value: unknown;
}

/** The stub's answer to one of the eight queries. */
type QueryAnswer =
  | { series: Series[]; resultType?: unknown; warnings?: unknown }
  | { raw: StubAnswer };

type Scenario = Partial<Record<`${Scope}-${Resource}-${Statistic}`, QueryAnswer>>;

const at = new Date("2026-11-27T14:30:00Z");
const nodes = ["homelab-worker-1", "homelab-worker-2"];
const containers = ["media/plex-0/plex", "media/plex-0/exporter"];

function queryKind(query: string): `${Scope}-${Resource}-${Statistic}` {
  const scope: Scope = query.includes("max by (node)") ? "node" : "container";
  const resource: Resource = query.includes("cpu") ? "cpu" : "memory";
  const statistic: Statistic = query.startsWith("quantile_over_time") ? "peak" : "average";
  return `${scope}-${resource}-${statistic}`;
}

function labelsOf(scope: Scope, key: string): Record<string, string> {
  if (scope === "node") return { node: key };
  const [namespace, pod, container] = key.split("/") as [string, string, string];
  return { namespace, pod, container };
}

/** What a healthy Prometheus answers: every node and container, plausible values. */
function healthy(kind: `${Scope}-${Resource}-${Statistic}`): Series[] {
  const [scope, resource] = kind.split("-") as [Scope, Resource];
  const keys = scope === "node" ? nodes : containers;
  return keys.map((key, index) => ({
    metric: labelsOf(scope, key),
    value: resource === "cpu" ? `0.${index + 2}5` : String((index + 1) * 268435456),
  }));
}

/** The window the reader asks for by default: 600 s at 60 s steps, so 11 points. */
const WINDOW_SECONDS = 600;
const STEP_SECONDS = 60;

/**
 * The answers that say how the window is covered, and the node queries' values at each step:
 * always those of a healthy Prometheus (every point there), so that the values of the
 * statistics, which the scenarios garble, are what a read judges.
 */
function coverageAnswer(query: string): StubAnswer | undefined {
  const kind = queryKind(query);
  const end = at.getTime() / 1000;
  const each = (value: (series: Series) => string) =>
    successBody(
      "vector",
      healthy(kind).map((series) => ({ metric: series.metric, value: [end, value(series)] })),
    );
  if (query.startsWith("count_over_time("))
    return each(() => String(WINDOW_SECONDS / STEP_SECONDS + 1));
  if (query.startsWith("min_over_time(timestamp(")) return each(() => String(end - WINDOW_SECONDS));
  if (!query.startsWith("(")) return undefined;
  const times = Array.from(
    { length: WINDOW_SECONDS / STEP_SECONDS + 1 },
    (_, i) => end - WINDOW_SECONDS + i * STEP_SECONDS,
  );
  return successBody(
    "matrix",
    healthy(kind).map((series) => ({
      metric: series.metric,
      values: times.map((time) => [time, series.value]),
    })),
  );
}

function successBody(resultType: string, result: unknown[]): StubAnswer {
  return {
    status: 200,
    body: JSON.stringify({ status: "success", data: { resultType, result } }),
  };
}

function answer(scenario: Scenario, request: StubRequest): StubAnswer {
  const query = request.form.get("query") ?? "";
  const coverage = coverageAnswer(query);
  if (coverage) return coverage;
  const kind = queryKind(query);
  const given = scenario[kind] ?? { series: healthy(kind) };
  if ("raw" in given) return given.raw;
  return {
    status: 200,
    body: JSON.stringify({
      status: "success",
      data: {
        resultType: given.resultType ?? "vector",
        result: given.series.map((series) => ({
          metric: series.metric,
          value: [at.getTime() / 1000, series.value],
        })),
      },
      ...(given.warnings === undefined ? {} : { warnings: given.warnings }),
    }),
  };
}

/** A value Prometheus could mean as a usage: a finite, non-negative decimal number. */
function usable(value: unknown): boolean {
  return (
    typeof value === "string" &&
    /^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) &&
    Number.isFinite(Number(value))
  );
}

/** What the usage of `key` must not hold: resources whose every series value is unusable. */
function expectedUnknown(
  scenario: Scenario,
  scope: Scope,
  key: string,
): { resource: Resource; statistic: Statistic }[] {
  const unknown: { resource: Resource; statistic: Statistic }[] = [];
  for (const resource of ["cpu", "memory"] as const) {
    for (const statistic of ["average", "peak"] as const) {
      const given = scenario[`${scope}-${resource}-${statistic}`];
      if (!given || "raw" in given) continue;
      const values = given.series
        .filter((series) => sameLabels(series.metric, labelsOf(scope, key)))
        .map((series) => series.value);
      if (values.length > 0 && !values.some(usable)) unknown.push({ resource, statistic });
    }
  }
  return unknown;
}

function sameLabels(metric: unknown, labels: Record<string, string>): boolean {
  if (metric === null || typeof metric !== "object") return false;
  return Object.entries(labels).every(
    ([name, value]) => (metric as Record<string, unknown>)[name] === value,
  );
}

function usageProblems(
  scenario: Scenario,
  scope: Scope,
  usage: ReadonlyMap<string, Usage>,
  warnings: readonly SnapshotWarning[],
): string[] {
  const problems: string[] = [];
  // A container query that failed leaves every container unknown, said once.
  if (scope === "container" && warnings.some((w) => w.code === "prometheus-containers-failed")) {
    if (usage.size > 0) problems.push(`container usage read though a container query failed`);
    return problems;
  }
  for (const key of scope === "node" ? nodes : containers) {
    for (const { resource, statistic } of expectedUnknown(scenario, scope, key)) {
      const found = usage.get(key);
      const value = statistic === "average" ? found?.[resource] : found?.peak?.[resource];
      if (value !== undefined) {
        problems.push(
          `${scope} ${key}: ${statistic} ${resource} is ${value} though Prometheus gave no usable value`,
        );
      }
      if (
        statistic === "average" &&
        !warnings.some((warning) => warning.subject === `${scope}/${key}`)
      ) {
        problems.push(`${scope} ${key}: ${resource} unknown without a warning`);
      }
    }
  }
  return problems;
}

function prometheusCase(
  stub: PrometheusStub,
  holder: { scenario: Scenario },
  id: string,
  scenario: Scenario,
  what: string,
): ReliabilityCase {
  return {
    id,
    input: what,
    payload: () => scenario,
    async run(): Promise<Outcome> {
      holder.scenario = scenario;
      const { url } = stub;
      let result: Awaited<ReturnType<typeof readPrometheusUsage>>;
      try {
        result = await readPrometheusUsage({
          url,
          at,
          timeoutMs: 5000,
          expect: { nodes, containers },
        });
      } catch (error) {
        return judgeError(error, url);
      }
      const problems = [
        ...invariantViolations(result.nodes, "nodes"),
        ...invariantViolations(result.containers, "containers"),
        ...usageProblems(scenario, "node", result.nodes, result.warnings),
        ...usageProblems(scenario, "container", result.containers, result.warnings),
      ];
      return problems.length === 0 ? handled() : crash(problems.join("; "));
    },
  };
}

const badValue = fc.constantFrom<unknown>(
  "NaN",
  "+Inf",
  "-Inf",
  "Inf",
  "-1",
  "-0.25",
  "1e309",
  "-1e309",
  "abc",
  "",
  " ",
  "0x10",
  "0x0",
  " 0.5",
  "0.5 ",
  "1_000",
  "١",
  "1e3",
  "0.000001",
  "12345678901234567890",
  0.5,
  null,
  true,
  ["0.5"],
  { value: "0.5" },
);

const badMetric = fc.constantFrom<unknown>(
  {},
  { node: "" },
  { node: 5 },
  { namespace: "media", pod: "plex-0" },
  null,
  "node",
  [],
  { __proto__: null, node: "homelab-worker-1" },
);

const kinds = ["node", "container"].flatMap((scope) =>
  ["cpu", "memory"].flatMap((resource) =>
    ["average", "peak"].map((statistic) => `${scope}-${resource}-${statistic}` as const),
  ),
) as `${Scope}-${Resource}-${Statistic}`[];

/** One damaged query in a generated scenario. */
interface Damage {
  query: number;
  kind: "value" | "metric" | "duplicate" | "result-type" | "warnings" | "body" | "status" | "many";
  series: number;
  value: unknown;
  metric: unknown;
  body: string;
  status: number;
}

const damage: fc.Arbitrary<Damage> = fc.record({
  query: fc.nat({ max: kinds.length - 1 }),
  kind: fc.constantFrom(
    "value",
    "value",
    "value",
    "metric",
    "duplicate",
    "result-type",
    "warnings",
    "body",
    "status",
    "many",
  ),
  series: fc.nat({ max: 1 }),
  value: badValue,
  metric: badMetric,
  body: fc.constantFrom(
    "",
    "<html><body>502 Bad Gateway</body></html>",
    '{"status":"success"}',
    '{"status":"success","data":null}',
    '{"status":"success","data":{"resultType":"vector","result":{}}}',
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1]}]}}',
    '{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}',
    '{"status":"success","data":{"resultType":"vector","result":[',
    "null",
    "[]",
  ),
  status: fc.constantFrom(200, 204, 301, 400, 401, 403, 422, 429, 500, 503),
});

function scenarioFrom(damages: readonly Damage[]): { scenario: Scenario; what: string } {
  const scenario: Scenario = {};
  const parts: string[] = [];
  for (const item of damages) {
    const kind = kinds[item.query] as (typeof kinds)[number];
    const current = scenario[kind];
    const series = current && "series" in current ? current.series : healthy(kind);
    const target = series[item.series] as Series;
    switch (item.kind) {
      case "value":
        target.value = item.value;
        parts.push(`${kind} value ${JSON.stringify(item.value)}`);
        break;
      case "metric":
        target.metric = item.metric;
        parts.push(`${kind} labels ${JSON.stringify(item.metric)}`);
        break;
      case "duplicate":
        series.push({ metric: target.metric, value: item.value });
        parts.push(`${kind} repeated with ${JSON.stringify(item.value)}`);
        break;
      case "many":
        for (let index = 0; index < 5000; index++) {
          series.push({
            metric: { node: `n${index}`, namespace: "x", pod: `p${index}`, container: "c" },
            value: "0.1",
          });
        }
        parts.push(`${kind} 5000 more series`);
        break;
      case "result-type":
        scenario[kind] = { series, resultType: item.value };
        parts.push(`${kind} resultType ${JSON.stringify(item.value)}`);
        continue;
      case "warnings":
        scenario[kind] = { series, warnings: item.value };
        parts.push(`${kind} warnings ${JSON.stringify(item.value)}`);
        continue;
      case "body":
        scenario[kind] = { raw: { status: 200, body: item.body } };
        parts.push(`${kind} body ${JSON.stringify(item.body).slice(0, 40)}`);
        continue;
      case "status":
        scenario[kind] = {
          raw: { status: item.status, contentType: "text/plain", body: `status ${item.status}` },
        };
        parts.push(`${kind} HTTP ${item.status}`);
        continue;
    }
    scenario[kind] = { series };
  }
  return { scenario, what: parts.join("; ") };
}

const handWritten = (): [string, Scenario][] => {
  const allValues = (value: unknown): Scenario =>
    Object.fromEntries(
      kinds.map((kind) => [kind, { series: healthy(kind).map((s) => ({ ...s, value })) }]),
    );
  return [
    ["all-nan", allValues("NaN")],
    ["all-inf", allValues("+Inf")],
    ["all-negative", allValues("-1")],
    ["all-garbage", allValues("garbage")],
    ["all-empty-string", allValues("")],
    ["all-hex-zero", allValues("0x0")],
    ["all-json-number", allValues(0.25)],
    ["all-overflow", allValues("1e309")],
    ["no-series", Object.fromEntries(kinds.map((kind) => [kind, { series: [] }]))],
    [
      "matrix",
      Object.fromEntries(kinds.map((kind) => [kind, { series: [], resultType: "matrix" }])),
    ],
    [
      "scalar-answer",
      {
        "node-cpu-average": {
          raw: {
            status: 200,
            body: '{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}',
          },
        },
      },
    ],
    [
      "html-proxy-page",
      {
        "node-cpu-average": {
          raw: { status: 502, contentType: "text/html", body: "<html>Bad Gateway</html>" },
        },
      },
    ],
    [
      "unauthorized",
      {
        "container-memory-peak": {
          raw: { status: 401, body: '{"status":"error","errorType":"unauthorized","error":"no"}' },
        },
      },
    ],
    [
      "error-with-200",
      {
        "node-memory-average": {
          raw: { status: 200, body: '{"status":"error","error":"bad_data"}' },
        },
      },
    ],
    [
      "success-with-500",
      {
        "node-memory-average": {
          raw: {
            status: 500,
            body: '{"status":"success","data":{"resultType":"vector","result":[]}}',
          },
        },
      },
    ],
    [
      "warnings-not-strings",
      { "node-cpu-average": { series: healthy("node-cpu-average"), warnings: [1, null, {}] } },
    ],
    [
      "labels-not-strings",
      {
        "container-cpu-average": {
          series: [{ metric: { namespace: 1, pod: ["x"], container: null }, value: "0.1" }],
        },
      },
    ],
    [
      "value-tuple-short",
      {
        "node-cpu-peak": {
          raw: {
            status: 200,
            body: '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"node":"homelab-worker-1"},"value":["0.5"]}]}}',
          },
        },
      },
    ],
    [
      "huge-body",
      {
        "node-cpu-average": {
          raw: {
            status: 200,
            body: `{"status":"success","data":{"resultType":"vector","result":[${Array.from({ length: 50000 }, (_, i) => `{"metric":{"node":"n${i}"},"value":[1,"0.1"]}`).join(",")}]}}`,
          },
        },
      },
    ],
  ];
};

export const prometheusFamily: InputFamily = {
  name: "prometheus",
  description:
    "Prometheus answers (NaN, ±Inf, negative and garbage values, bad labels, wrong shapes, error pages) from a stub server, read by readPrometheusUsage",
  async open(options): Promise<FamilySession> {
    const holder: { scenario: Scenario } = { scenario: {} };
    const stub = await startPrometheusStub((request) => answer(holder.scenario, request));
    const scenarios = sample(
      fc.array(damage, { minLength: 1, maxLength: 3 }),
      options.generated,
      familySeed(options.seed, "prometheus"),
    );
    const cases = [
      ...handWritten().map(([name, scenario]) =>
        prometheusCase(stub, holder, `prometheus/${name}`, scenario, name),
      ),
      ...scenarios.map((damages, index) => {
        const { scenario, what } = scenarioFrom(damages);
        return prometheusCase(stub, holder, `prometheus/gen-${index}`, scenario, what);
      }),
    ];
    return { cases, close: () => stub.stop() };
  },
};
