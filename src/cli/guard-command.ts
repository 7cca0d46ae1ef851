import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  compileGuardRules,
  type ExpectedChange,
  type GuardedPool,
  type GuardRules,
  type GuardVerdict,
  guardPlan,
  guardPlanPools,
} from "../apply/guard.ts";
import {
  assertNamingAgrees,
  markEmptyDirAllowance,
  poolsMissingFromRepoConfig,
  readRepoPoolNaming,
  readRepoPoolSettings,
} from "../apply/guard-agreement.ts";
import {
  allGuardPools,
  type GuardPool,
  type LoadedGuardConfig,
  loadGuardConfig,
  selectGuardPool,
} from "../apply/guard-config.ts";
import {
  type BaseJudgement,
  compareGuardConfigs,
  type GuardConfigBase,
  type GuardConfigChange,
  judgeConfigChange,
} from "../apply/guard-config-change.ts";
import {
  expectedChangeFromTfvars,
  type TfvarsVersion,
  tfvarsPoolSize,
} from "../apply/guard-expected.ts";
import { formatGuardVerdict } from "../apply/guard-report.ts";
import {
  changeFromState,
  priorStateAddresses,
  type StateJudgedChange,
  statePoolSize,
} from "../apply/guard-state.ts";
import type { ResourceAddress } from "../apply/terraform-address.ts";
import { parseTerraformPlan, type TerraformPlan } from "../apply/terraform-plan.ts";
import { type ExitCode, InputError, UsageError } from "../errors.ts";
import { fileReadError } from "../util/read-failure.ts";
import { parseArgsUsageError } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";

const OPTIONS = {
  plan: { type: "string" },
  config: { type: "string" },
  pool: { type: "string" },
  "all-pools": { type: "boolean" },
  "repo-config": { type: "string" },
  "base-config": { type: "string" },
  "new-config": { type: "boolean" },
  "before-from-state": { type: "boolean" },
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
                           [--base-config FILE | --new-config] [--before-from-state]
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
                           unless both configs name the same node at each count index,
                           refuse a plan that scales a pool the repo config does not have, and
                           mark deleteEmptyDirData the nodes to drain of its pools that set
                           scaleDown.deleteEmptyDirData
  --base-config FILE       with --config: the guard config before the change (the pull
                           request's base, the push's previous commit), which judges the plan.
                           --config is the change's own version: it must load, and when its
                           rules differ the plan passes only if both judge it the same (a change
                           never brings the rules its own plan is judged by)
  --new-config             with --config: the guard config is new in this change (there is no
                           earlier version); a plan that changes anything is refused
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
  --before-from-state      with --tfvars-before/--tfvars-after: when the plan's prior state
                           holds another pool size than --tfvars-before (an earlier run was
                           cancelled or refused), judge the change from the state's VMs to
                           --tfvars-after; the verdict's warnings say so

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
  const repo = config === undefined ? undefined : await checkAgainstRepoConfig(flags, config, io);
  if (config === undefined) {
    const given = ["repo-config", "base-config", "new-config"].find(
      (name) => flags[name as keyof Flags] !== undefined,
    );
    if (given !== undefined) throw new UsageError(`--${given} needs --config`);
  }
  const change = await configChange(flags, config, io);
  const plan = planSource(flags.plan, io, flags["before-from-state"] === true);
  const { verdict, name } = await judge(flags, config, plan, io);
  let judged = verdict;
  if (change !== undefined && config !== undefined) {
    const base = await judgeWithBase(flags, change, plan, io);
    judged = judgeConfigChange(verdict, base, change, (await plan()).plan, config.file);
  }
  return print(flags, io, withRepoPools(judged, name, repo), name);
}

/** What the verdict takes from the repo config (see --repo-config). */
interface RepoPools {
  pools: string[];
  /** The pools that set `scaleDown.deleteEmptyDirData: true`. */
  deletingEmptyDirData: string[];
  file: string;
}

/**
 * The verdict refused for each pool it scales that the repo config lacks, its nodes to drain
 * marked where their pool lets emptyDir data go (see --repo-config).
 */
function withRepoPools(
  judged: GuardVerdict,
  pool: string,
  repo: RepoPools | undefined,
): GuardVerdict {
  if (repo === undefined) return judged;
  const verdict = markEmptyDirAllowance(judged, pool, repo.deletingEmptyDirData);
  const missing = poolsMissingFromRepoConfig(verdict, pool, repo.pools, repo.file);
  if (missing.length === 0) return verdict;
  return { ...verdict, verdict: "refuse", offending: [...verdict.offending, ...missing] };
}

