import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "@jest/globals";
import type { CliIo } from "../../src/cli/io.ts";
import { validateCommand } from "../../src/cli/validate-command.ts";
import { InputError } from "../../src/errors.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "policy");

async function validate(args: string[]) {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    cwd: FIXTURES,
    env: {},
    isTty: false,
  };
  const code = await validateCommand.run(args, io);
  return { code, stdout, stderr };
}

const made: string[] = [];

// The folders a test made go once it has ended, whatever its outcome.
afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A temporary folder removed once the current test has ended. */
async function tempDir(prefix = "validate-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Writes `files` (path → text) into `dir`, with the folders they need. */
async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
}

/** Runs git with `args` in a checkout, as a fixed identity. */
type Git = (...args: string[]) => void;

/** A git checkout whose one commit holds `files` (path → text), and git to run there. */
async function committedRepo(files: Record<string, string>): Promise<{ dir: string; git: Git }> {
  const dir = await tempDir();
  const git: Git = (...args) => {
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
      cwd: dir,
    });
  };
  await writeFiles(dir, files);
  git("init", "-q");
  git("add", ".");
  git("commit", "-q", "-m", "config");
  return { dir, git };
}

describe("pr-autoscaler validate", () => {
  it("prints a short summary of a valid configuration, rules in the order they apply", async () => {
    const run = await validate(["homelab-repo"]);
    expect(run).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        ".github/pr-autoscaler.yml is valid.",
        "pools: workers (2-5 nodes)",
        "auto-merge (.github/pr-autoscaler.yml → .github/autoscaler/quiet-hours.yml → preset:homelab), time zone Europe/Berlin:",
        '  never during: movie night: cron "0 19 * * 5" for 4h (Europe/Berlin)',
        "  1. gpu-pool-needs-review [.github/pr-autoscaler.yml]: nodes, pool gpu-* → review, asking @octocat",
        "  2. add-one-node [preset:homelab]: nodes, up, step ≤ 1 → merge (squash), after 10m, needs pr-autoscaler/plan-guard",
        "  3. raise-memory [preset:homelab]: resources, up, memory, change ≤ 100 % → merge (squash), after 30m",
        "  4. review-the-rest [preset:homelab]: any change → review",
        "  5. otherwise: review",
        "",
      ].join("\n"),
    });
  });

  it("reports a problem in an extended file with its file and line, and exits 2", async () => {
    const run = await validate([join(FIXTURES, "broken-repo")]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      [
        '.github/autoscaler/policy.yml:7:16: rules[0].during[0].hours: "22:00-30:00" is not a range of hours: write it like 08:00-18:00 or 22:00-06:00',
        "1 problem: until it is fixed, the app changes nothing in this repository and nothing merges itself.",
        "",
      ].join("\n"),
    );
  });

  it("says which extended repositories it could not check", async () => {
    const run = await validate(["org-repo"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "note: not checked: my-org/.github (another repository; the app reads it)\n",
    );
    expect(run.stdout).toContain(
      "1. local-first [.github/pr-autoscaler.yml]: resources, up, memory → merge (squash)",
    );
  });

  it("prints JSON on request", async () => {
    const run = await validate(["broken-repo", "--json"]);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      ok: false,
      issues: [
        {
          file: ".github/autoscaler/policy.yml",
          line: 7,
          column: 16,
          path: "rules[0].during[0].hours",
          message: expect.stringContaining("is not a range of hours"),
        },
      ],
      notes: [],
      rules: [],
    });
  });

  it("refuses a directory without a configuration, a missing directory and extra arguments", async () => {
    await expect(validate(["empty-repo"])).rejects.toThrow(
      new InputError(
        `${join(FIXTURES, "empty-repo", ".github/pr-autoscaler.yml")} does not exist: nothing to check`,
      ),
    );
    await expect(validate(["no-such-dir"])).rejects.toThrow("no-such-dir is not a directory");
    // A config under the .yaml name is not read: said, not taken for no config at all.
    const misnamed = await tempDir("validate-yaml-");
    await writeFiles(misnamed, { ".github/pr-autoscaler.yaml": "pools: []\n" });
    await expect(validate([misnamed])).rejects.toThrow(
      new InputError(
        `${join(misnamed, ".github/pr-autoscaler.yml")} does not exist: nothing to check; .github/pr-autoscaler.yaml is there, but only .github/pr-autoscaler.yml is read: rename it`,
      ),
    );
    await expect(validate(["a", "b"])).rejects.toMatchObject({ exitCode: 2 });
    await expect(validate([""])).rejects.toMatchObject({
      exitCode: 2,
      message: "DIR expects a directory, got an empty argument",
    });
    await expect(validate(["--strict"])).rejects.toMatchObject({ exitCode: 2 });
  });

  it("says a configuration deleted in the working tree only is the branch's, as plan does", async () => {
    const { dir, git } = await committedRepo({ ".github/pr-autoscaler.yml": "pools: []\n" });
    await rm(join(dir, ".github/pr-autoscaler.yml"));
    await expect(validate([dir])).rejects.toThrow(
      new InputError(
        ".github/pr-autoscaler.yml is deleted in the working tree, but the branch holds it: restore it (git checkout HEAD -- .github/pr-autoscaler.yml); nothing to check",
      ),
    );
    // Deleted by the branch's last commit, there is none.
    git("commit", "-q", "-am", "gone");
    await expect(validate([dir])).rejects.toThrow(
      new InputError(`${join(dir, ".github/pr-autoscaler.yml")} does not exist: nothing to check`),
    );
  });

  it("says a file the policy extends deleted in the working tree only is the branch's", async () => {
    const { dir, git } = await committedRepo({
      ".github/pr-autoscaler.yml":
        "pools: []\nautomerge:\n  extends: .github/autoscaler/policy.yml\n",
      ".github/autoscaler/policy.yml": "extends: preset:homelab\n",
    });
    await rm(join(dir, ".github/autoscaler/policy.yml"));
    // A problem still (committed, it stops the app), but not one the app has now.
    expect(await validate([dir])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        ".github/pr-autoscaler.yml:3:12: automerge.extends: .github/autoscaler/policy.yml is deleted in the working tree, but the branch holds it: restore it (git checkout HEAD -- .github/autoscaler/policy.yml)\n" +
        "1 problem: the app reads the branch, which holds what the working tree lacks; committed as the working tree is, the app would change nothing in this repository and nothing would merge itself.\n",
    });
    git("commit", "-q", "-am", "gone");
    expect((await validate([dir])).stderr).toBe(
      ".github/pr-autoscaler.yml:3:12: automerge.extends: .github/autoscaler/policy.yml does not exist\n" +
        "1 problem: until it is fixed, the app changes nothing in this repository and nothing merges itself.\n",
    );
  });

  it("refuses a bare repository, as plan does: it has no files to check", async () => {
    const bare = join(await tempDir(), "infra.git");
    execFileSync("git", ["init", "-q", "--bare", bare]);
    await expect(validate([bare])).rejects.toThrow(
      new InputError(
        `${bare} is a bare git repository: it has no working tree to read the files from; clone it (git clone ${bare} DIR) and use the clone`,
      ),
    );
  });

  it("says what is wrong with a configuration that is a directory or not UTF-8, as plan does", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, ".github/pr-autoscaler.yml"), { recursive: true });
    await expect(validate([dir])).rejects.toThrow(
      new InputError(".github/pr-autoscaler.yml is a directory, not a file"),
    );
    await rm(join(dir, ".github/pr-autoscaler.yml"), { recursive: true });
    await writeFile(
      join(dir, ".github/pr-autoscaler.yml"),
      Buffer.from("pools: [] # caf\xe9\n", "latin1"),
    );
    await expect(validate([dir])).rejects.toThrow(
      new InputError(
        ".github/pr-autoscaler.yml is not valid UTF-8 text (byte 0xe9 at line 1, column 16); convert the file to UTF-8 first",
      ),
    );
  });
});

