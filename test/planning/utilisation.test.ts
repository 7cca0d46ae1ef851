import { describe, expect, it } from "@jest/globals";
import { indexCluster } from "../../src/planning/cluster-index.ts";
import { poolHistory, poolUtilisationSamples } from "../../src/planning/usage-history.ts";
import {
  maxSampleGap,
  poolUtilisation,
  type ResourceUtilisation,
  sustainedCheck,
  usageWindowCovers,
} from "../../src/planning/utilisation.ts";
import { buildSnapshot, node, nodes, pod, TAKEN_AT } from "../support/snapshot-builder.ts";
import { poolInput, repoConfig } from "./plan-helpers.ts";

const NOW = new Date(TAKEN_AT);
const at = (secondsAgo: number) => NOW.getTime() - secondsAgo * 1000;

function measured(percent: number, extra: Partial<ResourceUtilisation> = {}): ResourceUtilisation {
  return {
    resource: "cpu",
    nodes: 2,
    allocatable: 8000,
    usage: percent * 80,
    percent,
    requests: 0,
    unknownNodes: [],
    ...extra,
  };
}

function check(
  direction: "above" | "below",
  utilisation: ResourceUtilisation,
  history: { at: number; percent: number }[] = [],
  windowMs = 600_000,
) {
  return sustainedCheck({
    resource: "cpu",
    direction,
    threshold: direction === "above" ? 80 : 30,
    windowMs,
    utilisation,
    history,
    now: NOW,
  });
}

describe("poolUtilisation", () => {
  it("sums usage, peaks, lowest points and requests of the Ready nodes", () => {
    const workers = [
      node("w1", {
        usage: { cpu: "1", memory: "4Gi", peak: { cpu: "2", memory: "6Gi" }, low: { cpu: "0.5" } },
      }),
      node("w2", { usage: { cpu: "3", memory: "4Gi", peak: { cpu: "3", memory: "5Gi" } } }),
    ];
    const snapshot = buildSnapshot({ nodes: workers, pods: [pod("a", { node: "w1", cpu: "2" })] });
    const cpu = poolUtilisation(workers, "cpu", indexCluster(snapshot));
    expect(cpu).toEqual({
      resource: "cpu",
      nodes: 2,
      allocatable: 8000,
      usage: 4000,
      percent: 50,
      peak: 5000,
      peakPercent: 62.5,
      percentile: 95,
      low: 3500,
      lowPercent: 43.75,
      requests: 2000,
      requestsPercent: 25,
      windowSeconds: 3600,
      gapSeconds: 60,
      source: "prometheus",
      askedWindowSeconds: 3600,
      unknownNodes: [],
    });
  });

  it("leaves the gap unknown when a node's Prometheus usage does not say it", () => {
    const workers = [
      node("w1", { usage: { cpu: "1", memory: "4Gi", gapSeconds: 120 } }),
      node("w2", { usage: { cpu: "3", memory: "4Gi", gapSeconds: null } }),
    ];
    const cpu = poolUtilisation(workers, "cpu", indexCluster(buildSnapshot({ nodes: workers })));
    expect(cpu).toMatchObject({ percent: 50, windowSeconds: 3600, source: "prometheus" });
    expect(cpu.gapSeconds).toBeUndefined();
  });

  it("leaves usage unknown, never zero, when a node's usage is missing, but keeps requests", () => {
    const workers = [node("w1", { usage: { cpu: "1", memory: "1Gi" } }), node("w2")];
    const cpu = poolUtilisation(workers, "cpu", indexCluster(buildSnapshot({ nodes: workers })));
    expect(cpu.percent).toBeUndefined();
    expect(cpu.usage).toBeUndefined();
    expect(cpu.unknownNodes).toEqual(["w2"]);
    expect(cpu.requestsPercent).toBe(0);
  });

  it("has nothing to say about a pool without Ready nodes", () => {
    const cpu = poolUtilisation([], "cpu", indexCluster(buildSnapshot({})));
    expect(cpu.allocatable).toBeUndefined();
    expect(cpu.percent).toBeUndefined();
  });
});

