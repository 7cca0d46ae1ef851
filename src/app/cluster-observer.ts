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
  /** How the cluster is read (tests give their own). */
  read?: () => Promise<Snapshot>;
}

/**
 * The cluster as every reconcile of one process sees it: reads are shared while fresh, and
 * concurrent reconciles wait for the same read instead of starting their own.
 */
export function createClusterObserver(options: ClusterObserverOptions): () => Promise<Snapshot> {
  const maxAge = options.maxAgeMs ?? 20_000;
  const now = options.now ?? Date.now;
  const read =
    options.read ??
    (() =>
      readSnapshot({
        ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
        ...(options.context ? { context: options.context } : {}),
        ...(options.usageSource ? { usageSource: options.usageSource } : {}),
        ...options.reading,
        ...(options.log ? { onRetry: logRetry(options.log) } : {}),
      }));
  let latest: { at: number; snapshot: Snapshot } | undefined;
  let pending: Promise<Snapshot> | undefined;
  return async () => {
    if (latest && now() - latest.at < maxAge) return latest.snapshot;
    pending ??= read()
      .then((snapshot) => {
        latest = { at: now(), snapshot };
        return snapshot;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
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
  observe(): Promise<Snapshot>;
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
export function trackObservations(
  observe: () => Promise<Snapshot>,
  options: TrackOptions = {},
): TrackedObserver {
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
    async observe() {
      let snapshot: Snapshot;
      try {
        snapshot = await observe();
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
