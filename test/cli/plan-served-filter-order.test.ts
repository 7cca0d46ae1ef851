/**
 * Which rule the plan names for a node that more than one rule keeps a pod off: the one
 * kube-scheduler names. Its default profile runs the filters in the order of
 * pkg/scheduler/apis/config/v1/default_plugins.go (NodeUnschedulable, NodeName,
 * TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, …, VolumeBinding, …) and stops at
 * the first that fails on a node, so a node with a taint the pod does not tolerate is counted
 * under "untolerated taint" in `kubectl describe pod`, whatever its labels, and one where a host
 * port the pod asks for is in use under "didn't have free ports", whatever pod anti-affinity
 * says. Each case below has a node that two rules rule out; the decisions are those the rules
 * give either way, and only the rule named is at stake.
 */
import { describe, expect, it } from "@jest/globals";
import { proxmoxVolume, REGION, volumeClaim, ZONE } from "../support/kube-volumes.ts";
import { type PlanJson, pod, type Raw, unschedulable } from "./served-cluster.ts";
import {
  apps,
  cluster,
  config,
  everyWorker,
  FOUR,
  fillers,
  plan,
  planFull,
  poolNote,
  tdarr,
  tfvars,
  untainted,
  WORKERS,
} from "./served-plan.ts";

/** The pool's decision, from the proposal or, with none, from the pool's note. */
function decision(output: PlanJson): Raw {
  const from =
    output.proposals[0]?.decision ??
    output.notes.find((entry) => entry.subject === "pool/workers")?.decision;
  return (from ?? {}) as Raw;
}

const INGRESS = { "app.kubernetes.io/name": "ingress-nginx" };

/**
 * An ingress-nginx replica taking host port 443 and kept apart from the others by required
 * anti-affinity on the hostname, on `node` or Pending.
 */
function ingress(suffix: string, node: string | undefined): Raw {
  return pod("ingress", `ingress-nginx-7f9c8d6b5-${suffix}`, {
    node,
    cpu: "100m",
    memory: "128Mi",
    labels: INGRESS,
    ports: [{ containerPort: 443, hostPort: 443, protocol: "TCP" }],
    affinity: {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: INGRESS }, topologyKey: "kubernetes.io/hostname" },
        ],
      },
    },
    ...(node
      ? {}
      : {
          scheduled: unschedulable(
            "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 node(s) didn't have free ports for the requested pod ports.",
          ),
        }),
  });
}

const APPS_TIER = { labels: { "example.net/tier": "apps" } };
const DEDICATED = { key: "dedicated", value: "media", effect: "NoSchedule" };

describe("plan: the rule named for a node where a host port is in use and anti-affinity rules it out", () => {
  it("says a host port in use keeps a pending replica off the workers, as NodePorts runs before InterPodAffinity", async () => {
    const output = await plan([
      ...cluster(),
      ingress("hp0aa", "talos-worker-1"),
      ingress("hp1aa", "talos-worker-2"),
      ingress("hp2aa", "talos-worker-3"),
      ingress("hp9aa", undefined),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4, direction: "up" });
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "pending: ingress/ingress-nginx-7f9c8d6b5-hp9aa (cpu 100m, memory 128 MiB) → new-1 (existing nodes: talos-worker-1 and 2 more have room but a host port in use there keeps it off; talos-cp-1 has room but a taint it does not tolerate keeps it off)",
    );
  });

  it("keeps talos-worker-4 for its replica and names the host port in use on the other workers", async () => {
    const output = await plan(
      [...cluster(FOUR), ...FOUR.map((node, index) => ingress(`hp${index}aa`, node))],
      {
        tfvars: tfvars(4),
        config: config({ "    removal:": "    scaleDown:\n      unneededTime: 0\n    removal:" }),
      },
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "(ingress/ingress-nginx-7f9c8d6b5-hp3aa: a host port it takes is in use on the nodes with room)",
    );
  });
});

