import { describe, expect, it } from "@jest/globals";
import type { UsageProfile } from "../../src/backtest/trace.ts";
import { usageAt } from "../../src/backtest/usage-profile.ts";

const points = [
  { at: 0, cpu: 100, memory: 1000 },
  { at: 60_000, cpu: 300, memory: 3000 },
  { at: 120_000, cpu: 200, memory: 2000 },
];

describe("usageAt", () => {
  it("returns a constant profile's values at any time", () => {
    const profile: UsageProfile = { kind: "constant", cpu: 250, memory: 512 };
    expect(usageAt(profile, 0)).toEqual({ cpu: 250, memory: 512 });
    expect(usageAt(profile, 86_400_000)).toEqual({ cpu: 250, memory: 512 });
  });

  it("holds each point's value until the next with the step shape", () => {
    const profile: UsageProfile = { kind: "points", shape: "step", points };
    expect(usageAt(profile, 0)).toEqual({ cpu: 100, memory: 1000 });
    expect(usageAt(profile, 59_999)).toEqual({ cpu: 100, memory: 1000 });
    expect(usageAt(profile, 60_000)).toEqual({ cpu: 300, memory: 3000 });
    expect(usageAt(profile, 1_000_000)).toEqual({ cpu: 200, memory: 2000 });
  });

  it("interpolates between points with the linear shape and holds the ends", () => {
    const profile: UsageProfile = { kind: "points", shape: "linear", points };
    expect(usageAt(profile, 30_000)).toEqual({ cpu: 200, memory: 2000 });
    expect(usageAt(profile, 90_000)).toEqual({ cpu: 250, memory: 2500 });
    expect(usageAt(profile, 500_000)).toEqual({ cpu: 200, memory: 2000 });
  });

  it("uses the first point's value before it when there is no period", () => {
    const profile: UsageProfile = {
      kind: "points",
      shape: "linear",
      points: [{ at: 60_000, cpu: 500, memory: 10 }],
    };
    expect(usageAt(profile, 0)).toEqual({ cpu: 500, memory: 10 });
  });

  it("repeats with a period, a step profile wrapping to the last point's value", () => {
    const profile: UsageProfile = {
      kind: "points",
      shape: "step",
      periodMs: 180_000,
      points: [
        { at: 30_000, cpu: 100, memory: 1 },
        { at: 90_000, cpu: 400, memory: 4 },
      ],
    };
    expect(usageAt(profile, 10_000)).toEqual({ cpu: 400, memory: 4 });
    expect(usageAt(profile, 180_000 + 40_000)).toEqual({ cpu: 100, memory: 1 });
    expect(usageAt(profile, 2 * 180_000 + 100_000)).toEqual({ cpu: 400, memory: 4 });
  });

  it("interpolates across the period's end from the last point back to the first", () => {
    const profile: UsageProfile = {
      kind: "points",
      shape: "linear",
      periodMs: 200_000,
      points: [
        { at: 50_000, cpu: 100, memory: 100 },
        { at: 150_000, cpu: 500, memory: 500 },
      ],
    };
    // 150 s → 250 s (= 50 s of the next period) runs from 500 to 100.
    expect(usageAt(profile, 200_000)).toEqual({ cpu: 300, memory: 300 });
    expect(usageAt(profile, 25_000)).toEqual({ cpu: 200, memory: 200 });
    expect(usageAt(profile, 175_000)).toEqual({ cpu: 400, memory: 400 });
  });
});
