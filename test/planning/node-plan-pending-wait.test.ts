import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import { planNodes } from "../../src/planning/node-plan.ts";
import type { PodInfo } from "../../src/planning/snapshot.ts";
import {
  buildSnapshot,
  node,
  nodes,
  type PodSpec,
  pendingPod,
  pod,
} from "../support/snapshot-builder.ts";
import {
  ago,
  BUSY,
  fullWorkers,
  kinds,
  NOW,
  type PlanOptions,
  planOne,
  poolInput,
  QUIET,
  repoConfig,
  twoFullWorkers,
  withWebPods,
} from "./plan-helpers.ts";

/** A pod that needs a new node, created `seconds` ago. */
function waiting(key: string, seconds: number, extra: Partial<PodInfo> = {}): PodInfo {
  return { ...pendingPod(key, { cpu: "3" }), createdAt: ago(seconds), ...extra };
}

/** Pull request #3, open for a decrease from `from` to `desired` nodes. */
function openDecrease(from: number, desired: number): PlanOptions {
  return { facts: { openPullRequest: { number: 3, desired, from } } };
}

/** `options` with the pool held by the cooldown after a raise `seconds` ago. */
function inCooldown(seconds: number, options: PlanOptions = {}): PlanOptions {
  return {
    ...options,
    facts: { ...options.facts, lastChange: { at: ago(seconds), direction: "up" } },
  };
}

describe("scaleUp.pendingFor", () => {
  it("adds nodes at once by default", () => {
    expect(planOne(twoFullWorkers([waiting("web/a", 5)]))).toMatchObject({
      action: "scale-up",
      desired: 3,
    });
  });

  it("waits until a pod has been unschedulable that long", () => {
    const snapshot = twoFullWorkers([waiting("web/a", 30)]);
    const early = planOne(snapshot, { scaleUp: { pendingFor: "2m" } });
    expect(early).toMatchObject({ action: "none", pullRequest: { action: "none" } });
    expect(early.triggers).toEqual([]);
    expect(early.holds).toEqual([
      { kind: "pending-wait", pods: 1, pendingForMs: 120_000, until: "2025-06-06T12:01:30.000Z" },
    ]);
    expect(early.pending.onNew.map((placed) => placed.pod)).toEqual(["web/a"]);
    const later = planOne(
      snapshot,
      { scaleUp: { pendingFor: "2m" } },
      { now: new Date(NOW.getTime() + 90_000) },
    );
    expect(later).toMatchObject({ action: "scale-up", desired: 3 });
  });

  it("counts from the PodScheduled=False transition when the snapshot has it", () => {
    const pod = waiting("web/a", 3600, {
      unschedulable: { message: "0/2 nodes are available", since: ago(20) },
    });
    const decision = planOne(twoFullWorkers([pod]), { scaleUp: { pendingFor: "1m" } });
    expect(decision.action).toBe("none");
    expect(decision.holds[0]).toMatchObject({
      kind: "pending-wait",
      until: "2025-06-06T12:00:40.000Z",
    });
  });

  it("counts a pod whose time cannot be read as having waited", () => {
    const decision = planOne(twoFullWorkers([waiting("web/a", 0, { createdAt: "yesterday" })]), {
      scaleUp: { pendingFor: "5m" },
    });
    expect(decision.action).toBe("scale-up");
  });

  it("adds nodes for every pod once one of them has waited long enough", () => {
    const decision = planOne(twoFullWorkers([waiting("web/old", 300), waiting("web/new", 10)]), {
      scaleUp: { pendingFor: "2m" },
    });
    expect(decision).toMatchObject({ action: "scale-up", desired: 4 });
    expect(kinds(decision.holds)).not.toContain("pending-wait");
  });

  it("leaves other reasons to add nodes alone", () => {
    const decision = planOne(twoFullWorkers([waiting("web/a", 10)]), {
      min: 3,
      scaleUp: { pendingFor: "2m" },
    });
    expect(decision).toMatchObject({ action: "scale-up", desired: 3 });
    expect(kinds(decision.triggers)).toEqual(["below-min"]);
  });
});

