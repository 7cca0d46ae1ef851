import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { parseWaitStop, waitShortfall } from "../../src/apply/report-wait.ts";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";
import { movableClock } from "./drain-support.ts";
import { expectReport, waitJson as json, useWaitCluster } from "./wait-nodes-support.ts";

type Raw = Record<string, unknown>;

const start = Date.parse("2025-01-12T00:00:00Z");
const cluster = useWaitCluster("wait", start);
const { wait, onList, expectUsageErrors } = cluster;

interface NodeOptions {
  pool?: string;
  /** false: the kubelet stopped posting status; "joining": a new VM's kubelet not Ready yet. */
  ready?: boolean | "joining" | "none";
  unschedulable?: boolean;
  controlPlane?: boolean;
  /** Minutes before the test's start. */
  ageMinutes?: number;
  /** Minutes before the test's start that the Ready condition last changed (default: at creation). */
  readyChangedMinutes?: number;
}

const minutesBefore = (minutes: number) => new Date(start - minutes * 60_000).toISOString();

function readyCondition(options: NodeOptions, age: number): Raw[] {
  const ready = options.ready ?? true;
  if (ready === "none") return [];
  const lastTransitionTime = minutesBefore(options.readyChangedMinutes ?? age);
  if (ready === true) {
    const message = "kubelet is posting ready status";
    return [{ type: "Ready", status: "True", reason: "KubeletReady", message, lastTransitionTime }];
  }
  if (ready === "joining") {
    const message = "container runtime network not ready: NetworkReady=false";
    return [
      { type: "Ready", status: "False", reason: "KubeletNotReady", message, lastTransitionTime },
    ];
  }
  const message = "Kubelet stopped posting node status.";
  return [
    { type: "Ready", status: "Unknown", reason: "NodeStatusUnknown", message, lastTransitionTime },
  ];
}

function node(name: string, options: NodeOptions = {}): Raw {
  const labels: Record<string, string> = { "kubernetes.io/hostname": name };
  if (options.pool) labels["pr-autoscaler.io/pool"] = options.pool;
  if (options.controlPlane) labels["node-role.kubernetes.io/control-plane"] = "";
  const age = options.ageMinutes ?? 60 * 24;
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels, creationTimestamp: minutesBefore(age) },
    spec: options.unschedulable ? { unschedulable: true } : {},
    status: { conditions: readyCondition(options, age) },
  };
}

/** Three workers waited for a minute, the apply taken to have begun at `since`, as JSON. */
function waitOneMinuteSince(since: string) {
  return wait(["--pool", "workers", "--count", "3", "--timeout", "1m", "--since", since, "--json"]);
}

/** The wait's next list of the nodes gets this answer: a status and a message, or a body. */
function failNodeList(answer: { status: number; message?: string; body?: string }): void {
  cluster.fake.injectFault({ method: "GET", path: "/api/v1/nodes", ...answer });
}

/** Runs `change` when the wait lists the nodes for the `n`-th time, before the answer. */
function onNthList(n: number, change: () => void): void {
  onList((lists) => {
    if (lists === n) change();
  });
}

async function writeRepoConfig(root: string, file: string, poolExtra = ""): Promise<void> {
  await mkdir(join(root, ".github"), { recursive: true });
  await writeFile(
    join(root, file),
    [
      "pools:",
      "  - name: workers",
      "    target: { file: terraform/terraform.tfvars, path: worker_count }",
      "    max: 6",
      "    selector:",
      "      matchLabels: { pr-autoscaler.io/pool: workers }",
      poolExtra,
      "  - name: gpu",
      "    target: { file: terraform/terraform.tfvars, path: gpu_count }",
      "    max: 2",
      "    selector:",
      "      matchExpressions:",
      "        - { key: pr-autoscaler.io/pool, operator: In, values: [gpu] }",
      "",
    ].join("\n"),
  );
}

