import type { ScaleRequest } from "../control/control-state.ts";
import { type ControlState, isPaused } from "../control/control-state.ts";
import type { BotPullRequest, DesiredPullRequest, Forge, RepoState } from "../forge/forge.ts";
import { noticeDigest } from "../forge/marker.ts";
import {
  closeReasonText,
  explainNodeDecision,
  holdText,
  overMaxLine,
  refusalText,
  triggerText,
} from "../planning/explain-node-decision.ts";
import type { NodeDecision } from "../planning/node-decision.ts";
import type { PoolUtilisationSample } from "../planning/node-plan-input.ts";
import { heldByAProblem, type Proposal } from "../planning/proposal.ts";
import type { Snapshot } from "../planning/snapshot.ts";
import type { AutomergePolicy } from "../policy/automerge-policy.ts";
import type { RepoConfig } from "../policy/repo-config.ts";
import type { UnjudgedWorkload, WorkloadStanding } from "../rightsizing/plan-rightsizing.ts";
import { identityOf } from "../rightsizing/workload-keys.ts";
import { StaleControlState } from "./control-freshness.ts";
import type { WaitingProposal } from "./dashboard.ts";
import {
  changedContainers,
  changedRequests,
  nodeChange,
  pullRequestTitle,
} from "./desired-pull-request.ts";
import { type Deferral, type LimitInput, limitNewPullRequests } from "./limits.ts";
import { type PlannedPullRequest, plannedPullRequest } from "./pull-request-content.ts";
import type { KeyOutcome, ReconcileSettings } from "./reconcile-types.ts";
import type { RepositoryLedger } from "./repository-ledger.ts";

/** The app's ledger as the pull request step asks it for room under the app-wide limits. */
export interface AppWideLimits {
  ledger: RepositoryLedger;
  /** `owner/name` of the repository reconciled. */
  repository: string;
  /** The managed repositories whose pull requests are not known yet: nothing new opens. */
  unknown: readonly string[];
}

export interface PullRequestStepInput {
  forge: Forge;
  state: RepoState;
  proposals: readonly Proposal[];
  decisions: readonly NodeDecision[];
  manual: ReadonlyMap<string, ScaleRequest>;
  config: RepoConfig;
  policy: AutomergePolicy;
  control: ControlState;
  snapshot: Snapshot;
  /**
   * The workloads whose requests are not judged now, with their pull request keys and why: such
   * a pull request is kept, not closed (absent: none).
   */
  unjudged?: readonly UnjudgedWorkload[];
  /** The workloads right-sizing leaves out, with their pull request keys and why (absent: none). */
  leftOut?: readonly WorkloadStanding[];
  history: readonly PoolUtilisationSample[];
  /**
   * Pools whose count a person's open pull request changes, with why (`poolsHeldByPeople`):
   * nothing new is proposed for them, and the bot's own pull request is left as it is (absent:
   * none).
   */
  heldByPeople?: ReadonlyMap<string, string>;
  settings: ReconcileSettings;
  now: Date;
  /**
   * Called before each step that may write (not before one sure to find its pull request as
   * planned); it may throw StaleControlState to have the reconcile start over.
   */
  beforeWrite?: () => Promise<void>;
  /**
   * With it, the open and hourly limits count every repository the app manages, and room is
   * taken in the ledger. Absent: this repository is counted alone (the command line, the demo).
   */
  appWide?: AppWideLimits;
}

/** A pull request that is the bot's after the step: what it carries, and the bot's commit on it. */
export interface EnsuredPullRequest extends PlannedPullRequest {
  /**
   * Its head, when the forge pushed it or checked it to be the plan's change on the default
   * branch's head: the only commit that merges. Absent for one another run opened just now.
   */
  botSha?: string;
}

export interface PullRequestStepResult {
  outcomes: KeyOutcome[];
  waiting: WaitingProposal[];
  /** Pull requests that are the bot's after this step, with what they carry, by number. */
  planned: Map<number, EnsuredPullRequest>;
  /** Every pull request the plan wants that was made for the forge, in order. */
  made: PlannedPullRequest[];
  errors: string[];
}

