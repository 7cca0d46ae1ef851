import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision, keptOffText } from "../../src/planning/explain-node-decision.ts";
import type { NodeInfo } from "../../src/planning/snapshot.ts";
import { buildSnapshot, nodes, pdb, pendingPod, pod } from "../support/snapshot-builder.ts";
import { BUSY, kinds, NOW, planOne } from "./plan-helpers.ts";

describe("explainNodeDecision", () => {
  it("explains a scale-up with its packing, and pods that never fit", () => {
    const workers = nodes(2, { usage: { cpu: "2", memory: "8Gi" } });
    const snapshot = buildSnapshot({
      nodes: workers,
      pods: [
        ...workers.map((w) => pod(`fill/${w.name}`, { node: w.name, cpu: "3500m" })),
        pendingPod("web/a", { cpu: "3", memory: "2Gi" }),
        pendingPod("ml/huge", { cpu: "1", memory: "64Gi" }),
        pendingPod("ml/both", { cpu: "6", memory: "24Gi" }),
      ],
    });
    const lines = explainNodeDecision(
      planOne(snapshot, {}, { facts: { openPullRequest: { number: 4 } } }),
    );
    expect(lines[0]).toBe("pool workers (terraform/terraform.tfvars worker_count): scale up 2 → 3");
    expect(lines).toContain("  pull request: update #4 to 3");
    expect(lines).toContain("  trigger: 1 pending pod needs 1 new node");
    expect(lines).toContain(
      "  pending: web/a (cpu 3, memory 2 GiB) → new-1 (existing nodes: worker-1 and 1 more have too little cpu free)",
    );
    expect(lines).toContain(
      "  never fits: ml/huge (cpu 1, memory 64 GiB): needs more memory than a new node has (asks for 64 GiB memory, a new node has 16 GiB)",
    );
    // Several resources: each named, in the request and in what a new node has.
    expect(lines).toContain(
      "  never fits: ml/both (cpu 6, memory 24 GiB): needs more cpu and memory than a new node has (asks for 6 cpu and 24 GiB memory, a new node has 4 cpu and 16 GiB memory)",
    );
    expect(lines).toContain(
      "  new node: 4 cpu, 16 GiB memory, 110 pods (learned, most-common allocatable, like worker-1 and 1 other)",
    );
    expect(lines.some((line) => line.startsWith("  scale-down:"))).toBe(false);
  });

  it("counts one node in the singular, and names no others when a shape was learned from one", () => {
    const snapshot = buildSnapshot({ nodes: nodes(1, { usage: { cpu: "2", memory: "8Gi" } }) });
    const lines = explainNodeDecision(planOne(snapshot, { min: 2 }));
    expect(lines).toContain("  trigger: count 1 is below the min of 2");
    expect(lines).toContain(
      "  new node: 4 cpu, 16 GiB memory, 110 pods (learned, most-common allocatable, like worker-1)",
    );
  });

  it("names the node a new node's ephemeral storage is taken from, as its cpu", () => {
    // An 8-core VM with a 100 GiB disk beside a 4-core one with 40 GiB: a new VM may be either.
    const [big, small] = nodes(2, { usage: { cpu: "1", memory: "4Gi" } }) as [NodeInfo, NodeInfo];
    big.allocatable = { ...big.allocatable, cpu: 8000, ephemeralStorage: 100 * 2 ** 30 };
    small.allocatable = {
      ...small.allocatable,
      memory: 32 * 2 ** 30,
      ephemeralStorage: 40 * 2 ** 30,
    };
    const lines = explainNodeDecision(
      planOne(buildSnapshot({ nodes: [big, small] }), { min: 3, newNode: { from: "smallest" } }),
    );
    expect(lines).toContain(
      "  new node: 4 cpu, 16 GiB memory, 110 pods (learned, smallest allocatable, like worker-1, but for the cpu of worker-2 and the ephemeral storage of worker-2, the least in the pool)",
    );
  });

  it("explains a scale-down with the node it removes and each condition", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(3, { usage: { cpu: "400m", memory: "2Gi" } }),
      pods: [pod("web/a", { node: "worker-3", cpu: "100m", memory: "128Mi" })],
    });
    const lines = explainNodeDecision(planOne(snapshot));
    expect(lines[0]).toBe(
      "pool workers (terraform/terraform.tfvars worker_count): scale down 3 → 2, removing worker-3",
    );
    expect(lines).toContain("  scale-down: cpu < 30 % for 10m: met (usage-window, 10 %)");
    expect(lines).toContain("  scale-down: cpu after removal 15 % < 70 %: met");
    expect(lines).toContain("  scale-down: worker-3 has no blockers: met");
    expect(lines).toContain(
      "  scale-down: worker-3 goes alone: it runs 1 pod, and only empty nodes go together",
    );
  });

  it("explains empty nodes removed together and where the bulk stops", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(4, { usage: { cpu: "400m", memory: "2Gi" } }),
      pods: [pod("web/a", { node: "worker-2", cpu: "100m", memory: "128Mi" })],
    });
    const lines = explainNodeDecision(planOne(snapshot, { scaleDown: { maxEmptyBulk: 10 } }));
    expect(lines[0]).toBe(
      "pool workers (terraform/terraform.tfvars worker_count): scale down 4 → 2, removing worker-4, worker-3",
    );
    expect(lines).toContain(
      "  scale-down: 2 empty nodes go together (at most 10): worker-4, worker-3; not worker-2 too: it runs 1 pod, and a node with pods goes alone",
    );
  });

  it("explains pending pods that have not waited long enough to add nodes", () => {
    const workers = nodes(2, { usage: { cpu: "2", memory: "8Gi" } });
    const snapshot = buildSnapshot({
      nodes: workers,
      pods: [
        ...workers.map((w) => pod(`fill/${w.name}`, { node: w.name, cpu: "3500m" })),
        {
          ...pendingPod("web/a", { cpu: "1" }),
          createdAt: new Date(NOW.getTime() - 30_000).toISOString(),
        },
      ],
    });
    const lines = explainNodeDecision(planOne(snapshot, { scaleUp: { pendingFor: "2m" } }));
    expect(lines[0]).toBe("pool workers (terraform/terraform.tfvars worker_count): no change at 2");
    expect(lines).toContain(
      "  hold: 1 pending pod needs new nodes but has waited less than 2m (scaleUp.pendingFor); nodes are added for it from 2025-06-06 12:01:30 UTC if it still waits, and none is removed for low usage meanwhile",
    );
  });

  it("explains a non-decision: what was wanted, what held it, and the blockers", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(3, { usage: { cpu: "400m", memory: "2Gi" } }),
      pods: [
        pod("db/pg-0", {
          node: "worker-3",
          labels: { app: "pg" },
          volumes: [{ name: "data", type: "emptyDir" }],
        }),
      ],
      pdbs: [pdb("db/pg", { app: "pg" }, 0)],
    });
    const cooling = {
      lastChange: {
        at: new Date(NOW.getTime() - 60_000).toISOString(),
        direction: "down" as const,
      },
    };
    const lines = explainNodeDecision(planOne(snapshot, {}, { facts: cooling }));
    expect(lines[0]).toBe("pool workers (terraform/terraform.tfvars worker_count): no change at 3");
    expect(lines).toContain("  trigger: usage and requests stayed below the scale-down thresholds");
    expect(lines.some((line) => line.startsWith("  hold: cooldown after the change of"))).toBe(
      true,
    );
    expect(lines).toContain(
      "  blockers on worker-3: db/pg-0: local storage data (emptyDir) (set scaleDown.deleteEmptyDirData if its data may go with the node); db/pg-0: PDB db/pg allows 0 disruptions, 1 of its pods is here",
    );
  });

  it("says when usage is unknown and the window has no evidence", () => {
    const sample = { usage: { cpu: "3900m", memory: "2Gi", source: "metrics-server" as const } };
    const lines = explainNodeDecision(planOne(buildSnapshot({ nodes: nodes(2, sample) })));
    expect(lines).toContain(
      "  scale-up check: cpu ≥ 80 % for 5m: no evidence over the window (usage covers 30s, no history, now 98 %; a window needs Prometheus over it or samples kept across it)",
    );
  });
});

