/**
 * What the running app tells of itself while things go wrong and come right: /metrics scraped
 * from its HTTP server on 127.0.0.1, the chat's posts to an incoming webhook on 127.0.0.1, and
 * the alert rule fed the series the app exposed. GitHub is the stateful fake behind nock.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { type RunningApp, startApp } from "../../src/app/start-app.ts";
import { KubeApiError } from "../../src/cluster/kube-client.ts";
import { ClusterReadError } from "../../src/cluster/read-snapshot.ts";
import type { Snapshot } from "../../src/planning/snapshot.ts";
import type { ReconcileResult } from "../../src/reconcile/reconcile-types.ts";
import { FakeGitHub } from "../reconcile/support/fake-github.ts";
import { CONFIG, CONFIG_PATH, cluster, infraFiles, NOW } from "../reconcile/support/infra.ts";
import { mockGitHub } from "../support/github.ts";
import { OWNER, REPO } from "../support/github-responses.ts";
import { documentedRules, testRules } from "./support/alert-rules.ts";
import { testAppSettings } from "./support/app-settings.ts";
import { type Scrape, scrape } from "./support/scrape.ts";
import { stopAfterEach } from "./support/stop-after-each.ts";

const FULL = `${OWNER}/${REPO}`;
const R = { repository: FULL };

interface Chat {
  url: string;
  texts: string[];
  close(): Promise<void>;
}

const chats: Chat[] = [];

afterEach(async () => {
  await Promise.all(chats.splice(0).map((chat) => chat.close()));
});

/** A Slack-style incoming webhook on 127.0.0.1 that keeps the text of each post. */
async function chat(): Promise<Chat> {
  const texts: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      texts.push((JSON.parse(Buffer.concat(chunks).toString("utf8")) as { text: string }).text);
      response.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const hook: Chat = {
    url: `http://127.0.0.1:${port}/services/T0001/B0002/hooktokenXXXXXXXXXXXXXXXX`,
    texts,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  chats.push(hook);
  return hook;
}

interface Running {
  app: RunningApp;
  github: FakeGitHub;
  /** Every request sent to GitHub, as `METHOD /path`. */
  sent: string[];
  chat: Chat;
  /** Triggers one reconcile, waits for it and its messages, and gives its result. */
  reconcile(): Promise<ReconcileResult>;
  scrape(): Promise<Scrape>;
}

const stopped = stopAfterEach();

async function start(observe: () => Promise<Snapshot>): Promise<Running> {
  const mock = mockGitHub();
  const sent: string[] = [];
  mock.scope.on("request", (request: Request) => {
    sent.push(`${request.method} ${new URL(request.url).pathname}`);
  });
  const github = new FakeGitHub(infraFiles(), NOW, mock.scope);
  const hook = await chat();
  const results: ReconcileResult[] = [];
  const app = stopped(
    await startApp({
      settings: testAppSettings({ webhookSecret: undefined, notifyWebhookUrl: hook.url }),
      log: pino({ level: "silent" }),
      observe,
      onReconciled: (result) => results.push(result),
      timer: false,
    }),
  );
  return {
    app,
    github,
    sent,
    chat: hook,
    async reconcile() {
      const before = results.length;
      app.trigger(FULL, "push");
      await app.idle();
      const result = results[before];
      if (!result) throw new Error("the reconcile threw");
      return result;
    },
    scrape: () => scrape(app.url),
  };
}

function unreachable(): ClusterReadError {
  const detail = "connect ECONNREFUSED 10.0.0.1:6443";
  return new ClusterReadError(
    `cannot list nodes: ${detail}`,
    new KubeApiError(detail, "/api/v1/nodes"),
  );
}

/** The series the alert rule reads, one value a minute from `scrapes`, as one pod's. */
function alertSeries(scrapes: Scrape[]) {
  const labels = `instance="10.42.0.7:3000",job="pr-autoscaler"`;
  const values = (read: (scrape: Scrape) => number | undefined) =>
    scrapes.map((s) => read(s) ?? "_").join(" ");
  return [
    {
      series: `pr_autoscaler_reconcile_failures_in_a_row{${labels},repository="${FULL}"}`,
      values: values((s) => s.value("pr_autoscaler_reconcile_failures_in_a_row", R)),
    },
    {
      series: `pr_autoscaler_leader{${labels}}`,
      values: values((s) => s.value("pr_autoscaler_leader")),
    },
  ];
}

describe("a cluster down from the start, a configuration broken meanwhile, then both fixed", () => {
  it("counts, tells and alerts each failure once, and recovery only when a reconcile works", async () => {
    let down = true;
    const running = await start(async () => {
      if (down) throw unreachable();
      return cluster({ pending: 0, plex: false });
    });
    const listed = await running.scrape();
    // Before the first reconcile, the counters are there at 0: the first failure is an increase.
    expect(listed.value("pr_autoscaler_reconciles_total", { ...R, status: "ok" })).toBe(0);
    expect(listed.value("pr_autoscaler_reconciles_total", { ...R, status: "cluster-error" })).toBe(
      0,
    );
    expect(listed.all("pr_autoscaler_reconcile_failures_in_a_row")).toEqual([]);

    const scrapes: Scrape[] = [];
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await running.reconcile()).status);
      scrapes.push(await running.scrape());
    }
    const failing = scrapes[2] as Scrape;
    expect(failing.value("pr_autoscaler_reconciles_total", { ...R, status: "cluster-error" })).toBe(
      3,
    );
    // The cluster stopped each run: counted by the status, not again as a failed step.
    expect(failing.value("pr_autoscaler_reconcile_step_errors_total", R)).toBe(0);
    expect(failing.value("pr_autoscaler_reconcile_failures_in_a_row", R)).toBe(3);
    expect(failing.all("pr_autoscaler_proposals")).toEqual([]);
    expect(running.chat.texts).toEqual([
      `${FULL}: reconcile failed 3 times in a row: cluster: cannot list nodes: connect ECONNREFUSED 10.0.0.1:6443`,
    ]);

    // Someone breaks the configuration while the cluster is still down.
    running.github.push({ [CONFIG_PATH]: "pools:\n  - name: workers\n    min: many\n" });
    statuses.push((await running.reconcile()).status);
    scrapes.push(await running.scrape());
    expect(running.chat.texts).toHaveLength(1);
    expect(scrapes[3]?.value("pr_autoscaler_reconcile_failures_in_a_row", R)).toBe(3);

    running.github.push({ [CONFIG_PATH]: CONFIG });
    down = false;
    statuses.push((await running.reconcile()).status);
    scrapes.push(await running.scrape());
    expect(statuses).toEqual([
      "cluster-error",
      "cluster-error",
      "cluster-error",
      "config-error",
      "ok",
    ]);
    expect(running.chat.texts.slice(1)).toEqual([`${FULL}: reconciles work again`]);
    expect(scrapes[4]?.value("pr_autoscaler_reconcile_failures_in_a_row", R)).toBe(0);

    // The alert rule on what the app exposed, a reconcile a minute: it fires with the chat's
    // "failing", holds through the configuration error, and resolves with "recovered".
    const outcome = await testRules(
      await documentedRules(),
      alertSeries(scrapes),
      ["0m", "1m", "2m", "3m", "4m"].map((at, i) => ({
        alert: "PrAutoscalerReconcilesFailing",
        at,
        firing: i === 2 || i === 3 ? [R] : [],
      })),
    );
    expect(outcome.passed ? "passed" : outcome.output).toBe("passed");
  }, 60_000);
});

