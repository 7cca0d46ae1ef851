import { describe, expect, it } from "@jest/globals";
import { compareNodeNames, nodesToRemove, nodeToRemove } from "../../src/planning/removal.ts";

const byDefault = { indexBase: 0 };

describe("nodeToRemove", () => {
  it("picks the highest numeric suffix by default, as Terraform count destroys the highest index", () => {
    const names = Array.from({ length: 11 }, (_, i) => `talos-worker-${i}`);
    expect(nodeToRemove(names, 11, byDefault)).toEqual({ node: "talos-worker-10" });
  });

  it("names no node by default while the pool's nodes are not as many as the count", () => {
    // Count 5 and nodes 1 to 4: the fifth VM never joined, and it is the one Terraform destroys.
    const names = ["talos-worker-1", "talos-worker-2", "talos-worker-3", "talos-worker-4"];
    expect(nodeToRemove(names, 5, byDefault)).toEqual({
      problem:
        "4 nodes for a count of 5: which node a decrease removes is known once they match (or set removal.nameTemplate)",
    });
  });

  it("names no node when the template places one outside the count (indexBase wrong)", () => {
    // VMs named count.index + 1, template read with the default indexBase 0: talos-worker-5 is
    // index 5 of a count of 5, so index 4 (talos-worker-4) is not the VM Terraform destroys.
    const names = Array.from({ length: 5 }, (_, i) => `talos-worker-${i + 1}`);
    expect(nodeToRemove(names, 5, { nameTemplate: "talos-worker-{index}", indexBase: 0 })).toEqual({
      problem:
        "talos-worker-5 is at count index 5 by talos-worker-{index} (indexBase 0), outside the count of 5: either it is still going, or removal.indexBase does not match the names",
    });
    expect(nodeToRemove(names, 5, { nameTemplate: "talos-worker-{index}", indexBase: 1 })).toEqual({
      node: "talos-worker-5",
    });
    // Index 0 read with indexBase 1 lies below the count's first index.
    const fromZero = ["w-0", "w-1"];
    expect(nodeToRemove(fromZero, 2, { nameTemplate: "w-{index}", indexBase: 1 })).toEqual({
      problem:
        "w-0 is at count index -1 by w-{index} (indexBase 1), outside the count of 2: either it is still going, or removal.indexBase does not match the names",
    });
  });

  it("refuses when no name ends in a number", () => {
    expect(nodeToRemove(["alpha", "beta"], 2, byDefault)).toEqual({
      problem: "no node name ends in a number; set removal.nameTemplate",
    });
  });

  it("names no node, and asks for no naming rule, at a count of 0", () => {
    const problem = { problem: "the count is 0" };
    expect(nodeToRemove([], 0, byDefault)).toEqual(problem);
    expect(nodeToRemove([], 0, { nameTemplate: "gpu-{index}", indexBase: 1 })).toEqual(problem);
  });

  it("refuses when two names share the highest number", () => {
    const pick = nodeToRemove(["w-3", "w-03", "w-1"], 3, byDefault);
    expect(pick).toEqual({
      problem: "w-3 and w-03 share the highest number; set removal.nameTemplate",
    });
  });

  it("refuses when a name does not end in a number, as Talos' generated hostnames may not", () => {
    // Talos names a node talos-<3 characters>-<3 characters> when nothing sets its hostname:
    // one ending in a digit is no count index, and neither the others' numbers nor its own
    // says which VM Terraform destroys.
    expect(nodeToRemove(["talos-7rd-ipn", "talos-2gd-0k3", "talos-q1z-r8m"], 3, byDefault)).toEqual(
      {
        problem:
          "talos-7rd-ipn does not end in a number as talos-2gd-0k3 does, so which node is at the highest count index is not known; set removal.nameTemplate",
      },
    );
  });

  it("refuses when the numbers are not as many in a row as there are nodes", () => {
    // Each of Talos' generated hostnames ends in a digit here, by chance: 3, 81 and 2.
    expect(nodeToRemove(["talos-2gd-0k3", "talos-q1z-r81", "talos-x9b-4n2"], 3, byDefault)).toEqual(
      {
        problem:
          "the numbers the node names end in (2, 3, 81) are not 3 in a row, as names made from the count index are, so the highest need not be the VM a decrease destroys; set removal.nameTemplate",
      },
    );
    // Names taken from a list rather than made from the index.
    expect(nodeToRemove(["w-1", "w-5", "w-3"], 3, byDefault)).toMatchObject({
      problem: expect.stringContaining("(1, 3, 5) are not 3 in a row"),
    });
  });

  it("takes the highest number whatever the text before it, as a name with the Proxmox host has", () => {
    // name = "talos-${var.hosts[count.index % 3]}-worker-${count.index + 1}"
    const names = [
      "talos-pve1-worker-1",
      "talos-pve2-worker-2",
      "talos-pve3-worker-3",
      "talos-pve1-worker-4",
    ];
    expect(nodeToRemove(names, 4, byDefault)).toEqual({ node: "talos-pve1-worker-4" });
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
    ).toEqual({
      problem:
        "node w.x-2 (count index 1) is not among the pool's nodes: either it has not joined yet or is gone, or removal.nameTemplate does not match the names",
    });
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
      problem:
        "node w-2 (count index 2) is not among the pool's nodes: either it has not joined yet or is gone, or removal.nameTemplate does not match the names",
    });
  });
});

describe("nodesToRemove", () => {
  it("lists the nodes successive decreases remove, highest suffix first", () => {
    const names = ["w-9", "w-10", "w-11", "w-12"];
    expect(nodesToRemove(names, 4, byDefault, 3)).toEqual([
      { node: "w-12" },
      { node: "w-11" },
      { node: "w-10" },
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
    const template = { nameTemplate: "w-{index}", indexBase: 0 };
    expect(nodesToRemove(["w-0", "w-2"], 3, template, 3)).toEqual([
      { node: "w-2" },
      {
        problem:
          "node w-1 (count index 1) is not among the pool's nodes: either it has not joined yet or is gone, or removal.nameTemplate does not match the names",
      },
    ]);
  });

  it("never goes below a count of zero", () => {
    expect(nodesToRemove(["w-1"], 1, byDefault, 5)).toEqual([{ node: "w-1" }]);
  });
});

describe("compareNodeNames", () => {
  it("orders names by the number they end in, then by the whole name", () => {
    const names = [
      "talos-worker-10",
      "talos-cp-1",
      "talos-worker-9",
      "talos-worker-09",
      "talos-worker",
      "talos-worker-1",
      "talos-7rd-ipn",
    ];
    expect(names.sort(compareNodeNames)).toEqual([
      "talos-7rd-ipn",
      "talos-cp-1",
      "talos-worker",
      "talos-worker-1",
      "talos-worker-09",
      "talos-worker-9",
      "talos-worker-10",
    ]);
  });
});
