/**
 * Scale-down onto the room of another pool's nodes, against a served cluster, as an operator
 * checks it: the kube-scheduler puts the pods a drain evicts on any Ready, schedulable node that
 * admits them, whichever pool it is in, and cluster-autoscaler's scale-down simulation places
 * them on every node of the cluster it does not remove. Each expectation was written from that
 * before the plan was read.
 *
 * Two pools of 4-core Talos workers (3800m allocatable, Cilium taking 100m on each): apps
 * (talos-worker-N, worker_count) and media (talos-media-N, media_count), each selecting the nodes
 * labelled with its name; the control plane keeps its NoSchedule taint, so it takes none of
 * these pods. The echo replicas (1500m) of apps may not share a node: the one of talos-worker-2
 * cannot go to talos-worker-1, so only a media node can take it.
 */
import { describe, expect, it } from "@jest/globals";
import type { NodeOptions, PlanJson, Raw } from "./served-cluster.ts";
import { pod } from "./served-cluster.ts";
import { cluster, plan, poolDecision, poolNote } from "./served-plan.ts";

const APPS = ["talos-worker-1", "talos-worker-2"];
const MEDIA = ["talos-media-1", "talos-media-2"];

interface PoolOptions {
  /** Lines added under `scaleDown:` (six spaces in). */
  scaleDown?: string;
  /** Lines added under the pool (four spaces in). */
  extra?: string;
}

/** The two pools, in `order`, judged on metrics-server's sample (unneededTime 0). */
function config(
  order: readonly ("apps" | "media")[] = ["apps", "media"],
  options: Partial<Record<"apps" | "media", PoolOptions>> = {},
): string {
  const pools = {
    apps: ["worker_count", "talos-worker"],
    media: ["media_count", "talos-media"],
  } as const;
  return `pools:\n${order
    .map((name) => {
      const [path, prefix] = pools[name];
      const extra = options[name] ?? {};
      return `  - name: ${name}
    target:
      file: terraform/terraform.tfvars
      path: ${path}
    selector:
      matchLabels:
        node.kubernetes.io/pool: ${name}
    min: 1
    max: 4
${extra.extra ?? ""}    scaleDown:
      unneededTime: 0
${extra.scaleDown ?? ""}    removal:
      nameTemplate: ${prefix}-{index}
      indexBase: 1
`;
    })
    .join("")}`;
}

const TFVARS = "worker_count = 2\nmedia_count  = 2\n";

/** The nodes of both pools, each with `options` of its own beside its pool label. */
function nodes(options: Record<string, NodeOptions> = {}): Raw[] {
  const labelled = Object.fromEntries(
    [...APPS, ...MEDIA].map((name) => [
      name,
      {
        ...options[name],
        labels: { "node.kubernetes.io/pool": name.startsWith("talos-media") ? "media" : "apps" },
      },
    ]),
  );
  return cluster([...APPS, ...MEDIA], labelled);
}

const ECHO = { "app.kubernetes.io/name": "echo" };

/** The echo replicas of apps, one on each of its nodes, none sharing a node. */
function echo(cpu = "1500m"): Raw[] {
  return APPS.map((node, index) =>
    pod("default", `echo-5c8d7f6b9-rep0${index + 1}`, {
      node,
      cpu,
      memory: "256Mi",
      labels: ECHO,
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchLabels: ECHO }, topologyKey: "kubernetes.io/hostname" },
          ],
        },
      },
    }),
  );
}

/** One whoami replica of `cpu` on each media node (no rule keeps two apart). */
function whoami(cpu: string): Raw[] {
  return MEDIA.map((node, index) =>
    pod("default", `whoami-7f9d8c6b5-rep0${index + 1}`, { node, cpu, memory: "256Mi" }),
  );
}

/** A pod of `cpu` on `node` that nothing moves in these plans. */
function filler(node: string, cpu: string): Raw {
  return pod("default", `filler-${node}`, { node, cpu, memory: "256Mi" });
}

const REP02 = "default/echo-5c8d7f6b9-rep02";

function fitOf(output: PlanJson, pool: string): Raw | undefined {
  const conditions = (poolDecision(output, pool).scaleDown as { conditions: Raw[] }).conditions;
  return conditions.find((entry) => entry.kind === "pods-fit");
}

