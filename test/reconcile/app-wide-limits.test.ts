import { describe, expect, it } from "@jest/globals";
import type { Proposal } from "../../src/planning/proposal.ts";
import type { Snapshot } from "../../src/planning/snapshot.ts";
import type { ReconcileResult } from "../../src/reconcile/reconcile-types.ts";
import {
  createRepositoryLedger,
  type RepositoryLedger,
} from "../../src/reconcile/repository-ledger.ts";
import { cluster, infraFiles } from "./support/infra.ts";
import { infraWithSelector, type Repositories, repositories } from "./support/repositories.ts";

const HOME = "alice-homelab/infra";
const ORG = "homelab-org/cluster";

/** The cluster with two workers labelled `pool=home` and the third `pool=org`. */
function labelled(snapshot: Snapshot): Snapshot {
  return {
    ...snapshot,
    nodes: snapshot.nodes.map((node, i) =>
      node.controlPlane
        ? node
        : { ...node, labels: { ...node.labels, pool: i < 2 ? "home" : "org" } },
    ),
  };
}

/** Two repositories, each with a pool of its own nodes, both wanting a node. */
function twoRepositories(settings: { maxOpen?: number; maxPerHour?: number }) {
  return repositories(
    { [HOME]: infraWithSelector("home", 2), [ORG]: infraWithSelector("org", 1) },
    { cluster: labelled(cluster({ pending: 1, plex: false })), settings },
  );
}

/** The outcomes of proposals (a merged pull request's branch deleted left out). */
function proposed(result: ReconcileResult) {
  return result.pullRequests.filter((o) => o.action !== "branch-deleted");
}

/** Both repositories reconciled side by side: one opens its pull request, the other waits. */
async function firstRound(world: Repositories, ledger: RepositoryLedger) {
  const results = await Promise.all([world.run(HOME, ledger), world.run(ORG, ledger)]);
  const [holder, waiter] = world.github(HOME).openPulls().length === 1 ? [HOME, ORG] : [ORG, HOME];
  const waited = results.find((result) => result.repository === waiter);
  expect(waited?.pullRequests.map((o) => [o.key, o.action])).toEqual([
    ["nodes-workers", "deferred"],
  ]);
  expect(world.github(holder).openPulls()).toHaveLength(1);
  return { holder, waiter };
}

/** The limits of a repository with nothing open, at the clock's time. */
function limits(world: Repositories) {
  return {
    maxOpen: 1,
    maxPerHour: 10,
    maxOpenResources: undefined,
    open: [],
    recentlyClosed: [],
    now: world.github(HOME).now(),
  };
}

function open(world: Repositories, name: string): string[] {
  return world
    .github(name)
    .openPulls()
    .map((pull) => pull.title);
}

