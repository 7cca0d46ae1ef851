/**
 * Two app processes reconciling the same repository in turn, without leader election, sharing
 * the stateful fake GitHub: each keeps the command state in memory, so before writing anything
 * a process takes the state another one wrote on the dashboard since, and both converge on it.
 */
import { describe, expect, it } from "@jest/globals";
import { readControlMarker } from "../../src/control/control-state.ts";
import { commentTag } from "../../src/forge/marker.ts";
import type { ReconcileResult } from "../../src/reconcile/reconcile-types.ts";
import { BOT_LOGIN } from "./support/fake-github.ts";
import { cluster } from "./support/infra.ts";
import { type Scenario, scenario, step } from "./support/scenario.ts";

const MINUTE = 60_000;
const TAKEN = "the command state on the dashboard was newer than this process's: taken";

function control(world: Scenario) {
  return readControlMarker(world.github.botIssue("dashboard")?.body);
}

function openTitles(world: Scenario): string[] {
  return world.github.openPulls().map((pull) => `#${pull.number} ${pull.title}`);
}

function notes(result: ReconcileResult): string[] {
  return result.notes.map((note) => note.message);
}

/** Replicas A and B have both read the dashboard; alice may give commands. */
async function twoReplicas(pending: number) {
  const world = scenario({ cluster: cluster({ pending, plex: false }) });
  world.github.permissions.set("alice", "write");
  const a = world.replica();
  const b = world.replica();
  await step(world, a);
  await step(world, b);
  const dashboard = world.github.botIssue("dashboard")?.number;
  if (dashboard === undefined) throw new Error("no dashboard");
  return { world, a, b, dashboard };
}

describe("a replica whose command state is behind", () => {
  it("does not keep a lapsed no: the last writer's state wins and both converge", async () => {
    const { world, a, b } = await twoReplicas(1);
    world.github.advance(MINUTE);
    world.github.closePull(1);
    await step(world, a);
    await step(world, b);
    expect(control(world)?.rejected.workers).toMatchObject({ number: 1, from: 3, to: 4 });
    // A sees the plan want 5: the no lapses in A's state, and A opens 3 → 5.
    world.cluster = cluster({ pending: 2, plex: false });
    await step(world, a);
    expect(control(world)?.rejected).toEqual({});
    // B never saw the plan want 5; its memory still holds the no. It must not write it back.
    world.cluster = cluster({ pending: 1, plex: false });
    const behind = await step(world, b);
    expect(notes(behind)).toContain(TAKEN);
    const results: ReconcileResult[] = [];
    for (let i = 0; i < 3; i++) {
      results.push(await step(world, a));
      results.push(await step(world, b));
    }
    expect(openTitles(world)).toEqual(["#3 Scale workers from 3 to 4 nodes"]);
    expect(control(world)?.rejected).toEqual({});
    expect(results.slice(-2).map((r) => r.dashboard)).toEqual(["unchanged", "unchanged"]);
  });

  it("does not open a pull request for a pool the other replica paused", async () => {
    const { world, a, b, dashboard } = await twoReplicas(0);
    world.github.comment(dashboard, "/autoscaler pause workers");
    const paused = await step(world, a, ["comment"]);
    expect(paused.commands).toEqual([expect.objectContaining({ outcome: "obeyed" })]);
    world.cluster = cluster({ pending: 1, plex: false });
    const behind = await step(world, b);
    expect(notes(behind)).toContain(TAKEN);
    expect(behind.pullRequests).toEqual([expect.objectContaining({ action: "paused" })]);
    expect(world.github.openPulls()).toEqual([]);
    expect(control(world)?.paused.pools.workers).toMatchObject({ by: "alice" });
  });

  it("proposes the count the other replica was asked for, and takes no comment twice", async () => {
    const { world, a, b, dashboard } = await twoReplicas(0);
    world.github.comment(dashboard, "/autoscaler scale workers=5");
    await step(world, a, ["comment"]);
    const [asked] = world.github.openPulls();
    expect(asked?.title).toBe("Scale workers from 3 to 5 nodes");
    const lastComment = control(world)?.lastComment;
    // A comment webhook reaches B, whose memory still has the old last comment id.
    const behind = await step(world, b, ["comment"]);
    expect(behind.commands).toEqual([]);
    expect(world.github.reactions.filter((r) => r.content === "+1")).toHaveLength(1);
    world.cluster = cluster({ pending: 1, plex: false });
    const later = await step(world, b);
    expect(later.pullRequests).toEqual([
      expect.objectContaining({ action: "unchanged", number: asked?.number }),
    ]);
    expect(openTitles(world)).toEqual([`#${asked?.number} Scale workers from 3 to 5 nodes`]);
    expect(control(world)?.scale.workers).toMatchObject({ by: "alice", count: 5 });
    expect(control(world)?.lastComment).toBe(lastComment);
  });

  it("keeps an ignored right-sizing change out", async () => {
    const world = scenario({ cluster: cluster({ pending: 0 }) });
    world.github.permissions.set("alice", "write");
    const a = world.replica();
    const b = world.replica();
    await step(world, a);
    await step(world, b);
    const rightsizing = world.github.openPulls().find((p) => p.title.startsWith("Right-size"));
    if (!rightsizing) throw new Error("no right-sizing pull request");
    world.github.comment(rightsizing.number, "/autoscaler ignore");
    await step(world, a, ["comment"]);
    expect(world.github.pull(rightsizing.number).state).toBe("closed");
    const key = Object.keys(control(world)?.ignored ?? {});
    expect(key).toHaveLength(1);
    const results = [await step(world, b), await step(world, b)];
    expect(results.flatMap((r) => r.pullRequests).filter((o) => o.action === "created")).toEqual(
      [],
    );
    expect(Object.keys(control(world)?.ignored ?? {})).toEqual(key);
  });

  it("costs no request for it while it writes nothing", async () => {
    const { world, a, b, dashboard } = await twoReplicas(0);
    world.github.comment(dashboard, "/autoscaler pause");
    await step(world, a, ["comment"]);
    await step(world, b);
    world.github.reset();
    const idle = await step(world, b);
    expect(idle.dashboard).toBe("unchanged");
    expect(world.github.calls()).toEqual(["GET /branches/main", "GET /pulls"]);
  });

  it("leaves one reply when two replicas answer one comment at the same moment", async () => {
    const { world, a, b, dashboard } = await twoReplicas(0);
    world.github.permissions.set("mallory", "read");
    const id = world.github.comment(dashboard, "/autoscaler pause", "mallory");
    const tag = commentTag("reply", { comment: String(id) });
    // B found no reply either and posts its own while A posts: B's lands first.
    let theirs = 0;
    world.github.during("POST", new RegExp(`^/issues/${dashboard}/comments$`), () => {
      theirs = world.github.comment(dashboard, `@mallory Thank you.\n\n${tag}`, BOT_LOGIN, true);
    });
    const answered = await step(world, a, ["comment"]);
    expect(answered.commands).toEqual([expect.objectContaining({ outcome: "not-allowed" })]);
    const tagged = () =>
      world.github
        .commentsOn(dashboard)
        .filter((comment) => comment.login === BOT_LOGIN && comment.body.includes(tag))
        .map((comment) => comment.id);
    expect(tagged()).toEqual([theirs]);
    expect(
      world.github.calls().filter((call) => call.startsWith("DELETE /issues/comments/")),
    ).toEqual([`DELETE /issues/comments/${theirs + 1}`]);
    // B's own look at the comment, later, answers nothing more.
    await step(world, b, ["comment"]);
    await step(world, a, ["comment"]);
    expect(tagged()).toEqual([theirs]);
  });
});
