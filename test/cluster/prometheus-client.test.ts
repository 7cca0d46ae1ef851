import { afterEach, describe, expect, it } from "@jest/globals";
import {
  PrometheusError,
  type PrometheusOptions,
  readPrometheusUsage,
} from "../../src/cluster/prometheus.ts";
import { hideUrlCredentials } from "../../src/cluster/prometheus-client.ts";
import { prometheusUsageSource } from "../../src/cluster/prometheus-usage-source.ts";
import { InputError } from "../../src/errors.ts";
import {
  matrixAnswer,
  type PrometheusStub,
  type StubAnswer,
  type StubRequest,
  startPrometheusStub,
  vectorAnswer,
} from "../support/prometheus-stub.ts";

const at = new Date("2025-03-01T12:00:30Z");
const empty = vectorAnswer([]);

let stubs: PrometheusStub[] = [];

afterEach(async () => {
  await Promise.all(stubs.map((stub) => stub.stop()));
  stubs = [];
});

/** Whether a request asks for a node query's points at each step (a range vector). */
function asksSteps(request: StubRequest): boolean {
  return /^\(.*\)\[\d+s:\d+s\]$/s.test(request.form.get("query") ?? "");
}

/**
 * A stub answering `answer` for the statistics and `steps` (no points, unless given) for the
 * node queries' points.
 */
async function stub(
  answer: (request: StubRequest) => StubAnswer | undefined,
  steps: (request: StubRequest) => StubAnswer | undefined = () => matrixAnswer([]),
) {
  const started = await startPrometheusStub((request) =>
    asksSteps(request) ? steps(request) : answer(request),
  );
  stubs.push(started);
  return started;
}

type Measure = "nodeCpu" | "nodeMemory" | "containerCpu" | "containerMemory";

type Statistic = "average" | "peak" | "low" | "points" | "first";

/** Which default query a request carries, and which statistic of the window it asks for. */
function measureOf(request: StubRequest): { measure: Measure; statistic: Statistic } {
  const query = request.form.get("query") ?? "";
  const statistic: Statistic = query.startsWith("quantile_over_time(")
    ? "peak"
    : query.startsWith("count_over_time(")
      ? "points"
      : query.startsWith("min_over_time(timestamp(")
        ? "first"
        : query.startsWith("min_over_time(")
          ? "low"
          : "average";
  if (query.includes("node_cpu_seconds_total")) return { measure: "nodeCpu", statistic };
  if (query.includes("node_memory_MemAvailable_bytes")) return { measure: "nodeMemory", statistic };
  if (query.includes("container_cpu_usage_seconds_total"))
    return { measure: "containerCpu", statistic };
  return { measure: "containerMemory", statistic };
}

async function failureOf(options: PrometheusOptions): Promise<PrometheusError> {
  const error = await readPrometheusUsage(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PrometheusError);
  return error as PrometheusError;
}

