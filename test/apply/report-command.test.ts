/**
 * `pr-autoscaler report` against GitHub's REST API: every request is checked against GitHub's
 * published API description (test/support/github.ts) and asserted exactly.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "@jest/globals";
import nock from "nock";
import type { WaitResult } from "../../src/apply/wait-nodes.ts";
import { API, type GitHubMock, mockGitHub, REPO_PATH } from "../support/github.ts";
import { comment, pullRequest, sha, status } from "../support/github-responses.ts";
import {
  ACTIONS_BOT,
  guardVerdictFile,
  mockViewer,
  RUN_URL,
  runReport,
  TOKEN,
  tempDir,
  WORKFLOW_ENV,
} from "./report-support.ts";

const HEAD = sha("head-of-pr-12");
const MERGE = sha("merge-of-pr-12");
const PLAN_MARKER = '<!-- pr-autoscaler:plan-guard {"pool":"workers"} -->';

let dir: string;
let scaleDown: string;
let refused: string;
let scaleUp: string;

beforeAll(async () => {
  dir = await tempDir();
  scaleDown = await guardVerdictFile(dir, "scale-down", "scale-down-4-to-3.json", 4, 3);
  scaleUp = await guardVerdictFile(dir, "scale-up", "scale-up-3-to-4.json", 3, 4);
  // The scale-up plan while the tfvars file says 3 → 3: the guard refuses both creates.
  refused = await guardVerdictFile(dir, "refused", "scale-up-3-to-4.json", 3, 3);
});

function botComment(id: number, body: string, login = ACTIONS_BOT) {
  const answer = comment(id, body) as { user: Record<string, unknown> };
  return { ...answer, user: { ...answer.user, login, type: "Bot" } };
}

const COMMENTS_QUERY = { per_page: "100" };

/** The comment text of the `index`th request. */
function sentBody(github: GitHubMock, index: number): string {
  const body = github.requests[index]?.body as { body?: unknown } | undefined;
  if (typeof body?.body !== "string") throw new Error(`request ${index} sent no comment body`);
  return body.body;
}

