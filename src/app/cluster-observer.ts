import { KubeApiError } from "../cluster/kube-client.ts";
import { describeRetry, type RetryNote } from "../cluster/kube-list.ts";
import {
  ClusterReadError,
  type ReadSnapshotOptions,
  readSnapshot,
} from "../cluster/read-snapshot.ts";
import type { UsageSource } from "../cluster/usage-source.ts";
import { InputError } from "../errors.ts";
import type { Snapshot } from "../planning/snapshot.ts";

/** The part of the app's logger the reads use. */
export interface RetryLog {
  warn(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}

export interface ClusterObserverOptions {
  kubeconfig?: string;
  context?: string;
  usageSource?: UsageSource;
  /** A snapshot younger than this is shared by every repository's reconcile (default 20 s). */
  maxAgeMs?: number;
  now?: () => number;
  /** Where a request tried again is logged, with how long it waits and why. */
  log?: RetryLog;
  /** More for the reader: its timeouts and clock (tests give short ones). */
  reading?: Pick<
    ReadSnapshotOptions,
    "timeoutMs" | "requestDeadlineMs" | "readDeadlineMs" | "retryClock" | "retryDelayMs"
  >;
  /**
   * How the cluster is read (tests give their own), with the usage window asked for: the
   * longest any reconcile has asked for, seconds (0 when none has).
   */
  read?: (usageWindowSeconds: number) => Promise<Snapshot>;
}

/** What a reconcile asks of the cluster read. */
export interface ObserveRequest {
  /**
   * The longest window its checks judge, seconds: usage from Prometheus is read over at least
   * this long (see `widestCheckSeconds`).
   */
  usageWindowSeconds?: number;
}

/** Reads the cluster for one reconcile: see {@link createClusterObserver}. */
export type Observe = (request?: ObserveRequest) => Promise<Snapshot>;

/**
 * The cluster as every reconcile of one process sees it: reads are shared while fresh, and
 * concurrent reconciles wait for the same read instead of starting their own. Usage is read
 * over the longest window any reconcile has asked for (`usageWindowSeconds`), so one
 * repository's checks of 30 minutes are not judged on the 10 another's need: a reconcile asking
 * for more than the shared read was asked for gets a read of its own, over that window.
 */
export function createClusterObserver(options: ClusterObserverOptions): Observe {
  const maxAge = options.maxAgeMs ?? 20_000;
  const now = options.now ?? Date.now;
  const read =
    options.read ??
    ((usageWindowSeconds: number) =>
      readSnapshot({
        ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
        ...(options.context ? { context: options.context } : {}),
        ...(options.usageSource ? { usageSource: options.usageSource } : {}),
        ...(usageWindowSeconds > 0 ? { usageWindowSeconds } : {}),
        ...options.reading,
        ...(options.log ? { onRetry: logRetry(options.log) } : {}),
      }));
  let widest = 0;
  let latest: { at: number; window: number; snapshot: Snapshot } | undefined;
  let pending: { window: number; snapshot: Promise<Snapshot> } | undefined;
  return async (request) => {
    const asked = request?.usageWindowSeconds ?? 0;
    widest = Math.max(widest, asked);
    for (;;) {
      if (latest && now() - latest.at < maxAge && latest.window >= asked) return latest.snapshot;
      if (pending && pending.window >= asked) return pending.snapshot;
      if (pending) {
        // A read over a shorter window is under way: once it ends, read over this one.
        await pending.snapshot.catch(() => undefined);
        continue;
      }
      const window = widest;
      const started = {
        window,
        snapshot: read(window)
          .then((snapshot) => {
            latest = { at: now(), window, snapshot };
            return snapshot;
          })
          .finally(() => {
            if (pending === started) pending = undefined;
          }),
      };
      pending = started;
      return started.snapshot;
    }
  };
}

/**
 * Logs a request to the Kubernetes API that is tried again: what failed, the wait, and why; at
 * `warn` when the server asked for the wait (it is throttling), else at `debug`: a failure the
 * retries do not mend is said by the read's own error or warning.
 */
function logRetry(log: RetryLog): (retry: RetryNote) => void {
  const message = "Kubernetes API request failed: waiting, then trying again";
  return (retry) => {
    const fields = {
      request: retry.request,
      retry: retry.retry,
      of: retry.of,
      waitSeconds: retry.waitMs / 1000,
      ...(retry.retryAfterMs === undefined ? {} : { retryAfterSeconds: retry.retryAfterMs / 1000 }),
      why: describeRetry(retry),
    };
    if (retry.retryAfterMs === undefined) log.debug(fields, message);
    else log.warn(fields, message);
  };
}

/** Why a read of the cluster did not give a complete snapshot. */
export type ClusterReadErrorKind =
  | "partial"
  | "unauthorized"
  | "forbidden"
  | "unreachable"
  | "server"
  | "config"
  | "other";

export interface TrackedObserver {
  /** Reads the cluster through the wrapped observer, recording the outcome. */
  observe(request?: ObserveRequest): Promise<Snapshot>;
  /** When the last complete snapshot was first seen (ms since the epoch); undefined: never. */
  lastSuccessAt(): number | undefined;
}

export interface TrackOptions {
  /** Called once per read: `error` undefined for a complete snapshot. */
  onRead?: (error: ClusterReadErrorKind | undefined, atMs: number) => void;
  now?: () => number;
}

/**
 * Records how reads of the cluster go. The wrapped observer shares reads between callers, so a
 * snapshot (or an error) handed to several callers counts once, when first seen. A snapshot
 * with `complete` false counts as an error (`partial`): the planner takes no action on it.
 */
export function trackObservations(observe: Observe, options: TrackOptions = {}): TrackedObserver {
  const now = options.now ?? Date.now;
  const seen = new WeakSet<object>();
  let okAt: number | undefined;
  const record = (item: unknown, error: ClusterReadErrorKind | undefined) => {
    if (typeof item === "object" && item !== null) {
      if (seen.has(item)) return;
      seen.add(item);
    }
    const at = now();
    if (error === undefined) okAt = at;
    options.onRead?.(error, at);
  };
  return {
    async observe(request) {
      let snapshot: Snapshot;
      try {
        snapshot = await observe(request);
      } catch (error) {
        record(error, clusterErrorKind(error));
        throw error;
      }
      record(snapshot, snapshot.complete ? undefined : "partial");
      return snapshot;
    },
    lastSuccessAt: () => okAt,
  };
}

/** The kind of a failed cluster read, from the Kubernetes API's answer when there was one. */
export function clusterErrorKind(error: unknown): ClusterReadErrorKind {
  if (error instanceof InputError) return "config";
  const cause = error instanceof ClusterReadError ? error.cause : error;
  if (!(cause instanceof KubeApiError)) return "other";
  // Credentials that could not be had (a failing exec plugin, an empty token file) are the
  // client's configuration; a request that could not be built or an answer that is not the
  // API's (a proxy's login page) are neither the network nor the API server.
  if (cause.stage === "credentials") return "config";
  if (cause.stage !== undefined) return "other";
  if (cause.status === undefined) return "unreachable";
  if (cause.status === 401) return "unauthorized";
  if (cause.status === 403) return "forbidden";
  return "server";
}
