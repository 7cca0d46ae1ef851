import { describe, expect, it } from "@jest/globals";
import { type Logger, pino } from "pino";
import type { ReconcileResult } from "../../src/reconcile/reconcile-types.ts";
import {
  createRepositoryLedger,
  type RepositoryLedger,
} from "../../src/reconcile/repository-ledger.ts";
import { CONFIG_PATH, cluster, infraFiles } from "./support/infra.ts";
import { infraWithSelector, type Repositories, repositories } from "./support/repositories.ts";

const HOME = "alice-homelab/infra";
const ORG = "homelab-org/cluster";
const TITLE = "Scale workers from 3 to 4 nodes";

/** The two repositories, each with the infra files as they are, observing one cluster short of a node. */
function sharingOneCluster(first: string, second: string): Repositories {
  return repositories(
    { [first]: infraFiles(), [second]: infraFiles() },
    { cluster: cluster({ pending: 1, plex: false }) },
  );
}

/** The titles of the pull requests open in repository `name`. */
function openTitles(world: Repositories, name: string): string[] {
  return world
    .github(name)
    .openPulls()
    .map((p) => p.title);
}

/** A ledger that manages `names` from the start. */
function managing(names: string[], log?: Logger): RepositoryLedger {
  const ledger = createRepositoryLedger(log ? { log } : {});
  ledger.manage(names);
  return ledger;
}

/**
 * Reconciles `first` and `second` side by side, `first` telling the ledger what it read before
 * `second` starts: the order two reconciles of a loaded process may take.
 */
async function inOrder(
  world: Repositories,
  ledger: RepositoryLedger,
  first: string,
  second: string,
): Promise<ReconcileResult[]> {
  const publish = ledger.publish;
  let told = () => {};
  const published = new Promise<void>((resolve) => {
    told = resolve;
  });
  ledger.publish = (repository, facts) => {
    publish(repository, facts);
    if (repository === first) told();
  };
  const running = world.run(first, ledger);
  await Promise.race([published, running]);
  return Promise.all([running, world.run(second, ledger)]);
}

function logged() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

