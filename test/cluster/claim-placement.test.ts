/**
 * What a pod's claims ask of the node it runs on, read from a served cluster: the node affinity
 * of the PersistentVolume a claim is bound to, the allowed topologies of the StorageClass that
 * provisions an unbound WaitForFirstConsumer claim, or what else the claim waits for; and the
 * CSI driver of a bound claim's volume, with the CSINodes' counts of volumes each node can attach.
 *
 * The Proxmox storage objects are those of ../support/kube-volumes.ts (sources there).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { readSnapshot } from "../../src/cluster/read-snapshot.ts";
import type { PodInfo, Snapshot } from "../../src/planning/snapshot.ts";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";
import {
  proxmoxLvm,
  proxmoxVolume,
  REGION,
  storageClass,
  volumeClaim,
  ZONE,
} from "../support/kube-volumes.ts";

type Raw = Record<string, unknown>;

/** A volume the Proxmox CSI plugin made on host pve-2's LVM. */
const zonalVolume = proxmoxVolume("pvc-5b0e3c1a-7d2f-4e8b-9a61-0c3d2e1f4a5b", "pve-2", [
  {
    matchExpressions: [
      { key: REGION, operator: "In", values: ["homelab"] },
      { key: ZONE, operator: "In", values: ["pve-2"] },
    ],
  },
]);

function claim(name: string, spec: Raw): Raw {
  return volumeClaim("db", name, spec);
}

/** A Pending pod of StatefulSet `app` mounting `claims`. */
function pendingPod(name: string, claims: string[]): Raw {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "db",
      ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name, controller: true }],
    },
    spec: {
      containers: [{ name: "app", resources: { requests: { cpu: "500m", memory: "1Gi" } } }],
      volumes: claims.map((claimName) => ({
        name: claimName.split("-")[0],
        persistentVolumeClaim: { claimName },
      })),
    },
    status: {
      phase: "Pending",
      conditions: [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message:
            "0/1 nodes are available: 1 node(s) had volume node affinity conflict. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
        },
      ],
    },
  };
}

let fake: FakeKubeApiserver;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  fake = await FakeKubeApiserver.start();
  dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-claims-"));
  kubeconfig = await fake.writeKubeconfig(join(dir, "kubeconfig"));
  fake.add(
    {
      kind: "Node",
      metadata: { name: "talos-worker-1", labels: { [REGION]: "homelab", [ZONE]: "pve-1" } },
      status: {
        allocatable: { cpu: "4", memory: "16Gi", pods: "110" },
        conditions: [{ type: "Ready", status: "True" }],
      },
    },
    proxmoxLvm(["pve-2", "pve-3"], [{ key: REGION, values: ["homelab"] }]),
    storageClass("local-storage", {
      provisioner: "kubernetes.io/no-provisioner",
      volumeBindingMode: "WaitForFirstConsumer",
    }),
    storageClass("nfs", { provisioner: "nfs.csi.k8s.io", volumeBindingMode: "Immediate" }),
    zonalVolume,
    claim("data-postgres-0", { storageClassName: "proxmox-lvm", volumeName: nameOf(zonalVolume) }),
    claim("data-redis-0", { storageClassName: "proxmox-lvm" }),
    claim("scratch-redis-0", { storageClassName: "local-storage" }),
    claim("backup-redis-0", { storageClassName: "nfs" }),
    claim("spool-redis-0", { storageClassName: "" }),
    claim("wal-redis-0", { storageClassName: "proxmox-lvm", volumeName: "pvc-gone" }),
    pendingPod("postgres-0", ["data-postgres-0"]),
    // As the storage.k8s.io/v1 API reference gives a CSINode: the Proxmox plugin with a count,
    // a driver registered without one (any number), on talos-worker-1.
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "CSINode",
      metadata: { name: "talos-worker-1" },
      spec: {
        drivers: [
          {
            name: "csi.proxmox.sinextra.dev",
            nodeID: "talos-worker-1",
            allocatable: { count: 24 },
          },
          { name: "nfs.csi.k8s.io", nodeID: "talos-worker-1" },
        ],
      },
    },
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "CSINode",
      metadata: { name: "talos-cp-1" },
      spec: { drivers: [] },
    },
    pendingPod("redis-0", [
      "data-redis-0",
      "scratch-redis-0",
      "backup-redis-0",
      "spool-redis-0",
      "wal-redis-0",
      "cache-redis-0",
    ]),
  );
});

