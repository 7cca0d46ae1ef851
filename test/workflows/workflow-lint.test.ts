/**
 * The workflows pass the checks actionlint would make beyond the schema (workflow-lint.ts), and
 * each check finds the mistake it is for, shown by breaking a copy of the real workflow.
 */
import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { APPLY_FAILED_STEPS } from "../../src/apply/report-apply.ts";
import { PLAN_FAILED_STEPS } from "../../src/apply/report-plan.ts";
import { VERDICT_STEP_OUTPUTS } from "../../src/apply/report-verdict.ts";
import { drainCommand } from "../../src/cli/drain-command.ts";
import { guardCommand } from "../../src/cli/guard-command.ts";
import { reportCommand } from "../../src/cli/report-command.ts";
import { waitNodesCommand } from "../../src/cli/wait-nodes-command.ts";
import {
  type CommandContract,
  type LintOptions,
  lintWorkflow,
  parseWorkflow,
} from "./support/workflow-lint.ts";
import { APPLY_WORKFLOW, EXAMPLE_CALLER } from "./support/workflow-sandbox.ts";

/** `${{ expression }}` as it stands in a workflow file. */
function expr(expression: string): string {
  return `\${{ ${expression} }}`;
}

function usageFlags(usage: string): string[] {
  return [...new Set([...usage.matchAll(/--[a-z][a-z-]*/g)].map((match) => match[0]))];
}

/**
 * pr-autoscaler's commands as the workflow may call them, each with the flags of its own usage
 * text.
 */
const COMMANDS: Record<string, CommandContract> = {
  guard: { flags: usageFlags(guardCommand.usage) },
  report: {
    flags: usageFlags(reportCommand.usage),
    failedSteps: { plan: PLAN_FAILED_STEPS, apply: APPLY_FAILED_STEPS },
    outputs: VERDICT_STEP_OUTPUTS,
  },
  drain: { flags: usageFlags(drainCommand.usage) },
  "wait-nodes": { flags: usageFlags(waitNodesCommand.usage) },
};

let applyText: string;
let callerText: string;
let options: LintOptions;

beforeAll(async () => {
  applyText = await readFile(APPLY_WORKFLOW, "utf8");
  callerText = await readFile(EXAMPLE_CALLER, "utf8");
  options = {
    commands: COMMANDS,
    reusable: { ".github/workflows/apply.yml": parseWorkflow(applyText) },
  };
});

/** `text` with `from` replaced by `to`; fails when `from` is not there (the test would prove nothing). */
function broken(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`${String(from)} is not in the workflow`);
  return out;
}

describe("the workflows", () => {
  it("the reusable apply workflow has no problems", () => {
    expect(lintWorkflow(applyText, options)).toEqual([]);
  });

  it("the example infra repo's caller has no problems", () => {
    expect(lintWorkflow(callerText, options)).toEqual([]);
  });
});

