/**
 * The walk over a plan behind `guardPlan` and `guardPlanPools`: every change is classified as a
 * pool's VM, a pool's companion or something else, judged, and gathered into the verdict.
 */
import { InputError } from "../errors.ts";
import type {
  AllowedChange,
  ExpectedChange,
  GuardedPool,
  GuardRules,
  GuardVerdict,
  Offence,
  VmCreate,
  VmDestroy,
} from "./guard.ts";
import {
  createProblem,
  deleteProblem,
  deleteReasonProblem,
  endStateOffences,
  keyId,
  keyText,
  type PoolVm,
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
  parseResourceAddress,
  wildcardCount,
} from "./terraform-address.ts";
import type { PlannedChange, TerraformPlan } from "./terraform-plan.ts";

interface CompiledRules {
  rules: GuardRules;
  vm: AddressPattern[];
  companions: AddressPattern[];
}

/** What the walk gathers for one pool. */
interface PoolWalk {
  name: string;
  compiled: CompiledRules;
  expected: ExpectedChange | undefined;
  poolChanges: PoolChange[];
  /** Pool VM instances that exist after apply, by key id. */
  vmAfter: Map<string, PoolVm>;
  /** Key ids whose VM change is already refused (so the end-state check does not repeat it). */
  refusedVmKeys: Set<string>;
  matchedAnyVm: boolean;
  /** The first VM whose name in the plan differs from the nameTemplate's. */
  templateMismatch?: string;
}

type Role =
  | {
      role: "vm" | "companion";
      key: InstanceKey;
      pool: PoolWalk;
      /** The key is a module instance's (`module.worker[*].…`), not the resource's. */
      moduleKey?: boolean;
    }
  | { role: "other" };

interface PoolChange {
  change: PlannedChange;
  role: "vm" | "companion";
  key: InstanceKey;
  moduleKey: boolean;
  kind: "create" | "delete";
}

/** Everything gathered while walking the plan. */
interface Walk {
  pools: PoolWalk[];
  /** Several pools at once: reasons and warnings name the pool. */
  several: boolean;
  drift: "refuse" | "warn";
  offending: Offence[];
  warnings: string[];
  alsoAllowed: AllowedChange[];
}

/** Walks the plan for the given pools and returns the verdict with its `pools` list. */
export function runWalk(
  plan: TerraformPlan,
  pools: readonly GuardedPool[],
  drift: "refuse" | "warn",
  several: boolean,
): GuardVerdict {
  return finishWalk(plan, startWalk(pools, drift, several));
}

function startWalk(
  pools: readonly GuardedPool[],
  drift: "refuse" | "warn",
  several: boolean,
): Walk {
  return {
    pools: pools.map((pool) => ({
      name: pool.name,
      compiled: compileGuardRules(pool.rules),
      expected: pool.expected,
      poolChanges: [],
      vmAfter: new Map(),
      refusedVmKeys: new Set(),
      matchedAnyVm: false,
    })),
    several,
    drift,
    offending: [],
    warnings: [],
    alsoAllowed: [],
  };
}

function finishWalk(plan: TerraformPlan, walk: Walk): GuardVerdict {
  if (!plan.complete) {
    walk.offending.push({
      address: "(plan)",
      actions: [],
      reason:
        "Terraform marked this plan incomplete (a -target plan or deferred changes): it does not show every change, so it cannot be checked",
    });
  }
  for (const address of plan.actionInvocations ?? []) {
    walk.offending.push({
      address,
      actions: ["invoke"],
      reason:
        "the apply would invoke this action (a provider-defined operation outside the planned changes, whose effect the plan does not show); a scaling change invokes none",
    });
  }
  for (const change of plan.changes) inspectChange(change, walk);
  const allowed = walk.pools.map((pool) => ({
    pool,
    changes: pool.poolChanges.filter((pc) => judgePoolChange(pc, pool, walk)),
  }));
  for (const pool of walk.pools) checkEndState(pool, walk);
  inspectDrift(plan, walk);
  for (const pool of walk.pools) poolWarnings(pool, walk);
  const creates: VmCreate[] = [];
  const destroys: VmDestroy[] = [];
  for (const { pool, changes } of allowed) {
    const named = nameVms(changes, pool, walk);
    creates.push(...named.creates);
    destroys.push(...named.destroys);
    for (const pc of changes.filter((c) => c.role === "companion")) {
      walk.alsoAllowed.push({ address: pc.change.address, actions: pc.change.actions });
    }
  }
  const pools = walk.pools.map((pool) => ({ name: pool.name, expected: counts(pool.expected) }));
  return {
    verdict: walk.offending.length === 0 ? "pass" : "refuse",
    expected: pools.length === 1 ? pools[0]!.expected : null,
    creates,
    destroys,
    alsoAllowed: walk.alsoAllowed,
    offending: walk.offending,
    warnings: walk.warnings,
    pools,
  };
}

