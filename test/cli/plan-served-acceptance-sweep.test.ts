/**
 * Scale-down as an operator checks it against `plan --kubeconfig` from the issue's own list,
 * blockers by safety stops by hysteresis, each expectation written before the plan was read:
 * from cluster-autoscaler's scale-down rules, Karpenter's reading of
 * `karpenter.sh/do-not-disrupt` (its state node's `ValidatePodsDisruptable`: every active pod of
 * the node, DaemonSet and mirror pods included) and docs/configuration.md ("Scale down", "What
 * holds a change back"). What the other plan-served-acceptance files pin is not repeated here.
 */
import { describe, expect, it } from "@jest/globals";
import { nodeMetrics } from "../support/kube-fixtures.ts";
import {
  ephemeralVolume,
  persistentVolume,
  storageClass,
  volumeClaim,
} from "../support/kube-volumes.ts";
import { type NodeOptions, type PlanJson, pdb, pod, type Raw } from "./served-cluster.ts";
import {
  apps,
  changedAt,
  cluster,
  commitFile,
  config,
  FOUR,
  judgedNow,
  nodeNamed,
  onWorker4,
  plan,
  poolDecision,
  poolNote,
  readyOf,
  serveForTest,
  tfvars,
} from "./served-plan.ts";

/** `talos-worker-1` … `talos-worker-{count}`. */
function workers(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `talos-worker-${index + 1}`);
}

/**
 * `count` idle workers whose last ones, from `firstDown` on, stopped being Ready days ago:
 * metrics-server has no sample of them, as it has none of a node whose kubelet is gone.
 */
function downFrom(count: number, firstDown: number): Raw[] {
  const names = workers(count);
  const down = new Set(names.slice(firstDown - 1));
  const options: Record<string, NodeOptions> = Object.fromEntries(
    [...down].map((name) => [name, { ready: false }]),
  );
  return cluster(names, options).filter(
    (object) => object.kind !== "NodeMetrics" || !down.has((object.metadata as Raw).name as string),
  );
}

/** `objects` with metrics-server's samples of the nodes taken at `at`, idle: 150m and 1 GiB. */
function sampledAt(objects: Raw[], at: string): Raw[] {
  return objects.map((object) =>
    object.kind === "NodeMetrics"
      ? nodeMetrics((object.metadata as Raw).name as string, { cpu: "150m", memory: "1Gi" }, at)
      : object,
  );
}

/** The planning time of the scenarios read against an infra repo's history. */
const NOW = "2026-11-22T10:00:00Z";

/**
 * `count` workers that metrics-server found idle 15 seconds before NOW, with an app pod on each
 * but the last, which was created at `created` and has been Ready since `readySince`, or without
 * it has never been Ready (no sample of it, then).
 */
function lastBooted(count: number, created: string, readySince?: string): Raw[] {
  const names = workers(count);
  const last = names.at(-1);
  const objects = sampledAt(cluster(names), "2026-11-22T09:59:45Z").filter(
    (object) =>
      readySince !== undefined ||
      object.kind !== "NodeMetrics" ||
      (object.metadata as Raw).name !== last,
  );
  const node = nodeNamed(objects, last as string);
  (node.metadata as Raw).creationTimestamp = created;
  const ready = readyOf(node) as Raw;
  if (readySince) ready.lastTransitionTime = readySince;
  else
    Object.assign(ready, {
      status: "False",
      reason: "KubeletNotReady",
      message: "container runtime network not ready: NetworkReady=false",
      lastHeartbeatTime: "2026-11-22T09:59:40Z",
      lastTransitionTime: created,
    });
  return [...objects, ...apps(names.slice(0, -1))];
}

