import { z } from "zod";
import { AutomergeConfig } from "./automerge-config.ts";
import type { AutomergePolicy } from "./automerge-policy.ts";
import { didYouMean } from "./did-you-mean.ts";
import type { ConfigIssue } from "./load-repo-config.ts";
import { mergePolicyChain } from "./policy-merge.ts";
import { bundledPresets, type PresetStore } from "./policy-presets.ts";
import {
  formatPolicyReference,
  type PolicyReference,
  parsePolicyReference,
} from "./policy-reference.ts";
import { issueAt, parseYamlSource, validateAt, type YamlSource } from "./policy-yaml.ts";

/**
 * Reads a file for `extends`: `repo` undefined is the repository being configured (the app reads
 * its default branch, the command line the directory), otherwise `owner/name` or `name`.
 * Undefined when the file does not exist; throws when it cannot be read.
 */
export type PolicyFileReader = (
  repo: string | undefined,
  path: string,
) => Promise<string | undefined>;

export interface ResolvePolicyOptions {
  read: PolicyFileReader;
  /** Owner of the repository being configured: `extends: .github` means `<owner>/.github`. */
  owner?: string;
  /** The repository being configured as `owner/name`, so a reference to it reads it locally. */
  repository?: string;
  /** Default: the presets bundled in `policies/`. */
  presets?: PresetStore;
  /** "skip" leaves other repositories unread (the command line), with a note; default "read". */
  otherRepos?: "read" | "skip";
  /** Longest `extends` chain, the file itself included; default 5. */
  maxDepth?: number;
  /**
   * For a file of this repository that `read` does not find, what to say in place of `F does
   * not exist`: a checkout's file deleted in its working tree only is the branch's. Undefined
   * keeps "does not exist".
   */
  missing?: (path: string) => Promise<string | undefined>;
}

/** The policy as written in one file, and where in the file it sits. */
export interface PolicyDocument {
  /** How rules from it are labelled; for the root, its path, e.g. `.github/pr-autoscaler.yml`. */
  label: string;
  config: AutomergeConfig;
  source: YamlSource;
  /** Config path of the policy inside the file: `["automerge"]` in the repo config, `[]` in a policy file. */
  prefix: PropertyKey[];
}

export type ResolvePolicyResult =
  | { ok: true; policy: AutomergePolicy; notes: string[] }
  | { ok: false; issues: ConfigIssue[]; notes: string[] };

/** Where a chain link lives, to resolve its own references and to tell cycles. */
interface Place {
  kind: "preset" | "repo";
  /** For "repo": undefined is the repository being configured. */
  repo: string | undefined;
  owner: string | undefined;
}

interface Link extends PolicyDocument {
  place: Place;
  key: string;
}

const DEFAULT_MAX_DEPTH = 5;
const REPO_CONFIG_FILE = /(^|\/)pr-autoscaler\.ya?ml$/;

/** A whole repo config read from another repository: only its `automerge:` section counts. */
const SharedRepoConfig = z.looseObject({ automerge: AutomergeConfig.optional() });

/**
 * Follows the `extends` chain from `root` (presets, files of this repository, other
 * repositories), guarding against cycles and chains deeper than `maxDepth`, and merges it into
 * the effective policy. Every problem is reported at the file and line it concerns; when there
 * is one, no policy is returned.
 */
export async function resolveAutomergePolicy(
  root: PolicyDocument,
  options: ResolvePolicyOptions,
): Promise<ResolvePolicyResult> {
  const presets = options.presets ?? bundledPresets();
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const notes: string[] = [];
  const place: Place = { kind: "repo", repo: undefined, owner: options.owner };
  const chain: Link[] = [{ ...root, place, key: placeKey(place, root.label) }];
  for (;;) {
    const current = chain.at(-1) as Link;
    const text = current.config.extends;
    if (text === undefined) break;
    const where = [...current.prefix, "extends"];
    const fail = (message: string): ResolvePolicyResult => ({
      ok: false,
      issues: [issueAt(current.source, where, message)],
      notes,
    });
    const reference = parsePolicyReference(text);
    if (typeof reference === "string") return fail(reference);
    if (current.place.kind === "preset" && reference.kind !== "preset")
      return fail(`a preset can only extend another preset, not ${text}`);
    const target = targetOf(reference, current.place, options, presets);
    const key = placeKey(target.place, target.path);
    const seen = chain.findIndex((link) => link.key === key);
    if (seen >= 0)
      return fail(
        `extends cycle: ${[...chain.slice(seen).map((l) => l.label), target.label].join(" → ")}`,
      );
    if (chain.length >= maxDepth)
      return fail(
        `extends goes deeper than ${maxDepth} files (${[...chain.map((l) => l.label), target.label].join(" → ")})`,
      );
    if (
      target.place.kind === "repo" &&
      target.place.repo !== undefined &&
      options.otherRepos === "skip"
    ) {
      notes.push(`not checked: ${target.label} (another repository; the app reads it)`);
      break;
    }
    const loaded = await load(reference, target, presets, options);
    if (typeof loaded === "string") return fail(loaded);
    if ("issues" in loaded) return { ok: false, issues: loaded.issues, notes };
    chain.push({ ...loaded, place: target.place, key });
  }
  return { ok: true, policy: mergePolicyChain(chain), notes };
}

