/**
 * Checks of GitHub workflow files that the JSON schema cannot make, in the spirit of actionlint:
 * references to inputs, secrets, step outputs and jobs exist; actions are pinned; permissions are
 * set; scripts parse; secrets stay in step env; and the workflow calls pr-autoscaler's commands
 * with flags and values those commands accept.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { embeddedExpressions, parseExpression } from "./expressions.ts";

type Json = Record<string, unknown>;

export interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Json;
  with?: Json;
  "working-directory"?: string;
}

export interface Job {
  name?: string;
  if?: string;
  needs?: string | string[];
  permissions?: unknown;
  env?: Json;
  steps?: Step[];
  uses?: string;
  with?: Json;
  secrets?: Json | "inherit";
}

export interface Workflow {
  on: Json;
  permissions?: unknown;
  jobs: Record<string, Job>;
}

/** The commands' contracts: the flags each accepts, and the values some flags take. */
export interface CommandContract {
  flags: string[];
  /** For `report`: the --failed-step values each mode accepts. */
  failedSteps?: Record<string, readonly string[]>;
  /** Step outputs the command writes when its output goes to $GITHUB_OUTPUT. */
  outputs?: readonly string[];
}

export interface LintOptions {
  /** pr-autoscaler commands by name. */
  commands: Record<string, CommandContract>;
  /** The reusable workflows a caller may use, by the path in its `uses:`. */
  reusable?: Record<string, Workflow>;
}

const KNOWN_FUNCTIONS = new Set([
  "success",
  "failure",
  "always",
  "cancelled",
  "contains",
  "startsWith",
  "endsWith",
  "format",
  "join",
  "toJSON",
  "fromJSON",
  "hashFiles",
]);
const STATUS_VALUES = new Set(["success", "failure", "cancelled", "skipped"]);

/** Parses a workflow file's text. */
export function parseWorkflow(text: string): Workflow {
  return parse(text) as Workflow;
}

/** Every problem found in the workflow `text`; an empty list when there is none. */
export function lintWorkflow(text: string, options: LintOptions): string[] {
  const workflow = parseWorkflow(text);
  return [
    ...checkPermissions(workflow),
    ...checkNeeds(workflow),
    ...checkPins(workflow, text),
    ...checkExpressions(workflow, options.commands),
    ...checkSecretsPlacement(workflow),
    ...checkScripts(workflow),
    ...checkCommands(workflow, options.commands),
    ...checkCalls(workflow, options.reusable ?? {}),
  ];
}

function jobs(workflow: Workflow): [string, Job][] {
  return Object.entries(workflow.jobs ?? {});
}

function checkPermissions(workflow: Workflow): string[] {
  if (workflow.permissions !== undefined) return [];
  return jobs(workflow)
    .filter(([, job]) => job.permissions === undefined)
    .map(
      ([id]) =>
        `jobs.${id}: no permissions, and none at the top: the token gets the repository's defaults`,
    );
}

function needsOf(job: Job): string[] {
  if (job.needs === undefined) return [];
  return Array.isArray(job.needs) ? job.needs : [job.needs];
}

function checkNeeds(workflow: Workflow): string[] {
  const problems: string[] = [];
  const ids = new Set(Object.keys(workflow.jobs ?? {}));
  for (const [id, job] of jobs(workflow)) {
    for (const need of needsOf(job)) {
      if (!ids.has(need)) problems.push(`jobs.${id}.needs: no job ${JSON.stringify(need)}`);
    }
  }
  // A cycle never starts.
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (id: string, path: string[]): void => {
    if (done.has(id)) return;
    if (visiting.has(id)) {
      problems.push(`jobs: needs form a cycle: ${[...path, id].join(" → ")}`);
      return;
    }
    visiting.add(id);
    for (const need of needsOf(workflow.jobs[id] ?? {}))
      if (ids.has(need)) visit(need, [...path, id]);
    visiting.delete(id);
    done.add(id);
  };
  for (const id of ids) visit(id, []);
  return problems;
}

const SHA = /^[0-9a-f]{40}$/;
const VERSION_TAG = /^v\d+\.\d+\.\d+$/;

