import { extendedResourceNameProblem } from "../policy/resource-name.ts";
import { listing } from "../util/listing.ts";
import {
  DEFAULT_MAX_PODS,
  newNodeShapeOrWhy,
  type ShapeUnknown,
  sameTaint,
  sharedLabels,
  sharedTaints,
} from "./node-shape.ts";
import type { PoolContext } from "./pool-context.ts";
import { taintText } from "./scheduling.ts";
import type { Taint } from "./snapshot.ts";

/**
 * What a node added to a pool that has no node left would lack, against the pool's nodes of
 * now: a pool with no node learns nothing, so a new node is what `newNode` and the selector's
 * `matchLabels` say and no more. Empty lists when they give all of it.
 */
export interface NewNodeGaps {
  /**
   * `newNode` keys to set: `newNode.cpu`, `newNode.memory` while unset, and `newNode.pods` while
   * unset when the pool's nodes take another number of pods than kubelet's default of 110.
   */
  unset: string[];
  /**
   * Extended resources (`nvidia.com/gpu`) of the pool's nodes that `newNode.extendedResources`
   * does not give, and other resources they report that `newNode` has no key for (hugepages).
   */
  extended: string[];
  /** Labels every pool node carries that neither `newNode.labels` nor `matchLabels` gives. */
  labels: Record<string, string>;
  /** Taints every pool node carries that `newNode.taints` does not give. */
  taints: Taint[];
  /**
   * Why the room on a new node of the pool with no node left would be unknown, though its size
   * is configured: the cluster's DaemonSets, by which it would be told, could not be read
   * (`daemonsets-unread`), or one of those it would run requests an amount that could not be
   * (`daemonset-requests`). Absent when it is known.
   */
  daemonSets?: Exclude<ShapeUnknown, "size">;
}

/** Whether removing `removing` nodes takes the count to zero: the pool's last node goes. */
export function emptiesPool(context: PoolContext, removing: number): boolean {
  return context.current !== undefined && context.current - removing <= 0;
}

/**
 * What a new node would lack once the pool's nodes are all gone. The pool grows back only on a
 * shape it can tell: cpu and memory configured, and the labels, taints and extended resources
 * pods look for on the pool's nodes carried over by the config, or the last node stays; so it
 * does while the room such a node offers pending pods is unknown (its DaemonSets), since the
 * pool would then add no node for them.
 */
export function newNodeGaps(context: PoolContext): NewNodeGaps {
  const { newNode, selector } = context.pool;
  const { members } = context;
  const unset: string[] = [];
  if (newNode.cpu === undefined) unset.push("newNode.cpu");
  if (newNode.memory === undefined) unset.push("newNode.memory");
  if (
    newNode.pods === undefined &&
    members.some((node) => (node.allocatable.pods ?? DEFAULT_MAX_PODS) !== DEFAULT_MAX_PODS)
  )
    unset.push("newNode.pods");
  const extended = new Set<string>();
  for (const node of members)
    for (const [name, amount] of Object.entries(node.allocatable.extended ?? {}))
      if (amount > 0 && !(name in newNode.extendedResources)) extended.add(name);
  const given = { ...selector?.matchLabels, ...newNode.labels };
  const labels = Object.fromEntries(
    Object.entries(sharedLabels(members)).filter(([key]) => !(key in given)),
  );
  const taints = sharedTaints(members).filter(
    (taint) => !newNode.taints.some((configured) => sameTaint(taint, configured)),
  );
  const gaps: NewNodeGaps = { unset, extended: [...extended].sort(), labels, taints };
  const regrown = newNodeShapeOrWhy([], newNode, selector, context.index, context.now);
  if ("unknown" in regrown && regrown.unknown !== "size") gaps.daemonSets = regrown.unknown;
  return gaps;
}

/** Whether a new node would lack nothing the pool's nodes have. */
export function gapsClosed(gaps: NewNodeGaps): boolean {
  return (
    gaps.unset.length === 0 &&
    gaps.extended.length === 0 &&
    Object.keys(gaps.labels).length === 0 &&
    gaps.taints.length === 0 &&
    gaps.daemonSets === undefined
  );
}

/** Why the last node stays, naming what to configure; for the explanation. */
export function lastNodeStaysText(gaps: NewNodeGaps): string {
  const parts: string[] = [];
  if (gaps.unset.length > 0) parts.push(`set ${listing(gaps.unset)}`);
  const labels = Object.entries(gaps.labels).map(([key, value]) => `${key}=${value}`);
  if (labels.length > 0)
    parts.push(`add ${labels.join(", ")} to newNode.labels (every pool node has them)`);
  if (gaps.taints.length > 0)
    parts.push(
      `add ${gaps.taints.map(taintText).join(", ")} to newNode.taints (every pool node has them)`,
    );
  const settable = gaps.extended.filter((name) => !extendedResourceNameProblem(name));
  const unsettable = gaps.extended.filter((name) => extendedResourceNameProblem(name));
  if (settable.length > 0)
    parts.push(
      `set ${listing(settable)} in newNode.extendedResources (the pool's nodes have ${settable.length === 1 ? "it" : "them"})`,
    );
  if (unsettable.length > 0)
    parts.push(`a new node would have no ${unsettable.join(", ")}, which newNode cannot give`);
  const reasons: string[] = [];
  if (parts.length > 0)
    reasons.push(`a pool with no node cannot learn a new node's shape; ${parts.join("; ")}`);
  if (gaps.daemonSets) reasons.push(UNKNOWN_ROOM[gaps.daemonSets]);
  return `the last node stays: ${reasons.join("; and ")}`;
}

const UNKNOWN_ROOM: Record<Exclude<ShapeUnknown, "size">, string> = {
  "daemonsets-unread":
    "with no node left, the room on a new node is told by the cluster's DaemonSets, which could not be read (see the snapshot's warnings; the account needs list on daemonsets.apps): the pool could not grow back for pending pods",
  "daemonset-requests":
    "with no node left, the room on a new node is told by the cluster's DaemonSets, and one it would run requests an amount that could not be read (see the snapshot's warnings): the pool could not grow back for pending pods",
};