/**
 * Converges the bot's pull requests on the plan: updates those it still wants, opens new ones
 * within the limits, closes those the plan no longer wants (unless a hold on the decision says
 * to leave them), and deletes the bot's branches left without a pull request. A paused key is
 * left exactly as it is. One key failing does not stop the others; the next run retries it.
 */
export async function ensurePullRequests(
  input: PullRequestStepInput,
): Promise<PullRequestStepResult> {
  const result: PullRequestStepResult = {
    outcomes: [],
    waiting: [],
    planned: new Map(),
    made: [],
    errors: [],
  };
  const wanted = new Set<string>();
  const candidates: Proposal[] = [];
  for (const proposal of ordered(input.proposals)) {
    wanted.add(proposal.key);
    if (paused(input.control, proposal.key)) {
      const open = input.state.pullRequests.find((pr) => pr.key === proposal.key);
      if (open) await withdrawKeptAutoMerge(input, open, result);
      result.outcomes.push({
        key: proposal.key,
        action: "paused",
        title: pullRequestTitle(proposal),
      });
      result.waiting.push({
        key: proposal.key,
        title: pullRequestTitle(proposal),
        reason: "paused",
      });
      continue;
    }
    const existing = input.state.pullRequests.find((pr) => pr.key === proposal.key);
    const people = heldByPeople(input, proposal.key);
    if (people !== undefined) {
      if (existing) await withdrawKeptAutoMerge(input, existing, result);
      result.outcomes.push({
        key: proposal.key,
        action: existing ? "left-alone" : "deferred",
        title: pullRequestTitle(proposal),
        ...(existing ? { number: existing.number } : {}),
        note: people,
      });
      result.waiting.push({ key: proposal.key, title: pullRequestTitle(proposal), reason: people });
      continue;
    }
    const dropped = existing ? droppedUnjudged(input, existing, proposal) : [];
    if (existing && dropped.length > 0)
      await keepUnjudged(input, proposal, existing, dropped, result);
    else if (existing) await ensure(input, proposal, existing, result);
    else candidates.push(proposal);
  }
  const staying = input.state.pullRequests.filter(
    (pr) => wanted.has(pr.key) || !closable(input, pr),
  );
  const { allowed, deferred } = admit(input, candidates, {
    maxOpen: input.settings.maxOpen,
    maxPerHour: input.settings.maxPerHour,
    maxOpenResources: input.config.rightsizing?.maxOpenPullRequests,
    open: staying,
    recentlyClosed: input.state.recentlyClosed,
    now: input.now,
  });
  for (const proposal of allowed) await ensure(input, proposal, undefined, result);
  for (const { proposal, reason } of deferred) {
    result.outcomes.push({
      key: proposal.key,
      action: "deferred",
      title: pullRequestTitle(proposal),
      note: reason,
    });
    result.waiting.push({ key: proposal.key, title: pullRequestTitle(proposal), reason });
  }
  for (const pr of input.state.pullRequests) {
    if (!wanted.has(pr.key)) await closeUnwanted(input, pr, result);
  }
  for (const stray of input.state.strayBranches) {
    if (wanted.has(stray.key) || paused(input.control, stray.key)) continue;
    // People's branch under the bot's prefix, already read: kept, with no request and no write.
    if (stray.foreignHead) continue;
    await attempt(result, stray.key, async () => {
      await input.beforeWrite?.();
      const done = await input.forge.deleteStrayBranch(stray, input.state);
      if (done.action === "deleted")
        result.outcomes.push({ key: stray.key, action: "branch-deleted", note: stray.branch });
    });
  }
  return result;
}

/**
 * One limit decision for the new pull requests: this repository's open ones after this run's
 * closes, and with a ledger the other repositories' too (the ledger takes the room at once).
 */
