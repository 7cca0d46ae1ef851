/**
 * `plan --repo DIR` reading the time of the last change from git: a plain folder has no history
 * to wait for; a history git cannot give (git not installed, a repository owned by another user)
 * is unknown, not long ago; a commit dated after the planning time is a change made just now; the
 * operator's git settings do not change what is read; a bare repository is refused.
 */
import { execFile, execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "@jest/globals";
import { runCli } from "../support/cli.ts";
import type { NoteJson, PlanJson } from "../support/plan-json.ts";
import {
  type NodeOptions,
  type Raw,
  runPlan,
  type Served,
  writeInfraRepo,
} from "./served-cluster.ts";
import {
  apps,
  booted,
  changedAt,
  cluster,
  commitFile,
  commitFiles,
  config,
  emptyRepo,
  FOUR,
  fillers,
  git,
  gitRepo,
  judgedNow,
  nodeNamed,
  OVER_MAX,
  readyOf,
  serveForTest,
  tempDir,
  tfvars,
  transcodeJob,
  WORKERS,
} from "./served-plan.ts";

const NOW = "2026-11-22T10:00:00Z";
const FILE = "terraform/terraform.tfvars";

/**
 * An infra repo made long ago with a README only, whose files a later commit brings in: a move
 * or rename looks the same to a history that does not follow the path.
 */
function broughtIn(commit: { count: number; at: string }, configText: string): string {
  const dir = emptyRepo();
  commitFile(dir, "README.md", "infra\n", "2026-11-01T10:00:00Z", "readme");
  const files = { tfvars: tfvars(commit.count), config: configText };
  commitFiles(dir, files, commit.at, `worker_count ${commit.count}`);
  return dir;
}

function poolNote(output: PlanJson): NoteJson {
  const note = output.notes.find((entry) => entry.subject === "pool/workers");
  if (!note) throw new Error(`no note for the pool: ${JSON.stringify(output)}`);
  return note;
}

function holdKinds(output: PlanJson): string[] {
  const holds = output.proposals[0]?.holds ?? poolNote(output).holds ?? [];
  return holds.map((hold) => String(hold.kind));
}

interface PlanRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `plan --json` in-process, for a folder already written. */
async function planIn(served: Served, dir: string, now = NOW): Promise<PlanRun> {
  const kubeconfig = await served.fake.writeKubeconfig(join(tempDir(), "kubeconfig"));
  return runPlan(dir, kubeconfig, ["--json", "--now", now]);
}

/**
 * An environment for git whose config is only what a test writes (not the machine's system
 * config nor the user's global one, which may trust every directory), and `extra`.
 */
function gitEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const home = tempDir("plan-history-home-");
  const global = join(home, "gitconfig");
  writeFileSync(global, "");
  return {
    HOME: home,
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    GIT_CONFIG_GLOBAL: global,
    GIT_CONFIG_NOSYSTEM: "1",
    ...extra,
  };
}

