import type { CountTarget } from "../editors/edit-file.ts";
import type { HostCapPart } from "../policy/host-cap.ts";
import type { DrainBlocker } from "./blockers.ts";
import type { GpuComing } from "./gpu-coming.ts";
import type { NewNodeGaps } from "./last-node.ts";
import type { NodeShape } from "./node-shape.ts";
import type { PendingReport, UnplacedReport } from "./packing.ts";
import type { ScheduleState } from "./schedules.ts";
import type { ResourceUtilisation, SustainedCheck } from "./utilisation.ts";

export type NodeAction = "scale-up" | "scale-down" | "none";

/**
 * What to do with the pool's scaling pull request: open a new one, update the open one to the
 * new count, close the open one (the evaluation no longer wants a change), leave the open one
 * as it is (something holds the evaluation back), or nothing.
 */
export type PullRequestAction = "open" | "update" | "close" | "leave" | "none";

/** The plan for one pool: the action and every reason for it or against it, as data. */
export interface NodeDecision {
  pool: string;
  target: CountTarget;
  action: NodeAction;
  /** The target's value in the repo; absent when unknown. */
  current?: number;
  /** The value the target should have; equal to `current` when the action is none. */
  desired?: number;
  /** The first node a decrease removes, the one at count index `current - 1` (scale-down only). */
  removes?: string;
  /**
   * Every node the decrease removes, in the order Terraform destroys them (scale-down only):
   * one, or several empty ones at once (`scaleDown.maxEmptyBulk`).
   */
  removing?: string[];
  pullRequest: { action: PullRequestAction; number?: number; closes?: PullRequestCloseReason };
  /** Why a change is wanted. */
  triggers: Trigger[];
  /** What stops or limits the wanted change. */
  holds: Hold[];
  bounds: BoundsReport;
  nodes: PoolNodesReport;
  utilisation: UtilisationReport;
  pending: PendingReport;
  scaleDown: ScaleDownReport;
  /** Scale-down blockers of every node in the pool, for dashboards; empty lists included. */
  blockers: NodeBlockers[];
}

/**
 * Why the open pull request is closed whatever holds the pool (absent for other closes): the
 * count it changes was changed under it on the default branch (`count-changed`: it changes
 * `from` → `desired`, the repo has `current` now), or the count it asks for is outside the bounds
 * in effect now (`out-of-bounds`: above the max or the host cap, or below the min, which a
 * `schedule` may set), or the decrease, merged as it stands, would remove `nodes` (those the
 * naming rule tells) whose pods, with the pending pods counted on the pool's room and the pods
 * of its cordoned nodes, do not all find room (`pods-stranded`: `pods` find none, `unknown`
 * have a fit that is unknown: their requests or volumes not known, or a node of unknown room
 * may take them).
 */
export type PullRequestCloseReason =
  | { kind: "count-changed"; from: number; desired?: number; current: number }
  | { kind: "pods-stranded"; nodes: string[]; pods: string[]; unknown?: string[] }
  | {
      kind: "out-of-bounds";
      desired: number;
      bound: "max" | "host-cap" | "min";
      limit: number;
      schedule?: string;
      /** The min the pool or `schedule` asks for, when the host cap holds `limit` below it. */
      asked?: number;
    };

export type Resource = "cpu" | "memory";

export type Trigger =
  /**
   * `schedule`: the open schedule window that raised the min. `asked`: the min the pool or that
   * window asks for, when the host cap holds the min in effect (`min`) below it.
   */
  | { kind: "below-min"; current: number; min: number; schedule?: string; asked?: number }
  | { kind: "pending-pods"; pods: number; newNodes: number }
  | {
      kind: "utilisation";
      resource: Resource;
      percent: number;
      threshold: number;
      windowMs: number;
      basis: SustainedCheck["basis"];
      newNodes: number;
    }
  | { kind: "requests"; resource: Resource; percent: number; threshold: number; newNodes: number }
  | { kind: "above-max"; current: number; max: number; bound: "max" | "host-cap" }
  /**
   * The node a decrease removes has not been Ready since `since`, for `notReadyForMs` at the
   * planning time, at least `scaleDown.unreadyTime` (`unreadyTimeMs`, the pool's setting): it
   * goes whatever the usage, as cluster-autoscaler removes unready nodes, when nothing blocks it
   * and its pods fit elsewhere.
   */
  | {
      kind: "unready-node";
      node: string;
      since: string;
      notReadyForMs: number;
      unreadyTimeMs: number;
    }
  /**
   * Usage and requests stayed below the scale-down thresholds: each usage check as it was judged
   * (`percent` the value compared with `threshold` over `windowMs`, `scaleDown.unneededTime`),
   * and each resource's requests (the highest over the window when history shows it, `basis`).
   */
  | {
      kind: "underutilised";
      usage: {
        resource: Resource;
        percent: number;
        threshold: number;
        windowMs: number;
        basis?: SustainedCheck["basis"];
      }[];
      requests: {
        resource: Resource;
        percent: number;
        threshold: number;
        basis?: "current" | "history";
      }[];
    };

