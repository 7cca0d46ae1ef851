/**
 * An update of the bot's pull request that changes the values it writes, while GitHub's
 * auto-merge is on: GitHub keeps auto-merge on when someone with write access pushes, so the
 * forge turns it off before it writes anything, and records when the values changed.
 */
import { describe, expect, it } from "@jest/globals";
import nock from "nock";
import { createGitHubForge } from "../../../src/forge/github/github-forge.ts";
import { readPullRequestMarker } from "../../../src/forge/marker.ts";
import { checkGraphqlRequest } from "../../merge/graphql-check.ts";
import { API, type GitHubMock, mockGitHub, testOctokit } from "../../support/github.ts";
import { OWNER, REPO } from "../../support/github-responses.ts";
import {
  BRANCH,
  botPull,
  buildsCommit,
  C1,
  C2,
  checksHead,
  type ForgeStateOptions,
  forgeWithState,
  type GitHubSteps,
  HEAD1,
  HEAD2,
  LABELS,
  scaleWorkers,
  TFVARS,
  TREE2,
  updatesPull,
  writesCommit,
} from "../../support/github-scenario.ts";

/** GitHub's example's GraphQL id of the pull request (every listed pull request has it). */
const NODE_ID = "MDExOlB1bGxSZXF1ZXN0MQ==";
const OPENED_AT = "2025-03-01T10:00:00.000Z";
const CHANGED_AT = "2025-03-01T12:00:00.000Z";

/** Pull request #7 at C1, 3 → 4, opened with values `up4`; GitHub's auto-merge on or off. */
function openPull(autoMerge: boolean, marker: Record<string, unknown> = {}): object {
  const pull = botPull({
    number: 7,
    headSha: C1,
    createdAt: OPENED_AT,
    marker: {
      sha: C1,
      fingerprint: "workers-4",
      base: HEAD1,
      labels: LABELS,
      from: 3,
      to: 4,
      valuesFingerprint: "up4",
      ...marker,
    },
  });
  if (!autoMerge) return pull;
  return {
    ...pull,
    auto_merge: {
      enabled_by: { login: "pr-autoscaler[bot]", id: 1, type: "Bot" },
      merge_method: "squash",
      commit_title: "Scale worker nodes to 4 (#7)",
      commit_message: "",
    },
  };
}

/** A forge that has read these open pull requests, the bot's branch at C1. */
function readPulls(github: GitHubMock, pulls: object[], options: ForgeStateOptions = {}) {
  return forgeWithState(github, { pulls, branches: [{ name: BRANCH, sha: C1 }], ...options });
}

/**
 * The requests that check the head C1 (3 → 4: its file is read too when the plan writes another
 * count, `to`), build the new commit on `head` and update pull request #7 to it.
 */
function updates(steps: GitHubSteps, head = HEAD1, to = 4): void {
  builds(steps, head, to);
  updatesPull(steps, C2);
}

/** The requests that check the head C1 and build the new commit on `head`, for `to` workers. */
function builds(steps: GitHubSteps, head = HEAD1, to = 4): void {
  checksHead(steps, { base: head, readsHead: to !== 4 });
  if (head === HEAD1) writesCommit(steps, C2);
  else buildsCommit(steps, C2, head);
}

/** The marker the update of pull request #7 wrote. */
function updatedMarker(github: GitHubMock) {
  return readPullRequestMarker(
    String(github.bodyAt(github.calls().indexOf("PATCH /pulls/7")).body),
  );
}

interface GraphqlSeen {
  mutation: string;
  variables: Record<string, unknown>;
  /** The REST requests made before it. */
  after: string[];
}

/**
 * GitHub's GraphQL endpoint for one request, checked against the schema excerpt; it answers with
 * `errors` when given. Records what came before it among the REST requests.
 */
function graphqlEndpoint(github: GitHubMock, errors?: string[]): GraphqlSeen[] {
  const seen: GraphqlSeen[] = [];
  nock(API)
    .post("/graphql")
    .reply(200, async (request: Request) => {
      const { query, variables = {} } = (await request.json()) as {
        query: string;
        variables?: Record<string, unknown>;
      };
      const check = checkGraphqlRequest(query, variables);
      const mutation = check.problems.length > 0 ? check.problems.join("; ") : check.rootFields[0];
      seen.push({ mutation: mutation ?? "", variables, after: github.calls() });
      if (errors)
        return {
          data: { disablePullRequestAutoMerge: null },
          errors: errors.map((message) => ({ type: "UNPROCESSABLE", message })),
        };
      return { data: { disablePullRequestAutoMerge: { pullRequest: { number: 7 } } } };
    });
  return seen;
}

