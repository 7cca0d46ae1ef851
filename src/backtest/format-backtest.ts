import { formatDuration } from "../planning/format.ts";
import type { BacktestReport, Goal } from "./backtest.ts";
import { type ExcessOverOracle, nodeTimeline, type TimelineRow } from "./node-timeline.ts";
import type { OracleResult } from "./oracle.ts";
import type { SimPullRequest } from "./sim-repo.ts";
import type { RunMetrics, RunResult } from "./simulate.ts";

interface Column {
  title: string;
  run: (metrics: RunMetrics) => string;
  oracle?: (result: OracleResult) => string;
}

const COLUMNS: Column[] = [
  {
    title: "node-hours",
    run: (m) => m.nodeHours.toFixed(1),
    oracle: (o) => o.nodeHours.toFixed(1),
  },
  { title: "pending pod-min", run: (m) => m.pendingPodMinutes.toFixed(1), oracle: () => "0.0" },
  { title: "PRs opened", run: (m) => String(m.pullRequestsOpened) },
  { title: "merged", run: (m) => String(m.pullRequestsMerged) },
  { title: "closed", run: (m) => String(m.pullRequestsClosed) },
  { title: "direction changes", run: (m) => String(m.directionChanges) },
  { title: "pods disrupted", run: (m) => String(m.podsDisrupted) },
  { title: "peak nodes", run: (m) => String(m.peakNodes), oracle: (o) => String(o.peakNodes) },
];

const ROW_NAMES = {
  planner: "planner (repo config)",
  baseline: "baseline (seed rules)",
  oracle: "oracle (lower bound)",
};

/** The comparison as text: what ran, the table of the three, and the planner's goals. */
export function formatBacktest(report: BacktestReport, configFile: string): string {
  const { options, trace } = report;
  const lines = [
    `Backtest of ${trace.name} (${trace.file}) with ${configFile}`,
    `${formatDuration(trace.durationMs)} in ${formatDuration(options.stepMs)} steps; planner every ${formatDuration(options.intervalMs)}; merge+apply ${formatDuration(options.mergeDelayMs)}; boot ${formatDuration(options.bootDelayMs)}`,
    "",
    ...comparisonTable(report),
    "",
    "Goals for the planner:",
    ...report.goals.map(
      (goal) =>
        `  ${(goal.met ? "met" : "not met").padEnd(8)} ${goal.name}: ${figure(goal.value, goal.unit)} vs ${figure(goal.limit, goal.unit)}`,
    ),
  ];
  const preempted = [report.planner, report.baseline].map((run) => run.metrics.podsPreempted);
  if (preempted.some((count) => count > 0))
    lines.push(
      "",
      `Pods preempted by pods of higher priority (not counted as disrupted): planner ${preempted[0]}, baseline ${preempted[1]}.`,
    );
  for (const warning of report.warnings) lines.push("", `Note: ${warning}.`);
  if (report.oracle.unplaceablePods > 0)
    lines.push(
      "",
      `${report.oracle.unplaceablePods === 1 ? "1 pod fits no node, fixed or of a pool, even alone: it stays" : `${report.oracle.unplaceablePods} pods fit no node, fixed or of a pool, even alone: they stay`} pending whatever the autoscaler does, and ${report.oracle.unplaceablePods === 1 ? "its" : "their"} waiting counts in the planner's and the baseline's pending pod-minutes alike (the pending goal leaves it out):`,
      ...podList(report.oracle.unplaceable),
    );
  const beyond = report.oracle.beyondMax;
  if (beyond.length > 0) {
    const [planner, baseline] = [report.planner, report.baseline].map((run) =>
      run.metrics.pendingBeyondMaxPodMinutes.toFixed(1),
    );
    lines.push(
      "",
      `${beyond.length === 1 ? "1 pod is" : `${beyond.length} pods are`} pinned by hostname to a pool node beyond the config's max: no run of this config has that node, so the oracle adds none for ${beyond.length === 1 ? "it" : "them"}, and what ${beyond.length === 1 ? "it" : "they"} waited (planner ${planner}, baseline ${baseline} pod-minutes) counts in the table's pending pod-minutes but not in the pending goal:`,
      ...podList(
        beyond.map(({ pod, line, node, pool, max }) => ({
          pod,
          line,
          after: `: ${node}, where ${pool} has max ${max}`,
        })),
      ),
    );
  }
  const fixed = report.fixedNodesOnly;
  if (fixed.pods.length > 0)
    lines.push("", fixedText(fixed.pods.length, fixed.pendingPodMinutes), ...podList(fixed.pods));
  return `${lines.join("\n")}\n`;
}

