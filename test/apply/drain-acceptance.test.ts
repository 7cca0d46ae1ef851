/**
 * Drains as an operator who knows `kubectl drain --ignore-daemonsets --delete-emptydir-data`
 * expects them: one PodDisruptionBudget over pods of several nodes, a node someone else
 * cordoned, and a pod that goes before its eviction reaches it.
 */
import { describe, expect, it } from "@jest/globals";
import { jsonResult, node, pod, type Raw, useDrainCluster } from "./drain-support.ts";

const cluster = useDrainCluster("drain-acceptance");
const { drain, unschedulable, writes } = cluster;

/** `maxUnavailable: 1` over the three replicas of web, as the disruption controller keeps it. */
function webBudget(disruptionsAllowed: number): Raw {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "web-pdb", namespace: "apps" },
    spec: { maxUnavailable: 1, selector: { matchLabels: { app: "web" } } },
    status: {
      disruptionsAllowed,
      currentHealthy: 2 + disruptionsAllowed,
      desiredHealthy: 2,
      expectedPods: 3,
    },
  };
}

function web(name: string, nodeName: string): Raw {
  return pod(name, nodeName, { owner: ["ReplicaSet", "web-6d4b7"], labels: { app: "web" } });
}

describe("drain: one PodDisruptionBudget over pods of the drained nodes", () => {
  it("--dry-run says which pods would wait for the allowance others spend first, across nodes", async () => {
    cluster.fake.add(
      node("worker-1"),
      node("worker-2"),
      node("worker-3"),
      web("web-1", "worker-1"),
      web("web-2", "worker-1"),
      web("web-3", "worker-2"),
      webBudget(1),
    );
    const text = await drain(["worker-1", "worker-2", "--dry-run"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("  would evict apps/web-1 (PDB web-pdb allows 1 now)\n");
    for (const waiting of ["web-2", "web-3"]) {
      expect(text.stdout).toContain(
        `  would evict apps/${waiting} (PDB web-pdb allows 1 now, which apps/web-1 would spend first: the drain would wait for it)\n`,
      );
    }
    const json = jsonResult(await drain(["worker-1", "worker-2", "--dry-run", "--json"]));
    expect(json.nodes.flatMap((n) => n.budgets)).toEqual([
      { pod: "apps/web-1", budget: "web-pdb", disruptionsAllowed: 1 },
      { pod: "apps/web-2", budget: "web-pdb", disruptionsAllowed: 1, spentBy: ["apps/web-1"] },
      { pod: "apps/web-3", budget: "web-pdb", disruptionsAllowed: 1, spentBy: ["apps/web-1"] },
    ]);
    expect(writes()).toEqual([]);
  });

  it("--dry-run names no pod while the budget allows each one", async () => {
    cluster.fake.add(
      node("worker-1"),
      web("web-1", "worker-1"),
      web("web-2", "worker-1"),
      webBudget(2),
    );
    const result = jsonResult(await drain(["worker-1", "--dry-run", "--json"]));
    expect(result.nodes[0]?.budgets).toEqual([
      { pod: "apps/web-1", budget: "web-pdb", disruptionsAllowed: 2 },
      { pod: "apps/web-2", budget: "web-pdb", disruptionsAllowed: 2 },
    ]);
  });

  it("evicts one, waits for the replacement before the next, and never spends past the budget", async () => {
    cluster.fake.add(
      node("worker-1"),
      node("worker-2"),
      node("worker-3"),
      web("web-1", "worker-1"),
      web("web-2", "worker-1"),
      web("web-3", "worker-2"),
      webBudget(1),
    );
    const answers: string[] = [];
    let refusals = 0;
    cluster.fake.onRequest = (request) => {
      if (request.method !== "POST" || !request.path.endsWith("/eviction")) return;
      const name = request.path.split("/").at(-2) ?? "";
      const status = cluster.fake.get("poddisruptionbudgets", "web-pdb", "apps")?.status as Raw;
      let allowed = status.disruptionsAllowed as number;
      // At the third try, the evicted replica's replacement on worker-3 has become Ready.
      if (allowed === 0 && ++refusals % 3 === 0) {
        cluster.fake.add(webBudget(1));
        allowed = 1;
      }
      answers.push(`${name}:${allowed > 0 ? "allowed" : "429"}`);
    };
    const run = await drain(["worker-1", "worker-2", "--json"]);
    expect(run.code).toBe(0);
    // web-1 goes at once; web-2 and then web-3 each wait for the one before to be replaced.
    expect(answers).toEqual([
      "web-1:allowed",
      "web-2:429",
      "web-2:429",
      "web-2:allowed",
      "web-3:429",
      "web-3:429",
      "web-3:allowed",
    ]);
    // Both nodes cordoned before the first eviction: no replacement lands on worker-2.
    expect(writes().slice(0, 3)).toEqual([
      "PATCH /api/v1/nodes/worker-1",
      "PATCH /api/v1/nodes/worker-2",
      "POST /api/v1/namespaces/apps/pods/web-1/eviction",
    ]);
    expect(run.sleeps).toEqual([5_000, 10_000, 5_000, 10_000]);
    expect(run.stderr).toContain(
      "worker-1: 1 pod left, waiting: apps/web-2 blocked by PDB web-pdb; gives up at 2025-01-12 00:10 UTC\n",
    );
    expect(run.stderr).toContain(
      "worker-2: 1 pod left, waiting: apps/web-3 blocked by PDB web-pdb; gives up at 2025-01-12 00:10 UTC\n",
    );
    const result = jsonResult(run);
    expect(result.outcome).toBe("drained");
    expect(result.nodes.map((n) => [n.name, n.evicted])).toEqual([
      ["worker-1", ["apps/web-1", "apps/web-2"]],
      ["worker-2", ["apps/web-3"]],
    ]);
    expect(result.leftCordoned).toEqual(["worker-1", "worker-2"]);
  });
});

/** A replica of web in a crash loop: running, not Ready. */
function crashing(name: string, nodeName: string): Raw {
  const raw = web(name, nodeName);
  raw.status = {
    phase: "Running",
    conditions: [{ type: "Ready", status: "False", reason: "ContainersNotReady" }],
  };
  return raw;
}

/** `minAvailable: 2` over three replicas of web, `healthy` of them Ready. */
function minTwoBudget(healthy: number, policy?: string): Raw {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "web-pdb", namespace: "apps" },
    spec: {
      minAvailable: 2,
      selector: { matchLabels: { app: "web" } },
      ...(policy ? { unhealthyPodEvictionPolicy: policy } : {}),
    },
    status: {
      disruptionsAllowed: Math.max(0, healthy - 2),
      currentHealthy: healthy,
      desiredHealthy: 2,
      expectedPods: 3,
    },
  };
}