describe("the app-wide limits count every managed repository", () => {
  it("PR_AUTOSCALER_MAX_OPEN: one pull request in all, the other waits naming the repository that holds the room", async () => {
    const world = twoRepositories({ maxOpen: 1 });
    const ledger = createRepositoryLedger();
    ledger.manage([HOME, ORG]);
    const [home, org] = await Promise.all([world.run(HOME, ledger), world.run(ORG, ledger)]);
    const opened = [...open(world, HOME), ...open(world, ORG)];
    expect(opened).toHaveLength(1);
    const [waiting, holder] = open(world, HOME).length === 1 ? [ORG, HOME] : [HOME, ORG];
    const deferred = (waiting === ORG ? org : home).pullRequests.filter(
      (o) => o.action === "deferred",
    );
    expect(deferred.map((o) => o.key)).toEqual(["nodes-workers"]);
    expect(deferred[0]?.note).toBe(
      `1 pull requests of pr-autoscaler are open, at most 1 (PR_AUTOSCALER_MAX_OPEN); 1 of them in other repositories: ${holder} (1)`,
    );
    const dashboard = world.github(waiting).botIssue("dashboard")?.body ?? "";
    expect(dashboard).toContain(`waits, 1 pull requests of pr-autoscaler are open, at most 1`);
    expect(dashboard).toContain(`in other repositories: ${holder} (1)`);
    // The waiting proposal still counts as wanted (the metrics show it).
    expect((waiting === ORG ? org : home).proposals.map((p) => p.key)).toEqual(["nodes-workers"]);
  });

  it("PR_AUTOSCALER_MAX_PER_HOUR: a pull request another repository opened in the hour counts", async () => {
    const world = twoRepositories({ maxPerHour: 1 });
    const ledger = createRepositoryLedger();
    ledger.manage([HOME, ORG]);
    const { holder, waiter } = await firstRound(world, ledger);
    // Merged at once: nothing is open, but it was opened within the hour.
    world.github(holder).mergePull(1);
    const again = await world.run(waiter, ledger);
    expect(again.pullRequests.map((o) => [o.key, o.action, o.note])).toEqual([
      [
        "nodes-workers",
        "deferred",
        `1 pull requests opened in the last hour, at most 1 (PR_AUTOSCALER_MAX_PER_HOUR); 1 of them in other repositories: ${holder} (1)`,
      ],
    ]);
    world.advance(61 * 60_000);
    const later = await world.run(waiter, ledger);
    expect(later.pullRequests.map((o) => [o.key, o.action])).toEqual([
      ["nodes-workers", "created"],
    ]);
  });

  it("gives freed room to the proposal that waited longest, wherever it waits", async () => {
    const world = twoRepositories({ maxOpen: 1, maxPerHour: 10 });
    const ledger = createRepositoryLedger();
    ledger.manage([HOME, ORG]);
    const { holder, waiter } = await firstRound(world, ledger);
    // The holder's change merges, and a right-sizing change appears in both repositories: the
    // holder asks first, but the other repository's node change has waited longer.
    world.github(holder).mergePull(1);
    world.advance(60_000);
    world.cluster = labelled(cluster({ pending: 1 }));
    const first = await world.run(holder, ledger);
    expect(proposed(first).map((o) => [o.key, o.action, o.note])).toEqual([
      [
        "resources-media-plex",
        "deferred",
        `the room left under PR_AUTOSCALER_MAX_OPEN (1) and PR_AUTOSCALER_MAX_PER_HOUR (10) goes first to changes that have waited longer in ${waiter}`,
      ],
    ]);
    expect(world.github(holder).botIssue("dashboard")?.body).toContain(
      `goes first to changes that have waited longer in ${waiter}`,
    );
    world.advance(60_000);
    const second = await world.run(waiter, ledger);
    expect(second.pullRequests.map((o) => [o.key, o.action])).toEqual([
      ["nodes-workers", "created"],
      ["resources-media-plex", "deferred"],
    ]);
    // Now the holder's right-sizing change is the oldest waiting: it gets the next room.
    const opened = world.github(waiter).openPulls()[0];
    world.github(waiter).mergePull(opened?.number ?? 0);
    world.advance(60_000);
    // Each repository counts what the other showed at its last reconcile: the merge frees the
    // room once the repository it happened in was read again.
    const waiterAgain = await world.run(waiter, ledger);
    expect(proposed(waiterAgain).map((o) => [o.key, o.action, o.note])).toEqual([
      [
        "resources-media-plex",
        "deferred",
        `the room left under PR_AUTOSCALER_MAX_OPEN (1) and PR_AUTOSCALER_MAX_PER_HOUR (10) goes first to changes that have waited longer in ${holder}`,
      ],
    ]);
    const holderAgain = await world.run(holder, ledger);
    expect(proposed(holderAgain).map((o) => [o.key, o.action])).toEqual([
      ["resources-media-plex", "created"],
    ]);
  });

  it("counts the repository's pull requests after the run's closes: room one frees opens another in the same run", async () => {
    const world = repositories(
      { [HOME]: infraFiles() },
      { cluster: cluster({ pending: 0 }), settings: { maxOpen: 1 } },
    );
    const ledger = createRepositoryLedger({ waitMs: 50 });
    ledger.manage([HOME, ORG]);
    // The proposals HOME asks room for: below, the other repository asks for room with one.
    const wanted: Proposal[] = [];
    const admit = ledger.admit;
    ledger.admit = (repository, candidates, input, unknown) => {
      wanted.push(...candidates);
      return admit(repository, candidates, input, unknown);
    };
    // The other repository answered with nothing open: the one pull request allowed is HOME's.
    ledger.begin(ORG);
    ledger.end(ORG);
    const first = await world.run(HOME, ledger);
    expect(proposed(first).map((o) => [o.key, o.action])).toEqual([
      ["resources-media-plex", "created"],
    ]);
    // Plex is gone (its right-sizing change is no longer wanted) and a pod waits for a node.
    world.advance(60_000);
    world.cluster = cluster({ pending: 1, plex: false });
    const second = await world.run(HOME, ledger);
    expect(
      proposed(second)
        .map((o) => [o.key, o.action])
        .sort(),
    ).toEqual([
      ["nodes-workers", "created"],
      ["resources-media-plex", "closed"],
    ]);
    expect(open(world, HOME)).toEqual([expect.stringContaining("workers")]);
    // The other repository sees the room taken by the pull request opened, not the one closed.
    const asked = ledger.admit(ORG, wanted.slice(0, 1), limits(world), []);
    expect(asked.deferred.map((d) => d.reason)).toEqual([
      `1 pull requests of pr-autoscaler are open, at most 1 (PR_AUTOSCALER_MAX_OPEN); 1 of them in other repositories: ${HOME} (1)`,
    ]);
  });

  it("opens nothing new while another managed repository's pull requests are not known", async () => {
    const world = repositories(
      { [HOME]: infraFiles() },
      { cluster: cluster({ pending: 1, plex: false }) },
    );
    const asked: string[] = [];
    const ledger = createRepositoryLedger({ waitMs: 50, request: (name) => asked.push(name) });
    ledger.manage([HOME, ORG]);
    const home = await world.run(HOME, ledger);
    expect(asked).toEqual([ORG]);
    expect(home.pullRequests.map((o) => [o.action, o.note])).toEqual([
      [
        "deferred",
        `the pull requests of ${ORG} are not known yet (not read since the app started), and the limits count every repository`,
      ],
    ]);
    expect(world.github(HOME).openPulls()).toEqual([]);
    // Once it answered (a failed reconcile answers too), the room is counted again.
    ledger.begin(ORG);
    ledger.end(ORG);
    const again = await world.run(HOME, ledger);
    expect(again.pullRequests.map((o) => o.action)).toEqual(["created"]);
  });
});
