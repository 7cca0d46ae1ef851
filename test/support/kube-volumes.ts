/**
 * Storage objects as a Proxmox cluster serves them: the StorageClass and volumes follow
 * sergelogvinov/proxmox-csi-plugin's `docs/proxmox-lvm.yaml` (commit
 * b0d4c16c11aa7398d5d4f4047c38790ccfa9dca6: provisioner csi.proxmox.sinextra.dev,
 * WaitForFirstConsumer) and the region and zone topology keys its volumes carry, with
 * `allowedTopologies` as a cluster spanning Proxmox hosts would set it.
 */
type Raw = Record<string, unknown>;

export const ZONE = "topology.kubernetes.io/zone";
export const REGION = "topology.kubernetes.io/region";

/** A StorageClass `name` with the fields given. */
export function storageClass(name: string, fields: Raw): Raw {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name },
    reclaimPolicy: "Delete",
    ...fields,
  };
}

/** The Proxmox CSI plugin's LVM class, making volumes on the hosts (zones) `zones` names. */
export function proxmoxLvm(zones: string[], extra: { key: string; values: string[] }[] = []): Raw {
  return storageClass("proxmox-lvm", {
    provisioner: "csi.proxmox.sinextra.dev",
    parameters: { "csi.storage.k8s.io/fstype": "xfs", storage: "lvm" },
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: true,
    allowedTopologies: [{ matchLabelExpressions: [...extra, { key: ZONE, values: zones }] }],
  });
}

/** A bound PersistentVolume `name` of 10 GiB, with `spec` besides (its source, class, node affinity). */
export function persistentVolume(name: string, spec: Raw): Raw {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: {
      accessModes: ["ReadWriteOnce"],
      capacity: { storage: "10Gi" },
      persistentVolumeReclaimPolicy: "Delete",
      ...spec,
    },
    status: { phase: "Bound" },
  };
}

/** A volume `name` the Proxmox CSI plugin made on `host`'s LVM, reachable where `terms` say. */
export function proxmoxVolume(name: string, host: string, terms: Raw[]): Raw {
  return persistentVolume(name, {
    csi: {
      driver: "csi.proxmox.sinextra.dev",
      fsType: "xfs",
      volumeHandle: `homelab/${host}/lvm/vm-9999-${name}`,
    },
    nodeAffinity: { required: { nodeSelectorTerms: terms } },
    storageClassName: "proxmox-lvm",
  });
}

/** A PersistentVolumeClaim `namespace/name` of 10 GiB, with `spec` besides. */
export function volumeClaim(namespace: string, name: string, spec: Raw): Raw {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } }, ...spec },
    status: { phase: spec.volumeName ? "Bound" : "Pending" },
  };
}

/**
 * A pod's volume `name` that is a generic ephemeral volume: a ReadWriteOnce claim of 5 GiB of
 * `storageClassName`, made for the pod as `<pod>-<name>` and gone with it.
 */
export function ephemeralVolume(name: string, storageClassName: string): Raw {
  return {
    name,
    ephemeral: {
      volumeClaimTemplate: {
        spec: {
          accessModes: ["ReadWriteOnce"],
          storageClassName,
          resources: { requests: { storage: "5Gi" } },
        },
      },
    },
  };
}
