/**
 * The one picture of a cluster that every decision rests on. The cluster readers produce it;
 * `pr-autoscaler snapshot` saves it as JSON and `plan --snapshot` reads it back.
 *
 * Units everywhere: cpu in millicores, memory and storage in bytes, both as integers.
 * Unknown is never zero: a value that was not observed is absent (`undefined`), and the
 * snapshot's `warnings` say why.
 */
export interface Snapshot {
  /** Format version of the saved JSON. */
  version: 1;
  /** When the reads finished (ISO 8601). */
  takenAt: string;
  source: SnapshotSource;
  /** False when a list could not be read completely; the planner takes no action on it. */
  complete: boolean;
  warnings: SnapshotWarning[];
  nodes: NodeInfo[];
  pods: PodInfo[];
  pdbs: PodDisruptionBudgetInfo[];
  vpas: VpaInfo[];
  hpas: HpaInfo[];
  /**
   * The cluster's DaemonSets, read in full; `"unknown"` when they could not be (forbidden, a
   * list that failed or stopped part way): which ones a new node would run is then unknown, never
   * none. Absent in a snapshot saved before they were read, which tells them by their pods alone.
   */
  daemonSets?: DaemonSetInfo[] | "unknown";
  /**
   * Each namespace's labels, by name, read in full; `"unknown"` when they could not be. A pod
   * (anti-)affinity term's `namespaceSelector` on other labels than kubernetes.io/metadata.name
   * is resolved from them; unknown, or absent in a snapshot saved before they were read, the
   * fit of the pods such a term concerns is unknown.
   */
  namespaceLabels?: Record<string, Record<string, string>> | "unknown";
  /**
   * How many CSI volumes each node can attach, from the CSINodes read in full; `"unknown"` when
   * they could not be (the fit of the pods that use CSI volumes is then unknown). Absent in a
   * snapshot saved before they were read, whose claims do not say which volumes are CSI ones:
   * no limit is judged.
   */
  csiVolumeLimits?: CsiVolumeLimits | "unknown";
  metrics: MetricsAvailability;
}

/**
 * Per node, per CSI driver, the most volumes of that driver the node can use at once (CSINode
 * `spec.drivers[].allocatable.count`). A node without a CSINode, or a driver without a count,
 * is not listed: it takes any number, as kube-scheduler has it.
 */
export type CsiVolumeLimits = Record<string, Record<string, number>>;

export interface SnapshotSource {
  kind: "kubernetes" | "file" | "simulation";
  /** API server URL, without credentials. */
  server?: string;
  context?: string;
  prometheus?: string;
}

export interface SnapshotWarning {
  /** Stable machine-readable code, e.g. `metrics-unavailable`, `list-partial`. */
  code: string;
  message: string;
  /** What it concerns, e.g. `node/worker-3`, `pods`, `vpa/media/plex`. */
  subject?: string;
  /** On the summary of a code that went over its limit: how many of its warnings were left out. */
  omitted?: number;
}

/** Whether usage numbers are present, and where they came from. */
export interface MetricsAvailability {
  nodes: "available" | "partial" | "unavailable";
  pods: "available" | "partial" | "unavailable";
  source: "metrics-server" | "prometheus" | "none";
  /** Prometheus window over which usage was aggregated, seconds. */
  windowSeconds?: number;
  /** Percentile reported in `peak` values (e.g. 95), when Prometheus was used. */
  percentile?: number;
}

/** Amounts of resources. Extended resources (`nvidia.com/gpu`) keep their names. */
export interface Resources {
  cpu?: number;
  memory?: number;
  pods?: number;
  ephemeralStorage?: number;
  extended?: Record<string, number>;
}

/** Observed usage. Each number is absent when it was not observed. */
export interface Usage {
  cpu?: number;
  memory?: number;
  /**
   * Length of the measurement window in seconds (metrics-server reports its own). From
   * Prometheus, the part of the window its points cover: the steps from the first point to the
   * window's end, never more than the window asked for.
   */
  windowSeconds?: number;
  /**
   * Prometheus: the longest time, at most, between two points of the window or from the last
   * one to the window's end, seconds; one step when no point is missing.
   */
  gapSeconds?: number;
  /** End of the window (ISO 8601). */
  timestamp?: string;
  source: "metrics-server" | "prometheus";
  /** A high percentile over the window, when the source can give one. */
  peak?: { cpu?: number; memory?: number; percentile: number };
  /**
   * The lowest point over the window, when the source can give one (Prometheus, for nodes):
   * a level held above a threshold for the window is judged by it.
   */
  low?: { cpu?: number; memory?: number };
  /**
   * Prometheus, for nodes: the value at each step of the window, oldest first. Each check of a
   * level held over a window takes the points of its own window from them; a snapshot without
   * them is judged by the statistics above, over the whole window.
   */
  points?: UsagePoint[];
}

