import {
  apiGroup,
  doNotDisruptAnnotation,
  evictableLocalVolumes,
  goDurationMs,
  memoryBacked,
  mirrorAnnotation,
  readyCondition,
  safeToEvictAnnotation,
} from "../cluster/pod-info.ts";
import { count, list, type Raw, record, string, stringList, stringMap } from "../cluster/raw.ts";

/** What draining needs to know about one pod on the node. */
export interface DrainPod {
  namespace: string;
  name: string;
  /** Tells an evicted pod from a new pod of the same name (a StatefulSet's replacement). */
  uid: string;
  phase: string;
  /** The Ready condition: absent when the pod has none. */
  ready?: boolean;
  labels: Record<string, string>;
  /** The owner reference marked `controller: true`: who recreates the pod elsewhere. */
  controller?: { kind: string; name: string; group?: string };
  /** A static pod's API copy: the kubelet runs it from a file, evicting it does nothing. */
  mirror: boolean;
  /** `cluster-autoscaler.kubernetes.io/safe-to-evict`, when set. */
  safeToEvict?: string;
  /**
   * `karpenter.sh/do-not-disrupt` holds when the pod is read, as Karpenter reads it: `"true"`, or
   * a duration that has not run out since the pod started (or whose start is not known).
   */
  doNotDisrupt: boolean;
  /** When a `do-not-disrupt` duration that holds runs out (ISO 8601). */
  doNotDisruptUntil?: string;
  /**
   * Names of emptyDir volumes on disk: their data is deleted with the pod. A memory-backed one
   * (`medium: Memory`) is scratch in RAM, not local storage, as the planner and
   * cluster-autoscaler count it: it is not listed.
   */
  emptyDirs: string[];
  /** Volumes `cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes` lists. */
  evictableLocalVolumes: string[];
  /** Names of hostPath volumes: their data stays on the node. */
  hostPaths: string[];
  /**
   * Volumes backed by a PersistentVolumeClaim, generic ephemeral volumes included (`ephemeral`:
   * their claim is the pod's, deleted with it, and the pod made in its place gets its own).
   */
  claims: { volume: string; claim: string; ephemeral?: true }[];
  /** Set when the pod is already being deleted. */
  deletionTimestamp?: string;
  /** `metadata.finalizers`: a pod being deleted stays in the API until each is removed. */
  finalizers: string[];
  /** The grace period its deletion gave it (`metadata.deletionGracePeriodSeconds`). */
  deletionGracePeriodSeconds?: number;
  /** `spec.terminationGracePeriodSeconds`, when set. */
  terminationGracePeriodSeconds?: number;
}

/** `namespace/name`, the pod's name in messages and maps. */
export function podKey(pod: { namespace: string; name: string }): string {
  return `${pod.namespace}/${pod.name}`;
}

/** Translates a core/v1 Pod into the fields draining uses, as they stand at `now`. */
export function toDrainPod(raw: Raw, now: Date = new Date()): DrainPod {
  const metadata = record(raw.metadata);
  const annotations = record(metadata.annotations);
  const name = string(metadata.name) ?? "";
  const pod: DrainPod = {
    namespace: string(metadata.namespace) ?? "",
    name,
    uid: string(metadata.uid) ?? "",
    phase: string(record(raw.status).phase) ?? "Unknown",
    labels: stringMap(metadata.labels),
    mirror: typeof annotations[mirrorAnnotation] === "string",
    doNotDisrupt: false,
    emptyDirs: [],
    evictableLocalVolumes: [...evictableLocalVolumes(annotations)],
    hostPaths: [],
    claims: [],
    finalizers: stringList(metadata.finalizers),
  };
  readDoNotDisrupt(annotations[doNotDisruptAnnotation], record(raw.status).startTime, now, pod);
  const ready = readyCondition(record(raw.status));
  if (ready !== undefined) pod.ready = ready;
  const controller = controllerOf(metadata);
  if (controller) pod.controller = controller;
  const safeToEvict = string(annotations[safeToEvictAnnotation]);
  if (safeToEvict !== undefined) pod.safeToEvict = safeToEvict;
  const deletion = string(metadata.deletionTimestamp);
  if (deletion) pod.deletionTimestamp = deletion;
  const deletionGrace = count(metadata.deletionGracePeriodSeconds);
  if (deletionGrace !== undefined) pod.deletionGracePeriodSeconds = deletionGrace;
  const terminationGrace = count(record(raw.spec).terminationGracePeriodSeconds);
  if (terminationGrace !== undefined) pod.terminationGracePeriodSeconds = terminationGrace;
  readVolumes(record(raw.spec).volumes, pod);
  return pod;
}

/** Only a `controller: true` reference counts, as for kubectl: other owners recreate nothing. */
function controllerOf(metadata: Raw): DrainPod["controller"] {
  for (const item of list(metadata.ownerReferences)) {
    const reference = record(item);
    if (reference.controller !== true) continue;
    const kind = string(reference.kind);
    const name = string(reference.name);
    if (!kind || !name) continue;
    // The API group of its apiVersion (`batch` of `batch/v1`); none for the core group's `v1`.
    const group = apiGroup(string(reference.apiVersion));
    return group ? { kind, name, group } : { kind, name };
  }
  return undefined;
}

/**
 * `karpenter.sh/do-not-disrupt` at `now`, as the planner and Karpenter read it: `"true"` for good,
 * a positive Go duration for that long after the pod started (for good while its start is not
 * known), any other value as no annotation.
 */
function readDoNotDisrupt(value: unknown, startTime: unknown, now: Date, pod: DrainPod): void {
  if (value === "true") {
    pod.doNotDisrupt = true;
    return;
  }
  const ms = typeof value === "string" ? goDurationMs(value) : undefined;
  if (ms === undefined || ms <= 0) return;
  const started = typeof startTime === "string" ? Date.parse(startTime) : Number.NaN;
  if (Number.isNaN(started)) {
    pod.doNotDisrupt = true;
    return;
  }
  if (now.getTime() >= started + ms) return;
  pod.doNotDisrupt = true;
  pod.doNotDisruptUntil = new Date(started + ms).toISOString();
}

function readVolumes(value: unknown, pod: DrainPod): void {
  for (const item of list(value)) {
    const volume = record(item);
    const name = string(volume.name) ?? "";
    if (volume.emptyDir !== undefined) {
      if (!memoryBacked(volume.emptyDir)) pod.emptyDirs.push(name);
    } else if (volume.hostPath !== undefined) pod.hostPaths.push(name);
    else if (volume.persistentVolumeClaim !== undefined) {
      const claim = string(record(volume.persistentVolumeClaim).claimName);
      if (claim) pod.claims.push({ volume: name, claim });
    } else if (volume.ephemeral !== undefined) {
      // A generic ephemeral volume's claim is named after the pod and the volume.
      pod.claims.push({ volume: name, claim: `${pod.name}-${name}`, ephemeral: true });
    }
  }
}
