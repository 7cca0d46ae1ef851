import { GUARD_CONFIG_PATH, withGuardNaming } from "../apply/guard-naming-issues.ts";
import { formatFromName } from "../editors/edit-file.ts";
import { InputError } from "../errors.ts";
import type { CheckAnnotation, CheckReport, Forge } from "../forge/forge.ts";
import { poolBoundsText } from "../policy/host-cap.ts";
import { type ConfigIssue, formatConfigIssues } from "../policy/load-repo-config.ts";
import type { PolicyFileReader } from "../policy/policy-resolve.ts";
import { type RepoConfiguration, validateRepoConfiguration } from "../policy/policy-validate.ts";
import { REPO_CONFIG_PATH, type RepoConfig } from "../policy/repo-config.ts";
import { unlistedFilesMessage } from "../repo/pool-facts.ts";
import { withPoolTargets } from "../repo/pool-target-issues.ts";
import { laterVariableFiles } from "../repo/tfvars-precedence.ts";
import { agreeing } from "../util/plural.ts";
import { unreadableAsFileError } from "./forge-repo-reader.ts";

/** The check run that reports the configuration's problems. */
export const CONFIG_CHECK_NAME = "pr-autoscaler/config";

/**
 * GitHub shows annotations only for files of the commit; other places go on the config file. A
 * pool's count that cannot be read at a line of a file the pull request changes (`changed`: its
 * target, or a variable file that overrides it) is annotated there, where the change is, naming
 * the configuration's line as the plan's notes do.
 */
function annotationsOf(
  configuration: RepoConfiguration,
  changed: readonly string[],
): CheckAnnotation[] {
  return configuration.issues.map((issue) => {
    const local = !issue.file.includes(":");
    const where = issue.path ? `${issue.path}: ` : "";
    const annotation = { level: "failure", title: "pr-autoscaler configuration" } as const;
    const inChange = local ? changedLineOf(issue, changed) : undefined;
    if (inChange)
      return {
        ...annotation,
        path: inChange.file,
        startLine: inChange.line,
        message: `${issue.message} (${issue.path} at ${issue.file}:${issue.line})`,
      };
    return {
      ...annotation,
      path: local ? issue.file : REPO_CONFIG_PATH,
      startLine: local ? Math.max(1, issue.line) : 1,
      message: local
        ? `${where}${issue.message}`
        : `${issue.file}:${issue.line}: ${where}${issue.message}`,
    };
  });
}

/**
 * The line of one of the `changed` files a pool's count cannot be read at, which the message of
 * a problem of its target begins with, as `validate` gives it: the target's line
 * (`terraform/terraform.tfvars:2:16: worker_count is the expression var.x + 1; …`) or the
 * overriding variable file's (`terraform/prod.auto.tfvars:2:16: worker_count is set here too, …`).
 */
function changedLineOf(
  issue: ConfigIssue,
  changed: readonly string[],
): { file: string; line: number } | undefined {
  if (!/^pools\[\d+\]\.target\.(?:file|path)$/.test(issue.path)) return undefined;
  for (const file of changed) {
    if (!issue.message.startsWith(`${file}:`)) continue;
    const line = /^(\d+):/.exec(issue.message.slice(file.length + 1))?.[1];
    if (line !== undefined) return { file, line: Math.max(1, Number(line)) };
  }
  return undefined;
}

/**
 * The check report for a configuration: failing with file:line annotations, or passing. A valid
 * configuration (its `config` kept) can fail on pools whose count cannot be read, as `validate`
 * says: the app holds those pools only. `changed`: the files of a pull request, where such a
 * problem is annotated when it lies in one of them.
 */