function counts(output: PlanJson): [string | undefined, number | undefined, number | undefined][] {
  return output.proposals.map((entry) => [entry.pool, entry.from, entry.to]);
}

function reasons(output: PlanJson, pool: string): string {
  return output.proposals.find((entry) => entry.pool === pool)?.reasons.join("\n") ?? "";
}

describe("plan against a served cluster: a scale-down onto another pool's room", () => {
  it("removes the apps node whose replica fits only on a media node, and says so", async () => {
    const output = await plan([...nodes(), ...echo(), ...whoami("100m")], {
      tfvars: TFVARS,
      config: config(),
    });
    // media can go without talos-media-2 too: talos-media-1 holds its whoami and echo-rep02.
    expect(counts(output)).toEqual([
      ["apps", 2, 1],
      ["media", 2, 1],
    ]);
    expect(reasons(output, "apps")).toContain(
      `  scale-down: 1 pod of talos-worker-2 fits on the other nodes: met (${REP02} goes to talos-media-1, a node of pool media)`,
    );
    expect(fitOf(output, "apps")).toMatchObject({
      met: true,
      outside: [{ node: "talos-media-1", pool: "media", pods: [REP02] }],
    });
  });

  it("keeps it when the media nodes are tainted against the replica", async () => {
    const taint = { key: "dedicated", value: "media", effect: "NoSchedule" };
    const output = await plan(
      [
        ...nodes(Object.fromEntries(MEDIA.map((name) => [name, { taints: [taint] }]))),
        ...echo(),
        ...whoami("100m"),
      ],
      { tfvars: TFVARS, config: config() },
    );
    expect(counts(output).filter(([pool]) => pool === "apps")).toEqual([]);
    expect(fitOf(output, "apps")).toMatchObject({ met: false, unplaced: [REP02] });
    // A taint is the pod's own rule, not a state of the node: the nodes are not named as left out.
    expect(fitOf(output, "apps")).not.toHaveProperty("uncounted");
  });

  it("keeps it when the media nodes are not Ready, and names them", async () => {
    const output = await plan(
      [
        ...nodes(Object.fromEntries(MEDIA.map((name) => [name, { ready: false }]))),
        ...echo(),
        ...whoami("100m"),
      ],
      { tfvars: TFVARS, config: config() },
    );
    expect(counts(output).filter(([pool]) => pool === "apps")).toEqual([]);
    expect(poolNote(output, "apps")).toContain(
      "the room of talos-media-1 (not Ready, a node of pool media) and talos-media-2 (not Ready, a node of pool media) is not counted",
    );
    expect(fitOf(output, "apps")).toMatchObject({
      met: false,
      uncounted: [
        { node: "talos-media-1", why: "not-ready", outside: true, pool: "media" },
        { node: "talos-media-2", why: "not-ready", outside: true, pool: "media" },
      ],
    });
  });

  it("keeps it when the media nodes are cordoned, and names them", async () => {
    const output = await plan(
      [
        ...nodes(Object.fromEntries(MEDIA.map((name) => [name, { unschedulable: true }]))),
        ...echo(),
        ...whoami("100m"),
      ],
      { tfvars: TFVARS, config: config() },
    );
    expect(counts(output).filter(([pool]) => pool === "apps")).toEqual([]);
    expect(poolNote(output, "apps")).toContain(
      "the room of talos-media-1 (cordoned, a node of pool media) and talos-media-2 (cordoned, a node of pool media) is not counted",
    );
  });

  it("keeps it when a media node is cordoned with pods to move: the media room is theirs", async () => {
    // talos-media-2 is cordoned ahead of a drain: its whoami replica needs talos-media-1's room.
    const output = await plan(
      [...nodes({ "talos-media-2": { unschedulable: true } }), ...echo(), ...whoami("100m")],
      { tfvars: TFVARS, config: config() },
    );
    expect(counts(output).filter(([pool]) => pool === "apps")).toEqual([]);
    expect(poolNote(output, "apps")).toContain(
      "the room of talos-media-1 (a node of pool media, whose room is kept for the pods of its cordoned nodes) and talos-media-2 (cordoned, a node of pool media) is not counted",
    );
  });
});

