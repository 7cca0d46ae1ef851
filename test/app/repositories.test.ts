import { afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { pino } from "pino";
import { createRepositoryRegistry } from "../../src/app/repositories.ts";
import { type RunningApp, startApp } from "../../src/app/start-app.ts";
import type { MergeOctokit } from "../../src/merge/merge-octokit.ts";
import { DEFAULT_SETTINGS } from "../../src/reconcile/reconcile-types.ts";
import { cluster } from "../reconcile/support/infra.ts";
import { mockGitHub } from "../support/github.ts";
import { responseExample } from "../support/github-openapi.ts";
import { testAppSettings } from "./support/app-settings.ts";

type Json = Record<string, unknown>;

interface Installation {
  id: number;
  state: "active" | "suspended";
  /** GitHub does not answer its repository list. */
  failing?: boolean;
}

interface Repository {
  name: string;
  installation: number;
  archived: boolean;
}

/**
 * The app's side of GitHub: its installations (one may be suspended), each one's repositories
 * (answered to that installation's token), and which installation covers a repository. Every
 * request is checked against GitHub's REST API description and recorded.
 */
class AppWorld {
  readonly installations: Installation[] = [];
  readonly repositories: Repository[] = [];
  /** `METHOD path` of each request, with the token's installation (`app` for the app's JWT). */
  readonly calls: string[] = [];

  constructor() {
    const { scope } = mockGitHub();
    scope.persist();
    for (const method of ["GET", "POST"])
      scope
        .intercept(() => true, method)
        .optionally()
        .reply(async (request: Request) => this.answer(request));
  }

  installation(id: number): Installation {
    const found = this.installations.find((i) => i.id === id);
    if (!found) throw new Error(`no installation ${id}`);
    return found;
  }

  repository(name: string): Repository {
    const found = this.repositories.find((r) => r.name === name);
    if (!found) throw new Error(`no repository ${name}`);
    return found;
  }

  private answer(request: Request): [number, unknown] {
    const url = new URL(request.url);
    const token = /^token (\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1] ?? "";
    const caller = /^inst-(\d+)$/.exec(token)?.[1];
    this.calls.push(`${request.method} ${url.pathname} ${caller ?? "app"}`);
    const notFound: [number, unknown] = [404, { message: "Not Found" }];
    if (url.pathname === "/app")
      return [200, { ...(responseExample("GET", "/app", 200) as Json), slug: "pr-autoscaler" }];
    if (url.pathname === "/app/installations") {
      const example = (responseExample("GET", "/app/installations", 200) as Json[])[0] as Json;
      return [
        200,
        this.installations.map((i) => ({
          ...example,
          id: i.id,
          suspended_at: i.state === "suspended" ? "2026-11-20T10:00:00Z" : null,
          suspended_by: null,
        })),
      ];
    }
    const tokenFor = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname);
    if (tokenFor) {
      if (this.installation(Number(tokenFor[1])).state === "suspended")
        return [403, { message: "This installation has been suspended" }];
      const expires = new Date(Date.now() + 3_600_000).toISOString();
      return [201, { token: `inst-${tokenFor[1]}`, expires_at: expires, permissions: {} }];
    }
    if (url.pathname === "/installation/repositories") {
      const installation = this.installations.find((i) => i.id === Number(caller));
      if (installation?.state !== "active") return [401, { message: "Bad credentials" }];
      if (installation.failing) return [502, { message: "Server Error" }];
      return [200, this.listing(installation.id)];
    }
    const covering = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(url.pathname);
    if (covering) {
      const repository = this.repositories.find((r) => r.name === `${covering[1]}/${covering[2]}`);
      const installation = this.installations.find((i) => i.id === repository?.installation);
      if (!installation) return notFound;
      const example = responseExample("GET", "/repos/{owner}/{repo}/installation", 200) as Json;
      return [200, { ...example, id: installation.id }];
    }
    return notFound;
  }

  private listing(installation: number): Json {
    const example = responseExample("GET", "/installation/repositories", 200) as Json;
    const sample = (example.repositories as Json[])[0] as Json;
    const repositories = this.repositories
      .filter((r) => r.installation === installation)
      .map((r) => {
        const [owner = "", name = ""] = r.name.split("/");
        return {
          ...sample,
          name,
          full_name: r.name,
          owner: { ...(sample.owner as Json), login: owner },
          default_branch: "main",
          archived: r.archived,
        };
      });
    return { total_count: repositories.length, repositories };
  }
}

