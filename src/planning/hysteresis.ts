import type { PoolConfig } from "../policy/repo-config.ts";
import type { Hold } from "./node-decision.ts";
import type { PoolRepoFacts } from "./node-plan-input.ts";
import { nodesToRemove } from "./removal.ts";
import type { NodeInfo } from "./snapshot.ts";

/** Holds that come from the repo's history and the nodes' readiness, never from local state. */
export interface HysteresisHolds {
  /** Stop any new change. */
  all: Hold[];
  /** Stop a scale-down only. */
  scaleDown: Hold[];
}

/**
 * - provisioning: the repo asks for more nodes than are Ready or stopped being Ready (joining),
 *   or fewer than exist (leaving); within `provisionTimeout` of the last change it is awaited,
 *   after that it is reported as failed. Either way nothing new is proposed on top of it. Not
 *   while another pool's selector matches some of the nodes (`shared`): which count such a node
 *   is of is not known, so a node more or fewer than the count is no node that failed to join
 *   or to go (the pools-overlap hold says what is wrong, and holds the pool itself).
 * - cooldown: nothing new within `cooldown` of the last merged change.
 * - scale-down delay: no scale-down until `delayAfterScaleUp` after the nodes of the last
 *   scale-up became Ready (a change of unknown direction counts as a scale-up), also when a
 *   decrease came after it.
 * - history unknown: the repo's history cannot be read, so neither the cooldown nor the delay
 *   can be told over: no scale-down. A scale-up is let through (adding is the safe way, and
 *   nodes still joining hold it by themselves), rather than every pool of such a checkout
 *   being frozen.
 */
export function hysteresisHolds(
  pool: PoolConfig,
  facts: PoolRepoFacts | undefined,
  members: readonly NodeInfo[],
  now: Date,
  shared = false,
): HysteresisHolds {
  const holds: HysteresisHolds = { all: [], scaleDown: [] };
  const provisioning = shared ? undefined : provisioningHold(pool, facts, members, now);
  if (provisioning) holds.all.push(provisioning);
  if (facts?.historyProblem !== undefined)
    holds.scaleDown.push({ kind: "history-unknown", problem: facts.historyProblem });
  const change = facts?.lastChange;
  const changedAt = Date.parse(change?.at ?? "");
  if (change && now.getTime() < changedAt + pool.cooldown)
    holds.all.push({
      kind: "cooldown",
      since: change.at,
      until: iso(changedAt + pool.cooldown),
      ...(change.committedAt === undefined ? {} : { committedAt: change.committedAt }),
    });
  const delay = scaleDownDelay(pool, facts, members, now, shared);
  if (delay) holds.scaleDown.push(delay);
  return holds;
}

/**
 * No scale-down until `delayAfterScaleUp` after the nodes of the last scale-up became Ready: the
 * last change, unless it lowered the count; then the raise before it, when the history has one.
 * While some of them are not Ready yet, or not listed yet (the count asks for more nodes than the
 * pool has), within `provisionTimeout` of the raise, the delay has not started: it ends
 * `delayAfterScaleUp` after they are, now at the earliest. Nodes not listed are not counted when
 * another pool's selector matches some of the pool's nodes (`shared`): which count those are of
 * is not known.
 */