function judge(
  flags: Flags,
  config: LoadedGuardConfig | undefined,
  plan: PlanSource,
  io: CliIo,
): Promise<Judged> {
  return flags["all-pools"]
    ? judgeAllPools(flags, config, plan, io)
    : judgeOnePool(flags, config, plan, io);
}

/**
 * The plan judged by the guard config before the change. A config that cannot judge it (none
 * before, one that does not load, or one without the pool asked for) is unusable, not an error:
 * the change's own config has already been checked, and the plan is refused if it changes anything.
 */
async function judgeWithBase(
  flags: Flags,
  change: GuardConfigChange,
  plan: PlanSource,
  io: CliIo,
): Promise<BaseJudgement> {
  if (change.base === undefined) return { kind: "unusable" };
  try {
    return { kind: "judged", verdict: (await judge(flags, change.base, plan, io)).verdict };
  } catch (error) {
    if (!(error instanceof InputError) || change.differences.length === 0) throw error;
    return { kind: "unusable" };
  }
}

/** A plan as the guard reads it, with the state it starts from when that was asked for. */
interface ReadPlan {
  plan: TerraformPlan;
  /** The prior state's resources: undefined when not asked for or the plan has none. */
  state: ResourceAddress[] | undefined;
}

/** Reads the plan once, when first needed: flags and tfvars are checked before it. */
type PlanSource = () => Promise<ReadPlan>;

function planSource(file: string, io: CliIo, withState: boolean): PlanSource {
  let read: Promise<ReadPlan> | undefined;
  return () => {
    read ??= readPlan(file, io, withState);
    return read;
  };
}

interface Judged {
  verdict: GuardVerdict;
  name: string;
}

async function judgeOnePool(
  flags: Flags,
  config: LoadedGuardConfig | undefined,
  plan: PlanSource,
  io: CliIo,
): Promise<Judged> {
  const pool = config === undefined ? flagsPool(flags) : selectGuardPool(config.config, flags.pool);
  const judged = await loadExpected(flags, pool, plan, io);
  const verdict = guardPlan((await plan()).plan, pool.rules, judged?.expected);
  return { verdict: withWarnings(verdict, [judged?.warning]), name: pool.name };
}

/** The guard config before the change compared with --config's; undefined when not given. */
async function configChange(
  flags: Flags,
  config: LoadedGuardConfig | undefined,
  io: CliIo,
): Promise<GuardConfigChange | undefined> {
  const file = flags["base-config"];
  if (file !== undefined && flags["new-config"]) {
    throw new UsageError("give either --base-config FILE or --new-config, not both");
  }
  if (config === undefined) return undefined;
  let base: GuardConfigBase;
  if (file !== undefined)
    base = { kind: "file", text: await readText(resolve(io.cwd, file), file), file };
  else if (flags["new-config"]) base = { kind: "new" };
  else return undefined;
  return compareGuardConfigs(base, config.config);
}

function withWarnings(verdict: GuardVerdict, warnings: (string | undefined)[]): GuardVerdict {
  const added = warnings.filter((warning) => warning !== undefined);
  return added.length === 0 ? verdict : { ...verdict, warnings: [...added, ...verdict.warnings] };
}

/** Every pool of the config, each judged against its own count variable's change. */
async function judgeAllPools(
  flags: Flags,
  config: LoadedGuardConfig | undefined,
  plan: PlanSource,
  io: CliIo,
): Promise<Judged> {
  if (config === undefined) throw new UsageError("--all-pools needs --config");
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
  if (tfvars === undefined) checkStateFlag(flags);
  const warnings: (string | undefined)[] = [];
  const pools: GuardedPool[] = [];
  for (const pool of allGuardPools(config.config)) {
    const judged =
      tfvars === undefined ? undefined : await poolExpected(pool, tfvars, config, plan);
    warnings.push(judged?.warning);
    pools.push({ name: pool.name, rules: pool.rules, expected: judged?.expected });
  }
  const verdict = guardPlanPools((await plan()).plan, pools, config.config.drift);
  return {
    verdict: withWarnings(verdict, warnings),
    name: pools.map((pool) => pool.name).join(", "),
  };
}

