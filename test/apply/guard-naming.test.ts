/**
 * The guard's naming templates: count index placeholders with an offset and a zero-padded width,
 * and the node the templates give without a plan.
 */
import { describe, expect, it } from "@jest/globals";
import type { GuardRules } from "../../src/apply/guard.ts";
import {
  checkNamingTemplate,
  renderNamingTemplate,
  templateNodeName,
} from "../../src/apply/guard-naming.ts";

const rules = (nameTemplate?: string, nodeTemplate?: string): GuardRules => ({
  vmAddresses: ["terraform_data.worker[*]"],
  companionAddresses: [],
  allowedUpdateAttributes: [],
  drift: "refuse",
  ...(nameTemplate === undefined ? {} : { nameTemplate }),
  ...(nodeTemplate === undefined ? {} : { nodeTemplate }),
});

describe("naming templates", () => {
  it('write the index with leading zeros up to the width, as format("%02d") does', () => {
    const names = [0, 8, 9, 99, 100].map((key) =>
      renderNamingTemplate("worker-{index+1:02}", { key }),
    );
    expect(names).toEqual(["worker-01", "worker-09", "worker-10", "worker-100", "worker-101"]);
    expect(renderNamingTemplate("worker-{index:03}", { key: 7 })).toBe("worker-007");
    expect(renderNamingTemplate("worker-{ index - 1 : 02 }", { key: 5 })).toBe("worker-04");
  });

  it("without a width write the number as it is", () => {
    expect(renderNamingTemplate("worker-{index+1}", { key: 8 })).toBe("worker-9");
  });

  it("cannot fill an index placeholder from a for_each key", () => {
    expect(renderNamingTemplate("worker-{index+1:02}", { key: "a" })).toBeUndefined();
  });

  it("accept the width forms and say how to write a width otherwise", () => {
    expect(checkNamingTemplate("worker-{index+1:02}", false)).toBeUndefined();
    expect(checkNamingTemplate("worker-{index:03}", false)).toBeUndefined();
    expect(checkNamingTemplate("worker-{index+1:2}", false)).toBe(
      "placeholder {index+1:2}: write a width as :0W, zero and digit count, e.g. {index+1:02}",
    );
    expect(checkNamingTemplate("worker-{index+1:%02d}", false)).toContain("write a width as :0W");
    expect(checkNamingTemplate("worker-{key:02}", false)).toContain("unknown placeholder {key:02}");
  });
});

describe("the node the templates give for a count index", () => {
  it("is the nodeTemplate over the nameTemplate's VM name", () => {
    expect(templateNodeName(rules("worker-{index+1:02}"), 8)).toBe("worker-09");
    expect(templateNodeName(rules("worker-{index+1}", "{name}.home.arpa"), 2)).toBe(
      "worker-3.home.arpa",
    );
    expect(templateNodeName(rules(undefined, "node-{index}"), 2)).toBe("node-2");
  });

  it("is unknown when only the plan can name the VM", () => {
    expect(templateNodeName(rules(), 0)).toBeUndefined();
    expect(templateNodeName(rules(undefined, "{name}.home.arpa"), 0)).toBeUndefined();
  });
});
