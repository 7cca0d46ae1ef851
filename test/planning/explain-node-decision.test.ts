import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import { buildSnapshot, nodes, pdb, pendingPod, pod } from "../support/snapshot-builder.ts";
import { NOW, planOne } from "./plan-helpers.ts";

describe("explainNodeDecision", () => {
  it("explains a scale-up with its packing, and pods that never fit", () => {
    const workers = nodes(2, { usage: { cpu: "2", memory: "8Gi" } });
    const snapshot = buildSnapshot({
      nodes: workers,
      pods: [
        ...workers.map((w) => pod(`fill/${w.name}`, { node: w.name, cpu: "3500m" })),
        pendingPod("web/a", { cpu: "3", memory: "2Gi" }),
        pendingPod("ml/huge", { cpu: "1", memory: "64Gi" }),
      ],
    });
    const lines = explainNodeDecision(
      planOne(snapshot, {}, { facts: { openPullRequest: { number: 4 } } }),
    );
    expect(lines[0]).toBe("pool workers (terraform/terraform.tfvars worker_count): scale up 2 → 3");
    expect(lines).toContain("  pull request: update #4 to 3");
    expect(lines).toContain("  trigger: 1 pending pod(s) need 1 new node(s)");
    expect(lines).toContain("  pending: web/a (cpu 3, memory 2 GiB) → new-1");
    expect(lines).toContain(
      "  never fits: ml/huge (cpu 1, memory 64 GiB): needs more memory than a new node has",
    );
    expect(lines).toContain(
      "  new node: 4 cpu, 16 GiB memory, 110 pods (learned, most-common allocatable, like worker-1 and 1 other(s))",
    );
    expect(lines.some((line) => line.startsWith("  scale-down:"))).toBe(false);
  });

  it("explains a scale-down with the node it removes and each condition", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(3, { usage: { cpu: "400m", memory: "2Gi" } }),
      pods: [pod("web/a", { node: "worker-3", cpu: "100m", memory: "128Mi" })],
    });
    const lines = explainNodeDecision(planOne(snapshot));
    expect(lines[0]).toBe(
      "pool workers (terraform/terraform.tfvars worker_count): scale down 3 → 2, removing worker-3",
    );
    expect(lines).toContain("  scale-down: cpu < 30 % for 10m: met (usage-window, 10 %)");
    expect(lines).toContain("  scale-down: cpu after removal 15 % < 70 %: met");
    expect(lines).toContain("  scale-down: worker-3 has no blockers: met");
    expect(lines).toContain(
      "  scale-down: worker-3 goes alone: it runs 1 pod(s), and only empty nodes go together",
    );
  });

  it("explains empty nodes removed together and where the bulk stops", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(4, { usage: { cpu: "400m", memory: "2Gi" } }),
      pods: [pod("web/a", { node: "worker-2", cpu: "100m", memory: "128Mi" })],
    });
    const lines = explainNodeDecision(planOne(snapshot));
    expect(lines[0]).toBe(
      "pool workers (terraform/terraform.tfvars worker_count): scale down 4 → 2, removing worker-4, worker-3",
    );
    expect(lines).toContain(
      "  scale-down: 2 empty nodes go together (at most 10): worker-4, worker-3; not worker-2 too: it runs 1 pod(s), and a node with pods goes alone",
    );
  });

  it("explains pending pods that have not waited long enough to add nodes", () => {
    const workers = nodes(2, { usage: { cpu: "2", memory: "8Gi" } });
    const snapshot = buildSnapshot({
      nodes: workers,
      pods: [
        ...workers.map((w) => pod(`fill/${w.name}`, { node: w.name, cpu: "3500m" })),
        {
          ...pendingPod("web/a", { cpu: "1" }),
          createdAt: new Date(NOW.getTime() - 30_000).toISOString(),
        },
      ],
    });
    const lines = explainNodeDecision(planOne(snapshot, { scaleUp: { pendingFor: "2m" } }));
    expect(lines[0]).toBe("pool workers (terraform/terraform.tfvars worker_count): no change at 2");
    expect(lines).toContain(
      "  hold: 1 pending pod(s) need new nodes but have waited less than 2m (scaleUp.pendingFor); nodes are added for them from 2025-06-06T12:01:30.000Z if they still wait, and none is removed meanwhile",
    );
  });

  it("explains a non-decision: what was wanted, what held it, and the blockers", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(3, { usage: { cpu: "400m", memory: "2Gi" } }),
      pods: [
        pod("db/pg-0", {
          node: "worker-3",
          labels: { app: "pg" },
          volumes: [{ name: "data", type: "emptyDir" }],
        }),
      ],
      pdbs: [pdb("db/pg", { app: "pg" }, 0)],
    });
    const cooling = {
      lastChange: {
        at: new Date(NOW.getTime() - 60_000).toISOString(),
        direction: "down" as const,
      },
    };
    const lines = explainNodeDecision(planOne(snapshot, {}, { facts: cooling }));
    expect(lines[0]).toBe("pool workers (terraform/terraform.tfvars worker_count): no change at 3");
    expect(lines).toContain("  trigger: usage and requests stayed below the scale-down thresholds");
    expect(lines.some((line) => line.startsWith("  hold: cooldown after the change of"))).toBe(
      true,
    );
    expect(lines).toContain(
      "  blockers on worker-3: db/pg-0: local storage data (emptyDir); db/pg-0: PDB db/pg allows 0 disruption(s), 1 of its pods are here",
    );
  });

  it("says when usage is unknown and the window has no evidence", () => {
    const sample = { usage: { cpu: "3900m", memory: "2Gi", source: "metrics-server" as const } };
    const lines = explainNodeDecision(planOne(buildSnapshot({ nodes: nodes(2, sample) })));
    expect(lines).toContain(
      "  scale-up check: cpu ≥ 80 % for 5m: no evidence over the window (usage covers 30s, no history, now 98 %; a window needs Prometheus over it or samples kept across it)",
    );
  });
});