describe("plan against a served cluster: two pools' decreases in one plan", () => {
  // apps may remove up to 70 % requests: talos-worker-1 runs echo-rep01 and a 1-cpu filler, so
  // 1200m is left there. Each media node runs a whoami replica.
  const APPS_REQUESTS = { scaleDown: "      requests: 70\n" };

  it("removes a node of each when there is room for both", async () => {
    // whoami (1000m): after echo-rep02 takes 1500m of talos-media-1 (2700m free), its 1200m left
    // holds whoami-rep02 too.
    const output = await plan(
      [...nodes(), ...echo(), filler("talos-worker-1", "1"), ...whoami("1")],
      { tfvars: TFVARS, config: config(["apps", "media"], { apps: APPS_REQUESTS }) },
    );
    expect(counts(output)).toEqual([
      ["apps", 2, 1],
      ["media", 2, 1],
    ]);
    expect(reasons(output, "media")).toContain(
      "  scale-down: 1 pod of talos-media-2, with the 1 pod the decrease of pool apps moves onto the pool's nodes, fit on the other nodes: met",
    );
    expect(fitOf(output, "media")).toMatchObject({ moved: { pods: 1, pools: ["apps"] } });
  });

  it("keeps the later pool's node when the earlier pool's decrease takes the room it needs", async () => {
    // whoami (1500m): talos-media-1 (2200m free) takes echo-rep02 or whoami-rep02, not both, and
    // talos-worker-1 (1200m free) neither.
    const output = await plan(
      [...nodes(), ...echo(), filler("talos-worker-1", "1"), ...whoami("1500m")],
      { tfvars: TFVARS, config: config(["apps", "media"], { apps: APPS_REQUESTS }) },
    );
    expect(counts(output)).toEqual([["apps", 2, 1]]);
    expect(reasons(output, "apps")).toContain(
      `${REP02} goes to talos-media-1, a node of pool media`,
    );
    expect(fitOf(output, "media")).toMatchObject({
      met: false,
      moved: { pods: 1, pools: ["apps"] },
    });
    expect(poolNote(output, "media")).toContain(
      "  scale-down: 1 pod of talos-media-2, with the 1 pod the decrease of pool apps moves onto the pool's nodes, fit on the other nodes: not met (no room for",
    );
  });

  it("removes the media node alone when the media pool is planned first", async () => {
    // The same cluster, media first: whoami-rep02 takes talos-media-1's room, and talos-media-2
    // goes, so echo-rep02 has no node left.
    const output = await plan(
      [...nodes(), ...echo(), filler("talos-worker-1", "1"), ...whoami("1500m")],
      { tfvars: TFVARS, config: config(["media", "apps"], { apps: APPS_REQUESTS }) },
    );
    expect(counts(output)).toEqual([["media", 2, 1]]);
    expect(poolNote(output, "apps")).toContain(
      `not met (no room for ${REP02}: it needs more cpu than any other node of the pool, or any node of pool media offered to it, has free; the room of talos-media-2 (pool media removes it in this plan) is not counted; talos-media-1 keeps its room for the pods the decrease of pool media moves there)`,
    );
    expect(fitOf(output, "apps")).toMatchObject({
      met: false,
      uncounted: [{ node: "talos-media-2", why: "removed", outside: true, pool: "media" }],
      outsideTaken: [{ node: "talos-media-1", pools: ["media"] }],
    });
  });
});