async function poolExpected(
  pool: GuardPool,
  tfvars: TfvarsPair,
  config: LoadedGuardConfig,
  plan: PlanSource,
): Promise<StateJudgedChange> {
  if (pool.countVariable === undefined) {
    throw new InputError(
      `pools.${pool.name} has no countVariable: --all-pools reads each pool's change from its own count variable in the tfvars (set countVariable, e.g. ${pool.name}_count)`,
      config.locate(["pools", pool.name]),
    );
  }
  return tfvarsChange(tfvars, pool.countVariable, pool.rules, plan, pool.name);
}

/**
 * The change between the tfvars versions; with the state's resources given, judged from the
 * pool's VMs in the state when they differ from the earlier tfvars.
 */
async function tfvarsChange(
  tfvars: TfvarsPair,
  variable: string,
  rules: GuardRules,
  plan: PlanSource,
  label: string,
): Promise<StateJudgedChange> {
  const expected = expectedChangeFromTfvars(tfvars.before, tfvars.after, variable);
  const { state } = await plan();
  if (state === undefined) return { expected };
  return changeFromState(
    statePoolSize(state, compileGuardRules(rules).vm),
    tfvarsPoolSize(tfvars.before, variable),
    tfvarsPoolSize(tfvars.after, variable),
    expected,
    label,
  );
}

function checkStateFlag(flags: Flags): void {
  if (flags["before-from-state"]) {
    throw new UsageError(
      "--before-from-state needs --tfvars-before and --tfvars-after: the state replaces the earlier tfvars' size, the later one stays the target",
    );
  }
}

interface TfvarsPair {
  before: TfvarsVersion;
  after: TfvarsVersion;
}

/**
 * With --repo-config: both configs must name the same node at each count index. Returns the
 * repo config's pools, which the verdict is checked against once judged.
 */
async function checkAgainstRepoConfig(
  flags: Flags,
  config: LoadedGuardConfig,
  io: CliIo,
): Promise<RepoPools | undefined> {
  const file = flags["repo-config"];
  if (file === undefined) return undefined;
  const text = await readText(resolve(io.cwd, file), file);
  assertNamingAgrees(config, readRepoPoolNaming(text, file));
  const pools = readRepoPoolSettings(text, file);
  return {
    pools: pools.map((pool) => pool.name),
    deletingEmptyDirData: pools.filter((pool) => pool.deleteEmptyDirData).map((pool) => pool.name),
    file,
  };
}

async function readPlan(file: string, io: CliIo, withState: boolean): Promise<ReadPlan> {
  const text = await readText(resolve(io.cwd, file), file);
  const plan = parseTerraformPlan(text, file);
  return { plan, state: withState ? priorStateAddresses(text, file) : undefined };
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
    throw parseArgsUsageError(error, OPTIONS, false);
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
  plan: PlanSource,
  io: CliIo,
): Promise<StateJudgedChange | undefined> {
  const counts = flags["expect-from"] !== undefined || flags["expect-to"] !== undefined;
  const tfvars = flags["tfvars-before"] !== undefined || flags["tfvars-after"] !== undefined;
  const keys = flags["expect-add"] !== undefined || flags["expect-remove"] !== undefined;
  if (counts && tfvars) {
    throw new UsageError("give either --expect-from/--expect-to or --tfvars-before/--tfvars-after");
  }
  if (keys && !counts)
    throw new UsageError("--expect-add/--expect-remove need --expect-from and --expect-to");
  if (tfvars) return expectedFromTfvarsFlags(flags, pool, plan, io);
  checkStateFlag(flags);
  if (counts) return { expected: expectedFromFlags(flags) };
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

async function expectedFromTfvarsFlags(
  flags: Flags,
  pool: GuardPool,
  plan: PlanSource,
  io: CliIo,
): Promise<StateJudgedChange> {
  const variable = flags.variable ?? pool.countVariable;
  if (variable === undefined) {
    throw new UsageError(
      "name the tfvars variable: --variable NAME, or countVariable in the pool's config",
    );
  }
  const tfvars = await readTfvarsPair(flags, io);
  if (tfvars === undefined) throw new UsageError("--tfvars-before and --tfvars-after go together");
  return tfvarsChange(tfvars, variable, pool.rules, plan, "");
}

/** The tfvars files at the pull request's base and head, or undefined when neither is given. */
async function readTfvarsPair(flags: Flags, io: CliIo): Promise<TfvarsPair | undefined> {
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
    throw fileReadError(shown, error);
  }
}
