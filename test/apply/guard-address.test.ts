import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  formatResourceAddress,
  instantiatePattern,
  matchAddress,
  parseAddressPattern,
  parseResourceAddress,
  type ResourceAddress,
  wildcardCount,
} from "../../src/apply/terraform-address.ts";

describe("parseResourceAddress", () => {
  it("reads module paths with count and for_each keys", () => {
    expect(
      parseResourceAddress(
        'module.cluster["home"].module.workers[2].proxmox_virtual_environment_vm.worker[3]',
      ),
    ).toEqual({
      modules: [
        { name: "cluster", key: "home" },
        { name: "workers", key: 2 },
      ],
      mode: "managed",
      type: "proxmox_virtual_environment_vm",
      name: "worker",
      key: 3,
    });
  });

  it("reads data sources and resources without a key", () => {
    expect(parseResourceAddress("data.talos_machine_configuration.worker")).toEqual({
      modules: [],
      mode: "data",
      type: "talos_machine_configuration",
      name: "worker",
    });
    expect(parseResourceAddress("module.data.terraform_data.data")).toMatchObject({
      modules: [{ name: "data" }],
      mode: "managed",
      type: "terraform_data",
      name: "data",
    });
  });

  it("unquotes for_each keys as Terraform quotes them", () => {
    expect(parseResourceAddress('terraform_data.byname["c\\"d"]').key).toBe('c"d');
    expect(parseResourceAddress('terraform_data.byname["a.b[0]"]').key).toBe("a.b[0]");
    expect(parseResourceAddress('terraform_data.x["$${x}\\n\\u00e9"]').key).toBe(`\${x}\né`);
  });

  it("tells integer indexes from numeric string keys", () => {
    expect(parseResourceAddress("terraform_data.x[3]").key).toBe(3);
    expect(parseResourceAddress('terraform_data.x["3"]').key).toBe("3");
  });

  it("rejects what is not a resource instance address", () => {
    expect(() => parseResourceAddress("module.workers")).toThrow(
      "expected [module.NAME[KEY].]...[data.]TYPE.NAME[KEY]",
    );
    expect(() => parseResourceAddress("terraform_data.x[*]")).toThrow(
      "'[*]' is only allowed in patterns",
    );
    expect(() => parseResourceAddress('terraform_data.x["open]')).toThrow("never closed");
    expect(() => parseResourceAddress("terraform_data.x[one]")).toThrow(
      'expected [N], ["key"] or [*]',
    );
    expect(() => parseResourceAddress("terraform_data[0].x")).toThrow(
      "a resource type takes no key",
    );
    expect(() => parseResourceAddress("a..b")).toThrow("expected a name at character 3");
  });

  it("escapes a literal ${ in a key as HCL does, even next to another $", () => {
    const address = parseResourceAddress('module.a["$$${"]._.a');
    expect(address.modules).toEqual([{ name: "a", key: "$${" }]);
    expect(formatResourceAddress(address)).toBe('module.a["$$${"]._.a');
  });

  it("renders what it parses back to the same text (property)", () => {
    const identifier = fc
      .stringMatching(/^[a-z_][a-z0-9_-]{0,8}$/)
      .filter((s) => s !== "module" && s !== "data");
    const key = fc.option(fc.oneof(fc.nat(50), fc.string({ maxLength: 8 })), { nil: undefined });
    const address = fc.record({
      modules: fc.array(fc.record({ name: identifier, key }), { maxLength: 3 }),
      mode: fc.constantFrom("managed" as const, "data" as const),
      type: identifier,
      name: identifier,
      key,
    });
    fc.assert(
      fc.property(address, (generated) => {
        const clean = withoutUndefined(generated);
        const text = formatResourceAddress(clean);
        expect(parseResourceAddress(text)).toEqual(clean);
      }),
    );
  });
});

describe("address patterns", () => {
  const pattern = parseAddressPattern("module.workers.proxmox_virtual_environment_vm.worker[*]");

  it("match any key in the [*] position and return it", () => {
    const address = parseResourceAddress("module.workers.proxmox_virtual_environment_vm.worker[7]");
    expect(matchAddress(pattern, address)).toEqual([7]);
    const keyed = parseResourceAddress(
      'module.workers.proxmox_virtual_environment_vm.worker["w-1"]',
    );
    expect(matchAddress(pattern, keyed)).toEqual(["w-1"]);
  });

  it("match everything else exactly", () => {
    for (const text of [
      "proxmox_virtual_environment_vm.worker[1]",
      "module.workers.proxmox_virtual_environment_vm.control_plane[1]",
      "module.workers.proxmox_virtual_environment_vm.worker",
      'module.workers["a"].proxmox_virtual_environment_vm.worker[1]',
      "module.other.proxmox_virtual_environment_vm.worker[1]",
      "module.workers.data.proxmox_virtual_environment_vm.worker[1]",
    ]) {
      expect(matchAddress(pattern, parseResourceAddress(text))).toBeUndefined();
    }
  });

  it("may put the wildcard on a module and fix the other keys", () => {
    const perModule = parseAddressPattern('module.worker[*].module.vm["main"].terraform_data.this');
    expect(wildcardCount(perModule)).toBe(1);
    const address = parseResourceAddress('module.worker[4].module.vm["main"].terraform_data.this');
    expect(matchAddress(perModule, address)).toEqual([4]);
    const other = parseResourceAddress('module.worker[4].module.vm["spare"].terraform_data.this');
    expect(matchAddress(perModule, other)).toBeUndefined();
    expect(instantiatePattern(perModule, 2)).toBe(
      'module.worker[2].module.vm["main"].terraform_data.this',
    );
  });

  it("name a missing instance by filling the wildcard", () => {
    expect(instantiatePattern(pattern, 3)).toBe(
      "module.workers.proxmox_virtual_environment_vm.worker[3]",
    );
    expect(instantiatePattern(pattern, 'a"b')).toBe(
      'module.workers.proxmox_virtual_environment_vm.worker["a\\"b"]',
    );
  });
});

function withoutUndefined(address: {
  modules: { name: string; key: number | string | undefined }[];
  mode: "managed" | "data";
  type: string;
  name: string;
  key: number | string | undefined;
}): ResourceAddress {
  const keyOf = (key: number | string | undefined) => (key === undefined ? {} : { key });
  return {
    modules: address.modules.map((m) => ({ name: m.name, ...keyOf(m.key) })),
    mode: address.mode,
    type: address.type,
    name: address.name,
    ...keyOf(address.key),
  };
}
