import { listing } from "../util/listing.ts";
import { agreeing, counted } from "../util/plural.ts";
import { utcTime } from "../util/utc-time.ts";
import { type DrainBlocker, GENERIC_EPHEMERAL_LABEL } from "./blockers.ts";
import { maxBound } from "./bounds.ts";
import {
  formatCompared,
  formatCpu,
  formatDuration,
  formatExtended,
  formatMemory,
  formatMemoryApart,
  formatPercent,
} from "./format.ts";
import type { GpuComing } from "./gpu-coming.ts";
import { lastNodeStaysText } from "./last-node.ts";
import type {
  BoundsReport,
  BulkProjection,
  BulkRemovalReport,
  BulkStop,
  Hold,
  NodeDecision,
  OutsidePlacement,
  OutsideTaken,
  PullRequestCloseReason,
  RequestsCheck,
  ScaleDownCondition,
  Trigger,
  UncountedNode,
  UncoveredCheck,
} from "./node-decision.ts";
import type { NodeShape } from "./node-shape.ts";
import {
  type DeletingPod,
  fitUnknown,
  type KeptOff,
  type NeverFitPod,
  newNodeNumber,
  type PendingPod,
  type PendingReport,
  type PodPlacement,
  type UnplacedCause,
  type UnplacedReport,
  type VolumeLimitDetail,
} from "./packing.ts";
import { scaleDownConsidered } from "./scale-down-refusal.ts";
import { HOSTNAME_LABEL } from "./topology-domain.ts";
import type { ResourceUtilisation, SustainedCheck, WindowShortfall } from "./utilisation.ts";
import { windowKept } from "./window-kept.ts";

/**
 * The decision as text lines: a headline, then indented lines for the pull request, nodes,
 * bounds, new node shape, utilisation, triggers, what refused a wanted scale-down, pending pods,
 * holds, scale-up checks, scale-down conditions and blockers. The PR body, the CLI and the logs
 * all render these same lines.
 */
export function explainNodeDecision(decision: NodeDecision): string[] {
  const lines = [headline(decision)];
  const add = (text: string) => lines.push(`  ${text}`);
  const pr = pullRequestLine(decision);
  if (pr) add(pr);
  add(nodesLine(decision));
  add(boundsLine(decision.bounds));
  if (decision.nodes.shape) add(shapeLine(decision.nodes.shape, asksForDisk(decision)));
  for (const gpu of decision.nodes.gpuComing ?? []) add(gpuComingText(gpu));
  add(utilisationLine(decision));
  for (const trigger of decision.triggers) add(`trigger: ${triggerText(trigger)}`);
  const refusedBy = decision.scaleDown.refusedBy ?? [];
  if (refusedBy.length > 0) add(`not removed: ${refusedBy.map(refusalText).join("; ")}`);
  for (const line of pendingLines(decision)) add(line);
  for (const hold of decision.holds) add(`hold: ${holdText(hold, decision.pullRequest)}`);
  for (const check of decision.utilisation.checks.filter((c) => c.direction === "above"))
    add(`scale-up check: ${checkText(check)}`);
  for (const check of decision.utilisation.requestsChecks ?? [])
    add(`scale-up check: ${requestsCheckText(check)}`);
  // While more nodes are wanted, why none could be removed is beside the point.
  if (scaleDownConsidered(decision)) for (const line of scaleDownLines(decision)) add(line);
  for (const entry of decision.blockers)
    if (entry.blockers.length > 0)
      add(`blockers on ${entry.node}: ${entry.blockers.map(blockerText).join("; ")}`);
  return lines;
}

function scaleDownLines(decision: NodeDecision): string[] {
  const aboveMax = decision.triggers.find((trigger) => trigger.kind === "above-max");
  // Conditions read "met" though nothing will act on them: say only that removal is off.
  if (!decision.scaleDown.enabled)
    return [
      aboveMax
        ? `scale-down: off (scaleDown.enabled is false): no node is removed, so the count stays above the ${aboveMax.kind === "above-max" && aboveMax.bound === "host-cap" ? "host cap" : "max"} until it is lowered by hand`
        : `scale-down: off (scaleDown.enabled is false): no node is removed${unreadyStayText(decision.scaleDown.unready)}`,
    ];
  const lines: string[] = [];
  const unready = decision.triggers.find((trigger) => trigger.kind === "unready-node");
  if (aboveMax?.kind === "above-max")
    lines.push(
      `scale-down: above the ${aboveMax.bound === "host-cap" ? "host cap" : "max"} ${aboveMax.current - aboveMax.max > 1 ? FORCED_RUN : FORCED_REMOVAL}`,
    );
  else if (unready?.kind === "unready-node")
    lines.push(
      `scale-down: ${unready.node}, not Ready for longer than ${formatDuration(unready.unreadyTimeMs)} (scaleDown.unreadyTime), ${UNREADY_REMOVAL}`,
    );
  for (const condition of decision.scaleDown.conditions)
    lines.push(`scale-down: ${conditionText(condition, decision.action, aboveMax !== undefined)}`);
  if (decision.scaleDown.bulk)
    lines.push(`scale-down: ${bulkText(decision.scaleDown.bulk, decision)}`);
  const bulkProjection = decision.scaleDown.bulk?.projection?.at(-1);
  if (bulkProjection && bulkProjection.length > 0)
    lines.push(
      `scale-down: ${bulkProjectionText(decision.scaleDown.bulk?.nodes ?? [], bulkProjection)}`,
    );
  return lines;
}

/**
 * What usage still decides of a removal it does not ask for: whether empty nodes go with it,
 * which by default (maxEmptyBulk 1) none do.
 */
const WITH_EMPTY =
  "(usage and requests decide only whether empty nodes go with it, up to scaleDown.maxEmptyBulk in all)";

/** Said of a removal above the max or the host cap, which usage neither asks for nor stops. */
const FORCED_REMOVAL = `the bounds decide, not usage: the node goes when nothing blocks it and its pods fit elsewhere ${WITH_EMPTY}`;

/**
 * Said of a count more than one node above the max or the host cap: one decrease comes down to
 * it, as far as its nodes can go.
 */
const FORCED_RUN =
  "the bounds decide, not usage: the nodes down to it go in one decrease, each when nothing blocks it and its pods fit elsewhere with those of the nodes before it (usage and requests decide only whether empty nodes go beyond it, up to scaleDown.maxEmptyBulk in all)";

/** Said of a node not Ready for `scaleDown.unreadyTime`, which goes whatever the usage. */
const UNREADY_REMOVAL = `goes whatever the usage when nothing blocks it and its pods fit elsewhere ${WITH_EMPTY}`;

function headline(decision: NodeDecision): string {
  const where = `${decision.target.file} ${decision.target.path}`;
  const head = `pool ${decision.pool} (${where})`;
  if (decision.current === undefined) return `${head}: no change (current count unknown)`;
  if (decision.action === "scale-up")
    return `${head}: scale up ${decision.current} → ${decision.desired}`;
  if (decision.action === "scale-down")
    return `${head}: scale down ${decision.current} → ${decision.desired}, removing ${(decision.removing ?? [decision.removes]).join(", ")}`;
  return `${head}: no change at ${decision.current}`;
}

function pullRequestLine(decision: NodeDecision): string | undefined {
  const { action, number } = decision.pullRequest;
  switch (action) {
    case "open":
      return "pull request: open a new one";
    case "update":
      return `pull request: update #${number} to ${decision.desired}`;
    case "close":
      if (decision.pullRequest.closes)
        return `pull request: close #${number}, ${closeReasonText(decision.pullRequest.closes)}`;
      // Closed while something holds the pool: a change may still come, just not that one.
      return decision.holds.length > 0
        ? `pull request: close #${number}, its change is not wanted any more`
        : `pull request: close #${number}, no change is wanted any more`;
    case "leave":
      return `pull request: leave #${number} as it is while held`;
    case "none":
      return undefined;
  }
}

/**
 * Why an open pull request closes whatever holds the pool: `the count changed under it: it changes
 * 3 → 4, and the default branch has 5 now, …`, `its count of 6 is above the max of 4 now, …`,
 * `its removal of talos-worker-3 would leave default/web without room`. The
 * plan says `it` after the pull request's number; the comment that closes it names it (`this pull
 * request`), in the same words.
 */
export function closeReasonText(
  reason: PullRequestCloseReason,
  pullRequest: "it" | "this pull request" = "it",
): string {
  if (reason.kind === "count-changed") {
    const change =
      reason.desired === undefined
        ? `was made on a count of ${reason.from}`
        : `changes ${reason.from} → ${reason.desired}`;
    return `the count changed under ${pullRequest}: it ${change}, and the default branch has ${reason.current} now, so it no longer applies`;
  }
  const its = pullRequest === "it" ? "its" : `${pullRequest}'s`;
  if (reason.kind === "pods-stranded") {
    const unknown = reason.unknown ?? [];
    const parts = [
      ...(reason.pods.length > 0 ? [`leave ${podsNamed(reason.pods)} without room`] : []),
      ...(unknown.length > 0
        ? [`move ${podsNamed(unknown)}, whose fit on the other nodes is unknown`]
        : []),
    ];
    return `${its} removal of ${listing(reason.nodes)} would ${parts.join(", and ")}`;
  }
  const bound =
    reason.bound === "min"
      ? `below the min of ${reason.limit}${scheduleText({ min: reason.limit, ...reason })}`
      : `above the ${reason.bound === "host-cap" ? "host cap" : "max"} of ${reason.limit}`;
  return `${its} count of ${reason.desired} is ${bound} now, so it no longer applies`;
}

/** Pods by name, the first three of more than four with how many more: `a, b, c and 5 more pods`. */
function podsNamed(pods: readonly string[]): string {
  if (pods.length <= 4) return listing(pods);
  return `${pods.slice(0, 3).join(", ")} and ${pods.length - 3} more pods`;
}

function nodesLine(decision: NodeDecision): string {
  const { members, ready, unready, cordoned } = decision.nodes;
  let text = `nodes: ${members} in the pool, ${ready} Ready`;
  if (unready.length > 0) text += `; not Ready: ${unready.join(", ")}`;
  if (cordoned.length > 0) text += `; cordoned: ${cordoned.join(", ")}`;
  return text;
}

function boundsLine(bounds: BoundsReport): string {
  let text = `bounds: min ${bounds.min}, max ${bounds.max}`;
  if (bounds.hostCap !== undefined) {
    const parts = bounds.hostCapParts.map((part) =>
      part.kind === "max-nodes" ? `maxNodes ${part.nodes}` : hostCapPartText(part),
    );
    text += `, host cap ${bounds.hostCap} (${parts.join("; ")})`;
  }
  for (const schedule of bounds.schedules.filter((s) => s.active))
    text += `; schedule ${schedule.name} active until ${utcTime(schedule.endsAt)}: min ${schedule.min}`;
  if (bounds.effectiveMin !== bounds.min || bounds.effectiveMax !== bounds.max)
    text += `; in effect ${bounds.effectiveMin}..${bounds.effectiveMax}`;
  return text;
}

/** `memory ⌊(64 GiB − 8 GiB reserved) / 16 GiB⌋ = 3`: nodes of that size the host holds. */
function hostCapPartText(part: BoundsReport["hostCapParts"][number]): string {
  const kind = part.kind === "memory" ? "memory" : "cpu";
  const host = amount(kind, part.host ?? 0);
  const free = part.reserved ? `(${host} − ${amount(kind, part.reserved)} reserved)` : host;
  return `${kind} ⌊${free} / ${amount(kind, part.perNode ?? 0)}⌋ = ${part.nodes}`;
}

/** Whether a pending pod the decision lists asks for ephemeral storage, which then decides too. */
function asksForDisk(decision: NodeDecision): boolean {
  const { onExisting, onNew, neverFit, overMax } = decision.pending;
  return [...onExisting, ...onNew, ...neverFit, ...overMax].some((pod) => pod.ephemeralStorage);
}

/**
 * A Ready node whose label says it has a GPU it does not advertise yet: counted on until
 * `provisionTimeout` after its Ready time, as its device plugin registers it a minute or two
 * after a reboot; past that (or with no Ready time), not, and a person should look.
 */
