/**
 * What a converted Kubernetes object must look like, judged from the raw object alone: every
 * quantity that is garbage, negative or too large in the input is unknown (absent) in the
 * result and explained by a warning naming the object; no amount is negative, fractional or
 * not finite. Shared by the converter families and the readSnapshot family.
 */
import type { SnapshotWarning } from "../src/planning/snapshot.ts";
import { invariantViolations, judgeQuantity, type PathKey } from "./reliability-values.ts";

type Raw = Record<string, unknown>;

/** A quantity in the raw object and where its amount lands in the converted one. */
interface QuantityPosition {
  /** Raw path, for messages. */
  path: string;
  resource: string;
  value: unknown;
  /** Resources-shaped objects of the result that must not hold this resource. */
  targets: (converted: unknown) => unknown[];
}

function record(value: unknown): Raw {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Raw) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function at(value: unknown, ...keys: PathKey[]): unknown {
  let current = value;
  for (const key of keys) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PathKey, unknown>)[key];
  }
  return current;
}

/** The positions of every entry of a ResourceList map at `path` in `raw`. */
function listPositions(
  raw: Raw,
  path: PathKey[],
  targets: (converted: unknown) => unknown[],
  only?: readonly string[],
): QuantityPosition[] {
  const map = record(at(raw, ...path));
  return Object.keys(map)
    .filter((resource) => only === undefined || only.includes(resource))
    .map((resource) => ({
      path: `${path.join(".")}.${resource}`,
      resource,
      value: map[resource],
      targets,
    }));
}

const metricsResources = ["cpu", "memory"] as const;

/** Every quantity of a raw object of `kind`, with where its amount goes. */
export function quantityPositions(kind: string, raw: Raw): QuantityPosition[] {
  switch (kind) {
    case "Node":
      return [
        ...listPositions(raw, ["status", "capacity"], (out) => [at(out, "capacity")]),
        ...listPositions(raw, ["status", "allocatable"], (out) => [at(out, "allocatable")]),
      ];
    case "Pod":
      return [
        ...(["containers", "initContainers"] as const).flatMap((field) =>
          list(at(raw, "spec", field)).flatMap((_, index) => [
            ...listPositions(raw, ["spec", field, index, "resources", "requests"], (out) => [
              at(out, field, index, "requests"),
              // An unknown request of one container leaves the pod's request unknown.
              at(out, "requests"),
            ]),
            ...listPositions(raw, ["spec", field, index, "resources", "limits"], (out) => [
              at(out, field, index, "limits"),
            ]),
          ]),
        ),
        ...(at(raw, "spec", "overhead") === undefined
          ? []
          : listPositions(raw, ["spec", "overhead"], (out) => [
              at(out, "overhead"),
              at(out, "requests"),
            ])),
      ];
    case "VerticalPodAutoscaler":
      return [
        ...list(at(raw, "status", "recommendation", "containerRecommendations")).flatMap(
          (_, index) =>
            (["target", "lowerBound", "upperBound", "uncappedTarget"] as const).flatMap((field) =>
              listPositions(
                raw,
                ["status", "recommendation", "containerRecommendations", index, field],
                (out) => [at(out, "recommendations", index, field)],
              ),
            ),
        ),
        ...list(at(raw, "spec", "resourcePolicy", "containerPolicies")).flatMap((_, index) =>
          (["minAllowed", "maxAllowed"] as const).flatMap((field) =>
            listPositions(
              raw,
              ["spec", "resourcePolicy", "containerPolicies", index, field],
              (out) => [at(out, "resourcePolicy", index, field)],
            ),
          ),
        ),
      ];
    case "NodeMetrics":
      return listPositions(raw, ["usage"], (out) => [out], metricsResources);
    case "PodMetrics":
      return list(raw.containers).flatMap((container, index) =>
        listPositions(
          raw,
          ["containers", index, "usage"],
          (out) => [at(out, "containers", String(at(container, "name") ?? "")), at(out, "usage")],
          metricsResources,
        ),
      );
    default:
      return [];
  }
}

/** The snapshot's key for a Kubernetes resource name. */
function amountOf(resources: unknown, resource: string): unknown {
  const known: Record<string, string> = {
    cpu: "cpu",
    memory: "memory",
    pods: "pods",
    "ephemeral-storage": "ephemeralStorage",
  };
  const key = known[resource];
  return key ? at(resources, key) : at(resources, "extended", resource);
}

/**
 * What is wrong with `converted` (the result for `raw`): made-up amounts for quantities that
 * must be unknown, such quantities dropped without a warning about `subject`, and broken
 * invariants. Empty when the result is right.
 */
export function convertedProblems(
  kind: string,
  raw: Raw,
  converted: unknown,
  warnings: readonly SnapshotWarning[],
  subject: string,
): string[] {
  const problems = invariantViolations(converted, kind);
  for (const position of quantityPositions(kind, raw)) {
    const verdict = judgeQuantity(position.value, position.resource);
    if (verdict === "valid") continue;
    const shown = `${position.path}: ${JSON.stringify(position.value)?.slice(0, 40)} (${verdict})`;
    const made = position.targets(converted).map((target) => amountOf(target, position.resource));
    const found = made.filter((amount) => amount !== undefined);
    if (found.length > 0) {
      problems.push(`${shown} became ${found.join(" and ")}`);
      continue;
    }
    const warned = warnings.some(
      (warning) => warning.subject === subject && warning.message.includes(position.resource),
    );
    if (!warned) {
      problems.push(`${shown} dropped without a warning`);
    }
  }
  return problems;
}
