import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import type { NodeDecision } from "../../src/planning/node-decision.ts";
import type {
  NodeInfo,
  PodAffinityTerm,
  PodInfo,
  TopologySpreadConstraint,
} from "../../src/planning/snapshot.ts";
import type { PoolConfigInput } from "../../src/policy/repo-config.ts";
import { buildSnapshot, node, nodes, pendingPod, pod } from "../support/snapshot-builder.ts";
import { BUSY, type PlanOptions, planOne, QUIET } from "./plan-helpers.ts";

/** Plans the pool on `workers` running or waiting for `pods`, as planOne does. */
function planOn(
  workers: NodeInfo[],
  pods: PodInfo[],
  pool?: Partial<PoolConfigInput>,
  options?: PlanOptions,
): NodeDecision {
  return planOne(buildSnapshot({ nodes: workers, pods }), pool, options);
}

function term(labels: Record<string, string>, topologyKey = "kubernetes.io/hostname") {
  return { selector: { matchLabels: labels }, topologyKey } satisfies PodAffinityTerm;
}

/** A DNS replica that no other replica may share a node with; running on `node` or pending. */
function dns(name: string, node?: string): PodInfo {
  const spec = {
    cpu: "100m",
    memory: "128Mi",
    labels: { app: "blocky" },
    podAntiAffinity: [term({ app: "blocky" })],
  };
  return node ? pod(`dns/${name}`, { ...spec, node }) : pendingPod(`dns/${name}`, spec);
}

