import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import type { AppSettings } from "../../src/app/settings.ts";
import { type RunningApp, startApp } from "../../src/app/start-app.ts";
import { UsageError } from "../../src/errors.ts";
import { readIssueMarker } from "../../src/forge/marker.ts";
import type { Snapshot } from "../../src/planning/snapshot.ts";
import type { ReconcileResult } from "../../src/reconcile/reconcile-types.ts";
import { BOT_LOGIN, FakeGitHub } from "../reconcile/support/fake-github.ts";
import {
  CONFIG_PATH,
  cluster,
  infraFiles,
  NOW,
  TFVARS,
  tfvars,
  WORKERS_POOL,
} from "../reconcile/support/infra.ts";
import { mockGitHub } from "../support/github.ts";
import { OWNER, REPO } from "../support/github-responses.ts";
import { testAppSettings, WEBHOOK_SECRET } from "./support/app-settings.ts";
import { stopAfterEach } from "./support/stop-after-each.ts";

const SECRET = WEBHOOK_SECRET;
const BRANCH = "pr-autoscaler/nodes-workers";
const settings = testAppSettings;

/** A webhook payload as JSON, changed freely by the tests (its shape is GitHub's). */
// biome-ignore lint/suspicious/noExplicitAny: payloads are GitHub's JSON, edited field by field.
type Payload = Record<string, any>;

