import type { PodInfo } from "./snapshot.ts";

/**
 * What kube-scheduler's volume plugins write when a pod's volumes, not the nodes' room, keep
 * it pending (volumebinding, volumezone, volumerestrictions). A new node of the pool carries
 * no volumes, so it changes none of these, except where a node within the volumes' reach is what
 * is missing (NODE_DECIDES).
 */
const VOLUME_REASONS: readonly RegExp[] = [
  /pod has unbound immediate PersistentVolumeClaims/i,
  /persistentvolumeclaim "[^"]*" (?:not found|is being deleted)/i,
  /node\(s\) had volume node affinity conflict/i,
  /node\(s\) didn't find available persistent volumes to bind/i,
  /node\(s\) unavailable due to one or more pvc\(s\) bound to non-existent pv\(s\)/i,
  /node\(s\) had no available volume zone/i,
  /PersistentVolumeClaim with the same name and ReadWriteOncePod access mode/i,
];

/**
 * Of those, the causes a node's labels decide: the volume a claim is bound to is out of the
 * node's reach (its required node affinity), or none can be found or made for it there (a
 * WaitForFirstConsumer claim whose StorageClass's allowed topologies leave the node out).
 */
const NODE_DECIDES: readonly RegExp[] = [
  /node\(s\) had volume node affinity conflict/i,
  /node\(s\) didn't find available persistent volumes to bind/i,
];

/**
 * The scheduler's words when a volume keeps `pod` pending, or undefined when its message names
 * no such cause. Only the part before "preemption:" counts: the rest is about evicting others.
 */
export function volumeWait(pod: PodInfo): string | undefined {
  return volumeWaits(pod)[0];
}

/** Every volume cause the scheduler's message names, in the order of VOLUME_REASONS. */
function volumeWaits(pod: PodInfo): string[] {
  const message = pod.unschedulable?.message;
  if (!message) return [];
  const [placement = ""] = message.split(/\s*preemption:/i);
  return VOLUME_REASONS.flatMap((pattern) => pattern.exec(placement)?.[0] ?? []);
}

/**
 * Whether the volumes that keep `pod` pending wait only for a node within their reach: every
 * volume cause the scheduler names is one a node's labels decide, and the snapshot tells, for
 * each of the pod's claims, which nodes would do (none waits on something else). Such a pod can
 * go to a node they admit, a new one included, and is placed like any pod with node affinity.
 */
export function volumesWantANode(pod: PodInfo): boolean {
  const causes = volumeWaits(pod);
  return (
    causes.length > 0 &&
    causes.every((cause) => NODE_DECIDES.some((pattern) => pattern.test(cause))) &&
    (pod.volumeClaims?.every((claim) => claim.state !== "waiting") ?? false)
  );
}

/**
 * True when the scheduler found the pod's node(s) at their limit of attached volumes (a CSI
 * driver's max volumes per node): room that frees on an existing node does not help it, while
 * a new node, with nothing attached, does.
 */
export function volumeLimitReached(pod: PodInfo): boolean {
  const message = pod.unschedulable?.message;
  if (!message) return false;
  const [placement = ""] = message.split(/\s*preemption:/i);
  return /node\(s\) exceed max volume count/i.test(placement);
}