function gpuComingText(gpu: GpuComing): string {
  const lacks = `${gpu.node} is labelled ${gpu.label} but advertises no ${gpu.resource}`;
  if (!gpu.late)
    return `GPU on its way: ${lacks} yet, Ready since ${utcTime(gpu.since)}: counted on for ${formatExtended(gpu.resource, gpu.amount ?? 1)} ${gpu.resource} once its device plugin registers it, until ${utcTime(gpu.until)} (provisionTimeout after it became Ready); pending pods that need it wait for it and add no node meanwhile`;
  const notCounted =
    "it is not counted on: pending pods that need it look for it on other nodes or a new one";
  if (gpu.since === undefined || gpu.until === undefined)
    return `GPU not advertised: ${lacks} and gives no Ready time (no lastTransitionTime on its Ready condition): ${notCounted}`;
  const waited = formatDuration(Date.parse(gpu.until) - Date.parse(gpu.since));
  return `GPU not advertised: ${lacks}, ${waited} or more after it became Ready at ${utcTime(gpu.since)} (provisionTimeout): its device plugin or driver may have failed; ${notCounted}`;
}

/** The new node's allocatable; its ephemeral storage when `disk`, as pending pods ask for some. */
function shapeLine(shape: NodeShape, disk: boolean): string {
  const a = shape.allocatable;
  let text = `new node: ${formatCpu(a.cpu ?? 0)} cpu, ${formatMemory(a.memory ?? 0)} memory, ${a.pods === undefined ? "pods unknown" : counted(a.pods, "pod")}`;
  if (disk && a.ephemeralStorage !== undefined)
    text += `, ${formatMemory(a.ephemeralStorage)} ephemeral storage`;
  for (const [name, amount] of Object.entries(a.extended ?? {}))
    if (amount > 0) text += `, ${formatExtended(name, amount)} ${name}`;
  for (const name of shape.unknownExtended ?? []) text += `, ${name} unknown`;
  if (shape.learnedFrom)
    text += ` (${shape.source}, ${shape.learnedFrom.rule} allocatable, like ${shape.learnedFrom.node}${shape.learnedFrom.alike > 1 ? ` and ${counted(shape.learnedFrom.alike - 1, "other")}` : ""}${leastText(shape.learnedFrom)})`;
  else text += ` (${shape.source})`;
  const ds = shape.daemonSetOverhead;
  if (ds.pods > 0) text += `; ${startupPodsText(ds)}`;
  if (ds.pods > 0 && shape.daemonSetsFrom === "cluster")
    text += " (the cluster's DaemonSets whose pods admit a new node: the pool has no Ready node)";
  return text;
}

/**
 * `, but for the cpu of talos-worker-2, the least in the pool`: what a new node is counted on
 * for beside the node it is like, when the shapes the rule leaves differ each their own way.
 */
function leastText(learnedFrom: NonNullable<NodeShape["learnedFrom"]>): string {
  const taken = Object.entries(learnedFrom.least ?? {});
  if (taken.length === 0) return "";
  const parts = taken.map(
    ([resource, node]) =>
      `the ${resource === "ephemeralStorage" ? "ephemeral storage" : resource} of ${node}`,
  );
  const among =
    learnedFrom.rule === "smallest"
      ? "the least in the pool"
      : "the least among the allocatables as many nodes share";
  return `, but for ${parts.join(" and ")}, ${among}`;
}

/**
 * ` free once its DaemonSets run (3700m of 3800m)`, when the pods a new node starts on its own
 * take some of `resources`: a pod a little smaller than a node is otherwise said to need more than
 * it has. With several, each is named: `(cpu 3550m of 3800m, memory 14.8 GiB of 15.2 GiB)`;
 * extended resources too (`nvidia.com/gpu 0 of 1`, hugepages as memory). Where one decimal
 * prints the pod's request and the room alike, both take the decimals that tell them apart:
 * `(15.120983 GiB of 15.2 GiB against its request of 15.120984 GiB)`. When none of them takes
 * any, the pod's request beside what a new node has (`askedAndHad`).
 */
function besideStartupPods(
  shape: NodeShape,
  resources: readonly string[],
  pod: PendingPod,
): string {
  const ds = shape.daemonSetOverhead;
  const a = shape.allocatable;
  const bytes = (name: string) =>
    name === "memory" || name === "ephemeral-storage" || name.startsWith("hugepages-");
  const amounts: Record<string, [number | undefined, number | undefined, (n: number) => string]> = {
    cpu: [a.cpu, ds.cpu, formatCpu],
    memory: [a.memory, ds.memory, formatMemory],
    pods: [a.pods, ds.pods, String],
    "ephemeral-storage": [a.ephemeralStorage, ds.ephemeralStorage, formatMemory],
  };
  // Extended resources (GPUs, hugepages) read as the pod's own request does; one a new node
  // does not list it has none of, as the scheduler reads it (the pod was judged too large so).
  const amountsOf = (name: string) =>
    amounts[name] ??
    ([
      a.extended?.[name] ?? 0,
      ds.extended?.[name],
      (n: number) => formatExtended(name, n),
    ] as const);
  const requested: Record<string, number | undefined> = {
    cpu: pod.cpu,
    memory: pod.memory,
    pods: 1,
    "ephemeral-storage": pod.ephemeralStorage,
  };
  const known = resources.flatMap((resource) => {
    const [allocatable, taken, format] = amountsOf(resource);
    const need = resource in requested ? requested[resource] : pod.extended?.[resource];
    return allocatable === undefined ? [] : [{ resource, allocatable, taken, format, need }];
  });
  if (!known.some((entry) => entry.taken)) return askedAndHad(known, bytes);
  const free = known.map(({ resource, allocatable, taken, format, need }) => {
    const left = allocatable - (taken ?? 0);
    // One decimal may print the request and the room alike (15.1 GiB against 15.1 GiB): then
    // both read with the decimals that tell them apart.
    const apart =
      bytes(resource) && need !== undefined && need > left
        ? formatMemoryApart(need, left)
        : undefined;
    const room = `${apart?.have ?? format(left)} of ${format(allocatable)}`;
    return `${known.length > 1 ? `${resource} ` : ""}${room}${apart ? ` against its request of ${apart.need}` : ""}`;
  });
  return ` free once its ${startupWho(ds)} run (${free.join(", ")})`;
}

/**
 * ` (asks for 2 nvidia.com/gpu, a new node has 1)`, when no pod a new node starts on its own
 * takes the resources the pod asks too much of: its request beside what a new node has. With
 * several: `(asks for 6 cpu and 24 GiB memory, a new node has 3800m cpu and 15.2 GiB memory)`.
 * Nothing when a request is not known.
 */
function askedAndHad(
  known: readonly {
    resource: string;
    allocatable: number;
    format: (n: number) => string;
    need: number | undefined;
  }[],
  bytes: (name: string) => boolean,
): string {
  if (known.length === 0 || known.some((entry) => entry.need === undefined)) return "";
  const asked: string[] = [];
  const had: string[] = [];
  for (const { resource, allocatable, format, need = 0 } of known) {
    // One decimal may print the request and what a node has alike: both take more then.
    const apart = bytes(resource) ? formatMemoryApart(need, allocatable) : undefined;
    const [request, room] = [apart?.need ?? format(need), apart?.have ?? format(allocatable)];
    asked.push(resource === "pods" ? counted(need, "pod") : `${request} ${resource}`);
    // One resource is named once, after the request.
    had.push(
      known.length === 1
        ? room
        : resource === "pods"
          ? counted(allocatable, "pod")
          : `${room} ${resource}`,
    );
  }
  return ` (asks for ${asked.join(" and ")}, a new node has ${had.join(" and ")})`;
}

function startupWho(ds: NodeShape["daemonSetOverhead"]): string {
  return ds.staticPods === undefined
    ? "DaemonSets"
    : ds.staticPods === ds.pods
      ? "static pods"
      : "DaemonSets and static pods";
}

/** `DaemonSets take 100m cpu, 128 MiB, 1 pod`, naming static pods and other resources when some. */
function startupPodsText(ds: NodeShape["daemonSetOverhead"]): string {
  let text = `${startupWho(ds)} take ${formatCpu(ds.cpu)} cpu, ${formatMemory(ds.memory)}`;
  if (ds.ephemeralStorage) text += `, ${formatMemory(ds.ephemeralStorage)} ephemeral storage`;
  for (const [name, amount] of Object.entries(ds.extended ?? {}))
    text += `, ${formatExtended(name, amount)} ${name}`;
  return `${text}, ${counted(ds.pods, "pod")}`;
}

/**
 * The pool's usage and requests, naming the Ready nodes left out because they are cordoned: the
 * figures are of the nodes that take new pods.
 */
function utilisationLine(decision: NodeDecision): string {
  const { cpu, memory } = decision.utilisation;
  const { cordoned, unready } = decision.nodes;
  const left = cordoned.filter((name) => !unready.includes(name));
  const text = `utilisation: ${resourceText(cpu)}; ${resourceText(memory)}`;
  return left.length === 0
    ? text
    : `${text} (of the Ready nodes that take pods: cordoned ${left.join(", ")} left out)`;
}

function resourceText(u: ResourceUtilisation): string {
  const requests = u.requestsPercent === undefined ? "unknown" : formatPercent(u.requestsPercent);
  if (u.percent === undefined)
    return `${u.resource} ${unknownText(u.unknownNodes, u.unknownAllocatable)}, requests ${requests}`;
  let text = `${u.resource} ${formatPercent(u.percent)}`;
  if (u.windowSeconds) text += ` (${u.source} over ${formatDuration(u.windowSeconds * 1000)}`;
  if (u.windowSeconds && u.lowPercent !== undefined)
    text += `, lowest ${formatPercent(u.lowPercent)}`;
  if (u.windowSeconds && u.peakPercent !== undefined)
    text += `, p${u.percentile} ${formatPercent(u.peakPercent)}`;
  if (u.windowSeconds) text += ")";
  return `${text}, requests ${requests}`;
}

/** A trigger as the explanation words it. */
export function triggerText(trigger: Trigger): string {
  switch (trigger.kind) {
    case "below-min":
      return `count ${trigger.current} is below the min of ${trigger.min}${scheduleText(trigger)}`;
    case "pending-pods":
      return `${counted(trigger.pods, "pending pod")} ${agreeing(trigger.pods, "needs", "need")} ${counted(trigger.newNodes, "new node")}`;
    case "utilisation":
      return `${trigger.resource} ${formatCompared(trigger.percent, trigger.threshold, "≥")} ≥ ${trigger.threshold} % for ${formatDuration(trigger.windowMs)} (${trigger.basis}): ${counted(trigger.newNodes, "new node")}`;
    case "requests":
      return `${trigger.resource} requests ${formatCompared(trigger.percent, trigger.threshold, "≥")} ≥ ${trigger.threshold} %: ${counted(trigger.newNodes, "new node")}`;
    case "above-max":
      return `count ${trigger.current} is above the ${trigger.bound === "host-cap" ? "host cap" : "max"} of ${trigger.max}`;
    case "unready-node":
      return `${trigger.node} has not been Ready for ${formatDuration(trigger.notReadyForMs)} (since ${utcTime(trigger.since)}), more than ${formatDuration(trigger.unreadyTimeMs)} (scaleDown.unreadyTime): it goes whatever the usage`;
    case "underutilised":
      return "usage and requests stayed below the scale-down thresholds";
  }
}

/**
 * The pending pods no new node of the pool would hold, one line each as the explanation words
 * them: `never fits: batch/x (cpu 3, memory 1 GiB): needs more cpu than a new node has`. A pod
 * whose fit rests on something unknown is not said never to fit (`fit unknown: …`): unknown is
 * not "no".
 */
export function neverFitLines(decision: NodeDecision): string[] {
  return decision.pending.neverFit.map(
    (pod) =>
      `${fitUnknown(pod.reason) ? "fit unknown" : "never fits"}: ${podText(pod)}: ${neverFitText(pod, decision.nodes.shape)}`,
  );
}