function scaleDownDelay(
  pool: PoolConfig,
  facts: PoolRepoFacts | undefined,
  members: readonly NodeInfo[],
  now: Date,
  shared: boolean,
): Hold | undefined {
  const change = facts?.lastChange;
  const raise = change?.direction === "down" ? facts?.lastScaleUp : change;
  const raisedAt = Date.parse(raise?.at ?? "");
  if (Number.isNaN(raisedAt)) return undefined;
  const delayMs = pool.scaleDown.delayAfterScaleUp;
  // Past `provisionTimeout` the nodes not Ready have failed to join (the provisioning hold says
  // so): the delay is no longer waiting for them. Nor is it for a node a later decrease removes
  // (a raise reverted before its node was Ready): that node is leaving, not joining.
  const leaving = new Set(leavingNodes(members, pool, facts));
  const awaited = now.getTime() < raisedAt + pool.provisionTimeout;
  const joining = awaited
    ? notReadySince(members, pool, raisedAt - pool.provisionTimeout).filter(
        (node) => !leaving.has(node),
      )
    : [];
  // Nodes the count asks for that have not registered yet: their Ready time is still to come.
  const missing = awaited && !shared ? Math.max(0, (facts?.currentValue ?? 0) - members.length) : 0;
  const window = { changedAt: raisedAt, provisionTimeout: pool.provisionTimeout, now };
  const { latest: nodesReadyAt, timeUnknown } = readyAfter(members, window, leaving);
  const readyAt = Math.max(nodesReadyAt ?? raisedAt, raisedAt);
  // A change whose direction is unknown (a commit that brings the file into an older
  // repository) counts as a raise, and the hold says so rather than calling it one.
  const unknown = raise === change && change?.direction === undefined;
  const direction = unknown ? { direction: "unknown" as const } : {};
  if (joining.length > 0 || missing > 0) {
    const until = iso(Math.max(readyAt, now.getTime()) + delayMs);
    const names = joining.map((node) => node.name);
    return {
      kind: "scale-down-delay",
      joining: names,
      ...(missing > 0 ? { missing } : {}),
      delayMs,
      until,
      ...direction,
    };
  }
  const until = readyAt + delayMs;
  if (now.getTime() >= until) return undefined;
  // No Ready node was created for the raise (the nodes were there already, or those created for
  // it are leaving: a later decrease removes them): the delay runs from the change, and the hold
  // must not call its time a Ready time.
  // Nor when its nodes were all Ready before the change (Terraform applied from the branch before
  // the merge): the delay runs from the change, not from a Ready time that was never so.
  if (nodesReadyAt === undefined || nodesReadyAt < raisedAt) {
    const gone =
      nodesReadyAt === undefined
        ? readyAfter([...leaving], window, new Set()).nodes.map((node) => node.name)
        : [];
    return {
      kind: "scale-down-delay",
      since: iso(readyAt),
      until: iso(until),
      from: "change",
      ...(nodesReadyAt === undefined ? {} : { readyBefore: true as const }),
      ...(gone.length > 0 ? { leaving: gone } : {}),
      ...direction,
    };
  }
  return {
    kind: "scale-down-delay",
    since: iso(readyAt),
    until: iso(until),
    ...(timeUnknown.length > 0 ? { readyTimeUnknown: timeUnknown } : {}),
    ...direction,
  };
}

function provisioningHold(
  pool: PoolConfig,
  facts: PoolRepoFacts | undefined,
  members: readonly NodeInfo[],
  now: Date,
): Hold | undefined {
  const expected = facts?.currentValue;
  if (expected === undefined) return undefined;
  const ready = members.filter((node) => node.ready).length;
  // Nodes that were there before the change and are not Ready now stopped being Ready: they are
  // unready (the maxUnready stop counts them), not nodes the change is still adding.
  const joining = joiningNodes(members, pool, facts, now);
  const settled = members.length - joining.length;
  const state = settled < expected ? "joining" : members.length > expected ? "leaving" : undefined;
  if (!state) return undefined;
  const present = state === "joining" ? ready : members.length;
  // The nodes a decrease removed that are still listed, when the naming rule tells which; for a
  // raise, the nodes it awaits that are listed but not Ready (one that never reported a Ready
  // condition among them), which the text names rather than a node that may not exist.
  const stayed = state === "leaving" ? leavingNodes(members, pool, facts) : joining;
  const nodes = stayed.length > 0 ? { nodes: stayed.map((node) => node.name) } : {};
  const since = countAskedSince(facts);
  const changedAt = since === undefined ? Number.NaN : Date.parse(since);
  // Without the time of the change there is no deadline: keep waiting and say so.
  if (since === undefined || Number.isNaN(changedAt))
    return { kind: "provisioning", state, expected, present, ...nodes };
  const deadline = changedAt + pool.provisionTimeout;
  // No later commit changed the count: the time is the repository's first commit's.
  const firstCommit = facts?.lastChange === undefined ? { firstCommit: true as const } : {};
  if (now.getTime() >= deadline)
    return {
      kind: "provisioning-failed",
      state,
      expected,
      present,
      since,
      ...firstCommit,
      timeoutMs: pool.provisionTimeout,
      ...nodes,
    };
  return {
    kind: "provisioning",
    state,
    expected,
    present,
    since,
    ...firstCommit,
    deadline: iso(deadline),
    ...nodes,
  };
}

