import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import type { ClosedBotPullRequest } from "../../src/forge/forge.ts";
import { evaluatePolicy } from "../../src/merge/evaluate-policy.ts";
import { HOLD_LABEL } from "../../src/merge/hold.ts";
import { loadBranchPolicy } from "../../src/merge/load-branch-policy.ts";
import { type MergeWhenReadyInput, mergeWhenReady } from "../../src/merge/merge-when-ready.ts";
import type { AutomergePolicy } from "../../src/policy/automerge-policy.ts";
import { mockGitHub, testOctokit } from "../support/github.ts";
import { fileContent, OWNER, REPO, sha } from "../support/github-responses.ts";
import {
  BOT,
  GUARD,
  HEAD,
  mergeSteps,
  mockGraphql,
  NODE_ID,
  PR,
  WINDOWED,
} from "./github-merge-mock.ts";
import { nodes, policyOf } from "./policy-support.ts";

const MESSAGES = JSON.parse(
  readFileSync(new URL("./fixtures/graphql-errors.json", import.meta.url), "utf8"),
) as Record<"clean" | "unstable" | "notAllowed" | "noProtection", string>;

/** Friday 28 March 2025, 11:00 in Berlin; the pull request opened two hours earlier. */
const NOW = new Date("2025-03-28T10:00:00Z");

/** No windows, no caps: GitHub's auto-merge may do the waiting. */
const NATIVE = `
rules:
  - name: add-one-node
    match: { kind: nodes, direction: up, maxStep: 1 }
    action: merge
    requiredChecks: [${GUARD}]
`;

function input(
  policy: AutomergePolicy,
  overrides: Partial<MergeWhenReadyInput> = {},
): MergeWhenReadyInput {
  return {
    octokit: testOctokit(),
    owner: OWNER,
    repo: REPO,
    pullNumber: PR,
    botSha: HEAD,
    branchPolicy: { branch: "main", policy },
    subject: nodes("up", 1),
    recentlyClosed: [],
    botLogin: BOT,
    now: NOW,
    ...overrides,
  };
}

function setup() {
  const github = mockGitHub();
  return { github, steps: mergeSteps(github), graphql: mockGraphql() };
}

const READS = [
  `GET /pulls/${PR}`,
  "GET /branches/main",
  "GET /rules/branches/main",
  `GET /commits/${HEAD}/status`,
  `GET /commits/${HEAD}/check-runs`,
];

