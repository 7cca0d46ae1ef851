import { KubeApiError } from "../cluster/kube-client.ts";
import { utcTimeOf } from "../util/utc-time.ts";
import { cutByTimeout } from "./drain-api.ts";
import { DrainCancelled, interruptible, interruptibleClock } from "./drain-cancel.ts";
import { DeadlineReached, timeLeft } from "./drain-deadline.ts";
import { formatDuration } from "./drain-progress.ts";
import { type DrainClock, systemClock } from "./drain-result.ts";
import type { ListNodesOptions, WaitNodesApi } from "./wait-nodes-api.ts";
import { formatSelector } from "./wait-nodes-selector.ts";
import {
  assessPool,
  firstMemory,
  isDone,
  type PoolAssessment,
  type PoolMember,
  type PoolNode,
  type PoolTarget,
  remember,
  type WaitMemory,
} from "./wait-nodes-state.ts";

export interface WaitNodesOptions {
  pool: string;
  target: PoolTarget;
  timeoutMs: number;
  /**
   * When the apply began (epoch ms): pool nodes not Ready since before then are not waited
   * for, and nodes Ready since then are the apply's new nodes. Default: the wait's start less
   * `timeoutMs`, so that a VM the apply created and that registered before the wait began (it
   * has `timeoutMs` to become Ready) is always waited for.
   */
  since?: number;
  /** Between two looks at the nodes. */
  intervalMs: number;
  /** Delete the Node objects of `target.gone` once they are cordoned and NotReady. */
  deleteGone: boolean;
  clock?: DrainClock;
  /**
   * The least real time a look or a delete waits for its answer, at or near the deadline
   * (default `lateReadMs`, 1 s). A clock that is not real reaches the deadline in no time, and
   * the look there still has this long.
   */
  lateReadMs?: number;
  /**
   * Aborted to cancel the wait (SIGINT, SIGTERM): it stops at once, abandoning the request in
   * flight, and its result, outcome `cancelled`, says what the last look saw. The abort
   * reason, in words, heads the message (`received SIGINT`).
   */
  signal?: AbortSignal;
  onEvent?: (event: WaitEvent) => void;
}

export type WaitOutcome = "ready" | "timed-out" | "failed" | "cancelled";

export interface WaitMember extends PoolMember {
  /** Age at the last look, in seconds; absent when the node has no creation time. */
  ageSeconds?: number;
}

export interface GoneReport {
  name: string;
  /** gone: no Node object; deleted: this wait deleted it; present: still there; unknown: never read. */
  state: "gone" | "deleted" | "present" | "unknown";
  ready?: boolean;
  unschedulable?: boolean;
  /**
   * With `--delete-gone`, a node still there that the last look found cordoned and NotReady,
   * whose delete was not sent because the timeout had run out: a delete is a write whose
   * outcome must be known, so none is started past the deadline.
   */
  deleteNotStarted?: true;
  /** With `--delete-gone`, a node still there whose delete the last look sent failed: why. */
  deleteFailed?: string;
  /**
   * With `--delete-gone`, the delete the last look sent (`deleteFailed` says it) got no answer
   * within the time left before the timeout: it may have been applied, so whether the Node
   * object is still there is not known.
   */
  deleteUnanswered?: true;
  /**
   * With `--delete-gone`, a node still there whose delete the last look sent was refused with
   * 409 Conflict: the Node object had changed since that look read it (its preconditions, UID
   * and resourceVersion, no longer held), so it was left for the next look.
   */
  deleteConflict?: true;
}

/** What the last successful look saw of the pool; absent from a result when no look succeeded. */
export interface PoolView {
  /** Pool members at the last look; absent members are not listed (see `missing`). */
  members: WaitMember[];
  ready: number;
  /** Ready members that became Ready since `since` and are not cordoned: the apply's new nodes. */
  newlyReady: string[];
  /**
   * Ready members that became Ready since `since` and are cordoned: they take no pods until
   * uncordoned, and are not counted as new.
   */
  newCordoned: string[];
  /** Members not Ready since before `since`: counted toward `count`, not waited for. */
  notReadyBefore: string[];
  /** Members not Ready that must become Ready: new nodes, nodes that were Ready. */
  waitingFor: string[];
  /** Of `waitingFor`, those seen Ready earlier in this wait. */
  stoppedReady: string[];
  /** Nodes the pool lacks: `count` less the Ready members and those in `notReadyBefore`. */
  missing: number;
  /** With `added`: how many more new nodes must become Ready (`added` less `newlyReady`). */
  missingNew?: number;
}

