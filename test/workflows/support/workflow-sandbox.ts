/**
 * A machine for running the apply workflow's jobs in tests: a workspace with the example infra
 * repo as a git repository (a commit before and after a worker_count change), a checkout of
 * pr-autoscaler whose CLI is the real one (see cli-entry.ts), and stand-ins for the tools that
 * would reach real systems (terraform, kubectl, npm, ssh-agent), each recording its calls.
 *
 * The infra checkout's `origin` is a bare repository standing for GitHub's copy, whose `main`
 * is where the branch is when a push job runs: the test says so (`branchTip`), or it follows
 * the push events the test runs, as GitHub's branch would (see `branchAfterPush`).
 */
import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "yaml";
import { interpolate, type Value } from "./expressions.ts";
import { type JobRun, runJob, type Workflow, type WorkflowStep } from "./workflow-runner.ts";

const exec = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const example = join(repoRoot, "examples/talos-proxmox");

export const APPLY_WORKFLOW = join(repoRoot, ".github/workflows/apply.yml");
export const EXAMPLE_CALLER = join(example, ".github/workflows/terraform.yml");

/** The infra repo's secrets, as the example caller reads them. */
export const REPO_SECRETS = {
  PROXMOX_API_TOKEN: "terraform@pve!apply=11111111-2222-3333-4444-555555555555",
  PROXMOX_PLAN_API_TOKEN: "terraform@pve!plan=66666666-7777-8888-9999-000000000000",
  PROXMOX_SSH_PRIVATE_KEY:
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----",
  PR_AUTOSCALER_DRAIN_KUBECONFIG: "apiVersion: v1\nkind: Config\ncurrent-context: drain\n",
  TERRAFORM_BACKEND_CONFIG: 'conn_str = "postgres://state@db.home.arpa/terraform"',
};

export interface Call {
  tool: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface Sandbox {
  root: string;
  workspace: string;
  runnerTemp: string;
  baseSha: string;
  headSha: string;
  calls(): Promise<Call[]>;
  runJob(job: "plan" | "apply", options: RunOptions): Promise<JobRun>;
}

export interface RunOptions {
  event: Record<string, Value>;
  secrets?: Record<string, string>;
  env?: Record<string, string>;
  /**
   * Where `main` is on GitHub while a push job runs (the job fetches it). Without it the branch
   * follows the push events run so far (see `branchAfterPush`).
   */
  branchTip?: string;
  /** The id of the step after which the run is cancelled (see `runJob`). */
  cancelAfter?: string;
}

export interface SandboxOptions {
  /** worker_count in the example's terraform.tfvars before the change (the base) and after it. */
  before?: number;
  after?: number;
  /** Instead of before/after: the whole tfvars file at the base and at the head. */
  tfvars?: { before: string; after: string };
  /** The guard config instead of the example's. */
  guardConfig?: string;
  /** The repo config (.github/pr-autoscaler.yml); without it the infra repo has none. */
  repoConfig?: string;
  /** Inputs that replace the example caller's, e.g. `{ pool: "" }` to guard every pool. */
  inputs?: Record<string, Value>;
  /** The `terraform show -json` the terraform stand-in prints. */
  planJson: string;
}

/** Builds the workspace, the stand-ins and the runner's temporary directory. */
export async function createSandbox(options: SandboxOptions): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), "pr-autoscaler-workflow-"));
  const workspace = join(root, "workspace");
  const runnerTemp = join(root, "runner-temp");
  const stubs = join(root, "stubs");
  const callsFile = join(root, "calls.jsonl");
  for (const dir of [workspace, runnerTemp, stubs, join(root, "home")])
    await mkdir(dir, { recursive: true });
  await writeFile(callsFile, "");
  await writeFile(join(root, "plan.json"), options.planJson);
  const infra = join(workspace, "infra");
  const { baseSha, headSha } = await createInfraRepo(infra, options, root);
  const origin = join(root, "origin.git");
  const home = join(root, "home");
  await git(root, ["init", "-q", "--bare", "-b", "main", origin], home);
  await git(infra, ["remote", "add", "origin", origin], home);
  await createToolCheckout(join(workspace, "pr-autoscaler"));
  await createStubs(stubs);

  const baseEnv = {
    PATH: [stubs, join(repoRoot, "node_modules/.bin"), "/usr/local/bin", "/usr/bin", "/bin"].join(
      ":",
    ),
    HOME: join(root, "home"),
    LANG: "C.UTF-8",
    STUB_CALLS: callsFile,
    STUB_DIR: stubs,
    STUB_PLAN_JSON: join(root, "plan.json"),
    GITHUB_SHA: headSha,
    GITHUB_REF: "refs/heads/main",
    GITHUB_REPOSITORY: "homelab/infra",
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_API_URL: "https://api.github.com",
    GITHUB_RUN_ID: "4242",
  };

  return {
    root,
    workspace,
    runnerTemp,
    baseSha,
    headSha,
    async calls() {
      const text = await readFile(callsFile, "utf8");
      return text
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Call);
    },
    async runJob(job, { event, secrets = REPO_SECRETS, env = {}, branchTip, cancelAfter }) {
      const workflow = parse(await readFile(APPLY_WORKFLOW, "utf8")) as Workflow;
      const caller = parse(await readFile(EXAMPLE_CALLER, "utf8")) as CallerWorkflow;
      const github = {
        ref: "refs/heads/main",
        ...event,
        repository: "homelab/infra",
        sha: headSha,
        token: "ghs_workflowtoken0123456789",
      };
      if (event.event_name === "push") {
        const after = env.GITHUB_SHA ?? headSha;
        const tip = branchTip ?? (await branchAfterPush(infra, origin, home, event, after));
        await git(infra, ["push", "-q", "--force", "origin", `${tip}:refs/heads/main`], home);
      }
      const call = Object.values(caller.jobs)[0];
      if (!call) throw new Error("the example caller has no job");
      return runJob({
        workflow,
        job,
        inputs: callerInputs(workflow, { ...call.with, ...options.inputs }),
        secrets: callerSecrets(call.secrets ?? {}, secrets, github),
        github,
        workspace,
        runnerTemp,
        baseEnv: { ...baseEnv, ...env },
        uses: async (step: WorkflowStep) => usesStep(step),
        ...(cancelAfter !== undefined ? { cancelAfter } : {}),
      });
    },
  };
}

