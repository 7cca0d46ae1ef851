import { describe, expect, it } from "@jest/globals";
import { formatConfigIssues, loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import { poolWith } from "./support/minimal-pool.ts";

const FILE = "infra/.github/pr-autoscaler.yml";

/** A pool whose scaleUp or scaleDown section holds `lines` (from line 8 of the file). */
function pool(section: "scaleUp" | "scaleDown", ...lines: string[]): string {
  return poolWith([`${section}:`, ...lines.map((line) => `  ${line}`)].join("\n"));
}

function loaded(text: string) {
  const result = loadRepoConfig(text, FILE);
  if (!result.ok) throw new Error(formatConfigIssues(result.issues));
  const [first] = result.config.pools;
  if (!first) throw new Error("no pool");
  return first;
}

function refused(text: string): string {
  const result = loadRepoConfig(text, FILE);
  if (result.ok) throw new Error("expected the config to be refused");
  return formatConfigIssues(result.issues);
}

describe("scaleDown.maxEmptyBulk", () => {
  it("defaults to 1, one node per decrease, and takes a whole number of nodes from 1", () => {
    expect(loaded(pool("scaleDown", "cpu: 30")).scaleDown.maxEmptyBulk).toBe(1);
    expect(loaded(pool("scaleDown", "maxEmptyBulk: 10")).scaleDown.maxEmptyBulk).toBe(10);
    expect(loaded(pool("scaleDown", "maxEmptyBulk: 1")).scaleDown.maxEmptyBulk).toBe(1);
    expect(loaded(pool("scaleDown", "maxEmptyBulk: 25")).scaleDown.maxEmptyBulk).toBe(25);
  });

  it.each([
    ["0", "must be at least 1 (1 removes one node at a time)"],
    ["2.5", "expected a whole number of nodes such as 10"],
    ["ten", 'expected a number, got the string "ten"'],
  ])("refuses %s at its line", (value, message) => {
    expect(refused(pool("scaleDown", "cpu: 30", `maxEmptyBulk: ${value}`))).toBe(
      `${FILE}:9:21: pools[0].scaleDown.maxEmptyBulk: ${message}`,
    );
  });

  it("suggests the key when it is misspelt", () => {
    expect(refused(pool("scaleDown", "maxEmptyBlk: 5"))).toBe(
      `${FILE}:8:7: pools[0].scaleDown.maxEmptyBlk: unknown key "maxEmptyBlk"; did you mean "maxEmptyBulk"?`,
    );
  });
});

describe("scaleUp.pendingFor", () => {
  it("defaults to 0s and reads a duration", () => {
    expect(loaded(pool("scaleUp", "cpu: 80")).scaleUp.pendingFor).toBe(0);
    expect(loaded(pool("scaleUp", "pendingFor: 3m")).scaleUp.pendingFor).toBe(180_000);
    expect(loaded(pool("scaleUp", "pendingFor: 90s")).scaleUp.pendingFor).toBe(90_000);
  });

  it("refuses what is not a duration, at its line", () => {
    expect(refused(pool("scaleUp", "pendingFor: soon"))).toBe(
      `${FILE}:8:19: pools[0].scaleUp.pendingFor: "soon" is not a duration: write it like 90s, 10m, 1h30m or 2d`,
    );
    expect(refused(pool("scaleUp", "cpu: 80", "pendingFor: 3"))).toBe(
      `${FILE}:9:19: pools[0].scaleUp.pendingFor: expected a duration such as 10m or 1h30m`,
    );
  });
});

describe("okUnready", () => {
  it("defaults to 0, the maxUnready stop as it is, and takes a whole number of nodes from 0", () => {
    expect(loaded(poolWith("maxUnready: 45")).okUnready).toBe(0);
    expect(loaded(poolWith("okUnready: 0")).okUnready).toBe(0);
    expect(loaded(poolWith("okUnready: 3")).okUnready).toBe(3);
  });

  it.each([
    ["-1", "must be 0 or more (0 leaves the maxUnready stop as it is)"],
    ["1.5", "expected a whole number of nodes such as 1"],
    ["one", 'expected a number, got the string "one"'],
  ])("refuses %s at its line", (value, message) => {
    expect(refused(poolWith(`maxUnready: 45\nokUnready: ${value}`))).toBe(
      `${FILE}:8:16: pools[0].okUnready: ${message}`,
    );
  });
});
