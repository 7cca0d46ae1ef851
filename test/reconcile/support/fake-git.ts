/**
 * The git objects of the fake GitHub repository: blobs, trees, commits and branches. A commit's
 * tree is kept as a flat map of path → blob, and as git keeps it too: a tree of the root's
 * entries, each folder a sub-tree of its own, with its own sha (`folders`). Shas are content
 * hashes, like git's, so equal contents give equal shas; a blob's is git's own (the sha-1 of
 * `blob <size>\0<bytes>`), as GitHub lists it for a file.
 */
import { createHash } from "node:crypto";
import { gitBlobSha } from "../../support/github-responses.ts";

export interface FakeCommit {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
  date: string;
}

function hash(kind: string, content: string): string {
  return createHash("sha1").update(`${kind}\u0000${content}`).digest("hex");
}

/** One entry of a git tree: a file (blob) or a folder (a sub-tree), by its name in the tree. */
export interface FolderEntry {
  name: string;
  type: "blob" | "tree";
  sha: string;
}

/**
 * Git's order of a tree's entries: by name, a sub-tree's name compared as if it ended in `/`
 * (so `a.txt` comes before the folder `a`, and the folder `a` before `a0`).
 */
function gitOrder(a: FolderEntry, b: FolderEntry): number {
  const key = (entry: FolderEntry) => (entry.type === "tree" ? `${entry.name}/` : entry.name);
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}

/** A file that differs between two commits. */
export interface FileDiff {
  path: string;
  /** The blob at the later commit; null when the file was removed. */
  blob: string | null;
  status: "added" | "removed" | "modified";
}

export class FakeGit {
  readonly blobs = new Map<string, string>();
  readonly trees = new Map<string, Map<string, string>>();
  /** Every tree, a commit's and each of its folders', by sha: its own entries, in git's order. */
  readonly folders = new Map<string, FolderEntry[]>();
  readonly commits = new Map<string, FakeCommit>();
  /** Branch name → commit sha. */
  readonly branches = new Map<string, string>();

  blob(text: string): string {
    const sha = gitBlobSha(text);
    this.blobs.set(sha, text);
    return sha;
  }