interface CallerWorkflow {
  jobs: Record<string, { with?: Record<string, Value>; secrets?: Record<string, string> }>;
}

/** The called workflow's inputs: its defaults, overridden by what the caller passes. */
function callerInputs(workflow: Workflow, given: Record<string, Value>): Record<string, Value> {
  const declared = (workflow.on.workflow_call as { inputs: Record<string, { default?: Value }> })
    .inputs;
  const inputs: Record<string, Value> = {};
  for (const [name, spec] of Object.entries(declared)) inputs[name] = spec.default ?? "";
  return { ...inputs, ...given };
}

/** The called workflow's secrets: the caller's `secrets:` map evaluated against the repo's. */
function callerSecrets(
  mapping: Record<string, string>,
  repoSecrets: Record<string, string>,
  github: Record<string, Value>,
): Record<string, string> {
  const scope = { contexts: { secrets: repoSecrets, github }, functions: {} };
  return Object.fromEntries(
    Object.entries(mapping).map(([name, value]) => [name, interpolate(value, scope)]),
  );
}

/** The marketplace actions: the checkouts are prepared already, the set-ups have nothing to do. */
function usesStep(step: WorkflowStep): "success" {
  const action = (step.uses ?? "").split("@")[0];
  const known = ["actions/checkout", "actions/setup-node", "hashicorp/setup-terraform"];
  if (!known.includes(action ?? "")) throw new Error(`the sandbox cannot run ${step.uses}`);
  return "success";
}

async function git(cwd: string, args: string[], home: string): Promise<string> {
  const env = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    GIT_AUTHOR_NAME: "pr-autoscaler",
    GIT_AUTHOR_EMAIL: "bot@example.invalid",
    GIT_COMMITTER_NAME: "pr-autoscaler",
    GIT_COMMITTER_EMAIL: "bot@example.invalid",
  };
  return (await exec("git", args, { cwd, env })).stdout.trim();
}

/**
 * Where GitHub's `main` is when a push job from `before` to `after` runs, given where the last
 * push job left it: a push moves the branch from where it is (`before` is the tip, a
 * force-push included) or forward (`after` descends from the tip: pushes in between had their
 * runs cancelled). Any other event is a re-run of an older push: the branch stays.
 */
async function branchAfterPush(
  infra: string,
  origin: string,
  home: string,
  event: Record<string, Value>,
  after: string,
): Promise<string> {
  const before = (event.event as Record<string, Value> | undefined)?.before;
  let tip: string;
  try {
    tip = await git(origin, ["rev-parse", "-q", "--verify", "refs/heads/main"], home);
  } catch {
    return after;
  }
  if (before === tip) return after;
  try {
    await git(infra, ["merge-base", "--is-ancestor", tip, after], home);
    return after;
  } catch {
    return tip;
  }
}

