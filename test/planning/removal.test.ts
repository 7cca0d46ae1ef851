import { describe, expect, it } from "@jest/globals";
import { nodesToRemove, nodeToRemove } from "../../src/planning/removal.ts";

const byDefault = { indexBase: 0 };

describe("nodeToRemove", () => {
  it("picks the highest numeric suffix by default, as Terraform count destroys the highest index", () => {
    const names = ["talos-worker-0", "talos-worker-10", "talos-worker-2", "talos-cp-0x"];
    expect(nodeToRemove(names, 3, byDefault)).toEqual({ node: "talos-worker-10" });
  });

  it("refuses when no name ends in a number", () => {
    expect(nodeToRemove(["alpha", "beta"], 2, byDefault)).toEqual({
      problem: "no node name ends in a number; set removal.nameTemplate",
    });
  });

  it("refuses when two names share the highest number", () => {
    const pick = nodeToRemove(["a-3", "b-3", "a-1"], 3, byDefault);
    expect(pick).toEqual({
      problem: "a-3 and b-3 share the highest number; set removal.nameTemplate",
    });
  });

  it("names the node at count index current - 1 with a template", () => {
    const names = ["talos-worker-0", "talos-worker-1", "talos-worker-2"];
    expect(nodeToRemove(names, 3, { nameTemplate: "talos-worker-{index}", indexBase: 0 })).toEqual({
      node: "talos-worker-2",
    });
    const oneBased = ["k3s-worker-1", "k3s-worker-2"];
    expect(nodeToRemove(oneBased, 2, { nameTemplate: "k3s-worker-{index}", indexBase: 1 })).toEqual(
      {
        node: "k3s-worker-2",
      },
    );
  });

  it('finds a templated name written with leading zeros, as format("%02d") writes it', () => {
    const padded = Array.from({ length: 9 }, (_, i) => `talos-worker-0${i + 1}`);
    const template = { nameTemplate: "talos-worker-{index}", indexBase: 1 };
    expect(nodeToRemove(padded, 9, template)).toEqual({ node: "talos-worker-09" });
    expect(nodeToRemove([...padded, "talos-worker-10"], 10, template)).toEqual({
      node: "talos-worker-10",
    });
    // Characters the template holds are literal, not a pattern.
    expect(
      nodeToRemove(["w.x-1", "wax-2"], 2, { nameTemplate: "w.x-{index}", indexBase: 1 }),
    ).toEqual({ problem: "node w.x-2 (count index 1) is not among the pool's nodes" });
  });

  it("refuses when two names stand for the same count index", () => {
    expect(
      nodeToRemove(["w-1", "w-2", "w-02"], 2, { nameTemplate: "w-{index}", indexBase: 1 }),
    ).toEqual({
      problem: "w-2 and w-02 both match w-{index} at count index 1; keep one naming",
    });
  });

  it("refuses when the templated node is not in the pool", () => {
    expect(nodeToRemove(["w-0", "w-1"], 3, { nameTemplate: "w-{index}", indexBase: 0 })).toEqual({
      problem: "node w-2 (count index 2) is not among the pool's nodes",
    });
  });
});

describe("nodesToRemove", () => {
  it("lists the nodes successive decreases remove, highest suffix first", () => {
    const names = ["w-1", "w-10", "w-2", "w-3"];
    expect(nodesToRemove(names, 4, byDefault, 3)).toEqual([
      { node: "w-10" },
      { node: "w-3" },
      { node: "w-2" },
    ]);
  });

  it("follows the template down the count indexes", () => {
    const template = { nameTemplate: "w-{index}", indexBase: 1 };
    expect(nodesToRemove(["w-1", "w-2", "w-3"], 3, template, 2)).toEqual([
      { node: "w-3" },
      { node: "w-2" },
    ]);
  });

  it("ends with the problem of the first decrease it cannot tell", () => {
    expect(nodesToRemove(["a-3", "a-2", "b-2", "a-1"], 4, byDefault, 4)).toEqual([
      { node: "a-3" },
      { problem: "a-2 and b-2 share the highest number; set removal.nameTemplate" },
    ]);
    const template = { nameTemplate: "w-{index}", indexBase: 0 };
    expect(nodesToRemove(["w-0", "w-2"], 3, template, 3)).toEqual([
      { node: "w-2" },
      { problem: "node w-1 (count index 1) is not among the pool's nodes" },
    ]);
  });

  it("never goes below a count of zero", () => {
    expect(nodesToRemove(["w-1"], 1, byDefault, 5)).toEqual([{ node: "w-1" }]);
  });
});
