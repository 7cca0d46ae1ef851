import type {
  BlockingVolume,
  ContainerInfo,
  HostPort,
  LabelSelector,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  OwnerRef,
  PodAffinityTerm,
  PodInfo,
  Toleration,
  TopologySpreadConstraint,
} from "../planning/snapshot.ts";
import { readLabelSelector } from "./label-selector.ts";
import { type ContainerRequests, effectiveRequests } from "./pod-requests.ts";
import {
  count,
  type Intern,
  list,
  number,
  oneOf,
  type Raw,
  record,
  string,
  stringList,
  stringMap,
  time,
} from "./raw.ts";
import { asAllocated } from "./resized-requests.ts";
import { type ResourceAmounts, readResourceList, toResources } from "./resources.ts";
import { noItems, ValueSharing } from "./value-sharing.ts";
import type { WarningCollector } from "./warnings.ts";

export const safeToEvictAnnotation = "cluster-autoscaler.kubernetes.io/safe-to-evict";
/** Names the pod's local volumes whose data may be lost when it is evicted (comma-separated). */
export const safeToEvictLocalVolumesAnnotation =
  "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes";

/** The volume names `safe-to-evict-local-volumes` lists. */
export function evictableLocalVolumes(annotations: Raw): Set<string> {
  const text = annotations[safeToEvictLocalVolumesAnnotation];
  if (typeof text !== "string") return new Set();
  return new Set(
    text
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== ""),
  );
}
export const doNotDisruptAnnotation = "karpenter.sh/do-not-disrupt";
export const mirrorAnnotation = "kubernetes.io/config.mirror";
/** The scheduler a pod goes to when its `spec.schedulerName` names none. */
export const DEFAULT_SCHEDULER = "default-scheduler";

/** A pod volume backed by a PersistentVolumeClaim, resolved once PVCs and PVs are read. */
export interface PendingClaim {
  pod: PodInfo;
  volume: string;
  claim: string;
  /** Named in `safe-to-evict-local-volumes`: its data may be lost, so it ties the pod to no node. */
  evictable?: boolean;
  /** A generic ephemeral volume's: the claim is the pod's own, made with it and deleted with it. */
  ephemeral?: boolean;
}

const phases = ["Pending", "Running", "Succeeded", "Failed", "Unknown"] as const;
const tolerationOperators = ["Exists", "Equal"] as const;
const taintEffects = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
const selectorOperators = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"] as const;

/** What converting pods needs besides the pod: where to warn, where to queue claims. */
export interface PodContext {
  warnings: WarningCollector;
  /** Volumes backed by claims, for the caller to resolve against PVCs and PVs. */
  claims: PendingClaim[];
  intern: Intern;
  /**
   * Shares equal labels, selectors, tolerations, owners and amounts between pods (and
   * `intern` should be its `string`). Without it each pod gets its own copies.
   */
  sharing?: ValueSharing;
}

/**
 * Translates a core/v1 Pod into PodInfo. With `context.sharing`, the pod's labels,
 * nodeSelector, tolerations (the objects in its list), owner, requests and limits, and its
 * empty lists, are shared frozen values: replace them, never change them in place.
 */
