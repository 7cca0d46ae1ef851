import { shownWarnings } from "../cluster/warnings.ts";
import { applyControl } from "../control/apply-control.ts";
import { isPaused } from "../control/control-state.ts";
import type { ClosedBotPullRequest, RepoState } from "../forge/forge.ts";
import { EmptyRepositoryError, NotATextFileError } from "../forge/forge-error.ts";
import { INCOMPLETE_CODES } from "../planning/safety.ts";
import type { Snapshot } from "../planning/snapshot.ts";
import { usageWarningsOutsidePools } from "../planning/unread-usage.ts";
import { poolUtilisationSamples } from "../planning/usage-history.ts";
import type { RepoConfiguration } from "../policy/policy-validate.ts";
import { MISNAMED_CONFIG, MISNAMED_CONFIG_PATH, type RepoConfig } from "../policy/repo-config.ts";
import { widestCheckSeconds } from "../policy/usage-window.ts";
import type { RepoFile } from "../rightsizing/repo-files.ts";
import { indexRepo, type RepoIndex } from "../rightsizing/repo-index.ts";
import { configCheckReport, readConfiguration } from "./config-check.ts";
import { retireRepository } from "./config-removed.ts";
import { type ControlFreshness, controlFreshness, StaleControlState } from "./control-freshness.ts";
import { configurationForCommands, controlStep } from "./control-step.ts";
import { afterRun, baseDashboard, writeDashboard } from "./dashboard-step.ts";
import { nodeChange } from "./desired-pull-request.ts";
import { forgeRepoReader } from "./forge-repo-reader.ts";
import {
  factsAfterRun,
  ledgerFacts,
  poolNodes,
  shareWithOtherRepositories,
} from "./ledger-step.ts";
import { forgetUnplanned, mergeReady } from "./merge-step.ts";
import { poolsHeldByPeople } from "./people-pull-requests.ts";
import { planChanges } from "./plan-repo.ts";
import { policySubject } from "./pull-request-content.ts";
import { ensurePullRequests } from "./pull-request-step.ts";
import type { ReconcileResult, ReconcileTarget, TriggerReason } from "./reconcile-types.ts";
import { rememberSamples } from "./repo-memory.ts";
import type { RepositoryLedger } from "./repository-ledger.ts";

/**
 * One idempotent pass over a repository, level-triggered like a Kubernetes controller: read the
 * repository and the cluster as they are now, plan, and converge the bot's pull requests and
 * dashboard on the plan. It keeps nothing a restart would lose: the memory only saves requests.
 * Every entry point calls it: the timer, each webhook, the demo.
 */
export async function reconcile(
  target: ReconcileTarget,
  reasons: readonly TriggerReason[] = ["timer"],
  options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const { ledger } = options;
  const repository = `${target.owner}/${target.repo}`;
  ledger?.begin(repository);
  try {
    const freshness = controlFreshness(target);
    try {
      return await reconcileOnce(target, reasons, freshness, ledger);
    } catch (error) {
      if (!(error instanceof StaleControlState)) throw error;
    }
    // Another process wrote the command state since this one last did (or people broke it and
    // this process keeps its own): nothing was written yet, and the run starts over on that
    // state (the dashboard is not looked at again in it).
    const result = await reconcileOnce(target, reasons, freshness, ledger);
    const kept = freshness.kept;
    if (kept !== undefined) result.controlUnreadable = { problem: kept, action: "kept" };
    result.notes.unshift({
      level: kept === undefined ? "info" : "warning",
      subject: "dashboard",
      message:
        kept === undefined
          ? "the command state on the dashboard was newer than this process's: taken"
          : `the command state on the dashboard could not be read (${kept}): this process's own is written back, with the comments since its last one taken again`,
    });
    return result;
  } finally {
    ledger?.end(repository);
  }
}

export interface ReconcileOptions {
  /**
   * What every repository the app manages last showed: with it the limits count them all, and
   * a pool whose nodes another repository's pool claimed first is held. Absent: this
   * repository alone (the command line, the demo).
   */
  ledger?: RepositoryLedger;
}

