/**
 * Faults and concurrency: GitHub failing at each step of the bot's pull request work, the
 * Kubernetes API failing or serving partial data, processes killed between steps, and two
 * replicas under a storm of duplicate webhooks. Each run is judged by four figures: duplicate
 * pull requests (goal 0), half-made pull requests left after the next reconcile (goal 0),
 * scale-downs proposed on missing data (goal 0), and recovery on the next reconcile (goal all).
 * docs/reliability.md, "Faults and concurrency", says how each is judged.
 *
 *   node bench/reliability-faults.ts [--reduced]
 *
 * prints the table; `npm run bench:reliability` also writes it into docs/reliability.md.
 */
import { parseArgs } from "node:util";
import nock from "nock";
import { DELIVERIES, runConcurrency } from "./reliability-faults-concurrency.ts";
import {
  type FaultKind,
  type FaultRow,
  gitHubFaultKinds,
  type PhaseSteps,
  runGitHubFaults,
} from "./reliability-faults-github.ts";
import { KUBE_TIMEOUT_MS, runKubeFaults } from "./reliability-faults-kube.ts";
import { REQUEST_TIMEOUT_MS } from "./reliability-faults-world.ts";

export type { FaultRow } from "./reliability-faults-github.ts";

export interface FaultReport {
  rows: FaultRow[];
  /** The requests of each phase, from its run without faults: the steps faults are put at. */
  phases: { phase: string; steps: string[] }[];
  /** Requests GitHub's REST API description does not allow (goal: none). */
  problems: string[];
  reduced: boolean;
}

export interface FaultOptions {
  /**
   * A smaller set for the test: GitHub faults only at the requests that write, one kind per
   * step in turn (every kind several times); every Kubernetes fault; the concurrency run.
   */
  reduced?: boolean;
}

const WRITE = /^(POST|PATCH|PUT|DELETE) /;

/** Each write step of each phase with one kind, the kinds taken in turn across all of them. */
function reducedPlan(): (phase: PhaseSteps) => { step: number; kinds: FaultKind[] }[] {
  let turn = 0;
  return (phase) =>
    phase.steps.flatMap((call, i) =>
      WRITE.test(call)
        ? [
            {
              step: i + 1,
              kinds: [gitHubFaultKinds[turn++ % gitHubFaultKinds.length] as FaultKind],
            },
          ]
        : [],
    );
}

/**
 * Runs every fault scenario (or the reduced set) and returns its rows. Switches nock on for
 * api.github.com and leaves 127.0.0.1 (the fake API servers and the app's own) reachable.
 */
export async function runReliabilityFaults(options: FaultOptions = {}): Promise<FaultReport> {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
  try {
    const github = await runGitHubFaults(options.reduced ? { plan: reducedPlan() } : {});
    const kube = await runKubeFaults();
    const concurrency = await runConcurrency();
    return {
      rows: [...github.rows, ...kube, concurrency],
      phases: github.recorded.map(({ phase, steps }) => ({ phase, steps })),
      problems: github.problems,
      reduced: options.reduced ?? false,
    };
  } finally {
    nock.cleanAll();
    nock.enableNetConnect();
  }
}

// ---- rendering ---------------------------------------------------------------------------------

interface Group {
  fault: string;
  step: string;
  rows: FaultRow[];
}

/** GitHub rows grouped by phase and kind (one row per step is too many to read). */
function groups(report: FaultReport): Group[] {
  const found = new Map<string, Group>();
  for (const row of report.rows) {
    const phase = /^(\w+) \d+: /.exec(row.step)?.[1];
    const key = phase ? `${phase}\u0000${row.fault}` : `${row.step}\u0000${row.fault}`;
    let group = found.get(key);
    if (!group) {
      const steps = report.phases.find((p) => p.phase === phase)?.steps.length ?? 0;
      const step = phase
        ? `${report.reduced ? "some" : "each"} of the ${steps} requests of the \`${phase}\` reconcile`
        : row.step;
      group = { fault: row.fault, step, rows: [] };
      found.set(key, group);
    }
    group.rows.push(row);
  }
  // GitHub rows by phase, then kind; the others as they ran.
  const rank = (group: Group) => {
    const phase = report.phases.findIndex((p) => group.rows[0]?.step.startsWith(`${p.phase} `));
    const kind = gitHubFaultKinds.findIndex((k) => k.name === group.fault);
    return phase < 0 ? Infinity : phase * gitHubFaultKinds.length + kind;
  };
  return [...found.values()].sort((a, b) => rank(a) - rank(b));
}

