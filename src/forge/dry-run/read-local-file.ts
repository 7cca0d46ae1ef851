import { readFile } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { normalizeRepoPath } from "../repo-path.ts";

/**
 * A reader of files under `root` (a local checkout of the infra repository), for dry runs.
 * Undefined for a missing file; a path escaping `root` is refused.
 */
export function readLocalFile(root: string): (path: string) => Promise<string | undefined> {
  const base = resolve(root);
  return async (path) => {
    const file = resolve(base, normalizeRepoPath(path));
    if (!file.startsWith(base + sep)) throw new Error(`${path} is outside ${root}`);
    try {
      return await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  };
}
