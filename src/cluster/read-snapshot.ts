import type {
  CsiVolumeLimits,
  DaemonSetInfo,
  MetricsAvailability,
  NodeInfo,
  PodInfo,
  Snapshot,
  SnapshotSource,
  Usage,
} from "../planning/snapshot.ts";
import { counted } from "../util/plural.ts";
import { toHpaInfo, toPdbInfo, toVpaInfo } from "./autoscaler-info.ts";
import {
  type ClaimRecord,
  resolveClaimPlacements,
  type StorageClassRecord,
  toClaimRecord,
  toStorageClassRecord,
  toVolumeRecord,
  type VolumeRecord,
} from "./claim-placement.ts";
import {
  type DaemonSetTemplate,
  type RuntimeClassInfo,
  resolveDaemonSets,
  toDaemonSetTemplate,
  toRuntimeClass,
} from "./daemon-set-info.ts";
import {
  createKubeClient,
  deadlineFactor,
  defaultTimeoutMs,
  type ExchangeLimits,
  formatTimeout,
  type KubeApiError,
  type KubeClient,
} from "./kube-client.ts";
import { type KubeConfigOptions, type LoadedKubeConfig, loadKubeConfig } from "./kube-config.ts";
import {
  type ListOptions,
  type ListResult,
  listAll,
  monotonicClock,
  type RetryClock,
  type RetryNote,
} from "./kube-list.ts";
import { listFailure, missingApi } from "./list-errors.ts";
import { resolveLocalClaims } from "./local-volumes.ts";
import {
  applyPodUsage,
  applyPodUsageUpdate,
  indexPods,
  type MetricsContext,
  type PodIndex,
  type PodUsage,
  podUsageUpdate,
  staleBy,
  sumUsage,
  toNodeUsage,
  unmeasured,
} from "./metrics-usage.ts";
import { toNodeInfo } from "./node-info.ts";
import { type PendingClaim, type PodContext, toPodInfo } from "./pod-info.ts";
import { list, type Raw, record, string } from "./raw.ts";
import { containerKey, type UsageReport, type UsageSource } from "./usage-source.ts";
import { ValueSharing } from "./value-sharing.ts";
import { WarningCollector } from "./warnings.ts";
import { checkYoungGeneration, limitYoungGeneration } from "./young-gc.ts";

export interface ReadSnapshotOptions extends KubeConfigOptions {
  /** An already loaded configuration; otherwise it is found from the options above. */
  loadedConfig?: LoadedKubeConfig;
  /** Items per page for paginated lists (default 500, as kubectl). */
  pageSize?: number;
  /** The clock (default: the system clock). */
  now?: () => Date;
  /** metrics-server samples older than this many seconds are stale (default 300). */
  metricsMaxAgeSeconds?: number;
  /**
   * The time a plan is made for when it is not now (`plan --now`): a metrics sample recent to
   * it, as a recorded or served cluster's are, is fresh as well as one recent to the read.
   */
  planningTime?: Date;
  /** Retries per request for errors worth retrying that came without Retry-After (default 2). */
  retries?: number;
  /** Base delay between retries in ms (default 500). */
  retryDelayMs?: number;
  /** Retries per request of an answer with Retry-After: 429, or a 5xx (default 10). */
  throttledRetries?: number;
  /** Restarts of a list whose continue token expired (default 3). */
  maxRestarts?: number;
  /** Per-request inactivity timeout in ms (default 60 s). */
  timeoutMs?: number;
  /** How long one request may take in all, its body included (default 3 × `timeoutMs`). */
  requestDeadlineMs?: number;
  /**
   * The read's time budget in ms (default {@link defaultReadDeadlineMs}): no retry waits
   * past it, nor starts after it, and no request goes on past it.
   */
  readDeadlineMs?: number;
  /**
   * The clock of retries and of the read's deadline for them (default: the monotonic clock).
   * Requests, which take real time, are cut at the deadline on the monotonic clock.
   */
  retryClock?: RetryClock;
  /** Told of each request tried again, before its wait. */
  onRetry?: (retry: RetryNote) => void;
  /** Usage from elsewhere (Prometheus) instead of metrics-server. */
  usageSource?: UsageSource;
  /** The window the usage source is asked for at least, seconds (`UsageRequest.windowSeconds`). */
  usageWindowSeconds?: number;
  /**
   * Keep V8's young generation at 32 MB at most for the rest of the process (default true;
   * see limitYoungGeneration in young-gc.ts): ~180 MB less at the peak of a 150,000-pod read.
   */
  limitYoungGeneration?: boolean;
}

/** The cluster could not be read at all (unreachable, unauthorised, nodes or pods unreadable). */
export class ClusterReadError extends Error {
  constructor(message: string, cause?: KubeApiError) {
    super(message, { cause });
    this.name = "ClusterReadError";
  }
}

export const defaultPageSize = 500;
/** The read's time budget: 2 minutes, below the 3 minutes in which the app must read it. */
export const defaultReadDeadlineMs = 120_000;
export const defaultMetricsMaxAgeSeconds = 300;