export interface WaitResult extends Partial<PoolView> {
  outcome: WaitOutcome;
  pool: string;
  /** The selector in kubectl's syntax, or "every node that is not control plane". */
  selector: string;
  count: number;
  /** VMs the apply created in the pool, that must be among the Ready nodes; absent when not given. */
  added?: number;
  /** The nodes left out of the pool and not waited for (`--ignore`); absent when none. */
  ignored?: string[];
  /** Pool nodes not Ready since before this time are not waited for (ISO 8601). */
  since: string;
  /**
   * Whether some look at the nodes succeeded. When false, nothing is known of the pool's nodes
   * and the fields of {@link PoolView} are absent: unknown is not zero.
   */
  nodesRead: boolean;
  /** Present when `--delete-gone` was given: the wait deleted the Node objects it could. */
  deleteGone?: true;
  gone: GoneReport[];
  message?: string;
  /** The last failed look at the nodes, when the last look failed. */
  lastError?: string;
  elapsedMs: number;
}

export type WaitEvent =
  | { type: "status"; pool: string; target: PoolTarget; assessment: PoolAssessment }
  | { type: "deleted"; node: string }
  /** A delete that failed; `message` names the node and says why. */
  | { type: "delete-failed"; node: string; message: string }
  /** A delete refused with 409 Conflict: the node changed since the look read it. */
  | { type: "delete-conflict"; node: string }
  | { type: "error"; message: string }
  /** The wait was cancelled (`reason`: received SIGINT) and stops. */
  | { type: "cancelling"; reason: string };

/**
 * Looks at the nodes every `intervalMs` until the pool is what the apply made it, or until
 * the timeout: `count` nodes, each Ready except those that were not Ready since before the
 * apply (decided at the first look, see {@link notReadyBefore}); with `target.added`, that many of them Ready since the apply began; and the nodes to be gone
 * gone. Failed looks that may succeed later (no answer, 429, 5xx but 501) are retried; any
 * other answer (401, 403, 404 and the other 4xx, 501, an answer that is not the API's JSON)
 * ends the wait at once. Each request of a look waits no longer than the time left, and at
 * least `lateReadMs` (see {@link timeLeft}): a look the timeout cut short ends the wait as
 * timed out, and the message says so.
 */
