import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Octokit } from "@octokit/rest";
import {
  prepareApplyReport,
  preparePlanReport,
  type ReportResult,
  reportApply,
  reportApplyStarted,
  reportPlan,
} from "../apply/report.ts";
import {
  APPLY_FAILED_STEPS,
  APPLY_STATUS_CONTEXT,
  type ApplyFailedStep,
  type ApplyReportInput,
  applyInputProblem,
  applyStartedStatus,
} from "../apply/report-apply.ts";
import { type DrainStop, parseDrainStop } from "../apply/report-drain.ts";
import { createReportGitHub, ReportError, type ReportGitHub } from "../apply/report-github.ts";
import { PLAN_FAILED_STEPS, PLAN_STATUS_CONTEXT, type PlanOutcome } from "../apply/report-plan.ts";
import {
  type GuardVerdict,
  parseGuardVerdict,
  verdictStepOutputs,
} from "../apply/report-verdict.ts";
import type { CommitStatus } from "../apply/report-vms.ts";
import { parseWaitStop, type WaitStop } from "../apply/report-wait.ts";
import { type ExitCode, formatLocated, InputError, UsageError } from "../errors.ts";
import { fileReadError } from "../util/read-failure.ts";
import { parseArgsUsageError } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";

const OPTIONS = {
  pr: { type: "string" },
  sha: { type: "string" },
  verdict: { type: "string" },
  "failed-step": { type: "string" },
  result: { type: "string" },
  uncordon: { type: "string" },
  "drain-result": { type: "string" },
  "wait-result": { type: "string", multiple: true },
  pool: { type: "string" },
  context: { type: "string" },
  details: { type: "string" },
  "run-url": { type: "string" },
  repo: { type: "string" },
  "api-url": { type: "string" },
  "dry-run": { type: "boolean" },
  cancelled: { type: "boolean" },
} as const;

type Flags = Partial<
  Record<Exclude<keyof typeof OPTIONS, "dry-run" | "cancelled" | "wait-result">, string>
> & {
  "dry-run"?: boolean;
  cancelled?: boolean;
  "wait-result"?: string[];
};

const MODES = ["plan", "apply", "outputs"] as const;
type Mode = (typeof MODES)[number];

/** Requests to GitHub give up after this long, so a hung connection cannot hold the job. */
const REQUEST_TIMEOUT_MS = 30_000;

