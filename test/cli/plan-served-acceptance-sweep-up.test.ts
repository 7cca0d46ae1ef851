/**
 * Scale-up packing and bounds as an operator checks them against `plan --kubeconfig`, a further
 * pass: each expectation was worked out by hand before the plan was read, from first-fit
 * decreasing over the room the scheduler's NodeResourcesFit counts (existing nodes first, then
 * new ones), what a new node's DaemonSets take of it, `scaleUp.requests` with the requests a new
 * node's DaemonSets bring, memory held above its threshold over a Prometheus window, a schedule
 * window read on Europe/Berlin's summer time two days before the October 2026 change (the change
 * itself is pinned in plan-served-acceptance-hysteresis), and the control plane left out of the
 * pool's usage. What the other plan-served tests pin is not repeated here.
 *
 * The workers are the Talos VMs of served-cluster.ts (3800m cpu, 110 pods), Cilium (100m,
 * 128 MiB) on each; where memory matters they are given 7.5 GiB (7864320Ki) allocatable, so a
 * new one has 3700m and 7552 MiB free once Cilium runs.
 */
import { describe, expect, it } from "@jest/globals";
import { freshNodeMetrics, type PlanJson, pod, type Raw, unschedulable } from "./served-cluster.ts";
import {
  cluster,
  config,
  everyWorker,
  nameOf,
  onlyReasons,
  plan,
  poolNote,
  serveForTest,
  WORKERS,
} from "./served-plan.ts";
import {
  planOnPrometheus,
  prometheusForTests,
  seriesEnd,
  steadyWorkers,
} from "./served-prometheus.ts";

/** Workers of 3800m and 7.5 GiB allocatable. */
const SMALL = everyWorker({ allocatable: { cpu: "3800m", memory: "7864320Ki", pods: "110" } });

/** A Pending replica of a web app asking for `cpu` and `memory`. */
function web(app: string, cpu: string, memory: string): Raw {
  return pod("web", `${app}-5d8f7c9b6-x${app.padEnd(4, "x")}`, {
    owner: { kind: "ReplicaSet", name: `${app}-5d8f7c9b6` },
    cpu,
    memory,
  });
}

/** A Running app pod on each worker asking for `cpu` and `memory`. */
function busy(cpu: string, memory: string): Raw[] {
  return WORKERS.map((node, index) =>
    pod("media", `plex-7d9c65958-fil${index}x`, { node, cpu, memory }),
  );
}

/** The pending report of the plan's only proposal: where each pod went. */
function placed(output: PlanJson): {
  existing: Record<string, string>;
  onNew: Record<string, string>;
} {
  const pending = output.proposals[0]?.decision?.pending as {
    onExisting: { pod: string; node: string }[];
    onNew: { pod: string; node: string }[];
  };
  const byPod = (list: { pod: string; node: string }[]) =>
    Object.fromEntries(list.map((entry) => [entry.pod, entry.node]));
  return { existing: byPod(pending.onExisting), onNew: byPod(pending.onNew) };
}