/** What the pods only fixed nodes can hold waited, said of one pod or of several. */
function fixedText(pods: number, pendingPodMinutes: number): string {
  const one = pods === 1;
  const [them, they, their] = one ? ["it", "it", "its"] : ["them", "they", "their"];
  return `${one ? "1 pod" : `${pods} pods`} that only fixed nodes can hold waited for room there: no pool's node takes ${them}, so ${they} ${one ? "waits" : "wait"} whatever the autoscaler does, and ${their} waiting while every other pod finds a node at once (${pendingPodMinutes.toFixed(1)} pod-minutes) counts in the planner's and the baseline's pending pod-minutes alike (the pending goal leaves it out, no more of it than ${they} waited in each run):`;
}

/** The first 10 pods with their trace lines, one a line, and how many more there are. */
function podList(pods: readonly { pod: string; line: number; after?: string }[]): string[] {
  const shown = pods.slice(0, 10);
  const more = pods.length - shown.length;
  return [
    ...shown.map((entry) => `  ${entry.pod} (trace line ${entry.line})${entry.after ?? ""}`),
    ...(more > 0 ? [`  and ${more} more (--json lists them all)`] : []),
  ];
}

/** Pull requests as whole numbers, hours and minutes to one decimal as in the table. */
function figure(value: number, unit: Goal["unit"]): string {
  return unit === "pull requests" ? String(value) : value.toFixed(1);
}

/** The three rows of figures with a header line, columns aligned. */
export function comparisonTable(report: BacktestReport): string[] {
  const rows: string[][] = [
    ["", ...COLUMNS.map((column) => column.title)],
    [ROW_NAMES.planner, ...COLUMNS.map((column) => column.run(report.planner.metrics))],
    [ROW_NAMES.baseline, ...COLUMNS.map((column) => column.run(report.baseline.metrics))],
    [ROW_NAMES.oracle, ...COLUMNS.map((column) => column.oracle?.(report.oracle) ?? "-")],
  ];
  return alignRows(rows);
}

