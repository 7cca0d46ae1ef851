/**
 * GitHub for tests: a nock scope on https://api.github.com in which every request is checked
 * against GitHub's REST API description (a request that is not a published operation, or whose
 * body does not fit, fails at once and fails the test) and recorded, so tests can assert the
 * exact requests and count them. Importing this file disables network access and, after each
 * test, asserts that no check failed and no mock is left pending.
 */
import { afterAll, afterEach, expect } from "@jest/globals";
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { checkRequest } from "./github-openapi.ts";
import { OWNER, REPO } from "./github-responses.ts";

export const API = "https://api.github.com";
/** The test repository's API path; request paths are recorded relative to it. */
export const REPO_PATH = `/repos/${OWNER}/${REPO}`;

export interface RecordedRequest {
  method: string;
  /** Decoded, after /repos/octocat/Hello-World: "/git/refs/heads/pr-autoscaler/nodes-workers". */
  path: string;
  query: Record<string, string>;
  /** The parsed JSON body, when there is one. */
  body: unknown;
  operationId: string;
  ifNoneMatch: string | undefined;
}

export interface GitHubMock {
  scope: nock.Scope;
  requests: RecordedRequest[];
  /** "METHOD path" of each request so far, in order. */
  calls(): string[];
  /** The JSON body of the request at `index` (fails the test when there is none). */
  bodyAt(index: number): Record<string, unknown>;
  /** Forgets the requests recorded so far (to count the next operation's alone). */
  reset(): void;
}

const problems: string[] = [];

nock.disableNetConnect();

afterEach(() => {
  const found = problems.splice(0);
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(found).toEqual([]);
  expect(pending).toEqual([]);
});

afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
});

/** Takes the check failures recorded so far (for tests of the check itself). */
export function takeCheckProblems(): string[] {
  return problems.splice(0);
}

/** A fresh GitHub mock whose requests are all checked against the REST API description. */
export function mockGitHub(): GitHubMock {
  const scope = nock(API);
  const requests: RecordedRequest[] = [];
  scope.on("request", (request: Request, _interceptor: unknown, body: string) => {
    const check = checkRequest({ method: request.method, url: request.url, body });
    if (!check.operation || check.problems.length > 0) {
      problems.push(...check.problems);
      throw new Error(check.problems.join("\n"));
    }
    const url = new URL(request.url);
    requests.push({
      method: request.method,
      path: decodeURIComponent(url.pathname.slice(REPO_PATH.length)),
      query: Object.fromEntries(url.searchParams),
      body: body === "" ? undefined : JSON.parse(body),
      operationId: check.operation.operationId,
      ifNoneMatch: request.headers.get("if-none-match") ?? undefined,
    });
  });
  return {
    scope,
    requests,
    calls: () => requests.map((request) => `${request.method} ${request.path}`),
    bodyAt: (index) => {
      const body = requests[index]?.body;
      if (typeof body !== "object" || body === null)
        throw new Error(`request ${index} has no JSON body`);
      return body as Record<string, unknown>;
    },
    reset: () => {
      requests.length = 0;
    },
  };
}

/** An `@octokit/rest` client as the command line uses it, quiet and without retries. */
export function testOctokit(): Octokit {
  const quiet = () => {};
  return new Octokit({
    auth: "test-token",
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
}

/** A ref as it appears in a URL path: "heads/pr-autoscaler/x" → "heads%2Fpr-autoscaler%2Fx". */
export function refPath(ref: string): string {
  return encodeURIComponent(ref);
}
