/**
 * What a failed request of the forge's client says: GitHub's answer when it answered, and that
 * none came when the request ended without one (Octokit gives both status 500).
 */
import { describe, expect, it } from "@jest/globals";
import { ProbotOctokit } from "probot";
import { z } from "zod";
import { fetchWithTimeout } from "../../../src/app/fetch-with-timeout.ts";
import { createGitHubClient } from "../../../src/forge/github/github-client.ts";
import { mockGitHub, REPO_PATH } from "../../support/github.ts";

const quiet = () => {};

function client(fetch?: typeof globalThis.fetch) {
  const octokit = new ProbotOctokit({
    auth: { token: "test-token" },
    retry: { enabled: false },
    throttle: { enabled: false },
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    ...(fetch ? { request: { fetch } } : {}),
  });
  return createGitHubClient(octokit, { owner: "octocat", repo: "Hello-World" });
}

const readPulls = (github: ReturnType<typeof client>) =>
  github.call("list pull requests", "GET /repos/{owner}/{repo}/pulls", {}, z.array(z.unknown()));

describe("a failed request of the GitHub client", () => {
  it("says what GitHub answered, with its status", async () => {
    const github = mockGitHub();
    github.scope.get(`${REPO_PATH}/pulls`).reply(500, { message: "Server Error" });
    await expect(readPulls(client())).rejects.toMatchObject({
      message: "list pull requests: GitHub answered 500: Server Error",
      status: 500,
    });
  });

  it("says no answer came for a request the stopped app gave up, not that GitHub answered 500", async () => {
    mockGitHub();
    const halt = new AbortController();
    halt.abort(
      Object.assign(new Error("the app stopped: no more requests to GitHub"), {
        name: "AbortError",
      }),
    );
    await expect(readPulls(client(fetchWithTimeout(30_000, halt.signal)))).rejects.toThrow(
      "list pull requests: no answer from GitHub: the app stopped: no more requests to GitHub",
    );
  });

  it("says no answer came for a request that could not reach GitHub", async () => {
    const refused: typeof globalThis.fetch = async () => {
      throw new TypeError("fetch failed", {
        cause: new Error("connect ECONNREFUSED 127.0.0.1:443"),
      });
    };
    await expect(readPulls(client(refused))).rejects.toThrow(
      /^list pull requests: no answer from GitHub: /,
    );
  });
});
