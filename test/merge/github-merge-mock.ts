/**
 * GitHub for the merge tests: REST answers made from the examples in GitHub's REST API
 * description (requests checked against it by test/support/github.ts), and a GraphQL endpoint
 * whose every request is parsed and checked against the schema excerpt before it is answered.
 */
import nock from "nock";
import { withPullRequestMarker } from "../../src/forge/marker.ts";
import { API, type GitHubMock, REPO_PATH, refPath } from "../support/github.ts";
import { responseExample } from "../support/github-openapi.ts";
import { combinedStatus, fileContent, sha } from "../support/github-responses.ts";
import { recordGraphqlProblems } from "../support/graphql-problems.ts";
import { checkGraphqlRequest } from "./graphql-check.ts";

type Json = Record<string, unknown>;

export const PR = 7;
export const KEY = "nodes-workers";
export const HEAD = sha("bot-commit");
export const NODE_ID = "PR_kwDOBnx7aM5pQ2Ze";
export const BOT = "pr-autoscaler[bot]";
/** The plan guard's status, which the policies of these tests require. */
export const GUARD = "pr-autoscaler/plan-guard";

/** A policy with a window: the bot merges itself, never GitHub's auto-merge. */
export const WINDOWED = `
timezone: Europe/Berlin
rules:
  - name: daytime
    match: { kind: nodes }
    action: merge
    during: [{ days: mon-fri, hours: "08:00-18:00" }]
    requiredChecks: [${GUARD}]
`;

export interface PullFields {
  headSha?: string;
  /** The commit the bot's marker names (default: the head). */
  markerSha?: string | undefined;
  labels?: string[];
  createdAt?: string;
  base?: string;
  state?: "open" | "closed";
  merged?: boolean;
  /** Who turned GitHub's auto-merge on, and with which method; undefined: off. */
  autoMerge?: { by: string; method: string };
  allowAutoMerge?: boolean;
  /** The merge methods the repository allows (default: GitHub's example, all of them). */
  allowedMethods?: { merge: boolean; squash: boolean; rebase: boolean };
  mergeableState?: string;
  /** The marker's record that people took the pull request over. */
  handsOff?: string;
  /** The marker's record of when an update last changed the values. */
  changedAt?: string;
  /** Who opened it (default: the bot). */
  author?: string;
}

