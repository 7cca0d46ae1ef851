import { describe, expect, it } from "@jest/globals";
import { readBotTrailers } from "../../../src/forge/commit-message.ts";
import { ForgeError } from "../../../src/forge/forge-error.ts";
import { readPullRequestMarker, withPullRequestMarker } from "../../../src/forge/marker.ts";
import { mockGitHub } from "../../support/github.ts";
import {
  comment,
  comparison,
  gitBlobSha,
  pullRequest,
  pullRequestExists,
  referenceExists,
  sha,
} from "../../support/github-responses.ts";
import {
  BRANCH,
  botPull,
  buildsCommit,
  C1,
  C2,
  checksHead,
  comparesHead,
  forgeWithState,
  HEAD1,
  HEAD2,
  KEY,
  LABELS,
  NEW_TREE,
  scaleWorkers,
  TFVARS,
  TREE1,
  TREE2,
  tfvars,
  updatesPull,
  writesCommit,
} from "../../support/github-scenario.ts";

/** The trailers of the bot's commit for the plan `scaleWorkers(4)`: its key and fingerprint. */
const BOT_TRAILERS = "Pr-Autoscaler-Key: nodes-workers\nPr-Autoscaler-Fingerprint: workers-4\n";
const BOT_COMMIT = `Scale\n\n${BOT_TRAILERS}`;

/** What `ensurePullRequest` answers for pull request #7 left to people, and why. */
function leftToPeople(note: string) {
  return {
    action: "human-edited",
    key: KEY,
    number: 7,
    url: "https://github.com/octocat/Hello-World/pull/7",
    note,
  };
}

function bodyOf(github: ReturnType<typeof mockGitHub>, call: string): Record<string, unknown> {
  const index = github.calls().indexOf(call);
  expect(index).toBeGreaterThanOrEqual(0);
  return github.requests[index]?.body as Record<string, unknown>;
}

describe("opening a pull request", () => {
  it("builds the commit from the default branch head and opens it with exactly six requests", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github);
    buildsCommit(steps, C1);
    steps.createRef(BRANCH, C1);
    steps.createPull({ number: 7, branch: BRANCH, headSha: C1, body: "" });
    steps.addLabels(7, LABELS);

    const result = await forge.ensurePullRequest(
      scaleWorkers(4, { change: { from: 3, to: 4 } }),
      state,
    );

    expect(result).toEqual({
      action: "created",
      key: KEY,
      number: 7,
      url: "https://github.com/octocat/Hello-World/pull/7",
      botSha: C1,
    });
    expect(github.calls()).toEqual([
      `GET /contents/${TFVARS}`,
      "POST /git/trees",
      "POST /git/commits",
      "POST /git/refs",
      "POST /pulls",
      "POST /issues/7/labels",
    ]);
    expect(github.requests[0]?.query).toEqual({ ref: HEAD1 });
    expect(bodyOf(github, "POST /git/trees")).toEqual({
      base_tree: TREE1,
      tree: [{ path: TFVARS, mode: "100644", type: "blob", content: tfvars(4) }],
    });
    const commit = bodyOf(github, "POST /git/commits");
    expect(commit).toMatchObject({ tree: NEW_TREE, parents: [HEAD1] });
    expect(readBotTrailers(String(commit.message))).toEqual({ key: KEY, fingerprint: "workers-4" });
    expect(bodyOf(github, "POST /git/refs")).toEqual({ ref: `refs/heads/${BRANCH}`, sha: C1 });
    const pull = bodyOf(github, "POST /pulls");
    expect(pull).toMatchObject({ title: "Scale worker nodes to 4", head: BRANCH, base: "main" });
    expect(String(pull.body)).toMatch(
      /^Pods are waiting for room: the workers pool goes to 4 nodes\./,
    );
    expect(readPullRequestMarker(String(pull.body))).toEqual({
      key: KEY,
      fingerprint: "workers-4",
      sha: C1,
      base: HEAD1,
      labels: LABELS,
      from: 3,
      to: 4,
    });
    expect(bodyOf(github, "POST /issues/7/labels")).toEqual({ labels: LABELS });
    expect(github.scope.isDone()).toBe(true);
  });

  it("opens nothing when the default branch already has the change", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github);
    steps.file(TFVARS, HEAD1, tfvars(4));

    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(result.action).toBe("already-applied");
    expect(github.calls()).toEqual([`GET /contents/${TFVARS}`]);
    expect(github.scope.isDone()).toBe(true);
  });
});

