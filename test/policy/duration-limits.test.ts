import { describe, expect, it } from "@jest/globals";
import { windowEnd, windowNextStart } from "../../src/merge/policy-windows.ts";
import { Duration, MAX_DURATION_MS } from "../../src/policy/config-values.ts";
import { formatConfigIssues, loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import {
  changedAt,
  cluster,
  fillers,
  serveForTest,
  transcodeJob,
  WORKERS,
} from "../cli/served-plan.ts";
import { MINIMAL_POOL } from "./support/minimal-pool.ts";

const POOL = MINIMAL_POOL;

/** Every duration key of the file, as `[label, YAML that sets it to DURATION]`. */
const DURATION_KEYS: [string, string][] = [
  ["pools[0].cooldown", `${POOL}\n    cooldown: DURATION\n`],
  ["pools[0].provisionTimeout", `${POOL}\n    provisionTimeout: DURATION\n`],
  ["pools[0].scaleUp.pendingFor", `${POOL}\n    scaleUp:\n      pendingFor: DURATION\n`],
  ["pools[0].scaleUp.window", `${POOL}\n    scaleUp:\n      window: DURATION\n`],
  ["pools[0].scaleDown.unneededTime", `${POOL}\n    scaleDown:\n      unneededTime: DURATION\n`],
  [
    "pools[0].scaleDown.delayAfterScaleUp",
    `${POOL}\n    scaleDown:\n      delayAfterScaleUp: DURATION\n`,
  ],
  ["pools[0].scaleDown.unreadyTime", `${POOL}\n    scaleDown:\n      unreadyTime: DURATION\n`],
  [
    "pools[0].schedules[0].duration",
    `${POOL}\n    schedules:\n      - cron: "0 18 * * 5"\n        min: 2\n        duration: DURATION\n`,
  ],
  ["rightsizing.minHistory", "rightsizing:\n  minHistory: DURATION\n"],
  ["rightsizing.oom.window", "rightsizing:\n  oom:\n    window: DURATION\n"],
  [
    "automerge.rules[0].minAge",
    "automerge:\n  rules:\n    - action: merge\n      minAge: DURATION\n",
  ],
  [
    "automerge.notDuring[0].duration",
    'automerge:\n  notDuring:\n    - cron: "0 19 * * 5"\n      duration: DURATION\n',
  ],
  [
    "automerge.rules[0].during[0].duration",
    'automerge:\n  rules:\n    - action: merge\n      during:\n        - cron: "0 9 * * 1"\n          duration: DURATION\n',
  ],
];

/** 1-based line and column where `DURATION` stands in `template`. */
function placeOf(template: string): string {
  const lines = template.split("\n");
  const line = lines.findIndex((text) => text.includes("DURATION"));
  return `${line + 1}:${(lines[line] as string).indexOf("DURATION") + 1}`;
}

describe("durations are at most 365d", () => {
  it.each(DURATION_KEYS)("%s: 365d is taken", (_key, template) => {
    const result = loadRepoConfig(template.replace("DURATION", "365d"));
    expect(result.ok ? "ok" : formatConfigIssues(result.issues)).toBe("ok");
  });

  it.each(DURATION_KEYS)("%s: longer is refused where it is written", (key, template) => {
    for (const text of ["999999999d", "365d1s", "8761h", "1000000000000000000000000s"]) {
      const result = loadRepoConfig(template.replace("DURATION", text));
      expect(result.ok ? "ok" : formatConfigIssues(result.issues)).toBe(
        `.github/pr-autoscaler.yml:${placeOf(template)}: ${key}: "${text}" is too long: must be at most 365d`,
      );
    }
  });

  it("counts every part of the duration toward the limit", () => {
    expect(Duration.parse("364d23h59m60s")).toBe(MAX_DURATION_MS);
    expect(Duration.safeParse("364d23h59m61s").success).toBe(false);
    expect(Duration.parse("525600m")).toBe(MAX_DURATION_MS);
    expect(Duration.parse("31536000s")).toBe(MAX_DURATION_MS);
  });
});

describe("the longest durations reach the planner and the merge windows without breaking them", () => {
  it("plans a pool whose every duration is 365d: holds end a year on, no invalid date", async () => {
    const config = `${POOL}
    min: 1
    cooldown: 365d
    provisionTimeout: 365d
    scaleUp:
      pendingFor: 365d
      window: 365d
    scaleDown:
      unneededTime: 365d
      delayAfterScaleUp: 365d
      unreadyTime: 365d
    schedules:
      - cron: "0 18 * * 5"
        duration: 365d
        min: 2
`;
    const now = "2026-11-22T10:00:00Z";
    const served = await serveForTest([
      ...cluster(WORKERS, { "talos-worker-3": { ready: false } }),
      ...fillers(),
      transcodeJob("long01"),
    ]);
    const output = await served.planRepo(changedAt(2, 3, "2026-11-22T09:57:00Z", config), now);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    const holds = [...(output.proposals[0]?.holds ?? []), ...(note?.holds ?? [])];
    const cooldown = holds.find((hold) => hold.kind === "cooldown") as { until?: string };
    expect(cooldown?.until).toBe("2027-11-22T09:57:00.000Z");
  });

  it("finds the end and the next start of a 365d merge window", () => {
    const window = {
      type: "cron" as const,
      name: undefined,
      cron: "0 19 * * 5",
      durationMs: MAX_DURATION_MS,
      timezone: "UTC",
    };
    const t = Date.parse("2026-11-22T10:00:00Z");
    expect(new Date(windowEnd(window, t) ?? 0).toISOString()).toBe("2027-11-20T19:00:00.000Z");
    expect(new Date(windowNextStart(window, t) ?? 0).toISOString()).toBe(
      "2026-11-27T19:00:00.000Z",
    );
  });
});
