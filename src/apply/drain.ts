import { KubeApiError } from "../cluster/kube-client.ts";
import { evictedOutsideBudget } from "../planning/blockers.ts";
import { agreeing, counted } from "../util/plural.ts";
import { type BudgetInfo, type DrainApi, mayHaveApplied } from "./drain-api.ts";
import {
  type CordonInFlight,
  DrainCancelled,
  interruptible,
  interruptibleApi,
  interruptibleClock,
  uncordonAfterCancel,
} from "./drain-cancel.ts";
import { DeadlineReached, deadlineApi } from "./drain-deadline.ts";
import {
  budgetsOf,
  consultsBudgets,
  type DrainFlags,
  type NodeDrainPlan,
  refuseOverlappingBudgets,
} from "./drain-decide.ts";
import {
  drainNode,
  type NodeDrainContext,
  planNode,
  readinessOf,
  recordPlan,
} from "./drain-node.ts";
import { podKey } from "./drain-pod.ts";
import { formatDuration } from "./drain-progress.ts";
import {
  type BudgetReport,
  type DrainClock,
  type DrainEvent,
  type DrainOutcome,
  type DrainResult,
  emptyNodeReport,
  type NodeReport,
  systemClock,
} from "./drain-result.ts";
import { notWaitedFor } from "./drain-terminating.ts";

export interface DrainOptions {
  /** Node names, drained in this order. */
  nodes: readonly string[];
  flags: DrainFlags;
  /** For the whole drain, all nodes together. */
  timeoutMs: number;
  /** Passed to each eviction; the pod's own terminationGracePeriodSeconds otherwise. */
  gracePeriodSeconds?: number;
  /**
   * As kubectl drain's `--skip-wait-for-delete-timeout`: pods whose deletionTimestamp is more
   * than this many seconds old are not waited for. 0 or absent: never, except on a node that
   * is not Ready (see {@link notWaitedFor}).
   */
  skipWaitForDeleteTimeoutSeconds?: number;
  /** Leave the nodes this drain cordoned cordoned when it fails. */
  keepCordoned: boolean;
  /** Check and report only: no cordon, no eviction. */
  dryRun: boolean;
  clock?: DrainClock;
  /** First wait after a refused eviction (default 5 s), doubled up to maxRetryDelayMs (30 s). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Wait between checks of evicted pods still terminating (default 2 s). */
  pollMs?: number;
  /**
   * Cancels the drain (a SIGINT or SIGTERM): it sends nothing more, abandons the request in
   * flight and uncordons the nodes it cordoned (unless `keepCordoned`). The abort reason, in
   * words, becomes the result's message.
   */
  signal?: AbortSignal;
  /** Real time a cancelled drain may spend uncordoning, all nodes together (default 2 s). */
  cancelGraceMs?: number;
  /**
   * The least real time a read waits for its answer at or past the deadline (default
   * `lateReadMs`, 1 s). A clock that is not real reaches the deadline in no time, and the
   * reads there still have this long.
   */
  lateReadMs?: number;
  onEvent?: (event: DrainEvent) => void;
}

/**
 * How long a cancelled drain may take to uncordon: within the 2.5 s a CI runner leaves
 * between SIGTERM and its kill.
 */
export const defaultCancelGraceMs = 2_000;

/**
 * Drains nodes as `kubectl drain` does, more cautiously:
 * 1. checks every node first (it exists; no pod on it refuses, nor is selected by several
 *    PodDisruptionBudgets, which the Eviction API never gets past) and changes nothing if one
 *    fails the check;
 * 2. cordons all of them, so pods evicted from one are not scheduled onto the next;
 * 3. drains them one after another (see {@link drainNode});
 * 4. when anything stops it, uncordons the nodes it cordoned (not those that were cordoned
 *    before), unless `keepCordoned`;
 * 5. when `signal` fires, stops where it is and does the same within `cancelGraceMs`
 *    (outcome `cancelled`).
 * Pods only ever leave through the Eviction API; on success the nodes stay cordoned.
 */
