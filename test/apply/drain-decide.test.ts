import { describe, expect, it } from "@jest/globals";
import {
  type BudgetSelector,
  type ClaimVolume,
  flagsOnNode,
  planNodeDrain,
  refuseOverlappingBudgets,
} from "../../src/apply/drain-decide.ts";
import { type DrainPod, toDrainPod } from "../../src/apply/drain-pod.ts";

type Raw = Record<string, unknown>;

interface PodSpec {
  /** The controller; its apiVersion by default that of the kind Kubernetes ships, else `v1`. */
  owner?: [kind: string, name: string, apiVersion?: string] | null;
  phase?: string;
  annotations?: Record<string, string>;
  volumes?: Raw[];
  deletionTimestamp?: string;
}

const SHIPPED: Record<string, string> = {
  ReplicaSet: "apps/v1",
  StatefulSet: "apps/v1",
  DaemonSet: "apps/v1",
  Job: "batch/v1",
};

function pod(name: string, spec: PodSpec = {}): DrainPod {
  const owner = spec.owner === undefined ? ["ReplicaSet", `${name}-rs`] : spec.owner;
  return toDrainPod({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "apps",
      uid: `uid-${name}`,
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
      ...(spec.deletionTimestamp ? { deletionTimestamp: spec.deletionTimestamp } : {}),
      ...(owner
        ? {
            ownerReferences: [
              {
                apiVersion: owner[2] ?? SHIPPED[owner[0] ?? ""] ?? "v1",
                kind: owner[0],
                name: owner[1],
                uid: "x",
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: { nodeName: "worker-1", containers: [{ name: "c" }], volumes: spec.volumes ?? [] },
    status: { phase: spec.phase ?? "Running" },
  });
}

const safeToEvict = "cluster-autoscaler.kubernetes.io/safe-to-evict";
const localVolumes = "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes";

const noFlags = { deleteEmptyDirData: false, forceBarePods: false };
const allFlags = { deleteEmptyDirData: true, forceBarePods: true };
const names = (pods: { name: string }[]) => pods.map((p) => p.name);

describe("toDrainPod", () => {
  it("reads the controller, annotations and volumes a drain cares about", () => {
    const read = pod("db-0", {
      owner: ["StatefulSet", "db"],
      annotations: {
        "cluster-autoscaler.kubernetes.io/safe-to-evict": "true",
        "kubernetes.io/config.mirror": "abc",
      },
      volumes: [
        { name: "scratch", emptyDir: {} },
        { name: "shm", emptyDir: { medium: "Memory" } },
        { name: "logs", hostPath: { path: "/var/log" } },
        { name: "data", persistentVolumeClaim: { claimName: "data-db-0" } },
        { name: "cache", ephemeral: { volumeClaimTemplate: { spec: {} } } },
        { name: "config", configMap: { name: "db" } },
      ],
    });
    expect(read).toMatchObject({
      namespace: "apps",
      name: "db-0",
      uid: "uid-db-0",
      controller: { kind: "StatefulSet", name: "db" },
      mirror: true,
      safeToEvict: "true",
      doNotDisrupt: false,
      emptyDirs: ["scratch"],
      hostPaths: ["logs"],
      claims: [
        { volume: "data", claim: "data-db-0" },
        { volume: "cache", claim: "db-0-cache", ephemeral: true },
      ],
    });
  });

  it("reads the volumes safe-to-evict-local-volumes names, spaces trimmed", () => {
    const read = pod("jellyfin-0", {
      annotations: { [localVolumes]: " cache, transcode ,," },
      volumes: [
        { name: "cache", emptyDir: {} },
        { name: "transcode", emptyDir: {} },
      ],
    });
    expect(read.evictableLocalVolumes).toEqual(["cache", "transcode"]);
    expect(read.emptyDirs).toEqual(["cache", "transcode"]);
    expect(pod("web-1").evictableLocalVolumes).toEqual([]);
  });

  it("counts only an owner reference marked controller", () => {
    const read = toDrainPod({
      metadata: {
        name: "p",
        namespace: "apps",
        ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner-only" }],
      },
    });
    expect(read.controller).toBeUndefined();
  });
});

describe("planNodeDrain", () => {
  it("evicts a pod of a custom controller as kubectl does, warning that only it brings the pod back", () => {
    const plan = planNodeDrain(
      [
        pod("main-2", { owner: ["Cluster", "main", "postgresql.cnpg.io/v1"] }),
        pod("web-1"),
        pod("job-1", { owner: ["Job", "j"] }),
        // Volcano's Job: a custom resource of the kind, not Kubernetes' batch Job.
        pod("train-0", { owner: ["Job", "train", "batch.volcano.sh/v1alpha1"] }),
      ],
      noFlags,
    );
    expect(names(plan.evict)).toEqual(["job-1", "main-2", "train-0", "web-1"]);
    expect(plan.refused).toEqual([]);
    expect(plan.warnings.map((w) => [w.pod.name, w.message])).toEqual([
      [
        "main-2",
        "its controller Cluster.postgresql.cnpg.io main is not one Kubernetes ships: the pod runs on another node only if that controller makes it again",
      ],
      [
        "train-0",
        "its controller Job.batch.volcano.sh train is not one Kubernetes ships: the pod runs on another node only if that controller makes it again",
      ],
    ]);
    const done = planNodeDrain(
      [pod("main-3", { owner: ["Cluster", "main"], phase: "Succeeded" })],
      noFlags,
    );
    expect(done.warnings).toEqual([]);
  });

  it("evicts controlled pods and leaves DaemonSet and mirror pods alone", () => {
    const plan = planNodeDrain(
      [
        pod("web-1"),
        pod("cilium-abc", { owner: ["DaemonSet", "cilium"] }),
        pod("kube-proxy-w1", {
          owner: ["Node", "worker-1"],
          annotations: { "kubernetes.io/config.mirror": "hash" },
        }),
        pod("db-0", { owner: ["StatefulSet", "db"] }),
      ],
      noFlags,
    );
    expect(names(plan.evict)).toEqual(["db-0", "web-1"]);
    expect(plan.skipped.map((s) => [s.pod.name, s.reason])).toEqual([
      ["cilium-abc", "daemonset"],
      ["kube-proxy-w1", "mirror"],
    ]);
    expect(plan.refused).toEqual([]);
  });

  it("refuses emptyDir and bare pods unless their flags are given, and names the flag", () => {
    const pods = [
      pod("cache", { volumes: [{ name: "tmp", emptyDir: {} }] }),
      pod("debug", { owner: null }),
    ];
    const refused = planNodeDrain(pods, noFlags);
    expect(refused.evict).toEqual([]);
    expect(
      refused.refused.map((r) => [r.pod.name, r.refusals.map((x) => [x.reason, x.flag])]),
    ).toEqual([
      ["cache", [["emptydir", "--delete-emptydir-data"]]],
      ["debug", [["bare-pod", "--force-bare-pods"]]],
    ]);
    expect(refused.refused[0]?.refusals[0]?.message).toContain('"tmp"');
    const allowed = planNodeDrain(pods, allFlags);
    expect(names(allowed.evict)).toEqual(["cache", "debug"]);
    expect(allowed.refused).toEqual([]);
  });

  it("refuses a pod whose do-not-disrupt duration has not run out since it started, and evicts it after", () => {
    const runner = (now: string) =>
      toDrainPod(
        {
          metadata: {
            name: "runner",
            namespace: "ci",
            uid: "uid-runner",
            annotations: { "karpenter.sh/do-not-disrupt": "2h" },
            ownerReferences: [
              { apiVersion: "apps/v1", kind: "ReplicaSet", name: "runner-rs", controller: true },
            ],
          },
          spec: { nodeName: "worker-1", containers: [{ name: "c" }] },
          status: { phase: "Running", startTime: "2026-11-22T09:00:00Z" },
        },
        new Date(now),
      );
    const held = planNodeDrain([runner("2026-11-22T10:59:59Z")], noFlags);
    expect(held.refused.map((r) => r.refusals)).toEqual([
      [
        {
          reason: "do-not-disrupt",
          message: "annotated karpenter.sh/do-not-disrupt for a while, until 2026-11-22 11:00 UTC",
        },
      ],
    ]);
    const over = planNodeDrain([runner("2026-11-22T11:00:00Z")], noFlags);
    expect(names(over.evict)).toEqual(["runner"]);
    expect(over.refused).toEqual([]);
  });

  it("refuses pods that asked not to be moved, whatever the flags, and lists every reason", () => {
    const plan = planNodeDrain(
      [
        pod("batch", { annotations: { "karpenter.sh/do-not-disrupt": "true" } }),
        pod("legacy", {
          owner: null,
          annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" },
        }),
        pod("fine", { annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "true" } }),
        pod("also-fine", { annotations: { "karpenter.sh/do-not-disrupt": "false" } }),
      ],
      allFlags,
    );
    expect(names(plan.evict)).toEqual(["also-fine", "fine"]);
    expect(plan.refused.map((r) => [r.pod.name, r.refusals.map((x) => x.reason)])).toEqual([
      ["batch", ["do-not-disrupt"]],
      ["legacy", ["safe-to-evict"]],
    ]);
    expect(plan.refused.every((r) => r.refusals.every((x) => x.flag === undefined))).toBe(true);
    const bare = planNodeDrain(
      [
        pod("legacy", {
          owner: null,
          annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" },
        }),
      ],
      noFlags,
    );
    expect(bare.refused[0]?.refusals.map((x) => x.reason)).toEqual(["safe-to-evict", "bare-pod"]);
  });

  it("evicts a pod whose only emptyDir is memory-backed, without the flag", () => {
    const plan = planNodeDrain(
      [
        pod("postgres-0", {
          owner: ["StatefulSet", "postgres"],
          volumes: [{ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "1Gi" } }],
        }),
      ],
      noFlags,
    );
    expect(names(plan.evict)).toEqual(["postgres-0"]);
    expect(plan.refused).toEqual([]);
  });

  it("evicts a pod whose emptyDirs safe-to-evict-local-volumes all names, without the flag", () => {
    const plan = planNodeDrain(
      [
        pod("jellyfin-0", {
          owner: ["StatefulSet", "jellyfin"],
          annotations: { [localVolumes]: "cache, transcode" },
          volumes: [
            { name: "cache", emptyDir: {} },
            { name: "transcode", emptyDir: { medium: "Memory" } },
          ],
        }),
      ],
      noFlags,
    );
    expect(names(plan.evict)).toEqual(["jellyfin-0"]);
    expect(plan.refused).toEqual([]);
  });

  it("still refuses a pod whose annotation leaves an emptyDir out, naming only that one", () => {
    const plan = planNodeDrain(
      [
        pod("jellyfin-0", {
          annotations: { [localVolumes]: "cache" },
          volumes: [
            { name: "cache", emptyDir: {} },
            { name: "transcode", emptyDir: {} },
            { name: "scratch", emptyDir: {} },
          ],
        }),
      ],
      noFlags,
    );
    expect(plan.evict).toEqual([]);
    expect(plan.refused.map((r) => [r.pod.name, r.refusals])).toEqual([
      [
        "jellyfin-0",
        [
          {
            reason: "emptydir",
            message: 'emptyDir "transcode", "scratch" would be deleted with it',
            flag: "--delete-emptydir-data",
          },
        ],
      ],
    ]);
    expect(
      planNodeDrain(
        plan.refused.map((r) => r.pod),
        allFlags,
      ).refused,
    ).toEqual([]);
  });

  it('lets safe-to-evict "true" lift the emptyDir and bare-pod refusals, never do-not-disrupt', () => {
    const safe = { [safeToEvict]: "true" };
    const plan = planNodeDrain(
      [
        pod("cache", { annotations: safe, volumes: [{ name: "tmp", emptyDir: {} }] }),
        pod("debug", { owner: null, annotations: safe }),
        pod("both", { owner: null, annotations: safe, volumes: [{ name: "tmp", emptyDir: {} }] }),
        pod("batch", {
          annotations: { ...safe, "karpenter.sh/do-not-disrupt": "true" },
          volumes: [{ name: "tmp", emptyDir: {} }],
        }),
      ],
      noFlags,
    );
    expect(names(plan.evict)).toEqual(["both", "cache", "debug"]);
    expect(plan.refused.map((r) => [r.pod.name, r.refusals.map((x) => x.reason)])).toEqual([
      ["batch", ["do-not-disrupt"]],
    ]);
  });

  it('still refuses safe-to-evict "false", whatever else the pod or the flags say', () => {
    const plan = planNodeDrain(
      [
        pod("backup-1", {
          annotations: { [safeToEvict]: "false", [localVolumes]: "tmp" },
          volumes: [{ name: "tmp", emptyDir: {} }],
        }),
      ],
      allFlags,
    );
    expect(plan.evict).toEqual([]);
    expect(plan.refused.map((r) => r.refusals.map((x) => x.reason))).toEqual([["safe-to-evict"]]);
    const unflagged = planNodeDrain(
      [
        pod("backup-2", {
          annotations: { [safeToEvict]: "false" },
          volumes: [{ name: "tmp", emptyDir: {} }],
        }),
      ],
      noFlags,
    );
    expect(unflagged.refused.map((r) => r.refusals.map((x) => x.reason))).toEqual([
      ["safe-to-evict", "emptydir"],
    ]);
  });

  it("evicts finished pods whatever their owner, volumes or annotations", () => {
    const plan = planNodeDrain(
      [
        pod("job-done", {
          owner: null,
          phase: "Succeeded",
          volumes: [{ name: "tmp", emptyDir: {} }],
          annotations: { "karpenter.sh/do-not-disrupt": "true" },
        }),
        pod("crashed", { owner: null, phase: "Failed" }),
      ],
      noFlags,
    );
    expect(names(plan.evict)).toEqual(["crashed", "job-done"]);
    expect(plan.refused).toEqual([]);
  });

  it("waits for pods already being deleted instead of evicting them", () => {
    const plan = planNodeDrain(
      [pod("leaving", { owner: null, deletionTimestamp: "2025-01-12T00:00:00Z" })],
      noFlags,
    );
    expect(plan.evict).toEqual([]);
    expect(plan.refused).toEqual([]);
    expect(names(plan.terminating)).toEqual(["leaving"]);
  });

  it("warns about data that does not follow the pod: hostPath and node-local volumes", () => {
    const claims = new Map<string, ClaimVolume>([
      ["apps/data-db-0", { kind: "node-local", volume: "pvc-123" }],
      ["apps/runner-7-work", { kind: "node-local", volume: "pvc-456" }],
      ["apps/data-db-1", { kind: "elsewhere" }],
      ["apps/data-db-2", { kind: "unknown", why: "HTTP 403 Forbidden" }],
    ]);
    const withClaim = (name: string, claim: string) =>
      pod(name, {
        owner: ["StatefulSet", "db"],
        volumes: [{ name: "data", persistentVolumeClaim: { claimName: claim } }],
      });
    const plan = planNodeDrain(
      [
        pod("logger", { volumes: [{ name: "logs", hostPath: { path: "/var/log" } }] }),
        withClaim("db-0", "data-db-0"),
        withClaim("db-1", "data-db-1"),
        withClaim("db-2", "data-db-2"),
        withClaim("db-3", "data-db-3"),
        // A generic ephemeral volume's claim goes with its pod: the new pod gets its own. Its
        // scratch is let go here as an emptyDir's is (refused otherwise, below).
        pod("runner-7", {
          owner: ["ReplicaSet", "runner"],
          volumes: [{ name: "work", ephemeral: { volumeClaimTemplate: { spec: {} } } }],
        }),
      ],
      { ...noFlags, deleteEmptyDirData: true },
      claims,
    );
    expect(names(plan.evict)).toEqual(["db-0", "db-1", "db-2", "db-3", "logger", "runner-7"]);
    expect(plan.warnings.map((w) => [w.pod.name, w.message])).toEqual([
      ["db-0", expect.stringContaining("node-local volume pvc-123")],
      ["db-2", expect.stringContaining("HTTP 403 Forbidden")],
      ["db-3", expect.stringContaining("not checked")],
      ["logger", expect.stringContaining('hostPath "logs"')],
      [
        "runner-7",
        'generic ephemeral volume "work" (claim runner-7-work) is node-local volume pvc-456: its data is deleted with the pod, and the pod made in its place gets a claim of its own',
      ],
    ]);
  });
});

describe("planNodeDrain: generic ephemeral volumes", () => {
  // A CI runner's scratch: the claim is the pod's own, deleted with it.
  const runner = (name: string, annotations?: Record<string, string>) =>
    pod(name, {
      owner: ["ReplicaSet", "runner"],
      ...(annotations ? { annotations } : {}),
      volumes: [
        { name: "work", ephemeral: { volumeClaimTemplate: { spec: {} } } },
        { name: "tmp", emptyDir: {} },
      ],
    });
  const claims = new Map<string, ClaimVolume>([
    ["apps/runner-1-work", { kind: "node-local", volume: "pvc-3f1c2a7b" }],
    ["apps/runner-2-work", { kind: "elsewhere" }],
    ["apps/runner-3-work", { kind: "unknown", why: "HTTP 403 Forbidden" }],
  ]);

  it("refuses one on a node-local volume as it refuses an emptyDir, naming the volume", () => {
    const plan = planNodeDrain([runner("runner-1")], noFlags, claims);
    expect(plan.evict).toEqual([]);
    expect(plan.refused.map((r) => r.refusals)).toEqual([
      [
        {
          reason: "emptydir",
          message:
            'emptyDir "tmp", generic ephemeral volume "work" (node-local volume pvc-3f1c2a7b) would be deleted with it',
          flag: "--delete-emptydir-data",
        },
      ],
    ]);
    // Alone, without an emptyDir beside it.
    const alone = pod("runner-1", {
      owner: ["ReplicaSet", "runner"],
      volumes: [{ name: "work", ephemeral: { volumeClaimTemplate: { spec: {} } } }],
    });
    expect(planNodeDrain([alone], noFlags, claims).refused[0]?.refusals[0]?.message).toBe(
      'generic ephemeral volume "work" (node-local volume pvc-3f1c2a7b) would be deleted with it',
    );
  });

  it("evicts it where --delete-emptydir-data-on names the node, and refuses it elsewhere", () => {
    const flags = { ...noFlags, deleteEmptyDirDataOn: ["worker-1"] };
    const pods = [runner("runner-1")];
    expect(names(planNodeDrain(pods, flagsOnNode(flags, "worker-1"), claims).evict)).toEqual([
      "runner-1",
    ]);
    expect(
      planNodeDrain(pods, flagsOnNode(flags, "worker-2"), claims).refused.map((r) => r.pod.name),
    ).toEqual(["runner-1"]);
  });

  it("evicts it when the pod's owner lets the data go, or when the claim is not on the node", () => {
    const plan = planNodeDrain(
      [
        runner("runner-1", { [safeToEvict]: "true" }),
        runner("runner-4", { [localVolumes]: "work,tmp" }),
      ],
      noFlags,
      new Map([...claims, ["apps/runner-4-work", { kind: "node-local", volume: "pvc-9" }]]),
    );
    expect(names(plan.evict)).toEqual(["runner-1", "runner-4"]);
    const elsewhere = pod("runner-2", {
      owner: ["ReplicaSet", "runner"],
      volumes: [{ name: "work", ephemeral: { volumeClaimTemplate: { spec: {} } } }],
    });
    expect(names(planNodeDrain([elsewhere], noFlags, claims).evict)).toEqual(["runner-2"]);
  });

  it("refuses one whose claim could not be read: its data may be on the node", () => {
    const unread = pod("runner-3", {
      owner: ["ReplicaSet", "runner"],
      volumes: [{ name: "work", ephemeral: { volumeClaimTemplate: { spec: {} } } }],
    });
    expect(planNodeDrain([unread], noFlags, claims).refused[0]?.refusals).toEqual([
      {
        reason: "emptydir",
        message:
          'generic ephemeral volume "work" (claim runner-3-work, whose volume may be node-local: HTTP 403 Forbidden) would be deleted with it',
        flag: "--delete-emptydir-data",
      },
    ]);
    expect(names(planNodeDrain([unread], allFlags, claims).evict)).toEqual(["runner-3"]);
  });

  it("evicts one whose claim does not exist: the pod has not mounted it, so nothing of it is here", () => {
    // The ephemeral volume controller has not made the claim yet: the kubelet waits for it.
    const waiting = pod("runner-5", {
      owner: ["ReplicaSet", "runner"],
      volumes: [{ name: "work", ephemeral: { volumeClaimTemplate: { spec: {} } } }],
    });
    const missing = new Map<string, ClaimVolume>([["apps/runner-5-work", { kind: "missing" }]]);
    const plan = planNodeDrain([waiting], noFlags, missing);
    expect(plan.refused).toEqual([]);
    expect(names(plan.evict)).toEqual(["runner-5"]);
    expect(plan.warnings.map((w) => w.message)).toEqual([
      'generic ephemeral volume "work": its claim runner-5-work does not exist, so the pod has not mounted it and nothing of it is on this node',
    ]);
    // An emptyDir beside it is refused all the same, and the refusal names only the emptyDir.
    const both = pod("runner-5", {
      owner: ["ReplicaSet", "runner"],
      volumes: [
        { name: "work", ephemeral: { volumeClaimTemplate: { spec: {} } } },
        { name: "tmp", emptyDir: {} },
      ],
    });
    expect(planNodeDrain([both], noFlags, missing).refused[0]?.refusals[0]?.message).toBe(
      'emptyDir "tmp" would be deleted with it',
    );
  });
});

describe("refuseOverlappingBudgets", () => {
  const budget = (name: string, selector: BudgetSelector["selector"], namespace = "apps") => ({
    namespace,
    name,
    selector,
  });

  it("refuses a pod that several budgets of its namespace select, naming them", () => {
    const plan = refuseOverlappingBudgets(planNodeDrain([pod("web-1"), pod("api-1")], noFlags), [
      budget("web-pdb", { matchLabels: {} }),
      budget("all-apps", {}),
      budget("none", undefined),
      budget("elsewhere", {}, "other"),
    ]);
    expect(names(plan.evict)).toEqual([]);
    expect(plan.refused.map((r) => [r.pod.name, r.refusals])).toEqual([
      [
        "api-1",
        [expect.objectContaining({ reason: "pdbs-overlap", budgets: ["all-apps", "web-pdb"] })],
      ],
      [
        "web-1",
        [expect.objectContaining({ reason: "pdbs-overlap", budgets: ["all-apps", "web-pdb"] })],
      ],
    ]);
  });

  it("leaves pods one budget at most selects, and those the API server evicts past budgets", () => {
    const before = planNodeDrain(
      [pod("web-1"), pod("done-1", { phase: "Succeeded" }), pod("new-1", { phase: "Pending" })],
      noFlags,
    );
    expect(refuseOverlappingBudgets(before, [budget("all-apps", {})])).toBe(before);
    const both = [budget("a", {}), budget("b", {})];
    expect(names(refuseOverlappingBudgets(before, both).evict)).toEqual(["done-1", "new-1"]);
  });
});
