import type { OctokitLike } from "../forge/github/github-client.ts";

/**
 * The part of Octokit merging uses: REST `request(route, parameters)` and `graphql(query,
 * variables)` for GitHub's auto-merge, which only the GraphQL API offers. Probot's
 * `context.octokit` and `@octokit/rest`'s `Octokit` both fit.
 */
export interface MergeOctokit extends OctokitLike {
  graphql(query: string, variables?: Record<string, unknown>): Promise<unknown>;
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