/** The real CLI process, `plan --json` with `env` as its whole environment. */
async function planProcess(
  served: Served,
  dir: string,
  env: Record<string, string>,
): Promise<PlanRun> {
  const kubeconfig = await served.fake.writeKubeconfig(join(tempDir(), "kubeconfig"));
  const args = ["plan", "--repo", dir, "--kubeconfig", kubeconfig, "--json", "--now", NOW];
  try {
    const { stdout, stderr } = await promisify(execFile)(
      join(process.cwd(), "node_modules/.bin/node"),
      [join(process.cwd(), "bin/pr-autoscaler.js"), ...args],
      { env, encoding: "utf8" },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Serves `objects` and runs `plan --json` once for the repo at `dir`, at `now`. */
async function planOnce(objects: Raw[], dir: string, now = NOW): Promise<PlanJson> {
  return parsed(await planIn(await serveForTest(objects), dir, now));
}

function parsed(run: PlanRun): PlanJson {
  if (run.code !== 0) throw new Error(`plan exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as PlanJson;
}

describe("plan --repo: a folder without git history, and a history git cannot give", () => {
  it("a plain folder keeps no history: four nodes where the max is three lose one, and a note says no cooldown was waited for", async () => {
    const served = await serveForTest([...cluster(FOUR), ...apps()]);
    const dir = writeInfraRepo(tempDir(), OVER_MAX);
    const run = await planIn(served, dir);
    const output = parsed(run);
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down" });
    expect(output.notes).toContainEqual({
      level: "info",
      subject: "repo",
      message: `${dir} is not a git repository: no change of its counts has a time, so no cooldown or delay after a scale-up is waited for`,
    });
    expect(run.stderr).not.toContain("git");
  });

  it("a plain folder keeps no history: an idle pool loses a node for low usage too, as plan --help says only an unreadable history holds it", async () => {
    const served = await serveForTest([...cluster(FOUR), ...apps()]);
    const dir = writeInfraRepo(tempDir(), judgedNow(4));
    // Now, not NOW: the served samples are fresh at the time the test runs.
    const kubeconfig = await served.fake.writeKubeconfig(join(tempDir(), "kubeconfig"));
    const output = parsed(await runPlan(dir, kubeconfig, ["--json"]));
    expect(output.proposals[0]).toMatchObject({
      from: 4,
      to: 3,
      direction: "down",
      triggers: [{ kind: "underutilised" }],
      holds: [],
    });
    const help = await runCli(["plan", "--help"]);
    expect(help.stdout.replace(/\s+/g, " ")).toContain(
      "while git cannot read its history no node is removed",
    );
  });

  it("a plain folder with a pod waiting for room: the node is added", async () => {
    const dir = writeInfraRepo(tempDir());
    const output = await planOnce([...cluster(), ...fillers(), transcodeJob("nog001")], dir);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4, direction: "up", holds: [] });
  });

  it("a plain folder asking for a node that is not there: awaited without a deadline, never failed", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("nog002")]);
    const dir = writeInfraRepo(tempDir(), { tfvars: tfvars(4) });
    for (const now of [NOW, "2026-11-23T10:00:00Z"]) {
      const output = parsed(await planIn(served, dir, now));
      expect(output.proposals).toEqual([]);
      expect(poolNote(output).holds).toContainEqual({
        kind: "provisioning",
        state: "joining",
        expected: 4,
        present: 3,
      });
      expect(holdKinds(output)).not.toContain("provisioning-failed");
      expect(poolNote(output).message).toContain("(time of the change unknown)");
    }
  });

  it("a repository owned by another user: git's refusal, the command that lifts it, then the history", async () => {
    const served = await serveForTest([...cluster(FOUR), ...apps()]);
    // The count went 3 → 4 five minutes ago: a removal now would undo a scale-up just made.
    const dir = changedAt(3, 4, "2026-11-22T09:55:00Z", OVER_MAX.config);
    // git's own switch for "the owner differs" (its test suite's): the check and the message
    // are git's, as for a checkout made by another uid (actions/checkout in a container job).
    const env = gitEnvironment({ GIT_TEST_ASSUME_DIFFERENT_OWNER: "1" });
    const refused = await planProcess(served, dir, env);
    const output = parsed(refused);
    expect(output.proposals).toEqual([]);
    const hint = `git config --global --add safe.directory ${dir}`;
    expect(poolNote(output).holds).toContainEqual({
      kind: "history-unknown",
      problem: `git refuses to read ${dir}, which belongs to another user ("fatal: detected dubious ownership in repository at '${dir}'"); if you trust it, run \`${hint}\``,
    });
    expect(poolNote(output).level).toBe("warning");
    expect(refused.stderr).toContain(`run \`${hint}\``);

    execFileSync("sh", ["-c", hint], { env });
    const trusted = parsed(await planProcess(served, dir, env));
    expect(trusted.proposals).toEqual([]);
    // The cooldown of the 09:55 change is over at 10:00; the delay after a scale-up is not.
    expect(holdKinds(trusted)).toContain("scale-down-delay");
    expect(holdKinds(trusted)).not.toContain("history-unknown");
  });

  it("git not installed: no removal, and said so", async () => {
    const served = await serveForTest([...cluster(FOUR), ...apps()]);
    const dir = changedAt(3, 4, "2026-11-22T09:55:00Z", OVER_MAX.config);
    const run = await planProcess(served, dir, gitEnvironment({ PATH: tempDir() }));
    const output = parsed(run);
    expect(output.proposals).toEqual([]);
    const problem = `git not found (no git program on the PATH), so the history of ${dir} cannot be read`;
    expect(poolNote(output).holds).toContainEqual({ kind: "history-unknown", problem });
    expect(run.stderr).toContain(`warning: ${problem}: the time of the last change is unknown`);
  });
});

