/**
 * Scale-down as an operator checks it against `plan --kubeconfig`, second pass: each expectation
 * was written before the plan was read, from cluster-autoscaler's scale-down simulation (does
 * every pod of the node Terraform `count` destroys find room on the nodes left, one after the
 * other, with its rules), what the eviction API lets a drain do under a PodDisruptionBudget (the
 * disruption controller's status, its `IfHealthyBudget` default) and docs/configuration.md
 * ("Scale down"). What plan-served-acceptance-down.test.ts pins is not repeated here.
 */
import { describe, expect, it } from "@jest/globals";
import { type PlanJson, pod, type Raw } from "./served-cluster.ts";
import {
  apps,
  cluster,
  config,
  FOUR,
  judgedNow,
  OVER_MAX,
  onWorker4,
  plan,
  poolNote,
  tfvars,
} from "./served-plan.ts";

/** Four workers counted by the repo, judged on metrics-server's sample (unneededTime 0). */
const NOW_FOUR = judgedNow(4);

/** The pool's decision, from the proposal or, with none, from the pool's note. */
function decision(output: PlanJson): Raw {
  const from =
    output.proposals[0]?.decision ??
    output.notes.find((entry) => entry.subject === "pool/workers")?.decision;
  return (from ?? {}) as Raw;
}

/** The scale-down condition of `kind` in the pool's decision. */
function condition(output: PlanJson, kind: string): Raw | undefined {
  const scaleDown = decision(output).scaleDown as { conditions: Raw[] } | undefined;
  return scaleDown?.conditions.find((entry) => entry.kind === kind);
}

/** A 1-cpu app pod on each of the first three workers: 2.7 of their 3.8 cpu stay free. */
function busyLower(cpu = "1"): Raw[] {
  return FOUR.slice(0, 3).map((node, index) =>
    pod("media", `plex-7d9c65958-fil${index}x`, { node, cpu, memory: "1Gi" }),
  );
}

describe("plan acceptance, scale-down 2: a blocker on a node the decrease does not remove", () => {
  it('removes talos-worker-4 while a safe-to-evict: "false" pod holds talos-worker-2, and lists it under talos-worker-2', async () => {
    const output = await plan(
      [
        ...cluster(FOUR),
        ...apps(FOUR),
        pod("home", "backup-7c9d8f6b5-lw2aa", {
          node: "talos-worker-2",
          cpu: "100m",
          memory: "128Mi",
          annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" },
        }),
      ],
      NOW_FOUR,
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down" });
    const reasons = output.proposals[0]?.reasons ?? [];
    expect(reasons).toContain("  scale-down: talos-worker-4 has no blockers: met");
    expect(reasons).toContain(
      '  blockers on talos-worker-2: home/backup-7c9d8f6b5-lw2aa: safe-to-evict is "false"',
    );
  });
});

describe("plan acceptance, scale-down 2: pods that need no room elsewhere", () => {
  /** A 3-cpu pod on talos-worker-4 of `priority`: no other worker has 3 cpu free. */
  function scavenger(priority: number): Raw {
    const object = pod("batch", "scavenger-6d5c4b3a2-ex4aa", { ...onWorker4, cpu: "3" });
    Object.assign(object.spec as Raw, { priority, priorityClassName: "overprovisioning" });
    return object;
  }

  it("removes talos-worker-4 whose expendable pod (priority -100) would fit nowhere: it is dropped, not moved", async () => {
    const output = await plan([...cluster(FOUR), ...busyLower(), scavenger(-100)], NOW_FOUR);
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: 0 pods of talos-worker-4 fit on the other nodes: met (1 expendable pod dropped, not moved: batch/scavenger-6d5c4b3a2-ex4aa)",
    );
    expect(condition(output, "pods-fit")).toMatchObject({
      met: true,
      pods: 0,
      dropped: ["batch/scavenger-6d5c4b3a2-ex4aa"],
      unplaced: [],
    });
  });

  it("keeps it when the pod's priority is -10, the cutoff itself: only a priority below it is expendable", async () => {
    const output = await plan([...cluster(FOUR), ...busyLower(), scavenger(-10)], NOW_FOUR);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "not removed: not every pod of talos-worker-4 fits on the other nodes (no room for batch/scavenger-6d5c4b3a2-ex4aa: it needs more cpu than any other node of the pool has free)",
    );
  });

  it('removes talos-worker-4 whose only pod is being deleted, though it is bare, large and says safe-to-evict: "false"', async () => {
    // The pod leaves whatever happens to the node: it neither blocks nor needs room.
    const leaving = pod("home", "old-runner", {
      ...onWorker4,
      owner: null,
      cpu: "3",
      annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" },
      deletionTimestamp: "2026-11-24T04:40:00Z",
    });
    const output = await plan([...cluster(FOUR), ...apps(FOUR.slice(0, 3)), leaving], NOW_FOUR);
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(condition(output, "no-blockers")).toMatchObject({ met: true, blockers: [] });
  });
});

