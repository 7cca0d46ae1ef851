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
