import { describe, expect, it } from "@jest/globals";
import {
  assessPool,
  firstMemory,
  isNewlyReady,
  notReadyBefore,
  type PoolNode,
  type PoolTarget,
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

const target: PoolTarget = { selector: undefined, count: 3, gone: [] };

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
    const memory = firstMemory(nodes, target, since);
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
    const memory = firstMemory(before, target, since);
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

  it("waits for an excused node whose Ready condition changed since the apply began", () => {
    const nodes = [poolNode("talos-worker-1"), poolNode("talos-worker-2"), dead("talos-worker-3")];
    const memory = firstMemory(nodes, target, since);
    // A kubelet reports again in the same Node object: a VM booting into it.
    const booting = [
      ...nodes.slice(0, 2),
      dead("talos-worker-3", { readyChangedAt: "2026-11-22T18:03:00Z" }),
    ];
    remember(memory, booting);
    expect(assessPool(booting, target, memory)).toMatchObject({
      notReadyBefore: [],
      waitingFor: ["talos-worker-3"],
      done: false,
    });
  });

  it("does not excuse another node that took the name (another UID)", () => {
    const nodes = [poolNode("talos-worker-1"), poolNode("talos-worker-2"), dead("talos-worker-3")];
    const memory = firstMemory(nodes, target, since);
    const rejoined = [...nodes.slice(0, 2), dead("talos-worker-3", { uid: "uid-new" })];
    expect(assessPool(rejoined, target, memory).waitingFor).toEqual(["talos-worker-3"]);
  });
});

describe("nodes that are NotReady and cordoned", () => {
  /** Cordoned, then shut down for maintenance two days ago. */
  const maintenance = (name: string) => dead(name, { unschedulable: true });

  it("are excused when not Ready since before the apply, as any other node", () => {
    const nodes = [poolNode("talos-worker-1"), poolNode("talos-worker-2"), maintenance("w-9")];
    expect([...notReadyBefore(nodes, target, since)]).toEqual(["uid-w-9"]);
    const memory = firstMemory(nodes, target, since);
    const assessment = assessPool(nodes, target, memory);
    expect(assessment).toMatchObject({
      ready: 2,
      notReadyBefore: ["w-9"],
      waitingFor: [],
      cordonedWaitingFor: [],
      missing: 0,
      done: true,
    });
    expect(assessment.members[2]).toMatchObject({
      state: "not-ready",
      cordoned: true,
      notReadyBefore: true,
    });
  });

  it("are waited for when they stopped after the apply began and are not to be gone", () => {
    const nodes = [
      poolNode("talos-worker-1"),
      poolNode("talos-worker-2"),
      poolNode("talos-worker-3"),
      dead("talos-worker-4", { unschedulable: true, readyChangedAt: "2026-11-22T18:01:00Z" }),
    ];
    const memory = firstMemory(nodes, target, since);
    const assessment = assessPool(nodes, target, memory);
    expect(assessment).toMatchObject({
      waitingFor: ["talos-worker-4"],
      cordonedWaitingFor: ["talos-worker-4"],
      done: false,
    });
    expect(assessment.members[3]).toMatchObject({ state: "not-ready", cordoned: true });
    expect(assessment.members[3]?.notReadyBefore).toBeUndefined();
    const named = { ...target, gone: ["talos-worker-4"] };
    const without = assessPool(nodes.slice(0, 3), named, firstMemory(nodes, named, since));
    expect(without).toMatchObject({ waitingFor: [], lingering: [], done: true });
  });

  it("to be gone are deletable, and uncordoned ones are not", () => {
    const nodes = [
      poolNode("talos-worker-1"),
      dead("talos-worker-4", { unschedulable: true, readyChangedAt: "2026-11-22T18:01:00Z" }),
      dead("talos-worker-5", { readyChangedAt: "2026-11-22T18:01:00Z" }),
    ];
    const gone = { ...target, count: 1, gone: ["talos-worker-4", "talos-worker-5"] };
    const lingering = assessPool(nodes, gone, firstMemory(nodes, gone, since)).lingering;
    expect(lingering.map((n) => [n.name, n.deletable])).toEqual([
      ["talos-worker-4", true],
      ["talos-worker-5", false],
    ]);
  });
});