function admit(
  input: PullRequestStepInput,
  candidates: readonly Proposal[],
  limits: Omit<LimitInput, "others" | "ahead">,
): { allowed: Proposal[]; deferred: Deferral[] } {
  if (!input.appWide) return limitNewPullRequests(candidates, limits);
  const { ledger, repository, unknown } = input.appWide;
  return ledger.admit(repository, candidates, limits, unknown);
}

/** Node changes first (scale-ups before scale-downs: they unblock pods), then requests. */
function ordered(proposals: readonly Proposal[]): Proposal[] {
  const rank = (p: Proposal) => (p.kind === "nodes" ? (p.direction === "up" ? 0 : 1) : 2);
  return [...proposals].sort((a, b) => rank(a) - rank(b));
}

function paused(control: ControlState, key: string): boolean {
  const pool = key.startsWith("nodes-") ? key.slice("nodes-".length) : undefined;
  return isPaused(control, pool);
}

/** Why a person's open pull request holds the pool of a node key; undefined when none does. */
function heldByPeople(input: PullRequestStepInput, key: string): string | undefined {
  if (!key.startsWith("nodes-")) return undefined;
  return input.heldByPeople?.get(key.slice("nodes-".length));
}

/** Whether the bot leaves the key's open pull request as it is: paused, or held by people's. */
function keptAsItIs(input: PullRequestStepInput, key: string): boolean {
  return paused(input.control, key) || heldByPeople(input, key) !== undefined;
}

async function ensure(
  input: PullRequestStepInput,
  proposal: Proposal,
  existing: BotPullRequest | undefined,
  result: PullRequestStepResult,
): Promise<void> {
  await attempt(result, proposal.key, async () => {
    const manual = input.manual.get(proposal.key);
    const planned = plannedPullRequest({
      proposal,
      config: input.config,
      policy: input.policy,
      existing,
      recentlyClosed: input.state.recentlyClosed,
      history: input.history,
      manual: manual ? { by: manual.by, count: manual.count } : undefined,
      now: input.now,
    });
    result.made.push(planned);
    if (!asPlanned(existing, planned.desired)) await input.beforeWrite?.();
    const ensured = await input.forge.ensurePullRequest(planned.desired, input.state);
    // A pull request left to people keeps the title it has, not the one the plan would give it.
    const kept = ensured.action === "human-edited" ? existing?.title : undefined;
    result.outcomes.push({
      key: proposal.key,
      action: ensured.action,
      title: kept ?? planned.desired.title,
      ...(ensured.number !== undefined ? { number: ensured.number } : {}),
      ...(ensured.url !== undefined ? { url: ensured.url } : {}),
      ...(ensured.note !== undefined ? { note: ensured.note } : {}),
    });
    const open = ["created", "updated", "rebuilt", "unchanged"].includes(ensured.action);
    if (open && ensured.number !== undefined)
      result.planned.set(ensured.number, {
        ...planned,
        ...(ensured.botSha !== undefined ? { botSha: ensured.botSha } : {}),
      });
  });
}

/**
 * The workloads an open right-sizing pull request carries, as its marker names them, whose
 * requests are not judged now and that the proposal for its key leaves out: an update to the
 * proposal would revert their changes, which are neither right nor wrong. None for a pull
 * request people own (the forge leaves it to them), or whose marker does not name its workloads.
 */
function droppedUnjudged(
  input: PullRequestStepInput,
  pr: BotPullRequest,
  proposal: Proposal,
): UnjudgedWorkload[] {
  if (proposal.kind !== "resources" || pr.control !== "bot" || pr.workloads === undefined)
    return [];
  const proposed = new Set(proposal.workloads.map((workload) => identityOf(workload.workload)));
  const changed = new Set(changedContainers(proposal));
  const requests = new Set(changedRequests(proposal));
  return unjudgedOf(input, pr).filter((entry) => {
    if (entry.container === undefined) return !proposed.has(identityOf(entry.workload));
    const container = `${identityOf(entry.workload)}/${entry.container}`;
    // A request held while the container's other one changes: only a marker that names the
    // requests tells whether the pull request changed it.
    if (entry.resource !== undefined)
      return (
        pr.requests?.includes(`${container}/${entry.resource}`) === true &&
        !requests.has(`${container}/${entry.resource}`)
      );
    return !changed.has(container);
  });
}

