import { editValue, type FileFormat, readValue, targetEditOptions } from "../editors/edit-file.ts";
import type { ScalarValue } from "../editors/value.ts";
import { InputError } from "../errors.ts";
import type { ResourcesProposal } from "../rightsizing/resources-proposal.ts";
import type { DrainBlocker } from "./blockers.ts";
import {
  expendableLines,
  explainNodeDecision,
  holdText,
  neverFitLines,
  overMaxLine,
} from "./explain-node-decision.ts";
import type { Hold, NodeDecision, Trigger } from "./node-decision.ts";

/** One value changed in one file of the infra repo. */
export interface FileChange {
  file: string;
  path: string;
  before: unknown;
  after: ScalarValue;
  /** How the file is read, when the pool's target says it (see `CountTarget`). */
  format?: FileFormat;
  document?: number;
}

/** A file's whole text before and after the proposal's changes (made and verified by the editors). */
export interface FileEdit {
  file: string;
  before: string;
  after: string;
}

export interface NodeProposal {
  kind: "nodes";
  /** Stable target key: one pull request per key (`nodes-<pool>`). */
  key: string;
  pool: string;
  from: number;
  to: number;
  direction: "up" | "down";
  changes: FileChange[];
  edits: FileEdit[];
  /** The explanation, rendered from `decision`. */
  reasons: string[];
  decision: NodeDecision;
}

/** A change the plan wants, one pull request each: a pool's node count or containers' requests. */
export type Proposal = NodeProposal | ResourcesProposal;

/** Something the plan wants a person to know that is not a change: a hold, a problem, a no-op. */
export interface PlanNote {
  level: "info" | "warning";
  /** What it concerns, e.g. `pool/workers`. */
  subject?: string;
  message: string;
  /** For a pool that does not change: the decision's reasons as data, as a proposal has them. */
  pool?: string;
  current?: number;
  reasons?: string[];
  triggers?: Trigger[];
  /** Also on the note of a raise that stops at the max or the host cap: its `at-max` hold. */
  holds?: Hold[];
  /** The whole decision as data: bounds, utilisation and checks, packing, blockers. */
  decision?: NodeDecision;
  /**
   * For `unjudged-pods` and `scheduler-failed`: every pod the message names or counts, as data,
   * in the order it names them.
   */
  pods?: NotedPod[];
}

/**
 * A Pending pod a note names, `namespace/name`, and why it adds no node: held by scheduling
 * `gates`, left to another scheduler (`schedulerName`), placed by the scheduler with no node set
 * yet, with a PodScheduled condition that gives no verdict, or one the scheduler `failed` on
 * (its condition's `reason` and `message`, failing `since` the condition's time when it gives
 * one); or `untried`, counted as pending though the scheduler has not tried it yet. `created`:
 * when it was made, when that can be read. Times are ISO 8601.
 */
export interface NotedPod {
  pod: string;
  why: "gated" | "other-scheduler" | "placed" | "no-verdict" | "untried" | "failed";
  gates?: string[];
  schedulerName?: string;
  reason?: string;
  message?: string;
  since?: string;
  created?: string;
}

export interface PlanOutput<P extends Proposal = Proposal> {
  proposals: P[];
  notes: PlanNote[];
}

/**
 * Turns node decisions into proposals: the new count written into the target file by the
 * editors, which verify that nothing else in the file changed. Pools with no change become notes.
 * The pending pods that add no node are said in the notes either way (`pendingNote`).
 */