describe("plan acceptance, scale-down 2: a run of empty nodes (maxEmptyBulk 3)", () => {
  it('takes talos-worker-3, whose only pod is expendable, with talos-worker-4, whose DaemonSet pod says safe-to-evict: "false"', async () => {
    // A drain leaves DaemonSet pods alone, whatever they say; an expendable pod is not moved.
    const agent = pod("kube-system", "node-agent-7x4kq", {
      ...onWorker4,
      owner: { kind: "DaemonSet", name: "node-agent" },
      annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" },
    });
    const scavenger = pod("batch", "scavenger-6d5c4b3a2-ex3aa", {
      node: "talos-worker-3",
      cpu: "100m",
      memory: "128Mi",
    });
    Object.assign(scavenger.spec as Raw, { priority: -100 });
    const output = await plan([...cluster(FOUR), ...apps(FOUR.slice(0, 2)), scavenger, agent], {
      tfvars: tfvars(4),
      config: config({
        "    removal:":
          "    scaleDown:\n      unneededTime: 0\n      maxEmptyBulk: 3\n    removal:",
      }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 2 });
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: 2 empty nodes go together (at most 3): talos-worker-4, talos-worker-3 (1 expendable pod dropped, not moved: batch/scavenger-6d5c4b3a2-ex3aa); not talos-worker-2 too: it runs 1 pod, and a node with pods goes alone",
    );
    expect((decision(output).scaleDown as Raw | undefined)?.bulk).toMatchObject({
      nodes: ["talos-worker-4", "talos-worker-3"],
      dropped: ["batch/scavenger-6d5c4b3a2-ex3aa"],
    });
  });
});

describe("plan acceptance, scale-down 2: what the judgement rests on", () => {
  it("keeps every node while cpu requests are exactly 50 %: the threshold is not below it", async () => {
    // 1800m and Cilium's 100m on each worker: 1900m of 3800m.
    const requesting = FOUR.map((node, index) =>
      pod("default", `cache-5d8f7c9b6-rq${index}xx`, { node, cpu: "1800m", memory: "128Mi" }),
    );
    const output = await plan([...cluster(FOUR), ...requesting], NOW_FOUR);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain("scale-down: cpu requests 50 % < 50 %: not met");
    expect(condition(output, "requests")).toMatchObject({
      resource: "cpu",
      met: false,
      percent: 50,
    });
  });

  it("removes no node while metrics-server has no sample of talos-worker-2, though the others are idle, and names it", async () => {
    const objects = [...cluster(FOUR), ...apps(FOUR)].filter(
      (object) =>
        !(object.kind === "NodeMetrics" && (object.metadata as Raw).name === "talos-worker-2"),
    );
    const output = await plan(objects, NOW_FOUR);
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain(
      "hold: cpu and memory usage unknown on talos-worker-2; no decision is taken on the pool's usage (unknown is not zero)",
    );
    expect(note).toContain(
      "scale-down: cpu < 30 % for 0s: unknown, usage not observed on talos-worker-2",
    );
    expect(note).toContain("scale-down: cpu after removal < 70 %: unknown, so not met");
    expect(condition(output, "projection")).toEqual({
      kind: "projection",
      met: false,
      resource: "cpu",
      limit: 70,
    });
  });
});

