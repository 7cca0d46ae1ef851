/**
 * Rules that depend on other pods, and priority, as an operator would check `plan --kubeconfig`
 * against them, each plan worked out by hand before reading it from how kube-scheduler filters
 * nodes (InterPodAffinity, PodTopologySpread with its default `nodeTaintsPolicy: Ignore`) and how
 * cluster-autoscaler simulates a new node: from its template, DaemonSet pods included, and
 * without preemption.
 *
 * The workers are the Talos VMs of served-cluster.ts (3800m cpu, Cilium's 100m on each) beside a
 * tainted control plane, talos-cp-1.
 */
import { describe, expect, it } from "@jest/globals";
import { type PlanJson, pod, type Raw, unschedulable } from "./served-cluster.ts";
import {
  cluster,
  config,
  everyWorker,
  FOUR,
  filler,
  fillers,
  OVER_MAX,
  onlyReasons,
  plan,
  planFull,
  poolNote,
  WORKERS,
} from "./served-plan.ts";

/** Each proposal's count, from and to. */
function counts(output: PlanJson): [number | undefined, number | undefined][] {
  return output.proposals.map((entry) => [entry.from, entry.to]);
}

/** Room for many new nodes, so the max decides nothing. */
const ROOMY = { config: config({ "max: 6": "max: 12" }) };

const BLOCKY = { "app.kubernetes.io/name": "blocky" };
const apartFromBlocky = {
  labelSelector: { matchLabels: BLOCKY },
  topologyKey: "kubernetes.io/hostname",
};

/** A Blocky DNS replica (100m), on `node` or Pending, with the affinity given. */
function blocky(suffix: string, node: string | undefined, affinity?: Raw): Raw {
  return pod("dns", `blocky-5c8d7f6b9-${suffix}`, {
    node,
    cpu: "100m",
    memory: "128Mi",
    labels: BLOCKY,
    ...(affinity ? { affinity } : {}),
    ...(node ? {} : { scheduled: unschedulable("node(s) didn't match pod anti-affinity rules") }),
  });
}

const blockyApart = {
  podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [apartFromBlocky] },
};

