import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import type { PodInfo, Snapshot } from "../../src/planning/snapshot.ts";
import type { PoolConfigInput } from "../../src/policy/repo-config.ts";
import {
  buildSnapshot,
  type NodeSpec,
  node,
  nodes,
  pdb,
  pendingPod,
  pod,
} from "../support/snapshot-builder.ts";
import { kinds, NOW, type PlanOptions, planOne } from "./plan-helpers.ts";

/** Workers far below every scale-down threshold (10 % cpu, 12.5 % memory), over an hour. */
const QUIET: NodeSpec = { usage: { cpu: "400m", memory: "2Gi" } };

function pool(count: number, pods: PodInfo[] = [], spec: NodeSpec = QUIET) {
  return buildSnapshot({ nodes: nodes(count, spec), pods });
}

const small = (key: string, node: string, spec: Parameters<typeof pod>[1] = {}) =>
  pod(key, { node, cpu: "100m", memory: "128Mi", ...spec });

/** Plans with up to 10 empty nodes going together: bulk removal is opt-in (default 1). */
function planBulk(
  snapshot: Snapshot,
  config: Partial<PoolConfigInput> = {},
  options: PlanOptions = {},
) {
  return planOne(
    snapshot,
    { ...config, scaleDown: { maxEmptyBulk: 10, ...config.scaleDown } },
    options,
  );
}

describe("one node per decrease by default", () => {
  it("removes one empty node at a time unless scaleDown.maxEmptyBulk says more", () => {
    const decision = planOne(pool(5), { min: 1 });
    expect(decision).toMatchObject({
      action: "scale-down",
      current: 5,
      desired: 4,
      removing: ["worker-5"],
    });
    expect(decision.scaleDown.bulk).toEqual({
      maxEmptyBulk: 1,
      nodes: ["worker-5"],
      stop: { kind: "max-empty-bulk", max: 1 },
    });
    expect(explainNodeDecision(decision)).toContain(
      "  scale-down: worker-5 goes alone; no more at once: scaleDown.maxEmptyBulk is 1",
    );
  });

  it("names the min, not the setting, when the min alone leaves one node to remove", () => {
    const decision = planOne(pool(3), { min: 2 });
    expect(decision).toMatchObject({ desired: 2, removing: ["worker-3"] });
    expect(decision.scaleDown.bulk?.stop).toEqual({ kind: "min", min: 2 });
    expect(explainNodeDecision(decision)).toContain(
      "  scale-down: worker-3 goes alone; no more: the min is 2",
    );
  });
});

