/**
 * Pending pods and two pools, against a served cluster: the Talos workers (4 cores) first in the
 * file, then a pool of larger VMs (8 cores) that takes any pod. Pods the workers cannot hold
 * within their max go to the larger pool, and the workers' explanation says so rather than
 * leaving them pending.
 */
import { describe, expect, it } from "@jest/globals";
import { pod, type Raw, unschedulable } from "./served-cluster.ts";
import {
  APPS_AND_MEDIA_FILES,
  APPS_AND_MEDIA_NODES,
  appsAndMedia,
  cluster,
  fillers,
  LARGE_VM,
  plan,
  planFull,
  poolDecision,
  poolNote,
  tdarr,
  workersAndLargeFiles,
} from "./served-plan.ts";

describe("plan against a served cluster: pending pods beyond one pool's max", () => {
  it("says the pods a pool at its max cannot hold go to the pool that takes them", async () => {
    const output = await planFull(
      [...LARGE_VM, tdarr("over1"), tdarr("over2")],
      workersAndLargeFiles(3),
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["large", 1, 2],
    ]);
    const workers = poolDecision(output, "workers");
    // Nothing is wanted beyond the max, nor left pending, for pods another pool takes.
    expect(workers.triggers).toEqual([]);
    expect(workers.holds).not.toContainEqual(expect.objectContaining({ kind: "at-max" }));
    expect(workers.pending).toMatchObject({
      overMax: [],
      elsewhere: [
        { pod: "media/tdarr-node-6d8c7f5b49-over1", pool: "large", beyondMax: true },
        { pod: "media/tdarr-node-6d8c7f5b49-over2", pool: "large", beyondMax: true },
      ],
    });
    const note = poolNote(output);
    expect(note).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-over1 (cpu 1500m, memory 2 GiB) → pool large (beyond this pool's max)",
    );
    expect(note).not.toContain("left pending");
  });

  it("adds up to its max for the pods it holds, and counts only those", async () => {
    // Five pods of 1500m: two on the one node the workers may add, three on a large VM.
    const output = await planFull(
      [...LARGE_VM, ...[1, 2, 3, 4, 5].map((n) => tdarr(`part${n}`))],
      workersAndLargeFiles(4),
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["workers", 3, 4],
      ["large", 1, 2],
    ]);
    const workers = poolDecision(output, "workers");
    expect(workers.triggers).toEqual([{ kind: "pending-pods", pods: 2, newNodes: 1 }]);
    expect(workers.holds).not.toContainEqual(expect.objectContaining({ kind: "at-max" }));
    expect(workers.pending).toMatchObject({ newNodes: 1, neededNewNodes: 1, overMax: [] });
    const text = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(text).toMatch(/→ pool large \(beyond this pool's max\)/);
    expect(text).not.toContain("beyond max:");
  });

  it("says a pod too large for a new worker goes to the pool whose new node holds it", async () => {
    const output = await planFull(
      [...LARGE_VM, tdarr("big5c", { cpu: "5", memory: "4Gi" })],
      workersAndLargeFiles(6),
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["large", 1, 2],
    ]);
    const workers = poolDecision(output, "workers");
    expect(workers.pending).toMatchObject({
      neverFit: [],
      elsewhere: [{ pod: "media/tdarr-node-6d8c7f5b49-big5c", pool: "large" }],
    });
    expect(poolNote(output)).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-big5c (cpu 5, memory 4 GiB) → pool large\n",
    );
  });

  it("does not wait, nor hold a decrease, for pods beyond its max that another pool takes", async () => {
    const files = workersAndLargeFiles(3, {
      "    max: 3\n  - name: large":
        "    max: 3\n    scaleUp:\n      pendingFor: 10m\n  - name: large",
    });
    // A minute after the pods became Unschedulable: the workers would wait 10 minutes for them.
    const output = await planFull([...LARGE_VM, tdarr("wait1")], files, "2026-11-20T08:01:00Z");
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["large", 1, 2],
    ]);
    const workers = poolDecision(output, "workers");
    expect(workers.holds).not.toContainEqual(expect.objectContaining({ kind: "pending-wait" }));
  });
});