async function reconcileOnce(
  target: ReconcileTarget,
  reasons: readonly TriggerReason[],
  freshness: ControlFreshness,
  ledger: RepositoryLedger | undefined,
): Promise<ReconcileResult> {
  const beforeWrite = () => freshness.beforeWrite();
  const now = target.now?.() ?? new Date();
  let state: RepoState;
  try {
    state = await target.forge.readState();
  } catch (error) {
    if (!(error instanceof EmptyRepositoryError)) throw error;
    // Nothing pushed yet, so no configuration either: left alone, as a repository without it.
    const result = startResult(target, "");
    ledger?.publish(result.repository, { open: [], opened: [], pools: new Map(), now });
    return { ...result, status: "no-config" };
  }
  const result = startResult(target, state.head.sha);
  const before = target.memory.configuration;
  let configuration = await configurationAt(target, state, false, now);
  if (!configuration.found) {
    const misnamed = await misnamedConfigAt(target, state);
    if (misnamed) result.misnamedConfig = { file: MISNAMED_CONFIG_PATH, message: MISNAMED_CONFIG };
    await retireRepository(target, state, before?.value, result);
    ledger?.publish(result.repository, factsAfterRun(state, result, now, new Map()));
    return { ...result, status: "no-config" };
  }
  configuration = await configurationForCommands(
    target,
    reasons,
    now,
    { value: configuration, fresh: target.memory.configuration !== before },
    () => configurationAt(target, state, true, now),
  );
  const control = await controlStep(target, state, configuration.config, reasons, now, freshness);
  result.commands = control.reports;
  result.errors.push(...control.errors);
  if (control.recheck) configuration = await configurationAt(target, state, true, now);
  if (control.unreadable !== undefined)
    result.controlUnreadable = { problem: control.unreadable, action: "held" };
  result.paused = isPaused(control.state);
  const open = withoutClosed(state, control.closed);
  const dashboard = baseDashboard(control.state, open);
  if (!configuration.ok || !configuration.config) {
    await reportConfigErrors(target, state, configuration, result);
    await withdrawAutoMerges(target, open, result, beforeWrite);
    // Its pull requests stay open, and its pools keep the nodes they claimed.
    ledger?.publish(result.repository, ledgerFacts(open, now));
    await writeDashboard(
      target,
      { ...dashboard, configIssues: configuration.issues },
      result,
      beforeWrite,
    );
    return { ...result, status: "config-error" };
  }
  const config = configuration.config;
  let snapshot: Snapshot;
  try {
    // Prometheus is asked for as long a window as the longest check judges, at least.
    snapshot = await target.observe({ usageWindowSeconds: widestCheckSeconds(config) });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    result.errors.push(`cluster: ${message}`);
    // Nothing the plan said of its pull requests can be vouched for now: they stay open, as
    // they are, and the bot's auto-merge goes off on them as with a configuration in error.
    await withdrawAutoMerges(target, open, result, beforeWrite);
    ledger?.publish(result.repository, ledgerFacts(open, now));
    await writeDashboard(target, { ...dashboard, clusterError: message }, result, beforeWrite);
    return { ...result, status: "cluster-error" };
  }
  result.snapshotComplete = snapshot.complete;
  rememberSamples(target.memory, poolUtilisationSamples(snapshot, config), now);
  const plan = await planChanges({
    repo: forgeRepoReader({
      forge: target.forge,
      headSha: state.head.sha,
      landedAt: new Map((state.mergedHeads ?? []).map((pr) => [pr.sha, pr.mergedAt])),
      ...repoPathsAt(target, state.head),
    }),
    config,
    snapshot,
    now,
    history: { pools: target.memory.samples },
    openPullRequests: openNodePullRequests(open),
    heldKeys: heldResourceKeys(open),
    ...(await rightsizingFiles(target, state, config)),
  });
  const controlled = applyControl({
    proposals: plan.proposals,
    decisions: plan.decisions,
    files: plan.files,
    state: control.state,
    recentlyClosed: open.recentlyClosed.map(withNodeChange),
    open: open.pullRequests.map((pr) => pr.number),
    tolerance: config.rightsizing?.tolerance ?? 0,
  });
  if (target.memory.control) target.memory.control = { state: controlled.state };
  const shared = await shareWithOtherRepositories({
    ledger,
    repository: result.repository,
    state: open,
    proposals: controlled.proposals,
    decisions: plan.decisions,
    pools: poolNodes(config, snapshot),
    control: controlled.state,
    forge: target.forge,
    beforeWrite,
    now,
  });
  const people = await poolsHeldByPeople(target.forge, open, config);
  const step = await ensurePullRequests({
    forge: target.forge,
    state: shared.state,
    proposals: shared.wanted,
    decisions: shared.decisions,
    manual: controlled.manual,
    config,
    policy: configuration.policy,
    control: controlled.state,
    snapshot,
    unjudged: plan.rightsizing.unjudged,
    leftOut: plan.rightsizing.leftOut,
    history: target.memory.samples,
    heldByPeople: people.held,
    settings: target.settings,
    now,
    beforeWrite,
    ...(ledger
      ? { appWide: { ledger, repository: result.repository, unknown: shared.unknown } }
      : {}),
  });
  result.proposals = shared.wanted.map((proposal) => ({
    key: proposal.key,
    kind: proposal.kind,
    direction: policySubject(proposal, config).direction,
  }));
  result.pullRequests = [...shared.outcomes, ...step.outcomes];
  result.decisions = shared.decisions;
  result.planned = step.made;
  result.errors.push(...shared.errors, ...step.errors);
  result.notes = [...plan.notes, ...controlled.notes, ...shared.notes, ...people.notes];
  const merge = target.github?.merge;
  if (merge && !result.paused) {
    result.merges = await mergeReady({
      merge: async (request) => {
        await beforeWrite();
        return merge(request);
      },
      state: open,
      planned: step.planned,
      outcomes: step.outcomes,
      policy: configuration.policy,
      memo: target.memory.merges,
      settings: target.settings,
      force: control.recheck,
      checks: reasons.includes("checks"),
      pullRequestEvent: reasons.includes("pull-request"),
      held: control.held,
      now,
    });
  } else {
    // Paused: what the last looks learnt (GitHub's auto-merge on, a time to wait for) no longer
    // holds, since the pull request step turned the bot's auto-merge off; after the resume each
    // pull request is looked at afresh, as the merge step forgets those it does not see.
    forgetUnplanned(target.memory.merges, step.planned);
  }
  ledger?.publish(result.repository, factsAfterRun(open, result, now, shared.pools));
  await writeDashboard(
    target,
    {
      ...afterRun(dashboard, open, result, now, target.memory.merges),
      control: controlled.state,
      decisions: shared.decisions,
      waiting: step.waiting,
      notes: result.notes,
      heldPools: shared.held,
      ...(snapshot.complete ? {} : snapshotWarningLines(snapshot, config)),
    },
    result,
    beforeWrite,
  );
  return result;
}

