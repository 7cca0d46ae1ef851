import { relative } from "node:path";
import type { DryRunAction, FileDiff } from "../forge/dry-run/dry-run-forge.ts";
import { describeBlocker, type Verdict } from "../merge/verdict.ts";
import { formatCpu, formatMemory, formatPercent } from "../planning/format.ts";
import type { NodeDecision } from "../planning/node-decision.ts";
import type { PlannedPullRequest } from "../reconcile/pull-request-content.ts";
import { resourceReason } from "../reconcile/resources-pull-request-body.ts";
import { displayAmount } from "../rightsizing/explain-rightsizing.ts";
import { utcTime } from "../util/utc-time.ts";
import type { DemoRun } from "./demo.ts";
import type { TerminalStyle } from "./terminal-style.ts";

/** A pull request the dry run would open or update. */
type PullRequestAction = Extract<DryRunAction, { diffs: FileDiff[] }>;

export interface DemoReportOptions {
  style: TerminalStyle;
  /** Lines are kept to this many columns where they can be (prose wraps, long context lines are cut). */
  width: number;
  /** Print each pull request's body (the Markdown GitHub would render). */
  bodies: boolean;
  /** Print the dashboard issue's text. */
  dashboard: boolean;
  /** The directory paths are shown relative to. */
  cwd: string;
}

/** The demo's output: the cluster, each pull request with its verdict and diff, and what next. */
export function formatDemo(run: DemoRun, options: DemoReportOptions): string {
  const { style } = options;
  const opened = run.actions.filter(
    (action): action is PullRequestAction => action.kind === "open-pull-request",
  );
  const sections = [
    header(run, options),
    cluster(run, options),
    `${style.bold(`Pull requests it would open: ${opened.length}`)}\n`,
    ...opened.map((action, index) => pullRequest(run, action, index + 1, options)),
    waiting(run, options),
    leftAlone(run, options),
    dashboard(run, options),
    problems(run, options),
    next(options),
  ];
  return `${sections.filter((section) => section !== "").join("\n")}`;
}

function header(run: DemoRun, options: DemoReportOptions): string {
  const { style } = options;
  const where = relative(options.cwd, run.exampleDir) || ".";
  return [
    `${style.bold("pr-autoscaler")} ${style.dim("·")} demo`,
    wrap(
      `The example infra repo ${style.cyan(where)} and the cluster recorded with it (${utcTime(run.snapshot.takenAt)}), reconciled once as the GitHub App does it, with a dry run: nothing is written, nothing is opened.`,
      options.width,
      "",
    ),
    "",
  ].join("\n");
}

function cluster(run: DemoRun, options: DemoReportOptions): string {
  const { style } = options;
  const nodes = run.snapshot.nodes;
  const controlPlane = nodes.filter((node) => node.controlPlane).length;
  const ready = nodes.filter((node) => node.ready).length;
  const pending = run.snapshot.pods.filter((pod) => pod.phase === "Pending");
  const lines = [
    style.bold("Cluster"),
    `  nodes  ${nodes.length} (${controlPlane} control plane, ${nodes.length - controlPlane} workers), ${ready === nodes.length ? "all Ready" : `${ready} Ready`}`,
    `  pods   ${run.snapshot.pods.length}, ${pending.length} pending${pending.length > 0 ? `: ${pendingText(pending)}` : ""}`,
    `  VPAs   ${run.snapshot.vpas.length}`,
    ...run.result.decisions.flatMap((decision) => pool(decision, style)),
    "",
  ];
  return lines.map((line) => cut(line, options.width)).join("\n");
}

