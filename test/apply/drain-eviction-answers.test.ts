import { describe, expect, it } from "@jest/globals";
import { jsonResult, node, pod, type Raw, useDrainCluster } from "./drain-support.ts";

const cluster = useDrainCluster("drain-answers");
const { drain } = cluster;

const eviction = "/api/v1/namespaces/apps/pods/web-1/eviction";
const evictions = () => cluster.fake.requestCount({ method: "POST", path: eviction });

/** The API server's answer when the pod changed while it evicted it. */
const modified =
  'Operation cannot be fulfilled on pods "web-1": the object has been modified; please apply your changes to the latest version and try again';

describe("drain: a 404 or 409 on an eviction", () => {
  it("evicts again a pod still there after a 409 Conflict, as after any passing failure", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1"));
    cluster.fake.injectFault({
      method: "POST",
      path: eviction,
      status: 409,
      reason: "Conflict",
      message: modified,
    });
    const run = await drain(["worker-1", "--timeout", "2m", "--json"]);
    expect(run.code).toBe(0);
    const result = jsonResult(run);
    expect(result.outcome).toBe("drained");
    expect(result.nodes[0]).toMatchObject({ evicted: ["apps/web-1"], stuck: [] });
    expect(evictions()).toBe(2);
    expect(run.sleeps).toEqual([5_000]);
    expect(cluster.fake.get("pods", "web-1", "apps")).toBeUndefined();
    expect(run.stderr).toContain("HTTP 409 Conflict");
    expect(run.stderr).toContain("the pod is still there, not being deleted");
  });

  it("evicts again after a 404 when the pod is still there", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1"));
    cluster.fake.injectFault({ method: "POST", path: eviction, status: 404, reason: "NotFound" });
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(0);
    expect(evictions()).toBe(2);
    expect(jsonResult(run).nodes[0]?.evicted).toEqual(["apps/web-1"]);
  });

  it("takes a 409 for gone when the name now belongs to another pod, which it leaves alone", async () => {
    cluster.fake.add(node("worker-1"), node("worker-2"), pod("web-1", "worker-1"));
    cluster.fake.onRequest = (request) => {
      if (request.method !== "POST" || request.path !== eviction) return;
      // Deleted and recreated under the same name on another node: the UID precondition fails.
      cluster.fake.remove("pods", "web-1", "apps");
      cluster.fake.add(pod("web-1", "worker-2"));
    };
    cluster.fake.injectFault({
      method: "POST",
      path: eviction,
      status: 409,
      reason: "Conflict",
      message: "Precondition failed: UID in precondition: a, UID in object meta: b",
    });
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(0);
    expect(evictions()).toBe(1);
    expect(run.sleeps).toEqual([]);
    expect(jsonResult(run).nodes[0]).toMatchObject({ state: "drained", evicted: [] });
    expect(cluster.fake.get("pods", "web-1", "apps")?.spec).toMatchObject({ nodeName: "worker-2" });
  });

  it("waits for a pod the read shows being deleted, without counting it evicted", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1"));
    const stored = cluster.fake.get("pods", "web-1", "apps") as Raw;
    let reads = 0;
    cluster.fake.onRequest = (request) => {
      if (request.method === "POST" && request.path === eviction) {
        // Someone else deleted it meanwhile; its kubelet is stopping it.
        cluster.fake.put("pods", {
          ...stored,
          metadata: { ...(stored.metadata as Raw), deletionTimestamp: "2025-01-12T00:00:30Z" },
        });
      }
      if (request.method === "GET" && request.path === "/api/v1/namespaces/apps/pods/web-1") {
        if (++reads === 2) cluster.fake.remove("pods", "web-1", "apps");
      }
    };
    cluster.fake.injectFault({ method: "POST", path: eviction, status: 409, reason: "Conflict" });
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(0);
    expect(evictions()).toBe(1);
    expect(reads).toBe(2);
    expect(jsonResult(run).nodes[0]).toMatchObject({ state: "drained", evicted: [] });
  });

  it("tries again when the read that should tell fails, and never reports a pod still there as terminating", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1"));
    cluster.fake.injectFault({
      method: "POST",
      path: eviction,
      status: 409,
      times: Number.POSITIVE_INFINITY,
      reason: "Conflict",
      message: modified,
    });
    cluster.fake.injectFault({
      method: "GET",
      path: "/api/v1/namespaces/apps/pods/web-1",
      status: 503,
    });
    const run = await drain(["worker-1", "--timeout", "1m", "--json"]);
    expect(run.code).toBe(1);
    const result = jsonResult(run);
    expect(result.outcome).toBe("timed-out");
    const [stuck] = result.nodes[0]?.stuck ?? [];
    expect(stuck?.terminating).toBeUndefined();
    expect(stuck?.reason).toContain("HTTP 409 Conflict");
    expect(stuck?.reason).toContain("the pod is still there, not being deleted");
    expect(run.stderr).toContain("reading the pod to tell whether it is gone failed");
    expect(evictions()).toBeGreaterThan(2);
    expect(cluster.fake.get("pods", "web-1", "apps")).toBeDefined();
  });

  it("evicts again a pod whose eviction was answered 201 but that is not being deleted, reporting it once", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1"));
    // An answer of success that changed nothing: the pod is still there, as it was.
    cluster.fake.injectFault({ method: "POST", path: eviction, status: 201, reason: "Created" });
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(0);
    expect(evictions()).toBe(2);
    expect(jsonResult(run).nodes[0]?.evicted).toEqual(["apps/web-1"]);
    expect(cluster.fake.get("pods", "web-1", "apps")).toBeUndefined();
  });
});

