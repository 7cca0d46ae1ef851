import { time } from "../cluster/raw.ts";
import { UsageError } from "../errors.ts";

/**
 * Reads `--now`: an ISO 8601 time that says its offset, by the rule saved snapshots' times
 * follow. A time without one would be read in the machine's own time zone, so one command would
 * plan for different instants on a laptop and in CI; it is refused instead.
 */
export function parseNowOption(text: string): Date {
  if (time(text) === undefined)
    throw new UsageError(
      `--now expects an ISO 8601 time with its offset, such as 2026-11-20T18:00:00Z or 2026-11-20T19:00:00+01:00, got ${JSON.stringify(text)}`,
    );
  return new Date(text);
}
