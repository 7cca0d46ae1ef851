import { describe, expect, it } from "@jest/globals";
import { budget, jsonResult, node, pod, type Raw, useDrainCluster } from "./drain-support.ts";

const cluster = useDrainCluster("drain-budgets");
const { drain, unschedulable, writes } = cluster;

/** web-1 with the labels two budgets select it by, and another pod that one budget selects. */
function twoBudgetsOverWeb(): Raw[] {
  return [
    node("worker-1"),
    pod("web-1", "worker-1", { labels: { app: "web", tier: "front" } }),
    pod("api-1", "worker-1", { labels: { app: "api" } }),
    budget("web-pdb", "web", 1),
    {
      ...budget("front-pdb", "web", 1),
      spec: { maxUnavailable: 1, selector: { matchLabels: { tier: "front" } } },
    },
  ];
}

const overlap = {
  reason: "pdbs-overlap",
  message:
    "selected by PodDisruptionBudgets front-pdb and web-pdb: the eviction API refuses to evict a pod that more than one budget selects",
  budgets: ["front-pdb", "web-pdb"],
};

describe("drain: a pod several PodDisruptionBudgets select", () => {
  it("is refused before anything is cordoned or evicted, naming the budgets", async () => {
    cluster.fake.add(...twoBudgetsOverWeb());
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(1);
    expect(writes()).toEqual([]);
    expect(unschedulable("worker-1")).toBe(false);
    const result = jsonResult(run);
    expect(result.outcome).toBe("refused");
    expect(result.nodes[0]?.state).toBe("refused");
    expect(result.nodes[0]?.refused).toEqual([{ pod: "apps/web-1", reasons: [overlap] }]);
  });

  it("makes the dry run exit 1 too, with the same words", async () => {
    cluster.fake.add(...twoBudgetsOverWeb());
    const run = await drain(["worker-1", "--dry-run"]);
    expect(run.code).toBe(1);
    expect(cluster.fake.requests.every((r) => r.method === "GET")).toBe(true);
    expect(run.stdout).toContain("node worker-1: refused");
    expect(run.stdout).toContain(
      `  apps/web-1: ${overlap.message} (change the budgets' selectors so that one at most selects it)`,
    );
    expect(run.stdout).toContain("Dry run: the drain would stop: 1 pod may not be moved.");
    expect(run.stdout).not.toContain("would go ahead");
  });

  it("lets finished and Pending pods through: the API server evicts them whatever the budgets", async () => {
    cluster.fake.add(
      node("worker-1"),
      pod("report-1", "worker-1", { labels: { app: "web", tier: "front" }, phase: "Succeeded" }),
      pod("web-2", "worker-1", { labels: { app: "web", tier: "front" }, phase: "Pending" }),
      budget("web-pdb", "web", 1),
      {
        ...budget("front-pdb", "web", 1),
        spec: { maxUnavailable: 1, selector: { matchLabels: { tier: "front" } } },
      },
    );
    const run = await drain(["worker-1", "--dry-run", "--json"]);
    expect(run.code).toBe(0);
    const result = jsonResult(run);
    expect(result.nodes[0]).toMatchObject({
      refused: [],
      wouldEvict: ["apps/report-1", "apps/web-2"],
      budgets: [],
    });
  });

  it("evicts a Pending pod at once under a budget that allows no disruption", async () => {
    cluster.fake.add(
      node("worker-1"),
      pod("web-3", "worker-1", { labels: { app: "web" }, phase: "Pending" }),
      budget("web-pdb", "web", 0),
    );
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(0);
    expect(jsonResult(run).nodes[0]).toMatchObject({ state: "drained", evicted: ["apps/web-3"] });
    // The budget was not spent: the API server does not count a Pending pod against it.
    expect(cluster.fake.list("poddisruptionbudgets")[0]?.status).toMatchObject({
      disruptionsAllowed: 0,
    });
  });

  it("counts only budgets of the pod's own namespace", async () => {
    cluster.fake.add(
      node("worker-1"),
      pod("web-1", "worker-1", { labels: { app: "web" } }),
      budget("web-pdb", "web", 1),
      { ...budget("web-pdb", "web", 1), metadata: { name: "web-pdb", namespace: "other" } },
    );
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(0);
    expect(jsonResult(run).nodes[0]?.evicted).toEqual(["apps/web-1"]);
  });

  it("still stops at once when a second budget appears after the check (HTTP 500), and uncordons", async () => {
    cluster.fake.add(
      node("worker-1"),
      pod("web-1", "worker-1", { labels: { app: "web" } }),
      budget("web-pdb", "web", 1),
    );
    cluster.fake.onRequest = (request) => {
      if (request.method === "PATCH") cluster.fake.add(budget("web-pdb-old", "web", 1));
    };
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(1);
    expect(run.sleeps).toEqual([]);
    expect(unschedulable("worker-1")).toBe(false);
    const result = jsonResult(run);
    expect(result.outcome).toBe("failed");
    expect(result.message).toContain("more than one PodDisruptionBudget");
    expect(result.nodes[0]?.stuck.map((s) => s.pod)).toEqual(["apps/web-1"]);
  });

  it("goes ahead with a warning when the budgets cannot be read: the eviction still honours them", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1", { labels: { app: "web" } }));
    cluster.fake.injectFault({
      method: "GET",
      path: "/apis/policy/v1/namespaces/apps/poddisruptionbudgets",
      status: 403,
      reason: "Forbidden",
    });
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(0);
    const result = jsonResult(run);
    expect(result.nodes[0]?.evicted).toEqual(["apps/web-1"]);
    expect(result.nodes[0]?.warnings.map((w) => w.message)).toEqual([
      expect.stringContaining("cannot read the PodDisruptionBudgets of namespace apps"),
    ]);
  });
});
