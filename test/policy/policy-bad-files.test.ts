/**
 * Bad policies, each one mistake: every one must be reported with the file and line it is on, and
 * the policy that results must merge nothing.
 */
import { describe, expect, it } from "@jest/globals";
import { evaluatePolicy } from "../../src/merge/evaluate-policy.ts";
import { formatConfigIssues } from "../../src/policy/load-repo-config.ts";
import { type PresetStore, presetsFrom } from "../../src/policy/policy-presets.ts";
import type { PolicyFileReader } from "../../src/policy/policy-resolve.ts";
import { validateRepoConfiguration } from "../../src/policy/policy-validate.ts";
import { nodes, openContext, resources } from "../merge/policy-support.ts";

const ROOT = ".github/pr-autoscaler.yml";
/** Marks the line an error must point at. */
const HERE = "#<";

interface BadCase {
  name: string;
  /** The repo config's text; the line marked `#<` is where the error must be (unless `at` says). */
  config: string;
  /** Other files: `path` in this repository, `owner/repo:path` elsewhere; `#<` marks lines too. */
  files?: Record<string, string>;
  /** The file and line when it is not the marked line of the config (e.g. an empty file). */
  at?: { file: string; line: number };
  message: string | RegExp;
  presets?: PresetStore;
  /** A reader that fails for other repositories. */
  failRemote?: boolean;
}

const automerge = (...lines: string[]) =>
  ["automerge:", ...lines.map((line) => `  ${line}`)].join("\n");
const rule = (...lines: string[]) =>
  automerge("rules:", ...lines.map((line, i) => (i === 0 ? `  - ${line}` : `    ${line}`)));
const window = (list: "notDuring", ...lines: string[]) =>
  automerge(`${list}:`, ...lines.map((line, i) => (i === 0 ? `  - ${line}` : `    ${line}`)));

