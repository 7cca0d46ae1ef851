/**
 * An infra repo whose Terraform is real: the `cluster-pools` fixture (workers and GPU VMs as
 * `terraform_data`, no provider to download) in a git repository, its state in a local backend
 * outside the checkout (as a remote backend would be), applied at its first commit. The
 * workflow's jobs run in the sandbox (workflow-sandbox.ts) with the real terraform behind the
 * recording stand-in, so each job plans and applies for real, one after the other, as GitHub
 * would run them for a history of commits.
 */
import { execFile } from "node:child_process";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CLUSTER_POOLS_GUARD,
  requireTerraform,
  terraformFixture,
} from "../../support/terraform.ts";
import type { Value } from "./expressions.ts";
import type { JobRun } from "./workflow-runner.ts";
import { type Call, createSandbox, REPO_SECRETS, type Sandbox } from "./workflow-sandbox.ts";

const exec = promisify(execFile);

/** The cluster-pools tfvars with these counts and any extra lines. */
export function poolsTfvars(workers: number, gpus: number, extra = ""): string {
  return `worker_count = ${workers}\ngpu_count    = ${gpus}\n${extra}`;
}

export interface LiveOptions {
  /** The Terraform root's folder in the repository (default `terraform`). */
  root?: string;
  /** The tfvars file's name in the root (default `terraform.tfvars`). */
  tfvarsFile?: string;
  /** Workflow inputs over the example caller's (`pool` is empty unless given). */
  inputs?: Record<string, Value>;
  /** The first commit's tfvars, applied before the test starts (default 3 workers, 3 GPUs). */
  initial?: string;
}

export interface LiveRun {
  job: JobRun;
  calls: Call[];
}

export interface LiveInfra {
  sandbox: Sandbox;
  /** The infra repository's working tree. */
  infra: string;
  /** The first commit, applied. */
  first: string;
  git(args: string[]): Promise<string>;
  /**
   * Commits on `main`, or on `branch` (made from `main` when new): path in the repository →
   * text, null deletes. Returns the commit.
   */
  commit(files: Record<string, string | null>, message: string, branch?: string): Promise<string>;
  /**
   * The apply job for a push from `before` to `after`, on a checkout of `after`, with GitHub's
   * `main` where the local `main` is (or at `branchTip`).
   */
  push(before: string, after: string, options?: { branchTip?: string }): Promise<LiveRun>;
  /** The plan job for a pull request of `head` into `base` (GitHub's merge commit). */
  pullRequest(base: string, head: string): Promise<LiveRun>;
  /** How many instances of each resource the state holds. */
  counts(): Promise<Record<string, number>>;
  /** The `input` of one instance in the state. */
  input(resource: string, index: number): Promise<Record<string, unknown>>;
}

interface StateJson {
  resources: {
    name: string;
    instances: { index_key?: number; attributes: { input?: { value?: object } } }[];
  }[];
}

