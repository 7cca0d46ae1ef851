import { type Raw, record, string, stringMap } from "../cluster/raw.ts";
import { matchesLabelSelector } from "../planning/scheduling.ts";
import type { LabelSelector } from "../planning/snapshot.ts";
import { readReadiness } from "./drain-readiness.ts";

/** A node as waiting for the pool sees it. */
export interface PoolNode {
  name: string;
  /** With resourceVersion: deleting exactly the object that was looked at. */
  uid: string;
  resourceVersion: string;
  labels: Record<string, string>;
  /** The Ready condition is True. */
  ready: boolean;
  /** Reason and message of a Ready condition that is not True; "no Ready condition" when absent. */
  notReadyReason?: string;
  /** When the Ready condition last changed status, when the node says. */
  readyChangedAt?: string;
  unschedulable: boolean;
  controlPlane: boolean;
  createdAt: string;
}

const controlPlaneLabels = [
  "node-role.kubernetes.io/control-plane",
  "node-role.kubernetes.io/master",
];

/** Translates a core/v1 Node into the fields the wait uses. */
export function toPoolNode(raw: Raw): PoolNode {
  const metadata = record(raw.metadata);
  const labels = stringMap(metadata.labels);
  const readiness = readReadiness(raw);
  const node: PoolNode = {
    name: string(metadata.name) ?? "",
    uid: string(metadata.uid) ?? "",
    resourceVersion: string(metadata.resourceVersion) ?? "",
    labels,
    ready: readiness.ready,
    unschedulable: record(raw.spec).unschedulable === true,
    controlPlane: controlPlaneLabels.some((label) => label in labels),
    createdAt: string(metadata.creationTimestamp) ?? "",
  };
  if (readiness.notReadyReason !== undefined) node.notReadyReason = readiness.notReadyReason;
  if (readiness.changedAt !== undefined) node.readyChangedAt = readiness.changedAt;
  return node;
}

/** What the wait is for. */
export interface PoolTarget {
  /** Undefined: every node that is not control plane. */
  selector: LabelSelector | undefined;
  /** Pool nodes wanted: Ready, or not Ready since before the apply. */
  count: number;
  /** Nodes whose Node objects must be gone (their VMs were destroyed). */
  gone: readonly string[];
}

export type MemberState = "ready" | "not-ready" | "cordoned";

export interface PoolMember {
  name: string;
  state: MemberState;
  createdAt: string;
  notReadyReason?: string;
  /**
   * Not Ready since before the apply began (see {@link notReadyBefore}): counted as one of the
   * pool's machines, not waited for.
   */
  notReadyBefore?: true;
  /** Was Ready at an earlier look of this wait and is not now. */
  stoppedReady?: true;
}

/** A node that should be gone and is still there. */
export interface LingeringNode {
  name: string;
  uid: string;
  resourceVersion: string;
  ready: boolean;
  unschedulable: boolean;
  /** NotReady and cordoned: its kubelet stopped after a drain, so its VM is gone. */
  deletable: boolean;
}

/**
 * What the wait remembers between looks, by node UID (a node that joins again under the same
 * name is another node).
 */
export interface WaitMemory {
  /** Not Ready since before the apply at the first look, and not seen Ready since. */
  excused: Set<string>;
  /** Seen Ready at some look. */
  seenReady: Set<string>;
}

export interface PoolAssessment {
  members: PoolMember[];
  /** Members that are Ready, cordoned or not. */
  ready: number;
  /** Members not Ready since before the apply: counted, not waited for. */
  notReadyBefore: string[];
  /** Members that are not Ready and must be: new nodes, and nodes that stopped being Ready. */
  waitingFor: string[];
  /** Of {@link waitingFor}, those that were Ready at an earlier look of this wait. */
  stoppedReady: string[];
  /** How many more nodes the pool needs (Ready ones, since the others are not waited for). */
  missing: number;
  lingering: LingeringNode[];
  done: boolean;
}

