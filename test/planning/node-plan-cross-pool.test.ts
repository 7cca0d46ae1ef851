/**
 * Another pool's open decrease and the room of its nodes: a pool's scale-down counts on no node
 * an open pull request of another pool removes, whichever pool is planned first, and on no node
 * of a pool whose open decrease removes nodes the naming rule cannot tell.
 *
 * apps (talos-worker-1, -2) runs two echo replicas (1 cpu) that may not share a node; media
 * (talos-media-1, -2): talos-media-1 is full, talos-media-2 empty. The control plane keeps its
 * NoSchedule taint. Removing talos-worker-2 sends its replica to talos-media-2, or nowhere.
 */
import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import type { NodeDecision } from "../../src/planning/node-decision.ts";
import { planNodes } from "../../src/planning/node-plan.ts";
import type { PoolRepoFacts } from "../../src/planning/node-plan-input.ts";
import { buildSnapshot, node, pendingPod, pod } from "../support/snapshot-builder.ts";
import { labelledNodes, labelledPool, NOW, poolInput, QUIET, repoConfig } from "./plan-helpers.ts";

const ECHO = { app: "echo" };

/** The two echo replicas of the apps pool, 1 cpu each, kept apart by hostname anti-affinity. */
function echoReplicas() {
  return ["talos-worker-1", "talos-worker-2"].map((name, index) =>
    pod(`default/echo-rep0${index + 1}`, {
      node: name,
      cpu: "1",
      memory: "256Mi",
      labels: ECHO,
      podAntiAffinity: [{ selector: { matchLabels: ECHO }, topologyKey: "kubernetes.io/hostname" }],
    }),
  );
}

function planBoth(
  media: Partial<PoolRepoFacts>,
  order: readonly ("apps" | "media")[] = ["apps", "media"],
  apps: Partial<PoolRepoFacts> = {},
  unpooled: readonly ReturnType<typeof node>[] = [],
): { apps: NodeDecision; media: NodeDecision } {
  const snapshot = buildSnapshot({
    nodes: [
      node("talos-cp-1", { controlPlane: true, ...QUIET }),
      ...labelledNodes("apps", "talos-worker-"),
      ...labelledNodes("media", "talos-media-"),
      ...unpooled,
    ],
    pods: [
      ...echoReplicas(),
      pod("default/encoder-1", { node: "talos-media-1", cpu: "3500m", memory: "1Gi" }),
    ],
  });
  const pools = {
    apps: labelledPool("apps", "worker_count", "talos-worker-{index}"),
    media: labelledPool("media", "media_count", "talos-media-{index}"),
  };
  const decisions = planNodes({
    snapshot,
    config: repoConfig(...order.map((name) => pools[name])),
    repo: [
      { pool: "apps", currentValue: 2, ...apps },
      { pool: "media", currentValue: 2, ...media },
    ],
    now: NOW,
  });
  const of = (name: string) => decisions.find((entry) => entry.pool === name) as NodeDecision;
  return { apps: of("apps"), media: of("media") };
}

/** A decrease merged two minutes ago: the pool's cooldown leaves its open one as it is. */
const COOLDOWN = { lastChange: { at: "2025-06-06T11:58:00.000Z", direction: "down" as const } };

function podsFit(decision: NodeDecision) {
  return decision.scaleDown.conditions.find((entry) => entry.kind === "pods-fit");
}

