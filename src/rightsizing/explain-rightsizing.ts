import { formatCpu, formatMemory } from "../planning/quantity.ts";
import { utcTime } from "../util/utc-time.ts";
import { shownChange } from "./decide-resource.ts";
import type {
  ContainerRightsizing,
  DerivationStep,
  ResourceDecision,
  ResourceName,
  RightsizeHold,
  RightsizeTrigger,
  WorkloadRightsizing,
} from "./resources-proposal.ts";
import { formatDuration } from "./workload-facts.ts";

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/**
 * A quantity for people: `450m`, `2`, `1344Mi`, `1.3Gi`, `259.5Mi` (memory exact in Mi or
 * above, else rounded to 0.01Gi or 0.1Mi; Ki and bytes only below 1Mi).
 */
export function displayAmount(resource: ResourceName, amount: number): string {
  if (resource === "cpu") return formatCpu(Math.round(amount));
  const exact = formatMemory(Math.round(amount));
  if (/[MGTPE]i$/.test(exact)) return exact;
  if (amount >= GiB) return `${trim((amount / GiB).toFixed(2))}Gi`;
  if (amount >= MiB) return `${trim((amount / MiB).toFixed(1))}Mi`;
  return exact;
}

/**
 * The OOM kills the pods' statuses show, which are the last termination or two of each pod's
 * container, not a count of every kill: "1 of the terminations its pods still show (restarted
 * 7 times in all)".
 */
export function oomShown(kills: number, restarts: number | undefined): string {
  const shown = `${kills} of the terminations its pods still show`;
  return restarts === undefined ? shown : `${shown} (restarted ${times(restarts)} in all)`;
}

/** "once", "7 times". */
export function times(n: number): string {
  return n === 1 ? "once" : `${n} times`;
}

function trim(text: string): string {
  return text.replace(/\.?0+$/, "");
}

/** The explanation of one workload's decisions, one line per fact, the same in PRs, CLI and logs. */
export function explainWorkload(workload: WorkloadRightsizing): string[] {
  const { namespace, kind, name } = workload.workload;
  const age =
    workload.historyMs === undefined
      ? "history length unknown"
      : `recording for ${formatDuration(workload.historyMs)}`;
  const lines = [
    `${kind} ${namespace}/${name}: VPA ${workload.vpa.name} (updateMode ${workload.vpa.updateMode}, ${age})`,
  ];
  for (const container of workload.containers) lines.push(...explainContainer(container));
  return lines;
}

function explainContainer(container: ContainerRightsizing): string[] {
  const { location } = container;
  const lines = [
    `  container ${container.name}: ${location.file} ${location.path} (${location.confidence}: ${location.how})`,
  ];
  if (container.sharedWith)
    lines.push(
      `    these values also set the resources of ${container.sharedWith.join(", ")}: they are decided once, for all of them`,
    );
  if (container.oomKills > 0)
    lines.push(`    OOM-killed recently: ${oomShown(container.oomKills, container.oomRestarts)}`);
  for (const decision of container.resources) lines.push(`    ${explainResource(decision)}`);
  return lines;
}

/**
 * After the current request when it is the file's limit, the file setting no request: the pods
 * request the limit, as Kubernetes gives it to the container, though no request is written.
 */
export function fromLimitText(decision: ResourceDecision): string {
  return decision.requestFromLimit ? " (the limit: the file sets no request)" : "";
}