describe("scaleUp.pendingFor with pods a later pool takes", () => {
  /**
   * Pool `small` (max 2) and pool `large`, one full node each, both with pendingFor 2m: `small`
   * has room for one new node, so the later pending pods go beyond its max, to `large`.
   */
  function twoPools(pending: PodInfo[]) {
    const small = nodes(1, { ...BUSY, labels: { pool: "small" } }, "small-");
    const large = nodes(1, { ...BUSY, labels: { pool: "large" } }, "large-");
    const snapshot = buildSnapshot({
      nodes: [...small, ...large],
      pods: [
        pod("fill/small", { node: "small-1", cpu: "3500m" }),
        pod("fill/large", { node: "large-1", cpu: "3500m" }),
        ...pending,
      ],
    });
    const pendingFor = { scaleUp: { pendingFor: "2m" } };
    const config = repoConfig(
      poolInput({
        name: "small",
        max: 2,
        selector: { matchLabels: { pool: "small" } },
        ...pendingFor,
      }),
      poolInput({
        name: "large",
        target: { file: "terraform/terraform.tfvars", path: "large_count" },
        selector: { matchLabels: { pool: "large" } },
        ...pendingFor,
      }),
    );
    const repo = [
      { pool: "small", currentValue: 1 },
      { pool: "large", currentValue: 1 },
    ];
    return planNodes({ snapshot, config, repo, now: NOW });
  }

  it("counts and times the wait from the pods left to the pool", () => {
    const [small] = twoPools([waiting("web/a", 10), waiting("web/b", 100), waiting("web/c", 30)]);
    expect(small?.pending.elsewhere?.map((pod) => pod.pod)).toEqual(["web/b", "web/c"]);
    // web/a alone waits for this pool: 2m after its creation 10 s ago, not web/b's.
    expect(small?.holds).toEqual([
      { kind: "pending-wait", pods: 1, pendingForMs: 120_000, until: "2025-06-06T12:01:50.000Z" },
    ]);
  });

  it("adds no node for pods that have not waited because one another pool takes has", () => {
    const [small, large] = twoPools([
      waiting("web/a", 10),
      waiting("web/b", 200),
      waiting("web/c", 30),
    ]);
    expect(small).toMatchObject({ action: "none" });
    expect(small?.triggers).toEqual([]);
    expect(small?.holds).toEqual([
      { kind: "pending-wait", pods: 1, pendingForMs: 120_000, until: "2025-06-06T12:01:50.000Z" },
    ]);
    expect(large).toMatchObject({ action: "scale-up", desired: 3 });
  });
});

