import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { snapshotToJson } from "../../src/cluster/snapshot-file.ts";
import type { Snapshot } from "../../src/planning/snapshot.ts";
import { runCli } from "../support/cli.ts";
import { commitEverything } from "../support/git-repo.ts";
import { type Homelab, startHomelab } from "../support/kube-homelab.ts";
import { buildSnapshot, nodes, pendingPod, pod, TAKEN_AT } from "../support/snapshot-builder.ts";

const root = mkdtempSync(join(tmpdir(), "plan-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TFVARS = "# Workers\nworker_count  = 2 # grows with the cluster\nworker_cores  = 4\n";
const CONFIG = `pools:
  - name: workers
    target:
      file: terraform/terraform.tfvars
      path: worker_count
    min: 1
    max: 5
`;

/** An infra repo whose count was last changed long before the snapshot. */
function infraRepo(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return commitEverything(dir, "2025-05-01T00:00:00Z", "initial");
}

/** An infra repo of the workers pool: `config` and `tfvars` at their paths. */
function workersRepo(name: string, config = CONFIG, tfvars = TFVARS): string {
  return infraRepo(name, {
    "terraform/terraform.tfvars": tfvars,
    ".github/pr-autoscaler.yml": config,
  });
}

/** Commits everything in the checkout `repo` as the operator. */
function commitAll(repo: string, message: string): void {
  execFileSync("git", ["-C", repo, "add", "-A"]);
  execFileSync("git", [
    ...["-C", repo, "-c", "user.name=ops", "-c", "user.email=ops@example.com"],
    ...["commit", "-q", "-m", message],
  ]);
}

/** `plan` of `repo` on the saved `snapshot`, with `args` after. */
function planOn(repo: string, snapshot: string, ...args: string[]) {
  return runCli(["plan", "--repo", repo, "--snapshot", snapshot, ...args]);
}

/** `plan --json` of `repo` on a saved snapshot, planned for `now`. */
function planJson(repo: string, snapshot: string, now = TAKEN_AT) {
  return planOn(repo, snapshot, "--now", now, "--json");
}

/** Writes `snapshot` to a file of its own and gives its path. */
function saveSnapshot(snapshot: Snapshot, prefix = "snapshot"): string {
  const file = join(root, `${prefix}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, snapshotToJson(snapshot));
  return file;
}

/** Two full workers and pending pods that need a third. */
function snapshotFile(): string {
  const snapshot = buildSnapshot({
    nodes: nodes(2, { usage: { cpu: "3", memory: "8Gi" } }),
    pods: [
      pendingPod("media/plex-0", { cpu: "3", memory: "4Gi" }),
      pendingPod("media/tdarr-0", { cpu: "500m", memory: "1Gi" }),
    ],
  });
  // The pending pods cannot use the running nodes: their requests fill them.
  snapshot.pods.push(
    ...["worker-1", "worker-2"].map((node, i) => ({
      ...pendingPod(`apps/filler-${i}`, { cpu: "3800m", memory: "2Gi" }),
      phase: "Running" as const,
      nodeName: node,
      unschedulable: undefined,
    })),
  );
  return saveSnapshot(snapshot);
}

describe("pr-autoscaler plan", () => {
  it("proposes the count the pending pods need, with the verified file change, as JSON", async () => {
    const repo = workersRepo("up-json");
    const run = await planJson(repo, snapshotFile());
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout);
    expect(output.proposals).toHaveLength(1);
    expect(output.proposals[0]).toMatchObject({
      kind: "nodes",
      pool: "workers",
      from: 2,
      to: 3,
      changes: [{ file: "terraform/terraform.tfvars", path: "worker_count", before: 2, after: 3 }],
    });
    expect(output.proposals[0].reasons.join("\n")).toMatch(/pending/i);
    expect(output.notes).toEqual([]);
  });

  it("explains in text and shows the diff the pull request would carry", async () => {
    const repo = workersRepo("up-text");
    const run = await planOn(repo, snapshotFile(), "--now", TAKEN_AT);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("pool/workers: scale up 2 → 3 nodes");
    expect(run.stdout).toContain("-worker_count  = 2 # grows with the cluster");
    expect(run.stdout).toContain("+worker_count  = 3 # grows with the cluster");
  });

  it("keeps the trailing spaces of the changed line in the diff", async () => {
    const repo = workersRepo("up-trailing", CONFIG, "worker_count\t=\t  2   ");
    const run = await planOn(repo, snapshotFile(), "--now", TAKEN_AT);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("-worker_count\t=\t  2   \n");
    expect(run.stdout).toContain("+worker_count\t=\t  3   \n");
  });

  it("uses --config instead of the repo's file", async () => {
    const repo = infraRepo("override", { "terraform/terraform.tfvars": TFVARS });
    const config = join(root, "override.yml");
    writeFileSync(config, CONFIG.replace("max: 5", "max: 2"));
    const run = await planOn(repo, snapshotFile(), "--config", config, "--now", TAKEN_AT, "--json");
    const output = JSON.parse(run.stdout);
    expect(output.proposals).toEqual([]);
    expect(JSON.stringify(output.notes)).toMatch(/max/);
  });

  it("notes a config not committed, or changed and not committed, is the working tree's, not the branch's", async () => {
    const config = ".github/pr-autoscaler.yml";
    const repo = infraRepo("config-uncommitted", { "terraform/terraform.tfvars": TFVARS });
    mkdirSync(join(repo, ".github"));
    writeFileSync(join(repo, config), CONFIG);
    // A file given with --config is meant to differ from the branch's: nothing to say of it.
    const given = await planOn(repo, snapshotFile(), "--json", "--config", join(repo, config));
    expect(given.code).toBe(0);
    expect(JSON.stringify(JSON.parse(given.stdout).notes)).not.toContain("working tree");
    const untracked = await planOn(repo, snapshotFile());
    expect(untracked.code).toBe(0);
    expect(untracked.stdout).toContain("+worker_count");
    expect(untracked.stdout).toContain(
      "\nconfig: .github/pr-autoscaler.yml is not committed (no commit of the branch has it): this plan uses the working tree's configuration; the app leaves the repo alone until it is committed\n",
    );
    commitAll(repo, "config");
    const committed = await planOn(repo, snapshotFile());
    expect(committed.stdout).not.toContain("config: ");
    writeFileSync(join(repo, config), CONFIG.replace("max: 5", "max: 4"));
    const changed = await planJson(repo, snapshotFile());
    expect(JSON.parse(changed.stdout).notes[0]).toEqual({
      level: "info",
      subject: "config",
      message:
        ".github/pr-autoscaler.yml is changed in the working tree but not committed: this plan uses the working tree's configuration, not the branch's; the app uses the branch's until the change is committed",
    });
  });

  it("leaves a repo without a config alone", async () => {
    const repo = infraRepo("no-config", { "terraform/terraform.tfvars": TFVARS });
    const run = await planOn(repo, snapshotFile(), "--json");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      proposals: [],
      notes: [
        {
          level: "info",
          subject: "repo",
          message: expect.stringContaining("the repo is left alone"),
        },
      ],
    });
  });

  it("says a config deleted in the working tree only is the branch's, not that the repo is left alone", async () => {
    // The app reads the branch, which still has the configuration, and scales its pools.
    const repo = workersRepo("config-deleted");
    rmSync(join(repo, ".github/pr-autoscaler.yml"));
    const run = await planOn(repo, snapshotFile());
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      "warning: repo: .github/pr-autoscaler.yml is deleted in the working tree, but the branch holds it: restore it (git checkout HEAD -- .github/pr-autoscaler.yml), or plan from a clean checkout; nothing is planned from this checkout\n\nNo changes proposed.\n",
    );
  });

  it("warns when the config is there under the .yaml name, which is not read", async () => {
    const repo = infraRepo("yaml-extension", {
      "terraform/terraform.tfvars": TFVARS,
      ".github/pr-autoscaler.yaml": CONFIG,
    });
    const run = await planOn(repo, snapshotFile());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `warning: repo: no .github/pr-autoscaler.yml in ${repo}: the repo is left alone; .github/pr-autoscaler.yaml is there, but only .github/pr-autoscaler.yml is read: rename it\n`,
    );
  });

  it("reports an invalid config with file and line, exit 2", async () => {
    const repo = workersRepo("bad-config", CONFIG.replace("max: 5", "maxx: 5"));
    const run = await planOn(repo, snapshotFile());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/\.github\/pr-autoscaler\.yml:\d+:\d+/);
  });

  it("plans nothing for an auto-merge policy validate refuses: the app changes nothing then", async () => {
    // The pools are valid and a node is wanted, but the app stops at the configuration's
    // problems before it opens any pull request.
    const extending = `${CONFIG}automerge:\n  extends: .github/autoscaler/policy.yml\n`;
    const repo = workersRepo("policy-missing", extending);
    const consequence =
      "1 problem: until it is fixed, the app changes nothing in this repository, so nothing is planned\n";
    const run = await planOn(repo, snapshotFile());
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toBe(
      `pr-autoscaler plan: .github/pr-autoscaler.yml:9:12: automerge.extends: .github/autoscaler/policy.yml does not exist\n${consequence}`,
    );
    // --config's file is the one named, its extends read from DIR.
    const config = join(root, "policy-missing.yml");
    writeFileSync(config, extending);
    const override = await planOn(repo, snapshotFile(), "--config", config);
    expect(override.code).toBe(2);
    expect(override.stderr).toBe(
      `pr-autoscaler plan: ${config}:9:12: automerge.extends: .github/autoscaler/policy.yml does not exist\n${consequence}`,
    );
    // With the file in DIR, it plans.
    mkdirSync(join(repo, ".github/autoscaler"));
    writeFileSync(join(repo, ".github/autoscaler/policy.yml"), "extends: preset:homelab\n");
    const planned = await planOn(repo, snapshotFile());
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain("+worker_count");
    // Committed, then deleted in the working tree only: the app reads the branch's, and so
    // does plan.
    commitAll(repo, "policy");
    rmSync(join(repo, ".github/autoscaler/policy.yml"));
    const deleted = await planOn(repo, snapshotFile());
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain("+worker_count");
  });

  it("refuses a repo config that is a link with what a config does about it, not a pool's target", async () => {
    const repo = infraRepo("linked-config", {
      "terraform/terraform.tfvars": TFVARS,
      "config/autoscaler.yml": CONFIG,
    });
    mkdirSync(join(repo, ".github"));
    symlinkSync("../config/autoscaler.yml", join(repo, ".github/pr-autoscaler.yml"));
    const run = await planOn(repo, snapshotFile());
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "pr-autoscaler plan: .github/pr-autoscaler.yml:1:1: the file is a symbolic link to ../config/autoscaler.yml: the configuration is read from .github/pr-autoscaler.yml itself, never through a link; put the file there in place of the link\n",
    );
  });

  it("refuses conflicting or malformed flags with exit 2", async () => {
    expect((await runCli(["plan", "--snapshot", "a.json", "--kubeconfig", "k"])).code).toBe(2);
    expect((await runCli(["plan", "--now", "yesterday"])).code).toBe(2);
    const noOffset = infraRepo("no-offset", { ".github/pr-autoscaler.yml": CONFIG });
    const local = await planOn(noOffset, snapshotFile(), "--now", "2025-06-06T12:00:00");
    expect(local.code).toBe(2);
    expect(local.stderr).toContain("with its offset");
    expect(local.stdout).toBe("");
    const bad = join(root, "bad-snapshot.json");
    writeFileSync(bad, '{"version": 1}');
    const repo = infraRepo("bad-snapshot", { ".github/pr-autoscaler.yml": CONFIG });
    const run = await planOn(repo, bad);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("bad-snapshot.json");
  });

  it("says on stderr which fields of a hand-written snapshot it ignores, and plans on", async () => {
    const repo = workersRepo("unknown-field");
    const file = snapshotFile();
    const data = JSON.parse(readFileSync(file, "utf8")) as { pods: Record<string, unknown>[] };
    (data.pods[2] as Record<string, unknown>).safe_to_evict = false;
    writeFileSync(file, `\uFEFF${JSON.stringify(data, null, 2)}`);
    const run = await planJson(repo, file);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      'warning: pods[2].safe_to_evict: not a snapshot field, ignored; did you mean "safeToEvict"? [field-unknown]\n',
    );
    expect(JSON.parse(run.stdout).proposals[0]).toMatchObject({ from: 2, to: 3 });
  });

  /** Three idle workers measured over an hour by Prometheus: a pool that may shrink. */
  function quietSnapshot(): string {
    const snapshot = buildSnapshot({
      nodes: nodes(3, { usage: { cpu: "300m", memory: "1Gi" } }),
    });
    return saveSnapshot(snapshot, "quiet");
  }
  const QUIET_REPO = {
    "terraform/terraform.tfvars": TFVARS.replace("worker_count  = 2", "worker_count  = 3"),
    ".github/pr-autoscaler.yml": CONFIG,
  };

  it("takes a saved snapshot's usage as unknown when planned for long after it was measured", async () => {
    const repo = infraRepo("stale-usage", QUIET_REPO);
    const file = quietSnapshot();
    const then = await planJson(repo, file);
    // Planned for when it was measured, the idle pool shrinks.
    expect(JSON.parse(then.stdout).proposals[0]).toMatchObject({ from: 3, direction: "down" });
    const dayLater = "2025-06-07T12:00:00Z";
    const later = await planJson(repo, file, dayLater);
    expect(later.code).toBe(0);
    const output = JSON.parse(later.stdout);
    expect(output.proposals).toEqual([]);
    expect(output.notes[0].message).toMatch(/usage unknown \(worker-1, worker-2, worker-3\)/);
    // Without --now, a saved snapshot is planned as of when it was taken.
    const replay = await planOn(repo, file, "--json");
    expect(JSON.parse(replay.stdout).proposals[0]).toMatchObject({ from: 3, direction: "down" });
  });

  it("warns of the Pending pods the scheduler has not tried for long, which are counted", async () => {
    const repo = infraRepo("unjudged", QUIET_REPO);
    const snapshot = buildSnapshot({ nodes: nodes(3, { usage: { cpu: "300m", memory: "1Gi" } }) });
    // Pending, bound to no node, and an hour without the scheduler's verdict: counted, and named.
    snapshot.pods.push(pod("batch/import-0", { cpu: "2", memory: "1Gi" }));
    const file = saveSnapshot(snapshot, "unjudged");
    const run = await planOn(repo, file);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "unjudged-pods: 1 Pending pod not yet tried by the scheduler (no PodScheduled condition) is counted as pending, placed by the plan's own fit check: batch/import-0; the oldest was created 2025-06-06 11:00 UTC, more than 5m: check that the scheduler runs, as nodes added for it do not help until it does",
    );
    const json = JSON.parse((await planJson(repo, file)).stdout);
    expect(json.notes).toContainEqual(
      expect.objectContaining({ level: "warning", subject: "unjudged-pods" }),
    );
  });

  it("writes the other pools' proposals when one pool's file cannot be edited", async () => {
    const repo = infraRepo("one-broken", {
      "terraform/terraform.tfvars": TFVARS,
      "counts.yaml": "gpu: &n 0\nspare: *n\n",
      ".github/pr-autoscaler.yml": `${CONFIG}  - name: gpu
    target:
      file: counts.yaml
      path: gpu
    selector:
      matchLabels:
        gpu: "true"
    min: 2
    max: 3
    newNode:
      cpu: "8"
      memory: 32Gi
`,
    });
    const run = await planJson(repo, snapshotFile());
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout);
    expect(output.proposals).toEqual([
      expect.objectContaining({ pool: "workers", from: 2, to: 3 }),
    ]);
    expect(output.notes).toEqual([
      expect.objectContaining({
        level: "warning",
        subject: "pool/gpu",
        message: expect.stringMatching(
          /gpu wants 0 → 2, but the change cannot be written: .*anchor/,
        ),
      }),
    ]);
  });

  it("warns when the pool's count cannot be read, and accepts a duration written 0", async () => {
    const repo = workersRepo(
      "missing-count",
      CONFIG.replace("path: worker_count", "path: workers_count").concat(
        "    scaleUp:\n      window: 0\n      pendingFor: 0\n",
      ),
    );
    const run = await planJson(repo, snapshotFile());
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const note = JSON.parse(run.stdout).notes[0];
    expect(note).toMatchObject({ level: "warning", subject: "pool/workers" });
    expect(note.message).toContain("workers_count");
    const unitless = workersRepo("unitless", `${CONFIG}    cooldown: 5\n`);
    const refused = await planOn(unitless, snapshotFile());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /pools\[0\]\.cooldown: expected a duration such as 10m or 1h30m/,
    );
  });

  it("refuses a --repo that is no directory, and a bad snapshot even without a config", async () => {
    const missing = await planOn(join(root, "no-such-repo"), snapshotFile());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no-such-repo: no such directory");
    // A file there is not said to be missing.
    const file = await planOn(snapshotFile(), snapshotFile());
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(
      /--repo \S+\.json: a file, not a directory: give the infra repo's checkout\n$/,
    );
    const repo = infraRepo("no-config-bad-snapshot", { "terraform/terraform.tfvars": TFVARS });
    const run = await planOn(repo, join(root, "missing.json"));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("missing.json");
  });

  it("says once which --config could not be read, and why in words", async () => {
    const repo = infraRepo("config-unreadable", { "terraform/terraform.tfvars": TFVARS });
    const missing = join(root, "no-such-config.yml");
    const gone = await planOn(repo, snapshotFile(), "--config", missing);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toBe(`pr-autoscaler plan: ${missing}: no such file\n`);
    const folder = await planOn(repo, snapshotFile(), "--config", root);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toBe(`pr-autoscaler plan: ${root}: is a directory\n`);
  });

  describe("against a Kubernetes API server", () => {
    let homelab: Homelab;
    beforeAll(async () => {
      homelab = await startHomelab();
    });
    afterAll(async () => homelab.close());

    it("reads the cluster through the kubeconfig and explains the pool", async () => {
      const repo = workersRepo("live", CONFIG, TFVARS.replace("= 2", "= 3"));
      const run = await runCli([
        "plan",
        "--repo",
        repo,
        "--kubeconfig",
        homelab.kubeconfig,
        "--json",
      ]);
      // What the read took as unknown is said on stderr, the JSON on stdout stays clean.
      expect(run.stderr).toContain(
        'warning: pod/apps/broken-requests: spec.containers[0].resources.requests.cpu: invalid quantity "2 cores": contains whitespace; treated as unknown [quantity-invalid]\n',
      );
      // The pods' usage, which no decision reads with right-sizing off, in one note.
      expect(run.stderr).toMatch(
        /\nnote: pods: usage unknown for 6 pods \([^)]*\) \[metrics-stale, metrics-missing\]; right-sizing is off/,
      );
      expect(run.stderr).not.toMatch(/warning: pod\/[^\n]*usage unknown/);
      expect(run.stderr).toMatch(/^((warning|note): [^\n]+\n)+$/);
      expect(run.code).toBe(0);
      const output = JSON.parse(run.stdout);
      const text = JSON.stringify(output);
      expect(text).toContain("workers");
      expect(
        homelab.fake.requests.some((request) => request.path.startsWith("/api/v1/nodes")),
      ).toBe(true);
    });

    it("finds the kubeconfig through KUBECONFIG in its environment, relative to its directory", async () => {
      const repo = workersRepo("env-kubeconfig", CONFIG, TFVARS.replace("= 2", "= 3"));
      const before = homelab.fake.requests.length;
      const run = await runCli(["plan", "--repo", repo, "--json"], dirname(homelab.kubeconfig), {
        KUBECONFIG: basename(homelab.kubeconfig),
      });
      expect(run.code).toBe(0);
      expect(JSON.stringify(JSON.parse(run.stdout))).toContain("workers");
      expect(homelab.fake.requests.length).toBeGreaterThan(before);
    });

    it("exits 1 when the cluster cannot be read", async () => {
      const repo = workersRepo("down");
      const kubeconfig = join(root, "down.kubeconfig");
      writeFileSync(
        kubeconfig,
        `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:9\n    insecure-skip-tls-verify: true\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: t\n`,
      );
      const run = await runCli(["plan", "--repo", repo, "--kubeconfig", kubeconfig]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/127\.0\.0\.1:9/);
    });
  });
});
