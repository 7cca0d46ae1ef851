import { isAbsolute, relative, resolve, sep } from "node:path";
import type { PolicyFileReader } from "../policy/policy-resolve.ts";
import { localRepo } from "../repo/local-repo.ts";

/**
 * Reads files of `dir` (this repository) as `plan` does: a link, a directory or a file that is
 * not UTF-8 is refused, saying which. Other repositories are never asked for (skipped).
 */
export function directoryReader(dir: string): PolicyFileReader {
  const files = localRepo(dir);
  return async (repo, path) => {
    if (repo !== undefined) return undefined;
    const inside = relative(dir, resolve(dir, path));
    if (inside.startsWith("..") || isAbsolute(inside)) return undefined;
    return files.readFile(inside.split(sep).join("/"));
  };
}
