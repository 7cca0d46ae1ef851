import { createHmac, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { type AddressInfo, connect } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { createNodeMiddleware, createProbot } from "probot";
import { Registry } from "prom-client";
import { createAppServer } from "../../src/app/server.ts";
import { MAX_PAYLOAD_BYTES, webhookApp } from "../../src/app/webhooks.ts";

const SECRET = "It's a Secret to Everybody";
const PATH = "/api/github/webhooks";

/** A payload GitHub published for the event (test/fixtures/webhooks), changed by `change`. */
// biome-ignore lint/suspicious/noExplicitAny: payloads are GitHub's JSON, edited field by field.
function payload(file: string, change: (event: Record<string, any>) => void = () => {}): string {
  const event = JSON.parse(
    readFileSync(new URL(`../fixtures/webhooks/${file}`, import.meta.url), "utf8"),
  );
  change(event);
  return JSON.stringify(event);
}

function signature(body: string, secret = SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

const asked: unknown[] = [];
const warnings: string[] = [];
let server: ReturnType<typeof createAppServer>;
let url = "";

beforeAll(async () => {
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const log = pino({ level: "warn" }, { write: (line: string) => void warnings.push(line) });
  const probot = createProbot({
    env: {},
    overrides: { appId: 1, privateKey, secret: SECRET, log },
  });
  // The composition start-app.ts makes, with actions that only record what they are asked.
  const webhooks = await createNodeMiddleware(
    webhookApp({
      trigger: (repository, reason) => void asked.push({ trigger: repository, reason }),
      checkPullRequest: async (repository, pull) => void asked.push({ check: repository, pull }),
      botBranchPushed: async (repository, push) => void asked.push({ pushed: repository, push }),
      installationChanged: async () => void asked.push("installation"),
    }),
    { probot, webhooksPath: PATH },
  );
  server = createAppServer({ registry: new Registry(), webhooks });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  asked.length = 0;
  warnings.length = 0;
});

async function deliver(event: string, body: string, sign = signature(body)) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      "x-hub-signature-256": sign,
    },
    body,
  });
  return { status: response.status, text: await response.text() };
}

const defaultPush = payload("push.json", (event) => {
  event.ref = `refs/heads/${event.repository.default_branch}`;
});

