/**
 * Cluster states an operator would check `plan --kubeconfig` against, each decided from how the
 * kube-scheduler counts a node's room, how cluster-autoscaler decides, and what `kubectl drain`
 * (the eviction API) allows, before reading the plan: a repo with and without a config, pods
 * whose requests are written in unusual units or counted beyond their containers (completed
 * init containers, pod overhead, pods bound but not started), finished pods that hold nothing,
 * a pool of two VM sizes, metrics-server registered but down, pods no new node could take,
 * pods given devices through resource claims, budgets written as 0 and as a percentage, a node
 * the count does not account for, two pools whose counts share one Terraform map, a count
 * Terraform reads from a string or a Pulumi stack holds as a number, and an infra repo kept in a
 * folder of a larger checkout.
 */
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import {
  CONFIG,
  ciliumAgent,
  controlPlane,
  freshNodeMetrics,
  type PlanJson,
  type PodOptions,
  pdb,
  pod,
  type Raw,
  TFVARS,
  unschedulable,
  worker,
} from "./served-cluster.ts";
import {
  cluster,
  commitFiles,
  config,
  eightCoreWorker,
  emptyRepo,
  FOUR,
  filler,
  fillers,
  onlyReasons,
  onWorker4,
  plan,
  planFull,
  poolNote,
  serveForTest,
  tfvars,
  WORKERS,
} from "./served-plan.ts";

/** A Pending replica of the web Deployment (1500m, 1 GiB) unless `options` say otherwise. */
function web(suffix: string, options: PodOptions = {}): Raw {
  return pod("apps", `web-6f7c8d9b5-${suffix}`, {
    owner: { kind: "ReplicaSet", name: "web-6f7c8d9b5" },
    cpu: "1500m",
    memory: "1Gi",
    labels: { "app.kubernetes.io/name": "web" },
    ...options,
  });
}

/** Sets fields of the object's `status`. */
function withStatus(raw: Raw, fields: Raw): Raw {
  Object.assign(raw.status as Raw, fields);
  return raw;
}

/** Edits the pod's spec in place. */
function withSpec(raw: Raw, edit: (spec: Raw) => void): Raw {
  edit(raw.spec as Raw);
  return raw;
}

/** A pod the kubelet evicted under memory pressure: phase Failed, still bound to its node. */
function evicted(raw: Raw): Raw {
  const status = raw.status as Raw;
  delete status.containerStatuses;
  return withStatus(raw, {
    phase: "Failed",
    reason: "Evicted",
    message: "The node was low on resource: memory. Threshold quantity: 100Mi, available: 91Mi.",
  });
}

const TWO = ["talos-worker-1", "talos-worker-2"];

/** The smallest useful config of docs/configuration.md: a name, where the count is, a max. */
const MINIMAL = `pools:
  - name: workers
    target:
      file: terraform/terraform.tfvars
      path: worker_count
    max: 5
`;

