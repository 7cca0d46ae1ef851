/**
 * Pods being deleted (`metadata.deletionTimestamp` set, still on their node) as kube-scheduler
 * counts them: InterPodAffinity counts every pod bound to a node until it is gone, the incoming
 * pod's terms and the running pods' required anti-affinity alike, and NodePorts counts the host
 * ports they hold, while PodTopologySpread leaves such pods out of its counts. Each plan worked out by hand on the Talos workers of
 * served-cluster.ts (3800m cpu, Cilium's 100m on each); the replicas are 100m, so room decides
 * nothing.
 */
import { describe, expect, it } from "@jest/globals";
import { type PlanJson, pod, type Raw, unschedulable } from "./served-cluster.ts";
import { cluster, everyWorker, FOUR, OVER_MAX, plan, poolNote, WORKERS } from "./served-plan.ts";

const WEB = { "app.kubernetes.io/name": "web" };
const BEING_DELETED = "2026-11-20T07:59:30Z";

/** Required anti-affinity, on the hostname, to the pods labelled `labels`. */
function apartFrom(labels: Record<string, string>): Raw {
  return {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: labels }, topologyKey: "kubernetes.io/hostname" },
      ],
    },
  };
}

/** A web replica (100m) that may not share a node with another, on `node` or Pending. */
function web(suffix: string, node?: string, deletionTimestamp?: string): Raw {
  return pod("apps", `web-7c9d8e6f5-${suffix}`, {
    node,
    cpu: "100m",
    memory: "128Mi",
    labels: WEB,
    affinity: apartFrom(WEB),
    ...(deletionTimestamp ? { deletionTimestamp } : {}),
    ...(node ? {} : { scheduled: unschedulable("node(s) didn't match pod anti-affinity rules") }),
  });
}

function counts(output: PlanJson): [number | undefined, number | undefined][] {
  return output.proposals.map((entry) => [entry.from, entry.to]);
}

