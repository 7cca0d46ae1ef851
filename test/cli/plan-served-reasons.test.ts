/**
 * What `plan --json` against a served cluster carries as data for a program reading it, beside
 * the explanation's lines: where the pods of the node a decrease removes go, which lists a
 * partial read failed on, and the figures a decision rests on in the units docs/configuration.md
 * gives them (cpu in millicores, memory in bytes, percents of allocatable unrounded, durations in
 * ms), each beside the line of the explanation that says it.
 */
import { describe, expect, it } from "@jest/globals";
import { pod, type Raw } from "./served-cluster.ts";
import {
  apps,
  cluster,
  config,
  FOUR,
  fillers,
  judgedNow,
  manyPods,
  plan,
  planFull,
  poolDecision,
  serveForTest,
  tdarr,
  WORKERS,
} from "./served-plan.ts";

const GiB = 2 ** 30;
/** A worker's 15986572Ki of memory allocatable, in bytes. */
const WORKER_MEMORY = 15986572 * 1024;

/** The scale-down condition of `kind` in the pool's decision. */
function condition(decision: Raw, kind: string): Raw | undefined {
  const conditions = (decision.scaleDown as { conditions: Raw[] }).conditions;
  return conditions.find((entry) => entry.kind === kind);
}

describe("plan --json: where the pods of the node removed go", () => {
  it("names the node each pod of talos-worker-4 moves to, the only one with room for the larger", async () => {
    // talos-worker-1 and 2 run 3 cores of their 3800m (and Cilium's 100m): 700m free each, too
    // little for the 1-core pod, which only talos-worker-3 takes. The 100m pod, placed after
    // the larger, goes on the first node with room for it. Requests: 6000m + 1100m + 400m of
    // Cilium over 15200m is 49 %, below 50 %.
    const objects = [
      ...cluster(FOUR, {}, { cpu: "300m", memory: "1Gi" }),
      ...fillers(["talos-worker-1", "talos-worker-2"]),
      pod("media", "sonarr-6b7c8d9e5-big4x", {
        node: "talos-worker-4",
        cpu: "1",
        memory: "1Gi",
      }),
      pod("media", "bazarr-6b7c8d9e5-sml4x", {
        node: "talos-worker-4",
        cpu: "100m",
        memory: "128Mi",
      }),
    ];
    const output = await plan(objects, judgedNow(4));
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: 2 pods of talos-worker-4 fit on the other nodes: met",
    );
    const fit = condition(poolDecision(output), "pods-fit");
    expect(fit).toMatchObject({ met: true, node: "talos-worker-4", pods: 2, unplaced: [] });
    expect(fit?.placements).toEqual(
      expect.arrayContaining([
        { pod: "media/sonarr-6b7c8d9e5-big4x", node: "talos-worker-3" },
        { pod: "media/bazarr-6b7c8d9e5-sml4x", node: "talos-worker-1" },
      ]),
    );
    expect(fit?.placements).toHaveLength(2);
  });

  it("leaves placements out when no pod of the node finds room, and names the pod unplaced", async () => {
    // Every other worker runs 3200m of its 3800m: 500m free, too little for the 1-core pod.
    const objects = [
      ...cluster(FOUR, {}, { cpu: "300m", memory: "1Gi" }),
      ...fillers(["talos-worker-1", "talos-worker-2", "talos-worker-3"], "3200m"),
      pod("media", "sonarr-6b7c8d9e5-big4x", { node: "talos-worker-4", cpu: "1", memory: "1Gi" }),
    ];
    const output = await plan(objects, judgedNow(4));
    const fit = condition(poolDecision(output), "pods-fit");
    expect(fit).toMatchObject({
      met: false,
      unplaced: ["media/sonarr-6b7c8d9e5-big4x"],
      causes: [{ pod: "media/sonarr-6b7c8d9e5-big4x", cause: "room", resources: ["cpu"] }],
    });
    expect(fit).not.toHaveProperty("placements");
  });
});

