import { describe, expect, it } from "@jest/globals";
import { expectedChangeFromTfvars } from "../../src/apply/guard-expected.ts";
import { InputError } from "../../src/errors.ts";

const base = (text: string) => ({ text, file: "base/terraform.tfvars" });
const head = (text: string) => ({ text, file: "head/terraform.tfvars" });

function expectedError(a: string, b: string, variable: string): InputError {
  try {
    expectedChangeFromTfvars(base(a), head(b), variable);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error("expected an InputError");
}

describe("expectedChangeFromTfvars", () => {
  it("reads a plain count attribute", () => {
    const text = "# Workers\nworker_count   = 3 # scaled by pr-autoscaler\nworker_cores   = 4\n";
    expect(
      expectedChangeFromTfvars(base(text), head(text.replace("= 3", "= 5")), "worker_count"),
    ).toEqual({ from: 3, to: 5 });
  });

  it("follows a dotted path into nested values", () => {
    const text = (n: number) =>
      `pools = {\n  workers = { count = ${n}, cores = 4 }\n  "gpu.large" = { count = 1 }\n}\n`;
    expect(expectedChangeFromTfvars(base(text(2)), head(text(1)), "pools.workers.count")).toEqual({
      from: 2,
      to: 1,
    });
    expect(
      expectedChangeFromTfvars(base(text(2)), head(text(1)), 'pools["gpu.large"].count'),
    ).toEqual({ from: 1, to: 1 });
  });

  it("reads the keys of a for_each map or list of names", () => {
    const map = (names: string[]) =>
      `workers = {\n${names.map((n) => `  "${n}" = { cores = 4 }`).join("\n")}\n}\n`;
    expect(
      expectedChangeFromTfvars(
        base(map(["w1", "w2", "w3"])),
        head(map(["w1", "w3", "w4"])),
        "workers",
      ),
    ).toEqual({ from: 3, to: 3, addedKeys: ["w4"], removedKeys: ["w2"] });
    expect(
      expectedChangeFromTfvars(base('nodes = ["a", "b"]\n'), head('nodes = ["a"]\n'), "nodes"),
    ).toEqual({ from: 2, to: 1, addedKeys: [], removedKeys: ["b"] });
  });

  it("accepts a quoted whole number as Terraform converts it", () => {
    expect(
      expectedChangeFromTfvars(
        base('worker_count = "3"\n'),
        head("worker_count = 4\n"),
        "worker_count",
      ),
    ).toEqual({ from: 3, to: 4 });
  });

  it("refuses to guess when a side lacks the value", () => {
    const error = expectedError("worker_cores = 4\n", "worker_count = 4\n", "worker_count");
    expect(error.message).toContain("worker_count is not set here, so the worker count is unknown");
    expect(error.location).toEqual({ file: "base/terraform.tfvars" });
  });

  it("rejects values that are no count, with file and line", () => {
    const error = expectedError(
      "a = 1\nworker_count = 3.5\n",
      "worker_count = 4\n",
      "worker_count",
    );
    expect(error.message).toBe(
      "worker_count is 3.5: expected a whole number (count), a list of names or a map (for_each)",
    );
    expect(error.location).toEqual({ file: "base/terraform.tfvars", line: 2 });
    const mixed = expectedError("w = 3\n", 'w = ["a"]\n', "w");
    expect(mixed.message).toBe(
      "w is a count before and a set of keys after: the guard cannot compare them",
    );
  });

  it("reads terraform.tfvars.json, also under a name that does not say JSON", () => {
    const json = (workers: number, names: string[]) =>
      `${JSON.stringify({ worker_count: workers, gpus: names }, null, 2)}\n`;
    // The workflow writes the earlier version to a file of its own, named tfvars-before.
    const before = { text: json(3, ["a", "b"]), file: "tfvars-before" };
    const after = { text: json(4, ["a"]), file: "terraform/terraform.tfvars.json" };
    expect(expectedChangeFromTfvars(before, after, "worker_count")).toEqual({ from: 3, to: 4 });
    expect(expectedChangeFromTfvars(before, after, "gpus")).toEqual({
      from: 2,
      to: 1,
      addedKeys: [],
      removedKeys: ["b"],
    });
    const wrong = { text: '{\n  "worker_count": 2.5\n}\n', file: "t.tfvars.json" };
    expect(() => expectedChangeFromTfvars(before, wrong, "worker_count")).toThrow(
      expect.objectContaining({
        message:
          "worker_count is 2.5: expected a whole number (count), a list of names or a map (for_each)",
        location: { file: "t.tfvars.json", line: 2 },
      }),
    );
    const broken = { text: '{"worker_count": 3,}\n', file: "t.tfvars.json" };
    expect(() => expectedChangeFromTfvars(broken, after, "worker_count")).toThrow(
      /^not valid JSON: the tfvars file does not parse/,
    );
    const list = { text: "[1, 2]\n", file: "t.tfvars.json" };
    expect(() => expectedChangeFromTfvars(list, after, "worker_count")).toThrow(
      "a JSON tfvars file holds one object of variable values",
    );
  });

  it("rejects text that is not HCL", () => {
    const error = expectedError("worker_count = \n", "worker_count = 4\n", "worker_count");
    expect(error.message).toContain("not valid HCL");
    expect(error.location).toEqual({ file: "base/terraform.tfvars" });
  });
});
