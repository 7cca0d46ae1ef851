/**
 * The pools as the Terraform state holds them (the plan's `prior_state`), so that an apply can
 * judge a change from the VMs that exist rather than from the previous commit's tfvars: after a
 * run that was cancelled or refused, the state is behind the previous commit.
 */
import { z } from "zod";
import { InputError } from "../errors.ts";
import type { ExpectedChange } from "./guard.ts";
import { keyId } from "./guard-counts.ts";
import { changeBetween, type PoolSize, samePoolSize } from "./guard-expected.ts";
import {
  type AddressPattern,
  type InstanceKey,
  matchAddress,
  parseResourceAddress,
  type ResourceAddress,
} from "./terraform-address.ts";

const StateResource = z.looseObject({
  address: z.string(),
  mode: z.string().optional(),
  deposed_key: z.string().optional(),
});

const StateModule = z.looseObject({
  resources: z.array(StateResource).optional(),
  get child_modules() {
    return z.array(StateModule).optional();
  },
});
type StateModule = z.infer<typeof StateModule>;

/** The part of `terraform show -json PLANFILE` that holds the state the plan started from. */
const PlanPriorState = z.looseObject({
  prior_state: z
    .looseObject({ values: z.looseObject({ root_module: StateModule.optional() }).optional() })
    .optional(),
});

/**
 * The managed resource instances of the plan's prior state (deposed objects left out), or
 * undefined when the plan has no prior state: then what exists is unknown, not nothing.
 * Throws an InputError naming the file when the prior state is not in Terraform's shape.
 */
export function priorStateAddresses(text: string, file: string): ResourceAddress[] | undefined {
  const parsed = PlanPriorState.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      `prior_state is not in Terraform's shape: ${issue?.path.map(String).join(".") ?? ""}: ${issue?.message ?? "invalid"}`,
      { file },
    );
  }
  const root = parsed.data.prior_state?.values?.root_module;
  if (root === undefined) return undefined;
  return moduleResources(root).map((address) => {
    try {
      return parseResourceAddress(address);
    } catch (error) {
      throw new InputError(`prior_state: ${(error as Error).message}`, { file });
    }
  });
}

function moduleResources(module: StateModule): string[] {
  const own = (module.resources ?? [])
    .filter((r) => (r.mode ?? "managed") === "managed" && r.deposed_key === undefined)
    .map((r) => r.address);
  return [...own, ...(module.child_modules ?? []).flatMap(moduleResources)];
}

/** A pool's size in the state, or why the state's VMs do not make one. */
export type StatePoolSize = { size: PoolSize } | { problem: string };

/**
 * The pool's size from the state's VMs (the instances that match its VM patterns): a count when
 * their indexes are exactly 0..n-1, the set of keys for `for_each`. Undefined when the state
 * holds no VM of the pool: a pattern that matches nothing must not read as an empty pool.
 */
export function statePoolSize(
  state: readonly ResourceAddress[],
  patterns: readonly AddressPattern[],
): StatePoolSize | undefined {
  const keys = new Map<string, InstanceKey>();
  for (const address of state) {
    for (const pattern of patterns) {
      const key = matchAddress(pattern, address)?.[0];
      if (key !== undefined) keys.set(keyId(key), key);
    }
  }
  const found = [...keys.values()];
  if (found.length === 0) return undefined;
  const indexes = found.filter((key) => typeof key === "number").sort((a, b) => a - b);
  if (indexes.length === found.length) {
    const contiguous = indexes.every((index, position) => index === position);
    if (contiguous) return { size: { kind: "count", count: indexes.length } };
    return {
      problem: `the state's VMs have the indexes ${indexes.join(", ")}, not 0..${indexes.length - 1}`,
    };
  }
  if (indexes.length > 0) {
    return { problem: "the state's VMs mix count indexes and for_each keys" };
  }
  return { size: { kind: "keys", keys: found.filter((key) => typeof key === "string") } };
}

/** The change to judge a pool's plan by, and what the verdict should say about it. */
export interface StateJudgedChange {
  expected: ExpectedChange;
  warning?: string;
}

/**
 * The pool's change judged from the state: when the state holds another size than the previous
 * commit's tfvars (`before`), the change runs from the state to the commit's size (`after`), and
 * the warning says so. With the state's size unknown or unusable, the tfvars' change stands.
 * `label` names the pool in the warning ("" for the only pool).
 */
export function changeFromState(
  state: StatePoolSize | undefined,
  before: PoolSize,
  after: PoolSize,
  tfvarsChange: ExpectedChange,
  label: string,
): StateJudgedChange {
  const prefix = label === "" ? "" : `pool ${label}: `;
  if (state === undefined) return { expected: tfvarsChange };
  if ("problem" in state) {
    return {
      expected: tfvarsChange,
      warning: `${prefix}${state.problem}, so the change is judged from the previous commit's tfvars (${tfvarsChange.from} → ${tfvarsChange.to})`,
    };
  }
  if (samePoolSize(state.size, before)) return { expected: tfvarsChange };
  const expected = changeBetween(state.size, after);
  if (expected === undefined) {
    return {
      expected: tfvarsChange,
      warning: `${prefix}the state's VMs have ${state.size.kind === "count" ? "count indexes" : "for_each keys"} while the tfvars give ${after.kind === "count" ? "a count" : "a set of keys"}, so the change is judged from the previous commit's tfvars`,
    };
  }
  return {
    expected,
    warning: `${prefix}the Terraform state holds ${describeSize(state.size)}, not the ${describeSize(before, false)} of the previous commit: an earlier run was cancelled or refused (or the state was changed outside this workflow), so the change is judged from the state: ${expected.from} → ${expected.to}`,
  };
}

/** "4 workers", or "2 workers ("a", "b")" for keys; `noun` false leaves "workers" out. */
function describeSize(size: PoolSize, noun = true): string {
  const count = size.kind === "count" ? size.count : size.keys.length;
  const text = noun ? `${count} ${count === 1 ? "worker" : "workers"}` : String(count);
  if (size.kind === "count") return text;
  const keys = size.keys.map((key) => JSON.stringify(key)).join(", ");
  return `${text} (${keys || "no key"})`;
}