describe("mergeWhenReady with GitHub's auto-merge", () => {
  it("merges directly when GitHub answers that the pull request is in clean status", async () => {
    const { github, steps, graphql } = setup();
    steps.pull();
    steps.protection([GUARD]);
    steps.rulesets([]);
    steps.statuses([{ context: GUARD, state: "success" }]);
    steps.checkRuns([{ name: "terraform-plan", status: "completed", conclusion: "success" }]);
    graphql.expect("enablePullRequestAutoMerge", [MESSAGES.clean]);
    steps.merge();

    const outcome = await mergeWhenReady(input(await policyOf(NATIVE)));

    expect(outcome).toMatchObject({
      action: "merged",
      mergeSha: sha("merged"),
      disabledAutoMerge: false,
    });
    expect(outcome.verdict).toMatchObject({ ready: true, rule: { name: "add-one-node" } });
    expect(github.calls()).toEqual([...READS, `PUT /pulls/${PR}/merge`]);
    expect(github.bodyAt(5)).toEqual({ sha: HEAD, merge_method: "squash" });
    expect(graphql.calls).toEqual([
      {
        mutation: "enablePullRequestAutoMerge",
        variables: { pullRequestId: NODE_ID, mergeMethod: "SQUASH", expectedHeadOid: HEAD },
      },
    ]);
  });

  it("leaves the waiting to GitHub when only checks GitHub enforces are still running", async () => {
    const { github, steps, graphql } = setup();
    steps.pull();
    steps.protection(403);
    steps.rulesets([GUARD]);
    steps.statuses([{ context: GUARD, state: "pending" }]);
    steps.checkRuns([]);
    graphql.expect("enablePullRequestAutoMerge");

    const outcome = await mergeWhenReady(input(await policyOf(NATIVE)));

    expect(outcome).toMatchObject({ action: "auto-merge-enabled" });
    expect(outcome.verdict?.blockedBy.map((b) => b.message)).toEqual([`running: ${GUARD}`]);
    expect(github.calls()).toEqual(READS);
  });

  it("keeps GitHub's auto-merge that is already on, without asking again", async () => {
    const { github, steps } = setup();
    steps.pull({ autoMerge: { by: BOT, method: "squash" } });
    steps.protection([GUARD]);
    steps.rulesets([]);
    steps.checks({ [GUARD]: "pending" });
    mockGraphql();

    const outcome = await mergeWhenReady(input(await policyOf(NATIVE)));
    expect(outcome.action).toBe("auto-merge-on");
    expect(github.calls()).toEqual(READS);
  });

  it("waits, and does not merge, when GitHub refuses auto-merge while checks are running", async () => {
    const { github, steps, graphql } = setup();
    steps.pull();
    steps.protection([GUARD]);
    steps.rulesets([]);
    steps.checks({ [GUARD]: "pending" });
    graphql.expect("enablePullRequestAutoMerge", [MESSAGES.notAllowed]);

    const outcome = await mergeWhenReady(input(await policyOf(NATIVE)));
    expect(outcome).toMatchObject({ action: "waiting", note: "waiting for required checks" });
    expect(github.calls()).toEqual(READS);
  });

  it("merges directly when auto-merge is refused but every check passed", async () => {
    for (const refusal of [MESSAGES.notAllowed, MESSAGES.noProtection, MESSAGES.unstable]) {
      const { github, steps, graphql } = setup();
      steps.pull();
      steps.protection([]);
      steps.rulesets([]);
      steps.checks({ [GUARD]: "success" });
      graphql.expect("enablePullRequestAutoMerge", [refusal]);
      steps.merge();
      const outcome = await mergeWhenReady(input(await policyOf(NATIVE)));
      expect(outcome.action).toBe("merged");
      expect(github.calls().at(-1)).toBe(`PUT /pulls/${PR}/merge`);
    }
  });

  it("does not ask for auto-merge where the repository does not allow it", async () => {
    const { github, steps } = setup();
    steps.pull({ allowAutoMerge: false });
    steps.protection([GUARD]);
    steps.rulesets([]);
    steps.checks({ [GUARD]: "success" });
    steps.merge();
    mockGraphql();

    expect((await mergeWhenReady(input(await policyOf(NATIVE)))).action).toBe("merged");
    expect(github.calls()).toEqual([...READS, `PUT /pulls/${PR}/merge`]);
  });

  it("does not leave to GitHub a check that only the policy requires", async () => {
    const { github, steps } = setup();
    steps.pull();
    steps.protection(404);
    steps.rulesets(403);
    steps.checks({ [GUARD]: "pending" });
    mockGraphql();

    const outcome = await mergeWhenReady(input(await policyOf(NATIVE)));
    expect(outcome).toMatchObject({ action: "waiting", note: `Checks: running: ${GUARD}` });
    expect(github.calls()).toEqual(READS);
  });
});

