import { redactSecrets } from "../apply/report-redact.ts";
import { USAGE } from "../control/command.ts";
import { type ControlState, controlMarker, recordedLastComment } from "../control/control-state.ts";
import { rejectionText } from "../control/rejections.ts";
import type { ClosedBotPullRequest, DesiredIssue } from "../forge/forge.ts";
import type { IssueMarker } from "../forge/marker.ts";
import type { MergeRefusal } from "../merge/merge-refusal.ts";
import { explainNodeDecision, scheduleText } from "../planning/explain-node-decision.ts";
import { formatDuration } from "../planning/format.ts";
import { gapsClosed } from "../planning/last-node.ts";
import type { NodeDecision, ScaleDownCondition } from "../planning/node-decision.ts";
import type { PlanNote } from "../planning/proposal.ts";
import type { ResourceUtilisation, SustainedCheck } from "../planning/utilisation.ts";
import type { ConfigIssue } from "../policy/load-repo-config.ts";
import { counted } from "../util/plural.ts";
import { utcTime } from "../util/utc-time.ts";
import { heldText } from "./ledger-step.ts";
import { bullets, code, details, sections, table } from "./markdown.ts";
import type { HeldPool } from "./repository-ledger.ts";

export const DASHBOARD_KEY = "dashboard";
export const DASHBOARD_TITLE = "pr-autoscaler dashboard";

/** The dashboard's hidden issue marker, as the forge writes it for `dashboardIssue`. */
export function dashboardMarker(control: ControlState): IssueMarker {
  return { key: DASHBOARD_KEY, lastComment: recordedLastComment(control) };
}

/** The dashboard as the forge's `ensureIssue` takes it. */
export function dashboardIssue(control: ControlState, body: string, open = true) {
  return {
    key: DASHBOARD_KEY,
    title: DASHBOARD_TITLE,
    body,
    lastComment: recordedLastComment(control),
    ...(open ? {} : { open }),
  } satisfies DesiredIssue;
}

/** A proposal that waits, and why (a limit, a pause). */
export interface WaitingProposal {
  key: string;
  title: string;
  reason: string;
}

/** An open pull request of the bot as the dashboard lists it. */
export interface OpenLine {
  /** Undefined for one a dry run would open. */
  number: number | undefined;
  title: string;
  /** People took it over: the bot leaves it alone. */
  leftToPeople: boolean;
  /** GitHub refused to merge it, for a reason that does not clear by itself. */
  mergeRefusal?: MergeRefusal;
}

export interface DashboardInput {
  control: ControlState;
  configIssues?: readonly ConfigIssue[];
  /** Why the cluster could not be read, when it could not. */
  clusterError?: string;
  decisions: readonly NodeDecision[];
  open: readonly OpenLine[];
  recentlyClosed: readonly ClosedBotPullRequest[];
  waiting: readonly WaitingProposal[];
  /** Notes of the plan (right-sizing candidates and holds, requests, ignores). */
  notes: readonly PlanNote[];
  /** Snapshot warnings, when it was incomplete: the first 20, those that made it so first. */
  snapshotWarnings?: readonly string[];
  /** How many more warnings the snapshot has than `snapshotWarnings` lists. */
  snapshotWarningsNotShown?: number;
  /** Pools whose nodes pools of other repositories manage: nothing is proposed for them. */
  heldPools?: readonly HeldPool[];
}

/**
 * The dashboard issue's body. It holds only what changes slowly (counts, decisions, reasons,
 * usage rounded to 5 %), so it is rewritten only when something a person would notice changed.
 * The command state comes first, hidden, so shortening a long body never cuts it.
 */
