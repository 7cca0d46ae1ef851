import type { NodeDecision } from "../planning/node-decision.ts";
import { planNodes } from "../planning/node-plan.ts";
import type { UsageHistory } from "../planning/node-plan-input.ts";
import { nodeProposals, type PlanOutput } from "../planning/proposal.ts";
import type { Snapshot } from "../planning/snapshot.ts";
import { type ConfigIssue, loadRepoConfig } from "../policy/load-repo-config.ts";
import { REPO_CONFIG_PATH, type RepoConfig } from "../policy/repo-config.ts";
import { readPoolFacts } from "../repo/pool-facts.ts";
import type { RepoReader } from "../repo/repo-reader.ts";

export type RepoConfigState =
  | { status: "absent" }
  | { status: "invalid"; issues: ConfigIssue[] }
  | { status: "ok"; config: RepoConfig };

/**
 * Reads `.github/pr-autoscaler.yml` (or the given text) from the repo's default branch. A repo
 * without the file is left alone; an invalid file is reported, never half-applied.
 */
export async function readRepoConfig(
  repo: RepoReader,
  override?: { text: string; file: string },
): Promise<RepoConfigState> {
  const text = override?.text ?? (await repo.readFile(REPO_CONFIG_PATH));
  if (text === undefined) return { status: "absent" };
  const loaded = loadRepoConfig(text, override?.file ?? REPO_CONFIG_PATH);
  return loaded.ok
    ? { status: "ok", config: loaded.config }
    : { status: "invalid", issues: loaded.issues };
}

export interface PlanRepoInput {
  repo: RepoReader;
  config: RepoConfig;
  snapshot: Snapshot;
  now: Date;
  history?: UsageHistory;
  /** Open scaling pull requests by pool, as the forge sees them. */
  openPullRequests?: ReadonlyMap<string, { number: number; desired?: number }>;
}

export interface PlanRepoResult extends PlanOutput {
  decisions: NodeDecision[];
}

/** Observe the repo, decide, and edit: every proposal's files are made and verified by the editors. */
export async function planRepo(input: PlanRepoInput): Promise<PlanRepoResult> {
  const { facts, files } = await readPoolFacts(input.repo, input.config);
  for (const fact of facts) {
    const open = input.openPullRequests?.get(fact.pool);
    if (open) fact.openPullRequest = open;
  }
  const decisions = planNodes({
    snapshot: input.snapshot,
    config: input.config,
    repo: facts,
    now: input.now,
    ...(input.history ? { history: input.history } : {}),
  });
  return { ...nodeProposals(decisions, files), decisions };
}
