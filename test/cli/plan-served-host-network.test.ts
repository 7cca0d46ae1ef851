/**
 * Pods on the host's network, against a served cluster: their container ports are host ports
 * (the API server writes `hostPort` into a pod's ports, not into a DaemonSet's template since
 * Kubernetes 1.28, and a manifest served as written has none), so a replica whose ports every
 * worker has taken needs a node of its own, and a new node running a DaemonSet on the host's
 * network has its ports taken.
 */
import { describe, expect, it } from "@jest/globals";
import { type PodOptions, pod, type Raw } from "./served-cluster.ts";
import { cluster, plan, poolNote, WORKERS } from "./served-plan.ts";

/** The scheduler's words for a pod whose host ports are taken on every worker. */
const PORTS_TAKEN = {
  reason: "Unschedulable",
  message:
    "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 node(s) didn't have free ports for the requested pod ports. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.",
};

/** The pod (or template) on the host's network. */
function onHostNetwork(raw: Raw): Raw {
  const spec = raw.spec as Raw;
  spec.hostNetwork = true;
  spec.dnsPolicy = "ClusterFirstWithHostNet";
  return raw;
}

/** An ingress-nginx controller replica on the host's network, serving 80 and 443. */
function controller(suffix: string, options: PodOptions = {}): Raw {
  return onHostNetwork(
    pod("ingress-nginx", `ingress-nginx-controller-7c9d8f6b5-${suffix}`, {
      owner: { kind: "ReplicaSet", name: "ingress-nginx-controller-7c9d8f6b5" },
      cpu: "100m",
      memory: "90Mi",
      ports: [
        { containerPort: 80, name: "http", protocol: "TCP" },
        { containerPort: 443, name: "https", protocol: "TCP" },
      ],
      ...options,
    }),
  );
}

describe("plan against a served cluster: pods on the host's network", () => {
  it("adds a node for each replica whose container ports every worker has taken", async () => {
    const output = await plan([
      ...cluster(),
      ...WORKERS.map((node, index) => controller(`run${index}x`, { node })),
      controller("wait1x", { scheduled: PORTS_TAKEN }),
      controller("wait2x", { scheduled: PORTS_TAKEN }),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
    const text = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(text).toMatch(/controller-7c9d8f6b5-wait1x[^\n]*→ new-1/);
    expect(text).toMatch(/controller-7c9d8f6b5-wait2x[^\n]*→ new-2/);
  });

  it("adds none for a pod wanting a port a DaemonSet on the host's network takes on every node", async () => {
    const exporter = (node: string, index: number) =>
      onHostNetwork(
        pod("monitoring", `node-exporter-${index}q7wz`, {
          node,
          owner: { kind: "DaemonSet", name: "node-exporter" },
          cpu: "10m",
          memory: "32Mi",
          ports: [{ containerPort: 9100, name: "metrics", protocol: "TCP" }],
        }),
      );
    const output = await plan([
      ...cluster(),
      ...WORKERS.map(exporter),
      pod("monitoring", "exporter-test-5b6c7d8e9-port1", {
        cpu: "100m",
        memory: "64Mi",
        ports: [{ containerPort: 9100, hostPort: 9100, protocol: "TCP" }],
        scheduled: PORTS_TAKEN,
      }),
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "never fits: monitoring/exporter-test-5b6c7d8e9-port1 (cpu 100m, memory 64 MiB): a host port it asks for (9100/TCP) would already be taken on a new node of this pool by the pool's DaemonSets",
    );
  });
});