describe("plan --repo: the operator's git settings do not change what is read", () => {
  it("log.showSignature = true with a signed commit of the file", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("sig001")]);
    const dir = changedAt(2, 3, "2026-11-22T09:57:00Z");
    const env = gitEnvironment();
    const key = join(tempDir(), "signing-key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    git(dir, ["config", "gpg.format", "ssh"]);
    git(dir, ["config", "user.signingKey", key]);
    // A signed commit that leaves the count alone: the change of 09:57 is still the last one.
    writeFileSync(join(dir, FILE), tfvars(3).replace("# Workers:", "# Worker VMs:"));
    git(dir, ["commit", "-q", "-S", "-am", "comment"], "2026-11-22T09:58:00Z");
    writeFileSync(env.GIT_CONFIG_GLOBAL ?? "", "[log]\n\tshowSignature = true\n");
    const run = await planProcess(served, dir, env);
    // Only what the cluster read took as unknown: nothing about git.
    expect(run.stderr).not.toMatch(/git|history|internal error/);
    const output = parsed(run);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output).holds).toContainEqual({
      kind: "cooldown",
      since: "2026-11-22T09:57:00.000Z",
      until: "2026-11-22T10:02:00.000Z",
    });
  });
});

describe("plan --repo: a commit dated after the planning time is a change made just now", () => {
  it("merged 30 s ahead of the planner's clock, three nodes Ready: cooldown and joining, not failed", async () => {
    const dir = changedAt(3, 4, "2026-11-22T10:00:30Z");
    const output = await planOnce([...cluster(), ...apps(WORKERS)], dir);
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note.level).toBe("info");
    expect(note.holds).toEqual(
      expect.arrayContaining([
        {
          kind: "provisioning",
          state: "joining",
          expected: 4,
          present: 3,
          since: "2026-11-22T10:00:00.000Z",
          deadline: "2026-11-22T10:15:00.000Z",
        },
        {
          kind: "cooldown",
          since: "2026-11-22T10:00:00.000Z",
          until: "2026-11-22T10:05:00.000Z",
          committedAt: "2026-11-22T10:00:30.000Z",
        },
      ]),
    );
    expect(note.message).not.toMatch(/failed to join/);
    expect(note.message).toContain(
      "cooldown after the change of 2026-11-22 10:00 UTC, until 2026-11-22 10:05 UTC (its commit is dated 2026-11-22 10:00:30 UTC, later than the planning time: it counts as made at the planning time)",
    );
  });

  it("a raise committed after the planning time, four nodes where the max is three: no removal", async () => {
    const dir = changedAt(3, 4, "2026-11-22T10:05:00Z", OVER_MAX.config);
    const output = await planOnce([...cluster(FOUR), ...apps()], dir);
    expect(output.proposals).toEqual([]);
    expect(holdKinds(output)).toEqual(expect.arrayContaining(["cooldown", "scale-down-delay"]));
  });

  it("a shallow clone whose only commit is newer than the planning time holds for the cooldown", async () => {
    const served = await serveForTest([...cluster(FOUR), ...apps()]);
    const source = changedAt(3, 4, "2026-11-20T09:00:00Z", OVER_MAX.config);
    commitFile(source, "README.md", "infra\n", "2026-11-22T10:30:00Z", "docs");
    const clone = join(tempDir(), "clone");
    git(source, ["clone", "-q", "--depth", "1", `file://${source}`, clone]);
    const output = parsed(await planIn(served, clone));
    expect(output.proposals).toEqual([]);
    expect(poolNote(output).holds).toContainEqual({
      kind: "cooldown",
      since: "2026-11-22T10:00:00.000Z",
      until: "2026-11-22T10:05:00.000Z",
      committedAt: "2026-11-22T10:30:00.000Z",
    });
    expect(output.notes).toContainEqual({
      level: "info",
      subject: "repo",
      message: `${clone} is a shallow clone: a count that last changed before the oldest commit it holds is dated at that commit, the latest the change can have been, so the cooldown, the delay after a scale-up and the wait for joining nodes may run from later than the change; fetch the whole history (git fetch --unshallow) to date it`,
    });
    // Its whole history fetched, the change is dated when it was made: long over.
    git(clone, ["fetch", "-q", "--unshallow"]);
    const full = parsed(await planIn(served, clone));
    expect(full.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down", holds: [] });
    expect(full.notes.filter((note) => note.subject === "repo")).toEqual([]);
  });
});