/** One line: what changes (or not), from what data, and why. */
export function explainResource(decision: ResourceDecision): string {
  const show = (amount: number) => displayAmount(decision.resource, amount);
  const current =
    decision.current !== undefined
      ? `${show(decision.current)}${fromLimitText(decision)}`
      : decision.hold?.kind === "unreadable" && decision.hold.field.startsWith("requests.")
        ? "unreadable"
        : "unset";
  const data = dataText(decision);
  if (decision.action === "change" && decision.proposed !== undefined) {
    // From no request, or from 0, a change has no relative size.
    const change = decision.current
      ? ` (${signed(decision.current, decision.proposed, decision.triggers)})`
      : "";
    const limit =
      decision.proposedLimit === undefined
        ? ""
        : `; limit ${decision.currentLimit === undefined ? "unset" : show(decision.currentLimit)} → ${show(decision.proposedLimit)} (${decision.limitReason === "ratio" ? "keeps the limit/request ratio" : "raised to the request"})`;
    const how = decision.steps.map((step) => stepText(step, show)).join(", ");
    const why = decision.triggers.map((trigger) => triggerText(trigger, show)).join("; ");
    return `${decision.resource} request ${current} → ${show(decision.proposed)}${change}: ${how}${data}; because ${why}${limit}${qosText(decision)}`;
  }
  const hold = decision.hold ? holdText(decision.hold, show, decision) : "no change";
  return `${decision.resource} request ${current} kept: ${hold}${data}`;
}

/**
 * What a change does to pods of QoS class Guaranteed, when it leaves the request other than its
 * limit: "the limit 1Gi stays (limits.memory is keep), so the request no longer equals it: the
 * pods' QoS class goes from Guaranteed to Burstable".
 */
export function qosText(decision: ResourceDecision): string {
  const qos = decision.qosClass;
  if (!qos) return "";
  const limit = displayAmount(decision.resource, qos.limit);
  const beside =
    qos.from === "pods"
      ? `the running pods' limit ${limit}, which the file does not set, stays, so the request no longer equals it`
      : decision.proposedLimit === undefined
        ? `the limit ${limit} stays (limits.${decision.resource} is ${qos.limitMode}), so the request no longer equals it`
        : `the request no longer equals the limit ${limit}`;
  return `; ${beside}: the pods' QoS class goes from ${qos.current} to ${qos.proposed}`;
}

/** The change in %, shown as its tolerance trigger shows it when it has one. */
function signed(from: number, to: number, triggers: readonly RightsizeTrigger[]): string {
  const tolerance = triggers.find((trigger) => trigger.kind === "beyond-tolerance")?.tolerance;
  return `${to >= from ? "+" : "−"}${shownChange(from, to, tolerance)} %`;
}

function dataText(decision: ResourceDecision): string {
  const show = (amount: number) => displayAmount(decision.resource, amount);
  const parts: string[] = [];
  const { lowerBound, upperBound, uncappedTarget } = decision.recommendation;
  if (lowerBound !== undefined && upperBound !== undefined)
    parts.push(`VPA bounds ${show(lowerBound)}–${show(upperBound)}`);
  if (uncappedTarget !== undefined) parts.push(`uncapped target ${show(uncappedTarget)}`);
  if (decision.usage !== undefined) parts.push(`usage up to ${show(decision.usage)}`);
  if (decision.currentLimit !== undefined && decision.proposedLimit === undefined)
    parts.push(`limit ${show(decision.currentLimit)}`);
  return parts.length === 0 ? "" : ` [${parts.join(", ")}]`;
}

function stepText(step: DerivationStep, show: (amount: number) => string): string {
  switch (step.kind) {
    case "target":
      return `VPA target ${show(step.value)}`;
    case "rounded":
      return `rounded up to a multiple of ${show(step.step)} → ${show(step.value)}`;
    case "clamped": {
      const by = {
        "vpa-min": "the VPA's minAllowed",
        "vpa-max": "the VPA's maxAllowed",
        "config-min": "the configured min",
        "config-max": "the configured max",
      }[step.by];
      return `held to ${by} ${show(step.bound)}`;
    }
    case "lower-bound":
      return `raised to the VPA lower bound ${show(step.bound)} → ${show(step.value)}`;
    case "oom-floor":
      return `after ${step.kills === 1 ? "an OOM kill" : "OOM kills"} at least the current ${step.basis} ${show(step.base)} + ${step.margin} % → ${show(step.value)}`;
    case "shared":
      return `the highest of what each container these values set needs (${step.values.map((entry) => `${entry.reader} ${show(entry.value)}`).join(", ")}) → ${show(step.value)}`;
  }
}

