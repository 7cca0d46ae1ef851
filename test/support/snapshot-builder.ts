import { parseBytes, parseCpu } from "../../src/planning/quantity.ts";
import type {
  BlockingVolume,
  DaemonSetInfo,
  HostPort,
  NodeInfo,
  NodeSelectorTerm,
  OwnerRef,
  PodAffinityTerm,
  PodDisruptionBudgetInfo,
  PodInfo,
  Snapshot,
  Taint,
  Toleration,
  TopologySpreadConstraint,
  Usage,
} from "../../src/planning/snapshot.ts";

/** Quantities in tests are written as Kubernetes writes them: `500m`, `4`, `16Gi`. */
type Quantity = string | number;

export const TAKEN_AT = "2025-06-06T12:00:00.000Z";

export interface UsageSpec {
  cpu?: Quantity;
  memory?: Quantity;
  source?: Usage["source"];
  windowSeconds?: number;
  /** Longest gap between Prometheus' points, seconds; by default one 60 s step. `null` leaves it out. */
  gapSeconds?: number | null;
  /** Percentile values; by default equal to the averages when the source is Prometheus. */
  peak?: { cpu?: Quantity; memory?: Quantity; percentile?: number } | false;
  /** Lowest points; by default equal to the averages when the source is Prometheus. */
  low?: { cpu?: Quantity; memory?: Quantity } | false;
}

export interface NodeSpec {
  cpu?: Quantity;
  memory?: Quantity;
  pods?: number;
  labels?: Record<string, string>;
  taints?: Taint[];
  ready?: boolean;
  readySince?: string;
  createdAt?: string;
  unschedulable?: boolean;
  controlPlane?: boolean;
  usage?: UsageSpec;
}

/**
 * A node with 4 cpu, 16Gi and 110 pods allocatable, Ready, created a day before the snapshot.
 * Usage is unknown unless given: `usage: { cpu: "1", memory: "4Gi" }` is a Prometheus average
 * over an hour with a p95 equal to it.
 */
export function node(name: string, spec: NodeSpec = {}): NodeInfo {
  const allocatable = {
    cpu: millis(spec.cpu ?? "4"),
    memory: bytes(spec.memory ?? "16Gi"),
    pods: spec.pods ?? 110,
  };
  const info: NodeInfo = {
    name,
    pool: "default",
    labels: {
      "kubernetes.io/hostname": name,
      ...(spec.controlPlane ? { "node-role.kubernetes.io/control-plane": "" } : {}),
      ...spec.labels,
    },
    // A control plane carries its NoSchedule taint unless the spec says otherwise, as Talos and
    // kubeadm set it up (Talos drops it with allowSchedulingOnControlPlanes).
    taints:
      spec.taints ??
      (spec.controlPlane
        ? [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }]
        : []),
    unschedulable: spec.unschedulable ?? false,
    ready: spec.ready ?? true,
    createdAt: spec.createdAt ?? "2025-06-05T12:00:00.000Z",
    controlPlane: spec.controlPlane ?? false,
    capacity: allocatable,
    allocatable,
  };
  if (spec.readySince) info.readySince = spec.readySince;
  if (spec.usage) info.usage = usage(spec.usage);
  return info;
}

/** `count` nodes named `${prefix}${first}`, `${prefix}${first + 1}`… with the same spec. */
export function nodes(
  count: number,
  spec: NodeSpec = {},
  prefix = "worker-",
  first = 1,
): NodeInfo[] {
  return Array.from({ length: count }, (_, i) => node(`${prefix}${first + i}`, spec));
}

export function usage(spec: UsageSpec): Usage {
  const source = spec.source ?? "prometheus";
  const result: Usage = {
    source,
    windowSeconds: spec.windowSeconds ?? (source === "prometheus" ? 3600 : 30),
    timestamp: TAKEN_AT,
  };
  const gap =
    spec.gapSeconds === undefined ? (source === "prometheus" ? 60 : null) : spec.gapSeconds;
  if (gap !== null) result.gapSeconds = gap;
  if (spec.cpu !== undefined) result.cpu = millis(spec.cpu);
  if (spec.memory !== undefined) result.memory = bytes(spec.memory);
  const peak = spec.peak ?? (source === "prometheus" ? {} : false);
  if (peak) {
    result.peak = { percentile: peak.percentile ?? 95 };
    const cpu = peak.cpu ?? spec.cpu;
    const memory = peak.memory ?? spec.memory;
    if (cpu !== undefined) result.peak.cpu = millis(cpu);
    if (memory !== undefined) result.peak.memory = bytes(memory);
  }
  const low = spec.low ?? (source === "prometheus" ? {} : false);
  if (low) {
    result.low = {};
    const cpu = low.cpu ?? spec.cpu;
    const memory = low.memory ?? spec.memory;
    if (cpu !== undefined) result.low.cpu = millis(cpu);
    if (memory !== undefined) result.low.memory = bytes(memory);
  }
  return result;
}

export interface PodSpec {
  /** Requests the reader could not read (an invalid quantity): absent, not 0. */
  unknownRequests?: ("cpu" | "memory")[];
  /** The node it runs on; absent for a pending pod. */
  node?: string;
  cpu?: Quantity;
  memory?: Quantity;
  labels?: Record<string, string>;
  phase?: PodInfo["phase"];
  /** Controller; default a Deployment named after the pod. `null` makes a bare pod. */
  owner?: OwnerRef | null;
  daemonSet?: boolean;
  mirror?: boolean;
  nodeSelector?: Record<string, string>;
  affinity?: NodeSelectorTerm[];
  /** Required pod affinity / anti-affinity terms. */
  podAffinity?: PodAffinityTerm[];
  podAntiAffinity?: PodAffinityTerm[];
  topologySpread?: TopologySpreadConstraint[];
  hostPorts?: HostPort[];
  tolerations?: Toleration[];
  volumes?: BlockingVolume[];
  safeToEvict?: boolean;
  doNotDisrupt?: boolean;
  extended?: Record<string, number>;
  ephemeralStorage?: Quantity;
}