describe("explainNodeDecision: why a Prometheus window is no evidence", () => {
  const quietCheck = (lines: string[]) =>
    lines.find((line) => line.startsWith("  scale-down: cpu < 30 % for 10m:"));

  it("names a window Prometheus covers only part of", () => {
    const idle = { usage: { cpu: "400m", memory: "2Gi", windowSeconds: 180 } };
    const lines = explainNodeDecision(planOne(buildSnapshot({ nodes: nodes(3, idle) })));
    expect(quietCheck(lines)).toBe(
      "  scale-down: cpu < 30 % for 10m: no evidence over the window (usage covers 3m, no history, now 10 %; Prometheus' points do not reach back over the whole window)",
    );
  });

  it("says Prometheus was asked for less than the window, however far back its data goes", () => {
    // Its points cover all 5 minutes asked for: more points exist, but a longer window must be
    // asked for to read them.
    const idle = { usage: { cpu: "400m", memory: "2Gi", windowSeconds: 300 } };
    const snapshot = buildSnapshot({ nodes: nodes(3, idle) });
    snapshot.metrics.windowSeconds = 300;
    const lines = explainNodeDecision(planOne(snapshot));
    expect(quietCheck(lines)).toBe(
      "  scale-down: cpu < 30 % for 10m: no evidence over the window (usage covers 5m, no history, now 10 %; Prometheus was asked for 5m of usage, less than the window: take the snapshot with --prometheus-window 10m (plan and the app ask for the longest window a check judges))",
    );
  });

  it("says a saved usage that does not tell the gap between Prometheus' points is not taken as held", () => {
    const idle = { usage: { cpu: "400m", memory: "2Gi", gapSeconds: null } };
    const lines = explainNodeDecision(planOne(buildSnapshot({ nodes: nodes(3, idle) })));
    expect(quietCheck(lines)).toBe(
      "  scale-down: cpu < 30 % for 10m: no evidence over the window (usage covers 1h, no history, now 10 %; the usage does not say how far apart Prometheus' points lie (no gapSeconds in the snapshot), so its window is not taken as held)",
    );
  });

  it("names the gap between Prometheus' points and the longest it may be", () => {
    const idle = { usage: { cpu: "400m", memory: "2Gi" } };
    const snapshot = buildSnapshot({ nodes: nodes(3, idle) });
    for (const node of snapshot.nodes) if (node.usage) node.usage.gapSeconds = 480;
    const lines = explainNodeDecision(planOne(snapshot));
    expect(quietCheck(lines)).toBe(
      "  scale-down: cpu < 30 % for 10m: no evidence over the window (usage covers 1h, no history, now 10 %; Prometheus' points leave a gap of 8m, more than 5m)",
    );
  });

  it("names the missing percentile, which staying below is judged by", () => {
    const idle = { usage: { cpu: "400m", memory: "2Gi", peak: false as const } };
    const lines = explainNodeDecision(planOne(buildSnapshot({ nodes: nodes(3, idle) })));
    expect(quietCheck(lines)).toBe(
      "  scale-down: cpu < 30 % for 10m: no evidence over the window (usage covers 1h, no history, now 10 %; Prometheus gave no percentile over its window, which staying below is judged by)",
    );
  });
});

