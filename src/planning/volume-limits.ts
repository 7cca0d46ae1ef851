import type { ClusterIndex } from "./cluster-index.ts";
import type { CsiVolumeLimits, NodeInfo, PodInfo } from "./snapshot.ts";
import { binKey, type PeerBin } from "./topology-domain.ts";

/**
 * How many CSI volumes the nodes can attach, as kube-scheduler's NodeVolumeLimits plugin judges
 * a pod: per node and driver, the unique volumes its pods use (a volume two pods share counts
 * once) and the CSINode's `allocatable.count` for that driver. A node without one for a driver
 * (no CSINode, no count) takes any number of its volumes.
 */
export interface VolumeLimitPlacement {
  index: ClusterIndex;
  /** The CSINodes' counts; `"unknown"` when they could not be read. */
  limits: CsiVolumeLimits | "unknown";
  /** Pods that move: their volumes leave their node with them. */
  leaving: ReadonlySet<PodInfo>;
  /** Per bin (by `binKey`), each driver's volumes in use there, counted from its pods on first use. */
  attached: Map<string, Map<string, Set<string>>>;
  /**
   * The count per driver of a node to add (`newNodeVolumeLimits`); without it, or for a driver
   * it does not name, a new node takes any number of volumes.
   */
  newNode?: Record<string, number>;
}

/** Why the volume limits keep a pod off a node. */
export type VolumeLimitConflict = "volume-limit" | "volume-limits-unknown";

/**
 * The CSI volumes a pod uses, by driver: each bound claim's volume, and for a claim whose volume
 * is still to be made, the claim (`namespace/name`, as the scheduler tells it until it is bound).
 */
export function csiVolumes(pod: PodInfo): { driver: string; volume: string }[] {
  return (pod.volumeClaims ?? []).flatMap(({ csi, state }) => {
    if (!csi) return [];
    return state === "provisioned"
      ? [{ driver: csi.driver, volume: `${pod.namespace}/${csi.volume}` }]
      : [csi];
  });
}

/**
 * The volume-limit view for placing `moving` pods, when one of them uses a CSI volume (the counts
 * of the others cannot keep a pod without one off a node); `undefined` otherwise, or for a
 * snapshot that does not say (saved before CSINodes were read, its claims carry no driver).
 */
export function volumeLimitPlacement(
  index: ClusterIndex,
  limits: CsiVolumeLimits | "unknown" | undefined,
  moving: readonly PodInfo[],
  newNode?: Record<string, number>,
): VolumeLimitPlacement | undefined {
  if (limits === undefined || !moving.some((pod) => csiVolumes(pod).length > 0)) return undefined;
  const placement: VolumeLimitPlacement = {
    index,
    limits,
    leaving: new Set(moving),
    attached: new Map(),
  };
  if (newNode && limits !== "unknown" && Object.keys(newNode).length > 0)
    placement.newNode = newNode;
  return placement;
}

/**
 * How many volumes of each driver a node to add can attach, as far as `models` (the pool's nodes
 * a new node's allocatable is learned from) tell: for each driver one of their CSINodes counts,
 * the least count among them, as a new VM may be like the node that attaches fewest. A driver
 * none of them counts (no CSINode data for the pool) sets no count, as kube-scheduler sets
 * none; unread CSINodes tell none either (the scheduler's message tells then).
 */
export function newNodeVolumeLimits(
  models: readonly NodeInfo[],
  limits: CsiVolumeLimits | "unknown" | undefined,
): Record<string, number> | undefined {
  if (limits === undefined || limits === "unknown") return undefined;
  const least: Record<string, number> = {};
  for (const node of models)
    for (const [driver, count] of Object.entries(limits[node.name] ?? {}))
      if (least[driver] === undefined || count < least[driver]) least[driver] = count;
  return Object.keys(least).length > 0 ? least : undefined;
}

/**
 * Whether the limits keep `pod` off `bin`: for a driver the node has a count for, the volumes it
 * already uses and those of the pod it does not use yet come to more than the count
 * (`volume-limit`), or the counts could not be read (`volume-limits-unknown`). A node still to
 * be added is judged on the count learned for it (`newNode`), with the volumes of the pods placed
 * on it so far; without one, it is not judged.
 */