describe("another pool's open decrease and the room of its nodes", () => {
  it("counts on the media node no decrease removes", () => {
    const { apps } = planBoth({});
    expect(apps).toMatchObject({ action: "scale-down", removes: "talos-worker-2" });
    expect(podsFit(apps)).toMatchObject({
      met: true,
      outside: [{ node: "talos-media-2", pool: "media", pods: ["default/echo-rep02"] }],
    });
  });

  for (const order of [
    ["apps", "media"],
    ["media", "apps"],
  ] as const)
    it(`does not count on the node media's open decrease removes (${order.join(" then ")})`, () => {
      const { apps, media } = planBoth(
        { ...COOLDOWN, openPullRequest: { number: 12, desired: 1, from: 2 } },
        order,
      );
      expect(media.pullRequest).toMatchObject({ action: "leave", number: 12 });
      expect(apps.action).toBe("none");
      expect(podsFit(apps)).toMatchObject({
        met: false,
        uncounted: [{ node: "talos-media-2", why: "removed", outside: true, pool: "media" }],
      });
      expect(explainNodeDecision(apps).join("\n")).toContain(
        "the room of talos-media-2 (pool media removes it in this plan) is not counted",
      );
    });

  it("counts on no node of a pool whose open decrease removes nodes the naming rule cannot tell", () => {
    // media's count says 3: a decrease to 1 removes talos-media-3, which the cluster does not
    // list, and one more; where talos-media-1's pods would go is not known.
    const { apps, media } = planBoth({
      ...COOLDOWN,
      currentValue: 3,
      openPullRequest: { number: 12, desired: 1, from: 3 },
    });
    expect(media.pullRequest).toMatchObject({ action: "leave", number: 12 });
    expect(apps.action).toBe("none");
    expect(podsFit(apps)).toMatchObject({
      met: false,
      uncounted: [
        { node: "talos-media-1", why: "withheld", pool: "media" },
        { node: "talos-media-2", why: "withheld", pool: "media" },
      ],
    });
    expect(explainNodeDecision(apps).join("\n")).toContain(
      "the room of talos-media-1 and talos-media-2 (nodes of pool media, whose open decrease removes nodes not all known) is not counted",
    );
  });

  it("keeps the media node that the apps decrease moves a replica onto", () => {
    // echo-rep02 goes to talos-media-2: removing that node would leave it nowhere to go.
    const { apps, media } = planBoth({});
    expect(apps).toMatchObject({ action: "scale-down", removes: "talos-worker-2" });
    expect(media.action).toBe("none");
    expect(podsFit(media)).toMatchObject({
      met: false,
      node: "talos-media-2",
      pods: 0,
      moved: { pods: 1, pools: ["apps"] },
      unplaced: ["default/echo-rep02"],
    });
    expect(explainNodeDecision(media).join("\n")).toContain(
      "not every pod of talos-media-2, with the 1 pod the decrease of pool apps moves onto the pool's nodes, fits on the other nodes",
    );
  });

  it("keeps it too when the apps decrease is an open one left open", () => {
    const { apps, media } = planBoth({}, ["apps", "media"], {
      ...COOLDOWN,
      openPullRequest: { number: 7, desired: 1, from: 2 },
    });
    expect(apps.pullRequest).toMatchObject({ action: "leave", number: 7 });
    expect(media.action).toBe("none");
    expect(podsFit(media)).toMatchObject({
      met: false,
      moved: { pods: 1, pools: ["apps"] },
      unplaced: ["default/echo-rep02"],
    });
  });
});

/**
 * An open pull request of media whose change to the count is unknown: the count it asks for, or
 * media's own, could not be read. Merged, it may remove any media node, so apps counts on none,
 * nor on a node in no pool once media's pull request is left open before apps is planned; one
 * known to raise or keep media's count removes nothing.
 */
