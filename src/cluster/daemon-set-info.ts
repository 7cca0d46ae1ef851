import type { DaemonSetInfo, Toleration } from "../planning/snapshot.ts";
import {
  type PodContext,
  readHostPorts,
  readSpecRequests,
  readTolerations,
  requiredNodeAffinity,
  requiredPodTerms,
  type SpecRequests,
  specFields,
} from "./pod-info.ts";
import { effectiveRequests } from "./pod-requests.ts";
import { type Raw, record, string, stringMap } from "./raw.ts";
import { type ResourceAmounts, readResourceList, toResources } from "./resources.ts";
import { ValueSharing } from "./value-sharing.ts";
import type { WarningCollector } from "./warnings.ts";

/**
 * A DaemonSet as read, before its RuntimeClass (read beside it) gives its pods their overhead,
 * node selector and tolerations.
 */
export interface DaemonSetTemplate {
  info: DaemonSetInfo;
  requests: SpecRequests;
  runtimeClass?: string;
}

/** What a RuntimeClass adds to the pods that name it (node.k8s.io/v1). */
export interface RuntimeClassInfo {
  /** `overhead.podFixed`. */
  overhead?: ResourceAmounts;
  /** `scheduling.nodeSelector`, merged into the pod's. */
  nodeSelector: Record<string, string>;
  /** `scheduling.tolerations`, added to the pod's. */
  tolerations: Toleration[];
}

const TEMPLATE_SPEC = specFields("spec.template.spec");

/**
 * The tolerations the DaemonSet controller adds to every pod it makes
 * (k8s.io/kubernetes pkg/controller/daemon/util AddOrUpdateDaemonPodTolerations): its pods run
 * on nodes that are not ready, under pressure or cordoned.
 */
const CONTROLLER_TOLERATIONS: readonly Toleration[] = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
];
/** Added besides for pods on the host's network. */
const HOST_NETWORK_TOLERATION: Toleration = {
  key: "node.kubernetes.io/network-unavailable",
  operator: "Exists",
  effect: "NoSchedule",
};

/** Reads an apps/v1 DaemonSet's pod template: what its pods request and where they run. */
export function toDaemonSetTemplate(raw: Raw, warnings: WarningCollector): DaemonSetTemplate {
  const metadata = record(raw.metadata);
  const namespace = string(metadata.namespace) ?? "";
  const name = string(metadata.name) ?? "";
  const template = record(record(raw.spec).template);
  const spec = record(template.spec);
  const labels = stringMap(record(template.metadata).labels);
  const context: PodContext = { warnings, claims: [], intern: (text) => text };
  const subject = `daemonset/${namespace}/${name}`;
  const requests = readSpecRequests(spec, TEMPLATE_SPEC, subject, context, new ValueSharing());
  const tolerations = [...readTolerations(spec.tolerations), ...CONTROLLER_TOLERATIONS];
  if (spec.hostNetwork === true) tolerations.push(HOST_NETWORK_TOLERATION);
  const info: DaemonSetInfo = {
    namespace,
    name,
    requests: {},
    nodeSelector: stringMap(spec.nodeSelector),
    tolerations,
  };
  const affinity = requiredNodeAffinity(spec);
  if (affinity) info.requiredNodeAffinity = affinity;
  const hostPorts = readHostPorts(spec);
  if (hostPorts) info.hostPorts = hostPorts;
  // What pod affinity sees of a pod the DaemonSet has not made yet: its template's labels (its
  // pods add the controller's hash to them), and the anti-affinity that keeps pods off its node.
  info.labels = labels;
  const antiAffinity = requiredPodTerms(spec, "podAntiAffinity", labels);
  if (antiAffinity) info.podAntiAffinity = antiAffinity;
  const read: DaemonSetTemplate = { info, requests };
  const runtimeClass = string(spec.runtimeClassName);
  if (runtimeClass) read.runtimeClass = runtimeClass;
  return read;
}

/** Reads a node.k8s.io/v1 RuntimeClass, by its name. */
export function toRuntimeClass(
  raw: Raw,
  warnings: WarningCollector,
): [name: string, runtimeClass: RuntimeClassInfo] {
  const name = string(record(raw.metadata).name) ?? "";
  const scheduling = record(raw.scheduling);
  const runtimeClass: RuntimeClassInfo = {
    nodeSelector: stringMap(scheduling.nodeSelector),
    tolerations: readTolerations(scheduling.tolerations),
  };
  const podFixed = record(raw.overhead).podFixed;
  if (podFixed !== undefined)
    runtimeClass.overhead = readResourceList(podFixed, {
      subject: `runtimeclass/${name}`,
      field: "overhead.podFixed",
      warnings,
    });
  return [name, runtimeClass];
}

/**
 * The DaemonSets with what their RuntimeClass adds to their pods, as the RuntimeClass admission
 * plugin adds it: the overhead (unless the template sets one), the node selector and the
 * tolerations. `runtimeClasses` is undefined when they could not be read: a DaemonSet that names
 * one then requests an unknown cpu and memory, as does one naming a class that does not exist
 * (its pods are refused until it does), each with a warning.
 */
export function resolveDaemonSets(
  templates: readonly DaemonSetTemplate[],
  runtimeClasses: ReadonlyMap<string, RuntimeClassInfo> | undefined,
  warnings: WarningCollector,
): DaemonSetInfo[] {
  return templates.map(({ info, requests, runtimeClass: className }) => {
    const runtimeClass = className === undefined ? undefined : runtimeClasses?.get(className);
    const overhead = requests.overhead ?? runtimeClass?.overhead;
    const effective = effectiveRequests(requests.app, requests.init, overhead, requests.podLevel);
    const resolved: DaemonSetInfo = { ...info, requests: toResources(effective.amounts) };
    if (runtimeClass) {
      resolved.nodeSelector = { ...info.nodeSelector, ...runtimeClass.nodeSelector };
      resolved.tolerations = [...info.tolerations, ...runtimeClass.tolerations];
    } else if (className !== undefined) {
      const { cpu: _cpu, memory: _memory, ...known } = resolved.requests;
      resolved.requests = known;
      warnings.add(
        "runtimeclass-unknown",
        `its pods name RuntimeClass ${className}, which ${runtimeClasses ? "does not exist" : "could not be read"}: the overhead and node selector it gives them are unknown, and so are their cpu and memory requests`,
        `daemonset/${info.namespace}/${info.name}`,
      );
    }
    return resolved;
  });
}
