import { utcTime } from "../util/utc-time.ts";
import { formatDuration, type Progress } from "./drain-progress.ts";
import {
  cordonedMessage,
  type PoolView,
  type WaitEvent,
  type WaitMember,
  type WaitResult,
} from "./wait-nodes.ts";
import type { PoolAssessment, PoolTarget } from "./wait-nodes-state.ts";

/** Shows one event of the wait on the progress output. */
export function showWaitEvent(progress: Progress, event: WaitEvent): void {
  switch (event.type) {
    case "status":
      progress.status(statusLine(event.pool, event.target, event.assessment));
      return;
    case "deleted":
      progress.log(`node/${event.node} deleted`);
      return;
    case "delete-failed":
      progress.log(`${event.message} (trying again at the next look)`);
      return;
    case "delete-conflict":
      progress.log(
        `node/${event.node} not deleted: it changed since the look (409 Conflict); trying again at the next look`,
      );
      return;
    case "error":
      progress.log(`could not read the nodes (trying again): ${event.message}`);
      return;
    case "cancelling":
      progress.log(
        `${event.reason}: stopping the wait, its result says what it saw (a second SIGINT or SIGTERM exits at once)`,
      );
      return;
  }
}

function statusLine(pool: string, target: PoolTarget, assessment: PoolAssessment): string {
  const excused = assessment.notReadyBefore;
  const count = target.count;
  const added =
    target.added === undefined ? "" : `, ${assessment.newlyReady.length}/${target.added} new`;
  const parts =
    excused.length === 0
      ? [`pool ${pool}: ${assessment.ready}/${count} Ready${added}`]
      : [
          `pool ${pool}: ${assessment.ready + excused.length}/${count} nodes, ${assessment.ready} Ready${added}`,
          `not Ready before the apply (not waited for): ${excused.join(", ")}`,
        ];
  if (assessment.waitingFor.length > 0) parts.push(`NotReady: ${assessment.waitingFor.join(", ")}`);
  const cordoned = assessment.members.filter((m) => m.state === "cordoned").map((m) => m.name);
  if (cordoned.length > 0) parts.push(`cordoned: ${cordoned.join(", ")}`);
  if (assessment.cordonedWaitingFor.length > 0) {
    parts.push(`NotReady and cordoned: ${assessment.cordonedWaitingFor.join(", ")}`);
  }
  if (assessment.lingering.length > 0) {
    parts.push(`waiting for ${assessment.lingering.map((n) => n.name).join(", ")} to go`);
  }
  return parts.join("; ");
}

/** The wait's outcome for people: a sentence, then every pool node and every node to be gone. */
export function formatWaitResult(result: WaitResult): string {
  const lines = [headline(result), `  selector: ${result.selector}`];
  if (result.ignored !== undefined && result.ignored.length > 0) {
    lines.push(`  left out, not waited for (--ignore): ${result.ignored.join(", ")}`);
  }
  const view = poolViewOf(result);
  if (view) lines.push(...poolLines(result, view));
  else lines.push("  nodes: never read (no look succeeded), so how many are Ready is not known");
  for (const gone of result.gone) lines.push(`  ${goneLine(gone, result)}`);
  if (result.lastError !== undefined) lines.push(`  last error: ${result.lastError}`);
  return `${lines.join("\n")}\n`;
}

/** The pool as the last look saw it; undefined when no look succeeded. */
function poolViewOf(result: WaitResult): PoolView | undefined {
  const { members, ready, missing } = result;
  if (!result.nodesRead || members === undefined || ready === undefined || missing === undefined) {
    return undefined;
  }
  return {
    members,
    ready,
    newlyReady: result.newlyReady ?? [],
    newCordoned: result.newCordoned ?? [],
    notReadyBefore: result.notReadyBefore ?? [],
    waitingFor: result.waitingFor ?? [],
    stoppedReady: result.stoppedReady ?? [],
    missing,
  };
}

function poolLines(result: WaitResult, view: PoolView): string[] {
  const lines = view.members.map((member) => `  ${memberLine(member)}`);
  if (view.notReadyBefore.length > 0) {
    lines.push(
      `  not Ready before the apply: ${view.notReadyBefore.join(", ")} (counted, not waited for; since ${utcTime(result.since)})`,
    );
  }
  const cordoned = view.members.filter((m) => m.cordoned && !m.notReadyBefore).map((m) => m.name);
  if (cordoned.length > 0) lines.push(`  ${cordonedMessage(cordoned)}`);
  if (result.added !== undefined) {
    const names = view.newlyReady.length > 0 ? ` (${view.newlyReady.join(", ")})` : "";
    const cordoned =
      view.newCordoned.length > 0 ? `; cordoned, not counted: ${view.newCordoned.join(", ")}` : "";
    lines.push(
      `  new: ${view.newlyReady.length} of ${result.added} Ready since ${utcTime(result.since)}${names}${cordoned}`,
    );
  }
  if (view.missing > 0) {
    lines.push(`  missing: ${view.missing} more Ready ${view.missing === 1 ? "node" : "nodes"}`);
  }
  return lines;
}

