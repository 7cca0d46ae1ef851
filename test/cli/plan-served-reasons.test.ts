/**
 * What `plan --json` against a served cluster carries as data for a program reading it, beside
 * the explanation's lines: where the pods of the node a decrease removes go, and which lists a
 * partial read failed on.
 */
import { describe, expect, it } from "@jest/globals";
import { pod, type Raw } from "./served-cluster.ts";
import {
  cluster,
  FOUR,
  fillers,
  judgedNow,
  manyPods,
  plan,
  poolDecision,
  serveForTest,
  tdarr,
  WORKERS,
} from "./served-plan.ts";

/** The scale-down condition of `kind` in the pool's decision. */
function condition(decision: Raw, kind: string): Raw | undefined {
  const conditions = (decision.scaleDown as { conditions: Raw[] }).conditions;
  return conditions.find((entry) => entry.kind === kind);
}

describe("plan --json: where the pods of the node removed go", () => {
  it("names the node each pod of talos-worker-4 moves to, the only one with room for the larger", async () => {
    // talos-worker-1 and 2 run 3 cores of their 3800m (and Cilium's 100m): 700m free each, too
    // little for the 1-core pod, which only talos-worker-3 takes. The 100m pod, placed after
    // the larger, goes on the first node with room for it. Requests: 6000m + 1100m + 400m of
    // Cilium over 15200m is 49 %, below 50 %.
    const objects = [
      ...cluster(FOUR, {}, { cpu: "300m", memory: "1Gi" }),
      ...fillers(["talos-worker-1", "talos-worker-2"]),
      pod("media", "sonarr-6b7c8d9e5-big4x", {
        node: "talos-worker-4",
        cpu: "1",
        memory: "1Gi",
      }),
      pod("media", "bazarr-6b7c8d9e5-sml4x", {
        node: "talos-worker-4",
        cpu: "100m",
        memory: "128Mi",
      }),
    ];
    const output = await plan(objects, judgedNow(4));
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: 2 pods of talos-worker-4 fit on the other nodes: met",
    );
    const fit = condition(poolDecision(output), "pods-fit");
    expect(fit).toMatchObject({ met: true, node: "talos-worker-4", pods: 2, unplaced: [] });
    expect(fit?.placements).toEqual(
      expect.arrayContaining([
        { pod: "media/sonarr-6b7c8d9e5-big4x", node: "talos-worker-3" },
        { pod: "media/bazarr-6b7c8d9e5-sml4x", node: "talos-worker-1" },
      ]),
    );
    expect(fit?.placements).toHaveLength(2);
  });

  it("leaves placements out when no pod of the node finds room, and names the pod unplaced", async () => {
    // Every other worker runs 3200m of its 3800m: 500m free, too little for the 1-core pod.
    const objects = [
      ...cluster(FOUR, {}, { cpu: "300m", memory: "1Gi" }),
      ...fillers(["talos-worker-1", "talos-worker-2", "talos-worker-3"], "3200m"),
      pod("media", "sonarr-6b7c8d9e5-big4x", { node: "talos-worker-4", cpu: "1", memory: "1Gi" }),
    ];
    const output = await plan(objects, judgedNow(4));
    const fit = condition(poolDecision(output), "pods-fit");
    expect(fit).toMatchObject({
      met: false,
      unplaced: ["media/sonarr-6b7c8d9e5-big4x"],
      causes: [{ pod: "media/sonarr-6b7c8d9e5-big4x", cause: "room", resources: ["cpu"] }],
    });
    expect(fit).not.toHaveProperty("placements");
  });
});

describe("plan --json: the lists a partial read failed on", () => {
  it("names the budgets list that failed outright, beside the warning's words", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), tdarr("pdb01")]);
    served.fake.injectFault({
      path: "/apis/policy/v1/poddisruptionbudgets",
      status: 500,
      times: Number.POSITIVE_INFINITY,
    });
    const output = await served.plan();
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.holds).toEqual([
      {
        kind: "snapshot-incomplete",
        warnings: [expect.stringMatching(/^poddisruptionbudgets: GET .* HTTP 500 /)],
        lists: [{ list: "poddisruptionbudgets", read: "failed" }],
      },
    ]);
  });

  it("says the pod list stopped part way when a page after the first fails", async () => {
    // 600 pods come in two pages of 500: the second fails.
    const roomy = { allocatable: { cpu: "3800m", memory: "15986572Ki", pods: "300" } };
    const served = await serveForTest([
      ...cluster(WORKERS, Object.fromEntries(WORKERS.map((name) => [name, roomy]))),
      ...manyPods(600),
    ]);
    served.fake.injectFault({
      path: "/api/v1/pods",
      continued: true,
      status: 500,
      times: Number.POSITIVE_INFINITY,
    });
    const output = await served.plan();
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.holds).toContainEqual(
      expect.objectContaining({
        kind: "snapshot-incomplete",
        lists: [{ list: "pods", read: "partial" }],
      }),
    );
  });
});
