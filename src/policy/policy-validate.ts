import { UnreadableFileError } from "../repo/repo-reader.ts";
import { AutomergeConfig } from "./automerge-config.ts";
import { type AutomergePolicy, brokenPolicy, emptyPolicy } from "./automerge-policy.ts";
import { scheduleCapNotes } from "./host-cap.ts";
import {
  type ConfigIssue,
  formatConfigIssues,
  loadRepoConfig,
  unreadableConfigIssue,
} from "./load-repo-config.ts";
import {
  type PolicyFileReader,
  type ResolvePolicyOptions,
  resolveAutomergePolicy,
} from "./policy-resolve.ts";
import { parseYamlSource, sortIssues } from "./policy-yaml.ts";
import { REPO_CONFIG_PATH, type RepoConfig } from "./repo-config.ts";

export interface RepoConfigurationOptions extends Omit<ResolvePolicyOptions, "read"> {
  /** Reads files of the repository (`repo` undefined) and, for `extends`, of others. */
  read: PolicyFileReader;
}

/** A repository's configuration as the app and `pr-autoscaler validate` see it. */
export interface RepoConfiguration {
  /** Whether `.github/pr-autoscaler.yml` exists (without it the repository is left alone). */
  found: boolean;
  /** No issue anywhere: the config and every policy file it extends. */
  ok: boolean;
  /** The validated config, when `ok`. */
  config: RepoConfig | undefined;
  /**
   * The effective auto-merge policy: the resolved one when `ok`; without an `automerge:` section
   * one that merges nothing; with issues one that merges nothing and says why.
   */
  policy: AutomergePolicy;
  /** Every problem, with file, line and column. */
  issues: ConfigIssue[];
  /**
   * Things not checked (e.g. another repository the command line cannot read) and, when `ok`,
   * schedules whose min the host cap lowers: what `validate` and the passing check both give.
   */
  notes: string[];
}

/**
 * Validates the whole `.github/pr-autoscaler.yml` of a repository, pools and auto-merge policy,
 * following `extends` to presets and other files. The app runs this on the default branch's
 * files, the command line on a directory; both report the same issues.
 */
export async function validateRepoConfiguration(
  options: RepoConfigurationOptions,
): Promise<RepoConfiguration> {
  let text: string | undefined;
  try {
    text = await options.read(undefined, REPO_CONFIG_PATH);
  } catch (error) {
    if (!(error instanceof UnreadableFileError)) throw error;
    const issues = [unreadableConfigIssue(error)];
    return {
      found: true,
      ok: false,
      config: undefined,
      policy: brokenPolicy(formatConfigIssues(issues).split("\n")),
      issues,
      notes: [],
    };
  }
  if (text === undefined)
    return {
      found: false,
      ok: true,
      config: undefined,
      policy: emptyPolicy(),
      issues: [],
      notes: [],
    };
  const loaded = loadRepoConfig(text, REPO_CONFIG_PATH);
  const issues = loaded.ok ? [] : [...loaded.issues];
  const resolved = await resolveSection(text, options);
  issues.push(...resolved.issues);
  if (issues.length > 0 || !loaded.ok) {
    const sorted = sortIssues(issues);
    const problems = formatConfigIssues(sorted).split("\n");
    return {
      found: true,
      ok: false,
      config: undefined,
      policy: brokenPolicy(problems),
      issues: sorted,
      notes: resolved.notes,
    };
  }
  return {
    found: true,
    ok: true,
    config: loaded.config,
    policy: resolved.policy ?? emptyPolicy(),
    issues: [],
    notes: [...resolved.notes, ...scheduleCapNotes(loaded.config.pools)],
  };
}

/**
 * Resolves the `automerge:` section when it is valid on its own (its own errors are already among
 * the repo config's), so `extends` problems show even while other parts of the file are wrong.
 */
async function resolveSection(
  text: string,
  options: RepoConfigurationOptions,
): Promise<{ policy?: AutomergePolicy; issues: ConfigIssue[]; notes: string[] }> {
  const parsed = parseYamlSource(text, REPO_CONFIG_PATH);
  if (!parsed.ok) return { issues: [], notes: [] };
  const data = parsed.source.data;
  if (typeof data !== "object" || data === null || !("automerge" in data))
    return { issues: [], notes: [] };
  const section = AutomergeConfig.safeParse(data.automerge);
  if (!section.success) return { issues: [], notes: [] };
  const root = {
    label: REPO_CONFIG_PATH,
    config: section.data,
    source: parsed.source,
    prefix: ["automerge"],
  };
  const result = await resolveAutomergePolicy(root, options);
  return result.ok
    ? { policy: result.policy, issues: [], notes: result.notes }
    : { issues: result.issues, notes: result.notes };
}