describe("plan --json: the lists a partial read failed on", () => {
  it("names the budgets list that failed outright, beside the warning's words", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), tdarr("pdb01")]);
    served.fake.injectFault({
      path: "/apis/policy/v1/poddisruptionbudgets",
      status: 500,
      times: Number.POSITIVE_INFINITY,
    });
    const output = await served.plan();
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.holds).toEqual([
      {
        kind: "snapshot-incomplete",
        warnings: [expect.stringMatching(/^poddisruptionbudgets: GET .* HTTP 500 /)],
        lists: [{ list: "poddisruptionbudgets", read: "failed" }],
      },
    ]);
  });

  it("says the pod list stopped part way when a page after the first fails", async () => {
    // 600 pods come in two pages of 500: the second fails.
    const roomy = { allocatable: { cpu: "3800m", memory: "15986572Ki", pods: "300" } };
    const served = await serveForTest([
      ...cluster(WORKERS, Object.fromEntries(WORKERS.map((name) => [name, roomy]))),
      ...manyPods(600),
    ]);
    served.fake.injectFault({
      path: "/api/v1/pods",
      continued: true,
      status: 500,
      times: Number.POSITIVE_INFINITY,
    });
    const output = await served.plan();
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.holds).toContainEqual(
      expect.objectContaining({
        kind: "snapshot-incomplete",
        lists: [{ list: "pods", read: "partial" }],
      }),
    );
  });
});

