/**
 * The drain identity's ClusterRole, as docs/drain.md and docs/apply.md give it: the same in
 * both, enough for every request `drain`, `wait-nodes --delete-gone` and the apply workflow's
 * kubectl commands make, and nothing they do not make.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { parseAllDocuments } from "yaml";
import type { CliIo } from "../../src/cli/io.ts";
import { createWaitNodesCommand } from "../../src/cli/wait-nodes-command.ts";
import { projectRoot } from "../deploy/kube-objects.ts";
import {
  allows,
  type PolicyRule,
  type ResourceRequest,
  resourceRequest,
} from "../deploy/rbac-requests.ts";
import { budget, node, pod, useDrainCluster, virtualClock } from "./drain-support.ts";

const cluster = useDrainCluster("drain-rbac");

/** The rules of the `pr-autoscaler-drain` ClusterRole in a YAML block of a doc. */
async function documentedRules(doc: string): Promise<PolicyRule[]> {
  const text = await readFile(join(projectRoot, "docs", doc), "utf8");
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? "");
  const roles = blocks
    .flatMap((block) => parseAllDocuments(block).map((document) => document.toJS()))
    .filter(
      (object) => object?.kind === "ClusterRole" && object.metadata?.name === "pr-autoscaler-drain",
    );
  expect(roles).toHaveLength(1);
  return roles[0].rules as PolicyRule[];
}

/**
 * What the apply workflow's kubectl commands ask of the API server: `kubectl uncordon` reads
 * the node and patches it; `kubectl delete node --wait=true` deletes it, then reads it to see
 * that it is gone (it lists and watches only a node whose deletion a finalizer holds back).
 */
const kubectlRequests: ResourceRequest[] = [
  { group: "", resource: "nodes", verb: "get", name: "talos-worker-4" },
  { group: "", resource: "nodes", verb: "patch", name: "talos-worker-4" },
  { group: "", resource: "nodes", verb: "delete", name: "talos-worker-4" },
];

/** Every request of a drain that reads volumes and budgets, then of a wait that deletes. */
async function servedRequests(): Promise<ResourceRequest[]> {
  const { fake } = cluster;
  fake.add(
    node("talos-worker-1"),
    node("talos-worker-4"),
    pod("db-0", "talos-worker-4", {
      owner: ["StatefulSet", "db"],
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data-db-0" } }],
    }),
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data-db-0", namespace: "apps" },
      spec: { volumeName: "pvc-3f1c" },
      status: { phase: "Bound" },
    },
    {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pvc-3f1c" },
      spec: { nfs: { server: "192.168.50.5", path: "/tank/db" } },
    },
    budget("db", "db-0", 1),
  );
  const drained = await cluster.drain(["talos-worker-4"]);
  expect(drained.code).toBe(0);
  // The VM is destroyed: its kubelet stops, and the wait deletes the Node object.
  const stopped = node("talos-worker-4", { ready: false, unschedulable: true });
  fake.put("nodes", { ...stopped, metadata: fake.get("nodes", "talos-worker-4")?.metadata });
  const io: CliIo = { stdout: () => {}, stderr: () => {}, cwd: cluster.dir, env: {}, isTty: false };
  const waited = await createWaitNodesCommand({ clock: virtualClock() }).run(
    [
      "--pool",
      "workers",
      "--count",
      "1",
      "--gone",
      "talos-worker-4",
      "--delete-gone",
      "--kubeconfig",
      cluster.kubeconfig,
    ],
    io,
  );
  expect(waited).toBe(0);
  return fake.requests.flatMap((request) => resourceRequest(request) ?? []);
}

describe("the drain identity's ClusterRole", () => {
  it("is the same in docs/drain.md and docs/apply.md", async () => {
    expect(await documentedRules("apply.md")).toEqual(await documentedRules("drain.md"));
  });

  it("allows every request of drain, wait-nodes and the workflow's kubectl, and no more", async () => {
    const rules = await documentedRules("drain.md");
    const requests = [...(await servedRequests()), ...kubectlRequests];
    const refused = requests.filter((request) => !allows(rules, request));
    expect(refused).toEqual([]);
    const used = new Set(requests.map((r) => `${r.group}/${r.resource}:${r.verb}`));
    const granted = rules.flatMap((rule) =>
      (rule.apiGroups ?? []).flatMap((group) =>
        (rule.resources ?? []).flatMap((resource) =>
          rule.verbs.map((verb) => `${group}/${resource}:${verb}`),
        ),
      ),
    );
    expect(granted.filter((grant) => !used.has(grant))).toEqual([]);
  });
});
