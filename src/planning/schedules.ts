import { Cron } from "croner";
import type { ScheduleConfig } from "../policy/repo-config.ts";

/** A schedule as it stands at `now`. */
export interface ScheduleState {
  name: string;
  cron: string;
  timezone: string;
  min: number;
  durationMs: number;
  active: boolean;
  /** When the running window started and ends (ISO 8601), while active. */
  startedAt?: string;
  endsAt?: string;
  /** The next window start after `now`. */
  nextStart?: string;
}

/** Parsed expressions kept; a repo config holds a handful, so this only bounds a long run. */
const MAX_CACHED_CRONS = 256;

/**
 * Parsed cron expressions by time zone and expression. The planner asks every minute with the
 * same few schedules; parsing one builds tables (croner's year table alone has 10,000 entries),
 * so each is parsed once. A paused `Cron` is never triggered, and `nextRun(date)` reads nothing
 * but the pattern and the date, so sharing one is safe.
 */
const crons = new Map<string, Cron>();

/**
 * Which schedules are active at `now`. A window is active when one of its cron starts falls in
 * (now - duration, now]; cron times are read in the schedule's time zone, so DST shifts the
 * window in UTC with the wall clock: a start at fixed hours and minutes (single values, lists
 * or ranges) in a skipped hour happens at the first valid time after it, and once in a repeated
 * hour; a pattern with `*` or a step in its minute or hour follows the clock (no start in a
 * skipped hour, one in each pass of a repeated one).
 */
export function scheduleStates(schedules: readonly ScheduleConfig[], now: Date): ScheduleState[] {
  return schedules.map((schedule, i) => scheduleState(schedule, i, now));
}

function scheduleState(schedule: ScheduleConfig, i: number, now: Date): ScheduleState {
  const cron = cachedCron(schedule.cron, schedule.timezone);
  const state: ScheduleState = {
    name: schedule.name ?? `schedules[${i}]`,
    cron: schedule.cron,
    timezone: schedule.timezone,
    min: schedule.min,
    durationMs: schedule.duration,
    active: false,
  };
  // The first start after the window's reach back from now: after now, it is also the next start.
  const first = cron.nextRun(new Date(now.getTime() - schedule.duration));
  if (!first) return state;
  if (first.getTime() > now.getTime()) {
    state.nextStart = first.toISOString();
    return state;
  }
  const { last, next } = lastStart(cron, first, now);
  state.active = true;
  state.startedAt = first.toISOString();
  state.endsAt = new Date(last.getTime() + schedule.duration).toISOString();
  if (next) state.nextStart = next.toISOString();
  return state;
}

/**
 * The latest start at or before `now` (the running window ends a duration after it, however many
 * overlapping windows came before), and the start after `now`.
 */
function lastStart(cron: Cron, first: Date, now: Date): { last: Date; next?: Date } {
  // previousRuns looks strictly before its reference: a millisecond later includes `now`.
  const [latest] = cron.previousRuns(1, new Date(now.getTime() + 1));
  const last = latest && latest.getTime() > first.getTime() ? latest : first;
  const next = cron.nextRun(now);
  return next ? { last, next } : { last };
}

function cachedCron(expression: string, timezone: string): Cron {
  const key = `${timezone}\u0000${expression}`;
  const cached = crons.get(key);
  if (cached) return cached;
  if (crons.size >= MAX_CACHED_CRONS) {
    const oldest = crons.keys().next().value;
    if (oldest !== undefined) crons.delete(oldest);
  }
  const cron = new Cron(expression, {
    ...zoneOption(timezone),
    mode: "5-part",
    paused: true,
    // A start at fixed hours and minutes (lists and ranges too, as in classic cron) falls at the
    // first time after a skipped hour and once in a repeated one; `*` and steps follow the clock.
    fixedTimeRule: "no-wildcard",
  });
  crons.set(key, cron);
  return cron;
}

/**
 * UTC (and its aliases) as a fixed offset: croner then reads fields with the Date UTC methods
 * instead of formatting every candidate time through Intl, the same result several times faster.
 */
function zoneOption(timezone: string): { timezone: string } | { utcOffset: number } {
  const canonical = new Intl.DateTimeFormat("en-US", { timeZone: timezone }).resolvedOptions()
    .timeZone;
  return canonical === "UTC" ? { utcOffset: 0 } : { timezone };
}