/** A pull request as `GET /pulls/{n}` returns it, from GitHub's published example. */
export function pullDetail(fields: PullFields = {}): Json {
  const answer = responseExample("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 200) as Json;
  const head = answer.head as Json;
  const base = answer.base as Json;
  const user = answer.user as Json;
  const markerSha = "markerSha" in fields ? fields.markerSha : (fields.headSha ?? HEAD);
  return {
    ...answer,
    number: PR,
    node_id: NODE_ID,
    user: { ...user, login: fields.author ?? BOT, type: "Bot" },
    state: fields.state ?? "open",
    merged: fields.merged ?? false,
    draft: false,
    created_at: fields.createdAt ?? "2025-03-28T08:00:00Z",
    body: withPullRequestMarker("Pods are waiting for room.", {
      key: KEY,
      ...(markerSha ? { sha: markerSha } : {}),
      base: sha("main-head"),
      ...(fields.handsOff ? { handsOff: fields.handsOff } : {}),
      ...(fields.changedAt ? { changedAt: fields.changedAt } : {}),
    }),
    labels: (fields.labels ?? ["autoscaling", "scale-up"]).map((name, i) => ({
      ...((answer.labels as Json[])[0] as Json),
      id: i + 1,
      name,
    })),
    head: { ...head, ref: `pr-autoscaler/${KEY}`, sha: fields.headSha ?? HEAD },
    base: {
      ...base,
      ref: fields.base ?? "main",
      repo: {
        ...(base.repo as Json),
        allow_auto_merge: fields.allowAutoMerge ?? true,
        ...(fields.allowedMethods
          ? {
              allow_merge_commit: fields.allowedMethods.merge,
              allow_squash_merge: fields.allowedMethods.squash,
              allow_rebase_merge: fields.allowedMethods.rebase,
            }
          : {}),
      },
    },
    auto_merge: fields.autoMerge
      ? {
          enabled_by: { ...user, login: fields.autoMerge.by },
          merge_method: fields.autoMerge.method,
          commit_title: "Scale worker nodes to 4 (#7)",
          commit_message: "",
        }
      : null,
    mergeable_state: fields.mergeableState ?? "blocked",
  };
}

/** The REST requests of a merge, one interceptor each. */
export function mergeSteps(github: GitHubMock) {
  const { scope } = github;
  const path = (rest: string) => `${REPO_PATH}${rest}`;
  return {
    pull(fields: PullFields = {}) {
      scope.get(path(`/pulls/${PR}`)).reply(200, pullDetail(fields));
    },
    /** Classic branch protection of main requiring `contexts`; a number answers that status. */
    protection(contexts: string[] | number) {
      const interceptor = scope.get(path("/branches/main"));
      if (typeof contexts === "number") {
        interceptor.reply(contexts, {
          message: contexts === 404 ? "Branch not found" : "Resource not accessible by integration",
        });
        return;
      }
      const answer = responseExample("GET", "/repos/{owner}/{repo}/branches/{branch}", 200) as Json;
      interceptor.reply(200, {
        ...answer,
        protected: contexts.length > 0,
        protection: {
          enabled: contexts.length > 0,
          required_status_checks: {
            enforcement_level: contexts.length > 0 ? "non_admins" : "off",
            contexts,
            checks: contexts.map((context) => ({ context, app_id: null })),
          },
        },
      });
    },
    /** Rulesets of main requiring `contexts`; a number answers that status. */
    rulesets(contexts: string[] | number) {
      const interceptor = scope.get(path("/rules/branches/main")).query({ per_page: "100" });
      if (typeof contexts === "number") {
        interceptor.reply(contexts, { message: "Resource not accessible by integration" });
        return;
      }
      const [other] = responseExample(
        "GET",
        "/repos/{owner}/{repo}/rules/branches/{branch}",
        200,
      ) as Json[];
      const rules: Json[] = [{ ...other }];
      if (contexts.length > 0)
        rules.push({
          type: "required_status_checks",
          ruleset_source_type: "Repository",
          ruleset_source: "octocat/Hello-World",
          ruleset_id: 42,
          parameters: {
            strict_required_status_checks_policy: false,
            required_status_checks: contexts.map((context) => ({ context })),
          },
        });
      interceptor.reply(200, rules);
    },
    statuses(list: { context: string; state: string }[], at = HEAD) {
      scope
        .get(path(`/commits/${at}/status`))
        .query({ per_page: "100" })
        .reply(
          200,
          combinedStatus(list.map((status) => ({ ...status, description: status.state }))),
        );
    },
    checkRuns(list: { name: string; status: string; conclusion: string | null }[], at = HEAD) {
      const answer = responseExample(
        "GET",
        "/repos/{owner}/{repo}/commits/{ref}/check-runs",
        200,
      ) as Json;
      const template = (answer.check_runs as Json[])[0] as Json;
      scope
        .get(path(`/commits/${at}/check-runs`))
        .query({ per_page: "100" })
        .reply(200, {
          total_count: list.length,
          check_runs: list.map((run, i) => ({ ...template, id: i + 1, ...run })),
        });
    },
    /** Both check reads: statuses `success`/`pending`/`failure` by name, as commit statuses. */
    checks(states: Record<string, string>) {
      this.statuses(Object.entries(states).map(([context, state]) => ({ context, state })));
      this.checkRuns([]);
    },
    merge() {
      const answer = responseExample(
        "PUT",
        "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
        200,
      ) as Json;
      scope.put(path(`/pulls/${PR}/merge`)).reply(200, { ...answer, sha: sha("merged") });
    },
    mergeFails(status: number, message: string) {
      scope
        .put(path(`/pulls/${PR}/merge`))
        .reply(status, { message, documentation_url: "https://docs.github.com/rest" });
    },
    /** The pull request's comments, one page, with these bodies. */
    comments(bodies: string[]) {
      const [template] = responseExample(
        "GET",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        200,
      ) as Json[];
      scope
        .get(path(`/issues/${PR}/comments`))
        .query({ per_page: "100" })
        .reply(
          200,
          bodies.map((body, i) => ({ ...template, id: i + 1, body })),
        );
    },
    /** A comment the bot posts on the pull request. */
    postComment() {
      const answer = responseExample(
        "POST",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        201,
      ) as Json;
      scope.post(path(`/issues/${PR}/comments`)).reply(201, answer);
    },
    contents(file: string, ref: string | undefined, text: string | undefined, repo = REPO_PATH) {
      const interceptor = scope
        .get(`${repo}/contents/${refPath(file)}`)
        .query(ref === undefined ? {} : { ref });
      if (text === undefined) interceptor.reply(404, { message: "Not Found" });
      else interceptor.reply(200, fileContent(file, text));
    },
  };
}

export interface GraphqlCall {
  mutation: string;
  variables: Record<string, unknown>;
}

/** GitHub's GraphQL endpoint; each expected request is checked and answered in order. */
export function mockGraphql() {
  const scope = nock(API);
  const calls: GraphqlCall[] = [];
  return {
    calls,
    /** One request for `mutation`, answered with success or with GitHub's error messages. */
    expect(mutation: string, errors?: string[]) {
      // nock hands a reply function the request itself.
      scope.post("/graphql").reply(200, async (request: Request) => {
        const body = (await request.json()) as {
          query: string;
          variables?: Record<string, unknown>;
        };
        const { query, variables = {} } = body;
        const check = checkGraphqlRequest(query, variables);
        // Each fails the test it was sent in (test/support/graphql-setup.ts).
        recordGraphqlProblems(check.problems);
        const field = check.rootFields.join(",");
        if (check.operation?.type !== "mutation" || field !== mutation)
          recordGraphqlProblems([
            `expected the mutation ${mutation}, got ${check.operation?.type} ${field}`,
          ]);
        calls.push({ mutation: field, variables });
        if (errors)
          return {
            data: { [mutation]: null },
            errors: errors.map((message) => ({
              type: "UNPROCESSABLE",
              path: [mutation],
              locations: [{ line: 2, column: 3 }],
              message,
            })),
          };
        return { data: { [mutation]: { pullRequest: { number: PR } } } };
      });
    },
  };
}