describe("scale up with required pod anti-affinity", () => {
  it("adds a node for a replica that every existing node already runs one of", () => {
    const workers = nodes(3, BUSY);
    const decision = planOn(workers, [
      ...workers.map((w, i) => dns(`blocky-${i}`, w.name)),
      dns("blocky-3"),
    ]);
    expect(decision).toMatchObject({ action: "scale-up", current: 3, desired: 4 });
    expect(decision.pending.onExisting).toEqual([]);
    expect(decision.pending.onNew.map((p) => [p.pod, p.node])).toEqual([["dns/blocky-3", "new-1"]]);
  });

  it("puts two pending replicas on two new nodes, not one", () => {
    const workers = nodes(3, BUSY);
    const decision = planOn(workers, [
      ...workers.map((w, i) => dns(`blocky-${i}`, w.name)),
      dns("blocky-3"),
      dns("blocky-4"),
    ]);
    expect(decision).toMatchObject({ action: "scale-up", desired: 5 });
    expect(decision.pending.onNew.map((p) => p.node).sort()).toEqual(["new-1", "new-2"]);
  });

  it("keeps a pod off nodes whose pods' anti-affinity selects it", () => {
    const workers = nodes(2, BUSY);
    const noisy = (node: string) =>
      pod(`db/postgres-${node}`, {
        node,
        cpu: "500m",
        memory: "1Gi",
        labels: { app: "postgres" },
        podAntiAffinity: [
          {
            selector: { matchLabels: { tier: "batch" } },
            namespaces: ["jobs"],
            topologyKey: "kubernetes.io/hostname",
          },
        ],
      });
    const batch = pendingPod("jobs/import", { cpu: "1", memory: "1Gi", labels: { tier: "batch" } });
    const decision = planOn(workers, [...workers.map((w) => noisy(w.name)), batch]);
    expect(decision).toMatchObject({ action: "scale-up", desired: 3 });
    // The same pod in another namespace than the term names is not selected by it.
    const elsewhere = pendingPod("web/import", {
      cpu: "1",
      memory: "1Gi",
      labels: { tier: "batch" },
    });
    const placed = planOn(workers, [...workers.map((w) => noisy(w.name)), elsewhere]);
    expect(placed.action).toBe("none");
    expect(placed.pending.onExisting.map((p) => p.node)).toEqual(["worker-1"]);
  });

  it("says a pod that shuns the zone every new node would join never fits", () => {
    const zone = { labels: { "topology.kubernetes.io/zone": "rack-1" }, ...BUSY };
    const workers = nodes(2, zone);
    const decision = planOn(workers, [
      pod("media/plex-a", {
        node: "worker-1",
        cpu: "3500m",
        memory: "1Gi",
        labels: { app: "plex" },
      }),
      pod("media/fill", { node: "worker-2", cpu: "3500m", memory: "1Gi" }),
      pendingPod("media/tdarr", {
        cpu: "1",
        memory: "1Gi",
        podAntiAffinity: [term({ app: "plex" }, "topology.kubernetes.io/zone")],
      }),
    ]);
    expect(decision.action).toBe("none");
    expect(decision.pending.neverFit).toEqual([
      expect.objectContaining({
        pod: "media/tdarr",
        reason: "pod-anti-affinity",
        topologyKey: "topology.kubernetes.io/zone",
      }),
    ]);
    expect(explainNodeDecision(decision).join("\n")).toContain(
      "its required pod anti-affinity on topology.kubernetes.io/zone keeps it away",
    );
  });

  it("says when it is a running pod's anti-affinity that keeps a new node out", () => {
    const zone = { labels: { "topology.kubernetes.io/zone": "rack-1" }, ...BUSY };
    const workers = nodes(2, zone);
    const decision = planOn(workers, [
      pod("db/pg-0", {
        node: "worker-1",
        cpu: "3900m",
        memory: "1Gi",
        labels: { app: "pg" },
        podAntiAffinity: [term({ tier: "batch" }, "topology.kubernetes.io/zone")],
      }),
      pod("db/fill", { node: "worker-2", cpu: "3900m", memory: "1Gi" }),
      pendingPod("db/import", { cpu: "1", memory: "1Gi", labels: { tier: "batch" } }),
    ]);
    const [never] = decision.pending.neverFit;
    expect(never).toMatchObject({ pod: "db/import", reason: "pod-anti-affinity" });
    expect(never?.topologyKey).toBeUndefined();
    expect(explainNodeDecision(decision).join("\n")).toContain(
      "the required pod anti-affinity of pods already running keeps it away",
    );
  });

  describe("in a pool whose nodes are in different zones (one per Proxmox host)", () => {
    const ZONE = "topology.kubernetes.io/zone";
    const zoned = (name: string, zone: string) => node(name, { ...BUSY, labels: { [ZONE]: zone } });
    const replica = (name: string, where?: string) => {
      const spec = {
        cpu: "100m",
        memory: "128Mi",
        labels: { app: "blocky" },
        podAntiAffinity: [term({ app: "blocky" }, ZONE)],
      };
      return where ? pod(`dns/${name}`, { ...spec, node: where }) : pendingPod(`dns/${name}`, spec);
    };
    const workers = [
      zoned("worker-1", "pve1"),
      zoned("worker-2", "pve2"),
      zoned("worker-3", "pve3"),
    ];

    it("adds no node for a replica every zone already runs one of: a new node joins one of them", () => {
      const decision = planOn(workers, [
        ...workers.map((w, i) => replica(`blocky-${i}`, w.name)),
        replica("blocky-3"),
      ]);
      expect(decision.action).toBe("none");
      expect(decision.pending.onNew).toEqual([]);
      expect(decision.pending.neverFit).toEqual([
        expect.objectContaining({
          pod: "dns/blocky-3",
          reason: "topology-unknown",
          topologyKey: ZONE,
        }),
      ]);
      const text = explainNodeDecision(decision).join("\n");
      expect(text).toContain(
        `depends on ${ZONE}, which the pool's nodes carry with different values`,
      );
    });

    it("rules out a new node for a pod whose zone is avoided by a running pod's anti-affinity", () => {
      const guard = pod("db/pg-0", {
        node: "worker-1",
        cpu: "100m",
        memory: "128Mi",
        labels: { app: "pg" },
        podAntiAffinity: [term({ tier: "batch" }, ZONE)],
      });
      const fill = workers.map((w, i) =>
        pod(`db/fill-${i}`, { node: w.name, cpu: "3700m", memory: "1Gi" }),
      );
      const batch = pendingPod("db/import", { cpu: "1", memory: "1Gi", labels: { tier: "batch" } });
      const decision = planOn(workers, [guard, ...fill, batch]);
      expect(decision.pending.neverFit).toEqual([
        expect.objectContaining({
          pod: "db/import",
          reason: "topology-unknown",
          topologyKey: ZONE,
        }),
      ]);
      // A pod the guard does not select still gets a new node.
      const other = pendingPod("db/web", { cpu: "1", memory: "1Gi", labels: { tier: "web" } });
      const adds = planOn(workers, [guard, ...fill, other]);
      expect(adds).toMatchObject({ action: "scale-up", desired: 4 });
    });

    it("adds a node when newNode.labels says which zone new nodes join, and it is free", () => {
      const pods = [replica("blocky-0", "worker-1"), replica("blocky-1", "worker-2")];
      const fill = workers.map((w, i) =>
        pod(`dns/fill-${i}`, { node: w.name, cpu: "3950m", memory: "1Gi" }),
      );
      const snapshot = buildSnapshot({
        nodes: workers,
        pods: [...pods, ...fill, replica("blocky-2")],
      });
      const known = planOne(snapshot, { newNode: { labels: { [ZONE]: "pve3" } } });
      expect(known).toMatchObject({ action: "scale-up", desired: 4 });
      const taken = planOne(snapshot, { newNode: { labels: { [ZONE]: "pve1" } } });
      expect(taken.pending.neverFit).toEqual([
        expect.objectContaining({ pod: "dns/blocky-2", reason: "pod-anti-affinity" }),
      ]);
    });

    it("still adds a node when no pool node carries the key (the rule does not apply there)", () => {
      const plain = nodes(3, BUSY);
      const decision = planOn(plain, [
        ...plain.map((w, i) => pod(`dns/fill-${i}`, { node: w.name, cpu: "3950m", memory: "1Gi" })),
        replica("blocky-0", "worker-1"),
        replica("blocky-1"),
      ]);
      expect(decision).toMatchObject({ action: "scale-up", desired: 4 });
    });
  });
});

