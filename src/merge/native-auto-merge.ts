import { graphqlMessages } from "../forge/github/auto-merge.ts";
import type { MergeMethod } from "../policy/automerge-policy.ts";
import type { MergeOctokit } from "./merge-octokit.ts";

/** Turns on GitHub's auto-merge; `expectedHeadOid` makes GitHub refuse when the head moved. */
export const ENABLE_AUTO_MERGE = `mutation EnableAutoMerge($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod!, $expectedHeadOid: GitObjectID!) {
  enablePullRequestAutoMerge(input: {pullRequestId: $pullRequestId, mergeMethod: $mergeMethod, expectedHeadOid: $expectedHeadOid}) {
    pullRequest {
      number
    }
  }
}`;

/** What GitHub answered to enabling auto-merge. */
export type EnableAnswer =
  | { result: "enabled" }
  /** Nothing to wait for: GitHub wants a direct merge ("Pull request is in clean status"). */
  | { result: "clean" }
  /** Refused: the repository does not allow auto-merge, the head moved, or something else. */
  | { result: "refused"; messages: string[] };

/** GitHub's word for "it can merge right now", which the auto-merge mutation refuses. */
const CLEAN_STATUS = /is in clean status/i;

/** Asks GitHub to merge the pull request when its requirements are met. */
export async function enableNativeAutoMerge(
  octokit: MergeOctokit,
  fields: { pullRequestId: string; method: MergeMethod; expectedHeadOid: string },
): Promise<EnableAnswer> {
  try {
    await octokit.graphql(ENABLE_AUTO_MERGE, {
      pullRequestId: fields.pullRequestId,
      mergeMethod: fields.method.toUpperCase(),
      expectedHeadOid: fields.expectedHeadOid,
    });
    return { result: "enabled" };
  } catch (error) {
    const messages = graphqlMessages(error);
    if (messages.some((message) => CLEAN_STATUS.test(message))) return { result: "clean" };
    return { result: "refused", messages };
  }
}
