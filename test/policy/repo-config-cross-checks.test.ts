import { describe, expect, it } from "@jest/globals";
import { formatConfigIssues, loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import { POOL_DEFAULTS } from "../../src/policy/repo-config.ts";
import { poolWith } from "./support/minimal-pool.ts";

/** A pool with the given extra lines, indented under the list item (they start on line 7). */
function pool(extra: string): string {
  return `${poolWith(extra)}\n`;
}

/** The refusal as the operator reads it, one issue per line. */
function refusal(text: string): string {
  const result = loadRepoConfig(text);
  if (result.ok) throw new Error("expected the config to be refused");
  return formatConfigIssues(result.issues);
}

const AT = ".github/pr-autoscaler.yml";

describe("cross-checks against a default blame the key the operator wrote", () => {
  it.each([
    [
      "scaleUp.cpu below the default scale-down cpu",
      "scaleUp:\n  cpu: 25",
      `${AT}:8:12: pools[0].scaleUp.cpu: scale-up threshold (25 %) must be above the scale-down threshold (30 %, default): raise it, or set scaleDown.cpu below it`,
    ],
    [
      "scaleUp.memory below the default scale-down memory",
      "scaleUp:\n  memory: 40",
      `${AT}:8:15: pools[0].scaleUp.memory: scale-up threshold (40 %) must be above the scale-down threshold (40 %, default): raise it, or set scaleDown.memory below it`,
    ],
    [
      "scaleDown.cpu at the default scale-up cpu",
      "scaleDown:\n  cpu: 80",
      `${AT}:8:12: pools[0].scaleDown.cpu: scale-down threshold (80 %) must be below the scale-up threshold (80 %, default)`,
    ],
    [
      "scaleUp.requests below the default scale-down requests",
      "scaleUp:\n  requests: 45",
      `${AT}:8:17: pools[0].scaleUp.requests: scale-up threshold (45 %) must be above the scale-down threshold (50 %, default): raise it, or set scaleDown.requests below it`,
    ],
    [
      "a written margin above the default scale-up cpu",
      "scaleDown:\n  margin: 90",
      `${AT}:8:15: pools[0].scaleDown.margin: margin (90 points) must be below the scale-up cpu threshold (80 %, default): the usage after a removal would have to stay below -10 %, so no node could ever be removed`,
    ],
    [
      "a scale-up threshold at or below the default margin",
      "scaleUp:\n  cpu: 10\nscaleDown:\n  cpu: 5",
      `${AT}:8:12: pools[0].scaleUp.cpu: scale-up threshold (10 %) must be above scaleDown.margin (10 points, default): the usage after a removal would have to stay below 0 %, so no node could ever be removed; raise it, or lower the margin`,
    ],
    [
      "a host cap below the default min",
      "host:\n  maxNodes: 0",
      `${AT}:8:7: pools[0].host: the host holds at most 0 node(s), fewer than min (1, default)`,
    ],
  ])("%s", (_label, extra, expected) => {
    expect(refusal(pool(extra))).toBe(expected);
  });

  it("puts the issue on scaleDown when both thresholds are written, without '(default)'", () => {
    expect(refusal(pool("scaleUp:\n  cpu: 50\nscaleDown:\n  cpu: 60"))).toBe(
      `${AT}:10:12: pools[0].scaleDown.cpu: scale-down threshold (60 %) must be below the scale-up threshold (50 %)`,
    );
  });

  it("says it once on a written margin, naming the lowest threshold it reaches", () => {
    const text = pool(
      "scaleUp:\n  cpu: 40\n  memory: 35\nscaleDown:\n  cpu: 20\n  memory: 20\n  margin: 50",
    );
    expect(refusal(text)).toBe(
      `${AT}:13:15: pools[0].scaleDown.margin: margin (50 points) must be below the scale-up memory threshold (35 %): the usage after a removal would have to stay below -15 %, so no node could ever be removed`,
    );
  });

  it("names the default of min where the min is not written, and the value where it is", () => {
    expect(refusal(pool("min: 3\nhost:\n  maxNodes: 2"))).toBe(
      `${AT}:9:7: pools[0].host: the host holds at most 2 node(s), fewer than min (3)`,
    );
  });

  it("compares the requests thresholds only when scaleUp.requests is set", () => {
    expect(loadRepoConfig(pool("scaleDown:\n  requests: 95")).ok).toBe(true);
    expect(refusal(pool("scaleUp:\n  requests: 90\nscaleDown:\n  requests: 95"))).toBe(
      `${AT}:10:17: pools[0].scaleDown.requests: scale-down threshold (95 %) must be below the scale-up threshold (90 %)`,
    );
  });

  it("does not compare with a value already refused", () => {
    expect(refusal(pool("scaleUp:\n  cpu: 0"))).toBe(
      `${AT}:8:12: pools[0].scaleUp.cpu: must be more than 0 %`,
    );
  });

  it("takes thresholds that leave room for the margin, and fills in every default", () => {
    const result = loadRepoConfig(pool("scaleUp:\n  cpu: 40\nscaleDown:\n  cpu: 25\n  margin: 5"));
    if (!result.ok) throw new Error(formatConfigIssues(result.issues));
    const [workers] = result.config.pools;
    expect(workers?.min).toBe(POOL_DEFAULTS.min);
    expect(workers?.scaleUp).toMatchObject({ cpu: 40, memory: POOL_DEFAULTS.scaleUp.memory });
    expect(workers?.scaleDown).toMatchObject({
      cpu: 25,
      memory: POOL_DEFAULTS.scaleDown.memory,
      requests: POOL_DEFAULTS.scaleDown.requests,
      margin: 5,
    });
  });
});