export async function drainNodes(api: DrainApi, options: DrainOptions): Promise<DrainResult> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const reports = [...new Set(options.nodes)].map((name) => emptyNodeReport(name));
  const { signal } = options;
  const runClock = signal ? interruptibleClock(clock, signal) : clock;
  const run: Run = {
    api,
    live: deadlineApi(
      signal ? interruptibleApi(api, signal) : api,
      runClock,
      started + options.timeoutMs,
      options.lateReadMs,
    ),
    options,
    clock: runClock,
    started,
    reports,
  };
  try {
    const stop = await check(run);
    if (stop) return finish(run, stop.outcome, stop.message);
    if (options.dryRun) return finish(run, "would-drain");
    const late = await cordonAll(run);
    if (late) return await stopAndUncordon(run, late.outcome, late.message);
    return await drainAll(run);
  } catch (error) {
    if (error instanceof DrainCancelled) return await cancel(run, error.message);
    if (error instanceof DeadlineReached) {
      return await stopAndUncordon(run, "timed-out", deadlineMessage(run, error));
    }
    if (!(error instanceof KubeApiError)) throw error;
    return await stopAndUncordon(run, "failed", error.message);
  }
}

interface Run {
  /** The API itself: for writes that must finish even when the drain is cancelled. */
  api: DrainApi;
  /**
   * The API that a cancel interrupts, whose reads end by the deadline (see
   * {@link deadlineApi}): for everything else.
   */
  live: DrainApi;
  options: DrainOptions;
  clock: DrainClock;
  started: number;
  reports: NodeReport[];
  /** The cordon request in flight, which a cancel waits for before it uncordons. */
  cordoning?: CordonInFlight;
}

interface Stop {
  outcome: DrainOutcome;
  message: string;
}

/**
 * The check before anything changes: every node exists and none holds a pod that refuses,
 * its budgets included. A real drain and a dry run check alike.
 */
async function check(run: Run): Promise<Stop | undefined> {
  const { live: api, options } = run;
  for (const report of run.reports) {
    const node = await api.getNode(report.name);
    if (node === undefined) {
      report.state = "not-found";
      continue;
    }
    report.wasCordoned = node.unschedulable;
    report.ready = node.ready;
    if (node.notReadyReason !== undefined) report.notReadyReason = node.notReadyReason;
    const planned = await planNode(api, report.name, options.flags);
    const budgets = await readBudgets(api, report, planned);
    const plan = refuseOverlappingBudgets(planned, [...budgets.values()].flat());
    recordPlan(report, plan);
    report.state = plan.refused.length > 0 ? "refused" : "checked";
    if (options.dryRun) {
      describeDryRun(report, plan, budgets);
      describeTerminating(run, report, plan);
    }
  }
  if (options.dryRun) spendBudgets(run.reports);
  const missing = run.reports.filter((r) => r.state === "not-found").map((r) => r.name);
  if (missing.length > 0) {
    return {
      outcome: "failed",
      message: `${missing.length === 1 ? "node" : "nodes"} ${missing.join(", ")} ${agreeing(missing.length, "does", "do")} not exist; check the node names (the guard's node name template)`,
    };
  }
  const refused = run.reports.flatMap((r) => r.refused);
  if (refused.length > 0) {
    return {
      outcome: "refused",
      message: `${counted(refused.length, "pod")} may not be moved`,
    };
  }
  return undefined;
}

/**
 * The budgets of each namespace with a pod to evict that consults them, by namespace. Those
 * that cannot be read are a warning: the Eviction API still enforces them, and a pod that
 * several select then stops the drain when its eviction is refused.
 */
async function readBudgets(
  api: DrainApi,
  report: NodeReport,
  plan: NodeDrainPlan,
): Promise<Map<string, BudgetInfo[]>> {
  const budgets = new Map<string, BudgetInfo[]>();
  const namespaces = new Set(plan.evict.filter(consultsBudgets).map((pod) => pod.namespace));
  for (const namespace of namespaces) {
    try {
      budgets.set(namespace, await api.listBudgets(namespace));
    } catch (error) {
      if (!(error instanceof KubeApiError)) throw error;
      report.warnings.push({
        message: `cannot read the PodDisruptionBudgets of namespace ${namespace}: ${error.message}`,
      });
    }
  }
  return budgets;
}

