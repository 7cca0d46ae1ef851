/**
 * The plan guard over real `terraform show -json` output: small configurations of built-in
 * terraform_data resources (no provider download) shaped like a Talos-on-Proxmox infra repo.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type ExpectedChange, type GuardRules, guardPlan } from "../../src/apply/guard.ts";
import { expectedChangeFromTfvars } from "../../src/apply/guard-expected.ts";
import { parseTerraformPlan, type TerraformPlan } from "../../src/apply/terraform-plan.ts";
import { InputError } from "../../src/errors.ts";
import { requireTerraform, type TerraformWorkdir, terraformWorkdir } from "../support/terraform.ts";

const TIMEOUT = 120_000;

const rules: GuardRules = {
  vmAddresses: ["module.workers.terraform_data.worker[*]"],
  companionAddresses: ["module.workers.terraform_data.machine_config[*]"],
  allowedUpdateAttributes: [],
  drift: "refuse",
};

const worker = (i: number) => `module.workers.terraform_data.worker[${i}]`;
const machineConfig = (i: number) => `module.workers.terraform_data.machine_config[${i}]`;

/** Plans `tfvars` on a copy of `base` and returns the JSON text. */
async function planText(base: TerraformWorkdir, tfvars: string, args: string[] = []) {
  const copy = await base.clone();
  try {
    await copy.write("terraform.tfvars", tfvars);
    return await copy.planJson(args);
  } finally {
    await copy.remove();
  }
}

async function plan(base: TerraformWorkdir, tfvars: string, args: string[] = []) {
  return parseTerraformPlan(await planText(base, tfvars, args), "plan.json");
}

function offendingAddresses(verdict: ReturnType<typeof guardPlan>): string[] {
  return verdict.offending.map((o) => o.address).sort();
}