describe("pr-autoscaler validate: each pool's count in the repository", () => {
  /** A configuration of one pool, workers, whose target is `target` (FILE PATH). */
  function poolConfig(target: string): string {
    const [file, path] = target.split(" ");
    return `pools:\n  - name: workers\n    target:\n      file: ${file}\n      path: '${path}'\n    max: 5\n`;
  }

  /**
   * Runs validate with `args` on a directory holding `files` (path → text) and a configuration
   * of one pool whose target is `target` (FILE PATH).
   */
  async function validateRepo(target: string, files: Record<string, string>, args: string[] = []) {
    const dir = await tempDir("validate-targets-");
    await writeFiles(dir, { ".github/pr-autoscaler.yml": poolConfig(target), ...files });
    return await validate([dir, ...args]);
  }

  /** The configuration of pool workers counted by worker_count in terraform/terraform.tfvars. */
  const TFVARS_CONFIG = poolConfig("terraform/terraform.tfvars worker_count");

  const CONSEQUENCE =
    "1 problem: the configuration itself is valid, but the pools it names cannot be scaled safely until it is fixed.\n";

  it.each([
    [
      "a target file that does not exist, at the line of target.file",
      {},
      ".github/pr-autoscaler.yml:4:13: pools[0].target.file: terraform/terraform.tfvars does not exist in the repo; the app holds pool workers until it can read the count\n",
    ],
    [
      "a PATH the tfvars file does not set, at the line of target.path, naming the file's line",
      { "terraform/terraform.tfvars": "worker_count = 3\n" },
      '.github/pr-autoscaler.yml:5:13: pools[0].target.path: terraform/terraform.tfvars:1:1: reading worker_cnt: the file does not set the variable "worker_cnt"; did you mean "worker_count"? It sets: worker_count. A tfvars file does not gain new variables this way: add the line by hand; the app holds pool workers until it can read the count\n',
    ],
    [
      "a count that is an expression",
      { "terraform/terraform.tfvars": "worker_cnt = var.workers\n" },
      ".github/pr-autoscaler.yml:5:13: pools[0].target.path: terraform/terraform.tfvars:1:14: worker_cnt is the expression var.workers; expected a whole number of nodes; the app holds pool workers until it can read the count\n",
    ],
  ])("reports %s, and exits 2", async (_, files, expected) => {
    expect(await validateRepo("terraform/terraform.tfvars worker_cnt", files)).toEqual({
      code: 2,
      stdout: "",
      stderr: expected + CONSEQUENCE,
    });
  });

  it("reports a count that a variable file Terraform reads later overrides, at target.file", async () => {
    const run = await validateRepo("terraform/terraform.tfvars worker_count", {
      "terraform/terraform.tfvars": "worker_count = 3\n",
      "terraform/prod.auto.tfvars": "worker_count = 5\n",
    });
    expect(run).toEqual({
      code: 2,
      stdout: "",
      stderr:
        ".github/pr-autoscaler.yml:4:13: pools[0].target.file: terraform/prod.auto.tfvars:1:16: worker_count is set here too, and Terraform reads this file after terraform/terraform.tfvars: its value is the one applied, not worker_count of terraform/terraform.tfvars; point the pool's target.file at terraform/prod.auto.tfvars, or set worker_count in one file only; plan holds pool workers: a pull request that changes the count would change nothing Terraform applies\n" +
        CONSEQUENCE,
    });
  });

  it("says a target deleted in the working tree only is the branch's, as plan does, and exits 2", async () => {
    const { dir, git } = await committedRepo({
      ".github/pr-autoscaler.yml": TFVARS_CONFIG,
      "terraform/terraform.tfvars": "worker_count = 3\n",
    });
    await rm(join(dir, "terraform/terraform.tfvars"));
    // The app reads the branch, which holds the file: only this checkout lacks it.
    expect(await validate([dir])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        ".github/pr-autoscaler.yml:4:13: pools[0].target.file: terraform/terraform.tfvars is deleted in the working tree, but the branch holds it: restore it (git checkout HEAD -- terraform/terraform.tfvars); plan from this checkout holds pool workers, and the app would once the deletion is committed\n" +
        CONSEQUENCE,
    });
    // Deleted by the branch's last commit, it is missing from the repo.
    git("commit", "-q", "-am", "gone");
    expect((await validate([dir])).stderr).toBe(
      ".github/pr-autoscaler.yml:4:13: pools[0].target.file: terraform/terraform.tfvars does not exist in the repo; the app holds pool workers until it can read the count\n" +
        CONSEQUENCE,
    );
  });

  it("passes a count not committed yet, with a note that plan from the checkout holds its pool", async () => {
    const { dir, git } = await committedRepo({ ".github/pr-autoscaler.yml": TFVARS_CONFIG });
    // Valid as a commit of the working tree would hold it; plan holds the pool meanwhile.
    await writeFiles(dir, { "terraform/terraform.tfvars": "worker_count = 3\n" });
    const untracked = await validate([dir]);
    expect(untracked).toMatchObject({ code: 0, stderr: "" });
    expect(untracked.stdout).toContain(
      "note: pool workers: plan from this checkout holds it: terraform/terraform.tfvars is not committed (no commit of the branch has it): commit it, or plan from a clean checkout\n",
    );
    git("add", ".");
    git("commit", "-q", "-m", "count");
    await writeFile(join(dir, "terraform/terraform.tfvars"), "worker_count = 4\n");
    const changed = await validate([dir, "--json"]);
    expect(changed.code).toBe(0);
    expect(JSON.parse(changed.stdout).notes).toEqual([
      "pool workers: plan from this checkout holds it: terraform/terraform.tfvars worker_count is 4 in the working tree but 3 in its last commit: commit the change, or plan from a clean checkout",
    ]);
    git("commit", "-q", "-am", "four");
    expect((await validate([dir])).stdout).not.toContain("note:");
  });

  it("passes a count a later file deleted in the working tree only overrides, with a note that plan holds it", async () => {
    const { dir, git } = await committedRepo({
      ".github/pr-autoscaler.yml": TFVARS_CONFIG,
      "terraform/terraform.tfvars": "worker_count = 3\n",
      "terraform/prod.auto.tfvars": "worker_count = 5\n",
    });
    await rm(join(dir, "terraform/prod.auto.tfvars"));
    // Valid as a commit of the working tree would hold it; the branch still overrides it.
    const deleted = await validate([dir, "--json"]);
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout).notes).toEqual([
      "pool workers: plan from this checkout holds it: terraform/prod.auto.tfvars is deleted in the working tree, but the branch holds it and sets worker_count there, and Terraform reads it after terraform/terraform.tfvars: the branch's worker_count is the one applied, not worker_count of terraform/terraform.tfvars; commit the deletion, or plan from a clean checkout",
    ]);
    git("commit", "-q", "-am", "one file");
    expect(await validate([dir])).toMatchObject({ code: 0, stderr: "" });
    expect((await validate([dir])).stdout).not.toContain("note:");
  });

  it("notes a later file deleted with git rm, not committed, as one deleted in the working tree", async () => {
    const { dir, git } = await committedRepo({
      ".github/pr-autoscaler.yml": TFVARS_CONFIG,
      "terraform/terraform.tfvars": "worker_count = 3\n",
      "terraform/prod.auto.tfvars": "worker_count = 5\n",
    });
    // Staged: the checkout's list of files lacks it; the branch's last commit has it.
    git("rm", "-q", "terraform/prod.auto.tfvars");
    const staged = await validate([dir, "--json"]);
    expect(staged.code).toBe(0);
    expect(JSON.parse(staged.stdout).notes).toEqual([
      "pool workers: plan from this checkout holds it: terraform/prod.auto.tfvars is deleted in the working tree, but the branch holds it and sets worker_count there, and Terraform reads it after terraform/terraform.tfvars: the branch's worker_count is the one applied, not worker_count of terraform/terraform.tfvars; commit the deletion, or plan from a clean checkout",
    ]);
  });

  it("reads a Pulumi stack file's namespaced key, a number written as a string included", async () => {
    const run = await validateRepo('infra/Pulumi.prod.yaml config."talos:workerCount"', {
      "infra/Pulumi.prod.yaml": 'config:\n  talos:workerCount: "3"\n  talos:region: eu\n',
    });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toContain("pools: workers (1-5 nodes)\n");
  });

  it("gives the host cap beside the max, and notes a schedule whose min the cap lowers", async () => {
    // Valid, but the window brings fewer nodes than it names: the plan says so only once it is
    // open, and the summary said 2-6 nodes of a pool the host holds 3 of.
    const dir = await tempDir("validate-host-cap-");
    const config = [
      "pools:",
      "  - name: workers",
      "    target: { file: terraform.tfvars, path: worker_count }",
      "    min: 2",
      "    max: 6",
      "    host: { memory: 64Gi, reserved: { memory: 8Gi }, node: { memory: 16Gi } }",
      "    schedules:",
      "      - { name: friday-evening, cron: '0 18 * * 5', duration: 6h, min: 5 }",
      "      - { cron: '0 8 * * 1', duration: 1h, min: 3 }",
      "",
    ].join("\n");
    await writeFiles(dir, {
      ".github/pr-autoscaler.yml": config,
      "terraform.tfvars": "worker_count = 3\n",
    });
    const note =
      "pool workers: schedule friday-evening asks for a min of 5, above the host cap of 3: while it is open, the pool's min is 3";
    expect(await validate([dir])).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        ".github/pr-autoscaler.yml is valid.",
        "pools: workers (2-6 nodes, host cap 3)",
        "auto-merge: no policy; every pull request waits for review",
        `note: ${note}`,
        "",
      ].join("\n"),
    });
    expect(JSON.parse((await validate([dir, "--json"])).stdout).notes).toEqual([note]);
  });

  it("prints a target's problem among the issues in JSON", async () => {
    const files = { "terraform.tfvars.json": '{ "worker_count": "three" }\n' };
    const run = await validateRepo("terraform.tfvars.json worker_count", files, ["--json"]);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      ok: false,
      issues: [
        {
          file: ".github/pr-autoscaler.yml",
          line: 5,
          column: 13,
          path: "pools[0].target.path",
          message:
            'terraform.tfvars.json:1:19: worker_count is the string "three"; expected a whole number of nodes; the app holds pool workers until it can read the count',
        },
      ],
      notes: [],
      rules: [],
    });
  });
});

