import type { NodeSelectorTerm, VolumeClaimPlacement } from "../planning/snapshot.ts";
import { isNodeLocalVolume } from "./local-volumes.ts";
import { type PendingClaim, readNodeSelectorTerms } from "./pod-info.ts";
import { list, type Raw, record, string, stringList } from "./raw.ts";

/** A PersistentVolume, as far as placing the pods that mount it goes. */
export interface VolumeRecord {
  name: string;
  /** On one node's disk (`isNodeLocalVolume`): its pods cannot move. */
  local: boolean;
  /** `spec.nodeAffinity.required`: the nodes that can reach it. */
  nodeAffinity?: NodeSelectorTerm[];
  /**
   * `spec.csi.driver`, when it is a CSI volume with a volume handle: the driver whose count of
   * volumes per node (CSINode) it takes one of where its pods run.
   */
  csiDriver?: string;
}

/** A PersistentVolumeClaim: the volume it is bound to, or the StorageClass that would give one. */
export interface ClaimRecord {
  volume?: string;
  /** `spec.storageClassName`; absent or empty: no class. */
  storageClass?: string;
}

/** A StorageClass, as far as binding a claim goes. */
export interface StorageClassRecord {
  provisioner: string;
  /** `volumeBindingMode: WaitForFirstConsumer`: bound where its first pod is scheduled. */
  waitForFirstConsumer: boolean;
  /** `allowedTopologies`, as node selector terms: where its volumes can be made. */
  allowedTopologies?: NodeSelectorTerm[];
}

/** The provisioner name of StorageClasses whose volumes are made by hand (local volumes). */
const NO_PROVISIONER = "kubernetes.io/no-provisioner";

/** Reads a PersistentVolume. */
export function toVolumeRecord(raw: Raw): VolumeRecord {
  const spec = record(raw.spec);
  const volume: VolumeRecord = {
    name: string(record(raw.metadata).name) ?? "",
    local: isNodeLocalVolume(raw),
  };
  const affinity = readNodeSelectorTerms(
    record(record(spec.nodeAffinity).required).nodeSelectorTerms,
  );
  if (affinity) volume.nodeAffinity = affinity;
  // kube-scheduler counts a volume by its driver and handle, and one lacking either not at all.
  const csi = record(spec.csi);
  const driver = string(csi.driver);
  if (driver && string(csi.volumeHandle)) volume.csiDriver = driver;
  return volume;
}

/** `namespace/name` of a PVC → what it is bound to, or would be. */
export function toClaimRecord(raw: Raw): [key: string, claim: ClaimRecord] {
  const metadata = record(raw.metadata);
  const spec = record(raw.spec);
  const key = `${string(metadata.namespace) ?? ""}/${string(metadata.name) ?? ""}`;
  const claim: ClaimRecord = {};
  const volume = string(spec.volumeName);
  if (volume) claim.volume = volume;
  const storageClass = string(spec.storageClassName);
  if (storageClass) claim.storageClass = storageClass;
  return [key, claim];
}

/** Reads a storage.k8s.io/v1 StorageClass, by its name. */
export function toStorageClassRecord(raw: Raw): [name: string, storageClass: StorageClassRecord] {
  const terms = list(raw.allowedTopologies).flatMap((item) => {
    const expressions = list(record(item).matchLabelExpressions).map((entry) => ({
      key: string(record(entry).key) ?? "",
      operator: "In" as const,
      values: stringList(record(entry).values),
    }));
    return expressions.length > 0 ? [{ matchExpressions: expressions }] : [];
  });
  const storageClass: StorageClassRecord = {
    provisioner: string(raw.provisioner) ?? "",
    waitForFirstConsumer: raw.volumeBindingMode === "WaitForFirstConsumer",
  };
  if (terms.length > 0) storageClass.allowedTopologies = terms;
  return [string(record(raw.metadata).name) ?? "", storageClass];
}

