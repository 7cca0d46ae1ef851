import { Writable } from "node:stream";
import { afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import nock from "nock";
import { pino } from "pino";
import { keepFresh, readinessOf, staleAfterMs } from "../../src/app/readiness.ts";
import type { AppSettings } from "../../src/app/settings.ts";
import { type RunningApp, startApp } from "../../src/app/start-app.ts";
import { KubeApiError } from "../../src/cluster/kube-client.ts";
import { ClusterReadError } from "../../src/cluster/read-snapshot.ts";
import type { Snapshot } from "../../src/planning/snapshot.ts";
import { FakeGitHub } from "../reconcile/support/fake-github.ts";
import { cluster, infraFiles, NOW } from "../reconcile/support/infra.ts";
import { mockGitHub } from "../support/github.ts";
import { testAppSettings } from "./support/app-settings.ts";
import { scrape } from "./support/scrape.ts";

const MINUTE = 60_000;

describe("the readiness rule", () => {
  const at = 1_750_000_000_000;
  const fresh = {
    intervalMs: MINUTE,
    listed: () => true,
    lastObservation: () => at - MINUTE,
    lastGitHubSuccess: () => at - 2 * MINUTE,
    now: () => at,
  };

  it("is three intervals, and never under three minutes", () => {
    expect(staleAfterMs(MINUTE)).toBe(3 * MINUTE);
    expect(staleAfterMs(10_000)).toBe(3 * MINUTE);
    expect(staleAfterMs(5 * MINUTE)).toBe(15 * MINUTE);
  });

  it("is ready when the repositories are listed and the cluster and GitHub answered recently", () => {
    expect(readinessOf(fresh)).toEqual({ ready: true, problems: [] });
    // Exactly at the bound still counts.
    expect(readinessOf({ ...fresh, lastObservation: () => at - 3 * MINUTE }).ready).toBe(true);
  });

  it("says which part is missing or stale", () => {
    expect(
      readinessOf({
        ...fresh,
        listed: () => false,
        lastObservation: () => undefined,
        lastGitHubSuccess: () => at - 3 * MINUTE - 1000,
      }),
    ).toEqual({
      ready: false,
      problems: [
        "repositories: not listed yet",
        "cluster: no successful read yet",
        "github: last successful read 181s ago (limit 180s)",
      ],
    });
  });
});

function captured(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    log: pino({ level: "info" }, stream),
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe("keeping readiness fresh on a replica that does not reconcile", () => {
  it("reads the cluster and asks GitHub at start, and again once half the bound has passed", async () => {
    let clock = 1_750_000_000_000;
    let observedAt: number | undefined;
    let githubAt: number | undefined;
    const calls: string[] = [];
    const { log } = captured();
    const freshness = keepFresh({
      intervalMs: MINUTE,
      lastObservation: () => observedAt,
      lastGitHubSuccess: () => githubAt,
      observe: async () => {
        calls.push("cluster");
        observedAt = clock;
      },
      probeGitHub: async () => {
        calls.push("github");
        githubAt = clock;
      },
      log,
      now: () => clock,
    });
    await freshness.check();
    expect(calls).toEqual(["cluster", "github"]);
    clock += MINUTE;
    await freshness.check();
    // A minute is under half of the three-minute bound: nothing to do.
    expect(calls).toEqual(["cluster", "github"]);
    // A reconcile read GitHub meanwhile; the cluster's read is 90 s old.
    clock += 30_000;
    githubAt = clock;
    await freshness.check();
    expect(calls).toEqual(["cluster", "github", "cluster"]);
    await freshness.stop();
  });

  it("logs a failed look with a fixed message and goes on", async () => {
    const { log, lines } = captured();
    const freshness = keepFresh({
      intervalMs: MINUTE,
      lastObservation: () => undefined,
      lastGitHubSuccess: () => undefined,
      observe: async () => {
        throw new ClusterReadError("cannot list nodes: connect ECONNREFUSED 10.0.0.1:6443");
      },
      probeGitHub: async () => {
        throw new Error("getaddrinfo ENOTFOUND api.github.com");
      },
      log,
    });
    await freshness.check();
    await freshness.stop();
    expect(lines().map((line) => [line.msg, (line.err as { message?: string }).message])).toEqual(
      expect.arrayContaining([
        ["could not read the cluster", "cannot list nodes: connect ECONNREFUSED 10.0.0.1:6443"],
        ["could not reach GitHub", "getaddrinfo ENOTFOUND api.github.com"],
      ]),
    );
  });
});

function settings(): AppSettings {
  return testAppSettings({ webhookSecret: undefined, intervalMs: MINUTE });
}

let running: RunningApp | undefined;

beforeAll(() => {
  nock.enableNetConnect("127.0.0.1");
});

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** Starts the app without its timer (as a replica that does not lead) on `observe`. */
async function startFollower(observe: () => Promise<Snapshot>): Promise<{
  app: RunningApp;
  github: FakeGitHub;
  observed: Promise<void>;
}> {
  const github = new FakeGitHub(infraFiles(), NOW, mockGitHub().scope);
  let seen: () => void = () => {};
  const observed = new Promise<void>((resolve) => {
    seen = resolve;
  });
  const app = await startApp({
    settings: settings(),
    log: pino({ level: "silent" }),
    observe: async () => {
      try {
        return await observe();
      } finally {
        // After the tracker has recorded this read.
        setImmediate(seen);
      }
    },
    timer: false,
  });
  running = app;
  return { app, github, observed };
}

describe("/readyz of the running app", () => {
  it("is ready without any reconcile: the replica reads the cluster itself", async () => {
    const { app, observed } = await startFollower(async () => cluster({ plex: false }));
    await observed;
    const answer = await fetch(`${app.url}/readyz`);
    expect(await answer.text()).toBe("ready\n");
    expect(answer.status).toBe(200);
    const metrics = await scrape(app.url);
    // No reconcile ran: the repository's counters are there, at 0.
    const reconciles = metrics.all("pr_autoscaler_reconciles_total");
    expect(reconciles.length).toBeGreaterThan(0);
    expect(reconciles.filter((sample) => sample.value !== 0)).toEqual([]);
    expect(metrics.value("pr_autoscaler_last_observation_timestamp_seconds")).toBeGreaterThan(0);
    expect(metrics.value("pr_autoscaler_last_github_success_timestamp_seconds")).toBeGreaterThan(0);
  });

  it("is not ready, and says why, while the cluster cannot be read", async () => {
    const { app, observed } = await startFollower(async () => {
      throw new ClusterReadError(
        "cannot list nodes: Unauthorized (the credentials were refused: check the kubeconfig's user)",
        new KubeApiError("Unauthorized", "/api/v1/nodes", 401, "Unauthorized"),
      );
    });
    await observed;
    const answer = await fetch(`${app.url}/readyz`);
    expect(answer.status).toBe(503);
    expect(await answer.text()).toBe("not ready\ncluster: no successful read yet\n");
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    const metrics = await scrape(app.url);
    expect(metrics.value("pr_autoscaler_cluster_read_errors_total", { kind: "unauthorized" })).toBe(
      1,
    );
    expect(metrics.all("pr_autoscaler_last_observation_timestamp_seconds")).toEqual([]);
  });

  it("counts a partial snapshot as an error and is not ready on it alone", async () => {
    const { app, observed } = await startFollower(async () =>
      cluster({ plex: false, complete: false }),
    );
    await observed;
    expect((await fetch(`${app.url}/readyz`)).status).toBe(503);
    const metrics = await scrape(app.url);
    expect(metrics.value("pr_autoscaler_cluster_read_errors_total", { kind: "partial" })).toBe(1);
  });
});
