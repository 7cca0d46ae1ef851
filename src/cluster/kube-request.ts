import http from "node:http";
import https from "node:https";
import {
  connectionMessage,
  credentialsError,
  credentialsWithin,
  deadlineFactor,
  type ExchangeLimits,
  KubeApiError,
  limitExchange,
  requestBuildError,
  sinceStart,
  trustHint,
} from "./kube-client.ts";
import { applyKubeCredentials, type LoadedKubeConfig, usesProxy } from "./kube-config.ts";

export type KubeMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface KubeRequest {
  method: KubeMethod;
  /** Path below the server URL, e.g. `/api/v1/nodes/worker-1`. */
  path: string;
  query?: Record<string, string | undefined>;
  /** JSON body. */
  body?: unknown;
  /** Default `application/json` when there is a body. */
  contentType?: string;
  /** Inactivity: nothing arrived for this long (default 30 s). */
  timeoutMs?: number;
  /** The whole exchange, answer included (default {@link deadlineFactor} × `timeoutMs`). */
  deadlineMs?: number;
  /**
   * Connections to reuse (keep-alive) for a caller that asks often, such as a Lease renewal
   * every two seconds; not used through a proxy, whose own agent the credentials set.
   */
  agent?: http.Agent;
}

/** An API answer of any status: callers decide what 404, 409 or 429 mean for them. */
export interface KubeResponse {
  status: number;
  text: string;
  /** `reason` of a Status object body, when there is one. */
  reason?: string;
  /** `message` of a Status object body, when there is one. */
  message?: string;
  /** `details.causes` of a Status object body. */
  causes: { reason?: string; message?: string }[];
}

/**
 * One request with the kubeconfig's credentials (tokens, exec plugins, client certificates,
 * CA, proxy), which client-node applies to the request options. Any HTTP status resolves;
 * a request that got no complete answer, or could not be sent (its credentials could not be
 * had, Node refused to build it), throws {@link KubeApiError}.
 */
export async function kubeRequest(
  loaded: LoadedKubeConfig,
  request: KubeRequest,
): Promise<KubeResponse> {
  const base = new URL(loaded.server);
  const url = new URL(base.origin + base.pathname.replace(/\/$/, "") + request.path);
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, value);
  }
  const body = request.body === undefined ? undefined : JSON.stringify(request.body);
  const headers: Record<string, string> = {
    Accept: "application/json",
    "User-Agent": "pr-autoscaler",
  };
  if (body !== undefined) {
    headers["Content-Type"] = request.contentType ?? "application/json";
    headers["Content-Length"] = String(Buffer.byteLength(body));
  }
  const options: https.RequestOptions = { method: request.method, headers };
  const timeoutMs = request.timeoutMs ?? 30_000;
  const own = { timeoutMs, deadlineMs: request.deadlineMs ?? deadlineFactor * timeoutMs };
  const startedAt = performance.now();
  try {
    await credentialsWithin(
      applyKubeCredentials(loaded, options),
      own,
      describeRequest(request),
      request.path,
    );
  } catch (error) {
    if (error instanceof KubeApiError) throw error;
    throw credentialsError(describeRequest(request), error, request.path);
  }
  if (request.agent && !usesProxy(loaded)) options.agent = request.agent;
  const trust = trustHint(loaded);
  const limits = sinceStart(own, startedAt);
  const text = await send(url, options, body, request, limits, trust);
  return { ...text, ...readStatus(text.text) };
}

/** `METHOD path` for messages. */
export function describeRequest(request: Pick<KubeRequest, "method" | "path">): string {
  return `${request.method} ${request.path}`;
}

function send(
  url: URL,
  options: https.RequestOptions,
  body: string | undefined,
  request: KubeRequest,
  limits: ExchangeLimits,
  trust: string,
): Promise<{ status: number; text: string }> {
  const what = describeRequest(request);
  return new Promise((resolve, reject) => {
    const transport = url.protocol === "https:" ? https : http;
    let outgoing: http.ClientRequest;
    let responded = false;
    let cut = { timedOut: false, pastDeadline: false };
    const failed = (error: Error) =>
      new KubeApiError(
        `${what}: ${connectionMessage(error, trust)}`,
        request.path,
        undefined,
        undefined,
        undefined,
        cut,
      );
    try {
      outgoing = transport.request(url, options, (response) => {
        responded = true;
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", (error) => reject(failed(error)));
        response.on("aborted", () =>
          reject(new KubeApiError(`${what}: the response was cut short`, request.path)),
        );
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      });
    } catch (error) {
      // Node throws at once for a request it cannot build (a header with a newline).
      reject(requestBuildError(what, error, request.path));
      return;
    }
    cut = limitExchange(outgoing, limits, () => responded);
    outgoing.on("error", (error) => reject(failed(error)));
    outgoing.end(body);
  });
}

function readStatus(text: string): Pick<KubeResponse, "reason" | "message" | "causes"> {
  try {
    const parsed = JSON.parse(text) as {
      kind?: unknown;
      reason?: unknown;
      message?: unknown;
      details?: { causes?: unknown };
    };
    if (parsed.kind !== "Status") return { causes: [] };
    const causes = Array.isArray(parsed.details?.causes)
      ? (parsed.details.causes as unknown[]).map(readCause)
      : [];
    return {
      ...(typeof parsed.reason === "string" ? { reason: parsed.reason } : {}),
      ...(typeof parsed.message === "string" ? { message: parsed.message } : {}),
      causes,
    };
  } catch {
    // Not JSON: a proxy's or an aggregated API's plain-text answer.
    return { causes: [] };
  }
}

function readCause(value: unknown): { reason?: string; message?: string } {
  if (typeof value !== "object" || value === null) return {};
  const cause = value as { reason?: unknown; message?: unknown };
  return {
    ...(typeof cause.reason === "string" ? { reason: cause.reason } : {}),
    ...(typeof cause.message === "string" ? { message: cause.message } : {}),
  };
}

/**
 * A {@link KubeApiError} for an answer that was not what the caller wanted, with the Status
 * message (or the start of the body) in its message.
 */
export function responseError(request: KubeRequest, response: KubeResponse): KubeApiError {
  const detail = response.message ?? response.text.trim().slice(0, 200);
  return new KubeApiError(
    `${describeRequest(request)}: HTTP ${response.status}${response.reason ? ` ${response.reason}` : ""}${detail ? `: ${detail}` : ""}`,
    request.path,
    response.status,
    response.reason,
  );
}