describe("the apply's new nodes (target.added)", () => {
  const grown: PoolTarget = { selector: undefined, count: 4, added: 1, gone: [] };
  const afterSince = "2026-11-22T18:04:10Z";

  it("a node created since the apply began and Ready is new", () => {
    const nodes = [
      poolNode("talos-worker-1"),
      poolNode("talos-worker-2"),
      poolNode("talos-worker-3"),
      poolNode("talos-worker-4", { createdAt: "2026-11-22T18:02:00Z", readyChangedAt: afterSince }),
    ];
    const memory = firstMemory(nodes, grown, since);
    remember(memory, nodes);
    expect(assessPool(nodes, grown, memory)).toMatchObject({
      newlyReady: ["talos-worker-4"],
      missingNew: 0,
      done: true,
    });
  });

  it("a node dead since before the apply does not stand in for the VM the apply created", () => {
    // talos-worker-4's VM was destroyed by hand 3 days ago; its Node object stayed.
    const nodes = [
      poolNode("talos-worker-1"),
      poolNode("talos-worker-2"),
      poolNode("talos-worker-3"),
      dead("talos-worker-4"),
    ];
    const memory = firstMemory(nodes, grown, since);
    remember(memory, nodes);
    expect(assessPool(nodes, grown, memory)).toMatchObject({
      ready: 3,
      notReadyBefore: ["talos-worker-4"],
      missing: 0,
      newlyReady: [],
      missingNew: 1,
      done: false,
    });
    // Without --added the same pool passes: the count alone cannot tell.
    expect(assessPool(nodes, target, memory).done).toBe(true);
  });

  it("a VM that registers into the leftover Node object of the same name is new once Ready", () => {
    const stale = [
      poolNode("talos-worker-1"),
      poolNode("talos-worker-2"),
      poolNode("talos-worker-3"),
      dead("talos-worker-4", { unschedulable: true }),
    ];
    const memory = firstMemory(stale, grown, since);
    remember(memory, stale);
    const booting = [...stale.slice(0, 3), dead("talos-worker-4", { readyChangedAt: afterSince })];
    remember(memory, booting);
    expect(assessPool(booting, grown, memory)).toMatchObject({
      waitingFor: ["talos-worker-4"],
      missingNew: 1,
      done: false,
    });
    // Same UID and creation time as the leftover; its Ready condition changed after --since.
    const joined = [
      ...stale.slice(0, 3),
      poolNode("talos-worker-4", { readyChangedAt: afterSince }),
    ];
    remember(memory, joined);
    expect(assessPool(joined, grown, memory)).toMatchObject({
      newlyReady: ["talos-worker-4"],
      done: true,
    });
  });

  it("a node seen Ready before the apply stays old when its Ready condition changes", () => {
    const nodes = [poolNode("talos-worker-1"), poolNode("talos-worker-2")];
    const memory = firstMemory(nodes, grown, since);
    remember(memory, nodes);
    const flapped = [poolNode("talos-worker-1", { readyChangedAt: afterSince }), nodes[1]!];
    expect(isNewlyReady(flapped[0]!, memory)).toBe(false);
    remember(memory, flapped);
    expect(assessPool(flapped, grown, memory).newlyReady).toEqual([]);
  });

  it("a node whose times are unknown is never new", () => {
    const memory = firstMemory([], grown, since);
    const unknown = poolNode("talos-worker-4", { createdAt: "", readyChangedAt: undefined });
    expect(isNewlyReady(unknown, memory)).toBe(false);
    expect(
      isNewlyReady(poolNode("w", { createdAt: "soon", readyChangedAt: "later" }), memory),
    ).toBe(false);
  });

  it("a new node that is not Ready is waited for and not new", () => {
    const nodes = [
      poolNode("talos-worker-1"),
      poolNode("talos-worker-2"),
      poolNode("talos-worker-3"),
      dead("talos-worker-4", { createdAt: afterSince, readyChangedAt: afterSince }),
    ];
    const memory = firstMemory(nodes, grown, since);
    expect(assessPool(nodes, grown, memory)).toMatchObject({
      newlyReady: [],
      waitingFor: ["talos-worker-4"],
      missing: 1,
      missingNew: 1,
    });
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
