/**
 * Terraform plan JSON (`terraform show -json`) for the example's worker pool, damaged and
 * twisted, given to parseTerraformPlan and guardPlan with the example's guard config. Whatever
 * the plan holds, a verdict of "pass" must be safe, judged from the plan JSON alone: nothing
 * but the expected worker VM (and its companion) created or destroyed, nothing updated,
 * replaced or of an unknown action, a complete plan, and no drift outside the pool.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { type ExpectedChange, guardPlan } from "../src/apply/guard.ts";
import { type GuardPool, parseGuardConfig, selectGuardPool } from "../src/apply/guard-config.ts";
import { parseTerraformPlan } from "../src/apply/terraform-plan.ts";
import {
  crash,
  errorMessage,
  type FamilySession,
  handled,
  type InputFamily,
  judgeError,
  type Outcome,
  type ReliabilityCase,
} from "./reliability-case.ts";
import {
  allPaths,
  familySeed,
  formatPathKeys,
  hostileValue,
  type Mutation,
  mutate,
  mutation,
  type PathKey,
  sample,
  withAt,
} from "./reliability-values.ts";

const file = "plan.json";
const vm = /^proxmox_virtual_environment_vm\.worker\[(\d+)\]$/;
const companion = /^talos_machine_configuration_apply\.worker\[(\d+)\]$/;

interface Base {
  name: string;
  plan: Record<string, unknown>;
  expected: ExpectedChange;
}

function bases(): Base[] {
  const folder = new URL("../test/fixtures/terraform/talos-proxmox-plans/", import.meta.url);
  const read = (name: string) =>
    JSON.parse(readFileSync(new URL(name, folder), "utf8")) as Record<string, unknown>;
  return [
    { name: "scale-up", plan: read("scale-up-3-to-4.json"), expected: { from: 3, to: 4 } },
    { name: "scale-down", plan: read("scale-down-4-to-3.json"), expected: { from: 4, to: 3 } },
  ];
}

function examplePool(): GuardPool {
  const path = new URL(
    "../examples/talos-proxmox/.github/pr-autoscaler-guard.yml",
    import.meta.url,
  );
  return selectGuardPool(
    parseGuardConfig(readFileSync(path, "utf8"), "pr-autoscaler-guard.yml"),
    undefined,
  );
}

interface RawChange {
  address?: unknown;
  change?: { actions?: unknown };
}

function actionsOf(entry: RawChange): string {
  const actions = entry.change?.actions;
  return Array.isArray(actions) ? actions.join(",") : String(actions);
}

/** An in-place update whose before and after are the same, with nothing unknown: a no-op. */
function changesNothing(entry: RawChange, actions: string): boolean {
  const change = entry.change as { before?: unknown; after?: unknown; after_unknown?: unknown };
  return (
    actions === "update" &&
    JSON.stringify(change.before) === JSON.stringify(change.after) &&
    !JSON.stringify(change.after_unknown ?? {}).includes("true")
  );
}

/**
 * Why a "pass" for this plan JSON would be unsafe, by the rules of docs/guard.md; empty when
 * passing it is right. Changes: only no-ops, reads, updates that change nothing, and creates
 * or deletes of the pool's VMs and companions with keys the change adds or removes. End state:
 * the pool's VMs are exactly the indexes 0..to-1 (a plan already applied passes).
 */
