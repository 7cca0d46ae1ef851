import { agreeing } from "../util/plural.ts";
import { utcTimeOf } from "../util/utc-time.ts";
import { mayWaitForRoom, notYetTried, podKey } from "./cluster-index.ts";
import { formatDuration } from "./format.ts";
import type { NotedPod, PlanNote } from "./proposal.ts";
import type { PodInfo, Snapshot } from "./snapshot.ts";

/** How long the scheduler usually takes to judge a new pod, at most; later is worth a warning. */
export const UNJUDGED_WARN_MS = 5 * 60_000;

/** Pods named in the note; the rest are counted. */
const LISTED = 5;

/**
 * A note on the Pending pods bound to no node that the scheduler has not marked unschedulable
 * (no PodScheduled=False condition with reason Unschedulable), subject `unjudged-pods`, apart from
 * the note on the pending pods that add no node (`pods`). Those the default scheduler has not
 * tried yet (`notYetTried`) are counted as pending, placed by the plan's own fit check: they are
 * named only once one is older than UNJUDGED_WARN_MS, in a warning, as a scheduler that
 * is not running leaves pods so, and then nodes added for them do not help. The others add no
 * node and are always named: those held by scheduling gates (with their gates), those left to
 * another scheduler (with its name), those the scheduler placed whose node is not set yet
 * (PodScheduled True), and those whose PodScheduled condition gives no verdict.
 * The note is a warning once one of them no gate holds is older than UNJUDGED_WARN_MS: a
 * scheduler that is not running, or a `schedulerName` no scheduler serves, leave pods so. A
 * gated pod is held on purpose until a controller (a job queue such as Kueue) lifts its gates,
 * which may take hours: it never makes the note a warning. The dashboard leaves out the info
 * note (the scheduler judges a new pod within seconds), not the warning. The pods the scheduler
 * failed on have a warning of their own (`schedulerFailedNote`).
 */
export function unjudgedPendingNote(snapshot: Snapshot, now: Date): PlanNote | undefined {
  const waitingPods = snapshot.pods.filter(waiting);
  const untried = waitingPods.filter(notYetTried);
  const uncounted = waitingPods.filter((pod) => !notYetTried(pod) && !schedulerFailed(pod));
  const left = uncountedText(uncounted, now);
  const late = lateUntriedText(untried, now);
  if (left === undefined && late === undefined) return undefined;
  return {
    level: left?.late || late !== undefined ? "warning" : "info",
    subject: "unjudged-pods",
    message: [left?.text, late].filter((text) => text !== undefined).join("; and "),
    pods: [...uncounted, ...(late === undefined ? [] : untried)].map(notedUnjudged),
  };
}

/** Why a pod of the unjudged note adds no node, or that it is counted though untried. */
type UnjudgedWhy = Exclude<NotedPod["why"], "failed">;

function unjudgedWhy(pod: PodInfo): UnjudgedWhy {
  if (notYetTried(pod)) return "untried";
  if (gated(pod)) return "gated";
  if (pod.schedulerName !== undefined) return "other-scheduler";
  // PodScheduled True on a pod bound to no node: the scheduler placed it, the bind not seen yet.
  return pod.podScheduled === "True" ? "placed" : "no-verdict";
}

/** A pod of the unjudged note as data: why it adds no node, or that it is counted untried. */
function notedUnjudged(pod: PodInfo): NotedPod {
  const why = unjudgedWhy(pod);
  return {
    pod: podKey(pod),
    why,
    ...(why === "gated" ? { gates: [...(pod.schedulingGates ?? [])] } : {}),
    ...(why === "other-scheduler" ? { schedulerName: pod.schedulerName } : {}),
    ...createdOf(pod),
  };
}

/** When the pod was made, as ISO 8601, when it can be read. */
function createdOf(pod: PodInfo): { created?: string } {
  const created = Date.parse(pod.createdAt);
  return Number.isNaN(created) ? {} : { created: new Date(created).toISOString() };
}

/**
 * The pods not marked unschedulable that add no node, as the note names them, and whether one
 * no gate holds is older than UNJUDGED_WARN_MS; undefined when there are none.
 */
