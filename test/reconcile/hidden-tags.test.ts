/**
 * The hidden tags the bot puts in its comments, so that it says each thing once, count only in
 * the bot's own comments: anyone who may comment on a pull request can copy a tag, and a copy
 * posted first must not keep the bot from saying why it closes, leaves or cannot merge it.
 */

import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import { commentTag } from "../../src/forge/marker.ts";
import { BOT_LOGIN } from "./support/fake-github.ts";
import { cluster, infraFiles, WORKERS_POOL } from "./support/infra.ts";
import { type Scenario, scenario } from "./support/scenario.ts";

const BRANCH = "pr-autoscaler/nodes-workers";

/** The bot's comments on `issue` that say `text`. */
function said(world: Scenario, issue: number, text: string): string[] {
  return world.github
    .commentsOn(issue)
    .filter((c) => c.login === BOT_LOGIN && c.body.includes(text))
    .map((c) => c.body);
}

/** The node pull request #1 (3 → 4 workers), opened. */
async function opened(files = infraFiles()) {
  const world = scenario({ files, cluster: cluster({ pending: 1, plex: false }) });
  await world.run();
  expect(world.github.pull(1).state).toBe("open");
  return world;
}

describe("a copy of a hidden tag in someone else's comment", () => {
  it("does not keep the bot from saying why it closes a pull request", async () => {
    const world = await opened();
    const head = world.github.pull(1).headSha;
    world.github.comment(1, `Closing soon, I guess.\n\n${commentTag("closing", { sha: head })}`);
    // Another app's comment counts no more than a person's.
    world.github.comment(1, commentTag("closing", { sha: head }), "other-app[bot]", true);

    world.cluster = cluster({ pending: 0, plex: false });
    const result = await world.run();
    expect(result.pullRequests).toEqual([expect.objectContaining({ action: "closed" })]);
    expect(said(world, 1, "The plan no longer wants this change")).toHaveLength(1);
  });

  it("does not keep the bot from saying it leaves a pull request to people", async () => {
    const world = await opened();
    world.github.comment(1, commentTag("hands-off", { key: "nodes-workers" }), "mallory");
    world.github.push({ "notes.md": "why we need five\n" }, { branch: BRANCH });

    const result = await world.run();
    expect(result.pullRequests).toEqual([expect.objectContaining({ action: "human-edited" })]);
    expect(said(world, 1, "leaves this pull request to you")).toHaveLength(1);
    // Said once: its own comment is found again.
    await world.run(world.replica());
    expect(said(world, 1, "leaves this pull request to you")).toHaveLength(1);
  });

  it("does not keep the bot from saying GitHub refused the merge", async () => {
    const guard = "pr-autoscaler/plan-guard";
    const config = `${WORKERS_POOL}automerge:
  nativeAutoMerge: false
  rules:
    - name: nodes
      match: { kind: nodes }
      action: merge
      requiredChecks: [${guard}]
`;
    const refusals = JSON.parse(
      readFileSync(new URL("../merge/fixtures/github-refusals.json", import.meta.url), "utf8"),
    ) as { reviewRequired: string };
    const world = await opened(infraFiles({ config }));
    const head = world.github.pull(1).headSha;
    world.github.fail("PUT", /^\/pulls\/1\/merge$/, 405, refusals.reviewRequired, 1000);
    world.github.setStatus(head, guard, "success");
    world.github.comment(1, commentTag("merge-refused", { head, kind: "review" }), "mallory");

    const result = await world.run(undefined, ["checks"]);
    expect(result.merges.map((m) => m.action)).toEqual(["blocked"]);
    expect(said(world, 1, "GitHub refused to merge this pull request")).toHaveLength(1);
    // Said once: a restarted process finds its own comment.
    await world.run(world.replica(), ["checks"]);
    expect(said(world, 1, "GitHub refused to merge this pull request")).toHaveLength(1);
  });
});
