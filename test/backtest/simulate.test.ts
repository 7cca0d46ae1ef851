import { describe, expect, it } from "@jest/globals";
import { directionChanges, simulate } from "../../src/backtest/simulate.ts";
import { header, openTo, pod, scriptedAutoscaler, trace } from "./trace-helpers.ts";

const HOUR = 3_600_000;

function podNames(view: {
  snapshot: { pods: { name: string; phase: string; nodeName?: string }[] };
}) {
  return view.snapshot.pods.map((p) => `${p.name}:${p.phase}:${p.nodeName ?? "-"}`);
}

describe("simulate: a scale-up", () => {
  // One 4-cpu node; two 3-cpu pods, so one waits. A pull request to 2 nodes opens at 0 s,
  // merges at 120 s (merge delay) and its node is Ready at 300 s (boot delay).
  const day = trace(
    header(),
    pod(0, "a", { requests: { cpu: "3" } }),
    pod(0, "b", { requests: { cpu: "3" } }),
  );
  const autoscaler = scriptedAutoscaler({ 0: [openTo(2)] });
  const result = simulate(day, autoscaler);
  const at = (seconds: number) => autoscaler.views[seconds / 60];

  it("merges after the merge delay and records the change", () => {
    expect(result.pullRequests).toEqual([
      expect.objectContaining({
        number: 1,
        from: 1,
        desired: 2,
        openedAt: 0,
        mergedAt: 120_000,
        state: "merged",
      }),
    ]);
    expect(result.changes).toEqual([{ pool: "workers", at: 120_000, from: 1, to: 2 }]);
  });

  it("shows the repo's value, last change and open pull request as the forge would", () => {
    expect(at(60)?.repo).toEqual([
      { pool: "workers", currentValue: 1, openPullRequest: { number: 1, desired: 2 } },
    ]);
    expect(at(180)?.repo).toEqual([
      {
        pool: "workers",
        currentValue: 2,
        lastChange: { at: "2025-06-06T00:02:00.000Z", direction: "up" },
      },
    ]);
  });

  it("adds the node to the cluster only once it is Ready, boot delay after the apply", () => {
    expect(at(240)?.snapshot.nodes.map((node) => node.name)).toEqual(["worker-1"]);
    const joined = at(300)?.snapshot.nodes[1];
    expect(joined).toMatchObject({
      name: "worker-2",
      pool: "workers",
      ready: true,
      createdAt: "2025-06-06T00:02:00.000Z",
      readySince: "2025-06-06T00:05:00.000Z",
      labels: { "kubernetes.io/hostname": "worker-2", pool: "workers" },
      allocatable: { cpu: 4000, memory: 16 * 2 ** 30, pods: 110 },
    });
  });

  it("keeps the pod pending, marked Unschedulable, until the node is Ready", () => {
    expect(podNames(at(240) as never)).toEqual(["a:Running:worker-1", "b:Pending:-"]);
    expect(at(240)?.snapshot.pods[1]?.unschedulable).toBeDefined();
    expect(podNames(at(300) as never)).toEqual(["a:Running:worker-1", "b:Running:worker-2"]);
  });

  it("counts pending time and node time, booting nodes included", () => {
    expect(result.metrics.pendingPodMinutes).toBeCloseTo(5, 10);
    // worker-1 for the hour, worker-2 from the apply at 120 s.
    expect(result.metrics.nodeHours).toBeCloseTo((3600 + 3480) / 3600, 10);
    expect(result.metrics).toMatchObject({
      pullRequestsOpened: 1,
      pullRequestsMerged: 1,
      pullRequestsClosed: 0,
      directionChanges: 0,
      podsDisrupted: 0,
      peakNodes: 2,
    });
  });
  it("records each step's nodes, booting machines, empty nodes and pending pods", () => {
    const { series } = result;
    expect(series.stepMs).toBe(10_000);
    expect(series.nodes).toHaveLength(360);
    // Steps of 10 s: the apply at 120 s is step 12, Ready (and b placed) at 300 s is step 30.
    const at = (k: number) => [
      series.nodes[k],
      series.booting[k],
      series.empty[k],
      series.pending[k],
      series.pendingForPools[k],
    ];
    // b waits for room a pool node has: it counts in both pending series.
    expect(at(11)).toEqual([1, 0, 0, 1, 1]);
    expect(at(12)).toEqual([2, 1, 0, 1, 1]);
    expect(at(29)).toEqual([2, 1, 0, 1, 1]);
    expect(at(30)).toEqual([2, 0, 0, 0, 0]);
    expect(at(359)).toEqual([2, 0, 0, 0, 0]);
  });
});

