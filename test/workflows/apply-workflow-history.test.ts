/**
 * The apply job over histories of the default branch, with real terraform (live-infra.ts): a
 * run applies its commit only while that commit is what the branch holds, and judges each
 * pool's change from what the state holds, so that runs converge after one was cancelled or
 * refused and a re-run of an older commit never takes the cluster back.
 */
import { describe, expect, it } from "@jest/globals";
import { callsOf, flag, reportArgs } from "./support/calls.ts";
import { type LiveRun, liveInfra, poolsTfvars } from "./support/live-infra.ts";

const TIMEOUT = 180_000;
const TFVARS = "terraform/terraform.tfvars";

function drained(run: LiveRun): string[][] {
  return callsOf(run.calls, "pr-autoscaler", "drain").map((call) =>
    call.args.slice(1, call.args.indexOf("--kubeconfig")),
  );
}

const report = (run: LiveRun) => run.job.step("Report on the merged pull request").stdout;

/**
 * A merge 3 → 2 workers that also resizes the control plane: its apply is refused and applies
 * nothing, so the state keeps 3 workers while main says 2.
 */
async function refusedScaleDown() {
  const repo = await liveInfra();
  const m1 = await repo.commit(
    { [TFVARS]: poolsTfvars(2, 3, "control_plane_cores = 6\n") },
    "fewer workers, bigger control plane",
  );
  const refused = await repo.push(repo.first, m1);
  expect(refused.job.step("guard").outcome).toBe("failure");
  expect(callsOf(refused.calls, "terraform", "apply")).toEqual([]);
  return { repo, m1 };
}

describe("a run whose commit the branch has moved past", () => {
  it(
    "a re-run of an older scale-down after a newer scale-up was applied drains and destroys nothing",
    async () => {
      const repo = await liveInfra();
      const m1 = await repo.commit({ [TFVARS]: poolsTfvars(2, 3) }, "workers 3 -> 2");
      const first = await repo.push(repo.first, m1);
      expect(first.job.status).toBe("success");
      expect(drained(first)).toEqual([["talos-worker-3"]]);
      const m2 = await repo.commit({ [TFVARS]: poolsTfvars(3, 3) }, "workers 2 -> 3");
      expect((await repo.push(m1, m2)).job.status).toBe("success");
      expect((await repo.counts()).worker).toBe(3);

      // "Re-run jobs" on m1's run: the same event, while main holds m2.
      const rerun = await repo.push(repo.first, m1);

      expect(rerun.job.status).toBe("failure");
      expect(rerun.job.step("current").outcome).toBe("failure");
      for (const id of ["init", "plan", "guard", "drain", "apply"]) {
        expect(rerun.job.step(id).outcome).toBe("skipped");
      }
      expect(callsOf(rerun.calls, "terraform")).toEqual([]);
      expect((await repo.counts()).worker).toBe(3);
      expect(rerun.job.step("current").stdout).toContain(`::error::superseded by ${m2}`);
      expect(flag(reportArgs(rerun.calls, "apply", "failed"), "--failed-step")).toBe("setup");
      const text = report(rerun);
      expect(text).toContain(`superseded by ${m2}`);
      expect(text).toContain("the run for that commit applies it");
      expect(text).toContain("Nothing was drained or applied");
    },
    TIMEOUT,
  );

  it(
    "a run that waited while main moved on with other files applies its commit",
    async () => {
      const repo = await liveInfra();
      const m1 = await repo.commit({ [TFVARS]: poolsTfvars(4, 3) }, "workers 3 -> 4");
      const m2 = await repo.commit({ "README.md": "The homelab's infrastructure.\n" }, "readme");

      const run = await repo.push(repo.first, m1);

      expect(run.job.status).toBe("success");
      expect(run.job.step("current").stdout).toContain(
        `main has moved on to ${m2.slice(0, 12)}, with the same Terraform root, tfvars file and guard config`,
      );
      expect((await repo.counts()).worker).toBe(4);
    },
    TIMEOUT,
  );

  it(
    "a run of the commit main was force-pushed back to applies it",
    async () => {
      const repo = await liveInfra();
      const m1 = await repo.commit({ [TFVARS]: poolsTfvars(4, 3) }, "workers 3 -> 4");
      expect((await repo.push(repo.first, m1)).job.status).toBe("success");
      await repo.git(["branch", "-f", "main", repo.first]);

      const rewind = await repo.push(m1, repo.first);

      expect(rewind.job.status).toBe("success");
      expect(drained(rewind)).toEqual([["talos-worker-4"]]);
      expect((await repo.counts()).worker).toBe(3);
    },
    TIMEOUT,
  );
});