function pendingText(pods: DemoRun["snapshot"]["pods"]): string {
  const counts = new Map<string, number>();
  for (const pod of pods) {
    const key = `${pod.owner?.name ?? pod.name} (${formatCpu(pod.requests.cpu ?? 0)}, ${formatMemory(pod.requests.memory ?? 0)})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, count]) => (count > 1 ? `${count} × ${key}` : key)).join(", ");
}

function pool(decision: NodeDecision, style: TerminalStyle): string[] {
  const { cpu, memory } = decision.utilisation;
  const used = (value: number | undefined) =>
    value === undefined ? "usage unknown" : `${formatPercent(value)} used`;
  const requested = (value: number | undefined) =>
    value === undefined ? "requests unknown" : `${formatPercent(value)} requested`;
  const bounds = decision.bounds;
  const cap = bounds.hostCap !== undefined ? `, host cap ${bounds.hostCap}` : "";
  const verdict =
    decision.action === "none" || decision.desired === decision.current
      ? "no change"
      : `${decision.action === "scale-up" ? "add" : "remove"} ${Math.abs((decision.desired ?? 0) - (decision.current ?? 0))} (${decision.current} → ${decision.desired})`;
  return [
    `  pool ${style.bold(decision.pool)}  ${decision.nodes.members} nodes, ${decision.current ?? "unknown"} in ${decision.target.file} ${decision.target.path}; min ${bounds.min}, max ${bounds.max}${cap}`,
    `         cpu ${used(cpu.percent)}, ${requested(cpu.requestsPercent)}; memory ${used(memory.percent)}, ${requested(memory.requestsPercent)}`,
    `         decision: ${style.bold(verdict)}`,
  ];
}

function pullRequest(
  run: DemoRun,
  action: PullRequestAction,
  index: number,
  options: DemoReportOptions,
): string {
  const { style } = options;
  const planned = run.result.planned.find((entry) => entry.desired.key === action.key);
  const lines = [
    `${style.bold(`${String(index).padStart(2)}  ${action.title}`)}`,
    `    ${style.dim(`${action.branch} · ${action.labels.join(", ")}`)}`,
  ];
  if (planned) {
    lines.push(...verdictLines(planned.verdict, style, options.width));
    lines.push(...whyLines(planned, options.width));
  }
  lines.push(...action.diffs.flatMap((diff) => diffLines(diff, style, options.width)));
  if (options.bodies)
    lines.push(
      "",
      style.dim("    body (Markdown):"),
      ...action.body.split("\n").map((line) => `    ${line}`),
    );
  lines.push("");
  return lines.join("\n");
}

function verdictLines(verdict: Verdict, style: TerminalStyle, width: number): string[] {
  const rule = verdict.rule ? ` under rule ${verdict.rule.name} (${verdict.rule.source})` : "";
  const head =
    verdict.action === "merge"
      ? style.green(`merges itself${rule}`)
      : style.yellow(`waits for review${rule || `: ${verdict.reasons[0] ?? "no rule matched"}`}`);
  const blockers = verdict.action === "merge" ? verdict.blockedBy.map(describeBlocker) : [];
  return [
    `    auto-merge: ${head}`,
    ...blockers.map((blocker) => wrap(`                - ${blocker}`, width, "                  ")),
  ];
}

function whyLines(planned: PlannedPullRequest, width: number): string[] {
  const { proposal } = planned;
  if (proposal.kind === "nodes") {
    const triggers = proposal.reasons
      .filter((line) => /^\s+trigger: /.test(line))
      .map((line) => line.replace(/^\s+trigger: /, ""));
    return triggers.map((text, i) =>
      wrap(`    ${i === 0 ? "why:" : "    "} ${text}`, width, "         "),
    );
  }
  const items = proposal.workloads.flatMap((workload) =>
    workload.containers.flatMap((container) =>
      container.resources
        .filter((decision) => decision.action === "change" && decision.proposed !== undefined)
        .map((decision) => {
          const show = (amount: number | undefined) =>
            amount === undefined ? "unset" : displayAmount(decision.resource, amount);
          const who = workload.containers.length > 1 ? `${container.name} ` : "";
          return `${who}${decision.resource} ${show(decision.current)} → ${show(decision.proposed)}: ${resourceReason(decision)}`;
        }),
    ),
  );
  return items.map((text, i) =>
    wrap(`    ${i === 0 ? "why:" : "    "} ${text}`, width, "         "),
  );
}

function diffLines(diff: FileDiff, style: TerminalStyle, width: number): string[] {
  return diff.diff
    .replace(/\n$/, "")
    .split("\n")
    .map((line) => {
      if (line.startsWith("+++") || line.startsWith("---")) return `    ${style.bold(line)}`;
      if (line.startsWith("@@")) return `    ${style.cyan(line)}`;
      if (line.startsWith("+")) return `    ${style.green(line)}`;
      if (line.startsWith("-")) return `    ${style.red(line)}`;
      return `    ${style.dim(cut(line, width - 4))}`;
    });
}

function waiting(run: DemoRun, options: DemoReportOptions): string {
  const deferred = run.result.pullRequests.filter((outcome) => outcome.action === "deferred");
  if (deferred.length === 0) return "";
  const lines = [options.style.bold("Waiting for a later run")];
  for (const outcome of deferred) {
    const title = outcome.title ?? outcome.key;
    lines.push(wrap(`  ${title}: ${outcome.note ?? "limit reached"}`, options.width, "    "));
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Workloads the right-sizing looked at and kept as they are, one line per resource with the
 * reason (the numbers behind it are in `plan` and on the dashboard): the "why not" of the run.
 */
function leftAlone(run: DemoRun, options: DemoReportOptions): string {
  const lines: string[] = [];
  for (const note of run.result.notes) {
    if (note.level !== "info" || !note.subject?.includes("/")) continue;
    const workload = note.subject.split("/").slice(1).join("/");
    for (const line of note.message.split("\n")) {
      const kept = /^\s+((?:cpu|memory) request \S+ kept: .*?)(?: \[[^\]]*\])?$/.exec(line);
      if (kept?.[1]) lines.push(wrap(`  ${workload}: ${kept[1]}`, options.width, "    "));
    }
  }
  if (lines.length === 0) return "";
  return `${options.style.bold("Left alone")}\n${lines.join("\n")}\n`;
}

function dashboard(run: DemoRun, options: DemoReportOptions): string {
  const issue = run.actions.find(
    (action): action is Extract<DryRunAction, { kind: "ensure-issue" }> =>
      action.kind === "ensure-issue",
  );
  if (!issue) return "";
  const lines = [
    options.style.bold("Dashboard"),
    wrap(
      `  An issue "${issue.title}" keeps the pools, the decisions and their reasons, what waits and what people asked for${options.dashboard ? ":" : " (--dashboard prints it)."}`,
      options.width,
      "  ",
    ),
  ];
  if (options.dashboard) lines.push(...issue.body.split("\n").map((line) => `    ${line}`));
  return `${lines.join("\n")}\n`;
}

function problems(run: DemoRun, options: DemoReportOptions): string {
  const warnings = run.result.notes.filter((note) => note.level === "warning");
  const lines = [
    ...run.result.errors,
    ...warnings.map((note) =>
      note.subject === undefined ? note.message : `${note.subject}: ${note.message}`,
    ),
  ];
  if (lines.length === 0) return "";
  return `${options.style.bold("Notes")}\n${lines.map((line) => wrap(`  - ${line}`, options.width, "    ")).join("\n")}\n`;
}

function next(options: DemoReportOptions): string {
  const { style } = options;
  const items = [
    `Install pr-autoscaler as a GitHub App on your infra repo: README.md, "Installing the GitHub App" (docs/app.md has the details).`,
    "Describe your pools, right-sizing and auto-merge rules in .github/pr-autoscaler.yml: docs/configuration.md, docs/rightsizing.md, docs/policies.md.",
    "Try it on your own repo and cluster, writing nothing: npx pr-autoscaler plan --repo DIR (kubeconfig as for kubectl).",
    "See the pull requests' full text: npx pr-autoscaler demo --body (--dashboard for the dashboard).",
  ];
  return [
    style.bold("What next"),
    ...items.map((item) => wrap(`  - ${item}`, options.width, "    ")),
    "",
  ].join("\n");
}

/** Word-wraps one line to `width` (its leading spaces kept), continuing with `indent`. */
export function wrap(text: string, width: number, indent: string): string {
  const lead = /^ */.exec(text)?.[0] ?? "";
  const lines: string[] = [];
  let line = lead;
  for (const word of text.slice(lead.length).split(" ")) {
    const start = line === lead || line === indent;
    const candidate = start ? `${line}${word}` : `${line} ${word}`;
    if (!start && visibleLength(candidate) > width) {
      lines.push(line);
      line = `${indent}${word}`;
    } else line = candidate;
  }
  lines.push(line);
  return lines.join("\n");
}

function cut(line: string, width: number): string {
  return visibleLength(line) <= width ? line : `${line.slice(0, width - 1)}…`;
}

function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes take no columns.
  return text.replace(/\u001b\[[0-9;]*m/g, "").length;
}