/**
 * Reads nodes, pods, PDBs, VPAs, HPAs, local volumes and usage from the cluster into a
 * Snapshot. Data that could not be read is absent and explained in `warnings`; a list that
 * stopped part way makes `complete` false. Equal small values (labels, tolerations, owners,
 * amounts) are shared between pods and frozen (docs/snapshot.md, "In memory"). Unless told
 * otherwise, caps the young generation of the process's heap (see `limitYoungGeneration`).
 * @throws ClusterReadError when nodes or pods cannot be read at all.
 * @throws InputError when no usable kubeconfig is found.
 */
export async function readSnapshot(options: ReadSnapshotOptions = {}): Promise<Snapshot> {
  if (options.limitYoungGeneration !== false) limitYoungGeneration();
  const loaded = options.loadedConfig ?? loadKubeConfig(options);
  const client = createKubeClient(loaded, {
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.requestDeadlineMs === undefined ? {} : { deadlineMs: options.requestDeadlineMs }),
  });
  try {
    return await readWith(client, loaded, options);
  } finally {
    client.close();
  }
}

async function readWith(
  client: KubeClient,
  loaded: LoadedKubeConfig,
  options: ReadSnapshotOptions,
): Promise<Snapshot> {
  const now = options.now ?? (() => new Date());
  const warnings = new WarningCollector();
  const lister = makeLister(client, options);
  const sharing = new ValueSharing();
  const podContext: PodContext = { warnings, claims: [], intern: sharing.string, sharing };
  const metricsContext: MetricsContext = {
    now: now(),
    ...(options.planningTime ? { planningTime: options.planningTime } : {}),
    maxAgeSeconds: options.metricsMaxAgeSeconds ?? defaultMetricsMaxAgeSeconds,
    warnings,
    intern: podContext.intern,
    refused: { nodes: new Set(), pods: new Set() },
  };

  // Node metrics go on beside everything else: a metrics API that hangs until the timeout
  // holds nothing up. Everything else but pods first, concurrently; then pods alone, then pod
  // metrics, so that the largest lists are never read at the same time.
  const nodeMetricsRead = options.usageSource ? undefined : readNodeMetrics(lister, metricsContext);
  // Awaited below; until then a failure must not count as unhandled.
  nodeMetricsRead?.catch(() => undefined);
  const [
    nodes,
    volumes,
    claims,
    pdbs,
    hpas,
    vpas,
    daemonSets,
    runtimeClasses,
    storageClasses,
    namespaces,
    csiNodes,
  ] = await Promise.all([
    lister("/api/v1/nodes", (raw) => toNodeInfo(raw, warnings, sharing), { identity: named }),
    lister("/api/v1/persistentvolumes", toVolumeRecord),
    lister("/api/v1/persistentvolumeclaims", toClaimRecord),
    lister("/apis/policy/v1/poddisruptionbudgets", (raw) => toPdbInfo(raw, warnings)),
    lister("/apis/autoscaling/v2/horizontalpodautoscalers", toHpaInfo),
    lister("/apis/autoscaling.k8s.io/v1/verticalpodautoscalers", (raw) => toVpaInfo(raw, warnings)),
    lister("/apis/apps/v1/daemonsets", (raw) => toDaemonSetTemplate(raw, warnings)),
    lister("/apis/node.k8s.io/v1/runtimeclasses", (raw) => toRuntimeClass(raw, warnings)),
    lister("/apis/storage.k8s.io/v1/storageclasses", toStorageClassRecord),
    lister("/api/v1/namespaces", toNamespaceLabels),
    lister("/apis/storage.k8s.io/v1/csinodes", toCsiNodeLimits),
  ]);
  requireReadable("nodes", nodes);
  const pods = await lister("/api/v1/pods", (raw) => toPodInfo(raw, podContext), {
    identity: podIdentity,
  });
  requireReadable(
    "pods",
    pods,
    spentBefore(pods, {
      persistentvolumes: volumes,
      persistentvolumeclaims: claims,
      poddisruptionbudgets: pdbs,
      horizontalpodautoscalers: hpas,
      verticalpodautoscalers: vpas,
      daemonsets: daemonSets,
      runtimeclasses: runtimeClasses,
      storageclasses: storageClasses,
      namespaces,
      csinodes: csiNodes,
    }),
  );
  const nodeMetrics = await nodeMetricsRead;

  const completeness = new Completeness(warnings, client);
  completeness.require("nodes", nodes);
  completeness.require("pods", pods);
  // A server without the policy/v1 API has no budgets to miss; the drain's evictions go
  // through the eviction API, which enforces any budget there is whatever the plan thought.
  await completeness.optional("poddisruptionbudgets", pdbs, "pdb-api-missing");
  if (podContext.claims.length === 0) {
    // No pod has a claim: what the volumes are changes nothing, whether the server does not
    // serve them or would not list them (a 403 here holds no pool; it would once a pod has one).
    for (const [what, listed] of [
      ["persistentvolumes", volumes],
      ["persistentvolumeclaims", claims],
    ] as const)
      await completeness.unneeded(what, listed, "volumes-api-missing", "volumes-unknown", noClaims);
  } else if (
    completeness.require("persistentvolumes", volumes, localVolumesNote) &&
    completeness.require("persistentvolumeclaims", claims, localVolumesNote)
  ) {
    resolveClaims(podContext.claims, volumes.items, claims.items, storageClasses, completeness);
  }
  await completeness.optional("horizontalpodautoscalers", hpas, "hpa-unavailable");
  await completeness.optional("verticalpodautoscalers", vpas, "vpa-not-installed");
  const daemonSetInfos = await readDaemonSets(daemonSets, runtimeClasses, completeness, warnings);
  const namespaceLabels = await readNamespaceLabels(namespaces, pods.items, completeness);
  // After the claims are resolved: which pods use CSI volumes is known then.
  const csiVolumeLimits = await readCsiVolumeLimits(csiNodes, pods.items, completeness);
  // After the lists' own warnings, which come first on stderr. A node list read in part misses
  // nodes that are there: its own warning says so.
  if (nodes.complete) warnOfPodsOnMissingNodes(nodes.items, pods.items, warnings);

  const metrics = await readUsage(
    nodes.items,
    pods.items,
    withWindow(options.usageSource, options.usageWindowSeconds),
    nodeMetrics,
    lister,
    metricsContext,
  );
  const source: SnapshotSource = { kind: "kubernetes", server: stripCredentials(loaded.server) };
  if (loaded.context !== undefined) source.context = loaded.context;
  if (metrics.origin) source.prometheus = metrics.origin;
  return {
    version: 1,
    takenAt: now().toISOString(),
    source,
    complete: completeness.complete,
    warnings: warnings.finish(),
    nodes: nodes.items,
    pods: pods.items,
    pdbs: pdbs.items,
    vpas: vpas.items,
    hpas: hpas.items,
    ...(daemonSetInfos === undefined ? {} : { daemonSets: daemonSetInfos }),
    namespaceLabels,
    csiVolumeLimits,
    metrics: metrics.availability,
  };
}

