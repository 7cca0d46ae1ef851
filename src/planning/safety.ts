import { countAskedSince, joiningNodes, leavingNodes } from "./hysteresis.ts";
import type { Hold, IncompleteList } from "./node-decision.ts";
import type { PoolContext } from "./pool-context.ts";
import type { NodeInfo, Snapshot, SnapshotWarning } from "./snapshot.ts";

/**
 * Stops that keep the pool as it is whatever the evaluation says: a list the node plan rests on
 * was not read in full, too many of the pool's nodes are not Ready (something bigger than load
 * is going on), nodes belong to other pools too, or the target's current value is unknown.
 */
export function safetyHolds(snapshot: Snapshot, context: PoolContext): Hold[] {
  const holds: Hold[] = [];
  const incomplete = incompleteFor(snapshot);
  if (incomplete)
    holds.push({
      kind: "snapshot-incomplete",
      warnings: gaps(incomplete),
      lists: incomplete.map(failedList),
    });
  // Nodes still joining after the last change are awaited (the provisioning hold says so), not
  // unready: a pool going from 2 to 4 is not half broken while its new VMs boot. Nor are nodes a
  // decrease removes, which stop being Ready as they shut down: the leaving hold stops changes
  // while they are listed, and the pool is the nodes it keeps.
  const leaving = new Set(leavingNodes(context.members, context.pool, context.facts));
  const counted = context.members.filter((node) => !isJoining(node, context) && !leaving.has(node));
  const total = counted.length;
  const unready = counted.filter((node) => !node.ready).map((node) => node.name);
  // Compared in whole numbers: 11 of 20 is 55 %, not 55.000000000000001 % > 55 %. As
  // cluster-autoscaler's ok-total-unready-count does, okUnready lets a small pool lose that many
  // nodes whatever their share: one dead worker of two need not keep pending pods from a node.
  const { maxUnready, okUnready } = context.pool;
  if (unready.length * 100 > maxUnready * total && unready.length > okUnready)
    holds.push({
      kind: "too-many-unready",
      unready,
      total,
      percent: (unready.length / total) * 100,
      limit: maxUnready,
      ...(okUnready > 0 ? { okUnready } : {}),
    });
  if (context.overlap) holds.push({ kind: "pools-overlap", ...context.overlap });
  if (context.current === undefined) {
    const problem = context.facts?.currentValueProblem;
    holds.push({ kind: "target-unknown", ...(problem ? { problem } : {}) });
  }
  return holds;
}

/** Codes of the warnings that make a read incomplete: a list that failed or stopped part way. */
export const INCOMPLETE_CODES: ReadonlySet<string> = new Set(["list-failed", "list-partial"]);

/**
 * Lists only right-sizing reads: no node decision rests on HorizontalPodAutoscalers or
 * VerticalPodAutoscalers (cluster-autoscaler reads neither), so one that failed holds the
 * right-sizing plan, not the pools: pending pods still get nodes while the VPA API is broken.
 */
const RIGHTSIZING_LISTS = new Set(["horizontalpodautoscalers", "verticalpodautoscalers"]);

/**
 * Why the node plan cannot rest on an incomplete snapshot: the warnings of the lists it reads
 * that failed, or undefined when the snapshot is complete or only right-sizing's lists failed.
 * An incomplete snapshot that names no failed list (one written by hand) holds every pool.
 */
function incompleteFor(snapshot: Snapshot): SnapshotWarning[] | undefined {
  if (snapshot.complete) return undefined;
  const failed = snapshot.warnings.filter((warning) => INCOMPLETE_CODES.has(warning.code));
  const relevant = failed.filter(
    (warning) => warning.subject === undefined || !RIGHTSIZING_LISTS.has(warning.subject),
  );
  if (failed.length > 0 && relevant.length === 0) return undefined;
  return relevant;
}

/**
 * A failed list's warning as data, for a program reading the hold: which list (when the warning
 * says) and whether it failed outright or stopped part way, as its code says.
 */
function failedList({ subject, code }: SnapshotWarning): IncompleteList {
  return {
    ...(subject !== undefined ? { list: subject } : {}),
    read: code === "list-partial" ? "partial" : "failed",
  };
}

/**
 * The failed lists' warnings, each once with what it concerns; a missing metric or an API the
 * cluster does not serve leaves the read complete and is not among them.
 */
function gaps(failed: readonly SnapshotWarning[]): string[] {
  return failed.map(({ subject, message }) =>
    subject === undefined || message.startsWith(`${subject}:`) ? message : `${subject}: ${message}`,
  );
}

/**
 * A node not Ready yet that the last change is adding, within `provisionTimeout` of it; once the
 * change has timed out, its nodes count as unready (and the provisioning hold says it failed).
 */
function isJoining(node: NodeInfo, context: PoolContext): boolean {
  const since = countAskedSince(context.facts);
  const changedAt = since === undefined ? Number.NaN : Date.parse(since);
  if (Number.isNaN(changedAt) || context.now.getTime() >= changedAt + context.pool.provisionTimeout)
    return false;
  return joiningNodes([node], context.pool, context.facts, context.now).length > 0;
}