describe("plan acceptance, constraints: required pod anti-affinity on the hostname", () => {
  it("puts one of five pending replicas on the only worker without one, and four on new nodes", async () => {
    const output = await plan(
      [
        ...cluster(),
        blocky("run01", "talos-worker-1", blockyApart),
        blocky("run02", "talos-worker-2", blockyApart),
        ...["pen01", "pen02", "pen03", "pen04", "pen05"].map((suffix) =>
          blocky(suffix, undefined, blockyApart),
        ),
      ],
      ROOMY,
    );
    // Every worker has room for all five: only the rule keeps them apart.
    expect(counts(output)).toEqual([[3, 7]]);
    const text = onlyReasons(output);
    expect(text).toContain("pending pods: 5 considered, 1 fits free room on existing nodes");
    expect(text).toMatch(/blocky-5c8d7f6b9-pen01 [^\n]* fits on talos-worker-3/);
    for (const [suffix, node] of [
      ["pen02", "new-1"],
      ["pen03", "new-2"],
      ["pen04", "new-3"],
      ["pen05", "new-4"],
    ])
      expect(text).toMatch(new RegExp(`blocky-5c8d7f6b9-${suffix} [^\\n]* → ${node} `));
    // Each says what kept it off the workers with room, and off the control plane, as the
    // scheduler's `3 node(s) didn't match pod anti-affinity rules, 1 untolerated taint` would.
    expect(text).toContain(
      "pending: dns/blocky-5c8d7f6b9-pen02 (cpu 100m, memory 128 MiB) → new-1 (existing nodes: talos-worker-1 and 2 more have room but required pod anti-affinity keeps it off; talos-cp-1 has room but a taint it does not tolerate keeps it off)\n",
    );
    const pending = output.proposals[0]?.decision?.pending as { onNew: Raw[] } | undefined;
    expect(pending?.onNew[0]).toMatchObject({
      pod: "dns/blocky-5c8d7f6b9-pen02",
      node: "new-1",
      keptOff: {
        nodes: 4,
        rules: [
          { cause: "pod-anti-affinity", nodes: 3, node: "talos-worker-1" },
          { cause: "taints", nodes: 1, node: "talos-cp-1" },
        ],
      },
    });
    expect(pending?.onNew[0]?.keptOff).not.toHaveProperty("room");
  });

  it("keeps talos-worker-4 above the max when every other worker runs a replica, and names the rule", async () => {
    const output = await plan(
      [...cluster(FOUR), ...FOUR.map((node, at) => blocky(`run0${at}`, node, blockyApart))],
      OVER_MAX,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "not removed: not every pod of talos-worker-4 fits on the other nodes (dns/blocky-5c8d7f6b9-run03: required pod anti-affinity keeps it off the nodes with room)",
    );
  });

  it("reads a namespaceSelector naming its namespace by kubernetes.io/metadata.name: staging's replicas do not count", async () => {
    const ownNamespace = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            ...apartFromBlocky,
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "dns" } },
          },
        ],
      },
    };
    const staging = WORKERS.map((node, at) =>
      pod("dns-staging", `blocky-7e6f5d4c3-stg0${at}`, { node, cpu: "100m", labels: BLOCKY }),
    );
    const output = await plan([...cluster(), ...staging, blocky("pen01", undefined, ownNamespace)]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/blocky-5c8d7f6b9-pen01 [^\n]* fits on talos-worker-1/);
  });

  it("removes talos-worker-4 when the anti-affinity is only preferred", async () => {
    const preferred = {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: apartFromBlocky },
        ],
      },
    };
    const output = await plan(
      [...cluster(FOUR), ...FOUR.map((node, at) => blocky(`run0${at}`, node, preferred))],
      OVER_MAX,
    );
    expect(counts(output)).toEqual([[4, 3]]);
    expect(onlyReasons(output)).toContain("removing talos-worker-4");
  });
});

/** An Immich server (1500m) that must run in the topology domain `key` of a Redis pod. */
function besideRedis(suffix: string, key = "kubernetes.io/hostname"): Raw {
  return pod("web", `immich-server-6c7d8e9f0-${suffix}`, {
    cpu: "1500m",
    memory: "1Gi",
    affinity: {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: { matchLabels: { "app.kubernetes.io/name": "redis" } },
            topologyKey: key,
          },
        ],
      },
    },
  });
}

/** Redis, running on the full talos-worker-1. */
const REDIS = pod("web", "immich-redis-5b6c7d8e9-rrrrr", {
  node: "talos-worker-1",
  cpu: "100m",
  memory: "128Mi",
  labels: { "app.kubernetes.io/name": "redis" },
});

describe("plan acceptance, constraints: required pod affinity", () => {
  it("adds no node for a pod that must share the full talos-worker-1 with Redis, and says why", async () => {
    const output = await planFull([REDIS, besideRedis("aaaaa")]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "never fits: web/immich-server-6c7d8e9f0-aaaaa (cpu 1500m, memory 1 GiB): its required pod affinity on kubernetes.io/hostname asks for pods that a new node of this pool would not run",
    );
  });

  it("adds a node when the rule is the zone every worker, and so a new node, shares with Redis", async () => {
    const zone = "topology.kubernetes.io/zone";
    const output = await plan([
      ...cluster(WORKERS, everyWorker({ labels: { [zone]: "pve-1" } })),
      ...fillers(),
      REDIS,
      besideRedis("bbbbb", zone),
    ]);
    expect(counts(output)).toEqual([[3, 4]]);
    expect(onlyReasons(output)).toMatch(/immich-server-6c7d8e9f0-bbbbb [^\n]* → new-1/);
  });
});