/** One step of a node's usage: cpu in millicores, memory in bytes, either absent if unknown. */
export interface UsagePoint {
  /** The step's time (ISO 8601). */
  at: string;
  cpu?: number;
  memory?: number;
}

export interface Taint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

export interface NodeInfo {
  name: string;
  /** Pool name: the repo config's selectors decide; the reader's default is a label or role. */
  pool: string;
  labels: Record<string, string>;
  taints: Taint[];
  unschedulable: boolean;
  ready: boolean;
  /** When the Ready condition last changed (ISO 8601). */
  readySince?: string;
  createdAt: string;
  controlPlane: boolean;
  /**
   * The annotation that takes the node out of scale-down:
   * `cluster-autoscaler.kubernetes.io/scale-down-disabled` or `karpenter.sh/do-not-disrupt`
   * set to `"true"`.
   */
  scaleDownDisabled?: string;
  capacity: Resources;
  allocatable: Resources;
  usage?: Usage;
}

export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: Taint["effect"];
}

export interface NodeSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";
  values?: string[];
}

/** Terms are ORed; the expressions inside a term are ANDed (Kubernetes semantics). */
export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

/**
 * A required pod (anti-)affinity term: the pods `selector` picks in `namespaces`, counted over
 * the nodes that share the value of label `topologyKey` (one node for
 * `kubernetes.io/hostname`). `matchLabelKeys` and `mismatchLabelKeys` are already folded into
 * `selector` with the pod's own label values.
 */
export interface PodAffinityTerm {
  /** Absent: the term selects no pod (a null labelSelector). */
  selector?: LabelSelector;
  /**
   * Namespaces the selector looks in (those listed, and those a `namespaceSelector` names by
   * `kubernetes.io/metadata.name`); absent: the pod's own.
   */
  namespaces?: string[];
  /** A `namespaceSelector` of `{}` was given: every namespace. */
  allNamespaces?: boolean;
  /**
   * A `namespaceSelector` on other labels: the namespaces whose labels (the snapshot's
   * `namespaceLabels`) it matches are looked in too, which the planner resolves into
   * `namespaces`. Left on a term when those labels are unknown: the term's reach is unknown.
   */
  namespaceSelector?: LabelSelector;
  topologyKey: string;
}

/**
 * A `DoNotSchedule` topology spread constraint: the pods `selector` picks in the pod's namespace
 * may differ by at most `maxSkew` between the domains of `topologyKey`, counted over the nodes
 * the policies make eligible. `matchLabelKeys` is already folded into `selector`.
 */
export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  /** Absent: selects no pod (a null labelSelector). */
  selector?: LabelSelector;
  /** Fewer eligible domains than this count the smallest as 0. */
  minDomains?: number;
  /** `nodeAffinityPolicy: Honor` (the default): only nodes the pod's selector and affinity allow count. */
  honorNodeAffinity: boolean;
  /** `nodeTaintsPolicy: Honor` (default Ignore): only nodes whose taints the pod tolerates count. */
  honorTaints: boolean;
}

/**
 * A container port bound on the node (`hostPort`); `hostIP` absent means every address (0.0.0.0
 * or none written). `::` is one address, as kube-scheduler's NodePorts filter reads it.
 */
export interface HostPort {
  port: number;
  protocol: "TCP" | "UDP" | "SCTP";
  hostIP?: string;
}

export interface ContainerInfo {
  name: string;
  requests: Resources;
  limits: Resources;
  /** Sidecar init containers (restartPolicy Always) run beside the app containers. */
  sidecar?: boolean;
  usage?: Usage;
}

export interface OwnerRef {
  kind: string;
  name: string;
  /**
   * The API group of its `apiVersion` (`postgresql.cnpg.io` of `postgresql.cnpg.io/v1`); absent
   * for the core group, and in a snapshot saved before it was read.
   */
  group?: string;
}

