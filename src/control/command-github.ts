import { z } from "zod";
import { disableAutoMerge, type GraphqlOctokit } from "../forge/github/auto-merge.ts";
import type { GitHubClient } from "../forge/github/github-client.ts";
import { failedWith } from "../forge/github/github-client.ts";
import { commentTag, hasCommentTag, readIssueMarker, writtenBy } from "../forge/marker.ts";
import { HOLD_LABEL } from "../merge/hold.ts";

/** A comment as the commands need it. */
export interface CommentRecord {
  id: number;
  issueNumber: number;
  body: string;
  login: string;
  /** A GitHub App or other bot account: never obeyed, never answered. */
  isBot: boolean;
  createdAt: string;
}

export interface NewComments {
  /** Comments with an id above the one asked for, oldest first. */
  comments: CommentRecord[];
  /** The newest comment id in the repository, when there is any comment. */
  newest: number | undefined;
}

/** The comment a reply answers. */
export type RepliedComment = Pick<CommentRecord, "id" | "issueNumber" | "createdAt">;

export interface DashboardIssue {
  number: number;
  body: string;
}

/** What the commands read and write on GitHub. */
export interface CommandGitHub {
  newComments(after: number): Promise<NewComments>;
  /** Whether `login` has write access (admin, maintain or write) to the repository. */
  permission(login: string): Promise<{ allowed: boolean; permission: string }>;
  react(commentId: number, content: "+1" | "confused"): Promise<void>;
  /**
   * Replies once to a comment: a reply tagged for it that is already there is not repeated, and
   * of two made at once (by two replicas) the later is deleted.
   */
  reply(comment: RepliedComment, body: string): Promise<void>;
  setHold(issueNumber: number, on: boolean): Promise<void>;
  /** Turns GitHub's auto-merge of a pull request (by its node id) off, whoever turned it on. */
  turnOffAutoMerge(pullRequestId: string): Promise<void>;
  /** The bot's issue with `key` (oldest first), as it is now. */
  findIssue(key: string, label: string): Promise<DashboardIssue | undefined>;
  /** Files a pull request changes: a moved file under its old path as well as its new one. */
  pullRequestFiles(number: number): Promise<string[]>;
}

const GitHubCommentItem = z.object({
  id: z.number(),
  body: z.string().nullable().optional(),
  issue_url: z.string(),
  created_at: z.string(),
  user: z.object({ login: z.string(), type: z.string().optional() }).nullable(),
  performed_via_github_app: z.unknown().optional(),
});
const GitHubCommentList = z.array(GitHubCommentItem);
const GitHubPermission = z.object({ permission: z.string(), role_name: z.string().optional() });
const GitHubIssueList = z.array(
  z.object({
    number: z.number(),
    body: z.string().nullable().optional(),
    pull_request: z.unknown().optional(),
  }),
);
const GitHubCommentBodies = z.array(
  z.object({
    id: z.number(),
    body: z.string().nullable().optional(),
    user: z.object({ login: z.string() }).nullable(),
  }),
);
const GitHubPostedComment = z.object({ id: z.number() });
const GitHubPullFiles = z.array(
  z.object({ filename: z.string(), previous_filename: z.string().optional() }),
);

const PAGE = 100;
const MAX_PAGES = 10;
const WRITE = new Set(["admin", "maintain", "write"]);

/** Who the app is on GitHub, for what only its own account may do or say. */
export interface CommandAccount {
  /** The app's bot account, `<slug>[bot]`: a reply tag counts only in its comments. */
  botLogin: string;
  /** GitHub's GraphQL API, which alone turns auto-merge off. */
  graphql: GraphqlOctokit;
}

/**
 * The commands' requests. Reading new comments is one conditional request (a 304 when nobody
 * commented anywhere in the repository), on a fixed query so its ETag stays valid.
 */
