import { formatDuration as exactDuration } from "../planning/format.ts";
import type {
  ContainerResourcePolicy,
  HpaInfo,
  PodInfo,
  Resources,
  Snapshot,
  VpaInfo,
} from "../planning/snapshot.ts";
import type { RightsizingConfig } from "../policy/rightsizing-config.ts";
import type { Range } from "./decide-resource.ts";
import type { ResourceName, WorkloadId } from "./resources-proposal.ts";

/** The kinds of workloads whose requests are right-sized. */
export const RIGHTSIZED_KINDS: ReadonlySet<string> = new Set([
  "Deployment",
  "StatefulSet",
  "DaemonSet",
]);

/** Opt-out marker, on the VPA (annotation or label) or on the workload's pods (label). */
export const OPT_OUT_KEY = "pr-autoscaler.io/rightsizing";

/** What the cluster says about one workload's containers. */
export interface WorkloadFacts {
  workload: WorkloadId;
  pods: PodInfo[];
  hpas: HpaInfo[];
}

export function workloadOf(vpa: VpaInfo): WorkloadId {
  return { namespace: vpa.namespace, kind: vpa.target.kind, name: vpa.target.name };
}

export function workloadFacts(snapshot: Snapshot, vpa: VpaInfo): WorkloadFacts {
  const workload = workloadOf(vpa);
  const pods = snapshot.pods.filter(
    (pod) =>
      pod.namespace === workload.namespace &&
      pod.owner?.kind === workload.kind &&
      pod.owner.name === workload.name,
  );
  const hpas = snapshot.hpas.filter(
    (hpa) =>
      hpa.namespace === workload.namespace &&
      hpa.target.kind === workload.kind &&
      hpa.target.name === workload.name,
  );
  return { workload, pods, hpas };
}

/** The HPA that scales the workload on this resource, by name. */
export function hpaOn(facts: WorkloadFacts, resource: ResourceName): string | undefined {
  return facts.hpas.find((hpa) => hpa.resourceMetrics.includes(resource))?.name;
}

function amountOf(resources: Resources | undefined, resource: ResourceName): number | undefined {
  return resources?.[resource];
}

/** Highest usage of the container across running pods: the percentile when known, else the average. */
export function usageOf(
  facts: WorkloadFacts,
  container: string,
  resource: ResourceName,
): number | undefined {
  let highest: number | undefined;
  for (const pod of running(facts)) {
    const usage = containerOf(pod, container)?.usage;
    const value = usage?.peak?.[resource] ?? usage?.[resource];
    if (value !== undefined && (highest === undefined || value > highest)) highest = value;
  }
  return highest;
}