describe("each check finds its mistake", () => {
  it.each([
    [
      "an undeclared input",
      `POOL: ${expr("inputs.pool")}`,
      `POOL: ${expr("inputs.pool-name")}`,
      "inputs.pool-name is not a declared input",
    ],
    [
      "an undeclared secret",
      `${expr("secrets.terraform_backend_config")}`,
      `${expr("secrets.backend_config")}`,
      "secrets.backend_config is not a declared secret of workflow_call",
    ],
    [
      "a step id that does not exist",
      "steps.guard.outputs.drain-nodes != ''",
      "steps.gaurd.outputs.drain-nodes != ''",
      'no step with id "gaurd" in this job',
    ],
    [
      "an output the step does not write",
      `DRAIN_NODES: ${expr("steps.guard.outputs.drain-nodes")}`,
      `DRAIN_NODES: ${expr("steps.guard.outputs.nodes")}`,
      'step "guard" writes no output "nodes" (it writes: drain-nodes, worker-count, worker-added, pool-counts, pool-added, pool-drain-nodes, drain-emptydir-nodes)',
    ],
    [
      "a step read before it runs",
      "if: steps.plan.outputs.changes == 'true' && steps.guard.outputs.drain-nodes != ''",
      "if: steps.plan.outputs.changes == 'true' && steps.apply.outcome != 'success'",
      'step "apply" has not run yet here',
    ],
    [
      "a function GitHub does not have",
      "if: always() && steps.tool.outcome == 'success'",
      "if: finally() && steps.tool.outcome == 'success'",
      "unknown function finally()",
    ],
    [
      "an action pinned to a moving tag",
      "actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0",
      "actions/setup-node@v4",
      "actions/setup-node@v4 is not pinned to a full commit SHA",
    ],
    [
      "a pinned action without its version",
      /hashicorp\/setup-terraform@b9cd54a3c349d3f38e8881555d616ced269862dd # v3\.1\.2/g,
      "hashicorp/setup-terraform@b9cd54a3c349d3f38e8881555d616ced269862dd",
      'has no "# vX.Y.Z" comment',
    ],
    [
      "an expression inside a script",
      'pr-autoscaler report apply --sha "$GITHUB_SHA" --result started',
      `pr-autoscaler report apply --sha ${expr("github.sha")} --result started`,
      "an expression inside the script; pass the value through env",
    ],
    [
      "a script that does not parse",
      'if [ "$code" -ne 0 ]; then exit "$code"; fi',
      'if [ "$code" -ne 0 ]; then exit "$code"',
      "bash -n: script: line",
    ],
    [
      "a secret in the job's env",
      '      CHECKPOINT_DISABLE: "1"\n      WORKDIR',
      `      CHECKPOINT_DISABLE: "1"\n      TOKEN: ${expr("secrets.proxmox_api_token")}\n      WORKDIR`,
      "a secret in the job's env reaches every step",
    ],
    [
      "a flag the guard does not have",
      '--tfvars-before "$T/tfvars-before"',
      '--tfvars-base "$T/tfvars-before"',
      "pr-autoscaler guard has no flag --tfvars-base",
    ],
    [
      "a flag wait-nodes does not have",
      ':+--added "$new"}',
      ':+--new-nodes "$new"}',
      "pr-autoscaler wait-nodes has no flag --new-nodes",
    ],
    [
      "a failed step the report does not know",
      "|| (steps.init.outcome != 'success' && 'init')",
      "|| (steps.init.outcome != 'success' && 'terraform-init')",
      'report plan --failed-step does not accept "terraform-init"',
    ],
    [
      "a command pr-autoscaler does not have",
      "pr-autoscaler wait-nodes --pool",
      "pr-autoscaler wait-for-nodes --pool",
      'pr-autoscaler has no command "wait-for-nodes"',
    ],
  ])("%s", (_name, from, to, problem) => {
    const problems = lintWorkflow(broken(applyText, from, to), options);
    expect(problems).toEqual(expect.arrayContaining([expect.stringContaining(problem)]));
  });

  it("a job without permissions when the workflow sets none", () => {
    const text = broken(
      broken(applyText, "permissions: {}\n", ""),
      "    timeout-minutes: 30\n    permissions:\n      contents: read\n      pull-requests: write\n      statuses: write\n",
      "    timeout-minutes: 30\n",
    );
    expect(lintWorkflow(text, options)).toEqual([
      "jobs.plan: no permissions, and none at the top: the token gets the repository's defaults",
    ]);
  });

  it("a needs that names no job, and a cycle", () => {
    const withNeeds = broken(
      applyText,
      "    name: Plan and guard\n",
      "    name: Plan and guard\n    needs: [aply]\n",
    );
    expect(lintWorkflow(withNeeds, options)).toContain('jobs.plan.needs: no job "aply"');
    const cycle = broken(
      broken(
        applyText,
        "    name: Plan and guard\n",
        "    name: Plan and guard\n    needs: apply\n",
      ),
      "    name: Drain, apply and wait for the nodes\n",
      "    name: Drain, apply and wait for the nodes\n    needs: plan\n",
    );
    expect(lintWorkflow(cycle, options)).toEqual(
      expect.arrayContaining([expect.stringContaining("needs form a cycle")]),
    );
  });

  it.each([
    [
      "an input the workflow does not take",
      "      pool: workers\n",
      "      pool: workers\n      pools: workers\n",
      "jobs.pr-autoscaler.with.pools: not an input of .github/workflows/apply.yml",
    ],
    [
      "a missing required input",
      "      pr-autoscaler-ref: v0.1.0\n",
      "",
      "the required input pr-autoscaler-ref is missing",
    ],
    [
      "a missing required secret",
      / {6}proxmox_api_token: .*\n/,
      "",
      "the required secret proxmox_api_token is missing",
    ],
    [
      "a tool ref other than the workflow's",
      "pr-autoscaler-ref: v0.1.0",
      "pr-autoscaler-ref: v0.2.0",
      "v0.2.0 differs from the uses: ref v0.1.0",
    ],
    [
      "an unpinned reusable workflow",
      "apply.yml@v0.1.0",
      "apply.yml@main",
      "is not pinned to a commit or a release tag",
    ],
  ])("in the caller: %s", (_name, from, to, problem) => {
    const problems = lintWorkflow(broken(callerText, from, to), options);
    expect(problems).toEqual(expect.arrayContaining([expect.stringContaining(problem)]));
  });
});