describe("explainNodeDecision: a node whose allocatable is unknown", () => {
  it("says its allocatable, not its usage, is what is unknown", () => {
    const idle = { usage: { cpu: "400m", memory: "2Gi" } };
    const snapshot = buildSnapshot({
      nodes: [...nodes(2, idle), ...nodes(1, { usage: { memory: "2Gi" } }, "worker-", 3)],
    });
    const second = snapshot.nodes[1];
    if (!second) throw new Error("no second node");
    delete second.allocatable.cpu;
    const decision = planOne(snapshot);
    expect(decision.utilisation.cpu.unknownAllocatable).toEqual(["worker-2"]);
    const lines = explainNodeDecision(decision);
    expect(lines).toContain(
      "  utilisation: cpu usage unknown (worker-3), allocatable missing or 0 (worker-2), requests unknown; memory 13 % (prometheus over 1h, lowest 13 %, p95 13 %), requests 0 %",
    );
    expect(lines).toContain(
      "  hold: cpu usage unknown on worker-3, allocatable missing or 0 on worker-2; no decision is taken on the pool's usage (unknown is not zero)",
    );
    // The checks left unknown name the same nodes, not the pool's usage as never observed.
    expect(lines).toContain(
      "  scale-down: cpu < 30 % for 10m: unknown, usage not observed on worker-3, allocatable missing or 0 on worker-2",
    );
    expect(decision.utilisation.checks).toContainEqual(
      expect.objectContaining({
        resource: "cpu",
        outcome: "unknown",
        unknownNodes: ["worker-2", "worker-3"],
        unknownAllocatable: ["worker-2"],
      }),
    );
  });
});