describe("an update that changes the values of a pull request with GitHub's auto-merge on", () => {
  it("turns auto-merge off before it writes anything, and records when the values changed", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await readPulls(github, [openPull(true)]);
    expect(state.pullRequests[0]).toMatchObject({ autoMerge: true, nodeId: NODE_ID });
    updates(steps, HEAD1, 2);
    steps.setLabels(7, ["autoscaling", "scale-down"]);
    const graphql = graphqlEndpoint(github);

    const result = await forge.ensurePullRequest(
      scaleWorkers(2, {
        labels: ["autoscaling", "scale-down"],
        change: { from: 3, to: 2 },
        valuesFingerprint: "down2",
        changedAt: CHANGED_AT,
      }),
      state,
    );

    expect(result).toMatchObject({
      action: "updated",
      number: 7,
      note: "GitHub's auto-merge turned off: the values changed, and they merge only when the policy allows again",
    });
    expect(graphql).toEqual([
      {
        mutation: "disablePullRequestAutoMerge",
        variables: { pullRequestId: NODE_ID },
        after: [
          `GET /compare/${HEAD1}...${C1}`,
          `GET /contents/${TFVARS}`,
          `GET /contents/${TFVARS}`,
          "POST /git/trees",
          "POST /git/commits",
          `GET /git/ref/heads/${BRANCH}`,
        ],
      },
    ]);
    expect(updatedMarker(github)).toMatchObject({
      from: 3,
      to: 2,
      valuesFingerprint: "down2",
      changedAt: CHANGED_AT,
    });
    expect(github.scope.isDone()).toBe(true);
  });

  it("writes nothing when GitHub refuses to turn auto-merge off", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await readPulls(github, [openPull(true)]);
    builds(steps, HEAD1, 2);
    steps.readRef(BRANCH, C1);
    graphqlEndpoint(github, ["Resource not accessible by integration"]);

    await expect(
      forge.ensurePullRequest(scaleWorkers(2, { valuesFingerprint: "down2" }), state),
    ).rejects.toThrow("turn GitHub's auto-merge off: Resource not accessible by integration");

    // The commit exists, unreferenced; the pull request and its branch are as they were.
    expect(github.calls()).not.toContain("PATCH /pulls/7");
    expect(github.calls()).not.toContain(`PATCH /git/refs/heads/${BRANCH}`);
    expect(github.scope.isDone()).toBe(true);
  });

  it("refuses the update with an Octokit that cannot speak GraphQL", async () => {
    const github = mockGitHub();
    const rest = testOctokit();
    const restOnly = createGitHubForge({
      octokit: { request: rest.request.bind(rest) },
      owner: OWNER,
      repo: REPO,
      defaultBranch: "main",
    });
    const { forge, state, steps } = await readPulls(github, [openPull(true)], {
      forge: restOnly,
    });
    builds(steps, HEAD1, 2);
    steps.readRef(BRANCH, C1);

    await expect(
      forge.ensurePullRequest(scaleWorkers(2, { valuesFingerprint: "down2" }), state),
    ).rejects.toThrow(
      "turn GitHub's auto-merge off before updating pull request #7: no GraphQL API to do it with; the new values are not written",
    );
    expect(github.calls()).not.toContain("PATCH /pulls/7");
    expect(github.scope.isDone()).toBe(true);
  });
});

describe("an update that keeps the values", () => {
  it("leaves GitHub's auto-merge on, and the time of the last change, when only the verdict changed", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await readPulls(github, [
      openPull(true, { changedAt: CHANGED_AT }),
    ]);
    // No GraphQL endpoint: a request to turn auto-merge off would fail the update.
    updates(steps);

    // The same values under another rule: a new fingerprint, the same values' fingerprint.
    const result = await forge.ensurePullRequest(
      scaleWorkers(4, {
        fingerprint: "workers-4-review",
        change: { from: 3, to: 4 },
        valuesFingerprint: "up4",
        changedAt: CHANGED_AT,
      }),
      state,
    );

    expect(result.action).toBe("updated");
    expect(result.note).toBeUndefined();
    expect(updatedMarker(github)).toMatchObject({
      valuesFingerprint: "up4",
      changedAt: CHANGED_AT,
    });
    expect(github.scope.isDone()).toBe(true);
  });

  it("leaves GitHub's auto-merge on when it rebuilds the same values on a moved default branch", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await readPulls(github, [openPull(true)], {
      head: [HEAD2, TREE2],
    });
    expect(state.pullRequests[0]?.upToDate).toBe(false);
    // No GraphQL endpoint: a request to turn auto-merge off would fail the rebuild.
    updates(steps, HEAD2);

    const result = await forge.ensurePullRequest(
      scaleWorkers(4, { change: { from: 3, to: 4 }, valuesFingerprint: "up4" }),
      state,
    );

    expect(result).toMatchObject({ action: "rebuilt" });
    expect(result.note).toBeUndefined();
    const marker = updatedMarker(github);
    expect(marker?.base).toBe(HEAD2);
    expect(marker?.changedAt).toBeUndefined();
    expect(github.scope.isDone()).toBe(true);
  });

  it("takes a new plan of a pull request whose marker has no values' fingerprint as new values", async () => {
    const github = mockGitHub();
    const older = openPull(true, { valuesFingerprint: undefined });
    const { forge, state, steps } = await readPulls(github, [older]);
    expect(state.pullRequests[0]?.valuesFingerprint).toBeUndefined();
    updates(steps);
    const graphql = graphqlEndpoint(github);

    const result = await forge.ensurePullRequest(
      scaleWorkers(4, { fingerprint: "workers-4-review", valuesFingerprint: "up4" }),
      state,
    );

    expect(result.action).toBe("updated");
    expect(graphql.map((call) => call.mutation)).toEqual(["disablePullRequestAutoMerge"]);
    expect(github.scope.isDone()).toBe(true);
  });
});