describe("plan against a served cluster: a pending pod an earlier pool counts on a later pool's node", () => {
  /** An ingress pod taking host port 443: on `node`, or Pending with `options`. */
  const ingress = (suffix: string, cpu: string, options: Record<string, unknown> = {}) =>
    pod("ingress", `ingress-nginx-controller-6b7c8d9e0-${suffix}`, {
      cpu,
      memory: "128Mi",
      ports: [{ containerPort: 443, hostPort: 443, protocol: "TCP" }],
      ...options,
    });

  it("keeps the later pool's pod off the host port the earlier pool's pod takes there", async () => {
    // Port 443 is in use on every worker, so the workers pool counts pen01 on talos-large-1's
    // room. pen02, which only the large pool's nodes take, cannot have 443 there too: the
    // scheduler leaves it pending, so the large pool adds a node for it.
    const output = await plan(
      [
        ...cluster(),
        ingress("run01", "100m", { node: "talos-worker-1" }),
        ingress("run02", "100m", { node: "talos-worker-2" }),
        ingress("run03", "100m", { node: "talos-worker-3" }),
        ...LARGE_VM,
        ingress("pen01", "200m", {
          scheduled: unschedulable("node(s) didn't have free ports for the requested pod ports"),
        }),
        ingress("pen02", "100m", {
          nodeSelector: { "node.kubernetes.io/pool": "large" },
          scheduled: unschedulable("node(s) didn't have free ports for the requested pod ports"),
        }),
      ],
      workersAndLargeFiles(6),
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["large", 1, 2],
    ]);
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "pending: ingress/ingress-nginx-controller-6b7c8d9e0-pen02 (cpu 100m, memory 128 MiB) → new-1 (existing nodes: talos-worker-1 and 2 more have room but its nodeSelector keeps it off; talos-large-1 has room but a host port in use there keeps it off; 1 more has room but other rules keep it off)",
    );
  });
});

/** `object` (a pod) with `spec.priority` set, as its PriorityClass's admission sets it. */
function withPriority(object: Raw, priority: number): Raw {
  return { ...object, spec: { ...(object.spec as Raw), priority } };
}

/** Required node affinity for the nodes of `pool` or the control plane (either term admits). */
function poolOrControlPlane(pool: string): Raw {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          {
            matchExpressions: [{ key: "node.kubernetes.io/pool", operator: "In", values: [pool] }],
          },
          {
            matchExpressions: [
              { key: "node-role.kubernetes.io/control-plane", operator: "Exists" },
            ],
          },
        ],
      },
    },
  };
}

describe("plan against a served cluster: two pools' pending pods of different priority", () => {
  it("gives the control plane's room to the later pool's pod of higher priority", async () => {
    // Every pool node is full; the untainted control plane (1950m) has room for one of the two
    // 1500m pods. The scheduler serves the media pod (priority 1000) first and binds it there,
    // so it is the apps pod, though its pool is first in the file, that needs a new node.
    const appsPod = pod("default", "web-5d8f7c9b6-prio0", {
      cpu: "1500m",
      memory: "1Gi",
      affinity: poolOrControlPlane("apps"),
    });
    const mediaPod = withPriority(
      pod("media", "jellyfin-5d8f7c9b6-prio1", {
        cpu: "1500m",
        memory: "1Gi",
        affinity: poolOrControlPlane("media"),
      }),
      1000,
    );
    const output = await plan(
      [
        ...appsAndMedia(),
        ...fillers([...APPS_AND_MEDIA_NODES.apps, ...APPS_AND_MEDIA_NODES.media]),
        appsPod,
        mediaPod,
      ],
      APPS_AND_MEDIA_FILES,
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["apps", 2, 3],
    ]);
    expect(poolDecision(output, "apps").pending).toMatchObject({
      onExisting: [{ pod: "media/jellyfin-5d8f7c9b6-prio1", node: "talos-cp-1" }],
      onNew: [{ pod: "default/web-5d8f7c9b6-prio0", node: "new-1" }],
    });
    // The media pod is counted once: the media pool adds no node for it.
    expect(poolDecision(output, "media").pending).toMatchObject({ considered: 0, onNew: [] });
  });
});
