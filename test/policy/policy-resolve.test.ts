import { describe, expect, it } from "@jest/globals";
import { formatConfigIssues } from "../../src/policy/load-repo-config.ts";
import { presetsFrom } from "../../src/policy/policy-presets.ts";
import { parsePolicyReference } from "../../src/policy/policy-reference.ts";
import type { PolicyFileReader } from "../../src/policy/policy-resolve.ts";
import { validateRepoConfiguration } from "../../src/policy/policy-validate.ts";

/** A reader over files of this repository (`path`) and of others (`owner/repo:path`). */
function reader(files: Record<string, string>, calls: string[] = []): PolicyFileReader {
  return async (repo, path) => {
    const key = repo === undefined ? path : `${repo}:${path}`;
    calls.push(key);
    return files[key];
  };
}

const ROOT = ".github/pr-autoscaler.yml";

describe("parsePolicyReference", () => {
  it("reads presets, files of this repository and Probot-style references to other repositories", () => {
    expect(parsePolicyReference("preset:homelab")).toEqual({ kind: "preset", name: "homelab" });
    expect(parsePolicyReference(".github/policies/night.yml")).toEqual({
      kind: "file",
      path: ".github/policies/night.yml",
    });
    expect(parsePolicyReference(".github")).toEqual({
      kind: "repo",
      owner: undefined,
      repo: ".github",
      path: ".github/pr-autoscaler.yml",
    });
    expect(parsePolicyReference("my-org/infra:policies/base.yaml")).toEqual({
      kind: "repo",
      owner: "my-org",
      repo: "infra",
      path: "policies/base.yaml",
    });
  });

  it("refuses what is none of these", () => {
    for (const text of [
      "preset:Home Lab",
      ".github/../x.yml",
      ".github/x.txt",
      "infra:../x.yml",
      "a b",
      "infra:x.json",
    ])
      expect(typeof parsePolicyReference(text)).toBe("string");
  });
});

