/**
 * More cluster states for `plan` against a Kubernetes API server on 127.0.0.1: packing pending
 * pods (init containers, overhead, DaemonSets, tolerations, affinity, quantities, new-node
 * shapes), growth triggers and bounds, schedule windows, what holds or frees a node above max,
 * lists that fail, the command's output and errors, and changes read from the infra repo's git
 * history. Each scenario asserts the proposal or its absence and that the explanation names
 * the cause.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";
import { persistentVolume } from "../support/kube-volumes.ts";
import {
  CONFIG,
  ciliumAgent,
  freshNodeMetrics,
  type PlanJson,
  type PodOptions,
  pdb,
  pod,
  type Raw,
  runPlan,
  TFVARS,
  unschedulable,
  worker,
  writeInfraRepo,
} from "./served-cluster.ts";
import {
  afterTest,
  apps,
  changedAt,
  cluster,
  config,
  everyWorker,
  FOUR,
  filler,
  fillers,
  git,
  gitRepo,
  manyPods,
  nameOf,
  OVER_MAX,
  onWorker4,
  plan,
  planAboveMax,
  planFull,
  planWhileFailing,
  poolDecision,
  poolNote,
  serveForTest,
  tempDir,
  tfvars,
  transcodeJob,
  WORKERS,
} from "./served-plan.ts";

/** The reasons of the plan's proposal at `index`, one per line. */
function reasons(output: PlanJson, index = 0): string {
  return output.proposals[index]?.reasons.join("\n") ?? "";
}

/** Edits the pod's spec in place (init containers, overhead, extra resources). */
function withSpec(raw: Raw, edit: (spec: Raw) => void): Raw {
  edit(raw.spec as Raw);
  return raw;
}

function appContainer(spec: Raw): Raw {
  return (spec.containers as Raw[])[0] as Raw;
}

/** The pod with its app container asking for one GPU (request and limit). */
function askingForGpu(raw: Raw): Raw {
  return withSpec(raw, (spec) => {
    const resources = appContainer(spec).resources as Raw;
    (resources.requests as Raw)["nvidia.com/gpu"] = "1";
    resources.limits = { "nvidia.com/gpu": "1" };
  });
}

/** The config with `text` inserted before the pool's `removal:` block. */
function configBeforeRemoval(text: string, replace: Record<string, string> = {}): string {
  return config({ ...replace, "    removal:": `${text}    removal:` });
}

