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
import { cluster, infraFiles, NOW } from "./infra.ts";

export interface Scenario {
  github: FakeGitHub;
  /** The cluster the next reconcile observes. */
  cluster: Snapshot;
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
      createGitHubTarget({
        octokit: testOctokit() as unknown as MergeOctokit,
        owner: OWNER,
        repo: REPO,
        defaultBranch: "main",
        botLogin: BOT_LOGIN,
        observe: async () => world.cluster,
        settings,
        now: () => github.now(),
      }),
    run: (target, reasons = ["timer"]) => reconcile(target ?? first, reasons),
  };
  const first = world.replica();
  return world;
}