describe("plan acceptance: a Deployment of 5 replicas pending on a pool of 2", () => {
  // Each worker (3800m) runs Cilium (100m) and a 3-cpu filler: 700m free, too little for a
  // 1500m replica. A new worker has 3700m free once Cilium runs: two replicas each, so five
  // replicas need three new workers, which the max of 5 allows.
  const objects = () => [
    ...cluster(TWO),
    ...fillers(TWO),
    ...[0, 1, 2, 3, 4].map((i) => web(`rep${i}x`)),
  ];
  const files = { tfvars: tfvars(2) };

  it("leaves a repo without .github/pr-autoscaler.yml alone, and says so", async () => {
    const served = await serveForTest(objects());
    const text = await served.run([], { ...files, config: null });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^repo: no \.github\/pr-autoscaler\.yml in \S+: the repo is left alone\n\nNo changes proposed\.\n$/,
    );
    const json = await served.run(["--json"], { ...files, config: null });
    expect(JSON.parse(json.stdout)).toEqual({
      proposals: [],
      notes: [
        {
          level: "info",
          subject: "repo",
          message: expect.stringMatching(/the repo is left alone$/),
        },
      ],
    });
  });

  it("with the minimal config, adds the three workers the replicas need", async () => {
    const served = await serveForTest(objects());
    const json = await served.run(["--json"], { ...files, config: MINIMAL });
    const output = JSON.parse(json.stdout) as PlanJson;
    expect(output.proposals[0]).toMatchObject({
      kind: "nodes",
      pool: "workers",
      from: 2,
      to: 5,
      changes: [{ file: "terraform/terraform.tfvars", path: "worker_count", before: 2, after: 5 }],
    });
    const text = onlyReasons(output);
    expect(text).toContain("bounds: min 1, max 5");
    expect(text).toContain("trigger: 5 pending pods need 3 new nodes");
    expect(text).toContain("apps/web-6f7c8d9b5-rep4x (cpu 1500m, memory 1 GiB) → new-3");
    expect(output.notes).toEqual([]);
    const run = await served.run([], { ...files, config: MINIMAL });
    expect(run.stdout).toContain("pool/workers: scale up 2 → 5 nodes\n");
    expect(run.stdout).toContain("-worker_count      = 2\n+worker_count      = 5\n");
  });
});

