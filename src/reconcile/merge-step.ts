import type { RepoState } from "../forge/forge.ts";
import { REFUSED_RETRY_MS } from "../merge/merge-refusal.ts";
import type { MergeOutcome } from "../merge/merge-when-ready.ts";
import { reviewRequestDue } from "../merge/review-record.ts";
import type { AutomergePolicy } from "../policy/automerge-policy.ts";
import { StaleControlState } from "./control-freshness.ts";
import type { PlannedPullRequest } from "./pull-request-content.ts";
import type { EnsuredPullRequest } from "./pull-request-step.ts";
import type {
  KeyOutcome,
  MergeRequest,
  ReconcileResult,
  ReconcileSettings,
} from "./reconcile-types.ts";
import type { MergeMemo } from "./repo-memory.ts";

export interface MergeStepInput {
  merge: (request: MergeRequest) => Promise<MergeOutcome>;
  state: RepoState;
  planned: ReadonlyMap<number, EnsuredPullRequest>;
  outcomes: readonly KeyOutcome[];
  policy: AutomergePolicy;
  memo: Map<number, MergeMemo>;
  settings: ReconcileSettings;
  /** Look at every pull request now (someone asked). */
  force: boolean;
  /** A check finished: pull requests that wait for checks, or GitHub refused, are looked at now. */
  checks: boolean;
  /** A pull request webhook came: pull requests GitHub refused to merge are looked at now. */
  pullRequestEvent: boolean;
  held: readonly number[];
  now: Date;
}

const CHANGED = new Set(["created", "updated", "rebuilt"]);

/**
 * Lets each of the bot's pull requests merge when its policy says so. A pull request is looked
 * at again only when something it depends on may have changed: it was just opened, updated or
 * rebuilt, its labels or the policy's branch moved, a check finished (webhook), a time it
 * waited for has come, someone asked, or, while it waits for checks without webhooks, every
 * `mergePollMs`. One GitHub refused to merge for a reason that does not clear by itself is looked
 * at again on such a change, a pull request webhook, or `REFUSED_RETRY_MS` later, not at every
 * poll. GitHub is not asked when the verdict alone says nothing can merge before a later time,
 * nor when a review rule's people were asked already (the body records it).
 */
export async function mergeReady(input: MergeStepInput): Promise<ReconcileResult["merges"]> {
  const merges: ReconcileResult["merges"] = [];
  for (const [number, planned] of input.planned) {
    // Only a head the forge knows to be the bot's change merges: one another run opened just
    // now is checked by the next reconcile.
    const botSha = planned.botSha;
    if (botSha === undefined) continue;
    const open = input.state.pullRequests.find((pr) => pr.number === number);
    const labels = open ? open.labels : planned.desired.labels;
    const basis = `${[...labels].sort().join(",")}|${input.state.head.sha}`;
    const outcome = input.outcomes.find((entry) => entry.number === number);
    const memo = input.memo.get(number);
    const waiting = memo !== undefined && Number.isFinite(memo.nextAt);
    const refused = memo?.refusal !== undefined;
    const due =
      input.force ||
      (input.checks && waiting) ||
      (input.pullRequestEvent && refused) ||
      input.held.includes(number) ||
      !memo ||
      memo.basis !== basis ||
      input.now.getTime() >= memo.nextAt ||
      (outcome !== undefined && CHANGED.has(outcome.action));
    if (!due) continue;
    const asked = input.force || input.held.includes(number);
    const fresh = outcome?.action === "created" || (memo !== undefined && !memo.autoMerge);
    const waitUntil = asked || !fresh ? undefined : localWait(planned, open?.body, input.now);
    if (waitUntil !== undefined) {
      // Known without asking GitHub: a person decides, or a time has to come first.
      input.memo.set(number, { basis, nextAt: waitUntil, autoMerge: false });
      continue;
    }
    try {
      const result = await input.merge({
        pullNumber: number,
        botSha,
        subject: planned.subject,
        policy: input.policy,
        defaultBranch: input.state.defaultBranch,
        recentlyClosed: input.state.recentlyClosed,
        now: input.now,
      });
      input.memo.set(number, {
        basis,
        nextAt: nextLook(result, input),
        autoMerge: result.action === "auto-merge-enabled" || result.action === "auto-merge-on",
        ...(result.refusal ? { refusal: result.refusal } : {}),
      });
      merges.push({ number, action: result.action, note: result.note });
    } catch (error) {
      if (error instanceof StaleControlState) throw error;
      input.memo.delete(number);
      merges.push({
        number,
        action: "failed",
        note: error instanceof Error ? error.message : String(error),
      });
    }
  }
  forgetUnplanned(input.memo, input.planned);
  return merges;
}

/** Forgets the looks at pull requests that are not the bot's planned ones after this run. */
export function forgetUnplanned(
  memo: Map<number, MergeMemo>,
  planned: ReadonlyMap<number, unknown>,
): void {
  for (const number of [...memo.keys()]) if (!planned.has(number)) memo.delete(number);
}

/**
 * When the policy's verdict, worked out here without the checks, already says nothing merges
 * before a later time (a person reviews: never by itself, once the review rule's people were
 * asked), that time; undefined when GitHub must be asked.
 */
function localWait(
  planned: PlannedPullRequest,
  body: string | undefined,
  now: Date,
): number | undefined {
  const { verdict } = planned;
  if (verdict.action === "review")
    return reviewRequestDue(verdict, body) ? undefined : Number.POSITIVE_INFINITY;
  const times = verdict.blockedBy.flatMap((blocker) =>
    blocker.kind !== "checks" && blocker.until ? [Date.parse(blocker.until)] : [],
  );
  const latest = Math.max(...times);
  return times.length > 0 && latest > now.getTime() ? latest : undefined;
}

/** When to look again: at the earliest time a blocker clears, or at the next poll for checks. */
function nextLook(outcome: MergeOutcome, input: MergeStepInput): number {
  const now = input.now.getTime();
  switch (outcome.action) {
    case "waiting": {
      const blockers = outcome.verdict?.blockedBy ?? [];
      const times = blockers.flatMap((blocker) =>
        blocker.until ? [Date.parse(blocker.until)] : [],
      );
      const checks = blockers.some((blocker) => blocker.kind === "checks") || blockers.length === 0;
      const candidates = [...times, ...(checks ? [now + input.settings.mergePollMs] : [])];
      return candidates.length === 0
        ? Number.POSITIVE_INFINITY
        : Math.max(now, Math.min(...candidates));
    }
    case "blocked":
      return now + Math.max(REFUSED_RETRY_MS, input.settings.mergePollMs);
    case "auto-merge-enabled":
    case "auto-merge-on":
      // GitHub merges by itself; a slow look notices a failure that needs the bot.
      return now + 3 * input.settings.mergePollMs;
    default:
      return Number.POSITIVE_INFINITY;
  }
}