describe("while pods wait for room", () => {
  /** Four quiet workers, each with 1.5 cores requested: the pool could lose one. */
  function shrinkable(pending: PodInfo[] = []) {
    return withWebPods(nodes(4, QUIET), pending);
  }

  it("removes no node", () => {
    expect(planOne(shrinkable(), { scaleUp: { pendingFor: "2m" } }).action).toBe("scale-down");
    const decision = planOne(shrinkable([waiting("web/a", 30)]), { scaleUp: { pendingFor: "2m" } });
    expect(decision.action).toBe("none");
    expect(kinds(decision.triggers)).toEqual(["underutilised"]);
    expect(kinds(decision.holds)).toEqual(["pending-wait"]);
  });

  it("closes an open pull request that lowers the count, and leaves one that raises it", () => {
    const snapshot = shrinkable([waiting("web/a", 30)]);
    const pool = { scaleUp: { pendingFor: "2m" } };
    const lowering = planOne(snapshot, pool, {
      facts: { openPullRequest: { number: 3, desired: 3 } },
    });
    expect(lowering.pullRequest).toEqual({ action: "close", number: 3 });
    const raising = planOne(snapshot, pool, {
      facts: { openPullRequest: { number: 4, desired: 5 } },
    });
    expect(raising.pullRequest).toEqual({ action: "leave", number: 4 });
  });

  it("closes an open decrease while pods that have waited are left pending at the max", () => {
    const snapshot = shrinkable([waiting("web/a", 600)]);
    const open = openDecrease(4, 3);
    const atMax = planOne(snapshot, { max: 4 }, open);
    expect(atMax.action).toBe("none");
    expect(atMax.holds).toEqual([{ kind: "at-max", wanted: 5, allowed: 4, bound: "max" }]);
    expect(atMax.pending.overMax.map((placed) => placed.pod)).toEqual(["web/a"]);
    expect(atMax.pullRequest).toEqual({ action: "close", number: 3 });
    expect(explainNodeDecision(atMax)).toContain(
      "  pull request: close #3, its change is not wanted any more",
    );
    // The same while a cooldown holds back the node they ask for.
    const held = planOne(snapshot, {}, inCooldown(60, open));
    expect(kinds(held.holds)).toEqual(["cooldown"]);
    expect(held.pullRequest).toEqual({ action: "close", number: 3 });
  });

  it("closes an open decrease while usage above a scale-up threshold asks for more at the max", () => {
    const hot = withWebPods(nodes(4, { usage: { cpu: "3800m", memory: "8Gi" } }));
    const decision = planOne(hot, { max: 4 }, openDecrease(4, 3));
    expect(decision.action).toBe("none");
    expect(kinds(decision.triggers)).toEqual(["utilisation"]);
    expect(kinds(decision.holds)).toEqual(["at-max"]);
    expect(decision.pullRequest).toEqual({ action: "close", number: 3 });
  });

  it("closes an open decrease above the max that the plan does not make, pods waiting or not", () => {
    // Four full workers where the max is three: worker-4's pod fits on no other node, so no
    // decrease is made; the pod left pending beyond the max does not keep one open. Each close
    // names the pod the decrease, merged, would leave without room.
    const open = openDecrease(4, 3);
    const stranded = {
      action: "close",
      number: 3,
      closes: { kind: "pods-stranded", nodes: ["worker-4"], pods: ["fill/worker-4"] },
    };
    const quiet = planOne(fullWorkers(4), { max: 3 }, open);
    expect(quiet.action).toBe("none");
    expect(quiet.pullRequest).toEqual(stranded);
    const snapshot = fullWorkers(4, [waiting("web/a", 600)]);
    const decision = planOne(snapshot, { max: 3 }, open);
    expect(decision.action).toBe("none");
    expect(kinds(decision.triggers)).toEqual(["pending-pods", "above-max"]);
    expect(decision.holds).toEqual([{ kind: "at-max", wanted: 5, allowed: 3, bound: "max" }]);
    expect(decision.pullRequest).toEqual(stranded);
    // The host cap likewise.
    const capped = planOne(snapshot, { max: 6, host: { maxNodes: 3 } }, open);
    expect(capped.holds).toEqual([{ kind: "at-max", wanted: 5, allowed: 3, bound: "host-cap" }]);
    expect(capped.pullRequest).toEqual(stranded);
    // Nor does a cooldown keep it: merged as it stands, its removal of worker-4 would leave that
    // node's pod without room. Once the node can go, the plan asks for its decrease again.
    const held = planOne(snapshot, { max: 3 }, inCooldown(60, open));
    expect(kinds(held.holds)).toContain("cooldown");
    expect(held.pullRequest).toEqual({
      action: "close",
      number: 3,
      closes: { kind: "pods-stranded", nodes: ["worker-4"], pods: ["fill/worker-4"] },
    });
  });

  it("at the max: does not say nodes are added for them", () => {
    const decision = planOne(shrinkable([waiting("web/a", 30)]), {
      max: 4,
      scaleUp: { pendingFor: "2m" },
    });
    expect(decision.action).toBe("none");
    expect(decision.holds).toEqual([
      {
        kind: "pending-wait",
        pods: 1,
        pendingForMs: 120_000,
        until: "2025-06-06T12:01:30.000Z",
        max: 4,
        bound: "max",
      },
    ]);
    expect(explainNodeDecision(decision)).toContain(
      "  hold: 1 pending pod needs new nodes but has waited less than 2m (scaleUp.pendingFor); at the max of 4, no node is added for it, and none is removed for low usage while it waits",
    );
  });

  it("above the max: brings the count down to it, and no further", () => {
    const pool = {
      max: 4,
      scaleUp: { pendingFor: "2m" },
      scaleDown: { maxEmptyBulk: 5 },
      // New nodes are larger than the pool's: a pod of 6 cores fits on a new node alone.
      newNode: { cpu: "8", memory: "32Gi" },
    };
    // Six quiet workers, the last three empty.
    const snapshot = withWebPods(nodes(6, QUIET), [], 3);
    expect(planOne(snapshot, pool)).toMatchObject({ action: "scale-down", desired: 3 });
    snapshot.pods.push(waiting("web/a", 30, { requests: { cpu: 6000, memory: 1 << 28 } }));
    const decision = planOne(snapshot, pool);
    expect(decision).toMatchObject({
      action: "scale-down",
      desired: 4,
      removing: ["worker-6", "worker-5"],
    });
    expect(decision.holds).toContainEqual(
      expect.objectContaining({ kind: "pending-wait", max: 4, above: true }),
    );
    expect(decision.scaleDown.bulk?.stop).toEqual({ kind: "pending-wait", max: 4, bound: "max" });
    expect(explainNodeDecision(decision)).toContain(
      "  scale-down: 2 empty nodes go together (at most 5): worker-6, worker-5; no more: the count comes down to the max of 4 and no further while pending pods wait for scaleUp.pendingFor",
    );
  });

  it("above the max: says the count would come down to it when its node cannot go now", () => {
    // Four full workers where the max is three: worker-4's pod fits on no other node, so the
    // count stays at 4 for now; the scale-down lines say why.
    const snapshot = fullWorkers(4, [waiting("web/a", 30)]);
    const decision = planOne(snapshot, { max: 3, scaleUp: { pendingFor: "2m" } });
    expect(decision.action).toBe("none");
    expect(decision.holds).toEqual([
      {
        kind: "pending-wait",
        pods: 1,
        pendingForMs: 120_000,
        until: "2025-06-06T12:01:30.000Z",
        max: 3,
        bound: "max",
        above: true,
        notNow: true,
      },
    ]);
    const text = explainNodeDecision(decision);
    expect(text).toContain(
      "  hold: 1 pending pod needs new nodes but has waited less than 2m (scaleUp.pendingFor); above the max of 3, no node is added for it, and the count would come down to it, and no further for low usage, while it waits",
    );
    // With room for worker-4's pod it goes, and the hold says the count comes down.
    const workers = nodes(4, BUSY);
    const roomy = buildSnapshot({
      nodes: workers,
      pods: [
        ...workers.map((w) => pod(`fill/${w.name}`, { node: w.name, cpu: "1" })),
        waiting("web/a", 30, { requests: { cpu: 3500, memory: 1 << 28 } }),
      ],
    });
    const made = planOne(roomy, { max: 3, scaleUp: { pendingFor: "2m" } });
    expect(made).toMatchObject({ action: "scale-down", desired: 3 });
    const wait = made.holds.find((hold) => hold.kind === "pending-wait");
    expect(wait).toMatchObject({ above: true });
    expect(wait).not.toHaveProperty("notNow");
    expect(explainNodeDecision(made).join("\n")).toContain(
      "no node is added for it, and the count comes down to it, and no further for low usage, while it waits",
    );
  });

  it("above the max with scale-down off: does not say the count comes down to it", () => {
    const pool = { max: 4, scaleUp: { pendingFor: "2m" }, scaleDown: { enabled: false } };
    const snapshot = fullWorkers(5, [waiting("web/a", 30)]);
    const decision = planOne(snapshot, pool);
    expect(decision.action).toBe("none");
    expect(decision.holds).toContainEqual(
      expect.objectContaining({ kind: "pending-wait", max: 4, above: true, stays: true }),
    );
    const text = explainNodeDecision(decision);
    expect(text).toContain(
      "  hold: 1 pending pod needs new nodes but has waited less than 2m (scaleUp.pendingFor); above the max of 4, no node is added for it, however long it waits",
    );
    expect(text.join("\n")).not.toContain("comes down to");
  });

  it("above the max: leaves an open decrease down to it while a cooldown holds the pool", () => {
    const snapshot = withWebPods(nodes(4, QUIET), [waiting("web/a", 30)]);
    const pool = { max: 3, scaleUp: { pendingFor: "2m" } };
    const toMax = planOne(snapshot, pool, inCooldown(60, openDecrease(4, 3)));
    expect(toMax.action).toBe("none");
    expect(kinds(toMax.holds)).toContain("cooldown");
    expect(toMax.pullRequest).toEqual({ action: "leave", number: 3 });
    const below = planOne(snapshot, pool, inCooldown(60, openDecrease(4, 2)));
    expect(below.pullRequest).toEqual({ action: "close", number: 3 });
  });
});

