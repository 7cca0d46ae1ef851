import type { PodInfo } from "./snapshot.ts";

/**
 * What kube-scheduler's volume plugins write when a pod's volumes, not the nodes' room, keep
 * it pending (volumebinding, volumezone, volumerestrictions). A new node of the pool carries
 * no volumes and the zone labels the pool's nodes share, so it changes none of these.
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
 * The scheduler's words when a volume keeps `pod` pending, or undefined when its message names
 * no such cause. Only the part before "preemption:" counts: the rest is about evicting others.
 */
export function volumeWait(pod: PodInfo): string | undefined {
  const message = pod.unschedulable?.message;
  if (!message) return undefined;
  const [placement = ""] = message.split(/\s*preemption:/i);
  for (const pattern of VOLUME_REASONS) {
    const match = pattern.exec(placement);
    if (match) return match[0];
  }
  return undefined;
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