describe("plan guard on real terraform plans (count)", () => {
  let three: TerraformWorkdir;
  let four: TerraformWorkdir;
  const threeTfvars = "worker_count = 3\n";

  beforeAll(async () => {
    await requireTerraform();
    three = await terraformWorkdir("cluster");
    await three.apply();
    four = await three.clone();
    await four.write("terraform.tfvars", "worker_count = 4\n");
    await four.apply();
  }, TIMEOUT);

  afterAll(async () => {
    await three?.remove();
    await four?.remove();
  });

  it(
    "passes a scale-up 3 → 4 read from the tfvars diff, naming the new VM",
    async () => {
      const after = "worker_count = 4\n";
      const expected = expectedChangeFromTfvars(
        { text: threeTfvars, file: "before.tfvars" },
        { text: after, file: "after.tfvars" },
        "worker_count",
      );
      expect(expected).toEqual({ from: 3, to: 4 });
      const verdict = guardPlan(await plan(three, after), rules, expected);
      expect(verdict.offending).toEqual([]);
      expect(verdict.verdict).toBe("pass");
      expect(verdict.creates).toEqual([{ address: worker(3), name: "talos-worker-4" }]);
      expect(verdict.destroys).toEqual([]);
      expect(verdict.alsoAllowed).toEqual([{ address: machineConfig(3), actions: ["create"] }]);
    },
    TIMEOUT,
  );

  it(
    "passes a scale-down 4 → 3 and names the node to drain",
    async () => {
      const verdict = guardPlan(await plan(four, threeTfvars), rules, { from: 4, to: 3 });
      expect(verdict.offending).toEqual([]);
      expect(verdict.verdict).toBe("pass");
      expect(verdict.creates).toEqual([]);
      expect(verdict.destroys).toEqual([
        { address: worker(3), name: "talos-worker-4", node: "talos-worker-4" },
      ]);
      expect(verdict.alsoAllowed).toEqual([{ address: machineConfig(3), actions: ["delete"] }]);
    },
    TIMEOUT,
  );

  it(
    "refuses a scale-down whose VM the plan names otherwise than the nameTemplate",
    async () => {
      // The plan destroys worker[3], named talos-worker-4; a template one off names index 3
      // talos-worker-3, the node pr-autoscaler's pull request removes with the same naming.
      const planned = await plan(four, threeTfvars);
      const offByOne = { ...rules, nameTemplate: "talos-worker-{index}" };
      const verdict = guardPlan(planned, offByOne, { from: 4, to: 3 });
      expect(verdict.verdict).toBe("refuse");
      expect(verdict.destroys).toEqual([]);
      expect(verdict.offending).toEqual([
        {
          address: worker(3),
          actions: ["delete"],
          reason:
            'this worker VM would be destroyed, but the plan names it talos-worker-4 while nameTemplate "talos-worker-{index}" names it talos-worker-3: which node to drain first would be a guess (the pull request removes the template\'s); correct the template (a zero-padded number is written {index+1:02})',
        },
      ]);
      const right = { ...rules, nameTemplate: "talos-worker-{index+1}" };
      const passed = guardPlan(planned, right, { from: 4, to: 3 });
      expect(passed.verdict).toBe("pass");
      expect(passed.destroys).toEqual([
        { address: worker(3), name: "talos-worker-4", node: "talos-worker-4" },
      ]);
    },
    TIMEOUT,
  );

  it(
    "refuses a scale-down that also changes a remaining worker in place, naming it",
    async () => {
      const copy = await four.clone();
      try {
        await copy.write("terraform.tfvars", threeTfvars);
        const module = await copy.read("modules/workers/main.tf");
        await copy.write(
          "modules/workers/main.tf",
          module.replace("memory_mib = 16384", "memory_mib = count.index == 0 ? 32768 : 16384"),
        );
        const planned = parseTerraformPlan(await copy.planJson(), "plan.json");
        const verdict = guardPlan(planned, rules, { from: 4, to: 3 });
        expect(verdict.verdict).toBe("refuse");
        // Its machine config reads the worker's output, which is known only after the update.
        expect(verdict.offending).toEqual([
          {
            address: machineConfig(0),
            actions: ["update"],
            reason:
              "this companion of a worker VM would be updated in place (changes: input, output); allowed in-place changes: none",
          },
          {
            address: worker(0),
            actions: ["update"],
            reason:
              "this worker VM would be updated in place (changes: input, output); allowed in-place changes: none",
          },
        ]);
        // The delete itself is as expected, and still named, so the report tells them apart.
        expect(verdict.destroys.map((d) => d.address)).toEqual([worker(3)]);
      } finally {
        await copy.remove();
      }
    },
    TIMEOUT,
  );

  it(
    "refuses moved blocks in a scale-down, of workers and of anything else",
    async () => {
      // A `moved` block changes only the state's addresses: Terraform plans a no-op (or the
      // planned action) at the new address with `previous_address` set.
      const copy = await four.clone();
      try {
        await copy.write("terraform.tfvars", threeTfvars);
        const main = await copy.read("main.tf");
        await copy.write(
          "main.tf",
          main.replace(
            'resource "terraform_data" "network" {',
            'moved {\n  from = terraform_data.network\n  to   = terraform_data.net\n}\n\nresource "terraform_data" "net" {',
          ),
        );
        const workers = await copy.read("modules/workers/main.tf");
        await copy.write(
          "modules/workers/main.tf",
          workers
            .replace(
              'resource "terraform_data" "worker" {',
              'moved {\n  from = terraform_data.worker\n  to   = terraform_data.vm\n}\n\nresource "terraform_data" "vm" {',
            )
            .replace("terraform_data.worker[count.index]", "terraform_data.vm[count.index]"),
        );
        const planned = parseTerraformPlan(await copy.planJson(), "plan.json");
        const moved = { ...rules, vmAddresses: ["module.workers.terraform_data.vm[*]"] };
        const verdict = guardPlan(planned, moved, { from: 4, to: 3 });
        expect(verdict.verdict).toBe("refuse");
        expect(verdict.destroys).toEqual([]);
        const reasons = Object.fromEntries(verdict.offending.map((o) => [o.address, o.reason]));
        expect(reasons["terraform_data.net"]).toBe(
          "moved from terraform_data.network: a scaling change moves nothing",
        );
        for (const i of [0, 1, 2, 3]) {
          expect(reasons[`module.workers.terraform_data.vm[${i}]`]).toBe(
            `moved from ${worker(i)}: a scaling change moves nothing, and a moved worker changes which VM is which`,
          );
        }
        // The same plan under the old address pattern: the moved VMs are still called workers.
        const old = guardPlan(planned, rules, { from: 4, to: 3 });
        expect(old.verdict).toBe("refuse");
        expect(old.offending.find((o) => o.address.endsWith(".vm[3]"))?.reason).toContain(
          "a moved worker changes which VM is which",
        );
      } finally {
        await copy.remove();
      }
    },
    TIMEOUT,
  );

  it(
    "refuses 3 → 5 when the merged change was 3 → 4",
    async () => {
      const verdict = guardPlan(await plan(three, "worker_count = 5\n"), rules, { from: 3, to: 4 });
      expect(verdict.verdict).toBe("refuse");
      expect(offendingAddresses(verdict)).toEqual([machineConfig(4), worker(4)]);
      const vm = verdict.offending.find((o) => o.address === worker(4))!;
      expect(vm.actions).toEqual(["create"]);
      expect(vm.reason).toContain("3 → 4 adds only index 3");
      expect(verdict.creates).toEqual([{ address: worker(3), name: "talos-worker-4" }]);
    },
    TIMEOUT,
  );

  it(
    "refuses a scale-down that removes more than expected",
    async () => {
      const verdict = guardPlan(await plan(four, "worker_count = 2\n"), rules, { from: 4, to: 3 });
      expect(verdict.verdict).toBe("refuse");
      expect(offendingAddresses(verdict)).toEqual([machineConfig(2), worker(2)]);
      expect(verdict.offending.find((o) => o.address === worker(2))!.reason).toContain(
        "may destroy only the highest index 3",
      );
    },
    TIMEOUT,
  );

  it(
    "refuses a change to the control plane",
    async () => {
      const tfvars = `${threeTfvars}control_plane_cores = 8\n`;
      const verdict = guardPlan(await plan(three, tfvars), rules, { from: 3, to: 3 });
      expect(verdict.verdict).toBe("refuse");
      expect(offendingAddresses(verdict)).toEqual(
        [0, 1, 2].map((i) => `terraform_data.control_plane[${i}]`),
      );
      for (const offence of verdict.offending) {
        expect(offence.actions).toEqual(["update"]);
        expect(offence.reason).toContain("not a worker VM of the pool");
      }
    },
    TIMEOUT,
  );

  it(
    "refuses a change to the network",
    async () => {
      const tfvars = `${threeTfvars}network_cidr = "10.0.20.0/24"\n`;
      const verdict = guardPlan(await plan(three, tfvars), rules, { from: 3, to: 3 });
      expect(verdict.verdict).toBe("refuse");
      expect(verdict.offending).toEqual([
        {
          address: "terraform_data.network",
          actions: ["update"],
          reason: expect.stringContaining("changes: input, output"),
        },
      ]);
    },
    TIMEOUT,
  );

  it(
    "refuses the replacement of workers even when the count is as expected",
    async () => {
      const tfvars = `${threeTfvars}worker_generation = 2\n`;
      const verdict = guardPlan(await plan(three, tfvars), rules, { from: 3, to: 3 });
      expect(verdict.verdict).toBe("refuse");
      const replaced = verdict.offending.filter((o) => o.address.includes(".worker["));
      expect(replaced.map((o) => o.address)).toEqual([worker(0), worker(1), worker(2)]);
      for (const offence of replaced) {
        expect(offence.actions).toEqual(["delete", "create"]);
        expect(offence.reason).toContain("replaced");
        expect(offence.reason).toContain("triggers_replace");
      }
    },
    TIMEOUT,
  );

  it(
    "refuses workers whose module instance is gone, even when their count goes to 0",
    async () => {
      // The module that holds the pool gets count = 0: Terraform says each worker's module
      // instance is gone, which is not the pool shrinking when its [*] is the resource's key.
      const copy = await three.clone();
      try {
        const main = await copy.read("main.tf");
        await copy.write(
          "main.tf",
          main.replace('module "workers" {', 'module "workers" {\n  count = 0\n'),
        );
        const planned = parseTerraformPlan(await copy.planJson(), "plan.json");
        const verdict = guardPlan(planned, rules, { from: 3, to: 0 });
        expect(verdict.verdict).toBe("refuse");
        expect(offendingAddresses(verdict)).toEqual(
          [0, 1, 2].flatMap((i) => [machineConfig(i), worker(i)]).sort(),
        );
        for (const offence of verdict.offending) {
          expect(offence.reason).toContain(
            "because its module call is gone from the configuration, not because the pool shrank",
          );
        }
      } finally {
        await copy.remove();
      }
    },
    TIMEOUT,
  );

  it(
    "refuses an in-place update of workers unless its attributes are allowed",
    async () => {
      const planned = await plan(three, `${threeTfvars}worker_cores = 8\n`);
      const refused = guardPlan(planned, rules, { from: 3, to: 3 });
      expect(refused.verdict).toBe("refuse");
      expect(refused.offending.map((o) => o.address)).toContain(worker(1));
      expect(refused.offending[0]!.reason).toContain("allowed in-place changes: none");

      const allowing = { ...rules, allowedUpdateAttributes: ["input", "output"] };
      const passed = guardPlan(planned, allowing, { from: 3, to: 3 });
      expect(passed.offending).toEqual([]);
      expect(passed.alsoAllowed.map((c) => c.address)).toContain(worker(0));
    },
    TIMEOUT,
  );

  it(
    "passes a plan with no changes, with nothing to do",
    async () => {
      const planned = await plan(three, threeTfvars);
      for (const expected of [{ from: 3, to: 3 }, undefined] as (ExpectedChange | undefined)[]) {
        const verdict = guardPlan(planned, rules, expected);
        expect(verdict).toEqual({
          verdict: "pass",
          expected: expected ?? null,
          creates: [],
          destroys: [],
          alsoAllowed: [],
          offending: [],
          warnings: [],
        });
      }
    },
    TIMEOUT,
  );

  it(
    "refuses a scale-up when no expected change is given",
    async () => {
      const verdict = guardPlan(await plan(three, "worker_count = 4\n"), rules, undefined);
      expect(verdict.verdict).toBe("refuse");
      expect(verdict.offending.map((o) => o.reason)).toContain(
        "creates a worker VM, but no expected change was given (--expect-from/--expect-to)",
      );
    },
    TIMEOUT,
  );

  it(
    "refuses a targeted plan, which Terraform marks incomplete",
    async () => {
      const planned = await plan(three, "worker_count = 4\n", [`-target=${worker(3)}`]);
      expect(planned.complete).toBe(false);
      const verdict = guardPlan(planned, rules, { from: 3, to: 4 });
      expect(verdict.verdict).toBe("refuse");
      expect(verdict.offending[0]).toEqual({
        address: "(plan)",
        actions: [],
        reason: expect.stringContaining("incomplete"),
      });
    },
    TIMEOUT,
  );

  describe("drift", () => {
    // terraform_data never drifts (its state is all it has), so a real no-change plan gets a
    // resource_drift entry added in the documented shape.
    async function planWithDrift(address: string): Promise<TerraformPlan> {
      const json = JSON.parse(await planText(three, threeTfvars)) as {
        resource_changes: { address: string; change: { before: Record<string, unknown> } }[];
        resource_drift?: unknown[];
        relevant_attributes?: unknown[];
      };
      const current = json.resource_changes.find((c) => c.address === address)!;
      const before = current.change.before;
      const input = before.input as Record<string, unknown>;
      const after = { ...before, input: { ...input, drifted: "by hand" } };
      json.resource_drift = [
        { ...current, change: { ...current.change, actions: ["update"], before, after } },
      ];
      json.relevant_attributes = [{ resource: address, attribute: ["input"] }];
      return parseTerraformPlan(JSON.stringify(json), "plan.json");
    }

    it(
      "refuses drift outside the pool by default, and warns with drift: warn",
      async () => {
        const planned = await planWithDrift("terraform_data.network");
        const refused = guardPlan(planned, rules, { from: 3, to: 3 });
        expect(refused.verdict).toBe("refuse");
        expect(refused.offending).toEqual([
          {
            address: "terraform_data.network",
            actions: ["update"],
            reason: expect.stringContaining(
              "changed outside Terraform since the last apply (input); the planned changes depend on input",
            ),
          },
        ]);
        const warned = guardPlan(planned, { ...rules, drift: "warn" }, { from: 3, to: 3 });
        expect(warned.verdict).toBe("pass");
        expect(warned.warnings).toEqual([
          "terraform_data.network changed outside Terraform since the last apply (input); the planned changes depend on input",
        ]);
      },
      TIMEOUT,
    );

    it(
      "only warns about drift of the pool's own VMs",
      async () => {
        const verdict = guardPlan(await planWithDrift(worker(1)), rules, { from: 3, to: 3 });
        expect(verdict.verdict).toBe("pass");
        expect(verdict.warnings).toHaveLength(1);
        expect(verdict.warnings[0]).toContain(worker(1));
      },
      TIMEOUT,
    );
  });

  it(
    "refuses a scale-up whose apply would invoke an action",
    async () => {
      // Terraform 1.14 and later list the actions an apply runs in action_invocations (here one
      // triggered by the new worker's creation); the built-in provider has no action, so a real
      // scale-up plan gets one entry added in that shape.
      const json = JSON.parse(await planText(three, "worker_count = 4\n")) as Record<
        string,
        unknown
      >;
      expect(
        guardPlan(parseTerraformPlan(JSON.stringify(json), "plan.json"), rules, {
          from: 3,
          to: 4,
        }).verdict,
      ).toBe("pass");
      json.action_invocations = [
        {
          address: "action.ansible_playbook.join_worker",
          type: "ansible_playbook",
          lifecycle_action_trigger: {
            triggering_resource_address: worker(3),
            action_trigger_event: "after_create",
          },
        },
      ];
      const verdict = guardPlan(parseTerraformPlan(JSON.stringify(json), "plan.json"), rules, {
        from: 3,
        to: 4,
      });
      expect(verdict.verdict).toBe("refuse");
      expect(verdict.offending).toEqual([
        {
          address: "action.ansible_playbook.join_worker",
          actions: ["invoke"],
          reason:
            "the apply would invoke this action (a provider-defined operation outside the planned changes, whose effect the plan does not show); a scaling change invokes none",
        },
      ]);
      expect(verdict.creates).toEqual([{ address: worker(3), name: "talos-worker-4" }]);
    },
    TIMEOUT,
  );

  describe("bad input", () => {
    it(
      "rejects the JSON of a state, which is not a plan",
      async () => {
        const state = await three.terraform(["show", "-json", "-no-color"]);
        expect(() => parseTerraformPlan(state, "state.json")).toThrow(
          /this is a state \(`terraform show -json` without a plan file\)/,
        );
      },
      TIMEOUT,
    );

    it(
      "rejects the log `terraform plan -json` prints, saying what to pass instead",
      async () => {
        const copy = await three.clone();
        try {
          await copy.write("terraform.tfvars", "worker_count = 4\n");
          const log = await copy.terraform(["plan", "-json", "-input=false", "-no-color"]);
          expect(log.split("\n").length).toBeGreaterThan(2);
          let error: unknown;
          try {
            parseTerraformPlan(log, "plan.json");
          } catch (caught) {
            error = caught;
          }
          expect(error).toBeInstanceOf(InputError);
          expect((error as InputError).message).toBe(
            "this is the machine-readable log of `terraform plan -json` (one message per line), not a plan: run `terraform plan -out=PLANFILE` and pass `terraform show -json PLANFILE`",
          );
          expect((error as InputError).location).toEqual({ file: "plan.json" });
        } finally {
          await copy.remove();
        }
      },
      TIMEOUT,
    );

    it(
      "refuses a plan Terraform saved although planning failed (errored)",
      async () => {
        // Terraform 1.11 still writes the plan file when a precondition fails, marked errored
        // (and incomplete, not applyable): `terraform apply` of it would fail, so it is bad input.
        const copy = await three.clone();
        try {
          await copy.write(
            "check.tf",
            'resource "terraform_data" "check" {\n  input = 1\n  lifecycle {\n    precondition {\n      condition     = var.worker_count > 5\n      error_message = "planned to fail"\n    }\n  }\n}\n',
          );
          await expect(copy.planJson()).rejects.toThrow("planned to fail");
          const json = await copy.terraform(["show", "-json", "-no-color", "guard-test-1.tfplan"]);
          expect(JSON.parse(json)).toMatchObject({ errored: true, complete: false });
          expect(() => parseTerraformPlan(json, "plan.json")).toThrow(
            "the plan is marked errored: Terraform could not finish planning; fix the errors and plan again",
          );
        } finally {
          await copy.remove();
        }
      },
      TIMEOUT,
    );

    it(
      "rejects a plan of another format_version and truncated JSON",
      async () => {
        const text = await planText(three, threeTfvars);
        const future = text.replace(/"format_version":"1\.\d+"/, '"format_version":"2.0"');
        expect(() => parseTerraformPlan(future, "plan.json")).toThrow(
          'format_version "2.0" is not supported',
        );
        let error: unknown;
        try {
          parseTerraformPlan(text.slice(0, 200), "plan.json");
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(InputError);
        expect((error as InputError).message).toMatch(/^not valid JSON/);
        expect((error as InputError).location).toMatchObject({ file: "plan.json", line: 1 });
        expect((error as InputError).exitCode).toBe(2);
      },
      TIMEOUT,
    );
  });
});

describe("plan guard on real terraform plans (companions keyed otherwise than the VMs)", () => {
  // The workers are count-indexed, but their machine configs are keyed by node name: the guard
  // matches a companion to its VM by key, so no such companion belongs to a VM it knows.
  let three: TerraformWorkdir;
  const configs = (extra: string) => `resource "terraform_data" "machine_config" {
  for_each = toset(concat([for i in range(var.worker_count) : "talos-worker-\${i + 1}"], [${extra}]))

  input = {
    node         = each.key
    machine_type = "worker"
  }
}
`;
  async function withConfigs(dir: TerraformWorkdir, extra: string): Promise<void> {
    const module = await dir.read("modules/workers/main.tf");
    const start = module.indexOf('resource "terraform_data" "machine_config"');
    await dir.write("modules/workers/main.tf", module.slice(0, start) + configs(extra));
  }

  beforeAll(async () => {
    await requireTerraform();
    three = await terraformWorkdir("cluster");
    await withConfigs(three, "");
    await three.apply();
  }, TIMEOUT);

  afterAll(async () => {
    await three?.remove();
  });

  it(
    "refuses a scale-up that also applies a worker config to a control plane node",
    async () => {
      const copy = await three.clone();
      try {
        await copy.write("terraform.tfvars", "worker_count = 4\n");
        await withConfigs(copy, '"talos-cp-1"');
        const planned = parseTerraformPlan(await copy.planJson(), "plan.json");
        const config = (key: string) => `module.workers.terraform_data.machine_config["${key}"]`;
        expect(
          planned.changes.filter((c) => c.actions[0] === "create").map((c) => c.address),
        ).toEqual([config("talos-cp-1"), config("talos-worker-4"), worker(3)]);
        const verdict = guardPlan(planned, rules, { from: 3, to: 4 });
        expect(verdict.verdict).toBe("refuse");
        expect(verdict.offending).toEqual(
          ["talos-cp-1", "talos-worker-4"].map((key) => ({
            address: config(key),
            actions: ["create"],
            reason: `this companion of a worker VM would be created with key "${key}", but the pool has no VM with that key after the plan: companions are matched to VMs by the same key`,
          })),
        );
        expect(verdict.creates).toEqual([{ address: worker(3), name: "talos-worker-4" }]);
      } finally {
        await copy.remove();
      }
    },
    TIMEOUT,
  );
});

describe("plan guard on real terraform plans (for_each)", () => {
  let base: TerraformWorkdir;
  const forEachRules: GuardRules = {
    vmAddresses: ["terraform_data.worker[*]"],
    companionAddresses: ["terraform_data.machine_config[*]"],
    allowedUpdateAttributes: [],
    drift: "refuse",
  };
  const withoutSecond = `workers = {
  "talos-worker-1" = { cores = 4 }
  "talos-worker-3" = { cores = 4 }
  "talos-worker-4" = { cores = 4 }
}
`;

  beforeAll(async () => {
    await requireTerraform();
    base = await terraformWorkdir("cluster-for-each");
    await base.apply();
  }, TIMEOUT);

  afterAll(async () => {
    await base?.remove();
  });

  it(
    "passes the removal of the worker the tfvars change names, and names its node",
    async () => {
      const expected = expectedChangeFromTfvars(
        { text: await base.read("terraform.tfvars"), file: "before.tfvars" },
        { text: withoutSecond, file: "after.tfvars" },
        "workers",
      );
      expect(expected).toEqual({ from: 4, to: 3, addedKeys: [], removedKeys: ["talos-worker-2"] });
      const verdict = guardPlan(await plan(base, withoutSecond), forEachRules, expected);
      expect(verdict.offending).toEqual([]);
      expect(verdict.destroys).toEqual([
        {
          address: 'terraform_data.worker["talos-worker-2"]',
          name: "talos-worker-2",
          node: "talos-worker-2",
        },
      ]);
    },
    TIMEOUT,
  );

  it(
    "refuses to delete a worker that is not the one the change removes",
    async () => {
      const planned = await plan(base, withoutSecond);
      const wrongKey = guardPlan(planned, forEachRules, {
        from: 4,
        to: 3,
        removedKeys: ["talos-worker-4"],
      });
      expect(wrongKey.verdict).toBe("refuse");
      expect(offendingAddresses(wrongKey)).toEqual([
        'terraform_data.machine_config["talos-worker-2"]',
        'terraform_data.worker["talos-worker-2"]',
        "terraform_data.worker[*]",
      ]);
      const unnamed = guardPlan(planned, forEachRules, { from: 4, to: 3 });
      expect(unnamed.verdict).toBe("refuse");
      expect(unnamed.offending[0]!.reason).toContain("does not name which for_each keys go");
    },
    TIMEOUT,
  );
});

describe("plan guard on real terraform plans (keys that differ by a leading zero)", () => {
  // talos-worker-9 and talos-worker-09 are two VMs: a change that removes one must not let a
  // plan destroy the other, however their numbers compare.
  let base: TerraformWorkdir;
  const keyRules: GuardRules = {
    vmAddresses: ["terraform_data.worker[*]"],
    companionAddresses: ["terraform_data.machine_config[*]"],
    allowedUpdateAttributes: [],
    drift: "refuse",
  };
  const tfvars = (names: string[]) =>
    `workers = {\n${names.map((n) => `  "${n}" = { cores = 4 }\n`).join("")}}\n`;
  const before = tfvars(["talos-worker-8", "talos-worker-9", "talos-worker-09"]);
  const expectedWithout = (name: string) =>
    expectedChangeFromTfvars(
      { text: before, file: "before.tfvars" },
      {
        text: tfvars(
          ["talos-worker-8", "talos-worker-9", "talos-worker-09"].filter((n) => n !== name),
        ),
        file: "after.tfvars",
      },
      "workers",
    );

  beforeAll(async () => {
    await requireTerraform();
    base = await terraformWorkdir("cluster-for-each");
    await base.write("terraform.tfvars", before);
    await base.apply();
  }, TIMEOUT);

  afterAll(async () => {
    await base?.remove();
  });

  it(
    "refuses a plan that destroys talos-worker-09 when the change removes talos-worker-9",
    async () => {
      const planned = await plan(base, tfvars(["talos-worker-8", "talos-worker-9"]));
      const destroyed = planned.changes.filter((c) => c.actions[0] === "delete");
      expect(destroyed.map((c) => c.address).sort()).toEqual([
        'terraform_data.machine_config["talos-worker-09"]',
        'terraform_data.worker["talos-worker-09"]',
      ]);
      const expected = expectedWithout("talos-worker-9");
      expect(expected).toEqual({ from: 3, to: 2, addedKeys: [], removedKeys: ["talos-worker-9"] });
      const verdict = guardPlan(planned, keyRules, expected);
      expect(verdict.verdict).toBe("refuse");
      expect(offendingAddresses(verdict)).toEqual([
        'terraform_data.machine_config["talos-worker-09"]',
        'terraform_data.worker["talos-worker-09"]',
        "terraform_data.worker[*]",
      ]);
      expect(verdict.offending.find((o) => o.address.includes("worker["))?.reason).toContain(
        'removes only "talos-worker-9"',
      );
      expect(verdict.destroys).toEqual([]);
      // The change that does remove it passes, and drains that node only.
      const right = guardPlan(planned, keyRules, expectedWithout("talos-worker-09"));
      expect(right.offending).toEqual([]);
      expect(right.destroys).toEqual([
        {
          address: 'terraform_data.worker["talos-worker-09"]',
          name: "talos-worker-09",
          node: "talos-worker-09",
        },
      ]);
    },
    TIMEOUT,
  );

  it(
    "takes the keys talos-worker-9, talos-worker-09 and 9 for three different VMs",
    async () => {
      const planned = await plan(base, tfvars(["talos-worker-8", "talos-worker-09"]));
      const wrong = guardPlan(planned, keyRules, {
        from: 3,
        to: 2,
        removedKeys: ["talos-worker-09"],
      });
      expect(wrong.verdict).toBe("refuse");
      expect(wrong.destroys).toEqual([]);
      const bare = guardPlan(planned, keyRules, { from: 3, to: 2, removedKeys: ["9"] });
      expect(bare.verdict).toBe("refuse");
      const right = guardPlan(planned, keyRules, {
        from: 3,
        to: 2,
        removedKeys: ["talos-worker-9"],
      });
      expect(right.verdict).toBe("pass");
      expect(right.destroys.map((d) => d.node)).toEqual(["talos-worker-9"]);
    },
    TIMEOUT,
  );
});

describe("plan guard on real terraform plans (a module instance per worker)", () => {
  // The count is on the module call: Terraform says a module instance beyond the new count is
  // gone (delete_because_no_module), as it says of a module call removed from the configuration.
  let four: TerraformWorkdir;
  const moduleRules: GuardRules = {
    vmAddresses: ["module.worker[*].terraform_data.vm"],
    companionAddresses: ["module.worker[*].terraform_data.machine_config"],
    allowedUpdateAttributes: [],
    drift: "refuse",
  };
  const vm = (i: number) => `module.worker[${i}].terraform_data.vm`;
  const config = (i: number) => `module.worker[${i}].terraform_data.machine_config`;

  beforeAll(async () => {
    await requireTerraform();
    four = await terraformWorkdir("cluster-module-per-worker");
    await four.write("terraform.tfvars", "worker_count = 4\n");
    await four.apply();
  }, TIMEOUT);

  afterAll(async () => {
    await four?.remove();
  });

  it(
    "passes a scale-down 4 → 2 that removes the highest module instances, and names their nodes",
    async () => {
      const planned = await plan(four, "worker_count = 2\n");
      const reasons = planned.changes
        .filter((c) => c.actions[0] === "delete")
        .map((c) => c.actionReason);
      expect(new Set(reasons)).toEqual(new Set(["delete_because_no_module"]));
      const verdict = guardPlan(planned, moduleRules, { from: 4, to: 2 });
      expect(verdict.offending).toEqual([]);
      expect(verdict.verdict).toBe("pass");
      expect(verdict.destroys).toEqual([
        { address: vm(2), name: "talos-worker-3", node: "talos-worker-3" },
        { address: vm(3), name: "talos-worker-4", node: "talos-worker-4" },
      ]);
      expect(verdict.alsoAllowed).toEqual(
        [config(2), config(3)].map((address) => ({ address, actions: ["delete"] })),
      );
    },
    TIMEOUT,
  );

  it(
    "refuses the module instances a smaller change does not remove",
    async () => {
      const verdict = guardPlan(await plan(four, "worker_count = 2\n"), moduleRules, {
        from: 4,
        to: 3,
      });
      expect(verdict.verdict).toBe("refuse");
      expect(offendingAddresses(verdict)).toEqual([config(2), vm(2)]);
      expect(verdict.offending.find((o) => o.address === vm(2))!.reason).toContain(
        "may destroy only the highest index 3",
      );
    },
    TIMEOUT,
  );
});