/**
 * The pool's nodes not Ready that the last change to the count may still be adding: created
 * less than `provisionTimeout` before it (a node an earlier change added was still joining when
 * this one came: a raise from 3 to 4 followed by one to 5 awaits the fourth node too) or after
 * it or, when its time is unknown, within `provisionTimeout` of now. A node created before that,
 * or whose Ready condition changed more than `provisionTimeout` after it was created, is not one
 * of them: it stopped being Ready (a VM that died).
 */
export function joiningNodes(
  members: readonly NodeInfo[],
  pool: PoolConfig,
  facts: PoolRepoFacts | undefined,
  now: Date,
): NodeInfo[] {
  return notReadySince(members, pool, joiningFrom(pool, facts, now));
}

/**
 * The pool's nodes that the last decrease removes and that are still listed: the repo asks for
 * fewer nodes than there are, and the removal rule names those Terraform destroys. Empty when
 * the count is not below the nodes, or when which nodes go cannot be told.
 */
export function leavingNodes(
  members: readonly NodeInfo[],
  pool: PoolConfig,
  facts: PoolRepoFacts | undefined,
): NodeInfo[] {
  const expected = facts?.currentValue;
  if (expected === undefined || members.length <= expected) return [];
  const names = members.map((node) => node.name);
  const picks = nodesToRemove(names, names.length, pool.removal, names.length - expected);
  if (picks.some((pick) => "problem" in pick)) return [];
  const going = new Set(picks.map((pick) => ("node" in pick ? pick.node : "")));
  return members.filter((node) => going.has(node.name));
}

/**
 * The nodes not Ready yet that were created at or after `from` and never were Ready since (their
 * Ready condition changed within `provisionTimeout` of their creation, or its time is unknown),
 * or whose creation time is unknown.
 */
function notReadySince(members: readonly NodeInfo[], pool: PoolConfig, from: number): NodeInfo[] {
  return members.filter((node) => {
    if (node.ready) return false;
    const created = Date.parse(node.createdAt);
    // A node whose creation time cannot be read may be a new one: it is awaited, not unready.
    if (Number.isNaN(created)) return true;
    if (created < from) return false;
    // A Ready condition that last changed longer after the node's creation than a node takes to
    // join: the node was Ready and stopped being so (its VM died), it is not still joining.
    const changed = node.readySince === undefined ? Number.NaN : Date.parse(node.readySince);
    return Number.isNaN(changed) || changed - created <= pool.provisionTimeout;
  });
}

/**
 * Since when the count has asked for the nodes it asks for: the last change, or without one the
 * repository's first commit, which set it; undefined when neither is known.
 */
export function countAskedSince(facts: PoolRepoFacts | undefined): string | undefined {
  return facts?.lastChange?.at ?? facts?.countSince;
}

/**
 * The earliest creation time of a node the last change may still be adding: `provisionTimeout`
 * before the change, as a node created then by an earlier change was still joining when it came;
 * `provisionTimeout` before now when the change's time is unknown.
 */
function joiningFrom(pool: PoolConfig, facts: PoolRepoFacts | undefined, now: Date): number {
  const since = countAskedSince(facts);
  const changedAt = since === undefined ? Number.NaN : Date.parse(since);
  return (Number.isNaN(changedAt) ? now.getTime() : changedAt) - pool.provisionTimeout;
}

/**
 * When the nodes added by a scale-up were all Ready: the latest Ready time among Ready nodes
 * created since the change, or less than `provisionTimeout` before it (the nodes of an earlier
 * raise still joining then, awaited with it), which may be before the change (applied from the
 * branch before the merge); `latest` is undefined when there is none, `nodes` are those nodes. A
 * node a later decrease removes (`leaving`) is not one of them.
 * A node whose Ready condition gives no time (`timeUnknown`) counts as Ready at the latest it
 * could have been: now, or `provisionTimeout` after its creation (after the change when that is
 * unknown too) when that is sooner (a node that has not joined by then is reported as failed to
 * join). Its creation is only the earliest, and counting from it would end the delay before its
 * time. A node whose creation time is unknown may be one of the change's.
 */
