/**
 * Guard decisions on small plans written in the documented `terraform show -json` format, for
 * the cases a builtin-only Terraform configuration cannot produce (deposed objects, imports,
 * moved blocks, provider-specific names). The real-terraform cases are in guard-terraform.test.ts.
 */
import { describe, expect, it } from "@jest/globals";
import { type GuardRules, guardPlan } from "../../src/apply/guard.ts";
import { parseTerraformPlan, type TerraformPlan } from "../../src/apply/terraform-plan.ts";
import { InputError } from "../../src/errors.ts";

const rules: GuardRules = {
  vmAddresses: ["module.workers.proxmox_virtual_environment_vm.worker[*]"],
  companionAddresses: ["module.workers.talos_machine_configuration_apply.worker[*]"],
  nameTemplate: "talos-worker-{index+1}",
  allowedUpdateAttributes: [],
  drift: "refuse",
};

const vm = (i: number) => `module.workers.proxmox_virtual_environment_vm.worker[${i}]`;
const apply = (i: number) => `module.workers.talos_machine_configuration_apply.worker[${i}]`;

interface ChangeJson {
  address: string;
  change: { actions: string[]; before?: unknown; after?: unknown; after_unknown?: unknown };
  action_reason?: string;
  deposed?: string;
  previous_address?: string;
}

function change(address: string, actions: string[], extra: Partial<ChangeJson> = {}): ChangeJson {
  const name = /\[(\d+)\]$/.exec(address)?.[1];
  const values = name === undefined ? { id: "x" } : { name: `talos-worker-${Number(name) + 1}` };
  const before = actions[0] === "create" ? null : values;
  const after = actions.includes("delete") && actions.length === 1 ? null : values;
  return { address, change: { actions, before, after, after_unknown: {} }, ...extra };
}

/** `count` workers 0..n-1 as no-ops. */
function existing(n: number): ChangeJson[] {
  return Array.from({ length: n }, (_, i) => change(vm(i), ["no-op"]));
}

function plan(changes: ChangeJson[], extra: Record<string, unknown> = {}): TerraformPlan {
  const json = { format_version: "1.2", planned_values: {}, resource_changes: changes, ...extra };
  return parseTerraformPlan(JSON.stringify(json), "plan.json");
}