describe("extends", () => {
  it("puts the repo's rules before the preset's and inherits what the repo leaves out", async () => {
    const presets = presetsFrom({
      base: [
        "timezone: Europe/Berlin",
        "method: rebase",
        "requiredChecks: [lint]",
        "maxPerDay: { nodes: 2, resources: 5 }",
        "notDuring: [{ name: nights, hours: '22:00-06:00' }]",
        "rules:",
        "  - { name: preset-merge, action: merge }",
      ].join("\n"),
    });
    const files = {
      [ROOT]: [
        "automerge:",
        "  extends: preset:base",
        "  requiredChecks: [pr-autoscaler/plan-guard]",
        "  maxPerDay: { nodes: 1 }",
        "  rules:",
        "    - { name: own-review, match: { kind: resources }, action: review }",
      ].join("\n"),
    };
    const result = await validateRepoConfiguration({ read: reader(files), presets });
    expect(result.issues).toEqual([]);
    const { policy } = result;
    expect(policy.sources).toEqual([ROOT, "preset:base"]);
    expect(
      policy.rules.map((rule) => [rule.name, rule.source, rule.sourceIndex, rule.method]),
    ).toEqual([
      ["own-review", ROOT, 0, "rebase"],
      ["preset-merge", "preset:base", 0, "rebase"],
    ]);
    expect(policy).toMatchObject({
      timezone: "Europe/Berlin",
      requiredChecks: ["pr-autoscaler/plan-guard", "lint"],
      maxPerDay: { nodes: 1, resources: 5 },
    });
    expect(policy.notDuring).toEqual([
      {
        type: "weekly",
        name: "nights",
        days: [0, 1, 2, 3, 4, 5, 6],
        start: 1320,
        end: 360,
        timezone: "Europe/Berlin",
      },
    ]);
  });

  it("gives a preset's windows without a time zone the repo's time zone", async () => {
    const presets = presetsFrom({ quiet: "notDuring: [{ hours: '00:00-07:00' }]\nrules: []\n" });
    const files = { [ROOT]: "automerge:\n  extends: preset:quiet\n  timezone: America/New_York\n" };
    const { policy } = await validateRepoConfiguration({ read: reader(files), presets });
    expect(policy.notDuring[0]?.timezone).toBe("America/New_York");
  });

  it("reads a policy file of the same repository, which may extend further", async () => {
    const calls: string[] = [];
    const files = {
      [ROOT]: "automerge:\n  extends: .github/autoscaler/policy.yml\n",
      ".github/autoscaler/policy.yml":
        "extends: preset:cautious\nrules: [{ name: mine, action: merge }]\n",
    };
    const result = await validateRepoConfiguration({ read: reader(files, calls) });
    expect(result.ok).toBe(true);
    expect(calls).toEqual([ROOT, ".github/autoscaler/policy.yml"]);
    expect(result.policy.rules.map((rule) => `${rule.source}#${rule.name}`)).toEqual([
      ".github/autoscaler/policy.yml#mine",
      "preset:cautious#review-everything",
    ]);
  });

  it("reads the organisation's .github repository the Probot way, using only its automerge section", async () => {
    const calls: string[] = [];
    const files = {
      [ROOT]: "automerge:\n  extends: .github\n",
      "octo/.github:.github/pr-autoscaler.yml": [
        "pools: not checked here",
        "automerge:",
        "  timezone: UTC",
        "  extends: shared-policies:org/policy.yml",
        "  rules: [{ name: org-rule, action: review, reviewers: [octocat] }]",
      ].join("\n"),
      "octo/shared-policies:org/policy.yml":
        "extends: .github/more.yml\nrules: [{ name: shared, action: review }]\n",
      "octo/shared-policies:.github/more.yml": "rules: [{ name: more, action: review }]\n",
    };
    const result = await validateRepoConfiguration({ read: reader(files, calls), owner: "octo" });
    expect(result.issues).toEqual([]);
    expect(calls).toEqual([
      ROOT,
      "octo/.github:.github/pr-autoscaler.yml",
      "octo/shared-policies:org/policy.yml",
      "octo/shared-policies:.github/more.yml",
    ]);
    expect(result.policy.sources).toEqual([
      ROOT,
      ".github",
      "shared-policies:org/policy.yml",
      "octo/shared-policies:.github/more.yml",
    ]);
    expect(result.policy.rules.map((rule) => rule.name)).toEqual(["org-rule", "shared", "more"]);
  });

  it("reads a reference to the repository itself locally", async () => {
    const calls: string[] = [];
    const files = {
      [ROOT]: "automerge:\n  extends: octo/infra:.github/base.yml\n",
      ".github/base.yml": "rules: []\n",
    };
    const result = await validateRepoConfiguration({
      read: reader(files, calls),
      owner: "octo",
      repository: "octo/infra",
    });
    expect(result.ok).toBe(true);
    expect(calls).toEqual([ROOT, ".github/base.yml"]);
  });

  it("leaves other repositories unread when told to, and says so", async () => {
    const calls: string[] = [];
    const files = {
      [ROOT]: "automerge:\n  extends: my-org/.github\n  rules: [{ name: a, action: merge }]\n",
    };
    const result = await validateRepoConfiguration({
      read: reader(files, calls),
      otherRepos: "skip",
    });
    expect(result).toMatchObject({
      ok: true,
      notes: ["not checked: my-org/.github (another repository; the app reads it)"],
    });
    expect(calls).toEqual([ROOT]);
    expect(result.policy.rules.map((rule) => rule.name)).toEqual(["a"]);
  });

  it("reports cycles and overlong chains at the extends line that closes them", async () => {
    const files = {
      [ROOT]: "automerge:\n  extends: .github/a.yml\n",
      ".github/a.yml": "rules: []\nextends: .github/b.yml\n",
      ".github/b.yml": "# b\nextends: .github/a.yml\n",
    };
    const cycle = await validateRepoConfiguration({ read: reader(files) });
    expect(formatConfigIssues(cycle.issues)).toBe(
      ".github/b.yml:2:10: extends: extends cycle: .github/a.yml → .github/b.yml → .github/a.yml",
    );
    const chain: Record<string, string> = { [ROOT]: "automerge:\n  extends: .github/p1.yml\n" };
    for (let i = 1; i <= 6; i++) chain[`.github/p${i}.yml`] = `extends: .github/p${i + 1}.yml\n`;
    const deep = await validateRepoConfiguration({ read: reader(chain) });
    expect(deep.issues).toHaveLength(1);
    expect(deep.issues[0]).toMatchObject({ file: ".github/p4.yml", line: 1, path: "extends" });
    expect(deep.issues[0]?.message).toMatch(
      /^extends goes deeper than 5 files \(\.github\/pr-autoscaler\.yml → .* → \.github\/p5\.yml\)$/,
    );
  });
});
