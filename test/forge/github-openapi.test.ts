import { describe, expect, it } from "@jest/globals";
import { mockGitHub, REPO_PATH, takeCheckProblems, testOctokit } from "../support/github.ts";
import { checkRequest, findOperation, toJsonSchema } from "../support/github-openapi.ts";
import { fileContent } from "../support/github-responses.ts";

const api = "https://api.github.com";

describe("the GitHub REST API description check", () => {
  it("accepts a request that is a published operation with a valid body", () => {
    const check = checkRequest({
      method: "POST",
      url: `${api}${REPO_PATH}/git/refs`,
      body: JSON.stringify({ ref: "refs/heads/pr-autoscaler/x", sha: "a".repeat(40) }),
    });
    expect(check.operation?.operationId).toBe("git/create-ref");
    expect(check.problems).toEqual([]);
  });

  it("rejects a body that does not fit the operation's schema", () => {
    const check = checkRequest({
      method: "POST",
      url: `${api}${REPO_PATH}/git/refs`,
      body: JSON.stringify({ ref: "refs/heads/x" }),
    });
    expect(check.problems).toEqual([
      expect.stringContaining("request body (root) must have required property 'sha'"),
    ]);
  });

  it("rejects a wrongly typed or unknown body property where the schema is closed", () => {
    const check = checkRequest({
      method: "PATCH",
      url: `${api}${REPO_PATH}/git/refs/heads%2Fx`,
      body: JSON.stringify({ sha: "abc", force: "yes" }),
    });
    expect(check.problems.join("\n")).toContain("/force must be boolean");
  });

  it("rejects an unknown path and a method the path does not have", () => {
    expect(
      checkRequest({ method: "GET", url: `${api}${REPO_PATH}/pull-requests`, body: "" }).problems,
    ).toEqual([`GET ${REPO_PATH}/pull-requests is not an operation of GitHub's REST API`]);
    expect(
      checkRequest({ method: "PUT", url: `${api}${REPO_PATH}/git/refs`, body: "{}" }).problems,
    ).toEqual([`PUT ${REPO_PATH}/git/refs is not an operation of GitHub's REST API`]);
  });

  it("rejects unknown query parameters and values of the wrong kind", () => {
    const check = checkRequest({
      method: "GET",
      url: `${api}${REPO_PATH}/pulls?state=opened&per_page=100&colour=red`,
      body: "",
    });
    expect(check.problems).toEqual([
      expect.stringContaining('query parameter "state"="opened" (root) must be equal to one of'),
      expect.stringContaining('unknown query parameter "colour"'),
    ]);
  });

  it("rejects a body on an operation that takes none", () => {
    const check = checkRequest({
      method: "GET",
      url: `${api}${REPO_PATH}/pulls`,
      body: JSON.stringify({ state: "open" }),
    });
    expect(check.problems).toEqual([expect.stringContaining("takes no request body")]);
  });

  it("prefers the operation with the most literal path segments", () => {
    expect(findOperation("GET", `${REPO_PATH}/git/matching-refs/heads%2Fx`)?.operationId).toBe(
      "git/list-matching-refs",
    );
    expect(findOperation("GET", `${REPO_PATH}/contents/a%2Fb.yaml`)?.operationId).toBe(
      "repos/get-content",
    );
  });

  it("turns OpenAPI nullable into JSON Schema null, keeping properties named like keywords", () => {
    expect(
      toJsonSchema({
        type: "object",
        properties: {
          example: { type: "string", nullable: true, enum: ["a"] },
          any: { oneOf: [{ type: "string" }], nullable: true },
        },
        example: { example: "a" },
      }),
    ).toEqual({
      type: "object",
      properties: {
        example: { type: ["string", "null"], enum: ["a", null] },
        any: { anyOf: [{ oneOf: [{ type: "string" }] }, { type: "null" }] },
      },
    });
  });

  it("fails a request made through nock that is not a published operation", async () => {
    const github = mockGitHub();
    github.scope.get(`${REPO_PATH}/no-such-thing`).reply(200, {});
    const failure = await testOctokit()
      .request("GET /repos/{owner}/{repo}/no-such-thing", { owner: "octocat", repo: "Hello-World" })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(Error);
    expect(takeCheckProblems()).toEqual([
      `GET ${REPO_PATH}/no-such-thing is not an operation of GitHub's REST API`,
    ]);
    expect(github.requests).toEqual([]);
  });

  it("records a request made through nock that is a published operation", async () => {
    const github = mockGitHub();
    github.scope
      .get(`${REPO_PATH}/contents/a%2Fb.yaml`)
      .query({ ref: "main" })
      .reply(200, fileContent("a/b.yaml", "x: 1\n"));
    await testOctokit().request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner: "octocat",
      repo: "Hello-World",
      path: "a/b.yaml",
      ref: "main",
    });
    expect(github.calls()).toEqual(["GET /contents/a/b.yaml"]);
    expect(github.requests[0]).toMatchObject({
      operationId: "repos/get-content",
      query: { ref: "main" },
    });
    expect(github.scope.isDone()).toBe(true);
  });
});
