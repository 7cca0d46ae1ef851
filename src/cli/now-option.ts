import { time } from "../cluster/raw.ts";
import { UsageError } from "../errors.ts";

/**
 * Reads `--now`: an ISO 8601 time that says its offset, by the rule saved snapshots' times
 * follow. A time without one would be read in the machine's own time zone, so one command would
 * plan for different instants on a laptop and in CI; it is refused instead.
 */
export function parseNowOption(text: string): Date {
  const given = userTime(text);
  if (given === undefined)
    throw new UsageError(
      `--now expects an ISO 8601 time with its offset, such as 2026-11-20T18:00:00Z or 2026-11-20T19:00:00+01:00, got ${JSON.stringify(text)}`,
    );
  return new Date(given);
}

/**
 * A time given on the command line, as `time` reads the API's, except that a single space may
 * stand for the `T` between the date and the time (`2026-11-20 18:00:00+00:00`, as RFC 3339
 * section 5.6 allows and Python's `str(datetime)` writes): the time with its `T`, else undefined.
 * The API server always writes the `T`, so its times are still read by `time` alone.
 */
export function userTime(text: string): string | undefined {
  return time(/^\d{4}-\d{2}-\d{2} \d/.test(text) ? `${text.slice(0, 10)}T${text.slice(11)}` : text);
}