describe("plan against a served cluster: packing pending pods", () => {
  it("uses free room first, then packs mixed cpu and memory pods first-fit decreasing", async () => {
    const output = await planFull([
      transcodeJob("c2000a", { cpu: "2000m", memory: "1Gi" }),
      transcodeJob("c2000b", { cpu: "2000m", memory: "1Gi" }),
      transcodeJob("c1700a", { cpu: "1700m", memory: "1Gi" }),
      transcodeJob("c1700b", { cpu: "1700m", memory: "1Gi" }),
      transcodeJob("m12gib", { cpu: "200m", memory: "12Gi" }),
      transcodeJob("small1", { cpu: "600m", memory: "1Gi" }),
    ]);
    // Free room: 700m on each worker; small1 takes it. Rest: 7600m cpu > 2 × 3700m → 3 nodes.
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 6 });
    expect(reasons(output)).toMatch(/transcode-29123400-small1 [^\n]*fits on talos-worker-/);
    expect(output.proposals[0]?.triggers).toEqual([
      expect.objectContaining({ kind: "pending-pods", pods: 5, newNodes: 3 }),
    ]);
  });

  it("counts init containers and sidecars in the effective request", async () => {
    const proxy = {
      name: "proxy",
      image: "envoy",
      restartPolicy: "Always",
      resources: { requests: { cpu: "200m", memory: "64Mi" } },
    };
    const initHeavy = withSpec(transcodeJob("init01", { cpu: "100m", memory: "128Mi" }), (spec) => {
      spec.initContainers = [
        { name: "migrate", image: "busybox", resources: { requests: { cpu: "3", memory: "1Gi" } } },
      ];
    });
    const sidecarFits = withSpec(
      transcodeJob("side01", { cpu: "500m", memory: "128Mi" }),
      (spec) => {
        spec.initContainers = [proxy];
      },
    );
    // Regular init after a sidecar: max(100 + 200, 200 + 600) = 800m > 700m free.
    const initAfterSidecar = withSpec(
      transcodeJob("side02", { cpu: "100m", memory: "128Mi" }),
      (spec) => {
        spec.initContainers = [
          proxy,
          { name: "seed", image: "busybox", resources: { requests: { cpu: "600m" } } },
        ];
      },
    );
    const output = await planFull([initHeavy, sidecarFits, initAfterSidecar]);
    // 3000m + 800m > 3700m: two new nodes; side01 (700m) fits existing room.
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
    const text = reasons(output);
    expect(text).toMatch(/transcode-29123400-side01 \(cpu 700m[^\n]*fits on talos-worker/);
    expect(text).toMatch(/transcode-29123400-init01 \(cpu 3,[^\n]*→ new-/);
    expect(text).toMatch(/transcode-29123400-side02 \(cpu 800m[^\n]*→ new-/);
  });

  it("adds the RuntimeClass overhead, so a pod that fits only without it never fits", async () => {
    const kata = withSpec(transcodeJob("kata01", { cpu: "3500m", memory: "1Gi" }), (spec) => {
      spec.runtimeClassName = "kata";
      spec.overhead = { cpu: "250m", memory: "160Mi" };
    });
    const output = await planFull([kata]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/never fits: batch\/transcode-29123400-kata01[^\n]*cpu/);
  });

  it("takes from a new node the DaemonSets on every pool node, not those on some", async () => {
    const daemon = (name: string, cpu: string) => (node: string, i: number) =>
      pod("monitoring", `${name}-${i}abcd`, {
        node,
        owner: { kind: "DaemonSet", name },
        cpu,
        memory: "128Mi",
      });
    const exporter = daemon("gpu-exporter", "500m");
    const output = await plan([
      ...cluster(),
      ...fillers(WORKERS, "2500m"),
      ...WORKERS.map(daemon("promtail", "200m")),
      exporter("talos-worker-1", 0),
      exporter("talos-worker-2", 1),
      transcodeJob("fit350", { cpu: "3500m", memory: "1Gi" }),
      transcodeJob("no3600", { cpu: "3600m", memory: "1Gi" }),
    ]);
    // New node: 3800 - 100 (cilium) - 200 (promtail) = 3500m.
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const text = reasons(output);
    expect(text).toContain("DaemonSets take 300m cpu");
    expect(text).toMatch(/never fits: batch\/transcode-29123400-no3600[^\n]*cpu/);
    expect(text).toMatch(/transcode-29123400-fit350[^\n]*→ new-1/);
  });

  it("places pods tolerating the pool's taint by Exists, Equal without effect or the default operator", async () => {
    const dedicated = { key: "dedicated", value: "media", effect: "NoSchedule" };
    const output = await plan([
      ...cluster(WORKERS, everyWorker({ taints: [dedicated] })),
      ...fillers(),
      transcodeJob("tolall", { tolerations: [{ operator: "Exists" }] }),
      transcodeJob("noeff", {
        tolerations: [{ key: "dedicated", operator: "Equal", value: "media" }],
      }),
      transcodeJob("defop", {
        tolerations: [{ key: "dedicated", value: "media", effect: "NoSchedule" }],
      }),
      transcodeJob("wrong", {
        tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoExecute" }],
      }),
    ]);
    // Tolerating every taint, the first pod also fits the control plane's free room (1850m).
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const text = reasons(output);
    expect(text).toMatch(/never fits: batch\/transcode-29123400-wrong[^\n]*tolerate/);
    expect(text).toMatch(/transcode-29123400-tolall[^\n]*fits on talos-cp-1/);
    for (const name of ["noeff", "defop"])
      expect(text).toMatch(new RegExp(`transcode-29123400-${name}[^\\n]*→ new-`));
  });

  it("adds a node for a pod that does not tolerate the pool's PreferNoSchedule taint", async () => {
    const soft = { key: "homelab.dev/spot", value: "true", effect: "PreferNoSchedule" };
    const output = await plan([
      ...cluster(WORKERS, everyWorker({ taints: [soft] })),
      ...fillers(),
      transcodeJob("soft01"),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });

  it("matches required node affinity with every operator, ORed terms and matchFields", async () => {
    const labels = { "homelab.dev/gen": "3", "topology.kubernetes.io/zone": "pve" };
    const req = (...terms: Raw[]) => ({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms },
        },
      },
    });
    const expression = (key: string, operator: string, values?: string[]) => ({
      matchExpressions: [{ key, operator, ...(values ? { values } : {}) }],
    });
    const field = (operator: string, name: string) => ({
      matchFields: [{ key: "metadata.name", operator, values: [name] }],
    });
    const output = await plan([
      ...cluster(WORKERS, everyWorker({ labels })),
      ...fillers(),
      transcodeJob("gt0001", req(expression("homelab.dev/gen", "Gt", ["2"]))),
      transcodeJob("lt0001", req(expression("homelab.dev/gen", "Lt", ["2"]))),
      transcodeJob("notin1", req(expression("topology.kubernetes.io/zone", "NotIn", ["other"]))),
      transcodeJob("dne001", req(expression("nvidia.com/gpu.present", "DoesNotExist"))),
      transcodeJob(
        "orterm",
        req(
          expression("kubernetes.io/arch", "In", ["arm64"]),
          expression("homelab.dev/gen", "Exists"),
        ),
      ),
      transcodeJob("fldpin", req(field("In", "talos-worker-2"))),
      transcodeJob("fldnot", req(field("NotIn", "talos-worker-1"))),
    ]);
    // gt, notin, dne, orterm, fldnot: five 1500m pods, two per new node → 3.
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 6 });
    const text = reasons(output);
    expect(text).toMatch(/never fits: batch\/transcode-29123400-lt0001[^\n]*affinity/);
    expect(text).toMatch(/never fits: batch\/transcode-29123400-fldpin[^\n]*affinity/);
    for (const name of ["gt0001", "notin1", "dne001", "orterm", "fldnot"])
      expect(text).toMatch(new RegExp(`transcode-29123400-${name}[^\\n]*→ new-`));
  });

  it("adds nodes when the pool's nodes are full by pod count", async () => {
    const allocatable = { cpu: "3800m", memory: "15986572Ki", pods: "4" };
    const tiny = (suffix: string, node?: string) =>
      pod("default", `echo-5d8f7c9b6-${suffix}`, {
        node,
        owner: { kind: "ReplicaSet", name: "echo-5d8f7c9b6" },
        cpu: "10m",
        memory: "16Mi",
        scheduled: unschedulable("Too many pods"),
      });
    const running = WORKERS.flatMap((node, n) => [0, 1, 2].map((i) => tiny(`r${n}${i}xx`, node)));
    const output = await plan([
      ...cluster(WORKERS, everyWorker({ allocatable })),
      ...running,
      tiny("p0xxx"),
      tiny("p1xxx"),
      tiny("p2xxx"),
      tiny("p3xxx"),
    ]);
    // A new node holds 4 pods minus Cilium: 3 → four pending pods need 2.
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
  });

  it("adds no node for pods larger than a node in memory or asking for a GPU the pool lacks", async () => {
    const output = await planFull([
      transcodeJob("mem016", { cpu: "500m", memory: "16Gi" }),
      askingForGpu(transcodeJob("gpu001", { cpu: "500m", memory: "1Gi" })),
    ]);
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toMatch(/never fits: batch\/transcode-29123400-mem016[^\n]*memory/);
    expect(note).toMatch(/never fits: batch\/transcode-29123400-gpu001[^\n]*nvidia.com\/gpu/);
  });

  it("adds no node for a pod asking for more ephemeral storage than a node has", async () => {
    const disk = withSpec(transcodeJob("disk01", { cpu: "500m", memory: "1Gi" }), (spec) => {
      ((appContainer(spec).resources as Raw).requests as Raw)["ephemeral-storage"] = "80Gi";
    });
    const output = await planFull([disk]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/never fits: batch\/transcode-29123400-disk01[^\n]*ephemeral/);
  });

  it("does not add a node for an expendable pending pod", async () => {
    const low = withSpec(transcodeJob("low001"), (spec) => {
      spec.priority = -100;
      spec.priorityClassName = "overprovisioning";
    });
    const output = await planFull([low]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/expendable: batch\/transcode-29123400-low001/);
  });

  it("reads fractional and exponent quantities exactly when packing", async () => {
    const output = await planFull([
      transcodeJob("frac01", { cpu: "1.85", memory: "7.5Gi" }),
      transcodeJob("frac02", { cpu: "1850m", memory: "7680Mi" }),
      transcodeJob("frac03", { cpu: "0.1", memory: "1e8" }),
    ]);
    // frac03 (100m) fits existing room; the two 1.85 pods fill exactly one new node (3700m).
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });

  it("places two pending pods wanting the same host port on different nodes", async () => {
    const exporter = (suffix: string) =>
      transcodeJob(suffix, {
        cpu: "100m",
        memory: "64Mi",
        ports: [{ containerPort: 9999, hostPort: 9999, protocol: "TCP" }],
      });
    const output = await planFull([exporter("port01"), exporter("port02")]);
    // Each worker has 700m free: room alone would put both on talos-worker-1.
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toMatch(/port01 [^\n]*fits on talos-worker-1/);
    expect(note).toMatch(/port02 [^\n]*fits on talos-worker-2/);
  });

  it("puts each pending replica with hostname anti-affinity on a new node of its own", async () => {
    const replica = (suffix: string) =>
      pod("dns", `blocky-5c8d7f6b9-${suffix}`, {
        cpu: "1",
        memory: "256Mi",
        labels: { "app.kubernetes.io/name": "blocky", "pod-template-hash": "5c8d7f6b9" },
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              {
                labelSelector: { matchLabels: { "app.kubernetes.io/name": "blocky" } },
                topologyKey: "kubernetes.io/hostname",
              },
            ],
          },
        },
      });
    const output = await planFull([replica("aaaaa"), replica("bbbbb"), replica("ccccc")]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 6 });
  });

  it("adds a node for a pod waiting for a GPU when the pool's nodes have GPUs", async () => {
    const gpuWorkers = cluster().map((object) => {
      if (object.kind !== "Node" || !String(nameOf(object)).startsWith("talos-worker"))
        return object;
      const status = object.status as Raw;
      (status.allocatable as Raw)["nvidia.com/gpu"] = "1";
      (status.capacity as Raw)["nvidia.com/gpu"] = "1";
      return object;
    });
    const gpuPod = (suffix: string, node?: string) =>
      askingForGpu(
        pod("ai", `ollama-6c5d4e3f2-${suffix}`, {
          node,
          cpu: "500m",
          memory: "2Gi",
          scheduled: unschedulable("Insufficient nvidia.com/gpu"),
        }),
      );
    const output = await plan([
      ...gpuWorkers,
      ...WORKERS.map((node, i) => gpuPod(`run${i}x`, node)),
      gpuPod("pend1"),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });

  it("places a pod selecting a newNode.labels label on a new node", async () => {
    const output = await planFull(
      [transcodeJob("lbl001", { nodeSelector: { "homelab.dev/tier": "burst" } })],
      {
        config: configBeforeRemoval(
          "    newNode:\n      labels:\n        homelab.dev/tier: burst\n",
        ),
      },
    );
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });

  it("does not place a pod on a new node whose newNode.taints it does not tolerate", async () => {
    const output = await planFull([transcodeJob("tnt001")], {
      config: configBeforeRemoval(
        "    newNode:\n      taints:\n        - key: homelab.dev/burst\n          effect: NoSchedule\n",
      ),
    });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/never fits: batch\/transcode-29123400-tnt001[^\n]*taint/);
  });

  const cacheLabels = { "app.kubernetes.io/name": "redis", role: "cache" };
  const besideCache = {
    podAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        {
          labelSelector: { matchLabels: { role: "cache" } },
          topologyKey: "kubernetes.io/hostname",
        },
      ],
    },
  };

  it("adds one node for a pending pod and the pending pod its affinity needs beside it", async () => {
    const output = await planFull([
      pod("web", "immich-server-6c7d8e9f0-ccccc", {
        cpu: "1200m",
        memory: "1Gi",
        affinity: besideCache,
      }),
      pod("web", "immich-redis-5b6c7d8e9-ddddd", {
        cpu: "800m",
        memory: "128Mi",
        labels: cacheLabels,
      }),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(reasons(output)).not.toMatch(/never fits: web\/immich-server/);
  });

  it("adds a second node for an affinity pair when other pending pods fill the first", async () => {
    const output = await planFull([
      transcodeJob("big025", { cpu: "2500m", memory: "1Gi" }),
      pod("web", "immich-server-6c7d8e9f0-eeeee", {
        cpu: "2",
        memory: "1Gi",
        affinity: besideCache,
      }),
      pod("web", "immich-redis-5b6c7d8e9-fffff", {
        cpu: "1",
        memory: "128Mi",
        labels: cacheLabels,
      }),
    ]);
    // big025 on one node; the server needs the cache beside it: 2000m + 1000m on a second.
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
  });

  it("removes a node when a pod and the pod its required affinity needs fit elsewhere together", async () => {
    const output = await planAboveMax(
      pod("web", "immich-server-6c7d8e9f0-aaaaa", {
        node: "talos-worker-4",
        cpu: "800m",
        memory: "1Gi",
        affinity: besideCache,
      }),
      pod("web", "immich-redis-5b6c7d8e9-bbbbb", {
        node: "talos-worker-4",
        cpu: "100m",
        memory: "128Mi",
        labels: cacheLabels,
      }),
    );
    // Both fit on talos-worker-1 (3600m free) together.
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });

  it("counts pod-level resources (spec.resources) as the scheduler does", async () => {
    const podLevel = withSpec(
      transcodeJob("podlvl", { cpu: undefined, memory: undefined }),
      (spec) => {
        appContainer(spec).resources = {};
        spec.resources = { requests: { cpu: "2", memory: "2Gi" } };
      },
    );
    const output = await planFull([podLevel]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });
});

/**
 * CONFIG with the workers pool picked by instance type, and a pool "big" of 8-core nodes
 * counted by big_count, its settings ending with `big`.
 */
function withBigPool(big: string, replace: Record<string, string> = {}): string {
  const byInstanceType = config({
    "    selector:\n      matchExpressions:\n        - key: node-role.kubernetes.io/control-plane\n          operator: DoesNotExist\n":
      "    selector:\n      matchLabels:\n        node.kubernetes.io/instance-type: 4VCPU-16GB\n",
    ...replace,
  });
  return `${byInstanceType}  - name: big
    target:
      file: terraform/terraform.tfvars
      path: big_count
    selector:
      matchLabels:
        node.kubernetes.io/instance-type: 8VCPU-32GB
    min: 0
${big}`;
}

describe("plan against a served cluster: growth triggers and bounds", () => {
  it("adds no node until a pod has been pending scaleUp.pendingFor since PodScheduled turned False", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("wait01")]);
    const files = { config: configBeforeRemoval("    scaleUp:\n      pendingFor: 10m\n") };
    // The pod's PodScheduled condition turned False at 08:00.
    const early = await served.plan(files, "2026-11-20T08:05:00Z");
    expect(early.proposals).toEqual([]);
    expect(poolNote(early)).toMatch(
      /waited less than 10m \(scaleUp\.pendingFor\); nodes are added for it from 2026-11-20 08:10 UTC/,
    );
    const late = await served.plan(files, "2026-11-20T08:15:00Z");
    expect(late.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });

  it("gives a pod only the second pool can take to the second pool, in file order", async () => {
    const big = worker("talos-big-1", {
      labels: { "node.kubernetes.io/instance-type": "8VCPU-32GB" },
      allocatable: { cpu: "7800m", memory: "32567188Ki", pods: "110" },
    });
    const output = await plan(
      [
        ...cluster(),
        big,
        ciliumAgent("talos-big-1", 7),
        freshNodeMetrics("talos-big-1", "1", "4Gi"),
        ...fillers(),
        filler("talos-big-1", 7, "7"),
        transcodeJob("big001", { cpu: "6", memory: "8Gi" }),
        transcodeJob("sml001", { cpu: "1500m", memory: "1Gi" }),
      ],
      { tfvars: `${TFVARS}big_count         = 1\n`, config: withBigPool("    max: 3\n") },
    );
    const byPool = Object.fromEntries(output.proposals.map((p) => [p.pool, p]));
    expect(byPool.workers).toMatchObject({ from: 3, to: 4 });
    expect(byPool.big).toMatchObject({
      from: 1,
      to: 2,
      changes: [{ file: "terraform/terraform.tfvars", path: "big_count", before: 1, after: 2 }],
    });
    expect(byPool.big?.reasons.join("\n")).toContain("transcode-29123400-big001");
    expect(byPool.big?.reasons.join("\n")).not.toMatch(/sml001[^\n]*→ new/);
  });

  it("adds the first node of an empty pool from its configured newNode shape", async () => {
    const output = await planFull(
      [
        transcodeJob("big002", {
          cpu: "6",
          memory: "8Gi",
          nodeSelector: { "node.kubernetes.io/instance-type": "8VCPU-32GB" },
        }),
      ],
      {
        tfvars: `${TFVARS}big_count         = 0\n`,
        config: withBigPool('    max: 2\n    newNode:\n      cpu: "7800m"\n      memory: 31Gi\n', {
          "    removal:\n      nameTemplate: talos-worker-{index}\n      indexBase: 1\n": "",
        }),
      },
    );
    expect(output.proposals).toHaveLength(1);
    expect(output.proposals[0]).toMatchObject({ pool: "big", from: 0, to: 1 });
  });

  it("adds no node beyond a host cap computed from host memory, and says so", async () => {
    const host =
      "    host:\n      memory: 64Gi\n      reserved:\n        memory: 8Gi\n      node:\n        memory: 16Gi\n";
    const output = await planFull([transcodeJob("cap001")], {
      config: configBeforeRemoval(host),
    });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/wanted 4 nodes, the host cap allows 3/);
  });

  it("warns when usage asks for more nodes than the max or the host cap allows", async () => {
    // cpu at 97 % (3700m of 3800m used on each worker) wants a fourth worker; requests at 95 %
    // (3500m fillers and Cilium's 100m of 3800m) want one under scaleUp.requests: 90.
    const hot = [...cluster(WORKERS, {}, { cpu: "3700m", memory: "4Gi" }), ...fillers()];
    const cases: [Raw[], string, string][] = [
      [hot, "    scaleUp:\n      window: 0s\n", "the max allows 3"],
      [
        hot,
        "    host:\n      maxNodes: 3\n    scaleUp:\n      window: 0s\n",
        "the host cap allows 3",
      ],
      [
        [...cluster(), ...fillers(WORKERS, "3500m")],
        "    scaleUp:\n      requests: 90\n",
        "the max allows 3",
      ],
    ];
    for (const [objects, text, allows] of cases) {
      const output = await plan(objects, {
        config: configBeforeRemoval(text, allows.includes("host") ? {} : { "max: 6": "max: 3" }),
      });
      expect(output.proposals).toEqual([]);
      const note = output.notes.find((entry) => entry.subject === "pool/workers");
      expect(note?.message).toContain(`\n  hold: wanted 4 nodes, ${allows}\n`);
      // The pool is saturated at its bound, as cluster-autoscaler's "max node group size
      // reached": only a person raising the bound lets it grow.
      expect(note?.level).toBe("warning");
    }
  });

  it("warns when a raise stops at the max or the host cap short of what usage asks for", async () => {
    // Two workers: cpu at 100 % (3790m of 3800m used) over scaleUp.cpu: 50 wants two more;
    // requests at 95 % (3500m fillers and Cilium's 100m of 3800m) over scaleUp.requests: 60
    // want two more too. The bound of 3 lets one in.
    const two = WORKERS.slice(0, 2);
    const hot = [...cluster(two, {}, { cpu: "3790m", memory: "4Gi" }), ...fillers(two)];
    const requested = [...cluster(two), ...fillers(two, "3500m")];
    const cases: [Raw[], string, string][] = [
      [hot, "    scaleUp:\n      window: 0s\n      cpu: 50\n", "max"],
      [
        hot,
        "    host:\n      maxNodes: 3\n    scaleUp:\n      window: 0s\n      cpu: 50\n",
        "host cap",
      ],
      [requested, "    scaleUp:\n      requests: 60\n", "max"],
    ];
    for (const [objects, text, bound] of cases) {
      const output = await plan(objects, {
        tfvars: tfvars(2),
        config: configBeforeRemoval(text, bound === "max" ? { "max: 6": "max: 3" } : {}),
      });
      expect(output.proposals[0]).toMatchObject({ from: 2, to: 3 });
      expect(reasons(output)).toContain(`\n  hold: wanted 4 nodes, the ${bound} allows 3\n`);
      // Once the change is made the pool is at its bound with usage still asking for more, as
      // with no change: one warning, whatever the triggers, and none for pods.
      expect(output.notes).toEqual([
        expect.objectContaining({
          level: "warning",
          subject: "pool/workers",
          message: `scale up 2 → 3 stops at the ${bound}: wanted 4 nodes, the ${bound} allows 3`,
          holds: [
            { kind: "at-max", wanted: 4, allowed: 3, bound: bound === "max" ? "max" : "host-cap" },
          ],
        }),
      ]);
    }
  });

  it("notes no bound when the raise reaches what usage asks for", async () => {
    const two = WORKERS.slice(0, 2);
    const output = await plan([...cluster(two), ...fillers(two, "3500m")], {
      tfvars: tfvars(2),
      config: configBeforeRemoval("    scaleUp:\n      requests: 60\n"),
    });
    expect(output.proposals[0]).toMatchObject({ from: 2, to: 4 });
    expect(output.notes).toEqual([]);
  });

  it("adds the larger of the nodes min asks for and the nodes pending pods need", async () => {
    const output = await planFull(
      [transcodeJob("a00001"), transcodeJob("a00002"), transcodeJob("a00003")],
      { config: config({ "min: 1": "min: 4" }) },
    );
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
  });

  it("scales up on utilisation when scaleUp.window is 0s, and not with the default window", async () => {
    const hot = cluster(WORKERS, {}, { cpu: "3400m", memory: "4Gi" });
    const served = await serveForTest([...hot, ...fillers()]);
    const zero = await served.plan({
      config: configBeforeRemoval("    scaleUp:\n      window: 0s\n"),
    });
    expect(zero.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(zero.proposals[0]?.triggers).toEqual([
      expect.objectContaining({ kind: "utilisation", resource: "cpu", newNodes: 1 }),
    ]);
    const windowed = await served.plan();
    expect(windowed.proposals).toEqual([]);
  });

  it("removes a node on metrics-server's usage when unneededTime is 0, and not with the default", async () => {
    const served = await serveForTest([...cluster(), ...apps(WORKERS)]);
    const zero = await served.plan({
      config: configBeforeRemoval("    scaleDown:\n      unneededTime: 0\n"),
    });
    expect(zero.proposals[0]).toMatchObject({ from: 3, to: 2 });
    expect(reasons(zero)).toMatch(/cpu < 30 % for 0s: met/);
    const windowed = await served.plan();
    expect(windowed.proposals).toEqual([]);
  });

  it("scales up when requests exceed scaleUp.requests", async () => {
    const output = await plan([...cluster(), ...fillers(WORKERS, "3500m")], {
      config: configBeforeRemoval("    scaleUp:\n      requests: 90\n"),
    });
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(output.proposals[0]?.triggers).toEqual([
      expect.objectContaining({ kind: "requests", resource: "cpu" }),
    ]);
  });
});

