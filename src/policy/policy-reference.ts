/** What `extends` may point at. */
export type PolicyReference =
  /** A policy bundled with pr-autoscaler, `preset:homelab`. */
  | { kind: "preset"; name: string }
  /** A policy file of the same repository, `.github/autoscaler/policy.yml`. */
  | { kind: "file"; path: string }
  /**
   * Another repository, Probot-style: `.github`, `infra`, `my-org/.github`, `infra:policies/a.yml`.
   * Without a path, that repository's `.github/pr-autoscaler.yml`.
   */
  | { kind: "repo"; owner: string | undefined; repo: string; path: string };

/** The repo config's place, which another repository's reference means by default. */
export const DEFAULT_EXTENDS_PATH = ".github/pr-autoscaler.yml";

const PRESET_NAME = "[a-z0-9][a-z0-9-]*";
const OWNER = "[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}";
const REPO = "[A-Za-z0-9._-]+";
const POLICY_PATH = String.raw`[A-Za-z0-9_./-]+\.ya?ml`;
const PRESET = new RegExp(`^preset:(${PRESET_NAME})$`);
const LOCAL_FILE = new RegExp(String.raw`^\.github\/${POLICY_PATH}$`);
const OTHER_REPO = new RegExp(String.raw`^(?:(${OWNER})\/)?(${REPO})(?::(${POLICY_PATH}))?$`);

/**
 * The references {@link parsePolicyReference} takes, for the JSON Schema: a preset, a file under
 * `.github/`, or another repository with an optional path, none with a `..` part.
 */
export const POLICY_REFERENCE_PATTERN = policyReferencePattern();

function policyReferencePattern(): string {
  // Looking from the start of a path: no part of it is `..` (a path here never ends in one).
  const noParent = String.raw`(?!(?:[^/]*/)*\.\./)`;
  const local = String.raw`\.github/${noParent}${POLICY_PATH}`;
  const other = String.raw`(?!preset:)(?:${OWNER}/)?(?!\.\.)${REPO}(?::${noParent}${POLICY_PATH})?`;
  return String.raw`^\s*(?:preset:${PRESET_NAME}|${local}|${other})\s*$`;
}

const FORMS =
  "write preset:NAME, .github/FILE.yml (this repository), REPO or OWNER/REPO (its .github/pr-autoscaler.yml), or REPO:PATH.yml";

/** Reads an `extends` value; a string is the message saying why it is not a reference. */
export function parsePolicyReference(text: string): PolicyReference | string {
  const value = text.trim();
  const preset = PRESET.exec(value);
  if (preset?.[1]) return { kind: "preset", name: preset[1] };
  if (value.startsWith("preset:"))
    return `${JSON.stringify(text)} is not a preset name: use lowercase letters, digits and -, e.g. preset:homelab`;
  if (value.startsWith(".github/")) {
    if (!LOCAL_FILE.test(value) || value.split("/").includes(".."))
      return `${JSON.stringify(text)} is not a policy file under .github/: it must end in .yml or .yaml and stay inside .github/`;
    return { kind: "file", path: value };
  }
  const other = OTHER_REPO.exec(value);
  const escapes = other?.[3]?.split("/").includes("..") || other?.[2]?.startsWith("..");
  if (other?.[2] && !escapes)
    return {
      kind: "repo",
      owner: other[1],
      repo: other[2],
      path: other[3] ?? DEFAULT_EXTENDS_PATH,
    };
  return `${JSON.stringify(text)} is not a policy reference: ${FORMS}`;
}

/** The reference as people write it, for messages and the list of sources. */
export function formatPolicyReference(reference: PolicyReference): string {
  switch (reference.kind) {
    case "preset":
      return `preset:${reference.name}`;
    case "file":
      return reference.path;
    case "repo": {
      const repo = reference.owner ? `${reference.owner}/${reference.repo}` : reference.repo;
      return reference.path === DEFAULT_EXTENDS_PATH ? repo : `${repo}:${reference.path}`;
    }
  }
}
