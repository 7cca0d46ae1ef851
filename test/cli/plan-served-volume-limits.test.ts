/**
 * A node's pods moved where the nodes left can attach their CSI volumes, as kube-scheduler's
 * NodeVolumeLimits plugin judges it: per node and driver, the unique volumes its pods use (a
 * volume two pods share counts once) plus the moving pod's new ones may not exceed the CSINode's
 * `allocatable.count`. Four Talos workers where the repo allows three, so talos-worker-4 goes
 * whatever the usage; every worker's CSINode lets the Proxmox CSI plugin attach 2 volumes (a VM's
 * SCSI disks the plugin may use). The CSINode is written as the storage.k8s.io/v1 API reference
 * gives its fields (name, nodeID, topologyKeys, allocatable.count); the driver name and the
 * volumes' StorageClass are those of ../support/kube-volumes.ts (sources there). Pods are 100m,
 * so room decides nothing.
 */
import { describe, expect, it } from "@jest/globals";
import {
  ephemeralVolume,
  persistentVolume,
  REGION,
  storageClass,
  volumeClaim,
  ZONE,
} from "../support/kube-volumes.ts";
import { type PlanJson, pod, type Raw, unschedulable } from "./served-cluster.ts";
import {
  APPS_AND_MEDIA,
  APPS_AND_MEDIA_FILES,
  APPS_AND_MEDIA_NODES,
  appsAndMedia,
  cluster,
  FOUR,
  fillers,
  OVER_MAX,
  plan,
  poolDecision,
  poolNote,
  serveForTest,
  WORKERS,
} from "./served-plan.ts";

const DRIVER = "csi.proxmox.sinextra.dev";

/** The CSINode of `node`: the Proxmox CSI plugin registered there, with `count` volumes at most. */
function csiNode(node: string, count = 2): Raw {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "CSINode",
    metadata: { name: node },
    spec: {
      drivers: [
        { name: DRIVER, nodeID: node, topologyKeys: [REGION, ZONE], allocatable: { count } },
      ],
    },
  };
}

/** A Proxmox CSI volume `pvc-<name>` bound to claim `db/<name>`, with its access modes. */
function csiClaim(name: string, accessModes = ["ReadWriteOnce"]): Raw[] {
  const volume = `pvc-${name}-7f3a9c2e`;
  return [
    persistentVolume(volume, {
      accessModes,
      csi: { driver: DRIVER, fsType: "xfs", volumeHandle: `homelab/pve-1/lvm/vm-9999-${volume}` },
      storageClassName: "proxmox-lvm",
    }),
    volumeClaim("db", name, { accessModes, storageClassName: "proxmox-lvm", volumeName: volume }),
  ];
}

/** A pod's volumes `<prefix>-0`, `<prefix>-1`… mounting the claims named, in order. */
function claimVolumes(claims: string[], prefix = "data"): Raw[] {
  return claims.map((claimName, at) => ({
    name: `${prefix}-${at}`,
    persistentVolumeClaim: { claimName },
  }));
}

/** A StatefulSet pod `db/<app>-<suffix>` on `node` (100m) mounting the claims named. */
function withClaims(app: string, suffix: string, node: string, claims: string[]): Raw {
  return pod("db", `${app}-${suffix}`, {
    node,
    owner: { kind: "StatefulSet", name: app },
    cpu: "100m",
    memory: "128Mi",
    volumes: claimVolumes(claims),
  });
}

/** `count` volumes of their own in use on `node`, by one pod, with their claims. */
function attached(node: string, count: number): Raw[] {
  const names = Array.from({ length: count }, (_, at) => `data-${node}-${at}`);
  return [
    ...names.flatMap((name) => csiClaim(name)),
    ...(count > 0 ? [withClaims("mariadb", node.slice(-1), node, names)] : []),
  ];
}

/** Four workers, each with its CSINode (2 volumes of the Proxmox plugin). */
function workers(): Raw[] {
  return [...cluster(FOUR), ...FOUR.map((node) => csiNode(node))];
}