describe("plan against a served cluster: schedule windows", () => {
  const window = (cron: string, timezone: string, duration: string) =>
    configBeforeRemoval(`    schedules:
      - name: window
        cron: "${cron}"
        timezone: ${timezone}
        duration: ${duration}
        min: 4
`);

  it("never raises the min above the host cap", async () => {
    const schedule = `    host:
      maxNodes: 4
    schedules:
      - cron: "0 0 * * *"
        duration: 24h
        min: 6
`;
    const output = await plan(cluster(), { config: configBeforeRemoval(schedule) });
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });

  it.each([
    // Friday 22:30 EST is Saturday 03:30 UTC; Friday 21:30 EST is before the window.
    [
      "on New York's wall clock when UTC is already the next day",
      window("0 22 * * 5", "America/New_York", "4h"),
      "2026-11-28T03:30:00Z",
      "2026-11-28T02:30:00Z",
    ],
    [
      "at its cron time and closes it when its duration ends",
      window("0 18 * * 5", "Europe/Berlin", "6h"),
      "2026-11-27T17:00:00Z",
      "2026-11-27T23:00:00Z",
    ],
  ])("opens a window %s", async (_, schedule, openAt, closedAt) => {
    const served = await serveForTest(cluster());
    const open = await served.plan({ config: schedule }, openAt);
    expect(open.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const closed = await served.plan({ config: schedule }, closedAt);
    expect(closed.proposals).toEqual([]);
  });

  it.each([
    // The 13th of each month, or any Friday: Friday 2026-11-27 18:30 UTC is inside.
    [
      "when either day-of-month or day-of-week matches, as cron does",
      window("0 18 13 * 5", "UTC", "2h"),
      "2026-11-27T18:30:00Z",
    ],
    // Berlin skips 02:00–03:00 on 2027-03-28; 02:30 runs at 03:00 CEST = 01:00 UTC.
    [
      "whose time falls in the skipped DST hour at the first time after it",
      window("30 2 * * *", "Europe/Berlin", "1h"),
      "2027-03-28T01:10:00Z",
    ],
  ])("opens a window %s", async (_, schedule, now) => {
    const output = await plan(cluster(), { config: schedule }, now);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });
});

/** A PDB selecting its pods by `selector` as given (matchExpressions, or empty for all). */
function pdbWith(namespace: string, name: string, selector: Raw, allowed: number): Raw {
  const base = pdb(namespace, name, {}, allowed);
  (base.spec as Raw).selector = selector;
  return base;
}

/** The zigbee2mqtt StatefulSet pod on talos-worker-4 with its data on the claim `claim`. */
function zigbee(claim: string): Raw {
  return pod("home", "zigbee2mqtt-0", {
    ...onWorker4,
    owner: { kind: "StatefulSet", name: "zigbee2mqtt" },
    volumes: [{ name: "data", persistentVolumeClaim: { claimName: claim } }],
  });
}

/** A claim bound to the volume `volume`. */
function pvc(namespace: string, name: string, volume: string): Raw {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "1Gi" } },
      storageClassName: "standard",
      volumeMode: "Filesystem",
      volumeName: volume,
    },
    status: { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: "1Gi" } },
  };
}

