import type { DashboardIssue } from "../control/command-github.ts";
import {
  type ControlState,
  emptyControlState,
  heldControlState,
  readControlBlock,
} from "../control/control-state.ts";
import { type CommandReport, processCommands } from "../control/process-commands.ts";
import type { RepoState } from "../forge/forge.ts";
import { readIssueMarker } from "../forge/marker.ts";
import type { RepoConfiguration } from "../policy/policy-validate.ts";
import type { RepoConfig } from "../policy/repo-config.ts";
import type { ControlFreshness } from "./control-freshness.ts";
import { DASHBOARD_KEY } from "./dashboard.ts";
import { poolsHeldByPeople } from "./people-pull-requests.ts";
import type { GitHubSide, ReconcileTarget, TriggerReason } from "./reconcile-types.ts";

export interface ControlStepResult {
  state: ControlState;
  reports: CommandReport[];
  recheck: boolean;
  closed: number[];
  held: number[];
  errors: string[];
  /** Found in this run: the dashboard's state block cannot be read, and everything is held. */
  unreadable?: string;
}

/**
 * The command state and the commands given since the last run. The state lives in the dashboard
 * issue: it is read once per process, then kept in memory, because only the reconcile writes it;
 * before acting on a command, as before any write, `freshness` takes another process's newer
 * state. New comments are looked for when a comment webhook came, or every `commandPollMs`
 * without one.
 */
export async function controlStep(
  target: ReconcileTarget,
  state: RepoState,
  config: RepoConfig | undefined,
  reasons: readonly TriggerReason[],
  now: Date,
  freshness: ControlFreshness,
): Promise<ControlStepResult> {
  const memory = target.memory;
  const github = target.github;
  const current = (): ControlStepResult => ({
    state: memory.control?.state ?? emptyControlState(),
    reports: [],
    recheck: false,
    closed: [],
    held: [],
    errors: [],
  });
  if (!github) return current();
  let unreadable: string | undefined;
  if (!memory.control) {
    const { state, issue } = await readDashboardControl(target, github, now);
    memory.control = { state };
    if (issue) memory.dashboard = { number: issue.number, body: issue.body };
    unreadable = state?.unreadable?.problem;
    freshness.markRead();
  }
  const found = (result: ControlStepResult): ControlStepResult =>
    unreadable === undefined ? result : { ...result, unreadable };
  // Commands name pools: they wait while the configuration cannot be read. Without a recorded
  // state, the comments made so far are history, as on a first run (processCommands); those made
  // from now on, on the dashboard written meanwhile among them, are taken once it can be read.
  if (!config) {
    if (memory.control.state === undefined) {
      const { newest } = await github.commands.newComments(Number.MAX_SAFE_INTEGER);
      memory.control.state = emptyControlState(newest ?? 0);
    }
    return found(current());
  }
  const due =
    reasons.includes("comment") ||
    memory.control.state === undefined ||
    memory.commandsPolledAt === undefined ||
    now.getTime() - memory.commandsPolledAt >= target.settings.commandPollMs;
  if (!due) return found(current());
  // While held, each look for comments looks at the dashboard too: a block people put back, or
  // another process's state, is taken (StaleControlState), and the run starts over on it.
  if (memory.control.state?.unreadable && unreadable === undefined) await freshness.beforeWrite();
  const processed = await processCommands({
    github: github.commands,
    state: memory.control.state,
    config,
    repoState: state,
    dashboardNumber: memory.dashboard?.number,
    forge: target.forge,
    beforeTaking: () => freshness.beforeWrite(),
    heldByPeople: () => poolsHeldByPeople(target.forge, state, config),
  });
  memory.commandsPolledAt = now.getTime();
  memory.control = { state: processed.state };
  const errors =
    processed.error === undefined
      ? []
      : [
          `commands: ${processed.error instanceof Error ? processed.error.message : String(processed.error)}`,
        ];
  return found({
    state: processed.state,
    reports: processed.reports,
    recheck: processed.recheck,
    closed: processed.closed,
    held: processed.held,
    errors,
  });
}

/**
 * The command state of the dashboard on GitHub: undefined when there is no dashboard (a first
 * run: the one created is not damaged). A dashboard whose block people removed or broke holds
 * everything (`heldControlState`): the comments up to the last one taken, which its issue marker
 * records apart from the block, are history, and later ones are taken; a dashboard written
 * before the marker recorded it takes every comment made so far as history.
 */
export async function readDashboardControl(
  target: ReconcileTarget,
  github: GitHubSide,
  now: Date,
): Promise<{ state: ControlState | undefined; issue: DashboardIssue | undefined }> {
  const issue = await github.commands.findIssue(
    DASHBOARD_KEY,
    target.issueLabel ?? "pr-autoscaler",
  );
  if (!issue) return { state: undefined, issue };
  const read = readControlBlock(issue.body);
  if ("state" in read) return { state: read.state, issue };
  const recorded = readIssueMarker(issue.body)?.lastComment;
  const lastComment =
    recorded ?? (await github.commands.newComments(Number.MAX_SAFE_INTEGER)).newest ?? 0;
  return { state: heldControlState(read, lastComment, now.toISOString()), issue };
}

/**
 * The configuration to take commands with. Commands wait while it is in error, and the one read
 * for the head is kept until the head moves, so `/autoscaler recheck` could never say that a
 * policy file it extends from another repository was fixed (or the app installed there): while
 * in error, it is read again (`read`) at a comment webhook, or when it was read a command poll
 * ago, not at every reconcile.
 */
export async function configurationForCommands(
  target: ReconcileTarget,
  reasons: readonly TriggerReason[],
  now: Date,
  current: { value: RepoConfiguration; fresh: boolean },
  read: () => Promise<RepoConfiguration>,
): Promise<RepoConfiguration> {
  if (current.value.config || current.fresh) return current.value;
  const readAt = target.memory.configuration?.readAt ?? 0;
  const due =
    reasons.includes("comment") || now.getTime() - readAt >= target.settings.commandPollMs;
  return due ? read() : current.value;
}