describe("plan: the rule named for a node short of room that a rule checked before room rules out", () => {
  it("says the control plane's taint keeps a pending pod off it, not its too little cpu", async () => {
    // Workers full (3 of 3.8 cpu taken); the control plane has 1950m free, too little for the
    // 2500m pod, and a taint it does not tolerate: TaintToleration runs before NodeResourcesFit.
    const pending = tdarr("tr1aa", {
      cpu: "2500m",
      scheduled: unschedulable(
        "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu.",
      ),
    });
    const output = await planFull([pending]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4, direction: "up" });
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-tr1aa (cpu 2500m, memory 2 GiB) → new-1 (existing nodes: talos-worker-1 and 2 more have too little cpu free; talos-cp-1 has a taint it does not tolerate)",
    );
    const onNew = (decision(output).pending as { onNew: Raw[] }).onNew;
    expect(onNew[0]).toMatchObject({
      keptOff: {
        nodes: 4,
        rules: [{ cause: "taints", nodes: 1, node: "talos-cp-1", tooLittleRoom: 1 }],
        room: { nodes: 3, node: "talos-worker-1", resources: ["cpu"] },
      },
    });
  });

  it("says a host port in use keeps a pending replica off full workers, as NodePorts runs before NodeResourcesFit", async () => {
    const output = await plan([
      ...cluster(),
      ...fillers(WORKERS, "3700m"),
      ingress("hp0rr", "talos-worker-1"),
      ingress("hp1rr", "talos-worker-2"),
      ingress("hp2rr", "talos-worker-3"),
      ingress("hp9rr", undefined),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4, direction: "up" });
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "pending: ingress/ingress-nginx-7f9c8d6b5-hp9rr (cpu 100m, memory 128 MiB) → new-1 (existing nodes: talos-worker-1 and 2 more have a host port it asks for in use; talos-cp-1 has room but a taint it does not tolerate keeps it off)",
    );
  });
});

describe("plan: the rule named for a node that a taint and a nodeSelector both rule out", () => {
  it("says the control plane's taint keeps a pending pod off it, not its nodeSelector", async () => {
    // Workers labelled for the pod and full (3 of 3.8 cpu taken); the control plane has room
    // for it (1950m) but neither tolerates its taint nor carries the label.
    const pending = tdarr("ts1aa", {
      nodeSelector: { "example.net/tier": "apps" },
      scheduled: unschedulable(
        "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu.",
      ),
    });
    const output = await plan([
      ...cluster(undefined, everyWorker(APPS_TIER)),
      ...fillers(),
      pending,
    ]);
    expect(output.proposals).toHaveLength(1);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4, direction: "up" });
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-ts1aa (cpu 1500m, memory 2 GiB) → new-1 (existing nodes: talos-worker-1 and 2 more have too little cpu free; talos-cp-1 has room but a taint it does not tolerate keeps it off)",
    );
    const onNew = (decision(output).pending as { onNew: Raw[] }).onNew;
    expect(onNew[0]).toMatchObject({
      pod: "media/tdarr-node-6d8c7f5b49-ts1aa",
      keptOff: { nodes: 4, rules: [{ cause: "taints", nodes: 1, node: "talos-cp-1" }] },
    });
  });

  it("says a pod never fits for the taint a new node would have, not for its nodeSelector", async () => {
    // The pool's nodes are tainted for media and lack the label the pod asks for: a new node
    // would be the same, and the scheduler names the taint first on each.
    const pending = tdarr("ts2aa", {
      nodeSelector: { "example.net/disk": "nvme" },
      scheduled: unschedulable(
        "0/4 nodes are available: 4 node(s) had untolerated taint(s). preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
      ),
    });
    const output = await plan([
      ...cluster(undefined, everyWorker({ taints: [DEDICATED] })),
      pending,
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "never fits: media/tdarr-node-6d8c7f5b49-ts2aa (cpu 1500m, memory 2 GiB): it does not tolerate the taint dedicated=media:NoSchedule, which a new node of this pool would have",
    );
    expect(decision(output).pending).toMatchObject({
      neverFit: [
        {
          pod: "media/tdarr-node-6d8c7f5b49-ts2aa",
          reason: "taints",
          taints: ["dedicated=media:NoSchedule"],
        },
      ],
    });
  });

  it("keeps talos-worker-4 for its pod that the other workers' taint keeps off, and names the taint", async () => {
    // talos-worker-4 alone carries the label its pod asks for; the other workers have room but
    // a taint the pod does not tolerate, and not the label.
    const tainted = { taints: [DEDICATED] };
    const output = await plan(
      [
        ...cluster(FOUR, {
          "talos-worker-1": tainted,
          "talos-worker-2": tainted,
          "talos-worker-3": tainted,
          "talos-worker-4": { labels: { "example.net/disk": "nvme" } },
        }),
        ...apps(FOUR.slice(0, 3)),
        pod("home", "immich-ml-6c7d8e9f0-nv4aa", {
          node: "talos-worker-4",
          cpu: "100m",
          memory: "128Mi",
          nodeSelector: { "example.net/disk": "nvme" },
        }),
      ],
      {
        tfvars: tfvars(4),
        config: config({ "    removal:": "    scaleDown:\n      unneededTime: 0\n    removal:" }),
      },
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "(home/immich-ml-6c7d8e9f0-nv4aa: it does not tolerate the taints of the nodes with room)",
    );
    const scaleDown = decision(output).scaleDown as { conditions: Raw[] };
    expect(scaleDown.conditions.find((entry) => entry.kind === "pods-fit")).toMatchObject({
      causes: [{ pod: "home/immich-ml-6c7d8e9f0-nv4aa", cause: "taints" }],
    });
  });
});