describe("plan --repo: folders that are no checkout", () => {
  it("refuses a bare repository, saying a checkout is needed", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("bar001")]);
    const source = changedAt(2, 3, "2026-11-22T09:57:00Z");
    const bare = join(tempDir(), "infra.git");
    git(source, ["clone", "-q", "--bare", source, bare]);
    const run = await planIn(served, bare);
    expect(run).toEqual({
      code: 2,
      stdout: "",
      stderr: `pr-autoscaler plan: --repo ${bare}: ${bare} is a bare git repository: it has no working tree to read the files from; clone it (git clone ${bare} DIR) and use the clone\n`,
    });
  });

  it("refuses the .git folder of a checkout", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("bar002")]);
    const dir = join(changedAt(2, 3, "2026-11-22T09:57:00Z"), ".git");
    const run = await planIn(served, dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${dir} is inside a repository's .git folder`);
  });
});

/** A pool that removes a node on one metrics-server sample: only the hysteresis keeps its nodes. */
const QUICK = config({
  "      indexBase: 1\n": "      indexBase: 1\n    scaleDown:\n      unneededTime: 0s\n",
});

/** Idle workers whose metrics-server samples were taken just before the planning time. */
function idle(names: readonly string[], options: Record<string, NodeOptions> = {}): Raw[] {
  return cluster(names, options).map((object) =>
    object.kind === "NodeMetrics" ? { ...object, timestamp: "2026-11-22T09:59:45Z" } : object,
  );
}