export function unsafePass(json: unknown, expected: ExpectedChange): string[] {
  const plan = json as Record<string, unknown>;
  const problems: string[] = [];
  if (plan.complete === false) problems.push("the plan is incomplete");
  if (plan.errored === true) problems.push("the plan errored");
  const changes = (
    Array.isArray(plan.resource_changes) ? plan.resource_changes : []
  ) as RawChange[];
  const after = new Set<number>();
  const inRange = (key: number, low: number, high: number) => key >= low && key < high;
  for (const entry of changes) {
    const address = String(entry.address);
    const actions = actionsOf(entry);
    const vmKey = vm.exec(address)?.[1];
    const companionKey = companion.exec(address)?.[1];
    const key = Number(vmKey ?? companionKey);
    const unchanged = actions === "no-op" || actions === "read" || changesNothing(entry, actions);
    if (unchanged) {
      if (vmKey !== undefined) after.add(key);
    } else if (actions === "create" && (vmKey ?? companionKey) !== undefined) {
      if (!inRange(key, expected.from, expected.to))
        problems.push(`${address}: create of a key not added`);
      if (vmKey !== undefined) after.add(key);
    } else if (actions === "delete" && (vmKey ?? companionKey) !== undefined) {
      if (!inRange(key, expected.to, expected.from))
        problems.push(`${address}: delete of a key not removed`);
    } else problems.push(`${address}: ${actions}`);
  }
  const right =
    Number.isSafeInteger(expected.to) &&
    after.size === expected.to &&
    [...after].every((key) => inRange(key, 0, expected.to));
  if (!right)
    problems.push(
      `after the plan the pool has VMs [${[...after].sort((a, b) => a - b).join(",")}], not 0..${expected.to - 1}`,
    );
  const drift = (Array.isArray(plan.resource_drift) ? plan.resource_drift : []) as RawChange[];
  for (const entry of drift) {
    const address = String(entry.address);
    const actions = actionsOf(entry);
    if (
      actions !== "no-op" &&
      actions !== "read" &&
      !vm.test(address) &&
      !companion.test(address)
    ) {
      problems.push(`drift outside the pool: ${address} ${actions}`);
    }
  }
  return problems;
}

function guardCase(
  id: string,
  text: string,
  expected: ExpectedChange,
  pool: GuardPool,
  what: string,
): ReliabilityCase {
  return {
    id,
    input: what,
    payload: () => ({ file, text, expected }),
    run(): Outcome {
      let plan: ReturnType<typeof parseTerraformPlan>;
      try {
        plan = parseTerraformPlan(text, file);
      } catch (error) {
        return judgeError(error, file);
      }
      let verdict: ReturnType<typeof guardPlan>;
      try {
        verdict = guardPlan(plan, pool.rules, expected);
      } catch (error) {
        return crash(`guardPlan threw on a plan that parsed: ${errorMessage(error)}`, error);
      }
      if (verdict.verdict === "refuse") {
        return verdict.offending.every((offence) => offence.reason.trim() !== "")
          ? handled("refused, with reasons")
          : crash("refused without saying why");
      }
      const unsafe = unsafePass(JSON.parse(text), expected);
      return unsafe.length === 0
        ? handled("passed")
        : crash(`passed an unsafe plan: ${unsafe.join("; ")}`);
    },
  };
}

const actionLists = [
  ["create"],
  ["delete"],
  ["update"],
  ["delete", "create"],
  ["create", "delete"],
  ["no-op"],
  ["read"],
  ["forget"],
  ["explode"],
  [],
  ["create", "create"],
  "create",
  null,
];

const addresses = [
  "proxmox_virtual_environment_vm.worker[4]",
  "proxmox_virtual_environment_vm.worker[-1]",
  'proxmox_virtual_environment_vm.worker["3"]',
  "proxmox_virtual_environment_vm.worker[03]",
  "proxmox_virtual_environment_vm.worker[3].extra",
  "module.x.proxmox_virtual_environment_vm.worker[3]",
  "proxmox_virtual_environment_vm.worker",
  "proxmox_virtual_environment_vm.worker[99999999999999999999]",
  "data.proxmox_virtual_environment_vm.worker[3]",
  "proxmox_virtual_environment_vm.control_plane[0]",
  "",
  "proxmox_virtual_environment_vm.worker[3] ",
  "PROXMOX_VIRTUAL_ENVIRONMENT_VM.worker[3]",
];

interface PlanChange {
  base: number;
  op: "actions" | "address" | "duplicate" | "remove" | "complete" | "drift" | "field" | "text";
  entry: number;
  actions: unknown;
  address: string;
  path: number;
  value: unknown;
  text: Mutation;
}

const planChange: fc.Arbitrary<PlanChange> = fc.record({
  base: fc.nat(),
  op: fc.constantFrom(
    "actions",
    "actions",
    "address",
    "address",
    "duplicate",
    "remove",
    "complete",
    "drift",
    "field",
    "field",
    "text",
  ),
  entry: fc.nat(),
  actions: fc.constantFrom(...actionLists),
  address: fc.constantFrom(...addresses),
  path: fc.nat(),
  value: hostileValue,
  text: mutation(["{", "}", "[", "]", ",", ":", '"', "\n", "null"]),
});