/** Actions pinned to a commit with the version in a comment; reusable workflows to a commit or release. */
function checkPins(workflow: Workflow, text: string): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobs(workflow)) {
    if (job.uses !== undefined) {
      const ref = job.uses.split("@")[1] ?? "";
      if (!job.uses.startsWith("./") && !SHA.test(ref) && !VERSION_TAG.test(ref)) {
        problems.push(
          `jobs.${id}.uses: ${job.uses} is not pinned to a commit or a release tag vX.Y.Z`,
        );
      }
    }
    for (const [index, step] of (job.steps ?? []).entries()) {
      if (step.uses === undefined || step.uses.startsWith("./")) continue;
      const where = `jobs.${id}.steps[${index}]`;
      const ref = step.uses.split("@")[1] ?? "";
      if (!SHA.test(ref)) {
        problems.push(`${where}: ${step.uses} is not pinned to a full commit SHA`);
        continue;
      }
      const line = text.split("\n").find((l) => l.includes(`uses: ${step.uses}`));
      if (!line || !/#\s*v\d+\.\d+\.\d+\s*$/.test(line)) {
        problems.push(
          `${where}: ${step.uses} has no "# vX.Y.Z" comment saying which release the commit is`,
        );
      }
    }
  }
  return problems;
}

interface ExpressionSite {
  where: string;
  expression: string;
  job?: string;
  /** The step the expression belongs to (its index), for step references. */
  step?: number;
  /** `if:` conditions may not read secrets. */
  isCondition: boolean;
}

/** Every expression of the workflow with where it stands. */
function expressionSites(workflow: Workflow): ExpressionSite[] {
  const sites: ExpressionSite[] = [];
  const collect = (
    value: unknown,
    where: string,
    context: Omit<ExpressionSite, "where" | "expression" | "isCondition">,
  ) => {
    walkStrings(value, where, (text, path) => {
      for (const { expression } of embeddedExpressions(text)) {
        sites.push({ ...context, where: path, expression, isCondition: false });
      }
    });
  };
  for (const [id, job] of jobs(workflow)) {
    const { steps, if: condition, ...rest } = job;
    if (condition !== undefined)
      sites.push({
        where: `jobs.${id}.if`,
        expression: unwrap(condition),
        job: id,
        isCondition: true,
      });
    collect(rest, `jobs.${id}`, { job: id });
    for (const [index, step] of (steps ?? []).entries()) {
      const { if: stepCondition, ...stepRest } = step;
      const where = `jobs.${id}.steps[${index}]`;
      if (stepCondition !== undefined) {
        sites.push({
          where: `${where}.if`,
          expression: unwrap(String(stepCondition)),
          job: id,
          step: index,
          isCondition: true,
        });
      }
      collect(stepRest, where, { job: id, step: index });
    }
  }
  return sites;
}

function unwrap(condition: string): string {
  return /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(condition)?.[1]?.trim() ?? condition;
}

function walkStrings(
  value: unknown,
  path: string,
  visit: (text: string, path: string) => void,
): void {
  if (typeof value === "string") visit(value, path);
  else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) walkStrings(item, `${path}[${i}]`, visit);
  } else if (value !== null && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) walkStrings(inner, `${path}.${key}`, visit);
  }
}

/** Context references in an expression, string literals left out. */
function references(expression: string): { context: string; path: string[] }[] {
  const withoutStrings = expression.replace(/'(?:[^']|'')*'/g, "''");
  return [...withoutStrings.matchAll(/(?<![\w.-])([a-z_]+)((?:\.[A-Za-z0-9_*-]+)+)/g)].map(
    (match) => ({
      context: match[1] ?? "",
      path: (match[2] ?? "").slice(1).split("."),
    }),
  );
}

function checkExpressions(workflow: Workflow, commands: Record<string, CommandContract>): string[] {
  const problems: string[] = [];
  const call = (workflow.on?.workflow_call ?? null) as { inputs?: Json; secrets?: Json } | null;
  const dispatch = (workflow.on?.workflow_dispatch ?? null) as { inputs?: Json } | null;
  const inputs = new Set([
    ...Object.keys(call?.inputs ?? {}),
    ...Object.keys(dispatch?.inputs ?? {}),
  ]);
  const reusable = call !== null;
  const secrets = new Set(Object.keys(call?.secrets ?? {}));
  for (const site of expressionSites(workflow)) {
    try {
      parseExpression(site.expression);
    } catch (error) {
      problems.push(`${site.where}: ${(error as Error).message}`);
      continue;
    }
    for (const fn of site.expression
      .replace(/'(?:[^']|'')*'/g, "''")
      .matchAll(/([A-Za-z_]\w*)\s*\(/g)) {
      if (!KNOWN_FUNCTIONS.has(fn[1] ?? ""))
        problems.push(`${site.where}: unknown function ${fn[1]}()`);
    }
    for (const ref of references(site.expression)) {
      const name = ref.path[0] ?? "";
      if (ref.context === "inputs" && !inputs.has(name)) {
        problems.push(`${site.where}: inputs.${name} is not a declared input`);
      }
      if (ref.context === "secrets") {
        if (site.isCondition) problems.push(`${site.where}: an if: condition cannot read secrets`);
        if (reusable && name !== "GITHUB_TOKEN" && !secrets.has(name)) {
          problems.push(`${site.where}: secrets.${name} is not a declared secret of workflow_call`);
        }
      }
      if (ref.context === "steps") {
        problems.push(...checkStepReference(workflow, site, ref.path, commands));
      }
      if (ref.context === "needs" && site.job !== undefined) {
        const job = workflow.jobs[site.job];
        if (job && !needsOf(job).includes(name)) {
          problems.push(`${site.where}: needs.${name} is not in this job's needs`);
        }
      }
    }
  }
  return problems;
}

