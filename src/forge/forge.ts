/**
 * The forge: where the bot's pull requests, branches, issues and checks live. The reconcile loop
 * reads a `RepoState`, decides, and asks the forge to converge on what it wants; every method is
 * safe to call again after a failure or from a second replica.
 */

/** A pull request the plan wants, for one stable target (one branch per key). */
export interface DesiredPullRequest {
  /** Stable target key, e.g. "nodes-workers"; the branch is `pr-autoscaler/<key>`. */
  key: string;
  title: string;
  /** Markdown; the forge appends a hidden marker (key, fingerprint, the bot's commit). */
  body: string;
  /** Labels the bot sets, e.g. ["autoscaling", "scale-up"]. */
  labels: string[];
  /** Hash of the plan: an unchanged fingerprint on an up-to-date branch causes no update. */
  fingerprint: string;
  /** A node count change: recorded in the marker, so a closed pull request still says it. */
  change?: CountChange;
  /**
   * Hash of the values written alone (not the verdict): recorded in the marker, so the next
   * update tells a change of what would merge from a change of its description.
   */
  valuesFingerprint?: string;
  /**
   * When the values last changed (ISO), recorded in the marker: set by the update that changes
   * them, kept by every other; absent while they are the ones the pull request opened with.
   */
  changedAt?: string;
  /**
   * A right-sizing change's workloads (`namespace/Kind/name`), recorded in the marker: what a
   * namespace's or the repository's pull request carries is known when the plan drops one.
   */
  workloads?: string[];
  /** The containers whose values a right-sizing change writes (`namespace/Kind/name/container`). */
  containers?: string[];
  /** The requests it changes (`namespace/Kind/name/container/resource`). */
  requests?: string[];
  /**
   * Builds the new contents of the files the plan changes, reading the default branch's current
   * files through `read` (undefined for a file that does not exist).
   */
  build(read: FileReader): Promise<FileChange[]>;
  /**
   * Whether the files `head` reads are this change made on the files `base` reads, with the values
   * the head holds instead of the plan's: each value the change may write is read from the head,
   * the edit is made again on the base with it, and the result must be the head's files byte for
   * byte. True for the bot's own commit of an earlier plan for the key, false for anything else
   * changed in those files.
   */
  sameEdit(base: FileReader, head: FileReader): Promise<boolean>;
}

/** Reads a file of the base commit; undefined when it does not exist. */
export type FileReader = (path: string) => Promise<string | undefined>;

/** The new full contents of one file, by its path from the repository root. */
export interface FileChange {
  path: string;
  content: string;
}

/** What the forge knows about the repository at one moment. */
export interface RepoState {
  defaultBranch: string;
  /** The default branch's head commit and its tree. */
  head: { sha: string; treeSha: string };
  /** Open pull requests from `pr-autoscaler/…` branches, oldest first. */
  pullRequests: BotPullRequest[];
  /** The bot's most recently closed pull requests (merged or not), newest first. */
  recentlyClosed: ClosedBotPullRequest[];
  /** `pr-autoscaler/…` branches with no open pull request (left by a merge, a close or a failure). */
  strayBranches: StrayBranch[];
  /**
   * Recently merged pull requests into the default branch, anyone's: the last commit of each
   * branch and when it was merged. A pull request merged with a merge commit leaves its branch
   * commit in a file's history with the date it was written; the change landed at the merge.
   */
  mergedHeads?: { sha: string; mergedAt: string }[];
  /**
   * People's open pull requests into the default branch (any not the bot's), oldest first: a
   * pool whose count one of them changes gets nothing new from the bot while it is open.
   */
  peoplePullRequests?: PeoplePullRequest[];
}

