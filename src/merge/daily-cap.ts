import type { ClosedBotPullRequest } from "../forge/forge.ts";
import type { PolicyKind } from "../policy/automerge-policy.ts";
import { sameLocalDay, startOfNextDay } from "./zoned-time.ts";

/** A merged pull request of the bot; `kind` undefined when it cannot be told (counts for every kind). */
export interface MergeRecord {
  kind: PolicyKind | undefined;
  /** ISO time it was merged. */
  mergedAt: string;
  number?: number;
}

const NODE_LABELS = new Set(["scale-up", "scale-down"]);
const RESOURCE_LABELS = new Set(["rightsizing"]);

/**
 * The bot's merged pull requests among the recently closed ones, each with its kind read from
 * the bot's labels (`scale-up`/`scale-down`: nodes, `rightsizing`: resources) or its key.
 */
export function mergeRecords(closed: readonly ClosedBotPullRequest[]): MergeRecord[] {
  return closed.flatMap((pr) =>
    pr.mergedAt === undefined
      ? []
      : [{ kind: kindOf(pr), mergedAt: pr.mergedAt, number: pr.number }],
  );
}

function kindOf(pr: ClosedBotPullRequest): PolicyKind | undefined {
  const nodes = pr.labels.some((label) => NODE_LABELS.has(label));
  const resources = pr.labels.some((label) => RESOURCE_LABELS.has(label));
  if (nodes !== resources) return nodes ? "nodes" : "resources";
  if (pr.key.startsWith("nodes-")) return "nodes";
  if (pr.key.startsWith("resources-")) return "resources";
  return undefined;
}

/** How many merges of `kind` happened on `now`'s calendar day in `timezone` (unknown kinds count). */
export function mergesToday(
  records: readonly MergeRecord[],
  kind: PolicyKind,
  now: Date,
  timezone: string,
): number {
  const at = now.getTime();
  return records.filter((record) => {
    if (record.kind !== undefined && record.kind !== kind) return false;
    const merged = Date.parse(record.mergedAt);
    return Number.isFinite(merged) && merged <= at && sameLocalDay(merged, at, timezone);
  }).length;
}

/** When the count starts again: the next midnight in `timezone`. */
export function capResetsAt(now: Date, timezone: string): Date {
  return new Date(startOfNextDay(now.getTime(), timezone));
}
