import {
  awaitedGpuText,
  boundReached,
  bulkText,
  conditionText,
  holdText,
  keptOffText,
  refusalText,
  scheduleText,
  triggerText,
} from "../planning/explain-node-decision.ts";
import {
  formatCpu,
  formatDuration,
  formatExtended,
  formatMemory,
  formatPercent,
} from "../planning/format.ts";
import type { Hold, NodeDecision, Trigger } from "../planning/node-decision.ts";
import type { PoolUtilisationSample } from "../planning/node-plan-input.ts";
import type { PendingPod } from "../planning/packing.ts";
import type { NodeProposal } from "../planning/proposal.ts";
import { nodesAskedFor } from "../planning/scale-up.ts";
import type { ResourceUtilisation } from "../planning/utilisation.ts";
import { utcTime } from "../util/utc-time.ts";
import { bullets, code, details, fenced, sections, table } from "./markdown.ts";
import { utilisationChart } from "./utilisation-chart.ts";

/** Who asked for a count by hand (`/autoscaler scale`), when the proposal comes from them. */
export interface ManualRequest {
  by: string;
  count: number;
}

export interface NodeBodyContext {
  /** Earlier pool samples the app kept, for the chart. */
  history?: readonly PoolUtilisationSample[];
  manual?: ManualRequest;
}

/**
 * The pull request body of a node-count change: what changes and why, as tables (the pool,
 * the pending pods and where they go, the scale-down conditions and blockers), a chart of
 * recent usage when history is known, and the whole explanation, folded.
 */
export function nodePullRequestBody(proposal: NodeProposal, context: NodeBodyContext = {}): string {
  const lines = explanationOf(proposal);
  return sections(
    summary(proposal, context.manual),
    poolTable(proposal),
    changeLine(proposal),
    why(proposal, context.manual),
    pendingSection(proposal),
    scaleDownSection(proposal, lines),
    blockerSection(proposal),
    chartSection(proposal, context.history),
    details("The whole decision", fenced(proposal.reasons.join("\n"), "text")),
  );
}

/** The explanation's lines by their label (`trigger`, `hold`, `scale-down`, `never fits`…). */
function explanationOf(proposal: NodeProposal): Map<string, string[]> {
  const byLabel = new Map<string, string[]>();
  for (const line of proposal.reasons.slice(1)) {
    const match = /^\s+([a-z -]+): (.*)$/.exec(line);
    if (!match) continue;
    const [, label = "", text = ""] = match;
    byLabel.set(label, [...(byLabel.get(label) ?? []), text]);
  }
  return byLabel;
}

/**
 * One sentence on what decided: the bound the count is beyond, the min it is below, else the
 * trigger that asks for the most nodes (or says the pool is underused).
 */
function summary(proposal: NodeProposal, manual: ManualRequest | undefined): string {
  const pool = `**${proposal.pool}**`;
  if (manual)
    return `@${manual.by} asked for ${manual.count} nodes in pool ${pool} with ${code(`/autoscaler scale ${proposal.pool}=${manual.count}`)}.`;
  const { decision } = proposal;
  if (proposal.direction === "up") {
    const decisive = decidingScaleUp(decision.triggers);
    if (decisive?.kind === "below-min")
      return `Pool ${pool} is below its min of ${decisive.min}${decisive.asked !== undefined ? scheduleText(decisive) : decisive.schedule ? ` (set by schedule ${decisive.schedule})` : ""}: it has ${decisive.current} node${decisive.current === 1 ? "" : "s"}.`;
    return `Pool ${pool} needs more room${decisive ? `: ${triggerText(decisive)}` : ""}.`;
  }
  const removing = decision.removing ?? (decision.removes ? [decision.removes] : []);
  const removes =
    removing.length > 0
      ? `; the change removes ${removing.map((name) => `**${name}**`).join(", ")}`
      : "";
  const aboveMax = decision.triggers.find((trigger) => trigger.kind === "above-max");
  if (aboveMax?.kind === "above-max")
    return `Pool ${pool} is above its ${boundName(aboveMax.bound)} of ${aboveMax.max} with ${aboveMax.current} nodes: the bounds decide, not usage${removes}.`;
  const unready = decision.triggers.find((trigger) => trigger.kind === "unready-node");
  if (unready?.kind === "unready-node")
    return `Pool ${pool}: ${unready.node} has not been Ready for ${formatDuration(unready.notReadyForMs)} (since ${utcTime(unready.since)}), longer than ${formatDuration(unready.unreadyTimeMs)}: it goes whatever the usage${removes}.`;
  const underused = decision.triggers.find((trigger) => trigger.kind === "underutilised");
  return `Pool ${pool} has more room than it needs${underused ? `: ${triggerText(underused)}` : ""}${removes}.`;
}

