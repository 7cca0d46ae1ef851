import { describe, expect, it } from "@jest/globals";
import { toPodInfo } from "../../src/cluster/pod-info.ts";
import { createInterner } from "../../src/cluster/raw.ts";
import { WarningCollector } from "../../src/cluster/warnings.ts";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import type { ScaleDownCondition } from "../../src/planning/node-decision.ts";
import { nodeProposals } from "../../src/planning/proposal.ts";
import type { PodDisruptionBudgetInfo, PodInfo } from "../../src/planning/snapshot.ts";
import {
  buildSnapshot,
  type NodeSpec,
  node,
  nodes,
  pdb,
  pod,
} from "../support/snapshot-builder.ts";
import { kinds, NOW, planOne } from "./plan-helpers.ts";

/** Workers far below every scale-down threshold, measured by Prometheus over an hour. */
const QUIET: NodeSpec = { usage: { cpu: "400m", memory: "2Gi" } };

function quietPool(extraPods: PodInfo[] = [], count = 4) {
  return buildSnapshot({ nodes: nodes(count, QUIET), pods: extraPods });
}

function condition<K extends ScaleDownCondition["kind"]>(
  conditions: ScaleDownCondition[],
  kind: K,
): Extract<ScaleDownCondition, { kind: K }>[] {
  return conditions.filter((c): c is Extract<ScaleDownCondition, { kind: K }> => c.kind === kind);
}

describe("scale down", () => {
  it("removes one node, the one with the highest number, when the pool is underutilised", () => {
    const decision = planOne(
      quietPool([pod("web/a", { node: "worker-4", cpu: "500m", memory: "1Gi" })]),
    );
    expect(decision).toMatchObject({
      action: "scale-down",
      current: 4,
      desired: 3,
      removes: "worker-4",
      pullRequest: { action: "open" },
    });
    expect(decision.triggers).toEqual([expect.objectContaining({ kind: "underutilised" })]);
    expect(decision.scaleDown.conditions.every((c) => c.met)).toBe(true);
  });

  it("removes the node a name template picks", () => {
    const snapshot = buildSnapshot({ nodes: nodes(3, QUIET, "talos-worker-", 0) });
    const decision = planOne(snapshot, { removal: { nameTemplate: "talos-worker-{index}" } });
    expect(decision).toMatchObject({ action: "scale-down", removes: "talos-worker-2" });
    const oneBased = buildSnapshot({ nodes: nodes(3, QUIET, "w", 1) });
    expect(planOne(oneBased, { removal: { nameTemplate: "w{index}", indexBase: 1 } }).removes).toBe(
      "w3",
    );
  });

  it("refuses when the node the template names is not in the pool", () => {
    const snapshot = buildSnapshot({ nodes: nodes(3, QUIET, "worker-", 1) });
    const decision = planOne(snapshot, { removal: { nameTemplate: "talos-worker-{index}" } });
    expect(decision.action).toBe("none");
    expect(condition(decision.scaleDown.conditions, "candidate")).toEqual([
      {
        kind: "candidate",
        met: false,
        problem:
          "node talos-worker-2 (count index 2) is not among the pool's nodes: either it has not joined yet or is gone, or removal.nameTemplate does not match the names",
      },
    ]);
  });

  it("decides on metrics-server's one sample only when unneededTime is 0", () => {
    const sampled = buildSnapshot({
      nodes: nodes(4, { usage: { cpu: "400m", memory: "2Gi", source: "metrics-server" } }),
      pods: [pod("web/a", { node: "worker-4", cpu: "500m", memory: "1Gi" })],
    });
    const windowed = planOne(sampled);
    expect(windowed.action).toBe("none");
    expect(condition(windowed.scaleDown.conditions, "utilisation")[0]).toMatchObject({
      met: false,
      check: { outcome: "no-evidence" },
    });
    const now = planOne(sampled, { scaleDown: { unneededTime: 0 } });
    expect(now).toMatchObject({ action: "scale-down", desired: 3, removes: "worker-4" });
    expect(condition(now.scaleDown.conditions, "utilisation")[0]).toMatchObject({
      met: true,
      check: { outcome: "met", basis: "current", windowMs: 0 },
    });
  });

  it("stays at the min", () => {
    const decision = planOne(quietPool([], 2), { min: 2 });
    expect(decision.action).toBe("none");
    expect(condition(decision.scaleDown.conditions, "above-min")[0]).toMatchObject({ met: false });
  });

  describe("before a schedule window", () => {
    // NOW is Friday 12:00 UTC; a node removed now could be back after cooldown (5m) and
    // provisionTimeout (15m), at 12:20.
    const friday = (cron: string, min = 4) => ({
      schedules: [{ name: "noon-batch", cron, timezone: "UTC", duration: "2h", min }],
    });

    it("keeps a node a window opening sooner than it could be back will need", () => {
      const decision = planOne(quietPool(), friday("10 12 * * 5"));
      expect(decision.action).toBe("none");
      expect(decision.holds).toContainEqual({
        kind: "schedule-soon",
        schedule: "noon-batch",
        opensAt: "2025-06-06T12:10:00.000Z",
        min: 4,
        horizonMs: 20 * 60_000,
      });
      expect(explainNodeDecision(decision)).toContain(
        "  hold: schedule noon-batch opens at 2025-06-06 12:10 UTC with min 4, sooner than a node removed now could be back (cooldown + provisionTimeout): the count stays at 4 or more",
      );
    });

    it("closes an open decrease below the window's min rather than leave it to be merged", () => {
      const open = (desired: number) =>
        planOne(quietPool(), friday("10 12 * * 5"), {
          facts: { openPullRequest: { number: 9, desired } },
        }).pullRequest;
      expect(open(3)).toEqual({ action: "close", number: 9 });
      // A pull request that raises the count is not the window's business.
      expect(open(5)).toEqual({ action: "leave", number: 9 });
    });

    it("closes an open decrease below the window's min while a cooldown holds the pool", () => {
      const cooldown = {
        lastChange: { at: "2025-06-06T11:58:00.000Z", direction: "down" as const },
      };
      const open = (desired: number) =>
        planOne(quietPool(), friday("10 12 * * 5", 3), {
          facts: { openPullRequest: { number: 9, desired, from: 4 }, ...cooldown },
        });
      const below = open(2);
      expect(below.action).toBe("none");
      expect(kinds(below.holds)).toEqual(["cooldown", "schedule-soon"]);
      expect(below.pullRequest).toEqual({ action: "close", number: 9 });
      expect(explainNodeDecision(below)).toContain(
        "  hold: schedule noon-batch opens at 2025-06-06 12:10 UTC with min 3, sooner than a node removed now could be back (cooldown + provisionTimeout): the count stays at 3 or more",
      );
      // Down to the window's min it is what the plan makes once the cooldown is over.
      const toMin = open(3);
      expect(kinds(toMin.holds)).toEqual(["cooldown"]);
      expect(toMin.pullRequest).toEqual({ action: "leave", number: 9 });
    });

    it("leaves an open decrease that removes only a node long not Ready while a cooldown holds the pool", () => {
      // worker-4 has not been Ready since 11:00: the decrease to 3 goes before the window all the
      // same (its min then brings a new node), so the window does not close it.
      const snapshot = buildSnapshot({
        nodes: [
          ...nodes(3, QUIET),
          node("worker-4", { ...QUIET, ready: false, readySince: "2025-06-06T11:00:00.000Z" }),
        ],
      });
      const open = (desired: number) =>
        planOne(snapshot, friday("10 12 * * 5"), {
          facts: {
            openPullRequest: { number: 9, desired, from: 4 },
            lastChange: { at: "2025-06-06T11:58:00.000Z", direction: "down" as const },
          },
        });
      const dead = open(3);
      expect(dead.action).toBe("none");
      expect(kinds(dead.holds)).toEqual(["cooldown"]);
      expect(dead.pullRequest).toEqual({ action: "leave", number: 9 });
      // One that removes a Ready node too is below what the window keeps: closed.
      const further = open(2);
      expect(kinds(further.holds)).toContain("schedule-soon");
      expect(further.pullRequest).toEqual({ action: "close", number: 9 });
    });

    it("keeps to what the plan removes before the window when a cooldown holds an open decrease", () => {
      // worker-3 (of 3) and worker-4 (of 4) have not been Ready since 11:00.
      const withDead = (count: number) =>
        buildSnapshot({
          nodes: [
            ...nodes(count - 1, QUIET),
            node(`worker-${count}`, {
              ...QUIET,
              ready: false,
              readySince: "2025-06-06T11:00:00.000Z",
            }),
          ],
        });
      const cooldown = {
        lastChange: { at: "2025-06-06T11:58:00.000Z", direction: "down" as const },
      };
      const open = (count: number, min: number, desired: number) =>
        planOne(withDead(count), friday("10 12 * * 5", min), {
          facts: { openPullRequest: { number: 9, desired, from: count }, ...cooldown },
        });
      // Below the window's min already, the node long not Ready still goes before it opens.
      const dead = open(3, 5, 2);
      expect(dead.action).toBe("none");
      expect(kinds(dead.holds)).toEqual(["cooldown"]);
      expect(dead.pullRequest).toEqual({ action: "leave", number: 9 });
      expect(planOne(withDead(3), friday("10 12 * * 5", 5))).toMatchObject({
        action: "scale-down",
        removing: ["worker-3"],
      });
      // 4 → 2 takes worker-3, Ready, below the window's min of 3 as well: once the cooldown is
      // over the plan removes worker-4 alone, so the window closes it.
      const further = open(4, 3, 2);
      expect(kinds(further.holds)).toEqual(["cooldown", "schedule-soon"]);
      expect(further.pullRequest).toEqual({ action: "close", number: 9 });
      expect(planOne(withDead(4), friday("10 12 * * 5", 3))).toMatchObject({
        action: "scale-down",
        removing: ["worker-4"],
      });
    });

    it("removes it when the window opens later than that", () => {
      // One node, as without a schedule.
      const decision = planOne(quietPool(), friday("30 12 * * 5"));
      expect(decision).toMatchObject({ action: "scale-down", desired: 3 });
      expect(kinds(decision.holds)).not.toContain("schedule-soon");
    });

    it("removes empty nodes down to the window's min, not below", () => {
      const decision = planOne(quietPool([], 6), {
        ...friday("10 12 * * 5"),
        scaleDown: { maxEmptyBulk: 10 },
      });
      expect(decision).toMatchObject({ action: "scale-down", current: 6, desired: 4 });
      expect(decision.removing).toEqual(["worker-6", "worker-5"]);
    });
  });

  it("does nothing when scale-down is disabled, and says so instead of listing conditions", () => {
    const decision = planOne(quietPool(), { scaleDown: { enabled: false } });
    expect(decision.action).toBe("none");
    const lines = explainNodeDecision(decision);
    expect(lines.filter((line) => line.startsWith("  scale-down:"))).toEqual([
      "  scale-down: off (scaleDown.enabled is false): no node is removed",
    ]);
    expect(nodeProposals([decision], new Map()).notes[0]?.level).toBe("info");
  });

  it("keeps a pool above its max when scale-down is disabled, as a warning for a person", () => {
    const decision = planOne(quietPool(), { max: 3, scaleDown: { enabled: false } });
    expect(decision).toMatchObject({ action: "none", desired: 4 });
    expect(kinds(decision.triggers)).toEqual(["above-max"]);
    expect(decision.scaleDown.refusedBy).toBeUndefined();
    const lines = explainNodeDecision(decision);
    expect(lines).toContain("  trigger: count 4 is above the max of 3");
    expect(lines.filter((line) => line.startsWith("  scale-down:"))).toEqual([
      "  scale-down: off (scaleDown.enabled is false): no node is removed, so the count stays above the max until it is lowered by hand",
    ]);
    expect(nodeProposals([decision], new Map()).notes[0]?.level).toBe("warning");
  });

  it("keeps the pool when requests are at the requests threshold", () => {
    const heavy = nodes(4, QUIET).map((w) => pod(`web/${w.name}`, { node: w.name, memory: "8Gi" }));
    const decision = planOne(quietPool(heavy));
    expect(decision.action).toBe("none");
    expect(condition(decision.scaleDown.conditions, "requests")).toEqual([
      { kind: "requests", met: true, resource: "cpu", percent: 0, threshold: 50, basis: "current" },
      {
        kind: "requests",
        met: false,
        resource: "memory",
        percent: 50,
        threshold: 50,
        basis: "current",
      },
    ]);
  });

  it("keeps the pool when one resource is above its scale-down threshold", () => {
    const snapshot = buildSnapshot({ nodes: nodes(4, { usage: { cpu: "400m", memory: "7Gi" } }) });
    const decision = planOne(snapshot);
    expect(decision.action).toBe("none");
    expect(decision.triggers).toEqual([]);
  });

  it("uses the window's percentile, not its average, to decide usage stayed low", () => {
    const spiky = { usage: { cpu: "400m", memory: "2Gi", peak: { cpu: "1600m", memory: "2Gi" } } };
    const decision = planOne(buildSnapshot({ nodes: nodes(4, spiky) }));
    expect(decision.action).toBe("none");
    expect(condition(decision.scaleDown.conditions, "utilisation")[0]?.check).toMatchObject({
      outcome: "not-met",
      basis: "usage-window",
      percent: 40,
    });
  });
});

