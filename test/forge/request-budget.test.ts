/**
 * The forge's request budget, counted: an idle reconcile ≤ 2 requests (both conditional, answered
 * 304), opening a pull request ≤ 8, updating one ≤ 7. docs/forge.md lists the requests.
 */
import { describe, expect, it } from "@jest/globals";
import { mockGitHub } from "../support/github.ts";
import {
  BRANCH,
  botPull,
  buildsCommit,
  C1,
  C2,
  forgeWithState,
  HEAD1,
  HEAD2,
  LABELS,
  NEW_TREE,
  scaleWorkers,
  TFVARS,
  TREE2,
  tfvars,
  updatesPull,
} from "../support/github-scenario.ts";

function upToDate(fingerprint: string, base = HEAD1) {
  return botPull({
    number: 7,
    headSha: C1,
    marker: { sha: C1, fingerprint, base, labels: LABELS },
  });
}

/** The state holds `pull`, on the bot's branch at C1. */
function withPull(pull: object) {
  return { pulls: [pull], branches: [{ name: BRANCH, sha: C1 }] };
}

describe("requests per operation", () => {
  it("an idle reconcile (nothing changed) costs 2 requests, both answered 304", async () => {
    const github = mockGitHub();
    const { forge, steps } = await forgeWithState(github, withPull(upToDate("workers-4")));
    steps.defaultBranchNotModified(`"b-${HEAD1}"`);
    steps.openPullsNotModified('"p1"');

    const state = await forge.readState();
    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(result.action).toBe("unchanged");
    expect(github.requests).toHaveLength(2);
    expect(github.requests.every((request) => request.ifNoneMatch !== undefined)).toBe(true);
    expect(github.scope.isDone()).toBe(true);
  });

  it("opening a pull request costs 6 requests (budget 8)", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github);
    buildsCommit(steps, C1);
    steps.createRef(BRANCH, C1);
    steps.createPull({ number: 7, branch: BRANCH, headSha: C1, body: "" });
    steps.addLabels(7, LABELS);

    expect((await forge.ensurePullRequest(scaleWorkers(4), state)).action).toBe("created");

    expect(github.requests).toHaveLength(6);
    expect(github.requests.length).toBeLessThanOrEqual(8);
    expect(github.scope.isDone()).toBe(true);
  });

  it("updating a pull request for a new plan, labels included, costs 7 requests (budget 7)", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github, withPull(upToDate("workers-4")));
    buildsCommit(steps, C2, HEAD1, tfvars(4));
    updatesPull(steps, C2);
    steps.setLabels(7, ["autoscaling", "scale-down"]);

    const desired = scaleWorkers(3, {
      fingerprint: "workers-3",
      labels: ["autoscaling", "scale-down"],
    });
    expect((await forge.ensurePullRequest(desired, state)).action).toBe("updated");

    // The file, the tree and the commit, the branch read just before the update (so that a
    // person's push is not overwritten), the pull request, the branch, the labels.
    expect(github.requests).toHaveLength(7);
    expect(github.scope.isDone()).toBe(true);
  });

  it("rebuilding a pull request on a moved default branch costs 6 requests", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github, {
      ...withPull(upToDate("workers-4", HEAD1)),
      head: [HEAD2, TREE2],
    });
    buildsCommit(steps, C2, HEAD2);
    updatesPull(steps, C2);

    expect((await forge.ensurePullRequest(scaleWorkers(4), state)).action).toBe("rebuilt");

    expect(github.requests).toHaveLength(6);
    expect(github.scope.isDone()).toBe(true);
  });

  it("a file the planner already read at the head costs nothing when the pull request is built", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github);
    steps.file(TFVARS, HEAD1, tfvars(3));
    await forge.readFile(TFVARS);
    github.reset();
    steps.createTree(NEW_TREE);
    steps.createCommit(C1, { tree: NEW_TREE, parents: [HEAD1] });
    steps.createRef(BRANCH, C1);
    steps.createPull({ number: 7, branch: BRANCH, headSha: C1, body: "" });
    steps.addLabels(7, LABELS);

    await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(github.requests).toHaveLength(5);
    expect(github.scope.isDone()).toBe(true);
  });
});
