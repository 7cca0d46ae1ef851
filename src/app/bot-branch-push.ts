import type { Logger } from "pino";
import type { BranchPush } from "../forge/forge.ts";
import type { ReconcileTarget } from "../reconcile/reconcile-types.ts";

/**
 * A push to one of the bot's branches, from its webhook: GitHub's auto-merge the bot turned on
 * goes off at once when someone else pushed. True when the repository should be reconciled now:
 * the pull request's head is not the bot's commit, which the reconcile checks and leaves to
 * people (or, should turning auto-merge off have failed here, turns it off there).
 */
export async function afterBotBranchPush(
  target: ReconcileTarget,
  push: BranchPush,
  log: Logger,
): Promise<boolean> {
  const fields = { repository: `${target.owner}/${target.repo}`, pull: push.number };
  try {
    const done = await target.github?.afterPush?.(push);
    if (done === "pushed-by-bot") return false;
    if (done === "auto-merge-off")
      log.info(
        { ...fields, pusher: push.pusher },
        "GitHub's auto-merge turned off: someone other than the app pushed to its pull request",
      );
  } catch (error) {
    log.error(
      { ...fields, err: error },
      "could not turn GitHub's auto-merge off after someone pushed to the app's pull request; the reconcile tries again",
    );
  }
  return true;
}