/**
 * A check of a `window-uncovered` hold: how much of its window is shown, and, when Prometheus'
 * points stopped too long before the end (a level held below, shortfall `stale`), how old the
 * last is: waiting does not cover the window then, points reaching the end do.
 */
export interface UncoveredCheck {
  resource: Resource;
  threshold: number;
  windowMs: number;
  coveredMs: number;
  lastPointAgeMs?: number;
}

/**
 * A list the node plan reads that was not read in full: `list` names it (`pods`,
 * `poddisruptionbudgets`; absent when its warning does not say, in a snapshot written by hand),
 * `read` says whether it failed outright or stopped part way (a page after the first failed).
 */
export interface IncompleteList {
  list?: string;
  read: "failed" | "partial";
}

export type Hold =
  /** `lists`: the lists of `warnings`, one each, as data. */
  | { kind: "snapshot-incomplete"; warnings: string[]; lists: IncompleteList[] }
  /** `limit`: maxUnready; `okUnready`: the pool's floor under it, when set (more than 0). */
  | {
      kind: "too-many-unready";
      unready: string[];
      total: number;
      percent: number;
      limit: number;
      okUnready?: number;
    }
  /** Nodes other pools' selectors match too: which pool's VMs they are is not known. */
  | { kind: "pools-overlap"; nodes: string[]; pools: string[] }
  /** `allocatable`: those of `nodes` whose allocatable, not usage, is what is unknown. */
  | { kind: "usage-unknown"; nodes: string[]; resources: Resource[]; allocatable?: string[] }
  | { kind: "target-unknown"; problem?: string }
  /**
   * Usage is past a threshold now, but nothing shows it stayed there for the window yet (after
   * a restart, in the first minutes, with metrics-server alone): what it would lead to is not
   * known, so an open pull request is left as it is rather than closed.
   */
  | {
      kind: "window-uncovered";
      direction: "up" | "down";
      checks: UncoveredCheck[];
    }
  /**
   * Nodes joining or leaving after the change of `since`, awaited until `deadline`. With
   * `firstCommit`, `since` is not a change: no commit changed the count after the one that made
   * the repository, and the count's nodes are awaited since that one. `nodes`, as for
   * `provisioning-failed`: the removed nodes still listed (leaving, when the naming rule tells
   * which), or the awaited nodes listed but not Ready yet (joining); absent when there are none.
   */
  | {
      kind: "provisioning";
      state: "joining" | "leaving";
      expected: number;
      present: number;
      since?: string;
      firstCommit?: true;
      deadline?: string;
      nodes?: string[];
    }
  /**
   * Nodes did not join, or did not go, within `provisionTimeout` of the change; `nodes`, for a
   * decrease, are the removed nodes still listed, when the naming rule tells which, and for a
   * raise the nodes it awaits that are listed but not Ready (none reported Ready since it was
   * made, or one reporting no Ready condition at all), when there are any. With
   * `firstCommit`, `since` is not a change: no commit changed the count after the one that made
   * the repository, and the count's nodes have been awaited since that one.
   */
  | {
      kind: "provisioning-failed";
      state: "joining" | "leaving";
      expected: number;
      present: number;
      since?: string;
      firstCommit?: true;
      timeoutMs: number;
      nodes?: string[];
    }
  /** `committedAt`: the change's commit is dated later than the planning time, as `since`. */
  | { kind: "cooldown"; since: string; until: string; committedAt?: string }
  /**
   * The history of the target's file cannot be read (`problem` says why and what to do): the time
   * of the last change is unknown, so no node is removed; nodes may still be added.
   */
  | { kind: "history-unknown"; problem: string }
  /**
   * A schedule opens before a node removed now could be back: the count stays at its min.
   * `unready`: nodes long not Ready (`scaleDown.unreadyTime`) that the decrease removes all the
   * same, taking the count below that min: kept, they would count toward it with no room to give,
   * and once the window opens its min brings new nodes in their place. `current`: the pool's
   * count, when it is below that min already: it stays there until the window opens and raises it.
   * `horizonMs`: how soon a node removed now could be back (`cooldown` + `provisionTimeout`), the
   * horizon within which the window opens. `held`: a hold (a cooldown, the delay after a
   * scale-up) keeps the decrease back, so the nodes of `unready` go once it is over, not now.
   */
  | {
      kind: "schedule-soon";
      schedule: string;
      opensAt: string;
      min: number;
      horizonMs: number;
      unready?: string[];
      held?: true;
      current?: number;
    }
  /**
   * No scale-down until `delayAfterScaleUp` after the nodes of the last scale-up were Ready
   * (`since`); while some are not Ready yet (`joining`), or `missing` of the nodes the count asks
   * for are not listed yet, `until` is the earliest the delay can end.
   * With `from: "change"`, none of the pool's Ready nodes that stay was created for the scale-up
   * (they were there already; `leaving`: the Ready nodes created for it that a later decrease
   * removes), or with `readyBefore` its nodes were all Ready before the change (applied from the
   * branch before the merge): `since` is the time of the change, which the delay runs from.
   * `readyTimeUnknown`: nodes of the scale-up whose Ready condition gives no time, counted as
   * Ready at the latest they could have been (now, or `provisionTimeout` after their creation),
   * so `since` is that. With
   * `direction: "unknown"`, the change is not known to have raised the count (a commit that
   * brings the file into an older repository): it counts as a scale-up.
   */
  | {
      kind: "scale-down-delay";
      since: string;
      until: string;
      from?: "change";
      readyBefore?: true;
      leaving?: string[];
      readyTimeUnknown?: string[];
      direction?: "unknown";
    }
  | {
      kind: "scale-down-delay";
      joining: string[];
      missing?: number;
      delayMs: number;
      until: string;
      direction?: "unknown";
    }
  /**
   * Pool nodes not Ready (not ones a change is adding): their pods will need room the pool's
   * figures do not show, so no Ready node goes; the not-Ready nodes themselves may, once they
   * have been so for `scaleDown.unreadyTime` (`until`, when known). `sinceUnknown`, when the
   * decrease removes only not-Ready nodes: those whose Ready condition gives no time, so how long
   * they have not been Ready is unknown and the decrease waits. `stuck`: those not Ready for
   * `scaleDown.unreadyTime` that the decrease does not remove, so no time ends the hold. With
   * `max` (the count is above it, `bound` says whether it is the max or the host cap): the count
   * comes down to it and no further.
   */
  | {
      kind: "nodes-unready";
      nodes: string[];
      until?: string;
      sinceUnknown?: string[];
      stuck?: string[];
      max?: number;
      bound?: "max" | "host-cap";
    }
  /**
   * Pods need new nodes but have not waited `scaleUp.pendingFor`; no node goes for low usage
   * meanwhile (a node long not Ready still goes: they could not use its room). With `max` (`bound`:
   * the max or the host cap), the count is at it, or `above` it: no node is added for them whatever
   * they wait, and a count above it still comes down to it (no further for low usage: nodes long
   * not Ready beyond it go too).
   */
  | {
      kind: "pending-wait";
      pods: number;
      pendingForMs: number;
      until: string;
      max?: number;
      bound?: "max" | "host-cap";
      above?: true;
      /** With `above`: scale-down is off, so the count does not come down to the bound either. */
      stays?: true;
      /**
       * With `above`: no decrease is made now (the node to remove cannot go, or another hold
       * keeps it back; the scale-down lines and holds say why): the count would come down to it.
       */
      notNow?: true;
    }
  /**
   * Pending pods (`pods`, `namespace/name`) whose fit on a new node is unknown (the pool's nodes
   * disagree about a label or an extended resource they ask for, or what a new node or the pod
   * needs is unknown): they may need a pool node's room, so none is removed for low usage, and an
   * open decrease is closed. A decrease above the max or of a node long not Ready still goes, and
   * an open one that comes down no further than the max, or removes only nodes long not Ready, is
   * not closed for them. With `max` (the count is above it, `bound` says whether it is the max or
   * the host cap): the count comes down to it and no further (empty nodes that would go with it
   * for low usage stay), or an open decrease that goes below it is closed. With `unready` (nodes
   * not Ready for `scaleDown.unreadyTime`, more of them than the count is above the max when it
   * is): those may go, and no other node for low usage; for a closed open decrease, every such
   * node it removes before a node that is not one (down to the min at most).
   */
  | {
      kind: "pending-fit-unknown";
      pods: string[];
      max?: number;
      bound?: "max" | "host-cap";
      unready?: string[];
    }
  /**
   * Pods bound to nodes the cluster does not list (`nodes`: deleted, or joined after the nodes
   * were read), which their controllers make again elsewhere: they will need room the pool's
   * figures do not show, so no Ready node goes meanwhile. With `max` (the count is above it,
   * `bound` says whether it is the max or the host cap): the count comes down to it and no
   * further, or an open decrease that goes below it is closed.
   */
  | {
      kind: "pods-orphaned";
      pods: number;
      nodes: string[];
      max?: number;
      bound?: "max" | "host-cap";
    }
  | { kind: "at-max"; wanted: number; allowed: number; bound: "max" | "host-cap" }
  /**
   * What a new node offers is unknown, so pending pods add no node on a guess: its size, or, with
   * `daemonSets`, the room its DaemonSets leave (`daemonset-requests`: one of them requests an
   * amount that could not be read; `daemonsets-unread`: the cluster's DaemonSets could not be
   * read). When its size is unknown, `unset` names the `newNode` keys to set (`newNode.cpu`,
   * `newNode.memory`) that the config leaves out.
   */
  | {
      kind: "shape-unknown";
      daemonSets?: "daemonset-requests" | "daemonsets-unread";
      unset?: string[];
    };

