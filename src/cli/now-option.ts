import { UsageError } from "../errors.ts";

/** A date and time with a `Z` or `±hh:mm` offset, and optional seconds and fraction. */
const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * Reads `--now`: an ISO 8601 time that says its offset. A time without one would be read in the
 * machine's own time zone, so one command would plan for different instants on a laptop and in
 * CI; it is refused instead.
 */
export function parseNowOption(text: string): Date {
  const date = new Date(text);
  if (!ZONED_TIME.test(text) || Number.isNaN(date.getTime()))
    throw new UsageError(
      `--now expects an ISO 8601 time with its offset, such as 2026-11-20T18:00:00Z or 2026-11-20T19:00:00+01:00, got ${JSON.stringify(text)}`,
    );
  return date;
}
