import { dataEqual, isPlainObject } from "../editors/verify.ts";
import type { PlannedChange } from "./terraform-plan.ts";

/** Terraform's action lists, reduced to what the guard decides on. */
export type ActionKind =
  | "no-op"
  | "read"
  | "create"
  | "delete"
  | "update"
  | "replace"
  | "forget"
  | "unknown";

/** Reduces `change.actions` to one kind; both replace orders count as "replace". */
export function actionKind(actions: readonly string[]): ActionKind {
  const joined = actions.join(",");
  if (joined === "delete,create" || joined === "create,delete") return "replace";
  if (actions.length !== 1) return "unknown";
  const [only] = actions;
  const single: readonly ActionKind[] = ["no-op", "read", "create", "delete", "update", "forget"];
  return single.find((kind) => kind === only) ?? "unknown";
}

const REASONS: Record<string, string> = {
  replace_because_tainted: "it is tainted",
  replace_because_cannot_update: "a changed attribute cannot be updated in place",
  replace_by_request: "a -replace option asked for it",
  replace_by_triggers: "a replace_triggered_by reference changed",
  delete_because_no_resource_config: "its resource block is gone from the configuration",
  delete_because_wrong_repetition: "the resource switched between count and for_each",
  delete_because_count_index: "its index is beyond the new count",
  delete_because_each_key: "its key is no longer in for_each",
  delete_because_no_module: "its module call is gone from the configuration",
  delete_because_no_move_target: "a moved block points at an address that does not exist",
};

/** Terraform's action_reason in words, with the attribute paths that force a replace. */
export function describeActionReason(change: PlannedChange): string | undefined {
  if (change.actionReason === undefined) return undefined;
  const words = REASONS[change.actionReason] ?? change.actionReason;
  const paths = change.replacePaths.map(formatAttributePath);
  return paths.length > 0 ? `${words}: ${paths.join(", ")}` : words;
}

/** What a change does, as a phrase: "would be replaced (it is tainted)". */
export function describeAction(change: PlannedChange, kind: ActionKind): string {
  const reason = describeActionReason(change);
  const because = reason === undefined ? "" : ` (${reason})`;
  switch (kind) {
    case "create":
      return `would be created${because}`;
    case "delete":
      return `would be destroyed${because}`;
    case "update":
      return `would be updated in place (changes: ${listOrNone(changedAttributes(change))})`;
    case "replace":
      return `would be replaced: destroyed and created again${because}`;
    case "forget":
      return "would be removed from the state without being destroyed (forget)";
    case "no-op":
    case "read":
      return "would not change";
    default:
      return `has actions Terraform's plan format does not define: ${change.actions.join(", ")}`;
  }
}

/**
 * Top-level attributes that differ between before and after, or that are known only after
 * apply (which is how a plan shows a computed value about to change).
 */
export function changedAttributes(change: {
  before: unknown;
  after: unknown;
  afterUnknown: unknown;
}): string[] {
  const before = isPlainObject(change.before) ? change.before : {};
  const after = isPlainObject(change.after) ? change.after : {};
  const unknown = isPlainObject(change.afterUnknown) ? change.afterUnknown : {};
  const names = new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(unknown)]);
  return [...names]
    .filter((name) => containsTrue(unknown[name]) || !dataEqual(before[name], after[name]))
    .sort();
}

/** `["disk", 0, "size"]` → `disk[0].size`. */
export function formatAttributePath(path: readonly (string | number)[]): string {
  return path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join("");
}

export function listOrNone(items: readonly string[]): string {
  return items.length === 0 ? "none" : items.join(", ");
}

function containsTrue(value: unknown): boolean {
  if (value === true) return true;
  if (Array.isArray(value)) return value.some(containsTrue);
  if (isPlainObject(value)) return Object.values(value).some(containsTrue);
  return false;
}