/**
 * An incomplete snapshot's warnings as the dashboard lists them, each with what it is about, as
 * plan prints them ("HTTP 500" alone names no list). Usage no decision reads (a node no pool
 * has, pods' usage while right-sizing is off) is said as plan says it: a node's warning names
 * why it concerns no decision, the pods' become one line, so they do not bury the list that
 * stopped part way. The lists that failed or stopped part way (what made the snapshot
 * incomplete) come first, and the first 20 are listed, as plan prints them, with how many more
 * there are: per-pod warnings of a large cluster would otherwise make the issue long.
 */
function snapshotWarningLines(
  snapshot: Snapshot,
  config: RepoConfig,
): { snapshotWarnings: string[]; snapshotWarningsNotShown?: number } {
  const outside = usageWarningsOutsidePools(snapshot, config.pools, config.rightsizing);
  const incomplete = outside.warnings.filter((w) => INCOMPLETE_CODES.has(w.code));
  const others = outside.warnings.filter((w) => !INCOMPLETE_CODES.has(w.code));
  const entries: { text: string; omitted?: number }[] = [
    ...[...incomplete, ...others].map((w) => ({
      text: w.subject ? `${w.subject}: ${w.message}` : w.message,
      ...(w.omitted === undefined ? {} : { omitted: w.omitted }),
    })),
    ...outside.notes.map((note) => ({ text: `${note.subject}: ${note.message}` })),
    ...(outside.podUsage ? [{ text: `pods: ${outside.podUsage}` }] : []),
  ];
  const { shown, more } = shownWarnings(entries);
  const lines = shown.map((entry) => entry.text);
  return more === 0
    ? { snapshotWarnings: lines }
    : { snapshotWarnings: lines, snapshotWarningsNotShown: more };
}

