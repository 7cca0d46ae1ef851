import { type RepoReader, UnreadableFileError } from "../repo/repo-reader.ts";

/** One file of the infra repo, with its path relative to the root (forward slashes). */
export interface RepoFile {
  path: string;
  text: string;
}

/** The repo's files discovery reads, from a list of the repository's files. */
export interface DiscoveredFiles {
  files: RepoFile[];
  /**
   * The list was cut short (GitHub truncates the tree of a repository of over 100,000 entries or
   * 7 MB): `files` are those of the part listed, and files past the cut are missing.
   */
  partial?: true;
}

/** What discovery needs from the repo: its file list and their texts. */
export interface RepoFileSource extends Pick<RepoReader, "readFile"> {
  /** Every file path in the repo, relative to its root. */
  listFiles(): Promise<string[]>;
}

export interface ReadRepoFilesOptions {
  /** Larger files are skipped: no values file or manifest is this big. Default 1 MiB. */
  maxChars?: number;
  /** Files read at once. Default 8. */
  concurrency?: number;
}

const SKIPPED_DIRS = new Set([".git", "node_modules", ".terraform", "vendor"]);

/** True for files discovery reads: YAML outside VCS, dependency and chart template folders. */
export function isDiscoverable(path: string): boolean {
  if (!/\.ya?ml$/i.test(path)) return false;
  const parts = path.split("/");
  // Chart templates are Go templates, not YAML: what they render comes from values files.
  return !parts.slice(0, -1).some((part) => SKIPPED_DIRS.has(part) || part === "templates");
}

/**
 * Reads the repo's YAML files for discovery. Files that vanish between listing and reading
 * are left out, and so are those that are no text discovery can read (not UTF-8, a symbolic
 * link, not a regular file), as the app leaves them out of a repository's tree: one such file
 * must not stop the plan. Other read errors propagate.
 */
export async function readRepoFiles(
  source: RepoFileSource,
  options: ReadRepoFilesOptions = {},
): Promise<RepoFile[]> {
  const maxChars = options.maxChars ?? 1024 * 1024;
  const paths = (await source.listFiles()).filter(isDiscoverable).sort();
  const files: RepoFile[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < paths.length) {
      const path = paths[next++] as string;
      const text = await readable(source, path);
      if (text !== undefined && text.length <= maxChars) files.push({ path, text });
    }
  }
  const workers = Math.max(1, options.concurrency ?? 8);
  await Promise.all(Array.from({ length: workers }, worker));
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function readable(source: RepoFileSource, path: string): Promise<string | undefined> {
  try {
    return await source.readFile(path);
  } catch (error) {
    if (error instanceof UnreadableFileError) return undefined;
    throw error;
  }
}
