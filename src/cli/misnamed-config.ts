import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { REPO_CONFIG_PATH } from "../policy/repo-config.ts";

/** The config's name with the other YAML extension, which is not read. */
export const MISNAMED_CONFIG_PATH = ".github/pr-autoscaler.yaml";

/**
 * What to add when DIR has no config but holds one under the `.yaml` name: the repo is left
 * alone all the same, but not without saying why a file that is there changes nothing.
 */
export async function misnamedConfig(dir: string): Promise<string | undefined> {
  try {
    await lstat(join(dir, MISNAMED_CONFIG_PATH));
  } catch {
    return undefined;
  }
  return `${MISNAMED_CONFIG_PATH} is there, but only ${REPO_CONFIG_PATH} is read: rename it`;
}