/** A Job pod (1500m) whose required pod (anti-)affinity selects the Cilium agent on its node. */
function byCilium(suffix: string, kind: "podAffinity" | "podAntiAffinity"): Raw {
  return pod("batch", `trace-29123400-${suffix}`, {
    owner: { kind: "Job", name: "trace-29123400" },
    cpu: "1500m",
    memory: "1Gi",
    affinity: {
      [kind]: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: { matchLabels: { "k8s-app": "cilium" } },
            namespaces: ["kube-system"],
            topologyKey: "kubernetes.io/hostname",
          },
        ],
      },
    },
  });
}

describe("plan acceptance, constraints: the DaemonSet pods a new node starts", () => {
  it("adds a node for a pod that must run beside the Cilium agent: a new node runs one", async () => {
    const output = await planFull([byCilium("aaaaa", "podAffinity")]);
    expect(counts(output)).toEqual([[3, 4]]);
    expect(onlyReasons(output)).toMatch(/trace-29123400-aaaaa [^\n]* → new-1/);
  });

  it("adds none for a pod that must not: a new node would run the agent too", async () => {
    const output = await planFull([byCilium("bbbbb", "podAntiAffinity")]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "never fits: batch/trace-29123400-bbbbb (cpu 1500m, memory 1 GiB): its required pod anti-affinity on kubernetes.io/hostname keeps it away from the domain a new node of this pool would join",
    );
  });
});

/** A Hubble relay pod (1500m) spread by hostname with maxSkew 1 over the pods of Cilium. */
function hubbleRelay(constraint: Raw = {}): Raw {
  const byCilium = { "k8s-app": "cilium" };
  return pod("kube-system", "hubble-relay-6c8d7f5b49-aaaaa", {
    cpu: "1500m",
    memory: "1Gi",
    labels: byCilium,
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: byCilium },
        ...constraint,
      },
    ],
  });
}

describe("plan acceptance, constraints: the DaemonSet pods a new node starts, for topology spread", () => {
  it("adds no node where the agent a new node starts is already one above the control plane", async () => {
    const output = await planFull([hubbleRelay()]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "never fits: kube-system/hubble-relay-6c8d7f5b49-aaaaa (cpu 1500m, memory 1 GiB): a topology spread constraint (DoNotSchedule on kubernetes.io/hostname) would not allow it on a new node of this pool, which starts with DaemonSet or static pods the constraint counts, so it would be more than maxSkew above the emptiest domain",
    );
  });

  it("adds one with the control plane's taint honoured: every domain then has an agent", async () => {
    const output = await planFull([hubbleRelay({ nodeTaintsPolicy: "Honor" })]);
    expect(counts(output)).toEqual([[3, 4]]);
  });
});

const WEB = { "app.kubernetes.io/name": "web" };

/** A web replica (1 cpu) spread by hostname with maxSkew 1, on `node` or Pending. */
function web(suffix: string, node: string | undefined, constraint: Raw = {}): Raw {
  return pod("web", `web-6b7c8d9e0f-${suffix}`, {
    node,
    cpu: "1",
    memory: "256Mi",
    labels: WEB,
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: WEB },
        ...constraint,
      },
    ],
    ...(node
      ? {}
      : { scheduled: unschedulable("node(s) didn't match pod topology spread constraints") }),
  });
}

const HONOR_TAINTS = { nodeTaintsPolicy: "Honor" };