/** The distinct requests (or limits) the running pods carry for the container. */
export function runningAmounts(
  facts: WorkloadFacts,
  container: string,
  resource: ResourceName,
  section: "requests" | "limits" = "requests",
): number[] {
  const values = new Set<number>();
  for (const pod of running(facts)) {
    const value = amountOf(containerOf(pod, container)?.[section], resource);
    if (value !== undefined) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * Whether the workload has running pods and each of them is of QoS class Guaranteed, as the
 * kubelet classes a pod: every container (init containers too) has a cpu and a memory limit,
 * and the pod's cpu and memory requests, added up, equal its limits (a request that is not set
 * is its limit, as the API server defaults it). Such a pod is evicted last under node pressure,
 * and only it gets exclusive cores from the CPU manager's static policy.
 */
export function podsGuaranteed(facts: WorkloadFacts): boolean {
  const pods = running(facts);
  return pods.length > 0 && pods.every(guaranteed);
}

function guaranteed(pod: PodInfo): boolean {
  const sums = { requests: { cpu: 0, memory: 0 }, limits: { cpu: 0, memory: 0 } };
  for (const container of [...pod.containers, ...pod.initContainers]) {
    for (const resource of ["cpu", "memory"] as const) {
      const limit = container.limits[resource];
      if (limit === undefined || limit <= 0) return false;
      sums.limits[resource] += limit;
      sums.requests[resource] += container.requests[resource] ?? limit;
    }
  }
  return sums.requests.cpu === sums.limits.cpu && sums.requests.memory === sums.limits.memory;
}

/**
 * The container's OOM kills within the window that its pods' statuses still show (kills with
 * no time count as recent): no more than two a pod, its current and last termination, so a
 * floor. `restarts`: the restart counts of the pods that show one, added up (absent when one of
 * them has none), which tells of the terminations the statuses no longer show.
 */
export function oomKillsOf(
  facts: WorkloadFacts,
  container: string,
  now: Date,
  windowMs: number,
): { kills: number; last?: string; restarts?: number } {
  const since = now.getTime() - windowMs;
  let kills = 0;
  let restarts: number | undefined = 0;
  const times: string[] = [];
  for (const pod of facts.pods) {
    const seen = pod.oomKills
      .filter((kill) => kill.container === container)
      .filter((kill) => kill.at === undefined || Date.parse(kill.at) >= since);
    if (seen.length === 0) continue;
    kills += seen.length;
    for (const kill of seen) if (kill.at) times.push(kill.at);
    const count = seen[0]?.restarts;
    restarts = restarts === undefined || count === undefined ? undefined : restarts + count;
  }
  const last = times.sort().at(-1);
  return {
    kills,
    ...(last === undefined ? {} : { last }),
    ...(kills === 0 || restarts === undefined ? {} : { restarts }),
  };
}

/**
 * Every container the workload is known to have: those the VPA recommends for, and those of its
 * pods (sidecars among the init containers included). A container its policies name counts only
 * while no pod shows what the workload runs (scaled to zero): with pods, a policy for a container
 * they lack is stale, and `*` names no container.
 */
export function containerNamesOf(vpa: VpaInfo, facts: WorkloadFacts): string[] {
  const names = new Set(vpa.recommendations.map((r) => r.containerName));
  if (facts.pods.length === 0)
    for (const policy of vpa.resourcePolicy)
      if (policy.containerName !== "*") names.add(policy.containerName);
  for (const pod of facts.pods) {
    for (const container of pod.containers) names.add(container.name);
    for (const container of pod.initContainers) if (container.sidecar) names.add(container.name);
  }
  return [...names];
}

/**
 * The VPA without its recommendations for containers none of the workload's pods has (one removed
 * from the workload since, whose recommendation the VPA keeps for a while), and the names of those
 * containers. While the workload has no pod, nothing says which containers it has, and every
 * recommendation is kept.
 */
export function withoutStaleRecommendations(
  vpa: VpaInfo,
  facts: Pick<WorkloadFacts, "pods">,
): { vpa: VpaInfo; stale: string[] } {
  if (facts.pods.length === 0) return { vpa, stale: [] };
  const present = new Set(
    facts.pods.flatMap((pod) => [...pod.containers, ...pod.initContainers].map((c) => c.name)),
  );
  const stale = vpa.recommendations
    .filter((r) => !present.has(r.containerName))
    .map((r) => r.containerName);
  if (stale.length === 0) return { vpa, stale };
  const recommendations = vpa.recommendations.filter((r) => present.has(r.containerName));
  return { vpa: { ...vpa, recommendations }, stale };
}

function running(facts: WorkloadFacts): PodInfo[] {
  return facts.pods.filter((pod) => pod.phase === "Running");
}

function containerOf(pod: PodInfo, name: string) {
  return (
    pod.containers.find((c) => c.name === name) ?? pod.initContainers.find((c) => c.name === name)
  );
}

/** The VPA's container policy: the container's own, else the `*` default. */
export function policyFor(vpa: VpaInfo, container: string): ContainerResourcePolicy | undefined {
  return (
    vpa.resourcePolicy.find((policy) => policy.containerName === container) ??
    vpa.resourcePolicy.find((policy) => policy.containerName === "*")
  );
}

export function vpaRange(
  policy: ContainerResourcePolicy | undefined,
  resource: ResourceName,
): Range {
  const range: Range = {};
  const min = amountOf(policy?.minAllowed, resource);
  const max = amountOf(policy?.maxAllowed, resource);
  if (min !== undefined) range.min = min;
  if (max !== undefined) range.max = max;
  return range;
}

/**
 * The config's min/max for a container: for each value, the most specific `bounds` entry that
 * sets it (container, then workload, then namespace), else the section's own min/max.
 */
export function configRange(
  config: RightsizingConfig,
  workload: WorkloadId,
  container: string,
  resource: ResourceName,
): Range {
  const key = `${workload.namespace}/${workload.name}`;
  const matching = config.bounds
    .filter(
      (bounds) =>
        (bounds.namespace === undefined || bounds.namespace === workload.namespace) &&
        (bounds.workload === undefined || bounds.workload === key) &&
        (bounds.container === undefined || bounds.container === container),
    )
    .map((bounds) => ({
      bounds,
      rank: (bounds.container ? 4 : 0) + (bounds.workload ? 2 : 0) + (bounds.namespace ? 1 : 0),
    }))
    .sort((a, b) => b.rank - a.rank)
    .map((entry) => entry.bounds);
  const range: Range = {};
  const min =
    matching.find((b) => b.min?.[resource] !== undefined)?.min?.[resource] ?? config.min[resource];
  const max =
    matching.find((b) => b.max?.[resource] !== undefined)?.max?.[resource] ?? config.max[resource];
  if (min !== undefined) range.min = min;
  if (max !== undefined) range.max = max;
  return range;
}

/** Why the VPA's recommendation cannot be trusted yet; empty when it can. */
export function historyProblems(
  vpa: VpaInfo,
  now: Date,
  minHistoryMs: number,
): {
  problems: string[];
  ageMs?: number;
} {
  const problems: string[] = [];
  const condition = (type: string) => vpa.conditions.find((c) => c.type === type);
  const provided = condition("RecommendationProvided");
  if (provided?.status !== "True")
    problems.push(
      `the VPA has not provided a recommendation (RecommendationProvided ${provided?.status ?? "absent"})`,
    );
  // ConfigUnsupported: the recommender cannot read the target (it does not exist, say) and
  // recommends nothing more for it; what the status still holds is left from before.
  for (const type of ["LowConfidence", "NoPodsMatched", "FetchingHistory", "ConfigUnsupported"]) {
    const found = condition(type);
    if (found?.status === "True")
      problems.push(`the VPA reports ${type}${found.message ? `: ${found.message}` : ""}`);
  }
  const created = Date.parse(vpa.createdAt);
  if (Number.isNaN(created)) {
    problems.push("the VPA's creation time is unknown, so the length of its history is too");
    return { problems };
  }
  const ageMs = now.getTime() - created;
  if (ageMs < minHistoryMs)
    problems.push(
      `the VPA has recorded for ${formatDuration(ageMs)}, less than minHistory ${exactDuration(minHistoryMs)}`,
    );
  return { problems, ageMs };
}

/**
 * `12d`, `5h`, `42m`: the largest whole unit, rounded down, so that the text changes seldom as a
 * VPA ages. A bound it is compared with is written whole (`1d12h`), or a VPA of 30h would read as
 * having recorded for 1d, "less than minHistory 1d".
 */
export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes >= 1440) return `${Math.floor(minutes / 1440)}d`;
  if (minutes >= 60) return `${Math.floor(minutes / 60)}h`;
  return `${minutes}m`;
}

