/**
 * The reusable workflow's jobs, run step by step as a GitHub runner would (bash with
 * `-eo pipefail`, `if:` conditions, step outputs and outcomes), with the example caller's inputs
 * and secrets. The real `pr-autoscaler guard` and `report` run (report in --dry-run); terraform,
 * kubectl, drain and wait-nodes are stand-ins whose results each scenario chooses.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, jest } from "@jest/globals";
import {
  type DrainResult,
  emptyNodeReport,
  type NodeReport,
} from "../../src/apply/drain-result.ts";
import { callsOf, flag, reportArgs } from "./support/calls.ts";
import { createSandbox, REPO_SECRETS, type Sandbox } from "./support/workflow-sandbox.ts";

const plans = fileURLToPath(new URL("../fixtures/terraform/talos-proxmox-plans/", import.meta.url));

// Each test runs a job: its steps in bash, the real `guard` and `report` each a Node.js process
// of their own. On a machine whose two cores also ran other work, an apply job took 20 to 30 s:
// the default 30 s is no limit to wait for it (the other workflow tests allow 2 or 3 minutes).
jest.setTimeout(120_000);

async function plan(name: "scale-down-4-to-3.json" | "scale-up-3-to-4.json"): Promise<string> {
  return readFile(join(plans, name), "utf8");
}

/** The scale-up plan without its creates: three workers, nothing to do. */
/** A sandbox for the merged change workers 4 → 3, with the plan of that change. */
async function scaleDownSandbox(): Promise<Sandbox> {
  return createSandbox({ before: 4, after: 3, planJson: await plan("scale-down-4-to-3.json") });
}

async function noChangePlan(): Promise<string> {
  const json = JSON.parse(await plan("scale-up-3-to-4.json")) as {
    resource_changes: { change: { actions: string[] } }[];
  };
  json.resource_changes = json.resource_changes.filter((c) => c.change.actions[0] === "no-op");
  return JSON.stringify(json);
}

function pullRequestEvent(sandbox: Sandbox) {
  return {
    event_name: "pull_request",
    event: { pull_request: { number: 12, head: { sha: sandbox.headSha } } },
  };
}

function pushEvent(sandbox: Sandbox) {
  return { event_name: "push", event: { before: sandbox.baseSha } };
}