describe("drain: a 403 in a namespace being deleted", () => {
  /** The API server's answer to an eviction in a namespace being deleted (a Status with its cause). */
  const terminating = JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    message:
      'pods "web-1" is forbidden: unable to create new content in namespace apps because it is being terminated',
    reason: "Forbidden",
    details: {
      name: "web-1",
      kind: "pods",
      causes: [
        {
          reason: "NamespaceTerminating",
          message: "namespace apps is being terminated",
          field: "metadata.namespace",
        },
      ],
    },
    code: 403,
  });

  it("waits for the pod the namespace's deletion deletes, without counting it evicted", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1"));
    const stored = cluster.fake.get("pods", "web-1", "apps") as Raw;
    cluster.fake.onRequest = (request) => {
      if (request.method !== "POST" || request.path !== eviction) return;
      // The namespace controller deletes the namespace's pods: this one is being deleted now.
      cluster.fake.put("pods", {
        ...stored,
        metadata: { ...(stored.metadata as Raw), deletionTimestamp: "2025-01-12T00:00:30Z" },
      });
      cluster.fake.onRequest = undefined;
      setTimeout(() => cluster.fake.remove("pods", "web-1", "apps"), 0);
    };
    cluster.fake.injectFault({ method: "POST", path: eviction, status: 403, body: terminating });
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(0);
    expect(evictions()).toBe(1);
    expect(jsonResult(run).nodes[0]).toMatchObject({ state: "drained", evicted: [] });
  });

  it("tries again while the pod is not being deleted yet, instead of stopping the drain", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1"));
    cluster.fake.injectFault({ method: "POST", path: eviction, status: 403, body: terminating });
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(0);
    expect(evictions()).toBe(2);
    expect(jsonResult(run).nodes[0]?.evicted).toEqual(["apps/web-1"]);
  });

  it("stops the drain on any other 403", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1"));
    cluster.fake.injectFault({ method: "POST", path: eviction, status: 403, reason: "Forbidden" });
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(1);
    expect(jsonResult(run).outcome).toBe("failed");
    expect(evictions()).toBe(1);
  });
});
