import { notYetTried } from "./cluster-index.ts";
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
 * Why a volume keeps a pending pod waiting: `scheduler`, the scheduler's words, for a pod it
 * marked Unschedulable; absent for a pod it has not tried yet, judged from its claims alone.
 */
export interface VolumeWait {
  scheduler?: string;
}

/**
 * Whether a volume keeps `pod` pending, and the scheduler's words when it said so; undefined
 * when no volume does. A pod the scheduler marked Unschedulable waits on its volumes when its
 * message names such a cause (only the part before "preemption:" counts: the rest is about
 * evicting others). One it has not tried yet (`notYetTried`) has no message: it waits on them
 * when one of its claims waits on what no node's labels decide (`waiting`: a claim not bound
 * that binds at once, one that does not exist, one bound to a volume that does not; not a
 * generic ephemeral volume's its controller has not made yet), the causes
 * the scheduler names for such claims and for which `volumesWantANode` finds no node to add.
 */
export function volumeWait(pod: PodInfo): VolumeWait | undefined {
  const [scheduler] = volumeWaits(pod);
  if (scheduler !== undefined) return { scheduler };
  return notYetTried(pod) && waitingClaim(pod) ? {} : undefined;
}

/** Every volume cause the scheduler's message names, in the order of VOLUME_REASONS. */
function volumeWaits(pod: PodInfo): string[] {
  const message = pod.unschedulable?.message;
  if (!message) return [];
  const [placement = ""] = message.split(/\s*preemption:/i);
  return VOLUME_REASONS.flatMap((pattern) => pattern.exec(placement)?.[0] ?? []);
}

/**
 * Whether one of the pod's claims waits on something a node does not change. A generic ephemeral
 * volume's claim not made yet does not: its controller makes it at once, and the scheduler, which
 * names no volume cause while it waits for it (`waiting for ephemeral volume controller to create
 * the persistentvolumeclaim`), judges the volume then.
 */
function waitingClaim(pod: PodInfo): boolean {
  return pod.volumeClaims?.some((claim) => claim.state === "waiting" && !claim.unmade) ?? false;
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
    pod.volumeClaims !== undefined &&
    !waitingClaim(pod)
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