/** An open pull request into the default branch that is not the bot's. */
export interface PeoplePullRequest {
  number: number;
  /** Who opened it; absent for a deleted account. */
  login?: string;
  /** Its head commit, read from the repository (GitHub keeps a fork's head there too). */
  headSha: string;
  /** The default branch commit it was opened on or last synchronised with, when GitHub says. */
  baseSha?: string;
  /** Its head branch lives in another repository (a fork), or in one deleted since. */
  fork: boolean;
  /** A draft: it holds a pool like any other, and the dashboard says it is a draft. */
  draft?: boolean;
}

/** Who may change a bot pull request: the bot, or people (the bot then leaves it alone). */
export type PullRequestControl = "bot" | "human";

/** The node count a pull request changes, from the default branch's value to the new one. */
export interface CountChange {
  from: number;
  to: number;
}

/** An open pull request whose head is a `pr-autoscaler/<key>` branch of the repository. */
export interface BotPullRequest {
  number: number;
  key: string;
  branch: string;
  title: string;
  /** The current body, hidden marker included. */
  body: string;
  url: string;
  headSha: string;
  labels: string[];
  /** ISO time the pull request was opened (for limits on pull requests per hour). */
  createdAt: string;
  /** The plan fingerprint recorded by the bot, when its marker is readable. */
  fingerprint: string | undefined;
  /** "human" when someone pushed to the branch, retargeted it or removed the marker. */
  control: PullRequestControl;
  /** Why people own it now (set when `control` is "human"). */
  handsOffReason: string | undefined;
  /** The branch holds the bot's latest commit and that commit sits on the default branch head. */
  upToDate: boolean;
  /** The bot has already said, once, that it leaves this pull request to people. */
  handsOffNoticed: boolean;
  /** The count change its marker records; absent in pull requests written before it did. */
  change?: CountChange;
  /** The values' hash its marker records (see `DesiredPullRequest.valuesFingerprint`). */
  valuesFingerprint?: string;
  /** When an update last changed its values (ISO), as its marker records; absent: never. */
  changedAt?: string;
  /**
   * The workloads whose changes it carries (`namespace/Kind/name`), as its marker records;
   * absent in a node pull request, or one written before the marker recorded them.
   */
  workloads?: string[];
  /** The containers whose values it changes (`namespace/Kind/name/container`), likewise. */
  containers?: string[];
  /**
   * The requests it changes (`namespace/Kind/name/container/resource`), likewise; absent too in
   * a marker written before they were recorded, whose containers are known alone.
   */
  requests?: string[];
  /**
   * The last notice saying why it is kept as it is (see `noticeKept`), as its marker records;
   * absent: none said.
   */
  keptNotice?: string;
  /** How many comments saying why it is kept were posted on it, as its marker records. */
  keptSaid?: number;
  /**
   * The forge's own auto-merge (GitHub's) is on, whoever turned it on: an update that changes
   * the values turns it off first, so the new values do not merge without their grace period.
   */
  autoMerge?: boolean;
  /** Who turned the forge's auto-merge on, when it is on and the forge says. */
  autoMergeBy?: string;
  /** The forge's id of the pull request (GitHub's GraphQL node id), when known. */
  nodeId?: string;
}

/** A bot pull request that was closed or merged. */
export interface ClosedBotPullRequest {
  number: number;
  key: string;
  title: string;
  labels: string[];
  createdAt: string;
  closedAt: string;
  /** Set when it was merged. */
  mergedAt: string | undefined;
  /**
   * Who closed it: "bot" when the bot's own close marked it so (in the same request), else
   * "people" (a merge is told by `mergedAt`). Absent when not known.
   */
  closedBy?: "bot" | "people";
  /** Whether the bot still controlled it when it was closed ("human": left to people). */
  control?: PullRequestControl;
  /** The count change its marker records; absent in pull requests written before it did. */
  change?: CountChange;
}

/** A `pr-autoscaler/<key>` branch without an open pull request. */
export interface StrayBranch {
  key: string;
  branch: string;
  sha: string;
  /**
   * Set when its head is already known (read before, remembered by commit) not to be the bot's
   * commit for the key: the branch is people's, and `deleteStrayBranch` would leave it alone.
   * Absent when unknown or the bot's.
   */
  foreignHead?: true;
}

