import { formatDuration, type Progress } from "./drain-progress.ts";
import type { WaitEvent, WaitMember, WaitResult } from "./wait-nodes.ts";
import type { PoolAssessment } from "./wait-nodes-state.ts";

/** Shows one event of the wait on the progress output. */
export function showWaitEvent(progress: Progress, event: WaitEvent): void {
  switch (event.type) {
    case "status":
      progress.status(statusLine(event.pool, event.count, event.assessment));
      return;
    case "deleted":
      progress.log(`node/${event.node} deleted`);
      return;
    case "error":
      progress.log(`could not read the nodes (trying again): ${event.message}`);
      return;
  }
}

function statusLine(pool: string, count: number, assessment: PoolAssessment): string {
  const parts = [`pool ${pool}: ${assessment.ready}/${count} Ready`];
  const notReady = assessment.members.filter((m) => m.state === "not-ready").map((m) => m.name);
  if (notReady.length > 0) parts.push(`NotReady: ${notReady.join(", ")}`);
  const cordoned = assessment.members.filter((m) => m.state === "cordoned").map((m) => m.name);
  if (cordoned.length > 0) parts.push(`cordoned: ${cordoned.join(", ")}`);
  if (assessment.lingering.length > 0) {
    parts.push(`waiting for ${assessment.lingering.map((n) => n.name).join(", ")} to go`);
  }
  return parts.join("; ");
}

/** The wait's outcome for people: a sentence, then every pool node and every node to be gone. */
export function formatWaitResult(result: WaitResult): string {
  const lines = [headline(result), `  selector: ${result.selector}`];
  for (const member of result.members) lines.push(`  ${memberLine(member)}`);
  if (result.missing > 0) {
    lines.push(
      `  missing: ${result.missing} more Ready ${result.missing === 1 ? "node" : "nodes"}`,
    );
  }
  for (const gone of result.gone) lines.push(`  ${goneLine(gone)}`);
  if (result.lastError !== undefined) lines.push(`  last error: ${result.lastError}`);
  return `${lines.join("\n")}\n`;
}

function headline(result: WaitResult): string {
  const elapsed = formatDuration(result.elapsedMs);
  switch (result.outcome) {
    case "ready":
      return `Pool ${result.pool} has ${result.ready} Ready ${result.ready === 1 ? "node" : "nodes"} (wanted ${result.count})${result.gone.length > 0 ? " and the removed nodes are gone" : ""}, after ${elapsed}.`;
    case "timed-out":
      return `Timed out after ${elapsed} waiting for pool ${result.pool}: ${result.message ?? ""}.`;
    case "failed":
      return `Stopped waiting for pool ${result.pool}: ${result.message ?? ""}`;
  }
}

function memberLine(member: WaitMember): string {
  const state =
    member.state === "ready"
      ? "Ready"
      : member.state === "cordoned"
        ? "Ready, cordoned"
        : "NotReady";
  const age =
    member.ageSeconds === undefined ? "" : `, age ${formatDuration(member.ageSeconds * 1000)}`;
  const reason = member.notReadyReason ? ` (${member.notReadyReason})` : "";
  return `${member.name}: ${state}${age}${reason}`;
}

function goneLine(gone: WaitResult["gone"][number]): string {
  switch (gone.state) {
    case "gone":
      return `${gone.name}: gone`;
    case "deleted":
      return `${gone.name}: Node object deleted`;
    case "unknown":
      return `${gone.name}: to be gone, not seen`;
    case "present": {
      const state = `${gone.ready ? "Ready" : "NotReady"}${gone.unschedulable ? ", cordoned" : ", not cordoned"}`;
      const why = gone.ready
        ? "its kubelet still reports: is its VM destroyed?"
        : gone.unschedulable
          ? "pass --delete-gone to delete its Node object"
          : "not cordoned, so never deleted by --delete-gone: was it drained?";
      return `${gone.name}: still there (${state}); ${why}`;
    }
  }
}
