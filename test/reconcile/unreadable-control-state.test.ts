/**
 * A dashboard whose hidden command state block people removed or broke. A process that has no
 * state of its own (restarted, or a new replica) holds everything as paused until someone
 * comments `/autoscaler resume`; one that has its own keeps it and writes it back. Restarts are
 * new processes on the stateful fake GitHub.
 */
import { describe, expect, it } from "@jest/globals";
import { readControlMarker } from "../../src/control/control-state.ts";
import { readIssueMarker } from "../../src/forge/marker.ts";
import { CONFIG_PATH, cluster, NODES_ONLY_CONFIG } from "./support/infra.ts";
import { reactions, replies, type Scenario, scenario, step } from "./support/scenario.ts";

const BLOCK = /<!-- pr-autoscaler:control [^\n]*-->/;
const HELD = "**Everything is paused: the command state of this issue could not be read.**";

/** A repository whose dashboard is made, with alice allowed to give commands. */
async function ready(pending = 0) {
  const world = scenario({ cluster: cluster({ pending, plex: false }) });
  world.github.permissions.set("alice", "write");
  const first = world.replica();
  const created = await step(world, first);
  // A dashboard the bot creates is not damaged.
  expect(created.controlUnreadable).toBeUndefined();
  const dashboard = world.github.botIssue("dashboard")?.number;
  if (dashboard === undefined) throw new Error("no dashboard");
  return { world, first, dashboard };
}

function body(world: Scenario): string {
  return world.github.botIssue("dashboard")?.body ?? "";
}

/** A person edits the dashboard's text. */
function edit(world: Scenario, change: (text: string) => string): void {
  const issue = world.github.botIssue("dashboard");
  if (!issue) throw new Error("no dashboard");
  issue.body = change(issue.body);
}

describe("a dashboard whose command state block was removed", () => {
  it("holds everything after a restart: nothing opened, and the dashboard says why and what to do", async () => {
    const { world, first, dashboard } = await ready();
    world.github.comment(dashboard, "/autoscaler pause");
    await step(world, first, ["comment"]);
    expect(readControlMarker(body(world))?.paused.all).toMatchObject({ by: "alice" });
    edit(world, (text) => text.replace(BLOCK, ""));

    // A pod waits for a node while a new process starts: paused, it must not open one.
    world.cluster = cluster({ pending: 1, plex: false });
    const restarted = await step(world, world.replica());
    expect(restarted.controlUnreadable).toEqual({
      problem: "the block is missing",
      action: "held",
    });
    expect(restarted.paused).toBe(true);
    expect(restarted.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "paused" }),
    ]);
    expect(world.github.openPulls()).toEqual([]);
    // Planning goes on, and the dashboard shows it with the hold.
    expect(restarted.dashboard).toBe("updated");
    expect(body(world)).toContain(`> ${HELD}`);
    expect(body(world)).toContain("and the block is missing.");
    expect(body(world)).toContain("`/autoscaler resume` restores normal work");
    expect(body(world)).toContain("| workers |");
    // No valid block is written while held.
    expect(readControlMarker(body(world))).toBeUndefined();

    const later = await step(world, world.replica());
    expect(later.pullRequests).toEqual([expect.objectContaining({ action: "paused" })]);
    expect(world.github.openPulls()).toEqual([]);
  });

  it("writes a fresh block once someone resumes, forgetting what it held, and works again", async () => {
    const { world, first, dashboard } = await ready();
    world.github.comment(dashboard, "/autoscaler pause workers");
    await step(world, first, ["comment"]);
    edit(world, (text) => text.replace(BLOCK, ""));
    const process = world.replica();
    await step(world, process);

    const resume = world.github.comment(dashboard, "/autoscaler resume");
    world.cluster = cluster({ pending: 1, plex: false });
    const resumed = await step(world, process, ["comment"]);
    expect(resumed.commands).toEqual([
      expect.objectContaining({ commentId: resume, outcome: "obeyed" }),
    ]);
    expect(reactions(world, resume)).toEqual(["+1"]);
    expect(replies(world, dashboard)).toEqual([
      expect.stringContaining(
        'The command state of the dashboard could not be read (the block is missing): it is written anew now, and the pauses, requested counts, ignored changes and "no"s it held are forgotten.',
      ),
    ]);
    expect(resumed.paused).toBe(false);
    expect(resumed.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "created" }),
    ]);
    const state = readControlMarker(body(world));
    expect(state?.paused).toEqual({ pools: {} });
    expect(state?.lastComment).toBe(resume);
    expect(body(world)).not.toContain(HELD);
    // A restart now reads the block again, and is not held.
    const restarted = await step(world, world.replica());
    expect(restarted.controlUnreadable).toBeUndefined();
    expect(restarted.paused).toBe(false);
  });
});