const CASES: BadCase[] = [
  // The file itself
  { name: "empty file", config: "", at: { file: ROOT, line: 1 }, message: "the file is empty" },
  {
    name: "comments only",
    config: "# nothing yet\n",
    at: { file: ROOT, line: 1 },
    message: "the file is empty",
  },
  {
    name: "YAML syntax error",
    config: "automerge:\n  rules: [unclosed #<",
    message: "YAML syntax",
  },
  {
    name: "duplicate key",
    config: "automerge:\n  timezone: UTC\n  timezone: UTC #<",
    message:
      'YAML syntax: the key "timezone" is written twice in one mapping (first at line 2); keep one',
  },
  { name: "tab indentation", config: "automerge:\n\trules: [] #<", message: "YAML syntax" },
  {
    name: "automerge is a string",
    config: "automerge: homelab #<",
    message: 'expected a mapping, got the string "homelab"',
  },
  {
    name: "automerge is empty",
    config: "automerge: #<",
    message: "expected a mapping, got an empty value (for an empty mapping, write {})",
  },
  {
    name: "rightsizing is empty",
    config: `${automerge("preset: homelab")}\nrightsizing: #<`,
    message: "expected a mapping, got an empty value (for an empty mapping, write {})",
  },
  {
    name: "pools is empty",
    config: `${automerge("preset: homelab")}\npools: #<`,
    message: "expected a list, got an empty value (for an empty list, write [])",
  },
  {
    name: "automerge is a list",
    config: "automerge:\n  - preset:homelab #<",
    message: "expected a mapping, got a list",
  },
  {
    name: "unknown top-level key beside pools",
    config: "automerg: #<\n  rules: []",
    message: 'unknown key "automerg"; did you mean "automerge"?',
  },
  {
    name: "pools broken beside a valid policy",
    config: "pools: 5 #<\nautomerge:\n  extends: preset:homelab",
    message: "expected a list",
  },
  // Policy keys
  {
    name: "extend instead of extends",
    config: automerge("extend: preset:homelab #<"),
    message: 'unknown key "extend"; did you mean "extends"?',
  },
  {
    name: "rule instead of rules",
    config: automerge("rule: [] #<"),
    message: 'unknown key "rule"; did you mean "rules"?',
  },
  {
    name: "description not text",
    config: automerge("description: [a] #<"),
    message: "expected a string, got a list",
  },
  {
    name: "bad time zone",
    config: automerge("timezone: Europe/Berln #<"),
    message: 'unknown time zone "Europe/Berln" (did you mean "Europe/Berlin"?)',
  },
  {
    name: "time zone as number",
    config: automerge("timezone: 5 #<"),
    message: "expected a time zone such as Europe/Berlin",
  },
  {
    name: "bad policy merge method",
    config: automerge("method: squash-merge #<"),
    message: 'the string "squash-merge" is not allowed: use one of "squash", "merge", "rebase"',
  },
  {
    name: "requiredChecks not a list",
    config: automerge("requiredChecks: pr-autoscaler/plan-guard #<"),
    message: "expected a list",
  },
  {
    name: "empty check name",
    config: automerge('requiredChecks: [""] #<'),
    message: "must not be empty",
  },
  {
    name: "negative policy cap",
    config: automerge("maxPerDay: { nodes: -3 } #<"),
    message: "must be at least 1",
  },
  {
    name: "policy cap not a mapping",
    config: automerge("maxPerDay: 3 #<"),
    message: "expected a mapping, got 3",
  },
  {
    name: "policy cap for an unknown kind",
    config: automerge("maxPerDay: { pods: 3 } #<"),
    message: 'unknown key "pods"',
  },
  {
    name: "fractional policy cap",
    config: automerge("maxPerDay: { resources: 2.5 } #<"),
    message: "expected a whole number of merges per day",
  },
  {
    name: "nativeAutoMerge not a boolean",
    config: automerge("nativeAutoMerge: yes #<"),
    message: 'expected true or false, got the string "yes"',
  },
  {
    name: "rules not a list",
    config: automerge("rules: { action: merge } #<"),
    message: "expected a list of rules",
  },
  // Rules
  {
    name: "rule without action",
    config: rule("name: x #<"),
    message: 'missing required key "action": merge or review',
  },
  { name: "misspelt action", config: rule("action: mrege #<"), message: 'did you mean "merge"?' },
  {
    name: "bad merge method",
    config: rule("action: merge", "method: fast-forward #<"),
    message: '"fast-forward" is not allowed: use one of "squash", "merge", "rebase"',
  },
  {
    name: "unknown rule key",
    config: rule("action: merge", "requiredCheks: [a] #<"),
    message: 'unknown key "requiredCheks"; did you mean "requiredChecks"?',
  },
  {
    name: "duplicate rule names",
    config: automerge(
      "rules:",
      "  - { name: a, action: merge }",
      "  - { name: a, action: review } #<",
    ),
    message: 'rule name "a" is already used by rules[0]',
  },
  {
    name: "empty rule name",
    config: rule('name: "" #<', "action: merge"),
    message: "must not be empty",
  },
  {
    name: "match not a mapping",
    config: rule("action: merge", "match: all #<"),
    message: 'expected a mapping, got the string "all"',
  },
  {
    name: "misspelt kind",
    config: rule("action: merge", "match: { kind: node } #<"),
    message: '"node" is not a kind: use "nodes", "resources"; did you mean "nodes"?',
  },
  {
    name: "unknown kind in a list",
    config: rule("action: merge", "match: { kind: [nodes, pods] } #<"),
    message: '[1]: "pods" is not a kind',
  },
  {
    name: "empty kind list",
    config: rule("action: merge", "match: { kind: [] } #<"),
    message: "needs at least 1 item",
  },
  {
    name: "bad direction",
    config: rule("action: merge", "match: { direction: sideways } #<"),
    message: '"sideways" is not a direction: use "up", "down"',
  },
  {
    name: "misspelt resource",
    config: rule("action: merge", "match: { resource: memroy } #<"),
    message: 'did you mean "memory"?',
  },
  {
    name: "zero maxStep",
    config: rule("action: merge", "match: { maxStep: 0 } #<"),
    message: "must be at least 1",
  },
  {
    name: "fractional maxStep",
    config: rule("action: merge", "match: { maxStep: 1.5 } #<"),
    message: "expected a whole number of nodes",
  },
  {
    name: "maxStep in words",
    config: rule("action: merge", "match: { maxStep: one } #<"),
    message: "expected a whole number of nodes such as 1",
  },
  {
    name: "negative maxChange",
    config: rule("action: merge", "match: { maxChange: -10 } #<"),
    message: "must be more than 0 %",
  },
  {
    name: "maxChange with a percent sign",
    config: rule("action: merge", 'match: { maxChange: "50%" } #<'),
    message: "expected a percentage such as 50",
  },
  {
    name: "misspelt match key",
    config: rule("action: merge", "match: { namespce: media } #<"),
    message: 'did you mean "namespace"?',
  },
  {
    name: "labels as a list",
    config: rule("action: merge", "match: { labels: [tier] } #<"),
    message: "expected a mapping of label: value",
  },
  {
    name: "label value as number",
    config: rule("action: merge", "match: { labels: { tier: 1 } } #<"),
    message: "expected a string, got 1",
  },
  {
    name: "empty pool name",
    config: rule("action: merge", 'match: { pool: "" } #<'),
    message: "must not be empty",
  },
  {
    name: "resource key on a node rule",
    config: rule("action: merge", "match:", "  kind: nodes", "  resource: cpu #<"),
    message: "resource concerns resource changes, but this rule matches kind nodes",
  },
  {
    name: "step limit on a resources rule",
    config: rule("action: merge", "match:", "  kind: resources", "  maxStep: 1 #<"),
    message: "maxStep concerns node changes, but this rule matches kind resources",
  },
  {
    name: "reviewers on a merge rule",
    config: rule("action: merge", "reviewers: [alice] #<"),
    message: "reviewers applies to review rules only; this rule's action is merge",
  },
  {
    name: "grace period on a review rule",
    config: rule("action: review", "minAge: 10m #<"),
    message: "minAge applies to merge rules only; this rule's action is review",
  },
  {
    name: "unreadable grace period",
    config: rule("action: merge", "minAge: soon #<"),
    message: '"soon" is not a duration',
  },
  {
    name: "negative rule cap",
    config: rule("action: merge", "maxPerDay: -1 #<"),
    message: "must be at least 1",
  },
  {
    name: "zero rule cap",
    config: rule("action: merge", "maxPerDay: 0 #<"),
    message: "a rule that must never merge is action: review",
  },
  {
    name: "bad reviewer login",
    config: rule("action: review", 'reviewers: ["bad login!"] #<'),
    message: "is not a GitHub user name",
  },
  {
    name: "bad team slug",
    config: rule("action: review", "teamReviewers: [a/b/c] #<"),
    message: "is not a team slug",
  },
  // Windows
  {
    name: "cron hour out of range",
    config: window("notDuring", 'cron: "0 25 * * 5" #<', "duration: 4h"),
    message: "is not a valid cron expression (CronPattern: Invalid value for hour: 25)",
  },
  {
    name: "six-field cron",
    config: window("notDuring", 'cron: "0 0 19 * * 5" #<', "duration: 4h"),
    message: "is not a valid cron expression",
  },
  {
    name: "cron without duration",
    config: window("notDuring", 'cron: "0 19 * * 5" #<'),
    message: "cron needs a duration",
  },
  {
    name: "duration without cron",
    config: window("notDuring", "name: x", "duration: 4h #<"),
    message: "duration needs a cron expression",
  },
  {
    name: "both window forms",
    config: window("notDuring", 'cron: "0 19 * * 5" #<', "duration: 4h", "days: fri"),
    message: "either cron + duration or days/hours",
  },
  {
    name: "empty window",
    config: window("notDuring", "{} #<"),
    message: "a window needs cron and duration, or days and/or hours",
  },
  {
    name: "zero duration",
    config: window("notDuring", 'cron: "0 19 * * 5"', "duration: 0s #<"),
    message: "must be longer than 0",
  },
  {
    name: "misspelt day",
    config: window("notDuring", "days: mon-fro #<"),
    message: '"fro" is not a day: use mon, tue, wed, thu, fri, sat, sun; did you mean "fri"?',
  },
  {
    name: "hour out of range",
    config: window("notDuring", 'hours: "25:00-03:00" #<'),
    message: "is not a range of hours",
  },
  {
    name: "whole-day hours",
    config: window("notDuring", 'hours: "00:00-24:00" #<'),
    message: "leave hours out for the whole day",
  },
  {
    name: "bad window time zone",
    config: window("notDuring", "days: fri", "timezone: Mars/Olympus #<"),
    message: 'unknown time zone "Mars/Olympus"',
  },
  {
    name: "misspelt window key",
    config: window("notDuring", 'cron: "0 19 * * 5"', "duraton: 4h #<"),
    message: 'unknown key "duraton"; did you mean "duration"?',
  },
  {
    name: "windows not a list",
    config: rule("action: merge", "during: { days: fri } #<"),
    message: "expected a list of windows",
  },
  // extends
  {
    name: "extends not text",
    config: automerge("extends: 5 #<"),
    message: "expected a reference such as preset:homelab",
  },
  {
    name: "extends with a space",
    config: automerge('extends: "preset:home lab" #<'),
    message: "is not a preset name",
  },
  {
    name: "extends leaving .github",
    config: automerge("extends: .github/../secrets.yml #<"),
    message: "must end in .yml or .yaml and stay inside .github/",
  },
  {
    name: "unknown preset",
    config: automerge("extends: preset:homelb #<"),
    message:
      'unknown preset "homelb": did you mean preset:homelab? presets: cautious, hands-off, homelab',
  },
  {
    name: "missing file",
    config: automerge("extends: .github/policies/missing.yml #<"),
    message: ".github/policies/missing.yml does not exist",
  },
  {
    name: "cycle through the repo config itself",
    config: automerge("extends: .github/a.yml"),
    files: { ".github/a.yml": "extends: .github/pr-autoscaler.yml #<\n" },
    message: "extends cycle: .github/pr-autoscaler.yml → .github/a.yml → .github/pr-autoscaler.yml",
  },
  {
    name: "cycle between presets",
    config: automerge("extends: preset:a"),
    presets: presetsFrom({ a: "extends: preset:b\n", b: "rules: []\nextends: preset:a\n" }),
    at: { file: "policies/b.yml", line: 2 },
    message: "extends cycle: preset:a → preset:b → preset:a",
  },
  {
    name: "chain too deep",
    config: automerge("extends: .github/1.yml"),
    files: {
      ".github/1.yml": "extends: .github/2.yml\n",
      ".github/2.yml": "extends: .github/3.yml\n",
      ".github/3.yml": "extends: .github/4.yml\n",
      ".github/4.yml": "extends: .github/5.yml #<\n",
      ".github/5.yml": "rules: []\n",
    },
    message: "extends goes deeper than 5 files",
  },
  {
    name: "error inside the extended file",
    config: automerge("extends: .github/base.yml"),
    files: { ".github/base.yml": "rules:\n  - action: merge\n    method: ff #<\n" },
    message: '"ff" is not allowed',
  },
  {
    name: "empty extended file",
    config: automerge("extends: .github/base.yml #<"),
    files: { ".github/base.yml": "" },
    message: ".github/base.yml is empty",
  },
  {
    name: "YAML error in the extended file",
    config: automerge("extends: .github/base.yml"),
    files: { ".github/base.yml": "rules: [\n" },
    at: { file: ".github/base.yml", line: 2 },
    message: "YAML syntax",
  },
  {
    name: "preset extending a repository file",
    config: automerge("extends: preset:odd"),
    presets: presetsFrom({ odd: "extends: .github/x.yml\n" }),
    at: { file: "policies/odd.yml", line: 1 },
    message: "a preset can only extend another preset, not .github/x.yml",
  },
  {
    name: "organisation config without a policy",
    config: automerge("extends: .github #<"),
    files: { "octo/.github:.github/pr-autoscaler.yml": "pools: []\n" },
    message: ".github has no automerge: section to extend",
  },
  {
    name: "organisation repository unreadable",
    config: automerge("extends: my-org/.github #<"),
    failRemote: true,
    message: "could not read my-org/.github: 403 Resource not accessible by integration",
  },
];

