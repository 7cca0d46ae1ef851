import {
  type ControlState,
  emptyControlState,
  readControlMarker,
} from "../control/control-state.ts";
import { type CommandReport, processCommands } from "../control/process-commands.ts";
import type { RepoState } from "../forge/forge.ts";
import type { RepoConfiguration } from "../policy/policy-validate.ts";
import type { RepoConfig } from "../policy/repo-config.ts";
import type { ControlFreshness } from "./control-freshness.ts";
import { DASHBOARD_KEY } from "./dashboard.ts";
import type { ReconcileTarget, TriggerReason } from "./reconcile-types.ts";

export interface ControlStepResult {
  state: ControlState;
  reports: CommandReport[];
  recheck: boolean;
  closed: number[];
  held: number[];
  errors: string[];
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
  if (!memory.control) {
    const issue = await github.commands.findIssue(
      DASHBOARD_KEY,
      target.issueLabel ?? "pr-autoscaler",
    );
    memory.control = { state: readControlMarker(issue?.body) };
    if (issue) memory.dashboard = { number: issue.number, body: issue.body };
    freshness.markRead();
  }
  // Commands name pools: they wait while the configuration cannot be read. Without a recorded
  // state, the comments made so far are history, as on a first run (processCommands); those made
  // from now on, on the dashboard written meanwhile among them, are taken once it can be read.
  if (!config) {
    if (memory.control.state === undefined) {
      const { newest } = await github.commands.newComments(Number.MAX_SAFE_INTEGER);
      memory.control.state = emptyControlState(newest ?? 0);
    }
    return current();
  }
  const due =
    reasons.includes("comment") ||
    memory.control.state === undefined ||
    memory.commandsPolledAt === undefined ||
    now.getTime() - memory.commandsPolledAt >= target.settings.commandPollMs;
  if (!due) return current();
  const processed = await processCommands({
    github: github.commands,
    state: memory.control.state,
    config,
    repoState: state,
    dashboardNumber: memory.dashboard?.number,
    forge: target.forge,
    beforeTaking: () => freshness.beforeWrite(),
  });
  memory.commandsPolledAt = now.getTime();
  memory.control = { state: processed.state };
  const errors =
    processed.error === undefined
      ? []
      : [
          `commands: ${processed.error instanceof Error ? processed.error.message : String(processed.error)}`,
        ];
  return {
    state: processed.state,
    reports: processed.reports,
    recheck: processed.recheck,
    closed: processed.closed,
    held: processed.held,
    errors,
  };
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
