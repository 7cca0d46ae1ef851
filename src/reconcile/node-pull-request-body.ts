import { formatCpu, formatMemory, formatPercent } from "../planning/format.ts";
import type { PoolUtilisationSample } from "../planning/node-plan-input.ts";
import type { NodeProposal } from "../planning/proposal.ts";
import type { ResourceUtilisation } from "../planning/utilisation.ts";
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
    summary(proposal, lines, context.manual),
    poolTable(proposal),
    changeLine(proposal),
    why(lines, context.manual),
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

function summary(
  proposal: NodeProposal,
  lines: Map<string, string[]>,
  manual: ManualRequest | undefined,
): string {
  const pool = `**${proposal.pool}**`;
  if (manual)
    return `@${manual.by} asked for ${manual.count} nodes in pool ${pool} with ${code(`/autoscaler scale ${proposal.pool}=${manual.count}`)}.`;
  const first = lines.get("trigger")?.[0];
  const because = first ? `: ${first}` : "";
  if (proposal.direction === "up") return `Pool ${pool} needs more room${because}.`;
  const removing =
    proposal.decision.removing ?? (proposal.decision.removes ? [proposal.decision.removes] : []);
  const removes =
    removing.length > 0
      ? `; the change removes ${removing.map((name) => `**${name}**`).join(", ")}`
      : "";
  return `Pool ${pool} has more room than it needs${because}${removes}.`;
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

function usage(u: ResourceUtilisation): string {
  if (u.percent === undefined) return "unknown";
  const peak =
    u.peakPercent !== undefined && u.percentile !== undefined
      ? ` (p${u.percentile} ${formatPercent(u.peakPercent)})`
      : "";
  return `${formatPercent(u.percent)}${peak}`;
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

function why(lines: Map<string, string[]>, manual: ManualRequest | undefined): string {
  const items = [
    ...(manual ? [`requested by @${manual.by}; the bounds allow it`] : []),
    ...(lines.get("trigger") ?? []),
    ...(lines.get("hold") ?? []).map((hold) => `held back: ${hold}`),
  ];
  if (items.length === 0) return "";
  return `### Why\n\n${bullets(items)}`;
}

function pendingSection(proposal: NodeProposal): string {
  const pending = proposal.decision.pending;
  const placed = [...pending.onExisting, ...pending.onNew];
  if (placed.length === 0 && pending.neverFit.length === 0 && pending.overMax.length === 0)
    return "";
  const rows = [
    ...placed.map((pod) => [
      pod.pod,
      formatCpu(pod.cpu),
      formatMemory(pod.memory),
      where(pod.node),
    ]),
    ...pending.overMax.map((pod) => [
      pod.pod,
      formatCpu(pod.cpu),
      formatMemory(pod.memory),
      "stays pending: beyond the pool's max",
    ]),
  ];
  const neverFit = explanationOf(proposal).get("never fits") ?? [];
  return sections(
    `### Pending pods\n\n${table(["Pod", "CPU", "Memory", "Goes to"], rows)}`,
    neverFit.length > 0 ? `Never fit this pool, so they add no node:\n\n${bullets(neverFit)}` : "",
  );
}

function where(node: string): string {
  const fresh = /^new-(\d+)$/.exec(node);
  return fresh ? `new node ${fresh[1]}` : `free room on ${node}`;
}

function scaleDownSection(proposal: NodeProposal, lines: Map<string, string[]>): string {
  if (proposal.direction !== "down") return "";
  const conditions = lines.get("scale-down") ?? [];
  if (conditions.length === 0) return "";
  return `### Scale-down conditions\n\n${bullets(conditions)}`;
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
