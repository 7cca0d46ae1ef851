import { kubernetesController } from "../planning/blockers.ts";
import { matchesLabelSelector } from "../planning/scheduling.ts";
import type { LabelSelector } from "../planning/snapshot.ts";
import { listing } from "../util/listing.ts";
import { utcTime } from "../util/utc-time.ts";
import { type DrainPod, podKey } from "./drain-pod.ts";

/** The flags that let the drain move pods it refuses by default. */
export interface DrainFlags {
  /** `--delete-emptydir-data`: evict pods whose emptyDir volumes are lost with them. */
  deleteEmptyDirData: boolean;
  /**
   * `--delete-emptydir-data-on`: the nodes on which it does so all the same (the apply
   * workflow's, of pools that set `scaleDown.deleteEmptyDirData`); absent is none.
   */
  deleteEmptyDirDataOn?: readonly string[];
  /** `--force-bare-pods`: evict pods no controller recreates (they are gone for good). */
  forceBarePods: boolean;
}

export type SkipReason = "daemonset" | "mirror";
export type RefusalReason =
  | "do-not-disrupt"
  | "safe-to-evict"
  | "bare-pod"
  | "emptydir"
  | "pdbs-overlap";

/** Why one pod may not be evicted, and the flag that would allow it (none for annotations). */
export interface Refusal {
  reason: RefusalReason;
  message: string;
  flag?: string;
  /** For `pdbs-overlap`: the names of the PodDisruptionBudgets that select the pod. */
  budgets?: string[];
}

/** A PodDisruptionBudget as far as choosing the pods it covers goes. */
export interface BudgetSelector {
  namespace: string;
  name: string;
  /** Undefined for a `null` selector, which selects no pod; `{}` selects every pod. */
  selector: LabelSelector | undefined;
}

export interface RefusedPod {
  pod: DrainPod;
  refusals: Refusal[];
}

export interface SkippedPod {
  pod: DrainPod;
  reason: SkipReason;
  message: string;
}

export interface PodWarning {
  pod: DrainPod;
  message: string;
}

/**
 * Where a PersistentVolumeClaim's data lives, as far as the API told; `missing` when the claim
 * does not exist (the API answered 404).
 */
export type ClaimVolume =
  | { kind: "node-local"; volume: string }
  | { kind: "elsewhere" }
  | { kind: "missing" }
  | { kind: "unknown"; why: string };

/** What draining one node means for each of its pods. */
export interface NodeDrainPlan {
  /** Pods to evict through the Eviction API. */
  evict: DrainPod[];
  /** Pods already being deleted: nothing to evict, but the node is not drained until they go. */
  terminating: DrainPod[];
  /** DaemonSet and mirror pods: left alone, they go with the node. */
  skipped: SkippedPod[];
  /** Pods that block the drain unless a flag allows them. */
  refused: RefusedPod[];
  /** Evictable pods whose data does not follow them (hostPath, node-local volumes). */
  warnings: PodWarning[];
}

/** `namespace/claim` → what its volume is; claims absent from the map were not checked. */
export type ClaimVolumes = ReadonlyMap<string, ClaimVolume>;

/**
 * The flags as they hold on `node`: `--delete-emptydir-data` is on there when
 * `--delete-emptydir-data-on` names it.
 */
export function flagsOnNode(flags: DrainFlags, node: string): DrainFlags {
  const { deleteEmptyDirDataOn, ...rest } = flags;
  return {
    ...rest,
    deleteEmptyDirData: flags.deleteEmptyDirData || (deleteEmptyDirDataOn ?? []).includes(node),
  };
}

/**
 * Decides, for the pods on a node, which to evict, which to leave and which block the
 * drain. Pure: the caller lists the pods and resolves their claims.
 *
 * Finished pods (Succeeded, Failed) are evicted whatever their volumes, owner or
 * annotations: there is nothing left to disrupt, as for kubectl and Karpenter.
 */
export function planNodeDrain(
  pods: readonly DrainPod[],
  flags: DrainFlags,
  claims: ClaimVolumes = new Map(),
): NodeDrainPlan {
  const plan: NodeDrainPlan = {
    evict: [],
    terminating: [],
    skipped: [],
    refused: [],
    warnings: [],
  };
  const sorted = [...pods].sort((a, b) => podKey(a).localeCompare(podKey(b)));
  for (const pod of sorted) {
    const skip = skipReason(pod);
    if (skip) {
      plan.skipped.push(skip);
      continue;
    }
    if (pod.deletionTimestamp !== undefined) {
      plan.terminating.push(pod);
      continue;
    }
    const refusals = finished(pod) ? [] : refusalsOf(pod, flags, claims);
    if (refusals.length > 0) {
      plan.refused.push({ pod, refusals });
      continue;
    }
    plan.evict.push(pod);
    if (!finished(pod))
      plan.warnings.push(...controllerWarnings(pod), ...volumeWarnings(pod, claims));
  }
  return plan;
}

