import type {
  Autoscaler,
  AutoscalerView,
  PullRequestIntent,
} from "../../src/backtest/autoscaler.ts";
import { parseTrace } from "../../src/backtest/parse-trace.ts";
import type { Trace } from "../../src/backtest/trace.ts";

/**
 * A header for one pool `workers` of `count` nodes (4 cpu, 16Gi, labelled pool=workers, named
 * worker-1, worker-2…), starting 2025-06-06T00:00:00Z, lasting `duration`.
 */
export function header(
  overrides: Record<string, unknown> = {},
  pool: Record<string, unknown> = {},
) {
  return {
    type: "header",
    version: 1,
    name: "test",
    start: "2025-06-06T00:00:00Z",
    duration: "1h",
    pools: [
      {
        name: "workers",
        count: 1,
        min: 1,
        nodeName: "worker-{index}",
        indexBase: 1,
        node: { cpu: "4", memory: "16Gi", labels: { pool: "workers" } },
        ...pool,
      },
    ],
    ...overrides,
  };
}

/** JSON lines from objects. */
export function jsonLines(...lines: object[]): string {
  return `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`;
}

/** A parsed trace from a header and events. */
export function trace(head: object, ...events: object[]): Trace {
  return parseTrace(jsonLines(head, ...events), "test.jsonl");
}

/** A pod arrival line. */
export function pod(at: number | string, name: string, fields: Record<string, unknown> = {}) {
  return { type: "pod", at, name, requests: { cpu: "1", memory: "1Gi" }, ...fields };
}

/**
 * An autoscaler that asks for fixed pull request actions at fixed times (seconds from the
 * start), and records every view it was given.
 */
export function scriptedAutoscaler(
  script: Record<number, PullRequestIntent[]>,
  intervalMs = 60_000,
): Autoscaler & { views: AutoscalerView[] } {
  const views: AutoscalerView[] = [];
  let start: number | undefined;
  return {
    name: "scripted",
    intervalMs,
    views,
    decide(view) {
      views.push(view);
      start ??= view.now.getTime();
      return script[(view.now.getTime() - start) / 1000] ?? [];
    },
  };
}

/** Opens a pull request for `workers` to `desired`. */
export function openTo(desired: number): PullRequestIntent {
  return { pool: "workers", action: "open", desired, reason: "scripted" };
}
