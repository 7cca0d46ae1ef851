import type { ClosedBotPullRequest } from "../forge/forge.ts";
import type { NodeDecision } from "../planning/node-decision.ts";
import type { PlanNote, Proposal } from "../planning/proposal.ts";
import { utcTime } from "../util/utc-time.ts";
import type { ClosedSeen, ControlState, RejectRecord, ScaleRequest } from "./control-state.ts";

/** What the rejections are judged on, besides the state. */
export interface RejectionInput {
  state: ControlState;
  /** The bot's recently closed pull requests, each node one with the change it proposed. */
  recentlyClosed: readonly ClosedBotPullRequest[];
  decisions: readonly NodeDecision[];
  /** The numbers of the bot's open pull requests (a rejected one may have been reopened). */
  open: readonly number[];
}

export interface RejectionResult {
  state: ControlState;
  /** The proposals without the changes a standing rejection holds back. */
  proposals: Proposal[];
  notes: PlanNote[];
}

/** Before any close: the first look finds no history when nothing was ever rejected. */
const BEFORE_ANY_CLOSE = "1970-01-01T00:00:00Z";

/**
 * Renovate's rule for node pull requests: one people closed without merging, while the bot still
 * controlled it, is a "no" to that change of that pool. The same change (from the same count to
 * the same count) is not proposed again while the "no" stands; it lapses when the plan wants
 * another count, the default branch's count moves, or the pull request is reopened. A requested
 * count (`manual`, `/autoscaler scale`) is never held back: a person asked.
 */
export function applyRejections(
  input: RejectionInput,
  proposals: readonly Proposal[],
  manual: ReadonlyMap<string, ScaleRequest>,
): RejectionResult {
  const taken = newRejections(input.state, input.recentlyClosed);
  let rejected = input.state.rejected;
  for (const [pool, record] of taken.rejections) {
    // A "no" that is void as soon as it is seen (the plan moved on meanwhile) was never in force,
    // and does not replace one that still is.
    if (lapseReason(input, pool, record) === undefined) rejected = { ...rejected, [pool]: record };
  }
  const result: RejectionResult = {
    state: { ...input.state, rejected, closedSeen: taken.closedSeen },
    proposals: [...proposals],
    notes: [],
  };
  for (const [pool, record] of Object.entries(rejected)) {
    const lapse = lapseReason(input, pool, record);
    if (lapse === undefined) {
      holdBack(result, pool, record, manual);
      continue;
    }
    const { [pool]: _, ...rest } = result.state.rejected;
    result.state = { ...result.state, rejected: rest };
    result.notes.push({ level: "info", subject: `nodes-${pool}`, message: lapse });
  }
  return result;
}

/**
 * The rejections among the closes not looked at yet, the latest per pool, and the new mark of
 * what was looked at. Only rejections move the mark: the bot's own closes and merges never are
 * one, and leaving them out keeps the state (and the dashboard that holds it) unchanged by them.
 * The first look (no mark yet: a new state, or one written before rejections were kept) takes
 * what is closed as history, as comments made before the state are: the closes of a version
 * that did not mark its own cannot be told from people's.
 */
function newRejections(
  state: ControlState,
  closed: readonly ClosedBotPullRequest[],
): { rejections: Map<string, RejectRecord>; closedSeen: ClosedSeen } {
  const candidates = closed.flatMap((pr) => {
    const record = rejectionOf(pr);
    return record ? [{ pool: pr.key.slice("nodes-".length), record }] : [];
  });
  const rejections = new Map<string, RejectRecord>();
  const seen = state.closedSeen;
  const records = candidates.map((candidate) => candidate.record);
  if (seen === undefined) return { rejections, closedSeen: markAfter(undefined, records) };
  const unseen = candidates
    .filter(
      ({ record }) =>
        record.at > seen.at || (record.at === seen.at && !seen.numbers.includes(record.number)),
    )
    .sort((a, b) => a.record.at.localeCompare(b.record.at) || a.record.number - b.record.number);
  for (const { pool, record } of unseen) rejections.set(pool, record);
  return { rejections, closedSeen: markAfter(seen, records) };
}

/** A closed pull request as a rejection, when it is one. */
function rejectionOf(pr: ClosedBotPullRequest): RejectRecord | undefined {
  if (!pr.key.startsWith("nodes-") || pr.mergedAt !== undefined) return undefined;
  // Closed by the bot (the plan no longer wanted it), unknown, or left to people (who close it
  // precisely to get a fresh proposal): not a "no" to the change.
  if (pr.closedBy !== "people" || pr.control !== "bot" || !pr.change) return undefined;
  return { number: pr.number, from: pr.change.from, to: pr.change.to, at: pr.closedAt };
}

/** The latest closing time among the rejections and the mark, with those closed then. */
function markAfter(seen: ClosedSeen | undefined, records: readonly RejectRecord[]): ClosedSeen {
  const latest = records.reduce(
    (at, record) => (record.at > at ? record.at : at),
    seen?.at ?? BEFORE_ANY_CLOSE,
  );
  const then = records.filter((record) => record.at === latest).map((record) => record.number);
  const kept = seen?.at === latest ? seen.numbers : [];
  return { at: latest, numbers: [...new Set([...kept, ...then])].sort((a, b) => a - b) };
}

/** Why the rejection no longer stands, or undefined while it does. */
function lapseReason(
  input: RejectionInput,
  pool: string,
  record: RejectRecord,
): string | undefined {
  const decision = input.decisions.find((d) => d.pool === pool);
  const what = `#${record.number} (${record.from} → ${record.to}, closed without merging)`;
  if (!decision) return `${what} no longer counts: the pool is no longer configured`;
  if (input.open.includes(record.number)) return `proposed again: #${record.number} was reopened`;
  if (decision.current !== undefined && decision.current !== record.from)
    return `proposed again: the default branch has ${decision.current} nodes now, not the ${record.from} of ${what}`;
  const wanted = settledCount(decision);
  if (wanted !== undefined && wanted !== record.to)
    return `proposed again: the plan now wants ${wanted} nodes, not the ${record.to} of ${what}`;
  return undefined;
}

/**
 * The count the plan wants for the pool, when it says: a change, or no change with nothing
 * holding it back. A held decision (an incomplete snapshot, nodes joining, pods that have not
 * waited long enough) does not say what the plan wants, so it lifts no rejection.
 */
function settledCount(decision: NodeDecision): number | undefined {
  if (decision.action !== "none" || decision.holds.length === 0) return decision.desired;
  return undefined;
}

/** Takes the rejected change out of the proposals (unless a person asked for it) and says so. */
function holdBack(
  result: RejectionResult,
  pool: string,
  record: RejectRecord,
  manual: ReadonlyMap<string, ScaleRequest>,
): void {
  const key = `nodes-${pool}`;
  const asked = manual.get(key);
  if (!asked) {
    result.proposals = result.proposals.filter(
      (p) => !(p.kind === "nodes" && p.key === key && p.from === record.from && p.to === record.to),
    );
  }
  result.notes.push({
    level: "info",
    subject: key,
    message: asked
      ? `#${record.number} (${record.from} → ${record.to}) was closed without merging; the count @${asked.by} asked for is proposed all the same`
      : rejectionText(pool, record),
  });
}

/** How a standing rejection reads on the dashboard and in the notes. */
export function rejectionText(pool: string, record: RejectRecord): string {
  return `Scale ${pool} from ${record.from} to ${record.to}: #${record.number} closed without merging on ${utcTime(record.at)}; not proposed again until the plan or the count changes; \`/autoscaler scale ${pool}=${record.to}\` proposes it`;
}