describe("mergeWhenReady on a pull request whose values changed", () => {
  /** Removing one node: no windows, no caps, so GitHub's auto-merge may do the waiting. */
  const REMOVE = `
rules:
  - name: remove-one-node
    match: { kind: nodes, direction: down, maxStep: 1 }
    action: merge
    minAge: 1h
    requiredChecks: [${GUARD}]
`;
  // Opened at 08:00 as 3 → 4 (two hours before NOW); a minute before NOW it became 3 → 2.
  const CHANGED_AT = "2025-03-28T09:59:00Z";
  const flipped = { ...nodes("down", 1), from: 3, to: 2 };

  it("waits out the grace period from the change and turns its own auto-merge off", async () => {
    const { github, steps, graphql } = setup();
    steps.pull({
      changedAt: CHANGED_AT,
      labels: ["autoscaling", "scale-down"],
      autoMerge: { by: BOT, method: "squash" },
    });
    steps.protection([GUARD]);
    steps.rulesets([]);
    steps.checks({ [GUARD]: "success" });
    graphql.expect("disablePullRequestAutoMerge");

    const outcome = await mergeWhenReady(input(await policyOf(REMOVE), { subject: flipped }));

    expect(outcome).toMatchObject({
      action: "waiting",
      note: "Grace period: not before Fri 2025-03-28 10:59 UTC (1h after it changed to 3 → 2); GitHub's auto-merge turned off",
      disabledAutoMerge: true,
    });
    expect(outcome.verdict?.mergeableAt).toBe("2025-03-28T10:59:00.000Z");
    expect(graphql.calls.map((call) => call.mutation)).toEqual(["disablePullRequestAutoMerge"]);
    expect(github.calls()).toEqual(READS);
  });

  it("does not turn auto-merge on, nor merge, before the grace period after the change ends", async () => {
    const { github, steps } = setup();
    steps.pull({ changedAt: CHANGED_AT, labels: ["autoscaling", "scale-down"] });
    steps.protection([GUARD]);
    steps.rulesets([]);
    steps.checks({ [GUARD]: "success" });
    // No GraphQL request is expected: enabling auto-merge would fail the test.
    mockGraphql();

    const outcome = await mergeWhenReady(input(await policyOf(REMOVE), { subject: flipped }));

    expect(outcome).toMatchObject({ action: "waiting", disabledAutoMerge: false });
    expect(outcome.verdict?.blockedBy.map((blocker) => blocker.kind)).toEqual(["age"]);
    expect(github.calls()).toEqual(READS);
  });

  it("turns auto-merge on again once the grace period after the change has passed", async () => {
    const { github, steps, graphql } = setup();
    steps.pull({ changedAt: CHANGED_AT, labels: ["autoscaling", "scale-down"] });
    steps.protection([GUARD]);
    steps.rulesets([]);
    steps.checks({ [GUARD]: "pending" });
    graphql.expect("enablePullRequestAutoMerge");

    const outcome = await mergeWhenReady(
      input(await policyOf(REMOVE), { subject: flipped, now: new Date("2025-03-28T10:59:00Z") }),
    );

    expect(outcome.action).toBe("auto-merge-enabled");
    expect(graphql.calls).toEqual([
      {
        mutation: "enablePullRequestAutoMerge",
        variables: { pullRequestId: NODE_ID, mergeMethod: "SQUASH", expectedHeadOid: HEAD },
      },
    ]);
    expect(github.calls()).toEqual(READS);
  });

  it("counts from the opening for a marker that records no change (written before it did)", async () => {
    const { steps, graphql } = setup();
    steps.pull({ labels: ["autoscaling", "scale-down"] });
    steps.protection([GUARD]);
    steps.rulesets([]);
    steps.checks({ [GUARD]: "pending" });
    graphql.expect("enablePullRequestAutoMerge");

    const outcome = await mergeWhenReady(input(await policyOf(REMOVE), { subject: flipped }));

    expect(outcome.action).toBe("auto-merge-enabled");
  });
});

