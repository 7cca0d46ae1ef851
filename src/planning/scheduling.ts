import type {
  LabelSelector,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  PodInfo,
  Taint,
  Toleration,
  VolumeClaimPlacement,
} from "./snapshot.ts";

/** What the scheduling predicates look at on a node; a new node has no name yet. */
export interface NodeTraits {
  name?: string;
  labels: Record<string, string>;
  taints: readonly Taint[];
}

/** Why a pod cannot go to a node, leaving resources aside. */
export type PlacementConflict =
  | "node-selector"
  | "node-affinity"
  | "volume-node-affinity"
  | "taints";

/**
 * The first rule that keeps `pod` off `node` (nodeSelector, required node affinity, the node
 * affinity of the volumes its claims are bound to or would be made with, taints with
 * NoSchedule/NoExecute), or `undefined` when the pod may go there. Required pod affinity
 * and anti-affinity, topology spread and host ports depend on the other pods placed and are
 * checked by peer-rules.ts.
 */
export function placementConflict(
  pod: Pick<PodInfo, "nodeSelector" | "requiredNodeAffinity" | "tolerations" | "volumeClaims">,
  node: NodeTraits,
): PlacementConflict | undefined {
  if (!matchesNodeSelector(pod.nodeSelector, node.labels)) return "node-selector";
  if (!matchesRequiredAffinity(pod.requiredNodeAffinity, node)) return "node-affinity";
  if (unreachableClaim(pod.volumeClaims, node)) return "volume-node-affinity";
  if (!toleratesTaints(pod.tolerations, node.taints)) return "taints";
  return undefined;
}

/**
 * The first claim whose volume `node` cannot reach: the required node affinity of the volume it
 * is bound to, or the allowed topologies of the StorageClass that would make it, leave the node
 * out. Claims that wait on something else are not judged here (volume-wait.ts).
 */
export function unreachableClaim(
  claims: readonly VolumeClaimPlacement[] | undefined,
  node: NodeTraits,
): string | undefined {
  return claims?.find((claim) => !matchesRequiredAffinity(claim.nodeAffinity, node))?.claim;
}

export function matchesNodeSelector(
  selector: Record<string, string>,
  labels: Record<string, string>,
): boolean {
  for (const key in selector) if (labels[key] !== selector[key]) return false;
  return true;
}

/** Terms are ORed, expressions in a term ANDed; a term with no expressions matches nothing. */
export function matchesRequiredAffinity(
  terms: readonly NodeSelectorTerm[] | undefined,
  node: NodeTraits,
): boolean {
  if (!terms || terms.length === 0) return true;
  return terms.some((term) => termMatches(term, node));
}

function termMatches(term: NodeSelectorTerm, node: NodeTraits): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  return (
    expressions.every((requirement) =>
      requirementMatches(requirement, node.labels[requirement.key]),
    ) && fields.every((requirement) => fieldMatches(requirement, node))
  );
}

/** Only `metadata.name` is a node field selector; a node not yet created has no name. */
function fieldMatches(requirement: NodeSelectorRequirement, node: NodeTraits): boolean {
  const value = requirement.key === "metadata.name" ? node.name : undefined;
  return requirementMatches(requirement, value);
}

export function requirementMatches(
  requirement: { operator: NodeSelectorRequirement["operator"]; values?: string[] },
  value: string | undefined,
): boolean {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt":
      return compareInteger(requirement.operator, value, values[0]);
  }
}

function compareInteger(operator: "Gt" | "Lt", value?: string, bound?: string): boolean {
  const INTEGER = /^-?\d+$/;
  if (value === undefined || bound === undefined) return false;
  if (!INTEGER.test(value) || !INTEGER.test(bound)) return false;
  return operator === "Gt" ? Number(value) > Number(bound) : Number(value) < Number(bound);
}

/** Every NoSchedule and NoExecute taint must be tolerated; PreferNoSchedule only prefers. */
export function toleratesTaints(
  tolerations: readonly Toleration[],
  taints: readonly Taint[],
): boolean {
  for (const taint of taints) {
    if (taint.effect === "PreferNoSchedule") continue;
    if (!tolerations.some((toleration) => tolerates(toleration, taint))) return false;
  }
  return true;
}

function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.operator === "Exists") return !toleration.key || toleration.key === taint.key;
  return toleration.key === taint.key && (toleration.value ?? "") === (taint.value ?? "");
}

/**
 * Kubernetes label selector semantics: matchLabels and matchExpressions ANDed; an empty
 * selector matches everything.
 */
export function matchesLabelSelector(
  selector: LabelSelector,
  labels: Record<string, string>,
): boolean {
  if (selector.matchLabels && !matchesNodeSelector(selector.matchLabels, labels)) return false;
  return (selector.matchExpressions ?? []).every((requirement) =>
    requirementMatches(requirement, labels[requirement.key]),
  );
}