export interface BoundsReport {
  min: number;
  max: number;
  /** `min` raised by active schedules, never above `effectiveMax`. */
  effectiveMin: number;
  /** `max` lowered by the host cap. */
  effectiveMax: number;
  hostCap?: number;
  hostCapParts: HostCapPart[];
  schedules: ScheduleState[];
}

export interface PoolNodesReport {
  /** Nodes the pool's selector recognises (control plane never included). */
  members: number;
  ready: number;
  unready: string[];
  cordoned: string[];
  /** Shape of a node added to the pool; absent when nothing configures or shows it. */
  shape?: NodeShape;
  /**
   * Ready nodes whose labels say they have a GPU their allocatable does not advertise yet, and
   * whether it is still waited for (absent when none).
   */
  gpuComing?: GpuComing[];
}

export interface UtilisationReport {
  cpu: ResourceUtilisation;
  memory: ResourceUtilisation;
  checks: SustainedCheck[];
  /** The scale-up checks of cpu and memory requests; present when `scaleUp.requests` is set. */
  requestsChecks?: RequestsCheck[];
}

/** Requests against `scaleUp.requests`, as they are now (requests need no window). */
export interface RequestsCheck {
  resource: Resource;
  threshold: number;
  /** The pool's requests as a percent of its allocatable; absent when unknown. */
  percent?: number;
  /** At or above the threshold: the check adds nodes. Unknown requests are not met. */
  met: boolean;
  /** `["pods"]` when the pod list was not read in full: the requests are unknown. */
  unread?: string[];
}

