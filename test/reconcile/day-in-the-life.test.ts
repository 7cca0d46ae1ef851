/**
 * A day of the app on one infra repository, as an operator lives it: pods wait, a pull request
 * opens, people merge or do not, and the app follows. Each story pins what the documentation
 * promises and the other reconcile tests leave out.
 */
import { describe, expect, it } from "@jest/globals";
import { BOT_LOGIN } from "./support/fake-github.ts";
import { cluster, TFVARS, tfvars } from "./support/infra.ts";
import { scenario } from "./support/scenario.ts";

const MINUTE = 60_000;

describe("a scale-up whose pods go before it merges", () => {
  it("is updated in place while more pods wait, then closed saying the pods no longer need it", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    await world.run();
    world.github.advance(MINUTE);
    world.cluster = cluster({ pending: 2, plex: false });
    const more = await world.run();
    expect(more.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "updated", number: 1 }),
    ]);
    expect(world.github.openPulls().map((pull) => pull.number)).toEqual([1]);
    const updated = world.github.pull(1);
    expect(updated.body).toContain("| apps/batch-1 | 3 | 2 GiB | new node 2");
    expect(updated.body).toContain("**Waits for review** under rule `review-the-rest`");
    world.github.advance(MINUTE);
    world.cluster = cluster({ pending: 0, plex: false });
    const gone = await world.run();
    expect(gone.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "closed", number: 1 }),
    ]);
    expect(world.github.git.branches.has(updated.branch)).toBe(false);
    expect(world.github.commentsOn(1).map((comment) => comment.body.split("\n")[0])).toEqual([
      "The plan no longer wants this change: pool workers (terraform/terraform.tfvars worker_count): no change at 3; no pending pod needs a node of the pool any more, and no scale-up check is met.",
    ]);
    // Closed by the bot, not by people: the dashboard holds no "no" to the change.
    expect(world.github.botIssue("dashboard")?.body).not.toContain("closed without merging");
  });
});

describe("a scale-up the homelab preset leaves for review", () => {
  it("says that adding more than one node waits for a person, not only removing nodes", async () => {
    const world = scenario({ cluster: cluster({ pending: 2, plex: false }) });
    await world.run();
    const pull = world.github.pull(1);
    expect(pull.title).toBe("Scale workers from 3 to 5 nodes");
    expect(pull.body).toContain(
      "**Waits for review** under rule `review-the-rest` from `preset:homelab`.",
    );
    expect(pull.body).toContain("adding more than one node");
    expect(pull.autoMerge).toBeNull();
  });
});

describe("the homelab preset over a scale-up that grows before it merges", () => {
  it("waits for the plan guard after the grace period; once 3 → 5, a passing guard merges nothing", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    world.github.allowAutoMerge = true;
    await world.run();
    world.github.advance(10 * MINUTE);
    const graced = await world.run();
    // A check only the policy requires: nothing merges, and GitHub's auto-merge stays off.
    expect(graced.merges).toEqual([
      {
        number: 1,
        action: "waiting",
        note: "Checks: not reported yet: pr-autoscaler/plan-guard",
      },
    ]);
    expect(world.github.pull(1).autoMerge).toBeNull();
    world.github.advance(MINUTE);
    world.cluster = cluster({ pending: 2, plex: false });
    await world.run();
    const pull = world.github.pull(1);
    expect(pull.title).toBe("Scale workers from 3 to 5 nodes");
    world.github.setStatus(pull.headSha, "pr-autoscaler/plan-guard", "success");
    world.github.advance(MINUTE);
    const checked = await world.run(undefined, ["checks"]);
    expect(checked.merges.filter((merge) => merge.action === "merged")).toEqual([]);
    expect(world.github.pull(1)).toMatchObject({ state: "open", autoMerge: null });
    expect(world.github.mutations).toEqual([]);
    expect(world.github.file(TFVARS)).toBe(tfvars(3));
  });
});

describe("the cooldown after a merged scale-up", () => {
  it("opens nothing new within it, dated from the merge, and the next change once it is over", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    await world.run();
    world.github.advance(MINUTE);
    world.github.mergePull(1);
    const mergedAt = world.github.now().getTime();
    // The fourth node is Ready and runs its pod; one more pod waits for a fifth.
    world.cluster = cluster({ workers: 4, pending: 1, plex: false });
    for (let minute = 1; minute < 5; minute++) {
      world.github.advance(MINUTE);
      const result = await world.run();
      expect(result.decisions[0]?.holds).toEqual([
        {
          kind: "cooldown",
          since: new Date(mergedAt).toISOString(),
          until: new Date(mergedAt + 5 * MINUTE).toISOString(),
        },
      ]);
      expect(result.pullRequests.filter((pull) => pull.action === "created")).toEqual([]);
      expect(world.github.openPulls()).toEqual([]);
    }
    world.github.advance(MINUTE);
    const after = await world.run();
    expect(after.decisions[0]?.holds).toEqual([]);
    expect(after.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "created" }),
    ]);
    const [next] = world.github.openPulls();
    expect(next?.title).toBe("Scale workers from 4 to 5 nodes");
    expect(world.github.file(TFVARS, next?.branch)).toContain("worker_count      = 5");
  });
});

describe("a person's own pull request that sets the count", () => {
  it("holds the pool while it is open: the bot opens nothing beside it and never touches it", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    world.github.branch("five-workers");
    world.github.push({ [TFVARS]: tfvars(5) }, { branch: "five-workers", message: "Five workers" });
    const theirs = world.github.openPull("five-workers", "Five workers for the import");
    const first = await world.run();
    // Docs (app.md, "People's own pull requests"): nothing new while theirs is open.
    const held = `#${theirs.number} by alice changes worker_count 3 → 5; nothing new while it is open`;
    expect(first.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "deferred", note: held }),
    ]);
    expect(world.github.openPulls().map((pull) => pull.number)).toEqual([theirs.number]);
    expect(world.github.botIssue("dashboard")?.body).toContain(held);
    world.github.advance(MINUTE);
    world.github.mergePull(theirs.number);
    world.github.advance(MINUTE);
    const after = await world.run();
    expect(after.pullRequests.filter((outcome) => outcome.note === held)).toEqual([]);
    expect(world.github.file(TFVARS)).toBe(tfvars(5));
    const touched = world.github.commentsOn(theirs.number).filter((c) => c.login === BOT_LOGIN);
    expect(touched).toEqual([]);
    expect(world.github.pull(theirs.number).labels).toEqual([]);
  });
});
