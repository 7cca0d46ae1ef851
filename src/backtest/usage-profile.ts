import type { PointsUsage, UsagePoint, UsageProfile } from "./trace.ts";

/** Usage of a profile `elapsedMs` after it was set: cpu in millicores, memory in bytes. */
export function usageAt(profile: UsageProfile, elapsedMs: number): { cpu: number; memory: number } {
  if (profile.kind === "constant") return { cpu: profile.cpu, memory: profile.memory };
  const { before, after } = segment(profile, elapsedMs);
  if (profile.shape === "step" || !after || after.at === before.at) return usageOf(before);
  const time = periodTime(profile, elapsedMs);
  const fraction = (time - before.at) / (after.at - before.at);
  return {
    cpu: Math.round(before.cpu + (after.cpu - before.cpu) * fraction),
    memory: Math.round(before.memory + (after.memory - before.memory) * fraction),
  };
}

/**
 * The points around `elapsedMs`. Without a period, outside the points there is no `after`
 * (the value holds); with one, the segment beyond the last point leads round to the first,
 * shifted by the period so the times stay in order.
 */
function segment(
  profile: PointsUsage,
  elapsedMs: number,
): { before: UsagePoint; after?: UsagePoint } {
  const { points, periodMs } = profile;
  const first = points[0] as UsagePoint;
  const last = points.at(-1) as UsagePoint;
  const time = periodTime(profile, elapsedMs);
  const next = firstAfter(points, time);
  if (next > 0) return { before: points[next - 1] as UsagePoint, after: points[next] };
  if (!periodMs) return { before: next === 0 ? first : last };
  if (next === 0) return { before: { ...last, at: last.at - periodMs }, after: first };
  return { before: last, after: { ...first, at: first.at + periodMs } };
}

/** Index of the first point later than `time`, or -1: a binary search, as profiles can be long. */
function firstAfter(points: readonly UsagePoint[], time: number): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((points[middle] as UsagePoint).at > time) high = middle;
    else low = middle + 1;
  }
  return low === points.length ? -1 : low;
}

function periodTime(profile: PointsUsage, elapsedMs: number): number {
  const period = profile.periodMs;
  return period ? ((elapsedMs % period) + period) % period : elapsedMs;
}

function usageOf(point: UsagePoint): { cpu: number; memory: number } {
  return { cpu: point.cpu, memory: point.memory };
}