export function renderDashboard(input: DashboardInput): string {
  return sections(
    controlMarker(input.control),
    "pr-autoscaler keeps this issue up to date with what it sees and decides. Comment commands here or on its pull requests (see the end).",
    pausedSection(input.control),
    configSection(input.configIssues),
    clusterErrorSection(input.clusterError, input.snapshotWarnings, input.snapshotWarningsNotShown),
    poolsSection(input.decisions),
    heldPoolsSection(input.heldPools),
    decisionsSection(input.decisions),
    scaleDownSection(input.decisions),
    pullRequestsSection(input),
    notesSection(input.notes),
    activitySection(input.recentlyClosed),
    `## Commands\n\n${USAGE.split("\n")
      .map((line) => `- ${line}`)
      .join("\n")}\n\nOnly people with write access are obeyed.`,
  );
}

function pausedSection(control: ControlState): string {
  const lines: string[] = control.unreadable ? unreadableText(control.unreadable.problem) : [];
  if (control.paused.all)
    lines.push(
      `**Paused** by @${control.paused.all.by} (${utcTime(control.paused.all.at)}): no pull request is opened, updated, closed or merged. \`/autoscaler resume\` undoes it.`,
    );
  for (const [pool, record] of Object.entries(control.paused.pools).sort())
    lines.push(`Pool ${code(pool)} **paused** by @${record.by} (${utcTime(record.at)}).`);
  for (const [pool, request] of Object.entries(control.scale).sort())
    lines.push(
      `Pool ${code(pool)}: @${request.by} asked for ${request.count} nodes (${utcTime(request.at)}).`,
    );
  for (const [key, record] of Object.entries(control.ignored).sort())
    lines.push(`${code(key)} ignored at the request of @${record.by} (${utcTime(record.at)}).`);
  for (const [pool, record] of Object.entries(control.rejected).sort())
    lines.push(`${rejectionText(pool, record)}.`);
  return lines.length === 0 ? "" : lines.map((line) => `> ${line}`).join("\n>\n");
}

/** What a dashboard whose command state cannot be read says, and what people can do. */
function unreadableText(problem: string): string[] {
  return [
    `**Everything is paused: the command state of this issue could not be read.** pr-autoscaler keeps the pauses, requested counts, ignored changes and "no"s people gave in a hidden block at the top of this issue's text (the HTML comment \`pr-autoscaler:control\`), and ${problem}. Not knowing which of them stand, it opens, updates, closes and merges no pull request; it still plans, and this issue shows what it sees.`,
    `\`/autoscaler resume\` restores normal work and writes the block anew: what it held is forgotten, so give again the commands that should stand. Commands given after the last one pr-autoscaler took before the block was lost are taken; earlier ones are not taken again. To keep what it held instead, put the block back as it was (this issue's edit history has it).`,
  ];
}

function configSection(issues: readonly ConfigIssue[] | undefined): string {
  if (!issues?.length) return "";
  const items = issues.map((issue) => {
    const where = `${issue.file}:${issue.line}:${issue.column}`;
    return `${code(where)} ${issue.path ? `${code(issue.path)}: ` : ""}${issue.message}`;
  });
  return `## Configuration errors\n\nNothing changes until these are fixed; pull requests stay as they are.\n\n${bullets(items)}`;
}

function clusterErrorSection(
  error: string | undefined,
  warnings: readonly string[] | undefined,
  notShown = 0,
): string {
  const parts: string[] = [];
  // Errors quote what servers answered; the dashboard may be public: secret shapes go, as in logs.
  const clean = (text: string) => redactSecrets(text, {});
  if (error)
    parts.push(`## Cluster\n\nThe cluster could not be read, so nothing changes: ${clean(error)}`);
  if (warnings?.length) {
    const more =
      notShown > 0 ? `\n\n${counted(notShown, "more warning", "more warnings")} not shown.` : "";
    parts.push(
      `The snapshot is incomplete, so no node is added or removed:\n\n${bullets(warnings.map(clean))}${more}`,
    );
  }
  return parts.join("\n\n");
}