describe("plan --repo: the direction of the last changes, from the history", () => {
  it("a repository whose only commit holds the file: no change to wait for, an idle node goes at once", async () => {
    // Made seven minutes ago: the count was there from the repository's start, no one changed it.
    const dir = gitRepo([{ count: 4, at: "2026-11-22T09:53:00Z" }], QUICK);
    const output = await planOnce([...idle(FOUR), ...apps()], dir);
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down", holds: [] });
  });

  it("a repository made just now asking for a node that is not there: awaited from its commit, no cooldown", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("root01")]);
    const fresh = parsed(await planIn(served, gitRepo([{ count: 4, at: "2026-11-22T09:59:30Z" }])));
    expect(fresh.proposals).toEqual([]);
    // Its only commit made the repository and changed no count: `firstCommit` says so.
    expect(poolNote(fresh).holds).toContainEqual({
      kind: "provisioning",
      state: "joining",
      expected: 4,
      present: 3,
      since: "2026-11-22T09:59:30.000Z",
      firstCommit: true,
      deadline: "2026-11-22T10:14:30.000Z",
    });
    expect(holdKinds(fresh)).not.toContain("cooldown");
    // Its commit dated an hour after the planning time: awaited from the planning time.
    const ahead = parsed(await planIn(served, gitRepo([{ count: 4, at: "2026-11-22T11:00:00Z" }])));
    expect(poolNote(ahead).holds).toContainEqual({
      kind: "provisioning",
      state: "joining",
      expected: 4,
      present: 3,
      since: "2026-11-22T10:00:00.000Z",
      firstCommit: true,
      deadline: "2026-11-22T10:15:00.000Z",
    });
    expect(holdKinds(ahead)).not.toContain("cooldown");
    // Made long ago, the fourth node has not come: it failed to join, and a person looks at it.
    const old = parsed(await planIn(served, gitRepo([{ count: 4, at: "2026-11-01T10:00:00Z" }])));
    expect(poolNote(old).holds).toContainEqual({
      kind: "provisioning-failed",
      state: "joining",
      expected: 4,
      present: 3,
      since: "2026-11-01T10:00:00.000Z",
      firstCommit: true,
      timeoutMs: 900_000,
    });
    expect(holdKinds(old)).not.toContain("cooldown");
    // That commit changed no count: the text does not call it a change.
    expect(poolNote(old).message).toContain(
      "hold: the repo asks for 4 nodes, 3 are Ready, 15m or more after the commit that made the repository, of 2026-11-01 10:00 UTC: a node failed to join",
    );
  });

  it("a commit that brings the file into an older repository: the delay runs from it, said to be of unknown direction", async () => {
    const served = await serveForTest([...idle(FOUR), ...apps()]);
    const dir = broughtIn({ count: 4, at: "2026-11-22T09:53:00Z" }, QUICK);
    const output = parsed(await planIn(served, dir));
    expect(output.proposals).toEqual([]);
    expect(poolNote(output).holds).toEqual([
      {
        kind: "scale-down-delay",
        since: "2026-11-22T09:53:00.000Z",
        until: "2026-11-22T10:03:00.000Z",
        from: "change",
        direction: "unknown",
      },
    ]);
    // Nothing in the history raised the count: the hold does not call the commit a scale-up.
    expect(poolNote(output).message).toContain(
      "hold: no scale-down until 2026-11-22 10:03 UTC (after the change of 2026-11-22 09:53 UTC, of unknown direction, which counts as a scale-up: none of the pool's Ready nodes was created for it, so the delay runs from the change)",
    );
    const after = parsed(await planIn(served, dir, "2026-11-22T10:03:00Z"));
    expect(after.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down", holds: [] });
  });

  it("a commit that brings the file in, its node still booting: the delay waiting for it does not call the commit a scale-up", async () => {
    const objects = idle(FOUR, { "talos-worker-4": { ready: false } });
    booted(objects, "talos-worker-4", "2026-11-22T09:56:00Z", "2026-11-22T09:56:00Z");
    const dir = broughtIn({ count: 4, at: "2026-11-22T09:55:00Z" }, QUICK);
    const output = await planOnce([...objects, ...apps()], dir);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output).holds).toContainEqual({
      kind: "scale-down-delay",
      joining: ["talos-worker-4"],
      delayMs: 600_000,
      until: "2026-11-22T10:10:00.000Z",
      direction: "unknown",
    });
    expect(poolNote(output).message).toContain(
      "hold: no scale-down until 10m after the nodes of the last change, of unknown direction, which counts as a scale-up, are Ready: talos-worker-4 is not Ready yet (2026-11-22 10:10 UTC at the earliest)",
    );
  });

  it("a raise lowered by hand a minute later: the cooldown runs from the decrease, the delay after a scale-up from the raise", async () => {
    const served = await serveForTest([...cluster(FOUR), ...apps()]);
    const dir = gitRepo(
      [
        { count: 3, at: "2026-11-01T10:00:00Z" },
        { count: 5, at: "2026-11-22T09:50:00Z" },
        { count: 4, at: "2026-11-22T09:51:00Z" },
      ],
      OVER_MAX.config,
    );
    const held = parsed(await planIn(served, dir, "2026-11-22T09:57:00Z"));
    expect(held.proposals).toEqual([]);
    // The four nodes were there before the raise: the delay runs from the raise itself.
    expect(poolNote(held).holds).toContainEqual({
      kind: "scale-down-delay",
      since: "2026-11-22T09:50:00.000Z",
      until: "2026-11-22T10:00:00.000Z",
      from: "change",
    });
    expect(holdKinds(held)).not.toContain("cooldown");
    expect(poolNote(held).message).toContain(
      "hold: no scale-down until 2026-11-22 10:00 UTC (after the last scale-up, of 2026-11-22 09:50 UTC: none of the pool's Ready nodes was created for it, so the delay runs from the change)",
    );
    const after = parsed(await planIn(served, dir, "2026-11-22T10:00:00Z"));
    expect(after.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down", holds: [] });
  });

  it("a raise whose node was Ready before the merge (applied from the branch): the delay runs from the change, and says why", async () => {
    const objects = idle(FOUR);
    // talos-worker-4 was created and Ready before the raise to 4 was merged at 09:53.
    booted(objects, "talos-worker-4", "2026-11-22T09:40:00Z", "2026-11-22T09:42:00Z");
    const dir = changedAt(3, 4, "2026-11-22T09:53:00Z", QUICK);
    const output = await planOnce([...objects, ...apps()], dir);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output).holds).toEqual([
      {
        kind: "scale-down-delay",
        since: "2026-11-22T09:53:00.000Z",
        until: "2026-11-22T10:03:00.000Z",
        from: "change",
        readyBefore: true,
      },
    ]);
    // 09:53 is the merge, not the time the node became Ready: the words do not say it is.
    expect(poolNote(output).message).toContain(
      "hold: no scale-down until 2026-11-22 10:03 UTC (after the last scale-up, of 2026-11-22 09:53 UTC: its nodes were Ready before it (applied before the merge), so the delay runs from the change)",
    );
    expect(poolNote(output).message).not.toContain("Ready at");
  });

  it("a raise reverted after its node was Ready: that node is leaving, not one whose Ready time starts the delay", async () => {
    const objects = idle(FOUR);
    // Raised to 4 at 09:45, talos-worker-4 Ready at 09:52, reverted at 09:55: the node is leaving.
    booted(objects, "talos-worker-4", "2026-11-22T09:47:00Z", "2026-11-22T09:52:00Z");
    const dir = changedAt(3, 4, "2026-11-22T09:45:00Z", QUICK);
    git(dir, ["revert", "--no-edit", "HEAD"], "2026-11-22T09:55:00Z");
    const output = await planOnce([...objects, ...apps()], dir);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output).holds).toContainEqual({
      kind: "provisioning",
      state: "leaving",
      expected: 3,
      present: 4,
      since: "2026-11-22T09:55:00.000Z",
      deadline: "2026-11-22T10:10:00.000Z",
      nodes: ["talos-worker-4"],
    });
    // The delay ran from the raise (09:45 + 10m): over, not held until 10:02 by the leaving node.
    expect(holdKinds(output)).not.toContain("scale-down-delay");
    expect(poolNote(output).message).not.toContain("no scale-down until");
  });

  it("a raise reverted after its node was Ready, inside the delay: the hold names that node as being removed", async () => {
    const objects = idle(FOUR);
    // Raised to 4 at 09:50, talos-worker-4 Ready at 09:53, reverted at 09:55, planned at 09:57.
    booted(objects, "talos-worker-4", "2026-11-22T09:51:00Z", "2026-11-22T09:53:00Z");
    const dir = changedAt(3, 4, "2026-11-22T09:50:00Z", QUICK);
    git(dir, ["revert", "--no-edit", "HEAD"], "2026-11-22T09:55:00Z");
    const output = await planOnce([...objects, ...apps()], dir, "2026-11-22T09:57:00Z");
    expect(output.proposals).toEqual([]);
    expect(poolNote(output).holds).toContainEqual({
      kind: "scale-down-delay",
      since: "2026-11-22T09:50:00.000Z",
      until: "2026-11-22T10:00:00.000Z",
      from: "change",
      leaving: ["talos-worker-4"],
    });
    // A Ready node was created for the raise: the hold does not say none was.
    expect(poolNote(output).message).toContain(
      "hold: no scale-down until 2026-11-22 10:00 UTC (after the last scale-up, of 2026-11-22 09:50 UTC: the Ready node created for it, talos-worker-4, is being removed by a later decrease, and none of the nodes that stay was created for it, so the delay runs from the change)",
    );
    expect(poolNote(output).message).not.toContain("none of the pool's Ready nodes");
  });

  it("a raise whose node gives no Ready time: not said to be Ready before the raise, and the delay is not cut short", async () => {
    const objects = idle(FOUR);
    // talos-worker-4 was created at 09:50, before the raise merged at 09:53; its Ready condition
    // has no lastTransitionTime, so when it became Ready is not known.
    booted(objects, "talos-worker-4", "2026-11-22T09:50:00Z", "2026-11-22T09:50:00Z");
    delete (readyOf(nodeNamed(objects, "talos-worker-4")) as Raw).lastTransitionTime;
    const dir = changedAt(3, 4, "2026-11-22T09:53:00Z", QUICK);
    // At 10:04 a delay run from the change (or the creation) would be over; the node may have
    // become Ready as late as now, so it is not.
    const output = await planOnce([...objects, ...apps()], dir, "2026-11-22T10:04:00Z");
    expect(output.proposals).toEqual([]);
    expect(poolNote(output).holds).toContainEqual({
      kind: "scale-down-delay",
      since: "2026-11-22T10:04:00.000Z",
      until: "2026-11-22T10:14:00.000Z",
      readyTimeUnknown: ["talos-worker-4"],
    });
    const message = poolNote(output).message;
    expect(message).toContain(
      "hold: no scale-down until 2026-11-22 10:14 UTC (nodes of the last scale-up Ready at 2026-11-22 10:04 UTC at the latest: talos-worker-4 gives no Ready time (no lastTransitionTime on its Ready condition), so it counts as Ready at the latest it could have joined (provisionTimeout after its creation, or after the change when that is unknown), or now if sooner)",
    );
    expect(message).not.toContain("Ready before it");
  });

  it("a raise whose node has not registered yet: the delay after it has not started, and the hold says so", async () => {
    const dir = changedAt(3, 4, "2026-11-22T09:55:00Z", QUICK);
    const output = await planOnce([...idle(WORKERS), ...apps(WORKERS)], dir);
    expect(output.proposals).toEqual([]);
    // The fourth VM is not listed yet: its Ready time, which the delay runs from, is still to come.
    expect(poolNote(output).holds).toContainEqual({
      kind: "scale-down-delay",
      joining: [],
      missing: 1,
      delayMs: 600_000,
      until: "2026-11-22T10:10:00.000Z",
    });
    expect(poolNote(output).message).toContain(
      "hold: no scale-down until 10m after the nodes of the last scale-up are Ready: 1 node the repo asks for has not joined yet (2026-11-22 10:10 UTC at the earliest)",
    );
  });

  it("a decrease whose node is still listed past provisionTimeout: reported failed, naming the node", async () => {
    // Lowered 4 → 3 sixteen minutes ago; talos-worker-4, whose VM went a minute later, is still
    // listed as a Node that is not Ready.
    const objects = idle(FOUR, { "talos-worker-4": { ready: false } });
    booted(objects, "talos-worker-4", "2026-11-01T10:00:00Z", "2026-11-22T09:45:00Z");
    const dir = changedAt(4, 3, "2026-11-22T09:44:00Z", QUICK);
    const output = await planOnce([...objects, ...apps(WORKERS)], dir);
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note.level).toBe("warning");
    expect(note.holds).toContainEqual({
      kind: "provisioning-failed",
      state: "leaving",
      expected: 3,
      present: 4,
      since: "2026-11-22T09:44:00.000Z",
      timeoutMs: 900_000,
      nodes: ["talos-worker-4"],
    });
    expect(note.message).toContain(
      "hold: the repo asks for 3 nodes, 4 are still there, 15m or more after the change of 2026-11-22 09:44 UTC: a removed node did not go: talos-worker-4 is still listed; nothing new until it is resolved",
    );
  });

  it("a raise followed by another a few minutes later: the first raise's node, still booting, is awaited, not planned around", async () => {
    const five = [...FOUR, "talos-worker-5"];
    const objects = cluster(five, { "talos-worker-4": { ready: false } });
    // talos-worker-4 registered a minute after the raise to 4 and is not Ready yet; the raise to
    // 5, by hand four minutes after the first, brought talos-worker-5, Ready since 09:57.
    booted(objects, "talos-worker-4", "2026-11-22T09:51:00Z", "2026-11-22T09:51:00Z");
    booted(objects, "talos-worker-5", "2026-11-22T09:55:00Z", "2026-11-22T09:57:00Z");
    const busy = ["talos-worker-1", "talos-worker-2", "talos-worker-3", "talos-worker-5"];
    const dir = gitRepo([
      { count: 3, at: "2026-11-01T10:00:00Z" },
      { count: 4, at: "2026-11-22T09:50:00Z" },
      { count: 5, at: "2026-11-22T09:54:00Z" },
    ]);
    const output = await planOnce(
      [...objects, ...fillers(busy), transcodeJob("a1b2c"), transcodeJob("d3e4f")],
      dir,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output).holds?.[0]).toEqual({
      kind: "provisioning",
      state: "joining",
      expected: 5,
      present: 4,
      since: "2026-11-22T09:54:00.000Z",
      deadline: "2026-11-22T10:09:00.000Z",
      // The first raise's node, listed and booting.
      nodes: ["talos-worker-4"],
    });
    expect(poolNote(output).message).toContain(
      "pending pods: 2 considered, 0 fit free room on existing nodes, 2 go on 1 node to come (1 joining, 0 new)",
    );
  });

  it("a pod counted on the node a raise is adding does not name that node as keeping it off", async () => {
    // talos-worker-4 registered a minute after the raise to 4 and is not Ready yet. Two pods are
    // counted on it (new-1); the third needs one more node (new-2). It keeps none of them off the
    // existing nodes: the plan counts it as a node to come, not as an existing node not Ready.
    const objects = cluster(FOUR, { "talos-worker-4": { ready: false } });
    booted(objects, "talos-worker-4", "2026-11-22T09:51:00Z", "2026-11-22T09:51:00Z");
    const jobs = [transcodeJob("a1b2c"), transcodeJob("d3e4f"), transcodeJob("g5h6i")];
    const dir = gitRepo([
      { count: 3, at: "2026-11-01T10:00:00Z" },
      { count: 4, at: "2026-11-22T09:50:00Z" },
    ]);
    const note = poolNote(await planOnce([...objects, ...fillers(), ...jobs], dir)).message;
    const keptOff =
      "(existing nodes: talos-worker-1 and 2 more have too little cpu free; talos-cp-1 has room but a taint it does not tolerate keeps it off)";
    expect(note).toContain(
      `  pending: batch/transcode-29123400-a1b2c (cpu 1500m, memory 1 GiB) → new-1, a node the repo asks for that is joining ${keptOff}\n`,
    );
    expect(note).toContain(
      `  pending: batch/transcode-29123400-g5h6i (cpu 1500m, memory 1 GiB) → new-2 ${keptOff}\n`,
    );
    expect(note).not.toContain("talos-worker-4 is not Ready");
  });

  it("a revert of a raise is a decrease: the cooldown runs from it, the delay after a scale-up from the raise", async () => {
    const dir = changedAt(3, 4, "2026-11-22T09:00:00Z", OVER_MAX.config);
    git(dir, ["revert", "--no-edit", "HEAD"], "2026-11-22T09:57:00Z");
    const output = await planOnce([...cluster(FOUR), ...apps()], dir);
    expect(poolNote(output).holds).toContainEqual({
      kind: "cooldown",
      since: "2026-11-22T09:57:00.000Z",
      until: "2026-11-22T10:02:00.000Z",
    });
    expect(holdKinds(output)).not.toContain("scale-down-delay");
  });
});