describe("plan against a served cluster: the receiving pool's scaleUp.requests", () => {
  // media: 400m of 7600m requested (5.3 %); echo-rep02 (1500m) would take it to 25 %.
  it("does not move pods onto a pool they would take to its scaleUp.requests", async () => {
    const output = await plan([...nodes(), ...echo(), ...whoami("100m")], {
      tfvars: TFVARS,
      config: config(["apps", "media"], {
        media: { extra: "    scaleUp:\n      requests: 25\n", scaleDown: "      requests: 20\n" },
      }),
    });
    expect(counts(output).filter(([pool]) => pool === "apps")).toEqual([]);
    expect(poolNote(output, "apps")).toContain(
      "the room of talos-media-1 and talos-media-2 (nodes of pool media, whose requests the pods would take to its scaleUp.requests) is not counted",
    );
  });

  it("says the pool's requests are unknown when one of its pods' requests cannot be read", async () => {
    // whoami-rep01's cpu request ("2 cores") is no quantity: media's requests are unknown, so
    // how near echo-rep02 would take it to 30 % is too, and talos-media-2 is not offered.
    const unread = pod("default", "whoami-7f9d8c6b5-rep01", {
      node: "talos-media-1",
      cpu: "2 cores",
      memory: "256Mi",
    });
    const output = await plan([...nodes(), ...echo(), unread, ...whoami("100m").slice(1)], {
      tfvars: TFVARS,
      config: config(["apps", "media"], {
        media: { extra: "    scaleUp:\n      requests: 30\n", scaleDown: "      requests: 20\n" },
      }),
    });
    expect(counts(output).filter(([pool]) => pool === "apps")).toEqual([]);
    expect(poolNote(output, "apps")).toContain(
      "the room of talos-media-1 (requests of its pods unknown, a node of pool media) and talos-media-2 (a node of pool media, whose requests are unknown, so the pods may take it to its scaleUp.requests) is not counted",
    );
    expect(fitOf(output, "apps")).toMatchObject({
      uncounted: [
        { node: "talos-media-1", why: "room-unknown", pool: "media" },
        { node: "talos-media-2", why: "requests", pool: "media", requestsUnknown: true },
      ],
    });
  });

  it("counts the pool's own decrease in this plan: the nodes that stay hold the threshold", async () => {
    // media, planned first, removes talos-media-2: 300m of 3800m is left requested (7.9 %).
    // echo-rep02 (1500m) would take talos-media-1 to 1800m, 47 %: above 30 %, though below it
    // of both media nodes' 7600m.
    const output = await plan([...nodes(), ...echo(), ...whoami("100m")], {
      tfvars: TFVARS,
      config: config(["media", "apps"], {
        media: { extra: "    scaleUp:\n      requests: 30\n", scaleDown: "      requests: 20\n" },
      }),
    });
    expect(counts(output)).toEqual([["media", 2, 1]]);
    expect(poolNote(output, "apps")).toContain(
      "the room of talos-media-1 (a node of pool media, whose requests the pods would take to its scaleUp.requests) and talos-media-2 (pool media removes it in this plan) is not counted",
    );
  });

  it("gives back the requests of the DaemonSet pods that go with the node it removes", async () => {
    // media, planned first, removes talos-media-2; its Cilium agent goes with it, its whoami
    // replica moves: 300m of 3800m is left requested. An 800m echo-rep02 takes talos-media-1 to
    // 1100m, 29 %, below 30 %, so apps moves it there. Counting the agent that goes (1200m, 32 %)
    // would refuse a move the next plan finds below the threshold.
    const output = await plan([...nodes(), ...echo("800m"), ...whoami("100m")], {
      tfvars: TFVARS,
      config: config(["media", "apps"], {
        media: { extra: "    scaleUp:\n      requests: 30\n", scaleDown: "      requests: 20\n" },
      }),
    });
    expect(counts(output)).toEqual([
      ["media", 2, 1],
      ["apps", 2, 1],
    ]);
    expect(reasons(output, "apps")).toContain(
      `(${REP02} goes to talos-media-1, a node of pool media)`,
    );
  });

  it("keeps the receiving pool's node when the pods moved there take its projection up", async () => {
    // apps, planned first, moves echo-rep02 (1500m) onto talos-media-1: 1900m of 7600m (25 %)
    // is requested of media once it runs there; without talos-media-2, whose Cilium agent goes
    // with it, 1800m of talos-media-1 alone, 47 %, not below the 20 % (30 less the margin of 10)
    // a media decrease must leave.
    const output = await plan([...nodes(), ...echo(), ...whoami("100m")], {
      tfvars: TFVARS,
      config: config(["apps", "media"], {
        media: { extra: "    scaleUp:\n      requests: 30\n", scaleDown: "      requests: 20\n" },
      }),
    });
    expect(counts(output)).toEqual([["apps", 2, 1]]);
    expect(poolNote(output, "media")).toContain(
      "  scale-down: cpu requests, with those of the 1 pod the decrease of pool apps moves onto the pool's nodes, after removal 47 % < 20 %: not met",
    );
    expect(fitOf(output, "media")).toMatchObject({ moved: { pods: 1, pools: ["apps"] } });
    const conditions = (poolDecision(output, "media").scaleDown as { conditions: Raw[] })
      .conditions;
    expect(conditions.find((entry) => entry.resource === "requests")).toMatchObject({
      kind: "projection",
      met: false,
      moved: { pods: 1, pools: ["apps"] },
    });
  });

  it("keeps the pool's node when the pending pods counted on its room take its projection up", async () => {
    // media, planned first, counts batch-1 (1500m, no room anywhere else: the apps nodes hold
    // the echo replicas) on talos-media-1. Without talos-media-2 and its Cilium agent, 1800m of
    // 3800m (47 %) is requested of media once it runs there, not below the 20 % (30 less the
    // margin of 10) a decrease must leave: made, the next plan would add the node back for those
    // requests.
    const batch = pod("default", "batch-1", { cpu: "1500m", memory: "256Mi" });
    const output = await plan([...nodes(), ...echo(), ...whoami("100m"), batch], {
      tfvars: TFVARS,
      config: config(["media", "apps"], {
        media: { extra: "    scaleUp:\n      requests: 30\n", scaleDown: "      requests: 20\n" },
      }),
    });
    expect(counts(output)).toEqual([]);
    expect(poolNote(output, "media")).toContain(
      "  not removed: cpu requests, with those of the 1 pending pod counted on the pool's room, after removal would be 47 %, not below 20 %",
    );
    const conditions = (poolDecision(output, "media").scaleDown as { conditions: Raw[] })
      .conditions;
    expect(conditions.find((entry) => entry.resource === "requests")).toMatchObject({
      kind: "projection",
      met: false,
      pending: 1,
    });
  });

  it("moves them there while the pool stays below it", async () => {
    const output = await plan([...nodes(), ...echo(), ...whoami("100m")], {
      tfvars: TFVARS,
      config: config(["apps", "media"], {
        media: { extra: "    scaleUp:\n      requests: 30\n", scaleDown: "      requests: 20\n" },
      }),
    });
    expect(counts(output)).toContainEqual(["apps", 2, 1]);
  });
});

