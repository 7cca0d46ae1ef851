/**
 * Cluster states for `plan` against a Kubernetes API server: Talos nodes and pods shaped as
 * `kubectl get -o yaml` shows them (kubelet-reported quantities, owner references, scheduler
 * conditions), metrics-server samples, PDBs with status, and an infra repo beside them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type CliRun, runCli } from "../support/cli.ts";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";
import { commitEverything } from "../support/git-repo.ts";
import { nodeMetrics, podMetrics } from "../support/kube-fixtures.ts";
import type { PlanJson } from "../support/plan-json.ts";

export type Raw = Record<string, unknown>;

/** A worker VM of 4 cores and 16 GiB as kubelet reports it on Talos. */
export const WORKER = { cpu: "3800m", memory: "15986572Ki", pods: "110" };

const CREATED = "2026-08-14T18:02:14Z";
const READY_SINCE = "2026-11-01T10:04:26Z";

export interface NodeOptions {
  ready?: boolean;
  unschedulable?: boolean;
  taints?: { key: string; value?: string; effect: string }[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  allocatable?: { cpu: string; memory: string; pods: string };
}

function conditions(ready: boolean, at: string): Raw[] {
  const pressure = (type: string, reason: string, message: string) => ({
    lastHeartbeatTime: at,
    lastTransitionTime: READY_SINCE,
    message,
    reason,
    status: "False",
    type,
  });
  return [
    pressure(
      "MemoryPressure",
      "KubeletHasSufficientMemory",
      "kubelet has sufficient memory available",
    ),
    pressure("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    pressure("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ready
      ? {
          lastHeartbeatTime: at,
          lastTransitionTime: READY_SINCE,
          message: "kubelet is posting ready status",
          reason: "KubeletReady",
          status: "True",
          type: "Ready",
        }
      : {
          lastHeartbeatTime: "2026-11-20T06:12:40Z",
          lastTransitionTime: "2026-11-20T06:13:21Z",
          message: "Kubelet stopped posting node status.",
          reason: "NodeStatusUnknown",
          status: "Unknown",
          type: "Ready",
        },
  ];
}

function node(name: string, role: "control-plane" | "worker", options: NodeOptions): Raw {
  const allocatable = options.allocatable ?? WORKER;
  const labels: Record<string, string> = {
    "beta.kubernetes.io/arch": "amd64",
    "beta.kubernetes.io/os": "linux",
    "extensions.talos.dev/qemu-guest-agent": "10.0.2",
    "kubernetes.io/arch": "amd64",
    "kubernetes.io/hostname": name,
    "kubernetes.io/os": "linux",
    "node.kubernetes.io/instance-type": role === "worker" ? "4VCPU-16GB" : "2VCPU-4GB",
    ...(role === "control-plane"
      ? {
          "node-role.kubernetes.io/control-plane": "",
          "node.kubernetes.io/exclude-from-external-load-balancers": "",
        }
      : {}),
    ...options.labels,
  };
  const taints = [
    ...(role === "control-plane"
      ? [{ effect: "NoSchedule", key: "node-role.kubernetes.io/control-plane" }]
      : []),
    ...(options.unschedulable
      ? [{ effect: "NoSchedule", key: "node.kubernetes.io/unschedulable", timeAdded: READY_SINCE }]
      : []),
    ...(options.ready === false
      ? [
          { effect: "NoSchedule", key: "node.kubernetes.io/unreachable", timeAdded: READY_SINCE },
          { effect: "NoExecute", key: "node.kubernetes.io/unreachable", timeAdded: READY_SINCE },
        ]
      : []),
    ...(options.taints ?? []),
  ];
  const heartbeat = new Date(Date.now() - 30_000).toISOString().replace(/\.\d+Z$/, "Z");
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      annotations: {
        "extensions.talos.dev/schematic":
          "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515",
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        ...options.annotations,
      },
      creationTimestamp: CREATED,
      labels,
      name,
    },
    spec: {
      podCIDR: "10.244.1.0/24",
      podCIDRs: ["10.244.1.0/24"],
      ...(taints.length > 0 ? { taints } : {}),
      ...(options.unschedulable ? { unschedulable: true } : {}),
    },
    status: {
      addresses: [
        { address: "192.168.50.20", type: "InternalIP" },
        { address: name, type: "Hostname" },
      ],
      allocatable: {
        cpu: allocatable.cpu,
        "ephemeral-storage": "58623335106",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        memory: allocatable.memory,
        pods: allocatable.pods,
      },
      capacity: {
        cpu: "4",
        "ephemeral-storage": "64414700Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        memory: "16281484Ki",
        pods: "110",
      },
      conditions: conditions(options.ready ?? true, heartbeat),
      nodeInfo: {
        architecture: "amd64",
        containerRuntimeVersion: "containerd://2.0.5",
        kernelVersion: "6.12.36-talos",
        kubeProxyVersion: "v1.33.2",
        kubeletVersion: "v1.33.2",
        operatingSystem: "linux",
        osImage: "Talos (v1.10.5)",
      },
    },
  };
}