/** What the dry run adds: the pods it would evict and the budget over each. */
function describeDryRun(
  report: NodeReport,
  plan: NodeDrainPlan,
  budgets: ReadonlyMap<string, BudgetInfo[]>,
): void {
  report.wouldEvict = plan.evict.map(podKey);
  for (const pod of plan.evict.filter(consultsBudgets)) {
    const inNamespace = budgets.get(pod.namespace) ?? [];
    for (const name of budgetsOf(pod, inNamespace)) {
      const budget = inNamespace.find((b) => b.name === name);
      const entry: BudgetReport = { pod: podKey(pod), budget: name };
      if (budget?.disruptionsAllowed !== undefined) {
        entry.disruptionsAllowed = budget.disruptionsAllowed;
      }
      if (budget?.stale) entry.stale = true;
      if (pod.phase === "Running" && pod.ready === false) {
        entry.notReady = true;
        if (budget && evictedOutsideBudget(pod, budget)) {
          entry.outsideBudget = budget.unhealthyPodEvictionPolicy ?? "IfHealthyBudget";
        }
      }
      report.budgets.push(entry);
    }
  }
}

/**
 * Spends each budget's allowance in the order the drain would evict (node by node, pod by pod
 * within a node): a pod that comes after the budget's allowance is spent is marked with the
 * pods that spent it, since its eviction would wait for their replacements to be Ready. A pod
 * the API evicts outside the budget (not Ready) spends nothing.
 */
function spendBudgets(reports: readonly NodeReport[]): void {
  const spent = new Map<string, string[]>();
  for (const entry of reports.flatMap((report) => report.budgets)) {
    const allowed = entry.disruptionsAllowed;
    if (allowed === undefined || allowed === 0 || entry.outsideBudget) continue;
    const key = `${entry.pod.split("/")[0]}/${entry.budget}`;
    const before = spent.get(key) ?? [];
    if (before.length < allowed) spent.set(key, [...before, entry.pod]);
    else entry.spentBy = before;
  }
}

/** What the dry run adds for pods already being deleted: which the drain would not wait for. */
function describeTerminating(run: Run, report: NodeReport, plan: NodeDrainPlan): void {
  const node = readinessOf(report);
  const now = run.clock.now();
  const skipWait = run.options.skipWaitForDeleteTimeoutSeconds ?? 0;
  for (const pod of plan.terminating) {
    const skip = notWaitedFor(pod, podKey(pod), node, now, skipWait);
    if (skip !== undefined) report.notWaitedFor.push(skip);
  }
}

/**
 * Cordons the nodes not cordoned already; once the deadline has passed it starts no cordon
 * and returns why, for the nodes it cordoned to be uncordoned. A cordon in flight has its own
 * limits, not the time left: what it did must be known before the drain goes on or undoes
 * it. A cordon that got no answer, or a 5xx, may have been applied: the node counts as
 * cordoned by this drain, so that it is uncordoned with the others (it was not cordoned
 * before). A cancel does not abandon a cordon in flight: it waits for its answer (see
 * {@link cancel}), so that its uncordon cannot overtake it.
 */
async function cordonAll(run: Run): Promise<Stop | undefined> {
  const deadline = run.started + run.options.timeoutMs;
  for (const report of run.reports) {
    if (!report.wasCordoned) {
      if (run.clock.now() >= deadline) {
        return {
          outcome: "timed-out",
          message: `the ${formatDuration(run.options.timeoutMs)} timeout ran out before ${report.name} was cordoned`,
        };
      }
      const sent = run.api.setUnschedulable(report.name, true);
      run.cordoning = { report, sent };
      try {
        await interruptibleWait(run, sent);
      } catch (error) {
        if (error instanceof KubeApiError && mayHaveApplied(error)) report.cordoned = true;
        throw error;
      }
      delete run.cordoning;
      report.cordoned = true;
    }
    run.options.onEvent?.({ type: "cordoned", node: report.name, already: report.wasCordoned });
  }
  return undefined;
}

/** Waits for `promise` through the interruptible API's signal, when there is one. */
function interruptibleWait(run: Run, promise: Promise<void>): Promise<void> {
  const { signal } = run.options;
  if (!signal) return promise;
  return interruptible(signal, () => promise);
}