describe("readPrometheusUsage over HTTP", () => {
  it("POSTs instant queries under the URL's path prefix with the window's end and the given headers", async () => {
    const server = await stub(() => empty);

    await readPrometheusUsage({
      url: `${server.url}/prometheus/`,
      at,
      headers: { Authorization: "Bearer t0ken" },
    });

    // Per query: average, percentile, and how many points there are and when the first is;
    // for the two node queries the lowest point and the points themselves as well.
    expect(server.requests).toHaveLength(20);
    for (const request of server.requests) {
      expect(request).toMatchObject({ method: "POST", path: "/prometheus/api/v1/query" });
      expect(request.headers.authorization).toBe("Bearer t0ken");
      expect(request.form.get("time")).toBe(String(at.getTime() / 1000));
      expect(request.form.get("query")).toMatch(
        /^(avg_over_time\(|quantile_over_time\(0\.95, |min_over_time\(|count_over_time\()\(.*\)\[600s:60s\]\)$|^min_over_time\(timestamp\(\(.*\) \* 0\)\[600s:60s\]\)$|^\(.*\)\[600s:60s\]$/,
      );
    }
    const queries = server.requests.map((r) => r.form.get("query") ?? "");
    expect(queries.filter((q) => q.includes("[120s]"))).toHaveLength(10);
    expect(queries.some((q) => q.includes("$rate"))).toBe(false);
  });

  it("rounds CPU to whole millicores and memory to whole bytes, average, peak and lowest point apart", async () => {
    const values: Record<Measure, [string, string, string]> = {
      nodeCpu: ["0.2504", "0.7496", "0.1006"],
      nodeMemory: ["1073741824.4", "2147483647.6", "536870911.5"],
      containerCpu: ["0.0004", "0.0006", "0"],
      containerMemory: ["1e6", "2.5e6", "0"],
    };
    // The window's 10 steps, from 11:51:00 to 12:00:00, all have a point.
    const coverage = { points: "10", first: String(at.getTime() / 1000 - 570) };
    const server = await stub(
      (request) => {
        const { measure, statistic } = measureOf(request);
        const metric: Record<string, string> = measure.startsWith("node")
          ? { node: "n1" }
          : { namespace: "ns", pod: "p", container: "c" };
        const value =
          statistic === "points" || statistic === "first"
            ? coverage[statistic]
            : values[measure][statistic === "peak" ? 1 : statistic === "low" ? 2 : 0];
        return vectorAnswer([{ metric, value }]);
      },
      (request) => {
        // Two of the node's points: a value in cores or bytes at each step's Unix seconds.
        const cpu = request.form.get("query")?.includes("container_cpu_usage_seconds_total");
        const values: [number, string][] = cpu
          ? [
              [1_740_830_340, "0.2504"],
              [1_740_830_400, "0.1006"],
            ]
          : [
              [1_740_830_340, "1073741824.4"],
              [1_740_830_400, "NaN"],
            ];
        return matrixAnswer([{ metric: { node: "n1" }, values }]);
      },
    );

    const result = await readPrometheusUsage({ url: server.url, at });

    expect(result.nodes.get("n1")).toEqual({
      cpu: 250,
      memory: 1073741824,
      windowSeconds: 600,
      gapSeconds: 60,
      timestamp: at.toISOString(),
      source: "prometheus",
      peak: { cpu: 750, memory: 2147483648, percentile: 95 },
      low: { cpu: 101, memory: 536870912 },
      points: [
        { at: "2025-03-01T11:59:00.000Z", cpu: 250, memory: 1073741824 },
        // NaN is no value: the step has CPU alone.
        { at: "2025-03-01T12:00:00.000Z", cpu: 101 },
      ],
    });
    // Containers get no lowest point: nothing judges a level they held.
    expect(result.containers.get("ns/p/c")?.low).toBeUndefined();
    expect(result.containers.get("ns/p/c")).toMatchObject({
      cpu: 0,
      memory: 1_000_000,
      peak: { cpu: 1, memory: 2_500_000, percentile: 95 },
    });
    expect(result.warnings).toEqual([]);
  });

  it("treats +Inf and negative values as unknown, with a warning", async () => {
    const server = await stub((request) => {
      const { measure } = measureOf(request);
      if (measure === "nodeCpu") return vectorAnswer([{ metric: { node: "n1" }, value: "+Inf" }]);
      if (measure === "nodeMemory") return vectorAnswer([{ metric: { node: "n1" }, value: "-5" }]);
      return empty;
    });

    const result = await readPrometheusUsage({ url: server.url, at });

    expect(result.nodes.has("n1")).toBe(false);
    const about = result.warnings.filter((w) => w.subject === "node/n1");
    expect(about.map((w) => w.code)).toEqual([
      "prometheus-value-unusable",
      "prometheus-value-unusable",
    ]);
    expect(about[0]!.message).toContain("gave +Inf for the CPU usage of node n1");
    expect(about[1]!.message).toContain("gave -5 for the memory usage of node n1");
  });

  it("passes on Prometheus' warnings about partial answers, once each", async () => {
    const server = await stub(() =>
      vectorAnswer([{ metric: { node: "n1" }, value: "1" }], ["remote read failed: store-1"]),
    );

    const result = await readPrometheusUsage({ url: server.url, at });

    const partial = result.warnings.filter((w) => w.code === "prometheus-partial");
    expect(partial).toEqual([
      {
        code: "prometheus-partial",
        subject: "prometheus",
        message: `Prometheus at ${server.url} warned that its answer may be incomplete: remote read failed: store-1`,
      },
    ]);
  });

  it("leaves out the container answers alone when only they may be incomplete", async () => {
    const server = await stub((request) =>
      measureOf(request).measure.startsWith("container")
        ? vectorAnswer([], ["remote read failed: store-1"])
        : vectorAnswer([{ metric: { node: "n1" }, value: "1" }]),
    );

    const result = await readPrometheusUsage({ url: server.url, at });

    expect(result.containersFailed).toBe(true);
    expect(result.warnings.filter((w) => w.subject === "prometheus")).toEqual([
      {
        code: "prometheus-containers-failed",
        subject: "prometheus",
        message: `Prometheus at ${server.url} warned that its answer to the container queries may be incomplete: remote read failed: store-1; container usage is unknown (node usage is read from the other queries)`,
      },
    ]);
  });

  it("uses the larger of repeated series for one node and says the query should aggregate", async () => {
    const server = await stub((request) =>
      measureOf(request).measure === "nodeCpu"
        ? vectorAnswer([
            { metric: { node: "n1", job: "a" }, value: "0.5" },
            { metric: { node: "n1", job: "b" }, value: "0.3" },
          ])
        : empty,
    );

    const result = await readPrometheusUsage({ url: server.url, at });

    expect(result.nodes.get("n1")?.cpu).toBe(500);
    expect(result.warnings).toContainEqual(
      expect.objectContaining({
        code: "prometheus-series-repeated",
        message: expect.stringContaining("several series for node/n1"),
      }),
    );
  });

  it("fails naming the URL and the query when nothing listens there", async () => {
    const server = await stub(() => empty);
    const url = server.url;
    await server.stop();
    stubs = [];

    const error = await failureOf({ url, at });

    expect(error.message).toContain(`Prometheus at ${url} could not be reached (ECONNREFUSED)`);
    expect(error.message).toMatch(/Query: (avg|quantile)_over_time\(/);
    expect(error.url).toBe(url);
    expect(error.exitCode).toBe(1);
  });

  it("fails with the status and an excerpt when a proxy answers with an HTML error page", async () => {
    const server = await stub(() => ({
      status: 502,
      contentType: "text/html",
      body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
    }));

    const error = await failureOf({ url: server.url, at });

    expect(error.status).toBe(502);
    expect(error.message).toContain(
      "answered HTTP 502 with a body that is not a Prometheus API response (text/html:",
    );
    expect(error.message).toContain("502 Bad Gateway");
  });

  it("removes secrets from the excerpt of a page that is not Prometheus' answer", async () => {
    const server = await stub(() => ({
      status: 401,
      contentType: "text/html",
      body: "<html><body>invalid credentials: Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9tIn0.c2ln api_token=s3cr3t-Value-9876</body></html>",
    }));

    const error = await failureOf({ url: server.url, at });

    expect(error.message).toContain("invalid credentials");
    expect(error.message).not.toContain("eyJhbGciOiJSUzI1NiJ9");
    expect(error.message).not.toContain("s3cr3t-Value-9876");
  });

  it("fails with Prometheus' error type and message from an error body", async () => {
    const server = await stub(() => ({
      status: 503,
      body: JSON.stringify({ status: "error", errorType: "timeout", error: "query timed out" }),
    }));

    const error = await failureOf({ url: server.url, at });

    expect(error.status).toBe(503);
    expect(error.message).toContain(
      `Prometheus at ${server.url} rejected the query (HTTP 503, timeout): query timed out`,
    );
  });

  it("fails when Prometheus does not answer within the timeout", async () => {
    const server = await stub(() => undefined);

    const error = await failureOf({ url: server.url, at, timeoutMs: 300 });

    expect(error.message).toContain(`Prometheus at ${server.url} did not answer within 300 ms`);
    expect(server.requests[0]?.form.get("timeout")).toBe("0.3");
  });

  it("says a timeout of a second or more in seconds", async () => {
    const server = await stub(() => undefined);

    const error = await failureOf({ url: server.url, at, timeoutMs: 1500 });

    expect(error.message).toContain(`Prometheus at ${server.url} did not answer within 1.5 s`);
  });

  it("sends credentials from the URL as Basic auth and keeps them out of messages", async () => {
    const server = await stub(() => ({
      status: 401,
      contentType: "text/plain",
      body: "Unauthorized",
    }));
    const withCredentials = server.url.replace("http://", "http://reader:hunter%202@");

    const error = await failureOf({ url: withCredentials, at });

    expect(server.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from("reader:hunter 2").toString("base64")}`,
    );
    expect(error.message).toContain(`Prometheus at ${server.url} answered HTTP 401`);
    expect(error.message).toContain("check the credentials");
    expect(error.message).not.toContain("hunter");
    expect(error.url).toBe(server.url);
  });

  it("fails when a query returns something other than an instant vector", async () => {
    const server = await stub(() => ({
      status: 200,
      body: JSON.stringify({ status: "success", data: { resultType: "scalar", result: [1, "2"] } }),
    }));

    const error = await failureOf({ url: server.url, at });

    expect(error.message).toContain('answered with a result of type "scalar"');
  });

  it.each<[string, Partial<PrometheusOptions>, string]>([
    ["a percentile of 0", { percentile: 0 }, "percentile must be above 0 and at most 100"],
    ["a percentile over 100", { percentile: 101 }, "percentile must be above 0 and at most 100"],
    [
      "a window shorter than a step",
      { windowSeconds: 30 },
      "window (30 s) must be at least one step",
    ],
    ["a fractional window", { windowSeconds: 90.5 }, "window must be a whole number of seconds"],
    ["a zero rate range", { rateSeconds: 0 }, "rate range must be a whole number of seconds"],
    ["an empty query", { queries: { nodeCpu: " " } }, "query nodeCpu is empty"],
    ["a URL that is not one", { url: "not a url" }, "is not a valid URL"],
    ["a URL without a scheme", { url: "prometheus.monitoring:9090" }, "must start with http://"],
    ["a URL with a query string", { url: "http://p:9090/?x=1" }, "must not have a ?query"],
  ])("refuses %s before asking Prometheus", async (_, options, message) => {
    const server = await stub(() => empty);

    const failure = readPrometheusUsage({ url: server.url, at, ...options });

    await expect(failure).rejects.toThrow(InputError);
    await expect(failure).rejects.toThrow(message);
    expect(server.requests).toEqual([]);
  });

  it.each([
    ["another scheme", "ftp://monitor:hunter2@prometheus.monitoring:9090"],
    ["a URL that does not parse", "http://monitor:hunter2@prometheus monitoring:9090"],
    ["no scheme", "monitor:hunter2@prometheus.monitoring:9090"],
    ["an unencoded # in the password", "http://monitor:Hash#hunter2@prometheus.monitoring:9090"],
    ["an unencoded @ and / in the password", "http://monitor:a@b/hunter2@prometheus.monitoring"],
    ["a port out of range", "http://monitor:hunter2@prometheus.monitoring:99999"],
    ["a token as the user", "https://hunter2@prometheus.monitoring"],
    ["a token in the query", "http://prometheus.monitoring:9090/?token=hunter2"],
    ["a token in the fragment", "http://prometheus.monitoring:9090/#hunter2"],
  ])("never repeats a password or token of %s in its error", async (_, url) => {
    const failure = readPrometheusUsage({ url, at });
    await expect(failure).rejects.toThrow(InputError);
    await expect(failure).rejects.not.toThrow(/hunter2/);
    await expect(failure).rejects.toThrow(/prometheus.monitoring/);
  });
});

describe("hideUrlCredentials", () => {
  it.each([
    ["http://monitor:Hash#Pa55@prom.home.arpa:9090", "http://monitor:***@prom.home.arpa:9090"],
    ["monitor:Pa55@prom.home.arpa:9090", "monitor:***@prom.home.arpa:9090"],
    ["http://monitor:Pa55@prom home:9090", "http://monitor:***@prom home:9090"],
    ["https://glpat-0123456789@prom.home.arpa/", "https://***@prom.home.arpa/"],
    ["http://prom.home.arpa:9090/?token=Pa55&x=1", "http://prom.home.arpa:9090/?***"],
    ["http://prom.home.arpa:9090/prom", "http://prom.home.arpa:9090/prom"],
    ["not a url", "not a url"],
  ])("shows %s as %s", (url, shown) => {
    expect(hideUrlCredentials(url)).toBe(shown);
  });
});

describe("prometheusUsageSource: the window asked for", () => {
  it("reads over the caller's window when it is longer than the one set, else over the one set", async () => {
    const server = await stub(() => empty);
    const source = prometheusUsageSource({ url: server.url, windowSeconds: 600 });
    const request = { now: at, nodes: [], pods: [] };

    const longer = await source.read({ ...request, windowSeconds: 1800 });
    expect(longer.windowSeconds).toBe(1800);
    const queries = server.requests.map((r) => r.form.get("query") ?? "");
    expect(queries.every((query) => query.includes("[1800s:60s]"))).toBe(true);

    server.requests.length = 0;
    const shorter = await source.read({ ...request, windowSeconds: 300 });
    expect(shorter.windowSeconds).toBe(600);
    expect(server.requests.every((r) => r.form.get("query")?.includes("[600s:60s]"))).toBe(true);
  });
});