/**
 * Traefik `ingress/<name>` taking host port 443 and keeping its ACME certificates on the claim
 * `acme`, bound to a Proxmox LVM volume of host pve-1 (reachable from zone pve-1 alone), on
 * `node` or Pending.
 */
function traefik(name: string, node: string | undefined, message?: string): Raw[] {
  return [
    proxmoxVolume("pvc-acme-4b7e2d9c", "pve-1", [
      { matchExpressions: [{ key: ZONE, operator: "In", values: ["pve-1"] }] },
    ]),
    volumeClaim("ingress", "acme", {
      storageClassName: "proxmox-lvm",
      volumeName: "pvc-acme-4b7e2d9c",
    }),
    pod("ingress", name, {
      node,
      cpu: "100m",
      memory: "128Mi",
      ports: [{ containerPort: 443, hostPort: 443, protocol: "TCP" }],
      volumes: [{ name: "acme", persistentVolumeClaim: { claimName: "acme" } }],
      ...(message ? { scheduled: unschedulable(message) } : {}),
    }),
  ];
}

/** An ingress-nginx replica holding host port 443 on `node`. */
function nginxOn(node: string, index: number): Raw {
  return pod("ingress", `ingress-nginx-7f9c8d6b5-vp${index}aa`, {
    node,
    cpu: "100m",
    memory: "128Mi",
    ports: [{ containerPort: 443, hostPort: 443, protocol: "TCP" }],
  });
}

/** `objects` with the control plane in zone `zone`, as the Proxmox cloud controller labels it. */
function controlPlaneIn(objects: Raw[], zone: string): Raw[] {
  return objects.map((object) => {
    if (object.kind !== "Node" || (object.metadata as Raw).name !== "talos-cp-1") return object;
    const metadata = object.metadata as Raw;
    return {
      ...object,
      metadata: { ...metadata, labels: { ...(metadata.labels as Raw), [ZONE]: zone } },
    };
  });
}

const PVE_1 = { labels: { [ZONE]: "pve-1" } };

