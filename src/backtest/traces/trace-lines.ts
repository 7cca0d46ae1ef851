/**
 * Helpers for the deterministic generators of the bundled traces: a seeded random source and
 * line builders in the trace format (docs/backtest.md).
 */

/** Mulberry32: small, fast, and the same sequence on every machine for a seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A usage point: `at` in seconds from the profile's start, cpu in millicores, memory in MiB. */
export interface Point {
  at: number;
  cpu: number;
  memoryMi: number;
}

/** A trace line's usage object for points (seconds, `m` and `Mi` quantities). */
export function pointsUsage(
  points: readonly Point[],
  options: { shape: "step" | "linear"; period?: number },
) {
  return {
    shape: options.shape,
    ...(options.period !== undefined ? { period: options.period } : {}),
    points: points.map((point) => ({
      at: point.at,
      cpu: `${Math.round(point.cpu)}m`,
      memory: `${Math.round(point.memoryMi)}Mi`,
    })),
  };
}

/** Seconds for `h` hours and `m` minutes. */
export function hm(hours: number, minutes = 0): number {
  return hours * 3600 + minutes * 60;
}

/** The JSON lines of a trace, one object each, with a final newline. */
export function toJsonLines(lines: readonly object[]): string {
  return `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`;
}

/** Round to a multiple of `step` (e.g. 10 m of cpu, 16 MiB of memory) so lines stay short. */
export function roundTo(value: number, step: number): number {
  return Math.round(value / step) * step;
}