/** Why a workload is left out entirely by the config or an opt-out marker; undefined when it is not. */
export function exclusionOf(
  config: RightsizingConfig,
  vpa: VpaInfo,
  facts: WorkloadFacts,
): string | undefined {
  return exclusionFor(config, facts, vpa);
}

/**
 * As `exclusionOf`, for a workload that has no VPA (its pods' opt-out label alone counts): one
 * the configuration leaves out stays so whether or not a VPA comes.
 */
export function exclusionWithoutVpa(
  config: RightsizingConfig,
  facts: Pick<WorkloadFacts, "workload" | "pods">,
): string | undefined {
  return exclusionFor(config, facts, undefined);
}

function exclusionFor(
  config: RightsizingConfig,
  facts: Pick<WorkloadFacts, "workload" | "pods">,
  vpa: VpaInfo | undefined,
): string | undefined {
  const { workload } = facts;
  const key = `${workload.namespace}/${workload.name}`;
  const { include, exclude } = config.namespaces;
  if (include.length > 0 && !include.includes(workload.namespace))
    return `namespace ${workload.namespace} is not in rightsizing.namespaces.include`;
  if (exclude.includes(workload.namespace))
    return `namespace ${workload.namespace} is in rightsizing.namespaces.exclude`;
  if (config.exclude.includes(key)) return `${key} is in rightsizing.exclude`;
  if (config.stateful.changes === "none" && config.stateful.workloads.includes(key))
    return `${key} is marked stateful (rightsizing.stateful) and stateful workloads are left alone`;
  const marker = optOut(vpa, facts);
  if (marker) return `${marker} has ${OPT_OUT_KEY}: "false"`;
  return undefined;
}

function optOut(vpa: VpaInfo | undefined, facts: Pick<WorkloadFacts, "pods">): string | undefined {
  const off = (map: Record<string, string> | undefined) => map?.[OPT_OUT_KEY] === "false";
  if (vpa && (off(vpa.annotations) || off(vpa.labels))) return `the VPA ${vpa.name}`;
  const pod = facts.pods.find((candidate) => off(candidate.labels));
  return pod ? `pod ${pod.name}` : undefined;
}
