import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { REPO_CONFIG_SCHEMA_FILE, repoConfigJsonSchemaText } from "./repo-config-json-schema.ts";

/** Writes the repo config's JSON Schema under `projectRoot`; returns the file written. */
export async function writeRepoConfigJsonSchema(projectRoot: string): Promise<string> {
  const file = join(projectRoot, REPO_CONFIG_SCHEMA_FILE);
  await writeFile(file, repoConfigJsonSchemaText());
  return file;
}

// `node src/policy/write-repo-config-json-schema.ts` regenerates the committed schema.
if (import.meta.main) {
  const file = await writeRepoConfigJsonSchema(join(import.meta.dirname, "..", ".."));
  process.stdout.write(`wrote ${file}\n`);
}