/** Left-aligns the first column and right-aligns the others. */
export function alignRows(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return rows.map((row) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

/**
 * Every pull request of both runs, one a line, times from the trace's start; then the planner's
 * pool nodes against the oracle's over the trace, and where its node-hours differ from the
 * oracle's.
 */
export function formatTimeline(report: BacktestReport): string {
  const lines: string[] = [];
  for (const run of [report.planner, report.baseline]) {
    lines.push(
      "",
      `${run === report.planner ? ROW_NAMES.planner : ROW_NAMES.baseline} pull requests:`,
    );
    if (run.pullRequests.length === 0) lines.push("  none");
    for (const pr of run.pullRequests) lines.push(`  ${pullRequestLine(pr)}`);
  }
  const timeline = nodeTimeline(
    report.planner.series,
    report.oracle.series,
    report.trace.durationMs,
  );
  lines.push(
    "",
    `Pool nodes over time, planner against oracle (booting machines included; per ${formatDuration(timeline.bucketMs)}):`,
    ...alignRows([TIMELINE_HEADER, ...timeline.rows.map(timelineRow)]).map((line) => `  ${line}`),
    "",
    ...formatExcess(timeline.excess),
  );
  return `${lines.join("\n")}\n`;
}

const TIMELINE_HEADER = [
  "from",
  "planner nodes",
  "node-hours",
  "oracle nodes",
  "node-hours",
  "difference",
  "pending pod-min",
];

function timelineRow(row: TimelineRow): string[] {
  const range = (span: { min: number; max: number }) =>
    span.min === span.max ? String(span.min) : `${span.min}–${span.max}`;
  return [
    clock(row.from),
    range(row.run),
    row.run.nodeHours.toFixed(2),
    range(row.oracle),
    row.oracle.nodeHours.toFixed(2),
    signed(row.run.nodeHours - row.oracle.nodeHours),
    row.run.pendingPodMinutes.toFixed(1),
  ];
}

/**
 * The planner's node-hours over (or under) the oracle's, split by what the surplus nodes were
 * doing: one line for the total and one for each part. Node-hours under the oracle's while no
 * pod that a pool node could hold waited get a line of their own, when there are any, so that
 * pods are not said to have waited for them.
 */
export function formatExcess(excess: ExcessOverOracle): string[] {
  const waited = excess.belowOracle - excess.belowOracleNoneWaiting;
  const parts: [number, string][] = [
    [excess.emptyNodes, "Ready nodes without pods (scale-down not due yet, or not allowed)"],
    [excess.bootingNodes, "machines still booting"],
    [excess.occupiedNodes, "nodes running pods that the oracle packs onto fewer nodes"],
    [waited, "fewer nodes than the oracle (pods waited for nodes instead)"],
  ];
  if (signed(excess.belowOracleNoneWaiting) !== "+0.00")
    parts.push([
      excess.belowOracleNoneWaiting,
      "fewer nodes than the oracle while no pod waited for a pool node (config min below the trace's, or bare pods evicted for good)",
    ]);
  const width = Math.max(...parts.map(([value]) => signed(value).length));
  return [
    `Planner minus oracle: ${signed(excess.total)} node-hours`,
    ...parts.map(([value, text]) => `  ${signed(value).padStart(width)}  ${text}`),
  ];
}

/** Node-hours to two decimals with their sign; a zero that rounds from below shows as +0.00. */
function signed(value: number): string {
  const text = value.toFixed(2);
  return text.startsWith("-") && Number(text) !== 0 ? text : `+${text.replace("-", "")}`;
}

function pullRequestLine(pr: SimPullRequest): string {
  const end =
    pr.state === "merged"
      ? `merged ${clock(pr.mergedAt ?? 0)}`
      : pr.state === "closed"
        ? `closed ${clock(pr.closedAt ?? 0)}`
        : "still open";
  const updates = pr.updates > 0 ? `, updated ${pr.updates}×` : "";
  return `#${pr.number} ${clock(pr.openedAt)} ${pr.pool} ${pr.from} → ${pr.desired}, ${end}${updates} (${pr.reason})`;
}

/** Milliseconds from the start as hh:mm:ss (hours go past 24 on longer traces). */
export function clock(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}

/** The report as plain data for `--json`: times in seconds, figures unrounded. */
export function backtestJson(report: BacktestReport, configFile: string): unknown {
  const seconds = (ms: number) => ms / 1000;
  const run = (result: RunResult) => ({
    metrics: result.metrics,
    pullRequests: result.pullRequests.map(
      ({ mergeAt: _due, openedAt, mergedAt, closedAt, ...pr }) => ({
        ...pr,
        openedAt: seconds(openedAt),
        ...(mergedAt !== undefined ? { mergedAt: seconds(mergedAt) } : {}),
        ...(closedAt !== undefined ? { closedAt: seconds(closedAt) } : {}),
      }),
    ),
    changes: result.changes.map((change) => ({ ...change, at: seconds(change.at) })),
  });
  const { durationMs, ...trace } = report.trace;
  return {
    trace: { ...trace, durationSeconds: seconds(durationMs) },
    config: configFile,
    options: {
      stepSeconds: seconds(report.options.stepMs),
      intervalSeconds: seconds(report.options.intervalMs),
      bootDelaySeconds: seconds(report.options.bootDelayMs),
      mergeDelaySeconds: seconds(report.options.mergeDelayMs),
    },
    planner: run(report.planner),
    baseline: run(report.baseline),
    oracle: {
      nodeHours: report.oracle.nodeHours,
      peakNodes: report.oracle.peakNodes,
      unplaceablePods: report.oracle.unplaceablePods,
      unplaceable: report.oracle.unplaceable,
      beyondMax: report.oracle.beyondMax,
      boundedSteps: report.oracle.boundedSteps,
    },
    fixedNodesOnly: report.fixedNodesOnly,
    timeline: timelineJson(report),
    goals: report.goals,
    warnings: report.warnings,
  };
}

/** The node timeline for `--json`: spans and their start in seconds, figures unrounded. */
function timelineJson(report: BacktestReport): unknown {
  const timeline = nodeTimeline(
    report.planner.series,
    report.oracle.series,
    report.trace.durationMs,
  );
  return {
    spanSeconds: timeline.bucketMs / 1000,
    rows: timeline.rows.map(({ from, to, run, oracle }) => ({
      fromSeconds: from / 1000,
      toSeconds: to / 1000,
      planner: run,
      oracle,
    })),
    plannerMinusOracle: timeline.excess,
  };
}