describe("report plan", () => {
  it("creates the comment and sets a success status on the first run", async () => {
    const github = mockGitHub();
    github.scope.get(`${REPO_PATH}/issues/12/comments`).query(COMMENTS_QUERY).reply(200, []);
    github.scope.post(`${REPO_PATH}/issues/12/comments`).reply(201, botComment(901, "report"));
    github.scope.post(`${REPO_PATH}/statuses/${HEAD}`).reply(201, status());

    const run = await runReport([
      "plan",
      "--pr",
      "12",
      "--sha",
      HEAD,
      "--verdict",
      scaleDown,
      "--pool",
      "workers",
    ]);

    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(github.calls()).toEqual([
      "GET /issues/12/comments",
      "POST /issues/12/comments",
      `POST /statuses/${HEAD}`,
    ]);
    // Each request was checked against GitHub's REST API description as this operation.
    expect(github.requests.map((request) => request.operationId)).toEqual([
      "issues/list-comments",
      "issues/create-comment",
      "repos/create-commit-status",
    ]);
    const body = sentBody(github, 1);
    expect(Object.keys(github.requests[1]?.body as object)).toEqual(["body"]);
    expect(body.startsWith("### ✅ pr-autoscaler plan guard: passed\n\n")).toBe(true);
    expect(body).toContain("Pool `workers`: **4 → 3 workers**.");
    expect(body).toContain(
      "| destroy | `talos-worker-4` | `proxmox_virtual_environment_vm.worker[3]` | `talos-worker-4`, drained first |",
    );
    expect(body).toContain("it drains `talos-worker-4`, applies the plan, deletes the Node object");
    expect(body).toContain(`[workflow run](${RUN_URL})`);
    expect(body.endsWith(`\n\n${PLAN_MARKER}`)).toBe(true);
    expect(github.requests[2]?.body).toEqual({
      state: "success",
      context: "pr-autoscaler/plan-guard",
      description: "Passed: 4 → 3 workers, destroy talos-worker-4",
      target_url: RUN_URL,
    });
    expect(run.stdout).toBe(
      [
        "report plan: created comment 901 on #12 (https://github.com/octocat/Hello-World/issues/1347#issuecomment-1)",
        `report plan: set status pr-autoscaler/plan-guard = success on ${HEAD.slice(0, 12)}`,
        "",
      ].join("\n"),
    );
  });

  it("updates its own comment in place on the next run, leaving people's and other pools' alone", async () => {
    const github = mockGitHub();
    mockViewer();
    github.scope
      .get(`${REPO_PATH}/issues/12/comments`)
      .query(COMMENTS_QUERY)
      .reply(200, [
        comment(1, `Copied from the bot:\n${PLAN_MARKER}`),
        botComment(2, 'old\n\n<!-- pr-autoscaler:plan-guard {"pool":"gpu"} -->'),
        botComment(3, `### ✅ pr-autoscaler plan guard: passed\n\n${PLAN_MARKER}`),
        botComment(4, `a later duplicate\n\n${PLAN_MARKER}`),
      ]);
    github.scope.patch(`${REPO_PATH}/issues/comments/3`).reply(200, botComment(3, "report"));
    github.scope.post(`${REPO_PATH}/statuses/${HEAD}`).reply(201, status());

    const run = await runReport([
      "plan",
      "--pr",
      "12",
      "--sha",
      HEAD,
      "--verdict",
      refused,
      "--pool",
      "workers",
    ]);

    expect(run.code).toBe(0);
    expect(github.calls()).toEqual([
      "GET /issues/12/comments",
      "PATCH /issues/comments/3",
      `POST /statuses/${HEAD}`,
    ]);
    expect(github.requests[1]?.operationId).toBe("issues/update-comment");
    const body = sentBody(github, 1);
    expect(body).toContain("### ❌ pr-autoscaler plan guard: refused");
    expect(body).toContain("Pool `workers`: **3 workers, unchanged** expected.");
    expect(body).toContain(
      "| `proxmox_virtual_environment_vm.worker[3]` | create | this worker VM would be created, but 3 → 3 creates no worker |",
    );
    expect(github.requests[2]?.body).toEqual({
      state: "failure",
      context: "pr-autoscaler/plan-guard",
      description: "Refused: 2 changes are not the expected worker change (3 workers, unchanged)",
      target_url: RUN_URL,
    });
    expect(run.stdout).toContain("report plan: updated comment 3 on #12");
  });

  it("finds its comment on a later page of a long conversation", async () => {
    const github = mockGitHub();
    mockViewer();
    const page1 = Array.from({ length: 100 }, (_, i) => comment(100 + i, `comment ${i}`));
    github.scope
      .get(`${REPO_PATH}/issues/12/comments`)
      .query(COMMENTS_QUERY)
      .reply(200, page1, {
        link: `<https://api.github.com${REPO_PATH}/issues/12/comments?per_page=100&page=2>; rel="next"`,
      });
    github.scope
      .get(`${REPO_PATH}/issues/12/comments`)
      .query({ per_page: "100", page: "2" })
      .reply(200, [botComment(777, `older report\n\n${PLAN_MARKER}`)]);
    github.scope.patch(`${REPO_PATH}/issues/comments/777`).reply(200, botComment(777, "report"));
    github.scope.post(`${REPO_PATH}/statuses/${HEAD}`).reply(201, status());

    const run = await runReport([
      "plan",
      "--pr",
      "12",
      "--sha",
      HEAD,
      "--verdict",
      scaleUp,
      "--pool",
      "workers",
    ]);

    expect(run.code).toBe(0);
    expect(github.calls()).toEqual([
      "GET /issues/12/comments",
      "GET /issues/12/comments",
      "PATCH /issues/comments/777",
      `POST /statuses/${HEAD}`,
    ]);
  });

  it("sends nothing again when its comment already says the same", async () => {
    const first = mockGitHub();
    first.scope.get(`${REPO_PATH}/issues/12/comments`).query(COMMENTS_QUERY).reply(200, []);
    first.scope.post(`${REPO_PATH}/issues/12/comments`).reply(201, botComment(5, "report"));
    first.scope.post(`${REPO_PATH}/statuses/${HEAD}`).reply(201, status());
    const args = ["plan", "--pr", "12", "--sha", HEAD, "--verdict", scaleUp, "--pool", "workers"];
    expect((await runReport(args)).code).toBe(0);
    const sent = sentBody(first, 1);

    const second = mockGitHub();
    mockViewer();
    second.scope
      .get(`${REPO_PATH}/issues/12/comments`)
      .query(COMMENTS_QUERY)
      .reply(200, [botComment(5, sent)]);
    second.scope.post(`${REPO_PATH}/statuses/${HEAD}`).reply(201, status());
    const run = await runReport(args);

    expect(run.code).toBe(0);
    expect(second.calls()).toEqual(["GET /issues/12/comments", `POST /statuses/${HEAD}`]);
    expect(run.stdout).toContain("report plan: unchanged comment 5 on #12");
  });

  it("sets the status on the pull request's head when --sha is not given", async () => {
    const github = mockGitHub();
    github.scope
      .get(`${REPO_PATH}/pulls/12`)
      .reply(
        200,
        pullRequest({ number: 12, branch: "pr-autoscaler/nodes-workers", headSha: HEAD, body: "" }),
      );
    github.scope.get(`${REPO_PATH}/issues/12/comments`).query(COMMENTS_QUERY).reply(200, []);
    github.scope.post(`${REPO_PATH}/issues/12/comments`).reply(201, botComment(6, "report"));
    github.scope.post(`${REPO_PATH}/statuses/${HEAD}`).reply(201, status());

    const run = await runReport(["plan", "--pr", "12", "--verdict", scaleUp]);

    expect(run.code).toBe(0);
    expect(github.calls()).toEqual([
      "GET /pulls/12",
      "GET /issues/12/comments",
      "POST /issues/12/comments",
      `POST /statuses/${HEAD}`,
    ]);
    // Without --pool the marker still has its key, so the comment is found again.
    const body = sentBody(github, 2);
    expect(body.endsWith('<!-- pr-autoscaler:plan-guard {"pool":""} -->')).toBe(true);
    expect(body).toContain("**3 → 4 workers**");
  });

  it("reports a step that failed before the guard as an error status with the log", async () => {
    const log = join(dir, "init-failed.log");
    await writeFile(log, "pr-autoscaler guard: cannot read plan.json: ENOENT\n");
    const github = mockGitHub();
    github.scope.get(`${REPO_PATH}/issues/12/comments`).query(COMMENTS_QUERY).reply(200, []);
    github.scope.post(`${REPO_PATH}/issues/12/comments`).reply(201, botComment(8, "report"));
    github.scope.post(`${REPO_PATH}/statuses/${HEAD}`).reply(201, status());

    const run = await runReport([
      "plan",
      "--pr",
      "12",
      "--sha",
      HEAD,
      "--failed-step",
      "guard",
      "--verdict",
      "",
      "--details",
      log,
      "--pool",
      "workers",
    ]);

    expect(run.code).toBe(0);
    const body = sentBody(github, 1);
    expect(body).toContain("### ⚠️ pr-autoscaler plan guard: could not check the plan");
    expect(body).toContain("`pr-autoscaler guard` could not read its input");
    expect(body).toContain(
      "<details><summary>Log</summary>\n\n```text\npr-autoscaler guard: cannot read plan.json: ENOENT\n```\n\n</details>",
    );
    expect(github.requests[2]?.body).toEqual({
      state: "error",
      context: "pr-autoscaler/plan-guard",
      description: "Could not check the plan: the guard could not read its input",
      target_url: RUN_URL,
    });
  });

  it("never posts the token or a Proxmox secret that reached the log", async () => {
    const log = join(dir, "leaky.log");
    await writeFile(
      log,
      `curl -H "Authorization: token ${TOKEN}"\nPROXMOX_VE_API_TOKEN=terraform@pve!ci=0b9a6c1e-2f4d-4c7a-9e3b-5d8f1a2b3c4d\n`,
    );
    const github = mockGitHub();
    github.scope.get(`${REPO_PATH}/issues/12/comments`).query(COMMENTS_QUERY).reply(200, []);
    github.scope.post(`${REPO_PATH}/issues/12/comments`).reply(201, botComment(9, "report"));
    github.scope.post(`${REPO_PATH}/statuses/${HEAD}`).reply(201, status());

    const run = await runReport([
      "plan",
      "--pr",
      "12",
      "--sha",
      HEAD,
      "--failed-step",
      "plan",
      "--details",
      log,
    ]);

    expect(run.code).toBe(0);
    const body = sentBody(github, 1);
    expect(body).not.toContain(TOKEN);
    expect(body).not.toContain("0b9a6c1e-2f4d-4c7a-9e3b-5d8f1a2b3c4d");
    expect(body).toContain('curl -H "Authorization: token ***"');
    expect(body).toContain("PROXMOX_VE_API_TOKEN=terraform@pve!ci=***");
  });
});

