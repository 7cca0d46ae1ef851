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
  /**
   * How many VMs the apply created in the pool: at least this many members must be Ready and
   * have become Ready during the apply (see {@link isNewlyReady}). Undefined: no such check.
   */
  added?: number;
  /** Nodes whose Node objects must be gone (their VMs were destroyed). */
  gone: readonly string[];
  /**
   * Nodes that are not the pool's though its selector may match them, and that are not waited
   * for either: the Node objects the apply workflow could not delete of VMs it destroyed.
   */
  ignored?: readonly string[];
}

export type MemberState = "ready" | "not-ready" | "cordoned";

export interface PoolMember {
  name: string;
  state: MemberState;
  createdAt: string;
  notReadyReason?: string;
  /** Ready, and became Ready during this apply (see {@link isNewlyReady}). */
  newlyReady?: true;
  /**
   * Not Ready since before the apply began (see {@link notReadyBefore}): counted as one of the
   * pool's machines, not waited for.
   */
  notReadyBefore?: true;
  /**
   * Not Ready and cordoned. Judged as any other node that is not Ready: a drained VM that was
   * destroyed leaves such a node behind, but so does a VM shut down after `kubectl cordon` for
   * maintenance, and only `--gone` (the nodes the apply destroyed) tells them apart.
   */
  cordoned?: true;
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
  /**
   * NotReady and cordoned: named to be gone, drained and its kubelet stopped, so its VM is
   * gone (what `--delete-gone` asks before it deletes the Node object).
   */
  deletable: boolean;
}

/**
 * What the wait remembers between looks, by node UID (a node that joins again under the same
 * name is another node).
 */
export interface WaitMemory {
  /** When the apply began (epoch ms). */
  since: number;
  /** Not Ready since before the apply at the first look, and not seen Ready since. */
  excused: Set<string>;
  /** Seen Ready at some look. */
  seenReady: Set<string>;
  /**
   * Seen Ready at some look without having become Ready during the apply: a node that was Ready
   * before it. Should its Ready condition change later, it is still not one of the apply's.
   */
  readyBefore: Set<string>;
}

export interface PoolAssessment {
  members: PoolMember[];
  /** Members that are Ready, cordoned or not. */
  ready: number;
  /** Of the Ready members, those that became Ready during this apply and are not cordoned. */
  newlyReady: string[];
  /**
   * Ready members that became Ready during this apply and are cordoned: they take no pods until
   * uncordoned, so they are not among {@link newlyReady} (a VM that registered into the Node
   * object an earlier VM of the same name left behind, cordoned by its drain, stays cordoned).
   */
  newCordoned: string[];
  /** Members not Ready since before the apply: counted, not waited for. */
  notReadyBefore: string[];
  /** Of {@link waitingFor}, those that are cordoned (perhaps a destroyed VM not named to be gone). */
  cordonedWaitingFor: string[];
  /** Members that are not Ready and must be: new nodes, and nodes that stopped being Ready. */
  waitingFor: string[];
  /** Of {@link waitingFor}, those that were Ready at an earlier look of this wait. */
  stoppedReady: string[];
  /** How many more nodes the pool needs (Ready ones, since the others are not waited for). */
  missing: number;
  /** With {@link PoolTarget.added}: how many more members must become Ready. */
  missingNew?: number;
  lingering: LingeringNode[];
  done: boolean;
}

/** An empty memory for an apply that began at `since` (epoch ms): nothing excused, nothing seen. */
export function emptyMemory(since: number): WaitMemory {
  return { since, excused: new Set(), seenReady: new Set(), readyBefore: new Set() };
}

/** The memory of the first look: the nodes it excuses (see {@link notReadyBefore}). */
export function firstMemory(
  nodes: readonly PoolNode[],
  target: PoolTarget,
  since: number,
): WaitMemory {
  return { ...emptyMemory(since), excused: notReadyBefore(nodes, target, since) };
}

/**
 * The UIDs of the pool nodes that were not Ready before the apply began at `since` (epoch
 * ms): not Ready now, created before `since`, and not Ready since before it
 * (their Ready condition last changed before `since`). A node whose creation or Ready
 * condition has no time is never one of them: it may be a VM the apply created. A cordoned one
 * may be (a VM shut down for maintenance): the nodes whose VMs the apply destroyed are
 * `target.gone`, never pool members.
 */
export function notReadyBefore(
  nodes: readonly PoolNode[],
  target: PoolTarget,
  since: number,
): Set<string> {
  return new Set(
    poolNodes(nodes, target)
      .filter(
        (node) =>
          !node.ready && before(node.createdAt, since) && before(node.readyChangedAt, since),
      )
      .map((node) => node.uid),
  );
}

/**
 * Whether a node is Ready and became Ready during the apply that began at `memory.since`: it
 * was created at or after that time (a VM the apply created), or its Ready condition changed
 * at or after it (a VM that registered into the leftover Node object of an earlier VM of the
 * same name). A node that was seen Ready before its condition changed is not, nor is one whose
 * times are unknown: what cannot be told new is not counted as new.
 */
export function isNewlyReady(node: PoolNode, memory: WaitMemory): boolean {
  if (!node.ready || memory.readyBefore.has(node.uid)) return false;
  return atOrAfter(node.createdAt, memory.since) || atOrAfter(node.readyChangedAt, memory.since);
}