/** A Talos worker node. */
export function worker(name: string, options: NodeOptions = {}): Raw {
  return node(name, "worker", options);
}

/** A Talos control-plane node (NoSchedule taint, role label), 2 cores and 4 GiB. */
export function controlPlane(name: string): Raw {
  return node(name, "control-plane", {
    allocatable: { cpu: "1950m", memory: "3696028Ki", pods: "110" },
  });
}

export interface Owner {
  kind: "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" | "Node";
  name: string;
}

export interface PodOptions {
  node?: string;
  owner?: Owner | null;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  volumes?: Raw[];
  nodeSelector?: Record<string, string>;
  affinity?: Raw;
  tolerations?: Raw[];
  schedulingGates?: { name: string }[];
  /** `spec.schedulerName`, `default-scheduler` unless given. */
  schedulerName?: string;
  /**
   * Pending: the PodScheduled condition the scheduler wrote (none for a gated pod), `since` its
   * lastTransitionTime (default the pod's creation, 2026-11-20T08:00:00Z).
   */
  scheduled?: {
    reason: string;
    message: string;
    since?: string;
    /** The condition's status, `False` unless given. */
    status?: "True" | "Unknown";
  } | null;
  phase?: "Running" | "Pending" | "Succeeded";
  /** `metadata.deletionTimestamp` (with the finalizer that keeps the pod while it is set). */
  deletionTimestamp?: string;
  /** `status.nominatedNodeName`, set by the scheduler when it preempted pods there. */
  nominatedNodeName?: string;
  topologySpreadConstraints?: Raw[];
  /** The app container's ports. */
  ports?: Raw[];
  /** Owner references as given, instead of the one `owner` makes. */
  ownerReferences?: Raw[];
}

const apiVersions: Record<Owner["kind"], string> = {
  ReplicaSet: "apps/v1",
  StatefulSet: "apps/v1",
  DaemonSet: "apps/v1",
  Job: "batch/v1",
  Node: "v1",
};

/**
 * The PodScheduled condition the scheduler writes when no worker fits a pod for `why` (and the
 * control plane's taint keeps it off there).
 */
export function unschedulable(why: string): { reason: string; message: string } {
  return {
    reason: "Unschedulable",
    message: `0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 ${why}. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.`,
  };
}

