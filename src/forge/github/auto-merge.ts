import type { AfterPush, BranchPush } from "../forge.ts";
import { ForgeError } from "../forge-error.ts";

/**
 * The part of Octokit that speaks GitHub's GraphQL API, which alone can turn auto-merge on and
 * off. Probot's `context.octokit` and `@octokit/rest`'s `Octokit` both have it.
 */
export interface GraphqlOctokit {
  graphql(query: string, variables?: Record<string, unknown>): Promise<unknown>;
}

export const DISABLE_AUTO_MERGE = `mutation DisableAutoMerge($pullRequestId: ID!) {
  disablePullRequestAutoMerge(input: {pullRequestId: $pullRequestId}) {
    pullRequest {
      number
    }
  }
}`;

/** Turns GitHub's auto-merge of a pull request (by its node id) off; throws when GitHub refuses. */
export async function disableAutoMerge(
  octokit: GraphqlOctokit,
  pullRequestId: string,
): Promise<void> {
  try {
    await octokit.graphql(DISABLE_AUTO_MERGE, { pullRequestId });
  } catch (error) {
    const step = "turn GitHub's auto-merge off";
    throw new ForgeError(step, graphqlMessages(error).join("; "), undefined, { cause: error });
  }
}

/** Whether `login` is the bot's account `botLogin` (GitHub compares logins without case). */
export function isBotAccount(botLogin: string | undefined, login: string | undefined): boolean {
  return botLogin !== undefined && login?.toLowerCase() === botLogin.toLowerCase();
}

/**
 * What a push to one of the bot's branches asks at once: nothing when the bot pushed it; else
 * the head is a commit the bot did not make, and GitHub's auto-merge that the bot turned on is
 * turned off (`auto-merge-off`) before GitHub can merge that commit: GitHub keeps it on when
 * someone with write access pushes. Auto-merge people turned on is theirs (`not-the-bots`).
 */
export async function autoMergeAfterPush(
  octokit: GraphqlOctokit,
  botLogin: string,
  push: BranchPush,
): Promise<AfterPush> {
  if (isBotAccount(botLogin, push.pusher)) return "pushed-by-bot";
  if (!isBotAccount(botLogin, push.autoMergeBy)) return "not-the-bots";
  await disableAutoMerge(octokit, push.nodeId);
  return "auto-merge-off";
}

/** The messages of a failed GraphQL call (each error GitHub listed, or the failure itself). */
export function graphqlMessages(error: unknown): string[] {
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors)) {
    const messages = errors.flatMap((item) => {
      const message = (item as { message?: unknown }).message;
      return typeof message === "string" ? [message] : [];
    });
    if (messages.length > 0) return messages;
  }
  return [error instanceof Error ? error.message : String(error)];
}
