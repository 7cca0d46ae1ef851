import http from "node:http";
import https from "node:https";
import { StringDecoder } from "node:string_decoder";
import { applyKubeCredentials, type LoadedKubeConfig, usesProxy } from "./kube-config.ts";
import { CredentialsError, messageOf } from "./kube-credentials.ts";

/**
 * Where a request failed when it was not in the exchange with the server: its credentials
 * could not be had (a credential plugin failed, a token file went missing), the request could
 * not be built (a header Node refuses), or a complete answer could not be decoded.
 */
export type KubeFailureStage = "credentials" | "request" | "decode";

/**
 * A request to the API server that failed: an HTTP error status, no response at all, or a
 * failure before the request went out or after its answer arrived ({@link KubeFailureStage}).
 */
export class KubeApiError extends Error {
  /** HTTP status; undefined when there was no answer, or the failure has a {@link stage}. */
  readonly status: number | undefined;
  /** `reason` of the Kubernetes Status object (`NotFound`, `Expired`, `Forbidden`…). */
  readonly reason: string | undefined;
  readonly path: string;
  /** Set when the failure was not in the exchange itself. */
  readonly stage: KubeFailureStage | undefined;
  /** How long the server asked to wait before trying again (`Retry-After` on a 429 or 5xx). */
  readonly retryAfterMs: number | undefined;
  /**
   * The client gave up waiting: nothing arrived for its timeout (a server or aggregated API
   * that hangs), or the exchange passed its deadline ({@link pastDeadline}).
   */
  readonly timedOut: boolean;
  /** The whole exchange took longer than the limit for one request (a body that trickles). */
  readonly pastDeadline: boolean;

  constructor(
    message: string,
    path: string,
    status?: number,
    reason?: string,
    stage?: KubeFailureStage,
    more: { retryAfterMs?: number; timedOut?: boolean; pastDeadline?: boolean } = {},
  ) {
    super(message);
    this.name = "KubeApiError";
    this.path = path;
    this.status = status;
    this.reason = reason;
    this.stage = stage;
    this.retryAfterMs = more.retryAfterMs;
    this.timedOut = more.timedOut ?? false;
    this.pastDeadline = more.pastDeadline ?? false;
  }

  /**
   * Worth trying again: no response, throttled, or a server-side failure. Not a failure
   * before the request went out or in decoding a complete answer: it would fail the same way.
   */
  get retryable(): boolean {
    if (this.stage !== undefined) return false;
    return (
      this.status === undefined ||
      this.status === 429 ||
      (this.status >= 500 && this.status !== 501)
    );
  }
}

export interface KubeClientOptions {
  /** Per-request inactivity timeout (default 60 s). */
  timeoutMs?: number;
  /**
   * How long one request may take in all, its body included (default
   * {@link deadlineFactor} × `timeoutMs`): a server that keeps sending a few bytes now and
   * then is never inactive for the timeout.
   */
  deadlineMs?: number;
  userAgent?: string;
}

/** Minimal JSON-over-HTTP access to the API server with the kubeconfig's credentials. */
export interface KubeClient {
  /** Server URL without credentials. */
  readonly server: string;
  /** `GET <origin><prefix><path>`, as failures name a request (no credentials, no query). */
  describe(path: string): string;
  /**
   * GETs `path` and returns the body text; non-2xx statuses throw {@link KubeApiError}.
   * `limits` replace the client's for this request (a caller with a deadline of its own).
   */
  getText(
    path: string,
    query?: Record<string, string | number | undefined>,
    limits?: ExchangeLimits,
  ): Promise<string>;
  /**
   * GETs `path` and hands a 2xx body to `onText` piece by piece as it arrives (UTF-8
   * decoded, never splitting a character), so that a large body is never held whole.
   * Non-2xx statuses throw {@link KubeApiError}; an exception from `onText` aborts the
   * request and is thrown as it is. `limits` replace the client's for this request.
   */
  getStream(
    path: string,
    query: Record<string, string | number | undefined>,
    onText: (text: string) => void,
    limits?: ExchangeLimits,
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
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const limits = { timeoutMs, deadlineMs: options.deadlineMs ?? deadlineFactor * timeoutMs };
  const userAgent = options.userAgent ?? "pr-autoscaler";
  const prefix = base.pathname.replace(/\/$/, "");
  const trust = trustHint(loaded);

  async function prepare(
    path: string,
    query: Record<string, string | number | undefined>,
    own: ExchangeLimits,
  ): Promise<[URL, https.RequestOptions]> {
    const url = new URL(base.origin + prefix + path);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== "") url.searchParams.set(key, String(value));
    }
    const requestOptions: https.RequestOptions = {
      method: "GET",
      headers: { Accept: "application/json", "User-Agent": userAgent },
    };
    try {
      await credentialsWithin(
        applyKubeCredentials(loaded, requestOptions),
        own,
        describe(url),
        path,
      );
    } catch (error) {
      if (error instanceof KubeApiError) throw error;
      throw credentialsError(describe(url), error, path);
    }
    if (!proxied) requestOptions.agent = agent;
    return [url, requestOptions];
  }

  async function getText(
    path: string,
    query: Record<string, string | number | undefined> = {},
    own: ExchangeLimits = limits,
  ): Promise<string> {
    const startedAt = performance.now();
    const [url, requestOptions] = await prepare(path, query, own);
    const chunks: Buffer[] = [];
    const limited = sinceStart(own, startedAt);
    await send(url, requestOptions, secure, limited, path, trust, (chunk) => chunks.push(chunk));
    return chunks.length === 1
      ? (chunks[0] as Buffer).toString("utf8")
      : Buffer.concat(chunks).toString("utf8");
  }

  async function getStream(
    path: string,
    query: Record<string, string | number | undefined>,
    onText: (text: string) => void,
    own: ExchangeLimits = limits,
  ): Promise<void> {
    const startedAt = performance.now();
    const [url, requestOptions] = await prepare(path, query, own);
    const decoder = new StringDecoder("utf8");
    await send(url, requestOptions, secure, sinceStart(own, startedAt), path, trust, (chunk) => {
      const text = decoder.write(chunk);
      if (text !== "") onText(text);
    });
    const rest = decoder.end();
    if (rest !== "") onText(rest);
  }

  return {
    server: loaded.server,
    describe: (path) => describe(new URL(base.origin + prefix + path)),
    getText,
    getStream,
    close: () => agent.destroy(),
  };
}

