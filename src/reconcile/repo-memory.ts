import type { ControlState } from "../control/control-state.ts";
import type { MergeRefusal } from "../merge/merge-refusal.ts";
import type { PoolUtilisationSample } from "../planning/node-plan-input.ts";
import type { RepoConfiguration } from "../policy/policy-validate.ts";
import type { RepoIndex } from "../rightsizing/repo-index.ts";

/** When a pull request's auto-merge was last looked at, and when to look again. */
export interface MergeMemo {
  /** What it depended on: head, labels and the default branch the policy came from. */
  basis: string;
  /** Epoch ms of the next look; Infinity: only when the basis changes or someone asks. */
  nextAt: number;
  /** GitHub's auto-merge was on after the last look (it may need turning off later). */
  autoMerge: boolean;
  /** GitHub refused the merge at the last look for a reason that does not clear by itself. */
  refusal?: MergeRefusal;
}

/**
 * What one process remembers about a repository between reconciles. Everything here only saves
 * requests or work: a restart loses it and the next reconcile reads it again.
 */
export interface RepoMemory {
  /** The configuration as validated at a default-branch head, and when (epoch ms). */
  configuration?: { headSha: string; value: RepoConfiguration; readAt?: number };
  /** Pool usage samples of earlier reconciles, oldest first (for windows and charts). */
  samples: PoolUtilisationSample[];
  /** The dashboard issue as this process last read or wrote it. */
  dashboard?: { number: number | undefined; body: string };
  /** The command state, once read from the dashboard (undefined inside: there was none). */
  control?: { state: ControlState | undefined };
  /** Epoch ms of the last look for new comments. */
  commandsPolledAt?: number;
  merges: Map<number, MergeMemo>;
  /** Default-branch heads whose configuration errors were already reported as a check. */
  configCheckedHead?: string;
  /**
   * With no configuration: the last default-branch head looked at for one under the `.yaml`
   * name, or `said` once one was found and reported (it is not looked for again).
   */
  misnamedConfig?: string;
  /** The right-sizing file index of a git tree. */
  rightsizingIndex?: { treeSha: string; index: RepoIndex };
}

export function createRepoMemory(): RepoMemory {
  return { samples: [], merges: new Map() };
}

/** Samples older than this are dropped: windows are minutes, charts cover two hours. */
export const SAMPLE_RETENTION_MS = 2 * 60 * 60 * 1000;

/** Adds this reconcile's samples and drops the old ones (and duplicates of the same moment). */
export function rememberSamples(
  memory: RepoMemory,
  samples: readonly PoolUtilisationSample[],
  now: Date,
): void {
  const cutoff = now.getTime() - SAMPLE_RETENTION_MS;
  const seen = new Set(memory.samples.map((sample) => `${sample.pool}@${sample.at}`));
  const fresh = samples.filter((sample) => !seen.has(`${sample.pool}@${sample.at}`));
  memory.samples = [...memory.samples, ...fresh].filter(
    (sample) => Date.parse(sample.at) >= cutoff,
  );
}