describe("two repositories configuring pools that select the same nodes of the one cluster", () => {
  it("the first claim keeps the pool (at start: by name); the other is held, says so, and opens nothing", async () => {
    const world = sharingOneCluster(HOME, ORG);
    const { log, lines } = logged();
    const ledger = managing([HOME, ORG], log);
    const [home, org] = await Promise.all([world.run(HOME, ledger), world.run(ORG, ledger)]);
    expect(openTitles(world, HOME)).toEqual([TITLE]);
    expect(world.github(ORG).openPulls()).toEqual([]);
    expect(home.pullRequests.map((o) => o.action)).toEqual(["created"]);
    expect(org.pullRequests).toEqual([]);
    expect(org.proposals).toEqual([]);
    expect(org.decisions.map((d) => [d.pool, d.action, d.desired])).toEqual([
      ["workers", "none", 3],
    ]);
    expect(org.notes.filter((note) => note.level === "warning")).toEqual([
      expect.objectContaining({ subject: "pool/workers", pool: "workers" }),
    ]);
    const dashboard = world.github(ORG).botIssue("dashboard")?.body ?? "";
    expect(dashboard).toContain("## Pools another repository manages");
    expect(dashboard).toContain(
      `\`workers\` is held: the nodes of pool \`workers\` (talos-worker-0, talos-worker-1, talos-worker-2) are also selected by pool \`workers\` of ${HOME}, which claimed them first and manages them`,
    );
    expect(dashboard).not.toContain("## Right-sizing and other notes");
    expect(world.github(HOME).botIssue("dashboard")?.body).not.toContain("another repository");
    // Said once at warn, not at every reconcile.
    await world.run(ORG, ledger);
    const warnings = lines.filter((line) => line.level === 40);
    expect(warnings).toEqual([
      expect.objectContaining({
        repository: ORG,
        held: [
          {
            pool: "workers",
            nodes: ["talos-worker-0", "talos-worker-1", "talos-worker-2"],
            by: [{ repository: HOME, pools: ["workers"] }],
          },
        ],
      }),
    ]);
  });

  it("the held repository takes over once the other one drops its configuration", async () => {
    const world = sharingOneCluster(HOME, ORG);
    const { log, lines } = logged();
    const ledger = managing([HOME, ORG], log);
    await Promise.all([world.run(HOME, ledger), world.run(ORG, ledger)]);
    world.github(HOME).push({ [CONFIG_PATH]: null });
    expect((await world.run(HOME, ledger)).status).toBe("no-config");
    expect(world.github(HOME).openPulls()).toEqual([]);
    const org = await world.run(ORG, ledger);
    expect(org.pullRequests.map((o) => o.action)).toEqual(["created"]);
    expect(openTitles(world, ORG)).toEqual([TITLE]);
    expect(world.github(ORG).botIssue("dashboard")?.body).not.toContain("another repository");
    expect(lines.map((line) => line.msg)).toContain("pool no longer held by another repository");
  });

  // The two reconciles run side by side; which of them tells the ledger first must not matter.
  it.each([
    [HOME, ORG],
    [ORG, HOME],
  ])(
    "after a restart, the repository whose pull request for the nodes is older keeps them; the other's is closed saying why (%s read first)",
    async (first, second) => {
      const world = sharingOneCluster(HOME, ORG);
      // An earlier version opened one in each, the organisation's first.
      await world.run(ORG);
      world.advance(60_000);
      await world.run(HOME);
      const stale = world.github(HOME).openPulls()[0];
      world.advance(60_000);
      const ledger = managing([HOME, ORG]);
      world.target(HOME, true);
      world.target(ORG, true);
      const results = await inOrder(world, ledger, first, second);
      const home = results.find((result) => result.repository === HOME);
      expect(home?.pullRequests.map((o) => [o.key, o.action, o.number])).toEqual([
        ["nodes-workers", "closed", stale?.number],
      ]);
      expect(world.github(HOME).openPulls()).toEqual([]);
      expect(openTitles(world, ORG)).toEqual([TITLE]);
      const comments = world
        .github(HOME)
        .commentsOn(stale?.number ?? 0)
        .map((c) => c.body);
      expect(comments).toContainEqual(
        expect.stringContaining(`are also selected by pool \`workers\` of ${ORG}`),
      );
    },
  );

  it("a repository configured later is held, whatever its name", async () => {
    const early = "zeta/infra";
    const world = sharingOneCluster(early, HOME);
    const ledger = managing([early]);
    await world.run(early, ledger);
    ledger.manage([early, HOME]);
    world.advance(60_000);
    const home = await world.run(HOME, ledger);
    expect(home.pullRequests).toEqual([]);
    expect(world.github(early).openPulls()).toHaveLength(1);
    expect(world.github(HOME).botIssue("dashboard")?.body).toContain(
      `of ${early}, which claimed them first`,
    );
  });

  it("pools selecting different nodes are not held", async () => {
    const snapshot = cluster({ pending: 1, plex: false });
    const world = repositories(
      { [HOME]: infraWithSelector("home", 2), [ORG]: infraWithSelector("org", 1) },
      {
        cluster: {
          ...snapshot,
          nodes: snapshot.nodes.map((node, i) =>
            node.controlPlane
              ? node
              : { ...node, labels: { ...node.labels, pool: i < 2 ? "home" : "org" } },
          ),
        },
      },
    );
    const ledger = managing([HOME, ORG]);
    const results = await Promise.all([world.run(HOME, ledger), world.run(ORG, ledger)]);
    expect(results.map((r) => r.pullRequests.map((o) => o.action))).toEqual([
      ["created"],
      ["created"],
    ]);
  });
});
