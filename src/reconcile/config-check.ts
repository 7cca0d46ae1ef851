import { GUARD_CONFIG_PATH, withGuardNaming } from "../apply/guard-naming-issues.ts";
import { InputError } from "../errors.ts";
import type { CheckAnnotation, CheckReport, Forge } from "../forge/forge.ts";
import { poolBoundsText } from "../policy/host-cap.ts";
import { formatConfigIssues } from "../policy/load-repo-config.ts";
import type { PolicyFileReader } from "../policy/policy-resolve.ts";
import { type RepoConfiguration, validateRepoConfiguration } from "../policy/policy-validate.ts";
import { REPO_CONFIG_PATH } from "../policy/repo-config.ts";
import { withPoolTargets } from "../repo/pool-target-issues.ts";
import { agreeing } from "../util/plural.ts";
import { unreadableAsFileError } from "./forge-repo-reader.ts";

/** The check run that reports the configuration's problems. */
export const CONFIG_CHECK_NAME = "pr-autoscaler/config";

/** GitHub shows annotations only for files of the commit; other places go on the config file. */
function annotationsOf(configuration: RepoConfiguration): CheckAnnotation[] {
  return configuration.issues.map((issue) => {
    const local = !issue.file.includes(":");
    const where = issue.path ? `${issue.path}: ` : "";
    return {
      path: local ? issue.file : REPO_CONFIG_PATH,
      startLine: local ? Math.max(1, issue.line) : 1,
      level: "failure",
      title: "pr-autoscaler configuration",
      message: local
        ? `${where}${issue.message}`
        : `${issue.file}:${issue.line}: ${where}${issue.message}`,
    };
  });
}

/**
 * The check report for a configuration: failing with file:line annotations, or passing. A valid
 * configuration (its `config` kept) can fail on pools whose count cannot be read, as `validate`
 * says: the app holds those pools only.
 */
export function configCheckReport(headSha: string, configuration: RepoConfiguration): CheckReport {
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
    annotations: annotationsOf(configuration),
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
   * looks for it in a checkout.
   */
  listFiles?: (sha: string) => Promise<string[]>;
  /** Where to read the files (default the head sha; `refs/pull/N/head` for a fork's). */
  ref?: string;
  /** The files the pull request changes. */
  files: readonly string[];
}

/**
 * On a pull request that changes the configuration (or a YAML file under `.github/` other than
 * workflows, where policy files live), reports whether the configuration at its head is valid,
 * and each pool's count readable in its target file there, as `validate` judges them, as a check
 * with file:line annotations, so the error is seen before it merges. Other pull requests are
 * skipped (no request).
 */
export async function checkPullRequestConfig(
  input: PullRequestConfigInput,
): Promise<"skipped" | "created" | "unchanged"> {
  const touches = input.files.some(
    (file) =>
      file === REPO_CONFIG_PATH ||
      (/^\.github\/.*\.ya?ml$/.test(file) && !file.startsWith(".github/workflows/")),
  );
  if (!touches) return "skipped";
  const at = { ...input, sha: input.ref ?? input.headSha };
  const read = readerAt(at);
  const validated = await validateAt(at, read);
  if (!validated.found) return "skipped";
  // One read per target file, and the head's file list when a target is a file Terraform reads
  // by itself; a list that cannot be read leaves that look out, not the whole check.
  const { listFiles } = input;
  const targets = await withPoolTargets(
    validated,
    read,
    listFiles && (() => listFiles(input.headSha).catch(() => [])),
  );
  const configuration = targets.config ? await guardNamingAt(targets, read) : targets;
  const result = await input.forge.reportCheck(configCheckReport(input.headSha, configuration));
  return result.action;
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