export function toPodInfo(raw: Raw, context: PodContext): PodInfo {
  const { intern } = context;
  const sharing = context.sharing ?? new ValueSharing();
  const metadata = record(raw.metadata);
  const spec = record(raw.spec);
  const status = record(raw.status);
  const namespace = intern(string(metadata.namespace) ?? "");
  const name = string(metadata.name) ?? "";
  const subject = `pod/${namespace}/${name}`;
  const labels = context.sharing
    ? sharing.stringRecord(metadata.labels)
    : stringMap(metadata.labels, intern);
  const annotations = record(metadata.annotations);
  const owner = controllerOf(metadata, labels, sharing);

  const parts = readSpecRequests(spec, POD_SPEC, subject, context, sharing);
  const { containers, initContainers, overhead: overheadList } = parts;
  // A bound pod being resized in place holds what its node gives it now; a pending one has
  // nothing allocated yet and asks for its spec.
  const fromSpec = effectiveRequests(parts.app, parts.init, overheadList, parts.podLevel);
  const resized = string(spec.nodeName)
    ? asAllocated(parts, status, subject, context.warnings)
    : false;
  const effective = resized
    ? effectiveRequests(parts.app, parts.init, overheadList, parts.podLevel)
    : fromSpec;

  const pod: PodInfo = {
    namespace,
    name,
    phase: podPhase(status.phase, string(spec.nodeName)),
    labels,
    requests: sharing.resources(toResources(effective.amounts)),
    containers,
    initContainers,
    nodeSelector: context.sharing
      ? sharing.stringRecord(spec.nodeSelector)
      : stringMap(spec.nodeSelector, intern),
    tolerations: sharing.tolerations(readTolerations(spec.tolerations)),
    blockingVolumes: noItems(),
    doNotDisrupt: false,
    daemonSet: owner?.kind === "DaemonSet",
    mirror: typeof annotations[mirrorAnnotation] === "string",
    oomKills: readOomKills(status),
    // Replicas started together share their creation second.
    createdAt: intern(time(metadata.creationTimestamp) ?? ""),
  };
  // Counted otherwise than its spec asks, as a resize in place is under way: the spec's figures
  // too, so that an explanation naming what it needs can say why they are not the spec's.
  if (resized && !sameAmounts(fromSpec.amounts, effective.amounts))
    pod.specRequests = toResources(fromSpec.amounts);
  readDoNotDisrupt(annotations[doNotDisruptAnnotation], time(status.startTime), pod);
  const nodeName = string(spec.nodeName);
  if (nodeName) pod.nodeName = intern(nodeName);
  if (owner) pod.owner = owner;
  if (overheadList) pod.overhead = sharing.resources(toResources(overheadList.amounts));
  const affinity = requiredNodeAffinity(spec);
  if (affinity) pod.requiredNodeAffinity = affinity;
  const podAffinity = requiredPodTerms(spec, "podAffinity", labels);
  if (podAffinity) pod.podAffinity = podAffinity;
  const podAntiAffinity = requiredPodTerms(spec, "podAntiAffinity", labels);
  if (podAntiAffinity) pod.podAntiAffinity = podAntiAffinity;
  const spread = topologySpread(spec, labels);
  if (spread) pod.topologySpread = spread;
  const hostPorts = readHostPorts(spec);
  if (hostPorts) pod.hostPorts = hostPorts;
  const resourceClaims = list(spec.resourceClaims).flatMap((claim) => {
    const claimName = string(record(claim).name);
    return claimName ? [intern(claimName)] : [];
  });
  if (resourceClaims.length > 0) pod.resourceClaims = resourceClaims;
  const priority = number(spec.priority);
  if (priority !== undefined) pod.priority = priority;
  const unschedulable = unschedulableCondition(status);
  if (unschedulable) pod.unschedulable = unschedulable;
  const notScheduled = notScheduledCondition(status);
  if (notScheduled) pod.notScheduled = notScheduled;
  // Only where no node is set: on a bound pod the condition is True and tells nothing more.
  const podScheduled = string(spec.nodeName) ? undefined : scheduledCondition(status);
  if (podScheduled) pod.podScheduled = podScheduled;
  const gates = list(spec.schedulingGates).flatMap((gate) => {
    const gateName = string(record(gate).name);
    return gateName ? [intern(gateName)] : [];
  });
  if (gates.length > 0) pod.schedulingGates = gates;
  // The default scheduler is the one whose verdict the planner may anticipate; it is left out,
  // so that a snapshot saved before the field was read reads as it.
  const schedulerName = string(spec.schedulerName);
  if (schedulerName && schedulerName !== DEFAULT_SCHEDULER)
    pod.schedulerName = intern(schedulerName);
  const ready = readyCondition(status);
  if (ready !== undefined) pod.ready = ready;
  const nominated = string(status.nominatedNodeName);
  if (nominated) pod.nominatedNode = intern(nominated);
  // Being deleted even when the time cannot be read (then it is unknown: empty).
  if (metadata.deletionTimestamp !== undefined && metadata.deletionTimestamp !== null)
    pod.deletingSince = time(metadata.deletionTimestamp) ?? "";
  const safeToEvict = annotations[safeToEvictAnnotation];
  if (safeToEvict === "true" || safeToEvict === "false") pod.safeToEvict = safeToEvict === "true";
  readVolumes(spec.volumes, pod, context.claims, evictableLocalVolumes(annotations));
  return pod;
}

