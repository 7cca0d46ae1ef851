import { listing } from "../util/listing.ts";
import { counted } from "../util/plural.ts";
import { countChange } from "./guard-report.ts";
import { code, codeBlock, details, table, tail, text } from "./report-markdown.ts";
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
  if (verdict?.pools !== undefined) return poolsChange(verdict.pools);
  const expected = verdict?.expected;
  return expected ? countChange(expected) : undefined;
}

/**
 * Over several pools, the pools whose count changes (`gpu 3 → 2 workers`); all pools unchanged
 * when none does; undefined when no pool's change is known.
 */
function poolsChange(pools: NonNullable<GuardVerdict["pools"]>): string | undefined {
  const known = pools.filter((pool) => pool.expected !== null);
  if (known.length === 0) return undefined;
  const changed = known.filter((pool) => pool.expected!.from !== pool.expected!.to);
  if (changed.length === 0) return "no pool changes size";
  return changed.map((pool) => `${pool.name} ${countChange(pool.expected!)}`).join(", ");
}

/** The line under a heading: pool and worker change, each when known. */
export function poolLine(pool: string | undefined, verdict: GuardVerdict | undefined): string {
  if (verdict?.pools !== undefined) return poolsLine(verdict.pools);
  const parts: string[] = [];
  if (pool !== undefined) parts.push(`Pool ${code(pool)}`);
  const change = workerChange(verdict);
  if (change !== undefined) parts.push(`**${change}**`);
  return parts.join(": ");
}

/** "Pools: `workers` 3 workers, unchanged; `gpu` **3 → 2 workers**" */
function poolsLine(pools: NonNullable<GuardVerdict["pools"]>): string {
  const items = pools.map((pool) => {
    if (pool.expected === null) return code(pool.name);
    const change = countChange(pool.expected);
    const changed = pool.expected.from !== pool.expected.to;
    return `${code(pool.name)} ${changed ? `**${change}**` : change}`;
  });
  return `Pools: ${items.join("; ")}`;
}

/** A pool size the apply job waits for; `pool` is set over several pools. */
export interface ReadyTarget {
  pool: string | undefined;
  count: number;
}

/**
 * The pool sizes waited for after the apply: the pool's expected size, or over several pools
 * the size of each pool whose count changes.
 */
export function readyTargets(verdict: GuardVerdict): ReadyTarget[] {
  if (verdict.pools === undefined) {
    return verdict.expected ? [{ pool: undefined, count: verdict.expected.to }] : [];
  }
  return verdict.pools.flatMap((pool) =>
    pool.expected !== null && pool.expected.from !== pool.expected.to
      ? [{ pool: pool.name, count: pool.expected.to }]
      : [],
  );
}

/** "the pool has 3 Ready nodes", "pool `gpu` has 2 Ready nodes". */
export function readyText(target: ReadyTarget): string {
  const subject = target.pool === undefined ? "the pool" : `pool ${code(target.pool)}`;
  return `${subject} has ${target.count} Ready nodes`;
}

/** One row per VM the plan creates or destroys, with the node each one is or becomes. */
export function vmTable(verdict: GuardVerdict): string | undefined {
  const pooled = verdict.pools !== undefined;
  const poolCell = (vm: { pool?: string }) => (pooled ? [code(vm.pool ?? "")] : []);
  const rows = [
    ...verdict.creates.map((vm) => [
      "create",
      ...poolCell(vm),
      vm.name === null ? "(name not in the plan)" : code(vm.name),
      code(vm.address),
      "joins the pool once Ready",
    ]),
    ...verdict.destroys.map((vm) => [
      "destroy",
      ...poolCell(vm),
      vm.name === null ? "(name not in the plan)" : code(vm.name),
      code(vm.address),
      vm.node === null ? "unknown: cannot be drained" : `${code(vm.node)}, drained first`,
    ]),
  ];
  if (rows.length === 0) return undefined;
  const header = ["Change", ...(pooled ? ["Pool"] : []), "VM", "Terraform address"];
  return table([...header, "Kubernetes node"], rows);
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
  return `${counted(verdict.creates.length, "VM")} created, ${counted(verdict.destroys.length, "VM")} destroyed`;
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
