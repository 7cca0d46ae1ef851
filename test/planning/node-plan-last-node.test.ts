import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import type { ScaleDownCondition } from "../../src/planning/node-decision.ts";
import type { NodeInfo, PodInfo } from "../../src/planning/snapshot.ts";
import {
  buildSnapshot,
  daemonSet,
  type NodeSpec,
  nodes,
  pod,
} from "../support/snapshot-builder.ts";
import { kinds, planOne } from "./plan-helpers.ts";

/** Far below every scale-down threshold (10 % cpu, 12.5 % memory), over an hour. */
const QUIET: NodeSpec = { usage: { cpu: "400m", memory: "2Gi" } };
/** A new node's cpu and memory, as a pool that can go to no node must say. */
const SIZED = { newNode: { cpu: "4", memory: "16Gi" } };
/** Empty nodes going together, up to 10 at once (one node per decrease by default). */
const BULK = { scaleDown: { maxEmptyBulk: 10 } };

/** `count` quiet nodes, each running a DaemonSet pod (and nothing else unless given). */
function pool(count: number, extra: PodInfo[] = [], spec: NodeSpec = QUIET) {
  const members = nodes(count, spec);
  const daemons = members.map((node) =>
    pod(`kube-system/cilium-${node.name}`, {
      node: node.name,
      cpu: "100m",
      memory: "128Mi",
      daemonSet: true,
      owner: { kind: "DaemonSet", name: "cilium" },
    }),
  );
  return { members, snapshot: buildSnapshot({ nodes: members, pods: [...daemons, ...extra] }) };
}

function lastNode(conditions: readonly ScaleDownCondition[]) {
  return conditions.find(
    (c): c is Extract<ScaleDownCondition, { kind: "last-node" }> => c.kind === "last-node",
  );
}