describe("scale up with required pod affinity", () => {
  const cache = (extra = {}) =>
    pendingPod("apps/cache", {
      cpu: "1",
      memory: "1Gi",
      podAffinity: [term({ app: "postgres" })],
      ...extra,
    });

  /** Two workers, postgres on the second using `cpu` of its 4 cores, and the cache pending. */
  const withPostgres = (cpu: string) =>
    planOn(nodes(2, BUSY), [
      pod("apps/postgres-0", {
        node: "worker-2",
        cpu,
        memory: "1Gi",
        labels: { app: "postgres" },
      }),
      cache(),
    ]);

  it("needs one pod that all its terms select, not one pod per term", () => {
    const web = pendingPod("apps/web", {
      cpu: "1",
      memory: "1Gi",
      podAffinity: [term({ role: "cache" }), term({ team: "home" })],
    });
    const running = (name: string, labels: Record<string, string>) =>
      pod(`apps/${name}`, { node: "worker-1", cpu: "500m", memory: "1Gi", labels });
    const split = planOn(nodes(2, BUSY), [
      running("redis-0", { role: "cache" }),
      running("grafana-0", { team: "home" }),
      web,
    ]);
    expect(split.pending.onExisting).toEqual([]);
    expect(split.pending.neverFit).toEqual([
      expect.objectContaining({
        pod: "apps/web",
        reason: "pod-affinity",
        topologyKey: "kubernetes.io/hostname",
      }),
    ]);
    const both = planOn(nodes(2, BUSY), [running("redis-0", { role: "cache", team: "home" }), web]);
    expect(both.pending.onExisting.map((p) => [p.pod, p.node])).toEqual([["apps/web", "worker-1"]]);
  });

  it("places a pod beside the pod it must run with", () => {
    const decision = withPostgres("1");
    expect(decision.pending.onExisting.map((p) => [p.pod, p.node])).toEqual([
      ["apps/cache", "worker-2"],
    ]);
  });

  it("adds no node for a pod whose partner's node is full: a new node would not run it", () => {
    const decision = withPostgres("3500m");
    expect(decision.action).toBe("none");
    expect(decision.pending.neverFit).toEqual([
      expect.objectContaining({ pod: "apps/cache", reason: "pod-affinity" }),
    ]);
  });

  it("lets the first pod of a group that selects itself go anywhere", () => {
    const workers = nodes(1, BUSY);
    const decision = planOn(workers, [
      pod("apps/fill", { node: "worker-1", cpu: "3500m", memory: "1Gi" }),
      cache({ labels: { app: "postgres" } }),
    ]);
    expect(decision).toMatchObject({ action: "scale-up", desired: 2 });
  });
});