export interface NodeBlockers {
  node: string;
  blockers: DrainBlocker[];
}

/**
 * A node of the pool whose room the pods of the node to remove are not given, and why:
 * `room-unknown` when its pods' requests could not be read, `allocatable-unknown` when its own
 * cpu, memory or pods allocatable could not.
 */
export interface UncountedNode {
  node: string;
  /**
   * Beside the node's state, for a node of another pool: `removed`, that pool removes it in this
   * plan; `withheld`, that pool's open decrease removes nodes the naming rule cannot all tell;
   * `draining`, that pool's Ready cordoned nodes have pods a drain would move into its room;
   * `requests`, the pods moved there would take that pool's requests to its `scaleUp.requests`.
   */
  why:
    | "not-ready"
    | "cordoned"
    | "room-unknown"
    | "allocatable-unknown"
    | "removed"
    | "withheld"
    | "draining"
    | "requests";
  /** A node outside the pool, whose taints and labels admit a pod that found no node. */
  outside?: true;
  /** That node is a control plane. */
  controlPlane?: true;
  /** That node is of this other pool. */
  pool?: string;
  /**
   * For `withheld`: that pool's open pull request may lower the count, by how much is unknown
   * (the count it asks for, or the pool's own, could not be read).
   */
  changeUnknown?: true;
  /**
   * For `requests`: that pool's requests could not be read, so the room the pods would leave
   * under its `scaleUp.requests` is unknown.
   */
  requestsUnknown?: true;
}