describe("report apply", () => {
  it("finds the merged pull request of the commit and comments the result there", async () => {
    const github = mockGitHub();
    github.scope.get(`${REPO_PATH}/commits/${MERGE}/pulls`).reply(200, [
      // An open pull request whose branch also holds the commit: not the one that merged it.
      pullRequest({ number: 15, branch: "feature", headSha: sha("feature"), body: "" }),
      {
        ...pullRequest({
          number: 12,
          branch: "pr-autoscaler/nodes-workers",
          headSha: HEAD,
          body: "",
          state: "closed",
          closedAt: "2025-03-02T10:00:00Z",
          mergedAt: "2025-03-02T10:00:00Z",
        }),
        merge_commit_sha: MERGE,
      },
    ]);
    github.scope
      .get(`${REPO_PATH}/issues/12/comments`)
      .query(COMMENTS_QUERY)
      .reply(200, [botComment(30, `### ✅ pr-autoscaler plan guard: passed\n\n${PLAN_MARKER}`)]);
    github.scope.post(`${REPO_PATH}/issues/12/comments`).reply(201, botComment(31, "report"));
    github.scope.post(`${REPO_PATH}/statuses/${MERGE}`).reply(201, status());

    const run = await runReport([
      "apply",
      "--sha",
      MERGE,
      "--result",
      "ok",
      "--verdict",
      scaleDown,
      "--pool",
      "workers",
      "--failed-step",
      "",
      "--uncordon",
      "",
    ]);

    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(github.calls()).toEqual([
      `GET /commits/${MERGE}/pulls`,
      "GET /issues/12/comments",
      "POST /issues/12/comments",
      `POST /statuses/${MERGE}`,
    ]);
    expect(github.requests[0]?.operationId).toBe("repos/list-pull-requests-associated-with-commit");
    const body = sentBody(github, 2);
    expect(body).toContain("### ✅ pr-autoscaler apply: done");
    expect(body).toContain("| Drain | ✅ drained `talos-worker-4` |");
    expect(body).toContain("| terraform apply | ✅ applied: 0 VMs created, 1 VM destroyed |");
    expect(body).toContain(
      "| Nodes | ✅ deleted the Node objects of the destroyed VMs; the pool has 3 Ready nodes |",
    );
    expect(
      body.endsWith(`<!-- pr-autoscaler:apply-result {"pool":"workers","sha":"${MERGE}"} -->`),
    ).toBe(true);
    expect(github.requests[3]?.body).toEqual({
      state: "success",
      context: "pr-autoscaler/apply",
      description: "Applied: 4 → 3 workers, destroy talos-worker-4",
      target_url: RUN_URL,
    });
  });

  it("says what is left and what to do when the apply failed after the drain", async () => {
    const github = mockGitHub();
    mockViewer();
    github.scope.get(`${REPO_PATH}/commits/${MERGE}/pulls`).reply(200, [
      {
        ...pullRequest({
          number: 12,
          branch: "b",
          headSha: HEAD,
          body: "",
          mergedAt: "2025-03-02T10:00:00Z",
        }),
        merge_commit_sha: MERGE,
      },
    ]);
    github.scope
      .get(`${REPO_PATH}/issues/12/comments`)
      .query(COMMENTS_QUERY)
      .reply(200, [
        botComment(
          40,
          `### ❌ pr-autoscaler apply: failed\n\n<!-- pr-autoscaler:apply-result {"pool":"workers","sha":"${MERGE}"} -->`,
        ),
      ]);
    github.scope.patch(`${REPO_PATH}/issues/comments/40`).reply(200, botComment(40, "report"));
    github.scope.post(`${REPO_PATH}/statuses/${MERGE}`).reply(201, status());

    const run = await runReport([
      "apply",
      "--sha",
      MERGE,
      "--result",
      "failed",
      "--failed-step",
      "apply",
      "--uncordon",
      "ok",
      "--verdict",
      scaleDown,
      "--pool",
      "workers",
    ]);

    expect(run.code).toBe(0);
    expect(github.calls()).toEqual([
      `GET /commits/${MERGE}/pulls`,
      "GET /issues/12/comments",
      "PATCH /issues/comments/40",
      `POST /statuses/${MERGE}`,
    ]);
    const body = sentBody(github, 2);
    expect(body).toContain("| terraform apply | ❌ failed |\n| Nodes | — not run |");
    expect(body).toContain(
      "**What changed:** `terraform apply` did not finish: it failed, or the run was cancelled before it ended. Terraform may have changed part of the plan before it stopped. The drained node `talos-worker-4` was uncordoned.",
    );
    expect(github.requests[3]?.body).toEqual({
      state: "failure",
      context: "pr-autoscaler/apply",
      description: "Failed at terraform apply: nodes uncordoned",
      target_url: RUN_URL,
    });
  });

  it("reports a refused merged plan: nothing drained, nothing applied", async () => {
    const github = mockGitHub();
    github.scope.post(`${REPO_PATH}/statuses/${MERGE}`).reply(201, status());
    github.scope.get(`${REPO_PATH}/issues/12/comments`).query(COMMENTS_QUERY).reply(200, []);
    github.scope.post(`${REPO_PATH}/issues/12/comments`).reply(201, botComment(50, "report"));

    const run = await runReport([
      "apply",
      "--sha",
      MERGE,
      "--result",
      "failed",
      "--failed-step",
      "guard",
      "--verdict",
      refused,
      "--pr",
      "12",
    ]);

    expect(run.code).toBe(0);
    expect(github.calls()).toEqual([
      "GET /issues/12/comments",
      "POST /issues/12/comments",
      `POST /statuses/${MERGE}`,
    ]);
    const body = sentBody(github, 1);
    expect(body).toContain("### 🛑 pr-autoscaler apply: refused, nothing applied");
    expect(body).toContain("| Plan guard | ❌ refused: 2 problems |\n| Drain | — not run |");
    expect(github.requests[2]?.body).toMatchObject({
      state: "failure",
      description: "Refused by the plan guard (2 problems): nothing applied",
    });
  });

  it("only sets the commit status when no merged pull request brought the commit", async () => {
    const github = mockGitHub();
    github.scope.get(`${REPO_PATH}/commits/${MERGE}/pulls`).reply(200, []);
    github.scope.post(`${REPO_PATH}/statuses/${MERGE}`).reply(201, status());

    const run = await runReport(["apply", "--sha", MERGE, "--result", "ok", "--verdict", scaleUp]);

    expect(run.code).toBe(0);
    expect(github.calls()).toEqual([`GET /commits/${MERGE}/pulls`, `POST /statuses/${MERGE}`]);
    expect(run.stdout).toContain(
      `report apply: no merged pull request brought ${MERGE.slice(0, 12)}: the result is only in the commit status`,
    );
  });

  it("marks the commit as being applied with a pending status and nothing else", async () => {
    const github = mockGitHub();
    github.scope.post(`${REPO_PATH}/statuses/${MERGE}`).reply(201, status());

    const run = await runReport([
      "apply",
      "--sha",
      MERGE,
      "--result",
      "started",
      "--run-url",
      RUN_URL,
    ]);

    expect(run.code).toBe(0);
    expect(github.requests.map((r) => r.body)).toEqual([
      {
        state: "pending",
        context: "pr-autoscaler/apply",
        description: "Planning, guarding and applying the merged change",
        target_url: RUN_URL,
      },
    ]);
  });
});