export function nodeProposals(
  decisions: readonly NodeDecision[],
  files: ReadonlyMap<string, string>,
): PlanOutput<NodeProposal> {
  const output: PlanOutput<NodeProposal> = { proposals: [], notes: [] };
  /** Pools whose whole explanation is a note, the pending pods that add no node included. */
  const explained = new Set<string>();
  for (const decision of decisions) {
    const subject = `pool/${decision.pool}`;
    const { current, desired } = decision;
    if (
      decision.action === "none" ||
      current === undefined ||
      desired === undefined ||
      current === desired
    ) {
      const reasons = explainNodeDecision(decision);
      explained.add(decision.pool);
      output.notes.push({
        level: needsAPerson(decision) ? "warning" : "info",
        subject,
        message: reasons.join("\n"),
        pool: decision.pool,
        ...(current === undefined ? {} : { current }),
        reasons,
        triggers: decision.triggers,
        holds: decision.holds,
        decision,
      });
      continue;
    }
    const text = files.get(decision.target.file);
    if (text === undefined) {
      output.notes.push({
        level: "warning",
        subject,
        message: `${decision.target.file} could not be read`,
      });
      continue;
    }
    try {
      output.proposals.push(nodeProposal(decision, text, current, desired));
      const bounded = boundedNote(decision, current, desired);
      if (bounded) output.notes.push(bounded);
    } catch (error) {
      // One pool's file the editors refuse leaves the other pools' proposals standing.
      if (!(error instanceof InputError)) throw error;
      const where = error.location?.line ? ` (${error.location.file}:${error.location.line})` : "";
      output.notes.push({
        level: "warning",
        subject,
        message: `${decision.pool} wants ${current} → ${desired}, but the change cannot be written: ${error.message}${where}`,
      });
    }
  }
  const pending = pendingNote(decisions, explained);
  if (pending) output.notes.push(pending);
  return output;
}

/**
 * The note for a raise that stops at the max or the host cap while usage asks for more (the
 * utilisation held above its threshold, or requests above `scaleUp.requests`): a warning, as
 * the same pool at that bound with no change is, since once the change is made only a person
 * raising the bound lets the pool grow. One for the pool whatever the triggers: `scale up 2 → 3
 * stops at the max: wanted 5 nodes, the max allows 3`. The pods left pending there are the
 * `pods` note's (`pendingNote`). Its hold is on it as data; the dashboard lists it under "Why"
 * with the pool's other holds.
 */
function boundedNote(
  decision: NodeDecision,
  current: number,
  desired: number,
): PlanNote | undefined {
  const atMax = decision.holds.find((hold) => hold.kind === "at-max");
  if (desired <= current || atMax?.kind !== "at-max" || !usageBeyondTheMax(decision))
    return undefined;
  const bound = atMax.bound === "host-cap" ? "host cap" : "max";
  return {
    level: "warning",
    subject: `pool/${decision.pool}`,
    message: `scale up ${current} → ${desired} stops at the ${bound}: ${holdText(atMax, decision.pullRequest)}`,
    holds: [atMax],
  };
}

/**
 * One note naming the pending pods that add no node, for the pools whose explanation is no note
 * (a change is proposed, or cannot be written): without it they would be named only in a
 * proposal's reasons, while a pool with no change names them in its note. They are the pods no
 * new node of the pool would hold, those below its `expendablePriority`, and those left pending
 * beyond its max (or host cap). A pod a pool's note names already is not named again. Each line
 * is the explanation's: `pool workers: never fits: batch/x (cpu 3, memory 1 GiB): needs more cpu
 * than a new node has`, `pool workers: beyond max: 3 new nodes needed, 1 allowed (the max is
 * 4); left pending: batch/y, batch/z`. It is a warning when pods it names are left pending
 * beyond the max once they no longer wait for `scaleUp.pendingFor`, or wait on a label only
 * `newNode.labels` tells, as a pool's note is.
 */
function pendingNote(
  decisions: readonly NodeDecision[],
  explained: ReadonlySet<string>,
): PlanNote | undefined {
  const named = new Set(
    decisions
      .filter((decision) => explained.has(decision.pool))
      .flatMap((decision) => addingNoNode(decision)),
  );
  const proposed = decisions.filter((decision) => !explained.has(decision.pool));
  const lines = proposed
    .flatMap((decision) => pendingNoteLines(decision, named))
    .map((line) => `  ${line}`);
  if (lines.length === 0) return undefined;
  // Pods left beyond the max still wait once the change is made, as at a pool's max with no
  // change: a warning by the same rule, for the pods this note is the first to name.
  const leftWaiting = proposed.some(
    (decision) =>
      (leftPendingAtTheMax(decision) &&
        decision.pending.overMax.some((pod) => !named.has(pod.pod))) ||
      waitOnNewNodeLabels(decision, named),
  );
  return {
    level: leftWaiting ? "warning" : "info",
    subject: "pods",
    message: ["pending pods that add no node:", ...lines].join("\n"),
  };
}