describe("while pods wait for room, with a node long not Ready", () => {
  /**
   * Three quiet workers with a pod each, worker-4 empty, and worker-5 not Ready for an hour
   * (empty): a decrease removes worker-5 whatever the usage.
   */
  function withDeadNode(pending: PodInfo[] = []) {
    const workers = [
      ...nodes(4, QUIET),
      node("worker-5", { ...QUIET, ready: false, readySince: ago(3600) }),
    ];
    return withWebPods(workers, pending, 3);
  }

  /** New nodes larger than the pool's: a pod of 6 cores fits on a new node alone. */
  const LARGER = { scaleUp: { pendingFor: "2m" }, newNode: { cpu: "8", memory: "32Gi" } };
  const large = () => waiting("web/a", 30, { requests: { cpu: 6000, memory: 1 << 28 } });

  it("removes it, and no empty node with it for low usage", () => {
    const pool = { ...LARGER, scaleDown: { maxEmptyBulk: 5 } };
    expect(planOne(withDeadNode(), pool)).toMatchObject({
      removing: ["worker-5", "worker-4"],
    });
    const decision = planOne(withDeadNode([large()]), pool);
    expect(decision).toMatchObject({ action: "scale-down", desired: 4, removing: ["worker-5"] });
    expect(kinds(decision.triggers)).toEqual(["unready-node"]);
    expect(kinds(decision.holds)).toContain("pending-wait");
    expect(decision.scaleDown.bulk?.stop).toEqual({ kind: "pending-wait" });
    const text = explainNodeDecision(decision);
    expect(text).toContain(
      "  scale-down: worker-5 goes alone; no more: no node goes for low usage while pending pods wait for scaleUp.pendingFor",
    );
    expect(text.join("\n")).toContain("none is removed for low usage meanwhile");
  });

  it("leaves an open decrease of it while a cooldown holds the pool", () => {
    const snapshot = withDeadNode([large()]);
    const dead = planOne(snapshot, LARGER, inCooldown(60, openDecrease(5, 4)));
    expect(dead.action).toBe("none");
    expect(dead.pullRequest).toEqual({ action: "leave", number: 3 });
    // One that takes a Ready node too takes room the pod may need.
    const further = planOne(snapshot, LARGER, inCooldown(60, openDecrease(5, 3)));
    expect(further.pullRequest).toEqual({ action: "close", number: 3 });
  });

  it("above the max: removes nodes long not Ready beyond it too, and no empty node", () => {
    // worker-6 is long not Ready as well: 6 is one above the max of 5, and both go.
    const withTwo = (pending: PodInfo[] = []) => {
      const snapshot = withDeadNode(pending);
      snapshot.nodes.push(node("worker-6", { ...QUIET, ready: false, readySince: ago(7200) }));
      return snapshot;
    };
    const pool = { ...LARGER, max: 5, scaleDown: { maxEmptyBulk: 5 } };
    expect(planOne(withTwo(), pool)).toMatchObject({
      removing: ["worker-6", "worker-5", "worker-4"],
    });
    const decision = planOne(withTwo([large()]), pool);
    expect(decision).toMatchObject({
      action: "scale-down",
      desired: 4,
      removing: ["worker-6", "worker-5"],
    });
    expect(kinds(decision.triggers)).toEqual(["above-max"]);
    expect(decision.holds).toContainEqual(
      expect.objectContaining({ kind: "pending-wait", max: 5, above: true }),
    );
    expect(decision.scaleDown.bulk?.stop).toEqual({ kind: "pending-wait" });
    const text = explainNodeDecision(decision);
    expect(text).toContain(
      "  scale-down: 2 empty nodes go together (at most 5): worker-6, worker-5; no more: no node goes for low usage while pending pods wait for scaleUp.pendingFor",
    );
    expect(text).toContain(
      "  hold: 1 pending pod needs new nodes but has waited less than 2m (scaleUp.pendingFor); above the max of 5, no node is added for it, and the count comes down to it, and no further for low usage, while it waits",
    );
  });
});

