/**
 * Scale-down onto the room of nodes the planner never removes, as an operator checks it against
 * `plan --kubeconfig`: each expectation was written before the plan was read, from what the
 * kube-scheduler does with the pods a drain evicts (any Ready, schedulable node that admits them,
 * in a pool or not) and cluster-autoscaler's scale-down simulation, which places them on every
 * node it does not remove. A control plane Talos leaves untainted
 * (`allowSchedulingOnControlPlanes`) or a node no pool selects takes them; a control plane with
 * its NoSchedule taint takes only the pods that tolerate it; a cordoned or not Ready node none.
 *
 * The pods are Blocky DNS replicas with required anti-affinity on the hostname, one on each of
 * the four workers: removing talos-worker-4 leaves its replica no worker to go to, whatever the
 * room, so the node outside the pool decides.
 */
import { describe, expect, it } from "@jest/globals";
import {
  freshNodeMetrics,
  type NodeOptions,
  type PlanJson,
  pod,
  type Raw,
  worker,
} from "./served-cluster.ts";
import {
  APPS_AND_MEDIA,
  APPS_AND_MEDIA_FILES,
  APPS_AND_MEDIA_NODES,
  appsAndMedia,
  cluster,
  FOUR,
  filler,
  judgedNow,
  plan,
  poolDecision,
  poolNote,
  untainted,
  WORKERS,
} from "./served-plan.ts";

const BLOCKY = { "app.kubernetes.io/name": "blocky" };

const APART = {
  podAntiAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: [
      { labelSelector: { matchLabels: BLOCKY }, topologyKey: "kubernetes.io/hostname" },
    ],
  },
};

const CONTROL_PLANE_TAINT = {
  key: "node-role.kubernetes.io/control-plane",
  operator: "Exists",
  effect: "NoSchedule",
};

/** A Blocky replica (100m, 128 MiB) on each worker, none sharing a node. */
function replicas(tolerations?: Raw[]): Raw[] {
  return FOUR.map((node, index) =>
    pod("dns", `blocky-5c8d7f6b9-rep0${index + 1}`, {
      node,
      cpu: "100m",
      memory: "128Mi",
      labels: BLOCKY,
      affinity: APART,
      ...(tolerations ? { tolerations } : {}),
    }),
  );
}

const REPLICA_4 = "dns/blocky-5c8d7f6b9-rep04";

/** Four workers counted by the repo, judged on metrics-server's sample (unneededTime 0). */
const NOW_FOUR = judgedNow(4);

/**
 * The same pool selecting the nodes without a `dedicated` label: talos-nas-1, dedicated to
 * storage, is in no pool.
 */
const NOW_FOUR_NAS = judgedNow(4, {
  "key: node-role.kubernetes.io/control-plane": "key: dedicated",
});

/** What a test may change of the storage worker: whether it is Ready, cordoned or tainted. */
type NasOptions = Pick<NodeOptions, "ready" | "unschedulable" | "taints">;

/** A storage worker no pool selects, with its own metrics. */
function nas(options: NasOptions = {}): Raw[] {
  return [
    worker("talos-nas-1", { ...options, labels: { dedicated: "storage" } }),
    freshNodeMetrics("talos-nas-1", "300m", "1Gi"),
  ];
}

/** The scale-down condition of `kind`, from the proposal or, with none, the pool's note. */
function condition(output: PlanJson, kind: string): Raw | undefined {
  const decision =
    output.proposals[0]?.decision ??
    output.notes.find((entry) => entry.subject === "pool/workers")?.decision;
  const scaleDown = (decision as Raw | undefined)?.scaleDown as { conditions: Raw[] } | undefined;
  return scaleDown?.conditions.find((entry) => entry.kind === kind);
}

