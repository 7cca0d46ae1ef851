import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import type { NodeDecision } from "../../src/planning/node-decision.ts";
import { planNodes } from "../../src/planning/node-plan.ts";
import type { PoolRepoFacts } from "../../src/planning/node-plan-input.ts";
import type { NodeInfo, PodInfo, Snapshot } from "../../src/planning/snapshot.ts";
import {
  buildSnapshot,
  daemonSet,
  type NodeSpec,
  node,
  nodes,
  pendingPod,
  pod,
  type SnapshotSpec,
} from "../support/snapshot-builder.ts";
import { kinds, NOW, planOne, poolInput, repoConfig } from "./plan-helpers.ts";

/** Workers at half their cpu and memory: no utilisation trigger either way. */
const BUSY: NodeSpec = { usage: { cpu: "2", memory: "8Gi" } };

/** Fills a 4-cpu, 16Gi node's requests up to 3.5 cpu and 14Gi. */
function filler(nodeName: string) {
  return pod(`default/fill-${nodeName}`, { node: nodeName, cpu: "3500m", memory: "14Gi" });
}

/** `workers`, each filled, and `pending`; `spec` adds to the snapshot (its DaemonSets). */
function filled(
  workers: NodeInfo[],
  pending: PodInfo[],
  spec: Omit<SnapshotSpec, "nodes" | "pods"> = {},
): Snapshot {
  return buildSnapshot({
    nodes: workers,
    pods: [...workers.map((w) => filler(w.name)), ...pending],
    ...spec,
  });
}

/** `workers` of which only the first is filled, and `pending`: the others have room free. */
function firstFilled(workers: NodeInfo[], pending: PodInfo[]): Snapshot {
  return buildSnapshot({
    nodes: workers,
    pods: [...workers.slice(0, 1).map((w) => filler(w.name)), ...pending],
  });
}

/**
 * Plans pool general, then pool `name` counted at `name`_count, one full node each labelled
 * with its pool (and `labels`), with `pending` waiting; `facts` are general's.
 */
function generalThen(name: string, pending: PodInfo[], labels: Record<string, string> = {}) {
  const general = nodes(1, { ...BUSY, labels: { pool: "general" } }, "general-");
  const other = nodes(1, { ...BUSY, labels: { pool: name, ...labels } }, `${name}-`);
  const snapshot = buildSnapshot({
    nodes: [...general, ...other],
    pods: [filler("general-1"), filler(`${name}-1`), ...pending],
  });
  const config = repoConfig(
    poolInput({ name: "general", selector: { matchLabels: { pool: "general" } } }),
    poolInput({
      name,
      target: { file: "terraform/terraform.tfvars", path: `${name}_count` },
      selector: { matchLabels: { pool: name } },
    }),
  );
  return (facts: Partial<PoolRepoFacts> = {}) =>
    planNodes({
      snapshot,
      config,
      repo: [
        { pool: "general", currentValue: 1, ...facts },
        { pool: name, currentValue: 1 },
      ],
      now: NOW,
    });
}

/** The repo counts no node of the pool: another pool's nodes are the cluster's only ones. */
const NO_NODE_YET = { facts: { currentValue: 0 } };

/** Three nodes' cpu at 90 % on one metrics-server sample. */
const SAMPLED_HOT = { usage: { cpu: "3600m", memory: "8Gi", source: "metrics-server" as const } };

/** The pool's cpu in percent a history holds, 5, 3 and 1 minutes before NOW. */
function cpuHistory(percents: number[]) {
  const pools = [-300, -180, -60].map((s, i) => ({
    pool: "workers",
    at: new Date(NOW.getTime() + s * 1000).toISOString(),
    cpu: percents[i] as number,
  }));
  return { history: { pools } };
}

