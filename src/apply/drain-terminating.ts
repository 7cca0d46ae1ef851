import { time } from "../cluster/raw.ts";
import type { DrainPod } from "./drain-pod.ts";
import { formatDuration } from "./drain-progress.ts";
import type { NodeReadiness } from "./drain-readiness.ts";

/**
 * The grace period of a pod whose deletion and spec name none: Kubernetes' default
 * `terminationGracePeriodSeconds`.
 */
export const defaultGraceSeconds = 30;

/**
 * Why the drain stopped waiting for a pod that is being deleted:
 * - node-not-ready: the node is not Ready and the pod's grace period has passed; no kubelet
 *   will confirm the deletion (a dead VM's pods stay Terminating for ever);
 * - skip-wait-for-delete-timeout: the pod has been deleted for longer than
 *   `--skip-wait-for-delete-timeout`, as kubectl drain's flag of that name.
 */
export type NotWaitedRule = "node-not-ready" | "skip-wait-for-delete-timeout";

/** A pod being deleted that the drain does not wait for, and why. */
export interface NotWaitedFor {
  pod: string;
  rule: NotWaitedRule;
  deletionTimestamp: string;
  /** The grace period counted after `deletionTimestamp` (node-not-ready). */
  graceSeconds?: number;
  message: string;
}

/**
 * When the grace period of a pod being deleted ends (epoch ms): after that, on a node that is
 * not Ready, the drain does not wait for it. Undefined when it is not being deleted or the
 * time cannot be read.
 */
export function graceEnds(pod: DrainPod): number | undefined {
  const stamp = time(pod.deletionTimestamp);
  return stamp === undefined ? undefined : Date.parse(stamp) + graceSeconds(pod) * 1000;
}

function graceSeconds(pod: DrainPod): number {
  return pod.deletionGracePeriodSeconds ?? pod.terminationGracePeriodSeconds ?? defaultGraceSeconds;
}

/** The node a pod is on, as far as waiting for its pods goes. */
export interface PodNode extends NodeReadiness {
  name: string;
}

/**
 * Decides whether a pod that is being deleted may be left behind: on a node that is not Ready,
 * once `deletionTimestamp` plus its grace period (`deletionGracePeriodSeconds`, else
 * `spec.terminationGracePeriodSeconds`, else {@link defaultGraceSeconds}) has passed; on any
 * node, once `deletionTimestamp` is more than `skipWaitSeconds` old (0: never). A pod that is
 * not being deleted, or whose deletion time cannot be read, is waited for.
 */
export function notWaitedFor(
  pod: DrainPod,
  key: string,
  node: PodNode,
  now: number,
  skipWaitSeconds: number,
): NotWaitedFor | undefined {
  const ends = graceEnds(pod);
  if (pod.deletionTimestamp === undefined || ends === undefined) return undefined;
  const deleted = Date.parse(pod.deletionTimestamp);
  const grace = graceSeconds(pod);
  const base = { pod: key, deletionTimestamp: pod.deletionTimestamp };
  if (!node.ready && now >= ends) {
    return {
      ...base,
      rule: "node-not-ready",
      graceSeconds: grace,
      message: `deletionTimestamp ${pod.deletionTimestamp} plus its ${grace}s grace period has passed and ${node.name} is not Ready (${node.notReadyReason ?? "Ready condition not True"}): no kubelet will confirm its deletion`,
    };
  }
  if (skipWaitSeconds > 0 && now - deleted > skipWaitSeconds * 1000) {
    return {
      ...base,
      rule: "skip-wait-for-delete-timeout",
      message: `deletionTimestamp ${pod.deletionTimestamp} is more than ${formatDuration(skipWaitSeconds * 1000)} old (--skip-wait-for-delete-timeout ${skipWaitSeconds})`,
    };
  }
  return undefined;
}

/**
 * Why a pod being deleted is still on the node when the drain stops, for people: whether this
 * drain evicted it, the finalizers that hold it, and what would let the drain stop waiting for
 * it. `evicted`: this drain's eviction started its deletion.
 */
export function terminatingReason(
  pod: DrainPod,
  evicted: boolean,
  node: PodNode,
  skipWaitSeconds: number,
): string {
  const parts = [
    evicted
      ? "evicted, still terminating"
      : `being deleted${pod.deletionTimestamp ? ` (deletionTimestamp ${pod.deletionTimestamp})` : ""}, not evicted by this drain, still terminating`,
  ];
  if (pod.finalizers.length > 0) {
    parts.push(
      `finalizers ${pod.finalizers.join(", ")} keep it until whatever set them removes them`,
    );
  }
  const hint = waitHint(pod, node, skipWaitSeconds);
  if (hint !== undefined) parts.push(hint);
  return parts.join("; ");
}

/** The rule that would end the wait for this pod, when its deletion time is known. */
function waitHint(pod: DrainPod, node: PodNode, skipWaitSeconds: number): string | undefined {
  if (graceEnds(pod) === undefined) return undefined;
  if (!node.ready) {
    return `${node.name} is not Ready: not waited for once deletionTimestamp plus its ${graceSeconds(pod)}s grace period has passed`;
  }
  if (skipWaitSeconds > 0) {
    return `not waited for once deletionTimestamp is more than ${formatDuration(skipWaitSeconds * 1000)} old (--skip-wait-for-delete-timeout ${skipWaitSeconds})`;
  }
  return "--skip-wait-for-delete-timeout SECS stops waiting for pods whose deletionTimestamp is more than SECS seconds old";
}
