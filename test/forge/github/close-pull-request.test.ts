import { describe, expect, it } from "@jest/globals";
import { ForgeError } from "../../../src/forge/forge-error.ts";
import { hasCommentTag, readPullRequestMarker, visibleBody } from "../../../src/forge/marker.ts";
import { mockGitHub, REPO_PATH } from "../../support/github.ts";
import { comment, sha } from "../../support/github-responses.ts";
import { BRANCH, botPull, HEAD1, LABELS, newForge, TREE1 } from "../../support/github-scenario.ts";
import { githubSteps } from "../../support/github-steps.ts";

const C1 = sha("commit1");
const REASON =
  "The workers pool has room again: pods fit on 3 nodes, so scaling to 4 is no longer needed.";

async function stateWith(
  github: ReturnType<typeof mockGitHub>,
  headSha = C1,
  more: { reopened?: number; closedBy?: "bot" } = {},
) {
  const steps = githubSteps(github);
  steps.defaultBranch(HEAD1, TREE1, '"b1"');
  steps.openPulls(
    [
      botPull({
        number: 7,
        headSha,
        marker: { sha: C1, fingerprint: "workers-4", base: HEAD1, labels: LABELS, ...more },
      }),
    ],
    '"p1"',
  );
  if (more.closedBy) {
    // Taking the close mark off the reopened pull request fails: it keeps it for now.
    github.scope.patch(`${REPO_PATH}/pulls/7`).reply(502, { message: "Server Error" });
  }
  steps.closedPulls([]);
  steps.botBranches([{ name: BRANCH, sha: headSha }]);
  const forge = newForge();
  const state = await forge.readState();
  github.reset();
  const pr = state.pullRequests[0];
  if (!pr) throw new Error("expected the bot's pull request");
  return { forge, state, steps, pr };
}

describe("closing a pull request the plan no longer wants", () => {
  it("comments why, closes it and deletes its branch", async () => {
    const github = mockGitHub();
    const { forge, state, steps, pr } = await stateWith(github);
    steps.comments(7, []);
    steps.postComment(7, comment(3, REASON));
    steps.updatePull({ number: 7, branch: BRANCH, headSha: C1, body: "", state: "closed" });
    steps.deleteRef(BRANCH);

    const result = await forge.closePullRequest(pr, REASON, state);

    expect(result).toEqual({ action: "closed" });
    expect(github.calls()).toEqual([
      "GET /issues/7/comments",
      "POST /issues/7/comments",
      "PATCH /pulls/7",
      `DELETE /git/refs/heads/${BRANCH}`,
    ]);
    const said = String(github.bodyAt(1).body);
    expect(said.startsWith(REASON)).toBe(true);
    expect(hasCommentTag(said, "closing", { sha: C1 })).toBe(true);
    // The one request that closes it also says, in the marker, that the bot closed it.
    const close = github.requests[2]?.body as { state: string; body: string } | undefined;
    expect(close?.state).toBe("closed");
    const body = String(close?.body);
    expect(visibleBody(body)).toBe(visibleBody(pr.body));
    expect(readPullRequestMarker(body)).toEqual({
      ...readPullRequestMarker(pr.body),
      closedBy: "bot",
    });
    expect(github.scope.isDone()).toBe(true);
  });

  it("does not repeat the comment when closing failed after it and runs again", async () => {
    const github = mockGitHub();
    const { forge, state, steps, pr } = await stateWith(github);
    steps.comments(7, []);
    steps.postComment(7, comment(3, REASON));
    github.scope.patch(`${REPO_PATH}/pulls/7`).reply(502, { message: "Server Error" });

    const failure = await forge
      .closePullRequest(pr, REASON, state)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ForgeError);
    expect(failure).toMatchObject({ step: "close pull request #7", status: 502 });

    github.reset();
    const posted = `${REASON}\n\n<!-- pr-autoscaler:closing {"sha":"${C1}"} -->`;
    steps.comments(7, [comment(3, posted)]);
    steps.updatePull({ number: 7, branch: BRANCH, headSha: C1, body: "", state: "closed" });
    steps.deleteRef(BRANCH);

    const result = await forge.closePullRequest(pr, REASON, state);

    expect(result.action).toBe("closed");
    expect(github.calls()).toEqual([
      "GET /issues/7/comments",
      "PATCH /pulls/7",
      `DELETE /git/refs/heads/${BRANCH}`,
    ]);
    expect(github.scope.isDone()).toBe(true);
  });

  it("counts a branch someone already deleted as deleted", async () => {
    const github = mockGitHub();
    const { forge, state, steps, pr } = await stateWith(github);
    steps.comments(7, []);
    steps.postComment(7, comment(3, REASON));
    steps.updatePull({ number: 7, branch: BRANCH, headSha: C1, body: "", state: "closed" });
    github.scope
      .delete(`${REPO_PATH}/git/refs/heads%2F${encodeURIComponent(BRANCH)}`)
      .reply(422, { message: "Reference does not exist" });

    await expect(forge.closePullRequest(pr, REASON, state)).resolves.toEqual({ action: "closed" });
    expect(github.scope.isDone()).toBe(true);
  });

  it("leaves a pull request people took over alone", async () => {
    const github = mockGitHub();
    const { forge, state, pr } = await stateWith(github, sha("human"));

    const result = await forge.closePullRequest(pr, REASON, state);

    expect(result.action).toBe("left-alone");
    expect(github.requests).toEqual([]);
  });
});