const HOME = "alice-homelab/infra";
const ORG = "homelab-org/cluster";
const SITE = "homelab-org/website";

/** A user installation (7) with one repository, an organisation's (8) with two. */
function homelab(): AppWorld {
  const world = new AppWorld();
  world.installations.push({ id: 7, state: "active" }, { id: 8, state: "active" });
  world.repositories.push(
    { name: HOME, installation: 7, archived: false },
    { name: ORG, installation: 8, archived: false },
    { name: SITE, installation: 8, archived: false },
  );
  return world;
}

function registry(repositories?: string[]) {
  const lines: Json[] = [];
  const quiet = () => {};
  const created: number[] = [];
  const made = createRepositoryRegistry({
    // The tests' tokens say which installation they are for; the world answers by them.
    auth: async (installation) => {
      if (installation !== undefined) created.push(installation);
      return new Octokit({
        auth: installation === undefined ? "app-jwt" : `inst-${installation}`,
        log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
      }) as unknown as MergeOctokit;
    },
    repositories,
    botLogin: "pr-autoscaler[bot]",
    observe: async () => cluster(),
    settings: DEFAULT_SETTINGS,
    log: pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) }),
  });
  return { registry: made, lines, created };
}

function said(lines: readonly Json[], level: number): [unknown, unknown][] {
  return lines
    .filter((line) => line.level === level)
    .map((line) => [line.msg, line.repository ?? line.installation]);
}

describe("the repositories the app manages, every installation", () => {
  it("leaves out a suspended installation, says so once, and takes its repositories back when unsuspended", async () => {
    const world = homelab();
    world.installation(7).state = "suspended";
    const { registry: repos, lines, created } = registry();
    await repos.refresh();
    expect(repos.names().sort()).toEqual([ORG, SITE]);
    // Its token is not even asked for.
    expect(created).not.toContain(7);
    await repos.refresh();
    const suspended = lines.filter((line) => String(line.msg).startsWith("installation suspended"));
    expect(suspended).toEqual([expect.objectContaining({ level: 30, installation: 7 })]);
    world.installation(7).state = "active";
    await repos.refresh();
    expect(repos.names().sort()).toEqual([HOME, ORG, SITE]);
    expect(said(lines, 30)).toContainEqual(["installation no longer suspended", 7]);
  });

  it("drops the repositories of an installation suspended while the app runs", async () => {
    const world = homelab();
    const { registry: repos, lines } = registry();
    await repos.refresh();
    world.installation(7).state = "suspended";
    await repos.refresh();
    expect(repos.names().sort()).toEqual([ORG, SITE]);
    expect(repos.target(HOME)).toBeUndefined();
    expect(said(lines, 30)).toContainEqual([
      "its installation is suspended: not managed until it is unsuspended",
      HOME,
    ]);
  });

  it("keeps what it knew of an installation that does not answer, with a warning, and lists the others", async () => {
    const world = homelab();
    const { registry: repos, lines } = registry();
    await repos.refresh();
    const before = repos.target(ORG);
    world.installation(8).failing = true;
    world.repositories.push({ name: "alice-homelab/lab", installation: 7, archived: false });
    await repos.refresh();
    expect(repos.names().sort()).toEqual([HOME, "alice-homelab/lab", ORG, SITE]);
    expect(repos.target(ORG)).toBe(before);
    expect(said(lines, 40)).toEqual([
      ["could not list the repositories of an installation; those found before are kept", 8],
    ]);
  });

  it("leaves out an archived repository (said once), and manages it again once unarchived", async () => {
    const world = homelab();
    world.repository(HOME).archived = true;
    const { registry: repos, lines } = registry();
    await repos.refresh();
    await repos.refresh();
    expect(repos.names().sort()).toEqual([ORG, SITE]);
    world.repository(HOME).archived = false;
    world.repository(ORG).archived = true;
    await repos.refresh();
    expect(repos.names().sort()).toEqual([HOME, SITE]);
    const archived = said(lines, 30).filter(([msg]) => String(msg).startsWith("archived"));
    expect(archived).toEqual([
      ["archived repository: not managed until it is unarchived", HOME],
      ["archived repository: not managed until it is unarchived", ORG],
    ]);
  });

  it("gives a repository reached through a new installation (installed again) a new client, keeping its memory", async () => {
    const world = homelab();
    const { registry: repos, lines } = registry();
    await repos.refresh();
    const before = repos.target(ORG);
    world.installations.splice(1, 1, { id: 10, state: "active" });
    for (const name of [ORG, SITE]) world.repository(name).installation = 10;
    await repos.refresh();
    const after = repos.target(ORG);
    expect(repos.installation(ORG)).toBe(10);
    expect(after).not.toBe(before);
    expect(after?.forge).not.toBe(before?.forge);
    expect(after?.memory).toBe(before?.memory);
    expect(said(lines, 30)).toContainEqual([
      "repository reached through a new installation: its client is replaced",
      ORG,
    ]);
    // The new client asks with the new installation's token.
    world.calls.length = 0;
    await after?.forge.readState().catch(() => undefined);
    expect(world.calls.filter((call) => call.includes("/repos/"))[0]).toMatch(/ 10$/);
  });
});