describe("simulate: pull requests updated and closed", () => {
  const quiet = trace(header());

  it("starts the merge delay over when an update changes the count", () => {
    const result = simulate(
      quiet,
      scriptedAutoscaler({
        0: [openTo(2)],
        60: [{ pool: "workers", action: "update", desired: 3, reason: "more" }],
        120: [{ pool: "workers", action: "update", desired: 3, reason: "same" }],
      }),
    );
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ desired: 3, updates: 1, mergedAt: 180_000, reason: "more" }),
    ]);
    expect(result.changes).toEqual([{ pool: "workers", at: 180_000, from: 1, to: 3 }]);
  });

  it("counts a closed pull request as opened and not merged", () => {
    const result = simulate(
      quiet,
      scriptedAutoscaler({
        0: [openTo(2)],
        60: [{ pool: "workers", action: "close", reason: "no" }],
      }),
    );
    expect(result.metrics).toMatchObject({
      pullRequestsOpened: 1,
      pullRequestsMerged: 0,
      pullRequestsClosed: 1,
      peakNodes: 1,
    });
    expect(result.pullRequests[0]).toMatchObject({ state: "closed", closedAt: 60_000 });
    expect(result.metrics.nodeHours).toBeCloseTo(1, 10);
  });

  it("opens no second pull request while one is open", () => {
    const result = simulate(quiet, scriptedAutoscaler({ 0: [openTo(2)], 60: [openTo(3)] }));
    expect(result.pullRequests).toHaveLength(1);
    expect(result.changes).toEqual([{ pool: "workers", at: 120_000, from: 1, to: 2 }]);
  });
});

describe("simulate: a scale-down drains the node", () => {
  // a and x fill worker-1, so b (3 cpu) and c (1 cpu) go to worker-2; x leaves at 30 s.
  // Cutting to one node destroys worker-2 (the highest index): c fits on worker-1, b does not.
  const day = trace(
    header({}, { count: 2 }),
    pod(0, "a", { requests: { cpu: "3" } }),
    pod(0, "x", { requests: { cpu: "1" } }),
    pod(0, "b", { requests: { cpu: "3" } }),
    pod(0, "c", { requests: { cpu: "1" } }),
    { type: "delete", at: 30, pod: "x" },
  );
  const autoscaler = scriptedAutoscaler({ 0: [openTo(1)] });
  const result = simulate(day, autoscaler);

  it("evicts its pods, counts them disrupted and reschedules those that fit", () => {
    expect(podNames(autoscaler.views[0] as never)).toEqual([
      "a:Running:worker-1",
      "x:Running:worker-1",
      "b:Running:worker-2",
      "c:Running:worker-2",
    ]);
    expect(podNames(autoscaler.views[2] as never)).toEqual([
      "a:Running:worker-1",
      "c:Running:worker-1",
      "b:Pending:-",
    ]);
    expect(result.metrics.podsDisrupted).toBe(2);
  });

  it("shows an evicted pod as a new pod, waiting since the drain", () => {
    const evicted = autoscaler.views[2]?.snapshot.pods.find((pod) => pod.name === "b");
    expect(evicted).toMatchObject({
      phase: "Pending",
      createdAt: "2025-06-06T00:02:00.000Z",
      unschedulable: { since: "2025-06-06T00:02:00.000Z" },
    });
  });

  it("counts the evicted pod pending from the apply to the end", () => {
    expect(result.metrics.pendingPodMinutes).toBeCloseTo((3600 - 120) / 60, 10);
    expect(result.metrics.nodeHours).toBeCloseTo((3600 + 120) / 3600, 10);
    expect(result.changes).toEqual([{ pool: "workers", at: 120_000, from: 2, to: 1 }]);
  });

  it("loses a bare pod for good: no controller brings it back", () => {
    // As above, with b a pod of its own (owner none): evicted, it is gone, not waiting.
    const bare = trace(
      header({}, { count: 2 }),
      pod(0, "a", { requests: { cpu: "3" } }),
      pod(0, "x", { requests: { cpu: "1" } }),
      pod(0, "b", { requests: { cpu: "3" }, owner: "none" }),
      pod(0, "c", { requests: { cpu: "1" } }),
      { type: "delete", at: 30, pod: "x" },
      { type: "delete", at: 600, pod: "b" },
    );
    const drained = scriptedAutoscaler({ 0: [openTo(1)] });
    const run = simulate(bare, drained);
    expect(podNames(drained.views[2] as never)).toEqual([
      "a:Running:worker-1",
      "c:Running:worker-1",
    ]);
    expect(run.metrics).toMatchObject({ podsDisrupted: 2, pendingPodMinutes: 0 });
  });
});