describe("plan acceptance: requests as the scheduler counts them", () => {
  it("reads 0.5, 1G, 1e9, 128974848 and 0.5Gi as the quantities they are", async () => {
    // 700m free on each worker: the two 500m pods take two of them, 1 cpu fits none. A new
    // worker has 3700m free: 3700m fills one, 2500m and 1 cpu share another.
    const output = await planFull([
      web("unit1", { cpu: "0.5", memory: "1G" }),
      web("unit2", { cpu: "500m", memory: "1e9" }),
      web("unit3", { cpu: "1", memory: "128974848" }),
      web("unit4", { cpu: "2.5", memory: "0.5Gi" }),
      web("unit5", { cpu: "3700m", memory: "1.5Gi" }),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
    const text = onlyReasons(output);
    expect(text).toContain("trigger: 3 pending pods need 2 new nodes");
    expect(text).toMatch(
      /web-6f7c8d9b5-unit1 \(cpu 500m, memory 953\.7 MiB\) fits on talos-worker-/,
    );
    expect(text).toMatch(
      /web-6f7c8d9b5-unit2 \(cpu 500m, memory 953\.7 MiB\) fits on talos-worker-/,
    );
    expect(text).toContain("web-6f7c8d9b5-unit5 (cpu 3700m, memory 1.5 GiB) → new-1");
    expect(text).toContain("web-6f7c8d9b5-unit4 (cpu 2500m, memory 512 MiB) → new-2");
    expect(text).toContain("web-6f7c8d9b5-unit3 (cpu 1, memory 123 MiB) → new-2");
  });

  it("counts a running pod's completed init container, as the scheduler still does", async () => {
    // The scheduler charges a pod max(sum of containers, largest init container) for as long as
    // it runs: 3 cpu here, which leaves 700m on each worker for a 1500m replica.
    const running = WORKERS.map((node, index) =>
      withSpec(
        pod("media", `plex-7d9c65958-ini${index}x`, { node, cpu: "100m", memory: "512Mi" }),
        (spec) => {
          spec.initContainers = [
            {
              name: "warmup",
              image: "busybox",
              resources: { requests: { cpu: "3", memory: "1Gi" } },
            },
          ];
        },
      ),
    );
    const output = await plan([...cluster(), ...running, web("init1")]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(onlyReasons(output)).toContain(
      "apps/web-6f7c8d9b5-init1 (cpu 1500m, memory 1 GiB) → new-1",
    );
  });

  it("counts a running pod's RuntimeClass overhead on its node", async () => {
    // 2800m + 250m overhead + Cilium's 100m leave 650m: an 800m pod fits no worker (it would
    // fit 900m, were the overhead left out).
    const running = WORKERS.map((node, index) =>
      withSpec(
        pod("media", `plex-7d9c65958-ovh${index}x`, { node, cpu: "2800m", memory: "512Mi" }),
        (spec) => {
          spec.runtimeClassName = "kata";
          spec.overhead = { cpu: "250m", memory: "160Mi" };
        },
      ),
    );
    const output = await plan([...cluster(), ...running, web("kata1", { cpu: "800m" })]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(onlyReasons(output)).toContain(
      "apps/web-6f7c8d9b5-kata1 (cpu 800m, memory 1 GiB) → new-1",
    );
  });

  it("counts a pod bound to a node but not started yet (ContainerCreating) on that node", async () => {
    const bound = WORKERS.map((node, index) => {
      const raw = pod("media", `plex-7d9c65958-bnd${index}x`, { node, cpu: "3", memory: "4Gi" });
      delete (raw.status as Raw).containerStatuses;
      return withStatus(raw, {
        phase: "Pending",
        conditions: [
          { lastTransitionTime: "2026-11-20T08:00:00Z", status: "True", type: "PodScheduled" },
        ],
      });
    });
    const output = await plan([...cluster(), ...bound, web("bnd01")]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const text = onlyReasons(output);
    expect(text).toContain("pending pods: 1 considered, 0 fit free room on existing nodes");
    expect(text).not.toContain("plex-7d9c65958-bnd");
  });

  it("gives the room of evicted (Failed) pods to a pending pod, and adds no node", async () => {
    const gone = WORKERS.map((node, index) =>
      evicted(pod("media", `plex-7d9c65958-evi${index}x`, { node, cpu: "3", memory: "8Gi" })),
    );
    const output = await plan([...cluster(), ...gone, web("evi01")]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(
      /pending: apps\/web-6f7c8d9b5-evi01 \(cpu 1500m, memory 1 GiB\) fits on talos-worker-\d/,
    );
  });
});

describe("plan acceptance: a pool of two VM sizes", () => {
  // An 8-core 16 GiB VM and a 4-core 32 GiB one, each nearly full: a new VM may be like either,
  // so a 5-cpu pod, which only the first could take, adds no node on a guess.
  const objects = () => [
    controlPlane("talos-cp-1"),
    worker("talos-worker-1", { allocatable: { cpu: "7800m", memory: "15986572Ki", pods: "110" } }),
    ciliumAgent("talos-worker-1", 0),
    freshNodeMetrics("talos-worker-1", "600m", "2Gi"),
    worker("talos-worker-2", { allocatable: { cpu: "3800m", memory: "32078000Ki", pods: "110" } }),
    ciliumAgent("talos-worker-2", 1),
    freshNodeMetrics("talos-worker-2", "600m", "2Gi"),
    filler("talos-worker-1", 1, "7"),
    filler("talos-worker-2", 2, "3"),
    web("cpu05", { cpu: "5" }),
  ];

  it.each(["most-common", "smallest"])(
    "counts a new node at the least cpu and memory of the two with newNode.from %s",
    async (from) => {
      const output = await plan(objects(), {
        tfvars: tfvars(2),
        config: config({ "    removal:": `    newNode:\n      from: ${from}\n    removal:` }),
      });
      expect(output.proposals).toEqual([]);
      const note = poolNote(output);
      expect(note).toContain(
        `new node: 3800m cpu, 15.2 GiB memory, 110 pods (learned, ${from} allocatable, like talos-worker-1, but for the cpu of talos-worker-2, `,
      );
      expect(note).toContain(
        "never fits: apps/web-6f7c8d9b5-cpu05 (cpu 5, memory 1 GiB): needs more cpu than a new node has free once its DaemonSets run (3700m of 3800m)",
      );
    },
  );
});

describe("plan acceptance: metrics-server registered but down", () => {
  /** The aggregated API's answer while metrics-server is not running behind it. */
  function metricsDown(served: Awaited<ReturnType<typeof serveForTest>>): void {
    served.fake.injectFault({
      path: /^\/apis\/metrics\.k8s\.io\//,
      status: 503,
      body: "the server is currently unable to handle the request\n",
      headers: { "content-type": "text/plain" },
      times: Number.POSITIVE_INFINITY,
    });
  }

  it("still adds a node for a pending pod, calling usage unknown and saying why on stderr", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), web("m5031")]);
    metricsDown(served);
    const run = await served.run([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("pool/workers: scale up 3 → 4 nodes\n");
    expect(run.stdout).toContain(
      "utilisation: cpu usage unknown (talos-worker-1, talos-worker-2, talos-worker-3)",
    );
    expect(run.stderr).toContain(
      "warning: metrics/nodes: nodes metrics: the metrics API is registered but unavailable (is metrics-server running?); usage unknown [metrics-unavailable]",
    );
  });

  it("removes no idle node on usage it cannot read, even with unneededTime 0", async () => {
    const served = await serveForTest([
      ...cluster(FOUR),
      web("m5032", { node: "talos-worker-4", cpu: "100m", memory: "128Mi" }),
    ]);
    metricsDown(served);
    const run = await served.run(["--json"], {
      tfvars: tfvars(4),
      config: config({ "    removal:": "    scaleDown:\n      unneededTime: 0\n    removal:" }),
    });
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain(
      "scale-down: cpu < 30 % for 0s: unknown, usage not observed on talos-worker-1, talos-worker-2, talos-worker-3, talos-worker-4",
    );
    expect(note).toContain(
      "hold: cpu and memory usage unknown on talos-worker-1, talos-worker-2, talos-worker-3, talos-worker-4; no decision is taken on the pool's usage (unknown is not zero)",
    );
  });
});

describe("plan acceptance: pending pods a new node would not take", () => {
  it("adds no node for a replica pinned by hostname to a full worker, and says why", async () => {
    const output = await planFull([
      web("pin01", { nodeSelector: { "kubernetes.io/hostname": "talos-worker-2" } }),
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "never fits: apps/web-6f7c8d9b5-pin01 (cpu 1500m, memory 1 GiB): its nodeSelector asks for labels a new node of this pool would not have",
    );
  });

  it("adds no node for a pod asking for hugepages no worker has", async () => {
    const hugepages = withSpec(web("hug01", { cpu: "500m" }), (spec) => {
      const resources = (spec.containers as Raw[])[0]?.resources as Raw;
      (resources.requests as Raw)["hugepages-2Mi"] = "512Mi";
      resources.limits = { "hugepages-2Mi": "512Mi", memory: "1Gi" };
    });
    withStatus(hugepages, {
      conditions: [
        {
          lastProbeTime: null,
          lastTransitionTime: "2026-11-20T08:00:00Z",
          ...unschedulable("Insufficient hugepages-2Mi"),
          status: "False",
          type: "PodScheduled",
        },
      ],
    });
    const output = await plan([...cluster(), hugepages]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "never fits: apps/web-6f7c8d9b5-hug01 (cpu 500m, memory 1 GiB, hugepages-2Mi 512 MiB): needs more hugepages-2Mi than a new node has",
    );
  });

  it("adds no node for a zone spread when no worker carries a zone label", async () => {
    // The scheduler filters out every node without the constraint's topology key.
    const spread = web("spr01", {
      cpu: "500m",
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: "topology.kubernetes.io/zone",
          whenUnsatisfiable: "DoNotSchedule",
          labelSelector: { matchLabels: { "app.kubernetes.io/name": "web" } },
        },
      ],
      scheduled: unschedulable(
        "node(s) didn't match pod topology spread constraints (missing required label)",
      ),
    });
    const output = await planFull([spread]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(
      /never fits: apps\/web-6f7c8d9b5-spr01 [^\n]*: a topology spread constraint \(DoNotSchedule on topology\.kubernetes\.io\/zone\) would not allow it on a new node of this pool, which would not carry the label topology\.kubernetes\.io\/zone: the scheduler puts such a pod only on nodes that carry it \(set newNode\.labels when every new node gets the same value\)$/m,
    );
  });

  it("adds no node for a zone spread whose only other zone is the control plane's, and says why", async () => {
    // Under the default nodeTaintsPolicy (Ignore) the tainted control plane, alone in zone pve-2,
    // is an eligible domain with no replica: a second replica in pve-1, where every worker and
    // so every new worker is, would make the skew 2.
    const zone = "topology.kubernetes.io/zone";
    const constraints = [
      {
        maxSkew: 1,
        topologyKey: zone,
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: { "app.kubernetes.io/name": "web" } },
      },
    ];
    const objects = cluster(WORKERS, {
      "talos-worker-1": { labels: { [zone]: "pve-1" } },
      "talos-worker-2": { labels: { [zone]: "pve-1" } },
      "talos-worker-3": { labels: { [zone]: "pve-1" } },
    });
    const plane = objects.find((object) => object.kind === "Node") as Raw;
    ((plane.metadata as Raw).labels as Record<string, string>)[zone] = "pve-2";
    const output = await plan([
      ...objects,
      web("run01", {
        node: "talos-worker-1",
        cpu: "500m",
        topologySpreadConstraints: constraints,
      }),
      web("skw01", {
        cpu: "500m",
        topologySpreadConstraints: constraints,
        scheduled: unschedulable("node(s) didn't match pod topology spread constraints"),
      }),
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "never fits: apps/web-6f7c8d9b5-skw01 (cpu 500m, memory 1 GiB): a topology spread constraint (DoNotSchedule on topology.kubernetes.io/zone) would not allow it on a new node of this pool, which would join a topology.kubernetes.io/zone domain that already has the most",
    );
  });
});

describe("plan acceptance: pods given devices through resource claims", () => {
  // Dynamic resource allocation: the devices come from ResourceSlices, which the plan does not
  // read, so which node could run such a pod is not known, whatever room it shows.
  function claiming(raw: Raw): Raw {
    return withSpec(raw, (spec) => {
      spec.resourceClaims = [{ name: "gpu", resourceClaimTemplateName: "single-gpu" }];
      ((spec.containers as Raw[])[0] as Raw).resources = {
        requests: { cpu: "500m", memory: "1Gi" },
        claims: [{ name: "gpu" }],
      };
    });
  }
  const files = {
    tfvars: tfvars(4),
    config: config({ "    removal:": "    scaleDown:\n      unneededTime: 0\n    removal:" }),
  };

  it("neither says a pending one fits a node with room nor removes a node while it waits", async () => {
    const pending = claiming(
      web("dra01", {
        scheduled: {
          reason: "Unschedulable",
          message:
            "0/5 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 4 cannot allocate all claims. still not schedulable, preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.",
        },
      }),
    );
    const output = await plan([...cluster(FOUR), pending], files);
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain(
      "fit unknown: apps/web-6f7c8d9b5-dra01 (cpu 500m, memory 1 GiB): it is given devices through its resource claims (gpu), and which nodes have them is not read (ResourceSlices), so whether an existing or a new node could run it is not known",
    );
    expect(note).not.toContain("fits on talos-worker");
    expect(note).toContain(
      "hold: apps/web-6f7c8d9b5-dra01 is pending and whether a new node would fit it is unknown",
    );
  });

  it("keeps the idle node that runs one, as where it could go is unknown", async () => {
    const running = claiming(web("dra02", { node: "talos-worker-4" }));
    const output = await plan([...cluster(FOUR), running], files);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "not removed: not every pod of talos-worker-4 fits on the other nodes (apps/web-6f7c8d9b5-dra02: it is given devices through resource claims, and which nodes have them is not read (ResourceSlices), so where it could go is unknown)",
    );
  });
});

describe("plan acceptance: what the drain may evict from the node a decrease removes", () => {
  const files = {
    tfvars: tfvars(4),
    config: config({ "    removal:": "    scaleDown:\n      unneededTime: 0\n    removal:" }),
  };
  /** The web Deployment's two replicas, one on talos-worker-4, and a budget over them. */
  function replicasUnder(spec: Raw, allowed: number): Raw[] {
    const budget = pdb("apps", "web", { "app.kubernetes.io/name": "web" }, allowed);
    budget.spec = { ...spec, selector: { matchLabels: { "app.kubernetes.io/name": "web" } } };
    Object.assign(budget.status as Raw, {
      currentHealthy: 2,
      desiredHealthy: 2 - allowed,
      expectedPods: 2,
    });
    return [
      web("pdb2x", { node: "talos-worker-2", cpu: "200m", memory: "256Mi" }),
      web("pdb4x", { node: "talos-worker-4", cpu: "200m", memory: "256Mi" }),
      budget,
    ];
  }

  it("keeps the idle node whose replica a budget of maxUnavailable 0 protects", async () => {
    const output = await plan(
      [...cluster(FOUR), ...replicasUnder({ maxUnavailable: 0 }, 0)],
      files,
    );
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain("not removed: talos-worker-4 has 1 blocker");
    expect(note).toContain(
      "blockers on talos-worker-4: apps/web-6f7c8d9b5-pdb4x: PDB apps/web allows 0 disruptions, 1 of its pods is here",
    );
  });

  it('removes it when the budget is maxUnavailable "50%" of two replicas, allowing one', async () => {
    const output = await plan(
      [...cluster(FOUR), ...replicasUnder({ maxUnavailable: "50%" }, 1)],
      files,
    );
    expect(output.proposals[0]).toMatchObject({
      from: 4,
      to: 3,
      changes: [{ path: "worker_count", before: 4, after: 3 }],
    });
    const text = onlyReasons(output);
    expect(text).toContain("scale down 4 → 3, removing talos-worker-4");
    expect(text).toContain("talos-worker-4 has no blockers: met");
    expect(text).toContain("1 pod of talos-worker-4 fits on the other nodes: met");
  });

  it("warns when a blocker no time lifts keeps the count above the max, not when a budget does", async () => {
    const aboveMax = { tfvars: tfvars(4), config: config({ "max: 6": "max: 3" }) };
    // A debug pod started by hand: no controller makes it again elsewhere, so the drain would
    // lose it, and nothing but a person deletes it.
    const debug = pod("default", "debug-shell", { ...onWorker4, owner: null });
    const held = await plan([...cluster(FOUR), debug], aboveMax);
    expect(held.proposals).toEqual([]);
    const note = held.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.level).toBe("warning");
    expect(note?.message).toContain("not removed: talos-worker-4 has 1 blocker");
    expect(note?.message).toContain("blockers on talos-worker-4: default/debug-shell:");
    // A budget allowing no disruption now allows one once its pods are healthy again: of the
    // two replicas maxUnavailable 1 wants one healthy, and web-…-pdb2x is not Ready.
    const [unhealthy, onFour, budget] = replicasUnder({ maxUnavailable: 1 }, 0) as [Raw, Raw, Raw];
    withStatus(unhealthy, {
      conditions: [
        { lastTransitionTime: "2026-11-20T08:00:00Z", status: "True", type: "PodScheduled" },
        { lastTransitionTime: "2026-11-20T09:12:40Z", status: "False", type: "Ready" },
      ],
    });
    withStatus(budget, { currentHealthy: 1, desiredHealthy: 1, expectedPods: 2 });
    const budgeted = await plan([...cluster(FOUR), unhealthy, onFour, budget], aboveMax);
    expect(budgeted.proposals).toEqual([]);
    const waits = budgeted.notes.find((entry) => entry.subject === "pool/workers");
    expect(waits?.level).toBe("info");
    expect(waits?.message).toContain(
      "blockers on talos-worker-4: apps/web-6f7c8d9b5-pdb4x: PDB apps/web allows 0 disruptions (1 once all of its pods are healthy), 1 of its pods is here",
    );
  });

  it("warns when a budget that allows no disruption even with all of its pods healthy keeps the count above the max", async () => {
    // maxUnavailable 0 over two healthy replicas: the disruption controller allows none however
    // long the plan waits (kubectl drain would retry the eviction forever); only a person
    // changing the budget, or the count by hand, lets talos-worker-4 go.
    const aboveMax = { tfvars: tfvars(4), config: config({ "max: 6": "max: 3" }) };
    const output = await plan(
      [...cluster(FOUR), ...replicasUnder({ maxUnavailable: 0 }, 0)],
      aboveMax,
    );
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.level).toBe("warning");
    expect(note?.message).toContain("trigger: count 4 is above the max of 3");
    expect(note?.message).toContain(
      "blockers on talos-worker-4: apps/web-6f7c8d9b5-pdb4x: PDB apps/web allows 0 disruptions, 1 of its pods is here",
    );
  });

  it("removes a node above the max whose only pod is an evicted bare pod with an emptyDir", async () => {
    // kubectl drain and cluster-autoscaler skip finished pods: nothing is left to evict.
    const leftover = evicted(
      pod("default", "debug-shell", {
        node: "talos-worker-4",
        owner: null,
        cpu: "1",
        memory: "2Gi",
        volumes: [{ name: "scratch", emptyDir: {} }],
      }),
    );
    const output = await plan([...cluster(FOUR), leftover], {
      tfvars: tfvars(4),
      config: config({ "max: 6": "max: 3" }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    const text = onlyReasons(output);
    expect(text).toContain("talos-worker-4 has no blockers: met");
    expect(text).toContain("0 pods of talos-worker-4 fit on the other nodes: met");
  });
});

describe("plan acceptance: a node the count does not account for", () => {
  it("holds the pool with a warning that does not claim a removal happened", async () => {
    // Hostnames Talos generates tell no count index, and a fourth node was joined by hand to a
    // count of 3 set when the repo began: nothing says which node is Terraform's extra one.
    const names = ["talos-7rd-ipn", "talos-2gd-0k3", "talos-x9q-4mz", "talos-hand-added"];
    const output = await plan([...cluster(names), web("ext01")], {
      config: CONFIG.replace(
        "    removal:\n      nameTemplate: talos-worker-{index}\n      indexBase: 1\n",
        "",
      ),
    });
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.level).toBe("warning");
    expect(note?.message).toContain(
      "hold: the repo asks for 3 nodes, 4 are still there, 15m or more after the commit that made the repository, of 2026-08-14 18:02:14 UTC: a removed node did not go, or a node the count does not make (joined by hand, or made elsewhere with labels the pool's selector matches) is listed; nothing new until it is resolved",
    );
  });
});

describe("plan acceptance: where the count is written", () => {
  it("changes only the big pool's count in a map of two pools, for a pod only it can take", async () => {
    const mapTfvars = `node_pools = {
  general = {
    count  = 3
    cores  = 4
    memory = 16384
  }
  big = {
    count  = 1
    cores  = 8
    memory = 32768
  }
}
`;
    const pools = `pools:
  - name: general
    target:
      file: terraform/terraform.tfvars
      path: node_pools.general.count
    selector:
      matchLabels:
        node.kubernetes.io/pool: general
    max: 6
  - name: big
    target:
      file: terraform/terraform.tfvars
      path: node_pools.big.count
    selector:
      matchLabels:
        node.kubernetes.io/pool: big
    max: 3
`;
    const general = WORKERS.flatMap((name, index) => [
      worker(name, { labels: { "node.kubernetes.io/pool": "general" } }),
      ciliumAgent(name, index),
      freshNodeMetrics(name, "600m", "2Gi"),
    ]);
    const big = [
      eightCoreWorker("talos-big-1", "big"),
      ciliumAgent("talos-big-1", 7),
      freshNodeMetrics("talos-big-1", "1", "3Gi"),
      pod("ml", "trainer-6f7c8d9b5-run01", { node: "talos-big-1", cpu: "6", memory: "8Gi" }),
    ];
    // 5 cpu fits no general worker (3700m free at most), nor the big one (1700m free).
    const trainer = pod("ml", "trainer-6f7c8d9b5-big02", { cpu: "5", memory: "8Gi" });
    const served = await serveForTest([
      controlPlane("talos-cp-1"),
      ...general,
      ...fillers(),
      ...big,
      trainer,
    ]);
    const output = JSON.parse(
      (await served.run(["--json"], { tfvars: mapTfvars, config: pools })).stdout,
    ) as PlanJson;
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["big", 1, 2],
    ]);
    expect(output.proposals[0]?.changes).toEqual([
      { file: "terraform/terraform.tfvars", path: "node_pools.big.count", before: 1, after: 2 },
    ]);
    expect(poolNote(output, "general")).toContain(
      "pending: ml/trainer-6f7c8d9b5-big02 (cpu 5, memory 8 GiB) → pool big",
    );
    const text = await served.run([], { tfvars: mapTfvars, config: pools });
    expect(text.stdout).toContain("   big = {\n-    count  = 1\n+    count  = 2\n");
    expect(text.stdout).not.toContain("+    count  = 4");
  });

  it('keeps a count Terraform reads from the string "3" a string', async () => {
    const output = await planFull([web("str01")], {
      tfvars: TFVARS.replace("worker_count      = 3", 'worker_count      = "3"'),
    });
    expect(output.proposals[0]).toMatchObject({
      from: 3,
      to: 4,
      changes: [{ path: "worker_count", before: "3", after: "4" }],
    });
  });

  it("edits a Pulumi stack's count written as a number, keeping its comment", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), web("plm01")]);
    const files = {
      tfvars: null,
      config: config({
        "file: terraform/terraform.tfvars": "file: Pulumi.homelab.yaml",
        "path: worker_count": 'path: config."proxmox-talos:workerCount"',
      }),
      other: {
        "Pulumi.homelab.yaml":
          "config:\n  proxmox-talos:workerCount: 3 # workers\n  proxmox-talos:node: pve-1\n",
      },
    };
    const output = JSON.parse((await served.run(["--json"], files)).stdout) as PlanJson;
    expect(output.proposals[0]?.changes).toEqual([
      {
        file: "Pulumi.homelab.yaml",
        path: 'config."proxmox-talos:workerCount"',
        before: 3,
        after: 4,
      },
    ]);
    const text = await served.run([], files);
    expect(text.stdout).toContain(
      "-  proxmox-talos:workerCount: 3 # workers\n+  proxmox-talos:workerCount: 4 # workers\n",
    );
  });

  it("reads the cooldown from the history when the infra repo is a folder of a larger checkout", async () => {
    // The git repository's root is one level up: `plan --repo infra` reads the commits of
    // infra/terraform/terraform.tfvars, so the raise two minutes ago holds the next one.
    const infra = join(emptyRepo("pr-autoscaler-served-mono-"), "infra");
    commitFiles(infra, { tfvars: tfvars(2) }, "2026-11-01T10:00:00Z", "workers: 2");
    commitFiles(infra, { tfvars: tfvars(3) }, "2026-11-22T09:58:00Z", "workers: 3");
    const served = await serveForTest([...cluster(), ...fillers(), web("mono1")]);
    const held = await served.planRepo(infra, "2026-11-22T10:00:00Z");
    expect(held.proposals).toEqual([]);
    expect(poolNote(held)).toContain(
      "hold: cooldown after the change of 2026-11-22 09:58 UTC, until 2026-11-22 10:03 UTC",
    );
    const after = await served.planRepo(infra, "2026-11-22T10:04:00Z");
    expect(after.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });
});