describe("scale down needs a sustained window", () => {
  it("never scales down on a single metrics-server sample", () => {
    const sample = { usage: { cpu: "400m", memory: "2Gi", source: "metrics-server" as const } };
    const decision = planOne(buildSnapshot({ nodes: nodes(4, sample) }));
    expect(decision.action).toBe("none");
    expect(
      condition(decision.scaleDown.conditions, "utilisation").map((c) => c.check.outcome),
    ).toEqual(["no-evidence", "no-evidence"]);
  });

  it("does not scale down on a Prometheus average without its percentile", () => {
    const averageOnly = { usage: { cpu: "400m", memory: "2Gi", peak: false as const } };
    expect(planOne(buildSnapshot({ nodes: nodes(4, averageOnly) })).action).toBe("none");
  });

  it("does not scale down when the Prometheus window is shorter than the unneeded time", () => {
    const short = { usage: { cpu: "400m", memory: "2Gi", windowSeconds: 300 } };
    expect(planOne(buildSnapshot({ nodes: nodes(4, short) })).action).toBe("none");
  });

  describe("Prometheus' points up to the end of the window", () => {
    /**
     * Four workers using `cpu` millicores (quiet by default) with a point every minute of the
     * last hour, the last `lastAgo` s ago.
     */
    function pointsEndingAgo(lastAgo: number, cpu = 400) {
      const workers = nodes(4, { usage: { cpu: `${cpu}m`, memory: "2Gi" } });
      for (const worker of workers) {
        if (!worker.usage) throw new Error("no usage");
        worker.usage.points = Array.from({ length: 60 }, (_, i) => ({
          at: new Date(NOW.getTime() - (lastAgo + i * 60) * 1000).toISOString(),
          cpu,
          memory: 2 * 2 ** 30,
        })).reverse();
      }
      return buildSnapshot({ nodes: workers });
    }

    it("does not scale down when the last point is older than 2 minutes: scrapes stopped", () => {
      // Every step of the 10 minutes before is there and quiet; the last 4 minutes are not.
      const decision = planOne(pointsEndingAgo(240));
      expect(decision.action).toBe("none");
      const [cpu, memory] = condition(decision.scaleDown.conditions, "utilisation");
      expect(cpu?.check).toMatchObject({
        outcome: "no-evidence",
        shortfall: { kind: "stale", ageMs: 240_000, maxAgeMs: 120_000 },
        coveredMs: 360_000,
      });
      expect(memory?.check.outcome).toBe("no-evidence");
      const text = explainNodeDecision(decision);
      expect(text).toContain(
        "  scale-down: cpu < 30 % for 10m: no evidence over the window (usage covers 6m, no history, now 10 %; Prometheus' last point is 4m old, more than 2m: its scrapes may have stopped, and staying below is not seen up to now)",
      );
      // Waiting does not cover a window whose points stopped: the hold says they did.
      expect(decision.holds).toEqual([
        expect.objectContaining({
          kind: "window-uncovered",
          checks: [
            expect.objectContaining({ resource: "cpu", lastPointAgeMs: 240_000 }),
            expect.objectContaining({ resource: "memory", lastPointAgeMs: 240_000 }),
          ],
        }),
      ]);
      expect(text).toContain(
        "  hold: cpu < 30 %, memory < 40 % not seen up to now: Prometheus' last point is 4m old; no node is removed until its points reach the end, and an open pull request is left as it is",
      );
      expect(text.join("\n")).not.toContain("not yet over the window");
    });

    it("does not hold an open decrease on points that stopped when they show usage above", () => {
      // Busy at 75 % up to 4 minutes ago: whatever came since, cpu did not stay below 30 % over
      // the 10 minutes, so nothing is held for the window and the decrease is closed.
      const decision = planOne(
        pointsEndingAgo(240, 3000),
        {},
        { facts: { openPullRequest: { number: 7, desired: 3, from: 4 } } },
      );
      expect(decision.action).toBe("none");
      const [cpu] = condition(decision.scaleDown.conditions, "utilisation");
      expect(cpu?.check).toMatchObject({ outcome: "not-met", basis: "usage-window", percent: 75 });
      expect(kinds(decision.holds)).not.toContain("window-uncovered");
      expect(decision.pullRequest).toMatchObject({ action: "close", number: 7 });
    });

    it("names apart a window not covered yet and points that stopped", () => {
      // The checks' shortfalls as a pool's resources may differ: the hold text of each mix.
      const decision = planOne(pointsEndingAgo(240));
      const hold = decision.holds.find((h) => h.kind === "window-uncovered");
      const memory = hold?.checks.find((check) => check.resource === "memory");
      if (!memory) throw new Error("no memory check held");
      memory.lastPointAgeMs = 300_000;
      expect(explainNodeDecision(decision)).toContain(
        "  hold: cpu < 30 % (Prometheus' last point 4m old), memory < 40 % (Prometheus' last point 5m old) not seen up to now; no node is removed until its points reach the end, and an open pull request is left as it is",
      );
      delete memory.lastPointAgeMs;
      memory.coveredMs = 300_000;
      expect(explainNodeDecision(decision)).toContain(
        "  hold: memory < 40 % (shown for 5m of 10m) now, not yet over the window, and cpu < 30 % not seen up to now: Prometheus' last point is 4m old; no node is removed until the points cover the window up to the end, and an open pull request is left as it is",
      );
    });

    it("scales down when the last point is within 2 minutes of the end", () => {
      // The newest step's scrape not yet in: the point before it, 2 minutes old, still counts.
      const decision = planOne(pointsEndingAgo(120));
      expect(decision.action).toBe("scale-down");
      const [cpu] = condition(decision.scaleDown.conditions, "utilisation");
      expect(cpu?.check).toMatchObject({ outcome: "met", basis: "usage-window", percent: 10 });
    });
  });

  it("scales down on history that covers the unneeded time, every sample below", () => {
    const sample = { usage: { cpu: "400m", memory: "2Gi", source: "metrics-server" as const } };
    const at = (s: number) => new Date(NOW.getTime() + s * 1000).toISOString();
    const pools = [-600, -420, -240, -60].map((s) => ({
      pool: "workers",
      at: at(s),
      cpu: 12,
      memory: 15,
    }));
    const decision = planOne(
      buildSnapshot({ nodes: nodes(4, sample) }),
      {},
      { history: { pools } },
    );
    expect(decision.action).toBe("scale-down");
    const [cpu] = condition(decision.scaleDown.conditions, "utilisation");
    expect(cpu?.check).toMatchObject({ outcome: "met", basis: "history", percent: 12, samples: 4 });
  });

  describe("requests over the unneeded time", () => {
    const sample = { usage: { cpu: "400m", memory: "2Gi", source: "metrics-server" as const } };
    const at = (s: number) => new Date(NOW.getTime() + s * 1000).toISOString();
    const GI = 2 ** 30;
    /** Four quiet samples over the last 10 minutes; the one at `busyAt` with 12 GiB requested. */
    const history = (busyAt?: number) =>
      [-600, -420, -240, -60].map((s) => ({
        pool: "workers",
        at: at(s),
        cpu: 12,
        memory: 15,
        cpuRequests: 500,
        memoryRequests: (s === busyAt ? 40 : 1) * GI,
      }));

    it("keeps a node that held requests above the threshold minutes ago (a rollout, a job that ended)", () => {
      const decision = planOne(
        buildSnapshot({ nodes: nodes(4, sample) }),
        {},
        { history: { pools: history(-240) } },
      );
      expect(decision.action).toBe("none");
      // 40 GiB of today's 64 GiB: 62.5 %, four minutes ago.
      expect(condition(decision.scaleDown.conditions, "requests")[1]).toEqual({
        kind: "requests",
        met: false,
        resource: "memory",
        percent: 62.5,
        threshold: 50,
        basis: "history",
      });
      expect(
        explainNodeDecision(decision).some((line) =>
          line.includes(
            "memory requests 63 % < 50 % (the highest over the unneeded time): not met",
          ),
        ),
      ).toBe(true);
    });

    it("removes it once requests stayed below over the whole unneeded time", () => {
      const decision = planOne(
        buildSnapshot({ nodes: nodes(4, sample) }),
        {},
        { history: { pools: history() } },
      );
      expect(decision.action).toBe("scale-down");
      expect(condition(decision.scaleDown.conditions, "requests")[1]).toMatchObject({
        met: true,
        basis: "history",
      });
    });

    it("lets history too short for the window pass when all of it is below", () => {
      const pools = history().slice(2);
      const decision = planOne(
        buildSnapshot({ nodes: nodes(4, QUIET) }),
        {},
        { history: { pools } },
      );
      // The highest known value, 1 GiB of 64 GiB, four minutes ago.
      expect(condition(decision.scaleDown.conditions, "requests")[1]).toMatchObject({
        met: true,
        percent: 1.5625,
      });
    });

    it("judges requests as they are now without any history", () => {
      const decision = planOne(buildSnapshot({ nodes: nodes(4, QUIET) }));
      expect(condition(decision.scaleDown.conditions, "requests")[1]).toMatchObject({
        met: true,
        percent: 0,
        basis: "current",
      });
    });

    it("keeps the node on a high sample in history too short to cover the window (after a restart)", () => {
      // Only the last four minutes are known, and a job held 62.5 % of the memory then.
      const pools = history(-240).slice(2);
      const decision = planOne(
        buildSnapshot({ nodes: nodes(4, QUIET) }),
        {},
        { history: { pools } },
      );
      expect(decision.action).toBe("none");
      expect(condition(decision.scaleDown.conditions, "requests")[1]).toMatchObject({
        met: false,
        percent: 62.5,
        basis: "history",
      });
    });
  });

  it("reads node samples (a Prometheus range) summed per timestamp", () => {
    const sample = { usage: { cpu: "400m", memory: "2Gi", source: "metrics-server" as const } };
    const at = (s: number) => new Date(NOW.getTime() + s * 1000).toISOString();
    const nodeSamples = [-600, -300, 0].flatMap((s) =>
      [1, 2, 3, 4].map((i) => ({ node: `worker-${i}`, at: at(s), cpu: 500, memory: 2 * 2 ** 30 })),
    );
    const decision = planOne(
      buildSnapshot({ nodes: nodes(4, sample) }),
      {},
      { history: { nodes: nodeSamples } },
    );
    expect(decision.action).toBe("scale-down");
    expect(condition(decision.scaleDown.conditions, "utilisation")[0]?.check.percent).toBeCloseTo(
      12.5,
    );
  });

  it("does not scale down when history has a gap in the window", () => {
    const sample = { usage: { cpu: "400m", memory: "2Gi", source: "metrics-server" as const } };
    const at = (s: number) => new Date(NOW.getTime() + s * 1000).toISOString();
    const pools = [-600, -60].map((s) => ({ pool: "workers", at: at(s), cpu: 12, memory: 15 }));
    const decision = planOne(
      buildSnapshot({ nodes: nodes(4, sample) }),
      {},
      { history: { pools } },
    );
    expect(decision.action).toBe("none");
  });

  it("never scales down when a node's usage is unknown", () => {
    const snapshot = buildSnapshot({ nodes: [...nodes(3, QUIET), node("worker-4")] });
    const decision = planOne(snapshot);
    expect(decision.action).toBe("none");
    expect(decision.holds).toContainEqual({
      kind: "usage-unknown",
      nodes: ["worker-4"],
      resources: ["cpu", "memory"],
    });
    expect(condition(decision.scaleDown.conditions, "utilisation")[0]?.check.outcome).toBe(
      "unknown",
    );
  });
});