describe("simulate: an evicted pod's replacement", () => {
  // a fills worker-1 and b worker-2; c (10 s) waits. The cut at 120 s evicts b, whose
  // replacement is a new pod: it queues behind c, which has waited since 10 s. When a leaves
  // at 5 min, c takes worker-1 and b goes on waiting.
  const day = trace(
    header({}, { count: 2 }),
    pod(0, "a", { requests: { cpu: "3" } }),
    pod(0, "b", { requests: { cpu: "3" } }),
    pod(10, "c", { requests: { cpu: "3" } }),
    { type: "delete", at: "5m", pod: "a" },
  );
  const autoscaler = scriptedAutoscaler({ 0: [openTo(1)] });
  simulate(day, autoscaler);

  it("queues behind the pods already waiting, as a new pod of the same priority", () => {
    expect(podNames(autoscaler.views[2] as never)).toEqual([
      "a:Running:worker-1",
      "c:Pending:-",
      "b:Pending:-",
    ]);
    expect(podNames(autoscaler.views[5] as never)).toEqual(["c:Running:worker-1", "b:Pending:-"]);
  });

  it("runs as a pod created at the drain", () => {
    const late = trace(
      header({}, { count: 2 }),
      pod(0, "a", { requests: { cpu: "3" } }),
      pod(0, "b", { requests: { cpu: "3" } }),
      { type: "delete", at: "5m", pod: "a" },
    );
    const drained = scriptedAutoscaler({ 0: [openTo(1)] });
    simulate(late, drained);
    const replacement = drained.views[5]?.snapshot.pods.find((p) => p.name === "b");
    expect(replacement).toMatchObject({
      phase: "Running",
      nodeName: "worker-1",
      createdAt: "2025-06-06T00:02:00.000Z",
    });
  });
});

