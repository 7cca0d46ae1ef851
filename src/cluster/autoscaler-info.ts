import type {
  Condition,
  ContainerRecommendation,
  ContainerResourcePolicy,
  HpaInfo,
  PodDisruptionBudgetInfo,
  Resources,
  VpaInfo,
  WorkloadRef,
} from "../planning/snapshot.ts";
import { readLabelSelector } from "./label-selector.ts";
import {
  count,
  list,
  oneOf,
  type Raw,
  record,
  string,
  stringList,
  stringMap,
  time,
} from "./raw.ts";
import { readResources } from "./resources.ts";
import type { WarningCollector } from "./warnings.ts";

const conditionStatuses = ["True", "False", "Unknown"] as const;
const unhealthyPodEvictionPolicies = ["IfHealthyBudget", "AlwaysAllow"] as const;

function namespaced(raw: Raw): { namespace: string; name: string; createdAt: string } {
  const metadata = record(raw.metadata);
  return {
    namespace: string(metadata.namespace) ?? "",
    name: string(metadata.name) ?? "",
    createdAt: time(metadata.creationTimestamp) ?? "",
  };
}

/**
 * Translates a policy/v1 PodDisruptionBudget. A PDB whose status the disruption controller
 * has not written yet allows no disruption, which is how the eviction API treats it too.
 */
export function toPdbInfo(raw: Raw, warnings: WarningCollector): PodDisruptionBudgetInfo {
  const { namespace, name } = namespaced(raw);
  const given = record(raw.status).disruptionsAllowed;
  const allowed = count(given);
  if (allowed === undefined) {
    warnings.add(
      given === undefined ? "pdb-status-missing" : "pdb-status-invalid",
      given === undefined
        ? "status.disruptionsAllowed is not set yet; counted as 0 (no eviction allowed)"
        : `status.disruptionsAllowed is ${JSON.stringify(given)}, not a whole number ≥ 0; counted as 0 (no eviction allowed)`,
      `pdb/${namespace}/${name}`,
    );
  }
  const stale = allowed !== undefined && staleStatus(raw);
  if (stale)
    warnings.add(
      "pdb-status-stale",
      `status.observedGeneration ${stale.observed} is older than the spec's generation ${stale.generation}: the disruption controller has not processed the change yet; counted as 0 (the eviction API allows no eviction until it has)`,
      `pdb/${namespace}/${name}`,
    );
  const pdb: PodDisruptionBudgetInfo = {
    namespace,
    name,
    disruptionsAllowed: stale ? 0 : (allowed ?? 0),
  };
  const spec = record(raw.spec);
  const selector = readLabelSelector(spec.selector);
  if (selector) pdb.selector = selector;
  const policy = oneOf(spec.unhealthyPodEvictionPolicy, unhealthyPodEvictionPolicies);
  if (policy) pdb.unhealthyPodEvictionPolicy = policy;
  // Only a status whose allowance could be read is trusted for its health counts too.
  const currentHealthy = count(record(raw.status).currentHealthy);
  const desiredHealthy = count(record(raw.status).desiredHealthy);
  if (allowed !== undefined && currentHealthy !== undefined && desiredHealthy !== undefined) {
    pdb.currentHealthy = currentHealthy;
    pdb.desiredHealthy = desiredHealthy;
    const expectedPods = count(record(raw.status).expectedPods);
    if (expectedPods !== undefined) pdb.expectedPods = expectedPods;
  }
  return pdb;
}

/**
 * The generations of a budget whose status was written for an older spec (`observedGeneration`
 * below `metadata.generation`), which the eviction API refuses to spend; undefined otherwise.
 */
function staleStatus(raw: Raw): { observed: number; generation: number } | undefined {
  const generation = count(record(raw.metadata).generation);
  const observed = count(record(raw.status).observedGeneration);
  if (generation === undefined || observed === undefined || observed >= generation)
    return undefined;
  return { observed, generation };
}

function readWorkloadRef(value: unknown): WorkloadRef {
  const source = record(value);
  const ref: WorkloadRef = { kind: string(source.kind) ?? "", name: string(source.name) ?? "" };
  const apiVersion = string(source.apiVersion);
  if (apiVersion) ref.apiVersion = apiVersion;
  return ref;
}

function readConditions(value: unknown): Condition[] {
  const result: Condition[] = [];
  for (const item of list(value)) {
    const entry = record(item);
    const type = string(entry.type);
    const status = oneOf(entry.status, conditionStatuses);
    if (type === undefined || status === undefined) continue;
    const condition: Condition = { type, status };
    const reason = string(entry.reason);
    if (reason) condition.reason = reason;
    const message = string(entry.message);
    if (message) condition.message = message;
    const at = time(entry.lastTransitionTime);
    if (at) condition.lastTransitionTime = at;
    result.push(condition);
  }
  return result;
}