describe("explainNodeDecision: a wanted scale-down that its conditions refuse", () => {
  const quiet = { usage: { cpu: "400m", memory: "2Gi" } };

  it("leads with what refused it, right after the trigger, and gives it as data", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(3, quiet),
      pods: [pod("tools/debug", { node: "worker-3", owner: null })],
    });
    const decision = planOne(snapshot);
    expect(decision).toMatchObject({ action: "none", holds: [] });
    expect(decision.scaleDown.refusedBy).toEqual([
      {
        kind: "no-blockers",
        met: false,
        node: "worker-3",
        blockers: [{ kind: "bare-pod", pod: "tools/debug" }],
      },
    ]);
    const lines = explainNodeDecision(decision);
    const trigger = lines.indexOf(
      "  trigger: usage and requests stayed below the scale-down thresholds",
    );
    expect(trigger).toBeGreaterThan(0);
    expect(lines[trigger + 1]).toBe("  not removed: worker-3 has 1 blocker");
  });

  it("names the min when the pool is quiet at its min", () => {
    const decision = planOne(buildSnapshot({ nodes: nodes(3, quiet) }), { min: 3 });
    expect(decision.scaleDown.refusedBy).toEqual([
      { kind: "above-min", met: false, current: 3, min: 3 },
    ]);
    expect(explainNodeDecision(decision)).toContain(
      "  not removed: count 3 is not above the min of 3",
    );
  });

  it("names the projection that would bring the node back", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(3, { usage: { cpu: "1480m", memory: "2Gi" } }),
    });
    const decision = planOne(snapshot, { scaleUp: { cpu: 55 }, scaleDown: { cpu: 40 } });
    expect(decision.scaleDown.refusedBy).toEqual([
      expect.objectContaining({ kind: "projection", resource: "cpu", met: false, limit: 45 }),
    ]);
    expect(explainNodeDecision(decision)).toContain(
      "  not removed: cpu after removal would be 56 %, not below 45 %",
    );
  });

  it("says above the host cap that the bounds decide, and refuses only on the node itself", () => {
    const sampled = { usage: { cpu: "400m", memory: "2Gi", source: "metrics-server" as const } };
    const snapshot = buildSnapshot({
      nodes: nodes(4, sampled),
      pods: [pod("tools/debug", { node: "worker-4", owner: null })],
    });
    const decision = planOne(snapshot, { host: { maxNodes: 3 } });
    expect(decision.action).toBe("none");
    // Usage has no evidence over its window, and is not among the reasons the node stays.
    expect(kinds(decision.scaleDown.refusedBy ?? [])).toEqual(["no-blockers"]);
    const lines = explainNodeDecision(decision);
    expect(lines).toContain("  not removed: worker-4 has 1 blocker");
    expect(lines).toContain(
      "  scale-down: above the host cap the bounds decide, not usage: the node goes when nothing blocks it and its pods fit elsewhere (usage and requests decide only whether empty nodes go with it, up to scaleDown.maxEmptyBulk in all)",
    );
  });

  it("says nothing was refused when no scale-down was wanted", () => {
    const decision = planOne(buildSnapshot({ nodes: nodes(3, BUSY) }));
    expect(decision.scaleDown.refusedBy).toBeUndefined();
    expect(explainNodeDecision(decision).some((line) => line.includes("not removed"))).toBe(false);
  });

  it("leaves out the scale-down conditions while more nodes are wanted and held back", () => {
    const workers = nodes(2, BUSY);
    const snapshot = buildSnapshot({
      nodes: workers,
      pods: [
        ...workers.map((w) => pod(`fill/${w.name}`, { node: w.name, cpu: "3500m" })),
        pendingPod("web/a", { cpu: "3" }),
      ],
    });
    const cooling = {
      lastChange: { at: new Date(NOW.getTime() - 60_000).toISOString(), direction: "up" as const },
    };
    const decision = planOne(snapshot, {}, { facts: cooling });
    expect(decision.action).toBe("none");
    expect(kinds(decision.holds)).toEqual(["cooldown"]);
    const lines = explainNodeDecision(decision);
    expect(lines).toContain("  trigger: 1 pending pod needs 1 new node");
    expect(lines.filter((line) => line.startsWith("  scale-down:"))).toEqual([]);
  });
});