/** Where the parts of a pod spec are, for warnings: in a Pod, or in a workload's template. */
export interface SpecFields {
  containers: string;
  initContainers: string;
  overhead: string;
  podLevel: string;
}

/** The fields of a pod spec at `at` (`spec`, `spec.template.spec`). */
export function specFields(at: string): SpecFields {
  return {
    containers: `${at}.containers`,
    initContainers: `${at}.initContainers`,
    overhead: `${at}.overhead`,
    podLevel: `${at}.resources.requests`,
  };
}

const POD_SPEC = specFields("spec");

/**
 * What a pod spec's parts request, before they are added up into the pod's request
 * (`effectiveRequests`): its containers as declared, and each one's requests as the scheduler
 * counts them, with `spec.overhead` and the pod-level requests when set.
 */
export interface SpecRequests {
  containers: ContainerInfo[];
  initContainers: ContainerInfo[];
  app: ContainerRequests[];
  init: ContainerRequests[];
  overhead?: ResourceAmounts;
  podLevel?: ResourceAmounts;
}

/** Reads the requests of a pod spec (a Pod's, or a workload's pod template's). */
export function readSpecRequests(
  spec: Raw,
  fields: SpecFields,
  subject: string,
  context: PodContext,
  sharing: ValueSharing,
): SpecRequests {
  const { warnings } = context;
  const app: ContainerRequests[] = [];
  const init: ContainerRequests[] = [];
  const parts: SpecRequests = {
    containers: readContainers(
      spec.containers,
      fields.containers,
      false,
      subject,
      context,
      sharing,
      app,
    ),
    initContainers: readContainers(
      spec.initContainers,
      fields.initContainers,
      true,
      subject,
      context,
      sharing,
      init,
    ),
    app,
    init,
  };
  if (spec.overhead !== undefined)
    parts.overhead = readResourceList(spec.overhead, {
      subject,
      field: fields.overhead,
      warnings,
    });
  const podLevel = record(record(spec.resources).requests);
  if (Object.keys(podLevel).length > 0)
    parts.podLevel = readResourceList(podLevel, { subject, field: fields.podLevel, warnings });
  return parts;
}

/**
 * The pod's controller. A ReplicaSet is reported as its Deployment when the pod's
 * `pod-template-hash` label shows the ReplicaSet was made by one (its name is the
 * Deployment's name, a dash and that hash), which avoids listing ReplicaSets.
 */
function controllerOf(
  metadata: Raw,
  labels: Readonly<Record<string, string>>,
  sharing: ValueSharing,
): OwnerRef | undefined {
  // Only a controller reference says something recreates the pod (as cluster-autoscaler and
  // kubectl drain read it); other owners (a ConfigMap, a custom object) only garbage-collect it.
  const controller = list(metadata.ownerReferences)
    .map(record)
    .find((ref) => ref.controller === true);
  if (!controller) return undefined;
  const kind = string(controller.kind);
  const name = string(controller.name);
  if (kind === undefined || name === undefined) return undefined;
  const group = apiGroup(string(controller.apiVersion));
  const hash = labels["pod-template-hash"];
  if (kind === "ReplicaSet" && hash && name.length > hash.length + 1 && name.endsWith(`-${hash}`)) {
    return sharing.owner("Deployment", name.slice(0, -(hash.length + 1)), group);
  }
  return sharing.owner(kind, name, group);
}

/** The group of an `apiVersion`: `apps` of `apps/v1`, empty for the core group's `v1`. */
export function apiGroup(apiVersion: string | undefined): string {
  const slash = apiVersion?.lastIndexOf("/") ?? -1;
  return slash > 0 ? (apiVersion as string).slice(0, slash) : "";
}

