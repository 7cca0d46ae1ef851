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
/** `index`, `index+N`, `index-N`, each optionally with a zero-padded width `:0W`. */
const INDEX = /^index(?:\s*([+-])\s*(\d+))?(?:\s*:\s*0(\d{1,2}))?$/;
const KNOWN = "{index}, {index+N}, {index-N}, {index+N:0W}, {key}";

/**
 * Checks a naming template such as `talos-worker-{index+1}`: placeholders are `{index}`,
 * `{index+N}`, `{index-N}` (count index), each with an optional width `:0W` that writes the
 * number with leading zeros (`{index+1:02}` gives `09`, as `format("%02d", …)` does), `{key}`
 * (the instance key as text) and, when `allowName`, `{name}` (the VM's name). Returns what is
 * wrong, or undefined when it is fine.
 */
export function checkNamingTemplate(template: string, allowName: boolean): string | undefined {
  for (const match of template.matchAll(PLACEHOLDER)) {
    const inner = match[1]!.trim();
    if (INDEX.test(inner) || inner === "key") continue;
    if (inner === "name" && allowName) continue;
    if (/^index\b.*:/.test(inner)) {
      return `placeholder {${match[1]}}: write a width as :0W, zero and digit count, e.g. {index+1:02}`;
    }
    const known = allowName ? `${KNOWN}, {name}` : KNOWN;
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
  return padded(context.key + offset, index[3] === undefined ? 0 : Number(index[3]));
}

/** `n` with leading zeros up to `width` digits, the sign in front: -1 at width 2 is `-01`. */
function padded(n: number, width: number): string {
  const digits = String(Math.abs(n)).padStart(width, "0");
  return n < 0 ? `-${digits}` : digits;
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

/**
 * The Kubernetes node the pool's templates give for a count index, without a plan: the
 * nodeTemplate over the nameTemplate's VM name. Undefined when the templates cannot tell it
 * (no nameTemplate and a nodeTemplate that needs `{name}`, or no templates at all).
 */
export function templateNodeName(rules: GuardRules, index: number): string | undefined {
  const name = templateVmName(rules, index);
  if (rules.nodeTemplate === undefined) return name ?? undefined;
  return renderNamingTemplate(rules.nodeTemplate, { key: index, name }) ?? undefined;
}