/** The scale-up trigger that asks for the most nodes; the first of equals. */
function decidingScaleUp(triggers: readonly Trigger[]): Trigger | undefined {
  let best: { trigger: Trigger; nodes: number } | undefined;
  for (const trigger of triggers) {
    const nodes = nodesAskedFor(trigger);
    if (nodes !== undefined && (!best || nodes > best.nodes)) best = { trigger, nodes };
  }
  return best?.trigger;
}

function boundName(bound: "max" | "host-cap"): string {
  return bound === "host-cap" ? "host cap" : "max";
}

function poolTable(proposal: NodeProposal): string {
  const { decision } = proposal;
  const { cpu, memory } = decision.utilisation;
  const nodes = `${decision.nodes.members} (${decision.nodes.ready} Ready)`;
  const bounds = decision.bounds;
  const range =
    bounds.effectiveMin !== bounds.min || bounds.effectiveMax !== bounds.max
      ? `${bounds.min}–${bounds.max} (now ${bounds.effectiveMin}–${bounds.effectiveMax})`
      : `${bounds.min}–${bounds.max}`;
  return table(
    [
      "Pool",
      "Nodes",
      "Count",
      "Bounds",
      "CPU used",
      "Memory used",
      "CPU requested",
      "Memory requested",
    ],
    [
      [
        proposal.pool,
        nodes,
        `${proposal.from} → **${proposal.to}**`,
        range,
        usage(cpu),
        usage(memory),
        requested(cpu),
        requested(memory),
      ],
    ],
  );
}

/**
 * The window's average, its lowest point (what a level held above a scale-up threshold is judged
 * by) and its percentile. A Prometheus window without a lowest point (a snapshot saved before it
 * was kept, a node without one) says so; metrics-server's one sample has none to give.
 */
function usage(u: ResourceUtilisation): string {
  if (u.percent === undefined) return "unknown";
  const parts: string[] = [];
  if (u.lowPercent !== undefined) parts.push(`lowest ${formatPercent(u.lowPercent)}`);
  else if (u.source !== undefined && u.source !== "metrics-server") parts.push("lowest unknown");
  if (u.peakPercent !== undefined && u.percentile !== undefined)
    parts.push(`p${u.percentile} ${formatPercent(u.peakPercent)}`);
  return `${formatPercent(u.percent)}${parts.length > 0 ? ` (${parts.join(", ")})` : ""}`;
}

function requested(u: ResourceUtilisation): string {
  return u.requestsPercent === undefined ? "unknown" : formatPercent(u.requestsPercent);
}

function changeLine(proposal: NodeProposal): string {
  return proposal.changes
    .map(
      (change) =>
        `Sets ${code(change.path)} in ${code(change.file)} from ${code(String(change.before))} to ${code(String(change.after))}.`,
    )
    .join("\n");
}

/**
 * The triggers, what refused a wanted scale-down, and the holds. Above the max, what asks for
 * more nodes is listed as overruled by the bound; unknown usage is a note, not a hold.
 */
