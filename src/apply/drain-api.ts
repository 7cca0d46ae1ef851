import {
  createKubeClient,
  deadlineFactor,
  type ExchangeLimits,
  KubeApiError,
  type KubeClient,
} from "../cluster/kube-client.ts";
import type { LoadedKubeConfig } from "../cluster/kube-config.ts";
import { type KubeRequest, kubeRequest, responseError } from "../cluster/kube-request.ts";
import { readLabelSelector } from "../cluster/label-selector.ts";
import { isNodeLocalVolume } from "../cluster/local-volumes.ts";
import { count, list, number, oneOf, type Raw, record, string } from "../cluster/raw.ts";
import type { BudgetSelector, ClaimVolume } from "./drain-decide.ts";
import { type DrainPod, toDrainPod } from "./drain-pod.ts";
import { type NodeReadiness, readReadiness } from "./drain-readiness.ts";

/** A node as draining sees it. */
export interface DrainNode extends NodeReadiness {
  name: string;
  unschedulable: boolean;
}

/** What one eviction request came to. */
export type EvictionOutcome =
  | { kind: "evicted" }
  /**
   * 404 or 409 (or 403 in a namespace being deleted): the pod that was meant may be gone (deleted,
   * or its name taken by a pod with another UID, which fails the UID precondition), or the eviction
   * met a concurrent change to the pod or its budget ("the object has been modified"). Only a read
   * of the pod tells.
   */
  | { kind: "maybe-gone"; message: string }
  /** 429 from a PodDisruptionBudget: try again later. */
  | { kind: "blocked"; budget?: string; message: string }
  /** 429 without a budget (API throttling), 5xx, or no answer: try again later. */
  | { kind: "transient"; message: string }
  /** 500 because several budgets select the pod: the API server never evicts such a pod. */
  | { kind: "multiple-budgets"; message: string }
  /** Anything else (403, 400…): retrying will not help. */
  | { kind: "failed"; message: string };

/** A PodDisruptionBudget as the check and the dry run read it. */
export interface BudgetInfo extends BudgetSelector {
  disruptionsAllowed: number | undefined;
  /** `spec.unhealthyPodEvictionPolicy`; absent means the API's default, `IfHealthyBudget`. */
  unhealthyPodEvictionPolicy?: "IfHealthyBudget" | "AlwaysAllow";
  /** `status.currentHealthy` and `desiredHealthy`, kept only with a readable allowance. */
  currentHealthy?: number;
  desiredHealthy?: number;
  /**
   * Its status was written for an older spec (`observedGeneration` below `generation`): the
   * API allows no eviction until the disruption controller catches up, so
   * `disruptionsAllowed` is 0 whatever the status says.
   */
  stale?: true;
}

/** How one eviction is sent. */
export interface EvictOptions {
  /** `deleteOptions.gracePeriodSeconds`; the pod's own grace period when absent. */
  gracePeriodSeconds?: number;
  /**
   * How long to wait for the answer, at most {@link evictionTimeoutMs}: the drain passes the
   * time left before its deadline.
   */
  timeoutMs?: number;
}

/** The longest an eviction request waits for its answer. */
export const evictionTimeoutMs = 30_000;

/** The longest a read waits for data, and three times it for its whole answer. */
export const readTimeoutMs = 30_000;

/** How one read is sent. */
export interface ReadOptions {
  /**
   * The longest to wait for the whole answer, within the read's own limits: the drain passes
   * the time left before its deadline.
   */
  timeoutMs?: number;
}

/**
 * Whether a read sent with `options` failed because `options.timeoutMs` ran out rather than
 * the read's own limits: no answer within it, when it was the shorter.
 */
export function cutByTimeout(error: KubeApiError, options: ReadOptions): boolean {
  if (!error.timedOut || options.timeoutMs === undefined) return false;
  return options.timeoutMs <= readTimeoutMs || error.pastDeadline;
}

/**
 * Whether a write that failed may still have been applied: it got no answer (none in time, the
 * connection lost, the answer cut short) or a server error, which may come after the change
 * was made (a 504 says the server may still be processing it).
 */
export function mayHaveApplied(error: KubeApiError): boolean {
  if (error.stage !== undefined) return false;
  return error.status === undefined || error.status >= 500;
}

/** The API calls draining makes; the only place that speaks HTTP for it. */
export interface DrainApi {
  /** Undefined when the node does not exist. */
  getNode(name: string, options?: ReadOptions): Promise<DrainNode | undefined>;
  /** Cordons (true) or uncordons (false) the node. */
  setUnschedulable(
    name: string,
    unschedulable: boolean,
    options?: { timeoutMs?: number },
  ): Promise<void>;
  listPods(node: string, options?: ReadOptions): Promise<DrainPod[]>;
  /**
   * Where the claim's data lives; `unknown` when it cannot be read, except when the read got
   * no answer within `options.timeoutMs`: the caller's deadline, not the claim, stopped it,
   * and the {@link KubeApiError} is thrown.
   */
  claimVolume(namespace: string, claim: string, options?: ReadOptions): Promise<ClaimVolume>;
  evict(pod: DrainPod, options?: EvictOptions): Promise<EvictionOutcome>;
  /**
   * The pod as it is now; undefined when it is deleted or its name now belongs to another pod
   * (another UID).
   */
  currentPod(pod: DrainPod, options?: ReadOptions): Promise<DrainPod | undefined>;
  listBudgets(namespace: string, options?: ReadOptions): Promise<BudgetInfo[]>;
  close(): void;
}