async function drainAll(run: Run): Promise<DrainResult> {
  const { options } = run;
  const context: NodeDrainContext = {
    api: run.live,
    flags: options.flags,
    clock: run.clock,
    deadline: run.started + options.timeoutMs,
    retryDelayMs: options.retryDelayMs ?? 5_000,
    maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
    pollMs: options.pollMs ?? 2_000,
    skipWaitSeconds: options.skipWaitForDeleteTimeoutSeconds ?? 0,
    emit: (event) => options.onEvent?.(event),
  };
  if (options.gracePeriodSeconds !== undefined)
    context.gracePeriodSeconds = options.gracePeriodSeconds;
  for (const report of run.reports) {
    const failure = await drainNode(context, report);
    if (report.state === "drained") continue;
    return stopAndUncordon(run, outcomeOf(report), failure ?? stopMessage(report, options));
  }
  return finish(run, "drained");
}

function outcomeOf(report: NodeReport): DrainOutcome {
  if (report.state === "refused") return "refused";
  if (report.state === "timed-out") return "timed-out";
  return "failed";
}

/**
 * The drain ran out of time during a read: the pods still on the node being drained, if any,
 * and which read it was waiting for.
 */
function deadlineMessage(run: Run, error: DeadlineReached): string {
  const cut = `ran out while ${error.what} (${error.reason})`;
  const report = run.reports.find((r) => r.state === "timed-out");
  if (report !== undefined && report.stuck.length > 0) {
    return `${stopMessage(report, run.options)}, which ${cut}`;
  }
  return `the ${formatDuration(run.options.timeoutMs)} timeout ${cut}`;
}

function stopMessage(report: NodeReport, options: DrainOptions): string {
  if (report.state === "refused") {
    return `${counted(report.refused.length, "pod")} on ${report.name} may not be moved`;
  }
  return `${counted(report.stuck.length, "pod")} still on ${report.name} after the ${formatDuration(options.timeoutMs)} timeout`;
}

/**
 * After a stop: uncordons the nodes this drain cordoned (unless `keepCordoned`), all at once,
 * as after a cancel, so that an API server that does not answer holds the drain up one
 * uncordon's limits (30 s without data, 90 s in all), not that for each node. Each uncordon
 * keeps those limits, past the deadline: what it did must be known. The errors come in the
 * order of the nodes, one line a node left cordoned.
 */
async function stopAndUncordon(
  run: Run,
  outcome: DrainOutcome,
  message: string,
): Promise<DrainResult> {
  if (run.options.keepCordoned) return finish(run, outcome, message);
  const targets = run.reports.filter((report) => report.cordoned);
  const failures = await Promise.all(
    targets.map((report) =>
      run.api.setUnschedulable(report.name, false).then(
        () => {
          report.uncordoned = true;
          run.options.onEvent?.({ type: "uncordoned", node: report.name });
          return [];
        },
        (error: unknown) => [{ report, error }],
      ),
    ),
  );
  const errors: string[] = [];
  for (const { report, error } of failures.flat()) {
    if (!(error instanceof KubeApiError)) throw error;
    errors.push(`${report.name}: ${error.message}`);
  }
  return finish(run, outcome, message, errors);
}

/** After a cancel: the nodes this drain cordoned uncordoned, as {@link uncordonAfterCancel}. */
async function cancel(run: Run, reason: string): Promise<DrainResult> {
  const { options } = run;
  const errors = await uncordonAfterCancel(
    {
      api: run.api,
      reports: run.reports,
      ...(run.cordoning ? { cordoning: run.cordoning } : {}),
      keepCordoned: options.keepCordoned,
      graceMs: options.cancelGraceMs ?? defaultCancelGraceMs,
      emit: (event) => options.onEvent?.(event),
    },
    reason,
  );
  return finish(run, "cancelled", reason, errors);
}

function finish(
  run: Run,
  outcome: DrainOutcome,
  message?: string,
  uncordonErrors: string[] = [],
): DrainResult {
  const result: DrainResult = {
    outcome,
    dryRun: run.options.dryRun,
    nodes: run.reports,
    leftCordoned: run.reports.filter((r) => r.cordoned && !r.uncordoned).map((r) => r.name),
    uncordonErrors,
    elapsedMs: run.clock.now() - run.started,
  };
  if (message !== undefined) result.message = message;
  return result;
}
