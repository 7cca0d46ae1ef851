import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { clampCount, poolBounds } from "../../src/planning/bounds.ts";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import { planNodes } from "../../src/planning/node-plan.ts";
import {
  buildSnapshot,
  type NodeSpec,
  node,
  nodes,
  pendingPod,
  pod,
} from "../support/snapshot-builder.ts";
import { BUSY, kinds, NOW, planOne, poolInput, QUIET, repoConfig } from "./plan-helpers.ts";

function fullWithPending(count: number, pending = 1, spec: NodeSpec = BUSY) {
  const workers = nodes(count, spec);
  return buildSnapshot({
    nodes: workers,
    pods: [
      ...workers.map((w) => pod(`fill/${w.name}`, { node: w.name, cpu: "3500m" })),
      ...Array.from({ length: pending }, (_, i) => pendingPod(`web/p${i}`, { cpu: "3" })),
    ],
  });
}

describe("a repo without pools", () => {
  it("plans nothing", () => {
    const snapshot = fullWithPending(2);
    expect(planNodes({ snapshot, config: repoConfig(), repo: [], now: NOW })).toEqual([]);
  });
});

describe("safety stops", () => {
  it("takes no action when more than 45 % of the pool's nodes are not Ready", () => {
    const workers = [
      ...nodes(2, BUSY),
      node("worker-3", { ready: false }),
      node("worker-4", { ready: false }),
    ];
    const snapshot = buildSnapshot({ nodes: workers, pods: [pendingPod("web/a", { cpu: "3" })] });
    const decision = planOne(snapshot);
    expect(decision.action).toBe("none");
    expect(decision.holds).toContainEqual({
      kind: "too-many-unready",
      unready: ["worker-3", "worker-4"],
      total: 4,
      percent: 50,
      limit: 45,
    });
  });

  it("does not count a node a decrease removes, not Ready as it shuts down", () => {
    // Lowered from 2 to 1 three minutes ago: worker-2 is going, and stopped being Ready.
    const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();
    const workers = [
      ...nodes(1, BUSY),
      node("worker-2", { ready: false, readySince: minutesAgo(1) }),
    ];
    const lowered = {
      currentValue: 1,
      lastChange: { at: minutesAgo(3), direction: "down" as const },
    };
    const decision = planOne(buildSnapshot({ nodes: workers }), {}, { facts: lowered });
    expect(decision.action).toBe("none");
    expect(kinds(decision.holds)).toEqual(["provisioning", "cooldown"]);
    expect(decision.holds[0]).toMatchObject({ state: "leaving", expected: 1, present: 2 });
    // The node the pool keeps counts: worker-1 not Ready as well is the whole pool.
    const both = [node("worker-1", { ready: false }), workers[1] as (typeof workers)[number]];
    const broken = planOne(buildSnapshot({ nodes: both }), {}, { facts: lowered });
    expect(broken.holds).toContainEqual({
      kind: "too-many-unready",
      unready: ["worker-1"],
      total: 1,
      percent: 100,
      limit: 45,
    });
  });

  it("counts a not-Ready node beyond the count when which node the decrease removes is unknown", () => {
    // Nodes named without a number: the removal rule cannot tell which of them goes.
    const workers = [node("alpha", BUSY), node("beta", { ready: false })];
    const facts = { currentValue: 1 };
    const decision = planOne(buildSnapshot({ nodes: workers }), {}, { facts });
    expect(decision.holds).toContainEqual(
      expect.objectContaining({ kind: "too-many-unready", unready: ["beta"], total: 2 }),
    );
  });

  it("does not stop at 45 % or below", () => {
    const workers = [...nodes(3, BUSY), node("worker-4", { ready: false })];
    const decision = planOne(buildSnapshot({ nodes: workers }));
    expect(kinds(decision.holds)).not.toContain("too-many-unready");
  });

  it("with okUnready, stops only when the nodes not Ready are more than that many as well", () => {
    // One dead worker of two: 50 % > 45 % holds the pool by default. okUnready 1, like
    // cluster-autoscaler's ok-total-unready-count, lets the pending pod get a node; the dead
    // worker's room is not counted on (the pod would fit there).
    const snapshot = buildSnapshot({
      nodes: [node("worker-1", BUSY), node("worker-2", { ready: false })],
      pods: [
        pod("fill/worker-1", { node: "worker-1", cpu: "3500m" }),
        pendingPod("web/a", { cpu: "3" }),
      ],
    });
    const held = planOne(snapshot);
    expect(held.action).toBe("none");
    expect(held.holds).toContainEqual({
      kind: "too-many-unready",
      unready: ["worker-2"],
      total: 2,
      percent: 50,
      limit: 45,
    });
    const allowed = planOne(snapshot, { okUnready: 1 });
    expect(allowed).toMatchObject({ action: "scale-up", current: 2, desired: 3 });
    expect(allowed.holds).toEqual([]);
  });

  it("says okUnready in the hold when it is set, and still stops past it", () => {
    const workers = [
      ...nodes(1, BUSY),
      node("worker-2", { ready: false }),
      node("worker-3", { ready: false }),
      node("worker-4", { ready: false }),
    ];
    const snapshot = buildSnapshot({ nodes: workers });
    const held = planOne(snapshot, { okUnready: 2 });
    expect(held.action).toBe("none");
    expect(held.holds).toContainEqual({
      kind: "too-many-unready",
      unready: ["worker-2", "worker-3", "worker-4"],
      total: 4,
      percent: 75,
      limit: 45,
      okUnready: 2,
    });
    expect(explainNodeDecision(held)).toContain(
      "  hold: 3 of 4 nodes not Ready (75 % > 45 %, and 3 > okUnready 2): worker-2, worker-3, worker-4; no action",
    );
    // At the floor, not past it: 3 not Ready is no more than okUnready 3.
    expect(kinds(planOne(snapshot, { okUnready: 3 }).holds)).not.toContain("too-many-unready");
  });

  it("keeps the percentage stop with okUnready set: both must be passed", () => {
    // 2 of 5 is 40 %, not more than 45 %: okUnready 1 does not make 2 not Ready a stop.
    const workers = [...nodes(3, BUSY), ...nodes(2, { ready: false }, "worker-", 4)];
    const decision = planOne(buildSnapshot({ nodes: workers }), { okUnready: 1 });
    expect(kinds(decision.holds)).not.toContain("too-many-unready");
  });

  it("takes no action on a partial snapshot", () => {
    const snapshot = {
      ...fullWithPending(2),
      complete: false,
      warnings: [
        { code: "list-partial", message: "pods list stopped after 2 pages", subject: "pods" },
      ],
    };
    const decision = planOne(snapshot);
    expect(decision.action).toBe("none");
    expect(decision.triggers.map((t) => t.kind)).toEqual(["pending-pods"]);
    expect(decision.holds).toEqual([
      {
        kind: "snapshot-incomplete",
        warnings: ["pods: pods list stopped after 2 pages"],
        lists: [{ list: "pods", read: "partial" }],
      },
    ]);
  });

  it("gives as the reason only the lists that failed, each named once", () => {
    const denied =
      "poddisruptionbudgets: GET https://127.0.0.1:6443/apis/policy/v1/poddisruptionbudgets?limit=500 failed: HTTP 403";
    const snapshot = {
      ...fullWithPending(2),
      complete: false,
      warnings: [
        {
          code: "metrics-missing",
          message: "no usable metrics for this running pod; usage unknown",
          subject: "pod/web/a",
        },
        { code: "list-failed", message: denied, subject: "poddisruptionbudgets" },
        {
          code: "vpa-not-installed",
          message: "autoscaling.k8s.io/v1 is not served by this cluster (404); none are considered",
          subject: "verticalpodautoscalers",
        },
      ],
    };
    expect(planOne(snapshot).holds).toEqual([
      {
        kind: "snapshot-incomplete",
        warnings: [denied],
        lists: [{ list: "poddisruptionbudgets", read: "failed" }],
      },
    ]);
  });

  it("is not held by lists only right-sizing reads, but by those beside them", () => {
    const failed = (subject: string) => ({
      code: "list-failed",
      message: `${subject}: GET https://127.0.0.1:6443/apis/x/${subject}?limit=500: HTTP 500`,
      subject,
    });
    const rightsizingOnly = {
      ...fullWithPending(2),
      complete: false,
      warnings: [failed("verticalpodautoscalers"), failed("horizontalpodautoscalers")],
    };
    const decision = planOne(rightsizingOnly);
    expect(decision).toMatchObject({ action: "scale-up", desired: 3 });
    expect(decision.holds).toEqual([]);
    const withPods = {
      ...rightsizingOnly,
      warnings: [...rightsizingOnly.warnings, failed("pods")],
    };
    expect(planOne(withPods).holds).toEqual([
      {
        kind: "snapshot-incomplete",
        warnings: [failed("pods").message],
        lists: [{ list: "pods", read: "failed" }],
      },
    ]);
    // An incomplete snapshot that names no list (written by hand) holds the pool all the same.
    expect(planOne({ ...rightsizingOnly, warnings: [] }).holds).toEqual([
      { kind: "snapshot-incomplete", warnings: [], lists: [] },
    ]);
  });

  it("takes no action when the repo's current count is unknown", () => {
    const decision = planOne(
      fullWithPending(2),
      {},
      {
        facts: { currentValue: undefined, currentValueProblem: "worker_count is not a number" },
      },
    );
    expect(decision.action).toBe("none");
    expect(decision.current).toBeUndefined();
    expect(decision.holds).toContainEqual({
      kind: "target-unknown",
      problem: "worker_count is not a number",
    });
  });

  it("does not let unknown usage stop a scale-up for pending pods, which rests on requests", () => {
    const decision = planOne(fullWithPending(2, 1, {}));
    expect(decision.action).toBe("scale-up");
    // Nothing held the scale-up back: the unknown usage is in the utilisation report, not a hold.
    expect(decision.holds).toEqual([]);
    expect(decision.utilisation.cpu.unknownNodes).toEqual(["worker-1", "worker-2"]);
  });

  it("holds a pool left as it is with unknown usage, naming the nodes", () => {
    const decision = planOne(buildSnapshot({ nodes: nodes(2, {}) }));
    expect(decision.action).toBe("none");
    expect(decision.holds).toEqual([
      { kind: "usage-unknown", nodes: ["worker-1", "worker-2"], resources: ["cpu", "memory"] },
    ]);
  });
});

