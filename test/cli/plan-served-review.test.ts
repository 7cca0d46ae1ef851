/**
 * `plan --json` against a Kubernetes API server on 127.0.0.1 for the planner's review fixes:
 * pending pods taking room on any node that admits them, pools that share nodes, nominated
 * pods keeping their node's room, the new-node shape with extended resources, the max as a
 * bound, the maxUnready boundary and its okUnready floor, held pools' notes as data, usage
 * judged against the time planned for, and a count file git does not track. Each scenario
 * asserts the proposal (or its absence) and the explanation line that names the cause.
 */
import { describe, expect, it } from "@jest/globals";
import type { NoteJson } from "../support/plan-json.ts";
import {
  CONFIG,
  ciliumAgent,
  freshNodeMetrics,
  type PlanJson,
  pod,
  type Raw,
  TFVARS,
  worker,
  writeInfraRepo,
} from "./served-cluster.ts";
import {
  apps,
  changedAt,
  cluster,
  config,
  FOUR,
  filler,
  fillers,
  git,
  nameOf,
  OVER_MAX,
  onWorker4,
  plan,
  planAboveMax,
  planFull,
  planWhileFailing,
  poolNote,
  serveForTest,
  tdarr,
  tempDir,
  tfvars,
  transcodeJob,
  WORKERS,
} from "./served-plan.ts";

/** The note of `pool` as data; the test fails when the pool has none. */
function noteOf(output: PlanJson, pool = "workers"): NoteJson {
  const note = output.notes.find((entry) => entry.subject === `pool/${pool}`);
  if (!note) throw new Error(`no note for pool ${pool}: ${JSON.stringify(output)}`);
  return note;
}

/** The kinds of the holds in the pool's note. */
function holdKinds(output: PlanJson, pool = "workers"): unknown[] {
  return (noteOf(output, pool).holds ?? []).map((hold) => hold.kind);
}

/** The reasons of the plan's proposal at `index`, one per line. */
function reasons(output: PlanJson, index = 0): string {
  return output.proposals[index]?.reasons.join("\n") ?? "";
}

/** The proposal for `pool`, if any. */
function proposalOf(output: PlanJson, pool: string): PlanJson["proposals"][number] | undefined {
  return output.proposals.find((proposal) => proposal.pool === pool);
}

/** The pod's app container requests, created when it asks for nothing yet. */
function requestsOf(raw: Raw): Raw {
  const container = ((raw.spec as Raw).containers as Raw[])[0] as Raw;
  const resources = container.resources as Raw;
  resources.requests ??= {};
  return resources.requests as Raw;
}

/** The pod asking for one NVIDIA GPU (request and limit, as the device plugin wants). */
function askingForGpu(raw: Raw): Raw {
  requestsOf(raw)["nvidia.com/gpu"] = "1";
  const container = ((raw.spec as Raw).containers as Raw[])[0] as Raw;
  (container.resources as Raw).limits = { "nvidia.com/gpu": "1" };
  return raw;
}

/** The node with one GPU passed through, as the NVIDIA device plugin reports it. */
function withGpu(node: Raw): Raw {
  const status = node.status as Raw;
  (status.allocatable as Raw)["nvidia.com/gpu"] = "1";
  (status.capacity as Raw)["nvidia.com/gpu"] = "1";
  return node;
}

/** `objects` with the Nodes named in `names` edited by `edit`. */
function editNodes(objects: Raw[], names: readonly string[], edit: (node: Raw) => Raw): Raw[] {
  return objects.map((object) =>
    object.kind === "Node" && names.includes(nameOf(object) as string) ? edit(object) : object,
  );
}

/** The pod at a priority above the pods it preempts. */
function highPriority(raw: Raw): Raw {
  const spec = raw.spec as Raw;
  spec.priority = 1000;
  spec.priorityClassName = "media-high";
  return raw;
}

/** The config with `text` inserted before the pool's `removal:` block. */
function configBeforeRemoval(text: string, replace: Record<string, string> = {}): string {
  return config({ ...replace, "    removal:": `${text}    removal:` });
}

const DEFAULT_SELECTOR = `    selector:
      matchExpressions:
        - key: node-role.kubernetes.io/control-plane
          operator: DoesNotExist
`;

