/**
 * A change must not bring the rules its own plan is judged by: a pull request that widens the
 * guard config (a new companion, an allowed attribute) and changes the Terraform in the same
 * change would otherwise pass itself. The guard config before the change judges the plan; when
 * the change's own version differs, it must judge the plan the same way, or the plan is refused.
 */
import { dataEqual, isPlainObject } from "../editors/verify.ts";
import { formatLocated, InputError } from "../errors.ts";
import type { GuardVerdict, Offence } from "./guard.ts";
import { type GuardConfig, type LoadedGuardConfig, loadGuardConfig } from "./guard-config.ts";
import { actionKind } from "./guard-reasons.ts";
import type { TerraformPlan } from "./terraform-plan.ts";

/** The guard config before the change: its text, or none (the change adds the file). */
export type GuardConfigBase = { kind: "file"; text: string; file: string } | { kind: "new" };

/** The config before the change as the guard can use it, and how the change's own differs. */
export interface GuardConfigChange {
  /** The earlier config; undefined when there was none or it does not load. */
  base: LoadedGuardConfig | undefined;
  /** What differs, in words; [] when both give the same rules. */
  differences: string[];
}

/** How the config before the change judged the plan, or why it could not. */
export type BaseJudgement = { kind: "judged"; verdict: GuardVerdict } | { kind: "unusable" };

/** How many differing config paths a refusal names before it says "N more". */
const NAMED = 5;

/**
 * Loads the guard config before the change and compares it with the change's own (`head`).
 * Differences are config paths (`pools.workers.companions`); comments, order and layout do not
 * count. A config that is new in the change, or whose earlier version does not load, differs as
 * a whole and cannot judge.
 */
export function compareGuardConfigs(base: GuardConfigBase, head: GuardConfig): GuardConfigChange {
  if (base.kind === "new") {
    return { base: undefined, differences: ["the file is new in this change"] };
  }
  let before: LoadedGuardConfig;
  try {
    before = loadGuardConfig(base.text, base.file);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const why = formatLocated(error.message, error.location);
    return {
      base: undefined,
      differences: [`the version before this change does not load (${why})`],
    };
  }
  const paths = differingPaths(before.config, head, "");
  const differences =
    paths.length <= NAMED ? paths : [...paths.slice(0, NAMED), `${paths.length - NAMED} more`];
  return { base: before, differences };
}

/** Config paths whose values differ: a key present on one side only, or a different value. */
function differingPaths(a: unknown, b: unknown, path: string): string[] {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((key) => {
      const at = path === "" ? key : `${path}.${key}`;
      if (!Object.hasOwn(a, key)) return [`${at} (added)`];
      if (!Object.hasOwn(b, key)) return [`${at} (removed)`];
      return differingPaths(a[key], b[key], at);
    });
  }
  return dataEqual(a, b) ? [] : [path === "" ? "(the whole file)" : path];
}

/** Whether applying the plan would change anything: an action other than no-op or read. */
export function planHasChanges(plan: TerraformPlan): boolean {
  return plan.changes.some((change) => {
    const kind = actionKind(change.actions);
    return kind !== "no-op" && kind !== "read";
  });
}

/**
 * The verdict on a plan whose change may have changed the guard config. With the same rules
 * before and after, the earlier config's verdict. With other rules, the plan passes only when
 * the earlier config passes it and the change's own judges it the same (the same VMs created
 * and destroyed, the same nodes drained): a widened config never lets its own change through,
 * and a renamed node never changes which node is drained. Without a usable earlier config only
 * a plan that changes nothing passes. `file` names the change's config in the refusal.
 */
export function judgeConfigChange(
  head: GuardVerdict,
  base: BaseJudgement,
  change: GuardConfigChange,
  plan: TerraformPlan,
  file: string,
): GuardVerdict {
  if (base.kind === "unusable") {
    return planHasChanges(plan) ? refuse(head, change, file, []) : head;
  }
  if (change.differences.length === 0) return base.verdict;
  if (base.verdict.verdict === "pass" && sameJudgement(base.verdict, head)) {
    const note = `the guard config changes in this change (${change.differences.join(", ")}); the versions before and after it judge this plan the same`;
    return { ...base.verdict, warnings: [...base.verdict.warnings, note] };
  }
  return refuse(base.verdict, change, file, head.offending);
}

/** Both verdicts pass with the same VMs and nodes, for the same expected changes. */
function sameJudgement(a: GuardVerdict, b: GuardVerdict): boolean {
  const judged = (v: GuardVerdict) => ({
    verdict: v.verdict,
    expected: v.expected,
    pools: v.pools ?? null,
    creates: v.creates,
    destroys: v.destroys,
  });
  return dataEqual(judged(a), judged(b));
}

function refuse(
  verdict: GuardVerdict,
  change: GuardConfigChange,
  file: string,
  more: readonly Offence[],
): GuardVerdict {
  const offence: Offence = {
    address: file,
    actions: [],
    reason: `the guard config changes in this change (${change.differences.join(", ")}) and the plan changes the infrastructure: merge the guard config change on its own first, then this change. A plan is judged by the guard config from before its change, never by the one it brings.`,
  };
  const known = new Set(verdict.offending.map((o) => `${o.address}\n${o.reason}`));
  const added = more.filter((o) => !known.has(`${o.address}\n${o.reason}`));
  return {
    ...verdict,
    verdict: "refuse",
    offending: [offence, ...verdict.offending, ...added],
  };
}