describe("a pull request that is already open", () => {
  const open = (marker: { fingerprint: string; base: string }, headSha = C1) =>
    botPull({ number: 7, headSha, marker: { sha: C1, labels: LABELS, ...marker } });

  it("is left as it is when the plan and the default branch did not change", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github, {
      pulls: [open({ fingerprint: "workers-4", base: HEAD1 })],
    });
    checksHead(steps);

    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(result).toMatchObject({ action: "unchanged", number: 7, botSha: C1 });
    // A head this forge did not make is checked once: what it changes, and the file it writes.
    expect(github.calls()).toEqual([`GET /compare/${HEAD1}...${C1}`, `GET /contents/${TFVARS}`]);
    github.reset();
    expect(await forge.ensurePullRequest(scaleWorkers(4), state)).toMatchObject({
      action: "unchanged",
      botSha: C1,
    });
    expect(github.requests).toEqual([]);
  });

  it("is left to people when its head, though the marker names it, changes another file", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github, {
      pulls: [open({ fingerprint: "workers-4", base: HEAD1 })],
    });
    const WORKFLOW = ".github/workflows/deploy.yml";
    steps.compare(
      HEAD1,
      C1,
      comparison({
        ahead: [{ sha: C1, parents: [HEAD1] }],
        behindBy: 0,
        mergeBase: HEAD1,
        files: [
          { filename: WORKFLOW, status: "added", sha: gitBlobSha("on: push\n") },
          { filename: TFVARS, status: "modified", sha: gitBlobSha(tfvars(4)) },
        ],
      }),
    );
    steps.file(TFVARS, HEAD1, tfvars(3));
    steps.comments(7, []);
    steps.postComment(7, comment(2, "left alone"));
    steps.updatePull({ number: 7, branch: BRANCH, headSha: C1, body: "" });

    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(result).toEqual(
      leftToPeople(
        `its branch has commit ${C1.slice(0, 7)}, which pr-autoscaler did not make: it changes ${WORKFLOW}, besides what pr-autoscaler writes`,
      ),
    );
    expect(github.calls()).toEqual([
      `GET /compare/${HEAD1}...${C1}`,
      `GET /contents/${TFVARS}`,
      "GET /issues/7/comments",
      "POST /issues/7/comments",
      "PATCH /pulls/7",
    ]);
    expect(String(bodyOf(github, "POST /issues/7/comments").body)).toContain(
      `pr-autoscaler leaves this pull request to you because ${result.note}.`,
    );
    const marker = readPullRequestMarker(String(bodyOf(github, "PATCH /pulls/7").body));
    expect(marker).toMatchObject({ sha: C1, handsOff: C1 });
    expect(github.scope.isDone()).toBe(true);
  });

  it("is updated with a new commit, title and body when the plan changed", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github, {
      pulls: [open({ fingerprint: "workers-4", base: HEAD1 })],
    });
    // Checked once: the head is the bot's 3 → 4, an earlier plan's values (so its file is read).
    checksHead(steps, { readsHead: true });
    writesCommit(steps, C2);
    updatesPull(steps, C2);

    const result = await forge.ensurePullRequest(scaleWorkers(5), state);

    expect(result).toMatchObject({ action: "updated", number: 7, botSha: C2 });
    expect(github.calls()).toEqual([
      `GET /compare/${HEAD1}...${C1}`,
      `GET /contents/${TFVARS}`,
      `GET /contents/${TFVARS}`,
      "POST /git/trees",
      "POST /git/commits",
      `GET /git/ref/heads/${BRANCH}`,
      "PATCH /pulls/7",
      `PATCH /git/refs/heads/${BRANCH}`,
    ]);
    expect(bodyOf(github, "POST /git/trees").tree).toEqual([
      { path: TFVARS, mode: "100644", type: "blob", content: tfvars(5) },
    ]);
    const update = bodyOf(github, "PATCH /pulls/7");
    expect(update.title).toBe("Scale worker nodes to 5");
    expect(readPullRequestMarker(String(update.body))).toEqual({
      key: KEY,
      fingerprint: "workers-5",
      sha: C2,
      base: HEAD1,
      previous: C1,
      labels: LABELS,
    });
    expect(bodyOf(github, `PATCH /git/refs/heads/${BRANCH}`)).toEqual({ sha: C2, force: true });
    expect(github.scope.isDone()).toBe(true);
  });

  it("moves the bot's labels to the new plan's and keeps labels people added", async () => {
    const github = mockGitHub();
    const pull = botPull({
      number: 7,
      headSha: C1,
      labels: [...LABELS, "needs-review"],
      marker: { sha: C1, fingerprint: "workers-4", base: HEAD1, labels: LABELS },
    });
    const { forge, state, steps } = await forgeWithState(github, { pulls: [pull] });
    checksHead(steps, { before: tfvars(4), file: tfvars(5), readsHead: true });
    writesCommit(steps, C2);
    updatesPull(steps, C2);
    steps.setLabels(7, ["autoscaling", "needs-review", "scale-down"]);

    const result = await forge.ensurePullRequest(
      scaleWorkers(3, { labels: ["autoscaling", "scale-down"], fingerprint: "workers-3" }),
      state,
    );

    expect(result.action).toBe("updated");
    expect(bodyOf(github, "PUT /issues/7/labels")).toEqual({
      labels: ["autoscaling", "needs-review", "scale-down"],
    });
    expect(github.scope.isDone()).toBe(true);
  });

  it("is rebuilt on the new head when the default branch moved", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github, {
      head: [HEAD2, TREE2],
      pulls: [open({ fingerprint: "workers-4", base: HEAD1 })],
    });
    expect(state.pullRequests[0]?.upToDate).toBe(false);
    checksHead(steps, { base: HEAD2 });
    buildsCommit(steps, C2, HEAD2);
    updatesPull(steps, C2);

    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(result).toMatchObject({ action: "rebuilt", number: 7 });
    expect(bodyOf(github, "POST /git/trees").base_tree).toBe(TREE2);
    expect(bodyOf(github, "POST /git/commits").parents).toEqual([HEAD2]);
    expect(readPullRequestMarker(String(bodyOf(github, "PATCH /pulls/7").body))).toMatchObject({
      sha: C2,
      base: HEAD2,
      previous: C1,
    });
    expect(github.scope.isDone()).toBe(true);
  });

  it("is rebuilt from the changed file when the default branch changed the same lines (a conflict)", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github, {
      head: [HEAD2, TREE2],
      pulls: [open({ fingerprint: "workers-4", base: HEAD1 })],
    });
    // Someone edited the worker count line on the default branch: the old commit conflicts.
    checksHead(steps, { base: HEAD2 });
    buildsCommit(steps, C2, HEAD2, tfvars(3, " # raised by hand for the backup window"));
    updatesPull(steps, C2);

    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(result.action).toBe("rebuilt");
    expect(bodyOf(github, "POST /git/trees").tree).toEqual([
      {
        path: TFVARS,
        mode: "100644",
        type: "blob",
        content: tfvars(4, " # raised by hand for the backup window"),
      },
    ]);
    expect(github.scope.isDone()).toBe(true);
  });

  it("finishes an update that stopped before the branch moved (head is the marker's previous)", async () => {
    const github = mockGitHub();
    const interrupted = botPull({
      number: 7,
      headSha: C1,
      marker: { sha: C2, previous: C1, fingerprint: "workers-5", base: HEAD1, labels: LABELS },
    });
    const { forge, state, steps } = await forgeWithState(github, { pulls: [interrupted] });
    expect(state.pullRequests[0]).toMatchObject({ control: "bot", upToDate: false });
    const C3 = sha("commit3");
    checksHead(steps, { readsHead: true });
    writesCommit(steps, C3);
    updatesPull(steps, C3);

    const result = await forge.ensurePullRequest(scaleWorkers(5), state);

    expect(result.action).toBe("rebuilt");
    expect(readPullRequestMarker(String(bodyOf(github, "PATCH /pulls/7").body))).toMatchObject({
      sha: C3,
      previous: C1,
    });
    expect(github.scope.isDone()).toBe(true);
  });

  it("is closed when the default branch already has the change", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github, {
      head: [HEAD2, TREE2],
      pulls: [open({ fingerprint: "workers-4", base: HEAD1 })],
    });
    checksHead(steps, { base: HEAD2 });
    steps.file(TFVARS, HEAD2, tfvars(4));
    steps.comments(7, []);
    steps.postComment(7, comment(1, "closing"));
    steps.updatePull({ number: 7, branch: BRANCH, headSha: C1, body: "", state: "closed" });
    steps.deleteRef(BRANCH);

    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(result).toMatchObject({ action: "already-applied", number: 7 });
    const close = bodyOf(github, "PATCH /pulls/7");
    expect(close.state).toBe("closed");
    expect(readPullRequestMarker(String(close.body))?.closedBy).toBe("bot");
    expect(github.scope.isDone()).toBe(true);
  });
});