function readyAfter(
  members: readonly NodeInfo[],
  window: { changedAt: number; provisionTimeout: number; now: Date },
  leaving: ReadonlySet<NodeInfo>,
): { latest?: number; nodes: NodeInfo[]; timeUnknown: string[] } {
  const { changedAt, provisionTimeout, now } = window;
  let latest: number | undefined;
  const nodes: NodeInfo[] = [];
  const timeUnknown: string[] = [];
  for (const node of members) {
    // A node not Ready now (one that died since) says nothing of when the change's nodes were.
    if (!node.ready || leaving.has(node)) continue;
    const created = Date.parse(node.createdAt);
    const known = node.readySince ? Date.parse(node.readySince) : Number.NaN;
    const from = changedAt - provisionTimeout;
    // A node whose creation time is unknown may be one of the change's, unless it was Ready
    // before any of them could have been created.
    if (Number.isNaN(created) ? !Number.isNaN(known) && known < from : created < from) continue;
    const joinedFrom = Number.isNaN(created) ? changedAt : created;
    const readySince = Number.isNaN(known)
      ? Math.min(now.getTime(), joinedFrom + provisionTimeout)
      : known;
    if (Number.isNaN(known)) timeUnknown.push(node.name);
    nodes.push(node);
    latest = Math.max(latest ?? readySince, readySince);
  }
  return { ...(latest === undefined ? {} : { latest }), nodes, timeUnknown };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * What keeps a decrease removing `removing` while pool nodes are not Ready (and not joining):
 * their pods, evicted soon if not yet, will need room that the Ready nodes' figures do not show.
 * A decrease that takes no Ready node (only not-Ready ones, such as the highest-numbered of two
 * dead VMs), or that takes every not-Ready node as well, is let through once each not-Ready node
 * it takes has not been Ready for `scaleDown.unreadyTime` (cluster-autoscaler removes unready
 * nodes after the same time), as with nothing on them the pool loses no room; while how long
 * one of them has not been Ready is unknown, it is not let through, and the hold names it.
 * Undefined when no such node is in the way.
 */
export function unreadyHold(
  pool: PoolConfig,
  facts: PoolRepoFacts | undefined,
  members: readonly NodeInfo[],
  removing: readonly string[],
  now: Date,
): Hold | undefined {
  const joining = new Set(joiningNodes(members, pool, facts, now));
  const unready = members.filter((node) => !node.ready && !joining.has(node));
  if (unready.length === 0) return undefined;
  const taken = unready.filter((node) => removing.includes(node.name));
  const takesAll = taken.length === unready.length;
  const takesNoReady = removing.length > 0 && taken.length === removing.length;
  if (!takesAll && !takesNoReady) {
    // Not Ready for `scaleDown.unreadyTime` and left by this decrease (a count decrease removes
    // the highest-numbered node first): no time ends the hold, only the node coming back or a
    // person replacing its VM.
    const stuck = unready
      .filter((node) => {
        const since = Date.parse(node.readySince ?? "");
        return (
          removing.length > 0 &&
          !removing.includes(node.name) &&
          !Number.isNaN(since) &&
          now.getTime() >= since + pool.scaleDown.unreadyTime
        );
      })
      .map((node) => node.name);
    const nodes = unready.map((node) => node.name);
    return stuck.length > 0
      ? { kind: "nodes-unready", nodes, stuck }
      : { kind: "nodes-unready", nodes };
  }
  const since = taken.map((node) => Date.parse(node.readySince ?? ""));
  const known = since.every((at) => !Number.isNaN(at));
  const until = known ? Math.max(...since) + pool.scaleDown.unreadyTime : undefined;
  if (until !== undefined && now.getTime() >= until) return undefined;
  const nodes = taken.map((node) => node.name);
  if (until !== undefined) return { kind: "nodes-unready", nodes, until: iso(until) };
  // The decrease takes no Ready node that their pods could need: what holds it is that how long
  // these have not been Ready is unknown, and unknown is not long ago.
  const sinceUnknown = taken.filter((_, i) => Number.isNaN(since[i])).map((node) => node.name);
  return { kind: "nodes-unready", nodes, sinceUnknown };
}
