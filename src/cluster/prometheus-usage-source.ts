import { type PrometheusOptions, readPrometheusUsage } from "./prometheus.ts";
import type { UsageSource } from "./usage-source.ts";

/**
 * Prometheus as the snapshot's usage source: windowed averages and a percentile per node and
 * container, for the window ending at the time the reader asks for (the time planned for, when
 * that is past). Nodes Prometheus has no series for get a warning naming them and stay unknown.
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
      return {
        source: "prometheus",
        origin: usage.url,
        windowSeconds: usage.windowSeconds,
        percentile: usage.percentile,
        nodes: usage.nodes,
        containers: usage.containers,
        warnings: usage.warnings,
      };
    },
  };
}