describe("mergeWhenReady never merges", () => {
  it("with a failing required check, and turns its own auto-merge off", async () => {
    const { github, steps, graphql } = setup();
    steps.pull({ autoMerge: { by: BOT, method: "squash" } });
    steps.protection([GUARD]);
    steps.rulesets([]);
    steps.statuses([{ context: GUARD, state: "success" }]);
    steps.checkRuns([{ name: "terraform-plan", status: "completed", conclusion: "failure" }]);
    graphql.expect("disablePullRequestAutoMerge");

    const policy = await policyOf(NATIVE.replace(`[${GUARD}]`, `[${GUARD}, terraform-plan]`));
    const outcome = await mergeWhenReady(input(policy));
    expect(outcome).toMatchObject({
      action: "waiting",
      note: "Checks: failing: terraform-plan; GitHub's auto-merge turned off",
      disabledAutoMerge: true,
    });
    expect(graphql.calls).toEqual([
      { mutation: "disablePullRequestAutoMerge", variables: { pullRequestId: NODE_ID } },
    ]);
    expect(github.calls()).toEqual(READS);
  });

  it("with a pending or missing required check when the bot merges itself", async () => {
    const cases: Record<string, string>[] = [{ [GUARD]: "pending" }, {}, { [GUARD]: "error" }];
    for (const states of cases) {
      const { github, steps } = setup();
      steps.pull();
      steps.protection([GUARD]);
      steps.rulesets([]);
      steps.checks(states);
      mockGraphql();
      const outcome = await mergeWhenReady(input(await policyOf(WINDOWED)));
      expect(outcome.action).toBe("waiting");
      expect(outcome.verdict?.blockedBy.map((b) => b.kind)).toEqual(["checks"]);
      expect(github.calls()).toEqual(READS);
    }
  });

  it("when the head is not the bot's commit, without reading further", async () => {
    for (const fields of [
      { headSha: sha("someone-else"), markerSha: HEAD },
      { markerSha: undefined },
      // The marker edited to name a person's commit: the caller's check of the head decides.
      { headSha: sha("someone-else"), markerSha: sha("someone-else") },
    ]) {
      const { github, steps, graphql } = setup();
      steps.pull({ ...fields, autoMerge: { by: BOT, method: "squash" } });
      graphql.expect("disablePullRequestAutoMerge");
      const outcome = await mergeWhenReady(input(await policyOf(NATIVE)));
      expect(outcome).toMatchObject({
        action: "refused",
        disabledAutoMerge: true,
        verdict: undefined,
      });
      expect(github.calls()).toEqual([`GET /pulls/${PR}`]);
    }
    const { steps } = setup();
    steps.pull();
    mockGraphql();
    const other = await mergeWhenReady(
      input(await policyOf(NATIVE), { botSha: sha("newer-bot-commit") }),
    );
    expect(other.note).toBe(`its head ${HEAD.slice(0, 7)} is not the commit pr-autoscaler made`);
  });

  it("a pull request someone else opened, its marker copied, without reading further", async () => {
    const { github, steps } = setup();
    steps.pull({ author: "mallory" });
    mockGraphql();
    const outcome = await mergeWhenReady(input(await policyOf(NATIVE)));
    expect(outcome).toMatchObject({
      action: "refused",
      note: "it was opened by mallory, not by pr-autoscaler",
    });
    expect(github.calls()).toEqual([`GET /pulls/${PR}`]);
  });

  it("a pull request people took over, even on the bot's commit", async () => {
    const { github, steps } = setup();
    steps.pull({ handsOff: HEAD });
    mockGraphql();
    const outcome = await mergeWhenReady(input(await policyOf(NATIVE)));
    expect(outcome).toMatchObject({ action: "refused", note: "people took the pull request over" });
    expect(github.calls()).toEqual([`GET /pulls/${PR}`]);
  });

  it("when the head moves between reading and merging (GitHub answers 409)", async () => {
    const { steps } = setup();
    steps.pull();
    steps.protection([GUARD]);
    steps.rulesets([]);
    steps.checks({ [GUARD]: "success" });
    steps.mergeFails(409, "Head branch was modified. Review and try the merge again.");
    mockGraphql();
    const outcome = await mergeWhenReady(input(await policyOf(WINDOWED)));
    expect(outcome.action).toBe("refused");
    expect(outcome.note).toContain("Head branch was modified");
  });

  it("outside its window, nor over the daily cap, and merges inside", async () => {
    const policy = await policyOf(
      WINDOWED.replace("action: merge", "action: merge\n    maxPerDay: 1"),
    );
    const run = async (now: string, recentlyClosed: ClosedBotPullRequest[] = []) => {
      const { github, steps } = setup();
      steps.pull();
      steps.protection([GUARD]);
      steps.rulesets([]);
      steps.checks({ [GUARD]: "success" });
      mockGraphql();
      return {
        github,
        steps,
        outcome: () => mergeWhenReady(input(policy, { now: new Date(now), recentlyClosed })),
      };
    };
    // Friday 19:30 in Berlin.
    const evening = await run("2025-03-28T18:30:00Z");
    const late = await evening.outcome();
    expect(late.action).toBe("waiting");
    expect(late.verdict?.blockedBy.map((b) => b.kind)).toEqual(["window"]);
    expect(late.verdict?.mergeableAt).toBe("2025-03-31T06:00:00.000Z");

    const merged: ClosedBotPullRequest = {
      number: 5,
      key: "nodes-workers",
      title: "Scale worker nodes to 3",
      labels: ["autoscaling", "scale-up"],
      createdAt: "2025-03-28T06:00:00Z",
      closedAt: "2025-03-28T07:00:00Z",
      mergedAt: "2025-03-28T07:00:00Z",
    };
    const capped = await (await run("2025-03-28T10:00:00Z", [merged])).outcome();
    expect(capped.verdict?.blockedBy.map((b) => b.kind)).toEqual(["cap"]);
    expect(capped.action).toBe("waiting");

    const inside = await run("2025-03-28T10:00:00Z", [{ ...merged, mergedAt: undefined }]);
    inside.steps.merge();
    expect((await inside.outcome()).action).toBe("merged");
  });

  it("while held, turning off anyone's auto-merge", async () => {
    const { github, steps, graphql } = setup();
    steps.pull({
      labels: ["autoscaling", "scale-up", HOLD_LABEL],
      autoMerge: { by: "octocat", method: "merge" },
    });
    steps.protection([GUARD]);
    steps.rulesets([]);
    steps.checks({ [GUARD]: "success" });
    graphql.expect("disablePullRequestAutoMerge");
    const outcome = await mergeWhenReady(input(await policyOf(NATIVE)));
    expect(outcome).toMatchObject({ action: "held", disabledAutoMerge: true });
    expect(outcome.verdict?.blockedBy.map((b) => b.kind)).toEqual(["hold"]);
    expect(github.calls()).toEqual(READS);

    const again = setup();
    again.steps.pull();
    again.steps.protection([GUARD]);
    again.steps.rulesets([]);
    again.steps.checks({ [GUARD]: "success" });
    expect((await mergeWhenReady(input(await policyOf(NATIVE), { held: true }))).action).toBe(
      "held",
    );

    // A hold stops a person's auto-merge even where the policy leaves the decision to people.
    const review = setup();
    review.steps.pull({ labels: [HOLD_LABEL], autoMerge: { by: "octocat", method: "squash" } });
    review.graphql.expect("disablePullRequestAutoMerge");
    const policy = await policyOf("rules: [{ name: people, action: review }]\n");
    expect(await mergeWhenReady(input(policy))).toMatchObject({
      action: "held",
      disabledAutoMerge: true,
    });
    // A person decides whatever the checks say, so they are not read.
    expect(review.github.calls()).toEqual([`GET /pulls/${PR}`]);
  });

  it("when the policy says review; a person's auto-merge stays, the bot's goes", async () => {
    const review = await policyOf("rules: [{ name: people, action: review }]\n");
    for (const [by, disabled] of [
      ["octocat", false],
      [BOT, true],
    ] as const) {
      const { steps, graphql } = setup();
      steps.pull({ autoMerge: { by, method: "squash" } });
      if (disabled) graphql.expect("disablePullRequestAutoMerge");
      const outcome = await mergeWhenReady(input(review));
      expect(outcome).toMatchObject({ action: "review", disabledAutoMerge: disabled });
    }
  });

  it("a closed pull request", async () => {
    const { github, steps } = setup();
    steps.pull({ state: "closed", merged: true });
    mockGraphql();
    expect((await mergeWhenReady(input(await policyOf(NATIVE)))).action).toBe("closed");
    expect(github.calls()).toEqual([`GET /pulls/${PR}`]);
  });
});

