import type { ExpectedChange, Offence } from "./guard.ts";
import { describeActionReason } from "./guard-reasons.ts";
import { type AddressPattern, type InstanceKey, instantiatePattern } from "./terraform-address.ts";
import type { PlannedChange } from "./terraform-plan.ts";

/** A VM of the pool that exists after apply. */
export interface PoolVm {
  key: InstanceKey;
  address: string;
}

/**
 * Why a create with this key is not part of the expected change: `count` pools may add only
 * the indexes from..to-1; `for_each` pools only the added keys when they are known.
 */
export function createProblem(key: InstanceKey, e: ExpectedChange): string | undefined {
  const change = `${e.from} → ${e.to}`;
  if (e.to <= e.from) return `would be created, but ${change} creates no worker`;
  if (typeof key === "number") {
    if (key >= e.from && key < e.to) return undefined;
    return `would be created with index ${key}, but ${change} adds only ${indexRange(e.from, e.to)}`;
  }
  if (e.addedKeys === undefined || e.addedKeys.includes(key)) return undefined;
  return `would be created with key ${keyText(key)}, but the merged change adds only ${keyList(e.addedKeys)}`;
}

/**
 * Why a delete with this key is not part of the expected change: `count` pools lose only their
 * highest indexes; `for_each` pools only the keys the change names (never a guess).
 */
export function deleteProblem(key: InstanceKey, e: ExpectedChange): string | undefined {
  const change = `${e.from} → ${e.to}`;
  if (e.to >= e.from) return `would be destroyed, but ${change} destroys no worker`;
  if (typeof key === "number") {
    if (key >= e.to && key < e.from) return undefined;
    return `would be destroyed, but ${change} may destroy only the highest ${indexRange(e.to, e.from)}`;
  }
  if (e.removedKeys === undefined) {
    return "would be destroyed, but the expected change does not name which for_each keys go (give --expect-remove, or the tfvars before and after)";
  }
  if (e.removedKeys.includes(key)) return undefined;
  return `would be destroyed, but the merged change removes only ${keyList(e.removedKeys)}`;
}

/**
 * A worker may go only because the count or the for_each set shrank, not for another reason.
 * When the pool's key is a module instance's (`moduleKey`: `module.worker[*].…`), the count or
 * for_each is the module call's, and Terraform says of an instance beyond it that its module
 * instance is gone (`delete_because_no_module`); the end-state check still makes sure that the
 * instances the change keeps are there.
 */
export function deleteReasonProblem(change: PlannedChange, moduleKey = false): string | undefined {
  const reason = change.actionReason;
  if (reason === undefined || reason === "delete_because_count_index") return undefined;
  if (reason === "delete_because_each_key") return undefined;
  if (reason === "delete_because_no_module" && moduleKey) return undefined;
  return `would be destroyed because ${describeActionReason(change)}, not because the pool shrank`;
}

/**
 * What is wrong with the pool as it would be after apply: a `count` pool must hold exactly the
 * indexes 0..to-1, a `for_each` pool `to` VMs with the added keys and without the removed ones.
 * VMs whose own change is already refused (key ids in `refused`) are not reported again.
 */
export function endStateOffences(
  expected: ExpectedChange,
  after: readonly PoolVm[],
  refused: ReadonlySet<string>,
  pattern: AddressPattern,
): Offence[] {
  const mixed = mixedKeyOffences(after);
  if (mixed.length > 0) return mixed;
  const byKeys =
    expected.addedKeys !== undefined ||
    expected.removedKeys !== undefined ||
    after.some((vm) => typeof vm.key === "string");
  return byKeys
    ? keyedEndState(expected, after, pattern)
    : indexedEndState(expected, after, refused, pattern);
}

/**
 * Terraform gives one resource either count indexes or for_each keys, never both: a plan that
 * shows both cannot be matched to any change, so its keyed VMs are refused.
 */
