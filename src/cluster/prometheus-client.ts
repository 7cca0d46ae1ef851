import { z } from "zod";
import { redactSecrets } from "../apply/report-redact.ts";
import { InputError } from "../errors.ts";
import { formatTimeout } from "./kube-client.ts";
import { PrometheusError } from "./prometheus-error.ts";

/** Where and how to send queries; `url` is for messages and never carries credentials. */
export interface PrometheusEndpoint {
  url: string;
  queryUrl: URL;
  headers: Record<string, string>;
  timeoutMs: number;
}

/** One series of an instant vector. `value` is NaN or ±Infinity when Prometheus said so. */
export interface VectorSample {
  labels: Record<string, string>;
  value: number;
  /** The value as Prometheus wrote it (`"NaN"`, `"+Inf"`, `"0.25"`). */
  raw: string;
}

export interface InstantResult {
  samples: VectorSample[];
  /** Prometheus' own warnings, e.g. a partial answer from remote storage. */
  warnings: string[];
}

const PrometheusApiResponse = z.object({
  status: z.string(),
  data: z.unknown().optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
  warnings: z.array(z.string()).optional(),
});

const PrometheusVector = z.object({
  resultType: z.literal("vector"),
  result: z.array(
    z.object({
      metric: z.record(z.string(), z.string()),
      value: z.tuple([z.number(), z.string()]),
    }),
  ),
});

/**
 * Checks the server URL and prepares the query endpoint. Credentials in the URL become a Basic
 * Authorization header (fetch refuses URLs that carry them) and are left out of `url`.
 */
export function prometheusEndpoint(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): PrometheusEndpoint {
  const parsed = parseServerUrl(url);
  const merged = { ...headers };
  if ((parsed.username || parsed.password) && !hasHeader(merged, "authorization")) {
    const user = decodeURIComponent(parsed.username);
    const password = decodeURIComponent(parsed.password);
    merged.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  }
  parsed.username = "";
  parsed.password = "";
  const display = parsed.href.replace(/\/+$/, "");
  const queryUrl = new URL(`${parsed.pathname.replace(/\/+$/, "")}/api/v1/query`, parsed);
  return { url: display, queryUrl, headers: merged, timeoutMs };
}

const ENCODE_HINT =
  "; in user:password@, write a /, #, ? or @ of the password percent-encoded (%2F, %23, %3F, %40)";

function parseServerUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(
      `Prometheus URL ${JSON.stringify(hideUrlCredentials(url))} is not a valid URL; give one like http://prometheus.monitoring:9090${url.includes("@") ? ENCODE_HINT : ""}`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new InputError(
      `Prometheus URL ${JSON.stringify(hideUrlCredentials(url))} must start with http:// or https://, e.g. http://prometheus.monitoring:9090`,
    );
  }
  // Read as a path, "@" says a password held a "/" and the host is not the one meant.
  if (parsed.pathname.includes("@")) {
    throw new InputError(
      `Prometheus URL ${JSON.stringify(hideUrlCredentials(url))} has an "@" after its host${ENCODE_HINT}`,
    );
  }
  if (parsed.search || parsed.hash) {
    throw new InputError(
      `Prometheus URL ${JSON.stringify(hideUrlCredentials(url))} must not have a ?query or #fragment; give the server's base URL (with its path prefix, if any)`,
    );
  }
  return parsed;
}

/**
 * A server URL as messages may show it, whether it parses or not: everything between the
 * scheme's `//` (or the start, without one) and the last `@` is user information, shown as
 * `user:***@` (`***@` when no user can be told apart), so a password with an unencoded `#`,
 * `/` or `@` is hidden whole; a query or fragment after that (`?token=…`) becomes `?***`.
 */