/** The pending pods the decision says add no node: never fitting, expendable, beyond max. */
function addingNoNode(decision: NodeDecision): string[] {
  const { neverFit, expendable, overMax } = decision.pending;
  return [...neverFit, ...expendable, ...overMax].map((pod) => pod.pod);
}

/** The decision's lines for the pending note, leaving out the pods in `named`. */
function pendingNoteLines(decision: NodeDecision, named: ReadonlySet<string>): string[] {
  const { neverFit, expendable, overMax } = decision.pending;
  const fresh = <T extends { pod: string }>(pods: readonly T[], texts: readonly string[]) =>
    pods.flatMap((pod, i) => (named.has(pod.pod) ? [] : [texts[i] as string]));
  const beyond = overMaxLine(
    decision,
    overMax.map((pod) => pod.pod).filter((pod) => !named.has(pod)),
  );
  return [
    ...fresh(neverFit, neverFitLines(decision)),
    ...fresh(expendable, expendableLines(decision)),
    ...(beyond ? [beyond] : []),
  ].map((line) => `pool ${decision.pool}: ${line}`);
}

/**
 * Holds that something is wrong rather than waiting: a count that cannot be read, nodes that
 * failed to join or to go, too many nodes not Ready, a cluster read only in part, pools that
 * claim the same nodes, a history that cannot be read. A note about them is a warning, not a
 * quiet "no change".
 */
const NEEDS_A_PERSON = new Set<Hold["kind"]>([
  "target-unknown",
  "provisioning-failed",
  "too-many-unready",
  "snapshot-incomplete",
  "pools-overlap",
  "history-unknown",
]);

/**
 * Whether a hold on the decision says something is wrong (one of the kinds above), not that it
 * waits for a time or for nodes to come: what it holds cannot be vouched for until it clears.
 */
export function heldByAProblem(decision: NodeDecision): boolean {
  return decision.holds.some((hold) => NEEDS_A_PERSON.has(hold.kind));
}

/**
 * Whether the decision waits on a person: a hold of that kind, a pool above its max whose node
 * to remove cannot be told (a name template that names no node) or has a blocker other than a
 * budget allowing no disruption now, which no time resolves, or
 * pods a new node would take left pending at the max or the host cap (cluster-autoscaler's "max
 * node group size reached"): only a person raising the bound, or making room, lets them run;
 * or usage that asks for more nodes than that bound allows, by the same rule (the pool is
 * saturated and only a person can let it grow);
 * or pods waiting for a node whose size is unknown (`newNode` unset in a pool with no node), or
 * whose fit turns on a label the pool's nodes carry with different values (`newNode.labels`).
 * Not while they wait for `scaleUp.pendingFor`: a pod pending for seconds is no warning yet.
 */
function needsAPerson(decision: NodeDecision): boolean {
  if (heldByAProblem(decision)) return true;
  if (leftPendingAtTheMax(decision)) return true;
  if (usageBeyondTheMax(decision)) return true;
  // Pods wait for a node whose size only the config (newNode) or a readable DaemonSet list tells.
  if (decision.holds.some((hold) => hold.kind === "shape-unknown")) return true;
  // So do pods whose fit turns on a label the pool's nodes carry with different values: only
  // newNode.labels tells a new node's. An extended resource a node does not report yet clears
  // by itself once its device plugin registers.
  if (waitOnNewNodeLabels(decision)) return true;
  // A GPU a node's label says it has that it has not advertised by provisionTimeout after it
  // became Ready: its device plugin or driver may have failed.
  if (decision.nodes.gpuComing?.some((gpu) => gpu.late)) return true;
  // A node long not Ready that no decrease removes holds every removal until a person acts.
  if (decision.holds.some((hold) => hold.kind === "nodes-unready" && hold.stuck)) return true;
  // With scale-down off, one stays for good.
  if (decision.scaleDown.unready) return true;
  // So does one the min keeps (a window's, say): it counts toward the min with no room to give.
  if (
    decision.scaleDown.conditions.some(
      (condition) => condition.kind === "above-min" && condition.unready !== undefined,
    )
  )
    return true;
  const aboveMax = decision.triggers.some((trigger) => trigger.kind === "above-max");
  const noCandidate = decision.scaleDown.conditions.some(
    (condition) => condition.kind === "candidate" && !condition.met,
  );
  // A blocker no time lifts (the node's annotation, a pod no controller makes again, local
  // storage, `safe-to-evict: "false"`, a budget that allows too few disruptions even with all of
  // its pods healthy…) keeps the count above the max until a person acts; a budget that allows
  // enough once its pods are healthy again may let the node go without one.
  const lastingBlocker = decision.scaleDown.conditions.some(
    (condition) =>
      condition.kind === "no-blockers" &&
      !condition.met &&
      condition.blockers.some((blocker) => !liftedByHealth(blocker) && !liftedByTime(blocker)),
  );
  // Above the max with scale-down off, nothing will ever lower the count but a person.
  return aboveMax && (noCandidate || lastingBlocker || !decision.scaleDown.enabled);
}

