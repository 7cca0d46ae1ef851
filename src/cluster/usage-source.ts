import type { SnapshotWarning, Usage } from "../planning/snapshot.ts";

/** What the snapshot reader asks a usage source for. */
export interface UsageRequest {
  /**
   * The time usage is wanted for: the read's clock, or the time planned for when that is
   * earlier (`plan --now` in the past). Usage is judged fresh or stale against the time
   * planned for, so a source measures at this time.
   */
  now: Date;
  /**
   * The window the caller's checks need, seconds: a source that reads over a window reads over
   * at least this one (Prometheus: the longer of it and the window it was set up with).
   */
  windowSeconds?: number;
  /** Nodes and pods the snapshot holds, so a source can limit its queries. */
  nodes: readonly string[];
  pods: readonly { namespace: string; name: string }[];
}

/**
 * Usage observed by a source other than metrics-server (Prometheus). Every map may miss
 * entries: a missing entry is unknown usage, never zero.
 */
export interface UsageReport {
  source: "prometheus";
  /** Where it came from (a URL without credentials), shown as `source.prometheus`. */
  origin?: string;
  /** Window the usage was aggregated over, seconds (each Usage says how much of it is covered). */
  windowSeconds: number;
  /** Percentile reported in `peak`, when the source gives peaks. */
  percentile?: number;
  /** By node name. */
  nodes: ReadonlyMap<string, Usage>;
  /** By `namespace/pod/container`. */
  containers: ReadonlyMap<string, Usage>;
  /** By `namespace/pod`; when absent, a pod's usage is the sum of its containers'. */
  pods?: ReadonlyMap<string, Usage>;
  /**
   * No pod or container usage was read (the source's queries for them failed, and a warning says
   * why): no pod is said to lack metrics of its own.
   */
  podsUnread?: true;
  warnings: SnapshotWarning[];
}

/**
 * A pluggable usage reader. When `readSnapshot` is given one, its usage is used instead of
 * metrics-server's; if it fails, the reader falls back to metrics-server and says so in a
 * `usage-source-failed` warning.
 */
export interface UsageSource {
  readonly name: string;
  read(request: UsageRequest): Promise<UsageReport>;
}

/** Key of a container in {@link UsageReport.containers}. */
export function containerKey(namespace: string, pod: string, container: string): string {
  return `${namespace}/${pod}/${container}`;
}
