/**
 * The workflow's inputs as infra repos set them, with real terraform (live-infra.ts): a tfvars
 * file that Terraform does not load by itself, a Terraform root written with `./` or a trailing
 * slash, and the mistakes and lost commits that stop a job before it plans, each explained in
 * the report rather than only in the run's log.
 */
import { describe, expect, it } from "@jest/globals";
import { callsOf, flag, reportArgs } from "./support/calls.ts";
import { type LiveInfra, liveInfra, poolsTfvars } from "./support/live-infra.ts";

const TIMEOUT = 180_000;

/** Merges the branch `up` into main (a merge commit) and runs the apply job of that push. */
async function mergeUp(repo: LiveInfra) {
  await repo.git(["checkout", "-q", "main"]);
  await repo.git(["merge", "-q", "--no-ff", "-m", "Merge up", "up"]);
  return repo.push(repo.first, await repo.git(["rev-parse", "main"]));
}

describe("a tfvars file that Terraform does not load by itself", () => {
  it(
    "is given to terraform plan with -var-file, in the pull request and after the merge",
    async () => {
      const repo = await liveInfra({
        tfvarsFile: "cluster.tfvars",
        inputs: { "tfvars-file": "cluster.tfvars" },
      });
      const head = await repo.commit(
        { "terraform/cluster.tfvars": poolsTfvars(4, 3) },
        "workers 3 -> 4",
        "up",
      );
      const pr = await repo.pullRequest(repo.first, head);
      expect(pr.job.status).toBe("success");
      expect(callsOf(pr.calls, "terraform", "plan")[0]?.args).toContain("-var-file=cluster.tfvars");
      expect(pr.job.step("Report on the pull request").stdout).toContain("**3 → 4 workers**");

      const push = await mergeUp(repo);
      expect(push.job.status).toBe("success");
      expect(callsOf(push.calls, "terraform", "plan")[0]?.args).toContain(
        "-var-file=cluster.tfvars",
      );
      expect((await repo.counts()).worker).toBe(4);
    },
    TIMEOUT,
  );

  it(
    "is not named again when Terraform loads it itself (terraform.tfvars)",
    async () => {
      const repo = await liveInfra({ inputs: { "tfvars-file": "./terraform.tfvars" } });
      const c = await repo.commit({ "terraform/terraform.tfvars": poolsTfvars(3, 2) }, "gpu");
      const push = await repo.push(repo.first, c);
      expect(push.job.status).toBe("success");
      const args = callsOf(push.calls, "terraform", "plan")[0]?.args ?? [];
      expect(args.filter((arg) => arg.startsWith("-var-file"))).toEqual([]);
      expect((await repo.counts()).gpu).toBe(2);
    },
    TIMEOUT,
  );
});

describe("a tfvars file in JSON (terraform.tfvars.json)", () => {
  const json = (workers: number, gpus: number) =>
    `${JSON.stringify({ worker_count: workers, gpu_count: gpus }, null, 2)}\n`;

  it(
    "is read by the guard in the pull request and after the merge",
    async () => {
      const repo = await liveInfra({
        tfvarsFile: "terraform.tfvars.json",
        initial: json(3, 3),
        inputs: { "tfvars-file": "terraform.tfvars.json" },
      });
      const head = await repo.commit(
        { "terraform/terraform.tfvars.json": json(4, 3) },
        "workers 3 -> 4",
        "up",
      );
      const pr = await repo.pullRequest(repo.first, head);
      expect(pr.job.step("guard").stderr).toBe("");
      expect(pr.job.status).toBe("success");
      expect(pr.job.step("Report on the pull request").stdout).toContain("**3 → 4 workers**");

      const push = await mergeUp(repo);
      expect(push.job.status).toBe("success");
      expect((await repo.counts()).worker).toBe(4);
    },
    TIMEOUT,
  );
});

describe("the Terraform root in a subfolder", () => {
  for (const given of ["clusters/home/", "./clusters/home/", "clusters//home"]) {
    it(
      `written ${JSON.stringify(given)}: planned and applied`,
      async () => {
        const repo = await liveInfra({
          root: "clusters/home",
          inputs: { "working-directory": given },
        });
        const c = await repo.commit(
          { "clusters/home/terraform.tfvars": poolsTfvars(4, 3) },
          "3 -> 4",
        );
        const push = await repo.push(repo.first, c);
        expect(push.job.step("prepare").outcome).toBe("success");
        expect(push.job.status).toBe("success");
        expect((await repo.counts()).worker).toBe(4);
      },
      TIMEOUT,
    );
  }
});

describe("a job that stops before it plans says why in the report", () => {
  it(
    "a push whose previous commit is gone (a force-push)",
    async () => {
      const repo = await liveInfra();
      const c = await repo.commit({ "terraform/terraform.tfvars": poolsTfvars(4, 3) }, "3 -> 4");
      const gone = "1234567890abcdef1234567890abcdef12345678";
      const push = await repo.push(gone, c);

      expect(push.job.step("prepare").outcome).toBe("failure");
      expect(callsOf(push.calls, "terraform")).toEqual([]);
      const message =
        "the previous commit of this push (1234567890ab) is not in the repository (a force-push?): push a new commit to apply; a re-run fails the same way";
      expect(push.job.step("prepare").stdout).toContain(`::error::${message}`);
      expect(push.job.step("prepare").stderr).not.toContain("exists on disk");
      expect(flag(reportArgs(push.calls, "apply", "failed"), "--failed-step")).toBe("setup");
      const text = push.job.step("Report on the merged pull request").stdout;
      expect(text).toContain(message);
      expect(text).not.toMatch(/Fix that, then re-run/);
      expect(text).toContain("Stopped before planning: nothing changed");
    },
    TIMEOUT,
  );

  it(
    "a working-directory that is not in the repository",
    async () => {
      const repo = await liveInfra({ inputs: { "working-directory": "terraform-prod" } });
      const c = await repo.commit({ "terraform/terraform.tfvars": poolsTfvars(4, 3) }, "3 -> 4");
      const push = await repo.push(repo.first, c);

      expect(callsOf(push.calls, "terraform")).toEqual([]);
      const message = `working-directory "terraform-prod" is not a folder of the repository at ${c.slice(0, 12)}`;
      expect(push.job.step("prepare").stdout).toContain(`::error::${message}`);
      expect(flag(reportArgs(push.calls, "apply", "failed"), "--failed-step")).toBe("setup");
      expect(push.job.step("Report on the merged pull request").stdout).toContain(message);
    },
    TIMEOUT,
  );

  it(
    "a tfvars-file that is not in the Terraform root, on a pull request",
    async () => {
      const repo = await liveInfra({ inputs: { "tfvars-file": "prod.tfvars" } });
      const head = await repo.commit(
        { "terraform/terraform.tfvars": poolsTfvars(4, 3) },
        "3 -> 4",
        "up",
      );
      const pr = await repo.pullRequest(repo.first, head);

      expect(pr.job.step("prepare").outcome).toBe("failure");
      expect(callsOf(pr.calls, "terraform")).toEqual([]);
      const message = 'tfvars-file "prod.tfvars" is not a file in "terraform"';
      expect(pr.job.step("prepare").stdout).toContain(`::error::${message}`);
      const text = pr.job.step("Report on the pull request").stdout;
      expect(text).toContain(message);
      expect(text).toContain("= error on");
    },
    TIMEOUT,
  );
});
