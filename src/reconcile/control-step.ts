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
  // Commands name pools: they wait while the configuration cannot be read. The dashboard it
  // writes meanwhile records a state (as a restarted process would read it), so that commands
  // written on it are taken once the configuration can be read, not passed over as history.
  if (!config) {
    memory.control.state ??= emptyControlState();
    return current();
  }
  const due = memory.control.state === undefined || pollDue(target, reasons, now);
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

/** A comment webhook came, or comments were not looked for since `commandPollMs`. */
function pollDue(target: ReconcileTarget, reasons: readonly TriggerReason[], now: Date): boolean {
  const polled = target.memory.commandsPolledAt;
  return (
    reasons.includes("comment") ||
    polled === undefined ||
    now.getTime() - polled >= target.settings.commandPollMs
  );
}

/**
 * The configuration to take commands with. Commands wait while it is in error, and the one read
 * for the head is kept until the head moves, so `/autoscaler recheck` could never say that a
 * policy file it extends from another repository was fixed (or the app installed there): while
 * in error, it is read again (`read`) when commands are due, a comment webhook or the poll. Still
 * in error, the poll counts as done, so it is read again at the next comment or poll, not at
 * every reconcile.
 */
export async function configurationForCommands(
  target: ReconcileTarget,
  reasons: readonly TriggerReason[],
  now: Date,
  current: { value: RepoConfiguration; cached: boolean },
  read: () => Promise<RepoConfiguration>,
): Promise<RepoConfiguration> {
  if (current.value.config || !pollDue(target, reasons, now)) return current.value;
  const value = current.cached ? await read() : current.value;
  if (!value.config) target.memory.commandsPolledAt = now.getTime();
  return value;
}
