/**
 * `pr-autoscaler report apply` telling a Slack-compatible chat (NOTIFY_WEBHOOK_URL): GitHub
 * behind the checked nock scope, the chat's incoming webhook a real HTTP server on 127.0.0.1.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import nock from "nock";
import { mockGitHub, REPO_PATH } from "../support/github.ts";
import { comment, OWNER, REPO, sha, status } from "../support/github-responses.ts";
import {
  guardVerdictFile,
  RUN_URL,
  runReport,
  TOKEN,
  tempDir,
  WORKFLOW_ENV,
} from "./report-support.ts";

const MERGE = sha("merge-of-pr-12");
const HOOK_PATH = "/hooks/mattermost-hook-id-0123456789";
const COMMENT_URL = "https://github.com/octocat/Hello-World/pull/12#issuecomment-31";

let scaleDown: string;
let server: Server | undefined;
let posts: unknown[] = [];
let answer = 200;

beforeAll(async () => {
  nock.enableNetConnect("127.0.0.1");
  scaleDown = await guardVerdictFile(await tempDir(), "down", "scale-down-4-to-3.json", 4, 3);
});

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  posts = [];
  answer = 200;
});

async function chat(): Promise<string> {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.url !== HOOK_PATH) {
        response.writeHead(404).end();
        return;
      }
      posts.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      response.writeHead(answer).end(answer === 200 ? "ok" : "internal error");
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${HOOK_PATH}`;
}

/** GitHub for one apply report on the merged pull request #12 (comment 31 created). */
function gitHubForApply() {
  const github = mockGitHub();
  github.scope.get(`${REPO_PATH}/issues/12/comments`).query({ per_page: "100" }).reply(200, []);
  github.scope.post(`${REPO_PATH}/issues/12/comments`).reply(201, {
    ...(comment(31, "report") as Record<string, unknown>),
    html_url: COMMENT_URL,
  });
  github.scope.post(`${REPO_PATH}/statuses/${MERGE}`).reply(201, status());
  return github;
}

describe("report apply with NOTIFY_WEBHOOK_URL", () => {
  it("tells the chat the change was applied, with the pull request's comment", async () => {
    const url = await chat();
    gitHubForApply();
    const run = await runReport(
      [
        "apply",
        "--sha",
        MERGE,
        "--result",
        "ok",
        "--verdict",
        scaleDown,
        "--pool",
        "workers",
        "--pr",
        "12",
      ],
      { ...WORKFLOW_ENV, NOTIFY_WEBHOOK_URL: url },
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(posts).toEqual([
      {
        text: `${OWNER}/${REPO}: apply done (pool workers): Applied: 4 → 3 workers, destroy talos-worker-4 (${MERGE.slice(0, 7)}) ${COMMENT_URL}`,
      },
    ]);
    expect(run.stdout).toContain("report apply: told the chat (NOTIFY_WEBHOOK_URL)\n");
    expect(run.stdout).not.toContain(HOOK_PATH);
  });

  it("tells the chat an apply failed, linking the run when no pull request was found", async () => {
    const url = await chat();
    const github = mockGitHub();
    github.scope.get(`${REPO_PATH}/commits/${MERGE}/pulls`).reply(200, []);
    github.scope.post(`${REPO_PATH}/statuses/${MERGE}`).reply(201, status());
    const run = await runReport(
      [
        "apply",
        "--sha",
        MERGE,
        "--result",
        "failed",
        "--failed-step",
        "drain",
        "--pool",
        "workers",
      ],
      { ...WORKFLOW_ENV, NOTIFY_WEBHOOK_URL: url },
    );
    expect(run.code).toBe(0);
    expect(posts).toEqual([
      {
        text: `${OWNER}/${REPO}: apply failed (pool workers): Failed at drain: nothing applied; check for cordoned nodes (${MERGE.slice(0, 7)}) ${RUN_URL}`,
      },
    ]);
    expect(JSON.stringify(posts)).not.toContain(TOKEN);
  });

  it("tells the chat a cancelled run was cancelled, not that the apply failed", async () => {
    const url = await chat();
    const github = mockGitHub();
    github.scope.get(`${REPO_PATH}/commits/${MERGE}/pulls`).reply(200, []);
    github.scope.post(`${REPO_PATH}/statuses/${MERGE}`).reply(201, status());
    const run = await runReport(
      ["apply", "--sha", MERGE, "--result", "failed", "--failed-step", "plan", "--cancelled"],
      { ...WORKFLOW_ENV, NOTIFY_WEBHOOK_URL: url },
    );
    expect(run.code).toBe(0);
    expect(posts).toEqual([
      {
        text: `${OWNER}/${REPO}: apply cancelled: Cancelled before the apply: nothing changed (${MERGE.slice(0, 7)}) ${RUN_URL}`,
      },
    ]);
  });

  it("still reports, and says so, when the chat refuses the message", async () => {
    const url = await chat();
    answer = 500;
    gitHubForApply();
    const run = await runReport(
      ["apply", "--sha", MERGE, "--result", "ok", "--verdict", scaleDown, "--pr", "12"],
      { ...WORKFLOW_ENV, NOTIFY_WEBHOOK_URL: url },
    );
    expect(run.code).toBe(0);
    expect(posts).toHaveLength(1);
    expect(run.stdout).toContain(
      "report apply: could not tell the chat: the notification webhook answered 500: internal error\n",
    );
    expect(run.stdout + run.stderr).not.toContain(HOOK_PATH);
  });

  it("tells nothing when the apply only starts, or without the variable", async () => {
    const url = await chat();
    const github = mockGitHub();
    github.scope.post(`${REPO_PATH}/statuses/${MERGE}`).reply(201, status());
    const started = await runReport(["apply", "--sha", MERGE, "--result", "started"], {
      ...WORKFLOW_ENV,
      NOTIFY_WEBHOOK_URL: url,
    });
    expect(started.code).toBe(0);
    gitHubForApply();
    const quiet = await runReport(
      ["apply", "--sha", MERGE, "--result", "ok", "--verdict", scaleDown, "--pr", "12"],
      WORKFLOW_ENV,
    );
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).not.toContain("chat");
    expect(posts).toEqual([]);
  });
});
