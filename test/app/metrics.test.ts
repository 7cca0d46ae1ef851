/**
 * The server's metrics as Prometheus scrapes them: every assertion reads /metrics from the real
 * HTTP server on 127.0.0.1 and parses the exposition text.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import { answeringOctokit } from "../../src/app/app-octokit.ts";
import { createClusterObserver, trackObservations } from "../../src/app/cluster-observer.ts";
import {
  type AppMetrics,
  createAppMetrics,
  createGitHubWatch,
  type GitHubWatch,
} from "../../src/app/metrics.ts";
import { createAppServer } from "../../src/app/server.ts";
import { KubeApiError } from "../../src/cluster/kube-client.ts";
import { ClusterReadError } from "../../src/cluster/read-snapshot.ts";
import { InputError } from "../../src/errors.ts";
import type { ReconcileResult } from "../../src/reconcile/reconcile-types.ts";
import { cluster } from "../reconcile/support/infra.ts";
import { reconcileResult } from "./support/reconcile-result.ts";
import { type Scrape, scrape } from "./support/scrape.ts";

const REPOSITORY = "octocat/infra";
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The app's HTTP server around `metrics`, scraped once per call. */
async function served(metrics: AppMetrics): Promise<() => Promise<Scrape>> {
  const url = await listen(createAppServer({ registry: metrics.registry }));
  return () => scrape(url);
}

describe("reconcile metrics", () => {
  it("counts the bot's pull requests opened, updated, closed and merged, by kind", async () => {
    const metrics = createAppMetrics();
    const read = await served(metrics);
    metrics.observe(
      reconcileResult({
        pullRequests: [
          { key: "nodes-workers", action: "created", number: 7 },
          { key: "resources-media-plex", action: "updated", number: 8 },
          { key: "resources-media-sonarr", action: "rebuilt", number: 9 },
          { key: "nodes-gpu", action: "closed", number: 3 },
          { key: "nodes-old", action: "already-applied", number: 4 },
          // Nothing was open: nothing closed.
          { key: "nodes-new", action: "already-applied" },
          { key: "resources-media-radarr", action: "unchanged", number: 10 },
          { key: "resources-media-lidarr", action: "deferred" },
        ],
        merges: [
          { number: 10, action: "merged", note: "merged" },
          { number: 7, action: "waiting", note: "checks pending" },
        ],
      }),
      0.4,
    );
    const metricsText = await read();
    const events = (labels: Record<string, string>) =>
      metricsText.value("pr_autoscaler_pull_requests_total", { repository: REPOSITORY, ...labels });
    expect(metricsText.types.get("pr_autoscaler_pull_requests_total")).toBe("counter");
    expect(events({ kind: "nodes", event: "opened" })).toBe(1);
    expect(events({ kind: "resources", event: "updated" })).toBe(2);
    expect(events({ kind: "nodes", event: "closed" })).toBe(2);
    expect(events({ kind: "resources", event: "merged" })).toBe(1);
    expect(metricsText.all("pr_autoscaler_pull_requests_total")).toHaveLength(4);
    // The detailed actions stay as they were.
    expect(
      metricsText.value("pr_autoscaler_pull_request_actions_total", {
        repository: REPOSITORY,
        action: "merge-waiting",
      }),
    ).toBe(1);
  });

  it("shows the proposals of the last planned reconcile by kind and direction, and none when unknown", async () => {
    const metrics = createAppMetrics();
    const read = await served(metrics);
    metrics.observe(
      reconcileResult({
        proposals: [
          { key: "nodes-workers", kind: "nodes", direction: "up" },
          { key: "resources-media-plex", kind: "resources", direction: "down" },
          { key: "resources-media-sonarr", kind: "resources", direction: "down" },
          { key: "resources-media-radarr", kind: "resources", direction: "mixed" },
        ],
      }),
      1,
    );
    const first = await read();
    const proposals = (scrape: Scrape, kind: string, direction: string) =>
      scrape.value("pr_autoscaler_proposals", { repository: REPOSITORY, kind, direction });
    expect(first.types.get("pr_autoscaler_proposals")).toBe("gauge");
    expect(proposals(first, "nodes", "up")).toBe(1);
    expect(proposals(first, "nodes", "down")).toBe(0);
    expect(proposals(first, "resources", "up")).toBe(0);
    expect(proposals(first, "resources", "down")).toBe(2);
    expect(proposals(first, "resources", "mixed")).toBe(1);

    // The next plan wants less: the gauge follows it.
    metrics.observe(
      reconcileResult({ proposals: [{ key: "nodes-workers", kind: "nodes", direction: "down" }] }),
      1,
    );
    const second = await read();
    expect(proposals(second, "nodes", "up")).toBe(0);
    expect(proposals(second, "nodes", "down")).toBe(1);
    expect(proposals(second, "resources", "down")).toBe(0);

    // A run that stopped before planning: unknown, so no sample rather than zero.
    metrics.observe(reconcileResult({ status: "cluster-error" }), 1);
    expect((await read()).all("pr_autoscaler_proposals")).toEqual([]);
    metrics.observe(
      reconcileResult({ proposals: [{ key: "nodes-workers", kind: "nodes", direction: "up" }] }),
      1,
    );
    metrics.failed(REPOSITORY, 2);
    const failed = await read();
    expect(failed.all("pr_autoscaler_proposals")).toEqual([]);
    expect(
      failed.value("pr_autoscaler_reconciles_total", { repository: REPOSITORY, status: "failed" }),
    ).toBe(1);
    expect(
      failed.value("pr_autoscaler_reconcile_duration_seconds_count", { repository: REPOSITORY }),
    ).toBe(5);
  });
});

