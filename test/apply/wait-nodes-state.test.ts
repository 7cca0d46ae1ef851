import { describe, expect, it } from "@jest/globals";
import {
  assessPool,
  emptyMemory,
  notReadyBefore,
  type PoolNode,
  remember,
  toPoolNode,
} from "../../src/apply/wait-nodes-state.ts";

const since = Date.parse("2026-11-22T18:00:00Z");

function poolNode(name: string, overrides: Partial<PoolNode> = {}): PoolNode {
  return {
    name,
    uid: `uid-${name}`,
    resourceVersion: "1",
    labels: {},
    ready: true,
    unschedulable: false,
    controlPlane: false,
    createdAt: "2026-08-14T18:02:14Z",
    readyChangedAt: "2026-11-01T10:04:26Z",
    ...overrides,
  };
}

/** Dead for two days, in the pool for months. */
const dead = (name: string, overrides: Partial<PoolNode> = {}) =>
  poolNode(name, { ready: false, readyChangedAt: "2026-11-20T06:13:21Z", ...overrides });

const target = { selector: undefined, count: 3, gone: [] };

describe("notReadyBefore", () => {
  it("holds the nodes created and gone not Ready before the apply began", () => {
    const nodes = [
      poolNode("talos-worker-1"),
      dead("talos-worker-2"),
      // Ready until after the apply began.
      dead("talos-worker-3", { readyChangedAt: "2026-11-22T18:00:30Z" }),
      // The apply's VM: created after it began.
      dead("talos-worker-4", {
        createdAt: "2026-11-22T18:03:00Z",
        readyChangedAt: "2026-11-22T18:03:05Z",
      }),
    ];
    expect([...notReadyBefore(nodes, target, since)]).toEqual(["uid-talos-worker-2"]);
  });

  it("never holds a node whose times are unknown, a control plane node or one to be gone", () => {
    const nodes = [
      dead("no-transition", { readyChangedAt: undefined }),
      dead("no-creation", { createdAt: "" }),
      dead("talos-cp-1", { controlPlane: true }),
      dead("talos-worker-5"),
    ];
    const set = notReadyBefore(nodes, { ...target, gone: ["talos-worker-5"] }, since);
    expect(set.size).toBe(0);
  });
});

describe("assessPool with what the wait remembers", () => {
  it("counts an excused node toward the count and does not wait for it", () => {
    const nodes = [poolNode("talos-worker-1"), poolNode("talos-worker-2"), dead("talos-worker-3")];
    const memory = { ...emptyMemory(), excused: notReadyBefore(nodes, target, since) };
    remember(memory, nodes);
    expect(assessPool(nodes, target, memory)).toMatchObject({
      ready: 2,
      notReadyBefore: ["talos-worker-3"],
      waitingFor: [],
      missing: 0,
      done: true,
    });
    // Without the memory, the same node is waited for.
    expect(assessPool(nodes, target)).toMatchObject({
      waitingFor: ["talos-worker-3"],
      missing: 1,
      done: false,
    });
  });

  it("waits for an excused node that came back and stopped again", () => {
    const before = [poolNode("talos-worker-1"), poolNode("talos-worker-2"), dead("talos-worker-3")];
    const memory = { ...emptyMemory(), excused: notReadyBefore(before, target, since) };
    remember(memory, before);
    const back = [
      poolNode("talos-worker-1"),
      poolNode("talos-worker-2"),
      poolNode("talos-worker-3"),
    ];
    remember(memory, back);
    expect(assessPool(back, target, memory).done).toBe(true);
    remember(memory, before);
    const assessment = assessPool(before, target, memory);
    expect(assessment).toMatchObject({
      notReadyBefore: [],
      waitingFor: ["talos-worker-3"],
      stoppedReady: ["talos-worker-3"],
      done: false,
    });
    expect(assessment.members[2]).toMatchObject({ name: "talos-worker-3", stoppedReady: true });
  });

  it("does not excuse another node that took the name (another UID)", () => {
    const nodes = [poolNode("talos-worker-1"), poolNode("talos-worker-2"), dead("talos-worker-3")];
    const memory = { ...emptyMemory(), excused: notReadyBefore(nodes, target, since) };
    const rejoined = [...nodes.slice(0, 2), dead("talos-worker-3", { uid: "uid-new" })];
    expect(assessPool(rejoined, target, memory).waitingFor).toEqual(["talos-worker-3"]);
  });
});

describe("toPoolNode", () => {
  it("reads when the Ready condition last changed", () => {
    const node = toPoolNode({
      metadata: { name: "talos-worker-3", uid: "u", creationTimestamp: "2026-08-14T18:02:14Z" },
      status: {
        conditions: [
          {
            type: "Ready",
            status: "Unknown",
            reason: "NodeStatusUnknown",
            message: "Kubelet stopped posting node status.",
            lastTransitionTime: "2026-11-20T06:13:21Z",
          },
        ],
      },
    });
    expect(node).toMatchObject({
      ready: false,
      readyChangedAt: "2026-11-20T06:13:21Z",
      notReadyReason: "Ready=Unknown: NodeStatusUnknown: Kubelet stopped posting node status.",
    });
    const garbled = toPoolNode({
      metadata: { name: "w" },
      status: { conditions: [{ type: "Ready", status: "False", lastTransitionTime: "1 " }] },
    });
    expect(garbled.readyChangedAt).toBeUndefined();
  });
});