/**
 * The drain's API access with the kubeconfig's credentials: reads through the shared
 * {@link KubeClient}, writes (PATCH node, POST eviction) through {@link kubeRequest}.
 * Pods are never deleted: they leave only through the Eviction API, which honours
 * PodDisruptionBudgets.
 */
export function createDrainApi(loaded: LoadedKubeConfig): DrainApi {
  const client = createKubeClient(loaded, { timeoutMs: readTimeoutMs });
  return {
    getNode: (name, options) => getNode(client, name, options),
    setUnschedulable: (name, unschedulable, options) =>
      setUnschedulable(loaded, name, unschedulable, options?.timeoutMs),
    listPods: (node, options) => listPods(client, node, options),
    claimVolume: (namespace, claim, options) => claimVolume(client, namespace, claim, options),
    evict: (pod, options) => evict(loaded, pod, options ?? {}),
    currentPod: (pod, options) => currentPod(client, pod, options),
    listBudgets: (namespace, options) => listBudgets(client, namespace, options),
    close: () => client.close(),
  };
}

function segment(text: string): string {
  return encodeURIComponent(text);
}

/** The limits of a read given a timeout: the whole answer within it, and the read's own. */
export function readLimits(options: ReadOptions): ExchangeLimits | undefined {
  if (options.timeoutMs === undefined) return undefined;
  const limit = Math.max(1, options.timeoutMs);
  return {
    timeoutMs: Math.min(limit, readTimeoutMs),
    deadlineMs: Math.min(limit, deadlineFactor * readTimeoutMs),
  };
}

async function getJson(
  client: KubeClient,
  path: string,
  query = {},
  options: ReadOptions = {},
): Promise<Raw | undefined> {
  try {
    return record(JSON.parse(await client.getText(path, query, readLimits(options))));
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return undefined;
    if (error instanceof SyntaxError) {
      throw new KubeApiError(`GET ${path}: the answer is not JSON`, path);
    }
    throw error;
  }
}

async function getNode(
  client: KubeClient,
  name: string,
  options?: ReadOptions,
): Promise<DrainNode | undefined> {
  const raw = await getJson(client, `/api/v1/nodes/${segment(name)}`, {}, options);
  if (raw === undefined) return undefined;
  return { name, unschedulable: record(raw.spec).unschedulable === true, ...readReadiness(raw) };
}

async function setUnschedulable(
  loaded: LoadedKubeConfig,
  name: string,
  unschedulable: boolean,
  timeoutMs: number | undefined,
): Promise<void> {
  const request: KubeRequest = {
    ...(timeoutMs === undefined ? {} : { timeoutMs: Math.max(1, timeoutMs) }),
    method: "PATCH",
    path: `/api/v1/nodes/${segment(name)}`,
    contentType: "application/merge-patch+json",
    // null removes the field, which is how an uncordoned node looks.
    body: { spec: { unschedulable: unschedulable ? true : null } },
  };
  const response = await kubeRequest(loaded, request);
  if (response.status < 200 || response.status >= 300) throw responseError(request, response);
}

async function listPods(
  client: KubeClient,
  node: string,
  options?: ReadOptions,
): Promise<DrainPod[]> {
  const query = { fieldSelector: `spec.nodeName=${node}` };
  const raw = await getJson(client, "/api/v1/pods", query, options);
  if (raw === undefined) throw new KubeApiError("GET /api/v1/pods: 404", "/api/v1/pods", 404);
  return list(raw.items).map((item) => toDrainPod(record(item)));
}

async function claimVolume(
  client: KubeClient,
  namespace: string,
  claim: string,
  options: ReadOptions = {},
): Promise<ClaimVolume> {
  try {
    const pvc = await getJson(
      client,
      `/api/v1/namespaces/${segment(namespace)}/persistentvolumeclaims/${segment(claim)}`,
      {},
      options,
    );
    if (pvc === undefined) return { kind: "missing" };
    const volume = string(record(pvc.spec).volumeName);
    // An unbound claim holds no data on any node.
    if (!volume) return { kind: "elsewhere" };
    const pv = await getJson(client, `/api/v1/persistentvolumes/${segment(volume)}`, {}, options);
    if (pv === undefined) return { kind: "unknown", why: `its volume ${volume} does not exist` };
    return isNodeLocalVolume(pv) ? { kind: "node-local", volume } : { kind: "elsewhere" };
  } catch (error) {
    if (!(error instanceof KubeApiError)) throw error;
    if (cutByTimeout(error, options)) throw error;
    return { kind: "unknown", why: error.message };
  }
}