describe("a pod and the pending or moving pod its affinity needs", () => {
  const server = (node?: string) => {
    const spec = { cpu: "2", memory: "1Gi", podAffinity: [term({ role: "cache" })] };
    return node
      ? pod("apps/immich-server", { ...spec, node })
      : pendingPod("apps/immich-server", spec);
  };
  const redis = (node?: string) => {
    const spec = { cpu: "1", memory: "128Mi", labels: { role: "cache" } };
    return node
      ? pod("apps/immich-redis", { ...spec, node })
      : pendingPod("apps/immich-redis", spec);
  };
  const full = (count: number) =>
    nodes(count, BUSY).map((w) => pod(`default/fill-${w.name}`, { node: w.name, cpu: "3800m" }));

  it("go on one new node together", () => {
    const decision = planOn(nodes(2, BUSY), [...full(2), server(), redis()]);
    expect(decision).toMatchObject({ action: "scale-up", desired: 3 });
    expect(decision.pending.neverFit).toEqual([]);
    expect(decision.pending.onNew.map((p) => [p.pod, p.node]).sort()).toEqual([
      ["apps/immich-redis", "new-1"],
      ["apps/immich-server", "new-1"],
    ]);
    // The group goes where its first pod, redis, found no existing node: named as a pod alone is.
    const placed = Object.fromEntries(decision.pending.onNew.map((p) => [p.pod, p]));
    expect(placed["apps/immich-redis"]?.keptOff).toEqual({
      nodes: 2,
      room: { nodes: 2, node: "worker-1", resources: ["cpu"] },
    });
    expect(explainNodeDecision(decision)).toContain(
      "  pending: apps/immich-redis (cpu 1, memory 128 MiB) → new-1 (existing nodes: worker-1 and 1 more have too little cpu free)",
    );
  });

  it("go together on a node of their own when a larger pod took the first one", () => {
    const big = pendingPod("batch/import", { cpu: "2500m", memory: "1Gi" });
    const decision = planOn(nodes(2, BUSY), [...full(2), big, server(), redis()]);
    expect(decision).toMatchObject({ action: "scale-up", desired: 4 });
    const where = Object.fromEntries(decision.pending.onNew.map((p) => [p.pod, p.node]));
    expect(where["apps/immich-server"]).toBe(where["apps/immich-redis"]);
    expect(where["batch/import"]).not.toBe(where["apps/immich-redis"]);
  });

  it("take the one node with room for both before a pod that fits elsewhere takes it", () => {
    // worker-1 has 3 cores free, worker-2 1500m. Largest first, the server (2 cpu) waits for
    // redis, the import (1500m) takes worker-1 and the two no longer fit there together. As the
    // scheduler binds them, redis and the server take worker-1 and the import worker-2.
    const fill = (node: string, cpu: string) =>
      pod(`default/fill-${node}`, { node, cpu, memory: "1Gi" });
    const decision = planOn(nodes(2, BUSY), [
      fill("worker-1", "1"),
      fill("worker-2", "2500m"),
      pendingPod("batch/import", { cpu: "1500m", memory: "1Gi" }),
      server(),
      redis(),
    ]);
    expect(decision.action).toBe("none");
    expect(decision.pending.onExisting.map((p) => [p.pod, p.node])).toEqual([
      ["apps/immich-redis", "worker-1"],
      ["apps/immich-server", "worker-1"],
      ["batch/import", "worker-2"],
    ]);
  });

  it("that select one another take the room before a pod of lower priority, at the max", () => {
    // Two replicas of priority 1000 must share a node (each one's affinity selects the other);
    // worker-1 has 2200m free, room for both or for the import (1500m, priority 0). The pool is
    // at its max: the replicas, served first, take worker-1 and the import is the pod left over.
    const web = (name: string) => ({
      ...pendingPod(`apps/${name}`, {
        cpu: "1",
        memory: "1Gi",
        labels: { app: "web" },
        podAffinity: [term({ app: "web" })],
      }),
      priority: 1000,
    });
    const fill = (node: string, cpu: string) =>
      pod(`default/fill-${node}`, { node, cpu, memory: "1Gi" });
    const decision = planOn(
      nodes(2, BUSY),
      [
        fill("worker-1", "1800m"),
        fill("worker-2", "3800m"),
        pendingPod("batch/import", { cpu: "1500m", memory: "1Gi" }),
        web("web-1"),
        web("web-2"),
      ],
      { max: 2 },
    );
    expect(decision.pending.onExisting.map((p) => [p.pod, p.node]).sort()).toEqual([
      ["apps/web-1", "worker-1"],
      ["apps/web-2", "worker-1"],
    ]);
    expect(decision.pending.overMax.map((p) => p.pod)).toEqual(["batch/import"]);
  });

  it("move together off a node being removed", () => {
    const workers = nodes(4, QUIET);
    const decision = planOn(workers, [server("worker-4"), redis("worker-4")]);
    expect(decision).toMatchObject({ action: "scale-down", removes: "worker-4" });
  });
});