describe("while pods are bound to a node the cluster does not list", () => {
  /** An open pull request that lowers 4 to 3, a minute after a decrease. */
  const DECREASE_IN_COOLDOWN = {
    facts: {
      openPullRequest: { number: 3, desired: 3, from: 4 },
      lastChange: { at: ago(60), direction: "down" as const },
    },
  };

  /** A pod bound to worker-9, whose Node object is gone. */
  function orphan(spec: PodSpec, index = 0): PodInfo {
    return pod(`web/gone-${index}`, { node: "worker-9", ...spec });
  }

  /** Four quiet workers that could lose one, and pods on worker-9, whose Node object is gone. */
  function withOrphans(...orphans: PodSpec[]) {
    return withWebPods(
      nodes(4, QUIET),
      orphans.map((spec, index) => orphan(spec, index)),
    );
  }

  it("removes no Ready node, and closes an open pull request that lowers the count", () => {
    const decision = planOne(
      withOrphans({ cpu: "2" }, { cpu: "1" }),
      {},
      {
        facts: { openPullRequest: { number: 3, desired: 3 } },
      },
    );
    expect(decision.action).toBe("none");
    expect(kinds(decision.triggers)).toEqual(["underutilised"]);
    expect(decision.holds).toContainEqual({ kind: "pods-orphaned", pods: 2, nodes: ["worker-9"] });
    expect(decision.pullRequest).toEqual({ action: "close", number: 3 });
  });

  it("says why an open decrease is closed when a cooldown leaves a busy pool as it is", () => {
    const snapshot = withWebPods(nodes(4, BUSY), [orphan({ cpu: "1" })]);
    const decision = planOne(snapshot, {}, DECREASE_IN_COOLDOWN);
    expect(decision.action).toBe("none");
    expect(decision.triggers).toEqual([]);
    expect(kinds(decision.holds)).toEqual(["cooldown", "pods-orphaned"]);
    expect(decision.pullRequest).toEqual({ action: "close", number: 3 });
  });

  it("leaves an open decrease that removes only a node not Ready, whatever holds the pool", () => {
    const workers = [
      ...nodes(3, BUSY),
      node("worker-4", { ...BUSY, ready: false, readySince: ago(120) }),
    ];
    const snapshot = withWebPods(workers, [orphan({ cpu: "1" })], 3);
    const decision = planOne(snapshot, {}, DECREASE_IN_COOLDOWN);
    expect(decision.action).toBe("none");
    expect(kinds(decision.holds)).toEqual(["cooldown"]);
    expect(decision.pullRequest).toEqual({ action: "leave", number: 3 });
  });

  /**
   * Six quiet workers, the first three running a pod and the rest empty (or long not Ready with
   * `dead`), and a pod on worker-9, whose Node object is gone.
   */
  function sixWithOrphan(dead = 0) {
    const workers = nodes(6, QUIET).map((w, index) =>
      index >= 6 - dead ? { ...w, ready: false, readySince: ago(3600) } : w,
    );
    return withWebPods(workers, [orphan({ cpu: "1" })], 3);
  }

  it("above the max: brings the count down to it, and no empty node beyond it for low usage", () => {
    const pool = { max: 4, scaleDown: { maxEmptyBulk: 5 } };
    const decision = planOne(sixWithOrphan(), pool);
    expect(decision).toMatchObject({
      action: "scale-down",
      desired: 4,
      removing: ["worker-6", "worker-5"],
    });
    expect(kinds(decision.triggers)).toEqual(["above-max"]);
    expect(decision.holds).toContainEqual({
      kind: "pods-orphaned",
      pods: 1,
      nodes: ["worker-9"],
      max: 4,
      bound: "max",
    });
    expect(decision.scaleDown.bulk).toMatchObject({
      nodes: ["worker-6", "worker-5"],
      stop: { kind: "pods-orphaned", max: 4, bound: "max" },
    });
    const text = explainNodeDecision(decision);
    expect(text).toContain(
      "  hold: 1 pod is bound to worker-9, which the cluster does not list (deleted, or joined after the nodes were read): made again once deleted, it needs room, so the count comes down to the max of 4 and no further meanwhile",
    );
    expect(text).toContain(
      "  scale-down: 2 empty nodes go together (at most 5): worker-6, worker-5; no more: the count comes down to the max of 4 and no further while pods bound to nodes the cluster does not list are to be made again",
    );
  });

  it("removes the nodes long not Ready a decrease starts with, and no Ready node with them", () => {
    const decision = planOne(sixWithOrphan(2), { scaleDown: { maxEmptyBulk: 5 } });
    expect(decision).toMatchObject({
      action: "scale-down",
      desired: 4,
      removing: ["worker-6", "worker-5"],
    });
    expect(kinds(decision.triggers)).toEqual(["unready-node"]);
    expect(decision.holds).toContainEqual({ kind: "pods-orphaned", pods: 1, nodes: ["worker-9"] });
    expect(explainNodeDecision(decision)).toContain(
      "  scale-down: 2 empty nodes go together (at most 5): worker-6, worker-5; no more: no Ready node goes while pods bound to nodes the cluster does not list are to be made again",
    );
  });

  it("above the max: leaves an open decrease down to it while a cooldown holds the pool, and closes one below it", () => {
    const open = (desired: number) =>
      planOne(sixWithOrphan(), { max: 4 }, inCooldown(60, openDecrease(6, desired)));
    const down = open(4);
    expect(down.action).toBe("none");
    expect(kinds(down.holds)).not.toContain("pods-orphaned");
    expect(down.pullRequest).toEqual({ action: "leave", number: 3 });
    const below = open(3);
    expect(below.pullRequest).toEqual({ action: "close", number: 3 });
    expect(below.holds).toContainEqual({
      kind: "pods-orphaned",
      pods: 1,
      nodes: ["worker-9"],
      max: 4,
      bound: "max",
    });
  });

  it("above the max: names the pods beside a cooldown that holds a decrease they cut, once", () => {
    // With no pull request open, the bulk line's stop names the pods; a hold names them too, and
    // with one open (down to the max, or below it and closed) not a second time.
    const pool = { max: 4, scaleDown: { maxEmptyBulk: 5 } };
    for (const desired of [undefined, 4, 3]) {
      const open = desired === undefined ? {} : openDecrease(6, desired);
      const decision = planOne(sixWithOrphan(), pool, inCooldown(60, open));
      expect(decision.action).toBe("none");
      expect(decision.holds.filter((hold) => hold.kind === "pods-orphaned")).toEqual([
        { kind: "pods-orphaned", pods: 1, nodes: ["worker-9"], max: 4, bound: "max" },
      ]);
      expect(explainNodeDecision(decision)).toContain(
        "  scale-down: 2 empty nodes would go together (at most 5): worker-6, worker-5; no more: the count comes down to the max of 4 and no further while pods bound to nodes the cluster does not list are to be made again",
      );
    }
  });

  it("is held by no pod that is not made again: DaemonSet, mirror, bare or finished", () => {
    const decision = planOne(
      withOrphans(
        { daemonSet: true },
        { mirror: true, owner: { kind: "Node", name: "worker-9" } },
        { owner: null },
        { phase: "Succeeded" },
      ),
    );
    expect(decision).toMatchObject({ action: "scale-down", desired: 3 });
  });
});