function why(proposal: NodeProposal, manual: ManualRequest | undefined): string {
  const { decision } = proposal;
  const forced = proposal.direction === "down" ? aboveMax(decision) : undefined;
  const refusedBy = decision.scaleDown.refusedBy ?? [];
  const items = [
    ...(manual ? [`requested by @${manual.by}; the bounds allow it`] : []),
    // Above the max the bound decides: it comes first, and what asks for more is overruled.
    ...(forced ? byBoundFirst(decision.triggers) : decision.triggers).map((trigger) =>
      forced && trigger.kind !== "above-max"
        ? `overruled by the ${boundName(forced)}: ${triggerText(trigger)}`
        : triggerText(trigger),
    ),
    ...(refusedBy.length > 0
      ? [
          `${manual ? "without the request, no node would go" : "not removed"}: ${refusedBy.map(refusalText).join("; ")}`,
        ]
      : []),
    ...decision.holds
      .filter((hold) => !(forced && hold.kind === "at-max"))
      .map((hold) => `${holdLabel(hold)}: ${holdText(hold, decision.pullRequest)}`),
  ];
  if (items.length === 0) return "";
  return `### Why\n\n${bullets(items)}`;
}

function byBoundFirst(triggers: readonly Trigger[]): Trigger[] {
  return [
    ...triggers.filter((trigger) => trigger.kind === "above-max"),
    ...triggers.filter((trigger) => trigger.kind !== "above-max"),
  ];
}

function aboveMax(decision: NodeDecision): "max" | "host-cap" | undefined {
  const trigger = decision.triggers.find((t) => t.kind === "above-max");
  return trigger?.kind === "above-max" ? trigger.bound : undefined;
}

/** Unknown usage holds nothing back in a change made on other grounds: it is a caveat. */
function holdLabel(hold: Hold): string {
  return hold.kind === "usage-unknown" ? "note" : "held back";
}

function pendingSection(proposal: NodeProposal): string {
  const pending = proposal.decision.pending;
  const placed = [...pending.onExisting, ...pending.onNew];
  if (placed.length === 0 && pending.neverFit.length === 0 && pending.overMax.length === 0)
    return "";
  const bound = boundReached(proposal.decision);
  const beyond = `stays pending: beyond the pool's ${bound.name} of ${bound.value}`;
  const listed = [
    // A pod on a new node says what kept it off the existing ones, as its explanation line does.
    ...placed.map((pod) => ({
      pod,
      goes: `${where(pod.node, pending.unread !== undefined, awaitedGpuText(pod))}${pod.keptOff ? ` (${keptOffText(pod.keptOff)})` : ""}`,
    })),
    ...pending.overMax.map((pod) => ({ pod, goes: beyond })),
  ];
  // A column for ephemeral storage, and one for extended resources (GPUs), only when a pod asks
  // for it, which decides where it goes; the table stays narrow otherwise.
  const disk = listed.some(({ pod }) => pod.ephemeralStorage);
  const extended = listed.some(({ pod }) => extendedText(pod) !== "");
  const rows = listed.map(({ pod, goes }) => [
    // The reviewer learns that where it goes is the plan's judgement, not yet the scheduler's.
    pod.judged === false ? `${pod.pod} (not yet marked unschedulable by the scheduler)` : pod.pod,
    formatCpu(pod.cpu),
    formatMemory(pod.memory),
    ...(disk ? [formatMemory(pod.ephemeralStorage ?? 0)] : []),
    ...(extended ? [extendedText(pod) || "none"] : []),
    goes,
  ]);
  const header = [
    "Pod",
    "CPU",
    "Memory",
    ...(disk ? ["Ephemeral storage"] : []),
    ...(extended ? ["Extended resources"] : []),
    "Goes to",
  ];
  const lines = explanationOf(proposal);
  const neverFit = lines.get("never fits") ?? [];
  const fitUnknown = lines.get("fit unknown") ?? [];
  return sections(
    "### Pending pods",
    rows.length > 0 ? table(header, rows) : "",
    neverFit.length > 0 ? `Never fit this pool, so they add no node:\n\n${bullets(neverFit)}` : "",
    fitUnknown.length > 0
      ? `Whether they fit a new node of this pool is not known, so they add no node:\n\n${bullets(fitUnknown)}`
      : "",
  );
}

/** `nvidia.com/gpu 1`: the extended resources a pod asks for, as its pending line names them. */
function extendedText(pod: PendingPod): string {
  return Object.entries(pod.extended ?? {})
    .map(([name, amount]) => `${name} ${formatExtended(name, amount)}`)
    .join(", ");
}