/** A second pool, `big`, of 8-core VMs counted by `big_count`, after the workers pool. */
function bigPool(rest: string): string {
  return `  - name: big
    target:
      file: terraform/terraform.tfvars
      path: big_count
    selector:
      matchLabels:
        node.kubernetes.io/instance-type: 8VCPU-32GB
    min: 0
${rest}`;
}

/** Workers selected by their 4-core instance type, and the big pool beside them. */
function withBigPool(rest: string, replace: Record<string, string> = {}): string {
  const workers = config({
    [DEFAULT_SELECTOR]: `    selector:
      matchLabels:
        node.kubernetes.io/instance-type: 4VCPU-16GB
`,
    ...replace,
  });
  return `${workers}${bigPool(rest)}`;
}

/** TFVARS with `count` big nodes as well. */
function bigTfvars(count: number): string {
  return `${TFVARS}big_count         = ${count}\n`;
}

/** An 8-core, 32 GiB VM of the big pool with Cilium, fresh metrics, and a filler of `fill`. */
function bigNode(name: string, index: number, fill?: string): Raw[] {
  return [
    worker(name, {
      labels: { "node.kubernetes.io/instance-type": "8VCPU-32GB" },
      allocatable: { cpu: "7800m", memory: "32567188Ki", pods: "110" },
    }),
    ciliumAgent(name, index),
    freshNodeMetrics(name, "1", "4Gi"),
    ...(fill ? [filler(name, index, fill)] : []),
  ];
}

/** The cluster with the control plane's NoSchedule taint gone (allowSchedulingOnControlPlanes). */
function untaintedControlPlane(objects: Raw[]): Raw[] {
  return editNodes(objects, ["talos-cp-1"], (node) => {
    delete (node.spec as Raw).taints;
    return node;
  });
}

/** `talos-worker-1` … `talos-worker-{count}`. */
function workerNames(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `talos-worker-${index + 1}`);
}

describe("plan review: pending pods take free room outside the pool first", () => {
  it("places a pending pod on another pool's node with room and adds no node", async () => {
    const output = await planFull([...bigNode("talos-big-1", 7, "2"), transcodeJob("any001")], {
      tfvars: bigTfvars(1),
      config: withBigPool("    max: 3\n"),
    });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output, "workers")).toMatch(
      /transcode-29123400-any001 [^\n]*fits on talos-big-1/,
    );
    expect(holdKinds(output, "workers")).toEqual([]);
  });

  it("adds a node when the other pool's node has no room either", async () => {
    const output = await planFull([...bigNode("talos-big-1", 7, "7"), transcodeJob("any002")], {
      tfvars: bigTfvars(1),
      config: withBigPool("    max: 3\n"),
    });
    expect(proposalOf(output, "workers")).toMatchObject({ from: 3, to: 4 });
    expect(proposalOf(output, "big")).toBeUndefined();
    expect(reasons(output)).toMatch(/transcode-29123400-any002 [^\n]*→ new-1/);
  });

  it("places a pending pod on an untainted control plane with room", async () => {
    const output = await plan([
      ...untaintedControlPlane(cluster()),
      ...fillers(),
      transcodeJob("cproom", { cpu: "1", memory: "1Gi" }),
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/transcode-29123400-cproom [^\n]*fits on talos-cp-1/);
  });

  it("does not use a control plane that keeps its NoSchedule taint", async () => {
    const output = await planFull([transcodeJob("cptnt", { cpu: "1", memory: "1Gi" })]);
    expect(output.proposals[0]).toMatchObject({ pool: "workers", from: 3, to: 4 });
    const text = reasons(output);
    expect(text).toMatch(/transcode-29123400-cptnt [^\n]*→ new-1/);
    expect(text).not.toMatch(/fits on talos-cp-1/);
  });

  it("keeps the second pool's node that a pending pod of the first pool is counted on", async () => {
    // talos-big-1 is full; the pending pod's only room is talos-big-2, the node the big pool,
    // above its max of 1, would remove.
    const output = await planFull(
      [
        ...bigNode("talos-big-1", 7, "7"),
        ...bigNode("talos-big-2", 8),
        transcodeJob("onbig2", { cpu: "2", memory: "1Gi" }),
      ],
      { tfvars: bigTfvars(2), config: withBigPool("    max: 1\n") },
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output, "workers")).toMatch(
      /transcode-29123400-onbig2 [^\n]*fits on talos-big-2/,
    );
    expect(poolNote(output, "big")).toContain(
      "0 pods of talos-big-2, with the 1 pending pod the pool's free room holds, fit on the other nodes: not met (no room for batch/transcode-29123400-onbig2: it needs more cpu than any other node of the pool, or any node of pool workers offered to it, has free)",
    );
  });

  it("removes the second pool's node when the pending pod has room on its other node", async () => {
    const output = await planFull(
      [
        ...bigNode("talos-big-1", 7, "2"),
        ...bigNode("talos-big-2", 8),
        transcodeJob("onbig1", { cpu: "2", memory: "1Gi" }),
      ],
      { tfvars: bigTfvars(2), config: withBigPool("    max: 1\n") },
    );
    expect(output.proposals).toHaveLength(1);
    expect(proposalOf(output, "big")).toMatchObject({ from: 2, to: 1, direction: "down" });
    expect(reasons(output)).toContain("removing talos-big-2");
    expect(poolNote(output, "workers")).toMatch(
      /transcode-29123400-onbig1 [^\n]*fits on talos-big-/,
    );
  });
});

