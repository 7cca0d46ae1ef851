import type { NodeDecision } from "../planning/node-decision.ts";
import { planNodes } from "../planning/node-plan.ts";
import type { UsageHistory } from "../planning/node-plan-input.ts";
import {
  type NodeProposal,
  nodeProposals,
  type PlanNote,
  type PlanOutput,
  type Proposal,
} from "../planning/proposal.ts";
import type { Snapshot } from "../planning/snapshot.ts";
import { schedulerFailedNote, unjudgedPendingNote } from "../planning/unjudged-pods.ts";
import { scheduleCapNotes } from "../policy/host-cap.ts";
import {
  type ConfigIssue,
  loadRepoConfig,
  unreadableConfigIssue,
} from "../policy/load-repo-config.ts";
import { REPO_CONFIG_PATH, type RepoConfig } from "../policy/repo-config.ts";
import { readPoolFacts, unlistedFilesMessage } from "../repo/pool-facts.ts";
import { type RepoReader, UnreadableFileError } from "../repo/repo-reader.ts";
import { planRightsizing, type RightsizingPlan } from "../rightsizing/plan-rightsizing.ts";
import { type RepoFile, readRepoFiles } from "../rightsizing/repo-files.ts";
import type { RepoIndex } from "../rightsizing/repo-index.ts";

export type RepoConfigState =
  | { status: "absent" }
  | { status: "invalid"; issues: ConfigIssue[] }
  /** `source`: the configuration's text and the name of its file. */
  | { status: "ok"; config: RepoConfig; source: { text: string; file: string } };

/**
 * Reads `.github/pr-autoscaler.yml` (or the given text) from the repo's default branch. A repo
 * without the file is left alone; an invalid file is reported, never half-applied.
 */
export async function readRepoConfig(
  repo: RepoReader,
  override?: { text: string; file: string },
): Promise<RepoConfigState> {
  let text: string | undefined;
  try {
    text = override?.text ?? (await repo.readFile(REPO_CONFIG_PATH));
  } catch (error) {
    // A config that is no text file (a directory, a link, not UTF-8) is an invalid config,
    // reported as one, not a reconcile that fails every time.
    if (!(error instanceof UnreadableFileError)) throw error;
    return { status: "invalid", issues: [unreadableConfigIssue(error)] };
  }
  if (text === undefined) return { status: "absent" };
  const file = override?.file ?? REPO_CONFIG_PATH;
  const loaded = loadRepoConfig(text, file);
  return loaded.ok
    ? { status: "ok", config: loaded.config, source: { text, file } }
    : { status: "invalid", issues: loaded.issues };
}

export interface PlanRepoInput {
  repo: RepoReader;
  config: RepoConfig;
  snapshot: Snapshot;
  now: Date;
  history?: UsageHistory;
  /** Open scaling pull requests by pool, as the forge sees them. */
  openPullRequests?: ReadonlyMap<string, { number: number; desired?: number }>;
  /**
   * The configuration's text and file name: a pool whose count cannot be read for its target
   * names the line of `target.file` or `target.path` in it.
   */
  configSource?: { text: string; file: string };
}

export interface PlanRepoResult extends PlanOutput<NodeProposal> {
  decisions: NodeDecision[];
  /** The pools' target files as read from the default branch, by path. */
  files?: ReadonlyMap<string, string>;
}

/** Observe the repo, decide, and edit: every proposal's files are made and verified by the editors. */
export async function planRepo(input: PlanRepoInput): Promise<PlanRepoResult> {
  const { facts, files, listingProblem } = await readPoolFacts(
    input.repo,
    input.config,
    input.now,
    input.configSource,
  );
  for (const fact of facts) {
    const open = input.openPullRequests?.get(fact.pool);
    if (open) fact.openPullRequest = open;
  }
  const decisions = planNodes({
    snapshot: input.snapshot,
    config: input.config,
    repo: facts,
    now: input.now,
    ...(input.history ? { history: input.history } : {}),
  });
  const output = nodeProposals(decisions, files);
  if (listingProblem !== undefined)
    output.notes.push({
      level: "warning",
      subject: "repo",
      message: unlistedFilesMessage("the repository's files", listingProblem),
    });
  const unjudged = input.config.pools.length > 0 && unjudgedPendingNote(input.snapshot, input.now);
  if (unjudged) output.notes.push(unjudged);
  const failed = input.config.pools.length > 0 && schedulerFailedNote(input.snapshot, input.now);
  if (failed) output.notes.push(failed);
  // Said before the window opens too, as `validate` says it: its bounds show it only while open.
  for (const message of scheduleCapNotes(input.config.pools))
    output.notes.push({ level: "info", subject: "config", message });
  return { ...output, decisions, files };
}

export interface PlanChangesInput extends PlanRepoInput {
  /**
   * The repo's YAML files for right-sizing discovery, or an index built from them earlier (the
   * app keeps one per tree). Absent: read through `repo.listFiles` when right-sizing is on.
   */
  rightsizingFiles?: readonly RepoFile[] | RepoIndex;
  /** The keys of open right-sizing pull requests of one workload each, by its identity. */
  heldKeys?: ReadonlyMap<string, string>;
}

/** Everything the plan wants: node counts first (they unblock pods), then request changes. */
export interface ChangePlan {
  proposals: Proposal[];
  notes: PlanNote[];
  decisions: NodeDecision[];
  /** The pools' target files as read from the default branch, by path. */
  files: ReadonlyMap<string, string>;
  rightsizing: RightsizingPlan;
}

/**
 * Plans node counts (`planRepo`) and container requests (`planRightsizing`) for the repo, as
 * one list of proposals with their notes. Every proposal's files are made and verified by the
 * editors; nothing is written.
 */
export async function planChanges(input: PlanChangesInput): Promise<ChangePlan> {
  const nodes = await planRepo(input);
  const rightsizing = await planResources(input);
  return {
    proposals: [...nodes.proposals, ...rightsizing.proposals],
    notes: [...nodes.notes, ...rightsizing.notes],
    decisions: nodes.decisions,
    files: nodes.files ?? new Map(),
    rightsizing,
  };
}

async function planResources(input: PlanChangesInput): Promise<RightsizingPlan> {
  const config = input.config.rightsizing;
  if (!config?.enabled) return { proposals: [], notes: [], unjudged: [], leftOut: [] };
  const files = input.rightsizingFiles ?? (await readRepoFiles(input.repo));
  const plan = planRightsizing({
    snapshot: input.snapshot,
    config,
    files,
    ...("documents" in files ? {} : { repository: (await input.repo.remoteUrls?.()) ?? [] }),
    now: input.now,
    ...(input.heldKeys ? { held: input.heldKeys } : {}),
  });
  if ("documents" in files && files.partial) plan.notes.push({ ...PARTIAL_DISCOVERY });
  return plan;
}

/** Discovery on a file list GitHub truncated: what it did not see, it cannot say is not there. */
const PARTIAL_DISCOVERY: PlanNote = {
  level: "warning",
  subject: "repo",
  message:
    "GitHub truncated the list of the repository's files (a tree of over 100,000 entries or 7 MB): right-sizing's discovery saw only the files listed, and a values file, manifest or kustomization past the cut was not looked at",
};