export async function waitForNodes(
  api: WaitNodesApi,
  options: WaitNodesOptions,
): Promise<WaitResult> {
  const signal = options.signal;
  const clock = signal
    ? interruptibleClock(options.clock ?? systemClock, signal)
    : (options.clock ?? systemClock);
  const started = clock.now();
  const deadline = started + options.timeoutMs;
  const since = options.since ?? started - options.timeoutMs;
  /** Name → UID of the Node objects this wait deleted. */
  const deleted = new Map<string, string>();
  /** The nodes the last look would have deleted, had the timeout not run out. */
  const notStarted = new Set<string>();
  /** The nodes whose delete the last look sent got 409 Conflict. */
  const conflicted = new Set<string>();
  /** The delete the last successful look sent and that failed. */
  let failedDelete: Deletes["failed"];
  let memory: WaitMemory | undefined;
  let last: PoolAssessment | undefined;
  let lastError: string | undefined;
  const finish = (outcome: WaitOutcome, message?: string) =>
    result(options, {
      outcome,
      last,
      deleted,
      notStarted,
      conflicted,
      failedDelete,
      lastError,
      now: clock.now(),
      started,
      since,
      message,
    });
  /** The deletes of the look in flight: what it saw, and the delete it waits for. */
  let current: Deletes | undefined;
  /** A cancel: what the last look saw, and the delete it abandoned, if any. */
  const cancel = (error: DrainCancelled) => {
    options.onEvent?.({ type: "cancelling", reason: error.message });
    if (current?.seen !== undefined) last = current.seen;
    if (current?.sending !== undefined) {
      failedDelete = cancelledDelete(current.sending, error.message);
    }
    return finish(
      "cancelled",
      cancelMessage(options, since, last, lastError, notStarted, failedDelete, error.message),
    );
  };
  const listOptions: ListNodesOptions = {
    limit: () => timeLeft(clock, deadline, options.lateReadMs),
    deadline: {
      at: deadline,
      limitMs: options.timeoutMs,
      name: `the ${formatDuration(options.timeoutMs)} timeout`,
    },
    clock,
  };
  for (;;) {
    try {
      const nodes = await (signal
        ? interruptible(signal, () => api.listNodes(listOptions))
        : api.listNodes(listOptions));
      memory ??= firstMemory(nodes, options.target, since);
      const deletes: Deletes = { deleted, notStarted, conflicted, deadline, clock };
      current = deletes;
      last = await look(api, options, nodes, memory, deletes);
      current = undefined;
      lastError = undefined;
      const failed = deletes.failed;
      failedDelete = failed;
      if (failed !== undefined) {
        // The look itself succeeded: what it saw stands, and the delete is tried again at the
        // next look unless the answer says it never can be. A failed delete is not a failed
        // look: the node it was for is still there, and the result says why (deleteFailed).
        const message = `could not delete node ${failed.node}: ${failed.error.message}`;
        if (!failed.error.retryable) return finish("failed", message);
        // One the timeout cut short is told by the result: no look follows it.
        if (!failed.unanswered) {
          options.onEvent?.({ type: "delete-failed", node: failed.node, message });
        }
      }
    } catch (error) {
      if (error instanceof DrainCancelled) return cancel(error);
      if (error instanceof DeadlineReached) {
        lastError = error.reason;
        return finish(
          "timed-out",
          timeoutMessage(options, since, last, lastError, notStarted, failedDelete, error),
        );
      }
      if (!(error instanceof KubeApiError)) throw error;
      if (!error.retryable) return finish("failed", error.message);
      lastError = error.message;
      options.onEvent?.({ type: "error", message: error.message });
    }
    if (last?.done && lastError === undefined) return finish("ready");
    const now = clock.now();
    if (now >= deadline) {
      return finish(
        "timed-out",
        timeoutMessage(options, since, last, lastError, notStarted, failedDelete),
      );
    }
    try {
      await clock.sleep(Math.min(options.intervalMs, deadline - now));
    } catch (error) {
      if (error instanceof DrainCancelled) return cancel(error);
      throw error;
    }
  }
}

/** What the looks of a wait delete, and until when they may start a delete. */
interface Deletes {
  /** Name → UID of the Node objects this wait deleted. */
  deleted: Map<string, string>;
  /** Filled by each look: the deletable nodes it sent no delete for, the timeout having run out. */
  notStarted: Set<string>;
  /** Filled by each look: the nodes whose delete got 409 Conflict, left for the next look. */
  conflicted: Set<string>;
  deadline: number;
  clock: DrainClock;
  /**
   * Set by the look: the delete that failed, after which it sent no other; `unanswered` when
   * the time left before the deadline ran out (or a cancel came) before its answer came.
   */
  failed?: { node: string; error: KubeApiError; unanswered: boolean };
  /** Set by the look before its deletes: what it saw, for a cancel that comes during them. */
  seen?: PoolAssessment;
  /** The node whose delete the look waits for the answer to. */
  sending?: string;
}

/**
 * One look: assess, delete what may be deleted, and tell. None is started once the deadline
 * has passed: the node is reported as still there, its delete not started. A delete waits for
 * its answer no longer than the time left, and at least `lateReadMs` (see {@link timeLeft}), as
 * the looks do: one the deadline cut short may have been applied, and the result says that
 * whether the node is gone is not known. A delete that fails ends the look's deletes, and is
 * told in `deletes.failed`: what the look saw still stands.
 */