describe("plan acceptance sweep (scale-up): first-fit decreasing by a pod's largest share", () => {
  it("fills the room left on the workers first, then packs the rest onto two new nodes", async () => {
    // Each worker runs Cilium and a 2500m / 4 GiB app: 1200m and 3456 MiB free. A new node has
    // 3700m and 7552 MiB. By the larger of its cpu and memory shares of that, g (600m, 5 GiB:
    // 68 % of the memory) goes first, then b and e (3 GiB: 41 %), a and d (1500m: 41 %), c and
    // f (900m). g fits no worker's memory: new-1. b, e take talos-worker-1 and -2 whole; a
    // finds 1200m on talos-worker-3, too little, and goes beside g; d finds new-1 short of
    // memory (384 MiB left): new-2; c takes talos-worker-3's 1200m; f fits no worker now, nor
    // new-1's memory, and joins d on new-2.
    const output = await plan([
      ...cluster(WORKERS, SMALL),
      ...busy("2500m", "4Gi"),
      web("a", "1500m", "2Gi"),
      web("b", "1200m", "3Gi"),
      web("c", "900m", "1Gi"),
      web("d", "1500m", "2Gi"),
      web("e", "1200m", "3Gi"),
      web("f", "900m", "1Gi"),
      web("g", "600m", "5Gi"),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
    expect(placed(output)).toEqual({
      existing: {
        "web/b-5d8f7c9b6-xbxxx": "talos-worker-1",
        "web/e-5d8f7c9b6-xexxx": "talos-worker-2",
        "web/c-5d8f7c9b6-xcxxx": "talos-worker-3",
      },
      onNew: {
        "web/g-5d8f7c9b6-xgxxx": "new-1",
        "web/a-5d8f7c9b6-xaxxx": "new-1",
        "web/d-5d8f7c9b6-xdxxx": "new-2",
        "web/f-5d8f7c9b6-xfxxx": "new-2",
      },
    });
    const text = onlyReasons(output);
    expect(text).toContain("trigger: 4 pending pods need 2 new nodes");
    expect(text).toContain(
      "pending pods: 7 considered, 3 fit free room on existing nodes, 4 go on 2 new nodes",
    );
    expect(text).toContain(
      // The control plane lacks the memory too, but its taint is what the scheduler names.
      "pending: web/g-5d8f7c9b6-xgxxx (cpu 600m, memory 5 GiB) → new-1 (existing nodes: talos-worker-1 and 2 more have too little memory free; talos-cp-1 has a taint it does not tolerate)",
    );
    expect(text).toContain(
      "pending: web/f-5d8f7c9b6-xfxxx (cpu 900m, memory 1 GiB) → new-2 (existing nodes: talos-worker-1 and 2 more have too little cpu free once the pending pods placed before it take theirs;",
    );
  });

  it("needs two new nodes where sorting by cpu alone would open a third", async () => {
    // The workers' cpu is taken whole (Cilium and a 3700m app). By the larger share: s4 (500m,
    // 5 GiB) → new-1 (3200m, 2432 MiB left); s2 (1200m, 4 GiB) → new-2 (2500m, 3456 MiB left);
    // s3 (500m, 3 GiB) is too large for new-1's memory and fits new-2; s1 (900m, 1 GiB) fits
    // new-1. By cpu alone (s2, s1, s4, s3), s2 and s1 share new-1, s4 opens new-2 and s3 fits
    // the memory left on neither: three nodes.
    const output = await plan([
      ...cluster(WORKERS, SMALL),
      ...busy("3700m", "1Gi"),
      web("s1", "900m", "1Gi"),
      web("s2", "1200m", "4Gi"),
      web("s3", "500m", "3Gi"),
      web("s4", "500m", "5Gi"),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
    expect(placed(output).onNew).toEqual({
      "web/s4-5d8f7c9b6-xs4xx": "new-1",
      "web/s2-5d8f7c9b6-xs2xx": "new-2",
      "web/s3-5d8f7c9b6-xs3xx": "new-2",
      "web/s1-5d8f7c9b6-xs1xx": "new-1",
    });
  });
});

describe("plan acceptance sweep (scale-up): a 500m DaemonSet on every worker", () => {
  /** node-exporter, asking for 500m and 64 MiB, on each worker. */
  const exporters = WORKERS.map((node, index) =>
    pod("monitoring", `node-exporter-x9zk${index}`, {
      node,
      owner: { kind: "DaemonSet", name: "node-exporter" },
      cpu: "500m",
      memory: "64Mi",
    }),
  );

  it("leaves a new node 3200m: a pod of 3200m adds it, one of 3201m never fits and is said so", async () => {
    const output = await plan([
      ...cluster(),
      ...exporters,
      ...busy("3", "4Gi"),
      web("fits", "3200m", "1Gi"),
      web("over", "3201m", "1Gi"),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const text = onlyReasons(output);
    expect(text).toContain("DaemonSets take 600m cpu, 192 MiB, 2 pods");
    expect(text).toMatch(/pending: web\/fits-5d8f7c9b6-xfits \(cpu 3200m, memory 1 GiB\) → new-1/);
    expect(text).toContain(
      "never fits: web/over-5d8f7c9b6-xover (cpu 3201m, memory 1 GiB): needs more cpu than a new node has free once its DaemonSets run (3200m of 3800m)",
    );
    expect(output.notes.find((note) => note.subject === "pods")?.message).toContain(
      "pool workers: never fits: web/over-5d8f7c9b6-xover",
    );
  });

  it("counts each new node's DaemonSet requests when bringing requests below scaleUp.requests", async () => {
    // 100m + 500m + 3200m on each worker: 100 % of 11400m requested. Below 65 % with n new
    // nodes, each bringing 3800m and 600m of requests: 11400 + 600n < 0.65 × (11400 + 3800n),
    // so n > 2.13: three. Counting the new nodes' allocatable alone, two would seem enough.
    const output = await plan([...cluster(), ...exporters, ...busy("3200m", "4Gi")], {
      config: config({ "    removal:": "    scaleUp:\n      requests: 65\n    removal:" }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 6 });
    expect(output.proposals[0]?.triggers).toEqual([
      { kind: "requests", resource: "cpu", percent: 100, threshold: 65, newNodes: 3 },
    ]);
    expect(onlyReasons(output)).toContain("trigger: cpu requests 100 % ≥ 65 %: 3 new nodes");
  });
});

describe("plan acceptance sweep (scale-up): workers at 108 of their 110 pods", () => {
  it("puts two pending pods on each worker and the last two on a new node, saying no pod slot is left", async () => {
    // Cilium and 107 small pods on each worker: 2 pod slots free on each, cpu and memory to
    // spare. Eight small pending pods: two on each worker, the seventh and eighth on new-1.
    const small = WORKERS.flatMap((node, index) =>
      Array.from({ length: 107 }, (_, n) =>
        pod("batch", `worker-5c6d7e8f9-${index}${n.toString(36).padStart(4, "0")}`, {
          node,
          cpu: "10m",
          memory: "16Mi",
        }),
      ),
    );
    const pending = Array.from({ length: 8 }, (_, n) =>
      pod("batch", `queue-6b7c8d9e0-0000${n}`, {
        cpu: "10m",
        memory: "16Mi",
        scheduled: unschedulable("Too many pods"),
      }),
    );
    const output = await plan([...cluster(), ...small, ...pending]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const text = onlyReasons(output);
    expect(text).toContain(
      "pending pods: 8 considered, 6 fit free room on existing nodes, 2 go on 1 new node",
    );
    expect(text).toContain(
      "pending: batch/queue-6b7c8d9e0-00007 (cpu 10m, memory 16 MiB) → new-1 (existing nodes: talos-worker-1 and 2 more have no pod slot free once the pending pods placed before it take theirs; talos-cp-1 has room but a taint it does not tolerate keeps it off)",
    );
    const pendingReport = output.proposals[0]?.decision?.pending as { onNew: Raw[] } | undefined;
    const onNew = pendingReport?.onNew ?? [];
    expect(onNew.map((entry) => entry.pod)).toEqual([
      "batch/queue-6b7c8d9e0-00006",
      "batch/queue-6b7c8d9e0-00007",
    ]);
    expect(onNew[1]?.keptOff).toMatchObject({
      room: { nodes: 3, node: "talos-worker-1", resources: ["pods"], afterOthers: true },
    });
  });
});

describe("plan acceptance sweep (scale-up): usage of the pool's workers only", () => {
  it("adds no node while only the control plane is busy", async () => {
    // The control plane's sample: 1900m of its 1950m, 3.4 GiB of its 3.5 GiB; 1 cpu on each worker.
    const objects = cluster(WORKERS, {}, { cpu: "1", memory: "4Gi" }).map((object) =>
      object.kind === "NodeMetrics" && nameOf(object) === "talos-cp-1"
        ? freshNodeMetrics("talos-cp-1", "1900m", "3500Mi")
        : object,
    );
    const output = await plan(objects, {
      config: config({ "    removal:": "    scaleUp:\n      window: 0s\n    removal:" }),
    });
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    // 3 × 1000m of 3 × 3800m.
    expect(note).toContain("utilisation: cpu 26 % (metrics-server over");
    expect(note).toContain("scale-up check: cpu ≥ 80 % for 0s: not met (current, 26 %)");
  });
});

describe("plan acceptance sweep (scale-up): memory held above its threshold, read from Prometheus", () => {
  // An hour of each worker's cAdvisor root cgroup at 1 core and 14 GiB working set, ending on a
  // minute boundary a minute ago: 42 GiB of 3 × 15.2 GiB (45.7 GiB) is 92 %.
  const end = seriesEnd();
  const prometheus = prometheusForTests(() => steadyWorkers(1, 14 * 2 ** 30, end));

  async function planWith(lines: string): Promise<PlanJson> {
    const run = await planOnPrometheus(prometheus.url, end, {
      args: ["--json"],
      objects: cluster(WORKERS, {}, { cpu: "1", memory: "14Gi" }),
      files: { config: config({ "    removal:": `${lines}    removal:` }) },
    });
    return JSON.parse(run.stdout) as PlanJson;
  }

  it("adds the node that brings 92 % below the default 85 %", async () => {
    // One more worker: 42 GiB of 61 GiB, 69 %.
    const output = await planWith("");
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(onlyReasons(output)).toContain(
      "trigger: memory 92 % ≥ 85 % for 5m (usage-window): 1 new node",
    );
  });

  it("adds the two nodes that bring it below 60 %", async () => {
    // Below 60 % takes more than 42 / 0.6 = 70 GiB: 5 workers (76.2 GiB, 55 %), not 4 (61 GiB).
    const output = await planWith("    scaleUp:\n      memory: 60\n");
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
    expect(output.proposals[0]?.triggers).toEqual([
      expect.objectContaining({ kind: "utilisation", resource: "memory", newNodes: 2 }),
    ]);
  });
});

describe("plan acceptance sweep (bounds): a window on Berlin's clock before the change from summer time", () => {
  const window = (cron: string) =>
    config({
      "    removal:": `    schedules:
      - name: weekend
        cron: "${cron}"
        timezone: Europe/Berlin
        duration: 6h
        min: 4
    removal:`,
    });

  it.each([
    // Friday 2026-10-23 18:00 is still summer time (UTC+2): 16:00 UTC.
    [
      "opens Friday 18:00 CEST at 16:00 UTC: open at 16:30 UTC",
      "0 18 * * 5",
      "2026-10-23T16:30:00Z",
      4,
    ],
    [
      "opens Friday 18:00 CEST at 16:00 UTC: not yet at 15:30 UTC",
      "0 18 * * 5",
      "2026-10-23T15:30:00Z",
      undefined,
    ],
    [
      "opened Friday 18:00 CEST closes 6h later, at 22:00 UTC",
      "0 18 * * 5",
      "2026-10-23T22:00:00Z",
      undefined,
    ],
  ])("%s", async (_, cron, now, to) => {
    const served = await serveForTest(cluster());
    const output = await served.plan({ config: window(cron) }, now);
    if (to === undefined) {
      expect(output.proposals).toEqual([]);
      return;
    }
    expect(output.proposals[0]).toMatchObject({ from: 3, to });
    expect(output.proposals[0]?.triggers).toEqual([
      { kind: "below-min", current: 3, min: 4, schedule: "weekend" },
    ]);
  });
});
