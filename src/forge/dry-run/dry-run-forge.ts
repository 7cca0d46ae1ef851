import { assertValidKey, branchForKey } from "../branch-name.ts";
import type {
  BotPullRequest,
  CheckReport,
  CommitStatusReport,
  DesiredPullRequest,
  EnsureResult,
  FileChange,
  Forge,
  RepoState,
} from "../forge.ts";
import { normalizeRepoPath } from "../repo-path.ts";
import { unifiedDiff } from "./unified-diff.ts";

/** One file's change, as a unified diff against the default branch. */
export interface FileDiff {
  path: string;
  diff: string;
}

/** What the dry run would have done, in order. */
export type DryRunAction =
  | {
      kind: "open-pull-request" | "update-pull-request";
      key: string;
      branch: string;
      /** Set for an update. */
      number?: number;
      title: string;
      labels: string[];
      body: string;
      diffs: FileDiff[];
    }
  | { kind: "close-pull-request"; key: string; number: number; reason: string }
  | { kind: "delete-branch"; branch: string }
  | { kind: "ensure-issue"; key: string; title: string; body: string; open: boolean }
  | { kind: "comment"; issueNumber: number; body: string }
  | { kind: "check"; check: CheckReport }
  | { kind: "status"; status: CommitStatusReport };

export interface DryRunForgeOptions {
  /**
   * Where files, history and comparisons come from: a GitHub forge, or a local checkout reader
   * (which compares nothing).
   */
  base: Pick<Forge, "readFile" | "fileHistory"> &
    Partial<Pick<Forge, "branchCommits" | "mergeBase">>;
  /** The repository's state (e.g. a GitHub forge's readState); default: nothing open. */
  state?: RepoState;
}

/** A forge that changes nothing and records what it would do. */
export interface DryRunForge extends Forge {
  readonly actions: DryRunAction[];
}

/**
 * The files as they are, with no pull requests or branches: what a dry run over a local checkout
 * starts from. There is no commit, so the head is named "working-tree".
 */
export function workingTreeState(defaultBranch = "main"): RepoState {
  return {
    defaultBranch,
    head: { sha: "working-tree", treeSha: "working-tree" },
    pullRequests: [],
    recentlyClosed: [],
    strayBranches: [],
  };
}

/**
 * Creates a dry-run forge: it reads through `options.base`, decides like the GitHub forge
 * (unchanged plans stay unchanged, pull requests people took over are left alone), and records
 * each pull request with its title, labels, body and a unified diff per file.
 */
export function createDryRunForge(options: DryRunForgeOptions): DryRunForge {
  const actions: DryRunAction[] = [];
  const state = options.state ?? workingTreeState();

  async function ensure(desired: DesiredPullRequest, current: RepoState): Promise<EnsureResult> {
    assertValidKey(desired.key);
    const existing = current.pullRequests.find((pr) => pr.key === desired.key);
    const found = existing ? { number: existing.number, url: existing.url } : {};
    if (existing?.control === "human") {
      return { action: "human-edited", key: desired.key, ...found, note: existing.handsOffReason };
    }
    const replanned = existing?.fingerprint !== desired.fingerprint;
    if (existing && !replanned && existing.upToDate) {
      return { action: "unchanged", key: desired.key, ...found };
    }
    const diffs = await diffsOf(options.base, desired);
    if (diffs.length === 0) {
      if (existing)
        record(closeAction(existing, "The default branch already contains this change."));
      return { action: "already-applied", key: desired.key, ...found };
    }
    actions.push({
      kind: existing ? "update-pull-request" : "open-pull-request",
      key: desired.key,
      branch: branchForKey(desired.key),
      ...(existing ? { number: existing.number } : {}),
      title: desired.title,
      labels: desired.labels,
      body: desired.body,
      diffs,
    });
    const action = !existing ? "created" : replanned ? "updated" : "rebuilt";
    return { action, key: desired.key, ...found };
  }

  function record(action: DryRunAction) {
    actions.push(action);
  }

  return {
    actions,
    readState: async () => state,
    ensurePullRequest: ensure,
    closePullRequest: async (pr, reason) => {
      if (pr.control === "human") return { action: "left-alone", note: pr.handsOffReason };
      record(closeAction(pr, reason));
      return { action: "closed" };
    },
    // The dry run leaves people's pull requests alone, as `ensure` does: nothing to record.
    leavePullRequest: async () => {},
    // Nothing is merged in a dry run, so no auto-merge is on to turn off.
    withdrawAutoMerge: async () => false,
    noticeKept: async (pr, message) => {
      record({ kind: "comment", issueNumber: pr.number, body: message });
    },
    deleteStrayBranch: async (stray) => {
      record({ kind: "delete-branch", branch: stray.branch });
      return { action: "deleted" };
    },
    readFile: (path, ref) => options.base.readFile(path, ref),
    fileHistory: (path, historyOptions) => options.base.fileHistory(path, historyOptions),
    branchCommits: async (limit) => (await options.base.branchCommits?.(limit)) ?? [],
    // A read, as the GitHub forge makes it: where a person's pull request left the default
    // branch, so one that only lags behind a count changed since is not taken to change it.
    ...(options.base.mergeBase ? { mergeBase: options.base.mergeBase.bind(options.base) } : {}),
    ensureIssue: async (issue) => {
      record({ kind: "ensure-issue", ...issue, open: issue.open ?? true });
      return { action: issue.open === false ? "absent" : "created" };
    },
    comment: async (issueNumber, body) => {
      record({ kind: "comment", issueNumber, body });
    },
    reportCheck: async (check) => {
      record({ kind: "check", check });
      return { action: "created" };
    },
    setCommitStatus: async (status) => {
      record({ kind: "status", status });
      return { action: "created" };
    },
  };
}

function closeAction(pr: BotPullRequest, reason: string): DryRunAction {
  return { kind: "close-pull-request", key: pr.key, number: pr.number, reason };
}

/** The builder's changes against the default branch, files in the order it returned them. */
async function diffsOf(
  base: Pick<Forge, "readFile">,
  desired: DesiredPullRequest,
): Promise<FileDiff[]> {
  const read = new Map<string, string | undefined>();
  const reader = async (path: string) => {
    const file = normalizeRepoPath(path);
    if (!read.has(file)) read.set(file, await base.readFile(file));
    return read.get(file);
  };
  const changes: FileChange[] = await desired.build(reader);
  const diffs: FileDiff[] = [];
  for (const change of changes) {
    const path = normalizeRepoPath(change.path);
    const diff = unifiedDiff(path, await reader(path), change.content);
    if (diff !== "" && !diffs.some((existing) => existing.path === path))
      diffs.push({ path, diff });
  }
  return diffs;
}