/**
 * Moves the pods to evict that several PodDisruptionBudgets select to the refused: the API
 * server answers their eviction with a 500 ("more than one PodDisruptionBudget") every time,
 * so a drain that cordoned first could only fail. Pods that do not consult budgets (see
 * {@link consultsBudgets}) are left. Pure; `budgets` are those of the pods' namespaces.
 */
export function refuseOverlappingBudgets(
  plan: NodeDrainPlan,
  budgets: readonly BudgetSelector[],
): NodeDrainPlan {
  const overlapping = new Map<DrainPod, string[]>();
  for (const pod of plan.evict) {
    if (!consultsBudgets(pod)) continue;
    const names = budgetsOf(pod, budgets);
    if (names.length > 1) overlapping.set(pod, names);
  }
  if (overlapping.size === 0) return plan;
  const refused = [...overlapping].map(([pod, names]) => ({
    pod,
    refusals: [overlapRefusal(names)],
  }));
  return {
    ...plan,
    evict: plan.evict.filter((pod) => !overlapping.has(pod)),
    refused: [...plan.refused, ...refused].sort((a, b) =>
      podKey(a.pod).localeCompare(podKey(b.pod)),
    ),
    warnings: plan.warnings.filter((warning) => !overlapping.has(warning.pod)),
  };
}

/**
 * The API server looks at budgets only when it evicts a running (or Unknown) pod: a finished
 * or Pending pod is deleted whatever they say.
 */
export function consultsBudgets(pod: DrainPod): boolean {
  return !finished(pod) && pod.phase !== "Pending";
}

/** The names of the budgets of the pod's namespace that select it, sorted. */
export function budgetsOf(pod: DrainPod, budgets: readonly BudgetSelector[]): string[] {
  return budgets
    .filter(
      (budget) =>
        budget.namespace === pod.namespace &&
        budget.selector !== undefined &&
        matchesLabelSelector(budget.selector, pod.labels),
    )
    .map((budget) => budget.name)
    .sort();
}

function overlapRefusal(names: string[]): Refusal {
  const listed = listing(names);
  return {
    reason: "pdbs-overlap",
    message: `selected by PodDisruptionBudgets ${listed}: the eviction API refuses to evict a pod that more than one budget selects`,
    budgets: names,
  };
}

/** True when the plan cannot go ahead. */
export function isRefused(plan: NodeDrainPlan): boolean {
  return plan.refused.length > 0;
}

function finished(pod: DrainPod): boolean {
  return pod.phase === "Succeeded" || pod.phase === "Failed";
}

function skipReason(pod: DrainPod): SkippedPod | undefined {
  if (pod.mirror) {
    return { pod, reason: "mirror", message: "static pod run by the kubelet from a file" };
  }
  if (pod.controller?.kind === "DaemonSet") {
    return {
      pod,
      reason: "daemonset",
      message: `managed by DaemonSet ${pod.controller.name}, which runs it on every node`,
    };
  }
  return undefined;
}

function refusalsOf(pod: DrainPod, flags: DrainFlags, claims: ClaimVolumes): Refusal[] {
  const refusals: Refusal[] = [];
  if (pod.doNotDisrupt) {
    refusals.push({
      reason: "do-not-disrupt",
      message: pod.doNotDisruptUntil
        ? `annotated karpenter.sh/do-not-disrupt for a while, until ${utcTime(pod.doNotDisruptUntil)}`
        : 'annotated karpenter.sh/do-not-disrupt: "true"',
    });
  }
  if (pod.safeToEvict === "false") {
    refusals.push({
      reason: "safe-to-evict",
      message: 'annotated cluster-autoscaler.kubernetes.io/safe-to-evict: "false"',
    });
  }
  // Annotated safe to evict, the pod's owner has said losing it (and its local data) is fine,
  // as cluster-autoscaler reads it: the planner counted on that when it chose this node.
  const safe = pod.safeToEvict === "true";
  if (pod.controller === undefined && !flags.forceBarePods && !safe) {
    refusals.push({
      reason: "bare-pod",
      message: "no controller would recreate it: evicting it deletes it for good",
      flag: "--force-bare-pods",
    });
  }
  const kept = pod.emptyDirs.filter((name) => !pod.evictableLocalVolumes.includes(name));
  const scratch = localEphemeralVolumes(pod, claims);
  if ((kept.length > 0 || scratch.length > 0) && !flags.deleteEmptyDirData && !safe) {
    const lost = [...(kept.length > 0 ? [`emptyDir ${quoteList(kept)}`] : []), ...scratch];
    refusals.push({
      reason: "emptydir",
      message: `${lost.join(", ")} would be deleted with it`,
      flag: "--delete-emptydir-data",
    });
  }
  return refusals;
}