function readContainers(
  value: unknown,
  field: string,
  init: boolean,
  subject: string,
  { warnings, intern }: PodContext,
  sharing: ValueSharing,
  requests: ContainerRequests[],
): ContainerInfo[] {
  const items = list(value);
  if (items.length === 0) return noItems();
  // map, not push: the list is allocated at its final length, not with room to grow.
  return items.map((item, index) => {
    const container = record(item);
    const resources = record(container.resources);
    const at = `${field}[${index}].resources`;
    const requestList = readResourceList(resources.requests, {
      subject,
      field: `${at}.requests`,
      warnings,
    });
    const limitList = readResourceList(resources.limits, {
      subject,
      field: `${at}.limits`,
      warnings,
    });
    const info: ContainerInfo = {
      name: intern(string(container.name) ?? ""),
      requests: sharing.resources(toResources(requestList.amounts)),
      limits: sharing.resources(toResources(limitList.amounts)),
    };
    const sidecar = init && container.restartPolicy === "Always";
    if (sidecar) info.sidecar = true;
    // A limit that could not be read, standing in for a missing request, leaves it unknown.
    const unreadLimits = (limitList.invalid ?? []).filter(
      (name) => !(name in requestList.amounts) && !requestList.invalid?.includes(name),
    );
    requests.push({
      amounts: defaultedRequests(requestList.amounts, limitList.amounts, requestList.invalid),
      invalid:
        unreadLimits.length > 0
          ? [...(requestList.invalid ?? []), ...unreadLimits]
          : requestList.invalid,
      sidecar,
    });
    return info;
  });
}

/**
 * The pod's phase. The API server sets `Pending` on every pod it creates, so an unbound pod served
 * without one (a manifest as written) is pending, as the scheduler sees it; a bound one without
 * one, or a phase not known, is `Unknown`: it may be running, and its budget still counts it.
 */
function podPhase(phase: unknown, nodeName: string | undefined): PodInfo["phase"] {
  if (phase === undefined && nodeName === undefined) return "Pending";
  return oneOf(phase, phases) ?? "Unknown";
}

/**
 * What the scheduler counts for a container: its requests, and for a resource with a limit but
 * no request, the limit, as the API server fills it in when the pod is created. A pod object
 * served without that defaulting (a manifest as written) is counted as the scheduler would.
 */
function defaultedRequests(
  requests: Record<string, number>,
  limits: Record<string, number>,
  invalid: readonly string[] | undefined,
): Record<string, number> {
  let result = requests;
  for (const name in limits) {
    if (name in requests || invalid?.includes(name)) continue;
    if (result === requests) result = { ...requests };
    result[name] = limits[name] as number;
  }
  return result;
}

export function readTolerations(value: unknown): Toleration[] {
  const result: Toleration[] = [];
  for (const item of list(value)) {
    const entry = record(item);
    const toleration: Toleration = {};
    const key = string(entry.key);
    if (key) toleration.key = key;
    const operator = oneOf(entry.operator, tolerationOperators);
    if (operator) toleration.operator = operator;
    const tolerated = string(entry.value);
    if (tolerated) toleration.value = tolerated;
    const effect = oneOf(entry.effect, taintEffects);
    if (effect) toleration.effect = effect;
    result.push(toleration);
  }
  return result;
}

