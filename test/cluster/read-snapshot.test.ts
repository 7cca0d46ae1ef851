import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  ClusterReadError,
  type ReadSnapshotOptions,
  readSnapshot,
} from "../../src/cluster/read-snapshot.ts";
import type { UsageSource } from "../../src/cluster/usage-source.ts";
import type { DaemonSetInfo, PodInfo, Snapshot } from "../../src/planning/snapshot.ts";
import { type FakeFault, FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";
import { loadKubeObjects, podMetrics } from "../support/kube-fixtures.ts";
import { type Homelab, homelabNow, startHomelab } from "../support/kube-homelab.ts";

const Mi = 1024 ** 2;
const Gi = 1024 ** 3;

let lab: Homelab;

function options(extra: Partial<ReadSnapshotOptions> = {}): ReadSnapshotOptions {
  return { kubeconfig: lab.kubeconfig, env: {}, now: () => homelabNow, retryDelayMs: 0, ...extra };
}

function pod(snapshot: Snapshot, namespace: string, name: string): PodInfo {
  const found = snapshot.pods.find((p) => p.namespace === namespace && p.name === name);
  if (!found) throw new Error(`no pod ${namespace}/${name}`);
  return found;
}

function node(snapshot: Snapshot, name: string) {
  const found = snapshot.nodes.find((n) => n.name === name);
  if (!found) throw new Error(`no node ${name}`);
  return found;
}

/** Reads the cluster while the API server keeps answering `fault`, then stops the fault. */
async function readDuring(
  fault: Omit<FakeFault, "times">,
  extra: Partial<ReadSnapshotOptions> = {},
): Promise<Snapshot> {
  lab.fake.injectFault({ ...fault, times: Number.POSITIVE_INFINITY });
  try {
    return await readSnapshot(options(extra));
  } finally {
    lab.fake.clearFaults();
  }
}

function codes(snapshot: Snapshot): string[] {
  return snapshot.warnings.map((w) => w.code);
}

beforeAll(async () => {
  lab = await startHomelab();
});

afterAll(async () => {
  await lab.close();
});

describe("readSnapshot against the homelab", () => {
  let snapshot: Snapshot;

  beforeAll(async () => {
    snapshot = await readSnapshot(options());
  });

  it("describes where and when it read", () => {
    expect(snapshot.version).toBe(1);
    expect(snapshot.takenAt).toBe(homelabNow.toISOString());
    expect(snapshot.source).toEqual({ kind: "kubernetes", server: lab.fake.url, context: "fake" });
    expect(snapshot.complete).toBe(true);
  });

  it("reads nodes: role, pool, readiness, taints, capacity and allocatable", () => {
    expect(node(snapshot, "talos-cp-1")).toEqual({
      name: "talos-cp-1",
      pool: "control-plane",
      labels: {
        "kubernetes.io/hostname": "talos-cp-1",
        "kubernetes.io/os": "linux",
        "node-role.kubernetes.io/control-plane": "",
      },
      taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
      unschedulable: false,
      ready: true,
      readySince: "2025-01-10T08:05:00Z",
      createdAt: "2025-01-10T08:00:00Z",
      controlPlane: true,
      capacity: { cpu: 4000, memory: 8148340 * 1024, pods: 110, ephemeralStorage: 30412 * Mi },
      allocatable: { cpu: 3950, memory: 7521652 * 1024, pods: 110, ephemeralStorage: 28590940102 },
      usage: {
        source: "metrics-server",
        cpu: 488,
        memory: 2748180 * 1024,
        timestamp: "2025-01-11T23:59:40Z",
        windowSeconds: 20.035,
      },
    });
    expect(node(snapshot, "talos-worker-1").pool).toBe("general");
    const gpu = node(snapshot, "talos-worker-2");
    expect(gpu).toMatchObject({
      pool: "workers",
      controlPlane: false,
      unschedulable: true,
      ready: true,
      taints: [
        { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" },
        { key: "gpu", value: "true", effect: "PreferNoSchedule" },
      ],
      capacity: {
        cpu: 8000,
        memory: 32 * Gi,
        pods: 110,
        extended: { "nvidia.com/gpu": 1, "hugepages-2Mi": 0 },
      },
    });
    const down = node(snapshot, "talos-worker-3");
    expect(down.ready).toBe(false);
    expect(down.readySince).toBe("2025-01-11T22:00:00Z");
    expect(node(snapshot, "legacy-master")).toMatchObject({
      controlPlane: true,
      pool: "control-plane",
    });
  });

  it("reads the effective pod request as the scheduler computes it", () => {
    const plex = pod(snapshot, "media", "plex-7d9c65958-ghrmp");
    // Steady: plex 500m/1Gi + sidecar 100m/128Mi. Init: init-config 1/64Mi beside the sidecar
    // started before it = 1100m/192Mi. Max per resource, plus overhead 250m/120Mi.
    expect(plex.requests).toEqual({ cpu: 1350, memory: 1152 * Mi + 120 * Mi });
    expect(plex.overhead).toEqual({ cpu: 250, memory: 120 * Mi });
    expect(plex.containers).toEqual([
      {
        name: "plex",
        requests: { cpu: 500, memory: Gi },
        limits: { memory: 2 * Gi },
        usage: {
          source: "metrics-server",
          cpu: 1200,
          memory: 900 * Mi,
          timestamp: "2025-01-11T23:59:40Z",
          windowSeconds: 15.107,
        },
      },
    ]);
    expect(plex.initContainers.map((c) => [c.name, c.sidecar ?? false, c.requests])).toEqual([
      ["log-shipper", true, { cpu: 100, memory: 128 * Mi }],
      ["init-config", false, { cpu: 1000, memory: 64 * Mi }],
    ]);
    expect(plex.initContainers[0]?.usage?.memory).toBe(40 * Mi);
    expect(plex.usage).toMatchObject({ cpu: 1205, memory: 940 * Mi, source: "metrics-server" });
  });

  it("reads scheduling constraints, ownership and eviction blockers", () => {
    const plex = pod(snapshot, "media", "plex-7d9c65958-ghrmp");
    expect(plex).toMatchObject({
      phase: "Running",
      nodeName: "talos-worker-1",
      owner: { kind: "Deployment", name: "plex" },
      nodeSelector: { "kubernetes.io/arch": "amd64" },
      requiredNodeAffinity: [
        {
          matchExpressions: [{ key: "pr-autoscaler.io/pool", operator: "In", values: ["general"] }],
        },
        { matchFields: [{ key: "metadata.name", operator: "In", values: ["talos-worker-2"] }] },
      ],
      tolerations: [
        { key: "dedicated", operator: "Equal", value: "media", effect: "NoSchedule" },
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
        { operator: "Exists" },
      ],
      priority: 1000,
      safeToEvict: false,
      doNotDisrupt: false,
      daemonSet: false,
      mirror: false,
      createdAt: "2025-01-11T02:00:00Z",
    });
    expect(plex.unschedulable).toBeUndefined();
    // Its `transcode` emptyDir is memory-backed: lost with any restart, it holds no node.
    expect(plex.blockingVolumes).toEqual([{ name: "config", type: "local", claim: "plex-config" }]);
    // With each container's restart count: its status keeps no earlier termination.
    expect(plex.oomKills).toEqual([
      { container: "log-shipper", at: "2025-01-11T05:00:00Z", restarts: 1 },
      { container: "plex", at: "2025-01-11T03:12:00Z", restarts: 1 },
    ]);
  });

  it("recognises DaemonSet, mirror, bare and Job pods", () => {
    const cilium = pod(snapshot, "kube-system", "cilium-x7k2p");
    expect(cilium).toMatchObject({
      daemonSet: true,
      mirror: false,
      owner: { kind: "DaemonSet", name: "cilium" },
    });
    expect(cilium.blockingVolumes).toEqual([{ name: "bpf-maps", type: "hostPath" }]);
    const apiserver = pod(snapshot, "kube-system", "kube-apiserver-talos-cp-1");
    expect(apiserver).toMatchObject({
      mirror: true,
      daemonSet: false,
      owner: { kind: "Node", name: "talos-cp-1" },
    });
    const bare = pod(snapshot, "apps", "bare-pod");
    expect(bare.owner).toBeUndefined();
    expect(bare.requests).toEqual({ cpu: 0, memory: 0 });
    expect(bare.blockingVolumes).toEqual([
      { name: "scratch", type: "local", claim: "bare-pod-scratch", ephemeral: true },
    ]);
    // With the API group of its apiVersion; none for the core group's (a mirror pod's Node).
    expect(pod(snapshot, "apps", "standalone-rs-abcde").owner).toEqual({
      kind: "ReplicaSet",
      name: "standalone-rs",
      group: "apps",
    });
    expect(apiserver.owner).toEqual({ kind: "Node", name: "talos-cp-1" });
    const gpu = pod(snapshot, "apps", "gpu-job-q9z8");
    expect(gpu.phase).toBe("Succeeded");
    expect(gpu.requests).toEqual({
      cpu: 1000,
      memory: 4 * Gi,
      ephemeralStorage: 10 * Gi,
      extended: { "nvidia.com/gpu": 1 },
    });
  });

  it("reports unschedulable pods with the scheduler's message", () => {
    const batch = pod(snapshot, "apps", "big-batch-x1");
    expect(batch.phase).toBe("Pending");
    expect(batch.nodeName).toBeUndefined();
    expect(batch.unschedulable?.since).toBe("2025-01-11T23:30:01Z");
    expect(batch.unschedulable?.message).toContain("3 Insufficient memory");
    expect(batch).toMatchObject({
      doNotDisrupt: true,
      safeToEvict: true,
      owner: { kind: "Job", name: "big-batch" },
    });
  });

  it("keeps a malformed quantity unknown, never zero, and says where it was", () => {
    const broken = pod(snapshot, "apps", "broken-requests");
    expect(broken.requests).toEqual({ memory: 256 * Mi });
    expect("cpu" in broken.requests).toBe(false);
    expect(broken.containers[0]?.requests).toEqual({ memory: 256 * Mi });
    expect(snapshot.warnings).toContainEqual({
      code: "quantity-invalid",
      subject: "pod/apps/broken-requests",
      message: expect.stringContaining(
        'spec.containers[0].resources.requests.cpu: invalid quantity "2 cores"',
      ),
    });
    const legacy = node(snapshot, "legacy-master");
    expect(legacy.allocatable).toEqual({ cpu: 1900, pods: 110 });
    expect(snapshot.warnings).toContainEqual({
      code: "quantity-invalid",
      subject: "node/legacy-master",
      message: expect.stringContaining("status.allocatable.memory"),
    });
    expect(snapshot.complete).toBe(true);
  });

  it("reads PodDisruptionBudgets with their health counts, counting a PDB without status as allowing nothing", () => {
    expect(snapshot.pdbs).toEqual([
      {
        namespace: "apps",
        name: "fresh",
        selector: { matchLabels: { app: "standalone" } },
        disruptionsAllowed: 0,
      },
      {
        namespace: "kube-system",
        name: "coredns",
        selector: { matchExpressions: [{ key: "k8s-app", operator: "In", values: ["kube-dns"] }] },
        disruptionsAllowed: 1,
        currentHealthy: 2,
        desiredHealthy: 1,
        expectedPods: 2,
      },
      {
        namespace: "media",
        name: "plex",
        selector: { matchLabels: { app: "plex" } },
        disruptionsAllowed: 0,
        currentHealthy: 1,
        desiredHealthy: 1,
        expectedPods: 1,
      },
    ]);
    expect(snapshot.warnings).toContainEqual(
      expect.objectContaining({ code: "pdb-status-missing", subject: "pdb/apps/fresh" }),
    );
  });

  it("reads HPAs and the resource metrics they scale on", () => {
    expect(snapshot.hpas).toEqual([
      {
        namespace: "apps",
        name: "web",
        target: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
        resourceMetrics: ["cpu", "memory"],
        minReplicas: 2,
        maxReplicas: 10,
        currentReplicas: 3,
      },
    ]);
  });

  it("reads VPAs from published examples", () => {
    const byName = new Map(snapshot.vpas.map((v) => [v.name, v]));
    expect(byName.get("cache-vpa")).toEqual({
      namespace: "caching",
      name: "cache-vpa",
      target: { apiVersion: "apps/v1", kind: "StatefulSet", name: "cache-statefulset" },
      updateMode: "Initial",
      resourcePolicy: [],
      recommendations: [
        {
          containerName: "cache-container",
          lowerBound: { cpu: 25, memory: 262144000 },
          target: { cpu: 25, memory: 262144000 },
          uncappedTarget: { cpu: 25, memory: 262144000 },
          upperBound: { cpu: 2284, memory: 2388533492 },
        },
      ],
      conditions: [
        {
          type: "RecommendationProvided",
          status: "True",
          lastTransitionTime: "2025-09-14T14:34:14Z",
        },
      ],
      createdAt: "2025-09-14T14:33:59Z",
    });
    expect(byName.get("api-vpa")?.resourcePolicy).toEqual([
      {
        containerName: "api-container",
        minAllowed: { cpu: 600, memory: 600 * Mi },
        maxAllowed: { cpu: 1000, memory: Gi },
        controlledResources: ["cpu", "memory"],
      },
    ]);
    expect(byName.get("api-vpa")?.updateMode).toBe("Auto");
    // The example leaves the update mode unset, which means Auto.
    expect(byName.get("hamster-vpa")).toMatchObject({
      namespace: "default",
      updateMode: "Auto",
      recommendations: [],
    });
  });

  it("reads each DaemonSet's pod template, with what its RuntimeClass and controller add", () => {
    const hostNetwork = { key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule" };
    const controller = [
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
      { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
      { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
      { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
      { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
    ];
    expect(snapshot.daemonSets).toEqual([
      {
        namespace: "kube-system",
        name: "cilium",
        requests: { cpu: 100, memory: 10 * Mi },
        nodeSelector: {},
        labels: { "k8s-app": "cilium" },
        tolerations: [
          { operator: "Exists" },
          ...controller,
          { ...hostNetwork, operator: "Exists" },
        ],
      },
      {
        namespace: "kube-system",
        name: "nvidia-device-plugin",
        // The init container's 200m, more than the app container's 50m, and the RuntimeClass's
        // overhead of 10m and 16Mi on top of the larger memory, 64Mi.
        requests: { cpu: 210, memory: 80 * Mi },
        nodeSelector: { "nvidia.com/gpu.present": "true" },
        labels: { "app.kubernetes.io/name": "nvidia-device-plugin" },
        requiredNodeAffinity: [
          {
            matchExpressions: [
              {
                key: "feature.node.kubernetes.io/pci-10de.present",
                operator: "In",
                values: ["true"],
              },
            ],
          },
        ],
        tolerations: [
          { key: "CriticalAddonsOnly", operator: "Exists" },
          { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
          ...controller,
        ],
      },
    ]);
  });

  it("keeps missing and stale metrics unknown, and zero usage zero", () => {
    expect(snapshot.metrics).toEqual({
      nodes: "partial",
      pods: "partial",
      source: "metrics-server",
    });
    expect(node(snapshot, "talos-worker-3").usage).toBeUndefined();
    expect(node(snapshot, "talos-worker-2").usage).toBeUndefined();
    // A stale sample is said once, as stale, not a second time as missing.
    expect(snapshot.warnings.filter((w) => w.subject === "node/talos-worker-2")).toEqual([
      expect.objectContaining({ code: "metrics-stale" }),
    ]);
    expect(snapshot.warnings).toContainEqual(
      expect.objectContaining({ code: "metrics-missing", subject: "node/talos-worker-3" }),
    );
    // cilium reports exactly zero: known zero, not unknown.
    const cilium = pod(snapshot, "kube-system", "cilium-x7k2p");
    expect(cilium.usage?.cpu).toBe(0);
    expect(cilium.usage?.memory).toBe(0);
    expect(cilium.containers[0]?.usage?.cpu).toBe(0);
    // bare-pod has no metrics at all: unknown.
    const bare = pod(snapshot, "apps", "bare-pod");
    expect(bare.usage).toBeUndefined();
    expect(bare.containers[0]?.usage).toBeUndefined();
    expect(snapshot.warnings).toContainEqual(
      expect.objectContaining({ code: "metrics-missing", subject: "pod/apps/bare-pod" }),
    );
    // Pending and finished pods are not expected to have metrics.
    expect(snapshot.warnings.some((w) => w.subject === "pod/apps/big-batch-x1")).toBe(false);
  });

  it("treats every sample as stale under a short --metrics-max-age", async () => {
    const strict = await readSnapshot(options({ metricsMaxAgeSeconds: 10 }));
    expect(strict.metrics.nodes).toBe("unavailable");
    expect(strict.nodes.every((n) => n.usage === undefined)).toBe(true);
    expect(strict.pods.every((p) => p.usage === undefined)).toBe(true);
    // Each node and running pod is warned about once: stale when it had a sample, else missing.
    const subjects = (code: string) =>
      strict.warnings.filter((w) => w.code === code).map((w) => w.subject);
    const stale = subjects("metrics-stale");
    expect(stale).toContain("node/talos-worker-1");
    expect(stale).toContain("pod/kube-system/cilium-x7k2p");
    expect(subjects("metrics-missing").filter((s) => stale.includes(s))).toEqual([]);
    expect(subjects("metrics-missing")).toContain("node/talos-worker-3");
  });
});

describe("pagination", () => {
  it("reads every pod exactly once across pages", async () => {
    lab.fake.requests.length = 0;
    const snapshot = await readSnapshot(options({ pageSize: 2 }));
    const names = snapshot.pods.map((p) => `${p.namespace}/${p.name}`);
    expect(names).toHaveLength(lab.fake.count("pods"));
    expect(new Set(names).size).toBe(names.length);
    const podRequests = lab.fake.requests.filter((r) => r.path === "/api/v1/pods");
    expect(podRequests).toHaveLength(Math.ceil(lab.fake.count("pods") / 2));
    expect(podRequests.every((r) => r.query.limit === "2")).toBe(true);
    expect(podRequests.filter((r) => r.query.continue).length).toBe(podRequests.length - 1);
    // metrics-server does not paginate, so the reader does not ask it to.
    expect(
      lab.fake.requests.find((r) => r.path === "/apis/metrics.k8s.io/v1beta1/pods")?.query.limit,
    ).toBeUndefined();
  });

  it("starts the list again from scratch when the continue token expires (410)", async () => {
    let expired = 0;
    lab.fake.requests.length = 0;
    lab.fake.onRequest = (request) => {
      if (request.path === "/api/v1/pods" && request.query.continue && expired === 0) {
        expired++;
        lab.fake.expireContinueTokens();
      }
    };
    try {
      const snapshot = await readSnapshot(options({ pageSize: 3 }));
      expect(snapshot.complete).toBe(true);
      const names = snapshot.pods.map((p) => p.name);
      expect(names).toHaveLength(lab.fake.count("pods"));
      expect(new Set(names).size).toBe(names.length);
      const podRequests = lab.fake.requests.filter((r) => r.path === "/api/v1/pods");
      const fresh = podRequests.filter((r) => !r.query.continue);
      expect(fresh).toHaveLength(2);
    } finally {
      lab.fake.onRequest = undefined;
    }
  });

  it("gives up after repeated expiries with complete: false and the pods read so far", async () => {
    lab.fake.onRequest = (request) => {
      if (request.path === "/api/v1/pods" && request.query.continue)
        lab.fake.expireContinueTokens();
    };
    try {
      const snapshot = await readSnapshot(options({ pageSize: 3, maxRestarts: 2 }));
      expect(snapshot.complete).toBe(false);
      expect(snapshot.pods).toHaveLength(3);
      expect(snapshot.warnings).toContainEqual(
        expect.objectContaining({
          code: "list-partial",
          subject: "pods",
          message: expect.stringContaining("HTTP 410 Expired"),
        }),
      );
    } finally {
      lab.fake.onRequest = undefined;
    }
  });

  it("retries a page cut short, and marks the snapshot incomplete when it keeps failing", async () => {
    lab.fake.injectFault({ path: "/api/v1/pods", continued: true, truncate: true, times: 1 });
    const retried = await readSnapshot(options({ pageSize: 3 }));
    expect(retried.complete).toBe(true);
    expect(retried.pods).toHaveLength(lab.fake.count("pods"));
    lab.fake.clearFaults();

    const partial = await readDuring(
      {
        path: "/api/v1/pods",
        continued: true,
        status: 500,
      },
      { pageSize: 3 },
    );
    expect(partial.complete).toBe(false);
    expect(partial.pods).toHaveLength(3);
    expect(partial.warnings).toContainEqual(
      expect.objectContaining({ code: "list-partial", subject: "pods" }),
    );
  });
});

describe("missing APIs and failures", () => {
  it("warns when metrics-server is not installed and reads no usage", async () => {
    lab.fake.uninstall("metrics.k8s.io");
    try {
      const snapshot = await readSnapshot(options());
      expect(snapshot.metrics).toEqual({
        nodes: "unavailable",
        pods: "unavailable",
        source: "none",
      });
      expect(snapshot.nodes.every((n) => n.usage === undefined)).toBe(true);
      expect(
        snapshot.pods.every(
          (p) => p.usage === undefined && p.containers.every((c) => c.usage === undefined),
        ),
      ).toBe(true);
      expect(snapshot.warnings).toContainEqual(
        expect.objectContaining({
          code: "metrics-unavailable",
          message: expect.stringContaining("not installed"),
        }),
      );
      expect(snapshot.complete).toBe(true);
    } finally {
      lab.fake.install("metrics.k8s.io");
    }
  });

  it("warns when the metrics API answers 503", async () => {
    const snapshot = await readDuring({
      path: /^\/apis\/metrics\.k8s\.io\//,
      status: 503,
      body: "service unavailable\n",
    });
    expect(snapshot.metrics.nodes).toBe("unavailable");
    expect(snapshot.metrics.pods).toBe("unavailable");
    expect(snapshot.warnings).toContainEqual(
      expect.objectContaining({
        code: "metrics-unavailable",
        message: expect.stringContaining("is metrics-server running"),
      }),
    );
  });

  it("warns when the VPA CRD is not installed, and stays complete", async () => {
    lab.fake.uninstall("autoscaling.k8s.io");
    try {
      const snapshot = await readSnapshot(options());
      expect(snapshot.vpas).toEqual([]);
      expect(snapshot.complete).toBe(true);
      expect(codes(snapshot)).toContain("vpa-not-installed");
    } finally {
      lab.fake.install("autoscaling.k8s.io");
    }
  });

  it("says the DaemonSets are unknown, never none, when they cannot be read, and stays complete", async () => {
    lab.fake.injectFault({ path: "/apis/apps/v1/daemonsets", status: 403, times: 1 });
    const snapshot = await readSnapshot(options());
    expect(snapshot.complete).toBe(true);
    expect(snapshot.daemonSets).toBe("unknown");
    expect(snapshot.warnings).toContainEqual({
      code: "daemonsets-unknown",
      subject: "daemonsets",
      message: expect.stringContaining(
        '(forbidden: the account needs "list" on daemonsets.apps in all namespaces; check with kubectl auth can-i list daemonsets.apps --all-namespaces); which DaemonSets a new node would run is unknown',
      ),
    });
  });

  it("leaves the DaemonSets out, as before they were read, on a server that does not serve apps/v1", async () => {
    lab.fake.uninstall("apps");
    try {
      const snapshot = await readSnapshot(options());
      expect(snapshot.complete).toBe(true);
      expect(snapshot).not.toHaveProperty("daemonSets");
      expect(snapshot.warnings).toContainEqual({
        code: "daemonsets-api-missing",
        subject: "daemonsets",
        message:
          "apps/v1 is not served by this cluster (404); the DaemonSets a new node would run are told by their pods on the pool's nodes",
      });
      expect(codes(snapshot)).not.toContain("daemonsets-unknown");
    } finally {
      lab.fake.install("apps");
    }
  });

  it("keeps each namespace's labels, by name", async () => {
    lab.fake.add({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: "media",
        labels: { "kubernetes.io/metadata.name": "media", team: "a" },
        annotations: { owner: "not kept" },
      },
    });
    try {
      const snapshot = await readSnapshot(options());
      expect(snapshot.namespaceLabels).toEqual({
        media: { "kubernetes.io/metadata.name": "media", team: "a" },
      });
    } finally {
      lab.fake.remove("namespaces", "media");
    }
  });

  it("says no decision rests on namespaces it may not list while no pod selects them by label", async () => {
    lab.fake.injectFault({ path: "/api/v1/namespaces", status: 403, times: 1 });
    const snapshot = await readSnapshot(options());
    expect(snapshot.complete).toBe(true);
    expect(snapshot.namespaceLabels).toBe("unknown");
    expect(snapshot.warnings).toContainEqual({
      code: "namespaces-unknown",
      subject: "namespaces",
      message: expect.stringContaining(
        '(forbidden: the account needs "list" on namespaces; check with kubectl auth can-i list namespaces); no pod (anti-)affinity term selects namespaces by their labels, so no decision rests on it',
      ),
    });
  });

  it("says a core list's 404 as the answer it was, not as an API the cluster lacks", async () => {
    const snapshot = await readDuring({
      path: "/api/v1/namespaces",
      status: 404,
      reason: "NotFound",
    });
    expect(snapshot.complete).toBe(true);
    expect(snapshot.namespaceLabels).toBe("unknown");
    expect(snapshot.warnings).toContainEqual({
      code: "namespaces-unknown",
      subject: "namespaces",
      message:
        "the API server answered 404 for /api/v1/namespaces; no pod (anti-)affinity term selects namespaces by their labels, so no decision rests on it",
    });
  });

  it("leaves the requests of a DaemonSet naming a RuntimeClass unknown when the classes cannot be read", async () => {
    lab.fake.injectFault({ path: "/apis/node.k8s.io/v1/runtimeclasses", status: 403, times: 1 });
    const snapshot = await readSnapshot(options());
    expect(snapshot.complete).toBe(true);
    const daemonSets = snapshot.daemonSets as DaemonSetInfo[];
    expect(daemonSets.map((daemonSet) => [daemonSet.name, daemonSet.requests])).toEqual([
      ["cilium", { cpu: 100, memory: 10 * Mi }],
      ["nvidia-device-plugin", {}],
    ]);
    expect(codes(snapshot)).toContain("runtimeclasses-unknown");
    expect(snapshot.warnings).toContainEqual({
      code: "runtimeclass-unknown",
      subject: "daemonset/kube-system/nvidia-device-plugin",
      message: expect.stringContaining("RuntimeClass nvidia, which could not be read"),
    });
  });

  it("is incomplete when PDBs cannot be read", async () => {
    lab.fake.injectFault({ path: "/apis/policy/v1/poddisruptionbudgets", status: 403, times: 1 });
    const snapshot = await readSnapshot(options());
    expect(snapshot.complete).toBe(false);
    expect(snapshot.warnings).toContainEqual(
      expect.objectContaining({ code: "list-failed", subject: "poddisruptionbudgets" }),
    );
  });

  it("takes a server without the policy/v1 API as one with no budgets, and says so", async () => {
    lab.fake.uninstall("policy");
    try {
      const snapshot = await readSnapshot(options());
      expect(snapshot.complete).toBe(true);
      expect(snapshot.pdbs).toEqual([]);
      expect(snapshot.warnings).toContainEqual({
        code: "pdb-api-missing",
        subject: "poddisruptionbudgets",
        message: "policy/v1 is not served by this cluster (404); none are considered",
      });
    } finally {
      lab.fake.install("policy");
    }
  });

  it("names the list that hung when the pods get no time left, rather than the pods alone", async () => {
    // Pods are listed after the others: a PDB list that stops mid-answer takes the read's whole
    // limit, and the pods' list, not yet sent, fails there. The failure says where the time went.
    // The PDB list's cut can come a fraction of a millisecond before the limit, leaving the pods
    // a millisecond, in which a local server can answer: the pods' answer is held past the limit.
    // The other lists must be answered within it: on a loaded machine the fake API server, in
    // this process, can take a second or more, so the limit is 3 s, not 1.
    lab.fake.injectFault({
      path: "/api/v1/pods",
      delayMs: 60_000,
      times: Number.POSITIVE_INFINITY,
    });
    const error = await readDuring(
      { path: "/apis/policy/v1/poddisruptionbudgets", stall: true },
      { readDeadlineMs: 3_000 },
    ).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ClusterReadError);
    expect((error as ClusterReadError).message).toMatch(
      /^cannot list pods: GET [^ ]+\/api\/v1\/pods: no response before the read's limit of 3 s was reached; the read's time went first on lists that did not answer in time: poddisruptionbudgets \(GET [^ ]+\/apis\/policy\/v1\/poddisruptionbudgets: the response had not ended when the read's limit of 3 s was reached\)$/,
    );
  });

  it("is incomplete when the budgets' list answers 404 while discovery serves policy/v1, or cannot tell", async () => {
    // The API server serves policy/v1 (its discovery says so): a 404 for the list came from
    // something else (a proxy that does not pass the path), and the budgets are unknown.
    const list = { path: "/apis/policy/v1/poddisruptionbudgets", status: 404, reason: "NotFound" };
    const served = await readDuring(list);
    expect(served.complete).toBe(false);
    expect(codes(served)).not.toContain("pdb-api-missing");
    expect(served.warnings).toContainEqual({
      code: "list-failed",
      subject: "poddisruptionbudgets",
      message: expect.stringMatching(
        /HTTP 404 NotFound: injected failure; policy\/v1 is served, as the cluster's discovery says, so the 404 does not show the API missing \(what the list would show is unknown, not none\)$/,
      ),
    });
    // Discovery that fails other than with a 404 does not say the group is not served either.
    lab.fake.injectFault({ path: "/apis/policy", status: 500, times: Number.POSITIVE_INFINITY });
    const untold = await readDuring(list);
    expect(untold.complete).toBe(false);
    expect(untold.warnings).toContainEqual({
      code: "list-failed",
      subject: "poddisruptionbudgets",
      message: expect.stringMatching(
        /; whether policy\/v1 is served could not be told \([^\n]*HTTP 500[^\n]*\), so the 404 does not show the API missing \(what the list would show is unknown, not none\)$/,
      ),
    });
  });

  it("needs the volume lists only when some pod has a claim", async () => {
    const fake = await FakeKubeApiserver.start();
    try {
      fake.add(
        {
          kind: "Node",
          metadata: { name: "talos-worker-1" },
          status: {
            allocatable: { cpu: "4", memory: "16Gi", pods: "110" },
            conditions: [{ type: "Ready", status: "True" }],
          },
        },
        {
          kind: "Pod",
          metadata: { namespace: "media", name: "sonarr-0", uid: "uid-sonarr-0" },
          spec: { nodeName: "talos-worker-1", containers: [{ name: "sonarr" }] },
          status: { phase: "Running" },
        },
      );
      for (const path of ["/api/v1/persistentvolumes", "/api/v1/persistentvolumeclaims"])
        fake.injectFault({
          path,
          status: 404,
          reason: "NotFound",
          times: Number.POSITIVE_INFINITY,
        });
      const kubeconfig = await fake.writeKubeconfig(`${lab.dir}/volumes.kubeconfig`);
      const read = () => readSnapshot({ kubeconfig, env: {}, retryDelayMs: 0 });
      const withoutClaims = await read();
      expect(withoutClaims.complete).toBe(true);
      expect(withoutClaims.warnings).toContainEqual({
        code: "volumes-api-missing",
        subject: "persistentvolumes",
        message:
          "the API server answered 404 for /api/v1/persistentvolumes; no pod has a claim, so no decision rests on it (one that has will hold the plan)",
      });
      fake.add({
        kind: "Pod",
        metadata: { namespace: "media", name: "jellyfin-0", uid: "uid-jellyfin-0" },
        spec: {
          nodeName: "talos-worker-1",
          containers: [{ name: "jellyfin" }],
          volumes: [{ name: "config", persistentVolumeClaim: { claimName: "config-jellyfin-0" } }],
        },
        status: { phase: "Running" },
      });
      const withClaims = await read();
      expect(withClaims.complete).toBe(false);
      expect(withClaims.warnings).toContainEqual(
        expect.objectContaining({ code: "list-failed", subject: "persistentvolumes" }),
      );
    } finally {
      await fake.close();
    }
  });

  it("is incomplete when the volume lists fail for another reason, claims or not", async () => {
    const snapshot = await readDuring({
      path: "/api/v1/persistentvolumes",
      status: 500,
    });
    expect(snapshot.complete).toBe(false);
  });

  it("throws ClusterReadError when nodes cannot be listed", async () => {
    lab.fake.injectFault({
      path: "/api/v1/nodes",
      status: 403,
      message: 'nodes is forbidden: User "x" cannot list resource "nodes"',
    });
    await expect(readSnapshot(options())).rejects.toThrow(ClusterReadError);
    lab.fake.injectFault({ path: "/api/v1/nodes", status: 403 });
    await expect(readSnapshot(options())).rejects.toThrow(
      /cannot list nodes: .*HTTP 403 Forbidden.*the account needs "list" on nodes; check with kubectl auth can-i list nodes\)$/,
    );
  });

  it("throws ClusterReadError when the server cannot be reached", async () => {
    const gone = await FakeKubeApiserver.start();
    const file = await gone.writeKubeconfig(`${lab.dir}/gone.kubeconfig`);
    await gone.close();
    await expect(readSnapshot({ kubeconfig: file, env: {}, retryDelayMs: 0 })).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });
});

describe("published metrics-server responses", () => {
  it("reads the Kubernetes documentation's NodeMetrics and PodMetrics samples", async () => {
    const fake = await FakeKubeApiserver.start();
    try {
      fake.add(
        {
          kind: "Node",
          metadata: { name: "minikube" },
          status: { conditions: [{ type: "Ready", status: "True" }] },
        },
        {
          kind: "Pod",
          metadata: { name: "kube-scheduler-minikube", namespace: "kube-system" },
          spec: { nodeName: "minikube", containers: [{ name: "kube-scheduler" }] },
          status: { phase: "Running" },
        },
        ...loadKubeObjects("metrics/node-minikube.json"),
        ...loadKubeObjects("metrics/pod-kube-scheduler-minikube.json"),
      );
      const file = await fake.writeKubeconfig(`${lab.dir}/minikube.kubeconfig`);
      const snapshot = await readSnapshot({
        kubeconfig: file,
        env: {},
        now: () => new Date("2022-01-27T19:25:00Z"),
        metricsMaxAgeSeconds: 3600,
      });
      expect(snapshot.nodes[0]?.usage).toEqual({
        source: "metrics-server",
        cpu: 488,
        memory: 732212 * 1024,
        timestamp: "2022-01-27T18:48:33Z",
        windowSeconds: 30,
      });
      expect(snapshot.pods[0]?.usage).toMatchObject({ cpu: 10, memory: 22244 * 1024 });
      expect(snapshot.pods[0]?.containers[0]?.usage).toMatchObject({
        cpu: 10,
        memory: 22244 * 1024,
      });
      expect(snapshot.metrics).toEqual({
        nodes: "available",
        pods: "available",
        source: "metrics-server",
      });
    } finally {
      await fake.close();
    }
  });
});

describe("samples refused with a warning of their own", () => {
  it("warns once about a sample without a timestamp, not again as missing", async () => {
    const fake = await FakeKubeApiserver.start();
    try {
      const minikube = loadKubeObjects("metrics/node-minikube.json").map((object) => {
        const { timestamp: _timestamp, ...rest } = object as Record<string, unknown>;
        return rest;
      });
      fake.add(
        {
          kind: "Node",
          metadata: { name: "minikube" },
          status: { conditions: [{ type: "Ready", status: "True" }] },
        },
        ...minikube,
      );
      const file = await fake.writeKubeconfig(`${lab.dir}/untimed.kubeconfig`);
      const snapshot = await readSnapshot({ kubeconfig: file, env: {}, retryDelayMs: 0 });
      expect(snapshot.nodes[0]?.usage).toBeUndefined();
      expect(snapshot.warnings.filter((w) => w.subject === "node/minikube")).toEqual([
        expect.objectContaining({ code: "metrics-invalid" }),
      ]);
    } finally {
      await fake.close();
    }
  });
});

describe("usage source seam", () => {
  it("uses another source's usage instead of metrics-server", async () => {
    lab.fake.requests.length = 0;
    const source: UsageSource = {
      name: "prometheus",
      async read(request) {
        expect(request.nodes).toContain("talos-worker-1");
        expect(request.pods).toContainEqual({ namespace: "media", name: "plex-7d9c65958-ghrmp" });
        const usage = {
          source: "prometheus" as const,
          windowSeconds: 86400,
          cpu: 700,
          memory: Gi,
          peak: { cpu: 900, memory: Gi, percentile: 95 },
        };
        return {
          source: "prometheus",
          origin: "http://prometheus.monitoring:9090",
          windowSeconds: 86400,
          percentile: 95,
          nodes: new Map([["talos-worker-1", usage]]),
          // The pod's usage is its containers' sum: every container it runs, sidecar included.
          containers: new Map([
            ["media/plex-7d9c65958-ghrmp/plex", usage],
            ["media/plex-7d9c65958-ghrmp/log-shipper", { ...usage, cpu: 0, memory: 0 }],
          ]),
          warnings: [{ code: "prometheus-gap", message: "series gaps" }],
        };
      },
    };
    const snapshot = await readSnapshot(options({ usageSource: source }));
    expect(snapshot.metrics).toMatchObject({
      source: "prometheus",
      windowSeconds: 86400,
      percentile: 95,
      nodes: "partial",
    });
    expect(snapshot.source.prometheus).toBe("http://prometheus.monitoring:9090");
    expect(node(snapshot, "talos-worker-1").usage?.source).toBe("prometheus");
    expect(node(snapshot, "talos-cp-1").usage).toBeUndefined();
    const plex = pod(snapshot, "media", "plex-7d9c65958-ghrmp");
    expect(plex.containers[0]?.usage?.peak).toEqual({ cpu: 900, memory: Gi, percentile: 95 });
    expect(plex.usage).toMatchObject({ cpu: 700, memory: Gi, source: "prometheus" });
    expect(codes(snapshot)).toContain("prometheus-gap");
    expect(lab.fake.requestCount({ path: /metrics\.k8s\.io/ })).toBe(0);
  });

  it("asks for usage at a past time planned for, and takes usage as stale for a later one", async () => {
    const asked: Date[] = [];
    const source: UsageSource = {
      name: "prometheus",
      async read(request) {
        asked.push(request.now);
        const usage = {
          source: "prometheus" as const,
          windowSeconds: 600,
          timestamp: request.now.toISOString(),
          cpu: 700,
          memory: Gi,
        };
        return {
          source: "prometheus",
          windowSeconds: 600,
          nodes: new Map([["talos-worker-1", usage]]),
          containers: new Map([
            ["media/plex-7d9c65958-ghrmp/plex", usage],
            ["media/plex-7d9c65958-ghrmp/log-shipper", { ...usage, cpu: 0, memory: 0 }],
          ]),
          warnings: [],
        };
      },
    };
    const hourBefore = new Date(homelabNow.getTime() - 3600_000);
    const past = await readSnapshot(options({ usageSource: source, planningTime: hourBefore }));
    expect(asked).toEqual([hourBefore]);
    expect(node(past, "talos-worker-1").usage?.timestamp).toBe(hourBefore.toISOString());
    expect(pod(past, "media", "plex-7d9c65958-ghrmp").usage?.cpu).toBe(700);
    expect(codes(past)).not.toContain("metrics-stale");

    // An hour ahead has not been measured: the usage read now does not stand for it.
    const hourAfter = new Date(homelabNow.getTime() + 3600_000);
    const future = await readSnapshot(options({ usageSource: source, planningTime: hourAfter }));
    expect(asked[1]).toEqual(homelabNow);
    expect(node(future, "talos-worker-1").usage).toBeUndefined();
    expect(pod(future, "media", "plex-7d9c65958-ghrmp").usage).toBeUndefined();
    const about = (subject: string) => future.warnings.filter((w) => w.subject === subject);
    expect(about("node/talos-worker-1")).toEqual([
      expect.objectContaining({
        code: "metrics-stale",
        message: expect.stringContaining("measured 3600s before the time planned for"),
      }),
    ]);
    expect(about("pods")).toEqual([
      expect.objectContaining({
        code: "metrics-stale",
        message: expect.stringContaining("usage of 1 pod "),
      }),
    ]);
    expect(about("pod/media/plex-7d9c65958-ghrmp")).toEqual([]);
  });

  it("falls back to metrics-server when the source fails", async () => {
    const source: UsageSource = {
      name: "prometheus",
      read: () => Promise.reject(new Error("connection refused")),
    };
    const snapshot = await readSnapshot(options({ usageSource: source }));
    expect(snapshot.metrics.source).toBe("metrics-server");
    expect(node(snapshot, "talos-cp-1").usage?.cpu).toBe(488);
    expect(snapshot.warnings).toContainEqual(
      expect.objectContaining({
        code: "usage-source-failed",
        message: expect.stringContaining("connection refused"),
      }),
    );
  });
});

describe("replicas share what they have in common", () => {
  const stamp = "2025-01-11T23:59:40Z";
  let fake: FakeKubeApiserver;
  let dir: string;
  let kubeconfig: string;

  /** A Deployment's pod as the API server returns it (managedFields and defaults included). */
  function replica(
    workload: string,
    hash: string,
    suffix: string,
    cpu: string,
  ): Record<string, unknown> {
    return {
      kind: "Pod",
      metadata: {
        name: `${workload}-${hash}-${suffix}`,
        namespace: "shop",
        creationTimestamp: "2025-01-11T20:00:00Z",
        labels: { app: workload, "pod-template-hash": hash },
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "ReplicaSet",
            name: `${workload}-${hash}`,
            controller: true,
          },
        ],
        managedFields: [{ manager: "kube-controller-manager", operation: "Update" }],
      },
      spec: {
        nodeName: "worker-1",
        containers: [
          {
            name: workload,
            resources: { requests: { cpu, memory: "128Mi" }, limits: { memory: "128Mi" } },
          },
        ],
        tolerations: [
          {
            key: "node.kubernetes.io/not-ready",
            operator: "Exists",
            effect: "NoExecute",
            tolerationSeconds: 300,
          },
        ],
      },
      status: { phase: "Running" },
    };
  }

  beforeAll(async () => {
    fake = await FakeKubeApiserver.start();
    fake.add(
      {
        kind: "Node",
        metadata: { name: "worker-1" },
        status: { conditions: [{ type: "Ready", status: "True" }] },
      },
      replica("web", "5d8f9c7b6", "a1b2c", "100m"),
      replica("web", "5d8f9c7b6", "d3e4f", "100m"),
      replica("api", "7c6b5a4d3", "g5h6j", "250m"),
      podMetrics("shop", "web-5d8f9c7b6-a1b2c", { web: { cpu: "5m", memory: "20Mi" } }, stamp),
      podMetrics("shop", "web-5d8f9c7b6-d3e4f", { web: { cpu: "7m", memory: "30Mi" } }, stamp),
      podMetrics("shop", "api-7c6b5a4d3-g5h6j", { api: { cpu: "9m", memory: "40Mi" } }, stamp),
    );
    dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-share-"));
    kubeconfig = await fake.writeKubeconfig(join(dir, "kubeconfig"));
  });

  afterAll(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  function read(extra: Partial<ReadSnapshotOptions> = {}) {
    return readSnapshot({ kubeconfig, env: {}, now: () => homelabNow, retryDelayMs: 0, ...extra });
  }

  it("shares labels, owner, tolerations and amounts between replicas, frozen", async () => {
    const snapshot = await read();
    const [first, second] = snapshot.pods.filter((p) => p.owner?.name === "web");
    const other = snapshot.pods.find((p) => p.owner?.name === "api");
    if (!first || !second || !other) throw new Error("replicas missing");
    expect(second.labels).toBe(first.labels);
    expect(second.owner).toBe(first.owner);
    expect(second.tolerations[0]).toBe(first.tolerations[0]);
    expect(second.requests).toBe(first.requests);
    expect(second.containers[0]?.limits).toBe(first.containers[0]?.limits);
    expect(other.labels).not.toBe(first.labels);
    expect(other.tolerations[0]).toBe(first.tolerations[0]);
    expect(first.labels).toEqual({ app: "web", "pod-template-hash": "5d8f9c7b6" });
    expect(first.tolerations).toEqual([
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
    ]);
    for (const shared of [
      first.labels,
      first.owner,
      first.tolerations[0],
      first.requests,
      first.initContainers,
    ]) {
      expect(Object.isFrozen(shared)).toBe(true);
    }
    // Each replica still has its own usage, on the pod and on its container.
    expect(first.usage).toMatchObject({ cpu: 5, memory: 20 * Mi });
    expect(second.usage).toMatchObject({ cpu: 7, memory: 30 * Mi });
    expect(first.containers[0]?.usage).toEqual(first.usage);
    expect(Object.isFrozen(first)).toBe(false);
  });

  it("puts no usage on any pod when the pod metrics list fails half way", async () => {
    fake.injectFault({ path: /metrics\.k8s\.io\/v1beta1\/pods$/, truncate: true, times: 3 });
    try {
      const snapshot = await read({ retries: 2 });
      expect(snapshot.metrics.pods).toBe("unavailable");
      expect(
        snapshot.pods.every((p) => p.usage === undefined && p.containers.every((c) => !c.usage)),
      ).toBe(true);
      expect(snapshot.warnings).toContainEqual(
        expect.objectContaining({ code: "metrics-unavailable", subject: "metrics/pods" }),
      );
    } finally {
      fake.clearFaults();
    }
  });
});