describe("guardPlan", () => {
  it("passes a plan that is already applied: the pool already has the expected VMs", () => {
    const verdict = guardPlan(plan(existing(4)), rules, { from: 3, to: 4 });
    expect(verdict.verdict).toBe("pass");
    expect(verdict.creates).toEqual([]);
  });

  it("refuses when the pool after the plan lacks an expected VM", () => {
    const verdict = guardPlan(plan(existing(2)), rules, { from: 3, to: 3 });
    expect(verdict.offending).toEqual([
      {
        address: vm(2),
        actions: [],
        reason:
          "after this plan the pool would have no VM with index 2, but 3 → 3 expects indexes 0..2",
      },
    ]);
  });

  it("refuses a worker VM that would stay although the change removes it", () => {
    const verdict = guardPlan(plan(existing(4)), rules, { from: 4, to: 3 });
    expect(verdict.offending).toEqual([
      {
        address: vm(3),
        actions: [],
        reason: "this VM would still exist after the plan, but 4 → 3 keeps only indexes 0..2",
      },
    ]);
  });

  it("refuses the delete of a worker that is not the highest index", () => {
    const changes = [...existing(4)];
    changes[1] = change(vm(1), ["delete"], { action_reason: "delete_because_count_index" });
    const verdict = guardPlan(plan(changes), rules, { from: 4, to: 3 });
    expect(verdict.verdict).toBe("refuse");
    expect(verdict.offending.map((o) => [o.address, o.reason])).toEqual([
      [vm(1), "this worker VM would be destroyed, but 4 → 3 may destroy only the highest index 3"],
      [vm(3), "this VM would still exist after the plan, but 4 → 3 keeps only indexes 0..2"],
    ]);
  });

  it("refuses a worker deleted because its resource block was removed", () => {
    const changes = [
      ...existing(3),
      change(vm(3), ["delete"], { action_reason: "delete_because_no_resource_config" }),
    ];
    const verdict = guardPlan(plan(changes), rules, { from: 4, to: 3 });
    expect(verdict.offending[0]?.reason).toBe(
      "this worker VM would be destroyed because its resource block is gone from the configuration, not because the pool shrank",
    );
  });

  it("names VMs from the naming template when the plan does not show the name", () => {
    const create = change(vm(3), ["create"]);
    create.change.after = { name: "talos-worker-4" };
    create.change.after_unknown = { name: true };
    const verdict = guardPlan(plan([...existing(3), create]), rules, { from: 3, to: 4 });
    expect(verdict.creates).toEqual([{ address: vm(3), name: "talos-worker-4" }]);

    const destroy = change(vm(3), ["delete"]);
    destroy.change.before = { vm_id: 8203 };
    const down = guardPlan(
      plan([...existing(3), destroy]),
      { ...rules, nodeTemplate: "{name}.home.arpa" },
      {
        from: 4,
        to: 3,
      },
    );
    expect(down.destroys).toEqual([
      { address: vm(3), name: "talos-worker-4", node: "talos-worker-4.home.arpa" },
    ]);
  });

  it("refuses to destroy a VM whose Kubernetes node cannot be told", () => {
    const destroy = change(vm(3), ["delete"]);
    destroy.change.before = { vm_id: 8203 };
    const { nameTemplate: _, ...withoutTemplate } = rules;
    const verdict = guardPlan(plan([...existing(3), destroy]), withoutTemplate, { from: 4, to: 3 });
    expect(verdict.verdict).toBe("refuse");
    expect(verdict.destroys).toEqual([]);
    expect(verdict.offending[0]?.reason).toContain("its Kubernetes node cannot be told");
  });

  it("refuses deposed objects, imports, moves and forgets, even of workers", () => {
    const cases: [ChangeJson, string][] = [
      [change(vm(0), ["delete"], { deposed: "a1b2c3d4" }), "a deposed object (a1b2c3d4)"],
      [
        {
          ...change(vm(1), ["no-op"]),
          change: {
            ...change(vm(1), ["no-op"]).change,
            importing: { id: "pve/8201" },
          } as ChangeJson["change"],
        },
        "would be imported",
      ],
      [
        change(vm(2), ["no-op"], { previous_address: "proxmox_virtual_environment_vm.worker[2]" }),
        "moved from",
      ],
      [
        change("terraform_data.network", ["forget"]),
        "removed from the state without being destroyed",
      ],
    ];
    for (const [entry, reason] of cases) {
      const verdict = guardPlan(plan([...existing(3), entry]), rules, { from: 3, to: 3 });
      expect(verdict.verdict).toBe("refuse");
      expect(verdict.offending.map((o) => o.reason).join("\n")).toContain(reason);
    }
  });

  it("refuses action lists it does not know", () => {
    const verdict = guardPlan(plan([...existing(3), change(vm(0), ["update", "delete"])]), rules, {
      from: 3,
      to: 3,
    });
    expect(verdict.offending[0]?.reason).toContain(
      "has actions Terraform's plan format does not define: update, delete",
    );
  });

  it("allows companions only with the VMs' new indexes", () => {
    const changes = [
      ...existing(3),
      change(vm(3), ["create"]),
      change(apply(3), ["create"]),
      change(apply(1), ["create"]),
    ];
    const verdict = guardPlan(plan(changes), rules, { from: 3, to: 4 });
    expect(verdict.alsoAllowed).toEqual([{ address: apply(3), actions: ["create"] }]);
    expect(verdict.offending).toEqual([
      {
        address: apply(1),
        actions: ["create"],
        reason:
          "this companion of a worker VM would be created with index 1, but 3 → 4 adds only index 3",
      },
    ]);
  });

  it("lets data source reads through", () => {
    const read = change("data.talos_client_configuration.this", ["read"]);
    const verdict = guardPlan(plan([...existing(3), read]), rules, { from: 3, to: 3 });
    expect(verdict.verdict).toBe("pass");
  });

  it("warns when no resource matches the pool's VM pattern", () => {
    const verdict = guardPlan(
      plan([change("terraform_data.network", ["no-op"])]),
      rules,
      undefined,
    );
    expect(verdict.verdict).toBe("pass");
    expect(verdict.warnings).toEqual([
      "no resource in the plan matches module.workers.proxmox_virtual_environment_vm.worker[*]: check the pool's vmAddress",
    ]);
  });

  it("warns once when the plan names a VM otherwise than the nameTemplate would", () => {
    const padded = { ...rules, nameTemplate: "talos-worker-{index+1:02}" };
    const verdict = guardPlan(plan(existing(3)), padded, { from: 3, to: 3 });
    expect(verdict.verdict).toBe("pass");
    expect(verdict.warnings).toEqual([
      `nameTemplate "talos-worker-{index+1:02}" names ${vm(0)} talos-worker-01, but the plan names it talos-worker-1: correct the template (a zero-padded number is written {index+1:02}); a plan that shows no VM name would drain the template's node`,
    ]);
    expect(guardPlan(plan(existing(3)), rules, { from: 3, to: 3 }).warnings).toEqual([]);
  });

  it("drains the zero-padded node a padded template names when the plan shows no name", () => {
    const destroy = change(vm(8), ["delete"]);
    destroy.change.before = { vm_id: 8208 };
    const nine = [...existing(8), destroy];
    const padded = { ...rules, nameTemplate: "worker-{index+1:02}" };
    const down = guardPlan(plan(nine), padded, { from: 9, to: 8 });
    expect(down.destroys).toEqual([{ address: vm(8), name: "worker-09", node: "worker-09" }]);
  });

  it("refuses two VM patterns that give the same key", () => {
    const both = {
      ...rules,
      vmAddresses: [...rules.vmAddresses, "proxmox_virtual_environment_vm.worker[*]"],
    };
    const changes = [...existing(3), change("proxmox_virtual_environment_vm.worker[2]", ["no-op"])];
    const verdict = guardPlan(plan(changes), both, { from: 3, to: 3 });
    expect(verdict.offending[0]?.reason).toBe(
      `two VMs of the pool would have the key 2 (also ${vm(2)})`,
    );
  });

  it("reports drift of a deleted resource", () => {
    const drift = change("proxmox_virtual_environment_vm.control_plane[0]", ["delete"]);
    const verdict = guardPlan(plan(existing(3), { resource_drift: [drift] }), rules, {
      from: 3,
      to: 3,
    });
    expect(verdict.offending[0]?.reason).toMatch(
      /^was deleted outside Terraform; someone should look/,
    );
  });

  describe("for_each pools", () => {
    const keyed = {
      ...rules,
      vmAddresses: ["proxmox_virtual_environment_vm.worker[*]"],
      companionAddresses: [],
    };
    const named = (key: string) => `proxmox_virtual_environment_vm.worker["${key}"]`;
    const existingKeys = ["a", "b", "c"].map((k) => change(named(k), ["no-op"]));

    it("accepts new keys when the change does not name them, as long as the count is right", () => {
      const verdict = guardPlan(plan([...existingKeys, change(named("d"), ["create"])]), keyed, {
        from: 3,
        to: 4,
      });
      expect(verdict.verdict).toBe("pass");
      const tooMany = guardPlan(
        plan([...existingKeys, change(named("d"), ["create"]), change(named("e"), ["create"])]),
        keyed,
        { from: 3, to: 4 },
      );
      expect(tooMany.offending.map((o) => o.reason)).toEqual([
        "after this plan the pool would have 5 VMs, but the merged change expects 4",
      ]);
    });

    it("refuses new keys the change does not add", () => {
      const verdict = guardPlan(plan([...existingKeys, change(named("x"), ["create"])]), keyed, {
        from: 3,
        to: 4,
        addedKeys: ["d"],
        removedKeys: [],
      });
      expect(verdict.offending.map((o) => o.reason)).toEqual([
        'this worker VM would be created with key "x", but the merged change adds only "d"',
        'after this plan the plan does not create "d"',
      ]);
    });
  });
});

