import { describe, expect, it } from "@jest/globals";
import { EmptyRepositoryError } from "../../../src/forge/forge-error.ts";
import { createGitHubForge } from "../../../src/forge/github/github-forge.ts";
import { withPullRequestMarker } from "../../../src/forge/marker.ts";
import { mockGitHub, REPO_PATH, testOctokit } from "../../support/github.ts";
import { responseExample } from "../../support/github-openapi.ts";
import {
  branch,
  commitSummary,
  pullRequest,
  repository,
  sha,
} from "../../support/github-responses.ts";
import {
  BRANCH,
  botPull,
  HEAD1,
  HEAD2,
  LABELS,
  newForge,
  TREE1,
  TREE2,
} from "../../support/github-scenario.ts";
import { githubSteps } from "../../support/github-steps.ts";

const C1 = sha("commit1");

function openPulls() {
  return [
    botPull({
      number: 12,
      headSha: C1,
      createdAt: "2025-03-01T11:00:00Z",
      marker: { sha: C1, fingerprint: "workers-4", base: HEAD1, labels: LABELS },
    }),
    pullRequest({ number: 11, branch: "renovate/helm-charts", headSha: sha("r"), body: "Update" }),
    pullRequest({
      number: 10,
      branch: "pr-autoscaler/resources-media-plex",
      headSha: sha("fork"),
      body: "From a fork",
      headRepo: "someone/Hello-World",
    }),
  ];
}