const USAGE = `Usage: pr-autoscaler report plan --pr N (--verdict FILE | --failed-step STEP) [--sha SHA] [options]
       pr-autoscaler report apply --sha SHA --result started|ok|failed [--verdict FILE]
                                  [--failed-step STEP] [--cancelled] [--uncordon ok|failed]
                                  [--drain-result FILE] [--wait-result FILE]... [--pr N]
                                  [options]
       pr-autoscaler report outputs --verdict FILE

Tells GitHub what the plan guard and the apply found, for the workflow that runs them: one
comment on the pull request (found again by a hidden marker and updated, never repeated) and a
commit status that branch protection or a merge policy can require.

plan: the guard's check of a pull request's plan
  --pr N                 the pull request
  --sha SHA              the commit to set the status on (default: the pull request's head)
  --verdict FILE         the guard's verdict (pr-autoscaler guard --json > FILE)
  --failed-step STEP     instead of a verdict, the step that failed: ${PLAN_FAILED_STEPS.join(", ")}
  --context NAME         the status context (default ${PLAN_STATUS_CONTEXT})

apply: the result of applying a merged commit
  --sha SHA              the merged commit
  --result R             started (a pending status only), ok or failed
  --verdict FILE         the guard's verdict on the merged commit's plan, when it gave one
  --failed-step STEP     with --result failed: ${APPLY_FAILED_STEPS.join(", ")}
  --cancelled            with --result failed: the run was cancelled; a step before the drain
                         is reported as cancelled, not as failed, and the guard with a
                         verdict that passed as a cancel before the drain began
  --uncordon ok|failed   with --failed-step apply: how uncordoning the drained nodes went
  --drain-result FILE    with --failed-step drain: the drain's result (pr-autoscaler drain
                         --result-file FILE, or --json > FILE); one that says it was cancelled
                         and uncordoned every node it had cordoned is reported as such, else
                         the nodes may be cordoned
  --wait-result FILE     with --failed-step nodes or delete-nodes: a wait's result
                         (pr-autoscaler wait-nodes --result-file FILE), one a pool
                         (repeatable); the status says what the failed waits lacked
  --pr N                 the pull request to comment on (default: the merged pull request of SHA)
  --context NAME         the status context (default ${APPLY_STATUS_CONTEXT})

outputs: prints the passing verdict as GitHub step outputs for the apply job:
  drain-nodes=NODE…  (the nodes to drain first), worker-count=N (the pool size to wait for),
  worker-added=K (the VMs the plan creates, that must be among the Ready nodes), and over
  several pools pool-counts=NAME=N…, pool-added=NAME=K… and pool-drain-nodes=NAME=NODE,…;
  drain-emptydir-nodes=NODE… (those of drain-nodes whose pool sets
  scaleDown.deleteEmptyDirData in the repo config: the drain deletes their emptyDir data)

Common options:
  --pool NAME            the pool, named in the comment (one comment per pool)
  --details FILE         log of the job's own tools; its end is quoted in a collapsed block
  --run-url URL          the workflow run (default: from GITHUB_SERVER_URL, GITHUB_REPOSITORY
                         and GITHUB_RUN_ID)
  --repo OWNER/NAME      the repository (default: GITHUB_REPOSITORY)
  --api-url URL          GitHub's REST API (default: GITHUB_API_URL, else https://api.github.com)
  --dry-run              print the comment and the status instead of sending them

With NOTIFY_WEBHOOK_URL set (a Slack-compatible incoming webhook, e.g. from a secret), report
apply also tells that chat in one line that the change was applied or that applying it failed;
a failed delivery is printed and does not fail the report.

The token comes from the environment variable GITHUB_TOKEN, never from a flag. A flag given an
empty value counts as not given, so a workflow can pass expressions that may be empty. Values of
secret-looking environment variables and secret-shaped strings are removed from everything sent.

Exit codes: 0 reported, 1 GitHub refused the report or could not be reached, 2 usage or bad input.
`;

/** `pr-autoscaler report`: the apply workflow's pull request comments and commit statuses. */
export const reportCommand: Command = {
  name: "report",
  usage: USAGE,
  run: runReport,
};

async function runReport(args: string[], io: CliIo): Promise<ExitCode> {
  const { mode, flags } = parseFlags(args);
  try {
    if (mode === "outputs") return await runOutputs(flags, io);
    if (mode === "plan") return await runPlan(flags, io);
    return await runApply(flags, io);
  } catch (error) {
    if (!(error instanceof ReportError)) throw error;
    io.stderr(`pr-autoscaler report ${mode}: ${error.message}\n`);
    return 1;
  }
}

function parseFlags(args: string[]): { mode: Mode; flags: Flags } {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw parseArgsUsageError(error, OPTIONS, false);
  }
  const [mode, ...extra] = parsed.positionals;
  if (mode === undefined || !(MODES as readonly string[]).includes(mode)) {
    throw new UsageError(
      `expected a mode, ${MODES.join(", ")}${mode === undefined ? "" : `; got ${JSON.stringify(mode)}`}`,
    );
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  // Empty values count as absent: workflows pass expressions that are often empty.
  const flags: Flags = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    const given = Array.isArray(value) ? value.filter((one) => one !== "") : value;
    if (given === "" || given === undefined) continue;
    if (Array.isArray(given) && given.length === 0) continue;
    (flags as Record<string, unknown>)[name] = given;
  }
  return { mode: mode as Mode, flags };
}