function uncountedText(
  pods: readonly PodInfo[],
  now: Date,
): { text: string; late: boolean } | undefined {
  if (pods.length === 0) return undefined;
  const oldest = oldestCreated(pods);
  // Only a pod the scheduler is free to judge is late: a gated one waits for its gates.
  const oldestFree = oldestCreated(pods.filter((pod) => !gated(pod)));
  const late = oldestFree !== undefined && now.getTime() - oldestFree > UNJUDGED_WARN_MS;
  const count = pods.length === 1 ? "1 Pending pod" : `${pods.length} Pending pods`;
  const adds = agreeing(pods.length, "adds", "add");
  // The time, not the age: the dashboard shows the note, and is rewritten only when it changes.
  const age = oldest === undefined ? "" : `; the oldest was created ${utcTimeOf(oldest)}`;
  // Late is said of the pods no gate holds: their oldest is named when a gated one is older.
  const free =
    late && oldestFree !== oldest
      ? `; the oldest not held by scheduling gates was created ${utcTimeOf(oldestFree)}`
      : "";
  const advice = late
    ? `${free}, more than ${formatDuration(UNJUDGED_WARN_MS)}: ${lateAdvice(pods.filter((pod) => !gated(pod)))}`
    : "";
  return {
    late,
    text: `${count} not marked unschedulable by the scheduler (${whyUncounted(pods)}) ${adds} no node: ${listOf(pods)}${age}${advice}`,
  };
}

/**
 * What to look at when pods no gate holds wait long: the scheduler of each (is it running, does
 * it serve their schedulerName); for a pod the scheduler placed whose node is not set, its bind,
 * which something refused (an admission webhook, the API server) or which is lost.
 */
function lateAdvice(free: readonly PodInfo[]): string {
  const bound = free.filter((pod) => unjudgedWhy(pod) === "placed");
  const bind =
    "the scheduler placed but no node is set on: check the scheduler's log for a bind that failed (an admission webhook or the API server refusing it)";
  if (bound.length === free.length) return `${free.length === 1 ? "a pod" : "pods"} ${bind}`;
  const scheduler =
    "check that the scheduler runs and that their schedulerName is one a scheduler serves";
  return bound.length === 0
    ? scheduler
    : `${scheduler}; for ${bound.length === 1 ? "the pod" : "pods"} ${bind}`;
}

/** How the note says each cause, in the order it says them. */
const UNCOUNTED_CAUSES: [UnjudgedWhy, string][] = [
  ["gated", "held by scheduling gates"],
  ["other-scheduler", "left to another scheduler"],
  ["placed", "placed by the scheduler with no node set yet"],
  ["no-verdict", "with a PodScheduled condition that gives no verdict"],
];

/** `held by scheduling gates or left to another scheduler`: what keeps the pods uncounted. */
function whyUncounted(pods: readonly PodInfo[]): string {
  const whys = new Set(pods.map(unjudgedWhy));
  const causes = UNCOUNTED_CAUSES.filter(([why]) => whys.has(why)).map(([, text]) => text);
  return causes.length === 1
    ? (causes[0] as string)
    : `${causes.slice(0, -1).join(", ")} or ${causes.at(-1)}`;
}

/**
 * The pods the default scheduler has not tried yet, counted as pending, when the oldest is older
 * than UNJUDGED_WARN_MS: the scheduler may not be running, and nodes added for them then do not
 * get them running. Undefined while they are newer (the scheduler gets to them in seconds).
 */
function lateUntriedText(pods: readonly PodInfo[], now: Date): string | undefined {
  const oldest = oldestCreated(pods);
  if (oldest === undefined || now.getTime() - oldest <= UNJUDGED_WARN_MS) return undefined;
  const one = pods.length === 1;
  const count = one ? "1 Pending pod" : `${pods.length} Pending pods`;
  return `${count} not yet tried by the scheduler (no PodScheduled condition) ${one ? "is" : "are"} counted as pending, placed by the plan's own fit check: ${listOf(pods)}; the oldest was created ${utcTimeOf(oldest)}, more than ${formatDuration(UNJUDGED_WARN_MS)}: check that the scheduler runs, as nodes added for ${one ? "it" : "them"} do not help until it does`;
}

/** The first LISTED pods as the note names them, and how many more. */
function listOf(pods: readonly PodInfo[]): string {
  const names = pods.slice(0, LISTED).map(listed);
  const more = pods.length - names.length;
  return `${names.join(", ")}${more > 0 ? ` and ${more} more` : ""}`;
}

/** The earliest creation time of `pods` that can be read, in ms; undefined when none can. */
function oldestCreated(pods: readonly PodInfo[]): number | undefined {
  const created = pods
    .map((pod) => Date.parse(pod.createdAt))
    .filter((time) => !Number.isNaN(time));
  return created.length > 0 ? Math.min(...created) : undefined;
}

function gated(pod: PodInfo): boolean {
  return (pod.schedulingGates ?? []).length > 0;
}

/**
 * A pod as the note names it, with the scheduling gates that hold it, or the scheduler it is
 * left to, when any.
 */
function listed(pod: PodInfo): string {
  const gates = pod.schedulingGates ?? [];
  const held =
    gates.length > 0
      ? ` (scheduling ${gates.length === 1 ? "gate" : "gates"} ${gates.join(", ")})`
      : pod.schedulerName !== undefined
        ? ` (scheduler ${pod.schedulerName})`
        : "";
  return `${pod.namespace}/${pod.name}${held}`;
}