/** A bound volume whose storage is `source` (local with node affinity, nfs, …). */
function pv(name: string, source: Raw): Raw {
  return persistentVolume(name, {
    capacity: { storage: "1Gi" },
    storageClassName: "standard",
    volumeMode: "Filesystem",
    ...source,
  });
}

describe("plan against a served cluster: removing a node above max", () => {
  it("keeps the node when a PDB selecting by matchExpressions allows no disruption", async () => {
    const output = await planAboveMax(
      pod("home", "mosquitto-0", {
        ...onWorker4,
        owner: { kind: "StatefulSet", name: "mosquitto" },
        labels: { "app.kubernetes.io/name": "mosquitto", tier: "broker" },
      }),
      pdbWith(
        "home",
        "brokers",
        { matchExpressions: [{ key: "tier", operator: "In", values: ["broker", "queue"] }] },
        0,
      ),
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/home\/mosquitto-0: PDB home\/brokers allows 0/);
  });

  it("keeps the node when a PDB allows fewer disruptions than its pods on the node", async () => {
    const replica = (suffix: string) =>
      pod("web", `nextcloud-6f7d8c9b5-${suffix}`, {
        ...onWorker4,
        labels: { "app.kubernetes.io/name": "nextcloud" },
      });
    const output = await planAboveMax(
      replica("aaaaa"),
      replica("bbbbb"),
      pdb("web", "nextcloud", { "app.kubernetes.io/name": "nextcloud" }, 1),
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/PDB web\/nextcloud allows 1 disruption, 2 of its pods/);
  });

  it("removes the node when only a PDB of another namespace selects its pod's labels", async () => {
    const output = await planAboveMax(
      pod("web", "nextcloud-6f7d8c9b5-ccccc", {
        ...onWorker4,
        labels: { "app.kubernetes.io/name": "nextcloud" },
      }),
      pdb("other", "nextcloud", { "app.kubernetes.io/name": "nextcloud" }, 0),
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });

  it("keeps the node when a PDB with an empty selector covers every pod of its namespace", async () => {
    const output = await planAboveMax(
      pod("home", "esphome-5c6d7e8f9-ddddd", onWorker4),
      pdbWith("home", "everything", {}, 0),
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/home\/esphome-5c6d7e8f9-ddddd: PDB home\/everything/);
  });

  it("keeps the node for a pod of a custom controller, unless scaleDown.replicatedKinds names it", async () => {
    // A CloudNativePG instance, as the operator makes it: its Cluster is its controller.
    const instance = pod("db", "main-2", {
      ...onWorker4,
      ownerReferences: [
        {
          apiVersion: "postgresql.cnpg.io/v1",
          kind: "Cluster",
          name: "main",
          uid: "3f9c2a71-5b8e-4d0a-9c61-2e7f4b8a1d53",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    const kept = await planAboveMax(instance);
    expect(kept.proposals).toEqual([]);
    expect(poolNote(kept)).toContain(
      "db/main-2: its controller Cluster main is not one Kubernetes ships, and may not recreate it elsewhere (name Cluster.postgresql.cnpg.io in scaleDown.replicatedKinds if it does)",
    );
    const note = kept.notes.find((entry) => entry.subject === "pool/workers");
    const blockers = (note?.decision as { blockers: Raw[] } | undefined)?.blockers;
    expect(blockers?.find((entry) => entry.node === "talos-worker-4")).toEqual({
      node: "talos-worker-4",
      blockers: [
        {
          kind: "custom-controller",
          pod: "db/main-2",
          owner: { kind: "Cluster", name: "main", group: "postgresql.cnpg.io" },
        },
      ],
    });
    const replicated = (kinds: string) =>
      plan([...cluster(FOUR), ...apps(), instance], {
        tfvars: tfvars(4),
        config: config({ "max: 6": `max: 3\n    scaleDown:\n      replicatedKinds: ${kinds}` }),
      });
    expect((await replicated("[Cluster]")).proposals[0]).toMatchObject({ from: 4, to: 3 });
    // Named with its API group, as its ownerReference's apiVersion gives it.
    const grouped = await replicated("[Cluster.postgresql.cnpg.io]");
    expect(grouped.proposals[0]).toMatchObject({ from: 4, to: 3 });
    // Another operator's Cluster is not this one.
    expect((await replicated("[Cluster.mysql.example.com]")).proposals).toEqual([]);
  });

  it('removes the node when safe-to-evict: "true" lifts emptyDir and bare-pod blockers', async () => {
    const safe = { "cluster-autoscaler.kubernetes.io/safe-to-evict": "true" };
    const output = await planAboveMax(
      pod("media", "tautulli-6b7f9d8c5-k2x9p", {
        ...onWorker4,
        annotations: safe,
        volumes: [{ emptyDir: {}, name: "cache" }],
      }),
      pod("default", "debug-shell", { ...onWorker4, owner: null, annotations: safe }),
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });

  it("keeps the node for a claim bound to a node-local PV, not for one bound to NFS", async () => {
    const localPv = pv("pvc-local-1", {
      local: { path: "/var/mnt/local/zigbee" },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: "kubernetes.io/hostname", operator: "In", values: ["talos-worker-4"] },
              ],
            },
          ],
        },
      },
    });
    const nfsPv = pv("pvc-nfs-1", { nfs: { server: "192.168.50.5", path: "/export/zigbee" } });
    const local = await planAboveMax(
      zigbee("data-local"),
      pvc("home", "data-local", "pvc-local-1"),
      localPv,
    );
    expect(local.proposals).toEqual([]);
    expect(poolNote(local)).toMatch(/home\/zigbee2mqtt-0: local storage data \(local\)/);
    const nfs = await planAboveMax(zigbee("data-nfs"), pvc("home", "data-nfs", "pvc-nfs-1"), nfsPv);
    expect(nfs.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });

  it("keeps the node when its pods do not fit on the others", async () => {
    const output = await plan(
      [
        ...cluster(FOUR),
        ...fillers(),
        pod("media", "tdarr-server-6d8c7f5b49-big01", {
          node: "talos-worker-4",
          cpu: "3",
          memory: "2Gi",
        }),
      ],
      OVER_MAX,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(
      /pods? of talos-worker-4 fits? on the other nodes: not met \(no room for media\/tdarr-server-6d8c7f5b49-big01: it needs more cpu than any other node of the pool has free\)/,
    );
  });

  it("keeps the node when a pod is pinned to it by nodeSelector", async () => {
    const output = await planAboveMax(
      pod("home", "usb-proxy-7b8c9d6f5-pin01", {
        ...onWorker4,
        nodeSelector: { "kubernetes.io/hostname": "talos-worker-4" },
      }),
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "(home/usb-proxy-7b8c9d6f5-pin01: its nodeSelector matches none of the nodes with room)",
    );
  });

  it("keeps the node whose room a pending pod is counted on", async () => {
    const output = await plan(
      [
        ...cluster(FOUR),
        ...fillers(),
        // talos-worker-4 has 3700m free; the pending pod fits only there.
        transcodeJob("room04", { cpu: "2", memory: "1Gi" }),
      ],
      OVER_MAX,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/room04[^\n]*fits on talos-worker-4/);
    expect(poolNote(output)).toMatch(/fit on the other nodes: not met/);
  });

  it("removes the node at index count - 1 when indexBase is 0", async () => {
    const zeroBased = ["talos-worker-0", "talos-worker-1", "talos-worker-2", "talos-worker-3"];
    const output = await plan([...cluster(zeroBased), ...apps(zeroBased)], {
      tfvars: tfvars(4),
      config: config({ "max: 6": "max: 3", "indexBase: 1": "indexBase: 0" }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(reasons(output)).toContain("removing talos-worker-3");
  });

  it("without a removal template removes the node with the highest number, compared as numbers", async () => {
    // Compared as text, worker-9 would come last.
    const names = ["worker-8", "worker-9", "worker-10"];
    const output = await plan([...cluster(names), ...apps(names)], {
      tfvars: tfvars(3),
      config: config({
        "max: 6": "max: 2",
        "    removal:\n      nameTemplate: talos-worker-{index}\n      indexBase: 1\n": "",
      }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 2 });
    expect(reasons(output)).toContain("removing worker-10");
  });

  it("removes both nodes above max in one plan when usage gives no evidence", async () => {
    const five = [...FOUR, "talos-worker-5"];
    const output = await plan([...cluster(five), ...apps(WORKERS)], {
      tfvars: tfvars(5),
      config: config({ "max: 6": "max: 3" }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 5, to: 3 });
    expect(reasons(output)).toContain("removing talos-worker-5, talos-worker-4");
  });

  it("removes a node above max even when a node's usage is unknown", async () => {
    const objects = [...cluster(FOUR), ...apps()].filter(
      (object) => !(object.kind === "NodeMetrics" && nameOf(object) === "talos-worker-2"),
    );
    const output = await plan(objects, OVER_MAX);
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });

  it("removes the node when only Job, finished or expendable pods are on it", async () => {
    const low = withSpec(pod("default", "balloon-7d6c5b4a3-exp01", onWorker4), (spec) => {
      spec.priority = -100;
    });
    const output = await planAboveMax(
      pod("batch", "backup-29123400-jjjjj", {
        ...onWorker4,
        owner: { kind: "Job", name: "backup-29123400" },
      }),
      pod("batch", "report-29123300-fffff", {
        ...onWorker4,
        owner: { kind: "Job", name: "report-29123300" },
        phase: "Succeeded",
        volumes: [{ emptyDir: {}, name: "scratch" }],
      }),
      low,
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });

  it('keeps the node for an expendable pod the drain would not evict (safe-to-evict: "false")', async () => {
    const low = withSpec(
      pod("default", "balloon-7d6c5b4a3-exp02", {
        ...onWorker4,
        annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" },
      }),
      (spec) => {
        spec.priority = -100;
      },
    );
    const output = await planAboveMax(low);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/default\/balloon-7d6c5b4a3-exp02: safe-to-evict/);
  });

  it('removes a node whose scale-down-disabled annotation is "false"', async () => {
    const output = await plan(
      [
        ...cluster(FOUR, {
          "talos-worker-4": {
            annotations: { "cluster-autoscaler.kubernetes.io/scale-down-disabled": "false" },
          },
        }),
        ...apps(),
      ],
      OVER_MAX,
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });

  it("removes a cordoned highest-index node above max", async () => {
    const output = await plan(
      [...cluster(FOUR, { "talos-worker-4": { unschedulable: true } }), ...apps()],
      OVER_MAX,
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });

  it("removes one node when the count is above the host cap, naming the host cap", async () => {
    const output = await plan([...cluster(FOUR), ...apps()], {
      tfvars: tfvars(4),
      config: configBeforeRemoval("    host:\n      maxNodes: 3\n"),
    });
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(reasons(output)).toMatch(/above the host cap of 3/);
  });

  it("removes no node with scaleDown.enabled false, even above max", async () => {
    const output = await plan([...cluster(FOUR), ...apps()], {
      tfvars: tfvars(4),
      config: configBeforeRemoval("    scaleDown:\n      enabled: false\n", { "max: 6": "max: 3" }),
    });
    expect(output.proposals).toEqual([]);
  });

  it("removes no node while a pod waits out scaleUp.pendingFor, even above max", async () => {
    const output = await plan(
      [...cluster(FOUR), ...fillers(FOUR), transcodeJob("wait02")],
      {
        tfvars: tfvars(4),
        config: configBeforeRemoval("    scaleUp:\n      pendingFor: 10m\n", {
          "max: 6": "max: 3",
        }),
      },
      "2026-11-20T08:05:00Z",
    );
    expect(output.proposals).toEqual([]);
  });
});

describe("plan against a served cluster: failing lists and unknown usage", () => {
  it("takes no action when the PDB list is forbidden", async () => {
    const output = await planWhileFailing([...cluster(), ...fillers(), transcodeJob("pdb403")], {
      path: "/apis/policy/v1/poddisruptionbudgets",
      status: 403,
    });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/incomplete/);
  });

  it("still adds a node when only the HPA and VPA lists fail, which no node decision reads", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("vpa500")]);
    for (const path of [
      "/apis/autoscaling.k8s.io/v1/verticalpodautoscalers",
      "/apis/autoscaling/v2/horizontalpodautoscalers",
    ])
      served.fake.injectFault({ path, status: 500, times: Number.POSITIVE_INFINITY });
    const run = await served.run(["--json"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /^warning: verticalpodautoscalers: [^\n]*HTTP 500[^\n]*\[list-failed\]$/m,
    );
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4, holds: [] });
    // The PDB list is one a removal rests on: its failure still holds the pool.
    served.fake.injectFault({
      path: "/apis/policy/v1/poddisruptionbudgets",
      status: 500,
      times: Number.POSITIVE_INFINITY,
    });
    const held = JSON.parse((await served.run(["--json"])).stdout) as PlanJson;
    expect(held.proposals).toEqual([]);
    expect(poolNote(held)).toMatch(
      /incomplete \(poddisruptionbudgets: [^\n]*HTTP 500[^\n]*\); no action/,
    );
    expect(poolNote(held)).not.toContain("verticalpodautoscalers");
  });

  it("names each list a 404 answered once in its warning, with what was answered", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("api404")]);
    // A server without the VPA CRD or policy/v1 answers 404 for the group's discovery as well.
    served.fake.uninstall("autoscaling.k8s.io");
    served.fake.uninstall("policy");
    served.fake.injectFault({
      path: "/api/v1/namespaces",
      status: 404,
      reason: "NotFound",
      times: Number.POSITIVE_INFINITY,
    });
    const run = await served.run(["--json"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /^warning: verticalpodautoscalers: autoscaling\.k8s\.io\/v1 is not served by this cluster \(404\)[^\n]*; none are considered \[vpa-not-installed\]$/m,
    );
    expect(run.stderr).toMatch(
      /^warning: poddisruptionbudgets: policy\/v1 is not served by this cluster \(404\); none are considered \[pdb-api-missing\]$/m,
    );
    // The core API is served by every API server: the 404 is said as it came.
    expect(run.stderr).toContain(
      "warning: namespaces: the API server answered 404 for /api/v1/namespaces; no pod (anti-)affinity term selects namespaces by their labels, so no decision rests on it [namespaces-unknown]\n",
    );
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });

  it("takes no action when the PV list fails while a pod has a claim, as local storage is then unknown", async () => {
    const nfs = pv("pvc-nfs-1", { nfs: { server: "192.168.50.5", path: "/export/zigbee" } });
    const failing = { path: "/api/v1/persistentvolumes", status: 500 };
    const objects = [...cluster(FOUR), ...apps(["talos-worker-1"])];
    const claimed = [zigbee("data-nfs"), pvc("home", "data-nfs", "pvc-nfs-1"), nfs];
    const output = await planWhileFailing([...objects, ...claimed], failing, OVER_MAX);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/incomplete \(persistentvolumes: /);
    // With no claim anywhere, no decision rests on the volumes: a 403 or 500 holds nothing.
    const served = await serveForTest(objects);
    served.fake.injectFault({ ...failing, status: 403, times: Number.POSITIVE_INFINITY });
    const run = await served.run(["--json"], OVER_MAX);
    expect(run.stderr).toMatch(
      /^warning: persistentvolumes: [^\n]*HTTP 403[^\n]*\[volumes-unknown\]$/m,
    );
    expect((JSON.parse(run.stdout) as PlanJson).proposals[0]).toMatchObject({ from: 4, to: 3 });
  });

  it("takes no action when a later page of pods keeps failing", async () => {
    const output = await planWhileFailing(
      [...cluster(), ...fillers(), ...manyPods(700), transcodeJob("page01")],
      { path: "/api/v1/pods", continued: true, status: 500 },
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/incomplete/);
  });

  it("exits 1 rather than count a node or pod twice when a lone page names it twice", async () => {
    // Four workers where the repo allows three: talos-worker-4 would go. A list holding
    // talos-worker-1 twice would count its room twice, one holding a pod twice its request
    // twice. Neither is a list the API server writes, and neither is planned on.
    const objects = [...cluster(FOUR), ...apps()];
    const ofKind = (kind: string) => objects.filter((object) => object.kind === kind);
    const repeating = (kind: string, again: Raw) =>
      JSON.stringify({
        kind: `${kind}List`,
        apiVersion: "v1",
        metadata: { resourceVersion: "5" },
        items: [...ofKind(kind), again],
      });
    const node = ofKind("Node").find((object) => nameOf(object) === "talos-worker-1") as Raw;
    const app = ofKind("Pod").find((object) => nameOf(object) === "echo-server-5d8f7c9b6-ap1xx");
    const cases = [
      {
        path: "/api/v1/nodes",
        body: repeating("Node", node),
        what: "nodes",
        twice: "talos-worker-1",
      },
      {
        path: "/api/v1/pods",
        body: repeating("Pod", app as Raw),
        what: "pods",
        twice: "default/echo-server-5d8f7c9b6-ap1xx",
      },
    ];
    for (const { path, body, what, twice } of cases) {
      const served = await serveForTest(objects);
      served.fake.injectFault({ path, status: 200, body, times: Number.POSITIVE_INFINITY });
      const run = await served.run(["--json"], OVER_MAX);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(`cannot list ${what}`);
      expect(run.stderr).toContain(`the list is inconsistent: ${twice} appears twice`);
    }
  });

  it("removes no Ready node for low usage while a pod is bound to a node the cluster does not list", async () => {
    // talos-worker-9's Node object is gone (deleted with its VM) while its pods are still
    // listed: the pod garbage collector deletes them, and the ReplicaSet makes its pod again,
    // needing 3 cores somewhere. A bare pod there is not made again and holds nothing.
    const orphan = (name: string, owner: PodOptions["owner"]) =>
      pod("default", name, { node: "talos-worker-9", owner, cpu: "3", memory: "1Gi" });
    const objects = [...cluster(FOUR), ...apps()];
    const ghost = orphan("ghost-5d8f7c9b6-gh0st", { kind: "ReplicaSet", name: "ghost-5d8f7c9b6" });
    // Judged on metrics-server's sample (unneededTime 0): quiet, the pool would lose a node.
    const quiet = {
      tfvars: tfvars(4),
      config: config({ "    removal:": "    scaleDown:\n      unneededTime: 0\n    removal:" }),
    };
    expect((await plan(objects, quiet)).proposals[0]).toMatchObject({ from: 4, to: 3 });
    const held = await plan([...objects, ghost], quiet);
    expect(held.proposals).toEqual([]);
    expect(poolNote(held)).toContain(
      "hold: 1 pod is bound to talos-worker-9, which the cluster does not list (deleted, or joined after the nodes were read): made again once deleted, it needs room, so no Ready node is removed meanwhile",
    );
    const served = await serveForTest([...objects, orphan("debug-shell", null)]);
    const bare = await served.run(["--json"], quiet);
    expect((JSON.parse(bare.stdout) as PlanJson).proposals[0]).toMatchObject({
      from: 4,
      to: 3,
      direction: "down",
    });
    // Either way, the read says which pod is on a node it did not find.
    expect(bare.stderr).toContain(
      "warning: pod/default/debug-shell: bound to node talos-worker-9, which the node list does not hold (deleted, or joined after the nodes were read); its requests are on no node [pod-node-missing]",
    );
  });

  it("brings a count above the max down to it while a pod is bound to a node the cluster does not list", async () => {
    // As pending pods do not keep a count above the max, the pod made again off talos-worker-9
    // does not: the count comes down to the max of 3 (it waits there if it finds no room).
    const ghost = pod("default", "ghost-5d8f7c9b6-gh0st", {
      node: "talos-worker-9",
      owner: { kind: "ReplicaSet", name: "ghost-5d8f7c9b6" },
      cpu: "3",
      memory: "1Gi",
    });
    const output = await planAboveMax(ghost);
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down" });
    expect(reasons(output)).toContain("count 4 is above the max of 3");
    expect(reasons(output)).not.toContain("bound to talos-worker-9");
  });

  it("brings a count above the max down to it while another node is not Ready", async () => {
    // talos-worker-2 stopped posting status hours ago; Terraform's count destroys talos-worker-4.
    // Its pods will need room, but the count comes down to the max of 3 whatever asks for room,
    // as for pending pods: only a decrease beyond it would wait for them.
    const objects = [...cluster(FOUR, { "talos-worker-2": { ready: false } }), ...apps()];
    const output = await plan(objects, OVER_MAX);
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down" });
    expect(reasons(output)).toContain("scale down 4 → 3, removing talos-worker-4");
    expect(reasons(output)).not.toContain("no Ready node is removed");
  });

  it("retries a transient 500 on the pods list and then plans", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("r50001")]);
    served.fake.injectFault({ path: "/api/v1/pods", status: 500, times: 1 });
    const output = await served.plan();
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });

  it("still adds nodes for pending pods when one node has no metrics, calling usage unknown", async () => {
    const objects = [...cluster(), ...fillers(), transcodeJob("nomet1")].filter(
      (object) => !(object.kind === "NodeMetrics" && nameOf(object) === "talos-worker-2"),
    );
    const output = await plan(objects);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(reasons(output)).toMatch(/unknown/);
  });

  it("takes a resource missing from a node's sample as unknown, and says which", async () => {
    // Four light workers and unneededTime 0: only the missing memory of talos-worker-2 stands
    // between the pool and a removal on usage.
    const objects = [...cluster(FOUR), ...apps()].map((object) =>
      object.kind === "NodeMetrics" && nameOf(object) === "talos-worker-2"
        ? { ...object, usage: { cpu: (object.usage as Raw).cpu } }
        : object,
    );
    const served = await serveForTest(objects);
    const run = await served.run(["--json"], {
      tfvars: tfvars(4),
      config: configBeforeRemoval("    scaleDown:\n      unneededTime: 0s\n"),
    });
    expect(run.stderr).toContain(
      "warning: node/talos-worker-2: usage.memory is missing from the sample; memory usage treated as unknown [metrics-invalid]",
    );
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain("hold: memory usage unknown on talos-worker-2");
  });

  it("takes metrics older than 5 minutes as unknown and scales up on none", async () => {
    const objects = cluster(WORKERS, {}, { cpu: "3400m", memory: "4Gi" }).map((object) =>
      object.kind === "NodeMetrics"
        ? { ...object, timestamp: new Date(Date.now() - 20 * 60_000).toISOString() }
        : object,
    );
    const output = await plan([...objects, ...fillers()], {
      config: configBeforeRemoval("    scaleUp:\n      window: 0s\n"),
    });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/usage unknown/);
  });

  it("plans around 1 of 3 nodes not Ready for long (below maxUnready): adds a node for a pending pod", async () => {
    const output = await plan([
      ...cluster(WORKERS, { "talos-worker-3": { ready: false } }),
      ...fillers(),
      transcodeJob("nrdy01"),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4, direction: "up" });
    expect(output.proposals[0]?.holds).toEqual([]);
    expect(reasons(output)).toContain("nodes: 3 in the pool, 2 Ready; not Ready: talos-worker-3");
  });
});

