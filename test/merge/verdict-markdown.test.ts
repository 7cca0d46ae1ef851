import { describe, expect, it } from "@jest/globals";
import { parseCommands } from "../../src/control/command.ts";
import { evaluatePolicy } from "../../src/merge/evaluate-policy.ts";
import { HOLD_LABEL, isHeld } from "../../src/merge/hold.ts";
import {
  relativeChange,
  subjectFromNodeProposal,
  subjectFromResourceChanges,
} from "../../src/merge/policy-subject.ts";
import {
  type ReviewRecord,
  readReviewRecord,
  reviewRecordTag,
} from "../../src/merge/review-record.ts";
import { renderVerdictSection, withVerdictSection } from "../../src/merge/verdict-markdown.ts";
import type { NodeProposal } from "../../src/planning/proposal.ts";
import { brokenPolicy } from "../../src/policy/automerge-policy.ts";
import { nodes, openContext, policyOf } from "./policy-support.ts";

const NOW = "2025-03-28T10:00:00Z";

describe("renderVerdictSection", () => {
  it("says a merge rule's pull request merges itself, what it waits for, and how to stop it", async () => {
    const policy = await policyOf(`
timezone: Europe/Berlin
rules:
  - name: add-one-node
    description: One node more, once the plan guard passed.
    match: { kind: nodes, direction: up, maxStep: 1 }
    action: merge
    minAge: 10m
    requiredChecks: [pr-autoscaler/plan-guard]
`);
    const verdict = evaluatePolicy(
      policy,
      nodes("up"),
      openContext(NOW, { openedAt: "2025-03-28T09:55:00Z", checks: { required: [], states: {} } }),
    );
    expect(renderVerdictSection(verdict)).toBe(
      [
        "<!-- pr-autoscaler:verdict -->",
        "### Auto-merge",
        "",
        "**Merges itself** under rule `add-one-node` from `.github/pr-autoscaler.yml`. One node more, once the plan guard passed.",
        "",
        "Matched: kind nodes, direction up, step 1 ≤ 1.",
        "",
        "Before it merges (squash):",
        "- Grace period: not before Fri 2025-03-28 11:05 GMT+1 (10m after it opened)",
        "- Checks: not reported yet: pr-autoscaler/plan-guard",
        "",
        "Earliest: Fri 2025-03-28 11:05 GMT+1. Required checks: `pr-autoscaler/plan-guard`.",
        "",
        "Comment `/autoscaler hold` to stop it merging by itself.",
        "<!-- /pr-autoscaler:verdict -->",
      ].join("\n"),
    );
  });

  it("says when everything holds, and when a rule asks for review", async () => {
    const policy = await policyOf(`
rules:
  - { name: small, match: { maxStep: 1 }, action: merge, method: rebase }
  - { name: big, action: review, reviewers: [alice], teamReviewers: [my-org/infra], assignees: [bob] }
`);
    const ready = renderVerdictSection(evaluatePolicy(policy, nodes("up"), openContext(NOW)));
    expect(ready).toContain("Every condition holds: it merges now (rebase).");
    const review = renderVerdictSection(evaluatePolicy(policy, nodes("up", 3), openContext(NOW)));
    expect(review).toContain(
      "**Waits for review** under rule `big` from `.github/pr-autoscaler.yml`.",
    );
    // Before the bot asked GitHub, nothing is claimed.
    expect(review).toContain("Review to be requested from @alice, team `infra`.");
    expect(review).toContain("To be assigned to @bob.");
    expect(review).not.toContain("Review requested");
  });

  it("says whom GitHub was asked, and whom it refused, once the record of asking is there", async () => {
    const policy = await policyOf(`
rules:
  - { name: big, action: review, reviewers: [alice, ghost], teamReviewers: [my-org/infra], assignees: [bob] }
`);
    const verdict = evaluatePolicy(policy, nodes("up", 3), openContext(NOW));
    const record: ReviewRecord = {
      rule: "big",
      reviewers: ["alice", "ghost"],
      teamReviewers: ["infra"],
      assignees: ["bob"],
      refused: [{ role: "reviewer", name: "ghost", reason: "Review cannot be <b>requested</b>." }],
    };
    const section = renderVerdictSection(verdict, record);
    expect(section.split("\n").slice(6, -1)).toEqual([
      "",
      "Review requested from @alice, team `infra`.",
      "",
      "Assigned to @bob.",
      "",
      "GitHub refused, so these were not asked (fix the rule's names or their access):",
      "- @ghost: Review cannot be <b>requested</b>.",
      "",
      reviewRecordTag(record),
    ]);
    // The record is read back from the body; its text cannot end the hidden comment early.
    expect(reviewRecordTag(record)).not.toContain("<b>");
    expect(readReviewRecord(withVerdictSection("Text.", section))).toEqual(record);
    // A record of other people, or of another rule, claims nothing.
    for (const other of [
      { ...record, reviewers: ["alice"] },
      { ...record, rule: "small" },
    ])
      expect(renderVerdictSection(verdict, other)).toContain("Review to be requested from");
  });

  it("explains the default and a broken policy", async () => {
    const none = renderVerdictSection(
      evaluatePolicy(await policyOf("rules: []\n"), nodes("up"), openContext(NOW)),
    );
    expect(none).toContain("**Waits for review**: no rule matched; the default is review");
    const broken = renderVerdictSection(
      evaluatePolicy(
        brokenPolicy([".github/pr-autoscaler.yml:2:3: automerge.rule: unknown key"]),
        nodes("up"),
        openContext(NOW),
      ),
    );
    expect(broken).toContain("**Waits for review**: the auto-merge policy has errors");
    expect(broken).toContain("- .github/pr-autoscaler.yml:2:3: automerge.rule: unknown key");
  });

  it("is replaced in place when the verdict changes", async () => {
    const policy = await policyOf("rules: [{ name: all, action: merge, minAge: 1h }]\n");
    const before = renderVerdictSection(
      evaluatePolicy(policy, nodes("up"), openContext(NOW, { openedAt: NOW })),
    );
    const after = renderVerdictSection(
      evaluatePolicy(policy, nodes("up"), openContext("2025-03-28T11:00:00Z", { openedAt: NOW })),
    );
    const body = withVerdictSection("Pods are waiting for room.", before);
    expect(body).toBe(`Pods are waiting for room.\n\n${before}`);
    const updated = withVerdictSection(`${body}\n\nMore text.`, after);
    expect(updated).toBe(`Pods are waiting for room.\n\n${after}\n\nMore text.`);
    expect(withVerdictSection(updated, after)).toBe(updated);
  });
});

