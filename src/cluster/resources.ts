import { parseResourceQuantity, QuantityError } from "../planning/quantity.ts";
import type { Resources } from "../planning/snapshot.ts";
import { record } from "./raw.ts";
import type { WarningCollector } from "./warnings.ts";

/**
 * A Kubernetes ResourceList in snapshot units, keyed by resource name (`cpu`, `memory`,
 * `nvidia.com/gpu`). Names whose quantity could not be read are in `invalid`: their amount is
 * unknown, which is different from zero.
 */
export interface ResourceAmounts {
  amounts: Record<string, number>;
  invalid: string[] | undefined;
}

/** Where a ResourceList sits, for warnings: `pod/media/plex`, `spec.containers[0].resources.requests`. */
export interface FieldContext {
  subject: string;
  field: string;
  warnings: WarningCollector;
}

/**
 * Reads a ResourceList (`{cpu: "250m", memory: "1Gi"}`). A malformed quantity leaves that
 * resource unknown and adds a `quantity-invalid` warning naming the object and the field.
 */
export function readResourceList(value: unknown, context: FieldContext): ResourceAmounts {
  const source = record(value);
  const amounts: Record<string, number> = {};
  let invalid: string[] | undefined;
  for (const name in source) {
    const raw = source[name];
    // CRDs such as the VPA store quantities as given, so `cpu: 1` arrives as a number.
    const text = typeof raw === "number" ? String(raw) : raw;
    try {
      if (typeof text !== "string") throw new QuantityError(String(text), "not a string");
      amounts[name] = nonNegative(parseResourceQuantity(name, text), text);
    } catch (error) {
      if (!(error instanceof QuantityError)) throw error;
      invalid = [...(invalid ?? []), name];
      context.warnings.add(
        "quantity-invalid",
        `${context.field}.${name}: ${error.message}; treated as unknown`,
        context.subject,
      );
    }
  }
  return { amounts, invalid };
}

/**
 * An amount of a resource is never below zero. Kubernetes validates pod requests, but CRDs
 * (the VPA), metrics and unvalidated JSON can carry a minus sign, which must read as unknown.
 */
export function nonNegative(amount: number, text: string): number {
  if (amount < 0)
    throw new QuantityError(text, "negative: an amount of a resource cannot be below zero");
  return amount;
}

/**
 * Converts amounts keyed by Kubernetes names into the snapshot's Resources shape, always in
 * the same key order (cpu, memory, pods, ephemeralStorage, extended), so that equal amounts
 * look equal in JSON and can be shared.
 */
export function toResources(amounts: Record<string, number>): Resources {
  const resources: Resources = {};
  const { cpu, memory, pods } = amounts;
  const ephemeralStorage = amounts["ephemeral-storage"];
  if (cpu !== undefined) resources.cpu = cpu;
  if (memory !== undefined) resources.memory = memory;
  if (pods !== undefined) resources.pods = pods;
  if (ephemeralStorage !== undefined) resources.ephemeralStorage = ephemeralStorage;
  for (const name in amounts) {
    if (knownNames.has(name)) continue;
    resources.extended ??= {};
    resources.extended[name] = amounts[name] as number;
  }
  return resources;
}

const knownNames = new Set(["cpu", "memory", "pods", "ephemeral-storage"]);

/** Reads a ResourceList straight into Resources, dropping invalid entries (with warnings). */
export function readResources(value: unknown, context: FieldContext): Resources {
  return toResources(readResourceList(value, context).amounts);
}