/** A payload GitHub published for the event (test/fixtures/webhooks), moved to the test repository. */
function payload(file: string, change: (event: Payload) => void = () => {}): string {
  const event = JSON.parse(
    readFileSync(new URL(`../fixtures/webhooks/${file}`, import.meta.url), "utf8"),
  );
  event.repository = {
    ...event.repository,
    name: REPO,
    full_name: `${OWNER}/${REPO}`,
    default_branch: "main",
  };
  event.repository.owner = { ...event.repository.owner, login: OWNER };
  event.installation = { id: 42, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI=" };
  change(event);
  return JSON.stringify(event);
}

/** GitHub's delivery for a person's pull request `number` opened from `branch` at `head`. */
function pullRequestOpened(number: number, branch: string, head: string): string {
  return payload("pull_request.opened.json", (event) => {
    event.number = number;
    event.pull_request.number = number;
    event.pull_request.head = {
      ...event.pull_request.head,
      ref: branch,
      sha: head,
      repo: { ...event.repository },
    };
  });
}

function signature(body: string, secret = SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Posts a delivery; `sign` null sends it without a signature. */
async function deliver(
  app: RunningApp,
  event: string,
  body: string,
  sign: string | null = signature(body),
) {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-github-event": event,
    "x-github-delivery": crypto.randomUUID(),
  };
  if (sign !== null) headers["x-hub-signature-256"] = sign;
  return fetch(`${app.url}/api/github/webhooks`, { method: "POST", headers, body });
}

interface Running {
  app: RunningApp;
  github: FakeGitHub;
  results: ReconcileResult[];
}

const stopped = stopAfterEach();

async function start(
  options: {
    settings?: Partial<AppSettings>;
    pending?: number;
    timer?: boolean;
    files?: Map<string, string>;
  } = {},
): Promise<Running> {
  const github = new FakeGitHub(options.files ?? infraFiles(), NOW, mockGitHub().scope);
  github.permissions.set("alice", "write");
  const results: ReconcileResult[] = [];
  const app = await startApp({
    settings: settings(options.settings),
    log: pino({ level: process.env.TEST_LOG ?? "silent" }),
    observe: async () => cluster({ pending: options.pending ?? 0, plex: false }),
    onReconciled: (result) => results.push(result),
    timer: options.timer ?? false,
  });
  return { app: stopped(app), github, results };
}

describe("webhooks through Probot's middleware on a real HTTP server", () => {
  it("refuses a delivery without a signature, or with a wrong one, and does nothing", async () => {
    const { app, github, results } = await start({ pending: 1 });
    const body = payload("push.json", (event) => {
      event.ref = "refs/heads/main";
    });
    const unsigned = await deliver(app, "push", body, null);
    expect(unsigned.status).toBe(400);
    expect(await unsigned.text()).toContain("Required headers missing: x-hub-signature-256");
    const wrong = await deliver(app, "push", body, signature(body, "not the secret"));
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain("signature does not match event payload and secret");
    await app.idle();
    expect(results).toEqual([]);
    expect(github.pulls.size).toBe(0);
  });

  it("reconciles soon after a signed push to the default branch", async () => {
    const { app, github, results } = await start({ pending: 1 });
    const body = payload("push.json", (event) => {
      event.ref = "refs/heads/main";
    });
    const answer = await deliver(app, "push", body);
    expect(answer.status).toBe(200);
    await app.idle();
    expect(results.map((result) => result.pullRequests.map((o) => o.action))).toEqual([
      ["created"],
    ]);
    expect(github.openPulls().map((pull) => pull.title)).toEqual([
      "Scale workers from 3 to 4 nodes",
    ]);
  });

  it("ignores a push to another branch", async () => {
    const { app, results } = await start({ pending: 1 });
    const body = payload("push.json", (event) => {
      event.ref = "refs/heads/feature";
    });
    expect((await deliver(app, "push", body)).status).toBe(200);
    await app.idle();
    expect(results).toEqual([]);
  });

  it("reacts to a command comment from a person, never to a bot's", async () => {
    const { app, github, results } = await start();
    app.trigger(`${OWNER}/${REPO}`, "start");
    await app.idle();
    const dashboard = github.botIssue("dashboard")?.number ?? 0;
    github.comment(dashboard, "/autoscaler pause", BOT_LOGIN, true);
    const fromBot = payload("issue_comment.created.json", (event) => {
      event.comment.body = "/autoscaler pause";
      event.sender = { ...event.sender, login: BOT_LOGIN, type: "Bot" };
    });
    expect((await deliver(app, "issue_comment", fromBot)).status).toBe(200);
    await app.idle();
    expect(results).toHaveLength(1);
    const id = github.comment(dashboard, "/autoscaler pause");
    const fromPerson = payload("issue_comment.created.json", (event) => {
      event.comment.body = "/autoscaler pause";
      event.sender = { ...event.sender, login: "alice", type: "User" };
    });
    expect((await deliver(app, "issue_comment", fromPerson)).status).toBe(200);
    await app.idle();
    expect(results).toHaveLength(2);
    expect(results[1]?.paused).toBe(true);
    expect(github.reactions).toEqual([{ commentId: id, content: "+1", login: BOT_LOGIN }]);
  });

  it("checks the configuration of a person's pull request that changes it", async () => {
    const { app, github } = await start();
    github.branch("tune");
    const head = github.push({ [CONFIG_PATH]: "pools:\n  - name: workers\n" }, { branch: "tune" });
    const pull = github.openPull("tune", "Tune the autoscaler");
    const body = pullRequestOpened(pull.number, "tune", head);
    expect((await deliver(app, "pull_request", body)).status).toBe(200);
    expect(github.checkRuns).toEqual([
      expect.objectContaining({
        name: "pr-autoscaler/config",
        headSha: head,
        conclusion: "failure",
      }),
    ]);
    expect(github.checkRuns[0]?.annotations[0]).toMatchObject({ path: CONFIG_PATH, start_line: 2 });
  });

  it("checks a person's pull request that changes a target the configuration names, once a reconcile read it", async () => {
    // A target whose name tells no format: only the configuration says it holds a count.
    const file = "terraform/workers.hcl";
    const config = `pools:\n  - name: workers\n    target: { file: ${file}, path: worker_count, format: tfvars }\n    max: 6\n`;
    const files = new Map([...infraFiles({ config }), [file, "worker_count = 3\n"]]);
    const { app, github } = await start({ files });
    github.branch("rename");
    const head = github.push({ [file]: "workers = 3\n" }, { branch: "rename" });
    const pull = github.openPull("rename", "Rename the worker count");
    const body = pullRequestOpened(pull.number, "rename", head);
    expect((await deliver(app, "pull_request", body)).status).toBe(200);
    expect(github.checkRuns).toEqual([]);
    app.trigger(`${OWNER}/${REPO}`, "start");
    await app.idle();
    expect((await deliver(app, "pull_request", body)).status).toBe(200);
    const check = github.checkRuns.find((run) => run.name === "pr-autoscaler/config");
    expect(check).toMatchObject({ headSha: head, conclusion: "failure" });
    expect(check?.annotations[0]).toMatchObject({ path: file, start_line: 1 });
  });

  it("checks a person's pull request that moves a target away, which GitHub lists by its new name", async () => {
    const { app, github } = await start();
    github.branch("move");
    const head = github.push(
      { [TFVARS]: null, "terraform/main.tfvars": tfvars(3) },
      { branch: "move" },
    );
    const pull = github.openPull("move", "Move the variables");
    expect(
      (await deliver(app, "pull_request", pullRequestOpened(pull.number, "move", head))).status,
    ).toBe(200);
    const check = github.checkRuns.find((run) => run.name === "pr-autoscaler/config");
    expect(check).toMatchObject({ headSha: head, conclusion: "failure" });
    expect(check?.annotations).toEqual([
      expect.objectContaining({
        path: CONFIG_PATH,
        start_line: 4,
        message: `pools[0].target.file: ${TFVARS} does not exist in the repo; the app holds pool workers until it can read the count`,
      }),
    ]);
  });

  it("serves health and metrics", async () => {
    const { app } = await start();
    app.trigger(`${OWNER}/${REPO}`, "start");
    await app.idle();
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain(
      'pr_autoscaler_reconciles_total{repository="octocat/Hello-World",status="ok"} 1',
    );
    expect(metrics).toContain(
      'pr_autoscaler_reconcile_duration_seconds_count{repository="octocat/Hello-World"} 1',
    );
    expect(metrics).toContain("pr_autoscaler_process_cpu_seconds_total");
  });
});

describe("a push to the bot's pull request, GitHub's auto-merge on by the bot", () => {
  const GUARD = "pr-autoscaler/plan-guard";

  /** The bot's pull request #1, 3 → 4 workers, whose auto-merge the bot turned on. */
  async function autoMerging(): Promise<Running> {
    const running = await start({ pending: 1 });
    const { app, github } = running;
    github.allowAutoMerge = true;
    github.requiredChecks.push(GUARD);
    github.push({
      [CONFIG_PATH]: `${WORKERS_POOL}automerge:
  rules:
    - name: add-a-node
      match: { kind: nodes, direction: up }
      action: merge
      requiredChecks: [${GUARD}]
`,
    });
    app.trigger(`${OWNER}/${REPO}`, "start");
    await app.idle();
    expect(github.pull(1).autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });
    return running;
  }

  /** GitHub's synchronize webhook for pull request #1 as it is now, pushed by `login`. */
  function synchronized(github: FakeGitHub, login: string): string {
    const pull = github.pull(1);
    return payload("pull_request.synchronize.json", (event) => {
      event.number = pull.number;
      event.pull_request.number = pull.number;
      event.pull_request.node_id = pull.nodeId;
      event.pull_request.head = {
        ...event.pull_request.head,
        ref: pull.branch,
        sha: pull.headSha,
        repo: { ...event.repository },
      };
      event.pull_request.auto_merge = pull.autoMerge && {
        enabled_by: { ...event.sender, login: pull.autoMerge.by, type: "Bot" },
        merge_method: pull.autoMerge.method,
        commit_title: null,
        commit_message: null,
      };
      const type = login.endsWith("[bot]") ? "Bot" : "User";
      event.sender = { ...event.sender, login, type };
    });
  }

  it("by a person: the auto-merge is off when the delivery is answered, and the pull request left to them", async () => {
    const { app, github, results } = await autoMerging();
    // Someone with write access pushes: GitHub keeps the auto-merge on.
    github.push({ "notes.md": "four, please\n" }, { branch: BRANCH, login: "alice" });
    github.reset();
    expect((await deliver(app, "pull_request", synchronized(github, "alice"))).status).toBe(200);
    expect(github.calls()[0]).toBe("POST /graphql disablePullRequestAutoMerge");
    expect(github.pull(1).autoMerge).toBeNull();
    github.setStatus(github.pull(1).headSha, GUARD, "success");
    expect(github.pull(1)).toMatchObject({ state: "open", mergedAt: null });
    // The reconcile it asked for finds the head is not the bot's and says so.
    await app.idle();
    expect(results.at(-1)?.pullRequests).toEqual([
      expect.objectContaining({ number: 1, action: "human-edited" }),
    ]);
    expect(github.commentsOn(1).at(-1)?.body).toContain("leaves this pull request to you");
  });

  it("by the bot itself: nothing asked, nothing reconciled", async () => {
    const { app, github, results } = await autoMerging();
    github.reset();
    expect((await deliver(app, "pull_request", synchronized(github, BOT_LOGIN))).status).toBe(200);
    await app.idle();
    expect(github.calls()).toEqual([]);
    expect(results).toHaveLength(1);
    expect(github.pull(1).autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });
  });
});

