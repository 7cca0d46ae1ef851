/**
 * Reports of a verdict over several pools (`guard --all-pools`): one comment and one status for
 * every pool of the Terraform root, naming each pool's change, VMs and the sizes waited for.
 */
import { describe, expect, it } from "@jest/globals";
import { renderApplyReport } from "../../src/apply/report-apply.ts";
import { renderPlanReport } from "../../src/apply/report-plan.ts";
import { type GuardVerdict, parseGuardVerdict } from "../../src/apply/report-verdict.ts";
import type { WaitStop } from "../../src/apply/report-wait.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";

/** gpu 3 → 2 with workers 3, unchanged, as `guard --all-pools --json` writes it. */
const GPU_DOWN: GuardVerdict = {
  verdict: "pass",
  expected: null,
  creates: [],
  destroys: [
    { address: "terraform_data.gpu[2]", name: "talos-gpu-03", node: "talos-gpu-03", pool: "gpu" },
  ],
  alsoAllowed: [{ address: "terraform_data.gpu_config[2]", actions: ["delete"] }],
  offending: [],
  warnings: [],
  pools: [
    { name: "workers", expected: { from: 3, to: 3 } },
    { name: "gpu", expected: { from: 3, to: 2 } },
  ],
};

function plan(verdict: GuardVerdict) {
  return renderPlanReport({
    pool: undefined,
    sha: SHA,
    runUrl: undefined,
    outcome: { kind: "checked", verdict },
    context: "pr-autoscaler/plan-guard",
    log: undefined,
  });
}

function apply(verdict: GuardVerdict, result: "ok" | "failed", failedStep?: "nodes") {
  return renderApplyReport({
    pool: undefined,
    sha: SHA,
    runUrl: undefined,
    result,
    verdict,
    failedStep,
    uncordon: undefined,
    context: "pr-autoscaler/apply",
    log: undefined,
  });
}

