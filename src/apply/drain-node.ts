import { KubeApiError } from "../cluster/kube-client.ts";
import type { DrainApi, EvictionOutcome, EvictOptions } from "./drain-api.ts";
import { DrainCancelled } from "./drain-cancel.ts";
import { DeadlineReached, type deadlineApi } from "./drain-deadline.ts";
import {
  type ClaimVolume,
  type DrainFlags,
  flagsOnNode,
  type NodeDrainPlan,
  planNodeDrain,
} from "./drain-decide.ts";
import { type DrainPod, podKey } from "./drain-pod.ts";
import { notReadyUnderBudget } from "./drain-report.ts";
import type { DrainClock, DrainEvent, NodeReport, StuckPod } from "./drain-result.ts";
import { graceEnds, notWaitedFor, type PodNode, terminatingReason } from "./drain-terminating.ts";

/** What draining one node needs besides the node. */
export interface NodeDrainContext {
  api: DrainApi;
  flags: DrainFlags;
  clock: DrainClock;
  /**
   * Epoch milliseconds after which no more evictions are sent; an eviction sent before waits
   * for its answer no longer than the time left.
   */
  deadline: number;
  gracePeriodSeconds?: number;
  /** First wait after an eviction was refused; doubles up to {@link maxRetryDelayMs}. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** Wait between checks of evicted pods that are still terminating. */
  pollMs: number;
  /** `--skip-wait-for-delete-timeout`: pods deleted longer ago are not waited for (0: never). */
  skipWaitSeconds: number;
  emit(event: DrainEvent): void;
}

/** Lists the node's pods, finds out where their claims' data lives, and decides. */
export async function planNode(
  api: DrainApi,
  node: string,
  flags: DrainFlags,
): Promise<NodeDrainPlan> {
  const pods = await api.listPods(node);
  const claims = new Map<string, ClaimVolume>();
  for (const pod of pods) {
    for (const { claim } of pod.claims) {
      const key = `${pod.namespace}/${claim}`;
      if (!claims.has(key)) claims.set(key, await api.claimVolume(pod.namespace, claim));
    }
  }
  return planNodeDrain(pods, flagsOnNode(flags, node), claims);
}

/** Copies the decisions into the node's report. */
export function recordPlan(report: NodeReport, plan: NodeDrainPlan): void {
  const known = (list: { pod: string }[], pod: string) => list.some((item) => item.pod === pod);
  for (const { pod, reason, message } of plan.skipped) {
    if (!known(report.skipped, podKey(pod)))
      report.skipped.push({ pod: podKey(pod), reason, message });
  }
  report.refused = plan.refused.map(({ pod, refusals }) => ({
    pod: podKey(pod),
    reasons: refusals.map((refusal) => ({ ...refusal })),
  }));
  for (const { pod, message } of plan.warnings) {
    if (!report.warnings.some((w) => w.pod === podKey(pod) && w.message === message))
      report.warnings.push({ pod: podKey(pod), message });
  }
}

/** The node's pods in flight: to evict, and being deleted but not gone yet. */
interface Flight {
  pending: Map<string, DrainPod>;
  /** Pods being deleted, as last read: evicted by this drain, or deleted otherwise. */
  terminating: Map<string, DrainPod>;
  blocked: Map<string, StuckPod>;
  /** UIDs of the pods this drain evicted: each is reported once, however often it was sent. */
  evicted: Set<string>;
  /** UIDs of pods seen gone. */
  confirmed: Set<string>;
  /** UIDs of pods being deleted that the drain no longer waits for (see drain-terminating). */
  abandoned: Set<string>;
  /** The node's readiness at the last look. */
  node: PodNode;
  /** The pod whose eviction is waiting for its answer. */
  sending?: string;
}

/**
 * Evicts the pods of one cordoned node and waits until they are gone, trying refused
 * evictions again with a growing delay until the deadline. The node counts as drained only
 * when a fresh list of its pods shows nothing left to evict: a pod that arrived meanwhile is
 * evicted too, or refuses the drain. Sets the report's state to drained, refused, timed-out
 * or failed, and returns what failed when it did. Cancelled ({@link DrainCancelled} out of
 * the context's API or clock), it sets the state to cancelled, lists the pods still there and
 * throws on; out of time during a read ({@link DeadlineReached}, see {@link deadlineApi}), it
 * does the same with the state timed-out.
 */
