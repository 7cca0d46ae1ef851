import { describe, expect, it } from "@jest/globals";
import { indexCluster } from "../../src/planning/cluster-index.ts";
import { keptOffText } from "../../src/planning/explain-node-decision.ts";
import { modelNodes } from "../../src/planning/node-shape.ts";
import { type Bin, packPendingPods } from "../../src/planning/packing.ts";
import { peerRules } from "../../src/planning/peer-rules.ts";
import type { PodInfo } from "../../src/planning/snapshot.ts";
import type { PeerBin } from "../../src/planning/topology-domain.ts";
import {
  newNodeVolumeLimits,
  placeVolumes,
  volumeLimitConflict,
  volumeLimitPlacement,
  volumeLimitsExceeded,
  volumeLimitsUnknown,
} from "../../src/planning/volume-limits.ts";
import { buildSnapshot, node, pod } from "../support/snapshot-builder.ts";

const PROXMOX = "csi.proxmox.sinextra.dev";
const NFS = "nfs.csi.k8s.io";

/** A pod on `at` (or pending) using the CSI volumes named, as `driver/volume`. */
function using(key: string, at: string | undefined, volumes: string[]): PodInfo {
  return {
    ...pod(key, at ? { node: at } : {}),
    volumeClaims: volumes.map((entry, index) => {
      const [driver, volume] = entry.split("/") as [string, string];
      return { claim: `data-${index}`, state: "bound" as const, csi: { driver, volume } };
    }),
  };
}

function bin(name: string): PeerBin {
  return { name, traits: { name, labels: {} } };
}

/** worker-1 and worker-2, with `pods` on them. */
function indexOf(pods: PodInfo[]) {
  return indexCluster(buildSnapshot({ nodes: [node("worker-1"), node("worker-2")], pods }));
}

describe("volumeLimitConflict", () => {
  it("refuses a node where the pod's new volumes take its count for their driver above the CSINode's", () => {
    const index = indexOf([using("db/a", "worker-1", [`${PROXMOX}/pv-a`, `${PROXMOX}/pv-b`])]);
    const moving = using("db/c", "worker-3", [`${PROXMOX}/pv-c`]);
    const placement = volumeLimitPlacement(
      index,
      { "worker-1": { [PROXMOX]: 2 }, "worker-2": { [PROXMOX]: 3 } },
      [moving],
    );
    if (!placement) throw new Error("a moving pod uses a CSI volume");
    expect(volumeLimitConflict(placement, moving, bin("worker-1"))).toBe("volume-limit");
    expect(volumeLimitsExceeded(placement, moving, bin("worker-1"))).toEqual([
      { driver: PROXMOX, limit: 2 },
    ]);
    expect(volumeLimitConflict(placement, moving, bin("worker-2"))).toBeUndefined();
  });

  it("counts a volume in use there, or used twice, once, and a driver without a count not at all", () => {
    // Two pods on worker-1 share pv-a: one volume of the two it may attach.
    const index = indexOf([
      using("db/a", "worker-1", [`${PROXMOX}/pv-a`]),
      using("db/b", "worker-1", [`${PROXMOX}/pv-a`, `${NFS}/share`]),
    ]);
    const sharing = using("db/c", "worker-3", [`${PROXMOX}/pv-a`, `${PROXMOX}/pv-d`]);
    const twice = using("db/d", "worker-3", [`${PROXMOX}/pv-e`, `${PROXMOX}/pv-e`]);
    const nfs = using("db/e", "worker-3", [`${NFS}/other`, `${NFS}/third`]);
    const placement = volumeLimitPlacement(index, { "worker-1": { [PROXMOX]: 2 } }, [
      sharing,
      twice,
      nfs,
    ]);
    if (!placement) throw new Error("the moving pods use CSI volumes");
    expect(volumeLimitConflict(placement, sharing, bin("worker-1"))).toBeUndefined();
    expect(volumeLimitConflict(placement, twice, bin("worker-1"))).toBeUndefined();
    expect(volumeLimitConflict(placement, nfs, bin("worker-1"))).toBeUndefined();
    // Once `sharing` is placed there, pv-d takes the second slot: pv-e finds none.
    placeVolumes(placement, sharing, bin("worker-1"));
    expect(volumeLimitConflict(placement, twice, bin("worker-1"))).toBe("volume-limit");
    // A node without a CSINode count takes any number.
    expect(volumeLimitConflict(placement, twice, bin("worker-2"))).toBeUndefined();
  });

  it("tells a volume still to be made by its claim, in the pod's namespace", () => {
    const provisioned = (key: string, claim: string): PodInfo => ({
      ...pod(key, {}),
      volumeClaims: [{ claim, state: "provisioned", csi: { driver: PROXMOX, volume: claim } }],
    });
    const first = provisioned("db/a", "data");
    const sameClaim = provisioned("db/b", "data");
    const otherNamespace = provisioned("web/c", "data");
    const placement = volumeLimitPlacement(indexOf([]), { "worker-1": { [PROXMOX]: 1 } }, [
      first,
      sameClaim,
      otherNamespace,
    ]);
    if (!placement) throw new Error("the moving pods use CSI volumes");
    expect(volumeLimitConflict(placement, first, bin("worker-1"))).toBeUndefined();
    placeVolumes(placement, first, bin("worker-1"));
    expect(volumeLimitConflict(placement, sameClaim, bin("worker-1"))).toBeUndefined();
    expect(volumeLimitConflict(placement, otherNamespace, bin("worker-1"))).toBe("volume-limit");
  });

  it("does not count the volumes of the pods that move off the node", () => {
    const leaving = using("db/a", "worker-1", [`${PROXMOX}/pv-a`]);
    const index = indexOf([leaving]);
    const coming = using("db/b", undefined, [`${PROXMOX}/pv-b`]);
    const placement = volumeLimitPlacement(index, { "worker-1": { [PROXMOX]: 1 } }, [
      leaving,
      coming,
    ]);
    if (!placement) throw new Error("the moving pods use CSI volumes");
    expect(volumeLimitConflict(placement, coming, bin("worker-1"))).toBeUndefined();
  });

  it("says the fit of a pod with CSI volumes is unknown when the CSINodes were not read, and of no other", () => {
    const index = indexOf([]);
    const withVolume = using("db/a", "worker-3", [`${PROXMOX}/pv-a`]);
    const without = pod("web/b", { node: "worker-3" });
    const placement = volumeLimitPlacement(index, "unknown", [withVolume, without]);
    if (!placement) throw new Error("a moving pod uses a CSI volume");
    expect(volumeLimitsUnknown(placement, withVolume)).toBe(true);
    expect(volumeLimitConflict(placement, withVolume, bin("worker-1"))).toBe(
      "volume-limits-unknown",
    );
    expect(volumeLimitsUnknown(placement, without)).toBe(false);
    expect(volumeLimitConflict(placement, without, bin("worker-1"))).toBeUndefined();
  });

  it("is not needed when no moving pod uses a CSI volume, or the snapshot predates the counts", () => {
    const index = indexOf([]);
    const withVolume = using("db/a", "worker-3", [`${PROXMOX}/pv-a`]);
    expect(volumeLimitPlacement(index, {}, [pod("web/b", { node: "worker-3" })])).toBeUndefined();
    expect(volumeLimitPlacement(index, undefined, [withVolume])).toBeUndefined();
  });
});

