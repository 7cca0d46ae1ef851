import { describe, expect, it } from "@jest/globals";
import {
  allGuardPools,
  loadGuardConfig,
  parseGuardConfig,
  selectGuardPool,
} from "../../src/apply/guard-config.ts";
import { InputError } from "../../src/errors.ts";

const valid = `drift: warn
pools:
  workers:
    vmAddress: "module.workers.proxmox_virtual_environment_vm.worker[*]"
    companions:
      - "module.workers.talos_machine_configuration_apply.worker[*]"
    nameTemplate: "talos-worker-{index+1}"
    countVariable: worker_count
  gpu:
    vmAddress:
      - "proxmox_virtual_environment_vm.gpu[*]"
    allowedUpdateAttributes: [tags]
`;

function configError(text: string): InputError {
  try {
    parseGuardConfig(text, "guard.yml");
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error("expected an InputError");
}

describe("guard config", () => {
  it("turns a pool into guard rules", () => {
    const config = parseGuardConfig(valid, "guard.yml");
    expect(selectGuardPool(config, "workers")).toEqual({
      name: "workers",
      countVariable: "worker_count",
      rules: {
        vmAddresses: ["module.workers.proxmox_virtual_environment_vm.worker[*]"],
        companionAddresses: ["module.workers.talos_machine_configuration_apply.worker[*]"],
        nameTemplate: "talos-worker-{index+1}",
        allowedUpdateAttributes: [],
        drift: "warn",
      },
    });
    expect(selectGuardPool(config, "gpu").rules).toEqual({
      vmAddresses: ["proxmox_virtual_environment_vm.gpu[*]"],
      companionAddresses: [],
      allowedUpdateAttributes: ["tags"],
      drift: "warn",
    });
  });

  it("reads JSON too and defaults drift to refuse", () => {
    const config = parseGuardConfig(
      '{"pools": {"w": {"vmAddress": "terraform_data.worker[*]"}}}',
      "guard.json",
    );
    expect(selectGuardPool(config, undefined).rules.drift).toBe("refuse");
  });

  it("needs --pool when there are several and knows the names", () => {
    const config = parseGuardConfig(valid, "guard.yml");
    expect(() => selectGuardPool(config, undefined)).toThrow(
      "the config has several pools (workers, gpu): choose one with --pool",
    );
    expect(() => selectGuardPool(config, "arm")).toThrow(
      'no pool "arm" in the config (pools: workers, gpu)',
    );
  });

  it("locates unknown fields and bad values by line", () => {
    const typo = configError(valid.replace("nameTemplate", "nameTemplat"));
    expect(typo.message).toContain("pools.workers");
    expect(typo.message).toContain("nameTemplat");
    expect(typo.location).toMatchObject({ file: "guard.yml", line: 4 });

    const drift = configError(valid.replace("drift: warn", "drift: ignore"));
    expect(drift.message).toMatch(/^drift: /);
    expect(drift.location).toMatchObject({ line: 1 });

    expect(configError("pools: {}\n").message).toContain("name at least one pool");
  });

  it("says which key a pool misses and what to write there, at the pool's line", () => {
    const missing = configError(
      "drift: warn\npools:\n  workers:\n    countVariable: worker_count\n",
    );
    expect(missing.message).toBe(
      'pools.workers: missing required key "vmAddress": write the Terraform address pattern of the pool\'s VMs, e.g. vmAddress: "proxmox_virtual_environment_vm.worker[*]"',
    );
    expect(missing.location).toMatchObject({ file: "guard.yml", line: 4 });

    const wrongType = configError("pools:\n  workers: {vmAddress: 3}\n");
    expect(wrongType.message).toBe(
      "pools.workers.vmAddress: expected an address pattern or a list of them",
    );
  });

  it("checks patterns and templates when loading", () => {
    const noWildcard = configError(
      valid.replace('worker[*]"\n    companions', 'worker"\n    companions'),
    );
    expect(noWildcard.message).toContain("pools.workers.vmAddress");
    expect(noWildcard.message).toContain("needs exactly one [*]");
    expect(noWildcard.location).toMatchObject({ line: 4 });

    const unparsable = configError(
      valid.replace("talos_machine_configuration_apply.worker[*]", "talos..worker[*]"),
    );
    expect(unparsable.message).toBe(
      'pools.workers.companions: address "module.workers.talos..worker[*]": expected a name at character 22',
    );
    expect(unparsable.location).toMatchObject({ line: 6 });

    const template = configError(valid.replace("{index+1}", "{n}"));
    expect(template.message).toContain("unknown placeholder {n}");
    expect(template.location).toMatchObject({ line: 7 });
  });

  it("explains unquoted patterns in YAML flow lists", () => {
    const error = configError(
      "pools:\n  w:\n    vmAddress: a.b[*]\n    companions: [talos_machine_configuration_apply.worker[*]]\n",
    );
    expect(error.message).toMatch(/^not valid YAML: .*quote address patterns/);
    expect(error.location).toMatchObject({ file: "guard.yml", line: 4 });
  });

  it("gives every pool in the config's order, for guarding them all at once", () => {
    const pools = allGuardPools(parseGuardConfig(valid, "guard.yml"));
    expect(pools.map((pool) => [pool.name, pool.countVariable])).toEqual([
      ["workers", "worker_count"],
      ["gpu", undefined],
    ]);
    expect(pools[1]?.rules.allowedUpdateAttributes).toEqual(["tags"]);
  });

  it("still knows where each value is written once loaded", () => {
    const loaded = loadGuardConfig(valid, "guard.yml");
    expect(loaded.locate(["pools", "workers", "nameTemplate"])).toEqual({
      file: "guard.yml",
      line: 7,
      column: 19,
    });
    // A field the pool lacks is located at the pool's block.
    expect(loaded.locate(["pools", "gpu", "countVariable"])).toMatchObject({ line: 10 });
  });
});
