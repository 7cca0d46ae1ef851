import type {
  ContainerInfo,
  NodeInfo,
  PodInfo,
  Snapshot,
  SnapshotWarning,
  Usage,
} from "../planning/snapshot.ts";
import { counted } from "../util/plural.ts";
import { staleBy } from "./metrics-usage.ts";
import { defaultMetricsMaxAgeSeconds } from "./read-snapshot.ts";

/**
 * A saved snapshot as it stands at `planningTime`: node and pod usage measured further than
 * `maxAgeSeconds` from that time (before or after) is removed, with a warning, as the cluster
 * reader treats stale metrics. Usage is what the pods use now; a snapshot planned on an hour
 * after it was taken says nothing about that hour, and unknown usage is never read as any
 * number. The rest (nodes, pods, requests) is kept as it was recorded.
 */
export function usageAt(
  snapshot: Snapshot,
  planningTime: Date,
  maxAgeSeconds = defaultMetricsMaxAgeSeconds,
): Snapshot {
  const warnings: SnapshotWarning[] = [];
  // Usage that does not say when it was measured is taken as measured when the snapshot was.
  const stale = (timestamp: string | undefined): number | undefined =>
    staleBy(Date.parse(timestamp || snapshot.takenAt), planningTime, maxAgeSeconds);
  const nodes = snapshot.nodes.map((node): NodeInfo => {
    if (!node.usage) return node;
    const age = stale(node.usage.timestamp);
    if (age === undefined) return node;
    warnings.push({
      code: "metrics-stale",
      message: `usage measured ${describeAge(age)} the time planned for (more than ${maxAgeSeconds}s); treated as unknown`,
      subject: `node/${node.name}`,
    });
    const { usage: _, ...rest } = node;
    return rest;
  });
  // Each container's usage is judged on its own, as the reader judges each sample, also in a pod
  // with no usage of its own (a container of it had no sample). A pod's usage is the sum of its
  // containers', so it goes when any of theirs does.
  const fresh = (usage: Usage | undefined): boolean =>
    usage === undefined || stale(usage.timestamp) === undefined;
  let podsAged = 0;
  const pods = snapshot.pods.map((pod): PodInfo => {
    const containers = [...pod.containers, ...pod.initContainers];
    if (fresh(pod.usage) && containers.every((container) => fresh(container.usage))) return pod;
    podsAged++;
    const { usage: _, ...rest } = pod;
    const kept = (container: ContainerInfo): ContainerInfo => {
      if (fresh(container.usage)) return container;
      const { usage: __, ...other } = container;
      return other;
    };
    return {
      ...rest,
      containers: rest.containers.map(kept),
      initContainers: rest.initContainers.map(kept),
    };
  });
  if (podsAged > 0)
    warnings.push({
      code: "metrics-stale",
      message: `usage of ${counted(podsAged, "pod")} measured more than ${maxAgeSeconds}s from the time planned for; treated as unknown`,
      subject: "pods",
    });
  if (warnings.length === 0) return snapshot;
  return {
    ...snapshot,
    nodes,
    pods,
    warnings: [...snapshot.warnings, ...warnings],
    metrics: {
      ...snapshot.metrics,
      nodes: availability(nodes.filter((node) => node.usage).length, nodes.length),
      pods:
        podsAged === 0
          ? snapshot.metrics.pods
          : pods.some((pod) => pod.usage)
            ? "partial"
            : "unavailable",
    },
  };
}

function describeAge(age: number): string {
  const seconds = Math.round(Math.abs(age));
  return age > 0 ? `${seconds}s before` : `${seconds}s after`;
}

function availability(withUsage: number, all: number): Snapshot["metrics"]["nodes"] {
  if (withUsage === 0) return "unavailable";
  return withUsage === all ? "available" : "partial";
}