export function volumeLimitConflict(
  placement: VolumeLimitPlacement,
  pod: PodInfo,
  bin: PeerBin,
): VolumeLimitConflict | undefined {
  const volumes = csiVolumes(pod);
  if (volumes.length === 0) return undefined;
  if (bin.traits.name === undefined)
    return placement.newNode && overDrivers(placement, volumes, bin).length > 0
      ? "volume-limit"
      : undefined;
  if (placement.limits === "unknown") return "volume-limits-unknown";
  return overDrivers(placement, volumes, bin).length > 0 ? "volume-limit" : undefined;
}

/** Whether the limits of nodes are unknown to a pod that uses CSI volumes: its fit is. */
export function volumeLimitsUnknown(placement: VolumeLimitPlacement, pod: PodInfo): boolean {
  return placement.limits === "unknown" && csiVolumes(pod).length > 0;
}

/**
 * The drivers whose count `pod`'s volumes would take `bin` above, each with the node's count, in
 * the order the pod names them.
 */
export function volumeLimitsExceeded(
  placement: VolumeLimitPlacement,
  pod: PodInfo,
  bin: PeerBin,
): { driver: string; limit: number }[] {
  if (placement.limits === "unknown") return [];
  return overDrivers(placement, csiVolumes(pod), bin);
}

/**
 * The drivers of which `pod` alone uses more volumes than a node to add can attach, each with
 * that node's count and how many the pod uses: it fits no new node.
 */
export function newNodeVolumesExceeded(
  placement: VolumeLimitPlacement,
  pod: PodInfo,
): { driver: string; limit: number; volumes: number }[] {
  const limits = placement.newNode ?? {};
  const wanted = new Map<string, Set<string>>();
  for (const { driver, volume } of csiVolumes(pod))
    if (limits[driver] !== undefined) inUse(wanted, driver).add(volume);
  return [...wanted].flatMap(([driver, volumes]) => {
    const limit = limits[driver] as number;
    return volumes.size > limit ? [{ driver, limit, volumes: volumes.size }] : [];
  });
}

/** Records the CSI volumes of `pod` as in use on `bin`. */
export function placeVolumes(placement: VolumeLimitPlacement, pod: PodInfo, bin: PeerBin): void {
  const volumes = csiVolumes(pod);
  if (volumes.length === 0) return;
  const attached = attachedOn(placement, bin);
  for (const { driver, volume } of volumes) inUse(attached, driver).add(volume);
}

function overDrivers(
  placement: VolumeLimitPlacement,
  volumes: readonly { driver: string; volume: string }[],
  bin: PeerBin,
): { driver: string; limit: number }[] {
  const limits =
    bin.traits.name === undefined
      ? placement.newNode
      : placement.limits === "unknown"
        ? undefined
        : placement.limits[bin.name];
  if (!limits) return [];
  const added = new Map<string, Set<string>>();
  for (const { driver, volume } of volumes)
    if (limits[driver] !== undefined) inUse(added, driver).add(volume);
  if (added.size === 0) return [];
  const attached = attachedOn(placement, bin);
  const over: { driver: string; limit: number }[] = [];
  for (const [driver, wanted] of added) {
    const limit = limits[driver] as number;
    const used = attached.get(driver);
    let count = used?.size ?? 0;
    for (const volume of wanted) if (!used?.has(volume)) count += 1;
    if (count > limit) over.push({ driver, limit });
  }
  return over;
}

/**
 * The volumes in use on `bin`, by driver: those of the pods bound or nominated to it that do not
 * move, a pod being deleted included (its volume stays attached until it is gone). A node to add
 * starts with none.
 */
function attachedOn(placement: VolumeLimitPlacement, bin: PeerBin): Map<string, Set<string>> {
  const key = binKey(bin);
  let attached = placement.attached.get(key);
  if (!attached) {
    attached = new Map();
    const pods = bin.traits.name === undefined ? [] : placement.index.podsByNode.get(bin.name);
    for (const pod of pods ?? [])
      if (!placement.leaving.has(pod))
        for (const { driver, volume } of csiVolumes(pod)) inUse(attached, driver).add(volume);
    placement.attached.set(key, attached);
  }
  return attached;
}

function inUse(byDriver: Map<string, Set<string>>, driver: string): Set<string> {
  let volumes = byDriver.get(driver);
  if (!volumes) {
    volumes = new Set();
    byDriver.set(driver, volumes);
  }
  return volumes;
}