describe("plan review: pools whose selectors match the same node", () => {
  it("holds both pools with a warning naming the node and the other pool", async () => {
    // The workers' default selector (not control plane) also matches the big pool's node.
    const output = await planFull([...bigNode("talos-big-1", 7, "7"), transcodeJob("ovl001")], {
      tfvars: bigTfvars(1),
      config: `${CONFIG}${bigPool("    max: 3\n")}`,
    });
    expect(output.proposals).toEqual([]);
    const workers = noteOf(output, "workers");
    const big = noteOf(output, "big");
    expect(workers.level).toBe("warning");
    expect(big.level).toBe("warning");
    expect(workers.message).toContain(
      "talos-big-1 is also in pool big: make the pools' selectors exclusive",
    );
    expect(big.message).toContain(
      "talos-big-1 is also in pool workers: make the pools' selectors exclusive",
    );
    expect(workers.holds).toContainEqual({
      kind: "pools-overlap",
      nodes: ["talos-big-1"],
      pools: ["big"],
    });
    expect(big.holds).toContainEqual({
      kind: "pools-overlap",
      nodes: ["talos-big-1"],
      pools: ["workers"],
    });
  });

  it("plans both pools when the selectors are exclusive", async () => {
    const output = await planFull([...bigNode("talos-big-1", 7, "7"), transcodeJob("ovl002")], {
      tfvars: bigTfvars(1),
      config: withBigPool("    max: 3\n"),
    });
    expect(proposalOf(output, "workers")).toMatchObject({ from: 3, to: 4 });
    expect(holdKinds(output, "big")).not.toContain("pools-overlap");
  });
});

