/**
 * Times planNodes on generated clusters: 500, 1,000 and 5,000 workers in two pools with 30 pods
 * each (one a DaemonSet pod) leaving little free cpu, a PDB per two nodes, and 300 pending pods
 * that need new nodes (so every pending pod is tried against every node). Then a homelab-sized
 * pool (3 workers with 30 pods each) with two schedules, one in UTC and one in Europe/Berlin, planned once
 * a minute for a day as the app and the backtest ask: there schedule evaluation is a large part
 * of each plan. The large clusters are planned again with the rules that depend on other pods:
 * on every node one replica that no other replica of its app may share a node with (required
 * anti-affinity), on every other node a pod holding host port 8443; of the pending pods every
 * tenth shuns the nodes of the others, every tenth is spread over nodes (DoNotSchedule, skew 1)
 * and every tenth wants host port 8443. Prints milliseconds per plan.
 * Run: node_modules/.bin/node bench/plan.ts
 */
import { planNodes } from "../src/planning/node-plan.ts";
import type {
  NodeInfo,
  PodDisruptionBudgetInfo,
  PodInfo,
  Snapshot,
} from "../src/planning/snapshot.ts";
import { RepoConfig } from "../src/policy/repo-config.ts";

const GIB = 2 ** 30;
const TAKEN_AT = "2025-06-06T12:00:00.000Z";
const PODS_PER_NODE = 30;
const PENDING = 300;

function generate(nodeCount: number, antiAffinity = false): Snapshot {
  const nodes: NodeInfo[] = [];
  const pods: PodInfo[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const name = `worker-${i}`;
    const pool = i % 2 === 0 ? "general" : "batch";
    nodes.push({
      name,
      pool,
      labels: { "kubernetes.io/hostname": name, "example.org/pool": pool },
      taints: [],
      unschedulable: false,
      ready: true,
      createdAt: "2025-06-01T00:00:00.000Z",
      controlPlane: false,
      capacity: { cpu: 16_000, memory: 64 * GIB, pods: 110 },
      allocatable: { cpu: 4_500, memory: 62 * GIB, pods: 110 },
      usage: {
        cpu: 2_000 + (i % 7) * 200,
        memory: (20 + (i % 5)) * GIB,
        source: "prometheus",
        windowSeconds: 3600,
        gapSeconds: 60,
        peak: { cpu: 5_000, memory: 30 * GIB, percentile: 95 },
      },
    });
    for (let j = 0; j < PODS_PER_NODE; j++) {
      const pod = runningPod(i, j, name);
      if (antiAffinity && j === 1) pod.podAntiAffinity = [spreadOver(pod.labels)];
      if (antiAffinity && j === 2 && i % 2 === 0) pod.hostPorts = [{ port: 8443, protocol: "TCP" }];
      pods.push(pod);
    }
  }
  for (let k = 0; k < PENDING; k++) {
    const pod = pendingPod(k);
    if (antiAffinity && k % 10 === 0) pod.podAntiAffinity = [spreadOver(pod.labels)];
    if (antiAffinity && k % 10 === 1)
      pod.topologySpread = [
        {
          maxSkew: 1,
          topologyKey: "kubernetes.io/hostname",
          selector: { matchLabels: { app: pod.labels.app ?? "" } },
          honorNodeAffinity: true,
          honorTaints: false,
        },
      ];
    if (antiAffinity && k % 10 === 2) pod.hostPorts = [{ port: 8443, protocol: "TCP" }];
    pods.push(pod);
  }
  const pdbs: PodDisruptionBudgetInfo[] = [];
  for (let d = 0; d < nodeCount / 2; d++)
    pdbs.push({
      namespace: `ns-${d % 20}`,
      name: `pdb-${d}`,
      selector: { matchLabels: { app: `app-${d}` } },
      disruptionsAllowed: d % 3,
    });
  return {
    version: 1,
    takenAt: TAKEN_AT,
    source: { kind: "simulation" },
    complete: true,
    warnings: [],
    nodes,
    pods,
    pdbs,
    vpas: [],
    hpas: [],
    metrics: { nodes: "available", pods: "available", source: "prometheus", windowSeconds: 3600 },
  };
}

/** A hostname anti-affinity term selecting pods with the same `app` label, in any namespace. */
function spreadOver(labels: Record<string, string>): NonNullable<PodInfo["podAntiAffinity"]>[0] {
  return {
    selector: { matchLabels: { app: labels.app ?? "" } },
    allNamespaces: true,
    topologyKey: "kubernetes.io/hostname",
  };
}

