import { z } from "zod";
import { RepoConfig } from "./repo-config.ts";

/** Where the generated schema is committed, relative to the project root. */
export const REPO_CONFIG_SCHEMA_FILE = "schema/pr-autoscaler.schema.json";

/**
 * JSON Schema of `.github/pr-autoscaler.yml` as users write it (durations and quantities as
 * text), for editors: `# yaml-language-server: $schema=<url of this file>`. Draft 7, which every
 * YAML language server reads.
 */
export function repoConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(RepoConfig, { io: "input", target: "draft-07" }) as Record<string, unknown>;
}

/** The schema file's exact text: stable key order, two-space indent, final newline. */
export function repoConfigJsonSchemaText(): string {
  return `${JSON.stringify(repoConfigJsonSchema(), null, 2)}\n`;
}
