import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { evaluatePolicy } from "../../src/merge/evaluate-policy.ts";
import type { PolicySubject } from "../../src/merge/policy-subject.ts";
import {
  POLICY_SCHEMA_FILE,
  policyJsonSchema,
  policyJsonSchemaText,
} from "../../src/policy/policy-json-schema.ts";
import { bundledPresets } from "../../src/policy/policy-presets.ts";
import { repoConfigJsonSchema } from "../../src/policy/repo-config-json-schema.ts";
import { nodes, openContext, policyOf, resources } from "../merge/policy-support.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const GUARD_PASSED = { required: [], states: { "pr-autoscaler/plan-guard": "success" as const } };
const PRESETS = ["cautious", "hands-off", "homelab"];

/** Proposals every preset is tried on, by name. */
const SUBJECTS: Record<string, PolicySubject> = {
  "one node up": nodes("up", 1),
  "two nodes up": nodes("up", 2),
  "three nodes up": nodes("up", 3),
  "one node down": nodes("down", 1),
  "memory +50 %": resources([["memory", 0.5]]),
  "memory +100 %": resources([["memory", 1]]),
  "memory +150 %": resources([["memory", 1.5]]),
  "memory -20 %": resources([["memory", -0.2]]),
  "memory, none before": resources([["memory", undefined]]),
  "cpu +20 %": resources([["cpu", 0.2]]),
  "cpu -30 %": resources([["cpu", -0.3]]),
  "cpu -60 %": resources([["cpu", -0.6]]),
  "memory +20 %, cpu -10 %": resources([
    ["memory", 0.2],
    ["cpu", -0.1],
  ]),
};

/** Expected decision per preset: the deciding rule, `merge:` or `review:` before its name. */
const EXPECTED: Record<string, Record<string, string>> = {
  cautious: Object.fromEntries(
    Object.keys(SUBJECTS).map((name) => [name, "review:review-everything"]),
  ),
  homelab: {
    "one node up": "merge:add-one-node",
    "two nodes up": "review:review-the-rest",
    "three nodes up": "review:review-the-rest",
    "one node down": "review:review-the-rest",
    "memory +50 %": "merge:raise-memory",
    "memory +100 %": "merge:raise-memory",
    "memory +150 %": "review:review-the-rest",
    "memory -20 %": "review:review-the-rest",
    "memory, none before": "review:review-the-rest",
    "cpu +20 %": "review:review-the-rest",
    "cpu -30 %": "review:review-the-rest",
    "cpu -60 %": "review:review-the-rest",
    "memory +20 %, cpu -10 %": "review:review-the-rest",
  },
  "hands-off": {
    "one node up": "merge:nodes-within-bounds",
    "two nodes up": "merge:nodes-within-bounds",
    "three nodes up": "review:review-the-rest",
    "one node down": "merge:nodes-within-bounds",
    "memory +50 %": "merge:requests-within-bounds",
    "memory +100 %": "review:review-the-rest",
    "memory +150 %": "review:review-the-rest",
    "memory -20 %": "merge:requests-within-bounds",
    "memory, none before": "review:review-the-rest",
    "cpu +20 %": "merge:requests-within-bounds",
    "cpu -30 %": "merge:requests-within-bounds",
    "cpu -60 %": "review:review-the-rest",
    "memory +20 %, cpu -10 %": "merge:requests-within-bounds",
  },
};

describe("bundled presets", () => {
  it("are the three documented ones", async () => {
    expect(await bundledPresets().names()).toEqual(PRESETS);
  });

  it.each(PRESETS)("%s decides each proposal of the matrix as documented", async (preset) => {
    const policy = await policyOf(`extends: preset:${preset}\n`);
    const decided = Object.fromEntries(
      Object.entries(SUBJECTS).map(([name, subject]) => {
        const verdict = evaluatePolicy(policy, subject, openContext("2025-03-28T10:00:00Z"));
        return [name, `${verdict.action}:${verdict.rule?.name}`];
      }),
    );
    expect(decided).toEqual(EXPECTED[preset]);
  });

  it("homelab and hands-off need the plan guard for node changes, and hands-off caps each day", async () => {
    const homelab = await policyOf("extends: preset:homelab\n");
    const handsOff = await policyOf("extends: preset:hands-off\n");
    const nodeRule = (policy: typeof homelab) =>
      policy.rules.find((rule) => rule.match.kind?.includes("nodes"));
    expect(nodeRule(homelab)?.requiredChecks).toEqual(["pr-autoscaler/plan-guard"]);
    expect(nodeRule(handsOff)?.requiredChecks).toEqual(["pr-autoscaler/plan-guard"]);
    expect(handsOff.maxPerDay).toEqual({ nodes: 4, resources: 10 });
    const fifth = evaluatePolicy(handsOff, nodes("up"), {
      ...openContext("2025-03-28T18:00:00Z", { checks: GUARD_PASSED }),
      merges: Array.from({ length: 4 }, () => ({
        kind: "nodes" as const,
        mergedAt: "2025-03-28T09:00:00Z",
      })),
    });
    expect(fifth.blockedBy.map((blocker) => blocker.kind)).toEqual(["cap"]);
  });

  it("leave a grace period in which a person can hold the pull request", async () => {
    for (const preset of ["homelab", "hands-off"]) {
      const policy = await policyOf(`extends: preset:${preset}\n`);
      const fresh = evaluatePolicy(
        policy,
        nodes("up"),
        openContext("2025-03-28T10:00:00Z", {
          openedAt: "2025-03-28T10:00:00Z",
          checks: GUARD_PASSED,
        }),
      );
      expect(fresh.blockedBy.map((blocker) => blocker.kind)).toEqual(["age"]);
    }
  });

  it("each start with the schema line and describe themselves in comments", () => {
    for (const preset of PRESETS) {
      const text = readFileSync(join(ROOT, "policies", `${preset}.yml`), "utf8");
      expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=./policy.schema.json");
      expect(text).toContain(`# ${preset}: `);
      expect(text).toContain(`extends: preset:${preset}`);
    }
  });
});

describe("policy JSON Schema", () => {
  it("matches the committed file (regenerate: node src/policy/policy-json-schema.ts)", () => {
    expect(readFileSync(join(ROOT, POLICY_SCHEMA_FILE), "utf8")).toBe(policyJsonSchemaText());
  });

  it("accepts every preset and refuses what the loader refuses", () => {
    const validate = new Ajv({ strict: false, allErrors: true }).compile(policyJsonSchema());
    for (const preset of PRESETS) {
      const data = parse(readFileSync(join(ROOT, "policies", `${preset}.yml`), "utf8"));
      expect({ preset, valid: validate(data), errors: validate.errors ?? null }).toEqual({
        preset,
        valid: true,
        errors: null,
      });
    }
    expect(validate({ rules: [{ action: "mrege" }] })).toBe(false);
    expect(validate({ rules: [{ action: "merge", match: { kind: ["nodes", "pods"] } }] })).toBe(
      false,
    );
    expect(validate({ maxPerDay: { nodes: -1 } })).toBe(false);
    expect(validate({ timezon: "UTC" })).toBe(false);
  });

  it("is part of the repo config's schema under automerge", () => {
    const schema = repoConfigJsonSchema() as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
    };
    expect(Object.keys(schema.properties.automerge?.properties ?? {})).toEqual(
      Object.keys((policyJsonSchema() as { properties: Record<string, unknown> }).properties),
    );
  });
});
