import { describe, expect, it } from "@jest/globals";
import { oracle } from "../../src/backtest/oracle.ts";
import { simulate } from "../../src/backtest/simulate.ts";
import { header, openTo, pod, scriptedAutoscaler, trace } from "./trace-helpers.ts";

const options = { stepMs: 10_000, bootDelayMs: 180_000 };

describe("oracle", () => {
  // a (3 cpu) all hour; b (3 cpu) from 20 to 40 min. One 4-cpu node holds one of them, so
  // the need is 1, 2 from 20 to 40 min, then 1.
  const day = trace(
    header(),
    pod(0, "a", { requests: { cpu: "3" } }),
    pod("20m", "b", { requests: { cpu: "3" }, duration: "20m" }),
  );

  it("pays for the second node from a boot delay before it is needed until it is not", () => {
    const result = oracle(day, options);
    // Two nodes from 17 to 40 min: 1 h + 23 min.
    expect(result.nodeHours).toBeCloseTo(1 + 23 / 60, 10);
    expect(result.peakNodes).toBe(2);
    expect(result.unplaceablePods).toBe(0);
  });

  it("records the nodes paid for at each step, which add up to its node-hours", () => {
    const { series, nodeHours } = oracle(day, options);
    expect(series.stepMs).toBe(10_000);
    expect(series.nodes).toHaveLength(360);
    // 17 min is step 102, 40 min step 240.
    expect([series.nodes[101], series.nodes[102], series.nodes[239], series.nodes[240]]).toEqual([
      1, 2, 2, 1,
    ]);
    const sum = series.nodes.reduce((total, nodes) => total + nodes, 0);
    expect((sum * 10) / 3600).toBeCloseTo(nodeHours, 10);
  });

  it("needs a node for a batch pod shorter than a step, at the step that sees it", () => {
    // A pool that starts empty; a 5-second job arrives at 15 s, ends at 20 s by the trace, and
    // the simulation starts it no sooner than the step at 20 s: that step needs one node.
    const blip = trace(
      header({}, { count: 0, min: 0 }),
      pod(15, "blip", { requests: { cpu: "1" }, duration: 5 }),
    );
    const result = oracle(blip, options);
    expect(result.peakNodes).toBe(1);
    // Paid from 18 steps (a boot delay) before the 20 s step to that step's end: 0 to 30 s.
    expect(result.series.nodes.slice(0, 4)).toEqual([1, 1, 1, 0]);
    expect(result.nodeHours).toBeCloseTo(30 / 3600, 10);
  });

  it("pays from the start for a need that comes within a boot delay longer than the trace", () => {
    // Two nodes from the start to 40 min, then one.
    expect(oracle(day, { stepMs: 10_000, bootDelayMs: 7_200_000 }).nodeHours).toBeCloseTo(
      1 + 40 / 60,
      10,
    );
  });

  it("pays from the step whose apply the simulation makes Ready in time, when the boot delay is not whole steps", () => {
    // 7 s steps: b is seen at 1204 s (step 172); a machine applied at step 146 (1022 s) is
    // Ready at the first step 180 s later, step 172, one applied at step 147 only at step 173.
    const odd = oracle(day, { stepMs: 7_000, bootDelayMs: 180_000 });
    expect([odd.series.nodes[145], odd.series.nodes[146], odd.series.nodes[172]]).toEqual([
      1, 2, 2,
    ]);
    const run = simulate(day, scriptedAutoscaler({ 1015: [openTo(2)] }, 7_000), {
      stepMs: 7_000,
      bootDelayMs: 180_000,
      mergeDelayMs: 0,
    });
    expect(run.changes).toEqual([{ pool: "workers", at: 1_022_000, from: 1, to: 2 }]);
    expect(run.metrics.pendingPodMinutes).toBe(0);
  });

  it("pays only for the need itself without a boot delay", () => {
    expect(oracle(day, { stepMs: 10_000, bootDelayMs: 0 }).nodeHours).toBeCloseTo(1 + 20 / 60, 10);
  });

  it("takes usage above the request as demand", () => {
    // c asks for 1 cpu but uses 3.5: with a's 3 cpu that is two nodes all hour.
    const busy = trace(
      header(),
      pod(0, "a", { requests: { cpu: "3" } }),
      pod(0, "c", { requests: { cpu: "1" }, usage: { cpu: "3500m" } }),
    );
    expect(oracle(busy, options).nodeHours).toBeCloseTo(2, 10);
  });

  it("counts usage up to a node's size, as the simulation caps it", () => {
    const hog = trace(header(), pod(0, "hog", { requests: { cpu: "1" }, usage: { cpu: "6" } }));
    const result = oracle(hog, options);
    expect(result.unplaceablePods).toBe(0);
    expect(result.nodeHours).toBeCloseTo(1, 10);
  });

  it("counts usage up to what a node the pod may go on has, never beyond every such node", () => {
    // A cpu-heavy pool and a memory-heavy one: hog asks for little and uses 10 cores and 20 GiB,
    // which neither pool's node has both of. On either node its usage is capped at what that
    // node has, so it is placed, as the simulation places it on the one node it starts with.
    const pool = (name: string, count: number, cpu: string, memory: string) => ({
      name,
      count,
      min: 0,
      nodeName: `${name}-{index}`,
      node: { cpu, memory },
    });
    const shapes = trace(
      header({ pools: [pool("wide", 1, "4", "32Gi"), pool("tall", 0, "16", "8Gi")] }),
      pod(0, "hog", {
        requests: { cpu: "1", memory: "1Gi" },
        usage: { cpu: "10", memory: "20Gi" },
      }),
    );
    const result = oracle(shapes, options);
    expect(result.unplaceablePods).toBe(0);
    expect(result.nodeHours).toBeCloseTo(1, 10);
    const run = simulate(shapes, scriptedAutoscaler({}));
    expect(run.metrics).toMatchObject({ nodeHours: 1, pendingPodMinutes: 0 });
    // A pod only a fixed node takes is capped at that node, not at the pools' largest: the
    // nas has the cores the pool's nodes lack but less memory than they have.
    const nas = { name: "nas", cpu: "32", memory: "4Gi", labels: { role: "nas" } };
    const fixed = trace(
      header({ nodes: [nas] }, { min: 0 }),
      pod(0, "hog", {
        requests: { cpu: "1", memory: "1Gi" },
        usage: { cpu: "8", memory: "8Gi" },
        nodeSelector: { role: "nas" },
      }),
    );
    expect(oracle(fixed, options)).toMatchObject({ unplaceablePods: 0, nodeHours: 0 });
  });

  it("names new pool nodes as Terraform would, so a pod pinned by hostname is placeable", () => {
    const pinned = trace(
      header({}, { min: 0 }),
      pod(0, "a", { nodeSelector: { "kubernetes.io/hostname": "worker-1" } }),
    );
    expect(oracle(pinned, options)).toMatchObject({ unplaceablePods: 0 });
  });

  it("needs the pool up to a node a pod is pinned to by hostname", () => {
    // worker-2 is the pool's second node: the pool cannot have fewer than two.
    const pinned = trace(
      header({}, { count: 2, min: 0 }),
      pod(0, "a", { nodeSelector: { "kubernetes.io/hostname": "worker-2" } }),
    );
    expect(oracle(pinned, options)).toMatchObject({ unplaceablePods: 0, peakNodes: 2 });
    expect(simulate(pinned, scriptedAutoscaler({})).metrics.pendingPodMinutes).toBe(0);
  });

  it("is never above a run that keeps every pod placed", () => {
    // 5 + 3 + 2 and 4 + 4 + 2 cores fill two 10-core nodes, as the pods arrive in that order;
    // first-fit decreasing would put 5 and 4 together and need a third node.
    const cores = [5, 3, 2, 4, 4, 2];
    const exact = trace(
      header({}, { count: 2, min: 0, node: { cpu: "10", memory: "16Gi" } }),
      ...cores.map((cpu, i) => pod(0, `p${i}`, { requests: { cpu: String(cpu) } })),
    );
    const run = simulate(exact, scriptedAutoscaler({}));
    expect(run.metrics).toMatchObject({ nodeHours: 2, pendingPodMinutes: 0 });
    expect(oracle(exact, options)).toMatchObject({ nodeHours: 2, peakNodes: 2, boundedSteps: 0 });
  });

  it("finds the fewest nodes in all when pods can go on either of two pools", () => {
    // Six 1.5-core jobs and three 0.5-core pods: two 2-core small nodes hold a job and a small
    // pod each, one 8-core large node the other four jobs and the last small pod.
    const twoPools = trace(
      header({
        pools: [
          {
            ...header().pools[0],
            name: "small",
            count: 2,
            min: 2,
            nodeName: "small-{index}",
            node: { cpu: "2", memory: "8Gi" },
          },
          {
            name: "large",
            count: 0,
            nodeName: "large-{index}",
            node: { cpu: "8", memory: "32Gi" },
          },
        ],
      }),
      pod(0, "web", { count: 3, requests: { cpu: "500m", memory: "1Gi" } }),
      pod(0, "job", { count: 6, requests: { cpu: "1500m", memory: "1Gi" } }),
    );
    expect(oracle(twoPools, options)).toMatchObject({ nodeHours: 3, boundedSteps: 0 });
  });

  it("packs the pods only a fixed node can take before those a pool node could", () => {
    const nas = trace(
      header({ nodes: [{ name: "nas", cpu: "4", memory: "16Gi", labels: { role: "nas" } }] }),
      pod(0, "pinned", { requests: { cpu: "2" }, nodeSelector: { role: "nas" } }),
      pod(0, "flex", { requests: { cpu: "3" } }),
    );
    const result = oracle(nas, options);
    expect(result.unplaceablePods).toBe(0);
    // flex goes on a pool node, pinned on the nas.
    expect(result.nodeHours).toBeCloseTo(1, 10);
  });

  it("packs small pods into the room big ones leave", () => {
    // 3 + 1 and 3 + 1 fit two 4-cpu nodes; in arrival order first-fit would need three.
    const mixed = trace(
      header(),
      pod(0, "s1", { requests: { cpu: "1" } }),
      pod(0, "s2", { requests: { cpu: "1" } }),
      pod(0, "b1", { requests: { cpu: "3" } }),
      pod(0, "b2", { requests: { cpu: "3" } }),
    );
    expect(oracle(mixed, options).peakNodes).toBe(2);
  });

  it("keeps a pool that starts below its min at its count until the first apply a run can make", () => {
    // One node of a pool whose min is 2: the second can exist (booting) no sooner than a pull
    // request opened at the start is merged, one step later without a merge delay.
    const short = trace(header({}, { count: 1, min: 2 }), pod(0, "web"));
    const result = oracle(short, options);
    expect(result.series.nodes.slice(0, 3)).toEqual([1, 2, 2]);
    expect(result.nodeHours).toBeCloseTo(2 - 10 / 3600, 10);
    // Raising the pool at the first ask reaches that figure, and nothing comes in under it.
    const run = simulate(short, scriptedAutoscaler({ 0: [openTo(2)] }, 10_000), {
      ...options,
      mergeDelayMs: 0,
    });
    expect(run.metrics.nodeHours).toBeCloseTo(result.nodeHours, 10);
    // With a 2-minute merge delay the second node comes at step 12.
    const merged = oracle(short, { ...options, mergeDelayMs: 120_000 });
    expect(merged.series.nodes.slice(11, 13)).toEqual([1, 2]);
    expect(merged.nodeHours).toBeCloseTo(2 - 120 / 3600, 10);
  });

  it("never goes below the pool's min", () => {
    expect(oracle(trace(header({}, { count: 2, min: 2 })), options).nodeHours).toBeCloseTo(2, 10);
  });

  it("uses the fixed nodes first and respects selectors and taints", () => {
    const fixed = {
      name: "big-1",
      cpu: "8",
      memory: "32Gi",
      labels: { size: "big" },
      taints: [{ key: "dedicated", effect: "NoSchedule" }],
    };
    const mixed = trace(
      header({ nodes: [fixed] }, { min: 0 }),
      pod(0, "tolerant", {
        requests: { cpu: "6" },
        tolerations: [{ key: "dedicated", operator: "Exists" }],
      }),
      pod(0, "plain", { requests: { cpu: "2" } }),
      pod(0, "nowhere", { nodeSelector: { size: "huge" } }),
    );
    const result = oracle(mixed, options);
    expect(result.nodeHours).toBeCloseTo(1, 10);
    expect(result.unplaceablePods).toBe(1);
    // Named with the line of the trace that brought it (the header is line 1).
    expect(result.unplaceable).toEqual([{ pod: "default/nowhere", line: 4 }]);
  });

  it("ends a pod's demand at its deletion", () => {
    const short = trace(header({}, { min: 0 }), pod(0, "a", { requests: { cpu: "3" } }), {
      type: "delete",
      at: "30m",
      pod: "a",
    });
    expect(oracle(short, { stepMs: 10_000, bootDelayMs: 0 }).nodeHours).toBeCloseTo(0.5, 10);
  });
});
