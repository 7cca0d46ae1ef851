/**
 * A day of the app on one infra repository, as an operator lives it: pods wait, a pull request
 * opens, people merge or do not, and the app follows. Each story pins what the documentation
 * promises and the other reconcile tests leave out.
 */
import { describe, expect, it } from "@jest/globals";
import { cluster, TFVARS } from "./support/infra.ts";
import { scenario } from "./support/scenario.ts";

const MINUTE = 60_000;

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