describe("scale up for pending pods", () => {
  it("adds the nodes first-fit decreasing packing needs", () => {
    const snapshot = filled(nodes(3, BUSY), [
      pendingPod("web/a", { cpu: "3", memory: "2Gi" }),
      pendingPod("web/b", { cpu: "3", memory: "2Gi" }),
      pendingPod("web/c", { cpu: "1", memory: "2Gi" }),
    ]);
    const decision = planOne(snapshot);
    expect(decision).toMatchObject({ action: "scale-up", current: 3, desired: 5 });
    expect(decision.triggers).toEqual([{ kind: "pending-pods", pods: 3, newNodes: 2 }]);
    expect(decision.pending.onNew.map((p) => [p.pod, p.node])).toEqual([
      ["web/a", "new-1"],
      ["web/b", "new-2"],
      ["web/c", "new-1"],
    ]);
  });

  it("uses a cordoned node's room only for pods that tolerate its being cordoned", () => {
    // worker-2 is cordoned with 3.5 cpu free; worker-1 is full. The scheduler's
    // NodeUnschedulable plugin lets a pod in that tolerates node.kubernetes.io/unschedulable.
    const workers = [node("worker-1", BUSY), node("worker-2", { ...BUSY, unschedulable: true })];
    const tolerant = [{ key: "node.kubernetes.io/unschedulable", operator: "Exists" as const }];
    const snapshot = firstFilled(workers, [
      pendingPod("ops/backup", { cpu: "2", memory: "2Gi", tolerations: tolerant }),
      pendingPod("ops/everywhere", {
        cpu: "1",
        memory: "1Gi",
        tolerations: [{ operator: "Exists" }],
      }),
      pendingPod("web/app", { cpu: "1", memory: "1Gi" }),
    ]);
    const decision = planOne(snapshot);
    expect(decision.pending.onExisting.map((p) => [p.pod, p.node])).toEqual([
      ["ops/backup", "worker-2"],
      ["ops/everywhere", "worker-2"],
    ]);
    expect(decision.pending.onNew.map((p) => [p.pod, p.node])).toEqual([["web/app", "new-1"]]);
    expect(decision).toMatchObject({ action: "scale-up", current: 2, desired: 3 });
  });

  it("uses free room on existing nodes before counting new nodes", () => {
    const snapshot = firstFilled(nodes(2, BUSY), [
      pendingPod("web/small", { cpu: "1", memory: "2Gi" }),
      pendingPod("web/big", { cpu: "3", memory: "8Gi" }),
      pendingPod("web/big2", { cpu: "3", memory: "8Gi" }),
    ]);
    const decision = planOne(snapshot);
    expect(decision.pending.onExisting.map((p) => [p.pod, p.node])).toEqual([
      ["web/big", "worker-2"],
      ["web/small", "worker-2"],
    ]);
    expect(decision.pending.onNew.map((p) => p.pod)).toEqual(["web/big2"]);
    expect(decision).toMatchObject({ action: "scale-up", current: 2, desired: 3 });
  });

  it("adds nothing when every pending pod fits existing free room", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(2, BUSY),
      pods: [pendingPod("web/a", { cpu: "1", memory: "1Gi" })],
    });
    const decision = planOne(snapshot);
    expect(decision.action).toBe("none");
    expect(decision.pending.onExisting).toHaveLength(1);
    expect(decision.triggers).toEqual([]);
  });

  it("ignores pods that can never fit and says why", () => {
    const snapshot = filled(nodes(2, { ...BUSY, labels: { pool: "workers" } }), [
      pendingPod("ml/train", { cpu: "1", memory: "64Gi" }),
      pendingPod("db/ssd-only", { cpu: "1", nodeSelector: { disk: "ssd" } }),
      pendingPod("db/other-pool", {
        affinity: [{ matchExpressions: [{ key: "pool", operator: "In", values: ["gpu"] }] }],
      }),
    ]);
    const decision = planOne(snapshot);
    expect(decision.action).toBe("none");
    expect(decision.pending.neverFit.map((p) => [p.pod, p.reason])).toEqual([
      ["ml/train", "too-large"],
      ["db/ssd-only", "node-selector"],
      ["db/other-pool", "node-affinity"],
    ]);
  });

  it("fits a pod whose selector and affinity match labels every pool node has", () => {
    const snapshot = filled(nodes(2, { ...BUSY, labels: { pool: "workers", disk: "ssd" } }), [
      pendingPod("db/ssd", {
        cpu: "2",
        nodeSelector: { disk: "ssd" },
        affinity: [{ matchExpressions: [{ key: "pool", operator: "NotIn", values: ["gpu"] }] }],
      }),
    ]);
    expect(planOne(snapshot)).toMatchObject({ action: "scale-up", desired: 3 });
  });

  it("respects taints the pool's nodes share: only tolerating pods add nodes", () => {
    const taints = [{ key: "dedicated", value: "batch", effect: "NoSchedule" as const }];
    const workers = nodes(2, { ...BUSY, taints });
    const intolerant = filled(workers, [pendingPod("web/a", { cpu: "2" })]);
    const decision = planOne(intolerant);
    expect(decision.action).toBe("none");
    expect(decision.pending.neverFit.map((p) => p.reason)).toEqual(["taints"]);
    const tolerations = [{ key: "dedicated", operator: "Equal" as const, value: "batch" }];
    const tolerant = filled(workers, [pendingPod("batch/a", { cpu: "2", tolerations })]);
    expect(planOne(tolerant)).toMatchObject({ action: "scale-up", desired: 3 });
  });

  it("keeps room on a new node for the DaemonSets every node runs", () => {
    const workers = nodes(2, BUSY);
    const daemons = workers.map((w) =>
      pod(`kube-system/cilium-${w.name}`, {
        node: w.name,
        cpu: "300m",
        memory: "512Mi",
        daemonSet: true,
        owner: { kind: "DaemonSet", name: "cilium" },
      }),
    );
    const snapshot = buildSnapshot({
      nodes: workers,
      pods: [
        ...daemons,
        ...workers.map((w) => filler(w.name)),
        pendingPod("web/a", { cpu: "3800m" }),
      ],
    });
    const decision = planOne(snapshot);
    expect(decision.nodes.shape?.daemonSetOverhead).toEqual({
      cpu: 300,
      memory: 512 * 2 ** 20,
      pods: 1,
    });
    expect(decision.pending.neverFit).toEqual([
      expect.objectContaining({ pod: "web/a", reason: "too-large", resource: "cpu" }),
    ]);
  });

  it("does not count pending DaemonSet or mirror pods, nor pods left to another scheduler", () => {
    // Not tried yet, and not the default scheduler's to try: only its own scheduler judges it.
    const justCreated: PodInfo = {
      ...pendingPod("web/new", { cpu: "3" }),
      schedulerName: "volcano",
    };
    delete justCreated.unschedulable;
    const snapshot = filled(nodes(1, BUSY), [
      pendingPod("kube-system/ds", { cpu: "3", daemonSet: true }),
      pendingPod("kube-system/mirror", { cpu: "3", mirror: true }),
      justCreated,
    ]);
    const decision = planOne(snapshot);
    expect(decision.action).toBe("none");
    expect(decision.pending.considered).toBe(0);
  });

  it("leaves pending pods alone when the pool does not scale for them", () => {
    const snapshot = filled(nodes(1, BUSY), [pendingPod("web/a", { cpu: "3" })]);
    const decision = planOne(snapshot, { scaleUp: { pendingPods: false } });
    expect(decision.action).toBe("none");
    expect(decision.pending.enabled).toBe(false);
  });

  it("lets an earlier pool take a pending pod so a later pool does not add a node for it too", () => {
    const [first, second] = generalThen("batch", [pendingPod("web/a", { cpu: "2" })])();
    expect(first).toMatchObject({ pool: "general", action: "scale-up", desired: 2 });
    expect(second).toMatchObject({ pool: "batch", action: "none" });
    expect(second?.pending.considered).toBe(0);
  });

  it("offers pods an earlier pool could not hold to the next pool", () => {
    const pending = [pendingPod("ml/a", { cpu: "2", nodeSelector: { gpu: "yes" } })];
    const [first, second] = generalThen("gpu", pending, { gpu: "yes" })();
    // The first pool does not list as never fitting a pod the second one takes.
    expect(first?.pending.neverFit).toEqual([]);
    expect(second).toMatchObject({ action: "scale-up", desired: 2 });
    expect(second?.pending.onNew.map((p) => p.pod)).toEqual(["ml/a"]);
  });

  describe("a pool held from any change leaves the pods it would add a node for to the next", () => {
    const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();
    const plan = generalThen("batch", [pendingPod("web/a", { cpu: "2" })]);

    it("hands the pod over when the node of its last raise never joined", () => {
      // The repo asks for 2 general nodes since 16 minutes: past provisionTimeout, one is missing.
      const [first, second] = plan({
        currentValue: 2,
        lastChange: { at: ago(16), direction: "up" },
      });
      expect(kinds(first?.holds ?? [])).toContain("provisioning-failed");
      expect(first?.pending.onNew).toEqual([]);
      expect(first?.pending.elsewhere).toEqual([
        expect.objectContaining({ pod: "web/a", pool: "batch", held: true }),
      ]);
      expect(kinds(first?.triggers ?? [])).not.toContain("pending-pods");
      expect(second).toMatchObject({ pool: "batch", action: "scale-up", desired: 2 });
    });

    it("keeps the pod while its open pull request raising the count may still merge", () => {
      const [first, second] = plan({
        currentValue: 2,
        lastChange: { at: ago(16), direction: "up" },
        openPullRequest: { number: 7, from: 2, desired: 3 },
      });
      expect(kinds(first?.holds ?? [])).toContain("provisioning-failed");
      expect(first?.pending.onNew.map((placement) => placement.pod)).toEqual(["web/a"]);
      expect(second).toMatchObject({ pool: "batch", action: "none" });
    });

    it("keeps the pod through a cooldown, which is over in minutes", () => {
      const [first, second] = plan({ lastChange: { at: ago(2), direction: "up" } });
      expect(kinds(first?.holds ?? [])).toContain("cooldown");
      expect(first?.pending.onNew.map((placement) => placement.pod)).toEqual(["web/a"]);
      expect(second).toMatchObject({ pool: "batch", action: "none" });
      expect(second?.pending.considered).toBe(0);
    });
  });

  it("uses a configured node shape when the pool has no nodes yet", () => {
    const snapshot = buildSnapshot({ pods: [pendingPod("ml/a", { cpu: "6", memory: "20Gi" })] });
    const decision = planOne(snapshot, {
      min: 0,
      newNode: { cpu: "8", memory: "32Gi", labels: { pool: "gpu" } },
    });
    expect(decision).toMatchObject({ action: "scale-up", current: 0, desired: 1 });
    expect(decision.nodes.shape).toMatchObject({
      allocatable: { cpu: 8000, memory: 32 * 2 ** 30, pods: 110 },
      source: "configured",
    });
  });

  it("grows a pool with no node for a pod asking for a GPU that newNode.extendedResources gives", () => {
    const snapshot = buildSnapshot({
      pods: [
        pendingPod("ml/train", { cpu: "2", memory: "8Gi", extended: { "nvidia.com/gpu": 1 } }),
      ],
    });
    const newNode = { cpu: "8", memory: "32Gi", labels: { pool: "gpu" } };
    const without = planOne(snapshot, { min: 0, newNode });
    expect(without.action).toBe("none");
    expect(without.pending.neverFit).toEqual([
      expect.objectContaining({ pod: "ml/train", reason: "too-large", resource: "nvidia.com/gpu" }),
    ]);
    const decision = planOne(snapshot, {
      min: 0,
      newNode: { ...newNode, extendedResources: { "nvidia.com/gpu": 1 } },
    });
    expect(decision).toMatchObject({ action: "scale-up", current: 0, desired: 1 });
    expect(decision.nodes.shape).toMatchObject({
      allocatable: { cpu: 8000, extended: { "nvidia.com/gpu": 1 } },
      source: "configured",
    });
    expect(decision.pending.onNew.map((placed) => placed.pod)).toEqual(["ml/train"]);
  });

  it("keeps room on a new node of a pool with no node for the DaemonSets it would run", () => {
    // Another pool's node runs cilium (which tolerates every taint) and node-exporter (none).
    const other = node("general-1", { labels: { pool: "general" }, usage: BUSY.usage });
    const daemon = (name: string, spec: Parameters<typeof pod>[1]) =>
      pod(`kube-system/${name}-general-1`, {
        node: "general-1",
        memory: "256Mi",
        daemonSet: true,
        owner: { kind: "DaemonSet", name },
        ...spec,
      });
    const job = (name: string, cpu: string) =>
      pendingPod(`ml/${name}`, {
        cpu,
        memory: "1Gi",
        nodeSelector: { pool: "gpu" },
        tolerations: [{ key: "gpu", operator: "Exists" }],
      });
    const snapshot = buildSnapshot({
      nodes: [other],
      pods: [
        daemon("cilium", { cpu: "500m", tolerations: [{ operator: "Exists" }] }),
        daemon("node-exporter", { cpu: "200m" }),
        job("fits", "7500m"),
        job("too-large", "7600m"),
      ],
    });
    const gpu = {
      min: 0,
      selector: { matchLabels: { pool: "gpu" } },
      newNode: {
        cpu: "8",
        memory: "32Gi",
        taints: [{ key: "gpu", value: "true", effect: "NoSchedule" as const }],
      },
    };
    const decision = planOne(snapshot, gpu, NO_NODE_YET);
    expect(decision).toMatchObject({ action: "scale-up", current: 0, desired: 1 });
    expect(decision?.nodes.shape).toMatchObject({
      daemonSetOverhead: { cpu: 500, memory: 256 * 2 ** 20, pods: 1 },
      daemonSetsFrom: "cluster",
    });
    expect(decision?.pending.onNew.map((placed) => placed.pod)).toEqual(["ml/fits"]);
    expect(decision?.pending.neverFit).toEqual([
      expect.objectContaining({ pod: "ml/too-large", reason: "too-large", resource: "cpu" }),
    ]);
    expect(explainNodeDecision(decision as NodeDecision).join("\n")).toContain(
      "DaemonSets take 500m cpu, 256 MiB, 1 pod (the cluster's DaemonSets whose pods admit a new node: the pool has no Ready node)",
    );
  });

  it("adds no node to a pool with no Ready node while the cluster's DaemonSets are unknown", () => {
    const snapshot = buildSnapshot({
      nodes: [node("general-1", { labels: { pool: "general" }, usage: BUSY.usage })],
      pods: [pendingPod("ml/train", { cpu: "1", nodeSelector: { pool: "gpu" } })],
      daemonSets: "unknown",
    });
    const gpu = {
      min: 0,
      selector: { matchLabels: { pool: "gpu" } },
      newNode: { cpu: "8", memory: "32Gi" },
    };
    const decision = planOne(snapshot, gpu, NO_NODE_YET);
    expect(decision).toMatchObject({ action: "none", current: 0 });
    expect(decision?.holds).toContainEqual({
      kind: "shape-unknown",
      daemonSets: "daemonsets-unread",
    });
    expect(decision?.pending.neverFit.map((p) => [p.pod, p.reason])).toEqual([
      ["ml/train", "shape-unknown"],
    ]);
    expect(explainNodeDecision(decision as NodeDecision).join("\n")).toContain(
      "the room on a new node is unknown: the cluster's DaemonSets could not be read",
    );
  });

  it("keeps room on a new node for a DaemonSet whose pods have not started on the pool yet", () => {
    // A new DaemonSet asks 1 cpu of every node; its controller has made no pod yet.
    const snapshot = filled(
      nodes(2, BUSY),
      [
        // One new node of 4 cpu would take both, but not beside the DaemonSet.
        pendingPod("web/a", { cpu: "2", memory: "1Gi" }),
        pendingPod("web/b", { cpu: "2", memory: "1Gi" }),
      ],
      { daemonSets: [daemonSet("security/falco", { cpu: "1", memory: "512Mi" })] },
    );
    const decision = planOne(snapshot);
    expect(decision).toMatchObject({ action: "scale-up", current: 2, desired: 4 });
    expect(decision.nodes.shape?.daemonSetOverhead).toEqual({
      cpu: 1000,
      memory: 512 * 2 ** 20,
      pods: 1,
    });
    expect(decision.pending.onNew.map((p) => [p.pod, p.node])).toEqual([
      ["web/a", "new-1"],
      ["web/b", "new-2"],
    ]);
  });

  it("adds no node for pending pods of a pool with Ready nodes while the cluster's DaemonSets are unknown", () => {
    const snapshot = filled(nodes(2, BUSY), [pendingPod("web/a", { cpu: "1", memory: "1Gi" })], {
      daemonSets: "unknown",
    });
    const decision = planOne(snapshot);
    expect(decision).toMatchObject({ action: "none", current: 2 });
    expect(decision.holds).toContainEqual({
      kind: "shape-unknown",
      daemonSets: "daemonsets-unread",
    });
    expect(decision.pending.neverFit.map((p) => [p.pod, p.reason])).toEqual([
      ["web/a", "shape-unknown"],
    ]);
  });

  it("holds when the size of a new node is unknown", () => {
    const snapshot = buildSnapshot({ pods: [pendingPod("ml/a", { cpu: "1" })] });
    const decision = planOne(snapshot, { min: 0 });
    expect(decision.action).toBe("none");
    expect(kinds(decision.holds)).toContain("shape-unknown");
    expect(decision.pending.neverFit.map((p) => p.reason)).toEqual(["shape-unknown"]);
  });
});