describe("plan acceptance, scale-down 2: where the pods of talos-worker-4 would go", () => {
  it("keeps talos-worker-4 above the max when its four 1.2-cpu runners fit one by one, not all together", async () => {
    // Each other worker has 2.3 cpu free: one runner each, and the fourth finds 1.1 cpu left.
    const runners = [0, 1, 2, 3].map((index) =>
      pod("ci", `runner-6c7d8e9f0-mv${index}aa`, { ...onWorker4, cpu: "1200m" }),
    );
    const output = await plan([...cluster(FOUR), ...busyLower("1400m"), ...runners], OVER_MAX);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "not removed: not every pod of talos-worker-4 fits on the other nodes (no room for ci/runner-6c7d8e9f0-mv3aa: once the pods placed before it take their room, it needs more cpu than any other node of the pool has free)",
    );
    expect(condition(output, "pods-fit")).toMatchObject({
      met: false,
      pods: 4,
      causes: [
        {
          pod: "ci/runner-6c7d8e9f0-mv3aa",
          cause: "room",
          resources: ["cpu"],
          afterOthers: true,
        },
      ],
    });
  });

  it("keeps talos-worker-4 above the max when only talos-worker-3, not Ready, has room, and says its room is not counted", async () => {
    // kubectl shows 3.7 cpu free on talos-worker-3, but a node not Ready takes no pods.
    const full = (node: string, index: number) =>
      pod("media", `plex-7d9c65958-fil${index}x`, { node, cpu: "3500m", memory: "1Gi" });
    const output = await plan(
      [
        ...cluster(FOUR, { "talos-worker-3": { ready: false } }),
        full("talos-worker-1", 1),
        full("talos-worker-2", 2),
        pod("ci", "runner-6c7d8e9f0-nr4aa", { ...onWorker4, cpu: "1" }),
      ],
      OVER_MAX,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "not removed: not every pod of talos-worker-4 fits on the other nodes (no room for ci/runner-6c7d8e9f0-nr4aa: it needs more cpu than any other node of the pool has free; the room of talos-worker-3 (not Ready) is not counted)",
    );
    expect(condition(output, "pods-fit")).toMatchObject({
      met: false,
      uncounted: [{ node: "talos-worker-3", why: "not-ready" }],
    });
  });

  it("keeps talos-worker-4 above the max when the only other ssd worker is cordoned, and says its room is not counted", async () => {
    const ssd = { labels: { disk: "ssd" } };
    const output = await plan(
      [
        ...cluster(FOUR, {
          "talos-worker-3": { ...ssd, unschedulable: true },
          "talos-worker-4": ssd,
        }),
        pod("db", "pg-6b7c8d9e0f-ss4aa", { ...onWorker4, nodeSelector: { disk: "ssd" } }),
      ],
      OVER_MAX,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "(db/pg-6b7c8d9e0f-ss4aa: its nodeSelector matches none of the nodes with room; the room of talos-worker-3 (cordoned) is not counted)",
    );
    expect(condition(output, "pods-fit")).toMatchObject({
      causes: [{ pod: "db/pg-6b7c8d9e0f-ss4aa", cause: "node-selector" }],
      uncounted: [{ node: "talos-worker-3", why: "cordoned" }],
    });
  });

  it("moves a zone-spread replica only to the zone it leaves: removes talos-worker-4 while talos-worker-3 has room, not once it is full", async () => {
    // Zones a (workers 1, 2) and b (workers 3, 4), one web replica on each worker, maxSkew 1
    // over the zone with DoNotSchedule: talos-worker-4's replica may go to zone b alone, as
    // zone a would have 3 against 1. The control plane carries no zone label: no domain.
    const zone = (name: string) => ({ labels: { "topology.kubernetes.io/zone": name } });
    const zones = {
      "talos-worker-1": zone("a"),
      "talos-worker-2": zone("a"),
      "talos-worker-3": zone("b"),
      "talos-worker-4": zone("b"),
    };
    const spread = [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: { "app.kubernetes.io/name": "web" } },
      },
    ];
    const replicas = FOUR.map((node, index) =>
      pod("web", `web-6b7c8d9e0f-z${index}aaa`, {
        node,
        cpu: "100m",
        memory: "128Mi",
        labels: { "app.kubernetes.io/name": "web" },
        topologySpreadConstraints: spread,
      }),
    );
    const roomy = await plan([...cluster(FOUR, zones), ...replicas], OVER_MAX);
    expect(roomy.proposals[0]).toMatchObject({ from: 4, to: 3 });
    // Cilium, a replica and 3.6 cpu fill talos-worker-3's 3.8.
    const full = pod("media", "plex-7d9c65958-fil3x", {
      node: "talos-worker-3",
      cpu: "3600m",
      memory: "1Gi",
    });
    const kept = await plan([...cluster(FOUR, zones), ...replicas, full], OVER_MAX);
    expect(kept.proposals).toEqual([]);
    expect(poolNote(kept)).toContain(
      "(web/web-6b7c8d9e0f-z3aaa: a topology spread constraint (DoNotSchedule) keeps it off the nodes with room)",
    );
  });

  it("keeps talos-worker-4 when the other workers carry a taint its pod does not tolerate", async () => {
    const dedicated = { taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] };
    const output = await plan(
      [
        ...cluster(FOUR, {
          "talos-worker-1": dedicated,
          "talos-worker-2": dedicated,
          "talos-worker-3": dedicated,
        }),
        ...apps(FOUR),
      ],
      NOW_FOUR,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "(default/echo-server-5d8f7c9b6-ap3xx: it does not tolerate the taints of the nodes with room)",
    );
    expect(condition(output, "pods-fit")).toMatchObject({
      causes: [{ pod: "default/echo-server-5d8f7c9b6-ap3xx", cause: "taints" }],
    });
  });

  it("keeps talos-worker-4 when its pod's volume can only be reached from talos-worker-4's zone", async () => {
    // A Ceph RBD volume provisioned with the node affinity of zone b, where talos-worker-4 alone is.
    const zone = (name: string) => ({ labels: { "topology.kubernetes.io/zone": name } });
    const paperless = pod("home", "paperless-5b6c7d8e9-zn4aa", {
      ...onWorker4,
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: "paperless-data" } }],
    });
    const claim = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "paperless-data", namespace: "home" },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "ceph-block",
        volumeName: "pvc-5e1f7a2b",
        resources: { requests: { storage: "5Gi" } },
      },
      status: { phase: "Bound" },
    };
    const volume = {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pvc-5e1f7a2b" },
      spec: {
        capacity: { storage: "5Gi" },
        accessModes: ["ReadWriteOnce"],
        storageClassName: "ceph-block",
        csi: { driver: "rbd.csi.ceph.com", volumeHandle: "0001-0009-rook-ceph-5e1f7a2b" },
        claimRef: { name: "paperless-data", namespace: "home" },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: "topology.kubernetes.io/zone", operator: "In", values: ["b"] },
                ],
              },
            ],
          },
        },
      },
      status: { phase: "Bound" },
    };
    const output = await plan(
      [
        ...cluster(FOUR, {
          "talos-worker-1": zone("a"),
          "talos-worker-2": zone("a"),
          "talos-worker-3": zone("a"),
          "talos-worker-4": zone("b"),
        }),
        ...apps(FOUR.slice(0, 3)),
        paperless,
        claim,
        volume,
      ],
      NOW_FOUR,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "(home/paperless-5b6c7d8e9-zn4aa: the node affinity of a volume it mounts matches none of the nodes with room)",
    );
    expect(condition(output, "pods-fit")).toMatchObject({
      causes: [{ pod: "home/paperless-5b6c7d8e9-zn4aa", cause: "volume-node-affinity" }],
    });
  });

  /** An ingress pod holding `protocol` port 443 on its node's addresses. */
  function ingress(node: string, index: number, protocol: "TCP" | "UDP"): Raw {
    return pod("ingress", `ingress-nginx-7f9c8d6b5-hp${index}aa`, {
      node,
      cpu: "100m",
      memory: "128Mi",
      ports: [{ containerPort: 443, hostPort: 443, protocol }],
    });
  }

  it("keeps talos-worker-4 when every other worker holds host port 443/TCP, and removes it when they hold 443/UDP", async () => {
    const onFour = ingress("talos-worker-4", 3, "TCP");
    const taken = await plan(
      [...cluster(FOUR), ...FOUR.slice(0, 3).map((node, i) => ingress(node, i, "TCP")), onFour],
      NOW_FOUR,
    );
    expect(taken.proposals).toEqual([]);
    expect(poolNote(taken)).toContain(
      "(ingress/ingress-nginx-7f9c8d6b5-hp3aa: a host port it takes is in use on the nodes with room)",
    );
    const otherProtocol = await plan(
      [...cluster(FOUR), ...FOUR.slice(0, 3).map((node, i) => ingress(node, i, "UDP")), onFour],
      NOW_FOUR,
    );
    expect(otherProtocol.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });
});