function pendingLines(decision: NodeDecision): string[] {
  const pending = decision.pending;
  if (!pending.enabled) return ["pending pods: not considered (scaleUp.pendingPods is false)"];
  // With the pod list read in part, pending pods not read are not counted, and pods not read may
  // hold the room a pending pod was placed in: where they go is not a fact.
  const unread = pending.unread
    ? `pending pods: ${listsNotReadText(pending.unread)}: pending pods it would show are not counted, and pods it would show may hold the room counted as free on existing nodes`
    : undefined;
  if (pending.considered === 0) return unread ? [unread] : [];
  const lines = [
    `pending pods: ${pending.considered} considered, ${pending.onExisting.length} ${agreeing(pending.onExisting.length, "fits", "fit")} free room on existing nodes, ${pending.onNew.length} ${agreeing(pending.onNew.length, "goes", "go")} on ${newNodesText(decision)}${newNodeVolumesText(pending)}`,
    ...(unread ? [unread] : []),
  ];
  for (const placed of pending.onExisting)
    lines.push(
      `pending: ${podText(placed)} fits on ${placed.node}${awaitedGpuText(placed)}${pending.unread ? " as far as the pods read show" : ""}`,
    );
  for (const placed of pending.onNew)
    lines.push(
      `pending: ${podText(placed)} → ${placed.node}${awaitedNodeText(decision, placed.node)}${placed.keptOff ? ` (${keptOffText(placed.keptOff)})` : ""}`,
    );
  for (const pod of pending.elsewhere ?? [])
    lines.push(`pending: ${podText(pod)} → pool ${pod.pool}${elsewhereText(pod, decision)}`);
  lines.push(...neverFitLines(decision), ...expendableLines(decision));
  const beyond = overMaxLine(decision);
  if (beyond) lines.push(beyond);
  return lines;
}

/**
 * ` (a new node attaches 1 volume of csi.proxmox.sinextra.dev, the least the pool's nodes'
 * CSINodes allow)`: the count the pods that go on new nodes were packed within.
 */
function newNodeVolumesText(pending: PendingReport): string {
  const limits = pending.newNodeVolumeLimits ?? [];
  if (limits.length === 0) return "";
  const counts = limits.map(({ driver, limit }) => `${counted(limit, "volume")} of ${driver}`);
  return ` (a new node attaches ${listing(counts)}, the least the pool's nodes' CSINodes allow)`;
}

/** ` once its nvidia.com/gpu is advertised`: the pod waits for a GPU on its way there. */
export function awaitedGpuText(placed: PodPlacement): string {
  const awaits = placed.awaits ?? [];
  return awaits.length > 0
    ? ` once its ${awaits.join(" and ")} ${agreeing(awaits.length, "is", "are")} advertised`
    : "";
}

/**
 * Why no existing node takes a pod that goes on a new node, as the scheduler counts its nodes,
 * the reason of the most nodes first: `existing nodes: talos-worker-1 and 2 more have too little
 * cpu free; talos-cp-1 has room but a taint it does not tolerate keeps it off`. The scale-up
 * pull request's pending-pods table gives it too.
 */
export function keptOffText(kept: KeptOff): string {
  if (kept.volumeLimit)
    return kept.nodes === 1
      ? "the existing node is at its volume limit"
      : "existing nodes are at their volume limit";
  const which = (node: string, nodes: number) =>
    nodes === 1 ? `${node} has` : `${node} and ${nodes - 1} more have`;
  // A cordon is the node's, not a rule of the pod's: kube-scheduler says `node(s) were
  // unschedulable`.
  // Nodes short of room too are counted under the rule the scheduler checks first, and said
  // without their room: `talos-cp-1 has a taint it does not tolerate`.
  const ruled = (kept.rules ?? []).map((rule) => ({
    nodes: rule.nodes,
    text: rule.tooLittleRoom
      ? ruledBeforeRoomText(rule.cause, rule.node, rule.nodes)
      : rule.cause === "unschedulable"
        ? `${which(rule.node, rule.nodes)} room but ${rule.nodes === 1 ? "is" : "are"} cordoned (unschedulable)`
        : `${which(rule.node, rule.nodes)} room but ${keptOffRuleText(rule.cause)} keeps it off${deletingText(rule.deleting)}`,
    cause: rule.cause,
  }));
  // A node not Ready has the `node.kubernetes.io/not-ready` (or `unreachable`) taint: among equal
  // counts it is said after a cordon, which the scheduler checks first, and before other rules.
  const cordon = ruled.findIndex((part) => part.cause === "unschedulable");
  const parts: { nodes: number; text: string }[] = ruled;
  if (kept.notReady) {
    const { node, nodes } = kept.notReady;
    parts.splice(cordon + 1, 0, {
      nodes,
      text: nodes === 1 ? `${node} is not Ready` : `${node} and ${nodes - 1} more are not Ready`,
    });
  }
  // A Ready node whose room is unknown is offered nothing: said after those not Ready.
  if (kept.roomUnknown) {
    const { node, nodes } = kept.roomUnknown;
    parts.splice(cordon + (kept.notReady ? 2 : 1), 0, {
      nodes,
      text: `${which(node, nodes)} room not counted on (requests of ${nodes === 1 ? "its" : "their"} pods or allocatable unknown)`,
    });
  }
  if (kept.otherRules)
    parts.push({
      nodes: kept.otherRules,
      text: `${kept.otherRules} more ${agreeing(kept.otherRules, "has", "have")} room but other rules keep it off`,
    });
  if (kept.room) {
    const lacking = kept.room.resources ? lackingText(kept.room.resources) : "too little room";
    parts.push({
      nodes: kept.room.nodes,
      text: `${which(kept.room.node, kept.room.nodes)} ${lacking}${kept.room.afterOthers ? " once the pending pods placed before it take theirs" : ""}`,
    });
  }
  // Stable: among equal counts, the rules come first: nodes with room, or ruled out before room.
  const ordered = parts.sort((a, b) => b.nodes - a.nodes).map((part) => part.text);
  return `existing ${kept.nodes === 1 ? "node" : "nodes"}: ${ordered.join("; ")}`;
}

/**
 * `talos-cp-1 has a taint it does not tolerate`: nodes a rule kube-scheduler checks before room
 * keeps the pod off, some of them short of room as well, said without their room.
 */
function ruledBeforeRoomText(
  cause: NonNullable<KeptOff["rules"]>[number]["cause"],
  node: string,
  nodes: number,
): string {
  const subject = nodes === 1 ? node : `${node} and ${nodes - 1} more`;
  const one = nodes === 1;
  switch (cause) {
    case "unschedulable":
      return `${subject} ${one ? "is" : "are"} cordoned (unschedulable)`;
    case "taints":
      return `${subject} ${one ? "has" : "have"} a taint it does not tolerate`;
    case "node-selector":
      return `${subject} ${one ? "does" : "do"} not match its nodeSelector`;
    case "node-affinity":
      return `${subject} ${one ? "does" : "do"} not match its required node affinity`;
    case "host-ports":
      return `${subject} ${one ? "has" : "have"} a host port it asks for in use`;
    default:
      return `${keptOffRuleText(cause)} keeps it off ${subject}`;
  }
}

/**
 * ` (apps/web-7c9d8e6f5-old03 on talos-worker-3 is being deleted; it counts until gone)`: the
 * pods being deleted that alone keep a pod off nodes by required pod anti-affinity, which the
 * scheduler counts until they are gone (a rollout's old replica, say); empty when there are none.
 */
function deletingText(deleting: readonly DeletingPod[] | undefined): string {
  const seen = new Map((deleting ?? []).map((entry) => [entry.pod, entry.node]));
  if (seen.size === 0) return "";
  const pods = [...seen].map(([pod, node]) => `${pod} on ${node}`);
  return seen.size === 1
    ? ` (${pods[0]} is being deleted; it counts until gone)`
    : ` (${listing(pods)} are being deleted; they count until gone)`;
}

/**
 * What the nodes with too little room lack: `too little cpu and memory free`; a pod needs one pod
 * slot, so nodes short of pods have none free: `too little cpu free and no pod slot free`.
 */
function lackingText(resources: readonly string[]): string {
  const amounts = resources.filter((resource) => resource !== "pods");
  const parts = amounts.length > 0 ? [`too little ${amounts.join(" and ")} free`] : [];
  if (resources.includes("pods")) parts.push("no pod slot free");
  return parts.join(" and ");
}

/** The rule that keeps a pending pod off an existing node with room, as the subject of a clause. */
function keptOffRuleText(
  cause: Exclude<NonNullable<KeptOff["rules"]>[number]["cause"], "unschedulable">,
): string {
  switch (cause) {
    case "node-selector":
      return "its nodeSelector";
    case "node-affinity":
      return "its required node affinity";
    case "volume-node-affinity":
      return "the node affinity of a volume it mounts";
    case "taints":
      return "a taint it does not tolerate";
    case "label-unknown":
      return "a label whose value is not known";
    case "pod-affinity":
      return "its required pod affinity";
    case "pod-anti-affinity":
      return "required pod anti-affinity";
    case "namespaces-unknown":
      return "pod (anti-)affinity over namespaces whose labels are not known";
    case "topology-spread":
      return "a topology spread constraint (DoNotSchedule)";
    case "host-ports":
      return "a host port in use there";
    case "volume-limit":
      return "the node's count of CSI volumes";
    case "volume-limits-unknown":
      return "CSI volume limits that were not read";
  }
}

/**
 * Why a pod goes to another pool, when it is not that no new node of this pool could hold it:
 * this pool's max (or host cap) is reached, or a hold keeps it from any change (the hold says
 * which), so no node of its own takes the pod.
 */
function elsewhereText(
  pod: NonNullable<PendingReport["elsewhere"]>[number],
  decision: NodeDecision,
): string {
  if (pod.beyondMax) return ` (beyond this pool's ${boundReached(decision).name})`;
  return pod.held ? " (this pool takes no action)" : "";
}

/**
 * The pending pods below the pool's `expendablePriority`, one line each: `expendable: default/x
 * (cpu 1, memory 1 GiB): priority -10 is below the pool's expendablePriority of -5, so it waits
 * for room and adds no node`.
 */
export function expendableLines(decision: NodeDecision): string[] {
  return decision.pending.expendable.map(
    (pod) =>
      `expendable: ${podText(pod)}: priority ${pod.priority} is below the pool's expendablePriority of ${pod.below}, so it waits for room and adds no node`,
  );
}

/**
 * The pods left pending beyond the pool's max (or host cap), in one line with the nodes needed
 * and allowed; `pods` names some of them only (default: all). Undefined when there are none.
 */
export function overMaxLine(
  decision: NodeDecision,
  pods: readonly string[] = decision.pending.overMax.map((pod) => pod.pod),
): string | undefined {
  const { pending } = decision;
  if (pods.length === 0) return undefined;
  const bound = boundReached(decision);
  return `beyond ${bound.name}: ${counted(pending.neededNewNodes, "new node")} needed, ${pending.newNodes} allowed (the ${bound.name} is ${bound.value}); left pending: ${pods.join(", ")}`;
}

/**
 * `, a node the repo asks for that is joining` after `new-N` when it is one of the nodes the
 * count already asks for (the packing opens those first), so that a pod counted on a VM on its
 * way does not read as one that adds a node; nothing for a node the count does not ask for yet.
 */
function awaitedNodeText(decision: NodeDecision, node: string): string {
  const number = newNodeNumber(node);
  if (number === 0 || number > (decision.pending.awaited ?? 0)) return "";
  return provisioningFailed(decision)
    ? ", a node the repo asks for that did not join in time"
    : ", a node the repo asks for that is joining";
}

/** Whether the nodes the repo asks for were reported as not joining in time. */
function provisioningFailed(decision: NodeDecision): boolean {
  return decision.holds.some(
    (hold) => hold.kind === "provisioning-failed" && hold.state === "joining",
  );
}

/**
 * `3 nodes to come (2 joining, 1 new)`: the nodes the pending pods go on, naming those the repo
 * already asks for. Past `provisionTimeout` those are not joining: the provisioning-failed hold
 * says they did not come, and they are not said to be on their way.
 */
function newNodesText(decision: NodeDecision): string {
  const { awaited, newNodes } = decision.pending;
  if (!awaited) return counted(newNodes, "new node");
  return provisioningFailed(decision)
    ? `${counted(newNodes, "node")} (${awaited} the repo asks for that did not join in time, ${newNodes - awaited} new)`
    : `${counted(newNodes, "node")} to come (${awaited} joining, ${newNodes - awaited} new)`;
}

/**
 * The bound that stops the count, `max` or `host cap`, and its value: the at-max hold's when
 * there is one, else whichever of the two is lower.
 */
