import { parseDocument } from "yaml";
import { z } from "zod";
import { InputError, type SourceLocation } from "../errors.ts";
import { parseResourceAddress, type ResourceAddress } from "./terraform-address.ts";

/** The parts of one `resource_changes[]` / `resource_drift[]` entry that the guard reads. */
const ResourceChangeJson = z.looseObject({
  address: z.string(),
  previous_address: z.string().optional(),
  deposed: z.string().optional(),
  action_reason: z.string().optional(),
  change: z.looseObject({
    actions: z.array(z.string()).min(1),
    before: z.unknown().optional(),
    after: z.unknown().optional(),
    after_unknown: z.unknown().optional(),
    replace_paths: z.array(z.array(z.union([z.string(), z.number()]))).optional(),
    importing: z.unknown().optional(),
  }),
});

/**
 * One `action_invocations[]` entry (Terraform 1.14 and later): a provider-defined action the apply
 * runs, invoked on its own or triggered by a resource's lifecycle event. Only its address is read.
 */
const ActionInvocationJson = z.looseObject({ address: z.string().optional() });

const RelevantAttributeJson = z.looseObject({
  resource: z.string(),
  attribute: z.array(z.union([z.string(), z.number()])),
});

/** `terraform show -json PLANFILE` output, leniently: only the fields the guard uses. */
const TerraformPlanJson = z.looseObject({
  format_version: z.string(),
  terraform_version: z.string().optional(),
  resource_changes: z.array(ResourceChangeJson).optional(),
  resource_drift: z.array(ResourceChangeJson).optional(),
  relevant_attributes: z.array(RelevantAttributeJson).optional(),
  action_invocations: z.array(ActionInvocationJson).optional(),
  complete: z.boolean().optional(),
  errored: z.boolean().optional(),
});
type TerraformPlanJson = z.infer<typeof TerraformPlanJson>;
type ResourceChangeJson = z.infer<typeof ResourceChangeJson>;

/** One planned (or drifted) resource instance change, in the guard's own terms. */
export interface PlannedChange {
  address: string;
  resource: ResourceAddress;
  /** Terraform's action list: ["no-op"], ["create"], ["delete", "create"], … */
  actions: string[];
  actionReason?: string;
  before: unknown;
  after: unknown;
  /** Mirrors `after` with `true` where the value is known only after apply. */
  afterUnknown: unknown;
  replacePaths: (string | number)[][];
  /** Set when this change is for a deposed object left over from an earlier replace. */
  deposed?: string;
  /** Set when a `moved` block changed this instance's address. */
  previousAddress?: string;
  importing: boolean;
}

/** A plan as the guard sees it. */
export interface TerraformPlan {
  formatVersion: string;
  terraformVersion?: string;
  /** False when Terraform says more planning is needed (targeted or deferred changes). */
  complete: boolean;
  changes: PlannedChange[];
  /** Changes made outside Terraform since the last apply (`resource_drift`). */
  drift: PlannedChange[];
  /** Attribute paths, per resource address, that the planned changes depend on. */
  relevantAttributes: { resource: string; attribute: (string | number)[] }[];
  /** The addresses of the actions the apply would invoke (`action_invocations`), when any. */
  actionInvocations?: string[];
}

const SUPPORTED_FORMAT = /^1\.\d+$/;

/**
 * Reads `terraform show -json PLANFILE` output. Throws an InputError (exit 2) with `file` and,
 * where known, the line for text that is not JSON, not a plan, or of an unsupported format.
 */
export function parseTerraformPlan(text: string, file: string): TerraformPlan {
  const data = parseJson(text, file);
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new InputError(
      "not a Terraform plan: expected the JSON object that `terraform show -json PLANFILE` prints",
      { file },
    );
  }
  checkIsPlan(data as Record<string, unknown>, file);
  const parsed = TerraformPlanJson.safeParse(data);
  if (!parsed.success) throw schemaError(parsed.error, file);
  return toPlan(parsed.data, file);
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    if (isUiMessageStream(text)) {
      throw new InputError(
        "this is the machine-readable log of `terraform plan -json` (one message per line), not a plan: run `terraform plan -out=PLANFILE` and pass `terraform show -json PLANFILE`",
        { file },
      );
    }
    const location: SourceLocation = { file, ...jsonErrorPosition(text, message) };
    const hint =
      text.trimStart().startsWith("{") || text.trim() === ""
        ? ""
        : " (pass the output of `terraform show -json PLANFILE`, not the human-readable plan)";
    throw new InputError(`not valid JSON: ${message}${hint}`, location);
  }
}

