import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { MISNAMED_CONFIG, MISNAMED_CONFIG_PATH } from "../policy/repo-config.ts";

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
  return MISNAMED_CONFIG;
}
