import { describe, expect, it } from "@jest/globals";
import { agreeing, counted } from "../../src/util/plural.ts";

describe("counted and agreeing", () => {
  it("give the singular for one alone, and the plural for none and for many", () => {
    expect([0, 1, 2].map((n) => `${counted(n, "pod")} ${agreeing(n, "is", "are")}`)).toEqual([
      "0 pods are",
      "1 pod is",
      "2 pods are",
    ]);
    expect(counted(2, "entry", "entries")).toBe("2 entries");
    expect(agreeing(1, "goes", "go")).toBe("goes");
  });
});