/** A running pod `namespace/name`, owned by a Deployment unless told otherwise. */
export function pod(key: string, spec: PodSpec = {}): PodInfo {
  const [namespace, name] = key.includes("/") ? key.split("/", 2) : ["default", key];
  // As the reader gives them: cpu and memory 0 when nothing is requested, absent when unknown.
  const requests: PodInfo["requests"] = {};
  if (!spec.unknownRequests?.includes("cpu")) requests.cpu = millis(spec.cpu ?? 0);
  if (!spec.unknownRequests?.includes("memory")) requests.memory = bytes(spec.memory ?? 0);
  if (spec.extended) requests.extended = spec.extended;
  if (spec.ephemeralStorage !== undefined) requests.ephemeralStorage = bytes(spec.ephemeralStorage);
  const info: PodInfo = {
    namespace: namespace as string,
    name: name as string,
    phase: spec.phase ?? (spec.node ? "Running" : "Pending"),
    labels: spec.labels ?? {},
    requests,
    containers: [{ name: "app", requests, limits: {} }],
    initContainers: [],
    nodeSelector: spec.nodeSelector ?? {},
    tolerations: spec.tolerations ?? [],
    blockingVolumes: spec.volumes ?? [],
    doNotDisrupt: spec.doNotDisrupt ?? false,
    daemonSet: spec.daemonSet ?? false,
    mirror: spec.mirror ?? false,
    oomKills: [],
    createdAt: "2025-06-06T11:00:00.000Z",
  };
  if (spec.node) info.nodeName = spec.node;
  const owner =
    spec.owner === undefined
      ? { kind: spec.daemonSet ? "DaemonSet" : "Deployment", name: name as string }
      : spec.owner;
  if (owner) info.owner = owner;
  if (spec.affinity) info.requiredNodeAffinity = spec.affinity;
  if (spec.podAffinity) info.podAffinity = spec.podAffinity;
  if (spec.podAntiAffinity) info.podAntiAffinity = spec.podAntiAffinity;
  if (spec.topologySpread) info.topologySpread = spec.topologySpread;
  if (spec.hostPorts) info.hostPorts = spec.hostPorts;
  if (spec.safeToEvict !== undefined) info.safeToEvict = spec.safeToEvict;
  return info;
}

/** A pod the scheduler reported Unschedulable. */
export function pendingPod(key: string, spec: Omit<PodSpec, "node"> = {}): PodInfo {
  return {
    ...pod(key, spec),
    phase: "Pending",
    unschedulable: { message: "0/3 nodes are available: 3 Insufficient cpu." },
  };
}

export interface DaemonSetSpec {
  cpu?: Quantity;
  memory?: Quantity;
  nodeSelector?: Record<string, string>;
  affinity?: NodeSelectorTerm[];
  tolerations?: Toleration[];
  hostPorts?: HostPort[];
}

/**
 * A DaemonSet `namespace/name` as the reader gives it, with its template's requests (0 unless
 * given) and the tolerations written (the controller's own are left out here).
 */
export function daemonSet(key: string, spec: DaemonSetSpec = {}): DaemonSetInfo {
  const [namespace, name] = key.split("/", 2);
  const info: DaemonSetInfo = {
    namespace: namespace as string,
    name: name as string,
    requests: { cpu: millis(spec.cpu ?? 0), memory: bytes(spec.memory ?? 0) },
    nodeSelector: spec.nodeSelector ?? {},
    tolerations: spec.tolerations ?? [],
  };
  if (spec.affinity) info.requiredNodeAffinity = spec.affinity;
  if (spec.hostPorts) info.hostPorts = spec.hostPorts;
  return info;
}

/** A PDB in the pods' namespace selecting `matchLabels`, allowing `allowed` disruptions. */
export function pdb(
  key: string,
  matchLabels: Record<string, string>,
  allowed: number,
): PodDisruptionBudgetInfo {
  const [namespace, name] = key.split("/", 2);
  return {
    namespace: namespace as string,
    name: name as string,
    selector: { matchLabels },
    disruptionsAllowed: allowed,
  };
}

export interface SnapshotSpec {
  nodes?: NodeInfo[];
  pods?: PodInfo[];
  pdbs?: PodDisruptionBudgetInfo[];
  complete?: boolean;
  warnings?: Snapshot["warnings"];
  takenAt?: string;
  /** Absent unless given, as in a snapshot saved before DaemonSets were read. */
  daemonSets?: Snapshot["daemonSets"];
}

export function buildSnapshot(spec: SnapshotSpec): Snapshot {
  return {
    ...(spec.daemonSets === undefined ? {} : { daemonSets: spec.daemonSets }),
    version: 1,
    takenAt: spec.takenAt ?? TAKEN_AT,
    source: { kind: "simulation" },
    complete: spec.complete ?? true,
    warnings: spec.warnings ?? [],
    nodes: spec.nodes ?? [],
    pods: spec.pods ?? [],
    pdbs: spec.pdbs ?? [],
    vpas: [],
    hpas: [],
    metrics: { nodes: "available", pods: "available", source: "prometheus", windowSeconds: 3600 },
  };
}

function millis(quantity: Quantity): number {
  return parseCpu(String(quantity));
}

function bytes(quantity: Quantity): number {
  return parseBytes(String(quantity));
}