/** The result of a run that has done nothing yet, at the default branch head `head`. */
function startResult(target: ReconcileTarget, head: string): ReconcileResult {
  return {
    repository: `${target.owner}/${target.repo}`,
    status: "ok",
    head,
    pullRequests: [],
    merges: [],
    commands: [],
    dashboard: "skipped",
    notes: [],
    errors: [],
    paused: false,
    decisions: [],
    planned: [],
    proposals: [],
  };
}

/** The configuration at the head, validated once per head (or again when someone asks). */
async function configurationAt(
  target: ReconcileTarget,
  state: RepoState,
  force: boolean,
  now: Date,
): Promise<RepoConfiguration> {
  const cached = target.memory.configuration;
  if (!force && cached?.headSha === state.head.sha) return cached.value;
  const value = await readConfiguration({
    forge: target.forge,
    owner: target.owner,
    repo: target.repo,
    sha: state.head.sha,
    ...(target.github?.readOtherRepo ? { readOtherRepo: target.github.readOtherRepo } : {}),
  });
  target.memory.configuration = { headSha: state.head.sha, value, readAt: now.getTime() };
  return value;
}

/**
 * Whether a repository without its configuration holds one under the `.yaml` name, which is not
 * read: looked for once per default-branch head (a head already looked at costs no request) and
 * no more once found, so it is said once per process. A read that fails says nothing.
 */
async function misnamedConfigAt(target: ReconcileTarget, state: RepoState): Promise<boolean> {
  const seen = target.memory.misnamedConfig;
  if (seen === "said" || seen === state.head.sha) return false;
  target.memory.misnamedConfig = state.head.sha;
  let text: string | undefined;
  try {
    text = await target.forge.readFile(MISNAMED_CONFIG_PATH, state.head.sha);
  } catch {
    return false;
  }
  if (text === undefined) return false;
  target.memory.misnamedConfig = "said";
  return true;
}

/**
 * With the configuration in error no policy says what may merge, and with the cluster unreadable
 * no plan says what should: GitHub's auto-merge the bot turned on goes off (one request per such
 * pull request, only while it is on; people's own is left alone), else GitHub would merge when
 * the checks pass. Once the configuration is fixed or the cluster read again, each pull request
 * is looked at afresh, as after a pause: the merge step forgets what it learnt of them.
 */
async function withdrawAutoMerges(
  target: ReconcileTarget,
  state: RepoState,
  result: ReconcileResult,
  beforeWrite: () => Promise<void>,
): Promise<void> {
  forgetUnplanned(target.memory.merges, new Map());
  for (const pr of state.pullRequests) {
    if (!pr.autoMerge) continue;
    try {
      await beforeWrite();
      await target.forge.withdrawAutoMerge(pr);
    } catch (error) {
      if (error instanceof StaleControlState) throw error;
      const message = error instanceof Error ? error.message : String(error);
      result.errors.push(`${pr.key}: ${message}`);
    }
  }
}

