import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { indexCluster, podKey } from "../../src/planning/cluster-index.ts";
import { keptOffText } from "../../src/planning/explain-node-decision.ts";
import {
  type Bin,
  type KeptOff,
  type NewBinTemplate,
  packOntoNodes,
  packPendingPods,
} from "../../src/planning/packing.ts";
import { peerRules } from "../../src/planning/peer-rules.ts";
import type { Room } from "../../src/planning/room.ts";
import type { PodInfo } from "../../src/planning/snapshot.ts";
import { buildSnapshot, node, pendingPod, pod } from "../support/snapshot-builder.ts";

const GI = 2 ** 30;

function room(cpu: number, memory: number, pods = 110): Room {
  return { cpu, memory, pods, extended: {} };
}

function bin(name: string, free: Room, labels: Record<string, string> = {}): Bin {
  return {
    name,
    traits: { name, labels, taints: [] },
    room: { ...free, extended: { ...free.extended } },
  };
}

const template: NewBinTemplate = {
  traits: { labels: { pool: "workers" }, taints: [] },
  room: room(4000, 16 * GI),
};

describe("packPendingPods", () => {
  it("uses free room on existing nodes before adding nodes", () => {
    const pods = [
      pendingPod("a", { cpu: "1", memory: "1Gi" }),
      pendingPod("b", { cpu: "3", memory: "1Gi" }),
    ];
    const result = packPendingPods(pods, [bin("worker-1", room(1500, 8 * GI))], template, 5);
    expect(result.onExisting.map((p) => [p.pod, p.node])).toEqual([["default/a", "worker-1"]]);
    expect(result.onNew.map((p) => [p.pod, p.node])).toEqual([["default/b", "new-1"]]);
    expect(result.newNodes).toBe(1);
  });

  it("says what kept a pod sent to a new node off each existing node, the commonest rule first", () => {
    const taint = { key: "dedicated", value: "media", effect: "NoSchedule" as const };
    const existing: Bin[] = [
      // Too little cpu on one, too little memory on the other: no one resource short on both.
      bin("worker-1", room(500, 32 * GI), { disk: "ssd" }),
      bin("worker-2", room(8000, GI), { disk: "ssd" }),
      // Room on all the others: it wants disk=ssd, which three lack, one has behind a taint,
      // and one may or may not have.
      bin("plain-1", room(8000, 32 * GI)),
      bin("plain-2", room(8000, 32 * GI), { disk: "hdd" }),
      bin("plain-3", room(8000, 32 * GI)),
      {
        ...bin("ssd-1", room(8000, 32 * GI)),
        traits: { labels: { disk: "ssd" }, taints: [taint] },
      },
      {
        ...bin("odd-1", room(8000, 32 * GI)),
        traits: { labels: {}, taints: [], unknownValueLabels: ["disk"] },
      },
    ];
    const pods = [pendingPod("a", { cpu: "1", memory: "2Gi", nodeSelector: { disk: "ssd" } })];
    const ssd: NewBinTemplate = {
      traits: { labels: { disk: "ssd" }, taints: [] },
      room: room(4000, 16 * GI),
    };
    const result = packPendingPods(pods, existing, ssd, 5);
    expect(result.onNew).toEqual([
      expect.objectContaining({
        pod: "default/a",
        node: "new-1",
        keptOff: {
          nodes: 7,
          rules: [
            { cause: "node-selector", nodes: 3, node: "plain-1" },
            { cause: "taints", nodes: 1, node: "ssd-1" },
          ],
          otherRules: 1,
          room: { nodes: 2, node: "worker-1" },
        },
      }),
    ]);
    // Without disk=ssd, the nodes short of room are counted under the nodeSelector, which
    // kube-scheduler's NodeAffinity checks before their room.
    existing[0] = bin("worker-1", room(500, 32 * GI));
    existing[1] = bin("worker-2", room(8000, GI));
    const unlabelled = packPendingPods(pods, existing, ssd, 5).onNew[0]?.keptOff;
    expect(unlabelled).toEqual({
      nodes: 7,
      rules: [
        { cause: "node-selector", nodes: 5, node: "worker-1", tooLittleRoom: 2 },
        { cause: "taints", nodes: 1, node: "ssd-1" },
      ],
      otherRules: 1,
    });
    expect(keptOffText(unlabelled as KeptOff)).toBe(
      "existing nodes: worker-1 and 4 more do not match its nodeSelector; ssd-1 has room but a taint it does not tolerate keeps it off; 1 more has room but other rules keep it off",
    );
  });

  it("says the existing nodes are at their volume limit for a pod the scheduler found so", () => {
    const atLimit: PodInfo = {
      ...pendingPod("a", { cpu: "1", memory: "1Gi" }),
      unschedulable: {
        message:
          "0/2 nodes are available: 2 node(s) exceed max volume count. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
      },
    };
    const existing = [bin("worker-1", room(8000, 32 * GI)), bin("worker-2", room(8000, 32 * GI))];
    const result = packPendingPods([atLimit], existing, template, 5);
    expect(result.onNew).toEqual([
      expect.objectContaining({
        pod: "default/a",
        node: "new-1",
        keptOff: { nodes: 2, volumeLimit: true },
      }),
    ]);
    expect(keptOffText({ nodes: 2, volumeLimit: true })).toBe(
      "existing nodes are at their volume limit",
    );
  });

  it("says a pod sent to a new node found no existing node only when there is one", () => {
    const pods = [pendingPod("a", { cpu: "1", memory: "1Gi" })];
    const result = packPendingPods(pods, [], template, 5);
    expect(result.onNew[0]?.node).toBe("new-1");
    expect(result.onNew[0]).not.toHaveProperty("keptOff");
  });

  it("packs largest first so fewer nodes are needed", () => {
    // 3 + 1 and 3 + 1 fit two 4-cpu nodes only when the big pods go first.
    const pods = ["1", "1", "3", "3"].map((cpu, i) => pendingPod(`p${i}`, { cpu, memory: "1Gi" }));
    const result = packPendingPods(pods, [], template, 10);
    expect(result.newNodes).toBe(2);
    expect(result.onNew.map((p) => p.node).sort()).toEqual(["new-1", "new-1", "new-2", "new-2"]);
  });

  it("lists pods that can never fit a new node, with why, and adds no node for them", () => {
    const pods = [
      pendingPod("huge", { cpu: "1", memory: "64Gi" }),
      pendingPod("ssd", { cpu: "1", nodeSelector: { disk: "ssd" } }),
      pendingPod("zone", {
        affinity: [{ matchExpressions: [{ key: "pool", operator: "In", values: ["gpu"] }] }],
      }),
      pendingPod("gpu", { extended: { "nvidia.com/gpu": 1 } }),
    ];
    const result = packPendingPods(pods, [], template, 10);
    expect(result.newNodes).toBe(0);
    expect(result.neverFit.map((p) => [p.pod, p.reason, p.resource])).toEqual([
      ["default/huge", "too-large", "memory"],
      ["default/ssd", "node-selector", undefined],
      ["default/gpu", "too-large", "nvidia.com/gpu"],
      ["default/zone", "node-affinity", undefined],
    ]);
  });

  it("adds no node for a pod asking for an extended resource whose amount on one is unknown", () => {
    const pods = [
      pendingPod("gpu", { extended: { "nvidia.com/gpu": 1 } }),
      pendingPod("huge-gpu", { memory: "64Gi", extended: { "nvidia.com/gpu": 1 } }),
    ];
    const unknown = { ...template, unknownExtended: ["nvidia.com/gpu"] };
    const result = packPendingPods(pods, [], unknown, 10);
    expect(result.newNodes).toBe(0);
    // Too large in memory it never fits, whatever the GPUs.
    expect(result.neverFit.map((p) => [p.pod, p.reason, p.resource])).toEqual([
      ["default/huge-gpu", "too-large", "memory"],
      ["default/gpu", "extended-unknown", "nvidia.com/gpu"],
    ]);
  });

  it("places a pod that only an existing node admits there, not on a new node", () => {
    const pods = [pendingPod("ssd", { cpu: "1", nodeSelector: { disk: "ssd" } })];
    const existing = [
      bin("worker-1", room(4000, 8 * GI)),
      bin("worker-2", room(4000, 8 * GI), { disk: "ssd" }),
    ];
    const result = packPendingPods(pods, existing, template, 10);
    expect(result.onExisting).toEqual([
      expect.objectContaining({ pod: "default/ssd", node: "worker-2" }),
    ]);
  });

  it("gives the existing room to the pods the fewest existing nodes take first", () => {
    // Room for one pod on each node. The larger pod would go first and take worker-1's, which
    // is the only room the ssd pod could use; it goes on worker-2 instead.
    const pods = [
      pendingPod("big", { cpu: "1100m", memory: "1Gi" }),
      pendingPod("ssd", { cpu: "1", memory: "1Gi", nodeSelector: { disk: "ssd" } }),
    ];
    const existing = [
      bin("worker-1", room(1200, 8 * GI), { disk: "ssd" }),
      bin("worker-2", room(1200, 8 * GI)),
    ];
    const result = packPendingPods(pods, existing, template, 10);
    expect(result.onExisting.map((p) => [p.pod, p.node])).toEqual([
      ["default/ssd", "worker-1"],
      ["default/big", "worker-2"],
    ]);
    expect(result.newNodes).toBe(0);
  });

  it("keeps the room of the one node a pod of lower priority could use from a pod of higher priority that fits elsewhere", () => {
    // big is served first; worker-1's room is all ssd could use, and worker-2 holds big too.
    const pods = [
      { ...pendingPod("big", { cpu: "1100m", memory: "1Gi" }), priority: 1000 },
      pendingPod("ssd", { cpu: "1", memory: "1Gi", nodeSelector: { disk: "ssd" } }),
    ];
    const existing = [
      bin("worker-1", room(1200, 8 * GI), { disk: "ssd" }),
      bin("worker-2", room(1200, 8 * GI)),
    ];
    const result = packPendingPods(pods, existing, template, 10);
    expect(result.onExisting.map((p) => [p.pod, p.node])).toEqual([
      ["default/big", "worker-2"],
      ["default/ssd", "worker-1"],
    ]);
    expect(result.newNodes).toBe(0);
  });

  it("gives the pod of higher priority the room of the one node both could use", () => {
    const pods = [
      { ...pendingPod("big", { cpu: "1100m", memory: "1Gi" }), priority: 1000 },
      pendingPod("ssd", { cpu: "1", memory: "1Gi", nodeSelector: { disk: "ssd" } }),
    ];
    const existing = [
      bin("worker-1", room(1200, 8 * GI), { disk: "ssd" }),
      bin("worker-2", room(800, 8 * GI)),
    ];
    const ssd = { ...template, traits: { labels: { disk: "ssd" }, taints: [] } };
    const result = packPendingPods(pods, existing, ssd, 10);
    expect(result.onExisting.map((p) => [p.pod, p.node])).toEqual([["default/big", "worker-1"]]);
    expect(result.onNew.map((p) => [p.pod, p.node])).toEqual([["default/ssd", "new-1"]]);
  });

  it("counts the rules that depend on other pods among what keeps a pod off a node", () => {
    // Both pods take host port 443, free on worker-1 alone: each has one node, and the larger
    // goes first there, as without the count.
    const hostPorts = [{ port: 443, protocol: "TCP" as const }];
    const pods = [
      pendingPod("big", { cpu: "1100m", memory: "1Gi", hostPorts }),
      pendingPod("ssd", { cpu: "1", memory: "1Gi", nodeSelector: { disk: "ssd" }, hostPorts }),
    ];
    const existing = [
      bin("worker-1", room(1200, 8 * GI), { disk: "ssd" }),
      bin("worker-2", room(1200, 8 * GI)),
    ];
    const ingress = pod("ingress/controller", { node: "worker-2", cpu: "100m", hostPorts });
    const cluster = buildSnapshot({
      nodes: [node("worker-1"), node("worker-2")],
      pods: [ingress, ...pods],
    });
    const rules = peerRules(indexCluster(cluster), pods);
    const result = packPendingPods(pods, existing, template, 10, rules);
    expect(result.onExisting.map((p) => [p.pod, p.node])).toEqual([["default/big", "worker-1"]]);
  });

  it("names what a pod sent to a new node lacked before the pending pods ahead of it took theirs", () => {
    // big takes worker-1's cpu; small lacked memory there already, and that alone is named.
    const pods = [
      pendingPod("big", { cpu: "2", memory: "1Gi" }),
      pendingPod("small", { cpu: "600m", memory: "5Gi" }),
    ];
    const result = packPendingPods(pods, [bin("worker-1", room(2500, 3 * GI))], template, 10);
    expect(result.onNew).toEqual([
      expect.objectContaining({
        pod: "default/small",
        keptOff: { nodes: 1, room: { nodes: 1, node: "worker-1", resources: ["memory"] } },
      }),
    ]);
  });

  it("stops at the allowed number of new nodes and reports the rest", () => {
    const pods = ["3", "3", "3"].map((cpu, i) => pendingPod(`p${i}`, { cpu }));
    const result = packPendingPods(pods, [], template, 2);
    expect(result.newNodes).toBe(2);
    expect(result.overMax.map((p) => p.pod)).toEqual(["default/p2"]);
  });

  it("counts the pod slots of a node", () => {
    const tiny: NewBinTemplate = { ...template, room: room(4000, 16 * GI, 2) };
    const pods = ["a", "b", "c"].map((name) => pendingPod(name, { cpu: "10m" }));
    expect(packPendingPods(pods, [], tiny, 10).newNodes).toBe(2);
  });

  it("says the shape is unknown when there is no template", () => {
    const result = packPendingPods([pendingPod("a", { cpu: "1" })], [], undefined, 10);
    expect(result.neverFit.map((p) => p.reason)).toEqual(["shape-unknown"]);
  });
});