/**
 * A CSINode's node name and, per driver, its `allocatable.count`: how many of the driver's
 * volumes the node can use at once. A driver without a count takes any number, and is left out.
 */
function toCsiNodeLimits(raw: Raw): [string, Record<string, number>] | undefined {
  const name = string(record(raw.metadata).name);
  if (name === undefined) return undefined;
  const limits: Record<string, number> = {};
  for (const item of list(record(raw.spec).drivers)) {
    const driver = record(item);
    const driverName = string(driver.name);
    const count = record(driver.allocatable).count;
    if (driverName && typeof count === "number" && Number.isInteger(count) && count >= 0)
      limits[driverName] = count;
  }
  return [name, limits];
}

/**
 * Per node, the CSI volumes each driver lets it use (nodes with no count for any driver left
 * out); `"unknown"` when the CSINodes could not all be read, which holds the pods that use CSI
 * volumes only when a pod does: their fit once a node is removed is then unknown, while a
 * pending pod is otherwise judged by its scheduler's message (volume-wait.ts
 * `volumeLimitReached`), which names the nodes the scheduler found at their limit.
 */
async function readCsiVolumeLimits(
  csiNodes: Listed<[string, Record<string, number>]>,
  pods: readonly PodInfo[],
  completeness: Completeness,
): Promise<CsiVolumeLimits | "unknown"> {
  if (csiNodes.complete)
    return Object.fromEntries(
      csiNodes.items.filter(([, limits]) => Object.keys(limits).length > 0),
    );
  const usesCsi = pods.some((pod) =>
    pod.volumeClaims?.some((claim) => claim.csi ?? claim.remade?.csi),
  );
  if (usesCsi)
    completeness.known(
      "csinodes",
      csiNodes,
      "csinodes-unknown",
      "; how many CSI volumes a node can attach is unknown, and so is where the pods that use them fit once a node is removed (pending pods are otherwise judged by the scheduler's message: one it found at its nodes' limit of volumes goes on a new node)",
    );
  else
    await completeness.unneeded(
      "csinodes",
      csiNodes,
      "csinodes-unknown",
      "csinodes-unknown",
      "; no pod uses a CSI volume, so no decision rests on it",
    );
  return "unknown";
}

/** A namespace's name and labels. */
function toNamespaceLabels(raw: Raw): [string, Record<string, string>] | undefined {
  const metadata = raw.metadata as Raw | undefined;
  const name = metadata?.name;
  if (typeof name !== "string") return undefined;
  const labels: Record<string, string> = {};
  const source = metadata?.labels;
  if (typeof source === "object" && source !== null)
    for (const [key, value] of Object.entries(source))
      if (typeof value === "string") labels[key] = value;
  return [name, labels];
}