async function look(
  api: WaitNodesApi,
  options: WaitNodesOptions,
  nodes: readonly PoolNode[],
  memory: WaitMemory,
  deletes: Deletes,
): Promise<PoolAssessment> {
  const { deleted, notStarted, conflicted } = deletes;
  remember(memory, nodes);
  const assessment = assessPool(nodes, options.target, memory);
  notStarted.clear();
  conflicted.clear();
  if (options.deleteGone) {
    // A cancel during the deletes reports what this look saw, less what it deleted.
    deletes.seen = withoutDeleted(assessment, deleted);
    for (const node of assessment.lingering.filter((n) => n.deletable)) {
      if (deletes.clock.now() >= deletes.deadline) {
        notStarted.add(node.name);
        continue;
      }
      let gone: boolean;
      const limit = timeLeft(deletes.clock, deletes.deadline, options.lateReadMs);
      const signal = options.signal;
      deletes.sending = node.name;
      try {
        gone = await (signal
          ? interruptible(signal, () => api.deleteNode(node, limit))
          : api.deleteNode(node, limit));
      } catch (error) {
        if (!(error instanceof KubeApiError)) throw error;
        deletes.failed = { node: node.name, error, unanswered: cutByTimeout(error, limit) };
        break;
      } finally {
        if (!options.signal?.aborted) delete deletes.sending;
      }
      if (!gone) {
        conflicted.add(node.name);
        options.onEvent?.({ type: "delete-conflict", node: node.name });
        continue;
      }
      deleted.set(node.name, node.uid);
      options.onEvent?.({ type: "deleted", node: node.name });
      deletes.seen = withoutDeleted(assessment, deleted);
    }
    Object.assign(assessment, withoutDeleted(assessment, deleted));
  }
  options.onEvent?.({
    type: "status",
    pool: options.pool,
    target: options.target,
    assessment,
  });
  return assessment;
}

/**
 * The assessment less the nodes to be gone that this wait deleted: a Node object of the same
 * name with another UID is a node that joined again, and still lingers.
 */
function withoutDeleted(
  assessment: PoolAssessment,
  deleted: ReadonlyMap<string, string>,
): PoolAssessment {
  const lingering = assessment.lingering.filter((n) => deleted.get(n.name) !== n.uid);
  const rest = { ...assessment, lingering };
  return { ...rest, done: isDone(rest) };
}

/** A delete a cancel abandoned before its answer came: it may have been applied. */
function cancelledDelete(node: string, reason: string): NonNullable<Deletes["failed"]> {
  const path = `/api/v1/nodes/${encodeURIComponent(node)}`;
  const error = new KubeApiError(
    `DELETE ${path}: the wait was cancelled (${reason}) before its answer came`,
    path,
  );
  return { node, error, unanswered: true };
}

/**
 * Why the wait stopped when cancelled: the abort reason (`received SIGINT`), then what the
 * last successful look lacked, as for a timeout; nothing more when no look had read the nodes.
 */
function cancelMessage(
  options: WaitNodesOptions,
  since: number,
  last: PoolAssessment | undefined,
  lastError: string | undefined,
  notStarted: ReadonlySet<string>,
  failedDelete: Deletes["failed"],
  reason: string,
): string {
  if (last === undefined) {
    const failed = lastError === undefined ? "" : ` (the last look failed: ${lastError})`;
    return `${reason} before any look had read the nodes${failed}`;
  }
  const lacked = timeoutMessage(options, since, last, lastError, notStarted, failedDelete, {
    cancelled: reason,
  });
  return lacked === "" ? `${reason}; the last look found the pool ready` : `${reason}: ${lacked}`;
}

/**
 * Why the wait timed out: what the last successful look lacked, the delete that look sent and
 * that failed, and the failure of the last look when it failed; `cut` when the timeout ran out
 * during that look.
 */