export function boundReached(decision: NodeDecision): { name: "max" | "host cap"; value: number } {
  const hold = decision.holds.find((h) => h.kind === "at-max");
  const bound = hold?.kind === "at-max" ? hold.bound : maxBound(decision.bounds);
  return bound === "host-cap"
    ? { name: "host cap", value: decision.bounds.hostCap ?? decision.bounds.effectiveMax }
    : { name: "max", value: decision.bounds.max };
}

function podText(pod: PendingPod): string {
  const cpu = pod.unknown?.includes("cpu") ? "unknown" : formatCpu(pod.cpu);
  const memory = pod.unknown?.includes("memory") ? "unknown" : formatMemory(pod.memory);
  const disk = pod.ephemeralStorage
    ? `, ephemeral-storage ${formatMemory(pod.ephemeralStorage)}`
    : "";
  const extended = Object.entries(pod.extended ?? {}).map(
    ([name, amount]) => `, ${name} ${formatExtended(name, amount)}`,
  );
  // Its place is the packing's judgement alone: the scheduler may yet find it other room.
  const unjudged = pod.judged === false ? "; not yet marked unschedulable by the scheduler" : "";
  return `${pod.pod} (cpu ${cpu}, memory ${memory}${disk}${extended.join("")}${unjudged})`;
}

/**
 * The scheduler's words and the claims that wait: `scheduler: pod has unbound immediate
 * PersistentVolumeClaims; claim data: it waits to be bound (StorageClass nfs binds at once)`. A
 * pod the scheduler has not tried yet has its claims alone.
 */
function volumesText(pod: NeverFitPod): string {
  const claims = (pod.claims ?? []).map((claim) => `claim ${claim.claim}: ${claim.why ?? "waits"}`);
  return [pod.volume === undefined ? [] : [`scheduler: ${pod.volume}`], claims].flat().join("; ");
}

function neverFitText(pod: NeverFitPod, shape: NodeShape | undefined): string {
  switch (pod.reason) {
    case "too-large": {
      const names = pod.resources ?? (pod.resource ? [pod.resource] : []);
      return `needs more ${names.join(" and ")} than a new node has${shape ? besideStartupPods(shape, names, pod) : ""}`;
    }
    case "node-selector":
      return "its nodeSelector asks for labels a new node of this pool would not have";
    case "node-affinity":
      return "its required node affinity does not match a new node of this pool";
    case "volume-node-affinity":
      return `the volume of its claim ${pod.claims?.[0]?.claim} is out of a new node's reach: the volume's node affinity (or its StorageClass's allowed topologies) does not match a new node of this pool`;
    case "unschedulable":
      return "a new node of this pool would be cordoned (unschedulable)";
    case "taints":
      return pod.taints && pod.taints.length > 0
        ? `it does not tolerate the ${pod.taints.length === 1 ? "taint" : "taints"} ${pod.taints.join(", ")}, which a new node of this pool would have`
        : "it does not tolerate the taints a new node of this pool would have";
    case "shape-unknown":
      return "what a new node offers is unknown";
    case "requests-unknown":
      return `its ${pod.resource} request could not be read (see the snapshot's warnings): what it needs is unknown, not zero`;
    case "claims-unknown":
      return `it is given devices through its resource claims (${(pod.resourceClaims ?? []).join(", ")}), and which nodes have them is not read (ResourceSlices), so whether an existing or a new node could run it is not known`;
    case "volumes":
      return `its volumes keep it pending, which a new node does not change (${volumesText(pod)})`;
    case "pod-affinity":
      return `its required pod affinity${onKey(pod)} asks for pods that a new node of this pool would not run`;
    case "pod-anti-affinity":
      if (pod.startupPods)
        return "the required pod anti-affinity of the DaemonSet or static pods a new node of this pool runs from the start keeps it off such a node";
      return pod.topologyKey
        ? `its required pod anti-affinity on ${pod.topologyKey} keeps it away from the domain a new node of this pool would join${deletingText(pod.deleting)}`
        : `the required pod anti-affinity of pods already running keeps it away from the domain a new node of this pool would join${deletingText(pod.deleting)}`;
    case "topology-spread":
      return `a topology spread constraint (DoNotSchedule${onKey(pod)}) would not allow it on a new node of this pool, ${spreadWhy(pod, shape)}`;
    case "host-ports":
      return `a host port it asks for${pod.ports ? ` (${pod.ports.join(", ")})` : ""} would already be taken on a new node of this pool by the pool's DaemonSets`;
    case "namespaces-unknown":
      return "a required pod (anti-)affinity term that concerns it picks namespaces by their labels (namespaceSelector), which were not read (see the snapshot's warnings), so whether a new node of this pool could run it is not known";
    case "volume-limit": {
      const counts = (pod.volumeLimits ?? []).map(
        ({ driver, limit, volumes }) =>
          `${volumes} of ${driver}, where the pool's nodes' CSINodes allow ${limit}`,
      );
      return `its CSI volumes would take a new node of this pool above the count of volumes it can attach${counts.length > 0 ? ` (${counts.join("; ")})` : ""}`;
    }
    case "volume-limits-unknown":
      return "it uses CSI volumes, and how many a node can attach (its CSINode) was not read (see the snapshot's warnings), so whether a new node of this pool could run it is not known";
    case "topology-unknown":
      return `its required pod (anti-)affinity or topology spread depends on ${pod.topologyKey}, which the pool's nodes carry with different values, so a new node's is not known and it may join a domain the rule keeps the pod out of (set newNode.labels when every new node gets the same value)`;
    case "label-unknown":
      return `its nodeSelector or required node affinity (or a volume's) depends on the label ${pod.label}, which the pool's nodes carry with different values, so whether a new node would match is not known (set newNode.labels when every new node gets the same value)`;
    case "extended-unknown":
      if (pod.resource !== undefined && shape?.unadvertisedExtended?.includes(pod.resource))
        return `it asks for ${pod.resource}, which the pool's nodes are labelled as having but none advertises yet (GPU lines above), so how much of it a new node has is not known (set newNode.extendedResources when every new node has the same)`;
      return `it asks for ${pod.resource}, which the pool's nodes of a new node's size report in different amounts (none on a node whose device plugin has not registered yet), so how much of it a new node has is not known (set newNode.extendedResources when every new node has the same)`;
  }
}

/**
 * Why a spread constraint rules a new node out: the node would not carry its topology key (the
 * scheduler puts such a pod only on nodes that do), or it joins a domain that already has the
 * most. Both when the key or the new node's labels are not known.
 */
function spreadWhy(pod: NeverFitPod, shape: NodeShape | undefined): string {
  if (!pod.topologyKey || !shape)
    return "which lacks the topology key or joins a domain that already has the most";
  // A node is a hostname domain of its own, which starts with the DaemonSet pods it runs.
  if (pod.topologyKey === HOSTNAME_LABEL)
    return "which starts with DaemonSet or static pods the constraint counts, so it would be more than maxSkew above the emptiest domain";
  return pod.topologyKey in shape.labels
    ? `which would join a ${pod.topologyKey} domain that already has the most`
    : `which would not carry the label ${pod.topologyKey}: the scheduler puts such a pod only on nodes that carry it (set newNode.labels when every new node gets the same value)`;
}

function onKey(pod: NeverFitPod): string {
  return pod.topologyKey ? ` on ${pod.topologyKey}` : "";
}

/**
 * Why the nodes a raise asks for are not all Ready: the nodes it awaits that are listed but not
 * Ready, by name, then what the rest may be (`talos-worker-3 is listed but not Ready, and
 * another node failed to join or stopped being Ready, …`); with none listed, what any may be.
 */
function notJoinedText(hold: Extract<Hold, { kind: "provisioning-failed" }>): string {
  const causes =
    "failed to join or stopped being Ready, or joined without the labels the pool's selector matches";
  const listed = hold.nodes ?? [];
  if (listed.length === 0) return `a node ${causes}`;
  const rest = hold.expected - hold.present - listed.length;
  const others =
    rest <= 0 ? "" : `, and ${rest === 1 ? "another node" : `${rest} other nodes`} ${causes}`;
  return `${listed.join(", ")} ${agreeing(listed.length, "is", "are")} listed but not Ready${others}`;
}

/**
 * What a failed provisioning's deadline runs from: the last change, or the commit that made the
 * repository when no later one changed the count (that commit changed none).
 */
function failedSince(hold: Extract<Hold, { kind: "provisioning-failed" }>): string {
  return hold.firstCommit
    ? `the commit that made the repository, of ${utcTime(hold.since)}`
    : `the change of ${utcTime(hold.since)}`;
}

/**
 * A hold as the explanation words it; `pullRequest`, what the decision does with the pool's pull
 * request, keeps a hold from saying an open one is left when the decision closes it.
 */