describe("plan: the rule named for a node where a host port is in use and a volume's node affinity rules it out", () => {
  it("says a host port in use keeps a pending pod off the control plane out of its volume's zone, as NodePorts runs before VolumeBinding", async () => {
    // The workers share host pve-1 with the volume; the control plane, on pve-2, takes pods
    // (no taint) but neither reaches the volume nor has port 443 free.
    const output = await plan([
      ...controlPlaneIn(untainted(cluster(undefined, everyWorker(PVE_1))), "pve-2"),
      ...["talos-cp-1", "talos-worker-1", "talos-worker-2", "talos-worker-3"].map(nginxOn),
      ...traefik(
        "traefik-5c8d7f6b9-vp9aa",
        undefined,
        "0/4 nodes are available: 4 node(s) didn't have free ports for the requested pod ports. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.",
      ),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4, direction: "up" });
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "pending: ingress/traefik-5c8d7f6b9-vp9aa (cpu 100m, memory 128 MiB) → new-1 (existing nodes: talos-worker-1 and 3 more have room but a host port in use there keeps it off)",
    );
    const onNew = (decision(output).pending as { onNew: Raw[] }).onNew;
    expect(onNew[0]).toMatchObject({
      pod: "ingress/traefik-5c8d7f6b9-vp9aa",
      keptOff: { nodes: 4, rules: [{ cause: "host-ports", nodes: 4 }] },
    });
  });

  it("keeps talos-worker-4 for its pod and names the host port in use on the workers out of its volume's zone", async () => {
    const output = await plan(
      [
        ...cluster(FOUR, {
          ...everyWorker({ labels: { [ZONE]: "pve-2" } }),
          "talos-worker-4": PVE_1,
        }),
        ...["talos-worker-1", "talos-worker-2", "talos-worker-3"].map(nginxOn),
        ...traefik("traefik-5c8d7f6b9-vp4aa", "talos-worker-4"),
      ],
      {
        tfvars: tfvars(4),
        config: config({ "    removal:": "    scaleDown:\n      unneededTime: 0\n    removal:" }),
      },
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "(ingress/traefik-5c8d7f6b9-vp4aa: a host port it takes is in use on the nodes with room)",
    );
    const scaleDown = decision(output).scaleDown as { conditions: Raw[] };
    expect(scaleDown.conditions.find((entry) => entry.kind === "pods-fit")).toMatchObject({
      causes: [{ pod: "ingress/traefik-5c8d7f6b9-vp4aa", cause: "host-ports" }],
    });
  });
});

const PROXMOX_CSI = "csi.proxmox.sinextra.dev";

/** The CSINode of `node`: the Proxmox CSI plugin registered there, with 1 volume at most. */
function csiNode(node: string): Raw {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "CSINode",
    metadata: { name: node },
    spec: {
      drivers: [
        {
          name: PROXMOX_CSI,
          nodeID: node,
          topologyKeys: [REGION, ZONE],
          allocatable: { count: 1 },
        },
      ],
    },
  };
}

/** StatefulSet pod `db/<app>-0` on `node` with its claim bound to a volume of `host`'s LVM. */
function onHost(app: string, node: string, host: string): Raw[] {
  const volume = `pvc-${app}-2c9e4a7f`;
  return [
    proxmoxVolume(volume, host, [
      { matchExpressions: [{ key: ZONE, operator: "In", values: [host] }] },
    ]),
    volumeClaim("db", `data-${app}-0`, { storageClassName: "proxmox-lvm", volumeName: volume }),
    pod("db", `${app}-0`, {
      node,
      owner: { kind: "StatefulSet", name: app },
      cpu: "100m",
      memory: "128Mi",
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: `data-${app}-0` } }],
    }),
  ];
}

