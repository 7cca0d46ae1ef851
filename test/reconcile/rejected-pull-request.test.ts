/**
 * A node pull request people close without merging is a "no" to that change, as Renovate treats
 * a closed update: it is not opened again the next minute, until the plan or the count moves on.
 * Against the stateful fake GitHub, people closing pull requests as GitHub's button does.
 */
import { describe, expect, it } from "@jest/globals";
import { readControlMarker } from "../../src/control/control-state.ts";
import { readPullRequestMarker, replacePullRequestMarker } from "../../src/forge/marker.ts";
import type { ReconcileResult } from "../../src/reconcile/reconcile-types.ts";
import { cluster, TFVARS, tfvars } from "./support/infra.ts";
import { type Scenario, scenario } from "./support/scenario.ts";

const BRANCH = "pr-autoscaler/nodes-workers";
const MINUTE = 60_000;
const STANDING =
  "> Scale workers from 3 to 4: #1 closed without merging on 2025-06-06 12:01 UTC; not proposed again until the plan or the count changes; `/autoscaler scale workers=4` proposes it.";

/** The bot has opened #1, 3 → 4, for a pod that waits; a minute later a person closes it. */
async function closedByPerson(): Promise<Scenario> {
  const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
  world.github.permissions.set("alice", "write");
  await world.run();
  expect(world.github.openPulls().map((pull) => pull.title)).toEqual([
    "Scale workers from 3 to 4 nodes",
  ]);
  world.github.advance(MINUTE);
  world.github.closePull(1);
  return world;
}

/** Reconciles once a minute, `times` times; returns every result. */
async function minutes(world: Scenario, times: number): Promise<ReconcileResult[]> {
  const results: ReconcileResult[] = [];
  for (let i = 0; i < times; i++) {
    world.github.advance(MINUTE);
    results.push(await world.run());
  }
  return results;
}

function dashboard(world: Scenario): string {
  return world.github.botIssue("dashboard")?.body ?? "";
}

function rejected(world: Scenario) {
  return readControlMarker(dashboard(world))?.rejected;
}

function created(results: ReconcileResult[]): string[] {
  return results.flatMap((result) =>
    result.pullRequests.filter((o) => o.action === "created").map((o) => o.title ?? o.key),
  );
}

