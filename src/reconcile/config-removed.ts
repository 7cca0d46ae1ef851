import { type ControlState, controlMarker, emptyControlState } from "../control/control-state.ts";
import type { BotPullRequest, RepoState } from "../forge/forge.ts";
import { withIssueMarker } from "../forge/marker.ts";
import type { RepoConfiguration } from "../policy/policy-validate.ts";
import { REPO_CONFIG_PATH } from "../policy/repo-config.ts";
import { StaleControlState } from "./control-freshness.ts";
import { readDashboardControl } from "./control-step.ts";
import { dashboardIssue, dashboardMarker } from "./dashboard.ts";
import { sections } from "./markdown.ts";
import type { ReconcileResult, ReconcileTarget } from "./reconcile-types.ts";

/** What the bot says on each pull request and on the dashboard it closes. */
export const CONFIG_REMOVED = `The configuration file \`${REPO_CONFIG_PATH}\` was removed from the default branch, so pr-autoscaler proposes nothing in this repository any more and closes what it had open here. Adding the file back starts it again.`;

/**
 * A repository without configuration: the bot's open pull requests are closed, saying why (a
 * pull request left open could still be merged and change a count nobody watches any more),
 * and so is the dashboard. One people took over stays theirs, but GitHub's auto-merge the bot
 * turned on goes off on it (a person's own stays): GitHub keeps it on for a push by someone with
 * write access, and with no plan any more nothing else would turn it off when the push that
 * took it over was not seen. The open pull requests come with the repository's state, read
 * anyway; the dashboard is looked for only when this process saw a configuration here before,
 * or sees the repository for the first time (`before` undefined: after a restart), so a
 * repository that never had one costs nothing more at every interval.
 */
export async function retireRepository(
  target: ReconcileTarget,
  state: RepoState,
  before: RepoConfiguration | undefined,
  result: ReconcileResult,
): Promise<void> {
  for (const pr of state.pullRequests) {
    // People's pull requests under the bot's prefix are theirs to close.
    if (pr.control !== "bot") {
      await withdrawFromPeople(target, pr, result);
      continue;
    }
    try {
      const closed = await target.forge.closePullRequest(pr, CONFIG_REMOVED, state);
      result.pullRequests.push({
        key: pr.key,
        action: closed.action === "closed" ? "closed" : "left-alone",
        number: pr.number,
        note: closed.note ?? "the configuration file was removed",
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      result.pullRequests.push({ key: pr.key, action: "failed", number: pr.number, note: message });
      result.errors.push(`${pr.key}: ${message}`);
    }
  }
  if (before === undefined || before.found) await closeDashboard(target, result);
}

/** Turns off GitHub's auto-merge the bot turned on for a pull request people took over. */
async function withdrawFromPeople(
  target: ReconcileTarget,
  pr: BotPullRequest,
  result: ReconcileResult,
): Promise<void> {
  if (!pr.autoMerge) return;
  try {
    if (!(await target.forge.withdrawAutoMerge(pr))) return;
    result.pullRequests.push({
      key: pr.key,
      action: "left-alone",
      number: pr.number,
      note: `${pr.handsOffReason ?? "people own it"}; GitHub's auto-merge that pr-autoscaler turned on is off`,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    result.pullRequests.push({ key: pr.key, action: "failed", number: pr.number, note: message });
    result.errors.push(`${pr.key}: ${message}`);
  }
}

/** Closes the dashboard when it is open, keeping its command state for when the file is back. */
async function closeDashboard(target: ReconcileTarget, result: ReconcileResult): Promise<void> {
  try {
    const control = await knownControl(target, result);
    if (control === "absent") return;
    // A block that could not be read is written back as it was: it still holds everything.
    const body = sections(
      controlMarker(control),
      `**pr-autoscaler is off in this repository.** ${CONFIG_REMOVED}`,
    );
    const written = await target.forge.ensureIssue(dashboardIssue(control, body, false));
    if (written.number === undefined) return;
    target.memory.dashboard = {
      number: written.number,
      body: withIssueMarker(body, dashboardMarker(control)),
    };
    if (written.action !== "updated") return;
    await target.forge.comment(written.number, CONFIG_REMOVED);
    result.dashboard = "updated";
  } catch (error) {
    if (error instanceof StaleControlState) throw error;
    result.dashboard = "failed";
    result.errors.push(`dashboard: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The command state in memory, else as the dashboard on GitHub holds it (read once per process,
 * held when its block cannot be read); "absent" when there is no dashboard to close.
 */
async function knownControl(
  target: ReconcileTarget,
  result: ReconcileResult,
): Promise<ControlState | "absent"> {
  const memory = target.memory;
  const github = target.github;
  if (memory.control?.state) return memory.control.state;
  if (!github) return emptyControlState();
  const { state, issue } = await readDashboardControl(target, github, target.now?.() ?? new Date());
  memory.control = { state };
  if (!issue || !state) return "absent";
  memory.dashboard = { number: issue.number, body: issue.body };
  if (state.unreadable)
    result.controlUnreadable = { problem: state.unreadable.problem, action: "held" };
  return state;
}