describe("scale down with required pod anti-affinity", () => {
  it("keeps a node whose replica could go to no other node", () => {
    const workers = nodes(4, QUIET);
    const decision = planOn(
      workers,
      workers.map((w, i) => dns(`blocky-${i}`, w.name)),
    );
    expect(decision.action).toBe("none");
    const fit = decision.scaleDown.conditions.find((c) => c.kind === "pods-fit");
    expect(fit).toMatchObject({
      met: false,
      node: "worker-4",
      unplaced: ["dns/blocky-3"],
      causes: [{ pod: "dns/blocky-3", cause: "pod-anti-affinity" }],
    });
    expect(explainNodeDecision(decision).join("\n")).toContain(
      "1 pod of worker-4 fits on the other nodes: not met (dns/blocky-3: required pod anti-affinity keeps it off the nodes with room)",
    );
  });

  it("removes the node when another node has no replica yet", () => {
    const workers = nodes(4, QUIET);
    const decision = planOn(workers, [
      dns("blocky-0", "worker-1"),
      dns("blocky-1", "worker-2"),
      dns("blocky-3", "worker-4"),
    ]);
    expect(decision).toMatchObject({ action: "scale-down", removes: "worker-4" });
  });
});

/** A web replica spread over nodes (DoNotSchedule, skew at most 1); running on `node` or pending. */
function web(name: string, node?: string, constraint: Partial<TopologySpreadConstraint> = {}) {
  const spec = {
    cpu: "250m",
    memory: "256Mi",
    labels: { app: "web" },
    topologySpread: [
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        selector: { matchLabels: { app: "web" } },
        honorNodeAffinity: true,
        honorTaints: false,
        ...constraint,
      },
    ],
  };
  return node ? pod(`web/${name}`, { ...spec, node }) : pendingPod(`web/${name}`, spec);
}