describe("sustainedCheck", () => {
  it("is unknown when usage is unknown", () => {
    expect(check("below", measured(10, { percent: undefined })).outcome).toBe("unknown");
  });

  it("is not met at once when the current value is on the wrong side", () => {
    expect(check("above", measured(50))).toMatchObject({
      outcome: "not-met",
      basis: "current",
      percent: 50,
    });
  });

  it("says a windowed source's value on the wrong side is the window's, not a sample", () => {
    // Prometheus over 15 minutes, the check over 10: the 50 % is the window's average, and its
    // lowest point the value compared.
    const windowed = { windowSeconds: 900, gapSeconds: 60, source: "prometheus" as const };
    expect(check("above", measured(50, { ...windowed, lowPercent: 40 }))).toMatchObject({
      outcome: "not-met",
      basis: "usage-window",
      percent: 40,
    });
    // Below: the window's percentile is the value compared.
    expect(check("below", measured(35, { ...windowed, peakPercent: 60 }))).toMatchObject({
      outcome: "not-met",
      basis: "usage-window",
      percent: 60,
    });
    // Points that leave a gap too long for the window still show the level was not held.
    const gappy = { ...windowed, gapSeconds: 420 };
    expect(check("above", measured(50, { ...gappy, lowPercent: 40 }))).toMatchObject({
      outcome: "not-met",
      basis: "usage-window",
      percent: 40,
    });
    // Without the percentile the average is all there is, and it is already too high.
    expect(check("below", measured(35, windowed))).toMatchObject({
      outcome: "not-met",
      basis: "current",
      percent: 35,
    });
  });

  it("takes history covering the window, with its lowest value for above", () => {
    const history = [540, 300, 60].map((s, i) => ({ at: at(s), percent: 85 + i }));
    expect(check("above", measured(90), history)).toMatchObject({
      outcome: "met",
      basis: "history",
      percent: 85,
      samples: 3,
      coveredMs: 540_000,
    });
  });

  it("joins history with Prometheus' lowest point for above, and its percentile for below", () => {
    // The app's samples of earlier reads are the window's averages: 87 % each minute, while
    // the last two minutes fell to 13 %. The lowest point of now says it fell.
    const windowed = { windowSeconds: 600, gapSeconds: 60, source: "prometheus" as const };
    const averages = [540, 420, 300, 180, 60].map((s) => ({ at: at(s), percent: 87 }));
    const fell = measured(87, { ...windowed, lowPercent: 13, peakPercent: 100 });
    expect(check("above", fell, averages)).toMatchObject({
      outcome: "not-met",
      basis: "history",
      percent: 13,
    });
    // Quiet on average, with a burst within the window: its percentile keeps the node.
    const quiet = [540, 420, 300, 180, 60].map((s) => ({ at: at(s), percent: 20 }));
    const burst = measured(20, { ...windowed, lowPercent: 10, peakPercent: 45 });
    expect(check("below", burst, quiet)).toMatchObject({
      outcome: "not-met",
      basis: "history",
      percent: 45,
    });
    // metrics-server's sample is the value of now as it is.
    expect(check("below", measured(20), quiet)).toMatchObject({ outcome: "met", percent: 20 });
  });

  it("takes the highest value in the window for below", () => {
    const history = [540, 300, 60].map((s, i) => ({ at: at(s), percent: i === 1 ? 31 : 10 }));
    expect(check("below", measured(10), history)).toMatchObject({
      outcome: "not-met",
      basis: "history",
      percent: 31,
    });
  });

  it("ignores samples older than the window", () => {
    const history = [900, 540, 300, 60].map((s, i) => ({ at: at(s), percent: i === 0 ? 99 : 10 }));
    expect(check("below", measured(10), history)).toMatchObject({ outcome: "met", percent: 10 });
  });

  it("wants samples no further apart than half the window (at least 2 minutes)", () => {
    expect(maxSampleGap(600_000)).toBe(300_000);
    expect(maxSampleGap(60_000)).toBe(120_000);
    const gappy = [580, 60].map((s) => ({ at: at(s), percent: 10 }));
    expect(check("below", measured(10, { windowSeconds: 30 }), gappy)).toMatchObject({
      outcome: "no-evidence",
      samples: 2,
    });
    const late = [250, 60].map((s) => ({ at: at(s), percent: 10 }));
    expect(check("below", measured(10, { windowSeconds: 30 }), late).outcome).toBe("no-evidence");
  });

  it("does not take history younger than the window for the whole window", () => {
    // A sample every minute for the last 15 minutes says nothing about the 15 before them.
    const young = Array.from({ length: 15 }, (_, i) => ({ at: at(900 - i * 60), percent: 10 }));
    const short = measured(10, { windowSeconds: 30 });
    expect(check("below", short, young, 1_800_000)).toMatchObject({
      outcome: "no-evidence",
      coveredMs: 900_000,
      samples: 15,
    });
    const full = Array.from({ length: 30 }, (_, i) => ({ at: at(1800 - i * 60), percent: 10 }));
    expect(check("below", short, full, 1_800_000)).toMatchObject({ outcome: "met", samples: 30 });
  });

  it("lets sparse history start one sampling interval into the window", () => {
    // Every 5 minutes over a 30-minute window: the first sample 4 minutes in is on time.
    const sparse = [1560, 1260, 960, 660, 360, 60].map((s) => ({ at: at(s), percent: 10 }));
    const short = measured(10, { windowSeconds: 30 });
    expect(check("below", short, sparse, 1_800_000).outcome).toBe("met");
    expect(check("below", short, sparse.slice(1), 1_800_000).outcome).toBe("no-evidence");
  });

  it("falls back to the usage source's own window: its lowest point above, its percentile below", () => {
    const windowed = { windowSeconds: 3600, gapSeconds: 60, source: "prometheus" as const };
    const prometheus = measured(85, { ...windowed, peakPercent: 95, lowPercent: 81 });
    // metrics-server's usage is one sample, whatever window it claims.
    const sample = measured(85, { windowSeconds: 3600, peakPercent: 95, source: "metrics-server" });
    expect(check("above", sample).outcome).toBe("no-evidence");
    expect(check("above", prometheus)).toMatchObject({
      outcome: "met",
      basis: "usage-window",
      percent: 81,
    });
    // An average above the threshold over a level that fell within the window (or rose late in
    // it) did not stay above: its lowest point says so.
    const fell = measured(85, { ...windowed, peakPercent: 100, lowPercent: 13 });
    expect(check("above", fell)).toMatchObject({
      outcome: "not-met",
      basis: "usage-window",
      percent: 13,
    });
    // A snapshot saved without lowest points has nothing to judge staying above by.
    expect(check("above", measured(85, { ...windowed, peakPercent: 95 }))).toMatchObject({
      outcome: "no-evidence",
      shortfall: { kind: "no-low" },
    });
    const quiet = measured(10, { ...windowed, peakPercent: 35 });
    expect(check("below", quiet)).toMatchObject({
      outcome: "not-met",
      basis: "usage-window",
      percent: 35,
    });
    const noPeak = measured(10, windowed);
    expect(check("below", noPeak).outcome).toBe("no-evidence");
  });

  it("takes no window as held when Prometheus' usage does not say how its points lie", () => {
    // A hand-written or older snapshot's usage without gapSeconds: the points could be far apart.
    const { gapSeconds: _, ...unsaid } = {
      windowSeconds: 3600,
      gapSeconds: 60,
      source: "prometheus" as const,
    };
    expect(check("above", measured(85, { ...unsaid, peakPercent: 95 }))).toMatchObject({
      outcome: "no-evidence",
      shortfall: { kind: "gap-unknown" },
    });
    expect(check("below", measured(10, { ...unsaid, peakPercent: 12 }))).toMatchObject({
      outcome: "no-evidence",
      shortfall: { kind: "gap-unknown" },
    });
  });

  it("does not take a short usage window for a long one", () => {
    const metricsServer = measured(10, { windowSeconds: 30, peakPercent: 10 });
    expect(check("below", metricsServer)).toMatchObject({
      outcome: "no-evidence",
      coveredMs: 30_000,
    });
  });
});

