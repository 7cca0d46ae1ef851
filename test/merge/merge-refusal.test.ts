import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import { commentTag } from "../../src/forge/marker.ts";
import { classifyMergeRefusal } from "../../src/merge/merge-refusal.ts";
import { type MergeWhenReadyInput, mergeWhenReady } from "../../src/merge/merge-when-ready.ts";
import { mockGitHub, testOctokit } from "../support/github.ts";
import { OWNER, REPO } from "../support/github-responses.ts";
import {
  BOT,
  GUARD,
  HEAD,
  mergeSteps,
  mockGraphql,
  PR,
  type PullFields,
  WINDOWED,
} from "./github-merge-mock.ts";
import { nodes, policyOf } from "./policy-support.ts";

const REFUSALS = JSON.parse(
  readFileSync(new URL("./fixtures/github-refusals.json", import.meta.url), "utf8"),
) as Record<
  | "reviewRequired"
  | "squashNotAllowed"
  | "mergeCommitsNotAllowed"
  | "baseModified"
  | "checkExpected",
  string
>;

/** Friday 28 March 2025, 11:00 in Berlin: inside the rule's window. */
const NOW = new Date("2025-03-28T10:00:00Z");

async function input(): Promise<MergeWhenReadyInput> {
  return {
    octokit: testOctokit(),
    owner: OWNER,
    repo: REPO,
    pullNumber: PR,
    botSha: HEAD,
    branchPolicy: { branch: "main", policy: await policyOf(WINDOWED) },
    subject: nodes("up", 1),
    recentlyClosed: [],
    botLogin: BOT,
    now: NOW,
  };
}

/** Everything holds; GitHub answers the merge with `status` and `message`. */
function refusing(status: number, message: string, pull: PullFields = {}) {
  const github = mockGitHub();
  const steps = mergeSteps(github);
  mockGraphql();
  steps.pull(pull);
  steps.protection([GUARD]);
  steps.rulesets([]);
  steps.checks({ [GUARD]: "success" });
  steps.mergeFails(status, message);
  return { github, steps };
}

describe("classifyMergeRefusal", () => {
  it("lets refusals that clear by themselves be tried again soon", () => {
    for (const message of [REFUSALS.baseModified, REFUSALS.checkExpected])
      expect(classifyMergeRefusal(message, "squash", {})).toBeUndefined();
  });

  it("tells a required review and a merge method the repository does not allow", () => {
    expect(classifyMergeRefusal(REFUSALS.reviewRequired, "squash", {})).toMatchObject({
      kind: "review",
      advice: expect.stringContaining("Approve the pull request"),
    });
    const squash = classifyMergeRefusal(REFUSALS.squashNotAllowed, "squash", {
      merge: true,
      squash: false,
      rebase: true,
    });
    expect(squash).toEqual({
      kind: "method",
      message: REFUSALS.squashNotAllowed,
      advice:
        "Set `method: merge` or `method: rebase` on the rule (or the policy): the repository allows merge commits and rebase merges; or allow squash merges in the repository's settings.",
    });
    // What the repository allows is not always reported: the advice then names none.
    expect(classifyMergeRefusal(REFUSALS.mergeCommitsNotAllowed, "merge", {})?.advice).toBe(
      "Set `method:` on the rule (or the policy) to a method the repository allows, or allow merge commits in the repository's settings.",
    );
  });

  it("takes any other refusal as one that waits for a change", () => {
    expect(classifyMergeRefusal("Repository rule violations found", "squash", {})?.kind).toBe(
      "other",
    );
  });
});

describe("mergeWhenReady when GitHub refuses the merge", () => {
  it("is blocked by a required review, and says so once on the pull request", async () => {
    const { github, steps } = refusing(405, REFUSALS.reviewRequired);
    steps.comments(["Looks fine to me."]);
    steps.postComment();
    const outcome = await mergeWhenReady(await input());
    expect(outcome).toMatchObject({
      action: "blocked",
      note: `GitHub refused the merge: ${REFUSALS.reviewRequired}`,
      refusal: { kind: "review", message: REFUSALS.reviewRequired },
    });
    expect(github.calls().slice(-3)).toEqual([
      `PUT /pulls/${PR}/merge`,
      `GET /issues/${PR}/comments`,
      `POST /issues/${PR}/comments`,
    ]);
    const comment = String(github.bodyAt(github.requests.length - 1).body);
    expect(comment).toContain(`> ${REFUSALS.reviewRequired}`);
    expect(comment).toContain("Approve the pull request");
    expect(comment).toContain(commentTag("merge-refused", { head: HEAD, kind: "review" }));

    // The same head and reason again: read, not said twice.
    const again = refusing(405, REFUSALS.reviewRequired);
    again.steps.comments([comment]);
    expect((await mergeWhenReady(await input())).action).toBe("blocked");
    expect(again.github.calls().at(-1)).toBe(`GET /issues/${PR}/comments`);
  });

  it("suggests a method the repository allows when it refuses the rule's", async () => {
    const { github, steps } = refusing(405, REFUSALS.squashNotAllowed, {
      allowedMethods: { merge: true, squash: false, rebase: false },
    });
    steps.comments([]);
    steps.postComment();
    const outcome = await mergeWhenReady(await input());
    expect(outcome.refusal).toMatchObject({ kind: "method" });
    expect(String(github.bodyAt(github.requests.length - 1).body)).toContain(
      "Set `method: merge` on the rule (or the policy)",
    );
  });

  it("waits, without a comment, when the base branch moved while merging", async () => {
    const { github } = refusing(405, REFUSALS.baseModified);
    const outcome = await mergeWhenReady(await input());
    expect(outcome).toMatchObject({
      action: "waiting",
      note: `GitHub did not merge yet: ${REFUSALS.baseModified}`,
    });
    expect(outcome.refusal).toBeUndefined();
    expect(github.calls().at(-1)).toBe(`PUT /pulls/${PR}/merge`);
  });
});