describe("plan against a served cluster: output and errors", () => {
  it("prints the headline and the diff as text without --json", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("text01")]);
    const run = await served.run([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("pool/workers: scale up 3 → 4 nodes");
    expect(run.stdout).toMatch(/^-worker_count {6}= 3$/m);
    expect(run.stdout).toMatch(/^\+worker_count {6}= 4$/m);
  });

  it("prints one JSON document: proposals with their key, change and reasons, and notes", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("json01")]);
    const run = await served.run(["--json"]);
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(Object.keys(output)).toEqual(["proposals", "notes"]);
    expect(output.proposals).toHaveLength(1);
    expect(output.proposals[0]).toMatchObject({
      key: "nodes-workers",
      triggers: [expect.objectContaining({ kind: "pending-pods" })],
      holds: [],
    });
    expect(output.proposals[0]?.reasons.every((line) => typeof line === "string")).toBe(true);
    for (const note of output.notes) expect(typeof note.message).toBe("string");
  });

  it("refuses a bad config with every error at its file:line:column, exit 2", async () => {
    const served = await serveForTest(cluster());
    const bad = config({ "min: 1": 'min: "2"', "max: 6": "max: 6\n    cooldwn: 5m" });
    const run = await served.run(["--json"], { config: bad });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/\.github\/pr-autoscaler\.yml:\d+:\d+: pools\[0\]\.min/);
    expect(run.stderr).toMatch(
      /\.github\/pr-autoscaler\.yml:\d+:\d+: pools\[0\]\.cooldwn[^\n]*cooldown/,
    );
    expect(run.stdout).toBe("");
  });

  it("refuses a config that is not valid YAML, naming its line", async () => {
    const served = await serveForTest(cluster());
    const run = await served.run(["--json"], {
      config: CONFIG.replace("    min: 1\n", "    min: 1\n   max: [6\n"),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/\.github\/pr-autoscaler\.yml:\d+(:\d+)?:/);
  });

  it("refuses an unknown schedule time zone, naming its line", async () => {
    const served = await serveForTest(cluster());
    const run = await served.run(["--json"], {
      config: configBeforeRemoval(
        '    schedules:\n      - cron: "0 18 * * 5"\n        timezone: Europe/Berlim\n        duration: 6h\n        min: 4\n',
      ),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /\.github\/pr-autoscaler\.yml:\d+:\d+: pools\[0\]\.schedules\[0\]\.timezone/,
    );
  });

  it("names the --config file in its errors", async () => {
    const served = await serveForTest(cluster());
    const file = join(tempDir(), "alt.yml");
    writeFileSync(file, config({ "max: 6": "max: -1" }));
    const run = await served.run(["--config", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/alt\.yml:\d+:\d+: pools\[0\]\.max/);
  });

  it("exits 2 on a --now that is not ISO 8601", async () => {
    const served = await serveForTest(cluster());
    const run = await served.run(["--now", "friday"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--now");
  });

  it("exits 2 naming a kubeconfig that does not exist", async () => {
    const repo = writeInfraRepo(tempDir());
    const run = await runPlan(repo, join(repo, "no-such-kubeconfig"), ["--json"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("no-such-kubeconfig");
  });

  it("exits 2 naming a kubeconfig that cannot be read, such as a folder", async () => {
    const repo = writeInfraRepo(tempDir());
    const run = await runPlan(repo, join(repo, "terraform"), ["--json"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `pr-autoscaler plan: ${join(repo, "terraform")}: cannot read the kubeconfig: is a directory\n`,
    );
    expect(run.stdout).toBe("");
  });

  it("exits 2 naming a kubeconfig that is not YAML", async () => {
    const repo = writeInfraRepo(tempDir());
    const kubeconfig = join(repo, "broken-kubeconfig");
    writeFileSync(kubeconfig, "clusters: [\n  - name: x\n   server: :::\n");
    const run = await runPlan(repo, kubeconfig, ["--json"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("broken-kubeconfig");
  });

  it("exits 1 naming the API server when it is unreachable", async () => {
    const fake = await FakeKubeApiserver.start();
    const repo = writeInfraRepo(tempDir());
    const kubeconfig = await fake.writeKubeconfig(join(repo, "kubeconfig"));
    await fake.close();
    const run = await runPlan(repo, kubeconfig, ["--json"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(fake.url.replace("http://", ""));
  });

  it("exits 1 saying the credentials were refused on 401, without printing the token", async () => {
    const fake = await FakeKubeApiserver.start({ token: "right-token" });
    afterTest(() => fake.close());
    fake.add(...cluster());
    const repo = writeInfraRepo(tempDir());
    const kubeconfig = await fake.writeKubeconfig(join(repo, "kubeconfig"), {
      token: "not-the-right-token",
    });
    const run = await runPlan(repo, kubeconfig, ["--json"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("HTTP 401 Unauthorized");
    expect(run.stderr).toContain("the credentials were refused");
    expect(run.stderr).not.toContain("not-the-right-token");
  });

  it("exits 1 saying it cannot list nodes when the list is forbidden", async () => {
    const served = await serveForTest(cluster());
    served.fake.injectFault({
      path: "/api/v1/nodes",
      status: 403,
      times: Number.POSITIVE_INFINITY,
    });
    const run = await served.run([]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("cannot list nodes");
    expect(run.stderr).toContain("HTTP 403 Forbidden");
  });

  it("proposes nothing when the count in the repo is unreadable, and says so", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("cnt001")]);
    const output = await served.plan({ tfvars: TFVARS.replace("= 3", '= "three"') });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/current count in the repo is unknown/);
  });

  it("names the config's line of target.file or target.path when the count cannot be read", async () => {
    const served = await serveForTest([...cluster(), ...fillers()]);
    // CONFIG sets target.file on line 4 and target.path on line 5, as validate reports them.
    const missing = await served.plan({ tfvars: null });
    expect(poolNote(missing)).toContain(
      "hold: the current count in the repo is unknown: terraform/terraform.tfvars does not exist in the repo (target.file at .github/pr-autoscaler.yml:4); no action",
    );
    const unset = await served.plan({ tfvars: "node_count = 3\n" });
    expect(poolNote(unset)).toMatch(
      /hold: the current count in the repo is unknown: terraform\/terraform\.tfvars:1:1: reading worker_count: [^\n]* \(target\.path at \.github\/pr-autoscaler\.yml:5\); no action/,
    );
  });

  it("leaves a repo without a config alone", async () => {
    const served = await serveForTest(cluster());
    const run = await served.run(["--json"], { config: null });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ proposals: [] });
  });

  it("writes a Pulumi stack's count back as a string", async () => {
    const output = await planFull([transcodeJob("plm001")], {
      tfvars: null,
      config: config({
        "file: terraform/terraform.tfvars": "file: infra/Pulumi.prod.yaml",
        "path: worker_count": 'path: config."talos:workerCount"',
      }),
      other: {
        "infra/Pulumi.prod.yaml":
          'config:\n  talos:workerCount: "3"\n  talos:workerMemory: "16384"\n',
      },
    });
    expect(output.proposals[0]?.changes).toEqual([
      {
        file: "infra/Pulumi.prod.yaml",
        path: 'config."talos:workerCount"',
        before: "3",
        after: "4",
      },
    ]);
  });
});

/** The node created at `created` that became Ready at `readySince`. */
function joinedAt(raw: Raw, created: string, readySince: string): Raw {
  (raw.metadata as Raw).creationTimestamp = created;
  for (const condition of (raw.status as Raw).conditions as Raw[])
    if (condition.type === "Ready") condition.lastTransitionTime = readySince;
  return raw;
}

describe("plan against a served cluster: changes in the repo's git history", () => {
  const NOW = "2026-11-22T10:00:00Z";

  it("holds a scale-up within the cooldown of the last merged change, then adds the node", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("cool01")]);
    const dir = changedAt(2, 3, "2026-11-22T09:57:00Z");
    const output = await served.planRepo(dir, NOW);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/cooldown/);
    const later = await served.planRepo(dir, "2026-11-22T10:03:00Z");
    expect(later.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });

  it("dates a change merged with a merge commit from the merge, not the branch commit", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("merge1")]);
    const dir = gitRepo([{ count: 3, at: "2026-11-01T10:00:00Z" }]);
    // The pull request's commit was made two hours before it was merged (review took a while).
    git(dir, ["checkout", "-q", "-b", "pr-autoscaler/nodes-workers"]);
    writeFileSync(join(dir, "terraform/terraform.tfvars"), tfvars(4));
    git(dir, ["commit", "-q", "-am", "workers: 3 → 4"], "2026-11-22T08:00:00Z");
    git(dir, ["checkout", "-q", "main"]);
    git(
      dir,
      ["merge", "-q", "--no-ff", "-m", "Merge pull request #12", "pr-autoscaler/nodes-workers"],
      "2026-11-22T09:58:00Z",
    );
    const output = await served.planRepo(dir, NOW);
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    // Merged 2 minutes ago: the new node is still expected to join; not "failed".
    expect(note).not.toMatch(/failed to join/);
    expect(note).toMatch(/cooldown after the change of 2026-11-22 09:58 UTC/);
  });

  it("holds a forced removal within delayAfterScaleUp of the last scale-up", async () => {
    const served = await serveForTest([...cluster(FOUR), ...apps()]);
    const dir = changedAt(3, 4, "2026-11-22T09:52:00Z", OVER_MAX.config);
    const output = await served.planRepo(dir, NOW);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/no scale-down until/);
  });

  it("holds a removal until delayAfterScaleUp after the new node became Ready", async () => {
    const objects = [...cluster(FOUR), ...apps()].map((object) =>
      object.kind === "Node" && nameOf(object) === "talos-worker-4"
        ? joinedAt(object, "2026-11-22T09:35:00Z", "2026-11-22T09:55:00Z")
        : object,
    );
    const served = await serveForTest(objects);
    const dir = changedAt(3, 4, "2026-11-22T09:30:00Z", OVER_MAX.config);
    const held = await served.planRepo(dir, NOW);
    expect(held.proposals).toEqual([]);
    expect(poolNote(held)).toMatch(/no scale-down until 2026-11-22 10:05 UTC/);
    const after = await served.planRepo(dir, "2026-11-22T10:06:00Z");
    expect(after.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });

  it("takes a node that stopped being Ready long after the last change as unready, not as joining", async () => {
    const served = await serveForTest([
      ...cluster(WORKERS, { "talos-worker-3": { ready: false } }),
      ...fillers(),
      transcodeJob("nrdy02"),
    ]);
    const dir = gitRepo([{ count: 3, at: "2026-10-01T10:00:00Z" }]);
    const output = await served.planRepo(dir, NOW);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4, direction: "up" });
    const text = reasons(output);
    expect(text).toContain("not Ready: talos-worker-3");
    expect(text).not.toMatch(/failed to join|joining/);
    // Two of three not Ready is more than maxUnready (45 %): a stop, as before.
    const two = await serveForTest([
      ...cluster(WORKERS, {
        "talos-worker-2": { ready: false },
        "talos-worker-3": { ready: false },
      }),
      ...fillers(),
      transcodeJob("nrdy03"),
    ]);
    const held = await two.planRepo(dir, NOW);
    expect(held.proposals).toEqual([]);
    expect(poolNote(held)).toMatch(/2 of 3 nodes not Ready/);
  });

  it("removes a node not Ready for unreadyTime with the empty nodes after it, and says its readiness decides", async () => {
    const served = await serveForTest([
      ...cluster(FOUR, { "talos-worker-4": { ready: false } }),
      ...apps(["talos-worker-1", "talos-worker-2"]),
    ]);
    const quick = configBeforeRemoval(
      "    scaleDown:\n      unneededTime: 0\n      maxEmptyBulk: 10\n",
    );
    const dir = gitRepo([{ count: 4, at: "2026-10-01T10:00:00Z" }], quick);
    const output = await served.planRepo(dir);
    // talos-worker-3 is empty and unneeded: it goes in the same decrease, as the explanation says.
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 2, direction: "down" });
    const text = reasons(output);
    expect(text).toContain("removing talos-worker-4, talos-worker-3");
    expect(text).toContain(
      "scale-down: talos-worker-4, not Ready for longer than 20m (scaleDown.unreadyTime), goes whatever the usage when nothing blocks it and its pods fit elsewhere",
    );
    expect(text).toContain(
      "2 empty nodes go together (at most 10): talos-worker-4, talos-worker-3",
    );
    // With no evidence that the pool stayed below its thresholds, the node not Ready goes alone.
    const windowed = await served.planRepo(
      gitRepo([{ count: 4, at: "2026-10-01T10:00:00Z" }]),
      NOW,
    );
    expect(windowed.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(reasons(windowed)).toContain("removing talos-worker-4\n");
  });

  it("warns that a person must act when a node long not Ready is not the one a decrease removes", async () => {
    const served = await serveForTest([
      ...cluster(FOUR, { "talos-worker-2": { ready: false } }),
      ...apps(["talos-worker-1"]),
    ]);
    const quick = configBeforeRemoval("    scaleDown:\n      unneededTime: 0\n");
    const output = await served.planRepo(
      gitRepo([{ count: 4, at: "2026-10-01T10:00:00Z" }], quick),
    );
    // The count's decrease would remove talos-worker-4, a Ready node: held while talos-worker-2's
    // pods may need the room, and no time ends that.
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.level).toBe("warning");
    expect(note?.message).toContain(
      "talos-worker-2 is not Ready: no Ready node is removed while its pods may need the room; talos-worker-2 has not been Ready for scaleDown.unreadyTime and the decrease does not remove it (the removal rule names another node): this lasts until it is Ready again or a person replaces its VM",
    );
  });

  it("warns that a node long not Ready stays when scale-down is off", async () => {
    const served = await serveForTest([
      ...cluster(FOUR, { "talos-worker-4": { ready: false } }),
      ...apps(["talos-worker-1", "talos-worker-2"]),
    ]);
    const off = configBeforeRemoval("    scaleDown:\n      enabled: false\n");
    const output = await served.planRepo(gitRepo([{ count: 4, at: "2026-10-01T10:00:00Z" }], off));
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.level).toBe("warning");
    expect(note?.message).toContain(
      "scale-down: off (scaleDown.enabled is false): no node is removed; talos-worker-4 has not been Ready for scaleDown.unreadyTime and stays until it is Ready again or a person replaces its VM",
    );
    // Every node Ready, scale-down off is the operator's choice: an info note.
    const ready = await serveForTest([...cluster(FOUR), ...apps(["talos-worker-1"])]);
    const quiet = await ready.planRepo(gitRepo([{ count: 4, at: "2026-10-01T10:00:00Z" }], off));
    expect(quiet.notes.find((entry) => entry.subject === "pool/workers")?.level).toBe("info");
  });

  it("waits for a node joining, then reports it failed after provisionTimeout", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("join01")]);
    const dir = changedAt(3, 4, "2026-11-22T09:57:00Z");
    const waiting = await served.planRepo(dir, NOW);
    expect(waiting.proposals).toEqual([]);
    expect(poolNote(waiting)).toMatch(
      /asks for 4 nodes, 3 are Ready, waiting until 2026-11-22 10:12 UTC/,
    );
    const failed = await served.planRepo(dir, "2026-11-22T10:20:00Z");
    expect(failed.proposals).toEqual([]);
    expect(poolNote(failed)).toMatch(/failed to join/);
  });

  it("says the node a decrease would remove may not have joined yet, while a raise's node joins", async () => {
    // A quiet pool raised from 3 to 4 three minutes ago: talos-worker-4, the node at the count's
    // last index, is not listed yet. Usage is fresh, so a decrease is weighed.
    const served = await serveForTest([...cluster(), ...apps(WORKERS)]);
    const dir = changedAt(3, 4, new Date(Date.now() - 3 * 60_000).toISOString());
    const output = await served.planRepo(dir);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "hold: the repo asks for 4 nodes, 3 are Ready, waiting until",
    );
    expect(poolNote(output)).toContain(
      "not removed: no node to remove: node talos-worker-4 (count index 3) is not among the pool's nodes: either it has not joined yet or is gone, or removal.nameTemplate does not match the names\n",
    );
  });

  it("proposes nothing while a removed node is still there", async () => {
    const served = await serveForTest([...cluster(FOUR), ...fillers(FOUR), transcodeJob("leav01")]);
    const dir = changedAt(4, 3, "2026-11-22T09:50:00Z");
    const output = await served.planRepo(dir, NOW);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/asks for 3 nodes, 4 are still there/);
  });
});