describe("an update people interrupt", () => {
  const HUMAN = sha("human");
  const TEXT = "Pods are waiting for room.";
  const before = () =>
    botPull({
      number: 7,
      headSha: C1,
      title: "Scale worker nodes to 4",
      text: TEXT,
      marker: { sha: C1, fingerprint: "workers-4", base: HEAD1, labels: LABELS },
    });

  /** The open pull request #7 (3 → 4) and the commit for 3 → 5, built; the branch is read next. */
  async function built(github: ReturnType<typeof mockGitHub>) {
    const pull = before();
    const setup = await forgeWithState(github, { pulls: [pull] });
    checksHead(setup.steps, { readsHead: true });
    writesCommit(setup.steps, C2);
    return { ...setup, body: String((pull as { body: string }).body) };
  }

  it("stops before any write when someone pushed to the branch since it was read", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await built(github);
    steps.readRef(BRANCH, HUMAN);

    const result = await forge.ensurePullRequest(scaleWorkers(5), state);

    expect(result).toEqual(
      leftToPeople(
        `its branch ${BRANCH} moved to ${HUMAN.slice(0, 7)} while pr-autoscaler was updating it, so it was left as it is`,
      ),
    );
    expect(
      github.calls().filter((call) => !call.startsWith("GET ") && !call.includes("/git/t")),
    ).toEqual(["POST /git/commits"]);
    expect(github.scope.isDone()).toBe(true);
  });

  it("stops before any write when its branch was deleted (merged or closed with the branch)", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await built(github);
    steps.readRef(BRANCH, undefined);

    const result = await forge.ensurePullRequest(scaleWorkers(5), state);

    expect(result.action).toBe("human-edited");
    expect(result.note).toContain("was deleted while pr-autoscaler was updating it");
    expect(github.calls()).not.toContain("PATCH /pulls/7");
    expect(github.calls()).not.toContain(`PATCH /git/refs/heads/${BRANCH}`);
    expect(github.scope.isDone()).toBe(true);
  });

  it.each([
    [
      "merged",
      {
        state: "closed" as const,
        closedAt: "2025-03-01T10:05:00Z",
        mergedAt: "2025-03-01T10:05:00Z",
      },
      {},
    ],
    ["closed", { state: "closed" as const, closedAt: "2025-03-01T10:05:00Z" }, {}],
    ["pushed to", {}, { headSha: HUMAN }],
  ])(
    "puts the title and description back, and leaves the branch, when GitHub says it was %s meanwhile",
    async (what, closed, head) => {
      const github = mockGitHub();
      const { forge, state, steps, body } = await built(github);
      steps.readRef(BRANCH, C1);
      steps.updatePull({
        number: 7,
        branch: BRANCH,
        headSha: C1,
        body: "",
        title: "Scale worker nodes to 5",
        ...closed,
        ...head,
      });
      steps.updatePull({ number: 7, branch: BRANCH, headSha: C1, body, ...closed, ...head });

      const result = await forge.ensurePullRequest(scaleWorkers(5), state);

      expect(result.action).toBe("human-edited");
      expect(result.note).toContain("its title and description are as they were");
      if (what !== "pushed to") expect(result.note).toContain(`was ${what} while`);
      const patches = github.requests.filter((request) => request.path === "/pulls/7");
      expect(patches).toHaveLength(2);
      expect(patches[1]?.body).toEqual({ title: "Scale worker nodes to 4", body });
      expect(readPullRequestMarker(body)).toMatchObject({ sha: C1, fingerprint: "workers-4" });
      expect(github.calls()).not.toContain(`PATCH /git/refs/heads/${BRANCH}`);
      expect(github.scope.isDone()).toBe(true);
    },
  );
});

