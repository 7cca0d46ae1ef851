import { formatPercent } from "../planning/format.ts";
import { displayAmount, fromLimitText, times } from "../rightsizing/explain-rightsizing.ts";
import type {
  ResourceDecision,
  ResourcesProposal,
  RightsizeTrigger,
  WorkloadRightsizing,
} from "../rightsizing/resources-proposal.ts";
import { formatDuration } from "../rightsizing/workload-facts.ts";
import { code, details, fenced, sections, table } from "./markdown.ts";

/**
 * The pull request body of a request change: per container and resource the current value,
 * the VPA's target and bounds and the value chosen, with why; where each value is written;
 * and the whole explanation, folded.
 */
export function resourcesPullRequestBody(proposal: ResourcesProposal): string {
  return sections(
    summary(proposal),
    valuesTable(proposal),
    locationsTable(proposal),
    details("The whole decision", fenced(proposal.reasons.join("\n"), "text")),
  );
}

function summary(proposal: ResourcesProposal): string {
  const names = proposal.workloads.map((w) => `**${w.workload.namespace}/${w.workload.name}**`);
  const oom = proposal.importance.oom ? " Memory goes up first: a container was OOM-killed." : "";
  return `Requests of ${names.join(", ")} follow the VerticalPodAutoscaler's recommendation (${historyText(proposal.workloads)}).${oom}`;
}

function historyText(workloads: readonly WorkloadRightsizing[]): string {
  const known = workloads.flatMap((w) => (w.historyMs === undefined ? [] : [w.historyMs]));
  if (known.length === 0) return "history length unknown";
  return `recording for at least ${formatDuration(Math.min(...known))}`;
}

function valuesTable(proposal: ResourcesProposal): string {
  const rows: string[][] = [];
  for (const workload of proposal.workloads) {
    const name = `${workload.workload.namespace}/${workload.workload.name}`;
    for (const container of workload.containers) {
      for (const decision of container.resources) rows.push(row(name, container.name, decision));
    }
  }
  return table(
    ["Workload", "Container", "Resource", "Current", "VPA target", "VPA bounds", "Chosen", "Why"],
    rows,
  );
}

function row(workload: string, container: string, decision: ResourceDecision): string[] {
  const show = (amount: number | undefined) =>
    amount === undefined ? "unset" : displayAmount(decision.resource, amount);
  const { target, lowerBound, upperBound } = decision.recommendation;
  const bounds =
    lowerBound !== undefined && upperBound !== undefined
      ? `${show(lowerBound)}–${show(upperBound)}`
      : "unknown";
  // A Guaranteed pod left with a request other than its limit is Burstable: said beside it.
  const qos = decision.qosClass
    ? `: QoS ${decision.qosClass.current} → ${decision.qosClass.proposed}`
    : "";
  const limit =
    decision.proposedLimit !== undefined
      ? ` (limit ${show(decision.currentLimit)} → ${show(decision.proposedLimit)}${qos})`
      : decision.qosClass
        ? ` (limit ${show(decision.qosClass.limit)} kept${qos})`
        : "";
  const chosen = decision.action === "change" ? `**${show(decision.proposed)}**${limit}` : "kept";
  return [
    workload,
    container,
    decision.resource,
    `${show(decision.current)}${fromLimitText(decision)}`,
    target === undefined ? "none" : show(target),
    bounds,
    chosen,
    resourceReason(decision),
  ];
}

/** Why a resource changes (or not), in a few words, for tables and summaries. */
export function resourceReason(decision: ResourceDecision): string {
  if (decision.action !== "change") return holdReason(decision);
  return decision.triggers.map((trigger) => triggerReason(trigger, decision)).join("; ");
}

function triggerReason(trigger: RightsizeTrigger, decision: ResourceDecision): string {
  const show = (amount: number) => displayAmount(decision.resource, amount);
  switch (trigger.kind) {
    case "no-request":
      return "no request is set";
    case "below-lower-bound":
      return `below the lower bound ${show(trigger.bound)}`;
    case "above-upper-bound":
      return `above the upper bound ${show(trigger.bound)}`;
    case "beyond-tolerance":
      return `differs by ${formatPercent(trigger.percent)} (tolerance ${formatPercent(trigger.tolerance)})`;
    case "oom":
      // The statuses show a pod's last kill or two, not how many there were: its restarts tell.
      return `OOM-killed${trigger.restarts === undefined ? "" : ` (restarted ${times(trigger.restarts)})`}`;
  }
}

function holdReason(decision: ResourceDecision): string {
  const hold = decision.hold;
  if (!hold) return "no change";
  switch (hold.kind) {
    case "within-tolerance":
      return `within tolerance (${formatPercent(hold.percent)})`;
    case "hpa":
      return `HPA ${hold.hpa} scales on ${hold.metric}`;
    case "history":
      return "not enough history";
    case "no-recommendation":
      return "no recommendation";
    case "not-controlled":
      return "not controlled by the VPA";
    case "unchanged":
      return "already at the value";
    case "limit":
      return "would exceed the limit";
    case "unseen-limit":
      return "would exceed the running pods' limit";
    case "unknown-limit":
      return "the pods' limit from elsewhere is not known";
    case "stateful":
      return "stateful: only increases";
    case "cluster-differs":
      return "running pods differ from the file";
    case "unreadable":
      return `${hold.field} is not a quantity`;
    case "shared":
      return `decided with ${hold.owner}`;
    case "shared-unknown":
      return "shared with containers of unknown needs";
    case "shared-reader":
      return `shared with ${hold.reader}, which holds it`;
  }
}

function locationsTable(proposal: ResourcesProposal): string {
  const rows = proposal.workloads.flatMap((workload) =>
    workload.containers.map((container) => [
      `${workload.workload.namespace}/${workload.workload.name}`,
      container.name,
      `${code(container.location.file)} ${code(container.location.path)}`,
      `${container.location.confidence}: ${container.location.how}`,
    ]),
  );
  return `### Where\n\n${table(["Workload", "Container", "File and path", "Matched"], rows)}`;
}
