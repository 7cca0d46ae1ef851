import { type Document, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { InputError, type SourceLocation } from "../errors.ts";
import { configIssueMessage } from "../policy/config-issue-message.ts";
import { compileGuardRules, type GuardRules } from "./guard.ts";

const GuardPoolConfig = z.strictObject({
  vmAddress: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
    error: (issue) =>
      issue.input === undefined
        ? `missing required key "vmAddress": write the Terraform address pattern of the pool's VMs, e.g. vmAddress: "proxmox_virtual_environment_vm.worker[*]"`
        : "expected an address pattern or a list of them",
  }),
  companions: z.array(z.string().min(1)).default([]),
  nameTemplate: z.string().min(1).optional(),
  nodeTemplate: z.string().min(1).optional(),
  allowedUpdateAttributes: z.array(z.string().min(1)).default([]),
  countVariable: z.string().min(1).optional(),
});

/** The guard's own config file (YAML or JSON). */
const GuardConfig = z.strictObject({
  drift: z.enum(["refuse", "warn"]).default("refuse"),
  pools: z
    .record(z.string().min(1), GuardPoolConfig)
    .refine((pools) => Object.keys(pools).length > 0, "name at least one pool"),
});
export type GuardConfig = z.infer<typeof GuardConfig>;

/** One pool's rules, with the tfvars variable that holds its size when the config names it. */
export interface GuardPool {
  name: string;
  rules: GuardRules;
  countVariable?: string;
}

/** A checked guard config that can still say where each of its values is written. */
export interface LoadedGuardConfig {
  config: GuardConfig;
  file: string;
  /** The file and line of the value at `path` (e.g. `["pools", "gpu", "nameTemplate"]`). */
  locate(path: readonly PropertyKey[]): SourceLocation;
}

/**
 * Reads and checks a guard config file. Throws an InputError with file:line for YAML that does
 * not parse, unknown or missing fields, and address patterns or templates that cannot be used.
 */
export function parseGuardConfig(text: string, file: string): GuardConfig {
  return loadGuardConfig(text, file).config;
}

/** Like parseGuardConfig, keeping the lines of the config's values for later messages. */
export function loadGuardConfig(text: string, file: string): LoadedGuardConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const [yamlError] = document.errors;
  if (yamlError) {
    const { line, col } = lineCounter.linePos(yamlError.pos[0]);
    const hint = text.includes("[*]") ? " (quote address patterns: '...worker[*]')" : "";
    throw new InputError(`not valid YAML: ${yamlError.message.split("\n")[0]}${hint}`, {
      file,
      line,
      column: col,
    });
  }
  const parsed = GuardConfig.safeParse(document.toJS(), { error: configIssueMessage });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // A missing key is named in the message, at the mapping that lacks it.
    const missing = issue.message.startsWith("missing required key");
    const where =
      (missing ? issue.path.slice(0, -1) : issue.path).map(String).join(".") || "(top level)";
    throw new InputError(
      `${where}: ${issue.message}`,
      locate(document, lineCounter, issue.path, file),
    );
  }
  for (const name of Object.keys(parsed.data.pools)) {
    try {
      compileGuardRules(poolRules(parsed.data, name));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      // compileGuardRules names the field first, with the config's own field names.
      const field = /^(\w+):/.exec(error.message)?.[1];
      const path = field === undefined ? ["pools", name] : ["pools", name, field];
      throw new InputError(
        `pools.${name}.${error.message}`,
        locate(document, lineCounter, path, file),
      );
    }
  }
  return {
    config: parsed.data,
    file,
    locate: (path) => locate(document, lineCounter, path, file),
  };
}

/**
 * Picks the pool to guard: the named one, or the only one. Throws an InputError (exit 2) when
 * the name is unknown or the config has several pools and none is named.
 */
export function selectGuardPool(config: GuardConfig, name: string | undefined): GuardPool {
  const names = Object.keys(config.pools);
  const chosen = name ?? (names.length === 1 ? names[0] : undefined);
  if (chosen === undefined) {
    throw new InputError(
      `the config has several pools (${names.join(", ")}): choose one with --pool`,
    );
  }
  const pool = config.pools[chosen];
  if (pool === undefined) {
    throw new InputError(
      `no pool ${JSON.stringify(chosen)} in the config (pools: ${names.join(", ")})`,
    );
  }
  const selected: GuardPool = { name: chosen, rules: poolRules(config, chosen) };
  if (pool.countVariable !== undefined) selected.countVariable = pool.countVariable;
  return selected;
}

/** Every pool of the config, in its order, for guarding them all at once. */
export function allGuardPools(config: GuardConfig): GuardPool[] {
  return Object.keys(config.pools).map((name) => selectGuardPool(config, name));
}

function poolRules(config: GuardConfig, name: string): GuardRules {
  const pool = config.pools[name]!;
  const rules: GuardRules = {
    vmAddresses: typeof pool.vmAddress === "string" ? [pool.vmAddress] : pool.vmAddress,
    companionAddresses: pool.companions,
    allowedUpdateAttributes: pool.allowedUpdateAttributes,
    drift: config.drift,
  };
  if (pool.nameTemplate !== undefined) rules.nameTemplate = pool.nameTemplate;
  if (pool.nodeTemplate !== undefined) rules.nodeTemplate = pool.nodeTemplate;
  return rules;
}

/** The line of the deepest node on `path` that exists in the document. */
function locate(
  document: Document,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
  file: string,
): SourceLocation {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = document.getIn(path.slice(0, depth) as unknown[], true) as
      | { range?: [number, number, number] }
      | undefined;
    if (node?.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return { file, line, column: col };
    }
  }
  return { file };
}
