/**
 * The forge's request budget, counted: an idle reconcile ≤ 2 requests (both conditional,
 * answered 304), opening a pull request ≤ 8, updating one ≤ 7, and checking a head the forge did
 * not make 1, once per head. docs/forge.md lists the requests.
 */
import { describe, expect, it } from "@jest/globals";
import { mockGitHub } from "../support/github.ts";
import {
  BRANCH,
  botPull,
  buildsCommit,
  C1,
  C2,
  checksHead,
  forgeWithState,
  type GitHubSteps,
  HEAD1,
  HEAD2,
  LABELS,
  scaleWorkers,
  TFVARS,
  TREE1,
  TREE2,
  tfvars,
  updatesPull,
  writesCommit,
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

/**
 * A forge that opened pull request #7 (3 → 4, commit C1) itself, as the app's does, and then read
 * it back with the default branch at `head`: it knows its own commit and the file it read.
 */
async function openedByThisForge(github: ReturnType<typeof mockGitHub>, head = HEAD1) {
  const opening = await forgeWithState(github);
  openingRequests(opening.steps);
  await opening.forge.ensurePullRequest(scaleWorkers(4), opening.state);
  return forgeWithState(github, {
    ...withPull(upToDate("workers-4")),
    head: head === HEAD1 ? [HEAD1, TREE1] : [HEAD2, TREE2],
    forge: opening.forge,
  });
}

/** The six requests that open pull request #7 at C1. */
function openingRequests(steps: GitHubSteps): void {
  buildsCommit(steps, C1);
  steps.createRef(BRANCH, C1);
  steps.createPull({ number: 7, branch: BRANCH, headSha: C1, body: "" });
  steps.addLabels(7, LABELS);
}

describe("requests per operation", () => {
  it("an idle reconcile (nothing changed) costs 2 requests, both answered 304", async () => {
    const github = mockGitHub();
    const { forge, steps } = await openedByThisForge(github);
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
    openingRequests(steps);

    expect((await forge.ensurePullRequest(scaleWorkers(4), state)).action).toBe("created");

    expect(github.requests).toHaveLength(6);
    expect(github.requests.length).toBeLessThanOrEqual(8);
    expect(github.scope.isDone()).toBe(true);
  });

  it("updating a pull request for a new plan, labels included, costs 6 requests (budget 7)", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await openedByThisForge(github);
    writesCommit(steps, C2);
    updatesPull(steps, C2);
    steps.setLabels(7, ["autoscaling", "scale-down"]);

    const desired = scaleWorkers(2, {
      fingerprint: "workers-2",
      labels: ["autoscaling", "scale-down"],
    });
    expect((await forge.ensurePullRequest(desired, state)).action).toBe("updated");

    // The tree and the commit (the file was read at the head when the pull request was opened;
    // 7 otherwise), the branch read just before the update (so that a person's push is not
    // overwritten), the pull request, the branch, the labels.
    expect(github.requests).toHaveLength(6);
    expect(github.scope.isDone()).toBe(true);
  });

  it("rebuilding a pull request on a moved default branch costs 6 requests", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await openedByThisForge(github, HEAD2);
    buildsCommit(steps, C2, HEAD2);
    updatesPull(steps, C2);

    expect((await forge.ensurePullRequest(scaleWorkers(4), state)).action).toBe("rebuilt");

    expect(github.requests).toHaveLength(6);
    expect(github.scope.isDone()).toBe(true);
  });

  it("checking a head the forge did not make costs 1 request, once per head", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github, withPull(upToDate("workers-4")));
    checksHead(steps);
    // The planner reads the file at the head first, as the app's does.
    await forge.readFile(TFVARS, HEAD1);
    github.reset();

    expect((await forge.ensurePullRequest(scaleWorkers(4), state)).action).toBe("unchanged");
    expect(github.calls()).toEqual([`GET /compare/${HEAD1}...${C1}`]);
    github.reset();
    expect((await forge.ensurePullRequest(scaleWorkers(4), state)).action).toBe("unchanged");
    expect(github.requests).toHaveLength(0);
    expect(github.scope.isDone()).toBe(true);
  });

  it("a file the planner already read at the head costs nothing when the pull request is built", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github);
    steps.file(TFVARS, HEAD1, tfvars(3));
    await forge.readFile(TFVARS);
    github.reset();
    writesCommit(steps, C1);
    steps.createRef(BRANCH, C1);
    steps.createPull({ number: 7, branch: BRANCH, headSha: C1, body: "" });
    steps.addLabels(7, LABELS);

    await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(github.requests).toHaveLength(5);
    expect(github.scope.isDone()).toBe(true);
  });
});