describe("what a reconcile could not know", () => {
  it("shows no proposals after a plan on a partial read of the cluster", async () => {
    const metrics = createAppMetrics();
    const read = await served(metrics);
    const proposals: ReconcileResult["proposals"] = [
      { key: "nodes-workers", kind: "nodes", direction: "up" },
    ];
    metrics.observe(reconcileResult({ proposals, snapshotComplete: true }), 1);
    expect(
      (await read()).value("pr_autoscaler_proposals", {
        repository: REPOSITORY,
        kind: "nodes",
        direction: "up",
      }),
    ).toBe(1);
    metrics.observe(reconcileResult({ snapshotComplete: false }), 1);
    const partial = await read();
    expect(partial.all("pr_autoscaler_proposals")).toEqual([]);
    expect(
      partial.value("pr_autoscaler_reconciles_total", { repository: REPOSITORY, status: "ok" }),
    ).toBe(2);
  });

  it("counts a cluster that could not be read by the status alone, not also as a failed step", async () => {
    const metrics = createAppMetrics();
    const read = await served(metrics);
    const stepErrors = async () =>
      (await read()).value("pr_autoscaler_reconcile_step_errors_total", {
        repository: REPOSITORY,
      });
    metrics.observe(
      reconcileResult({ status: "cluster-error", errors: ["cluster: connect ECONNREFUSED"] }),
      1,
    );
    expect(await stepErrors()).toBeUndefined();
    // A step that failed besides, in the same run: that one is counted.
    metrics.observe(
      reconcileResult({
        status: "cluster-error",
        errors: ["comments: GitHub answered 502", "cluster: connect ECONNREFUSED"],
      }),
      1,
    );
    expect(await stepErrors()).toBe(1);
    metrics.observe(
      reconcileResult({ errors: ["nodes-workers: GitHub answered 403", "dashboard: 502"] }),
      1,
    );
    expect(await stepErrors()).toBe(3);
  });
});

