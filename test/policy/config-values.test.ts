import { describe, expect, it } from "@jest/globals";
import { didYouMean } from "../../src/policy/did-you-mean.ts";
import { hostCap } from "../../src/policy/host-cap.ts";
import { parseDuration } from "../../src/policy/parse-duration.ts";

const GI = 2 ** 30;

describe("parseDuration", () => {
  it.each<[string, number]>([
    ["90s", 90_000],
    ["10m", 600_000],
    ["1h30m", 5_400_000],
    ["2d", 172_800_000],
    ["0", 0],
    ["0s", 0],
  ])("%p is %p ms", (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  it.each(["", "10", "5 minutes", "1m1h", "-5m", "1.5h"])("refuses %p", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe("didYouMean", () => {
  const keys = ["name", "target", "min", "max", "scaleUp", "scaleDown", "unneededTime"];
  it.each<[string, string | undefined]>([
    ["mn", "min"],
    ["scaleup", "scaleUp"],
    ["scaledwn", "scaleDown"],
    ["unneded", "unneededTime"],
    ["colour", undefined],
  ])("%p → %p", (word, expected) => {
    expect(didYouMean(word, keys)).toBe(expected);
  });
});

describe("hostCap", () => {
  it("divides what the host has left by one node's machine size", () => {
    const cap = hostCap({
      memory: 64 * GI,
      reserved: { memory: 8 * GI },
      node: { memory: 16 * GI },
    });
    expect(cap.cap).toBe(3);
    expect(cap.parts).toEqual([
      { kind: "memory", nodes: 3, host: 64 * GI, reserved: 8 * GI, perNode: 16 * GI },
    ]);
  });

  it("takes the tightest of maxNodes, cpu and memory", () => {
    const cap = hostCap({
      maxNodes: 5,
      cpu: 16_000,
      memory: 128 * GI,
      node: { cpu: 4_000, memory: 16 * GI },
    });
    expect(cap.cap).toBe(4);
    expect(cap.parts.map((part) => [part.kind, part.nodes])).toEqual([
      ["max-nodes", 5],
      ["cpu", 4],
      ["memory", 8],
    ]);
  });

  it("is absent when nothing is configured", () => {
    expect(hostCap(undefined)).toEqual({ parts: [] });
  });
});