describe("a pull request people changed", () => {
  const HUMAN = sha("human");

  it("is left alone, with one comment, and the next run says nothing again", async () => {
    const github = mockGitHub();
    const pushedTo = botPull({
      number: 7,
      headSha: HUMAN,
      marker: { sha: C1, fingerprint: "workers-4", base: HEAD1, labels: LABELS },
    });
    const { forge, state, steps } = await forgeWithState(github, { pulls: [pushedTo] });
    expect(state.pullRequests[0]).toMatchObject({ control: "human", handsOffNoticed: false });
    steps.comments(7, [comment(1, "I pushed a fix for the memory size.")]);
    steps.postComment(7, comment(2, "left alone"));
    steps.updatePull({ number: 7, branch: BRANCH, headSha: HUMAN, body: "" });

    const first = await forge.ensurePullRequest(scaleWorkers(5), state);

    expect(first).toMatchObject({ action: "human-edited", number: 7 });
    expect(github.calls()).toEqual([
      "GET /issues/7/comments",
      "POST /issues/7/comments",
      "PATCH /pulls/7",
    ]);
    const said = String(bodyOf(github, "POST /issues/7/comments").body);
    expect(said).toContain(
      "pr-autoscaler leaves this pull request to you because its branch has commit",
    );
    const patched = String(bodyOf(github, "PATCH /pulls/7").body);
    expect(patched.startsWith("Pods are waiting for room.")).toBe(true);
    expect(readPullRequestMarker(patched)).toMatchObject({ sha: C1, handsOff: HUMAN });

    // Next reconcile: the list now carries the hands-off marker; nothing is sent.
    github.reset();
    steps.defaultBranchNotModified(`"b-${HEAD1}"`);
    steps.openPulls(
      [pullRequest({ number: 7, branch: BRANCH, headSha: HUMAN, body: patched })],
      '"p2"',
    );
    steps.closedPulls([]);
    steps.botBranches([{ name: BRANCH, sha: HUMAN }]);
    const next = await forge.readState();
    expect(next.pullRequests[0]).toMatchObject({ control: "human", handsOffNoticed: true });
    github.reset();

    const second = await forge.ensurePullRequest(scaleWorkers(6), next);

    expect(second.action).toBe("human-edited");
    expect(github.requests).toEqual([]);
    expect(github.scope.isDone()).toBe(true);
  });

  it("does not comment twice when recording the notice failed the first time", async () => {
    const github = mockGitHub();
    const pushedTo = botPull({
      number: 7,
      headSha: HUMAN,
      marker: { sha: C1, fingerprint: "workers-4", base: HEAD1 },
    });
    const { forge, state, steps } = await forgeWithState(github, { pulls: [pushedTo] });
    steps.comments(7, [
      comment(2, 'earlier notice <!-- pr-autoscaler:hands-off {"key":"nodes-workers"} -->'),
    ]);
    steps.updatePull({ number: 7, branch: BRANCH, headSha: HUMAN, body: "" });

    const result = await forge.ensurePullRequest(scaleWorkers(5), state);

    expect(result.action).toBe("human-edited");
    expect(github.calls()).toEqual(["GET /issues/7/comments", "PATCH /pulls/7"]);
    expect(github.scope.isDone()).toBe(true);
  });

  it("counts a pull request without the bot's marker as people's", async () => {
    const github = mockGitHub();
    const handMade = pullRequest({ number: 9, branch: BRANCH, headSha: C1, body: "By hand." });
    const { state } = await forgeWithState(github, { pulls: [handMade] });
    expect(state.pullRequests[0]).toMatchObject({
      control: "human",
      handsOffReason: "its description no longer carries the bot's marker",
    });
  });
});

