import { describe, expect, it } from "@jest/globals";
import { jsonResult, movableClock, node, pod, useDrainCluster } from "./drain-support.ts";

const cluster = useDrainCluster("drain-deadline");
const { drain, unschedulable } = cluster;

const evicted = () =>
  cluster.fake.requests
    .filter((r) => r.method === "POST" && r.path.endsWith("/eviction"))
    .map((r) => r.path.split("/")[6]);

describe("drain --timeout with slow evictions", () => {
  it("sends no eviction once the deadline has passed, and times out", async () => {
    cluster.fake.add(node("worker-1"));
    for (const name of ["app-0", "app-1", "app-2", "app-3"])
      cluster.fake.add(pod(name, "worker-1"));
    const { clock, advance } = movableClock();
    // Each eviction takes 45 s to answer. (An eviction may wait for its answer as long as the
    // deadline leaves, in real time: the 15 s left for the second one are ample for the fake
    // API server however loaded the machine.)
    cluster.fake.onRequest = (request) => {
      if (request.method === "POST" && request.path.endsWith("/eviction")) advance(45_000);
    };
    const run = await drain(["worker-1", "--timeout", "1m", "--json"], { clock });
    expect(run.code).toBe(1);
    // Sent at 0 s and 45 s; at 90 s the 1 minute deadline has passed.
    expect(evicted()).toEqual(["app-0", "app-1"]);
    const result = jsonResult(run);
    expect(result.outcome).toBe("timed-out");
    expect(result.nodes[0]?.evicted).toEqual(["apps/app-0", "apps/app-1"]);
    expect(result.nodes[0]?.stuck).toEqual([
      { pod: "apps/app-2", reason: "not evicted yet" },
      { pod: "apps/app-3", reason: "not evicted yet" },
    ]);
    expect(run.sleeps).toEqual([]);
    expect(unschedulable("worker-1")).toBe(false);
  });

  it("waits for an eviction's answer no longer than the time left", async () => {
    cluster.fake.add(node("worker-1"), pod("app-0", "worker-1"), pod("app-1", "worker-1"));
    const { clock, advance } = movableClock();
    // app-0's eviction may wait the whole minute for its answer; it takes 59.9 s.
    cluster.fake.onRequest = (request) => {
      if (request.method === "POST" && request.path.endsWith("/app-0/eviction")) advance(59_900);
    };
    // app-1's eviction is sent with 100 ms of the minute left, and gets no answer: the server
    // holds it until the drain gives up on it and closes the connection. (An answer held for a
    // fixed time could come first after a stall of the process, and evict the pod.)
    cluster.fake.injectFault({
      method: "POST",
      path: "/api/v1/namespaces/apps/pods/app-1/eviction",
      until: new Promise<never>(() => {}),
    });
    const run = await drain(["worker-1", "--timeout", "1m", "--json"], { clock });
    expect(run.code).toBe(1);
    const result = jsonResult(run);
    expect(result.outcome).toBe("timed-out");
    expect(result.nodes[0]?.stuck).toEqual([
      {
        pod: "apps/app-1",
        reason: "POST /api/v1/namespaces/apps/pods/app-1/eviction: no response within 100 ms",
      },
    ]);
    // The eviction was sent once; the late answer never came to pass.
    expect(evicted()).toEqual(["app-0", "app-1"]);
    expect(cluster.fake.get("pods", "app-1", "apps")).toBeDefined();
  });
});