describe("without webhooks", () => {
  it("serves no webhook endpoint and keeps the repository in step with the loop alone", async () => {
    const { app, github, results } = await start({
      settings: { webhookSecret: undefined },
      timer: true,
    });
    const body = payload("push.json");
    expect((await deliver(app, "push", body)).status).toBe(404);
    await app.idle();
    expect(results.map((result) => result.dashboard)).toEqual(["created"]);
    expect(github.botIssue("dashboard")).toBeDefined();
  });

  it("finds the listed repositories through their installation", async () => {
    const { app, github, results } = await start({
      settings: { repositories: [`${OWNER}/${REPO}`] },
      timer: true,
    });
    await app.idle();
    expect(results.map((result) => result.repository)).toEqual([`${OWNER}/${REPO}`]);
    expect(github.calls()).toContain("GET /installation");
  });
});

describe("a GitHub that does not answer", () => {
  it("gives up on a request never answered, and the reconcile goes on", async () => {
    const github = new FakeGitHub(infraFiles(), NOW, mockGitHub().scope);
    const results: ReconcileResult[] = [];
    const app = await startApp({
      settings: settings(),
      log: pino({ level: "silent" }),
      observe: async () => cluster({ pending: 1, plex: false }),
      onReconciled: (result) => results.push(result),
      timer: false,
      // Every other request must be answered within it. The checked mock compiles GitHub's
      // schemas as it meets them, so a file's first answers take a second or two (at 300 ms this
      // test failed when run alone, and at 5 s on a machine with two cores and a load of 10),
      // and on a loaded machine any answer of the fake GitHub, in this process, can wait for
      // seconds more.
      githubTimeoutMs: 10_000,
    });
    stopped(app);
    // The reconcile's first request hangs, as on a half-open connection: it is given up and
    // asked again (a failed request is retried), and the reconcile ends.
    github.failRequest(1, { acts: false, answer: "none" });
    app.trigger(`${OWNER}/${REPO}`, "start");
    await app.idle();
    expect(github.log.filter((entry) => entry.status === 0)).toHaveLength(1);
    expect(results.map((result) => result.pullRequests.map((o) => o.action))).toEqual([
      ["created"],
    ]);
  }, 60_000);

  it("does not hold a stopping replica past its wait: stop lets go of a reconcile still running, which sends GitHub nothing more", async () => {
    const github = new FakeGitHub(infraFiles(), NOW, mockGitHub().scope);
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const app = await startApp({
      settings: settings(),
      log,
      observe: async () => cluster({ pending: 1, plex: false }),
      timer: false,
      // Far longer than the stop's wait. Were the hung request left open past the stop, it would
      // be given up after this and asked again, and the reconcile would go on writing, in this
      // fake or, once this file ended, in the next file's of the same jest worker.
      githubTimeoutMs: 10_000,
      stopWaitMs: 200,
    });
    github.failRequest(1, { acts: false, answer: "none" });
    app.trigger(`${OWNER}/${REPO}`, "start");
    while (!github.log.some((entry) => entry.status === 0))
      await new Promise((resolve) => setTimeout(resolve, 10));
    await app.stop();
    const sent = github.log.length;
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: expect.stringMatching(
          /^stopping: a reconcile is still running; the Lease is released/,
        ),
      }),
    );
    // The reconcile the stop let go of ends at its open request, and sends nothing after it.
    await app.idle();
    expect(github.log.slice(sent).map((entry) => entry.call)).toEqual([]);
    expect(github.pulls.size).toBe(0);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: "reconcile given up: the app stopped before it ended (the next leader resumes it)",
      }),
    );
  });
});