async function runOutputs(flags: Flags, io: CliIo): Promise<ExitCode> {
  allowOnly(flags, ["verdict"], "outputs");
  if (flags.verdict === undefined) throw new UsageError("outputs needs --verdict FILE");
  const verdict = await readVerdict(flags.verdict, io);
  io.stdout(verdictStepOutputs(verdict, flags.verdict));
  return 0;
}

async function runPlan(flags: Flags, io: CliIo): Promise<ExitCode> {
  allowOnly(
    flags,
    [
      "pr",
      "sha",
      "verdict",
      "failed-step",
      "pool",
      "context",
      "details",
      "run-url",
      "repo",
      "api-url",
      "dry-run",
    ],
    "plan",
  );
  const pr = pullRequestNumber(flags.pr, "plan needs --pr N");
  const outcome = await planOutcome(flags, io);
  const common = await commonInput(flags, io);
  const input = (sha: string) => ({
    ...common,
    sha,
    outcome,
    context: flags.context ?? PLAN_STATUS_CONTEXT,
  });
  if (flags["dry-run"]) {
    if (flags.sha === undefined)
      throw new UsageError("--dry-run needs --sha: it asks GitHub nothing");
    const report = preparePlanReport(input(commitSha(flags.sha)), io.env);
    printDryRun(io, `pull request #${pr}`, report.body, report.status, flags.sha);
    return 0;
  }
  const github = gitHubFromEnv(flags, io);
  const sha = flags.sha === undefined ? await github.pullRequestHead(pr) : commitSha(flags.sha);
  printResult(io, "plan", await reportPlan(github, pr, input(sha), io.env));
  return 0;
}

async function planOutcome(flags: Flags, io: CliIo): Promise<PlanOutcome> {
  const step = flags["failed-step"];
  if (step !== undefined && flags.verdict !== undefined) {
    throw new UsageError(
      "give --verdict or --failed-step, not both: a failed step left no verdict",
    );
  }
  if (step !== undefined)
    return { kind: "failed", step: oneOf(step, PLAN_FAILED_STEPS, "--failed-step") };
  if (flags.verdict === undefined)
    throw new UsageError("plan needs --verdict FILE or --failed-step STEP");
  return { kind: "checked", verdict: await readVerdict(flags.verdict, io) };
}

async function runApply(flags: Flags, io: CliIo): Promise<ExitCode> {
  allowOnly(
    flags,
    [
      "sha",
      "result",
      "verdict",
      "failed-step",
      "cancelled",
      "uncordon",
      "drain-result",
      "wait-result",
      "pr",
      "pool",
      "context",
      "details",
      "run-url",
      "repo",
      "api-url",
      "dry-run",
    ],
    "apply",
  );
  if (flags.sha === undefined) throw new UsageError("apply needs --sha SHA: the merged commit");
  const sha = commitSha(flags.sha);
  const result = oneOf(flags.result ?? "", ["started", "ok", "failed"] as const, "--result");
  const context = flags.context ?? APPLY_STATUS_CONTEXT;
  const pr = flags.pr === undefined ? undefined : pullRequestNumber(flags.pr, "");
  if (result === "started") return runApplyStarted(flags, io, sha, context);
  const input = await applyInput(flags, io, sha, result, context);
  if (flags["dry-run"]) {
    const report = prepareApplyReport(input, io.env);
    const target = pr === undefined ? `the merged pull request of ${sha.slice(0, 12)}` : `#${pr}`;
    printDryRun(io, target, report.body, report.status, sha);
    return 0;
  }
  printResult(io, "apply", await reportApply(gitHubFromEnv(flags, io), pr, input, io.env));
  return 0;
}

