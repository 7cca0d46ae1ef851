import { KubeApiError } from "../cluster/kube-client.ts";
import type { DrainApi, EvictionOutcome } from "./drain-api.ts";
import {
  type ClaimVolume,
  type DrainFlags,
  type NodeDrainPlan,
  planNodeDrain,
} from "./drain-decide.ts";
import { type DrainPod, podKey } from "./drain-pod.ts";
import type { DrainClock, DrainEvent, NodeReport, StuckPod } from "./drain-result.ts";
import { graceEnds, notWaitedFor, type PodNode } from "./drain-terminating.ts";

/** What draining one node needs besides the node. */
export interface NodeDrainContext {
  api: DrainApi;
  flags: DrainFlags;
  clock: DrainClock;
  /** Epoch milliseconds after which no more evictions are tried. */
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
  return planNodeDrain(pods, flags, claims);
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

/** The node's pods in flight: to evict, and evicted but not gone yet. */
interface Flight {
  pending: Map<string, DrainPod>;
  terminating: Map<string, DrainPod>;
  blocked: Map<string, StuckPod>;
  /** UIDs of pods evicted or found gone: a list that still shows one is behind. */
  seen: Set<string>;
  /** UIDs of pods seen gone after their eviction. */
  confirmed: Set<string>;
  /** UIDs of pods being deleted that the drain no longer waits for (see drain-terminating). */
  abandoned: Set<string>;
  /** The node's readiness at the last look. */
  node: PodNode;
}

/**
 * Evicts the pods of one cordoned node and waits until they are gone, trying refused
 * evictions again with a growing delay until the deadline. The node counts as drained only
 * when a fresh list of its pods shows nothing left to evict: a pod that arrived meanwhile is
 * evicted too, or refuses the drain. Sets the report's state to drained, refused, timed-out
 * or failed, and returns what failed when it did.
 */
export async function drainNode(
  context: NodeDrainContext,
  report: NodeReport,
): Promise<string | undefined> {
  const flight: Flight = {
    pending: new Map(),
    terminating: new Map(),
    blocked: new Map(),
    seen: new Set(),
    confirmed: new Set(),
    abandoned: new Set(),
    node: readinessOf(report),
  };
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
    if (failure !== undefined) return fail(report, flight, failure);
    // Something new happened: list again at once. Otherwise wait first, so that a list that
    // lags behind (showing a pod already gone) cannot make this loop spin.
    const progressed = settled(report, flight) > before;
    if (flight.pending.size === 0 && flight.terminating.size === 0 && progressed) continue;
    emitWaiting(context, report.name, flight);
    const now = context.clock.now();
    if (now >= context.deadline) {
      report.state = "timed-out";
      report.stuck = stuckPods(flight);
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

function add(flight: Flight, plan: NodeDrainPlan): void {
  for (const pod of plan.evict) {
    if (flight.seen.has(pod.uid)) flight.terminating.set(podKey(pod), pod);
    else flight.pending.set(podKey(pod), pod);
  }
  for (const pod of plan.terminating) {
    if (!flight.abandoned.has(pod.uid)) flight.terminating.set(podKey(pod), pod);
  }
}

/** The pods that refuse are in `report.refused`, with their reasons. */
function refuse(report: NodeReport): undefined {
  report.state = "refused";
  return undefined;
}

/** Tries each pending eviction once; returns a message when one failed for good. */
async function evictPending(
  context: NodeDrainContext,
  report: NodeReport,
  flight: Flight,
): Promise<string | undefined> {
  for (const [key, pod] of flight.pending) {
    const outcome = await context.api.evict(pod, context.gracePeriodSeconds);
    const failure = applyOutcome(context, report, flight, key, pod, outcome);
    if (failure !== undefined) return failure;
  }
  return undefined;
}

function applyOutcome(
  context: NodeDrainContext,
  report: NodeReport,
  flight: Flight,
  key: string,
  pod: DrainPod,
  outcome: EvictionOutcome,
): string | undefined {
  switch (outcome.kind) {
    case "evicted":
      flight.pending.delete(key);
      flight.blocked.delete(key);
      flight.seen.add(pod.uid);
      flight.terminating.set(key, pod);
      report.evicted.push(key);
      context.emit({ type: "evicted", node: report.name, pod: key });
      return undefined;
    case "gone":
      flight.pending.delete(key);
      flight.blocked.delete(key);
      flight.seen.add(pod.uid);
      return undefined;
    case "blocked":
      flight.blocked.set(key, {
        pod: key,
        reason: outcome.message,
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
  });
}

function stuckPods(flight: Flight): StuckPod[] {
  const stuck: StuckPod[] = [];
  for (const key of flight.pending.keys()) {
    stuck.push(flight.blocked.get(key) ?? { pod: key, reason: "not evicted yet" });
  }
  for (const key of flight.terminating.keys()) {
    stuck.push({ pod: key, reason: "evicted, still terminating", terminating: true });
  }
  return stuck;
}

function fail(report: NodeReport, flight: Flight, message: string): string {
  report.state = "failed";
  report.stuck = stuckPods(flight);
  return message;
}
