import { describe, expect, it } from "@jest/globals";
import { indexCluster } from "../../src/planning/cluster-index.ts";
import { newNodeRoom, newNodeShape, newNodeShapeOrWhy } from "../../src/planning/node-shape.ts";
import type { DaemonSetInfo, NodeInfo } from "../../src/planning/snapshot.ts";
import { NewNodeConfig } from "../../src/policy/repo-config.ts";
import { buildSnapshot, daemonSet, node, pod } from "../support/snapshot-builder.ts";

const GI = 2 ** 30;

function shapeOf(
  members: NodeInfo[],
  config: Parameters<typeof NewNodeConfig.parse>[0] = {},
  pods = buildSnapshot({ nodes: members }),
) {
  return newNodeShape(members, NewNodeConfig.parse(config), undefined, indexCluster(pods));
}

/** A pod of DaemonSet `name` on node `on`, of 100m and 100Mi unless `spec` says otherwise. */
function ds(name: string, on: string, spec: Parameters<typeof pod>[1] = {}) {
  return pod(`kube-system/${name}-${on}`, {
    node: on,
    cpu: "100m",
    memory: "100Mi",
    daemonSet: true,
    owner: { kind: "DaemonSet", name },
    // As the DaemonSet controller pins each pod to its node.
    affinity: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [on] }] }],
    ...spec,
  });
}

const mixed = [
  node("w1", { cpu: "4", memory: "16Gi" }),
  node("w2", { cpu: "4", memory: "16Gi" }),
  node("w3", { cpu: "2", memory: "8Gi" }),
];