describe("while a pending pod's fit on a new node is unknown", () => {
  /**
   * Four quiet workers (or `count`), half reporting one GPU each and half none (a tie: how many a
   * new node has is unknown), the first `busy` running a pod, and a pending pod asking for a GPU.
   */
  function gpuTie(count = 4, busy = count) {
    const workers = nodes(count, QUIET).map((w, index) =>
      index < count / 2
        ? { ...w, allocatable: { ...w.allocatable, extended: { "nvidia.com/gpu": 1 } } }
        : w,
    );
    return buildSnapshot({
      nodes: workers,
      pods: [
        ...workers.slice(0, busy).map((w, index) =>
          pod(`web/${w.name}`, {
            node: w.name,
            cpu: "1500m",
            ...(index < count / 2 ? { extended: { "nvidia.com/gpu": 1 } } : {}),
          }),
        ),
        waiting("ai/ollama", 600, {
          requests: { cpu: 100, memory: 1 << 28, extended: { "nvidia.com/gpu": 1 } },
        }),
      ],
    });
  }

  it("removes no node for low usage, and closes an open pull request that lowers the count", () => {
    const decision = planOne(
      gpuTie(),
      {},
      { facts: { openPullRequest: { number: 3, desired: 3 } } },
    );
    expect(decision.pending.neverFit.map((p) => [p.pod, p.reason])).toEqual([
      ["ai/ollama", "extended-unknown"],
    ]);
    expect(decision.action).toBe("none");
    expect(kinds(decision.triggers)).toEqual(["underutilised"]);
    expect(decision.holds).toContainEqual({ kind: "pending-fit-unknown", pods: ["ai/ollama"] });
    expect(decision.pullRequest).toEqual({ action: "close", number: 3 });
  });

  it("still brings a count above the max down", () => {
    const decision = planOne(gpuTie(), { max: 3 });
    expect(decision).toMatchObject({ action: "scale-down", desired: 3 });
    expect(kinds(decision.triggers)).toContain("above-max");
    expect(kinds(decision.holds)).not.toContain("pending-fit-unknown");
  });

  it("leaves an open decrease down to the max while a cooldown holds the count above it", () => {
    // Closed now, it would be opened again once the cooldown is over: usage does not decide it.
    const decision = planOne(gpuTie(), { max: 3 }, inCooldown(120, openDecrease(4, 3)));
    expect(decision.action).toBe("none");
    expect(kinds(decision.triggers)).toContain("above-max");
    expect(kinds(decision.holds)).toContain("cooldown");
    expect(kinds(decision.holds)).not.toContain("pending-fit-unknown");
    expect(decision.pullRequest).toEqual({ action: "leave", number: 3 });
    const text = explainNodeDecision(decision).join("\n");
    expect(text).toContain("pull request: leave #3 as it is while held");
    expect(text).not.toContain("for low usage");
  });

  it("says why an open decrease below the max is closed while a cooldown holds the pool", () => {
    const decision = planOne(gpuTie(6, 4), { max: 5 }, inCooldown(120, openDecrease(6, 3)));
    expect(decision.action).toBe("none");
    expect(kinds(decision.triggers)).toContain("above-max");
    expect(decision.holds).toContainEqual({
      kind: "pending-fit-unknown",
      pods: ["ai/ollama"],
      max: 5,
      bound: "max",
    });
    expect(decision.pullRequest).toEqual({ action: "close", number: 3 });
    const text = explainNodeDecision(decision);
    expect(text).toContain(
      "  hold: ai/ollama is pending and whether a new node would fit it is unknown (fit unknown, above): the count comes down to the max of 5 and no further while it waits, so the room it may need is not given away",
    );
    expect(text.join("\n")).not.toContain("for low usage");
  });

  it("says nothing comes down to the max with scale-down off, when it closes an open decrease", () => {
    // With scale-down on, the hold says the count comes down to the max of 5 and no further.
    const decision = planOne(
      gpuTie(6, 4),
      { max: 5, scaleDown: { enabled: false } },
      inCooldown(120, openDecrease(6, 3)),
    );
    expect(decision.action).toBe("none");
    expect(kinds(decision.triggers)).toEqual(["above-max"]);
    expect(decision.holds).toContainEqual({ kind: "pending-fit-unknown", pods: ["ai/ollama"] });
    expect(decision.pullRequest).toEqual({ action: "close", number: 3 });
    const text = explainNodeDecision(decision);
    expect(text).toContain(
      "  hold: ai/ollama is pending and whether a new node would fit it is unknown (fit unknown, above): no node is removed for low usage while it waits, so the room it may need is not given away",
    );
    expect(text.join("\n")).not.toContain("comes down to");
  });

  /**
   * `gpuTie` with the four workers quiet, worker-4 empty, and worker-5 long not Ready (empty):
   * a decrease removes worker-5 whatever the usage.
   */
  function withDeadNode() {
    const snapshot = gpuTie(4, 3);
    snapshot.nodes.push(node("worker-5", { ...QUIET, ready: false, readySince: ago(3600) }));
    return snapshot;
  }

  it("removes a node long not Ready, and no empty node with it for low usage", () => {
    const pool = { scaleDown: { maxEmptyBulk: 5 } };
    const quiet = withDeadNode();
    quiet.pods = quiet.pods.filter((p) => p.name !== "ollama");
    expect(planOne(quiet, pool)).toMatchObject({ removing: ["worker-5", "worker-4"] });
    const decision = planOne(withDeadNode(), pool);
    expect(decision).toMatchObject({ action: "scale-down", desired: 4, removing: ["worker-5"] });
    expect(kinds(decision.triggers)).toEqual(["unready-node"]);
    expect(decision.holds).toContainEqual({
      kind: "pending-fit-unknown",
      pods: ["ai/ollama"],
      unready: ["worker-5"],
    });
    const text = explainNodeDecision(decision);
    expect(text).toContain(
      "  hold: ai/ollama is pending and whether a new node would fit it is unknown (fit unknown, above): worker-5, not Ready for scaleDown.unreadyTime, may go, but no other node is removed for low usage while it waits, so the room it may need is not given away",
    );
    expect(text).toContain(
      "  scale-down: worker-5 goes alone; no more: no node goes for low usage while pending pods whose fit on a new node is unknown wait",
    );
  });

  it("leaves an open decrease of a node long not Ready while a cooldown holds the pool", () => {
    const decision = planOne(withDeadNode(), {}, inCooldown(120, openDecrease(5, 4)));
    expect(decision.action).toBe("none");
    expect(kinds(decision.triggers)).toEqual(["unready-node"]);
    expect(kinds(decision.holds)).not.toContain("pending-fit-unknown");
    expect(decision.pullRequest).toEqual({ action: "leave", number: 3 });
    // One that removes a Ready node too is closed, and the hold says which node may still go.
    const further = planOne(withDeadNode(), {}, inCooldown(120, openDecrease(5, 3)));
    expect(further.pullRequest).toEqual({ action: "close", number: 3 });
    expect(further.holds).toContainEqual({
      kind: "pending-fit-unknown",
      pods: ["ai/ollama"],
      unready: ["worker-5"],
    });
  });

  it("says a node long not Ready would go alone once a cooldown is over, not with empty nodes", () => {
    const decision = planOne(withDeadNode(), { scaleDown: { maxEmptyBulk: 5 } }, inCooldown(120));
    expect(decision.action).toBe("none");
    expect(kinds(decision.holds)).toContain("cooldown");
    expect(decision.scaleDown.bulk).toMatchObject({
      nodes: ["worker-5"],
      stop: { kind: "pending-fit-unknown" },
    });
    expect(explainNodeDecision(decision)).toContain(
      "  scale-down: worker-5 would go alone; no more: no node goes for low usage while pending pods whose fit on a new node is unknown wait",
    );
  });

  it("names every node long not Ready that a closed decrease removes as one that may go", () => {
    // worker-6 is long not Ready too: the open 6 → 3 removes it, worker-5 and worker-4 (Ready).
    const snapshot = withDeadNode();
    snapshot.nodes.push(node("worker-6", { ...QUIET, ready: false, readySince: ago(7200) }));
    const decision = planOne(snapshot, {}, inCooldown(120, openDecrease(6, 3)));
    expect(decision.action).toBe("none");
    expect(decision.pullRequest).toEqual({ action: "close", number: 3 });
    expect(decision.holds).toContainEqual({
      kind: "pending-fit-unknown",
      pods: ["ai/ollama"],
      unready: ["worker-6", "worker-5"],
    });
    expect(explainNodeDecision(decision)).toContain(
      "  hold: ai/ollama is pending and whether a new node would fit it is unknown (fit unknown, above): worker-6, worker-5, not Ready for scaleDown.unreadyTime, may go, but no other node is removed for low usage while it waits, so the room it may need is not given away",
    );
  });

  it("brings a count above the max down to it, and no empty node beyond it for low usage", () => {
    const pool = { max: 4, scaleDown: { maxEmptyBulk: 5 } };
    // Without the pod, the three empty nodes go together, one of them below the max.
    const quiet = gpuTie(6, 3);
    quiet.pods = quiet.pods.filter((p) => p.name !== "ollama");
    expect(planOne(quiet, pool)).toMatchObject({ action: "scale-down", desired: 3 });
    const decision = planOne(gpuTie(6, 3), pool, openDecrease(6, 3));
    expect(decision).toMatchObject({
      action: "scale-down",
      desired: 4,
      removing: ["worker-6", "worker-5"],
      pullRequest: { action: "update", number: 3 },
    });
    expect(decision.holds).toContainEqual({
      kind: "pending-fit-unknown",
      pods: ["ai/ollama"],
      max: 4,
      bound: "max",
    });
    expect(decision.scaleDown.bulk).toMatchObject({
      nodes: ["worker-6", "worker-5"],
      stop: { kind: "pending-fit-unknown", max: 4, bound: "max" },
    });
    expect(explainNodeDecision(decision)).toContain(
      "  scale-down: 2 empty nodes go together (at most 5): worker-6, worker-5; no more: the count comes down to the max of 4 and no further while pending pods whose fit on a new node is unknown wait",
    );
  });

  /**
   * `gpuTie` with worker-4 empty, and worker-5 and worker-6 long not Ready (empty): above a max
   * of 5, a decrease removes both, one of them below it, whatever pending pods ask.
   */
  function deadBeyondTheMax(pending = true) {
    const snapshot = gpuTie(4, 3);
    for (const name of ["worker-5", "worker-6"])
      snapshot.nodes.push(node(name, { ...QUIET, ready: false, readySince: ago(3600) }));
    if (!pending) snapshot.pods = snapshot.pods.filter((p) => p.name !== "ollama");
    return snapshot;
  }

  it("removes nodes long not Ready beyond the max too, and names them", () => {
    const pool = { max: 5, scaleDown: { maxEmptyBulk: 5 } };
    expect(planOne(deadBeyondTheMax(false), pool)).toMatchObject({
      removing: ["worker-6", "worker-5", "worker-4"],
    });
    const decision = planOne(deadBeyondTheMax(), pool);
    expect(decision).toMatchObject({
      action: "scale-down",
      desired: 4,
      removing: ["worker-6", "worker-5"],
    });
    expect(kinds(decision.triggers)).toEqual(["above-max"]);
    expect(decision.holds).toContainEqual({
      kind: "pending-fit-unknown",
      pods: ["ai/ollama"],
      unready: ["worker-6", "worker-5"],
    });
    expect(decision.scaleDown.bulk).toMatchObject({
      nodes: ["worker-6", "worker-5"],
      stop: { kind: "pending-fit-unknown" },
    });
    const text = explainNodeDecision(decision);
    expect(text).toContain(
      "  scale-down: 2 empty nodes go together (at most 5): worker-6, worker-5; no more: no node goes for low usage while pending pods whose fit on a new node is unknown wait",
    );
    expect(text).toContain(
      "  hold: ai/ollama is pending and whether a new node would fit it is unknown (fit unknown, above): worker-6, worker-5, not Ready for scaleDown.unreadyTime, may go, but no other node is removed for low usage while it waits, so the room it may need is not given away",
    );
  });

  it("leaves an open decrease of nodes long not Ready below the max while a cooldown holds the pool", () => {
    const open = (desired: number) =>
      planOne(deadBeyondTheMax(), { max: 5 }, inCooldown(120, openDecrease(6, desired)));
    const dead = open(4);
    expect(dead.action).toBe("none");
    expect(kinds(dead.triggers)).toEqual(["above-max"]);
    expect(kinds(dead.holds)).not.toContain("pending-fit-unknown");
    expect(dead.pullRequest).toEqual({ action: "leave", number: 3 });
    // One that removes worker-4 (Ready) too is closed, and the hold names the nodes that may go.
    const further = open(3);
    expect(further.pullRequest).toEqual({ action: "close", number: 3 });
    expect(further.holds).toContainEqual({
      kind: "pending-fit-unknown",
      pods: ["ai/ollama"],
      unready: ["worker-6", "worker-5"],
    });
  });
});
