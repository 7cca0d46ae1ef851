/**
 * Runs one job of a workflow file the way a GitHub runner does, on this machine: each `run:`
 * step's script in `bash --noprofile --norc -eo pipefail` (GitHub's `shell: bash`), with `if:`
 * conditions, `env:` and `working-directory:` evaluated, GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH
 * honoured, and step outcomes kept for later expressions. `uses:` steps are handed to the test.
 * A run can be cancelled once a given step is done, as a cancel that lands between two steps:
 * `cancelled()` is then true, `success()` false, and `job.status` is `cancelled`.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { evaluateCondition, interpolate, type Scope, type Value } from "./expressions.ts";

const run = promisify(execFile);

export interface WorkflowStep {
  id?: string;
  name?: string;
  if?: string | boolean;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string | number | boolean>;
  "working-directory"?: string;
  "continue-on-error"?: boolean;
}

export interface WorkflowJob {
  if?: string;
  env?: Record<string, string | number | boolean>;
  steps: WorkflowStep[];
  defaults?: { run?: { shell?: string; "working-directory"?: string } };
}

export interface Workflow {
  on: Record<string, unknown>;
  defaults?: { run?: { shell?: string } };
  jobs: Record<string, WorkflowJob>;
}

export type Outcome = "success" | "failure" | "skipped";

export interface StepResult {
  name: string;
  id: string | undefined;
  outcome: Outcome;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  env: Record<string, string>;
}

export interface JobRun {
  /** Whether the job's own `if:` let it run. */
  ran: boolean;
  status: "success" | "failure" | "cancelled";
  steps: StepResult[];
  step(idOrName: string): StepResult;
}

export interface RunJobOptions {
  workflow: Workflow;
  job: string;
  inputs: Record<string, Value>;
  secrets: Record<string, string>;
  github: Record<string, Value>;
  workspace: string;
  runnerTemp: string;
  /** The environment every step starts from (PATH with the test's stubs first, HOME…). */
  baseEnv: Record<string, string>;
  /** What a `uses:` step does; the outcome it returns is the step's. */
  uses(step: WorkflowStep): Promise<Outcome>;
  /** The id of the step after which the run is cancelled, as by the Cancel button. */
  cancelAfter?: string;
}

/** Runs the job's steps in order and returns each step's outcome, output and outputs. */
export async function runJob(options: RunJobOptions): Promise<JobRun> {
  const job = options.workflow.jobs[options.job];
  if (!job) throw new Error(`no job ${options.job}`);
  const results: StepResult[] = [];
  const stepsContext: Record<string, Value> = {};
  const addedEnv: Record<string, string> = {};
  const addedPath: string[] = [];
  let failed = false;
  let cancelled = false;
  const status = () => (cancelled ? "cancelled" : failed ? "failure" : "success");

  const scope = (): Scope => ({
    contexts: {
      github: options.github,
      inputs: options.inputs,
      secrets: options.secrets,
      steps: stepsContext,
      job: { status: status() },
      env: {},
      runner: { temp: options.runnerTemp, os: "Linux" },
    },
    functions: {
      success: () => !failed && !cancelled,
      failure: () => failed,
      always: () => true,
      cancelled: () => cancelled,
    },
  });

  const jobRuns = job.if === undefined || evaluateCondition(job.if, scope());
  const finish = (): JobRun => ({
    ran: jobRuns,
    status: status(),
    steps: results,
    step(key) {
      const found = results.find((result) => result.id === key || result.name === key);
      if (!found) throw new Error(`no step ${key} in job ${options.job}`);
      return found;
    },
  });
  if (!jobRuns) return finish();

  const jobEnv = evaluateEnv(job.env, scope());
  for (const [index, step] of job.steps.entries()) {
    const name = step.name ?? step.uses ?? `step ${index + 1}`;
    let result: StepResult;
    if (!evaluateCondition(step.if, scope())) {
      result = {
        name,
        id: step.id,
        outcome: "skipped",
        stdout: "",
        stderr: "",
        outputs: {},
        env: {},
      };
    } else if (step.uses !== undefined) {
      const outcome = await options.uses(step);
      result = { name, id: step.id, outcome, stdout: "", stderr: "", outputs: {}, env: {} };
    } else {
      const stepEnv = evaluateEnv(step.env, scope());
      result = await runScript(
        options,
        job,
        step,
        name,
        index,
        {
          ...options.baseEnv,
          ...jobEnv,
          ...addedEnv,
          ...stepEnv,
          PATH: [...addedPath.slice().reverse(), options.baseEnv.PATH ?? ""].join(":"),
        },
        scope(),
      );
      Object.assign(addedEnv, result.env);
      addedPath.push(...(await readLines(join(options.runnerTemp, `path-${index}`))));
    }
    if (result.outcome === "failure" && !step["continue-on-error"]) failed = true;
    if (step.id !== undefined) {
      stepsContext[step.id] = {
        outcome: result.outcome,
        conclusion: result.outcome,
        outputs: result.outputs,
      };
    }
    results.push(result);
    if (options.cancelAfter !== undefined && step.id === options.cancelAfter) cancelled = true;
  }
  return finish();
}

function evaluateEnv(
  env: Record<string, string | number | boolean> | undefined,
  scope: Scope,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env ?? {}))
    out[key] = interpolate(String(value), scope);
  return out;
}

async function runScript(
  options: RunJobOptions,
  job: WorkflowJob,
  step: WorkflowStep,
  name: string,
  index: number,
  env: Record<string, string>,
  scope: Scope,
): Promise<StepResult> {
  const shell = job.defaults?.run?.shell ?? options.workflow.defaults?.run?.shell;
  if (shell !== "bash") throw new Error(`the runner only knows shell: bash, not ${shell}`);
  const files = {
    script: join(options.runnerTemp, `step-${index}.sh`),
    output: join(options.runnerTemp, `output-${index}`),
    env: join(options.runnerTemp, `env-${index}`),
    path: join(options.runnerTemp, `path-${index}`),
  };
  await writeFile(files.script, step.run ?? "");
  for (const file of [files.output, files.env, files.path]) await writeFile(file, "");
  const directory = step["working-directory"];
  const cwd =
    directory === undefined
      ? options.workspace
      : join(options.workspace, interpolate(directory, scope));
  await mkdir(cwd, { recursive: true });
  let stdout = "";
  let stderr = "";
  let outcome: Outcome = "success";
  try {
    const done = await run("bash", ["--noprofile", "--norc", "-eo", "pipefail", files.script], {
      cwd,
      env: {
        ...env,
        GITHUB_OUTPUT: files.output,
        GITHUB_ENV: files.env,
        GITHUB_PATH: files.path,
        RUNNER_TEMP: options.runnerTemp,
        GITHUB_WORKSPACE: options.workspace,
      },
      maxBuffer: 16 * 1024 * 1024,
    });
    stdout = done.stdout;
    stderr = done.stderr;
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string };
    stdout = failure.stdout ?? "";
    stderr = failure.stderr ?? "";
    outcome = "failure";
  }
  return {
    name,
    id: step.id,
    outcome,
    stdout,
    stderr,
    outputs: keyValues(await readLines(files.output)),
    env: keyValues(await readLines(files.env)),
  };
}

async function readLines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, "utf8")).split("\n").filter((line) => line !== "");
  } catch {
    return [];
  }
}

/** `name=value` lines (the single-line form of GITHUB_OUTPUT and GITHUB_ENV). */
function keyValues(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf("=");
    if (at <= 0) throw new Error(`not a name=value line: ${JSON.stringify(line)}`);
    out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}