async function runApplyStarted(
  flags: Flags,
  io: CliIo,
  sha: string,
  context: string,
): Promise<ExitCode> {
  const extra = (
    [
      "verdict",
      "failed-step",
      "cancelled",
      "uncordon",
      "drain-result",
      "wait-result",
      "details",
      "pr",
    ] as const
  ).find((name) => flags[name] !== undefined);
  if (extra) throw new UsageError(`--${extra} does not go with --result started`);
  const runUrl = runUrlOf(flags, io);
  if (flags["dry-run"]) {
    io.stdout(statusText(applyStartedStatus(context, runUrl), sha));
    return 0;
  }
  printResult(
    io,
    "apply",
    await reportApplyStarted(gitHubFromEnv(flags, io), sha, context, runUrl),
  );
  return 0;
}

async function applyInput(
  flags: Flags,
  io: CliIo,
  sha: string,
  result: "ok" | "failed",
  context: string,
): Promise<ApplyReportInput> {
  const failedStep: ApplyFailedStep | undefined =
    flags["failed-step"] === undefined
      ? undefined
      : oneOf(flags["failed-step"], APPLY_FAILED_STEPS, "--failed-step");
  const uncordon =
    flags.uncordon === undefined
      ? undefined
      : oneOf(flags.uncordon, ["ok", "failed"] as const, "--uncordon");
  const verdict: GuardVerdict | undefined =
    flags.verdict === undefined ? undefined : await readVerdict(flags.verdict, io);
  const drain: DrainStop | undefined =
    flags["drain-result"] === undefined
      ? undefined
      : await readDrainStop(flags["drain-result"], io);
  const waits: WaitStop[] = [];
  for (const file of flags["wait-result"] ?? []) {
    const wait = await readWaitStop(file, io);
    if (wait !== undefined) waits.push(wait);
  }
  const input: ApplyReportInput = {
    ...(await commonInput(flags, io)),
    sha,
    result,
    verdict,
    failedStep,
    ...(flags.cancelled ? { cancelled: true } : {}),
    uncordon,
    drain,
    ...(flags["wait-result"] !== undefined ? { waits } : {}),
    context,
  };
  const problem = applyInputProblem(input);
  if (problem !== undefined) throw new UsageError(problem);
  return input;
}

/** The pool, run link and log that both reports carry. */
async function commonInput(flags: Flags, io: CliIo) {
  return {
    pool: flags.pool,
    runUrl: runUrlOf(flags, io),
    log: flags.details === undefined ? undefined : await readText(flags.details, io),
  };
}

function allowOnly(flags: Flags, allowed: string[], mode: Mode): void {
  const extra = Object.keys(flags).find((name) => !allowed.includes(name));
  if (extra !== undefined) throw new UsageError(`--${extra} does not go with report ${mode}`);
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(
    `${flag} expects one of ${allowed.join(", ")}${value === "" ? "" : `, got ${JSON.stringify(value)}`}`,
  );
}