/**
 * A right-sizing pull request the plan still wants for other workloads, one of whose workloads
 * cannot be judged now, is left as it is: its change is kept, not reverted, and the others' wait
 * with it. As for one kept open because something is wrong, the bot's auto-merge goes off, and
 * the merge step, which forgets the pull requests not made this run, looks at it afresh once
 * the workload can be judged again.
 */
async function keepUnjudged(
  input: PullRequestStepInput,
  proposal: Proposal,
  pr: BotPullRequest,
  dropped: readonly UnjudgedWorkload[],
  result: PullRequestStepResult,
): Promise<void> {
  await withdrawKeptAutoMerge(input, pr, result);
  await noticeKept(input, pr, dropped, result);
  const note = `${unjudgedNote(dropped)}; its change is kept as it was, and the others are updated with it once it can be judged`;
  result.outcomes.push({ key: pr.key, action: "left-alone", number: pr.number, note });
  result.waiting.push({ key: pr.key, title: pullRequestTitle(proposal), reason: note });
}

/**
 * Whether the forge will find the pull request as planned and write nothing: the bot's, on the
 * default branch head, with the plan's fingerprint and labels, and no record of a comment saying
 * why it was kept (taken off once it is wanted again); or people's, already told so.
 */
function asPlanned(existing: BotPullRequest | undefined, desired: DesiredPullRequest): boolean {
  if (!existing) return false;
  if (existing.control === "human") return existing.handsOffNoticed;
  return (
    existing.upToDate &&
    existing.keptNotice === undefined &&
    existing.fingerprint === desired.fingerprint &&
    desired.labels.every((label) => existing.labels.includes(label))
  );
}

/** Whether the bot may close this open pull request now when the plan does not want it. */
function closable(input: PullRequestStepInput, pr: BotPullRequest): boolean {
  return pr.control === "bot" && !keptAsItIs(input, pr.key) && closeReason(input, pr) !== undefined;
}

async function closeUnwanted(
  input: PullRequestStepInput,
  pr: BotPullRequest,
  result: PullRequestStepResult,
): Promise<void> {
  const reason =
    pr.control === "bot" && !keptAsItIs(input, pr.key) ? closeReason(input, pr) : undefined;
  if (reason === undefined) {
    const outcome = { key: pr.key, action: "left-alone" as const, number: pr.number };
    if (!leftToPeople(input, pr)) {
      if (keptAsItIs(input, pr.key) || heldByAProblemFor(input, pr))
        await withdrawKeptAutoMerge(input, pr, result);
      result.outcomes.push({ ...outcome, note: leaveNote(input, pr) });
      return;
    }
    await attempt(result, pr.key, async () => {
      // As for one the plan wants: once people were told, only auto-merge may be left to turn off.
      if (!pr.handsOffNoticed) await input.beforeWrite?.();
      await input.forge.leavePullRequest(pr);
      result.outcomes.push({ ...outcome, note: leaveNote(input, pr) });
    });
    return;
  }
  await attempt(result, pr.key, async () => {
    await input.beforeWrite?.();
    const closed = await input.forge.closePullRequest(pr, reason, input.state);
    result.outcomes.push({
      key: pr.key,
      action: closed.action === "closed" ? "closed" : "left-alone",
      number: pr.number,
      note: closed.note ?? reason,
    });
  });
}

/**
 * A paused pull request, or one kept open because something is wrong (a hold on its pool's
 * decision that says so, a cluster read in part), is left as it is, but GitHub's auto-merge the
 * bot turned on would still merge it when its checks pass: that goes off (one request, only while
 * it is on). The merge step, which forgets the pull requests the plan does not want, looks at it
 * afresh after the resume or once the problem clears, and turns it on again when the policy still
 * allows.
 */
async function withdrawKeptAutoMerge(
  input: PullRequestStepInput,
  pr: BotPullRequest,
  result: PullRequestStepResult,
): Promise<void> {
  if (!pr.autoMerge) return;
  await attempt(result, pr.key, async () => {
    await input.beforeWrite?.();
    await input.forge.withdrawAutoMerge(pr);
  });
}