describe("packOntoNodes", () => {
  it("returns the pods that find no room", () => {
    const pods = [
      pendingPod("a", { cpu: "2" }),
      pendingPod("b", { cpu: "2" }),
      pendingPod("c", { cpu: "1" }),
    ];
    const unplaced = packOntoNodes(pods, [bin("w1", room(2500, GI)), bin("w2", room(2000, GI))]);
    expect(unplaced.map((entry) => [podKey(entry.pod), entry.cause])).toEqual([
      ["default/c", "room"],
    ]);
  });

  it("moves the pods the fewest nodes take first, so each finds room", () => {
    // Largest first, big takes w1, the only node ssd may go on, and ssd finds no room.
    const pods = [
      pendingPod("big", { cpu: "1100m", memory: "1Gi" }),
      pendingPod("ssd", { cpu: "1", memory: "1Gi", nodeSelector: { disk: "ssd" } }),
    ];
    const bins = [bin("w1", room(1200, 8 * GI), { disk: "ssd" }), bin("w2", room(1200, 8 * GI))];
    const placed = new Map<PodInfo, Bin>();
    expect(packOntoNodes(pods, bins, undefined, placed)).toEqual([]);
    expect([...placed].map(([pod, to]) => [podKey(pod), to.name])).toEqual([
      ["default/ssd", "w1"],
      ["default/big", "w2"],
    ]);
  });

  it("names the rule that keeps a pod off the nodes with room", () => {
    const tainted = bin("w2", room(4000, GI));
    tainted.traits = {
      ...tainted.traits,
      taints: [{ key: "dedicated", value: "media", effect: "NoSchedule" }],
    };
    const pods = [pendingPod("a", { cpu: "2" }), pendingPod("b", { cpu: "1" })];
    const unplaced = packOntoNodes(pods, [bin("w1", room(2500, GI)), tainted]);
    expect(unplaced.map((entry) => [podKey(entry.pod), entry.cause])).toEqual([
      ["default/b", "taints"],
    ]);
  });

  it("tells a pod that had room before the others took it from one no node has room for", () => {
    // c fits w1 alone (1 of 2.5 cpu); a and b, placed first, leave 0.5 and 0.
    const together = packOntoNodes(
      [pendingPod("a", { cpu: "2" }), pendingPod("b", { cpu: "2" }), pendingPod("c", { cpu: "1" })],
      [bin("w1", room(2500, GI)), bin("w2", room(2000, GI))],
    );
    expect(together).toEqual([
      expect.objectContaining({ cause: "room", resources: ["cpu"], afterOthers: true }),
    ]);
    const alone = packOntoNodes([pendingPod("d", { cpu: "3" })], [bin("w1", room(2500, GI))]);
    expect(alone).toEqual([expect.objectContaining({ cause: "room", resources: ["cpu"] })]);
    expect(alone[0]).not.toHaveProperty("afterOthers");
    // The room f lacks was on w1, but w1 carries a taint f does not tolerate: e took it.
    const tainted = bin("w1", room(2000, GI));
    tainted.traits = {
      ...tainted.traits,
      taints: [{ key: "dedicated", value: "media", effect: "NoSchedule" }],
    };
    const kept = packOntoNodes(
      [
        pendingPod("e", {
          cpu: "1500m",
          tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoSchedule" }],
        }),
        pendingPod("f", { cpu: "1" }),
      ],
      [tainted, bin("w2", room(500, GI))],
    );
    expect(kept).toEqual([expect.objectContaining({ cause: "room", resources: ["cpu"] })]);
    expect(kept[0]).not.toHaveProperty("afterOthers");
  });

  it("places a pod on a node outside the pool only once the pool's own are full, and says where", () => {
    const cp: Bin = { ...bin("cp", room(2000, GI)), outside: true };
    const w1 = bin("w1", room(1500, GI));
    const placed = new Map<PodInfo, Bin>();
    const pods = [pendingPod("a", { cpu: "1" }), pendingPod("b", { cpu: "1" })];
    expect(packOntoNodes(pods, [w1, cp], undefined, placed)).toEqual([]);
    expect([...placed].map(([pod, to]) => [podKey(pod), to.name])).toEqual([
      ["default/a", "w1"],
      ["default/b", "cp"],
    ]);
  });

  it("names the nodes outside the pool among those short of room, and leaves out one the pod's taints rule out", () => {
    const cp: Bin = { ...bin("cp", room(2000, GI)), outside: true };
    const short = packOntoNodes([pendingPod("a", { cpu: "3" })], [bin("w1", room(2500, GI)), cp]);
    expect(short).toEqual([
      expect.objectContaining({ cause: "room", resources: ["cpu"], outside: ["cp"] }),
    ]);
    // A tainted control plane with room is no node this pod could go to: not "taints", and
    // with no pool node left, no node at all.
    const tainted: Bin = {
      ...cp,
      traits: {
        ...cp.traits,
        taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
      },
    };
    const ruledOut = packOntoNodes(
      [pendingPod("b", { cpu: "3" })],
      [bin("w1", room(2500, GI)), tainted],
    );
    expect(ruledOut).toEqual([expect.objectContaining({ cause: "room", resources: ["cpu"] })]);
    expect(ruledOut[0]).not.toHaveProperty("outside");
    const alone = packOntoNodes([pendingPod("c", { cpu: "1" })], [tainted]);
    expect(alone).toEqual([expect.objectContaining({ cause: "no-node" })]);
  });
});