export function configCheckReport(
  headSha: string,
  configuration: RepoConfiguration,
  changed: readonly string[] = [],
): CheckReport {
  if (configuration.ok)
    return {
      name: CONFIG_CHECK_NAME,
      headSha,
      conclusion: "success",
      title: `${REPO_CONFIG_PATH} is valid`,
      summary: [
        `Pools: ${configuration.config?.pools.map(poolBoundsText).join(", ") || "none"}.`,
        ...configuration.notes,
      ].join("\n\n"),
      annotations: [],
    };
  const count = configuration.issues.length;
  const [they, are] = count === 1 ? ["it", "is"] : ["they", "are"];
  return {
    name: CONFIG_CHECK_NAME,
    headSha,
    conclusion: "failure",
    title: `${count} problem${count === 1 ? "" : "s"} in the pr-autoscaler configuration`,
    summary: [
      configuration.config === undefined
        ? "pr-autoscaler does not act on this repository while its configuration has errors:"
        : `The configuration itself is valid, but the pools ${they} ${agreeing(count, "names", "name")} cannot be scaled safely until ${they} ${are} fixed:`,
      "",
      "```text",
      formatConfigIssues(configuration.issues),
      "```",
      "",
      // The notes too, as validate prints them on a failure and the passing check gives them.
      ...configuration.notes.flatMap((note) => [note, ""]),
      `Run \`npx pr-autoscaler validate\` in a checkout to see the same list.`,
    ].join("\n"),
    annotations: annotationsOf(configuration, changed),
  };
}

export interface ReadConfigurationInput {
  forge: Pick<Forge, "readFile">;
  owner: string;
  repo: string;
  /** The commit whose files are read (the default branch head, or a pull request's head). */
  sha: string;
  readOtherRepo?: PolicyFileReader;
}

/**
 * Validates `.github/pr-autoscaler.yml` at a commit with everything it extends: files of the
 * repository at the same commit, presets, and other repositories when a reader is given (else
 * they are noted as not checked).
 */
export function readConfiguration(input: ReadConfigurationInput): Promise<RepoConfiguration> {
  return validateAt(input, readerAt(input));
}

function validateAt(
  input: ReadConfigurationInput,
  read: PolicyFileReader,
): Promise<RepoConfiguration> {
  return validateRepoConfiguration({
    read,
    owner: input.owner,
    repository: `${input.owner}/${input.repo}`,
    otherRepos: input.readOtherRepo ? "read" : "skip",
  });
}

/**
 * Reads files of the repository at `input.sha` (each once: a pull request's ref, which is no
 * sha, is not cached by the forge) and, when a reader is given, of other repositories.
 */
function readerAt(input: ReadConfigurationInput): PolicyFileReader {
  const own = new Map<string, Promise<string | undefined>>();
  return async (repo, path) => {
    if (repo === undefined) {
      let text = own.get(path);
      if (text === undefined) {
        text = unreadableAsFileError(input.forge.readFile(path, input.sha));
        own.set(path, text);
      }
      return text;
    }
    if (!input.readOtherRepo) return undefined;
    return input.readOtherRepo(repo, path);
  };
}

export interface PullRequestConfigInput extends Omit<ReadConfigurationInput, "sha"> {
  forge: Pick<Forge, "readFile" | "reportCheck">;
  number: number;
  headSha: string;
  /**
   * The paths of the repository's files at a commit: with it, a variable file Terraform reads
   * after a pool's target and that overrides its count is looked for at the head, as `validate`
   * looks for it in a checkout. A list GitHub truncates holds at least every file directly in
   * each of `folders` (the targets').
   */
  listFiles?: (sha: string, folders?: readonly string[]) => Promise<string[]>;
  /** Where to read the files (default the head sha; `refs/pull/N/head` for a fork's). */
  ref?: string;
  /** The files the pull request changes. */
  files: readonly string[];
  /**
   * The pools' target files of the configuration last read on the default branch: a change to
   * one is looked at whatever its name (a target with `format` may have any).
   */
  knownTargets?: readonly string[];
}