/**
 * Whether pending pods' fit on a new node turns on a label or a topology key the pool's nodes
 * carry with different values, which no time resolves: they wait (and hold back removals for low
 * usage, hold `pending-fit-unknown`) until a person sets `newNode.labels`.
 */
function waitOnNewNodeLabels(
  decision: NodeDecision,
  named: ReadonlySet<string> = new Set(),
): boolean {
  return decision.pending.neverFit.some(
    (pod) =>
      !named.has(pod.pod) && (pod.reason === "label-unknown" || pod.reason === "topology-unknown"),
  );
}

/**
 * Whether a budget's blocker goes once the budget's pods are healthy: it would then allow
 * disruptions enough for the node's pods. Unknown (a status without `expectedPods`) is not.
 */
function liftedByHealth(blocker: DrainBlocker): boolean {
  const { pdb } = blocker;
  return (
    blocker.kind === "pdb" && pdb?.whenHealthy !== undefined && pdb.whenHealthy >= pdb.podsOnNode
  );
}

/** A `do-not-disrupt` set to a duration: it runs out by itself. */
function liftedByTime(blocker: DrainBlocker): boolean {
  return blocker.kind === "do-not-disrupt" && blocker.until !== undefined;
}

/**
 * Whether pods a new node would take are left pending beyond the max or the host cap, once they
 * no longer wait for `scaleUp.pendingFor`: they wait until a person raises the bound.
 */
function leftPendingAtTheMax(decision: NodeDecision): boolean {
  const waiting = decision.holds.some((hold) => hold.kind === "pending-wait");
  return decision.pending.overMax.length > 0 && !waiting;
}

/**
 * Whether usage asks for more nodes than the max or the host cap allows (hold `at-max`): the
 * utilisation held above its scale-up threshold for `scaleUp.window`, or requests above
 * `scaleUp.requests`, that the nodes up to the bound do not bring below it. Like pods left
 * pending there, it lasts until a person raises the bound or the load drops.
 */
function usageBeyondTheMax(decision: NodeDecision): boolean {
  const { current } = decision;
  const atMax = decision.holds.find((hold) => hold.kind === "at-max");
  if (current === undefined || atMax?.kind !== "at-max") return false;
  return decision.triggers.some(
    (trigger) =>
      (trigger.kind === "utilisation" || trigger.kind === "requests") &&
      current + trigger.newNodes > atMax.allowed,
  );
}

function nodeProposal(
  decision: NodeDecision,
  text: string,
  from: number,
  to: number,
): NodeProposal {
  const { file, path } = decision.target;
  const options = targetEditOptions(decision.target);
  const before = readValue(text, path, file, options);
  // Pulumi config keeps numbers as strings: write the new count in the type the file holds.
  const after = typeof before === "string" ? String(to) : to;
  return {
    kind: "nodes",
    key: `nodes-${decision.pool}`,
    pool: decision.pool,
    from,
    to,
    direction: to > from ? "up" : "down",
    changes: [{ ...decision.target, before, after }],
    edits: [{ file, before: text, after: editValue(text, path, after, file, options) }],
    reasons: explainNodeDecision(decision),
    decision,
  };
}