describe("guard rules", () => {
  it("need exactly one [*] per pattern", () => {
    const bad = { ...rules, vmAddresses: ["module.workers.proxmox_virtual_environment_vm.worker"] };
    expect(() => guardPlan(plan([]), bad, undefined)).toThrow(
      'vmAddress: "module.workers.proxmox_virtual_environment_vm.worker" needs exactly one [*]',
    );
    const two = {
      ...rules,
      companionAddresses: ["module.w[*].talos_machine_configuration_apply.worker[*]"],
    };
    expect(() => guardPlan(plan([]), two, undefined)).toThrow(InputError);
  });

  it("need templates with known placeholders", () => {
    expect(() =>
      guardPlan(plan([]), { ...rules, nameTemplate: "worker-{idx}" }, undefined),
    ).toThrow(
      'nameTemplate: "worker-{idx}": unknown placeholder {idx} (known: {index}, {index+N}, {index-N}, {index+N:0W}, {key})',
    );
    expect(() =>
      guardPlan(plan([]), { ...rules, nameTemplate: "worker-{name}" }, undefined),
    ).toThrow("unknown placeholder {name}");
  });
});

describe("parseTerraformPlan", () => {
  function parseError(text: string): InputError {
    try {
      parseTerraformPlan(text, "plan.json");
    } catch (error) {
      if (error instanceof InputError) return error;
      throw error;
    }
    throw new Error("expected an InputError");
  }

  it("locates JSON syntax errors by line and column", () => {
    const error = parseError('{\n  "format_version": "1.2",\n  "resource_changes": [,]\n}');
    expect(error.message).toMatch(/^not valid JSON/);
    expect(error.location).toMatchObject({ file: "plan.json", line: 3 });
    expect(error.exitCode).toBe(2);
  });

  it("says when it was given the human-readable plan", () => {
    const error = parseError("Terraform will perform the following actions:\n");
    expect(error.message).toContain("not the human-readable plan");
  });

  it("rejects JSON that is not a plan", () => {
    expect(parseError("[]").message).toContain("expected the JSON object");
    expect(parseError("{}").message).toContain("there is no format_version");
    expect(parseError('{"format_version": "1.0"}').message).toContain("this is not a plan");
    // Terraform 1.0 still wrote 0.2 (terraform_version 1.0.3 with format_version 0.2): the 1.x
    // format begins with Terraform 1.1, and the message must not promise 1.0.
    const old = parseError(
      '{"format_version": "0.2", "terraform_version": "1.0.3", "planned_values": {}}',
    ).message;
    expect(old).toBe(
      'format_version "0.2" is not supported: the guard reads the 1.x plan format, which Terraform writes from 1.1 on; this plan was made with Terraform 1.0.3: plan with Terraform 1.1 or later',
    );
    expect(
      parseError('{"format_version": "1.2", "planned_values": {}, "errored": true}').message,
    ).toContain("the plan is marked errored");
  });

  it("names the field in the wrong shape", () => {
    const text = JSON.stringify({
      format_version: "1.2",
      planned_values: {},
      resource_changes: [{ address: "terraform_data.x", change: { actions: "create" } }],
    });
    expect(parseError(text).message).toContain("resource_changes[0].change.actions");
    const badAddress = JSON.stringify({
      format_version: "1.2",
      planned_values: {},
      resource_changes: [{ address: "terraform_data", change: { actions: ["create"] } }],
    });
    expect(parseError(badAddress).message).toContain("resource_changes[0].address");
  });

  it("reads a plan without resource_changes as one with no changes", () => {
    const parsed = parseTerraformPlan('{"format_version":"1.2","planned_values":{}}', "plan.json");
    expect(parsed).toMatchObject({
      complete: true,
      changes: [],
      drift: [],
      relevantAttributes: [],
    });
  });
});
