import { describe, expect, it } from "@jest/globals";
import { loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import {
  desiredPullRequest,
  planFingerprint,
  pullRequestLabels,
  pullRequestTitle,
} from "../../src/reconcile/desired-pull-request.ts";
import { forgeRepoReader } from "../../src/reconcile/forge-repo-reader.ts";
import { nodePullRequestBody } from "../../src/reconcile/node-pull-request-body.ts";
import { planChanges } from "../../src/reconcile/plan-repo.ts";
import { buildSnapshot, node, nodes, pod } from "../support/snapshot-builder.ts";
import { CONFIG, cluster, infraFiles, NOW, PLEX_FILE, TFVARS, tfvars } from "./support/infra.ts";

async function plan(options: { pending?: number; cpu?: string } = {}) {
  const files = infraFiles();
  const loaded = loadRepoConfig(CONFIG);
  if (!loaded.ok) throw new Error("config");
  return planChanges({
    repo: forgeRepoReader({
      forge: { readFile: async (path) => files.get(path), fileHistory: async () => [] },
      headSha: "head",
    }),
    config: loaded.config,
    snapshot: cluster({ pending: options.pending ?? 1, cpuPerNode: options.cpu ?? "2" }),
    now: NOW,
    rightsizingFiles: [...files].map(([path, text]) => ({ path, text })),
  });
}

describe("a proposal made into a pull request", () => {
  it("has Renovate-like titles and the bot's labels", async () => {
    const { proposals } = await plan();
    expect(proposals.map(pullRequestTitle)).toEqual([
      "Scale workers from 3 to 4 nodes",
      "Right-size media/plex: cpu 2 → 450m, memory 4Gi → 1344Mi",
    ]);
    expect(proposals.map(pullRequestLabels)).toEqual([
      ["autoscaling", "scale-up"],
      ["autoscaling", "rightsizing"],
    ]);
  });

  it("keeps its fingerprint while only usage moves, and changes it with the values written", async () => {
    const before = (await plan({ cpu: "2" })).proposals.map((p) => planFingerprint(p));
    const busier = (await plan({ cpu: "2100m" })).proposals.map((p) => planFingerprint(p));
    const more = (await plan({ pending: 2 })).proposals.map((p) => planFingerprint(p));
    expect(busier).toEqual(before);
    expect(more[0]).not.toBe(before[0]);
    expect(more[1]).toBe(before[1]);
    const [nodes] = (await plan()).proposals;
    if (!nodes) throw new Error("no proposal");
    expect(planFingerprint(nodes, { verdict: "merge:add-one-node" })).not.toBe(
      planFingerprint(nodes),
    );
  });

  it("builds its files from the branch it is built on, keeping people's edits there", async () => {
    const { proposals } = await plan();
    const [nodes, resources] = proposals;
    if (!nodes || !resources) throw new Error("no proposals");
    const moved = tfvars(3).replace("worker_cores      = 4", "worker_cores      = 6");
    const built = await desiredPullRequest({ proposal: nodes, body: "" }).build(async (path) =>
      path === TFVARS ? moved : undefined,
    );
    expect(built).toEqual([
      { path: TFVARS, content: moved.replace("worker_count      = 3", "worker_count      = 4") },
    ]);
    const plex = infraFiles().get(PLEX_FILE);
    const [file] = await desiredPullRequest({ proposal: resources, body: "" }).build(
      async (path) => (path === PLEX_FILE ? plex : undefined),
    );
    expect(file?.path).toBe(PLEX_FILE);
    expect(file?.content).toContain("                cpu: 450m\n                memory: 1344Mi\n");
    await expect(
      desiredPullRequest({ proposal: nodes, body: "" }).build(async () => undefined),
    ).rejects.toThrow("terraform/terraform.tfvars no longer exists on the default branch");
  });
});

describe("a scale-down pull request", () => {
  it("names every node the change removes when several empty ones go at once", async () => {
    const files = infraFiles();
    files.set(TFVARS, tfvars(5));
    // Empty nodes go together only when the pool lets them (one node per decrease by default).
    const loaded = loadRepoConfig(
      CONFIG.replace("    max: 6\n", "    max: 6\n    scaleDown:\n      maxEmptyBulk: 10\n"),
    );
    if (!loaded.ok) throw new Error("config");
    const workers = nodes(5, { usage: { cpu: "200m", memory: "1Gi" } }, "talos-worker-", 0);
    const snapshot = buildSnapshot({
      nodes: [...workers, node("talos-cp-0", { controlPlane: true })],
      pods: [0, 1, 2].map((i) =>
        pod(`apps/small-${i}`, { node: `talos-worker-${i}`, cpu: "500m", memory: "1Gi" }),
      ),
      takenAt: NOW.toISOString(),
    });
    const { proposals } = await planChanges({
      repo: forgeRepoReader({
        forge: { readFile: async (path) => files.get(path), fileHistory: async () => [] },
        headSha: "head",
      }),
      config: loaded.config,
      snapshot,
      now: NOW,
    });
    const down = proposals.find((p) => p.kind === "nodes");
    if (down?.kind !== "nodes") throw new Error("no node proposal");
    expect(down.decision.removing).toEqual(["talos-worker-4", "talos-worker-3"]);
    expect(nodePullRequestBody(down)).toContain(
      "the change removes **talos-worker-4**, **talos-worker-3**.",
    );
  });
});

describe("telling the bot's commit of an earlier plan for the key (sameEdit)", () => {
  /** Whether `head` holds the proposal's edit of the default branch's files, values aside. */
  async function sameEdit(kind: "nodes" | "resources", head: Map<string, string>) {
    const proposal = (await plan()).proposals.find((p) => p.kind === kind);
    if (!proposal) throw new Error(`no ${kind} proposal`);
    const base = infraFiles();
    return desiredPullRequest({ proposal, body: "" }).sameEdit(
      async (path) => base.get(path),
      async (path) => head.get(path) ?? base.get(path),
    );
  }

  const workers = (text: string) => new Map([[TFVARS, text]]);
  const plex = (edit: (text: string) => string) =>
    new Map([[PLEX_FILE, edit(infraFiles().get(PLEX_FILE) ?? "")]]);

  it("is the node count edited to another count, and nothing else", async () => {
    expect(await sameEdit("nodes", workers(tfvars(5)))).toBe(true);
    expect(await sameEdit("nodes", workers(tfvars(3)))).toBe(true);
    const cores = tfvars(5).replace("worker_cores      = 4", "worker_cores      = 8");
    expect(await sameEdit("nodes", workers(cores))).toBe(false);
    const comment = tfvars(5).replace("# Workers:", "# Workers (more soon):");
    expect(await sameEdit("nodes", workers(comment))).toBe(false);
    const removed = tfvars(5).replace("worker_count      = 5\n", "");
    expect(await sameEdit("nodes", workers(removed))).toBe(false);
  });

  it("is any of the containers' requests and limits edited to other values, and nothing else", async () => {
    const requests = (text: string) =>
      text.replace("cpu: 2\n", "cpu: 500m\n").replace("memory: 4Gi\n", "memory: 2Gi\n");
    expect(await sameEdit("resources", plex(requests))).toBe(true);
    const limit = (text: string) => requests(text).replace("memory: 8Gi\n", "memory: 6Gi\n");
    expect(await sameEdit("resources", plex(limit))).toBe(true);
    const gpu = (text: string) => requests(text).replace("i915: 1\n", "i915: 2\n");
    expect(await sameEdit("resources", plex(gpu))).toBe(false);
    const user = (text: string) => requests(text).replace("runAsUser: 1000", "runAsUser: 0");
    expect(await sameEdit("resources", plex(user))).toBe(false);
  });
});