describe("plan against a served cluster: a bulk removal of the receiving pool", () => {
  it("names the pod that stops it as one the decrease of another pool moves in", async () => {
    // A third media node, and a third echo replica on talos-media-1; media lets its empty nodes
    // go together. apps removes talos-worker-2 and moves echo-rep02 onto a media node: with
    // talos-media-3 gone it still has talos-media-2, but not talos-media-1 too (rep03 is there).
    const names = [...APPS, ...MEDIA, "talos-media-3"];
    const labelled = Object.fromEntries(
      names.map((name) => [
        name,
        {
          labels: { "node.kubernetes.io/pool": name.startsWith("talos-media") ? "media" : "apps" },
        },
      ]),
    );
    const [rep01] = echo();
    const rep03 = {
      ...(rep01 as Raw),
      metadata: { ...((rep01 as Raw).metadata as Raw), name: "echo-5c8d7f6b9-rep03" },
      spec: { ...((rep01 as Raw).spec as Raw), nodeName: "talos-media-1" },
    };
    const output = await plan([...cluster(names, labelled), ...echo(), rep03], {
      tfvars: "worker_count = 2\nmedia_count  = 3\n",
      config: config(["apps", "media"], { media: { scaleDown: "      maxEmptyBulk: 3\n" } }),
    });
    expect(counts(output)).toEqual([
      ["apps", 2, 1],
      ["media", 3, 2],
    ]);
    expect((poolDecision(output, "media").scaleDown as Raw).bulk).toMatchObject({
      nodes: ["talos-media-3"],
      stop: {
        kind: "pods-fit",
        node: "talos-media-2",
        unplaced: [REP02],
        moved: { pods: [REP02], pools: ["apps"] },
      },
    });
    const media = output.proposals.find((entry) => entry.pool === "media");
    expect(media?.reasons).toContain(
      `  scale-down: talos-media-3 goes alone; not talos-media-2 too: ${REP02}: required pod anti-affinity keeps it off the nodes with room (the decrease of pool apps moves ${REP02} onto the pool's nodes)`,
    );
  });
});
