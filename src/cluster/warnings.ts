import type { SnapshotWarning } from "../planning/snapshot.ts";
import { agreeing, counted } from "../util/plural.ts";

/** Warnings kept per code before the rest are only counted. */
const defaultLimitPerCode = 50;

/**
 * Collects the snapshot's warnings. A problem repeated across a large cluster (a malformed
 * quantity in a template with 3,000 replicas) would otherwise drown the useful ones, so each
 * code keeps its first warnings and the rest are summarised in one line; those left out about
 * a pod or container (`pod/…`, `container/…`) in a line of their own, with subject `pods`, so
 * that a plan can tell them from the nodes' (the usage of a pod is read by right-sizing alone).
 */
export class WarningCollector {
  readonly #kept: SnapshotWarning[] = [];
  readonly #counts = new Map<string, number>();
  /** Per code, how many of those left out were about a pod or container. */
  readonly #podsLeftOut = new Map<string, number>();
  readonly #limit: number;

  constructor(limitPerCode = defaultLimitPerCode) {
    this.#limit = limitPerCode;
  }

  add(code: string, message: string, subject?: string): void {
    const count = (this.#counts.get(code) ?? 0) + 1;
    this.#counts.set(code, count);
    if (count > this.#limit) {
      if (subject?.startsWith("pod/") || subject?.startsWith("container/"))
        this.#podsLeftOut.set(code, (this.#podsLeftOut.get(code) ?? 0) + 1);
      return;
    }
    this.#kept.push(subject === undefined ? { code, message } : { code, message, subject });
  }

  /** How many warnings with `code` were added, including those only counted. */
  count(code: string): number {
    return this.#counts.get(code) ?? 0;
  }

  /**
   * The kept warnings, followed by one summary per code that went over its limit, or two when
   * some of those left out were about pods or containers and some not.
   */
  finish(): SnapshotWarning[] {
    const result = [...this.#kept];
    for (const [code, count] of this.#counts) {
      if (count <= this.#limit) continue;
      const pods = this.#podsLeftOut.get(code) ?? 0;
      const others = count - this.#limit - pods;
      if (others > 0)
        result.push({
          code,
          message: `${counted(others, "more warning", "more warnings")} with code ${code} ${agreeing(others, "was", "were")} left out (${count} in all)`,
          omitted: others,
        });
      if (pods > 0)
        result.push({
          code,
          message: `${counted(pods, "more warning", "more warnings")} with code ${code} about pods or containers ${agreeing(pods, "was", "were")} left out (${count} in all)`,
          subject: "pods",
          omitted: pods,
        });
    }
    return result;
  }
}

/** Warnings a person is shown (on plan's stderr, on the dashboard) before the rest are counted. */
export const SHOWN_WARNINGS = 20;

/**
 * The first `SHOWN_WARNINGS` of `entries`, and how many warnings the rest stand for: a summary
 * stands for those its code left out (its `omitted`), any other entry for itself. A summary
 * shown already says how many it left out, so only those not shown are counted.
 */
export function shownWarnings<T extends { omitted?: number }>(
  entries: readonly T[],
): { shown: T[]; more: number } {
  const rest = entries.slice(SHOWN_WARNINGS);
  return {
    shown: entries.slice(0, SHOWN_WARNINGS),
    more: rest.reduce((sum, entry) => sum + (entry.omitted ?? 1), 0),
  };
}