describe("two runs opening the same pull request at once", () => {
  async function builtUntilBranch(github: ReturnType<typeof mockGitHub>) {
    const setup = await forgeWithState(github);
    buildsCommit(setup.steps, C2);
    setup.steps.createRefFails(422, referenceExists());
    return setup;
  }

  it("converges on the pull request the other run opened", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await builtUntilBranch(github);
    steps.findPull(BRANCH, [pullRequest({ number: 8, branch: BRANCH, headSha: C1, body: "" })]);
    // That run may stop before labelling it: the labels it lacks are added.
    steps.addLabels(8, LABELS);

    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(result).toMatchObject({ action: "unchanged", number: 8 });
    expect(github.calls().filter((call) => call === "POST /pulls")).toEqual([]);
    expect(bodyOf(github, "POST /issues/8/labels")).toEqual({ labels: LABELS });
    expect(github.scope.isDone()).toBe(true);
  });

  it("opens the pull request on the other run's branch when that run has not yet", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await builtUntilBranch(github);
    steps.findPull(BRANCH, []);
    steps.readRef(BRANCH, C1);
    steps.readCommit(C1, {
      tree: NEW_TREE,
      parents: [HEAD1],
      message: `Scale worker nodes to 4\n\n${BOT_TRAILERS}`,
    });
    // Its trailers say it is the bot's; what it changes has the last word.
    comparesHead(steps);
    steps.createPull({ number: 8, branch: BRANCH, headSha: C1, body: "" });
    steps.addLabels(8, LABELS);

    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(result).toMatchObject({ action: "created", number: 8 });
    // The other run's commit is used as it is: its marker will match the branch head.
    expect(readPullRequestMarker(String(bodyOf(github, "POST /pulls").body))?.sha).toBe(C1);
    expect(github.calls()).not.toContain(`PATCH /git/refs/heads/${BRANCH}`);
    expect(github.scope.isDone()).toBe(true);
  });

  it("converges when both runs ask GitHub to open the pull request", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await builtUntilBranch(github);
    steps.findPull(BRANCH, []);
    steps.readRef(BRANCH, C1);
    steps.readCommit(C1, { tree: NEW_TREE, parents: [HEAD1], message: BOT_COMMIT });
    comparesHead(steps);
    steps.createPullFails(422, pullRequestExists(BRANCH));
    steps.findPull(BRANCH, [
      pullRequest({ number: 8, branch: BRANCH, headSha: C1, body: "", labels: LABELS }),
    ]);

    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    // The commit is the other run's, not this run's: it opened the pull request.
    expect(result).toMatchObject({ action: "unchanged", number: 8 });
    expect(github.scope.isDone()).toBe(true);
  });

  it("opens the pull request, labelled, when GitHub opened it but answered with an error", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github);
    buildsCommit(steps, C1);
    steps.createRef(BRANCH, C1);
    // The first POST /pulls opened it and answered 502; the client's retry gets 422.
    steps.createPullFails(422, pullRequestExists(BRANCH));
    const body = withPullRequestMarker("Pods are waiting for room.", {
      key: KEY,
      fingerprint: "workers-4",
      sha: C1,
      base: HEAD1,
      labels: LABELS,
    });
    steps.findPull(BRANCH, [pullRequest({ number: 7, branch: BRANCH, headSha: C1, body })]);
    steps.addLabels(7, LABELS);

    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(result).toEqual({
      action: "created",
      key: KEY,
      number: 7,
      url: "https://github.com/octocat/Hello-World/pull/7",
      botSha: C1,
    });
    expect(bodyOf(github, "POST /issues/7/labels")).toEqual({ labels: LABELS });
    expect(github.scope.isDone()).toBe(true);
  });

  it("does not count as its own a pull request found on its commit for another plan", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github);
    buildsCommit(steps, C1);
    steps.createRef(BRANCH, C1);
    steps.createPullFails(422, pullRequestExists(BRANCH));
    const body = withPullRequestMarker("", { key: KEY, fingerprint: "workers-5", sha: C1 });
    steps.findPull(BRANCH, [
      pullRequest({ number: 7, branch: BRANCH, headSha: C1, body, labels: ["autoscaling"] }),
    ]);
    steps.addLabels(7, ["scale-up"]);

    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(result).toMatchObject({ action: "unchanged", number: 7 });
    expect(github.scope.isDone()).toBe(true);
  });

  it("leaves a branch alone that holds a commit the bot did not make", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await builtUntilBranch(github);
    steps.findPull(BRANCH, []);
    steps.readRef(BRANCH, sha("human"));
    steps.readCommit(sha("human"), { tree: NEW_TREE, parents: [HEAD1], message: "Try 6 workers" });

    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(result.action).toBe("blocked");
    expect(result.note).toContain("which pr-autoscaler did not make");
    expect(github.scope.isDone()).toBe(true);
  });
});