describe("the policy comes from the default branch only", () => {
  const HANDS_OFF = "automerge:\n  extends: preset:hands-off\n";
  const CAUTIOUS = "automerge:\n  extends: preset:cautious\n";

  it("evaluates a pull request that edits .github/pr-autoscaler.yml under the default branch's policy", async () => {
    const { github, steps } = setup();
    // The default branch says cautious; the pull request's own version says hands-off. Only the
    // default branch's may be read: the other answer is there to catch a read, optionally.
    steps.contents(".github/pr-autoscaler.yml", "main", CAUTIOUS);
    github.scope
      .get("/repos/octocat/Hello-World/contents/.github%2Fpr-autoscaler.yml")
      .query({ ref: "pr-autoscaler/nodes-workers" })
      .optionally()
      .reply(200, fileContent(".github/pr-autoscaler.yml", HANDS_OFF));
    const branchPolicy = await loadBranchPolicy({
      octokit: testOctokit(),
      owner: OWNER,
      repo: REPO,
      defaultBranch: "main",
    });
    expect(branchPolicy.configuration.ok).toBe(true);
    expect(branchPolicy.policy.sources).toEqual([".github/pr-autoscaler.yml", "preset:cautious"]);

    steps.pull();
    mockGraphql();
    const outcome = await mergeWhenReady({ ...input(branchPolicy.policy), branchPolicy });
    expect(outcome).toMatchObject({
      action: "review",
      verdict: { rule: { name: "review-everything" } },
    });
    expect(
      github.requests.filter((r) => r.path.startsWith("/contents/")).map((r) => r.query),
    ).toEqual([{ ref: "main" }]);
    // Under the pull request's own policy the same pull request would have merged.
    const own = await policyOf(HANDS_OFF.replace("automerge:\n  ", ""));
    const verdict = evaluatePolicy(own, nodes("up", 1), {
      now: NOW,
      openedAt: "2025-03-28T08:00:00Z",
      merges: [],
      checks: { required: [GUARD], states: { [GUARD]: "success" } },
    });
    expect(verdict).toMatchObject({ action: "merge", ready: true });
  });

  it("refuses a policy read from a branch other than the one the pull request merges into", async () => {
    const { github, steps } = setup();
    steps.pull();
    mockGraphql();
    const outcome = await mergeWhenReady({
      ...input(await policyOf(NATIVE)),
      branchPolicy: { branch: `pr-autoscaler/nodes-workers`, policy: await policyOf(NATIVE) },
    });
    expect(outcome).toMatchObject({
      action: "refused",
      note: "the policy was read from pr-autoscaler/nodes-workers, but the pull request merges into main",
    });
    expect(github.calls()).toEqual([`GET /pulls/${PR}`]);
  });

  it("reads what the policy extends: this repository at the default branch, others at theirs", async () => {
    const { github, steps } = setup();
    steps.contents(
      ".github/pr-autoscaler.yml",
      "main",
      "automerge:\n  extends: .github/autoscaler.yml\n",
    );
    steps.contents(".github/autoscaler.yml", "main", "extends: .github\nrules: []\n");
    steps.contents(
      ".github/pr-autoscaler.yml",
      undefined,
      "automerge:\n  extends: preset:homelab\n",
      `/repos/${OWNER}/.github`,
    );
    const loaded = await loadBranchPolicy({
      octokit: testOctokit(),
      owner: OWNER,
      repo: REPO,
      defaultBranch: "main",
    });
    expect(loaded.configuration.issues).toEqual([]);
    expect(loaded.policy.sources).toEqual([
      ".github/pr-autoscaler.yml",
      ".github/autoscaler.yml",
      ".github",
      "preset:homelab",
    ]);
    expect(github.requests.map((r) => [r.operationId, r.query])).toEqual([
      ["repos/get-content", { ref: "main" }],
      ["repos/get-content", { ref: "main" }],
      ["repos/get-content", {}],
    ]);
  });

  it("merges nothing when the default branch's policy is broken, and says where", async () => {
    const { steps } = setup();
    steps.contents(
      ".github/pr-autoscaler.yml",
      "main",
      "automerge:\n  rules:\n    - action: mrege\n",
    );
    const loaded = await loadBranchPolicy({
      octokit: testOctokit(),
      owner: OWNER,
      repo: REPO,
      defaultBranch: "main",
    });
    expect(loaded.configuration.ok).toBe(false);
    expect(loaded.policy.problems).toEqual([
      '.github/pr-autoscaler.yml:3:15: automerge.rules[0].action: the string "mrege" is not allowed: use one of "merge", "review"; did you mean "merge"?',
    ]);
    steps.pull();
    mockGraphql();
    const outcome = await mergeWhenReady({ ...input(loaded.policy), branchPolicy: loaded });
    expect(outcome.action).toBe("review");
  });
});
