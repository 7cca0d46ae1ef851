import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { GUARD_CONFIG_PATH, withGuardNaming } from "../apply/guard-naming-issues.ts";
import { type ExitCode, InputError, UsageError } from "../errors.ts";
import { poolBoundsText } from "../policy/host-cap.ts";
import { type ConfigIssue, formatConfigIssues } from "../policy/load-repo-config.ts";
import { describePolicy } from "../policy/policy-describe.ts";
import { type RepoConfiguration, validateRepoConfiguration } from "../policy/policy-validate.ts";
import { REPO_CONFIG_PATH, type RepoConfig } from "../policy/repo-config.ts";
import { localRepo } from "../repo/local-repo.ts";
import { withPoolTargets } from "../repo/pool-target-issues.ts";
import { workingTreeDeletion } from "../repo/repo-reader.ts";
import { agreeing, counted } from "../util/plural.ts";
import { parseCommandArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { directoryReader } from "./directory-reader.ts";
import type { CliIo } from "./io.ts";
import { misnamedConfig } from "./misnamed-config.ts";

const USAGE = `Usage: pr-autoscaler validate [DIR] [--guard-config F] [--json]

Checks DIR's ${REPO_CONFIG_PATH} (default DIR: the current directory): its pools, each
pool's count in its target file of DIR, and its auto-merge policy, following extends into files
of DIR and the presets bundled with pr-autoscaler. Files in other repositories are not read (the app reads them). When DIR has the
plan guard's config (${GUARD_CONFIG_PATH}, or --guard-config F relative to DIR), its node names
must be those the pools' removal naming gives: the node a pull request removes is the one the
apply drains.

Each problem is printed as file:line:column: path: message. When the configuration is valid,
a short summary of the pools and of the auto-merge rules, in the order they apply, is printed.

Options:
  --guard-config F  the plan guard's config (default ${GUARD_CONFIG_PATH} when it exists)
  --json            print the result as JSON: { ok, issues, notes, rules }

Exit codes: 0 valid, 2 problems found or no configuration in DIR.
`;

const OPTIONS = { json: { type: "boolean" }, "guard-config": { type: "string" } } as const;

/** `pr-autoscaler validate`: the same validation the app runs on the default branch. */
export const validateCommand: Command = {
  name: "validate",
  usage: USAGE,
  run: runValidate,
};

async function runValidate(args: string[], io: CliIo): Promise<ExitCode> {
  const parsed = parseCommandArgs(args, OPTIONS, { min: 0, max: 1, names: "[DIR]" });
  // As for an empty flag: a variable a script left unset, not the current directory.
  if (parsed.positionals[0] === "")
    throw new UsageError("DIR expects a directory, got an empty argument");
  const dir = resolve(io.cwd, parsed.positionals[0] ?? ".");
  await requireDirectory(dir, parsed.positionals[0] ?? ".");
  const repo = localRepo(dir);
  const notACheckout = await repo.notACheckout();
  if (notACheckout !== undefined) throw new InputError(notACheckout);
  const read = directoryReader(dir);
  // A file the configuration extends that only this checkout lacks is said to be so.
  const deletedHere = new Set<string>();
  const checked = await validateRepoConfiguration({
    read,
    otherRepos: "skip",
    missing: async (path) => {
      const deleted = await workingTreeDeletion(repo, path);
      if (deleted !== undefined) deletedHere.add(deleted);
      return deleted;
    },
  });
  if (!checked.found) {
    // As plan says it: the branch, which the app reads, still has its configuration.
    const deleted = await workingTreeDeletion(repo, REPO_CONFIG_PATH);
    if (deleted !== undefined) throw new InputError(`${deleted}; nothing to check`);
    const misnamed = await misnamedConfig(dir);
    throw new InputError(
      `${join(dir, REPO_CONFIG_PATH)} does not exist: nothing to check${misnamed === undefined ? "" : `; ${misnamed}`}`,
    );
  }
  const targets = await withPoolTargets(
    checked,
    read,
    () => repo.listFiles().catch(() => []),
    repo,
  );
  const guardPath = parsed.values["guard-config"];
  if (guardPath !== undefined && (await read(undefined, guardPath)) === undefined)
    throw new InputError(`${guardPath} does not exist`);
  const result = await withGuardNaming(targets, read, guardPath);
  if (parsed.values.json) {
    io.stdout(`${JSON.stringify(jsonResult(result), null, 2)}\n`);
    return result.ok ? 0 : 2;
  }
  if (!result.ok) {
    io.stderr(`${formatConfigIssues(result.issues)}\n`);
    io.stderr(
      `${counted(result.issues.length, "problem")}: ${consequence(checked, result.issues, deletedHere)}.\n`,
    );
    for (const note of result.notes) io.stderr(`note: ${note}\n`);
    return 2;
  }
  io.stdout(`${summary(result).join("\n")}\n`);
  return 0;
}

/**
 * What the problems stop until they are fixed: the whole repository, or the pools they name.
 * Files the working tree lacks but the branch holds (`deletedHere`, by message) stop nothing the
 * app does, which reads the branch, until their deletion is committed.
 */
function consequence(
  checked: RepoConfiguration,
  issues: readonly ConfigIssue[],
  deletedHere: ReadonlySet<string>,
): string {
  const problems = issues.length;
  const [they, are] = problems === 1 ? ["it", "is"] : ["they", "are"];
  if (checked.ok)
    return `the configuration itself is valid, but the pools ${they} ${agreeing(problems, "names", "name")} cannot be scaled safely until ${they} ${are} fixed`;
  if (issues.every((issue) => deletedHere.has(issue.message)))
    return `the app reads the branch, which holds what the working tree lacks; committed as the working tree is, the app would change nothing in this repository and nothing would merge itself`;
  return `until ${they} ${are} fixed, the app changes nothing in this repository and nothing merges itself`;
}

async function requireDirectory(dir: string, shown: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new InputError(`${shown} is not a directory`);
}

function summary(result: RepoConfiguration): string[] {
  const lines = [`${REPO_CONFIG_PATH} is valid.`, describePools(result.config)];
  lines.push(...describePolicy(result.policy));
  for (const note of result.notes) lines.push(`note: ${note}`);
  return lines;
}

/** Each pool's bounds, with the host cap when it is below the max. */
function describePools(config: RepoConfig | undefined): string {
  const pools = config?.pools ?? [];
  if (pools.length === 0) return "pools: none (nothing is planned for nodes)";
  return `pools: ${pools.map(poolBoundsText).join(", ")}`;
}

function jsonResult(result: RepoConfiguration) {
  return {
    ok: result.ok,
    issues: result.issues,
    notes: result.notes,
    rules: result.ok
      ? result.policy.rules.map((rule) => ({
          name: rule.name,
          source: rule.source,
          action: rule.action,
        }))
      : [],
  };
}