describe("the pull request job", () => {
  it("plans with the read-only token, guards, and reports a passing scale-up", async () => {
    const sandbox = await createSandbox({
      before: 3,
      after: 4,
      planJson: await plan("scale-up-3-to-4.json"),
    });
    const job = await sandbox.runJob("plan", { event: pullRequestEvent(sandbox) });
    const calls = await sandbox.calls();

    expect(job.ran).toBe(true);
    expect(job.status).toBe("success");
    expect(job.steps.map((s) => `${s.id ?? s.name}: ${s.outcome}`)).toEqual([
      "Check out the pull request merged into its base: success",
      "Check out pr-autoscaler: success",
      "Set up Node.js: success",
      "tool: success",
      "Set up Terraform: success",
      "prepare: success",
      "init: success",
      "plan: success",
      "guard: success",
      "Report on the pull request: success",
    ]);
    // The base's tfvars came from the merge commit's first parent.
    expect(await readFile(join(sandbox.runnerTemp, "pr-autoscaler/tfvars-before"), "utf8")).toMatch(
      /^worker_count\s+= 3$/m,
    );
    const [planCall] = callsOf(calls, "terraform", "plan");
    expect(planCall?.env.TF_VAR_proxmox_api_token).toBe(REPO_SECRETS.PROXMOX_PLAN_API_TOKEN);
    expect(planCall?.env.PROXMOX_VE_API_TOKEN).toBe(REPO_SECRETS.PROXMOX_PLAN_API_TOKEN);
    // The pull request job never holds the drain identity nor the apply token.
    for (const call of calls) {
      expect(JSON.stringify(call.env)).not.toContain(REPO_SECRETS.PROXMOX_API_TOKEN);
      expect(call.env.KUBECONFIG).toBeUndefined();
    }
    expect(callsOf(calls, "terraform", "apply")).toEqual([]);
    expect(job.step("guard").outputs).toEqual({ "exit-code": "0" });

    const args = reportArgs(calls, "plan");
    expect(flag(args, "--pr")).toBe("12");
    expect(flag(args, "--sha")).toBe(sandbox.headSha);
    expect(flag(args, "--pool")).toBe("workers");
    expect(flag(args, "--failed-step")).toBe("");
    expect(flag(args, "--verdict")).toBe(join(sandbox.runnerTemp, "pr-autoscaler/verdict.json"));
    const report = job.step("Report on the pull request").stdout;
    expect(report).toContain("### ✅ pr-autoscaler plan guard: passed");
    expect(report).toContain("Pool `workers`: **3 → 4 workers**.");
    expect(report).toContain(
      `status pr-autoscaler/plan-guard = success on ${sandbox.headSha.slice(0, 12)}: Passed: 3 → 4 workers, create talos-worker-4`,
    );
    expect(report).toContain("[workflow run](https://github.com/homelab/infra/actions/runs/4242)");
  });

  it("fails the job and reports the refusal when the plan is not the merged change", async () => {
    // The tfvars file does not change, but the plan creates a worker.
    const sandbox = await createSandbox({
      before: 3,
      after: 3,
      planJson: await plan("scale-up-3-to-4.json"),
    });
    const job = await sandbox.runJob("plan", { event: pullRequestEvent(sandbox) });

    expect(job.status).toBe("failure");
    expect(job.step("guard").outcome).toBe("failure");
    expect(job.step("guard").outputs).toEqual({ "exit-code": "1" });
    const report = job.step("Report on the pull request");
    expect(report.outcome).toBe("success");
    expect(report.stdout).toContain("### ❌ pr-autoscaler plan guard: refused");
    expect(report.stdout).toContain("= failure on");
  });

  it("reports a failed terraform plan as an error, with no verdict", async () => {
    const sandbox = await createSandbox({
      before: 3,
      after: 4,
      planJson: await plan("scale-up-3-to-4.json"),
    });
    const job = await sandbox.runJob("plan", {
      event: pullRequestEvent(sandbox),
      env: { STUB_TF_PLAN_FAIL: "1" },
    });
    const calls = await sandbox.calls();

    expect(job.step("plan").outcome).toBe("failure");
    expect(job.step("guard").outcome).toBe("skipped");
    const args = reportArgs(calls, "plan");
    expect(flag(args, "--failed-step")).toBe("plan");
    expect(args).not.toContain("--verdict");
    expect(job.step("Report on the pull request").stdout).toContain(
      "Could not check the plan: terraform plan failed",
    );
  });

  it("plans with the apply token when there is no read-only one", async () => {
    const sandbox = await createSandbox({
      before: 3,
      after: 4,
      planJson: await plan("scale-up-3-to-4.json"),
    });
    const { PROXMOX_PLAN_API_TOKEN: _, ...secrets } = REPO_SECRETS;
    await sandbox.runJob("plan", { event: pullRequestEvent(sandbox), secrets });
    const [planCall] = callsOf(await sandbox.calls(), "terraform", "plan");
    expect(planCall?.env.TF_VAR_proxmox_api_token).toBe(REPO_SECRETS.PROXMOX_API_TOKEN);
  });

  it("does not run on a push", async () => {
    const sandbox = await createSandbox({
      before: 3,
      after: 4,
      planJson: await plan("scale-up-3-to-4.json"),
    });
    const job = await sandbox.runJob("plan", { event: pushEvent(sandbox) });
    expect(job.ran).toBe(false);
    expect(await sandbox.calls()).toEqual([]);
  });
});