describe("newNodeShape", () => {
  it("copies the most common allocatable by default", () => {
    expect(shapeOf(mixed)).toMatchObject({
      allocatable: { cpu: 4000, memory: 16 * GI, pods: 110 },
      source: "learned",
      learnedFrom: { node: "w1", alike: 2, rule: "most-common" },
    });
  });

  it("copies the smallest when asked", () => {
    expect(shapeOf(mixed, { from: "smallest" })?.learnedFrom).toEqual({
      node: "w3",
      alike: 1,
      rule: "smallest",
    });
  });

  it("counts on the least cpu, memory and pods of shapes that differ each their own way", () => {
    // An 8-core 16 GiB VM beside a 4-core 32 GiB one: a new VM may be either.
    const apart = [
      node("w1", { cpu: "8", memory: "16Gi" }),
      node("w2", { cpu: "4", memory: "32Gi", pods: 64 }),
    ];
    for (const from of ["smallest", "most-common"] as const) {
      expect(shapeOf(apart, { from })).toMatchObject({
        allocatable: { cpu: 4000, memory: 16 * GI, pods: 64 },
        learnedFrom: { node: "w1", alike: 1, rule: from, least: { cpu: "w2", pods: "w2" } },
      });
    }
    // A configured amount wins, and is not said to be taken from a node.
    expect(shapeOf(apart, { from: "smallest", cpu: "6" })).toMatchObject({
      allocatable: { cpu: 6000, memory: 16 * GI, pods: 64 },
      learnedFrom: { least: { pods: "w2" } },
    });
    // Most nodes alike decide alone, whatever a lone other node has less of.
    const most = shapeOf([...apart, node("w3", { cpu: "8", memory: "16Gi" })]);
    expect(most?.allocatable).toMatchObject({ cpu: 8000, memory: 16 * GI, pods: 110 });
    expect(most?.learnedFrom).toEqual({ node: "w1", alike: 2, rule: "most-common" });
    // A smallest shape that is least in everything is copied as it is.
    expect(shapeOf(mixed, { from: "smallest" })?.learnedFrom?.least).toBeUndefined();
  });

  it("counts on the least ephemeral storage of shapes the rule does not choose between", () => {
    // A new VM may be either size, its disk too: the 4-core VM's 40 GiB, not the model's 100.
    const disk = (name: string, spec: Parameters<typeof node>[1], gib: number) => {
      const made = node(name, spec);
      made.allocatable = { ...made.allocatable, ephemeralStorage: gib * GI };
      return made;
    };
    const apart = [
      disk("w1", { cpu: "8", memory: "16Gi" }, 100),
      disk("w2", { cpu: "4", memory: "32Gi" }, 40),
    ];
    for (const from of ["smallest", "most-common"] as const)
      expect(shapeOf(apart, { from })).toMatchObject({
        allocatable: { cpu: 4000, memory: 16 * GI, ephemeralStorage: 40 * GI },
        learnedFrom: { node: "w1", least: { cpu: "w2", ephemeralStorage: "w2" } },
      });
    // Most nodes alike decide alone, their disk too.
    const most = shapeOf([...apart, disk("w3", { cpu: "8", memory: "16Gi" }, 99)]);
    expect(most?.allocatable.ephemeralStorage).toBe(99 * GI);
    expect(most?.learnedFrom?.least).toBeUndefined();
  });

  it("prefers Ready nodes to learn from", () => {
    const members = [node("w1", { cpu: "8", ready: false }), node("w2", { cpu: "4" })];
    expect(shapeOf(members)?.allocatable.cpu).toBe(4000);
  });

  it("lets configured values win over learned ones", () => {
    expect(shapeOf(mixed, { memory: "15Gi" })).toMatchObject({
      allocatable: { cpu: 4000, memory: 15 * GI, pods: 110 },
      source: "configured+learned",
    });
  });

  it("lets configured extended resources win over learned ones, and keeps the others", () => {
    const gpu = [
      {
        ...node("g1"),
        allocatable: {
          ...node("g1").allocatable,
          extended: { "nvidia.com/gpu": 1, "example.com/nic": 2 },
        },
      },
    ];
    const shape = shapeOf(gpu, { extendedResources: { "nvidia.com/gpu": 2 } });
    expect(shape?.allocatable.extended).toEqual({ "nvidia.com/gpu": 2, "example.com/nic": 2 });
    expect(shape?.source).toBe("configured+learned");
    expect(
      shapeOf([], { cpu: "4", memory: "8Gi", extendedResources: { "nvidia.com/gpu": 1 } })
        ?.allocatable,
    ).toEqual({
      cpu: 4000,
      memory: 8 * GI,
      pods: 110,
      extended: { "nvidia.com/gpu": 1 },
    });
  });

  it("takes an extended resource as unknown where nodes alike but for it disagree", () => {
    const gpus = (name: string, gpu: number | undefined, ready = true): NodeInfo => {
      const plain = node(name, { ready });
      const extended: Record<string, number> = gpu === undefined ? {} : { "nvidia.com/gpu": gpu };
      return { ...plain, allocatable: { ...plain.allocatable, extended } };
    };
    // A GPU VM just rebooted reports no GPU yet: how many a new one has is not known, never none.
    const rebooted = shapeOf([gpus("g1", 1), gpus("g2", undefined)]);
    expect(rebooted?.allocatable.extended).toBeUndefined();
    expect(rebooted?.unknownExtended).toEqual(["nvidia.com/gpu"]);
    // The node that reports its GPU is the model.
    expect(rebooted?.learnedFrom).toMatchObject({ node: "g1", alike: 1 });
    expect(shapeOf([gpus("g2", undefined), gpus("g1", 1)])?.learnedFrom?.node).toBe("g1");
    expect(shapeOf([gpus("g1", 1), gpus("g2", 2)])?.unknownExtended).toEqual(["nvidia.com/gpu"]);
    expect(
      shapeOf([gpus("g1", 1), gpus("g2", undefined)], { from: "smallest" })?.unknownExtended,
    ).toEqual(["nvidia.com/gpu"]);
    // One GPU VM among plain ones of its size: a new VM is like most of them.
    const one = shapeOf([gpus("w1", 1), gpus("w2", undefined), gpus("w3", undefined)]);
    expect(one?.allocatable.extended).toBeUndefined();
    expect(one?.unknownExtended).toBeUndefined();
    expect(one?.learnedFrom).toMatchObject({ node: "w2", alike: 2 });
    // Not Ready, it is no model: the Ready node tells.
    const rebooting = shapeOf([gpus("g1", 1), gpus("g2", undefined, false)]);
    expect(rebooting?.allocatable.extended).toEqual({ "nvidia.com/gpu": 1 });
    expect(rebooting?.unknownExtended).toBeUndefined();
    // The configuration says what every new node has.
    const given = shapeOf([gpus("g1", 1), gpus("g2", undefined)], {
      extendedResources: { "nvidia.com/gpu": 1 },
    });
    expect(given?.allocatable.extended).toEqual({ "nvidia.com/gpu": 1 });
    expect(given?.unknownExtended).toBeUndefined();
  });

  it("is unknown without nodes or configuration, and assumes kubelet's 110 pods otherwise", () => {
    expect(shapeOf([])).toBeUndefined();
    expect(shapeOf([], { cpu: "4", memory: "8Gi" })?.allocatable).toEqual({
      cpu: 4000,
      memory: 8 * GI,
      pods: 110,
    });
  });

  it("carries the labels and taints every pool node shares, not per-machine ones", () => {
    const members = [
      node("w1", {
        labels: { pool: "general", disk: "ssd" },
        taints: [
          { key: "dedicated", value: "general", effect: "NoSchedule" },
          { key: "node.kubernetes.io/not-ready", effect: "NoExecute" },
        ],
      }),
      node("w2", {
        labels: { pool: "general", disk: "hdd" },
        taints: [
          { key: "dedicated", value: "general", effect: "NoSchedule" },
          { key: "node.kubernetes.io/not-ready", effect: "NoExecute" },
        ],
      }),
    ];
    const shape = shapeOf(members, { labels: { extra: "yes" } });
    expect(shape?.labels).toEqual({ pool: "general", extra: "yes" });
    expect(shape?.taints).toEqual([{ key: "dedicated", value: "general", effect: "NoSchedule" }]);
  });

  it("reserves room for DaemonSets that run on every Ready node", () => {
    const members = [node("w1"), node("w2")];
    const ds = (name: string, on: string, cpu: string) =>
      pod(`kube-system/${name}-${on}`, {
        node: on,
        cpu,
        memory: "100Mi",
        daemonSet: true,
        owner: { kind: "DaemonSet", name },
      });
    const snapshot = buildSnapshot({
      nodes: members,
      pods: [ds("cilium", "w1", "100m"), ds("cilium", "w2", "200m"), ds("gpu-plugin", "w1", "1")],
    });
    const shape = shapeOf(members, {}, snapshot);
    expect(shape?.daemonSetOverhead).toEqual({ cpu: 200, memory: 100 * 2 ** 20, pods: 1 });
    expect(shape && newNodeRoom(shape)).toMatchObject({ cpu: 3800, pods: 109 });
  });

  it("does not let a node that joined minutes ago, without all its DaemonSet pods yet, drop them", () => {
    const now = new Date("2026-11-22T10:00:00Z");
    const members = [
      node("w1", { readySince: "2026-11-01T10:00:00Z" }),
      node("w2", { readySince: "2026-11-01T10:00:00Z" }),
      node("w3", { readySince: "2026-11-22T09:58:00Z" }),
    ];
    const ds = (name: string, on: string) =>
      pod(`longhorn-system/${name}-${on}`, {
        node: on,
        cpu: "200m",
        memory: "256Mi",
        daemonSet: true,
        owner: { kind: "DaemonSet", name },
      });
    const snapshot = buildSnapshot({
      nodes: members,
      pods: [ds("longhorn-manager", "w1"), ds("longhorn-manager", "w2")],
    });
    const shape = (at?: Date) =>
      newNodeShape(members, NewNodeConfig.parse({}), undefined, indexCluster(snapshot), at);
    expect(shape(now)?.daemonSetOverhead).toEqual({ cpu: 200, memory: 256 * 2 ** 20, pods: 1 });
    // Ten minutes after it joined, a node still without the DaemonSet's pod says it does not
    // run there (a nodeSelector leaves it out).
    const later = new Date("2026-11-22T10:08:00Z");
    expect(shape(later)?.daemonSetOverhead).toEqual({ cpu: 0, memory: 0, pods: 0 });
  });

  describe("of a pool with no Ready node", () => {
    const others = [node("w1"), node("w2")];
    const gpuTaint = { key: "gpu", value: "true", effect: "NoSchedule" as const };
    const config = {
      cpu: "8",
      memory: "32Gi",
      labels: { pool: "gpu" },
      taints: [gpuTaint],
    };
    const tolerateAll = [{ operator: "Exists" as const }];

    it("counts the cluster's DaemonSets whose pods admit a new node's labels and taints", () => {
      const snapshot = buildSnapshot({
        nodes: others,
        pods: [
          ds("cilium", "w1", { cpu: "100m", tolerations: tolerateAll }),
          ds("cilium", "w2", { cpu: "250m", tolerations: tolerateAll }),
          // Does not tolerate the pool's taint.
          ds("node-exporter", "w1"),
          // Runs only on storage nodes.
          ds("longhorn", "w1", { nodeSelector: { storage: "yes" }, tolerations: tolerateAll }),
          // Asks for the pool's label, on a node that also carries it.
          ds("gpu-metrics", "w2", {
            cpu: "50m",
            nodeSelector: { pool: "gpu" },
            tolerations: [{ key: "gpu", operator: "Exists" }],
          }),
        ],
      });
      const shape = newNodeShape(
        [],
        NewNodeConfig.parse(config),
        undefined,
        indexCluster(snapshot),
      );
      expect(shape?.daemonSetsFrom).toBe("cluster");
      expect(shape?.daemonSetOverhead).toEqual({ cpu: 300, memory: 200 * 2 ** 20, pods: 2 });
      expect(shape && newNodeRoom(shape)).toMatchObject({ cpu: 7700, pods: 108 });
    });

    it("takes node affinity a pod still carries besides its node's name", () => {
      const storageOnly = [
        {
          matchExpressions: [{ key: "storage", operator: "In" as const, values: ["yes"] }],
          matchFields: [{ key: "metadata.name", operator: "In" as const, values: ["w1"] }],
        },
      ];
      const snapshot = buildSnapshot({
        nodes: others,
        pods: [ds("longhorn", "w1", { affinity: storageOnly, tolerations: tolerateAll })],
      });
      const shape = newNodeShape(
        [],
        NewNodeConfig.parse(config),
        undefined,
        indexCluster(snapshot),
      );
      expect(shape?.daemonSetOverhead).toEqual({ cpu: 0, memory: 0, pods: 0 });
    });

    it("takes what a pool with a Ready node takes, when that node runs the same DaemonSets", () => {
      const gpu = node("gpu-1", { labels: { pool: "gpu" }, taints: [gpuTaint] });
      const pods = [
        ds("cilium", "w1", { tolerations: tolerateAll }),
        ds("cilium", "gpu-1", { tolerations: tolerateAll }),
        ds("node-exporter", "w1"),
      ];
      const grown = newNodeShape(
        [gpu],
        NewNodeConfig.parse(config),
        undefined,
        indexCluster(buildSnapshot({ nodes: [...others, gpu], pods })),
      );
      const empty = newNodeShape(
        [],
        NewNodeConfig.parse(config),
        undefined,
        indexCluster(
          buildSnapshot({ nodes: others, pods: pods.slice(0, 1).concat(pods[2] ?? []) }),
        ),
      );
      expect(grown?.daemonSetOverhead).toEqual({ cpu: 100, memory: 100 * 2 ** 20, pods: 1 });
      expect(empty?.daemonSetOverhead).toEqual(grown?.daemonSetOverhead);
    });

    it("counts a DaemonSet with no pod anywhere by its pod template", () => {
      // A GPU device plugin that only GPU nodes run, in a cluster with none yet.
      const snapshot = buildSnapshot({
        nodes: others,
        pods: [ds("cilium", "w1", { tolerations: tolerateAll })],
        daemonSets: [
          daemonSet("kube-system/cilium", { cpu: "100m", tolerations: tolerateAll }),
          daemonSet("kube-system/nvidia-device-plugin", {
            cpu: "200m",
            memory: "64Mi",
            nodeSelector: { pool: "gpu" },
            tolerations: [{ key: "gpu", operator: "Exists", effect: "NoSchedule" }],
          }),
          daemonSet("kube-system/storage-only", {
            cpu: "1",
            nodeSelector: { storage: "yes" },
            tolerations: tolerateAll,
          }),
        ],
      });
      const found = newNodeShapeOrWhy(
        [],
        NewNodeConfig.parse(config),
        undefined,
        indexCluster(snapshot),
      );
      expect(found).toMatchObject({
        shape: {
          daemonSetsFrom: "cluster",
          daemonSetOverhead: { cpu: 300, memory: (100 + 64) * 2 ** 20, pods: 2 },
        },
      });
    });

    it("keeps off a new node the DaemonSet whose template's node affinity leaves it out", () => {
      // Its pods carry only the controller's pin to their node, which admits any new node.
      const storageOnly = [
        {
          matchExpressions: [{ key: "storage", operator: "In" as const, values: ["yes"] }],
        },
      ];
      const pods = [ds("longhorn", "w1", { cpu: "300m", tolerations: tolerateAll })];
      const template = daemonSet("kube-system/longhorn", {
        cpu: "300m",
        affinity: storageOnly,
        tolerations: tolerateAll,
      });
      const shape = (daemonSets?: DaemonSetInfo[]) =>
        newNodeShape(
          [],
          NewNodeConfig.parse(config),
          undefined,
          indexCluster(
            buildSnapshot({ nodes: others, pods, ...(daemonSets ? { daemonSets } : {}) }),
          ),
        );
      // A snapshot saved before DaemonSets were read judges by the pods: less room, never more.
      expect(shape()?.daemonSetOverhead).toMatchObject({ cpu: 300, pods: 1 });
      expect(shape([template])?.daemonSetOverhead).toEqual({ cpu: 0, memory: 0, pods: 0 });
    });

    it("takes the larger of a DaemonSet's template request and its pods'", () => {
      const snapshot = buildSnapshot({
        nodes: others,
        pods: [ds("cilium", "w1", { cpu: "400m", memory: "50Mi", tolerations: tolerateAll })],
        daemonSets: [
          daemonSet("kube-system/cilium", {
            cpu: "100m",
            memory: "200Mi",
            tolerations: tolerateAll,
          }),
        ],
      });
      const shape = newNodeShape(
        [],
        NewNodeConfig.parse(config),
        undefined,
        indexCluster(snapshot),
      );
      expect(shape?.daemonSetOverhead).toEqual({ cpu: 400, memory: 200 * 2 ** 20, pods: 1 });
    });

    it("is unknown when the cluster's DaemonSets could not be read", () => {
      const unread = buildSnapshot({ nodes: others, daemonSets: "unknown" });
      expect(
        newNodeShapeOrWhy([], NewNodeConfig.parse(config), undefined, indexCluster(unread)),
      ).toEqual({
        unknown: "daemonsets-unread",
        allocatable: { cpu: 8000, memory: 32 * GI, pods: 110 },
      });
    });

    it("is unknown when such a DaemonSet has a request that could not be read", () => {
      const snapshot = buildSnapshot({
        nodes: others,
        pods: [ds("cilium", "w1", { tolerations: tolerateAll, unknownRequests: ["cpu"] })],
      });
      const shape = newNodeShape(
        [],
        NewNodeConfig.parse(config),
        undefined,
        indexCluster(snapshot),
      );
      expect(shape).toBeUndefined();
      expect(
        newNodeShapeOrWhy([], NewNodeConfig.parse(config), undefined, indexCluster(snapshot)),
      ).toMatchObject({ unknown: "daemonset-requests" });
    });
  });

  describe("of a pool with Ready nodes", () => {
    const pool = [node("w1"), node("w2")];
    const shapeWith = (pods: ReturnType<typeof pod>[], daemonSets: DaemonSetInfo[] | "unknown") =>
      newNodeShapeOrWhy(
        pool,
        NewNodeConfig.parse({}),
        undefined,
        indexCluster(buildSnapshot({ nodes: pool, pods, daemonSets })),
      );
    const cilium = [ds("cilium", "w1"), ds("cilium", "w2")];

    it("counts a DaemonSet that would run on a new node before its pods start on the pool", () => {
      // Just made: its controller has not made a pod on any node yet.
      const found = shapeWith(cilium, [
        daemonSet("kube-system/cilium", { cpu: "100m", memory: "100Mi" }),
        daemonSet("monitoring/node-exporter", { cpu: "250m", memory: "64Mi" }),
        // Kept off the pool's nodes, and so off a new one.
        daemonSet("kube-system/storage-agent", {
          cpu: "1",
          memory: "1Gi",
          nodeSelector: { storage: "yes" },
        }),
      ]);
      expect(found).toMatchObject({
        shape: { daemonSetOverhead: { cpu: 350, memory: 164 * 2 ** 20, pods: 2 } },
      });
      expect("shape" in found && found.shape.daemonSetsFrom).toBeUndefined();
      expect("shape" in found && newNodeRoom(found.shape)).toMatchObject({
        cpu: 3650,
        pods: 108,
      });
    });

    it("takes the larger of a DaemonSet's template request and its pods' on the pool", () => {
      // A rollout raised the template's cpu; the pods still running ask for the old amount,
      // while a VPA (or a LimitRange default) gave them more memory than the template asks.
      const pods = [
        ds("cilium", "w1", { memory: "300Mi" }),
        ds("cilium", "w2", { memory: "200Mi" }),
      ];
      expect(
        shapeWith(pods, [daemonSet("kube-system/cilium", { cpu: "500m", memory: "128Mi" })]),
      ).toMatchObject({
        shape: { daemonSetOverhead: { cpu: 500, memory: 300 * 2 ** 20, pods: 1 } },
      });
    });

    it("keeps a DaemonSet running on every Ready node that a new node's known labels do not admit", () => {
      // The pool's nodes are in zones a and b, where the DaemonSet runs; which zone a new node
      // joins is not known.
      const zoned = pool.map((member, index) => ({
        ...member,
        labels: { ...member.labels, "topology.kubernetes.io/zone": index === 0 ? "a" : "b" },
      }));
      const pods = [
        ds("zonal-proxy", "w1", { cpu: "300m" }),
        ds("zonal-proxy", "w2", { cpu: "300m" }),
      ];
      const template = daemonSet("kube-system/zonal-proxy", {
        cpu: "300m",
        affinity: [
          {
            matchExpressions: [
              { key: "topology.kubernetes.io/zone", operator: "In" as const, values: ["a", "b"] },
            ],
          },
        ],
      });
      const shape = newNodeShape(
        zoned,
        NewNodeConfig.parse({}),
        undefined,
        indexCluster(buildSnapshot({ nodes: zoned, pods, daemonSets: [template] })),
      );
      expect(shape?.daemonSetOverhead).toMatchObject({ cpu: 300, pods: 1 });
    });

    it("is unknown, not the room the running pods leave, when the DaemonSets could not be read", () => {
      // What it adds to the pool's allocatable is known all the same.
      expect(shapeWith(cilium, "unknown")).toEqual({
        unknown: "daemonsets-unread",
        allocatable: { cpu: 4000, memory: 16 * GI, pods: 110 },
      });
    });

    it("is unknown when a DaemonSet that has no pod on the pool yet has a request that could not be read", () => {
      const template = daemonSet("monitoring/node-exporter", { cpu: "100m" });
      const { cpu: _cpu, ...unknownCpu } = template.requests;
      expect(shapeWith(cilium, [{ ...template, requests: unknownCpu }])).toMatchObject({
        unknown: "daemonset-requests",
      });
    });
  });
});
