/**
 * Nodes that report 0 allocatable (a kubelet whose system and kube reservations exceed the
 * machine), against a served cluster: their usage is a share of nothing, so it is unknown rather
 * than counted against the other nodes' allocatable, and no new node is shaped after them. A node
 * whose allocatable cannot be read at all is given no pods to move, and said to be so.
 */
import { describe, expect, it } from "@jest/globals";
import { pod, type Raw, WORKER } from "./served-cluster.ts";
import {
  cluster,
  config,
  everyWorker,
  FOUR,
  nameOf,
  OVER_MAX,
  plan,
  poolDecision,
  poolNote,
  tdarr,
} from "./served-plan.ts";

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

  it("names a node whose allocatable cannot be read as not counted when a pod finds no room", async () => {
    // Four workers where the repo allows three: talos-worker-4 goes whatever the usage, if its
    // 2500m pod fits elsewhere. It fits on no node whose room is known (1200m free on each).
    const big = FOUR.map((node, index) =>
      pod("default", `echo-server-5d8f7c9b6-bg${index}xx`, {
        node,
        owner: { kind: "ReplicaSet", name: "echo-server-5d8f7c9b6" },
        cpu: "2500m",
        memory: "128Mi",
      }),
    );
    const notAQuantity = cluster(FOUR, {
      "talos-worker-2": { allocatable: { ...WORKER, cpu: "lots" } },
    });
    const withoutAllocatable = cluster(FOUR).map((object) => {
      if (object.kind !== "Node" || nameOf(object) !== "talos-worker-2") return object;
      const { allocatable: _allocatable, ...status } = object.status as Raw;
      return { ...object, status };
    });
    for (const objects of [notAQuantity, withoutAllocatable]) {
      const output = await plan([...objects, ...big], OVER_MAX);
      expect(output.proposals).toEqual([]);
      // Its room is not read as free, nor as none: the text says it was not counted.
      expect(poolNote(output)).toContain(
        "not removed: not every pod of talos-worker-4 fits on the other nodes (no room for default/echo-server-5d8f7c9b6-bg3xx: it needs more cpu than any other node of the pool has free; the room of talos-worker-2 (allocatable unknown) is not counted)",
      );
      expect(JSON.stringify(poolDecision(output))).toContain(
        '"uncounted":[{"node":"talos-worker-2","why":"allocatable-unknown"}]',
      );
    }
  });
});
