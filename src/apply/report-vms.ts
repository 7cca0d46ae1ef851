import { code, codeBlock, count, details, listing, table, tail, text } from "./report-markdown.ts";
import type { GuardVerdict } from "./report-verdict.ts";

/** GitHub refuses commit status descriptions longer than this. */
const STATUS_DESCRIPTION_LENGTH = 140;

/** A commit status as GitHub takes it. */
export interface CommitStatus {
  state: "pending" | "success" | "failure" | "error";
  context: string;
  description: string;
  targetUrl: string | undefined;
}

/** What a report says about one run, before it is sent anywhere. */
export interface RenderedReport {
  /** The comment's markdown, without the hidden marker. */
  body: string;
  status: CommitStatus;
}

/** The facts every comment ends with: the commit and the run that wrote it. */
export interface ReportOrigin {
  pool: string | undefined;
  sha: string;
  runUrl: string | undefined;
}

/** `3 → 4 workers` (or `3 workers, unchanged`), or undefined when the change is not known. */
export function workerChange(verdict: GuardVerdict | undefined): string | undefined {
  const expected = verdict?.expected;
  if (!expected) return undefined;
  const workers = expected.to === 1 ? "worker" : "workers";
  if (expected.from === expected.to) return `${expected.to} ${workers}, unchanged`;
  return `${expected.from} → ${expected.to} ${workers}`;
}

/** The line under a heading: pool and worker change, each when known. */
export function poolLine(pool: string | undefined, verdict: GuardVerdict | undefined): string {
  const parts: string[] = [];
  if (pool !== undefined) parts.push(`Pool ${code(pool)}`);
  const change = workerChange(verdict);
  if (change !== undefined) parts.push(`**${change}**`);
  return parts.join(": ");
}

/** One row per VM the plan creates or destroys, with the node each one is or becomes. */
export function vmTable(verdict: GuardVerdict): string | undefined {
  const rows = [
    ...verdict.creates.map((vm) => [
      "create",
      vm.name === null ? "(name not in the plan)" : code(vm.name),
      code(vm.address),
      "joins the pool once Ready",
    ]),
    ...verdict.destroys.map((vm) => [
      "destroy",
      vm.name === null ? "(name not in the plan)" : code(vm.name),
      code(vm.address),
      vm.node === null ? "unknown: cannot be drained" : `${code(vm.node)}, drained first`,
    ]),
  ];
  if (rows.length === 0) return undefined;
  return table(["Change", "VM", "Terraform address", "Kubernetes node"], rows);
}

/** The companions and allowed updates, on one line. */
export function alsoAllowedLine(verdict: GuardVerdict): string | undefined {
  if (verdict.alsoAllowed.length === 0) return undefined;
  const items = verdict.alsoAllowed.map(
    (change) => `${code(change.address)} (${text(change.actions.join(", "))})`,
  );
  return `Also in the plan, allowed with these VMs: ${listing(items)}.`;
}

/** Refused changes, one row each with the guard's reason. */
export function offendingTable(verdict: GuardVerdict): string | undefined {
  if (verdict.offending.length === 0) return undefined;
  return table(
    ["Terraform address", "Actions", "Why it is refused"],
    verdict.offending.map((offence) => [
      code(offence.address),
      offence.actions.length > 0 ? text(offence.actions.join(", ")) : "",
      text(offence.reason),
    ]),
  );
}

export function warningList(verdict: GuardVerdict): string | undefined {
  if (verdict.warnings.length === 0) return undefined;
  return ["**Warnings**", "", ...verdict.warnings.map((warning) => `- ${text(warning)}`)].join(
    "\n",
  );
}

/** The nodes to drain, as inline code. */
export function drainedNodes(verdict: GuardVerdict): string[] {
  return verdict.destroys.flatMap((vm) => (vm.node === null ? [] : [code(vm.node)]));
}

/** Whether the plan changes nothing the guard reports: no VM, no companion, no other change. */
export function nothingToApply(verdict: GuardVerdict): boolean {
  return (
    verdict.creates.length === 0 &&
    verdict.destroys.length === 0 &&
    verdict.alsoAllowed.length === 0 &&
    verdict.offending.length === 0
  );
}

/** "create talos-worker-4, destroy talos-worker-1" for status descriptions. */
export function vmSummary(verdict: GuardVerdict): string {
  const parts = [
    ...verdict.creates.map((vm) => `create ${vm.name ?? vm.address}`),
    ...verdict.destroys.map((vm) => `destroy ${vm.name ?? vm.address}`),
  ];
  if (parts.length <= 2) return parts.join(", ");
  return `${count(verdict.creates.length, "VM")} created, ${count(verdict.destroys.length, "VM")} destroyed`;
}

/** The footer: which commit, which run. */
export function originLine(origin: ReportOrigin, verb: string): string {
  const parts = [`${verb} commit ${code(origin.sha.slice(0, 12))}`];
  if (origin.runUrl !== undefined) parts.push(`[workflow run](${linkTarget(origin.runUrl)})`);
  return `<sub>${parts.join(" · ")}</sub>`;
}

/** A URL that cannot end a markdown link early. */
function linkTarget(url: string): string {
  return url.replaceAll("(", "%28").replaceAll(")", "%29").replaceAll(" ", "%20");
}

/** A status description GitHub accepts: one line, at most 140 characters. */
export function statusDescription(description: string): string {
  const oneLine = description.replace(/\s+/g, " ").trim();
  if (oneLine.length <= STATUS_DESCRIPTION_LENGTH) return oneLine;
  return `${oneLine.slice(0, STATUS_DESCRIPTION_LENGTH - 1)}…`;
}

/** Joins the non-empty sections of a comment with blank lines. */
export function sections(...parts: (string | undefined)[]): string {
  return parts.filter((part): part is string => part !== undefined && part !== "").join("\n\n");
}

/** How much of a log a comment quotes: its end, which says why a step failed. */
const LOG_LIMIT = 12_000;

/** The log the workflow collected from pr-autoscaler and kubectl, collapsed; nothing if empty. */
export function logSection(log: string | undefined): string | undefined {
  if (log === undefined || log.trim() === "") return undefined;
  const { text: end, cut } = tail(log, LOG_LIMIT);
  const summary = cut ? "Log (last lines)" : "Log";
  return details(summary, codeBlock(end));
}
