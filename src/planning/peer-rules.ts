import type { ClusterIndex } from "./cluster-index.ts";
import { type PortPlacement, placePorts, portConflict, portPlacement } from "./host-ports.ts";
import {
  type AffinityConflict,
  type AffinityPlacement,
  affinityConflict,
  affinityPlacement,
  placeInDomains,
} from "./pod-affinity.ts";
import type { CsiVolumeLimits, PodInfo } from "./snapshot.ts";
import type { RuleBin } from "./topology-domain.ts";
import {
  placeSpread,
  type SpreadPlacement,
  spreadConflict,
  spreadPlacement,
} from "./topology-spread.ts";
import {
  placeVolumes,
  type VolumeLimitConflict,
  type VolumeLimitPlacement,
  volumeLimitConflict,
  volumeLimitPlacement,
} from "./volume-limits.ts";

/** Why a rule that depends on the other pods keeps a pod off a node. */
export type PeerConflict =
  | AffinityConflict
  | "topology-spread"
  | "host-ports"
  | VolumeLimitConflict;

/**
 * The scheduling rules whose answer depends on the pods already on a node or in its topology
 * domain: required pod affinity and anti-affinity, `DoNotSchedule` topology spread, host ports,
 * and (when asked for) the CSI volumes a node can attach. Each part is present only when some pod
 * involved uses it.
 */
export interface PeerRules {
  affinity?: AffinityPlacement;
  spread?: SpreadPlacement;
  ports?: PortPlacement;
  volumes?: VolumeLimitPlacement;
}

/**
 * The rules for placing `moving` pods (pending pods, or the pods of nodes to remove) with the pods
 * of the nodes in `except` gone; `undefined` when none applies, so placement needs no check.
 * `volumeLimits`, when given, adds the nodes' CSI volume limits (a snapshot's `csiVolumeLimits`),
 * and `newNodeVolumeLimits` those of a node to add.
 */
export function peerRules(
  index: ClusterIndex,
  moving: readonly PodInfo[],
  except: readonly string[] = [],
  volumeLimits?: CsiVolumeLimits | "unknown",
  newNodeVolumeLimits?: Record<string, number>,
): PeerRules | undefined {
  const rules: PeerRules = {};
  const affinity = affinityPlacement(index, moving, except);
  if (affinity) rules.affinity = affinity;
  if (moving.some((pod) => pod.topologySpread))
    rules.spread = spreadPlacement(index, moving, except);
  if (moving.some((pod) => pod.hostPorts)) rules.ports = portPlacement(index, moving);
  const volumes = volumeLimitPlacement(index, volumeLimits, moving, newNodeVolumeLimits);
  if (volumes) rules.volumes = volumes;
  return rules.affinity || rules.spread || rules.ports || rules.volumes ? rules : undefined;
}

/** The first of these rules that keeps `pod` off `bin`, or `undefined`. */
export function peerConflict(
  rules: PeerRules,
  pod: PodInfo,
  bin: RuleBin,
): PeerConflict | undefined {
  const affinity = rules.affinity && affinityConflict(rules.affinity, pod, bin);
  if (affinity) return affinity;
  if (rules.ports && portConflict(rules.ports, pod, bin)) return "host-ports";
  if (rules.spread && spreadConflict(rules.spread, pod, bin)) return "topology-spread";
  return rules.volumes && volumeLimitConflict(rules.volumes, pod, bin);
}

/**
 * The rule `peerConflict` finds, named as kube-scheduler names it for `bin`: its default filters
 * run NodePorts, NodeVolumeLimits, PodTopologySpread, then InterPodAffinity, and stop at the
 * first that fails, so `kubectl describe pod` counts a node where a host port is in use under
 * "didn't have free ports" whatever anti-affinity says. Limits that were not read are named only
 * when no rule keeps the pod off for sure. It finds a rule exactly when `peerConflict` does.
 */
export function namedPeerConflict(
  rules: PeerRules,
  pod: PodInfo,
  bin: RuleBin,
): PeerConflict | undefined {
  if (rules.ports && portConflict(rules.ports, pod, bin)) return "host-ports";
  const volumes = rules.volumes && volumeLimitConflict(rules.volumes, pod, bin);
  if (volumes === "volume-limit") return volumes;
  if (rules.spread && spreadConflict(rules.spread, pod, bin)) return "topology-spread";
  return (rules.affinity && affinityConflict(rules.affinity, pod, bin)) || volumes || undefined;
}

/** Records `pod` as placed on `bin`, so the next placements see it. */
export function placePeer(rules: PeerRules, pod: PodInfo, bin: RuleBin): void {
  if (rules.affinity) placeInDomains(rules.affinity, pod, bin);
  if (rules.spread) placeSpread(rules.spread, pod, bin);
  if (rules.ports) placePorts(rules.ports, pod, bin);
  if (rules.volumes) placeVolumes(rules.volumes, pod, bin);
}
