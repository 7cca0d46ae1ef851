/**
 * The guard on the app's own Octokit (Probot's, with its retry and throttling plugins set as the
 * app sets them) against GitHub behind nock. Time is a fake clock: waits are recorded, not slept.
 */
import { describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { AppOctokit } from "../../src/app/app-octokit.ts";
import {
  createRateLimitGuard,
  GitHubQuietError,
  type WrappableOctokit,
} from "../../src/app/rate-limit-guard.ts";
import { mockGitHub, REPO_PATH } from "../support/github.ts";
import { sha } from "../support/github-responses.ts";

const NOW = Date.parse("2025-03-01T12:00:00Z");
const SECONDARY =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
const REF = { ref: "refs/heads/pr-autoscaler/nodes-workers", sha: sha("head1") };
const quiet = () => {};

interface Line {
  level: number;
  msg: string;
  installation?: string;
  waitSeconds?: number;
  until?: string;
}

/** The guard on a fake clock; `sleep` moves the clock, or waits for `hold` when one is set. */
function harness(options: { hold?: Promise<void>; stopped?: AbortSignal } = {}) {
  let clock = NOW;
  const waits: number[] = [];
  const lines: Line[] = [];
  const limited: [string, string, number][] = [];
  const guard = createRateLimitGuard({
    log: pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) }),
    now: () => clock,
    sleep: async (ms) => {
      waits.push(ms);
      await options.hold;
      clock += ms;
    },
    onLimited: (installation, kind, until) => limited.push([installation, kind, until]),
    ...(options.stopped ? { stopped: options.stopped } : {}),
  });
  const client = (installation: number | undefined) => {
    const octokit = new AppOctokit({
      auth: { token: "test-token" },
      log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
    guard.guard(octokit as unknown as WrappableOctokit, installation);
    return octokit;
  };
  return {
    guard,
    client,
    waits,
    lines,
    limited,
    advance: (ms: number) => {
      clock += ms;
    },
    time: () => clock,
  };
}

const listPulls = (octokit: InstanceType<typeof AppOctokit>) =>
  octokit.request("GET /repos/{owner}/{repo}/pulls", { owner: "octocat", repo: "Hello-World" });
const createRef = (octokit: InstanceType<typeof AppOctokit>) =>
  octokit.request("POST /repos/{owner}/{repo}/git/refs", {
    owner: "octocat",
    repo: "Hello-World",
    ...REF,
  });

describe("a secondary rate limit", () => {
  it("is not retried: the request fails, and the installation sends nothing until retry-after", async () => {
    const github = mockGitHub();
    const { guard, client, waits, lines, limited, advance } = harness();
    const octokit = client(42);
    github.scope
      .post(`${REPO_PATH}/git/refs`)
      .reply(429, { message: SECONDARY }, { "retry-after": "60" });
    await expect(createRef(octokit)).rejects.toMatchObject({ status: 429 });
    expect(github.calls()).toEqual(["POST /git/refs"]);
    expect(guard.quietUntil(42)).toBe(NOW + 60_000);
    expect(waits).toEqual([]);

    // The same installation, any Octokit of it: refused unsent.
    const refused = listPulls(client(42));
    await expect(refused).rejects.toBeInstanceOf(GitHubQuietError);
    await expect(refused).rejects.toThrow(
      "not sent: GitHub's secondary rate limit (retry-after: 60) holds this installation's requests until 2025-03-01 12:01 UTC",
    );
    expect(github.calls()).toEqual(["POST /git/refs"]);
    expect(limited).toEqual([["42", "secondary", NOW + 60_000]]);
    expect(lines.filter((line) => line.level >= 40)).toEqual([
      expect.objectContaining({
        installation: "42",
        waitSeconds: 60,
        until: "2025-03-01T12:01:00.000Z",
        msg: "GitHub rate limit: no requests and no reconciles for this installation until the time GitHub gave",
      }),
    ]);

    advance(60_000);
    expect(guard.quietUntil(42)).toBe(undefined);
    github.scope.get(`${REPO_PATH}/pulls`).reply(200, []);
    await expect(listPulls(octokit)).resolves.toMatchObject({ status: 200 });
    expect(github.calls()).toEqual(["POST /git/refs", "GET /pulls"]);
  });

  it("holds one installation only: the others and the app's own requests go on", async () => {
    const github = mockGitHub();
    const { guard, client } = harness();
    github.scope.get(`${REPO_PATH}/pulls`).reply(403, { message: SECONDARY });
    await expect(listPulls(client(42))).rejects.toMatchObject({ status: 403 });
    github.scope.get(`${REPO_PATH}/pulls`).reply(200, []);
    github.scope.get("/app").reply(200, { id: 1, slug: "pr-autoscaler" });
    await expect(listPulls(client(7))).resolves.toMatchObject({ status: 200 });
    await expect(client(undefined).request("GET /app")).resolves.toMatchObject({ status: 200 });
    expect(github.calls()).toHaveLength(3);
    expect([guard.quietUntil(42), guard.quietUntil(7), guard.quietUntil(undefined)]).toEqual([
      NOW + 60_000,
      undefined,
      undefined,
    ]);
  });

  it("waits twice as long when it comes again, and afresh after a write went through", async () => {
    const github = mockGitHub();
    const { guard, client, advance, time } = harness();
    const octokit = client(42);
    const held: number[] = [];
    const refuseWrite = async () => {
      github.scope.post(`${REPO_PATH}/git/refs`).reply(403, { message: SECONDARY });
      await expect(createRef(octokit)).rejects.toMatchObject({ status: 403 });
      const wait = (guard.quietUntil(42) as number) - time();
      held.push(wait);
      advance(wait);
    };
    for (let i = 0; i < 3; i++) {
      await refuseWrite();
      // Reads going through do not end a streak of refused writes.
      github.scope.get(`${REPO_PATH}/pulls`).reply(200, []);
      await listPulls(octokit);
    }
    github.scope.post(`${REPO_PATH}/git/refs`).reply(201, { ref: REF.ref });
    await createRef(octokit);
    await refuseWrite();
    expect(held).toEqual([60_000, 120_000, 240_000, 60_000]);
  });
});

describe("an exhausted quota", () => {
  const exhausted = (resetInSeconds: number) => ({
    "x-ratelimit-remaining": "0",
    "x-ratelimit-limit": "5000",
    "x-ratelimit-reset": String(NOW / 1000 + resetInSeconds),
    "x-ratelimit-resource": "core",
  });

  it("that resets within a minute is waited for, and the request tried once more", async () => {
    const github = mockGitHub();
    const { guard, client, waits, lines } = harness();
    github.scope
      .get(`${REPO_PATH}/pulls`)
      .reply(403, { message: "API rate limit exceeded for installation ID 42." }, exhausted(30));
    github.scope.get(`${REPO_PATH}/pulls`).reply(200, []);
    await expect(listPulls(client(42))).resolves.toMatchObject({ status: 200, data: [] });
    expect(waits).toEqual([31_000]);
    expect(github.calls()).toEqual(["GET /pulls", "GET /pulls"]);
    expect(guard.quietUntil(42)).toBe(undefined);
    expect(lines.filter((line) => line.level >= 40).map((line) => line.msg)).toEqual([
      "GitHub rate limit: waiting for the quota to reset, then trying once more",
    ]);
  });

  it("makes the installation's other requests wait for the reset too", async () => {
    const github = mockGitHub();
    let release = () => {};
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { client, waits } = harness({ hold });
    github.scope
      .get(`${REPO_PATH}/pulls`)
      .reply(403, { message: "API rate limit exceeded" }, exhausted(20));
    const first = listPulls(client(42));
    while (waits.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const second = listPulls(client(42));
    while (waits.length < 2) await new Promise((resolve) => setImmediate(resolve));
    // Both wait; neither was sent again meanwhile.
    expect(github.calls()).toEqual(["GET /pulls"]);
    github.scope.get(`${REPO_PATH}/pulls`).twice().reply(200, []);
    release();
    await Promise.all([first, second]);
    expect(waits).toEqual([21_000, 21_000]);
    expect(github.calls()).toEqual(["GET /pulls", "GET /pulls", "GET /pulls"]);
  });

  it("is waited for no more once the app stops: the waiting requests fail at once, unsent", async () => {
    const github = mockGitHub();
    const halt = new AbortController();
    // The wait never ends by itself: only the stop can end it.
    const { client, waits } = harness({ hold: new Promise<void>(() => {}), stopped: halt.signal });
    github.scope
      .get(`${REPO_PATH}/pulls`)
      .reply(403, { message: "API rate limit exceeded" }, exhausted(50));
    const settled: string[] = [];
    const first = listPulls(client(42)).catch((error: Error) => {
      settled.push("first");
      throw error;
    });
    while (waits.length === 0) await new Promise((resolve) => setImmediate(resolve));
    // Another request of the installation waits for the same reset.
    const second = listPulls(client(42)).catch((error: Error) => {
      settled.push("second");
      throw error;
    });
    while (waits.length < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toEqual([]);
    const stop = Object.assign(new Error("the app stopped: no more requests to GitHub"), {
      name: "AbortError",
    });
    halt.abort(stop);
    await expect(first).rejects.toBe(stop);
    await expect(second).rejects.toBe(stop);
    // A request after the stop does not wait at all.
    await expect(listPulls(client(42))).rejects.toBe(stop);
    expect(waits).toEqual([51_000, 51_000]);
    expect(github.calls()).toEqual(["GET /pulls"]);
  });

  it("is tried once more only: refused again, the installation is held until the reset", async () => {
    const github = mockGitHub();
    const { guard, client, waits } = harness();
    github.scope
      .get(`${REPO_PATH}/pulls`)
      .twice()
      .reply(403, { message: "API rate limit exceeded" }, exhausted(10));
    await expect(listPulls(client(42))).rejects.toMatchObject({ status: 403 });
    expect(waits).toEqual([11_000]);
    expect(github.calls()).toEqual(["GET /pulls", "GET /pulls"]);
    // The second answer came 11 s later and still said reset in 10 s from the start: 1 s more.
    expect(guard.quietUntil(42)).toBe(NOW + 11_000 + 1000);
  });

  it("that resets later than a minute fails the request and holds the installation", async () => {
    const github = mockGitHub();
    const { guard, client, waits, limited } = harness();
    github.scope
      .get(`${REPO_PATH}/pulls`)
      .reply(403, { message: "API rate limit exceeded" }, exhausted(25 * 60));
    await expect(listPulls(client(42))).rejects.toMatchObject({ status: 403 });
    expect(waits).toEqual([]);
    expect(guard.quietUntil(42)).toBe(NOW + 25 * 60_000 + 1000);
    expect(limited).toEqual([["42", "primary", NOW + 25 * 60_000 + 1000]]);
    await expect(listPulls(client(42))).rejects.toThrow(
      "not sent: GitHub's primary rate limit (x-ratelimit-reset: 1740831900) holds this installation's requests until 2025-03-01 12:25:01 UTC",
    );
    expect(github.calls()).toEqual(["GET /pulls"]);
  });
});

describe("the text of a request held unsent", () => {
  it("never gives an end before the hold's: a fraction of a second rounds up", () => {
    const quiet = { kind: "secondary", source: "retry-after: 60", mode: "refuse" } as const;
    expect(new GitHubQuietError({ ...quiet, until: NOW + 60_000 + 1 }).message).toBe(
      "not sent: GitHub's secondary rate limit (retry-after: 60) holds this installation's requests until 2025-03-01 12:01:01 UTC",
    );
    expect(new GitHubQuietError({ ...quiet, until: NOW + 60_999 }).message).toMatch(
      / until 2025-03-01 12:01:01 UTC$/,
    );
    expect(new GitHubQuietError({ ...quiet, until: NOW + 60_000 }).message).toMatch(
      / until 2025-03-01 12:01 UTC$/,
    );
  });
});

describe("other failures", () => {
  it("passes a 403 that is no rate limit on at once, holding nothing", async () => {
    const github = mockGitHub();
    const { guard, client, waits, limited } = harness();
    github.scope
      .post(`${REPO_PATH}/git/refs`)
      .reply(403, { message: "Resource not accessible by integration" });
    await expect(createRef(client(42))).rejects.toMatchObject({ status: 403 });
    expect([github.calls(), waits, limited, guard.quietUntil(42)]).toEqual([
      ["POST /git/refs"],
      [],
      [],
      undefined,
    ]);
  });

  it("leaves a 502 to the retry plugin, which tries it again", async () => {
    const github = mockGitHub();
    const { client } = harness();
    github.scope.get(`${REPO_PATH}/pulls`).reply(502, { message: "Server Error" });
    github.scope.get(`${REPO_PATH}/pulls`).reply(200, []);
    await expect(listPulls(client(42))).resolves.toMatchObject({ status: 200 });
    expect(github.calls()).toEqual(["GET /pulls", "GET /pulls"]);
  });
});
