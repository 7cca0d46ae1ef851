/**
 * Kubernetes faults through the app's whole path: the cluster read by `readSnapshot` from the
 * fake kube-apiserver (a real HTTP server on 127.0.0.1), planned and turned into pull requests
 * by `reconcile` on the fake GitHub. The cluster is over-provisioned: four workers of 4 cpu and
 * 16 GiB, each running one 250m / 512Mi pod and using 300m / 1 GiB, with `worker_count = 4` in
 * the repository, so that with whole data the planner proposes 4 → 3 once usage has stayed low
 * for `unneededTime` (1m here). Each story: a reconcile with whole data 30 s before (no
 * evidence of a window yet, so no proposal), the faulted reconcile (a proposal now would rest
 * on missing data), then the fault is gone and the next reconcile must propose 4 → 3.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSnapshot } from "../src/cluster/read-snapshot.ts";
import { reconcile } from "../src/reconcile/reconcile.ts";
import type { ReconcileResult } from "../src/reconcile/reconcile-types.ts";
import { infraFiles, TFVARS, tfvars } from "../test/reconcile/support/infra.ts";
import { FakeKubeApiserver } from "../test/support/fake-kube-apiserver.ts";
import { nodeMetrics, podMetrics } from "../test/support/kube-fixtures.ts";
import type { FaultRow } from "./reliability-faults-github.ts";
import { type GitHubWorld, gitHubWorld, judge } from "./reliability-faults-world.ts";

type Raw = Record<string, unknown>;

const WORKERS = ["talos-worker-0", "talos-worker-1", "talos-worker-2", "talos-worker-3"];
/**
 * How long the reader waits for an answer before it gives up on a request. The fake API server
 * runs in this process, so its answers come only when the process runs: a stall of it (a loaded
 * machine stalls it for a second) must not make an answer late, so this is seconds, not ms.
 */
export const KUBE_TIMEOUT_MS = 3_000;
/**
 * How late a slow server's answers are: past the reader's wait for both tries, so the reader
 * gives up first whatever the stalls. The fake drops the answer when the reader goes.
 */
const SLOW_MS = 60_000;
const PAGE_SIZE = 2;

const CONFIG = `pools:
  - name: workers
    target:
      file: ${TFVARS}
      path: worker_count
    min: 1
    max: 6
    scaleDown:
      unneededTime: 1m
automerge:
  extends: preset:homelab
`;

/** The cluster, as it is when nothing is wrong. */
export interface KubeCluster {
  fake: FakeKubeApiserver;
  /** Kubeconfig of the server, and of one that refuses connections. */
  kubeconfig: string;
  deadKubeconfig: string;
  /** Puts every object back as a healthy cluster has it, with metrics fresh at `now`. */
  heal(now: Date): void;
  close(): Promise<void>;
}

function node(name: string, controlPlane = false): Raw {
  return {
    kind: "Node",
    apiVersion: "v1",
    metadata: {
      name,
      creationTimestamp: "2025-06-01T08:00:00Z",
      labels: {
        "kubernetes.io/hostname": name,
        ...(controlPlane ? { "node-role.kubernetes.io/control-plane": "" } : {}),
      },
    },
    spec: controlPlane
      ? { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] }
      : {},
    status: {
      capacity: { cpu: "4", memory: "16Gi", pods: "110" },
      allocatable: { cpu: "4", memory: "16Gi", pods: "110" },
      conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2025-06-01T08:01:00Z" }],
    },
  };
}

function pod(index: number, nodeName: string): Raw {
  return {
    kind: "Pod",
    apiVersion: "v1",
    metadata: {
      name: `web-6d4b9c7f5-${index}`,
      namespace: "apps",
      creationTimestamp: "2025-06-01T09:00:00Z",
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: "web-6d4b9c7f5",
          uid: "5d1f0c1e-4b7a-4e7e-9d53-2f1d3c4b5a60",
          controller: true,
        },
      ],
    },
    spec: {
      nodeName,
      containers: [
        {
          name: "web",
          image: "nginx:1.27",
          resources: { requests: { cpu: "250m", memory: "512Mi" } },
        },
      ],
    },
    status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
  };
}

