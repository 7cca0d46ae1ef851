import { listing } from "../util/listing.ts";
import { counted } from "../util/plural.ts";
import { utcTimeOf } from "../util/utc-time.ts";
import { formatDuration, type Progress } from "./drain-progress.ts";
import type {
  DrainEvent,
  DrainResult,
  NodeReport,
  RefusedPodReport,
  StuckPod,
} from "./drain-result.ts";

/** Shows one drain event on the progress output. */
export function showDrainEvent(progress: Progress, event: DrainEvent): void {
  switch (event.type) {
    case "cordoned":
      progress.log(
        event.already ? `node/${event.node} was already cordoned` : `node/${event.node} cordoned`,
      );
      return;
    case "evicted":
      progress.log(`pod/${event.pod} evicted from ${event.node}`);
      return;
    case "waiting":
      progress.status(waitingLine(event));
      return;
    case "not-waited-for":
      progress.log(
        `pod/${event.pod} on ${event.node} is being deleted: not waiting for it (${event.rule})`,
      );
      return;
    case "drained":
      progress.end();
      progress.log(`node/${event.node} drained`);
      return;
    case "cancelling":
      progress.end();
      progress.log(cancellingText(event));
      return;
    case "uncordoned":
      progress.end();
      progress.log(`node/${event.node} uncordoned`);
      return;
  }
}

function cancellingText(event: Extract<DrainEvent, { type: "cancelling" }>): string {
  let then = "no node to uncordon";
  if (event.keepCordoned) then = "leaving the nodes it cordoned cordoned (--keep-cordoned)";
  else if (event.uncordoning.length > 0) then = `uncordoning ${event.uncordoning.join(", ")}`;
  return `${event.reason}: stopping the drain, ${then} (a second SIGINT or SIGTERM exits at once)`;
}

function waitingLine(event: Extract<DrainEvent, { type: "waiting" }>): string {
  const parts = [`${event.node}: ${counted(event.left, "pod")} left`];
  if (event.terminating > 0) parts[0] += ` (${event.terminating} terminating)`;
  const shown = event.blocked.slice(0, 2).map(blockedText);
  if (shown.length > 0) {
    const more = event.blocked.length - shown.length;
    parts.push(`waiting: ${shown.join("; ")}${more > 0 ? `; ${more} more` : ""}`);
  }
  return `${parts.join(", ")}; gives up at ${utcTimeOf(event.until)}`;
}

function blockedText(stuck: StuckPod): string {
  return stuck.budget
    ? `${stuck.pod} blocked by PDB ${stuck.budget}`
    : `${stuck.pod}: ${stuck.reason}`;
}

/** The drain's outcome for people: per node what happened, then one line that sums it up. */
export function formatDrainResult(result: DrainResult): string {
  const lines: string[] = [];
  for (const node of result.nodes) lines.push(...nodeLines(node, result.dryRun));
  lines.push("", summary(result));
  for (const error of result.uncordonErrors) lines.push(`could not uncordon ${error}`);
  return `${lines.join("\n")}\n`;
}

function nodeLines(node: NodeReport, dryRun: boolean): string[] {
  const lines = [`node ${node.name}: ${stateText(node, dryRun)}`];
  if (node.ready === false) lines.push(`  not Ready: ${node.notReadyReason ?? "Ready not True"}`);
  if (dryRun && node.state === "checked") {
    for (const pod of node.wouldEvict) lines.push(`  would evict ${pod}${budgetNote(node, pod)}`);
  }
  for (const refused of node.refused) lines.push(...refusedLines(refused));
  for (const stuck of node.stuck) lines.push(`  ${stuck.pod}: ${stuckText(stuck)}`);
  for (const item of node.notWaitedFor) {
    lines.push(
      `  ${dryRun ? "would not wait for" : "not waited for"} ${item.pod}: ${item.message}`,
    );
  }
  for (const skipped of node.skipped) {
    lines.push(`  left alone ${skipped.pod}: ${skipped.message}`);
  }
  for (const warning of node.warnings) {
    lines.push(`  warning: ${warning.pod ? `${warning.pod}: ` : ""}${warning.message}`);
  }
  return lines;
}

function stateText(node: NodeReport, dryRun: boolean): string {
  switch (node.state) {
    case "not-found":
      return "does not exist";
    case "not-started":
      return "not drained (the drain stopped before it)";
    case "checked":
      return dryRun
        ? `would ${node.wasCordoned ? "stay cordoned" : "be cordoned"} and have ${counted(node.wouldEvict.length, "pod")} evicted`
        : "not drained (the drain stopped before it)";
    case "drained":
      return `drained, ${counted(node.evicted.length, "pod")} evicted${notWaitedText(node)}`;
    case "refused":
      return "refused";
    case "timed-out":
      return `timed out, ${counted(node.evicted.length, "pod")} evicted`;
    case "failed":
      return `failed, ${counted(node.evicted.length, "pod")} evicted`;
    case "cancelled":
      return `cancelled, ${counted(node.evicted.length, "pod")} evicted`;
  }
}

