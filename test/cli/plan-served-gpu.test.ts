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

/**
 * A GPU VM of the same size just rebooted: Ready, but the device plugin has not registered its
 * GPU again, so its allocatable has no `nvidia.com/gpu` yet.
 */
function rebootedGpuNode(name: string, ready = true): Raw[] {
  const node = worker(name, {
    labels: { "node.kubernetes.io/pool": "gpu", "nvidia.com/gpu.present": "true" },
    taints: [GPU_TAINT],
    allocatable: { cpu: "7800m", memory: "31963380Ki", pods: "110" },
    ready,
  });
  return [node, freshNodeMetrics(name, "300m", "1Gi")];
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
      "never fits: ai/vllm-7d9c8b6f5d-gp002 (cpu 2, memory 8 GiB, nvidia.com/gpu 2): needs more nvidia.com/gpu than a new node has (asks for 2 nvidia.com/gpu, a new node has 1)\n",
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

  it("says a GPU pod's fit is unknown while a Ready GPU node does not report its GPU yet", async () => {
    const nodes = [...cluster(), ...gpuNode("talos-gpu-1"), ...rebootedGpuNode("talos-gpu-2")];
    const pending = gpuPod("ollama-5b8c7d9f6c-gp001", "1");
    const other = { "Pulumi.homelab.yaml": STACK.replace("gpuCount: 1", "gpuCount: 2") };
    const output = await plan([...nodes, pending], { config: TWO_POOLS, other });
    // How many GPUs a new VM has is not known from two nodes that disagree: no node is added on
    // a guess, and the pod is not said never to fit.
    expect(output.proposals).toEqual([]);
    const note = poolNote(output, "gpu");
    expect(note).toContain(
      "new node: 7800m cpu, 30.5 GiB memory, 110 pods, nvidia.com/gpu unknown (learned, most-common allocatable, like talos-gpu-1)",
    );
    expect(note).toContain(
      "fit unknown: ai/ollama-5b8c7d9f6c-gp001 (cpu 2, memory 8 GiB, nvidia.com/gpu 1): it asks for nvidia.com/gpu, which the pool's nodes of a new node's size report in different amounts (none on a node whose device plugin has not registered yet), so how much of it a new node has is not known (set newNode.extendedResources when every new node has the same)",
    );
    expect(note).not.toContain("never fits");
    // The GPU shows once the device plugin registers, with no one acting: no warning.
    expect(output.notes.find((entry) => entry.subject === "pool/gpu")?.level).toBe("info");
    const decision = output.notes.find((entry) => entry.subject === "pool/gpu")?.decision as
      | { pending?: { neverFit?: Raw[] } }
      | undefined;
    expect(decision?.pending?.neverFit).toMatchObject([
      { pod: "ai/ollama-5b8c7d9f6c-gp001", reason: "extended-unknown", resource: "nvidia.com/gpu" },
    ]);

    // Rebooting and not Ready, the node is no model for a new one: the Ready one tells.
    const rebooting = [
      ...cluster(),
      ...gpuNode("talos-gpu-1"),
      ...rebootedGpuNode("talos-gpu-2", false),
    ];
    const notReady = await plan([...rebooting, pending], { config: TWO_POOLS, other });
    expect(poolNote(notReady, "gpu")).toContain(
      "pending: ai/ollama-5b8c7d9f6c-gp001 (cpu 2, memory 8 GiB, nvidia.com/gpu 1) → new-1",
    );

    // newNode.extendedResources says what every new VM has: the pod goes on a new node.
    const configured = `${TWO_POOLS}    newNode:\n      extendedResources: { nvidia.com/gpu: 1 }\n`;
    const given = await plan([...nodes, pending], { config: configured, other });
    expect(given.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["gpu", 2, 3],
    ]);
    expect(given.proposals[0]?.reasons.join("\n")).toContain(
      "pending: ai/ollama-5b8c7d9f6c-gp001 (cpu 2, memory 8 GiB, nvidia.com/gpu 1) → new-1",
    );
  });

  it("removes no GPU node for low usage while a GPU pod whose fit is unknown waits", async () => {
    // talos-gpu-2 rebooted and has not reported its GPU yet: most likely the very node the
    // pending pod waits for. Removing it for low usage would destroy the VM under the pod.
    const quick = TWO_POOLS.replace(
      "    max: 3\n",
      "    max: 3\n    scaleDown:\n      unneededTime: 0\n",
    );
    const other = { "Pulumi.homelab.yaml": STACK.replace("gpuCount: 1", "gpuCount: 2") };
    const rebooted = [...cluster(), ...gpuNode("talos-gpu-1"), ...rebootedGpuNode("talos-gpu-2")];
    // Without the pod, the quiet pool loses talos-gpu-2.
    const quiet = await plan(rebooted, { config: quick, other });
    expect(quiet.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["gpu", 2, 1],
    ]);

    const output = await plan([...rebooted, gpuPod("ollama-5b8c7d9f6c-gp001", "1")], {
      config: quick,
      other,
    });
    expect(output.proposals).toEqual([]);
    const gpu = output.notes.find((entry) => entry.subject === "pool/gpu");
    expect(gpu?.holds).toContainEqual({
      kind: "pending-fit-unknown",
      pods: ["ai/ollama-5b8c7d9f6c-gp001"],
    });
    expect(poolNote(output, "gpu")).toContain(
      "hold: ai/ollama-5b8c7d9f6c-gp001 is pending and whether a new node would fit it is unknown (fit unknown, above): no node is removed for low usage while it waits, so the room it may need is not given away",
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