/**
 * On a pull request that changes the configuration (or a YAML file under `.github/` other than
 * workflows, where policy files live), or a file that holds or overrides a pool's count at its
 * head (a target file, or a variable file Terraform reads after one), reports whether the
 * configuration at its head is valid, and each pool's count readable in its target file there,
 * as `validate` judges them, as a check with file:line annotations, so the error is seen before
 * it merges. Other pull requests are skipped: with no request when no changed file's name could
 * be a target's, else after the configuration's read at the head.
 */
export async function checkPullRequestConfig(
  input: PullRequestConfigInput,
): Promise<"skipped" | "created" | "unchanged"> {
  const policy = input.files.some(changesPolicy);
  const known = input.knownTargets ?? [];
  if (!policy && !input.files.some((file) => mayHoldCount(file, known))) return "skipped";
  const at = { ...input, sha: input.ref ?? input.headSha };
  const read = readerAt(at);
  const validated = await validateAt(at, read);
  if (!validated.found) return "skipped";
  // Without a valid configuration the head names no targets; its errors are the default
  // branch's to report, unless the pull request changes the configuration.
  const { config } = validated;
  const counts = config !== undefined && input.files.some((file) => holdsCount(config, file));
  if (!policy && !counts) return "skipped";
  // One read per target file, and the head's file list when a target is a file Terraform reads
  // by itself; a list that cannot be read leaves that look out, not the whole check, and the
  // check says so.
  const { listFiles } = input;
  let listingProblem: string | undefined;
  const listed = await withPoolTargets(
    validated,
    read,
    listFiles &&
      ((folders) =>
        listFiles(input.headSha, folders).catch((error: unknown) => {
          listingProblem = error instanceof Error ? error.message : String(error);
          return [];
        })),
  );
  const targets =
    listingProblem === undefined
      ? listed
      : {
          ...listed,
          notes: [
            ...listed.notes,
            unlistedFilesMessage("the files of the pull request's head", listingProblem),
          ],
        };
  const configuration = targets.config ? await guardNamingAt(targets, read) : targets;
  const report = configCheckReport(input.headSha, configuration, input.files);
  const result = await input.forge.reportCheck(report);
  return result.action;
}

/** The configuration, or a YAML file under `.github/` other than workflows, where policies live. */
function changesPolicy(file: string): boolean {
  return (
    file === REPO_CONFIG_PATH ||
    (/^\.github\/.*\.ya?ml$/.test(file) && !file.startsWith(".github/workflows/"))
  );
}

/**
 * Whether a changed file could hold or override a pool's count, told from its name alone: one
 * whose name tells the editor (`*.tfvars`; `*.yaml`, `*.yml`, `*.json`: Terraform's variable
 * files are among them) and is no workflow, or a target of the configuration last read.
 */
function mayHoldCount(file: string, knownTargets: readonly string[]): boolean {
  if (knownTargets.includes(file)) return true;
  return formatFromName(file) !== undefined && !file.startsWith(".github/workflows/");
}

/**
 * Whether `file` is a pool's target in `config`, or a variable file Terraform reads after a
 * target in its folder, which would override the count.
 */
function holdsCount(config: RepoConfig, file: string): boolean {
  return config.pools.some(
    ({ target }) => target.file === file || laterVariableFiles(target.file, [file]).length > 0,
  );
}

/**
 * The plan guard's naming checked as `validate` checks it, when the head has the guard's config
 * (one read more): a guard config that cannot be used is a problem at its line, where `validate`
 * stops on it.
 */
async function guardNamingAt(
  configuration: RepoConfiguration,
  read: PolicyFileReader,
): Promise<RepoConfiguration> {
  try {
    return await withGuardNaming(configuration, read);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const issue = {
      file: error.location?.file ?? GUARD_CONFIG_PATH,
      line: error.location?.line ?? 1,
      column: error.location?.column ?? 1,
      path: "",
      message: error.message,
    };
    return { ...configuration, ok: false, issues: [...configuration.issues, issue] };
  }
}
