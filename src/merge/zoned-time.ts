/** A calendar date (month 1–12). */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** The wall-clock time at an instant in a time zone; weekday 0 = Sunday. */
export interface LocalTime extends LocalDate {
  hour: number;
  minute: number;
  weekday: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      weekday: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timezone, format);
  }
  return format;
}

/** The wall-clock time at `instant` (ms) in `timezone`. */
export function localTime(instant: number, timezone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const part of formatter(timezone).formatToParts(new Date(instant)))
    parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    weekday: WEEKDAYS.indexOf(parts.weekday ?? ""),
  };
}

/** Wall-clock time as if it were UTC, in ms: comparable with `Date.UTC` of a local date. */
function wallClock(instant: number, timezone: string): number {
  const t = localTime(instant, timezone);
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute);
}

/**
 * The instant at which the wall clock in `timezone` shows `date` at `minutes` after midnight
 * (1440 is the next midnight). A time the clocks skip (spring forward) gives the instant the
 * clocks jump, the first moment after it; a time that happens twice (fall back) gives the first.
 */
export function instantAt(date: LocalDate, minutes: number, timezone: string): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day) + minutes * MINUTE;
  const offsetBefore = wallClock(wall - DAY, timezone) - (wall - DAY);
  const offsetAfter = wallClock(wall + DAY, timezone) - (wall + DAY);
  const candidates = [...new Set([wall - offsetBefore, wall - offsetAfter])].sort((a, b) => a - b);
  const exact = candidates.find((candidate) => wallClock(candidate, timezone) === wall);
  if (exact !== undefined) return exact;
  return transitionBetween(candidates[0] ?? wall, candidates.at(-1) ?? wall, timezone);
}

/** The first minute in (low, high] whose offset differs from low's: when the clocks jumped. */
function transitionBetween(low: number, high: number, timezone: string): number {
  const offset = (instant: number) => wallClock(instant, timezone) - instant;
  const before = offset(low);
  let lo = Math.floor(low / MINUTE);
  let hi = Math.ceil(high / MINUTE);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offset(mid * MINUTE) === before) lo = mid;
    else hi = mid;
  }
  return hi * MINUTE;
}

/** `date` moved by `days` calendar days. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const moved = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

/** The weekday of a calendar date (0 = Sunday). */
export function weekdayOf(date: LocalDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

/** The next local midnight after `instant` in `timezone`. */
export function startOfNextDay(instant: number, timezone: string): number {
  return instantAt(addDays(localTime(instant, timezone), 1), 0, timezone);
}

/** Whether two instants fall on the same calendar day in `timezone`. */
export function sameLocalDay(a: number, b: number, timezone: string): boolean {
  const x = localTime(a, timezone);
  const y = localTime(b, timezone);
  return x.year === y.year && x.month === y.month && x.day === y.day;
}

/** E.g. `Fri 2025-03-28 19:00 CET`, for people. */
export function formatLocal(instant: number, timezone: string): string {
  const t = localTime(instant, timezone);
  const zone =
    new Intl.DateTimeFormat("en-US", { timeZone: timezone, timeZoneName: "short" })
      .formatToParts(new Date(instant))
      .find((part) => part.type === "timeZoneName")?.value ?? timezone;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${WEEKDAYS[t.weekday]} ${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)} ${zone}`;
}