export type ScaleDownCondition =
  | { kind: "utilisation"; met: boolean; check: SustainedCheck }
  | {
      kind: "requests";
      met: boolean;
      resource: Resource;
      /** The highest over `unneededTime` when history covers it, else the current value. */
      percent?: number;
      threshold: number;
      /** `history`: held below over the whole window; `current`: as it is now (no history). */
      basis?: "current" | "history";
      /** `["pods"]` when the pod list was not read in full: the requests are unknown. */
      unread?: string[];
    }
  /**
   * `unready`: at the min, the node a decrease would remove has not been Ready for
   * `scaleDown.unreadyTime`: it counts toward the min with no room to give, and stays.
   * `schedule`: the open schedule window that raised the min, as the below-min trigger names it,
   * and `asked` the min asked for when the host cap holds the min in effect below it, as there.
   */
  | {
      kind: "above-min";
      met: boolean;
      current?: number;
      min: number;
      schedule?: string;
      asked?: number;
      unready?: string;
    }
  | {
      kind: "candidate";
      met: boolean;
      /** The node a decrease by one removes, the first the decrease removes. */
      node?: string;
      /**
       * Every node the decrease removes (or would remove, while held), `node` first, when it is
       * several: empty nodes together (`scaleDown.maxEmptyBulk`), or the count down to the max.
       */
      nodes?: string[];
      problem?: string;
    }
  /**
   * Listed only when the node to remove is cordoned, never met: a person took it out of service
   * (for maintenance, a VM shut down), so neither low usage nor its not being Ready removes it.
   * Above the max or the host cap it goes all the same.
   */
  | { kind: "not-cordoned"; met: false; node: string }
  /**
   * Listed only when the node to remove has a GPU on its way (`GpuComing`, within its wait),
   * never met: its usage since it became Ready says nothing yet of what runs on it once its
   * device plugin registers the GPU (`resources`), waited for until `until`. Above the max or
   * the host cap it goes all the same.
   */
  | { kind: "gpu-advertised"; met: false; node: string; resources: string[]; until: string }
  /**
   * `unread`: lists the blockers rest on that failed or stopped part way (`poddisruptionbudgets`,
   * `pods`, …): what else keeps the node is unknown, so the condition is not met.
   */
  | {
      kind: "no-blockers";
      met: boolean;
      node: string;
      blockers: DrainBlocker[];
      unread?: string[];
      /**
       * With `scaleDown.deleteEmptyDirData`: the pods whose emptyDir data on disk the drain
       * deletes with the node, each `namespace/name (volume, …)` (absent when none).
       */
      emptyDirDeleted?: string[];
    }
  | {
      kind: "pods-fit";
      met: boolean;
      node: string;
      pods: number;
      /**
       * The node's expendable pods (priority below `expendablePriority`): evicted with it, they
       * need no room elsewhere, so they are not among `pods`.
       */
      dropped?: string[];
      /**
       * Ready cordoned nodes of the pool whose pods were placed too, and how many: cordoned
       * ahead of a drain, they will need room on the nodes left.
       */
      cordoned?: { nodes: string[]; pods: number };
      /**
       * Pending pods counted on free room of the pool's nodes, placed again with them: the room
       * a pending pod was counted on is the node's to keep for it as much as its own pods'.
       */
      pending?: number;
      /**
       * Pods the decreases of pools before this one move onto the pool's nodes, placed again
       * with them, and those pools: their room was counted on by those decreases.
       */
      moved?: { pods: number; pools: string[] };
      /**
       * Where each of the node's `pods` that found room goes, in the pool or outside it (absent
       * when none did): the node the drain would move it to, as the pods are placed by requests.
       */
      placements?: PodPlacement[];
      unplaced: string[];
      /** For each pod of `unplaced`: why it found no node. */
      causes: UnplacedReport[];
      /**
       * The pods placed on nodes outside the pool (an untainted control plane, a node no pool
       * selects, a node of another pool), by node, when the pool's own nodes had no room for them.
       */
      outside?: OutsidePlacement[];
      /**
       * When a pod found no room, or rules kept it off the nodes with room: the nodes outside the
       * pool whose room a decrease of a pool before this one moves pods into, and those pools.
       */
      outsideTaken?: OutsideTaken[];
      /**
       * When a pod found no room, or rules kept it off the nodes with room: the pool's other
       * nodes whose room was not counted, and why (not Ready, cordoned, or its room unknown), then
       * the nodes in no pool so, then the other pools' nodes not offered, those that would admit
       * such a pod.
       */
      uncounted?: UncountedNode[];
      /**
       * `["pods"]` when the pod list was not read in full: the node's pods beyond `pods`, and the
       * room the pods not read take on the others, are unknown, so the condition is not met.
       */
      unread?: string[];
    }
  | {
      kind: "projection";
      met: boolean;
      resource: Resource | "requests";
      /** For `requests`: the resource whose requests are the higher once the node is gone. */
      requestsOf?: Resource;
      projected?: number;
      limit: number;
      /**
       * For `requests`: how many pending pods the plan counted on the pool's nodes, whose
       * requests count with the pool's own, the removal leaving them there (absent when none).
       */
      pending?: number;
      /**
       * For `requests`: the pods the decreases of pools before this one move onto the pool's
       * nodes, whose requests count with the pool's own, the removal leaving them there, and
       * those pools.
       */
      moved?: { pods: number; pools: string[] };
    }
  /**
   * Present when the decrease would take the pool's last node (the count to 0): met when a new
   * node could still be told from the config alone, with nothing the pool's nodes have missing.
   */
  | ({ kind: "last-node"; met: boolean; node: string } & NewNodeGaps);