describe("sustainedCheck on Prometheus' points", () => {
  const windowed = { windowSeconds: 600, gapSeconds: 60, source: "prometheus" as const };
  /** Points every minute up to now, oldest first, `percents` in that order. */
  const minutely = (percents: number[]) =>
    percents.map((percent, i) => ({ at: at((percents.length - 1 - i) * 60), percent }));
  const withPoints = (percents: number[], extra: Partial<ResourceUtilisation> = {}) =>
    measured(72, {
      ...windowed,
      percentile: 95,
      peakPercent: 90,
      lowPercent: 50,
      points: minutely(percents),
      pointsEndMs: NOW.getTime(),
      ...extra,
    });

  it("judges above on the lowest point of the check's own window, not the whole window's", () => {
    // 10 minutes asked for: 50 % for 5 of them, 90 % for the last 5. Its average (72 %) and its
    // lowest point (50 %) say nothing of the last 5 minutes.
    const rose = withPoints([50, 50, 50, 50, 50, 90, 90, 90, 90, 90]);
    expect(check("above", rose, [], 300_000)).toMatchObject({
      outcome: "met",
      basis: "usage-window",
      percent: 90,
      coveredMs: 300_000,
      points: 5,
      heldMs: 300_000,
    });
    // Over 6 minutes, the sixth point from the end is at 50 %: held 5 minutes only.
    expect(check("above", rose, [], 360_000)).toMatchObject({
      outcome: "not-met",
      percent: 50,
      heldMs: 300_000,
    });
  });

  it("judges below on the percentile of the check's own window, as Prometheus interpolates", () => {
    // The last 10 of 20 points: 10, 20, …, 100 % sorted; p95 is 0.45 × 90 + 0.55 × 100.
    const points = [
      ...Array.from({ length: 10 }, () => 5),
      100,
      10,
      90,
      20,
      80,
      30,
      70,
      40,
      60,
      50,
    ];
    const mixed = withPoints(points, { windowSeconds: 1200 });
    const judged = check("below", mixed, [], 600_000);
    expect(judged).toMatchObject({ outcome: "not-met", points: 10, percentile: 95 });
    expect(judged.percent).toBeCloseTo(95.5, 9);
    const quiet = withPoints([90, 90, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20], {
      windowSeconds: 720,
    });
    expect(check("below", quiet, [], 600_000)).toMatchObject({ outcome: "met", percent: 20 });
  });

  it("takes no evidence from points that do not reach back to the check's start", () => {
    // 4 minutes of points for a 5 minute check, 9 for a 10 minute one.
    const young = withPoints([90, 90, 90, 90], { percent: 90, windowSeconds: 240, lowPercent: 90 });
    expect(check("above", young, [], 300_000)).toMatchObject({
      outcome: "no-evidence",
      shortfall: { kind: "short" },
    });
    const idle = withPoints([20, 20, 20, 20, 20, 20, 20, 20, 20], {
      percent: 20,
      windowSeconds: 540,
      peakPercent: 20,
    });
    expect(check("below", idle, [], 600_000).outcome).toBe("no-evidence");
  });

  it("takes no evidence from points with a gap longer than max(2 min, half the check's window)", () => {
    // The points 3, 2 and 1 minutes ago are missing: 4 minutes between two points, more than
    // the 2.5 a 5 minute check allows, less than the 5 a 10 minute one does.
    const points = minutely([90, 90, 90, 90, 90, 90, 90, 90, 90, 90]).filter(
      (_, i) => i < 6 || i > 8,
    );
    const gapped = measured(90, {
      ...windowed,
      gapSeconds: 240,
      lowPercent: 90,
      peakPercent: 90,
      points,
      pointsEndMs: NOW.getTime(),
    });
    expect(check("above", gapped, [], 300_000)).toMatchObject({
      outcome: "no-evidence",
      shortfall: { kind: "gap" },
    });
    expect(check("above", gapped, [], 600_000)).toMatchObject({ outcome: "met", points: 7 });
    // Uncovered points of which one is below the threshold show the level was not held.
    const dipped = measured(90, {
      ...windowed,
      gapSeconds: 240,
      lowPercent: 40,
      peakPercent: 90,
      points: points.map((point, i) => (i === 6 ? { ...point, percent: 40 } : point)),
      pointsEndMs: NOW.getTime(),
    });
    expect(check("above", dipped, [], 300_000)).toMatchObject({
      outcome: "not-met",
      basis: "usage-window",
      percent: 40,
      points: 2,
      coveredMs: 300_000,
    });
  });

  it("judges as before on the whole window when the usage has no points (an older snapshot)", () => {
    const old = measured(72, { ...windowed, peakPercent: 90, lowPercent: 50 });
    expect(check("above", old, [], 300_000)).toMatchObject({
      outcome: "not-met",
      basis: "usage-window",
      percent: 50,
    });
    expect(check("above", old, [], 300_000).points).toBeUndefined();
  });

  it("sums the nodes' points where every node has one, leaving a step some node lacks out", () => {
    const point = (secondsAgo: number, cpu: number) => ({
      at: new Date(at(secondsAgo)).toISOString(),
      cpu,
    });
    const workers = [
      node("w1", { usage: { cpu: "1", memory: "4Gi" } }),
      node("w2", { usage: { cpu: "3", memory: "4Gi" } }),
    ];
    const [w1, w2] = workers;
    if (!w1?.usage || !w2?.usage) throw new Error("no usage");
    w1.usage.points = [point(120, 1000), point(60, 1000), point(0, 1000)];
    w2.usage.points = [point(120, 3000), point(0, 2000)];
    const cpu = poolUtilisation(workers, "cpu", indexCluster(buildSnapshot({ nodes: workers })));
    expect(cpu.points).toEqual([
      { at: at(120), percent: 50 },
      { at: at(0), percent: 37.5 },
    ]);
    expect(cpu.pointsEndMs).toBe(NOW.getTime());
    // A node without points leaves the pool without them: judged on the whole window.
    delete w2.usage.points;
    expect(
      poolUtilisation(workers, "cpu", indexCluster(buildSnapshot({ nodes: workers }))).points,
    ).toBeUndefined();
  });
});