describe("a dashboard whose command state block does not parse", () => {
  it("is held, and the block is written back as it was, so people can mend it", async () => {
    const { world, first, dashboard } = await ready();
    world.github.comment(dashboard, "/autoscaler pause workers");
    await step(world, first, ["comment"]);
    edit(world, (text) => text.replace('"version":1,', '"version":1,,'));
    const broken = BLOCK.exec(body(world))?.[0];

    world.cluster = cluster({ pending: 1, plex: false });
    const restarted = await step(world, world.replica());
    expect(restarted.controlUnreadable?.action).toBe("held");
    expect(restarted.controlUnreadable?.problem).toMatch(/^its JSON does not parse \(/);
    expect(world.github.openPulls()).toEqual([]);
    expect(body(world)).toContain(HELD);
    expect(BLOCK.exec(body(world))?.[0]).toBe(broken);
  });

  it("takes the block back when people mend it, with everything it held", async () => {
    const { world, first, dashboard } = await ready();
    world.github.comment(dashboard, "/autoscaler pause workers");
    await step(world, first, ["comment"]);
    const good = BLOCK.exec(body(world))?.[0] ?? "";
    edit(world, (text) => text.replace('"version":1,', '"version":"one",'));
    const process = world.replica();
    const held = await step(world, process);
    expect(held.controlUnreadable?.problem).toBe(
      "its JSON does not hold a command state (`version`: Invalid input: expected 1)",
    );

    // Put back from the issue's edit history; seen at the next look for comments.
    edit(world, (text) => text.replace(BLOCK, good));
    world.cluster = cluster({ pending: 1, plex: false });
    const mended = await step(world, process, ["comment"]);
    expect(mended.paused).toBe(false);
    expect(mended.pullRequests).toEqual([expect.objectContaining({ action: "paused" })]);
    expect(readControlMarker(body(world))?.paused.pools.workers).toMatchObject({ by: "alice" });
    expect(body(world)).not.toContain(HELD);
  });
});

describe("comments around the damage", () => {
  it("does not take again those taken before, and takes those written after", async () => {
    const { world, first, dashboard } = await ready();
    world.github.comment(dashboard, "/autoscaler pause");
    await step(world, first, ["comment"]);
    // Taken before the damage: taken again, it would end the hold.
    const before = world.github.comment(dashboard, "/autoscaler resume");
    await step(world, first, ["comment"]);
    expect(readIssueMarker(body(world))?.lastComment).toBe(before);
    edit(world, (text) => text.replace(BLOCK, ""));
    // Written after the damage, while no process ran.
    const after = world.github.comment(dashboard, "/autoscaler scale workers=5");

    const restarted = await step(world, world.replica());
    expect(restarted.commands.map((c) => [c.commentId, c.outcome])).toEqual([[after, "obeyed"]]);
    expect(reactions(world, before)).toEqual(["+1"]);
    expect(reactions(world, after)).toEqual(["+1"]);
    expect(replies(world, dashboard)).toEqual([
      "@alice workers is paused: the 5 nodes asked for are proposed after `/autoscaler resume`.\n\n" +
        `<!-- pr-autoscaler:reply {"comment":"${after}"} -->`,
    ]);
    expect(restarted.paused).toBe(true);
    expect(world.github.openPulls()).toEqual([]);
    // Still held, the dashboard keeps the last comment it recorded: a process started now takes
    // the later comment again, to the same end, and answers it no second time.
    expect(readIssueMarker(body(world))?.lastComment).toBe(before);
    const again = await step(world, world.replica());
    expect(again.commands.map((c) => c.commentId)).toEqual([after]);
    expect(replies(world, dashboard)).toHaveLength(1);

    const resume = world.github.comment(dashboard, "/autoscaler resume");
    const resumed = await step(world, world.replica());
    expect(resumed.commands.map((c) => c.commentId)).toEqual([after, resume]);
    expect(world.github.openPulls().map((p) => p.title)).toEqual([
      "Scale workers from 3 to 5 nodes",
    ]);
    const state = readControlMarker(body(world));
    expect(state?.scale.workers).toMatchObject({ by: "alice", count: 5 });
    expect(state?.lastComment).toBe(resume);
    expect(readIssueMarker(body(world))?.lastComment).toBe(resume);
  });

  it("takes every comment made before it looked as history on a dashboard that recorded no last comment", async () => {
    const { world, first, dashboard } = await ready();
    const resume = world.github.comment(dashboard, "/autoscaler resume");
    await step(world, first, ["comment"]);
    // As a version that kept the last comment only in the block wrote it, then the block lost.
    edit(world, (text) =>
      text
        .replace(BLOCK, "")
        .replace(
          /<!-- pr-autoscaler:issue [^\n]*-->/,
          '<!-- pr-autoscaler:issue {"key":"dashboard"} -->',
        ),
    );
    const restarted = await step(world, world.replica());
    expect(restarted.controlUnreadable?.action).toBe("held");
    expect(restarted.commands).toEqual([]);
    expect(restarted.paused).toBe(true);
    expect(readIssueMarker(body(world))?.lastComment).toBeGreaterThanOrEqual(resume);
  });
});

describe("a process that has the command state in memory", () => {
  it("keeps it and writes it back; the one held takes it from the dashboard", async () => {
    const { world, first: a, dashboard } = await ready();
    world.github.comment(dashboard, "/autoscaler pause workers");
    await step(world, a, ["comment"]);
    edit(world, (text) => text.replace(BLOCK, ""));
    // A new replica finds no block and holds everything; it writes the dashboard unreadable.
    const b = world.replica();
    expect((await step(world, b)).controlUnreadable?.action).toBe("held");
    expect(readControlMarker(body(world))).toBeUndefined();

    // A, which wrote the state, has something to write: its state is not overwritten with
    // nothing, and goes back on the dashboard.
    world.cluster = cluster({ pending: 1, plex: false });
    const kept = await step(world, a);
    expect(kept.controlUnreadable).toEqual({ problem: "the block is missing", action: "kept" });
    expect(kept.notes.map((n) => n.message)).toContain(
      "the command state on the dashboard could not be read (the block is missing): this process's own is written back, with the comments since its last one taken again",
    );
    expect(kept.pullRequests).toEqual([expect.objectContaining({ action: "paused" })]);
    expect(readControlMarker(body(world))?.paused.pools.workers).toMatchObject({ by: "alice" });
    expect(body(world)).not.toContain(HELD);

    // B takes it at its next look for comments: the pool's pause, not a hold of everything.
    const taken = await step(world, b, ["comment"]);
    expect(taken.paused).toBe(false);
    expect(taken.pullRequests).toEqual([expect.objectContaining({ action: "paused" })]);
    expect(world.github.openPulls()).toEqual([]);
  });

  it("takes again the comments another process took since, so a pause it did not see holds", async () => {
    const { world, first: a, dashboard } = await ready();
    const b = world.replica();
    await step(world, b);
    // B takes a pause that A, whose memory is behind, never read.
    world.github.comment(dashboard, "/autoscaler pause");
    await step(world, b, ["comment"]);
    edit(world, (text) => text.replace(BLOCK, ""));

    world.cluster = cluster({ pending: 1, plex: false });
    const behind = await step(world, a);
    expect(behind.controlUnreadable?.action).toBe("kept");
    expect(behind.paused).toBe(true);
    expect(behind.pullRequests).toEqual([expect.objectContaining({ action: "paused" })]);
    expect(world.github.openPulls()).toEqual([]);
    expect(readControlMarker(body(world))?.paused.all).toMatchObject({ by: "alice" });
  });
});

describe("a repository whose configuration is removed while its block is unreadable", () => {
  it("closes the dashboard still holding everything, and stays held when the file is back", async () => {
    const world = scenario({ cluster: cluster({ pending: 0, plex: false }) });
    world.github.push({ [CONFIG_PATH]: NODES_ONLY_CONFIG });
    world.github.permissions.set("alice", "write");
    await world.run();
    const dashboard = world.github.botIssue("dashboard")?.number ?? 0;
    world.github.comment(dashboard, "/autoscaler pause");
    await world.run(undefined, ["comment"]);
    edit(world, (text) => text.replace(BLOCK, ""));

    world.github.push({ [CONFIG_PATH]: null });
    const process = world.replica();
    const removed = await step(world, process, ["push"]);
    expect(removed.status).toBe("no-config");
    expect(removed.controlUnreadable?.action).toBe("held");
    expect(world.github.issues.get(dashboard)?.state).toBe("closed");
    expect(readControlMarker(body(world))).toBeUndefined();

    world.github.push({ [CONFIG_PATH]: NODES_ONLY_CONFIG });
    world.cluster = cluster({ pending: 1, plex: false });
    for (const target of [process, world.replica()]) {
      const back = await step(world, target, ["push"]);
      expect(back.status).toBe("ok");
      expect(back.paused).toBe(true);
      expect(world.github.openPulls()).toEqual([]);
    }
    expect(body(world)).toContain(HELD);
  });
});
