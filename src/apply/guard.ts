import { InputError } from "../errors.ts";
import { compileGuardRules, runWalk } from "./guard-walk.ts";
import type { TerraformPlan } from "./terraform-plan.ts";

export { compileGuardRules };

/**
 * What the guard allows for one worker pool. Filled from the guard's config file today; kept
 * small so that the repository config can fill it too.
 */
export interface GuardRules {
  /** Address patterns of the pool's VM instances, each with exactly one `[*]` for the key. */
  vmAddresses: string[];
  /** Patterns of resources that belong to one VM each (same key), e.g. its Talos config apply. */
  companionAddresses: string[];
  /** The VM's name when the plan does not show it, e.g. `talos-worker-{index+1}`. */
  nameTemplate?: string;
  /** The Kubernetes node name of a VM; defaults to the VM's name (`{name}`). */
  nodeTemplate?: string;
  /** Top-level attributes that may change in place on the pool's VMs and companions. */
  allowedUpdateAttributes: string[];
  /** What to do with changes made outside Terraform to anything that is not the pool's. */
  drift: "refuse" | "warn";
}

/** The worker count change that the merged pull request made (e.g. tfvars 3 → 4). */
export interface ExpectedChange {
  from: number;
  to: number;
  /** For `for_each` pools: the keys the change adds, when known. */
  addedKeys?: string[];
  /** For `for_each` pools: the keys the change removes, when known. */
  removedKeys?: string[];
}

export interface VmCreate {
  address: string;
  name: string | null;
  /** The pool, when several pools are guarded at once. */
  pool?: string;
}

export interface VmDestroy {
  address: string;
  name: string | null;
  /** The Kubernetes node to drain before the VM goes. */
  node: string | null;
  /** The pool, when several pools are guarded at once. */
  pool?: string;
  /**
   * With a repo config whose pool sets `scaleDown.deleteEmptyDirData`: the drain may delete the
   * emptyDir data of the node's pods, as the planner counted on when it chose the node.
   */
  deleteEmptyDirData?: true;
}

export interface AllowedChange {
  address: string;
  actions: string[];
}

export interface Offence {
  address: string;
  actions: string[];
  reason: string;
}

/** One pool of a verdict over several pools, with the change expected of it. */
export interface PoolExpectation {
  name: string;
  expected: { from: number; to: number } | null;
}

/** The guard's decision with everything it is based on. */
export interface GuardVerdict {
  verdict: "pass" | "refuse";
  /** The expected change; over several pools, the only pool's, else null (see `pools`). */
  expected: { from: number; to: number } | null;
  creates: VmCreate[];
  destroys: VmDestroy[];
  /** The other changes that were allowed: companions created or destroyed, allowed updates. */
  alsoAllowed: AllowedChange[];
  offending: Offence[];
  warnings: string[];
  /** Present when several pools were guarded at once: each one, in the config's order. */
  pools?: PoolExpectation[];
}

/** One pool to guard with the change the merged pull request made to it. */
export interface GuardedPool {
  name: string;
  rules: GuardRules;
  expected: ExpectedChange | undefined;
}

/**
 * Decides whether a plan is exactly the expected worker scale change: only creates and deletes
 * of the pool's VMs (and their companions) with the right keys, nothing replaced, nothing else
 * touched. Pure: reads the plan, returns the verdict with every offending change listed.
 * Throws an InputError for rules that cannot be used (bad patterns or templates).
 */
export function guardPlan(
  plan: TerraformPlan,
  rules: GuardRules,
  expected: ExpectedChange | undefined,
): GuardVerdict {
  const { pools: _, ...verdict } = runWalk(
    plan,
    [{ name: "", rules, expected }],
    rules.drift,
    false,
  );
  return verdict;
}

/**
 * The guard over several pools at once: each pool's creates and deletes are judged against its
 * own expected change (a pool whose count does not change may have no VM created or destroyed),
 * and a change that belongs to none of them is refused as with one pool. The verdict lists
 * every pool (`pools`) and names the pool of each VM. Throws an InputError for rules that cannot
 * be used, or when no pool is given.
 */
export function guardPlanPools(
  plan: TerraformPlan,
  pools: readonly GuardedPool[],
  drift: "refuse" | "warn",
): GuardVerdict {
  if (pools.length === 0) throw new InputError("name at least one pool to guard");
  return runWalk(plan, pools, drift, true);
}