/** postgres-0 on talos-worker-4, with one volume. */
const POSTGRES = [
  ...csiClaim("data-postgres-0"),
  withClaims("postgres", "0", "talos-worker-4", ["data-postgres-0"]),
];

/**
 * Plans the four workers above the max, talos-worker-1 to -3 using as many volumes of their own
 * as `volumes` says, then `others`.
 */
function planAttached(volumes: [number, number, number], others: Raw[]): Promise<PlanJson> {
  return plan(
    [...workers(), ...WORKERS.flatMap((node, at) => attached(node, volumes[at] ?? 0)), ...others],
    OVER_MAX,
  );
}

function counts(output: PlanJson): [number | undefined, number | undefined][] {
  return output.proposals.map((entry) => [entry.from, entry.to]);
}

describe("plan against a served cluster: the CSI volumes a node can attach", () => {
  it("keeps talos-worker-4 when every other worker already attaches as many volumes as its CSINode allows", async () => {
    const output = await planAttached([2, 2, 2], POSTGRES);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      `db/postgres-0: its CSI volumes would take the nodes with room above the volumes they can attach (talos-worker-1: 2 of ${DRIVER}), as the scheduler counts them`,
    );
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    const decision = note?.decision as { scaleDown: { conditions: Raw[] } } | undefined;
    const fit = decision?.scaleDown.conditions.find((condition) => condition.kind === "pods-fit");
    expect(fit?.causes).toEqual([
      {
        pod: "db/postgres-0",
        cause: "volume-limit",
        volumeLimit: { node: "talos-worker-1", drivers: [{ driver: DRIVER, limit: 2 }] },
      },
    ]);
  });

  it("removes talos-worker-4 when one worker can still attach a volume", async () => {
    const output = await planAttached([2, 1, 2], POSTGRES);
    expect(counts(output)).toEqual([[4, 3]]);
  });

  it("counts a volume that two pods share once, on the node they leave and on one that runs them", async () => {
    // talos-worker-1 runs two pods of one shared volume (1 attached); the others are full.
    const shared = (name: string) => csiClaim(name, ["ReadWriteMany"]);
    const output = await plan(
      [
        ...workers(),
        ...shared("media-w1"),
        withClaims("jellyfin", "0", "talos-worker-1", ["media-w1"]),
        withClaims("jellyfin", "1", "talos-worker-1", ["media-w1"]),
        ...attached("talos-worker-2", 2),
        ...attached("talos-worker-3", 2),
        // Both pods of talos-worker-4 mount one volume: it takes talos-worker-1's second slot.
        ...shared("media-w4"),
        withClaims("sonarr", "0", "talos-worker-4", ["media-w4"]),
        withClaims("radarr", "0", "talos-worker-4", ["media-w4"]),
      ],
      OVER_MAX,
    );
    expect(counts(output)).toEqual([[4, 3]]);
  });

  it("counts the volume a generic ephemeral volume's replacement gets where it goes", async () => {
    // Evicted, the runner loses its scratch claim; its replacement gets a new volume, made by the
    // Proxmox plugin where it goes (WaitForFirstConsumer): one more on a worker with none free.
    const name = "runner-6f7c8d9b5-w4kq2";
    const runner = [
      storageClass("proxmox-scratch", {
        provisioner: DRIVER,
        volumeBindingMode: "WaitForFirstConsumer",
      }),
      persistentVolume("pvc-8e2d4c6a", {
        csi: { driver: DRIVER, fsType: "xfs", volumeHandle: "homelab/pve-1/lvm/vm-9999-scratch" },
        storageClassName: "proxmox-scratch",
      }),
      volumeClaim("ci", `${name}-work`, {
        storageClassName: "proxmox-scratch",
        volumeName: "pvc-8e2d4c6a",
      }),
      pod("ci", name, {
        node: "talos-worker-4",
        cpu: "100m",
        memory: "128Mi",
        volumes: [ephemeralVolume("work", "proxmox-scratch")],
      }),
    ];
    const full = await planAttached([2, 2, 2], runner);
    expect(full.proposals).toEqual([]);
    expect(poolNote(full)).toContain(
      `ci/${name}: its CSI volumes would take the nodes with room above the volumes they can attach (talos-worker-1: 2 of ${DRIVER})`,
    );
    const slot = await planAttached([2, 1, 2], runner);
    expect(counts(slot)).toEqual([[4, 3]]);
  });

  it("adds a node for a pending pod whose volume no worker with room can attach", async () => {
    // The scheduler last found no cpu for it; room has freed since, on workers whose one slot
    // of the Proxmox plugin each is taken.
    const pending = pod("db", "postgres-0", {
      owner: { kind: "StatefulSet", name: "postgres" },
      cpu: "100m",
      memory: "128Mi",
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data-postgres-0" } }],
      scheduled: unschedulable("Insufficient cpu"),
    });
    const objects = [
      ...cluster(),
      ...WORKERS.flatMap((node) => attached(node, 1)),
      ...csiClaim("data-postgres-0"),
      pending,
    ];
    const full = await plan([...objects, ...WORKERS.map((node) => csiNode(node, 1))]);
    expect(counts(full)).toEqual([[3, 4]]);
    expect(full.proposals[0]?.reasons.join("\n")).toContain(
      "talos-worker-1 and 2 more have room but the node's count of CSI volumes keeps it off",
    );
    // A second slot on each: it waits for the room already there.
    const roomy = await plan([...objects, ...WORKERS.map((node) => csiNode(node, 2))]);
    expect(roomy.proposals).toEqual([]);
  });

  describe("on a node to add, counted on for the CSINodes of the pool's nodes", () => {
    /** A pending StatefulSet pod `db/<app>-0` (100m) mounting claims of its own, `volumes` of them. */
    function pendingWithClaims(app: string, volumes: number): Raw[] {
      const names = Array.from({ length: volumes }, (_, at) => `data-${app}-${at}`);
      return [
        ...names.flatMap((name) => csiClaim(name)),
        pod("db", `${app}-0`, {
          owner: { kind: "StatefulSet", name: app },
          cpu: "100m",
          memory: "128Mi",
          volumes: claimVolumes(names),
          scheduled: unschedulable("node(s) exceed max volume count"),
        }),
      ];
    }

    it("adds a node for each pending pod when a new node attaches one volume, as its pool's nodes do", async () => {
      // Every worker's one slot of the Proxmox plugin is taken; the two pods' volumes do not
      // both go on one new VM, whose room would hold them both.
      const output = await plan([
        ...cluster(),
        ...WORKERS.flatMap((node) => attached(node, 1)),
        ...WORKERS.map((node) => csiNode(node, 1)),
        ...pendingWithClaims("postgres", 1),
        ...pendingWithClaims("redis", 1),
      ]);
      expect(counts(output)).toEqual([[3, 5]]);
      expect(output.proposals[0]?.reasons).toContain(
        `  pending pods: 2 considered, 0 fit free room on existing nodes, 2 go on 2 new nodes (a new node attaches 1 volume of ${DRIVER}, the least the pool's nodes' CSINodes allow)`,
      );
      const pending = output.proposals[0]?.decision?.pending as { onNew: Raw[] } | undefined;
      expect(pending?.onNew.map((entry) => [entry.pod, entry.node])).toEqual([
        ["db/postgres-0", "new-1"],
        ["db/redis-0", "new-2"],
      ]);
    });

    it("takes the least count of the pool's nodes when their CSINodes differ", async () => {
      const output = await plan([
        ...cluster(),
        ...WORKERS.flatMap((node) => attached(node, 1)),
        csiNode("talos-worker-1", 3),
        csiNode("talos-worker-2", 1),
        csiNode("talos-worker-3", 3),
        // The scheduler's account: talos-worker-2 is full, the others lack cpu.
        ...fillers(["talos-worker-1", "talos-worker-3"], "3900m"),
        ...pendingWithClaims("postgres", 1),
        ...pendingWithClaims("redis", 1),
      ]);
      expect(counts(output)).toEqual([[3, 5]]);
    });

    it("says a pod with more volumes than a new node can attach never fits, and adds no node for it", async () => {
      const output = await plan([
        ...cluster(),
        ...WORKERS.map((node) => csiNode(node, 2)),
        ...pendingWithClaims("postgres", 3),
      ]);
      expect(output.proposals).toEqual([]);
      expect(poolNote(output)).toContain(
        `never fits: db/postgres-0 (cpu 100m, memory 128 MiB): its CSI volumes would take a new node of this pool above the count of volumes it can attach (3 of ${DRIVER}, where the pool's nodes' CSINodes allow 2)`,
      );
      const decision = poolDecision(output) as { pending: { neverFit: Raw[] } };
      expect(decision.pending.neverFit).toEqual([
        expect.objectContaining({
          pod: "db/postgres-0",
          reason: "volume-limit",
          volumeLimits: [{ driver: DRIVER, limit: 2, volumes: 3 }],
        }),
      ]);
    });

    it("counts claims still to be made against their provisioner's count on a new node", async () => {
      // A runner whose three scratch claims the Proxmox plugin makes where it lands
      // (WaitForFirstConsumer): a worker, and so a new VM, attaches two.
      const claims = ["a", "b", "c"].map((at) => `runner-9c8d7e6f5-x2k4q-work-${at}`);
      const output = await plan([
        ...cluster(),
        ...WORKERS.map((node) => csiNode(node, 2)),
        storageClass("proxmox-scratch", {
          provisioner: DRIVER,
          volumeBindingMode: "WaitForFirstConsumer",
        }),
        ...claims.map((name) => volumeClaim("ci", name, { storageClassName: "proxmox-scratch" })),
        pod("ci", "runner-9c8d7e6f5-x2k4q", {
          cpu: "100m",
          memory: "128Mi",
          volumes: claimVolumes(claims, "work"),
          scheduled: unschedulable("node(s) exceed max volume count"),
        }),
      ]);
      expect(output.proposals).toEqual([]);
      expect(poolNote(output)).toContain(
        `never fits: ci/runner-9c8d7e6f5-x2k4q (cpu 100m, memory 128 MiB): its CSI volumes would take a new node of this pool above the count of volumes it can attach (3 of ${DRIVER}, where the pool's nodes' CSINodes allow 2)`,
      );
    });

    it("sets no count on a new node when no node of the pool has a CSINode for the driver", async () => {
      const output = await plan([
        ...cluster(),
        ...WORKERS.flatMap((node) => attached(node, 1)),
        csiNode("talos-cp-1", 1),
        ...fillers(WORKERS, "3900m"),
        ...pendingWithClaims("postgres", 3),
        ...pendingWithClaims("redis", 1),
      ]);
      expect(counts(output)).toEqual([[3, 4]]);
    });
  });

  describe("when the CSINodes may not be listed (403)", () => {
    /** Plans `objects` with the CSINode list forbidden. */
    async function forbidden(objects: Raw[]) {
      const served = await serveForTest(objects);
      served.fake.injectFault({
        path: "/apis/storage.k8s.io/v1/csinodes",
        status: 403,
        message:
          'csinodes.storage.k8s.io is forbidden: User "pr-autoscaler" cannot list resource "csinodes" in API group "storage.k8s.io" at the cluster scope',
        times: Number.POSITIVE_INFINITY,
      });
      const run = await served.run(["--json"], OVER_MAX);
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(
        'the account needs "list" on csinodes.storage.k8s.io; check with kubectl auth can-i list csinodes.storage.k8s.io',
      );
      return JSON.parse(run.stdout) as PlanJson;
    }

    it("keeps the node whose pod uses a CSI volume: where it fits is unknown", async () => {
      const output = await forbidden([...workers(), ...POSTGRES]);
      expect(output.proposals).toEqual([]);
      expect(poolNote(output)).toContain(
        "db/postgres-0: it uses CSI volumes, and how many a node can attach (its CSINode) was not read, so where it fits is unknown",
      );
    });

    it("puts a pending pod the scheduler did not find at a volume limit in room on an existing node, and says whose fit is unknown", async () => {
      // Room freed on talos-worker-1 since the scheduler found too little cpu there: its message
      // names no node at its count of volumes, so it goes in that room. Where it fits beside the
      // pods of talos-worker-4, were that node removed, is what the unread CSINodes leave unknown.
      const served = await serveForTest([
        ...workers(),
        ...POSTGRES,
        ...csiClaim("data-gitea-0"),
        pod("db", "gitea-0", {
          owner: { kind: "StatefulSet", name: "gitea" },
          cpu: "100m",
          memory: "128Mi",
          volumes: claimVolumes(["data-gitea-0"]),
          scheduled: unschedulable(
            "0/5 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 4 Insufficient cpu. preemption: 0/5 nodes are available: 1 Preemption is not helpful for scheduling, 4 No preemption victims found for incoming pod.",
          ),
        }),
      ]);
      served.fake.injectFault({
        path: "/apis/storage.k8s.io/v1/csinodes",
        status: 403,
        times: Number.POSITIVE_INFINITY,
      });
      const run = await served.run(["--json"], OVER_MAX);
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(
        "how many CSI volumes a node can attach is unknown, and so is where the pods that use them fit once a node is removed (pending pods are otherwise judged by the scheduler's message: one it found at its nodes' limit of volumes goes on a new node) [csinodes-unknown]",
      );
      const output = JSON.parse(run.stdout) as PlanJson;
      expect(output.proposals).toEqual([]);
      expect(poolNote(output)).toContain(
        "pending: db/gitea-0 (cpu 100m, memory 128 MiB) fits on talos-worker-1",
      );
      expect(poolNote(output)).toContain(
        "db/gitea-0: it uses CSI volumes, and how many a node can attach (its CSINode) was not read, so where it fits is unknown",
      );
    });

    it("removes the node whose pods use none, while other nodes' pods do", async () => {
      const output = await forbidden([
        ...workers(),
        ...attached("talos-worker-1", 2),
        pod("media", "sonarr-5d8f7c6b4-q2w3e", {
          node: "talos-worker-4",
          owner: { kind: "ReplicaSet", name: "sonarr-5d8f7c6b4" },
          cpu: "100m",
          memory: "128Mi",
        }),
      ]);
      expect(counts(output)).toEqual([[4, 3]]);
    });
  });
});