describe("plan: pods being deleted in required pod (anti-)affinity, host ports and spread", () => {
  it("adds a node for a pending replica while the replica it avoids is still being deleted", async () => {
    const output = await plan([
      ...cluster(),
      web("run01", "talos-worker-1"),
      web("run02", "talos-worker-2"),
      web("old03", "talos-worker-3", BEING_DELETED),
      web("pen04"),
    ]);
    expect(counts(output)).toEqual([[3, 4]]);
    // The operator is told which pod keeps talos-worker-3 out while the rollout deletes it.
    expect(output.proposals[0]?.reasons).toContain(
      "  pending: apps/web-7c9d8e6f5-pen04 (cpu 100m, memory 128 MiB) → new-1 (existing nodes: talos-worker-1 and 2 more have room but required pod anti-affinity keeps it off (apps/web-7c9d8e6f5-old03 on talos-worker-3 is being deleted; it counts until gone); talos-cp-1 has room but a taint it does not tolerate keeps it off)",
    );
    const pending = output.proposals[0]?.decision?.pending as { onNew: Raw[] } | undefined;
    expect((pending?.onNew[0]?.keptOff as { rules: Raw[] } | undefined)?.rules[0]).toEqual({
      cause: "pod-anti-affinity",
      nodes: 3,
      node: "talos-worker-1",
      deleting: [{ pod: "apps/web-7c9d8e6f5-old03", node: "talos-worker-3" }],
    });
    // Gone, it leaves talos-worker-3 to the pending replica.
    const gone = await plan([
      ...cluster(),
      web("run01", "talos-worker-1"),
      web("run02", "talos-worker-2"),
      web("pen04"),
    ]);
    expect(gone.proposals).toEqual([]);
    expect(poolNote(gone)).toMatch(/web-7c9d8e6f5-pen04 [^\n]* fits on talos-worker-3/);
  });

  it("keeps a pending pod off the node of a pod being deleted whose anti-affinity selects it", async () => {
    const CACHE = { "app.kubernetes.io/name": "cache" };
    const guard = (suffix: string, node: string, deletionTimestamp?: string) =>
      pod("apps", `guard-5b6c7d8e9-${suffix}`, {
        node,
        cpu: "100m",
        memory: "128Mi",
        affinity: apartFrom(CACHE),
        ...(deletionTimestamp ? { deletionTimestamp } : {}),
      });
    const output = await plan([
      ...cluster(),
      ...WORKERS.slice(0, 2).map((node, at) => guard(`run0${at}`, node)),
      guard("old02", "talos-worker-3", BEING_DELETED),
      pod("apps", "cache-4a5b6c7d8-pen01", {
        cpu: "100m",
        memory: "128Mi",
        labels: CACHE,
        scheduled: unschedulable("node(s) didn't satisfy existing pods anti-affinity rules"),
      }),
    ]);
    expect(counts(output)).toEqual([[3, 4]]);
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "talos-worker-1 and 2 more have room but required pod anti-affinity keeps it off (apps/guard-5b6c7d8e9-old02 on talos-worker-3 is being deleted; it counts until gone)",
    );
  });

  it("says a pending pod never fits a new node of the zone whose pod being deleted it avoids", async () => {
    // Every worker, and so a new one, is in zone pve-1, where the old replica is still being
    // deleted: the new one stays Pending until it is gone, and no node would change that.
    const ZONE = "topology.kubernetes.io/zone";
    const replica = (suffix: string, node?: string, deletionTimestamp?: string) =>
      pod("apps", `minio-6b7c8d9e0-${suffix}`, {
        node,
        cpu: "100m",
        memory: "128Mi",
        labels: { "app.kubernetes.io/name": "minio" },
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              {
                labelSelector: { matchLabels: { "app.kubernetes.io/name": "minio" } },
                topologyKey: ZONE,
              },
            ],
          },
        },
        ...(deletionTimestamp ? { deletionTimestamp } : {}),
        ...(node
          ? {}
          : { scheduled: unschedulable("node(s) didn't match pod anti-affinity rules") }),
      });
    const output = await plan([
      ...cluster(WORKERS, everyWorker({ labels: { [ZONE]: "pve-1" } })),
      replica("old01", "talos-worker-3", BEING_DELETED),
      replica("pen02"),
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      `never fits: apps/minio-6b7c8d9e0-pen02 (cpu 100m, memory 128 MiB): its required pod anti-affinity on ${ZONE} keeps it away from the domain a new node of this pool would join (apps/minio-6b7c8d9e0-old01 on talos-worker-3 is being deleted; it counts until gone)`,
    );
  });

  it("keeps talos-worker-4 while the replica on talos-worker-3 is being deleted", async () => {
    const output = await plan(
      [
        ...cluster(FOUR),
        web("run01", "talos-worker-1"),
        web("run02", "talos-worker-2"),
        web("old03", "talos-worker-3", BEING_DELETED),
        web("run04", "talos-worker-4"),
      ],
      OVER_MAX,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "apps/web-7c9d8e6f5-run04: required pod anti-affinity keeps it off the nodes with room (apps/web-7c9d8e6f5-old03 on talos-worker-3 is being deleted; it counts until gone)",
    );
  });

  it("puts a pending pod beside the partner its affinity asks for while that one is being deleted", async () => {
    const CACHE = { "app.kubernetes.io/name": "cache" };
    const beside = {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: CACHE }, topologyKey: "kubernetes.io/hostname" },
        ],
      },
    };
    const output = await plan([
      ...cluster(),
      pod("apps", "cache-4a5b6c7d8-old02", {
        node: "talos-worker-2",
        cpu: "100m",
        memory: "128Mi",
        labels: CACHE,
        deletionTimestamp: BEING_DELETED,
      }),
      pod("apps", "api-3f4a5b6c7-pen01", {
        cpu: "100m",
        memory: "128Mi",
        affinity: beside,
        scheduled: unschedulable("node(s) didn't match pod affinity rules"),
      }),
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/api-3f4a5b6c7-pen01 [^\n]* fits on talos-worker-2/);
  });

  it("adds a node for an ingress pod while the one holding port 443 on the free node is being deleted", async () => {
    const ingress = (suffix: string, node?: string, deletionTimestamp?: string) =>
      pod("ingress", `ingress-nginx-controller-6b7c8d9e0-${suffix}`, {
        node,
        cpu: "100m",
        memory: "128Mi",
        ports: [{ containerPort: 443, hostPort: 443, protocol: "TCP" }],
        ...(deletionTimestamp ? { deletionTimestamp } : {}),
        ...(node
          ? {}
          : {
              scheduled: unschedulable(
                "node(s) didn't have free ports for the requested pod ports",
              ),
            }),
      });
    const output = await plan([
      ...cluster(),
      ingress("run01", "talos-worker-1"),
      ingress("run02", "talos-worker-2"),
      ingress("old03", "talos-worker-3", BEING_DELETED),
      ingress("pen04"),
    ]);
    expect(counts(output)).toEqual([[3, 4]]);
  });

  it("spreads a pending replica as if the replica being deleted were gone", async () => {
    // maxSkew 1 over the hostname: two replicas on talos-worker-1 and -2, the one on -3 being
    // deleted; the scheduler counts -3 as empty and puts the pending replica there.
    const spread = [
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: WEB },
      },
    ];
    const replica = (suffix: string, node?: string, deletionTimestamp?: string) =>
      pod("apps", `web-7c9d8e6f5-${suffix}`, {
        node,
        cpu: "100m",
        memory: "128Mi",
        labels: WEB,
        topologySpreadConstraints: spread,
        ...(deletionTimestamp ? { deletionTimestamp } : {}),
        ...(node
          ? {}
          : { scheduled: unschedulable("node(s) didn't match pod topology spread constraints") }),
      });
    const output = await plan([
      ...cluster(),
      replica("run01", "talos-worker-1"),
      replica("run02", "talos-worker-2"),
      replica("old03", "talos-worker-3", BEING_DELETED),
      replica("pen04"),
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/web-7c9d8e6f5-pen04 [^\n]* fits on talos-worker-3/);
  });
});