/** What `ensurePullRequest` did. */
export type EnsureAction =
  /** Opened a new pull request (on a new branch, or on a stray branch of the bot's). */
  | "created"
  /** The plan changed: a new commit from the default branch head, title, body and labels refreshed. */
  | "updated"
  /** Same plan, but the branch was behind the default branch or half-updated: rebuilt on the head. */
  | "rebuilt"
  /** Nothing to do, or another run already opened this pull request. */
  | "unchanged"
  /**
   * People changed the branch or the pull request: left alone (said once in a comment). Also
   * when they pushed to, merged or closed it while the bot was updating it: the update stopped
   * before the branch moved, the title and body as they were (the note says which).
   */
  | "human-edited"
  /** The default branch already has these contents: nothing opened, an open one closed. */
  | "already-applied"
  /** A branch the bot did not make holds the name `pr-autoscaler/<key>` without a pull request. */
  | "blocked";

export interface EnsureResult {
  action: EnsureAction;
  key: string;
  /** The pull request concerned, when there is one. */
  number?: number;
  url?: string;
  /** Why, in a sentence, for logs and the dashboard. */
  note?: string;
  /**
   * The pull request's head when it is the bot's change as the plan makes it now on the default
   * branch's head: just pushed, or checked against the default branch. The only commit that may
   * merge under the policy; absent when none was checked (another run's pull request, people's).
   */
  botSha?: string;
}

/** A push to the branch of one of the bot's pull requests, as the forge's webhook tells it. */
export interface BranchPush {
  number: number;
  /** The forge's id of the pull request (GitHub's GraphQL node id). */
  nodeId: string;
  /** The account that pushed. */
  pusher: string;
  /** Who turned the forge's auto-merge on, when it was on after the push. */
  autoMergeBy: string | undefined;
}

/**
 * What a push to one of the bot's branches did at once: nothing, for the bot's own push; the
 * bot's auto-merge turned off; nothing, for auto-merge that is off or people's.
 */
export type AfterPush = "pushed-by-bot" | "auto-merge-off" | "not-the-bots";

/** What `closePullRequest` or `deleteStrayBranch` did. */
export interface CloseResult {
  action: "closed" | "deleted" | "left-alone";
  note?: string;
}

/** An issue the bot keeps (the dashboard, a configuration error), found again by its key. */
export interface DesiredIssue {
  key: string;
  title: string;
  body: string;
  /** Default true; false closes the issue if it exists (e.g. the configuration is fixed). */
  open?: boolean;
  /** Recorded in the issue's hidden marker beside its key (the dashboard's last comment taken). */
  lastComment?: number;
}

export interface IssueResult {
  action: "created" | "updated" | "unchanged" | "absent";
  number?: number;
}

export interface FileHistoryOptions {
  /** How many of the latest changes to return (default 10, at most 100). */
  limit?: number;
  /** Keep only changes at or after this ISO time. */
  since?: string;
}

/** One commit on the default branch that changed a file. */
export interface FileHistoryEntry {
  sha: string;
  /** ISO time the commit was made on the branch (committer date). */
  date: string;
  message: string;
  /** The pull request it came from, when the merge or squash message names it. */
  prNumber?: number;
  /** The repository's first commit: the forge lists it with no parent. */
  root?: true;
}

/** One of the latest commits reachable from the default branch head, whichever file it changed. */
export interface BranchCommit {
  sha: string;
  /** ISO time it was committed (committer date). */
  date: string;
  /** Its parents' shas, the first parent first; none for a root commit. */
  parents: string[];
}

/** A check run result with file:line annotations (for configuration errors). */
export interface CheckReport {
  name: string;
  headSha: string;
  conclusion: "success" | "failure" | "neutral";
  title: string;
  summary: string;
  annotations: CheckAnnotation[];
}

