import { describe, expect, it } from "@jest/globals";
import {
  budget,
  daemonPod,
  jsonResult,
  node,
  pod,
  type Raw,
  START,
  useDrainCluster,
  virtualClock,
} from "./drain-support.ts";

const cluster = useDrainCluster("drain-dead");
const { writes } = cluster;

function drain(args: string[], clock = virtualClock()) {
  return cluster.drain(args, { clock });
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/**
 * Makes the API server keep `name` after its eviction, with the deletion time and grace period
 * it sets, as it does when no kubelet is left to confirm the pod stopped.
 */
function keepAfterEviction(name: string, clock: { now(): number }, grace = 30): void {
  let evicted: Raw | undefined;
  cluster.fake.onRequest = (request) => {
    if (request.method === "POST" && request.path.endsWith(`/pods/${name}/eviction`)) {
      evicted = cluster.fake.get("pods", name, "apps");
      if (evicted) (evicted.metadata as Raw).deletionGracePeriodSeconds = grace;
      if (evicted) (evicted.metadata as Raw).deletionTimestamp = iso(clock.now() + grace * 1000);
      return;
    }
    if (evicted && !cluster.fake.get("pods", name, "apps")) cluster.fake.put("pods", evicted);
  };
}

describe("drain on a node that is not Ready", () => {
  it("does not wait for pods whose grace period has passed, and evicts the running ones", async () => {
    cluster.fake.add(
      node("talos-worker-4", { ready: false }),
      // Taint-evicted 5 minutes after the kubelet stopped: Terminating for ever.
      pod("web-1", "talos-worker-4", { deleted: { at: "2025-01-11T23:46:23Z", grace: 30 } }),
      pod("api-1", "talos-worker-4"),
      daemonPod("cilium-x7k2p", "talos-worker-4"),
    );
    const clock = virtualClock();
    keepAfterEviction("api-1", clock);
    const run = await drain(["talos-worker-4", "--json"], clock);
    expect(run.code).toBe(0);
    // The running pod went through the Eviction API; nothing was deleted.
    expect(writes()).toEqual([
      "PATCH /api/v1/nodes/talos-worker-4",
      "POST /api/v1/namespaces/apps/pods/api-1/eviction",
    ]);
    // api-1 was waited for until its deletionTimestamp (eviction + 30 s) plus 30 s.
    expect(sum(run.sleeps)).toBe(60_000);
    const result = jsonResult(run);
    expect(result.outcome).toBe("drained");
    expect(result.nodes[0]).toMatchObject({
      state: "drained",
      ready: false,
      notReadyReason: "Ready=Unknown: NodeStatusUnknown: Kubelet stopped posting node status.",
      evicted: ["apps/api-1"],
      stuck: [],
    });
    expect(result.nodes[0]?.notWaitedFor).toEqual([
      {
        pod: "apps/web-1",
        rule: "node-not-ready",
        deletionTimestamp: "2025-01-11T23:46:23Z",
        graceSeconds: 30,
        message:
          "deletionTimestamp 2025-01-11T23:46:23Z plus its 30s grace period has passed and talos-worker-4 is not Ready (Ready=Unknown: NodeStatusUnknown: Kubelet stopped posting node status.): no kubelet will confirm its deletion",
      },
      {
        pod: "apps/api-1",
        rule: "node-not-ready",
        deletionTimestamp: iso(START + 30_000),
        graceSeconds: 30,
        message: expect.stringContaining("plus its 30s grace period has passed"),
      },
    ]);
    expect(run.stderr).toContain(
      "pod/apps/web-1 on talos-worker-4 is being deleted: not waiting for it (node-not-ready)",
    );
    // Both stay in the API until their node's object is deleted.
    expect(cluster.fake.get("pods", "web-1", "apps")).toBeDefined();
    expect(cluster.fake.get("pods", "api-1", "apps")).toBeDefined();
  });

  it("says so for people: the node's state and each pod not waited for", async () => {
    cluster.fake.add(
      node("talos-worker-4", { ready: false }),
      pod("web-1", "talos-worker-4", { deleted: { at: "2025-01-11T23:46:23Z", grace: 30 } }),
    );
    const run = await drain(["talos-worker-4"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "node talos-worker-4: drained, 0 pods evicted, 1 pod being deleted not waited for\n" +
        "  not Ready: Ready=Unknown: NodeStatusUnknown: Kubelet stopped posting node status.\n" +
        "  not waited for apps/web-1: deletionTimestamp 2025-01-11T23:46:23Z plus its 30s grace period has passed",
    );
    expect(sum(run.sleeps)).toBe(0);
  });

  it("waits for a pod still within its grace period, counted from its own", async () => {
    cluster.fake.add(
      node("talos-worker-4", { ready: false }),
      pod("web-1", "talos-worker-4", {
        terminationGracePeriodSeconds: 60,
        deleted: { at: iso(START - 10_000) },
      }),
    );
    const run = await drain(["talos-worker-4", "--json"]);
    expect(run.code).toBe(0);
    // No deletionGracePeriodSeconds: the pod's terminationGracePeriodSeconds (60 s) counts.
    expect(sum(run.sleeps)).toBe(50_000);
    expect(jsonResult(run).nodes[0]?.notWaitedFor).toMatchObject([
      { pod: "apps/web-1", rule: "node-not-ready", graceSeconds: 60 },
    ]);
  });

  it("never skips a budget: a running pod a PDB protects is not evicted, and the drain times out", async () => {
    cluster.fake.add(
      node("talos-worker-4", { ready: false }),
      pod("web-1", "talos-worker-4", { labels: { app: "web" } }),
      budget("web-pdb", "web", 0),
    );
    const run = await drain(["talos-worker-4", "--timeout", "1m", "--json"]);
    expect(run.code).toBe(1);
    const result = jsonResult(run);
    expect(result.outcome).toBe("timed-out");
    expect(result.nodes[0]).toMatchObject({
      evicted: [],
      notWaitedFor: [],
      stuck: [{ pod: "apps/web-1", budget: "web-pdb" }],
    });
    expect(cluster.fake.get("pods", "web-1", "apps")).toBeDefined();
  });

  it("notices a node that dies during the drain once an evicted pod's grace period has passed", async () => {
    cluster.fake.add(node("worker-1"), pod("db-0", "worker-1", { owner: ["StatefulSet", "db"] }));
    const clock = virtualClock();
    keepAfterEviction("db-0", clock, 20);
    const keep = cluster.fake.onRequest;
    cluster.fake.onRequest = (request) => {
      keep?.(request);
      // The VM dies as the pod is evicted: the node controller marks it Unknown.
      if (request.method === "POST") cluster.fake.put("nodes", node("worker-1", { ready: false }));
    };
    const run = await drain(["worker-1", "--json"], clock);
    expect(run.code).toBe(0);
    expect(sum(run.sleeps)).toBe(40_000);
    expect(jsonResult(run).nodes[0]).toMatchObject({
      ready: false,
      notWaitedFor: [{ pod: "apps/db-0", rule: "node-not-ready", graceSeconds: 20 }],
    });
    const nodeReads = cluster.fake.requests.filter(
      (r) => r.method === "GET" && r.path === "/api/v1/nodes/worker-1",
    );
    expect(nodeReads).toHaveLength(2);
  });

  it("with --dry-run says which pods it would not wait for", async () => {
    cluster.fake.add(
      node("talos-worker-4", { ready: false }),
      pod("web-1", "talos-worker-4", { deleted: { at: "2025-01-11T23:46:23Z", grace: 30 } }),
      pod("api-1", "talos-worker-4"),
    );
    const run = await drain(["talos-worker-4", "--dry-run"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("  would evict apps/api-1\n");
    expect(run.stdout).toContain("  would not wait for apps/web-1: deletionTimestamp");
    expect(writes()).toEqual([]);
  });
});

describe("drain --skip-wait-for-delete-timeout", () => {
  /** A pod on a Ready node held by a finalizer: deleted 10 minutes ago and still there. */
  function stuckPod(): Raw {
    return pod("web-1", "worker-1", { deleted: { at: iso(START - 600_000), grace: 30 } });
  }

  it("waits on a Ready node without it, as kubectl does", async () => {
    cluster.fake.add(node("worker-1"), stuckPod());
    const run = await drain(["worker-1", "--timeout", "1m", "--json"]);
    expect(run.code).toBe(1);
    expect(jsonResult(run).nodes[0]).toMatchObject({
      state: "timed-out",
      notWaitedFor: [],
      stuck: [{ pod: "apps/web-1", terminating: true }],
    });
  });

  it("says at the timeout that it did not evict the pod, and names the finalizer and the flag", async () => {
    const held = stuckPod();
    (held.metadata as Raw).finalizers = ["example.com/backup-done"];
    cluster.fake.add(node("worker-1"), held);
    const run = await drain(["worker-1", "--timeout", "1m", "--json"]);
    expect(run.code).toBe(1);
    expect(cluster.fake.requestCount({ method: "POST" })).toBe(0);
    const deleted = iso(START - 600_000);
    expect(jsonResult(run).nodes[0]?.stuck).toEqual([
      {
        pod: "apps/web-1",
        reason: `being deleted (deletionTimestamp ${deleted}), not evicted by this drain, still terminating; finalizers example.com/backup-done keep it until whatever set them removes them; --skip-wait-for-delete-timeout SECS stops waiting for pods whose deletionTimestamp is more than SECS seconds old`,
        terminating: true,
        deletionTimestamp: deleted,
        finalizers: ["example.com/backup-done"],
      },
    ]);
    const text = await drain(["worker-1", "--timeout", "1m"]);
    expect(text.stdout).toContain(`  apps/web-1: being deleted (deletionTimestamp ${deleted})`);
  });

  it("does not wait for a pod whose deletionTimestamp is older than the flag's seconds", async () => {
    cluster.fake.add(node("worker-1"), stuckPod());
    const run = await drain(["worker-1", "--skip-wait-for-delete-timeout", "300", "--json"]);
    expect(run.code).toBe(0);
    expect(jsonResult(run).nodes[0]?.notWaitedFor).toEqual([
      {
        pod: "apps/web-1",
        rule: "skip-wait-for-delete-timeout",
        deletionTimestamp: iso(START - 600_000),
        message: `deletionTimestamp ${iso(START - 600_000)} is more than 5m old (--skip-wait-for-delete-timeout 300)`,
      },
    ]);
  });

  it("keeps waiting for a pod deleted more recently than that", async () => {
    cluster.fake.add(node("worker-1"), stuckPod());
    const run = await drain([
      "worker-1",
      "--skip-wait-for-delete-timeout",
      "3600",
      "--timeout",
      "1m",
    ]);
    expect(run.code).toBe(1);
  });

  it("takes whole seconds only", async () => {
    for (const value of ["5m", "-1", "1.5"]) {
      const run = await drain(["worker-1", `--skip-wait-for-delete-timeout=${value}`]);
      expect({ value, code: run.code, stderr: run.stderr }).toEqual({
        value,
        code: 2,
        stderr: expect.stringContaining("--skip-wait-for-delete-timeout expects whole seconds"),
      });
    }
    expect(cluster.fake.requests).toEqual([]);
  });
});