function timeoutMessage(
  options: WaitNodesOptions,
  since: number,
  last: PoolAssessment | undefined,
  lastError: string | undefined,
  notStarted: ReadonlySet<string>,
  failedDelete: Deletes["failed"],
  cut?: DeadlineReached | { cancelled: string },
): string {
  const cutText =
    cut instanceof DeadlineReached
      ? `the ${formatDuration(options.timeoutMs)} timeout ran out while ${cut.what} (${cut.reason})`
      : undefined;
  if (last === undefined) {
    return `could not read the nodes at any look: ${cutText ?? lastError ?? "no answer"}`;
  }
  const parts: string[] = [];
  if (last.missing > 0) parts.push(countMessage(options.target.count, last));
  if ((last.missingNew ?? 0) > 0) parts.push(newMessage(options.target, since, last));
  const stopped = new Set(last.stoppedReady);
  const pending = last.waitingFor.filter((name) => !stopped.has(name));
  if (pending.length > 0) parts.push(`waiting for ${pending.join(", ")} to be Ready`);
  const cordoned = last.cordonedWaitingFor;
  if (cordoned.length > 0) parts.push(cordonedMessage(cordoned));
  if (stopped.size > 0) {
    parts.push(`${last.stoppedReady.join(", ")} stopped being Ready during the wait`);
  }
  const lingering = last.lingering
    .map((n) => n.name)
    .filter((name) => !notStarted.has(name) && name !== failedDelete?.node);
  if (lingering.length > 0) parts.push(`${lingering.join(", ")} still there`);
  if (failedDelete?.unanswered && cut !== undefined && !(cut instanceof DeadlineReached)) {
    parts.push(
      `the last look's delete of ${failedDelete.node} was abandoned before its answer came, so whether its Node object is gone is not known`,
    );
  } else if (failedDelete?.unanswered) {
    parts.push(
      `the last look's delete of ${failedDelete.node} got no answer before the ${formatDuration(options.timeoutMs)} timeout ran out (${failedDelete.error.message}), so whether its Node object is gone is not known`,
    );
  } else if (failedDelete !== undefined) {
    parts.push(
      `${failedDelete.node} still there: the last look's delete of it failed: ${failedDelete.error.message}`,
    );
  }
  if (notStarted.size > 0) parts.push(notStartedMessage(options, [...notStarted]));
  if (cutText !== undefined) parts.push(cutText);
  else if (lastError !== undefined) parts.push(`the last look failed: ${lastError}`);
  return parts.join("; ");
}

/** The nodes to be gone whose delete the last look did not start, the timeout having run out. */
function notStartedMessage(options: WaitNodesOptions, names: readonly string[]): string {
  const one = names.length === 1;
  return `${names.join(", ")} ${one ? "is" : "are"} still there, cordoned and NotReady, but the ${formatDuration(options.timeoutMs)} timeout had run out: ${one ? "its delete was" : "their deletes were"} not started`;
}

/**
 * Cordoned and not Ready is what a drained VM that was destroyed leaves, and also a VM shut
 * down for maintenance after `kubectl cordon`: the wait is not told which, so it says so.
 */
export function cordonedMessage(names: readonly string[]): string {
  const [one] = names;
  const subject = names.length === 1 ? `${one} is` : `${names.join(", ")} are`;
  const flags = names.map((name) => `--gone ${name}`).join(" ");
  const their = names.length === 1 ? "its VM" : "their VMs";
  return `${subject} NotReady and cordoned, as a drained VM that was destroyed leaves its node, but also a VM shut down for maintenance: if the apply destroyed ${their}, pass ${flags}`;
}

function countMessage(count: number, last: PoolAssessment): string {
  const excused = last.notReadyBefore;
  if (excused.length === 0) {
    return `the pool has ${last.ready} of ${count} nodes Ready (${last.missing} missing)`;
  }
  return `the pool has ${last.ready + excused.length} of ${count} nodes (${last.ready} Ready, not Ready before the apply: ${excused.join(", ")}; ${last.missing} missing)`;
}

function newMessage(target: PoolTarget, since: number, last: PoolAssessment): string {
  const added = target.added ?? 0;
  const vms = `the apply created ${added} ${added === 1 ? "VM" : "VMs"} in this pool`;
  const ready = last.newlyReady;
  const cordoned = last.newCordoned;
  if (cordoned.length > 0) {
    const names = ready.length > 0 ? ` (${ready.join(", ")})` : "";
    return `${ready.length} of ${added} new nodes Ready and not cordoned${names}: ${vms}; ${newCordonedMessage(cordoned)}`;
  }
  if (ready.length === 0) {
    return `0 of ${added} new nodes Ready: ${vms} and no pool node became Ready since ${utcTimeOf(since)}`;
  }
  return `${ready.length} of ${added} new nodes Ready (${ready.join(", ")}): ${vms}`;
}

