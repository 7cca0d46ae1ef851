/**
 * The node decisions as an operator states them, planned against a served cluster: pending pods
 * packed after the free room, each scale-down threshold keeping a node on its own, and the
 * projection after a removal keeping one when it would come within the margin of scaling up.
 */
import { describe, expect, it } from "@jest/globals";
import { type PlanJson, pod, type Raw } from "./served-cluster.ts";
import {
  apps,
  cluster,
  config,
  FOUR,
  fillers,
  plan,
  poolDecision,
  poolNote,
  tdarr,
  tfvars,
} from "./served-plan.ts";

/** The config with `text` inserted before the pool's `removal:` block. */
function configWith(text: string): string {
  return config({ "    removal:": `${text}    removal:` });
}

const UNNEEDED_NOW = "    scaleDown:\n      unneededTime: 0s\n";

/** An app pod on each of FOUR, requesting `cpu` (and 1 GiB). */
function requesting(cpu: string): Raw[] {
  return FOUR.map((node, index) =>
    pod("default", `api-5d8f7c9b6-rq${index}xx`, {
      node,
      owner: { kind: "ReplicaSet", name: "api-5d8f7c9b6" },
      cpu,
      memory: "1Gi",
    }),
  );
}

describe("plan against a served cluster: pending pods after the free room", () => {
  it("puts one of seven 1.5-cpu pods in each worker's free room and packs the rest two to a new node", async () => {
    // 3800m less Cilium's 100m and a 2-cpu filler leaves 1700m on each worker: one pod each.
    const pending = ["a", "b", "c", "d", "e", "f", "g"].map((x) => tdarr(`7pod${x}`));
    const output = await plan([...cluster(), ...fillers(undefined, "2"), ...pending]);
    // Four are left; a new node offers 3700m: two each, so two new nodes.
    expect(output.proposals[0]).toMatchObject({
      from: 3,
      to: 5,
      changes: [{ before: 3, after: 5 }],
      triggers: [{ kind: "pending-pods", pods: 4, newNodes: 2 }],
    });
    const reasons = output.proposals[0]?.reasons ?? [];
    expect(reasons).toContain(
      "  pending pods: 7 considered, 3 fit free room on existing nodes, 4 go on 2 new nodes",
    );
    for (const node of ["talos-worker-1", "talos-worker-2", "talos-worker-3"])
      expect(reasons.filter((line) => line.endsWith(`fits on ${node}`))).toHaveLength(1);
  });
});

describe("plan against a served cluster: each scale-down threshold keeps a node", () => {
  it.each([
    [
      "cpu usage at 31 %",
      { cpu: "1180m", memory: "2Gi" },
      "100m",
      "cpu < 30 % for 0s: not met (current, 31 %)",
    ],
    [
      "memory usage at 41 %",
      { cpu: "600m", memory: "6.3Gi" },
      "100m",
      "memory < 40 % for 0s: not met (current, 41 %)",
    ],
    [
      "cpu requests at 55 %",
      { cpu: "600m", memory: "2Gi" },
      "2",
      "cpu requests 55 % < 50 %: not met",
    ],
  ])("with %s, even when unneededTime is 0", async (_, usage, cpu, unmet) => {
    const output = await plan([...cluster(FOUR, {}, usage), ...requesting(cpu)], {
      tfvars: tfvars(4),
      config: configWith(UNNEEDED_NOW),
    });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(`scale-down: ${unmet}`);
  });

  it("removes one node when all three are below, with unneededTime 0", async () => {
    const output = await plan([...cluster(FOUR), ...apps()], {
      tfvars: tfvars(4),
      config: configWith(UNNEEDED_NOW),
    });
    expect(output.proposals).toHaveLength(1);
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, changes: [{ after: 3 }] });
    expect(output.proposals[0]?.reasons[0]).toContain("removing talos-worker-4");
  });
});

