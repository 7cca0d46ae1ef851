import { writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";
import { ephemeralVolume, persistentVolume, volumeClaim } from "../support/kube-volumes.ts";
import {
  budget,
  daemonPod,
  jsonResult,
  mirrorPod,
  node,
  pod,
  type Raw,
  useDrainCluster,
} from "./drain-support.ts";

const TOKEN = "drain-identity-token";
const cluster = useDrainCluster("drain", { token: TOKEN });
const { unschedulable, writes } = cluster;

async function drain(args: string[], options: { tty?: boolean; withKubeconfig?: boolean } = {}) {
  return cluster.drain(args, {
    ...(options.withKubeconfig === false ? { kubeconfig: undefined } : {}),
    ...(options.tty !== undefined ? { tty: options.tty } : {}),
  });
}

function podNames(): string[] {
  return cluster.fake.list("pods").map((p) => String((p.metadata as Raw).name));
}

interface ProxiedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  body: string;
}

/**
 * A pass-through proxy on 127.0.0.1 in front of the fake that keeps request bodies, which the
 * fake's request log leaves out.
 */
async function startRecordingProxy(target: string) {
  const seen: ProxiedRequest[] = [];
  const server = http.createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({
        method: incoming.method ?? "",
        path: incoming.url ?? "",
        contentType: incoming.headers["content-type"],
        body: body.toString("utf8"),
      });
      const forward = http.request(
        `${target}${incoming.url ?? "/"}`,
        { method: incoming.method, headers: incoming.headers },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- tests ----------------------------------------------------------------------------------

describe("pr-autoscaler drain", () => {
  it("cordons first, then evicts only the pods that must go, never deleting one", async () => {
    cluster.fake.add(
      node("worker-1"),
      node("worker-2"),
      pod("web-1", "worker-1"),
      pod("db-0", "worker-1", { owner: ["StatefulSet", "db"] }),
      pod("report-28aa1", "worker-1", { owner: null, phase: "Succeeded" }),
      daemonPod("cilium-x7k2p", "worker-1"),
      mirrorPod("kube-proxy-worker-1", "worker-1"),
      pod("web-2", "worker-2"),
    );
    const run = await drain(["worker-1", "--grace-period", "45"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(writes()).toEqual([
      "PATCH /api/v1/nodes/worker-1",
      "POST /api/v1/namespaces/apps/pods/db-0/eviction",
      "POST /api/v1/namespaces/apps/pods/report-28aa1/eviction",
      "POST /api/v1/namespaces/apps/pods/web-1/eviction",
    ]);
    expect(cluster.fake.requestCount({ method: "DELETE" })).toBe(0);
    expect(podNames().sort()).toEqual(["cilium-x7k2p", "kube-proxy-worker-1", "web-2"]);
    expect(unschedulable("worker-1")).toBe(true);
    expect(unschedulable("worker-2")).toBe(false);
    expect(run.stdout).toContain("node worker-1: drained, 3 pods evicted");
    expect(run.stdout).toContain(
      "left alone kube-system/cilium-x7k2p: managed by DaemonSet cilium",
    );
    expect(run.stdout).toContain("left alone kube-system/kube-proxy-worker-1: static pod");
    expect(run.stdout).toMatch(/Drained worker-1 in \d+s\. The nodes stay cordoned/);
  });

  it("posts a policy/v1 Eviction naming the pod, its UID and the grace period, with the token", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1"));
    const stored = cluster.fake.get("pods", "web-1", "apps") as Raw;
    const uid = String((stored.metadata as Raw).uid);
    const proxy = await startRecordingProxy(cluster.fake.url);
    try {
      await writeFile(
        cluster.kubeconfig,
        cluster.fake.kubeconfig().replace(cluster.fake.url, proxy.url),
      );
      const run = await drain(["worker-1", "--grace-period", "45"]);
      expect(run.code).toBe(0);
      const sent = proxy.seen.filter((r) => r.method !== "GET");
      expect(sent.map((r) => [r.method, r.path, r.contentType])).toEqual([
        ["PATCH", "/api/v1/nodes/worker-1", "application/merge-patch+json"],
        ["POST", "/api/v1/namespaces/apps/pods/web-1/eviction", "application/json"],
      ]);
      expect(JSON.parse(sent[0]?.body ?? "")).toEqual({ spec: { unschedulable: true } });
      expect(JSON.parse(sent[1]?.body ?? "")).toEqual({
        apiVersion: "policy/v1",
        kind: "Eviction",
        metadata: { name: "web-1", namespace: "apps" },
        deleteOptions: { preconditions: { uid }, gracePeriodSeconds: 45 },
      });
      expect(
        cluster.fake.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`),
      ).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it("retries an eviction a PodDisruptionBudget refuses (429) until the budget allows it", async () => {
    cluster.fake.add(
      node("worker-1"),
      pod("web-1", "worker-1", { labels: { app: "web" } }),
      budget("web-pdb", "web", 0),
    );
    let attempts = 0;
    cluster.fake.onRequest = (request) => {
      if (request.method !== "POST" || !request.path.endsWith("/web-1/eviction")) return;
      attempts++;
      // The replacement pod elsewhere became Ready: the disruption controller allows one.
      if (attempts === 3) cluster.fake.add(budget("web-pdb", "web", 1));
    };
    const run = await drain(["worker-1"]);
    expect(run.code).toBe(0);
    expect(attempts).toBe(3);
    expect(run.sleeps).toEqual([5_000, 10_000]);
    expect(run.stdout).toContain(
      "worker-1: 1 pod left, waiting: apps/web-1 blocked by PDB web-pdb",
    );
    expect(podNames()).toEqual([]);
    expect(unschedulable("worker-1")).toBe(true);
  });

  it("times out when the budget never allows, uncordons the node and names the budget", async () => {
    cluster.fake.add(
      node("worker-1"),
      pod("web-1", "worker-1", { labels: { app: "web" } }),
      pod("api-1", "worker-1"),
      budget("web-pdb", "web", 0),
    );
    const run = await drain(["worker-1", "--timeout", "2m"]);
    expect(run.code).toBe(1);
    expect(podNames()).toEqual(["web-1"]);
    expect(unschedulable("worker-1")).toBe(false);
    // 5 s doubling to 30 s, never past the deadline.
    expect(run.sleeps).toEqual([5_000, 10_000, 20_000, 30_000, 30_000, 25_000]);
    expect(run.stdout).toContain(
      "apps/web-1: blocked by PodDisruptionBudget web-pdb: The disruption budget web-pdb allows no more disruptions right now",
    );
    expect(run.stdout).toContain(
      "Drain timed out: 1 pod still on worker-1 after the 2m timeout. Uncordoned worker-1.",
    );
    expect(writes().at(-1)).toBe("PATCH /api/v1/nodes/worker-1");
  });

  it("leaves a node that was cordoned before cordoned when the drain fails", async () => {
    cluster.fake.add(
      node("worker-1", { unschedulable: true }),
      pod("web-1", "worker-1", { labels: { app: "web" } }),
      budget("web-pdb", "web", 0),
    );
    const run = await drain(["worker-1", "--timeout", "30s", "--json"]);
    expect(run.code).toBe(1);
    expect(cluster.fake.requestCount({ method: "PATCH" })).toBe(0);
    expect(unschedulable("worker-1")).toBe(true);
    const result = jsonResult(run);
    expect(result.outcome).toBe("timed-out");
    expect(result.nodes[0]).toMatchObject({
      name: "worker-1",
      state: "timed-out",
      wasCordoned: true,
      cordoned: false,
      uncordoned: false,
      stuck: [{ pod: "apps/web-1", budget: "web-pdb" }],
    });
  });

  it("with --keep-cordoned leaves the nodes it cordoned cordoned after a failure", async () => {
    cluster.fake.add(
      node("worker-1"),
      pod("web-1", "worker-1", { labels: { app: "web" } }),
      budget("web-pdb", "web", 0),
    );
    const run = await drain(["worker-1", "--timeout", "30s", "--keep-cordoned"]);
    expect(run.code).toBe(1);
    expect(unschedulable("worker-1")).toBe(true);
    expect(run.stdout).toContain("Left cordoned: worker-1.");
  });

  it("refuses a pod with emptyDir data without --delete-emptydir-data, changing nothing", async () => {
    cluster.fake.add(
      node("worker-1"),
      pod("web-1", "worker-1"),
      pod("cache-1", "worker-1", { volumes: [{ name: "scratch", emptyDir: {} }] }),
    );
    const refused = await drain(["worker-1"]);
    expect(refused.code).toBe(1);
    expect(writes()).toEqual([]);
    expect(refused.stdout).toContain(
      'apps/cache-1: emptyDir "scratch" would be deleted with it (allow with --delete-emptydir-data, or, in the apply workflow, with scaleDown.deleteEmptyDirData on the node\'s pool)',
    );
    expect(refused.stdout).toContain(
      "Drain refused: 1 pod may not be moved. Nothing was cordoned.",
    );

    const allowed = await drain(["worker-1", "--delete-emptydir-data"]);
    expect(allowed.code).toBe(0);
    expect(podNames()).toEqual([]);
  });

  it("deletes emptyDir data on the nodes --delete-emptydir-data-on names, and only there", async () => {
    cluster.fake.add(
      node("worker-1"),
      node("worker-2"),
      node("worker-3"),
      pod("cache-1", "worker-1", { volumes: [{ name: "scratch", emptyDir: {} }] }),
      pod("cache-2", "worker-2", { volumes: [{ name: "tmp", emptyDir: {} }] }),
    );
    const named = ["--delete-emptydir-data-on", "worker-1"];
    const refused = await drain(["worker-1", "worker-2", ...named]);
    expect(refused.code).toBe(1);
    expect(writes()).toEqual([]);
    expect(refused.stdout).toContain('apps/cache-2: emptyDir "tmp" would be deleted with it');
    expect(refused.stdout).not.toContain("apps/cache-1");

    const both = await drain([
      "worker-1",
      "worker-2",
      ...named,
      "--delete-emptydir-data-on",
      "worker-2",
    ]);
    expect(both.code).toBe(0);
    expect(podNames()).toEqual([]);

    const typo = await drain(["worker-3", "--delete-emptydir-data-on", "worker-3,worker-9"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(
      "--delete-emptydir-data-on names worker-9, which is not one of the nodes to drain (worker-3)",
    );
  });

  it("treats a generic ephemeral volume on a node-local volume as emptyDir data", async () => {
    // A CI runner on each node, its scratch a local-path volume pinned to that node: the claim
    // is the pod's own, deleted with it, as the planner counts it when the pool lets emptyDir
    // data go.
    const runner = (index: number) => {
      const name = `runner-${index}`;
      const volume = `pvc-7a2c9e4${index}`;
      return [
        persistentVolume(volume, {
          hostPath: { path: `/var/local-path-provisioner/${volume}_apps_${name}-work`, type: "" },
          storageClassName: "local-path",
          nodeAffinity: {
            required: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    {
                      key: "kubernetes.io/hostname",
                      operator: "In",
                      values: [`worker-${index}`],
                    },
                  ],
                },
              ],
            },
          },
        }),
        volumeClaim("apps", `${name}-work`, { storageClassName: "local-path", volumeName: volume }),
        pod(name, `worker-${index}`, { volumes: [ephemeralVolume("work", "local-path")] }),
      ];
    };
    cluster.fake.add(node("worker-1"), node("worker-2"), ...runner(1), ...runner(2));
    const named = ["--delete-emptydir-data-on", "worker-1"];
    const refused = await drain(["worker-1", "worker-2", ...named]);
    expect(refused.code).toBe(1);
    expect(writes()).toEqual([]);
    expect(refused.stdout).toContain(
      'apps/runner-2: generic ephemeral volume "work" (node-local volume pvc-7a2c9e42) would be deleted with it (allow with --delete-emptydir-data, or, in the apply workflow, with scaleDown.deleteEmptyDirData on the node\'s pool)',
    );
    // On worker-1 it goes, its scratch named among what does not follow it.
    expect(refused.stdout).toContain(
      'warning: apps/runner-1: generic ephemeral volume "work" (claim runner-1-work) is node-local volume pvc-7a2c9e41: its data is deleted with the pod',
    );
    expect(refused.stdout).not.toContain(
      'apps/runner-1: generic ephemeral volume "work" (node-local',
    );

    const both = await drain([
      "worker-1",
      "worker-2",
      "--delete-emptydir-data-on",
      "worker-1,worker-2",
    ]);
    expect(both.code).toBe(0);
    expect(podNames()).toEqual([]);
  });

  it("evicts a pod whose generic ephemeral claim does not exist: nothing of it is on the node", async () => {
    // The ephemeral volume controller has not made runner-1-work: the kubelet mounts the volume
    // only once it exists, so the runner has written nothing to it (the planner reads it so too).
    cluster.fake.add(
      node("worker-1"),
      pod("runner-1", "worker-1", { volumes: [ephemeralVolume("work", "local-path")] }),
    );
    const run = await drain(["worker-1"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'warning: apps/runner-1: generic ephemeral volume "work": its claim runner-1-work does not exist, so the pod has not mounted it and nothing of it is on this node',
    );
    expect(podNames()).toEqual([]);
  });

  it("evicts without --delete-emptydir-data a pod whose owner named its emptyDirs evictable", async () => {
    cluster.fake.add(
      node("worker-1"),
      pod("jellyfin-0", "worker-1", {
        namespace: "media",
        owner: ["StatefulSet", "jellyfin"],
        annotations: {
          "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes": "cache, transcode",
        },
        volumes: [
          { name: "cache", emptyDir: {} },
          { name: "transcode", emptyDir: { medium: "Memory" } },
        ],
      }),
      pod("sonarr-1", "worker-1", {
        namespace: "media",
        owner: null,
        annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "true" },
        volumes: [{ name: "tmp", emptyDir: {} }],
      }),
    );
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("pod/media/jellyfin-0 evicted from worker-1");
    expect(writes()).toEqual([
      "PATCH /api/v1/nodes/worker-1",
      "POST /api/v1/namespaces/media/pods/jellyfin-0/eviction",
      "POST /api/v1/namespaces/media/pods/sonarr-1/eviction",
    ]);
    expect(cluster.fake.requestCount({ method: "DELETE" })).toBe(0);
    expect(podNames()).toEqual([]);
    expect(jsonResult(run).nodes[0]).toMatchObject({
      state: "drained",
      evicted: ["media/jellyfin-0", "media/sonarr-1"],
      refused: [],
    });
  });

  it("refuses pods annotated safe-to-evict false or do-not-disrupt true, even with every flag", async () => {
    cluster.fake.add(
      node("worker-1"),
      pod("backup-1", "worker-1", {
        annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" },
      }),
      pod("train-1", "worker-1", { annotations: { "karpenter.sh/do-not-disrupt": "true" } }),
    );
    const run = await drain(["worker-1", "--delete-emptydir-data", "--force-bare-pods", "--json"]);
    expect(run.code).toBe(1);
    expect(writes()).toEqual([]);
    const result = jsonResult(run);
    expect(result.outcome).toBe("refused");
    expect(result.nodes[0]?.refused).toEqual([
      {
        pod: "apps/backup-1",
        reasons: [
          {
            reason: "safe-to-evict",
            message: 'annotated cluster-autoscaler.kubernetes.io/safe-to-evict: "false"',
          },
        ],
      },
      {
        pod: "apps/train-1",
        reasons: [
          { reason: "do-not-disrupt", message: 'annotated karpenter.sh/do-not-disrupt: "true"' },
        ],
      },
    ]);
  });

  it("refuses a bare pod unless --force-bare-pods", async () => {
    cluster.fake.add(node("worker-1"), pod("debug-shell", "worker-1", { owner: null }));
    const refused = await drain(["worker-1"]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(
      "apps/debug-shell: no controller would recreate it: evicting it deletes it for good (allow with --force-bare-pods)",
    );
    expect(writes()).toEqual([]);
    const forced = await drain(["worker-1", "--force-bare-pods"]);
    expect(forced.code).toBe(0);
    expect(podNames()).toEqual([]);
  });

  it("--dry-run reports what it would do and writes nothing", async () => {
    cluster.fake.add(
      node("worker-1"),
      pod("web-1", "worker-1", { labels: { app: "web" } }),
      pod("api-1", "worker-1", { labels: { app: "api" } }),
      daemonPod("cilium-x7k2p", "worker-1"),
      budget("web-pdb", "web", 0),
      budget("api-pdb", "api", 1),
    );
    const run = await drain(["worker-1", "--dry-run"]);
    expect(run.code).toBe(0);
    expect(cluster.fake.requests.every((r) => r.method === "GET")).toBe(true);
    expect(unschedulable("worker-1")).toBe(false);
    expect(podNames()).toHaveLength(3);
    expect(run.stdout).toContain("node worker-1: would be cordoned and have 2 pods evicted");
    expect(run.stdout).toContain("would evict apps/api-1 (PDB api-pdb allows 1 now)");
    expect(run.stdout).toContain(
      "would evict apps/web-1 (PDB web-pdb allows no disruption now: the drain would wait for it)",
    );
    expect(run.stdout).toContain("Dry run: the drain would go ahead");
  });

  it("--dry-run exits 1 when the drain would be refused", async () => {
    cluster.fake.add(node("worker-1"), pod("debug-shell", "worker-1", { owner: null }));
    const run = await drain(["worker-1", "--dry-run", "--json"]);
    expect(run.code).toBe(1);
    expect(cluster.fake.requests.every((r) => r.method === "GET")).toBe(true);
    const result = jsonResult(run);
    expect(result).toMatchObject({ outcome: "refused", dryRun: true });
    expect(result.nodes[0]?.refused[0]?.reasons[0]?.flag).toBe("--force-bare-pods");
  });

  it("cordons every node before evicting, then drains them one after another", async () => {
    cluster.fake.add(
      node("worker-1"),
      node("worker-2"),
      pod("web-1", "worker-1"),
      pod("api-1", "worker-1"),
      pod("web-2", "worker-2"),
    );
    const run = await drain(["worker-2", "worker-1", "--json"]);
    expect(run.code).toBe(0);
    expect(writes()).toEqual([
      "PATCH /api/v1/nodes/worker-2",
      "PATCH /api/v1/nodes/worker-1",
      "POST /api/v1/namespaces/apps/pods/web-2/eviction",
      "POST /api/v1/namespaces/apps/pods/api-1/eviction",
      "POST /api/v1/namespaces/apps/pods/web-1/eviction",
    ]);
    const result = jsonResult(run);
    expect(result.outcome).toBe("drained");
    expect(result.nodes.map((n) => [n.name, n.state, n.evicted])).toEqual([
      ["worker-2", "drained", ["apps/web-2"]],
      ["worker-1", "drained", ["apps/api-1", "apps/web-1"]],
    ]);
    expect(run.stderr).toContain("node/worker-2 cordoned\nnode/worker-1 cordoned\n");
  });

  it("uncordons the first node when the second cannot be drained", async () => {
    cluster.fake.add(
      node("worker-1"),
      node("worker-2"),
      pod("web-1", "worker-1"),
      pod("db-0", "worker-2", { owner: ["StatefulSet", "db"], labels: { app: "db" } }),
      budget("db-pdb", "db", 0),
    );
    const run = await drain(["worker-1", "worker-2", "--timeout", "1m"]);
    expect(run.code).toBe(1);
    expect(unschedulable("worker-1")).toBe(false);
    expect(unschedulable("worker-2")).toBe(false);
    expect(run.stdout).toContain("node worker-1: drained, 1 pod evicted");
    expect(run.stdout).toContain("node worker-2: timed out, 0 pods evicted");
    expect(run.stdout).toContain("Uncordoned worker-1, worker-2.");
  });

  it("fails without changing anything when a node does not exist", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1"));
    const run = await drain(["worker-1", "worker-9"]);
    expect(run.code).toBe(1);
    expect(writes()).toEqual([]);
    expect(run.stdout).toContain("node worker-9: does not exist");
    expect(run.stdout).toContain(
      "Drain failed: node worker-9 does not exist; check the node names (the guard's node name template). Nothing was cordoned.",
    );
  });

  it("stops when the identity may not evict (403) and says so", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1"));
    cluster.fake.injectFault({
      method: "POST",
      path: "/api/v1/namespaces/apps/pods/web-1/eviction",
      status: 403,
      message:
        'pods "web-1" is forbidden: User "pr-autoscaler" cannot create resource "pods/eviction" in API group "" in the namespace "apps"',
    });
    const run = await drain(["worker-1"]);
    expect(run.code).toBe(1);
    expect(unschedulable("worker-1")).toBe(false);
    expect(run.stdout).toContain('cannot create resource "pods/eviction"');
    expect(run.stdout).toContain("HTTP 403 Forbidden");
  });

  it("lists the node's pods again after an API hiccup instead of giving up", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1"));
    // The check's list passes; the first list of the drain itself gets a 503.
    cluster.fake.injectFault({ method: "GET", path: "/api/v1/pods", status: 503, after: 1 });
    const run = await drain(["worker-1"]);
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([2_000]);
    expect(podNames()).toEqual([]);
  });

  it("waits for an evicted pod that takes time to terminate", async () => {
    cluster.fake.add(node("worker-1"), pod("db-0", "worker-1", { owner: ["StatefulSet", "db"] }));
    const terminating = cluster.fake.get("pods", "db-0", "apps") as Raw;
    let checks = 0;
    cluster.fake.onRequest = (request) => {
      if (request.method !== "GET" || request.path !== "/api/v1/namespaces/apps/pods/db-0") return;
      checks++;
      // The kubelet is still stopping it: the API keeps it, with a deletion timestamp.
      if (checks < 3) {
        cluster.fake.put("pods", {
          ...terminating,
          metadata: {
            ...(terminating.metadata as Raw),
            deletionTimestamp: "2025-01-12T00:00:30Z",
          },
        });
      } else cluster.fake.remove("pods", "db-0", "apps");
    };
    const run = await drain(["worker-1"]);
    expect(run.code).toBe(0);
    expect(checks).toBe(3);
    expect(run.sleeps).toEqual([2_000, 2_000]);
    expect(run.stdout).toContain("worker-1: 1 pod left (1 terminating)");
  });

  it("counts an evicted pod whose name now belongs to a new pod (another UID) as gone", async () => {
    cluster.fake.add(
      node("worker-1"),
      node("worker-2"),
      pod("db-0", "worker-1", { owner: ["StatefulSet", "db"] }),
    );
    cluster.fake.onRequest = (request) => {
      if (request.method === "GET" && request.path === "/api/v1/namespaces/apps/pods/db-0") {
        if (!cluster.fake.get("pods", "db-0", "apps")) {
          cluster.fake.add(pod("db-0", "worker-2", { owner: ["StatefulSet", "db"] }));
        }
      }
    };
    const run = await drain(["worker-1"]);
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([]);
    expect(cluster.fake.get("pods", "db-0", "apps")?.spec).toMatchObject({ nodeName: "worker-2" });
  });

  it("evicts a pod that lands on the node during the drain before calling it drained", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1"));
    let added = false;
    cluster.fake.onRequest = (request) => {
      if (!added && request.method === "POST") {
        added = true;
        // A pod created with spec.nodeName set skips the scheduler, so cordoning does not stop it.
        cluster.fake.add(pod("pinned-1", "worker-1"));
      }
    };
    const run = await drain(["worker-1", "--json"]);
    expect(run.code).toBe(0);
    expect(podNames()).toEqual([]);
    expect(jsonResult(run).nodes[0]?.evicted).toEqual(["apps/web-1", "apps/pinned-1"]);
  });

  it("shows progress as one updating line on a terminal", async () => {
    cluster.fake.add(
      node("worker-1"),
      pod("web-1", "worker-1", { labels: { app: "web" } }),
      budget("web-pdb", "web", 0),
    );
    const run = await drain(["worker-1", "--timeout", "20s"], { tty: true });
    expect(run.code).toBe(1);
    const updates = run.stdout.split("\r\u001b[2K").length - 1;
    expect(updates).toBeGreaterThanOrEqual(3);
    expect(run.stdout).toContain(
      "\r\u001b[2Kworker-1: 1 pod left, waiting: apps/web-1 blocked by PDB web-pdb",
    );
  });

  it("exits 2 on bad flags and on a kubeconfig that does not exist", async () => {
    expect((await drain([])).code).toBe(2);
    expect((await drain(["worker-1", "--timeout", "soon"])).stderr).toContain(
      '--timeout expects a duration such as 90s, 10m or 1h30m, got "soon"',
    );
    expect((await drain(["worker-1", "--grace-period", "0"])).code).toBe(2);
    expect((await drain(["Worker_1"])).code).toBe(2);
    const both = await drain([
      "worker-1",
      "--delete-emptydir-data",
      "--delete-emptydir-data-on",
      "worker-1",
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain(
      "--delete-emptydir-data and --delete-emptydir-data-on are alternatives",
    );
    const missing = await drain(["worker-1", "--kubeconfig", join(cluster.dir, "nope")], {
      withKubeconfig: false,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("kubeconfig file not found");
    expect(cluster.fake.requests).toEqual([]);
  });

  it("fails with exit 1 when the API server cannot be reached", async () => {
    await cluster.fake.close();
    const run = await drain(["worker-1"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/Drain failed: .*ECONNREFUSED/);
    cluster.fake = await FakeKubeApiserver.start();
  });
});
