import { readSnapshot } from "../cluster/read-snapshot.ts";
import type { UsageSource } from "../cluster/usage-source.ts";
import type { Snapshot } from "../planning/snapshot.ts";

export interface ClusterObserverOptions {
  kubeconfig?: string;
  context?: string;
  usageSource?: UsageSource;
  /** A snapshot younger than this is shared by every repository's reconcile (default 20 s). */
  maxAgeMs?: number;
  now?: () => number;
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