/** A failing check on the default branch head, once per head (the dashboard says it too). */
async function reportConfigErrors(
  target: ReconcileTarget,
  state: RepoState,
  configuration: RepoConfiguration,
  result: ReconcileResult,
): Promise<void> {
  if (target.memory.configCheckedHead === state.head.sha) return;
  try {
    await target.forge.reportCheck(configCheckReport(state.head.sha, configuration));
    target.memory.configCheckedHead = state.head.sha;
  } catch (error) {
    result.errors.push(`config check: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function withoutClosed(state: RepoState, closed: readonly number[]): RepoState {
  if (closed.length === 0) return state;
  return { ...state, pullRequests: state.pullRequests.filter((pr) => !closed.includes(pr.number)) };
}

/**
 * The open node pull requests by pool, with the count each asks for: the planner closes an
 * open decrease that pods waiting for room, or a window about to open, no longer allow.
 */
/**
 * The keys of the open right-sizing pull requests whose markers name one workload, by its
 * identity: that workload keeps its key when another one comes to render the same.
 */
function heldResourceKeys(state: RepoState): Map<string, string> {
  const held = new Map<string, string>();
  for (const pr of state.pullRequests) {
    const [workload, ...others] = pr.workloads ?? [];
    if (pr.key.startsWith("resources-") && workload !== undefined && others.length === 0)
      held.set(workload, pr.key);
  }
  return held;
}

function openNodePullRequests(
  state: RepoState,
): Map<string, { number: number; desired?: number; from?: number }> {
  const open = new Map<string, { number: number; desired?: number; from?: number }>();
  for (const pr of state.pullRequests) {
    if (!pr.key.startsWith("nodes-")) continue;
    const change = nodeChange(pr);
    open.set(
      pr.key.slice("nodes-".length),
      change === undefined
        ? { number: pr.number }
        : { number: pr.number, desired: change.to, from: change.from },
    );
  }
  return open;
}

/** A closed node pull request with its change, read from the title when the marker lacks it. */
function withNodeChange(pr: ClosedBotPullRequest): ClosedBotPullRequest {
  const change = nodeChange(pr);
  return change ? { ...pr, change } : pr;
}

/** The file list of the head, for the reader, when the target can list it. */
function repoPathsAt(
  target: ReconcileTarget,
  head: { sha: string; treeSha: string },
): { listFiles?: (folders?: readonly string[]) => Promise<string[]> } {
  const { repoPaths } = target;
  return repoPaths ? { listFiles: (folders) => repoPaths(head, folders) } : {};
}

/** The right-sizing file index at the head's tree, built once per tree. */
async function rightsizingFiles(
  target: ReconcileTarget,
  state: RepoState,
  config: RepoConfig,
): Promise<{ rightsizingFiles?: RepoIndex }> {
  if (!config.rightsizing?.enabled || !target.repoFiles) return {};
  const cached = target.memory.rightsizingIndex;
  if (cached?.treeSha === state.head.treeSha) return { rightsizingFiles: cached.index };
  const discovered = await target.repoFiles(state.head);
  const files = discovered.partial
    ? [...discovered.files, ...(await targetsPastCut(target, state, config, discovered.files))]
    : discovered.files;
  const built = indexRepo(files, [`${target.owner}/${target.repo}`]);
  const index = discovered.partial ? { ...built, partial: discovered.partial } : built;
  target.memory.rightsizingIndex = { treeSha: state.head.treeSha, index };
  return { rightsizingFiles: index };
}

/**
 * The files of right-sizing's configured targets that a list cut short left out, read at the
 * head: a target names its file, which is there to read whether or not the list reached it,
 * and is not to be said missing. A file that is no text file is left out, as discovery leaves
 * it out.
 */
async function targetsPastCut(
  target: ReconcileTarget,
  state: RepoState,
  config: RepoConfig,
  listed: readonly RepoFile[],
): Promise<RepoFile[]> {
  const known = new Set(listed.map((file) => file.path));
  const missing = new Set(
    (config.rightsizing?.targets ?? [])
      .map((entry) => entry.file)
      .filter((file) => !known.has(file)),
  );
  const files: RepoFile[] = [];
  for (const path of missing) {
    const text = await target.forge.readFile(path, state.head.sha).catch((error: unknown) => {
      if (error instanceof NotATextFileError) return undefined;
      throw error;
    });
    if (text !== undefined) files.push({ path, text });
  }
  return files;
}
