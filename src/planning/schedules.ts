import type { ScheduleConfig } from "../policy/repo-config.ts";
import { cronOccurrenceAt, cronSchedule } from "../util/cron-window.ts";

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
  const cron = cronSchedule(schedule.cron, schedule.timezone);
  const state: ScheduleState = {
    name: schedule.name ?? `schedules[${i}]`,
    cron: schedule.cron,
    timezone: schedule.timezone,
    min: schedule.min,
    durationMs: schedule.duration,
    active: false,
  };
  const next = cron.nextRun(now);
  if (next) state.nextStart = next.toISOString();
  const open = cronOccurrenceAt(cron, schedule.duration, now.getTime());
  if (!open) return state;
  state.active = true;
  state.startedAt = new Date(open.start).toISOString();
  state.endsAt = new Date(open.end).toISOString();
  return state;
}