/**
 * The pod's generic ephemeral volumes whose data is on this node, as the refusal names them: a
 * claim on a node-local volume is scratch deleted with the pod, as an emptyDir is, which the
 * planner lets go only where the pool sets `scaleDown.deleteEmptyDirData`. One whose claim could
 * not be read may be such scratch, so it is refused the same way (the safe side), saying so.
 * One whose claim does not exist holds nothing: the kubelet mounts the volume only once the
 * ephemeral volume controller has made the claim, and the claim of a pod that is scheduled and
 * not shut down cannot go (its `kubernetes.io/pvc-protection` finalizer keeps it), so the pod
 * has written nothing to it; the planner reads such a claim as on no node too.
 * Volumes named in `safe-to-evict-local-volumes` are not among them.
 */
function localEphemeralVolumes(pod: DrainPod, claims: ClaimVolumes): string[] {
  return pod.claims.flatMap(({ volume, claim, ephemeral }) => {
    if (!ephemeral || pod.evictableLocalVolumes.includes(volume)) return [];
    const found = claims.get(`${pod.namespace}/${claim}`);
    if (found?.kind === "node-local")
      return [`generic ephemeral volume "${volume}" (node-local volume ${found.volume})`];
    if (found?.kind === "elsewhere" || found?.kind === "missing") return [];
    return [
      `generic ephemeral volume "${volume}" (claim ${claim}, whose volume may be node-local: ${found?.why ?? "not checked"})`,
    ];
  });
}

/**
 * A pod of a controller Kubernetes does not ship is evicted as kubectl drain evicts it, but
 * nothing says it comes back: the planner keeps such a node unless `scaleDown.replicatedKinds`
 * names the kind, and a drain run by hand is told.
 */
function controllerWarnings(pod: DrainPod): PodWarning[] {
  const controller = pod.controller;
  if (!controller || kubernetesController(controller)) return [];
  return [
    {
      pod,
      message: `its controller ${controller.kind}${controller.group ? `.${controller.group}` : ""} ${controller.name} is not one Kubernetes ships: the pod runs on another node only if that controller makes it again`,
    },
  ];
}

function volumeWarnings(pod: DrainPod, claims: ClaimVolumes): PodWarning[] {
  const warnings: PodWarning[] = [];
  if (pod.hostPaths.length > 0) {
    warnings.push({
      pod,
      message: `hostPath ${quoteList(pod.hostPaths)}: what it wrote stays on this node and goes with its VM`,
    });
  }
  for (const { volume, claim, ephemeral } of pod.claims) {
    const found = claims.get(`${pod.namespace}/${claim}`);
    if (found?.kind === "node-local") {
      warnings.push({
        pod,
        message: ephemeral
          ? `generic ephemeral volume "${volume}" (claim ${claim}) is node-local volume ${found.volume}: its data is deleted with the pod, and the pod made in its place gets a claim of its own`
          : `volume "${volume}" (claim ${claim}) is node-local volume ${found.volume}: the pod cannot start on another node and the data goes with this node's VM`,
      });
    } else if (found?.kind === "missing") {
      warnings.push({
        pod,
        message: ephemeral
          ? `generic ephemeral volume "${volume}": its claim ${claim} does not exist, so the pod has not mounted it and nothing of it is on this node`
          : `cannot tell whether claim ${claim} is on a node-local volume: the claim does not exist`,
      });
    } else if (found === undefined || found.kind === "unknown") {
      warnings.push({
        pod,
        message: `cannot tell whether claim ${claim} is on a node-local volume: ${found?.why ?? "not checked"}`,
      });
    }
  }
  return warnings;
}

function quoteList(names: readonly string[]): string {
  return names.map((name) => `"${name}"`).join(", ");
}