export async function drainNode(
  context: NodeDrainContext,
  report: NodeReport,
): Promise<string | undefined> {
  const flight: Flight = {
    pending: new Map(),
    terminating: new Map(),
    blocked: new Map(),
    evicted: new Set(),
    confirmed: new Set(),
    abandoned: new Set(),
    node: readinessOf(report),
  };
  try {
    return await drainLoop(context, report, flight);
  } catch (error) {
    if (error instanceof DrainCancelled || error instanceof DeadlineReached) {
      report.state = error instanceof DrainCancelled ? "cancelled" : "timed-out";
      report.stuck = stuckPods(context, flight);
    }
    throw error;
  }
}

async function drainLoop(
  context: NodeDrainContext,
  report: NodeReport,
  flight: Flight,
): Promise<string | undefined> {
  let delay = context.retryDelayMs;
  for (;;) {
    if (flight.pending.size === 0 && flight.terminating.size === 0) {
      const plan = await planPatiently(context, report.name);
      recordPlan(report, plan);
      if (plan.refused.length > 0) return refuse(report);
      add(flight, plan);
      if (flight.pending.size === 0 && flight.terminating.size === 0) {
        report.state = "drained";
        context.emit({ type: "drained", node: report.name });
        return undefined;
      }
    }
    const before = settled(report, flight);
    const failure =
      (await evictPending(context, report, flight)) ??
      (await checkTerminating(context, report, flight));
    if (failure !== undefined) return fail(context, report, flight, failure);
    // Something new happened: list again at once. Otherwise wait first, so that a list that
    // lags behind (showing a pod already gone) cannot make this loop spin.
    const progressed = settled(report, flight) > before;
    if (flight.pending.size === 0 && flight.terminating.size === 0 && progressed) continue;
    emitWaiting(context, report.name, flight);
    const now = context.clock.now();
    if (now >= context.deadline) {
      report.state = "timed-out";
      report.stuck = stuckPods(context, flight);
      return undefined;
    }
    if (progressed) delay = context.retryDelayMs;
    const wanted = flight.pending.size > 0 ? delay : context.pollMs;
    await context.clock.sleep(Math.min(wanted, context.deadline - now));
    if (flight.pending.size > 0) delay = Math.min(delay * 2, context.maxRetryDelayMs);
  }
}

/**
 * {@link planNode}, tried again after a failure worth retrying (no answer, 5xx) until the
 * deadline: a moment of API trouble should not undo a drain half done.
 */
async function planPatiently(context: NodeDrainContext, node: string): Promise<NodeDrainPlan> {
  for (;;) {
    try {
      return await planNode(context.api, node, context.flags);
    } catch (error) {
      const now = context.clock.now();
      if (!(error instanceof KubeApiError) || !error.retryable || now >= context.deadline) {
        throw error;
      }
      await context.clock.sleep(Math.min(context.pollMs, context.deadline - now));
    }
  }
}

/** Pods evicted, seen gone, or no longer waited for: what counts as progress. */
function settled(report: NodeReport, flight: Flight): number {
  return report.evicted.length + flight.confirmed.size + flight.abandoned.size;
}

/** The node's readiness as the report last saw it; never read counts as Ready (wait). */
export function readinessOf(report: NodeReport): PodNode {
  const node: PodNode = { name: report.name, ready: report.ready ?? true };
  if (report.notReadyReason !== undefined) node.notReadyReason = report.notReadyReason;
  return node;
}

/**
 * Every pod the list shows not being deleted is to evict, even one evicted before: only a pod
 * the API shows being deleted is waited for (an eviction sent again is harmless: the UID
 * precondition keeps it to that pod, and a pod being deleted is not evicted twice).
 */
function add(flight: Flight, plan: NodeDrainPlan): void {
  for (const pod of plan.evict) flight.pending.set(podKey(pod), pod);
  for (const pod of plan.terminating) {
    if (!flight.abandoned.has(pod.uid)) flight.terminating.set(podKey(pod), pod);
  }
}

/** The pods that refuse are in `report.refused`, with their reasons. */
function refuse(report: NodeReport): undefined {
  report.state = "refused";
  return undefined;
}

