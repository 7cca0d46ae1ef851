/**
 * The example infra repo (examples/talos-proxmox): its Terraform is formatted, and its guard
 * config accepts the expected scale changes of plans with its real resource addresses.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "@jest/globals";
import hcl from "hcl2-parser";
import { guardPlan } from "../../src/apply/guard.ts";
import { type GuardPool, parseGuardConfig, selectGuardPool } from "../../src/apply/guard-config.ts";
import { expectedChangeFromTfvars } from "../../src/apply/guard-expected.ts";
import { parseTerraformPlan, type TerraformPlan } from "../../src/apply/terraform-plan.ts";
import { requireTerraform, terraformFixture } from "../support/terraform.ts";

const run = promisify(execFile);
const example = fileURLToPath(new URL("../../examples/talos-proxmox/", import.meta.url));
const terraformDir = `${example}terraform`;
const guardConfigFile = `${example}.github/pr-autoscaler-guard.yml`;

async function fixturePlanText(name: string): Promise<string> {
  return readFile(`${terraformFixture("talos-proxmox-plans")}/${name}`, "utf8");
}

async function fixturePlan(name: string): Promise<TerraformPlan> {
  return parseTerraformPlan(await fixturePlanText(name), name);
}

/** A fixture plan with one resource change rewritten. */
async function editedPlan(
  name: string,
  address: string,
  edit: (change: Record<string, unknown>) => void,
): Promise<TerraformPlan> {
  const json = JSON.parse(await fixturePlanText(name)) as {
    resource_changes: { address: string; change: Record<string, unknown> }[];
  };
  const change = json.resource_changes.find((c) => c.address === address);
  if (!change) throw new Error(`${address} is not in ${name}`);
  edit(change.change);
  return parseTerraformPlan(JSON.stringify(json), name);
}

describe("examples/talos-proxmox Terraform", () => {
  it("is formatted (terraform fmt -check -recursive)", async () => {
    await requireTerraform();
    const env = { ...process.env, CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: "/dev/null" };
    const result = await run("terraform", ["fmt", "-check", "-recursive", "-diff", "-no-color"], {
      cwd: terraformDir,
      env,
    }).catch((error: { stdout?: string; stderr?: string }) => error);
    expect(result.stdout ?? "").toBe("");
    expect("code" in result ? result.code : 0).toBe(0);
  });

  it("declares every resource the fixture plans change", async () => {
    const [config] = hcl.parseToObject(await readFile(`${terraformDir}/main.tf`, "utf8")) as [
      { resource: Record<string, Record<string, unknown>> },
    ];
    for (const name of ["scale-up-3-to-4.json", "scale-down-4-to-3.json"]) {
      for (const change of (await fixturePlan(name)).changes) {
        const { type, name: resourceName } = change.resource;
        expect(
          `${type}.${resourceName}: ${config.resource[type]?.[resourceName] ? "declared" : "missing"}`,
        ).toBe(`${type}.${resourceName}: declared`);
      }
    }
  });
});

describe("the example's guard config", () => {
  let pool: GuardPool;

  beforeAll(async () => {
    const config = parseGuardConfig(await readFile(guardConfigFile, "utf8"), guardConfigFile);
    pool = selectGuardPool(config, undefined);
  });

  it("reads the expected change from the example's terraform.tfvars", async () => {
    const before = await readFile(`${terraformDir}/terraform.tfvars`, "utf8");
    const after = before.replace("worker_count      = 3", "worker_count      = 4");
    expect(after).not.toBe(before);
    expect(pool.countVariable).toBe("worker_count");
    const expected = expectedChangeFromTfvars(
      { text: before, file: "terraform.tfvars" },
      { text: after, file: "terraform.tfvars" },
      pool.countVariable!,
    );
    expect(expected).toEqual({ from: 3, to: 4 });
  });

  it("passes the scale-up 3 → 4 and names the new VM from the plan", async () => {
    const verdict = guardPlan(await fixturePlan("scale-up-3-to-4.json"), pool.rules, {
      from: 3,
      to: 4,
    });
    expect(verdict.offending).toEqual([]);
    expect(verdict.verdict).toBe("pass");
    expect(verdict.creates).toEqual([
      { address: "proxmox_virtual_environment_vm.worker[3]", name: "talos-worker-4" },
    ]);
    expect(verdict.alsoAllowed).toEqual([
      { address: "talos_machine_configuration_apply.worker[3]", actions: ["create"] },
    ]);
  });

  it("passes the scale-down 4 → 3 and names the node to drain", async () => {
    const verdict = guardPlan(await fixturePlan("scale-down-4-to-3.json"), pool.rules, {
      from: 4,
      to: 3,
    });
    expect(verdict.verdict).toBe("pass");
    expect(verdict.destroys).toEqual([
      {
        address: "proxmox_virtual_environment_vm.worker[3]",
        name: "talos-worker-4",
        node: "talos-worker-4",
      },
    ]);
  });

  it("falls back to the naming template when the plan shows no name", async () => {
    const plan = await editedPlan(
      "scale-down-4-to-3.json",
      "proxmox_virtual_environment_vm.worker[3]",
      (change) => {
        delete (change.before as Record<string, unknown>).name;
      },
    );
    const verdict = guardPlan(plan, pool.rules, { from: 4, to: 3 });
    expect(verdict.destroys[0]).toMatchObject({ name: "talos-worker-4", node: "talos-worker-4" });
  });

  it("refuses the scale-up when a worker VM is replaced too", async () => {
    const plan = await editedPlan(
      "scale-up-3-to-4.json",
      "proxmox_virtual_environment_vm.worker[1]",
      (change) => {
        change.actions = ["delete", "create"];
      },
    );
    const verdict = guardPlan(plan, pool.rules, { from: 3, to: 4 });
    expect(verdict.verdict).toBe("refuse");
    expect(verdict.offending).toEqual([
      {
        address: "proxmox_virtual_environment_vm.worker[1]",
        actions: ["delete", "create"],
        reason: expect.stringContaining("replaced"),
      },
    ]);
  });

  it("refuses changes to the control plane, the bootstrap and the Talos image", async () => {
    const cases: [string, string[]][] = [
      ["proxmox_virtual_environment_vm.control_plane[0]", ["update"]],
      ["talos_machine_bootstrap.this", ["delete", "create"]],
      ["proxmox_virtual_environment_download_file.talos_image", ["delete"]],
    ];
    for (const [address, actions] of cases) {
      const plan = await editedPlan("scale-up-3-to-4.json", address, (change) => {
        change.actions = actions;
        if (actions.join() === "update") {
          const after = change.after as { cpu: { cores: number }[] };
          change.after = { ...after, cpu: [{ ...after.cpu[0], cores: 8 }] };
        }
      });
      const verdict = guardPlan(plan, pool.rules, { from: 3, to: 4 });
      expect(verdict.offending.map((o) => [o.address, o.actions])).toEqual([[address, actions]]);
    }
  });
});
