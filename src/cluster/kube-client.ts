import http from "node:http";
import https from "node:https";
import { StringDecoder } from "node:string_decoder";
import { applyKubeCredentials, type LoadedKubeConfig, usesProxy } from "./kube-config.ts";

/** A request to the API server that failed: an HTTP error status or no response at all. */
export class KubeApiError extends Error {
  /** HTTP status; undefined when the server could not be reached or the body was unreadable. */
  readonly status: number | undefined;
  /** `reason` of the Kubernetes Status object (`NotFound`, `Expired`, `Forbidden`…). */
  readonly reason: string | undefined;
  readonly path: string;

  constructor(message: string, path: string, status?: number, reason?: string) {
    super(message);
    this.name = "KubeApiError";
    this.path = path;
    this.status = status;
    this.reason = reason;
  }

  /** Worth trying again: no response, throttled, or a server-side failure. */
  get retryable(): boolean {
    return (
      this.status === undefined ||
      this.status === 429 ||
      (this.status >= 500 && this.status !== 501)
    );
  }
}

export interface KubeClientOptions {
  /** Per-request inactivity timeout. */
  timeoutMs?: number;
  userAgent?: string;
}

/** Minimal JSON-over-HTTP access to the API server with the kubeconfig's credentials. */
export interface KubeClient {
  /** Server URL without credentials. */
  readonly server: string;
  /** GETs `path` and returns the body text; non-2xx statuses throw {@link KubeApiError}. */
  getText(path: string, query?: Record<string, string | number | undefined>): Promise<string>;
  /**
   * GETs `path` and hands a 2xx body to `onText` piece by piece as it arrives (UTF-8
   * decoded, never splitting a character), so that a large body is never held whole.
   * Non-2xx statuses throw {@link KubeApiError}; an exception from `onText` aborts the
   * request and is thrown as it is.
   */
  getStream(
    path: string,
    query: Record<string, string | number | undefined>,
    onText: (text: string) => void,
  ): Promise<void>;
  /** Releases pooled connections. */
  close(): void;
}

/**
 * Creates a client that performs the requests itself, with the kubeconfig's credentials
 * (see applyKubeCredentials: @kubernetes/client-node is involved only for exec plugins, auth
 * providers and proxies), so response bodies can be decoded straight into our own small
 * types.
 */
export function createKubeClient(
  loaded: LoadedKubeConfig,
  options: KubeClientOptions = {},
): KubeClient {
  const base = new URL(loaded.server);
  const secure = base.protocol === "https:";
  const proxied = usesProxy(loaded);
  // client-node's own agents do not keep connections alive; a paginated list makes hundreds
  // of requests, so ours do (TLS material travels with each request's options).
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: 8 })
    : new http.Agent({ keepAlive: true, maxSockets: 8 });
  const timeoutMs = options.timeoutMs ?? 60_000;
  const userAgent = options.userAgent ?? "pr-autoscaler";
  const prefix = base.pathname.replace(/\/$/, "");

  async function prepare(
    path: string,
    query: Record<string, string | number | undefined>,
  ): Promise<[URL, https.RequestOptions]> {
    const url = new URL(base.origin + prefix + path);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== "") url.searchParams.set(key, String(value));
    }
    const requestOptions: https.RequestOptions = {
      method: "GET",
      headers: { Accept: "application/json", "User-Agent": userAgent },
    };
    await applyKubeCredentials(loaded, requestOptions);
    if (!proxied) requestOptions.agent = agent;
    return [url, requestOptions];
  }

  async function getText(
    path: string,
    query: Record<string, string | number | undefined> = {},
  ): Promise<string> {
    const [url, requestOptions] = await prepare(path, query);
    const chunks: Buffer[] = [];
    await send(url, requestOptions, secure, timeoutMs, path, (chunk) => chunks.push(chunk));
    return chunks.length === 1
      ? (chunks[0] as Buffer).toString("utf8")
      : Buffer.concat(chunks).toString("utf8");
  }

  async function getStream(
    path: string,
    query: Record<string, string | number | undefined>,
    onText: (text: string) => void,
  ): Promise<void> {
    const [url, requestOptions] = await prepare(path, query);
    const decoder = new StringDecoder("utf8");
    await send(url, requestOptions, secure, timeoutMs, path, (chunk) => {
      const text = decoder.write(chunk);
      if (text !== "") onText(text);
    });
    const rest = decoder.end();
    if (rest !== "") onText(rest);
  }

  return { server: loaded.server, getText, getStream, close: () => agent.destroy() };
}

/**
 * Sends a GET and passes each chunk of a 2xx body to `onChunk`; other statuses reject with
 * the body's Status message. An exception from `onChunk` destroys the request and rejects.
 */
function send(
  url: URL,
  options: https.RequestOptions,
  secure: boolean,
  timeoutMs: number,
  path: string,
  onChunk: (chunk: Buffer) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    const request = (secure ? https : http).request(url, options, (response) => {
      const status = response.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      const errorChunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => {
        if (settled) return;
        if (!ok) {
          errorChunks.push(chunk);
          return;
        }
        try {
          onChunk(chunk);
        } catch (error) {
          fail(error as Error);
          request.destroy();
        }
      });
      response.on("error", (error) => fail(networkError(error, url, path)));
      response.on("aborted", () =>
        fail(new KubeApiError(`${describe(url)}: the response was cut short`, path)),
      );
      response.on("end", () => {
        if (ok) {
          if (!settled) {
            settled = true;
            resolve();
          }
          return;
        }
        fail(statusError(status, Buffer.concat(errorChunks).toString("utf8"), url, path));
      });
    });
    request.setTimeout(timeoutMs, () =>
      request.destroy(new Error(`no response within ${formatTimeout(timeoutMs)}`)),
    );
    request.on("error", (error) => fail(networkError(error, url, path)));
    request.end();
  });
}

function describe(url: URL): string {
  return `GET ${url.origin}${url.pathname}`;
}

function networkError(error: Error, url: URL, path: string): KubeApiError {
  const code = (error as NodeJS.ErrnoException).code;
  return new KubeApiError(`${describe(url)}: ${code ? `${code} ` : ""}${error.message}`, path);
}

function statusError(status: number, body: string, url: URL, path: string): KubeApiError {
  let reason: string | undefined;
  let message: string | undefined;
  try {
    const parsed = JSON.parse(body) as { kind?: string; reason?: unknown; message?: unknown };
    if (parsed.kind === "Status") {
      reason = typeof parsed.reason === "string" ? parsed.reason : undefined;
      message = typeof parsed.message === "string" ? parsed.message : undefined;
    }
  } catch {
    // Not a Status object (an aggregated API that is down answers with plain text).
  }
  const detail = message ?? body.trim().slice(0, 200);
  return new KubeApiError(
    `${describe(url)}: HTTP ${status}${reason ? ` ${reason}` : ""}${detail ? `: ${detail}` : ""}`,
    path,
    status,
    reason,
  );
}

/** A request timeout for messages: `250 ms`, `5 s`, `1.5 s` (never "0s"). */
export function formatTimeout(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${Number((ms / 1000).toFixed(1))} s`;
}