describe("hold", () => {
  it("reads /autoscaler hold and unhold on a line of their own, through the command parser", () => {
    const verbs = (body: string) =>
      parseCommands(body).map((line) => (line.ok ? line.command.verb : line.problem));
    expect(verbs("/autoscaler hold")).toEqual(["hold"]);
    expect(verbs("Wait, the NAS is rebooting.\n/autoscaler HOLD\n")).toEqual(["hold"]);
    expect(verbs("/autoscaler unhold")).toEqual(["unhold"]);
    expect(verbs("please do not /autoscaler hold this")).toEqual([]);
    expect(verbs("/autoscaler holdings")).toEqual(["unknown command `holdings`"]);
    expect(isHeld(["autoscaling", HOLD_LABEL])).toBe(true);
    expect(isHeld(["autoscaling"])).toBe(false);
  });
});

describe("policy subjects", () => {
  it("are made from a node proposal", () => {
    const proposal = {
      kind: "nodes",
      pool: "workers",
      from: 5,
      to: 3,
      direction: "down",
    } as NodeProposal;
    expect(subjectFromNodeProposal(proposal, { tier: "general" })).toEqual({
      kind: "nodes",
      direction: "down",
      step: 2,
      from: 5,
      to: 3,
      resources: [],
      pool: "workers",
      labels: { tier: "general" },
    });
  });

  it("are made from resource changes, with their overall direction and largest change", () => {
    const subject = subjectFromResourceChanges({
      namespace: "media",
      workload: "plex",
      changes: [
        { resource: "memory", direction: "up", relativeChange: relativeChange(1024, 1536) },
        { resource: "cpu", direction: "down", relativeChange: relativeChange(500, 400) },
      ],
    });
    expect(subject).toMatchObject({ kind: "resources", direction: "mixed", relativeChange: 0.5 });
    const unknown = subjectFromResourceChanges({
      namespace: "media",
      workload: "plex",
      changes: [
        { resource: "memory", direction: "up", relativeChange: relativeChange(undefined, 512) },
      ],
    });
    expect(unknown).toMatchObject({ direction: "up" });
    expect(unknown.relativeChange).toBeUndefined();
  });
});