/** Builds the repository, applies its first commit, and returns the means to run its history. */
export async function liveInfra(options: LiveOptions = {}): Promise<LiveInfra> {
  await requireTerraform();
  const root = options.root ?? "terraform";
  const tfvarsFile = options.tfvarsFile ?? "terraform.tfvars";
  const initial = options.initial ?? poolsTfvars(3, 3);
  const sandbox = await createSandbox({
    tfvars: { before: initial, after: initial },
    guardConfig: CLUSTER_POOLS_GUARD,
    inputs: { pool: "", ...options.inputs },
    planJson: "{}",
  });
  const infra = join(sandbox.workspace, "infra");
  const stateFile = join(sandbox.root, "state", "terraform.tfstate");
  const cliConfig = join(sandbox.root, "terraformrc");
  await mkdir(join(sandbox.root, "state"), { recursive: true });
  await writeFile(cliConfig, "");
  const terraform = await realTerraform(sandbox.root, cliConfig);
  const git = gitIn(infra, join(sandbox.root, "home"));

  await git(["rm", "-q", "-r", "--cached", "terraform"]);
  await rm(join(infra, "terraform"), { recursive: true, force: true });
  await mkdir(join(infra, root), { recursive: true });
  const fixture = terraformFixture("cluster-pools");
  await writeFile(join(infra, root, "main.tf"), await readFile(join(fixture, "main.tf"), "utf8"));
  await writeFile(join(infra, root, "backend.tf"), 'terraform {\n  backend "local" {}\n}\n');
  await writeFile(join(infra, root, tfvarsFile), initial);
  await writeFile(join(infra, ".gitignore"), ".terraform/\n*.tfstate*\n.terraform.lock.hcl\n");
  await git(["add", "-A"]);
  await git(["commit", "-q", "-m", "cluster"]);
  const first = await git(["rev-parse", "HEAD"]);

  const backendConfig = `path = ${JSON.stringify(stateFile)}`;
  const secrets = { ...REPO_SECRETS, TERRAFORM_BACKEND_CONFIG: backendConfig };
  await applyFirstCommit(terraform, join(infra, root), backendConfig, sandbox.root, tfvarsFile);

  /** A new job: a checkout of the commit and an empty runner temp directory. */
  async function freshJob(sha: string): Promise<void> {
    await git(["checkout", "-q", "--detach", sha]);
    await rm(sandbox.runnerTemp, { recursive: true, force: true });
    await mkdir(sandbox.runnerTemp, { recursive: true });
    await writeFile(join(sandbox.root, "calls.jsonl"), "");
  }

  async function state(): Promise<StateJson> {
    return JSON.parse(await readFile(stateFile, "utf8")) as StateJson;
  }

  return {
    sandbox,
    infra,
    first,
    git,
    async commit(files, message, branch = "main") {
      const exists = await git(["branch", "--list", branch]);
      await git(
        exists === "" ? ["checkout", "-q", "-b", branch, "main"] : ["checkout", "-q", branch],
      );
      for (const [path, text] of Object.entries(files)) {
        if (text === null) await rm(join(infra, path), { force: true });
        else {
          await mkdir(join(infra, path, ".."), { recursive: true });
          await writeFile(join(infra, path), text);
        }
      }
      await git(["add", "-A"]);
      await git(["commit", "-q", "--allow-empty", "-m", message]);
      return git(["rev-parse", "HEAD"]);
    },
    async push(before, after, pushOptions = {}) {
      const branchTip = pushOptions.branchTip ?? (await git(["rev-parse", "main"]));
      await freshJob(after);
      const job = await sandbox.runJob("apply", {
        event: { event_name: "push", event: { before } },
        secrets,
        env: { GITHUB_SHA: after },
        branchTip,
      });
      return { job, calls: await sandbox.calls() };
    },
    async pullRequest(base, head) {
      await git(["checkout", "-q", "--detach", base]);
      await git(["merge", "-q", "--no-ff", "-m", "Merge pull request", head]);
      const merge = await git(["rev-parse", "HEAD"]);
      await freshJob(merge);
      const job = await sandbox.runJob("plan", {
        event: {
          event_name: "pull_request",
          event: { pull_request: { number: 12, head: { sha: head } } },
        },
        secrets,
        env: { GITHUB_SHA: merge },
      });
      return { job, calls: await sandbox.calls() };
    },
    async counts() {
      const json = await state();
      return Object.fromEntries(json.resources.map((r) => [r.name, r.instances.length]));
    },
    async input(resource, index) {
      const json = await state();
      const instance = json.resources
        .find((r) => r.name === resource)
        ?.instances.find((i) => i.index_key === index);
      return (instance?.attributes.input?.value ?? {}) as Record<string, unknown>;
    },
  };
}

/** The recording stand-in for terraform, now passing every call on to the real one. */
async function realTerraform(root: string, cliConfig: string): Promise<string> {
  const real = (await exec("bash", ["-c", "command -v terraform"])).stdout.trim();
  const stub = join(root, "stubs", "terraform");
  await writeFile(
    stub,
    `#!/bin/bash\nset -e\nnode "$STUB_DIR/record.mjs" terraform "$@"\nexport TF_CLI_CONFIG_FILE=${JSON.stringify(cliConfig)}\nexec ${JSON.stringify(real)} "$@"\n`,
  );
  await chmod(stub, 0o755);
  return real;
}

/** `terraform init` and `apply` of the first commit, as the cluster stood before the history. */
async function applyFirstCommit(
  terraform: string,
  dir: string,
  backendConfig: string,
  root: string,
  tfvarsFile: string,
): Promise<void> {
  const backend = join(root, "backend.tfbackend");
  await writeFile(backend, backendConfig);
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: join(root, "home"),
    TF_CLI_CONFIG_FILE: join(root, "terraformrc"),
    CHECKPOINT_DISABLE: "1",
    TF_IN_AUTOMATION: "1",
  };
  const autoLoaded = tfvarsFile === "terraform.tfvars" || tfvarsFile.endsWith(".auto.tfvars");
  const varFile = autoLoaded ? [] : [`-var-file=${tfvarsFile}`];
  await exec(terraform, ["init", "-input=false", `-backend-config=${backend}`], { cwd: dir, env });
  await exec(terraform, ["apply", "-auto-approve", "-input=false", ...varFile], { cwd: dir, env });
}

function gitIn(cwd: string, home: string): (args: string[]) => Promise<string> {
  const env = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    GIT_AUTHOR_NAME: "someone",
    GIT_AUTHOR_EMAIL: "someone@example.invalid",
    GIT_COMMITTER_NAME: "someone",
    GIT_COMMITTER_EMAIL: "someone@example.invalid",
  };
  return async (args) => (await exec("git", args, { cwd, env })).stdout.trim();
}