/**
 * Tries each pending eviction once, while the deadline has not passed; each waits for its
 * answer no longer than the time left. Returns a message when one failed for good.
 */
async function evictPending(
  context: NodeDrainContext,
  report: NodeReport,
  flight: Flight,
): Promise<string | undefined> {
  for (const [key, pod] of flight.pending) {
    const left = context.deadline - context.clock.now();
    if (left <= 0) return undefined;
    flight.sending = key;
    const sent = await context.api.evict(pod, evictOptions(context, left));
    delete flight.sending;
    const outcome = sent.kind === "maybe-gone" ? await readBack(context, pod, sent.message) : sent;
    const failure = applyOutcome(context, report, flight, key, pod, outcome);
    if (failure !== undefined) return failure;
  }
  return undefined;
}

function evictOptions(context: NodeDrainContext, left: number): EvictOptions {
  const options: EvictOptions = { timeoutMs: left };
  if (context.gracePeriodSeconds !== undefined) {
    options.gracePeriodSeconds = context.gracePeriodSeconds;
  }
  return options;
}

/** An eviction's outcome once a 404 or 409 has been told apart by reading the pod. */
type Resolved =
  | Exclude<EvictionOutcome, { kind: "maybe-gone" }>
  | { kind: "gone" }
  | { kind: "being-deleted"; current: DrainPod };

/**
 * A 404 or 409 means the pod is gone only when the API shows it so: deleted, its name taken
 * by another UID, or being deleted. A pod still there and not being deleted met a conflict
 * (a concurrent change to it or its budget): its eviction is tried again, as a transient
 * failure, and so is one whose read failed.
 */
async function readBack(
  context: NodeDrainContext,
  pod: DrainPod,
  message: string,
): Promise<Resolved> {
  let current: DrainPod | undefined;
  try {
    current = await context.api.currentPod(pod);
  } catch (error) {
    if (!(error instanceof KubeApiError)) throw error;
    return {
      kind: "transient",
      message: `${message} (reading the pod to tell whether it is gone failed: ${error.message})`,
    };
  }
  if (current === undefined) return { kind: "gone" };
  if (current.deletionTimestamp !== undefined) return { kind: "being-deleted", current };
  return { kind: "transient", message: `${message} (the pod is still there, not being deleted)` };
}

function applyOutcome(
  context: NodeDrainContext,
  report: NodeReport,
  flight: Flight,
  key: string,
  pod: DrainPod,
  outcome: Resolved,
): string | undefined {
  switch (outcome.kind) {
    case "evicted":
      settle(flight, key);
      flight.terminating.set(key, pod);
      if (!flight.evicted.has(pod.uid)) {
        flight.evicted.add(pod.uid);
        report.evicted.push(key);
        context.emit({ type: "evicted", node: report.name, pod: key });
      }
      return undefined;
    case "gone":
      settle(flight, key);
      flight.confirmed.add(pod.uid);
      return undefined;
    case "being-deleted":
      settle(flight, key);
      flight.terminating.set(key, outcome.current);
      return undefined;
    case "blocked":
      flight.blocked.set(key, {
        pod: key,
        reason: `${outcome.message}${notReadyHint(pod)}`,
        ...(outcome.budget ? { budget: outcome.budget } : {}),
      });
      return undefined;
    case "transient":
      flight.blocked.set(key, { pod: key, reason: outcome.message });
      return undefined;
    case "multiple-budgets":
      flight.blocked.set(key, { pod: key, reason: outcome.message });
      return `${key}: ${outcome.message} Fix the PodDisruptionBudgets so that one selects the pod.`;
    case "failed":
      flight.blocked.set(key, { pod: key, reason: outcome.message });
      return `${key}: ${outcome.message}`;
  }
}

/**
 * A budget refused a running pod that is not Ready: under `AlwaysAllow` the API would have
 * evicted it, so the budget's policy is `IfHealthyBudget` and the budget lacks healthy pods
 * (every replica crashing, say), which holds the pod until they recover or the timeout.
 */
function notReadyHint(pod: DrainPod): string {
  if (pod.phase !== "Running" || pod.ready !== false) return "";
  return notReadyUnderBudget("past");
}

