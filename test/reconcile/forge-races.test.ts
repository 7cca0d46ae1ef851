/**
 * Races with people and GitHub's lost answers, against the stateful fake GitHub: a person pushes,
 * merges or closes while the bot updates its pull request; GitHub opens a pull request and answers
 * 502; people keep branches under the bot's prefix.
 */
import { describe, expect, it } from "@jest/globals";
import { createGitHubTarget } from "../../src/app/github-target.ts";
import { readControlMarker } from "../../src/control/control-state.ts";
import { readPullRequestMarker, withPullRequestMarker } from "../../src/forge/marker.ts";
import type { MergeOctokit } from "../../src/merge/merge-octokit.ts";
import { DEFAULT_SETTINGS } from "../../src/reconcile/reconcile-types.ts";
import { testOctokit } from "../support/github.ts";
import { OWNER, REPO } from "../support/github-responses.ts";
import { BOT_LOGIN } from "./support/fake-github.ts";
import { cluster, TFVARS, tfvars } from "./support/infra.ts";
import { type Scenario, scenario } from "./support/scenario.ts";

const BRANCH = "pr-autoscaler/nodes-workers";
const MINUTE = 60_000;
const FOUR = "Scale workers from 3 to 4 nodes";

/** The bot has opened #1 (3 → 4); the next run wants 3 → 5 and updates it. */
async function openedThenReplanned(): Promise<Scenario> {
  const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
  await world.run();
  expect(world.github.pull(1).title).toBe(FOUR);
  world.github.advance(MINUTE);
  world.cluster = cluster({ pending: 2, plex: false });
  return world;
}

/** #1 as the bot wrote it before the update: its title and hidden marker. */
function asOpened(world: Scenario) {
  const pull = world.github.pull(1);
  return { title: pull.title, body: pull.body };
}

describe("a person acting while the bot updates its pull request", () => {
  it("pushes to the branch: the commit is kept and the pull request is left to people", async () => {
    const world = await openedThenReplanned();
    const before = asOpened(world);
    let pushed = "";
    world.github.during("POST", /^\/git\/commits$/, () => {
      pushed = world.github.push(
        { "terraform/extra.tfvars": "worker_disk_gib = 64\n" },
        { branch: BRANCH, message: "Add the disk size" },
      );
    });

    const during = await world.run();

    expect(during.pullRequests).toEqual([
      expect.objectContaining({
        action: "human-edited",
        number: 1,
        // The title it still has (the dashboard lists it so), not the plan's 3 → 5.
        title: FOUR,
        note: expect.stringContaining(`moved to ${pushed.slice(0, 7)} while pr-autoscaler`),
      }),
    ]);
    expect(world.github.git.branches.get(BRANCH)).toBe(pushed);
    expect(asOpened(world)).toEqual(before);

    world.github.advance(MINUTE);
    const next = await world.run();
    expect(next.pullRequests).toEqual([
      expect.objectContaining({ action: "human-edited", number: 1 }),
    ]);
    expect(next.errors).toEqual([]);
    expect(world.github.git.branches.get(BRANCH)).toBe(pushed);
    const notices = world.github
      .commentsOn(1)
      .filter((comment) => comment.body.includes("leaves this pull request to you"));
    expect(notices).toHaveLength(1);
  });

  it.each([
    ["deletes its branch", true],
    ["keeps its branch", false],
  ])("merges it and %s: the merged pull request still says what was merged", async (_, deleted) => {
    const world = await openedThenReplanned();
    const before = asOpened(world);
    world.github.during("POST", /^\/git\/commits$/, () => {
      world.github.mergePull(1);
      if (deleted) world.github.deleteBranch(BRANCH);
    });

    const during = await world.run();

    expect(during.errors).toEqual([]);
    expect(during.pullRequests).toEqual([
      expect.objectContaining({ action: "human-edited", number: 1 }),
    ]);
    const merged = world.github.pull(1);
    expect(merged.mergedAt).not.toBeNull();
    expect({ title: merged.title, body: merged.body }).toEqual(before);
    expect(readPullRequestMarker(merged.body)).toMatchObject({ from: 3, to: 4 });
    world.github.advance(MINUTE);
    expect((await world.run()).errors).toEqual([]);
    expect(world.github.pull(1).title).toBe(FOUR);
  });

  it("closes it: the closed pull request keeps the 3 → 4 the person said no to", async () => {
    const world = await openedThenReplanned();
    const before = asOpened(world);
    world.github.during("POST", /^\/git\/commits$/, () => world.github.closePull(1));

    const during = await world.run();

    expect(during.pullRequests).toEqual([
      expect.objectContaining({
        action: "human-edited",
        number: 1,
        note: expect.stringContaining("closed while pr-autoscaler was updating it"),
      }),
    ]);
    expect(asOpened(world)).toEqual(before);
    expect(readPullRequestMarker(world.github.pull(1).body)).toMatchObject({ from: 3, to: 4 });
    // The person never saw 3 → 5: it is no "no" to it, so it is proposed.
    world.github.advance(MINUTE);
    const next = await world.run();
    expect(next.pullRequests).toEqual([
      expect.objectContaining({ action: "created", title: "Scale workers from 3 to 5 nodes" }),
    ]);
    expect(world.github.botIssue("dashboard")?.body).not.toContain("not proposed again");
  });

  it("closes it: 3 → 4 stays refused when the plan comes back to it", async () => {
    const world = await openedThenReplanned();
    world.github.during("POST", /^\/git\/commits$/, () => world.github.closePull(1));
    await world.run();
    world.cluster = cluster({ pending: 1, plex: false });
    world.github.advance(MINUTE);

    const next = await world.run();

    expect(next.pullRequests.filter((outcome) => outcome.action === "created")).toEqual([]);
    expect(world.github.openPulls()).toEqual([]);
    const dashboard = world.github.botIssue("dashboard")?.body ?? "";
    expect(readControlMarker(dashboard)?.rejected).toEqual({
      workers: { number: 1, from: 3, to: 4, at: world.github.pull(1).closedAt },
    });
    expect(dashboard).toContain("Scale workers from 3 to 4: #1 closed without merging");
  });
});

