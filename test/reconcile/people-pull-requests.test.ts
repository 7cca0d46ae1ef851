/**
 * People's own pull requests that change a pool's count: while one is open, the bot proposes
 * nothing new for the pool and leaves its own pull request as it is (docs/app.md, "People's own
 * pull requests").
 */
import { describe, expect, it } from "@jest/globals";
import { createDryRunForge } from "../../src/forge/dry-run/dry-run-forge.ts";
import { reconcile } from "../../src/reconcile/reconcile.ts";
import { BOT_LOGIN } from "./support/fake-github.ts";
import { cluster, TFVARS, tfvars } from "./support/infra.ts";
import { scenario } from "./support/scenario.ts";

const MINUTE = 60_000;

/** A world whose cluster wants a fourth worker, with a person's branch setting `count`. */
function withPersonsBranch(count: number, extra = "") {
  const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
  world.github.branch("workers");
  world.github.push(
    { [TFVARS]: `${tfvars(count)}${extra}` },
    { branch: "workers", message: "Workers" },
  );
  return world;
}

describe("a person's open pull request that changes a pool's count", () => {
  it("holds the pool: nothing new opens, the dashboard says which pull request, and it costs no read while its head stays", async () => {
    const world = withPersonsBranch(5);
    const theirs = world.github.openPull("workers", "Five workers for the import");
    const HELD = `#${theirs.number} by alice changes worker_count 3 → 5; nothing new while it is open`;
    const first = await world.run();
    expect(first.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "deferred", note: HELD }),
    ]);
    expect(world.github.openPulls().map((pull) => pull.number)).toEqual([theirs.number]);
    expect(world.github.botIssue("dashboard")?.body).toContain(HELD);
    expect(world.github.commentsOn(theirs.number)).toEqual([]);

    world.github.advance(MINUTE);
    world.github.reset();
    const again = await world.run();
    expect(again.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "deferred", note: HELD }),
    ]);
    const reads = (call: string) => /^GET \/(contents|compare)\//.test(call);
    expect(world.github.calls().filter(reads)).toEqual([]);

    // Its head moves: read once more, at the new head.
    world.github.push({ [TFVARS]: tfvars(6) }, { branch: "workers", message: "Six" });
    world.github.advance(MINUTE);
    world.github.reset();
    const moved = await world.run();
    expect(moved.pullRequests).toEqual([
      expect.objectContaining({
        key: "nodes-workers",
        action: "deferred",
        note: `#${theirs.number} by alice changes worker_count 3 → 6; nothing new while it is open`,
      }),
    ]);
    // Its head and the commit it left the default branch at: the latter was read already.
    expect(world.github.calls().filter(reads)).toEqual([
      `GET /contents/${TFVARS}`,
      expect.stringMatching(/^GET \/compare\//),
    ]);

    // Once it merges, the count is theirs and the plan goes on from it.
    world.github.mergePull(theirs.number);
    world.github.advance(MINUTE);
    const after = await world.run();
    expect(
      after.pullRequests.filter((o) => o.note?.includes(`#${theirs.number} by alice`)),
    ).toEqual([]);
    expect(world.github.file(TFVARS)).toBe(tfvars(6));
  });

  it("leaves the bot's open pull request for the pool as it is, and closes nothing", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    await world.run();
    const ours = world.github.pull(1);
    expect(ours.title).toBe("Scale workers from 3 to 4 nodes");
    const headBefore = ours.headSha;
    world.github.branch("workers");
    world.github.push({ [TFVARS]: tfvars(5) }, { branch: "workers", message: "Five" });
    const theirs = world.github.openPull("workers", "Five workers");
    world.github.advance(MINUTE);
    world.cluster = cluster({ pending: 2, plex: false });
    const held = await world.run();
    expect(held.pullRequests).toEqual([
      expect.objectContaining({
        key: "nodes-workers",
        action: "left-alone",
        number: 1,
        note: `#${theirs.number} by alice changes worker_count 3 → 5; nothing new while it is open`,
      }),
    ]);
    // Not updated to 3 → 5 for the second pod: it would fight theirs.
    expect(world.github.pull(1).headSha).toBe(headBefore);
    expect(world.github.pull(1).title).toBe("Scale workers from 3 to 4 nodes");
    expect(world.github.pull(1).state).toBe("open");
    const touched = world.github.commentsOn(theirs.number).filter((c) => c.login === BOT_LOGIN);
    expect(touched).toEqual([]);
  });

  it("holds it for a draft too, saying it is a draft and that closing it releases the pool", async () => {
    const world = withPersonsBranch(5);
    const theirs = world.github.openPull("workers", "Five workers, maybe");
    theirs.draft = true;
    const HELD = `draft #${theirs.number} by alice changes worker_count 3 → 5; nothing new while it is open, closing it releases the pool`;
    const held = await world.run();
    expect(held.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "deferred", note: HELD }),
    ]);
    expect(world.github.botIssue("dashboard")?.body).toContain(HELD);

    world.github.closePull(theirs.number);
    world.github.advance(MINUTE);
    const released = await world.run();
    expect(released.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "created" }),
    ]);
  });

  /**
   * A person's pull request setting workers to 5 is open when bob asks for `count` on the
   * dashboard: the pool is deferred with the hold's note and only their pull request is open.
   * Gives the bot's replies (first paragraphs) with the hold's note.
   */
  async function askWhileHeld(count: number) {
    const world = withPersonsBranch(5);
    world.github.permissions.set("bob", "write");
    const theirs = world.github.openPull("workers", "Five workers for the import");
    await world.run();
    const dashboard = world.github.botIssue("dashboard")?.number ?? 0;
    world.github.comment(dashboard, `/autoscaler scale workers=${count}`, "bob");
    world.github.advance(MINUTE);
    const asked = await world.run(undefined, ["comment"]);
    const HELD = `#${theirs.number} by alice changes worker_count 3 → 5; nothing new while it is open`;
    expect(asked.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "deferred", note: HELD }),
    ]);
    expect(world.github.openPulls().map((pull) => pull.number)).toEqual([theirs.number]);
    const replies = world.github
      .commentsOn(dashboard)
      .filter((c) => c.login === BOT_LOGIN)
      .map((c) => c.body.split("\n\n")[0]);
    return { world, theirs, HELD, replies };
  }

  it("holds a count asked for with /autoscaler scale, and the reply says which pull request it waits for", async () => {
    const { world, theirs, HELD, replies } = await askWhileHeld(6);
    expect(replies).toEqual([
      `@bob workers is held by a person's pull request (${HELD}): the 6 nodes asked for are proposed once it is merged or closed.`,
    ]);

    // Closed unmerged: the count asked for is proposed.
    world.github.closePull(theirs.number);
    world.github.advance(MINUTE);
    const released = await world.run();
    expect(released.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "created" }),
    ]);
    expect(world.github.openPulls()[0]?.title).toBe("Scale workers from 3 to 6 nodes");
  });

  it("says so when the count asked for is the one the person's pull request already sets", async () => {
    const { HELD, replies } = await askWhileHeld(5);
    expect(replies).toEqual([
      `@bob workers is held by a person's pull request (${HELD}), which already sets the 5 nodes asked for: they come once it is merged, and are proposed if it is closed unmerged.`,
    ]);
  });

  it("does not hold when it changes the file but not the count", async () => {
    const world = withPersonsBranch(3, "# a comment\n");
    world.github.openPull("workers", "Comment the workers");
    const run = await world.run();
    expect(run.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "created" }),
    ]);
  });

  it("does not hold when its branch only lags behind a count the default branch changed since", async () => {
    // Branched at 3, opened once the default branch had 4: GitHub's base commit has 4 too.
    const world = withPersonsBranch(3, "# a comment\n");
    world.github.push({ [TFVARS]: tfvars(4) }, { message: "Four workers" });
    world.github.openPull("workers", "Comment the workers");
    world.github.advance(10 * MINUTE);
    world.cluster = cluster({ workers: 4, pending: 1, plex: false });
    const run = await world.run();
    expect(run.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "created" }),
    ]);
  });

  it("in a dry run over GitHub, does not hold for a branch that only lags behind either", async () => {
    // Branched at 3, opened once the default branch had 4: only the comparison tells it lags.
    const world = withPersonsBranch(3, "# a comment\n");
    world.github.push({ [TFVARS]: tfvars(4) }, { message: "Four workers" });
    world.github.openPull("workers", "Comment the workers");
    world.github.advance(10 * MINUTE);
    world.cluster = cluster({ workers: 4, pending: 1, plex: false });
    const { github: _side, ...app } = world.replica();
    const forge = createDryRunForge({ base: app.forge, state: await app.forge.readState() });
    const run = await reconcile({ ...app, forge }, ["timer"]);
    expect(run.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "created" }),
    ]);
    expect(forge.actions).toContainEqual(
      expect.objectContaining({
        kind: "open-pull-request",
        title: "Scale workers from 4 to 5 nodes",
      }),
    );
  });

  it("from a fork whose head cannot be read, holds nothing and says so", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    world.github.branch("fork-workers");
    const pull = world.github.openPull("fork-workers", "Five workers", "mallory");
    pull.headRepo = "mallory/infra";
    pull.headSha = "f".repeat(40);
    const run = await world.run();
    expect(run.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "created" }),
    ]);
    expect(run.notes.map((note) => note.message)).toContain(
      `Pull request #${pull.number} by mallory holds nothing for pool workers: worker_count of ${TFVARS} cannot be read at the head of its fork (fffffff), so whether it changes the count is not known.`,
    );
  });
});
