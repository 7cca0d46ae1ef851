import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import nock from "nock";
import { pino } from "pino";
import { createAppLogger, settingsSecrets } from "../../src/app/app-logger.ts";
import {
  createNotifier,
  type Notifier,
  type NotifierOptions,
  postNotification,
  reconcileNotifications,
} from "../../src/app/notify.ts";
import { readAppSettings } from "../../src/app/settings.ts";
import { type RunningApp, startApp } from "../../src/app/start-app.ts";
import { FakeGitHub } from "../reconcile/support/fake-github.ts";
import { cluster, infraFiles, NOW } from "../reconcile/support/infra.ts";
import { mockGitHub } from "../support/github.ts";
import { OWNER, REPO } from "../support/github-responses.ts";
import { testAppSettings } from "./support/app-settings.ts";
import { reconcileResult } from "./support/reconcile-result.ts";

/** The path of a Slack incoming webhook holds its secret. */
const HOOK_PATH = "/services/T0001/B0002/hooktokenXXXXXXXXXXXXXXXX";

interface Receiver {
  url: string;
  posts: { contentType: string | undefined; body: unknown }[];
  /** The status the next posts get (200 by default); "hang" never answers. */
  answer: number | "hang";
  /** The `text` of each post. */
  texts(): string[];
}

const servers: Server[] = [];
let running: RunningApp | undefined;

beforeAll(() => {
  nock.enableNetConnect("127.0.0.1");
});

afterEach(async () => {
  await running?.stop();
  running = undefined;
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/**
 * Serves `answer` on 127.0.0.1, each request once its body is read; stopped after the test.
 * Returns the server's base URL.
 */
async function serve(
  answer: (request: IncomingMessage, body: string, response: ServerResponse) => void,
): Promise<string> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => answer(request, Buffer.concat(chunks).toString("utf8"), response));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function receiver(): Promise<Receiver> {
  const state: Receiver = {
    url: "",
    posts: [],
    answer: 200,
    texts: () => state.posts.map((post) => (post.body as { text: string }).text),
  };
  const base = await serve((request, body, response) => {
    if (request.method !== "POST" || request.url !== HOOK_PATH) {
      response.writeHead(404).end("no_service");
      return;
    }
    state.posts.push({ contentType: request.headers["content-type"], body: JSON.parse(body) });
    if (state.answer === "hang") return;
    response.writeHead(state.answer, { "content-type": "text/plain" });
    response.end(state.answer === 200 ? "ok" : "invalid_payload");
  });
  state.url = `${base}${HOOK_PATH}`;
  return state;
}

/**
 * A webhook server's 404 for a path it does not know that repeats the path, as Express' default
 * page does ("Cannot POST /hooks/…"): a webhook deleted on the chat's side answers like this.
 */
async function echoingReceiver(path: string): Promise<{ url: string; posts: string[] }> {
  const posts: string[] = [];
  const base = await serve((request, body, response) => {
    posts.push(body);
    response.writeHead(404, { "content-type": "text/html" });
    response.end(`<!DOCTYPE html><body><pre>Cannot POST ${request.url}</pre></body>`);
  });
  return { url: `${base}${path}`, posts };
}

/** The token of a Mattermost-style incoming webhook, the last segment of its path. */
const ECHOED_TOKEN = "hooksecretQ7w8e9r0t1y2u3i4";

function collected(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join("") };
}

function captured(): { log: pino.Logger; text: () => string } {
  const { stream, text } = collected();
  return { log: pino({ level: "debug" }, stream), text };
}

const PULL = "https://github.com/octocat/infra/pull";

/** A notifier that posts to `hook` and logs where no test reads, unless `options` says. */
function notifierOn(hook: { url: string }, options: Partial<NotifierOptions> = {}): Notifier {
  return createNotifier({ url: hook.url, log: captured().log, ...options });
}