/** A pod of a node that goes, by key, and the node it would move to. */
export interface PodPlacement {
  pod: string;
  node: string;
}

/** Pods of a node that goes placed on a node in no pool, by key. */
export interface OutsidePlacement {
  node: string;
  /** The node is a control plane (its NoSchedule taint gone, or tolerated by the pods). */
  controlPlane?: true;
  /** The node is of this other pool. */
  pool?: string;
  pods: string[];
}

/** A node outside the pool whose room the decreases of earlier pools in the plan move pods into. */
export interface OutsideTaken {
  node: string;
  pools: string[];
  /**
   * The pools' open decreases remove nodes the naming rule cannot all tell: their pods may move
   * to this node, or may not, so its room is not counted on while they are open.
   */
  withheld?: true;
  /**
   * With `withheld`: those pools' open pull requests may lower the count, by how much is unknown
   * (the count one asks for, or the pool's own, could not be read).
   */
  changeUnknown?: true;
}

export interface ScaleDownReport {
  enabled: boolean;
  /**
   * With scale-down off (`enabled` false), the pool's nodes not Ready for
   * `scaleDown.unreadyTime`: they stay until they are Ready again or a person replaces them.
   */
  unready?: string[];
  /** Every condition evaluated, in order; the pool scales down only when all are met. */
  conditions: ScaleDownCondition[];
  /**
   * How many nodes the decrease takes at once; present when the conditions allow one, or when
   * the count is more than one node above the max (or the host cap) and its first node can go.
   */
  bulk?: BulkRemovalReport;
  /**
   * The conditions that refused a scale-down that was wanted (usage and requests below their
   * thresholds, or the count above its max), each as in `conditions`; absent when none was
   * wanted, one is made, or only holds stopped it. Above the max only the node to remove, its
   * blockers and where its pods go can refuse it.
   */
  refusedBy?: ScaleDownCondition[];
}

/**
 * Empty nodes removed together: the nodes a decrease by one, two, … removes, taken while each
 * is empty and every condition still holds with all of them gone. Above the max (or the host
 * cap), the nodes down to it (`downTo`), empty or not.
 */
export interface BulkRemovalReport {
  /** `scaleDown.maxEmptyBulk`. */
  maxEmptyBulk: number;
  /** The nodes the decrease removes, in the order Terraform destroys them. */
  nodes: string[];
  /** Why the decrease takes no more. */
  stop: BulkStop;
  /**
   * Above the max (or the host cap): the bound the decrease comes down to, taking nodes with pods
   * too, each as a decrease by one would on the pool the nodes before it leave.
   */
  downTo?: { max: number; bound: "max" | "host-cap" };
  /**
   * The expendable pods of the nodes after the first (the first's are in its `pods-fit`
   * condition): evicted with their nodes, not placed elsewhere.
   */
  dropped?: string[];
  /**
   * With `scaleDown.deleteEmptyDirData`: the pods of the nodes after the first (the first's are
   * in its no-blockers condition) whose emptyDir data on disk the drain deletes with them.
   */
  emptyDirDeleted?: string[];
  /**
   * When `nodes` are more than one, for each of them the utilisation projected with it and the
   * nodes before it gone (the conditions' projections are for the first node alone): each below
   * its limit, the scale-up threshold less `scaleDown.margin`, or the run would have stopped
   * before that node.
   */
  projection?: BulkProjection[][];
}