function checkStepReference(
  workflow: Workflow,
  site: ExpressionSite,
  path: string[],
  commands: Record<string, CommandContract>,
): string[] {
  const [id = "", kind, output] = path;
  const steps = site.job === undefined ? [] : (workflow.jobs[site.job]?.steps ?? []);
  const index = steps.findIndex((step) => step.id === id);
  if (site.step === undefined) return [`${site.where}: steps.${id} is read outside a step`];
  if (index < 0) return [`${site.where}: no step with id ${JSON.stringify(id)} in this job`];
  if (index >= site.step) return [`${site.where}: step ${JSON.stringify(id)} has not run yet here`];
  if (kind === "outcome" || kind === "conclusion") return [];
  if (kind !== "outputs" || output === undefined)
    return [`${site.where}: steps.${path.join(".")} is not a step property`];
  const written = outputsWritten(steps[index] ?? {}, commands);
  if (!written.includes(output)) {
    return [
      `${site.where}: step ${JSON.stringify(id)} writes no output ${JSON.stringify(output)} (it writes: ${written.join(", ") || "none"})`,
    ];
  }
  return [];
}

/**
 * Output names a run step writes: `echo "name=…" >> "$GITHUB_OUTPUT"`, or a pr-autoscaler
 * command whose output goes to $GITHUB_OUTPUT.
 */
export function outputsWritten(step: Step, commands: Record<string, CommandContract>): string[] {
  const script = step.run ?? "";
  const names = new Set<string>();
  for (const line of script.split("\n")) {
    if (!line.includes("GITHUB_OUTPUT")) continue;
    for (const match of line.matchAll(/echo\s+"?([A-Za-z_][\w-]*)=/g)) names.add(match[1] ?? "");
    const command = /pr-autoscaler\s+([a-z-]+)/.exec(line)?.[1];
    for (const name of (command && commands[command]?.outputs) || []) names.add(name);
  }
  return [...names];
}

/** Secrets only in a step's env (or a reusable call's secrets), where one step alone sees them. */
function checkSecretsPlacement(workflow: Workflow): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobs(workflow)) {
    walkStrings(job.env ?? {}, `jobs.${id}.env`, (text, path) => {
      if (/secrets\./.test(text))
        problems.push(
          `${path}: a secret in the job's env reaches every step; put it in the step's env`,
        );
    });
    for (const [index, step] of (job.steps ?? []).entries()) {
      const { env: _env, ...rest } = step;
      walkStrings(rest, `jobs.${id}.steps[${index}]`, (text, path) => {
        if (/secrets\./.test(text)) problems.push(`${path}: a secret outside the step's env`);
      });
    }
  }
  return problems;
}

