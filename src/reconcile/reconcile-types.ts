import type { CommandGitHub } from "../control/command-github.ts";
import type { CommandReport } from "../control/process-commands.ts";
import type {
  AfterPush,
  BranchPush,
  ClosedBotPullRequest,
  EnsureAction,
  Forge,
} from "../forge/forge.ts";
import type { MergeOutcome } from "../merge/merge-when-ready.ts";
import type { PolicySubject } from "../merge/policy-subject.ts";
import type { NodeDecision } from "../planning/node-decision.ts";
import type { PlanNote } from "../planning/proposal.ts";
import type { Snapshot } from "../planning/snapshot.ts";
import type { AutomergePolicy } from "../policy/automerge-policy.ts";
import type { PolicyFileReader } from "../policy/policy-resolve.ts";
import type { DiscoveredFiles } from "../rightsizing/repo-files.ts";
import type { PlannedPullRequest } from "./pull-request-content.ts";
import type { RepoMemory } from "./repo-memory.ts";

/** Why a reconcile runs; several triggers that arrive while one runs are merged into the next. */
export type TriggerReason =
  | "start"
  | "timer"
  | "push"
  | "pull-request"
  | "comment"
  | "checks"
  | "installation"
  | "demo";

/** App-level limits against noise, and how often slow things are looked at again. */
export interface ReconcileSettings {
  /** At most this many of the bot's pull requests open at once (new ones wait). */
  maxOpen: number;
  /** At most this many new pull requests per rolling hour. */
  maxPerHour: number;
  /** Without a comment webhook, new comments are looked for this often (ms). */
  commandPollMs: number;
  /** A pull request waiting for checks has its auto-merge looked at again this often (ms). */
  mergePollMs: number;
}

export const DEFAULT_SETTINGS: ReconcileSettings = {
  maxOpen: 5,
  maxPerHour: 3,
  commandPollMs: 5 * 60_000,
  mergePollMs: 5 * 60_000,
};

/** The merge input the reconcile knows; the GitHub side adds its client and login. */
export interface MergeRequest {
  pullNumber: number;
  /** The head that may merge: the bot's commit, pushed or checked by the forge in this run. */
  botSha: string;
  subject: PolicySubject;
  policy: AutomergePolicy;
  defaultBranch: string;
  recentlyClosed: readonly ClosedBotPullRequest[];
  now: Date;
}

/** What only GitHub offers: comments, permissions, merging, a file tree. Absent in a dry run. */
export interface GitHubSide {
  commands: CommandGitHub;
  /** Merges the pull request when its policy says so (absent: the verdict is only shown). */
  merge?: (request: MergeRequest) => Promise<MergeOutcome>;
  /** Reads policy files of other repositories for `extends`. */
  readOtherRepo?: PolicyFileReader;
  /** A push to one of the bot's branches, from its webhook: see `autoMergeAfterPush`. */
  afterPush?: (push: BranchPush) => Promise<AfterPush>;
  /**
   * The paths of the repository's files at a commit (a pull request's head); a list GitHub
   * truncates holds at least every file directly in each of `folders`.
   */
  repoPathsAt?: (sha: string, folders?: readonly string[]) => Promise<string[]>;
}

/** One repository to reconcile, with everything it needs. */
export interface ReconcileTarget {
  owner: string;
  repo: string;
  forge: Forge;
  /**
   * Reads the cluster (throws when it cannot be read at all), with usage over at least
   * `usageWindowSeconds` (the longest window the repo's checks judge) where it has a window.
   */
  observe: (request?: { usageWindowSeconds?: number }) => Promise<Snapshot>;
  /** The repo's YAML files at a head, for right-sizing discovery. */
  repoFiles?: (head: { sha: string; treeSha: string }) => Promise<DiscoveredFiles>;
  /**
   * The paths of the repo's files at a head: where a variable file Terraform reads after a
   * pool's target is looked for. A list GitHub truncates holds at least every file directly in
   * each of `folders` (those of the targets). Absent: none is looked for.
   */
  repoPaths?: (
    head: { sha: string; treeSha: string },
    folders?: readonly string[],
  ) => Promise<string[]>;
  github?: GitHubSide;
  memory: RepoMemory;
  settings: ReconcileSettings;
  now?: () => Date;
  /** The label of the bot's issues (the forge's `issueLabel`). */
  issueLabel?: string;
}

export type KeyAction =
  | EnsureAction
  | "closed"
  | "left-alone"
  | "deferred"
  | "paused"
  | "failed"
  | "branch-deleted";

/** What happened to one pull request key in this reconcile. */
export interface KeyOutcome {
  key: string;
  action: KeyAction;
  /** The pull request's title, when the plan made one. */
  title?: string;
  number?: number;
  url?: string;
  note?: string;
}

export type ReconcileStatus = "ok" | "no-config" | "config-error" | "cluster-error";

export interface ReconcileResult {
  repository: string;
  status: ReconcileStatus;
  /** The default branch head that was read; empty for a repository without a commit. */
  head: string;
  pullRequests: KeyOutcome[];
  merges: { number: number; action: MergeOutcome["action"] | "failed"; note: string }[];
  commands: CommandReport[];
  dashboard: "created" | "updated" | "unchanged" | "skipped" | "failed";
  notes: PlanNote[];
  /** Failures that did not stop the run (each step is retried on the next). */
  errors: string[];
  /** Everything is paused: by `/autoscaler pause`, or held while the command state is unreadable. */
  paused: boolean;
  /**
   * The dashboard's command state block could not be read in this run: everything is now held
   * until `/autoscaler resume` (`held`, a process without a state of its own), or this process's
   * own state is written back (`kept`).
   */
  controlUnreadable?: { problem: string; action: "held" | "kept" };
  /**
   * In the first run of this process that finds no configuration but one under the `.yaml` name
   * (`.github/pr-autoscaler.yaml`, not read): that it is there and how to mend it.
   */
  misnamedConfig?: { file: string; message: string };
  /** The pools' decisions (empty when the run stopped before planning). */
  decisions: NodeDecision[];
  /** Every pull request the plan wants, as made for the forge (with its policy verdict). */
  planned: PlannedPullRequest[];
  /**
   * Every change the plan wants after people's commands, including those paused or held back
   * by the limits (empty when the run stopped before planning).
   */
  proposals: ProposalSummary[];
  /**
   * Whether the cluster was read completely (absent: the run stopped before reading it). On a
   * partial read nothing is planned, so `proposals` then says nothing of what the cluster needs.
   */
  snapshotComplete?: boolean;
}

/** One change the plan wants, as the metrics count it. */
export interface ProposalSummary {
  key: string;
  kind: "nodes" | "resources";
  /** Resources: `mixed` when some values go up and others down. */
  direction: "up" | "down" | "mixed";
}
