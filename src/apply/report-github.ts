import type { Octokit } from "@octokit/rest";
import { z } from "zod";
import { githubMessage } from "../forge/github/github-client.ts";
import { writtenBy } from "../forge/marker.ts";
import type { CommitStatus } from "./report-vms.ts";

/** A GitHub request of `report` that failed, with what was being done and what to check. */
export class ReportError extends Error {
  readonly status: number | undefined;

  constructor(message: string, status: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ReportError";
    this.status = status;
  }
}

export interface ReportRepository {
  owner: string;
  repo: string;
}

export interface ExistingComment {
  id: number;
  body: string;
  url: string;
}

export interface PostedComment {
  id: number;
  url: string;
}

/** The few GitHub operations `report` needs, on one repository. */
export interface ReportGitHub {
  readonly repository: ReportRepository;
  pullRequestHead(pr: number): Promise<string>;
  /**
   * The oldest comment whose body passes `matches` among those written by the account the token
   * comments as (`github-actions[bot]` for the workflow's GITHUB_TOKEN): anyone may copy the
   * report's hidden marker, and a copy must neither stand for the report nor keep it unsaid.
   */
  findOwnComment(
    pr: number,
    matches: (body: string) => boolean,
  ): Promise<ExistingComment | undefined>;
  createComment(pr: number, body: string): Promise<PostedComment>;
  updateComment(id: number, body: string): Promise<PostedComment>;
  setStatus(sha: string, status: CommitStatus): Promise<void>;
  /** The merged pull requests that brought `sha` to the default branch, merging one first. */
  mergedPullRequests(sha: string): Promise<number[]>;
}

// Only the fields read, leniently: GitHub adds fields freely.
const IssueComment = z.object({
  id: z.number(),
  body: z.string().nullish(),
  html_url: z.string(),
  user: z.object({ login: z.string() }).nullable(),
});
const Viewer = z.object({ viewer: z.object({ login: z.string() }) });
const IssueComments = z.array(IssueComment);
const PostedIssueComment = z.object({ id: z.number(), html_url: z.string() });
const PullRequestHead = z.object({ head: z.object({ sha: z.string() }) });
const CommitPullRequests = z.array(
  z.object({
    number: z.number(),
    merged_at: z.string().nullable(),
    merge_commit_sha: z.string().nullable(),
  }),
);

/** What a request is for, and the token permission it needs, for error messages. */
interface Step {
  doing: string;
  permission: string;
}

/**
 * The GitHub side of `report` over an `@octokit/rest` client. Every failure becomes a
 * ReportError that says what was being done, what GitHub answered and what to check.
 */
export function createReportGitHub(octokit: Octokit, repository: ReportRepository): ReportGitHub {
  const name = `${repository.owner}/${repository.repo}`;

  async function call<T>(
    step: Step,
    schema: z.ZodType<T>,
    route: string,
    parameters: Record<string, unknown>,
  ): Promise<T> {
    let data: unknown;
    try {
      data = (await octokit.request(route, { ...repository, ...parameters })).data;
    } catch (error) {
      throw toReportError(step, name, error);
    }
    return parse(step, schema, data);
  }

  /**
   * Who the token comments as. Only GraphQL's `viewer` tells it for every kind of token: REST's
   * `GET /user` refuses installation tokens, the workflow's GITHUB_TOKEN among them.
   */
  let login: Promise<string> | undefined;
  async function askLogin(): Promise<string> {
    const step = {
      doing: "ask GitHub which account the token comments as",
      permission: "pull-requests: read",
    };
    let data: unknown;
    try {
      data = await octokit.graphql("query { viewer { login } }");
    } catch (error) {
      throw toReportError(step, name, error);
    }
    return parse(step, Viewer, data).viewer.login;
  }

  return {
    repository,
    async pullRequestHead(pr) {
      const step = { doing: `read pull request #${pr}`, permission: "pull-requests: read" };
      const answer = await call(
        step,
        PullRequestHead,
        "GET /repos/{owner}/{repo}/pulls/{pull_number}",
        {
          pull_number: pr,
        },
      );
      return answer.head.sha;
    },
    async findOwnComment(pr, matches) {
      const step = { doing: `list the comments of #${pr}`, permission: "pull-requests: read" };
      const pages = octokit.paginate.iterator(
        "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
        {
          ...repository,
          issue_number: pr,
          per_page: 100,
        },
      );
      try {
        for await (const page of pages) {
          for (const comment of parse(step, IssueComments, page.data)) {
            const body = comment.body ?? "";
            if (!matches(body)) continue;
            // Asked only when a comment carries the marker: a first report needs no answer.
            login ??= askLogin();
            if (writtenBy(comment, await login))
              return { id: comment.id, body, url: comment.html_url };
          }
        }
      } catch (error) {
        if (error instanceof ReportError) throw error;
        throw toReportError(step, name, error);
      }
      return undefined;
    },
    async createComment(pr, body) {
      const step = { doing: `comment on #${pr}`, permission: "pull-requests: write" };
      const answer = await call(
        step,
        PostedIssueComment,
        "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
        { issue_number: pr, body },
      );
      return { id: answer.id, url: answer.html_url };
    },
    async updateComment(id, body) {
      const step = { doing: `update comment ${id}`, permission: "pull-requests: write" };
      const answer = await call(
        step,
        PostedIssueComment,
        "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
        { comment_id: id, body },
      );
      return { id: answer.id, url: answer.html_url };
    },
    async setStatus(sha, status) {
      const step = {
        doing: `set the commit status ${status.context} on ${sha.slice(0, 12)}`,
        permission: "statuses: write",
      };
      const parameters: Record<string, unknown> = {
        sha,
        state: status.state,
        context: status.context,
        description: status.description,
      };
      if (status.targetUrl !== undefined) parameters.target_url = status.targetUrl;
      await call(step, z.unknown(), "POST /repos/{owner}/{repo}/statuses/{sha}", parameters);
    },
    async mergedPullRequests(sha) {
      const step = {
        doing: `find the pull request of commit ${sha.slice(0, 12)}`,
        permission: "pull-requests: read",
      };
      const pulls = await call(
        step,
        CommitPullRequests,
        "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls",
        { commit_sha: sha },
      );
      const merged = pulls.filter((pull) => pull.merged_at !== null);
      // The pull request whose merge made this very commit; else any merged one that holds it.
      const exact = merged.filter((pull) => pull.merge_commit_sha === sha);
      return (exact.length > 0 ? exact : merged).map((pull) => pull.number);
    },
  };
}

