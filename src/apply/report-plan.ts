import { listing } from "../util/listing.ts";
import type { GuardVerdict } from "./report-verdict.ts";
import {
  alsoAllowedLine,
  drainedNodes,
  logSection,
  nothingToApply,
  offendingTable,
  originLine,
  poolLine,
  type RenderedReport,
  type ReportOrigin,
  readyTargets,
  readyText,
  sections,
  statusDescription,
  vmSummary,
  vmTable,
  warningList,
  workerChange,
} from "./report-vms.ts";

/** The commit status the pull request job sets; branch protection or a merge policy requires it. */
export const PLAN_STATUS_CONTEXT = "pr-autoscaler/plan-guard";

/** Steps of the pull request job that can fail before the guard gives a verdict. */
export const PLAN_FAILED_STEPS = ["setup", "init", "plan", "guard"] as const;
export type PlanFailedStep = (typeof PLAN_FAILED_STEPS)[number];

export type PlanOutcome =
  | { kind: "checked"; verdict: GuardVerdict }
  | { kind: "failed"; step: PlanFailedStep };

export interface PlanReportInput extends ReportOrigin {
  outcome: PlanOutcome;
  context: string;
  /** Output of the job's pr-autoscaler steps (report.ts redacts it before rendering). */
  log: string | undefined;
}

const FAILED_STEP_TEXT: Record<PlanFailedStep, string> = {
  setup:
    "The job stopped before planning (the workflow's working-directory or tfvars-file input, the tfvars file at the pull request's base, or installing Terraform and pr-autoscaler; the log says which)",
  init: "`terraform init` failed",
  plan: "`terraform plan` failed",
  guard:
    "`pr-autoscaler guard` could not read its input (the plan, the guard config or a tfvars file), or found that the guard config and the repo config name different nodes",
};

const FAILED_STEP_STATUS: Record<PlanFailedStep, string> = {
  setup: "the job could not be set up",
  init: "terraform init failed",
  plan: "terraform plan failed",
  guard: "the guard could not read its input",
};

/** The pull request comment and commit status for the guard's check of a pull request's plan. */
export function renderPlanReport(input: PlanReportInput): RenderedReport {
  return input.outcome.kind === "failed"
    ? renderFailed(input, input.outcome.step)
    : input.outcome.verdict.verdict === "pass"
      ? renderPassed(input, input.outcome.verdict)
      : renderRefused(input, input.outcome.verdict);
}

function renderPassed(input: PlanReportInput, verdict: GuardVerdict): RenderedReport {
  const nothing = nothingToApply(verdict);
  const body = sections(
    "### ✅ pr-autoscaler plan guard: passed",
    intro(
      poolLine(input.pool, verdict),
      nothing
        ? "The plan creates and destroys no worker VM: after merge there is nothing to apply."
        : "The plan is exactly this change, so it may be applied without a person watching.",
    ),
    vmTable(verdict),
    alsoAllowedLine(verdict),
    warningList(verdict),
    nothing ? undefined : afterMerge(verdict),
    logSection(input.log),
    originLine(input, "Checked"),
  );
  const change = workerChange(verdict);
  const description = nothing
    ? "Passed: no worker VM is created or destroyed"
    : `Passed${change ? `: ${change}` : ""}, ${vmSummary(verdict)}`;
  return { body, status: status(input, "success", description) };
}

function afterMerge(verdict: GuardVerdict): string {
  const nodes = drainedNodes(verdict);
  const targets = readyTargets(verdict).map(readyText);
  const steps = [
    ...(nodes.length > 0 ? [`drains ${listing(nodes)}`] : []),
    "applies the plan",
    ...(nodes.length > 0 ? [`deletes the Node ${nodes.length === 1 ? "object" : "objects"}`] : []),
    ...(targets.length > 0 ? [`waits until ${listing(targets)}`] : []),
  ];
  return `**After merge** the apply workflow plans again and goes on only if the guard passes that plan too: it ${listing(steps)}.`;
}

function renderRefused(input: PlanReportInput, verdict: GuardVerdict): RenderedReport {
  const problems = verdict.offending.length;
  const expected = workerChange(verdict);
  const vms = vmTable(verdict);
  const body = sections(
    "### ❌ pr-autoscaler plan guard: refused",
    intro(
      `${poolLine(input.pool, verdict)}${expected ? " expected" : ""}`,
      `The plan is not only that change, so nothing will be applied without a person: ${problems} ${problems === 1 ? "problem" : "problems"}.`,
    ),
    offendingTable(verdict),
    vms === undefined
      ? undefined
      : `Worker VM changes that were acceptable on their own:\n\n${vms}`,
    warningList(verdict),
    "Change the pull request (or the infrastructure) until the plan shows only the worker change, or merge it and apply it by hand after review.",
    logSection(input.log),
    originLine(input, "Checked"),
  );
  const description = `Refused: ${problems} ${problems === 1 ? "change is" : "changes are"} not the expected worker change${expected ? ` (${expected})` : ""}`;
  return { body, status: status(input, "failure", description) };
}

function renderFailed(input: PlanReportInput, step: PlanFailedStep): RenderedReport {
  const body = sections(
    "### ⚠️ pr-autoscaler plan guard: could not check the plan",
    intro(
      poolLine(input.pool, undefined),
      `${FAILED_STEP_TEXT[step]}, so the plan was not checked. Nothing will be applied without a person until a plan of this pull request passes the guard. The workflow run's log says what went wrong.`,
    ),
    logSection(input.log),
    originLine(input, "Tried"),
  );
  return {
    body,
    status: status(input, "error", `Could not check the plan: ${FAILED_STEP_STATUS[step]}`),
  };
}

function status(
  input: PlanReportInput,
  state: "success" | "failure" | "error",
  description: string,
) {
  return {
    state,
    context: input.context,
    description: statusDescription(description),
    targetUrl: input.runUrl,
  };
}

/** The hidden marker that finds this comment again: one plan comment per pull request and pool. */
export function planCommentKey(pool: string | undefined): Record<string, string> {
  return { pool: pool ?? "" };
}

/** "Pool `workers`: **3 → 4 workers**. Sentence." — or the sentence alone. */
function intro(pool: string, sentence: string): string {
  return pool === "" ? sentence : `${pool}. ${sentence}`;
}