function poolsSection(decisions: readonly NodeDecision[]): string {
  if (decisions.length === 0) return "";
  const rows = decisions.map((decision) => [
    decision.pool,
    `${decision.nodes.members} (${decision.nodes.ready} Ready)`,
    decision.current === undefined ? "unknown" : String(decision.current),
    `${decision.bounds.effectiveMin}–${decision.bounds.effectiveMax}`,
    `${rounded(decision.utilisation.cpu.percent)} / ${rounded(decision.utilisation.memory.percent)}`,
    `${rounded(decision.utilisation.cpu.requestsPercent)} / ${rounded(decision.utilisation.memory.requestsPercent)}`,
    action(decision),
  ]);
  return `## Pools\n\n${table(["Pool", "Nodes", "In the repo", "Bounds", "Used cpu / memory", "Requested cpu / memory", "Decision"], rows)}`;
}

/** Usage to the nearest 5 %, so the dashboard is not rewritten for every small move. */
function rounded(percent: ResourceUtilisation["percent"]): string {
  return percent === undefined ? "unknown" : `~${Math.round(percent / 5) * 5} %`;
}

function action(decision: NodeDecision): string {
  if (decision.action === "none" || decision.desired === decision.current) return "no change";
  const verb = decision.action === "scale-up" ? "add" : "remove";
  const count = Math.abs((decision.desired ?? 0) - (decision.current ?? 0));
  return `${verb} ${count} (→ ${decision.desired})`;
}

function heldPoolsSection(held: readonly HeldPool[] | undefined): string {
  if (!held?.length) return "";
  const items = held.map((hold) => `${code(hold.pool)} is held: ${heldText(hold)}`);
  return `## Pools another repository manages\n\n${bullets(items)}`;
}

/**
 * The lines of each pool's explanation that a person may have to act on: triggers, holds, what
 * refused a removal, and the pending pods no node is added for (never fitting, fit unknown,
 * beyond the max or the host cap). Expendable pods wait for room by design, and are left out.
 */
function decisionsSection(decisions: readonly NodeDecision[]): string {
  const items = decisions.flatMap((decision) =>
    explainNodeDecision(decision)
      .filter((line) =>
        /^\s+(hold|never fits|fit unknown|beyond max|beyond host cap|not removed|trigger): /.test(
          line,
        ),
      )
      .map((line) => `${code(decision.pool)} ${stable(line.trim())}`),
  );
  return items.length === 0 ? "" : `## Why\n\n${bullets(items)}`;
}

/**
 * A percent in a reason, with the sign of a change written against it (`−65.4 %`, `+25 %`; a
 * margin's `+ 20 %` is no sign).
 */
const PERCENT = /([+−]?)(\d+(?:\.\d+)?) %/g;

/**
 * What comes before a threshold or another configured figure: a relation (`< 50 %`), `not below
 * 50 %`, `the scale-down threshold of 50 %`, `tolerance 20 %`, `more than 20 %`, a margin's
 * `+ 10 %`. Such a figure is stable, and shown as it is.
 */
const CONFIGURED =
  /(?:[<>≤≥]|\bbelow|\babove|\bthreshold of|\btolerance|\btolerance of|\bmore than|\bat most|\bmaxChange|\+) $/;

/**
 * The measured percentages in a reason rounded like the table's, so that the text does not move
 * with them; thresholds and other configured figures are left as they are. A measured figure
 * stays on its side of the threshold in its clause (the next one, else the one before): 49.7
 * against 50 reads `~45 %`, never `~50 % < 50 %`.
 */
function stable(text: string): string {
  return text.split("; ").map(stableClause).join("; ");
}

function stableClause(clause: string): string {
  const figures = [...clause.matchAll(PERCENT)].map((match) => ({
    at: match.index,
    end: match.index + match[0].length,
    sign: match[1] as string,
    value: Number(match[2]),
    configured: CONFIGURED.test(clause.slice(0, match.index)),
  }));
  const thresholds = figures.filter((figure) => figure.configured);
  let out = "";
  let from = 0;
  for (const figure of figures) {
    if (figure.configured) continue;
    const threshold =
      thresholds.find((t) => t.at > figure.at) ?? thresholds.findLast((t) => t.at < figure.at);
    // A signed change is rounded as a whole, as a person writes it: `~−65 %`, not `−~65 %`.
    out += `${clause.slice(from, figure.at)}~${figure.sign}${roundedBeside(figure.value, threshold?.value)} %`;
    from = figure.end;
  }
  return out + clause.slice(from);
}

