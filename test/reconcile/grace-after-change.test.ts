/**
 * A merge rule's grace period covers the values people see: a node pull request updated in
 * place, from adding a node to removing one, waits the grace period of the rule that now decides
 * from the moment its values changed, not from when it opened. On the stateful fake GitHub, with
 * reconciles a minute apart.
 */
import { describe, expect, it } from "@jest/globals";
import { readPullRequestMarker } from "../../src/forge/marker.ts";
import type { PodInfo } from "../../src/planning/snapshot.ts";
import type { ReconcileResult } from "../../src/reconcile/reconcile-types.ts";
import { pendingPod } from "../support/snapshot-builder.ts";
import { quiet, TFVARS, WORKERS_POOL } from "./support/infra.ts";
import { poolScenario, runFor } from "./support/scenario.ts";

const MINUTE = 60_000;
const GUARD = "pr-autoscaler/plan-guard";

/**
 * Adding a node merges itself 10 minutes after its values, removing one an hour after; both once
 * the plan guard passed. The bot merges itself (no GitHub auto-merge), so each look is its own.
 */
const CONFIG = `${WORKERS_POOL}automerge:
  nativeAutoMerge: false
  rules:
    - name: add-a-node
      match: { kind: nodes, direction: up }
      action: merge
      minAge: 10m
      requiredChecks: [${GUARD}]
    - name: remove-a-node
      match: { kind: nodes, direction: down }
      action: merge
      minAge: 1h
      requiredChecks: [${GUARD}]
`;

/** A pod of 3.8 cpu that no worker has room for. */
function waiting(): PodInfo {
  return pendingPod("apps/big", { cpu: "3800m", memory: "1Gi" });
}

function merged(results: readonly ReconcileResult[]): number[] {
  return results.flatMap((r) => r.merges.filter((m) => m.action === "merged").map((m) => m.number));
}

describe("a node pull request whose values change", () => {
  it("waits the grace period from the change, not from its opening, then merges", async () => {
    const w = poolScenario(CONFIG);
    // A pod waits for room: 3 → 4 opens, and stays open for two hours (its plan guard never
    // reports); the last quarter hour with the app sampling the quiet workers.
    await runFor(w, 1, (at) => quiet(at, { extraPods: [waiting()] }));
    const [pull] = w.github.openPulls();
    expect(pull?.title).toBe("Scale workers from 3 to 4 nodes");
    const openedAt = pull?.createdAt ?? "";
    w.github.advance(105 * MINUTE);
    await runFor(w, 15, (at) => quiet(at, { extraPods: [waiting()] }));
    expect(w.github.pull(1).title).toBe("Scale workers from 3 to 4 nodes");

    // The pod is gone: the same pull request now removes a node. Its plan guard passes at once.
    w.cluster = quiet(w.github.now());
    const flipped = await w.run();
    const changedAt = w.github.now().toISOString();
    expect(flipped.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "updated", number: 1 }),
    ]);
    const updated = w.github.pull(1);
    expect(updated.title).toBe("Scale workers from 3 to 2 nodes");
    expect(updated.labels).toEqual(["autoscaling", "scale-down"]);
    expect(Date.parse(changedAt) - Date.parse(openedAt)).toBeGreaterThan(2 * 60 * MINUTE);
    expect(readPullRequestMarker(updated.body)).toMatchObject({ from: 3, to: 2, changedAt });
    expect(updated.body).toContain(
      "- Grace period: not before Fri 2025-06-06 15:01 UTC (1h after it changed to 3 → 2)",
    );
    w.github.setStatus(updated.headSha, GUARD, "success");
    // The check webhook: the verdict alone says it waits for the grace period, so GitHub is not
    // even asked (counted from the opening, two hours ago, it would merge now).
    const checked = await w.run(undefined, ["checks"]);
    expect(flipped.merges).toEqual([]);
    expect(checked.merges).toEqual([]);
    expect(w.github.pull(1).state).toBe("open");

    // Nothing merges during the hour after the change; the first look after it merges.
    w.github.advance(MINUTE);
    const during = await runFor(w, 58, (at) => quiet(at));
    expect(merged(during)).toEqual([]);
    expect(w.github.pull(1).state).toBe("open");
    const after = await runFor(w, 2, (at) => quiet(at));
    expect(merged(after)).toEqual([1]);
    expect(w.github.pull(1).mergedAt).toBe(
      new Date(Date.parse(changedAt) + 60 * MINUTE).toISOString(),
    );
    expect(w.github.file(TFVARS)).toContain("worker_count      = 2");
  });
});