describe("explainNodeDecision: the scale-up check of requests", () => {
  const requested = (cpu: string) => {
    const workers = nodes(2, BUSY);
    return buildSnapshot({
      nodes: workers,
      pods: workers.map((w) => pod(`web/${w.name}`, { node: w.name, cpu, memory: "1Gi" })),
    });
  };

  it("shows requests below `scaleUp.requests` with their value and threshold", () => {
    const decision = planOne(requested("3472m"), { scaleUp: { requests: 90 } });
    expect(decision.action).toBe("none");
    expect(decision.utilisation.requestsChecks).toEqual([
      { resource: "cpu", threshold: 90, percent: expect.closeTo(86.8, 6), met: false },
      { resource: "memory", threshold: 90, percent: 6.25, met: false },
    ]);
    const lines = explainNodeDecision(decision);
    expect(lines).toContain("  scale-up check: cpu requests 87 % ≥ 90 %: not met");
    expect(lines).toContain("  scale-up check: memory requests 6.3 % ≥ 90 %: not met");
  });

  it("shows a met check beside its trigger, and none when `scaleUp.requests` is not set", () => {
    const met = planOne(requested("3800m"), { scaleUp: { requests: 90 } });
    expect(explainNodeDecision(met)).toContain("  scale-up check: cpu requests 95 % ≥ 90 %: met");
    const unset = planOne(requested("3800m"));
    expect(unset.utilisation.requestsChecks).toBeUndefined();
    expect(explainNodeDecision(unset).some((line) => line.includes("check: cpu requests"))).toBe(
      false,
    );
  });

  it("compares no figure when requests are unknown (a node without cpu allocatable)", () => {
    const snapshot = requested("1");
    const second = snapshot.nodes[1];
    if (!second) throw new Error("no second node");
    delete second.allocatable.cpu;
    const decision = planOne(snapshot, { scaleUp: { requests: 90 } });
    const lines = explainNodeDecision(decision);
    expect(lines).toContain("  scale-up check: cpu requests ≥ 90 %: unknown, so not met");
    expect(lines).toContain("  scale-down: cpu requests < 50 %: unknown, so not met");
    expect(lines.some((line) => line.includes("requests unknown <"))).toBe(false);
  });
});

