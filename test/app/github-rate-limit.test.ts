import { describe, expect, it } from "@jest/globals";
import { rateLimitOf } from "../../src/app/github-rate-limit.ts";

const NOW = Date.parse("2025-03-01T12:00:00Z");
const SECONDARY =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";

/** An error shaped as Octokit's RequestError for an answer of GitHub. */
function answered(status: number, message: string, headers: Record<string, string> = {}) {
  return Object.assign(new Error(message), {
    status,
    response: { status, headers, data: { message, documentation_url: "https://docs.github.com" } },
  });
}

describe("rateLimitOf", () => {
  it("reads an exhausted quota's wait from x-ratelimit-reset, plus a second", () => {
    const limit = rateLimitOf(
      answered(403, "API rate limit exceeded for installation ID 42.", {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(NOW / 1000 + 600),
      }),
      NOW,
    );
    expect(limit).toEqual({
      kind: "primary",
      waitMs: 601_000,
      source: "x-ratelimit-reset: 1740831000",
      message: "API rate limit exceeded for installation ID 42.",
    });
  });

  it("takes a reset already past as a one-second wait", () => {
    const limit = rateLimitOf(
      answered(429, "API rate limit exceeded", {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(NOW / 1000 - 5),
      }),
      NOW,
    );
    expect(limit).toMatchObject({ kind: "primary", waitMs: 1000 });
  });

  it("reads a secondary limit's wait from retry-after, on 403 and on 429", () => {
    for (const status of [403, 429]) {
      expect(rateLimitOf(answered(status, SECONDARY, { "retry-after": "60" }), NOW)).toEqual({
        kind: "secondary",
        waitMs: 60_000,
        source: "retry-after: 60",
        message: SECONDARY,
      });
    }
  });

  it("waits a minute for a secondary limit without retry-after, and for any 429", () => {
    expect(rateLimitOf(answered(403, SECONDARY), NOW)).toMatchObject({
      kind: "secondary",
      waitMs: 60_000,
      source: "no retry-after",
    });
    expect(rateLimitOf(answered(429, "Too Many Requests"), NOW)).toMatchObject({
      kind: "secondary",
      waitMs: 60_000,
    });
  });

  it("takes the later of retry-after and the reset when an answer gives both", () => {
    const limit = rateLimitOf(
      answered(403, "API rate limit exceeded", {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(NOW / 1000 + 10),
        "retry-after": "120",
      }),
      NOW,
    );
    expect(limit).toMatchObject({ kind: "primary", waitMs: 120_000, source: "retry-after: 120" });
  });

  it("reads a GraphQL quota (answered 200 with an error of type RATE_LIMITED)", () => {
    const error = Object.assign(new Error("GraphQL Rate Limit Exceeded"), {
      response: {
        status: 200,
        headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(NOW / 1000 + 30) },
        data: { errors: [{ type: "RATE_LIMITED", message: "API rate limit exceeded" }] },
      },
    });
    expect(rateLimitOf(error, NOW)).toMatchObject({ kind: "primary", waitMs: 31_000 });
  });

  it("is undefined for a refusal that is not a rate limit, a 5xx, or no answer at all", () => {
    expect(rateLimitOf(answered(403, "Resource not accessible by integration"), NOW)).toBe(
      undefined,
    );
    // A quota not yet used up: the 403 is about something else.
    expect(
      rateLimitOf(
        answered(403, "Repository was archived so is read-only.", {
          "x-ratelimit-remaining": "4999",
        }),
        NOW,
      ),
    ).toBe(undefined);
    expect(rateLimitOf(answered(502, "Server Error", { "retry-after": "5" }), NOW)).toBe(undefined);
    expect(rateLimitOf(new Error("connect ECONNREFUSED"), NOW)).toBe(undefined);
    expect(rateLimitOf("not an error", NOW)).toBe(undefined);
  });

  it("ignores a retry-after that is not a whole number of seconds, waiting the minute", () => {
    expect(rateLimitOf(answered(429, SECONDARY, { "retry-after": "soon" }), NOW)).toMatchObject({
      waitMs: 60_000,
      source: "no retry-after",
    });
  });
});
