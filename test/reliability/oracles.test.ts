/**
 * The reliability run's judges, on inputs whose verdict is known: they must tell a broken edit,
 * a made-up amount, an unsafe guard pass and an error without a place from the real thing.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import { judgeError } from "../../bench/reliability-case.ts";
import { judgeTfvarsEdit, judgeYamlEdit } from "../../bench/reliability-editors.ts";
import { unsafePass } from "../../bench/reliability-guard.ts";
import { convertedProblems } from "../../bench/reliability-kube-oracle.ts";
import { invariantViolations, judgeQuantity } from "../../bench/reliability-values.ts";
import { InputError } from "../../src/errors.ts";

describe("judgeQuantity", () => {
  it("reads quantities by the Kubernetes grammar", () => {
    expect(judgeQuantity("250m", "cpu")).toBe("valid");
    expect(judgeQuantity("1.5Gi", "memory")).toBe("valid");
    expect(judgeQuantity("129e6", "memory")).toBe("valid");
    expect(judgeQuantity(4, "cpu")).toBe("valid");
    expect(judgeQuantity("-0", "cpu")).toBe("valid");
    expect(judgeQuantity("-1", "cpu")).toBe("negative");
    expect(judgeQuantity(-5, "memory")).toBe("negative");
    expect(judgeQuantity("1e999", "memory")).toBe("too-large");
    expect(judgeQuantity("1e14", "cpu")).toBe("too-large");
    for (const garbage of ["", "abc", "1Qi", "0x10", " 1", "1 Gi", "NaN", "Infinity", "1e"]) {
      expect([garbage, judgeQuantity(garbage, "memory")]).toEqual([garbage, "garbage"]);
    }
    expect(judgeQuantity(true, "cpu")).toBe("garbage");
    expect(judgeQuantity(null, "cpu")).toBe("garbage");
  });
});

describe("invariantViolations", () => {
  it("flags non-finite numbers, negative or fractional amounts and counts, bad windows", () => {
    expect(invariantViolations({ capacity: { cpu: 4000, memory: 1024 } })).toEqual([]);
    expect(invariantViolations({ priority: -10 })).toEqual([]);
    expect(invariantViolations({ capacity: { cpu: -1 } })).toHaveLength(1);
    expect(invariantViolations({ requests: { memory: 0.5 } })).toHaveLength(1);
    expect(invariantViolations({ extended: { "nvidia.com/gpu": -1 } })).toHaveLength(1);
    expect(invariantViolations({ disruptionsAllowed: 1.5 })).toHaveLength(1);
    expect(invariantViolations({ usage: { windowSeconds: -1 } })).toHaveLength(1);
    expect(invariantViolations({ peak: { percentile: 0 } })).toHaveLength(1);
    expect(invariantViolations([{ deep: { x: Number.NaN } }])).toEqual(["[0].deep.x is NaN"]);
    expect(invariantViolations(new Map([["n", { cpu: -3 }]]))).toHaveLength(1);
  });
});

describe("judgeError", () => {
  it("takes an InputError that names the file as clear, and nothing else", () => {
    expect(judgeError(new InputError("bad", { file: "a.yaml", line: 1 }), "a.yaml").kind).toBe(
      "clear-error",
    );
    expect(judgeError(new InputError("a.yaml is bad"), "a.yaml").kind).toBe("clear-error");
    expect(judgeError(new InputError("bad"), "a.yaml").kind).toBe("crash");
    expect(judgeError(new TypeError("x is undefined"), "a.yaml")).toMatchObject({
      kind: "crash",
      detail: "unexpected TypeError: x is undefined",
    });
  });
});

describe("the edit judges", () => {
  it("pass an edit of the value alone", () => {
    expect(judgeTfvarsEdit("a = 1\nb = 2\n", "a = 5\nb = 2\n", "a", 5).kind).toBe("handled");
    expect(judgeYamlEdit("a: 1\nb: 2\n", "a: 5\nb: 2\n", "a", 5).kind).toBe("handled");
    expect(judgeYamlEdit("r: {}\n", "r:\n  cpu: 1\n", "r.cpu", 1).kind).toBe("handled");
  });

  it("catch an edit that changes more, or writes what does not parse or reads otherwise", () => {
    expect(judgeTfvarsEdit("a = 1\nb = 2\n", "a = 5\nb = 3\n", "a", 5).kind).toBe("broken-file");
    expect(judgeTfvarsEdit("a = 1\n", "a = 5 +\n", "a", 5).kind).toBe("broken-file");
    expect(judgeYamlEdit("a: 1\nb: 2\n", "a: 5\nb: 3\n", "a", 5).kind).toBe("broken-file");
    expect(judgeYamlEdit("a: 1\n", "a: [\n", "a", 5).kind).toBe("broken-file");
    // YAML 1.1 (Helm 2, older tools) reads an unquoted yes as true.
    expect(judgeYamlEdit("a: x\n", "a: yes\n", "a", "yes").kind).toBe("broken-file");
    expect(judgeYamlEdit("a: 1\n# note\nb: 2\n", "a: 5\nb: 2\n", "a", 5).kind).toBe("broken-file");
    expect(judgeYamlEdit("a: 1\n", "a: .nan\n", "a", Number.NaN).kind).toBe("crash");
  });
});

describe("convertedProblems", () => {
  const raw = { kind: "Node", metadata: { name: "n" }, status: { capacity: { cpu: "-1" } } };
  const warning = {
    code: "quantity-invalid",
    message: "status.capacity.cpu: …",
    subject: "node/n",
  };

  it("wants a bad quantity unknown and explained", () => {
    expect(convertedProblems("Node", raw, { capacity: {} }, [warning], "node/n")).toEqual([]);
  });

  it("flags a made-up amount, and an unknown one without a warning", () => {
    expect(
      convertedProblems("Node", raw, { capacity: { cpu: -1000 } }, [warning], "node/n"),
    ).toEqual([
      "Node.capacity.cpu is -1000, not a whole number ≥ 0",
      'status.capacity.cpu: "-1" (negative) became -1000',
    ]);
    expect(convertedProblems("Node", raw, { capacity: {} }, [], "node/n")).toEqual([
      'status.capacity.cpu: "-1" (negative) dropped without a warning',
    ]);
  });
});

describe("unsafePass", () => {
  const plan = JSON.parse(
    readFileSync(
      new URL("../fixtures/terraform/talos-proxmox-plans/scale-up-3-to-4.json", import.meta.url),
      "utf8",
    ),
  ) as { resource_changes: { address: string; change: { actions: string[] } }[] };

  it("finds nothing unsafe in the expected scale-up", () => {
    expect(unsafePass(plan, { from: 3, to: 4 })).toEqual([]);
  });

  it("finds a control-plane change, a wrong key and a plan that leaves the pool wrong", () => {
    const changed = structuredClone(plan);
    const controlPlane = changed.resource_changes.find(
      (c) => c.address === "proxmox_virtual_environment_vm.control_plane[0]",
    );
    (controlPlane as { change: { actions: string[] } }).change.actions = ["delete"];
    expect(unsafePass(changed, { from: 3, to: 4 })).toEqual([
      "proxmox_virtual_environment_vm.control_plane[0]: delete",
    ]);
    expect(unsafePass(plan, { from: 3, to: 5 })).toEqual([
      "after the plan the pool has VMs [0,1,2,3], not 0..4",
    ]);
    expect(unsafePass(plan, { from: 4, to: 5 })).toContain(
      "proxmox_virtual_environment_vm.worker[3]: create of a key not added",
    );
  });
});
