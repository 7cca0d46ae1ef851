/**
 * The story the example tells (docs/example.md): on its recorded cluster, the pending Tdarr
 * nodes need exactly one more worker, the over-provisioned media apps get right-sizing pull
 * requests, and the apps that are left alone say why.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { loadSnapshot } from "../../src/cluster/snapshot-file.ts";
import type { Snapshot } from "../../src/planning/snapshot.ts";
import { loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import { REPO_CONFIG_PATH, type RepoConfig } from "../../src/policy/repo-config.ts";
import { planRightsizing, type RightsizingPlan } from "../../src/rightsizing/plan-rightsizing.ts";
import { runCli } from "../support/cli.ts";
import type { PlanJson } from "../support/plan-json.ts";
import { EXAMPLE_DIR, RECORDED_AT, SNAPSHOT_FILE } from "./example-cluster.ts";
import { copyExample, exampleFiles } from "./example-repo.ts";

const media = (app: string) => `kubernetes/apps/media/${app}/app/helmrelease.yaml`;
const requestsPath = (app: string) => `spec.values.controllers.${app}.containers.app.resources`;

describe("pr-autoscaler plan on the example", () => {
  let plan: PlanJson;
  let tfvars: string;

  beforeAll(async () => {
    const copy = await copyExample();
    try {
      const run = await runCli([
        "plan",
        "--repo",
        copy.dir,
        "--snapshot",
        SNAPSHOT_FILE,
        "--now",
        RECORDED_AT.toISOString(),
        "--json",
      ]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      plan = JSON.parse(run.stdout) as PlanJson;
    } finally {
      await copy.remove();
    }
    tfvars = await readFile(join(EXAMPLE_DIR, "terraform/terraform.tfvars"), "utf8");
  });

  it("proposes exactly one more worker, 3 → 4, for the two pending Tdarr nodes", () => {
    const nodes = plan.proposals.filter((proposal) => proposal.kind === "nodes");
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({
      key: "nodes-workers",
      pool: "workers",
      from: 3,
      to: 4,
      direction: "up",
      changes: [{ file: "terraform/terraform.tfvars", path: "worker_count", before: 3, after: 4 }],
      triggers: [{ kind: "pending-pods", pods: 2, newNodes: 1 }],
      holds: [],
    });
    expect(tfvars).toMatch(/^worker_count {6}= 3$/m);
  });

  it("explains the bounds, the new node's room and where each pending pod goes", () => {
    const reasons = plan.proposals.find((p) => p.kind === "nodes")?.reasons ?? [];
    expect(reasons).toEqual(
      expect.arrayContaining([
        "  bounds: min 2, max 5, host cap 4 (memory ⌊(64 GiB − 16 GiB reserved) / 12 GiB⌋ = 4); in effect 2..4",
        "  new node: 3950m cpu, 11.4 GiB memory, 110 pods (learned, most-common allocatable, like talos-worker-1 and 2 others); DaemonSets take 100m cpu, 128 MiB, 1 pod",
        "  pending pods: 2 considered, 0 fit free room on existing nodes, 2 go on 1 new node",
        "  pending: media/tdarr-node-6d8c7f5b49-2kq9v (cpu 1500m, memory 2 GiB) → new-1 (existing nodes: homelab-cp-1 and 2 more have a taint it does not tolerate; talos-worker-1 and 2 more have too little cpu free)",
        "  pending: media/tdarr-node-6d8c7f5b49-n7wzs (cpu 1500m, memory 2 GiB) → new-1 (existing nodes: homelab-cp-1 and 2 more have a taint it does not tolerate; talos-worker-1 and 2 more have too little cpu free)",
      ]),
    );
  });

  it("right-sizes Plex, Radarr and Sonarr and says why the other apps are left alone", () => {
    const others = plan.proposals.filter((proposal) => proposal.kind !== "nodes");
    expect(others.map((proposal) => [proposal.kind, proposal.key]).sort()).toEqual([
      ["resources", "resources-media-plex"],
      ["resources", "resources-media-radarr"],
      ["resources", "resources-media-sonarr"],
    ]);
    expect(plan.notes.map((note) => note.subject).sort()).toEqual([
      "deployment/default/echo-server",
      "deployment/media/prowlarr",
      "deployment/media/tautulli",
    ]);
  });
});

describe("right-sizing on the example", () => {
  let config: RepoConfig;
  let snapshot: Snapshot;
  let result: RightsizingPlan;

  beforeAll(async () => {
    const loaded = loadRepoConfig(
      await readFile(join(EXAMPLE_DIR, REPO_CONFIG_PATH), "utf8"),
      REPO_CONFIG_PATH,
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    config = loaded.config;
    snapshot = loadSnapshot(await readFile(SNAPSHOT_FILE, "utf8"), SNAPSHOT_FILE);
    result = planRightsizing({
      snapshot,
      config: config.rightsizing,
      files: await exampleFiles(),
      now: RECORDED_AT,
    });
  });

  it("proposes one pull request per over-provisioned media app, largest change first", () => {
    expect(result.proposals.map((proposal) => [proposal.key, proposal.changes])).toEqual([
      [
        "resources-media-radarr",
        [
          {
            file: media("radarr"),
            document: 0,
            path: `${requestsPath("radarr")}.requests.cpu`,
            before: 1,
            after: "150m",
          },
          {
            file: media("radarr"),
            document: 0,
            path: `${requestsPath("radarr")}.requests.memory`,
            before: "2Gi",
            after: "672Mi",
          },
        ],
      ],
      [
        "resources-media-sonarr",
        [
          {
            file: media("sonarr"),
            document: 0,
            path: `${requestsPath("sonarr")}.requests.cpu`,
            before: 1,
            after: "170m",
          },
          {
            file: media("sonarr"),
            document: 0,
            path: `${requestsPath("sonarr")}.requests.memory`,
            before: "2Gi",
            after: "592Mi",
          },
        ],
      ],
      [
        "resources-media-plex",
        [
          {
            file: media("plex"),
            document: 0,
            path: `${requestsPath("plex")}.requests.cpu`,
            before: 2,
            after: "450m",
          },
          {
            file: media("plex"),
            document: 0,
            path: `${requestsPath("plex")}.requests.memory`,
            before: "4Gi",
            after: "1344Mi",
          },
        ],
      ],
    ]);
    expect(result.proposals.length).toBeLessThanOrEqual(
      config.rightsizing?.maxOpenPullRequests ?? 0,
    );
  });

  it("edits only the two request lines of Plex's HelmRelease", async () => {
    const plex = result.proposals.find((proposal) => proposal.key === "resources-media-plex");
    const before = await readFile(join(EXAMPLE_DIR, media("plex")), "utf8");
    expect(plex?.edits).toEqual([
      {
        file: media("plex"),
        before,
        after: before
          .replace("\n                cpu: 2\n", "\n                cpu: 450m\n")
          .replace("\n                memory: 4Gi\n", "\n                memory: 1344Mi\n"),
      },
    ]);
    expect(plex?.edits[0]?.after).not.toBe(before);
  });

  it("explains Plex's numbers as docs/rightsizing.md does", () => {
    const reasons = result.proposals.find((p) => p.key === "resources-media-plex")?.reasons;
    expect(reasons).toEqual([
      "Deployment media/plex: VPA plex (updateMode Off, recording for 17d)",
      `  container app: ${media("plex")} ${requestsPath("plex")} (exact: HelmRelease plex (namespace media from kubernetes/apps/media/plex/ks.yaml), controllers.plex.containers.app)`,
      "    cpu request 2 → 450m (−77.5 %): VPA target 450m [VPA bounds 300m–1200m, uncapped target 450m, usage up to 380m]; because the request is above the VPA upper bound 1200m; it differs by 77.5 % (tolerance 20 %)",
      "    memory request 4Gi → 1344Mi (−67.2 %): VPA target 1.3Gi, rounded up to a multiple of 16Mi → 1344Mi [VPA bounds 1.1Gi–2560Mi, uncapped target 1.3Gi, usage up to 1100Mi, limit 8Gi]; because the request is above the VPA upper bound 2560Mi; it differs by 67.2 % (tolerance 20 %)",
    ]);
  });

  it("says why echo-server, prowlarr and tautulli are left as they are", () => {
    expect(result.notes.map((note) => [note.level, note.subject])).toEqual([
      ["info", "deployment/default/echo-server"],
      ["info", "deployment/media/prowlarr"],
      ["info", "deployment/media/tautulli"],
    ]);
    const [echo, prowlarr, tautulli] = result.notes.map((note) => note.message);
    expect(echo).toContain(
      "cpu request 10m kept: HPA echo-server scales this workload on cpu; a changed request would change what the HPA measures, so the two would fight",
    );
    expect(echo).toContain("memory request 64Mi kept: it already equals the proposed value");
    expect(prowlarr).toContain(
      "cpu request 500m kept: not enough history: the VPA has recorded for 3d, less than minHistory 7d",
    );
    expect(prowlarr).toContain(
      "memory request 1Gi kept: not enough history: the VPA has recorded for 3d, less than minHistory 7d",
    );
    expect(tautulli).toContain(
      "cpu request 250m kept: the proposed 230m (VPA target 223m, rounded up to a multiple of 10m → 230m) differs by 8 %, within the tolerance of 20 %",
    );
    expect(tautulli).toContain(
      "memory request 384Mi kept: the target 336Mi differs by 12.5 %, within the tolerance of 20 %",
    );
  });

  it("finds every VPA's HelmRelease exactly, through the Flux Kustomization's namespace", () => {
    const workloads = [
      ...result.proposals.flatMap((proposal) => proposal.reasons),
      ...result.notes.flatMap((note) => note.message.split("\n")),
    ].filter((line) => line.startsWith("  container app: "));
    expect(workloads).toHaveLength(snapshot.vpas.length);
    for (const line of workloads) expect(line).toMatch(/\(exact: HelmRelease /);
  });
});

describe("docs/example.md", () => {
  const docsFile = fileURLToPath(new URL("../../docs/example.md", import.meta.url));
  let docs: string;
  let planText: string;

  beforeAll(async () => {
    docs = await readFile(docsFile, "utf8");
    const copy = await copyExample();
    try {
      const run = await runCli([
        "plan",
        "--repo",
        copy.dir,
        "--snapshot",
        SNAPSHOT_FILE,
        "--now",
        RECORDED_AT.toISOString(),
      ]);
      expect(run.code).toBe(0);
      planText = run.stdout;
    } finally {
      await copy.remove();
    }
  });

  it("quotes lines the plan really prints", () => {
    const quoted = /```text\n(pool\/workers:[\s\S]*?)```/.exec(docs)?.[1] ?? "";
    const lines = quoted.split("\n").filter((line) => line.trim() !== "");
    expect(lines.length).toBeGreaterThan(5);
    const printed = planText.split("\n");
    expect(lines.filter((line) => !printed.includes(line))).toEqual([]);
  });

  it("tables the right-sizing pull requests the plan makes", async () => {
    const files = await exampleFiles();
    const config = loadRepoConfig(
      await readFile(join(EXAMPLE_DIR, REPO_CONFIG_PATH), "utf8"),
      REPO_CONFIG_PATH,
    );
    if (!config.ok) throw new Error(JSON.stringify(config.issues));
    const snapshot = loadSnapshot(await readFile(SNAPSHOT_FILE, "utf8"), SNAPSHOT_FILE);
    const result = planRightsizing({
      snapshot,
      config: config.config.rightsizing,
      files,
      now: RECORDED_AT,
    });
    const rows = result.proposals.map((proposal) => {
      const [cpu, memory] = proposal.changes;
      return `| \`${proposal.key}\` | ${cpu?.before} → ${cpu?.after} | ${memory?.before} → ${memory?.after} |`;
    });
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(docs).toContain(row);
  });
});

describe("the example's configuration", () => {
  it("is valid, with the homelab auto-merge preset", async () => {
    const run = await runCli(["validate", EXAMPLE_DIR, "--json"]);
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout) as {
      ok: boolean;
      issues: unknown[];
      rules: { name: string; source: string }[];
    };
    expect(output.ok).toBe(true);
    expect(output.issues).toEqual([]);
    expect(output.rules.map((rule) => `${rule.source} ${rule.name}`)).toEqual([
      "preset:homelab add-one-node",
      "preset:homelab raise-memory",
      "preset:homelab review-the-rest",
    ]);
  });
});