describe("simulate: preemption", () => {
  it("evicts lower-priority pods for a pod no node has room for, sparing the more important", () => {
    // worker-1 holds mid (priority 5, 2 cpu), low-1 and low-2 (1 cpu each). critical (2 cpu,
    // priority 10) arrives at 30 s: evicting both low pods makes room and mid stays. They come
    // back as new pods and wait; counted as preempted, not as disrupted by a scale-down.
    const day = trace(
      header(),
      pod(0, "mid", { requests: { cpu: "2" }, priority: 5 }),
      pod(0, "low-1", { requests: { cpu: "1" } }),
      pod(0, "low-2", { requests: { cpu: "1" } }),
      pod(30, "critical", { requests: { cpu: "2" }, priority: 10 }),
    );
    const autoscaler = scriptedAutoscaler({});
    const result = simulate(day, autoscaler);
    expect(podNames(autoscaler.views[1] as never)).toEqual([
      "mid:Running:worker-1",
      "critical:Running:worker-1",
      "low-1:Pending:-",
      "low-2:Pending:-",
    ]);
    const victim = autoscaler.views[1]?.snapshot.pods.find((p) => p.name === "low-1");
    expect(victim?.createdAt).toBe("2025-06-06T00:00:30.000Z");
    expect(result.metrics).toMatchObject({ podsPreempted: 2, podsDisrupted: 0 });
  });

  it("preempts on the node whose most important victim is the least important", () => {
    const day = trace(
      header({}, { count: 2 }),
      pod(0, "service", { requests: { cpu: "4" }, priority: 5 }),
      pod(0, "batch", { requests: { cpu: "4" }, priority: 1 }),
      pod(30, "critical", { requests: { cpu: "3" }, priority: 10 }),
    );
    const autoscaler = scriptedAutoscaler({});
    simulate(day, autoscaler);
    expect(podNames(autoscaler.views[1] as never)).toEqual([
      "service:Running:worker-1",
      "critical:Running:worker-2",
      "batch:Pending:-",
    ]);
  });

  it("leaves pods of equal or higher priority, and a bare victim is gone", () => {
    const day = trace(
      header({}, { count: 2 }),
      pod(0, "peer", { requests: { cpu: "4" }, priority: 10 }),
      pod(0, "bare", { requests: { cpu: "4" }, owner: "none" }),
      pod(30, "critical", { requests: { cpu: "4" }, priority: 10 }),
      pod(40, "another", { requests: { cpu: "4" }, priority: 10 }),
    );
    const autoscaler = scriptedAutoscaler({});
    const result = simulate(day, autoscaler);
    expect(podNames(autoscaler.views[1] as never)).toEqual([
      "peer:Running:worker-1",
      "critical:Running:worker-2",
      "another:Pending:-",
    ]);
    expect(result.metrics.podsPreempted).toBe(1);
  });
});

describe("simulate: pending pods a pool node could hold", () => {
  it("are counted apart through preemption, a drain and deletions of waiting pods", () => {
    // low (3 cpu) runs on worker-1 until critical preempts it at 30 s; typo (no node carries
    // its selector) waits until deleted at 5 min; nas-job waits for the full nas all along;
    // extra waits from 60 s until deleted at 2 min; the cut at 8 min drains worker-2.
    const nas = { name: "nas", cpu: "1", memory: "4Gi", labels: { role: "nas" } };
    const day = trace(
      header({ nodes: [nas] }, { count: 2 }),
      pod(0, "nas-app", { nodeSelector: { role: "nas" } }),
      pod(0, "nas-job", { nodeSelector: { role: "nas" } }),
      pod(0, "low", { requests: { cpu: "3" } }),
      pod(0, "filler", { requests: { cpu: "4" } }),
      pod(0, "typo", { nodeSelector: { role: "nsa" } }),
      pod(30, "critical", { requests: { cpu: "2" }, priority: 10 }),
      pod(60, "extra", { requests: { cpu: "4" } }),
      { type: "delete", at: "2m", pod: "default/extra" },
      { type: "delete", at: "5m", pod: "default/typo" },
    );
    const result = simulate(day, scriptedAutoscaler({ 360: [openTo(1)] }));
    const { pending, pendingForPools } = result.series;
    // Steps: 30 s is 3, 60 s is 6, 2 min 12, 5 min 30, the drain at 8 min 48.
    const at = (k: number) => [pending[k], pendingForPools[k]];
    expect(at(0)).toEqual([2, 0]); // nas-job, typo
    expect(at(3)).toEqual([3, 1]); // + low, preempted
    expect(at(6)).toEqual([4, 2]); // + extra
    expect(at(12)).toEqual([3, 1]); // extra deleted while waiting
    expect(at(30)).toEqual([2, 1]); // typo deleted while waiting
    expect(at(48)).toEqual([3, 2]); // filler drained from worker-2
    expect(result.metrics).toMatchObject({ podsPreempted: 1, podsDisrupted: 1 });
  });
});

describe("simulate: fixed nodes", () => {
  it("carry their name as kubernetes.io/hostname, so a pod pinned to one runs there", () => {
    const pinned = trace(
      header({ nodes: [{ name: "nas", cpu: "4", memory: "16Gi", labels: { role: "nas" } }] }),
      pod(0, "backup", { nodeSelector: { "kubernetes.io/hostname": "nas" } }),
    );
    const autoscaler = scriptedAutoscaler({});
    simulate(pinned, autoscaler);
    expect(podNames(autoscaler.views[1] as never)).toEqual(["backup:Running:nas"]);
  });
});