function sum(rows: readonly FaultRow[], pick: (row: FaultRow) => number | null): string {
  if (rows.every((row) => pick(row) === null)) return "–";
  return String(rows.reduce((total, row) => total + (pick(row) ?? 0), 0));
}

function recovered(rows: readonly FaultRow[]): string {
  const runs = rows.reduce((total, row) => total + row.runs, 0);
  const done = rows.reduce((total, row) => total + row.recovered, 0);
  const percent = runs === 0 ? 0 : (done / runs) * 100;
  return `${done}/${runs} (${Number.isInteger(percent) ? percent : percent.toFixed(1)} %)`;
}

function line(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

/** The figures as markdown: the table, the steps faults were put at, and what went wrong. */
export function renderFaultTable(report: FaultReport, when = new Date()): string {
  const runs = report.rows.reduce((total, row) => total + row.runs, 0);
  const out = [
    `Run on ${when.toISOString().slice(0, 10)} (Node.js ${process.versions.node}): ${runs} runs${
      report.reduced ? " (the reduced set)" : ""
    }; GitHub requests time out after ${REQUEST_TIMEOUT_MS} ms, Kubernetes requests after ${KUBE_TIMEOUT_MS / 1000} s; ${DELIVERIES} deliveries in the concurrency run.`,
    "",
    line([
      "Fault",
      "Injected at",
      "Runs",
      "Duplicate PRs",
      "Half-made PRs left",
      "Scale-downs on missing data",
      "Recovered on the next reconcile",
    ]),
    line(["---", "---", "---:", "---:", "---:", "---:", "---:"]),
  ];
  for (const group of groups(report)) {
    out.push(
      line([
        group.fault,
        group.step,
        String(group.rows.reduce((total, row) => total + row.runs, 0)),
        sum(group.rows, (row) => row.duplicatePRs),
        sum(group.rows, (row) => row.halfMadeLeft),
        sum(group.rows, (row) => row.scaleDownOnMissingData),
        recovered(group.rows),
      ]),
    );
  }
  out.push(
    line([
      "**total**",
      "",
      String(runs),
      sum(report.rows, (row) => row.duplicatePRs),
      sum(report.rows, (row) => row.halfMadeLeft),
      sum(report.rows, (row) => row.scaleDownOnMissingData),
      recovered(report.rows),
    ]),
    "",
    "The steps, as recorded from each reconcile without faults:",
    "",
  );
  for (const { phase, steps } of report.phases) {
    const calls = steps.map((call, i) => `${i + 1}. ${call.split("?")[0]}`).join(" · ");
    out.push(`- \`${phase}\`: ${calls}`);
  }
  const missed = report.rows.filter((row) => row.notes.length > 0);
  out.push("", "Runs that missed a goal:", "");
  if (missed.length === 0 && report.problems.length === 0) out.push("None.");
  for (const row of missed) out.push(`- ${row.fault} at ${row.step}: ${row.notes.join("; ")}`);
  for (const problem of report.problems) out.push(`- a request GitHub does not allow: ${problem}`);
  const remarks = report.rows.flatMap((row) =>
    (row.remarks ?? []).map((r) => `${row.fault}: ${r}`),
  );
  if (remarks.length > 0) out.push("", "Remarks:", "", ...remarks.map((r) => `- ${r}`));
  return out.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { reduced: { type: "boolean", default: false } } });
  const started = performance.now();
  const report = await runReliabilityFaults({ reduced: values.reduced });
  process.stdout.write(`${renderFaultTable(report)}\n`);
  process.stdout.write(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
}