/** Pending, bound to no node, and neither marked unschedulable nor nominated to a node. */
function waiting(pod: PodInfo): boolean {
  return (
    mayWaitForRoom(pod) &&
    pod.nodeName === undefined &&
    pod.unschedulable === undefined &&
    pod.nominatedNode === undefined
  );
}

/**
 * Whether the scheduler tried the pod and failed on it: PodScheduled False with a reason of its
 * own (SchedulerError, say), no gate holding it. SchedulingGated, or no reason, is no verdict.
 */
function schedulerFailed(pod: PodInfo): boolean {
  const reason = pod.notScheduled?.reason;
  return reason !== undefined && reason !== "" && reason !== "SchedulingGated" && !gated(pod);
}

/**
 * A note on the Pending pods the scheduler failed on (`schedulerFailed`), each named with the
 * condition's reason and message: it tried them and neither bound them nor found them without
 * room, so they add no node. The scheduler tries such a pod again, and a failure of a moment (an
 * API server slow to answer the bind) is gone at its next try, so the note is a warning once the
 * earliest failure is older than UNJUDGED_WARN_MS, as for the pods not judged, and information
 * before that, which the dashboard leaves out. The failure's time is its PodScheduled
 * condition's; a pod without one is taken as failing since it was created, and one with neither
 * time makes the note a warning: a failure whose age is not known is not taken for a new one.
 * Subject `scheduler-failed`, apart from the pods not judged (`unjudged-pods`).
 */
export function schedulerFailedNote(snapshot: Snapshot, now: Date): PlanNote | undefined {
  const failed = snapshot.pods.filter((pod) => waiting(pod) && schedulerFailed(pod));
  if (failed.length === 0) return undefined;
  const why = (pod: PodInfo): string => {
    const { reason, message } = pod.notScheduled as { reason: string; message: string };
    return `${reason}${message === "" ? "" : `: ${message}`}`;
  };
  const times = failed.map(failingSince);
  const earliest = times.some((time) => time === undefined)
    ? undefined
    : Math.min(...times.map((time) => time?.at ?? Number.POSITIVE_INFINITY));
  const first = times.find((time) => time?.at === earliest);
  const late = earliest === undefined || now.getTime() - earliest > UNJUDGED_WARN_MS;
  const one = failed.length === 1;
  // The time, not the age: the dashboard shows the warning, and is rewritten only when it changes.
  const since =
    first === undefined
      ? `; when ${one ? "it" : "one of them"} began to fail is not known (no time on its PodScheduled condition nor its creation)`
      : `; ${one ? "" : "the earliest "}${first.created ? `created ${utcTimeOf(first.at)}, no time on its PodScheduled condition` : `failing since ${utcTimeOf(first.at)}`}`;
  const advice = late
    ? `${earliest === undefined ? "" : `, more than ${formatDuration(UNJUDGED_WARN_MS)}`}: check the scheduler's log`
    : `: the scheduler tries ${one ? "it" : "them"} again`;
  const [only] = failed;
  const pods = failed.map(notedFailed);
  if (one && only)
    return {
      level: late ? "warning" : "info",
      subject: "scheduler-failed",
      message: `Pending pod ${only.namespace}/${only.name} adds no node: the scheduler failed on it (${why(only)}), so whether it lacks room is not known${since}${advice}`,
      pods,
    };
  const names = failed.slice(0, LISTED).map((pod) => `${pod.namespace}/${pod.name} (${why(pod)})`);
  const more = failed.length - names.length;
  const list = `${names.join(", ")}${more > 0 ? ` and ${more} more` : ""}`;
  return {
    level: late ? "warning" : "info",
    subject: "scheduler-failed",
    message: `${failed.length} Pending pods add no node: the scheduler failed on them, so whether they lack room is not known: ${list}${since}${advice}`,
    pods,
  };
}

/** A pod the scheduler failed on as data: its condition's reason, message and time. */
function notedFailed(pod: PodInfo): NotedPod {
  const { reason, message, since } = pod.notScheduled as {
    reason: string;
    message: string;
    since?: string;
  };
  const failing = Date.parse(since ?? "");
  return {
    pod: podKey(pod),
    why: "failed",
    reason,
    message,
    ...(Number.isNaN(failing) ? {} : { since: new Date(failing).toISOString() }),
    ...createdOf(pod),
  };
}

/**
 * Since when the scheduler has failed on `pod`: its PodScheduled condition's time, else its
 * creation (the failure came no earlier; `created`); undefined when neither can be read.
 */
function failingSince(pod: PodInfo): { at: number; created: boolean } | undefined {
  const since = Date.parse(pod.notScheduled?.since ?? "");
  if (!Number.isNaN(since)) return { at: since, created: false };
  const created = Date.parse(pod.createdAt);
  return Number.isNaN(created) ? undefined : { at: created, created: true };
}