describe("plan acceptance, constraints: topology spread on the hostname, maxSkew 1", () => {
  it("adds a node for a fourth replica beside one on each worker: the control plane is a domain with none", async () => {
    const replicas = (constraint?: Raw) => [
      ...WORKERS.map((node, at) => web(`run0${at}`, node, constraint)),
      web("pen01", undefined, constraint),
    ];
    const ignored = await plan([...cluster(), ...replicas()], ROOMY);
    expect(counts(ignored)).toEqual([[3, 4]]);
    expect(onlyReasons(ignored)).toMatch(/web-6b7c8d9e0f-pen01 [^\n]* → new-1/);
    // With the control plane's taint honoured, every domain has one: a second fits anywhere.
    const honoured = await plan([...cluster(), ...replicas(HONOR_TAINTS)], ROOMY);
    expect(honoured.proposals).toEqual([]);
    expect(poolNote(honoured)).toMatch(/web-6b7c8d9e0f-pen01 [^\n]* fits on talos-worker-1/);
  });

  it("adds a node per pending replica while the full workers hold none, though talos-worker-1 has room", async () => {
    const replicas = (when: string) => [
      ...cluster(),
      filler("talos-worker-2", 2, "3500m"),
      filler("talos-worker-3", 3, "3500m"),
      ...["run01", "run02", "pen01", "pen02"].map((suffix) =>
        web(suffix, suffix.startsWith("run") ? "talos-worker-1" : undefined, {
          whenUnsatisfiable: when,
        }),
      ),
    ];
    // talos-worker-1 has 1700m free but 2 replicas against 0 elsewhere; each new node takes one.
    const strict = await plan(replicas("DoNotSchedule"), ROOMY);
    expect(counts(strict)).toEqual([[3, 5]]);
    expect(onlyReasons(strict)).toContain("pending pods: 2 considered, 0 fit free room");
    // ScheduleAnyway only prefers: one goes to talos-worker-1's room, the other needs a node.
    const soft = await plan(replicas("ScheduleAnyway"), ROOMY);
    expect(counts(soft)).toEqual([[3, 4]]);
    expect(onlyReasons(soft)).toMatch(/web-6b7c8d9e0f-pen01 [^\n]* fits on talos-worker-1/);
  });

  it("lets a spread whose selector matches no pod, not even its own, bind nothing", async () => {
    const other = { labelSelector: { matchLabels: { "app.kubernetes.io/name": "other" } } };
    const output = await plan([
      ...cluster(),
      filler("talos-worker-2", 2, "3500m"),
      filler("talos-worker-3", 3, "3500m"),
      web("run01", "talos-worker-1", other),
      web("pen01", undefined, other),
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/web-6b7c8d9e0f-pen01 [^\n]* fits on talos-worker-1/);
  });

  it("keeps talos-worker-4 above the max with a replica on each worker, and removes it with the taint honoured", async () => {
    const spread = (constraint?: Raw) =>
      FOUR.map((node, at) => web(`run0${at}`, node, { ...constraint }));
    const kept = await plan([...cluster(FOUR), ...spread()], OVER_MAX);
    expect(kept.proposals).toEqual([]);
    expect(poolNote(kept)).toContain(
      "not removed: not every pod of talos-worker-4 fits on the other nodes (web/web-6b7c8d9e0f-run03: a topology spread constraint (DoNotSchedule) keeps it off the nodes with room)",
    );
    const removed = await plan([...cluster(FOUR), ...spread(HONOR_TAINTS)], OVER_MAX);
    expect(counts(removed)).toEqual([[4, 3]]);
  });
});

/** A Job pod of `cpu` and 1 GiB with the priority given (a PriorityClass's value). */
function prioritised(name: string, cpu: string, priority: number): Raw {
  const raw = pod("batch", `${name}-29123400-${priority > 0 ? "highp" : "lowpr"}`, {
    owner: { kind: "Job", name: `${name}-29123400` },
    cpu,
    memory: "1Gi",
  });
  (raw.spec as Raw).priority = priority;
  return raw;
}

describe("plan acceptance, priority", () => {
  it("leaves the lower-priority pod pending when the max allows one of two new nodes", async () => {
    // The archive pod sorts first by name; the scheduler serves the backup first all the same.
    const output = await planFull(
      [prioritised("archive", "3", 0), prioritised("zbackup", "3", 1_000_000)],
      { config: config({ "max: 6": "max: 4" }) },
    );
    expect(counts(output)).toEqual([[3, 4]]);
    const text = onlyReasons(output);
    expect(text).toMatch(/batch\/zbackup-29123400-highp [^\n]* → new-1/);
    expect(text).toContain(
      "beyond max: 2 new nodes needed, 1 allowed (the max is 4); left pending: batch/archive-29123400-lowpr",
    );
  });

  it("gives the room already there to the higher-priority pod, though the other is larger", async () => {
    const output = await plan(
      [
        ...cluster(),
        ...fillers(["talos-worker-2", "talos-worker-3"]),
        prioritised("archive", "3", 0),
        prioritised("zbackup", "2500m", 1_000_000),
      ],
      { config: config({ "max: 6": "max: 3" }) },
    );
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toMatch(/batch\/zbackup-29123400-highp [^\n]* fits on talos-worker-1/);
    expect(note).toContain("left pending: batch/archive-29123400-lowpr");
  });

  it("adds a node for a high-priority pod that could preempt the fillers: preemption is not simulated", async () => {
    const urgent = pod("batch", "backup-29123400-urgnt", {
      owner: { kind: "Job", name: "backup-29123400" },
      cpu: "1500m",
      memory: "1Gi",
    });
    const spec = urgent.spec as Raw;
    spec.priority = 1_000_000;
    spec.priorityClassName = "backup-critical";
    const output = await planFull([urgent]);
    expect(counts(output)).toEqual([[3, 4]]);
    expect(onlyReasons(output)).toMatch(/backup-29123400-urgnt [^\n]* → new-1/);
  });
});

describe("plan acceptance, pods the scheduler holds back", () => {
  it("adds no node for a pod held by a scheduling gate, and names the gate", async () => {
    const gated = pod("batch", "import-7f6e5d4c3-gat01", {
      owner: { kind: "Job", name: "import-7f6e5d4c3" },
      cpu: "1500m",
      memory: "1Gi",
      schedulingGates: [{ name: "example.com/quota" }],
      scheduled: {
        reason: "SchedulingGated",
        message: "Scheduling is blocked due to non-empty scheduling gates",
      },
    });
    const output = await planFull([gated]);
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "unjudged-pods");
    expect(note?.message).toContain(
      "1 Pending pod not marked unschedulable by the scheduler (held by scheduling gates) adds no node: batch/import-7f6e5d4c3-gat01 (scheduling gate example.com/quota);",
    );
    // Two days old, yet held on purpose (a job queue such as Kueue lifts the gate when it admits
    // the job): information, not the advice to check that the scheduler runs.
    expect(note?.level).toBe("info");
    expect(note?.message).not.toContain("check that the scheduler runs");
  });

  it("still warns of a pod no gate holds that its own scheduler left without a PodScheduled condition", async () => {
    const gated = pod("batch", "import-7f6e5d4c3-gat01", {
      cpu: "1500m",
      memory: "1Gi",
      schedulingGates: [{ name: "example.com/quota" }],
      scheduled: {
        reason: "SchedulingGated",
        message: "Scheduling is blocked due to non-empty scheduling gates",
      },
    });
    // Left to a scheduler other than the default one, which judges it or not: it adds no node.
    const unseen = pod("batch", "report-5b7c9d8e6-unsn1", {
      cpu: "1500m",
      memory: "512Mi",
      schedulerName: "volcano",
      scheduled: null,
    });
    const output = await planFull([gated, unseen]);
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "unjudged-pods");
    expect(note?.level).toBe("warning");
    expect(note?.message).toContain(
      "2 Pending pods not marked unschedulable by the scheduler (held by scheduling gates or left to another scheduler) add no node: batch/import-7f6e5d4c3-gat01 (scheduling gate example.com/quota), batch/report-5b7c9d8e6-unsn1 (scheduler volcano); the oldest was created 2026-11-20 08:00 UTC, more than 5m: check that the scheduler runs and that their schedulerName is one a scheduler serves",
    );
  });
});