interface Target {
  place: Place;
  path: string;
  label: string;
  /** The file named in messages about it. */
  file: string;
}

function targetOf(
  reference: PolicyReference,
  from: Place,
  options: ResolvePolicyOptions,
  presets: PresetStore,
): Target {
  const label = formatPolicyReference(reference);
  switch (reference.kind) {
    case "preset": {
      const file = presets.fileOf(reference.name);
      const place: Place = { kind: "preset", repo: undefined, owner: undefined };
      return { place, path: reference.name, label, file };
    }
    case "file": {
      const place = { ...from };
      const file = place.repo === undefined ? reference.path : `${place.repo}:${reference.path}`;
      return { place, path: reference.path, label: file, file };
    }
    case "repo": {
      const owner = reference.owner ?? from.owner;
      const full = owner ? `${owner}/${reference.repo}` : reference.repo;
      const self = options.repository !== undefined && full === options.repository;
      const place: Place = { kind: "repo", repo: self ? undefined : full, owner };
      const file = self ? reference.path : `${full}:${reference.path}`;
      return { place, path: reference.path, label: self ? reference.path : label, file };
    }
  }
}

function placeKey(place: Place, path: string): string {
  return place.kind === "preset" ? `preset:${path}` : `${place.repo ?? ""}:${path}`;
}

/** The linked policy, a message for the `extends` line, or the issues inside the linked file. */
async function load(
  reference: PolicyReference,
  target: Target,
  presets: PresetStore,
  { read, missing }: Pick<ResolvePolicyOptions, "read" | "missing">,
): Promise<PolicyDocument | string | { issues: ConfigIssue[] }> {
  let text: string | undefined;
  try {
    text =
      reference.kind === "preset"
        ? await presets.read(reference.name)
        : await read(target.place.repo, target.path);
  } catch (error) {
    return `could not read ${target.label}: ${(error as Error).message}`;
  }
  if (text === undefined) {
    if (reference.kind !== "preset")
      return (
        (target.place.repo === undefined && (await missing?.(target.path))) ||
        missingMessage(target)
      );
    const names = await presets.names();
    const suggestion = didYouMean(reference.name, names);
    const hint = suggestion ? `did you mean preset:${suggestion}? ` : "";
    return `unknown preset "${reference.name}": ${hint}presets: ${names.join(", ")}`;
  }
  return parseLinked(
    text,
    target,
    reference.kind !== "preset" && REPO_CONFIG_FILE.test(target.path),
  );
}

/**
 * A file of this repository that is not there, or one of another repository: GitHub answers 404
 * both for a missing file and for a repository the app cannot read, so the message names both.
 */
function missingMessage(target: Target): string {
  const repo = target.place.repo;
  if (repo === undefined) return `${target.label} does not exist`;
  const full = repo.includes("/") || !target.place.owner ? repo : `${target.place.owner}/${repo}`;
  return `${full} has no ${target.path}, or the app cannot read ${full} (install the app there)`;
}

function parseLinked(
  text: string,
  target: Target,
  wholeRepoConfig: boolean,
): PolicyDocument | string | { issues: ConfigIssue[] } {
  const parsed = parseYamlSource(text, target.file);
  if (!parsed.ok) return { issues: parsed.issues };
  const { source } = parsed;
  if (source.data === undefined) return `${target.label} is empty`;
  if (!wholeRepoConfig) {
    const policy = validateAt(AutomergeConfig, source.data, source);
    if (!policy.ok) return { issues: policy.issues };
    return { label: target.label, config: policy.value, source, prefix: [] };
  }
  const shared = validateAt(SharedRepoConfig, source.data, source);
  if (!shared.ok) return { issues: shared.issues };
  if (!shared.value.automerge) return `${target.label} has no automerge: section to extend`;
  return { label: target.label, config: shared.value.automerge, source, prefix: ["automerge"] };
}

/**
 * Reads a standalone policy file (a preset, or a file `extends` names) from its text and resolves
 * it like the `automerge:` section of a repo config.
 */
export async function resolvePolicyFile(
  text: string,
  file: string,
  options: ResolvePolicyOptions,
): Promise<ResolvePolicyResult> {
  const parsed = parseYamlSource(text, file);
  if (!parsed.ok) return { ok: false, issues: parsed.issues, notes: [] };
  if (parsed.source.data === undefined)
    return {
      ok: false,
      issues: [issueAt(parsed.source, [], "the file is empty: add rules")],
      notes: [],
    };
  const config = validateAt(AutomergeConfig, parsed.source.data, parsed.source);
  if (!config.ok) return { ok: false, issues: config.issues, notes: [] };
  return resolveAutomergePolicy(
    { label: file, config: config.value, source: parsed.source, prefix: [] },
    options,
  );
}
