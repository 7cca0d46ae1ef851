/**
 * Judging a pool's change from the Terraform state (`--before-from-state`): the pool's VMs in the
 * plan's prior state, on real `terraform show -json` output of the cluster-pools root, and the
 * rules that keep a state that is not a clean pool from being taken as one.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { GuardVerdict } from "../../src/apply/guard.ts";
import {
  changeFromState,
  priorStateAddresses,
  statePoolSize,
} from "../../src/apply/guard-state.ts";
import {
  formatResourceAddress,
  parseAddressPattern,
  parseResourceAddress,
} from "../../src/apply/terraform-address.ts";
import { type CliRun, runCli } from "../support/cli.ts";
import {
  appliedClusterPools,
  CLUSTER_POOLS_GUARD,
  clusterPoolsTfvars,
  type TerraformWorkdir,
} from "../support/terraform.ts";

const TIMEOUT = 120_000;

describe("the guard judging from the state", () => {
  let base: TerraformWorkdir;
  let dir: string;

  /** Writes a file in the test's directory and returns its path. */
  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  /** The plan of `after` against `workdir`'s state, as a file. */
  async function plan(workdir: TerraformWorkdir, after: string, name: string): Promise<string> {
    const copy = await workdir.clone();
    try {
      await copy.write("terraform.tfvars", after);
      return file(name, await copy.planJson());
    } finally {
      await copy.remove();
    }
  }

  function guard(args: string[]): Promise<CliRun> {
    return runCli(["guard", "--config", join(dir, "guard.yml"), "--json", ...args], dir);
  }

  /** The guard judging `planFile` from the state, the commit's tfvars going `before` → `after`. */
  function guardFromState(
    planFile: string,
    pools: string[],
    before: string,
    after: string,
  ): Promise<CliRun> {
    return guard([
      "--plan",
      planFile,
      ...pools,
      "--tfvars-before",
      before,
      "--tfvars-after",
      after,
      "--before-from-state",
    ]);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-guard-state-"));
    await file("guard.yml", CLUSTER_POOLS_GUARD);
    base = await appliedClusterPools(3, 3);
  }, TIMEOUT);

  afterAll(async () => {
    await base?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it(
    "takes the change from the state's 3 workers when the previous commit says 5 (a cancelled run)",
    async () => {
      const planFile = await plan(base, clusterPoolsTfvars(6, 3), "up.json");
      const before = await file("before.tfvars", clusterPoolsTfvars(5, 3));
      const after = await file("after.tfvars", clusterPoolsTfvars(6, 3));
      const args = ["--plan", planFile, "--all-pools", "--tfvars-before", before];

      const fromCommit = await guard([...args, "--tfvars-after", after]);
      expect(fromCommit.code).toBe(1);

      const fromState = await guardFromState(planFile, ["--all-pools"], before, after);
      expect(fromState.stderr).toBe("");
      expect(fromState.code).toBe(0);
      const verdict = JSON.parse(fromState.stdout) as GuardVerdict;
      expect(verdict.pools).toEqual([
        { name: "workers", expected: { from: 3, to: 6 } },
        { name: "gpu", expected: { from: 3, to: 3 } },
      ]);
      expect(verdict.creates.map((vm) => vm.address)).toEqual([
        "terraform_data.worker[3]",
        "terraform_data.worker[4]",
        "terraform_data.worker[5]",
      ]);
      expect(verdict.warnings).toEqual([
        "pool workers: the Terraform state holds 3 workers, not the 5 of the previous commit: an earlier run was cancelled or refused (or the state was changed outside this workflow), so the change is judged from the state: 3 → 6",
      ]);
    },
    TIMEOUT,
  );

  it(
    "still refuses what the commit does not ask for: the state bounds where the change starts, not what it may touch",
    async () => {
      const planFile = await plan(
        base,
        `${clusterPoolsTfvars(2, 3)}control_plane_cores = 6\n`,
        "down-and-cp.json",
      );
      const before = await file("before-4.tfvars", clusterPoolsTfvars(4, 3));
      const after = await file("after-2.tfvars", clusterPoolsTfvars(2, 3));
      const run = await guardFromState(planFile, ["--all-pools"], before, after);
      expect(run.code).toBe(1);
      const verdict = JSON.parse(run.stdout) as GuardVerdict;
      expect(verdict.offending.map((o) => o.address)).toEqual([
        "terraform_data.control_plane[0]",
        "terraform_data.control_plane[1]",
        "terraform_data.control_plane[2]",
      ]);
      expect(verdict.pools?.[0]).toEqual({ name: "workers", expected: { from: 3, to: 2 } });
    },
    TIMEOUT,
  );

  it(
    "says nothing when the state agrees with the previous commit",
    async () => {
      const planFile = await plan(base, clusterPoolsTfvars(4, 3), "agree.json");
      const before = await file("before-3.tfvars", clusterPoolsTfvars(3, 3));
      const after = await file("after-4.tfvars", clusterPoolsTfvars(4, 3));
      const run = await guardFromState(planFile, ["--pool", "workers"], before, after);
      expect(run.code).toBe(0);
      const verdict = JSON.parse(run.stdout) as GuardVerdict;
      expect(verdict.expected).toEqual({ from: 3, to: 4 });
      expect(verdict.warnings).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    "keeps the previous commit's count when the state's VMs are not indexes 0..n-1",
    async () => {
      const gap = await base.clone();
      try {
        await gap.terraform(["state", "rm", "terraform_data.worker[1]"]);
        await gap.write("terraform.tfvars", clusterPoolsTfvars(3, 3));
        const planFile = await file("gap.json", await gap.planJson());
        const before = await file("gap-before.tfvars", clusterPoolsTfvars(2, 3));
        const after = await file("gap-after.tfvars", clusterPoolsTfvars(3, 3));
        const run = await guardFromState(planFile, ["--all-pools"], before, after);
        const verdict = JSON.parse(run.stdout) as GuardVerdict;
        expect(verdict.pools?.[0]).toEqual({ name: "workers", expected: { from: 2, to: 3 } });
        expect(verdict.warnings).toContain(
          "pool workers: the state's VMs have the indexes 0, 2, not 0..1, so the change is judged from the previous commit's tfvars (2 → 3)",
        );
      } finally {
        await gap.remove();
      }
    },
    TIMEOUT,
  );

  it("needs the tfvars before and after", async () => {
    const run = await guard([
      "--plan",
      join(dir, "up.json"),
      "--pool",
      "workers",
      "--expect-from",
      "3",
      "--expect-to",
      "4",
      "--before-from-state",
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--before-from-state needs --tfvars-before and --tfvars-after");
  });
});

describe("the pool in the prior state", () => {
  const plan = (priorState: unknown) =>
    JSON.stringify({ format_version: "1.2", resource_changes: [], prior_state: priorState });

  it("reads managed instances of every module, leaving out data sources and deposed objects", () => {
    const text = plan({
      values: {
        root_module: {
          resources: [
            { address: "data.talos_image.this", mode: "data" },
            { address: "proxmox_virtual_environment_vm.worker[0]", mode: "managed" },
            {
              address: "proxmox_virtual_environment_vm.worker[1]",
              mode: "managed",
              deposed_key: "00000001",
            },
          ],
          child_modules: [
            {
              address: "module.gpu",
              resources: [{ address: 'module.gpu.proxmox_virtual_environment_vm.vm["a"]' }],
            },
          ],
        },
      },
    });
    expect(priorStateAddresses(text, "plan.json")?.map(formatResourceAddress)).toEqual([
      "proxmox_virtual_environment_vm.worker[0]",
      'module.gpu.proxmox_virtual_environment_vm.vm["a"]',
    ]);
  });

  it("knows nothing of a plan without a prior state (not an empty pool)", () => {
    expect(priorStateAddresses(plan(undefined), "plan.json")).toBeUndefined();
  });

  it("refuses a prior state that is not in Terraform's shape, naming the file", () => {
    expect(() =>
      priorStateAddresses(plan({ values: { root_module: { resources: 3 } } }), "p.json"),
    ).toThrow(/prior_state is not in Terraform's shape/);
  });

  const addresses = (...texts: string[]) => texts.map((text) => parseResourceAddress(text));
  const vm = [parseAddressPattern("module.gpu.proxmox_virtual_environment_vm.vm[*]")];

  it("gives a count, the keys of a for_each pool, or why neither", () => {
    expect(
      statePoolSize(
        addresses(
          "module.gpu.proxmox_virtual_environment_vm.vm[1]",
          "module.gpu.proxmox_virtual_environment_vm.vm[0]",
        ),
        vm,
      ),
    ).toEqual({ size: { kind: "count", count: 2 } });
    expect(
      statePoolSize(addresses('module.gpu.proxmox_virtual_environment_vm.vm["b"]'), vm),
    ).toEqual({ size: { kind: "keys", keys: ["b"] } });
    expect(
      statePoolSize(
        addresses(
          'module.gpu.proxmox_virtual_environment_vm.vm["b"]',
          "module.gpu.proxmox_virtual_environment_vm.vm[0]",
        ),
        vm,
      ),
    ).toEqual({ problem: "the state's VMs mix count indexes and for_each keys" });
    expect(statePoolSize(addresses("proxmox_virtual_environment_vm.other[0]"), vm)).toBeUndefined();
  });

  it("judges a for_each pool from the state's keys to the commit's", () => {
    const judged = changeFromState(
      { size: { kind: "keys", keys: ["a", "b"] } },
      { kind: "keys", keys: ["a"] },
      { kind: "keys", keys: ["a", "c"] },
      { from: 1, to: 2, addedKeys: ["c"], removedKeys: [] },
      "",
    );
    expect(judged.expected).toEqual({ from: 2, to: 2, addedKeys: ["c"], removedKeys: ["b"] });
    expect(judged.warning).toBe(
      'the Terraform state holds 2 workers ("a", "b"), not the 1 ("a") of the previous commit: an earlier run was cancelled or refused (or the state was changed outside this workflow), so the change is judged from the state: 2 → 2',
    );
  });

  it("keeps the commit's change when the state and the tfvars are of different kinds", () => {
    const tfvarsChange = { from: 2, to: 3 };
    const judged = changeFromState(
      { size: { kind: "keys", keys: ["a"] } },
      { kind: "count", count: 2 },
      { kind: "count", count: 3 },
      tfvarsChange,
      "gpu",
    );
    expect(judged.expected).toBe(tfvarsChange);
    expect(judged.warning).toBe(
      "pool gpu: the state's VMs have for_each keys while the tfvars give a count, so the change is judged from the previous commit's tfvars",
    );
  });
});
