import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { AutomergeConfig } from "./automerge-config.ts";

/** Where the policy files' schema is committed, beside the presets it describes. */
export const POLICY_SCHEMA_FILE = "policies/policy.schema.json";

/**
 * JSON Schema of a policy file (a preset, or a file `extends` names) as people write it, for
 * editors: `# yaml-language-server: $schema=<url of this file>`. Draft 7, like the repo config's.
 */
export function policyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(AutomergeConfig, { io: "input", target: "draft-07" }) as Record<
    string,
    unknown
  >;
}

/** The schema file's exact text: stable key order, two-space indent, final newline. */
export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}

/** Writes the policy schema under `projectRoot`; returns the file written. */
export async function writePolicyJsonSchema(projectRoot: string): Promise<string> {
  const file = join(projectRoot, POLICY_SCHEMA_FILE);
  await writeFile(file, policyJsonSchemaText());
  return file;
}

// `node src/policy/policy-json-schema.ts` regenerates the committed schema.
if (import.meta.main) {
  const file = await writePolicyJsonSchema(join(import.meta.dirname, "..", ".."));
  process.stdout.write(`wrote ${file}\n`);
}
