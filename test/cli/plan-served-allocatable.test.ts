/**
 * Nodes that report 0 allocatable (a kubelet whose system and kube reservations exceed the
 * machine), against a served cluster: their usage is a share of nothing, so it is unknown rather
 * than counted against the other nodes' allocatable, and no new node is shaped after them.
 */
import { describe, expect, it } from "@jest/globals";
import { cluster, config, everyWorker, plan, poolNote, tdarr } from "./served-plan.ts";

const WINDOW_0 = { config: config({ "max: 6": "max: 6\n    scaleUp:\n      window: 0s" }) };

describe("plan against a served cluster: nodes reporting 0 allocatable", () => {
  it("takes the usage of a node with 0 memory allocatable as unknown, not as the pool's", async () => {
    // 9 GiB used on each node: 88 % of the two others' 30.5 GiB if the third's usage counted
    // against them, above the scale-up threshold of 85 %.
    const zeroMemory = { allocatable: { cpu: "3800m", memory: "0", pods: "110" } };
    const output = await plan(
      cluster(undefined, { "talos-worker-3": zeroMemory }, { cpu: "600m", memory: "9Gi" }),
      WINDOW_0,
    );
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.holds).toContainEqual({
      kind: "usage-unknown",
      nodes: ["talos-worker-3"],
      resources: ["memory"],
      allocatable: ["talos-worker-3"],
    });
    expect(poolNote(output)).toContain(
      "hold: memory allocatable missing or 0 on talos-worker-3; no decision is taken on the pool's usage",
    );
  });

  it("learns no new node's size from nodes that report 0", async () => {
    const output = await plan([
      ...cluster(undefined, everyWorker({ allocatable: { cpu: "0", memory: "0", pods: "0" } })),
      tdarr("zero01"),
    ]);
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.holds).toContainEqual({
      kind: "shape-unknown",
      unset: ["newNode.cpu", "newNode.memory"],
    });
    expect(poolNote(output)).not.toContain("new node: 0 cpu");
  });
});
