import { z } from "zod";
import { createBoundedCache } from "../forge/github/bounded-cache.ts";
import type { GitHubClient } from "../forge/github/github-client.ts";
import { type DiscoveredFiles, isDiscoverable, type RepoFile } from "../rightsizing/repo-files.ts";

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

/** Trees kept between reconciles for the folders read one level at a time. */
const TREE_CACHE_ENTRIES = 500;

type TreeEntry = z.infer<typeof GitHubTreeListing>["tree"][number];

/** A git tree listed recursively. */
export interface TreeListing {
  entries: TreeEntry[];
  /**
   * GitHub cut the listing short (a tree of over 100,000 entries or 7 MB): the entries past the
   * cut are missing, and GitHub says to read such a tree one sub-tree at a time.
   */
  truncated: boolean;
}

/**
 * The repository's git tree at a head, listed recursively: one request per tree, the last one
 * kept, so the reconciles of an unchanged head, and the readers of one reconcile, share it. A
 * failed request is not kept.
 */
export function githubTree(client: GitHubClient): (treeSha: string) => Promise<TreeListing> {
  let last: { sha: string; listing: Promise<TreeListing> } | undefined;
  return (treeSha) => {
    if (last?.sha === treeSha) return last.listing;
    const listing = client
      .call(
        "list the repository's files",
        "GET /repos/{owner}/{repo}/git/trees/{tree_sha}",
        { tree_sha: treeSha, recursive: "1" },
        GitHubTreeListing,
      )
      .then((answer) => ({ entries: answer.tree, truncated: answer.truncated === true }));
    const kept = { sha: treeSha, listing };
    last = kept;
    listing.catch(() => {
      if (last === kept) last = undefined;
    });
    return listing;
  };
}

/**
 * The paths of the files directly in `folder` ("" for the root) of the tree `treeSha`, read as
 * GitHub says to read a tree whose recursive listing it truncates: one sub-tree at a time,
 * without `recursive`, from the root down the folder's path, one request per level. Each tree is
 * kept by its sha (which names its content), so folders that share a path, the heads that share
 * a folder, and the reconciles of an unchanged head read it once. A folder the tree lacks has no
 * files.
 */
export function githubFolderFiles(
  client: GitHubClient,
): (treeSha: string, folder: string) => Promise<string[]> {
  const trees = createBoundedCache<TreeEntry[]>(TREE_CACHE_ENTRIES);
  const own = async (sha: string, path: string): Promise<TreeEntry[]> => {
    const kept = trees.get(sha);
    if (kept !== undefined) return kept;
    const listing = await client.call(
      `list the files of ${path === "" ? "the repository's root" : path}`,
      "GET /repos/{owner}/{repo}/git/trees/{tree_sha}",
      { tree_sha: sha },
      GitHubTreeListing,
    );
    trees.set(sha, listing.tree);
    return listing.tree;
  };
  return async (treeSha, folder) => {
    const names = folder === "" ? [] : folder.split("/");
    let sha = treeSha;
    for (const [depth, name] of names.entries()) {
      const entries = await own(sha, names.slice(0, depth).join("/"));
      const sub = entries.find((entry) => entry.type === "tree" && entry.path === name);
      if (sub === undefined) return [];
      sha = sub.sha;
    }
    return (await own(sha, folder))
      .filter((entry) => entry.type === "blob")
      .map((entry) => (folder === "" ? entry.path : `${folder}/${entry.path}`));
  };
}

/**
 * The paths of the repository's files at a head (its blobs), as a checkout lists them: for the
 * variable files Terraform reads after a pool's target, which lie in the target's folder. A tree
 * GitHub truncates (over 100,000 entries or 7 MB) is listed as far as it goes, and each of
 * `folders` whole, through `folderFiles`: the listing costs nothing more while the tree is whole.
 */
export function githubRepoPaths(
  tree: (treeSha: string) => Promise<TreeListing>,
  folderFiles: (treeSha: string, folder: string) => Promise<string[]>,
): (head: { treeSha: string }, folders?: readonly string[]) => Promise<string[]> {
  return async (head, folders = []) => {
    const listing = await tree(head.treeSha);
    const paths = listing.entries
      .filter((entry) => entry.type === "blob")
      .map((entry) => entry.path);
    if (!listing.truncated) return paths;
    const found = new Set(paths);
    for (const folder of new Set(folders))
      for (const path of await folderFiles(head.treeSha, folder)) found.add(path);
    return [...found];
  };
}

/**
 * The repository's YAML files at a head, for right-sizing discovery: one request for the tree
 * (recursive, shared through `tree`), then one per blob not read before. Blobs are cached by
 * their sha, so after a push only the files it changed are read again; the caller keeps the
 * index per tree. A tree GitHub truncates gives the files it lists, said to be `partial`: the
 * whole of a tree that large is not read one sub-tree at a time.
 */
export function githubRepoFiles(
  client: GitHubClient,
  tree: (treeSha: string) => Promise<TreeListing> = githubTree(client),
): (head: { treeSha: string }) => Promise<DiscoveredFiles> {
  const blobs = createBoundedCache<string | null>(BLOB_CACHE_ENTRIES);
  return async (head) => {
    const files: RepoFile[] = [];
    const listing = await tree(head.treeSha);
    const wanted = listing.entries.filter(
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
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return listing.truncated ? { files, partial: true } : { files };
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