describe("failures in a row", () => {
  it("follow the chat's count: failures add one, a run that works or retires resets, a configuration error leaves it", async () => {
    const metrics = createAppMetrics();
    const read = await served(metrics);
    const inARow = async () =>
      (await read()).value("pr_autoscaler_reconcile_failures_in_a_row", {
        repository: REPOSITORY,
      });
    // Before any reconcile, and after a configuration error alone: unknown.
    expect(await inARow()).toBeUndefined();
    metrics.observe(reconcileResult({ status: "config-error" }), 1);
    expect(await inARow()).toBeUndefined();
    metrics.observe(reconcileResult({ status: "cluster-error", errors: ["cluster: down"] }), 1);
    metrics.failed(REPOSITORY, 1);
    // Status ok, but a step failed (a 403 creating a branch, a rate limit).
    metrics.observe(reconcileResult({ errors: ["nodes-workers: GitHub answered 403"] }), 1);
    expect(await inARow()).toBe(3);
    metrics.observe(reconcileResult({ status: "config-error" }), 1);
    expect(await inARow()).toBe(3);
    metrics.observe(reconcileResult(), 1);
    expect(await inARow()).toBe(0);
    metrics.failed(REPOSITORY, 1);
    expect(await inARow()).toBe(1);
    metrics.observe(reconcileResult({ status: "no-config" }), 1);
    expect(await inARow()).toBe(0);
  });
});

describe("repositories no longer managed", () => {
  it("lose their gauges; the repositories still managed keep theirs", async () => {
    const metrics = createAppMetrics();
    const read = await served(metrics);
    const proposals: ReconcileResult["proposals"] = [
      { key: "nodes-workers", kind: "nodes", direction: "up" },
    ];
    metrics.observe(reconcileResult({ proposals }), 1);
    metrics.observe(reconcileResult({ proposals, repository: "octocat/lab" }), 1);
    metrics.failed("octocat/lab", 1);
    metrics.managed(["Octocat/Infra"]);
    const after = await read();
    const repositories = (name: string) =>
      after.all(name).map((sample) => sample.labels.repository);
    expect(new Set(repositories("pr_autoscaler_proposals"))).toEqual(new Set([REPOSITORY]));
    expect(repositories("pr_autoscaler_last_reconcile_timestamp_seconds")).toEqual([REPOSITORY]);
    expect(repositories("pr_autoscaler_reconcile_failures_in_a_row")).toEqual([REPOSITORY]);
  });
});

describe("repositories managed", () => {
  it("have their reconcile counters at 0 before the first reconcile", async () => {
    const metrics = createAppMetrics();
    const read = await served(metrics);
    metrics.managed([REPOSITORY]);
    const before = await read();
    expect(
      before
        .all("pr_autoscaler_reconciles_total")
        .map((sample) => `${sample.labels.repository} ${sample.labels.status} ${sample.value}`),
    ).toEqual([
      `${REPOSITORY} ok 0`,
      `${REPOSITORY} no-config 0`,
      `${REPOSITORY} config-error 0`,
      `${REPOSITORY} cluster-error 0`,
      `${REPOSITORY} failed 0`,
    ]);
    expect(
      before.value("pr_autoscaler_reconcile_step_errors_total", { repository: REPOSITORY }),
    ).toBe(0);
    // Listed again later: the counts are kept, not reset.
    metrics.failed(REPOSITORY, 1);
    metrics.managed([REPOSITORY]);
    expect(
      (await read()).value("pr_autoscaler_reconciles_total", {
        repository: REPOSITORY,
        status: "failed",
      }),
    ).toBe(1);
    // Gauges are not made up: nothing is known of the repository yet.
    expect(before.all("pr_autoscaler_proposals")).toEqual([]);
    expect(before.all("pr_autoscaler_reconcile_failures_in_a_row")).toEqual([]);
  });
});