describe("report's own comment", () => {
  const args = () => [
    "plan",
    "--pr",
    "12",
    "--sha",
    HEAD,
    "--verdict",
    scaleUp,
    "--pool",
    "workers",
  ];

  it("is not another account's comment that carries its marker, however alike", async () => {
    // What the report would write, copied by another app before it ran.
    const dryRun = await runReport([...args(), "--dry-run"]);
    const copy = dryRun.stdout.slice(
      dryRun.stdout.indexOf("### "),
      dryRun.stdout.indexOf(PLAN_MARKER),
    );
    expect(copy).toContain("pr-autoscaler plan guard: passed");
    const github = mockGitHub();
    mockViewer();
    github.scope
      .get(`${REPO_PATH}/issues/12/comments`)
      .query(COMMENTS_QUERY)
      .reply(200, [botComment(3, `${copy}${PLAN_MARKER}`, "other-app[bot]")]);
    github.scope.post(`${REPO_PATH}/issues/12/comments`).reply(201, botComment(4, "report"));
    github.scope.post(`${REPO_PATH}/statuses/${HEAD}`).reply(201, status());

    const run = await runReport(args());

    expect(run.stderr).toBe("");
    expect(github.calls()).toEqual([
      "GET /issues/12/comments",
      "POST /issues/12/comments",
      `POST /statuses/${HEAD}`,
    ]);
    expect(run.stdout).toContain("report plan: created comment 4 on #12");
  });

  it("is the comment of the account the token comments as: an app's, with an app's token", async () => {
    const github = mockGitHub();
    mockViewer("infra-bot[bot]");
    github.scope
      .get(`${REPO_PATH}/issues/12/comments`)
      .query(COMMENTS_QUERY)
      .reply(200, [
        botComment(5, `from the workflow's token\n\n${PLAN_MARKER}`),
        botComment(6, `from the app\n\n${PLAN_MARKER}`, "infra-bot[bot]"),
      ]);
    github.scope
      .patch(`${REPO_PATH}/issues/comments/6`)
      .reply(200, botComment(6, "report", "infra-bot[bot]"));
    github.scope.post(`${REPO_PATH}/statuses/${HEAD}`).reply(201, status());

    const run = await runReport(args());

    expect(run.code).toBe(0);
    expect(github.calls()).toEqual([
      "GET /issues/12/comments",
      "PATCH /issues/comments/6",
      `POST /statuses/${HEAD}`,
    ]);
  });

  it("says so when GitHub does not tell who the token is", async () => {
    const github = mockGitHub();
    nock(API)
      .post("/graphql")
      .reply(200, {
        data: null,
        errors: [{ message: "Something went wrong while executing your query." }],
      });
    github.scope
      .get(`${REPO_PATH}/issues/12/comments`)
      .query(COMMENTS_QUERY)
      .reply(200, [botComment(7, `earlier\n\n${PLAN_MARKER}`)]);

    const run = await runReport(args());

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "pr-autoscaler report plan: could not ask GitHub which account the token comments as in octocat/Hello-World: GitHub answered: Something went wrong while executing your query.\n",
    );
    expect(github.calls()).toEqual(["GET /issues/12/comments"]);
  });
});

