import type { ConfigIssue } from "../policy/load-repo-config.ts";
import type { PolicyFileReader } from "../policy/policy-resolve.ts";
import type { RepoConfiguration } from "../policy/policy-validate.ts";
import { REPO_CONFIG_PATH } from "../policy/repo-config.ts";
import { namingDisagreements, readRepoPoolNaming } from "./guard-agreement.ts";
import { loadGuardConfig } from "./guard-config.ts";

/** Where the apply workflow reads the plan guard's config by default. */
export const GUARD_CONFIG_PATH = ".github/pr-autoscaler-guard.yml";

/**
 * The configuration's result with the plan guard's naming checked against the pools' removal
 * naming, when the guard config at `path` is there (else the result as it is): the node a pull
 * request removes must be the one the apply drains. A guard config that cannot be used throws
 * the InputError `loadGuardConfig` gives, with its file:line; so does a configuration file that
 * cannot be read (`read` throws).
 */
export async function withGuardNaming(
  result: RepoConfiguration,
  read: PolicyFileReader,
  path: string = GUARD_CONFIG_PATH,
): Promise<RepoConfiguration> {
  const guardText = await read(undefined, path);
  const repoText = await read(undefined, REPO_CONFIG_PATH);
  if (guardText === undefined || repoText === undefined || result.config === undefined)
    return result;
  const disagreements = namingDisagreements(
    loadGuardConfig(guardText, path),
    readRepoPoolNaming(repoText, REPO_CONFIG_PATH),
  );
  if (disagreements.length === 0) return result;
  const issues: ConfigIssue[] = disagreements.map((disagreement) => ({
    file: disagreement.guard.file ?? path,
    line: disagreement.guard.line ?? 1,
    column: disagreement.guard.column ?? 1,
    path: `pools.${disagreement.pool}`,
    message: `${disagreement.message} (the pool's removal naming is at ${REPO_CONFIG_PATH}:${disagreement.repo.line ?? 1}); a zero-padded number is written {index+1:02}`,
  }));
  return { ...result, ok: false, issues: [...result.issues, ...issues] };
}
