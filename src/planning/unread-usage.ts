import type { PoolConfig } from "../policy/repo-config.ts";
import type { RightsizingConfig } from "../policy/rightsizing-config.ts";
import { counted } from "../util/plural.ts";
import { poolMembers } from "./pool-members.ts";
import type { PlanNote } from "./proposal.ts";
import type { Snapshot, SnapshotWarning } from "./snapshot.ts";

/**
 * Codes of the warnings that say no more than that some usage is unknown or no evidence over the
 * window (a sample or series missing, stale, cut or unusable): a node's on a `node/N` subject, a
 * pod's or container's on a `pod/namespace/name` or `container/namespace/pod/name` one (or
 * `pods`, for the pods whose samples are stale together).
 */
const USAGE_CODES: ReadonlySet<string> = new Set([
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
 * it becomes an info note naming the node. A pod's or container's usage is read by right-sizing
 * alone (the node plan counts pods by their requests): while right-sizing is off (`rightsizing`
 * absent, or `enabled: false`), the warnings that it is unknown become one line, `podUsage`,
 * naming the first pods (a cluster whose metrics-server has not scraped the pods started since
 * has many, and they would crowd out the warnings that count). Every other warning stays one.
 */
export function usageWarningsOutsidePools(
  snapshot: Pick<Snapshot, "nodes" | "warnings">,
  pools: readonly Pick<PoolConfig, "selector">[],
  rightsizing: Pick<RightsizingConfig, "enabled"> | undefined,
): { warnings: SnapshotWarning[]; notes: PlanNote[]; podUsage?: string } {
  const pooled = new Set(
    pools.flatMap((pool) => poolMembers(snapshot.nodes, pool.selector).map((node) => node.name)),
  );
  const warnings: SnapshotWarning[] = [];
  const notes: PlanNote[] = [];
  const off = rightsizingOff(rightsizing);
  const unread: SnapshotWarning[] = [];
  for (const warning of snapshot.warnings) {
    if (off && podUsageWarning(warning)) {
      unread.push(warning);
      continue;
    }
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
  const podUsage = off && unread.length > 0 ? unreadPodUsage(unread, off) : undefined;
  return podUsage ? { warnings, notes, podUsage } : { warnings, notes };
}

/** Pods named in the line that says their usage is unknown; the rest are counted. */
const NAMED_PODS = 3;

/**
 * `usage unknown for 4 pods (kube-system/cilium-xxxx0, …, and 1 more) [metrics-missing];
 * right-sizing is off (…), so no decision reads a pod's usage (…)`; a warning about pods it
 * does not name (their samples stale together) is said as it is.
 */
function unreadPodUsage(unread: readonly SnapshotWarning[], off: string): string {
  const pods = new Set<string>();
  const codes = new Set<string>();
  const unnamed: string[] = [];
  for (const warning of unread) {
    const [scope, namespace, name] = (warning.subject ?? "").split("/");
    if (scope === "pods") {
      // A summary names its code: `12 more warnings with code metrics-missing about pods …`.
      unnamed.push(
        warning.omitted === undefined ? `${warning.message} [${warning.code}]` : warning.message,
      );
      continue;
    }
    pods.add(`${namespace}/${name}`);
    codes.add(warning.code);
  }
  const names = [...pods];
  const shown = names.slice(0, NAMED_PODS);
  const more = names.length - shown.length;
  const parts = [
    ...(names.length > 0
      ? [
          `usage unknown for ${counted(names.length, "pod")} (${shown.join(", ")}${more > 0 ? `, and ${more} more` : ""}) [${[...codes].join(", ")}]`,
        ]
      : []),
    ...unnamed,
  ];
  return `${parts.join("; ")}; right-sizing is off (${off}), so no decision reads a pod's usage (the node plan counts pods by their requests)`;
}

/** Why right-sizing plans nothing, as a note says it; `undefined` while it is on. */
function rightsizingOff(
  rightsizing: Pick<RightsizingConfig, "enabled"> | undefined,
): string | undefined {
  if (rightsizing === undefined) return "the config has no rightsizing section";
  return rightsizing.enabled ? undefined : "rightsizing.enabled is false";
}

/**
 * Whether a warning says no more than that the usage of a pod, or pods, is unknown: the
 * summary of those left out about pods or containers (subject `pods`) too.
 */
function podUsageWarning(warning: SnapshotWarning): boolean {
  if (!USAGE_CODES.has(warning.code)) return false;
  const subject = warning.subject ?? "";
  if (warning.omitted !== undefined) return subject === "pods";
  return subject === "pods" || subject.startsWith("pod/") || subject.startsWith("container/");
}

/** The node a warning about a node's usage alone is on, if it is one. */
function usageWarningNode(warning: SnapshotWarning): string | undefined {
  if (!USAGE_CODES.has(warning.code) || warning.omitted !== undefined) return undefined;
  const subject = warning.subject ?? "";
  return subject.startsWith("node/") ? subject.slice("node/".length) : undefined;
}