describe("simulate: batch pods", () => {
  it("finish their duration after they start and start over when evicted", () => {
    // job runs on worker-2 from 0 s; the cut at 180 s evicts it; a leaves at 20 min, so the
    // job starts again on worker-1 at 1200 s and, 10 minutes later, is gone.
    const day = trace(
      header({}, { count: 2 }),
      pod(0, "a", { requests: { cpu: "3" } }),
      pod(0, "job", { requests: { cpu: "3" }, duration: "10m" }),
      { type: "delete", at: "20m", pod: "a" },
    );
    const autoscaler = scriptedAutoscaler({ 60: [openTo(1)] });
    const result = simulate(day, autoscaler);
    expect(podNames(autoscaler.views[1] as never)).toContain("job:Running:worker-2");
    expect(podNames(autoscaler.views[4] as never)).toEqual(["a:Running:worker-1", "job:Pending:-"]);
    expect(podNames(autoscaler.views[20] as never)).toEqual(["job:Running:worker-1"]);
    expect(podNames(autoscaler.views[29] as never)).toEqual(["job:Running:worker-1"]);
    expect(podNames(autoscaler.views[30] as never)).toEqual([]);
    expect(result.metrics.pendingPodMinutes).toBeCloseTo((1200 - 180) / 60, 10);
    expect(result.metrics.podsDisrupted).toBe(1);
  });

  it("complete without an autoscaler doing anything", () => {
    const day = trace(header(), pod(0, "job", { duration: "90s" }));
    const autoscaler = scriptedAutoscaler({});
    simulate(day, autoscaler);
    expect(podNames(autoscaler.views[1] as never)).toEqual(["job:Running:worker-1"]);
    expect(podNames(autoscaler.views[2] as never)).toEqual([]);
  });
});

describe("simulate: scheduling", () => {
  const gpuNode = {
    name: "gpu-1",
    cpu: "8",
    memory: "32Gi",
    labels: { gpu: "true" },
    taints: [{ key: "gpu", effect: "NoSchedule" }],
  };
  const toleration = [{ key: "gpu", operator: "Exists" }];

  it("places pods first-fit by requests, honouring selectors, taints and tolerations", () => {
    const day = trace(
      header({ nodes: [gpuNode] }, { count: 2 }),
      pod(0, "web", { requests: { cpu: "2" } }),
      pod(0, "ml", {
        requests: { cpu: "6" },
        nodeSelector: { gpu: "true" },
        tolerations: toleration,
      }),
      pod(0, "untolerated", { nodeSelector: { gpu: "true" } }),
      pod(0, "api", { requests: { cpu: "2" } }),
      pod(0, "db", { requests: { cpu: "1" } }),
      pod(0, "pinned", { nodeSelector: { pool: "workers" }, requests: { cpu: "500m" } }),
    );
    const autoscaler = scriptedAutoscaler({});
    simulate(day, autoscaler);
    expect(podNames(autoscaler.views[0] as never)).toEqual([
      "ml:Running:gpu-1",
      "web:Running:worker-1",
      "api:Running:worker-1",
      "db:Running:worker-2",
      "pinned:Running:worker-2",
      "untolerated:Pending:-",
    ]);
  });

  it("gives room to the higher priority first, then to the earlier arrival", () => {
    const day = trace(
      header(),
      // big is as important as late-important, which therefore cannot preempt it.
      pod(0, "big", { requests: { cpu: "4" }, priority: 100 }),
      pod(10, "early", { requests: { cpu: "2" } }),
      pod(20, "late-important", { requests: { cpu: "3" }, priority: 100 }),
      pod(30, "later", { requests: { cpu: "2" } }),
      { type: "delete", at: 120, pod: "big" },
    );
    const autoscaler = scriptedAutoscaler({});
    simulate(day, autoscaler);
    expect(podNames(autoscaler.views[2] as never)).toEqual([
      "late-important:Running:worker-1",
      "early:Pending:-",
      "later:Pending:-",
    ]);
  });

  it("places a pod that arrives into room left beside the pods waiting for more", () => {
    // 3 of 4 cpu taken; two 2-cpu pods wait. Nothing leaves, but a 1-cpu pod fits the rest,
    // and a later 2-cpu one still waits.
    const day = trace(
      header(),
      pod(0, "base", { requests: { cpu: "3" } }),
      pod(0, "wait", { count: 2, requests: { cpu: "2" } }),
      pod(90, "small", { requests: { cpu: "1" } }),
      pod(150, "another", { requests: { cpu: "2" } }),
    );
    const autoscaler = scriptedAutoscaler({});
    simulate(day, autoscaler);
    expect(podNames(autoscaler.views[3] as never)).toEqual([
      "base:Running:worker-1",
      "small:Running:worker-1",
      "wait-0:Pending:-",
      "wait-1:Pending:-",
      "another:Pending:-",
    ]);
  });
});