describe("the repositories the app manages, PR_AUTOSCALER_REPOS", () => {
  it("drops a listed repository whose installation was deleted, and finds it under its new installation", async () => {
    const world = homelab();
    const { registry: repos, lines } = registry([ORG, HOME]);
    await repos.refresh();
    expect(repos.names().sort()).toEqual([HOME, ORG]);
    world.installations.splice(1, 1);
    await repos.refresh();
    expect(repos.names()).toEqual([HOME]);
    expect(said(lines, 30)).toContainEqual(["no longer installed: not managed any more", ORG]);
    world.installations.push({ id: 10, state: "active" });
    world.repository(ORG).installation = 10;
    await repos.refresh();
    expect(repos.names().sort()).toEqual([HOME, ORG]);
    expect(repos.installation(ORG)).toBe(10);
  });

  it("replaces the client of a listed repository whose installation changed", async () => {
    const world = homelab();
    const { registry: repos } = registry([ORG]);
    await repos.refresh();
    const before = repos.target(ORG);
    world.installations.splice(1, 1, { id: 10, state: "active" });
    world.repository(ORG).installation = 10;
    await repos.refresh();
    expect(repos.installation(ORG)).toBe(10);
    expect(repos.target(ORG)).not.toBe(before);
  });

  it("leaves out a listed repository that is archived or whose installation is suspended", async () => {
    const world = homelab();
    world.repository(ORG).archived = true;
    world.installation(7).state = "suspended";
    const { registry: repos, lines } = registry([ORG, HOME]);
    await repos.refresh();
    expect(repos.names()).toEqual([]);
    expect(said(lines, 40)).toEqual([]);
  });
});

describe("readiness with a suspended installation", () => {
  let app: RunningApp | undefined;
  beforeAll(() => {
    nock.enableNetConnect("127.0.0.1");
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it("is ready once the installations that answer were listed", async () => {
    const world = new AppWorld();
    world.installations.push({ id: 7, state: "suspended" }, { id: 8, state: "active" });
    app = await startApp({
      settings: testAppSettings(),
      log: pino({ level: "silent" }),
      observe: async () => cluster(),
      timer: false,
    });
    const ready = await fetch(`${app.url}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([200, "ready\n"]);
    expect(world.calls).not.toContain("POST /app/installations/7/access_tokens app");
  });
});
