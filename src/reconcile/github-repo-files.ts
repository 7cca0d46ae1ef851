import { z } from "zod";
import { createBoundedCache } from "../forge/github/bounded-cache.ts";
import type { GitHubClient } from "../forge/github/github-client.ts";
import { isDiscoverable, type RepoFile } from "../rightsizing/repo-files.ts";

const GitHubTreeListing = z.object({
  truncated: z.boolean().optional(),
  tree: z.array(
    z.object({ path: z.string(), type: z.string(), sha: z.string(), size: z.number().optional() }),
  ),
});
const GitHubBlobText = z.object({ content: z.string(), encoding: z.string() });

/** Files larger than this are no values file or manifest: skipped, as discovery does locally. */
const MAX_BYTES = 1024 * 1024;
/** Blob texts kept between reconciles: a homelab repo's YAML fits many times over. */
const BLOB_CACHE_ENTRIES = 5000;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The repository's YAML files at a head, for right-sizing discovery: one request for the tree
 * (recursive), then one per blob not read before. Blobs are cached by their sha, so after a push
 * only the files it changed are read again; the caller keeps the index per tree.
 */
export function githubRepoFiles(
  client: GitHubClient,
): (head: { treeSha: string }) => Promise<RepoFile[]> {
  const blobs = createBoundedCache<string | null>(BLOB_CACHE_ENTRIES);
  return async (head) => {
    const listing = await client.call(
      "list the repository's files",
      "GET /repos/{owner}/{repo}/git/trees/{tree_sha}",
      { tree_sha: head.treeSha, recursive: "1" },
      GitHubTreeListing,
    );
    const files: RepoFile[] = [];
    const wanted = listing.tree.filter(
      (entry) =>
        entry.type === "blob" && isDiscoverable(entry.path) && (entry.size ?? 0) <= MAX_BYTES,
    );
    for (const entry of wanted) {
      let text = blobs.get(entry.sha);
      if (text === undefined) {
        text = await readBlob(client, entry.path, entry.sha);
        blobs.set(entry.sha, text);
      }
      if (text !== null) files.push({ path: entry.path, text });
    }
    return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  };
}

/** The blob's text; null when it is not UTF-8 (not a file discovery can read). */
async function readBlob(client: GitHubClient, path: string, sha: string): Promise<string | null> {
  const blob = await client.call(
    `read ${path}`,
    "GET /repos/{owner}/{repo}/git/blobs/{file_sha}",
    { file_sha: sha },
    GitHubBlobText,
  );
  if (blob.encoding !== "base64") return null;
  try {
    return utf8.decode(Buffer.from(blob.content, "base64"));
  } catch {
    return null;
  }
}