function counts(expected: ExpectedChange | undefined): { from: number; to: number } | null {
  return expected ? { from: expected.from, to: expected.to } : null;
}

/** The pool's warnings: no VM matched its patterns, or its nameTemplate disagrees with the plan. */
function poolWarnings(pool: PoolWalk, walk: Walk): void {
  const empty = pool.expected?.from === 0 && pool.expected.to === 0;
  if (!pool.matchedAnyVm && !empty) {
    const whose = walk.several ? `pool ${pool.name}'s` : "the pool's";
    walk.warnings.push(
      `no resource in the plan matches ${pool.compiled.rules.vmAddresses.join(" or ")}: check ${whose} vmAddress`,
    );
  }
  if (pool.templateMismatch !== undefined) walk.warnings.push(pool.templateMismatch);
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

type PoolRole = Exclude<Role, { role: "other" }>;

/** The pool a change belongs to, as VM or companion; `ambiguous` when several pools claim it. */
function classify(change: PlannedChange, walk: Walk): Role | { ambiguous: string[] } {
  const roles = walk.pools.flatMap((pool) => classifyIn(change, pool) ?? []);
  if (roles.length > 1) return { ambiguous: roles.map((role) => role.pool.name) };
  return roles[0] ?? { role: "other" };
}

function classifyIn(change: PlannedChange, pool: PoolWalk): PoolRole | undefined {
  for (const [role, patterns] of [
    ["vm", pool.compiled.vm],
    ["companion", pool.compiled.companions],
  ] as const) {
    for (const pattern of patterns) {
      const keys = matchAddress(pattern, change.resource);
      const moduleKey = pattern.modules.some((step) => step.key.kind === "any");
      if (keys?.[0] !== undefined) return { role, key: keys[0], pool, moduleKey };
    }
  }
  return undefined;
}

function inspectChange(change: PlannedChange, walk: Walk): void {
  const classified = classify(change, walk);
  const kind = actionKind(change.actions);
  if ("ambiguous" in classified) {
    offend(
      walk,
      change,
      `matches the addresses of pools ${classified.ambiguous.join(" and ")}: each VM and companion must belong to one pool (make the vmAddress and companions patterns distinct)`,
      { role: "other" },
    );
    return;
  }
  const role = classified;
  if (role.role === "vm") recordVmPresence(change, role, kind, walk);
  const ofPool = role.role !== "other" || movedFromPool(change, walk);
  const problem = structuralProblem(change, kind, ofPool) ?? roleProblem(change, role, kind, walk);
  if (problem !== undefined) offend(walk, change, problem, role);
}

/** "worker VM" or "companion of a worker VM", with the pool's name when there are several. */
function roleWord(role: "vm" | "companion", pool: PoolWalk, walk: Walk): string {
  const word = role === "vm" ? "worker VM" : "companion of a worker VM";
  return walk.several ? `${word} of pool ${pool.name}` : word;
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
    const which = walk.several
      ? `of any guarded pool (${walk.pools.map((p) => p.name).join(", ")})`
      : "of the pool";
    return `${describeAction(change, kind)}, but it is not a worker VM ${which} nor a companion of one`;
  }
  const word = roleWord(role.role, role.pool, walk);
  if (kind === "create" || kind === "delete") {
    const moduleKey = role.moduleKey === true;
    role.pool.poolChanges.push({ change, role: role.role, key: role.key, moduleKey, kind });
    return undefined;
  }
  if (kind === "update") return updateProblem(change, word, role.pool, walk);
  return `this ${word} ${describeAction(change, kind)}; the guard never lets a worker be replaced or dropped`;
}

