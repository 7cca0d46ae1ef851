/**
 * Pods resized in place (Kubernetes 1.33 on: the `resize` subresource, the VPA's
 * InPlaceOrRecreate mode), against a served cluster. While a resize is under way a pod's spec
 * holds the requests it is going to, its container statuses those the kubelet still gives it;
 * the kube-scheduler counts the larger of the two for each container, or the status's alone
 * when the kubelet found the resize infeasible.
 *
 * The workers are the Talos VMs of served-cluster.ts (3800m cpu allocatable, Cilium taking
 * 100m of it). The status fields are as the kubelet writes them while it shrinks a container:
 * `allocatedResources` already the new request, `resources` still the old one, and the
 * PodResizeInProgress condition (kubernetes.io, "Resize CPU and Memory Resources assigned to
 * Containers").
 */
import { describe, expect, it } from "@jest/globals";
import { pod, type Raw } from "./served-cluster.ts";
import {
  cluster,
  config,
  FOUR,
  fillers,
  onlyReasons,
  plan,
  poolNote,
  tdarr,
  tfvars,
} from "./served-plan.ts";

/**
 * A Running pod on `node` whose cpu request is being resized: `spec` in its spec, `allocated` in
 * its container status's `allocatedResources`, `actual` in its `resources`.
 */
function resizing(
  node: string,
  cpu: { spec: string; allocated: string; actual: string },
  conditions: Raw[],
): Raw {
  const raw = pod("media", "jellyfin-6f7d8c9b5-rsz01", {
    node,
    owner: { kind: "ReplicaSet", name: "jellyfin-6f7d8c9b5" },
    cpu: cpu.spec,
    memory: "4Gi",
  });
  const status = raw.status as Raw;
  const container = (status.containerStatuses as Raw[])[0] as Raw;
  container.allocatedResources = { cpu: cpu.allocated, memory: "4Gi" };
  container.resources = { requests: { cpu: cpu.actual, memory: "4Gi" } };
  status.conditions = [...(status.conditions as Raw[]), ...conditions];
  return raw;
}

const IN_PROGRESS = {
  lastProbeTime: null,
  lastTransitionTime: "2026-11-24T10:15:02Z",
  status: "True",
  type: "PodResizeInProgress",
};

describe("plan against a served cluster: pods resized in place", () => {
  it("counts a pod being shrunk at what its node still gives it, so a pending pod needs a new node", async () => {
    // talos-worker-1: Cilium 100m and jellyfin, shrinking from 3 cores to 1, so 700m free as the
    // scheduler counts it (2700m by the spec alone); the others hold 3-core fillers (700m free).
    // tdarr asks for 1500m: no worker has it.
    const output = await plan([
      ...cluster(),
      ...fillers(["talos-worker-2", "talos-worker-3"]),
      resizing("talos-worker-1", { spec: "1", allocated: "1", actual: "3" }, [IN_PROGRESS]),
      tdarr("rsz01"),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const text = onlyReasons(output);
    expect(text).toContain("trigger: 1 pending pod needs 1 new node");
    expect(text).toContain(
      "media/tdarr-node-6d8c7f5b49-rsz01 (cpu 1500m, memory 2 GiB) → new-1 (existing nodes: talos-worker-1 and 2 more have too little cpu free;",
    );
  });

  it("counts a pod whose growth the kubelet found infeasible at what it has", async () => {
    // jellyfin asks for 8 cores, more than the node has: the kubelet keeps it at 1 core and the
    // scheduler counts 1, so talos-worker-1 has 2700m free and tdarr fits there.
    const output = await plan([
      ...cluster(),
      ...fillers(["talos-worker-2", "talos-worker-3"]),
      resizing("talos-worker-1", { spec: "8", allocated: "1", actual: "1" }, [
        {
          lastProbeTime: null,
          lastTransitionTime: "2026-11-24T10:15:02Z",
          message: "Node didn't have enough capacity: cpu, requested: 8000, capacity: 4000",
          reason: "Infeasible",
          status: "True",
          type: "PodResizePending",
        },
      ]),
      tdarr("rsz02"),
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-rsz02 (cpu 1500m, memory 2 GiB) fits on talos-worker-1",
    );
  });

  it("says beside a pod with no room to move to that it counts what its node allocated, not its spec", async () => {
    // jellyfin on talos-worker-4 is shrinking from 3 cores to 1: the scheduler counts 3, which no
    // other worker has free (700m each). Its spec says 1, which they would have: the line says
    // why the figure is not the spec's.
    const output = await plan(
      [
        ...cluster(FOUR),
        ...fillers(),
        resizing("talos-worker-4", { spec: "1", allocated: "1", actual: "3" }, [IN_PROGRESS]),
      ],
      {
        tfvars: tfvars(4),
        config: config({ "    removal:": "    scaleDown:\n      unneededTime: 0\n    removal:" }),
      },
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "scale-down: 1 pod of talos-worker-4 fits on the other nodes: not met (no room for media/jellyfin-6f7d8c9b5-rsz01 (cpu 3 as allocated: its resize in place to cpu 1 is not done): it needs more cpu than any other node of the pool has free)",
    );
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    const decision = (note?.decision ?? {}) as { scaleDown?: { conditions: Raw[] } };
    const conditions = decision.scaleDown?.conditions ?? [];
    expect(conditions.find((entry) => entry.kind === "pods-fit")).toMatchObject({
      causes: [
        {
          pod: "media/jellyfin-6f7d8c9b5-rsz01",
          cause: "room",
          resources: ["cpu"],
          resized: [{ resource: "cpu", counted: 3000, spec: 1000 }],
        },
      ],
    });
  });
});
