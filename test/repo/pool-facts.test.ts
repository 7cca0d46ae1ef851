import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "@jest/globals";
import { RepoConfig } from "../../src/policy/repo-config.ts";
import { localRepo } from "../../src/repo/local-repo.ts";
import { readPoolFacts } from "../../src/repo/pool-facts.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const IDENTITY = {
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@example.com",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@example.com",
};

/** Runs git in `dir` as a fixed identity; `at` dates the commit it makes. */
function git(dir: string, args: string[], at?: string): void {
  execFileSync("git", ["-C", dir, ...args], {
    env: {
      ...process.env,
      ...IDENTITY,
      ...(at ? { GIT_AUTHOR_DATE: at, GIT_COMMITTER_DATE: at } : {}),
    },
  });
}

/** Writes `files` into `dir` and commits everything at `at`. */
function commitTo(dir: string, at: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  git(dir, ["add", "-A"]);
  git(dir, ["commit", "-q", "-m", "change"], at);
}

function repoWith(commits: { at: string; files: Record<string, string> }[]): string {
  const dir = mkdtempSync(join(tmpdir(), "pool-facts-"));
  dirs.push(dir);
  git(dir, ["init", "-q", "-b", "main"]);
  for (const commit of commits) commitTo(dir, commit.at, commit.files);
  return dir;
}

/** The history problem of a plain directory. */

const config = RepoConfig.parse({
  pools: [
    {
      name: "workers",
      target: { file: "terraform/terraform.tfvars", path: "worker_count" },
      max: 6,
    },
    { name: "gpu", target: { file: "Pulumi.prod.yaml", path: 'config."talos:gpuCount"' }, max: 2 },
  ],
});