describe("pr-autoscaler wait-nodes", () => {
  it("waits until a new node joins and is Ready", async () => {
    cluster.fake.add(
      node("talos-cp-1", { controlPlane: true }),
      node("talos-worker-1"),
      node("talos-worker-2"),
    );
    onNthList(3, () => cluster.fake.add(node("talos-worker-3", { ageMinutes: 0 })));
    const run = await wait(["--pool", "workers", "--count", "3", "--interval", "10s"]);
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([10_000, 10_000]);
    expect(run.stdout).toContain("pool workers: 2/3 Ready\n");
    expect(run.stdout).toContain(
      "Pool workers has 3 Ready nodes (wanted 3), after 20s.\n  selector: every node that is not control plane",
    );
    expect(run.stdout).toContain("talos-worker-3: Ready, age 20s");
    expect(run.stdout).toContain("talos-worker-1: Ready, age 1d");
    expect(run.stdout).not.toContain("talos-cp-1");
  });

  it("times out with what it saw: Ready and NotReady nodes, their ages, how many are missing", async () => {
    cluster.fake.add(
      node("talos-worker-1"),
      node("talos-worker-2", { unschedulable: true }),
      // The apply's new VM: created after the apply began, its kubelet not Ready yet.
      node("talos-worker-3", { ready: "joining", ageMinutes: 4 }),
    );
    const since = minutesBefore(10);
    const run = await waitOneMinuteSince(since);
    expect(run.code).toBe(1);
    expect(run.sleeps.reduce((a, b) => a + b, 0)).toBe(60_000);
    const result = json(run);
    expect(result).toMatchObject({
      outcome: "timed-out",
      since,
      ready: 2,
      missing: 1,
      notReadyBefore: [],
      waitingFor: ["talos-worker-3"],
      stoppedReady: [],
      message:
        "the pool has 2 of 3 nodes Ready (1 missing); waiting for talos-worker-3 to be Ready",
    });
    expect(result.members).toEqual([
      { name: "talos-worker-1", state: "ready", createdAt: expect.any(String), ageSeconds: 86_460 },
      {
        name: "talos-worker-2",
        state: "cordoned",
        createdAt: expect.any(String),
        ageSeconds: 86_460,
      },
      {
        name: "talos-worker-3",
        state: "not-ready",
        createdAt: expect.any(String),
        ageSeconds: 300,
        notReadyReason:
          "Ready=False: KubeletNotReady: container runtime network not ready: NetworkReady=false",
      },
    ]);
    // Progress went to stderr, one line per change only.
    expect(run.stderr).toBe(
      "pool workers: 2/3 Ready; NotReady: talos-worker-3; cordoned: talos-worker-2\n",
    );
  });

  it("prints the timeout report for people", async () => {
    cluster.fake.add(
      node("talos-worker-1"),
      node("talos-worker-2", { ready: "none", ageMinutes: 2 }),
    );
    const run = await wait(["--pool", "workers", "--count", "2", "--timeout", "30s"]);
    expectReport(
      run,
      1,
      "Timed out after 30s waiting for pool workers: the pool has 1 of 2 nodes Ready (1 missing); waiting for talos-worker-2 to be Ready.",
      "talos-worker-2: NotReady, age 2m30s (no Ready condition yet); waited for",
      "missing: 1 more Ready node",
    );
  });

  it("counts only the nodes the --selector matches", async () => {
    cluster.fake.add(
      node("talos-cp-1", { controlPlane: true, pool: "workers" }),
      node("worker-a", { pool: "workers" }),
      node("worker-b", { pool: "workers" }),
      node("gpu-a", { pool: "gpu" }),
    );
    const two = await wait([
      "--pool",
      "workers",
      "--count",
      "2",
      "--selector",
      "pr-autoscaler.io/pool=workers",
      "--json",
    ]);
    expect(two.code).toBe(0);
    expect(json(two).members?.map((m) => m.name)).toEqual(["worker-a", "worker-b"]);
    expect(json(two).selector).toBe("pr-autoscaler.io/pool=workers");
    const three = await wait([
      "--pool",
      "workers",
      "--count",
      "3",
      "--selector",
      "pr-autoscaler.io/pool in (workers)",
      "--timeout",
      "20s",
    ]);
    expect(three.code).toBe(1);
  });

  it("takes the pool's selector and provisionTimeout from --config", async () => {
    await writeRepoConfig(cluster.dir, "infra.yml", "    provisionTimeout: 3m");
    cluster.fake.add(
      node("worker-a", { pool: "workers" }),
      node("gpu-a", { pool: "gpu" }),
      node("gpu-b", { pool: "gpu" }),
    );
    const gpu = await wait(["--pool", "gpu", "--count", "2", "--config", "infra.yml", "--json"]);
    expect(gpu.code).toBe(0);
    expect(json(gpu).selector).toBe("pr-autoscaler.io/pool in (gpu)");
    const workers = await wait(["--pool", "workers", "--count", "2", "--config", "infra.yml"]);
    expect(workers.code).toBe(1);
    expect(workers.sleeps.reduce((a, b) => a + b, 0)).toBe(180_000);
    expect(workers.stdout).toContain("selector: pr-autoscaler.io/pool=workers");
  });

  it(`reads .github/pr-autoscaler.yml of the current directory by default`, async () => {
    await writeRepoConfig(cluster.dir, ".github/pr-autoscaler.yml");
    cluster.fake.add(node("worker-a", { pool: "workers" }), node("gpu-a", { pool: "gpu" }));
    const run = await wait(["--pool", "workers", "--count", "1", "--json"]);
    expect(run.code).toBe(0);
    expect(json(run).members?.map((m) => m.name)).toEqual(["worker-a"]);
    const unknown = await wait(["--pool", "storage", "--count", "1"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('pool "storage" is not in the config (pools: workers, gpu)');
  });

  it("with --gone waits until the removed node's Node object is gone", async () => {
    cluster.fake.add(
      node("talos-worker-1"),
      node("talos-worker-2"),
      node("talos-worker-3", { ready: false, unschedulable: true }),
    );
    onNthList(2, () => cluster.fake.remove("nodes", "talos-worker-3"));
    const run = await wait(["--pool", "workers", "--count", "2", "--gone", "talos-worker-3"]);
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([10_000]);
    expect(run.stdout).toContain("pool workers: 2/2 Ready; waiting for talos-worker-3 to go\n");
    expect(run.stdout).toContain("talos-worker-3: gone");
    expect(cluster.fake.requestCount({ method: "DELETE" })).toBe(0);
  });

  it("with --ignore leaves a Node object a destroyed VM left behind out of the pool, and waits not for it to go", async () => {
    // The apply destroyed talos-worker-3 minutes ago; its Node object could not be deleted.
    const nodes = () =>
      cluster.fake.add(
        node("talos-worker-1"),
        node("talos-worker-2"),
        node("talos-worker-3", { ready: false, unschedulable: true, readyChangedMinutes: 2 }),
      );
    const since = minutesBefore(5);
    const args = ["--pool", "workers", "--count", "2", "--since", since, "--timeout", "1m"];
    nodes();
    const judged = await wait([...args, "--json"]);
    expect(judged.code).toBe(1);
    expect(json(judged)).toMatchObject({ waitingFor: ["talos-worker-3"] });

    nodes();
    const run = await wait([...args, "--ignore", "talos-worker-3", "--json"]);
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([]);
    const result = json(run);
    expect(result).toMatchObject({ outcome: "ready", ready: 2, ignored: ["talos-worker-3"] });
    expect(result.members?.map((m) => m.name)).toEqual(["talos-worker-1", "talos-worker-2"]);
    expect(result.gone).toEqual([]);
    expect(cluster.fake.requestCount({ method: "DELETE" })).toBe(0);

    nodes();
    const text = await wait([...args, "--ignore", "talos-worker-3"]);
    expect(text.stdout).toContain("  left out, not waited for (--ignore): talos-worker-3\n");
  });

  it("times out when a --gone node stays, and says why", async () => {
    cluster.fake.add(
      node("talos-worker-1"),
      node("talos-worker-3", { ready: false, unschedulable: true }),
    );
    const run = await wait([
      "--pool",
      "workers",
      "--count",
      "1",
      "--gone",
      "talos-worker-3",
      "--timeout",
      "30s",
    ]);
    expectReport(
      run,
      1,
      "Timed out after 30s waiting for pool workers: talos-worker-3 still there.",
      "talos-worker-3: still there (NotReady, cordoned); pass --delete-gone to delete its Node object",
    );
  });

  it("--delete-gone deletes a removed node's Node object only once it is cordoned and NotReady", async () => {
    cluster.fake.add(
      node("talos-worker-1"),
      // The VM is still shutting down: its kubelet reports Ready.
      node("talos-worker-3", { unschedulable: true }),
      // Never drained: left alone.
      node("talos-worker-4", { ready: false }),
    );
    onNthList(3, () =>
      cluster.fake.add(node("talos-worker-3", { ready: false, unschedulable: true })),
    );
    const run = await wait([
      "--pool",
      "workers",
      "--count",
      "1",
      "--gone",
      "talos-worker-3",
      "--gone",
      "talos-worker-4",
      "--delete-gone",
      "--timeout",
      "1m",
      "--json",
    ]);
    expect(run.code).toBe(1);
    expect(cluster.fake.requests.filter((r) => r.method === "DELETE").map((r) => r.path)).toEqual([
      "/api/v1/nodes/talos-worker-3",
    ]);
    const deleteAt = cluster.fake.requests.findIndex((r) => r.method === "DELETE");
    expect(
      cluster.fake.requests.slice(0, deleteAt).filter((r) => r.path === "/api/v1/nodes"),
    ).toHaveLength(3);
    expect(cluster.fake.get("nodes", "talos-worker-3")).toBeUndefined();
    expect(cluster.fake.get("nodes", "talos-worker-4")).toBeDefined();
    expect(json(run).gone).toEqual([
      { name: "talos-worker-3", state: "deleted" },
      { name: "talos-worker-4", state: "present", ready: false, unschedulable: false },
    ]);
    expect(run.stderr).toContain("node/talos-worker-3 deleted\n");
  });

  it("--result-file writes the JSON result the apply report reads, and stdout keeps the readable one", async () => {
    cluster.fake.add(node("talos-worker-1"));
    const file = join(cluster.dir, "wait-workers.json");
    const args = ["--pool", "workers", "--count", "2", "--timeout", "10s", "--result-file", file];
    const run = await wait(args);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("Timed out after 10s waiting for pool workers: ");
    const text = await readFile(file, "utf8");
    expect(JSON.parse(text)).toMatchObject({ outcome: "timed-out", ready: 1, missing: 1 });
    expect(parseWaitStop(text, file)).toMatchObject({ pool: "workers", count: 2, missing: 1 });
    const nowhere = await wait([...args.slice(0, -1), join(cluster.dir, "no-such-dir", "w.json")]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain("the folder");
  });

  it("--delete-gone: a failed delete keeps what the look saw, and is tried again unless refused", async () => {
    const drained = () => node("talos-worker-3", { ready: false, unschedulable: true });
    cluster.fake.add(node("talos-worker-1"), drained());
    const path = "/api/v1/nodes/talos-worker-3";
    cluster.fake.injectFault({ method: "DELETE", path, status: 500 });
    const args = ["--pool", "workers", "--count", "1", "--gone", "talos-worker-3", "--delete-gone"];
    const retried = await wait([...args, "--json"]);
    expect(retried.code).toBe(0);
    expect(retried.stderr).toMatch(
      /could not delete node talos-worker-3: DELETE \S*\/api\/v1\/nodes\/talos-worker-3: HTTP 500 InternalError: injected failure \(trying again at the next look\)\n/,
    );
    expect(retried.stderr).not.toContain("could not read the nodes");
    expect(json(retried).gone).toEqual([{ name: "talos-worker-3", state: "deleted" }]);

    // An identity that may not delete nodes: the wait stops, having read them.
    cluster.fake.add(drained());
    cluster.fake.injectFault({ method: "DELETE", path, status: 403, times: Infinity });
    const refused = await wait([...args, "--json"]);
    expect(refused.code).toBe(1);
    const result = json(refused);
    expect(result).toMatchObject({ outcome: "failed", nodesRead: true, ready: 1, missing: 0 });
    expect(result.message).toMatch(
      /^could not delete node talos-worker-3: DELETE \S*\/api\/v1\/nodes\/talos-worker-3: HTTP 403 Forbidden/,
    );
    expect(result.gone).toEqual([
      {
        name: "talos-worker-3",
        state: "present",
        ready: false,
        unschedulable: true,
        deleteFailed: expect.stringMatching(/HTTP 403 Forbidden/),
      },
    ]);
    const text = await wait(args);
    expect(text.stdout).toContain(
      "talos-worker-3: still there (NotReady, cordoned); its delete failed: DELETE ",
    );
    expect(text.stdout).not.toContain("never read");
  });

  it("--delete-gone: a delete refused with 409 Conflict is told as such, not as a missing --delete-gone", async () => {
    const drained = { ready: false, unschedulable: true };
    cluster.fake.add(node("talos-worker-1"), node("talos-worker-3", drained));
    // Every delete of talos-worker-3 finds the object changed since the look that read it.
    const path = "/api/v1/nodes/talos-worker-3";
    const message =
      "Precondition failed: ResourceVersion in precondition: 41, ResourceVersion in object meta: 42";
    cluster.fake.injectFault({ method: "DELETE", path, status: 409, message, times: Infinity });
    // The look at the timeout fails: the first look's 409 is the last delete sent.
    cluster.fake.injectFault({ method: "GET", path: "/api/v1/nodes", after: 1, status: 503 });
    const args = ["--pool", "workers", "--count", "1", "--gone", "talos-worker-3", "--delete-gone"];
    const run = await wait([...args, "--timeout", "10s", "--json"]);
    expect(run.code).toBe(1);
    expect(cluster.fake.requestCount({ method: "DELETE", path })).toBe(1);
    const result = json(run);
    expect(result).toMatchObject({ outcome: "timed-out", deleteGone: true });
    expect(result.gone).toEqual([
      {
        name: "talos-worker-3",
        state: "present",
        ready: false,
        unschedulable: true,
        deleteConflict: true,
      },
    ]);
    expect(run.stderr).toContain(
      "node/talos-worker-3 not deleted: it changed since the look (409 Conflict); trying again at the next look\n",
    );

    // The same 409, then a delete refused for good stops the wait: the text says which is which.
    cluster.fake.add(node("talos-worker-4", drained));
    cluster.fake.injectFault({
      method: "DELETE",
      path: "/api/v1/nodes/talos-worker-4",
      status: 403,
      times: Infinity,
    });
    const text = await wait([...args, "--gone", "talos-worker-4"]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      "talos-worker-3: still there (NotReady, cordoned); its delete at the last look was refused, the Node object having changed since that look read it (409 Conflict): run the wait again, or kubectl delete node talos-worker-3\n",
    );
    expect(text.stdout).toContain(
      "talos-worker-4: still there (NotReady, cordoned); its delete failed: DELETE ",
    );
    expect(text.stdout).not.toContain("pass --delete-gone");
  });

  it("--delete-gone: a delete that fails past the timeout is told as a failed delete, not as a failed look", async () => {
    const drained = { ready: false, unschedulable: true };
    cluster.fake.add(node("talos-worker-1"), node("talos-worker-3", drained));
    // The first look's delete takes the whole timeout and then gets 503: the look read the nodes.
    const path = "/api/v1/nodes/talos-worker-3";
    cluster.fake.injectFault({ method: "DELETE", path, status: 503 });
    const { clock, advance } = movableClock(start);
    cluster.fake.onRequest = (request) => {
      if (request.method === "DELETE") advance(10_000);
    };
    const args = ["--pool", "workers", "--count", "1", "--gone", "talos-worker-3", "--delete-gone"];
    const run = await wait([...args, "--timeout", "10s", "--json"], { clock });
    expect(run.code).toBe(1);
    expect(cluster.fake.requestCount({ method: "DELETE", path })).toBe(1);
    const result = json(run);
    expect(result).toMatchObject({ outcome: "timed-out", nodesRead: true, ready: 1, missing: 0 });
    expect(result.lastError).toBeUndefined();
    expect(result.message).toMatch(
      /^talos-worker-3 still there: the last look's delete of it failed: DELETE \S*\/api\/v1\/nodes\/talos-worker-3: HTTP 503 /,
    );
    expect(result.message).not.toContain("the last look failed");
    expect(result.gone).toEqual([
      {
        name: "talos-worker-3",
        state: "present",
        ready: false,
        unschedulable: true,
        deleteFailed: expect.stringMatching(/HTTP 503/),
      },
    ]);
    const stop = parseWaitStop(run.stdout, "wait-workers.json");
    expect(waitShortfall(stop)).toBe("pool workers: talos-worker-3 still there, delete failed");
  });

  it("--delete-gone: a node whose delete a failed delete kept back is not told to pass --delete-gone", async () => {
    const drained = { ready: false, unschedulable: true };
    cluster.fake.add(
      node("talos-worker-1"),
      node("talos-worker-3", drained),
      node("talos-worker-4", drained),
    );
    cluster.fake.injectFault({
      method: "DELETE",
      path: "/api/v1/nodes/talos-worker-3",
      status: 403,
      times: Infinity,
    });
    const run = await wait([
      "--pool",
      "workers",
      "--count",
      "1",
      "--gone",
      "talos-worker-3",
      "--gone",
      "talos-worker-4",
      "--delete-gone",
    ]);
    expect(run.code).toBe(1);
    expect(
      cluster.fake.requestCount({ method: "DELETE", path: "/api/v1/nodes/talos-worker-4" }),
    ).toBe(0);
    expect(run.stdout).toContain(
      "talos-worker-4: still there (NotReady, cordoned); its delete was not sent at the last look: the delete of talos-worker-3 failed first; run the wait again, or kubectl delete node talos-worker-4\n",
    );
    expect(run.stdout).not.toContain("pass --delete-gone");
  });

  it("tries again after an API error worth retrying, and stops at once when refused", async () => {
    cluster.fake.add(node("talos-worker-1"));
    failNodeList({ status: 503 });
    const retried = await wait(["--pool", "workers", "--count", "1"]);
    expectReport(retried, 0, "could not read the nodes (trying again):");
    expect(retried.sleeps).toEqual([10_000]);

    failNodeList({
      status: 403,
      message: 'nodes is forbidden: User "system:anonymous" cannot list resource "nodes"',
    });
    const refused = await wait(["--pool", "workers", "--count", "1"]);
    expect(refused.code).toBe(1);
    expect(refused.sleeps).toEqual([]);
    expect(refused.stdout).toContain("Stopped waiting for pool workers:");
    expect(refused.stdout).toContain("HTTP 403 Forbidden");
  });

  it("never reads unknown as zero: a wait whose every look failed says the nodes were never read", async () => {
    const dead = await FakeKubeApiserver.start();
    const deadConfig = await dead.writeKubeconfig(join(cluster.dir, "dead-kubeconfig"));
    await dead.close();
    const args = [
      "--pool",
      "workers",
      "--count",
      "4",
      "--timeout",
      "30s",
      "--kubeconfig",
      deadConfig,
    ];
    const refused = await wait([...args, "--gone", "talos-worker-5", "--json"], {
      kubeconfig: false,
    });
    expect(refused.code).toBe(1);
    expect(refused.sleeps).toEqual([10_000, 10_000, 10_000]);
    const result = json(refused);
    expect(result).toMatchObject({
      outcome: "timed-out",
      count: 4,
      nodesRead: false,
      gone: [{ name: "talos-worker-5", state: "unknown" }],
    });
    expect(result.message).toMatch(/^could not read the nodes at any look: /);
    for (const field of ["members", "ready", "missing", "newlyReady", "waitingFor"]) {
      expect(result).not.toHaveProperty(field);
    }
    const text = await wait(args, { kubeconfig: false });
    expect(text.stdout).toContain(
      "  nodes: never read (no look succeeded), so how many are Ready is not known\n",
    );
    expect(text.stdout).not.toContain("missing:");
  });

  it("stops at once on a 404 or an answer that is not JSON, and says the nodes were never read", async () => {
    cluster.fake.add(node("talos-worker-1"));
    failNodeList({ status: 404, message: "the server could not find the requested resource" });
    const notFound = await wait(["--pool", "workers", "--count", "1", "--json"]);
    expect(notFound.code).toBe(1);
    expect(notFound.sleeps).toEqual([]);
    expect(json(notFound)).toMatchObject({ outcome: "failed", nodesRead: false });
    expect(json(notFound)).not.toHaveProperty("ready");
    failNodeList({ status: 200, body: "<html><body>Sign in to the proxy</body></html>" });
    const html = await wait(["--pool", "workers", "--count", "1"]);
    expect(html.code).toBe(1);
    expect(html.sleeps).toEqual([]);
    expect(html.stdout).toMatch(
      /^Stopped waiting for pool workers: GET \S+: the response is not JSON/,
    );
    expect(html.stdout).toContain("  nodes: never read (no look succeeded)");
  });

  it("exits 2 on a duration longer than 7d and on a count no cluster has", async () => {
    cluster.fake.add(node("talos-worker-1"));
    const one = ["--pool", "workers", "--count", "1"];
    await expectUsageErrors([
      [[...one, "--timeout=99999999999999999999h"], "--timeout expects a duration of at most 7d"],
      [[...one, "--timeout", "8d"], "--timeout expects a duration of at most 7d"],
      [[...one, "--interval", "169h"], "--interval expects a duration of at most 7d"],
      [
        ["--pool", "workers", "--count", "99999999999999999999"],
        "--count expects at most 5000 nodes",
      ],
      [["--pool", "workers", "--count", "5001"], "--count expects at most 5000 nodes"],
    ]);
    expect(cluster.fake.requests).toEqual([]);
    const week = await wait(["--pool", "workers", "--count", "1", "--timeout", "7d", "--json"]);
    expect(week.code).toBe(0);
    expect(json(week).since).toBe("2025-01-05T00:00:00.000Z");
  });

  it("exits 2 on bad flags, selectors and configs", async () => {
    const cases: [string[], string][] = [
      [["--count", "1"], "--pool NAME is required"],
      [["--pool", "workers"], "--count N is required"],
      [["--pool", "workers", "--count", "three"], "--count expects a whole number"],
      [
        ["--pool", "workers", "--count", "1", "--selector", "a=b", "--config", "x.yml"],
        "give either --selector or --config",
      ],
      [["--pool", "workers", "--count", "1", "--selector", "a=b,,c"], "has an empty term"],
      [
        ["--pool", "workers", "--count", "1", "--selector", "a=b=c"],
        "does not start with a label key",
      ],
      [["--pool", "workers", "--count", "1", "--delete-gone"], "--delete-gone needs"],
      [["--pool", "workers", "--count", "1", "--interval", "0"], "--interval expects a duration"],
      [["--pool", "workers", "--count", "1", "--config", "missing.yml"], "no such file"],
    ];
    await expectUsageErrors(cases);
    await writeFile(join(cluster.dir, "bad.yml"), "pools:\n  - name: workers\n    max: two\n");
    const bad = await wait(["--pool", "workers", "--count", "1", "--config", "bad.yml"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^bad\.yml:3:/m);
    expect(cluster.fake.requests).toEqual([]);
  });
});

describe("wait-nodes and nodes that were not Ready before the apply", () => {
  /** A VM that died two days ago, in the pool for months: the planner planned around it. */
  const dead = () =>
    node("talos-worker-3", { ready: false, ageMinutes: 90 * 24 * 60, readyChangedMinutes: 2880 });

  it("counts a node dead since before the apply, reports it, and does not wait for it", async () => {
    cluster.fake.add(node("talos-worker-1"), node("talos-worker-2"), dead());
    onNthList(2, () => cluster.fake.add(node("talos-worker-4", { ageMinutes: 0 })));
    const run = await wait(["--pool", "workers", "--count", "4", "--json"]);
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([10_000]);
    const result = json(run);
    expect(result).toMatchObject({
      outcome: "ready",
      since: minutesBefore(15),
      ready: 3,
      notReadyBefore: ["talos-worker-3"],
      waitingFor: [],
      missing: 0,
    });
    expect(result.members?.find((m) => m.name === "talos-worker-3")).toMatchObject({
      state: "not-ready",
      notReadyBefore: true,
    });
    expect(run.stderr).toContain(
      "pool workers: 3/4 nodes, 2 Ready; not Ready before the apply (not waited for): talos-worker-3\n",
    );
  });

  it("says so for people", async () => {
    cluster.fake.add(
      node("talos-worker-1"),
      node("talos-worker-2"),
      dead(),
      node("talos-worker-4"),
    );
    const run = await wait(["--pool", "workers", "--count", "4"]);
    expectReport(
      run,
      0,
      "Pool workers has 3 Ready nodes and 1 not Ready before the apply (wanted 4), after 0s.",
      "talos-worker-3: NotReady, age 90d (Ready=Unknown: NodeStatusUnknown: Kubelet stopped posting node status.); not Ready before the apply: not waited for",
      `not Ready before the apply: talos-worker-3 (counted, not waited for; since 2025-01-11 23:45 UTC)`,
    );
  });

  it("still needs the count: a dead node does not stand in for a VM that never joined", async () => {
    cluster.fake.add(node("talos-worker-1"), node("talos-worker-2"), dead());
    const run = await wait(["--pool", "workers", "--count", "4", "--timeout", "1m", "--json"]);
    expect(run.code).toBe(1);
    expect(json(run).message).toBe(
      "the pool has 3 of 4 nodes (2 Ready, not Ready before the apply: talos-worker-3; 1 missing)",
    );
  });

  it("fails when a new VM never becomes Ready, though the pool has the count in Node objects", async () => {
    cluster.fake.add(node("talos-worker-1"), node("talos-worker-2"), dead());
    onNthList(2, () =>
      cluster.fake.add(node("talos-worker-4", { ready: "joining", ageMinutes: 0 })),
    );
    const run = await wait(["--pool", "workers", "--count", "4", "--timeout", "2m", "--json"]);
    expect(run.code).toBe(1);
    expect(json(run)).toMatchObject({
      outcome: "timed-out",
      notReadyBefore: ["talos-worker-3"],
      waitingFor: ["talos-worker-4"],
      ready: 2,
      missing: 1,
      message:
        "the pool has 3 of 4 nodes (2 Ready, not Ready before the apply: talos-worker-3; 1 missing); waiting for talos-worker-4 to be Ready",
    });
  });

  it("waits for a VM the apply created that registered before the wait began", async () => {
    // terraform apply began 12 minutes ago; the new VM registered 3 minutes ago and is booting.
    cluster.fake.add(
      node("talos-worker-1"),
      node("talos-worker-2"),
      node("talos-worker-4", { ready: "joining", ageMinutes: 3 }),
    );
    const byDefault = await wait(["--pool", "workers", "--count", "3", "--json"]);
    expect(byDefault.code).toBe(1);
    expect(json(byDefault).waitingFor).toEqual(["talos-worker-4"]);
    // A timeout shorter than the VM's age needs --since: by default the apply is taken to have
    // begun one timeout before the wait.
    const since = minutesBefore(12);
    const exact = await waitOneMinuteSince(since);
    expect(exact.code).toBe(1);
    expect(json(exact)).toMatchObject({
      since,
      notReadyBefore: [],
      waitingFor: ["talos-worker-4"],
    });
  });

  it("with --since, a node that stopped being Ready after the apply began is waited for", async () => {
    cluster.fake.add(
      node("talos-worker-1"),
      node("talos-worker-2", { ready: false, readyChangedMinutes: 5 }),
      dead(),
    );
    const since = minutesBefore(8);
    const run = await waitOneMinuteSince(since);
    expect(run.code).toBe(1);
    expect(json(run)).toMatchObject({
      notReadyBefore: ["talos-worker-3"],
      waitingFor: ["talos-worker-2"],
    });
  });

  it("fails when a node Ready at the start stops being Ready during the wait", async () => {
    cluster.fake.add(node("talos-worker-1"), node("talos-worker-2"), node("talos-worker-3"));
    onNthList(2, () => {
      cluster.fake.add(node("talos-worker-4", { ageMinutes: 0 }));
      // The same Node object (same UID): its kubelet stopped posting status.
      const stopped = node("talos-worker-2", { ready: false, readyChangedMinutes: 0 });
      const uid = (cluster.fake.get("nodes", "talos-worker-2")?.metadata as Raw | undefined)?.uid;
      cluster.fake.put("nodes", { ...stopped, metadata: { ...(stopped.metadata as Raw), uid } });
    });
    const run = await wait(["--pool", "workers", "--count", "4", "--timeout", "1m", "--json"]);
    expect(run.code).toBe(1);
    const result = json(run);
    expect(result).toMatchObject({
      waitingFor: ["talos-worker-2"],
      stoppedReady: ["talos-worker-2"],
      message:
        "the pool has 3 of 4 nodes Ready (1 missing); talos-worker-2 stopped being Ready during the wait",
    });
    expect(result.members?.find((m) => m.name === "talos-worker-2")).toMatchObject({
      stoppedReady: true,
    });
  });

  it("exits 2 on a --since that is not a time with its offset, or is in the future", async () => {
    const since = (time: string) => ["--pool", "workers", "--count", "1", "--since", time];
    await expectUsageErrors([
      [since("yesterday"), "--since expects a time with its offset"],
      [since("2025-01-11T20:00:00"), "--since expects a time with its offset"],
      [since("2025-01-12T00:05:00Z"), "is in the future"],
      // A space for the T reads as the same time, here one still to come.
      [since("2025-01-12 00:05:00+00:00"), "is in the future"],
    ]);
    expect(cluster.fake.requests).toEqual([]);
  });
});
