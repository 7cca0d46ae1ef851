import type { BotPullRequest, ClosedBotPullRequest } from "../forge/forge.ts";
import type { Proposal } from "../planning/proposal.ts";

export interface LimitInput {
  /** App-level: the bot's open pull requests at most, and new ones per rolling hour. */
  maxOpen: number;
  maxPerHour: number;
  /** `rightsizing.maxOpenPullRequests` from the repo config. */
  maxOpenResources: number | undefined;
  /** The bot's open pull requests that stay open after this run. */
  open: readonly BotPullRequest[];
  recentlyClosed: readonly ClosedBotPullRequest[];
  now: Date;
}

export interface Deferral {
  proposal: Proposal;
  reason: string;
}

const HOUR = 60 * 60 * 1000;

/**
 * Which new pull requests may open now, in the order given (most important first): each limit
 * counts what is open and what opened in the last hour. Updates of open pull requests are never
 * limited; the rest waits, with the limit that held it back.
 */
export function limitNewPullRequests(
  candidates: readonly Proposal[],
  input: LimitInput,
): { allowed: Proposal[]; deferred: Deferral[] } {
  const since = input.now.getTime() - HOUR;
  const recent = [...input.open, ...input.recentlyClosed].filter(
    (pr) => Date.parse(pr.createdAt) > since,
  ).length;
  let open = input.open.length;
  let openResources = input.open.filter((pr) => pr.key.startsWith("resources")).length;
  let opened = recent;
  const allowed: Proposal[] = [];
  const deferred: Deferral[] = [];
  for (const proposal of candidates) {
    const reason = limitReason(proposal, { open, openResources, opened }, input);
    if (reason) {
      deferred.push({ proposal, reason });
      continue;
    }
    allowed.push(proposal);
    open++;
    opened++;
    if (proposal.kind === "resources") openResources++;
  }
  return { allowed, deferred };
}

function limitReason(
  proposal: Proposal,
  counts: { open: number; openResources: number; opened: number },
  input: LimitInput,
): string | undefined {
  if (counts.open >= input.maxOpen)
    return `${counts.open} pull requests of pr-autoscaler are open, at most ${input.maxOpen} (PR_AUTOSCALER_MAX_OPEN)`;
  if (counts.opened >= input.maxPerHour)
    return `${counts.opened} pull requests opened in the last hour, at most ${input.maxPerHour} (PR_AUTOSCALER_MAX_PER_HOUR)`;
  if (
    proposal.kind === "resources" &&
    input.maxOpenResources !== undefined &&
    counts.openResources >= input.maxOpenResources
  )
    return `${counts.openResources} right-sizing pull requests are open, at most ${input.maxOpenResources} (rightsizing.maxOpenPullRequests)`;
  return undefined;
}
