import type { SnapshotWarning } from "../planning/snapshot.ts";

/** Warnings kept per code before the rest are only counted. */
const defaultLimitPerCode = 50;

/**
 * Collects the snapshot's warnings. A problem repeated across a large cluster (a malformed
 * quantity in a template with 3,000 replicas) would otherwise drown the useful ones, so each
 * code keeps its first warnings and the rest are summarised in one line.
 */
export class WarningCollector {
  readonly #kept: SnapshotWarning[] = [];
  readonly #counts = new Map<string, number>();
  readonly #limit: number;

  constructor(limitPerCode = defaultLimitPerCode) {
    this.#limit = limitPerCode;
  }

  add(code: string, message: string, subject?: string): void {
    const count = (this.#counts.get(code) ?? 0) + 1;
    this.#counts.set(code, count);
    if (count > this.#limit) return;
    this.#kept.push(subject === undefined ? { code, message } : { code, message, subject });
  }

  /** How many warnings with `code` were added, including those only counted. */
  count(code: string): number {
    return this.#counts.get(code) ?? 0;
  }

  /** The kept warnings, followed by one summary per code that went over its limit. */
  finish(): SnapshotWarning[] {
    const result = [...this.#kept];
    for (const [code, count] of this.#counts) {
      if (count > this.#limit) {
        result.push({
          code,
          message: `${count - this.#limit} more warnings with code ${code} were left out (${count} in all)`,
          omitted: count - this.#limit,
        });
      }
    }
    return result;
  }
}