describe("bulk removal of empty nodes", () => {
  it("removes every empty node the naming rule picks at once, down to the min", () => {
    const decision = planBulk(pool(5), { min: 2 });
    expect(decision).toMatchObject({
      action: "scale-down",
      current: 5,
      desired: 2,
      removes: "worker-5",
      removing: ["worker-5", "worker-4", "worker-3"],
      pullRequest: { action: "open" },
    });
    // For each node taken, the utilisation with it and those before it gone: 10 % cpu and
    // 12.5 % memory of five nodes on four, three and two.
    const left = (cpu: number, memory: number) => [
      { resource: "cpu", projected: expect.closeTo(cpu, 6), limit: 70 },
      { resource: "memory", projected: expect.closeTo(memory, 6), limit: 75 },
    ];
    expect(decision.scaleDown.bulk).toEqual({
      maxEmptyBulk: 10,
      nodes: ["worker-5", "worker-4", "worker-3"],
      stop: { kind: "min", min: 2 },
      projection: [left(12.5, 15.625), left(50 / 3, 62.5 / 3), left(25, 31.25)],
    });
    expect(explainNodeDecision(decision)).toContain(
      "  scale-down: after removing all 3: cpu 25 % < 70 %, memory 31 % < 75 %",
    );
  });

  it("takes at most scaleDown.maxEmptyBulk nodes", () => {
    const two = planBulk(pool(6), { scaleDown: { maxEmptyBulk: 2 } });
    expect(two).toMatchObject({ desired: 4, removing: ["worker-6", "worker-5"] });
    expect(two.scaleDown.bulk?.stop).toEqual({ kind: "max-empty-bulk", max: 2 });
    const one = planBulk(pool(6), { scaleDown: { maxEmptyBulk: 1 } });
    expect(one).toMatchObject({ desired: 5, removing: ["worker-6"] });
  });

  it("stops at the first node with pods: they go one at a time", () => {
    const decision = planBulk(pool(5, [small("web/a", "worker-3")]));
    expect(decision).toMatchObject({ desired: 3, removing: ["worker-5", "worker-4"] });
    expect(decision.scaleDown.bulk?.stop).toEqual({ kind: "not-empty", node: "worker-3", pods: 1 });
  });

  it("removes a node with pods alone, even when the nodes after it are empty", () => {
    const decision = planBulk(pool(5, [small("web/a", "worker-5")]));
    expect(decision).toMatchObject({ action: "scale-down", desired: 4, removing: ["worker-5"] });
    expect(decision.scaleDown.bulk).toEqual({
      maxEmptyBulk: 10,
      nodes: ["worker-5"],
      stop: { kind: "not-empty", node: "worker-5", pods: 1 },
    });
  });

  it("respects the min", () => {
    const decision = planBulk(pool(4), { min: 3 });
    expect(decision).toMatchObject({ desired: 3, removing: ["worker-4"] });
    expect(decision.scaleDown.bulk?.stop).toEqual({ kind: "min", min: 3 });
  });

  it("respects a min raised by a schedule", () => {
    const schedules = [{ cron: "0 11 * * *", timezone: "UTC", duration: "2h", min: 4 }];
    const decision = planBulk(pool(6), { min: 1, schedules });
    expect(decision).toMatchObject({ desired: 4, removing: ["worker-6", "worker-5"] });
    expect(decision.scaleDown.bulk?.stop).toEqual({ kind: "min", min: 4 });
  });

  it("names only the nodes a window opening soon leaves the decrease", () => {
    // Opens at 12:10, sooner than a node removed at 12:00 could be back: the count stays at 4.
    const schedules = [{ name: "evening", cron: "10 12 * * *", duration: "1h", min: 4 }];
    const decision = planBulk(pool(5), { min: 1, schedules });
    expect(decision).toMatchObject({ desired: 4, removing: ["worker-5"] });
    expect(decision.scaleDown.bulk).toEqual({
      maxEmptyBulk: 10,
      nodes: ["worker-5"],
      stop: { kind: "schedule-soon", schedule: "evening", min: 4 },
    });
    expect(explainNodeDecision(decision)).toContain(
      "  scale-down: worker-5 goes alone; no more: schedule evening opens soon with min 4",
    );
  });

  it("gives the utilisation without the nodes a window opening soon leaves the decrease", () => {
    // Opens at 12:10 with min 3: of the five empty nodes above the min of 1, three go.
    const schedules = [{ name: "evening", cron: "10 12 * * *", duration: "1h", min: 3 }];
    const decision = planBulk(pool(6), { min: 1, schedules });
    expect(decision).toMatchObject({ desired: 3, removing: ["worker-6", "worker-5", "worker-4"] });
    expect(decision.scaleDown.bulk?.projection).toHaveLength(3);
    expect(explainNodeDecision(decision)).toContain(
      "  scale-down: after removing all 3: cpu 20 % < 70 %, memory 25 % < 75 %",
    );
  });

  it("does not count DaemonSet, mirror or finished pods", () => {
    const pods = [
      small("kube-system/cilium-5", "worker-5", {
        daemonSet: true,
        volumes: [{ name: "bpf", type: "hostPath" }],
      }),
      small("kube-system/cilium-4", "worker-4", { daemonSet: true }),
      small("kube-system/static-4", "worker-4", { mirror: true, owner: null }),
      small("batch/done-3", "worker-3", { phase: "Succeeded", owner: { kind: "Job", name: "x" } }),
    ];
    const decision = planBulk(pool(5, pods), { min: 2 });
    expect(decision).toMatchObject({
      desired: 2,
      removing: ["worker-5", "worker-4", "worker-3"],
    });
  });

  it("stops where the projection with all of them gone comes within the margin of scale-up", () => {
    // 5 × 660m = 3.3 cores: on 3 nodes 27.5 %, on 2 nodes 41.25 %, not below 50 - 10.
    const decision = planBulk(pool(5, [], { usage: { cpu: "660m", memory: "2Gi" } }), {
      scaleUp: { cpu: 50 },
    });
    expect(decision).toMatchObject({ desired: 3, removing: ["worker-5", "worker-4"] });
    expect(decision.scaleDown.bulk?.stop).toEqual({
      kind: "projection",
      node: "worker-3",
      resource: "cpu",
      projected: 41.25,
      limit: 40,
    });
  });

  it("goes no further than removals one at a time would: the pool must stay underutilised", () => {
    // 5 × 1 core: 25 % now, 31.25 % on 4 nodes, which is not below the 30 % threshold.
    const decision = planBulk(pool(5, [], { usage: { cpu: "1", memory: "2Gi" } }));
    expect(decision).toMatchObject({ desired: 4, removing: ["worker-5"] });
    expect(decision.scaleDown.bulk?.stop).toEqual({
      kind: "needed",
      node: "worker-4",
      resource: "cpu",
      projected: 31.25,
      threshold: 30,
    });
  });

  it("counts requests in that too", () => {
    // 2 × 3 cores requested on 6 × 4: 25 %, 30 % on 5 nodes, 37.5 % on 4, not below 35 %.
    const pods = ["worker-1", "worker-2"].map((name) =>
      pod(`web/${name}`, { node: name, cpu: "3" }),
    );
    const decision = planBulk(pool(6, pods), { scaleDown: { requests: 35 } });
    expect(decision).toMatchObject({ desired: 4, removing: ["worker-6", "worker-5"] });
    expect(decision.scaleDown.bulk?.stop).toEqual({
      kind: "needed",
      node: "worker-4",
      resource: "requests",
      requestsOf: "cpu",
      projected: 37.5,
      threshold: 35,
    });
    expect(explainNodeDecision(decision).join("\n")).toContain(
      "not worker-4 too: without the nodes before it, cpu requests would be at 38 %, not below the scale-down threshold of 35 %",
    );
  });

  it("stops at a node with blockers", () => {
    const decision = planBulk(pool(5, [small("web/keep", "worker-4", { safeToEvict: false })]));
    expect(decision).toMatchObject({ desired: 4, removing: ["worker-5"] });
    expect(decision.scaleDown.bulk?.stop).toEqual({
      kind: "blockers",
      node: "worker-4",
      blockers: [{ kind: "safe-to-evict-false", pod: "web/keep" }],
    });
  });

  it("stops at a node whose pods a PDB protects", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(5, QUIET),
      pods: [small("db/pg-0", "worker-3", { labels: { app: "pg" } })],
      pdbs: [pdb("db/pg", { app: "pg" }, 0)],
    });
    const decision = planBulk(snapshot);
    expect(decision).toMatchObject({ desired: 3, removing: ["worker-5", "worker-4"] });
    expect(decision.scaleDown.bulk?.stop).toMatchObject({ kind: "blockers", node: "worker-3" });
  });

  it("removes nothing when the first node has blockers", () => {
    const decision = planBulk(pool(5, [small("web/keep", "worker-5", { doNotDisrupt: true })]));
    expect(decision.action).toBe("none");
    expect(decision.scaleDown.bulk).toBeUndefined();
  });

  it("keeps room for pending pods the plan counts on existing nodes", () => {
    // scaleDown.requests at 90 lets the 6 cpu of the pending pods stay below it on two nodes.
    const pending = [pendingPod("web/p0", { cpu: "3" }), pendingPod("web/p1", { cpu: "3" })];
    const decision = planBulk(pool(4, pending), { scaleDown: { requests: 90 } });
    expect(decision).toMatchObject({ desired: 2, removing: ["worker-4", "worker-3"] });
    expect(decision.scaleDown.bulk?.stop).toMatchObject({ kind: "pods-fit", node: "worker-2" });
  });

  it("counts the requests of the pending pods counted on the pool's room with its own", () => {
    // The 6 cpu of the two pending pods run on the nodes that stay: without worker-4 they are
    // 50 % of the 12 cpu left, not below the scale-down threshold of 50 %, so worker-3 stays.
    const pending = [pendingPod("web/p0", { cpu: "3" }), pendingPod("web/p1", { cpu: "3" })];
    const decision = planBulk(pool(4, pending));
    expect(decision).toMatchObject({ desired: 3, removing: ["worker-4"] });
    expect(decision.scaleDown.bulk?.stop).toMatchObject({
      kind: "needed",
      node: "worker-3",
      resource: "requests",
      pending: 2,
      projected: 50,
    });
    expect(explainNodeDecision(decision)).toContain(
      "  scale-down: worker-4 goes alone; not worker-3 too: without the nodes before it, cpu requests, with those of the 2 pending pods counted on the pool's room, would be at 50 %, not below the scale-down threshold of 50 %",
    );
  });

  it("stops where the node to remove cannot be told", () => {
    // Count 4 by worker-{index} from 1: worker-4 goes first, and worker-3 is not there.
    const workers = [...nodes(2, QUIET), node("gpu-3", QUIET), node("worker-4", QUIET)];
    const decision = planBulk(buildSnapshot({ nodes: workers }), {
      removal: { nameTemplate: "worker-{index}", indexBase: 1 },
    });
    expect(decision).toMatchObject({ desired: 3, removing: ["worker-4"] });
    expect(decision.scaleDown.bulk?.stop).toEqual({
      kind: "candidate",
      problem:
        "node worker-3 (count index 2) is not among the pool's nodes: either it has not joined yet or is gone, or removal.nameTemplate does not match the names",
    });
  });

  it("follows the name template", () => {
    const snapshot = buildSnapshot({ nodes: nodes(4, QUIET, "talos-worker-", 0) });
    const decision = planBulk(snapshot, {
      min: 2,
      removal: { nameTemplate: "talos-worker-{index}" },
    });
    expect(decision.removing).toEqual(["talos-worker-3", "talos-worker-2"]);
  });

  it("takes several empty nodes when above max too, once every condition holds", () => {
    const decision = planBulk(pool(5), { max: 3 });
    expect(kinds(decision.triggers)).toEqual(["above-max"]);
    expect(decision).toMatchObject({
      desired: 1,
      removing: ["worker-5", "worker-4", "worker-3", "worker-2"],
    });
  });
});

