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
      `${AT}:8:7: pools[0].host: the host holds at most 0 nodes, fewer than min (1, default)`,
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

  it("gives the level the usage would have to stay below as written, not with float noise", () => {
    expect(refusal(pool("scaleDown:\n  margin: 99.9"))).toBe(
      `${AT}:8:15: pools[0].scaleDown.margin: margin (99.9 points) must be below the scale-up cpu threshold (80 %, default): the usage after a removal would have to stay below -19.9 %, so no node could ever be removed`,
    );
  });

  it("names the default of min where the min is not written, and the value where it is", () => {
    expect(refusal(pool("min: 3\nhost:\n  maxNodes: 2"))).toBe(
      `${AT}:9:7: pools[0].host: the host holds at most 2 nodes, fewer than min (3)`,
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

describe("cross-checks are reported with the file's other problems, all at once", () => {
  it("min above max beside a duration that is refused", () => {
    expect(refusal(pool("min: 8\ncooldown: 10min"))).toBe(
      [
        `${AT}:7:10: pools[0].min: min (8) is greater than max (6)`,
        `${AT}:8:15: pools[0].cooldown: "10min" is not a duration: write it like 90s, 10m, 1h30m or 2d`,
      ].join("\n"),
    );
  });

  it("a threshold and a schedule beside keys of the wrong type and an unknown key", () => {
    const text = pool(
      [
        "scaleDown:",
        "  cpu: 90",
        "scaleUp:",
        "  memory: 30",
        "  window: yes",
        "provisionTimeout: 1.5h",
        "maxNodes: 4",
        "schedules:",
        '  - {cron: "0 18 * * 5", duration: 6h, min: 9}',
      ].join("\n"),
    );
    expect(refusal(text)).toBe(
      [
        `${AT}:8:12: pools[0].scaleDown.cpu: scale-down threshold (90 %) must be below the scale-up threshold (80 %, default)`,
        `${AT}:10:15: pools[0].scaleUp.memory: scale-up threshold (30 %) must be above the scale-down threshold (40 %, default): raise it, or set scaleDown.memory below it`,
        `${AT}:11:15: pools[0].scaleUp.window: "yes" is not a duration: write it like 90s, 10m, 1h30m or 2d`,
        `${AT}:12:23: pools[0].provisionTimeout: "1.5h" is not a duration: write it like 90s, 10m, 1h30m or 2d`,
        `${AT}:13:5: pools[0].maxNodes: unknown key "maxNodes"; allowed keys: name, target, selector, min, max, newNode, host, removal, scaleUp, scaleDown, cooldown, provisionTimeout, maxUnready, okUnready, expendablePriority, schedules`,
        `${AT}:15:49: pools[0].schedules[0].min: schedule min (9) is greater than the pool's max (6)`,
      ].join("\n"),
    );
  });

  it("a pool name and a target used twice beside another pool's mistake", () => {
    const second = (name: string, max: string) =>
      `  - name: ${name}\n    target: {file: b.tfvars, path: n}\n    max: ${max}`;
    const text = [pool("min: 1"), second("workers", "3"), second("gpu", "x"), ""].join("\n");
    expect(refusal(text)).toBe(
      [
        `${AT}:9:11: pools[1].name: pool name "workers" is already used by pools[0]`,
        `${AT}:13:13: pools[2].target: pools[1] already scales b.tfvars n`,
        `${AT}:14:10: pools[2].max: expected a number, got the string "x"`,
      ].join("\n"),
    );
  });
});

describe("cross-checks compare no value that is refused", () => {
  it("a threshold is not compared with thresholds of a section of the wrong type", () => {
    expect(refusal(pool("scaleDown:\n  cpu: 90\nscaleUp: yes"))).toBe(
      `${AT}:9:14: pools[0].scaleUp: expected a mapping, got the string "yes"`,
    );
  });

  it("names and targets of a pool that is no mapping, or of a pools entry of the wrong type", () => {
    expect(refusal(`${pool("min: 1")}  - workers\n`)).toBe(
      `${AT}:8:5: pools[1]: expected a mapping, got the string "workers"`,
    );
    expect(refusal("pools: workers\n")).toBe(
      `${AT}:1:8: pools: expected a list, got the string "workers"`,
    );
  });
});