export function requiredNodeAffinity(spec: Raw): NodeSelectorTerm[] | undefined {
  const required = record(
    record(record(spec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution,
  );
  return readNodeSelectorTerms(required.nodeSelectorTerms);
}

/** A NodeSelector's terms (a pod's required node affinity, a PersistentVolume's); none: undefined. */
export function readNodeSelectorTerms(value: unknown): NodeSelectorTerm[] | undefined {
  const terms = list(value);
  if (terms.length === 0) return undefined;
  return terms.map((item) => {
    const term = record(item);
    const result: NodeSelectorTerm = {};
    const expressions = readRequirements(term.matchExpressions);
    if (expressions.length > 0) result.matchExpressions = expressions;
    const fields = readRequirements(term.matchFields);
    if (fields.length > 0) result.matchFields = fields;
    return result;
  });
}

/**
 * The required terms of `spec.affinity.podAffinity` or `.podAntiAffinity`. `matchLabelKeys`
 * and `mismatchLabelKeys` become `In` / `NotIn` requirements on the pod's own values of those
 * labels, as the API server merges them into the selector.
 */
export function requiredPodTerms(
  spec: Raw,
  field: "podAffinity" | "podAntiAffinity",
  labels: Readonly<Record<string, string>>,
): PodAffinityTerm[] | undefined {
  const terms = list(
    record(record(spec.affinity)[field]).requiredDuringSchedulingIgnoredDuringExecution,
  );
  const result: PodAffinityTerm[] = [];
  for (const item of terms) {
    const term = record(item);
    const topologyKey = string(term.topologyKey);
    if (!topologyKey) continue;
    const entry: PodAffinityTerm = { topologyKey };
    const selector = readLabelSelector(term.labelSelector);
    if (selector) entry.selector = withLabelKeys(selector, term, labels);
    const listed = Array.isArray(term.namespaces) ? stringList(term.namespaces) : [];
    if (listed.length > 0) entry.namespaces = listed;
    if (typeof term.namespaceSelector === "object" && term.namespaceSelector !== null) {
      const selector = readLabelSelector(term.namespaceSelector) ?? {};
      const named = namedNamespaces(selector);
      if (named) entry.namespaces = [...new Set([...listed, ...named])];
      else if (isEmptySelector(selector)) entry.allNamespaces = true;
      else entry.namespaceSelector = selector;
    }
    result.push(entry);
  }
  return result.length > 0 ? result : undefined;
}

/** `{}`: a selector that asks for nothing, and so picks every namespace. */
function isEmptySelector(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels ?? {}).length === 0 && !selector.matchExpressions;
}

/** The label the API server gives every namespace, with the namespace's name. */
const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/**
 * The namespaces a term's `namespaceSelector` picks when it asks only for their names, by the
 * label every namespace carries (`matchLabels`, or `In`, on kubernetes.io/metadata.name), which
 * needs no namespace read; `undefined` when it asks for anything else (other labels, resolved by
 * the planner from the namespaces read) or for nothing (`{}`, every namespace).
 */
function namedNamespaces(selector: LabelSelector): string[] | undefined {
  let names: string[] | undefined;
  const keep = (values: readonly string[]) => {
    names = names ? names.filter((name) => values.includes(name)) : [...values];
  };
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (key !== NAMESPACE_NAME_LABEL) return undefined;
    keep([value]);
  }
  for (const requirement of selector.matchExpressions ?? []) {
    if (requirement.key !== NAMESPACE_NAME_LABEL || requirement.operator !== "In") return undefined;
    keep(requirement.values ?? []);
  }
  return names;
}

/**
 * The `DoNotSchedule` topology spread constraints; `ScheduleAnyway` ones only prefer and are
 * left out. `matchLabelKeys` becomes `In` requirements on the pod's own values.
 */
function topologySpread(
  spec: Raw,
  labels: Readonly<Record<string, string>>,
): TopologySpreadConstraint[] | undefined {
  const result: TopologySpreadConstraint[] = [];
  for (const item of list(spec.topologySpreadConstraints)) {
    const entry = record(item);
    if (entry.whenUnsatisfiable !== "DoNotSchedule") continue;
    const topologyKey = string(entry.topologyKey);
    const maxSkew = number(entry.maxSkew);
    if (!topologyKey || maxSkew === undefined || !Number.isInteger(maxSkew) || maxSkew < 1)
      continue;
    const constraint: TopologySpreadConstraint = {
      maxSkew,
      topologyKey,
      honorNodeAffinity: entry.nodeAffinityPolicy !== "Ignore",
      honorTaints: entry.nodeTaintsPolicy === "Honor",
    };
    const selector = readLabelSelector(entry.labelSelector);
    if (selector) constraint.selector = withLabelKeys(selector, entry, labels);
    const minDomains = number(entry.minDomains);
    if (minDomains !== undefined && Number.isInteger(minDomains) && minDomains >= 1)
      constraint.minDomains = minDomains;
    result.push(constraint);
  }
  return result.length > 0 ? result : undefined;
}

const portProtocols = ["TCP", "UDP", "SCTP"] as const;

/**
 * The host ports of the app containers and sidecars (`restartPolicy: Always` init containers).
 * With `hostNetwork`, a port that writes no `hostPort` takes its `containerPort` on the host, as
 * the API server fills it in for a pod (not for a pod template since Kubernetes 1.28, so a
 * DaemonSet's template, or a pod object served without that defaulting, is read as its pods run).
 */
