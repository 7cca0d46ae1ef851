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

type TreeEntry = z.infer<typeof GitHubTreeListing>["tree"][number];

/**
 * The repository's git tree at a head, listed recursively: one request per tree, the last one
 * kept, so the reconciles of an unchanged head, and the readers of one reconcile, share it. A
 * failed request is not kept.
 */
export function githubTree(client: GitHubClient): (treeSha: string) => Promise<TreeEntry[]> {
  let last: { sha: string; entries: Promise<TreeEntry[]> } | undefined;
  return (treeSha) => {
    if (last?.sha === treeSha) return last.entries;
    const entries = client
      .call(
        "list the repository's files",
        "GET /repos/{owner}/{repo}/git/trees/{tree_sha}",
        { tree_sha: treeSha, recursive: "1" },
        GitHubTreeListing,
      )
      .then((listing) => listing.tree);
    const kept = { sha: treeSha, entries };
    last = kept;
    entries.catch(() => {
      if (last === kept) last = undefined;
    });
    return entries;
  };
}

/**
 * The paths of the repository's files at a head (its blobs), as a checkout lists them: for the
 * variable files Terraform reads after a pool's target. A tree GitHub truncates (over 100,000
 * entries or 7 MB) is listed as far as it goes.
 */
export function githubRepoPaths(
  tree: (treeSha: string) => Promise<TreeEntry[]>,
): (head: { treeSha: string }) => Promise<string[]> {
  return async (head) =>
    (await tree(head.treeSha)).filter((entry) => entry.type === "blob").map((entry) => entry.path);
}

/**
 * The repository's YAML files at a head, for right-sizing discovery: one request for the tree
 * (recursive, shared through `tree`), then one per blob not read before. Blobs are cached by
 * their sha, so after a push only the files it changed are read again; the caller keeps the
 * index per tree.
 */
export function githubRepoFiles(
  client: GitHubClient,
  tree: (treeSha: string) => Promise<TreeEntry[]> = githubTree(client),
): (head: { treeSha: string }) => Promise<RepoFile[]> {
  const blobs = createBoundedCache<string | null>(BLOB_CACHE_ENTRIES);
  return async (head) => {
    const files: RepoFile[] = [];
    const wanted = (await tree(head.treeSha)).filter(
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
