import { describe, expect, it } from "@jest/globals";
import { type Bin, packPendingPods } from "../../src/planning/packing.ts";
import type { PodInfo, VolumeClaimPlacement } from "../../src/planning/snapshot.ts";
import { volumeLimitReached, volumeWait } from "../../src/planning/volume-wait.ts";
import { pendingPod, pod } from "../support/snapshot-builder.ts";

const GI = 2 ** 30;

function waiting(key: string, message: string): PodInfo {
  return { ...pendingPod(key, { cpu: "1", memory: "1Gi" }), unschedulable: { message } };
}

/** One existing node with 4 cpu and 8 GiB free. */
function oneNode(): Bin[] {
  return [
    {
      name: "worker-1",
      traits: { name: "worker-1", labels: {}, taints: [] },
      room: { cpu: 4000, memory: 8 * GI, pods: 100, extended: {} },
    },
  ];
}

/** A new node: 4 cpu, 16 GiB. */
const TEMPLATE = {
  traits: { labels: {}, taints: [] },
  room: { cpu: 4000, memory: 16 * GI, pods: 110, extended: {} },
};

const unbound = waiting(
  "media/tdarr-0",
  "0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
);
const conflict = waiting(
  "media/sonarr-0",
  "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) had volume node affinity conflict. preemption: 0/4 nodes are available: 1 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.",
);

describe("volumeWait", () => {
  it("names the volume cause in the scheduler's message", () => {
    expect(volumeWait(unbound)).toEqual({
      scheduler: "pod has unbound immediate PersistentVolumeClaims",
    });
    expect(volumeWait(conflict)).toEqual({
      scheduler: "node(s) had volume node affinity conflict",
    });
    expect(
      volumeWait(
        waiting("a/b", '0/3 nodes are available: persistentvolumeclaim "data-b" not found.'),
      ),
    ).toEqual({ scheduler: 'persistentvolumeclaim "data-b" not found' });
  });

  it("judges a pod the scheduler has not tried by whether a claim of its waits", () => {
    const untried = (...volumeClaims: VolumeClaimPlacement[]): PodInfo => ({
      ...pod("a/b", { cpu: "1" }),
      volumeClaims,
    });
    expect(
      volumeWait(untried({ claim: "data", state: "waiting", why: "it does not exist" })),
    ).toEqual({});
    expect(
      volumeWait(
        untried({ claim: "data", state: "bound" }, { claim: "tmp", state: "provisioned" }),
      ),
    ).toBeUndefined();
    expect(volumeWait(pod("a/b", { cpu: "1" }))).toBeUndefined();
    // Gated, the pod waits on its gates: the scheduler has not judged its volumes either.
    expect(
      volumeWait({
        ...untried({ claim: "data", state: "waiting" }),
        schedulingGates: ["example.com/quota"],
      }),
    ).toBeUndefined();
  });

  it("leaves pods short of room, and the preemption part of a message, alone", () => {
    expect(volumeWait(pendingPod("a/b"))).toBeUndefined();
    expect(
      volumeWait(
        waiting(
          "a/b",
          "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 node(s) had volume node affinity conflict.",
        ),
      ),
    ).toBeUndefined();
  });
});

describe("packPendingPods with pods waiting on volumes", () => {
  it("places them nowhere, adds no node for them, and says why", () => {
    const existing = oneNode();
    const result = packPendingPods([unbound, conflict], existing, TEMPLATE, 5);
    expect(result.onExisting).toEqual([]);
    expect(result.neededNewNodes).toBe(0);
    expect(result.claimed.size).toBe(0);
    expect(result.neverFit.map((pod) => [pod.pod, pod.reason, pod.volume])).toEqual([
      ["media/sonarr-0", "volumes", "node(s) had volume node affinity conflict"],
      ["media/tdarr-0", "volumes", "pod has unbound immediate PersistentVolumeClaims"],
    ]);
    expect(existing[0]?.room.cpu).toBe(4000);
  });
});

