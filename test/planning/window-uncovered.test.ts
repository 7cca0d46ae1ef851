import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import { buildSnapshot, nodes, pendingPod, pod } from "../support/snapshot-builder.ts";
import { kinds, NOW, planOne } from "./plan-helpers.ts";

/** Four workers measured once by metrics-server: no window behind the figure. */
function sampled(cpu: string, memory = "2Gi") {
  return buildSnapshot({
    nodes: nodes(4, { usage: { cpu, memory, source: "metrics-server" } }),
  });
}

describe("usage past a threshold now, not shown over its window yet", () => {
  it("below the scale-down thresholds: held, and an open decrease is left, not closed", () => {
    const decision = planOne(
      sampled("400m"),
      {},
      { facts: { openPullRequest: { number: 7, desired: 3, from: 4 } } },
    );
    expect(decision.action).toBe("none");
    expect(decision.holds).toEqual([
      {
        kind: "window-uncovered",
        direction: "down",
        checks: [
          { resource: "cpu", threshold: 30, windowMs: 600_000, coveredMs: 30_000 },
          { resource: "memory", threshold: 40, windowMs: 600_000, coveredMs: 30_000 },
        ],
      },
    ]);
    expect(decision.pullRequest).toEqual({ action: "leave", number: 7 });
    expect(explainNodeDecision(decision)).toContain(
      "  hold: cpu < 30 % (shown for 30s of 10m), memory < 40 % (shown for 30s of 10m) now, not yet over the window: no node is removed until it is, and an open pull request is left as it is",
    );
  });

  it("does not say an open decrease is left when pods waiting for room close it", () => {
    const snapshot = sampled("400m");
    for (const worker of snapshot.nodes)
      snapshot.pods.push(pod(`web/${worker.name}`, { node: worker.name, cpu: "1500m" }));
    // 3 cores fit on no worker with 2.5 free: the pod needs a new node.
    snapshot.pods.push({
      ...pendingPod("web/a", { cpu: "3" }),
      createdAt: new Date(NOW.getTime() - 30_000).toISOString(),
    });
    const decision = planOne(
      snapshot,
      { scaleUp: { pendingFor: "2m" } },
      { facts: { openPullRequest: { number: 7, desired: 3, from: 4 } } },
    );
    expect(decision.action).toBe("none");
    expect(kinds(decision.holds)).toEqual(["pending-wait", "window-uncovered"]);
    expect(decision.pullRequest).toEqual({ action: "close", number: 7 });
    const text = explainNodeDecision(decision);
    expect(text).toContain("  pull request: close #7, its change is not wanted any more");
    expect(text).toContain(
      "  hold: cpu < 30 % (shown for 30s of 10m), memory < 40 % (shown for 30s of 10m) now, not yet over the window: no node is removed until it is",
    );
    expect(text.join("\n")).not.toContain("left as it is");
  });

  it("does not say an open decrease is left when the count changed under it", () => {
    const decision = planOne(
      sampled("400m"),
      {},
      { facts: { openPullRequest: { number: 7, desired: 3, from: 5 } } },
    );
    expect(kinds(decision.holds)).toEqual(["window-uncovered"]);
    expect(decision.pullRequest).toEqual({
      action: "close",
      number: 7,
      closes: { kind: "count-changed", from: 5, desired: 3, current: 4 },
    });
    expect(explainNodeDecision(decision).join("\n")).not.toContain("left as it is");
  });

  it("with usage above a scale-down threshold: no hold, and the open decrease closes", () => {
    const decision = planOne(
      sampled("1600m"),
      {},
      { facts: { openPullRequest: { number: 7, desired: 3, from: 4 } } },
    );
    expect(kinds(decision.holds)).toEqual([]);
    expect(decision.pullRequest).toEqual({ action: "close", number: 7 });
  });

  it("at the min there is no node to spare: no hold", () => {
    expect(kinds(planOne(sampled("400m"), { min: 4 }).holds)).toEqual([]);
  });

  it("with a blocker on the node a decrease removes: no hold, the open decrease closes, and the blocker is said", () => {
    const snapshot = sampled("400m");
    snapshot.pods.push(pod("debug/shell", { node: "worker-4", cpu: "100m", owner: null }));
    const decision = planOne(
      snapshot,
      {},
      { facts: { openPullRequest: { number: 7, desired: 3, from: 4 } } },
    );
    expect(decision.action).toBe("none");
    expect(kinds(decision.holds)).toEqual([]);
    expect(decision.pullRequest).toEqual({ action: "close", number: 7 });
    const text = explainNodeDecision(decision);
    expect(text).toContain("  not removed: worker-4 has 1 blocker");
    expect(text).toContain("  blockers on worker-4: debug/shell: no controller would recreate it");
    expect(text.join("\n")).not.toContain("not yet over the window");
  });

  it("above a scale-up threshold: held, and an open increase is left, not closed", () => {
    const decision = planOne(
      sampled("3600m"),
      {},
      { facts: { openPullRequest: { number: 8, desired: 5, from: 4 } } },
    );
    expect(decision.action).toBe("none");
    expect(decision.holds).toEqual([
      {
        kind: "window-uncovered",
        direction: "up",
        checks: [{ resource: "cpu", threshold: 80, windowMs: 300_000, coveredMs: 30_000 }],
      },
    ]);
    expect(decision.pullRequest).toEqual({ action: "leave", number: 8 });
  });

  it("at the max there is no room to grow: no hold", () => {
    expect(kinds(planOne(sampled("3600m"), { max: 4 }).holds)).toEqual([]);
  });
});
