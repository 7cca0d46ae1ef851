/**
 * The example infra repo's recorded cluster (examples/talos-proxmox/cluster/): its Kubernetes
 * objects, and the snapshot the real cluster reader makes of them. `snapshot.json` beside the
 * objects is that snapshot; record-example-snapshot.ts writes it, and a test checks that it
 * never drifts from the objects.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { readSnapshot } from "../../src/cluster/read-snapshot.ts";
import { snapshotToJson } from "../../src/cluster/snapshot-file.ts";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";

type Raw = Record<string, unknown>;

/** The example infra repo, as a checkout would hold it. */
export const EXAMPLE_DIR = fileURLToPath(new URL("../../examples/talos-proxmox/", import.meta.url));
export const CLUSTER_DIR = join(EXAMPLE_DIR, "cluster");
export const SNAPSHOT_FILE = join(CLUSTER_DIR, "snapshot.json");

/**
 * When the cluster was recorded: Friday 2026-11-27, 15:30 in Europe/Berlin, two and a half
 * hours before the pool's Friday-evening schedule opens. Metrics samples are fresh against it.
 */
export const RECORDED_AT = new Date("2026-11-27T14:30:00Z");

/** The API server the recording stands for: the Talos endpoint terraform/ creates. */
export const RECORDED_SERVER = "https://192.168.50.10:6443";
/** The context name in the kubeconfig `talosctl kubeconfig` writes for the cluster `homelab`. */
export const RECORDED_CONTEXT = "admin@homelab";

/** Every object in the cluster folder's YAML files, files in name order. */
export async function loadClusterObjects(): Promise<Raw[]> {
  const names = (await readdir(CLUSTER_DIR)).filter((name) => /\.ya?ml$/.test(name)).sort();
  const objects: Raw[] = [];
  for (const name of names) {
    const text = await readFile(join(CLUSTER_DIR, name), "utf8");
    for (const document of parseAllDocuments(text)) {
      if (document.errors.length > 0)
        throw new Error(`${name}: ${document.errors[0]?.message ?? "invalid YAML"}`);
      const object = document.toJS() as Raw | null;
      if (object !== null) objects.push(object);
    }
  }
  return objects;
}

/**
 * Serves the recorded objects from a kube-apiserver on 127.0.0.1, reads them with the real
 * cluster reader at {@link RECORDED_AT}, and returns the snapshot as `pr-autoscaler snapshot`
 * writes it. Only `source.server` is changed: the fake server's address (a random port) is
 * replaced by the endpoint the recording stands for, so that the file is reproducible.
 */
export async function recordExampleSnapshot(): Promise<string> {
  const fake = await FakeKubeApiserver.start();
  const dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-example-"));
  try {
    fake.add(...(await loadClusterObjects()));
    const kubeconfig = await fake.writeKubeconfig(join(dir, "kubeconfig"), {
      context: RECORDED_CONTEXT,
    });
    const snapshot = await readSnapshot({
      kubeconfig,
      env: {},
      now: () => RECORDED_AT,
      retryDelayMs: 0,
    });
    snapshot.source.server = RECORDED_SERVER;
    return snapshotToJson(snapshot);
  } finally {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
}