describe("a node pull request a person closed without merging", () => {
  it("is not opened again over many reconciles, and the dashboard says so", async () => {
    const world = await closedByPerson();
    const results = await minutes(world, 10);
    expect(created(results)).toEqual([]);
    expect(world.github.openPulls()).toEqual([]);
    // The bot's branch goes, as after its own close.
    expect(results[0]?.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "branch-deleted" }),
    ]);
    expect(world.github.git.branches.has(BRANCH)).toBe(false);
    expect(rejected(world)).toEqual({
      workers: { number: 1, from: 3, to: 4, at: world.github.pull(1).closedAt },
    });
    expect(dashboard(world)).toContain(STANDING);
    // It says it once, then idles: the dashboard is not rewritten while nothing changes.
    expect(results.slice(2).map((result) => result.dashboard)).toEqual(Array(8).fill("unchanged"));
  });

  it("uses up none of the hourly budget of other changes", async () => {
    const world = scenario({
      cluster: cluster({ pending: 1, plex: false }),
      settings: { maxPerHour: 2 },
    });
    await world.run();
    world.github.advance(MINUTE);
    world.github.closePull(1);
    await minutes(world, 5);
    // A right-sizing change comes along within the hour: the one pull request opened so far
    // leaves room for it.
    world.cluster = cluster({ pending: 1 });
    const results = await minutes(world, 1);
    expect(created(results)).toEqual(["Right-size media/plex: cpu 2 → 450m, memory 4Gi → 1344Mi"]);
  });

  it("is proposed again as a new change when the plan wants another count", async () => {
    const world = await closedByPerson();
    await minutes(world, 2);
    world.cluster = cluster({ pending: 2, plex: false });
    const [result] = await minutes(world, 1);
    expect(created(result ? [result] : [])).toEqual(["Scale workers from 3 to 5 nodes"]);
    expect(result?.notes).toContainEqual(
      expect.objectContaining({
        subject: "nodes-workers",
        message:
          "proposed again: the plan now wants 5 nodes, not the 4 of #1 (3 → 4, closed without merging)",
      }),
    );
    expect(rejected(world)).toEqual({});
    expect(dashboard(world)).not.toContain("closed without merging on");
  });

  it("lapses when the count on the default branch changes", async () => {
    const world = await closedByPerson();
    await minutes(world, 2);
    // Someone adds the node by hand; it joins, and the waiting pod asks for one more.
    world.github.push({ [TFVARS]: tfvars(4) }, { message: "Four workers" });
    world.cluster = cluster({ workers: 4, pending: 1, plex: false });
    const results = await minutes(world, 30);
    expect(rejected(world)).toEqual({});
    expect(results.flatMap((r) => r.notes.map((n) => n.message))).toContain(
      "proposed again: the default branch has 4 nodes now, not the 3 of #1 (3 → 4, closed without merging)",
    );
    expect(world.github.openPulls().map((pull) => pull.title)).toEqual([
      "Scale workers from 4 to 5 nodes",
    ]);
  });

  it("survives a restart, even once the close is no longer among the recent ones", async () => {
    const world = await closedByPerson();
    await minutes(world, 1);
    // Fifty of people's pull requests closed since: #1 is out of the list the bot reads.
    for (let i = 0; i < 50; i++) {
      world.github.branch(`topic-${i}`);
      world.github.closePull(world.github.openPull(`topic-${i}`, `Topic ${i}`).number);
    }
    const restarted = world.replica();
    for (let i = 0; i < 5; i++) {
      world.github.advance(MINUTE);
      const result = await world.run(restarted);
      expect(result.pullRequests.filter((o) => o.action === "created")).toEqual([]);
    }
    expect(world.github.openPulls()).toEqual([]);
    expect(rejected(world)?.workers).toMatchObject({ number: 1, from: 3, to: 4 });
  });

  it("is a rejection too when it was written before the marker recorded the change", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    await world.run();
    const pull = world.github.pull(1);
    const marker = readPullRequestMarker(pull.body);
    if (!marker) throw new Error("no marker");
    const { from: _from, to: _to, ...older } = marker;
    pull.body = replacePullRequestMarker(pull.body, older);
    world.github.advance(MINUTE);
    world.github.closePull(1);
    const results = await minutes(world, 3);
    expect(created(results)).toEqual([]);
    expect(rejected(world)?.workers).toMatchObject({ number: 1, from: 3, to: 4 });
  });

  it("is still proposed when someone asks for it with /autoscaler scale", async () => {
    const world = await closedByPerson();
    await minutes(world, 2);
    const dashboardNumber = world.github.botIssue("dashboard")?.number ?? 0;
    world.github.comment(dashboardNumber, "/autoscaler scale workers=4");
    world.github.advance(MINUTE);
    const asked = await world.run(undefined, ["comment"]);
    expect(asked.commands).toEqual([expect.objectContaining({ outcome: "obeyed" })]);
    const [pull] = world.github.openPulls();
    expect(pull?.title).toBe("Scale workers from 3 to 4 nodes");
    expect(pull?.body).toContain("@alice asked for 4 nodes in pool **workers**");
    // Once it is merged the count moved on: the rejection and the request are both done.
    world.github.mergePull(pull?.number ?? 0);
    world.cluster = cluster({ workers: 4, plex: false });
    await minutes(world, 1);
    expect(rejected(world)).toEqual({});
    expect(readControlMarker(dashboard(world))?.scale).toEqual({});
  });
});

describe("a requested count after a no", () => {
  it("replaces the no: after `scale POOL=auto` the planner owns the pull request", async () => {
    const world = await closedByPerson();
    await minutes(world, 1);
    const dashboardNumber = world.github.botIssue("dashboard")?.number ?? 0;
    const id = world.github.comment(dashboardNumber, "/autoscaler scale workers=4");
    world.github.advance(MINUTE);
    const asked = await world.run(undefined, ["comment"]);
    expect(asked.commands).toEqual([expect.objectContaining({ outcome: "obeyed" })]);
    expect(rejected(world)).toEqual({});
    expect(dashboard(world)).not.toContain(STANDING);
    const reply = world.github.commentsOn(dashboardNumber).find((c) => c.body.includes(`${id}`));
    expect(reply?.body).toContain(
      'The "no" to workers 3 → 4 (#1, closed without merging) is dropped: 4 nodes are proposed as asked',
    );
    const [pull] = world.github.openPulls();
    expect(pull?.body).toContain("@alice asked for 4 nodes in pool **workers**");

    world.github.comment(dashboardNumber, "/autoscaler scale workers=auto");
    world.github.advance(MINUTE);
    const auto = await world.run(undefined, ["comment"]);
    expect(auto.pullRequests).toEqual([
      expect.objectContaining({ action: "updated", number: pull?.number }),
    ]);
    const later = await minutes(world, 2);
    expect(later.flatMap((r) => r.pullRequests)).toEqual([
      expect.objectContaining({ action: "unchanged", number: pull?.number }),
      expect.objectContaining({ action: "unchanged", number: pull?.number }),
    ]);
    expect(world.github.pull(pull?.number ?? 0).body).not.toContain("asked for");
    expect(rejected(world)).toEqual({});
  });
});