const podArb = fc.record({
  cpu: fc.integer({ min: 0, max: 5000 }),
  memoryMi: fc.integer({ min: 0, max: 20 * 1024 }),
  ssd: fc.boolean(),
});
const binArb = fc.record({
  cpu: fc.integer({ min: 0, max: 8000 }),
  memoryMi: fc.integer({ min: 0, max: 32 * 1024 }),
  pods: fc.integer({ min: 0, max: 20 }),
  ssd: fc.boolean(),
});

function toPods(specs: { cpu: number; memoryMi: number; ssd: boolean }[]): PodInfo[] {
  return specs.map((spec, i) =>
    pendingPod(`p${i}`, {
      cpu: `${spec.cpu}m`,
      memory: `${spec.memoryMi}Mi`,
      ...(spec.ssd ? { nodeSelector: { disk: "ssd" } } : {}),
    }),
  );
}

function toBins(specs: { cpu: number; memoryMi: number; pods: number; ssd: boolean }[]): Bin[] {
  return specs.map((spec, i) =>
    bin(
      `worker-${i}`,
      room(spec.cpu, spec.memoryMi * 2 ** 20, spec.pods),
      spec.ssd ? { disk: "ssd" } : {},
    ),
  );
}

/** Sums of cpu, memory and pod slots placed on each node. */
function loads(pods: PodInfo[], placements: { pod: string; node: string }[]): Map<string, Room> {
  const byKey = new Map(pods.map((pod) => [podKey(pod), pod]));
  const result = new Map<string, Room>();
  for (const placement of placements) {
    const pod = byKey.get(placement.pod) as PodInfo;
    const load = result.get(placement.node) ?? room(0, 0, 0);
    load.cpu += pod.requests.cpu ?? 0;
    load.memory += pod.requests.memory ?? 0;
    load.pods += 1;
    result.set(placement.node, load);
  }
  return result;
}

