import type { NodeDecision, ScaleDownCondition, Trigger } from "./node-decision.ts";

const SCALE_UP_TRIGGERS = new Set<Trigger["kind"]>([
  "below-min",
  "pending-pods",
  "utilisation",
  "requests",
]);

/** What decides a removal above the max (or of a node long not Ready): the node, not usage. */
const FORCED_CONDITIONS = new Set<ScaleDownCondition["kind"]>([
  "candidate",
  "no-blockers",
  "pods-fit",
  "last-node",
]);

/**
 * Whether a scale-down was weighed at all: not while something asks for more nodes within the
 * bounds (more nodes win, and the conditions of a removal are beside the point then).
 */
export function scaleDownConsidered(decision: Pick<NodeDecision, "action" | "triggers">): boolean {
  if (decision.action === "scale-up") return false;
  const { triggers } = decision;
  if (triggers.some((trigger) => trigger.kind === "above-max" || trigger.kind === "unready-node"))
    return true;
  return !triggers.some((trigger) => SCALE_UP_TRIGGERS.has(trigger.kind));
}

/**
 * The conditions that refused a scale-down that was wanted: above the max, those of the node to
 * remove (its blockers, where its pods go, whether the pool could grow back without it);
 * otherwise, with usage and requests below their thresholds (now, when nothing shows the window
 * yet: what refuses the node refuses it whatever the window shows), every other condition (the
 * min, the node, its blockers, its pods, the projection, the last node).
 * Undefined when no scale-down was wanted, when one is made, or when only holds stopped it.
 */
export function scaleDownRefusal(
  decision: Pick<NodeDecision, "action" | "triggers" | "current" | "scaleDown">,
): ScaleDownCondition[] | undefined {
  const { scaleDown } = decision;
  if (decision.action === "scale-down" || decision.current === undefined) return undefined;
  if (!scaleDown.enabled || !scaleDownConsidered(decision)) return undefined;
  const forced = decision.triggers.some(
    (trigger) => trigger.kind === "above-max" || trigger.kind === "unready-node",
  );
  const wanted =
    forced ||
    scaleDown.conditions
      .filter((condition) => condition.kind === "utilisation" || condition.kind === "requests")
      .every(
        (condition) =>
          condition.met ||
          (condition.kind === "utilisation" && condition.check.outcome === "no-evidence"),
      );
  if (!wanted) return undefined;
  const deciding = scaleDown.conditions.filter((condition) =>
    forced
      ? FORCED_CONDITIONS.has(condition.kind)
      : condition.kind !== "utilisation" && condition.kind !== "requests",
  );
  const refused = deciding.filter((condition) => !condition.met);
  return refused.length > 0 ? refused : undefined;
}