describe("closing again a pull request people reopened after the bot closed it", () => {
  const AGAIN = "This pull request was reopened, and pr-autoscaler closes it again.";

  it("says it was reopened, why it is closed again and how to ask for a count", async () => {
    const github = mockGitHub();
    const { forge, state, steps, pr } = await stateWith(github, C1, { reopened: 1 });
    const first = `${REASON}\n\n<!-- pr-autoscaler:closing {"sha":"${C1}"} -->`;
    steps.comments(7, [comment(3, first)]);
    steps.postComment(7, comment(4, AGAIN));
    steps.updatePull({ number: 7, branch: BRANCH, headSha: C1, body: "", state: "closed" });
    steps.deleteRef(BRANCH);

    await expect(forge.closePullRequest(pr, REASON, state)).resolves.toEqual({ action: "closed" });

    expect(github.calls()).toEqual([
      "GET /issues/7/comments",
      "POST /issues/7/comments",
      "PATCH /pulls/7",
      `DELETE /git/refs/heads/${BRANCH}`,
    ]);
    const said = String(github.bodyAt(1).body);
    expect(said.startsWith(`${AGAIN} ${REASON}\n`)).toBe(true);
    expect(said).toContain("`/autoscaler scale workers=N`");
    expect(hasCommentTag(said, "closing", { sha: C1, reopened: "1" })).toBe(true);
    const close = github.requests[2]?.body as { body: string } | undefined;
    expect(readPullRequestMarker(String(close?.body))).toMatchObject({
      closedBy: "bot",
      reopened: 1,
    });
    expect(github.scope.isDone()).toBe(true);
  });

  it("does not say it twice for one reopening", async () => {
    const github = mockGitHub();
    const { forge, state, steps, pr } = await stateWith(github, C1, { reopened: 1 });
    const again = `${AGAIN}\n\n<!-- pr-autoscaler:closing {"sha":"${C1}","reopened":"1"} -->`;
    steps.comments(7, [comment(3, REASON), comment(4, again)]);
    steps.updatePull({ number: 7, branch: BRANCH, headSha: C1, body: "", state: "closed" });
    steps.deleteRef(BRANCH);

    await forge.closePullRequest(pr, REASON, state);

    expect(github.calls()).toEqual([
      "GET /issues/7/comments",
      "PATCH /pulls/7",
      `DELETE /git/refs/heads/${BRANCH}`,
    ]);
    expect(github.scope.isDone()).toBe(true);
  });

  it("counts a reopening whose close mark could not be taken off", async () => {
    const github = mockGitHub();
    const { forge, state, steps, pr } = await stateWith(github, C1, {
      reopened: 1,
      closedBy: "bot",
    });
    const earlier = `${AGAIN}\n\n<!-- pr-autoscaler:closing {"sha":"${C1}","reopened":"1"} -->`;
    steps.comments(7, [comment(3, earlier)]);
    steps.postComment(7, comment(4, AGAIN));
    steps.updatePull({ number: 7, branch: BRANCH, headSha: C1, body: "", state: "closed" });
    steps.deleteRef(BRANCH);

    await forge.closePullRequest(pr, REASON, state);

    const said = String(github.bodyAt(1).body);
    expect(said.startsWith(AGAIN)).toBe(true);
    expect(hasCommentTag(said, "closing", { sha: C1, reopened: "2" })).toBe(true);
    const close = github.requests[2]?.body as { body: string } | undefined;
    expect(readPullRequestMarker(String(close?.body))).toMatchObject({
      closedBy: "bot",
      reopened: 2,
    });
    expect(github.scope.isDone()).toBe(true);
  });
});