describe("bulk removal keeps every safety rule", () => {
  it("removes nothing while any node's usage is unknown", () => {
    const snapshot = buildSnapshot({
      nodes: [...nodes(2, QUIET), node("worker-3"), ...nodes(2, QUIET, "worker-", 4)],
    });
    const decision = planBulk(snapshot);
    expect(decision.action).toBe("none");
    expect(kinds(decision.holds)).toContain("usage-unknown");
  });

  it("removes nothing from a partial snapshot", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(5, QUIET),
      complete: false,
      warnings: [{ code: "list-partial", subject: "pods", message: "listing failed" }],
    });
    const decision = planBulk(snapshot);
    expect(decision.action).toBe("none");
    expect(kinds(decision.holds)).toContain("snapshot-incomplete");
  });

  it("removes nothing in the cooldown", () => {
    const lastChange = {
      at: new Date(NOW.getTime() - 60_000).toISOString(),
      direction: "down" as const,
    };
    const decision = planBulk(pool(5), {}, { facts: { lastChange } });
    expect(decision.action).toBe("none");
    expect(kinds(decision.holds)).toContain("cooldown");
    // Held, the bulk is what the decrease would take, not what it takes.
    const text = explainNodeDecision(decision);
    expect(text).toContain(
      "  scale-down: 4 empty nodes would go together (at most 10): worker-5, worker-4, worker-3, worker-2; no more: the min is 1",
    );
    const alone = planBulk(pool(5, [small("web/a", "worker-5")]), {}, { facts: { lastChange } });
    expect(explainNodeDecision(alone)).toContain(
      "  scale-down: worker-5 would go alone: it runs 1 pod, and only empty nodes go together",
    );
  });

  it("removes nothing while a node is still joining", () => {
    const joining = node("worker-5", {
      ...QUIET,
      ready: false,
      createdAt: "2025-06-06T11:55:00.000Z",
    });
    const decision = planBulk(buildSnapshot({ nodes: [...nodes(4, QUIET), joining] }));
    expect(decision.action).toBe("none");
    expect(kinds(decision.holds)).toContain("provisioning");
  });
});