  /** A tree from files (text, or null to remove), on top of `base`. */
  tree(files: Iterable<[string, string | null]>, base?: string): string {
    const entries = new Map(base ? this.trees.get(base) : []);
    for (const [path, text] of files) {
      if (text === null) entries.delete(path);
      else entries.set(path, this.blob(text));
    }
    const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : 1));
    const sha = hash("tree", JSON.stringify(sorted));
    this.trees.set(sha, new Map(sorted));
    this.folders.set(sha, this.folderEntries(sorted));
    return sha;
  }

  /** The entries of a folder holding `files` (paths relative to it), its sub-trees made too. */
  private folderEntries(files: readonly [string, string][]): FolderEntry[] {
    const entries: FolderEntry[] = [];
    const inside = new Map<string, [string, string][]>();
    for (const [path, blob] of files) {
      const slash = path.indexOf("/");
      if (slash < 0) entries.push({ name: path, type: "blob", sha: blob });
      else {
        const name = path.slice(0, slash);
        const list = inside.get(name) ?? [];
        list.push([path.slice(slash + 1), blob]);
        inside.set(name, list);
      }
    }
    for (const [name, list] of inside) {
      const own = this.folderEntries(list);
      const sha = hash("tree", JSON.stringify(own));
      this.folders.set(sha, own);
      entries.push({ name, type: "tree", sha });
    }
    return entries.sort(gitOrder);
  }

  /**
   * Every entry under the tree `sha`, with its path from it, as `git ls-tree -r -t` lists them
   * (and GitHub's recursive listing of a tree): in git's order, a folder before what it holds.
   */
  recursiveEntries(sha: string, prefix = ""): (FolderEntry & { path: string })[] {
    return (this.folders.get(sha) ?? []).flatMap((entry) => {
      const path = `${prefix}${entry.name}`;
      const own = { ...entry, path };
      return entry.type === "tree" ? [own, ...this.recursiveEntries(entry.sha, `${path}/`)] : [own];
    });
  }

  commit(fields: Omit<FakeCommit, "sha">): FakeCommit {
    const sha = hash("commit", JSON.stringify(fields));
    const commit = { ...fields, sha };
    this.commits.set(sha, commit);
    return commit;
  }

  /** A file's text at a commit sha or branch name; undefined when absent. */
  fileAt(ref: string, path: string): string | undefined {
    const commit = this.commits.get(this.branches.get(ref) ?? ref);
    const blob = commit ? this.trees.get(commit.tree)?.get(path) : undefined;
    return blob === undefined ? undefined : this.blobs.get(blob);
  }

  /**
   * Every commit reachable from `sha`, newest first, as `git log` (and GitHub's list of commits)
   * gives them: merges and the commits they brought in, a commit always before its parents.
   */
  reachable(sha: string): FakeCommit[] {
    return this.walk(sha, (_, parents) => ({ listed: true, follow: parents }));
  }

  /**
   * The commits that changed `path`, newest first, as `git log -- path` (and GitHub's list of
   * commits with `path`) give them: history simplification follows a merge whose file matches
   * one parent through that parent alone and does not list the merge.
   */
  pathHistory(sha: string, path: string): FakeCommit[] {
    return this.walk(sha, (commit, parents) => {
      const same = parents.find(
        (parent) => this.fileAt(parent.sha, path) === this.fileAt(commit.sha, path),
      );
      if (parents.length > 1 && same) return { listed: false, follow: [same] };
      const listed =
        parents.length === 0 ? this.fileAt(commit.sha, path) !== undefined : same === undefined;
      return { listed, follow: parents };
    });
  }

  /**
   * Walks the commits from `sha` newest first, as git does: `step` says whether a commit is
   * listed and which of its parents the walk goes on to.
   */
  private walk(
    sha: string,
    step: (commit: FakeCommit, parents: FakeCommit[]) => { listed: boolean; follow: FakeCommit[] },
  ): FakeCommit[] {
    const listed: FakeCommit[] = [];
    const seen = new Set<string>();
    const start = this.commits.get(sha);
    const frontier = start ? [start] : [];
    while (frontier.length > 0) {
      frontier.sort((a, b) => Date.parse(b.date) - Date.parse(a.date));
      const commit = frontier.shift() as FakeCommit;
      if (seen.has(commit.sha)) continue;
      seen.add(commit.sha);
      const parents = commit.parents
        .map((parent) => this.commits.get(parent))
        .filter((parent): parent is FakeCommit => parent !== undefined);
      const next = step(commit, parents);
      if (next.listed) listed.push(commit);
      frontier.push(...next.follow);
    }
    return listed;
  }

  /**
   * The files that differ between the trees of two commits (`from` undefined: none), by path:
   * the blob at `to` (null when removed there) and how the file changed.
   */
  diff(from: string | undefined, to: string): FileDiff[] {
    const before = this.treeAt(from);
    const after = this.treeAt(to);
    const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
    return paths.flatMap((path): FileDiff[] => {
      const blob = after.get(path);
      if (blob === before.get(path)) return [];
      if (blob === undefined) return [{ path, blob: null, status: "removed" }];
      return [{ path, blob, status: before.has(path) ? "modified" : "added" }];
    });
  }

  private treeAt(sha: string | undefined): Map<string, string> {
    const commit = sha === undefined ? undefined : this.commits.get(sha);
    return this.trees.get(commit?.tree ?? "") ?? new Map();
  }

  /** Whether `path` differs between a commit and its first parent. */
  touches(commit: FakeCommit, path: string): boolean {
    const parent = commit.parents[0];
    return this.fileAt(commit.sha, path) !== (parent ? this.fileAt(parent, path) : undefined);
  }
}