describe("drain --dry-run: a budget over pods that are not Ready", () => {
  it("says a crashing pod goes without spending a budget that has the healthy pods it wants", async () => {
    cluster.fake.add(
      node("worker-1"),
      crashing("web-1", "worker-1"),
      web("web-2", "worker-1"),
      minTwoBudget(2),
    );
    const run = await drain(["worker-1", "--dry-run", "--json"]);
    expect(run.code).toBe(0);
    expect(jsonResult(run).nodes[0]?.budgets).toEqual([
      {
        pod: "apps/web-1",
        budget: "web-pdb",
        disruptionsAllowed: 0,
        notReady: true,
        outsideBudget: "IfHealthyBudget",
      },
      { pod: "apps/web-2", budget: "web-pdb", disruptionsAllowed: 0 },
    ]);
    const text = await drain(["worker-1", "--dry-run"]);
    expect(text.stdout).toContain(
      "  would evict apps/web-1 (PDB web-pdb: not Ready, so evicted without spending the budget, which has the healthy pods it wants)\n",
    );
    expect(text.stdout).toContain(
      "  would evict apps/web-2 (PDB web-pdb allows no disruption now: the drain would wait for it)\n",
    );
  });

  it("with every pod crashing, says the drain would wait, and which policy would let them go", async () => {
    cluster.fake.add(node("worker-1"), crashing("web-1", "worker-1"), minTwoBudget(0));
    const run = await drain(["worker-1", "--dry-run"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "  would evict apps/web-1 (PDB web-pdb allows no disruption now: the drain would wait for it; the pod is not Ready, and would go at once were the budget's unhealthyPodEvictionPolicy AlwaysAllow)\n",
    );
  });

  it("under AlwaysAllow, says every crashing pod goes whatever the budget allows, spending nothing", async () => {
    cluster.fake.add(
      node("worker-1"),
      crashing("web-1", "worker-1"),
      crashing("web-2", "worker-1"),
      web("web-3", "worker-1"),
      // Two more replicas Ready elsewhere: 3 of 5 healthy, 2 wanted, 1 disruption allowed.
      {
        ...minTwoBudget(3, "AlwaysAllow"),
        status: { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 5 },
      },
    );
    const run = await drain(["worker-1", "--dry-run", "--json"]);
    expect(run.code).toBe(0);
    // The budget's one allowance is left for web-3: the crashing pods do not spend it.
    expect(jsonResult(run).nodes[0]?.budgets).toEqual([
      expect.objectContaining({ pod: "apps/web-1", outsideBudget: "AlwaysAllow" }),
      expect.objectContaining({ pod: "apps/web-2", outsideBudget: "AlwaysAllow" }),
      { pod: "apps/web-3", budget: "web-pdb", disruptionsAllowed: 1 },
    ]);
    const text = await drain(["worker-1", "--dry-run"]);
    expect(text.stdout).toContain(
      "  would evict apps/web-2 (PDB web-pdb: not Ready, so evicted whatever the budget allows, as its unhealthyPodEvictionPolicy is AlwaysAllow)\n",
    );
  });
});

describe("drain: a node someone else cordoned", () => {
  it("stays cordoned after a success, and is not counted among those this drain cordoned", async () => {
    cluster.fake.add(
      node("worker-1", { unschedulable: true }),
      node("worker-2"),
      pod("api-1", "worker-1"),
      pod("api-2", "worker-2"),
    );
    const run = await drain(["worker-1", "worker-2", "--json"]);
    expect(run.code).toBe(0);
    expect(writes()).toEqual([
      "PATCH /api/v1/nodes/worker-2",
      "POST /api/v1/namespaces/apps/pods/api-1/eviction",
      "POST /api/v1/namespaces/apps/pods/api-2/eviction",
    ]);
    expect(run.stderr).toContain("node/worker-1 was already cordoned\nnode/worker-2 cordoned\n");
    const result = jsonResult(run);
    expect(result.nodes.map((n) => [n.name, n.wasCordoned, n.cordoned])).toEqual([
      ["worker-1", true, false],
      ["worker-2", false, true],
    ]);
    expect(result.leftCordoned).toEqual(["worker-2"]);
    expect(unschedulable("worker-1")).toBe(true);
    expect(unschedulable("worker-2")).toBe(true);
  });
});

describe("drain: a pod that goes before its eviction reaches it", () => {
  it("takes the 404 for gone once a read agrees, and does not count the pod as evicted", async () => {
    cluster.fake.add(node("worker-1"), pod("job-1", "worker-1"), pod("web-1", "worker-1"));
    cluster.fake.onRequest = (request) => {
      // Its Job deleted it between the drain's list and its eviction.
      if (request.method === "POST" && request.path.endsWith("/job-1/eviction"))
        cluster.fake.remove("pods", "job-1", "apps");
    };
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(0);
    const result = jsonResult(run);
    expect(result.outcome).toBe("drained");
    expect(result.nodes[0]?.evicted).toEqual(["apps/web-1"]);
    expect(result.nodes[0]?.stuck).toEqual([]);
    expect(cluster.fake.list("pods")).toEqual([]);
  });
});

describe("drain: kubectl drain's flags", () => {
  it("names what to use instead, before touching anything", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1"));
    const cases: [string[], string][] = [
      [
        ["--ignore-daemonsets", "--delete-emptydir-data"],
        "--ignore-daemonsets is kubectl drain's flag: DaemonSet pods are always left alone here: drop it",
      ],
      [
        ["--force"],
        "--force is kubectl drain's flag: here --force-bare-pods evicts pods that no controller recreates",
      ],
      [
        ["--delete-local-data"],
        "--delete-local-data is kubectl drain's flag: here --delete-emptydir-data evicts pods with emptyDir volumes",
      ],
      [
        ["--disable-eviction=true"],
        "--disable-eviction is kubectl drain's flag: pods are only ever evicted here",
      ],
    ];
    for (const [flags, message] of cases) {
      const run = await drain(["worker-1", ...flags]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stderr).not.toContain("after '--'");
    }
    expect(cluster.fake.requests).toEqual([]);
  });

  it("says a --timeout of 0, kubectl's wait for ever, is no duration here", async () => {
    const run = await drain(["worker-1", "--timeout", "0s"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      '--timeout expects a duration above 0, such as 90s, 10m or 1h30m (there is no unlimited wait), got "0s"',
    );
    expect(cluster.fake.requests).toEqual([]);
  });
});

describe("drain: a budget whose pods are all crashing", () => {
  it("times out on it, saying the pod is not Ready and which policy would let it go", async () => {
    cluster.fake.add(node("worker-1"), crashing("web-1", "worker-1"), minTwoBudget(0));
    const run = await drain(["worker-1", "--timeout", "1m", "--json"]);
    expect(run.code).toBe(1);
    const result = jsonResult(run);
    expect(result.outcome).toBe("timed-out");
    expect(result.nodes[0]?.stuck).toEqual([
      {
        pod: "apps/web-1",
        budget: "web-pdb",
        reason:
          "The disruption budget web-pdb allows no more disruptions right now; the pod was not Ready when listed, and would go at once were the budget's unhealthyPodEvictionPolicy AlwaysAllow",
      },
    ]);
    expect(unschedulable("worker-1")).toBe(false);
  });
});

describe("drain --dry-run: a budget whose status is older than its spec", () => {
  it("counts no disruption allowed, as the API does until the disruption controller catches up", async () => {
    const edited = webBudget(1);
    (edited.metadata as Raw).generation = 3;
    (edited.status as Raw).observedGeneration = 2;
    cluster.fake.add(node("worker-1"), web("web-1", "worker-1"), edited);
    const run = await drain(["worker-1", "--dry-run", "--json"]);
    expect(run.code).toBe(0);
    expect(jsonResult(run).nodes[0]?.budgets).toEqual([
      { pod: "apps/web-1", budget: "web-pdb", disruptionsAllowed: 0, stale: true },
    ]);
    const text = await drain(["worker-1", "--dry-run"]);
    expect(text.stdout).toContain(
      "  would evict apps/web-1 (PDB web-pdb allows no disruption now, its status being older than its spec, until the disruption controller catches up: the drain would wait for it)\n",
    );
  });
});