function triggerText(trigger: RightsizeTrigger, show: (amount: number) => string): string {
  switch (trigger.kind) {
    case "no-request":
      return "the file sets no request";
    case "below-lower-bound":
      return `the request is below the VPA lower bound ${show(trigger.bound)}`;
    case "above-upper-bound":
      return `the request is above the VPA upper bound ${show(trigger.bound)}`;
    case "beyond-tolerance":
      return `it differs by ${trigger.percent} % (tolerance ${trigger.tolerance} %)`;
    case "oom":
      return `the container was OOM-killed${trigger.last ? `, last at ${utcTime(trigger.last)}` : ""}: ${oomShown(trigger.kills, trigger.restarts)}`;
  }
}

function holdText(
  hold: RightsizeHold,
  show: (amount: number) => string,
  decision: ResourceDecision,
): string {
  switch (hold.kind) {
    case "not-controlled":
      return "the VPA's controlledResources leave it out";
    case "hpa":
      return `HPA ${hold.hpa} scales this workload on ${hold.metric}; a changed request would change what the HPA measures, so the two would fight`;
    case "no-recommendation":
      return "the VPA gives no target for it";
    case "history":
      return `not enough history: ${hold.problems.join("; ")}`;
    case "within-tolerance": {
      // A target rounded or held to a bound is not the VPA's: the steps say how it was reached.
      const value = show(lastValue(decision));
      const compared =
        decision.steps.length > 1
          ? `the proposed ${value} (${decision.steps.map((step) => stepText(step, show)).join(", ")})`
          : `the target ${value}`;
      return `${compared} differs by ${hold.percent} %, within the tolerance of ${hold.tolerance} %, and the request is inside the VPA bounds`;
    }
    case "unchanged":
      // As above: a value the step or a bound made says how it was reached.
      return decision.steps.length > 1
        ? `it already equals the proposed value (${decision.steps.map((step) => stepText(step, show)).join(", ")})`
        : "it already equals the proposed value";
    case "limit":
      return `the new request ${show(lastValue(decision))} would exceed the limit ${show(hold.limit)}, and limits.${hold.mode === "none" ? `${decision.resource} is none` : "aboveLimit is refuse"}`;
    case "unseen-limit":
      return `the running pods have a ${decision.resource} limit of ${show(hold.limit)} that the file does not set (a LimitRange default, or values set elsewhere); the new request ${show(hold.proposed)} would be above it and new pods would be refused; set the limit where the request is set`;
    case "unknown-limit":
      return `the running pods carry a ${decision.resource} limit (${hold.running.map(show).join(", ")}) that the file does not set, and the VPA${hold.updateMode ? ` (updateMode ${hold.updateMode})` : ""} scales pod limits with the requests it sets, so the limit new pods get from their template (a LimitRange default, or values set elsewhere) is not known; raising the request to ${show(hold.proposed)} could put it above that limit and new pods would be refused; set the limit where the request is set`;
    case "stateful":
      return `the workload is stateful and only increases are allowed (the target would lower it to ${show(hold.proposed)})`;
    case "cluster-differs":
      return `the running pods request ${hold.running.map(show).join(", ")}, not what the file says: the file may not be deployed yet, or it is not this workload's`;
    case "unreadable":
      return `${hold.field} is ${JSON.stringify(hold.value)}, not a quantity`;
    case "shared":
      return `these values also set the resources of ${hold.owner}, and are decided with it, once for every container they set`;
    case "shared-unknown":
      return `these values also set the resources of ${hold.readers.map((entry) => `${entry.reader} (${entry.why})`).join(", ")}, whose needs are not known, and a change made for the others would change them too`;
    case "shared-reader":
      return `these values also set the resources of ${hold.reader}, for which: ${holdText(hold.hold, show, decision)}`;
  }
}

function lastValue(decision: ResourceDecision): number {
  return decision.steps[decision.steps.length - 1]?.value ?? decision.current ?? 0;
}