/** A claim a pod mounts, and what it asks of the node the pod runs on. */
export interface VolumeClaimPlacement {
  /** The PersistentVolumeClaim's name, in the pod's namespace. */
  claim: string;
  /**
   * `bound`: bound to a PersistentVolume, which the pod must run where its required node
   * affinity (`nodeAffinity`; absent: any node) allows. `provisioned`: not bound yet, and bound
   * where the pod goes (WaitForFirstConsumer) to a volume its StorageClass's provisioner makes
   * there, on a node its `allowedTopologies` (`nodeAffinity`; absent: any node) allow.
   * `waiting`: no node's labels decide it (`why` says what it waits for).
   */
  state: "bound" | "provisioned" | "waiting";
  nodeAffinity?: NodeSelectorTerm[];
  why?: string;
  /**
   * For `waiting`: a generic ephemeral volume's claim its controller has not made yet, as it
   * does as soon as the pod is made. The scheduler waits for the claim, then judges its volume;
   * what the claim will ask is not known until then. Absent in a snapshot saved before it was
   * read, where such a claim reads as one that does not exist.
   */
  unmade?: true;
  /**
   * For `bound`, when its PersistentVolume is a CSI one (`spec.csi`, with a volume handle): the
   * driver, and the volume's name, which counts once on a node however many pods use it. For
   * `provisioned`: the StorageClass's provisioner, which kube-scheduler counts the volume to be
   * made against as a CSI driver, and the claim's name (in the pod's namespace).
   */
  csi?: { driver: string; volume: string };
  /**
   * For a generic ephemeral volume's claim, bound now, whose StorageClass makes a volume where
   * the pod goes (WaitForFirstConsumer): the claim the pod made in its place would get. The claim
   * belongs to the pod and is deleted with it, so the volume ties the pod's replacement to no
   * node: its new claim is `provisioned` where the class allows.
   */
  remade?: VolumeClaimPlacement;
}

/** A volume whose data would be lost or that ties the pod to its node. */
export interface BlockingVolume {
  name: string;
  type: "emptyDir" | "hostPath" | "local";
  /** For `local`: the PersistentVolumeClaim bound to a node-local PersistentVolume. */
  claim?: string;
  /**
   * For `local`: the claim is a generic ephemeral volume's, the pod's own, deleted with it (the
   * pod made in its place gets a new one): its data dies with the pod, as an emptyDir's does.
   */
  ephemeral?: true;
}

export interface PodInfo {
  namespace: string;
  name: string;
  phase: "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
  /**
   * The pod's Ready condition: true when it is True, false when it is False or Unknown; absent
   * when the pod has no Ready condition (read as healthy where a budget is concerned).
   */
  ready?: boolean;
  nodeName?: string;
  labels: Record<string, string>;
  /** The controller, with ReplicaSets resolved to their Deployment. Absent for bare pods. */
  owner?: OwnerRef;
  /** Effective request used for scheduling: max(init) vs sum(app + sidecars), plus overhead. */
  requests: Resources;
  /**
   * What the spec alone asks for, when a resize in place makes `requests` other than that: the
   * scheduler counts the larger of the spec and what the kubelet allocated.
   */
  specRequests?: Resources;
  containers: ContainerInfo[];
  initContainers: ContainerInfo[];
  overhead?: Resources;
  nodeSelector: Record<string, string>;
  requiredNodeAffinity?: NodeSelectorTerm[];
  /** Required pod affinity terms: the pod goes only where pods they select run. */
  podAffinity?: PodAffinityTerm[];
  /** Required pod anti-affinity terms: the pod never goes where pods they select run. */
  podAntiAffinity?: PodAffinityTerm[];
  /** Topology spread constraints with `whenUnsatisfiable: DoNotSchedule` (the others only prefer). */
  topologySpread?: TopologySpreadConstraint[];
  /** Ports the pod's containers take on their node's network (`hostPort`). */
  hostPorts?: HostPort[];
  tolerations: Toleration[];
  priority?: number;
  /**
   * Set when PodScheduled is False with reason Unschedulable. A pod with no PodScheduled
   * condition at all (neither this, `notScheduled` nor `podScheduled`) is one the scheduler has
   * not tried yet.
   */
  unschedulable?: { message: string; since?: string };
  /**
   * Set when PodScheduled is False with another reason: `SchedulerError` when the scheduler
   * failed on the pod (a plugin or a bind that errored), `SchedulingGated` while gates hold it.
   * Absent in a snapshot saved before it was read.
   */
  notScheduled?: { reason: string; message: string; since?: string };
  /**
   * On a pod bound to no node, the status of a PodScheduled condition that is neither False nor
   * missing: `True` when the scheduler placed it (its bind not yet seen in `spec.nodeName`),
   * `Unknown` when the condition gives no verdict. Neither is a pod the scheduler has not tried.
   * Absent in a snapshot saved before it was read, where such a pod reads as one not tried.
   */
  podScheduled?: "True" | "Unknown";
  /** `spec.schedulingGates` by name: the scheduler leaves the pod alone until they are removed. */
  schedulingGates?: string[];
  /**
   * `spec.schedulerName` when it names a scheduler other than `default-scheduler`: that one
   * judges the pod. Absent for the default scheduler, and in a snapshot saved before it was read.
   */
  schedulerName?: string;
  /**
   * `status.nominatedNodeName`: the scheduler preempted pods on that node for this one, which
   * runs there once they are gone.
   */
  nominatedNode?: string;
  /** `metadata.deletionTimestamp`: the pod is being deleted (ISO 8601). */
  deletingSince?: string;
  blockingVolumes: BlockingVolume[];
  /**
   * The PersistentVolumeClaims it mounts (generic ephemeral volumes' included), with what each
   * asks of a node; absent when it mounts none, and in a snapshot saved before they were read.
   */
  volumeClaims?: VolumeClaimPlacement[];
  /**
   * The names of its `spec.resourceClaims`: devices it is given through dynamic resource
   * allocation, from ResourceSlices that are not read, so which nodes could give them is not
   * known. Absent when it has none, and in a snapshot saved before they were read.
   */
  resourceClaims?: string[];
  /** `cluster-autoscaler.kubernetes.io/safe-to-evict`: true, false, or absent. */
  safeToEvict?: boolean;
  /**
   * `karpenter.sh/do-not-disrupt: "true"`, or a duration (`"30m"`) from a pod whose start time is
   * not known: Karpenter then keeps the node, as it cannot tell when the protection ends.
   */
  doNotDisrupt: boolean;
  /**
   * `karpenter.sh/do-not-disrupt` set to a duration (a Go duration, `"2h30m"`): the pod's start
   * time plus it, until which the node is kept, as Karpenter reads it (ISO 8601).
   */
  doNotDisruptUntil?: string;
  daemonSet: boolean;
  mirror: boolean;
  /**
   * OOMKilled terminations its status still shows (each container's current and last state),
   * newest first, with the container's restart count when the status gives it.
   */
  oomKills: { container: string; at?: string; restarts?: number }[];
  createdAt: string;
  usage?: Usage;
}