describe("packPendingPods properties", () => {
  it("never over-commits a node, existing or new, and respects selectors", () => {
    fc.assert(
      fc.property(
        fc.array(podArb, { maxLength: 40 }),
        fc.array(binArb, { maxLength: 6 }),
        fc.integer({ min: 0, max: 30 }),
        (podSpecs, binSpecs, maxNew) => {
          const pods = toPods(podSpecs);
          const bins = toBins(binSpecs);
          const before = new Map(bins.map((b) => [b.name, { ...b.room }]));
          const result = packPendingPods(pods, bins, template, maxNew);
          for (const [name, load] of loads(pods, [...result.onExisting, ...result.onNew])) {
            const capacity = before.get(name) ?? template.room;
            expect(load.cpu).toBeLessThanOrEqual(capacity.cpu);
            expect(load.memory).toBeLessThanOrEqual(capacity.memory);
            expect(load.pods).toBeLessThanOrEqual(capacity.pods);
          }
          for (const placed of result.onExisting) {
            const wantsSsd = podSpecs[Number(placed.pod.slice("default/p".length))]?.ssd;
            if (wantsSsd)
              expect(bins.find((b) => b.name === placed.node)?.traits.labels.disk).toBe("ssd");
          }
          // Pods selecting disk=ssd can never go on the template's new nodes.
          expect(
            result.onNew.every((p) => !podSpecs[Number(p.pod.slice("default/p".length))]?.ssd),
          ).toBe(true);
          const accounted =
            result.onExisting.length +
            result.onNew.length +
            result.neverFit.length +
            result.overMax.length;
          expect(accounted).toBe(pods.length);
          expect(result.newNodes).toBeLessThanOrEqual(maxNew);
          if (result.overMax.length > 0) expect(result.newNodes).toBe(maxNew);
        },
      ),
    );
  });

  it("adds no more nodes than needed: no two new nodes could be merged, and never fewer than the totals need", () => {
    fc.assert(
      fc.property(fc.array(podArb, { maxLength: 60 }), (podSpecs) => {
        const pods = toPods(podSpecs);
        const result = packPendingPods(pods, [], template, 1000);
        const perNode = [...loads(pods, result.onNew).values()];
        expect(perNode).toHaveLength(result.newNodes);
        for (let i = 0; i < perNode.length; i++)
          for (let j = i + 1; j < perNode.length; j++) {
            const a = perNode[i] as Room;
            const b = perNode[j] as Room;
            const mergeable =
              a.cpu + b.cpu <= template.room.cpu &&
              a.memory + b.memory <= template.room.memory &&
              a.pods + b.pods <= template.room.pods;
            expect(mergeable).toBe(false);
          }
        const total = perNode.reduce(
          (sum, load) => ({ cpu: sum.cpu + load.cpu, memory: sum.memory + load.memory }),
          { cpu: 0, memory: 0 },
        );
        const lowerBound = Math.max(
          Math.ceil(total.cpu / template.room.cpu),
          Math.ceil(total.memory / template.room.memory),
        );
        expect(result.newNodes).toBeGreaterThanOrEqual(lowerBound);
      }),
    );
  });
});