function runningPod(nodeIndex: number, j: number, nodeName: string): PodInfo {
  const daemonSet = j === 0;
  const app = daemonSet ? "node-exporter" : `app-${(nodeIndex * PODS_PER_NODE + j) % 2500}`;
  const requests = { cpu: 50 + (j % 5) * 50, memory: (256 + (j % 4) * 256) * 2 ** 20 };
  return {
    ...basePod(`ns-${(nodeIndex + j) % 20}`, `${app}-${nodeIndex}-${j}`, app, requests),
    phase: "Running",
    nodeName,
    daemonSet,
    owner: { kind: daemonSet ? "DaemonSet" : "Deployment", name: app },
  };
}

function pendingPod(k: number): PodInfo {
  const requests = { cpu: 1_000 + (k % 7) * 500, memory: (1 + (k % 6)) * GIB };
  return {
    ...basePod("pending", `job-${k}`, "job", requests),
    phase: "Pending",
    owner: { kind: "Job", name: `job-${k}` },
    nodeSelector: k % 3 === 0 ? { "example.org/pool": "batch" } : {},
    unschedulable: { message: "0/N nodes are available: Insufficient cpu." },
  };
}

function basePod(namespace: string, name: string, app: string, requests: PodInfo["requests"]) {
  return {
    namespace,
    name,
    labels: { app },
    requests,
    containers: [{ name: "app", requests, limits: {} }],
    initContainers: [],
    nodeSelector: {},
    tolerations: [],
    blockingVolumes: [],
    doNotDisrupt: false,
    daemonSet: false,
    mirror: false,
    oomKills: [],
    createdAt: TAKEN_AT,
  };
}

const config = RepoConfig.parse({
  pools: ["general", "batch"].map((name) => ({
    name,
    target: { file: "terraform/terraform.tfvars", path: `${name}_count` },
    selector: { matchLabels: { "example.org/pool": name } },
    max: 10_000,
  })),
});

for (const [count, antiAffinity] of [
  [500, false],
  [1_000, false],
  [5_000, false],
  [500, true],
  [1_000, true],
  [5_000, true],
] as const) {
  const snapshot = generate(count, antiAffinity);
  const repo = config.pools.map((pool) => ({ pool: pool.name, currentValue: count / 2 }));
  const input = { snapshot, config, repo, now: new Date(TAKEN_AT) };
  planNodes(input);
  const runs = 3;
  const started = performance.now();
  let decisions = planNodes(input);
  for (let i = 1; i < runs; i++) decisions = planNodes(input);
  const ms = (performance.now() - started) / runs;
  const summary = decisions
    .map((d) => `${d.pool} ${d.action} ${d.current}→${d.desired}`)
    .join(", ");
  process.stdout.write(
    `${count} nodes, ${snapshot.pods.length} pods (${PENDING} pending)${antiAffinity ? ", with pod rules" : ""}: ${ms.toFixed(0)} ms per plan [${summary}]\n`,
  );
}

const homelab = RepoConfig.parse({
  pools: [
    {
      name: "general",
      target: { file: "terraform/terraform.tfvars", path: "worker_count" },
      selector: { matchLabels: { "example.org/pool": "general" } },
      min: 2,
      max: 6,
      schedules: [
        { cron: "50 1 * * *", timezone: "UTC", duration: "1h30m", min: 4 },
        { cron: "0 18 * * 5", timezone: "Europe/Berlin", duration: "6h", min: 3 },
      ],
    },
  ],
});
const small = generate(6);
small.nodes = small.nodes.filter((node) => node.pool === "general");
small.pods = small.pods.filter(
  (pod) => pod.nodeName && small.nodes.some((n) => n.name === pod.nodeName),
);
const day = 1_440;
const start = Date.parse(TAKEN_AT);
const smallRepo = [{ pool: "general", currentValue: small.nodes.length }];
const began = performance.now();
for (let minute = 0; minute < day; minute++)
  planNodes({
    snapshot: small,
    config: homelab,
    repo: smallRepo,
    now: new Date(start + minute * 60_000),
  });
const perPlan = (performance.now() - began) / day;
process.stdout.write(
  `${small.nodes.length} nodes, ${small.pods.length} pods, 2 schedules, planned every minute for a day: ${perPlan.toFixed(3)} ms per plan\n`,
);