/** The pod needs no more evictions. */
function settle(flight: Flight, key: string): void {
  flight.pending.delete(key);
  flight.blocked.delete(key);
}

/**
 * Drops pods being deleted that are gone, and those the drain need not wait for (see
 * {@link notWaitedFor}); a check that failed in passing is tried next round.
 */
async function checkTerminating(
  context: NodeDrainContext,
  report: NodeReport,
  flight: Flight,
): Promise<string | undefined> {
  let refreshed = false;
  for (const [key, pod] of flight.terminating) {
    try {
      const current = await context.api.currentPod(pod);
      if (current === undefined) {
        flight.terminating.delete(key);
        flight.confirmed.add(pod.uid);
        continue;
      }
      // Still there and not being deleted: its eviction did not take, so it is evicted again.
      if (current.deletionTimestamp === undefined) {
        flight.terminating.delete(key);
        flight.pending.set(key, current);
        continue;
      }
      // Kept as last read (its finalizers, its deletion time) for the report.
      flight.terminating.set(key, current);
      const now = context.clock.now();
      // A node may die during the drain: look at it again, once a round, before waiting on
      // for a pod whose grace period has passed.
      const ends = graceEnds(current);
      if (!refreshed && flight.node.ready && ends !== undefined && now >= ends) {
        refreshed = true;
        await refreshReadiness(context, report, flight);
      }
      const skip = notWaitedFor(current, key, flight.node, now, context.skipWaitSeconds);
      if (skip === undefined) continue;
      flight.terminating.delete(key);
      flight.abandoned.add(pod.uid);
      if (!report.notWaitedFor.some((item) => item.pod === key)) report.notWaitedFor.push(skip);
      context.emit({ type: "not-waited-for", node: report.name, pod: key, rule: skip.rule });
    } catch (error) {
      if (!(error instanceof KubeApiError)) throw error;
      if (!error.retryable) return error.message;
    }
  }
  return undefined;
}

/** Reads the node's Ready condition again; a node whose object is gone is not Ready. */
async function refreshReadiness(
  context: NodeDrainContext,
  report: NodeReport,
  flight: Flight,
): Promise<void> {
  const node = await context.api.getNode(report.name);
  const readiness = node ?? { ready: false, notReadyReason: "its Node object was deleted" };
  flight.node = { name: report.name, ready: readiness.ready };
  report.ready = readiness.ready;
  delete report.notReadyReason;
  if (readiness.notReadyReason !== undefined) {
    flight.node.notReadyReason = readiness.notReadyReason;
    report.notReadyReason = readiness.notReadyReason;
  }
}

function emitWaiting(context: NodeDrainContext, node: string, flight: Flight): void {
  context.emit({
    type: "waiting",
    node,
    left: flight.pending.size + flight.terminating.size,
    terminating: flight.terminating.size,
    blocked: [...flight.blocked.values()],
    until: context.deadline,
  });
}

function stuckPods(context: NodeDrainContext, flight: Flight): StuckPod[] {
  const stuck: StuckPod[] = [];
  for (const key of flight.pending.keys()) {
    const blocked = flight.blocked.get(key);
    if (key === flight.sending) {
      const before = blocked ? ` (the eviction before was refused: ${blocked.reason})` : "";
      stuck.push({
        pod: key,
        reason: `its eviction was sent and the drain stopped before the answer: it may be evicted${before}`,
      });
      continue;
    }
    stuck.push(blocked ?? { pod: key, reason: "not evicted yet" });
  }
  for (const [key, pod] of flight.terminating) {
    const evicted = flight.evicted.has(pod.uid);
    const item: StuckPod = {
      pod: key,
      reason: terminatingReason(pod, evicted, flight.node, context.skipWaitSeconds),
      terminating: true,
    };
    if (pod.deletionTimestamp !== undefined) item.deletionTimestamp = pod.deletionTimestamp;
    if (pod.finalizers.length > 0) item.finalizers = [...pod.finalizers];
    stuck.push(item);
  }
  return stuck;
}

function fail(
  context: NodeDrainContext,
  report: NodeReport,
  flight: Flight,
  message: string,
): string {
  report.state = "failed";
  report.stuck = stuckPods(context, flight);
  return message;
}
