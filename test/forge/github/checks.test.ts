import { describe, expect, it } from "@jest/globals";
import type { CheckReport } from "../../../src/forge/forge.ts";
import { mockGitHub, REPO_PATH } from "../../support/github.ts";
import {
  checkRun,
  checkRuns,
  combinedStatus,
  sha,
  status,
} from "../../support/github-responses.ts";
import { newForge } from "../../support/github-scenario.ts";

const HEAD = sha("config");

function configCheck(errors: number): CheckReport {
  return {
    name: "pr-autoscaler config",
    headSha: HEAD,
    conclusion: "failure",
    title: `${errors} problems in .github/pr-autoscaler.yaml`,
    summary: "Fix the configuration; pr-autoscaler does nothing until it is valid.",
    annotations: Array.from({ length: errors }, (_, index) => ({
      path: ".github/pr-autoscaler.yaml",
      startLine: index + 3,
      level: "failure" as const,
      message: `pools.workers.max: must be at least 1 (entry ${index + 1})`,
      title: "Invalid value",
    })),
  };
}

describe("a check run for configuration errors", () => {
  it("is created with file:line annotations, 50 per request", async () => {
    const github = mockGitHub();
    github.scope
      .get(`${REPO_PATH}/commits/${HEAD}/check-runs`)
      .query({ check_name: "pr-autoscaler config", filter: "latest" })
      .reply(200, checkRuns([]));
    github.scope.post(`${REPO_PATH}/check-runs`).reply(201, checkRun(77));
    github.scope.patch(`${REPO_PATH}/check-runs/77`).reply(200, checkRun(77));

    const result = await newForge().reportCheck(configCheck(60));

    expect(result).toEqual({ action: "created" });
    expect(github.calls()).toEqual([
      `GET /commits/${HEAD}/check-runs`,
      "POST /check-runs",
      "PATCH /check-runs/77",
    ]);
    const created = github.requests[1]?.body as { output: { annotations: unknown[] } };
    expect(created).toMatchObject({
      name: "pr-autoscaler config",
      head_sha: HEAD,
      status: "completed",
      conclusion: "failure",
      output: { title: "60 problems in .github/pr-autoscaler.yaml" },
    });
    expect(created.output.annotations).toHaveLength(50);
    expect(created.output.annotations[0]).toEqual({
      path: ".github/pr-autoscaler.yaml",
      start_line: 3,
      end_line: 3,
      annotation_level: "failure",
      message: "pools.workers.max: must be at least 1 (entry 1)",
      title: "Invalid value",
    });
    expect((github.bodyAt(2).output as { annotations: unknown[] }).annotations).toHaveLength(10);
    expect(github.scope.isDone()).toBe(true);
  });

  it("is not posted again when the same report is already on the commit", async () => {
    const github = mockGitHub();
    const forge = newForge();
    github.scope
      .get(`${REPO_PATH}/commits/${HEAD}/check-runs`)
      .query(true)
      .reply(200, checkRuns([]));
    github.scope.post(`${REPO_PATH}/check-runs`).reply(201, checkRun(77));
    await forge.reportCheck(configCheck(2));
    const externalId = String(github.bodyAt(1).external_id);
    github.reset();
    github.scope
      .get(`${REPO_PATH}/commits/${HEAD}/check-runs`)
      .query(true)
      .reply(200, checkRuns([{ id: 77, externalId }]));

    expect(await forge.reportCheck(configCheck(2))).toEqual({ action: "unchanged" });
    expect(github.calls()).toEqual([`GET /commits/${HEAD}/check-runs`]);
    expect(github.scope.isDone()).toBe(true);
  });
});

describe("a commit status", () => {
  it("is set, and not set again when the latest status for its context says the same", async () => {
    const github = mockGitHub();
    const forge = newForge();
    const report = {
      sha: HEAD,
      context: "pr-autoscaler/config",
      state: "failure" as const,
      description: "2 problems in .github/pr-autoscaler.yaml (line 3)",
    };
    github.scope.get(`${REPO_PATH}/commits/${HEAD}/status`).reply(200, combinedStatus([]));
    github.scope.post(`${REPO_PATH}/statuses/${HEAD}`).reply(201, status());
    expect(await forge.setCommitStatus(report)).toEqual({ action: "created" });
    expect(github.requests[1]?.body).toEqual({
      state: "failure",
      context: "pr-autoscaler/config",
      description: "2 problems in .github/pr-autoscaler.yaml (line 3)",
    });

    github.reset();
    github.scope
      .get(`${REPO_PATH}/commits/${HEAD}/status`)
      .reply(
        200,
        combinedStatus([
          { context: report.context, state: report.state, description: report.description },
        ]),
      );
    expect(await forge.setCommitStatus(report)).toEqual({ action: "unchanged" });
    expect(github.scope.isDone()).toBe(true);
  });
});
