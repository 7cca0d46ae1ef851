import type { NodeProposal } from "../planning/proposal.ts";
import type { PolicyKind, PolicyResource } from "../policy/automerge-policy.ts";

/** One changed resource value of a resources proposal (a container's cpu or memory request). */
export interface SubjectResourceChange {
  resource: PolicyResource;
  direction: "up" | "down";
  /**
   * Signed relative change as a fraction (+0.25: a quarter more); undefined when there was no
   * value before, so no percentage limit can be shown to hold.
   */
  relativeChange: number | undefined;
  /** For messages, e.g. `plex/app`. */
  container?: string;
}

/**
 * The facts about a proposed change that auto-merge rules match on. Built from a proposal by the
 * code that made it; the policy never sees the proposal itself.
 */
export interface PolicySubject {
  kind: PolicyKind;
  /** Nodes: up or down. Resources: up or down when every value moves that way, else mixed. */
  direction: "up" | "down" | "mixed";
  /** Nodes: how many nodes are added or removed. */
  step?: number;
  /** Nodes: the count on the default branch and the one proposed (for messages). */
  from?: number;
  to?: number;
  /** Resources: the largest relative change of any value (fraction, unsigned); undefined if any is unknown. */
  relativeChange?: number;
  /** Resources: each changed value. Empty for nodes. */
  resources: SubjectResourceChange[];
  /** Nodes: the pool. */
  pool?: string;
  /** Resources: the workload's namespace and name. */
  namespace?: string;
  workload?: string;
  /** Labels of the pool or workload (`labels:` in a rule's match). */
  labels: Record<string, string>;
}

/** The policy facts of a node-count proposal. */
export function subjectFromNodeProposal(
  proposal: NodeProposal,
  labels: Record<string, string> = {},
): PolicySubject {
  return {
    kind: "nodes",
    direction: proposal.direction,
    step: Math.abs(proposal.to - proposal.from),
    from: proposal.from,
    to: proposal.to,
    resources: [],
    pool: proposal.pool,
    labels,
  };
}

/**
 * The policy facts of a resources proposal from its changed values (the mapping from the
 * proposal's own type is the caller's): direction and largest change are derived here.
 */
export function subjectFromResourceChanges(fields: {
  namespace: string;
  workload: string;
  changes: SubjectResourceChange[];
  labels?: Record<string, string>;
}): PolicySubject {
  const directions = new Set(fields.changes.map((change) => change.direction));
  const direction = directions.size === 1 ? (fields.changes[0]?.direction ?? "mixed") : "mixed";
  const known = fields.changes.map((change) => change.relativeChange);
  const relativeChange = known.every((value) => value !== undefined)
    ? Math.max(0, ...known.map((value) => Math.abs(value)))
    : undefined;
  return {
    kind: "resources",
    direction,
    ...(relativeChange === undefined ? {} : { relativeChange }),
    resources: fields.changes,
    namespace: fields.namespace,
    workload: fields.workload,
    labels: fields.labels ?? {},
  };
}

/** The relative change from `before` to `after` (undefined when there was no usable value before). */
export function relativeChange(before: number | undefined, after: number): number | undefined {
  if (before === undefined || before <= 0) return undefined;
  return (after - before) / before;
}