describe("stopping", () => {
  it("lets the running reconcile finish: the write under way when the stop begins, and the steps after it", async () => {
    const github = new FakeGitHub(infraFiles(), NOW, mockGitHub().scope);
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const results: ReconcileResult[] = [];
    const app = await startApp({
      settings: settings(),
      log,
      observe: async () => cluster({ pending: 1, plex: false }),
      onReconciled: (result) => results.push(result),
      timer: false,
    });
    let stopping: Promise<void> | undefined;
    // The stop begins while GitHub serves the request that opens the pull request.
    github.during("POST", /^\/pulls$/, () => {
      stopping = app.stop();
    });
    app.trigger(`${OWNER}/${REPO}`, "start");
    while (!stopping) await new Promise((resolve) => setTimeout(resolve, 10));
    await stopping;
    expect(results.map((result) => result.pullRequests.map((o) => o.action))).toEqual([
      ["created"],
    ]);
    expect(results.map((result) => result.errors)).toEqual([[]]);
    expect(github.openPulls().map((pull) => pull.title)).toEqual([
      "Scale workers from 3 to 4 nodes",
    ]);
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
  });
});

describe("a Kubernetes API that does not answer", () => {
  it("does not hold a stopping replica past its wait: the look for readiness is let go of", async () => {
    new FakeGitHub(infraFiles(), NOW, mockGitHub().scope);
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    let looked = () => {};
    const looking = new Promise<void>((resolve) => {
      looked = resolve;
    });
    const app = await startApp({
      settings: settings(),
      log,
      // The read at start, which keeps readiness fresh, never ends.
      observe: () => {
        looked();
        return new Promise<Snapshot>(() => {});
      },
      timer: false,
      stopWaitMs: 200,
    });
    await looking;
    // Were the read waited for, this would never resolve (the test would time out).
    await app.stop();
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: "stopping: a read of the cluster or GitHub for readiness is still running; the Lease is released anyway",
      }),
    );
  });
});

