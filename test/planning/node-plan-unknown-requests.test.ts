/**
 * A request the snapshot could not read (an invalid quantity in a saved snapshot) is unknown,
 * never zero: the pod adds no node on a guess, the room of a node running it is not counted on,
 * the pool's requests are unknown, and a node running it is not removed on a guess either.
 */
import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import type { ScaleDownCondition } from "../../src/planning/node-decision.ts";
import { buildSnapshot, nodes, pendingPod, pod } from "../support/snapshot-builder.ts";
import { BUSY, kinds, planOne, QUIET } from "./plan-helpers.ts";

function podsFit(conditions: readonly ScaleDownCondition[]) {
  return conditions.find((condition) => condition.kind === "pods-fit");
}

describe("requests that could not be read", () => {
  it("list a pending pod as never fitting instead of packing it as zero", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(3, BUSY),
      pods: [pendingPod("batch/odd", { memory: "1Gi", unknownRequests: ["cpu"] })],
    });
    const decision = planOne(snapshot);
    expect(decision.action).toBe("none");
    expect(decision.pending.onExisting).toEqual([]);
    expect(decision.pending.neverFit).toEqual([
      expect.objectContaining({
        pod: "batch/odd",
        reason: "requests-unknown",
        resource: "cpu",
        unknown: ["cpu"],
      }),
    ]);
    expect(explainNodeDecision(decision).join("\n")).toContain(
      "fit unknown: batch/odd (cpu unknown, memory 1 GiB): its cpu request could not be read",
    );
  });

  it("leave a new node's room unknown when a DaemonSet every node runs has an unread request", () => {
    const agent = (node: string, unknown: boolean) =>
      pod(`kube-system/agent-${node}`, {
        node,
        memory: "256Mi",
        cpu: "500m",
        daemonSet: true,
        owner: { kind: "DaemonSet", name: "agent" },
        ...(unknown ? { unknownRequests: ["cpu" as const] } : {}),
      });
    const fill = ["worker-1", "worker-2"].map((node) =>
      pod(`fill/${node}`, { node, cpu: "3400m", memory: "1Gi" }),
    );
    const waiting = pendingPod("batch/big", { cpu: "3700m", memory: "1Gi" });
    const unread = planOne(
      buildSnapshot({
        nodes: nodes(2, BUSY),
        pods: [agent("worker-1", true), agent("worker-2", false), ...fill, waiting],
      }),
    );
    expect(unread.action).toBe("none");
    expect(unread.pending.neverFit).toEqual([
      expect.objectContaining({ pod: "batch/big", reason: "shape-unknown" }),
    ]);
    // Read, the DaemonSet's 500m leaves 3500m on a new node: the pod never fits one.
    const known = planOne(
      buildSnapshot({
        nodes: nodes(2, BUSY),
        pods: [agent("worker-1", false), agent("worker-2", false), ...fill, waiting],
      }),
    );
    expect(known.pending.neverFit).toEqual([
      expect.objectContaining({ pod: "batch/big", reason: "too-large" }),
    ]);
  });

  it("still pack the pending pods whose requests are known", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(2, BUSY),
      pods: [
        pod("fill/1", { node: "worker-1", cpu: "3500m", memory: "1Gi" }),
        pod("fill/2", { node: "worker-2", cpu: "3500m", memory: "1Gi" }),
        pendingPod("batch/odd", { cpu: "1", unknownRequests: ["memory"] }),
        pendingPod("batch/known", { cpu: "2", memory: "1Gi" }),
      ],
    });
    const decision = planOne(snapshot);
    expect(decision).toMatchObject({ action: "scale-up", current: 2, desired: 3 });
    expect(decision.pending.onNew.map((placement) => placement.pod)).toEqual(["batch/known"]);
    expect(decision.pending.neverFit.map((pod) => pod.reason)).toEqual(["requests-unknown"]);
  });

  it("leave the room of the node running such a pod uncounted", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(2, BUSY),
      pods: [
        pod("fill/1", { node: "worker-1", cpu: "3500m", memory: "1Gi" }),
        pod("media/odd", { node: "worker-2", cpu: "100m", unknownRequests: ["memory"] }),
        pendingPod("batch/known", { cpu: "2", memory: "1Gi" }),
      ],
    });
    const decision = planOne(snapshot);
    // worker-2 has 3900m of cpu free, but how much memory is free there is unknown.
    expect(decision).toMatchObject({ action: "scale-up", desired: 3 });
    expect(decision.pending.onExisting).toEqual([]);
    expect(decision.utilisation.memory.requestsPercent).toBeUndefined();
    expect(decision.utilisation.cpu.requestsPercent).toBeDefined();
  });

  it("leave the pool's requests unknown, so a quiet pool is not shrunk on them", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(4, QUIET),
      pods: [pod("media/odd", { node: "worker-1", cpu: "100m", unknownRequests: ["memory"] })],
    });
    const decision = planOne(snapshot);
    expect(decision.action).toBe("none");
    expect(decision.scaleDown.conditions).toContainEqual({
      kind: "requests",
      met: false,
      resource: "memory",
      threshold: 50,
    });
  });

  it("keep a node above max whose pod could not be said to fit elsewhere", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(4, BUSY),
      pods: [pod("media/odd", { node: "worker-4", memory: "1Gi", unknownRequests: ["cpu"] })],
    });
    const decision = planOne(snapshot, { max: 3 });
    expect(decision.action).toBe("none");
    expect(kinds(decision.triggers)).toContain("above-max");
    expect(podsFit(decision.scaleDown.conditions)).toMatchObject({
      met: false,
      node: "worker-4",
      unplaced: ["media/odd"],
    });
  });

  it("say a node whose room is unknown is not counted when a pod finds no room", () => {
    // worker-1 runs a pod of unread cpu; worker-2 and worker-3 have 400m free.
    const snapshot = buildSnapshot({
      nodes: nodes(4, BUSY),
      pods: [
        pod("media/odd", { node: "worker-1", memory: "1Gi", unknownRequests: ["cpu"] }),
        pod("fill/2", { node: "worker-2", cpu: "3600m", memory: "1Gi" }),
        pod("fill/3", { node: "worker-3", cpu: "3600m", memory: "1Gi" }),
        pod("web/api", { node: "worker-4", cpu: "1", memory: "1Gi" }),
      ],
    });
    const decision = planOne(snapshot, { max: 3 });
    expect(podsFit(decision.scaleDown.conditions)).toMatchObject({
      met: false,
      causes: [{ pod: "web/api", cause: "room", resources: ["cpu"] }],
      uncounted: [{ node: "worker-1", why: "room-unknown" }],
    });
    expect(explainNodeDecision(decision).join("\n")).toContain(
      "no room for web/api: it needs more cpu than any other node of the pool has free; the room of worker-1 (requests of its pods unknown) is not counted",
    );
  });

  it("remove a node above max once the pod's requests are known", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(4, BUSY),
      pods: [pod("media/odd", { node: "worker-4", cpu: "100m", memory: "1Gi" })],
    });
    const decision = planOne(snapshot, { max: 3 });
    expect(decision).toMatchObject({ action: "scale-down", desired: 3, removes: "worker-4" });
  });
});