describe("reports over several pools", () => {
  it("read the verdict file back with its pools", () => {
    expect(parseGuardVerdict(JSON.stringify(GPU_DOWN), "verdict.json")).toEqual(GPU_DOWN);
  });

  it("name each pool's change, the VM's pool, and the size waited for after merge", () => {
    const { body, status } = plan(GPU_DOWN);
    expect(body).toContain("Pools: `workers` 3 workers, unchanged; `gpu` **3 → 2 workers**.");
    expect(body).toContain("| Change | Pool | VM | Terraform address | Kubernetes node |");
    expect(body).toContain(
      "| destroy | `gpu` | `talos-gpu-03` | `terraform_data.gpu[2]` | `talos-gpu-03`, drained first |",
    );
    expect(body).toContain("waits until pool `gpu` has 2 Ready nodes");
    expect(body).not.toContain("pool `workers` has");
    expect(status.description).toBe("Passed: gpu 3 → 2 workers, destroy talos-gpu-03");
  });

  it("say so when no pool changes size", () => {
    const same: GuardVerdict = {
      ...GPU_DOWN,
      destroys: [],
      alsoAllowed: [],
      pools: [
        { name: "workers", expected: { from: 3, to: 3 } },
        { name: "gpu", expected: { from: 2, to: 2 } },
      ],
    };
    expect(plan(same).status.description).toBe("Passed: no worker VM is created or destroyed");
    const refused = plan({
      ...same,
      verdict: "refuse",
      offending: [{ address: "terraform_data.control_plane[0]", actions: ["update"], reason: "x" }],
    });
    expect(refused.status.description).toBe(
      "Refused: 1 change is not the expected worker change (no pool changes size)",
    );
  });

  it("after the apply, list the pools that reached their size, or the ones waited for in vain", () => {
    const done = apply(GPU_DOWN, "ok");
    expect(done.body).toContain(
      "| Nodes | ✅ deleted the Node objects of the destroyed VMs; pool `gpu` has 2 Ready nodes |",
    );
    expect(done.status.description).toBe("Applied: gpu 3 → 2 workers, destroy talos-gpu-03");
    const late = apply(GPU_DOWN, "failed", "nodes");
    expect(late.body).toContain("not every pool reached its Ready nodes (`gpu`: 2)");
  });

  it("after a failed wait, also name the pool whose wait wrote no result", () => {
    const both: GuardVerdict = {
      ...GPU_DOWN,
      pools: [
        { name: "workers", expected: { from: 3, to: 4 } },
        { name: "gpu", expected: { from: 3, to: 2 } },
      ],
    };
    const workers: WaitStop = {
      outcome: "timed-out",
      pool: "workers",
      count: 4,
      nodesRead: true,
      ready: 3,
      missing: 1,
      gone: [],
      message: "the pool has 3 of 4 nodes Ready (1 missing)",
    };
    const input = {
      pool: undefined,
      sha: SHA,
      runUrl: undefined,
      result: "failed" as const,
      verdict: both,
      failedStep: "nodes" as const,
      uncordon: undefined,
      context: "pr-autoscaler/apply",
      log: undefined,
    };
    const report = renderApplyReport({ ...input, waits: [workers] });
    expect(report.status.description).toBe(
      "Failed waiting for nodes: applied; pool workers: 3/4 Ready; no wait result for pool gpu",
    );
    expect(report.body).toContain(
      "did not succeed (pool `workers`: the pool has 3 of 4 nodes Ready (1 missing)). The wait for pool `gpu` wrote no result: it was cancelled, or stopped before it could. Nothing is rolled back.",
    );
    // Every pool's result read: none is named as missing.
    const gpu: WaitStop = {
      ...workers,
      outcome: "ready",
      pool: "gpu",
      count: 2,
      ready: 2,
      missing: 0,
    };
    const all = renderApplyReport({ ...input, waits: [workers, gpu] });
    expect(all.status.description).toBe(
      "Failed waiting for nodes: applied; pool workers: 3/4 Ready",
    );
  });

  it("says a pool after the wait a cancel stopped was not waited for, as no wait starts after it", () => {
    // The workflow waits for workers, then gpu, and starts no wait after a cancel.
    const both: GuardVerdict = {
      ...GPU_DOWN,
      pools: [
        { name: "workers", expected: { from: 3, to: 4 } },
        { name: "gpu", expected: { from: 3, to: 2 } },
      ],
    };
    const stopped = (pool: string): WaitStop => ({
      outcome: "cancelled",
      pool,
      count: pool === "workers" ? 4 : 2,
      nodesRead: true,
      ready: 3,
      missing: pool === "workers" ? 1 : 0,
      gone: [],
      message: "received SIGINT: the pool has 3 of 4 nodes Ready (1 missing)",
    });
    const input = {
      pool: undefined,
      sha: SHA,
      runUrl: undefined,
      result: "failed" as const,
      verdict: both,
      failedStep: "nodes" as const,
      cancelled: true,
      uncordon: undefined,
      context: "pr-autoscaler/apply",
      log: undefined,
    };
    const report = renderApplyReport({ ...input, waits: [stopped("workers")] });
    expect(report.status.description).toBe(
      "Cancelled waiting for nodes: applied; pool workers: cancelled, 3/4 Ready; pool gpu not waited for",
    );
    expect(report.body).toContain(
      "The wait for pool `gpu` was not started: the run was cancelled before it. Nothing is rolled back.",
    );
    expect(report.body).not.toContain("wrote no result");
    // A pool before the stopped one ran its wait first: its missing result is not explained.
    const first = renderApplyReport({ ...input, waits: [stopped("gpu")] });
    expect(first.status.description).toContain("no wait result for pool workers");
    expect(first.body).toContain(
      "The wait for pool `workers` wrote no result: it was cancelled, or stopped before it could.",
    );
    expect(first.body).not.toContain("not started");
  });
});
