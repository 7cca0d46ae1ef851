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

/** Consecutive starts a window may chain over before it is taken as always on. */
const MAX_CHAINED_STARTS = 10_000;

/**
 * Which schedules are active at `now`. A window is active when one of its cron starts falls in
 * (now - duration, now]; cron times are read in the schedule's time zone, so DST shifts the
 * window in UTC with the wall clock (croner runs a start in a skipped hour at the first valid
 * time after it, and a repeated hour once).
 */
export function scheduleStates(schedules: readonly ScheduleConfig[], now: Date): ScheduleState[] {
  return schedules.map((schedule, i) => scheduleState(schedule, i, now));
}

function scheduleState(schedule: ScheduleConfig, i: number, now: Date): ScheduleState {
  const cron = new Cron(schedule.cron, {
    timezone: schedule.timezone,
    mode: "5-part",
    paused: true,
  });
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
  const first = cron.nextRun(new Date(now.getTime() - schedule.duration));
  if (!first || first.getTime() > now.getTime()) return state;
  state.active = true;
  state.startedAt = first.toISOString();
  state.endsAt = new Date(lastStart(cron, first, now).getTime() + schedule.duration).toISOString();
  return state;
}

/** The latest start at or before `now`, following windows that overlap the running one. */
function lastStart(cron: Cron, first: Date, now: Date): Date {
  let last = first;
  for (let i = 0; i < MAX_CHAINED_STARTS; i++) {
    const next = cron.nextRun(last);
    if (!next || next.getTime() > now.getTime()) return last;
    last = next;
  }
  return last;
}
