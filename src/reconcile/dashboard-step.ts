import type { ControlState } from "../control/control-state.ts";
import type { RepoState } from "../forge/forge.ts";
import { withIssueMarker } from "../forge/marker.ts";
import type { ConfigIssue } from "../policy/load-repo-config.ts";
import {
  type DashboardInput,
  dashboardIssue,
  dashboardMarker,
  type OpenLine,
  renderDashboard,
} from "./dashboard.ts";
import type { ReconcileResult, ReconcileTarget } from "./reconcile-types.ts";
import type { MergeMemo } from "./repo-memory.ts";

/** What the dashboard shows before anything is planned (configuration or cluster errors). */
export function baseDashboard(control: ControlState, state: RepoState): DashboardInput {
  return {
    control,
    decisions: [],
    open: state.pullRequests.map((pr) => ({
      number: pr.number,
      title: pr.title,
      leftToPeople: pr.control === "human",
    })),
    recentlyClosed: state.recentlyClosed,
    waiting: [],
    notes: [],
  };
}

/**
 * The pull requests as GitHub will list them after this run's changes, so the next run finds
 * the dashboard already right and does not write it again; with GitHub's refusal to merge one,
 * as the last look at its merge (`merges`) found it.
 */
export function afterRun(
  base: DashboardInput,
  state: RepoState,
  result: ReconcileResult,
  now: Date,
  merges: ReadonlyMap<number, MergeMemo> = new Map(),
): DashboardInput {
  const open = openAfter(state, result).map((line) => {
    const refusal = line.number === undefined ? undefined : merges.get(line.number)?.refusal;
    return refusal ? { ...line, mergeRefusal: refusal } : line;
  });
  return {
    ...base,
    open,
    recentlyClosed: closedAfter(state, result, now),
  };
}

function gone(result: ReconcileResult): Set<number | undefined> {
  return new Set(
    result.pullRequests
      .filter((o) => o.action === "closed" || o.action === "already-applied")
      .map((o) => o.number),
  );
}

function merged(result: ReconcileResult): Set<number> {
  return new Set(result.merges.filter((m) => m.action === "merged").map((m) => m.number));
}

function openAfter(state: RepoState, result: ReconcileResult): OpenLine[] {
  const closed = gone(result);
  const done = merged(result);
  const titles = new Map(result.pullRequests.map((o) => [o.number, o.title]));
  const kept: OpenLine[] = state.pullRequests
    .filter((pr) => !closed.has(pr.number) && !done.has(pr.number))
    .map((pr) => ({
      number: pr.number,
      title: titles.get(pr.number) ?? pr.title,
      leftToPeople: pr.control === "human",
    }));
  const created: OpenLine[] = result.pullRequests
    .filter((o) => o.action === "created" && !kept.some((line) => line.number === o.number))
    .map((o) => ({ number: o.number, title: o.title ?? o.key, leftToPeople: false }));
  return [...kept, ...created].sort((a, b) => (a.number ?? Infinity) - (b.number ?? Infinity));
}

function closedAfter(
  state: RepoState,
  result: ReconcileResult,
  now: Date,
): DashboardInput["recentlyClosed"] {
  const closed = gone(result);
  const done = merged(result);
  const fresh = state.pullRequests
    .filter((pr) => closed.has(pr.number) || done.has(pr.number))
    .map((pr) => ({
      number: pr.number,
      key: pr.key,
      title: pr.title,
      labels: pr.labels,
      createdAt: pr.createdAt,
      closedAt: now.toISOString(),
      mergedAt: done.has(pr.number) ? now.toISOString() : undefined,
    }));
  const numbers = new Set(fresh.map((pr) => pr.number));
  return [...fresh, ...state.recentlyClosed.filter((pr) => !numbers.has(pr.number))];
}

/**
 * Writes the dashboard only when its text changed since this process last wrote or read it: an
 * unchanged dashboard costs no request. `beforeWrite` may throw StaleControlState first.
 */
export async function writeDashboard(
  target: ReconcileTarget,
  input: DashboardInput & { configIssues?: readonly ConfigIssue[] },
  result: ReconcileResult,
  beforeWrite?: () => Promise<void>,
): Promise<void> {
  const body = renderDashboard(input);
  const full = withIssueMarker(body, dashboardMarker(input.control));
  if (sameAsLast(target, full)) {
    result.dashboard = "unchanged";
    return;
  }
  await beforeWrite?.();
  // Looking may have found the same text written by another process.
  if (sameAsLast(target, full)) {
    result.dashboard = "unchanged";
    return;
  }
  try {
    const written = await target.forge.ensureIssue(dashboardIssue(input.control, body));
    target.memory.dashboard = { number: written.number, body: full };
    result.dashboard = written.action === "absent" ? "skipped" : written.action;
  } catch (error) {
    result.dashboard = "failed";
    result.errors.push(`dashboard: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function sameAsLast(target: ReconcileTarget, full: string): boolean {
  const last = target.memory.dashboard?.body;
  return last !== undefined && (last === full || withinOneBand(last, full));
}

/** A rounded figure of the dashboard: `~75 %`, or a signed change `~−65 %`. */
const FIGURE = /~([+−]?)(\d+) %/g;

/**
 * The same text but for rounded figures that each moved by one 5 % band at most: usage that
 * hovers at a band's edge (77.25 %, 77.75 %) would otherwise rewrite the issue at every run. A
 * change whose sign turns (`~−5 %` to `~+5 %`) moves by two.
 */
export function withinOneBand(before: string, after: string): boolean {
  if (before.replace(FIGURE, "~ %") !== after.replace(FIGURE, "~ %")) return false;
  const value = (match: RegExpMatchArray) => (match[1] === "−" ? -1 : 1) * Number(match[2]);
  const old = [...before.matchAll(FIGURE)].map(value);
  const now = [...after.matchAll(FIGURE)].map(value);
  return old.every((value, i) => Math.abs(value - (now[i] ?? value)) <= 5);
}