/**
 * A {@link KubeApiError} for credentials that could not be had before a request (`what` names
 * the request): a {@link CredentialsError} says which plugin or file failed; anything else
 * thrown while applying them is reported as such.
 */
export function credentialsError(what: string, error: unknown, path: string): KubeApiError {
  const message =
    error instanceof CredentialsError
      ? error.message
      : `the kubeconfig's credentials could not be applied: ${firstLine(error)}`;
  return new KubeApiError(`${what}: ${message}`, path, undefined, undefined, "credentials");
}

/**
 * Waits for `credentials` (the kubeconfig's, being applied to a request) no longer than the
 * request may take in all: a credential plugin waiting for a login nobody gives (kubelogin
 * opening a browser where there is none) would otherwise hold the request, and the read, for
 * ever. Past it, throws a {@link KubeApiError} that is not retried.
 */
export async function credentialsWithin(
  credentials: Promise<void>,
  limits: Pick<ExchangeLimits, "deadlineMs" | "deadlineName">,
  what: string,
  path: string,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const when =
        limits.deadlineName === undefined
          ? `within ${formatTimeout(limits.deadlineMs)}, the limit for one request`
          : `before ${limits.deadlineName} was reached`;
      reject(
        new KubeApiError(
          `${what}: the kubeconfig's credentials were not ready ${when} (a credential plugin waiting for a login?)`,
          path,
          undefined,
          undefined,
          "credentials",
          { timedOut: true, pastDeadline: true },
        ),
      );
    }, limits.deadlineMs);
  });
  // A plugin that fails after the limit must not count as unhandled.
  credentials.catch(() => undefined);
  try {
    await Promise.race([credentials, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** `limits` for the exchange of a request begun at `startedAt`: its deadline counts from then. */
export function sinceStart(limits: ExchangeLimits, startedAt: number): ExchangeLimits {
  const spent = performance.now() - startedAt;
  if (spent < 1) return limits;
  return { ...limits, startedAt };
}

/** A {@link KubeApiError} for a request Node refused to build (an invalid header value). */
export function requestBuildError(what: string, error: unknown, path: string): KubeApiError {
  return new KubeApiError(
    `${what}: the request could not be built: ${firstLine(error)}`,
    path,
    undefined,
    undefined,
    "request",
  );
}

function firstLine(error: unknown): string {
  const message = messageOf(error);
  return message.trim().split("\n")[0] ?? "";
}

/**
 * What to check when the server's certificate is not trusted: where the trusted CA comes from
 * (the kubeconfig's cluster entry, or the service account's ca.crt in a pod).
 */
export function trustHint(loaded: Pick<LoadedKubeConfig, "origin">): string {
  return loaded.origin === "in-cluster"
    ? "check the service account's ca.crt"
    : "check certificate-authority or certificate-authority-data on the kubeconfig's cluster entry (or set insecure-skip-tls-verify: true on it for a test server)";
}

/** Node's codes for a server certificate that does not verify against the trusted CAs. */
const untrustedCodes = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
]);

/**
 * The message of a failed connection, with a hint for TLS verification failures in place of
 * Node's own (`try running Node.js with --use-system-ca`), which points away from the
 * kubeconfig, where the trusted CA is set.
 */
export function connectionMessage(error: Error, trust: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error.message.replace(/; if the root CA is installed locally.*$/s, "");
  // Node's socket errors name their code already (`connect ECONNREFUSED 127.0.0.1:6443`).
  const prefix = code && !message.includes(code) ? `${code} ` : "";
  if (code !== undefined && untrustedCodes.has(code)) {
    return `${prefix}${message}: the server's certificate is not signed by a CA this context trusts; ${trust}`;
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `${prefix}${message}: check the server URL, or tls-server-name on the kubeconfig's cluster entry`;
  }
  if (code === "ECONNREFUSED") {
    return `${prefix}${message}: nothing accepts connections there; check that the API server is up and the kubeconfig's server URL`;
  }
  return `${prefix}${message}`;
}

/** How long a request may wait for data, and take in all. */
export interface ExchangeLimits {
  /** Inactivity: nothing arrived for this long, before the answer began or part way through. */
  timeoutMs: number;
  /** The whole exchange, body included, and its wait for a connection. */
  deadlineMs: number;
  /**
   * What `deadlineMs` is, when it is the time left of a longer limit rather than the
   * request's own (`the read's limit of 120 s`): a request cut there says so.
   */
  deadlineName?: string;
  /**
   * When the request began (`performance.now()`), if before the exchange: the deadline counts
   * from then, the wait for credentials included.
   */
  startedAt?: number;
}

/** A request's inactivity timeout, when not given. */
export const defaultTimeoutMs = 60_000;

/** The limit for one whole request, when not given, as a multiple of its inactivity timeout. */
export const deadlineFactor = 3;

/** What cut an exchange short, for its error. */
export interface ExchangeCut {
  timedOut: boolean;
  pastDeadline: boolean;
}

/**
 * Gives up on `request` when nothing arrives for the timeout, or when the whole exchange has
 * taken the deadline: a server that trickles a body for ever is never inactive for the
 * timeout. The request is destroyed with an error saying which, and how long; the returned
 * object says what cut it. `responded` tells whether the answer had begun.
 */
export function limitExchange(
  request: http.ClientRequest,
  limits: ExchangeLimits,
  responded: () => boolean,
): ExchangeCut {
  const cut: ExchangeCut = { timedOut: false, pastDeadline: false };
  request.setTimeout(limits.timeoutMs, () => {
    cut.timedOut = true;
    const limit = formatTimeout(limits.timeoutMs);
    request.destroy(
      new Error(
        responded()
          ? `the response stopped: nothing more arrived for ${limit}`
          : `no response within ${limit}`,
      ),
    );
  });
  const deadline = setTimeout(
    () => {
      cut.timedOut = true;
      cut.pastDeadline = true;
      const limit = formatTimeout(limits.deadlineMs);
      const name = limits.deadlineName;
      request.destroy(
        new Error(
          name !== undefined
            ? responded()
              ? `the response had not ended when ${name} was reached`
              : `no response before ${name} was reached`
            : responded()
              ? `the response did not end within ${limit}, the limit for one request (it kept arriving, too slowly)`
              : `no response within ${limit}`,
        ),
      );
    },
    Math.max(
      1,
      limits.deadlineMs -
        (limits.startedAt === undefined ? 0 : performance.now() - limits.startedAt),
    ),
  );
  deadline.unref();
  request.on("close", () => clearTimeout(deadline));
  return cut;
}

/**
 * Sends a GET and passes each chunk of a 2xx body to `onChunk`; other statuses reject with
 * the body's Status message. An exception from `onChunk` destroys the request and rejects.
 * A request Node refuses to build (it throws at once, e.g. for a header with a newline)
 * rejects as such.
 */
function send(
  url: URL,
  options: https.RequestOptions,
  secure: boolean,
  limits: ExchangeLimits,
  path: string,
  trust: string,
  onChunk: (chunk: Buffer) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    let request: http.ClientRequest | undefined;
    let responded = false;
    const onResponse = (response: http.IncomingMessage) => {
      responded = true;
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
          request?.destroy();
        }
      });
      response.on("error", (error) => fail(networkError(error, url, path, trust)));
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
        const body = Buffer.concat(errorChunks).toString("utf8");
        const retryAfterMs = retryAfter(response.headers["retry-after"], Date.now());
        fail(statusError(status, body, url, path, retryAfterMs));
      });
    };
    try {
      request = (secure ? https : http).request(url, options, onResponse);
    } catch (error) {
      fail(requestBuildError(describe(url), error, path));
      return;
    }
    const sent = request;
    const cut = limitExchange(sent, limits, () => responded);
    sent.on("error", (error) => fail(networkError(error, url, path, trust, cut)));
    sent.end();
  });
}

/**
 * `Retry-After` in ms: delay-seconds, or an HTTP date (RFC 9110 §10.2.3); undefined when
 * absent or unreadable.
 */
export function retryAfter(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function describe(url: URL): string {
  return `GET ${url.origin}${url.pathname}`;
}

function networkError(
  error: Error,
  url: URL,
  path: string,
  trust: string,
  cut?: ExchangeCut,
): KubeApiError {
  return new KubeApiError(
    `${describe(url)}: ${connectionMessage(error, trust)}`,
    path,
    undefined,
    undefined,
    undefined,
    { ...cut },
  );
}

function statusError(
  status: number,
  body: string,
  url: URL,
  path: string,
  retryAfterMs: number | undefined,
): KubeApiError {
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
    undefined,
    retryAfterMs === undefined ? {} : { retryAfterMs },
  );
}

/** A request timeout for messages: `250 ms`, `5 s`, `1.5 s` (never "0s"). */
export function formatTimeout(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${Number((ms / 1000).toFixed(1))} s`;
}