describe("cluster read metrics", () => {
  it("records the last complete observation and its age, and counts failed and partial reads by kind", async () => {
    let clock = 1_750_000_000_000;
    const now = () => clock;
    const metrics = createAppMetrics(now);
    const read = await served(metrics);
    const answers: (() => unknown)[] = [];
    const tracked = trackObservations(
      async () => {
        const next = answers.shift();
        if (!next) throw new Error("no answer queued");
        const value = next();
        if (value instanceof Error) throw value;
        return value as ReturnType<typeof cluster>;
      },
      { now, onRead: (error, at) => metrics.clusterRead(error, at) },
    );

    const before = await read();
    expect(before.all("pr_autoscaler_last_observation_timestamp_seconds")).toEqual([]);
    expect(before.all("pr_autoscaler_observation_age_seconds")).toEqual([]);

    answers.push(() => cluster());
    await tracked.observe();
    const observedAt = clock;
    clock += 95_000;
    answers.push(() => cluster({ complete: false }));
    await tracked.observe();
    const forbidden = new KubeApiError("nodes is forbidden", "/api/v1/nodes", 403, "Forbidden");
    answers.push(() => new ClusterReadError("cannot list nodes: forbidden", forbidden));
    await expect(tracked.observe()).rejects.toThrow("cannot list nodes");
    answers.push(
      () =>
        new ClusterReadError(
          "cannot list pods: connect ECONNREFUSED",
          new KubeApiError("connect ECONNREFUSED", "/api/v1/pods"),
        ),
    );
    await expect(tracked.observe()).rejects.toThrow("ECONNREFUSED");
    answers.push(() => new InputError("no kubeconfig found"));
    await expect(tracked.observe()).rejects.toThrow("no kubeconfig");
    const plugin = new KubeApiError(
      'the credential plugin "kubelogin" failed',
      "/api/v1/nodes",
      undefined,
      undefined,
      "credentials",
    );
    answers.push(() => new ClusterReadError("cannot list nodes: plugin", plugin));
    await expect(tracked.observe()).rejects.toThrow("plugin");
    const login = new KubeApiError("not JSON", "/api/v1/nodes", undefined, undefined, "decode");
    answers.push(() => new ClusterReadError("cannot list nodes: login page", login));
    await expect(tracked.observe()).rejects.toThrow("login page");

    const after = await read();
    expect(after.value("pr_autoscaler_last_observation_timestamp_seconds")).toBe(observedAt / 1000);
    expect(after.value("pr_autoscaler_observation_age_seconds")).toBe(95);
    const errors = (kind: string) =>
      after.value("pr_autoscaler_cluster_read_errors_total", { kind });
    expect(errors("partial")).toBe(1);
    expect(errors("forbidden")).toBe(1);
    expect(errors("unreachable")).toBe(1);
    expect(errors("config")).toBe(2);
    expect(errors("other")).toBe(1);
    expect(tracked.lastSuccessAt()).toBe(observedAt);
  });

  it("counts a read shared by concurrent reconciles once", async () => {
    const metrics = createAppMetrics();
    const read = await served(metrics);
    let reads = 0;
    let fail = false;
    const shared = createClusterObserver({
      maxAgeMs: 0,
      read: async () => {
        reads++;
        await new Promise((resolve) => setImmediate(resolve));
        if (fail) throw new ClusterReadError("cannot list nodes: boom");
        return cluster({ complete: false });
      },
    });
    const tracked = trackObservations(shared, {
      onRead: (error, at) => metrics.clusterRead(error, at),
    });
    await Promise.all([tracked.observe(), tracked.observe(), tracked.observe()]);
    fail = true;
    const failures = await Promise.allSettled([tracked.observe(), tracked.observe()]);
    expect(failures.map((f) => f.status)).toEqual(["rejected", "rejected"]);
    expect(reads).toBe(2);
    const after = await read();
    expect(after.value("pr_autoscaler_cluster_read_errors_total", { kind: "partial" })).toBe(1);
    expect(after.value("pr_autoscaler_cluster_read_errors_total", { kind: "other" })).toBe(1);
  });
});