/** A reconcile that could not read the cluster. */
function clusterErrorResult(
  error = "cluster: cannot list nodes: connect ECONNREFUSED 10.0.0.1:6443",
) {
  return reconcileResult({ status: "cluster-error", errors: [error] });
}

/**
 * The app's logger writing to `stream`, with the secrets of settings where, besides the key,
 * only the notification webhook's URL is set.
 */
function appLoggerWithHook(notifyWebhookUrl: string, stream: Writable) {
  const secrets = settingsSecrets({
    privateKey: "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----",
    webhookSecret: undefined,
    prometheusToken: undefined,
    notifyWebhookUrl,
  });
  return createAppLogger({ level: "debug", secrets }, stream);
}

/** A reconcile that opened the workers' pull request #7. */
function openedSeven() {
  return reconcileResult({
    pullRequests: [{ key: "nodes-workers", action: "created", number: 7, url: `${PULL}/7` }],
  });
}

describe("posting to an incoming webhook", () => {
  it('posts {"text": …} as JSON', async () => {
    const hook = await receiver();
    await postNotification(hook.url, "octocat/infra: hello");
    expect(hook.posts).toEqual([
      { contentType: "application/json", body: { text: "octocat/infra: hello" } },
    ]);
  });

  it("escapes &, < and > as Slack asks, so text cannot mention everyone or hide a link", async () => {
    const hook = await receiver();
    await postNotification(
      hook.url,
      'octocat/infra: right-sizing pull request opened #9 "Right-size <!channel> & <https://evil.example|the plan>" https://github.com/octocat/infra/pull/9',
    );
    expect(hook.texts()).toEqual([
      'octocat/infra: right-sizing pull request opened #9 "Right-size &lt;!channel&gt; &amp; &lt;https://evil.example|the plan&gt;" https://github.com/octocat/infra/pull/9',
    ]);
  });

  it("fails with the answer, never the URL, when the webhook refuses", async () => {
    const hook = await receiver();
    hook.answer = 400;
    const failure = postNotification(hook.url, "hello");
    await expect(failure).rejects.toThrow("the notification webhook answered 400: invalid_payload");
    await expect(failure).rejects.not.toThrow(/hooktoken|127\.0\.0\.1/);
  });

  it.each([
    ["its path", `/hooks/${ECHOED_TOKEN}`],
    ["its query", `/hooks?token=${ECHOED_TOKEN}`],
  ])("keeps the token out of an answer that repeats %s", async (_, path) => {
    const hook = await echoingReceiver(path);
    const failure = postNotification(hook.url, "hello");
    await expect(failure).rejects.toThrow("the notification webhook answered 404: <!DOCTYPE");
    await expect(failure).rejects.toThrow("Cannot POST ***");
    await expect(failure).rejects.not.toThrow(/hooksecret|Q7w8e9/);
  });

  it("gives up on a webhook that does not answer", async () => {
    const hook = await receiver();
    hook.answer = "hang";
    await expect(postNotification(hook.url, "hello", { timeoutMs: 200 })).rejects.toThrow(
      "the notification webhook could not be reached: no answer in time",
    );
  });

  it("says why a webhook cannot be reached without naming its address", async () => {
    const hook = await receiver();
    const closed = hook.url;
    const server = servers.pop() as Server;
    await new Promise((resolve) => server.close(resolve));
    const failure = postNotification(closed, "hello");
    await expect(failure).rejects.toThrow(
      "the notification webhook could not be reached: ECONNREFUSED",
    );
  });
});

