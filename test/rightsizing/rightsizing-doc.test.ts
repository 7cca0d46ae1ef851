import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { formatConfigIssues, loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import { defaultRightsizingConfig } from "../../src/policy/rightsizing-config.ts";
import { planRightsizing } from "../../src/rightsizing/plan-rightsizing.ts";
import {
  fixtureRepo,
  fixtureVpa,
  rightsizingConfig,
  snapshot,
  workloadPod,
} from "./rightsizing-helpers.ts";

const doc = readFileSync(join(import.meta.dirname, "..", "..", "docs", "rightsizing.md"), "utf8");

function blocks(language: string): string[] {
  const fence = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g");
  return [...doc.matchAll(fence)].map((match) => match[1] ?? "");
}

describe("docs/rightsizing.md", () => {
  it("shows a configuration that loads", () => {
    const [config] = blocks("yaml").filter((block) => block.startsWith("rightsizing:"));
    const result = loadRepoConfig(config ?? "");
    if (!result.ok) throw new Error(formatConfigIssues(result.issues));
    expect(result.config.rightsizing?.targets).toHaveLength(1);
  });

  it("marks each setting of the configuration as the default or an example, truthfully", () => {
    const [config = ""] = blocks("yaml").filter((block) => block.startsWith("rightsizing:"));
    const result = loadRepoConfig(config);
    if (!result.ok) throw new Error(formatConfigIssues(result.issues));
    const shown = result.config.rightsizing as Record<string, unknown>;
    const defaults = defaultRightsizingConfig() as Record<string, unknown>;
    const marks = [...config.matchAll(/^ {2}(\w+):[^#\n]*(?:#\s*(\w+))?/gm)].map(
      ([, key = "", mark]) => ({ key, mark }),
    );
    expect(marks.map((m) => m.key).sort()).toEqual(Object.keys(defaults).sort());
    for (const { key, mark } of marks) {
      const claim = { key, mark };
      if (mark === "default")
        expect({ ...claim, value: shown[key] }).toEqual({ ...claim, value: defaults[key] });
      else {
        expect(claim).toEqual({ key, mark: "example" });
        expect({ ...claim, value: shown[key] }).not.toEqual({ ...claim, value: defaults[key] });
      }
    }
  });

  it("says which settings `rightsizing: {}` leaves unset", () => {
    const defaults = defaultRightsizingConfig();
    expect(defaults.min).toEqual({});
    expect(defaults.max).toEqual({});
    expect(defaults.namespaces.exclude).toEqual([]);
    expect(doc).toContain("there is no min, no max and no excluded namespace unless\nconfigured");
  });

  it("shows the worked example's explanation exactly as the plan renders it", () => {
    const pods = [
      workloadPod("media/plex", "plex-1", {
        requests: { cpu: "2", memory: "4Gi" },
        limits: { memory: "8Gi" },
        usage: { cpu: "380m", memory: "1100Mi" },
      }),
    ];
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [fixtureVpa("plex-worked-example.yaml")], pods }),
      config: rightsizingConfig(),
      files: fixtureRepo("worked-example"),
      now: new Date("2025-06-06T12:00:00Z"),
    });
    expect(blocks("text")).toContain(`${plan.proposals[0]?.reasons.join("\n")}\n`);
  });
});