describe("usage history", () => {
  it("makes one sample per pool from a snapshot", () => {
    const pods = [pod("web/a", { node: "worker-1", cpu: "1500m", memory: "2Gi" })];
    const snapshot = buildSnapshot({
      nodes: nodes(2, { usage: { cpu: "1", memory: "8Gi" } }),
      pods,
    });
    expect(poolUtilisationSamples(snapshot, repoConfig(poolInput()))).toEqual([
      {
        pool: "workers",
        at: TAKEN_AT,
        cpu: 25,
        memory: 50,
        cpuAllocatable: 8000,
        memoryAllocatable: 32 * 1024 ** 3,
        cpuRequests: 1500,
        memoryRequests: 2 * 1024 ** 3,
      },
    ]);
    // Usage unknown: the sample keeps what is known, the requests.
    const unknown = buildSnapshot({ nodes: nodes(2), pods });
    expect(poolUtilisationSamples(unknown, repoConfig(poolInput()))).toEqual([
      {
        pool: "workers",
        at: TAKEN_AT,
        cpuAllocatable: 8000,
        memoryAllocatable: 32 * 1024 ** 3,
        cpuRequests: 1500,
        memoryRequests: 2 * 1024 ** 3,
      },
    ]);
  });

  it("sums node samples at timestamps where every Ready node has one", () => {
    const ready = nodes(2);
    const history = {
      nodes: [
        { node: "worker-1", at: "2025-06-06T11:50:00Z", cpu: 1000 },
        { node: "worker-2", at: "2025-06-06T11:50:00Z", cpu: 3000 },
        { node: "worker-1", at: "2025-06-06T11:55:00Z", cpu: 1000 },
        { node: "other", at: "2025-06-06T11:55:00Z", cpu: 9000 },
      ],
      pools: [
        { pool: "workers", at: "2025-06-06T11:58:00Z", cpu: 40 },
        { pool: "batch", at: "2025-06-06T11:58:00Z", cpu: 99 },
      ],
    };
    expect(poolHistory("workers", history, ready, "cpu")).toEqual([
      { at: Date.parse("2025-06-06T11:58:00Z"), percent: 40 },
      { at: Date.parse("2025-06-06T11:50:00Z"), percent: 50 },
    ]);
  });

  it("reads a sample from a bigger pool against today's allocatable, so it does not look idle", () => {
    // Four 4-core workers at 20 % cpu (3.2 cores in use) before one was removed: the same load
    // on today's three is 26.7 %, not 20 %.
    const ready = nodes(3);
    const history = {
      pools: [
        { pool: "workers", at: "2025-06-06T11:50:00Z", cpu: 20, cpuAllocatable: 16_000 },
        { pool: "workers", at: "2025-06-06T11:55:00Z", cpu: 30 },
      ],
    };
    const [bigger, legacy] = poolHistory("workers", history, ready, "cpu");
    expect(bigger?.percent).toBeCloseTo((3200 / 12_000) * 100, 6);
    expect(legacy?.percent).toBe(30);
  });
});

describe("usageWindowCovers (a windowed source that says how its points lie)", () => {
  const minutes = (n: number) => n * 60_000;

  it("takes a window whose points are all there as covering a check as long or shorter", () => {
    expect(usageWindowCovers(minutes(10), minutes(1), minutes(10))).toBe(true);
    expect(usageWindowCovers(minutes(10), minutes(1), minutes(5))).toBe(true);
  });

  it("allows no late start: a shorter window asked of Prometheus is no evidence", () => {
    expect(usageWindowCovers(minutes(3), minutes(1), minutes(5))).toBe(false);
    expect(usageWindowCovers(minutes(9), minutes(1), minutes(10))).toBe(false);
  });

  it("judges points missing inside the window as history's gaps", () => {
    expect(usageWindowCovers(minutes(10), minutes(5), minutes(10))).toBe(true);
    expect(usageWindowCovers(minutes(10), minutes(6), minutes(10))).toBe(false);
  });
});