describe("plan acceptance, sweep: every blocker of every node is listed", () => {
  it("keeps talos-worker-4 for its two blockers, naming both, and names those of talos-worker-2 and -3 under them", async () => {
    const output = await plan(
      [
        ...cluster(FOUR),
        pod("default", "debug-shell", { ...onWorker4, owner: null }),
        pod("home", "mosquitto-0", {
          ...onWorker4,
          owner: { kind: "StatefulSet", name: "mosquitto" },
          labels: { "app.kubernetes.io/name": "mosquitto" },
        }),
        pdb("home", "mosquitto", { "app.kubernetes.io/name": "mosquitto" }, 0),
        pod("media", "sonarr-6f7c8d9b5-lc3aa", {
          node: "talos-worker-3",
          cpu: "100m",
          memory: "128Mi",
          volumes: [{ name: "cache", emptyDir: {} }],
        }),
        pod("home", "backup-7c9d8f6b5-lw2aa", {
          node: "talos-worker-2",
          cpu: "100m",
          memory: "128Mi",
          annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" },
        }),
      ],
      judgedNow(4),
    );
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain("  not removed: talos-worker-4 has 2 blockers\n");
    expect(note).toContain(
      '  blockers on talos-worker-2: home/backup-7c9d8f6b5-lw2aa: safe-to-evict is "false"\n' +
        "  blockers on talos-worker-3: media/sonarr-6f7c8d9b5-lc3aa: local storage cache (emptyDir) (set scaleDown.deleteEmptyDirData if its data may go with the node)\n" +
        "  blockers on talos-worker-4: default/debug-shell: no controller would recreate it; home/mosquitto-0: PDB home/mosquitto allows 0 disruptions, 1 of its pods is here",
    );
    expect(poolDecision(output).blockers).toEqual([
      { node: "talos-worker-1", blockers: [] },
      {
        node: "talos-worker-2",
        blockers: [{ kind: "safe-to-evict-false", pod: "home/backup-7c9d8f6b5-lw2aa" }],
      },
      {
        node: "talos-worker-3",
        blockers: [
          {
            kind: "local-storage",
            pod: "media/sonarr-6f7c8d9b5-lc3aa",
            volumes: ["cache (emptyDir)"],
            emptyDirOnly: true,
          },
        ],
      },
      {
        node: "talos-worker-4",
        blockers: [
          { kind: "bare-pod", pod: "default/debug-shell" },
          {
            kind: "pdb",
            pod: "home/mosquitto-0",
            pdb: { name: "home/mosquitto", disruptionsAllowed: 0, podsOnNode: 1 },
          },
        ],
      },
    ]);
  });
});

describe("plan acceptance, sweep: do-not-disrupt on the pods a drain leaves", () => {
  /** A node agent on talos-worker-4 (a DaemonSet pod) annotated do-not-disrupt. */
  const agent = (options: { deletionTimestamp?: string } = {}) =>
    pod("monitoring", "node-backup-7x4kq", {
      ...onWorker4,
      owner: { kind: "DaemonSet", name: "node-backup" },
      annotations: { "karpenter.sh/do-not-disrupt": "true" },
      ...options,
    });

  it("keeps talos-worker-4 while a DaemonSet pod and a mirror pod on it say do-not-disrupt, as Karpenter reads them", async () => {
    const mirror = pod("kube-system", "haproxy-talos-worker-4", {
      ...onWorker4,
      owner: { kind: "Node", name: "talos-worker-4" },
      annotations: {
        "kubernetes.io/config.mirror": "5c0e7f3a9d2b4e61",
        "karpenter.sh/do-not-disrupt": "true",
      },
    });
    const output = await plan(
      [...cluster(FOUR), ...apps(FOUR.slice(0, 3)), agent(), mirror],
      judgedNow(4),
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "  blockers on talos-worker-4: kube-system/haproxy-talos-worker-4: do-not-disrupt; monitoring/node-backup-7x4kq: do-not-disrupt",
    );
  });

  it("removes talos-worker-4 once that DaemonSet pod is being deleted: Karpenter reads only active pods", async () => {
    const output = await plan(
      [
        ...cluster(FOUR),
        ...apps(FOUR.slice(0, 3)),
        agent({ deletionTimestamp: "2026-11-20T08:10:00Z" }),
      ],
      judgedNow(4),
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: talos-worker-4 has no blockers: met",
    );
  });
});