const unhealthyPolicies = ["IfHealthyBudget", "AlwaysAllow"] as const;

/** `The disruption budget NAME needs…` / `…is still being processed…`, as the API server words it. */
const budgetName = /disruption budget (\S+)/;

async function evict(
  loaded: LoadedKubeConfig,
  pod: DrainPod,
  options: EvictOptions,
): Promise<EvictionOutcome> {
  const deleteOptions: Raw = { preconditions: { uid: pod.uid } };
  if (options.gracePeriodSeconds !== undefined) {
    deleteOptions.gracePeriodSeconds = options.gracePeriodSeconds;
  }
  const timeoutMs = Math.max(
    1,
    Math.min(options.timeoutMs ?? evictionTimeoutMs, evictionTimeoutMs),
  );
  const request: KubeRequest = {
    // The answer, body included, within the time left: not three times it for one that trickles.
    timeoutMs,
    deadlineMs: timeoutMs,
    method: "POST",
    path: `/api/v1/namespaces/${segment(pod.namespace)}/pods/${segment(pod.name)}/eviction`,
    body: {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: pod.name, namespace: pod.namespace },
      deleteOptions,
    },
  };
  let response: Awaited<ReturnType<typeof kubeRequest>>;
  try {
    response = await kubeRequest(loaded, request);
  } catch (error) {
    if (!(error instanceof KubeApiError)) throw error;
    return { kind: "transient", message: error.message };
  }
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: "evicted" };
  const message = responseError(request, response).message;
  if (status === 404 || status === 409 || namespaceTerminating(status, response.causes)) {
    return { kind: "maybe-gone", message };
  }
  if (status === 429) {
    const cause = response.causes.find(
      (c) => c.message !== undefined && budgetName.test(c.message),
    );
    if (cause?.message) {
      const name = budgetName.exec(cause.message)?.[1];
      return { kind: "blocked", ...(name ? { budget: name } : {}), message: cause.message };
    }
    return { kind: "transient", message };
  }
  if (status === 500 && /more than one PodDisruptionBudget/i.test(response.message ?? "")) {
    return { kind: "multiple-budgets", message: response.message ?? message };
  }
  if (status >= 500 && status !== 501) return { kind: "transient", message };
  return { kind: "failed", message };
}

/**
 * 403 with the cause NamespaceTerminating: the pod's namespace is being deleted, and the API
 * server refuses evictions in it. Its pods are deleted by the namespace's deletion, so the pod
 * is waited for when it is being deleted and tried again otherwise, as kubectl drain does.
 */
function namespaceTerminating(status: number, causes: readonly { reason?: string }[]): boolean {
  return status === 403 && causes.some((cause) => cause.reason === "NamespaceTerminating");
}

async function currentPod(
  client: KubeClient,
  pod: DrainPod,
  options?: ReadOptions,
): Promise<DrainPod | undefined> {
  const raw = await getJson(
    client,
    `/api/v1/namespaces/${segment(pod.namespace)}/pods/${segment(pod.name)}`,
    {},
    options,
  );
  if (raw === undefined || string(record(raw.metadata).uid) !== pod.uid) return undefined;
  return toDrainPod(raw);
}

async function listBudgets(
  client: KubeClient,
  namespace: string,
  options?: ReadOptions,
): Promise<BudgetInfo[]> {
  const raw = await getJson(
    client,
    `/apis/policy/v1/namespaces/${segment(namespace)}/poddisruptionbudgets`,
    {},
    options,
  );
  if (raw === undefined) return [];
  return list(raw.items).map((item) => {
    const budget = record(item);
    const metadata = record(budget.metadata);
    const status = record(budget.status);
    const info: BudgetInfo = {
      namespace,
      name: string(metadata.name) ?? "",
      selector: readLabelSelector(record(budget.spec).selector),
      disruptionsAllowed: number(status.disruptionsAllowed),
    };
    const generation = count(metadata.generation);
    const observed = count(status.observedGeneration);
    if (
      info.disruptionsAllowed !== undefined &&
      generation !== undefined &&
      observed !== undefined &&
      observed < generation
    ) {
      info.disruptionsAllowed = 0;
      info.stale = true;
    }
    const policy = oneOf(record(budget.spec).unhealthyPodEvictionPolicy, unhealthyPolicies);
    if (policy) info.unhealthyPodEvictionPolicy = policy;
    const currentHealthy = count(status.currentHealthy);
    const desiredHealthy = count(status.desiredHealthy);
    if (
      info.disruptionsAllowed !== undefined &&
      currentHealthy !== undefined &&
      desiredHealthy !== undefined
    ) {
      info.currentHealthy = currentHealthy;
      info.desiredHealthy = desiredHealthy;
    }
    return info;
  });
}