describe("plan: the rule named for a node whose CSI count is full and out of a volume's reach", () => {
  it("keeps talos-worker-4 for its pod and names the CSI count, as NodeVolumeLimits runs before VolumeBinding", async () => {
    // Each worker's CSINode lets the Proxmox plugin attach one volume; talos-worker-1 to -3, on
    // host pve-2, attach one each, and postgres' volume is on pve-1, talos-worker-4's host.
    const output = await plan(
      [
        ...cluster(FOUR, {
          ...everyWorker({ labels: { [ZONE]: "pve-2" } }),
          "talos-worker-4": PVE_1,
        }),
        ...FOUR.map(csiNode),
        ...["talos-worker-1", "talos-worker-2", "talos-worker-3"].flatMap((node, index) =>
          onHost(`mariadb${index}`, node, "pve-2"),
        ),
        ...onHost("postgres", "talos-worker-4", "pve-1"),
      ],
      {
        tfvars: tfvars(4),
        config: config({ "    removal:": "    scaleDown:\n      unneededTime: 0\n    removal:" }),
      },
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      `(db/postgres-0: its CSI volumes would take the nodes with room above the volumes they can attach (talos-worker-1: 1 of ${PROXMOX_CSI}), as the scheduler counts them)`,
    );
    const scaleDown = decision(output).scaleDown as { conditions: Raw[] };
    expect(scaleDown.conditions.find((entry) => entry.kind === "pods-fit")).toMatchObject({
      causes: [{ pod: "db/postgres-0", cause: "volume-limit" }],
    });
  });
});

describe("plan: a node not Ready among those that keep a pending pod off", () => {
  it("names the node not Ready beside the taint and the room, so that every node is accounted for", async () => {
    // talos-worker-4's kubelet stopped posting status: the node lifecycle controller taints it
    // node.kubernetes.io/unreachable, and the scheduler counts it under an untolerated taint.
    // The plan offers it nothing and says why: it is not Ready.
    const pending = tdarr("nr1aa", {
      cpu: "2500m",
      scheduled: unschedulable(
        "0/5 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 3 Insufficient cpu.",
      ),
    });
    const output = await plan(
      [...cluster(FOUR, { "talos-worker-4": { ready: false } }), ...fillers(), pending],
      { tfvars: tfvars(4) },
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 5, direction: "up" });
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-nr1aa (cpu 2500m, memory 2 GiB) → new-1 (existing nodes: talos-worker-1 and 2 more have too little cpu free; talos-worker-4 is not Ready; talos-cp-1 has a taint it does not tolerate)",
    );
    const onNew = (decision(output).pending as { onNew: Raw[] }).onNew;
    expect(onNew[0]).toMatchObject({
      keptOff: {
        nodes: 5,
        notReady: { nodes: 1, node: "talos-worker-4" },
        rules: [{ cause: "taints", nodes: 1, node: "talos-cp-1", tooLittleRoom: 1 }],
        room: { nodes: 3, node: "talos-worker-1", resources: ["cpu"] },
      },
    });
  });
});

describe("plan: a Ready node of unknown room among those that keep a pending pod off", () => {
  it("names the node whose room is not counted on, so that every node is accounted for", async () => {
    // A pod on talos-worker-4 asks for cpu "lots", which is no quantity: the room left on the
    // node is unknown, so the plan offers it nothing, and says why.
    const pending = tdarr("ru1aa", {
      cpu: "2500m",
      scheduled: unschedulable(
        "0/5 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 4 Insufficient cpu.",
      ),
    });
    const odd = pod("media", "odd-0", { node: "talos-worker-4", cpu: "lots", memory: "1Gi" });
    const output = await plan([...cluster(FOUR), ...fillers(), odd, pending], {
      tfvars: tfvars(4),
    });
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 5, direction: "up" });
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-ru1aa (cpu 2500m, memory 2 GiB) → new-1 (existing nodes: talos-worker-1 and 2 more have too little cpu free; talos-worker-4 has room not counted on (requests of its pods or allocatable unknown); talos-cp-1 has a taint it does not tolerate)",
    );
    const onNew = (decision(output).pending as { onNew: Raw[] }).onNew;
    expect(onNew[0]).toMatchObject({
      keptOff: {
        nodes: 5,
        roomUnknown: { nodes: 1, node: "talos-worker-4" },
        room: { nodes: 3, node: "talos-worker-1", resources: ["cpu"] },
      },
    });
    expect(onNew[0]?.keptOff).not.toHaveProperty("notReady");
  });
});