export function createCommandGitHub(client: GitHubClient, account: CommandAccount): CommandGitHub {
  /**
   * The ids of the app's replies to `comment`, oldest first: comments on its issue since it was
   * made that carry its reply tag (anyone may write the tag; only the app's own comment is its
   * reply).
   */
  async function replies(comment: RepliedComment): Promise<number[]> {
    const tag = { comment: String(comment.id) };
    const ids: number[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const list = await client.call(
        `read the comments of #${comment.issueNumber}`,
        "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
        {
          issue_number: comment.issueNumber,
          since: comment.createdAt,
          per_page: PAGE,
          ...(page > 1 ? { page } : {}),
        },
        GitHubCommentBodies,
      );
      for (const item of list) {
        if (writtenBy(item, account.botLogin) && hasCommentTag(item.body, "reply", tag))
          ids.push(item.id);
      }
      if (list.length < PAGE) break;
    }
    return ids.sort((a, b) => a - b);
  }

  return {
    async newComments(after) {
      const comments: CommentRecord[] = [];
      let newest: number | undefined;
      for (let page = 1; page <= MAX_PAGES; page++) {
        const parameters = { sort: "created", direction: "desc", per_page: PAGE };
        const list =
          page === 1
            ? (
                await client.conditional(
                  "list the repository's recent comments",
                  "GET /repos/{owner}/{repo}/issues/comments",
                  parameters,
                  GitHubCommentList,
                )
              ).data
            : await client.call(
                "list the repository's recent comments",
                "GET /repos/{owner}/{repo}/issues/comments",
                { ...parameters, page },
                GitHubCommentList,
              );
        for (const item of list) {
          newest = Math.max(newest ?? 0, item.id);
          if (item.id > after) comments.push(toRecord(item));
        }
        const reachedKnown = list.some((item) => item.id <= after);
        if (list.length < PAGE || reachedKnown || after === 0) break;
      }
      return { comments: comments.sort((a, b) => a.id - b.id), newest };
    },
    async permission(login) {
      try {
        const answer = await client.call(
          `read the permission of ${login}`,
          "GET /repos/{owner}/{repo}/collaborators/{username}/permission",
          { username: login },
          GitHubPermission,
        );
        const level = answer.role_name ?? answer.permission;
        return { allowed: WRITE.has(level) || WRITE.has(answer.permission), permission: level };
      } catch (error) {
        // Not a collaborator at all.
        if (failedWith(error, 404)) return { allowed: false, permission: "none" };
        throw error;
      }
    },
    async react(commentId, content) {
      await client.send(
        `react to comment ${commentId}`,
        "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
        { comment_id: commentId, content },
      );
    },
    async reply(comment, body) {
      const tag = { comment: String(comment.id) };
      const issue = comment.issueNumber;
      if ((await replies(comment)).length > 0) return;
      const posted = await client.call(
        `reply on #${issue}`,
        "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
        { issue_number: issue, body: `${body}\n\n${commentTag("reply", tag)}` },
        GitHubPostedComment,
      );
      // Another replica that took the comment at the same moment found no reply either, and
      // may have made one too: the first stands, and the one made after it is taken back.
      const first = Math.min(...(await replies(comment)));
      if (first >= posted.id) return;
      await client.send(
        `delete the second reply on #${issue}`,
        "DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}",
        { comment_id: posted.id },
      );
    },
    async setHold(issueNumber, on) {
      if (on) {
        await client.send(
          `hold #${issueNumber}`,
          "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
          { issue_number: issueNumber, labels: [HOLD_LABEL] },
        );
        return;
      }
      try {
        await client.send(
          `release the hold on #${issueNumber}`,
          "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
          { issue_number: issueNumber, name: HOLD_LABEL },
        );
      } catch (error) {
        if (!failedWith(error, 404)) throw error;
      }
    },
    async turnOffAutoMerge(pullRequestId) {
      await disableAutoMerge(account.graphql, pullRequestId);
    },
    async findIssue(key, label) {
      // Oldest first, as the forge keeps the oldest of duplicates; other issues carrying the
      // label can push it past the first page.
      for (let page = 1; page <= MAX_PAGES; page++) {
        const answer = await client.conditional(
          "list pr-autoscaler issues",
          "GET /repos/{owner}/{repo}/issues",
          {
            labels: label,
            state: "all",
            sort: "created",
            direction: "asc",
            per_page: PAGE,
            ...(page > 1 ? { page } : {}),
          },
          GitHubIssueList,
        );
        const found = answer.data.find(
          (issue) => issue.pull_request === undefined && readIssueMarker(issue.body)?.key === key,
        );
        if (found) return { number: found.number, body: found.body ?? "" };
        if (!answer.hasNextPage) break;
      }
      return undefined;
    },
    async pullRequestFiles(number) {
      const files: string[] = [];
      for (let page = 1; page <= MAX_PAGES; page++) {
        const list = await client.call(
          `list the files of pull request #${number}`,
          "GET /repos/{owner}/{repo}/pulls/{pull_number}/files",
          { pull_number: number, per_page: PAGE, ...(page > 1 ? { page } : {}) },
          GitHubPullFiles,
        );
        // GitHub lists a moved file once, by its new path: the old one is changed too (a target
        // moved away leaves the configuration naming a file that is gone).
        for (const file of list) {
          files.push(file.filename);
          if (file.previous_filename !== undefined) files.push(file.previous_filename);
        }
        if (list.length < PAGE) break;
      }
      return files;
    },
  };
}

function toRecord(item: z.infer<typeof GitHubCommentItem>): CommentRecord {
  const login = item.user?.login ?? "ghost";
  return {
    id: item.id,
    issueNumber: Number(/\/issues\/(\d+)$/.exec(item.issue_url)?.[1] ?? 0),
    body: item.body ?? "",
    login,
    isBot: item.user?.type === "Bot" || login.endsWith("[bot]") || item.user === null,
    createdAt: item.created_at,
  };
}
