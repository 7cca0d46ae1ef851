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