/**
 * Whether the pull request is kept open because something is wrong, so that the plan can no
 * longer vouch for its change: for a node pull request, a hold on its pool's decision that says
 * so (the count cannot be read, nodes failed to join, too many are not Ready, the cluster was
 * read in part, pools overlap, the history cannot be read) or, for a decrease, usage that is
 * not known, not one that only waits (a cooldown, nodes joining); for a right-sizing one, a
 * cluster read in part, on which no request is decided at all, or a workload of it whose
 * requests are not judged (its VPA has no usable recommendation, several VPAs target it, its
 * containers cannot be located in the repo).
 */
function heldByAProblemFor(input: PullRequestStepInput, pr: BotPullRequest): boolean {
  if (pr.key.startsWith("resources"))
    return !input.snapshot.complete || unjudgedOf(input, pr).length > 0;
  if (!pr.key.startsWith("nodes-")) return false;
  const pool = pr.key.slice("nodes-".length);
  const decision = input.decisions.find((d) => d.pool === pool);
  if (decision === undefined) return false;
  if (heldByAProblem(decision)) return true;
  // Usage that is not known holds a pool left as it is, often for a moment (a node not sampled
  // yet), so it is no problem to a note; but an open decrease rests on that usage, and no node
  // goes on missing data: the plan cannot vouch for it until the usage is read again.
  const change = nodeChange(pr);
  return (
    change !== undefined &&
    change.to < change.from &&
    decision.holds.some((hold) => hold.kind === "usage-unknown")
  );
}

/**
 * Whether a pull request the plan no longer wants is people's, and the forge leaves it to them:
 * it turns off GitHub's auto-merge the bot turned on (it would merge what they pushed) and tells
 * them once, as it does for one the plan wants; after that, it costs no request. A paused key is
 * left as it is.
 */
function leftToPeople(input: PullRequestStepInput, pr: BotPullRequest): boolean {
  return pr.control === "human" && !paused(input.control, pr.key);
}

/**
 * The workloads of a right-sizing pull request whose requests are not judged now: of those of its
 * key, the ones its marker names among the workloads it carries; without such a list (a marker
 * written before it was recorded), those whose VPA's recommendation leaves them unjudged.
 */
function unjudgedOf(input: PullRequestStepInput, pr: BotPullRequest): UnjudgedWorkload[] {
  const carried = pr.workloads === undefined ? undefined : new Set(pr.workloads);
  const changed = new Set(pr.containers ?? []);
  const requests = pr.requests === undefined ? undefined : new Set(pr.requests);
  return (input.unjudged ?? []).filter((entry) => {
    if (entry.key !== pr.key) return false;
    const container = `${identityOf(entry.workload)}/${entry.container}`;
    if (entry.resource !== undefined && requests)
      return requests.has(`${container}/${entry.resource}`);
    if (entry.container !== undefined) return changed.has(container);
    return carried ? carried.has(identityOf(entry.workload)) : !entry.whenCarried;
  });
}

/**
 * Why an open pull request the plan does not want should close; undefined to leave it: a hold
 * on the pool's decision, an unreadable cluster, a workload whose requests are not judged
 * (unknown is no "no change"), a key the bot does not plan.
 */
