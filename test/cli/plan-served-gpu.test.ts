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
 * GPU again, so its allocatable has no `nvidia.com/gpu` yet. GPU feature discovery's
 * `nvidia.com/gpu.present=true` label, which outlives the reboot, says it has one unless
 * `labelled` is false (a cluster without GPU feature discovery); `readySince` is its Ready
 * condition's lastTransitionTime (by default weeks ago).
 */
function rebootedGpuNode(
  name: string,
  options: { ready?: boolean; readySince?: string; labelled?: boolean } = {},
): Raw[] {
  const labels: Record<string, string> = { "node.kubernetes.io/pool": "gpu" };
  if (options.labelled !== false) labels["nvidia.com/gpu.present"] = "true";
  const node = worker(name, {
    labels,
    taints: [GPU_TAINT],
    allocatable: { cpu: "7800m", memory: "31963380Ki", pods: "110" },
    ready: options.ready ?? true,
  });
  const { conditions } = node.status as { conditions: Raw[] };
  for (const condition of conditions)
    if (condition.type === "Ready" && options.readySince)
      condition.lastTransitionTime = options.readySince;
  return [node, freshNodeMetrics(name, "300m", "1Gi")];
}

/** The whole minute `minutes` minutes ago, as the API server writes times (to the second). */
function minutesAgo(minutes: number): string {
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  return new Date(minute - minutes * 60_000).toISOString().replace(/\.\d+Z$/, "Z");
}