describe("what a reconcile tells", () => {
  it("names scale-up, scale-down and right-sizing pull requests opened, and those merged", () => {
    const texts = reconcileNotifications(
      reconcileResult({
        proposals: [
          { key: "nodes-workers", kind: "nodes", direction: "up" },
          { key: "nodes-gpu", kind: "nodes", direction: "down" },
          { key: "resources-media-plex", kind: "resources", direction: "down" },
        ],
        pullRequests: [
          {
            key: "nodes-workers",
            action: "created",
            title: "Scale workers from 3 to 4 nodes",
            number: 7,
            url: `${PULL}/7`,
          },
          {
            key: "nodes-gpu",
            action: "created",
            title: "Scale gpu from 2 to 1 nodes",
            number: 8,
            url: `${PULL}/8`,
          },
          {
            key: "resources-media-plex",
            action: "unchanged",
            title: "Right-size media/plex: cpu 2 → 450m",
            number: 5,
            url: `${PULL}/5`,
          },
          { key: "resources-media-sonarr", action: "updated", number: 6, url: `${PULL}/6` },
        ],
        merges: [
          { number: 5, action: "merged", note: "merged by rule small-requests" },
          { number: 7, action: "waiting", note: "checks pending" },
        ],
      }),
    );
    expect(texts).toEqual([
      {
        event: "opened",
        text: `octocat/infra: scale-up pull request opened #7 "Scale workers from 3 to 4 nodes" ${PULL}/7`,
      },
      {
        event: "opened",
        text: `octocat/infra: scale-down pull request opened #8 "Scale gpu from 2 to 1 nodes" ${PULL}/8`,
      },
      {
        event: "merged",
        text: `octocat/infra: right-sizing pull request merged #5 "Right-size media/plex: cpu 2 → 450m" ${PULL}/5`,
      },
    ]);
  });

  it("tells nothing for a reconcile that changed nothing", () => {
    expect(
      reconcileNotifications(
        reconcileResult({
          pullRequests: [{ key: "nodes-workers", action: "unchanged", number: 7 }],
        }),
      ),
    ).toEqual([]);
  });
});