describe("an open scale-down pull request", () => {
  it("is updated when the plan now takes the pool further down", () => {
    const facts = { openPullRequest: { number: 7, desired: 4 } };
    const decision = planBulk(pool(5), { min: 3 }, { facts });
    expect(decision).toMatchObject({
      action: "scale-down",
      desired: 3,
      pullRequest: { action: "update", number: 7 },
    });
  });

  it("is updated back when a node it would remove got pods", () => {
    const facts = { openPullRequest: { number: 7, desired: 3 } };
    const decision = planBulk(pool(5, [small("web/a", "worker-4")]), {}, { facts });
    expect(decision).toMatchObject({ desired: 4, pullRequest: { action: "update", number: 7 } });
  });
});

describe("a count above the max", () => {
  /** Seven workers, each with a small pod to move. */
  const busy = () =>
    pool(
      7,
      nodes(7, QUIET).map((entry) => small(`web/${entry.name}`, entry.name)),
    );

  it("comes down to it in one decrease with the default maxEmptyBulk, pods and all", () => {
    const decision = planOne(busy(), { max: 5 });
    expect(decision).toMatchObject({
      action: "scale-down",
      desired: 5,
      removing: ["worker-7", "worker-6"],
    });
    expect(decision.scaleDown.bulk).toMatchObject({
      downTo: { max: 5, bound: "max" },
      stop: { kind: "max", max: 5, bound: "max" },
    });
  });

  it("updates the pool's open decrease that stopped one node short of the max", () => {
    const facts = { openPullRequest: { number: 7, desired: 6 } };
    const decision = planOne(busy(), { max: 5 }, { facts });
    expect(decision).toMatchObject({
      desired: 5,
      pullRequest: { action: "update", number: 7 },
    });
  });

  it("lets empty nodes of an idle pool go beyond it when maxEmptyBulk lets them", () => {
    const decision = planBulk(pool(7), { max: 5, min: 2 });
    expect(decision).toMatchObject({ desired: 2 });
    expect(decision.scaleDown.bulk?.downTo).toBeUndefined();
  });
});
