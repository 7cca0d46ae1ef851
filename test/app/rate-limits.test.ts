/**
 * The running app under GitHub's rate limits: Probot's Octokit as the app sets it up, against the
 * stateful GitHub of the tests behind nock. A rate-limited answer is put in front of the fake's
 * own, on a scope of its own (the fake's scope persists its interceptors), and every request of
 * either scope is recorded in order.
 */
import { describe, expect, it } from "@jest/globals";
import nock from "nock";
import { pino } from "pino";
import { type RunningApp, startApp } from "../../src/app/start-app.ts";
import type { ReconcileResult } from "../../src/reconcile/reconcile-types.ts";
import { FakeGitHub } from "../reconcile/support/fake-github.ts";
import { cluster, infraFiles, NOW } from "../reconcile/support/infra.ts";
import { API, mockGitHub, REPO_PATH } from "../support/github.ts";
import { OWNER, REPO } from "../support/github-responses.ts";
import { testAppSettings } from "./support/app-settings.ts";
import { scrape } from "./support/scrape.ts";
import { stopAfterEach } from "./support/stop-after-each.ts";

const FULL = `${OWNER}/${REPO}`;
const SECONDARY =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";

interface Line {
  level: number;
  msg: string;
  [field: string]: unknown;
}

interface Running {
  app: RunningApp;
  github: FakeGitHub;
  /** Every request sent to GitHub, as `METHOD path` relative to the repository. */
  sent: string[];
  results: ReconcileResult[];
  lines: Line[];
  /** Resolves once `count` reconciles have ended. */
  reconciled(count: number): Promise<void>;
}

const stopped = stopAfterEach();

/** The app with one pod pending; `before` adds answers, on `scope`, that come before the fake's. */
async function start(before: (scope: nock.Scope) => void): Promise<Running> {
  const sent: string[] = [];
  const record = (request: Request) => {
    const path = new URL(request.url).pathname;
    sent.push(
      `${request.method} ${path.startsWith(REPO_PATH) ? path.slice(REPO_PATH.length) : path}`,
    );
  };
  const first = nock(API).on("request", record);
  before(first);
  const mock = mockGitHub();
  mock.scope.on("request", record);
  const github = new FakeGitHub(infraFiles(), NOW, mock.scope);
  const results: ReconcileResult[] = [];
  const lines: Line[] = [];
  const waiting: { count: number; done: () => void }[] = [];
  const app = await startApp({
    settings: testAppSettings(),
    log: pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) }),
    observe: async () => cluster({ pending: 1, plex: false }),
    onReconciled: (result) => {
      results.push(result);
      for (const wait of waiting) if (results.length >= wait.count) wait.done();
    },
    timer: false,
  });
  return {
    app: stopped(app),
    github,
    sent,
    results,
    lines,
    reconciled: (count) =>
      results.length >= count
        ? Promise.resolve()
        : new Promise((done) => {
            waiting.push({ count, done });
          }),
  };
}

describe("a secondary rate limit in a reconcile", () => {
  it("stops the run's requests, puts the next reconcile off until retry-after, then finishes", async () => {
    // Ten seconds of quiet: what is checked before they pass (the rest of the run, a push, the
    // metrics) must come within them however loaded the machine, and the test waits them out.
    const { app, github, sent, results, lines, reconciled } = await start((scope) => {
      scope
        .post(`${REPO_PATH}/git/refs`)
        .reply(403, { message: SECONDARY }, { "retry-after": "10" });
    });
    app.trigger(FULL, "start");
    await app.idle();
    const calls = [...sent];
    // Nothing at all after the refused request: no dashboard, no retry.
    expect(calls.slice(calls.indexOf("POST /git/refs"))).toEqual(["POST /git/refs"]);
    expect(results[0]?.errors).toEqual([
      expect.stringContaining(`GitHub answered 403: ${SECONDARY}`),
      expect.stringMatching(
        /^dashboard: .*not sent: GitHub's secondary rate limit \(retry-after: 10\) holds this installation's requests until /,
      ),
    ]);

    // A push right after: no request, no reconcile yet.
    app.trigger(FULL, "push");
    await app.idle();
    expect([sent.length, results.length]).toEqual([calls.length, 1]);
    const metrics = await scrape(app.url);
    expect(
      metrics.value("pr_autoscaler_github_rate_limits_total", {
        installation: "42",
        kind: "secondary",
      }),
    ).toBe(1);
    expect(
      metrics.all("pr_autoscaler_github_rate_limited_until_timestamp_seconds").map((s) => s.labels),
    ).toEqual([{ installation: "42" }]);

    await reconciled(2);
    expect(results[1]?.pullRequests.map((outcome) => outcome.action)).toEqual(["created"]);
    expect(github.openPulls()).toHaveLength(1);
    const warnings = lines.filter((line) => line.level >= 40);
    expect(warnings.map((line) => line.msg)).toEqual([
      "GitHub rate limit: no requests and no reconciles for this installation until the time GitHub gave",
      "reconciled with errors",
    ]);
    expect(warnings[0]).toMatchObject({ installation: "42", kind: "secondary", waitSeconds: 10 });
    expect(warnings[1]).toMatchObject({ reasons: ["start"], rateLimitedUntil: expect.any(String) });
    expect(lines.find((line) => line.msg === "reconciled")).toMatchObject({ reasons: ["push"] });
    expect(
      (await scrape(app.url)).all("pr_autoscaler_github_rate_limited_until_timestamp_seconds"),
    ).toEqual([]);
  }, 60_000);

  it("is not retried by Probot's plugins when GitHub answers 429", async () => {
    const { app, sent, results } = await start((scope) => {
      scope
        .post(`${REPO_PATH}/git/refs`)
        .reply(429, { message: SECONDARY }, { "retry-after": "60" });
    });
    app.trigger(FULL, "start");
    await app.idle();
    expect(sent.filter((call) => call === "POST /git/refs")).toHaveLength(1);
    expect(results[0]?.errors[0]).toContain(`GitHub answered 429: ${SECONDARY}`);
  }, 30_000);
});