export function readHostPorts(spec: Raw): HostPort[] | undefined {
  const result: HostPort[] = [];
  const hostNetwork = spec.hostNetwork === true;
  const sidecars = list(spec.initContainers).filter(
    (item) => record(item).restartPolicy === "Always",
  );
  for (const item of [...list(spec.containers), ...sidecars]) {
    for (const entry of list(record(item).ports).map(record)) {
      const written = number(entry.hostPort);
      const port =
        hostNetwork && (written === undefined || written === 0)
          ? number(entry.containerPort)
          : written;
      if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65_535) continue;
      const hostPort: HostPort = {
        port,
        protocol:
          entry.protocol === undefined ? "TCP" : (oneOf(entry.protocol, portProtocols) ?? "TCP"),
      };
      const hostIP = string(entry.hostIP);
      // As kube-scheduler's NodePorts filter: only 0.0.0.0 (or no address) is every address;
      // "::" is one address to it, like any other.
      if (hostIP && hostIP !== "0.0.0.0") hostPort.hostIP = hostIP;
      result.push(hostPort);
    }
  }
  return result.length > 0 ? result : undefined;
}

function withLabelKeys(
  selector: LabelSelector,
  term: Raw,
  labels: Readonly<Record<string, string>>,
): LabelSelector {
  const added: NonNullable<LabelSelector["matchExpressions"]> = [];
  for (const [field, operator] of [
    ["matchLabelKeys", "In"],
    ["mismatchLabelKeys", "NotIn"],
  ] as const) {
    for (const key of stringList(term[field])) {
      const value = labels[key];
      if (value !== undefined) added.push({ key, operator, values: [value] });
    }
  }
  if (added.length === 0) return selector;
  return { ...selector, matchExpressions: [...(selector.matchExpressions ?? []), ...added] };
}

function readRequirements(value: unknown): NodeSelectorRequirement[] {
  const result: NodeSelectorRequirement[] = [];
  for (const item of list(value)) {
    const entry = record(item);
    const key = string(entry.key);
    const operator = oneOf(entry.operator, selectorOperators);
    if (key === undefined || operator === undefined) continue;
    const requirement: NodeSelectorRequirement = { key, operator };
    if (Array.isArray(entry.values)) requirement.values = stringList(entry.values);
    result.push(requirement);
  }
  return result;
}

/** The Ready condition: True is ready, False or Unknown is not; absent when there is none. */
export function readyCondition(status: Raw): boolean | undefined {
  for (const item of list(status.conditions)) {
    const condition = record(item);
    if (condition.type !== "Ready") continue;
    if (condition.status === "True") return true;
    if (condition.status === "False" || condition.status === "Unknown") return false;
  }
  return undefined;
}

function unschedulableCondition(status: Raw): PodInfo["unschedulable"] {
  for (const item of list(status.conditions)) {
    const condition = record(item);
    if (condition.type !== "PodScheduled") continue;
    if (condition.status !== "False" || condition.reason !== "Unschedulable") return undefined;
    const result: { message: string; since?: string } = {
      message: string(condition.message) ?? "",
    };
    const since = time(condition.lastTransitionTime);
    if (since) result.since = since;
    return result;
  }
  return undefined;
}

/** PodScheduled False with a reason other than Unschedulable (none written reads as unknown). */
function notScheduledCondition(status: Raw): PodInfo["notScheduled"] {
  for (const item of list(status.conditions)) {
    const condition = record(item);
    if (condition.type !== "PodScheduled") continue;
    const reason = string(condition.reason);
    if (condition.status !== "False" || reason === "Unschedulable") return undefined;
    const result: { reason: string; message: string; since?: string } = {
      reason: reason ?? "",
      message: string(condition.message) ?? "",
    };
    const since = time(condition.lastTransitionTime);
    if (since) result.since = since;
    return result;
  }
  return undefined;
}

/** The status of a PodScheduled condition that is True or Unknown, the others recorded apart. */
function scheduledCondition(status: Raw): PodInfo["podScheduled"] {
  for (const item of list(status.conditions)) {
    const condition = record(item);
    if (condition.type !== "PodScheduled") continue;
    return condition.status === "True" || condition.status === "Unknown"
      ? condition.status
      : undefined;
  }
  return undefined;
}

/**
 * The pod's volumes that tie it to its node: emptyDir on disk and hostPath now, claims once their
 * volumes are known to be node-local. A memory-backed emptyDir (`medium: Memory`, scratch in RAM
 * such as `/dev/shm`) is no local storage, and volumes the pod lists in
 * `safe-to-evict-local-volumes` may be lost, as cluster-autoscaler reads both: they tie nothing.
 */
