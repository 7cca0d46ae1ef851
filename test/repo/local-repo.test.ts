import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "@jest/globals";
import { localRepo } from "../../src/repo/local-repo.ts";
import { GitError, HistoryUnavailableError } from "../../src/repo/repo-reader.ts";

const FILE = "terraform/terraform.tfvars";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(name = "local-repo-"): string {
  const dir = mkdtempSync(join(tmpdir(), name));
  dirs.push(dir);
  return dir;
}

/**
 * An environment whose git config is only what a test writes: neither the machine's system
 * config nor the user's global one (a CI image may trust every directory).
 */
function isolatedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = tempDir("local-repo-home-");
  const global = join(home, "gitconfig");
  writeFileSync(global, "");
  return {
    ...process.env,
    HOME: home,
    GIT_CONFIG_GLOBAL: global,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "ops",
    GIT_AUTHOR_EMAIL: "ops@example.invalid",
    GIT_COMMITTER_NAME: "ops",
    GIT_COMMITTER_EMAIL: "ops@example.invalid",
    ...extra,
  };
}

function git(dir: string, args: string[], env: NodeJS.ProcessEnv, at?: string): string {
  return execFileSync("git", ["-C", dir, ...args], {
    env: { ...env, ...(at ? { GIT_AUTHOR_DATE: at, GIT_COMMITTER_DATE: at } : {}) },
    encoding: "utf8",
    stdio: "pipe",
  });
}

/** A checkout whose tfvars held each count in turn, committed at the given times. */
function repoWith(
  counts: { count: number; at: string }[],
  env: NodeJS.ProcessEnv = isolatedEnv(),
): string {
  const dir = tempDir();
  git(dir, ["init", "-q", "-b", "main"], env);
  mkdirSync(join(dir, "terraform"));
  for (const { count, at } of counts) {
    writeFileSync(join(dir, FILE), `worker_count = ${count}\n`);
    git(dir, ["add", "-A"], env);
    git(dir, ["commit", "-q", "-m", `workers: ${count}`], env, at);
  }
  return dir;
}

/** A folder with the tfvars and no git repository anywhere above it that git would find. */
function plainFolder(): string {
  const dir = tempDir();
  mkdirSync(join(dir, "terraform"));
  writeFileSync(join(dir, FILE), "worker_count = 3\n");
  return dir;
}

async function historyError(read: Promise<unknown>): Promise<HistoryUnavailableError> {
  const error = await read.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof HistoryUnavailableError))
    throw new Error(`expected a HistoryUnavailableError, got ${String(error)}`);
  return error;
}

