import { describe, expect, it } from "@jest/globals";
import { evaluatePolicy } from "../../src/merge/evaluate-policy.ts";
import { brokenPolicy } from "../../src/policy/automerge-policy.ts";
import { nodes, openContext, policyOf, resources } from "./policy-support.ts";

const NOW = "2025-03-28T10:00:00Z"; // a Friday, 11:00 in Berlin

describe("evaluatePolicy: which rule decides", () => {
  it("lets the first matching rule decide and lists the rules before it with their reasons", async () => {
    const policy = await policyOf(`
rules:
  - name: gpu-needs-review
    match: { kind: nodes, pool: gpu-* }
    action: review
    reviewers: [alice]
  - name: small-scale-up
    match: { kind: nodes, direction: up, maxStep: 1 }
    action: merge
  - name: any-node-change
    match: { kind: nodes }
    action: merge
    method: rebase
`);
    const verdict = evaluatePolicy(policy, nodes("up", 1, "workers"), openContext(NOW));
    expect(verdict).toMatchObject({
      action: "merge",
      rule: {
        index: 1,
        name: "small-scale-up",
        source: ".github/pr-autoscaler.yml",
        sourceIndex: 1,
      },
      method: "squash",
      ready: true,
      blockedBy: [],
    });
    expect(verdict.reasons).toEqual([
      'rule "small-scale-up" (.github/pr-autoscaler.yml) matched: kind nodes, direction up, step 1 ≤ 1',
    ]);
    expect(verdict.skipped).toEqual([
      {
        rule: expect.objectContaining({ name: "gpu-needs-review" }),
        reason: "pool workers is not gpu-*",
      },
    ]);

    const gpu = evaluatePolicy(policy, nodes("up", 1, "gpu-a100"), openContext(NOW));
    expect(gpu).toMatchObject({
      action: "review",
      rule: { name: "gpu-needs-review" },
      reviewers: ["alice"],
    });

    const big = evaluatePolicy(policy, nodes("up", 3), openContext(NOW));
    expect(big).toMatchObject({
      action: "merge",
      rule: { name: "any-node-change" },
      method: "rebase",
    });
    expect(big.skipped.map((s) => s.reason)).toEqual([
      "pool workers is not gpu-*",
      "step 3 is more than maxStep 1",
    ]);
  });

  it("swapping two rules swaps the decision", async () => {
    const reviewFirst = await policyOf(`
rules:
  - { name: review-nodes, match: { kind: nodes }, action: review }
  - { name: merge-up, match: { kind: nodes, direction: up }, action: merge }
`);
    const mergeFirst = await policyOf(`
rules:
  - { name: merge-up, match: { kind: nodes, direction: up }, action: merge }
  - { name: review-nodes, match: { kind: nodes }, action: review }
`);
    expect(evaluatePolicy(reviewFirst, nodes("up"), openContext(NOW)).action).toBe("review");
    expect(evaluatePolicy(mergeFirst, nodes("up"), openContext(NOW)).action).toBe("merge");
    expect(evaluatePolicy(mergeFirst, nodes("down"), openContext(NOW))).toMatchObject({
      action: "review",
      rule: { name: "review-nodes" },
    });
  });

  it("reviews when no rule matches, and when the policy is broken", async () => {
    const policy = await policyOf("rules:\n  - { match: { kind: resources }, action: merge }\n");
    expect(evaluatePolicy(policy, nodes("up"), openContext(NOW))).toMatchObject({
      action: "review",
      rule: undefined,
      reasons: ["no rule matched; the default is review"],
    });
    const broken = brokenPolicy([".github/pr-autoscaler.yml:3:5: automerge.rules[0].action: bad"]);
    const verdict = evaluatePolicy(broken, nodes("up"), openContext(NOW));
    expect(verdict.action).toBe("review");
    expect(verdict.reasons[0]).toMatch(/policy has errors/);
    expect(verdict.reasons[1]).toContain("automerge.rules[0].action");
  });

  it("keeps deciding merge when a condition blocks: a blocked rule does not fall through", async () => {
    const policy = await policyOf(`
rules:
  - { name: merge-up, match: { direction: up }, action: merge, minAge: 1h }
  - { name: fallback, action: merge }
`);
    const verdict = evaluatePolicy(policy, nodes("up"), openContext(NOW, { openedAt: NOW }));
    expect(verdict).toMatchObject({ action: "merge", rule: { name: "merge-up" }, ready: false });
    expect(verdict.blockedBy.map((b) => b.kind)).toEqual(["age"]);
  });
});