describe("a GitHub that acted but whose answer was lost", () => {
  it("opened the dashboard and answered 502: the next reconcile finds it, none is opened twice", async () => {
    const { app, github, results } = await start({ pending: 1 });
    github.fail("POST", /^\/issues$/, 502, "Bad Gateway", 1, true);
    app.trigger(`${OWNER}/${REPO}`, "start");
    await app.idle();
    github.advance(60_000);
    app.trigger(`${OWNER}/${REPO}`, "timer");
    await app.idle();
    const dashboards = () =>
      [...github.issues.values()].filter(
        (issue) => readIssueMarker(issue.body)?.key === "dashboard",
      );
    expect(github.calls().filter((call) => call === "POST /issues")).toHaveLength(1);
    expect(dashboards().map((issue) => issue.number)).toEqual([2]);
    expect(results.map((result) => result.dashboard)).toEqual(["failed", "unchanged"]);
  });

  it("created the configuration's check run and answered 502: the retry's run, the same, is the one shown, and no replica sends a third", async () => {
    const github = new FakeGitHub(
      infraFiles({ config: "pools:\n  - name: workers\n" }),
      NOW,
      mockGitHub().scope,
    );
    const results: ReconcileResult[] = [];
    const run = async () => {
      const app = await startApp({
        settings: settings(),
        log: pino({ level: process.env.TEST_LOG ?? "silent" }),
        observe: async () => cluster({ pending: 0, plex: false }),
        onReconciled: (result) => results.push(result),
        timer: false,
      });
      try {
        app.trigger(`${OWNER}/${REPO}`, "start");
        await app.idle();
      } finally {
        await app.stop();
      }
    };
    github.fail("POST", /^\/check-runs$/, 502, "Bad Gateway", 1, true);
    await run();
    // Sent again after the lost answer: GitHub holds two runs of the same name and content,
    // and shows the later one only (its list, filter=latest, holds it alone).
    expect(github.calls().filter((call) => call === "POST /check-runs")).toHaveLength(2);
    const [first, second] = github.checkRuns;
    expect(second).toEqual({ ...first, id: second?.id });
    expect(results.map((result) => [result.status, result.errors])).toEqual([["config-error", []]]);
    // Another replica, or this one started again, finds the report on the commit: none is sent.
    await run();
    expect(github.calls().filter((call) => call === "POST /check-runs")).toHaveLength(2);
    expect(github.checkRuns).toHaveLength(2);
  });
});

describe("starting", () => {
  it("names PORT when the port is taken, instead of failing with a stack", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    new FakeGitHub(infraFiles(), NOW, mockGitHub().scope);
    try {
      const started = startApp({
        settings: settings({ port }),
        log: pino({ level: "silent" }),
        timer: false,
      });
      await expect(started).rejects.toThrow(
        new UsageError(`PORT ${port} is in use on 127.0.0.1 port ${port}: set PORT to a free port`),
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("says plainly when GitHub does not accept the app's credentials", async () => {
    const github = new FakeGitHub(infraFiles(), NOW, mockGitHub().scope);
    github.fail("GET", /^\/app$/, 401, "A JSON web token could not be decoded");
    await expect(
      startApp({ settings: settings(), log: pino({ level: "silent" }), timer: false }),
    ).rejects.toThrow(
      "cannot authenticate as the GitHub App (check APP_ID and the private key): A JSON web token could not be decoded",
    );
  });
});