/** Scripts take values through env (no `${{ }}` inside, which would be script injection) and parse. */
function checkScripts(workflow: Workflow): string[] {
  const problems: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "workflow-lint-"));
  try {
    for (const [id, job] of jobs(workflow)) {
      for (const [index, step] of (job.steps ?? []).entries()) {
        if (step.run === undefined) continue;
        const where = `jobs.${id}.steps[${index}].run`;
        if (step.run.includes("${{")) {
          problems.push(`${where}: an expression inside the script; pass the value through env`);
        }
        const file = join(dir, `${id}-${index}.sh`);
        writeFileSync(file, step.run.replace(/\$\{\{[\s\S]*?\}\}/g, "PLACEHOLDER"));
        try {
          execFileSync("bash", ["-n", file], { stdio: "pipe" });
        } catch (error) {
          const stderr = String((error as { stderr?: Buffer }).stderr ?? "").replaceAll(
            file,
            "script",
          );
          problems.push(`${where}: bash -n: ${stderr.trim()}`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}

/** One `pr-autoscaler …` command line of a script, continuation lines joined. */
function commandLines(script: string): string[][] {
  const joined = script.replace(/\\\n\s*/g, " ");
  const lines: string[][] = [];
  for (const line of joined.split("\n")) {
    const at = line.search(/(^|[\s;|&(])pr-autoscaler\s/);
    if (at < 0) continue;
    const words = line.slice(at).trim().split(/\s+/);
    lines.push(words.slice(words.indexOf("pr-autoscaler")));
  }
  return lines;
}

function checkCommands(workflow: Workflow, commands: Record<string, CommandContract>): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobs(workflow)) {
    for (const [index, step] of (job.steps ?? []).entries()) {
      const where = `jobs.${id}.steps[${index}]`;
      for (const words of commandLines(step.run ?? "")) {
        const name = words[1] ?? "";
        if (name.startsWith("-")) continue;
        const contract = commands[name];
        if (!contract) {
          problems.push(`${where}: pr-autoscaler has no command ${JSON.stringify(name)}`);
          continue;
        }
        for (const word of words.slice(2)) {
          // A flag, or one passed only when a variable is set: ${new:+--added "$new"}.
          const flag = /^(?:\$\{\w+:\+)?(--[a-z][a-z-]*)/.exec(word)?.[1];
          if (flag && !contract.flags.includes(flag)) {
            problems.push(`${where}: pr-autoscaler ${name} has no flag ${flag}`);
          }
        }
        problems.push(...checkFailedSteps(step, words, contract, where));
      }
    }
  }
  return problems;
}

/** The step names a workflow passes to `report MODE --failed-step "$VAR"` are ones MODE accepts. */
function checkFailedSteps(
  step: Step,
  words: string[],
  contract: CommandContract,
  where: string,
): string[] {
  const mode = words[2] ?? "";
  const accepted = contract.failedSteps?.[mode];
  const at = words.indexOf("--failed-step");
  if (!accepted || at < 0) return [];
  const variable = /^"?\$\{?([A-Z_]+)\}?"?$/.exec(words[at + 1] ?? "")?.[1];
  const source = variable === undefined ? undefined : step.env?.[variable];
  if (typeof source !== "string")
    return [`${where}: --failed-step should come from a step env variable`];
  const values = [...source.matchAll(/&&\s*'([^']*)'\s*\)/g)].map((match) => match[1] ?? "");
  return values
    .filter((value) => !STATUS_VALUES.has(value) && !accepted.includes(value))
    .map(
      (value) => `${where}: report ${mode} --failed-step does not accept ${JSON.stringify(value)}`,
    );
}

/** A caller's `uses:` of a reusable workflow passes what it declares, and pins the tool alike. */
function checkCalls(workflow: Workflow, reusable: Record<string, Workflow>): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobs(workflow)) {
    if (job.uses === undefined) continue;
    const [target = "", ref = ""] = job.uses.split("@");
    const path = target.split("/").slice(2).join("/");
    const called = reusable[path];
    if (!called) {
      problems.push(`jobs.${id}.uses: ${job.uses} is not a workflow this check knows`);
      continue;
    }
    const call = called.on.workflow_call as {
      inputs?: Record<string, { type: string; required?: boolean }>;
      secrets?: Record<string, { required: boolean }>;
    };
    const given = job.with ?? {};
    for (const [name, value] of Object.entries(given)) {
      const input = call.inputs?.[name];
      if (!input) problems.push(`jobs.${id}.with.${name}: not an input of ${path}`);
      else if (
        typeof value !== input.type &&
        !(typeof value === "string" && value.includes("${{"))
      ) {
        problems.push(`jobs.${id}.with.${name}: ${input.type} expected, got ${typeof value}`);
      }
    }
    for (const [name, input] of Object.entries(call.inputs ?? {})) {
      if (input.required && !(name in given))
        problems.push(`jobs.${id}.with: the required input ${name} is missing`);
    }
    if (job.secrets !== "inherit") {
      const secrets = job.secrets ?? {};
      for (const name of Object.keys(secrets)) {
        if (!call.secrets?.[name])
          problems.push(`jobs.${id}.secrets.${name}: not a secret of ${path}`);
      }
      for (const [name, secret] of Object.entries(call.secrets ?? {})) {
        if (secret.required && !(name in secrets))
          problems.push(`jobs.${id}.secrets: the required secret ${name} is missing`);
      }
    }
    const repository = target.split("/").slice(0, 2).join("/");
    if (given["pr-autoscaler-ref"] !== undefined && given["pr-autoscaler-ref"] !== ref) {
      problems.push(
        `jobs.${id}.with.pr-autoscaler-ref: ${String(given["pr-autoscaler-ref"])} differs from the uses: ref ${ref}`,
      );
    }
    if (
      given["pr-autoscaler-repository"] !== undefined &&
      given["pr-autoscaler-repository"] !== repository
    ) {
      problems.push(
        `jobs.${id}.with.pr-autoscaler-repository: ${String(given["pr-autoscaler-repository"])} differs from the uses: repository ${repository}`,
      );
    }
  }
  return problems;
}
