import type { BotPullRequest, ClosedBotPullRequest } from "../forge/forge.ts";
import type { Proposal } from "../planning/proposal.ts";

/** What another repository the app manages holds of the app-wide limits. */
export interface OtherRepository {
  /** `owner/name`. */
  repository: string;
  /** Its bot pull requests open now. */
  open: number;
  /** Its pull requests opened in the last hour (open or closed since). */
  opened: number;
}

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
  /**
   * The other repositories the app manages: the app-wide limits count theirs too. Absent: this
   * repository is counted alone (the command line, the demo).
   */
  others?: readonly OtherRepository[];
  /**
   * The repositories whose proposals have waited for room longer than `proposal`: room is
   * theirs first, one each, so no repository's changes wait for ever behind another's.
   */
  ahead?: (proposal: Proposal) => readonly string[];
}

/**
 * Which limit held a proposal back: the app's (`open`, `per-hour`, `queue` for room kept for
 * older proposals, `unknown` while another repository's pull requests are not known yet) or the
 * repository's own (`resources`).
 */
export type LimitKind = "open" | "per-hour" | "queue" | "unknown" | "resources";

export interface Deferral {
  proposal: Proposal;
  reason: string;
  limit: LimitKind;
}

interface Counts {
  open: number;
  openResources: number;
  opened: number;
}

const HOUR = 60 * 60 * 1000;

/**
 * Which new pull requests may open now, in the order given (most important first): each limit
 * counts what is open and what opened in the last hour, in this repository and, when `others`
 * is given, in every repository the app manages. Updates of open pull requests are never
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
  const counts: Counts = {
    open: input.open.length,
    openResources: input.open.filter((pr) => pr.key.startsWith("resources")).length,
    opened: recent,
  };
  const allowed: Proposal[] = [];
  const deferred: Deferral[] = [];
  for (const proposal of candidates) {
    const held = limitReason(proposal, counts, input);
    if (held) {
      deferred.push({ proposal, ...held });
      continue;
    }
    allowed.push(proposal);
    counts.open++;
    counts.opened++;
    if (proposal.kind === "resources") counts.openResources++;
  }
  return { allowed, deferred };
}

function limitReason(
  proposal: Proposal,
  counts: Counts,
  input: LimitInput,
): { reason: string; limit: LimitKind } | undefined {
  const others = input.others ?? [];
  const open = counts.open + sum(others, "open");
  const opened = counts.opened + sum(others, "opened");
  if (open >= input.maxOpen)
    return {
      limit: "open",
      reason: `${open} pull requests of pr-autoscaler are open, at most ${input.maxOpen} (PR_AUTOSCALER_MAX_OPEN)${elsewhere(others, "open")}`,
    };
  if (opened >= input.maxPerHour)
    return {
      limit: "per-hour",
      reason: `${opened} pull requests opened in the last hour, at most ${input.maxPerHour} (PR_AUTOSCALER_MAX_PER_HOUR)${elsewhere(others, "opened")}`,
    };
  if (
    proposal.kind === "resources" &&
    input.maxOpenResources !== undefined &&
    counts.openResources >= input.maxOpenResources
  )
    return {
      limit: "resources",
      reason: `${counts.openResources} right-sizing pull requests are open, at most ${input.maxOpenResources} (rightsizing.maxOpenPullRequests)`,
    };
  const ahead = input.ahead?.(proposal) ?? [];
  if (open + ahead.length >= input.maxOpen || opened + ahead.length >= input.maxPerHour)
    return {
      limit: "queue",
      reason: `the room left under PR_AUTOSCALER_MAX_OPEN (${input.maxOpen}) and PR_AUTOSCALER_MAX_PER_HOUR (${input.maxPerHour}) goes first to changes that have waited longer in ${names(ahead)}`,
    };
  return undefined;
}

function sum(others: readonly OtherRepository[], field: "open" | "opened"): number {
  return others.reduce((total, other) => total + other[field], 0);
}

/** The other repositories' share of a count, named: `; 2 of them in a/b (1), c/d (1)`. */
function elsewhere(others: readonly OtherRepository[], field: "open" | "opened"): string {
  const holding = others.filter((other) => other[field] > 0);
  if (holding.length === 0) return "";
  const list = holding
    .map((other) => `${other.repository} (${other[field]})`)
    .sort()
    .join(", ");
  return `; ${sum(holding, field)} of them in other repositories: ${list}`;
}

/** Distinct names, sorted, joined for a sentence. */
function names(repositories: readonly string[]): string {
  return [...new Set(repositories)].sort().join(", ");
}
