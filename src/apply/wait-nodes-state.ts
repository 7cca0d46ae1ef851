import { list, type Raw, record, string, stringMap } from "../cluster/raw.ts";
import { matchesLabelSelector } from "../planning/scheduling.ts";
import type { LabelSelector } from "../planning/snapshot.ts";

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
  const condition = list(record(raw.status).conditions)
    .map(record)
    .find((entry) => entry.type === "Ready");
  const node: PoolNode = {
    name: string(metadata.name) ?? "",
    uid: string(metadata.uid) ?? "",
    resourceVersion: string(metadata.resourceVersion) ?? "",
    labels,
    ready: condition?.status === "True",
    unschedulable: record(raw.spec).unschedulable === true,
    controlPlane: controlPlaneLabels.some((label) => label in labels),
    createdAt: string(metadata.creationTimestamp) ?? "",
  };
  if (!node.ready) node.notReadyReason = notReadyReason(condition);
  return node;
}

function notReadyReason(condition: Raw | undefined): string {
  if (condition === undefined) return "no Ready condition yet";
  const status = string(condition.status) ?? "Unknown";
  const reason = string(condition.reason);
  const message = string(condition.message);
  return [`Ready=${status}`, reason, message].filter(Boolean).join(": ");
}

/** What the wait is for. */
export interface PoolTarget {
  /** Undefined: every node that is not control plane. */
  selector: LabelSelector | undefined;
  /** Ready pool nodes wanted. */
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

export interface PoolAssessment {
  members: PoolMember[];
  /** Members that are Ready, cordoned or not. */
  ready: number;
  /** How many more Ready nodes are wanted. */
  missing: number;
  lingering: LingeringNode[];
  done: boolean;
}

/**
 * Compares the nodes with the target: the pool's members are the nodes its selector matches
 * that are not control plane and are not to be gone; a member counts when it is Ready. A
 * cordoned member still counts, as it does for the planner: the count is of machines, and a
 * node cordoned for maintenance is still one of them (the report shows it as cordoned).
 */
export function assessPool(nodes: readonly PoolNode[], target: PoolTarget): PoolAssessment {
  const gone = new Set(target.gone);
  const members = nodes
    .filter(
      (node) =>
        !node.controlPlane &&
        !gone.has(node.name) &&
        (!target.selector || matchesLabelSelector(target.selector, node.labels)),
    )
    .map(toMember)
    .sort((a, b) => a.name.localeCompare(b.name));
  const lingering = nodes
    .filter((node) => gone.has(node.name))
    .map((node) => ({
      name: node.name,
      uid: node.uid,
      resourceVersion: node.resourceVersion,
      ready: node.ready,
      unschedulable: node.unschedulable,
      deletable: !node.ready && node.unschedulable,
    }));
  const ready = members.filter((member) => member.state !== "not-ready").length;
  const missing = Math.max(0, target.count - ready);
  return { members, ready, missing, lingering, done: missing === 0 && lingering.length === 0 };
}

function toMember(node: PoolNode): PoolMember {
  const state: MemberState = !node.ready ? "not-ready" : node.unschedulable ? "cordoned" : "ready";
  const member: PoolMember = { name: node.name, state, createdAt: node.createdAt };
  if (node.notReadyReason !== undefined) member.notReadyReason = node.notReadyReason;
  return member;
}
