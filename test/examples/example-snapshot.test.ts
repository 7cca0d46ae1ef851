/**
 * examples/talos-proxmox/cluster/snapshot.json is what the real cluster reader makes of the
 * Kubernetes objects beside it. If this fails after an object changed, re-record it:
 *
 *   node test/examples/record-example-snapshot.ts
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { loadSnapshot } from "../../src/cluster/snapshot-file.ts";
import { readValue } from "../../src/editors/edit-file.ts";
import type { Snapshot } from "../../src/planning/snapshot.ts";
import {
  EXAMPLE_DIR,
  RECORDED_AT,
  RECORDED_CONTEXT,
  RECORDED_SERVER,
  recordExampleSnapshot,
  SNAPSHOT_FILE,
} from "./example-cluster.ts";

describe("the example's recorded snapshot", () => {
  let committed: string;
  let snapshot: Snapshot;

  beforeAll(async () => {
    committed = await readFile(SNAPSHOT_FILE, "utf8");
    snapshot = loadSnapshot(committed, SNAPSHOT_FILE);
  });

  it("equals a fresh recording of the cluster's objects", async () => {
    // Compared as data: the order of keys in the file is the writer's business.
    expect(JSON.parse(committed)).toEqual(JSON.parse(await recordExampleSnapshot()));
  });

  it("is complete, without warnings, with metrics for every node and running pod", () => {
    expect(snapshot.takenAt).toBe(RECORDED_AT.toISOString());
    expect(snapshot.source).toEqual({
      kind: "kubernetes",
      server: RECORDED_SERVER,
      context: RECORDED_CONTEXT,
    });
    expect(snapshot.complete).toBe(true);
    expect(snapshot.warnings).toEqual([]);
    expect(snapshot.metrics).toEqual({
      nodes: "available",
      pods: "available",
      source: "metrics-server",
    });
  });

  it("has the Ready nodes Terraform creates: three control planes and worker_count workers", async () => {
    const tfvars = await readFile(join(EXAMPLE_DIR, "terraform/terraform.tfvars"), "utf8");
    const workerCount = readValue(tfvars, "worker_count", "terraform.tfvars");
    const workers = Array.from({ length: Number(workerCount) }, (_, i) => `talos-worker-${i + 1}`);
    expect(snapshot.nodes.map((node) => [node.name, node.pool, node.ready])).toEqual([
      ["homelab-cp-1", "control-plane", true],
      ["homelab-cp-2", "control-plane", true],
      ["homelab-cp-3", "control-plane", true],
      ...workers.map((name) => [name, "workers", true]),
    ]);
  });

  it("has exactly the two Tdarr nodes pending, as the scheduler reported them", () => {
    const pending = snapshot.pods.filter((pod) => pod.phase === "Pending");
    expect(pending.map((pod) => [`${pod.namespace}/${pod.name}`, pod.requests])).toEqual([
      ["media/tdarr-node-6d8c7f5b49-2kq9v", { cpu: 1500, memory: 2 * 1024 ** 3 }],
      ["media/tdarr-node-6d8c7f5b49-n7wzs", { cpu: 1500, memory: 2 * 1024 ** 3 }],
    ]);
    for (const pod of pending) {
      expect(pod.owner).toEqual({ kind: "Deployment", name: "tdarr-node", group: "apps" });
      expect(pod.unschedulable?.message).toMatch(/^0\/6 nodes are available: 3 Insufficient cpu,/);
    }
  });
});
