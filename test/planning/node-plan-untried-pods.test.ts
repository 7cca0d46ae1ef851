import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import type { PodInfo } from "../../src/planning/snapshot.ts";
import { buildSnapshot, nodes, pendingPod, pod } from "../support/snapshot-builder.ts";
import { ago, BUSY, kinds, NOW, planOne, QUIET, twoFullWorkers } from "./plan-helpers.ts";

/** A Pending pod with no PodScheduled condition: the scheduler has not tried it yet. */
function untried(key: string, cpu: string, extra: Partial<PodInfo> = {}): PodInfo {
  return { ...pod(key, { cpu }), createdAt: ago(5), ...extra };
}

describe("pods the scheduler has not tried yet", () => {
  it("adds a node for one that fits no existing node, as for an Unschedulable one", () => {
    const decision = planOne(twoFullWorkers([untried("web/new", "3")]));
    expect(decision).toMatchObject({ action: "scale-up", current: 2, desired: 3 });
    expect(kinds(decision.triggers)).toEqual(["pending-pods"]);
    expect(decision.pending.onNew).toEqual([
      expect.objectContaining({ pod: "web/new", node: "new-1", judged: false }),
    ]);
    expect(explainNodeDecision(decision)).toContain(
      "  pending: web/new (cpu 3, memory 0 B; not yet marked unschedulable by the scheduler) → new-1 (existing nodes: worker-1 and 1 more have too little cpu free)",
    );
  });

  it("places one in free room first and adds no node for it", () => {
    const workers = nodes(2, BUSY);
    const snapshot = buildSnapshot({
      nodes: workers,
      pods: [pod("fill/worker-1", { node: "worker-1", cpu: "3500m" }), untried("web/new", "3")],
    });
    const decision = planOne(snapshot);
    expect(decision.action).toBe("none");
    expect(decision.pending.onExisting).toEqual([
      expect.objectContaining({ pod: "web/new", node: "worker-2", judged: false }),
    ]);
    expect(decision.pending.onNew).toEqual([]);
  });

  it("leaves out the marker for a pod the scheduler marked Unschedulable", () => {
    const decision = planOne(twoFullWorkers([pendingPod("web/marked", { cpu: "3" })]));
    expect(decision.pending.onNew[0]).not.toHaveProperty("judged");
    expect(explainNodeDecision(decision)).toContain(
      "  pending: web/marked (cpu 3, memory 0 B) → new-1 (existing nodes: worker-1 and 1 more have too little cpu free)",
    );
  });

  it("adds no node for a gated pod, another scheduler's, or one the scheduler failed on", () => {
    const decision = planOne(
      twoFullWorkers([
        untried("batch/queued", "3", { schedulingGates: ["kueue.x-k8s.io/admission"] }),
        untried("batch/gated", "3", {
          notScheduled: { reason: "SchedulingGated", message: "" },
        }),
        untried("batch/gang", "3", { schedulerName: "volcano" }),
        untried("web/failed", "3", {
          notScheduled: { reason: "SchedulerError", message: "binding rejected" },
        }),
        untried("web/bare", "3", { notScheduled: { reason: "", message: "" } }),
      ]),
    );
    expect(decision).toMatchObject({ action: "none", current: 2, desired: 2 });
    expect(decision.pending.considered).toBe(0);
  });

  it("adds no node for one the scheduler placed with no node set yet, or whose condition is Unknown", () => {
    const decision = planOne(
      twoFullWorkers([
        untried("web/placed", "3", { podScheduled: "True" }),
        untried("web/unknown", "3", { podScheduled: "Unknown" }),
      ]),
    );
    expect(decision).toMatchObject({ action: "none", current: 2, desired: 2 });
    expect(decision.pending.considered).toBe(0);
  });

  it("adds no node for one being deleted, nominated, a DaemonSet's, or expendable", () => {
    const decision = planOne(
      twoFullWorkers([
        untried("web/going", "3", { deletingSince: ago(1) }),
        untried("web/nominated", "3", { nominatedNode: "worker-1" }),
        untried("kube-system/agent", "3", { daemonSet: true }),
        untried("batch/cheap", "3", { priority: -100 }),
      ]),
      { expendablePriority: -10 },
    );
    expect(decision).toMatchObject({ action: "none", desired: 2 });
    expect(decision.pending.onNew).toEqual([]);
  });

  it("counts scaleUp.pendingFor from its creation", () => {
    const snapshot = twoFullWorkers([untried("web/new", "3", { createdAt: ago(30) })]);
    const early = planOne(snapshot, { scaleUp: { pendingFor: "2m" } });
    expect(early.action).toBe("none");
    expect(early.holds).toEqual([
      { kind: "pending-wait", pods: 1, pendingForMs: 120_000, until: "2025-06-06T12:01:30.000Z" },
    ]);
    const later = planOne(
      snapshot,
      { scaleUp: { pendingFor: "2m" } },
      { now: new Date(NOW.getTime() + 90_000) },
    );
    expect(later).toMatchObject({ action: "scale-up", desired: 3 });
  });

  it("counts one whose creation time cannot be read as having waited, as an Unschedulable one", () => {
    const decision = planOne(twoFullWorkers([untried("web/new", "3", { createdAt: "" })]), {
      scaleUp: { pendingFor: "5m" },
    });
    expect(decision).toMatchObject({ action: "scale-up", desired: 3 });
  });

  it("keeps the node whose room it needs, where another scheduler's pod keeps none", () => {
    // Two quiet workers, each with room for one of the two 3-core pods: removing one strands one.
    const quiet = (extra: Partial<PodInfo>) =>
      buildSnapshot({
        nodes: nodes(2, QUIET),
        pods: [untried("web/a", "3", extra), untried("web/b", "3", extra)],
      });
    const held = planOne(quiet({}));
    expect(held.action).toBe("none");
    expect(held.pending.onExisting.map((placed) => placed.node).sort()).toEqual([
      "worker-1",
      "worker-2",
    ]);
    const other = planOne(quiet({ schedulerName: "volcano" }));
    expect(other).toMatchObject({ action: "scale-down", desired: 1 });
  });

  describe("waiting on their volumes, judged from their claims as the scheduler would", () => {
    const immediate = {
      claim: "data",
      state: "waiting" as const,
      why: "it waits to be bound (StorageClass nfs binds at once)",
    };

    it("adds no node for one whose claim is not bound yet, and says so", () => {
      const decision = planOne(
        twoFullWorkers([
          untried("media/tdarr-0", "3", { volumeClaims: [immediate] }),
          untried("media/sonarr-0", "3", {
            volumeClaims: [{ claim: "config", state: "waiting", why: "it does not exist" }],
          }),
        ]),
      );
      expect(decision).toMatchObject({ action: "none", current: 2, desired: 2 });
      expect(decision.pending.onNew).toEqual([]);
      expect(decision.pending.neverFit).toEqual([
        expect.objectContaining({
          pod: "media/sonarr-0",
          reason: "volumes",
          judged: false,
          claims: [{ claim: "config", why: "it does not exist" }],
        }),
        expect.objectContaining({ pod: "media/tdarr-0", reason: "volumes", judged: false }),
      ]);
      expect(decision.pending.neverFit[0]).not.toHaveProperty("volume");
      expect(explainNodeDecision(decision)).toContain(
        "  never fits: media/tdarr-0 (cpu 3, memory 0 B; not yet marked unschedulable by the scheduler): its volumes keep it pending, which a new node does not change (claim data: it waits to be bound (StorageClass nfs binds at once))",
      );
    });

    it("adds a node for one whose generic ephemeral volume's claim is not made yet", () => {
      // Its controller makes the claim as soon as the pod is; the scheduler waits for that, and
      // names no volume cause, as for a pod it marked while it waited.
      const unmade = {
        claim: "runner-0-work",
        state: "waiting" as const,
        why: "the ephemeral volume controller has not made it yet",
        unmade: true as const,
      };
      const decision = planOne(
        twoFullWorkers([untried("ci/runner-0", "3", { volumeClaims: [unmade] })]),
      );
      expect(decision).toMatchObject({ action: "scale-up", desired: 3 });
      const both = planOne(
        twoFullWorkers([untried("ci/runner-0", "3", { volumeClaims: [unmade, immediate] })]),
      );
      expect(both.pending.neverFit).toEqual([
        expect.objectContaining({ pod: "ci/runner-0", reason: "volumes" }),
      ]);
    });

    it("takes no free room for one, as for one the scheduler marked so", () => {
      const workers = nodes(2, BUSY);
      const snapshot = buildSnapshot({
        nodes: workers,
        pods: [
          pod("fill/worker-1", { node: "worker-1", cpu: "3500m" }),
          untried("media/tdarr-0", "3", { volumeClaims: [immediate] }),
        ],
      });
      const decision = planOne(snapshot);
      expect(decision.pending.onExisting).toEqual([]);
      expect(decision.pending.neverFit.map((entry) => entry.reason)).toEqual(["volumes"]);
    });

    it("adds a node for one whose claims a new node reaches, bound or made where it goes", () => {
      const decision = planOne(
        twoFullWorkers([
          untried("media/tdarr-0", "3", {
            volumeClaims: [
              { claim: "config", state: "bound" },
              { claim: "cache", state: "provisioned", csi: { driver: "csi.example", volume: "c" } },
            ],
          }),
        ]),
      );
      expect(decision).toMatchObject({ action: "scale-up", desired: 3 });
      expect(decision.pending.onNew).toEqual([
        expect.objectContaining({ pod: "media/tdarr-0", judged: false }),
      ]);
    });

    it("leaves a pod the scheduler marked for room to its message, whatever its claims", () => {
      // The scheduler named room, not a volume: its verdict stands over the claims read since.
      const marked = { ...pendingPod("media/tdarr-0", { cpu: "3" }), volumeClaims: [immediate] };
      const decision = planOne(twoFullWorkers([marked]));
      expect(decision).toMatchObject({ action: "scale-up", desired: 3 });
    });
  });
});
