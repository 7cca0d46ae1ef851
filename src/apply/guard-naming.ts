import { isPlainObject } from "../editors/verify.ts";
import type { GuardRules } from "./guard.ts";
import type { InstanceKey } from "./terraform-address.ts";

/** What a naming template can refer to. */
export interface NamingContext {
  key: InstanceKey;
  /** The VM's name, when known (only node templates may use it). */
  name?: string | null;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const INDEX = /^index(?:\s*([+-])\s*(\d+))?$/;

/**
 * Checks a naming template such as `talos-worker-{index+1}`: placeholders are `{index}`,
 * `{index+N}`, `{index-N}` (count index), `{key}` (the instance key as text) and, when
 * `allowName`, `{name}` (the VM's name). Returns what is wrong, or undefined when it is fine.
 */
export function checkNamingTemplate(template: string, allowName: boolean): string | undefined {
  for (const match of template.matchAll(PLACEHOLDER)) {
    const inner = match[1]!.trim();
    if (INDEX.test(inner) || inner === "key") continue;
    if (inner === "name" && allowName) continue;
    const known = allowName ? "{index}, {index+N}, {key}, {name}" : "{index}, {index+N}, {key}";
    return `unknown placeholder {${match[1]}} (known: ${known})`;
  }
  if (/[{}]/.test(template.replace(PLACEHOLDER, ""))) return "unbalanced '{' or '}'";
  return undefined;
}

/**
 * Renders a naming template for one instance. Returns undefined when a placeholder cannot be
 * filled: `{index}` of a `for_each` key, or `{name}` of a VM whose name is unknown.
 */
export function renderNamingTemplate(template: string, context: NamingContext): string | undefined {
  let missing = false;
  const text = template.replace(PLACEHOLDER, (_, raw: string) => {
    const value = placeholderValue(raw.trim(), context);
    if (value === undefined) missing = true;
    return value ?? "";
  });
  return missing ? undefined : text;
}

function placeholderValue(inner: string, context: NamingContext): string | undefined {
  if (inner === "key") return String(context.key);
  if (inner === "name") return context.name ?? undefined;
  const index = INDEX.exec(inner);
  if (!index || typeof context.key !== "number") return undefined;
  const offset = index[2] === undefined ? 0 : Number(index[2]) * (index[1] === "-" ? -1 : 1);
  return String(context.key + offset);
}

/**
 * The VM's name as the plan shows it: `name` (bpg/proxmox `proxmox_virtual_environment_vm`),
 * else `input.name` (a `terraform_data` stand-in). Unknown-after-apply names do not count.
 */
export function vmNameInPlan(value: unknown, unknown: unknown): string | null {
  if (!isPlainObject(value)) return null;
  const unknownMap = isPlainObject(unknown) ? unknown : {};
  if (typeof value.name === "string" && value.name !== "" && unknownMap.name !== true) {
    return value.name;
  }
  const input = value.input;
  const inputUnknown = unknownMap.input;
  if (isPlainObject(input) && typeof input.name === "string" && input.name !== "") {
    const nameUnknown =
      inputUnknown === true || (isPlainObject(inputUnknown) && inputUnknown.name === true);
    if (!nameUnknown) return input.name;
  }
  return null;
}

/** The VM name the pool's nameTemplate gives, or null without one. */
export function templateVmName(rules: GuardRules, key: InstanceKey): string | null {
  if (rules.nameTemplate === undefined) return null;
  return renderNamingTemplate(rules.nameTemplate, { key }) ?? null;
}

/** The Kubernetes node of a VM: the nodeTemplate, else the VM's own name. */
export function kubernetesNodeName(
  rules: GuardRules,
  key: InstanceKey,
  name: string | null,
): string | null {
  if (rules.nodeTemplate === undefined) return name;
  return renderNamingTemplate(rules.nodeTemplate, { key, name }) ?? null;
}