export interface CheckAnnotation {
  path: string;
  startLine: number;
  endLine?: number;
  level: "notice" | "warning" | "failure";
  message: string;
  title?: string;
}

/** A commit status, for tokens that cannot create check runs (not a GitHub App). */
export interface CommitStatusReport {
  sha: string;
  context: string;
  state: "success" | "failure" | "error" | "pending";
  description: string;
  targetUrl?: string;
}

export interface ReportResult {
  action: "created" | "unchanged";
}

/** The operations the reconcile loop uses. Implemented for GitHub and as a dry run. */
export interface Forge {
  /** Reads the default branch head, the open bot pull requests and the stray bot branches. */
  readState(): Promise<RepoState>;
  /** Opens, updates, rebuilds or leaves alone the pull request for `desired.key`. */
  ensurePullRequest(desired: DesiredPullRequest, state: RepoState): Promise<EnsureResult>;
  /**
   * Says why in a comment, closes the pull request and deletes its branch; the forge's auto-merge
   * the bot turned on goes off first. One people took over is left alone.
   */
  closePullRequest(pr: BotPullRequest, reason: string, state: RepoState): Promise<CloseResult>;
  /**
   * Leaves a pull request people took over to them, for one the plan no longer wants
   * (`ensurePullRequest` does it for one it wants): the forge's auto-merge the bot turned on goes
   * off, since it would merge what they pushed, and they are told so once.
   */
  leavePullRequest(pr: BotPullRequest): Promise<void>;
  /**
   * Turns off the forge's auto-merge that the bot's account turned on, for a pull request kept
   * as it is while nothing vouches for its merge: paused, held because something is wrong, the
   * configuration in error or removed (one people took over), the cluster unreadable (else the
   * forge would merge it when its checks pass); true when it did. No request when auto-merge is
   * off or people turned it on.
   */
  withdrawAutoMerge(pr: BotPullRequest): Promise<boolean>;
  /**
   * Says MESSAGE in a comment on a pull request kept as it is (a change in it that cannot be
   * judged now), once for NOTICE (a digest of what is kept, not of the words, which may count
   * time): it goes into the hidden marker, so later runs need no request to know it was said,
   * and another one is said again. `ensurePullRequest` takes it off the marker once the plan
   * wants the pull request as it is again (one request), so a later keep is said again too.
   */
  noticeKept(pr: BotPullRequest, message: string, notice: string): Promise<void>;
  /** Deletes a stray branch when it holds only the bot's commit. */
  deleteStrayBranch(branch: StrayBranch, state: RepoState): Promise<CloseResult>;
  /** A file's text at `ref` (default: the default branch head); undefined when absent. */
  readFile(path: string, ref?: string): Promise<string | undefined>;
  /**
   * The last commit `head` shares with `base` (both commit shas); absent on a forge that cannot
   * tell, where a pull request's base commit stands for it.
   */
  mergeBase?(base: string, head: string): Promise<string>;
  /** The latest commits on the default branch that changed `path`, newest first. */
  fileHistory(path: string, options?: FileHistoryOptions): Promise<FileHistoryEntry[]>;
  /**
   * The latest `limit` commits reachable from the default branch head (default 100, at most
   * 100), newest first, with their parents: which of them came in through a merge, and when.
   */
  branchCommits(limit?: number): Promise<BranchCommit[]>;
  /** Creates the issue for `issue.key`, or updates it in place when its title, body or state differ. */
  ensureIssue(issue: DesiredIssue): Promise<IssueResult>;
  comment(issueNumber: number, body: string): Promise<void>;
  /** Reports a check run on a commit, unless the same report is already there. */
  reportCheck(check: CheckReport): Promise<ReportResult>;
  /** Sets a commit status, unless the same status is already there. */
  setCommitStatus(status: CommitStatusReport): Promise<ReportResult>;
}
