import type { NodeDecision } from "./node-decision.ts";

/**
 * The nodes of a held decrease that the count a window about to open holds would keep: the last
 * ones, past the count above the window's min, but not the nodes long not Ready it lets go
 * (`unready`). None when no such window holds the decision.
 */
export function windowKept(nodes: readonly string[], decision: NodeDecision): string[] {
  const hold = decision.holds.find((entry) => entry.kind === "schedule-soon");
  if (hold?.kind !== "schedule-soon" || decision.current === undefined) return [];
  return nodes
    .slice(Math.max(0, decision.current - hold.min))
    .filter((node) => !hold.unready?.includes(node));
}
