/**
 * The guard config and the repo config must name the same node at each count index: the node
 * the planner's pull request removes is the one the guard drains.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  assertNamingAgrees,
  namingDisagreements,
  readRepoPoolNaming,
} from "../../src/apply/guard-agreement.ts";
import { loadGuardConfig } from "../../src/apply/guard-config.ts";
import { InputError } from "../../src/errors.ts";
import { runCli } from "../support/cli.ts";
import {
  appliedClusterPools,
  CLUSTER_POOLS_GUARD,
  clusterPoolsTfvars,
  type TerraformWorkdir,
  terraformFixture,
  tfvarsPlans,
} from "../support/terraform.ts";

const example = fileURLToPath(new URL("../../examples/talos-proxmox/.github/", import.meta.url));

function guardConfig(pool: string): string {
  return `pools:
  workers:
    vmAddress: "proxmox_virtual_environment_vm.worker[*]"
${pool}`;
}

function repoConfig(removal: string, max = 6): string {
  return `pools:
  - name: workers
    target:
      file: terraform/terraform.tfvars
      path: worker_count
    max: ${max}
${removal}`;
}

function disagreements(guard: string, repo: string) {
  return namingDisagreements(
    loadGuardConfig(guard, "guard.yml"),
    readRepoPoolNaming(repo, ".github/pr-autoscaler.yml"),
  );
}

describe("guard and repo config naming", () => {
  it("agree in the example infra repo", async () => {
    const guard = await readFile(join(example, "pr-autoscaler-guard.yml"), "utf8");
    const repo = await readFile(join(example, "pr-autoscaler.yml"), "utf8");
    expect(disagreements(guard, repo)).toEqual([]);
  });

  it("agree when the guard pads the number and the repo template matches it either way", () => {
    const guard = guardConfig('    nameTemplate: "worker-{index+1:02}"\n');
    const repo = repoConfig(
      "    removal:\n      nameTemplate: worker-{index}\n      indexBase: 1\n",
    );
    expect(disagreements(guard, repo)).toEqual([]);
  });

  it("disagree on the index base, saying where each config writes its naming", () => {
    const guard = guardConfig('    nameTemplate: "talos-worker-{index}"\n');
    const repo = repoConfig(
      "    removal:\n      nameTemplate: talos-worker-{index}\n      indexBase: 1\n",
    );
    expect(disagreements(guard, repo)).toEqual([
      {
        pool: "workers",
        index: 0,
        message:
          'count index 0: the guard\'s nameTemplate "talos-worker-{index}" names node talos-worker-0, but removal.nameTemplate "talos-worker-{index}" with indexBase 1 names talos-worker-1 there',
        guard: { file: "guard.yml", line: 4, column: 19 },
        repo: { file: ".github/pr-autoscaler.yml", line: 8, column: 7 },
      },
    ]);
  });

  it("disagree when the node template adds a domain the repo template lacks", () => {
    const guard = guardConfig(
      '    nameTemplate: "worker-{index+1}"\n    nodeTemplate: "{name}.home.arpa"\n',
    );
    const repo = repoConfig(
      "    removal:\n      nameTemplate: worker-{index}\n      indexBase: 1\n",
    );
    const [found] = disagreements(guard, repo);
    expect(found?.message).toBe(
      'count index 0: the guard\'s nameTemplate "worker-{index+1}" names node worker-1.home.arpa, but removal.nameTemplate "worker-{index}" with indexBase 1 names worker-1 there',
    );
  });

  it("without removal.nameTemplate, need names whose trailing number grows with the index", () => {
    expect(disagreements(guardConfig('    nameTemplate: "w-{index+1}"\n'), repoConfig(""))).toEqual(
      [],
    );
    const domain = disagreements(
      guardConfig('    nameTemplate: "w-{index+1}"\n    nodeTemplate: "{name}.lan"\n'),
      repoConfig(""),
    );
    expect(domain[0]?.message).toContain(
      "the repo config has no removal.nameTemplate, so a decrease removes the node whose name ends in the highest number, and this name does not end in a number",
    );
    const falling = disagreements(guardConfig('    nameTemplate: "w-{index-1}"\n'), repoConfig(""));
    expect(falling[0]?.index).toBe(1);
    expect(falling[0]?.message).toContain("is not above the one before it (w--1)");
  });

  it("leave alone a pool named only by the plan, and pools only one config has", () => {
    const guard = guardConfig("");
    const repo = repoConfig("    removal:\n      nameTemplate: talos-worker-{index}\n");
    expect(disagreements(guard, repo)).toEqual([]);
    const other = repo.replace("name: workers", "name: gpu");
    expect(disagreements(guardConfig('    nameTemplate: "x-{index}"\n'), other)).toEqual([]);
  });

  it("throw one InputError listing every disagreement and what to change", () => {
    const guard = loadGuardConfig(
      guardConfig('    nameTemplate: "talos-worker-{index}"\n'),
      "g.yml",
    );
    const repo = readRepoPoolNaming(
      repoConfig("    removal:\n      nameTemplate: talos-worker-{index}\n      indexBase: 1\n"),
      "r.yml",
    );
    let error: unknown;
    try {
      assertNamingAgrees(guard, repo);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    const inputError = error as InputError;
    expect(inputError.location).toEqual({ file: "g.yml", line: 4, column: 19 });
    expect(inputError.message).toContain("(the repo config's pool is at r.yml:8:7)");
    expect(inputError.message).toContain("a zero-padded number is written {index+1:02}");
  });

  it("say where a repo config that is not YAML breaks", () => {
    expect(() => readRepoPoolNaming("pools: [\n", "r.yml")).toThrow(InputError);
  });
});

describe("pr-autoscaler guard --repo-config", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-guard-agree-"));
    const plan = await readFile(
      join(terraformFixture("talos-proxmox-plans"), "scale-down-4-to-3.json"),
      "utf8",
    );
    await writeFile(join(dir, "plan.json"), plan);
    await writeFile(
      join(dir, "guard.yml"),
      (await readFile(join(example, "pr-autoscaler-guard.yml"), "utf8")).replace(
        '"talos-worker-{index+1}"',
        '"talos-worker-{index}"',
      ),
    );
    await writeFile(
      join(dir, "repo.yml"),
      await readFile(join(example, "pr-autoscaler.yml"), "utf8"),
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("stops with exit 2 before judging the plan when the configs name different nodes", async () => {
    const args = ["guard", "--plan", "plan.json", "--config", "guard.yml"];
    const run = await runCli(
      [...args, "--repo-config", "repo.yml", "--expect-from", "4", "--expect-to", "3"],
      dir,
    );
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(
      /^pr-autoscaler guard: guard\.yml:\d+:\d+: the guard config and the repo config name different nodes/,
    );
    expect(run.stderr).toContain(
      'pools.workers: count index 0: the guard\'s nameTemplate "talos-worker-{index}" names node talos-worker-0, but removal.nameTemplate "talos-worker-{index}" with indexBase 1 names talos-worker-1 there',
    );
    // Without the repo config the plan is judged: it names the VM to destroy talos-worker-4,
    // the template talos-worker-3, so it is refused; a plan that showed no VM names would pass
    // and drain the template's node: the check is what catches that beforehand.
    const alone = await runCli([...args, "--expect-from", "4", "--expect-to", "3"], dir);
    expect(alone.code).toBe(1);
    expect(alone.stdout).toContain(
      'the plan names it talos-worker-4 while nameTemplate "talos-worker-{index}" names it talos-worker-3',
    );
  });

  it("needs --config", async () => {
    const run = await runCli(
      ["guard", "--plan", "plan.json", "--vm-address", "a.b[*]", "--repo-config", "repo.yml"],
      dir,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--repo-config needs --config");
  });
});

describe("pr-autoscaler guard --repo-config, a pool that lets emptyDir data go", () => {
  // The planner removes a node whose pods mount emptyDir when the pool sets
  // scaleDown.deleteEmptyDirData: the verdict marks that node, and the workflow's drain deletes
  // that data there (report outputs: drain-emptydir-nodes).
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-guard-emptydir-"));
    const plan = await readFile(
      join(terraformFixture("talos-proxmox-plans"), "scale-down-4-to-3.json"),
      "utf8",
    );
    await writeFile(join(dir, "plan.json"), plan);
    await writeFile(
      join(dir, "guard.yml"),
      await readFile(join(example, "pr-autoscaler-guard.yml"), "utf8"),
    );
    const repo = await readFile(join(example, "pr-autoscaler.yml"), "utf8");
    await writeFile(join(dir, "repo.yml"), repo);
    const removal = "    removal:\n";
    expect(repo).toContain(removal);
    await writeFile(
      join(dir, "repo-emptydir.yml"),
      repo.replace(removal, `    scaleDown:\n      deleteEmptyDirData: true\n${removal}`),
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function destroys(repoConfig: string) {
    const args = ["guard", "--plan", "plan.json", "--config", "guard.yml", "--json"];
    const run = await runCli(
      [...args, "--repo-config", repoConfig, "--expect-from", "4", "--expect-to", "3"],
      dir,
    );
    expect(run.code).toBe(0);
    const verdict = JSON.parse(run.stdout) as { destroys: Record<string, unknown>[] };
    await writeFile(join(dir, `${repoConfig}.verdict.json`), run.stdout);
    const outputs = await runCli(
      ["report", "outputs", "--verdict", `${repoConfig}.verdict.json`],
      dir,
    );
    return { destroys: verdict.destroys, outputs: outputs.stdout };
  }

  it("marks the nodes to drain of that pool, and only of that pool", async () => {
    const allowed = await destroys("repo-emptydir.yml");
    expect(allowed.destroys).toEqual([
      expect.objectContaining({ node: "talos-worker-4", deleteEmptyDirData: true }),
    ]);
    expect(allowed.outputs).toContain("\ndrain-emptydir-nodes=talos-worker-4\n");
    const text = await runCli(
      [
        "guard",
        "--plan",
        "plan.json",
        "--config",
        "guard.yml",
        "--repo-config",
        "repo-emptydir.yml",
      ].concat(["--expect-from", "4", "--expect-to", "3"]),
      dir,
    );
    expect(text.stdout).toContain(
      "node: talos-worker-4  (its pods' emptyDir data is deleted: scaleDown.deleteEmptyDirData)",
    );
    const kept = await destroys("repo.yml");
    expect(kept.destroys).toEqual([expect.objectContaining({ node: "talos-worker-4" })]);
    expect(kept.destroys[0]).not.toHaveProperty("deleteEmptyDirData");
    expect(kept.outputs).toContain("\ndrain-emptydir-nodes=\n");
  });
});

describe("pr-autoscaler guard --repo-config, a pool only the guard config has", () => {
  // The apply workflow waits for each pool the plan scales with `wait-nodes --pool NAME`, which
  // reads the pool's node selector from the repo config: a pool that is not there would be
  // applied and its wait would fail.
  const TIMEOUT = 120_000;
  let base: TerraformWorkdir;
  let dir: string;
  const planJson = tfvarsPlans(() => base);
  const onlyWorkers = `pools:
  - name: workers
    target: { file: terraform/terraform.tfvars, path: worker_count }
    max: 6
    removal: { nameTemplate: "talos-worker-{index}", indexBase: 1 }
`;

  beforeAll(async () => {
    base = await appliedClusterPools(3, 3);
    dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-guard-repo-pools-"));
    await writeFile(join(dir, "guard.yml"), CLUSTER_POOLS_GUARD);
    await writeFile(join(dir, "repo.yml"), onlyWorkers);
    await writeFile(join(dir, "before.tfvars"), clusterPoolsTfvars(3, 3));
  }, TIMEOUT);

  afterAll(async () => {
    await base?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function guard(after: string) {
    await writeFile(join(dir, "plan.json"), await planJson(after));
    await writeFile(join(dir, "after.tfvars"), after);
    const args = ["guard", "--plan", "plan.json", "--config", "guard.yml", "--all-pools"];
    const tfvars = ["--tfvars-before", "before.tfvars", "--tfvars-after", "after.tfvars"];
    return runCli([...args, ...tfvars, "--repo-config", "repo.yml", "--json"], dir);
  }

  it(
    "refuses a plan that scales that pool, saying what to add where",
    async () => {
      const run = await guard(clusterPoolsTfvars(3, 2));
      expect(run.code).toBe(1);
      const verdict = JSON.parse(run.stdout) as { offending: unknown[]; destroys: unknown[] };
      expect(verdict.offending).toEqual([
        {
          address: "(pool gpu)",
          actions: [],
          reason:
            "the plan scales pool gpu (3 → 2), but repo.yml has no pool gpu: after the apply, the workflow waits for the pool's nodes with `wait-nodes --pool gpu`, which reads its node selector there, so the apply would run and the wait fail; add pool gpu to repo.yml",
        },
      ]);
      // The rest of the verdict is the guard's as ever: the VM it would destroy is still named.
      expect(verdict.destroys).toHaveLength(1);
    },
    TIMEOUT,
  );

  it(
    "passes a plan that leaves that pool alone",
    async () => {
      const run = await guard(clusterPoolsTfvars(4, 3));
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
    },
    TIMEOUT,
  );
});
