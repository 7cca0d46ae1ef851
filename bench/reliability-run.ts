/**
 * Runs input families and counts their outcomes; renders the figures table of
 * docs/reliability.md.
 */
import {
  crash,
  errorMessage,
  type FamilyOptions,
  type InputFamily,
  type Outcome,
  type OutcomeKind,
} from "./reliability-case.ts";

/** A case whose outcome is a crash or a broken file: something to fix. */
export interface Finding {
  id: string;
  input: string;
  kind: OutcomeKind;
  detail: string;
  stack?: string;
}

export interface FamilyReport {
  name: string;
  description: string;
  tried: number;
  counts: Record<OutcomeKind, number>;
  findings: Finding[];
  /** Ids of every case run, in order. */
  ids: string[];
}

/** A case still running after this long is a hang (a crash). */
const caseTimeoutMs = 20_000;

async function runCase(run: () => Outcome | Promise<Outcome>): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(
      () => resolve(crash(`no answer after ${caseTimeoutMs / 1000} s`)),
      caseTimeoutMs,
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(run), hang]);
  } catch (error) {
    // A case's own checks never throw: whatever escapes is the code under test's.
    return crash(`escaped the case: ${errorMessage(error)}`, error);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every case of one family and counts the outcomes. */
export async function runFamily(
  family: InputFamily,
  options: FamilyOptions,
): Promise<FamilyReport> {
  const session = await family.open(options);
  const counts: Record<OutcomeKind, number> = {
    "clear-error": 0,
    handled: 0,
    crash: 0,
    "broken-file": 0,
  };
  const findings: Finding[] = [];
  const ids: string[] = [];
  try {
    for (const trial of session.cases) {
      const outcome = await runCase(() => trial.run());
      counts[outcome.kind]++;
      ids.push(trial.id);
      if (outcome.kind === "crash" || outcome.kind === "broken-file") {
        const finding: Finding = {
          id: trial.id,
          input: trial.input,
          kind: outcome.kind,
          detail: outcome.detail,
        };
        if (outcome.stack) finding.stack = outcome.stack;
        findings.push(finding);
      }
    }
  } finally {
    await session.close();
  }
  return {
    name: family.name,
    description: family.description,
    tried: session.cases.length,
    counts,
    findings,
    ids,
  };
}

export interface TableContext {
  machine: string;
  date: string;
  options: FamilyOptions;
  node: string;
}

/** The figures as a Markdown table, one row per family and a total. */
export function formatTable(reports: readonly FamilyReport[], context: TableContext): string {
  const rows = reports.map((report) => [
    `\`${report.name}\``,
    report.description,
    report.tried,
    report.counts["clear-error"],
    report.counts.handled,
    report.counts.crash,
    report.counts["broken-file"],
  ]);
  const total = (kind: OutcomeKind) => reports.reduce((sum, r) => sum + r.counts[kind], 0);
  rows.push([
    "**total**",
    "",
    reports.reduce((sum, r) => sum + r.tried, 0),
    total("clear-error"),
    total("handled"),
    total("crash"),
    total("broken-file"),
  ]);
  const header = [
    "| Family | Inputs | Tried | Clear errors | Handled | Crashes | Files written broken |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  return [
    `Run on ${context.date} on ${context.machine} (Node.js ${context.node}), seed ${context.options.seed}, ${context.options.generated} generated inputs per family besides the hand-written ones.`,
    "",
    ...header,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
}

/** Every finding of the reports, as Markdown list items. */
export function formatFindings(reports: readonly FamilyReport[]): string {
  const findings = reports.flatMap((report) => report.findings);
  if (findings.length === 0) return "None.";
  return findings
    .map((finding) => {
      const where = firstFrame(finding.stack);
      const detail =
        finding.detail.length > 400 ? `${finding.detail.slice(0, 399)}…` : finding.detail;
      const input = finding.input.replaceAll("`", "'");
      return `- \`${finding.id}\` (${finding.kind}): ${detail}. Input: \`${input}\`${where ? `. At ${where}` : ""}`;
    })
    .join("\n");
}

/** The first stack frame inside the project's sources, as `src/file.ts:line`. */
export function firstFrame(stack: string | undefined): string | undefined {
  const match = stack ? /\/(src\/[^\s:)]+:\d+)/.exec(stack) : null;
  return match?.[1];
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`. */
export function replaceSection(document: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from < 0 || to < from) throw new Error(`the document has no ${start} … ${end} section`);
  return `${document.slice(0, from + start.length)}\n${content}\n${document.slice(to)}`;
}