describe("the notifier", () => {
  it("tells of repeated failures once, after three in a row, and once when they end", async () => {
    const hook = await receiver();
    const notifier = notifierOn(hook);
    const clusterError = clusterErrorResult();
    await notifier.reconciled(clusterError);
    await notifier.failed("octocat/infra", new Error("GitHub answered 502"));
    // A success in between: the count starts again.
    await notifier.reconciled(reconcileResult());
    await notifier.reconciled(clusterError);
    await notifier.reconciled(clusterError);
    expect(hook.posts).toEqual([]);
    await notifier.failed("octocat/infra", new Error("GitHub answered 502"));
    await notifier.reconciled(clusterError);
    await notifier.reconciled(reconcileResult());
    await notifier.reconciled(reconcileResult());
    await notifier.idle();
    expect(hook.texts()).toEqual([
      "octocat/infra: reconcile failed 3 times in a row: GitHub answered 502",
      "octocat/infra: reconciles work again",
    ]);
  });

  it("tells of recovery only after a reconcile that worked, not after a configuration error", async () => {
    const hook = await receiver();
    const notifier = notifierOn(hook);
    const clusterError = clusterErrorResult();
    for (let i = 0; i < 3; i++) await notifier.reconciled(clusterError);
    // The configuration broke meanwhile: the run stops before the cluster, which may still be
    // down. Neither recovered nor one more failure.
    await notifier.reconciled(reconcileResult({ status: "config-error" }));
    await notifier.reconciled(reconcileResult({ status: "config-error" }));
    await notifier.reconciled(clusterError);
    await notifier.reconciled(reconcileResult());
    await notifier.idle();
    expect(hook.texts()).toEqual([
      "octocat/infra: reconcile failed 3 times in a row: cluster: cannot list nodes: connect ECONNREFUSED 10.0.0.1:6443",
      "octocat/infra: reconciles work again",
    ]);
  });

  it("counts a configuration error that also failed a step as a failure", async () => {
    const hook = await receiver();
    const notifier = notifierOn(hook);
    const broken = reconcileResult({
      status: "config-error",
      errors: ["config check: GitHub answered 403: Resource not accessible by integration"],
    });
    for (let i = 0; i < 3; i++) await notifier.reconciled(broken);
    await notifier.idle();
    expect(hook.texts()).toEqual([
      "octocat/infra: reconcile failed 3 times in a row: config check: GitHub answered 403: Resource not accessible by integration",
    ]);
  });

  it("ends a streak without a word when the configuration was removed", async () => {
    const hook = await receiver();
    const notifier = notifierOn(hook);
    for (let i = 0; i < 3; i++) await notifier.failed("octocat/infra", new Error("GitHub 502"));
    await notifier.reconciled(reconcileResult({ status: "no-config" }));
    // A later success has nothing to recover from; a new failure starts a new count.
    await notifier.reconciled(reconcileResult());
    for (let i = 0; i < 2; i++) await notifier.failed("octocat/infra", new Error("GitHub 502"));
    await notifier.idle();
    expect(hook.texts()).toEqual(["octocat/infra: reconcile failed 3 times in a row: GitHub 502"]);
  });

  it("leaves failure streaks to the leader, and still tells what this replica did", async () => {
    const hook = await receiver();
    let leader = false;
    const notifier = notifierOn(hook, { tellsHealth: () => leader });
    const clusterError = clusterErrorResult("cluster: unreachable");
    for (let i = 0; i < 3; i++) await notifier.reconciled(clusterError);
    await notifier.reconciled(reconcileResult());
    await notifier.reconciled(openedSeven());
    leader = true;
    for (let i = 0; i < 3; i++) await notifier.failed("octocat/infra", new Error("GitHub 502"));
    await notifier.idle();
    expect(hook.texts()).toEqual([
      `octocat/infra: node count pull request opened #7 ${PULL}/7`,
      "octocat/infra: reconcile failed 3 times in a row: GitHub 502",
    ]);
  });

  it("drops what is left when closed: the delivery under way is given up, those queued are never sent", async () => {
    const posts: string[] = [];
    let gaveUp = () => {};
    const givenUp = new Promise<void>((resolve) => {
      gaveUp = resolve;
    });
    // Never answers; the connection closing is the client giving the delivery up.
    const base = await serve((_request, body, response) => {
      posts.push((JSON.parse(body) as { text: string }).text);
      response.on("close", () => gaveUp());
    });
    const { log, text } = captured();
    const delivered: string[] = [];
    const notifier = notifierOn(
      { url: `${base}${HOOK_PATH}` },
      {
        log,
        // Far past the test's own timeout: only the close can end the delivery.
        timeoutMs: 600_000,
        onDelivery: (event, outcome) => delivered.push(`${event} ${outcome}`),
      },
    );
    void notifier.reconciled(openedSeven());
    void notifier.reconciled(
      reconcileResult({
        pullRequests: [{ key: "nodes-gpu", action: "created", number: 8, url: `${PULL}/8` }],
      }),
    );
    while (posts.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(notifier.close()).toEqual([
      { event: "opened", text: `octocat/infra: node count pull request opened #7 ${PULL}/7` },
      { event: "opened", text: `octocat/infra: node count pull request opened #8 ${PULL}/8` },
    ]);
    await givenUp;
    await notifier.idle();
    // Told once, by whoever closed it: no delivery failure is logged besides.
    expect(text()).not.toContain("could not deliver a notification");
    // Closed, it sends nothing more, and says so.
    await notifier.reconciled(openedSeven());
    await notifier.idle();
    expect(posts).toEqual([`octocat/infra: node count pull request opened #7 ${PULL}/7`]);
    expect(delivered).toEqual(["opened failed", "opened failed", "opened failed"]);
    expect(text()).toContain("notification not sent: the app has stopped");
    expect(notifier.close()).toEqual([]);
  });

  it("logs a failed delivery without the URL, and the reconcile goes on", async () => {
    const hook = await receiver();
    hook.answer = 500;
    const { log, text } = captured();
    const delivered: string[] = [];
    const notifier = notifierOn(hook, {
      log,
      onDelivery: (event, outcome) => delivered.push(`${event} ${outcome}`),
    });
    await expect(notifier.reconciled(openedSeven())).resolves.toBeUndefined();
    expect(hook.posts).toHaveLength(1);
    expect(delivered).toEqual(["opened failed"]);
    const line = JSON.parse(text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 40,
      msg: "could not deliver a notification",
      event: "opened",
      reason: "the notification webhook answered 500: invalid_payload",
    });
    expect(text()).not.toContain("hooktoken");
    expect(text()).not.toContain(hook.url);
  });

  it("logs a refused delivery without the token the webhook's answer repeats", async () => {
    const hook = await echoingReceiver(`/hooks/${ECHOED_TOKEN}`);
    // A plain logger, and the app's own, which also knows the URL as a secret.
    const plain = captured();
    const app = collected();
    const appLog = appLoggerWithHook(hook.url, app.stream);
    for (const log of [plain.log, appLog]) {
      const notifier = notifierOn(hook, { log, failuresBeforeNotifying: 1 });
      await notifier.failed("octocat/infra", new Error("cluster: connect ECONNREFUSED"));
      await notifier.idle();
    }
    expect(hook.posts).toHaveLength(2);
    for (const text of [plain.text(), app.text()]) {
      expect(text).toContain("the notification webhook answered 404");
      expect(text).toContain("Cannot POST ***");
      expect(text).not.toContain(ECHOED_TOKEN.slice(0, 12));
    }
  });

  it("has the app's logger remove the parts of the webhook's URL that hold its token", () => {
    const app = collected();
    const url = `https://chat.example/hooks/${ECHOED_TOKEN}`;
    const log = appLoggerWithHook(url, app.stream);
    log.warn({ reason: `<pre>Cannot POST /hooks/${ECHOED_TOKEN}</pre>` }, "a failed request");
    log.warn({ reason: `unknown hook ${ECHOED_TOKEN}` }, "a failed request");
    expect(app.text()).toContain("Cannot POST ***");
    expect(app.text()).toContain("unknown hook ***");
    expect(app.text()).not.toContain(ECHOED_TOKEN.slice(0, 12));
  });

  it("removes a secret from a long failure before cutting it, so no part of it is sent", async () => {
    const hook = await receiver();
    const prometheusToken = "prom-bearer-7f3a9c1e5b2d4f60aa11";
    const notifier = notifierOn(hook, {
      failuresBeforeNotifying: 1,
      secrets: [prometheusToken],
    });
    // The token starts at character 290 of the reason, so a cut at 300 would keep 10 of it.
    const reason = `cluster: ${"x".repeat(281)}${prometheusToken} end`;
    await notifier.failed("octocat/infra", new Error(reason));
    await notifier.idle();
    const [text] = hook.texts();
    expect(text).toBe(
      `octocat/infra: reconcile failed 1 times in a row: cluster: ${"x".repeat(281)}*** end`,
    );
    expect(text).not.toContain(prometheusToken.slice(0, 6));
  });

  it("cuts a long failure at 300 characters", async () => {
    const hook = await receiver();
    const notifier = notifierOn(hook, { failuresBeforeNotifying: 1 });
    await notifier.failed("octocat/infra", new Error(`cluster: ${"x".repeat(991)}`));
    await notifier.idle();
    const [text] = hook.texts();
    expect(text).toBe(
      `octocat/infra: reconcile failed 1 times in a row: cluster: ${"x".repeat(291)}…`,
    );
  });

  it("sends no secret that reached a failure's text", async () => {
    const hook = await receiver();
    const token = `ghs_${"a1B2".repeat(9)}`;
    const prometheusToken = "prom-bearer-0123456789abcdef";
    const notifier = notifierOn(hook, {
      secrets: [prometheusToken],
      failuresBeforeNotifying: 1,
    });
    await notifier.failed(
      "octocat/infra",
      new Error(
        `request to https://x-access-token:${token}@github.com failed; Authorization: Bearer ${prometheusToken}`,
      ),
    );
    await notifier.idle();
    const sent = JSON.stringify(hook.posts);
    expect(hook.posts).toHaveLength(1);
    expect(sent).not.toContain(token);
    expect(sent).not.toContain(prometheusToken);
    expect(sent).toContain("reconcile failed 1 times in a row");
  });
});