/**
 * A resource's utilisation projected with some of a pool's nodes gone, and for `requests` what
 * the projection counts.
 */
interface ProjectedUse {
  resource: Resource | "requests";
  /** For `requests`: the resource whose requests are the higher with the nodes gone. */
  requestsOf?: Resource;
  /**
   * For `requests`: the pending pods the plan counted on the pool's nodes that stay there with
   * the nodes gone (absent when none).
   */
  pending?: number;
  /** For `requests`: the pods earlier pools' decreases move onto its nodes that stay there. */
  moved?: { pods: number; pools: string[] };
}

/** A resource's utilisation once all the nodes of a bulk removal are gone. */
export interface BulkProjection extends ProjectedUse {
  projected: number;
  limit: number;
}

export type BulkStop =
  | { kind: "max-empty-bulk"; max: number }
  | { kind: "min"; min: number }
  /** Above the max (or the host cap), the decrease comes down to it. */
  | { kind: "max"; max: number; bound: "max" | "host-cap" }
  | { kind: "candidate"; problem: string }
  | { kind: "blockers"; node: string; blockers: DrainBlocker[] }
  | { kind: "not-empty"; node: string; pods: number }
  /** Cordoned: a person took it out of service, and low usage does not remove it. */
  | { kind: "cordoned"; node: string }
  /** A GPU on its way (`GpuComing`): its usage says nothing yet, and low usage does not remove it. */
  | { kind: "gpu-coming"; node: string; resources: string[]; until: string }
  /** Without the nodes before it the pool would no longer be below a scale-down threshold. */
  | ({ kind: "needed"; node: string; projected?: number; threshold: number } & ProjectedUse)
  /** Without it too, utilisation would come within the margin of a scale-up threshold. */
  | ({ kind: "projection"; node: string; projected?: number; limit: number } & ProjectedUse)
  /**
   * A budget over pods of it and of the nodes before it (`nodes`, it last) allows fewer
   * disruptions than evicting them all takes (`pods`): the earlier evictions spend them.
   */
  | {
      kind: "budget";
      node: string;
      pdb: string;
      disruptionsAllowed: number;
      pods: number;
      nodes: string[];
    }
  /** Without it too, pending pods (or, above the max, the pods of the nodes taken) would have no room. */
  | {
      kind: "pods-fit";
      node: string;
      unplaced: string[];
      causes: UnplacedReport[];
      /**
       * Those of `unplaced` that the decreases of pools before this one move onto the pool's
       * nodes, and those pools (absent when none).
       */
      moved?: { pods: string[]; pools: string[] };
    }
  /** It is the pool's last node, and a new node could not be told from the config alone. */
  | ({ kind: "last-node"; node: string } & NewNodeGaps)
  /** A window opening soon holds the count at its min: no more go now. */
  | { kind: "schedule-soon"; schedule: string; min: number }
  /**
   * Pending pods whose fit on a new node is unknown wait: above the max (or the host cap), the
   * count comes down to it, and no node goes for low usage beyond it; without `max`, only the
   * nodes long not Ready go (below the max too, when they reach further than it).
   */
  | { kind: "pending-fit-unknown"; max?: number; bound?: "max" | "host-cap" }
  /** The same for pods that need new nodes and have not waited `scaleUp.pendingFor` yet. */
  | { kind: "pending-wait"; max?: number; bound?: "max" | "host-cap" }
  /**
   * The same for pods bound to nodes the cluster does not list, to be made again: no Ready node
   * goes beyond the max (or the host cap), or beyond the nodes long not Ready without `max`.
   */
  | { kind: "pods-orphaned"; max?: number; bound?: "max" | "host-cap" }
  /** The same for the pods of pool nodes not Ready, which will need room. */
  | { kind: "nodes-unready"; max?: number; bound?: "max" | "host-cap" };