describe("GitHub metrics", () => {
  /**
   * GitHub's API as far as the test goes: rate-limit headers on every answer. `octocat/flaky`
   * answers 502 twice, then 200; `octocat/gone` answers 502 once, then drops the connection.
   */
  async function fakeGitHub(): Promise<string> {
    let remaining = 4990;
    let flaky = 0;
    let gone = 0;
    return listen(
      createServer((request, response) => {
        const common = {
          "content-type": "application/json",
          "x-ratelimit-limit": "5000",
          "x-ratelimit-resource": "core",
        };
        if (request.url === "/search/issues?q=x") {
          response
            .writeHead(200, {
              ...common,
              "x-ratelimit-limit": "30",
              "x-ratelimit-remaining": "29",
              "x-ratelimit-resource": "search",
            })
            .end(JSON.stringify({ total_count: 0, incomplete_results: false, items: [] }));
          return;
        }
        if (request.url === "/repos/octocat/infra" && request.headers["if-none-match"]) {
          response.writeHead(304, { ...common, "x-ratelimit-remaining": String(remaining) }).end();
          return;
        }
        if (request.url === "/repos/octocat/infra" || request.url === "/repos/octocat/flaky") {
          remaining -= 1;
          const failing = request.url === "/repos/octocat/flaky" && ++flaky <= 2;
          response
            .writeHead(failing ? 502 : 200, {
              ...common,
              etag: '"abc"',
              "x-ratelimit-remaining": String(remaining),
            })
            .end(JSON.stringify(failing ? { message: "Bad Gateway" } : { full_name: "x" }));
          return;
        }
        if (request.url === "/repos/octocat/gone") {
          if (++gone > 1) {
            request.socket.destroy();
            return;
          }
          response
            .writeHead(502, { ...common, "x-ratelimit-remaining": "1234" })
            .end(JSON.stringify({ message: "Bad Gateway" }));
          return;
        }
        response
          .writeHead(403, { ...common, "x-ratelimit-remaining": "0" })
          .end(JSON.stringify({ message: "API rate limit exceeded for installation ID 42." }));
      }),
    );
  }

  const quiet = () => {};

  /** The app's Octokit against `baseUrl`, its answers told to `watch`; retries 1 ms apart. */
  function client(watch: GitHubWatch, baseUrl: string, installationId?: number) {
    const Answering = answeringOctokit(watch.answered);
    return new Answering({
      baseUrl,
      auth: { token: "test-token", ...(installationId === undefined ? {} : { installationId }) },
      retry: { retryAfterBaseValue: 1 },
      log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
  }

  it("reports the rate limit left per installation and resource, from answers and errors alike", async () => {
    let clock = 1_750_000_000_000;
    const metrics = createAppMetrics(() => clock);
    const read = await served(metrics);
    const watch = createGitHubWatch(metrics, () => clock);
    const octokit = client(watch, await fakeGitHub(), 42);
    expect(watch.lastSuccessAt()).toBeUndefined();

    await octokit.request("GET /repos/{owner}/{repo}", { owner: "octocat", repo: "infra" });
    await octokit.request("GET /search/issues", { q: "x" });
    clock += 60_000;
    // A conditional request answered 304 is a success, though Octokit throws it.
    await expect(
      octokit.request("GET /repos/{owner}/{repo}", {
        owner: "octocat",
        repo: "infra",
        headers: { "if-none-match": '"abc"' },
      }),
    ).rejects.toMatchObject({ status: 304 });
    const succeededAt = clock;
    clock += 60_000;
    await expect(octokit.request("GET /installation/repositories")).rejects.toMatchObject({
      status: 403,
    });

    const after = await read();
    const remaining = (resource: string) =>
      after.value("pr_autoscaler_github_rate_limit_remaining", { installation: "42", resource });
    expect(remaining("core")).toBe(0);
    expect(remaining("search")).toBe(29);
    expect(
      after.value("pr_autoscaler_github_rate_limit_limit", {
        installation: "42",
        resource: "core",
      }),
    ).toBe(5000);
    expect(after.value("pr_autoscaler_github_responses_total", { status: "2xx" })).toBe(2);
    expect(after.value("pr_autoscaler_github_responses_total", { status: "3xx" })).toBe(1);
    expect(after.value("pr_autoscaler_github_responses_total", { status: "4xx" })).toBe(1);
    expect(after.value("pr_autoscaler_last_github_success_timestamp_seconds")).toBe(
      succeededAt / 1000,
    );
    expect(watch.lastSuccessAt()).toBe(succeededAt);
  });

  it("counts each answer to a request the retry plugin repeats, and reads each one's headers", async () => {
    const metrics = createAppMetrics();
    const read = await served(metrics);
    const watch = createGitHubWatch(metrics);
    const octokit = client(watch, await fakeGitHub(), 42);
    const answer = await octokit.request("GET /repos/{owner}/{repo}", {
      owner: "octocat",
      repo: "flaky",
    });
    expect(answer.status).toBe(200);
    const retried = await read();
    expect(retried.value("pr_autoscaler_github_responses_total", { status: "5xx" })).toBe(2);
    expect(retried.value("pr_autoscaler_github_responses_total", { status: "2xx" })).toBe(1);
    expect(
      retried.value("pr_autoscaler_github_rate_limit_remaining", {
        installation: "42",
        resource: "core",
      }),
    ).toBe(4987);

    // The last attempts got no answer: the first one's headers are the last GitHub sent.
    await expect(
      octokit.request("GET /repos/{owner}/{repo}", { owner: "octocat", repo: "gone" }),
    ).rejects.toThrow();
    const dropped = await read();
    expect(dropped.value("pr_autoscaler_github_responses_total", { status: "5xx" })).toBe(3);
    expect(
      dropped.value("pr_autoscaler_github_rate_limit_remaining", {
        installation: "42",
        resource: "core",
      }),
    ).toBe(1234);
  });

  it("labels the app's own requests (its JWT) as installation app, whatever client sends them", async () => {
    const metrics = createAppMetrics();
    const read = await served(metrics);
    const watch = createGitHubWatch(metrics);
    const baseUrl = await fakeGitHub();
    const app = client(watch, baseUrl);
    await app.request("GET /repos/{owner}/{repo}", { owner: "octocat", repo: "infra" });
    // An installation's client asks for its token with the app's JWT.
    const Answering = answeringOctokit(watch.answered);
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJl";
    const installation = new Answering({
      baseUrl,
      auth: { token: jwt, installationId: 42 },
      log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
    await installation.request("GET /repos/{owner}/{repo}", { owner: "octocat", repo: "infra" });
    const after = await read();
    expect(
      after.all("pr_autoscaler_github_rate_limit_remaining").map((sample) => sample.labels),
    ).toEqual([{ installation: "app", resource: "core" }]);
    expect(
      after.value("pr_autoscaler_github_rate_limit_remaining", {
        installation: "app",
        resource: "core",
      }),
    ).toBe(4988);
  });
});

describe("GitHub rate limit metrics", () => {
  it("counts rate limits by installation and kind, and shows a hold only while it lasts", async () => {
    let clock = 1_750_000_000_000;
    const metrics = createAppMetrics(() => clock);
    const read = await served(metrics);
    metrics.rateLimited("42", "secondary", clock + 60_000);
    metrics.rateLimited("42", "secondary", clock + 30_000);
    metrics.rateLimited("7", "primary", clock + 600_000);
    const during = await read();
    expect(during.all("pr_autoscaler_github_rate_limits_total")).toEqual([
      {
        name: "pr_autoscaler_github_rate_limits_total",
        labels: { installation: "42", kind: "secondary" },
        value: 2,
      },
      {
        name: "pr_autoscaler_github_rate_limits_total",
        labels: { installation: "7", kind: "primary" },
        value: 1,
      },
    ]);
    // The later of two holds of one installation is the one that holds.
    expect(
      during.value("pr_autoscaler_github_rate_limited_until_timestamp_seconds", {
        installation: "42",
      }),
    ).toBe((clock + 60_000) / 1000);
    clock += 60_000;
    const after = await read();
    expect(
      after.all("pr_autoscaler_github_rate_limited_until_timestamp_seconds").map((s) => s.labels),
    ).toEqual([{ installation: "7" }]);
    expect(during.types.get("pr_autoscaler_github_rate_limited_until_timestamp_seconds")).toBe(
      "gauge",
    );
  });
});