describe("readPoolFacts", () => {
  it("reads current counts, numeric strings included, and the last change of each value with its direction", async () => {
    const dir = repoWith([
      {
        at: "2026-11-01T10:00:00.000Z",
        files: {
          "terraform/terraform.tfvars": "worker_count = 3 # workers\n",
          "Pulumi.prod.yaml": 'config:\n  talos:gpuCount: "1"\n',
        },
      },
      {
        at: "2026-11-02T10:00:00.000Z",
        files: { "terraform/terraform.tfvars": "worker_count = 4 # workers\n" },
      },
      // A later edit of the file that leaves the count alone is not a change of the count.
      {
        at: "2026-11-03T10:00:00Z",
        files: { "terraform/terraform.tfvars": "worker_count = 4 # more workers\n" },
      },
      {
        at: "2026-11-04T10:00:00.000Z",
        files: { "Pulumi.prod.yaml": 'config:\n  talos:gpuCount: "0"\n' },
      },
    ]);
    const { facts, files } = await readPoolFacts(localRepo(dir), config);
    expect(facts).toEqual([
      {
        pool: "workers",
        currentValue: 4,
        lastChange: { at: "2026-11-02T10:00:00.000Z", direction: "up" },
      },
      {
        pool: "gpu",
        currentValue: 0,
        // The repository's first commit set the count: it raised nothing before the decrease.
        lastChange: { at: "2026-11-04T10:00:00.000Z", direction: "down" },
      },
    ]);
    expect(files.get("terraform/terraform.tfvars")).toBe("worker_count = 4 # more workers\n");
  });

  it("reads the history of an infra repo kept in a subfolder of the git repository", async () => {
    const root = repoWith([
      {
        at: "2026-11-01T10:00:00Z",
        files: { "infra/terraform/terraform.tfvars": "worker_count = 3\n" },
      },
      {
        at: "2026-11-22T09:58:00Z",
        files: { "infra/terraform/terraform.tfvars": "worker_count = 4\n" },
      },
    ]);
    const { facts } = await readPoolFacts(localRepo(join(root, "infra")), config);
    expect(facts[0]).toEqual({
      pool: "workers",
      currentValue: 4,
      lastChange: { at: "2026-11-22T09:58:00.000Z", direction: "up" },
    });
    expect(await localRepo(join(root, "infra")).uncommitted?.("terraform/terraform.tfvars")).toBe(
      false,
    );
  });

  it("dates a change merged with a merge commit from the merge, not from the branch commit", async () => {
    const dir = repoWith([
      {
        at: "2026-11-22T07:00:00Z",
        files: { "terraform/terraform.tfvars": "worker_count = 3\n" },
      },
    ]);
    git(dir, ["checkout", "-q", "-b", "pr-autoscaler/nodes-workers"]);
    writeFileSync(join(dir, "terraform/terraform.tfvars"), "worker_count = 4\n");
    git(dir, ["commit", "-q", "-am", "Scale workers from 3 to 4 nodes"], "2026-11-22T08:00:00Z");
    git(dir, ["checkout", "-q", "main"]);
    const merge = ["merge", "-q", "--no-ff", "-m", "Merge pull request #7"];
    git(dir, [...merge, "pr-autoscaler/nodes-workers"], "2026-11-22T09:58:00Z");
    const { facts } = await readPoolFacts(localRepo(dir), config);
    expect(facts[0]).toEqual({
      pool: "workers",
      currentValue: 4,
      lastChange: { at: "2026-11-22T09:58:00.000Z", direction: "up" },
    });
  });

  it("dates a change older than the history searched at its oldest commit, without a direction", async () => {
    const edits = Array.from({ length: 21 }, (_, i) => ({
      at: `2026-11-${String(i + 2).padStart(2, "0")}T10:00:00.000Z`,
      files: { "terraform/terraform.tfvars": `worker_count = 4 # edit ${i}\n` },
    }));
    const dir = repoWith([
      {
        at: "2026-11-01T10:00:00.000Z",
        files: { "terraform/terraform.tfvars": "worker_count = 3\n" },
      },
      ...edits,
    ]);
    const { facts } = await readPoolFacts(localRepo(dir), config);
    // Twenty commits searched (the 3rd to the 22nd): the change is at or before the 3rd.
    expect(facts[0]).toEqual({
      pool: "workers",
      currentValue: 4,
      lastChange: { at: "2026-11-03T10:00:00.000Z" },
    });
  });

  it("names the raise before a last change that lowered the count, for the delay after it", async () => {
    const tfvars = (count: number, comment = "") => ({
      "terraform/terraform.tfvars": `worker_count = ${count}${comment}\n`,
    });
    const dir = repoWith([
      { at: "2026-11-01T10:00:00Z", files: tfvars(3) },
      { at: "2026-11-22T09:40:00Z", files: tfvars(4) },
      { at: "2026-11-22T09:50:00Z", files: tfvars(5) },
      { at: "2026-11-22T09:51:00Z", files: tfvars(5, " # workers") },
      { at: "2026-11-22T09:52:00Z", files: tfvars(4) },
    ]);
    const { facts } = await readPoolFacts(localRepo(dir), config);
    expect(facts[0]).toEqual({
      pool: "workers",
      currentValue: 4,
      lastChange: { at: "2026-11-22T09:52:00.000Z", direction: "down" },
      lastScaleUp: { at: "2026-11-22T09:50:00.000Z" },
    });
  });

  it("takes a file's first commit as the raise before a decrease, unless it made the repository, and a history searched in full as one beyond it", async () => {
    const first = repoWith([
      { at: "2026-10-01T10:00:00Z", files: { "README.md": "infra\n" } },
      { at: "2026-11-01T10:00:00Z", files: { "terraform/terraform.tfvars": "worker_count = 3\n" } },
      { at: "2026-11-22T09:52:00Z", files: { "terraform/terraform.tfvars": "worker_count = 2\n" } },
    ]);
    expect((await readPoolFacts(localRepo(first), config)).facts[0]).toMatchObject({
      lastChange: { at: "2026-11-22T09:52:00.000Z", direction: "down" },
      lastScaleUp: { at: "2026-11-01T10:00:00.000Z" },
    });
    // The repository's first commit set the count it started with: no raise.
    const root = repoWith([
      { at: "2026-11-01T10:00:00Z", files: { "terraform/terraform.tfvars": "worker_count = 3\n" } },
      { at: "2026-11-22T09:52:00Z", files: { "terraform/terraform.tfvars": "worker_count = 2\n" } },
    ]);
    expect((await readPoolFacts(localRepo(root), config)).facts[0]).toEqual({
      pool: "workers",
      currentValue: 2,
      lastChange: { at: "2026-11-22T09:52:00.000Z", direction: "down" },
    });
    // Decreases only, in all twenty commits searched: a raise before them is older than the
    // oldest, which is the latest it can have been.
    const decreases = Array.from({ length: 21 }, (_, i) => ({
      at: `2026-11-${String(i + 2).padStart(2, "0")}T10:00:00.000Z`,
      files: { "terraform/terraform.tfvars": `worker_count = ${30 - i}\n` },
    }));
    const full = repoWith([
      {
        at: "2026-11-01T10:00:00Z",
        files: { "terraform/terraform.tfvars": "worker_count = 31\n" },
      },
      ...decreases,
    ]);
    expect((await readPoolFacts(localRepo(full), config)).facts[0]).toMatchObject({
      lastChange: { at: "2026-11-22T10:00:00.000Z", direction: "down" },
      lastScaleUp: { at: "2026-11-03T10:00:00.000Z" },
    });
  });

  it("dates a commit made with a clock behind no earlier than the commit of the file before it", async () => {
    const dir = repoWith([
      { at: "2026-11-01T10:00:00Z", files: { "terraform/terraform.tfvars": "worker_count = 3\n" } },
      { at: "2026-11-22T09:58:00Z", files: { "terraform/terraform.tfvars": "worker_count = 5\n" } },
      // Made after the raise, on a machine whose clock was an hour behind.
      { at: "2026-11-22T09:00:00Z", files: { "terraform/terraform.tfvars": "worker_count = 4\n" } },
    ]);
    const { facts } = await readPoolFacts(localRepo(dir), config);
    expect(facts[0]).toEqual({
      pool: "workers",
      currentValue: 4,
      lastChange: { at: "2026-11-22T09:58:00.000Z", direction: "down" },
      lastScaleUp: { at: "2026-11-22T09:58:00.000Z" },
    });
  });

  it("refuses a count changed in the working tree but not committed", async () => {
    const dir = repoWith([
      {
        at: "2026-11-01T10:00:00.000Z",
        files: { "terraform/terraform.tfvars": "worker_count = 3\n" },
      },
    ]);
    writeFileSync(join(dir, "terraform/terraform.tfvars"), "worker_count = 4\n");
    const { facts } = await readPoolFacts(localRepo(dir), config);
    expect(facts[0]?.currentValue).toBeUndefined();
    expect(facts[0]?.currentValueProblem).toBe(
      "terraform/terraform.tfvars worker_count is 4 in the working tree but 3 in its last commit: commit the change, or plan from a clean checkout",
    );
  });

  it("refuses a count in the working tree where its last commit has no whole number", async () => {
    const dir = repoWith([
      { at: "2026-11-01T10:00:00Z", files: { "terraform/terraform.tfvars": "worker_count = 3\n" } },
      {
        at: "2026-11-22T09:58:00Z",
        files: { "terraform/terraform.tfvars": "worker_count = var.workers\n" },
      },
    ]);
    writeFileSync(join(dir, "terraform/terraform.tfvars"), "worker_count = 4\n");
    const { facts } = await readPoolFacts(localRepo(dir), config);
    expect(facts[0]?.currentValue).toBeUndefined();
    expect(facts[0]?.currentValueProblem).toBe(
      "terraform/terraform.tfvars worker_count is 4 in the working tree, but its last commit has no whole number there: commit the change, or plan from a clean checkout",
    );
  });

  it("reads a target stored through a filter (git-crypt) as a checkout writes it, history included", async () => {
    const dir = repoWith([]);
    // A reversible clean/smudge pair stands in for git-crypt's encryption.
    git(dir, ["config", "filter.crypt.clean", "base64"]);
    git(dir, ["config", "filter.crypt.smudge", "base64 -d"]);
    const attributes = { ".gitattributes": "*.tfvars filter=crypt\n" };
    commitTo(dir, "2026-11-01T10:00:00Z", {
      ...attributes,
      "terraform/terraform.tfvars": "worker_count = 3\n",
    });
    commitTo(dir, "2026-11-22T09:58:00Z", { "terraform/terraform.tfvars": "worker_count = 4\n" });
    const stored = execFileSync("git", [
      "-C",
      dir,
      "cat-file",
      "blob",
      "HEAD:terraform/terraform.tfvars",
    ]);
    expect(stored.toString()).not.toContain("worker_count");
    const { facts } = await readPoolFacts(localRepo(dir), config);
    expect(facts[0]).toEqual({
      pool: "workers",
      currentValue: 4,
      lastChange: { at: "2026-11-22T09:58:00.000Z", direction: "up" },
    });
  });

  it("plans as of a time: a change dated after it counts as made at that time, its date kept", async () => {
    const dir = repoWith([
      { at: "2026-11-01T10:00:00Z", files: { "terraform/terraform.tfvars": "worker_count = 3\n" } },
      { at: "2026-11-05T10:00:00Z", files: { "terraform/terraform.tfvars": "worker_count = 2\n" } },
    ]);
    const { facts } = await readPoolFacts(localRepo(dir), config, new Date("2026-11-03T00:00:00Z"));
    // The count read is the later commit's: its history is that commit's too, not the one before.
    expect(facts[0]).toEqual({
      pool: "workers",
      currentValue: 2,
      lastChange: {
        at: "2026-11-03T00:00:00.000Z",
        committedAt: "2026-11-05T10:00:00.000Z",
        direction: "down",
      },
    });
  });

  it("counts a change committed seconds after the planning time (a clock ahead) as made then", async () => {
    const dir = repoWith([
      { at: "2026-11-01T10:00:00Z", files: { "terraform/terraform.tfvars": "worker_count = 3\n" } },
      { at: "2026-11-22T10:00:30Z", files: { "terraform/terraform.tfvars": "worker_count = 4\n" } },
      // A later commit that leaves the count alone changes nothing of it.
      {
        at: "2026-11-22T10:01:00Z",
        files: { "terraform/terraform.tfvars": "worker_count = 4 # workers\n" },
      },
    ]);
    const { facts } = await readPoolFacts(localRepo(dir), config, new Date("2026-11-22T10:00:00Z"));
    expect(facts[0]).toEqual({
      pool: "workers",
      currentValue: 4,
      lastChange: {
        at: "2026-11-22T10:00:00.000Z",
        committedAt: "2026-11-22T10:00:30.000Z",
        direction: "up",
      },
    });
  });

  it("dates a history cut short after the planning time (a shallow clone of a later commit) at the planning time", async () => {
    const source = repoWith([
      { at: "2026-11-01T10:00:00Z", files: { "terraform/terraform.tfvars": "worker_count = 3\n" } },
      { at: "2026-11-20T10:00:00Z", files: { "terraform/terraform.tfvars": "worker_count = 4\n" } },
      { at: "2026-11-22T10:30:00Z", files: { "README.md": "infra\n" } },
    ]);
    const clone = mkdtempSync(join(tmpdir(), "pool-facts-clone-"));
    dirs.push(clone);
    rmSync(clone, { recursive: true });
    execFileSync("git", ["clone", "-q", "--depth", "1", `file://${source}`, clone]);
    const { facts } = await readPoolFacts(
      localRepo(clone),
      config,
      new Date("2026-11-22T10:00:00Z"),
    );
    // The only commit seen made the file: when the count was set is unknown, at the latest then.
    expect(facts[0]).toEqual({
      pool: "workers",
      currentValue: 4,
      lastChange: { at: "2026-11-22T10:00:00.000Z", committedAt: "2026-11-22T10:30:00.000Z" },
    });
  });

  it("leaves the last change unknown, saying why, when git refuses to read the repository", async () => {
    const dir = repoWith([
      { at: "2026-11-01T10:00:00Z", files: { "terraform/terraform.tfvars": "worker_count = 3\n" } },
    ]);
    const home = mkdtempSync(join(tmpdir(), "pool-facts-home-"));
    dirs.push(home);
    const env = {
      ...process.env,
      HOME: home,
      GIT_CONFIG_GLOBAL: join(home, "gitconfig"),
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_TEST_ASSUME_DIFFERENT_OWNER: "1",
    };
    const { facts } = await readPoolFacts(localRepo(dir, { env }), config);
    expect(facts[0]).toEqual({
      pool: "workers",
      currentValue: 3,
      historyProblem: expect.stringContaining(
        `git refuses to read ${dir}, which belongs to another user`,
      ),
    });
  });

  it("dates no change for a value there from the repository's first commit, only since when it is asked for", async () => {
    const dir = repoWith([
      {
        at: "2026-11-01T10:00:00.000Z",
        files: { "terraform/terraform.tfvars": "worker_count = 3\n" },
      },
    ]);
    const { facts } = await readPoolFacts(localRepo(dir), config);
    expect(facts[0]).toEqual({
      pool: "workers",
      currentValue: 3,
      countSince: "2026-11-01T10:00:00.000Z",
    });
    // Dated after the planning time: asked for since then, just now.
    const asOf = new Date("2026-10-31T10:00:00Z");
    const early = await readPoolFacts(localRepo(dir), config, asOf);
    expect(early.facts[0]).toEqual({
      pool: "workers",
      currentValue: 3,
      countSince: "2026-10-31T10:00:00.000Z",
    });
  });

  it("dates a file added by a later commit from that commit, without a direction", async () => {
    const dir = repoWith([
      { at: "2026-11-01T10:00:00.000Z", files: { "README.md": "infra\n" } },
      {
        at: "2026-11-20T10:00:00.000Z",
        files: { "terraform/terraform.tfvars": "worker_count = 3\n" },
      },
    ]);
    const { facts } = await readPoolFacts(localRepo(dir), config);
    expect(facts[0]).toEqual({
      pool: "workers",
      currentValue: 3,
      lastChange: { at: "2026-11-20T10:00:00.000Z" },
    });
  });

  it("dates a file moved from elsewhere from the move, without a direction: no history is followed across it", async () => {
    const dir = repoWith([
      { at: "2026-11-01T10:00:00.000Z", files: { "infra/terraform.tfvars": "worker_count = 2\n" } },
      {
        at: "2026-11-20T10:00:00.000Z",
        files: { "terraform/terraform.tfvars": "worker_count = 2\n" },
      },
    ]);
    const { facts } = await readPoolFacts(localRepo(dir), config);
    expect(facts[0]).toEqual({
      pool: "workers",
      currentValue: 2,
      lastChange: { at: "2026-11-20T10:00:00.000Z" },
    });
  });

  it("says why a count cannot be read instead of guessing one", async () => {
    const dir = repoWith([
      {
        at: "2026-11-01T10:00:00.000Z",
        files: { "terraform/terraform.tfvars": "worker_count = var.x\n" },
      },
    ]);
    const { facts } = await readPoolFacts(localRepo(dir), config);
    expect(facts[0]?.currentValue).toBeUndefined();
    expect(facts[0]?.currentValueProblem).toBe(
      "terraform/terraform.tfvars:1:16: worker_count is the expression var.x; expected a whole number of nodes",
    );
    expect(facts[1]).toEqual({
      pool: "gpu",
      currentValueProblem: "Pulumi.prod.yaml does not exist in the repo",
    });
  });

  it("reads the count of a directory that is not a git repository, which keeps no history", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pool-facts-"));
    dirs.push(dir);
    mkdirSync(join(dir, "terraform"));
    writeFileSync(join(dir, "terraform/terraform.tfvars"), "worker_count = 2\n");
    const { facts } = await readPoolFacts(localRepo(dir), config);
    expect(facts[0]).toEqual({ pool: "workers", currentValue: 2 });
  });

  describe("a count that is not one says where it is and what was found", () => {
    const plain = (tfvars: string) => {
      const dir = mkdtempSync(join(tmpdir(), "pool-facts-"));
      dirs.push(dir);
      mkdirSync(join(dir, "terraform"));
      writeFileSync(join(dir, "terraform/terraform.tfvars"), tfvars);
      return dir;
    };
    it.each([
      ['cluster = "lab"\nworker_count = "three"\n', ':2:16: worker_count is the string "three"'],
      ["worker_count = 3.5\n", ":1:16: worker_count is the number 3.5"],
      ["worker_count = -1\n", ":1:16: worker_count is the number -1"],
      ["worker_count = 1e400\n", ":1:16: worker_count is a number out of range"],
      // Beyond 2^53 a number holds no whole count exactly: not read as the one it rounds to.
      ["worker_count = 30000000000000000000000\n", ":1:16: worker_count is a number out of range"],
      ["worker_count = 9007199254740993\n", ":1:16: worker_count is a number out of range"],
      [
        'worker_count = "9007199254740993"\n',
        ':1:16: worker_count is the string "9007199254740993"',
      ],
      ["worker_count = null\n", ":1:16: worker_count is null"],
      ["worker_count = true\n", ":1:16: worker_count is the boolean true"],
      ["worker_count = { n = 3 }\n", ":1:16: worker_count is an object"],
      ["worker_count = 2 + 1\n", ":1:16: worker_count is the expression 2 + 1"],
    ])("%j", async (tfvars, problem) => {
      const { facts } = await readPoolFacts(localRepo(plain(tfvars)), config);
      expect(facts[0]).toEqual({
        pool: "workers",
        currentValueProblem: `terraform/terraform.tfvars${problem}; expected a whole number of nodes`,
      });
    });

    it("places a file the editor refuses at the line it refuses, naming the PATH", async () => {
      const dir = plain("worker_count = 3\ncluster = 1\nworker_count = 4\n");
      const { facts } = await readPoolFacts(localRepo(dir), config);
      expect(facts[0]?.currentValueProblem).toMatch(
        /^terraform\/terraform\.tfvars:3:1: reading worker_count: not valid HCL: .*worker_count.* twice/,
      );
    });

    it("places a duplicate key of a JSON or YAML target, and calls JSON JSON", async () => {
      const dir = plain("");
      writeFileSync(
        join(dir, "Pulumi.prod.yaml"),
        'config:\n  talos:gpuCount: "1"\n  talos:gpuCount: "2"\n',
      );
      writeFileSync(join(dir, "terraform/terraform.tfvars.json"), '{\n  "n": 1,\n  "n": 2\n}\n');
      const json = RepoConfig.parse({
        pools: [
          {
            name: "workers",
            target: { file: "terraform/terraform.tfvars.json", path: "n" },
            max: 3,
          },
        ],
      });
      const [yamlFacts, jsonFacts] = await Promise.all([
        readPoolFacts(localRepo(dir), config),
        readPoolFacts(localRepo(dir), json),
      ]);
      expect(yamlFacts.facts[1]?.currentValueProblem).toMatch(
        /^Pulumi\.prod\.yaml:3:3: reading config\."talos:gpuCount": the file is not valid YAML: /,
      );
      expect(jsonFacts.facts[0]?.currentValueProblem).toMatch(
        /^terraform\/terraform\.tfvars\.json:3:3: reading n: the file is not valid JSON: /,
      );
    });
  });

  describe("a count another variable file overrides", () => {
    const workers = RepoConfig.parse({
      pools: [
        {
          name: "workers",
          target: { file: "terraform/terraform.tfvars", path: "pools.workers.count" },
          max: 6,
        },
      ],
    });
    const tfvars = "pools = {\n  workers = { count = 3 }\n}\n";

    it("holds the pool when a file Terraform reads later sets the variable, naming where", async () => {
      const dir = repoWith([
        {
          at: "2026-11-01T10:00:00Z",
          files: {
            "terraform/terraform.tfvars": tfvars,
            "terraform/prod.auto.tfvars": "# prod\npools = {\n  workers = { count = 5 }\n}\n",
            "terraform/zz.auto.tfvars": 'region = "eu"\n',
          },
        },
      ]);
      const { facts } = await readPoolFacts(localRepo(dir), workers);
      expect(facts[0]?.currentValue).toBeUndefined();
      expect(facts[0]?.currentValueProblem).toBe(
        "terraform/prod.auto.tfvars:2:9: pools is set here too, and Terraform reads this file after terraform/terraform.tfvars: its value is the one applied, not pools.workers.count of terraform/terraform.tfvars; point the pool's target.file at terraform/prod.auto.tfvars, or set pools in one file only",
      );
    });

    it("holds the pool while a later file that overrides it on the branch is deleted in the working tree only", async () => {
      const dir = repoWith([
        {
          at: "2026-11-01T10:00:00Z",
          files: {
            "terraform/terraform.tfvars": tfvars,
            "terraform/prod.auto.tfvars": "pools = {\n  workers = { count = 5 }\n}\n",
            "terraform/zz.auto.tfvars": 'region = "eu"\n',
          },
        },
      ]);
      rmSync(join(dir, "terraform/prod.auto.tfvars"));
      rmSync(join(dir, "terraform/zz.auto.tfvars"));
      // Terraform applies the branch's files, which still set pools there.
      const { facts } = await readPoolFacts(localRepo(dir), workers);
      expect(facts[0]?.currentValue).toBeUndefined();
      expect(facts[0]?.currentValueProblem).toBe(
        "terraform/prod.auto.tfvars is deleted in the working tree, but the branch holds it and sets pools there, and Terraform reads it after terraform/terraform.tfvars: the branch's pools is the one applied, not pools.workers.count of terraform/terraform.tfvars; commit the deletion, or plan from a clean checkout",
      );
      // Committed, the deletion leaves the count the one applied.
      git(dir, ["commit", "-q", "-am", "one file"], "2026-11-02T10:00:00Z");
      const committed = await readPoolFacts(localRepo(dir), workers);
      expect(committed.facts[0]).toMatchObject({ currentValue: 3 });
      expect(committed.facts[0]?.currentValueProblem).toBeUndefined();
    });

    it("holds the pool while a later file that overrides it on the branch is deleted with git rm, not committed", async () => {
      const dir = repoWith([
        {
          at: "2026-11-01T10:00:00Z",
          files: {
            "terraform/terraform.tfvars": tfvars,
            "terraform/prod.auto.tfvars": "pools = {\n  workers = { count = 5 }\n}\n",
          },
        },
      ]);
      // Staged: neither the working tree nor the index lists it; the branch still holds it.
      git(dir, ["rm", "-q", "terraform/prod.auto.tfvars"]);
      const { facts } = await readPoolFacts(localRepo(dir), workers);
      expect(facts[0]?.currentValue).toBeUndefined();
      expect(facts[0]?.currentValueProblem).toBe(
        "terraform/prod.auto.tfvars is deleted in the working tree, but the branch holds it and sets pools there, and Terraform reads it after terraform/terraform.tfvars: the branch's pools is the one applied, not pools.workers.count of terraform/terraform.tfvars; commit the deletion, or plan from a clean checkout",
      );
      git(dir, ["commit", "-q", "-m", "one file"], "2026-11-02T10:00:00Z");
      const committed = await readPoolFacts(localRepo(dir), workers);
      expect(committed.facts[0]).toMatchObject({ currentValue: 3 });
    });

    it("reads the count when later files set other variables, or sit in another folder", async () => {
      const dir = repoWith([
        {
          at: "2026-11-01T10:00:00Z",
          files: {
            "terraform/terraform.tfvars": tfvars,
            "terraform/terraform.tfvars.json": '{"region": "eu"}\n',
            "staging/prod.auto.tfvars": "pools = {}\n",
          },
        },
      ]);
      const { facts } = await readPoolFacts(localRepo(dir), workers);
      expect(facts[0]).toMatchObject({ currentValue: 3 });
      expect(facts[0]?.currentValueProblem).toBeUndefined();
    });
  });

  describe("a target that is not a text file of the repo holds its pool, and only its pool", () => {
    function withWorkersFile(make: (dir: string) => void): string {
      const dir = mkdtempSync(join(tmpdir(), "pool-facts-"));
      dirs.push(dir);
      writeFileSync(join(dir, "Pulumi.prod.yaml"), "config:\n  talos:gpuCount: 1\n");
      make(dir);
      return dir;
    }

    it.each([
      [
        "a link to a file outside the repo",
        (dir: string) => {
          const outside = mkdtempSync(join(tmpdir(), "pool-facts-outside-"));
          dirs.push(outside);
          writeFileSync(join(outside, "secret.tfvars"), "worker_count = 3\n");
          mkdirSync(join(dir, "terraform"));
          symlinkSync(join(outside, "secret.tfvars"), join(dir, "terraform/terraform.tfvars"));
        },
        /^terraform\/terraform\.tfvars is a symbolic link to \/.*secret\.tfvars: set the pool's target to the file itself$/,
      ],
      [
        "a link to another file of the repo",
        (dir: string) => {
          mkdirSync(join(dir, "envs"));
          writeFileSync(join(dir, "envs/prod.tfvars"), "worker_count = 3\n");
          mkdirSync(join(dir, "terraform"));
          symlinkSync("../envs/prod.tfvars", join(dir, "terraform/terraform.tfvars"));
        },
        /^terraform\/terraform\.tfvars is a symbolic link to \.\.\/envs\/prod\.tfvars: /,
      ],
      [
        "a folder on the way that is a link",
        (dir: string) => {
          mkdirSync(join(dir, "envs"));
          writeFileSync(join(dir, "envs/terraform.tfvars"), "worker_count = 3\n");
          symlinkSync("envs", join(dir, "terraform"));
        },
        /^terraform\/terraform\.tfvars is behind a symbolic link \(terraform → envs\): /,
      ],
      [
        "a directory",
        (dir: string) => mkdirSync(join(dir, "terraform/terraform.tfvars"), { recursive: true }),
        /^terraform\/terraform\.tfvars is a directory, not a file$/,
      ],
      [
        "a file that is not UTF-8",
        (dir: string) => {
          mkdirSync(join(dir, "terraform"));
          writeFileSync(
            join(dir, "terraform/terraform.tfvars"),
            Buffer.from("# caf\xe9\nworker_count = 3\n", "latin1"),
          );
        },
        /^terraform\/terraform\.tfvars is not valid UTF-8 text \(byte 0xe9 at line 1, column 6\); convert the file to UTF-8 first$/,
      ],
    ])("%s", async (_, make, problem) => {
      const { facts, files } = await readPoolFacts(localRepo(withWorkersFile(make)), config);
      expect(facts[0]?.pool).toBe("workers");
      expect(facts[0]?.currentValue).toBeUndefined();
      expect(facts[0]?.currentValueProblem).toMatch(problem);
      expect(files.has("terraform/terraform.tfvars")).toBe(false);
      expect(facts[1]).toEqual({ pool: "gpu", currentValue: 1 });
    });

    it("a file inside a submodule: its history is another repository's", async () => {
      const terraform = repoWith([
        { at: "2026-11-01T10:00:00Z", files: { "terraform.tfvars": "worker_count = 3\n" } },
      ]);
      const dir = repoWith([
        {
          at: "2026-11-01T10:00:00Z",
          files: { "Pulumi.prod.yaml": "config:\n  talos:gpuCount: 1\n" },
        },
      ]);
      git(dir, [
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        terraform,
        "terraform",
      ]);
      git(dir, ["commit", "-q", "-m", "terraform"], "2026-11-02T10:00:00Z");
      const { facts } = await readPoolFacts(localRepo(dir), config);
      expect(facts[0]).toEqual({
        pool: "workers",
        currentValueProblem:
          "terraform/terraform.tfvars is inside terraform, a git repository of its own (a submodule): its commits are not this repository's, and a pull request here cannot change it; keep the count in a file of this repository",
      });
      expect(facts[1]).toMatchObject({ pool: "gpu", currentValue: 1 });
    });

    it("a file below a path that is a file is missing, not unreadable", async () => {
      const dir = withWorkersFile((d) => writeFileSync(join(d, "terraform"), "not a folder\n"));
      const { facts } = await readPoolFacts(localRepo(dir), config);
      expect(facts[0]).toEqual({
        pool: "workers",
        currentValueProblem: "terraform/terraform.tfvars does not exist in the repo",
      });
    });
  });

  describe("a target file no commit holds", () => {
    const problem =
      "terraform/terraform.tfvars is not committed (no commit of the branch has it): commit it, or plan from a clean checkout";

    it("holds the count of a file that is only in the working tree", async () => {
      const dir = repoWith([
        {
          at: "2026-11-01T10:00:00Z",
          files: { "Pulumi.prod.yaml": "config:\n  talos:gpuCount: 1\n" },
        },
      ]);
      mkdirSync(join(dir, "terraform"));
      writeFileSync(join(dir, "terraform/terraform.tfvars"), "worker_count = 3\n");
      expect(await localRepo(dir).uncommitted?.("terraform/terraform.tfvars")).toBe(true);
      const { facts } = await readPoolFacts(localRepo(dir), config);
      expect(facts[0]).toEqual({ pool: "workers", currentValueProblem: problem });
      expect(facts[0]?.currentValueProblem).toContain("is not committed");
      // The other pool's file is committed: it keeps its count.
      expect(facts[1]).toMatchObject({ pool: "gpu", currentValue: 1 });
    });

    it("holds a file that is staged but not committed", async () => {
      const dir = repoWith([
        {
          at: "2026-11-01T10:00:00Z",
          files: { "Pulumi.prod.yaml": "config:\n  talos:gpuCount: 1\n" },
        },
      ]);
      mkdirSync(join(dir, "terraform"));
      writeFileSync(join(dir, "terraform/terraform.tfvars"), "worker_count = 3\n");
      execFileSync("git", ["-C", dir, "add", "terraform/terraform.tfvars"]);
      expect(await localRepo(dir).uncommitted?.("terraform/terraform.tfvars")).toBe(true);
      const { facts } = await readPoolFacts(localRepo(dir), config);
      expect(facts[0]).toEqual({ pool: "workers", currentValueProblem: problem });
    });

    it("holds a file its last commit deleted, written again in the working tree", async () => {
      const dir = repoWith([
        {
          at: "2026-11-01T10:00:00Z",
          files: { "terraform/terraform.tfvars": "worker_count = 3\n" },
        },
      ]);
      git(dir, ["rm", "-q", "terraform/terraform.tfvars"]);
      git(dir, ["commit", "-q", "-m", "gone"], "2026-11-20T10:00:00Z");
      mkdirSync(join(dir, "terraform"));
      writeFileSync(join(dir, "terraform/terraform.tfvars"), "worker_count = 3\n");
      const { facts } = await readPoolFacts(localRepo(dir), config);
      expect(facts[0]?.currentValue).toBeUndefined();
      expect(facts[0]?.currentValueProblem).toBe(problem);
    });

    it("says a file deleted in the working tree only is the branch's, not missing from it", async () => {
      // The configuration is right: the checkout lacks the file its branch holds.
      const dir = repoWith([
        {
          at: "2026-11-01T10:00:00Z",
          files: { "terraform/terraform.tfvars": "worker_count = 3\n" },
        },
      ]);
      rmSync(join(dir, "terraform/terraform.tfvars"));
      const { facts } = await readPoolFacts(localRepo(dir), config);
      expect(facts[0]).toEqual({
        pool: "workers",
        currentValueProblem:
          "terraform/terraform.tfvars is deleted in the working tree, but the branch holds it: restore it (git checkout HEAD -- terraform/terraform.tfvars), or plan from a clean checkout",
      });
      // Deleted by the branch's last commit, it is missing from the repo.
      git(dir, ["commit", "-q", "-am", "gone"], "2026-11-20T10:00:00Z");
      const gone = await readPoolFacts(localRepo(dir), config);
      expect(gone.facts[0]?.currentValueProblem).toBe(
        "terraform/terraform.tfvars does not exist in the repo",
      );
    });

    it("gives a restore command that works for a deletion staged with git rm too", async () => {
      const dir = repoWith([
        {
          at: "2026-11-01T10:00:00Z",
          files: { "terraform/terraform.tfvars": "worker_count = 3\n" },
        },
      ]);
      git(dir, ["rm", "-q", "terraform/terraform.tfvars"]);
      const { facts } = await readPoolFacts(localRepo(dir), config);
      const problem = facts[0]?.currentValueProblem ?? "";
      expect(problem).toBe(
        "terraform/terraform.tfvars is deleted in the working tree, but the branch holds it: restore it (git checkout HEAD -- terraform/terraform.tfvars), or plan from a clean checkout",
      );
      // Doing what it says brings the count back (git checkout -- F would not: the index lacks F).
      const restore = /restore it \(git (checkout HEAD -- \S+)\)/.exec(problem)?.[1] ?? "";
      git(dir, restore.split(" "));
      const restored = await readPoolFacts(localRepo(dir), config);
      expect(restored.facts[0]).toMatchObject({ currentValue: 3 });
    });

    it("holds it in a repository with no commit yet", async () => {
      const dir = repoWith([]);
      mkdirSync(join(dir, "terraform"));
      writeFileSync(join(dir, "terraform/terraform.tfvars"), "worker_count = 3\n");
      const { facts } = await readPoolFacts(localRepo(dir), config);
      expect(facts[0]?.currentValue).toBeUndefined();
      expect(facts[0]?.currentValueProblem).toBe(problem);
    });

    it("reads the count of the same file once it is committed", async () => {
      const dir = repoWith([
        {
          at: "2026-11-01T10:00:00Z",
          files: { "terraform/terraform.tfvars": "worker_count = 3\n" },
        },
      ]);
      expect(await localRepo(dir).uncommitted?.("terraform/terraform.tfvars")).toBe(false);
      const { facts } = await readPoolFacts(localRepo(dir), config);
      expect(facts[0]).toEqual({
        pool: "workers",
        currentValue: 3,
        countSince: "2026-11-01T10:00:00.000Z",
      });
    });

    it("reads it in a plain directory, where there is no branch to miss it", async () => {
      const dir = mkdtempSync(join(tmpdir(), "pool-facts-"));
      dirs.push(dir);
      mkdirSync(join(dir, "terraform"));
      writeFileSync(join(dir, "terraform/terraform.tfvars"), "worker_count = 3\n");
      expect(await localRepo(dir).uncommitted?.("terraform/terraform.tfvars")).toBe(false);
      const { facts } = await readPoolFacts(localRepo(dir), config);
      expect(facts[0]?.currentValue).toBe(3);
      expect(facts[0]?.currentValueProblem).toBeUndefined();
    });
  });
});