export function holdText(hold: Hold, pullRequest: NodeDecision["pullRequest"]): string {
  switch (hold.kind) {
    case "snapshot-incomplete":
      return `the cluster snapshot is incomplete (${hold.warnings.join("; ") || "no list read failed; see the snapshot's warnings"}); no action`;
    case "too-many-unready":
      return `${hold.unready.length} of ${hold.total} nodes not Ready (${formatCompared(hold.percent, hold.limit, ">")} > ${hold.limit} %${hold.okUnready === undefined ? "" : `, and ${hold.unready.length} > okUnready ${hold.okUnready}`}): ${hold.unready.join(", ")}; no action`;
    case "pools-overlap":
      return `${hold.nodes.join(", ")} ${agreeing(hold.nodes.length, "is", "are")} also in pool ${hold.pools.join(", ")}: make the pools' selectors exclusive, each node in one pool; no action`;
    case "usage-unknown":
      return `${hold.resources.join(" and ")} ${unknownText(hold.nodes, hold.allocatable, "on ")}; no decision is taken on the pool's usage (unknown is not zero)`;
    case "target-unknown":
      return `the current count in the repo is unknown${hold.problem ? `: ${hold.problem}` : ""}; no action`;
    case "provisioning":
      return `${provisioningText(hold.state, hold.expected, hold.present)}${hold.deadline ? `, waiting until ${utcTime(hold.deadline)}` : " (time of the change unknown)"}; nothing new meanwhile`;
    case "provisioning-failed":
      return hold.state === "joining"
        ? `${provisioningText(hold.state, hold.expected, hold.present)}, ${formatDuration(hold.timeoutMs)} or more after ${failedSince(hold)}: ${notJoinedText(hold)}; nothing new until it is resolved`
        : `${provisioningText(hold.state, hold.expected, hold.present)}, ${formatDuration(hold.timeoutMs)} or more after ${failedSince(hold)}: ${hold.nodes ? `a removed node did not go: ${hold.nodes.join(", ")} ${agreeing(hold.nodes.length, "is", "are")} still listed` : "a removed node did not go, or a node the count does not make (joined by hand, or made elsewhere with labels the pool's selector matches) is listed"}; nothing new until it is resolved`;
    case "cooldown":
      return hold.committedAt === undefined
        ? `cooldown after the change of ${utcTime(hold.since)}, until ${utcTime(hold.until)}`
        : `cooldown after the change of ${utcTime(hold.since)}, until ${utcTime(hold.until)} (its commit is dated ${utcTime(hold.committedAt)}, later than the planning time: it counts as made at the planning time)`;
    case "history-unknown":
      return `${hold.problem}: the time of the last change is unknown (not long ago), so no node is removed; nodes may still be added`;
    case "schedule-soon":
      return `schedule ${hold.schedule} opens at ${utcTime(hold.opensAt)} with min ${hold.min}, sooner than a node removed now could be back (cooldown + provisionTimeout): ${hold.current === undefined ? `the count stays at ${hold.min} or more` : `the count stays at ${hold.current} until it opens${hold.unready ? "" : `, and its min raises it to ${hold.min} then`}`}${hold.unready ? unreadyBeforeWindowText(hold.unready, hold.held) : ""}`;
    case "scale-down-delay":
      return "joining" in hold
        ? `no scale-down until ${formatDuration(hold.delayMs)} after the nodes of the last ${hold.direction === "unknown" ? "change, of unknown direction, which counts as a scale-up," : "scale-up"} are Ready: ${notReadyYetText(hold.joining, hold.missing ?? 0)} (${utcTime(hold.until)} at the earliest)`
        : hold.from === "change"
          ? `no scale-down until ${utcTime(hold.until)} (after the ${hold.direction === "unknown" ? `change of ${utcTime(hold.since)}, of unknown direction, which counts as a scale-up` : `last scale-up, of ${utcTime(hold.since)}`}: ${fromChangeText(hold)}, so the delay runs from the change)`
          : `no scale-down until ${utcTime(hold.until)} (nodes of the last ${hold.direction === "unknown" ? "change, of unknown direction, which counts as a scale-up," : "scale-up"} Ready at ${utcTime(hold.since)}${readyTimeUnknownText(hold.readyTimeUnknown)})`;
    case "nodes-unready":
      if (hold.sinceUnknown) return unreadySinceUnknownText(hold.nodes, hold.sinceUnknown);
      return `${hold.nodes.join(", ")} ${agreeing(hold.nodes.length, "is", "are")} not Ready: ${hold.max === undefined ? "no Ready node is removed" : `the count comes down to the ${hold.bound === "host-cap" ? "host cap" : "max"} of ${hold.max} and no further`} while ${hold.nodes.length === 1 ? "its" : "their"} pods may need the room${hold.until ? `; ${hold.nodes.length === 1 ? "it goes" : "they go"} from ${utcTime(hold.until)} (scaleDown.unreadyTime)` : ""}${hold.stuck ? stuckText(hold.stuck) : ""}`;
    case "pods-orphaned":
      return `${counted(hold.pods, "pod")} ${agreeing(hold.pods, "is", "are")} bound to ${hold.nodes.join(", ")}, which the cluster does not list (deleted, or joined after the nodes were read): made again once deleted, ${hold.pods === 1 ? "it needs" : "they need"} room, so ${hold.max === undefined ? "no Ready node is removed" : `the count comes down to the ${hold.bound === "host-cap" ? "host cap" : "max"} of ${hold.max} and no further`} meanwhile`;
    case "pending-wait": {
      const one = hold.pods === 1;
      const [them, they, wait] = one ? ["it", "it", "waits"] : ["them", "they", "wait"];
      const waited = `${counted(hold.pods, "pending pod")} ${one ? "needs new nodes but has" : "need new nodes but have"} waited less than ${formatDuration(hold.pendingForMs)} (scaleUp.pendingFor)`;
      if (hold.max === undefined)
        return `${waited}; nodes are added for ${them} from ${utcTime(hold.until)} if ${they} still ${wait}, and none is removed for low usage meanwhile`;
      const bound = `the ${hold.bound === "host-cap" ? "host cap" : "max"} of ${hold.max}`;
      // With scale-down off nothing comes down: the scale-down line says the count stays above it.
      if (hold.above && hold.stays)
        return `${waited}; above ${bound}, no node is added for ${them}, however long ${they} ${wait}`;
      return hold.above
        ? `${waited}; above ${bound}, no node is added for ${them}, and the count ${hold.notNow ? "would come" : "comes"} down to it, and no further for low usage, while ${they} ${wait}`
        : `${waited}; at ${bound}, no node is added for ${them}, and none is removed for low usage while ${they} ${wait}`;
    }
    case "pending-fit-unknown": {
      const one = hold.pods.length === 1;
      // Above the max the count comes down to it whatever the usage: only what goes beyond it is
      // a removal for low usage.
      const unready = hold.unready ?? [];
      const held =
        hold.max !== undefined
          ? `the count comes down to the ${hold.bound === "host-cap" ? "host cap" : "max"} of ${hold.max} and no further`
          : unready.length > 0
            ? `${unready.join(", ")}, not Ready for scaleDown.unreadyTime, may go, but no other node is removed for low usage`
            : "no node is removed for low usage";
      return `${hold.pods.join(", ")} ${one ? "is" : "are"} pending and whether a new node would fit ${one ? "it" : "them"} is unknown (fit unknown, above): ${held} while ${one ? "it waits" : "they wait"}, so the room ${one ? "it" : "they"} may need is not given away`;
    }
    case "at-max":
      return `wanted ${counted(hold.wanted, "node")}, the ${hold.bound === "host-cap" ? "host cap" : "max"} allows ${hold.allowed}`;
    case "shape-unknown":
      return hold.daemonSets === "daemonsets-unread"
        ? "the room on a new node is unknown: the cluster's DaemonSets could not be read, and a new node runs those that admit it, whether or not the pool's nodes show them yet (see the snapshot's warnings; the account needs list on daemonsets.apps); no node is added on a guess"
        : hold.daemonSets === "daemonset-requests"
          ? "the room on a new node is unknown: a DaemonSet it would run requests an amount that could not be read (see the snapshot's warnings); no node is added on a guess"
          : `the size of a new node is unknown: set ${listing(hold.unset?.length ? hold.unset : ["newNode.cpu", "newNode.memory"])}`;
    case "window-uncovered":
      return uncoveredText(hold.direction, hold.checks, pullRequest.action === "close");
  }
}

/**
 * Why the delay after a scale-up runs from the change: its nodes were Ready before it, the Ready
 * nodes created for it are leaving (a raise reverted once they were Ready), or none was created.
 */
function fromChangeText(hold: { readyBefore?: true; leaving?: string[] }): string {
  if (hold.readyBefore) return "its nodes were Ready before it (applied before the merge)";
  const leaving = hold.leaving ?? [];
  if (leaving.length === 0) return "none of the pool's Ready nodes was created for it";
  const one = leaving.length === 1;
  return `${one ? "the Ready node" : "the Ready nodes"} created for it, ${leaving.join(", ")}, ${one ? "is" : "are"} being removed by a later decrease, and none of the nodes that stay was created for it`;
}

/**
 * `: talos-worker-4 gives no Ready time (…)`, for nodes of the scale-up whose Ready condition has
 * no time: when they became Ready is not known, only that it was no later than the time given.
 */
function readyTimeUnknownText(nodes: readonly string[] | undefined): string {
  if (!nodes || nodes.length === 0) return "";
  const one = nodes.length === 1;
  return ` at the latest: ${nodes.join(", ")} ${one ? "gives" : "give"} no Ready time (no lastTransitionTime on ${one ? "its" : "their"} Ready condition), so ${one ? "it counts" : "they count"} as Ready at the latest ${one ? "it" : "they"} could have joined (provisionTimeout after ${one ? "its" : "their"} creation, or after the change when that is unknown), or now if sooner`;
}

/** The nodes of a scale-up not Ready yet: those listed, by name, and those not listed yet. */
function notReadyYetText(joining: readonly string[], missing: number): string {
  const listed =
    joining.length > 0
      ? `${joining.join(", ")} ${agreeing(joining.length, "is", "are")} not Ready yet`
      : undefined;
  if (missing === 0) return listed ?? "";
  const unlisted = `${listed ? `${counted(missing, "more node")}` : `${counted(missing, "node")} the repo asks for`} ${agreeing(missing, "has", "have")} not joined yet`;
  return listed ? `${listed}, and ${unlisted}` : unlisted;
}

/**
 * A decrease that removes only not-Ready nodes, held because how long some of them have not been
 * Ready is unknown: not because a Ready node would go.
 */
/**
 * Nodes long not Ready that a decrease removes below the min of a window about to open
 * (`schedule-soon`'s `unready`): why they go all the same; once what holds the pool is over,
 * when a hold keeps the decrease back (`held`).
 */
function unreadyBeforeWindowText(nodes: readonly string[], held?: true): string {
  const one = nodes.length === 1;
  const when = held ? "would go once what holds the pool is over" : one ? "goes now" : "go now";
  return `, but for ${nodes.join(", ")}, not Ready for scaleDown.unreadyTime, which ${when}: kept, ${one ? "it" : "they"} would count toward the window's min with no room to give, and once it opens its min brings ${one ? "a new node in its place" : "new nodes in their place"}`;
}

/**
 * Nodes long not Ready that the decrease leaves (`nodes-unready`'s `stuck`): no time ends the
 * hold they make, so the text says who can.
 */
function stuckText(nodes: readonly string[]): string {
  const one = nodes.length === 1;
  return `; ${nodes.join(", ")} ${one ? "has" : "have"} not been Ready for scaleDown.unreadyTime and the decrease does not remove ${one ? "it" : "them"} (the removal rule names another node): this lasts until ${one ? "it is" : "they are"} Ready again or a person replaces ${one ? "its VM" : "their VMs"}`;
}

/** Nodes long not Ready that stay as scale-down is off (`ScaleDownReport.unready`). */
function unreadyStayText(nodes: readonly string[] | undefined): string {
  if (!nodes) return "";
  const one = nodes.length === 1;
  return `; ${nodes.join(", ")} ${one ? "has" : "have"} not been Ready for scaleDown.unreadyTime and ${one ? "stays" : "stay"} until ${one ? "it is" : "they are"} Ready again or a person replaces ${one ? "its VM" : "their VMs"}`;
}

function unreadySinceUnknownText(nodes: readonly string[], unknown: readonly string[]): string {
  const one = unknown.length === 1;
  const since =
    unknown.length === nodes.length
      ? " since a time that is unknown"
      : `, and since when ${unknown.join(", ")} ${one ? "has" : "have"} not been is unknown`;
  return `${nodes.join(", ")} ${agreeing(nodes.length, "is", "are")} not Ready${since} (no time on ${one ? "its" : "their"} Ready condition): whether ${one ? "it has" : "they have"} been so for scaleDown.unreadyTime cannot be told, so the decrease that removes ${nodes.length === 1 ? "it" : "them"} waits (unknown is not long ago)`;
}

/**
 * Usage past a threshold now, not shown over its window yet: what it leads to is not known. An
 * open pull request is left as it is on it, unless something else closes it (pods waiting for the
 * room a decrease would take, a count changed under it): then the text does not say it is left.
 */