/** To the nearest 5, or to the nearest 5 on the value's own side of the threshold. */
function roundedBeside(value: number, threshold: number | undefined): number {
  const near = Math.round(value / 5) * 5;
  if (threshold === undefined || Math.sign(near - threshold) === Math.sign(value - threshold))
    return near;
  if (value === threshold) return value;
  return value < threshold ? Math.ceil(threshold / 5) * 5 - 5 : Math.floor(threshold / 5) * 5 + 5;
}

function scaleDownSection(decisions: readonly NodeDecision[]): string {
  const parts: string[] = [];
  for (const decision of decisions) {
    if (!decision.scaleDown.enabled || decision.action !== "none") continue;
    const unmet = decision.scaleDown.conditions
      .filter((condition) => !condition.met)
      .map(conditionText);
    const blockers = decision.blockers
      .filter((entry) => entry.blockers.length > 0)
      .map((entry) => [
        entry.node,
        entry.blockers
          .map((b) => (b.pod === undefined ? `the node (${b.annotation})` : `${b.pod} (${b.kind})`))
          .join(", "),
      ]);
    if (unmet.length === 0 && blockers.length === 0) continue;
    parts.push(
      sections(
        `### ${decision.pool}`,
        unmet.length > 0 ? `No node is removed because:\n\n${bullets(unmet)}` : "",
        blockers.length > 0 ? table(["Node", "What keeps it"], blockers) : "",
      ),
    );
  }
  return parts.length === 0 ? "" : `## Scale-down\n\n${parts.join("\n\n")}`;
}

function conditionText(condition: ScaleDownCondition): string {
  switch (condition.kind) {
    case "utilisation":
      return utilisationText(condition.check);
    case "requests":
      return condition.percent === undefined
        ? `${condition.resource} requests are unknown${condition.unread ? ` (${condition.unread.join(", ")} not read in full)` : ""}`
        : `${condition.resource} requests are not below ${condition.threshold} %`;
    case "above-min":
      return `the count is not above the min of ${condition.min}${scheduleText(condition)}`;
    case "candidate":
      return `no node to remove: ${condition.problem ?? "unknown"}`;
    case "not-cordoned":
      return `${condition.node} is cordoned`;
    case "gpu-advertised":
      return `${condition.node}'s ${condition.resources.join(" and ")} is not advertised yet`;
    case "no-blockers":
      return condition.unread && condition.blockers.length === 0
        ? `${condition.node}'s blockers are unknown (${condition.unread.join(", ")} not read in full)`
        : `${condition.node} has ${counted(condition.blockers.length, "blocker")}`;
    case "pods-fit":
      return condition.unread && condition.unplaced.length === 0
        ? `whether the pods of ${condition.node} fit on the other nodes is unknown (${condition.unread.join(", ")} not read in full)`
        : `the pods of ${condition.node} would not fit on the other nodes`;
    case "projection": {
      const what = condition.requestsOf ? `${condition.requestsOf} requests` : condition.resource;
      return condition.projected === undefined
        ? `without a node, ${what} would be unknown`
        : `without a node, ${what} would be at or above ${condition.limit} %`;
    }
    case "last-node": {
      const { daemonSets, ...configured } = condition;
      return daemonSets && gapsClosed(configured)
        ? `${condition.node} is the pool's last node, and the room on a new node without it is unknown (the cluster's DaemonSets)`
        : `${condition.node} is the pool's last node, and newNode does not tell a new node's shape without it`;
    }
  }
}