describe("pending pods and the CSI volumes existing nodes can attach", () => {
  const GI = 2 ** 30;
  const room = () => ({ cpu: 4000, memory: 8 * GI, pods: 100, extended: {} });
  const bins = (): Bin[] =>
    ["worker-1", "worker-2"].map((name) => ({
      name,
      traits: { name, labels: {}, taints: [] },
      room: room(),
    }));
  const template = { traits: { labels: {}, taints: [] }, room: room() };

  it("puts a pod with a bound CSI volume on a new node when the nodes with room are at their count", () => {
    const pods = [
      using("db/a", "worker-1", [`${PROXMOX}/pv-a`]),
      using("db/b", "worker-2", [`${PROXMOX}/pv-b`]),
    ];
    const pending = using("db/c", undefined, [`${PROXMOX}/pv-c`]);
    const limits = { "worker-1": { [PROXMOX]: 1 }, "worker-2": { [PROXMOX]: 1 } };
    const packed = packPendingPods(
      [pending],
      bins(),
      template,
      1,
      peerRules(indexOf(pods), [pending], [], limits),
    );
    expect(packed.onExisting).toEqual([]);
    expect(packed.onNew.map((entry) => entry.node)).toEqual(["new-1"]);
    const kept = packed.onNew[0]?.keptOff;
    if (!kept) throw new Error("the existing nodes were judged");
    expect(keptOffText(kept)).toBe(
      "existing nodes: worker-1 and 1 more have room but the node's count of CSI volumes keeps it off",
    );
    // With a slot free on worker-2, it goes there.
    const roomier = { ...limits, "worker-2": { [PROXMOX]: 2 } };
    const placed = packPendingPods(
      [pending],
      bins(),
      template,
      1,
      peerRules(indexOf(pods), [pending], [], roomier),
    );
    expect(placed.onExisting.map((entry) => entry.node)).toEqual(["worker-2"]);
  });
});

describe("newNodeVolumeLimits", () => {
  const limits = {
    "worker-1": { [PROXMOX]: 24 },
    "worker-2": { [PROXMOX]: 8, [NFS]: 100 },
    "worker-3": { [PROXMOX]: 2 },
  };

  it("takes, per driver, the least count of the nodes a new node is learned from", () => {
    const models = modelNodes([node("worker-1"), node("worker-2")]);
    expect(newNodeVolumeLimits(models, limits)).toEqual({ [PROXMOX]: 8, [NFS]: 100 });
  });

  it("leaves a node not Ready out while another is Ready, as the new node's shape does", () => {
    const models = modelNodes([node("worker-1"), node("worker-3", { ready: false })]);
    expect(newNodeVolumeLimits(models, limits)).toEqual({ [PROXMOX]: 24 });
  });

  it("sets no count without CSINode data for the pool's nodes, or with CSINodes unread", () => {
    expect(newNodeVolumeLimits([node("worker-4")], limits)).toBeUndefined();
    expect(newNodeVolumeLimits([node("worker-1")], "unknown")).toBeUndefined();
    expect(newNodeVolumeLimits([node("worker-1")], undefined)).toBeUndefined();
  });
});