/**
 * Compares the nodes with the target. The pool's members are the nodes its selector matches
 * that are not control plane, not to be gone and not ignored. The wait is done when:
 * - the Ready members and those excused in `memory` (not Ready since before the apply) are at
 *   least `count`: the count is of machines, and a dead VM is still one until it is removed;
 * - with `added`, at least that many Ready members became Ready during the apply and are not
 *   cordoned: a node that was there before cannot stand in for a VM the apply created, and a
 *   new node that takes no pods is not the capacity the apply was for;
 * - every other member is Ready;
 * - no node to be gone is still there.
 * Without a memory no node is excused, and none is new.
 * A cordoned member that is Ready still counts, as it does for the planner (the report shows it
 * as cordoned). A cordoned member that is not Ready is judged as any other: cordoned and not
 * Ready is what a drained VM that was destroyed leaves, but also a VM shut down for maintenance
 * after `kubectl cordon`; the nodes whose VMs the apply destroyed are `target.gone`.
 */
export function assessPool(
  nodes: readonly PoolNode[],
  target: PoolTarget,
  memory: WaitMemory = emptyMemory(Number.NaN),
): PoolAssessment {
  const gone = new Set(target.gone);
  const pool = poolNodes(nodes, target).sort((a, b) => a.name.localeCompare(b.name));
  const members = pool.map((node) => toMember(node, memory));
  const lingering = nodes.filter((node) => gone.has(node.name)).map(toLingering);
  const ready = members.filter((member) => member.state !== "not-ready").length;
  const excused = members.filter((m) => m.notReadyBefore).map((m) => m.name);
  const waiting = members.filter((m) => m.state === "not-ready" && !m.notReadyBefore);
  const fresh = members.filter((m) => m.newlyReady);
  const newlyReady = fresh.filter((m) => m.state === "ready").map((m) => m.name);
  const assessment: PoolAssessment = {
    members,
    ready,
    newlyReady,
    newCordoned: fresh.filter((m) => m.state === "cordoned").map((m) => m.name),
    notReadyBefore: excused,
    waitingFor: waiting.map((m) => m.name),
    cordonedWaitingFor: waiting.filter((m) => m.cordoned).map((m) => m.name),
    stoppedReady: waiting.filter((m) => m.stoppedReady).map((m) => m.name),
    missing: Math.max(0, target.count - ready - excused.length),
    lingering,
    done: false,
  };
  if (target.added !== undefined) {
    assessment.missingNew = Math.max(0, target.added - newlyReady.length);
  }
  assessment.done = isDone(assessment);
  return assessment;
}

/** Whether nothing is missing, nothing waited for and nothing lingering. */
export function isDone(assessment: PoolAssessment): boolean {
  return (
    assessment.missing === 0 &&
    (assessment.missingNew ?? 0) === 0 &&
    assessment.waitingFor.length === 0 &&
    assessment.lingering.length === 0
  );
}

/**
 * Forgets the excuse of a node seen Ready (should it stop again, it is waited for), and of a
 * node whose Ready condition changed since the apply began (a kubelet, perhaps a new VM's,
 * reports again). Remembers a Ready node that did not become Ready during the apply, so that a
 * later change of its Ready condition does not make it one of the apply's new nodes.
 */
export function remember(memory: WaitMemory, nodes: readonly PoolNode[]): void {
  for (const node of nodes) {
    if (!before(node.readyChangedAt, memory.since)) memory.excused.delete(node.uid);
    if (!node.ready) continue;
    if (!isNewlyReady(node, memory)) memory.readyBefore.add(node.uid);
    memory.seenReady.add(node.uid);
    memory.excused.delete(node.uid);
  }
}

function poolNodes(nodes: readonly PoolNode[], target: PoolTarget): PoolNode[] {
  const gone = new Set(target.gone);
  const ignored = new Set(target.ignored ?? []);
  return nodes.filter(
    (node) =>
      !node.controlPlane &&
      !gone.has(node.name) &&
      !ignored.has(node.name) &&
      (!target.selector || matchesLabelSelector(target.selector, node.labels)),
  );
}

function toMember(node: PoolNode, memory: WaitMemory): PoolMember {
  const state: MemberState = !node.ready ? "not-ready" : node.unschedulable ? "cordoned" : "ready";
  const member: PoolMember = { name: node.name, state, createdAt: node.createdAt };
  if (node.notReadyReason !== undefined) member.notReadyReason = node.notReadyReason;
  if (isNewlyReady(node, memory)) member.newlyReady = true;
  if (!node.ready && node.unschedulable) member.cordoned = true;
  if (!node.ready && memory.excused.has(node.uid)) member.notReadyBefore = true;
  const waited = !node.ready && !member.notReadyBefore;
  if (waited && memory.seenReady.has(node.uid)) member.stoppedReady = true;
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

/** A known time strictly before `since`. */
function before(value: string | undefined, since: number): boolean {
  const at = value === undefined ? Number.NaN : Date.parse(value);
  return !Number.isNaN(at) && at < since;
}

/** A known time at or after `since`. */
function atOrAfter(value: string | undefined, since: number): boolean {
  const at = value === undefined ? Number.NaN : Date.parse(value);
  return !Number.isNaN(at) && at >= since;
}