describe("scale-down blockers", () => {
  const onNode4 = (key: string, spec: Parameters<typeof pod>[1] = {}) =>
    pod(key, { node: "worker-4", cpu: "100m", memory: "128Mi", ...spec });

  it.each<[string, PodInfo[], string]>([
    ["a PDB that allows no disruption", [onNode4("db/pg-0", { labels: { app: "pg" } })], "pdb"],
    [
      "local storage",
      [onNode4("db/cache", { volumes: [{ name: "scratch", type: "emptyDir" }] })],
      "local-storage",
    ],
    ["safe-to-evict false", [onNode4("web/a", { safeToEvict: false })], "safe-to-evict-false"],
    ["do-not-disrupt", [onNode4("web/b", { doNotDisrupt: true })], "do-not-disrupt"],
    ["a bare pod", [onNode4("debug/shell", { owner: null })], "bare-pod"],
    [
      "a pod of a custom controller",
      [onNode4("db/main-1", { owner: { kind: "Cluster", name: "main" } })],
      "custom-controller",
    ],
  ])("blocks removal for %s", (_, pods, kind) => {
    const snapshot = buildSnapshot({
      nodes: nodes(4, QUIET),
      pods,
      pdbs: [pdb("db/pg", { app: "pg" }, 0)],
    });
    const decision = planOne(snapshot);
    expect(decision.action).toBe("none");
    expect(decision.triggers).toEqual([expect.objectContaining({ kind: "underutilised" })]);
    const [noBlockers] = condition(decision.scaleDown.conditions, "no-blockers");
    expect(noBlockers?.met).toBe(false);
    expect(noBlockers?.blockers.map((b) => b.kind)).toEqual([kind]);
  });

  it("blocks when a PDB allows fewer disruptions than its pods on the node", () => {
    const pods = ["web/a", "web/b"].map((key) => onNode4(key, { labels: { app: "web" } }));
    const blocked = buildSnapshot({
      nodes: nodes(4, QUIET),
      pods,
      pdbs: [pdb("web/web", { app: "web" }, 1)],
    });
    const decision = planOne(blocked);
    expect(decision.action).toBe("none");
    expect(decision.blockers.find((b) => b.node === "worker-4")?.blockers[0]).toEqual({
      kind: "pdb",
      pod: "web/a",
      pdb: { name: "web/web", disruptionsAllowed: 1, podsOnNode: 2 },
    });
    const allowed = buildSnapshot({
      nodes: nodes(4, QUIET),
      pods,
      pdbs: [pdb("web/web", { app: "web" }, 2)],
    });
    expect(planOne(allowed).action).toBe("scale-down");
  });

  describe("as the eviction API applies a budget", () => {
    const replica = (key: string, extra: Partial<PodInfo>) => ({
      ...onNode4(key, { labels: { app: "pg" } }),
      ...extra,
    });
    const budget = (extra: Partial<PodDisruptionBudgetInfo> = {}) => ({
      ...pdb("db/pg", { app: "pg" }, 0),
      ...extra,
    });
    const plan = (pods: PodInfo[], budgets: PodDisruptionBudgetInfo[]) =>
      planOne(buildSnapshot({ nodes: nodes(4, QUIET), pods, pdbs: budgets }));
    const blockerKinds = (decision: ReturnType<typeof planOne>) =>
      decision.blockers.find((b) => b.node === "worker-4")?.blockers.map((b) => b.kind) ?? [];

    it("does not hold a node for a pod not yet running there (phase Pending)", () => {
      const starting = replica("db/pg-1", { phase: "Pending" });
      expect(plan([starting], [budget()]).action).toBe("scale-down");
    });

    it("lets AlwaysAllow evict a running pod that is not Ready, and only that pod", () => {
      const unready = replica("db/pg-1", { ready: false });
      const always = budget({ unhealthyPodEvictionPolicy: "AlwaysAllow" });
      expect(plan([unready], [always]).action).toBe("scale-down");
      const healthy = replica("db/pg-2", { ready: true });
      const decision = plan([unready, healthy], [always]);
      expect(decision.action).toBe("none");
      expect(decision.blockers.find((b) => b.node === "worker-4")?.blockers).toEqual([
        {
          kind: "pdb",
          pod: "db/pg-2",
          pdb: { name: "db/pg", disruptionsAllowed: 0, podsOnNode: 1 },
        },
      ]);
    });

    it("under IfHealthyBudget evicts a not-Ready pod only while the budget is healthy", () => {
      const unready = replica("db/pg-1", { ready: false });
      const healthy = budget({ currentHealthy: 2, desiredHealthy: 2 });
      expect(plan([unready], [healthy]).action).toBe("scale-down");
      const explicit = budget({
        unhealthyPodEvictionPolicy: "IfHealthyBudget",
        currentHealthy: 2,
        desiredHealthy: 2,
      });
      expect(plan([unready], [explicit]).action).toBe("scale-down");
      const disrupted = budget({ currentHealthy: 1, desiredHealthy: 2 });
      expect(blockerKinds(plan([unready], [disrupted]))).toEqual(["pdb"]);
      // Health counts the controller has not written leave the budget in charge.
      expect(blockerKinds(plan([unready], [budget()]))).toEqual(["pdb"]);
    });

    it("keeps the budget over a pod with no Ready condition and over a Ready one", () => {
      const always = budget({ unhealthyPodEvictionPolicy: "AlwaysAllow" });
      expect(blockerKinds(plan([replica("db/pg-1", {})], [always]))).toEqual(["pdb"]);
      expect(blockerKinds(plan([replica("db/pg-1", { ready: true })], [always]))).toEqual(["pdb"]);
    });

    it("blocks a running pod that two budgets select, whatever they allow", () => {
      const pods = [replica("db/pg-1", { labels: { app: "pg", tier: "db" } })];
      const budgets = [pdb("db/pg", { app: "pg" }, 5), pdb("db/tier", { tier: "db" }, 5)];
      const decision = plan(pods, budgets);
      expect(decision.action).toBe("none");
      expect(decision.blockers.find((b) => b.node === "worker-4")?.blockers).toEqual([
        { kind: "pdbs-overlap", pod: "db/pg-1", pdbs: ["db/pg", "db/tier"] },
      ]);
      const starting = [{ ...pods[0], phase: "Pending" } as PodInfo];
      expect(plan(starting, budgets).action).toBe("scale-down");
    });
  });

  describe("pods of a custom controller", () => {
    // A CloudNativePG instance: its Cluster, not a StatefulSet, makes the pod, and only it says
    // whether an evicted instance comes back on another node.
    const instance = onNode4("db/main-2", { owner: { kind: "Cluster", name: "main" } });

    it("hold their node by default, naming the controller", () => {
      const decision = planOne(quietPool([instance]));
      expect(decision.action).toBe("none");
      expect(decision.blockers.find((b) => b.node === "worker-4")?.blockers).toEqual([
        { kind: "custom-controller", pod: "db/main-2", owner: { kind: "Cluster", name: "main" } },
      ]);
      expect(explainNodeDecision(decision).join("\n")).toContain(
        "db/main-2: its controller Cluster main is not one Kubernetes ships, and may not recreate it elsewhere (name the kind in scaleDown.replicatedKinds if it does)",
      );
    });

    it("move when scaleDown.replicatedKinds names the kind, or *", () => {
      const named = planOne(quietPool([instance]), {
        scaleDown: { replicatedKinds: ["Cluster"] },
      });
      expect(named).toMatchObject({ action: "scale-down", removing: ["worker-4"] });
      const other = planOne(quietPool([instance]), { scaleDown: { replicatedKinds: ["Rollout"] } });
      expect(other.action).toBe("none");
      const all = planOne(quietPool([instance]), { scaleDown: { replicatedKinds: ["*"] } });
      expect(all.action).toBe("scale-down");
    });

    it("move when scaleDown.replicatedKinds names the kind of their API group, or the kind alone", () => {
      // Two operators' custom resources of one kind: CloudNativePG's and a MySQL operator's.
      const cnpg = onNode4("db/main-2", {
        owner: { kind: "Cluster", name: "main", group: "postgresql.cnpg.io" },
      });
      const mysql = onNode4("db/shop-0", {
        owner: { kind: "Cluster", name: "shop", group: "mysql.example.com" },
      });
      const onlyCnpg = { scaleDown: { replicatedKinds: ["Cluster.postgresql.cnpg.io"] } };
      expect(planOne(quietPool([cnpg]), onlyCnpg)).toMatchObject({
        action: "scale-down",
        removing: ["worker-4"],
      });
      const kept = planOne(quietPool([cnpg, mysql]), onlyCnpg);
      expect(kept.action).toBe("none");
      expect(kept.blockers.find((b) => b.node === "worker-4")?.blockers).toEqual([
        { kind: "custom-controller", pod: "db/shop-0", owner: mysql.owner },
      ]);
      expect(explainNodeDecision(kept).join("\n")).toContain(
        "db/shop-0: its controller Cluster shop is not one Kubernetes ships, and may not recreate it elsewhere (name Cluster.mysql.example.com in scaleDown.replicatedKinds if it does)",
      );
      const anyGroup = { scaleDown: { replicatedKinds: ["Cluster"] } };
      expect(planOne(quietPool([cnpg, mysql]), anyGroup).action).toBe("scale-down");
      // A group is matched whole, not as a suffix.
      const suffix = { scaleDown: { replicatedKinds: ["Cluster.cnpg.io"] } };
      expect(planOne(quietPool([cnpg]), suffix).action).toBe("none");
      // An owner whose group is not known (a snapshot saved before groups were read) is not
      // taken to be the named group's.
      expect(planOne(quietPool([instance]), onlyCnpg).action).toBe("none");
    });

    it("hold their node when they share a kind Kubernetes ships but not its API group", () => {
      // Volcano's Job and OpenKruise's StatefulSet: custom resources named like built-in kinds.
      const volcano = onNode4("ml/train-0", {
        owner: { kind: "Job", name: "train", group: "batch.volcano.sh" },
      });
      const kruise = onNode4("web/shop-0", {
        owner: { kind: "StatefulSet", name: "shop", group: "apps.kruise.io" },
      });
      const held = planOne(quietPool([volcano, kruise]));
      expect(held.action).toBe("none");
      expect(held.blockers.find((b) => b.node === "worker-4")?.blockers).toEqual([
        { kind: "custom-controller", pod: "ml/train-0", owner: volcano.owner },
        { kind: "custom-controller", pod: "web/shop-0", owner: kruise.owner },
      ]);
      expect(
        planOne(quietPool([volcano, kruise]), {
          scaleDown: { replicatedKinds: ["Job.batch.volcano.sh", "StatefulSet.apps.kruise.io"] },
        }).action,
      ).toBe("scale-down");
      // Kubernetes' own, with their group or from a snapshot saved before groups were read.
      const shipped = [
        onNode4("batch/import-0", { owner: { kind: "Job", name: "import", group: "batch" } }),
        onNode4("web/db-0", { owner: { kind: "StatefulSet", name: "db", group: "apps" } }),
        onNode4("web/old-0", { owner: { kind: "StatefulSet", name: "old" } }),
      ];
      expect(planOne(quietPool(shipped))).toMatchObject({
        action: "scale-down",
        removing: ["worker-4"],
      });
    });

    it("move when annotated safe-to-evict true, or expendable", () => {
      const safe = { ...instance, safeToEvict: true };
      expect(planOne(quietPool([safe])).action).toBe("scale-down");
      const expendable = { ...instance, priority: -100 };
      expect(planOne(quietPool([expendable])).action).toBe("scale-down");
    });

    it("are not those of the controllers Kubernetes ships", () => {
      const owners = ["ReplicaSet", "Deployment", "StatefulSet", "Job", "ReplicationController"];
      const pods = owners.map((kind, i) => onNode4(`web/p-${i}`, { owner: { kind, name: "x" } }));
      expect(planOne(quietPool(pods)).action).toBe("scale-down");
    });
  });

  it("lets safe-to-evict true lift local storage and bare-pod blockers", () => {
    const pods = [
      onNode4("web/a", {
        owner: null,
        safeToEvict: true,
        volumes: [{ name: "tmp", type: "emptyDir" }],
      }),
    ];
    expect(planOne(quietPool(pods)).action).toBe("scale-down");
  });

  it("lets safe-to-evict-local-volumes lift local storage for the volumes it names only", () => {
    // Read from the pod's manifest, as the snapshot reads it: the annotation is not kept on
    // PodInfo, only its effect on the blocking volumes.
    const annotated = (names: string) =>
      toPodInfo(
        {
          metadata: {
            namespace: "media",
            name: "jellyfin-0",
            creationTimestamp: "2025-06-06T11:00:00Z",
            annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes": names },
            ownerReferences: [
              { apiVersion: "apps/v1", kind: "StatefulSet", name: "jellyfin", controller: true },
            ],
          },
          spec: {
            nodeName: "worker-4",
            containers: [
              { name: "jellyfin", resources: { requests: { cpu: "100m", memory: "128Mi" } } },
            ],
            volumes: [
              { name: "cache", emptyDir: {} },
              { name: "transcode", emptyDir: { sizeLimit: "20Gi" } },
              { name: "tmp", hostPath: { path: "/tmp/jellyfin" } },
            ],
          },
          status: { phase: "Running" },
        },
        { warnings: new WarningCollector(), claims: [], intern: createInterner() },
      );
    const blockersOf4 = (decision: ReturnType<typeof planOne>) =>
      decision.blockers.find((b) => b.node === "worker-4")?.blockers;

    const allNamed = planOne(quietPool([annotated("cache, transcode, tmp")]));
    expect(blockersOf4(allNamed)).toEqual([]);
    expect(allNamed.action).toBe("scale-down");

    const oneLeftOut = planOne(quietPool([annotated("cache,tmp")]));
    expect(oneLeftOut.action).toBe("none");
    expect(blockersOf4(oneLeftOut)).toEqual([
      {
        kind: "local-storage",
        pod: "media/jellyfin-0",
        volumes: ["transcode (emptyDir)"],
        emptyDirOnly: true,
      },
    ]);
    expect(condition(oneLeftOut.scaleDown.conditions, "no-blockers")[0]?.met).toBe(false);
  });

  it("lets scaleDown.deleteEmptyDirData lift emptyDir on disk, never hostPath or a local volume", () => {
    const scratch = onNode4("web/app", { volumes: [{ name: "tmp", type: "emptyDir" }] });
    const blockersOf4 = (decision: ReturnType<typeof planOne>) =>
      decision.blockers.find((b) => b.node === "worker-4")?.blockers;
    const kept = planOne(quietPool([scratch]));
    expect(kept.action).toBe("none");
    expect(blockersOf4(kept)).toEqual([
      { kind: "local-storage", pod: "web/app", volumes: ["tmp (emptyDir)"], emptyDirOnly: true },
    ]);
    const on = { scaleDown: { deleteEmptyDirData: true } };
    const letGo = planOne(quietPool([scratch]), on);
    expect(letGo).toMatchObject({ action: "scale-down", removes: "worker-4" });
    expect(blockersOf4(letGo)).toEqual([]);

    const both = onNode4("media/jellyfin-0", {
      volumes: [
        { name: "cache", type: "emptyDir" },
        { name: "config", type: "hostPath" },
      ],
    });
    const claimed = onNode4("db/pg-0", {
      volumes: [{ name: "data", type: "local", claim: "data-pg-0" }],
    });
    const still = planOne(quietPool([both, claimed]), on);
    expect(still.action).toBe("none");
    expect(blockersOf4(still)).toEqual([
      { kind: "local-storage", pod: "media/jellyfin-0", volumes: ["config (hostPath)"] },
      { kind: "local-storage", pod: "db/pg-0", volumes: ["data (local)"] },
    ]);
    expect(condition(still.scaleDown.conditions, "no-blockers")[0]?.met).toBe(false);
  });

  it("counts a generic ephemeral volume on a node-local volume as emptyDir scratch, never a claim of its own", () => {
    // The claim is the runner's own, deleted with it: its data dies with the pod.
    const runner = onNode4("ci/runner-1", {
      volumes: [{ name: "work", type: "local", claim: "runner-1-work", ephemeral: true }],
    });
    const blockersOf4 = (decision: ReturnType<typeof planOne>) =>
      decision.blockers.find((b) => b.node === "worker-4")?.blockers;
    const kept = planOne(quietPool([runner]));
    expect(kept.action).toBe("none");
    expect(blockersOf4(kept)).toEqual([
      {
        kind: "local-storage",
        pod: "ci/runner-1",
        volumes: ["work (generic ephemeral, local)"],
        emptyDirOnly: true,
      },
    ]);
    expect(explainNodeDecision(kept).join("\n")).toContain(
      "ci/runner-1: local storage work (generic ephemeral, local) (set scaleDown.deleteEmptyDirData if its data may go with the node)",
    );

    const on = { scaleDown: { deleteEmptyDirData: true } };
    const letGo = planOne(quietPool([runner]), on);
    expect(letGo).toMatchObject({ action: "scale-down", removes: "worker-4" });
    expect(condition(letGo.scaleDown.conditions, "no-blockers")[0]).toMatchObject({
      met: true,
      emptyDirDeleted: ["ci/runner-1 (work (generic ephemeral, local))"],
    });
    // It is no emptyDir: the removal says what it is, and names an emptyDir's pods apart.
    expect(explainNodeDecision(letGo)).toContain(
      "  scale-down: worker-4 has no blockers: met (the data of ci/runner-1 (work (generic ephemeral, local)) is deleted with it, as scaleDown.deleteEmptyDirData allows)",
    );
    const both = onNode4("ci/runner-2", {
      volumes: [
        { name: "tmp", type: "emptyDir" },
        { name: "work", type: "local", claim: "runner-2-work", ephemeral: true },
      ],
    });
    const web = onNode4("web/app", { volumes: [{ name: "tmp", type: "emptyDir" }] });
    const mixed = planOne(quietPool([runner, both, web]), on);
    expect(condition(mixed.scaleDown.conditions, "no-blockers")[0]?.emptyDirDeleted).toEqual([
      "ci/runner-1 (work (generic ephemeral, local))",
      "ci/runner-2 (tmp (emptyDir), work (generic ephemeral, local))",
      "web/app (tmp)",
    ]);
    expect(explainNodeDecision(mixed)).toContain(
      "  scale-down: worker-4 has no blockers: met (the emptyDir data of web/app (tmp) and the data of ci/runner-1 (work (generic ephemeral, local)) and ci/runner-2 (tmp (emptyDir), work (generic ephemeral, local)) are deleted with it, as scaleDown.deleteEmptyDirData allows)",
    );

    // A claim the pod names itself outlives it: it still holds the node, and no hint is given.
    const db = onNode4("db/pg-0", {
      volumes: [
        { name: "data", type: "local", claim: "data-pg-0" },
        { name: "work", type: "local", claim: "pg-0-work", ephemeral: true },
      ],
    });
    expect(blockersOf4(planOne(quietPool([db])))).toEqual([
      {
        kind: "local-storage",
        pod: "db/pg-0",
        volumes: ["data (local)", "work (generic ephemeral, local)"],
      },
    ]);
    expect(blockersOf4(planOne(quietPool([db]), on))).toEqual([
      { kind: "local-storage", pod: "db/pg-0", volumes: ["data (local)"] },
    ]);
  });

  it("names the pods whose emptyDir data goes with the node scaleDown.deleteEmptyDirData lets go", () => {
    const on = { scaleDown: { deleteEmptyDirData: true } };
    const scratch = onNode4("web/app", {
      volumes: [
        { name: "tmp", type: "emptyDir" },
        { name: "cache", type: "emptyDir" },
      ],
    });
    // Its owner let the data go: the key is not what deletes it.
    const safe = onNode4("web/safe", {
      safeToEvict: true,
      volumes: [{ name: "tmp", type: "emptyDir" }],
    });
    const letGo = planOne(quietPool([scratch, safe]), on);
    expect(letGo).toMatchObject({ action: "scale-down", removes: "worker-4" });
    expect(condition(letGo.scaleDown.conditions, "no-blockers")[0]).toMatchObject({
      met: true,
      emptyDirDeleted: ["web/app (tmp, cache)"],
    });
    expect(explainNodeDecision(letGo)).toContain(
      "  scale-down: worker-4 has no blockers: met (the emptyDir data of web/app (tmp, cache) is deleted with it, as scaleDown.deleteEmptyDirData allows)",
    );

    // Without the key nothing is deleted, and the condition says nothing of it.
    const kept = planOne(quietPool([safe]));
    expect(kept.action).toBe("scale-down");
    expect(condition(kept.scaleDown.conditions, "no-blockers")[0]?.emptyDirDeleted).toBeUndefined();

    // Many pods: the first three are named.
    const many = [1, 2, 3, 4, 5].map((index) =>
      onNode4(`web/app-${index}`, { volumes: [{ name: "tmp", type: "emptyDir" }] }),
    );
    expect(explainNodeDecision(planOne(quietPool(many), on))).toContain(
      "  scale-down: worker-4 has no blockers: met (the emptyDir data of web/app-1 (tmp), web/app-2 (tmp), web/app-3 (tmp) and 2 more is deleted with it, as scaleDown.deleteEmptyDirData allows)",
    );
  });

  it("names them for the further nodes of a bulk removal too", () => {
    // Expendable pods leave worker-3 and worker-4 empty: both go, with their scratch.
    const expendable = (name: string, node: string) => ({
      ...pod(name, { node, volumes: [{ name: "tmp", type: "emptyDir" }] }),
      priority: -100,
    });
    const decision = planOne(
      quietPool([expendable("ci/runner-a", "worker-4"), expendable("ci/runner-b", "worker-3")]),
      { scaleDown: { deleteEmptyDirData: true, maxEmptyBulk: 2 } },
    );
    expect(decision).toMatchObject({ action: "scale-down", desired: 2 });
    expect(decision.scaleDown.bulk).toMatchObject({
      nodes: ["worker-4", "worker-3"],
      dropped: ["ci/runner-b"],
      emptyDirDeleted: ["ci/runner-b (tmp)"],
    });
    expect(condition(decision.scaleDown.conditions, "no-blockers")[0]?.emptyDirDeleted).toEqual([
      "ci/runner-a (tmp)",
    ]);
    expect(explainNodeDecision(decision).join("\n")).toContain(
      "2 empty nodes go together (at most 2): worker-4, worker-3 (1 expendable pod dropped, not moved: ci/runner-b; the emptyDir data of ci/runner-b (tmp) is deleted with them, as scaleDown.deleteEmptyDirData allows)",
    );
  });

  it("ignores DaemonSet and mirror pods, as cluster-autoscaler does", () => {
    const pods = [
      onNode4("kube-system/cilium-x", {
        daemonSet: true,
        volumes: [{ name: "bpf", type: "hostPath" }],
      }),
      onNode4("kube-system/static-x", { mirror: true, owner: null }),
    ];
    expect(planOne(quietPool(pods)).action).toBe("scale-down");
  });

  it("keeps a kube-system pod no PDB selects on its node when scaleDown.skipNodesWithSystemPods is set", () => {
    const on = { scaleDown: { skipNodesWithSystemPods: true } };
    const blockersOf4 = (decision: ReturnType<typeof planOne>) =>
      decision.blockers.find((b) => b.node === "worker-4")?.blockers;
    const coredns = onNode4("kube-system/coredns-5d78c9869d-x2k9p", { labels: { k8s: "dns" } });
    const metrics = onNode4("kube-system/metrics-server-7db4fb59f9-q8w2n", {
      labels: { k8s: "metrics" },
    });
    const cilium = onNode4("kube-system/cilium-x", { daemonSet: true });
    const staticPod = onNode4("kube-system/kube-vip-worker-4", { mirror: true, owner: null });

    const blocked = planOne(quietPool([coredns, cilium, staticPod]), on);
    expect(blocked.action).toBe("none");
    expect(blockersOf4(blocked)).toEqual([
      { kind: "system-pod", pod: "kube-system/coredns-5d78c9869d-x2k9p" },
    ]);
    expect(condition(blocked.scaleDown.conditions, "no-blockers")[0]?.met).toBe(false);
    expect(explainNodeDecision(blocked).join("\n")).toContain(
      'kube-system/coredns-5d78c9869d-x2k9p: a kube-system pod no PDB selects, kept on its node by scaleDown.skipNodesWithSystemPods (give it a PDB, or annotate it safe-to-evict: "true", if it may move)',
    );

    // A budget selecting it says how many may go, and is judged as any budget is.
    const budgeted = buildSnapshot({
      nodes: nodes(4, QUIET),
      pods: [coredns, cilium],
      pdbs: [pdb("kube-system/coredns", { k8s: "dns" }, 1)],
    });
    expect(planOne(budgeted, on)).toMatchObject({ action: "scale-down", removes: "worker-4" });
    const spent = buildSnapshot({
      nodes: nodes(4, QUIET),
      pods: [coredns],
      pdbs: [pdb("kube-system/coredns", { k8s: "dns" }, 0)],
    });
    expect(blockersOf4(planOne(spent, on))?.map((b) => b.kind)).toEqual(["pdb"]);
    // A budget of another namespace selects none of its pods.
    const elsewhere = buildSnapshot({
      nodes: nodes(4, QUIET),
      pods: [coredns],
      pdbs: [pdb("default/dns", { k8s: "dns" }, 1)],
    });
    expect(blockersOf4(planOne(elsewhere, on))?.map((b) => b.kind)).toEqual(["system-pod"]);

    // DaemonSet and mirror pods stay with the node: they keep nothing.
    expect(planOne(quietPool([cilium, staticPod]), on).action).toBe("scale-down");
    // Annotated safe-to-evict: "true", its owner let it move.
    const safe = { ...metrics, safeToEvict: true };
    expect(planOne(quietPool([safe]), on).action).toBe("scale-down");
    // Off (the default), kube-system pods move like any other.
    const off = planOne(quietPool([coredns, metrics]));
    expect(off).toMatchObject({ action: "scale-down", removes: "worker-4" });
    expect(blockersOf4(off)).toEqual([]);
  });

  it("keeps the further nodes of a decrease above the max that run a kube-system pod", () => {
    // Down from 4 to the max of 2: worker-3, the second node to go, runs the descheduler.
    const descheduler = pod("kube-system/descheduler-x", { node: "worker-3" });
    expect(planOne(quietPool([descheduler]), { max: 2 })).toMatchObject({
      action: "scale-down",
      desired: 2,
    });
    const kept = planOne(quietPool([descheduler]), {
      max: 2,
      scaleDown: { skipNodesWithSystemPods: true },
    });
    expect(kept).toMatchObject({ action: "scale-down", desired: 3, removes: "worker-4" });
    expect(kept.blockers.find((b) => b.node === "worker-3")?.blockers).toEqual([
      { kind: "system-pod", pod: "kube-system/descheduler-x" },
    ]);
  });

  it("lets an expendable kube-system pod go with its node, as cluster-autoscaler does", () => {
    // cluster-autoscaler leaves pods below its expendable cutoff out of the cluster it simulates
    // a scale-down on, so no drainability rule (skip-nodes-with-system-pods among them) reads one.
    const expendable = {
      ...pod("kube-system/descheduler-x", { node: "worker-3" }),
      priority: -100,
    };
    const on = { maxEmptyBulk: 3, skipNodesWithSystemPods: true };
    const decision = planOne(quietPool([expendable]), { scaleDown: on });
    expect(decision).toMatchObject({ action: "scale-down", desired: 1 });
    expect(decision.blockers.find((b) => b.node === "worker-3")?.blockers).toEqual([]);
    // A budget that selects it still counts: it is what the eviction itself must respect.
    const spent = buildSnapshot({
      nodes: nodes(4, QUIET),
      pods: [{ ...expendable, labels: { app: "descheduler" } }],
      pdbs: [pdb("kube-system/descheduler", { app: "descheduler" }, 0)],
    });
    expect(
      planOne(spent, { scaleDown: on })
        .blockers.find((b) => b.node === "worker-3")
        ?.blockers.map((b) => b.kind),
    ).toEqual(["pdb"]);
  });

  it("lists the blockers of every node, not only the one to remove", () => {
    const pods = [
      pod("db/pg-0", { node: "worker-1", volumes: [{ name: "data", type: "local" }] }),
      pod("web/x", { node: "worker-2", doNotDisrupt: true }),
    ];
    const decision = planOne(quietPool(pods));
    expect(decision.action).toBe("scale-down");
    expect(decision.blockers.map((b) => [b.node, b.blockers.map((x) => x.kind)])).toEqual([
      ["worker-1", ["local-storage"]],
      ["worker-2", ["do-not-disrupt"]],
      ["worker-3", []],
      ["worker-4", []],
    ]);
  });

  it("blocks when the node's pods do not fit on the remaining nodes", () => {
    const workers = nodes(3, QUIET);
    const pods = [
      pod("web/big-1", { node: "worker-1", cpu: "3" }),
      pod("web/big-2", { node: "worker-2", cpu: "3" }),
      pod("web/big-3", { node: "worker-3", cpu: "1500m" }),
    ];
    const decision = planOne(buildSnapshot({ nodes: workers, pods }), {
      scaleDown: { requests: 70 },
    });
    expect(decision.action).toBe("none");
    expect(condition(decision.scaleDown.conditions, "pods-fit")).toEqual([
      {
        kind: "pods-fit",
        met: false,
        node: "worker-3",
        pods: 1,
        unplaced: ["web/big-3"],
        causes: [{ pod: "web/big-3", cause: "room", resources: ["cpu"] }],
      },
    ]);
  });

  it("respects selectors and taints when moving pods elsewhere", () => {
    const workers = [...nodes(3, QUIET), node("worker-4", { ...QUIET, labels: { disk: "ssd" } })];
    const pods = [pod("db/ssd", { node: "worker-4", cpu: "100m", nodeSelector: { disk: "ssd" } })];
    const decision = planOne(buildSnapshot({ nodes: workers, pods }));
    expect(decision.action).toBe("none");
    expect(condition(decision.scaleDown.conditions, "pods-fit")[0]?.unplaced).toEqual(["db/ssd"]);
  });

  it("moves a pod only to a node its volumes can reach", () => {
    const zone = (name: string) => ({ ...QUIET, labels: { "topology.kubernetes.io/zone": name } });
    const workers = [
      node("worker-1", zone("pve-1")),
      node("worker-2", zone("pve-1")),
      node("worker-3", zone("pve-2")),
    ];
    const db: PodInfo = {
      ...pod("db/postgres-0", {
        node: "worker-3",
        cpu: "500m",
        owner: { kind: "StatefulSet", name: "postgres" },
      }),
      volumeClaims: [
        {
          claim: "data-postgres-0",
          state: "bound",
          nodeAffinity: [
            {
              matchExpressions: [
                { key: "topology.kubernetes.io/zone", operator: "In", values: ["pve-2"] },
              ],
            },
          ],
        },
      ],
    };
    const decision = planOne(buildSnapshot({ nodes: workers, pods: [db] }));
    expect(decision.action).toBe("none");
    expect(condition(decision.scaleDown.conditions, "pods-fit")[0]).toMatchObject({
      met: false,
      node: "worker-3",
      causes: [{ pod: "db/postgres-0", cause: "volume-node-affinity" }],
    });
    expect(explainNodeDecision(decision).join("\n")).toContain(
      "db/postgres-0: the node affinity of a volume it mounts matches none of the nodes with room",
    );
  });

  it("never moves a removed node's pods to a cordoned node, even pods that tolerate it", () => {
    // worker-1 is cordoned (being drained) and has room; worker-2 is full.
    const workers = [
      node("worker-1", { ...QUIET, unschedulable: true }),
      node("worker-2", QUIET),
      node("worker-3", QUIET),
    ];
    const pods = [
      pod("web/full", { node: "worker-2", cpu: "3900m" }),
      pod("ops/toolbox", {
        node: "worker-3",
        cpu: "500m",
        tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists" }],
      }),
    ];
    const decision = planOne(buildSnapshot({ nodes: workers, pods }));
    expect(decision.action).toBe("none");
    expect(condition(decision.scaleDown.conditions, "pods-fit")).toEqual([
      {
        kind: "pods-fit",
        met: false,
        node: "worker-3",
        pods: 1,
        unplaced: ["ops/toolbox"],
        causes: [{ pod: "ops/toolbox", cause: "room", resources: ["cpu"] }],
        uncounted: [{ node: "worker-1", why: "cordoned" }],
      },
    ]);
  });
});

