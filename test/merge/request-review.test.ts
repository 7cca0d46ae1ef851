import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import { createGitHubClient } from "../../src/forge/github/github-client.ts";
import { withPullRequestMarker } from "../../src/forge/marker.ts";
import { evaluatePolicy } from "../../src/merge/evaluate-policy.ts";
import { requestReview } from "../../src/merge/request-review.ts";
import { readReviewRecord } from "../../src/merge/review-record.ts";
import { renderVerdictSection } from "../../src/merge/verdict-markdown.ts";
import { mockGitHub, REPO_PATH, testOctokit } from "../support/github.ts";
import { responseExample } from "../support/github-openapi.ts";
import { OWNER, REPO } from "../support/github-responses.ts";
import { KEY, PR } from "./github-merge-mock.ts";
import { nodes, openContext, policyOf } from "./policy-support.ts";

const REFUSALS = JSON.parse(
  readFileSync(new URL("./fixtures/github-refusals.json", import.meta.url), "utf8"),
) as Record<"notCollaborator", string>;

type Json = Record<string, unknown>;

async function reviewVerdict() {
  const policy = await policyOf(`
rules:
  - name: people
    action: review
    reviewers: [octocat, hubot]
    teamReviewers: [infra]
    assignees: [alice, bob]
`);
  return evaluatePolicy(policy, nodes("up"), openContext("2025-03-28T10:00:00Z"));
}

function client() {
  return createGitHubClient(testOctokit(), { owner: OWNER, repo: REPO });
}

/** GitHub's answer to adding assignees: the issue, with those it took. */
function assigned(logins: string[]): Json {
  const issue = responseExample(
    "POST",
    "/repos/{owner}/{repo}/issues/{issue_number}/assignees",
    201,
  ) as Json;
  const user = (issue.user ?? {}) as Json;
  return { ...issue, assignees: logins.map((login) => ({ ...user, login })) };
}

describe("requestReview", () => {
  it("asks each alone after a request GitHub refuses, and records who was refused", async () => {
    const github = mockGitHub();
    const path = (rest: string) => `${REPO_PATH}${rest}`;
    const verdict = await reviewVerdict();
    const pulled = responseExample(
      "POST",
      "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
      201,
    );
    const refuse = (message: string) => [422, { message }] as const;
    github.scope
      .post(path(`/pulls/${PR}/requested_reviewers`))
      .reply(...refuse(REFUSALS.notCollaborator));
    github.scope.post(path(`/pulls/${PR}/requested_reviewers`)).reply(201, pulled);
    github.scope
      .post(path(`/pulls/${PR}/requested_reviewers`))
      .reply(...refuse(REFUSALS.notCollaborator));
    github.scope.post(path(`/pulls/${PR}/requested_reviewers`)).reply(201, pulled);
    github.scope.post(path(`/issues/${PR}/assignees`)).reply(201, assigned(["alice"]));
    github.scope.patch(path(`/pulls/${PR}`)).reply(200, {});
    const body = withPullRequestMarker(`Text.\n\n${renderVerdictSection(verdict)}`, { key: KEY });

    const outcome = await requestReview(client(), { number: PR, body }, verdict);

    expect(github.requests.map((r) => r.body)).toEqual([
      { reviewers: ["octocat", "hubot"], team_reviewers: ["infra"] },
      { reviewers: ["octocat"] },
      { reviewers: ["hubot"] },
      { team_reviewers: ["infra"] },
      { assignees: ["alice", "bob"] },
      { body: expect.stringContaining("Review requested from @octocat, team `infra`.") },
    ]);
    expect(outcome.record?.refused).toEqual([
      { role: "reviewer", name: "hubot", reason: REFUSALS.notCollaborator },
      {
        role: "assignee",
        name: "bob",
        reason:
          "GitHub did not assign them: only people with access to the repository can be assigned",
      },
    ]);
    const written = String(github.bodyAt(5).body);
    expect(readReviewRecord(written)).toEqual(outcome.record);
    // The marker stays as it was.
    expect(written.endsWith(body.slice(body.indexOf("<!-- pr-autoscaler:pull-request")))).toBe(
      true,
    );

    // Asked again with that body: nothing to do.
    const again = await requestReview(client(), { number: PR, body: written }, verdict);
    expect(again).toMatchObject({ result: "recorded" });
    expect(github.requests).toHaveLength(6);
  });

  it("claims nothing in a body that lost its auto-merge section", async () => {
    const github = mockGitHub();
    const verdict = await reviewVerdict();
    github.scope
      .post(`${REPO_PATH}/pulls/${PR}/requested_reviewers`)
      .reply(
        201,
        responseExample(
          "POST",
          "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
          201,
        ),
      );
    github.scope.post(`${REPO_PATH}/issues/${PR}/assignees`).reply(201, assigned(["alice", "bob"]));
    const body = withPullRequestMarker("Shortened text", { key: KEY });
    const outcome = await requestReview(client(), { number: PR, body }, verdict);
    expect(outcome.note).toContain("not recorded: the body has no whole auto-merge section");
    expect(github.calls()).toEqual([
      `POST /pulls/${PR}/requested_reviewers`,
      `POST /issues/${PR}/assignees`,
    ]);
  });
});
