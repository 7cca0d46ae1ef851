import type { Snapshot } from "../planning/snapshot.ts";
import type { CliIo } from "./io.ts";

/** Warnings printed to stderr before the rest are only counted. */
const PRINTED_WARNINGS = 20;

/**
 * Prints the snapshot's warnings to stderr (the first 20, then how many more), so what was read
 * as unknown (a quantity, a stale metric, a list that failed) is said where the plan is made,
 * not only inside a saved file.
 */
export function reportSnapshotWarnings(snapshot: Snapshot, io: CliIo): void {
  const shown = snapshot.warnings.slice(0, PRINTED_WARNINGS);
  for (const warning of shown) {
    const subject = warning.subject ? `${warning.subject}: ` : "";
    io.stderr(`warning: ${subject}${warning.message} [${warning.code}]\n`);
  }
  const rest = snapshot.warnings.length - shown.length;
  if (rest > 0) io.stderr(`warning: ${rest} more warnings are listed in the snapshot\n`);
}
