/**
 * Several infra repositories of one app, observing one cluster: each repository is its own
 * stateful FakeGitHub, and one checked GitHub mock routes `/repos/{owner}/{repo}/…` to it (the
 * fake serves octocat/Hello-World; names in its answers are put back to the repository's).
 */
import type nock from "nock";
import type { Snapshot } from "../../../src/planning/snapshot.ts";
import { reconcile } from "../../../src/reconcile/reconcile.ts";
import {
  DEFAULT_SETTINGS,
  type ReconcileResult,
  type ReconcileSettings,
  type ReconcileTarget,
  type TriggerReason,
} from "../../../src/reconcile/reconcile-types.ts";
import type { RepositoryLedger } from "../../../src/reconcile/repository-ledger.ts";
import { mockGitHub } from "../../support/github.ts";
import { OWNER, REPO } from "../../support/github-responses.ts";
import { FakeClock, FakeGitHub } from "./fake-github.ts";
import { cluster, infraFiles, NOW } from "./infra.ts";
import { fakeGitHubTarget } from "./scenario.ts";

type Answer = [number, unknown, Record<string, string>?];
type Handler = (request: Request) => Promise<Answer>;

const SERVED = `${OWNER}/${REPO}`;

export interface Repositories {
  /** The cluster every repository's next reconcile observes. */
  cluster: Snapshot;
  github(name: string): FakeGitHub;
  /** Moves the one clock of every repository (and of the app process reconciling them). */
  advance(ms: number): void;
  /** The repository's target in this app process (a new one: `fresh`, as after a restart). */
  target(name: string, fresh?: boolean): ReconcileTarget;
  run(name: string, ledger?: RepositoryLedger, reasons?: TriggerReason[]): Promise<ReconcileResult>;
}

/** `files` by `owner/name`: each a repository of the app, on one clock. */
export function repositories(
  files: Record<string, Map<string, string>>,
  options: { cluster?: Snapshot; settings?: Partial<ReconcileSettings> } = {},
): Repositories {
  const clock = new FakeClock(NOW);
  const fakes = new Map<string, { fake: FakeGitHub; handler: Handler }>();
  for (const [name, contents] of Object.entries(files)) {
    const { scope, handler } = capture();
    fakes.set(name.toLowerCase(), {
      fake: new FakeGitHub(contents, clock, scope),
      handler: handler(),
    });
  }
  route(mockGitHub().scope, fakes);
  const settings = { ...DEFAULT_SETTINGS, ...options.settings };
  const targets = new Map<string, ReconcileTarget>();
  const world: Repositories = {
    cluster: options.cluster ?? cluster(),
    github(name) {
      const found = fakes.get(name.toLowerCase());
      if (!found) throw new Error(`no repository ${name}`);
      return found.fake;
    },
    advance: (ms) => clock.advance(ms),
    target(name, fresh = false) {
      const known = targets.get(name);
      if (known && !fresh) return known;
      const made = fakeGitHubTarget(name, {
        observe: () => world.cluster,
        settings,
        now: () => clock.now(),
      });
      targets.set(name, made);
      return made;
    },
    run: (name, ledger, reasons = ["timer"]) =>
      reconcile(world.target(name), reasons, ledger ? { ledger } : {}),
  };
  return world;
}

/**
 * The infra repository's files with the pool selecting the nodes labelled `pool=<pool>`, of
 * which `workers` exist.
 */
export function infraWithSelector(pool: string, workers: number): Map<string, string> {
  const files = infraFiles({ workers });
  const config = files.get(".github/pr-autoscaler.yml") ?? "";
  files.set(
    ".github/pr-autoscaler.yml",
    config.replace(
      "    min: 1\n",
      `    min: 1\n    selector:\n      matchLabels:\n        pool: ${pool}\n`,
    ),
  );
  return files;
}

function route(scope: nock.Scope, fakes: Map<string, { fake: FakeGitHub; handler: Handler }>) {
  scope.persist();
  for (const method of ["GET", "POST", "PATCH", "PUT", "DELETE"]) {
    scope
      .intercept(() => true, method)
      .optionally()
      .reply(async (request: Request) => {
        const url = new URL(request.url);
        const match = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(decodeURIComponent(url.pathname));
        const name = match ? `${match[1]}/${match[2]}` : "";
        const found = fakes.get(name.toLowerCase());
        if (!match || !found) return [404, { message: "Not Found" }];
        const inner = new URL(
          `https://api.github.com/repos/${SERVED}${match[3] ?? ""}${url.search}`,
        );
        const body = ["GET", "HEAD"].includes(request.method) ? undefined : await request.text();
        const [status, answer, headers] = await found.handler(
          new Request(inner, {
            method: request.method,
            headers: request.headers,
            ...(body !== undefined ? { body } : {}),
          }),
        );
        if (typeof answer === "string" || answer === undefined)
          return [status, answer, headers ?? {}];
        const [owner = "", repo = ""] = name.split("/");
        const text = JSON.stringify(answer)
          .replaceAll(SERVED, name)
          .replaceAll(`"name":"${REPO}"`, `"name":"${repo}"`)
          .replaceAll(`"login":"${OWNER}"`, `"login":"${owner}"`);
        return [status, JSON.parse(text), headers ?? {}];
      });
  }
}

/** A nock scope stand-in that keeps the handler a FakeGitHub registers on it. */
function capture(): { scope: nock.Scope; handler: () => Handler } {
  let handler: Handler | undefined;
  const scope = {
    persist: () => scope,
    intercept: () => ({
      optionally: () => ({
        reply: (fn: Handler) => {
          handler = fn;
          return scope;
        },
      }),
    }),
  };
  return {
    scope: scope as unknown as nock.Scope,
    handler: () => {
      if (!handler) throw new Error("the fake registered no handler");
      return handler;
    },
  };
}