function reader(files: Record<string, string>, failRemote: boolean): PolicyFileReader {
  return async (repo, path) => {
    if (repo !== undefined && failRemote)
      throw new Error("403 Resource not accessible by integration");
    const text = files[repo === undefined ? path : `${repo}:${path}`];
    return text?.replaceAll(` ${HERE}`, "");
  };
}

/** The file and line marked `#<`, or the case's explicit place. */
function expectedPlace(bad: BadCase): { file: string; line: number } {
  if (bad.at) return bad.at;
  for (const [file, text] of Object.entries({ [ROOT]: bad.config, ...bad.files })) {
    const line = text.split("\n").findIndex((l) => l.includes(HERE));
    if (line >= 0)
      return { file: file.includes(":") ? (file.split(":")[1] ?? file) : file, line: line + 1 };
  }
  throw new Error(`${bad.name}: no line marked ${HERE}`);
}

describe("bad policy files", () => {
  it("has more than 50 of them", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
    expect(new Set(CASES.map((bad) => bad.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((bad) => [bad.name, bad] as const))(
    "%s: says what and where, and merges nothing",
    async (_, bad) => {
      const files = { [ROOT]: bad.config, ...bad.files };
      const result = await validateRepoConfiguration({
        read: reader(files, bad.failRemote === true),
        owner: "octo",
        ...(bad.presets ? { presets: bad.presets } : {}),
      });
      expect(result.ok).toBe(false);
      const place = expectedPlace(bad);
      const matching = result.issues.filter((issue) =>
        typeof bad.message === "string"
          ? issue.message.includes(bad.message)
          : bad.message.test(issue.message),
      );
      expect({ issues: formatConfigIssues(result.issues), found: matching.length > 0 }).toEqual({
        issues: expect.any(String),
        found: true,
      });
      expect(matching[0]).toMatchObject({
        file: expect.stringContaining(place.file),
        line: place.line,
      });
      expect(formatConfigIssues(matching.slice(0, 1))).toMatch(
        new RegExp(`^\\S*${escapeRegExp(place.file)}:${place.line}:\\d+: `),
      );

      for (const subject of [nodes("up", 1), nodes("down", 1), resources([["memory", 0.1]])]) {
        const verdict = evaluatePolicy(result.policy, subject, openContext("2025-03-28T10:00:00Z"));
        expect(verdict.action).toBe("review");
        expect(verdict.reasons[0]).toMatch(/policy has errors/);
      }
    },
  );
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
