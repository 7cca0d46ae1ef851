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
  /**
   * The bin of a node cordoned by `spec.unschedulable` (pool-context.ts): kube-scheduler's
   * NodeUnschedulable filter, which runs before TaintToleration, keeps off it a pod that does not
   * tolerate `node.kubernetes.io/unschedulable` and says `node(s) were unschedulable`.
   */
  cordoned?: boolean;
  /**
   * For a node still to be added: label keys it will carry with a value that is not known
   * (every pool node carries them, with different values).
   */
  unknownValueLabels?: readonly string[];
}

/**
 * Why a pod cannot go to a node, leaving resources aside. `unschedulable`: the node is cordoned
 * and the pod does not tolerate `node.kubernetes.io/unschedulable`. `label-unknown`: its nodeSelector,
 * required node affinity or a volume's node affinity depends on a label whose value a node
 * still to be added will get is not known, so it may not match.
 */
export type PlacementConflict =
  | "unschedulable"
  | "node-selector"
  | "node-affinity"
  | "volume-node-affinity"
  | "taints"
  | "label-unknown";

/** A match that may not be known on a node still to be added: `undefined` then. */
type Match = boolean | undefined;

/**
 * The first rule that keeps `pod` off `node`, or `undefined` when the pod may go there. The
 * rules are met in the order of kube-scheduler's default filters, which stop at the first that
 * fails and name it (`kubectl describe pod`): a cordon (NodeUnschedulable), taints with
 * NoSchedule/NoExecute (TaintToleration), the nodeSelector, then required node affinity (NodeAffinity), then the node
 * affinity of the volumes its claims are bound to or would be made with (VolumeBinding). A rule
 * that a node still to be added may or may not match, by a label whose value it will get is not
 * known, keeps the pod off it too (`label-unknown`), once no rule rules it out for sure.
 * Required pod affinity and anti-affinity, topology spread, host ports and CSI volume counts
 * depend on the other pods placed and are checked by peer-rules.ts; a host port in use
 * (NodePorts) and a CSI count passed (NodeVolumeLimits) run before VolumeBinding and are named
 * before a volume's node affinity where both hold (packing.ts).
 */
export function placementConflict(
  pod: Pick<PodInfo, "nodeSelector" | "requiredNodeAffinity" | "tolerations" | "volumeClaims">,
  node: NodeTraits,
): PlacementConflict | undefined {
  if (node.cordoned && !toleratesTaints(pod.tolerations, [UNSCHEDULABLE_TAINT]))
    return "unschedulable";
  if (!toleratesTaints(pod.tolerations, node.taints)) return "taints";
  const selector = nodeSelectorMatch(pod.nodeSelector, node);
  if (selector === false) return "node-selector";
  const affinity = requiredAffinityMatch(pod.requiredNodeAffinity, node);
  if (affinity === false) return "node-affinity";
  const volumes = claimsMatch(pod.volumeClaims, node);
  if (volumes === false) return "volume-node-affinity";
  if (selector === undefined || affinity === undefined || volumes === undefined)
    return "label-unknown";
  return undefined;
}

/**
 * The first label of `pod`'s nodeSelector, required node affinity or volumes' node affinity
 * whose value on `node` (one still to be added) is not known, where `placementConflict` found
 * `label-unknown`.
 */
export function unknownLabelOf(
  pod: Pick<PodInfo, "nodeSelector" | "requiredNodeAffinity" | "volumeClaims">,
  node: NodeTraits,
): string | undefined {
  const terms = [
    ...(pod.requiredNodeAffinity ?? []),
    ...(pod.volumeClaims ?? []).flatMap((claim) => claim.nodeAffinity ?? []),
  ];
  const keys = [
    ...Object.keys(pod.nodeSelector),
    ...terms.flatMap((term) => (term.matchExpressions ?? []).map((requirement) => requirement.key)),
  ];
  return keys.find((key) => labelUnknown(node, key));
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
  return claims?.find((claim) => requiredAffinityMatch(claim.nodeAffinity, node) === false)?.claim;
}

function claimsMatch(claims: readonly VolumeClaimPlacement[] | undefined, node: NodeTraits): Match {
  let known = true;
  for (const claim of claims ?? []) {
    const match = requiredAffinityMatch(claim.nodeAffinity, node);
    if (match === false) return false;
    if (match === undefined) known = false;
  }
  return known ? true : undefined;
}

export function matchesNodeSelector(
  selector: Record<string, string>,
  labels: Record<string, string>,
): boolean {
  for (const key in selector) if (labels[key] !== selector[key]) return false;
  return true;
}

function nodeSelectorMatch(selector: Record<string, string>, node: NodeTraits): Match {
  let known = true;
  for (const key in selector) {
    if (labelUnknown(node, key)) known = false;
    else if (node.labels[key] !== selector[key]) return false;
  }
  return known ? true : undefined;
}

/**
 * Terms are ORed, expressions in a term ANDed; a term with no expressions matches nothing. On a
 * node still to be added, a term that may or may not match does not.
 */
export function matchesRequiredAffinity(
  terms: readonly NodeSelectorTerm[] | undefined,
  node: NodeTraits,
): boolean {
  return requiredAffinityMatch(terms, node) === true;
}

function requiredAffinityMatch(
  terms: readonly NodeSelectorTerm[] | undefined,
  node: NodeTraits,
): Match {
  if (!terms || terms.length === 0) return true;
  let known = true;
  for (const term of terms) {
    const match = termMatch(term, node);
    if (match === true) return true;
    if (match === undefined) known = false;
  }
  return known ? false : undefined;
}

function termMatch(term: NodeSelectorTerm, node: NodeTraits): Match {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  if (!fields.every((requirement) => fieldMatches(requirement, node))) return false;
  let known = true;
  for (const requirement of expressions) {
    const match = labelRequirementMatch(requirement, node);
    if (match === false) return false;
    if (match === undefined) known = false;
  }
  return known ? true : undefined;
}

/**
 * A requirement on a label of `node`. Where the value a new node gets is not known, only
 * `Exists` and `DoesNotExist` are: it carries the key whatever the value.
 */
function labelRequirementMatch(requirement: NodeSelectorRequirement, node: NodeTraits): Match {
  if (!labelUnknown(node, requirement.key))
    return requirementMatches(requirement, node.labels[requirement.key]);
  if (requirement.operator === "Exists") return true;
  if (requirement.operator === "DoesNotExist") return false;
  return undefined;
}

function labelUnknown(node: NodeTraits, key: string): boolean {
  return node.labels[key] === undefined && (node.unknownValueLabels?.includes(key) ?? false);
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
  return untoleratedTaints(tolerations, taints).length === 0;
}

/**
 * The taint the node lifecycle controller gives a cordoned node; a pod that tolerates it may go
 * there all the same (NodeUnschedulable lets it in).
 */
export const UNSCHEDULABLE_TAINT: Taint = {
  key: "node.kubernetes.io/unschedulable",
  effect: "NoSchedule",
};

/** A taint as kubectl writes it: `dedicated=batch:NoExecute`, `gpu:NoSchedule`. */
export function taintText(taint: Taint): string {
  return `${taint.key}${taint.value === undefined ? "" : `=${taint.value}`}:${taint.effect}`;
}

/** The NoSchedule and NoExecute taints of `taints` that none of `tolerations` tolerates. */
export function untoleratedTaints(
  tolerations: readonly Toleration[],
  taints: readonly Taint[],
): Taint[] {
  return taints.filter(
    (taint) =>
      taint.effect !== "PreferNoSchedule" &&
      !tolerations.some((toleration) => tolerates(toleration, taint)),
  );
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
