import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  type ExpectedChange,
  type GuardedPool,
  type GuardRules,
  type GuardVerdict,
  guardPlan,
  guardPlanPools,
} from "../apply/guard.ts";
import { assertNamingAgrees, readRepoPoolNaming } from "../apply/guard-agreement.ts";
import {
  allGuardPools,
  type GuardPool,
  type LoadedGuardConfig,
  loadGuardConfig,
  selectGuardPool,
} from "../apply/guard-config.ts";
import { expectedChangeFromTfvars, type TfvarsVersion } from "../apply/guard-expected.ts";
import { formatGuardVerdict } from "../apply/guard-report.ts";
import { parseTerraformPlan } from "../apply/terraform-plan.ts";
import { type ExitCode, InputError, UsageError } from "../errors.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";

const OPTIONS = {
  plan: { type: "string" },
  config: { type: "string" },
  pool: { type: "string" },
  "all-pools": { type: "boolean" },
  "repo-config": { type: "string" },
  "expect-from": { type: "string" },
  "expect-to": { type: "string" },
  "expect-add": { type: "string", multiple: true },
  "expect-remove": { type: "string", multiple: true },
  "tfvars-before": { type: "string" },
  "tfvars-after": { type: "string" },
  variable: { type: "string" },
  "vm-address": { type: "string", multiple: true },
  companion: { type: "string", multiple: true },
  "name-template": { type: "string" },
  "node-template": { type: "string" },
  "allow-update": { type: "string", multiple: true },
  drift: { type: "string" },
  json: { type: "boolean" },
} as const;

type Flags = ReturnType<typeof parseFlags>;

const USAGE = `Usage: pr-autoscaler guard --plan PLAN.json [--config FILE [--pool NAME | --all-pools]]
                           [--expect-from N --expect-to M | --tfvars-before F --tfvars-after F]
                           [--repo-config FILE] [--json]

Checks \`terraform show -json PLANFILE\` output before an unattended apply: it passes only when
every change is an expected create or destroy of the pool's worker VMs (and their companions).

Plan and rules:
  --plan FILE              the plan as JSON (terraform show -json PLANFILE > FILE)
  --config FILE            guard config (YAML or JSON) with the pools' address patterns
  --pool NAME              the pool to guard when the config has several
  --all-pools              guard every pool of the config at once, each against the change of
                           its own countVariable between --tfvars-before and --tfvars-after
  --repo-config FILE       with --config: the repo config (.github/pr-autoscaler.yml); stop
                           unless both configs name the same node at each count index
  --vm-address PATTERN     without --config: the pool's VM addresses, e.g.
                           'module.workers.proxmox_virtual_environment_vm.worker[*]' (repeatable)
  --companion PATTERN      without --config: a resource that belongs to each VM (repeatable)
  --name-template T        without --config: VM name when the plan shows none, e.g. talos-worker-{index+1}
                           ({index+1:02} writes the number with leading zeros: 01, 02, …)
  --node-template T        without --config: Kubernetes node name (default {name}, the VM's name)
  --allow-update ATTR      without --config: attribute that may change in place on workers (repeatable)
  --drift refuse|warn      without --config: drift outside the pool (default refuse)

Expected change (without one, only plans that create and destroy no worker pass):
  --expect-from N --expect-to M   the worker count before and after the merged change
  --expect-add KEY, --expect-remove KEY   for_each keys the change adds or removes (repeatable)
  --tfvars-before F --tfvars-after F      read the counts from the tfvars at the PR's base and head
  --variable NAME          the tfvars variable or PATH (default: the pool's countVariable)

Output:
  --json                   print the verdict as JSON for the workflow

Exit codes: 0 pass, 1 refused (every offending change is listed), 2 usage or bad input
(including a guard config and repo config that name different nodes).
`;

/** `pr-autoscaler guard`: the plan guard in front of `terraform apply`. */
export const guardCommand: Command = {
  name: "guard",
  usage: USAGE,
  run: runGuard,
};