function changedPlan(base: Base, change: PlanChange): { text: string; what: string } {
  const plan = structuredClone(base.plan);
  const entries = plan.resource_changes as Record<string, unknown>[];
  const index = change.entry % entries.length;
  const entry = entries[index] as { address: string; change: Record<string, unknown> };
  let what: string;
  switch (change.op) {
    case "actions":
      entry.change.actions = change.actions;
      what = `${entry.address} actions ${JSON.stringify(change.actions)}`;
      break;
    case "address":
      what = `${entry.address} renamed ${JSON.stringify(change.address)}`;
      entry.address = change.address;
      break;
    case "duplicate":
      entries.push(structuredClone(entry));
      what = `${entry.address} twice`;
      break;
    case "remove":
      entries.splice(index, 1);
      what = `${entry.address} removed`;
      break;
    case "complete":
      plan.complete = change.value;
      what = `complete = ${JSON.stringify(change.value)?.slice(0, 30)}`;
      break;
    case "drift":
      plan.resource_drift = [
        { ...structuredClone(entry), change: { ...entry.change, actions: change.actions } },
      ];
      what = `drift on ${entry.address} ${JSON.stringify(change.actions)}`;
      break;
    case "field": {
      const paths = allPaths(entry);
      const path = paths[change.path % paths.length] as PathKey[];
      entries[index] = withAt(entry, path, change.value) as typeof entry;
      what = `${entry.address}${formatPathKeys(path)} = ${JSON.stringify(change.value)?.slice(0, 30)}`;
      break;
    }
    case "text":
      return {
        text: mutate(JSON.stringify(plan, null, 2), change.text),
        what: `${base.name}: text damage`,
      };
  }
  return { text: JSON.stringify(plan, null, 2), what: `${base.name}: ${what}` };
}

function handWritten(all: Base[]): [string, string, ExpectedChange][] {
  const up = all[0] as Base;
  const json = (plan: unknown) => JSON.stringify(plan);
  const withChanges = (changes: unknown) => json({ ...up.plan, resource_changes: changes });
  return [
    ["empty", "", up.expected],
    [
      "human-readable-plan",
      "Terraform will perform the following actions:\n  + create\n",
      up.expected,
    ],
    ["state-not-plan", json({ format_version: "1.0", values: {} }), up.expected],
    ["format-2", json({ ...up.plan, format_version: "2.0" }), up.expected],
    ["format-number", json({ ...up.plan, format_version: 1.2 }), up.expected],
    ["changes-object", withChanges({ a: 1 }), up.expected],
    ["changes-null", withChanges(null), up.expected],
    ["no-changes", withChanges([]), up.expected],
    [
      "change-without-actions",
      withChanges([{ address: "proxmox_virtual_environment_vm.worker[3]", change: {} }]),
      up.expected,
    ],
    ["incomplete", json({ ...up.plan, complete: false }), up.expected],
    ["errored", json({ ...up.plan, errored: true }), up.expected],
    ["expected-nothing", json(up.plan), { from: 4, to: 4 }],
    ["expected-backwards", json(up.plan), { from: 4, to: 3 }],
    ["expected-negative", json(up.plan), { from: -1, to: 0 }],
    ["expected-nan", json(up.plan), { from: Number.NaN, to: Number.NaN }],
    [
      "vm-key-quoted",
      json(up.plan).replaceAll(
        '"proxmox_virtual_environment_vm.worker[3]"',
        '"proxmox_virtual_environment_vm.worker[\\"3\\"]"',
      ),
      up.expected,
    ],
    ["expected-million", json(up.plan), { from: 3, to: 1_000_000 }],
    [
      "deep",
      `{"format_version":"1.2","resource_changes":${"[".repeat(50000)}${"]".repeat(50000)}}`,
      up.expected,
    ],
  ];
}

export const guardFamily: InputFamily = {
  name: "guard",
  description:
    "Terraform plan JSON (the example's plans changed, and hand-written) given to parseTerraformPlan and guardPlan",
  async open(options): Promise<FamilySession> {
    const all = bases();
    const pool = examplePool();
    const changes = sample(planChange, options.generated, familySeed(options.seed, "guard"));
    const cases = [
      ...handWritten(all).map(([name, text, expected]) =>
        guardCase(`guard/${name}`, text, expected, pool, name),
      ),
      ...changes.map((change, index) => {
        const base = all[change.base % all.length] as Base;
        const { text, what } = changedPlan(base, change);
        return guardCase(`guard/gen-${index}`, text, base.expected, pool, what);
      }),
    ];
    return { cases, close: async () => {} };
  },
};
