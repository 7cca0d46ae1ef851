import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import nock from "nock";
import { pino } from "pino";
import { startApp } from "../../src/app/start-app.ts";
import { testAppSettings } from "../app/support/app-settings.ts";
import { OWNER, REPO } from "../support/github-responses.ts";
import { cluster, infraFiles, TFVARS, WORKERS_POOL } from "./support/infra.ts";
import { scenario } from "./support/scenario.ts";

const REFUSALS = JSON.parse(
  readFileSync(new URL("../merge/fixtures/github-refusals.json", import.meta.url), "utf8"),
) as Record<"reviewRequired" | "squashNotAllowed" | "baseModified", string>;

const GUARD = "pr-autoscaler/plan-guard";
const MIN = 60_000;

/** Node changes merge once the plan guard passed; the bot merges itself (no GitHub auto-merge). */
const MERGING = `${WORKERS_POOL}automerge:
  nativeAutoMerge: false
  rules:
    - name: nodes
      match: { kind: nodes }
      action: merge
      requiredChecks: [${GUARD}]
`;

const MERGE_CALL = "PUT /pulls/1/merge";

/** A pull request whose every condition holds, in a repository where GitHub refuses `message`. */
async function refusedWorld(message: string, times = 1000) {
  const w = scenario({
    files: infraFiles({ config: MERGING }),
    cluster: cluster({ pending: 1, plex: false }),
  });
  await w.run();
  w.github.fail("PUT", /^\/pulls\/1\/merge$/, 405, message, times);
  w.github.setStatus(w.github.pull(1).headSha, GUARD, "success");
  return w;
}

function merges(w: Awaited<ReturnType<typeof refusedWorld>>): number {
  return w.github.calls().filter((call) => call === MERGE_CALL).length;
}

describe("GitHub refusing the merge", () => {
  it("for a required review: said once on the pull request and the dashboard, tried hourly, not every poll", async () => {
    const w = await refusedWorld(REFUSALS.reviewRequired);
    const first = await w.run(undefined, ["checks"]);
    expect(first.merges).toEqual([
      {
        number: 1,
        action: "blocked",
        note: `GitHub refused the merge: ${REFUSALS.reviewRequired}`,
      },
    ]);
    const comments = () => w.github.commentsOn(1).filter((c) => c.body.includes("GitHub refused"));
    expect(comments()).toHaveLength(1);
    expect(comments()[0]?.body).toContain(`> ${REFUSALS.reviewRequired}`);
    const dashboard = w.github.botIssue("dashboard")?.body ?? "";
    expect(dashboard).toContain(
      `#1 Scale workers from 3 to 4 nodes: **GitHub refuses to merge it**: ${REFUSALS.reviewRequired} Approve the pull request`,
    );

    // An hour of timer reconciles at the 5-minute merge poll: no merge tried until the hour is up.
    w.github.reset();
    for (let minute = 1; minute < 60; minute++) {
      w.github.advance(MIN);
      const run = await w.run();
      expect(run.merges).toEqual([]);
      expect(run.dashboard).toBe("unchanged");
    }
    expect(merges(w)).toBe(0);
    w.github.advance(MIN);
    expect((await w.run()).merges.map((m) => m.action)).toEqual(["blocked"]);
    expect(merges(w)).toBe(1);
    // Same head, same reason: not said again, also not by a restarted replica.
    await w.run(w.replica());
    expect(comments()).toHaveLength(1);
    expect(w.github.botIssue("dashboard")?.body).toContain("GitHub refuses to merge it");
  });

  it("for a required review: a check or a pull request event tries again at once, and it merges when approved", async () => {
    const w = await refusedWorld(REFUSALS.reviewRequired, 2);
    await w.run(undefined, ["checks"]);
    w.github.advance(MIN);
    expect((await w.run(undefined, ["pull-request"])).merges.map((m) => m.action)).toEqual([
      "blocked",
    ]);
    // Someone approved (GitHub no longer refuses); the next check webhook merges it.
    w.github.advance(MIN);
    const merged = await w.run(undefined, ["checks"]);
    expect(merged.merges.map((m) => m.action)).toEqual(["merged"]);
    expect(w.github.file(TFVARS)).toContain("worker_count      = 4");
    expect(w.github.botIssue("dashboard")?.body).not.toContain("GitHub refuses to merge it");
  });

  it("for a merge method the repository does not allow: suggests `method:`", async () => {
    const w = await refusedWorld(REFUSALS.squashNotAllowed);
    const run = await w.run(undefined, ["checks"]);
    expect(run.merges.map((m) => m.action)).toEqual(["blocked"]);
    const dashboard = w.github.botIssue("dashboard")?.body ?? "";
    expect(dashboard).toContain(`**GitHub refuses to merge it**: ${REFUSALS.squashNotAllowed}`);
    expect(dashboard).toContain("`method:");
    expect(w.github.commentsOn(1).at(-1)?.body).toContain("`method:");
  });

  it("because the base branch moved: tried again at the next merge poll, without a comment", async () => {
    const w = await refusedWorld(REFUSALS.baseModified, 1);
    const first = await w.run(undefined, ["checks"]);
    expect(first.merges).toEqual([
      {
        number: 1,
        action: "waiting",
        note: `GitHub did not merge yet: ${REFUSALS.baseModified}`,
      },
    ]);
    expect(w.github.commentsOn(1).filter((c) => c.body.includes("GitHub refused"))).toEqual([]);
    w.github.advance(5 * MIN);
    expect((await w.run()).merges.map((m) => m.action)).toEqual(["merged"]);
  });
});

describe("extends: .github when the organisation's repository cannot be read", () => {
  it("names the repository, the file and the app's access", async () => {
    const w = scenario({
      files: infraFiles({
        config: `${MERGING.split("automerge:")[0]}automerge:\n  extends: .github\n`,
      }),
      cluster: cluster({ pending: 1, plex: false }),
    });
    const run = await w.run();
    expect(run.status).toBe("config-error");
    expect(w.github.botIssue("dashboard")?.body).toContain(
      "octocat/.github has no .github/pr-autoscaler.yml, or the app cannot read octocat/.github (install the app there)",
    );
  });
});

describe("the app's log line", () => {
  it("says why a pull request did not merge", async () => {
    nock.enableNetConnect("127.0.0.1");
    // The pull request is opened beforehand: the app's own writes are a second apart.
    const w = await refusedWorld(REFUSALS.reviewRequired);
    const lines: { msg: string; merges?: string[] }[] = [];
    const app = await startApp({
      settings: testAppSettings(),
      log: pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) }),
      observe: async () => w.cluster,
      timer: false,
    });
    try {
      app.trigger(`${OWNER}/${REPO}`, "checks");
      await app.idle();
    } finally {
      await app.stop();
    }
    expect(lines.filter((line) => line.msg === "reconciled").map((line) => line.merges)).toEqual([
      [`#1: blocked (GitHub refused the merge: ${REFUSALS.reviewRequired})`],
    ]);
  });
});