describe("explainNodeDecision: numbers that agree with their verdicts", () => {
  it("prints requests of 49.7 % against 50 % as 49.7 %, not as 50 % < 50 %", () => {
    const workers = nodes(4, { usage: { cpu: "400m", memory: "2Gi" } });
    const snapshot = buildSnapshot({
      nodes: workers,
      pods: workers.map((w) => pod(`web/${w.name}`, { node: w.name, cpu: "1988m" })),
    });
    const decision = planOne(snapshot);
    expect(decision.action).toBe("scale-down");
    const lines = explainNodeDecision(decision);
    expect(lines).toContain("  scale-down: cpu requests 49.7 % < 50 %: met");
    expect(lines.join("\n")).toContain("requests 50 %;");
  });
});

describe("explainNodeDecision: the host cap", () => {
  const host = { memory: "64Gi", reserved: { memory: "8Gi" }, node: { memory: "16Gi" } };

  it("names the host cap as what leaves pods pending, and writes its arithmetic truly", () => {
    const workers = nodes(3, BUSY);
    const snapshot = buildSnapshot({
      nodes: workers,
      pods: [
        ...workers.map((w) => pod(`fill/${w.name}`, { node: w.name, cpu: "3500m" })),
        pendingPod("web/p0", { cpu: "3" }),
        pendingPod("web/p1", { cpu: "3" }),
      ],
    });
    const decision = planOne(snapshot, { host });
    expect(decision.holds).toEqual([{ kind: "at-max", wanted: 5, allowed: 3, bound: "host-cap" }]);
    const lines = explainNodeDecision(decision);
    expect(lines).toContain(
      "  bounds: min 1, max 10, host cap 3 (memory ⌊(64 GiB − 8 GiB reserved) / 16 GiB⌋ = 3); in effect 1..3",
    );
    expect(lines).toContain(
      "  beyond host cap: 2 new nodes needed, 0 allowed (the host cap is 3); left pending: web/p0, web/p1",
    );
    expect(lines.join("\n")).not.toContain("beyond max");
  });
});

describe("keptOffText, with nodes not Ready", () => {
  it("says them after a cordon and before the other rules among equal counts", () => {
    expect(
      keptOffText({
        nodes: 7,
        rules: [
          { cause: "taints", nodes: 2, node: "talos-cp-1", tooLittleRoom: 2 },
          { cause: "unschedulable", nodes: 2, node: "talos-worker-3" },
        ],
        notReady: { nodes: 2, node: "talos-worker-4" },
        room: { nodes: 1, node: "talos-worker-1", resources: ["cpu"] },
      }),
    ).toBe(
      "existing nodes: talos-cp-1 and 1 more have a taint it does not tolerate; talos-worker-3 and 1 more have room but are cordoned (unschedulable); talos-worker-4 and 1 more are not Ready; talos-worker-1 has too little cpu free",
    );
  });

  it("says a node not Ready when it is the only existing node", () => {
    expect(keptOffText({ nodes: 1, notReady: { nodes: 1, node: "talos-worker-1" } })).toBe(
      "existing node: talos-worker-1 is not Ready",
    );
  });
});

describe("keptOffText, with Ready nodes whose room is unknown", () => {
  it("says them after those not Ready, with the count of them", () => {
    expect(
      keptOffText({
        nodes: 6,
        rules: [{ cause: "unschedulable", nodes: 2, node: "talos-worker-3" }],
        notReady: { nodes: 2, node: "talos-worker-4" },
        roomUnknown: { nodes: 2, node: "talos-worker-5" },
      }),
    ).toBe(
      "existing nodes: talos-worker-3 and 1 more have room but are cordoned (unschedulable); talos-worker-4 and 1 more are not Ready; talos-worker-5 and 1 more have room not counted on (requests of their pods or allocatable unknown)",
    );
    expect(keptOffText({ nodes: 1, roomUnknown: { nodes: 1, node: "talos-worker-1" } })).toBe(
      "existing node: talos-worker-1 has room not counted on (requests of its pods or allocatable unknown)",
    );
  });
});
