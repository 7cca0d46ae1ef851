import type { GraphqlOctokit } from "../forge/github/auto-merge.ts";
import type { OctokitLike } from "../forge/github/github-client.ts";

/**
 * The part of Octokit merging uses: REST `request(route, parameters)` and `graphql(query,
 * variables)` for GitHub's auto-merge, which only the GraphQL API offers. Probot's
 * `context.octokit` and `@octokit/rest`'s `Octokit` both fit.
 */
export interface MergeOctokit extends OctokitLike, GraphqlOctokit {}