describe("simulate: usage", () => {
  it("reports node usage as the sum of its pods', cpu capped at allocatable, none for pending pods", () => {
    const day = trace(
      header(),
      pod(0, "a", { requests: { cpu: "1" }, usage: { cpu: "1500m", memory: "3Gi" } }),
      pod(0, "b", { requests: { cpu: "1" }, usage: { cpu: "2", memory: "1Gi" } }),
      pod(0, "c", { requests: { cpu: "3" } }),
      { type: "usage", at: "2m", pod: "b", usage: { cpu: "3", memory: "2Gi" } },
    );
    const autoscaler = scriptedAutoscaler({});
    simulate(day, autoscaler);
    const before = autoscaler.views[1]?.snapshot;
    expect(before?.nodes[0]?.usage).toMatchObject({
      cpu: 3500,
      memory: 4 * 2 ** 30,
      source: "metrics-server",
    });
    expect(before?.pods.find((p) => p.name === "c")?.usage).toBeUndefined();
    expect(before?.pods.find((p) => p.name === "b")?.usage).toMatchObject({ cpu: 2000 });
    const after = autoscaler.views[2]?.snapshot;
    expect(after?.nodes[0]?.usage).toMatchObject({ cpu: 4000, memory: 5 * 2 ** 30 });
  });
});

describe("simulate: accounting", () => {
  it("counts a pod that arrives between two steps as pending from the next step", () => {
    // full fills the node at 0; late arrives at 15 s, is queued at the 20 s step and waits
    // from there to the end.
    const day = trace(
      header(),
      pod(0, "full", { requests: { cpu: "4" } }),
      pod(15, "late", { requests: { cpu: "1" } }),
    );
    const result = simulate(day, scriptedAutoscaler({}));
    expect(result.series.pending.slice(0, 3)).toEqual([0, 0, 1]);
    expect(result.metrics.pendingPodMinutes).toBeCloseTo((3600 - 20) / 60, 10);
  });

  it("counts the last, shorter step only for its length", () => {
    const day = trace(header({ duration: 95 }), pod(0, "big", { requests: { cpu: "5" } }));
    const result = simulate(day, scriptedAutoscaler({}));
    expect(result.metrics.nodeHours).toBeCloseTo(95 / 3600, 12);
    expect(result.metrics.pendingPodMinutes).toBeCloseTo(95 / 60, 12);
  });

  it("counts each change of direction per pool", () => {
    const change = (pool: string, from: number, to: number) => ({ pool, at: 0, from, to });
    expect(
      directionChanges([
        change("a", 2, 3),
        change("b", 2, 1),
        change("a", 3, 4),
        change("a", 4, 3),
        change("b", 1, 2),
        change("a", 3, 4),
      ]),
    ).toBe(3);
  });

  it("takes the trace duration and step from the options", () => {
    const result = simulate(trace(header({ duration: "2h" })), scriptedAutoscaler({}), {
      stepMs: 60_000,
      bootDelayMs: 0,
      mergeDelayMs: 0,
    });
    expect(result.metrics.nodeHours * HOUR).toBeCloseTo(2 * HOUR, 6);
  });
});
