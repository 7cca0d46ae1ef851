import { z } from "zod";
import { formatLocated, InputError, type SourceLocation } from "../errors.ts";
import { readConfigYaml } from "../policy/config-yaml.ts";
import { locateInYaml } from "../policy/yaml-locations.ts";
import type { GuardVerdict, Offence } from "./guard.ts";
import type { LoadedGuardConfig } from "./guard-config.ts";
import { selectGuardPool } from "./guard-config.ts";
import { templateNodeName } from "./guard-naming.ts";

/** How the repo config (`.github/pr-autoscaler.yml`) names a pool's node at a count index. */
export interface RepoPoolNaming {
  name: string;
  /** `removal.nameTemplate`; without it the node with the highest numeric suffix goes. */
  nameTemplate: string | undefined;
  indexBase: number;
  max: number | undefined;
  /** Where the pool's `removal` (or, without one, the pool) is written. */
  location: SourceLocation;
}

/** A count index for which the guard and the repo config name different nodes. */
export interface NamingDisagreement {
  pool: string;
  index: number;
  message: string;
  /** Where the guard config's template is written. */
  guard: SourceLocation;
  /** Where the repo config's removal naming is written. */
  repo: SourceLocation;
}

// Lenient: only the naming is read here; `pr-autoscaler validate` checks the rest of the file.
const RepoPoolNamingFields = z.object({
  name: z.string().min(1),
  max: z.number().int().min(0).optional(),
  removal: z
    .object({
      nameTemplate: z.string().optional(),
      indexBase: z.number().int().min(0).default(0),
    })
    .optional(),
});

/** Count indexes compared: at least this many, or the pool's max when it is larger. */
const MIN_INDEXES = 20;
const MAX_INDEXES = 1000;

/**
 * Reads the pools' node naming from the repo config's YAML text. Pools whose naming cannot be
 * read (no name, a template that is not text) are left out: `validate` reports them. Throws an
 * InputError at the line of a YAML error.
 */
export function readRepoPoolNaming(text: string, file: string): RepoPoolNaming[] {
  const { doc, lineCounter, pools } = readRepoPools(text, file);
  return pools.flatMap((raw, i) => {
    const parsed = RepoPoolNamingFields.safeParse(raw);
    if (!parsed.success) return [];
    const { name, max, removal } = parsed.data;
    const path = removal === undefined ? ["pools", i] : ["pools", i, "removal"];
    const { line, column } = locateInYaml(doc, lineCounter, path);
    return [
      {
        name,
        nameTemplate: removal?.nameTemplate,
        indexBase: removal?.indexBase ?? 0,
        max,
        location: { file, line, column },
      },
    ];
  });
}

/**
 * The repo config's pools, each pool whose `name` is text (whatever else it holds: `validate`
 * reports the rest), and whether it sets `scaleDown.deleteEmptyDirData: true`: the planner then
 * lets its pods' emptyDir data go with a node, so the drain of its nodes must too. Anything but
 * `true` is false here, as the planner reads a config that does not validate: it plans nothing.
 * Throws an InputError at the line of a YAML error.
 */
export function readRepoPoolSettings(
  text: string,
  file: string,
): { name: string; deleteEmptyDirData: boolean }[] {
  return readRepoPools(text, file).pools.flatMap((raw) => {
    const pool = raw as { name?: unknown; scaleDown?: { deleteEmptyDirData?: unknown } } | null;
    const name = pool?.name;
    if (typeof name !== "string" || name === "") return [];
    return [{ name, deleteEmptyDirData: pool?.scaleDown?.deleteEmptyDirData === true }];
  });
}

/** The repo config's YAML and its `pools` list (empty when it has none). */
function readRepoPools(text: string, file: string) {
  const read = readConfigYaml(text, file);
  if (!read.ok) {
    const [issue] = read.issues;
    throw new InputError(`the repo config does not parse: ${issue?.message ?? "YAML error"}`, {
      file,
      line: issue?.line,
      column: issue?.column,
    });
  }
  const { doc, lineCounter, data } = read.yaml;
  const pools = (data as { pools?: unknown } | null)?.pools;
  return { doc, lineCounter, pools: Array.isArray(pools) ? (pools as unknown[]) : [] };
}

/**
 * The first count index, per pool in both configs, at which the guard's templates and the repo
 * config's `removal` name different nodes: the node the planner says a decrease removes must be
 * the one the guard drains. Indexes 0 to the larger of the pool's max and 20 are compared. A
 * guard pool whose names come only from the plan (no nameTemplate) is not compared.
 */
export function namingDisagreements(
  guard: LoadedGuardConfig,
  repoPools: readonly RepoPoolNaming[],
): NamingDisagreement[] {
  const found: NamingDisagreement[] = [];
  for (const name of Object.keys(guard.config.pools)) {
    const repo = repoPools.find((pool) => pool.name === name);
    if (repo === undefined) continue;
    const disagreement = firstDisagreement(guard, name, repo);
    if (disagreement !== undefined) found.push(disagreement);
  }
  return found;
}