async function kubeCluster(): Promise<KubeCluster> {
  const fake = await FakeKubeApiserver.start();
  const dead = await FakeKubeApiserver.start();
  const dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-faults-"));
  const kubeconfig = await fake.writeKubeconfig(join(dir, "kubeconfig"));
  const deadKubeconfig = await dead.writeKubeconfig(join(dir, "dead-kubeconfig"));
  await dead.close();
  return {
    fake,
    kubeconfig,
    deadKubeconfig,
    heal(now) {
      fake.clearFaults();
      fake.install("metrics.k8s.io");
      fake.clear();
      const fresh = new Date(now.getTime() - 10_000).toISOString();
      fake.add(node("talos-cp-0", true), ...WORKERS.map((name) => node(name)));
      fake.add(...WORKERS.map((name, i) => pod(i, name)));
      fake.add(...WORKERS.map((name) => nodeMetrics(name, { cpu: "300m", memory: "1Gi" }, fresh)));
      fake.add(
        nodeMetrics("talos-cp-0", { cpu: "400m", memory: "2Gi" }, fresh),
        ...WORKERS.map((_, i) =>
          podMetrics(
            "apps",
            `web-6d4b9c7f5-${i}`,
            { web: { cpu: "100m", memory: "300Mi" } },
            fresh,
          ),
        ),
      );
    },
    async close() {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fault of the cluster: what breaks before the faulted reconcile. */
export interface KubeFault {
  name: string;
  /** Breaks the cluster (`heal` undoes it); may send the read to the dead server instead. */
  inject(cluster: KubeCluster, now: Date): { dead?: boolean };
}

function withNode(cluster: KubeCluster, name: string, change: (node: Raw) => void): void {
  const object = cluster.fake.get("nodes", name) as Raw;
  change(object);
  cluster.fake.put("nodes", object);
}

export const kubeFaults: KubeFault[] = [
  {
    name: "Kubernetes API down (connection refused)",
    inject: () => ({ dead: true }),
  },
  {
    name: `Kubernetes API slow (every answer ${SLOW_MS / 1000} s late; the reader waits ${KUBE_TIMEOUT_MS / 1000} s)`,
    inject: (cluster) => {
      cluster.fake.injectFault({ path: /./, delayMs: SLOW_MS, times: Infinity });
      return {};
    },
  },
  {
    name: "410 Gone on every continue token (nodes and pods, pages of 2)",
    inject: (cluster) => {
      cluster.fake.injectFault({
        path: /^\/api\/v1\/(nodes|pods)$/,
        continued: true,
        status: 410,
        reason: "Expired",
        message: "The provided continue parameter is too old to display a consistent list result.",
        times: Infinity,
      });
      return {};
    },
  },
  {
    name: "pods list cut off mid-answer (second page)",
    inject: (cluster) => {
      cluster.fake.injectFault({
        path: "/api/v1/pods",
        continued: true,
        truncate: true,
        times: Infinity,
      });
      return {};
    },
  },
  {
    name: "metrics-server missing (404 on metrics.k8s.io)",
    inject: (cluster) => {
      cluster.fake.uninstall("metrics.k8s.io");
      return {};
    },
  },
  {
    name: `metrics-server slow (its answers ${SLOW_MS / 1000} s late)`,
    inject: (cluster) => {
      cluster.fake.injectFault({
        path: /^\/apis\/metrics\.k8s\.io\//,
        delayMs: SLOW_MS,
        times: Infinity,
      });
      return {};
    },
  },
  {
    name: "partial metrics (no sample for talos-worker-1)",
    inject: (cluster) => {
      cluster.fake.remove("nodemetrics", "talos-worker-1");
      return {};
    },
  },
  {
    name: "stale metrics (talos-worker-2's sample 10 minutes old)",
    inject: (cluster, now) => {
      const old = new Date(now.getTime() - 10 * 60_000).toISOString();
      cluster.fake.add(nodeMetrics("talos-worker-2", { cpu: "300m", memory: "1Gi" }, old));
      return {};
    },
  },
  {
    name: "stale metrics (every sample 10 minutes old)",
    inject: (cluster, now) => {
      const old = new Date(now.getTime() - 10 * 60_000).toISOString();
      for (const name of [...WORKERS, "talos-cp-0"])
        cluster.fake.add(nodeMetrics(name, { cpu: "300m", memory: "1Gi" }, old));
      return {};
    },
  },
  {
    name: "NotReady node (talos-worker-3 Ready=Unknown, its last metrics still served)",
    inject: (cluster, now) => {
      withNode(cluster, "talos-worker-3", (object) => {
        const status = object.status as Raw;
        status.conditions = [
          {
            type: "Ready",
            status: "Unknown",
            reason: "NodeStatusUnknown",
            message: "Kubelet stopped posting node status.",
            lastTransitionTime: new Date(now.getTime() - 60_000).toISOString(),
          },
        ];
      });
      return {};
    },
  },
  {
    name: "NotReady node (talos-worker-1 Ready=False)",
    inject: (cluster, now) => {
      withNode(cluster, "talos-worker-1", (object) => {
        const status = object.status as Raw;
        status.conditions = [
          {
            type: "Ready",
            status: "False",
            reason: "KubeletNotReady",
            message: "container runtime network not ready",
            lastTransitionTime: new Date(now.getTime() - 60_000).toISOString(),
          },
        ];
      });
      return {};
    },
  },
];

interface KubeStory {
  world: GitHubWorld;
  cluster: KubeCluster;
  /** Reads the dead server instead while true. */
  dead: { on: boolean };
}

async function story(): Promise<KubeStory> {
  const cluster = await kubeCluster();
  const dead = { on: false };
  const files = infraFiles({ config: CONFIG, workers: 4 });
  files.set(TFVARS, tfvars(4));
  const world: GitHubWorld = gitHubWorld(files, () =>
    readSnapshot({
      kubeconfig: dead.on ? cluster.deadKubeconfig : cluster.kubeconfig,
      now: () => world.github.now(),
      pageSize: PAGE_SIZE,
      timeoutMs: KUBE_TIMEOUT_MS,
      retries: 1,
      retryDelayMs: 10,
      limitYoungGeneration: false,
    }),
  );
  return { world, cluster, dead };
}

/** Scale-down proposals of a reconcile: decisions to lower a pool's count. */
function scaleDowns(result: ReconcileResult): number {
  return result.decisions.filter((decision) => decision.action === "scale-down").length;
}

const LOWER = /^Scale workers from 4 to [0-3] nodes?$/;

/** Pull requests a reconcile opened or changed to lower `worker_count`. */
function scaleDownPullRequestsMade(result: ReconcileResult): number {
  const made = ["created", "updated", "rebuilt"];
  return result.pullRequests.filter(
    (outcome) => made.includes(outcome.action) && LOWER.test(outcome.title ?? ""),
  ).length;
}

/** Scale-down proposals of a reconcile, counted once whether decided or also sent. */
function proposedDown(result: ReconcileResult): number {
  return Math.max(scaleDowns(result), scaleDownPullRequestsMade(result));
}

/** Open pull requests that lower `worker_count`. */
function scaleDownPullRequests(world: GitHubWorld): number {
  return world.github.openPulls().filter((pull) => LOWER.test(pull.title)).length;
}

/**
 * Tells the story with `fault` at its middle reconcile (none: the control, which must propose
 * the scale-down there). Returns the row, or throws when the control does not behave.
 */
export async function runKubeFault(fault: KubeFault | undefined): Promise<FaultRow> {
  const { world, cluster, dead } = await story();
  const notes: string[] = [];
  try {
    const app = world.start();
    cluster.heal(world.github.now());
    const warmUp = await reconcile(app.target);
    if (proposedDown(warmUp) > 0) notes.push("the first reconcile already proposed a scale-down");
    world.github.advance(30_000);
    cluster.heal(world.github.now());
    dead.on = fault?.inject(cluster, world.github.now()).dead ?? false;
    const faulted = await reconcile(app.target);
    const during = proposedDown(faulted);
    if (!fault) {
      if (during === 0) throw new Error(`no scale-down with whole data: ${explain(faulted)}`);
      return row({ fault: "none", recovered: 1, notes });
    }
    if (during > 0) notes.push(`proposed on missing data: ${explain(faulted)}`);
    dead.on = false;
    world.github.advance(30_000);
    cluster.heal(world.github.now());
    const after = await reconcile(app.target);
    const recovered = proposedDown(after) > 0 && scaleDownPullRequests(world) === 1;
    if (!recovered) notes.push(`no scale-down once the fault was gone: ${explain(after)}`);
    const judgement = judge(world.github);
    notes.push(...judgement.differences, ...world.problems);
    return row({
      fault: fault.name,
      duplicatePRs: judgement.duplicatePRs,
      halfMadeLeft: judgement.halfMade,
      scaleDownOnMissingData: during,
      recovered: recovered ? 1 : 0,
      notes,
      remarks: [`the faulted reconcile: ${explain(faulted)}`],
    });
  } finally {
    await cluster.close();
  }
}

function row(
  fields: Partial<FaultRow> & Pick<FaultRow, "fault" | "recovered" | "notes">,
): FaultRow {
  return {
    step: "observe → plan → pull requests (one reconcile)",
    runs: 1,
    duplicatePRs: 0,
    halfMadeLeft: 0,
    scaleDownOnMissingData: 0,
    ...fields,
  };
}

function explain(result: ReconcileResult): string {
  const decision = result.decisions[0];
  // The fake servers' ports change from run to run; the figures in the docs should not.
  const errors = result.errors.join("; ").replace(/(http:\/\/)?127\.0\.0\.1:\d+/g, "<server>");
  if (!decision) return `status ${result.status}; ${errors}`;
  const holds = decision.holds.map((hold) => hold.kind).join(", ") || "none";
  return `status ${result.status}, action ${decision.action}, holds: ${holds}`;
}

/** The control story, then every fault. */
export async function runKubeFaults(faults: KubeFault[] = kubeFaults): Promise<FaultRow[]> {
  await runKubeFault(undefined);
  const rows: FaultRow[] = [];
  for (const fault of faults) rows.push(await runKubeFault(fault));
  return rows;
}
