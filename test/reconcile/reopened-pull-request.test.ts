/**
 * A pull request the bot closed as unwanted, which a person reopens while the plan still does
 * not want it: the bot closes it again and says so, once per reopening, with how to ask for a
 * count by hand. Against the stateful fake GitHub, people reopening as GitHub's buttons do.
 */
import { describe, expect, it } from "@jest/globals";
import { readPullRequestMarker } from "../../src/forge/marker.ts";
import { cluster } from "./support/infra.ts";
import { type Scenario, scenario } from "./support/scenario.ts";

const BRANCH = "pr-autoscaler/nodes-workers";
const MINUTE = 60_000;

/** The bot opened #1 (3 → 4) for a pod that waited, then closed it once the pod was gone. */
async function closedByBot(): Promise<Scenario> {
  const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
  await world.run();
  world.cluster = cluster({ pending: 0, plex: false });
  world.github.advance(MINUTE);
  const closing = await world.run();
  expect(closing.pullRequests).toEqual([
    expect.objectContaining({ key: "nodes-workers", action: "closed", number: 1 }),
  ]);
  expect(botComments(world)).toHaveLength(1);
  return world;
}

/** GitHub's "Restore branch", then "Reopen pull request". */
function reopen(world: Scenario): void {
  const pull = world.github.pull(1);
  world.github.git.branches.set(BRANCH, pull.headSha);
  pull.state = "open";
  pull.closedAt = null;
}

function botComments(world: Scenario): string[] {
  return world.github
    .commentsOn(1)
    .filter((comment) => comment.bot)
    .map((comment) => comment.body);
}

describe("a pull request the bot closed, reopened by a person", () => {
  it("is closed again with a comment saying why and how to ask for a count", async () => {
    const world = await closedByBot();
    const [first] = botComments(world);
    reopen(world);
    world.github.advance(MINUTE);
    const result = await world.run();

    expect(result.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "closed", number: 1 }),
    ]);
    expect(world.github.pull(1).state).toBe("closed");
    const said = botComments(world);
    expect(said).toHaveLength(2);
    const again = said[1] ?? "";
    expect(again).toMatch(/^This pull request was reopened, and pr-autoscaler closes it again\. /);
    // The current reason, as the first close gave it.
    const reason = (first ?? "").split("\n\n")[0] ?? "";
    expect(reason).toMatch(/^The plan no longer wants this change: /);
    expect(again).toContain(reason);
    expect(again).toContain("`/autoscaler scale workers=N`");
    const marker = readPullRequestMarker(world.github.pull(1).body);
    expect(marker).toMatchObject({ closedBy: "bot", reopened: 1 });
  });

  it("says it once: not again on later reconciles, nor after a restart", async () => {
    const world = await closedByBot();
    reopen(world);
    world.github.advance(MINUTE);
    await world.run();
    expect(botComments(world)).toHaveLength(2);

    for (let i = 0; i < 3; i++) {
      world.github.advance(MINUTE);
      await world.run();
    }
    world.github.advance(MINUTE);
    await world.run(world.replica());
    expect(botComments(world)).toHaveLength(2);
    expect(world.github.pull(1).state).toBe("closed");
  });

  it("says it again when reopened again", async () => {
    const world = await closedByBot();
    reopen(world);
    world.github.advance(MINUTE);
    await world.run();
    reopen(world);
    world.github.advance(MINUTE);
    await world.run(world.replica());

    const said = botComments(world);
    expect(said).toHaveLength(3);
    expect(said[2]).toMatch(
      /^This pull request was reopened, and pr-autoscaler closes it again\. /,
    );
    expect(readPullRequestMarker(world.github.pull(1).body)).toMatchObject({
      closedBy: "bot",
      reopened: 2,
    });
    expect(world.github.pull(1).state).toBe("closed");
  });
});