/**
 * New nodes that are cordoned take no pods: a VM that registered into the Node object an
 * earlier VM of the same name left behind (its drain cordoned it, and the object was not
 * deleted) stays cordoned. Whoever cordoned it may have had a reason, so the wait does not
 * uncordon it: it says how.
 */
function newCordonedMessage(names: readonly string[]): string {
  const one = names.length === 1;
  const which = `${names.join(", ")} became Ready since the apply began but ${one ? "is" : "are"} cordoned`;
  const so = one
    ? "so it takes no pods and is not counted as new"
    : "so they take no pods and are not counted as new";
  return `${which}, ${so}: a new VM that registers into the Node object an earlier VM of the same name left behind keeps that object's cordon; if nobody cordoned ${one ? "it" : "them"} for a reason, kubectl uncordon ${names.join(" ")}`;
}

interface Finish {
  outcome: WaitOutcome;
  last: PoolAssessment | undefined;
  deleted: Map<string, string>;
  notStarted: ReadonlySet<string>;
  conflicted: ReadonlySet<string>;
  failedDelete: Deletes["failed"];
  lastError: string | undefined;
  now: number;
  started: number;
  since: number;
  message: string | undefined;
}

function result(options: WaitNodesOptions, finish: Finish): WaitResult {
  const { last, deleted, now } = finish;
  const lingering = new Map((last?.lingering ?? []).map((n) => [n.name, n]));
  const report: WaitResult = {
    outcome: finish.outcome,
    pool: options.pool,
    selector: formatSelector(options.target.selector),
    count: options.target.count,
    ...(options.target.added !== undefined ? { added: options.target.added } : {}),
    ...((options.target.ignored ?? []).length > 0
      ? { ignored: [...(options.target.ignored ?? [])] }
      : {}),
    since: new Date(finish.since).toISOString(),
    nodesRead: last !== undefined,
    ...(last !== undefined ? poolView(last, now) : {}),
    ...(options.deleteGone ? { deleteGone: true as const } : {}),
    gone: options.target.gone.map((name): GoneReport => {
      const node = lingering.get(name);
      if (node === undefined && deleted.has(name)) return { name, state: "deleted" };
      if (node === undefined) return { name, state: last ? "gone" : "unknown" };
      const present: GoneReport = {
        name,
        state: "present",
        ready: node.ready,
        unschedulable: node.unschedulable,
      };
      if (finish.notStarted.has(name)) present.deleteNotStarted = true;
      if (finish.conflicted.has(name)) present.deleteConflict = true;
      if (finish.failedDelete?.node === name) {
        present.deleteFailed = finish.failedDelete.error.message;
        if (finish.failedDelete.unanswered) present.deleteUnanswered = true;
      }
      return present;
    }),
    elapsedMs: now - finish.started,
  };
  if (finish.message !== undefined) report.message = finish.message;
  if (finish.lastError !== undefined) report.lastError = finish.lastError;
  return report;
}

function poolView(last: PoolAssessment, now: number): PoolView {
  const view: PoolView = {
    members: last.members.map((member) => withAge(member, now)),
    ready: last.ready,
    newlyReady: last.newlyReady,
    newCordoned: last.newCordoned,
    notReadyBefore: last.notReadyBefore,
    waitingFor: last.waitingFor,
    stoppedReady: last.stoppedReady,
    missing: last.missing,
  };
  if (last.missingNew !== undefined) view.missingNew = last.missingNew;
  return view;
}

function withAge(member: PoolMember, now: number): WaitMember {
  const created = Date.parse(member.createdAt);
  if (Number.isNaN(created)) return { ...member };
  return { ...member, ageSeconds: Math.max(0, Math.floor((now - created) / 1000)) };
}
