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
      amounts[name] = parseResourceQuantity(name, text);
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

/** Converts amounts keyed by Kubernetes names into the snapshot's Resources shape. */
export function toResources(amounts: Record<string, number>): Resources {
  const resources: Resources = {};
  for (const name in amounts) {
    const amount = amounts[name] as number;
    switch (name) {
      case "cpu":
        resources.cpu = amount;
        break;
      case "memory":
        resources.memory = amount;
        break;
      case "pods":
        resources.pods = amount;
        break;
      case "ephemeral-storage":
        resources.ephemeralStorage = amount;
        break;
      default:
        resources.extended = { ...resources.extended, [name]: amount };
    }
  }
  return resources;
}

/** Reads a ResourceList straight into Resources, dropping invalid entries (with warnings). */
export function readResources(value: unknown, context: FieldContext): Resources {
  return toResources(readResourceList(value, context).amounts);
}