describe("deliveries the app must not act on", () => {
  it("refuses a push signed with another secret, and asks for no reconcile", async () => {
    const answer = await deliver("push", defaultPush, signature(defaultPush, "not the secret"));
    expect(answer.status).toBe(400);
    expect(answer.text).toContain("signature does not match");
    expect(asked).toEqual([]);
    // The same delivery signed rightly does: the refusal was the signature's.
    expect((await deliver("push", defaultPush)).status).toBe(200);
    expect(asked).toEqual([{ trigger: "Codertocat/Hello-World", reason: "push" }]);
  });

  it("refuses a signed body that is JSON but not an object, instead of failing with 500", async () => {
    for (const body of ["null", "5", '"push"', "[]"]) {
      const answer = await deliver("push", body);
      expect(answer).toEqual({
        status: 400,
        text: JSON.stringify({ error: "push webhook: the payload is not a JSON object" }),
      });
    }
    expect(asked).toEqual([]);
  });

  it("refuses an installation whose id is not a number, which Probot would fail on", async () => {
    const body = payload("push.json", (event) => {
      event.installation = { id: "957387" };
    });
    const answer = await deliver("push", body);
    expect(answer.status).toBe(400);
    expect(answer.text).toContain("installation.id");
    expect(asked).toEqual([]);
  });

  it("refuses a body larger than GitHub ever sends, and serves the next delivery", async () => {
    const body = payload("issue_comment.created.json", (event) => {
      event.comment.body = "x".repeat(MAX_PAYLOAD_BYTES);
    });
    const answer = await deliver("issue_comment", body);
    expect(answer.status).toBe(413);
    expect(answer.text).toContain("larger than 25 MB");
    expect((await deliver("push", defaultPush)).status).toBe(200);
    expect(asked).toEqual([{ trigger: "Codertocat/Hello-World", reason: "push" }]);
  });

  it("answers 413 to a client still sending a body over the limit, instead of resetting", async () => {
    const { port } = new URL(url);
    const socket = connect(Number(port), "127.0.0.1");
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => void received.push(chunk));
    const closed = new Promise<void>((resolve) => {
      socket.on("error", () => resolve());
      socket.on("close", () => resolve());
    });
    socket.write(
      `POST ${PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-github-event: issue_comment\r\n` +
        "content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    // A client that sends in pieces, as a slow link does, still has most of its body to send
    // when the server has read past the limit.
    const piece = Buffer.alloc(1024 * 1024, "x");
    for (let sent = 0; sent <= MAX_PAYLOAD_BYTES + 8 * piece.length && !socket.destroyed; ) {
      const flushed = socket.write(`${piece.length.toString(16)}\r\n`);
      socket.write(piece);
      socket.write("\r\n");
      sent += piece.length;
      if (!flushed)
        await Promise.race([new Promise((resolve) => socket.once("drain", resolve)), closed]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (!socket.destroyed) socket.end("0\r\n\r\n");
    await closed;
    const answer = Buffer.concat(received).toString("utf8");
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain("larger than 25 MB");
  });
});

describe("every payload GitHub publishes for the events the app takes", () => {
  const events = [
    "push",
    "pull_request",
    "pull_request_review",
    "issue_comment",
    "check_suite",
    "status",
    "installation",
    "installation_repositories",
  ];
  const published = (
    createRequire(import.meta.url)("@octokit/webhooks-examples/api.github.com/index.json") as {
      name: string;
      examples: Record<string, unknown>[];
    }[]
  ).filter((entry) => events.includes(entry.name));

  it("is accepted and read without a warning", async () => {
    expect(published.map((entry) => entry.name).sort()).toEqual([...events].sort());
    for (const { name, examples } of published)
      for (const example of examples) {
        const answer = await deliver(name, JSON.stringify(example));
        expect({ name, action: example.action, status: answer.status }).toEqual({
          name,
          action: example.action,
          status: 200,
        });
      }
    expect(warnings).toEqual([]);
    expect(asked).toContainEqual({ trigger: "Codertocat/Hello-World", reason: "checks" });
    expect(asked).toContain("installation");
  });
});

describe("payloads that are not GitHub's shape", () => {
  it("are acknowledged, do nothing, and a warning names the event and the field", async () => {
    const body = payload("pull_request.opened.json", (event) => {
      event.pull_request.number = -1;
    });
    expect((await deliver("pull_request", body)).status).toBe(200);
    expect(asked).toEqual([]);
    expect(warnings.join("\n")).toContain(
      "ignored a pull_request webhook whose payload is not GitHub's: pull_request.number:",
    );
  });

  it("never ask for a reconcile of something that is not owner/name", async () => {
    for (const name of ["../../etc/passwd", "octocat/hello/world", "octocat/..", "octocat"]) {
      const body = payload("push.json", (event) => {
        event.ref = `refs/heads/${event.repository.default_branch}`;
        event.repository.full_name = name;
      });
      expect((await deliver("push", body)).status).toBe(200);
    }
    expect(asked).toEqual([]);
    expect(warnings.filter((line) => line.includes("repository.full_name"))).toHaveLength(4);
  });
});

describe("reviews", () => {
  it("ask for a look at the bot's own pull request, not at people's or a fork's", async () => {
    const review = (ref: string, fork = false) =>
      payload("pull_request_review.submitted.json", (event) => {
        event.review.state = "approved";
        event.pull_request.head.ref = ref;
        if (fork) event.pull_request.head.repo.full_name = "someone/Hello-World";
      });
    expect((await deliver("pull_request_review", review("changes"))).status).toBe(200);
    expect(
      (await deliver("pull_request_review", review("pr-autoscaler/nodes-workers", true))).status,
    ).toBe(200);
    expect(asked).toEqual([]);
    expect(
      (await deliver("pull_request_review", review("pr-autoscaler/nodes-workers"))).status,
    ).toBe(200);
    expect(asked).toEqual([{ trigger: "Codertocat/Hello-World", reason: "pull-request" }]);
    expect(warnings).toEqual([]);
  });
});

describe("pull requests", () => {
  it("reopened: the bot's own asks for a reconcile, people's and a fork's for a config check", async () => {
    const reopened = (ref: string, fork = false) =>
      payload("pull_request.reopened.json", (event) => {
        event.pull_request.head.ref = ref;
        if (fork) event.pull_request.head.repo.full_name = "someone/Hello-World";
      });
    expect((await deliver("pull_request", reopened("changes"))).status).toBe(200);
    expect(
      (await deliver("pull_request", reopened("pr-autoscaler/nodes-workers", true))).status,
    ).toBe(200);
    expect(asked).toEqual([
      { check: "Codertocat/Hello-World", pull: expect.objectContaining({ fromFork: false }) },
      { check: "Codertocat/Hello-World", pull: expect.objectContaining({ fromFork: true }) },
    ]);
    asked.length = 0;
    expect((await deliver("pull_request", reopened("pr-autoscaler/nodes-workers"))).status).toBe(
      200,
    );
    expect(asked).toEqual([{ trigger: "Codertocat/Hello-World", reason: "pull-request" }]);
    expect(warnings).toEqual([]);
  });
});

describe("pushes to a pull request's branch (synchronize)", () => {
  const pushed = (ref: string, change: Parameters<typeof payload>[1] = () => {}) =>
    payload("pull_request.synchronize.json", (event) => {
      event.pull_request.head.ref = ref;
      change(event);
    });

  it("to the bot's branch: asked at once, with who pushed and who turned auto-merge on", async () => {
    const withAutoMerge = pushed("pr-autoscaler/nodes-workers", (event) => {
      event.pull_request.auto_merge = {
        enabled_by: { ...event.sender, login: "pr-autoscaler[bot]", type: "Bot" },
        merge_method: "squash",
        commit_title: null,
        commit_message: null,
      };
    });
    expect((await deliver("pull_request", withAutoMerge)).status).toBe(200);
    expect((await deliver("pull_request", pushed("pr-autoscaler/nodes-workers"))).status).toBe(200);
    const push = {
      number: 2,
      nodeId: "MDExOlB1bGxSZXF1ZXN0Mjc5MTQ3NDM3",
      pusher: "Codertocat",
    };
    expect(asked).toEqual([
      { pushed: "Codertocat/Hello-World", push: { ...push, autoMergeBy: "pr-autoscaler[bot]" } },
      { pushed: "Codertocat/Hello-World", push: { ...push, autoMergeBy: undefined } },
    ]);
    expect(warnings).toEqual([]);
  });

  it("to people's branch or a fork's: the configuration check, as before", async () => {
    const fork = pushed("pr-autoscaler/nodes-workers", (event) => {
      event.pull_request.head.repo.full_name = "someone/Hello-World";
    });
    expect((await deliver("pull_request", pushed("changes"))).status).toBe(200);
    expect((await deliver("pull_request", fork)).status).toBe(200);
    expect(asked).toEqual([
      { check: "Codertocat/Hello-World", pull: expect.objectContaining({ fromFork: false }) },
      { check: "Codertocat/Hello-World", pull: expect.objectContaining({ fromFork: true }) },
    ]);
  });

  it("without the pull request's id or the sender: a warning naming the field, nothing asked", async () => {
    const body = pushed("pr-autoscaler/nodes-workers", (event) => {
      delete event.pull_request.node_id;
    });
    expect((await deliver("pull_request", body)).status).toBe(200);
    expect(asked).toEqual([]);
    expect(warnings.join("\n")).toContain("pull_request.node_id:");
  });
});

describe("comments", () => {
  it("ask for a reconcile only when they hold a command that is not quoted or shown as code", async () => {
    const comment = (text: string) =>
      payload("issue_comment.created.json", (event) => {
        event.comment.body = text;
      });
    for (const text of ["> /autoscaler pause", "```\n/autoscaler pause\n```", "run /autoscaler"])
      expect((await deliver("issue_comment", comment(text))).status).toBe(200);
    expect(asked).toEqual([]);
    expect((await deliver("issue_comment", comment("Later.\r\n/Autoscaler pause"))).status).toBe(
      200,
    );
    expect(asked).toEqual([{ trigger: "Codertocat/Hello-World", reason: "comment" }]);
  });
});
