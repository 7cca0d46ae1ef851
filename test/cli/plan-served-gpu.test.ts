/**
 * A pool of GPU VMs beside the Talos workers, against a served cluster: each VM has one GPU
 * passed through (`nvidia.com/gpu: 1` in its allocatable, as the NVIDIA device plugin reports
 * it), carries the `nvidia.com/gpu=present:NoSchedule` taint and its own count in a Pulumi stack
 * file. Pods the scheduler reports `Insufficient nvidia.com/gpu` for are said with the GPUs they
 * ask for, since that is what decides where they go.
 */
import { describe, expect, it } from "@jest/globals";
import { CONFIG, freshNodeMetrics, pod, type Raw, worker } from "./served-cluster.ts";
import { cluster, plan, poolNote } from "./served-plan.ts";

const GPU_TAINT = { key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" };
const TOLERATE_GPU = [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }];

/** The workers pool (nodes without a pool label), then the GPU pool counted in Pulumi's stack. */
const TWO_POOLS = `${CONFIG.replace(
  "          operator: DoesNotExist\n",
  "          operator: DoesNotExist\n        - key: node.kubernetes.io/pool\n          operator: DoesNotExist\n",
)}  - name: gpu
    target:
      file: Pulumi.homelab.yaml
      path: config."homelab:gpuCount"
    selector:
      matchLabels:
        node.kubernetes.io/pool: gpu
    min: 1
    max: 3
`;

const STACK = `config:
  proxmox:endpoint: https://pve.home.arpa:8006
  homelab:gpuCount: 1
`;

/** An 8-core GPU VM, its one GPU taken by Plex. */
function gpuNode(name: string): Raw[] {
  const node = worker(name, {
    labels: { "node.kubernetes.io/pool": "gpu", "nvidia.com/gpu.present": "true" },
    taints: [GPU_TAINT],
    allocatable: { cpu: "7800m", memory: "31963380Ki", pods: "110" },
  });
  const status = node.status as { allocatable: Raw; capacity: Raw };
  status.allocatable["nvidia.com/gpu"] = "1";
  status.capacity["nvidia.com/gpu"] = "1";
  return [
    node,
    freshNodeMetrics(name, "1200m", "6Gi"),
    withGpus(
      pod("media", "plex-7d9c65958-ghrmp", {
        node: name,
        cpu: "2",
        memory: "4Gi",
        tolerations: TOLERATE_GPU,
      }),
      "1",
    ),
  ];
}

/** `raw` with its app container asking for `count` GPUs (requests and limits, as they must be equal). */
function withGpus(raw: Raw, count: string): Raw {
  const [container] = (raw.spec as { containers: Raw[] }).containers;
  const resources = (container as { resources: { requests?: Raw; limits?: Raw } }).resources;
  resources.requests = { ...resources.requests, "nvidia.com/gpu": count };
  resources.limits = { "nvidia.com/gpu": count };
  return raw;
}

/** A pod asking for `count` GPUs, Pending because the one GPU node has none free. */
function gpuPod(name: string, count: string): Raw {
  return withGpus(
    pod("ai", name, {
      cpu: "2",
      memory: "8Gi",
      tolerations: TOLERATE_GPU,
      scheduled: {
        reason: "Unschedulable",
        message:
          "0/5 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient nvidia.com/gpu. preemption: 0/5 nodes are available: 1 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling.",
      },
    }),
    count,
  );
}

describe("plan against a served cluster: a pool of GPU nodes", () => {
  it("names the GPUs a pending pod asks for, where it goes and where it never fits", async () => {
    const output = await plan(
      [
        ...cluster(),
        ...gpuNode("talos-gpu-1"),
        gpuPod("ollama-5b8c7d9f6c-gp001", "1"),
        gpuPod("vllm-7d9c8b6f5d-gp002", "2"),
      ],
      { config: TWO_POOLS, other: { "Pulumi.homelab.yaml": STACK } },
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["gpu", 1, 2],
    ]);
    const gpu = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(gpu).toContain(
      "pending: ai/ollama-5b8c7d9f6c-gp001 (cpu 2, memory 8 GiB, nvidia.com/gpu 1) → new-1",
    );
    expect(gpu).toContain(
      "never fits: ai/vllm-7d9c8b6f5d-gp002 (cpu 2, memory 8 GiB, nvidia.com/gpu 2): needs more nvidia.com/gpu than a new node has",
    );
    expect(output.proposals[0]?.decision).toMatchObject({
      pending: {
        onNew: [{ pod: "ai/ollama-5b8c7d9f6c-gp001", extended: { "nvidia.com/gpu": 1 } }],
      },
    });
    // The workers, which have no GPU, say where the pod goes and what it asks for.
    expect(poolNote(output)).toContain(
      "pending: ai/ollama-5b8c7d9f6c-gp001 (cpu 2, memory 8 GiB, nvidia.com/gpu 1) → pool gpu",
    );
  });

  it("holds the pools a GPU node shares, without saying a removed node did not go", async () => {
    // The workers pool written without a selector takes every node but the control plane, the
    // GPU VM too: four nodes for its count of three, one of them also the gpu pool's.
    const workersFirst = TWO_POOLS.replace(
      "        - key: node.kubernetes.io/pool\n          operator: DoesNotExist\n",
      "",
    );
    const output = await plan([...cluster(), ...gpuNode("talos-gpu-1")], {
      config: workersFirst,
      other: { "Pulumi.homelab.yaml": STACK },
    });
    expect(output.proposals).toEqual([]);
    const holds = output.notes.find((note) => note.subject === "pool/workers")?.holds ?? [];
    expect(holds.map((hold) => hold.kind)).toContain("pools-overlap");
    expect(holds.map((hold) => hold.kind)).not.toContain("provisioning-failed");
    expect(poolNote(output)).toContain(
      "hold: talos-gpu-1 is also in pool gpu: make the pools' selectors exclusive, each node in one pool; no action",
    );
    expect(poolNote(output)).not.toContain("did not go");
  });
});
