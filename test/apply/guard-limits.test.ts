import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { guardPlan } from "../../src/apply/guard.ts";
import { type GuardPool, parseGuardConfig, selectGuardPool } from "../../src/apply/guard-config.ts";
import { parseTerraformPlan } from "../../src/apply/terraform-plan.ts";
import { terraformFixture } from "../support/terraform.ts";

const guardConfigFile = fileURLToPath(
  new URL("../../examples/talos-proxmox/.github/pr-autoscaler-guard.yml", import.meta.url),
);
const scaleUp = `${terraformFixture("talos-proxmox-plans")}/scale-up-3-to-4.json`;

let pool: GuardPool;
let planText: string;

beforeAll(async () => {
  pool = selectGuardPool(
    parseGuardConfig(await readFile(guardConfigFile, "utf8"), guardConfigFile),
    undefined,
  );
  planText = await readFile(scaleUp, "utf8");
});

describe("plan guard limits", () => {
  it("refuses a create whose key is a quoted string in a pool of count indexes", () => {
    const json = JSON.parse(planText);
    for (const change of json.resource_changes) {
      if (change.address === "proxmox_virtual_environment_vm.worker[3]") {
        change.address = 'proxmox_virtual_environment_vm.worker["3"]';
        change.index = "3";
      }
    }
    const verdict = guardPlan(parseTerraformPlan(JSON.stringify(json), "plan.json"), pool.rules, {
      from: 3,
      to: 4,
    });
    expect(verdict.verdict).toBe("refuse");
    expect(verdict.offending.map((o) => o.address)).toContain(
      'proxmox_virtual_environment_vm.worker["3"]',
    );
  });

  it("refuses an absurd expected count with a bounded list of offences, quickly", () => {
    const plan = parseTerraformPlan(planText, "plan.json");
    const verdict = guardPlan(plan, pool.rules, { from: 3, to: 1_000_000_000 });
    expect(verdict.verdict).toBe("refuse");
    expect(verdict.offending.length).toBeLessThanOrEqual(20);
    expect(verdict.offending.at(-1)?.reason).toMatch(
      /more indexes below 1000000000 would have no VM/,
    );
  });
});