function pullRequestNumber(value: string | undefined, missing: string): number {
  if (value === undefined) throw new UsageError(missing);
  if (!/^[1-9]\d{0,9}$/.test(value)) {
    throw new UsageError(`--pr expects a pull request number, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function commitSha(value: string): string {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(value)) {
    throw new UsageError(
      `--sha expects a full commit SHA (40 hex digits), got ${JSON.stringify(value)}`,
    );
  }
  return value.toLowerCase();
}

function runUrlOf(flags: Flags, io: CliIo): string | undefined {
  const given = flags["run-url"];
  if (given !== undefined) return httpUrl(given, "--run-url");
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = io.env;
  if (!server || !repo || !run) return undefined;
  return httpUrl(`${server}/${repo}/actions/runs/${run}`, "GITHUB_SERVER_URL");
}

function httpUrl(value: string, source: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${source} is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UsageError(`${source} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return url.href;
}

function gitHubFromEnv(flags: Flags, io: CliIo): ReportGitHub {
  const token = io.env.GITHUB_TOKEN;
  if (!token) {
    throw new UsageError(
      "GITHUB_TOKEN is not set: give the step the workflow's token as the environment variable GITHUB_TOKEN",
    );
  }
  const repoName = flags.repo ?? io.env.GITHUB_REPOSITORY;
  if (!repoName)
    throw new UsageError("name the repository: --repo OWNER/NAME or GITHUB_REPOSITORY");
  const match = /^([\w.-]+)\/([\w.-]+)$/.exec(repoName);
  if (!match?.[1] || !match[2]) {
    throw new UsageError(`the repository must be OWNER/NAME, got ${JSON.stringify(repoName)}`);
  }
  const apiUrl = httpUrl(
    flags["api-url"] ?? io.env.GITHUB_API_URL ?? "https://api.github.com",
    flags["api-url"] !== undefined ? "--api-url" : "GITHUB_API_URL",
  ).replace(/\/$/, "");
  const quiet = () => {};
  const octokit = new Octokit({
    auth: token,
    baseUrl: apiUrl,
    userAgent: "pr-autoscaler-report",
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    request: { fetch: fetchWithTimeout },
  });
  return createReportGitHub(octokit, { owner: match[1], repo: match[2] });
}

/** The global fetch (looked up per call), each request bounded in time. */
function fetchWithTimeout(url: string | URL | Request, init?: RequestInit): Promise<Response> {
  return globalThis.fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
}

async function readVerdict(file: string, io: CliIo): Promise<GuardVerdict> {
  return parseGuardVerdict(await readText(file, io), file);
}

/**
 * The drain's result, or undefined when it cannot be read (a drain killed while writing it): the
 * report is still posted, saying the nodes may be cordoned, with a warning naming the file.
 */
async function readDrainStop(file: string, io: CliIo): Promise<DrainStop | undefined> {
  try {
    return parseDrainStop(await readText(file, io), file);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const reason = formatLocated(error.message, error.location);
    io.stderr(
      `warning: ${sentence(reason)} It is reported as a drain that may have left nodes cordoned.\n`,
    );
    return undefined;
  }
}

/**
 * A wait's result, or undefined when it cannot be read: the report is still posted, without
 * what that wait lacked, with a warning naming the file.
 */
async function readWaitStop(file: string, io: CliIo): Promise<WaitStop | undefined> {
  try {
    return parseWaitStop(await readText(file, io), file);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const reason = formatLocated(error.message, error.location);
    io.stderr(`warning: ${sentence(reason)} The report does not say what that wait lacked.\n`);
    return undefined;
  }
}

/** `reason` ended as a sentence, for a warning that goes on after it. */
function sentence(reason: string): string {
  return /[.!?]$/.test(reason) ? reason : `${reason}.`;
}

async function readText(file: string, io: CliIo): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, file), "utf8");
  } catch (error) {
    throw fileReadError(file, error);
  }
}

function printResult(io: CliIo, mode: Mode, result: ReportResult): void {
  for (const comment of result.comments) {
    io.stdout(
      `report ${mode}: ${comment.action} comment ${comment.id} on #${comment.pr} (${comment.url})\n`,
    );
  }
  const { status } = result;
  io.stdout(
    `report ${mode}: set status ${status.context} = ${status.state} on ${status.sha.slice(0, 12)}\n`,
  );
  if (result.note !== undefined) io.stdout(`report ${mode}: ${result.note}\n`);
  if (result.notification !== undefined) io.stdout(`report ${mode}: ${result.notification}\n`);
}

function printDryRun(io: CliIo, target: string, body: string, status: CommitStatus, sha: string) {
  io.stdout(`--- comment on ${target} ---\n${body}\n--- end of comment ---\n`);
  io.stdout(statusText(status, sha));
}

function statusText(status: CommitStatus, sha: string): string {
  return `status ${status.context} = ${status.state} on ${sha.slice(0, 12)}: ${status.description}\n`;
}