/**
 * A DaemonSet, by what its pod template asks of a node: what a node it runs a pod on gives that
 * pod, and which nodes it runs one on (the DaemonSet controller uses the template's nodeSelector,
 * required node affinity and tolerations, as the scheduler does).
 */
export interface DaemonSetInfo {
  namespace: string;
  name: string;
  /**
   * The template's effective request, as a pod's `requests` (init containers, sidecars,
   * pod-level resources, and the overhead of its RuntimeClass); cpu or memory absent when unknown.
   */
  requests: Resources;
  /** The template's, with its RuntimeClass's `scheduling.nodeSelector`. */
  nodeSelector: Record<string, string>;
  requiredNodeAffinity?: NodeSelectorTerm[];
  /**
   * The template's, its RuntimeClass's, and those the DaemonSet controller adds to every pod it
   * makes (not-ready, unreachable, the pressure taints, unschedulable; network-unavailable for
   * host-network pods).
   */
  tolerations: Toleration[];
  hostPorts?: HostPort[];
  /**
   * The template's labels (its pods carry them, with the controller's hash): pod affinity sees a
   * pod of a DaemonSet that has made none yet by them. Absent in a snapshot saved before they
   * were read.
   */
  labels?: Record<string, string>;
  /** The template's required pod anti-affinity terms, as on pods. */
  podAntiAffinity?: PodAffinityTerm[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: string[];
  }[];
}

export interface PodDisruptionBudgetInfo {
  namespace: string;
  name: string;
  selector?: LabelSelector;
  disruptionsAllowed: number;
  /** `spec.unhealthyPodEvictionPolicy`; absent means the API's default, `IfHealthyBudget`. */
  unhealthyPodEvictionPolicy?: "IfHealthyBudget" | "AlwaysAllow";
  /** `status.currentHealthy` and `status.desiredHealthy`, when the controller has written them. */
  currentHealthy?: number;
  desiredHealthy?: number;
  /**
   * `status.expectedPods`, with the health counts: with every one of them healthy the budget
   * allows `expectedPods - desiredHealthy` disruptions, so one allowing fewer now may later.
   */
  expectedPods?: number;
}

export interface WorkloadRef {
  kind: string;
  name: string;
  apiVersion?: string;
}

export interface ContainerRecommendation {
  containerName: string;
  target: Resources;
  lowerBound?: Resources;
  upperBound?: Resources;
  uncappedTarget?: Resources;
}

export interface ContainerResourcePolicy {
  containerName: string;
  mode?: "Auto" | "Off";
  minAllowed?: Resources;
  maxAllowed?: Resources;
  controlledResources?: string[];
  controlledValues?: "RequestsAndLimits" | "RequestsOnly";
}

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface VpaInfo {
  namespace: string;
  name: string;
  /** The VPA's labels and annotations under `pr-autoscaler.io/` (e.g. the right-sizing opt-out); others are not kept. */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  target: WorkloadRef;
  updateMode: string;
  resourcePolicy: ContainerResourcePolicy[];
  recommendations: ContainerRecommendation[];
  conditions: Condition[];
  createdAt: string;
}

export interface HpaInfo {
  namespace: string;
  name: string;
  target: WorkloadRef;
  /** Resource metrics (`cpu`, `memory`) the HPA scales on, from Resource and ContainerResource metrics. */
  resourceMetrics: string[];
  minReplicas?: number;
  maxReplicas: number;
  currentReplicas?: number;
}
