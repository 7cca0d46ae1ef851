/** Every bot branch lives under this prefix; one branch per target key. */
export const BRANCH_PREFIX = "pr-autoscaler/";

const KEY_PATTERN = /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/i;

/**
 * Rejects keys that would not make a valid, unambiguous branch name (git forbids "..", a
 * trailing ".lock", and so on; we keep to a plain alphabet so a key reads the same everywhere).
 */
export function assertValidKey(key: string): void {
  if (!KEY_PATTERN.test(key) || key.includes("..") || key.endsWith(".lock")) {
    throw new Error(
      `invalid pull request key ${JSON.stringify(key)}: use letters, digits, ".", "_" and "-", starting and ending with a letter or digit`,
    );
  }
}

/** `pr-autoscaler/<key>` */
export function branchForKey(key: string): string {
  assertValidKey(key);
  return `${BRANCH_PREFIX}${key}`;
}

/** The key of a bot branch name, or undefined for any other branch. */
export function keyOfBranch(branch: string): string | undefined {
  if (!branch.startsWith(BRANCH_PREFIX)) return undefined;
  const key = branch.slice(BRANCH_PREFIX.length);
  return KEY_PATTERN.test(key) && !key.includes("..") ? key : undefined;
}