function notWaitedText(node: NodeReport): string {
  const n = node.notWaitedFor.length;
  return n === 0 ? "" : `, ${counted(n, "pod")} being deleted not waited for`;
}

/**
 * `; the pod is not Ready, and would go at once were the budget's unhealthyPodEvictionPolicy
 * AlwaysAllow`: why a budget holds a pod that is not Ready. The dry run reads it as it is
 * (`present`); the drain says what the pod was when it listed the node's pods (`past`).
 */
export function notReadyUnderBudget(tense: "present" | "past"): string {
  const state = tense === "present" ? "is not Ready" : "was not Ready when listed";
  return `; the pod ${state}, and would go at once were the budget's unhealthyPodEvictionPolicy AlwaysAllow`;
}

/** A pod several budgets select is refused in the check, so a pod to evict has one at most. */
function budgetNote(node: NodeReport, pod: string): string {
  const budget = node.budgets.find((b) => b.pod === pod);
  if (budget === undefined) return "";
  if (budget.outsideBudget === "AlwaysAllow") {
    return ` (PDB ${budget.budget}: not Ready, so evicted whatever the budget allows, as its unhealthyPodEvictionPolicy is AlwaysAllow)`;
  }
  if (budget.outsideBudget === "IfHealthyBudget") {
    return ` (PDB ${budget.budget}: not Ready, so evicted without spending the budget, which has the healthy pods it wants)`;
  }
  const notReady = budget.notReady ? notReadyUnderBudget("present") : "";
  const stale = budget.stale
    ? ", its status being older than its spec, until the disruption controller catches up"
    : "";
  if (budget.disruptionsAllowed === 0) {
    return ` (PDB ${budget.budget} allows no disruption now${stale}: the drain would wait for it${notReady})`;
  }
  if (budget.spentBy !== undefined) {
    return ` (PDB ${budget.budget} allows ${budget.disruptionsAllowed} now, which ${listing(budget.spentBy)} would spend first: the drain would wait for it${notReady})`;
  }
  return ` (PDB ${budget.budget}${budget.disruptionsAllowed === undefined ? "" : ` allows ${budget.disruptionsAllowed} now`})`;
}

function refusedLines(refused: RefusedPodReport): string[] {
  return refused.reasons.map(
    (reason) => `  ${refused.pod}: ${reason.message} (${refusalHint(reason)})`,
  );
}

function refusalHint(reason: RefusedPodReport["reasons"][number]): string {
  if (reason.reason === "emptydir") {
    return `allow with ${reason.flag}, or, in the apply workflow, with scaleDown.deleteEmptyDirData on the node's pool`;
  }
  if (reason.flag) return `allow with ${reason.flag}`;
  if (reason.reason === "pdbs-overlap") {
    return "change the budgets' selectors so that one at most selects it";
  }
  return "remove the annotation, or move the pod by hand";
}

function stuckText(stuck: StuckPod): string {
  if (stuck.budget) return `blocked by PodDisruptionBudget ${stuck.budget}: ${stuck.reason}`;
  return stuck.reason;
}

function summary(result: DrainResult): string {
  const names = result.nodes.map((n) => n.name).join(", ");
  const elapsed = formatDuration(result.elapsedMs);
  switch (result.outcome) {
    case "drained":
      return `Drained ${names} in ${elapsed}. The nodes stay cordoned until their VMs are destroyed.`;
    case "would-drain":
      return `Dry run: the drain would go ahead (a PodDisruptionBudget may still make it wait). Nothing was changed.`;
    default:
      return `${result.dryRun ? "Dry run: the drain would stop" : `Drain ${outcomeWord(result.outcome)}`}: ${result.message ?? "see above"}. ${afterwards(result)}`;
  }
}

function outcomeWord(outcome: DrainResult["outcome"]): string {
  if (outcome === "timed-out") return "timed out";
  return outcome;
}

function afterwards(result: DrainResult): string {
  if (result.dryRun) return "Nothing was changed.";
  const cordonedBefore = result.nodes.filter((n) => n.wasCordoned).map((n) => n.name);
  const uncordoned = result.nodes.filter((n) => n.uncordoned).map((n) => n.name);
  const parts: string[] = [];
  if (uncordoned.length > 0) parts.push(`Uncordoned ${uncordoned.join(", ")}.`);
  if (result.leftCordoned.length > 0)
    parts.push(`Left cordoned: ${result.leftCordoned.join(", ")}.`);
  if (cordonedBefore.length > 0) {
    parts.push(`Cordoned before the drain, and still: ${cordonedBefore.join(", ")}.`);
  }
  if (!result.nodes.some((n) => n.cordoned)) parts.push("Nothing was cordoned.");
  return parts.join(" ");
}