function closeReason(input: PullRequestStepInput, pr: BotPullRequest): string | undefined {
  if (pr.key.startsWith("nodes-")) {
    const pool = pr.key.slice("nodes-".length);
    if (!input.config.pools.some((p) => p.name === pool))
      return `Pool \`${pool}\` is no longer in .github/pr-autoscaler.yml, so this change is not wanted any more.`;
    const decision = input.decisions.find((d) => d.pool === pool);
    // The planner closes despite holds only an open decrease they make unwanted (pods waiting
    // for room, a window about to open); any other hold leaves the pull request as it is.
    if (decision?.pullRequest.action !== "close") return undefined;
    if (input.manual.has(pr.key)) return undefined;
    const now = explainNodeDecision(decision)[0] ?? "no change";
    // The count changed under it, the bounds left it out, or its removal would strand pods: the
    // plan's words, as it says them. Either way the holds follow, as the explanation has them.
    const closes = decision.pullRequest.closes;
    const why = closes
      ? capitalised(closeReasonText(closes, "this pull request"))
      : "The plan no longer wants this change";
    const gone = nothingAsksForMore(pr, decision);
    return `${why}: ${[now, ...gone, ...heldBecause(decision)].join("; ")}.`;
  }
  if (pr.key.startsWith("resources")) {
    if (!input.config.rightsizing?.enabled)
      return "Right-sizing is off in .github/pr-autoscaler.yml, so this change is not wanted any more.";
    if (!input.snapshot.complete) return undefined;
    if (pr.key in input.control.ignored) return "This change is ignored at someone's request.";
    // Requests not judged (no usable recommendation, several VPAs, containers not located in the
    // repo) are neither right nor wrong.
    if (unjudgedOf(input, pr).length > 0) return undefined;
    // Under group: namespace or repo, only a workload the marker says it carries is named.
    const leftOut = (input.leftOut ?? []).filter(
      (entry) =>
        entry.key === pr.key &&
        (!entry.whenCarried || pr.workloads?.includes(identityOf(entry.workload)) === true),
    );
    const left = new Set(leftOut.map((entry) => identityOf(entry.workload)));
    const others = (pr.workloads ?? []).some((workload) => !left.has(workload));
    if (leftOut.length > 0) return leftOutReason(leftOut, others);
    // No VPA is read at all: the plan proposes nothing, not because the requests are right now.
    if (input.snapshot.warnings.some((warning) => warning.code === "vpa-not-installed"))
      return "The VerticalPodAutoscaler API (autoscaling.k8s.io/v1) is not served in the cluster any more, so no recommendation backs this change; it is proposed again once the VPA recommender runs and still calls for it.";
    return "The VerticalPodAutoscaler's recommendation no longer calls for this change (the requests are within the tolerance, or the workload is gone).";
  }
  return undefined;
}

/**
 * What holds the pool when the plan closes its open decrease all the same (pods waiting for
 * room, at the max or in a cooldown, nodes not Ready, a window about to open), as the
 * explanation words it: what asks for a change, what keeps the node the decrease would remove
 * (its pods fit nowhere else, say), the pods left beyond the max, and the holds. Nothing when
 * nothing holds it: no change is wanted, which the headline says.
 */
function heldBecause(decision: NodeDecision): string[] {
  if (decision.holds.length === 0) return [];
  const beyond = overMaxLine(decision);
  const refusedBy = decision.scaleDown.refusedBy ?? [];
  return [
    ...decision.triggers.map((trigger) => `trigger: ${triggerText(trigger)}`),
    ...(refusedBy.length > 0 ? [`not removed: ${refusedBy.map(refusalText).join("; ")}`] : []),
    ...(beyond ? [beyond] : []),
    ...decision.holds.map((hold) => `hold: ${holdText(hold, decision.pullRequest)}`),
  ];
}

/**
 * For an increase the plan no longer wants, with nothing holding the pool: that what asked for
 * the nodes is gone, when that is known (every pending pod read, every scale-up check judged).
 * "no change at 3" alone does not tell the reader the pods it was opened for have gone.
 */
function nothingAsksForMore(pr: BotPullRequest, decision: NodeDecision): string[] {
  if (!pr.change || pr.change.to <= pr.change.from) return [];
  if (decision.triggers.length > 0 || decision.holds.length > 0) return [];
  const pending = decision.pending;
  if (!pending.enabled || pending.unread || pending.considered > 0) return [];
  const upward = decision.utilisation.checks.filter((check) => check.direction === "above");
  if (upward.some((check) => check.outcome !== "not-met")) return [];
  return ["no pending pod needs a node of the pool any more, and no scale-up check is met"];
}

