import { hostCap } from "../policy/host-cap.ts";
import type { PoolConfig } from "../policy/repo-config.ts";
import type { BoundsReport } from "./node-decision.ts";
import { scheduleStates } from "./schedules.ts";

/**
 * The pool's bounds at `now`: max lowered by the host cap, min raised by active schedules but
 * never above the effective max.
 */
export function poolBounds(pool: PoolConfig, now: Date): BoundsReport {
  const schedules = scheduleStates(pool.schedules, now);
  const { cap, parts } = hostCap(pool.host);
  const effectiveMax = cap === undefined ? pool.max : Math.min(pool.max, cap);
  const scheduledMin = Math.max(
    pool.min,
    ...schedules.filter((schedule) => schedule.active).map((schedule) => schedule.min),
  );
  const bounds: BoundsReport = {
    min: pool.min,
    max: pool.max,
    effectiveMin: Math.min(scheduledMin, effectiveMax),
    effectiveMax,
    hostCapParts: parts,
    schedules,
  };
  if (cap !== undefined) bounds.hostCap = cap;
  return bounds;
}

/** `count` brought within [effectiveMin, effectiveMax]. */
export function clampCount(
  count: number,
  bounds: Pick<BoundsReport, "effectiveMin" | "effectiveMax">,
): number {
  return Math.min(bounds.effectiveMax, Math.max(bounds.effectiveMin, count));
}

/** Which bound sets the effective max: the pool's max or the host cap. */
export function maxBound(bounds: BoundsReport): "max" | "host-cap" {
  return bounds.hostCap !== undefined && bounds.hostCap < bounds.max ? "host-cap" : "max";
}

/**
 * The min the pool (or its open schedule window) asks for when the host cap holds the min in
 * effect below it; absent when the min in effect is the one asked for.
 */
export function minAsked(bounds: BoundsReport): number | undefined {
  const asked = Math.max(
    bounds.min,
    ...bounds.schedules.filter((schedule) => schedule.active).map((schedule) => schedule.min),
  );
  return asked > bounds.effectiveMin ? asked : undefined;
}

/** The active schedule that raises the min the most, if it is above the pool's own min. */
export function raisingSchedule(bounds: BoundsReport): string | undefined {
  let best: { name: string; min: number } | undefined;
  for (const schedule of bounds.schedules)
    if (schedule.active && schedule.min > bounds.min && schedule.min > (best?.min ?? -1))
      best = schedule;
  return best?.name;
}
