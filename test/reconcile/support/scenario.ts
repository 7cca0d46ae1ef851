/**
 * A reconcile scenario on the fake GitHub: the infra repository, a cluster the test changes, and
 * as many app processes ("replicas") as the test starts, each with its own forge and memory.
 */
import { createGitHubTarget } from "../../../src/app/github-target.ts";
import type { MergeOctokit } from "../../../src/merge/merge-octokit.ts";
import type { Snapshot } from "../../../src/planning/snapshot.ts";
import { reconcile } from "../../../src/reconcile/reconcile.ts";
import {
  DEFAULT_SETTINGS,
  type ReconcileResult,
  type ReconcileSettings,
  type ReconcileTarget,
  type TriggerReason,
} from "../../../src/reconcile/reconcile-types.ts";
import { mockGitHub, testOctokit } from "../../support/github.ts";
import { OWNER, REPO } from "../../support/github-responses.ts";
import { BOT_LOGIN, FakeGitHub } from "./fake-github.ts";
import { CONFIG_PATH, cluster, infraFiles, NOW, TFVARS, tfvars } from "./infra.ts";

const MINUTE = 60_000;

export interface Scenario {
  github: FakeGitHub;
  /** The cluster the next reconcile observes. */
  cluster: Snapshot;
  /**
   * When set, how the next reconcile reads the cluster instead of taking `cluster` (a read
   * through a Kubernetes API server, one that fails).
   */
  read?: () => Promise<Snapshot>;
  /** A new app process. */
  replica(): ReconcileTarget;
  /** Reconciles with `target` (default: the first replica). */
  run(target?: ReconcileTarget, reasons?: TriggerReason[]): Promise<ReconcileResult>;
}

export function scenario(
  options: {
    files?: Map<string, string>;
    cluster?: Snapshot;
    settings?: Partial<ReconcileSettings>;
  } = {},
): Scenario {
  const github = new FakeGitHub(options.files ?? infraFiles(), NOW, mockGitHub().scope);
  const settings = { ...DEFAULT_SETTINGS, ...options.settings };
  const world: Scenario = {
    github,
    cluster: options.cluster ?? cluster(),
    replica: () =>
      fakeGitHubTarget(`${OWNER}/${REPO}`, {
        observe: () => world.read?.() ?? world.cluster,
        settings,
        now: () => github.now(),
      }),
    run: (target, reasons = ["timer"]) => reconcile(target ?? first, reasons),
  };
  const first = world.replica();
  return world;
}

/**
 * A scenario whose repository is configured by `config`, on a cluster with one pod waiting for a
 * new node and without the Plex workload, so the worker pool's pull request is the only one.
 */
export function oneNodeShort(config: string): Scenario {
  return scenario({ files: infraFiles({ config }), cluster: cluster({ pending: 1, plex: false }) });
}

/** A scenario whose repository holds only `config` and the tfvars of 3 workers. */
export function poolScenario(config: string): Scenario {
  return scenario({
    files: new Map([
      [CONFIG_PATH, config],
      [TFVARS, tfvars(3)],
    ]),
  });
}

/** A minute later, a reconcile by `target`. */
export async function step(
  world: Scenario,
  target: ReconcileTarget,
  reasons?: TriggerReason[],
): Promise<ReconcileResult> {
  world.github.advance(MINUTE);
  return world.run(target, reasons);
}

/** The bot's reactions to the comment `commentId`. */
export function reactions(world: Scenario, commentId: number): string[] {
  return world.github.reactions.filter((r) => r.commentId === commentId).map((r) => r.content);
}

/** The bot's comments on `issue`. */
export function replies(world: Scenario, issue: number): string[] {
  return world.github
    .commentsOn(issue)
    .filter((c) => c.login === BOT_LOGIN)
    .map((c) => c.body);
}

/** Reconciles once a minute for `minutes`, the cluster as `state` gives it at each time. */
export async function runFor(
  w: Scenario,
  minutes: number,
  state: (at: Date) => Snapshot,
): Promise<ReconcileResult[]> {
  const results: ReconcileResult[] = [];
  for (let i = 0; i < minutes; i++) {
    w.cluster = state(w.github.now());
    results.push(await w.run());
    w.github.advance(MINUTE);
  }
  return results;
}

/** What an app process's target reads besides its repository. */
export interface FakeTargetContext {
  /** The cluster each reconcile observes. */
  observe: () => Snapshot | Promise<Snapshot>;
  settings: ReconcileSettings;
  now: () => Date;
}

/**
 * A new app process's target for the repository `owner/repo` on the fake GitHub: its own
 * octokit and forge, the bot's login, the default branch `main`.
 */
export function fakeGitHubTarget(name: string, context: FakeTargetContext): ReconcileTarget {
  const [owner = "", repo = ""] = name.split("/");
  return createGitHubTarget({
    octokit: testOctokit() as unknown as MergeOctokit,
    owner,
    repo,
    defaultBranch: "main",
    botLogin: BOT_LOGIN,
    observe: async () => context.observe(),
    settings: context.settings,
    now: context.now,
  });
}
