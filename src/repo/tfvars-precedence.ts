/**
 * Terraform reads the variable files of a root module itself, in a fixed order, and a variable
 * set in a later file wins whatever an earlier one says: `terraform.tfvars`, then
 * `terraform.tfvars.json`, then every `*.auto.tfvars` and `*.auto.tfvars.json` in the order of
 * their names. A count changed in a file that a later one overrides changes nothing Terraform
 * applies. (Files given with `-var-file` come after all of these, and are not read here: which
 * ones a workflow passes is not in the repo's files.)
 */

/** Where a file of `path` stands in Terraform's reading order: undefined when it is not read. */
function readingRank(name: string): [number, string] | undefined {
  if (name === "terraform.tfvars") return [0, ""];
  if (name === "terraform.tfvars.json") return [1, ""];
  if (name.endsWith(".auto.tfvars") || name.endsWith(".auto.tfvars.json")) return [2, name];
  return undefined;
}

/** Whether Terraform reads the variable file at `path` by itself, without `-var-file`. */
export function readByTerraform(path: string): boolean {
  return readingRank(split(path).name) !== undefined;
}

/**
 * The folders ("" for the root) of those of `targets` that Terraform reads by itself: where a
 * variable file it reads after one of them would be.
 */
export function variableFileFolders(targets: readonly string[]): string[] {
  return [...new Set(targets.filter(readByTerraform).map((path) => split(path).dir.slice(0, -1)))];
}

function split(path: string): { dir: string; name: string } {
  const slash = path.lastIndexOf("/");
  return { dir: path.slice(0, slash + 1), name: path.slice(slash + 1) };
}

/**
 * The files of `files` that Terraform reads after `target` in the same folder, in the order it
 * reads them; none when `target` is not a file Terraform reads by itself.
 */
export function laterVariableFiles(target: string, files: readonly string[]): string[] {
  const { dir, name } = split(target);
  const rank = readingRank(name);
  if (rank === undefined) return [];
  const later: { path: string; rank: [number, string] }[] = [];
  for (const path of files) {
    const other = split(path);
    const otherRank = other.dir === dir ? readingRank(other.name) : undefined;
    if (otherRank !== undefined && compareRanks(otherRank, rank) > 0)
      later.push({ path, rank: otherRank });
  }
  return later.sort((a, b) => compareRanks(a.rank, b.rank)).map((entry) => entry.path);
}

function compareRanks(a: [number, string], b: [number, string]): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  // Go's sort of directory entries: by bytes, not by locale.
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}
