import { KubeApiError } from "../cluster/kube-client.ts";
import { type DrainClock, systemClock } from "./drain-result.ts";
import type { WaitNodesApi } from "./wait-nodes-api.ts";
import { formatSelector } from "./wait-nodes-selector.ts";
import {
  assessPool,
  type PoolAssessment,
  type PoolMember,
  type PoolTarget,
} from "./wait-nodes-state.ts";

export interface WaitNodesOptions {
  pool: string;
  target: PoolTarget;
  timeoutMs: number;
  /** Between two looks at the nodes. */
  intervalMs: number;
  /** Delete the Node objects of `target.gone` once they are cordoned and NotReady. */
  deleteGone: boolean;
  clock?: DrainClock;
  onEvent?: (event: WaitEvent) => void;
}

export type WaitOutcome = "ready" | "timed-out" | "failed";

export interface WaitMember extends PoolMember {
  /** Age at the last look, in seconds; absent when the node has no creation time. */
  ageSeconds?: number;
}

export interface GoneReport {
  name: string;
  /** gone: no Node object; deleted: this wait deleted it; present: still there; unknown: never read. */
  state: "gone" | "deleted" | "present" | "unknown";
  ready?: boolean;
  unschedulable?: boolean;
}

export interface WaitResult {
  outcome: WaitOutcome;
  pool: string;
  /** The selector in kubectl's syntax, or "every node that is not control plane". */
  selector: string;
  count: number;
  /** Pool members at the last look; absent members are not listed (see `missing`). */
  members: WaitMember[];
  ready: number;
  missing: number;
  gone: GoneReport[];
  message?: string;
  /** The last failed look at the nodes, when the last look failed. */
  lastError?: string;
  elapsedMs: number;
}

export type WaitEvent =
  | { type: "status"; pool: string; count: number; assessment: PoolAssessment }
  | { type: "deleted"; node: string }
  | { type: "error"; message: string };

/**
 * Looks at the nodes every `intervalMs` until the pool has `count` Ready nodes and the nodes
 * to be gone are gone, or until the timeout. Failed looks that may succeed later (no answer,
 * 5xx, throttling) are retried; a refusal (401, 403) ends the wait at once.
 */
export async function waitForNodes(
  api: WaitNodesApi,
  options: WaitNodesOptions,
): Promise<WaitResult> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const deadline = started + options.timeoutMs;
  /** Name → UID of the Node objects this wait deleted. */
  const deleted = new Map<string, string>();
  let last: PoolAssessment | undefined;
  let lastError: string | undefined;
  const finish = (outcome: WaitOutcome, message?: string) =>
    result(options, { outcome, last, deleted, lastError, now: clock.now(), started, message });
  for (;;) {
    try {
      last = await look(api, options, deleted);
      lastError = undefined;
    } catch (error) {
      if (!(error instanceof KubeApiError)) throw error;
      if (!error.retryable) return finish("failed", error.message);
      lastError = error.message;
      options.onEvent?.({ type: "error", message: error.message });
    }
    if (last?.done && lastError === undefined) return finish("ready");
    const now = clock.now();
    if (now >= deadline) return finish("timed-out", timeoutMessage(options, last, lastError));
    await clock.sleep(Math.min(options.intervalMs, deadline - now));
  }
}

/** One look: list, assess, delete what may be deleted, and tell. */
async function look(
  api: WaitNodesApi,
  options: WaitNodesOptions,
  deleted: Map<string, string>,
): Promise<PoolAssessment> {
  const assessment = assessPool(await api.listNodes(), options.target);
  if (options.deleteGone) {
    for (const node of assessment.lingering.filter((n) => n.deletable)) {
      if (!(await api.deleteNode(node))) continue;
      deleted.set(node.name, node.uid);
      options.onEvent?.({ type: "deleted", node: node.name });
    }
    // A Node object of the same name with another UID is a node that joined again.
    const remaining = assessment.lingering.filter((n) => deleted.get(n.name) !== n.uid);
    assessment.lingering = remaining;
    assessment.done = assessment.missing === 0 && remaining.length === 0;
  }
  options.onEvent?.({
    type: "status",
    pool: options.pool,
    count: options.target.count,
    assessment,
  });
  return assessment;
}

function timeoutMessage(
  options: WaitNodesOptions,
  last: PoolAssessment | undefined,
  lastError: string | undefined,
): string {
  if (last === undefined) return `could not read the nodes: ${lastError ?? "no answer"}`;
  const parts: string[] = [];
  if (last.missing > 0) {
    parts.push(
      `the pool has ${last.ready} of ${options.target.count} nodes Ready (${last.missing} missing)`,
    );
  }
  if (last.lingering.length > 0) {
    parts.push(`${last.lingering.map((n) => n.name).join(", ")} still there`);
  }
  if (lastError !== undefined) parts.push(`the last look failed: ${lastError}`);
  return parts.join("; ");
}

interface Finish {
  outcome: WaitOutcome;
  last: PoolAssessment | undefined;
  deleted: Map<string, string>;
  lastError: string | undefined;
  now: number;
  started: number;
  message: string | undefined;
}

function result(options: WaitNodesOptions, finish: Finish): WaitResult {
  const { last, deleted, now } = finish;
  const lingering = new Map((last?.lingering ?? []).map((n) => [n.name, n]));
  const report: WaitResult = {
    outcome: finish.outcome,
    pool: options.pool,
    selector: formatSelector(options.target.selector),
    count: options.target.count,
    members: (last?.members ?? []).map((member) => withAge(member, now)),
    ready: last?.ready ?? 0,
    missing: last?.missing ?? options.target.count,
    gone: options.target.gone.map((name): GoneReport => {
      const node = lingering.get(name);
      if (node === undefined && deleted.has(name)) return { name, state: "deleted" };
      if (node === undefined) return { name, state: last ? "gone" : "unknown" };
      return { name, state: "present", ready: node.ready, unschedulable: node.unschedulable };
    }),
    elapsedMs: now - finish.started,
  };
  if (finish.message !== undefined) report.message = finish.message;
  if (finish.lastError !== undefined) report.lastError = finish.lastError;
  return report;
}

function withAge(member: PoolMember, now: number): WaitMember {
  const created = Date.parse(member.createdAt);
  if (Number.isNaN(created)) return { ...member };
  return { ...member, ageSeconds: Math.max(0, Math.floor((now - created) / 1000)) };
}
