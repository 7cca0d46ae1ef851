/**
 * An open decrease left open while held (a cooldown) is merged as it stands: when the pods of the
 * node it removes, with the pending pods the plan counted on the pool's room, do not all find
 * room elsewhere, it is closed and says so, as it would be closed with nothing holding the pool.
 *
 * Pool media: talos-media-1 and talos-media-2, 4 cpu each; #12 asks 2 → 1, which removes
 * talos-media-2 by the naming rule. The control plane keeps its NoSchedule taint.
 */
import { describe, expect, it } from "@jest/globals";
import { closeReasonText, explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import type { NodeDecision } from "../../src/planning/node-decision.ts";
import { planNodes } from "../../src/planning/node-plan.ts";
import type { PoolRepoFacts } from "../../src/planning/node-plan-input.ts";
import type { PodInfo } from "../../src/planning/snapshot.ts";
import type { PoolConfigInput } from "../../src/policy/repo-config.ts";
import { buildSnapshot, node, pendingPod, pod } from "../support/snapshot-builder.ts";
import { labelledNodes, labelledPool, NOW, poolInput, QUIET, repoConfig } from "./plan-helpers.ts";

/** A decrease merged two minutes ago: the 5 minute cooldown holds the pool. */
const COOLDOWN = { lastChange: { at: "2025-06-06T11:58:00.000Z", direction: "down" as const } };
const OPEN = { openPullRequest: { number: 12, desired: 1, from: 2 } };

function plan(
  pods: PodInfo[],
  facts: Partial<PoolRepoFacts>,
  config: Partial<PoolConfigInput> = {},
  cordoned = false,
): NodeDecision {
  const members = labelledNodes("media", "talos-media-");
  if (cordoned && members[0]) members[0] = { ...members[0], unschedulable: true };
  const snapshot = buildSnapshot({
    nodes: [node("talos-cp-1", { controlPlane: true, ...QUIET }), ...members],
    pods,
  });
  const [decision] = planNodes({
    snapshot,
    config: repoConfig({
      ...labelledPool("media", "media_count", "talos-media-{index}"),
      ...config,
    }),
    repo: [{ pool: "media", currentValue: 2, ...facts }],
    now: NOW,
  });
  if (!decision) throw new Error("no decision for pool media");
  return decision;
}

/** talos-media-1 runs 3500m of 4 cpu: a 2-cpu pending pod fits only on talos-media-2. */
const BUSY_FIRST = pod("default/encoder", { node: "talos-media-1", cpu: "3500m", memory: "1Gi" });
const WAIT = pendingPod("default/wait", { cpu: "2", memory: "1Gi" });

describe("a held open decrease whose removal would leave pods without room", () => {
  it("closes it, naming the pod its removal would leave without room", () => {
    const decision = plan([BUSY_FIRST, WAIT], { ...COOLDOWN, ...OPEN });
    expect(decision.action).toBe("none");
    expect(decision.holds.map((hold) => hold.kind)).toContain("cooldown");
    expect(decision.pending.onExisting).toMatchObject([
      { pod: "default/wait", node: "talos-media-2" },
    ]);
    expect(decision.pullRequest).toEqual({
      action: "close",
      number: 12,
      closes: { kind: "pods-stranded", nodes: ["talos-media-2"], pods: ["default/wait"] },
    });
    expect(explainNodeDecision(decision)).toContain(
      "  pull request: close #12, its removal of talos-media-2 would leave default/wait without room",
    );
  });

  it("closes it for the pods of the node it removes, and names those whose fit is unknown", () => {
    const pods = [
      BUSY_FIRST,
      pod("default/transcode", { node: "talos-media-2", cpu: "1", memory: "1Gi" }),
      pod("default/probe", { node: "talos-media-2", unknownRequests: ["cpu"] }),
    ];
    const decision = plan(pods, { ...COOLDOWN, ...OPEN });
    expect(decision.pullRequest).toEqual({
      action: "close",
      number: 12,
      closes: {
        kind: "pods-stranded",
        nodes: ["talos-media-2"],
        pods: ["default/transcode"],
        unknown: ["default/probe"],
      },
    });
    expect(explainNodeDecision(decision)).toContain(
      "  pull request: close #12, its removal of talos-media-2 would leave default/transcode without room, and move default/probe, whose fit on the other nodes is unknown",
    );
  });

  it("says the fit is unknown, not that there is no room, when the node that stays has room unknown", () => {
    // talos-media-1 runs a pod whose cpu request could not be read: its free room is unknown.
    const pods = [
      pod("default/odd", { node: "talos-media-1", unknownRequests: ["cpu"] }),
      pod("default/transcode", { node: "talos-media-2", cpu: "1", memory: "1Gi" }),
    ];
    const decision = plan(pods, { ...COOLDOWN, ...OPEN });
    expect(decision.pullRequest).toEqual({
      action: "close",
      number: 12,
      closes: {
        kind: "pods-stranded",
        nodes: ["talos-media-2"],
        pods: [],
        unknown: ["default/transcode"],
      },
    });
    expect(explainNodeDecision(decision)).toContain(
      "  pull request: close #12, its removal of talos-media-2 would move default/transcode, whose fit on the other nodes is unknown",
    );
  });

  it("closes it when the pods of a cordoned node would lose the room it takes", () => {
    // talos-media-1 is cordoned ahead of a drain: its pod can go only to talos-media-2.
    const pods = [pod("default/batch", { node: "talos-media-1", cpu: "1", memory: "1Gi" })];
    const decision = plan(pods, { ...COOLDOWN, ...OPEN }, {}, true);
    expect(decision.pullRequest).toMatchObject({
      action: "close",
      closes: { kind: "pods-stranded", nodes: ["talos-media-2"], pods: ["default/batch"] },
    });
  });

  it("leaves it while held when the pending pod has room on the node that stays", () => {
    const light = pod("default/encoder", { node: "talos-media-1", cpu: "1", memory: "1Gi" });
    const decision = plan([light, WAIT], { ...COOLDOWN, ...OPEN });
    expect(decision.action).toBe("none");
    expect(decision.pullRequest).toEqual({ action: "leave", number: 12 });
    expect(explainNodeDecision(decision)).toContain(
      "  pull request: leave #12 as it is while held",
    );
  });

  it("closes it for a pod that waits for a new node, naming the pod its removal would strand", () => {
    // 3 cpu fits on neither node: the pod waits scaleUp.pendingFor for a new one. Its wait
    // closes the decrease, which would strand default/transcode too: the close names it, the
    // wait's hold says the rest.
    const big = pendingPod("default/big", { cpu: "3", memory: "1Gi" });
    const second = pod("default/transcode", { node: "talos-media-2", cpu: "2", memory: "1Gi" });
    const decision = plan(
      [BUSY_FIRST, second, big],
      { ...COOLDOWN, ...OPEN },
      {
        scaleUp: { pendingFor: "2h" },
      },
    );
    expect(decision.holds.map((hold) => hold.kind)).toContain("pending-wait");
    expect(decision.pullRequest).toEqual({
      action: "close",
      number: 12,
      closes: { kind: "pods-stranded", nodes: ["talos-media-2"], pods: ["default/transcode"] },
    });
    expect(explainNodeDecision(decision)).toContain(
      "  pull request: close #12, its removal of talos-media-2 would leave default/transcode without room",
    );
  });

  it("closes it with nothing holding the pool, naming the pod its removal would strand", () => {
    const decision = plan([BUSY_FIRST, WAIT], OPEN);
    expect(decision.holds).toEqual([]);
    expect(decision.pullRequest).toEqual({
      action: "close",
      number: 12,
      closes: { kind: "pods-stranded", nodes: ["talos-media-2"], pods: ["default/wait"] },
    });
    expect(explainNodeDecision(decision)).toContain(
      "  pull request: close #12, its removal of talos-media-2 would leave default/wait without room",
    );
  });

  it("closes it held only by the max, naming the pod its removal would strand", () => {
    // The 3500m of talos-media-1 is 44 % of the pool's cpu, at its scaleUp.requests of 40: a
    // max of 2 keeps it from the node it wants, which holds no decrease back. Merged, this one
    // would take the room default/wait is counted on.
    const decision = plan([BUSY_FIRST, WAIT], OPEN, {
      max: 2,
      scaleUp: { requests: 40 },
      scaleDown: { unneededTime: 0, requests: 20 },
    });
    expect(decision.holds.map((hold) => hold.kind)).toEqual(["at-max"]);
    expect(decision.pullRequest).toMatchObject({
      action: "close",
      closes: { kind: "pods-stranded", nodes: ["talos-media-2"], pods: ["default/wait"] },
    });
  });

  it("closes it with nothing holding the pool and no pod stranded: no change is wanted", () => {
    const light = pod("default/encoder", { node: "talos-media-1", cpu: "1", memory: "1Gi" });
    const busy = pod("default/busy", { node: "talos-media-2", cpu: "2", memory: "1Gi" });
    const decision = plan([light, busy], OPEN, { scaleDown: { unneededTime: 0, requests: 20 } });
    expect(decision.holds).toEqual([]);
    expect(decision.pullRequest).toEqual({ action: "close", number: 12 });
    expect(explainNodeDecision(decision)).toContain(
      "  pull request: close #12, no change is wanted any more",
    );
  });

  it("leaves it while the pod list was read in part: what runs where is not known", () => {
    const labels = { "node.kubernetes.io/pool": "media" };
    const snapshot = buildSnapshot({
      nodes: labelledNodes("media", "talos-media-"),
      pods: [BUSY_FIRST, WAIT],
    });
    const partial = {
      ...snapshot,
      complete: false,
      warnings: [{ code: "list-partial", subject: "pods", message: "pods: stopped part way" }],
    };
    const [decision] = planNodes({
      snapshot: partial as typeof snapshot,
      config: repoConfig(
        poolInput({
          name: "media",
          target: { file: "terraform/terraform.tfvars", path: "media_count" },
          selector: { matchLabels: labels },
          removal: { nameTemplate: "talos-media-{index}", indexBase: 1 },
        }),
      ),
      repo: [{ pool: "media", currentValue: 2, ...COOLDOWN, ...OPEN }],
      now: NOW,
    });
    expect(decision?.holds.map((hold) => hold.kind)).toContain("snapshot-incomplete");
    expect(decision?.pullRequest).toEqual({ action: "leave", number: 12 });
  });

  it("names the first three of many pods, and how many more, in the comment that closes it", () => {
    const pods = [1, 2, 3, 4, 5, 6].map((index) => `default/web-${index}`);
    const reason = {
      kind: "pods-stranded" as const,
      nodes: ["talos-media-2", "talos-media-3"],
      pods,
    };
    expect(closeReasonText(reason, "this pull request")).toBe(
      "this pull request's removal of talos-media-2 and talos-media-3 would leave default/web-1, default/web-2, default/web-3 and 3 more pods without room",
    );
  });
});