/**
 * Sets each pod's `volumeClaims`: for each claim it mounts, the node affinity of the volume it
 * is bound to, or of the volume its StorageClass would make where the pod goes
 * (WaitForFirstConsumer), or what it waits for instead. `storageClasses` is undefined when they
 * could not be read: an unbound claim then waits on something unknown. A generic ephemeral
 * volume's bound claim also gets the claim a replacement pod would be given (`remade`).
 */
export function resolveClaimPlacements(
  pending: readonly PendingClaim[],
  claims: ReadonlyMap<string, ClaimRecord>,
  volumes: ReadonlyMap<string, VolumeRecord>,
  storageClasses: ReadonlyMap<string, StorageClassRecord> | undefined,
): void {
  for (const { pod, claim, ephemeral } of pending) {
    const found = claims.get(`${pod.namespace}/${claim}`);
    // A generic ephemeral volume's claim is made by its controller as soon as the pod is: one
    // not there yet is what the scheduler waits for, not a volume.
    const placement = found
      ? claimPlacement(claim, found, volumes, storageClasses)
      : ephemeral
        ? {
            ...waiting(claim, "the ephemeral volume controller has not made it yet"),
            unmade: true as const,
          }
        : waiting(claim, "it does not exist");
    if (ephemeral && found && placement.state === "bound") {
      const remade = claimPlacement(
        claim,
        found.storageClass === undefined ? {} : { storageClass: found.storageClass },
        volumes,
        storageClasses,
      );
      // Only a class that makes the volume where the pod goes says where the new one would be:
      // one that binds at once puts it where its provisioner does, which the volume there now
      // tells best.
      if (remade.state === "provisioned") placement.remade = remade;
    }
    // Replaced, not pushed to: the list is the pod's own once made.
    pod.volumeClaims = [...(pod.volumeClaims ?? []), placement];
  }
}

function claimPlacement(
  name: string,
  claim: ClaimRecord,
  volumes: ReadonlyMap<string, VolumeRecord>,
  storageClasses: ReadonlyMap<string, StorageClassRecord> | undefined,
): VolumeClaimPlacement {
  if (claim.volume !== undefined) {
    const volume = volumes.get(claim.volume);
    if (!volume)
      return waiting(name, `it is bound to PersistentVolume ${claim.volume}, which does not exist`);
    const bound = withAffinity({ claim: name, state: "bound" }, volume.nodeAffinity);
    return volume.csiDriver
      ? { ...bound, csi: { driver: volume.csiDriver, volume: volume.name } }
      : bound;
  }
  const className = claim.storageClass;
  if (className === undefined)
    return waiting(
      name,
      "it is not bound and names no StorageClass: it waits for a volume to bind",
    );
  if (!storageClasses)
    return waiting(name, `it is not bound, and StorageClass ${className} could not be read`);
  const storageClass = storageClasses.get(className);
  if (!storageClass)
    return waiting(name, `it is not bound, and StorageClass ${className} does not exist`);
  if (!storageClass.waitForFirstConsumer)
    return waiting(name, `it waits to be bound (StorageClass ${className} binds at once)`);
  if (storageClass.provisioner === NO_PROVISIONER)
    return waiting(
      name,
      `it waits for a PersistentVolume made by hand (StorageClass ${className} has no provisioner)`,
    );
  // kube-scheduler counts a volume still to be made against the provisioner's CSI driver.
  const placement = withAffinity(
    { claim: name, state: "provisioned" },
    storageClass.allowedTopologies,
  );
  return { ...placement, csi: { driver: storageClass.provisioner, volume: name } };
}

function withAffinity(
  placement: VolumeClaimPlacement,
  terms: NodeSelectorTerm[] | undefined,
): VolumeClaimPlacement {
  return terms ? { ...placement, nodeAffinity: terms } : placement;
}

function waiting(claim: string, why: string): VolumeClaimPlacement {
  return { claim, state: "waiting", why };
}