function uncoveredText(
  direction: "up" | "down",
  checks: readonly UncoveredCheck[],
  closed: boolean,
): string {
  const relation = direction === "up" ? "≥" : "<";
  const level = (check: UncoveredCheck) => `${check.resource} ${relation} ${check.threshold} %`;
  const short = checks.filter((check) => check.lastPointAgeMs === undefined);
  const stale = checks.filter((check) => check.lastPointAgeMs !== undefined);
  const then = direction === "up" ? "no node is added on it" : "no node is removed";
  const pr = closed ? "" : ", and an open pull request is left as it is";
  const shown = short
    .map(
      (check) =>
        `${level(check)} (shown for ${formatDuration(check.coveredMs)} of ${formatDuration(check.windowMs)})`,
    )
    .join(", ");
  if (stale.length === 0) return `${shown} now, not yet over the window: ${then} until it is${pr}`;
  // Points that stopped do not come to cover the window by waiting: it is not shown up to now.
  const ages = new Set(stale.map((check) => check.lastPointAgeMs));
  const unseen =
    ages.size === 1
      ? `${stale.map(level).join(", ")} not seen up to now: Prometheus' last point is ${formatDuration(stale[0]?.lastPointAgeMs ?? 0)} old`
      : `${stale.map((check) => `${level(check)} (Prometheus' last point ${formatDuration(check.lastPointAgeMs ?? 0)} old)`).join(", ")} not seen up to now`;
  if (short.length === 0) return `${unseen}; ${then} until its points reach the end${pr}`;
  return `${shown} now, not yet over the window, and ${unseen}; ${then} until the points cover the window up to the end${pr}`;
}

/**
 * Which nodes' usage is unknown, naming apart those whose allocatable is what is missing (their
 * usage may be known, but there is nothing to measure it against).
 */
function unknownText(
  nodes: readonly string[],
  allocatable: readonly string[] = [],
  on = "",
): string {
  if (nodes.length === 0) return "usage unknown (no Ready node that is not cordoned)";
  const usage = nodes.filter((name) => !allocatable.includes(name));
  const parts: string[] = [];
  if (usage.length > 0)
    parts.push(on ? `usage unknown on ${usage.join(", ")}` : `usage unknown (${usage.join(", ")})`);
  if (allocatable.length > 0)
    parts.push(
      on
        ? `allocatable missing or 0 on ${allocatable.join(", ")}`
        : `allocatable missing or 0 (${allocatable.join(", ")})`,
    );
  return parts.join(", ");
}

function provisioningText(state: "joining" | "leaving", expected: number, present: number): string {
  const are = agreeing(present, "is", "are");
  return state === "joining"
    ? `the repo asks for ${counted(expected, "node")}, ${present} ${are} Ready`
    : `the repo asks for ${counted(expected, "node")}, ${present} ${are} still there`;
}

function checkText(check: SustainedCheck): string {
  const relation = check.direction === "above" ? "≥" : "<";
  const goal = `${check.resource} ${relation} ${check.threshold} % for ${formatDuration(check.windowMs)}`;
  const value =
    check.percent === undefined
      ? ""
      : `, ${pointsText(check)}${formatCompared(check.percent, check.threshold, relation)}`;
  switch (check.outcome) {
    case "met":
      return `${goal}: met (${check.basis}${value})`;
    case "not-met":
      return `${goal}: not met (${check.basis}${value}${heldText(check)})`;
    case "unknown":
      return `${goal}: unknown, ${notObservedText(check)}`;
    case "no-evidence":
      return `${goal}: no evidence over the window (usage covers ${formatDuration(check.coveredMs ?? 0)}${check.samples ? ` with ${counted(check.samples, "history sample")}` : ", no history"}${check.percent === undefined ? "" : `, now ${formatPercent(check.percent)}`}; ${shortfallText(check.shortfall, check.windowMs)})`;
  }
}

/**
 * What a check judged on Prometheus' points of its own window compared: their lowest for
 * "above", their percentile for "below", the last point for a window of 0. Nothing for a
 * check judged otherwise.
 */
function pointsText(check: SustainedCheck): string {
  if (check.points === undefined || check.basis !== "usage-window") return "";
  if (check.windowMs === 0) return "last point ";
  const of = `of the last ${formatDuration(check.windowMs)}`;
  return check.direction === "above" ? `lowest point ${of} ` : `p${check.percentile} ${of} `;
}

/** How long a level not held over the window has held so far, from Prometheus' points. */
function heldText(check: SustainedCheck): string {
  if (!check.heldMs || check.points === undefined) return "";
  return `; at or above ${check.threshold} % for the last ${formatDuration(check.heldMs)} only`;
}

/**
 * Which nodes leave a check unknown, as the utilisation line names them: one node without
 * metrics is not the pool's usage not observed at all. A check from before they were kept says
 * only that usage was not observed.
 */
function notObservedText(check: SustainedCheck): string {
  const nodes = check.unknownNodes;
  if (nodes === undefined) return "usage not observed";
  if (nodes.length === 0) return "usage not observed (no Ready node that is not cordoned)";
  const allocatable = check.unknownAllocatable ?? [];
  const usage = nodes.filter((name) => !allocatable.includes(name));
  return [
    ...(usage.length > 0 ? [`usage not observed on ${usage.join(", ")}`] : []),
    ...(allocatable.length > 0 ? [`allocatable missing or 0 on ${allocatable.join(", ")}`] : []),
  ].join(", ");
}

/** Why the usage source's own window did not count, in the words of the check. */
function shortfallText(shortfall: WindowShortfall | undefined, windowMs: number): string {
  switch (shortfall?.kind) {
    case "asked-short":
      // plan and the app ask for the longest check's window themselves: a saved snapshot was not.
      return `Prometheus was asked for ${formatDuration(shortfall.askedMs ?? 0)} of usage, less than the window: take the snapshot with --prometheus-window ${formatDuration(windowMs)} (plan and the app ask for the longest window a check judges)`;
    case "short":
      return "Prometheus' points do not reach back over the whole window";
    case "gap":
      return `Prometheus' points leave a gap of ${formatDuration(shortfall.gapMs ?? 0)}, more than ${formatDuration(shortfall.maxGapMs ?? 0)}`;
    case "gap-unknown":
      return "the usage does not say how far apart Prometheus' points lie (no gapSeconds in the snapshot), so its window is not taken as held";
    case "stale":
      return `Prometheus' last point is ${formatDuration(shortfall.ageMs ?? 0)} old, more than ${formatDuration(shortfall.maxAgeMs ?? 0)}: its scrapes may have stopped, and staying below is not seen up to now`;
    case "no-percentile":
      return "Prometheus gave no percentile over its window, which staying below is judged by";
    case "no-low":
      return "Prometheus gave no lowest point over its window, which staying above is judged by";
    case "single-sample":
      if (shortfall.sourceFailed)
        return `${shortfall.sourceFailed === "prometheus" ? "Prometheus" : shortfall.sourceFailed} could not be read (usage-source-failed), so the usage is metrics-server's one sample, which is no window`;
      return "a window needs Prometheus over it or samples kept across it";
    default:
      return "a window needs Prometheus over it or samples kept across it";
  }
}

function requestsCheckText(check: RequestsCheck): string {
  // Unknown is no figure to compare: "cpu requests unknown ≥ 80 %" would read as one.
  if (check.percent === undefined)
    return `${check.resource} requests ≥ ${check.threshold} %: unknown, so not met${requestsUnreadText(check.unread)}`;
  return `${check.resource} requests ${formatCompared(check.percent, check.threshold, "≥")} ≥ ${check.threshold} %: ${check.met ? "met" : "not met"}`;
}

/** Why requests are unknown when the pod list was not read in full; nothing otherwise. */
function requestsUnreadText(unread: readonly string[] | undefined): string {
  return unread
    ? ` (${listsNotReadText(unread)}: the requests of pods it would show are unknown, not none)`
    : "";
}

/** `the list of pods was not read in full`, naming each list. */
function listsNotReadText(lists: readonly string[]): string {
  const one = lists.length === 1;
  return `the ${one ? "list" : "lists"} of ${listing(lists)} ${one ? "was" : "were"} not read in full`;
}

/**
 * A scale-down condition as the explanation words it; the node to remove is named as the one
 * the decrease removes only when the decision makes one. `bounded`: the count is above the max
 * or the host cap, so a cordon is no reason for the node to stay.
 */
export function conditionText(
  condition: ScaleDownCondition,
  action: NodeDecision["action"] = "scale-down",
  bounded = false,
): string {
  const mark = condition.met ? "met" : "not met";
  switch (condition.kind) {
    case "utilisation":
      return checkText(condition.check);
    case "requests":
      // Unknown is no figure to compare: "cpu requests unknown < 50 %" would read as one.
      if (condition.percent === undefined)
        return `${condition.resource} requests < ${condition.threshold} %: unknown, so not met${requestsUnreadText(condition.unread)}`;
      return `${condition.resource} requests ${formatCompared(condition.percent, condition.threshold, "<")} < ${condition.threshold} %${condition.basis === "history" ? " (the highest over the unneeded time)" : ""}: ${mark}`;
    case "above-min":
      return `count ${condition.current ?? "unknown"} above the min of ${condition.min}${scheduleText(condition)}: ${mark}${condition.unready ? ` (${condition.unready} has not been Ready for scaleDown.unreadyTime but counts toward the min, with no room to give: it stays until it is Ready again, a person replaces its VM, or the min is lowered)` : ""}`;
    case "candidate":
      if (!condition.node) return `no node to remove: ${condition.problem}`;
      return action === "scale-down"
        ? `the decrease removes ${removedText(condition.node, condition.nodes)}`
        : `a decrease would remove ${removedText(condition.node, condition.nodes)}`;
    case "not-cordoned":
      // Only the count coming down to a bound removes it, and then the cordon is no reason not to,
      // also when something else keeps the node this time.
      if (action === "scale-down")
        return `${condition.node} is cordoned, and goes all the same: the count must come down to a bound`;
      return bounded
        ? `${condition.node} is cordoned, and would go all the same: the count must come down to a bound`
        : `${condition.node} is cordoned: ${mark} (${cordonedText(condition.node)})`;
    case "gpu-advertised": {
      const gpus = `${condition.node}'s ${condition.resources.join(" and ")}`;
      if (action === "scale-down")
        return `${gpus} is not advertised yet, and it goes all the same: the count must come down to a bound`;
      return bounded
        ? `${gpus} is not advertised yet, and it would go all the same: the count must come down to a bound`
        : `${gpus} is advertised: ${mark} (${gpuAwaitedText(condition.until)})`;
    }
    case "no-blockers":
      if (condition.unread)
        return `${blockersUnknownText(condition.node, condition.blockers.length)}: ${mark} (${unreadListsText(condition.unread)})`;
      return `${condition.node} has ${condition.blockers.length === 0 ? "no blockers" : counted(condition.blockers.length, "blocker")}: ${mark}${condition.met && condition.emptyDirDeleted ? ` (${emptyDirDeletedText(condition.emptyDirDeleted, action === "scale-down", "it")})` : ""}`;
    case "pods-fit":
      if (condition.unread && condition.causes.length === 0)
        return `the pods of ${condition.node}${alsoMovingText(condition)} fit on the other nodes: unknown, so not met (${podsFitUnreadText(condition.node, condition.unread)})`;
      return `${counted(condition.pods, "pod")} of ${condition.node}${alsoMovingText(condition)} ${condition.pods === 1 && !condition.cordoned && !condition.pending && !condition.moved ? "fits" : "fit"} on the other nodes: ${mark}${parenthesised([...(condition.outside ?? []).map(outsideText), ...(condition.causes.length > 0 ? [unplacedText(condition.causes, condition.uncounted, condition.outsideTaken)] : []), ...(condition.dropped ? [droppedText(condition.dropped)] : [])])}`;
    case "projection":
      // Unknown is no figure to compare: "cpu after removal unknown < 70 %" would read as one.
      if (condition.projected === undefined)
        return `${projectedText(condition)} after removal < ${condition.limit} %: unknown, so not met`;
      return `${projectedText(condition)} after removal ${formatCompared(condition.projected, condition.limit, "<")} < ${condition.limit} %: ${mark}`;
    case "last-node":
      return condition.met
        ? `${condition.node} is the pool's last node, and newNode tells a new node's shape without it: met`
        : `${condition.node} is the pool's last node: not met (${lastNodeStaysText(condition)})`;
  }
}

/**
 * Pods that go to a node outside the pool, the pool's own having no room for them: `default/x
 * goes to talos-cp-1, a control plane in no pool`, `… to talos-big-1, a node of pool big`.
 */
function outsideText(placement: OutsidePlacement): string {
  const what =
    placement.pool !== undefined
      ? `a node of pool ${placement.pool}`
      : placement.controlPlane
        ? "a control plane in no pool"
        : "a node no pool selects";
  return `${placement.pods.join(", ")} ${agreeing(placement.pods.length, "goes", "go")} to ${placement.node}, ${what}`;
}

/** ` (a; b)`, or nothing without parts. */
function parenthesised(parts: readonly string[]): string {
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
}

/**
 * The expendable pods of the node to remove: its drain evicts them, and they are not placed
 * elsewhere (`1 expendable pod dropped, not moved: batch/x`).
 */
function droppedText(dropped: readonly string[]): string {
  return `${counted(dropped.length, "expendable pod")} dropped, not moved: ${dropped.join(", ")}`;
}

/**
 * A node's blockers while a list they rest on was not read in full: those found, and that more
 * may be there (`talos-worker-4's blockers are unknown`, `… has 1 blocker, and may have more`).
 */
function blockersUnknownText(node: string, found: number): string {
  return found === 0
    ? `${node}'s blockers are unknown`
    : `${node} has ${counted(found, "blocker")}, and may have more`;
}

/** `the list of poddisruptionbudgets was not read in full: …`, naming each list. */
function unreadListsText(lists: readonly string[]): string {
  return `${listsNotReadText(lists)}: a blocker ${lists.length === 1 ? "it" : "they"} would show is unknown, not none`;
}

/**
 * Why the pods of a node to remove are not known to fit while the pod list was not read in full:
 * those read are not all it runs, and pods not read may hold the room counted as free.
 */
function podsFitUnreadText(node: string, lists: readonly string[]): string {
  return `${listsNotReadText(lists)}: pods it would show, on ${node} or in the room of the other nodes, are unknown, not none`;
}

/** What a projection is of: `cpu`, `memory`, or the requests it names (the higher of the two). */
function projectedText(projection: {
  resource: string;
  requestsOf?: string | undefined;
  pending?: number | undefined;
  moved?: { pods: number; pools: string[] } | undefined;
}): string {
  const { pending, moved } = projection;
  // "5.3 %" before, "50 %" after removal reads as a miscount unless the pods counted in are said.
  const parts = [
    ...(pending ? [`the ${counted(pending, "pending pod")} counted on the pool's room`] : []),
    ...(moved
      ? [
          `the ${counted(moved.pods, "pod")} ${moved.pools.length === 1 ? "the decrease of pool" : "the decreases of pools"} ${listing(moved.pools)} ${moved.pools.length === 1 ? "moves" : "move"} onto the pool's nodes`,
        ]
      : []),
  ];
  const countedText = parts.length > 0 ? `, with those of ${parts.join(" and of ")},` : "";
  return projection.requestsOf
    ? `${projection.requestsOf} requests${countedText}`
    : projection.resource;
}

/**
 * ` set by schedule NAME` after a min an open schedule window raised; nothing otherwise. When the
 * host cap holds the min below the one asked for (`asked`), what asks for it and the cap: ` (schedule
 * NAME asks for 4; host cap 3)`, ` (the pool's min is 4; host cap 3)`.
 */
export function scheduleText(bound: { min: number; schedule?: string; asked?: number }): string {
  const { min, schedule, asked } = bound;
  // Only the host cap holds a min below the one asked for: it is the max in effect then.
  if (asked !== undefined)
    return ` (${schedule ? `schedule ${schedule} asks for ${asked}` : `the pool's min is ${asked}`}; host cap ${min})`;
  return schedule ? ` set by schedule ${schedule}` : "";
}

/** An unmet condition as the reason a wanted scale-down was refused. */
export function refusalText(condition: ScaleDownCondition): string {
  switch (condition.kind) {
    case "utilisation":
    case "requests":
      return conditionText(condition);
    case "above-min":
      return condition.current === undefined
        ? `the count is unknown (min ${condition.min}${scheduleText(condition)})`
        : `count ${condition.current} is not above the min of ${condition.min}${scheduleText(condition)}`;
    case "candidate":
      return `no node to remove: ${condition.problem}`;
    case "not-cordoned":
      return `${condition.node} is cordoned (${cordonedText(condition.node)})`;
    case "gpu-advertised":
      return `${condition.node}'s ${condition.resources.join(" and ")} is not advertised yet (${gpuAwaitedText(condition.until)})`;
    case "no-blockers":
      if (condition.unread)
        return `${blockersUnknownText(condition.node, condition.blockers.length)} (${unreadListsText(condition.unread)})`;
      return `${condition.node} has ${counted(condition.blockers.length, "blocker")}`;
    case "pods-fit":
      if (condition.unread && condition.causes.length === 0)
        return `whether the pods of ${condition.node}${alsoMovingText(condition)} fit on the other nodes is unknown (${podsFitUnreadText(condition.node, condition.unread)})`;
      return `not every pod of ${condition.node}${alsoMovingText(condition)} fits on the other nodes (${unplacedText(condition.causes, condition.uncounted, condition.outsideTaken)})`;
    case "projection":
      return `${projectedText(condition)} after removal would be ${condition.projected === undefined ? "unknown" : formatCompared(condition.projected, condition.limit, "<")}, not below ${condition.limit} %`;
    case "last-node":
      return `${condition.node}: ${lastNodeStaysText(condition)}`;
  }
}

/**
 * The nodes a decrease removes: `talos-worker-7`, `talos-worker-7 and talos-worker-6`, or past
 * two `talos-worker-9 and 3 more` (the bulk line lists them all).
 */
function removedText(node: string, nodes: readonly string[] | undefined): string {
  if (!nodes || nodes.length < 2) return node;
  return nodes.length === 2 ? listing(nodes) : `${node} and ${nodes.length - 1} more`;
}

/**
 * `, with the 2 pods of cordoned talos-worker-2 (a drain would move them)`, when some were
 * placed too.
 */
function alsoCordonedText(cordoned: { nodes: string[]; pods: number } | undefined): string {
  if (!cordoned) return "";
  return `, with the ${counted(cordoned.pods, "pod")} of cordoned ${cordoned.nodes.join(", ")} (a drain would move ${cordoned.pods === 1 ? "it" : "them"})`;
}

/**
 * What must find room besides the node's own pods: the pods of cordoned nodes, and the pending
 * pods counted on the pool's free room (`0 pods of talos-worker-4, with the 1 pending pod the
 * pool's free room holds, fit`: the node is empty, but a pending pod needs its room).
 */
function alsoMovingText(condition: Extract<ScaleDownCondition, { kind: "pods-fit" }>): string {
  const pending = condition.pending
    ? `${condition.cordoned ? " and" : ", with"} the ${counted(condition.pending, "pending pod")} the pool's free room holds,`
    : "";
  const { moved } = condition;
  const movedText = moved
    ? `${condition.cordoned || condition.pending ? " and" : ", with"} the ${counted(moved.pods, "pod")} ${moved.pools.length === 1 ? "the decrease of pool" : "the decreases of pools"} ${listing(moved.pools)} ${moved.pools.length === 1 ? "moves" : "move"} onto the pool's nodes,`
    : "";
  return `${alsoCordonedText(condition.cordoned)}${pending}${movedText}`;
}

/**
 * Why a cordoned node does not go on low usage or for not being Ready, and what lets it go:
 * Terraform `count` destroys it whatever, so no other node goes instead.
 */
/**
 * Why a node whose GPU is on its way does not go for low usage: it just came up, and its usage
 * does not show yet what will run on it once the GPU is advertised.
 */
function gpuAwaitedText(until: string): string {
  return `GPU on its way, above: its usage since it became Ready does not show what will run on it once the GPU is advertised, so it does not go for low usage before ${utcTime(until)}`;
}

function cordonedText(node: string): string {
  return `someone took it out of service: it goes when the count must come down to the max or the host cap, not on low usage nor for not being Ready; uncordon ${node} to let those remove it, or lower the count by hand`;
}

/**
 * How many nodes the decrease takes at once; `would` while a hold keeps it from being made, and
 * which of them a window about to open keeps, naming it: the bulk's own stop is moot then.
 */
export function bulkText(bulk: BulkRemovalReport, decision: NodeDecision): string {
  const [first] = bulk.nodes;
  const { stop } = bulk;
  const made = decision.action === "scale-down";
  const kept = made ? "" : windowKeepsText(bulk.nodes, decision);
  if (bulk.downTo && bulk.nodes.length > 1)
    return `${bulk.nodes.length} nodes ${made ? "go" : "would go"} together to come down to the ${boundText(bulk.downTo)}: ${bulk.nodes.join(", ")}${bulkLostText(bulk, made)}${kept || `; ${bulkStopText(stop)}`}`;
  if (bulk.nodes.length > 1)
    return `${bulk.nodes.length} empty nodes ${made ? "go" : "would go"} together (at most ${bulk.maxEmptyBulk}): ${bulk.nodes.join(", ")}${bulkLostText(bulk, made)}${kept || `; ${bulkStopText(stop)}`}`;
  if (stop.kind === "not-empty" && stop.node === first)
    return `${first} ${made ? "goes" : "would go"} alone: it runs ${counted(stop.pods, "pod")}, and only empty nodes go together${kept}`;
  return `${first} ${made ? "goes" : "would go"} alone${kept || `; ${bulkStopText(stop)}`}`;
}

/**
 * What goes with the nodes after the first of a bulk removal without moving: ` (1 expendable pod
 * dropped, not moved: batch/x; the emptyDir data of media/sonarr-0 (tmp) is deleted with them,
 * as scaleDown.deleteEmptyDirData allows)`; nothing when none.
 */
function bulkLostText(bulk: BulkRemovalReport, made: boolean): string {
  const parts = [
    ...(bulk.dropped ? [droppedText(bulk.dropped)] : []),
    ...(bulk.emptyDirDeleted ? [emptyDirDeletedText(bulk.emptyDirDeleted, made, "them")] : []),
  ];
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
}

/**
 * `the emptyDir data of media/sonarr-0 (tmp) is deleted with it, as scaleDown.deleteEmptyDirData
 * allows`: the scratch the drain deletes with the node, its first few pods named. Pods whose
 * scratch includes a generic ephemeral volume (each volume labelled with what it is) are named
 * apart, as `the data of ci/runner-1 (work (generic ephemeral, local))`: that is no emptyDir.
 */
function emptyDirDeletedText(pods: readonly string[], made: boolean, what: string): string {
  const ephemeral = pods.filter((pod) => pod.includes(GENERIC_EPHEMERAL_LABEL));
  const emptyDir = pods.filter((pod) => !pod.includes(GENERIC_EPHEMERAL_LABEL));
  const named = (some: readonly string[]) =>
    some.length <= 3 ? listing(some) : `${some.slice(0, 3).join(", ")} and ${some.length - 3} more`;
  const whose = [
    ...(emptyDir.length > 0 ? [`the emptyDir data of ${named(emptyDir)}`] : []),
    ...(ephemeral.length > 0 ? [`the data of ${named(ephemeral)}`] : []),
  ];
  const verb = made ? (whose.length > 1 ? "are" : "is") : "would be";
  return `${whose.join(" and ")} ${verb} deleted with ${what}, as scaleDown.deleteEmptyDirData allows`;
}

/**
 * `, but schedule evening opens soon with min 5 and keeps them`: the nodes of a bulk removal left
 * unmade that the count a window about to open holds would keep all the same (the last ones, past
 * the count above the window's min). Empty when the window keeps none of them, or none opens.
 */
function windowKeepsText(nodes: readonly string[], decision: NodeDecision): string {
  const hold = decision.holds.find((entry) => entry.kind === "schedule-soon");
  const kept = windowKept(nodes, decision);
  if (hold?.kind !== "schedule-soon" || kept.length === 0) return "";
  const which = kept.length < nodes.length ? kept.join(", ") : nodes.length === 1 ? "it" : "them";
  return `, but schedule ${hold.schedule} opens soon with min ${hold.min} and keeps ${which}`;
}

/**
 * Utilisation with all the nodes of a bulk removal gone: the conditions' "after removal" is for
 * the first node alone.
 */
function bulkProjectionText(
  nodes: readonly string[],
  projection: readonly BulkProjection[],
): string {
  const parts = projection.map(
    (entry) =>
      `${projectedText(entry)} ${formatCompared(entry.projected, entry.limit, "<")} < ${entry.limit} %`,
  );
  return `after removing all ${nodes.length}: ${parts.join(", ")}`;
}

function bulkStopText(stop: BulkStop): string {
  switch (stop.kind) {
    case "max-empty-bulk":
      return `no more at once: scaleDown.maxEmptyBulk is ${stop.max}`;
    case "min":
      return `no more: the min is ${stop.min}`;
    case "max":
      return `no more: the count is down to the ${boundText(stop)}`;
    case "budget":
      return `not ${stop.node} too: PDB ${stop.pdb} allows ${counted(stop.disruptionsAllowed, "disruption")}, and draining ${listing(stop.nodes)} would evict ${stop.pods} of its pods`;
    case "candidate":
      return `no more: ${stop.problem}`;
    case "blockers":
      return `not ${stop.node} too: it has ${counted(stop.blockers.length, "blocker")}`;
    case "not-empty":
      return `not ${stop.node} too: it runs ${counted(stop.pods, "pod")}, and a node with pods goes alone`;
    case "cordoned":
      return `not ${stop.node} too: it is cordoned (${cordonedText(stop.node)})`;
    case "gpu-coming":
      return `not ${stop.node} too: its ${stop.resources.join(" and ")} is not advertised yet (${gpuAwaitedText(stop.until)})`;
    case "needed":
      return `not ${stop.node} too: without the nodes before it, ${projectedText(stop)} would be at ${stop.projected === undefined ? "an unknown level" : formatCompared(stop.projected, stop.threshold, "<")}, not below the scale-down threshold of ${stop.threshold} %`;
    case "projection":
      return `not ${stop.node} too: ${projectedText(stop)} after removal ${stop.projected === undefined ? "unknown" : formatCompared(stop.projected, stop.limit, "<")}, not below ${stop.limit} %`;
    case "pods-fit": {
      const { moved } = stop;
      // A pod the pool never ran is named as what another pool's decrease brings in.
      const movedText = moved
        ? ` (${moved.pools.length === 1 ? "the decrease of pool" : "the decreases of pools"} ${listing(moved.pools)} ${moved.pools.length === 1 ? "moves" : "move"} ${listing(moved.pods)} onto the pool's nodes)`
        : "";
      return `not ${stop.node} too: ${unplacedText(stop.causes).replace(/^no room for/, "no room would be left for")}${movedText}`;
    }
    case "last-node":
      return `not ${stop.node} too: ${lastNodeStaysText(stop)}`;
    case "schedule-soon":
      return `no more: schedule ${stop.schedule} opens soon with min ${stop.min}`;
    case "pending-wait":
      return stop.max === undefined
        ? "no more: no node goes for low usage while pending pods wait for scaleUp.pendingFor"
        : `no more: the count comes down to the ${stop.bound === "host-cap" ? "host cap" : "max"} of ${stop.max} and no further while pending pods wait for scaleUp.pendingFor`;
    case "pending-fit-unknown":
      return stop.max === undefined
        ? "no more: no node goes for low usage while pending pods whose fit on a new node is unknown wait"
        : `no more: the count comes down to the ${stop.bound === "host-cap" ? "host cap" : "max"} of ${stop.max} and no further while pending pods whose fit on a new node is unknown wait`;
    case "pods-orphaned":
      return stop.max === undefined
        ? "no more: no Ready node goes while pods bound to nodes the cluster does not list are to be made again"
        : `no more: the count comes down to the ${stop.bound === "host-cap" ? "host cap" : "max"} of ${stop.max} and no further while pods bound to nodes the cluster does not list are to be made again`;
    case "nodes-unready":
      return stop.max === undefined
        ? "no more: no Ready node goes while the pods of nodes not Ready may need the room"
        : `no more: the count comes down to the ${stop.bound === "host-cap" ? "host cap" : "max"} of ${stop.max} and no further while the pods of nodes not Ready may need the room`;
  }
}

/** `max of 5`, `host cap of 4`: the bound a count above it comes down to. */
function boundText(downTo: { max: number; bound: "max" | "host-cap" }): string {
  return `${downTo.bound === "host-cap" ? "host cap" : "max"} of ${downTo.max}`;
}

/** Pods that found no node: those without room first, then each kept off by a rule, and which. */
function unplacedText(
  causes: readonly UnplacedReport[],
  uncounted: readonly UncountedNode[] = [],
  taken: readonly OutsideTaken[] = [],
): string {
  const parts: string[] = [];
  const roomless = causes.filter((entry) => entry.cause === "room" && !entry.resources);
  if (roomless.length > 0)
    parts.push(`no room for ${roomless.map((entry) => entry.pod).join(", ")}`);
  for (const entry of causes) {
    if (entry.cause === "room" && entry.resources)
      parts.push(
        `no room for ${entry.pod}${resizedText(entry.resized)}: ${entry.afterOthers ? "once the pods placed before it take their room, " : ""}it needs more ${entry.resources.join(" and ")} than any other node of the pool${outsideNamed(entry)} has free`,
      );
    else if (entry.cause === "volume-unknown")
      parts.push(`${entry.pod}: ${volumeUnknownText(entry.claims ?? [])}`);
    else if (entry.cause === "volume-limit")
      parts.push(`${entry.pod}: ${volumeLimitText(entry.volumeLimit)}`);
    else if (entry.cause !== "room")
      parts.push(`${entry.pod}: ${unplacedCauseText(entry.cause)}${deletingText(entry.deleting)}`);
  }
  if (uncounted.length > 0) parts.push(uncountedText(uncounted));
  for (const { node, pools, withheld, changeUnknown } of taken)
    parts.push(
      withheld && changeUnknown
        ? `${node} is not counted on while the open ${pools.length === 1 ? "pull request of pool" : "pull requests of pools"} ${listing(pools)}, whose change to the count is unknown, may move pods there`
        : withheld
          ? `${node} is not counted on while the open ${pools.length === 1 ? "decrease of pool" : "decreases of pools"} ${listing(pools)}, whose nodes are not all known, may move pods there`
          : `${node} keeps its room for the pods the decrease of ${pools.length === 1 ? "pool" : "pools"} ${listing(pools)} moves there`,
    );
  return parts.join("; ");
}

/**
 * The nodes outside the pool judged beside its own for a pod short of room: `, or talos-cp-1 or
 * any node of pool big offered to it,`; nothing when none was.
 */
function outsideNamed(entry: UnplacedReport): string {
  const named = [
    ...(entry.outside ?? []),
    ...(entry.pools ?? []).map((pool) => `any node of pool ${pool} offered to it`),
  ];
  return named.length > 0 ? `, or ${named.join(" or ")},` : "";
}

/**
 * ` (cpu 3 as allocated: its resize in place to cpu 1 is not done)`: a pod whose figures the
 * scheduler counts otherwise than its spec asks, said beside the room it needs more of.
 */
function resizedText(resized: UnplacedReport["resized"]): string {
  if (!resized || resized.length === 0) return "";
  const figure = (resource: "cpu" | "memory", amount: number) =>
    `${resource} ${resource === "cpu" ? formatCpu(amount) : formatMemory(amount)}`;
  const counted = resized.map((entry) => figure(entry.resource, entry.counted));
  const spec = resized.map((entry) => figure(entry.resource, entry.spec));
  return ` (${counted.join(", ")} as allocated: its resize in place to ${spec.join(", ")} is not done)`;
}

/**
 * The nodes left out of the room counted, so that "more than any other node of the pool has
 * free" is not read against them: `the room of talos-worker-3 (not Ready) is not counted`; a node
 * in no pool says so: `talos-cp-1 (cordoned, a control plane in no pool)`, and another pool's
 * names its pool: `talos-media-2 (pool media removes it in this plan)`.
 */
function uncountedText(uncounted: readonly UncountedNode[]): string {
  const why = {
    "not-ready": "not Ready",
    cordoned: "cordoned",
    "room-unknown": "requests of its pods unknown",
    "allocatable-unknown": "allocatable unknown",
  };
  const where = (entry: UncountedNode) =>
    !entry.outside
      ? ""
      : entry.controlPlane
        ? ", a control plane in no pool"
        : ", a node no pool selects";
  // Why a pool's nodes are all left out is said once for them: `talos-big-1 and talos-big-2
  // (nodes of pool big, whose open decrease removes nodes not all known)`.
  const whose = {
    withheld: "whose open decrease removes nodes not all known",
    draining: "whose room is kept for the pods of its cordoned nodes",
    requests: "whose requests the pods would take to its scaleUp.requests",
  } as const;
  // Its requests unread leave it no headroom: what the pods would take it to is not known.
  const requestsUnknown =
    "whose requests are unknown, so the pods may take it to its scaleUp.requests";
  // In the order met: a node and why, or the nodes of a pool left out for one reason.
  const parts: (string | { pool: string; reason: string; nodes: string[] })[] = [];
  for (const entry of uncounted) {
    const { pool } = entry;
    if (
      pool !== undefined &&
      (entry.why === "withheld" || entry.why === "draining" || entry.why === "requests")
    ) {
      const reason = entry.requestsUnknown
        ? requestsUnknown
        : entry.changeUnknown
          ? "whose open pull request's change to the count is unknown"
          : whose[entry.why];
      const group = parts.find(
        (part) => typeof part !== "string" && part.pool === pool && part.reason === reason,
      );
      if (typeof group === "object") group.nodes.push(entry.node);
      else parts.push({ pool, reason, nodes: [entry.node] });
    } else if (pool === undefined)
      parts.push(`${entry.node} (${why[entry.why as keyof typeof why]}${where(entry)})`);
    else if (entry.why === "removed")
      parts.push(`${entry.node} (pool ${pool} removes it in this plan)`);
    else
      parts.push(`${entry.node} (${why[entry.why as keyof typeof why]}, a node of pool ${pool})`);
  }
  const nodes = parts.map((part) =>
    typeof part === "string"
      ? part
      : part.nodes.length === 1
        ? `${part.nodes[0]} (a node of pool ${part.pool}, ${part.reason})`
        : `${listing(part.nodes)} (nodes of pool ${part.pool}, ${part.reason})`,
  );
  return `the room of ${listing(nodes)} is not counted`;
}

/** A bound pod's claims whose volume was not found: where its data lies is not known. */
function volumeUnknownText(claims: readonly { claim: string; why?: string }[]): string {
  const named = claims.map(({ claim, why }) => (why ? `${claim} (${why})` : claim)).join(", ");
  return `no volume was found for its claim ${named}, so whether its data is on this node, and which nodes it could go to, is unknown`;
}

/**
 * A pod whose CSI volumes the nodes with room cannot attach: `its CSI volumes would take the nodes
 * with room above the volumes they can attach (talos-worker-1: 2 of csi.proxmox.sinextra.dev)`.
 */
function volumeLimitText(detail: VolumeLimitDetail | undefined): string {
  const counts = (detail?.drivers ?? []).map(({ driver, limit }) => `${limit} of ${driver}`);
  const where = detail && counts.length > 0 ? ` (${detail.node}: ${counts.join(", ")})` : "";
  return `its CSI volumes would take the nodes with room above the volumes they can attach${where}, as the scheduler counts them`;
}

function unplacedCauseText(
  cause: Exclude<UnplacedCause, "room" | "volume-unknown" | "volume-limit">,
): string {
  switch (cause) {
    case "no-node":
      return "no other node of the pool is Ready, not cordoned and of known room";
    case "requests-unknown":
      return "its requests could not be read, so where it fits is unknown";
    case "claims-unknown":
      return "it is given devices through resource claims, and which nodes have them is not read (ResourceSlices), so where it could go is unknown";
    case "node-selector":
      return "its nodeSelector matches none of the nodes with room";
    case "node-affinity":
      return "its required node affinity matches none of the nodes with room";
    case "volume-node-affinity":
      return "the node affinity of a volume it mounts matches none of the nodes with room";
    case "unschedulable":
      return "the nodes with room are cordoned (unschedulable)";
    case "taints":
      return "it does not tolerate the taints of the nodes with room";
    case "pod-affinity":
      return "its required pod affinity asks for pods that the nodes with room do not run";
    case "pod-anti-affinity":
      return "required pod anti-affinity keeps it off the nodes with room";
    case "namespaces-unknown":
      return "a required pod (anti-)affinity term that concerns it picks namespaces by their labels, which were not read, so where it fits is unknown";
    case "volume-limits-unknown":
      return "it uses CSI volumes, and how many a node can attach (its CSINode) was not read, so where it fits is unknown";
    case "topology-spread":
      return "a topology spread constraint (DoNotSchedule) keeps it off the nodes with room";
    case "host-ports":
      return "a host port it takes is in use on the nodes with room";
    case "label-unknown":
      return "its nodeSelector or node affinity depends on a label whose value on the nodes with room is not known";
  }
}

function blockerText(blocker: DrainBlocker): string {
  switch (blocker.kind) {
    case "scale-down-disabled":
      return `the node is annotated ${blocker.annotation}: "true"`;
    case "pdb":
      return `${blocker.pod}: PDB ${blocker.pdb?.name} allows ${blocker.pdb ? counted(blocker.pdb.disruptionsAllowed, "disruption") : "an unknown number of disruptions"}${blocker.pdb?.whenHealthy === undefined ? "" : ` (${blocker.pdb.whenHealthy} once all of its pods are healthy)`}, ${blocker.pdb?.podsOnNode} of its pods ${agreeing(blocker.pdb?.podsOnNode ?? 0, "is", "are")} here`;
    case "pdbs-overlap":
      return `${blocker.pod}: PDBs ${blocker.pdbs?.join(" and ")} both select it, and the eviction API refuses a pod with more than one`;
    case "local-storage":
      return `${blocker.pod}: local storage ${blocker.volumes?.join(", ")}${blocker.emptyDirOnly ? " (set scaleDown.deleteEmptyDirData if its data may go with the node)" : ""}`;
    case "safe-to-evict-false":
      return `${blocker.pod}: safe-to-evict is "false"`;
    case "do-not-disrupt":
      return `${blocker.pod}: do-not-disrupt${blocker.until ? ` until ${utcTime(blocker.until)}` : ""}`;
    case "bare-pod":
      return `${blocker.pod}: no controller would recreate it`;
    case "custom-controller":
      return `${blocker.pod}: its controller ${blocker.owner?.kind} ${blocker.owner?.name} is not one Kubernetes ships, and may not recreate it elsewhere (name ${blocker.owner?.group ? `${blocker.owner.kind}.${blocker.owner.group}` : "the kind"} in scaleDown.replicatedKinds if it does)`;
    case "system-pod":
      return `${blocker.pod}: a kube-system pod no PDB selects, kept on its node by scaleDown.skipNodesWithSystemPods (give it a PDB, or annotate it safe-to-evict: "true", if it may move)`;
  }
}

function amount(kind: "cpu" | "memory", value: number): string {
  return kind === "memory" ? formatMemory(value) : formatCpu(value);
}

/** `1 pod`, `3 pods`. */