describe("projection after removal", () => {
  it("keeps the node when utilisation without it would come near the scale-up threshold", () => {
    // 2 nodes at 25 % cpu: one node would run at 50 %, not below 50 - 10.
    const snapshot = buildSnapshot({ nodes: nodes(2, { usage: { cpu: "1", memory: "2Gi" } }) });
    const decision = planOne(snapshot, { scaleUp: { cpu: 50 }, scaleDown: { cpu: 30 } });
    expect(decision.action).toBe("none");
    expect(condition(decision.scaleDown.conditions, "projection")).toEqual([
      { kind: "projection", met: false, resource: "cpu", projected: 50, limit: 40 },
      { kind: "projection", met: true, resource: "memory", projected: 25, limit: 75 },
    ]);
  });

  it("projects requests too when a requests scale-up threshold is set", () => {
    const workers = nodes(2, QUIET);
    const pods = workers.map((w) => pod(`web/${w.name}`, { node: w.name, cpu: "1900m" }));
    const decision = planOne(buildSnapshot({ nodes: workers, pods }), {
      scaleUp: { requests: 90 },
      scaleDown: { requests: 50 },
    });
    expect(condition(decision.scaleDown.conditions, "projection").at(-1)).toEqual({
      kind: "projection",
      met: false,
      resource: "requests",
      requestsOf: "cpu",
      projected: 95,
      limit: 80,
    });
    expect(decision.action).toBe("none");
  });

  it("names whose requests, cpu's or memory's, the projection of requests is", () => {
    // 7 GiB of 16 on each of two nodes: 44 % of memory, 88 % on one node; cpu requests are less.
    const workers = nodes(2, QUIET);
    const pods = workers.map((w) =>
      pod(`web/${w.name}`, { node: w.name, cpu: "100m", memory: "7Gi" }),
    );
    const decision = planOne(buildSnapshot({ nodes: workers, pods }), {
      scaleUp: { requests: 90 },
      scaleDown: { requests: 50 },
    });
    expect(condition(decision.scaleDown.conditions, "projection").at(-1)).toMatchObject({
      resource: "requests",
      requestsOf: "memory",
      met: false,
    });
    expect(explainNodeDecision(decision)).toContain(
      "  not removed: memory requests after removal would be 88 %, not below 80 %",
    );
  });
});

describe("above max", () => {
  it("removes one node when the count is above max, whatever the usage", () => {
    const snapshot = buildSnapshot({ nodes: nodes(4, { usage: { cpu: "3", memory: "12Gi" } }) });
    const decision = planOne(snapshot, { max: 3 });
    expect(decision).toMatchObject({ action: "scale-down", desired: 3, removes: "worker-4" });
    expect(decision.triggers).toEqual([{ kind: "above-max", current: 4, max: 3, bound: "max" }]);
  });

  it("still respects blockers when above max", () => {
    const pods = [pod("db/pg", { node: "worker-4", volumes: [{ name: "d", type: "emptyDir" }] })];
    const decision = planOne(quietPool(pods), { max: 3 });
    expect(decision.action).toBe("none");
    expect(kinds(decision.triggers)).toEqual(["above-max"]);
  });

  it("treats the host cap like max", () => {
    const decision = planOne(quietPool([], 4), { host: { maxNodes: 3 } });
    expect(decision.triggers[0]).toEqual({
      kind: "above-max",
      current: 4,
      max: 3,
      bound: "host-cap",
    });
    expect(decision.action).toBe("scale-down");
  });
});