function recordVmPresence(
  change: PlannedChange,
  role: { key: InstanceKey; pool: PoolWalk },
  kind: ActionKind,
  walk: Walk,
): void {
  const { key, pool } = role;
  pool.matchedAnyVm = true;
  if (change.deposed !== undefined) return;
  noteTemplateMismatch(change, key, pool, walk);
  if (kind === "no-op" || kind === "update" || kind === "create" || kind === "replace") {
    const id = keyId(key);
    const earlier = pool.vmAfter.get(id);
    if (earlier && earlier.address !== change.address) {
      offend(
        walk,
        change,
        `two VMs of the pool would have the key ${keyText(key)} (also ${earlier.address})`,
        { role: "vm", key, pool },
      );
    }
    pool.vmAfter.set(id, { key, address: change.address });
  }
}

/**
 * Remembers the first VM whose name in the plan is not the one the nameTemplate gives: the plan
 * names it this time, but a plan that shows no name (a new provider version, a name known only
 * after apply) would drain the template's node, which is then the wrong one or none.
 */
function noteTemplateMismatch(
  change: PlannedChange,
  key: InstanceKey,
  pool: PoolWalk,
  walk: Walk,
): void {
  if (pool.templateMismatch !== undefined) return;
  const template = pool.compiled.rules.nameTemplate;
  const fromTemplate = templateVmName(pool.compiled.rules, key);
  const inPlan = vmNameInPlan(change.before, {}) ?? vmNameInPlan(change.after, change.afterUnknown);
  if (template === undefined || fromTemplate === null || inPlan === null) return;
  if (fromTemplate === inPlan) return;
  const field = walk.several ? `pools.${pool.name}.nameTemplate` : "nameTemplate";
  pool.templateMismatch = `${field} ${JSON.stringify(template)} names ${change.address} ${fromTemplate}, but the plan names it ${inPlan}: correct the template (a zero-padded number is written {index+1:02}); a plan that shows no VM name would drain the template's node`;
}

/** Whether a moved change's previous address is a pool's VM or companion. */
function movedFromPool(change: PlannedChange, walk: Walk): boolean {
  if (change.previousAddress === undefined) return false;
  let resource: PlannedChange["resource"];
  try {
    resource = parseResourceAddress(change.previousAddress);
  } catch {
    return false;
  }
  return walk.pools.some((pool) => classifyIn({ ...change, resource }, pool) !== undefined);
}

/** Problems that refuse a change whatever it belongs to. */
function structuralProblem(
  change: PlannedChange,
  kind: ActionKind,
  ofPool: boolean,
): string | undefined {
  if (change.deposed !== undefined && kind !== "no-op") {
    return `a deposed object (${change.deposed}) left over from an earlier failed replace ${describeAction(change, kind)}`;
  }
  if (change.previousAddress !== undefined && change.previousAddress !== change.address) {
    const which = ofPool ? ", and a moved worker changes which VM is which" : "";
    return `moved from ${change.previousAddress}: a scaling change moves nothing${which}`;
  }
  if (change.importing) return "would be imported: a scaling change imports nothing";
  return undefined;
}

function updateProblem(
  change: PlannedChange,
  word: string,
  pool: PoolWalk,
  walk: Walk,
): string | undefined {
  const allowed = pool.compiled.rules.allowedUpdateAttributes;
  const refused = changedAttributes(change).filter((name) => !allowed.includes(name));
  if (refused.length === 0) {
    walk.alsoAllowed.push({ address: change.address, actions: change.actions });
    return undefined;
  }
  return `this ${word} would be updated in place (changes: ${refused.join(", ")}); allowed in-place changes: ${listOrNone(allowed)}`;
}

function offend(walk: Walk, change: PlannedChange, reason: string, role: Role): void {
  walk.offending.push({ address: change.address, actions: change.actions, reason });
  if (role.role === "vm") role.pool.refusedVmKeys.add(keyId(role.key));
}

