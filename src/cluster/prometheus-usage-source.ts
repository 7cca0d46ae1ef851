import type { SnapshotWarning } from "../planning/snapshot.ts";
import { PrometheusError, type PrometheusOptions, readPrometheusUsage } from "./prometheus.ts";
import type { UsageSource } from "./usage-source.ts";

/**
 * Prometheus as the snapshot's usage source: windowed averages and a percentile per node and
 * container, for the window ending at the time the reader asks for (the time planned for, when
 * that is past). Nodes Prometheus has no series for get a warning naming them and stay unknown.
 * An answer Prometheus says may be incomplete is not taken at all (the read fails, and the
 * snapshot falls back to metrics-server's one sample, which is no window).
 */
export function prometheusUsageSource(
  options: Omit<PrometheusOptions, "at" | "expect">,
): UsageSource {
  return {
    name: "prometheus",
    async read(request) {
      const usage = await readPrometheusUsage({
        ...options,
        // As long as the caller's longest check, at least.
        windowSeconds: Math.max(options.windowSeconds ?? 600, request.windowSeconds ?? 0),
        at: request.now,
        expect: { nodes: request.nodes },
      });
      refusePartial(usage.warnings, usage.url);
      return {
        source: "prometheus",
        origin: usage.url,
        windowSeconds: usage.windowSeconds,
        percentile: usage.percentile,
        nodes: usage.nodes,
        containers: usage.containers,
        ...(usage.containersFailed ? { podsUnread: true as const } : {}),
        warnings: usage.warnings,
      };
    },
  };
}

/**
 * Fails the read when Prometheus warned that an answer may be incomplete (remote storage or a
 * store that did not answer). Which series or points are missing is not said: a node whose
 * series are summed (node-exporter's CPUs) reads low, a node whose points are missing from
 * within the window reads as covered, so no node's usage from that read is evidence.
 */
function refusePartial(warnings: readonly SnapshotWarning[], url: string): void {
  const partial = warnings.filter((warning) => warning.code === "prometheus-partial");
  if (partial.length === 0) return;
  throw new PrometheusError(
    `${partial.map((warning) => warning.message).join("; ")}; an incomplete answer can lack ` +
      "series and points and read usage low, so none of it is taken",
    { url },
  );
}
