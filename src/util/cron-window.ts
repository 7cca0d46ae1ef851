import { Cron } from "croner";

/** One window of a cron schedule: from a start, for a duration (ms since the epoch). */
export interface CronOccurrence {
  /** The earliest start whose window still covers the instant asked about. */
  start: number;
  /** When the window ends: a duration after the latest start at or before that instant. */
  end: number;
}

/** Parsed expressions kept; repo configs hold a handful, so this only bounds a long run. */
const MAX_CACHED_CRONS = 256;

/**
 * Parsed cron expressions by time zone and expression. Schedules and merge windows are asked
 * about every reconcile with the same few expressions; parsing one builds tables (croner's year
 * table alone has 10,000 entries), so each is parsed once. A paused `Cron` is never triggered,
 * and `nextRun(date)` reads nothing but the pattern and the date, so sharing one is safe.
 */
const crons = new Map<string, Cron>();

/**
 * The cron schedule of `expression` (5 fields) read in `timezone`. A start at fixed hours and
 * minutes (single values, lists or ranges, as in classic cron) in an hour the clocks skip falls
 * at the first valid time after it, and once in a repeated hour; a pattern with `*` or a step in
 * its minute or hour follows the clock (no start in a skipped hour, one in each pass of a
 * repeated one).
 */
export function cronSchedule(expression: string, timezone: string): Cron {
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
    fixedTimeRule: "no-wildcard",
  });
  crons.set(key, cron);
  return cron;
}

/**
 * The window of `durationMs` from each start of `cron` that covers `t` (ms), when one does: a
 * start falls in (t - duration, t]. Windows that overlap chain into one, which ends a duration
 * after the latest start at or before `t`.
 */
export function cronOccurrenceAt(
  cron: Cron,
  durationMs: number,
  t: number,
): CronOccurrence | undefined {
  const first = cron.nextRun(new Date(t - durationMs));
  if (!first || first.getTime() > t) return undefined;
  // previousRuns looks strictly before its reference: a millisecond later includes `t`.
  const [latest] = cron.previousRuns(1, new Date(t + 1));
  const last = latest && latest.getTime() > first.getTime() ? latest : first;
  return { start: first.getTime(), end: last.getTime() + durationMs };
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