describe("plan acceptance, sweep: a generic ephemeral volume on node-local storage", () => {
  /**
   * A CI runner on talos-worker-4 whose scratch space is a generic ephemeral volume of
   * local-path-provisioner (WaitForFirstConsumer; its volumes are host paths pinned to their
   * node by `kubernetes.io/hostname`, as the provisioner makes them). The claim belongs to the
   * pod: evicted, the pod loses it, and the pod made in its place gets a new one where it goes.
   */
  function runner(annotations?: Record<string, string>): Raw[] {
    const name = "runner-6f7c8d9b5-w4kq2";
    const volume = "pvc-3f1c2a7b-5e0d-4c1a-9b8e-7d6f5a4c3b21";
    return [
      storageClass("local-path", {
        provisioner: "rancher.io/local-path",
        volumeBindingMode: "WaitForFirstConsumer",
      }),
      persistentVolume(volume, {
        hostPath: { path: `/var/local-path-provisioner/${volume}_ci_${name}-work`, type: "" },
        storageClassName: "local-path",
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
      }),
      volumeClaim("ci", `${name}-work`, { storageClassName: "local-path", volumeName: volume }),
      pod("ci", name, {
        ...onWorker4,
        ...(annotations ? { annotations } : {}),
        volumes: [ephemeralVolume("work", "local-path")],
      }),
    ];
  }

  it("keeps talos-worker-4 for the data the runner would lose, not for where it could run", async () => {
    const output = await plan(
      [...cluster(FOUR), ...apps(FOUR.slice(0, 3)), ...runner()],
      judgedNow(4),
    );
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain("  not removed: talos-worker-4 has 1 blocker\n");
    expect(note).toContain(
      "  blockers on talos-worker-4: ci/runner-6f7c8d9b5-w4kq2: local storage work (generic ephemeral, local) (set scaleDown.deleteEmptyDirData if its data may go with the node)",
    );
    expect(note).toContain("  scale-down: 1 pod of talos-worker-4 fits on the other nodes: met\n");
    const decision = poolDecision(output) as { blockers: { node: string; blockers: Raw[] }[] };
    expect(decision.blockers.find((entry) => entry.node === "talos-worker-4")?.blockers).toEqual([
      {
        kind: "local-storage",
        pod: "ci/runner-6f7c8d9b5-w4kq2",
        volumes: ["work (generic ephemeral, local)"],
        emptyDirOnly: true,
      },
    ]);
  });

  it("removes talos-worker-4 when the pool lets emptyDir data go: the volume dies with its pod as an emptyDir does", async () => {
    const output = await plan([...cluster(FOUR), ...apps(FOUR.slice(0, 3)), ...runner()], {
      tfvars: tfvars(4),
      config: config({
        "    removal:":
          "    scaleDown:\n      unneededTime: 0\n      deleteEmptyDirData: true\n    removal:",
      }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: talos-worker-4 has no blockers: met (the data of ci/runner-6f7c8d9b5-w4kq2 (work (generic ephemeral, local)) is deleted with it, as scaleDown.deleteEmptyDirData allows)",
    );
  });

  it("removes talos-worker-4 once the runner says its scratch may go: its new pod gets a new volume", async () => {
    const output = await plan(
      [
        ...cluster(FOUR),
        ...apps(FOUR.slice(0, 3)),
        ...runner({ "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes": "work" }),
      ],
      judgedNow(4),
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: 1 pod of talos-worker-4 fits on the other nodes: met",
    );
  });
});

describe("plan acceptance, sweep: do-not-disrupt for a while", () => {
  it("keeps talos-worker-4 until 50h after its runner started, as Karpenter reads a duration", async () => {
    // The runner started at 2026-11-20 08:00 (the served pods' start) and asks for 50h.
    const runner = pod("ci", "runner-7c9d8f6b5-q4x2m", {
      ...onWorker4,
      annotations: { "karpenter.sh/do-not-disrupt": "50h" },
    });
    const at = async (now: string, sampled: string) => {
      const objects = [...cluster(FOUR), ...apps(FOUR.slice(0, 3)), runner];
      const served = await serveForTest(sampledAt(objects, sampled));
      return served.plan(judgedNow(4), now);
    };
    const before = await at("2026-11-22T09:59:00Z", "2026-11-22T09:58:45Z");
    expect(before.proposals).toEqual([]);
    expect(poolNote(before)).toContain(
      "  blockers on talos-worker-4: ci/runner-7c9d8f6b5-q4x2m: do-not-disrupt until 2026-11-22 10:00 UTC",
    );
    expect(poolDecision(before).blockers).toContainEqual({
      node: "talos-worker-4",
      blockers: [
        {
          kind: "do-not-disrupt",
          pod: "ci/runner-7c9d8f6b5-q4x2m",
          until: "2026-11-22T10:00:00.000Z",
        },
      ],
    });
    const after = await at("2026-11-22T10:00:00Z", "2026-11-22T09:59:45Z");
    expect(after.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });
});

describe("plan acceptance, sweep: the 45 % of nodes not Ready, at its edges", () => {
  it("removes talos-worker-9, not Ready for days, with 4 of 9 down (44 %)", async () => {
    const output = await plan(downFrom(9, 6), judgedNow(9, { "max: 6": "max: 20" }));
    expect(output.proposals[0]).toMatchObject({ from: 9, to: 8 });
    // Planned days after it went down: how long, then since when.
    expect(output.proposals[0]?.reasons).toContainEqual(
      expect.stringMatching(
        /^ {2}trigger: talos-worker-9 has not been Ready for \d+d(\d+h)?(\d+m)?(\d+s)? \(since 2026-11-20 06:13:21 UTC\), more than 20m \(scaleDown\.unreadyTime\): it goes whatever the usage$/,
      ),
    );
  });

  it("acts at exactly 45 % (9 of 20 down), which is not more than 45 %", async () => {
    const output = await plan(downFrom(20, 12), judgedNow(20, { "max: 6": "max: 20" }));
    expect(output.proposals[0]).toMatchObject({ from: 20, to: 19 });
    expect(poolDecision(output).holds).toEqual([]);
  });

  it("takes no action with 5 of 11 down (45.5 %), and says which nodes", async () => {
    const output = await plan(downFrom(11, 7), judgedNow(11, { "max: 6": "max: 20" }));
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "  hold: 5 of 11 nodes not Ready (45.5 % > 45 %): talos-worker-7, talos-worker-8, talos-worker-9, talos-worker-10, talos-worker-11; no action\n",
    );
    expect(poolDecision(output).holds).toEqual([
      expect.objectContaining({ kind: "too-many-unready", total: 11, limit: 45 }),
    ]);
  });
});

describe("plan acceptance, sweep: usage that is too old to tell", () => {
  it("removes no node while talos-worker-4's only sample is ten minutes old: stale is unknown, not idle", async () => {
    const tenMinutesAgo = new Date(Date.now() - 600_000).toISOString().replace(/\.\d+Z$/, "Z");
    const objects = [
      ...cluster(FOUR).filter(
        (object) =>
          object.kind !== "NodeMetrics" || (object.metadata as Raw).name !== "talos-worker-4",
      ),
      nodeMetrics("talos-worker-4", { cpu: "150m", memory: "1Gi" }, tenMinutesAgo),
      ...apps(FOUR.slice(0, 3)),
    ];
    const served = await serveForTest(objects);
    const run = await served.run(["--json"], judgedNow(4));
    expect(run.stderr).toMatch(
      /warning: node\/talos-worker-4: metrics are \d+s old \(more than 300s\); usage treated as unknown \[metrics-stale\]/,
    );
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "  hold: cpu and memory usage unknown on talos-worker-4; no decision is taken on the pool's usage (unknown is not zero)\n",
    );
  });
});

describe("plan acceptance, sweep: a count beyond the bounds comes down to them in one decrease", () => {
  it("lowers 7 workers under a max of 5 to 5, not to 6, however busy they are", async () => {
    // The bounds decide, not usage; each node is judged on the pool the ones before it leave.
    const output = await plan(
      [...cluster(workers(7), {}, { cpu: "3000m", memory: "12Gi" }), ...apps(workers(7))],
      { tfvars: tfvars(7), config: config({ "max: 6": "max: 5" }) },
    );
    expect(output.proposals[0]).toMatchObject({ from: 7, to: 5 });
    expect(output.proposals[0]?.reasons).toContain("  trigger: count 7 is above the max of 5");
    expect(output.proposals[0]?.reasons[0]).toMatch(/removing talos-worker-7, talos-worker-6$/);
  });

  it("lowers 5 workers on a host that holds 3 to 3", async () => {
    const output = await plan([...cluster(workers(5)), ...apps(workers(5))], {
      tfvars: tfvars(5),
      config: config({ "    removal:": "    host:\n      maxNodes: 3\n    removal:" }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 5, to: 3 });
    expect(output.proposals[0]?.reasons).toContain("  trigger: count 5 is above the host cap of 3");
  });
});

describe("plan acceptance, sweep: a cordoned node above the max that something else keeps", () => {
  it("says only the blocker keeps it: the cordon would not, with the count above the max", async () => {
    const output = await plan(
      [
        ...cluster(FOUR, { "talos-worker-4": { unschedulable: true } }),
        pod("default", "debug-shell", { ...onWorker4, owner: null }),
      ],
      { tfvars: tfvars(4), config: config({ "max: 6": "max: 3" }) },
    );
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain("  not removed: talos-worker-4 has 1 blocker\n");
    expect(note).toContain(
      "  scale-down: talos-worker-4 is cordoned, and would go all the same: the count must come down to a bound\n",
    );
    expect(note).not.toContain("talos-worker-4 is cordoned: not met");
  });
});

describe("plan acceptance, sweep: a count above the max just after a scale-up", () => {
  it("waits out the delay after the scale-up, with no wait for a usage window: the max decides", async () => {
    // worker_count 4 → 5 at 09:50, talos-worker-5 Ready at 09:52; the max lowered to 4 at 09:58.
    // The cooldown is over; the delay after the scale-up holds the decrease until 10:02, and then
    // the fifth node goes whatever usage shows, so no usage window is waited for.
    const repo = changedAt(4, 5, "2026-11-22T09:50:00Z");
    const lowered = config({ "max: 6": "max: 4" });
    commitFile(
      repo,
      ".github/pr-autoscaler.yml",
      lowered,
      "2026-11-22T09:58:00Z",
      "workers: max 4",
    );
    const served = await serveForTest(
      lastBooted(5, "2026-11-22T09:51:00Z", "2026-11-22T09:52:00Z"),
    );
    const output = await served.planRepo(repo, NOW);
    expect(output.proposals).toEqual([]);
    expect(poolDecision(output).holds).toEqual([
      {
        kind: "scale-down-delay",
        since: "2026-11-22T09:52:00.000Z",
        until: "2026-11-22T10:02:00.000Z",
      },
    ]);
    expect(poolNote(output)).not.toContain("not yet over the window");
  });
});

describe("plan acceptance, sweep: a raise whose node is listed but never Ready", () => {
  /** Plans `objects` at NOW for a repo whose count went 3 → 4 at `raised`, judged at once. */
  async function planRaised(objects: Raw[], raised: string): Promise<PlanJson> {
    const served = await serveForTest(objects);
    return served.planRepo(changedAt(3, 4, raised, judgedNow(4).config), NOW);
  }

  it("waits for it 14 minutes after the raise, holding scale-down until 10 minutes after it is Ready", async () => {
    const output = await planRaised(lastBooted(4, "2026-11-22T09:47:00Z"), "2026-11-22T09:46:00Z");
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain(
      "  hold: the repo asks for 4 nodes, 3 are Ready, waiting until 2026-11-22 10:01 UTC; nothing new meanwhile\n",
    );
    expect(note).toContain(
      "  hold: no scale-down until 10m after the nodes of the last scale-up are Ready: talos-worker-4 is not Ready yet",
    );
  });

  it("reports it as failed 16 minutes after the raise, with a warning, and removes nothing", async () => {
    const output = await planRaised(lastBooted(4, "2026-11-22T09:45:00Z"), "2026-11-22T09:44:00Z");
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.level).toBe("warning");
    // The node is there, so what is known is said of it: not that a node may have failed to
    // join, stopped being Ready or joined without the pool's labels.
    expect(note?.message).toContain(
      "  hold: the repo asks for 4 nodes, 3 are Ready, 15m or more after the change of 2026-11-22 09:44 UTC: talos-worker-4 is listed but not Ready; nothing new until it is resolved\n",
    );
    expect(poolDecision(output).holds).toContainEqual(
      expect.objectContaining({
        kind: "provisioning-failed",
        expected: 4,
        nodes: ["talos-worker-4"],
      }),
    );
  });

  it("names a node that reports no Ready condition at all the same way, as one the raise awaits", async () => {
    // The kubelet registered talos-worker-4 and never posted its status: no Ready condition.
    const objects = lastBooted(4, "2026-11-22T09:45:00Z");
    const status = nodeNamed(objects, "talos-worker-4").status as Raw;
    status.conditions = (status.conditions as Raw[]).filter((entry) => entry.type !== "Ready");
    const output = await planRaised(objects, "2026-11-22T09:44:00Z");
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.level).toBe("warning");
    expect(note?.message).toContain(
      ": talos-worker-4 is listed but not Ready; nothing new until it is resolved\n",
    );
    // Awaited, not unready: it is not counted toward maxUnready, nor held as a node that stopped.
    expect(poolDecision(output).holds).not.toContainEqual(
      expect.objectContaining({ kind: "too-many-unready" }),
    );
  });
});
