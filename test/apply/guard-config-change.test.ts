/**
 * A change never brings the guard rules its own plan is judged by: the guard config before the
 * change (`--base-config`, or `--new-config` when there was none) against the change's own, on
 * real `terraform show -json` output of the cluster-pools root.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { GuardVerdict } from "../../src/apply/guard.ts";
import { type GuardConfig, parseGuardConfig } from "../../src/apply/guard-config.ts";
import {
  compareGuardConfigs,
  type GuardConfigBase,
  planHasChanges,
} from "../../src/apply/guard-config-change.ts";
import { parseTerraformPlan } from "../../src/apply/terraform-plan.ts";
import { type CliRun, runCli } from "../support/cli.ts";
import {
  appliedClusterPools,
  CLUSTER_POOLS_GUARD,
  clusterPoolsTfvars,
  type TerraformWorkdir,
  tfvarsPlans,
} from "../support/terraform.ts";

const TIMEOUT = 120_000;

/** The cluster-pools guard config with the control plane made a companion of the workers. */
const WIDER = CLUSTER_POOLS_GUARD.replace(
  'companions: ["terraform_data.worker_config[*]"]',
  'companions: ["terraform_data.worker_config[*]", "terraform_data.control_plane[*]"]\n    allowedUpdateAttributes: [input, output]',
);

describe("the guard config's differences", () => {
  const head = parseGuardConfig(CLUSTER_POOLS_GUARD, "head.yml");
  const base = (text: string): GuardConfigBase => ({ kind: "file", text, file: "base.yml" });
  const guardConfigDifferences = (before: GuardConfigBase, after: GuardConfig) =>
    compareGuardConfigs(before, after).differences;

  it("none when only comments, order and layout differ", () => {
    const reordered = `# pools in another order
pools:
  gpu: { vmAddress: "terraform_data.gpu[*]", companions: ["terraform_data.gpu_config[*]"], nameTemplate: "talos-gpu-{index+1:02}", countVariable: gpu_count }
  workers: { countVariable: worker_count, vmAddress: "terraform_data.worker[*]", companions: ["terraform_data.worker_config[*]"] }
drift: refuse
`;
    expect(guardConfigDifferences(base(reordered), head)).toEqual([]);
  });

  it("names each widened field, added pool and removed one", () => {
    const wider = parseGuardConfig(
      `${WIDER}  cp:\n    vmAddress: "terraform_data.control_plane[*]"\n`,
      "head.yml",
    );
    expect(guardConfigDifferences(base(CLUSTER_POOLS_GUARD), wider)).toEqual([
      "pools.workers.companions",
      "pools.workers.allowedUpdateAttributes",
      "pools.cp (added)",
    ]);
    const gpuOnly = parseGuardConfig(
      CLUSTER_POOLS_GUARD.replace(/ {2}workers:[\s\S]*?(?= {2}gpu:)/, ""),
      "h.yml",
    );
    expect(guardConfigDifferences(base(CLUSTER_POOLS_GUARD), gpuOnly)).toEqual([
      "pools.workers (removed)",
    ]);
  });

  it("the whole file when it is new, or when the earlier version does not load", () => {
    expect(guardConfigDifferences({ kind: "new" }, head)).toEqual([
      "the file is new in this change",
    ]);
    expect(guardConfigDifferences(base("pools:\n  workers: {vmAddress: 3}\n"), head)).toEqual([
      "the version before this change does not load (base.yml:2:24: pools.workers.vmAddress: expected an address pattern or a list of them)",
    ]);
  });
});

