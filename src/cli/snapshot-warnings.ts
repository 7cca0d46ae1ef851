import { describeRetry, type RetryNote } from "../cluster/kube-list.ts";
import type { Snapshot, SnapshotWarning } from "../planning/snapshot.ts";
import type { CliIo } from "./io.ts";

/**
 * Says on stderr that a request to the API server is tried again after the wait it asked for
 * (it is throttling), how long and why. Other retries wait a second at most, and a failure
 * they do not mend is said by the read's error or warnings.
 */
export function noteRetries(io: CliIo): (retry: RetryNote) => void {
  return (retry) => {
    if (retry.retryAfterMs !== undefined) io.stderr(`note: ${describeRetry(retry)}\n`);
  };
}

/** Warnings printed to stderr before the rest are only counted. */
const PRINTED_WARNINGS = 20;

/**
 * Prints the snapshot's warnings to stderr (the first 20, then how many more), so what was read
 * as unknown (a quantity, a stale metric, a list that failed) is said where the plan is made,
 * not only inside a saved file. `kept` says where the rest can be read, when somewhere does.
 */
export function reportSnapshotWarnings(snapshot: Snapshot, io: CliIo, kept?: string): void {
  const shown = snapshot.warnings.slice(0, PRINTED_WARNINGS);
  for (const warning of shown) {
    const subject = warning.subject ? `${warning.subject}: ` : "";
    io.stderr(`warning: ${subject}${warning.message} [${warning.code}]\n`);
  }
  const rest = warningsIn(snapshot.warnings.slice(PRINTED_WARNINGS));
  if (rest === 0) return;
  const where = kept ? `; ${kept} has the first 50 of each code` : "";
  io.stderr(`warning: ${rest} more warnings not shown${where}\n`);
}

/**
 * How many warnings `entries` stand for: a summary stands for those its code left out, and a
 * summary printed above already says how many it left out, so it is not among `entries`.
 */
function warningsIn(entries: readonly SnapshotWarning[]): number {
  return entries.reduce((sum, warning) => sum + (warning.omitted ?? 1), 0);
}