describe("the apply job", () => {
  it("lets the drain delete emptyDir data on the node of a pool whose repo config allows it", async () => {
    // The example's repo config as of the merged commit, its pool letting emptyDir data go.
    const example = fileURLToPath(
      new URL("../../examples/talos-proxmox/.github/pr-autoscaler.yml", import.meta.url),
    );
    const repoConfig = (await readFile(example, "utf8")).replace(
      "    removal:\n",
      "    scaleDown:\n      deleteEmptyDirData: true\n    removal:\n",
    );
    const sandbox = await createSandbox({
      before: 4,
      after: 3,
      planJson: await plan("scale-down-4-to-3.json"),
      repoConfig,
    });
    const job = await sandbox.runJob("apply", { event: pushEvent(sandbox) });
    const calls = await sandbox.calls();
    const temp = join(sandbox.runnerTemp, "pr-autoscaler");

    expect(job.status).toBe("success");
    expect(job.step("guard").outputs["drain-emptydir-nodes"]).toBe("talos-worker-4");
    expect(callsOf(calls, "pr-autoscaler", "drain")[0]?.args).toEqual([
      "drain",
      "talos-worker-4",
      "--kubeconfig",
      join(temp, "kubeconfig"),
      "--timeout",
      "10m",
      "--delete-emptydir-data-on",
      "talos-worker-4",
      "--result-file",
      join(temp, "drain.json"),
    ]);
  });

  it("drains, applies the guarded plan file, removes the Node object and waits, in that order", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", { event: pushEvent(sandbox) });
    const calls = await sandbox.calls();
    const temp = join(sandbox.runnerTemp, "pr-autoscaler");

    expect(job.status).toBe("success");
    expect(
      calls
        .filter((call) => call.tool !== "ssh-add" && call.tool !== "npm")
        .map((call) => [call.tool, ...call.args.slice(0, 2)].join(" ")),
    ).toEqual([
      "pr-autoscaler --version",
      "pr-autoscaler report apply",
      "ssh-agent -s",
      "terraform init -input=false",
      "terraform plan -input=false",
      "terraform show -json",
      "pr-autoscaler guard --plan",
      "pr-autoscaler report outputs",
      "pr-autoscaler drain talos-worker-4",
      "terraform apply -input=false",
      `kubectl --kubeconfig ${join(temp, "kubeconfig")}`,
      "pr-autoscaler wait-nodes --pool",
      "pr-autoscaler report apply",
      "ssh-agent -k",
    ]);
    expect(callsOf(calls, "pr-autoscaler", "drain")[0]?.args).toEqual([
      "drain",
      "talos-worker-4",
      "--kubeconfig",
      join(temp, "kubeconfig"),
      "--timeout",
      "10m",
      "--result-file",
      join(temp, "drain.json"),
    ]);
    const [apply] = callsOf(calls, "terraform", "apply");
    expect(apply?.args).toEqual([
      "apply",
      "-input=false",
      "-lock-timeout=10m",
      join(temp, "tfplan"),
    ]);
    expect(apply?.env.PROXMOX_VE_API_TOKEN).toBe(REPO_SECRETS.PROXMOX_API_TOKEN);
    expect(apply?.env.SSH_AUTH_SOCK).toBe(join(sandbox.runnerTemp, "agent.sock"));
    const [planCall] = callsOf(calls, "terraform", "plan");
    expect(planCall?.env.TF_VAR_proxmox_api_token).toBe(REPO_SECRETS.PROXMOX_API_TOKEN);
    expect(planCall?.args).toContain("-detailed-exitcode");
    const [init] = callsOf(calls, "terraform", "init");
    expect(init?.args).toEqual([
      "init",
      "-input=false",
      `-backend-config=${join(temp, "backend.tfbackend")}`,
    ]);
    expect(callsOf(calls, "kubectl")[0]?.args).toEqual([
      "--kubeconfig",
      join(temp, "kubeconfig"),
      "delete",
      "node",
      "talos-worker-4",
      "--ignore-not-found",
      "--wait=true",
    ]);
    expect(callsOf(calls, "pr-autoscaler", "wait-nodes")[0]?.args).toEqual([
      "wait-nodes",
      "--pool",
      "workers",
      "--count",
      "3",
      // A scale-down creates no VM, so no --added: no new node to wait for.
      "--timeout",
      "15m",
      // When the apply began: nodes not Ready before it are not waited for.
      "--since",
      expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      "--kubeconfig",
      join(temp, "kubeconfig"),
      // Its result, for the report to say what a failed wait lacked.
      "--result-file",
      join(temp, "wait-workers.json"),
    ]);
    expect(job.step("uncordon").outcome).toBe("skipped");

    // Credentials: written for this job only, readable by the runner's user alone.
    expect(await readFile(join(temp, "kubeconfig"), "utf8")).toBe(
      `${REPO_SECRETS.PR_AUTOSCALER_DRAIN_KUBECONFIG}\n`,
    );
    expect((await stat(join(temp, "kubeconfig"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(temp, "backend.tfbackend"))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(sandbox.root, "stubs/ssh-add.stdin"), "utf8")).toBe(
      `${REPO_SECRETS.PROXMOX_SSH_PRIVATE_KEY}\n`,
    );

    const started = reportArgs(calls, "apply", "started");
    expect(started).toEqual([
      "report",
      "apply",
      "--sha",
      sandbox.headSha,
      "--result",
      "started",
      "--context",
      "pr-autoscaler/apply",
    ]);
    const final = reportArgs(calls, "apply", "ok");
    expect(flag(final, "--failed-step")).toBe("");
    expect(flag(final, "--uncordon")).toBe("");
    const report = job.step("Report on the merged pull request").stdout;
    expect(report).toContain("### ✅ pr-autoscaler apply: done");
    expect(report).toContain("| Drain | ✅ drained `talos-worker-4` |");
    expect(report).toContain(
      `status pr-autoscaler/apply = success on ${sandbox.headSha.slice(0, 12)}`,
    );
  });

  it("uncordons the drained node and says so when terraform apply fails", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", {
      event: pushEvent(sandbox),
      env: { STUB_TF_APPLY_EXIT: "1" },
    });
    const calls = await sandbox.calls();

    expect(job.status).toBe("failure");
    expect(job.step("apply").outcome).toBe("failure");
    expect(job.step("uncordon").outcome).toBe("success");
    expect(job.step("removenodes").outcome).toBe("skipped");
    expect(job.step("wait").outcome).toBe("skipped");
    expect(callsOf(calls, "kubectl").map((call) => call.args.slice(2))).toEqual([
      ["uncordon", "talos-worker-4"],
    ]);
    const final = reportArgs(calls, "apply", "failed");
    expect(flag(final, "--failed-step")).toBe("apply");
    expect(flag(final, "--uncordon")).toBe("ok");
    const report = job.step("Report on the merged pull request").stdout;
    expect(report).toContain("The drained node `talos-worker-4` was uncordoned.");
    expect(report).toContain("Failed at terraform apply: nodes uncordoned");
  });

  it("uncordons the drained node and reports it when the run is cancelled between the drain and the apply", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", { event: pushEvent(sandbox), cancelAfter: "drain" });
    const calls = await sandbox.calls();

    expect(job.status).toBe("cancelled");
    expect(job.step("drain").outcome).toBe("success");
    expect(job.step("apply").outcome).toBe("skipped");
    expect(callsOf(calls, "terraform", "apply")).toEqual([]);
    expect(job.step("uncordon").outcome).toBe("success");
    expect(job.step("removenodes").outcome).toBe("skipped");
    const report = job.step("Report on the merged pull request");
    expect(report.outcome).toBe("success");
    const final = reportArgs(calls, "apply", "failed");
    expect(flag(final, "--failed-step")).toBe("apply");
    expect(flag(final, "--uncordon")).toBe("ok");
    expect(final).toContain("--cancelled");
    expect(report.stdout).toContain("### ⏹️ pr-autoscaler apply: cancelled");
    expect(report.stdout).toContain(
      "`terraform apply` did not finish: it failed, or the run was cancelled before it ended.",
    );
    expect(report.stdout).toContain("The drained node `talos-worker-4` was uncordoned.");
    expect(report.stdout).toContain("Cancelled at terraform apply: nodes uncordoned");
  });

  it("reports a run cancelled before the drain as cancelled with nothing changed, not as a failed step", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", {
      event: pushEvent(sandbox),
      cancelAfter: "current",
    });
    const calls = await sandbox.calls();

    expect(job.step("init").outcome).toBe("skipped");
    const final = reportArgs(calls, "apply", "failed");
    expect(flag(final, "--failed-step")).toBe("init");
    expect(final).toContain("--cancelled");
    const report = job.step("Report on the merged pull request").stdout;
    expect(report).toContain("| Plan | ❌ cancelled |");
    expect(report).toContain(
      "**What changed:** nothing. The run was cancelled before any node was drained or anything applied.",
    );
    // Cancelled before the guard's verdict: whether the run would have drained is not known.
    expect(report).toContain("Cancelled before the apply: nothing changed");
    expect(report).not.toContain("terraform init failed");
  });

  it("reports a run cancelled after the guard passed, before the drain began, as cancelled with nothing changed", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", { event: pushEvent(sandbox), cancelAfter: "guard" });
    const calls = await sandbox.calls();

    expect(job.step("guard").outcome).toBe("success");
    expect(job.step("drain").outcome).toBe("skipped");
    expect(job.step("apply").outcome).toBe("skipped");
    expect(job.step("uncordon").outcome).toBe("skipped");
    expect(callsOf(calls, "pr-autoscaler", "drain")).toEqual([]);
    const final = reportArgs(calls, "apply", "failed");
    expect(flag(final, "--failed-step")).toBe("guard");
    expect(final).toContain("--cancelled");
    const report = job.step("Report on the merged pull request");
    expect(report.outcome).toBe("success");
    expect(report.stdout).toContain("### ⏹️ pr-autoscaler apply: cancelled");
    expect(report.stdout).toContain("| Plan guard | ✅ passed |");
    expect(report.stdout).toContain("| Drain | ❌ cancelled before it began |");
    expect(report.stdout).toContain(
      "**What changed:** nothing. The run was cancelled before any node was drained or anything applied.",
    );
    expect(report.stdout).toContain("Cancelled before the drain: nothing changed");
    expect(report.stdout).not.toContain("cannot place");
  });

  it("reports a scale-up cancelled after the guard passed, with nothing to drain, as cancelled with nothing changed", async () => {
    const sandbox = await createSandbox({
      before: 3,
      after: 4,
      planJson: await plan("scale-up-3-to-4.json"),
    });
    const job = await sandbox.runJob("apply", { event: pushEvent(sandbox), cancelAfter: "guard" });
    const calls = await sandbox.calls();

    expect(job.step("drain").outcome).toBe("skipped");
    expect(job.step("apply").outcome).toBe("skipped");
    expect(callsOf(calls, "terraform", "apply")).toEqual([]);
    const final = reportArgs(calls, "apply", "failed");
    expect(flag(final, "--failed-step")).toBe("guard");
    expect(final).toContain("--cancelled");
    const report = job.step("Report on the merged pull request").stdout;
    expect(report).toContain("| Plan guard | ✅ passed |");
    expect(report).toContain("| Drain | ✅ nothing to drain |");
    expect(report).toContain("| terraform apply | ❌ cancelled before it began |");
    expect(report).toContain(
      "**What changed:** nothing. The run was cancelled before `terraform apply` began; the change drains no node.",
    );
    expect(report).toContain("Cancelled before the apply: nothing changed");
    expect(report).not.toContain("before the drain");
  });

  it("reports a run cancelled once the wait for the nodes had succeeded as applied", async () => {
    const sandbox = await scaleDownSandbox();
    const wait = {
      outcome: "ready",
      pool: "workers",
      selector: "every node that is not control plane",
      count: 3,
      since: "2026-11-22T18:01:05Z",
      nodesRead: true,
      ready: 3,
      missing: 0,
      gone: [],
      elapsedMs: 60_000,
    };
    const job = await sandbox.runJob("apply", {
      event: pushEvent(sandbox),
      env: { STUB_WAIT_JSON: JSON.stringify(wait) },
      cancelAfter: "wait",
    });
    const calls = await sandbox.calls();

    expect(job.status).toBe("cancelled");
    expect(job.step("wait").outcome).toBe("success");
    const final = reportArgs(calls, "apply", "ok");
    expect(flag(final, "--failed-step")).toBe("");
    expect(final).not.toContain("--cancelled");
    const report = job.step("Report on the merged pull request").stdout;
    expect(report).toContain("### ✅ pr-autoscaler apply: done");
    expect(report).toContain(
      `status pr-autoscaler/apply = success on ${sandbox.headSha.slice(0, 12)}`,
    );
    expect(report).not.toContain("within the timeout");
  });

  it("reports a run cancelled after the apply as applied, with the nodes not checked", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", { event: pushEvent(sandbox), cancelAfter: "apply" });
    const calls = await sandbox.calls();

    expect(job.step("apply").outcome).toBe("success");
    expect(job.step("removenodes").outcome).toBe("skipped");
    expect(job.step("wait").outcome).toBe("skipped");
    const final = reportArgs(calls, "apply", "failed");
    expect(flag(final, "--failed-step")).toBe("nodes");
    expect(final).toContain("--cancelled");
    const report = job.step("Report on the merged pull request").stdout;
    expect(report).toContain("| Nodes | ❌ cancelled |");
    expect(report).toContain(
      "but the run was cancelled before the wait for the nodes ended, so whether the nodes are Ready, and the destroyed VMs' Node objects deleted, is not known.",
    );
    expect(report).toContain("Cancelled after the apply: applied; the nodes not checked");
    expect(report).not.toContain("cannot place");
  });

  it("still waits for the nodes when the delete of the destroyed VM's Node object fails, and reports both", async () => {
    const sandbox = await scaleDownSandbox();
    const wait = {
      outcome: "ready",
      pool: "workers",
      selector: "every node that is not control plane",
      count: 3,
      since: "2026-11-22T18:01:05Z",
      nodesRead: true,
      ready: 3,
      missing: 0,
      ignored: ["talos-worker-4"],
      gone: [],
      elapsedMs: 60_000,
    };
    const job = await sandbox.runJob("apply", {
      event: pushEvent(sandbox),
      env: { STUB_KUBECTL_EXIT: "1", STUB_WAIT_JSON: JSON.stringify(wait) },
    });
    const calls = await sandbox.calls();

    expect(job.step("apply").outcome).toBe("success");
    expect(job.step("uncordon").outcome).toBe("skipped");
    expect(job.step("removenodes").outcome).toBe("failure");
    expect(job.step("wait").outcome).toBe("success");
    expect(callsOf(calls, "kubectl").map((call) => call.args.slice(2, 4))).toEqual([
      ["delete", "node"],
    ]);
    // The Node object left behind is in no pool, and not waited for.
    const waitArgs = callsOf(calls, "pr-autoscaler", "wait-nodes")[0]?.args ?? [];
    expect(flag(waitArgs, "--ignore")).toBe("talos-worker-4");
    const final = reportArgs(calls, "apply", "failed");
    expect(flag(final, "--failed-step")).toBe("delete-nodes");
    expect(flag(final, "--uncordon")).toBe("");
    expect(flag(final, "--wait-result")).toBe(
      join(sandbox.runnerTemp, "pr-autoscaler", "wait-workers.json"),
    );
    expect(final).not.toContain("--cancelled");
    const report = job.step("Report on the merged pull request").stdout;
    expect(report).toContain("### ❌ pr-autoscaler apply: failed");
    expect(report).toContain(
      "| Nodes | ❌ failed: the Node objects of the destroyed VMs not deleted |",
    );
    expect(report).toContain(
      "but deleting the Node object of `talos-worker-4` failed: it stays, NotReady and cordoned. The wait for pool `workers`, which left it out, ended with its nodes Ready. Nothing is rolled back.",
    );
    expect(report).toContain("run `kubectl delete node talos-worker-4`");
    expect(report).toContain("Failed deleting Node objects: applied; pool workers Ready");
  });

  it("says the nodes were not checked when the delete failed and no wait gave a result", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", {
      event: pushEvent(sandbox),
      env: { STUB_KUBECTL_EXIT: "1", STUB_WAIT_EXIT: "1" },
    });
    expect(job.step("removenodes").outcome).toBe("failure");
    expect(job.step("wait").outcome).toBe("failure");
    const final = reportArgs(await sandbox.calls(), "apply", "failed");
    expect(flag(final, "--failed-step")).toBe("delete-nodes");
    expect(final).not.toContain("--wait-result");
    const report = job.step("Report on the merged pull request").stdout;
    expect(report).toContain(
      "No wait for the nodes gave a result (it was cancelled, or stopped before it could), so whether the pools' nodes are Ready is not known.",
    );
    expect(report).toContain("Failed deleting Node objects: applied; the nodes not checked");
  });

  it("says so when the uncordon after a failed apply fails too", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", {
      event: pushEvent(sandbox),
      env: { STUB_TF_APPLY_EXIT: "1", STUB_KUBECTL_EXIT: "1" },
    });
    expect(job.step("uncordon").outcome).toBe("failure");
    expect(flag(reportArgs(await sandbox.calls(), "apply", "failed"), "--uncordon")).toBe("failed");
    expect(job.step("Report on the merged pull request").stdout).toContain(
      "Uncordoning `talos-worker-4` failed: run `kubectl uncordon talos-worker-4`.",
    );
  });

  it("applies nothing when the drain fails, and leaves the uncordon to drain", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", {
      event: pushEvent(sandbox),
      env: { STUB_DRAIN_EXIT: "1" },
    });
    const calls = await sandbox.calls();

    expect(job.step("drain").outcome).toBe("failure");
    expect(job.step("apply").outcome).toBe("skipped");
    expect(job.step("uncordon").outcome).toBe("skipped");
    expect(callsOf(calls, "terraform", "apply")).toEqual([]);
    expect(callsOf(calls, "kubectl")).toEqual([]);
    expect(flag(reportArgs(calls, "apply", "failed"), "--failed-step")).toBe("drain");
    expect(job.step("Report on the merged pull request").stdout).toContain(
      "Failed at drain: nothing applied",
    );
  });

  /** A drain result as `pr-autoscaler drain --json` writes it, for talos-worker-4. */
  function drainResult(outcome: "drained" | "cancelled", leftCordoned: string[]): string {
    const node = {
      ...emptyNodeReport("talos-worker-4"),
      state: outcome,
      cordoned: true,
      uncordoned: leftCordoned.length === 0,
      evicted: ["default/web-7d4b9c-x2x8q"],
    } satisfies NodeReport;
    const result: DrainResult = {
      outcome,
      dryRun: false,
      nodes: [node],
      message: "cancelled by SIGTERM",
      leftCordoned,
      uncordonErrors: [],
      elapsedMs: 41_000,
    };
    return `${JSON.stringify(result, null, 2)}\n`;
  }

  it("says the nodes are uncordoned when the drain's result says it was cancelled and uncordoned them", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", {
      event: pushEvent(sandbox),
      env: { STUB_DRAIN_EXIT: "143", STUB_DRAIN_JSON: drainResult("cancelled", []) },
    });
    const calls = await sandbox.calls();

    expect(job.step("drain").outcome).toBe("failure");
    expect(job.step("apply").outcome).toBe("skipped");
    expect(callsOf(calls, "terraform", "apply")).toEqual([]);
    const final = reportArgs(calls, "apply", "failed");
    expect(flag(final, "--failed-step")).toBe("drain");
    const temp = join(sandbox.runnerTemp, "pr-autoscaler");
    expect(flag(final, "--drain-result")).toBe(join(temp, "drain.json"));
    const report = job.step("Report on the merged pull request").stdout;
    expect(report).toContain(
      "Cancelled during the drain: nothing applied; the drain uncordoned the nodes it had cordoned (its log says which)",
    );
    expect(report).not.toContain("check for cordoned nodes");
    // The log the report quotes holds the drain's progress and its readable result; the JSON
    // one went to the file the report read.
    const log = await readFile(join(temp, "log.txt"), "utf8");
    expect(log).toContain("drain (stand-in): exit 143\ndrain (stand-in): readable result\n");
    expect(log).not.toContain('"outcome"');
    expect(flag(callsOf(calls, "pr-autoscaler", "drain")[0]?.args ?? [], "--result-file")).toBe(
      join(temp, "drain.json"),
    );
  });

  it("keeps to 'check for cordoned nodes' when a cancelled drain left a node cordoned", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", {
      event: pushEvent(sandbox),
      env: {
        STUB_DRAIN_EXIT: "130",
        STUB_DRAIN_JSON: drainResult("cancelled", ["talos-worker-4"]),
      },
    });
    const report = job.step("Report on the merged pull request").stdout;
    expect(report).toContain("Failed at drain: nothing applied; check for cordoned nodes");
    expect(report).not.toContain("Cancelled during the drain");
  });

  it("keeps to 'check for cordoned nodes' when the drain was killed before it wrote its result", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", {
      event: pushEvent(sandbox),
      env: { STUB_DRAIN_EXIT: "137" },
    });
    const calls = await sandbox.calls();
    expect(job.step("drain").outcome).toBe("failure");
    expect(flag(reportArgs(calls, "apply", "failed"), "--drain-result")).toBeUndefined();
    expect(job.step("Report on the merged pull request").stdout).toContain(
      "Failed at drain: nothing applied; check for cordoned nodes",
    );
  });

  it("says cancelled, with 'check for cordoned nodes', when a cancel killed the drain before it wrote its result", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", {
      event: pushEvent(sandbox),
      env: { STUB_DRAIN_EXIT: "137" },
      cancelAfter: "drain",
    });
    const calls = await sandbox.calls();
    expect(job.status).toBe("cancelled");
    const final = reportArgs(calls, "apply", "failed");
    expect(flag(final, "--failed-step")).toBe("drain");
    expect(final).toContain("--cancelled");
    const report = job.step("Report on the merged pull request").stdout;
    expect(report).toContain("### ⏹️ pr-autoscaler apply: cancelled");
    expect(report).toContain(
      "Cancelled during the drain: nothing applied; check for cordoned nodes",
    );
    expect(report).not.toContain("Failed at drain");
  });

  it("passes no drain result when a later step failed", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", {
      event: pushEvent(sandbox),
      env: { STUB_TF_APPLY_EXIT: "1", STUB_DRAIN_JSON: drainResult("drained", ["talos-worker-4"]) },
    });
    const final = reportArgs(await sandbox.calls(), "apply", "failed");
    expect(flag(final, "--failed-step")).toBe("apply");
    expect(flag(final, "--drain-result")).toBeUndefined();
    expect(job.step("Report on the merged pull request").outcome).toBe("success");
  });

  it("drains nothing and applies nothing when the guard refuses the merged plan", async () => {
    const sandbox = await createSandbox({
      before: 3,
      after: 3,
      planJson: await plan("scale-up-3-to-4.json"),
    });
    const job = await sandbox.runJob("apply", { event: pushEvent(sandbox) });
    const calls = await sandbox.calls();

    expect(job.step("guard").outcome).toBe("failure");
    for (const id of ["drain", "apply", "uncordon", "removenodes", "wait"]) {
      expect(job.step(id).outcome).toBe("skipped");
    }
    expect(callsOf(calls, "pr-autoscaler", "drain")).toEqual([]);
    expect(callsOf(calls, "terraform", "apply")).toEqual([]);
    const final = reportArgs(calls, "apply", "failed");
    expect(flag(final, "--failed-step")).toBe("guard");
    expect(flag(final, "--verdict")).toBe(join(sandbox.runnerTemp, "pr-autoscaler/verdict.json"));
    expect(job.step("Report on the merged pull request").stdout).toContain(
      "### 🛑 pr-autoscaler apply: refused, nothing applied",
    );
  });

  it("creates a worker without draining anything and waits for the bigger pool", async () => {
    const sandbox = await createSandbox({
      before: 3,
      after: 4,
      planJson: await plan("scale-up-3-to-4.json"),
    });
    const job = await sandbox.runJob("apply", { event: pushEvent(sandbox) });
    const calls = await sandbox.calls();

    expect(job.status).toBe("success");
    expect(job.step("guard").outputs).toEqual({
      "drain-nodes": "",
      "worker-count": "4",
      "worker-added": "1",
      "pool-counts": "",
      "pool-added": "",
      "pool-drain-nodes": "",
      "drain-emptydir-nodes": "",
    });
    expect(job.step("drain").outcome).toBe("skipped");
    expect(job.step("removenodes").outcome).toBe("skipped");
    // The VM the apply created must be one of the Ready nodes: a Node object an earlier VM
    // left behind cannot stand in for it.
    const wait = callsOf(calls, "pr-autoscaler", "wait-nodes")[0]?.args ?? [];
    expect(flag(wait, "--count")).toBe("4");
    expect(flag(wait, "--added")).toBe("1");
    expect(flag(wait, "--since")).toBe(job.step("apply").outputs.started);
    expect(job.step("Report on the merged pull request").stdout).toContain(
      "| Drain | ✅ nothing to drain |",
    );
  });

  it("applies nothing when the plan has no changes", async () => {
    const sandbox = await createSandbox({ before: 3, after: 3, planJson: await noChangePlan() });
    const job = await sandbox.runJob("apply", {
      event: pushEvent(sandbox),
      env: { STUB_TF_CHANGES: "false" },
    });
    const calls = await sandbox.calls();

    expect(job.status).toBe("success");
    expect(job.step("plan").outputs).toEqual({ changes: "false" });
    for (const id of ["drain", "apply", "removenodes", "wait"])
      expect(job.step(id).outcome).toBe("skipped");
    expect(callsOf(calls, "terraform", "apply")).toEqual([]);
    expect(job.step("Report on the merged pull request").stdout).toContain(
      "### ✅ pr-autoscaler apply: nothing to apply",
    );
  });

  it("reports nodes that never became Ready after a successful apply", async () => {
    const sandbox = await createSandbox({
      before: 3,
      after: 4,
      planJson: await plan("scale-up-3-to-4.json"),
    });
    // The new VM registered into the Node object an earlier VM of its name left, cordoned.
    const wait = {
      outcome: "timed-out",
      pool: "workers",
      selector: "every node that is not control plane",
      count: 4,
      added: 1,
      since: "2026-11-22T18:01:05Z",
      nodesRead: true,
      members: [],
      ready: 4,
      newlyReady: [],
      newCordoned: ["talos-worker-4"],
      notReadyBefore: [],
      waitingFor: [],
      stoppedReady: [],
      missing: 0,
      missingNew: 1,
      gone: [],
      message: "0 of 1 new nodes Ready and not cordoned: …",
      elapsedMs: 900_000,
    };
    const job = await sandbox.runJob("apply", {
      event: pushEvent(sandbox),
      env: { STUB_WAIT_EXIT: "1", STUB_WAIT_JSON: JSON.stringify(wait) },
    });
    expect(job.step("apply").outcome).toBe("success");
    expect(job.step("wait").outcome).toBe("failure");
    const final = reportArgs(await sandbox.calls(), "apply", "failed");
    expect(flag(final, "--failed-step")).toBe("nodes");
    expect(flag(final, "--wait-result")).toBe(
      join(sandbox.runnerTemp, "pr-autoscaler", "wait-workers.json"),
    );
    expect(job.step("Report on the merged pull request").stdout).toContain(
      "Failed waiting for nodes: applied; pool workers: new node talos-worker-4 cordoned",
    );
  });

  it("stops before touching anything without the drain identity's kubeconfig", async () => {
    const sandbox = await scaleDownSandbox();
    const { PR_AUTOSCALER_DRAIN_KUBECONFIG: _, ...secrets } = REPO_SECRETS;
    const job = await sandbox.runJob("apply", { event: pushEvent(sandbox), secrets });
    const calls = await sandbox.calls();

    expect(job.step("prepare").outcome).toBe("failure");
    expect(job.step("prepare").stdout).toContain("::error::the kubeconfig secret is empty");
    expect(callsOf(calls, "terraform")).toEqual([]);
    expect(flag(reportArgs(calls, "apply", "failed"), "--failed-step")).toBe("setup");
  });

  it("stops before planning when the branch cannot be fetched to check the commit is its tip", async () => {
    const sandbox = await scaleDownSandbox();
    // The branch was deleted since the push: the fetch finds no such ref.
    const job = await sandbox.runJob("apply", {
      event: { ...pushEvent(sandbox), ref: "refs/heads/release" },
    });
    const calls = await sandbox.calls();

    expect(job.step("prepare").outcome).toBe("success");
    expect(job.step("current").outcome).toBe("failure");
    expect(job.step("current").stdout).toContain(
      "::error::could not fetch release to check that this commit is still what it holds: nothing was drained or applied",
    );
    expect(callsOf(calls, "terraform")).toEqual([]);
    expect(callsOf(calls, "pr-autoscaler", "drain")).toEqual([]);
    expect(flag(reportArgs(calls, "apply", "failed"), "--failed-step")).toBe("setup");
    expect(job.step("Report on the merged pull request").stdout).toContain(
      "could not fetch release",
    );
  });

  it("runs only for pushes to a branch", async () => {
    const sandbox = await createSandbox({
      before: 3,
      after: 4,
      planJson: await plan("scale-up-3-to-4.json"),
    });
    const job = await sandbox.runJob("apply", {
      event: { ...pushEvent(sandbox), ref: "refs/tags/v1.0.0" },
    });
    expect(job.step("current").stdout).toContain(
      "::error::the apply job runs on pushes to a branch, not on refs/tags/v1.0.0",
    );
    expect(callsOf(await sandbox.calls(), "terraform")).toEqual([]);
  });

  it("refuses a push without a previous commit to compare with", async () => {
    const sandbox = await scaleDownSandbox();
    const job = await sandbox.runJob("apply", {
      event: { event_name: "push", event: { before: "0".repeat(40) } },
    });
    expect(job.step("prepare").outcome).toBe("failure");
    expect(job.step("prepare").stdout).toContain("::error::the push has no previous commit");
    expect(callsOf(await sandbox.calls(), "terraform")).toEqual([]);
  });
});