describe("plan acceptance, scale-down 2: budgets as the disruption controller and the eviction API count them", () => {
  /** The StatefulSet web's replica `index` on `node`, Ready or not (Running either way). */
  function replica(index: number, node: string, ready: boolean): Raw {
    const object = pod("web", `web-${index}`, {
      node,
      cpu: "100m",
      memory: "128Mi",
      owner: { kind: "StatefulSet", name: "web" },
      labels: { "app.kubernetes.io/name": "web" },
    });
    const status = object.status as { conditions: Raw[] };
    status.conditions = status.conditions.map((entry) =>
      entry.type === "Ready" || entry.type === "ContainersReady"
        ? { ...entry, status: ready ? "True" : "False", reason: "ContainersNotReady" }
        : entry,
    );
    return object;
  }

  /** A budget over web as the disruption controller reports it: allowed = healthy - desired. */
  function budget(
    spec: Raw,
    status: { expected: number; healthy: number; desired: number },
    selector: Raw | null = { matchLabels: { "app.kubernetes.io/name": "web" } },
  ): Raw {
    return {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "web", namespace: "web", generation: 1 },
      spec: { ...(selector ? { selector } : {}), ...spec },
      status: {
        currentHealthy: status.healthy,
        desiredHealthy: status.desired,
        disruptionsAllowed: Math.max(0, status.healthy - status.desired),
        expectedPods: status.expected,
        observedGeneration: 1,
      },
    };
  }

  const base = () => [...cluster(FOUR), ...apps(FOUR.slice(0, 3))];
  // minAvailable "50%" of 3 replicas rounds up to 2: with one not Ready, 2 healthy allow 0.
  const half = budget({ minAvailable: "50%" }, { expected: 3, healthy: 2, desired: 2 });

  it('keeps talos-worker-4 whose Ready replica a minAvailable "50%" budget of 3 protects while another is not Ready', async () => {
    const output = await plan(
      [
        ...base(),
        replica(1, "talos-worker-1", true),
        replica(2, "talos-worker-2", false),
        replica(3, "talos-worker-4", true),
        half,
      ],
      NOW_FOUR,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "blockers on talos-worker-4: web/web-3: PDB web/web allows 0 disruptions (1 once all of its pods are healthy), 1 of its pods is here",
    );
  });

  it("removes talos-worker-4 when the replica not Ready is the one on it: the healthy pods meet the budget", async () => {
    const output = await plan(
      [
        ...base(),
        replica(1, "talos-worker-1", true),
        replica(2, "talos-worker-2", true),
        replica(3, "talos-worker-4", false),
        half,
      ],
      NOW_FOUR,
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: talos-worker-4 has no blockers: met",
    );
  });

  it("removes talos-worker-4 under a budget whose selector matches none of its pods, and one with no selector", async () => {
    const elsewhere = budget(
      { minAvailable: 1 },
      { expected: 0, healthy: 0, desired: 1 },
      { matchLabels: { "app.kubernetes.io/name": "mosquitto" } },
    );
    const matched = await plan(
      [...base(), replica(3, "talos-worker-4", true), elsewhere],
      NOW_FOUR,
    );
    expect(matched.proposals[0]).toMatchObject({ from: 4, to: 3 });
    // In policy/v1 a budget without a selector selects no pod (an empty one selects all).
    const none = budget({ maxUnavailable: 0 }, { expected: 0, healthy: 0, desired: 0 }, null);
    const unselected = await plan([...base(), replica(3, "talos-worker-4", true), none], NOW_FOUR);
    expect(unselected.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });
});