describe("a bot branch without a pull request", () => {
  const OLD = sha("old");

  it("is rebuilt on the head and gets its pull request when the plan wants it", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github, {
      head: [HEAD2, TREE2],
      branches: [{ name: BRANCH, sha: OLD }],
    });
    expect(state.strayBranches).toEqual([{ key: KEY, branch: BRANCH, sha: OLD }]);
    steps.readCommit(OLD, { tree: TREE1, parents: [HEAD1], message: BOT_COMMIT });
    checksHead(steps, { base: HEAD2, head: OLD });
    buildsCommit(steps, C2, HEAD2);
    steps.readRef(BRANCH, OLD);
    steps.moveRef(BRANCH, C2);
    steps.createPull({ number: 9, branch: BRANCH, headSha: C2, body: "" });
    steps.addLabels(9, LABELS);

    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(result).toMatchObject({ action: "created", number: 9 });
    expect(github.calls()).toEqual([
      `GET /git/commits/${OLD}`,
      `GET /compare/${HEAD2}...${OLD}`,
      `GET /contents/${TFVARS}`,
      `GET /contents/${TFVARS}`,
      "POST /git/trees",
      "POST /git/commits",
      `GET /git/ref/heads/${BRANCH}`,
      `PATCH /git/refs/heads/${BRANCH}`,
      "POST /pulls",
      "POST /issues/9/labels",
    ]);
    expect(github.scope.isDone()).toBe(true);
  });

  it("is not moved when someone pushed to it since it was listed", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github, {
      head: [HEAD2, TREE2],
      branches: [{ name: BRANCH, sha: OLD }],
    });
    steps.readCommit(OLD, { tree: TREE1, parents: [HEAD1], message: BOT_COMMIT });
    checksHead(steps, { base: HEAD2, head: OLD });
    buildsCommit(steps, C2, HEAD2);
    steps.readRef(BRANCH, sha("human"));

    const failure = await forge.ensurePullRequest(scaleWorkers(4), state).then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(failure).toBeInstanceOf(ForgeError);
    expect(String(failure)).toContain("since it was read; nothing was overwritten");
    expect(github.calls()).not.toContain(`PATCH /git/refs/heads/${BRANCH}`);
    expect(github.calls()).not.toContain("POST /pulls");
    expect(github.scope.isDone()).toBe(true);
  });

  it("is deleted when it holds only the bot's commit and no pull request is open on it", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github, {
      branches: [{ name: BRANCH, sha: OLD }],
    });
    steps.readRef(BRANCH, OLD);
    steps.readCommit(OLD, { tree: TREE1, parents: [HEAD1], message: BOT_COMMIT });
    steps.findPull(BRANCH, []);
    steps.deleteRef(BRANCH);

    const stray = state.strayBranches[0];
    if (!stray) throw new Error("expected a stray branch");
    const result = await forge.deleteStrayBranch(stray, state);

    expect(result.action).toBe("deleted");
    expect(github.scope.isDone()).toBe(true);
  });

  it("is kept when someone pushed to it, and not read again until it moves", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github, {
      branches: [{ name: BRANCH, sha: OLD }],
    });
    steps.readCommit(OLD, {
      tree: TREE1,
      parents: [HEAD1],
      message: "Pin workers at 5 for the migration",
    });

    const stray = state.strayBranches[0];
    if (!stray) throw new Error("expected a stray branch");
    expect(stray.foreignHead).toBeUndefined();
    const result = await forge.deleteStrayBranch(stray, state);

    expect(result.action).toBe("left-alone");
    expect(github.calls()).toEqual([`GET /git/commits/${OLD}`]);
    expect(github.scope.isDone()).toBe(true);

    // The next read says the branch is people's; asking again costs nothing.
    github.reset();
    steps.defaultBranchNotModified(`"b-${HEAD1}"`);
    steps.openPullsNotModified('"p1"');
    const next = await forge.readState();
    expect(next.strayBranches).toEqual([{ key: KEY, branch: BRANCH, sha: OLD, foreignHead: true }]);
    expect((await forge.deleteStrayBranch(stray, next)).action).toBe("left-alone");
    expect(github.calls()).toEqual(["GET /branches/main", "GET /pulls"]);

    // Moved to another commit: read again.
    const MOVED = sha("moved");
    github.reset();
    steps.defaultBranch(HEAD1, TREE1, '"b2"');
    steps.openPulls([], '"p2"');
    steps.closedPulls([]);
    steps.botBranches([{ name: BRANCH, sha: MOVED }]);
    const later = await forge.readState();
    expect(later.strayBranches).toEqual([{ key: KEY, branch: BRANCH, sha: MOVED }]);
    steps.readCommit(MOVED, { tree: TREE1, parents: [OLD], message: "Pin workers at 6" });
    expect((await forge.deleteStrayBranch(later.strayBranches[0] ?? stray, later)).action).toBe(
      "left-alone",
    );
    expect(github.scope.isDone()).toBe(true);
  });

  it("is kept when someone pushed to it after it was listed", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github, {
      branches: [{ name: BRANCH, sha: OLD }],
    });
    const PUSHED = sha("pushed");
    steps.readCommit(OLD, { tree: TREE1, parents: [HEAD1], message: BOT_COMMIT });
    steps.readRef(BRANCH, PUSHED);
    steps.readCommit(PUSHED, { tree: TREE1, parents: [OLD], message: "Keep the disk size" });

    const stray = state.strayBranches[0];
    if (!stray) throw new Error("expected a stray branch");
    const result = await forge.deleteStrayBranch(stray, state);

    expect(result).toEqual({
      action: "left-alone",
      note: `its head ${PUSHED.slice(0, 7)} is not pr-autoscaler's`,
    });
    expect(github.calls()).not.toContain(`DELETE /git/refs/heads/${BRANCH}`);
    expect(github.scope.isDone()).toBe(true);
  });

  it("costs one commit read for many people's branches at the same commit", async () => {
    const github = mockGitHub();
    const branches = [1, 2, 3].map((n) => ({ name: `pr-autoscaler/experiment-${n}`, sha: HEAD1 }));
    const { forge, state, steps } = await forgeWithState(github, { branches });
    steps.readCommit(HEAD1, { tree: TREE1, parents: [], message: "Initial commit" });

    const results = [];
    for (const stray of state.strayBranches)
      results.push(await forge.deleteStrayBranch(stray, state));

    expect(results.map((r) => r.action)).toEqual(["left-alone", "left-alone", "left-alone"]);
    expect(github.calls()).toEqual([`GET /git/commits/${HEAD1}`]);
    expect(github.scope.isDone()).toBe(true);
  });
});