describe("drain --timeout with slow reads", () => {
  /** The answer a read waits for, longer than a read's own 30 s limit. */
  const hang = 40_000;

  it("waits for a read of an evicted pod no longer than the time left, and says which read", async () => {
    cluster.fake.add(node("worker-1"), pod("app-0", "worker-1"));
    const { clock, advance } = movableClock();
    // The eviction takes 59.9 s to answer: 100 ms of the minute are left after it.
    cluster.fake.onRequest = (request) => {
      if (request.method === "POST" && request.path.endsWith("/app-0/eviction")) advance(59_900);
    };
    // The read that follows, to see whether the evicted pod is gone, gets no answer in time.
    cluster.fake.injectFault({
      method: "GET",
      path: "/api/v1/namespaces/apps/pods/app-0",
      delayMs: hang,
    });
    // What the drain gives a read past the deadline, not the ample time the other tests give it.
    const run = await drain(["worker-1", "--timeout", "1m", "--json"], {
      clock,
      ownLateRead: true,
    });
    expect(run.code).toBe(1);
    const result = jsonResult(run);
    expect(result.outcome).toBe("timed-out");
    expect(result.message).toMatch(
      /^1 pod still on worker-1 after the 1m timeout, which ran out while reading pod apps\/app-0 \(GET \S+\/api\/v1\/namespaces\/apps\/pods\/app-0: no response within 1 s\)$/,
    );
    expect(result.nodes[0]?.state).toBe("timed-out");
    expect(result.nodes[0]?.evicted).toEqual(["apps/app-0"]);
    expect(result.nodes[0]?.stuck.map((s) => s.pod)).toEqual(["apps/app-0"]);
    expect(run.sleeps).toEqual([]);
    expect(unschedulable("worker-1")).toBe(false);
  });

  it("stops the check before cordoning when a read meets the deadline", async () => {
    cluster.fake.add(node("worker-1"), pod("app-0", "worker-1"));
    const { clock, advance } = movableClock();
    // Reading the node takes 59.5 s; the list of its pods then gets no answer in time.
    cluster.fake.onRequest = (request) => {
      if (request.method === "GET" && request.path === "/api/v1/nodes/worker-1") advance(59_500);
    };
    cluster.fake.injectFault({ method: "GET", path: "/api/v1/pods", delayMs: hang });
    const run = await drain(["worker-1", "--timeout", "1m", "--json"], {
      clock,
      ownLateRead: true,
    });
    expect(run.code).toBe(1);
    const result = jsonResult(run);
    expect(result.outcome).toBe("timed-out");
    expect(result.message).toMatch(
      /^the 1m timeout ran out while listing the pods on worker-1 \(GET \S+\/api\/v1\/pods: no response within 1 s\)$/,
    );
    expect(cluster.writes()).toEqual([]);
    expect(unschedulable("worker-1")).toBe(false);
  });
});

describe("drain --timeout and cordons", () => {
  it("starts no cordon once the deadline has passed, and changes nothing", async () => {
    cluster.fake.add(node("worker-1"), pod("app-0", "worker-1"));
    const { clock, advance } = movableClock();
    // The list of the node's pods takes 61 s to answer: the check ends past the deadline.
    cluster.fake.onRequest = (request) => {
      if (request.method === "GET" && request.path === "/api/v1/pods") advance(61_000);
    };
    const run = await drain(["worker-1", "--timeout", "1m", "--json"], { clock });
    expect(run.code).toBe(1);
    const result = jsonResult(run);
    expect(result.outcome).toBe("timed-out");
    expect(result.message).toBe("the 1m timeout ran out before worker-1 was cordoned");
    expect(result.nodes[0]?.state).toBe("checked");
    expect(result.leftCordoned).toEqual([]);
    expect(cluster.writes()).toEqual([]);
    expect(unschedulable("worker-1")).toBe(false);
  });

  it("lets a slow cordon finish, starts no other past the deadline, and uncordons", async () => {
    cluster.fake.add(node("worker-1"), node("worker-2"), pod("app-0", "worker-1"));
    const { clock, advance } = movableClock();
    // The cordon of worker-1 takes 61 s to answer.
    cluster.fake.onRequest = (request) => {
      if (request.method === "PATCH" && request.path === "/api/v1/nodes/worker-1") advance(61_000);
    };
    const run = await drain(["worker-1", "worker-2", "--timeout", "1m", "--json"], { clock });
    expect(run.code).toBe(1);
    const result = jsonResult(run);
    expect(result.outcome).toBe("timed-out");
    expect(result.message).toBe("the 1m timeout ran out before worker-2 was cordoned");
    expect(result.nodes.map((n) => [n.name, n.cordoned, n.uncordoned])).toEqual([
      ["worker-1", true, true],
      ["worker-2", false, false],
    ]);
    // The uncordon goes past the deadline: leaving the node cordoned would be worse.
    expect(cluster.writes()).toEqual([
      "PATCH /api/v1/nodes/worker-1",
      "PATCH /api/v1/nodes/worker-1",
    ]);
    expect(unschedulable("worker-1")).toBe(false);
    expect(unschedulable("worker-2")).toBe(false);
  });

  it("uncordons a node whose cordon was applied and whose answer was lost", async () => {
    cluster.fake.add(node("worker-1"), pod("app-0", "worker-1"));
    // The API server cordons the node, and the connection drops halfway through its answer.
    cluster.fake.injectFault({ method: "PATCH", path: "/api/v1/nodes/worker-1", truncate: true });
    const run = await drain(["worker-1", "--timeout", "1m", "--json"]);
    expect(run.code).toBe(1);
    const result = jsonResult(run);
    expect(result.outcome).toBe("failed");
    expect(result.message).toMatch(/^PATCH \/api\/v1\/nodes\/worker-1: /);
    expect(result.nodes[0]).toMatchObject({ cordoned: true, uncordoned: true, evicted: [] });
    expect(result.leftCordoned).toEqual([]);
    expect(unschedulable("worker-1")).toBe(false);
  });

  it("counts a cordon the API server refused as not applied", async () => {
    cluster.fake.add(node("worker-1"), pod("app-0", "worker-1"));
    cluster.fake.injectFault({
      method: "PATCH",
      path: "/api/v1/nodes/worker-1",
      status: 403,
      message: 'nodes "worker-1" is forbidden',
    });
    const run = await drain(["worker-1", "--timeout", "1m", "--json"]);
    expect(run.code).toBe(1);
    const result = jsonResult(run);
    expect(result.outcome).toBe("failed");
    expect(result.nodes[0]).toMatchObject({ cordoned: false, uncordoned: false });
    expect(result.uncordonErrors).toEqual([]);
    expect(cluster.writes()).toEqual(["PATCH /api/v1/nodes/worker-1"]);
  });
});

