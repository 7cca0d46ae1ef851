/**
 * The reusable workflow with two pools in one Terraform root (worker_count and gpu_count), run
 * as a runner would with the `pool` input left empty: one guard over every pool, one comment and
 * one status per event, the changed pools' nodes drained and waited for. The plans are real
 * `terraform show -json` output of test/fixtures/terraform/cluster-pools.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  appliedClusterPools,
  CLUSTER_POOLS_GUARD,
  clusterPoolsTfvars,
  type TerraformWorkdir,
  tfvarsPlans,
} from "../support/terraform.ts";
import { callsOf, flag, reportArgs } from "./support/calls.ts";
import { createSandbox, type Sandbox } from "./support/workflow-sandbox.ts";

const TIMEOUT = 120_000;

function repoConfig(gpuIndexBase: number): string {
  return `pools:
  - name: workers
    target: { file: terraform/terraform.tfvars, path: worker_count }
    selector:
      matchExpressions:
        - { key: node.kubernetes.io/pool, operator: DoesNotExist }
    max: 6
  - name: gpu
    target: { file: terraform/terraform.tfvars, path: gpu_count }
    selector:
      matchLabels: { node.kubernetes.io/pool: gpu }
    max: 3
    removal:
      nameTemplate: talos-gpu-{index}
      indexBase: ${gpuIndexBase}
`;
}

const BEFORE = clusterPoolsTfvars(3, 3);

describe("the workflow over every pool of the guard config", () => {
  let base: TerraformWorkdir;
  /** The real plan JSON of `after` against the applied BEFORE state. */
  const planJson = tfvarsPlans(() => base);

  async function sandbox(after: string, gpuIndexBase = 1): Promise<Sandbox> {
    return createSandbox({
      tfvars: { before: BEFORE, after },
      guardConfig: CLUSTER_POOLS_GUARD,
      repoConfig: repoConfig(gpuIndexBase),
      inputs: { pool: "" },
      planJson: await planJson(after),
    });
  }

  beforeAll(async () => {
    base = await appliedClusterPools(3, 3);
  }, TIMEOUT);

  afterAll(async () => {
    await base?.remove();
  });

  it(
    "passes a pull request that lowers gpu_count, reporting every pool in one comment",
    async () => {
      const box = await sandbox(clusterPoolsTfvars(3, 2));
      const job = await box.runJob("plan", {
        event: {
          event_name: "pull_request",
          event: { pull_request: { number: 7, head: { sha: box.headSha } } },
        },
      });
      const calls = await box.calls();

      expect(job.status).toBe("success");
      const [guard] = callsOf(calls, "pr-autoscaler", "guard");
      expect(guard?.args).toContain("--all-pools");
      expect(guard?.args).not.toContain("--pool");
      expect(flag(guard?.args ?? [], "--repo-config")).toBe("infra/.github/pr-autoscaler.yml");
      const report = reportArgs(calls, "plan");
      expect(flag(report, "--pool")).toBe("");
      const text = job.step("Report on the pull request").stdout;
      expect(text).toContain("Pools: `workers` 3 workers, unchanged; `gpu` **3 → 2 workers**.");
      expect(text).toContain("waits until pool `gpu` has 2 Ready nodes");
      expect(text).toContain(
        `status pr-autoscaler/plan-guard = success on ${box.headSha.slice(0, 12)}: Passed: gpu 3 → 2 workers, destroy talos-gpu-03`,
      );
    },
    TIMEOUT,
  );

  it(
    "stops a pull request whose guard config and repo config name different GPU nodes",
    async () => {
      const box = await sandbox(clusterPoolsTfvars(3, 2), 0);
      const job = await box.runJob("plan", {
        event: {
          event_name: "pull_request",
          event: { pull_request: { number: 7, head: { sha: box.headSha } } },
        },
      });
      expect(job.step("guard").outputs).toEqual({ "exit-code": "2" });
      expect(job.step("guard").stderr).toContain(
        'pools.gpu: count index 0: the guard\'s nameTemplate "talos-gpu-{index+1:02}" names node talos-gpu-01, but removal.nameTemplate "talos-gpu-{index}" with indexBase 0 names talos-gpu-0 there',
      );
      expect(flag(reportArgs(await box.calls(), "plan"), "--failed-step")).toBe("guard");
      expect(job.step("Report on the pull request").stdout).toContain("= error on");
    },
    TIMEOUT,
  );

  it(
    "after the merge drains the GPU node, applies, and waits for the GPU pool only",
    async () => {
      const box = await sandbox(clusterPoolsTfvars(3, 2));
      const job = await box.runJob("apply", {
        event: { event_name: "push", event: { before: box.baseSha } },
      });
      const calls = await box.calls();

      expect(job.status).toBe("success");
      expect(job.step("guard").outputs).toEqual({
        "drain-nodes": "talos-gpu-03",
        "worker-count": "",
        "worker-added": "",
        "pool-counts": "gpu=2",
        "pool-added": "",
        "pool-drain-nodes": "gpu=talos-gpu-03",
        "drain-emptydir-nodes": "",
      });
      expect(callsOf(calls, "pr-autoscaler", "drain").map((c) => c.args.slice(0, 2))).toEqual([
        ["drain", "talos-gpu-03"],
      ]);
      expect(callsOf(calls, "kubectl")[0]?.args.slice(2, 5)).toEqual([
        "delete",
        "node",
        "talos-gpu-03",
      ]);
      // A scale-down creates no VM: nothing new to wait for.
      expect(callsOf(calls, "pr-autoscaler", "wait-nodes").map((c) => c.args.slice(0, 6))).toEqual([
        ["wait-nodes", "--pool", "gpu", "--count", "2", "--timeout"],
      ]);
      // One pending and one final status for the merged commit, whichever pools changed.
      const applyReports = callsOf(calls, "pr-autoscaler", "report").filter(
        (call) => call.args[1] === "apply",
      );
      expect(applyReports.map((call) => flag(call.args, "--result"))).toEqual(["started", "ok"]);
      expect(job.step("Report on the merged pull request").stdout).toContain(
        "| Nodes | ✅ deleted the Node objects of the destroyed VMs; pool `gpu` has 2 Ready nodes |",
      );
    },
    TIMEOUT,
  );

  it(
    "waits for each changed pool, and fails the nodes step when one of them is not Ready",
    async () => {
      const box = await sandbox(clusterPoolsTfvars(4, 2));
      const job = await box.runJob("apply", {
        event: { event_name: "push", event: { before: box.baseSha } },
        env: { STUB_WAIT_EXIT: "1" },
      });
      const calls = await box.calls();

      expect(job.step("apply").outcome).toBe("success");
      expect(job.step("wait").outcome).toBe("failure");
      expect(job.step("guard").outputs["pool-added"]).toBe("workers=1");
      // The pool that grew waits for its new VM among its Ready nodes; the one that shrank not.
      expect(callsOf(calls, "pr-autoscaler", "wait-nodes").map((c) => c.args.slice(0, 7))).toEqual([
        ["wait-nodes", "--pool", "workers", "--count", "4", "--added", "1"],
        ["wait-nodes", "--pool", "gpu", "--count", "2", "--timeout", "15m"],
      ]);
      expect(flag(reportArgs(calls, "apply", "failed"), "--failed-step")).toBe("nodes");
    },
    TIMEOUT,
  );

  it(
    "names the pool whose wait wrote no result when the others' say Ready",
    async () => {
      const box = await sandbox(clusterPoolsTfvars(4, 2));
      const ready = {
        outcome: "ready",
        pool: "",
        selector: "every node that is not control plane",
        count: 4,
        since: "2026-11-22T18:01:05Z",
        nodesRead: true,
        ready: 4,
        missing: 0,
        gone: [],
        elapsedMs: 60_000,
      };
      // The wait for gpu is killed (the job cancelled) before it writes its result.
      const job = await box.runJob("apply", {
        event: { event_name: "push", event: { before: box.baseSha } },
        env: { STUB_WAIT_JSON: JSON.stringify(ready), STUB_WAIT_KILLED: "gpu" },
      });
      expect(job.step("wait").outcome).toBe("failure");
      const report = reportArgs(await box.calls(), "apply", "failed");
      expect(flag(report, "--failed-step")).toBe("nodes");
      expect(flag(report, "--wait-result")).toBe(
        join(box.runnerTemp, "pr-autoscaler", "wait-workers.json"),
      );
      const text = job.step("Report on the merged pull request").stdout;
      expect(text).toContain("Failed waiting for nodes: applied; no wait result for pool gpu");
      expect(text).toContain(
        "but the wait for pool `gpu` wrote no result: it was cancelled, or stopped before it could, so whether that pool's nodes are Ready is not known. The wait for pool `workers` ended with its nodes Ready.",
      );

      // The same wait killed by a cancel of the run: the status says cancelled, not failed.
      const cancelled = await box.runJob("apply", {
        event: { event_name: "push", event: { before: box.baseSha } },
        env: { STUB_WAIT_JSON: JSON.stringify(ready), STUB_WAIT_KILLED: "gpu" },
        cancelAfter: "wait",
      });
      expect(cancelled.status).toBe("cancelled");
      const again = cancelled.step("Report on the merged pull request").stdout;
      expect(again).toContain("### ⏹️ pr-autoscaler apply: cancelled");
      expect(again).toContain("Cancelled waiting for nodes: applied; no wait result for pool gpu");
    },
    TIMEOUT,
  );

  it(
    "with one pool named, refuses the other pool's change as before",
    async () => {
      const box = await createSandbox({
        tfvars: { before: BEFORE, after: clusterPoolsTfvars(3, 2) },
        guardConfig: CLUSTER_POOLS_GUARD,
        inputs: { pool: "workers" },
        planJson: await planJson(clusterPoolsTfvars(3, 2)),
      });
      const job = await box.runJob("apply", {
        event: { event_name: "push", event: { before: box.baseSha } },
      });
      const calls = await box.calls();
      expect(flag(callsOf(calls, "pr-autoscaler", "guard")[0]?.args ?? [], "--pool")).toBe(
        "workers",
      );
      expect(job.step("guard").outcome).toBe("failure");
      expect(callsOf(calls, "pr-autoscaler", "drain")).toEqual([]);
      expect(callsOf(calls, "terraform", "apply")).toEqual([]);
    },
    TIMEOUT,
  );
});
