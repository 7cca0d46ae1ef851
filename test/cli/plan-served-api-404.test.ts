/**
 * A list that answers 404 while the cluster serves its API, planned with `plan --kubeconfig`:
 * a server without `policy/v1` has no budgets to miss (docs/snapshot.md), but one whose
 * discovery serves `policy/v1` and whose budget list still answers 404 (a proxy in front of it
 * that does not pass the path) has budgets the plan cannot see, and a removal rests on them.
 */
import { describe, expect, it } from "@jest/globals";
import { type PlanJson, pdb, pod } from "./served-cluster.ts";
import { apps, cluster, FOUR, judgedNow, poolNote, serveForTest } from "./served-plan.ts";

/** Four quiet workers; talos-worker-4, the node a decrease removes, runs a broker whose budget allows 0. */
const OBJECTS = [
  ...cluster(FOUR),
  ...apps(FOUR.slice(0, 3)),
  pod("home", "mosquitto-0", {
    node: "talos-worker-4",
    owner: { kind: "StatefulSet", name: "mosquitto" },
    cpu: "100m",
    memory: "128Mi",
  }),
  pdb("home", "mosquitto", { "app.kubernetes.io/name": "mosquitto" }, 0),
];

describe("plan against a served cluster: a 404 for an API the cluster serves", () => {
  it("removes no node while the budgets answer 404 though discovery serves policy/v1", async () => {
    const served = await serveForTest(OBJECTS);
    served.fake.injectFault({
      path: "/apis/policy/v1/poddisruptionbudgets",
      status: 404,
      reason: "NotFound",
      times: Number.POSITIVE_INFINITY,
    });
    const run = await served.run(["--json"], judgedNow(4));
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /^warning: poddisruptionbudgets: [^\n]*HTTP 404 NotFound[^\n]*; policy\/v1 is served, as the cluster's discovery says, so the 404 does not show the API missing \(what the list would show is unknown, not none\) \[list-failed\]$/m,
    );
    expect(run.stderr).not.toContain("pdb-api-missing");
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(
      /hold: the cluster snapshot is incomplete \(poddisruptionbudgets: /,
    );
    expect(poolNote(output)).toContain(
      "not removed: talos-worker-4's blockers are unknown (the list of poddisruptionbudgets was not read in full: a blocker it would show is unknown, not none)",
    );
  });

  it("still takes a server without policy/v1 as one with no budgets", async () => {
    // No budget can exist there: the broker's budget is not served, and the quiet pool loses
    // talos-worker-4.
    const served = await serveForTest(OBJECTS);
    served.fake.uninstall("policy");
    const run = await served.run(["--json"], judgedNow(4));
    expect(run.stderr).toContain(
      "warning: poddisruptionbudgets: policy/v1 is not served by this cluster (404); none are considered [pdb-api-missing]\n",
    );
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down" });
  });
});
