/**
 * A file path from the repository root, as the forge's APIs take it: "a/b.yaml", never absolute,
 * never with "." or ".." segments or backslashes. A leading "./" is dropped.
 */
export function normalizeRepoPath(path: string): string {
  const trimmed = path.startsWith("./") ? path.slice(2) : path;
  const segments = trimmed.split("/");
  const bad =
    trimmed === "" ||
    trimmed.includes("\\") ||
    trimmed.includes("\0") ||
    segments.some((segment) => segment === "" || segment === "." || segment === "..");
  if (bad) {
    throw new Error(
      `invalid repository path ${JSON.stringify(path)}: use a relative path like "clusters/prod/values.yaml"`,
    );
  }
  return trimmed;
}