describe("pending pods while nodes join", () => {
  it("counts the nodes on their way before any more, so the max is not said to be in the way", () => {
    // The repo asks for 5 since five minutes ago; 3 are Ready and full; 6 pods of 1.5 cpu wait.
    const snapshot = filled(
      nodes(3, BUSY),
      Array.from({ length: 6 }, (_, i) => pendingPod(`batch/job-${i}`, { cpu: "1500m" })),
    );
    const changed = new Date(NOW.getTime() - 5 * 60_000).toISOString();
    const decision = planOne(
      snapshot,
      { max: 6 },
      { facts: { currentValue: 5, lastChange: { at: changed, direction: "up" } } },
    );
    expect(decision.action).toBe("none");
    expect(kinds(decision.holds)).toContain("provisioning");
    expect(kinds(decision.holds)).not.toContain("at-max");
    // Three nodes hold the six pods: the two joining take four, the one more the other two.
    expect(decision.triggers).toContainEqual({ kind: "pending-pods", pods: 2, newNodes: 1 });
    expect(decision.pending).toMatchObject({ neededNewNodes: 3, awaited: 2 });
    const text = explainNodeDecision(decision);
    expect(text).toContain(
      "  pending pods: 6 considered, 0 fit free room on existing nodes, 6 go on 3 nodes to come (2 joining, 1 new)",
    );
    // Each pod's line tells the nodes on their way from the one more.
    const joined = text.join("\n");
    expect(joined.match(/→ new-[12], a node the repo asks for that is joining \(/g)).toHaveLength(
      4,
    );
    expect(joined.match(/→ new-3 \(/g)).toHaveLength(2);
  });

  it("does not call a node that failed to join in time one to come", () => {
    // The repo asks for 3 since 30 minutes ago; worker-3 never became Ready, past provisionTimeout.
    const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();
    const ready = nodes(2, BUSY);
    const failed = node("worker-3", {
      ready: false,
      createdAt: minutesAgo(29),
      readySince: minutesAgo(29),
    });
    const snapshot = buildSnapshot({
      nodes: [...ready, failed],
      pods: [
        ...ready.map((w) => filler(w.name)),
        pendingPod("web/a", { cpu: "3" }),
        pendingPod("web/b", { cpu: "3" }),
      ],
    });
    const decision = planOne(
      snapshot,
      {},
      { facts: { currentValue: 3, lastChange: { at: minutesAgo(30), direction: "up" } } },
    );
    expect(kinds(decision.holds)).toContain("provisioning-failed");
    expect(decision.pending).toMatchObject({ neededNewNodes: 2, awaited: 1 });
    expect(explainNodeDecision(decision)).toContain(
      "  pending pods: 2 considered, 0 fit free room on existing nodes, 2 go on 2 nodes (1 the repo asks for that did not join in time, 1 new)",
    );
  });
});

describe("scale up on utilisation", () => {
  it("adds nodes when usage over the Prometheus window is above the threshold", () => {
    const snapshot = buildSnapshot({ nodes: nodes(3, { usage: { cpu: "3600m", memory: "8Gi" } }) });
    const decision = planOne(snapshot);
    expect(decision).toMatchObject({ action: "scale-up", current: 3, desired: 4 });
    expect(decision.triggers).toEqual([
      {
        kind: "utilisation",
        resource: "cpu",
        percent: 90,
        threshold: 80,
        windowMs: 300_000,
        basis: "usage-window",
        newNodes: 1,
      },
    ]);
  });

  it("judges a snapshot without Prometheus' points over the whole window, one with them over scaleUp.window's", () => {
    // 10 minutes of 4 cpu nodes: 2 cpu (50 %) for the first 5, 3600m (90 %) for the last 5.
    const usage = {
      cpu: "2800m",
      memory: "8Gi",
      low: { cpu: "2" },
      peak: { cpu: "3600m" },
      windowSeconds: 600,
    };
    const saved = buildSnapshot({ nodes: nodes(3, { usage }) });
    const before = planOne(saved);
    // A snapshot saved before points were kept: the lowest point of the whole window, as before.
    expect(before.action).toBe("none");
    expect(before.utilisation.checks).toContainEqual(
      expect.objectContaining({
        resource: "cpu",
        direction: "above",
        outcome: "not-met",
        basis: "usage-window",
        percent: 50,
      }),
    );
    const withPoints = buildSnapshot({ nodes: nodes(3, { usage }) });
    for (const node of withPoints.nodes) {
      if (!node.usage) throw new Error("no usage");
      node.usage.points = Array.from({ length: 10 }, (_, i) => ({
        at: new Date(NOW.getTime() - (9 - i) * 60_000).toISOString(),
        cpu: i < 5 ? 2000 : 3600,
        memory: 8 * 2 ** 30,
      }));
    }
    const after = planOne(withPoints);
    expect(after).toMatchObject({ action: "scale-up", current: 3, desired: 4 });
    expect(after.triggers).toEqual([
      expect.objectContaining({ kind: "utilisation", resource: "cpu", percent: 90 }),
    ]);
  });

  it("adds as many nodes as bring utilisation below the threshold", () => {
    // 3 × 15.5Gi of 16Gi used: 46.5Gi needs 46.5 / 0.85 = 54.7Gi, 4 nodes are 64Gi: one more.
    const busy = buildSnapshot({ nodes: nodes(3, { usage: { cpu: "1", memory: "15.5Gi" } }) });
    expect(planOne(busy)).toMatchObject({ action: "scale-up", desired: 4 });
    const heavy = buildSnapshot({ nodes: nodes(2, { usage: { cpu: "4", memory: "8Gi" } }) });
    // 8 cpu at 80 % needs more than 10 cpu: 3 nodes (12 cpu) → 1 more.
    expect(planOne(heavy)).toMatchObject({ desired: 3 });
  });

  it("adds as many nodes for utilisation while the DaemonSets are unknown: a new node's size is known", () => {
    // 5 × 4 cpu used: 20 cpu at 80 % needs 25 cpu, 7 nodes (28 cpu) → 2 more.
    const hot = buildSnapshot({
      nodes: nodes(5, { usage: { cpu: "4", memory: "8Gi" } }),
      daemonSets: "unknown",
    });
    const decision = planOne(hot);
    expect(decision).toMatchObject({ action: "scale-up", current: 5, desired: 7 });
    expect(decision.nodes.shape).toBeUndefined();
  });

  it("does not treat a single metrics-server sample as a window", () => {
    const decision = planOne(buildSnapshot({ nodes: nodes(3, SAMPLED_HOT) }));
    expect(decision.action).toBe("none");
    const cpuUp = decision.utilisation.checks.find(
      (c) => c.resource === "cpu" && c.direction === "above",
    );
    expect(cpuUp).toMatchObject({ outcome: "no-evidence", coveredMs: 30_000 });
  });

  it("acts on a single sample when the window is set to 0", () => {
    const decision = planOne(buildSnapshot({ nodes: nodes(3, SAMPLED_HOT) }), {
      scaleUp: { window: "0s" },
    });
    expect(decision).toMatchObject({ action: "scale-up", desired: 4 });
  });

  it("rests on history that covers the window", () => {
    const decision = planOne(
      buildSnapshot({ nodes: nodes(3, SAMPLED_HOT) }),
      {},
      cpuHistory([88, 88, 88]),
    );
    expect(decision.action).toBe("scale-up");
    expect(decision.triggers[0]).toMatchObject({
      kind: "utilisation",
      basis: "history",
      percent: 88,
    });
  });

  it("does not scale up when history shows usage dipped below the threshold in the window", () => {
    const decision = planOne(
      buildSnapshot({ nodes: nodes(3, SAMPLED_HOT) }),
      {},
      cpuHistory([88, 60, 88]),
    );
    expect(decision.action).toBe("none");
    expect(decision.utilisation.checks[0]).toMatchObject({
      outcome: "not-met",
      basis: "history",
      percent: 60,
    });
  });

  it("leaves the control plane out of the pool and its utilisation", () => {
    const snapshot = buildSnapshot({
      nodes: [
        node("cp-1", { controlPlane: true, usage: { cpu: "3900m", memory: "15Gi" } }),
        ...nodes(2, BUSY),
      ],
    });
    const decision = planOne(snapshot);
    expect(decision.nodes.members).toBe(2);
    expect(decision.utilisation.cpu.percent).toBe(50);
    expect(decision.action).toBe("none");
  });
});

describe("scale up on requests", () => {
  const requested = (cpu: string) => {
    const workers = nodes(2, BUSY);
    return buildSnapshot({
      nodes: workers,
      pods: workers.map((w) => pod(`web/${w.name}`, { node: w.name, cpu, memory: "1Gi" })),
    });
  };

  it("adds a node when requests pass the headroom threshold", () => {
    const decision = planOne(requested("3700m"), { scaleUp: { requests: 90 } });
    expect(decision).toMatchObject({ action: "scale-up", desired: 3 });
    expect(decision.triggers).toEqual([
      { kind: "requests", resource: "cpu", percent: 92.5, threshold: 90, newNodes: 1 },
    ]);
  });

  it("is off unless configured", () => {
    expect(planOne(requested("3700m")).action).toBe("none");
  });

  it("counts the DaemonSets each new node brings when it counts the nodes to add", () => {
    // Two 4-cpu nodes, each with a 500m DaemonSet pod beside 3200m of apps: 92.5 % requested.
    const workers = nodes(2, BUSY);
    const snapshot = buildSnapshot({
      nodes: workers,
      pods: workers.flatMap((w) => [
        pod(`web/${w.name}`, { node: w.name, cpu: "3200m", memory: "1Gi" }),
        pod(`kube-system/cilium-${w.name}`, {
          node: w.name,
          cpu: "500m",
          memory: "128Mi",
          daemonSet: true,
          owner: { kind: "DaemonSet", name: "cilium" },
        }),
      ]),
    });
    const decision = planOne(snapshot, {
      scaleUp: { requests: 50 },
      scaleDown: { requests: 40 },
    });
    // Two new nodes would leave (7400m + 2 × 500m) / 16 cpu = 52.5 %, still at or above 50 %:
    // it takes three, at (7400m + 3 × 500m) / 20 cpu = 44.5 %.
    expect(decision.triggers).toEqual([
      { kind: "requests", resource: "cpu", percent: 92.5, threshold: 50, newNodes: 3 },
    ]);
    expect(decision).toMatchObject({ action: "scale-up", current: 2, desired: 5 });
  });
});

describe("scale up to the min", () => {
  it("raises the count to min", () => {
    const decision = planOne(buildSnapshot({ nodes: nodes(1, BUSY) }), { min: 3 });
    expect(decision).toMatchObject({ action: "scale-up", current: 1, desired: 3 });
    expect(decision.triggers).toEqual([{ kind: "below-min", current: 1, min: 3 }]);
  });
});