describe("plan against a served cluster: the projection after a removal", () => {
  it("keeps a node whose removal would bring requests within the margin of scaleUp.requests", async () => {
    // 1710m of 3800m on each of four is 45 %, below 50 %; without talos-worker-4, whose Cilium
    // agent (100m) goes with it, 6740m of 11400m is 59 %, not below 60 − 10.
    const output = await plan([...cluster(FOUR), ...requesting("1610m")], {
      tfvars: tfvars(4),
      config: configWith(`    scaleUp:\n      requests: 60\n${UNNEEDED_NOW}`),
    });
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain("scale-down: cpu requests 45 % < 50 %: met");
    // The requests projected are the higher of cpu and memory: it says which.
    expect(note).toContain("not removed: cpu requests after removal would be 59 %, not below 50 %");
    expect(note).toContain("scale-down: cpu requests after removal 59 % < 50 %: not met");
  });

  it("keeps a node whose removal would bring cpu usage within the margin of its scale-up threshold", async () => {
    // 45 % of four nodes is 60 % of three: not below 60 − 10.
    const output = await plan([...cluster(FOUR, {}, { cpu: "1710m", memory: "2Gi" }), ...apps()], {
      tfvars: tfvars(4),
      config: configWith(
        "    scaleUp:\n      cpu: 60\n    scaleDown:\n      cpu: 50\n      unneededTime: 0s\n",
      ),
    });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "not removed: cpu after removal would be 60 %, not below 50 %",
    );
  });
});

/** A log shipper's DaemonSet pod on `node` (400m, 256 MiB): it runs on every worker. */
function shipper(node: string, index: number): Raw {
  return pod("logging", `fluent-bit-${index.toString(36).padStart(5, "f")}`, {
    node,
    owner: { kind: "DaemonSet", name: "fluent-bit" },
    cpu: "400m",
    memory: "256Mi",
  });
}

/**
 * A static pod kubelet runs from its manifest directory on `node` (a load balancer in front of
 * the API servers, 100m and 64 MiB): its mirror pod, owned by the Node.
 */
function staticLoadBalancer(node: string): Raw {
  return pod("kube-system", `haproxy-${node}`, {
    node,
    owner: { kind: "Node", name: node },
    cpu: "100m",
    memory: "64Mi",
    annotations: { "kubernetes.io/config.mirror": "9d3e1b7c5a2f4e8d" },
  });
}

/** The pool's requests projection condition, as `plan --json` gives it. */
function requestsProjection(output: PlanJson): Raw | undefined {
  const conditions = (poolDecision(output).scaleDown as { conditions: Raw[] }).conditions;
  return conditions.find((entry) => entry.resource === "requests");
}

/**
 * talos-worker-4 removed, its cpu requests after removal `shown` % (as the text rounds it):
 * `millicores` of the three nodes' 11400m.
 */
function expectRemovedAt(output: PlanJson, shown: number, millicores: number): void {
  expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
  expect(output.proposals[0]?.reasons).toContain(
    `  scale-down: cpu requests after removal ${shown} % < 50 %: met`,
  );
  expect(requestsProjection(output)).toMatchObject({
    met: true,
    projected: expect.closeTo((millicores / 11400) * 100, 6),
  });
}

