import { describe, expect, it } from "@jest/globals";
import { DISABLE_AUTO_MERGE } from "../../src/forge/github/auto-merge.ts";
import { ENABLE_AUTO_MERGE } from "../../src/merge/native-auto-merge.ts";
import { sha } from "../support/github-responses.ts";
import { checkGraphqlRequest } from "./graphql-check.ts";

const VARIABLES = { pullRequestId: "PR_kw", mergeMethod: "SQUASH", expectedHeadOid: sha("head") };

describe("the GraphQL request check used by the merge tests", () => {
  it("accepts the auto-merge mutations pr-autoscaler sends", () => {
    expect(checkGraphqlRequest(ENABLE_AUTO_MERGE, VARIABLES)).toMatchObject({
      problems: [],
      rootFields: ["enablePullRequestAutoMerge"],
      operation: { type: "mutation", name: "EnableAutoMerge" },
    });
    expect(checkGraphqlRequest(DISABLE_AUTO_MERGE, { pullRequestId: "PR_kw" }).problems).toEqual(
      [],
    );
  });

  it("catches what GitHub would refuse", () => {
    const problems = (query: string, variables: Record<string, unknown> = VARIABLES) =>
      checkGraphqlRequest(query, variables).problems;
    expect(
      problems(
        'mutation { enablePullRequestAutoMerge(input: {pullRequestId: "x"}) { pullRequest { number }',
      ),
    ).toEqual(['does not parse: expected a name at 91, got ""']);
    expect(
      problems(
        ENABLE_AUTO_MERGE.replace("enablePullRequestAutoMerge(", "enablePullRequestAutomerge("),
      ),
    ).toContain(
      "mutation.enablePullRequestAutomerge: Mutation has no field enablePullRequestAutomerge",
    );
    expect(
      problems(ENABLE_AUTO_MERGE.replace("mergeMethod: $mergeMethod", "method: $mergeMethod")),
    ).toContain(
      "mutation.enablePullRequestAutoMerge(input): EnablePullRequestAutoMergeInput has no field method",
    );
    expect(problems(ENABLE_AUTO_MERGE.replace("pullRequestId: $pullRequestId, ", ""))).toContain(
      "mutation.enablePullRequestAutoMerge(input): EnablePullRequestAutoMergeInput needs pullRequestId",
    );
    expect(
      problems(ENABLE_AUTO_MERGE.replace("$pullRequestId: ID!", "$pullRequestId: String!")),
    ).toContain(
      "mutation.enablePullRequestAutoMerge(input).pullRequestId: $pullRequestId is String!, ID! is wanted",
    );
    expect(problems(ENABLE_AUTO_MERGE, { ...VARIABLES, mergeMethod: "squash" })).toEqual([
      '$mergeMethod: "squash" is not a PullRequestMergeMethod',
    ]);
    expect(problems(ENABLE_AUTO_MERGE, { ...VARIABLES, expectedHeadOid: "main" })).toEqual([
      '$expectedHeadOid: "main" is not a GitObjectID',
    ]);
    expect(problems(ENABLE_AUTO_MERGE, { ...VARIABLES, extra: 1 })).toEqual([
      "variable extra is supplied but not declared",
    ]);
    expect(
      problems(ENABLE_AUTO_MERGE.replace("pullRequest {\n      number\n    }", "pullRequest")),
    ).toContain("mutation.enablePullRequestAutoMerge.pullRequest: an object needs a selection set");
  });
});