/** The example infra repo with two commits: the tfvars before the change, then after it. */
async function createInfraRepo(dir: string, options: SandboxOptions, root: string) {
  const home = join(root, "home");
  await mkdir(join(dir, "terraform"), { recursive: true });
  await mkdir(join(dir, ".github"), { recursive: true });
  const guardFile = join(dir, ".github/pr-autoscaler-guard.yml");
  if (options.guardConfig === undefined) {
    await copyFile(join(example, ".github/pr-autoscaler-guard.yml"), guardFile);
  } else {
    await writeFile(guardFile, options.guardConfig);
  }
  if (options.repoConfig !== undefined) {
    await writeFile(join(dir, ".github/pr-autoscaler.yml"), options.repoConfig);
  }
  const { before, after } = options.tfvars ?? (await exampleTfvars(options));
  await git(dir, ["init", "-q", "-b", "main"], home);
  await writeFile(join(dir, "terraform/terraform.tfvars"), before);
  await git(dir, ["add", "-A"], home);
  await git(dir, ["commit", "-q", "-m", "base"], home);
  const baseSha = await git(dir, ["rev-parse", "HEAD"], home);
  await writeFile(join(dir, "terraform/terraform.tfvars"), after);
  await git(dir, ["commit", "-q", "--allow-empty", "-am", "scale"], home);
  const headSha = await git(dir, ["rev-parse", "HEAD"], home);
  return { baseSha, headSha };
}

/** The example's terraform.tfvars with worker_count = before, then = after. */
async function exampleTfvars(options: SandboxOptions): Promise<{ before: string; after: string }> {
  if (options.before === undefined || options.after === undefined) {
    throw new Error("give the sandbox before and after counts, or the tfvars texts");
  }
  const tfvars = await readFile(join(example, "terraform/terraform.tfvars"), "utf8");
  const line = /^(worker_count\s*=\s*)\d+/m;
  if (!line.test(tfvars)) throw new Error("the example tfvars has no worker_count line");
  const withCount = (count: number) => tfvars.replace(line, `$1${count}`);
  return { before: withCount(options.before), after: withCount(options.after) };
}

/** A pr-autoscaler checkout whose bin runs the real CLI through cli-entry.ts. */
async function createToolCheckout(dir: string): Promise<void> {
  await mkdir(join(dir, "bin"), { recursive: true });
  const entry = fileURLToPath(new URL("./cli-entry.ts", import.meta.url));
  await writeFile(join(dir, "bin/pr-autoscaler.js"), `await import(${JSON.stringify(entry)});\n`);
}

/** Records a call as a JSON line: the tool, its arguments, and the environment it was given. */
const RECORD = `import { appendFileSync } from "node:fs";
const [tool, ...args] = process.argv.slice(2);
const names = ["TF_VAR_proxmox_api_token", "PROXMOX_VE_API_TOKEN", "SSH_AUTH_SOCK", "KUBECONFIG", "GITHUB_TOKEN", "KUBECONFIG_CONTENT"];
const env = Object.fromEntries(names.filter((n) => process.env[n] !== undefined).map((n) => [n, process.env[n]]));
appendFileSync(process.env.STUB_CALLS, JSON.stringify({ tool, args, cwd: process.cwd(), env }) + "\\n");
`;

const STUBS: Record<string, string> = {
  npm: `node "$STUB_DIR/record.mjs" npm "$@"`,
  terraform: `node "$STUB_DIR/record.mjs" terraform "$@"
case "$1" in
  init) exit "\${STUB_TF_INIT_EXIT:-0}" ;;
  plan)
    for arg in "$@"; do case "$arg" in -out=*) echo "saved plan" > "\${arg#-out=}" ;; esac; done
    if [ "\${STUB_TF_PLAN_FAIL:-}" = 1 ]; then echo "Error: 401 authentication failure" >&2; exit 1; fi
    for arg in "$@"; do
      if [ "$arg" = -detailed-exitcode ]; then [ "\${STUB_TF_CHANGES:-true}" = true ] && exit 2; exit 0; fi
    done
    exit 0 ;;
  show) cat "$STUB_PLAN_JSON" ;;
  apply) exit "\${STUB_TF_APPLY_EXIT:-0}" ;;
  *) echo "terraform stand-in: unexpected $1" >&2; exit 3 ;;
esac`,
  kubectl: `node "$STUB_DIR/record.mjs" kubectl "$@"
exit "\${STUB_KUBECTL_EXIT:-0}"`,
  "ssh-agent": `node "$STUB_DIR/record.mjs" ssh-agent "$@"
if [ "$1" = -s ]; then
  echo "SSH_AUTH_SOCK=$RUNNER_TEMP/agent.sock; export SSH_AUTH_SOCK;"
  echo "SSH_AGENT_PID=4242; export SSH_AGENT_PID;"
  echo "echo Agent pid 4242;"
fi`,
  "ssh-add": `node "$STUB_DIR/record.mjs" ssh-add "$@"
cat > "$STUB_DIR/ssh-add.stdin"`,
};

async function createStubs(dir: string): Promise<void> {
  await writeFile(join(dir, "record.mjs"), RECORD);
  for (const [name, body] of Object.entries(STUBS)) {
    await writeFile(join(dir, name), `#!/bin/bash\nset -e\n${body}\n`);
    await chmod(join(dir, name), 0o755);
  }
}