describe("packPendingPods with pods whose volumes want a node in their reach", () => {
  const zone = (name: string) => [
    {
      matchExpressions: [
        { key: "topology.kubernetes.io/zone", operator: "In" as const, values: [name] },
      ],
    },
  ];
  /** A new node that joins zone pve-2, as every node of its pool does. */
  const inZone2 = {
    ...TEMPLATE,
    traits: { labels: { "topology.kubernetes.io/zone": "pve-2" }, taints: [] },
  };
  /** The one existing node, in zone pve-1. */
  const zone1 = () => {
    const [bin] = oneNode() as [Bin];
    return [
      { ...bin, traits: { ...bin.traits, labels: { "topology.kubernetes.io/zone": "pve-1" } } },
    ];
  };
  const bound = (key: string, volumeZone: string): PodInfo => ({
    ...waiting(key, conflict.unschedulable?.message ?? ""),
    volumeClaims: [
      { claim: `data-${key.split("/")[1]}`, state: "bound", nodeAffinity: zone(volumeZone) },
    ],
  });

  it("goes on a new node whose zone its bound volume's node affinity admits", () => {
    const bins = zone1();
    const result = packPendingPods([bound("media/sonarr-0", "pve-2")], bins, inZone2, 5);
    expect(result.onExisting).toEqual([]);
    expect(result.onNew).toEqual([
      expect.objectContaining({ pod: "media/sonarr-0", node: "new-1" }),
    ]);
    expect(bins[0]?.room.cpu).toBe(4000);
  });

  it("goes where there is room in its volume's zone, and never fits a new node in another", () => {
    const result = packPendingPods(
      [bound("media/sonarr-0", "pve-1"), bound("media/radarr-0", "pve-3")],
      zone1(),
      inZone2,
      5,
    );
    expect(result.onExisting.map((pod) => [pod.pod, pod.node])).toEqual([
      ["media/sonarr-0", "worker-1"],
    ]);
    expect(result.neededNewNodes).toBe(0);
    expect(result.neverFit).toEqual([
      expect.objectContaining({
        pod: "media/radarr-0",
        reason: "volume-node-affinity",
        claims: [{ claim: "data-radarr-0" }],
      }),
    ]);
  });

  it("goes on a new node its StorageClass's allowed topologies admit, for a claim made there", () => {
    const firstConsumer = waiting(
      "db/postgres-0",
      "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 node(s) didn't find available persistent volumes to bind. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
    );
    firstConsumer.volumeClaims = [
      { claim: "data-postgres-0", state: "provisioned", nodeAffinity: zone("pve-2") },
    ];
    const result = packPendingPods([firstConsumer], zone1(), inZone2, 5);
    expect(result.onNew.map((pod) => pod.pod)).toEqual(["db/postgres-0"]);
  });

  it("stays never fitting when a claim waits on what a node does not change, or is not known", () => {
    const madeByHand: PodInfo = {
      ...bound("media/sonarr-0", "pve-2"),
      volumeClaims: [
        { claim: "config-sonarr-0", state: "bound", nodeAffinity: zone("pve-2") },
        {
          claim: "media-sonarr-0",
          state: "waiting",
          why: "it waits for a PersistentVolume made by hand (StorageClass local-storage has no provisioner)",
        },
      ],
    };
    // Saved before claims were read: what the volume asks of a node is not known.
    const { volumeClaims: _, ...older } = bound("media/radarr-0", "pve-2");
    const result = packPendingPods([madeByHand, older], zone1(), inZone2, 5);
    expect(result.neededNewNodes).toBe(0);
    expect(result.neverFit).toEqual([
      expect.objectContaining({
        pod: "media/radarr-0",
        reason: "volumes",
        volume: "node(s) had volume node affinity conflict",
      }),
      expect.objectContaining({
        pod: "media/sonarr-0",
        reason: "volumes",
        claims: [
          {
            claim: "media-sonarr-0",
            why: "it waits for a PersistentVolume made by hand (StorageClass local-storage has no provisioner)",
          },
        ],
      }),
    ]);
  });

  it("stays never fitting when the scheduler names a cause a node's labels do not decide too", () => {
    const both = bound("media/sonarr-0", "pve-2");
    both.unschedulable = {
      message:
        "0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims, 3 node(s) had volume node affinity conflict.",
    };
    const result = packPendingPods([both], zone1(), inZone2, 5);
    expect(result.neverFit.map((pod) => pod.reason)).toEqual(["volumes"]);
  });
});

describe("pods at their nodes' limit of attached volumes", () => {
  const atLimit = waiting(
    "media/radarr-0",
    "0/3 nodes are available: 3 node(s) exceed max volume count. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
  );

  it("are told from the scheduler's message, the preemption part left out", () => {
    expect(volumeLimitReached(atLimit)).toBe(true);
    expect(volumeLimitReached(unbound)).toBe(false);
    expect(
      volumeLimitReached(
        waiting(
          "a/b",
          "0/3 nodes are available: 3 Insufficient cpu. preemption: 3 node(s) exceed max volume count.",
        ),
      ),
    ).toBe(false);
  });

  it("go on a new node, which has nothing attached, even where an existing node has room", () => {
    const bins = oneNode();
    const result = packPendingPods([atLimit], bins, TEMPLATE, 5);
    expect(result.onExisting).toEqual([]);
    expect(result.onNew).toEqual([
      expect.objectContaining({ pod: "media/radarr-0", node: "new-1" }),
    ]);
    expect(bins[0]?.room.cpu).toBe(4000);
  });

  it("leave room on existing nodes to pods that only lacked room", () => {
    const short = waiting("media/sonarr-1", "0/3 nodes are available: 3 Insufficient cpu.");
    const result = packPendingPods([atLimit, short], oneNode(), TEMPLATE, 5);
    expect(result.onExisting.map((pod) => pod.pod)).toEqual(["media/sonarr-1"]);
    expect(result.onNew.map((pod) => pod.pod)).toEqual(["media/radarr-0"]);
  });
});