function headline(result: WaitResult): string {
  const elapsed = formatDuration(result.elapsedMs);
  switch (result.outcome) {
    case "ready":
      return `Pool ${result.pool} has ${readyText(result)} (wanted ${result.count})${newText(result)}${result.gone.length > 0 ? " and the removed nodes are gone" : ""}, after ${elapsed}.`;
    case "timed-out":
      return `Timed out after ${elapsed} waiting for pool ${result.pool}: ${result.message ?? ""}.`;
    case "failed":
      return `Stopped waiting for pool ${result.pool}: ${result.message ?? ""}`;
    case "cancelled":
      return `Cancelled after ${elapsed} waiting for pool ${result.pool}: ${result.message ?? ""}.`;
  }
}

function readyText(result: WaitResult): string {
  const count = result.ready ?? 0;
  const ready = `${count} Ready ${count === 1 ? "node" : "nodes"}`;
  const excused = result.notReadyBefore?.length ?? 0;
  if (excused === 0) return ready;
  return `${ready} and ${excused} not Ready before the apply`;
}

function newText(result: WaitResult): string {
  if (result.added === undefined) return "";
  const ready = result.newlyReady ?? [];
  const names = ready.length > 0 ? ` (${ready.join(", ")})` : "";
  return `, ${ready.length} of ${result.added} new nodes Ready${names}`;
}

function memberLine(member: WaitMember): string {
  const state =
    member.state === "ready"
      ? "Ready"
      : member.state === "cordoned"
        ? "Ready, cordoned"
        : member.cordoned
          ? "NotReady, cordoned"
          : "NotReady";
  const age =
    member.ageSeconds === undefined ? "" : `, age ${formatDuration(member.ageSeconds * 1000)}`;
  const reason = member.notReadyReason ? ` (${member.notReadyReason})` : "";
  return `${member.name}: ${state}${age}${reason}${memberNote(member)}`;
}

function memberNote(member: WaitMember): string {
  if (member.newlyReady && member.state === "cordoned") {
    return "; new since the apply began, but cordoned: it takes no pods until uncordoned";
  }
  if (member.newlyReady) return "; new since the apply began";
  if (member.notReadyBefore) return "; not Ready before the apply: not waited for";
  if (member.stoppedReady) return "; was Ready earlier in this wait";
  if (member.state === "not-ready") return "; waited for";
  return "";
}

function goneLine(gone: WaitResult["gone"][number], result: WaitResult): string {
  switch (gone.state) {
    case "gone":
      return `${gone.name}: gone`;
    case "deleted":
      return `${gone.name}: Node object deleted`;
    case "unknown":
      return `${gone.name}: to be gone, not seen`;
    case "present": {
      const state = `${gone.ready ? "Ready" : "NotReady"}${gone.unschedulable ? ", cordoned" : ", not cordoned"}`;
      if (gone.deleteUnanswered) {
        const cut =
          result.outcome === "cancelled"
            ? "the cancel came before its answer"
            : `its delete got no answer before the timeout ran out (${gone.deleteFailed ?? "no answer"})`;
        return `${gone.name}: there at the last look (${state}); ${cut}, so it may be gone: kubectl get node ${gone.name}, and kubectl delete node ${gone.name} if it is still there`;
      }
      const why = gone.deleteNotStarted
        ? `the timeout had run out, so its delete was not started: run the wait again, or kubectl delete node ${gone.name}`
        : gone.deleteFailed !== undefined
          ? `its delete failed: ${gone.deleteFailed}`
          : gone.deleteConflict
            ? `its delete at the last look was refused, the Node object having changed since that look read it (409 Conflict): run the wait again, or kubectl delete node ${gone.name}`
            : gone.ready
              ? "its kubelet still reports: is its VM destroyed?"
              : !gone.unschedulable
                ? "not cordoned, so never deleted by --delete-gone: was it drained?"
                : result.deleteGone
                  ? unsentDelete(gone.name, result)
                  : "pass --delete-gone to delete its Node object";
      return `${gone.name}: still there (${state}); ${why}`;
    }
  }
}

/**
 * A node --delete-gone would delete that the last look sent no delete for, with no reason of
 * its own: a delete of another node failed first, and a look sends no delete after one failed.
 */
function unsentDelete(name: string, result: WaitResult): string {
  const failed = result.gone.filter((g) => g.deleteFailed !== undefined).map((g) => g.name);
  const first = failed.length > 0 ? `the delete of ${failed.join(", ")} failed first` : "";
  return `its delete was not sent at the last look${first ? `: ${first}` : ""}; run the wait again, or kubectl delete node ${name}`;
}
