import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { Ajv } from "ajv";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import {
  CpuQuantity,
  DURATION_PATTERN,
  MemoryQuantity,
  QUANTITY_PATTERN,
} from "../../src/policy/config-values.ts";
import { loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import { POLICY_SCHEMA_FILE } from "../../src/policy/policy-json-schema.ts";
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
    // A duration is text, or the number 0; a quantity text, or a number above 0.
    expect(pool.properties.cooldown).toMatchObject({
      anyOf: [
        { type: "string", pattern: DURATION_PATTERN },
        { type: "number", const: 0 },
      ],
      default: "5m",
    });
    expect(pool.properties.newNode?.properties.memory?.anyOf).toEqual([
      { type: "string", pattern: QUANTITY_PATTERN },
      { type: "number", exclusiveMinimum: 0 },
    ]);
    expect(pool.properties.scaleUp?.properties.cpu).toMatchObject({ default: 80, maximum: 100 });
    expect(pool.properties.newNode?.additionalProperties).toBe(false);
  });
});

/** The committed schema file, as editors and validators read it. */
function committedSchema(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, file), "utf8")) as Record<string, unknown>;
}

/** The subschema at a dotted path of keys (`properties.pools.items`). */
function subschema(schema: unknown, path: string): Record<string, unknown> {
  let node = schema;
  for (const key of path.split(".")) node = (node as Record<string, unknown>)[key];
  if (typeof node !== "object" || node === null) throw new Error(`no subschema at ${path}`);
  return node as Record<string, unknown>;
}

/** The `pattern` of the text branch of a value that is text or a number. */
function textPattern(schema: unknown, path: string): RegExp {
  const options = subschema(schema, path).anyOf as { type: string; pattern?: string }[];
  const text = options.find((option) => option.type === "string");
  if (text?.pattern === undefined) throw new Error(`no text pattern at ${path}`);
  return new RegExp(text.pattern, "u");
}

const POOL = "properties.pools.items.properties";
const DURATIONS = [
  `${POOL}.cooldown`,
  `${POOL}.scaleUp.properties.window`,
  `${POOL}.schedules.items.properties.duration`,
];
const QUANTITIES = [
  `${POOL}.newNode.properties.cpu`,
  `${POOL}.newNode.properties.memory`,
  `${POOL}.host.properties.memory`,
  `${POOL}.host.properties.reserved.properties.cpu`,
];

describe("the committed JSON Schema files", () => {
  it.each([REPO_CONFIG_SCHEMA_FILE, POLICY_SCHEMA_FILE])(
    "%s compiles in Ajv's strict mode without a warning",
    (file) => {
      const warnings: unknown[] = [];
      const logger = { log() {}, warn: (...args: unknown[]) => warnings.push(args), error() {} };
      expect(() => new Ajv({ strict: true, logger }).compile(committedSchema(file))).not.toThrow();
      expect(warnings).toEqual([]);
    },
  );

  it("checks removal.nameTemplate with a pattern, not a format Ajv does not know", () => {
    const schema = committedSchema(REPO_CONFIG_SCHEMA_FILE);
    const nameTemplate = subschema(schema, `${POOL}.removal.properties.nameTemplate`);
    expect(nameTemplate.format).toBeUndefined();
    const pattern = new RegExp(String(nameTemplate.pattern), "u");
    expect(pattern.test("talos-worker-{index}")).toBe(true);
    expect(pattern.test("talos-worker-")).toBe(false);
    // An editor's hover tells when the default names no node: names not in a row of numbers.
    expect(nameTemplate.description).toContain(
      "the names end in as many numbers in a row as there are nodes",
    );
    expect(nameTemplate.description).toContain("otherwise no node is named");
  });

  it("gives durations a pattern that takes the documented forms and refuses the rest", () => {
    const schema = committedSchema(REPO_CONFIG_SCHEMA_FILE);
    for (const path of DURATIONS) {
      const pattern = textPattern(schema, path);
      for (const text of ["90s", "10m", "1h30m", "2d", "0", "0s", "1d2h3m4s"])
        expect({ path, text, matches: pattern.test(text) }).toEqual({ path, text, matches: true });
      for (const text of [
        "",
        "10",
        "5 minutes",
        "1m1h",
        "-5m",
        "1.5h",
        "soon",
        "00",
        "10M",
        "366d",
      ])
        expect({ path, text, matches: pattern.test(text) }).toEqual({ path, text, matches: false });
    }
  });

  it("gives quantities a pattern that takes the documented forms and refuses the rest", () => {
    const schema = committedSchema(REPO_CONFIG_SCHEMA_FILE);
    for (const path of QUANTITIES) {
      const pattern = textPattern(schema, path);
      for (const text of ["4", "3.5", "3500m", "0.5", ".5", "16Gi", "512Mi", "8G", "1e3", "15Gi"])
        expect({ path, text, matches: pattern.test(text) }).toEqual({ path, text, matches: true });
      for (const text of ["abc", "15GB", "lots", "0", "0m", "-1", "", "1e", "4 cores", "1gi"])
        expect({ path, text, matches: pattern.test(text) }).toEqual({ path, text, matches: false });
    }
  });

  it("matches the quantity texts the loader reads, but for values too large to hold", () => {
    const pattern = textPattern(committedSchema(REPO_CONFIG_SCHEMA_FILE), QUANTITIES[0] as string);
    const unit = fc.constantFrom(..."0159.+-eEnumkMGTPKiB x");
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 8 }), (text) => {
        for (const schema of [CpuQuantity, MemoryQuantity]) {
          const loaded = schema.safeParse(text);
          const message = loaded.error?.issues[0]?.message ?? "";
          const tooLarge = /too large|out of range/.test(message);
          if (!tooLarge)
            expect({ text, matches: pattern.test(text), message }).toEqual({
              text,
              matches: loaded.success,
              message,
            });
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("lets an editor flag what the loader refuses, and pass what it takes", () => {
    const validate = new Ajv({ strict: true, allErrors: true }).compile(
      committedSchema(REPO_CONFIG_SCHEMA_FILE),
    );
    const full = parse(readFileSync(join(ROOT, "test", "fixtures", "config", "full.yml"), "utf8"));
    expect({ valid: validate(full), errors: validate.errors ?? null }).toEqual({
      valid: true,
      errors: null,
    });
    const pool = {
      name: "workers",
      target: { file: "terraform/terraform.tfvars", path: "worker_count" },
      max: 6,
    };
    for (const [key, value, where] of [
      ["newNode", { memory: "15GB" }, "/pools/0/newNode/memory"],
      ["host", { cpu: "lots", node: { cpu: 4 } }, "/pools/0/host/cpu"],
      ["cooldown", "abc", "/pools/0/cooldown"],
      ["scaleDown", { requests: 0.5 }, "/pools/0/scaleDown/requests"],
      ["provisionTimeout", 0, "/pools/0/provisionTimeout"],
      ["provisionTimeout", "30s", "/pools/0/provisionTimeout"],
      ["removal", { nameTemplate: "talos-worker" }, "/pools/0/removal/nameTemplate"],
      ["okUnready", -1, "/pools/0/okUnready"],
      ["okUnready", 1.5, "/pools/0/okUnready"],
    ] as const) {
      const config = { pools: [{ ...pool, [key]: value }] };
      expect(validate(config)).toBe(false);
      const paths = (validate.errors ?? []).map((error) => error.instancePath);
      expect({ key, paths }).toEqual({ key, paths: expect.arrayContaining([where]) });
      expect(loadRepoConfig(stringify(config)).ok).toBe(false);
    }
  });
});