describe("evaluatePolicy: what a rule matches", () => {
  it("matches resources only when every changed value fits", async () => {
    const policy = await policyOf(`
rules:
  - name: raise-memory
    match: { kind: resources, direction: up, resource: memory, maxChange: 100 }
    action: merge
`);
    const check = (subject: ReturnType<typeof resources>) =>
      evaluatePolicy(policy, subject, openContext(NOW));
    expect(check(resources([["memory", 0.5]])).action).toBe("merge");
    expect(check(resources([["memory", 1]])).action).toBe("merge");
    expect(check(resources([["memory", 1.5]])).skipped[0]?.reason).toBe(
      "plex/app memory changes by 150 %, more than maxChange 100 %",
    );
    // Just above the limit, the change is shown with the decimals that tell it from the limit.
    expect(check(resources([["memory", 1.0004]])).skipped[0]?.reason).toBe(
      "plex/app memory changes by 100.04 %, more than maxChange 100 %",
    );
    expect(
      check(
        resources([
          ["memory", 0.5],
          ["cpu", 0.1],
        ]),
      ).skipped[0]?.reason,
    ).toBe("plex/app cpu is not memory");
    expect(
      check(
        resources([
          ["memory", 0.5],
          ["memory", -0.2],
        ]),
      ).skipped[0]?.reason,
    ).toBe("plex/app memory goes down, not up");
    // No previous value: the change cannot be shown to be within 100 %.
    expect(check(resources([["memory", undefined]])).skipped[0]?.reason).toBe(
      "plex/app memory had no value before, so its change is unknown",
    );
    expect(check(nodes("up")).skipped[0]?.reason).toBe("kind nodes is not resources");
  });

  it("matches namespaces, workloads and labels, with * as a wildcard", async () => {
    const policy = await policyOf(`
rules:
  - name: media
    match: { namespace: [media, "apps-*"], workload: "*", labels: { tier: batch, team: "*" } }
    action: merge
`);
    const labelled = { tier: "batch", team: "home" };
    const verdict = (ns: string, labels: Record<string, string>) =>
      evaluatePolicy(
        policy,
        resources([["cpu", 0.2]], { namespace: ns, labels }),
        openContext(NOW),
      );
    expect(verdict("apps-dev", labelled).action).toBe("merge");
    expect(verdict("kube-system", labelled).skipped[0]?.reason).toBe(
      "namespace kube-system is not one of media, apps-*",
    );
    expect(verdict("media", { tier: "web", team: "x" }).skipped[0]?.reason).toBe(
      'label tier is "web", not "batch"',
    );
    expect(verdict("media", { tier: "batch" }).skipped[0]?.reason).toBe("label team is not set");
    // A node change has no namespace: the key cannot hold.
    expect(evaluatePolicy(policy, nodes("up"), openContext(NOW)).skipped[0]?.reason).toBe(
      "the change has no namespace",
    );
  });

  it("does not take a step limit for resources, nor a percentage for nodes", async () => {
    const policy = await policyOf(`
rules:
  - { name: small-step, match: { maxStep: 2 }, action: merge }
  - { name: small-change, match: { maxChange: 10 }, action: merge }
`);
    const forResources = evaluatePolicy(policy, resources([["cpu", 0.05]]), openContext(NOW));
    expect(forResources).toMatchObject({ action: "merge", rule: { name: "small-change" } });
    expect(forResources.skipped[0]?.reason).toBe("maxStep applies to node changes only");
    const forNodes = evaluatePolicy(policy, nodes("down", 3), openContext(NOW));
    expect(forNodes.action).toBe("review");
    expect(forNodes.skipped.map((s) => s.reason)).toEqual([
      "step 3 is more than maxStep 2",
      "maxChange applies to resource changes only",
    ]);
  });
});

