import { InputError } from "../errors.ts";
import {
  createProblem,
  deleteProblem,
  deleteReasonProblem,
  endStateOffences,
  keyId,
  keyText,
} from "./guard-counts.ts";
import {
  checkNamingTemplate,
  kubernetesNodeName,
  templateVmName,
  vmNameInPlan,
} from "./guard-naming.ts";
import {
  type ActionKind,
  actionKind,
  changedAttributes,
  describeAction,
  formatAttributePath,
  listOrNone,
} from "./guard-reasons.ts";
import {
  type AddressPattern,
  type InstanceKey,
  matchAddress,
  parseAddressPattern,
  wildcardCount,
} from "./terraform-address.ts";
import type { PlannedChange, TerraformPlan } from "./terraform-plan.ts";

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
}

export interface VmDestroy {
  address: string;
  name: string | null;
  /** The Kubernetes node to drain before the VM goes. */
  node: string | null;
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

/** The guard's decision with everything it is based on. */
export interface GuardVerdict {
  verdict: "pass" | "refuse";
  expected: { from: number; to: number } | null;
  creates: VmCreate[];
  destroys: VmDestroy[];
  /** The other changes that were allowed: companions created or destroyed, allowed updates. */
  alsoAllowed: AllowedChange[];
  offending: Offence[];
  warnings: string[];
}

interface CompiledRules {
  rules: GuardRules;
  vm: AddressPattern[];
  companions: AddressPattern[];
}

type Role = { role: "vm" | "companion"; key: InstanceKey } | { role: "other" };

interface PoolChange {
  change: PlannedChange;
  role: "vm" | "companion";
  key: InstanceKey;
  kind: "create" | "delete";
}

/** Everything gathered while walking the plan. */
interface Walk {
  compiled: CompiledRules;
  expected: ExpectedChange | undefined;
  offending: Offence[];
  warnings: string[];
  poolChanges: PoolChange[];
  alsoAllowed: AllowedChange[];
  /** Pool VM instances that exist after apply, by key id. */
  vmAfter: Map<string, { key: InstanceKey; address: string }>;
  /** Key ids whose VM change is already refused (so the end-state check does not repeat it). */
  refusedVmKeys: Set<string>;
  matchedAnyVm: boolean;
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
  const walk: Walk = {
    compiled: compileGuardRules(rules),
    expected,
    offending: [],
    warnings: [],
    poolChanges: [],
    alsoAllowed: [],
    vmAfter: new Map(),
    refusedVmKeys: new Set(),
    matchedAnyVm: false,
  };
  if (!plan.complete) {
    walk.offending.push({
      address: "(plan)",
      actions: [],
      reason:
        "Terraform marked this plan incomplete (a -target plan or deferred changes): it does not show every change, so it cannot be checked",
    });
  }
  for (const change of plan.changes) inspectChange(change, walk);
  const allowed = walk.poolChanges.filter((pc) => judgePoolChange(pc, walk));
  if (expected) checkEndState(expected, walk);
  inspectDrift(plan, walk);
  if (!walk.matchedAnyVm) {
    walk.warnings.push(
      `no resource in the plan matches ${rules.vmAddresses.join(" or ")}: check the pool's vmAddress`,
    );
  }
  const { creates, destroys } = nameVms(allowed, walk);
  for (const pc of allowed.filter((c) => c.role === "companion")) {
    walk.alsoAllowed.push({ address: pc.change.address, actions: pc.change.actions });
  }
  return {
    verdict: walk.offending.length === 0 ? "pass" : "refuse",
    expected: expected ? { from: expected.from, to: expected.to } : null,
    creates,
    destroys,
    alsoAllowed: walk.alsoAllowed,
    offending: walk.offending,
    warnings: walk.warnings,
  };
}

/** Parses and checks the rules' patterns and templates; throws an InputError naming the field. */
export function compileGuardRules(rules: GuardRules): CompiledRules {
  if (rules.vmAddresses.length === 0) {
    throw new InputError("vmAddress: name at least one address pattern of the pool's VMs");
  }
  const compile = (field: string) => (text: string) => {
    let pattern: AddressPattern;
    try {
      pattern = parseAddressPattern(text);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      throw new InputError(`${field}: ${error.message}`);
    }
    if (wildcardCount(pattern) !== 1) {
      throw new InputError(
        `${field}: ${JSON.stringify(text)} needs exactly one [*] standing for the VM's index or key`,
      );
    }
    return pattern;
  };
  for (const [field, template, allowName] of [
    ["nameTemplate", rules.nameTemplate, false],
    ["nodeTemplate", rules.nodeTemplate, true],
  ] as const) {
    const problem = template === undefined ? undefined : checkNamingTemplate(template, allowName);
    if (problem) throw new InputError(`${field}: ${JSON.stringify(template)}: ${problem}`);
  }
  return {
    rules,
    vm: rules.vmAddresses.map(compile("vmAddress")),
    companions: rules.companionAddresses.map(compile("companions")),
  };
}

function classify(change: PlannedChange, compiled: CompiledRules): Role {
  for (const [role, patterns] of [
    ["vm", compiled.vm],
    ["companion", compiled.companions],
  ] as const) {
    for (const pattern of patterns) {
      const keys = matchAddress(pattern, change.resource);
      if (keys?.[0] !== undefined) return { role, key: keys[0] };
    }
  }
  return { role: "other" };
}

function inspectChange(change: PlannedChange, walk: Walk): void {
  const role = classify(change, walk.compiled);
  const kind = actionKind(change.actions);
  if (role.role === "vm") recordVmPresence(change, role.key, kind, walk);
  const problem = structuralProblem(change, kind) ?? roleProblem(change, role, kind, walk);
  if (problem !== undefined) offend(walk, change, problem, role);
}

/** Judges a change by what it belongs to; creates and deletes of the pool are judged later. */
function roleProblem(
  change: PlannedChange,
  role: Role,
  kind: ActionKind,
  walk: Walk,
): string | undefined {
  if (kind === "no-op" || kind === "read") return undefined;
  if (role.role === "other") {
    return `${describeAction(change, kind)}, but it is not a worker VM of the pool nor a companion of one`;
  }
  const word = role.role === "vm" ? "worker VM" : "companion of a worker VM";
  if (kind === "create" || kind === "delete") {
    walk.poolChanges.push({ change, role: role.role, key: role.key, kind });
    return undefined;
  }
  if (kind === "update") return updateProblem(change, word, walk);
  return `this ${word} ${describeAction(change, kind)}; the guard never lets a worker be replaced or dropped`;
}

function recordVmPresence(change: PlannedChange, key: InstanceKey, kind: ActionKind, walk: Walk) {
  walk.matchedAnyVm = true;
  if (change.deposed !== undefined) return;
  if (kind === "no-op" || kind === "update" || kind === "create" || kind === "replace") {
    const id = keyId(key);
    const earlier = walk.vmAfter.get(id);
    if (earlier && earlier.address !== change.address) {
      offend(
        walk,
        change,
        `two VMs of the pool would have the key ${keyText(key)} (also ${earlier.address})`,
        { role: "vm", key },
      );
    }
    walk.vmAfter.set(id, { key, address: change.address });
  }
}

/** Problems that refuse a change whatever it belongs to. */
function structuralProblem(change: PlannedChange, kind: ActionKind): string | undefined {
  if (change.deposed !== undefined && kind !== "no-op") {
    return `a deposed object (${change.deposed}) left over from an earlier failed replace ${describeAction(change, kind)}`;
  }
  if (change.previousAddress !== undefined && change.previousAddress !== change.address) {
    return `moved from ${change.previousAddress}: a scaling change moves nothing, and a moved worker changes which VM is which`;
  }
  if (change.importing) return "would be imported: a scaling change imports nothing";
  return undefined;
}

function updateProblem(change: PlannedChange, word: string, walk: Walk): string | undefined {
  const allowed = walk.compiled.rules.allowedUpdateAttributes;
  const refused = changedAttributes(change).filter((name) => !allowed.includes(name));
  if (refused.length === 0) {
    walk.alsoAllowed.push({ address: change.address, actions: change.actions });
    return undefined;
  }
  return `this ${word} would be updated in place (changes: ${refused.join(", ")}); allowed in-place changes: ${listOrNone(allowed)}`;
}

function offend(walk: Walk, change: PlannedChange, reason: string, role: Role): void {
  walk.offending.push({ address: change.address, actions: change.actions, reason });
  if (role.role === "vm") walk.refusedVmKeys.add(keyId(role.key));
}

/** Checks one create or delete of the pool against the expected change. */
function judgePoolChange(pc: PoolChange, walk: Walk): boolean {
  const word = pc.role === "vm" ? "worker VM" : "companion of a worker VM";
  const expected = walk.expected;
  const role: Role = { role: pc.role, key: pc.key };
  if (!expected) {
    const verb = pc.kind === "create" ? "creates" : "destroys";
    offend(
      walk,
      pc.change,
      `${verb} a ${word}, but no expected change was given (--expect-from/--expect-to)`,
      role,
    );
    return false;
  }
  const problem =
    pc.kind === "create"
      ? createProblem(pc.key, expected)
      : (deleteReasonProblem(pc.change) ?? deleteProblem(pc.key, expected));
  if (problem) offend(walk, pc.change, `this ${word} ${problem}`, role);
  return problem === undefined;
}

/** After apply, the pool must hold exactly the VMs the merged change asks for. */
function checkEndState(expected: ExpectedChange, walk: Walk): void {
  const after = [...walk.vmAfter.values()];
  const pattern = walk.compiled.vm[0]!;
  walk.offending.push(...endStateOffences(expected, after, walk.refusedVmKeys, pattern));
}

function inspectDrift(plan: TerraformPlan, walk: Walk): void {
  for (const drift of plan.drift) {
    const role = classify(drift, walk.compiled);
    const kind = actionKind(drift.actions);
    const what =
      kind === "delete"
        ? "was deleted outside Terraform"
        : `changed outside Terraform since the last apply (${listOrNone(changedAttributes(drift))})`;
    const relevant = plan.relevantAttributes
      .filter((r) => r.resource === drift.address)
      .map((r) => formatAttributePath(r.attribute));
    const uses =
      relevant.length > 0 ? `; the planned changes depend on ${relevant.join(", ")}` : "";
    if (role.role !== "other" || walk.compiled.rules.drift === "warn") {
      walk.warnings.push(`${drift.address} ${what}${uses}`);
    } else {
      walk.offending.push({
        address: drift.address,
        actions: drift.actions,
        reason: `${what}${uses}; someone should look before an unattended apply (set drift: warn to allow)`,
      });
    }
  }
}

function nameVms(
  allowed: PoolChange[],
  walk: Walk,
): { creates: VmCreate[]; destroys: VmDestroy[] } {
  const rules = walk.compiled.rules;
  const vms = allowed.filter((pc) => pc.role === "vm").sort((a, b) => compareKeys(a.key, b.key));
  const creates: VmCreate[] = [];
  const destroys: VmDestroy[] = [];
  for (const pc of vms) {
    const address = pc.change.address;
    if (pc.kind === "create") {
      const name =
        vmNameInPlan(pc.change.after, pc.change.afterUnknown) ?? templateVmName(rules, pc.key);
      creates.push({ address, name });
      continue;
    }
    const name = vmNameInPlan(pc.change.before, {}) ?? templateVmName(rules, pc.key);
    const node = kubernetesNodeName(rules, pc.key, name);
    if (node === null) {
      offend(
        walk,
        pc.change,
        "this worker VM would be destroyed, but its Kubernetes node cannot be told (the plan shows no name and no nameTemplate fills one), so it cannot be drained first",
        { role: "vm", key: pc.key },
      );
      continue;
    }
    destroys.push({ address, name, node });
  }
  return { creates, destroys };
}

function compareKeys(a: InstanceKey, b: InstanceKey): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}
