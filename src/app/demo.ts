import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { usageAt } from "../cluster/snapshot-age.ts";
import { loadSnapshot } from "../cluster/snapshot-file.ts";
import { InputError } from "../errors.ts";
import { createDryRunForge, type DryRunAction } from "../forge/dry-run/dry-run-forge.ts";
import { readLocalFile } from "../forge/dry-run/read-local-file.ts";
import type { Snapshot } from "../planning/snapshot.ts";
import { reconcile } from "../reconcile/reconcile.ts";
import { DEFAULT_SETTINGS, type ReconcileResult } from "../reconcile/reconcile-types.ts";
import { createRepoMemory } from "../reconcile/repo-memory.ts";
import { localRepo } from "../repo/local-repo.ts";
import { readRepoFiles } from "../rightsizing/repo-files.ts";

/** The example infra repo that ships with pr-autoscaler, with its recorded cluster. */
export const EXAMPLE_DIR = fileURLToPath(new URL("../../examples/talos-proxmox/", import.meta.url));
export const SNAPSHOT_FILE = "cluster/snapshot.json";

export interface DemoRun {
  exampleDir: string;
  snapshot: Snapshot;
  now: Date;
  result: ReconcileResult;
  /** What the dry-run forge would have done, in order. */
  actions: DryRunAction[];
}

/**
 * The same reconcile the app runs, against a local infra repo and a recorded cluster, with the
 * dry-run forge: it records the pull requests, dashboard and checks instead of making them.
 * `now` defaults to the recording's time, so the demo shows what the app decided then.
 */
export async function runDemo(options: { exampleDir?: string; now?: Date } = {}): Promise<DemoRun> {
  const exampleDir = options.exampleDir ?? EXAMPLE_DIR;
  const snapshotFile = join(exampleDir, SNAPSHOT_FILE);
  if (!existsSync(snapshotFile))
    throw new InputError(
      `no recorded cluster at ${snapshotFile}: the demo needs the example repo (examples/talos-proxmox in a checkout of pr-autoscaler), or pass --example DIR`,
    );
  const recorded = loadSnapshot(await readFile(snapshotFile, "utf8"), snapshotFile);
  const now = options.now ?? new Date(recorded.takenAt);
  // As `plan --snapshot` does: usage recorded far from `now` says nothing of then, so it is
  // unknown, never the recording's figures shown as current.
  const snapshot = usageAt(recorded, now);
  const read = readLocalFile(exampleDir);
  const forge = createDryRunForge({
    // The example lives inside pr-autoscaler's own git history, which says nothing about it.
    base: { readFile: (path) => read(path), fileHistory: async () => [] },
  });
  const result = await reconcile(
    {
      owner: "example",
      repo: "talos-proxmox",
      forge,
      observe: async () => snapshot,
      repoFiles: async () => ({ files: await readRepoFiles(localRepo(exampleDir)) }),
      memory: createRepoMemory(),
      settings: DEFAULT_SETTINGS,
      now: () => now,
    },
    ["demo"],
  );
  return { exampleDir, snapshot, now, result, actions: forge.actions };
}