describe("report errors", () => {
  it("names the missing permission when GitHub refuses the status", async () => {
    const github = mockGitHub();
    github.scope.get(`${REPO_PATH}/issues/12/comments`).query(COMMENTS_QUERY).reply(200, []);
    github.scope.post(`${REPO_PATH}/issues/12/comments`).reply(201, botComment(60, "report"));
    github.scope.post(`${REPO_PATH}/statuses/${HEAD}`).reply(403, {
      message: "Resource not accessible by integration",
      documentation_url: "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
      status: "403",
    });

    const run = await runReport(["plan", "--pr", "12", "--sha", HEAD, "--verdict", scaleUp]);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `pr-autoscaler report plan: could not set the commit status pr-autoscaler/plan-guard on ${HEAD.slice(0, 12)} in octocat/Hello-World: GitHub answered 403: Resource not accessible by integration. The token lacks a permission: give the job the \`statuses: write\` permission.\n`,
    );
  });

  it("says what was looked for when the commit is unknown", async () => {
    const github = mockGitHub();
    github.scope.get(`${REPO_PATH}/commits/${MERGE}/pulls`).reply(422, {
      message: "No commit found for SHA: 6d657267652d6f662d70722d3132000000000000",
      documentation_url:
        "https://docs.github.com/rest/commits/commits#list-pull-requests-associated-with-a-commit",
      status: "422",
    });

    const run = await runReport(["apply", "--sha", MERGE, "--result", "ok", "--verdict", scaleUp]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `could not find the pull request of commit ${MERGE.slice(0, 12)} in octocat/Hello-World: GitHub answered 422: No commit found for SHA`,
    );
  });

  it("explains a refused token", async () => {
    const github = mockGitHub();
    github.scope.get(`${REPO_PATH}/issues/12/comments`).query(COMMENTS_QUERY).reply(401, {
      message: "Bad credentials",
      documentation_url: "https://docs.github.com/rest",
      status: "401",
    });

    const run = await runReport(["plan", "--pr", "12", "--sha", HEAD, "--verdict", scaleUp]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "could not list the comments of #12 in octocat/Hello-World: GitHub answered 401: Bad credentials. The token was not accepted",
    );
    expect(github.calls()).toEqual(["GET /issues/12/comments"]);
  });

  it("says GitHub could not be reached when the API URL answers nothing", async () => {
    const run = await runReport(["plan", "--pr", "12", "--sha", HEAD, "--verdict", scaleUp], {
      ...WORKFLOW_ENV,
      GITHUB_API_URL: "https://github.invalid/api/v3",
    });

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^pr-autoscaler report plan: could not list the comments of #12: GitHub could not be reached \(.*github\.invalid.*\)\. Check GITHUB_API_URL or --api-url\.\n$/,
    );
  });

  it("refuses to run without a token, before any request", async () => {
    const { GITHUB_TOKEN: _, ...withoutToken } = WORKFLOW_ENV;
    const run = await runReport(
      ["plan", "--pr", "12", "--sha", HEAD, "--verdict", scaleUp],
      withoutToken,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("GITHUB_TOKEN is not set");
  });

  it.each([
    [["plan", "--sha", HEAD, "--verdict", "v.json"], "plan needs --pr N"],
    [["plan", "--pr", "12", "--sha", HEAD], "plan needs --verdict FILE or --failed-step STEP"],
    [["plan", "--pr", "x", "--failed-step", "plan"], '--pr expects a pull request number, got "x"'],
    [
      ["plan", "--pr", "12", "--failed-step", "drain"],
      "--failed-step expects one of setup, init, plan, guard",
    ],
    [
      ["plan", "--pr", "12", "--sha", "abc123", "--failed-step", "plan"],
      "--sha expects a full commit SHA",
    ],
    [
      ["plan", "--pr", "12", "--failed-step", "plan", "--result", "ok"],
      "--result does not go with report plan",
    ],
    [["apply", "--result", "ok"], "apply needs --sha SHA"],
    [["apply", "--sha", MERGE, "--result", "done"], "--result expects one of started, ok, failed"],
    [["apply", "--sha", MERGE, "--result", "ok"], "--result ok needs --verdict"],
    [
      ["apply", "--sha", MERGE, "--result", "ok", "--failed-step", "apply"],
      "--failed-step goes with --result failed",
    ],
    [
      ["apply", "--sha", MERGE, "--result", "failed", "--failed-step", "drain", "--uncordon", "ok"],
      "--uncordon reports the uncordon after a failed apply",
    ],
    [
      ["apply", "--sha", MERGE, "--result", "started", "--pr", "12"],
      "--pr does not go with --result started",
    ],
    [
      ["apply", "--sha", MERGE, "--result", "ok", "--cancelled"],
      "--cancelled goes with --result failed",
    ],
    [
      ["apply", "--sha", MERGE, "--result", "started", "--cancelled"],
      "--cancelled does not go with --result started",
    ],
    [["publish"], 'expected a mode, plan, apply, outputs; got "publish"'],
    [
      ["plan", "--pr", "12", "--failed-step", "plan", "--run-url", "javascript:alert(1)"],
      "--run-url must be an http(s) URL",
    ],
  ])("refuses %j with a usage error", async (args, message) => {
    const run = await runReport(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it("refuses a verdict and a failed step together", async () => {
    const run = await runReport([
      "plan",
      "--pr",
      "12",
      "--verdict",
      scaleUp,
      "--failed-step",
      "plan",
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("give --verdict or --failed-step, not both");
  });

  it("points at the line of a verdict file that is not JSON", async () => {
    const file = join(dir, "broken.json");
    await writeFile(file, '{\n  "verdict": "pass"\n  "creates": []\n}\n');
    const run = await runReport(["plan", "--pr", "12", "--sha", HEAD, "--verdict", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${file}:3: not a guard verdict: the file is not JSON`);
  });

  it("says which field of a verdict file is wrong", async () => {
    const file = join(dir, "not-a-verdict.json");
    await writeFile(
      file,
      JSON.stringify({
        verdict: "maybe",
        expected: null,
        creates: [],
        destroys: [],
        offending: [],
        warnings: [],
      }),
    );
    const run = await runReport(["plan", "--pr", "12", "--sha", HEAD, "--verdict", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${file}: not a guard verdict at verdict:`);
  });
});

describe("report outputs", () => {
  it("gives the apply job the nodes to drain and the pool size to wait for", async () => {
    const run = await runReport(["outputs", "--verdict", scaleDown], {});
    expect(run).toEqual({
      code: 0,
      stdout:
        "drain-nodes=talos-worker-4\nworker-count=3\nworker-added=\npool-counts=\npool-added=\npool-drain-nodes=\ndrain-emptydir-nodes=\n",
      stderr: "",
    });
    const up = await runReport(["outputs", "--verdict", scaleUp], {});
    // The VM the scale-up creates must be among the Ready nodes (wait-nodes --added 1).
    expect(up.stdout).toBe(
      "drain-nodes=\nworker-count=4\nworker-added=1\npool-counts=\npool-added=\npool-drain-nodes=\ndrain-emptydir-nodes=\n",
    );
  });

  it("refuses a verdict that did not pass", async () => {
    const run = await runReport(["outputs", "--verdict", refused], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("the verdict is not a pass");
  });

  it("refuses a node name that is not a Kubernetes node name, such as one with a newline", async () => {
    const file = join(dir, "forged.json");
    const verdict = {
      verdict: "pass",
      expected: { from: 4, to: 3 },
      creates: [],
      destroys: [
        {
          address: 'proxmox_virtual_environment_vm.worker["x"]',
          name: "x",
          node: "talos-worker-4\nworker-count=99",
        },
      ],
      alsoAllowed: [],
      offending: [],
      warnings: [],
    };
    await writeFile(file, JSON.stringify(verdict));
    const run = await runReport(["outputs", "--verdict", file], {});
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("is not a Kubernetes node name; it cannot be drained");
  });
});

describe("report apply --drain-result", () => {
  /** The fields of `pr-autoscaler drain --json`'s result that the report reads, and more. */
  async function drainFile(name: string, fields: Record<string, unknown>): Promise<string> {
    const file = join(dir, `${name}.json`);
    const result = {
      outcome: "cancelled",
      dryRun: false,
      nodes: [{ name: "talos-worker-4", state: "cancelled", cordoned: true, uncordoned: true }],
      message: "received SIGTERM",
      leftCordoned: [],
      uncordonErrors: [],
      elapsedMs: 41000,
      ...fields,
    };
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    return file;
  }

  function failedDrain(drain: string): string[] {
    return [
      "apply",
      "--sha",
      MERGE,
      "--result",
      "failed",
      "--failed-step",
      "drain",
      "--verdict",
      scaleDown,
      "--drain-result",
      drain,
      "--dry-run",
    ];
  }

  it("reports a drain cancelled with its nodes uncordoned as such", async () => {
    const run = await runReport(failedDrain(await drainFile("cancelled", {})));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "Cancelled during the drain: nothing applied; the drain uncordoned the nodes it had cordoned (its log says which)",
    );
    expect(run.stdout).not.toContain("check for cordoned nodes");
  });

  it("keeps to 'check for cordoned nodes' when the drain left a node cordoned", async () => {
    const file = await drainFile("left", { leftCordoned: ["talos-worker-4"] });
    const run = await runReport(failedDrain(file));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Failed at drain: nothing applied; check for cordoned nodes");
  });

  it("still reports a drain whose result cannot be read, as one that may have left nodes cordoned", async () => {
    // A drain killed while it wrote its result leaves a file cut short.
    const file = join(dir, "not-a-drain.json");
    await writeFile(file, '{"outcome": "cancel');
    const run = await runReport(failedDrain(file));
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`${file}: not a drain result: the file is not JSON`);
    expect(run.stderr).toContain("It is reported as a drain that may have left nodes cordoned.");
    expect(run.stdout).toContain("Failed at drain: nothing applied; check for cordoned nodes");

    const shaped = await drainFile("no-outcome", { outcome: "stopped" });
    const wrong = await runReport(failedDrain(shaped));
    expect(wrong.code).toBe(0);
    expect(wrong.stderr).toContain("not a drain result at outcome");
    expect(wrong.stdout).toContain("check for cordoned nodes");
  });

  it("takes a drain result only with --failed-step drain", async () => {
    const file = await drainFile("cancelled-apply", {});
    const args = failedDrain(file).map((arg) => (arg === "drain" ? "apply" : arg));
    const run = await runReport(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--drain-result tells how a drain that did not finish stopped");

    const started = await runReport([
      "apply",
      "--sha",
      MERGE,
      "--result",
      "started",
      "--drain-result",
      file,
    ]);
    expect(started.code).toBe(2);
    expect(started.stderr).toContain("--drain-result does not go with --result started");
  });
});

describe("report apply --wait-result", () => {
  /** A wait for pool workers that timed out after a scale-up 3 → 4, with `fields` changed. */
  async function waitFile(name: string, fields: Partial<WaitResult>): Promise<string> {
    const file = join(dir, `wait-${name}.json`);
    const result: WaitResult = {
      outcome: "timed-out",
      pool: "workers",
      selector: "every node that is not control plane",
      count: 4,
      added: 1,
      since: "2025-06-14T17:54:00.000Z",
      nodesRead: true,
      members: [],
      ready: 4,
      newlyReady: ["talos-worker-4"],
      newCordoned: [],
      notReadyBefore: [],
      waitingFor: [],
      stoppedReady: [],
      missing: 0,
      missingNew: 0,
      gone: [],
      elapsedMs: 900_000,
      ...fields,
    };
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    return file;
  }

  function failedWait(...files: string[]): string[] {
    const waits = files.flatMap((file) => ["--wait-result", file]);
    const args = ["--result", "failed", "--failed-step", "nodes", "--verdict", scaleUp];
    return ["apply", "--sha", MERGE, ...args, ...waits, "--dry-run"];
  }

  it("says a new node is cordoned rather than not Ready, and quotes the wait", async () => {
    const message =
      "0 of 1 new nodes Ready and not cordoned: the apply created 1 VM in this pool; talos-worker-4 became Ready since the apply began but is cordoned";
    const file = await waitFile("cordoned", {
      newlyReady: [],
      newCordoned: ["talos-worker-4"],
      missingNew: 1,
      message,
    });
    const run = await runReport(failedWait(file));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "Failed waiting for nodes: applied; pool workers: new node talos-worker-4 cordoned",
    );
    expect(run.stdout).not.toContain("not Ready in time");
    expect(run.stdout).toContain(
      `the wait for the nodes did not succeed (pool \`workers\`: ${message})`,
    );
  });

  it("says what each failed wait lacked: nodes, a node to be gone, a look the timeout cut", async () => {
    const short = await waitFile("short", {
      ready: 3,
      missing: 1,
      newlyReady: [],
      missingNew: 1,
      lastError: "GET https://10.0.0.1:6443/api/v1/nodes: no response within 1 s",
    });
    const gpu = await waitFile("gone", {
      pool: "gpu",
      count: 2,
      ready: 2,
      newlyReady: [],
      gone: [{ name: "talos-gpu-03", state: "present", ready: false, unschedulable: true }],
    });
    const run = await runReport(failedWait(short, gpu));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "Failed waiting for nodes: applied; pool workers: 3/4 Ready, 0/1 new, last look failed; pool gpu: talos-gpu-03 still there",
    );
  });

  it("says a wait a signal cancelled was cancelled, with what its last look saw", async () => {
    const cancelled = await waitFile("cancelled", {
      outcome: "cancelled",
      ready: 3,
      missing: 1,
      newlyReady: [],
      missingNew: 1,
      message: "received SIGINT: the pool has 3 of 4 nodes Ready (1 missing)",
    });
    const run = await runReport([...failedWait(cancelled), "--cancelled"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("### ⏹️ pr-autoscaler apply: cancelled");
    expect(run.stdout).toContain(
      "Cancelled waiting for nodes: applied; pool workers: cancelled, 3/4 Ready, 0/1 new",
    );
    expect(run.stdout).toContain(
      "the wait for the nodes did not succeed (pool `workers`: received SIGINT: the pool has 3 of 4 nodes Ready (1 missing))",
    );
    expect(run.stdout).not.toContain("wrote no result");

    const unread = await waitFile("cancelled-unread", {
      outcome: "cancelled",
      nodesRead: false,
      message: "received SIGTERM before any look had read the nodes",
    });
    const early = await runReport([...failedWait(unread), "--cancelled"]);
    expect(early.stdout).toContain(
      "Cancelled waiting for nodes: applied; pool workers: cancelled before the nodes were read",
    );
  });

  it("after a failed delete of the Node objects, says what the waits that left them out found", async () => {
    const short = await waitFile("after-delete", {
      count: 3,
      added: undefined,
      ready: 2,
      missing: 1,
      newlyReady: [],
      missingNew: undefined,
      ignored: ["talos-worker-4"],
      message: "the pool has 2 of 3 nodes Ready (1 missing)",
    });
    const args = ["--result", "failed", "--failed-step", "delete-nodes", "--verdict", scaleDown];
    const run = await runReport([
      "apply",
      "--sha",
      MERGE,
      ...args,
      "--wait-result",
      short,
      "--dry-run",
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "but deleting the Node object of `talos-worker-4` failed: it stays, NotReady and cordoned. The wait for the nodes, which left it out, did not succeed (pool `workers`: the pool has 2 of 3 nodes Ready (1 missing)). Nothing is rolled back.",
    );
    expect(run.stdout).toContain("check the new VMs' consoles in Proxmox");
    expect(run.stdout).toContain("Failed deleting Node objects: applied; pool workers: 2/3 Ready");

    // A cancel during the delete: it may have deleted the object, and no wait ran after it.
    const cancelled = await runReport([
      "apply",
      "--sha",
      MERGE,
      ...args,
      "--cancelled",
      "--dry-run",
    ]);
    expect(cancelled.stdout).toContain(
      "but deleting the Node object of `talos-worker-4` was cancelled: it may still be there, NotReady and cordoned. No wait for the nodes gave a result",
    );
    expect(cancelled.stdout).toContain(
      "Cancelled deleting Node objects: applied; the nodes not checked",
    );
  });

  it("says the nodes could not be read, rather than count them", async () => {
    const unread = await waitFile("unread", {
      outcome: "failed",
      nodesRead: false,
      message: "GET https://10.0.0.1:6443/api/v1/nodes: HTTP 403 Forbidden",
    });
    const run = await runReport(failedWait(unread));
    expect(run.stdout).toContain(
      "Failed waiting for nodes: applied; pool workers: the nodes could not be read",
    );
  });

  it("claims no cause without a failed wait's result, and takes results only with --failed-step nodes", async () => {
    const missing = join(dir, "wait-never-written.json");
    const run = await runReport(failedWait(missing));
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`warning: ${missing}: no such file. The report does not say`);
    expect(run.stderr).toContain("The report does not say what that wait lacked.");
    expect(run.stdout).toContain(
      "Failed after the apply: applied; nodes not Ready in time, or a Node object not deleted",
    );

    const ready = await waitFile("ready", { outcome: "ready" });
    const args = failedWait(ready).map((arg) => (arg === "nodes" ? "apply" : arg));

    const wrong = await runReport(args);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("--wait-result tells how a wait for the nodes ended");
  });

  it("trusts results that all say Ready: the step failed after the wait, not the nodes", async () => {
    // The step fails when the copy of a wait's output to the log (tee) fails, its waits done.
    const ready = await waitFile("ready", { outcome: "ready", message: undefined });
    const run = await runReport(failedWait(ready));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "and the wait for pool `workers` ended with its nodes Ready, but the step `Wait for the pools' nodes to be Ready` failed after the wait (the log says why).",
    );
    expect(run.stdout).toContain("| Nodes | ❌ failed after the wait: nodes Ready |");
    expect(run.stdout).toContain("Failed after the wait for nodes: applied; pool workers Ready");
    expect(run.stdout).not.toContain("did not reach");
    expect(run.stdout).not.toContain("not Ready in time");

    const cancelled = await runReport([...failedWait(ready), "--cancelled"]);
    expect(cancelled.stdout).toContain(
      "Cancelled after the wait for nodes: applied; pool workers Ready",
    );
  });
});