describe("plan against a served cluster: a min-0 pool's last node", () => {
  const LABELS = `      labels:
        beta.kubernetes.io/arch: amd64
        beta.kubernetes.io/os: linux
        extensions.talos.dev/qemu-guest-agent: "10.0.2"
        kubernetes.io/arch: amd64
        kubernetes.io/os: linux
        node.kubernetes.io/instance-type: 4VCPU-16GB
`;
  const lastNodeConfig = (newNode: string) =>
    configBeforeRemoval(`    scaleDown:\n      unneededTime: 0\n${newNode}`, {
      "min: 1": "min: 0",
    });

  it("keeps the last node until newNode tells a new node's shape, then removes it", async () => {
    const served = await serveForTest(cluster(["talos-worker-1"]));
    const bare = await served.plan({ tfvars: tfvars(1), config: lastNodeConfig("") });
    expect(bare.proposals).toEqual([]);
    expect(poolNote(bare)).toContain(
      "talos-worker-1: the last node stays: a pool with no node cannot learn a new node's shape; set newNode.cpu and newNode.memory; add beta.kubernetes.io/arch=amd64, beta.kubernetes.io/os=linux, extensions.talos.dev/qemu-guest-agent=10.0.2, kubernetes.io/arch=amd64, kubernetes.io/os=linux, node.kubernetes.io/instance-type=4VCPU-16GB to newNode.labels",
    );
    const sized = `    newNode:\n      cpu: 3950m\n      memory: 15Gi\n`;
    const unlabelled = await served.plan({ tfvars: tfvars(1), config: lastNodeConfig(sized) });
    expect(unlabelled.proposals).toEqual([]);
    expect(poolNote(unlabelled)).not.toContain("set newNode.cpu");
    const told = await served.plan({
      tfvars: tfvars(1),
      config: lastNodeConfig(`${sized}${LABELS}`),
    });
    expect(told.proposals[0]).toMatchObject({ from: 1, to: 0 });
    expect(reasons(told)).toContain(
      "talos-worker-1 is the pool's last node, and newNode tells a new node's shape without it: met",
    );
  });
});

