/**
 * Two replicas of the app (two `startApp`s, each with its own HTTP server) sharing one GitHub
 * (nock) and one Kubernetes API (the fake API server on 127.0.0.1): the Lease's holder alone
 * runs the timer; webhooks work on either.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import nock from "nock";
import { pino } from "pino";
import type { AppSettings } from "../../src/app/settings.ts";
import { type RunningApp, startApp } from "../../src/app/start-app.ts";
import type { ReconcileResult } from "../../src/reconcile/reconcile-types.ts";
import { FakeGitHub } from "../reconcile/support/fake-github.ts";
import { cluster, infraFiles, NOW } from "../reconcile/support/infra.ts";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";
import { mockGitHub } from "../support/github.ts";
import { OWNER, REPO } from "../support/github-responses.ts";
import { testAppSettings, WEBHOOK_SECRET } from "./support/app-settings.ts";

const SECRET = WEBHOOK_SECRET;
const namespace = "pr-autoscaler";

let dir: string;
let fake: FakeKubeApiserver;
let kubeconfig: string;
const apps: RunningApp[] = [];

beforeAll(async () => {
  // The apps' own servers and the Kubernetes API; GitHub stays behind nock.
  nock.enableNetConnect("127.0.0.1");
  dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-replicas-"));
  fake = await FakeKubeApiserver.start();
  kubeconfig = await fake.writeKubeconfig(join(dir, "kubeconfig"));
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

afterAll(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

function settings(identity: string): AppSettings {
  return testAppSettings({
    kubeconfig,
    leaderElection: { lease: "pr-autoscaler", namespace, identity },
  });
}

async function replica(identity: string, results: ReconcileResult[]): Promise<RunningApp> {
  const app = await startApp({
    settings: settings(identity),
    log: pino({ level: process.env.TEST_LOG ?? "silent" }),
    observe: async () => cluster({ pending: 0, plex: false }),
    onReconciled: (result) => results.push(result),
    // Failover here comes from the release on stop, never from expiry: a long lease keeps a
    // loaded machine from taking the lead away from replica-a mid-test.
    election: { leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 50 },
  });
  apps.push(app);
  return app;
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string) {
  const until = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function leaderGauge(app: RunningApp): Promise<string | undefined> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  return /^pr_autoscaler_leader (\S+)$/m.exec(text)?.[1];
}

function push(): { body: string; headers: Record<string, string> } {
  // A payload GitHub published for the event (test/fixtures/webhooks), moved to the test repository.
  const event = JSON.parse(
    readFileSync(new URL("../fixtures/webhooks/push.json", import.meta.url), "utf8"),
  );
  event.ref = "refs/heads/main";
  event.repository = {
    ...event.repository,
    name: REPO,
    full_name: `${OWNER}/${REPO}`,
    default_branch: "main",
  };
  event.repository.owner = { ...event.repository.owner, login: OWNER };
  event.installation = { id: 42, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI=" };
  const body = JSON.stringify(event);
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": crypto.randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
    },
  };
}

describe("two replicas with leader election", () => {
  it("only the leader's timer reconciles; the follower takes webhooks, and the loop on release", async () => {
    const github = new FakeGitHub(infraFiles(), NOW, mockGitHub().scope);
    const first: ReconcileResult[] = [];
    const second: ReconcileResult[] = [];
    const a = await replica("replica-a", first);
    await waitFor(() => a.leader(), "replica-a leads");
    const b = await replica("replica-b", second);
    // The leader's timer reconciles the repository at once.
    await waitFor(() => first.length === 1, "replica-a's timer reconciles");
    await a.idle();
    expect(github.botIssue("dashboard")).toBeDefined();
    await waitFor(
      async () => (await fetch(`${b.url}/readyz`)).status === 200,
      "replica-b is ready",
    );
    expect(b.leader()).toBe(false);
    expect(await leaderGauge(a)).toBe("1");
    expect(await leaderGauge(b)).toBe("0");
    expect(second).toEqual([]);

    // A webhook delivered to the follower reconciles there.
    const delivery = push();
    const answer = await fetch(`${b.url}/api/github/webhooks`, {
      method: "POST",
      headers: delivery.headers,
      body: delivery.body,
    });
    expect(answer.status).toBe(200);
    await b.idle();
    expect(second.map((result) => result.repository)).toEqual([`${OWNER}/${REPO}`]);
    expect(first).toHaveLength(1);

    // Stopping the leader releases the Lease: the follower leads and its timer starts.
    await a.stop();
    apps.splice(apps.indexOf(a), 1);
    await waitFor(() => b.leader(), "replica-b leads");
    await waitFor(() => second.length === 2, "replica-b's timer reconciles");
    expect(await leaderGauge(b)).toBe("1");
    expect(fake.get("leases", "pr-autoscaler", namespace)?.spec).toMatchObject({
      holderIdentity: "replica-b",
      leaseTransitions: 1,
    });
  });
});

describe("a leader that stops while the Kubernetes API does not answer its writes", () => {
  it("ends its stop within the budget, without the release, which goes on and lands later", async () => {
    new FakeGitHub(infraFiles(), NOW, mockGitHub().scope);
    const lines: string[] = [];
    const lease = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/pr-autoscaler`;
    const app = await startApp({
      settings: settings("replica-a"),
      log: pino({ level: "info" }, { write: (line: string) => lines.push(line) }),
      observe: async () => cluster({ pending: 0, plex: false }),
      timer: false,
      // Each Lease request is given up after 5 s (half the renew deadline): far past the budget.
      election: { leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 50 },
      stopWaitMs: 100,
      stopBudgetMs: 300,
    });
    await waitFor(() => app.leader(), "replica-a leads");
    // Reads are answered, writes held until the test lets them go: the renewal under way when
    // the stop begins, then the release, wait each for its request's timeout.
    let answer = () => {};
    fake.injectFault({
      method: "PUT",
      path: lease,
      times: Number.POSITIVE_INFINITY,
      until: new Promise<void>((resolve) => {
        answer = resolve;
      }),
    });
    try {
      const writes = fake.requestCount({ method: "PUT", path: lease });
      await waitFor(
        () => fake.requestCount({ method: "PUT", path: lease }) > writes,
        "a renewal is under way",
      );
      await app.stop();
      const said = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
      // The stop ended before the release did: neither released nor failed yet.
      expect(said).toContainEqual(
        expect.objectContaining({
          level: 40,
          msg: "stopping: the Lease is not released in time; another replica takes over when it expires",
        }),
      );
      expect(said.map((line) => line.msg)).not.toContain("released the Lease");
      expect(said.map((line) => line.msg)).not.toContain(
        "could not release the Lease; another replica takes over when it expires",
      );
      expect(fake.get("leases", "pr-autoscaler", namespace)?.spec).toMatchObject({
        holderIdentity: "replica-a",
      });
      // Stopped, it leads no more, though the Lease still names it.
      expect(app.leader()).toBe(false);
    } finally {
      answer();
      fake.clearFaults();
    }
    // Answered, the release still lands: the next leader need not wait for the Lease to expire.
    await waitFor(
      () =>
        (fake.get("leases", "pr-autoscaler", namespace)?.spec as { holderIdentity?: string })
          ?.holderIdentity === "",
      "the Lease is released",
    );
  });
});
