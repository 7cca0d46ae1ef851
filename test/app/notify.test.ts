import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import nock from "nock";
import { pino } from "pino";
import { createNotifier, postNotification, reconcileNotifications } from "../../src/app/notify.ts";
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

async function receiver(): Promise<Receiver> {
  const state: Receiver = { url: "", posts: [], answer: 200 };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.method !== "POST" || request.url !== HOOK_PATH) {
        response.writeHead(404).end("no_service");
        return;
      }
      state.posts.push({
        contentType: request.headers["content-type"],
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
      });
      if (state.answer === "hang") return;
      response.writeHead(state.answer, { "content-type": "text/plain" });
      response.end(state.answer === 200 ? "ok" : "invalid_payload");
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${HOOK_PATH}`;
  return state;
}

function captured(): { log: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { log: pino({ level: "debug" }, stream), text: () => chunks.join("") };
}

const PULL = "https://github.com/octocat/infra/pull";

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
    expect(hook.posts.map((post) => (post.body as { text: string }).text)).toEqual([
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
    const { log } = captured();
    const notifier = createNotifier({ url: hook.url, log });
    const clusterError = reconcileResult({
      status: "cluster-error",
      errors: ["cluster: cannot list nodes: connect ECONNREFUSED 10.0.0.1:6443"],
    });
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
    expect(hook.posts.map((post) => (post.body as { text: string }).text)).toEqual([
      "octocat/infra: reconcile failed 3 times in a row: GitHub answered 502",
      "octocat/infra: reconciles work again",
    ]);
  });

  it("leaves failure streaks to the leader, and still tells what this replica did", async () => {
    const hook = await receiver();
    const { log } = captured();
    let leader = false;
    const notifier = createNotifier({ url: hook.url, log, tellsHealth: () => leader });
    const clusterError = reconcileResult({
      status: "cluster-error",
      errors: ["cluster: unreachable"],
    });
    for (let i = 0; i < 3; i++) await notifier.reconciled(clusterError);
    await notifier.reconciled(reconcileResult());
    await notifier.reconciled(
      reconcileResult({
        pullRequests: [{ key: "nodes-workers", action: "created", number: 7, url: `${PULL}/7` }],
      }),
    );
    leader = true;
    for (let i = 0; i < 3; i++) await notifier.failed("octocat/infra", new Error("GitHub 502"));
    await notifier.idle();
    expect(hook.posts.map((post) => (post.body as { text: string }).text)).toEqual([
      `octocat/infra: node count pull request opened #7 ${PULL}/7`,
      "octocat/infra: reconcile failed 3 times in a row: GitHub 502",
    ]);
  });

  it("logs a failed delivery without the URL, and the reconcile goes on", async () => {
    const hook = await receiver();
    hook.answer = 500;
    const { log, text } = captured();
    const delivered: string[] = [];
    const notifier = createNotifier({
      url: hook.url,
      log,
      onDelivery: (event, outcome) => delivered.push(`${event} ${outcome}`),
    });
    await expect(
      notifier.reconciled(
        reconcileResult({
          pullRequests: [{ key: "nodes-workers", action: "created", number: 7, url: `${PULL}/7` }],
        }),
      ),
    ).resolves.toBeUndefined();
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

  it("sends no secret that reached a failure's text", async () => {
    const hook = await receiver();
    const { log } = captured();
    const token = `ghs_${"a1B2".repeat(9)}`;
    const prometheusToken = "prom-bearer-0123456789abcdef";
    const notifier = createNotifier({
      url: hook.url,
      log,
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
});
