import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import type { PodInfo } from "../../src/planning/snapshot.ts";
import { buildSnapshot, nodes, pendingPod, pod } from "../support/snapshot-builder.ts";
import { BUSY, planOne, QUIET } from "./plan-helpers.ts";

function withPriority(info: PodInfo, priority: number): PodInfo {
  return { ...info, priority };
}

/** Two full workers and a pending pod of the given priority that needs a new node. */
function fullWith(priority: number) {
  const workers = nodes(2, BUSY);
  return buildSnapshot({
    nodes: workers,
    pods: [
      ...workers.map((w) => pod(`default/fill-${w.name}`, { node: w.name, cpu: "3800m" })),
      withPriority(pendingPod("batch/folding-at-home", { cpu: "2", memory: "1Gi" }), priority),
    ],
  });
}

describe("expendable pods (priority below expendablePriority)", () => {
  it("add no node, and the explanation says why", () => {
    const decision = planOne(fullWith(-100));
    expect(decision.action).toBe("none");
    expect(decision.pending.considered).toBe(1);
    expect(decision.pending.expendable).toEqual([
      expect.objectContaining({ pod: "batch/folding-at-home", priority: -100, below: -10 }),
    ]);
    expect(explainNodeDecision(decision)).toContain(
      "  expendable: batch/folding-at-home (cpu 2, memory 1 GiB): priority -100 is below the pool's expendablePriority of -10, so it waits for room and adds no node",
    );
  });

  it("count like any pod at or above the cutoff, which the pool may lower", () => {
    expect(planOne(fullWith(-10))).toMatchObject({ action: "scale-up", desired: 3 });
    expect(planOne(fullWith(-100), { expendablePriority: -1000 })).toMatchObject({
      action: "scale-up",
      desired: 3,
    });
  });

  it("need no room elsewhere when their node goes", () => {
    const workers = nodes(4, QUIET);
    const snapshot = buildSnapshot({
      nodes: workers,
      pods: [
        // Too big for the other nodes' room: only an expendable pod may be left to wait.
        withPriority(pod("batch/miner", { node: "worker-4", cpu: "3" }), -100),
        ...workers
          .slice(0, 3)
          .map((w) => pod(`default/fill-${w.name}`, { node: w.name, cpu: "1500m" })),
      ],
    });
    expect(planOne(snapshot)).toMatchObject({ action: "scale-down", removes: "worker-4" });
    const decision = planOne(snapshot, { expendablePriority: -1000 });
    expect(decision.action).toBe("none");
    expect(decision.scaleDown.conditions).toContainEqual(
      expect.objectContaining({ kind: "pods-fit", met: false, unplaced: ["batch/miner"] }),
    );
  });

  it("still block their node by what would stop the drain evicting them", () => {
    const workers = nodes(4, QUIET);
    const snapshot = buildSnapshot({
      nodes: workers,
      pods: [
        withPriority(pod("batch/miner", { node: "worker-4", cpu: "100m", owner: null }), -100),
      ],
    });
    const decision = planOne(snapshot);
    expect(decision.action).toBe("none");
    expect(decision.blockers.find((entry) => entry.node === "worker-4")?.blockers).toEqual([
      { kind: "bare-pod", pod: "batch/miner" },
    ]);
  });
});
