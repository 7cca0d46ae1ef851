/**
 * The node decisions as an operator states them, planned against a served cluster: pending pods
 * packed after the free room, each scale-down threshold keeping a node on its own, and the
 * projection after a removal keeping one when it would come within the margin of scaling up.
 */
import { describe, expect, it } from "@jest/globals";
import { pod, type Raw } from "./served-cluster.ts";
import {
  apps,
  cluster,
  config,
  FOUR,
  fillers,
  plan,
  poolNote,
  tdarr,
  tfvars,
} from "./served-plan.ts";

/** The config with `text` inserted before the pool's `removal:` block. */
function configWith(text: string): string {
  return config({ "    removal:": `${text}    removal:` });
}

const UNNEEDED_NOW = "    scaleDown:\n      unneededTime: 0s\n";

/** An app pod on each of FOUR, requesting `cpu` (and 1 GiB). */
function requesting(cpu: string): Raw[] {
  return FOUR.map((node, index) =>
    pod("default", `api-5d8f7c9b6-rq${index}xx`, {
      node,
      owner: { kind: "ReplicaSet", name: "api-5d8f7c9b6" },
      cpu,
      memory: "1Gi",
    }),
  );
}

describe("plan against a served cluster: pending pods after the free room", () => {
  it("puts one of seven 1.5-cpu pods in each worker's free room and packs the rest two to a new node", async () => {
    // 3800m less Cilium's 100m and a 2-cpu filler leaves 1700m on each worker: one pod each.
    const pending = ["a", "b", "c", "d", "e", "f", "g"].map((x) => tdarr(`7pod${x}`));
    const output = await plan([...cluster(), ...fillers(undefined, "2"), ...pending]);
    // Four are left; a new node offers 3700m: two each, so two new nodes.
    expect(output.proposals[0]).toMatchObject({
      from: 3,
      to: 5,
      changes: [{ before: 3, after: 5 }],
      triggers: [{ kind: "pending-pods", pods: 4, newNodes: 2 }],
    });
    const reasons = output.proposals[0]?.reasons ?? [];
    expect(reasons).toContain(
      "  pending pods: 7 considered, 3 fit free room on existing nodes, 4 go on 2 new nodes",
    );
    for (const node of ["talos-worker-1", "talos-worker-2", "talos-worker-3"])
      expect(reasons.filter((line) => line.endsWith(`fits on ${node}`))).toHaveLength(1);
  });
});

describe("plan against a served cluster: each scale-down threshold keeps a node", () => {
  it.each([
    [
      "cpu usage at 31 %",
      { cpu: "1180m", memory: "2Gi" },
      "100m",
      "cpu < 30 % for 0s: not met (current, 31 %)",
    ],
    [
      "memory usage at 41 %",
      { cpu: "600m", memory: "6.3Gi" },
      "100m",
      "memory < 40 % for 0s: not met (current, 41 %)",
    ],
    [
      "cpu requests at 55 %",
      { cpu: "600m", memory: "2Gi" },
      "2",
      "cpu requests 55 % < 50 %: not met",
    ],
  ])("with %s, even when unneededTime is 0", async (_, usage, cpu, unmet) => {
    const output = await plan([...cluster(FOUR, {}, usage), ...requesting(cpu)], {
      tfvars: tfvars(4),
      config: configWith(UNNEEDED_NOW),
    });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(`scale-down: ${unmet}`);
  });

  it("removes one node when all three are below, with unneededTime 0", async () => {
    const output = await plan([...cluster(FOUR), ...apps()], {
      tfvars: tfvars(4),
      config: configWith(UNNEEDED_NOW),
    });
    expect(output.proposals).toHaveLength(1);
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, changes: [{ after: 3 }] });
    expect(output.proposals[0]?.reasons[0]).toContain("removing talos-worker-4");
  });
});

describe("plan against a served cluster: the projection after a removal", () => {
  it("keeps a node whose removal would bring requests within the margin of scaleUp.requests", async () => {
    // 1710m of 3800m on each of four is 45 %, below 50 %; on three it is 60 %, not below 60 − 10.
    const output = await plan([...cluster(FOUR), ...requesting("1610m")], {
      tfvars: tfvars(4),
      config: configWith(`    scaleUp:\n      requests: 60\n${UNNEEDED_NOW}`),
    });
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain("scale-down: cpu requests 45 % < 50 %: met");
    // The requests projected are the higher of cpu and memory: it says which.
    expect(note).toContain("not removed: cpu requests after removal would be 60 %, not below 50 %");
    expect(note).toContain("scale-down: cpu requests after removal 60 % < 50 %: not met");
  });

  it("keeps a node whose removal would bring cpu usage within the margin of its scale-up threshold", async () => {
    // 45 % of four nodes is 60 % of three: not below 60 − 10.
    const output = await plan([...cluster(FOUR, {}, { cpu: "1710m", memory: "2Gi" }), ...apps()], {
      tfvars: tfvars(4),
      config: configWith(
        "    scaleUp:\n      cpu: 60\n    scaleDown:\n      cpu: 50\n      unneededTime: 0s\n",
      ),
    });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "not removed: cpu after removal would be 60 %, not below 50 %",
    );
  });
});
