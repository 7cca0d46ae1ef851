import { describe, expect, it } from "@jest/globals";
import { movableClock, node } from "./drain-support.ts";
import { waitJson as json, useWaitCluster } from "./wait-nodes-support.ts";

const start = Date.parse("2025-01-12T00:00:00Z");
const cluster = useWaitCluster("wait-deadline", start);
const { wait } = cluster;

/** The answer a look waits for, longer than a request's own 30 s limit. */
const hang = 40_000;

describe("wait-nodes --timeout with slow looks", () => {
  it("gives the look at the deadline 1 s, and says the timeout ran out during it", async () => {
    cluster.fake.add(node("talos-worker-1"), node("talos-worker-2"));
    // Looks at 0 s, 10 s … 50 s are answered; the one at 60 s, the deadline, is not.
    cluster.fake.injectFault({ method: "GET", path: "/api/v1/nodes", after: 6, delayMs: hang });
    // What the wait gives a look at the deadline, not the ample time the other tests give it.
    const run = await wait(["--pool", "workers", "--count", "3", "--timeout", "1m", "--json"], {
      ownLateRead: true,
    });
    expect(run.code).toBe(1);
    expect(run.sleeps.reduce((a, b) => a + b, 0)).toBe(60_000);
    const result = json(run);
    expect(result).toMatchObject({ outcome: "timed-out", nodesRead: true, ready: 2, missing: 1 });
    expect(result.message).toMatch(
      /^the pool has 2 of 3 nodes Ready \(1 missing\); the 1m timeout ran out while listing the nodes \(GET \S+\/api\/v1\/nodes: no response within 1 s\)$/,
    );
    expect(result.lastError).toMatch(/\/api\/v1\/nodes: no response within 1 s$/);
  });

  it("gives a look no longer than the time left, and never counts the nodes it did not read", async () => {
    cluster.fake.add(node("talos-worker-1"));
    cluster.fake.injectFault({ method: "GET", path: "/api/v1/nodes", delayMs: hang });
    const run = await wait(["--pool", "workers", "--count", "1", "--timeout", "2s"], {
      ownLateRead: true,
    });
    expect(run.code).toBe(1);
    expect(run.sleeps).toEqual([]);
    expect(run.stdout).toMatch(
      /^Timed out after 0s waiting for pool workers: could not read the nodes at any look: the 2s timeout ran out while listing the nodes \(GET \S+\/api\/v1\/nodes: no response within 2 s\)\.\n/,
    );
    expect(run.stdout).toContain("nodes: never read (no look succeeded)");
  });

  it("starts no delete of a removed node's Node object once the timeout has run out", async () => {
    const args = ["--pool", "workers", "--count", "1", "--gone", "talos-worker-3", "--delete-gone"];
    const waitOnce = (json: string[]) => {
      cluster.fake.add(
        node("talos-worker-1"),
        // Drained, its VM still shutting down: the kubelet reports Ready.
        node("talos-worker-3", { unschedulable: true }),
      );
      // Looks at 0 s and 10 s see it Ready; the one at 20 s, the deadline, sees it NotReady.
      cluster.onList((n) => {
        if (n === 3)
          cluster.fake.add(node("talos-worker-3", { ready: false, unschedulable: true }));
      });
      return wait([...args, "--timeout", "20s", ...json]);
    };
    const run = await waitOnce(["--json"]);
    expect(run.code).toBe(1);
    expect(run.sleeps).toEqual([10_000, 10_000]);
    expect(cluster.fake.requestCount({ method: "DELETE" })).toBe(0);
    expect(cluster.fake.get("nodes", "talos-worker-3")).toBeDefined();
    const result = json(run);
    expect(result).toMatchObject({ outcome: "timed-out", ready: 1, missing: 0 });
    expect(result.gone).toEqual([
      {
        name: "talos-worker-3",
        state: "present",
        ready: false,
        unschedulable: true,
        deleteNotStarted: true,
      },
    ]);
    expect(result.message).toBe(
      "talos-worker-3 is still there, cordoned and NotReady, but the 20s timeout had run out: its delete was not started",
    );
    const text = await waitOnce([]);
    expect(text.code).toBe(1);
    expect(cluster.fake.requestCount({ method: "DELETE" })).toBe(0);
    expect(text.stdout).toContain(
      "talos-worker-3: still there (NotReady, cordoned); the timeout had run out, so its delete was not started: run the wait again, or kubectl delete node talos-worker-3\n",
    );
  });

  it("gives a delete no longer than the time left, and says whether the node is gone is not known", async () => {
    cluster.fake.add(
      node("talos-worker-1"),
      node("talos-worker-3", { ready: false, unschedulable: true }),
    );
    // The delete gets no answer: the timeout comes while it waits for one.
    cluster.fake.injectFault({
      method: "DELETE",
      path: "/api/v1/nodes/talos-worker-3",
      delayMs: hang,
    });
    const { clock, advance } = movableClock(start);
    cluster.fake.onRequest = (request) => {
      if (request.method === "DELETE") advance(2_000);
    };
    const args = ["--pool", "workers", "--count", "1", "--gone", "talos-worker-3", "--delete-gone"];
    const run = await wait([...args, "--timeout", "2s", "--json"], { clock, ownLateRead: true });
    expect(run.code).toBe(1);
    expect(cluster.fake.requestCount({ method: "DELETE" })).toBe(1);
    const result = json(run);
    expect(result.outcome).toBe("timed-out");
    expect(result.lastError).toBeUndefined();
    expect(result.gone).toEqual([
      {
        name: "talos-worker-3",
        state: "present",
        ready: false,
        unschedulable: true,
        deleteFailed: expect.stringMatching(
          /^DELETE \/api\/v1\/nodes\/talos-worker-3: no response within 2 s$/,
        ),
        deleteUnanswered: true,
      },
    ]);
    // No next look follows it: the progress does not say the delete is tried again.
    expect(run.stderr).not.toContain("trying again");
    expect(result.message).toMatch(
      /^the last look's delete of talos-worker-3 got no answer before the 2s timeout ran out \(DELETE \S+: no response within 2 s\), so whether its Node object is gone is not known$/,
    );
  });

  it("does not wait for a Retry-After that would end past the timeout", async () => {
    cluster.fake.add(node("talos-worker-1"));
    // The look at 40 s is throttled for 30 s: 20 s are left.
    cluster.fake.injectFault({
      method: "GET",
      path: "/api/v1/nodes",
      after: 1,
      status: 429,
      headers: { "Retry-After": "30" },
    });
    const args = ["--pool", "workers", "--count", "2", "--timeout", "1m", "--interval", "40s"];
    const run = await wait([...args, "--json"]);
    expect(run.code).toBe(1);
    expect(run.sleeps).toEqual([40_000, 20_000]);
    expect(run.stderr).toMatch(
      /could not read the nodes \(trying again\): GET \S+\/api\/v1\/nodes: HTTP 429 TooManyRequests: injected failure; not tried again: after the 30 s wait it would pass the 1m timeout\n/,
    );
    expect(json(run)).toMatchObject({ outcome: "timed-out", ready: 1, missing: 1 });
    expect(cluster.fake.requestCount({ method: "GET", path: "/api/v1/nodes" })).toBe(3);
  });

  it("waits for a Retry-After that ends before the timeout, on the wait's clock", async () => {
    cluster.fake.add(node("talos-worker-1"));
    cluster.fake.injectFault({
      method: "GET",
      path: "/api/v1/nodes",
      status: 429,
      headers: { "Retry-After": "5" },
    });
    const run = await wait(["--pool", "workers", "--count", "1", "--timeout", "1m", "--json"]);
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([5_000]);
    expect(json(run).elapsedMs).toBe(5_000);
  });
});