describe("plan acceptance, scale-down onto a control plane", () => {
  it("removes talos-worker-4 when its replica fits only on the untainted control plane, and says it goes there", async () => {
    const output = await plan([...untainted(cluster(FOUR)), ...replicas()], NOW_FOUR);
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down" });
    expect(output.proposals[0]?.reasons).toContain(
      `  scale-down: 1 pod of talos-worker-4 fits on the other nodes: met (${REPLICA_4} goes to talos-cp-1, a control plane in no pool)`,
    );
    expect(condition(output, "pods-fit")).toMatchObject({
      met: true,
      outside: [{ node: "talos-cp-1", controlPlane: true, pods: [REPLICA_4] }],
    });
  });

  it("keeps talos-worker-4 when the control plane keeps its NoSchedule taint", async () => {
    const output = await plan([...cluster(FOUR), ...replicas()], NOW_FOUR);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      `not removed: not every pod of talos-worker-4 fits on the other nodes (${REPLICA_4}: required pod anti-affinity keeps it off the nodes with room)`,
    );
    const fit = condition(output, "pods-fit");
    expect(fit).toMatchObject({ met: false, unplaced: [REPLICA_4] });
    expect(fit).not.toHaveProperty("outside");
  });

  it("removes talos-worker-4 onto the tainted control plane when the replicas tolerate its taint", async () => {
    const output = await plan([...cluster(FOUR), ...replicas([CONTROL_PLANE_TAINT])], NOW_FOUR);
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      `(${REPLICA_4} goes to talos-cp-1, a control plane in no pool)`,
    );
  });

  it("names the untainted control plane among the nodes without the GPU a pod of talos-worker-4 needs", async () => {
    const whisper = pod("media", "whisper-6c8d9f7b5-gpu01", {
      node: "talos-worker-4",
      cpu: "100m",
      memory: "128Mi",
    });
    const container = ((whisper.spec as Raw).containers as Raw[])[0] as Raw;
    const resources = container.resources as Raw;
    resources.requests = { ...(resources.requests as Raw), "nvidia.com/gpu": "1" };
    resources.limits = { "nvidia.com/gpu": "1" };
    const output = await plan([...untainted(cluster(FOUR)), whisper], NOW_FOUR);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "not removed: not every pod of talos-worker-4 fits on the other nodes (no room for media/whisper-6c8d9f7b5-gpu01: it needs more nvidia.com/gpu than any other node of the pool, or talos-cp-1, has free)",
    );
    expect(condition(output, "pods-fit")).toMatchObject({
      causes: [
        {
          pod: "media/whisper-6c8d9f7b5-gpu01",
          cause: "room",
          resources: ["nvidia.com/gpu"],
          outside: ["talos-cp-1"],
        },
      ],
    });
  });

  it("keeps talos-worker-4 when a pending pod is counted on the control plane's room", async () => {
    // An etcd backup pinned to the control plane takes 1900m of its 1950m: 100m no longer fits.
    const backup = pod("kube-system", "etcd-backup-29123400-bk01x", {
      cpu: "1900m",
      memory: "256Mi",
      owner: { kind: "Job", name: "etcd-backup-29123400" },
      nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
      scheduled: {
        reason: "Unschedulable",
        message: "0/5 nodes are available: 1 Insufficient cpu.",
      },
    });
    const output = await plan([...untainted(cluster(FOUR)), ...replicas(), backup], NOW_FOUR);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/etcd-backup-29123400-bk01x [^\n]*fits on talos-cp-1/);
    expect(condition(output, "pods-fit")).toMatchObject({ met: false, unplaced: [REPLICA_4] });
  });
});