describe("another pool's open pull request whose change to the count is unknown", () => {
  const unknownChanges: [string, Partial<PoolRepoFacts>][] = [
    ["the count it asks for is unknown", { openPullRequest: { number: 12 } }],
    [
      "media's count is unknown",
      { currentValue: undefined, openPullRequest: { number: 12, desired: 1, from: 2 } },
    ],
    [
      "media's count and the count it changes are unknown",
      {
        currentValue: undefined,
        openPullRequest: { number: 12, desired: 1 },
      },
    ],
  ];
  for (const [what, media] of unknownChanges)
    it(`counts on no media node when ${what}`, () => {
      const { apps } = planBoth({ ...COOLDOWN, ...media });
      expect(apps.action).toBe("none");
      expect(podsFit(apps)).toMatchObject({
        met: false,
        uncounted: [
          { node: "talos-media-1", why: "withheld", pool: "media", changeUnknown: true },
          { node: "talos-media-2", why: "withheld", pool: "media", changeUnknown: true },
        ],
      });
      expect(explainNodeDecision(apps).join("\n")).toContain(
        "the room of talos-media-1 and talos-media-2 (nodes of pool media, whose open pull request's change to the count is unknown) is not counted",
      );
    });

  it("counts on no node in no pool while that pull request is left open before apps is planned", () => {
    const nas = node("talos-nas-1", QUIET);
    const { apps, media } = planBoth(
      { ...COOLDOWN, openPullRequest: { number: 12 } },
      ["media", "apps"],
      {},
      [nas],
    );
    expect(media.pullRequest).toMatchObject({ action: "leave", number: 12 });
    expect(apps.action).toBe("none");
    expect(podsFit(apps)).toMatchObject({
      met: false,
      outsideTaken: [
        { node: "talos-cp-1", pools: ["media"], withheld: true, changeUnknown: true },
        { node: "talos-nas-1", pools: ["media"], withheld: true, changeUnknown: true },
      ],
    });
    expect(explainNodeDecision(apps).join("\n")).toContain(
      "talos-nas-1 is not counted on while the open pull request of pool media, whose change to the count is unknown, may move pods there",
    );
  });

  it("counts on them when the open pull request is known to raise media's count", () => {
    const { apps } = planBoth({
      ...COOLDOWN,
      currentValue: undefined,
      openPullRequest: { number: 12, desired: 3, from: 2 },
    });
    expect(apps).toMatchObject({ action: "scale-down", removes: "talos-worker-2" });
    expect(podsFit(apps)).toMatchObject({
      met: true,
      outside: [{ node: "talos-media-2", pool: "media", pods: ["default/echo-rep02"] }],
    });
  });
});

/**
 * media (talos-media-1..3, 12 cpu) keeps its requests below 30 % (`scaleUp.requests`); its open
 * decrease, left open, removes talos-media-3. Its 2-cpu encoder is 17 % of 12 cpu, 25 % of the
 * 8 cpu that stay: echo-rep02 (1 cpu) would take those to 37.5 %, though 12 cpu have room for it
 * below 30 %.
 */
describe("another pool's open decrease and its scaleUp.requests", () => {
  function planWithOpen(openPullRequest?: { number: number; desired: number; from: number }) {
    const snapshot = buildSnapshot({
      nodes: [
        node("talos-cp-1", { controlPlane: true, ...QUIET }),
        ...labelledNodes("apps", "talos-worker-"),
        ...labelledNodes("media", "talos-media-", 3),
      ],
      pods: [
        ...echoReplicas(),
        pod("default/encoder-1", { node: "talos-media-1", cpu: "2", memory: "1Gi" }),
      ],
    });
    const media = poolInput({
      ...labelledPool("media", "media_count", "talos-media-{index}"),
      scaleUp: { requests: 30 },
      scaleDown: { unneededTime: 0, requests: 20 },
    });
    const decisions = planNodes({
      snapshot,
      config: repoConfig(media, labelledPool("apps", "worker_count", "talos-worker-{index}")),
      repo: [
        { pool: "apps", currentValue: 2 },
        {
          pool: "media",
          currentValue: 3,
          ...(openPullRequest ? { ...COOLDOWN, openPullRequest } : COOLDOWN),
        },
      ],
      now: NOW,
    });
    const of = (name: string) => decisions.find((entry) => entry.pool === name) as NodeDecision;
    return { apps: of("apps"), media: of("media") };
  }

  it("moves the replica onto a media node while media keeps its three nodes", () => {
    const { apps } = planWithOpen();
    expect(apps).toMatchObject({ action: "scale-down", removes: "talos-worker-2" });
  });

  it("does not once the open decrease leaves two: their room holds less below the threshold", () => {
    const { apps, media } = planWithOpen({ number: 12, desired: 2, from: 3 });
    expect(media.pullRequest).toMatchObject({ action: "leave", number: 12 });
    expect(apps.action).toBe("none");
    expect(podsFit(apps)).toMatchObject({
      met: false,
      uncounted: [
        { node: "talos-media-1", why: "requests", pool: "media" },
        { node: "talos-media-2", why: "requests", pool: "media" },
        { node: "talos-media-3", why: "removed", pool: "media" },
      ],
    });
  });
});