describe("pr-autoscaler validate: the plan guard's node names", () => {
  const EXAMPLE = join(import.meta.dirname, "..", "..", "examples", "talos-proxmox");

  /** A copy of the example infra repo, with the guard config replaced when given. */
  async function example(guard?: string): Promise<string> {
    const dir = await tempDir("pr-autoscaler-validate-");
    await cp(join(EXAMPLE, ".github"), join(dir, ".github"), { recursive: true });
    await cp(join(EXAMPLE, "terraform"), join(dir, "terraform"), { recursive: true });
    if (guard !== undefined)
      await writeFile(join(dir, ".github", "pr-autoscaler-guard.yml"), guard);
    return dir;
  }

  it("accepts the example, whose guard names the nodes its removal naming names", async () => {
    expect((await validate([await example()])).code).toBe(0);
  });

  it("refuses a guard whose names are not the pool's, at the guard's line", async () => {
    const guard = [
      "pools:",
      "  workers:",
      '    vmAddress: "proxmox_virtual_environment_vm.worker[*]"',
      '    nameTemplate: "talos-worker-{index}"',
      "    countVariable: worker_count",
      "",
    ].join("\n");
    const dir = await example(guard);
    const run = await validate([dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^\.github\/pr-autoscaler-guard\.yml:4:\d+: pools\.workers: .*talos-worker-0.*talos-worker-1.*\(the pool's removal naming is at \.github\/pr-autoscaler\.yml:\d+\)/m,
    );
    await expect(validate([dir, "--guard-config", ".github/missing.yml"])).rejects.toThrow(
      ".github/missing.yml does not exist",
    );
  });
});
