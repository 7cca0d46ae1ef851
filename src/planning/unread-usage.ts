import type { PoolConfig } from "../policy/repo-config.ts";
import { poolMembers } from "./pool-members.ts";
import type { PlanNote } from "./proposal.ts";
import type { Snapshot, SnapshotWarning } from "./snapshot.ts";

/**
 * Codes of the warnings that, on a `node/N` subject, say no more than that the node's usage is
 * unknown or no evidence over the window: a sample or series missing, stale, cut or unusable.
 */
const NODE_USAGE_CODES: ReadonlySet<string> = new Set([
  "prometheus-no-series",
  "prometheus-value-unusable",
  "prometheus-window-partial",
  "metrics-missing",
  "metrics-stale",
  "metrics-invalid",
]);

/**
 * A snapshot's warnings as a plan says them: a node's usage is read only for the pools' own
 * nodes (their utilisation, the checks of a window and a removal), and the room a pod finds on
 * any other node (a control plane, a node no pool selects) is judged by the pods' requests, not
 * by usage. A warning that the usage of such a node, or of a name no node has, is unknown
 * (`prometheus-no-series` for a control plane Prometheus does not scrape) concerns no decision:
 * it becomes an info note naming the node, and every other warning stays one.
 */
export function usageWarningsOutsidePools(
  snapshot: Pick<Snapshot, "nodes" | "warnings">,
  pools: readonly Pick<PoolConfig, "selector">[],
): { warnings: SnapshotWarning[]; notes: PlanNote[] } {
  const pooled = new Set(
    pools.flatMap((pool) => poolMembers(snapshot.nodes, pool.selector).map((node) => node.name)),
  );
  const warnings: SnapshotWarning[] = [];
  const notes: PlanNote[] = [];
  for (const warning of snapshot.warnings) {
    const node = usageWarningNode(warning);
    if (node === undefined || pooled.has(node)) {
      warnings.push(warning);
      continue;
    }
    notes.push({
      level: "info",
      subject: warning.subject as string,
      message: `${warning.message} [${warning.code}]; no pool has ${node}, so no decision reads its usage (the room pods find on it is judged by their requests)`,
    });
  }
  return { warnings, notes };
}

/** The node a warning about a node's usage alone is on, if it is one. */
function usageWarningNode(warning: SnapshotWarning): string | undefined {
  if (!NODE_USAGE_CODES.has(warning.code) || warning.omitted !== undefined) return undefined;
  const subject = warning.subject ?? "";
  return subject.startsWith("node/") ? subject.slice("node/".length) : undefined;
}
