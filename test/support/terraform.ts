import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** test/fixtures/terraform/<name>. */
export function terraformFixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/terraform/${name}`, import.meta.url));
}

/** The guard config of the two-pool fixture `cluster-pools` (workers and gpu in one root). */
export const CLUSTER_POOLS_GUARD = readFileSync(
  join(terraformFixture("cluster-pools"), "guard.yml"),
  "utf8",
);

/** The tfvars of the `cluster-pools` fixture with these counts. */
export function clusterPoolsTfvars(workers: number, gpus: number): string {
  return `worker_count = ${workers}\ngpu_count    = ${gpus}\n`;
}

/**
 * The environment terraform runs in: nothing inherited that changes its behaviour (TF_VAR_*,
 * TF_CLI_ARGS*, a plugin cache), no update check, no prompt, and an empty CLI config so that a
 * missing ~/.terraformrc is not reported.
 */
function terraformEnv(cliConfig: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith("TF_") && name !== "CHECKPOINT_DISABLE") {
      env[name] = value;
    }
  }
  return {
    ...env,
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    CHECKPOINT_DISABLE: "1",
    TF_CLI_CONFIG_FILE: cliConfig,
  };
}

/**
 * Fails (never skips) with a clear message when terraform is not installed: the plan guard's
 * tests are about real terraform output.
 */
export async function requireTerraform(): Promise<string> {
  try {
    const { stdout } = await run("terraform", ["version", "-json"], {
      env: { ...process.env, CHECKPOINT_DISABLE: "1" },
    });
    return (JSON.parse(stdout) as { terraform_version: string }).terraform_version;
  } catch (error) {
    throw new Error(
      `terraform is needed for the plan guard tests but could not be run (${(error as Error).message.split("\n")[0]}). Install Terraform >= 1.4 and put it on PATH.`,
    );
  }
}

/**
 * A `cluster-pools` workdir whose state holds `workers` workers and `gpus` GPU VMs, applied; fails
 * as {@link requireTerraform} does when terraform is not installed.
 */
export async function appliedClusterPools(workers = 3, gpus = 3): Promise<TerraformWorkdir> {
  await requireTerraform();
  const workdir = await terraformWorkdir("cluster-pools");
  try {
    await workdir.write("terraform.tfvars", clusterPoolsTfvars(workers, gpus));
    await workdir.apply();
    return workdir;
  } catch (error) {
    await workdir.remove();
    throw error;
  }
}

/** A copy of a fixture configuration in a temporary directory, with its own local state. */
export interface TerraformWorkdir {
  dir: string;
  terraform(args: string[]): Promise<string>;
  write(file: string, text: string): Promise<void>;
  read(file: string): Promise<string>;
  /** `terraform apply` with the current files, to set up the state a plan starts from. */
  apply(): Promise<void>;
  /** `terraform plan -out` then `terraform show -json`: the plan's JSON text. */
  planJson(extraArgs?: string[]): Promise<string>;
  /** A second, independent copy of this directory (configuration, .terraform and state). */
  clone(): Promise<TerraformWorkdir>;
  remove(): Promise<void>;
}

/** Copies a fixture to a temporary directory and runs `terraform init` there (offline). */
export async function terraformWorkdir(fixture: string): Promise<TerraformWorkdir> {
  const dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-tf-"));
  await cp(terraformFixture(fixture), dir, { recursive: true });
  const workdir = workdirAt(dir);
  await workdir.terraform(["init", "-input=false", "-no-color"]);
  return workdir;
}

function workdirAt(dir: string): TerraformWorkdir {
  const cliConfig = join(dir, ".terraformrc-empty");
  let plans = 0;
  const workdir: TerraformWorkdir = {
    dir,
    async terraform(args) {
      await writeFile(cliConfig, "");
      try {
        const { stdout } = await run("terraform", args, {
          cwd: dir,
          env: terraformEnv(cliConfig),
          maxBuffer: 64 * 1024 * 1024,
        });
        return stdout;
      } catch (error) {
        const failed = error as Error & { stderr?: string; stdout?: string };
        throw new Error(
          `terraform ${args.join(" ")} failed in ${dir}:\n${failed.stderr ?? ""}${failed.stdout ?? failed.message}`,
        );
      }
    },
    write: (file, text) => writeFile(join(dir, file), text),
    read: (file) => readFile(join(dir, file), "utf8"),
    async apply() {
      await workdir.terraform(["apply", "-auto-approve", "-input=false", "-no-color"]);
    },
    async planJson(extraArgs = []) {
      plans += 1;
      const planFile = `guard-test-${plans}.tfplan`;
      await workdir.terraform([
        "plan",
        "-input=false",
        "-no-color",
        `-out=${planFile}`,
        ...extraArgs,
      ]);
      return workdir.terraform(["show", "-json", "-no-color", planFile]);
    },
    async clone() {
      const copy = await mkdtemp(join(tmpdir(), "pr-autoscaler-tf-"));
      await cp(dir, copy, { recursive: true });
      return workdirAt(copy);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  return workdir;
}

/**
 * The plan JSON of `base` with its `terraform.tfvars` replaced by each text asked for, made once
 * per text in a throw-away copy (a plan takes seconds; `base` keeps its files and state).
 */
export function tfvarsPlans(base: () => TerraformWorkdir): (tfvars: string) => Promise<string> {
  const plans = new Map<string, Promise<string>>();
  return (tfvars) => {
    const known = plans.get(tfvars);
    if (known) return known;
    const plan = (async () => {
      const copy = await base().clone();
      try {
        await copy.write("terraform.tfvars", tfvars);
        return await copy.planJson();
      } finally {
        await copy.remove();
      }
    })();
    plans.set(tfvars, plan);
    return plan;
  };
}
