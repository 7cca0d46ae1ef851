import { describe, expect, it } from "@jest/globals";
import { ProbotOctokit } from "probot";
import { createGitHubForge } from "../../../src/forge/github/github-forge.ts";
import { mockGitHub } from "../../support/github.ts";
import { HEAD1, TREE1 } from "../../support/github-scenario.ts";
import { githubSteps } from "../../support/github-steps.ts";

describe("the GitHub forge on Probot's Octokit", () => {
  it("reads the state and then revalidates it with 304s through Probot's plugins", async () => {
    const github = mockGitHub();
    const steps = githubSteps(github);
    steps.defaultBranch(HEAD1, TREE1, '"b1"');
    steps.openPulls([], '"p1"');
    steps.closedPulls([]);
    steps.botBranches([]);
    steps.defaultBranchNotModified('"b1"');
    steps.openPullsNotModified('"p1"');
    const quiet = () => {};
    const octokit = new ProbotOctokit({
      auth: { token: "test-token" },
      retry: { enabled: false },
      throttle: { enabled: false },
      log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
    const forge = createGitHubForge({
      octokit,
      owner: "octocat",
      repo: "Hello-World",
      defaultBranch: "main",
    });

    const first = await forge.readState();
    const second = await forge.readState();

    expect(second).toEqual(first);
    expect(first.head).toEqual({ sha: HEAD1, treeSha: TREE1 });
    expect(github.requests.slice(4).map((request) => request.ifNoneMatch)).toEqual([
      '"b1"',
      '"p1"',
    ]);
    expect(github.scope.isDone()).toBe(true);
  });
});
