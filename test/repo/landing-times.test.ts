import { describe, expect, it } from "@jest/globals";
import { type LinkedCommit, landingTimes } from "../../src/repo/landing-times.ts";

function at(hour: number): string {
  return new Date(Date.UTC(2026, 0, 1, hour)).toISOString();
}

function commit(sha: string, hour: number, parents: string[] = []): LinkedCommit {
  return { sha, date: at(hour), parents };
}

describe("when commits reached the branch", () => {
  it("dates the first-parent line by its own commits", () => {
    const commits = [commit("c", 3, ["b"]), commit("b", 2, ["a"]), commit("a", 1)];
    expect(landingTimes(commits, "c")).toEqual(
      new Map([
        ["c", at(3)],
        ["b", at(2)],
        ["a", at(1)],
      ]),
    );
  });

  it("dates every commit a merge brought in from the merge, however old their own dates", () => {
    // main: a - m (merge of x1 - x2, written before main moved on)
    const commits = [
      commit("m", 9, ["a", "x2"]),
      commit("x2", 3, ["x1"]),
      commit("x1", 2, ["a"]),
      commit("a", 1),
    ];
    const landed = landingTimes(commits, "m");
    expect(landed.get("x1")).toBe(at(9));
    expect(landed.get("x2")).toBe(at(9));
    expect(landed.get("a")).toBe(at(1));
  });

  it("dates a commit two merges brought in from the older one", () => {
    // x is merged at 5, then a branch built on it is merged at 8.
    const commits = [
      commit("m2", 8, ["m1", "y"]),
      commit("y", 6, ["x"]),
      commit("m1", 5, ["a", "x"]),
      commit("x", 2, ["a"]),
      commit("a", 1),
    ];
    const landed = landingTimes(commits, "m2");
    expect(landed.get("x")).toBe(at(5));
    expect(landed.get("y")).toBe(at(8));
  });

  it("dates a merged branch's head from its merge even when the commit is beyond those read", () => {
    const landed = landingTimes([commit("m", 9, ["a", "old"]), commit("a", 1)], "m");
    expect(landed.get("old")).toBe(at(9));
  });

  it("leaves out what it cannot tell: commits behind a merged head beyond those read", () => {
    const landed = landingTimes([commit("m", 9, ["a", "x2"]), commit("a", 1)], "m");
    expect(landed.has("x1")).toBe(false);
    expect(landingTimes([], "m")).toEqual(new Map());
  });
});