describe("reading the repository state", () => {
  it("reads the default branch, the bot's open and closed pull requests and its stray branches", async () => {
    const github = mockGitHub();
    const steps = githubSteps(github);
    steps.defaultBranch(HEAD1, TREE1, '"b1"');
    steps.openPulls(openPulls(), '"p1"');
    steps.closedPulls([
      pullRequest({
        number: 5,
        branch: "pr-autoscaler/resources-media-plex",
        headSha: sha("c5"),
        body: "",
        labels: ["autoscaling", "rightsizing"],
        state: "closed",
        createdAt: "2025-02-27T08:00:00Z",
        closedAt: "2025-02-28T09:00:00Z",
        mergedAt: "2025-02-28T09:00:00Z",
      }),
      pullRequest({
        number: 4,
        branch: "feature/docs",
        headSha: sha("c4"),
        body: "",
        state: "closed",
        closedAt: "2025-02-28T08:00:00Z",
      }),
    ]);
    steps.botBranches([
      { name: BRANCH, sha: C1 },
      { name: "pr-autoscaler/resources-media-plex", sha: sha("c5") },
    ]);

    const state = await newForge().readState();

    expect(github.calls()).toEqual([
      "GET /branches/main",
      "GET /pulls",
      "GET /pulls",
      "GET /git/matching-refs/heads/pr-autoscaler",
    ]);
    expect(state).toEqual({
      defaultBranch: "main",
      head: { sha: HEAD1, treeSha: TREE1 },
      pullRequests: [
        {
          number: 12,
          key: "nodes-workers",
          branch: BRANCH,
          title: "Scale worker nodes to 4",
          body: expect.stringContaining("Pods are waiting for room."),
          url: "https://github.com/octocat/Hello-World/pull/12",
          headSha: C1,
          labels: LABELS,
          createdAt: "2025-03-01T11:00:00Z",
          fingerprint: "workers-4",
          control: "bot",
          handsOffReason: undefined,
          upToDate: true,
          handsOffNoticed: false,
          // GitHub's example's GraphQL id, which turning its auto-merge off would take.
          nodeId: "MDExOlB1bGxSZXF1ZXN0MQ==",
        },
      ],
      recentlyClosed: [
        {
          number: 5,
          key: "resources-media-plex",
          title: "Pull request 5",
          labels: ["autoscaling", "rightsizing"],
          createdAt: "2025-02-27T08:00:00Z",
          closedAt: "2025-02-28T09:00:00Z",
          mergedAt: "2025-02-28T09:00:00Z",
          // No marker: not closed by the bot's own close, and not the bot's to control.
          closedBy: "people",
          control: "human",
        },
      ],
      strayBranches: [
        {
          key: "resources-media-plex",
          branch: "pr-autoscaler/resources-media-plex",
          sha: sha("c5"),
        },
      ],
      // Anyone's merged pull requests, for when their commits reached the default branch.
      mergedHeads: [{ sha: sha("c5"), mergedAt: "2025-02-28T09:00:00Z" }],
      // People's pull requests into the default branch, a fork's among them (GitHub's example
      // base commit), whose counts the reconcile compares.
      peoplePullRequests: [
        {
          number: 10,
          login: "octocat",
          headSha: sha("fork"),
          baseSha: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
          fork: true,
        },
        {
          number: 11,
          login: "octocat",
          headSha: sha("r"),
          baseSha: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
          fork: false,
        },
      ],
    });
    expect(github.scope.isDone()).toBe(true);
  });

  it("costs two conditional requests answered 304 when nothing changed", async () => {
    const github = mockGitHub();
    const steps = githubSteps(github);
    steps.defaultBranch(HEAD1, TREE1, 'W/"b1"');
    steps.openPulls(openPulls(), 'W/"p1"');
    steps.closedPulls([]);
    steps.botBranches([{ name: BRANCH, sha: C1 }]);
    const forge = newForge();
    const first = await forge.readState();
    github.reset();
    steps.defaultBranchNotModified('W/"b1"');
    steps.openPullsNotModified('W/"p1"');

    const second = await forge.readState();

    expect(github.calls()).toEqual(["GET /branches/main", "GET /pulls"]);
    expect(github.requests.map((request) => request.ifNoneMatch)).toEqual(['W/"b1"', 'W/"p1"']);
    expect(second).toEqual(first);
    expect(github.scope.isDone()).toBe(true);
  });

  it("sees the default branch move without re-reading closed pull requests or branches", async () => {
    const github = mockGitHub();
    const steps = githubSteps(github);
    steps.defaultBranch(HEAD1, TREE1, '"b1"');
    steps.openPulls(openPulls(), '"p1"');
    steps.closedPulls([]);
    steps.botBranches([{ name: BRANCH, sha: C1 }]);
    const forge = newForge();
    await forge.readState();
    github.reset();
    github.scope
      .get(`${REPO_PATH}/branches/main`)
      .matchHeader("if-none-match", '"b1"')
      .reply(200, branch("main", HEAD2, TREE2), { etag: '"b2"' });
    steps.openPullsNotModified('"p1"');

    const state = await forge.readState();

    expect(github.calls()).toEqual(["GET /branches/main", "GET /pulls"]);
    expect(state.head).toEqual({ sha: HEAD2, treeSha: TREE2 });
    expect(state.pullRequests[0]).toMatchObject({ number: 12, control: "bot", upToDate: false });
    expect(github.scope.isDone()).toBe(true);
  });

  it("reads the default branch's name once when it is not given", async () => {
    const github = mockGitHub();
    const steps = githubSteps(github);
    github.scope.get(REPO_PATH).reply(200, repository("main"));
    steps.defaultBranch(HEAD1, TREE1, '"b1"');
    steps.openPulls([], '"p1"');
    steps.closedPulls([]);
    steps.botBranches([]);
    steps.defaultBranchNotModified('"b1"');
    steps.openPullsNotModified('"p1"');
    const forge = createGitHubForge({
      octokit: testOctokit(),
      owner: "octocat",
      repo: "Hello-World",
    });

    await forge.readState();
    await forge.readState();

    expect(github.calls().filter((call) => call === "GET ")).toHaveLength(1);
    expect(github.calls()).toHaveLength(7);
    expect(github.scope.isDone()).toBe(true);
  });

  it("tells from the markers of closed pull requests who closed them and what they changed", async () => {
    const github = mockGitHub();
    const steps = githubSteps(github);
    const marker = { key: "nodes-workers", fingerprint: "workers-4", base: HEAD1, labels: LABELS };
    const closed = (number: number, fields: Record<string, unknown>, headSha = sha(`c${number}`)) =>
      pullRequest({
        number,
        branch: BRANCH,
        headSha,
        title: "Scale workers from 3 to 4 nodes",
        body: withPullRequestMarker("Pods are waiting for room.", {
          ...marker,
          sha: sha(`c${number}`),
          ...fields,
        }),
        state: "closed",
        closedAt: `2025-02-28T0${number}:00:00Z`,
      });
    steps.defaultBranch(HEAD1, TREE1, '"b1"');
    steps.openPulls(
      [botPull({ number: 12, headSha: C1, marker: { ...marker, sha: C1, from: 3, to: 5 } })],
      '"p1"',
    );
    steps.closedPulls([
      closed(5, { from: 3, to: 4 }),
      closed(4, { from: 3, to: 4, closedBy: "bot" }),
      closed(3, { from: 3, to: 4, handsOff: sha("human") }, sha("human")),
      closed(2, { from: 3, to: 4 }, sha("pushed")),
      closed(1, {}),
    ]);
    steps.botBranches([{ name: BRANCH, sha: C1 }]);

    const state = await newForge().readState();

    expect(state.pullRequests[0]?.change).toEqual({ from: 3, to: 5 });
    const seen = state.recentlyClosed.map(({ number, closedBy, control, change }) => ({
      number,
      closedBy,
      control,
      change,
    }));
    expect(seen).toEqual([
      { number: 5, closedBy: "people", control: "bot", change: { from: 3, to: 4 } },
      { number: 4, closedBy: "bot", control: "bot", change: { from: 3, to: 4 } },
      { number: 3, closedBy: "people", control: "human", change: { from: 3, to: 4 } },
      { number: 2, closedBy: "people", control: "human", change: { from: 3, to: 4 } },
      // Written before the marker recorded the change: the caller reads the title.
      { number: 1, closedBy: "people", control: "bot", change: undefined },
    ]);
    expect(github.calls()).toHaveLength(4);
    expect(github.scope.isDone()).toBe(true);
  });

  it("reads when the values last changed, their fingerprint and whether GitHub's auto-merge is on", async () => {
    const github = mockGitHub();
    const steps = githubSteps(github);
    const marker = { sha: C1, fingerprint: "workers-2", base: HEAD1, labels: LABELS };
    const changed = {
      ...marker,
      from: 3,
      to: 2,
      valuesFingerprint: "3f1c0a9e4b7d2c61",
      changedAt: "2025-03-01T12:59:00.000Z",
    };
    const detail = responseExample("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 200) as {
      user: object;
    };
    steps.defaultBranch(HEAD1, TREE1, '"b1"');
    steps.openPulls(
      [
        {
          ...botPull({ number: 12, headSha: C1, marker: changed }),
          auto_merge: {
            enabled_by: { ...detail.user, login: "pr-autoscaler[bot]" },
            merge_method: "squash",
            commit_title: "Scale workers from 3 to 2 nodes (#12)",
            commit_message: "",
          },
        },
        {
          ...pullRequest({
            number: 13,
            branch: "pr-autoscaler/resources-media-plex",
            headSha: sha("c13"),
            body: withPullRequestMarker("Right-size media/plex", {
              ...marker,
              key: "resources-media-plex",
              sha: sha("c13"),
            }),
          }),
          node_id: "PR_kwDOBnx7aM5pQ2Zf",
        },
      ],
      '"p1"',
    );
    steps.closedPulls([]);
    steps.botBranches([
      { name: BRANCH, sha: C1 },
      { name: "pr-autoscaler/resources-media-plex", sha: sha("c13") },
    ]);

    const state = await newForge().readState();

    const [flipped, unchanged] = state.pullRequests;
    expect(flipped).toMatchObject({
      valuesFingerprint: "3f1c0a9e4b7d2c61",
      changedAt: "2025-03-01T12:59:00.000Z",
      autoMerge: true,
      nodeId: "MDExOlB1bGxSZXF1ZXN0MQ==",
    });
    // Written before the values were recorded, and without GitHub's auto-merge.
    expect(unchanged).toMatchObject({ control: "bot", nodeId: "PR_kwDOBnx7aM5pQ2Zf" });
    expect(unchanged?.valuesFingerprint).toBeUndefined();
    expect(unchanged?.changedAt).toBeUndefined();
    expect(unchanged?.autoMerge).toBeUndefined();
    expect(github.scope.isDone()).toBe(true);
  });

  it("reads further pages of open pull requests", async () => {
    const github = mockGitHub();
    const steps = githubSteps(github);
    steps.defaultBranch(HEAD1, TREE1, '"b1"');
    const link = `<https://api.github.com/repositories/1296269/pulls?state=open&per_page=100&page=2>; rel="next"`;
    github.scope
      .get(`${REPO_PATH}/pulls`)
      .query({ state: "open", per_page: "100" })
      .reply(200, [pullRequest({ number: 30, branch: "feature/x", headSha: sha("x"), body: "" })], {
        etag: '"p1"',
        link,
      });
    github.scope
      .get(`${REPO_PATH}/pulls`)
      .query({ state: "open", per_page: "100", page: "2" })
      .reply(200, openPulls().slice(0, 1), { etag: '"p2"' });
    steps.closedPulls([]);
    steps.botBranches([{ name: BRANCH, sha: C1 }]);

    const state = await newForge().readState();

    expect(state.pullRequests.map((pr) => pr.number)).toEqual([12]);
    expect(state.strayBranches).toEqual([]);
    expect(github.scope.isDone()).toBe(true);
  });

  it("takes only the pull requests the bot opened as its own, whatever their branch and marker", async () => {
    const github = mockGitHub();
    const steps = githubSteps(github);
    const example = responseExample("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 200);
    const user = (example as { user: object }).user;
    const marker = { sha: C1, fingerprint: "workers-4", base: HEAD1, labels: LABELS };
    const by = (login: string, pull: object) => ({ ...pull, user: { ...user, login } });
    steps.defaultBranch(HEAD1, TREE1, '"b1"');
    steps.openPulls(
      [
        by("pr-autoscaler[bot]", botPull({ number: 12, headSha: C1, marker })),
        // Someone's pull request from a branch of the bot's name, its description copied.
        by("mallory", botPull({ number: 13, headSha: C1, marker })),
      ],
      '"p1"',
    );
    const closed = pullRequest({
      number: 9,
      branch: BRANCH,
      headSha: C1,
      body: withPullRequestMarker("Pods are waiting for room.", {
        key: "nodes-workers",
        ...marker,
      }),
      state: "closed",
      closedAt: "2025-02-28T09:00:00Z",
    });
    steps.closedPulls([by("mallory", closed)]);
    steps.botBranches([{ name: BRANCH, sha: C1 }]);
    const forge = createGitHubForge({
      octokit: testOctokit(),
      owner: "octocat",
      repo: "Hello-World",
      defaultBranch: "main",
      botLogin: "pr-autoscaler[bot]",
    });

    const state = await forge.readState();

    expect(state.pullRequests.map((pr) => pr.number)).toEqual([12]);
    expect(state.recentlyClosed).toEqual([]);
    expect(github.scope.isDone()).toBe(true);
  });

  it("tells an empty repository from one whose default branch is missing", async () => {
    const github = mockGitHub();
    for (const [status, message] of [
      [409, "Git Repository is empty."],
      [200, undefined],
    ] as const) {
      github.scope
        .get(`${REPO_PATH}/branches/main`)
        .reply(404, { message: "Branch not found", status: "404" });
      const commits = github.scope.get(`${REPO_PATH}/commits`).query({ per_page: "1" });
      if (message) commits.reply(status, { message, status: String(status) });
      else commits.reply(200, [commitSummary(HEAD1, "Initial commit", "2025-03-01T10:00:00Z")]);
      const read = newForge().readState();
      if (message) await expect(read).rejects.toBeInstanceOf(EmptyRepositoryError);
      else await expect(read).rejects.toThrow("read the default branch main: GitHub answered 404");
    }
    expect(github.scope.isDone()).toBe(true);
  });
});
