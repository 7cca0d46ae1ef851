import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import {
  REPO_CONFIG_SCHEMA_FILE,
  repoConfigJsonSchema,
  repoConfigJsonSchemaText,
} from "../../src/policy/repo-config-json-schema.ts";

const ROOT = join(import.meta.dirname, "..", "..");

describe("repoConfigJsonSchema", () => {
  it("matches the committed schema file (regenerate: node src/policy/write-repo-config-json-schema.ts)", () => {
    const committed = readFileSync(join(ROOT, REPO_CONFIG_SCHEMA_FILE), "utf8");
    expect(committed).toBe(repoConfigJsonSchemaText());
  });

  it("describes the config as users write it: strict objects, durations and quantities as text", () => {
    interface Node {
      type?: string | string[];
      anyOf?: unknown[];
      default?: unknown;
      maximum?: number;
      required?: string[];
      additionalProperties?: boolean;
      properties: Record<string, Node>;
    }
    const schema = repoConfigJsonSchema() as unknown as Node & {
      $schema: string;
      properties: { pools: { items: Node } };
    };
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.additionalProperties).toBe(false);
    const pool = schema.properties.pools.items;
    expect(pool.required).toEqual(["name", "target", "max"]);
    // A duration is text, or the number 0.
    expect(pool.properties.cooldown).toMatchObject({
      anyOf: [{ type: "string" }, { type: "number", const: 0 }],
      default: "5m",
    });
    expect(pool.properties.newNode?.properties.memory?.type).toEqual(["string", "number"]);
    expect(pool.properties.scaleUp?.properties.cpu).toMatchObject({ default: 80, maximum: 100 });
    expect(pool.properties.newNode?.additionalProperties).toBe(false);
  });
});
