/**
 * What a new node of the pool starts with, against a served cluster: the pods every node runs
 * on its own (DaemonSets, static pods) take their requests from it, every resource they request
 * included, so a pending pod that would not fit beside them adds no node that cannot hold it.
 */
import { describe, expect, it } from "@jest/globals";
import {
  CONFIG,
  type PlanJson,
  type PodOptions,
  pod,
  type Raw,
  TFVARS,
  worker,
} from "./served-cluster.ts";
import {
  cluster,
  fillers,
  plan,
  planFull,
  poolNote,
  serveForTest,
  transcodeJob,
  WORKERS,
} from "./served-plan.ts";

/** The pod with its app container asking for `requests` as well. */
function addRequests(raw: Raw, requests: Record<string, string>): Raw {
  const container = ((raw.spec as Raw).containers as Raw[])[0] as Raw;
  const resources = container.resources as Raw;
  resources.requests = { ...(resources.requests as Raw), ...requests };
  return raw;
}

/**
 * The mirror pod the kubelet makes for a static pod of `node` (a local load balancer in front
 * of the API servers, as kubeadm-style workers run), named after the node as the kubelet names it.
 */
function staticPod(node: string): Raw {
  return pod("kube-system", `haproxy-${node}`, {
    node,
    owner: { kind: "Node", name: node },
    cpu: "1",
    memory: "1Gi",
    annotations: {
      "kubernetes.io/config.hash": "5b1f0c2e9d7a4c3b8e6f1a2d3c4b5a69",
      "kubernetes.io/config.mirror": "5b1f0c2e9d7a4c3b8e6f1a2d3c4b5a69",
      "kubernetes.io/config.source": "file",
    },
  });
}

/** A DaemonSet pod made for `node`, pinned there as the DaemonSet controller pins it. */
function exporter(node: string, index: number, options: PodOptions = {}): Raw {
  return pod("monitoring", `node-exporter-${index}k9zq`, {
    owner: { kind: "DaemonSet", name: "node-exporter" },
    cpu: "500m",
    memory: "128Mi",
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchFields: [{ key: "metadata.name", operator: "In", values: [node] }] },
          ],
        },
      },
    },
    ...options,
  });
}

