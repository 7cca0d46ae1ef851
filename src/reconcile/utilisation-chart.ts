import type { PoolUtilisationSample } from "../planning/node-plan-input.ts";
import { fenced } from "./markdown.ts";

/** More points than this are thinned out evenly (the chart stays readable, the body small). */
const MAX_POINTS = 24;

/**
 * A Mermaid `xychart-beta` line chart of the pool's recent cpu and memory usage, in % of
 * allocatable, from the samples the app kept. Only samples where both are known are drawn
 * (unknown is never drawn as zero); undefined when fewer than two remain.
 */
export function utilisationChart(
  pool: string,
  samples: readonly PoolUtilisationSample[],
): string | undefined {
  const known = samples
    .filter((sample) => sample.pool === pool && sample.cpu !== undefined)
    .filter((sample) => sample.memory !== undefined && !Number.isNaN(Date.parse(sample.at)))
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const points = thin(known, MAX_POINTS);
  if (points.length < 2) return undefined;
  const labels = points.map((sample) => JSON.stringify(clock(sample.at)));
  const series = (pick: (sample: PoolUtilisationSample) => number | undefined) =>
    `[${points.map((sample) => Math.round(pick(sample) ?? 0)).join(", ")}]`;
  const chart = [
    "xychart-beta",
    `  title "Pool ${pool.replaceAll('"', "'")}: usage in % of allocatable (UTC)"`,
    `  x-axis [${labels.join(", ")}]`,
    '  y-axis "%" 0 --> 100',
    `  line ${series((sample) => sample.cpu)}`,
    `  line ${series((sample) => sample.memory)}`,
  ].join("\n");
  return `${fenced(chart, "mermaid")}\n\nFirst line: cpu; second line: memory.`;
}

function thin<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const step = (items.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => items[Math.round(i * step)] as T);
}

/** `HH:MM` in UTC. */
function clock(iso: string): string {
  return new Date(iso).toISOString().slice(11, 16);
}
