import { editValue, readValue, targetEditOptions } from "../editors/edit-file.ts";
import type { ClosedBotPullRequest } from "../forge/forge.ts";
import { explainNodeDecision } from "../planning/explain-node-decision.ts";
import type { NodeDecision } from "../planning/node-decision.ts";
import type { NodeProposal, PlanNote, Proposal } from "../planning/proposal.ts";
import type { ResourcesProposal } from "../rightsizing/resources-proposal.ts";
import type { ControlState, IgnoreRecord, ScaleRequest } from "./control-state.ts";
import { applyRejections } from "./rejections.ts";

export interface ControlInput {
  proposals: readonly Proposal[];
  decisions: readonly NodeDecision[];
  /** The pools' target files on the default branch. */
  files: ReadonlyMap<string, string>;
  state: ControlState;
  /** The bot's recently closed pull requests, each node one with the change it proposed. */
  recentlyClosed: readonly ClosedBotPullRequest[];
  /** The numbers of the bot's open pull requests. */
  open: readonly number[];
  /** `rightsizing.tolerance` in %: how far an ignored recommendation may move. */
  tolerance: number;
}

export interface ControlledPlan {
  proposals: Proposal[];
  /** Manual requests behind node proposals, by key. */
  manual: Map<string, ScaleRequest>;
  notes: PlanNote[];
  /**
   * The state with fulfilled or cancelled requests removed, ignored targets recorded, and
   * rejections taken or lapsed.
   */
  state: ControlState;
}

/**
 * Applies what people asked for to the plan: a requested count replaces the planner's for its
 * pool until the default branch has it (or its pull request is closed without merging), an
 * ignored right-sizing change stays out until its recommendation moves beyond the tolerance, and
 * a node change people closed without merging stays out while that "no" stands (rejections.ts).
 * Pauses are not applied here: a paused pull request is left as it is, not dropped.
 */
export function applyControl(input: ControlInput): ControlledPlan {
  const result: ControlledPlan = {
    proposals: [...input.proposals],
    manual: new Map(),
    notes: [],
    state: input.state,
  };
  for (const [pool, request] of Object.entries(input.state.scale))
    applyScale(input, result, pool, request);
  for (const [key, record] of Object.entries(input.state.ignored))
    applyIgnore(input, result, key, record);
  const rejections = applyRejections(
    {
      state: result.state,
      recentlyClosed: input.recentlyClosed,
      decisions: input.decisions,
      open: input.open,
    },
    result.proposals,
    result.manual,
  );
  result.state = rejections.state;
  result.proposals = rejections.proposals;
  result.notes.push(...rejections.notes);
  return result;
}

function applyScale(
  input: ControlInput,
  result: ControlledPlan,
  pool: string,
  request: ScaleRequest,
) {
  const subject = `pool/${pool}`;
  const key = `nodes-${pool}`;
  const drop = (message: string) => {
    const { [pool]: _, ...rest } = result.state.scale;
    result.state = { ...result.state, scale: rest };
    result.notes.push({ level: "info", subject, message });
  };
  const decision = input.decisions.find((d) => d.pool === pool);
  if (!decision)
    return drop(
      `the request of @${request.by} for ${request.count} nodes is dropped: the pool is no longer configured`,
    );
  if (request.count < decision.bounds.min || request.count > decision.bounds.max)
    return drop(
      `the request of @${request.by} for ${request.count} nodes is dropped: it is outside min ${decision.bounds.min} and max ${decision.bounds.max}`,
    );
  const cancelled = input.recentlyClosed.find(
    (pr) => pr.key === key && pr.mergedAt === undefined && pr.closedAt > request.at,
  );
  if (cancelled)
    return drop(
      `the request of @${request.by} for ${request.count} nodes is dropped: #${cancelled.number} was closed without merging`,
    );
  if (decision.current === undefined) {
    result.notes.push({
      level: "warning",
      subject,
      message: `the request of @${request.by} for ${request.count} nodes waits: the current count is unknown`,
    });
    return;
  }
  if (decision.current === request.count)
    return drop(`the default branch has the ${request.count} nodes @${request.by} asked for`);
  const text = input.files.get(decision.target.file);
  if (text === undefined) {
    result.notes.push({
      level: "warning",
      subject,
      message: `${decision.target.file} could not be read for the request of @${request.by}`,
    });
    return;
  }
  const proposal = manualProposal(decision, text, decision.current, request);
  result.proposals = [proposal, ...result.proposals.filter((p) => p.key !== key)];
  result.manual.set(key, request);
}

function manualProposal(
  decision: NodeDecision,
  text: string,
  from: number,
  request: ScaleRequest,
): NodeProposal {
  const { file, path } = decision.target;
  const options = targetEditOptions(decision.target);
  const before = readValue(text, path, file, options);
  const after = typeof before === "string" ? String(request.count) : request.count;
  const direction = request.count > from ? "up" : "down";
  const manual: NodeDecision = {
    ...decision,
    action: direction === "up" ? "scale-up" : "scale-down",
    desired: request.count,
  };
  const [, ...details] = explainNodeDecision(decision);
  return {
    kind: "nodes",
    key: `nodes-${decision.pool}`,
    pool: decision.pool,
    from,
    to: request.count,
    direction,
    changes: [{ ...decision.target, before, after }],
    edits: [{ file, before: text, after: editValue(text, path, after, file, options) }],
    reasons: [
      `pool ${decision.pool} (${file} ${path}): ${from} → ${request.count}, asked for by @${request.by} (/autoscaler scale ${decision.pool}=${request.count})`,
      ...details,
    ],
    decision: manual,
  };
}

function applyIgnore(
  input: ControlInput,
  result: ControlledPlan,
  key: string,
  record: IgnoreRecord,
) {
  const proposal = result.proposals.find(
    (p): p is ResourcesProposal => p.kind === "resources" && p.key === key,
  );
  if (!proposal) return;
  const targets = targetsOf(proposal);
  const keep = () => {
    result.proposals = result.proposals.filter((p) => p !== proposal);
    result.notes.push({
      level: "info",
      subject: key,
      message: `ignored at the request of @${record.by} until the recommendation moves by more than ${input.tolerance} %`,
    });
  };
  if (record.targets === undefined) {
    result.state = {
      ...result.state,
      ignored: { ...result.state.ignored, [key]: { ...record, targets } },
    };
    return keep();
  }
  const recorded = record.targets;
  const moved = Object.entries(targets).some(([name, value]) => {
    const before = recorded[name];
    return (
      before === undefined ||
      before <= 0 ||
      (Math.abs(value - before) / before) * 100 > input.tolerance
    );
  });
  if (!moved) return keep();
  const { [key]: _, ...rest } = result.state.ignored;
  result.state = { ...result.state, ignored: rest };
  result.notes.push({
    level: "info",
    subject: key,
    message: `proposed again: the recommendation moved by more than ${input.tolerance} % since @${record.by} ignored it`,
  });
}

/** The VPA targets a proposal's changes rest on, by `namespace/workload/container/resource`. */
export function targetsOf(proposal: ResourcesProposal): Record<string, number> {
  const targets: Record<string, number> = {};
  for (const workload of proposal.workloads) {
    const { namespace, name } = workload.workload;
    for (const container of workload.containers) {
      for (const decision of container.resources) {
        const target = decision.recommendation.target;
        if (decision.action === "change" && target !== undefined)
          targets[`${namespace}/${name}/${container.name}/${decision.resource}`] = target;
      }
    }
  }
  return targets;
}