/** The sentence's first letter in upper case. */
function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function leaveNote(input: PullRequestStepInput, pr: BotPullRequest): string {
  if (pr.control === "human") return pr.handsOffReason ?? "people own it";
  if (paused(input.control, pr.key)) return "paused";
  const people = heldByPeople(input, pr.key);
  if (people !== undefined) return people;
  const pool = pr.key.startsWith("nodes-") ? pr.key.slice("nodes-".length) : undefined;
  const decision = pool ? input.decisions.find((d) => d.pool === pool) : undefined;
  // The plan's own words for each hold, as a closed pull request's comment gives them.
  if (decision && decision.holds.length > 0)
    return `held: ${decision.holds.map((hold) => holdText(hold, decision.pullRequest)).join("; ")}`;
  if (!input.snapshot.complete) return "the cluster snapshot is incomplete";
  const unjudged = unjudgedOf(input, pr);
  if (unjudged.length > 0) return unjudgedNote(unjudged);
  return "kept";
}

/**
 * "Right-sizing leaves Deployment media/plex (media/plex is in rightsizing.exclude) out now, …";
 * with OTHERS, the pull request carries other workloads' changes too, no longer called for.
 */
function leftOutReason(leftOut: readonly WorkloadStanding[], others: boolean): string {
  const each = leftOut.map(
    ({ workload, why }) => `${workload.kind} ${workload.namespace}/${workload.name} (${why})`,
  );
  const rest = others
    ? ", and the VerticalPodAutoscaler's recommendation no longer calls for the other changes in it (the requests are within the tolerance, or the workload is gone)"
    : "";
  return `Right-sizing leaves ${each.join(", ")} out now${rest}, so this change is not wanted any more.`;
}

/**
 * A right-sizing pull request kept as it is while other changes in it are wanted still has the
 * title and description it was written with, which the plan would change: a comment says, once
 * for what is kept (not for the words, which may count time), why.
 */
async function noticeKept(
  input: PullRequestStepInput,
  pr: BotPullRequest,
  unjudged: readonly UnjudgedWorkload[],
  result: PullRequestStepResult,
): Promise<void> {
  const kept = unjudged.map(({ workload, container, resource }) =>
    [identityOf(workload), container ?? "", resource ?? ""].join("/"),
  );
  const notice = noticeDigest([...new Set(kept)].sort().join("\n"));
  if (notice === pr.keptNotice) return;
  const message = keptMessage(unjudged);
  await attempt(result, pr.key, async () => {
    await input.beforeWrite?.();
    await input.forge.noticeKept(pr, message, notice);
  });
}

/** The comment on a pull request kept as it is for the changes in it that cannot be judged. */
function keptMessage(unjudged: readonly WorkloadStanding[]): string {
  const each = unjudged.map(
    ({ workload, why }) => `${workload.kind} ${workload.namespace}/${workload.name}: ${why}`,
  );
  const what = unjudged.length === 1 ? "a change" : "changes";
  return [
    `pr-autoscaler keeps this pull request as it is while ${what} in it cannot be judged: ${each.join("; ")}.`,
    "What it changes is kept as it was, not reverted, and its description gives the reasons as they were when it was written; the other changes wait with it, and the pull request is updated once the requests can be judged again. Meanwhile pr-autoscaler does not merge it, and GitHub's auto-merge it turned on is off.",
  ].join("\n\n");
}

/** "kept open until the requests can be judged again: Deployment media/plex: the VPA plex …". */
function unjudgedNote(unjudged: readonly WorkloadStanding[]): string {
  const each = unjudged.map(
    ({ workload, why }) => `${workload.kind} ${workload.namespace}/${workload.name}: ${why}`,
  );
  return `kept open until the requests can be judged again: ${each.join("; ")}`;
}

async function attempt(
  result: PullRequestStepResult,
  key: string,
  run: () => Promise<void>,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof StaleControlState) throw error;
    const message = error instanceof Error ? error.message : String(error);
    result.outcomes.push({ key, action: "failed", note: message });
    result.errors.push(`${key}: ${message}`);
  }
}