/**
 * Where a pending pod goes; with the pod list read in part, room on an existing node is so only
 * as far as the pods read show, as the explanation says it.
 */
/** `awaited`: ` once its nvidia.com/gpu is advertised`, for a GPU on its way there. */
function where(node: string, podsUnread: boolean, awaited: string): string {
  const fresh = /^new-(\d+)$/.exec(node);
  if (fresh) return `new node ${fresh[1]}`;
  return `free room on ${node}${awaited}${podsUnread ? " as far as the pods read show" : ""}`;
}

function scaleDownSection(proposal: NodeProposal, lines: Map<string, string[]>): string {
  if (proposal.direction !== "down") return "";
  const forced = aboveMax(proposal.decision);
  if (forced)
    return forcedConditions(
      proposal.decision,
      `Above its ${boundName(forced)} the bounds decide, not usage`,
    );
  const unready = proposal.decision.triggers.find((trigger) => trigger.kind === "unready-node");
  if (unready?.kind === "unready-node")
    return forcedConditions(
      proposal.decision,
      `${unready.node} has not been Ready for longer than ${formatDuration(unready.unreadyTimeMs)} (scaleDown.unreadyTime), so its readiness decides, not usage`,
      // Unlike a count above its max, one not Ready may sit at the min.
      ["above-min"],
    );
  const conditions = lines.get("scale-down") ?? [];
  if (conditions.length === 0) return "";
  return `### Scale-down conditions\n\n${bullets(conditions)}`;
}

/**
 * Above a bound, or not Ready for `scaleDown.unreadyTime`, the node goes whatever the usage
 * (`decides` says which): what decides it comes first, and usage and requests (which only let
 * several empty nodes go together) are folded away.
 */
function forcedConditions(
  decision: NodeDecision,
  decides: string,
  alsoDeciding: readonly string[] = [],
): string {
  const deciding = new Set([
    "candidate",
    "not-cordoned",
    "gpu-advertised",
    "no-blockers",
    "pods-fit",
    "last-node",
    ...alsoDeciding,
  ]);
  const { conditions } = decision.scaleDown;
  const bounded = decision.triggers.some((trigger) => trigger.kind === "above-max");
  const text = (condition: (typeof conditions)[number]) =>
    conditionText(condition, decision.action, bounded);
  const first = conditions.filter((condition) => deciding.has(condition.kind)).map(text);
  const rest = conditions.filter((condition) => !deciding.has(condition.kind)).map(text);
  // More than one node above the bound: the decrease comes down to it as far as its nodes can
  // go, and the bulk line names them, or why the next one stays.
  const trigger = decision.triggers.find((entry) => entry.kind === "above-max");
  const run =
    trigger?.kind === "above-max" && trigger.current - trigger.max > 1
      ? decision.scaleDown.bulk
      : undefined;
  if (run) first.push(bulkText(run, decision));
  return sections(
    `### Scale-down conditions\n\n${decides}: ${run ? "the nodes down to it go in one decrease, each when nothing blocks it and its pods fit elsewhere with those of the nodes before it" : "the node goes when nothing blocks it and its pods fit elsewhere"}.`,
    bullets(first),
    rest.length > 0
      ? details(
          "Usage and requests: they decide only whether more than one empty node goes at once",
          bullets(rest),
        )
      : "",
  );
}

function blockerSection(proposal: NodeProposal): string {
  // What keeps nodes from being drained matters when one is removed, not when one is added.
  if (proposal.direction !== "down") return "";
  const rows = proposal.reasons.flatMap((line) => {
    const match = /^\s+blockers on (\S+): (.*)$/.exec(line);
    return match ? [[match[1] ?? "", match[2] ?? ""]] : [];
  });
  if (rows.length === 0) return "";
  return `### Blockers\n\n${table(["Node", "What keeps it from being drained"], rows)}`;
}

function chartSection(
  proposal: NodeProposal,
  history: readonly PoolUtilisationSample[] | undefined,
): string {
  const chart = history ? utilisationChart(proposal.pool, history) : undefined;
  return chart ? `### Recent usage\n\n${chart}` : "";
}
