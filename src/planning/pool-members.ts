import type { NodeSelectorConfig } from "../policy/repo-config.ts";
import { matchesLabelSelector } from "./scheduling.ts";
import type { NodeInfo } from "./snapshot.ts";

/**
 * The nodes of a pool: those its selector matches (every node without one), never a control
 * plane node.
 */
export function poolMembers(
  nodes: readonly NodeInfo[],
  selector: NodeSelectorConfig | undefined,
): NodeInfo[] {
  return nodes.filter(
    (node) => !node.controlPlane && (!selector || matchesLabelSelector(selector, node.labels)),
  );
}

/**
 * Whether the node is cordoned: `spec.unschedulable`, or the `node.kubernetes.io/unschedulable`
 * taint the node lifecycle controller gives such a node. The scheduler puts no new pod there
 * (but those that tolerate the taint).
 */
export function isCordoned(node: NodeInfo): boolean {
  return (
    node.unschedulable ||
    node.taints.some(
      (taint) => taint.key === "node.kubernetes.io/unschedulable" && taint.effect === "NoSchedule",
    )
  );
}

/**
 * The nodes the pool's utilisation is measured over: Ready and not cordoned, the nodes new pods
 * and the pods of a node that goes can be placed on (cluster-autoscaler's "ready nodes" leave a
 * cordoned node out too). A cordoned node's allocatable is no room for them, so counting it
 * would show the pool emptier than the nodes its pods meet.
 */
export function measuredNodes(members: readonly NodeInfo[]): NodeInfo[] {
  return members.filter(readyAndSchedulable);
}

/** Ready and not cordoned: one of the nodes `measuredNodes` keeps. */
export function readyAndSchedulable(node: NodeInfo): boolean {
  return node.ready && !isCordoned(node);
}