describe("scale up with topology spread constraints", () => {
  /** worker-1 and -2 run two replicas each and have room; worker-3 runs one and is full. */
  function skewed(pending: PodInfo) {
    const workers = nodes(3, BUSY);
    return planOn(workers, [
      web("web-a", "worker-1"),
      web("web-b", "worker-1"),
      web("web-c", "worker-2"),
      web("web-d", "worker-2"),
      web("web-e", "worker-3"),
      pod("web/fill", { node: "worker-3", cpu: "3800m", memory: "1Gi" }),
      pending,
    ]);
  }

  it("adds a node when only the full node would keep the skew", () => {
    const decision = skewed(web("web-f"));
    expect(decision).toMatchObject({ action: "scale-up", desired: 4 });
    expect(decision.pending.onNew.map((p) => p.pod)).toEqual(["web/web-f"]);
  });

  it("uses existing room for the same pod without the constraint", () => {
    const decision = skewed(
      pendingPod("web/web-f", { cpu: "250m", memory: "256Mi", labels: { app: "web" } }),
    );
    expect(decision.action).toBe("none");
    expect(decision.pending.onExisting.map((p) => p.node)).toEqual(["worker-1"]);
  });

  it("says a pod spread over zones never fits a pool whose nodes span zones", () => {
    const zoned = (name: string, zone: string) =>
      node(name, { ...BUSY, labels: { "topology.kubernetes.io/zone": zone } });
    const decision = planOn(
      [zoned("worker-1", "a"), zoned("worker-2", "b")],
      [
        web("web-a", "worker-1", { topologyKey: "topology.kubernetes.io/zone" }),
        pod("web/fill-1", { node: "worker-1", cpu: "3500m", memory: "1Gi" }),
        pod("web/fill-2", { node: "worker-2", cpu: "3800m", memory: "1Gi" }),
        web("web-b", undefined, { topologyKey: "topology.kubernetes.io/zone" }),
      ],
    );
    expect(decision.action).toBe("none");
    // The zone a new node would join is not known: the pool's nodes differ in it.
    expect(decision.pending.neverFit).toEqual([
      expect.objectContaining({
        pod: "web/web-b",
        reason: "topology-unknown",
        topologyKey: "topology.kubernetes.io/zone",
      }),
    ]);
  });
});

describe("host ports", () => {
  /** An ingress replica taking port 443 on its node; running on `node` or pending. */
  function ingress(name: string, node?: string) {
    const spec = {
      cpu: "100m",
      memory: "128Mi",
      hostPorts: [{ port: 443, protocol: "TCP" as const }],
    };
    return node ? pod(`ingress/${name}`, { ...spec, node }) : pendingPod(`ingress/${name}`, spec);
  }

  it("adds a node for a pod whose host port every node has taken", () => {
    const workers = nodes(3, BUSY);
    const decision = planOn(workers, [
      ...workers.map((w, i) => ingress(`traefik-${i}`, w.name)),
      ingress("traefik-3"),
    ]);
    expect(decision).toMatchObject({ action: "scale-up", desired: 4 });
  });

  it("adds no node for a port a DaemonSet on every node holds: a new node would run it too", () => {
    const workers = nodes(2, BUSY);
    const exporter = (node: string) =>
      pod(`monitoring/node-exporter-${node}`, {
        node,
        cpu: "50m",
        daemonSet: true,
        owner: { kind: "DaemonSet", name: "node-exporter" },
        hostPorts: [{ port: 9100, protocol: "TCP" }],
      });
    const decision = planOn(workers, [
      ...workers.map((w) => exporter(w.name)),
      pendingPod("monitoring/other-exporter", {
        cpu: "50m",
        hostPorts: [{ port: 9100, protocol: "TCP" }],
      }),
    ]);
    expect(decision.action).toBe("none");
    expect(decision.pending.neverFit).toEqual([
      expect.objectContaining({
        pod: "monitoring/other-exporter",
        reason: "host-ports",
        ports: ["9100/TCP"],
      }),
    ]);
    expect(explainNodeDecision(decision).join("\n")).toContain(
      "a host port it asks for (9100/TCP) would already be taken on a new node of this pool by the pool's DaemonSets",
    );
  });

  it("keeps a node whose host-port pod would find the port taken everywhere else", () => {
    const workers = nodes(4, QUIET);
    const decision = planOn(
      workers,
      workers.map((w, i) => ingress(`traefik-${i}`, w.name)),
    );
    expect(decision.action).toBe("none");
    expect(decision.scaleDown.conditions.find((c) => c.kind === "pods-fit")).toMatchObject({
      met: false,
      unplaced: ["ingress/traefik-3"],
      causes: [{ pod: "ingress/traefik-3", cause: "host-ports" }],
    });
  });
});