describe("plan against a served cluster: what a new node starts with", () => {
  it("takes the static pods every pool node runs from a new node's room", async () => {
    const output = await plan([
      ...cluster(),
      ...fillers(WORKERS, "2"),
      ...WORKERS.map(staticPod),
      // A new node: 3800m − 100m (cilium) − 1 (haproxy) = 2700m free.
      transcodeJob("fit270", { cpu: "2700m" }),
      transcodeJob("no3000", { cpu: "3" }),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const text = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(text).toContain("DaemonSets and static pods take 1100m cpu, 1.1 GiB, 2 pods");
    expect(text).toMatch(/transcode-29123400-fit270[^\n]*→ new-1/);
    // 3 cpu is less than the node's 3800m: what is short is the room its own pods leave.
    expect(text).toContain(
      "never fits: batch/transcode-29123400-no3000 (cpu 3, memory 1 GiB): needs more cpu than a new node has free once its DaemonSets and static pods run (2700m of 3800m)",
    );
    const nodes = output.proposals[0]?.decision?.nodes as { shape: Raw } | undefined;
    expect(nodes?.shape.daemonSetOverhead).toEqual({
      cpu: 1100,
      memory: (1024 + 128) * 2 ** 20,
      pods: 2,
      staticPods: 1,
    });
  });

  it("does not count a static pod that only some pool nodes run", async () => {
    const output = await plan([
      ...cluster(),
      ...fillers(WORKERS, "2"),
      staticPod("talos-worker-1"),
      transcodeJob("no3000", { cpu: "3" }),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(output.proposals[0]?.reasons.join("\n")).toContain("DaemonSets take 100m cpu");
  });

  it("takes the ephemeral storage DaemonSets request from a new node's disk", async () => {
    const logShipper = (node: string, index: number) =>
      addRequests(
        pod("logging", `fluent-bit-${index}x7wq`, {
          node,
          owner: { kind: "DaemonSet", name: "fluent-bit" },
          cpu: "10m",
          memory: "32Mi",
        }),
        { "ephemeral-storage": "40Gi" },
      );
    // Each node's disk is 58623335106 bytes (54.6 GiB) allocatable: 14.6 GiB left beside the
    // log shipper, on the nodes there and on a new one alike.
    const output = await plan([
      ...cluster(),
      ...WORKERS.map(logShipper),
      addRequests(transcodeJob("disk20", { cpu: "100m" }), { "ephemeral-storage": "20Gi" }),
    ]);
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain("DaemonSets take 110m cpu, 160 MiB, 40 GiB ephemeral storage, 2 pods");
    expect(note).toMatch(/never fits: batch\/transcode-29123400-disk20[^\n]*ephemeral-storage/);
  });

  it("counts a DaemonSet whose pod waits for room on a full node", async () => {
    const waiting = {
      scheduled: {
        reason: "Unschedulable",
        message:
          "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 1 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.",
      },
    };
    const output = await plan([
      ...cluster(),
      ...fillers(WORKERS, "3"),
      exporter("talos-worker-1", 1, { node: "talos-worker-1" }),
      exporter("talos-worker-2", 2, { node: "talos-worker-2" }),
      exporter("talos-worker-3", 3, waiting),
      // A new node: 3800m − 100m (cilium) − 500m (node-exporter) = 3200m free.
      transcodeJob("no3300", { cpu: "3300m" }),
    ]);
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain("DaemonSets take 600m cpu, 256 MiB, 2 pods");
    expect(note).toMatch(/never fits: batch\/transcode-29123400-no3300[^\n]*cpu/);
  });

  it("keeps room on a new node of a pool with no node for the DaemonSets that would run on it", async () => {
    const output = await plan(
      [
        ...cluster(),
        // Tolerates every taint, so it runs on a GPU node too; cilium does not.
        ...WORKERS.map((node, index) =>
          exporter(node, index, { node, tolerations: [{ operator: "Exists" }] }),
        ),
        // A new GPU node: 8 cpu − 500m (node-exporter) = 7500m free.
        trainingPod("fit7500", "7500m"),
        trainingPod("no7600", "7600m"),
      ],
      { config: GPU_CONFIG, tfvars: `${TFVARS}gpu_count = 0\n` },
    );
    const gpu = output.proposals.find((proposal) => proposal.pool === "gpu");
    expect(gpu).toMatchObject({ from: 0, to: 1 });
    const text = gpu?.reasons.join("\n") ?? "";
    expect(text).toContain(
      "DaemonSets take 500m cpu, 128 MiB, 1 pod (the cluster's DaemonSets whose pods admit a new node: the pool has no Ready node)",
    );
    expect(text).toMatch(/ml\/train-fit7500[^\n]*→ new-1/);
    expect(text).toMatch(/never fits: ml\/train-no7600[^\n]*cpu/);
  });

  it("keeps room on a new GPU node for a device plugin DaemonSet that runs no pod yet", async () => {
    const output = await plan(
      [
        ...cluster(),
        ...WORKERS.map((node, index) =>
          exporter(node, index, { node, tolerations: [{ operator: "Exists" }] }),
        ),
        daemonSetObject("monitoring", "node-exporter", {
          cpu: "500m",
          memory: "128Mi",
          tolerations: [{ operator: "Exists" }],
        }),
        // Only nodes labelled pool=gpu run it, and there are none yet.
        daemonSetObject("kube-system", "nvidia-device-plugin", {
          cpu: "300m",
          memory: "64Mi",
          nodeSelector: { pool: "gpu" },
          tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
        }),
        // Node affinity keeps it to storage nodes, which its pods, pinned to their node, no
        // longer say.
        daemonSetObject("longhorn-system", "longhorn-manager", {
          cpu: "1",
          memory: "256Mi",
          affinity: storageNodes,
          tolerations: [{ operator: "Exists" }],
        }),
        ...WORKERS.map((node, index) =>
          pod("longhorn-system", `longhorn-manager-${index}z8kq`, {
            node,
            owner: { kind: "DaemonSet", name: "longhorn-manager" },
            cpu: "1",
            memory: "256Mi",
            tolerations: [{ operator: "Exists" }],
            affinity: pinnedTo(node),
          }),
        ),
        // A new GPU node: 8 cpu − 500m (node-exporter) − 300m (device plugin) = 7200m free.
        trainingPod("fit7200", "7200m"),
        trainingPod("no7300", "7300m"),
      ],
      { config: GPU_CONFIG, tfvars: `${TFVARS}gpu_count = 0\n` },
    );
    const gpu = output.proposals.find((proposal) => proposal.pool === "gpu");
    expect(gpu).toMatchObject({ from: 0, to: 1 });
    const text = gpu?.reasons.join("\n") ?? "";
    expect(text).toContain("DaemonSets take 800m cpu, 192 MiB, 2 pods");
    expect(text).toMatch(/ml\/train-fit7200[^\n]*→ new-1/);
    expect(text).toMatch(/never fits: ml\/train-no7300[^\n]*cpu/);
  });

  it("adds no node when the DaemonSets cannot be listed, and says why", async () => {
    const served = await serveForTest([
      ...cluster(),
      ...fillers(WORKERS, "3"),
      trainingPod("a", "1"),
      transcodeJob("b", { cpu: "3" }),
    ]);
    served.fake.injectFault({
      path: "/apis/apps/v1/daemonsets",
      status: 403,
      message:
        'daemonsets.apps is forbidden: User "system:serviceaccount:pr-autoscaler:pr-autoscaler" cannot list resource "daemonsets" in API group "apps" at the cluster scope',
      times: Number.POSITIVE_INFINITY,
    });
    const run = await served.run(["--json"], {
      config: GPU_CONFIG,
      tfvars: `${TFVARS}gpu_count = 0\n`,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      'the account needs "list" on daemonsets.apps in all namespaces; check with kubectl auth can-i list daemonsets.apps --all-namespaces); which DaemonSets a new node would run is unknown',
    );
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals.filter((proposal) => proposal.pool === "gpu")).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/gpu");
    expect(note?.holds).toContainEqual({ kind: "shape-unknown", daemonSets: "daemonsets-unread" });
    expect(note?.message).toContain(
      "the room on a new node is unknown: the cluster's DaemonSets could not be read",
    );
    // The pool with Ready nodes would run those DaemonSets too, and maybe some not on its nodes
    // yet: its pending pod adds no node either.
    expect(output.proposals.find((proposal) => proposal.pool === "workers")).toBeUndefined();
    const workers = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(workers?.holds).toContainEqual({
      kind: "shape-unknown",
      daemonSets: "daemonsets-unread",
    });
    expect(poolNote(output)).toContain("room on a new node is unknown");
    // Its pod is not said never to fit: whether it fits is what is unknown.
    expect(poolNote(output)).toMatch(
      /^ {2}fit unknown: [^\n]*: what a new node offers is unknown$/m,
    );
    expect(poolNote(output)).not.toContain("never fits");
  });

  it("names a taint the GPU nodes share and newNode.taints repeats once, as the one taint it is", async () => {
    // talos-gpu-1 carries nvidia.com/gpu:NoSchedule, and GPU_CONFIG gives a new node the same:
    // a node holds one taint per key and effect, so a pod that does not tolerate it meets one.
    const gpuNode = worker("talos-gpu-1", {
      labels: { pool: "gpu" },
      taints: [{ key: "nvidia.com/gpu", effect: "NoSchedule" }],
    });
    const untolerating = pod("ml", "notebook-6b7c8d9e0-unt01", {
      cpu: "1",
      memory: "1Gi",
      nodeSelector: { pool: "gpu" },
    });
    const output = await plan([...cluster(), gpuNode, untolerating], {
      config: GPU_CONFIG,
      tfvars: `${TFVARS}gpu_count = 1\n`,
    });
    expect(poolNote(output, "gpu")).toMatch(
      /^ {2}never fits: ml\/notebook-6b7c8d9e0-unt01 [^\n]*: it does not tolerate the taint nvidia\.com\/gpu:NoSchedule, which a new node of this pool would have$/m,
    );
    const gpu = output.notes.find((note) => note.subject === "pool/gpu")?.decision as Raw;
    expect((gpu.pending as { neverFit: Raw[] }).neverFit).toEqual([
      expect.objectContaining({ taints: ["nvidia.com/gpu:NoSchedule"] }),
    ]);
  });

  it("keeps room on a new node for a DaemonSet that has no pod on the pool's nodes yet", async () => {
    // Falco was just installed: its DaemonSet exists, its controller has made no pod yet.
    const output = await plan([
      ...cluster(),
      ...fillers(WORKERS, "2"),
      daemonSetObject("security", "falco", {
        cpu: "500m",
        memory: "512Mi",
        tolerations: [{ operator: "Exists" }],
      }),
      // A new node: 3800m − 100m (cilium) − 500m (falco) = 3200m free.
      transcodeJob("fit3200", { cpu: "3200m" }),
      transcodeJob("no3300", { cpu: "3300m" }),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const text = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(text).toContain("DaemonSets take 600m cpu, 640 MiB, 2 pods");
    expect(text).toMatch(/transcode-29123400-fit3200[^\n]*→ new-1/);
    expect(text).toMatch(/never fits: batch\/transcode-29123400-no3300[^\n]*cpu/);
  });

  it("puts a pod beside a DaemonSet's pod on a new node when that DaemonSet has made no pod yet", async () => {
    // The node-local DNS cache was just installed with the API that must run beside it: the
    // DaemonSet exists, its controller has made no pod yet. The workers have no room left.
    const beside = (name: string): Raw => ({
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: { matchLabels: { "app.kubernetes.io/name": name } },
            namespaces: ["kube-system", "longhorn-system"],
            topologyKey: "kubernetes.io/hostname",
          },
        ],
      },
    });
    const api = (suffix: string, partner: string) =>
      pod("apps", `api-6c7d8e9f0-${suffix}`, {
        cpu: "1",
        memory: "1Gi",
        affinity: beside(partner),
        scheduled: { reason: "Unschedulable", message: "0/4 nodes are available" },
      });
    const output = await planFull([
      daemonSetObject("kube-system", "node-local-dns", {
        cpu: "25m",
        memory: "32Mi",
        tolerations: [{ operator: "Exists" }],
      }),
      // Only storage nodes run this one: a new worker does not.
      daemonSetObject("longhorn-system", "longhorn-manager", {
        cpu: "25m",
        memory: "32Mi",
        affinity: storageNodes,
      }),
      api("dns01", "node-local-dns"),
      api("lhm01", "longhorn-manager"),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const text = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(text).toMatch(/api-6c7d8e9f0-dns01[^\n]*→ new-1/);
    expect(text).toMatch(/never fits: apps\/api-6c7d8e9f0-lhm01[^\n]*pod affinity/);
  });

  it("adds no node for a pod a DaemonSet's own anti-affinity keeps off every node", async () => {
    // A latency probe DaemonSet that must not share a node with the noisy batch pods.
    const NOISY = { "app.kubernetes.io/name": "noisy" };
    const apart = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: { matchLabels: NOISY },
            namespaces: ["batch"],
            topologyKey: "kubernetes.io/hostname",
          },
        ],
      },
    };
    const probe = (node: string, index: number) =>
      pod("monitoring", `latency-probe-${index}x7wq`, {
        node,
        owner: { kind: "DaemonSet", name: "latency-probe" },
        cpu: "50m",
        memory: "64Mi",
        labels: { "app.kubernetes.io/name": "latency-probe" },
        tolerations: [{ operator: "Exists" }],
        affinity: { ...pinnedTo(node), ...apart },
      });
    const probes = daemonSetObject("monitoring", "latency-probe", {
      cpu: "50m",
      memory: "64Mi",
      tolerations: [{ operator: "Exists" }],
      affinity: apart,
    });
    const noisy = pod("batch", "noisy-7d8e9f0a1-pen01", {
      cpu: "1",
      memory: "128Mi",
      labels: NOISY,
      scheduled: { reason: "Unschedulable", message: "0/4 nodes are available" },
    });
    const neverFits =
      /never fits: batch\/noisy-7d8e9f0a1-pen01 [^\n]*: the required pod anti-affinity of the DaemonSet or static pods a new node of this pool runs from the start keeps it off such a node$/m;
    const output = await plan([...cluster(), ...WORKERS.map(probe), probes, noisy]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(neverFits);
    // Just installed, no probe yet, on full workers: a new node would run one from the start.
    const justInstalled = await planFull([probes, noisy]);
    expect(justInstalled.proposals).toEqual([]);
    expect(poolNote(justInstalled)).toMatch(neverFits);
  });
});

const GPU_CONFIG = `${CONFIG}  - name: gpu
    target:
      file: terraform/terraform.tfvars
      path: gpu_count
    selector:
      matchLabels:
        pool: gpu
    min: 0
    max: 2
    newNode:
      cpu: "8"
      memory: 32Gi
      labels: { pool: gpu }
      taints: [{ key: nvidia.com/gpu, effect: NoSchedule }]
      extendedResources: { nvidia.com/gpu: 1 }
`;

/** A Pending training Job pod of `cpu`, 8 GiB and a GPU, for GPU nodes alone. */
function trainingPod(suffix: string, cpu: string): Raw {
  return addRequests(
    pod("ml", `train-${suffix}`, {
      owner: { kind: "Job", name: `train-${suffix}` },
      cpu,
      memory: "8Gi",
      nodeSelector: { pool: "gpu" },
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    }),
    { "nvidia.com/gpu": "1" },
  );
}

/** Required node affinity for nodes labelled storage=true. */
const storageNodes: Raw = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [
        { matchExpressions: [{ key: "storage", operator: "In", values: ["true"] }] },
      ],
    },
  },
};

/** The node affinity the DaemonSet controller gives each of its pods in place of its own. */
function pinnedTo(node: string): Raw {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchFields: [{ key: "metadata.name", operator: "In", values: [node] }] },
        ],
      },
    },
  };
}

/** An apps/v1 DaemonSet as the API server returns it, its template asking for `spec`. */
function daemonSetObject(
  namespace: string,
  name: string,
  spec: Pick<PodOptions, "cpu" | "memory" | "nodeSelector" | "affinity" | "tolerations">,
): Raw {
  const template = pod(namespace, name, { ...spec, owner: null });
  const templateSpec = template.spec as Raw;
  const labels = { "app.kubernetes.io/name": name };
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: {
      name,
      namespace,
      creationTimestamp: "2026-11-01T10:00:00Z",
      generation: 1,
      labels,
    },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: templateSpec },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
    },
    status: { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberReady: 0 },
  };
}