describe("plan acceptance, scale-down onto a node in no pool", () => {
  /** Plans FOUR workers running replicas(), beside the storage worker with `options`. */
  function planWithNas(options: NasOptions = {}): Promise<PlanJson> {
    return plan([...cluster(FOUR), ...nas(options), ...replicas()], NOW_FOUR_NAS);
  }

  it("removes talos-worker-4 when its replica fits on a node no pool selects, and names it", async () => {
    const output = await planWithNas();
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down" });
    expect(output.proposals[0]?.reasons).toContain(
      `  scale-down: 1 pod of talos-worker-4 fits on the other nodes: met (${REPLICA_4} goes to talos-nas-1, a node no pool selects)`,
    );
    expect(condition(output, "pods-fit")).toMatchObject({
      outside: [{ node: "talos-nas-1", pods: [REPLICA_4] }],
    });
  });

  it("keeps talos-worker-4 when that node is cordoned", async () => {
    const output = await planWithNas({ unschedulable: true });
    expect(output.proposals).toEqual([]);
    // Its room would take the replica were it not cordoned: named with the nodes not counted.
    expect(condition(output, "pods-fit")).toMatchObject({
      met: false,
      unplaced: [REPLICA_4],
      uncounted: [{ node: "talos-nas-1", why: "cordoned", outside: true }],
    });
    expect(poolNote(output)).toContain(
      `not removed: not every pod of talos-worker-4 fits on the other nodes (${REPLICA_4}: required pod anti-affinity keeps it off the nodes with room; the room of talos-nas-1 (cordoned, a node no pool selects) is not counted)`,
    );
  });

  it("keeps talos-worker-4 when that node is not Ready", async () => {
    const output = await planWithNas({ ready: false });
    expect(output.proposals).toEqual([]);
    expect(condition(output, "pods-fit")).toMatchObject({
      met: false,
      unplaced: [REPLICA_4],
      uncounted: [{ node: "talos-nas-1", why: "not-ready", outside: true }],
    });
    expect(poolNote(output)).toContain(
      "the room of talos-nas-1 (not Ready, a node no pool selects) is not counted",
    );
  });

  it("does not name the cordoned node among those not counted when its taint keeps the replica off", async () => {
    const output = await planWithNas({
      unschedulable: true,
      taints: [{ key: "dedicated", value: "storage", effect: "NoSchedule" }],
    });
    expect(output.proposals).toEqual([]);
    const fit = condition(output, "pods-fit");
    expect(fit).toMatchObject({ met: false, unplaced: [REPLICA_4] });
    expect(fit).not.toHaveProperty("uncounted");
  });
});

describe("plan acceptance, scale-down onto a control plane two pools count on", () => {
  // Two pools of two nodes, each running two replicas (1 cpu); no two replicas of either app
  // share a node, so neither pool's replica may go to the other pool's nodes. The untainted
  // control plane has room for one replica (1950m): the first pool's decrease moves its replica
  // there, so the second pool's finds no room left and its node stays.
  function group(app: string, nodes: readonly string[]): Raw[] {
    const labels = { "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "web" };
    const apart = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: { matchLabels: { "app.kubernetes.io/part-of": "web" } },
            topologyKey: "kubernetes.io/hostname",
          },
        ],
      },
    };
    return nodes.map((node, index) =>
      pod("default", `${app}-5c8d7f6b9-rep0${index + 1}`, {
        node,
        cpu: "1",
        memory: "256Mi",
        labels,
        affinity: apart,
      }),
    );
  }

  it("removes the first pool's node onto it, and keeps the second pool's", async () => {
    const output = await plan(
      [
        ...appsAndMedia(),
        ...group("echo", APPS_AND_MEDIA_NODES.apps),
        ...group("whoami", APPS_AND_MEDIA_NODES.media),
      ],
      APPS_AND_MEDIA_FILES,
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["apps", 2, 1],
    ]);
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: 1 pod of talos-worker-2 fits on the other nodes: met (default/echo-5c8d7f6b9-rep02 goes to talos-cp-1, a control plane in no pool)",
    );
    expect(poolNote(output, "media")).toContain(
      "not removed: not every pod of talos-media-2 fits on the other nodes (default/whoami-5c8d7f6b9-rep02: required pod anti-affinity keeps it off the nodes with room; the room of talos-worker-2 (pool apps removes it in this plan) is not counted; talos-cp-1 keeps its room for the pods the decrease of pool apps moves there)",
    );
    const media = output.notes.find((entry) => entry.subject === "pool/media")?.decision as
      | { scaleDown: { conditions: Raw[] } }
      | undefined;
    expect(media?.scaleDown.conditions.find((entry) => entry.kind === "pods-fit")).toMatchObject({
      met: false,
      outsideTaken: [{ node: "talos-cp-1", pools: ["apps"] }],
    });
  });

  it("keeps the second pool's node when the first pool's run of empty nodes sends a pending pod there", async () => {
    // apps: talos-worker-1 and -2 run Plex (3 cpu each), talos-worker-3 and -4 are empty and go
    // together (maxEmptyBulk 3). A pending import job (1 cpu) is counted on their room: with one
    // of them gone it fits on the other, with both gone only on the control plane (1950m free),
    // whose room it then takes. The pool's requests, the job's counted, stay below its
    // scaleDown.requests (95 %) on the two nodes left. The whoami replica of talos-media-2 needs
    // 1 cpu on the control plane too: the scheduler would leave one of the two pending, so media
    // keeps its node.
    const job = pod("media", "import-29123400-im01x", {
      cpu: "1",
      memory: "256Mi",
      owner: { kind: "Job", name: "import-29123400" },
      scheduled: {
        reason: "Unschedulable",
        message: "0/6 nodes are available: 6 Insufficient cpu.",
      },
    });
    const output = await plan(
      [
        ...appsAndMedia(FOUR, { cpu: "300m", memory: "1Gi" }),
        filler("talos-worker-1", 0),
        filler("talos-worker-2", 1),
        ...group("whoami", APPS_AND_MEDIA_NODES.media),
        job,
      ],
      {
        tfvars: "worker_count = 4\nmedia_count  = 2\n",
        config: APPS_AND_MEDIA.replace(
          "      unneededTime: 0\n    removal:\n      nameTemplate: talos-worker",
          "      unneededTime: 0\n      maxEmptyBulk: 3\n      requests: 95\n    removal:\n      nameTemplate: talos-worker",
        ),
      },
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["apps", 4, 2],
    ]);
    const media = output.notes.find((entry) => entry.subject === "pool/media")?.decision as
      | { scaleDown: { conditions: Raw[] } }
      | undefined;
    expect(media?.scaleDown.conditions.find((entry) => entry.kind === "pods-fit")).toMatchObject({
      met: false,
      outsideTaken: [{ node: "talos-cp-1", pools: ["apps"] }],
    });
  });
});

