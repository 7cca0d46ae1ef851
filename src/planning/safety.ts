import { joiningNodes } from "./hysteresis.ts";
import type { Hold } from "./node-decision.ts";
import type { PoolContext } from "./pool-context.ts";
import type { NodeInfo, Snapshot } from "./snapshot.ts";

/**
 * Stops that keep the pool as it is whatever the evaluation says: the snapshot is incomplete,
 * too many of the pool's nodes are not Ready (something bigger than load is going on), nodes
 * belong to other pools too, or the target's current value is unknown.
 */
export function safetyHolds(snapshot: Snapshot, context: PoolContext): Hold[] {
  const holds: Hold[] = [];
  if (!snapshot.complete) holds.push({ kind: "snapshot-incomplete", warnings: gaps(snapshot) });
  // Nodes still joining after the last change are awaited (the provisioning hold says so), not
  // unready: a pool going from 2 to 4 is not half broken while its new VMs boot.
  const counted = context.members.filter((node) => !isJoining(node, context));
  const total = counted.length;
  const unready = counted.filter((node) => !node.ready).map((node) => node.name);
  // Compared in whole numbers: 11 of 20 is 55 %, not 55.000000000000001 % > 55 %.
  if (unready.length * 100 > context.pool.maxUnready * total)
    holds.push({
      kind: "too-many-unready",
      unready,
      total,
      percent: (unready.length / total) * 100,
      limit: context.pool.maxUnready,
    });
  if (context.overlap) holds.push({ kind: "pools-overlap", ...context.overlap });
  if (context.current === undefined) {
    const problem = context.facts?.currentValueProblem;
    holds.push({ kind: "target-unknown", ...(problem ? { problem } : {}) });
  }
  return holds;
}

/** Codes of the warnings that make a read incomplete: a list that failed or stopped part way. */
const INCOMPLETE_CODES = new Set(["list-failed", "list-partial"]);

/**
 * The warnings that made the snapshot incomplete, each once with what it concerns; a missing
 * metric or an API the cluster does not serve leaves the read complete and is not among them.
 */
function gaps(snapshot: Snapshot): string[] {
  return snapshot.warnings
    .filter((warning) => INCOMPLETE_CODES.has(warning.code))
    .map(({ subject, message }) =>
      subject === undefined || message.startsWith(`${subject}:`)
        ? message
        : `${subject}: ${message}`,
    );
}

/**
 * A node not Ready yet that the last change is adding, within `provisionTimeout` of it; once the
 * change has timed out, its nodes count as unready (and the provisioning hold says it failed).
 */
function isJoining(node: NodeInfo, context: PoolContext): boolean {
  const since = context.facts?.lastChange?.at;
  const changedAt = since === undefined ? Number.NaN : Date.parse(since);
  if (Number.isNaN(changedAt) || context.now.getTime() >= changedAt + context.pool.provisionTimeout)
    return false;
  return joiningNodes([node], context.pool, context.facts, context.now).length > 0;
}