describe("plan --repo: which commits start a pool's cooldown", () => {
  /** Two pools counted in one tfvars: the workers, and GPU nodes labelled pool=gpu. */
  const TWO_POOLS = `${config({
    "          operator: DoesNotExist\n":
      "          operator: DoesNotExist\n        - key: pool\n          operator: DoesNotExist\n",
  })}  - name: gpu
    target:
      file: terraform/terraform.tfvars
      path: gpu_count
    selector:
      matchLabels:
        pool: gpu
    min: 0
    max: 2
    newNode: {cpu: "4", memory: 16Gi}
`;
  const TWO_COUNTS = "worker_count = 3\ngpu_count    = 1\n";

  function twoPoolRepo(): string {
    const dir = emptyRepo();
    commitFiles(dir, { tfvars: TWO_COUNTS, config: TWO_POOLS }, "2026-11-01T10:00:00Z", "infra");
    return dir;
  }

  function commitTfvars(dir: string, text: string, message: string): void {
    commitFile(dir, FILE, text, "2026-11-22T09:58:00Z", message);
  }

  it("another pool's count changed in the same file two minutes ago: only that pool cools down", async () => {
    const dir = twoPoolRepo();
    commitTfvars(dir, TWO_COUNTS.replace("gpu_count    = 1", "gpu_count    = 0"), "gpu: 1 → 0");
    const output = await planOnce([...cluster(), ...fillers(), transcodeJob("oth001")], dir);
    expect(output.proposals).toEqual([
      expect.objectContaining({ pool: "workers", from: 3, to: 4, holds: [] }),
    ]);
    const gpu = output.notes.find((note) => note.subject === "pool/gpu");
    expect(gpu?.holds).toContainEqual({
      kind: "cooldown",
      since: "2026-11-22T09:58:00.000Z",
      until: "2026-11-22T10:03:00.000Z",
    });
  });

  it("a commit that only realigns the count's line two minutes ago: no cooldown", async () => {
    const dir = twoPoolRepo();
    commitTfvars(dir, TWO_COUNTS.replace("worker_count = 3", "worker_count  =  3"), "fmt");
    const output = await planOnce([...cluster(), ...fillers(), transcodeJob("fmt001")], dir);
    expect(output.proposals).toEqual([
      expect.objectContaining({ pool: "workers", from: 3, to: 4, holds: [] }),
    ]);
    const holds = output.notes.flatMap((note) => note.holds ?? []);
    expect(holds.map((hold) => hold.kind)).not.toContain("cooldown");
  });
});

describe("plan --repo: a target stored through a filter", () => {
  it("an encrypted tfvars (git-crypt) raised two minutes ago: its history is read decrypted, and the cooldown holds", async () => {
    const dir = emptyRepo();
    // A reversible clean/smudge pair stands in for git-crypt's encryption.
    git(dir, ["config", "filter.crypt.clean", "base64"]);
    git(dir, ["config", "filter.crypt.smudge", "base64 -d"]);
    const files = {
      tfvars: tfvars(3),
      config: OVER_MAX.config,
      other: { ".gitattributes": "*.tfvars filter=crypt\n" },
    };
    commitFiles(dir, files, "2026-11-01T10:00:00Z", "infra");
    commitFile(dir, FILE, tfvars(4), "2026-11-22T09:58:00Z", "workers: 4");
    const output = await planOnce([...cluster(FOUR), ...apps()], dir);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output).holds).toEqual(
      expect.arrayContaining([
        { kind: "cooldown", since: "2026-11-22T09:58:00.000Z", until: "2026-11-22T10:03:00.000Z" },
        {
          kind: "scale-down-delay",
          since: "2026-11-22T09:58:00.000Z",
          until: "2026-11-22T10:08:00.000Z",
          from: "change",
        },
      ]),
    );
  });
});
