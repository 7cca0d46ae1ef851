import { readConfigYaml } from "../policy/config-yaml.ts";
import type { ConfigIssue } from "../policy/load-repo-config.ts";
import type { PolicyFileReader } from "../policy/policy-resolve.ts";
import type { RepoConfiguration } from "../policy/policy-validate.ts";
import { REPO_CONFIG_PATH, type RepoConfig } from "../policy/repo-config.ts";
import { locateInYaml } from "../policy/yaml-locations.ts";
import { countAt, laterOverride, workingTreeCountProblem } from "./pool-facts.ts";
import { type RepoReader, UnreadableFileError, workingTreeDeletion } from "./repo-reader.ts";
import { variableFileFolders } from "./tfvars-precedence.ts";

/**
 * The pools whose count cannot be read from the repository's files: a target file that does not
 * exist or is no text file, a PATH it does not hold, a value that is no whole number, a count
 * that a variable file Terraform reads later overrides (with `listFiles`, the files of DIR). The app
 * holds such a pool (and only it) with a note on every run; `validate` and the configuration
 * check of a pull request report each at the line of the configuration that names it, so the
 * mistake is seen before the configuration merges. With `checkout` (the local checkout `read`
 * reads), a target deleted in its working tree while its branch holds it is said to be so, as
 * `plan` says it, not missing from the repo.
 */
export async function poolTargetIssues(
  configText: string,
  config: RepoConfig,
  read: PolicyFileReader,
  listFiles: () => Promise<string[]> = async () => [],
  checkout?: RepoReader,
): Promise<ConfigIssue[]> {
  const parsed = readConfigYaml(configText, REPO_CONFIG_PATH);
  if (!parsed.ok) return [];
  const { doc, lineCounter } = parsed.yaml;
  const issues: ConfigIssue[] = [];
  let listed: Promise<string[]> | undefined;
  const listing = () => {
    listed ??= listFiles();
    return listed;
  };
  for (const [i, pool] of config.pools.entries()) {
    const problem = await targetProblem(pool, read, listing, checkout);
    if (problem === undefined) continue;
    const path = ["pools", i, "target", problem.key];
    issues.push({
      file: REPO_CONFIG_PATH,
      ...locateInYaml(doc, lineCounter, path),
      path: `pools[${i}].target.${problem.key}`,
      message: `${problem.message}; ${problem.consequence ?? `the app holds pool ${pool.name} until it can read the count`}`,
    });
  }
  return issues;
}

/**
 * The configuration's result with each pool's count read through `read`: a valid configuration
 * whose pools' counts cannot all be read has problems too, at the lines naming them (its
 * `config` stays, telling them from problems of the configuration itself). Reads the
 * configuration's text and each target file once through `read`; without `listFiles`, a later
 * variable file overriding a count is not looked for (it is asked for the targets' folders,
 * which a list it cannot give whole at once must hold whole, as `RepoReader.listFiles`);
 * `checkout` as for `poolTargetIssues`.
 */
export async function withPoolTargets(
  result: RepoConfiguration,
  read: PolicyFileReader,
  listFiles?: (folders: readonly string[]) => Promise<string[]>,
  checkout?: RepoReader,
): Promise<RepoConfiguration> {
  if (!result.ok || result.config === undefined) return result;
  const text = await read(undefined, REPO_CONFIG_PATH);
  if (text === undefined) return result;
  const folders = variableFileFolders(result.config.pools.map((pool) => pool.target.file));
  let listed: Promise<string[]> | undefined;
  const listing = listFiles && (() => (listed ??= listFiles(folders)));
  const issues = await poolTargetIssues(text, result.config, read, listing, checkout);
  const held = checkout ? await heldByPlan(result.config, read, checkout, listing) : [];
  const notes = [...result.notes, ...held];
  return issues.length === 0 ? { ...result, notes } : { ...result, ok: false, issues, notes };
}

/**
 * The pools whose count reads in the checkout's working tree but is not the branch's (changed,
 * or in a file not committed yet), or is overridden by a variable file the working tree lacks
 * but the branch holds: no problem of what would be committed, but `plan` from this checkout
 * holds them until it is, and says why; so does a note here.
 */
async function heldByPlan(
  config: RepoConfig,
  read: PolicyFileReader,
  checkout: RepoReader,
  listing: (() => Promise<string[]>) | undefined,
): Promise<string[]> {
  const notes: string[] = [];
  for (const pool of config.pools) {
    // A file that cannot be read is a problem already, at its pool's line.
    const text = await read(undefined, pool.target.file).catch((error: unknown) => {
      if (error instanceof UnreadableFileError) return undefined;
      throw error;
    });
    const count = text === undefined ? undefined : countAt(text, pool);
    if (typeof count !== "number") continue;
    const problem =
      (await workingTreeCountProblem(checkout, pool, count)) ??
      (await branchOverride(pool, read, checkout, listing));
    if (problem !== undefined)
      notes.push(`pool ${pool.name}: plan from this checkout holds it: ${problem}`);
  }
  return notes;
}

/**
 * A later variable file that overrides the count on the branch only (`workingTreeOverride`);
 * one of the working tree that overrides it is a problem already.
 */
async function branchOverride(
  pool: RepoConfig["pools"][number],
  read: PolicyFileReader,
  checkout: RepoReader,
  listing: (() => Promise<string[]>) | undefined,
): Promise<string | undefined> {
  if (listing === undefined) return undefined;
  const found = await laterOverride(pool, (other) => read(undefined, other), listing, checkout);
  return found?.deleted ? found.problem : undefined;
}

async function targetProblem(
  pool: RepoConfig["pools"][number],
  read: PolicyFileReader,
  listing: () => Promise<string[]>,
  checkout: RepoReader | undefined,
): Promise<{ key: "file" | "path"; message: string; consequence?: string } | undefined> {
  const { file } = pool.target;
  let text: string | undefined;
  try {
    text = await read(undefined, file);
  } catch (error) {
    if (!(error instanceof UnreadableFileError)) throw error;
    return { key: "file", message: error.message };
  }
  if (text === undefined) return missingTarget(pool, checkout);
  const count = countAt(text, pool);
  if (typeof count !== "number") return { key: "path", message: count.problem };
  const overridden = await laterOverride(pool, (other) => read(undefined, other), listing);
  if (overridden === undefined) return undefined;
  const consequence = `plan holds pool ${pool.name}: a pull request that changes the count would change nothing Terraform applies`;
  return { key: "file", message: overridden.problem, consequence };
}

/**
 * A target `read` does not find: deleted in the checkout's working tree while its branch holds
 * it (the configuration is right: the app, which reads the branch, still reads the count), or
 * missing from the repo.
 */
async function missingTarget(
  pool: RepoConfig["pools"][number],
  checkout: RepoReader | undefined,
): Promise<{ key: "file"; message: string; consequence?: string }> {
  const { file } = pool.target;
  const deleted = checkout && (await workingTreeDeletion(checkout, file));
  if (!deleted) return { key: "file", message: `${file} does not exist in the repo` };
  // Still a problem: committed as it is, the checkout would leave the pool without a count.
  const consequence = `plan from this checkout holds pool ${pool.name}, and the app would once the deletion is committed`;
  return { key: "file", message: deleted, consequence };
}