describe("drain: uncordons after a stop", () => {
  it("sends every uncordon before waiting for any, and names the node whose uncordon failed", async () => {
    const nodes = ["worker-1", "worker-2", "worker-3"];
    cluster.fake.add(...nodes.map((name) => node(name)), pod("web-1", "worker-1"));
    // The eviction is refused outright: the drain stops with the three nodes cordoned.
    cluster.fake.injectFault({
      method: "POST",
      path: "/api/v1/namespaces/apps/pods/web-1/eviction",
      status: 403,
    });
    // The server holds the answers to the uncordons until all three have come, or, should the
    // drain send them one after another, until 10 s have passed without the next one: sent
    // together, they come at once, and a stall of the process must not look like a wait.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    for (const name of nodes) {
      cluster.fake.injectFault({
        method: "PATCH",
        path: `/api/v1/nodes/${name}`,
        after: 1,
        until: held,
        ...(name === "worker-2" ? { status: 500 } : {}),
      });
    }
    let uncordons = 0;
    let sentBeforeAnswers: number | undefined;
    const letGo = () => {
      sentBeforeAnswers ??= uncordons;
      release();
    };
    let fallback: ReturnType<typeof setTimeout> | undefined;
    cluster.fake.onRequest = (request) => {
      if (request.method !== "PATCH" || evicted().length === 0) return;
      uncordons++;
      clearTimeout(fallback);
      if (uncordons === nodes.length) letGo();
      else fallback = setTimeout(letGo, 10_000);
    };
    const run = await drain([...nodes, "--timeout", "1m", "--json"]);
    clearTimeout(fallback);
    expect(sentBeforeAnswers).toBe(3);
    expect(run.code).toBe(1);
    const result = jsonResult(run);
    expect(result.outcome).toBe("failed");
    expect(result.leftCordoned).toEqual(["worker-2"]);
    expect(result.uncordonErrors).toEqual([
      expect.stringMatching(/^worker-2: PATCH \S*\/api\/v1\/nodes\/worker-2: HTTP 500 /),
    ]);
    expect(result.nodes.map((n) => [n.name, n.cordoned, n.uncordoned])).toEqual([
      ["worker-1", true, true],
      ["worker-2", true, false],
      ["worker-3", true, true],
    ]);
    expect(nodes.map(unschedulable)).toEqual([false, true, false]);
  });
});
