import type { FileChange, FileEdit } from "../planning/proposal.ts";
import type { LimitMode } from "../policy/rightsizing-config.ts";

export type ResourceName = "cpu" | "memory";

/** The workload a VPA points at. */
export interface WorkloadId {
  namespace: string;
  kind: string;
  name: string;
}

/**
 * How sure the plan is that a file sets a container's resources: `explicit` (a configured
 * target), `exact` (kind, name and namespace all declared and equal), `likely` (matched by
 * names and layout, with something inferred).
 */
export type Confidence = "explicit" | "exact" | "likely";

/** Where one container's `resources` mapping is written. */
export interface ResourcesLocation {
  file: string;
  /** 0-based YAML document. */
  document: number;
  /** PATH of the `resources` mapping (it may not exist yet: the editor creates it). */
  path: string;
  confidence: Confidence;
  /** What matched, for people: `HelmRelease plex (namespace default), controllers.plex.containers.app`. */
  how: string;
}

/** One value written, with the YAML document it is in. */
export interface ResourceChange extends FileChange {
  document: number;
}

/** VPA recommendation for one resource of one container, in snapshot units. */
export interface Recommendation {
  target?: number;
  lowerBound?: number;
  upperBound?: number;
  uncappedTarget?: number;
}

/** One step from the VPA target to the proposed request, in order. */
export type DerivationStep =
  | { kind: "target"; value: number }
  | { kind: "rounded"; step: number; value: number }
  | {
      kind: "clamped";
      by: "vpa-min" | "vpa-max" | "config-min" | "config-max";
      bound: number;
      value: number;
    }
  | { kind: "lower-bound"; bound: number; value: number }
  /** `kills`: the OOM kills the pods' statuses show, as the `oom` trigger counts them. */
  | {
      kind: "oom-floor";
      base: number;
      basis: "limit" | "request";
      margin: number;
      kills: number;
      value: number;
    }
  /** Values several containers read: the highest of what each of them needs. */
  | { kind: "shared"; values: { reader: string; value: number }[]; value: number };

/** Why a resource changes. */
export type RightsizeTrigger =
  | { kind: "no-request" }
  | { kind: "below-lower-bound"; bound: number }
  | { kind: "above-upper-bound"; bound: number }
  | { kind: "beyond-tolerance"; percent: number; tolerance: number }
  /**
   * Recent OOM kills its pods' statuses still show (no more than two a pod: a floor), and the
   * restart counts of those pods added up, when known.
   */
  | { kind: "oom"; kills: number; last?: string; restarts?: number };

/** Why a resource does not change. */
export type RightsizeHold =
  | { kind: "not-controlled"; reason: "resource-not-configured" | "vpa-controlled-resources" }
  | { kind: "hpa"; hpa: string; metric: ResourceName }
  | { kind: "no-recommendation" }
  | { kind: "history"; problems: string[] }
  | { kind: "within-tolerance"; percent: number; tolerance: number }
  | { kind: "unchanged" }
  | { kind: "limit"; limit: number; mode: "keep" | "none" }
  | { kind: "unseen-limit"; limit: number; proposed: number }
  | { kind: "unknown-limit"; running: number[]; proposed: number; updateMode?: string }
  | { kind: "stateful"; proposed: number }
  | { kind: "cluster-differs"; running: number[] }
  /** Values other containers read too are decided once, with this container's. */
  | { kind: "shared"; owner: string }
  /**
   * Values other containers read too, some of which have no recommendation to go by (SETTLED:
   * right-sizing leaves that one out on purpose, and its needs stay unknown for good).
   */
  | { kind: "shared-unknown"; readers: { reader: string; why: string; settled?: true }[] }
  /** Values other containers read too, one of which holds them. */
  | { kind: "shared-reader"; reader: string; hold: RightsizeHold }
  | { kind: "unreadable"; field: string; value: unknown };

/** The decision for one resource of one container, with every number it rests on. */
export interface ResourceDecision {
  resource: ResourceName;
  action: "change" | "keep";
  /**
   * The request written in the file; absent when the file sets none. Where the file sets a limit
   * and no request, the limit, which Kubernetes gives the container as its request
   * (`requestFromLimit`).
   */
  current?: number;
  /** True when `current` is the limit, the file setting no request. */
  requestFromLimit?: true;
  currentLimit?: number;
  /** The request to write (only for `change`). */
  proposed?: number;
  /** The limit to write, when it changes too. */
  proposedLimit?: number;
  /** How the limit follows: `raised` to the request, or `ratio` kept. */
  limitReason?: "raised" | "ratio";
  recommendation: Recommendation;
  /**
   * Set when the running pods are of QoS class Guaranteed (every request equal to its limit)
   * and the change leaves this request other than its limit: the pods become Burstable. LIMIT
   * is the limit it is left beside, the file's (`from: "file"`, kept or moved per `limitMode`)
   * or one the pods carry and the file does not set (`from: "pods"`).
   */
  qosClass?: {
    current: "Guaranteed";
    proposed: "Burstable";
    limit: number;
    from: "file" | "pods";
    limitMode: LimitMode;
  };
  /** Highest usage seen across the workload's pods (a percentile when Prometheus gave one). */
  usage?: number;
  /** Requests of the running pods, when they differ from each other or from the file. */
  running?: number[];
  steps: DerivationStep[];
  triggers: RightsizeTrigger[];
  hold?: RightsizeHold;
}

export interface ContainerRightsizing {
  name: string;
  location: ResourcesLocation;
  /** The other containers whose resources the same values set (`Kind ns/name container c`). */
  sharedWith?: string[];
  resources: ResourceDecision[];
  /** Recent OOM kills its pods' statuses still show (a floor). */
  oomKills: number;
  /** The restart counts of the pods that show them, added up, when known. */
  oomRestarts?: number;
}

/** Everything decided about one workload. */
export interface WorkloadRightsizing {
  workload: WorkloadId;
  vpa: { namespace: string; name: string; updateMode: string; createdAt: string };
  /** How long the VPA has been recording, in milliseconds; absent when unknown. */
  historyMs?: number;
  containers: ContainerRightsizing[];
}

/** What orders proposals when only a few pull requests may be open. */
export interface RightsizingImportance {
  /** A container with recent OOM kills gets more memory. */
  oom: boolean;
  /** Largest relative change of any request, in % (Infinity when a request is added). */
  change: number;
}

/** A pull request's worth of request changes: one workload, one namespace or the whole repo. */
export interface ResourcesProposal {
  kind: "resources";
  /**
   * Stable key: `resources-<namespace>-<workload>` (with the kind, or a hash, when two
   * workloads would render the same text; see `workloadKeys`), `resources-<namespace>` or
   * `resources`.
   */
  key: string;
  /** The namespace, when grouped by workload or namespace. */
  namespace?: string;
  workloads: WorkloadRightsizing[];
  changes: ResourceChange[];
  edits: FileEdit[];
  /** The explanation, rendered from `workloads`. */
  reasons: string[];
  importance: RightsizingImportance;
}
