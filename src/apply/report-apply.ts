import { listing } from "../util/listing.ts";
import { counted } from "../util/plural.ts";
import { cancelledAndUncordoned, type DrainStop } from "./report-drain.ts";
import { code, table } from "./report-markdown.ts";
import type { GuardVerdict } from "./report-verdict.ts";
import {
  alsoAllowedLine,
  type CommitStatus,
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
import { type WaitStop, waitShortfall } from "./report-wait.ts";

/** The commit status the apply job sets on the merged commit. */
export const APPLY_STATUS_CONTEXT = "pr-autoscaler/apply";

/** Steps of the apply job, in the order they run, as the workflow names a failed one. */
export const APPLY_FAILED_STEPS = [
  "setup",
  "init",
  "plan",
  "guard",
  "drain",
  "apply",
  "delete-nodes",
  "nodes",
] as const;
export type ApplyFailedStep = (typeof APPLY_FAILED_STEPS)[number];

export interface ApplyReportInput extends ReportOrigin {
  result: "ok" | "failed";
  /** The guard's verdict on the merged plan, when the guard gave one. */
  verdict: GuardVerdict | undefined;
  /** The step that failed; undefined for a failure the workflow could not place. */
  failedStep: ApplyFailedStep | undefined;
  /**
   * The run was cancelled: `failedStep` is then the step the cancel stopped or kept from
   * running, and a step before the drain is reported as cancelled, not as failed. The guard
   * with a passing verdict is a cancel after the guard, before the drain or the apply began.
   */
  cancelled?: boolean;
  /** How uncordoning the drained nodes went after a failed apply, when it was tried. */
  uncordon: "ok" | "failed" | undefined;
  /** How the drain says it stopped, with --failed-step drain, when it wrote its result. */
  drain?: DrainStop | undefined;
  /**
   * How the waits for the pools' nodes ended, with --failed-step nodes or delete-nodes (the
   * wait runs after a failed delete of the destroyed VMs' Node objects, leaving them out of the
   * pools): the results of the waits that wrote one.
   */
  waits?: WaitStop[] | undefined;
  context: string;
  log: string | undefined;
}

/** What is wrong with a combination of results, or undefined when it makes sense. */
export function applyInputProblem(input: ApplyReportInput): string | undefined {
  if (input.result === "ok") {
    if (input.failedStep !== undefined) return "--failed-step goes with --result failed";
    if (input.cancelled) return "--cancelled goes with --result failed";
    if (input.verdict === undefined) return "--result ok needs --verdict: what was applied";
    if (input.verdict.verdict !== "pass") return "--result ok with a verdict that refused";
  }
  if (input.uncordon !== undefined && input.failedStep !== "apply") {
    return "--uncordon reports the uncordon after a failed apply: it needs --failed-step apply";
  }
  if (input.drain !== undefined && input.failedStep !== "drain") {
    return "--drain-result tells how a drain that did not finish stopped: it needs --failed-step drain";
  }
  if (
    input.waits !== undefined &&
    input.waits.length > 0 &&
    input.failedStep !== "nodes" &&
    input.failedStep !== "delete-nodes"
  ) {
    return "--wait-result tells how a wait for the nodes ended: it needs --failed-step nodes or delete-nodes";
  }
  return undefined;
}

/** The pending status set when the apply job starts, before anything is known. */
export function applyStartedStatus(context: string, runUrl: string | undefined): CommitStatus {
  return {
    state: "pending",
    context,
    description: "Planning, guarding and applying the merged change",
    targetUrl: runUrl,
  };
}

/** The comment on the merged pull request and the commit status of the merged commit. */
export function renderApplyReport(input: ApplyReportInput): RenderedReport {
  const { verdict } = input;
  if (input.result === "ok" && verdict) return renderApplied(input, verdict);
  if (verdict?.verdict === "refuse") return renderRefused(input, verdict);
  return renderFailed(input);
}

type Stage = "plan" | "guard" | "drain" | "apply" | "nodes";
const STAGES: { stage: Stage; label: string }[] = [
  { stage: "plan", label: "Plan" },
  { stage: "guard", label: "Plan guard" },
  { stage: "drain", label: "Drain" },
  { stage: "apply", label: "terraform apply" },
  { stage: "nodes", label: "Nodes" },
];
const STAGE_OF: Record<ApplyFailedStep, Stage> = {
  setup: "plan",
  init: "plan",
  plan: "plan",
  guard: "guard",
  drain: "drain",
  apply: "apply",
  "delete-nodes": "nodes",
  nodes: "nodes",
};

function renderApplied(input: ApplyReportInput, verdict: GuardVerdict): RenderedReport {
  const nothing = nothingToApply(verdict);
  const body = sections(
    nothing ? "### ✅ pr-autoscaler apply: nothing to apply" : "### ✅ pr-autoscaler apply: done",
    poolLine(input.pool, verdict),
    stageTable(input, verdict, undefined),
    vmTable(verdict),
    alsoAllowedLine(verdict),
    warningList(verdict),
    nothing ? "The infrastructure already matches the merged change." : undefined,
    logSection(input.log),
    originLine(input, "Applied"),
  );
  const change = workerChange(verdict);
  const description = nothing
    ? "Nothing to apply: the infrastructure already matches"
    : `Applied${change ? `: ${change}` : ""}, ${vmSummary(verdict)}`;
  return { body, status: status(input, "success", description) };
}

function renderRefused(input: ApplyReportInput, verdict: GuardVerdict): RenderedReport {
  const problems = counted(verdict.offending.length, "problem");
  const body = sections(
    "### 🛑 pr-autoscaler apply: refused, nothing applied",
    poolLine(input.pool, verdict),
    stageTable(input, verdict, "guard"),
    `The plan of the merged commit is not only the expected worker change (${problems}), so the guard stopped it. Nothing was drained and nothing was applied.`,
    offendingTable(verdict),
    warningList(verdict),
    "**What to do:** look at the refused changes, then apply by hand after review (`terraform plan`, `pr-autoscaler drain`, `terraform apply`), or revert the pull request.",
    logSection(input.log),
    originLine(input, "Refused"),
  );
  return {
    body,
    status: status(input, "failure", `Refused by the plan guard (${problems}): nothing applied`),
  };
}

function renderFailed(input: ApplyReportInput): RenderedReport {
  const { verdict, failedStep } = input;
  const effect = failureEffect(input);
  const cancelled = drainCancelled(input);
  const body = sections(
    cancelled
      ? "### ⏹️ pr-autoscaler apply: cancelled during the drain"
      : input.cancelled
        ? "### ⏹️ pr-autoscaler apply: cancelled"
        : "### ❌ pr-autoscaler apply: failed",
    poolLine(input.pool, verdict),
    failedStep === undefined ? undefined : stageTable(input, verdict, failedStage(input)),
    verdict ? vmTable(verdict) : undefined,
    `**What changed:** ${effect.changed}`,
    `**What to do:** ${effect.next}`,
    logSection(input.log),
    originLine(input, "Tried"),
  );
  return { body, status: status(input, "failure", effect.status) };
}

/**
 * The stage the failed step stopped: a cancel named at the guard whose verdict passed landed
 * after the guard, before the drain (or, with nothing to drain, the apply) began.
 */
function failedStage(input: ApplyReportInput): Stage | undefined {
  if (input.failedStep === undefined) return undefined;
  if (cancelledAfterGuard(input)) {
    return input.verdict && drainedNodes(input.verdict).length > 0 ? "drain" : "apply";
  }
  return STAGE_OF[input.failedStep];
}

function cancelledAfterGuard(input: ApplyReportInput): boolean {
  return (
    input.cancelled === true && input.failedStep === "guard" && input.verdict?.verdict === "pass"
  );
}

interface FailureEffect {
  changed: string;
  next: string;
  status: string;
}

function failureEffect(input: ApplyReportInput): FailureEffect {
  const nodes = input.verdict ? drainedNodes(input.verdict) : [];
  switch (input.failedStep) {
    case "setup":
      if (input.cancelled) return cancelledBeforeChange(input);
      return {
        changed: "nothing. No node was drained and nothing was applied.",
        next: "the log says why the job stopped before planning and what to do. A re-run passes only when the cause lay outside the repository (a secret, the runner's tools, GitHub not answering): a cause in the commit or in the workflow's inputs fails a re-run the same way and needs a new commit, and a commit the branch has moved past is applied by the newer commit's run.",
        status: "Stopped before planning: nothing changed",
      };
    case "init":
    case "plan":
    case "guard":
      if (input.cancelled) return cancelledBeforeChange(input);
      return {
        changed: "nothing. No node was drained and nothing was applied.",
        next: `the workflow run's log says why ${stepName(input.failedStep)} failed. Fix that, then re-run the workflow: it plans and guards again.`,
        status: `Failed at ${stepName(input.failedStep)}: nothing changed`,
      };
    case "drain":
      return drainCancelled(input)
        ? drainCancelledEffect(nodes)
        : drainFailureEffect(nodes, input.cancelled === true);
    case "apply":
      return applyFailureEffect(input, nodes);
    case "delete-nodes":
      return deleteNodesFailureEffect(input);
    case "nodes":
      return nodesFailureEffect(input);
    default:
      if (input.cancelled) {
        return {
          changed:
            "unknown: the run was cancelled, and the report cannot place where. Drained nodes may still be cordoned, and the plan may have been applied in part.",
          next: "read the workflow run's log, check `kubectl get nodes` and `terraform plan`, and uncordon any node left cordoned; then re-run the workflow, which applies only what is still the merged change.",
          status: "Cancelled: see the workflow run",
        };
      }
      return {
        changed:
          "unknown: the job failed in a step the report cannot place. Drained nodes may still be cordoned, and the plan may have been applied in part.",
        next: "read the workflow run's log, check `kubectl get nodes` and `terraform plan`, and uncordon any node left cordoned.",
        status: "Failed: see the workflow run",
      };
  }
}

/**
 * A run cancelled while setting up, planning or guarding: nothing was drained or applied. Its
 * first change is named as the run would have made it: the drain when the verdict drains a
 * node, else the apply (a scale-up drains nothing, and a run cancelled before the guard's
 * verdict may have had nothing to drain).
 */
function cancelledBeforeChange(input: ApplyReportInput): FailureEffect {
  const drains = input.verdict !== undefined && drainedNodes(input.verdict).length > 0;
  const next =
    "nothing to undo. Re-run the workflow to apply the merged change: it plans and guards again.";
  if (drains || input.verdict === undefined) {
    return {
      changed: "nothing. The run was cancelled before any node was drained or anything applied.",
      next,
      status: `Cancelled before the ${drains ? "drain" : "apply"}: nothing changed`,
    };
  }
  return {
    changed:
      "nothing. The run was cancelled before `terraform apply` began; the change drains no node.",
    next,
    status: "Cancelled before the apply: nothing changed",
  };
}

/** The drain's own result says it was cancelled and uncordoned every node it had cordoned. */
function drainCancelled(input: ApplyReportInput): boolean {
  return input.failedStep === "drain" && cancelledAndUncordoned(input.drain);
}

const DRAIN_CANCELLED =
  "Cancelled during the drain: nothing applied; the drain uncordoned the nodes it had cordoned (its log says which)";

/** A cancelled drain that, by its own result, put the nodes back as they were. */
function drainCancelledEffect(nodes: string[]): FailureEffect {
  const which = nodes.length > 0 ? listing(nodes) : "the nodes";
  return {
    changed: `nothing was applied. The run was cancelled while draining ${which}, and the drain uncordoned the nodes it had cordoned (its log says which); a node cordoned before the drain stays cordoned. Pods it had already evicted run elsewhere.`,
    next: "nothing to undo. Re-run the workflow to apply the merged change: it plans, guards and drains again.",
    status: DRAIN_CANCELLED,
  };
}

/**
 * The drain stopped: refused, timed out, failed, or cancelled with the job, and its result
 * does not say that every node it cordoned is uncordoned again (or there is no result), so
 * the report claims no uncordon: the drain does uncordon what it cordoned when it stops, but
 * a drain killed before it could (the runner kills a cancelled step a few seconds after
 * asking it to stop), or whose uncordon failed, leaves its nodes cordoned.
 */
function drainFailureEffect(nodes: string[], cancelled: boolean): FailureEffect {
  const which = nodes.length > 0 ? listing(nodes) : "the nodes";
  return {
    changed: `nothing was applied. Draining ${which} did not finish: a PodDisruptionBudget allowed no eviction, the timeout came, or the run was cancelled. \`pr-autoscaler drain\` uncordons the nodes it cordoned when it stops, a cancel included, and the log says what it uncordoned; a drain killed before it could, or whose uncordon failed, leaves them cordoned. Pods it had already evicted run elsewhere.`,
    next: `check \`kubectl get nodes\` for ${which} shown SchedulingDisabled, and \`kubectl uncordon\` any that was schedulable before the drain. Then find the pod that could not be evicted in the log, make room for it (or relax its budget), and re-run the workflow.`,
    status: `${cancelled ? "Cancelled during the drain" : "Failed at drain"}: nothing applied; check for cordoned nodes`,
  };
}

const NODES_NEXT =
  "check the new VMs' consoles in Proxmox and `kubectl get nodes`. A node that joins late needs nothing more; a Node object left behind can be deleted with `kubectl delete node NAME`.";

/**
 * After the apply, deleting the destroyed VMs' Node objects or a wait for the nodes failed.
 * The waits' results say what each lacked, and the pools waited for whose wait wrote no result
 * (cancelled, or stopped before it could) are named; without any result (none written, or the
 * step that failed was the delete), the report does not guess which it was.
 */
function nodesFailureEffect(input: ApplyReportInput): FailureEffect {
  const failed = (input.waits ?? []).filter((wait) => wait.outcome !== "ready");
  const unreported = unreportedPools(input);
  if (failed.length === 0 && unreported.length > 0) {
    const one = unreported.length === 1;
    const pools = listing(unreported.map((pool) => code(pool)));
    const ready = (input.waits ?? []).map((wait) => code(wait.pool));
    const others =
      ready.length === 0
        ? ""
        : ` The wait for ${ready.length === 1 ? "pool" : "pools"} ${listing(ready)} ended with ${ready.length === 1 ? "its" : "their"} nodes Ready.`;
    return {
      changed: `the plan was applied (the VMs in the table were created or destroyed), but the wait for ${one ? "pool" : "pools"} ${pools} wrote no result: it was cancelled, or stopped before it could, so whether ${one ? "that pool's" : "those pools'"} nodes are Ready is not known.${others} Nothing is rolled back.`,
      next: NODES_NEXT,
      status: `${input.cancelled ? "Cancelled" : "Failed"} waiting for nodes: applied; no wait result for ${one ? "pool" : "pools"} ${unreported.join(", ")}`,
    };
  }
  if (failed.length === 0 && input.cancelled && (input.waits ?? []).length === 0) {
    return {
      changed:
        "the plan was applied (the VMs in the table were created or destroyed), but the run was cancelled before the wait for the nodes ended, so whether the nodes are Ready, and the destroyed VMs' Node objects deleted, is not known. Nothing is rolled back.",
      next: NODES_NEXT,
      status: "Cancelled after the apply: applied; the nodes not checked",
    };
  }
  const waits = input.waits ?? [];
  if (waitedReady(input)) return waitedReadyEffect(input, waits);
  if (failed.length === 0) {
    return {
      changed: `the plan was applied (the VMs in the table were created or destroyed), but ${notReady(input.verdict)} within the timeout, or a destroyed VM's Node object could not be deleted. Nothing is rolled back.`,
      next: NODES_NEXT,
      status:
        "Failed after the apply: applied; nodes not Ready in time, or a Node object not deleted",
    };
  }
  const said = failed.map((wait) =>
    wait.message === undefined
      ? `pool ${code(wait.pool)}`
      : `pool ${code(wait.pool)}: ${wait.message}`,
  );
  const shortfalls = failed.flatMap((wait) => waitShortfall(wait) ?? []);
  const missing = missingWaits(input, unreported);
  shortfalls.push(...missing.status);
  return {
    changed: `the plan was applied (the VMs in the table were created or destroyed), but the wait for the nodes did not succeed (${said.join("; ")}).${missing.sentence} Nothing is rolled back.`,
    next: NODES_NEXT,
    status: `${input.cancelled ? "Cancelled" : "Failed"} waiting for nodes: applied; ${shortfalls.join("; ")}`,
  };
}

/**
 * Deleting the destroyed VMs' Node objects failed (or was cancelled). The workflow still waits
 * for the pools' nodes, leaving those Node objects out of them (`wait-nodes --ignore`), so a
 * scale-up's new nodes, in another pool or the same run, are still checked: the waits' results
 * say what was checked and how it ended, and a pool whose wait gave no result is named.
 */
function deleteNodesFailureEffect(input: ApplyReportInput): FailureEffect {
  const nodes = input.verdict ? drainedNodes(input.verdict) : [];
  const one = nodes.length === 1;
  const objects =
    nodes.length === 0
      ? "the Node objects of the destroyed VMs"
      : `the Node ${one ? "object" : "objects"} of ${listing(nodes)}`;
  const stopped = input.cancelled ? "was cancelled" : "failed";
  const waited = waitsAfterDelete(input, one ? "it" : "them");
  const names = input.verdict?.destroys.flatMap((vm) => (vm.node === null ? [] : [vm.node])) ?? [];
  const command =
    names.length > 0 ? code(`kubectl delete node ${names.join(" ")}`) : "`kubectl delete node`";
  return {
    changed: `the plan was applied (the VMs in the table were created or destroyed), but deleting ${objects} ${stopped}: ${left(one, input.cancelled === true)}, NotReady and cordoned.${waited.sentence} Nothing is rolled back.`,
    next: `read the log for why the delete ${stopped === "failed" ? "failed" : "stopped"}, then run ${command}: a Node object left behind keeps its cordon for a new VM that takes its name, and its wait does not count that node as new.${waited.nodesNext ? ` ${NODES_NEXT}` : ""}`,
    status: `${input.cancelled ? "Cancelled" : "Failed"} deleting Node objects: applied; ${waited.status}`,
  };
}

/** What a delete that failed left; one a cancel stopped may have deleted some, or all. */
function left(one: boolean, cancelled: boolean): string {
  if (cancelled) return one ? "it may still be there" : "they may still be there";
  return one ? "it stays" : "they stay";
}

/**
 * What the waits after a failed delete of the Node objects checked (`them`: those objects,
 * which they left out): a sentence for the comment, the status's part, and whether a wait
 * failed or gave no result (the nodes then need a look).
 */
function waitsAfterDelete(
  input: ApplyReportInput,
  them: string,
): { sentence: string; status: string; nodesNext: boolean } {
  const waits = input.waits ?? [];
  const targets = input.verdict ? readyTargets(input.verdict) : [];
  const pools = (names: string[]) =>
    `${names.length === 1 ? "pool" : "pools"} ${listing(names.map((pool) => code(pool)))}`;
  if (waits.length === 0) {
    if (targets.length === 0)
      return { sentence: "", status: "Node objects left", nodesNext: false };
    return {
      sentence:
        " No wait for the nodes gave a result (it was cancelled, or stopped before it could), so whether the pools' nodes are Ready is not known.",
      status: "the nodes not checked",
      nodesNext: true,
    };
  }
  const unreported = unreportedPools(input);
  const failed = waits.filter((wait) => wait.outcome !== "ready");
  const ready = waits.filter((wait) => wait.outcome === "ready").map((wait) => wait.pool);
  const parts: string[] = [];
  const status: string[] = [];
  if (ready.length > 0) {
    parts.push(
      ` The wait for ${pools(ready)}, which left ${them} out, ended with ${ready.length === 1 ? "its" : "their"} nodes Ready.`,
    );
    status.push(`${ready.length === 1 ? "pool" : "pools"} ${ready.join(", ")} Ready`);
  }
  if (failed.length > 0) {
    const said = failed.map((wait) =>
      wait.message === undefined
        ? `pool ${code(wait.pool)}`
        : `pool ${code(wait.pool)}: ${wait.message}`,
    );
    parts.push(
      ` The wait for the nodes, which left ${them} out, did not succeed (${said.join("; ")}).`,
    );
    status.push(...failed.flatMap((wait) => waitShortfall(wait) ?? []));
  }
  const missing = missingWaits(input, unreported);
  parts.push(missing.sentence);
  status.push(...missing.status);
  return {
    sentence: parts.join(""),
    status: status.join("; "),
    nodesNext: failed.length > 0 || unreported.length > 0,
  };
}

/**
 * Every pool waited for has a result, and each says its nodes are Ready: the step failed (or
 * was cancelled) after its waits, in what it runs around them (the copy of their output to the
 * log). The results are trusted: the nodes were checked.
 */
function waitedReadyEffect(input: ApplyReportInput, waits: WaitStop[]): FailureEffect {
  const pools = waits.map((wait) => wait.pool);
  const one = pools.length === 1;
  const which = `${one ? "pool" : "pools"} ${listing(pools.map((pool) => code(pool)))}`;
  const stopped = input.cancelled ? "was cancelled" : "failed";
  return {
    changed: `the plan was applied (the VMs in the table were created or destroyed), and the wait for ${which} ended with ${one ? "its" : "their"} nodes Ready, but the step ${code(WAIT_STEP)} ${stopped} after the wait (the log says why). Nothing is rolled back.`,
    next: "nothing to undo: the nodes are as the change wanted them. Read the step's log for what failed after the wait.",
    status: `${input.cancelled ? "Cancelled" : "Failed"} after the wait for nodes: applied; ${one ? "pool" : "pools"} ${pools.join(", ")} Ready`,
  };
}

/** Whether the waits wrote a result for every pool waited for, each saying its nodes are Ready. */
function waitedReady(input: ApplyReportInput): boolean {
  const waits = input.waits ?? [];
  if (waits.length === 0 || waits.some((wait) => wait.outcome !== "ready")) return false;
  return unreportedPools(input).length === 0;
}

/** The workflow's name for the step that waits for the pools' nodes. */
const WAIT_STEP = "Wait for the pools' nodes to be Ready";

/**
 * The pools the workflow waits for (each pool whose count the verdict changes, or the one pool
 * of a verdict over one, named by --pool) whose wait wrote no result the report could read.
 * Empty when no result was given at all: the wait may not have run (the delete of the Node
 * objects failed first), and the report does not guess.
 */
function unreportedPools(input: ApplyReportInput): string[] {
  const waits = input.waits ?? [];
  if (waits.length === 0 || input.verdict === undefined) return [];
  const reported = new Set(waits.map((wait) => wait.pool));
  return readyTargets(input.verdict).flatMap((target) => {
    const pool = target.pool ?? input.pool;
    return pool === undefined || reported.has(pool) ? [] : [pool];
  });
}

/**
 * What the comment and the status say of the pools whose wait wrote no result. The workflow
 * waits for the pools one after another, in the verdict's order, and starts no pool's wait
 * after a cancel: a pool after one whose wait the cancel stopped (its result says cancelled)
 * was not started. Of any other, the report cannot tell whether its wait was cancelled before
 * it wrote a result, or stopped before it could.
 */
function missingWaits(
  input: ApplyReportInput,
  unreported: string[],
): { sentence: string; status: string[] } {
  const targets = input.verdict ? readyTargets(input.verdict) : [];
  const order = targets.map((target) => target.pool ?? input.pool);
  const stopped = (input.waits ?? []).filter((wait) => wait.outcome === "cancelled");
  const firstStopped = Math.min(
    ...stopped.map((wait) => order.indexOf(wait.pool)).filter((index) => index >= 0),
  );
  const notStarted = unreported.filter((pool) => order.indexOf(pool) > firstStopped);
  const noResult = unreported.filter((pool) => !notStarted.includes(pool));
  const pools = (names: string[]) =>
    `${names.length === 1 ? "pool" : "pools"} ${listing(names.map((pool) => code(pool)))}`;
  const plain = (names: string[]) => `${names.length === 1 ? "pool" : "pools"} ${names.join(", ")}`;
  let sentence = "";
  const status: string[] = [];
  if (noResult.length > 0) {
    sentence += ` The wait for ${pools(noResult)} wrote no result: it was cancelled, or stopped before it could.`;
    status.push(`no wait result for ${plain(noResult)}`);
  }
  if (notStarted.length > 0) {
    sentence += ` The wait for ${pools(notStarted)} was not started: the run was cancelled before it.`;
    status.push(`${plain(notStarted)} not waited for`);
  }
  return { sentence, status };
}

/** What did not happen in time: "the pool did not reach 3 Ready nodes". */
function notReady(verdict: GuardVerdict | undefined): string {
  const targets = verdict ? readyTargets(verdict) : [];
  const [only] = targets;
  if (only === undefined) return "the nodes did not reach the expected state";
  if (only.pool === undefined) return `the pool did not reach ${only.count} Ready nodes`;
  const sizes = targets.map((t) => `${code(t.pool ?? "")}: ${t.count}`);
  return `not every pool reached its Ready nodes (${listing(sizes)})`;
}

function applyFailureEffect(input: ApplyReportInput, nodes: string[]): FailureEffect {
  const uncordon = uncordonOutcome(input, nodes);
  return {
    changed: `\`terraform apply\` did not finish: it failed, or the run was cancelled before it ended. Terraform may have changed part of the plan before it stopped.${uncordon.sentence}`,
    next: "read the log, run `terraform plan` to see what is left, fix the cause, then re-run the workflow: the guard passes the rest of the change only if it is still the merged one.",
    status: `${input.cancelled ? "Cancelled" : "Failed"} at terraform apply${uncordon.status}`,
  };
}

/** What became of the drained nodes after a failed apply, for the comment and the status. */
function uncordonOutcome(
  input: ApplyReportInput,
  nodes: string[],
): { sentence: string; status: string } {
  if (nodes.length === 0) return { sentence: "", status: "" };
  const one = nodes.length === 1;
  if (input.uncordon === "ok") {
    return {
      sentence: ` The drained ${one ? "node" : "nodes"} ${listing(nodes)} ${one ? "was" : "were"} uncordoned.`,
      status: ": nodes uncordoned",
    };
  }
  if (input.uncordon === "failed") {
    const names =
      input.verdict?.destroys.flatMap((vm) => (vm.node === null ? [] : [vm.node])) ?? [];
    return {
      sentence: ` Uncordoning ${listing(nodes)} failed: run ${code(`kubectl uncordon ${names.join(" ")}`)}.`,
      status: ": uncordon failed",
    };
  }
  return {
    sentence: ` ${listing(nodes)} may still be cordoned: check \`kubectl get nodes\`.`,
    status: "",
  };
}

function stepName(step: "setup" | "init" | "plan" | "guard"): string {
  return {
    setup: "setting up the job",
    init: "terraform init",
    plan: "terraform plan",
    guard: "the plan guard",
  }[step];
}

/** One row per stage: done, failed (the given stage) or not run. */
function stageTable(
  input: ApplyReportInput,
  verdict: GuardVerdict | undefined,
  failed: Stage | undefined,
): string {
  const failedIndex =
    failed === undefined ? STAGES.length : STAGES.findIndex((s) => s.stage === failed);
  const rows = STAGES.map(({ stage, label }, index) => {
    if (index < failedIndex) return [label, `✅ ${doneText(stage, verdict)}`];
    if (index === failedIndex) return [label, `❌ ${failedText(stage, input, verdict)}`];
    return [label, "— not run"];
  });
  return table(["Step", "Result"], rows);
}

function doneText(stage: Stage, verdict: GuardVerdict | undefined): string {
  const nothing = verdict ? nothingToApply(verdict) : false;
  const nodes = verdict ? drainedNodes(verdict) : [];
  switch (stage) {
    case "plan":
      return nothing ? "planned: no changes" : "planned";
    case "guard":
      return "passed";
    case "drain":
      return nodes.length > 0 ? `drained ${listing(nodes)}` : "nothing to drain";
    case "apply":
      return nothing || !verdict
        ? "nothing to apply"
        : `applied: ${counted(verdict.creates.length, "VM")} created, ${counted(verdict.destroys.length, "VM")} destroyed`;
    case "nodes":
      return nodesDoneText(verdict, nothing);
  }
}

function nodesDoneText(verdict: GuardVerdict | undefined, nothing: boolean): string {
  if (!verdict || nothing) return "nothing to wait for";
  const parts: string[] = [];
  if (verdict.destroys.length > 0) parts.push("deleted the Node objects of the destroyed VMs");
  parts.push(...readyTargets(verdict).map(readyText));
  return parts.join("; ") || "done";
}

function failedText(
  stage: Stage,
  input: ApplyReportInput,
  verdict: GuardVerdict | undefined,
): string {
  if (stage === "guard" && verdict?.verdict === "refuse") {
    return `refused: ${counted(verdict.offending.length, "problem")}`;
  }
  if (input.cancelled && !(stage === "drain" && drainCancelled(input))) {
    if (cancelledAfterGuard(input)) return "cancelled before it began";
    return input.failedStep === "setup" ? "cancelled while setting up the job" : "cancelled";
  }
  if (input.failedStep === "setup" || input.failedStep === "init") {
    return `failed: ${stepName(input.failedStep)}`;
  }
  if (stage === "guard" && verdict === undefined)
    return "failed: the guard could not read its input";
  if (stage === "drain" && drainCancelled(input)) return "cancelled; cordoned nodes uncordoned";
  if (stage === "nodes" && input.failedStep === "delete-nodes") {
    return "failed: the Node objects of the destroyed VMs not deleted";
  }
  if (stage === "nodes" && waitedReady(input)) return "failed after the wait: nodes Ready";
  return "failed";
}

function status(
  input: ApplyReportInput,
  state: "success" | "failure",
  description: string,
): CommitStatus {
  return {
    state,
    context: input.context,
    description: statusDescription(description),
    targetUrl: input.runUrl,
  };
}

/** The hidden marker of the apply comment: one per merged commit and pool, updated on re-runs. */
export function applyCommentKey(pool: string | undefined, sha: string): Record<string, string> {
  return { pool: pool ?? "", sha };
}