afterEach(() => {
  fake.clearFaults();
});

afterAll(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

function nameOf(object: Raw): string {
  return (object.metadata as { name: string }).name;
}

function read(): Promise<Snapshot> {
  return readSnapshot({ kubeconfig, env: {}, retryDelayMs: 0, limitYoungGeneration: false });
}

function claimsOf(snapshot: Snapshot, name: string): PodInfo["volumeClaims"] {
  return snapshot.pods.find((pod) => pod.name === name)?.volumeClaims;
}

const zones = (values: string[]) => ({ key: ZONE, operator: "In", values });
const homelab = { key: REGION, operator: "In", values: ["homelab"] };

describe("what a pod's claims ask of its node", () => {
  it("gives a bound claim its volume's node affinity and CSI driver", async () => {
    const snapshot = await read();
    expect(snapshot.complete).toBe(true);
    expect(claimsOf(snapshot, "postgres-0")).toEqual([
      {
        claim: "data-postgres-0",
        state: "bound",
        nodeAffinity: [{ matchExpressions: [homelab, zones(["pve-2"])] }],
        csi: { driver: "csi.proxmox.sinextra.dev", volume: nameOf(zonalVolume) },
      },
    ]);
  });

  it("keeps each node's count of CSI volumes per driver, leaving out drivers without one", async () => {
    const snapshot = await read();
    expect(snapshot.csiVolumeLimits).toEqual({
      "talos-worker-1": { "csi.proxmox.sinextra.dev": 24 },
    });
  });

  it("says the counts are unknown when CSINodes cannot be listed while a pod uses a CSI volume", async () => {
    fake.injectFault({ path: "/apis/storage.k8s.io/v1/csinodes", status: 403 });
    const snapshot = await read();
    expect(snapshot.complete).toBe(true);
    expect(snapshot.csiVolumeLimits).toBe("unknown");
    expect(snapshot.warnings).toContainEqual({
      code: "csinodes-unknown",
      subject: "csinodes",
      message: expect.stringContaining(
        "the account needs \"list\" on csinodes.storage.k8s.io; check with kubectl auth can-i list csinodes.storage.k8s.io); how many CSI volumes a node can attach is unknown, and so is where the pods that use them fit once a node is removed (pending pods are otherwise judged by the scheduler's message: one it found at its nodes' limit of volumes goes on a new node)",
      ),
    });
  });

  it("gives an unbound claim its StorageClass's allowed topologies, or what it waits for", async () => {
    const snapshot = await read();
    expect(claimsOf(snapshot, "redis-0")).toEqual([
      {
        claim: "data-redis-0",
        state: "provisioned",
        nodeAffinity: [{ matchExpressions: [homelab, zones(["pve-2", "pve-3"])] }],
        // The volume to be made counts against the provisioner's CSI driver, as the scheduler has it.
        csi: { driver: "csi.proxmox.sinextra.dev", volume: "data-redis-0" },
      },
      {
        claim: "scratch-redis-0",
        state: "waiting",
        why: "it waits for a PersistentVolume made by hand (StorageClass local-storage has no provisioner)",
      },
      {
        claim: "backup-redis-0",
        state: "waiting",
        why: "it waits to be bound (StorageClass nfs binds at once)",
      },
      {
        claim: "spool-redis-0",
        state: "waiting",
        why: "it is not bound and names no StorageClass: it waits for a volume to bind",
      },
      {
        claim: "wal-redis-0",
        state: "waiting",
        why: "it is bound to PersistentVolume pvc-gone, which does not exist",
      },
      { claim: "cache-redis-0", state: "waiting", why: "it does not exist" },
    ]);
  });

  it("gives a generic ephemeral volume's bound claim the one a replacement pod would get, where its class makes it", async () => {
    // The claim of an ephemeral volume is named after its pod and volume, and owned by the pod:
    // deleted with it, it ties the pod made in its place to no node. A class that binds at once
    // says nothing of where the new volume would be, so the volume there now stands for it.
    const scratch = proxmoxVolume("pvc-2c4e6a8b", "pve-2", [
      { matchExpressions: [zones(["pve-2"])] },
    ]);
    const spool = { ...zonalVolume, metadata: { name: "pvc-9d7b5f3e" } };
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "ingest-6c9f7d8b5-x2kqp",
        namespace: "db",
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "ReplicaSet", name: "ingest-6c9f7d8b5", controller: true },
        ],
      },
      spec: {
        nodeName: "talos-worker-1",
        containers: [{ name: "app", resources: { requests: { cpu: "100m", memory: "128Mi" } } }],
        volumes: ["scratch", "spool"].map((name) => ({
          name,
          ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"] } } },
        })),
      },
      status: { phase: "Running" },
    };
    fake.add(
      scratch,
      spool,
      claim("ingest-6c9f7d8b5-x2kqp-scratch", {
        storageClassName: "proxmox-lvm",
        volumeName: "pvc-2c4e6a8b",
      }),
      claim("ingest-6c9f7d8b5-x2kqp-spool", {
        storageClassName: "nfs",
        volumeName: "pvc-9d7b5f3e",
      }),
      pod,
    );
    try {
      const [first, second] = claimsOf(await read(), "ingest-6c9f7d8b5-x2kqp") ?? [];
      expect(first).toMatchObject({
        claim: "ingest-6c9f7d8b5-x2kqp-scratch",
        state: "bound",
        nodeAffinity: [{ matchExpressions: [zones(["pve-2"])] }],
        remade: {
          claim: "ingest-6c9f7d8b5-x2kqp-scratch",
          state: "provisioned",
          nodeAffinity: [{ matchExpressions: [homelab, zones(["pve-2", "pve-3"])] }],
        },
      });
      expect(second).toMatchObject({ claim: "ingest-6c9f7d8b5-x2kqp-spool", state: "bound" });
      expect(second).not.toHaveProperty("remade");
      // A claim a pod names itself is its volume's for good: no other is made in its place.
      expect(claimsOf(await read(), "postgres-0")?.[0]).not.toHaveProperty("remade");
    } finally {
      fake.remove("pods", "ingest-6c9f7d8b5-x2kqp", "db");
      for (const name of ["scratch", "spool"])
        fake.remove("persistentvolumeclaims", `ingest-6c9f7d8b5-x2kqp-${name}`, "db");
      for (const name of ["pvc-2c4e6a8b", "pvc-9d7b5f3e"]) fake.remove("persistentvolumes", name);
    }
  });

  it("marks a generic ephemeral volume's claim its controller has not made yet, not as missing", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "runner-7d5c9b8f6-q4m2z", namespace: "db" },
      spec: {
        containers: [{ name: "app", resources: { requests: { cpu: "100m", memory: "128Mi" } } }],
        volumes: [
          {
            name: "work",
            ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"] } } },
          },
          { name: "cache", persistentVolumeClaim: { claimName: "cache-runner" } },
        ],
      },
      status: { phase: "Pending" },
    };
    fake.add(pod);
    try {
      expect(claimsOf(await read(), "runner-7d5c9b8f6-q4m2z")).toEqual([
        {
          claim: "runner-7d5c9b8f6-q4m2z-work",
          state: "waiting",
          why: "the ephemeral volume controller has not made it yet",
          unmade: true,
        },
        { claim: "cache-runner", state: "waiting", why: "it does not exist" },
      ]);
    } finally {
      fake.remove("pods", "runner-7d5c9b8f6-q4m2z", "db");
    }
  });

  it("leaves an unbound claim waiting on what is unknown when StorageClasses cannot be read", async () => {
    fake.injectFault({ path: "/apis/storage.k8s.io/v1/storageclasses", status: 403 });
    const snapshot = await read();
    expect(snapshot.complete).toBe(true);
    expect(snapshot.warnings).toContainEqual({
      code: "storageclasses-unknown",
      subject: "storageclasses",
      message: expect.stringContaining(
        'the account needs "list" on storageclasses.storage.k8s.io; check with kubectl auth can-i list storageclasses.storage.k8s.io)',
      ),
    });
    expect(claimsOf(snapshot, "redis-0")?.[0]).toEqual({
      claim: "data-redis-0",
      state: "waiting",
      why: "it is not bound, and StorageClass proxmox-lvm could not be read",
    });
    // A bound claim needs no StorageClass.
    expect(claimsOf(snapshot, "postgres-0")?.[0]?.state).toBe("bound");
  });
});