export function hideUrlCredentials(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? "";
  let rest = url.slice(scheme.length);
  let userInfo = "";
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const colon = rest.indexOf(":");
    const user = colon >= 0 && colon < at ? rest.slice(0, colon) : "";
    userInfo = user !== "" && !/[\s/?#]/.test(user) ? `${user}:***@` : "***@";
    rest = rest.slice(at + 1);
  }
  const query = rest.search(/[?#]/);
  if (query >= 0) rest = `${rest.slice(0, query + 1)}***`;
  return scheme + userInfo + rest;
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

/** Runs one instant query at `time` through the HTTP API (`POST /api/v1/query`). */
export async function queryInstant(
  endpoint: PrometheusEndpoint,
  query: string,
  time: Date,
): Promise<InstantResult> {
  const { data, status, warnings } = await queryData(endpoint, query, time);
  const vector = PrometheusVector.safeParse(data);
  if (!vector.success) {
    throw failure(
      endpoint,
      query,
      `answered with ${describeData(data)} where an instant vector was expected; a usage query must return one series per node or container`,
      status,
    );
  }
  return {
    samples: vector.data.result.map((series) => ({
      labels: series.metric,
      value: parsePrometheusFloat(series.value[1]),
      raw: series.value[1],
    })),
    warnings,
  };
}

/** One series of a range vector: its points, oldest first. */
export interface MatrixSeries {
  labels: Record<string, string>;
  /** Unix seconds and the value, NaN or ±Infinity when Prometheus said so. */
  points: { at: number; value: number }[];
}

export interface MatrixResult {
  series: MatrixSeries[];
  warnings: string[];
}

const PrometheusMatrix = z.object({
  resultType: z.literal("matrix"),
  result: z.array(
    z.object({
      metric: z.record(z.string(), z.string()),
      values: z.array(z.tuple([z.number(), z.string()])),
    }),
  ),
});

/**
 * Runs one query whose answer is a range vector (a subquery, `(QUERY)[600s:60s]`) at `time`,
 * through the same endpoint as instant queries.
 */
export async function queryMatrix(
  endpoint: PrometheusEndpoint,
  query: string,
  time: Date,
): Promise<MatrixResult> {
  const { data, status, warnings } = await queryData(endpoint, query, time);
  const matrix = PrometheusMatrix.safeParse(data);
  if (!matrix.success) {
    throw failure(
      endpoint,
      query,
      `answered with ${describeData(data)} where a range vector was expected; a usage query must return one series per node`,
      status,
    );
  }
  return {
    series: matrix.data.result.map((series) => ({
      labels: series.metric,
      points: series.values.map(([at, raw]) => ({ at, value: parsePrometheusFloat(raw) })),
    })),
    warnings,
  };
}

/** Sends one query and returns its `data`, or throws naming what went wrong. */
async function queryData(
  endpoint: PrometheusEndpoint,
  query: string,
  time: Date,
): Promise<{ data: unknown; status: number; warnings: string[] }> {
  const { status, contentType, text } = await post(endpoint, query, time);
  const body = parseBody(text);
  if (body === undefined) {
    throw failure(
      endpoint,
      query,
      `answered HTTP ${status} with a body that is not a Prometheus API response` +
        ` (${contentType || "no content type"}: ${excerpt(text)})` +
        authHint(status),
      status,
    );
  }
  if (body.status !== "success" || status < 200 || status > 299) {
    const kind = body.errorType ? `, ${body.errorType}` : "";
    const reason = body.error ?? `status ${JSON.stringify(body.status)}`;
    throw failure(
      endpoint,
      query,
      `rejected the query (HTTP ${status}${kind}): ${reason}${authHint(status)}`,
      status,
    );
  }
  return { data: body.data, status, warnings: body.warnings ?? [] };
}

interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
}

async function post(endpoint: PrometheusEndpoint, query: string, time: Date): Promise<RawAnswer> {
  const form = new URLSearchParams({
    query,
    time: String(time.getTime() / 1000),
    // Plain seconds: Prometheus durations like "0.3s" take no fractions, floats do.
    timeout: String(endpoint.timeoutMs / 1000),
  });
  try {
    const response = await fetch(endpoint.queryUrl, {
      method: "POST",
      headers: {
        ...endpoint.headers,
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/json",
      },
      body: form,
      signal: AbortSignal.timeout(endpoint.timeoutMs),
    });
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get("content-type") ?? "",
      text,
    };
  } catch (error) {
    throw unreachable(endpoint, query, error);
  }
}

function unreachable(endpoint: PrometheusEndpoint, query: string, error: unknown): PrometheusError {
  if (field(error, "name") === "TimeoutError") {
    return failure(endpoint, query, `did not answer within ${formatTimeout(endpoint.timeoutMs)}`);
  }
  // fetch wraps the socket error (ECONNREFUSED, ENOTFOUND, a TLS failure) in `cause`.
  const cause = field(error, "cause") ?? error;
  const detail = field(cause, "code") ?? field(cause, "message") ?? String(cause);
  return failure(
    endpoint,
    query,
    `could not be reached (${detail}); check the URL and that Prometheus is reachable from here`,
  );
}

/** Reads a string field of a thrown value; errors from fetch may come from another realm. */
function field(value: unknown, key: "name" | "code" | "message"): string | undefined;
function field(value: unknown, key: "cause"): unknown;
function field(value: unknown, key: string): unknown {
  if (value === null || typeof value !== "object" || !(key in value)) return undefined;
  const found = (value as Record<string, unknown>)[key];
  return key === "cause" || typeof found === "string" ? found : undefined;
}

function failure(
  endpoint: PrometheusEndpoint,
  query: string,
  problem: string,
  status?: number,
): PrometheusError {
  const message = `Prometheus at ${endpoint.url} ${problem}. Query: ${oneLine(query)}`;
  return new PrometheusError(message, { url: endpoint.url, query, status });
}

function parseBody(text: string): z.infer<typeof PrometheusApiResponse> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = PrometheusApiResponse.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

function authHint(status: number): string {
  return status === 401 || status === 403
    ? " (check the credentials: an Authorization header, or user:password in the URL)"
    : "";
}

function describeData(data: unknown): string {
  if (data !== null && typeof data === "object" && "resultType" in data) {
    return `a result of type ${JSON.stringify(data.resultType)}`;
  }
  return "data of an unexpected shape";
}

/**
 * The start of an answer that is not Prometheus' own, for the error message: secrets in it (an
 * auth proxy's page echoing the request's token) are removed before it is cut.
 */
function excerpt(text: string): string {
  const flat = oneLine(redactSecrets(text, {}));
  if (flat === "") return "empty";
  return JSON.stringify(flat.length > 200 ? `${flat.slice(0, 200)}…` : flat);
}

function oneLine(text: string): string {
  return text.replaceAll(/\s+/g, " ").trim();
}

/** A decimal float as Prometheus (Go's strconv) writes sample values: no hex, no blanks. */
const PROMETHEUS_FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Prometheus writes non-finite values as `NaN`, `+Inf` and `-Inf`, which Number() misreads;
 * anything that is not a decimal float (`0x10`, `""`, ` 1`) is NaN, so it reads as unknown.
 */
export function parsePrometheusFloat(raw: string): number {
  if (raw === "+Inf" || raw === "Inf") return Number.POSITIVE_INFINITY;
  if (raw === "-Inf") return Number.NEGATIVE_INFINITY;
  return PROMETHEUS_FLOAT.test(raw) ? Number(raw) : Number.NaN;
}