describe("plan acceptance, a pending pod a run of empty nodes sends to the control plane", () => {
  // apps: talos-worker-1 runs Plex (2750m cpu, 2850m with Cilium, 950m free), talos-worker-2
  // and -3 are empty (maxEmptyBulk 3, scaleDown.requests 60, scaleUp.requests 95, so a decrease
  // must leave the pool below 85 %). A pending import job (1 cpu) is counted on talos-worker-2:
  // with talos-worker-3 gone it still runs there, so the pool's requests count it; with both
  // gone it fits only on the untainted control plane (1950m free), where the scheduler puts it,
  // and the projection counts the pool's own requests alone (Plex and the Cilium agent of
  // talos-worker-1, 2850m: the agents of the nodes removed go with them) over the 3800m left:
  // 75 %, as the next plan sees it.
  const job = pod("media", "import-29123400-im01x", {
    cpu: "1",
    memory: "256Mi",
    owner: { kind: "Job", name: "import-29123400" },
    scheduled: { reason: "Unschedulable", message: "0/6 nodes are available: 6 Insufficient cpu." },
  });
  const files = {
    tfvars: "worker_count = 3\nmedia_count  = 2\n",
    config: APPS_AND_MEDIA.replace(
      "      unneededTime: 0\n    removal:\n      nameTemplate: talos-worker",
      "      unneededTime: 0\n      maxEmptyBulk: 3\n      requests: 60\n    scaleUp:\n      requests: 95\n    removal:\n      nameTemplate: talos-worker",
    ),
  };

  it("removes both empty nodes, not counting the job's requests on the pool it leaves", async () => {
    const output = await plan(
      [
        ...appsAndMedia(WORKERS, { cpu: "300m", memory: "1Gi" }),
        filler("talos-worker-1", 0, "2750m"),
        job,
      ],
      files,
    );
    const apps = output.proposals.find((entry) => entry.pool === "apps");
    expect([apps?.from, apps?.to]).toEqual([3, 1]);
    expect(apps?.reasons).toContain(
      "  scale-down: after removing all 2: cpu 24 % < 70 %, memory 20 % < 75 %, cpu requests 75 % < 85 %",
    );
    const bulk = (poolDecision(output, "apps").scaleDown as { bulk: { projection: Raw[][] } }).bulk;
    // With talos-worker-3 alone gone the job runs on talos-worker-2, and counts.
    expect(bulk.projection[0]?.find((entry) => entry.resource === "requests")).toMatchObject({
      requestsOf: "cpu",
      pending: 1,
    });
    expect(bulk.projection[1]?.find((entry) => entry.resource === "requests")).not.toHaveProperty(
      "pending",
    );
  });
});