/** Probot's client retries a request GitHub answered with a 5xx (its retry plugin). */
function retryingServerErrors(octokit: ReturnType<typeof testOctokit>): MergeOctokit {
  return {
    async request(route, parameters) {
      try {
        return await octokit.request(route, parameters);
      } catch (error) {
        if (((error as { status?: number }).status ?? 0) < 500) throw error;
        return octokit.request(route, parameters);
      }
    },
    graphql: (query, variables) => octokit.graphql(query, variables),
  };
}

describe("GitHub opening the pull request and answering 502", () => {
  it("reports it opened, with its labels, when the retry finds it", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    const target = createGitHubTarget({
      octokit: retryingServerErrors(testOctokit()),
      owner: OWNER,
      repo: REPO,
      defaultBranch: "main",
      botLogin: BOT_LOGIN,
      observe: async () => world.cluster,
      settings: DEFAULT_SETTINGS,
      now: () => world.github.now(),
    });
    world.github.fail("POST", /^\/pulls$/, 502, "Server Error", 1, true);

    const result = await world.run(target);

    expect(result.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "created", number: 1 }),
    ]);
    expect(world.github.pulls.size).toBe(1);
    expect(world.github.pull(1).labels).toEqual(["autoscaling", "scale-up"]);
    expect(world.github.calls().filter((call) => call === "POST /pulls")).toHaveLength(2);
  });
});

describe("people's branches under pr-autoscaler/", () => {
  it("are read once and kept: an idle reconcile stays at 2 requests, and the bot's own still go", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    const people = Array.from({ length: 30 }, (_, i) => `pr-autoscaler/experiment-${i}`);
    for (const name of people) world.github.branch(name);
    world.github.branch("pr-autoscaler/tuning");
    world.github.push({ "notes.md": "six?\n" }, { branch: "pr-autoscaler/tuning" });
    people.push("pr-autoscaler/tuning");

    const first = await world.run();
    expect(first.errors).toEqual([]);
    // One read per commit at their heads: the default branch's and the one on tuning.
    expect(
      world.github.calls().filter((call) => call.startsWith("GET /git/commits/")),
    ).toHaveLength(2);
    world.github.advance(MINUTE);
    await world.run();
    world.github.advance(MINUTE);
    world.github.reset();
    const idle = await world.run();
    expect(world.github.calls()).toEqual(["GET /branches/main", "GET /pulls"]);
    expect(idle.errors).toEqual([]);

    // #1 merged, its branch left behind: the bot deletes it, and only it.
    world.github.mergePull(1);
    world.cluster = cluster({ workers: 4, pending: 0, plex: false });
    world.github.advance(MINUTE);
    const after = await world.run();
    expect(after.pullRequests).toEqual([
      expect.objectContaining({ action: "branch-deleted", note: BRANCH }),
    ]);
    const left = [...world.github.git.branches.keys()].filter((name) =>
      name.startsWith("pr-autoscaler/"),
    );
    expect(left.sort()).toEqual([...people].sort());
  });
});

describe("a pull request someone else opened from the bot's branch", () => {
  it("is theirs, its description copied from the bot's marker and all: never rebuilt, labelled or merged", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    world.github.branch(BRANCH);
    const theirs = world.github.push(
      { [TFVARS]: tfvars(4), "notes.md": "four, and notes\n" },
      { branch: BRANCH, message: "Four workers" },
    );
    const pull = world.github.openPull(BRANCH, "Scale workers from 3 to 4 nodes", "mallory");
    pull.body = withPullRequestMarker("Copied from the bot's.", {
      key: "nodes-workers",
      sha: theirs,
      base: world.github.head(),
      from: 3,
      to: 4,
    });
    const body = pull.body;

    const result = await world.run();

    // Theirs changes the count the plan would: it holds the pool (docs/app.md, "People's own
    // pull requests"), so the bot does not even try the branch.
    expect(result.pullRequests).toEqual([
      expect.objectContaining({
        key: "nodes-workers",
        action: "deferred",
        note: `#${pull.number} by mallory changes worker_count 3 → 4; nothing new while it is open`,
      }),
    ]);
    expect(result.merges).toEqual([]);
    expect(world.github.git.branches.get(BRANCH)).toBe(theirs);
    expect(world.github.pull(pull.number)).toMatchObject({ state: "open", body, labels: [] });
  });
});
