import { KubeApiError } from "../cluster/kube-client.ts";
import { type DrainApi, mayHaveApplied } from "./drain-api.ts";
import { formatDuration } from "./drain-progress.ts";
import type { DrainClock, DrainEvent, NodeReport } from "./drain-result.ts";

/**
 * Thrown out of a drain's wait or request when its AbortSignal fires: the drain stops where it
 * is, abandoning the request in flight, and goes on to uncordon.
 */
export class DrainCancelled extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DrainCancelled";
  }
}

/** The abort reason in words: the text it was given, else "cancelled". */
export function cancelReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (typeof reason === "string" && reason !== "") return reason;
  if (reason instanceof Error && reason.name !== "AbortError" && reason.message !== "") {
    return reason.message;
  }
  return "cancelled";
}

/**
 * `work`'s result, or {@link DrainCancelled} as soon as `signal` fires (at once when it has
 * fired already). The work abandoned goes on in the background; its outcome is ignored.
 */
export function interruptible<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(new DrainCancelled(cancelReason(signal)));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DrainCancelled(cancelReason(signal)));
    signal.addEventListener("abort", onAbort, { once: true });
    work().then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * The API with every call interruptible by `signal`. Writes that must be waited for even when
 * cancelled (a cordon in flight) go through the API itself, not this.
 */
export function interruptibleApi(api: DrainApi, signal: AbortSignal): DrainApi {
  return {
    getNode: (name, options) => interruptible(signal, () => api.getNode(name, options)),
    setUnschedulable: (name, unschedulable, options) =>
      interruptible(signal, () => api.setUnschedulable(name, unschedulable, options)),
    listPods: (node, options) => interruptible(signal, () => api.listPods(node, options)),
    claimVolume: (namespace, claim, options) =>
      interruptible(signal, () => api.claimVolume(namespace, claim, options)),
    evict: (pod, options) => interruptible(signal, () => api.evict(pod, options)),
    currentPod: (pod, options) => interruptible(signal, () => api.currentPod(pod, options)),
    listBudgets: (namespace, options) =>
      interruptible(signal, () => api.listBudgets(namespace, options)),
    close: () => api.close(),
  };
}

/** The clock whose sleeps end early, with {@link DrainCancelled}, when `signal` fires. */
export function interruptibleClock(clock: DrainClock, signal: AbortSignal): DrainClock {
  return {
    now: () => clock.now(),
    sleep: (ms) => interruptible(signal, () => clock.sleep(ms)),
  };
}

/** A stretch of real time, however the drain's clock runs: what a cancel may still spend. */
interface Budget {
  /** Milliseconds left, never below 0. */
  left(): number;
}

/** A {@link Budget} of `ms` from now. */
function startBudget(ms: number): Budget {
  const ends = performance.now() + ms;
  return { left: () => Math.max(0, ends - performance.now()) };
}

/** What {@link withinBudget} gives when the budget ran out first. */
const late: unique symbol = Symbol("late");

/** `promise`'s result, or {@link late} once `budget` has run out, whichever comes first. */
async function withinBudget<T>(promise: Promise<T>, budget: Budget): Promise<T | typeof late> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<typeof late>((resolve) => {
    timer = setTimeout(() => resolve(late), budget.left());
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A cordon request sent and not answered yet. */
export interface CordonInFlight {
  report: NodeReport;
  sent: Promise<void>;
}

/** What uncordoning after a cancel works on. */
export interface CancelScope {
  /** The API itself, not one the cancel interrupts. */
  api: DrainApi;
  reports: NodeReport[];
  cordoning?: CordonInFlight;
  keepCordoned: boolean;
  /** Real time it may take, all nodes together. */
  graceMs: number;
  emit(event: DrainEvent): void;
}

/**
 * After a cancel: waits for the cordon in flight, then uncordons every node the drain cordoned
 * (unless `keepCordoned`), all at once, within `graceMs`. Sets `cordoned` and `uncordoned` on
 * the reports, and returns what could not be done, one line a node (a node it names is left
 * cordoned, or may be).
 */
export async function uncordonAfterCancel(scope: CancelScope, reason: string): Promise<string[]> {
  const budget = startBudget(scope.graceMs);
  const uncordoning = scope.keepCordoned
    ? []
    : scope.reports.filter((r) => r.cordoned || r === scope.cordoning?.report).map((r) => r.name);
  scope.emit({ type: "cancelling", reason, uncordoning, keepCordoned: scope.keepCordoned });
  const errors: string[] = [];
  const unanswered = await settleCordon(scope.cordoning, budget);
  if (scope.keepCordoned) return errors;
  if (unanswered !== undefined) {
    errors.push(
      `${unanswered.name}: its cordon had no answer within ${graceText(scope.graceMs)} of the cancel: it may be cordoned; check \`kubectl get node ${unanswered.name}\``,
    );
  }
  const targets = scope.reports.filter((r) => r.cordoned && r !== unanswered);
  await Promise.all(targets.map((report) => uncordonWithin(scope, report, budget, errors)));
  return errors;
}

/**
 * Waits, within the budget, for the cordon in flight when the drain was cancelled. Answered,
 * the node counts as cordoned by this drain; refused, as not; failed in a way that may have
 * applied it (see {@link mayHaveApplied}), as cordoned too. Returns the node when no answer
 * came in time: it may be cordoned, and an uncordon sent now might be applied before it.
 */
async function settleCordon(
  pending: CordonInFlight | undefined,
  budget: Budget,
): Promise<NodeReport | undefined> {
  if (pending === undefined) return undefined;
  const answer = await withinBudget(
    pending.sent.then(
      () => "cordoned" as const,
      (error: unknown) =>
        error instanceof KubeApiError && mayHaveApplied(error)
          ? ("cordoned" as const)
          : ("refused" as const),
    ),
    budget,
  );
  if (answer === "refused") return undefined;
  pending.report.cordoned = true;
  return answer === late ? pending.report : undefined;
}

async function uncordonWithin(
  scope: CancelScope,
  report: NodeReport,
  budget: Budget,
  errors: string[],
): Promise<void> {
  const sent = scope.api.setUnschedulable(report.name, false, { timeoutMs: budget.left() }).then(
    () => undefined,
    (error: unknown) => error,
  );
  const answer = await withinBudget(sent, budget);
  if (answer === late) {
    errors.push(
      `${report.name}: no answer to the uncordon within ${graceText(scope.graceMs)} of the cancel: it may still be cordoned; check \`kubectl get node ${report.name}\``,
    );
    return;
  }
  if (answer === undefined) {
    report.uncordoned = true;
    scope.emit({ type: "uncordoned", node: report.name });
    return;
  }
  if (!(answer instanceof KubeApiError)) throw answer;
  errors.push(`${report.name}: ${answer.message}`);
}

/** A cancel's grace for people: whole seconds, or milliseconds below one. */
function graceText(ms: number): string {
  return ms < 1_000 ? `${ms}ms` : formatDuration(ms);
}