async function runGuard(args: string[], io: CliIo): Promise<ExitCode> {
  const flags = parseFlags(args);
  if (flags.plan === undefined) throw new UsageError("--plan FILE is required");
  const config = await loadConfig(flags, io);
  if (config !== undefined) await checkAgainstRepoConfig(flags, config, io);
  else if (flags["repo-config"] !== undefined) throw new UsageError("--repo-config needs --config");
  if (flags["all-pools"]) {
    if (config === undefined) throw new UsageError("--all-pools needs --config");
    return runAllPools(flags, config, io);
  }
  const pool = config === undefined ? flagsPool(flags) : selectGuardPool(config.config, flags.pool);
  const expected = await loadExpected(flags, pool, io);
  const verdict = guardPlan(await readPlan(flags.plan, io), pool.rules, expected);
  return print(flags, io, verdict, pool.name);
}

/** Every pool of the config, each judged against its own count variable's change. */
async function runAllPools(flags: Flags, config: LoadedGuardConfig, io: CliIo): Promise<ExitCode> {
  const conflicting = [
    "pool",
    "variable",
    "expect-from",
    "expect-to",
    "expect-add",
    "expect-remove",
  ]
    .filter((name) => flags[name as keyof Flags] !== undefined)
    .map((name) => `--${name}`);
  if (conflicting.length > 0) {
    throw new UsageError(
      `${conflicting[0]} cannot be combined with --all-pools: each pool's change comes from its countVariable in --tfvars-before/--tfvars-after`,
    );
  }
  const tfvars = await readTfvarsPair(flags, io);
  const pools: GuardedPool[] = allGuardPools(config.config).map((pool) => ({
    name: pool.name,
    rules: pool.rules,
    expected: tfvars === undefined ? undefined : poolExpected(pool, tfvars, config),
  }));
  const verdict = guardPlanPools(await readPlan(flags.plan!, io), pools, config.config.drift);
  return print(flags, io, verdict, pools.map((pool) => pool.name).join(", "));
}

function poolExpected(
  pool: GuardPool,
  tfvars: { before: TfvarsVersion; after: TfvarsVersion },
  config: LoadedGuardConfig,
): ExpectedChange {
  if (pool.countVariable === undefined) {
    throw new InputError(
      `pools.${pool.name} has no countVariable: --all-pools reads each pool's change from its own count variable in the tfvars (set countVariable, e.g. ${pool.name}_count)`,
      config.locate(["pools", pool.name]),
    );
  }
  return expectedChangeFromTfvars(tfvars.before, tfvars.after, pool.countVariable);
}

/** With --repo-config: both configs must name the same node at each count index. */
async function checkAgainstRepoConfig(
  flags: Flags,
  config: LoadedGuardConfig,
  io: CliIo,
): Promise<void> {
  const file = flags["repo-config"];
  if (file === undefined) return;
  const text = await readText(resolve(io.cwd, file), file);
  assertNamingAgrees(config, readRepoPoolNaming(text, file));
}

async function readPlan(file: string, io: CliIo) {
  return parseTerraformPlan(await readText(resolve(io.cwd, file), file), file);
}

function print(flags: Flags, io: CliIo, verdict: GuardVerdict, pool: string): ExitCode {
  io.stdout(
    flags.json ? `${JSON.stringify(verdict, null, 2)}\n` : formatGuardVerdict(verdict, pool),
  );
  return verdict.verdict === "pass" ? 0 : 1;
}