/**
 * Each namespace's labels, which a pod (anti-)affinity term's `namespaceSelector` on other labels
 * than kubernetes.io/metadata.name is resolved from; `"unknown"` when they could not all be
 * read, which holds the pods such a term concerns only when a pod has one.
 */
async function readNamespaceLabels(
  namespaces: Listed<[string, Record<string, string>]>,
  pods: readonly PodInfo[],
  completeness: Completeness,
): Promise<Record<string, Record<string, string>> | "unknown"> {
  if (namespaces.complete) return Object.fromEntries(namespaces.items);
  const selecting = pods.some((pod) =>
    [...(pod.podAffinity ?? []), ...(pod.podAntiAffinity ?? [])].some(
      (term) => term.namespaceSelector !== undefined,
    ),
  );
  if (selecting)
    completeness.known(
      "namespaces",
      namespaces,
      "namespaces-unknown",
      "; which namespaces a pod (anti-)affinity term's namespaceSelector picks is unknown, and so is where the pods it concerns fit",
    );
  else
    await completeness.unneeded(
      "namespaces",
      namespaces,
      "namespaces-unknown",
      "namespaces-unknown",
      "; no pod (anti-)affinity term selects namespaces by their labels, so no decision rests on it",
    );
  return "unknown";
}

/**
 * The DaemonSets with what their RuntimeClasses add to their pods; `"unknown"` when they could
 * not all be read, which the snapshot says rather than taking it for none. The RuntimeClasses
 * matter only to DaemonSets that name one. `undefined` when the cluster's discovery says it does
 * not serve apps/v1 (a server that serves nodes, pods and the like, and not the apps group):
 * there is no DaemonSet object to read, and the planner tells them by their pods, as for a
 * snapshot saved before DaemonSets were read. A 404 discovery does not explain (a proxy that
 * does not pass the path) stays unknown.
 */
async function readDaemonSets(
  daemonSets: Listed<DaemonSetTemplate>,
  runtimeClasses: Listed<[string, RuntimeClassInfo]>,
  completeness: Completeness,
  warnings: WarningCollector,
): Promise<DaemonSetInfo[] | "unknown" | undefined> {
  const { absent, why } = await completeness.absent(
    "daemonsets",
    daemonSets,
    "daemonsets-api-missing",
    "; the DaemonSets a new node would run are told by their pods on the pool's nodes",
  );
  if (absent) return undefined;
  const whole = completeness.known(
    "daemonsets",
    daemonSets,
    "daemonsets-unknown",
    `${why === undefined ? "" : `; ${why}`}; which DaemonSets a new node would run is unknown, and so is the room it offers`,
  );
  if (!whole) return "unknown";
  const named = daemonSets.items.some((template) => template.runtimeClass !== undefined);
  const classes =
    !named ||
    completeness.known(
      "runtimeclasses",
      runtimeClasses,
      "runtimeclasses-unknown",
      "; the DaemonSets that name a RuntimeClass request an unknown cpu and memory",
    );
  return resolveDaemonSets(
    daemonSets.items,
    named && classes ? new Map(runtimeClasses.items) : undefined,
    warnings,
  );
}

const localVolumesNote = "; pods on node-local volumes cannot be told apart";

const noClaims =
  "; no pod has a claim, so no decision rests on it (one that has will hold the plan)";

/**
 * Which pods keep their data on one node (`blockingVolumes`), and what each pod's claims ask of
 * the node it runs on (`volumeClaims`). The StorageClasses matter only to claims not bound yet,
 * and to generic ephemeral volumes' claims, which a pod made in place of theirs makes anew.
 */
function resolveClaims(
  pending: readonly PendingClaim[],
  volumes: readonly VolumeRecord[],
  claims: readonly [string, ClaimRecord][],
  storageClasses: Listed<[string, StorageClassRecord]>,
  completeness: Completeness,
): void {
  const volumeRecords = new Map(volumes.map((volume) => [volume.name, volume]));
  const claimRecords = new Map(claims);
  resolveLocalClaims(pending, claimRecords, volumeRecords);
  const unbound = claims.some(([, claim]) => claim.volume === undefined);
  const ephemeral = pending.some((claim) => claim.ephemeral);
  const classes =
    (unbound || ephemeral) &&
    completeness.known(
      "storageclasses",
      storageClasses,
      "storageclasses-unknown",
      unbound
        ? "; a pod waiting on a claim not bound yet is not placed on a new node"
        : "; a pod whose generic ephemeral volume is bound is moved only where that volume is",
    );
  resolveClaimPlacements(
    pending,
    claimRecords,
    volumeRecords,
    classes ? new Map(storageClasses.items) : undefined,
  );
}

/**
 * Says which running or pending pods are bound to a node the node list does not hold: its Node
 * object was deleted (the pod garbage collector will delete them), or it joined after the nodes
 * were read. Their requests are on no node's figures, which the planner holds removals for.
 */
