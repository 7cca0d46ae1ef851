/**
 * The example infra repo's files, for tests: as RepoFiles for right-sizing, and as a copy
 * with a git history of its own for the CLI (inside this project's checkout, `git log` would
 * report the project's own commits of terraform.tfvars, which say nothing about the example's
 * cluster): one commit, a week before the recording, so no change is recent.
 */
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { RepoFile } from "../../src/rightsizing/repo-files.ts";
import { commitEverything } from "../support/git-repo.ts";
import { EXAMPLE_DIR, RECORDED_AT } from "./example-cluster.ts";

/** Every file of the example repo, paths relative to its root with forward slashes, sorted. */
export async function exampleFiles(): Promise<RepoFile[]> {
  const entries = await readdir(EXAMPLE_DIR, { recursive: true, withFileTypes: true });
  const files: RepoFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const absolute = join(entry.parentPath, entry.name);
    const path = relative(EXAMPLE_DIR, absolute).split("\\").join("/");
    files.push({ path, text: await readFile(absolute, "utf8") });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A copy of the example repo in a temporary directory, committed; `remove` deletes it. */
export async function copyExample(): Promise<{ dir: string; remove(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), "pr-autoscaler-example-repo-"));
  const dir = join(root, "talos-proxmox");
  await cp(EXAMPLE_DIR, dir, { recursive: true });
  commitEverything(
    dir,
    new Date(RECORDED_AT.getTime() - 7 * 86_400_000).toISOString(),
    "talos-proxmox",
  );
  return { dir, remove: () => rm(root, { recursive: true, force: true }) };
}