function firstDisagreement(
  guard: LoadedGuardConfig,
  name: string,
  repo: RepoPoolNaming,
): NamingDisagreement | undefined {
  const { rules } = selectGuardPool(guard.config, name);
  if (templateNodeName(rules, 0) === undefined) return undefined;
  const field = rules.nameTemplate === undefined ? "nodeTemplate" : "nameTemplate";
  const guardLocation = guard.locate(["pools", name, field]);
  const describeGuard = `${field} ${JSON.stringify(rules[field])}`;
  const count = Math.min(MAX_INDEXES, Math.max(MIN_INDEXES, repo.max ?? 0));
  let previous: { node: string; number: number } | undefined;
  for (let index = 0; index < count; index++) {
    const node = templateNodeName(rules, index);
    const problem =
      node === undefined
        ? "the guard's templates give no node name"
        : repo.nameTemplate === undefined
          ? suffixProblem(node, previous)
          : templateProblem(node, index, repo);
    if (problem !== undefined) {
      return {
        pool: name,
        index,
        message: `count index ${index}: the guard's ${describeGuard} names node ${node ?? "(none)"}, but ${problem}`,
        guard: guardLocation,
        repo: repo.location,
      };
    }
    previous = node === undefined ? undefined : { node, number: trailingNumber(node) ?? -1 };
  }
  return undefined;
}

/**
 * With removal.nameTemplate the planner removes the node whose name the template gives at the
 * index, its number written with or without leading zeros (the way it matches real nodes).
 */
function templateProblem(node: string, index: number, repo: RepoPoolNaming): string | undefined {
  const template = repo.nameTemplate ?? "";
  const number = index + repo.indexBase;
  const pattern = new RegExp(
    `^${template
      .split("{index}")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("(\\d+)")}$`,
  );
  const numbers = pattern.exec(node)?.slice(1);
  if (numbers?.every((digits) => Number(digits) === number)) {
    return undefined;
  }
  const expected = template.replaceAll("{index}", String(number));
  return `removal.nameTemplate ${JSON.stringify(template)} with indexBase ${repo.indexBase} names ${expected} there`;
}

/**
 * Without removal.nameTemplate the planner removes the node whose name ends in the highest
 * number, which is the highest count index only when the numbers grow with the index.
 */
function suffixProblem(
  node: string,
  previous: { node: string; number: number } | undefined,
): string | undefined {
  const number = trailingNumber(node);
  const rule =
    "the repo config has no removal.nameTemplate, so a decrease removes the node whose name ends in the highest number";
  if (number === undefined) return `${rule}, and this name does not end in a number`;
  if (previous !== undefined && number <= previous.number) {
    return `${rule}, and this name's number is not above the one before it (${previous.node})`;
  }
  return undefined;
}

function trailingNumber(name: string): number | undefined {
  const digits = /(\d+)$/.exec(name)?.[1];
  return digits === undefined ? undefined : Number(digits);
}

/** `file:line:column` of a location. */
function place(location: SourceLocation): string {
  return [location.file ?? "<input>", location.line, location.column]
    .filter((part) => part !== undefined)
    .join(":");
}

/**
 * Throws an InputError at the first disagreeing template, listing every pool's disagreement
 * with both files' lines and what to change.
 */
export function assertNamingAgrees(
  guard: LoadedGuardConfig,
  repoPools: readonly RepoPoolNaming[],
): void {
  const found = namingDisagreements(guard, repoPools);
  const [first] = found;
  if (first === undefined) return;
  const lines = found.map(
    (d) =>
      `  ${formatLocated(`pools.${d.pool}: ${d.message}`, d.guard)}\n    (the repo config's pool is at ${place(d.repo)})`,
  );
  throw new InputError(
    `the guard config and the repo config name different nodes, so the guard would drain another node than the one the pull request removes:\n${lines.join("\n")}\nMake the guard's nameTemplate (a zero-padded number is written {index+1:02}) and the repo config's removal.nameTemplate and indexBase name the same nodes.`,
    first.guard,
  );
}

/**
 * Refusals for each guarded pool the plan scales (its count changes, or VMs of it are created or
 * destroyed) that the repo config does not have: after the apply, the workflow waits for each
 * changed pool's nodes with `wait-nodes --pool NAME`, which reads the pool's node selector from
 * the repo config, so the apply would run and its wait fail. `pool` names the only pool of a
 * verdict over one pool.
 */
export function poolsMissingFromRepoConfig(
  verdict: GuardVerdict,
  pool: string,
  repoPools: readonly string[],
  repoFile: string,
): Offence[] {
  const pools = verdict.pools ?? [{ name: pool, expected: verdict.expected }];
  const several = verdict.pools !== undefined;
  return pools.flatMap(({ name, expected }) => {
    if (repoPools.includes(name)) return [];
    const vms = [...verdict.creates, ...verdict.destroys].filter(
      (vm) => !several || vm.pool === name,
    );
    const counted = expected !== null && expected.from !== expected.to;
    if (!counted && vms.length === 0) return [];
    const change = counted ? ` (${expected.from} → ${expected.to})` : "";
    return [
      {
        address: `(pool ${name})`,
        actions: [],
        reason: `the plan scales pool ${name}${change}, but ${repoFile} has no pool ${name}: after the apply, the workflow waits for the pool's nodes with \`wait-nodes --pool ${name}\`, which reads its node selector there, so the apply would run and the wait fail; add pool ${name} to ${repoFile}`,
      },
    ];
  });
}

/**
 * The verdict with each node to drain marked `deleteEmptyDirData` when its pool (`pool` for a
 * verdict over one pool) is one of `allowing`, the repo config's pools that let emptyDir data go
 * with a node: the workflow drains those nodes with `--delete-emptydir-data-on`, and no other.
 */
export function markEmptyDirAllowance(
  verdict: GuardVerdict,
  pool: string,
  allowing: readonly string[],
): GuardVerdict {
  if (allowing.length === 0) return verdict;
  return {
    ...verdict,
    destroys: verdict.destroys.map((destroy) =>
      allowing.includes(destroy.pool ?? pool) ? { ...destroy, deleteEmptyDirData: true } : destroy,
    ),
  };
}