/** Whether the text's first line is one of the messages `terraform plan -json` prints. */
function isUiMessageStream(text: string): boolean {
  const first = text.trimStart().split("\n", 1)[0] ?? "";
  try {
    const message = JSON.parse(first) as unknown;
    return (
      typeof message === "object" &&
      message !== null &&
      "@level" in message &&
      "@message" in message
    );
  } catch {
    return false;
  }
}

/**
 * Node reports "(line L column C)" or "at position N" for most syntax errors but not all; for
 * the rest, the YAML parser (JSON is YAML) finds the spot.
 */
function jsonErrorPosition(text: string, message: string): { line?: number; column?: number } {
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) return { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  const position = /position (\d+)/.exec(message);
  const offset = position ? Number(position[1]) : parseDocument(text).errors[0]?.pos[0];
  if (offset === undefined) return {};
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
}

function checkIsPlan(record: Record<string, unknown>, file: string): void {
  const version = record.format_version;
  if (typeof version !== "string") {
    throw new InputError(
      "not a Terraform plan: there is no format_version; expected the output of `terraform show -json PLANFILE`",
      { file },
    );
  }
  if (!SUPPORTED_FORMAT.test(version)) {
    const made = record.terraform_version;
    const by = typeof made === "string" ? `; this plan was made with Terraform ${made}` : "";
    const fix = /^0\./.test(version) ? ": plan with Terraform 1.1 or later" : "";
    throw new InputError(
      `format_version ${JSON.stringify(version)} is not supported: the guard reads the 1.x plan format, which Terraform writes from 1.1 on${by}${fix}`,
      { file },
    );
  }
  if (!("planned_values" in record) && !("resource_changes" in record)) {
    const what =
      "values" in record ? "a state (`terraform show -json` without a plan file)" : "not a plan";
    throw new InputError(
      `this is ${what}: run \`terraform plan -out=PLANFILE\` and pass \`terraform show -json PLANFILE\``,
      { file },
    );
  }
  if (record.errored === true) {
    throw new InputError(
      "the plan is marked errored: Terraform could not finish planning; fix the errors and plan again",
      { file },
    );
  }
}

function schemaError(error: z.ZodError, file: string): InputError {
  const issue = error.issues[0];
  const path = issue ? formatJsonPath(issue.path) : "";
  return new InputError(
    `not a Terraform plan in the expected shape: ${path || "(top level)"}: ${issue?.message ?? "invalid"}`,
    { file },
  );
}

function formatJsonPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) =>
      typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`,
    )
    .join("");
}

function toPlan(json: TerraformPlanJson, file: string): TerraformPlan {
  const plan: TerraformPlan = {
    formatVersion: json.format_version,
    complete: json.complete ?? true,
    changes: (json.resource_changes ?? []).map((c, i) =>
      toChange(c, file, `resource_changes[${i}]`),
    ),
    drift: (json.resource_drift ?? []).map((c, i) => toChange(c, file, `resource_drift[${i}]`)),
    relevantAttributes: (json.relevant_attributes ?? []).map((a) => ({
      resource: a.resource,
      attribute: a.attribute,
    })),
  };
  if (json.terraform_version !== undefined) plan.terraformVersion = json.terraform_version;
  const actions = json.action_invocations ?? [];
  if (actions.length > 0) plan.actionInvocations = actions.map((a) => a.address ?? "(action)");
  return plan;
}

function toChange(json: ResourceChangeJson, file: string, where: string): PlannedChange {
  let resource: ResourceAddress;
  try {
    resource = parseResourceAddress(json.address);
  } catch (error) {
    throw new InputError(`${where}.address: ${(error as Error).message}`, { file });
  }
  const change: PlannedChange = {
    address: json.address,
    resource,
    actions: json.change.actions,
    before: json.change.before ?? null,
    after: json.change.after ?? null,
    afterUnknown: json.change.after_unknown ?? {},
    replacePaths: json.change.replace_paths ?? [],
    importing: json.change.importing !== undefined && json.change.importing !== null,
  };
  if (json.action_reason !== undefined) change.actionReason = json.action_reason;
  if (json.deposed !== undefined) change.deposed = json.deposed;
  if (json.previous_address !== undefined) change.previousAddress = json.previous_address;
  return change;
}