describe("a branch GitHub refuses to create, three times in a row", () => {
  it("is a failure of each reconcile though its status is ok: counted, told and alerted", async () => {
    const running = await start(async () => cluster({ pending: 1, plex: false }));
    running.github.fail("POST", /^\/git\/refs$/, 403, "Resource not accessible by integration", 3);
    const scrapes: Scrape[] = [];
    const results: ReconcileResult[] = [];
    for (let i = 0; i < 4; i++) {
      results.push(await running.reconcile());
      scrapes.push(await running.scrape());
    }
    expect(results.map((result) => result.status)).toEqual(["ok", "ok", "ok", "ok"]);
    expect(results.map((result) => result.errors.length > 0)).toEqual([true, true, true, false]);
    expect(results[3]?.pullRequests.map((outcome) => outcome.action)).toEqual(["created"]);
    expect(scrapes.map((s) => s.value("pr_autoscaler_reconcile_failures_in_a_row", R))).toEqual([
      1, 2, 3, 0,
    ]);
    expect(scrapes[2]?.value("pr_autoscaler_reconcile_step_errors_total", R)).toBeGreaterThan(2);
    expect(running.chat.texts).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${FULL}: reconcile failed 3 times in a row: .*Resource not accessible by integration`,
        ),
      ),
      expect.stringMatching(/scale-up pull request opened/),
      `${FULL}: reconciles work again`,
    ]);
    const outcome = await testRules(
      await documentedRules(),
      alertSeries(scrapes),
      ["1m", "2m", "3m"].map((at, i) => ({
        alert: "PrAutoscalerReconcilesFailing",
        at,
        firing: i === 1 ? [R] : [],
      })),
    );
    expect(outcome.passed ? "passed" : outcome.output).toBe("passed");
  }, 60_000);
});

describe("a partial read of the cluster", () => {
  it("leaves the proposals unknown, not zero, until a complete read plans again", async () => {
    let complete = false;
    const running = await start(async () => cluster({ pending: 1, plex: false, complete }));
    const partial = await running.reconcile();
    expect(partial.status).toBe("ok");
    expect(partial.snapshotComplete).toBe(false);
    expect(partial.pullRequests).toEqual([]);
    const unknown = await running.scrape();
    expect(unknown.all("pr_autoscaler_proposals")).toEqual([]);
    expect(unknown.value("pr_autoscaler_reconciles_total", { ...R, status: "ok" })).toBe(1);

    complete = true;
    const planned = await running.reconcile();
    expect(planned.snapshotComplete).toBe(true);
    const known = await running.scrape();
    expect(known.value("pr_autoscaler_proposals", { ...R, kind: "nodes", direction: "up" })).toBe(
      1,
    );
    expect(
      known.value("pr_autoscaler_proposals", { ...R, kind: "resources", direction: "down" }),
    ).toBe(0);
  }, 60_000);
});

describe("GitHub's answers", () => {
  it("are each counted from the start, the 502 the retry plugin answered again included", async () => {
    const running = await start(async () => cluster({ pending: 0, plex: false }));
    running.github.fail("GET", /^\/branches\/main$/, 502, "Server Error", 1);
    const result = await running.reconcile();
    expect(result.errors).toEqual([]);
    const after = await running.scrape();
    const counted = ["2xx", "3xx", "4xx", "5xx"].map(
      (status) => after.value("pr_autoscaler_github_responses_total", { status }) ?? 0,
    );
    // The installation's token, which Probot's authentication asks for, is among them.
    expect(running.sent).toContain("POST /app/installations/42/access_tokens");
    expect(running.sent.filter((call) => call === `GET /repos/${FULL}/branches/main`)).toHaveLength(
      2,
    );
    expect(counted[3]).toBe(1);
    expect(counted.reduce((sum, count) => sum + count, 0)).toBe(running.sent.length);
  }, 60_000);
});
