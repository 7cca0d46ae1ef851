import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import type { CliIo } from "../../src/cli/io.ts";
import { validateCommand } from "../../src/cli/validate-command.ts";
import { evaluatePolicy } from "../../src/merge/evaluate-policy.ts";
import type { PolicySubject } from "../../src/merge/policy-subject.ts";
import { renderVerdictSection } from "../../src/merge/verdict-markdown.ts";
import { formatConfigIssues } from "../../src/policy/load-repo-config.ts";
import { validateRepoConfiguration } from "../../src/policy/policy-validate.ts";
import { nodes, openContext, policyOf, resources } from "../merge/policy-support.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const doc = readFileSync(join(ROOT, "docs", "policies.md"), "utf8");

function blocks(language: string): string[] {
  const fence = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g");
  return [...doc.matchAll(fence)].map((match) => match[1] ?? "");
}

async function validateText(text: string) {
  return validateRepoConfiguration({
    read: async (repo, path) =>
      repo === undefined && path === ".github/pr-autoscaler.yml" ? text : undefined,
    otherRepos: "skip",
  });
}

const ROWS: Record<string, PolicySubject> = {
  "one node up": nodes("up", 1),
  "two nodes up": nodes("up", 2),
  "three nodes up": nodes("up", 3),
  "one node down": nodes("down", 1),
  "memory +50 %": resources([["memory", 0.5]]),
  "memory +150 %": resources([["memory", 1.5]]),
  "memory −20 %": resources([["memory", -0.2]]),
  "cpu +20 %": resources([["cpu", 0.2]]),
  "cpu −60 %": resources([["cpu", -0.6]]),
  "memory +20 % and cpu −10 % together": resources([
    ["memory", 0.2],
    ["cpu", -0.1],
  ]),
};

describe("docs/policies.md", () => {
  it("shows policies that load, and an error example with the errors it really gives", async () => {
    const examples = blocks("yaml").filter((block) => block.startsWith("automerge:"));
    expect(examples.length).toBeGreaterThanOrEqual(4);
    const results = await Promise.all(examples.map(validateText));
    const failing = results.filter((result) => !result.ok);
    expect(failing).toHaveLength(1);
    const shown = blocks("text")[1];
    const issues = failing[0]?.issues ?? [];
    expect(
      `${formatConfigIssues(issues)}\n${issues.length} problems: until they are fixed, the app changes nothing in this repository and nothing merges itself.\n`,
    ).toBe(shown);
  });

  it("shows the summary validate prints for the example repository", async () => {
    let stdout = "";
    const io: CliIo = {
      stdout: (t) => {
        stdout += t;
      },
      stderr: () => {},
      cwd: ROOT,
      env: {},
      isTty: false,
    };
    await validateCommand.run([join("test", "fixtures", "policy", "homelab-repo")], io);
    expect(stdout).toBe(blocks("text")[0]);
  });

  it("has a preset table that matches what the presets decide", async () => {
    const table = doc.slice(doc.indexOf("| Proposal | cautious | homelab | hands-off |"));
    const lines = table.split("\n");
    const rows = lines
      .slice(
        2,
        lines.findIndex((line) => !line.startsWith("|")),
      )
      .map((line) =>
        line
          .split("|")
          .slice(1, -1)
          .map((cell) => cell.trim()),
      );
    expect(rows.map((row) => row[0])).toEqual(Object.keys(ROWS));
    const presets = ["cautious", "homelab", "hands-off"];
    const policies = await Promise.all(
      presets.map((name) => policyOf(`extends: preset:${name}\n`)),
    );
    for (const [name, ...decisions] of rows) {
      const subject = ROWS[name ?? ""] as PolicySubject;
      const actual = policies.map(
        (policy) => evaluatePolicy(policy, subject, openContext("2025-03-28T10:00:00Z")).action,
      );
      expect({ name, decisions }).toEqual({ name, decisions: actual });
    }
  });

  it("shows the pull request section the app writes", async () => {
    const policy = await policyOf("extends: preset:homelab\ntimezone: Europe/Berlin\n");
    // The body's verdict is worked out as the app does it: without reading the checks.
    const { checks: _, ...withoutChecks } = openContext("2025-03-28T10:00:00Z", {
      openedAt: "2025-03-28T09:55:00Z",
    });
    const verdict = evaluatePolicy(policy, nodes("up"), withoutChecks);
    const section = renderVerdictSection(verdict).split("\n").slice(1, -1).join("\n");
    expect(`${section}\n`).toBe(blocks("markdown")[0]);
  });
});