describe("the guard with the config before the change", () => {
  let workdir: TerraformWorkdir;
  let dir: string;
  const planJson = tfvarsPlans(() => workdir);

  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  function guard(args: string[]): Promise<CliRun> {
    return runCli(["guard", "--all-pools", "--json", ...args], dir);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-guard-change-"));
    workdir = await appliedClusterPools(3, 3);
    await file("base.yml", CLUSTER_POOLS_GUARD);
    await file("wider.yml", WIDER);
    await file("before.tfvars", clusterPoolsTfvars(3, 3));
  }, TIMEOUT);

  afterAll(async () => {
    await workdir?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it(
    "refuses a plan that the change's own wider config would pass",
    async () => {
      const after = `${clusterPoolsTfvars(4, 3)}control_plane_cores = 6\n`;
      await file("plan.json", await planJson(after));
      await file("after.tfvars", after);
      const common = ["--plan", "plan.json", "--tfvars-before", "before.tfvars"];
      const tfvars = [...common, "--tfvars-after", "after.tfvars"];

      // The wider config alone would let the control plane change through.
      expect((await guard([...tfvars, "--config", "wider.yml"])).code).toBe(0);

      const run = await guard([...tfvars, "--config", "wider.yml", "--base-config", "base.yml"]);
      expect(run.code).toBe(1);
      const verdict = JSON.parse(run.stdout) as GuardVerdict;
      expect(verdict.offending[0]).toEqual({
        address: "wider.yml",
        actions: [],
        reason:
          "the guard config changes in this change (pools.workers.companions, pools.workers.allowedUpdateAttributes) and the plan changes the infrastructure: merge the guard config change on its own first, then this change. A plan is judged by the guard config from before its change, never by the one it brings.",
      });
      // Then why the config from before the change refuses it.
      expect(verdict.offending.slice(1).map((o) => o.address)).toEqual([
        "terraform_data.control_plane[0]",
        "terraform_data.control_plane[1]",
        "terraform_data.control_plane[2]",
      ]);

      const fresh = await guard([...tfvars, "--config", "wider.yml", "--new-config"]);
      expect(fresh.code).toBe(1);
      expect((JSON.parse(fresh.stdout) as GuardVerdict).offending[0]?.reason).toContain(
        "(the file is new in this change)",
      );
    },
    TIMEOUT,
  );

  it(
    "passes a change to the guard config alone, with nothing in the plan",
    async () => {
      const same = clusterPoolsTfvars(3, 3);
      const text = await planJson(same);
      expect(planHasChanges(parseTerraformPlan(text, "plan.json"))).toBe(false);
      await file("empty.json", text);
      const run = await guard([
        "--plan",
        "empty.json",
        "--tfvars-before",
        "before.tfvars",
        "--tfvars-after",
        "before.tfvars",
        "--config",
        "wider.yml",
        "--base-config",
        "base.yml",
      ]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
    },
    TIMEOUT,
  );

  it(
    "passes a scale-up that both versions of a changed config judge the same, saying so",
    async () => {
      await file("up.json", await planJson(clusterPoolsTfvars(4, 3)));
      await file("up.tfvars", clusterPoolsTfvars(4, 3));
      await file(
        "gpu-updates.yml",
        CLUSTER_POOLS_GUARD.replace(
          "countVariable: gpu_count",
          "countVariable: gpu_count\n    allowedUpdateAttributes: [input]",
        ),
      );
      const run = await guard([
        "--plan",
        "up.json",
        "--tfvars-before",
        "before.tfvars",
        "--tfvars-after",
        "up.tfvars",
        "--config",
        "gpu-updates.yml",
        "--base-config",
        "base.yml",
      ]);
      expect(run.code).toBe(0);
      const verdict = JSON.parse(run.stdout) as GuardVerdict;
      expect(verdict.creates.map((vm) => vm.address)).toEqual(["terraform_data.worker[3]"]);
      expect(verdict.warnings).toContain(
        "the guard config changes in this change (pools.gpu.allowedUpdateAttributes); the versions before and after it judge this plan the same",
      );
    },
    TIMEOUT,
  );

  it(
    "refuses a scale-down whose node the changed config names differently",
    async () => {
      await file("gpu-down.json", await planJson(clusterPoolsTfvars(3, 2)));
      await file("gpu-down.tfvars", clusterPoolsTfvars(3, 2));
      await file(
        "renamed.yml",
        CLUSTER_POOLS_GUARD.replace("talos-gpu-{index+1:02}", "talos-gpu-{index+1}"),
      );
      const run = await guard([
        "--plan",
        "gpu-down.json",
        "--tfvars-before",
        "before.tfvars",
        "--tfvars-after",
        "gpu-down.tfvars",
        "--config",
        "renamed.yml",
        "--base-config",
        "base.yml",
      ]);
      expect(run.code).toBe(1);
      const verdict = JSON.parse(run.stdout) as GuardVerdict;
      expect(verdict.offending.map((o) => o.address)).toEqual(["renamed.yml"]);
      expect(verdict.offending[0]?.reason).toContain("(pools.gpu.nameTemplate)");
      // The node named is the one the config before the change names.
      expect(verdict.destroys.map((vm) => vm.node)).toEqual(["talos-gpu-03"]);
    },
    TIMEOUT,
  );

  it("takes either --base-config or --new-config, each with --config", async () => {
    const both = await guard([
      "--plan",
      "plan.json",
      "--config",
      "wider.yml",
      "--base-config",
      "base.yml",
      "--new-config",
    ]);
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining("not both")]);
    const alone = await runCli(
      ["guard", "--plan", "plan.json", "--vm-address", "terraform_data.worker[*]", "--new-config"],
      dir,
    );
    expect([alone.code, alone.stderr]).toEqual([
      2,
      expect.stringContaining("--new-config needs --config"),
    ]);
  });
});
