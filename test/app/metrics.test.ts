/**
 * The server's metrics as Prometheus scrapes them: every assertion reads /metrics from the real
 * HTTP server on 127.0.0.1 and parses the exposition text.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import { Octokit } from "@octokit/rest";
import { createClusterObserver, trackObservations } from "../../src/app/cluster-observer.ts";
import {
  type AppMetrics,
  createAppMetrics,
  createGitHubWatch,
  type HookedOctokit,
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

describe("repositories no longer managed", () => {
  it("lose their gauges; the repositories still managed keep theirs", async () => {
    const metrics = createAppMetrics();
    const read = await served(metrics);
    const proposals: ReconcileResult["proposals"] = [
      { key: "nodes-workers", kind: "nodes", direction: "up" },
    ];
    metrics.observe(reconcileResult({ proposals }), 1);
    metrics.observe(reconcileResult({ proposals, repository: "octocat/lab" }), 1);
    metrics.managed(["Octocat/Infra"]);
    const after = await read();
    const repositories = (name: string) =>
      after.all(name).map((sample) => sample.labels.repository);
    expect(new Set(repositories("pr_autoscaler_proposals"))).toEqual(new Set([REPOSITORY]));
    expect(repositories("pr_autoscaler_last_reconcile_timestamp_seconds")).toEqual([REPOSITORY]);
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
  /** GitHub's API as far as the test goes: rate-limit headers on every answer. */
  async function fakeGitHub(): Promise<string> {
    let remaining = 4990;
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
        if (request.url === "/repos/octocat/infra") {
          remaining -= 1;
          response
            .writeHead(200, {
              ...common,
              etag: '"abc"',
              "x-ratelimit-remaining": String(remaining),
            })
            .end(JSON.stringify({ full_name: "octocat/infra" }));
          return;
        }
        response
          .writeHead(403, { ...common, "x-ratelimit-remaining": "0" })
          .end(JSON.stringify({ message: "API rate limit exceeded for installation ID 42." }));
      }),
    );
  }

  it("reports the rate limit left per installation and resource, from answers and errors alike", async () => {
    let clock = 1_750_000_000_000;
    const metrics = createAppMetrics(() => clock);
    const read = await served(metrics);
    const watch = createGitHubWatch(metrics, () => clock);
    const baseUrl = await fakeGitHub();
    const quiet = () => {};
    const octokit = new Octokit({
      baseUrl,
      log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
    // Watching the same Octokit twice (Probot hands out one app Octokit) counts once.
    watch.watch(octokit as unknown as HookedOctokit, 42);
    watch.watch(octokit as unknown as HookedOctokit, 42);
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

  it("labels the app's own requests (its JWT) as installation app", async () => {
    const metrics = createAppMetrics();
    const read = await served(metrics);
    const watch = createGitHubWatch(metrics);
    const octokit = new Octokit({ baseUrl: await fakeGitHub() });
    watch.watch(octokit as unknown as HookedOctokit, undefined);
    await octokit.request("GET /repos/{owner}/{repo}", { owner: "octocat", repo: "infra" });
    expect(
      (await read()).value("pr_autoscaler_github_rate_limit_remaining", {
        installation: "app",
        resource: "core",
      }),
    ).toBe(4989);
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