describe("plan against a served cluster: the requests projection without the node's own pods", () => {
  const files = {
    tfvars: tfvars(4),
    config: configWith(`    scaleUp:\n      requests: 60\n${UNNEEDED_NOW}`),
  };

  it("leaves out the DaemonSet pods that go with the node: the next plan does not count them", async () => {
    // Cilium (100m) and the log shipper (400m) on each of four, and 1000m of api: 6000m of
    // 15200m, 39 %. Without talos-worker-4 its api pod moves, but its Cilium agent and shipper go
    // with it: 5500m of 11400m, 48 %, below 60 − 10, as the next plan will find the three nodes.
    // Spreading all 6000m over them (53 %) would keep a node the pool does not need.
    const output = await plan(
      [...cluster(FOUR), ...FOUR.map(shipper), ...requesting("1000m")],
      files,
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    const reasons = output.proposals[0]?.reasons ?? [];
    expect(reasons).toContain("  scale-down: cpu requests after removal 48 % < 50 %: met");
    expect(requestsProjection(output)).toMatchObject({
      kind: "projection",
      met: true,
      requestsOf: "cpu",
      projected: expect.closeTo((5500 / 11400) * 100, 6),
    });
  });

  it("leaves out the mirror pod of a static pod on the node the same way", async () => {
    // Cilium and the static load balancer (100m) on each of four, and 1260m of api: 5840m of
    // 15200m. Without talos-worker-4 its api pod moves, its Cilium agent and mirror pod do not:
    // 5640m of 11400m, 49.5 %, below 50; with the mirror pod's 100m counted it would be 50.4 %.
    const output = await plan(
      [...cluster(FOUR), ...FOUR.map(staticLoadBalancer), ...requesting("1260m")],
      files,
    );
    expectRemovedAt(output, 49, 5640);
  });

  it("still counts the pods the removal moves onto the nodes left", async () => {
    // Cilium and the shipper as in the first, with 1100m of api: without talos-worker-4, 3 × 1600m
    // on the nodes left and its api pod moved onto them, 5900m of 11400m, 52 %: the requests of
    // the pod that moves keep the node.
    const output = await plan(
      [...cluster(FOUR), ...FOUR.map(shipper), ...requesting("1100m")],
      files,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "not removed: cpu requests after removal would be 52 %, not below 50 %",
    );
    expect(requestsProjection(output)).toMatchObject({
      met: false,
      projected: expect.closeTo((5900 / 11400) * 100, 6),
    });
  });

  it("leaves out an expendable pod on the node, which waits for room and is not counted then", async () => {
    // A placeholder (800m, priority -100, below the default expendablePriority of -10) runs on
    // talos-worker-4. With Cilium and 1200m of api on each of four, 6000m of 15200m. Without
    // talos-worker-4 its api pod moves; its Cilium agent goes with it, and so does the
    // placeholder, which nothing moves: made again, it waits for room, and a pending expendable
    // pod's requests are not counted: 5100m of 11400m, 45 %. Counted as staying, it would make
    // it 5900m, 52 %, and keep a node for a pod that need not come back.
    const placeholder = pod("default", "overprovisioning-7f8c9d6b5-pl001", {
      node: "talos-worker-4",
      owner: { kind: "ReplicaSet", name: "overprovisioning-7f8c9d6b5" },
      cpu: "800m",
      memory: "512Mi",
    });
    Object.assign(placeholder.spec as Raw, {
      priority: -100,
      priorityClassName: "overprovisioning",
    });
    const output = await plan([...cluster(FOUR), ...requesting("1200m"), placeholder], files);
    expectRemovedAt(output, 45, 5100);
  });

  it("leaves out a pod being deleted on the node, whose replacement already runs on another", async () => {
    // A report pod (800m) on talos-worker-4 is terminating; its Deployment's replacement runs on
    // talos-worker-1. The scheduler counts both until the old one is gone: with Cilium and 1000m
    // of api on each of four, 6000m of 15200m. Without talos-worker-4 its api pod moves; its
    // Cilium agent goes with it, and so does the pod being deleted, which nothing moves: 5100m of
    // 11400m, 45 %. Counted as staying, the old pod would make it 5900m, 52 %, and keep a node
    // for a pod that is leaving whatever happens to it.
    const report = (suffix: string, node: string, deletionTimestamp?: string) =>
      pod("default", `report-6b7c8d9e0-${suffix}`, {
        node,
        owner: { kind: "ReplicaSet", name: "report-6b7c8d9e0" },
        cpu: "800m",
        memory: "512Mi",
        ...(deletionTimestamp ? { deletionTimestamp } : {}),
      });
    const output = await plan(
      [
        ...cluster(FOUR),
        ...requesting("1000m"),
        report("old01", "talos-worker-4", "2026-11-20T07:59:30Z"),
        report("new01", "talos-worker-1"),
      ],
      files,
    );
    expectRemovedAt(output, 45, 5100);
  });
});