describe("plan against a served cluster: CSI volumes on a control plane two pools count on", () => {
  // Two pools of two nodes; each node's CSINode lets the Proxmox plugin attach 1 volume, and each
  // pool's first node uses it. The control plane, left untainted (Talos'
  // allowSchedulingOnControlPlanes), has its one slot free: the first pool's decrease moves its
  // pod there, so the second pool's pod finds no node that can attach its volume.
  const ALL_NODES = ["talos-cp-1", ...APPS_AND_MEDIA_NODES.apps, ...APPS_AND_MEDIA_NODES.media];

  /** A pod of `app` with a volume of its own on each of `nodes`. */
  function group(app: string, nodes: readonly string[]): Raw[] {
    return nodes.flatMap((node, index) => [
      ...csiClaim(`data-${app}-${index}`),
      withClaims(app, String(index), node, [`data-${app}-${index}`]),
    ]);
  }

  it("removes the first pool's node onto it, and keeps the second pool's", async () => {
    const output = await plan(
      [
        ...appsAndMedia(),
        ...ALL_NODES.map((node) => csiNode(node, 1)),
        ...group("echo", APPS_AND_MEDIA_NODES.apps),
        ...group("whoami", APPS_AND_MEDIA_NODES.media),
      ],
      APPS_AND_MEDIA_FILES,
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["apps", 2, 1],
    ]);
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: 1 pod of talos-worker-2 fits on the other nodes: met (db/echo-1 goes to talos-cp-1, a control plane in no pool)",
    );
    expect(poolNote(output, "media")).toContain(
      `not removed: not every pod of talos-media-2 fits on the other nodes (db/whoami-1: its CSI volumes would take the nodes with room above the volumes they can attach (talos-media-1: 1 of ${DRIVER}), as the scheduler counts them; the room of talos-worker-2 (pool apps removes it in this plan) is not counted; talos-cp-1 keeps its room for the pods the decrease of pool apps moves there)`,
    );
  });

  it("says no count of a new node in a held pool whose pending pod a later pool takes", async () => {
    // The apps pool's count is not in the repo: it takes no action, and the media pool adds the
    // node for the pending pod, packed within a media node's count.
    const output = await plan(
      [
        ...appsAndMedia(),
        ...ALL_NODES.map((node) => csiNode(node, 1)),
        ...group("echo", ["talos-cp-1", ...APPS_AND_MEDIA_NODES.apps]),
        ...group("whoami", APPS_AND_MEDIA_NODES.media),
        ...csiClaim("data-gitea-0"),
        pod("db", "gitea-0", {
          owner: { kind: "StatefulSet", name: "gitea" },
          cpu: "100m",
          memory: "128Mi",
          volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data-gitea-0" } }],
          scheduled: unschedulable("node(s) exceed max volume count"),
        }),
      ],
      { tfvars: "media_count  = 2\n", config: APPS_AND_MEDIA },
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["media", 2, 3],
    ]);
    expect(output.proposals[0]?.reasons).toContain(
      `  pending pods: 1 considered, 0 fit free room on existing nodes, 1 goes on 1 new node (a new node attaches 1 volume of ${DRIVER}, the least the pool's nodes' CSINodes allow)`,
    );
    const apps = poolNote(output, "apps");
    expect(apps).toContain("pending: db/gitea-0 (cpu 100m, memory 128 MiB) → pool media");
    expect(apps).not.toContain("a new node attaches");
  });

  it("adds a node for a pending pod when the pending pod an earlier pool counted on the control plane takes its slot", async () => {
    // Every pool node's one slot is taken. The apps pool counts gitea-0 (the larger) on the
    // control plane's free slot; forgejo-0, which keeps off apps nodes, is the media pool's and
    // finds the room there, not the slot: the scheduler leaves it pending, so media adds a node.
    const pending = (app: string, cpu: string, affinity?: Raw) => [
      ...csiClaim(`data-${app}-0`),
      pod("db", `${app}-0`, {
        owner: { kind: "StatefulSet", name: app },
        cpu,
        memory: "128Mi",
        volumes: [{ name: "data", persistentVolumeClaim: { claimName: `data-${app}-0` } }],
        // Its last try found no cpu; room has freed since, on the control plane.
        scheduled: unschedulable("Insufficient cpu"),
        ...(affinity ? { affinity } : {}),
      }),
    ];
    const notApps = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: "node.kubernetes.io/pool", operator: "NotIn", values: ["apps"] },
              ],
            },
          ],
        },
      },
    };
    const output = await plan(
      [
        ...appsAndMedia(),
        ...ALL_NODES.map((node) => csiNode(node, 1)),
        ...group("echo", APPS_AND_MEDIA_NODES.apps),
        ...group("whoami", APPS_AND_MEDIA_NODES.media),
        ...pending("gitea", "200m"),
        ...pending("forgejo", "100m", notApps),
      ],
      {
        ...APPS_AND_MEDIA_FILES,
        config: APPS_AND_MEDIA.replaceAll("      unneededTime: 0", "      enabled: false"),
      },
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["media", 2, 3],
    ]);
    const media = output.proposals[0]?.decision?.pending as { onNew: Raw[] } | undefined;
    expect(media?.onNew.map((entry) => [entry.pod, entry.node])).toEqual([
      ["db/forgejo-0", "new-1"],
    ]);
  });
});