describe("localRepo: git's output as the operator's settings would change it", () => {
  it("reads signed commits with log.showSignature = true in the global config", async () => {
    const env = isolatedEnv();
    const dir = repoWith([{ count: 2, at: "2026-11-01T10:00:00Z" }], env);
    // An SSH-signed commit (GitHub signs merges made in its web UI) with no allowed-signers file:
    // git log then prints "No signature" among the commits when showSignature is on.
    const key = join(tempDir(), "signing-key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    git(dir, ["config", "gpg.format", "ssh"], env);
    git(dir, ["config", "user.signingKey", key], env);
    writeFileSync(join(dir, FILE), "worker_count = 3\n");
    git(dir, ["commit", "-q", "-S", "-am", "workers: 3"], env, "2026-11-22T09:57:00Z");
    writeFileSync(env.GIT_CONFIG_GLOBAL ?? "", "[log]\n\tshowSignature = true\n");
    const raw = git(dir, ["log", "--format=%H %P%x09%cI", "--", FILE], env);
    expect(raw.split("\n")).toContain("No signature");

    const commits = await localRepo(dir, { env }).fileCommits(FILE, 20);
    expect(commits.map((commit) => commit.at)).toEqual([
      "2026-11-22T09:57:00.000Z",
      "2026-11-01T10:00:00.000Z",
    ]);
    expect(commits[0]?.parent).toBe(commits[1]?.sha);
  });

  it("names the git command when its output is not commits, instead of guessing", async () => {
    const env = isolatedEnv();
    const dir = repoWith([{ count: 3, at: "2026-11-01T10:00:00Z" }], env);
    // A git that prints a line of its own before the log, as a setting not known here could.
    const bin = tempDir("local-repo-bin-");
    const real = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    writeFileSync(
      join(bin, "git"),
      `#!/bin/sh\nfor arg; do [ "$arg" = log ] && echo "gpg: Signature made Sun Nov 22 09:57:00 2026 UTC"; done\nexec ${real} "$@"\n`,
    );
    chmodSync(join(bin, "git"), 0o755);
    const repo = localRepo(dir, { env: { ...env, PATH: `${bin}:${env.PATH ?? ""}` } });
    const read = repo.fileCommits(FILE, 20);
    await expect(read).rejects.toThrow(GitError);
    await expect(read).rejects.toThrow(
      `git -C ${dir} log --first-parent -n20 '--format=%H %P%x09%cI' -- ${FILE} printed a line that is not a commit (sha, parents, tab, date): "gpg: Signature made Sun Nov 22 09:57:00 2026 UTC"`,
    );
    await expect(read).rejects.toMatchObject({ exitCode: 1 });
  });

  it("reads the repository in the folder given, whatever GIT_DIR says", async () => {
    const env = isolatedEnv();
    const dir = repoWith([{ count: 3, at: "2026-11-01T10:00:00Z" }], env);
    const other = repoWith([{ count: 9, at: "2026-11-20T10:00:00Z" }], env);
    const repo = localRepo(dir, { env: { ...env, GIT_DIR: join(other, ".git") } });
    const commits = await repo.fileCommits(FILE, 20);
    expect(commits.map((commit) => commit.at)).toEqual(["2026-11-01T10:00:00.000Z"]);
    expect(await repo.readFileAt(FILE, commits[0]?.sha ?? "")).toBe("worker_count = 3\n");
  });
});

describe("localRepo: a path is the file it names", () => {
  it("reads the history of a file whose name has glob characters, not of the files they match", async () => {
    const env = isolatedEnv();
    const dir = repoWith([{ count: 3, at: "2026-11-01T10:00:00Z" }], env);
    const file = "terraform/prod[1].tfvars";
    writeFileSync(join(dir, file), "worker_count = 3\n");
    git(dir, ["add", "-A"], env);
    git(dir, ["commit", "-q", "-m", "prod"], env, "2026-11-02T10:00:00Z");
    // A file the name would match as a glob, changed later.
    writeFileSync(join(dir, "terraform/prod1.tfvars"), "worker_count = 9\n");
    git(dir, ["add", "-A"], env);
    git(dir, ["commit", "-q", "-m", "prod1"], env, "2026-11-20T10:00:00Z");
    // Whatever the operator's environment says of pathspecs.
    for (const extra of [{}, { GIT_GLOB_PATHSPECS: "1" }, { GIT_ICASE_PATHSPECS: "1" }]) {
      const repo = localRepo(dir, { env: { ...env, ...extra } });
      const commits = await repo.fileCommits(file, 20);
      expect(commits.map((commit) => commit.at)).toEqual(["2026-11-02T10:00:00.000Z"]);
      expect(await repo.uncommitted?.(file)).toBe(false);
    }
  });
});

describe("localRepo: the files the branch holds", () => {
  it("lists HEAD's files relative to the folder, a staged deletion's too, not an untracked file's", async () => {
    const env = isolatedEnv();
    const dir = repoWith([{ count: 3, at: "2026-11-01T10:00:00Z" }], env);
    writeFileSync(join(dir, "terraform/prod.auto.tfvars"), "worker_count = 5\n");
    writeFileSync(join(dir, "README.md"), "infra\n");
    git(dir, ["add", "-A"], env);
    git(dir, ["commit", "-q", "-m", "more"], env, "2026-11-02T10:00:00Z");
    git(dir, ["rm", "-q", "terraform/prod.auto.tfvars"], env);
    writeFileSync(join(dir, "terraform/new.auto.tfvars"), "worker_count = 4\n");
    const repo = localRepo(dir, { env });
    expect(await repo.branchFiles?.()).toEqual([
      "README.md",
      "terraform/prod.auto.tfvars",
      "terraform/terraform.tfvars",
    ]);
    expect(await repo.listFiles()).toEqual([
      "README.md",
      "terraform/new.auto.tfvars",
      "terraform/terraform.tfvars",
    ]);
    // A folder inside the repository names them from itself, as listFiles does.
    const inner = localRepo(join(dir, "terraform"), { env });
    expect(await inner.branchFiles?.()).toEqual(["prod.auto.tfvars", "terraform.tfvars"]);
  });

  it("is empty without a commit, and in a plain folder", async () => {
    const env = isolatedEnv();
    const dir = tempDir();
    git(dir, ["init", "-q", "-b", "main"], env);
    writeFileSync(join(dir, "a.tfvars"), "worker_count = 3\n");
    expect(await localRepo(dir, { env }).branchFiles?.()).toEqual([]);
    expect(await localRepo(plainFolder(), { env }).branchFiles?.()).toEqual([]);
  });
});

describe("localRepo: a history that cannot be read is unknown, and says why", () => {
  it("a plain folder: not a git repository, no history kept; its files are still read and listed", async () => {
    const dir = plainFolder();
    const repo = localRepo(dir, { env: isolatedEnv() });
    expect(await repo.fileCommits(FILE, 20)).toEqual([]);
    expect(await repo.historyProblem()).toBeUndefined();
    expect(await repo.isRepository()).toBe(false);
    await historyError(repo.readFileAt(FILE, "HEAD"));
    // No branch to compare with: nothing is uncommitted.
    expect(await repo.uncommitted?.(FILE)).toBe(false);
    expect(await repo.readFile(FILE)).toBe("worker_count = 3\n");
    expect(await repo.listFiles()).toEqual([FILE]);
    expect(await repo.notACheckout()).toBeUndefined();
  });

  it("git not installed: git not found, the files still read", async () => {
    const dir = repoWith([{ count: 3, at: "2026-11-01T10:00:00Z" }]);
    const repo = localRepo(dir, { env: isolatedEnv({ PATH: tempDir("local-repo-empty-") }) });
    const error = await historyError(repo.fileCommits(FILE, 20));
    expect(error.message).toBe(
      `git not found (no git program on the PATH), so the history of ${dir} cannot be read`,
    );
    await historyError(repo.uncommitted?.(FILE) ?? Promise.resolve());
    expect(await repo.readFile(FILE)).toBe("worker_count = 3\n");
    expect(await repo.listFiles()).toEqual([FILE]);
  });

  it("a repository owned by another user: git's refusal quoted, with the command that lifts it", async () => {
    // git's own switch for "the owner differs" (its test suite's): the check and the message
    // are git's, as for a checkout made by another uid (actions/checkout in a container job).
    const env = isolatedEnv({ GIT_TEST_ASSUME_DIFFERENT_OWNER: "1" });
    const dir = repoWith([{ count: 3, at: "2026-11-01T10:00:00Z" }], isolatedEnv());
    const error = await historyError(localRepo(dir, { env }).fileCommits(FILE, 20));
    expect(error.message).toBe(
      `git refuses to read ${dir}, which belongs to another user ("fatal: detected dubious ownership in repository at '${dir}'"); if you trust it, run \`git config --global --add safe.directory ${dir}\``,
    );
    // Doing what it says makes the history readable.
    const hint = /run `git (config --global --add safe\.directory \S+)`/.exec(error.message);
    execFileSync("git", (hint?.[1] ?? "").split(" "), { env });
    const commits = await localRepo(dir, { env }).fileCommits(FILE, 20);
    expect(commits.map((commit) => commit.at)).toEqual(["2026-11-01T10:00:00.000Z"]);
  });

  it("another failure quotes the command and what git said", async () => {
    const env = isolatedEnv();
    const dir = repoWith([{ count: 3, at: "2026-11-01T10:00:00Z" }], env);
    // The blob of the file, damaged on disk.
    const blob = git(dir, ["rev-parse", `HEAD:${FILE}`], env).trim();
    const stored = join(dir, ".git/objects", blob.slice(0, 2), blob.slice(2));
    chmodSync(stored, 0o644);
    writeFileSync(stored, "not a zlib stream");
    const error = await historyError(localRepo(dir, { env }).readFileAt(FILE, "HEAD"));
    expect(error.message).toMatch(
      new RegExp(
        `^git -C ${dir} cat-file blob HEAD:\\./${FILE} failed \\(exit 128\\): .*; fatal: loose object ${blob} .* is corrupt$`,
      ),
    );
  });
});

describe("localRepo: what a checkout's history holds", () => {
  it("a repository without a commit has an empty history, and its files are uncommitted", async () => {
    const env = isolatedEnv();
    const dir = tempDir();
    git(dir, ["init", "-q", "-b", "main"], env);
    mkdirSync(join(dir, "terraform"));
    writeFileSync(join(dir, FILE), "worker_count = 3\n");
    const repo = localRepo(dir, { env });
    expect(await repo.fileCommits(FILE, 20)).toEqual([]);
    expect(await repo.uncommitted?.(FILE)).toBe(true);
    expect(await repo.historyProblem()).toBeUndefined();
  });

  it("a file absent at a commit, or a folder there, is undefined", async () => {
    const env = isolatedEnv();
    const dir = repoWith([{ count: 3, at: "2026-11-01T10:00:00Z" }], env);
    const repo = localRepo(dir, { env });
    expect(await repo.readFileAt("terraform/other.tfvars", "HEAD")).toBeUndefined();
    expect(await repo.readFileAt("terraform", "HEAD")).toBeUndefined();
    // In the working tree but not at the commit.
    writeFileSync(join(dir, "terraform/new.tfvars"), "x = 1\n");
    expect(await repo.readFileAt("terraform/new.tfvars", "HEAD")).toBeUndefined();
  });

  it("gives its remotes' URLs, none without a remote or outside a checkout", async () => {
    const env = isolatedEnv();
    const dir = repoWith([{ count: 3, at: "2026-11-01T10:00:00Z" }], env);
    expect(await localRepo(dir, { env }).remoteUrls?.()).toEqual([]);
    git(dir, ["remote", "add", "origin", "git@github.com:example/home-ops.git"], env);
    git(dir, ["remote", "add", "upstream", "https://github.com/other/home-ops"], env);
    expect(await localRepo(dir, { env }).remoteUrls?.()).toEqual([
      "git@github.com:example/home-ops.git",
      "https://github.com/other/home-ops",
    ]);
    expect(await localRepo(plainFolder(), { env }).remoteUrls?.()).toEqual([]);
  });

  it("names a folder with spaces in a command it quotes", async () => {
    const env = isolatedEnv();
    const dir = join(tempDir(), "my infra");
    mkdirSync(dir);
    git(dir, ["init", "-q", "-b", "main"], env);
    mkdirSync(join(dir, "terraform"));
    writeFileSync(join(dir, FILE), "worker_count = 3\n");
    git(dir, ["add", "-A"], env);
    git(dir, ["commit", "-q", "-m", "infra"], env, "2026-11-01T10:00:00Z");
    const error = await historyError(localRepo(dir, { env }).readFileAt(FILE, "HEAD~5"));
    expect(error.message).toBe(
      `git -C '${dir}' cat-file blob HEAD~5:./${FILE} failed (exit 128): fatal: invalid object name 'HEAD~5'.`,
    );
  });
});

describe("localRepo: folders that are no checkout", () => {
  it("a bare repository", async () => {
    const env = isolatedEnv();
    const source = repoWith([{ count: 3, at: "2026-11-01T10:00:00Z" }], env);
    const bare = join(tempDir(), "infra.git");
    execFileSync("git", ["clone", "-q", "--bare", source, bare], { env, stdio: "pipe" });
    const repo = localRepo(bare, { env });
    expect(await repo.notACheckout()).toBe(
      `${bare} is a bare git repository: it has no working tree to read the files from; clone it (git clone ${bare} DIR) and use the clone`,
    );
    await historyError(repo.fileCommits(FILE, 20));
  });

  it("the .git folder of a checkout", async () => {
    const env = isolatedEnv();
    const dir = repoWith([{ count: 3, at: "2026-11-01T10:00:00Z" }], env);
    expect(await localRepo(join(dir, ".git"), { env }).notACheckout()).toBe(
      `${join(dir, ".git")} is inside a repository's .git folder: give the folder of the checkout`,
    );
    expect(await localRepo(dir, { env }).notACheckout()).toBeUndefined();
  });
});