describe("runs after a cancelled or refused one", () => {
  it(
    "three quick merges whose middle run was cancelled: the third converges, the middle one stays refused",
    async () => {
      const repo = await liveInfra();
      const m1 = await repo.commit({ [TFVARS]: poolsTfvars(4, 3) }, "workers 3 -> 4");
      expect((await repo.push(repo.first, m1, { branchTip: m1 })).job.status).toBe("success");
      const m2 = await repo.commit({ [TFVARS]: poolsTfvars(5, 3) }, "workers 4 -> 5");
      const m3 = await repo.commit({ [TFVARS]: poolsTfvars(6, 3) }, "workers 5 -> 6");

      // m2's run was cancelled while it waited; m3's run judges from the state's 4 workers.
      const third = await repo.push(m2, m3);

      expect(third.job.status).toBe("success");
      expect((await repo.counts()).worker).toBe(6);
      expect(third.job.step("guard").outputs["pool-counts"]).toBe("workers=6");
      expect(report(third)).toContain(
        "the Terraform state holds 4 workers, not the 5 of the previous commit: an earlier run was cancelled or refused",
      );
      expect(report(third)).toContain("**4 → 6 workers**");

      // Re-running the cancelled run afterwards changes nothing.
      const rerun = await repo.push(m1, m2);
      expect(rerun.job.step("current").outcome).toBe("failure");
      expect(callsOf(rerun.calls, "terraform")).toEqual([]);
      expect((await repo.counts()).worker).toBe(6);
    },
    TIMEOUT,
  );

  it(
    "after a refused scale-down, the commit that fixes the rest drains and converges",
    async () => {
      const { repo, m1 } = await refusedScaleDown();
      const m2 = await repo.commit({ [TFVARS]: poolsTfvars(2, 3) }, "control plane as it was");

      const fixed = await repo.push(m1, m2);

      expect(fixed.job.status).toBe("success");
      expect(drained(fixed)).toEqual([["talos-worker-3"]]);
      expect(await repo.counts()).toMatchObject({ worker: 2, control_plane: 3 });
      expect((await repo.input("control_plane", 0)).cores).toBe(4);
      expect(report(fixed)).toContain(
        "the Terraform state holds 3 workers, not the 2 of the previous commit",
      );
    },
    TIMEOUT,
  );
});

describe("a pull request while the state is behind the default branch", () => {
  it(
    "is checked from what the state holds, so that the pull request that fixes a refused merge can pass",
    async () => {
      const { repo, m1 } = await refusedScaleDown();
      const head = await repo.commit({ [TFVARS]: poolsTfvars(2, 3) }, "control plane", "fix");

      const pr = await repo.pullRequest(m1, head);

      // Its plan drains talos-worker-3, as the apply after the merge will: what main says.
      expect(pr.job.status).toBe("success");
      expect(callsOf(pr.calls, "pr-autoscaler", "guard")[0]?.args).toContain("--before-from-state");
      const comment = pr.job.step("Report on the pull request").stdout;
      expect(comment).toContain("### ✅ pr-autoscaler plan guard: passed");
      expect(comment).toContain("`talos-worker-3`");
      expect(comment).toContain(
        "the Terraform state holds 3 workers, not the 2 of the previous commit",
      );
    },
    TIMEOUT,
  );
});