/** The default update mode of the VPA API when `spec.updatePolicy.updateMode` is unset. */
const defaultUpdateMode = "Auto";

/** Translates an autoscaling.k8s.io/v1 VerticalPodAutoscaler. */
export function toVpaInfo(raw: Raw, warnings: WarningCollector): VpaInfo {
  const { namespace, name, createdAt } = namespaced(raw);
  const subject = `vpa/${namespace}/${name}`;
  const spec = record(raw.spec);
  const status = record(raw.status);
  const resources = (value: unknown, field: string): Resources =>
    readResources(value, { subject, field, warnings });
  const policies = list(record(spec.resourcePolicy).containerPolicies).map((item, index) =>
    readContainerPolicy(record(item), `spec.resourcePolicy.containerPolicies[${index}]`, resources),
  );
  const recommendations = list(record(status.recommendation).containerRecommendations).map(
    (item, index) =>
      readRecommendation(
        record(item),
        `status.recommendation.containerRecommendations[${index}]`,
        resources,
      ),
  );
  const vpa: VpaInfo = {
    namespace,
    name,
    target: readWorkloadRef(spec.targetRef),
    updateMode: string(record(spec.updatePolicy).updateMode) ?? defaultUpdateMode,
    resourcePolicy: policies,
    recommendations,
    conditions: readConditions(status.conditions),
    createdAt,
  };
  const metadata = record(raw.metadata);
  const labels = ownKeys(metadata.labels);
  const annotations = ownKeys(metadata.annotations);
  if (labels) vpa.labels = labels;
  if (annotations) vpa.annotations = annotations;
  return vpa;
}

/**
 * The `pr-autoscaler.io/` entries of a label or annotation map, or undefined when none: other
 * annotations (kubectl's last-applied configuration among them) would only weigh the snapshot.
 */
function ownKeys(value: unknown): Record<string, string> | undefined {
  const own = Object.entries(stringMap(value)).filter(([key]) => key.startsWith(OWN_PREFIX));
  return own.length > 0 ? Object.fromEntries(own) : undefined;
}

const OWN_PREFIX = "pr-autoscaler.io/";

function readContainerPolicy(
  entry: Raw,
  field: string,
  resources: (value: unknown, field: string) => Resources,
): ContainerResourcePolicy {
  const policy: ContainerResourcePolicy = { containerName: string(entry.containerName) ?? "*" };
  const mode = oneOf(entry.mode, ["Auto", "Off"] as const);
  if (mode) policy.mode = mode;
  if (entry.minAllowed !== undefined)
    policy.minAllowed = resources(entry.minAllowed, `${field}.minAllowed`);
  if (entry.maxAllowed !== undefined)
    policy.maxAllowed = resources(entry.maxAllowed, `${field}.maxAllowed`);
  if (Array.isArray(entry.controlledResources)) {
    policy.controlledResources = stringList(entry.controlledResources);
  }
  const values = oneOf(entry.controlledValues, ["RequestsAndLimits", "RequestsOnly"] as const);
  if (values) policy.controlledValues = values;
  return policy;
}

function readRecommendation(
  entry: Raw,
  field: string,
  resources: (value: unknown, field: string) => Resources,
): ContainerRecommendation {
  const recommendation: ContainerRecommendation = {
    containerName: string(entry.containerName) ?? "",
    target: resources(entry.target, `${field}.target`),
  };
  if (entry.lowerBound !== undefined) {
    recommendation.lowerBound = resources(entry.lowerBound, `${field}.lowerBound`);
  }
  if (entry.upperBound !== undefined) {
    recommendation.upperBound = resources(entry.upperBound, `${field}.upperBound`);
  }
  if (entry.uncappedTarget !== undefined) {
    recommendation.uncappedTarget = resources(entry.uncappedTarget, `${field}.uncappedTarget`);
  }
  return recommendation;
}

/** Translates an autoscaling/v2 HorizontalPodAutoscaler. */
export function toHpaInfo(raw: Raw): HpaInfo {
  const { namespace, name } = namespaced(raw);
  const spec = record(raw.spec);
  const resourceMetrics = new Set<string>();
  for (const item of list(spec.metrics)) {
    const metric = record(item);
    const source =
      metric.type === "Resource"
        ? record(metric.resource)
        : metric.type === "ContainerResource"
          ? record(metric.containerResource)
          : undefined;
    const resource = string(source?.name);
    if (resource) resourceMetrics.add(resource);
  }
  const hpa: HpaInfo = {
    namespace,
    name,
    target: readWorkloadRef(spec.scaleTargetRef),
    resourceMetrics: [...resourceMetrics].sort(),
    maxReplicas: count(spec.maxReplicas) ?? 0,
  };
  const min = count(spec.minReplicas);
  if (min !== undefined) hpa.minReplicas = min;
  const current = count(record(raw.status).currentReplicas);
  if (current !== undefined) hpa.currentReplicas = current;
  return hpa;
}
