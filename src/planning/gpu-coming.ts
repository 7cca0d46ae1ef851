import type { PoolConfig } from "../policy/repo-config.ts";
import type { NodeInfo } from "./snapshot.ts";

/**
 * Labels that say a node has a GPU, with the extended resource its device plugin advertises it
 * as: `nvidia.com/gpu.present=true`, which NVIDIA's GPU feature discovery sets, and
 * `feature.node.kubernetes.io/pci-10de.present=true`, which node feature discovery sets on a node
 * with a PCI device of NVIDIA's vendor ID (10de) when it labels devices by vendor alone, as the
 * NVIDIA GPU Operator configures it.
 */
const GPU_LABELS: readonly { key: string; value: string; resource: string }[] = [
  { key: "nvidia.com/gpu.present", value: "true", resource: "nvidia.com/gpu" },
  { key: "feature.node.kubernetes.io/pci-10de.present", value: "true", resource: "nvidia.com/gpu" },
];

/** The GPUs GPU feature discovery counts on a node, by the resource they are advertised as. */
const COUNT_LABELS: Readonly<Record<string, string>> = { "nvidia.com/gpu": "nvidia.com/gpu.count" };

/**
 * A Ready pool node whose labels say it has a GPU that its allocatable does not advertise (none,
 * or 0): after a reboot, or on a new node, the device plugin registers it a minute or two after
 * the node is Ready. Within `provisionTimeout` of its Ready time the GPU is counted on (`amount`
 * of it): a pending pod that needs it waits for it rather than adding a node. Past that, or when
 * its Ready time is not known, it is not (`late`).
 */
export interface GpuComing {
  node: string;
  /** The extended resource its label says it has (`nvidia.com/gpu`). */
  resource: string;
  /** The label that says so, as `key=value`. */
  label: string;
  /** When the node became Ready (its Ready condition's lastTransitionTime); absent when unknown. */
  since?: string;
  /** `since` + `provisionTimeout`: until when the GPU is waited for. */
  until?: string;
  /** How much of it the node is counted on to advertise (absent when `late`). */
  amount?: number;
  /** The wait is over (or its start unknown): the GPU is not counted on, pods may add a node. */
  late?: true;
}

/**
 * The extended resources a node's labels say it has and its allocatable does not advertise,
 * each with the label that says so.
 */
export function missingGpus(node: NodeInfo): { resource: string; label: string }[] {
  const missing = new Map<string, string>();
  for (const { key, value, resource } of GPU_LABELS) {
    if (node.labels[key] !== value || missing.has(resource)) continue;
    if ((node.allocatable.extended?.[resource] ?? 0) > 0) continue;
    missing.set(resource, `${key}=${value}`);
  }
  return [...missing].map(([resource, label]) => ({ resource, label }));
}

/**
 * The pool's Ready nodes whose GPU is not advertised yet (`GpuComing`), by node name. How much
 * of it a node is counted on for: its own GPU count label (`nvidia.com/gpu.count`), else
 * `newNode.extendedResources`, else the most a pool node advertises, else one (its label says
 * it has a GPU).
 */
export function gpusComing(members: readonly NodeInfo[], pool: PoolConfig, now: Date): GpuComing[] {
  const coming: GpuComing[] = [];
  for (const node of members) {
    if (!node.ready) continue;
    for (const { resource, label } of missingGpus(node)) {
      const entry: GpuComing = { node: node.name, resource, label };
      const since = node.readySince === undefined ? Number.NaN : Date.parse(node.readySince);
      if (!Number.isNaN(since)) {
        entry.since = new Date(since).toISOString();
        entry.until = new Date(since + pool.provisionTimeout).toISOString();
      }
      if (Number.isNaN(since) || now.getTime() >= since + pool.provisionTimeout) entry.late = true;
      else entry.amount = expectedAmount(node, resource, members, pool);
      coming.push(entry);
    }
  }
  return coming;
}

/**
 * The GPUs on their way to `node` (within their wait), and until when the first is waited for;
 * `undefined` when none is.
 */
export function awaitedGpus(
  coming: readonly GpuComing[] | undefined,
  node: string,
): { resources: string[]; until: string } | undefined {
  const awaited = (coming ?? []).filter((gpu) => gpu.node === node && !gpu.late && gpu.until);
  if (awaited.length === 0) return undefined;
  const until = awaited.map((gpu) => gpu.until as string).sort()[0] as string;
  return { resources: [...new Set(awaited.map((gpu) => gpu.resource))], until };
}

function expectedAmount(
  node: NodeInfo,
  resource: string,
  members: readonly NodeInfo[],
  pool: PoolConfig,
): number {
  const countLabel = COUNT_LABELS[resource];
  const counted = countLabel === undefined ? Number.NaN : Number(node.labels[countLabel]);
  if (Number.isInteger(counted) && counted > 0) return counted;
  const configured = pool.newNode.extendedResources[resource];
  if (configured !== undefined && configured > 0) return configured;
  const reported = members.map((member) => member.allocatable.extended?.[resource] ?? 0);
  return Math.max(1, ...reported);
}