describe("plan against a served cluster: emptyDir scratch on a node a low usage removes", () => {
  it("lets a low-usage node with emptyDir scratch go when the pool sets scaleDown.deleteEmptyDirData, never one with a hostPath", async () => {
    // A Helm chart's usual scratch: /tmp on the node's disk, and /dev/shm in memory.
    const scratch = [
      { emptyDir: {}, name: "tmp" },
      { emptyDir: { medium: "Memory", sizeLimit: "64Mi" }, name: "shm" },
    ];
    const homepage = pod("home", "homepage-7c9d6b5f48-r4t2w", {
      ...onWorker4,
      volumes: scratch,
    });
    const zigbee = pod("home", "zigbee2mqtt-5f6b8d7c94-m8q3z", {
      ...onWorker4,
      volumes: [
        { emptyDir: {}, name: "cache" },
        { hostPath: { path: "/var/mnt/zigbee2mqtt", type: "DirectoryOrCreate" }, name: "data" },
      ],
    });
    const quiet = (extra: Raw[], deleteEmptyDirData: boolean) =>
      plan([...cluster(FOUR), ...apps(), ...extra], {
        tfvars: tfvars(4),
        config: config({
          "    removal:": `    scaleDown:\n      unneededTime: 0\n      deleteEmptyDirData: ${deleteEmptyDirData}\n    removal:`,
        }),
      });
    const blockersOf4 = (output: PlanJson) => {
      const decision = poolDecision(output) as { blockers: { node: string; blockers: Raw[] }[] };
      return decision.blockers.find((entry) => entry.node === "talos-worker-4")?.blockers;
    };

    const kept = await quiet([homepage], false);
    expect(kept.proposals).toEqual([]);
    expect(poolNote(kept)).toContain(
      "home/homepage-7c9d6b5f48-r4t2w: local storage tmp (emptyDir) (set scaleDown.deleteEmptyDirData if its data may go with the node)",
    );
    expect(blockersOf4(kept)).toEqual([
      {
        kind: "local-storage",
        pod: "home/homepage-7c9d6b5f48-r4t2w",
        volumes: ["tmp (emptyDir)"],
        emptyDirOnly: true,
      },
    ]);

    // A hostPath beside the scratch holds the node whatever the key says: no hint at it.
    const mixed = await quiet([zigbee], false);
    expect(poolNote(mixed)).toContain(
      "home/zigbee2mqtt-5f6b8d7c94-m8q3z: local storage cache (emptyDir), data (hostPath)",
    );
    expect(poolNote(mixed)).not.toContain("scaleDown.deleteEmptyDirData");

    const removed = await quiet([homepage], true);
    expect(removed.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(blockersOf4(removed)).toEqual([]);
    expect(reasons(removed)).not.toContain("local storage");
    // What the drain deletes is told; /dev/shm, in memory, holds no data on disk.
    expect(reasons(removed)).toContain(
      "  scale-down: talos-worker-4 has no blockers: met (the emptyDir data of home/homepage-7c9d6b5f48-r4t2w (tmp) is deleted with it, as scaleDown.deleteEmptyDirData allows)",
    );
    const conditions = (poolDecision(removed).scaleDown as { conditions: Raw[] }).conditions;
    expect(conditions.find((entry) => entry.kind === "no-blockers")).toMatchObject({
      met: true,
      emptyDirDeleted: ["home/homepage-7c9d6b5f48-r4t2w (tmp)"],
    });

    const hostPath = await quiet([homepage, zigbee], true);
    expect(hostPath.proposals).toEqual([]);
    expect(poolNote(hostPath)).toContain(
      "home/zigbee2mqtt-5f6b8d7c94-m8q3z: local storage data (hostPath)",
    );
    expect(blockersOf4(hostPath)).toEqual([
      {
        kind: "local-storage",
        pod: "home/zigbee2mqtt-5f6b8d7c94-m8q3z",
        volumes: ["data (hostPath)"],
      },
    ]);
  });
});

describe("plan against a served cluster: kube-system pods on a node a low usage removes", () => {
  it("keeps a node running a kube-system pod no PDB selects when the pool sets scaleDown.skipNodesWithSystemPods", async () => {
    // What a Talos cluster runs in kube-system on a worker: CoreDNS and metrics-server as
    // Deployments, kube-vip as a static pod, Cilium as a DaemonSet (cluster() serves it).
    const coredns = pod("kube-system", "coredns-5d78c9869d-x2k9p", {
      ...onWorker4,
      labels: { "k8s-app": "kube-dns" },
    });
    const metricsServer = pod("kube-system", "metrics-server-7db4fb59f9-q8w2n", {
      ...onWorker4,
      labels: { "k8s-app": "metrics-server" },
    });
    const kubeVip = pod("kube-system", "kube-vip-talos-worker-4", {
      ...onWorker4,
      owner: { kind: "Node", name: "talos-worker-4" },
      annotations: { "kubernetes.io/config.mirror": "3f9c1e7a5b2d4c6e" },
    });
    const quiet = (extra: Raw[], skip: boolean | undefined) =>
      plan([...cluster(FOUR), ...apps(), kubeVip, ...extra], {
        tfvars: tfvars(4),
        config: config({
          "    removal:": `    scaleDown:\n      unneededTime: 0\n${skip === undefined ? "" : `      skipNodesWithSystemPods: ${skip}\n`}    removal:`,
        }),
      });
    const blockersOf4 = (output: PlanJson) => {
      const decision = poolDecision(output) as { blockers: { node: string; blockers: Raw[] }[] };
      return decision.blockers.find((entry) => entry.node === "talos-worker-4")?.blockers;
    };

    const kept = await quiet([coredns, metricsServer], true);
    expect(kept.proposals).toEqual([]);
    expect(poolNote(kept)).toContain(
      'kube-system/coredns-5d78c9869d-x2k9p: a kube-system pod no PDB selects, kept on its node by scaleDown.skipNodesWithSystemPods (give it a PDB, or annotate it safe-to-evict: "true", if it may move)',
    );
    expect(blockersOf4(kept)).toEqual([
      { kind: "system-pod", pod: "kube-system/coredns-5d78c9869d-x2k9p" },
      { kind: "system-pod", pod: "kube-system/metrics-server-7db4fb59f9-q8w2n" },
    ]);

    // CoreDNS under a budget that allows one disruption, metrics-server let go by its owner.
    const budgeted = await quiet(
      [
        coredns,
        pod("kube-system", "metrics-server-7db4fb59f9-q8w2n", {
          ...onWorker4,
          annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "true" },
        }),
        pdb("kube-system", "coredns", { "k8s-app": "kube-dns" }, 1),
      ],
      true,
    );
    expect(budgeted.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(blockersOf4(budgeted)).toEqual([]);

    // Off by default: kube-system pods move like any other.
    const off = await quiet([coredns, metricsServer], undefined);
    expect(off.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(blockersOf4(off)).toEqual([]);

    // A placeholder below the expendable cutoff (-10) need not come back: cluster-autoscaler
    // leaves such pods out of the cluster it simulates a removal on, so the key keeps nothing.
    const placeholder = withSpec(
      pod("kube-system", "overprovisioning-6c8f7d9b4-k2m7p", { ...onWorker4 }),
      (spec) => {
        spec.priority = -100;
        spec.priorityClassName = "overprovisioning";
      },
    );
    const expendable = await quiet([placeholder], true);
    expect(expendable.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(blockersOf4(expendable)).toEqual([]);
  });
});