describe("plan --json: the figures a decision rests on, in their units", () => {
  it("gives the cpu trigger's percent unrounded, its window in ms, and the pool's cpu in millicores and memory in bytes", async () => {
    // Each worker uses 3500m of its 3800m and 2 GiB: 10500m of 11400m is 92.1 %, over the 80 %
    // threshold, judged on metrics-server's sample with scaleUp.window 0.
    const output = await plan(cluster(WORKERS, {}, { cpu: "3500m", memory: "2Gi" }), {
      config: config({ "    removal:": "    scaleUp:\n      window: 0\n    removal:" }),
    });
    const proposal = output.proposals[0];
    expect(proposal).toMatchObject({ from: 3, to: 4 });
    expect(proposal?.reasons).toContain("  trigger: cpu 92 % ≥ 80 % for 0s (current): 1 new node");
    expect(proposal?.triggers).toEqual([
      {
        kind: "utilisation",
        resource: "cpu",
        percent: (10500 / 11400) * 100,
        threshold: 80,
        windowMs: 0,
        basis: "current",
        newNodes: 1,
      },
    ]);
    const utilisation = poolDecision(output).utilisation as Record<string, Raw>;
    // Cilium's 100m and 128 MiB on each worker are the pool's requests.
    expect(utilisation.cpu).toMatchObject({
      usage: 10500,
      allocatable: 11400,
      requests: 300,
      percent: (10500 / 11400) * 100,
      source: "metrics-server",
    });
    expect(utilisation.memory).toMatchObject({
      usage: 3 * 2 * GiB,
      allocatable: 3 * WORKER_MEMORY,
      requests: 3 * 128 * 2 ** 20,
    });
  });

  it("gives the scale-down trigger what it rests on: each usage and requests percent against its threshold", async () => {
    // Four workers at 300m and 1 GiB each, an app pod (100m, 128 MiB) and Cilium (the same) on
    // each: cpu 1200m of 15200m, requests 800m; memory 4 GiB, requests 1 GiB.
    const output = await plan(
      [...cluster(FOUR, {}, { cpu: "300m", memory: "1Gi" }), ...apps()],
      judgedNow(4),
    );
    const proposal = output.proposals[0];
    expect(proposal).toMatchObject({ from: 4, to: 3 });
    expect(proposal?.reasons).toEqual(
      expect.arrayContaining([
        "  trigger: usage and requests stayed below the scale-down thresholds",
        "  scale-down: cpu < 30 % for 0s: met (current, 7.9 %)",
        "  scale-down: cpu requests 5.3 % < 50 %: met",
      ]),
    );
    const memory = 4 * WORKER_MEMORY;
    expect(proposal?.triggers).toEqual([
      {
        kind: "underutilised",
        usage: [
          {
            resource: "cpu",
            percent: (1200 / 15200) * 100,
            threshold: 30,
            windowMs: 0,
            basis: "current",
          },
          {
            resource: "memory",
            percent: ((4 * GiB) / memory) * 100,
            threshold: 40,
            windowMs: 0,
            basis: "current",
          },
        ],
        requests: [
          { resource: "cpu", percent: (800 / 15200) * 100, threshold: 50, basis: "current" },
          { resource: "memory", percent: (GiB / memory) * 100, threshold: 50, basis: "current" },
        ],
      },
    ]);
  });

  it("gives a pending pod's requests and a never-fitting pod's in millicores and bytes, with the new node it goes on", async () => {
    const output = await planFull([tdarr("aaaaa"), tdarr("zzzzz", { cpu: "10" })]);
    expect(output.proposals[0]?.reasons).toEqual(
      expect.arrayContaining([
        "  pending: media/tdarr-node-6d8c7f5b49-aaaaa (cpu 1500m, memory 2 GiB) → new-1 (existing nodes: talos-worker-1 and 2 more have too little cpu free; talos-cp-1 has room but a taint it does not tolerate keeps it off)",
        "  never fits: media/tdarr-node-6d8c7f5b49-zzzzz (cpu 10, memory 2 GiB): needs more cpu than a new node has free once its DaemonSets run (3700m of 3800m)",
      ]),
    );
    const pending = poolDecision(output).pending as Record<string, Raw[]>;
    expect(pending.onNew).toEqual([
      expect.objectContaining({
        pod: "media/tdarr-node-6d8c7f5b49-aaaaa",
        cpu: 1500,
        memory: 2 * GiB,
        node: "new-1",
      }),
    ]);
    expect(pending.neverFit).toEqual([
      expect.objectContaining({
        pod: "media/tdarr-node-6d8c7f5b49-zzzzz",
        cpu: 10000,
        memory: 2 * GiB,
        reason: "too-large",
        resource: "cpu",
      }),
    ]);
    // What a new node has free, which the never-fits line gives: allocatable less DaemonSets.
    expect((poolDecision(output).nodes as Raw).shape).toMatchObject({
      allocatable: { cpu: 3800, memory: WORKER_MEMORY, pods: 110 },
      daemonSetOverhead: { cpu: 100, memory: 128 * 2 ** 20, pods: 1 },
    });
  });

  it("gives the host cap's parts in bytes and the hold at it, as the bounds line and the hold say them", async () => {
    // (64 GiB − 8 GiB) / 16 GiB: 3 workers at most, and the pending pods want a fourth.
    const output = await planFull([tdarr("aaaaa"), tdarr("bbbbb")], {
      config: config({
        "    removal:":
          "    host:\n      memory: 64Gi\n      reserved:\n        memory: 8Gi\n      node:\n        memory: 16Gi\n    removal:",
      }),
    });
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.message).toContain(
      "  bounds: min 1, max 6, host cap 3 (memory ⌊(64 GiB − 8 GiB reserved) / 16 GiB⌋ = 3); in effect 1..3",
    );
    expect(note?.message).toContain("  hold: wanted 4 nodes, the host cap allows 3");
    expect(note?.holds).toEqual([{ kind: "at-max", wanted: 4, allowed: 3, bound: "host-cap" }]);
    expect(poolDecision(output).bounds).toMatchObject({
      max: 6,
      effectiveMax: 3,
      hostCap: 3,
      hostCapParts: [
        { kind: "memory", nodes: 3, host: 64 * GiB, reserved: 8 * GiB, perNode: 16 * GiB },
      ],
    });
  });
});