/** A pod owned by a ReplicaSet unless told otherwise; Running on `node`, else Pending. */
export function pod(namespace: string, name: string, options: PodOptions = {}): Raw {
  const owner =
    options.owner === undefined
      ? { kind: "ReplicaSet" as const, name: name.replace(/-[a-z0-9]{5}$/, "") }
      : options.owner;
  const phase = options.phase ?? (options.node ? "Running" : "Pending");
  const requests: Record<string, string> = {};
  if (options.cpu) requests.cpu = options.cpu;
  if (options.memory) requests.memory = options.memory;
  const app = options.labels?.["app.kubernetes.io/name"] ?? name.split("-")[0] ?? name;
  const spec: Raw = {
    containers: [
      {
        name: "app",
        image: `ghcr.io/home-operations/${app}:1.0.0`,
        resources: Object.keys(requests).length > 0 ? { requests } : {},
        ...(options.ports ? { ports: options.ports } : {}),
        volumeMounts: [
          {
            mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
            name: "kube-api-access-x2v9q",
            readOnly: true,
          },
        ],
      },
    ],
    dnsPolicy: "ClusterFirst",
    enableServiceLinks: true,
    preemptionPolicy: "PreemptLowerPriority",
    priority: 0,
    restartPolicy: "Always",
    schedulerName: options.schedulerName ?? "default-scheduler",
    serviceAccountName: "default",
    terminationGracePeriodSeconds: 30,
    tolerations: [
      {
        effect: "NoExecute",
        key: "node.kubernetes.io/not-ready",
        operator: "Exists",
        tolerationSeconds: 300,
      },
      {
        effect: "NoExecute",
        key: "node.kubernetes.io/unreachable",
        operator: "Exists",
        tolerationSeconds: 300,
      },
      ...(options.tolerations ?? []),
    ],
    volumes: [
      {
        name: "kube-api-access-x2v9q",
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
            {
              configMap: {
                items: [{ key: "ca.crt", path: "ca.crt" }],
                name: "kube-root-ca.crt",
              },
            },
          ],
        },
      },
      ...(options.volumes ?? []),
    ],
  };
  if (options.node) spec.nodeName = options.node;
  if (options.nodeSelector) spec.nodeSelector = options.nodeSelector;
  if (options.affinity) spec.affinity = options.affinity;
  if (options.schedulingGates) spec.schedulingGates = options.schedulingGates;
  if (options.topologySpreadConstraints)
    spec.topologySpreadConstraints = options.topologySpreadConstraints;
  const status: Raw = { phase, qosClass: "Burstable" };
  if (phase === "Running") {
    status.conditions = [
      { lastTransitionTime: "2026-11-20T08:00:00Z", status: "True", type: "PodScheduled" },
      { lastTransitionTime: "2026-11-20T08:00:09Z", status: "True", type: "Ready" },
    ];
    status.hostIP = "192.168.50.21";
    status.podIP = "10.244.1.23";
    status.startTime = "2026-11-20T08:00:00Z";
    status.containerStatuses = [
      {
        containerID: "containerd://4b1e6f3c2a",
        image: `ghcr.io/home-operations/${app}:1.0.0`,
        imageID: `ghcr.io/home-operations/${app}@sha256:0d1f`,
        lastState: {},
        name: "app",
        ready: true,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: "2026-11-20T08:00:05Z" } },
      },
    ];
  } else if (phase === "Pending") {
    const scheduled: PodOptions["scheduled"] =
      options.scheduled === undefined ? unschedulable("Insufficient cpu") : options.scheduled;
    if (scheduled) {
      status.conditions = [
        {
          lastProbeTime: null,
          lastTransitionTime: scheduled.since ?? "2026-11-20T08:00:00Z",
          message: scheduled.message,
          reason: scheduled.reason,
          status: scheduled.status ?? "False",
          type: "PodScheduled",
        },
      ];
    }
  }
  const metadata: Raw = {
    creationTimestamp: "2026-11-20T08:00:00Z",
    labels: { "app.kubernetes.io/name": app, ...options.labels },
    name,
    namespace,
  };
  if (options.annotations) metadata.annotations = options.annotations;
  if (options.deletionTimestamp) {
    metadata.deletionTimestamp = options.deletionTimestamp;
    metadata.deletionGracePeriodSeconds = 30;
    metadata.finalizers = ["batch.kubernetes.io/job-tracking"];
  }
  if (options.nominatedNodeName) status.nominatedNodeName = options.nominatedNodeName;
  if (options.ownerReferences) metadata.ownerReferences = options.ownerReferences;
  else if (owner) {
    metadata.ownerReferences = [
      {
        apiVersion: apiVersions[owner.kind],
        blockOwnerDeletion: true,
        controller: true,
        kind: owner.kind,
        name: owner.name,
        uid: "7c1d6f0e-0b8a-4f55-9e0c-3d1c4a8e2b11",
      },
    ];
  }
  return { apiVersion: "v1", kind: "Pod", metadata, spec, status };
}

/** The Cilium agent every node runs (a DaemonSet pod). */
export function ciliumAgent(node: string, index: number): Raw {
  return pod("kube-system", `cilium-${index.toString(36).padStart(5, "x")}`, {
    node,
    owner: { kind: "DaemonSet", name: "cilium" },
    cpu: "100m",
    memory: "128Mi",
    labels: { "app.kubernetes.io/name": "cilium-agent", "k8s-app": "cilium" },
    volumes: [{ hostPath: { path: "/sys/fs/bpf", type: "DirectoryOrCreate" }, name: "bpf-maps" }],
  });
}

/** A PodDisruptionBudget with the status the disruption controller writes. */
export function pdb(
  namespace: string,
  name: string,
  matchLabels: Record<string, string>,
  disruptionsAllowed: number,
): Raw {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, namespace, generation: 1 },
    spec: { minAvailable: 1, selector: { matchLabels } },
    status: {
      conditions: [
        {
          lastTransitionTime: "2026-11-20T08:00:10Z",
          message: "",
          observedGeneration: 1,
          reason: disruptionsAllowed > 0 ? "SufficientPods" : "InsufficientPods",
          status: disruptionsAllowed > 0 ? "True" : "False",
          type: "DisruptionAllowed",
        },
      ],
      currentHealthy: 1,
      desiredHealthy: 1,
      disruptionsAllowed,
      expectedPods: 1,
      observedGeneration: 1,
    },
  };
}