function parseFlags(args: string[]) {
  try {
    const parsed = parseArgs({ args, options: OPTIONS, allowPositionals: false, strict: true });
    return parsed.values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

const RULE_FLAGS = [
  "vm-address",
  "companion",
  "name-template",
  "node-template",
  "allow-update",
  "drift",
] as const;

async function loadConfig(flags: Flags, io: CliIo): Promise<LoadedGuardConfig | undefined> {
  if (flags.config === undefined) return undefined;
  const given = RULE_FLAGS.filter((name) => flags[name] !== undefined);
  if (given.length > 0) {
    throw new UsageError(
      `--${given[0]} cannot be combined with --config: set it in the config file`,
    );
  }
  const file = resolve(io.cwd, flags.config);
  return loadGuardConfig(await readText(file, flags.config), flags.config);
}

function flagsPool(flags: Flags): GuardPool {
  if (flags["vm-address"] === undefined) {
    throw new UsageError(
      "give --config FILE or --vm-address PATTERN to say which VMs are the pool's",
    );
  }
  if (flags.pool !== undefined) throw new UsageError("--pool needs --config");
  return { name: "(flags)", rules: rulesFromFlags(flags) };
}

function rulesFromFlags(flags: Flags): GuardRules {
  const drift = flags.drift ?? "refuse";
  if (drift !== "refuse" && drift !== "warn") {
    throw new UsageError(`--drift expects refuse or warn, got ${JSON.stringify(drift)}`);
  }
  const rules: GuardRules = {
    vmAddresses: flags["vm-address"] ?? [],
    companionAddresses: flags.companion ?? [],
    allowedUpdateAttributes: flags["allow-update"] ?? [],
    drift,
  };
  if (flags["name-template"] !== undefined) rules.nameTemplate = flags["name-template"];
  if (flags["node-template"] !== undefined) rules.nodeTemplate = flags["node-template"];
  return rules;
}

async function loadExpected(
  flags: Flags,
  pool: GuardPool,
  io: CliIo,
): Promise<ExpectedChange | undefined> {
  const counts = flags["expect-from"] !== undefined || flags["expect-to"] !== undefined;
  const tfvars = flags["tfvars-before"] !== undefined || flags["tfvars-after"] !== undefined;
  const keys = flags["expect-add"] !== undefined || flags["expect-remove"] !== undefined;
  if (counts && tfvars) {
    throw new UsageError("give either --expect-from/--expect-to or --tfvars-before/--tfvars-after");
  }
  if (keys && !counts)
    throw new UsageError("--expect-add/--expect-remove need --expect-from and --expect-to");
  if (counts) return expectedFromFlags(flags);
  if (tfvars) return expectedFromTfvarsFlags(flags, pool, io);
  if (flags.variable !== undefined)
    throw new UsageError("--variable needs --tfvars-before and --tfvars-after");
  return undefined;
}

function expectedFromFlags(flags: Flags): ExpectedChange {
  const from = wholeNumber(flags["expect-from"], "--expect-from");
  const to = wholeNumber(flags["expect-to"], "--expect-to");
  const expected: ExpectedChange = { from, to };
  if (flags["expect-add"] !== undefined) expected.addedKeys = flags["expect-add"];
  if (flags["expect-remove"] !== undefined) expected.removedKeys = flags["expect-remove"];
  return expected;
}

async function expectedFromTfvarsFlags(flags: Flags, pool: GuardPool, io: CliIo) {
  const variable = flags.variable ?? pool.countVariable;
  if (variable === undefined) {
    throw new UsageError(
      "name the tfvars variable: --variable NAME, or countVariable in the pool's config",
    );
  }
  const tfvars = await readTfvarsPair(flags, io);
  if (tfvars === undefined) throw new UsageError("--tfvars-before and --tfvars-after go together");
  return expectedChangeFromTfvars(tfvars.before, tfvars.after, variable);
}

/** The tfvars files at the pull request's base and head, or undefined when neither is given. */
async function readTfvarsPair(
  flags: Flags,
  io: CliIo,
): Promise<{ before: TfvarsVersion; after: TfvarsVersion } | undefined> {
  const beforeName = flags["tfvars-before"];
  const afterName = flags["tfvars-after"];
  if (beforeName === undefined && afterName === undefined) return undefined;
  if (beforeName === undefined || afterName === undefined) {
    throw new UsageError("--tfvars-before and --tfvars-after go together");
  }
  const read = async (name: string) => ({
    text: await readText(resolve(io.cwd, name), name),
    file: name,
  });
  return { before: await read(beforeName), after: await read(afterName) };
}

function wholeNumber(value: string | undefined, flag: string): number {
  if (value === undefined) throw new UsageError("--expect-from and --expect-to go together");
  if (!/^\d+$/.test(value))
    throw new UsageError(`${flag} expects a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

async function readText(path: string, shown: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new InputError(`cannot read ${shown}: ${code}`, { file: shown });
  }
}
