import type { CronWindow, PolicyWindow, WeeklyWindow } from "../policy/automerge-policy.ts";
import { cronOccurrenceAt, cronSchedule } from "../util/cron-window.ts";
import { addDays, instantAt, type LocalDate, localTime, weekdayOf } from "./zoned-time.ts";

/** One stretch of time a window covers, [start, end) in ms. */
interface Occurrence {
  start: number;
  end: number;
}

/** How far ahead the search for an open moment looks before giving up. */
const HORIZON_MS = 62 * 86_400_000;
/** And how many times it may step (windows that chain into each other step often). */
const MAX_STEPS = 1000;

/** Whether `window` covers the instant `t` (ms). */
export function windowContains(window: PolicyWindow, t: number): boolean {
  return openOccurrence(window, t) !== undefined;
}

/** When the occurrence of `window` that covers `t` ends; undefined when `t` is outside it. */
export function windowEnd(window: PolicyWindow, t: number): number | undefined {
  return openOccurrence(window, t)?.end;
}

/** The first start of `window` at or after `t`. */
export function windowNextStart(window: PolicyWindow, t: number): number | undefined {
  if (window.type === "cron")
    return cronSchedule(window.cron, window.timezone)
      .nextRun(new Date(t - 1))
      ?.getTime();
  const starts = weeklyOccurrences(window, t)
    .filter((occurrence) => occurrence.start >= t)
    .map((occurrence) => occurrence.start);
  return starts.length > 0 ? Math.min(...starts) : undefined;
}

/**
 * The earliest instant at or after `from` that is inside one of `during` (when there are any)
 * and outside all of `notDuring`; undefined when there is none within the search horizon.
 */
export function firstOpenMoment(
  during: readonly PolicyWindow[],
  notDuring: readonly PolicyWindow[],
  from: number,
): number | undefined {
  let t = from;
  for (let step = 0; step < MAX_STEPS && t - from <= HORIZON_MS; step++) {
    const ends = notDuring.flatMap((window) => windowEnd(window, t) ?? []);
    if (ends.length > 0) {
      t = Math.max(...ends);
      continue;
    }
    if (during.length === 0 || during.some((window) => windowContains(window, t))) return t;
    const starts = during.flatMap((window) => windowNextStart(window, t) ?? []);
    if (starts.length === 0) return undefined;
    t = Math.min(...starts);
  }
  return undefined;
}

function openOccurrence(window: PolicyWindow, t: number): Occurrence | undefined {
  if (window.type === "cron") return cronOccurrence(window, t);
  return weeklyOccurrences(window, t).find((o) => o.start <= t && t < o.end);
}

/**
 * A cron window is open when one of its starts falls in (t - duration, t]; cron times are read
 * in the window's time zone, so it follows the wall clock across DST changes.
 */
function cronOccurrence(window: CronWindow, t: number): Occurrence | undefined {
  return cronOccurrenceAt(cronSchedule(window.cron, window.timezone), window.durationMs, t);
}

/**
 * The occurrences of a weekly window on the days around `t`: a day's occurrence runs from its
 * start to its end that day, or to the end time the next day when the hours run past midnight.
 * Local times the clocks skip map to the jump, so a stretch inside a skipped hour is empty.
 */
function weeklyOccurrences(window: WeeklyWindow, t: number): Occurrence[] {
  const today: LocalDate = localTime(t, window.timezone);
  const occurrences: Occurrence[] = [];
  for (let offset = -1; offset <= 8; offset++) {
    const date = addDays(today, offset);
    if (!window.days.includes(weekdayOf(date))) continue;
    const start = instantAt(date, window.start, window.timezone);
    const endDate = window.end > window.start ? date : addDays(date, 1);
    const end = instantAt(endDate, window.end, window.timezone);
    if (end > start) occurrences.push({ start, end });
  }
  return occurrences;
}
