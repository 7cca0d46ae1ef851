/**
 * The guard over several pools at once (`--all-pools`), on real `terraform show -json` output of
 * a root module with two count pools in one tfvars file: workers (named in the plan) and GPU VMs
 * (named by a zero-padded template), then `report outputs` on the verdict.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type GuardedPool, type GuardVerdict, guardPlanPools } from "../../src/apply/guard.ts";
import { allGuardPools, parseGuardConfig } from "../../src/apply/guard-config.ts";
import { expectedChangeFromTfvars } from "../../src/apply/guard-expected.ts";
import { formatGuardVerdict } from "../../src/apply/guard-report.ts";
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

const BEFORE = clusterPoolsTfvars(3, 3);

describe("the guard over every pool of the config", () => {
  let base: TerraformWorkdir;
  let dir: string;
  const files = new Map<string, string>();
  const planJson = tfvarsPlans(() => base);

  /** The JSON plan of `after` against the applied BEFORE state, written to a file once. */
  async function planFile(after: string): Promise<string> {
    const known = files.get(after);
    if (known !== undefined) return known;
    const file = join(dir, `plan-${files.size}.json`);
    await writeFile(file, await planJson(after));
    files.set(after, file);
    return file;
  }

  async function verdictOf(after: string, expectedAfter = after): Promise<GuardVerdict> {
    const plan = parseTerraformPlan(await readFile(await planFile(after), "utf8"), "plan.json");
    const config = parseGuardConfig(CLUSTER_POOLS_GUARD, "guard.yml");
    const pools: GuardedPool[] = allGuardPools(config).map((pool) => ({
      name: pool.name,
      rules: pool.rules,
      expected: expectedChangeFromTfvars(
        { text: BEFORE, file: "before.tfvars" },
        { text: expectedAfter, file: "after.tfvars" },
        pool.countVariable!,
      ),
    }));
    return guardPlanPools(plan, pools, config.drift);
  }

  async function guardCli(after: string, extra: string[] = []): Promise<CliRun> {
    await writeFile(join(dir, "after.tfvars"), after);
    return runCli(
      [
        "guard",
        "--plan",
        await planFile(after),
        "--config",
        "guard.yml",
        "--tfvars-before",
        "before.tfvars",
        "--tfvars-after",
        "after.tfvars",
        ...extra,
      ],
      dir,
    );
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-guard-pools-"));
    await writeFile(join(dir, "guard.yml"), CLUSTER_POOLS_GUARD);
    await writeFile(join(dir, "before.tfvars"), BEFORE);
    base = await appliedClusterPools(3, 3);
  }, TIMEOUT);

  afterAll(async () => {
    await base?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(
    "passes gpu 3 → 2 with workers unchanged, and names the zero-padded GPU node to drain",
    async () => {
      const verdict = await verdictOf(clusterPoolsTfvars(3, 2));
      expect(verdict.offending).toEqual([]);
      expect(verdict.verdict).toBe("pass");
      expect(verdict.pools).toEqual([
        { name: "workers", expected: { from: 3, to: 3 } },
        { name: "gpu", expected: { from: 3, to: 2 } },
      ]);
      expect(verdict.expected).toBeNull();
      expect(verdict.creates).toEqual([]);
      expect(verdict.destroys).toEqual([
        {
          address: "terraform_data.gpu[2]",
          name: "talos-gpu-03",
          node: "talos-gpu-03",
          pool: "gpu",
        },
      ]);
      expect(verdict.alsoAllowed).toEqual([
        { address: "terraform_data.gpu_config[2]", actions: ["delete"] },
      ]);
    },
    TIMEOUT,
  );

  it(
    "passes both pools changing at once, each against its own variable",
    async () => {
      const verdict = await verdictOf(clusterPoolsTfvars(4, 2));
      expect(verdict.offending).toEqual([]);
      expect(verdict.creates).toEqual([
        { address: "terraform_data.worker[3]", name: "talos-worker-4", pool: "workers" },
      ]);
      expect(verdict.destroys.map((d) => d.node)).toEqual(["talos-gpu-03"]);
    },
    TIMEOUT,
  );

  it(
    "refuses a VM of a pool whose count did not change",
    async () => {
      // The merged change lowers gpu_count only, but the plan lowers worker_count too.
      const verdict = await verdictOf(clusterPoolsTfvars(2, 2), clusterPoolsTfvars(3, 2));
      expect(verdict.verdict).toBe("refuse");
      const vm = verdict.offending.find((o) => o.address === "terraform_data.worker[2]");
      expect(vm).toEqual({
        address: "terraform_data.worker[2]",
        actions: ["delete"],
        reason: "this worker VM of pool workers would be destroyed, but 3 → 3 destroys no worker",
      });
      expect(verdict.offending.map((o) => o.address).sort()).toEqual([
        "terraform_data.worker[2]",
        "terraform_data.worker_config[2]",
      ]);
      // The GPU pool's own change was fine on its own.
      expect(verdict.destroys.map((d) => d.address)).toEqual(["terraform_data.gpu[2]"]);
    },
    TIMEOUT,
  );

  it(
    "refuses a change that belongs to no pool, naming every guarded pool",
    async () => {
      const after = `${clusterPoolsTfvars(3, 2)}control_plane_cores = 8\n`;
      const verdict = await verdictOf(after);
      expect(verdict.verdict).toBe("refuse");
      expect(verdict.offending.map((o) => o.address)).toEqual(
        [0, 1, 2].map((i) => `terraform_data.control_plane[${i}]`),
      );
      expect(verdict.offending[0]?.reason).toContain(
        "it is not a worker VM of any guarded pool (workers, gpu) nor a companion of one",
      );
    },
    TIMEOUT,
  );

  it(
    "from the CLI: --all-pools gives the per-pool outputs the apply job waits and drains by",
    async () => {
      const run = await guardCli(clusterPoolsTfvars(4, 2), ["--all-pools", "--json"]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      await writeFile(join(dir, "verdict.json"), run.stdout);
      const outputs = await runCli(["report", "outputs", "--verdict", "verdict.json"], dir);
      expect(outputs).toEqual({
        code: 0,
        stdout: [
          "drain-nodes=talos-gpu-03",
          "worker-count=",
          "worker-added=",
          "pool-counts=workers=4 gpu=2",
          // Only the pool that grows has VMs to wait for among its Ready nodes.
          "pool-added=workers=1",
          "pool-drain-nodes=gpu=talos-gpu-03",
          "drain-emptydir-nodes=",
          "",
        ].join("\n"),
        stderr: "",
      });
      // With a repo config whose gpu pool lets emptyDir data go, its node is marked, as the
      // nodes of the workers pool, which does not, would not be.
      await writeFile(
        join(dir, "repo.yml"),
        `pools:
  - name: workers
    target: { file: terraform/terraform.tfvars, path: worker_count }
    max: 6
  - name: gpu
    target: { file: terraform/terraform.tfvars, path: gpu_count }
    max: 3
    scaleDown: { deleteEmptyDirData: true }
    removal: { nameTemplate: "talos-gpu-{index}", indexBase: 1 }
`,
      );
      const marked = await guardCli(clusterPoolsTfvars(4, 2), [
        "--all-pools",
        "--repo-config",
        "repo.yml",
        "--json",
      ]);
      expect(marked.stderr).toBe("");
      expect(marked.code).toBe(0);
      await writeFile(join(dir, "verdict.json"), marked.stdout);
      const emptyDir = await runCli(["report", "outputs", "--verdict", "verdict.json"], dir);
      expect(emptyDir.stdout).toContain("\ndrain-emptydir-nodes=talos-gpu-03\n");
      const text = await guardCli(clusterPoolsTfvars(4, 2), ["--all-pools"]);
      expect(text.stdout).toContain(
        "Plan guard: PASS for pools workers (3 → 4 workers), gpu (3 → 2 workers).",
      );
      expect(text.stdout).toContain(
        "- terraform_data.gpu[2]  name: talos-gpu-03  node: talos-gpu-03  pool: gpu",
      );
    },
    TIMEOUT,
  );

  it(
    "from the CLI: one --pool refuses the other pool's change, which is why --all-pools exists",
    async () => {
      const run = await guardCli(clusterPoolsTfvars(3, 2), ["--pool", "workers", "--json"]);
      expect(run.code).toBe(1);
      const verdict = JSON.parse(run.stdout) as GuardVerdict;
      expect(verdict.offending.map((o) => o.address).sort()).toEqual([
        "terraform_data.gpu[2]",
        "terraform_data.gpu_config[2]",
      ]);
    },
    TIMEOUT,
  );
});

describe("pr-autoscaler guard --all-pools, bad input", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-guard-pools-usage-"));
    await writeFile(join(dir, "guard.yml"), CLUSTER_POOLS_GUARD);
    await writeFile(join(dir, "before.tfvars"), BEFORE);
    await writeFile(join(dir, "after.tfvars"), clusterPoolsTfvars(3, 2));
    await writeFile(
      join(dir, "plan.json"),
      JSON.stringify({ format_version: "1.2", planned_values: {}, resource_changes: [] }),
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const tfvarsFlags = ["--tfvars-before", "before.tfvars", "--tfvars-after", "after.tfvars"];

  it("names the pool without a countVariable, at its line", async () => {
    await writeFile(
      join(dir, "no-variable.yml"),
      CLUSTER_POOLS_GUARD.replace("    countVariable: gpu_count\n", ""),
    );
    const run = await runCli(
      [
        "guard",
        "--plan",
        "plan.json",
        "--config",
        "no-variable.yml",
        "--all-pools",
        ...tfvarsFlags,
      ],
      dir,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "no-variable.yml:9:5: pools.gpu has no countVariable: --all-pools reads each pool's change from its own count variable in the tfvars",
    );
  });

  it.each([
    [["--pool", "gpu"], "--pool cannot be combined with --all-pools"],
    [["--variable", "gpu_count"], "--variable cannot be combined with --all-pools"],
  ])("refuses %j with it", async (extra, message) => {
    const run = await runCli(
      [
        "guard",
        "--plan",
        "plan.json",
        "--config",
        "guard.yml",
        "--all-pools",
        ...tfvarsFlags,
        ...extra,
      ],
      dir,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it("needs a config", async () => {
    const run = await runCli(
      ["guard", "--plan", "plan.json", "--vm-address", "terraform_data.gpu[*]", "--all-pools"],
      dir,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--all-pools needs --config");
  });

  it("without tfvars expects no pool to change: an empty plan passes, with a warning per pool", async () => {
    const run = await runCli(
      ["guard", "--plan", "plan.json", "--config", "guard.yml", "--all-pools", "--json"],
      dir,
    );
    expect(run.code).toBe(0);
    const verdict = JSON.parse(run.stdout) as GuardVerdict;
    expect(verdict.pools).toEqual([
      { name: "workers", expected: null },
      { name: "gpu", expected: null },
    ]);
    expect(verdict.warnings).toEqual([
      "no resource in the plan matches terraform_data.worker[*]: check pool workers's vmAddress",
      "no resource in the plan matches terraform_data.gpu[*]: check pool gpu's vmAddress",
    ]);
  });
});

describe("the guard's report for people, over pools of one worker", () => {
  it("says 1 worker, as the pull request comment does", () => {
    const verdict: GuardVerdict = {
      verdict: "pass",
      expected: null,
      creates: [],
      destroys: [],
      alsoAllowed: [],
      offending: [],
      warnings: [],
      pools: [
        { name: "workers", expected: { from: 3, to: 1 } },
        { name: "gpu", expected: { from: 1, to: 1 } },
      ],
    };
    expect(formatGuardVerdict(verdict, "")).toContain(
      "Plan guard: PASS for pools workers (3 → 1 worker), gpu (1 worker, unchanged).",
    );
  });
});
