/**
 * The infra repository and the cluster the reconcile scenarios run against: a Talos-on-Proxmox
 * style terraform.tfvars with a worker count, the Plex HelmRelease of the right-sizing worked
 * example (test/fixtures/rightsizing, sources noted there), and snapshots of the cluster.
 */
import { readFileSync } from "node:fs";
import type { PodInfo, Snapshot } from "../../../src/planning/snapshot.ts";
import { fixtureVpa, workloadPod } from "../../rightsizing/rightsizing-helpers.ts";
import { buildSnapshot, node, nodes, pendingPod, pod } from "../../support/snapshot-builder.ts";

export const CONFIG_PATH = ".github/pr-autoscaler.yml";
export const TFVARS = "terraform/terraform.tfvars";
export const PLEX_FILE = "kubernetes/apps/media/plex/app/helmrelease.yaml";
const PLEX_KUSTOMIZATION = "kubernetes/apps/media/plex/app/kustomization.yaml";

/** Snapshot time of every scenario; the Plex VPA has recorded for 17 days by then. */
export const NOW = new Date("2025-06-06T12:00:00Z");

/** The worker pool of 1 to 6 nodes: a config with nothing else, and the start of others. */
export const WORKERS_POOL = `pools:
  - name: workers
    target:
      file: ${TFVARS}
      path: worker_count
    min: 1
    max: 6
`;

export const CONFIG = `${WORKERS_POOL}rightsizing: {}
automerge:
  extends: preset:homelab
`;

/** The worker pool of at most 6 nodes, without a minimum. */
const WORKERS_UP_TO_SIX = `pools:
  - name: workers
    target:
      file: ${TFVARS}
      path: worker_count
    max: 6
`;

/** {@link CONFIG} with the worker pool alone: no minimum and no rightsizing. */
export const NODES_ONLY_CONFIG = `${WORKERS_UP_TO_SIX}automerge:
  extends: preset:homelab
`;

/**
 * The worker pool alone; adding nodes merges itself once the plan guard passed, the bot merging
 * (no GitHub auto-merge).
 */
export const GUARDED_MERGE_CONFIG = `${WORKERS_UP_TO_SIX}automerge:
  nativeAutoMerge: false
  rules:
    - name: scale-up
      match:
        kind: nodes
        direction: up
      action: merge
      requiredChecks: [pr-autoscaler/plan-guard]
`;

export function tfvars(count: number): string {
  return [
    'proxmox_node  = "pve"',
    'talos_version = "v1.10.5"',
    "",
    "# Workers: pr-autoscaler opens pull requests that change worker_count.",
    `worker_count      = ${count}`,
    "worker_cores      = 4",
    "worker_memory_mib = 16384 # 16 GiB",
    "",
  ].join("\n");
}

function fixture(relative: string): string {
  return readFileSync(
    new URL(`../../fixtures/rightsizing/worked-example/${relative}`, import.meta.url),
    "utf8",
  );
}

/** The repository's files on its default branch. */
export function infraFiles(
  options: { workers?: number; config?: string } = {},
): Map<string, string> {
  return new Map([
    [CONFIG_PATH, options.config ?? CONFIG],
    [TFVARS, tfvars(options.workers ?? 3)],
    [PLEX_FILE, fixture(PLEX_FILE)],
    [PLEX_KUSTOMIZATION, fixture(PLEX_KUSTOMIZATION)],
  ]);
}

function plexPods() {
  const plex = workloadPod("media/plex", "plex-7d9c65958-ghrmp", {
    requests: { cpu: "2", memory: "4Gi" },
    limits: { memory: "8Gi" },
    usage: { cpu: "380m", memory: "1100Mi" },
  });
  return [{ ...plex, nodeName: "talos-worker-0" }];
}

export interface ClusterSpec {
  /** Worker nodes in the cluster (Ready). */
  workers?: number;
  /** Unschedulable pods of 3 cpu each. */
  pending?: number;
  /** Usage of every worker, in cpu cores. */
  cpuPerNode?: string;
  /** Include the Plex VPA and pod. */
  plex?: boolean;
  complete?: boolean;
}

/**
 * Workers of 4 cpu and 16Gi, each running a 3-cpu pod, and `pending` pods of 3 cpu that need
 * a new node each. Usage comes from Prometheus over an hour.
 */
export function cluster(spec: ClusterSpec = {}): Snapshot {
  const count = spec.workers ?? 3;
  const usage = { cpu: spec.cpuPerNode ?? "2", memory: "7Gi" };
  const workers = nodes(count, { usage }, "talos-worker-", 0);
  const busy = workers.map((worker, i) =>
    pod(`apps/busy-${i}`, { node: worker.name, cpu: "3", memory: "6Gi" }),
  );
  const pending = Array.from({ length: spec.pending ?? 0 }, (_, i) =>
    pendingPod(`apps/batch-${i}`, { cpu: "3", memory: "2Gi" }),
  );
  const snapshot = buildSnapshot({
    nodes: [...workers, node("talos-cp-0", { controlPlane: true })],
    pods: [...busy, ...pending, ...(spec.plex === false ? [] : plexPods())],
    takenAt: NOW.toISOString(),
    complete: spec.complete ?? true,
    ...(spec.complete === false
      ? { warnings: [{ code: "list-partial", message: "pods: the list stopped part way" }] }
      : {}),
  });
  return spec.plex === false
    ? snapshot
    : { ...snapshot, vpas: [fixtureVpa("plex-worked-example.yaml")] };
}

export interface QuietOptions {
  extraPods?: PodInfo[];
  source?: "metrics-server" | "prometheus";
  /** Usage of every worker (400m by default). */
  cpu?: string;
  /** metrics-server gave no sample (it is down): no worker's usage is known. */
  unmeasured?: boolean;
}

/** Three quiet workers (a small app on each) and the control plane, measured at `at`. */
export function quiet(at: Date, options: QuietOptions = {}): Snapshot {
  const source = options.source ?? "metrics-server";
  const cpu = options.cpu ?? "400m";
  const workers = [0, 1, 2].map((i) => {
    if (options.unmeasured) return node(`talos-worker-${i}`);
    const worker = node(`talos-worker-${i}`, { usage: { cpu, memory: "2Gi", source } });
    if (worker.usage) worker.usage.timestamp = at.toISOString();
    return worker;
  });
  return buildSnapshot({
    nodes: [...workers, node("talos-cp-0", { controlPlane: true })],
    pods: [
      ...workers.map((w, i) => pod(`apps/app-${i}`, { node: w.name, cpu: "500m", memory: "1Gi" })),
      ...(options.extraPods ?? []),
    ],
    takenAt: at.toISOString(),
  });
}
