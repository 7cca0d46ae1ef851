import { describeRetry, type RetryNote } from "../cluster/kube-list.ts";
import { shownWarnings } from "../cluster/warnings.ts";
import type { Snapshot } from "../planning/snapshot.ts";
import { counted } from "../util/plural.ts";
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

/**
 * Prints the snapshot's warnings to stderr (the first 20, then how many more), so what was read
 * as unknown (a quantity, a stale metric, a list that failed) is said where the plan is made,
 * not only inside a saved file. `kept` says where the rest can be read, when somewhere does.
 */
export function reportSnapshotWarnings(snapshot: Snapshot, io: CliIo, kept?: string): void {
  const { shown, more } = shownWarnings(snapshot.warnings);
  for (const warning of shown) {
    const subject = warning.subject ? `${warning.subject}: ` : "";
    io.stderr(`warning: ${subject}${warning.message} [${warning.code}]\n`);
  }
  if (more === 0) return;
  const where = kept ? `; ${kept} has the first 50 of each code` : "";
  io.stderr(`warning: ${counted(more, "more warning", "more warnings")} not shown${where}\n`);
}