describe("a pool's last node", () => {
  it("goes when min is 0 and newNode gives a new node's cpu and memory", () => {
    const decision = planOne(pool(1).snapshot, { min: 0, ...SIZED });
    expect(decision).toMatchObject({
      action: "scale-down",
      current: 1,
      desired: 0,
      removing: ["worker-1"],
    });
    expect(lastNode(decision.scaleDown.conditions)).toEqual({
      kind: "last-node",
      met: true,
      node: "worker-1",
      unset: [],
      extended: [],
      labels: {},
      taints: [],
    });
    // An empty pool's projected utilisation is 0 %, not unknown.
    const projections = decision.scaleDown.conditions.filter((c) => c.kind === "projection");
    expect(projections.map((c) => c.projected)).toEqual([0, 0]);
    expect(projections.every((c) => c.met)).toBe(true);
  });

  it("stays while newNode does not give a new node's cpu and memory, saying so", () => {
    const decision = planOne(pool(1).snapshot, { min: 0 });
    expect(decision).toMatchObject({ action: "none", current: 1, desired: 1 });
    const expected = {
      kind: "last-node",
      met: false,
      node: "worker-1",
      unset: ["newNode.cpu", "newNode.memory"],
      extended: [],
      labels: {},
      taints: [],
    };
    expect(lastNode(decision.scaleDown.conditions)).toEqual(expected);
    expect(decision.scaleDown.refusedBy).toEqual([expected]);
    // Every other condition holds: the projection is 0 %, not unknown.
    expect(decision.scaleDown.conditions.filter((c) => !c.met).map((c) => c.kind)).toEqual([
      "last-node",
    ]);
    expect(explainNodeDecision(decision).join("\n")).toContain(
      "worker-1: the last node stays: a pool with no node cannot learn a new node's shape; set newNode.cpu and newNode.memory",
    );
    const half = planOne(pool(1).snapshot, { min: 0, newNode: { cpu: "4" } });
    expect(lastNode(half.scaleDown.conditions)?.unset).toEqual(["newNode.memory"]);
  });

  it("stays while its pod capacity is not kubelet's default and newNode.pods is unset", () => {
    const { snapshot } = pool(1, [], { ...QUIET, pods: 250 });
    expect(lastNode(planOne(snapshot, { min: 0, ...SIZED }).scaleDown.conditions)).toMatchObject({
      met: false,
      unset: ["newNode.pods"],
    });
    const told = planOne(snapshot, { min: 0, newNode: { ...SIZED.newNode, pods: 250 } });
    expect(told).toMatchObject({ action: "scale-down", desired: 0 });
  });

  it("stays while it has extended resources newNode.extendedResources does not give", () => {
    const { members, snapshot } = pool(1);
    (members[0] as NodeInfo).allocatable.extended = { "nvidia.com/gpu": 1 };
    const decision = planOne(snapshot, { min: 0, ...SIZED });
    expect(decision.action).toBe("none");
    expect(lastNode(decision.scaleDown.conditions)).toMatchObject({
      met: false,
      unset: [],
      extended: ["nvidia.com/gpu"],
    });
    expect(explainNodeDecision(decision).join("\n")).toContain(
      "set nvidia.com/gpu in newNode.extendedResources (the pool's nodes have it)",
    );
    const told = planOne(snapshot, {
      min: 0,
      newNode: { ...SIZED.newNode, extendedResources: { "nvidia.com/gpu": 1 } },
    });
    expect(told).toMatchObject({ action: "scale-down", desired: 0 });
    expect(lastNode(told.scaleDown.conditions)).toMatchObject({ met: true, extended: [] });
  });

  it("stays while it has a resource newNode has no key for, saying so", () => {
    const { members, snapshot } = pool(1);
    (members[0] as NodeInfo).allocatable.extended = { "hugepages-2Mi": 2 ** 30 };
    const decision = planOne(snapshot, { min: 0, ...SIZED });
    expect(lastNode(decision.scaleDown.conditions)).toMatchObject({
      met: false,
      extended: ["hugepages-2Mi"],
    });
    expect(explainNodeDecision(decision).join("\n")).toContain(
      "a new node would have no hugepages-2Mi, which newNode cannot give",
    );
  });

  it("stays while labels and taints every pool node has are not in newNode or matchLabels", () => {
    const gpu: NodeSpec = {
      ...QUIET,
      labels: { "kubernetes.io/os": "linux", pool: "gpu" },
      taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }],
    };
    const { snapshot } = pool(1, [], gpu);
    const bare = planOne(snapshot, { min: 0, ...SIZED });
    expect(bare.action).toBe("none");
    expect(lastNode(bare.scaleDown.conditions)).toMatchObject({
      met: false,
      labels: { "kubernetes.io/os": "linux", pool: "gpu" },
      taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }],
    });
    expect(explainNodeDecision(bare).join("\n")).toContain(
      "add kubernetes.io/os=linux, pool=gpu to newNode.labels (every pool node has them); add gpu=true:NoSchedule to newNode.taints",
    );
    const selector = { matchLabels: { pool: "gpu" } };
    const partly = planOne(snapshot, { min: 0, selector, ...SIZED });
    expect(lastNode(partly.scaleDown.conditions)?.labels).toEqual({ "kubernetes.io/os": "linux" });
    const told = planOne(snapshot, {
      min: 0,
      selector,
      newNode: {
        ...SIZED.newNode,
        labels: { "kubernetes.io/os": "linux" },
        taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }],
      },
    });
    expect(told).toMatchObject({ action: "scale-down", desired: 0 });
  });

  it("never goes with min 1, nor while a schedule raises the min", () => {
    const one = planOne(pool(1).snapshot, { min: 1, ...SIZED });
    expect(one).toMatchObject({ action: "none", desired: 1 });
    expect(lastNode(one.scaleDown.conditions)).toBeUndefined();
    const schedules = [{ cron: "0 11 * * *", timezone: "UTC", duration: "2h", min: 1 }];
    const held = planOne(pool(1).snapshot, { min: 0, schedules, ...SIZED });
    expect(held).toMatchObject({ action: "none", desired: 1 });
    expect(held.scaleDown.conditions.find((c) => c.kind === "above-min")).toMatchObject({
      met: false,
      min: 1,
    });
  });

  it("stays while it runs a pod that needs room elsewhere", () => {
    const web = pod("web/a", { node: "worker-1", cpu: "100m", memory: "128Mi" });
    const decision = planOne(pool(1, [web]).snapshot, { min: 0, ...SIZED });
    expect(decision.action).toBe("none");
    expect(decision.scaleDown.conditions.find((c) => c.kind === "pods-fit")).toMatchObject({
      met: false,
      unplaced: ["web/a"],
    });
  });

  it("stays while its usage is unknown", () => {
    const { snapshot } = pool(1, [], {});
    const decision = planOne(snapshot, { min: 0, ...SIZED });
    expect(decision.action).toBe("none");
    expect(kinds(decision.holds)).toContain("usage-unknown");
  });

  it("goes with the empty nodes before it in one decrease, under the same rule", () => {
    // Idle enough that one node could carry what the three use.
    const idle = pool(3, [], { usage: { cpu: "100m", memory: "512Mi" } }).snapshot;
    const all = planOne(idle, { min: 0, ...SIZED, ...BULK });
    expect(all).toMatchObject({
      action: "scale-down",
      desired: 0,
      removing: ["worker-3", "worker-2", "worker-1"],
    });
    expect(all.scaleDown.bulk?.stop).toEqual({ kind: "min", min: 0 });
    const kept = planOne(idle, { min: 0, ...BULK });
    expect(kept).toMatchObject({ desired: 1, removing: ["worker-3", "worker-2"] });
    expect(kept.scaleDown.bulk?.stop).toEqual({
      kind: "last-node",
      node: "worker-1",
      unset: ["newNode.cpu", "newNode.memory"],
      extended: [],
      labels: {},
      taints: [],
    });
    expect(explainNodeDecision(kept).join("\n")).toContain(
      "not worker-1 too: the last node stays: a pool with no node cannot learn a new node's shape; set newNode.cpu and newNode.memory",
    );
  });

  it("stays while the cluster's DaemonSets could not be read: the pool could not grow back", () => {
    const { snapshot } = pool(1);
    const unread = { ...snapshot, daemonSets: "unknown" as const };
    const decision = planOne(unread, { min: 0, ...SIZED });
    expect(decision).toMatchObject({ action: "none", current: 1, desired: 1 });
    const expected = {
      kind: "last-node",
      met: false,
      node: "worker-1",
      unset: [],
      extended: [],
      labels: {},
      taints: [],
      daemonSets: "daemonsets-unread",
    };
    expect(lastNode(decision.scaleDown.conditions)).toEqual(expected);
    expect(decision.scaleDown.refusedBy).toEqual([expected]);
    expect(explainNodeDecision(decision).join("\n")).toContain(
      "worker-1: the last node stays: with no node left, the room on a new node is told by the cluster's DaemonSets, which could not be read",
    );
    // The nodes before it go, as their pool keeps one to grow from.
    const idle = pool(3, [], { usage: { cpu: "100m", memory: "512Mi" } }).snapshot;
    const three = planOne({ ...idle, daemonSets: "unknown" }, { min: 0, ...SIZED, ...BULK });
    expect(three).toMatchObject({ desired: 1, removing: ["worker-3", "worker-2"] });
    expect(three.scaleDown.bulk?.stop).toMatchObject({
      kind: "last-node",
      node: "worker-1",
      daemonSets: "daemonsets-unread",
    });
  });

  it("stays while a DaemonSet a new node would run requests an amount that could not be read", () => {
    const { snapshot } = pool(1);
    const template = daemonSet("kube-system/cilium", { cpu: "100m", memory: "128Mi" });
    const { cpu: _cpu, ...unknownCpu } = template.requests;
    const unreadable = { ...snapshot, daemonSets: [{ ...template, requests: unknownCpu }] };
    const decision = planOne(unreadable, { min: 0, ...SIZED });
    expect(decision).toMatchObject({ action: "none", desired: 1 });
    expect(lastNode(decision.scaleDown.conditions)).toMatchObject({
      met: false,
      daemonSets: "daemonset-requests",
    });
    // Read, the same DaemonSet lets it go.
    const read = { ...snapshot, daemonSets: [template] };
    expect(planOne(read, { min: 0, ...SIZED })).toMatchObject({
      action: "scale-down",
      desired: 0,
    });
  });
});