/** metrics-server samples taken 15 seconds ago, as a running metrics-server serves them. */
export function freshNodeMetrics(name: string, cpu: string, memory: string): Raw {
  return nodeMetrics(name, { cpu, memory }, secondsAgo(15));
}

export function freshPodMetrics(namespace: string, name: string, cpu: string, memory: string): Raw {
  return podMetrics(namespace, name, { app: { cpu, memory } }, secondsAgo(15));
}

function secondsAgo(seconds: number): string {
  return new Date(Date.now() - seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

export const TFVARS = `# Workers: pr-autoscaler opens pull requests that change worker_count.
worker_count      = 3
worker_cores      = 4
worker_memory_mib = 16384 # 16 GiB
`;

export const CONFIG = `pools:
  - name: workers
    target:
      file: terraform/terraform.tfvars
      path: worker_count
    selector:
      matchExpressions:
        - key: node-role.kubernetes.io/control-plane
          operator: DoesNotExist
    min: 1
    max: 6
    removal:
      nameTemplate: talos-worker-{index}
      indexBase: 1
`;

export type { PlanJson };

/** The infra repo's files: `null` leaves one out, `other` adds more by path. */
export interface InfraFiles {
  tfvars?: string | null;
  config?: string | null;
  other?: Record<string, string>;
}

/** Writes an infra repo into `dir`: the tfvars and the config unless left out, and the others. */
export function writeInfraRepo(dir: string, files: InfraFiles = {}): string {
  const texts: Record<string, string | null> = {
    "terraform/terraform.tfvars": files.tfvars === undefined ? TFVARS : files.tfvars,
    ".github/pr-autoscaler.yml": files.config === undefined ? CONFIG : files.config,
    ...files.other,
  };
  for (const [path, text] of Object.entries(texts)) {
    if (text === null) continue;
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/**
 * An infra repo as a git checkout whose files were committed when the cluster was made, so that
 * `plan` reads a history (a plain folder has none: no cooldown is waited for there).
 */
export function committedRepo(dir: string, files: InfraFiles = {}): string {
  writeInfraRepo(dir, files);
  return commitEverything(dir, CREATED);
}

/** Runs `plan` for the infra repo at `repo` against the cluster `kubeconfig` names. */
export function runPlan(repo: string, kubeconfig: string, args: string[] = []): Promise<CliRun> {
  return runCli(["plan", "--repo", repo, "--kubeconfig", kubeconfig, ...args]);
}

export interface Served {
  fake: FakeKubeApiserver;
  /** Runs `plan --json` against the server for an infra repo with these files. */
  plan(files?: InfraFiles, now?: string): Promise<PlanJson>;
  /** Runs `plan --json` against the server for the infra repo already at `repo`. */
  planRepo(repo: string, now?: string): Promise<PlanJson>;
  /** Runs `plan` with `args` for an infra repo with these files; the run whatever its end. */
  run(args: string[], files?: InfraFiles): Promise<CliRun>;
  close(): Promise<void>;
}

/** Serves `objects` from a kube-apiserver on 127.0.0.1, with an infra repo to plan for. */
export async function serve(objects: Raw[]): Promise<Served> {
  const fake = await FakeKubeApiserver.start();
  fake.add(...objects);
  const root = mkdtempSync(join(tmpdir(), "pr-autoscaler-served-"));
  const kubeconfig = await fake.writeKubeconfig(join(root, "kubeconfig"));
  let repos = 0;
  const newRepo = (files: InfraFiles) => committedRepo(join(root, `repo-${++repos}`), files);
  async function planRepo(repo: string, now?: string): Promise<PlanJson> {
    const run = await runPlan(repo, kubeconfig, ["--json", ...(now ? ["--now", now] : [])]);
    if (run.code !== 0) throw new Error(`plan exited ${run.code}: ${run.stderr}`);
    return JSON.parse(run.stdout) as PlanJson;
  }
  return {
    fake,
    plan: (files = {}, now) => planRepo(newRepo(files), now),
    planRepo,
    run: (args, files = {}) => runPlan(newRepo(files), kubeconfig, args),
    async close() {
      await fake.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