/**
 * Why usage keeps the node, without the figures (the issue is not rewritten as they move): it is
 * unknown, below the threshold but not shown over the window yet, or not below it.
 */
function utilisationText(check: SustainedCheck): string {
  const { resource, threshold, windowMs } = check;
  if (check.outcome === "unknown") return `${resource} usage is unknown`;
  if (check.outcome === "no-evidence")
    return `${resource} usage is below ${threshold} % now, but not shown to have stayed there for ${formatDuration(windowMs)} yet`;
  return windowMs === 0
    ? `${resource} usage is not below ${threshold} %`
    : `${resource} usage has not stayed below ${threshold} % for ${formatDuration(windowMs)}`;
}

function pullRequestsSection(input: DashboardInput): string {
  const open = input.open.map((pr) => {
    if (pr.number === undefined) return `${pr.title} (opened now)`;
    const line = `#${pr.number} ${pr.title}${pr.leftToPeople ? " (left to people)" : ""}`;
    return pr.mergeRefusal ? `${line}: ${refusalText(pr.mergeRefusal)}` : line;
  });
  const waiting = input.waiting.map(
    (entry) => `${entry.title} (${code(entry.key)}): waits, ${entry.reason}`,
  );
  if (open.length === 0 && waiting.length === 0) return "## Pull requests\n\nNone open.";
  return sections(
    "## Pull requests",
    bullets(open),
    waiting.length > 0 ? `Not opened yet:\n\n${bullets(waiting)}` : "",
  );
}

/** GitHub's reason on one line (a ruleset's answer spans several), then what to do. */
function refusalText(refusal: MergeRefusal): string {
  const reason = refusal.message
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(" ");
  return `**GitHub refuses to merge it**: ${reason} ${refusal.advice}`;
}

function notesSection(notes: readonly PlanNote[]): string {
  // A held pool's note is its whole explanation: its holds are under "Why" already, and its
  // usage figures would rewrite the issue at every reconcile. The pending pods that add no node
  // are under "Why" too, with their pool, warning or not, and so is the max a raise stops at
  // (the note that carries its hold).
  const warnings = notes
    .filter(
      (note) =>
        note.level === "warning" &&
        note.decision === undefined &&
        note.holds === undefined &&
        note.subject !== "pods",
    )
    .map(noteText);
  const infos = notes
    // Pods the scheduler has yet to judge, or failed on a moment ago and tries again, come and
    // go within seconds; late ones are a warning. The pending pods that add no node are under
    // "Why", with their pool.
    .filter(
      (note) =>
        note.level === "info" &&
        !note.subject?.startsWith("pool/") &&
        note.subject !== "pods" &&
        note.subject !== "unjudged-pods" &&
        note.subject !== "scheduler-failed",
    );
  // Notes on the configuration (a schedule whose min the host cap lowers) are about no change.
  const config = infos.filter((note) => note.subject === "config").map(noteText);
  const changes = infos.filter((note) => note.subject !== "config").map(noteText);
  if (warnings.length === 0 && infos.length === 0) return "";
  return sections(
    "## Right-sizing and other notes",
    bullets(warnings),
    config.length > 0
      ? details(`${counted(config.length, "note")} on the configuration`, bullets(config))
      : "",
    changes.length > 0
      ? details(`${counted(changes.length, "note")} on changes not proposed`, bullets(changes))
      : "",
  );
}

function noteText(note: PlanNote): string {
  return `${note.subject ? `${code(note.subject)}: ` : ""}${stable(note.message.split("\n").join("; "))}`;
}

function activitySection(closed: readonly ClosedBotPullRequest[]): string {
  if (closed.length === 0) return "";
  const items = closed
    .slice(0, 10)
    .map(
      (pr) =>
        `#${pr.number} ${pr.title}: ${pr.mergedAt ? `merged ${pr.mergedAt.slice(0, 10)}` : `closed ${pr.closedAt.slice(0, 10)}`}`,
    );
  return `## Recent pull requests\n\n${bullets(items)}`;
}