function warnOfPodsOnMissingNodes(
  nodes: readonly NodeInfo[],
  pods: readonly PodInfo[],
  warnings: WarningCollector,
): void {
  const names = new Set(nodes.map((node) => node.name));
  for (const pod of pods) {
    if (pod.nodeName === undefined || names.has(pod.nodeName)) continue;
    if (pod.phase === "Succeeded" || pod.phase === "Failed") continue;
    warnings.add(
      "pod-node-missing",
      `bound to node ${pod.nodeName}, which the node list does not hold (deleted, or joined after the nodes were read); its requests are on no node`,
      `pod/${pod.namespace}/${pod.name}`,
    );
  }
}

/** Tracks whether every list needed for safe decisions was read in full. */
class Completeness {
  complete = true;
  readonly #warnings: WarningCollector;
  readonly #client: KubeClient;

  constructor(warnings: WarningCollector, client: KubeClient) {
    this.#warnings = warnings;
    this.#client = client;
  }

  /** A list the planner cannot do without: any failure makes the snapshot incomplete. */
  require(what: string, result: Listed<unknown>, note = ""): boolean {
    if (result.complete) return true;
    this.complete = false;
    this.#warnings.add(
      result.pages > 0 ? "list-partial" : "list-failed",
      `${listFailure(result.error, result.path)}${note}`,
      what,
    );
    return false;
  }

  /**
   * A list only some decisions rest on: a failure of any kind (404 included) makes what rests on
   * it unknown, said in a warning with `code`, and leaves the snapshot complete. False when the
   * list was not read whole.
   */
  known(what: string, result: Listed<unknown>, code: string, note: string): boolean {
    if (result.complete) return true;
    const read = result.pages > 0 ? "read only in part: " : "";
    this.#warnings.add(code, `${read}${listFailure(result.error, result.path)}${note}`, what);
    return false;
  }

  /**
   * A list no decision rests on in this cluster: a 404 in a warning with `missingCode`, any
   * other failure in one with `failedCode`, each with `note` saying why it holds nothing, and
   * the snapshot stays complete.
   */
  async unneeded(
    what: string,
    result: Listed<unknown>,
    missingCode: string,
    failedCode: string,
    note: string,
  ): Promise<void> {
    if (result.complete) return;
    if (result.error?.status === 404 && result.pages === 0) {
      const { why } = await missingApi(this.#client, result.path);
      this.#warnings.add(missingCode, `${why}${note}`, what);
    } else {
      this.known(what, result, failedCode, note);
    }
  }

  /**
   * Whether the list answered 404 for an API the cluster's discovery says is not served: said
   * in a warning with `code` and `note` when so. Any other outcome is left to the caller; for a
   * 404 discovery does not explain, `why` says so (the API served, or discovery unreadable), for
   * the caller's warning to carry as the other lists' warnings do.
   */
  async absent(
    what: string,
    result: Listed<unknown>,
    code: string,
    note: string,
  ): Promise<{ absent: boolean; why?: string }> {
    if (result.complete || result.error?.status !== 404 || result.pages > 0)
      return { absent: false };
    const { why, absent } = await missingApi(this.#client, result.path);
    if (!absent) return { absent, why };
    this.#warnings.add(code, `${why}${note}`, what);
    return { absent };
  }

  /**
   * An API that may be absent (a CRD, an old cluster): 404 is a warning, not a gap, when the
   * cluster's discovery says the API is not served. The warning says whether the group is
   * served in other versions only; its subject names the list, so its message does not name it
   * again. A 404 for an API discovery serves, or cannot tell about, is a gap like any failure.
   */
  async optional(what: string, result: Listed<unknown>, missingCode: string): Promise<void> {
    if (result.complete) return;
    if (result.error?.status === 404 && result.pages === 0) {
      const { why, absent } = await missingApi(this.#client, result.path);
      if (absent) this.#warnings.add(missingCode, `${why}; none are considered`, what);
      else this.require(what, result, `; ${why}`);
    } else {
      this.require(what, result);
    }
  }
}

/** A list's outcome and the collection it was read from. */
type Listed<T> = ListResult<T> & { path: string };

type Lister = <T>(
  path: string,
  convert: (raw: Raw) => T | undefined,
  extra?: Partial<Pick<ListOptions<T>, "pageSize" | "identity" | "retryTimeouts">>,
) => Promise<Listed<T>>;

function makeLister(client: KubeClient, options: ReadSnapshotOptions): Lister {
  const clock = options.retryClock ?? monotonicClock;
  const limitMs = options.readDeadlineMs ?? defaultReadDeadlineMs;
  const deadline = { at: clock.now() + limitMs, limitMs };
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const requestDeadlineMs = options.requestDeadlineMs ?? deadlineFactor * timeoutMs;
  // Each request, its wait for one of the client's few connections included, ends by the
  // read's deadline: one queued behind requests that hang would otherwise start late and still
  // be given its whole timeout, and the read go on past its limit. Timers run in real time,
  // whatever clock the retries are given.
  const endsAt = monotonicClock.now() + limitMs;
  const limits = (): ExchangeLimits | undefined => {
    const leftMs = Math.max(1, Math.ceil(endsAt - monotonicClock.now()));
    if (leftMs >= requestDeadlineMs) return undefined;
    return {
      timeoutMs,
      deadlineMs: leftMs,
      deadlineName: `the read's limit of ${formatTimeout(limitMs)}`,
    };
  };
  return async (path, convert, extra = {}) => {
    const result = await listAll(client, {
      path,
      pageSize: options.pageSize ?? defaultPageSize,
      convert: (raw) => {
        checkYoungGeneration();
        return convert(raw);
      },
      retries: options.retries ?? 2,
      retryDelayMs: options.retryDelayMs ?? 500,
      ...(options.throttledRetries === undefined
        ? {}
        : { throttledRetries: options.throttledRetries }),
      maxRestarts: options.maxRestarts ?? 3,
      deadline,
      limits,
      clock,
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
      ...extra,
    });
    return { ...result, path };
  };
}

function named(node: NodeInfo): readonly [string, string] {
  return ["", node.name];
}

function podIdentity(pod: PodInfo): readonly [string, string] {
  return [pod.namespace, pod.name];
}

function requireReadable(what: string, result: Listed<unknown>, note = ""): void {
  if (result.complete || result.pages > 0) return;
  throw new ClusterReadError(
    `cannot list ${what}: ${result.error ? listFailure(result.error, result.path) : "unknown error"}${note}`,
    result.error,
  );
}

/**
 * Pods are listed after the other lists: when their list got no time left (cut at the read's
 * limit or the wait for an answer), the lists read before it that waited until they timed out
 * are where the time went, and the failure names them (a PDB list that hangs would otherwise
 * be said as pods that did not answer). Empty when pods failed for a reason of their own.
 */
function spentBefore(pods: Listed<unknown>, before: Record<string, Listed<unknown>>): string {
  if (pods.complete || pods.pages > 0 || !pods.error?.timedOut) return "";
  const waited = Object.entries(before).filter(([, listed]) => listed.error?.timedOut);
  if (waited.length === 0) return "";
  const named = waited.map(
    ([what, listed]) => `${what} (${listFailure(listed.error, listed.path)})`,
  );
  return `; the read's time went first on lists that did not answer in time: ${named.join(", ")}`;
}

function stripCredentials(server: string): string {
  try {
    const url = new URL(server);
    url.username = "";
    url.password = "";
    return url.toString().replace(/\/$/, "");
  } catch {
    return server;
  }
}

/**
 * metrics-server ignores `limit`, so its lists are asked for whole; a request that got nothing
 * for the timeout is not tried again (an aggregated API that hangs tends to go on hanging).
 */
const metricsList = { pageSize: 0, retryTimeouts: false } as const;

function metricsUnavailable(
  what: string,
  result: Listed<unknown>,
  context: MetricsContext,
): boolean {
  if (result.complete) return false;
  const status = result.error?.status;
  const why =
    status === 404
      ? "the metrics API (metrics.k8s.io) is not installed; install metrics-server"
      : status === 503
        ? "the metrics API is registered but unavailable (is metrics-server running?)"
        : listFailure(result.error, result.path);
  context.warnings.add(
    "metrics-unavailable",
    `${what} metrics: ${why}; usage unknown`,
    `metrics/${what}`,
  );
  return true;
}

/** What the node metrics read gave: usage by node name, unless the metrics API was unusable. */
interface NodeMetricsRead {
  usage?: Map<string, Usage>;
  /** The metrics API gave no answer in time: pod metrics are not asked for either. */
  hung?: KubeApiError;
}

/** NodeMetrics by node name; no usage (with a warning) when the metrics API is unusable. */
async function readNodeMetrics(lister: Lister, context: MetricsContext): Promise<NodeMetricsRead> {
  const result = await lister(
    "/apis/metrics.k8s.io/v1beta1/nodes",
    (raw) => toNodeUsage(raw, context),
    metricsList,
  );
  if (!metricsUnavailable("nodes", result, context)) return { usage: new Map(result.items) };
  return result.error?.timedOut ? { hung: result.error } : {};
}

/**
 * Reads PodMetrics as they arrive into updates for the pods (keeping nothing else), and
 * applies them once the whole list is read; false (with a warning) when the metrics API is
 * unusable, and then no pod has usage.
 */
async function readPodMetrics(
  lister: Lister,
  pods: PodIndex,
  context: MetricsContext,
): Promise<boolean> {
  const result = await lister(
    "/apis/metrics.k8s.io/v1beta1/pods",
    (raw) => podUsageUpdate(raw, pods, context),
    metricsList,
  );
  if (metricsUnavailable("pods", result, context)) return false;
  for (const update of result.items) applyPodUsageUpdate(update);
  return true;
}

/** Pod metrics are not asked for from a metrics API that just hung for the node metrics. */
function podMetricsNotAsked(hung: KubeApiError, context: MetricsContext): false {
  context.warnings.add(
    "metrics-unavailable",
    `pods metrics: not asked for, as the metrics API did not answer for nodes (${hung.message}); usage unknown`,
    "metrics/pods",
  );
  return false;
}

interface UsageOutcome {
  availability: MetricsAvailability;
  origin?: string;
}

async function readUsage(
  nodes: NodeInfo[],
  pods: PodInfo[],
  usageSource: UsageSource | undefined,
  nodeMetricsRead: NodeMetricsRead | undefined,
  lister: Lister,
  context: MetricsContext,
): Promise<UsageOutcome> {
  let nodeMetrics = nodeMetricsRead;
  if (usageSource) {
    const read = await readUsageSource(usageSource, nodes, pods, context);
    const report = read && withoutStale(read, pods, context);
    if (report) {
      const podUsage = podUsageFromReport(pods, report, context);
      for (const pod of pods) {
        const usage = podUsage.get(`${pod.namespace}/${pod.name}`);
        if (usage) applyPodUsage(pod, usage);
      }
      const availability = coverage(nodes, report.nodes, pods, !report.podsUnread, context);
      availability.source = "prometheus";
      availability.windowSeconds = report.windowSeconds;
      if (report.percentile !== undefined) availability.percentile = report.percentile;
      return report.origin ? { availability, origin: report.origin } : { availability };
    }
    nodeMetrics = await readNodeMetrics(lister, context);
  }
  const podsRead = nodeMetrics?.hung
    ? podMetricsNotAsked(nodeMetrics.hung, context)
    : await readPodMetrics(lister, indexPods(pods), context);
  const nodeUsage = nodeMetrics?.usage;
  const availability = coverage(nodes, nodeUsage, pods, podsRead, context);
  availability.source = nodeUsage || podsRead ? "metrics-server" : "none";
  return { availability };
}

/** The usage source, asked for at least `windowSeconds` of usage when that is given. */
function withWindow(
  usageSource: UsageSource | undefined,
  windowSeconds: number | undefined,
): UsageSource | undefined {
  if (!usageSource || !windowSeconds) return usageSource;
  return {
    name: usageSource.name,
    read: (request) => usageSource.read({ ...request, windowSeconds }),
  };
}

async function readUsageSource(
  usageSource: UsageSource,
  nodes: NodeInfo[],
  pods: PodInfo[],
  context: MetricsContext,
): Promise<UsageReport | undefined> {
  try {
    const report = await usageSource.read({
      now: usageTime(context),
      nodes: nodes.map((node) => node.name),
      pods: pods.map(({ namespace, name }) => ({ namespace, name })),
    });
    for (const warning of report.warnings) {
      context.warnings.add(warning.code, warning.message, warning.subject);
      // The source said why this node's usage is unknown: no second warning says it again.
      if (warning.subject?.startsWith("node/"))
        context.refused?.nodes.add(warning.subject.slice("node/".length));
    }
    return report;
  } catch (error) {
    context.warnings.add(
      "usage-source-failed",
      `${(error as Error).message}; using metrics-server instead`,
      usageSource.name,
    );
    return undefined;
  }
}

/**
 * When usage is wanted for: the time planned for when that is past (Prometheus keeps history,
 * so `plan --now` an hour ago judges the window ending then), else the read. A time ahead of
 * the read has not been measured yet: the read's usage is judged stale against it below.
 */
function usageTime(context: MetricsContext): Date {
  const { now, planningTime } = context;
  return planningTime && planningTime.getTime() < now.getTime() ? planningTime : now;
}

/**
 * The report without usage measured more than `maxAgeSeconds` from the time planned for, each
 * node and the pods together said in a `metrics-stale` warning, as metrics-server's samples are.
 */
function withoutStale(
  report: UsageReport,
  pods: readonly PodInfo[],
  context: MetricsContext,
): UsageReport {
  const time = context.planningTime ?? context.now;
  const stale = (usage: Usage): number | undefined =>
    usage.timestamp === undefined
      ? undefined
      : staleBy(Date.parse(usage.timestamp), time, context.maxAgeSeconds);
  const nodes = new Map<string, Usage>();
  for (const [name, usage] of report.nodes) {
    const age = stale(usage);
    if (age === undefined) {
      nodes.set(name, usage);
      continue;
    }
    context.refused?.nodes.add(name);
    context.warnings.add("metrics-stale", staleMessage(age, context), `node/${name}`);
  }
  const containers = new Map<string, Usage>();
  const stalePods = new Set<string>();
  for (const [key, usage] of report.containers) {
    if (stale(usage) === undefined) containers.set(key, usage);
    else stalePods.add(key.split("/").slice(0, 2).join("/"));
  }
  const podUsage = new Map<string, Usage>();
  for (const [key, usage] of report.pods ?? []) {
    if (stale(usage) === undefined) podUsage.set(key, usage);
    else stalePods.add(key);
  }
  if (stalePods.size === 0 && nodes.size === report.nodes.size) return report;
  let podsAged = 0;
  for (const pod of pods) {
    if (!stalePods.has(`${pod.namespace}/${pod.name}`)) continue;
    podsAged++;
    context.refused?.pods.add(pod);
  }
  if (podsAged > 0) {
    context.warnings.add(
      "metrics-stale",
      `usage of ${counted(podsAged, "pod")} ${staleMessage(undefined, context)}`,
      "pods",
    );
  }
  return {
    ...report,
    nodes,
    containers,
    ...(report.pods ? { pods: podUsage } : {}),
  };
}

function staleMessage(age: number | undefined, context: MetricsContext): string {
  const limit = `more than ${context.maxAgeSeconds}s`;
  const measured =
    age === undefined
      ? `measured ${limit} from the time planned for`
      : age > 0
        ? `measured ${Math.round(age)}s before the time planned for (${limit})`
        : `measured ${Math.round(-age)}s after the time planned for (${limit})`;
  return `${measured}; usage treated as unknown`;
}

/**
 * Each pod's usage from the report: its own, else the sum of its containers' when every
 * container it runs has some (else unknown, with a `metrics-missing` warning for a running pod).
 */
function podUsageFromReport(
  pods: readonly PodInfo[],
  report: UsageReport,
  context: MetricsContext,
): Map<string, PodUsage> {
  const result = new Map<string, PodUsage>();
  for (const pod of pods) {
    const key = `${pod.namespace}/${pod.name}`;
    const containers = new Map<string, Usage>();
    for (const container of [...pod.containers, ...pod.initContainers]) {
      const usage = report.containers.get(containerKey(pod.namespace, pod.name, container.name));
      if (usage) containers.set(container.name, usage);
    }
    const own = report.pods?.get(key);
    if (own) result.set(key, { usage: own, containers });
    if (own || containers.size === 0) continue;
    const missing = unmeasured(pod, containers);
    if (missing.length === 0) {
      const usage = sumUsage(firstSample(containers), [...containers.values()]);
      result.set(key, { usage, containers });
      continue;
    }
    result.set(key, { containers });
    if (pod.phase !== "Running") continue;
    context.refused?.pods.add(pod);
    context.warnings.add(
      "metrics-missing",
      `no usage for ${missing.length === 1 ? "container" : "containers"} ${missing.join(", ")}; the pod's usage unknown`,
      `pod/${key}`,
    );
  }
  return result;
}

/** What a pod's summed usage stands on: its least covered container's window. */
function firstSample(containers: Map<string, Usage>): Usage {
  const all = [...containers.values()];
  const { cpu: _cpu, memory: _memory, peak: _peak, low: _low, ...sample } = all[0] as Usage;
  for (const usage of all) {
    if (sample.windowSeconds !== undefined) {
      if (usage.windowSeconds === undefined) delete sample.windowSeconds;
      else sample.windowSeconds = Math.min(sample.windowSeconds, usage.windowSeconds);
    }
    if (usage.gapSeconds !== undefined)
      sample.gapSeconds = Math.max(sample.gapSeconds ?? 0, usage.gapSeconds);
  }
  return sample;
}

/**
 * Sets node usage, and says how much of the cluster has usage: every node, and every
 * running pod (pending and finished pods have none to report). An object whose sample was
 * refused with its own warning (`metrics-stale`, `metrics-invalid`), or a node the usage source
 * warned about (`prometheus-no-series`), gets no second one.
 */
function coverage(
  nodes: NodeInfo[],
  nodeUsage: ReadonlyMap<string, Usage> | undefined,
  pods: PodInfo[],
  podsRead: boolean,
  context: MetricsContext,
): MetricsAvailability {
  const { warnings, refused } = context;
  let nodesWith = 0;
  if (nodeUsage) {
    for (const node of nodes) {
      const found = nodeUsage.get(node.name);
      if (found) {
        node.usage = found;
        nodesWith++;
      } else if (!refused?.nodes.has(node.name)) {
        warnings.add(
          "metrics-missing",
          "no usable metrics for this node; usage unknown",
          `node/${node.name}`,
        );
      }
    }
  }
  let running = 0;
  let runningWith = 0;
  if (podsRead) {
    for (const pod of pods) {
      if (pod.phase !== "Running") continue;
      running++;
      if (pod.usage) runningWith++;
      else if (!refused?.pods.has(pod)) {
        warnings.add(
          "metrics-missing",
          "no usable metrics for this running pod; usage unknown",
          `pod/${pod.namespace}/${pod.name}`,
        );
      }
    }
  }
  return {
    nodes: nodeUsage ? share(nodesWith, nodes.length) : "unavailable",
    pods: podsRead ? share(runningWith, running) : "unavailable",
    source: "none",
  };
}

function share(withUsage: number, total: number): MetricsAvailability["nodes"] {
  if (withUsage === total) return "available";
  return withUsage === 0 ? "unavailable" : "partial";
}
