/**
 * The app's Octokit against GitHub behind nock: which requests its retry plugin sends again after
 * a 5xx, and which it never does because GitHub may have carried them out already.
 */
import { describe, expect, it } from "@jest/globals";
import { AppOctokit } from "../../src/app/app-octokit.ts";
import { mockGitHub, REPO_PATH } from "../support/github.ts";
import { OWNER, REPO } from "../support/github-responses.ts";

const quiet = () => {};
const BAD_GATEWAY = { message: "Bad Gateway" };

function client() {
  return new AppOctokit({
    auth: { token: "test-token" },
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
}

describe("a 5xx answer", () => {
  it("to opening an issue: not sent again (GitHub may have opened it)", async () => {
    const github = mockGitHub();
    github.scope.post(`${REPO_PATH}/issues`).reply(502, BAD_GATEWAY);
    // What a second send would get: a second issue.
    github.scope.post(`${REPO_PATH}/issues`).optionally().reply(201, {});
    const opened = client().request("POST /repos/{owner}/{repo}/issues", {
      owner: OWNER,
      repo: REPO,
      title: "pr-autoscaler dashboard",
    });
    await expect(opened).rejects.toMatchObject({ status: 502 });
    expect(github.calls()).toEqual(["POST /issues"]);
  });

  it("to a comment: not sent again (GitHub may have posted it)", async () => {
    const github = mockGitHub();
    github.scope.post(`${REPO_PATH}/issues/7/comments`).reply(503, BAD_GATEWAY);
    github.scope.post(`${REPO_PATH}/issues/7/comments`).optionally().reply(201, {});
    const commented = client().request(
      "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
      { owner: OWNER, repo: REPO, issue_number: 7, body: "Paused." },
    );
    await expect(commented).rejects.toMatchObject({ status: 503 });
    expect(github.calls()).toEqual(["POST /issues/7/comments"]);
  });

  it("to a read: sent again, as before", async () => {
    const github = mockGitHub();
    github.scope.get(`${REPO_PATH}/issues/7/comments`).reply(502, BAD_GATEWAY);
    github.scope.get(`${REPO_PATH}/issues/7/comments`).reply(200, []);
    const read = await client().request(
      "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
      { owner: OWNER, repo: REPO, issue_number: 7 },
    );
    expect(read.data).toEqual([]);
    expect(github.calls()).toEqual(["GET /issues/7/comments", "GET /issues/7/comments"]);
  });
});
