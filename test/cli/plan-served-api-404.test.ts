/**
 * A list that answers 404 while the cluster serves its API, planned with `plan --kubeconfig`:
 * a server without `policy/v1` has no budgets to miss (docs/snapshot.md), but one whose
 * discovery serves `policy/v1` and whose budget list still answers 404 (a proxy in front of it
 * that does not pass the path) has budgets the plan cannot see, and a removal rests on them.
 * Likewise a server without `apps/v1` has no DaemonSet objects, and a new node's DaemonSets are
 * told by their pods on the pool's nodes; one whose discovery serves `apps/v1` and whose
 * DaemonSet list answers 404 leaves them unknown, and a pending pod adds no node on a guess.
 */
import { describe, expect, it } from "@jest/globals";
import { type PlanJson, pdb, pod } from "./served-cluster.ts";
import {
  apps,
  cluster,
  FOUR,
  fillers,
  judgedNow,
  poolNote,
  serveForTest,
  tdarr,
} from "./served-plan.ts";

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

describe("plan against a served cluster: the DaemonSet list answering 404", () => {
  // Each worker runs Cilium (100m, 128 MiB) and a 3-core filler: a 1500m transcode pod needs a
  // new worker, which Cilium leaves 3700m.
  const objects = () => [...cluster(), ...fillers(), tdarr("dsm01")];

  it("adds a node on a server without apps/v1, counting the DaemonSets by their pods", async () => {
    const served = await serveForTest(objects());
    served.fake.uninstall("apps");
    const run = await served.run(["--json"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      "warning: daemonsets: apps/v1 is not served by this cluster (404); the DaemonSets a new node would run are told by their pods on the pool's nodes [daemonsets-api-missing]\n",
    );
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4, direction: "up" });
    const reasons = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(reasons).toContain("DaemonSets take 100m cpu, 128 MiB, 1 pod");
    expect(reasons).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-dsm01 (cpu 1500m, memory 2 GiB) → new-1",
    );
  });

  it("adds none while discovery serves apps/v1: what the list would show is unknown", async () => {
    const served = await serveForTest(objects());
    served.fake.injectFault({
      path: "/apis/apps/v1/daemonsets",
      status: 404,
      reason: "NotFound",
      times: Number.POSITIVE_INFINITY,
    });
    const run = await served.run(["--json"]);
    expect(run.stderr).toMatch(
      /^warning: daemonsets: [^\n]*HTTP 404 NotFound[^\n]*; apps\/v1 is served, as the cluster's discovery says, so the 404 does not show the API missing \(what the list would show is unknown, not none\); which DaemonSets a new node would run is unknown, and so is the room it offers \[daemonsets-unknown\]$/m,
    );
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "fit unknown: media/tdarr-node-6d8c7f5b49-dsm01 (cpu 1500m, memory 2 GiB): what a new node offers is unknown",
    );
  });

  it("says the same when the group's discovery cannot be read", async () => {
    const served = await serveForTest(objects());
    served.fake.injectFault({
      path: "/apis/apps/v1/daemonsets",
      status: 404,
      reason: "NotFound",
      times: Number.POSITIVE_INFINITY,
    });
    served.fake.injectFault({ path: "/apis/apps", status: 500, times: Number.POSITIVE_INFINITY });
    const run = await served.run(["--json"]);
    expect(run.stderr).toMatch(
      /^warning: daemonsets: [^\n]*HTTP 404 NotFound[^\n]*; whether apps\/v1 is served could not be told \([^\n]*HTTP 500[^\n]*\), so the 404 does not show the API missing \(what the list would show is unknown, not none\); which DaemonSets a new node would run is unknown, and so is the room it offers \[daemonsets-unknown\]$/m,
    );
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
  });
});
