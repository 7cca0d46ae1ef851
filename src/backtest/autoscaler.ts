import type { PoolRepoFacts } from "../planning/node-plan-input.ts";
import type { Snapshot } from "../planning/snapshot.ts";

/** What an autoscaler sees at one check. */
export interface AutoscalerView {
  now: Date;
  snapshot: Snapshot;
  repo: PoolRepoFacts[];
}

/** What it asks of the forge for one pool. */
export type PullRequestIntent =
  | { pool: string; action: "open" | "update"; desired: number; reason: string }
  | { pool: string; action: "close"; reason: string };

/** An autoscaler under test: checked every `intervalMs`, it opens, updates or closes PRs. */
export interface Autoscaler {
  name: string;
  intervalMs: number;
  decide(view: AutoscalerView): PullRequestIntent[];
}