function mixedKeyOffences(after: readonly PoolVm[]): Offence[] {
  const indexed = after.some((vm) => typeof vm.key === "number");
  if (!indexed) return [];
  return after
    .filter((vm) => typeof vm.key === "string")
    .map((vm) => ({
      address: vm.address,
      actions: [],
      reason:
        "this VM has a for_each key while the pool's other VMs have count indexes; a plan that mixes the two matches no change",
    }));
}

/** A key's identity in sets and maps: index 3 and key "3" differ. */
export function keyId(key: InstanceKey): string {
  return JSON.stringify(key);
}

export function keyText(key: InstanceKey): string {
  return typeof key === "number" ? String(key) : JSON.stringify(key);
}

function indexedEndState(
  expected: ExpectedChange,
  after: readonly PoolVm[],
  refused: ReadonlySet<string>,
  pattern: AddressPattern,
): Offence[] {
  const change = `${expected.from} → ${expected.to}`;
  const wanted = indexRange(0, expected.to);
  const present = new Set(after.map((vm) => keyId(vm.key)));
  const offences: Offence[] = [];
  // Missing indexes, one offence each up to a few, then one offence for the rest: an expected
  // count from a typo (worker_count = 1000000) is one refusal, not a million.
  const covered = new Set([...present, ...refused].filter((id) => isIndexBelow(id, expected.to)));
  const missing = expected.to - covered.size;
  let listed = 0;
  for (let index = 0; index < expected.to && listed < MISSING_LISTED; index++) {
    if (covered.has(keyId(index))) continue;
    listed++;
    offences.push({
      address: instantiatePattern(pattern, index),
      actions: [],
      reason: `after this plan the pool would have no VM with index ${index}, but ${change} expects ${wanted}`,
    });
  }
  if (missing > listed) {
    offences.push({
      address: instantiatePattern(pattern, expected.to - 1),
      actions: [],
      reason: `and ${missing - listed} more indexes below ${expected.to} would have no VM, but ${change} expects ${wanted}`,
    });
  }
  for (const vm of after) {
    if (refused.has(keyId(vm.key)) || (typeof vm.key === "number" && vm.key < expected.to)) {
      continue;
    }
    offences.push({
      address: vm.address,
      actions: [],
      reason: `this VM would still exist after the plan, but ${change} keeps only ${wanted}`,
    });
  }
  return offences;
}

function keyedEndState(
  expected: ExpectedChange,
  after: readonly PoolVm[],
  pattern: AddressPattern,
): Offence[] {
  const keys = new Set(after.map((vm) => vm.key));
  const problems: string[] = [];
  if (keys.size !== expected.to) {
    problems.push(
      `the pool would have ${keys.size} VMs, but the merged change expects ${expected.to}`,
    );
  }
  const notAdded = (expected.addedKeys ?? []).filter((k) => !keys.has(k));
  const notRemoved = (expected.removedKeys ?? []).filter((k) => keys.has(k));
  if (notAdded.length > 0) problems.push(`the plan does not create ${keyList(notAdded)}`);
  if (notRemoved.length > 0) problems.push(`the plan keeps ${keyList(notRemoved)}`);
  if (problems.length === 0) return [];
  return [{ address: pattern.text, actions: [], reason: `after this plan ${problems.join("; ")}` }];
}

function keyList(keys: readonly string[]): string {
  return keys.length === 0 ? "none" : keys.map((k) => JSON.stringify(k)).join(", ");
}

/** `[from, to)` in words: "index 3", "indexes 3..4" or "no index". */
/** How many missing indexes are named one by one before the rest are counted together. */
const MISSING_LISTED = 10;

function isIndexBelow(id: string, to: number): boolean {
  return /^\d+$/.test(id) && Number(id) < to;
}

function indexRange(from: number, to: number): string {
  if (to <= from) return "no index";
  return to - from === 1 ? `index ${from}` : `indexes ${from}..${to - 1}`;
}