describe("plan review: a pod the scheduler nominated a node for", () => {
  /** The high-priority pod nominated to `node` after preempting a 3-core pod there. */
  function nominated(node: string, cpu = "3"): Raw {
    return highPriority(tdarr("nomin", { cpu, nominatedNodeName: node }));
  }

  /** The pod it preempted on talos-worker-4, still terminating. */
  const victim = pod("media", "plex-7d9c65958-victm", {
    ...onWorker4,
    cpu: "3",
    deletionTimestamp: "2026-11-22T09:59:30Z",
  });

  it("keeps its node above max when the pod would have no room elsewhere", async () => {
    const output = await planAboveMax(
      ...fillers(WORKERS, "3500m"),
      victim,
      nominated("talos-worker-4"),
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(
      /pods? of talos-worker-4 fits? on the other nodes: not met \(no room for media\/tdarr-node-6d8c7f5b49-nomin: it needs more cpu than any other node of the pool has free\)/,
    );
  });

  it("removes its node above max when the pod has room on another node", async () => {
    const output = await planAboveMax(
      ...fillers(WORKERS, "500m"),
      victim,
      nominated("talos-worker-4"),
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down" });
    expect(reasons(output)).toContain("removing talos-worker-4");
  });

  it("keeps its node's room from another pending pod, so that pod adds a node", async () => {
    const output = await plan([
      ...cluster(),
      filler("talos-worker-1", 1),
      filler("talos-worker-3", 3),
      nominated("talos-worker-2"),
      tdarr("other"),
    ]);
    // talos-worker-2: 3700m free less the nominated pod's 3 cores leaves 700m.
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const text = reasons(output);
    expect(text).toMatch(/tdarr-node-6d8c7f5b49-other [^\n]*→ new-1/);
    expect(text).not.toMatch(/tdarr-node-6d8c7f5b49-nomin/);
  });

  it("lets another pending pod take what the nominated pod leaves free", async () => {
    const output = await plan([
      ...cluster(),
      filler("talos-worker-1", 1),
      filler("talos-worker-3", 3),
      nominated("talos-worker-2", "1"),
      tdarr("other"),
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/tdarr-node-6d8c7f5b49-other [^\n]*fits on talos-worker-2/);
  });
});

describe("plan review: a new node's shape with extended resources", () => {
  for (const gpuNode of WORKERS)
    it(`does not make a new node a GPU node when only ${gpuNode} has a GPU`, async () => {
      const output = await plan([
        ...editNodes(cluster(), [gpuNode], withGpu),
        ...fillers(),
        askingForGpu(transcodeJob("gpu01")),
      ]);
      expect(output.proposals).toEqual([]);
      const note = poolNote(output);
      expect(note).toMatch(/never fits: batch\/transcode-29123400-gpu01/);
      const shape = note.split("\n").find((line) => line.includes("new node:"));
      expect(shape).toBeDefined();
      expect(shape).not.toContain("nvidia.com/gpu");
      expect(shape).toMatch(/like talos-worker-\d and 1 other\)/);
    });

  it("gives a new node a GPU when every pool node has one", async () => {
    const output = await plan([
      ...editNodes(cluster(), WORKERS, withGpu),
      ...fillers(),
      askingForGpu(transcodeJob("gpu02")),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const text = reasons(output);
    expect(text).toMatch(
      /new node: 3800m cpu, 15\.2 GiB memory, 110 pods, 1 nvidia\.com\/gpu \(learned, most-common allocatable, like talos-worker-1 and 2 others\)/,
    );
    expect(text).toMatch(/transcode-29123400-gpu02 [^\n]*→ new-1/);
  });
});

describe("plan review: above max the count comes down whatever asks for more", () => {
  it("removes a node though a pending pod needs a new one, and the max allows 3", async () => {
    // 3700m fits no existing node (3600m free each) but a new one.
    const output = await planAboveMax(transcodeJob("fx0001", { cpu: "3700m" }));
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down" });
    const text = reasons(output);
    expect(text).toContain("removing talos-worker-4");
    expect(text).toContain("wanted 5 nodes, the max allows 3");
    expect(text).not.toMatch(/the max allows 4/);
    expect(output.proposals[0]?.holds).toContainEqual({
      kind: "at-max",
      wanted: 5,
      allowed: 3,
      bound: "max",
    });
  });

  it("removes a node though utilisation asks for more (scaleUp.window 0s)", async () => {
    const output = await plan([...cluster(FOUR, {}, { cpu: "3500m", memory: "4Gi" }), ...apps()], {
      tfvars: tfvars(4),
      config: configBeforeRemoval("    scaleUp:\n      window: 0s\n", { "max: 6": "max: 3" }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down" });
    const text = reasons(output);
    expect(text).toContain("removing talos-worker-4");
    expect(text).toMatch(/wanted \d+ nodes, the max allows 3/);
    expect(output.proposals[0]?.triggers).toContainEqual(
      expect.objectContaining({ kind: "utilisation", resource: "cpu" }),
    );
  });
});

describe("plan review: a budget over the node to remove, as the eviction API applies it", () => {
  /** A Postgres replica on talos-worker-4, Ready or crash-looping (Running, not Ready). */
  function replica(ready: boolean, labels: Record<string, string> = {}): Raw {
    const object = pod("db", "postgres-1", {
      ...onWorker4,
      owner: { kind: "StatefulSet", name: "postgres" },
      labels: { "app.kubernetes.io/name": "postgres", ...labels },
    });
    const status = object.status as { conditions: Raw[] };
    status.conditions = status.conditions.map((condition) =>
      condition.type === "Ready"
        ? { ...condition, status: ready ? "True" : "False", reason: "ContainersNotReady" }
        : condition,
    );
    return object;
  }

  /** A PDB over the replicas as the disruption controller reports it with one of three down. */
  function budget(name: string, spec: Raw, currentHealthy: number, desiredHealthy: number): Raw {
    return {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name, namespace: "db", generation: 1 },
      spec: { selector: { matchLabels: { "app.kubernetes.io/name": "postgres" } }, ...spec },
      status: {
        currentHealthy,
        desiredHealthy,
        disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy),
        expectedPods: 3,
        observedGeneration: 1,
      },
    };
  }

  it("removes the node of a crash-looping replica when the budget is still met (IfHealthyBudget)", async () => {
    const output = await planAboveMax(
      replica(false),
      budget("postgres", { maxUnavailable: 1 }, 2, 2),
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down" });
  });

  it("keeps it while the budget is short, unless the policy is AlwaysAllow", async () => {
    const short = await planAboveMax(replica(false), budget("postgres", { minAvailable: 3 }, 2, 3));
    expect(short.proposals).toEqual([]);
    expect(poolNote(short)).toContain("db/postgres-1: PDB db/postgres allows 0 disruptions");
    const always = await planAboveMax(
      replica(false),
      budget("postgres", { minAvailable: 3, unhealthyPodEvictionPolicy: "AlwaysAllow" }, 2, 3),
    );
    expect(always.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down" });
  });

  it("keeps the node of the only replica, not Ready, under a budget that wants none healthy", async () => {
    // One replica with maxUnavailable: 1: the controller wants 0 healthy and allows 0. The API's
    // way out for a pod that is not Ready needs a budget wanting one or more, so the eviction
    // spends the allowance, and there is none.
    const only = budget("postgres", { maxUnavailable: 1 }, 0, 0);
    (only.status as Raw).expectedPods = 1;
    const output = await planAboveMax(replica(false), only);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain("db/postgres-1: PDB db/postgres allows 0 disruptions");
  });

  it("keeps the node while the budget's status is older than its spec, and says so", async () => {
    const edited = budget("postgres", { maxUnavailable: 1 }, 3, 2);
    (edited.metadata as Raw).generation = 2;
    const cluster4 = await serveForTest([...cluster(FOUR), ...apps(), replica(true), edited]);
    const run = await cluster4.run([], OVER_MAX);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain("scale down");
    expect(run.stdout).toContain("db/postgres-1: PDB db/postgres allows 0 disruptions");
    expect(run.stderr).toContain(
      "warning: pdb/db/postgres: status.observedGeneration 1 is older than the spec's generation 2",
    );
    expect(run.stderr).toContain("[pdb-status-stale]");
  });

  it("keeps the node of a Ready replica under AlwaysAllow", async () => {
    const output = await planAboveMax(
      replica(true),
      budget("postgres", { maxUnavailable: 0, unhealthyPodEvictionPolicy: "AlwaysAllow" }, 3, 3),
    );
    expect(output.proposals).toEqual([]);
  });

  it("keeps the node of a pod two budgets select, and says the eviction API refuses it", async () => {
    const second = budget("postgres-all", { maxUnavailable: 3 }, 3, 0);
    const output = await planAboveMax(
      replica(true),
      budget("postgres", { maxUnavailable: 3 }, 3, 0),
      second,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "db/postgres-1: PDBs db/postgres and db/postgres-all both select it, and the eviction API refuses a pod with more than one",
    );
  });
});

describe("plan review: maxUnready compared in whole numbers", () => {
  const twenty = workerNames(20);
  const files = {
    tfvars: tfvars(20),
    config: config({ "max: 6": "max: 30\n    maxUnready: 55" }),
  };
  const unready = (names: string[]) =>
    Object.fromEntries(names.map((name) => [name, { ready: false }]));

  it("is not a stop at 11 of 20 not Ready with maxUnready 55", async () => {
    const output = await plan(
      [...cluster(twenty, unready(twenty.slice(9))), ...apps(twenty)],
      files,
    );
    // Not a stop: talos-worker-20, not Ready for longer than unreadyTime, goes (the others not
    // Ready lose no room to it), and nothing says too many nodes are not Ready.
    expect(output.proposals[0]).toMatchObject({ from: 20, to: 19, holds: [] });
    expect(reasons(output)).not.toMatch(/nodes not Ready \(/);
    expect(output.notes.filter((note) => note.subject === "pool/workers")).toEqual([]);
  });

  it("is a stop at 12 of 20", async () => {
    const output = await plan(
      [...cluster(twenty, unready(twenty.slice(8))), ...apps(twenty)],
      files,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/12 of 20 nodes not Ready \(60 % > 55 %\)/);
    expect(noteOf(output).holds).toContainEqual(
      expect.objectContaining({ kind: "too-many-unready", total: 20, limit: 55 }),
    );
  });
});

describe("plan review: okUnready, a floor under the maxUnready stop", () => {
  // Two workers, talos-worker-2 dead, talos-worker-1 full: the transcode Job's pod needs a node.
  const two = ["talos-worker-1", "talos-worker-2"];
  const objects = () => [
    ...cluster(two, { "talos-worker-2": { ready: false } }),
    ...fillers(["talos-worker-1"]),
    transcodeJob("okun01"),
  ];

  it("holds a pool of 2 with one worker not Ready by default", async () => {
    const output = await plan(objects(), { tfvars: tfvars(2) });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "hold: 1 of 2 nodes not Ready (50 % > 45 %): talos-worker-2; no action",
    );
    expect(noteOf(output).holds).toContainEqual({
      kind: "too-many-unready",
      unready: ["talos-worker-2"],
      total: 2,
      percent: 50,
      limit: 45,
    });
  });

  it("adds a node for the pending pod with okUnready: 1, not counting on the dead worker's room", async () => {
    const output = await plan(objects(), {
      tfvars: tfvars(2),
      config: config({ "max: 6": "max: 6\n    okUnready: 1" }),
    });
    expect(output.proposals).toHaveLength(1);
    expect(output.proposals[0]).toMatchObject({ from: 2, to: 3, direction: "up", holds: [] });
    expect(reasons(output)).toContain("nodes: 2 in the pool, 1 Ready; not Ready: talos-worker-2");
    // The dead worker has room for the pod, but a node not Ready is never counted on.
    expect(reasons(output)).toContain(
      "→ new-1 (existing nodes: talos-worker-2 is not Ready; talos-cp-1 has room but a taint it does not tolerate keeps it off; talos-worker-1 has too little cpu free)",
    );
    expect(output.notes.filter((note) => note.subject === "pool/workers")).toEqual([]);
  });
});

describe("plan review: a configured pods count alone", () => {
  it("calls the new node configured+learned", async () => {
    const tiny = (suffix: string) =>
      pod("default", `echo-5d8f7c9b6-${suffix}`, {
        owner: { kind: "ReplicaSet", name: "echo-5d8f7c9b6" },
        cpu: "1",
        memory: "16Mi",
      });
    const output = await planFull([tiny("a0000"), tiny("b0000"), tiny("c0000")], {
      config: configBeforeRemoval("    newNode:\n      pods: 2\n"),
    });
    // A new node holds 2 pods, one of them Cilium: one pending pod per new node.
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 6 });
    expect(reasons(output)).toMatch(
      /new node: 3800m cpu, 15\.2 GiB memory, 2 pods \(configured\+learned/,
    );
  });
});

describe("plan review: held pools' notes carry their reasons as data", () => {
  const NOW = "2026-11-22T10:00:00Z";

  /** Asserts the note's data matches its message and returns it. */
  function heldNote(output: PlanJson, current: number): NoteJson {
    expect(output.proposals).toEqual([]);
    const note = noteOf(output);
    expect(note.pool).toBe("workers");
    expect(note.current).toBe(current);
    expect(note.reasons).toEqual(note.message.split("\n"));
    expect(Array.isArray(note.triggers)).toBe(true);
    expect(Array.isArray(note.holds)).toBe(true);
    return note;
  }

  it("gives a plain cooldown as info, with the cooldown hold and the pending-pod trigger", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("cool01")]);
    const output = await served.planRepo(changedAt(2, 3, "2026-11-22T09:57:00Z"), NOW);
    const note = heldNote(output, 3);
    expect(note.level).toBe("info");
    expect(note.message).toMatch(/cooldown after the change of 2026-11-22 09:57 UTC/);
    expect(note.holds).toContainEqual({
      kind: "cooldown",
      since: expect.stringMatching(/^2026-11-22T09:57:00/),
      until: expect.stringMatching(/^2026-11-22T10:02:00/),
    });
    expect(note.triggers).toContainEqual(
      expect.objectContaining({ kind: "pending-pods", pods: 1, newNodes: 1 }),
    );
  });

  it("carries the whole decision as data, for a proposal and for a held pool", async () => {
    const proposed = await planFull([transcodeJob("data01")]);
    expect(proposed.proposals[0]?.decision).toMatchObject({
      pool: "workers",
      action: "scale-up",
      current: 3,
      desired: 4,
      bounds: { min: 1, max: 6 },
      pending: { onNew: [expect.objectContaining({ node: "new-1" })] },
      blockers: expect.arrayContaining([{ node: "talos-worker-1", blockers: [] }]),
    });
    const held = noteOf(await plan(cluster()));
    expect(held.decision).toMatchObject({
      pool: "workers",
      action: "none",
      utilisation: { cpu: { nodes: 3 }, memory: { nodes: 3 } },
      scaleDown: {
        conditions: expect.arrayContaining([expect.objectContaining({ kind: "requests" })]),
      },
    });
  });

  it("gives no change as info; below the thresholds on one sample, the window is not covered", async () => {
    const output = await plan(cluster());
    const note = heldNote(output, 3);
    expect(note.level).toBe("info");
    // metrics-server's sample shows usage below the thresholds now, not for unneededTime.
    expect(note.holds).toEqual([
      {
        kind: "window-uncovered",
        direction: "down",
        checks: [
          expect.objectContaining({ resource: "cpu", threshold: 30, windowMs: 600_000 }),
          expect.objectContaining({ resource: "memory", threshold: 40, windowMs: 600_000 }),
        ],
      },
    ]);
    expect(note.message).toMatch(
      /hold: cpu < 30 % \(shown for \d+s of 10m\), memory < 40 % \(shown for \d+s of 10m\) now, not yet over the window: no node is removed until it is/,
    );
  });

  it("gives a node still joining as info and one that failed to join as a warning", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("join01")]);
    const dir = changedAt(3, 4, "2026-11-22T09:57:00Z");
    const waiting = heldNote(await served.planRepo(dir, NOW), 4);
    expect(waiting.level).toBe("info");
    expect(waiting.holds).toContainEqual(
      expect.objectContaining({ kind: "provisioning", state: "joining", expected: 4, present: 3 }),
    );
    const failed = heldNote(await served.planRepo(dir, "2026-11-22T10:20:00Z"), 4);
    expect(failed.level).toBe("warning");
    expect(failed.message).toMatch(/a node failed to join or stopped being Ready/);
    expect(failed.holds).toContainEqual(
      expect.objectContaining({ kind: "provisioning-failed", state: "joining", expected: 4 }),
    );
  });

  it("counts new nodes still booting after a raise as joining, not as unready, until the timeout", async () => {
    // 2 → 4 at 09:56: the two new VMs exist since 09:58 and are not Ready yet.
    const booting = (node: Raw): Raw => {
      (node.metadata as Raw).creationTimestamp = "2026-11-22T09:58:00Z";
      return node;
    };
    const objects = editNodes(
      cluster(FOUR, { "talos-worker-3": { ready: false }, "talos-worker-4": { ready: false } }),
      ["talos-worker-3", "talos-worker-4"],
      booting,
    );
    const served = await serveForTest(objects);
    const dir = changedAt(2, 4, "2026-11-22T09:56:00Z");
    const waiting = heldNote(await served.planRepo(dir, NOW), 4);
    expect(waiting.level).toBe("info");
    expect(waiting.holds?.map((hold) => hold.kind)).not.toContain("too-many-unready");
    expect(waiting.message).toMatch(/the repo asks for 4 nodes, 2 are Ready, waiting until/);
    // Past provisionTimeout (15m) they are no longer awaited: half the pool is not Ready.
    const failed = heldNote(await served.planRepo(dir, "2026-11-22T10:12:00Z"), 4);
    expect(failed.level).toBe("warning");
    expect(failed.holds?.map((hold) => hold.kind)).toEqual(
      expect.arrayContaining(["too-many-unready", "provisioning-failed"]),
    );
  });

  it("gives too many nodes not Ready as a warning", async () => {
    const output = await plan([
      ...cluster(WORKERS, {
        "talos-worker-2": { ready: false },
        "talos-worker-3": { ready: false },
      }),
      ...fillers(),
    ]);
    const note = heldNote(output, 3);
    expect(note.level).toBe("warning");
    expect(note.message).toMatch(/2 of 3 nodes not Ready/);
    expect(note.holds).toContainEqual(
      expect.objectContaining({
        kind: "too-many-unready",
        unready: ["talos-worker-2", "talos-worker-3"],
        total: 3,
      }),
    );
  });

  it("gives an incomplete snapshot (the PDB list failing with 500) as a warning", async () => {
    const output = await planWhileFailing([...cluster(), ...fillers(), transcodeJob("pdb501")], {
      path: "/apis/policy/v1/poddisruptionbudgets",
      status: 500,
    });
    const note = heldNote(output, 3);
    expect(note.level).toBe("warning");
    expect(note.message).toMatch(/the cluster snapshot is incomplete \([^\n]*poddisruptionbudgets/);
    expect(note.holds).toContainEqual(expect.objectContaining({ kind: "snapshot-incomplete" }));
  });

  it("gives pools sharing a node as a warning", async () => {
    const output = await plan([...cluster(), ...bigNode("talos-big-1", 7)], {
      tfvars: bigTfvars(1),
      config: `${CONFIG}${bigPool("    max: 3\n")}`,
    });
    const note = heldNote(output, 3);
    expect(note.level).toBe("warning");
    expect(note.holds).toContainEqual({
      kind: "pools-overlap",
      nodes: ["talos-big-1"],
      pools: ["big"],
    });
  });
});

describe("plan review: usage judged against the time planned for", () => {
  const hot = { cpu: "3500m", memory: "4Gi" };
  const files = { config: configBeforeRemoval("    scaleUp:\n      window: 0s\n") };

  it("takes metrics of the read as unknown when --now is two hours earlier", async () => {
    const served = await serveForTest(cluster(WORKERS, {}, hot));
    const now = new Date(Date.now() - 2 * 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");
    const output = await served.plan(files, now);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(
      /usage unknown on talos-worker-1, talos-worker-2, talos-worker-3/,
    );
    expect(holdKinds(output)).toContain("usage-unknown");
  });

  it("scales up on the same metrics planned for the time of the read", async () => {
    const output = await plan(cluster(WORKERS, {}, hot), files);
    expect(output.proposals[0]).toMatchObject({ from: 3, direction: "up" });
    expect(output.proposals[0]?.triggers).toContainEqual(
      expect.objectContaining({ kind: "utilisation", resource: "cpu" }),
    );
  });

  it("counts a served recording's metrics stamped near --now", async () => {
    const recordedAt = "2026-11-20T14:30:00Z";
    const objects = cluster(WORKERS, {}, hot).map((object) =>
      object.kind === "NodeMetrics" ? { ...object, timestamp: "2026-11-20T14:29:45Z" } : object,
    );
    const output = await plan(objects, files, recordedAt);
    expect(output.proposals[0]).toMatchObject({ from: 3, direction: "up" });
    expect(output.proposals[0]?.triggers).toContainEqual(
      expect.objectContaining({ kind: "utilisation", resource: "cpu" }),
    );
    expect(reasons(output)).not.toMatch(/usage unknown/);
  });
});

describe("plan review: a count file git does not track", () => {
  it("holds the pool with a warning in a checkout where the tfvars is untracked", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("untr01")]);
    const dir = tempDir("pr-autoscaler-review-untracked-");
    writeInfraRepo(dir);
    git(dir, ["init", "-q", "-b", "main"]);
    git(dir, ["add", ".github/pr-autoscaler.yml"]);
    git(dir, ["commit", "-q", "-m", "autoscaler config"], "2026-11-01T10:00:00Z");
    const output = await served.planRepo(dir);
    expect(output.proposals).toEqual([]);
    const note = noteOf(output);
    expect(note.level).toBe("warning");
    expect(note.message).toContain(
      "terraform/terraform.tfvars is not committed (no commit of the branch has it)",
    );
    expect(note.holds).toContainEqual(expect.objectContaining({ kind: "target-unknown" }));
  });

  it("plans as before from a plain folder outside git", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("plain1")]);
    const output = await served.plan();
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(reasons(output)).not.toMatch(/not committed/);
  });
});
