/**
 * Scale-up cases an operator would check `plan --kubeconfig` against, each worked out by hand
 * before reading the plan, from how the kube-scheduler filters nodes (NodeResourcesFit with
 * ephemeral storage, pods and extended resources, TaintToleration with NoExecute and cordons,
 * NodePorts by protocol and address, with only 0.0.0.0 as every address) and how
 * first-fit-decreasing packing fills the room left on existing nodes and then on new ones; how
 * many nodes bring cpu held above its threshold over a Prometheus window back below it; and
 * what a pool that cannot tell a new node's size says of the pod waiting for it.
 *
 * The workers are the Talos VMs of served-cluster.ts: 3800m cpu, 15986572Ki memory, 110 pods
 * and 58623335106 bytes (54.6 GiB) of ephemeral storage allocatable, Cilium (100m, 128 MiB) on
 * each. A new worker so has 3700m, 15855500Ki (15.1 GiB), 109 pods and 54.6 GiB free.
 */
import { describe, expect, it } from "@jest/globals";
import {
  type InfraFiles,
  type PlanJson,
  type PodOptions,
  pod,
  type Raw,
  type Served,
  TFVARS,
} from "./served-cluster.ts";
import {
  cluster,
  config,
  everyWorker,
  fillers,
  manyPods,
  onlyReasons,
  plan,
  planFull,
  planWhileFailing,
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

/** A Pending pod of a CI runner Job (1500m, 1 GiB unless `options` say otherwise). */
function runner(suffix: string, options: PodOptions = {}): Raw {
  return pod("ci", `runner-29123400-${suffix}`, {
    owner: { kind: "Job", name: "runner-29123400" },
    cpu: "1500m",
    memory: "1Gi",
    ...options,
  });
}

/** Adds requests of other resources to the pod's app container. */
function requesting(raw: Raw, extra: Record<string, string>): Raw {
  const container = ((raw.spec as Raw).containers as Raw[])[0] as Raw;
  const resources = container.resources as Raw;
  resources.requests = { ...(resources.requests as Raw), ...extra };
  return raw;
}

describe("plan acceptance (scale-up): pods asking for ephemeral storage", () => {
  // 30 GiB each: a worker's 54.6 GiB holds one, not two. The three workers have cpu and memory
  // to spare and no disk taken, so three pods go there, one each, and the other two need a new
  // node each, though their cpu and memory would fit one.
  const objects = () => [
    ...cluster(),
    ...["dsk1x", "dsk2x", "dsk3x", "dsk4x", "dsk5x"].map((suffix) =>
      requesting(runner(suffix, { cpu: "100m", memory: "128Mi" }), {
        "ephemeral-storage": "30Gi",
      }),
    ),
  ];

  it("adds a node for each pod the disk of a node holds alone, and says it is the disk", async () => {
    const output = await plan(objects());
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
    const text = onlyReasons(output);
    expect(text).toContain(
      "new node: 3800m cpu, 15.2 GiB memory, 110 pods, 54.6 GiB ephemeral storage (learned,",
    );
    expect(text).toContain("trigger: 2 pending pods need 2 new nodes");
    expect(text).toContain(
      "pending pods: 5 considered, 3 fit free room on existing nodes, 2 go on 2 new nodes",
    );
    expect(text).toMatch(
      /ci\/runner-29123400-dsk1x \(cpu 100m, memory 128 MiB, ephemeral-storage 30 GiB\) fits on talos-worker-\d/,
    );
    // The workers' disk went to the three pods placed before it; the control plane's taint keeps
    // it off the disk there.
    expect(text).toContain(
      "ci/runner-29123400-dsk5x (cpu 100m, memory 128 MiB, ephemeral-storage 30 GiB) → new-2 (existing nodes: talos-worker-1 and 2 more have too little ephemeral-storage free once the pending pods placed before it take theirs; talos-cp-1 has room but a taint it does not tolerate keeps it off)\n",
    );
    const pending = output.proposals[0]?.decision?.pending as {
      onNew: { pod: string; ephemeralStorage?: number; node: string }[];
    };
    expect(pending.onNew).toEqual([
      expect.objectContaining({
        pod: "ci/runner-29123400-dsk4x",
        ephemeralStorage: 30 * 2 ** 30,
        node: "new-1",
        keptOff: {
          nodes: 4,
          rules: [{ cause: "taints", nodes: 1, node: "talos-cp-1" }],
          room: {
            nodes: 3,
            node: "talos-worker-1",
            resources: ["ephemeral-storage"],
            afterOthers: true,
          },
        },
      }),
      expect.objectContaining({
        pod: "ci/runner-29123400-dsk5x",
        ephemeralStorage: 30 * 2 ** 30,
        node: "new-2",
      }),
    ]);
  });

  it("gives no ephemeral storage, on the pods or the new node, when no pod asks for it", async () => {
    const output = await planFull([runner("cpu01")]);
    const text = onlyReasons(output);
    expect(text).toContain("new node: 3800m cpu, 15.2 GiB memory, 110 pods (learned,");
    // The fillers leave 700m on each worker: too little, and not for the pods placed before it.
    expect(text).toContain(
      "ci/runner-29123400-cpu01 (cpu 1500m, memory 1 GiB) → new-1 (existing nodes: talos-worker-1 and 2 more have too little cpu free; talos-cp-1 has room but a taint it does not tolerate keeps it off)\n",
    );
    expect(text).not.toContain("ephemeral");
    const pending = output.proposals[0]?.decision?.pending as { onNew: Raw[] } | undefined;
    expect(pending?.onNew).toHaveLength(1);
    expect(pending?.onNew[0]).not.toHaveProperty("ephemeralStorage");
  });
});

describe("plan acceptance (scale-up): cpu held above its threshold, read from Prometheus", () => {
  // An hour of each worker's cAdvisor root cgroup at 3.5 cores and 4 GiB, ending on a minute
  // boundary a minute ago; the plans are for that last sample's time. 3 × 3500m over 3 × 3800m
  // is 92 %. Below 60 % takes more than 10500m / 0.6 = 17500m of allocatable: 5 workers
  // (19000m), not 4 (15200m), so two are added.
  const end = seriesEnd();
  const prometheus = prometheusForTests(() => steadyWorkers(3.5, 4 * 2 ** 30, end));

  const hot = (window: string) => ({
    config: config({
      "    removal:": `    scaleUp:\n      cpu: 60\n      window: ${window}\n    removal:`,
    }),
  });

  async function planWith(window: string, args: string[] = []): Promise<PlanJson> {
    const run = await planOnPrometheus(prometheus.url, end, {
      args: ["--json", ...args],
      files: hot(window),
    });
    return JSON.parse(run.stdout) as PlanJson;
  }

  it("adds the two nodes that bring the pool's cpu below 60 %", async () => {
    const output = await planWith("5m");
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
    expect(output.proposals[0]?.triggers).toEqual([
      expect.objectContaining({ kind: "utilisation", resource: "cpu", newNodes: 2 }),
    ]);
    expect(onlyReasons(output)).toContain(
      "trigger: cpu 92 % ≥ 60 % for 5m (usage-window): 2 new nodes",
    );
  });

  it("asks Prometheus for the 30m a scaleUp.window of 30m judges, though --prometheus-window asks for 10m", async () => {
    // plan asks for the longest window a check judges: the 30 minutes are read, and met.
    const whole = await planWith("30m", ["--prometheus-window", "10m"]);
    expect(whole.proposals[0]).toMatchObject({ from: 3, to: 5 });
    expect(onlyReasons(whole)).toContain("utilisation: cpu 92 % (prometheus over 30m");
    expect(onlyReasons(whole)).toContain(
      "trigger: cpu 92 % ≥ 60 % for 30m (usage-window): 2 new nodes",
    );
  });
});

describe("plan acceptance (scale-up): taints a new node shares with the pool's nodes", () => {
  it("places pods tolerating a NoExecute taint, however long for, and not one tolerating it only for NoSchedule", async () => {
    // Every worker carries dedicated=batch:NoExecute, so a new one would. tolerationSeconds only
    // bounds how long a pod stays once the taint comes; it schedules all the same. An Exists
    // without a key matches every key of its effect. A toleration for NoSchedule alone does not
    // tolerate NoExecute. The two that fit go on one new worker (2 × 1500m of 3700m).
    const dedicated = { key: "dedicated", value: "batch", effect: "NoExecute" };
    const output = await plan([
      ...cluster(WORKERS, everyWorker({ taints: [dedicated] })),
      ...fillers(),
      runner("exe01", {
        tolerations: [
          {
            key: "dedicated",
            operator: "Equal",
            value: "batch",
            effect: "NoExecute",
            tolerationSeconds: 60,
          },
        ],
      }),
      runner("exe02", { tolerations: [{ operator: "Exists", effect: "NoExecute" }] }),
      runner("exe03", {
        tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoSchedule" }],
      }),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const text = onlyReasons(output);
    expect(text).toContain("ci/runner-29123400-exe01 (cpu 1500m, memory 1 GiB) → new-1");
    expect(text).toContain("ci/runner-29123400-exe02 (cpu 1500m, memory 1 GiB) → new-1");
    expect(text).toContain(
      "never fits: ci/runner-29123400-exe03 (cpu 1500m, memory 1 GiB): it does not tolerate the taint dedicated=batch:NoExecute, which a new node of this pool would have",
    );
    const neverFit = (output.proposals[0]?.decision?.pending as { neverFit: Raw[] } | undefined)
      ?.neverFit;
    expect(neverFit).toEqual([
      expect.objectContaining({
        pod: "ci/runner-29123400-exe03",
        reason: "taints",
        taints: ["dedicated=batch:NoExecute"],
      }),
    ]);
  });

  it("adds a node that is not cordoned when every worker is", async () => {
    // kubectl cordon puts node.kubernetes.io/unschedulable on each worker; a new VM joins
    // schedulable, so the pod goes there though no worker takes it.
    const output = await plan([
      ...cluster(WORKERS, everyWorker({ unschedulable: true })),
      ...fillers(),
      runner("crd01"),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(onlyReasons(output)).toContain(
      "ci/runner-29123400-crd01 (cpu 1500m, memory 1 GiB) → new-1",
    );
  });
});

describe("plan acceptance (scale-up): host ports, by protocol and address", () => {
  // dnsmasq holds 53/UDP on every worker, on every address unless `hostIP` says one. The
  // workers have room for a 100m pod; the NodePorts filter alone decides.
  const dnsmasq = (hostIP?: string) =>
    WORKERS.map((node, index) =>
      pod("kube-system", `dnsmasq-7f9c6b5d4-dns${index}x`, {
        node,
        cpu: "100m",
        memory: "64Mi",
        ports: [
          { containerPort: 53, hostPort: 53, protocol: "UDP", ...(hostIP ? { hostIP } : {}) },
        ],
      }),
    );
  const wanting = (suffix: string, port: Raw) =>
    runner(suffix, {
      cpu: "100m",
      memory: "128Mi",
      ports: [{ containerPort: 53, hostPort: 53, ...port }],
      scheduled: {
        reason: "Unschedulable",
        message:
          "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 node(s) didn't have free ports for the requested pod ports.",
      },
    });

  it("puts a pod wanting 53/TCP beside the pods holding 53/UDP: no node added", async () => {
    const output = await plan([...cluster(), ...dnsmasq(), wanting("tcp53", { protocol: "TCP" })]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(
      /pending: ci\/runner-29123400-tcp53 \(cpu 100m, memory 128 MiB\) fits on talos-worker-\d/,
    );
  });

  it("puts a pod wanting 53/UDP on one address beside pods holding it on another: no node added", async () => {
    const output = await plan([
      ...cluster(),
      ...dnsmasq("192.168.50.2"),
      wanting("udp53", { protocol: "UDP", hostIP: "192.168.50.3" }),
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/ci\/runner-29123400-udp53 [^\n]* fits on talos-worker-\d/);
  });

  it("adds a node for a pod wanting 53/UDP on 127.0.0.1 where it is held on every address", async () => {
    const output = await plan([
      ...cluster(),
      ...dnsmasq(),
      wanting("lo053", { protocol: "UDP", hostIP: "127.0.0.1" }),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(onlyReasons(output)).toContain(
      "ci/runner-29123400-lo053 (cpu 100m, memory 128 MiB) → new-1",
    );
  });

  it("puts a pod wanting 53/UDP on 10.0.0.5 beside pods holding it on ::, which the scheduler reads as one address", async () => {
    // kube-scheduler's NodePorts filter takes only 0.0.0.0 (or no hostIP) as every address.
    const output = await plan([
      ...cluster(),
      ...dnsmasq("::"),
      wanting("v6all", { protocol: "UDP", hostIP: "10.0.0.5" }),
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/ci\/runner-29123400-v6all [^\n]* fits on talos-worker-\d/);
  });

  it("adds a node for a pod wanting 53/UDP on :: where it is held on ::", async () => {
    const output = await plan([
      ...cluster(),
      ...dnsmasq("::"),
      wanting("v6v6a", { protocol: "UDP", hostIP: "::" }),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(onlyReasons(output)).toContain(
      "ci/runner-29123400-v6v6a (cpu 100m, memory 128 MiB) → new-1",
    );
  });
});

describe("plan acceptance (scale-up): what a pod asks for that a worker may lack", () => {
  it("adds a node for a pod asking for 0 GPUs, as it needs none", async () => {
    // The scheduler skips an extended resource requested at 0: no GPU worker is needed.
    const output = await planFull([requesting(runner("gpu00"), { "nvidia.com/gpu": "0" })]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(onlyReasons(output)).toContain(
      "ci/runner-29123400-gpu00 (cpu 1500m, memory 1 GiB) → new-1",
    );
  });

  it("adds two nodes for 115 small pods when the 110-pod limit binds before cpu", async () => {
    // 3700m of filler leaves no cpu on the workers. A new worker has 3700m for 115 × 10m =
    // 1150m, but 110 pods less Cilium's: 109 pods, so the 115 need two.
    const small = Array.from({ length: 115 }, (_, index) =>
      pod("default", `echo-5d8f7c9b6-${index.toString(36).padStart(5, "0")}`, {
        owner: { kind: "ReplicaSet", name: "echo-5d8f7c9b6" },
        cpu: "10m",
        memory: "16Mi",
        scheduled: {
          reason: "Unschedulable",
          message:
            "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu.",
        },
      }),
    );
    const output = await plan([...cluster(), ...fillers(WORKERS, "3700m"), ...small]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
    const text = onlyReasons(output);
    expect(text).toContain("trigger: 115 pending pods need 2 new nodes");
    expect(text).toContain(
      "pending pods: 115 considered, 0 fit free room on existing nodes, 115 go on 2 new nodes",
    );
    const pending = output.proposals[0]?.decision?.pending as
      | { onNew: { node: string }[] }
      | undefined;
    const on = (node: string) => pending?.onNew.filter((entry) => entry.node === node);
    expect(on("new-1")).toHaveLength(109);
    expect(on("new-2")).toHaveLength(6);
  });
});

describe("plan acceptance (scale-up): containers with limits and no requests", () => {
  it("counts each limit as the request the API server fills in, on running pods and the pending one", async () => {
    // A manifest with only limits gets its requests from them when the pod is created. Plex's
    // 3-cpu limit on each worker leaves 700m beside Cilium, so the runner's 2-cpu limit needs
    // a new node; counted as requesting nothing, both would fit talos-worker-1.
    const limitsOnly = (raw: Raw, limits: Record<string, string>): Raw => {
      const container = ((raw.spec as Raw).containers as Raw[])[0] as Raw;
      container.resources = { limits };
      return raw;
    };
    const plex = WORKERS.map((node, index) =>
      limitsOnly(
        pod("media", `plex-7d9c65958-lim${index}x`, {
          node,
          owner: { kind: "ReplicaSet", name: "plex-7d9c65958" },
        }),
        { cpu: "3", memory: "4Gi" },
      ),
    );
    const output = await plan([
      ...cluster(),
      ...plex,
      limitsOnly(runner("lim01"), { cpu: "2", memory: "1Gi" }),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const text = onlyReasons(output);
    expect(text).toContain("requests 82 %");
    expect(text).toContain(
      "ci/runner-29123400-lim01 (cpu 2, memory 1 GiB) → new-1 (existing nodes: talos-worker-1 and 2 more have too little cpu free;",
    );
  });
});

describe("plan acceptance (scale-up): a pool that cannot tell what a new node would be", () => {
  /** The repo's files with a pool big at 0 (min 0, max 2) after the workers; `extra` ends it. */
  function bigAtZero(extra = ""): InfraFiles {
    return {
      tfvars: `${TFVARS}big_count         = 0\n`,
      config: `${config()}  - name: big
    target:
      file: terraform/terraform.tfvars
      path: big_count
    selector:
      matchLabels:
        node.kubernetes.io/pool: big
    min: 0
    max: 2
${extra}`,
    };
  }

  /** Serves the full workers and a pod of 6 cpu that selects the big pool. */
  function waitingForBig(): Promise<Served> {
    return serveForTest([
      ...cluster(),
      ...fillers(),
      runner("big01", {
        cpu: "6",
        memory: "8Gi",
        nodeSelector: { "node.kubernetes.io/pool": "big" },
      }),
    ]);
  }

  it("warns, as a person must set newNode, when a pod waits for the empty pool", async () => {
    // The big pool is at 0 with no newNode: nothing says how large its VM is. The pod selects
    // it, so no other pool takes it; it waits until someone sets newNode.cpu and memory.
    const files = bigAtZero();
    const served = await waitingForBig();
    const output = JSON.parse((await served.run(["--json"], files)).stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/big");
    expect(note?.level).toBe("warning");
    expect(note?.message).toContain(
      "fit unknown: ci/runner-29123400-big01 (cpu 6, memory 8 GiB): what a new node offers is unknown",
    );
    expect(note?.message).toContain(
      "hold: the size of a new node is unknown: set newNode.cpu and newNode.memory",
    );
    const text = await served.run([], files);
    expect(text.stdout).toContain(
      "warning: pool big (terraform/terraform.tfvars big_count): no change at 0\n",
    );
  });

  it("asks only for the newNode key the config leaves out", async () => {
    // newNode.memory is set, as in the configuration reference's full example: the hold asked
    // for newNode.cpu and newNode.memory all the same.
    const files = bigAtZero("    newNode:\n      memory: 15Gi\n");
    const served = await waitingForBig();
    const output = JSON.parse((await served.run(["--json"], files)).stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/big");
    expect(note?.holds).toContainEqual({ kind: "shape-unknown", unset: ["newNode.cpu"] });
    expect(note?.message).toContain("hold: the size of a new node is unknown: set newNode.cpu\n");
  });
});

describe("plan acceptance (scale-up): the pod list read in part", () => {
  // 600 batch pods make the pod list two pages of 500; the second fails. The fillers (media)
  // that take 3 of each worker's 3.8 cpu are on it, so the room they hold looks free.
  const roomy = everyWorker({ allocatable: { cpu: "3800m", memory: "15986572Ki", pods: "300" } });
  const batch = manyPods(600);
  const runnerPod = (namespace: string) =>
    pod(namespace, "runner-29123400-x7k2p", {
      owner: { kind: "Job", name: "runner-29123400" },
      cpu: "1500m",
      memory: "1Gi",
    });
  function planPartly(namespace: string): Promise<PlanJson> {
    return planWhileFailing(
      [...cluster(WORKERS, roomy), ...fillers(), ...batch, runnerPod(namespace)],
      { path: "/api/v1/pods", continued: true, status: 500 },
    );
  }

  it("places a pending pod read on the first page in room the pods not read may hold, and says so", async () => {
    const output = await planPartly("actions-runner-system");
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toMatch(/hold: the cluster snapshot is incomplete \(pods: /);
    expect(note).toContain(
      "pending pods: the list of pods was not read in full: pending pods it would show are not counted, and pods it would show may hold the room counted as free on existing nodes",
    );
    expect(note).toMatch(
      /pending: actions-runner-system\/runner-29123400-x7k2p \(cpu 1500m, memory 1 GiB\) fits on talos-worker-\d as far as the pods read show/,
    );
    const decision = output.notes.find((entry) => entry.subject === "pool/workers")?.decision as {
      pending: { unread?: string[] };
    };
    expect(decision.pending.unread).toEqual(["pods"]);
  });

  it("says pending pods on the page not read are not counted, rather than saying nothing", async () => {
    const output = await planPartly("media");
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain(
      "pending pods: the list of pods was not read in full: pending pods it would show are not counted",
    );
    expect(note).not.toContain("runner-29123400-x7k2p");
  });
});
