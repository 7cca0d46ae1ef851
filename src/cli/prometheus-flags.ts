import { prometheusEndpoint } from "../cluster/prometheus-client.ts";
import type { UsageSource } from "../cluster/usage-source.ts";
import { InputError, UsageError } from "../errors.ts";
import { parseDuration } from "../policy/parse-duration.ts";

/** The flags that take usage from Prometheus, shared by `snapshot` and `plan`. */
export const prometheusOptions = {
  prometheus: { type: "string" },
  "prometheus-window": { type: "string" },
  "prometheus-percentile": { type: "string" },
} as const;

export const PROMETHEUS_HELP = `  --prometheus URL        take usage from Prometheus (windowed average and percentile per node
                          and container) instead of one metrics-server sample; a bearer token
                          is read from $PROMETHEUS_TOKEN
  --prometheus-window D   the window, e.g. 10m (default 10m); plan widens it to the longest
                          scaleUp.window or scaleDown.unneededTime of the config
  --prometheus-percentile N  the percentile reported as peak (default 95)
`;

interface PrometheusFlagValues {
  prometheus?: string;
  "prometheus-window"?: string;
  "prometheus-percentile"?: string;
}

/**
 * The usage source the flags ask for, or `undefined` when `--prometheus` is not given. The
 * window asked for is `--prometheus-window` (default 10m), widened to `widestCheckSeconds`
 * (the longest window a check of the repo config judges) when that is longer.
 */
export function usageSourceFromFlags(
  values: PrometheusFlagValues,
  env: Record<string, string | undefined>,
  widestCheckSeconds = 0,
): UsageSource | undefined {
  const url = values.prometheus;
  if (url === undefined) {
    const stray = values["prometheus-window"] ?? values["prometheus-percentile"];
    if (stray !== undefined)
      throw new UsageError("--prometheus-window and --prometheus-percentile need --prometheus URL");
    return undefined;
  }
  checkUrl(url);
  const token = env.PROMETHEUS_TOKEN;
  const options = {
    url,
    windowSeconds: Math.max(windowSeconds(values["prometheus-window"]), widestCheckSeconds),
    percentile: percentile(values["prometheus-percentile"]),
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  };
  // Loaded on use: a snapshot without --prometheus never pays for the Prometheus client.
  return {
    name: "prometheus",
    async read(request) {
      const { prometheusUsageSource } = await import("../cluster/prometheus-usage-source.ts");
      return prometheusUsageSource(options).read(request);
    },
  };
}

/**
 * Refuses a URL the Prometheus client would refuse, before anything is read: a usage error,
 * not a fallback to metrics-server. The message shows the URL without its credentials or query.
 */
function checkUrl(url: string): void {
  try {
    prometheusEndpoint(url);
  } catch (error) {
    if (error instanceof InputError) throw new UsageError(`--prometheus: ${error.message}`);
    throw error;
  }
}

function windowSeconds(text: string | undefined): number {
  if (text === undefined) return 600;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 60_000) {
    throw new UsageError(
      `--prometheus-window expects a duration of at least 1m such as 10m, got ${JSON.stringify(text)}`,
    );
  }
  return Math.round(ms / 1000);
}

function percentile(text: string | undefined): number {
  if (text === undefined) return 95;
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || value <= 0 || value > 100) {
    throw new UsageError(
      `--prometheus-percentile expects a number in (0, 100], got ${JSON.stringify(text)}`,
    );
  }
  return value;
}