const WIDER_GUARD = `drift: refuse
pools:
  workers:
    vmAddress: "terraform_data.worker[*]"
    companions: ["terraform_data.worker_config[*]", "terraform_data.control_plane[*]"]
    allowedUpdateAttributes: [input, output]
    countVariable: worker_count
  gpu:
    vmAddress: "terraform_data.gpu[*]"
    companions: ["terraform_data.gpu_config[*]"]
    nameTemplate: "talos-gpu-{index+1:02}"
    countVariable: gpu_count
`;
const GUARD = ".github/pr-autoscaler-guard.yml";

describe("a change that brings its own guard config", () => {
  it(
    "a pull request that widens the guard for its own control plane change is refused",
    async () => {
      const repo = await liveInfra();
      const head = await repo.commit(
        { [TFVARS]: poolsTfvars(4, 3, "control_plane_cores = 6\n"), [GUARD]: WIDER_GUARD },
        "scale and resize the control plane",
        "widen",
      );
      const pr = await repo.pullRequest(repo.first, head);

      expect(pr.job.step("guard").outputs["exit-code"]).toBe("1");
      const guard = callsOf(pr.calls, "pr-autoscaler", "guard")[0]?.args ?? [];
      expect(flag(guard, "--base-config")).toMatch(/\/base\/\.github\/pr-autoscaler-guard\.yml$/);
      const text = pr.job.step("Report on the pull request").stdout;
      expect(text).toContain("### ❌ pr-autoscaler plan guard: refused");
      expect(text).toContain(
        "the guard config changes in this change (pools.workers.companions, pools.workers.allowedUpdateAttributes)",
      );
      expect(text).toContain("merge the guard config change on its own first");
      expect(text).toMatch(/status pr-autoscaler\/plan-guard = failure/);
    },
    TIMEOUT,
  );

  it(
    "a pull request that changes only the guard config passes",
    async () => {
      const repo = await liveInfra();
      const head = await repo.commit({ [GUARD]: WIDER_GUARD }, "widen the guard", "widen");
      const pr = await repo.pullRequest(repo.first, head);

      expect(pr.job.status).toBe("success");
      expect(pr.job.step("Report on the pull request").stdout).toContain(
        "### ✅ pr-autoscaler plan guard: passed",
      );
    },
    TIMEOUT,
  );

  it(
    "a merged commit that widens the guard for its own change applies nothing",
    async () => {
      const repo = await liveInfra();
      const c = await repo.commit(
        { [TFVARS]: poolsTfvars(4, 3, "control_plane_cores = 6\n"), [GUARD]: WIDER_GUARD },
        "scale and resize the control plane",
      );
      const run = await repo.push(repo.first, c);

      expect(run.job.step("guard").outcome).toBe("failure");
      expect(callsOf(run.calls, "terraform", "apply")).toEqual([]);
      expect(await repo.counts()).toMatchObject({ worker: 3 });
      expect((await repo.input("control_plane", 0)).cores).toBe(4);
      expect(report(run)).toContain("refused, nothing applied");
      expect(report(run)).toContain("the guard config changes in this change");
    },
    TIMEOUT,
  );

  it(
    "a guard config that is new in the change does not judge the change's own plan",
    async () => {
      const repo = await liveInfra();
      await repo.commit({ [GUARD]: null }, "no guard config yet");
      const base = await repo.git(["rev-parse", "main"]);
      const head = await repo.commit(
        { [TFVARS]: poolsTfvars(4, 3), [GUARD]: WIDER_GUARD },
        "guard and scale",
        "add-guard",
      );
      const pr = await repo.pullRequest(base, head);

      expect(pr.job.step("guard").outputs["exit-code"]).toBe("1");
      expect(callsOf(pr.calls, "pr-autoscaler", "guard")[0]?.args).toContain("--new-config");
      expect(pr.job.step("Report on the pull request").stdout).toContain(
        "the guard config changes in this change (the file is new in this change)",
      );
    },
    TIMEOUT,
  );
});