describe("NOTIFY_WEBHOOK_URL", () => {
  const env = { APP_ID: "1", PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\\nx\\n-----END" };

  it("is read from the environment, and optional", () => {
    const url = `https://hooks.slack.com${HOOK_PATH}`;
    expect(readAppSettings({ ...env, NOTIFY_WEBHOOK_URL: url }, "/").notifyWebhookUrl).toBe(url);
    expect(readAppSettings(env, "/").notifyWebhookUrl).toBeUndefined();
  });

  it("refuses what is not an http(s) URL without repeating the value", () => {
    for (const value of [`hooks.slack.com${HOOK_PATH}`, `ftp://hooks.example${HOOK_PATH}`]) {
      const read = () => readAppSettings({ ...env, NOTIFY_WEBHOOK_URL: value }, "/");
      expect(read).toThrow(
        "NOTIFY_WEBHOOK_URL must be an http(s) URL (a Slack-compatible webhook)",
      );
      expect(read).not.toThrow(/hooktoken/);
    }
  });
});

describe("the running app", () => {
  it("tells the chat when it opens a scale-up pull request", async () => {
    const hook = await receiver();
    const github = new FakeGitHub(infraFiles(), NOW, mockGitHub().scope);
    const settings = testAppSettings({ webhookSecret: undefined, notifyWebhookUrl: hook.url });
    running = await startApp({
      settings,
      log: pino({ level: "silent" }),
      observe: async () => cluster({ pending: 1, plex: false }),
      timer: false,
    });
    running.trigger(`${OWNER}/${REPO}`, "start");
    await running.idle();
    const pull = github.openPulls()[0];
    expect(pull?.title).toBe("Scale workers from 3 to 4 nodes");
    expect(hook.posts.map((post) => post.body)).toEqual([
      {
        text: `${OWNER}/${REPO}: scale-up pull request opened #${pull?.number} "Scale workers from 3 to 4 nodes" https://github.com/${OWNER}/${REPO}/pull/${pull?.number}`,
      },
    ]);
  });

  it("is not held stopping by a chat that never answers: the notices left are dropped and named", async () => {
    const hook = await receiver();
    hook.answer = "hang";
    const github = new FakeGitHub(infraFiles(), NOW, mockGitHub().scope);
    const lines: { level: number; msg: string; notices?: string[] }[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    let reconciled = () => {};
    const done = new Promise<void>((resolve) => {
      reconciled = resolve;
    });
    running = await startApp({
      settings: testAppSettings({ webhookSecret: undefined, notifyWebhookUrl: hook.url }),
      log,
      observe: async () => cluster({ pending: 1, plex: false }),
      onReconciled: () => reconciled(),
      timer: false,
      stopWaitMs: 500,
      // Far past the test's own timeout: a stop that waited for the delivery would not end.
      notifyTimeoutMs: 600_000,
    });
    running.trigger(`${OWNER}/${REPO}`, "start");
    await done;
    while (hook.posts.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await running.stop();
    const pull = github.openPulls()[0];
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: "stopping: chat notices not delivered in time are dropped",
        notices: [
          `opened: ${OWNER}/${REPO}: scale-up pull request opened #${pull?.number} "Scale workers from 3 to 4 nodes" https://github.com/${OWNER}/${REPO}/pull/${pull?.number}`,
        ],
      }),
    );
    expect(lines.map((line) => line.msg)).not.toContain("could not deliver a notification");
  });
});