describe("pod (anti-)affinity whose namespaceSelector asks for a namespace label", () => {
  const apartFromTeamA: PodAffinityTerm = {
    selector: { matchLabels: { app: "blocky" } },
    namespaceSelector: { matchLabels: { team: "a" } },
    topologyKey: "kubernetes.io/hostname",
  };
  const guarded = pendingPod("dns/blocky-new", {
    cpu: "100m",
    memory: "128Mi",
    labels: { app: "blocky" },
    podAntiAffinity: [apartFromTeamA],
  });
  /** A replica without rules in namespace `ns` on each worker. */
  const replicas = (ns: string, names: readonly string[]) =>
    names.map((node) =>
      pod(`${ns}/blocky-${node}`, {
        node,
        cpu: "100m",
        memory: "128Mi",
        labels: { app: "blocky" },
      }),
    );

  it("looks only in the namespaces whose labels match, not in its own", () => {
    const workers = nodes(2, BUSY);
    const names = workers.map((w) => w.name);
    const snapshot = {
      ...buildSnapshot({
        nodes: workers,
        pods: [...replicas("team-a", names.slice(0, 1)), ...replicas("dns", names), guarded],
      }),
      namespaceLabels: { "team-a": { team: "a" }, dns: {} },
    };
    const decision = planOne(snapshot);
    expect(decision.action).not.toBe("scale-up");
    expect(decision.pending.onExisting.map((p) => [p.pod, p.node])).toEqual([
      ["dns/blocky-new", names[1]],
    ]);
  });

  it("holds a pod whose term's namespaces are unknown: a snapshot saved before namespaces were read", () => {
    const workers = nodes(2, BUSY);
    const snapshot = buildSnapshot({
      nodes: workers,
      pods: [
        ...replicas(
          "team-b",
          workers.map((w) => w.name),
        ),
        guarded,
      ],
    });
    const decision = planOne(snapshot);
    expect(decision.action).not.toBe("scale-up");
    expect(decision.pending.onExisting).toEqual([]);
    expect(decision.pending.neverFit.map((p) => [p.pod, p.reason])).toEqual([
      ["dns/blocky-new", "namespaces-unknown"],
    ]);
    expect(explainNodeDecision(decision).join("\n")).toContain(
      "fit unknown: dns/blocky-new (cpu 100m, memory 128 MiB): a required pod (anti-)affinity term that concerns it picks namespaces by their labels (namespaceSelector), which were not read",
    );
  });

  it("keeps a pod that a running pod's unresolved term may select off that pod's node", () => {
    const workers = nodes(1, BUSY);
    const holder = pod(`dns/blocky-${workers[0]?.name}`, {
      node: workers[0]?.name as string,
      cpu: "100m",
      memory: "128Mi",
      labels: { app: "blocky" },
      podAntiAffinity: [apartFromTeamA],
    });
    const other = pendingPod("team-b/blocky-new", {
      cpu: "100m",
      memory: "128Mi",
      labels: { app: "blocky" },
    });
    const decision = planOne({
      ...buildSnapshot({ nodes: workers, pods: [holder, other] }),
      namespaceLabels: "unknown",
    });
    expect(decision.pending.onExisting).toEqual([]);
  });
});