/** An empty memory: nothing excused, nothing seen. */
export function emptyMemory(): WaitMemory {
  return { excused: new Set(), seenReady: new Set() };
}

/**
 * The UIDs of the pool nodes that were not Ready before the apply began at `since` (epoch
 * ms): not Ready now, created before `since`, and not Ready since before it (their Ready
 * condition last changed before `since`). A node whose creation or Ready condition has no
 * time is never one of them: it may be a VM the apply created.
 */
export function notReadyBefore(
  nodes: readonly PoolNode[],
  target: PoolTarget,
  since: number,
): Set<string> {
  const before = (value: string | undefined) => {
    const at = value === undefined ? Number.NaN : Date.parse(value);
    return !Number.isNaN(at) && at < since;
  };
  return new Set(
    poolNodes(nodes, target)
      .filter((node) => !node.ready && before(node.createdAt) && before(node.readyChangedAt))
      .map((node) => node.uid),
  );
}

/**
 * Compares the nodes with the target. The pool's members are the nodes its selector matches
 * that are not control plane and are not to be gone. The wait is done when:
 * - the Ready members and those excused in `memory` (not Ready since before the apply) are at
 *   least `count`: the count is of machines, and a dead VM is still one until it is removed;
 * - every other member is Ready: a new node, and a node that was Ready, must be;
 * - no node to be gone is still there.
 * A cordoned member still counts, as it does for the planner (the report shows it as cordoned).
 */
export function assessPool(
  nodes: readonly PoolNode[],
  target: PoolTarget,
  memory: WaitMemory = emptyMemory(),
): PoolAssessment {
  const gone = new Set(target.gone);
  const pool = poolNodes(nodes, target).sort((a, b) => a.name.localeCompare(b.name));
  const members = pool.map((node) => toMember(node, memory));
  const lingering = nodes.filter((node) => gone.has(node.name)).map(toLingering);
  const ready = members.filter((member) => member.state !== "not-ready").length;
  const excused = members.filter((m) => m.notReadyBefore).map((m) => m.name);
  const waiting = members.filter((m) => m.state === "not-ready" && !m.notReadyBefore);
  const missing = Math.max(0, target.count - ready - excused.length);
  return {
    members,
    ready,
    notReadyBefore: excused,
    waitingFor: waiting.map((m) => m.name),
    stoppedReady: waiting.filter((m) => m.stoppedReady).map((m) => m.name),
    missing,
    lingering,
    done: missing === 0 && waiting.length === 0 && lingering.length === 0,
  };
}

/** Forgets the excuse of a node seen Ready: should it stop again, it is waited for. */
export function remember(memory: WaitMemory, nodes: readonly PoolNode[]): void {
  for (const node of nodes) {
    if (!node.ready) continue;
    memory.seenReady.add(node.uid);
    memory.excused.delete(node.uid);
  }
}

function poolNodes(nodes: readonly PoolNode[], target: PoolTarget): PoolNode[] {
  const gone = new Set(target.gone);
  return nodes.filter(
    (node) =>
      !node.controlPlane &&
      !gone.has(node.name) &&
      (!target.selector || matchesLabelSelector(target.selector, node.labels)),
  );
}

function toMember(node: PoolNode, memory: WaitMemory): PoolMember {
  const state: MemberState = !node.ready ? "not-ready" : node.unschedulable ? "cordoned" : "ready";
  const member: PoolMember = { name: node.name, state, createdAt: node.createdAt };
  if (node.notReadyReason !== undefined) member.notReadyReason = node.notReadyReason;
  if (!node.ready && memory.excused.has(node.uid)) member.notReadyBefore = true;
  else if (!node.ready && memory.seenReady.has(node.uid)) member.stoppedReady = true;
  return member;
}

function toLingering(node: PoolNode): LingeringNode {
  return {
    name: node.name,
    uid: node.uid,
    resourceVersion: node.resourceVersion,
    ready: node.ready,
    unschedulable: node.unschedulable,
    deletable: !node.ready && node.unschedulable,
  };
}
