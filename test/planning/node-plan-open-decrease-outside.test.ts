/**
 * An open decrease left open (a cooldown holds this plan's) takes the room outside the pools its
 * pods move into, as a decrease decided now does: merged after a later pool's decrease that
 * counted on the same room, one pool's pods would stay pending.
 *
 * Two pools of two nodes, each running two replicas (1 cpu); no two replicas of either app share
 * a node, so neither pool's replica may go to the other pool's nodes. An untainted control plane
 * (1500m) has room for one replica.
 */
import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import type { NodeDecision } from "../../src/planning/node-decision.ts";
import { planNodes } from "../../src/planning/node-plan.ts";
import type { PoolRepoFacts } from "../../src/planning/node-plan-input.ts";
import type { PodInfo } from "../../src/planning/snapshot.ts";
import { buildSnapshot, node, pod } from "../support/snapshot-builder.ts";
import { labelledNodes, labelledPool, NOW, QUIET, repoConfig } from "./plan-helpers.ts";

function replicas(app: string, nodes: readonly string[]): PodInfo[] {
  const labels = { app, tier: "web" };
  return nodes.map((name, index) =>
    pod(`default/${app}-rep0${index + 1}`, {
      node: name,
      cpu: "1",
      memory: "256Mi",
      labels,
      podAntiAffinity: [
        { selector: { matchLabels: { tier: "web" } }, topologyKey: "kubernetes.io/hostname" },
      ],
    }),
  );
}

/** A decrease merged two minutes ago: apps' cooldown holds this plan's own decrease. */
const COOLDOWN = { lastChange: { at: "2025-06-06T11:58:00.000Z", direction: "down" as const } };

function planBoth(apps: Partial<PoolRepoFacts>, cordonedApps = false): NodeDecision[] {
  const appNodes = labelledNodes("apps", "talos-worker-");
  // talos-worker-1 cordoned ahead of a drain runs a 1-cpu pod; the open decrease empties
  // talos-worker-2, so that pod's only room left is the control plane's.
  const appPods = cordonedApps
    ? [pod("default/batch-1", { node: "talos-worker-1", cpu: "1", memory: "256Mi" })]
    : replicas("echo", ["talos-worker-1", "talos-worker-2"]);
  if (cordonedApps && appNodes[0]) appNodes[0] = { ...appNodes[0], unschedulable: true };
  const snapshot = buildSnapshot({
    nodes: [
      node("talos-cp-1", { controlPlane: true, taints: [], cpu: "1500m", ...QUIET }),
      ...appNodes,
      ...labelledNodes("media", "talos-media-"),
    ],
    pods: [...appPods, ...replicas("whoami", ["talos-media-1", "talos-media-2"])],
  });
  return planNodes({
    snapshot,
    config: repoConfig(
      labelledPool("apps", "worker_count", "talos-worker-{index}"),
      labelledPool("media", "media_count", "talos-media-{index}"),
    ),
    repo: [
      { pool: "apps", currentValue: 2, ...COOLDOWN, ...apps },
      { pool: "media", currentValue: 2 },
    ],
    now: NOW,
  });
}

describe("an open decrease left open takes the room outside the pools", () => {
  it("keeps the later pool's node when the earlier pool's open decrease moves its pod onto the control plane", () => {
    const [apps, media] = planBoth({ openPullRequest: { number: 7, desired: 1, from: 2 } });
    expect(apps).toMatchObject({ action: "none", pullRequest: { action: "leave", number: 7 } });
    expect(media?.action).toBe("none");
    const fit = media?.scaleDown.conditions.find((entry) => entry.kind === "pods-fit");
    expect(fit).toMatchObject({
      met: false,
      outsideTaken: [{ node: "talos-cp-1", pools: ["apps"] }],
    });
    expect(fit?.kind === "pods-fit" && fit.outsideTaken?.[0]?.withheld).toBeFalsy();
    expect(explainNodeDecision(media as NodeDecision)).toContain(
      "  not removed: not every pod of talos-media-2 fits on the other nodes (default/whoami-rep02: required pod anti-affinity keeps it off the nodes with room; the room of talos-worker-2 (pool apps removes it in this plan) is not counted; talos-cp-1 keeps its room for the pods the decrease of pool apps moves there)",
    );
  });

  it("counts the pods of the earlier pool's cordoned nodes as its open decrease moves them", () => {
    // Merged as it stands, the decrease removes the empty talos-worker-2; the drain of cordoned
    // talos-worker-1 sends its pod to the control plane, as a decrease decided now would count.
    const [apps, media] = planBoth({ openPullRequest: { number: 7, desired: 1, from: 2 } }, true);
    expect(apps?.pullRequest).toMatchObject({ action: "leave", number: 7 });
    expect(media?.action).toBe("none");
    expect(media?.scaleDown.conditions.find((entry) => entry.kind === "pods-fit")).toMatchObject({
      met: false,
      outsideTaken: [{ node: "talos-cp-1", pools: ["apps"] }],
    });
  });

  it("lets the later pool count on that room when no decrease of the earlier pool is open", () => {
    const [apps, media] = planBoth({});
    expect(apps?.action).toBe("none");
    expect(media).toMatchObject({ action: "scale-down", removes: "talos-media-2" });
  });

  it("counts on no room outside the pools while the open decrease removes nodes the naming rule cannot tell", () => {
    // A decrease of two from two names talos-worker-2 and talos-worker-1; the pool's count says 3,
    // so the third node it removes is one the cluster does not list under the template.
    const [apps, media] = planBoth({
      currentValue: 3,
      openPullRequest: { number: 7, desired: 1, from: 3 },
    });
    expect(apps?.pullRequest.action).toBe("leave");
    expect(media?.action).toBe("none");
    expect(media?.scaleDown.conditions.find((entry) => entry.kind === "pods-fit")).toMatchObject({
      met: false,
      outsideTaken: [{ node: "talos-cp-1", pools: ["apps"], withheld: true }],
    });
    // Its pods may go to the control plane or may not: the text says "may", not that they do.
    const text = explainNodeDecision(media as NodeDecision);
    expect(text).toContain(
      "  not removed: not every pod of talos-media-2 fits on the other nodes (default/whoami-rep02: required pod anti-affinity keeps it off the nodes with room; the room of talos-worker-1 and talos-worker-2 (nodes of pool apps, whose open decrease removes nodes not all known) is not counted; talos-cp-1 is not counted on while the open decrease of pool apps, whose nodes are not all known, may move pods there)",
    );
  });
});