describe("a node pull request that is not a rejection when closed", () => {
  it("the bot closed it because the plan no longer wanted it: proposed again when wanted", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    await world.run();
    world.cluster = cluster({ pending: 0, plex: false });
    const [closing] = await minutes(world, 1);
    expect(closing?.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "closed", number: 1 }),
    ]);
    expect(readPullRequestMarker(world.github.pull(1).body)?.closedBy).toBe("bot");
    world.cluster = cluster({ pending: 1, plex: false });
    const results = await minutes(world, 2);
    expect(created(results)).toEqual(["Scale workers from 3 to 4 nodes"]);
    expect(rejected(world)).toEqual({});
  });

  it("the bot closed it, a person reopened it: their close is a no", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    await world.run();
    world.cluster = cluster({ pending: 0, plex: false });
    await minutes(world, 1);
    expect(readPullRequestMarker(world.github.pull(1).body)?.closedBy).toBe("bot");
    world.cluster = cluster({ pending: 1, plex: false });
    // GitHub's "Restore branch", then "Reopen pull request".
    const pull = world.github.pull(1);
    world.github.git.branches.set(BRANCH, pull.headSha);
    pull.state = "open";
    pull.closedAt = null;
    world.github.reset();
    await minutes(world, 1);
    expect(world.github.calls()).toContain("PATCH /pulls/1");
    expect(readPullRequestMarker(world.github.pull(1).body)).toMatchObject({ from: 3, to: 4 });
    expect(readPullRequestMarker(world.github.pull(1).body)?.closedBy).toBeUndefined();
    await minutes(world, 1);
    world.github.advance(MINUTE);
    world.github.closePull(1);
    const results = await minutes(world, 3);
    expect(created(results)).toEqual([]);
    expect(rejected(world)?.workers).toMatchObject({ number: 1, from: 3, to: 4 });
  });

  it("people had taken it over: closing it asks for a fresh proposal", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    await world.run();
    world.github.push({ "notes.md": "why we need five\n" }, { branch: BRANCH });
    const [edited] = await minutes(world, 1);
    expect(edited?.pullRequests).toEqual([
      expect.objectContaining({ action: "human-edited", number: 1 }),
    ]);
    // As the bot's comment says: close it and delete its branch.
    world.github.closePull(1);
    world.github.deleteBranch(BRANCH);
    const results = await minutes(world, 2);
    expect(created(results)).toEqual(["Scale workers from 3 to 4 nodes"]);
    expect(rejected(world)).toEqual({});
  });
});

describe("the first look at closed pull requests", () => {
  it("takes those closed before the state kept rejections as history", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    await world.run();
    world.github.advance(MINUTE);
    world.github.closePull(1);
    // The state as a version that did not keep rejections wrote it, read by a new process: it
    // cannot tell its closes from people's, so what is closed by then is history.
    const issue = world.github.botIssue("dashboard");
    if (!issue) throw new Error("no dashboard");
    issue.body = issue.body.replace(
      /<!-- pr-autoscaler:control \{.*?\} -->/,
      '<!-- pr-autoscaler:control {"version":1,"lastComment":0,"paused":{"pools":{}},"scale":{},"ignored":{}} -->',
    );
    const fresh = world.replica();
    const results: ReconcileResult[] = [];
    for (let i = 0; i < 2; i++) {
      world.github.advance(MINUTE);
      results.push(await world.run(fresh));
    }
    expect(created(results)).toEqual(["Scale workers from 3 to 4 nodes"]);
    expect(readControlMarker(dashboard(world))?.closedSeen).toEqual({
      at: world.github.pull(1).closedAt,
      numbers: [1],
    });
  });
});
