import type { NodeInfo, Taint } from "../planning/snapshot.ts";
import { list, oneOf, type Raw, record, string, stringMap, time } from "./raw.ts";
import { readResources } from "./resources.ts";
import type { ValueSharing } from "./value-sharing.ts";
import type { WarningCollector } from "./warnings.ts";

/** Label that puts a node in a pool by name; the repo config's selectors may reassign it. */
export const poolLabel = "pr-autoscaler.io/pool";

const controlPlaneLabels = [
  "node-role.kubernetes.io/control-plane",
  "node-role.kubernetes.io/master",
];

const taintEffects = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

/**
 * Node annotations that keep a node out of scale-down when `"true"`: cluster-autoscaler's and
 * Karpenter's, honoured so a node an operator has marked for either stays.
 */
export const scaleDownDisabledAnnotations = [
  "cluster-autoscaler.kubernetes.io/scale-down-disabled",
  "karpenter.sh/do-not-disrupt",
] as const;

/** Translates a core/v1 Node into NodeInfo; `sharing` shares its label strings with the read's. */
export function toNodeInfo(raw: Raw, warnings: WarningCollector, sharing?: ValueSharing): NodeInfo {
  const metadata = record(raw.metadata);
  const spec = record(raw.spec);
  const status = record(raw.status);
  const name = string(metadata.name) ?? "";
  const subject = `node/${name}`;
  const labels = sharing ? sharing.stringRecord(metadata.labels) : stringMap(metadata.labels);
  const controlPlane = controlPlaneLabels.some((label) => label in labels);
  const ready = readyCondition(status);
  const node: NodeInfo = {
    name,
    pool: labels[poolLabel] || (controlPlane ? "control-plane" : "workers"),
    labels,
    taints: readTaints(spec.taints),
    unschedulable: spec.unschedulable === true,
    ready: ready?.status === "True",
    createdAt: time(metadata.creationTimestamp) ?? "",
    controlPlane,
    capacity: readResources(status.capacity, { subject, field: "status.capacity", warnings }),
    allocatable: readResources(status.allocatable, {
      subject,
      field: "status.allocatable",
      warnings,
    }),
  };
  const annotations = record(metadata.annotations);
  const disabledBy = scaleDownDisabledAnnotations.find((key) => annotations[key] === "true");
  if (disabledBy) node.scaleDownDisabled = disabledBy;
  const since = time(ready?.lastTransitionTime);
  if (since !== undefined) node.readySince = since;
  if (ready === undefined) {
    warnings.add("node-ready-unknown", "the node reports no Ready condition", subject);
  }
  return node;
}

/** The Ready condition of a Node's status, when it reports one. */
export function readyCondition(status: Raw): Raw | undefined {
  for (const condition of list(status.conditions)) {
    const entry = record(condition);
    if (entry.type === "Ready") return entry;
  }
  return undefined;
}

function readTaints(value: unknown): Taint[] {
  const taints: Taint[] = [];
  for (const item of list(value)) {
    const entry = record(item);
    const key = string(entry.key);
    const effect = oneOf(entry.effect, taintEffects);
    if (key === undefined || effect === undefined) continue;
    const value = string(entry.value);
    taints.push(value ? { key, value, effect } : { key, effect });
  }
  return taints;
}
