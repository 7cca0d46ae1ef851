/**
 * The forge's request budget, counted: an idle reconcile ≤ 2 requests (both conditional, answered
 * 304), opening a pull request ≤ 8, updating one ≤ 7. docs/forge.md lists the requests.
 */
import { describe, expect, it } from "@jest/globals";
import { mockGitHub } from "../support/github.ts";
import { sha } from "../support/github-responses.ts";
import {
  BRANCH,
  botPull,
  HEAD1,
  HEAD2,
  LABELS,
  newForge,
  scaleWorkers,
  TFVARS,
  TREE1,
  TREE2,
  tfvars,
} from "../support/github-scenario.ts";
import { githubSteps } from "../support/github-steps.ts";

const C1 = sha("commit1");
const C2 = sha("commit2");
const NEW_TREE = sha("newtree");

function upToDate(fingerprint: string, base = HEAD1) {
  return botPull({
    number: 7,
    headSha: C1,
    marker: { sha: C1, fingerprint, base, labels: LABELS },
  });
}

describe("requests per operation", () => {
  it("an idle reconcile (nothing changed) costs 2 requests, both answered 304", async () => {
    const github = mockGitHub();
    const steps = githubSteps(github);
    steps.defaultBranch(HEAD1, TREE1, '"b1"');
    steps.openPulls([upToDate("workers-4")], '"p1"');
    steps.closedPulls([]);
    steps.botBranches([{ name: BRANCH, sha: C1 }]);
    const forge = newForge();
    await forge.readState();
    github.reset();
    steps.defaultBranchNotModified('"b1"');
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
    const steps = githubSteps(github);
    steps.defaultBranch(HEAD1, TREE1, '"b1"');
    steps.openPulls([], '"p1"');
    steps.closedPulls([]);
    steps.botBranches([]);
    const forge = newForge();
    const state = await forge.readState();
    github.reset();
    steps.file(TFVARS, HEAD1, tfvars(3));
    steps.createTree(NEW_TREE);
    steps.createCommit(C1, { tree: NEW_TREE, parents: [HEAD1] });
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
    const steps = githubSteps(github);
    steps.defaultBranch(HEAD1, TREE1, '"b1"');
    steps.openPulls([upToDate("workers-4")], '"p1"');
    steps.closedPulls([]);
    steps.botBranches([{ name: BRANCH, sha: C1 }]);
    const forge = newForge();
    const state = await forge.readState();
    github.reset();
    steps.file(TFVARS, HEAD1, tfvars(4));
    steps.createTree(NEW_TREE);
    steps.createCommit(C2, { tree: NEW_TREE, parents: [HEAD1] });
    steps.readRef(BRANCH, C1);
    steps.updatePull({ number: 7, branch: BRANCH, headSha: C1, body: "" });
    steps.moveRef(BRANCH, C2);
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
    const steps = githubSteps(github);
    steps.defaultBranch(HEAD2, TREE2, '"b2"');
    steps.openPulls([upToDate("workers-4", HEAD1)], '"p1"');
    steps.closedPulls([]);
    steps.botBranches([{ name: BRANCH, sha: C1 }]);
    const forge = newForge();
    const state = await forge.readState();
    github.reset();
    steps.file(TFVARS, HEAD2, tfvars(3));
    steps.createTree(NEW_TREE);
    steps.createCommit(C2, { tree: NEW_TREE, parents: [HEAD2] });
    steps.readRef(BRANCH, C1);
    steps.updatePull({ number: 7, branch: BRANCH, headSha: C1, body: "" });
    steps.moveRef(BRANCH, C2);

    expect((await forge.ensurePullRequest(scaleWorkers(4), state)).action).toBe("rebuilt");

    expect(github.requests).toHaveLength(6);
    expect(github.scope.isDone()).toBe(true);
  });

  it("a file the planner already read at the head costs nothing when the pull request is built", async () => {
    const github = mockGitHub();
    const steps = githubSteps(github);
    steps.defaultBranch(HEAD1, TREE1, '"b1"');
    steps.openPulls([], '"p1"');
    steps.closedPulls([]);
    steps.botBranches([]);
    const forge = newForge();
    const state = await forge.readState();
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
