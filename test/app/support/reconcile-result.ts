import type { ReconcileResult } from "../../../src/reconcile/reconcile-types.ts";

/** A reconcile of `octocat/infra` that did nothing, with `overrides` on top. */
export function reconcileResult(overrides: Partial<ReconcileResult> = {}): ReconcileResult {
  return {
    repository: "octocat/infra",
    status: "ok",
    head: "0123456789abcdef0123456789abcdef01234567",
    pullRequests: [],
    merges: [],
    commands: [],
    dashboard: "unchanged",
    notes: [],
    errors: [],
    paused: false,
    decisions: [],
    planned: [],
    proposals: [],
    ...overrides,
  };
}