function readVolumes(
  value: unknown,
  pod: PodInfo,
  claims: PendingClaim[],
  evictable: ReadonlySet<string>,
): void {
  const blocking: BlockingVolume[] = [];
  for (const item of list(value)) {
    const volume = record(item);
    const name = string(volume.name) ?? "";
    // A claim the pod may lose the data of is still where its volume is: it is queued all the same.
    const claim =
      volume.persistentVolumeClaim !== undefined
        ? string(record(volume.persistentVolumeClaim).claimName)
        : volume.ephemeral !== undefined
          ? // A generic ephemeral volume's claim is named after the pod and the volume.
            `${pod.name}-${name}`
          : undefined;
    if (claim)
      claims.push({
        pod,
        volume: name,
        claim,
        ...(evictable.has(name) ? { evictable: true } : {}),
        ...(volume.ephemeral !== undefined ? { ephemeral: true } : {}),
      });
    if (evictable.has(name)) continue;
    if (volume.emptyDir !== undefined) {
      if (!memoryBacked(volume.emptyDir)) blocking.push({ name, type: "emptyDir" });
    } else if (volume.hostPath !== undefined) blocking.push({ name, type: "hostPath" });
  }
  if (blocking.length > 0) pod.blockingVolumes = blocking;
}

/**
 * `karpenter.sh/do-not-disrupt` as Karpenter reads it: `"true"` for good; a positive Go duration
 * for that long after the pod started (for good while its start is not known); any other value
 * as no annotation.
 */
function readDoNotDisrupt(value: unknown, startedAt: string | undefined, pod: PodInfo): void {
  if (value === "true") {
    pod.doNotDisrupt = true;
    return;
  }
  const ms = typeof value === "string" ? goDurationMs(value) : undefined;
  if (ms === undefined || ms <= 0) return;
  if (startedAt === undefined) pod.doNotDisrupt = true;
  else pod.doNotDisruptUntil = new Date(Date.parse(startedAt) + ms).toISOString();
}

/** Milliseconds per unit of a Go duration (`time.ParseDuration`). */
const GO_DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "\u00b5s": 1e-3,
  "\u03bcs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const GO_DURATION = /^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$/u;
const GO_DURATION_PART = /(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/gu;

/** A Go duration (`1h30m`, `90s`, `1.5h`, `0`) in milliseconds; undefined when it is not one. */
export function goDurationMs(text: string): number | undefined {
  if (text === "0" || text === "+0" || text === "-0") return 0;
  if (!GO_DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(GO_DURATION_PART))
    total += Number(amount) * (GO_DURATION_UNITS[unit ?? ""] ?? 0);
  return text.startsWith("-") ? -total : total;
}

/** An emptyDir kept in RAM (`medium: Memory`): what it holds is scratch the pod makes again. */
export function memoryBacked(emptyDir: unknown): boolean {
  return record(emptyDir).medium === "Memory";
}

/**
 * The OOMKilled terminations a pod's status still shows: for each container its current state
 * and its last one, no more (earlier kills are gone). Each names the container's restart count,
 * which tells of the restarts the status no longer shows.
 */
function readOomKills(status: Raw): PodInfo["oomKills"] {
  const kills: PodInfo["oomKills"] = [];
  for (const field of [status.initContainerStatuses, status.containerStatuses]) {
    for (const item of list(field)) {
      const container = record(item);
      const name = string(container.name) ?? "";
      const restarts = count(container.restartCount);
      for (const state of [record(container.state), record(container.lastState)]) {
        const terminated = record(state.terminated);
        if (terminated.reason !== "OOMKilled") continue;
        const at = time(terminated.finishedAt);
        kills.push({
          container: name,
          ...(at ? { at } : {}),
          ...(restarts === undefined ? {} : { restarts }),
        });
      }
    }
  }
  if (kills.length === 0) return noItems();
  // ISO 8601 UTC timestamps sort as text; kills without a time go last.
  return kills.sort((a, b) => (b.at ?? "").localeCompare(a.at ?? ""));
}

/** Whether two lists of amounts name the same resources with the same figures. */
function sameAmounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].every((name) => a[name] === b[name]);
}