describe("a GitHub failure in the middle of opening a pull request", () => {
  it("names the failed step, and the next run finishes without a duplicate or a leftover", async () => {
    const github = mockGitHub();
    const { forge, state, steps } = await forgeWithState(github);
    buildsCommit(steps, C1);
    steps.createRef(BRANCH, C1);
    steps.createPullFails(500, { message: "Server Error" });

    const failure = await forge.ensurePullRequest(scaleWorkers(4), state).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ForgeError);
    expect(failure).toMatchObject({ step: `open the pull request for ${BRANCH}`, status: 500 });

    // Next run: nothing changed on GitHub's lists, but the failure makes the forge look for
    // branches again; it finds its own and opens the pull request on it.
    github.reset();
    steps.defaultBranchNotModified(`"b-${HEAD1}"`);
    steps.openPullsNotModified('"p1"');
    steps.closedPulls([]);
    steps.botBranches([{ name: BRANCH, sha: C1 }]);
    const next = await forge.readState();
    expect(next.strayBranches).toEqual([{ key: KEY, branch: BRANCH, sha: C1 }]);
    steps.readCommit(C1, {
      tree: NEW_TREE,
      parents: [HEAD1],
      message: `Scale worker nodes to 4\n\n${BOT_TRAILERS}`,
    });
    steps.createPull({ number: 7, branch: BRANCH, headSha: C1, body: "" });
    steps.addLabels(7, LABELS);

    const result = await forge.ensurePullRequest(scaleWorkers(4), next);

    expect(result).toMatchObject({ action: "created", number: 7 });
    expect(github.calls().filter((call) => call.startsWith("POST /git/"))).toEqual([]);
    expect(github.calls().filter((call) => call === "POST /pulls")).toHaveLength(1);
    expect(github.scope.isDone()).toBe(true);
  });

  it("adds the labels on the next run when labelling failed after the pull request opened", async () => {
    const github = mockGitHub();
    const opened = botPull({
      number: 7,
      headSha: C1,
      labels: [],
      marker: { sha: C1, fingerprint: "workers-4", base: HEAD1, labels: LABELS },
    });
    const { forge, state, steps } = await forgeWithState(github, { pulls: [opened] });
    checksHead(steps);
    steps.addLabels(7, LABELS);

    const result = await forge.ensurePullRequest(scaleWorkers(4), state);

    expect(result.action).toBe("unchanged");
    expect(github.calls()).toEqual([
      `GET /compare/${HEAD1}...${C1}`,
      `GET /contents/${TFVARS}`,
      "POST /issues/7/labels",
    ]);
    expect(bodyOf(github, "POST /issues/7/labels")).toEqual({ labels: LABELS });
    expect(github.scope.isDone()).toBe(true);
  });
});
