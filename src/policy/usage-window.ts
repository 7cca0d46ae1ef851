import type { RepoConfig } from "./repo-config.ts";

/**
 * The longest window a pool's check of a level held judges (`scaleUp.window`,
 * `scaleDown.unneededTime`), whole seconds; 0 when every one is 0. Prometheus is asked for at
 * least this much, so each check finds its own window among the points.
 */
export function widestCheckSeconds(config: RepoConfig): number {
  const windows = config.pools.flatMap((pool) => [
    pool.scaleUp.window,
    pool.scaleDown.unneededTime,
  ]);
  return Math.ceil(Math.max(0, ...windows) / 1000);
}