function parse<T>(step: Step, schema: z.ZodType<T>, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
  throw new ReportError(
    `could not ${step.doing}: unexpected answer from GitHub${where}: ${issue?.message ?? ""}`,
    undefined,
  );
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("status" in error)) return undefined;
  return typeof error.status === "number" ? error.status : undefined;
}

function toReportError(step: Step, repository: string, error: unknown): ReportError {
  const refused = graphqlErrors(error);
  if (refused !== undefined)
    return new ReportError(
      `could not ${step.doing} in ${repository}: GitHub answered: ${refused}`,
      undefined,
      { cause: error },
    );
  const status = statusOf(error);
  if (status === undefined || !hasResponse(error)) {
    return new ReportError(
      `could not ${step.doing}: GitHub could not be reached (${networkMessage(error)}). Check GITHUB_API_URL or --api-url.`,
      undefined,
      { cause: error },
    );
  }
  const message = githubMessage(error);
  return new ReportError(
    `could not ${step.doing} in ${repository}: GitHub answered ${status}${message ? `: ${message}` : ""}. ${hint(status, message, step)}`,
    status,
    { cause: error },
  );
}

/** The messages of a GraphQL answer that holds errors (GitHub answers those with 200). */
function graphqlErrors(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("errors" in error)) return undefined;
  if (!Array.isArray(error.errors)) return undefined;
  const messages = error.errors.map((entry: unknown) =>
    typeof entry === "object" && entry !== null && "message" in entry
      ? String(entry.message)
      : String(entry),
  );
  return messages.join("; ") || "errors without a message";
}

/** Octokit reports a request that got no answer as status 500 without a response. */
function hasResponse(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && "response" in error && Boolean(error.response)
  );
}

/** "fetch failed: getaddrinfo ENOTFOUND …": the error and the causes that say why. */
function networkMessage(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  // Errors may come from another realm (a test's VM context), so go by shape, not instanceof.
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const { message, cause } = current as { message?: unknown; cause?: unknown };
    if (typeof message === "string" && message !== "Unknown Error" && !parts.includes(message)) {
      parts.push(message);
    }
    current = cause;
  }
  return parts.join(": ") || "no answer";
}

function hint(status: number, message: string, step: Step): string {
  if (status === 401) {
    return "The token was not accepted: is GITHUB_TOKEN set to the workflow's token?";
  }
  if (status === 403 && /rate limit/i.test(message)) {
    return "GitHub's rate limit is used up; re-run the workflow later.";
  }
  if (status === 403) {
    return `The token lacks a permission: give the job the \`${step.permission}\` permission.`;
  }
  if (status === 404) {
    return "Check the repository (GITHUB_REPOSITORY or --repo), the number or commit, and that the token can read the repository.";
  }
  if (status === 422) return "GitHub refused the request as invalid (an unknown commit?).";
  return "GitHub may be having trouble; re-run the workflow.";
}