/** `2026-11-24 07:33 UTC`, as the explanation writes a whole-minute time. */
function utc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
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
    // No GPU feature discovery label says talos-gpu-2 has a GPU: only the nodes' allocatable
    // tells, and they disagree.
    const unlabelled = rebootedGpuNode("talos-gpu-2", { labelled: false });
    const nodes = [...cluster(), ...gpuNode("talos-gpu-1"), ...unlabelled];
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
      ...rebootedGpuNode("talos-gpu-2", { ready: false }),
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
    const rebooted = [
      ...cluster(),
      ...gpuNode("talos-gpu-1"),
      ...rebootedGpuNode("talos-gpu-2", { labelled: false }),
    ];
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

  it("waits for a GPU its node's label says is on its way, adding no VM for it", async () => {
    // talos-gpu-2 rebooted three minutes ago: Ready, still labelled by GPU feature discovery, its
    // device plugin not registered yet. The Plex pod it ran was made again and waits for it.
    const since = minutesAgo(3);
    const until = new Date(Date.parse(since) + 15 * 60_000).toISOString().replace(/\.\d+Z$/, "Z");
    const nodes = [
      ...cluster(),
      ...gpuNode("talos-gpu-1"),
      ...rebootedGpuNode("talos-gpu-2", { readySince: since }),
    ];
    const pending = gpuPod("plex-7d9c65958-x2k4q", "1");
    const other = { "Pulumi.homelab.yaml": STACK.replace("gpuCount: 1", "gpuCount: 2") };
    const output = await plan([...nodes, pending], { config: TWO_POOLS, other });
    expect(output.proposals).toEqual([]);
    const gpu = poolNote(output, "gpu");
    expect(gpu).toContain(
      `GPU on its way: talos-gpu-2 is labelled nvidia.com/gpu.present=true but advertises no nvidia.com/gpu yet, Ready since ${utc(since)}: counted on for 1 nvidia.com/gpu once its device plugin registers it, until ${utc(until)} (provisionTimeout after it became Ready); pending pods that need it wait for it and add no node meanwhile`,
    );
    // The node's missing GPU is not a new VM's: it has the one talos-gpu-1 advertises.
    expect(gpu).toContain(
      "new node: 7800m cpu, 30.5 GiB memory, 110 pods, 1 nvidia.com/gpu (learned, most-common allocatable, like talos-gpu-1)",
    );
    // The workers pool, planned first, finds the pod its room there.
    expect(poolNote(output)).toContain(
      "pending: ai/plex-7d9c65958-x2k4q (cpu 2, memory 8 GiB, nvidia.com/gpu 1) fits on talos-gpu-2 once its nvidia.com/gpu is advertised",
    );
    const workers = output.notes.find((entry) => entry.subject === "pool/workers")?.decision as
      | { pending?: { onExisting?: Raw[] } }
      | undefined;
    expect(workers?.pending?.onExisting).toMatchObject([
      { pod: "ai/plex-7d9c65958-x2k4q", node: "talos-gpu-2", awaits: ["nvidia.com/gpu"] },
    ]);
    const decision = output.notes.find((entry) => entry.subject === "pool/gpu")?.decision as
      | { nodes?: { gpuComing?: Raw[] } }
      | undefined;
    expect(decision?.nodes?.gpuComing).toEqual([
      {
        node: "talos-gpu-2",
        resource: "nvidia.com/gpu",
        label: "nvidia.com/gpu.present=true",
        // Both written as every time the plan writes, the API server's form aside.
        since: `${since.slice(0, 19)}.000Z`,
        until: `${until.slice(0, 19)}.000Z`,
        amount: 1,
      },
    ]);
    // Nor does the node go while the pod waits for it: the pod needs its GPU.
    expect(gpu).toContain(
      "not every pod of talos-gpu-2, with the 1 pending pod the pool's free room holds, fits on the other nodes (no room for ai/plex-7d9c65958-x2k4q: it needs more nvidia.com/gpu than any other node of the pool, or any node of pool workers offered to it, has free)",
    );
    expect(output.notes.find((entry) => entry.subject === "pool/gpu")?.level).toBe("info");

    // The pool's only GPU VM rebooted: newNode.extendedResources says a new VM has a GPU, and
    // the pod still waits for this one's rather than adding a VM.
    const configured = `${TWO_POOLS}    newNode:\n      extendedResources: { nvidia.com/gpu: 1 }\n`;
    const alone = await plan(
      [...cluster(), ...rebootedGpuNode("talos-gpu-1", { readySince: since }), pending],
      { config: configured, other: { "Pulumi.homelab.yaml": STACK } },
    );
    expect(alone.proposals).toEqual([]);
    expect(poolNote(alone)).toContain(
      "pending: ai/plex-7d9c65958-x2k4q (cpu 2, memory 8 GiB, nvidia.com/gpu 1) fits on talos-gpu-1 once its nvidia.com/gpu is advertised",
    );
  });

  it("counts on the GPUs node feature discovery and GPU feature discovery say a node has", async () => {
    // Node feature discovery's NVIDIA PCI vendor label, GPU feature discovery's count of two, and
    // an allocatable of 0 while the device plugin registers: two pods wait, the third adds a VM.
    const since = minutesAgo(3);
    const [node, ...rest] = rebootedGpuNode("talos-gpu-2", { readySince: since, labelled: false });
    const labels = (node as { metadata: { labels: Record<string, string> } }).metadata.labels;
    labels["feature.node.kubernetes.io/pci-10de.present"] = "true";
    labels["nvidia.com/gpu.count"] = "2";
    (node as { status: { allocatable: Raw } }).status.allocatable["nvidia.com/gpu"] = "0";
    const output = await plan(
      [
        ...cluster(),
        ...gpuNode("talos-gpu-1"),
        node as Raw,
        ...rest,
        gpuPod("ollama-5b8c7d9f6c-gp001", "1"),
        gpuPod("vllm-7d9c8b6f5d-gp002", "1"),
        gpuPod("comfyui-6f8d9c7b5-gp003", "1"),
      ],
      {
        config: TWO_POOLS,
        other: { "Pulumi.homelab.yaml": STACK.replace("gpuCount: 1", "gpuCount: 2") },
      },
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["gpu", 2, 3],
    ]);
    const reasons = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(reasons).toContain(
      `GPU on its way: talos-gpu-2 is labelled feature.node.kubernetes.io/pci-10de.present=true but advertises no nvidia.com/gpu yet, Ready since ${utc(since)}: counted on for 2 nvidia.com/gpu`,
    );
    expect(reasons).toContain("trigger: 1 pending pod needs 1 new node");
    const waiting = poolNote(output)
      .split("\n")
      .filter((line) => line.includes("once its"));
    expect(waiting).toHaveLength(2);
  });

  it("removes no node for low usage while its GPU is on its way, but above the max", async () => {
    // talos-gpu-2 became Ready twelve minutes ago, past the 10m delay after a change (of unknown
    // time here), its GPU not advertised yet: what will run on it is not shown by its usage.
    const since = minutesAgo(12);
    const until = new Date(Date.parse(since) + 15 * 60_000).toISOString().replace(/\.\d+Z$/, "Z");
    const quick = TWO_POOLS.replace(
      "    max: 3\n",
      "    max: 3\n    scaleDown:\n      unneededTime: 0\n",
    );
    const other = { "Pulumi.homelab.yaml": STACK.replace("gpuCount: 1", "gpuCount: 2") };
    const nodes = [
      ...cluster(),
      ...gpuNode("talos-gpu-1"),
      ...rebootedGpuNode("talos-gpu-2", { readySince: since }),
    ];
    const output = await plan(nodes, { config: quick, other });
    expect(output.proposals).toEqual([]);
    const text = `talos-gpu-2's nvidia.com/gpu is not advertised yet (GPU on its way, above: its usage since it became Ready does not show what will run on it once the GPU is advertised, so it does not go for low usage before ${utc(until)})`;
    expect(poolNote(output, "gpu")).toContain(`not removed: ${text}`);
    const decision = output.notes.find((entry) => entry.subject === "pool/gpu")?.decision as
      | { scaleDown?: { conditions?: Raw[] } }
      | undefined;
    expect(decision?.scaleDown?.conditions).toContainEqual({
      kind: "gpu-advertised",
      met: false,
      node: "talos-gpu-2",
      resources: ["nvidia.com/gpu"],
      until: `${until.slice(0, 19)}.000Z`,
    });

    // Above the max the count comes down all the same.
    const lowered = quick.replace("    max: 3\n", "    max: 1\n");
    const above = await plan(nodes, { config: lowered, other });
    expect(above.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["gpu", 2, 1],
    ]);
    expect(above.proposals[0]?.reasons.join("\n")).toContain(
      "talos-gpu-2's nvidia.com/gpu is not advertised yet, and it goes all the same: the count must come down to a bound",
    );
  });

  it("adds a VM once a labelled node's GPU has not shown by provisionTimeout, and warns", async () => {
    // talos-gpu-2 has been Ready for weeks without advertising the GPU its label says it has:
    // its device plugin or driver failed. It is no model for a new VM either.
    const nodes = [...cluster(), ...gpuNode("talos-gpu-1"), ...rebootedGpuNode("talos-gpu-2")];
    const other = { "Pulumi.homelab.yaml": STACK.replace("gpuCount: 1", "gpuCount: 2") };
    const output = await plan([...nodes, gpuPod("plex-7d9c65958-x2k4q", "1")], {
      config: TWO_POOLS,
      other,
    });
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["gpu", 2, 3],
    ]);
    const reasons = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(reasons).toContain(
      "GPU not advertised: talos-gpu-2 is labelled nvidia.com/gpu.present=true but advertises no nvidia.com/gpu, 15m or more after it became Ready at 2026-11-01 10:04:26 UTC (provisionTimeout): its device plugin or driver may have failed; it is not counted on: pending pods that need it look for it on other nodes or a new one",
    );
    expect(reasons).toContain(
      "pending: ai/plex-7d9c65958-x2k4q (cpu 2, memory 8 GiB, nvidia.com/gpu 1) → new-1",
    );
    expect(reasons).toContain(
      "1 nvidia.com/gpu (learned, most-common allocatable, like talos-gpu-1)",
    );

    // With no pod waiting, a person is still told: a warning.
    const quiet = await plan(nodes, { config: TWO_POOLS, other });
    const note = quiet.notes.find((entry) => entry.subject === "pool/gpu");
    expect(note?.level).toBe("warning");
    expect(note?.message).toContain("GPU not advertised: talos-gpu-2 is labelled");

    // The pool's only GPU VM never showed its GPU: nothing tells how many a new VM has, so the
    // pod adds no VM on a guess, and is told why.
    const alone = await plan(
      [...cluster(), ...rebootedGpuNode("talos-gpu-1"), gpuPod("plex-7d9c65958-x2k4q", "1")],
      { config: TWO_POOLS, other: { "Pulumi.homelab.yaml": STACK } },
    );
    expect(alone.proposals).toEqual([]);
    const aloneNote = alone.notes.find((entry) => entry.subject === "pool/gpu");
    expect(aloneNote?.level).toBe("warning");
    expect(aloneNote?.message).toContain(
      "fit unknown: ai/plex-7d9c65958-x2k4q (cpu 2, memory 8 GiB, nvidia.com/gpu 1): it asks for nvidia.com/gpu, which the pool's nodes are labelled as having but none advertises yet (GPU lines above), so how much of it a new node has is not known (set newNode.extendedResources when every new node has the same)",
    );
    const shape = (aloneNote?.decision as { nodes?: { shape?: Raw } } | undefined)?.nodes?.shape;
    expect(shape).toMatchObject({
      unknownExtended: ["nvidia.com/gpu"],
      unadvertisedExtended: ["nvidia.com/gpu"],
    });
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
