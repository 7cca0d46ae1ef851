import { describe, expect, it } from "@jest/globals";
import { isNodeLocalVolume } from "../../src/cluster/local-volumes.ts";

/**
 * PersistentVolumes as the provisioners write them: the node affinity keys are those each
 * project documents for the volumes it creates (TopoLVM, OpenEBS LocalPV LVM and ZFS, LVM
 * Storage, the CSI hostpath driver, local-path-provisioner).
 */
function csiVolume(driver: string, key: string, value = "talos-worker-2") {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: `pvc-${driver}` },
    spec: {
      capacity: { storage: "5Gi" },
      accessModes: ["ReadWriteOnce"],
      csi: { driver, volumeHandle: "vol-1" },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [{ matchExpressions: [{ key, operator: "In", values: [value] }] }],
        },
      },
    },
  };
}

describe("isNodeLocalVolume", () => {
  it.each([
    ["rancher.io/local-path", "kubernetes.io/hostname"],
    ["topolvm.io", "topology.topolvm.io/node"],
    ["topolvm.cybozu.com", "topology.topolvm.cybozu.com/node"],
    ["topolvm.io", "topology.lvms.io/node"],
    ["local.csi.openebs.io", "openebs.io/nodename"],
    ["zfs.csi.openebs.io", "openebs.io/nodeid"],
    ["hostpath.csi.k8s.io", "topology.hostpath.csi/node"],
  ])("sees a %s volume pinned by %s as node-local", (driver, key) => {
    expect(isNodeLocalVolume(csiVolume(driver, key))).toBe(true);
  });

  it.each([
    ["topology.kubernetes.io/zone", "rack-1"],
    ["topology.kubernetes.io/region", "home"],
    ["failure-domain.beta.kubernetes.io/zone", "rack-1"],
    ["topology.rook.io/rack", "rack-1"],
    ["example.com/nodes-pool", "general"],
  ])("does not see a volume pinned by %s as node-local", (key, value) => {
    expect(isNodeLocalVolume(csiVolume("csi.example.com", key, value))).toBe(false);
  });

  it("sees local and hostPath volumes as node-local, network volumes as not", () => {
    const local = { spec: { local: { path: "/var/mnt/a" } } };
    const hostPath = { spec: { hostPath: { path: "/var/lib/x" } } };
    const nfs = { spec: { nfs: { server: "192.0.2.10", path: "/export" } } };
    expect(isNodeLocalVolume(local)).toBe(true);
    expect(isNodeLocalVolume(hostPath)).toBe(true);
    expect(isNodeLocalVolume(nfs)).toBe(false);
  });

  it("sees a volume node-local when any of its terms names a node", () => {
    const volume = csiVolume("topolvm.io", "topology.kubernetes.io/zone", "rack-1");
    volume.spec.nodeAffinity.required.nodeSelectorTerms.push({
      matchExpressions: [{ key: "topology.topolvm.io/node", operator: "In", values: ["w-3"] }],
    });
    expect(isNodeLocalVolume(volume)).toBe(true);
  });
});
