/**
 * `pr-autoscaler plan --json` against a Kubernetes API server on 127.0.0.1 serving Talos
 * cluster states: each scenario asserts the proposal (or its absence) and that the
 * explanation names the cause.
 */
import { describe, expect, it } from "@jest/globals";
import { freshNodeMetrics, pdb, pod, type Raw, worker } from "./served-cluster.ts";
import {
  apps,
  cluster,
  config,
  FOUR,
  filler,
  fillers,
  manyPods,
  nameOf,
  OVER_MAX,
  onWorker4,
  plan,
  planAboveMax,
  planFull,
  poolDecision,
  poolNote,
  serveForTest,
  tdarr,
  tfvars,
  WORKERS,
} from "./served-plan.ts";

describe("plan against a served cluster: pending pods", () => {
  it("adds exactly the nodes first-fit-decreasing packing needs", async () => {
    const output = await planFull([
      tdarr("2kq9v"),
      tdarr("n7wzs"),
      tdarr("x4dpl"),
      // A finished Job pod and a pending DaemonSet pod add nothing.
      pod("media", "library-scan-29122800-q8w2n", {
        owner: { kind: "Job", name: "library-scan-29122800" },
        phase: "Succeeded",
        cpu: "2",
        memory: "1Gi",
      }),
      pod("kube-system", "cilium-pending", {
        owner: { kind: "DaemonSet", name: "cilium" },
        cpu: "3",
        memory: "1Gi",
      }),
    ]);
    expect(output.proposals).toHaveLength(1);
    const [proposal] = output.proposals;
    // A new node offers 3800m - 100m (Cilium) = 3700m: two 1500m pods per node, three → 2.
    expect(proposal).toMatchObject({
      kind: "nodes",
      pool: "workers",
      from: 3,
      to: 5,
      direction: "up",
      changes: [{ file: "terraform/terraform.tfvars", path: "worker_count", before: 3, after: 5 }],
      triggers: [{ kind: "pending-pods", pods: 3, newNodes: 2 }],
      holds: [],
    });
    expect(proposal?.reasons).toEqual(
      expect.arrayContaining([
        "  new node: 3800m cpu, 15.2 GiB memory, 110 pods (learned, most-common allocatable, like talos-worker-1 and 2 others); DaemonSets take 100m cpu, 128 MiB, 1 pod",
        "  pending pods: 3 considered, 0 fit free room on existing nodes, 3 go on 2 new nodes",
      ]),
    );
  });

  it("puts pending pods in free room first and adds nothing when they fit", async () => {
    const output = await plan([...cluster(), tdarr("2kq9v"), tdarr("n7wzs")]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain("2 considered, 2 fit free room on existing nodes");
  });

  it("adds nothing for pods no node of the pool could ever run, and says why", async () => {
    const output = await planFull([
      tdarr("gpu01", { nodeSelector: { "nvidia.com/gpu.present": "true" } }),
      tdarr("arm01", {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: "kubernetes.io/arch", operator: "In", values: ["arm64"] },
                  ],
                },
              ],
            },
          },
        },
      }),
      tdarr("huge1", { cpu: "6", memory: "8Gi" }),
    ]);
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toMatch(/never fits: media\/tdarr-node-6d8c7f5b49-gpu01/);
    expect(note).toMatch(/never fits: media\/tdarr-node-6d8c7f5b49-arm01/);
    expect(note).toMatch(/never fits: media\/tdarr-node-6d8c7f5b49-huge1/);
    expect(note).toMatch(/huge1[^\n]*needs more cpu than a new node has/);
    expect(note).toMatch(/gpu01[^\n]*nodeSelector/);
    expect(note).toMatch(/arm01[^\n]*node affinity/);
  });

  it("does not add a node for pods that only tolerate a taint the pool's nodes lack", async () => {
    const dedicated = { key: "dedicated", value: "media", effect: "NoSchedule" };
    const tainted = Object.fromEntries(WORKERS.map((name) => [name, { taints: [dedicated] }]));
    const output = await plan([
      ...cluster(WORKERS, tainted),
      ...fillers(),
      tdarr("plain", {}),
      tdarr("toler", {
        tolerations: [
          { key: "dedicated", operator: "Equal", value: "media", effect: "NoSchedule" },
        ],
      }),
    ]);
    // The tolerating pod goes on a new node (which carries the taint every pool node shares);
    // the other one never fits.
    expect(output.proposals).toHaveLength(1);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(output.proposals[0]?.reasons.join("\n")).toMatch(
      /never fits: media\/tdarr-node-6d8c7f5b49-plain[^\n]*tolerate/,
    );
  });

  it("does not count pods pending for reasons a new node does not cure", async () => {
    const output = await planFull([
      tdarr("pvc01", {
        owner: { kind: "StatefulSet", name: "tdarr" },
        scheduled: {
          reason: "Unschedulable",
          message:
            "0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
        },
        volumes: [{ name: "config", persistentVolumeClaim: { claimName: "config-tdarr-0" } }],
      }),
      tdarr("vnaff", {
        scheduled: {
          reason: "Unschedulable",
          message:
            "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 node(s) had volume node affinity conflict. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
        },
      }),
      tdarr("gated", {
        schedulingGates: [{ name: "example.com/quota" }],
        scheduled: {
          reason: "SchedulingGated",
          message: "Scheduling is blocked due to non-empty scheduling gates",
        },
      }),
      // Left to a scheduler of its own, which has not judged it: that one decides.
      tdarr("volca", { schedulerName: "volcano", scheduled: null }),
    ]);
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).not.toMatch(/trigger: .*pending/);
    expect(note).toMatch(
      /tdarr-node-6d8c7f5b49-pvc01[^\n]*unbound immediate PersistentVolumeClaims/,
    );
    expect(note).toMatch(/tdarr-node-6d8c7f5b49-vnaff[^\n]*volume node affinity conflict/);
    expect(note).not.toContain("gated");
    expect(note).not.toContain("volca");
  });

  it("does not add a node for a pod being deleted, nor for one the scheduler nominated a node for", async () => {
    const job = { kind: "Job" as const, name: "tdarr-transcode-29123400" };
    const output = await planFull([
      tdarr("delet", { owner: job, deletionTimestamp: "2026-11-22T09:40:00Z" }),
      tdarr("nomin", {
        nominatedNodeName: "talos-worker-2",
        scheduled: {
          reason: "Unschedulable",
          message:
            "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.",
        },
      }),
    ]);
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).not.toContain("delet");
    expect(note).not.toContain("nomin");
  });

  it("adds a node for a replica that required anti-affinity keeps off every worker", async () => {
    const blocky = (suffix: string, node?: string) =>
      pod("dns", `blocky-5c8d7f6b9-${suffix}`, {
        ...(node ? { node } : {}),
        cpu: "100m",
        memory: "128Mi",
        labels: { "app.kubernetes.io/name": "blocky", "pod-template-hash": "5c8d7f6b9" },
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              {
                labelSelector: { matchLabels: { "app.kubernetes.io/name": "blocky" } },
                matchLabelKeys: ["pod-template-hash"],
                topologyKey: "kubernetes.io/hostname",
              },
            ],
          },
        },
        ...(node
          ? {}
          : {
              scheduled: {
                reason: "Unschedulable",
                message:
                  "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 node(s) didn't match pod anti-affinity rules. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.",
              },
            }),
      });
    const output = await plan([
      ...cluster(),
      ...WORKERS.map((node, index) => blocky(`r${index}abc`, node)),
      blocky("r3abc"),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(output.proposals[0]?.reasons.join("\n")).toContain("dns/blocky-5c8d7f6b9-r3abc");
  });

  it("adds a node for a replica that topology spread keeps off the workers with room", async () => {
    const spread = [
      {
        labelSelector: { matchLabels: { "app.kubernetes.io/name": "searxng" } },
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "DoNotSchedule",
      },
    ];
    const searxng = (suffix: string, node?: string) =>
      pod("web", `searxng-7f9c8d6b5-${suffix}`, {
        ...(node ? { node } : {}),
        cpu: "250m",
        memory: "256Mi",
        labels: { "app.kubernetes.io/name": "searxng" },
        topologySpreadConstraints: spread,
        ...(node
          ? {}
          : {
              scheduled: {
                reason: "Unschedulable",
                message:
                  "0/4 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match pod topology spread constraints. preemption: 0/4 nodes are available: 1 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.",
              },
            }),
      });
    const output = await plan([
      ...cluster(),
      searxng("aaaaa", "talos-worker-1"),
      searxng("bbbbb", "talos-worker-1"),
      searxng("ccccc", "talos-worker-2"),
      searxng("ddddd", "talos-worker-2"),
      searxng("eeeee", "talos-worker-3"),
      pod("media", "plex-7d9c65958-fullx", {
        node: "talos-worker-3",
        owner: { kind: "ReplicaSet", name: "plex-7d9c65958" },
        cpu: "3300m",
        memory: "4Gi",
      }),
      searxng("fffff"),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(output.proposals[0]?.reasons.join("\n")).toContain("web/searxng-7f9c8d6b5-fffff");
  });

  it("adds a node for an ingress replica whose host ports every worker has taken", async () => {
    const traefik = (suffix: string, node?: string) =>
      pod("network", `traefik-6d5f8c7b9-${suffix}`, {
        ...(node ? { node } : {}),
        cpu: "100m",
        memory: "128Mi",
        ports: [
          { containerPort: 8000, hostPort: 80, name: "web", protocol: "TCP" },
          { containerPort: 8443, hostPort: 443, name: "websecure", protocol: "TCP" },
        ],
        ...(node
          ? {}
          : {
              scheduled: {
                reason: "Unschedulable",
                message:
                  "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 node(s) didn't have free ports for the requested pod ports. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.",
              },
            }),
      });
    const output = await plan([
      ...cluster(),
      ...WORKERS.map((node, index) => traefik(`h${index}abc`, node)),
      traefik("h3abc"),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });

  it("adds a node for a pod nominated to a node that has since gone", async () => {
    const output = await planFull([tdarr("nomin", { nominatedNodeName: "talos-worker-9" })]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(output.proposals[0]?.reasons.join("\n")).toContain("tdarr-node-6d8c7f5b49-nomin");
  });

  it("adds a node for a pod nominated to a node cordoned since, which no longer takes it", async () => {
    const output = await plan([
      ...cluster(WORKERS, { "talos-worker-1": { unschedulable: true } }),
      ...fillers(),
      tdarr("nomcd", { nominatedNodeName: "talos-worker-1" }),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(output.proposals[0]?.reasons.join("\n")).toMatch(
      /tdarr-node-6d8c7f5b49-nomcd[^\n]*→ new-1/,
    );
  });
});

describe("plan against a served cluster: removing a node", () => {
  it("removes the highest-index node; DaemonSet and mirror pods do not hold it", async () => {
    const output = await planAboveMax(
      pod("kube-system", "kube-vip-talos-worker-4", {
        node: "talos-worker-4",
        owner: { kind: "Node", name: "talos-worker-4" },
        annotations: { "kubernetes.io/config.mirror": "4b8d2f0c9e1a7b3d" },
        volumes: [{ hostPath: { path: "/etc/kubernetes", type: "" }, name: "kubeconfig" }],
      }),
    );
    expect(output.proposals).toHaveLength(1);
    expect(output.proposals[0]).toMatchObject({
      from: 4,
      to: 3,
      direction: "down",
      changes: [{ file: "terraform/terraform.tfvars", path: "worker_count", before: 4, after: 3 }],
    });
    const reasons = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(reasons).toContain("talos-worker-4");
    expect(reasons).toMatch(/talos-worker-4 has no blockers: met/);
  });

  it("gives the utilisation left once all the empty nodes a decrease takes are gone", async () => {
    // Five workers running only Cilium, 150m cpu and 1 GiB each: every one but the min's goes.
    const names = [...FOUR, "talos-worker-5"];
    const output = await plan(cluster(names, {}, { cpu: "150m", memory: "1Gi" }), {
      tfvars: tfvars(5),
      config: config({
        "    removal:":
          "    scaleDown:\n      unneededTime: 0s\n      maxEmptyBulk: 10\n    removal:",
      }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 5, to: 1 });
    const reasons = output.proposals[0]?.reasons.join("\n") ?? "";
    // The conditions project the first node's removal alone: 750m of 4 × 3800m.
    expect(reasons).toContain("scale-down: cpu after removal 4.9 % < 70 %: met");
    // With four gone, the same 750m cpu and 5 GiB fall on one node.
    expect(reasons).toContain(
      "scale-down: after removing all 4: cpu 20 % < 70 %, memory 33 % < 75 %",
    );
    // In --json, for each node taken, the utilisation with it and those before it gone.
    const decision = output.proposals[0]?.decision as { scaleDown: { bulk: Raw } };
    expect(decision.scaleDown.bulk.nodes).toEqual([
      "talos-worker-5",
      "talos-worker-4",
      "talos-worker-3",
      "talos-worker-2",
    ]);
    const projection = decision.scaleDown.bulk.projection as Raw[][];
    expect(projection).toHaveLength(4);
    expect(projection[3]).toEqual([
      { resource: "cpu", projected: expect.closeTo(19.74, 2), limit: 70 },
      { resource: "memory", projected: expect.closeTo(32.8, 2), limit: 75 },
    ]);
  });

  it("names whose requests the projection with all the empty nodes gone is of", async () => {
    // Five workers running only Cilium, and on talos-worker-1, which stays, an app asking 4 GiB:
    // with four nodes gone (their Cilium agents with them), memory requests (4.1 GiB of 15.2) are
    // the higher, not cpu (200m of 3800m).
    const names = [...FOUR, "talos-worker-5"];
    const app = pod("media", "jellyfin-7d9c65958-mem01", {
      node: "talos-worker-1",
      cpu: "100m",
      memory: "4Gi",
    });
    const output = await plan([...cluster(names, {}, { cpu: "150m", memory: "1Gi" }), app], {
      tfvars: tfvars(5),
      config: config({
        "    removal:":
          "    scaleUp:\n      requests: 60\n    scaleDown:\n      unneededTime: 0s\n      maxEmptyBulk: 10\n    removal:",
      }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 5, to: 1 });
    const reasons = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(reasons).toContain(
      "scale-down: after removing all 4: cpu 20 % < 70 %, memory 33 % < 75 %, memory requests 27 % < 50 %",
    );
    const decision = output.proposals[0]?.decision as { scaleDown: { bulk: Raw } };
    const projection = decision.scaleDown.bulk.projection as Raw[][];
    expect(projection[3]?.[2]).toEqual({
      resource: "requests",
      requestsOf: "memory",
      projected: expect.closeTo(27.06, 1),
      limit: 50,
    });
    // With the first node alone gone too: 500m of 15200m cpu against 4.5 of 61 GiB memory.
    expect(projection[0]?.[2]).toMatchObject({ resource: "requests", requestsOf: "memory" });
  });

  it("removes one empty node per decrease unless scaleDown.maxEmptyBulk lets more go", async () => {
    // Four workers running only Cilium, 150m cpu and 1 GiB each, min 1: an idle pool.
    const idle = cluster(FOUR, {}, { cpu: "150m", memory: "1Gi" });
    const withScaleDown = (lines: string) =>
      config({ "    removal:": `    scaleDown:\n      unneededTime: 0s\n${lines}    removal:` });
    const one = await plan(idle, { tfvars: tfvars(4), config: withScaleDown("") });
    expect(one.proposals).toHaveLength(1);
    expect(one.proposals[0]).toMatchObject({
      from: 4,
      to: 3,
      changes: [{ file: "terraform/terraform.tfvars", path: "worker_count", before: 4, after: 3 }],
    });
    const alone = one.proposals[0]?.reasons.join("\n") ?? "";
    expect(alone).toContain("scale down 4 → 3, removing talos-worker-4\n");
    expect(alone).toContain(
      "scale-down: talos-worker-4 goes alone; no more at once: scaleDown.maxEmptyBulk is 1",
    );
    const decision = one.proposals[0]?.decision as { removing: string[] };
    expect(decision.removing).toEqual(["talos-worker-4"]);
    // Opted in, the three empty nodes above the min go together.
    const bulk = await plan(idle, {
      tfvars: tfvars(4),
      config: withScaleDown("      maxEmptyBulk: 10\n"),
    });
    expect(bulk.proposals[0]).toMatchObject({ from: 4, to: 1 });
    expect(bulk.proposals[0]?.reasons.join("\n")).toContain(
      "scale-down: 3 empty nodes go together (at most 10): talos-worker-4, talos-worker-3, talos-worker-2; no more: the min is 1",
    );
    // The decrease removes all three, not talos-worker-4 alone; the bulk line lists them.
    expect(alone).toContain("scale-down: the decrease removes talos-worker-4\n");
    expect(bulk.proposals[0]?.reasons).toContain(
      "  scale-down: the decrease removes talos-worker-4 and 2 more",
    );
    expect((poolDecision(bulk).scaleDown as Raw).conditions).toContainEqual({
      kind: "candidate",
      met: true,
      node: "talos-worker-4",
      nodes: ["talos-worker-4", "talos-worker-3", "talos-worker-2"],
    });
  });

  it("explains that metrics-server's single sample is no evidence for removing a node", async () => {
    const output = await plan([...cluster(FOUR), ...apps()], { tfvars: tfvars(4) });
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toMatch(/scale-down: cpu < 30 % for 10m: no evidence over the window/);
    expect(note).toContain("scale-down: a decrease would remove talos-worker-4");
  });

  it("does not wait for the window when the node a decrease removes is blocked anyway", async () => {
    const output = await plan(
      [...cluster(FOUR), ...apps(), pod("default", "debug-shell", { ...onWorker4, owner: null })],
      { tfvars: tfvars(4) },
    );
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    // What the window shows cannot change the outcome: no window-uncovered hold.
    expect(note?.holds ?? []).toEqual([]);
    expect(note?.message).not.toContain("not yet over the window");
    expect(note?.message).toContain("not removed: talos-worker-4 has 1 blocker");
    expect(note?.message).toContain(
      "blockers on talos-worker-4: default/debug-shell: no controller would recreate it",
    );
  });

  const blockers: [string, Raw[], RegExp][] = [
    [
      "a PDB that allows no disruption",
      [
        pod("default", "home-assistant-0", {
          ...onWorker4,
          owner: { kind: "StatefulSet", name: "home-assistant" },
          labels: { "app.kubernetes.io/name": "home-assistant" },
        }),
        pdb("default", "home-assistant", { "app.kubernetes.io/name": "home-assistant" }, 0),
      ],
      /default\/home-assistant-0[^\n]*default\/home-assistant[^\n]*0/,
    ],
    [
      "an emptyDir volume",
      [
        pod("media", "tautulli-6b7f9d8c5-k2x9p", {
          ...onWorker4,
          volumes: [{ emptyDir: {}, name: "cache" }],
        }),
      ],
      /media\/tautulli-6b7f9d8c5-k2x9p[^\n]*cache \(emptyDir\)/,
    ],
    [
      "a hostPath volume",
      [
        pod("media", "jellyfin-7c9d6f5b8-m3q8r", {
          ...onWorker4,
          volumes: [{ hostPath: { path: "/dev/dri", type: "" }, name: "dri" }],
        }),
      ],
      /media\/jellyfin-7c9d6f5b8-m3q8r[^\n]*dri \(hostPath\)/,
    ],
    [
      'safe-to-evict: "false"',
      [
        pod("media", "sonarr-5f6d7c8b9-p4n2w", {
          ...onWorker4,
          annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" },
        }),
      ],
      /media\/sonarr-5f6d7c8b9-p4n2w[^\n]*safe-to-evict/,
    ],
    [
      "karpenter.sh/do-not-disrupt",
      [
        pod("media", "radarr-6c7d8e9f0-r5t6y", {
          ...onWorker4,
          annotations: { "karpenter.sh/do-not-disrupt": "true" },
        }),
      ],
      /media\/radarr-6c7d8e9f0-r5t6y[^\n]*do-not-disrupt/,
    ],
    [
      "a bare pod",
      [pod("default", "debug-shell", { ...onWorker4, owner: null })],
      /default\/debug-shell[^\n]*(controller|bare)/,
    ],
    [
      "a pod whose only owner is not a controller",
      [
        pod("default", "adhoc-migrate", {
          ...onWorker4,
          ownerReferences: [
            {
              apiVersion: "v1",
              kind: "ConfigMap",
              name: "migration-plan",
              uid: "0b6f3c1e-2d4a-4e8f-9a7b-5c3d2e1f0a9b",
            },
          ],
        }),
      ],
      /default\/adhoc-migrate[^\n]*(controller|bare)/,
    ],
  ];

  it.each(["cluster-autoscaler.kubernetes.io/scale-down-disabled", "karpenter.sh/do-not-disrupt"])(
    "keeps a node annotated %s, and says so",
    async (annotation) => {
      const output = await plan(
        [
          ...cluster(FOUR, { "talos-worker-4": { annotations: { [annotation]: "true" } } }),
          ...apps(),
        ],
        OVER_MAX,
      );
      expect(output.proposals).toEqual([]);
      const note = poolNote(output);
      expect(note).toContain("talos-worker-4 has 1 blocker: not met");
      expect(note).toContain(
        `blockers on talos-worker-4: the node is annotated ${annotation}: "true"`,
      );
    },
  );

  it("removes a node whose pod has only a memory-backed emptyDir, as cluster-autoscaler does", async () => {
    const shm = { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "1Gi" } };
    const postgres = (volumes: Raw[]) =>
      pod("db", "postgres-0", {
        ...onWorker4,
        owner: { kind: "StatefulSet", name: "postgres" },
        volumes,
      });
    const output = await planAboveMax(postgres([shm]));
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "talos-worker-4 has no blockers: met",
    );
    // A disk-backed one beside it still holds the node, and is the one named.
    const disk = await planAboveMax(postgres([shm, { name: "wal", emptyDir: {} }]));
    expect(disk.proposals).toEqual([]);
    expect(poolNote(disk)).toContain(
      "blockers on talos-worker-4: db/postgres-0: local storage wal (emptyDir) (set scaleDown.deleteEmptyDirData if its data may go with the node)",
    );
  });

  it("removes a node whose only unmovable pod is already being deleted", async () => {
    const output = await planAboveMax(
      pod("default", "debug-shell", {
        ...onWorker4,
        owner: null,
        deletionTimestamp: "2026-11-22T09:40:00Z",
      }),
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons.join("\n")).toMatch(/talos-worker-4 has no blockers: met/);
  });

  it.each(blockers)(
    "keeps the node when %s holds it, and names the blocker",
    async (_, objects, named) => {
      const output = await planAboveMax(...objects);
      expect(output.proposals).toEqual([]);
      const note = poolNote(output);
      expect(note).toContain("talos-worker-4 has 1 blocker: not met");
      expect(note).toMatch(/blockers on talos-worker-4: /);
      expect(note).toMatch(named);
    },
  );
});

/** Full workers and three pending pods that need two new nodes. */
function needsTwo(): Raw[] {
  return [...fillers(), tdarr("2kq9v"), tdarr("n7wzs"), tdarr("x4dpl")];
}

describe("plan against a served cluster: safety stops", () => {
  it("takes no action while more than 45 % of the pool's nodes are not Ready", async () => {
    const output = await plan(
      [
        ...cluster(FOUR, {
          "talos-worker-3": { ready: false },
          "talos-worker-4": { ready: false },
        }),
        ...needsTwo(),
      ],
      { tfvars: tfvars(4) },
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "hold: 2 of 4 nodes not Ready (50 % > 45 %): talos-worker-3, talos-worker-4; no action",
    );
  });

  it("with metrics-server not installed: usage unknown, pending pods still add nodes", async () => {
    const served = await serveForTest([...cluster(), ...needsTwo()]);
    served.fake.uninstall("metrics.k8s.io");
    const output = await served.plan();
    expect(output.proposals).toHaveLength(1);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
    expect(output.proposals[0]?.reasons.join("\n")).toMatch(/unknown/);
  });

  it("with metrics-server not installed, a low-request pool removes no node", async () => {
    const served = await serveForTest([...cluster(FOUR), ...apps()]);
    served.fake.uninstall("metrics.k8s.io");
    const output = await served.plan({ tfvars: tfvars(4) });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/unknown/);
  });

  it("takes metrics recorded with the cluster as fresh when --now is the recording's time", async () => {
    // A served recording: every sample stamped 15 s before the time it was taken.
    const recordedAt = "2026-11-20T14:30:00Z";
    const objects = [...cluster(FOUR), ...apps()].map((object) =>
      object.kind === "NodeMetrics" || object.kind === "PodMetrics"
        ? { ...object, timestamp: "2026-11-20T14:29:45Z" }
        : object,
    );
    const stale = await plan(objects, { tfvars: tfvars(4) });
    expect(poolNote(stale)).toContain("usage unknown on");
    const recorded = await plan(objects, { tfvars: tfvars(4) }, recordedAt);
    expect(poolNote(recorded)).not.toContain("usage unknown on");
    expect(poolNote(recorded)).toMatch(/utilisation: cpu \d+(\.\d+)? % \(metrics-server/);
  });

  it("takes a node without metrics as unknown, not as idle", async () => {
    const objects = [...cluster(FOUR), ...apps()].filter(
      (object) => !(object.kind === "NodeMetrics" && nameOf(object) === "talos-worker-2"),
    );
    const output = await plan(objects, { tfvars: tfvars(4) });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "hold: cpu and memory usage unknown on talos-worker-2; no decision is taken on the pool's usage (unknown is not zero)",
    );
    // The check names the node it lacks, not the pool's usage as never observed.
    expect(poolNote(output)).toContain(
      "scale-down: cpu < 30 % for 10m: unknown, usage not observed on talos-worker-2",
    );
  });

  it("clamps pending-pod growth to max and says which pods are left", async () => {
    const output = await plan([...cluster(), ...needsTwo()], {
      config: config({ "max: 6": "max: 4" }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(output.proposals[0]?.reasons.join("\n")).toMatch(
      /beyond max: 2 new nodes needed, 1 allowed/,
    );
  });

  it("clamps to the host cap", async () => {
    const host = "    host:\n      maxNodes: 4\n    removal:";
    const output = await plan([...cluster(), ...needsTwo()], {
      config: config({ "    removal:": host }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(output.proposals[0]?.reasons.join("\n")).toMatch(/host cap 4/);
  });

  it("raises to the min when the repo asks for fewer nodes", async () => {
    const output = await plan([...cluster(["talos-worker-1"])], {
      tfvars: tfvars(1),
      config: config({ "min: 1": "min: 2" }),
    });
    expect(output.proposals[0]).toMatchObject({
      from: 1,
      to: 2,
      changes: [{ before: 1, after: 2 }],
    });
  });

  it("does not use the room of a cordoned node or one being deleted", async () => {
    const output = await plan(
      [
        ...cluster(FOUR, {
          "talos-worker-3": { unschedulable: true },
          "talos-worker-4": {
            taints: [
              { key: "ToBeDeletedByClusterAutoscaler", value: "1732265100", effect: "NoSchedule" },
            ],
          },
        }),
        ...[WORKERS[0], WORKERS[1]].map((node, index) => filler(node as string, index)),
        tdarr("2kq9v"),
      ],
      { tfvars: tfvars(4) },
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 5 });
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "tdarr-node-6d8c7f5b49-2kq9v (cpu 1500m, memory 2 GiB) → new-1",
    );
  });

  it("ignores nodes the pool's selector does not pick", async () => {
    const gpu = worker("talos-gpu-1", {
      labels: {
        "node.kubernetes.io/instance-type": "8VCPU-32GB-GPU",
        "nvidia.com/gpu.present": "true",
      },
      // Tainted, so the pending pods cannot take its room either.
      taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }],
      allocatable: { cpu: "7800m", memory: "32567188Ki", pods: "110" },
    });
    const selector = `    selector:
      matchLabels:
        node.kubernetes.io/instance-type: 4VCPU-16GB
`;
    const output = await plan(
      [...cluster(), gpu, freshNodeMetrics("talos-gpu-1", "100m", "1Gi"), ...needsTwo()],
      {
        config: config({
          "    selector:\n      matchExpressions:\n        - key: node-role.kubernetes.io/control-plane\n          operator: DoesNotExist\n":
            selector,
        }),
      },
    );
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
    const reasons = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(reasons).toContain("nodes: 3 in the pool, 3 Ready");
    expect(reasons).not.toContain("talos-gpu-1");
  });
});

describe("plan against a served cluster: schedules", () => {
  const friday = `    schedules:
      - name: friday-evening
        cron: "0 18 * * 5"
        timezone: Europe/Berlin
        duration: 6h
        min: 4
    removal:`;

  it("raises the min while the window is open on the zone's wall clock", async () => {
    const served = await serveForTest(cluster());
    const files = { config: config({ "    removal:": friday }) };
    // 18:30 in Berlin (CET, UTC+1) on Friday 2026-11-27.
    const open = await served.plan(files, "2026-11-27T17:30:00Z");
    expect(open.proposals[0]).toMatchObject({
      from: 3,
      to: 4,
      changes: [{ file: "terraform/terraform.tfvars", path: "worker_count", before: 3, after: 4 }],
    });
    expect(open.proposals[0]?.reasons.join("\n")).toContain("friday-evening");
    // 17:30 in Berlin: 17:30 UTC would be inside, but the window opens on Berlin's clock.
    const before = await served.plan(files, "2026-11-27T16:30:00Z");
    expect(before.proposals).toEqual([]);
    // Saturday 00:30 in Berlin: six hours have passed.
    const after = await served.plan(files, "2026-11-27T23:30:00Z");
    expect(after.proposals).toEqual([]);
  });
});

describe("plan against a served cluster: long lists", () => {
  /** 1,200 running pods: three pages of 500; the pending pod sorts last, on the last page. */
  function crowded(): Raw[] {
    return [
      ...cluster(),
      ...fillers(),
      ...manyPods(1200),
      pod("zz-late", "tdarr-node-6d8c7f5b49-zzzzz", { cpu: "1500m", memory: "2Gi" }),
    ];
  }

  it("reads every page and counts the pending pod on the last one", async () => {
    const served = await serveForTest(crowded());
    const output = await served.plan();
    expect(
      served.fake.requests.filter((r) => r.path === "/api/v1/pods" && r.query.continue).length,
    ).toBeGreaterThanOrEqual(2);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "zz-late/tdarr-node-6d8c7f5b49-zzzzz",
    );
  });

  it("takes no action when the pod list's continue token keeps expiring", async () => {
    const served = await serveForTest(crowded());
    served.fake.injectFault({
      path: "/api/v1/pods",
      continued: true,
      status: 410,
      times: Number.POSITIVE_INFINITY,
    });
    const output = await served.plan();
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/incomplete[^\n]*pods/);
  });
});
