import type { HostPort, PodInfo, Taint } from "./snapshot.ts";

/** Every node carries it with its own name: a topology domain of one node. */
export const HOSTNAME_LABEL = "kubernetes.io/hostname";

/**
 * A node as the rules that depend on other pods see it: an existing node (its traits carry its
 * name), or a node still to be added (`new-1`, … with the pool's traits and no name yet).
 */
export interface PeerBin {
  name: string;
  traits: {
    name?: string;
    labels: Record<string, string>;
    /** For a node still to be added: the host ports its DaemonSet pods will take. */
    daemonSetHostPorts?: readonly HostPort[];
    /** For a node still to be added: label keys whose value it will get is not known. */
    unknownLabels?: readonly string[];
    /** For a node still to be added: the DaemonSet and static pods it will run from the start. */
    startupPods?: readonly StartupPod[];
  };
}

/**
 * A pod a new node starts on its own (a DaemonSet's, a static pod's), as the pod affinity of
 * other pods sees it: by its namespace and labels, and with the required anti-affinity that keeps
 * the pods it selects off that node's domains.
 */
export type StartupPod = Pick<PodInfo, "namespace" | "labels" | "podAntiAffinity">;

/** A bin with the taints the topology spread taint policy may look at. */
export interface RuleBin extends PeerBin {
  traits: PeerBin["traits"] & { taints: readonly Taint[] };
}

/** The bin's value of `key`; a node still to be added is a hostname domain of its own. */
export function domainOf(bin: PeerBin, key: string): string | undefined {
  const value = bin.traits.labels[key];
  if (value !== undefined) return value;
  return key === HOSTNAME_LABEL && bin.traits.name === undefined ? binKey(bin) : undefined;
}

/**
 * Whether the bin's domain for `key` is not known: a node still to be added, in a pool whose
 * nodes differ in that label. Such a node may join any of their domains, or none.
 */
export function domainUnknown(bin: PeerBin, key: string): boolean {
  return bin.traits.labels[key] === undefined && (bin.traits.unknownLabels?.includes(key) ?? false);
}

/** Tells bins apart: a new node's name (`new-1`) is marked so no real node name can equal it. */
export function binKey(bin: PeerBin): string {
  return bin.traits.name === undefined ? `\u0000${bin.name}` : bin.name;
}