describe("clamping", () => {
  it("limits a scale-up to max and says so", () => {
    const decision = planOne(fullWithPending(2, 5), { max: 4 });
    expect(decision).toMatchObject({ action: "scale-up", current: 2, desired: 4 });
    expect(decision.holds).toContainEqual({ kind: "at-max", wanted: 7, allowed: 4, bound: "max" });
    expect(decision.pending.overMax.map((p) => p.pod)).toEqual(["web/p2", "web/p3", "web/p4"]);
  });

  it("limits a scale-up to the host cap", () => {
    const decision = planOne(fullWithPending(2, 5), {
      host: { memory: "64Gi", reserved: { memory: "8Gi" }, node: { memory: "16Gi" } },
    });
    expect(decision).toMatchObject({ action: "scale-up", desired: 3 });
    expect(decision.bounds).toMatchObject({ hostCap: 3, effectiveMax: 3 });
    expect(decision.holds).toContainEqual({
      kind: "at-max",
      wanted: 7,
      allowed: 3,
      bound: "host-cap",
    });
  });

  it("wants nothing when at max already, and says a node was wanted", () => {
    const decision = planOne(fullWithPending(2, 1), { max: 2 });
    expect(decision.action).toBe("none");
    expect(decision.holds).toContainEqual({ kind: "at-max", wanted: 3, allowed: 2, bound: "max" });
  });

  it("clampCount stays within the bounds", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: -10, max: 100 }),
        (a, b, count) => {
          const bounds = { effectiveMin: Math.min(a, b), effectiveMax: Math.max(a, b) };
          const clamped = clampCount(count, bounds);
          expect(clamped).toBeGreaterThanOrEqual(bounds.effectiveMin);
          expect(clamped).toBeLessThanOrEqual(bounds.effectiveMax);
        },
      ),
    );
  });

  it("never proposes a count below min or above max", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 12 }),
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
        (min, span, workers, pending, quiet, hostMax) => {
          const max = min + span;
          if (hostMax !== undefined && hostMax < min) return;
          const snapshot = fullWithPending(
            workers,
            pending,
            quiet ? QUIET : { usage: { cpu: "3900m", memory: "15Gi" } },
          );
          const pool = {
            min,
            max,
            ...(hostMax !== undefined ? { host: { maxNodes: hostMax } } : {}),
          };
          const decision = planOne(snapshot, pool);
          const upper = Math.min(max, hostMax ?? max);
          if (decision.action === "scale-up") {
            expect(decision.desired).toBeLessThanOrEqual(upper);
            expect(decision.desired).toBeGreaterThan(workers);
          }
          if (decision.action === "scale-down") {
            expect(decision.desired).toBeGreaterThanOrEqual(min);
            expect(decision.desired).toBe(workers - 1);
          }
          if (workers < min && decision.holds.length === 0)
            expect(decision.desired).toBeGreaterThanOrEqual(min);
        },
      ),
    );
  });
});

describe("poolBounds", () => {
  it("keeps a schedule's min within the host cap", () => {
    const [pool] = repoConfig(
      poolInput({
        max: 6,
        host: { maxNodes: 3 },
        schedules: [{ cron: "0 * * * *", duration: "2h", min: 3 }],
      }),
    ).pools;
    const bounds = poolBounds(pool as NonNullable<typeof pool>, NOW);
    expect(bounds).toMatchObject({ min: 1, max: 6, effectiveMin: 3, effectiveMax: 3, hostCap: 3 });
  });
});