describe("a decrease a window cuts short, and the room it takes", () => {
  // apps (talos-worker-1 to -3): Plex fills talos-worker-1 (3500m of 4 cpu), -2 and -3 are
  // empty, and a pending import (1 cpu) is counted on talos-worker-2. Both empty nodes could go
  // together (maxEmptyBulk 3), the import then on the untainted control plane (1500m free), but
  // a window opening at 12:10 with min 2 keeps talos-worker-2: only talos-worker-3 goes, and the
  // import stays on talos-worker-2. media, planned after: talos-media-1 is full, and the encoder
  // of talos-media-2 (1 cpu), kept off the apps nodes, fits only on the control plane.
  function planCut(): { apps: NodeDecision; media: NodeDecision } {
    const offApps = [
      {
        matchExpressions: [
          { key: "node.kubernetes.io/pool", operator: "NotIn" as const, values: ["apps"] },
        ],
      },
    ];
    const snapshot = buildSnapshot({
      nodes: [
        node("talos-cp-1", { controlPlane: true, taints: [], ...QUIET }),
        ...labelledNodes("apps", "talos-worker-", 3),
        ...labelledNodes("media", "talos-media-"),
      ],
      pods: [
        pod("kube-system/kube-apiserver-talos-cp-1", {
          node: "talos-cp-1",
          cpu: "2500m",
          memory: "1Gi",
        }),
        pod("media/plex-1", { node: "talos-worker-1", cpu: "3500m", memory: "1Gi" }),
        pod("default/encoder-1", { node: "talos-media-1", cpu: "3500m", memory: "1Gi" }),
        pod("default/encoder-2", {
          node: "talos-media-2",
          cpu: "1",
          memory: "256Mi",
          affinity: offApps,
        }),
        pendingPod("batch/import-1", { cpu: "1", memory: "256Mi" }),
      ],
    });
    const apps = labelledPool("apps", "worker_count", "talos-worker-{index}");
    const media = labelledPool("media", "media_count", "talos-media-{index}");
    const decisions = planNodes({
      snapshot,
      config: repoConfig(
        {
          ...apps,
          scaleDown: { unneededTime: 0, maxEmptyBulk: 3, requests: 70 },
          schedules: [{ name: "evening", cron: "10 12 * * *", duration: "1h", min: 2 }],
        },
        { ...media, scaleDown: { unneededTime: 0, requests: 70 } },
      ),
      repo: [
        { pool: "apps", currentValue: 3 },
        { pool: "media", currentValue: 2 },
      ],
      now: NOW,
    });
    const of = (name: string) => decisions.find((entry) => entry.pool === name) as NodeDecision;
    return { apps: of("apps"), media: of("media") };
  }

  it("leaves the control plane's room to the next pool when the node the import needs stays", () => {
    const { apps, media } = planCut();
    expect(apps).toMatchObject({ action: "scale-down", removing: ["talos-worker-3"] });
    expect(apps.scaleDown.bulk?.stop).toMatchObject({ kind: "schedule-soon", min: 2 });
    expect(media).toMatchObject({ action: "scale-down", removing: ["talos-media-2"] });
    expect(podsFit(media)).toMatchObject({
      met: true,
      outside: [{ node: "talos-cp-1", pods: ["default/encoder-2"] }],
    });
    expect(podsFit(media)).not.toHaveProperty("moved");
  });
});