/** Checks one create or delete of the pool against the pool's expected change. */
function judgePoolChange(pc: PoolChange, pool: PoolWalk, walk: Walk): boolean {
  const word = roleWord(pc.role, pool, walk);
  const expected = pool.expected;
  const role: Role = { role: pc.role, key: pc.key, pool };
  if (!expected) {
    const verb = pc.kind === "create" ? "creates" : "destroys";
    const how = walk.several ? "--tfvars-before/--tfvars-after" : "--expect-from/--expect-to";
    offend(walk, pc.change, `${verb} a ${word}, but no expected change was given (${how})`, role);
    return false;
  }
  const problem =
    pc.kind === "create"
      ? (createProblem(pc.key, expected) ?? unmatchedCompanionProblem(pc, pool))
      : (deleteReasonProblem(pc.change, pc.moduleKey) ?? deleteProblem(pc.key, expected));
  if (problem) offend(walk, pc.change, `this ${word} ${problem}`, role);
  return problem === undefined;
}

/**
 * A companion belongs to one VM, found by the same key: one created with a key no VM of the pool
 * has after the plan is a companion of nothing the guard knows (a control plane node's config
 * keyed by its name, say, in a pool whose change names no keys), whatever the count allows.
 */
function unmatchedCompanionProblem(pc: PoolChange, pool: PoolWalk): string | undefined {
  if (pc.role !== "companion" || pool.vmAfter.has(keyId(pc.key))) return undefined;
  return `would be created with key ${keyText(pc.key)}, but the pool has no VM with that key after the plan: companions are matched to VMs by the same key`;
}

/** After apply, each pool must hold exactly the VMs the merged change asks for. */
function checkEndState(pool: PoolWalk, walk: Walk): void {
  if (!pool.expected) return;
  const after = [...pool.vmAfter.values()];
  const pattern = pool.compiled.vm[0]!;
  const offences = endStateOffences(pool.expected, after, pool.refusedVmKeys, pattern);
  for (const offence of offences) {
    walk.offending.push(
      walk.several ? { ...offence, reason: `pool ${pool.name}: ${offence.reason}` } : offence,
    );
  }
}

function inspectDrift(plan: TerraformPlan, walk: Walk): void {
  for (const drift of plan.drift) {
    const role = classify(drift, walk);
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
    const pools = "ambiguous" in role || role.role !== "other";
    if (pools || walk.drift === "warn") {
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
  pool: PoolWalk,
  walk: Walk,
): { creates: VmCreate[]; destroys: VmDestroy[] } {
  const rules = pool.compiled.rules;
  const tag = walk.several ? { pool: pool.name } : {};
  const vms = allowed.filter((pc) => pc.role === "vm").sort((a, b) => compareKeys(a.key, b.key));
  const creates: VmCreate[] = [];
  const destroys: VmDestroy[] = [];
  for (const pc of vms) {
    const address = pc.change.address;
    if (pc.kind === "create") {
      const name =
        vmNameInPlan(pc.change.after, pc.change.afterUnknown) ?? templateVmName(rules, pc.key);
      creates.push({ address, name, ...tag });
      continue;
    }
    const inPlan = vmNameInPlan(pc.change.before, {});
    const fromTemplate = templateVmName(rules, pc.key);
    if (inPlan !== null && fromTemplate !== null && inPlan !== fromTemplate) {
      const field = walk.several ? `pools.${pool.name}.nameTemplate` : "nameTemplate";
      offend(
        walk,
        pc.change,
        `this worker VM would be destroyed, but the plan names it ${inPlan} while ${field} ${JSON.stringify(rules.nameTemplate)} names it ${fromTemplate}: which node to drain first would be a guess (the pull request removes the template's); correct the template (a zero-padded number is written {index+1:02})`,
        { role: "vm", key: pc.key, pool },
      );
      continue;
    }
    const name = inPlan ?? fromTemplate;
    const node = kubernetesNodeName(rules, pc.key, name);
    if (node === null) {
      offend(
        walk,
        pc.change,
        "this worker VM would be destroyed, but its Kubernetes node cannot be told (the plan shows no name and no nameTemplate fills one), so it cannot be drained first",
        { role: "vm", key: pc.key, pool },
      );
      continue;
    }
    destroys.push({ address, name, node, ...tag });
  }
  return { creates, destroys };
}

function compareKeys(a: InstanceKey, b: InstanceKey): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}
