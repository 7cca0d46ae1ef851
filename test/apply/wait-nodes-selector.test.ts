import { describe, expect, it } from "@jest/globals";
import { formatSelector, parseSelectorFlag } from "../../src/apply/wait-nodes-selector.ts";
import { assessPool, type PoolNode, toPoolNode } from "../../src/apply/wait-nodes-state.ts";
import { UsageError } from "../../src/errors.ts";

describe("parseSelectorFlag", () => {
  it("reads kubectl's selector syntax", () => {
    expect(
      parseSelectorFlag(
        "pr-autoscaler.io/pool=workers, tier!=gpu,zone in (pve-1, pve-2),env notin (lab),ssd,!retired,a==b",
      ),
    ).toEqual({
      matchLabels: { "pr-autoscaler.io/pool": "workers", a: "b" },
      matchExpressions: [
        { key: "tier", operator: "NotIn", values: ["gpu"] },
        { key: "zone", operator: "In", values: ["pve-1", "pve-2"] },
        { key: "env", operator: "NotIn", values: ["lab"] },
        { key: "ssd", operator: "Exists" },
        { key: "retired", operator: "DoesNotExist" },
      ],
    });
  });

  it("formats what it reads back the same way", () => {
    const text = "pool=workers,tier!=gpu,zone in (a,b),ssd,!retired";
    expect(formatSelector(parseSelectorFlag(text))).toBe(text);
    expect(formatSelector(undefined)).toBe("every node that is not control plane");
  });

  it.each([
    ["", "empty term"],
    ["a=b,", "empty term"],
    ["a=b=c", "does not start with a label key"],
    ["zone in (a,b", "does not start with a label key"],
    ["a=b,a=c", "a cannot equal both b and c"],
    ["app=-web", "is not a label value"],
    ["-bad=1", "does not start with a label key"],
  ])("refuses %j", (text, message) => {
    expect(() => parseSelectorFlag(text)).toThrow(UsageError);
    expect(() => parseSelectorFlag(text)).toThrow(message);
  });
});

function poolNode(name: string, overrides: Partial<PoolNode> = {}): PoolNode {
  return {
    name,
    uid: `uid-${name}`,
    resourceVersion: "1",
    labels: { pool: "workers" },
    ready: true,
    unschedulable: false,
    controlPlane: false,
    createdAt: "2025-01-10T00:00:00Z",
    ...overrides,
  };
}

describe("assessPool", () => {
  it("counts Ready members, cordoned or not; never control plane or to-be-gone nodes", () => {
    const assessment = assessPool(
      [
        poolNode("cp", { controlPlane: true }),
        poolNode("w1"),
        poolNode("w2", { unschedulable: true }),
        poolNode("w3", { ready: false, notReadyReason: "Ready=False" }),
        poolNode("w4", { ready: false, unschedulable: true }),
        poolNode("g1", { labels: { pool: "gpu" } }),
      ],
      { selector: { matchLabels: { pool: "workers" } }, count: 2, gone: ["w4"] },
    );
    expect(assessment.members.map((m) => [m.name, m.state])).toEqual([
      ["w1", "ready"],
      ["w2", "cordoned"],
      ["w3", "not-ready"],
    ]);
    expect(assessment).toMatchObject({ ready: 2, missing: 0, done: false });
    expect(assessment.lingering).toEqual([
      {
        name: "w4",
        uid: "uid-w4",
        resourceVersion: "1",
        ready: false,
        unschedulable: true,
        deletable: true,
      },
    ]);
  });

  it("is done with enough Ready nodes and nothing left to go; more nodes than wanted is fine", () => {
    const nodes = [poolNode("w1"), poolNode("w2"), poolNode("w3")];
    expect(assessPool(nodes, { selector: undefined, count: 2, gone: [] })).toMatchObject({
      ready: 3,
      missing: 0,
      done: true,
    });
    expect(assessPool(nodes, { selector: undefined, count: 2, gone: ["w3"] })).toMatchObject({
      ready: 2,
      done: false,
    });
  });

  it("never marks a Ready or uncordoned node deletable", () => {
    const { lingering } = assessPool(
      [poolNode("ready", { unschedulable: true }), poolNode("undrained", { ready: false })],
      { selector: undefined, count: 0, gone: ["ready", "undrained"] },
    );
    expect(lingering.map((n) => [n.name, n.deletable])).toEqual([
      ["ready", false],
      ["undrained", false],
    ]);
  });

  it("reads a Node's readiness, reason and roles", () => {
    const node = toPoolNode({
      metadata: {
        name: "talos-cp-1",
        uid: "u",
        resourceVersion: "42",
        labels: { "node-role.kubernetes.io/control-plane": "" },
      },
      spec: { unschedulable: true },
      status: {
        conditions: [
          { type: "MemoryPressure", status: "False" },
          {
            type: "Ready",
            status: "False",
            reason: "KubeletNotReady",
            message: "container runtime network not ready",
          },
        ],
      },
    });
    expect(node).toMatchObject({
      name: "talos-cp-1",
      uid: "u",
      resourceVersion: "42",
      ready: false,
      unschedulable: true,
      controlPlane: true,
      notReadyReason: "Ready=False: KubeletNotReady: container runtime network not ready",
    });
  });
});
