import { describe, expect, it } from "@jest/globals";
import { readIssueMarker } from "../../../src/forge/marker.ts";
import { mockGitHub, REPO_PATH } from "../../support/github.ts";
import { comment, issue } from "../../support/github-responses.ts";
import { newForge } from "../../support/github-scenario.ts";

const LIST_QUERY = {
  labels: "pr-autoscaler",
  state: "all",
  sort: "created",
  direction: "asc",
  per_page: "100",
};
const DASHBOARD = { key: "dashboard", title: "pr-autoscaler dashboard" };
const BODY_1 = "## Workers\n\n3 nodes, 71% of CPU requested.\n";
const BODY_2 = "## Workers\n\n4 nodes, 54% of CPU requested.\n";
const marked = (body: string) => `${body}\n\n<!-- pr-autoscaler:issue {"key":"dashboard"} -->`;

function listIssues(
  github: ReturnType<typeof mockGitHub>,
  issues: object[],
  etag: string,
  ifNoneMatch?: string,
) {
  const interceptor = github.scope.get(`${REPO_PATH}/issues`).query(LIST_QUERY);
  if (ifNoneMatch) interceptor.matchHeader("if-none-match", ifNoneMatch);
  interceptor.reply(200, issues, { etag });
}

describe("the dashboard issue", () => {
  it("is created, then updated in place, then left as it is with no request beyond the read", async () => {
    const github = mockGitHub();
    const forge = newForge();

    listIssues(github, [], '"i1"');
    github.scope
      .post(`${REPO_PATH}/issues`)
      .reply(201, issue({ number: 40, title: DASHBOARD.title, body: marked(BODY_1) }));
    // Created: looked for again, in case another replica created one at the same moment.
    listIssues(
      github,
      [issue({ number: 40, title: DASHBOARD.title, body: marked(BODY_1) })],
      '"i2"',
      '"i1"',
    );
    expect(await forge.ensureIssue({ ...DASHBOARD, body: BODY_1 })).toEqual({
      action: "created",
      number: 40,
    });
    expect(github.calls()).toEqual(["GET /issues", "POST /issues", "GET /issues"]);
    expect(github.requests[1]?.body).toEqual({
      title: DASHBOARD.title,
      body: marked(BODY_1),
      labels: ["pr-autoscaler"],
    });
    expect(readIssueMarker(marked(BODY_1))).toEqual({ key: "dashboard" });

    github.reset();
    listIssues(
      github,
      [issue({ number: 40, title: DASHBOARD.title, body: marked(BODY_1) })],
      '"i2"',
      '"i2"',
    );
    github.scope
      .patch(`${REPO_PATH}/issues/40`)
      .reply(200, issue({ number: 40, title: DASHBOARD.title, body: marked(BODY_2) }));
    expect(await forge.ensureIssue({ ...DASHBOARD, body: BODY_2 })).toEqual({
      action: "updated",
      number: 40,
    });
    expect(github.calls()).toEqual(["GET /issues", "PATCH /issues/40"]);
    expect(github.requests[1]?.body).toEqual({
      title: DASHBOARD.title,
      body: marked(BODY_2),
      state: "open",
    });

    github.reset();
    listIssues(
      github,
      [issue({ number: 40, title: DASHBOARD.title, body: marked(BODY_2) })],
      '"i3"',
      '"i2"',
    );
    expect(await forge.ensureIssue({ ...DASHBOARD, body: BODY_2 })).toEqual({
      action: "unchanged",
      number: 40,
    });
    expect(github.calls()).toEqual(["GET /issues"]);

    github.reset();
    github.scope
      .get(`${REPO_PATH}/issues`)
      .query(LIST_QUERY)
      .matchHeader("if-none-match", '"i3"')
      .reply(304);
    expect(await forge.ensureIssue({ ...DASHBOARD, body: BODY_2 })).toEqual({
      action: "unchanged",
      number: 40,
    });
    expect(github.calls()).toEqual(["GET /issues"]);
    expect(github.scope.isDone()).toBe(true);
  });

  it("ignores pull requests and other keys in the list, and stays closed when people closed it", async () => {
    const github = mockGitHub();
    listIssues(
      github,
      [
        issue({ number: 3, title: "Scale", body: marked(BODY_2), pullRequest: true }),
        issue({
          number: 5,
          title: "Config",
          body: `x\n\n<!-- pr-autoscaler:issue {"key":"config"} -->`,
        }),
        issue({ number: 6, title: DASHBOARD.title, body: marked(BODY_2), state: "closed" }),
      ],
      '"i1"',
    );

    const result = await newForge().ensureIssue({ ...DASHBOARD, body: BODY_2 });

    expect(result).toEqual({ action: "unchanged", number: 6 });
    expect(github.scope.isDone()).toBe(true);
  });

  it("closes the issue when it is no longer wanted, and does nothing when there is none", async () => {
    const github = mockGitHub();
    listIssues(
      github,
      [
        issue({
          number: 8,
          title: "Config error",
          body: `bad\n\n<!-- pr-autoscaler:issue {"key":"config"} -->`,
        }),
      ],
      '"i1"',
    );
    github.scope
      .patch(`${REPO_PATH}/issues/8`)
      .reply(200, issue({ number: 8, title: "Config error", body: "", state: "closed" }));
    const forge = newForge();

    expect(
      await forge.ensureIssue({ key: "config", title: "Config error", body: "bad", open: false }),
    ).toEqual({
      action: "updated",
      number: 8,
    });
    expect(github.requests[1]?.body).toMatchObject({ state: "closed" });

    github.reset();
    listIssues(github, [], '"i2"', '"i1"');
    expect(
      await forge.ensureIssue({ key: "config", title: "Config error", body: "bad", open: false }),
    ).toEqual({
      action: "absent",
    });
    expect(github.scope.isDone()).toBe(true);
  });

  it("closes a duplicate two replicas created and keeps the oldest", async () => {
    const github = mockGitHub();
    listIssues(
      github,
      [
        issue({ number: 41, title: DASHBOARD.title, body: marked(BODY_1) }),
        issue({ number: 40, title: DASHBOARD.title, body: marked(BODY_1) }),
      ],
      '"i1"',
    );
    github.scope
      .patch(`${REPO_PATH}/issues/41`)
      .reply(200, issue({ number: 41, title: DASHBOARD.title, body: "", state: "closed" }));

    const result = await newForge().ensureIssue({ ...DASHBOARD, body: BODY_1 });

    expect(result).toEqual({ action: "unchanged", number: 40 });
    expect(github.requests[1]?.body).toEqual({ state: "closed", state_reason: "duplicate" });
    expect(github.scope.isDone()).toBe(true);
  });

  it("closes its own new issue when another replica created one just before, and keeps that", async () => {
    const github = mockGitHub();
    listIssues(github, [], '"i1"');
    github.scope
      .post(`${REPO_PATH}/issues`)
      .reply(201, issue({ number: 41, title: DASHBOARD.title, body: marked(BODY_2) }));
    listIssues(
      github,
      [
        issue({ number: 40, title: DASHBOARD.title, body: marked(BODY_1) }),
        issue({ number: 41, title: DASHBOARD.title, body: marked(BODY_2) }),
      ],
      '"i2"',
      '"i1"',
    );
    github.scope
      .patch(`${REPO_PATH}/issues/41`)
      .reply(200, issue({ number: 41, title: DASHBOARD.title, body: "", state: "closed" }));
    github.scope
      .patch(`${REPO_PATH}/issues/40`)
      .reply(200, issue({ number: 40, title: DASHBOARD.title, body: marked(BODY_2) }));

    const result = await newForge().ensureIssue({ ...DASHBOARD, body: BODY_2 });

    expect(result).toEqual({ action: "updated", number: 40 });
    expect(github.calls()).toEqual([
      "GET /issues",
      "POST /issues",
      "GET /issues",
      "PATCH /issues/41",
      "PATCH /issues/40",
    ]);
    expect(github.requests[3]?.body).toEqual({ state: "closed", state_reason: "duplicate" });
    expect(github.requests[4]?.body).toMatchObject({ body: marked(BODY_2), state: "open" });
    expect(github.scope.isDone()).toBe(true);
  });

  /**
   * This replica creates `created`; the list looked at again lacks it and shows `seen` instead
   * (another replica's). Whichever is newer, #41, is closed as a duplicate.
   */
  async function createdBesideAnother(created: number, seen: number, seenBody: string) {
    const github = mockGitHub();
    listIssues(github, [], '"i1"');
    github.scope
      .post(`${REPO_PATH}/issues`)
      .reply(201, issue({ number: created, title: DASHBOARD.title, body: marked(BODY_1) }));
    listIssues(
      github,
      [issue({ number: seen, title: DASHBOARD.title, body: marked(seenBody) })],
      '"i2"',
      '"i1"',
    );
    github.scope
      .patch(`${REPO_PATH}/issues/41`)
      .reply(200, issue({ number: 41, title: DASHBOARD.title, body: "", state: "closed" }));
    const result = await newForge().ensureIssue({ ...DASHBOARD, body: BODY_1 });
    expect(github.calls()).toEqual([
      "GET /issues",
      "POST /issues",
      "GET /issues",
      "PATCH /issues/41",
    ]);
    expect(github.requests[3]?.body).toEqual({ state: "closed", state_reason: "duplicate" });
    expect(github.scope.isDone()).toBe(true);
    return result;
  }

  it("keeps its own new issue when the list looked at again lacks it but shows a newer one", async () => {
    // Two replicas create #40 and #41 at once; GitHub's list does not show #40 to its creator
    // yet. Both must keep #40, the older: the other replica, which sees both, closes #41.
    expect(await createdBesideAnother(40, 41, BODY_2)).toEqual({ action: "created", number: 40 });
  });

  it("closes its own new issue when the list looked at again lacks it but shows an older one", async () => {
    expect(await createdBesideAnother(41, 40, BODY_1)).toEqual({ action: "unchanged", number: 40 });
  });

  it("posts a comment", async () => {
    const github = mockGitHub();
    github.scope
      .post(`${REPO_PATH}/issues/40/comments`)
      .reply(201, comment(9, "Scaled the workers pool to 4 nodes."));
    await newForge().comment(40, "Scaled the workers pool to 4 nodes.");
    expect(github.requests[0]?.body).toEqual({ body: "Scaled the workers pool to 4 nodes." });
    expect(github.scope.isDone()).toBe(true);
  });
});