describe("evaluatePolicy: conditions of merge rules", () => {
  it("waits out the grace period from when the pull request opened", async () => {
    const policy = await policyOf(`
timezone: Europe/Berlin
rules: [{ name: up, action: merge, minAge: 30m }]
`);
    const verdict = evaluatePolicy(
      policy,
      nodes("up"),
      openContext(NOW, { openedAt: "2025-03-28T09:45:00Z" }),
    );
    expect(verdict.blockedBy).toEqual([
      {
        kind: "age",
        message: "not before Fri 2025-03-28 11:15 GMT+1 (30m after it opened)",
        until: "2025-03-28T10:15:00.000Z",
      },
    ]);
    expect(verdict.mergeableAt).toBe("2025-03-28T10:15:00.000Z");
    const later = evaluatePolicy(
      policy,
      nodes("up"),
      openContext("2025-03-28T10:15:00Z", { openedAt: "2025-03-28T09:45:00Z" }),
    );
    expect(later.ready).toBe(true);
  });

  it("counts the grace period from the last change of the values, when that came later", async () => {
    const policy = await policyOf(`
timezone: Europe/Berlin
rules: [{ name: down, match: { direction: down }, action: merge, minAge: 1h }]
`);
    // Opened two hours ago as 3 → 4; a minute ago the values became 3 → 2.
    const changed = { openedAt: "2025-03-28T08:00:00Z", changedAt: "2025-03-28T09:59:00Z" };
    const flipped = { ...nodes("down", 1), from: 3, to: 2 };
    const verdict = evaluatePolicy(policy, flipped, openContext(NOW, changed));
    expect(verdict).toMatchObject({ action: "merge", ready: false });
    expect(verdict.blockedBy).toEqual([
      {
        kind: "age",
        message: "not before Fri 2025-03-28 11:59 GMT+1 (1h after it changed to 3 → 2)",
        until: "2025-03-28T10:59:00.000Z",
      },
    ]);
    expect(verdict.mergeableAt).toBe("2025-03-28T10:59:00.000Z");
    const after = evaluatePolicy(policy, flipped, openContext("2025-03-28T10:59:00Z", changed));
    expect(after.ready).toBe(true);
  });

  it("says 'after its last change' where no count changes, and ignores a change before the opening", async () => {
    const policy = await policyOf(`
timezone: Europe/Berlin
rules: [{ name: any, action: merge, minAge: 30m }]
`);
    const rightsizing = resources([["cpu", -0.4]]);
    const changed = evaluatePolicy(
      policy,
      rightsizing,
      openContext(NOW, { openedAt: "2025-03-28T08:00:00Z", changedAt: "2025-03-28T09:50:00Z" }),
    );
    expect(changed.blockedBy.map((blocker) => blocker.message)).toEqual([
      "not before Fri 2025-03-28 11:20 GMT+1 (30m after its last change)",
    ]);
    // A record older than the opening (a reopened pull request) or unreadable starts nothing.
    for (const changedAt of ["2025-03-28T09:00:00Z", "not a time"]) {
      const opened = evaluatePolicy(
        policy,
        rightsizing,
        openContext(NOW, { openedAt: "2025-03-28T09:45:00Z", changedAt }),
      );
      expect(opened.blockedBy.map((blocker) => blocker.message)).toEqual([
        "not before Fri 2025-03-28 11:15 GMT+1 (30m after it opened)",
      ]);
    }
  });

  it("counts a change recorded after now as made now: a clock ahead or a hand-edited marker", async () => {
    const policy = await policyOf(`
timezone: Europe/Berlin
rules: [{ name: any, action: merge, minAge: 30m }]
`);
    for (const changedAt of [
      "2025-03-28T10:00:30Z",
      "9999-12-31T00:00:00Z",
      "+275760-09-13T00:00:00Z",
    ]) {
      const verdict = evaluatePolicy(
        policy,
        resources([["cpu", -0.4]]),
        openContext(NOW, { openedAt: "2025-03-28T08:00:00Z", changedAt }),
      );
      expect(verdict.blockedBy).toEqual([
        {
          kind: "age",
          message: "not before Fri 2025-03-28 11:30 GMT+1 (30m after its last change)",
          until: "2025-03-28T10:30:00.000Z",
        },
      ]);
    }
  });

  it("merges only inside its windows and never inside a no-merge window of the policy", async () => {
    const policy = await policyOf(`
timezone: Europe/Berlin
notDuring:
  - { name: movie night, cron: "0 19 * * 5", duration: 4h }
rules:
  - name: daytime
    action: merge
    during: [{ days: mon-fri, hours: "08:00-20:00" }]
`);
    const at = (now: string) => evaluatePolicy(policy, nodes("up"), openContext(now));
    expect(at("2025-03-28T17:30:00Z").ready).toBe(true);
    const movie = at("2025-03-28T18:30:00Z");
    expect(movie.blockedBy).toEqual([
      {
        kind: "window",
        message:
          'inside a no-merge window (movie night: cron "0 19 * * 5" for 4h (Europe/Berlin)); it may merge from Mon 2025-03-31 08:00 GMT+2',
        until: "2025-03-31T06:00:00.000Z",
      },
    ]);
    const saturday = at("2025-03-29T10:00:00Z");
    expect(saturday.blockedBy[0]?.message).toMatch(
      /^outside the merge window \(mon,tue,wed,thu,fri 08:00-20:00 \(Europe\/Berlin\)\)/,
    );
    expect(saturday.mergeableAt).toBe("2025-03-31T06:00:00.000Z");
  });

  it("counts today's merges against the daily caps of the rule and the policy", async () => {
    const policy = await policyOf(`
timezone: America/New_York
maxPerDay: { nodes: 3 }
rules:
  - { name: nodes, match: { kind: nodes }, action: merge, maxPerDay: 2 }
  - { name: resources, match: { kind: resources }, action: merge }
`);
    const now = "2025-11-02T12:00:00Z";
    const merges = [
      { kind: "nodes" as const, mergedAt: "2025-11-02T03:30:00Z" }, // yesterday in New York
      { kind: "nodes" as const, mergedAt: "2025-11-02T06:30:00Z" },
    ];
    expect(
      evaluatePolicy(policy, nodes("up"), openContext(now, { merges: merges.slice(0, 1) })).ready,
    ).toBe(true);
    const capped = evaluatePolicy(
      policy,
      nodes("up"),
      openContext(now, {
        merges: [...merges, { kind: "nodes", mergedAt: "2025-11-02T11:00:00Z" }],
      }),
    );
    expect(capped.blockedBy).toEqual([
      {
        kind: "cap",
        message:
          "2 nodes pull requests merged today, at most 2 per day; the count starts again Mon 2025-11-03 00:00 EST",
        until: "2025-11-03T05:00:00.000Z",
      },
    ]);
    // Resources have no cap.
    expect(
      evaluatePolicy(policy, resources([["cpu", 0.1]]), openContext(now, { merges })).ready,
    ).toBe(true);
  });

  it("puts the earliest time after every time-based condition", async () => {
    const policy = await policyOf(`
timezone: UTC
rules:
  - name: mornings
    action: merge
    minAge: 3h
    maxPerDay: 1
    during: [{ hours: "09:00-12:00" }]
`);
    // Opened at 10:00, one merge already today: the cap moves it to tomorrow, the window to 09:00.
    const verdict = evaluatePolicy(
      policy,
      nodes("up"),
      openContext(NOW, {
        openedAt: NOW,
        merges: [{ kind: "nodes", mergedAt: "2025-03-28T09:30:00Z" }],
      }),
    );
    expect(verdict.blockedBy.map((b) => b.kind)).toEqual(["age", "cap"]);
    expect(verdict.mergeableAt).toBe("2025-03-29T09:00:00.000Z");
  });

  it("needs every required check green: the policy's, the rule's and branch protection's", async () => {
    const policy = await policyOf(`
requiredChecks: [lint]
rules: [{ name: up, action: merge, requiredChecks: [pr-autoscaler/plan-guard] }]
`);
    const withChecks = (states: Record<string, "success" | "pending" | "failure">) =>
      evaluatePolicy(
        policy,
        nodes("up"),
        openContext(NOW, { checks: { required: ["terraform-plan"], states } }),
      );
    const green = withChecks({
      lint: "success",
      "pr-autoscaler/plan-guard": "success",
      "terraform-plan": "success",
    });
    expect(green).toMatchObject({
      ready: true,
      requiredChecks: ["lint", "pr-autoscaler/plan-guard", "terraform-plan"],
    });
    const mixed = withChecks({ lint: "failure", "terraform-plan": "pending", other: "failure" });
    expect(mixed.blockedBy).toEqual([
      {
        kind: "checks",
        message:
          "failing: lint; running: terraform-plan; not reported yet: pr-autoscaler/plan-guard",
        checks: [
          { name: "lint", state: "failure" },
          { name: "pr-autoscaler/plan-guard", state: "missing" },
          { name: "terraform-plan", state: "pending" },
        ],
      },
    ]);
    expect(mixed.mergeableAt).toBeUndefined();
  });

  it("requires every reported check when nothing names a required check, and blocks while unread", async () => {
    const policy = await policyOf("rules: [{ name: up, action: merge }]\n");
    const reported = evaluatePolicy(
      policy,
      nodes("up"),
      openContext(NOW, {
        checks: { required: undefined, states: { build: "success", e2e: "failure" } },
      }),
    );
    expect(reported.blockedBy.map((b) => b.message)).toEqual(["failing: e2e"]);
    const unread = evaluatePolicy(policy, nodes("up"), { ...openContext(NOW), checks: undefined });
    expect(unread.blockedBy.map((b) => b.message)).toEqual(["checks not read yet"]);
    expect(unread.ready).toBe(false);
  });

  it("honours a hold before anything else and gives no time for it", async () => {
    const policy = await policyOf("rules: [{ name: up, action: merge, minAge: 1h }]\n");
    const verdict = evaluatePolicy(
      policy,
      nodes("up"),
      openContext(NOW, { held: true, openedAt: NOW }),
    );
    expect(verdict.blockedBy.map((b) => b.kind)).toEqual(["hold", "age"]);
    expect(verdict.mergeableAt).toBeUndefined();
    expect(verdict.ready).toBe(false);
  });
});
