import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { Ajv } from "ajv";
import fc from "fast-check";
import { parse } from "yaml";
import {
  CronExpression,
  Duration,
  ExtendedResourceName,
  LabelKey,
  LabelValue,
  minuteDuration,
  RepoFilePath,
  ValuePath,
  zeroOrMinuteDuration,
} from "../../src/policy/config-values.ts";
import { loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import { POLICY_SCHEMA_FILE } from "../../src/policy/policy-json-schema.ts";
import { parsePolicyReference } from "../../src/policy/policy-reference.ts";
import { HoursRange, WeekDays } from "../../src/policy/policy-window-values.ts";
import { REPO_CONFIG_SCHEMA_FILE } from "../../src/policy/repo-config-json-schema.ts";

const ROOT = join(import.meta.dirname, "..", "..");

/** A committed schema file, as editors read it. */
function committed(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, file), "utf8")) as Record<string, unknown>;
}

const schema = committed(REPO_CONFIG_SCHEMA_FILE);
const ajv = new Ajv({ strict: true, allErrors: true });
const validate = ajv.compile(schema);

/** The subschema at a dotted path of keys (`properties.pools.items`). */
function subschema(path: string): Record<string, unknown> {
  let node: unknown = schema;
  for (const key of path.split(".")) node = (node as Record<string, unknown>)[key];
  if (typeof node !== "object" || node === null) throw new Error(`no subschema at ${path}`);
  return node as Record<string, unknown>;
}

const POOL = "properties.pools.items.properties";

/** A pool with the given extra lines, indented under the list item. */
function pool(
  extra: string,
  target = "file: terraform/terraform.tfvars\npath: worker_count",
): string {
  const indent = (text: string, by: string) =>
    text
      .split("\n")
      .map((line) => (line ? `${by}${line}` : line))
      .join("\n");
  return `pools:\n  - name: workers\n    target:\n${indent(target, "      ")}\n    max: 6\n${indent(extra, "    ")}\n`;
}

/** The editor's verdict (the committed schema) and the app's (the loader) on a file. */
function verdicts(text: string): { schema: boolean; app: boolean } {
  return { schema: validate(parse(text)) as boolean, app: loadRepoConfig(text).ok };
}

const REFUSED_BY_BOTH: [string, string][] = [
  ["pool named all", pool("").replace("name: workers", "name: all")],
  ["pool named ALL", pool("").replace("name: workers", "name: ALL")],
  ["unneededTime 30s", pool("scaleDown:\n  unneededTime: 30s")],
  ["unneededTime 0m59s", pool("scaleDown:\n  unneededTime: 0m59s")],
  ["schedule duration 30s", pool("schedules:\n  - {cron: '0 18 * * 5', duration: 30s, min: 3}")],
  ["schedule duration 0", pool("schedules:\n  - {cron: '0 18 * * 5', duration: 0, min: 3}")],
  ["cooldown 999999999d", pool("cooldown: 999999999d")],
  ["cooldown 366d", pool("cooldown: 366d")],
  ["cron with six fields", pool("schedules:\n  - {cron: '0 0 18 * * 5', duration: 1h, min: 3}")],
  ["cron hour 25", pool("schedules:\n  - {cron: '0 25 * * 5', duration: 1h, min: 3}")],
  ["cron day-of-week 8", pool("schedules:\n  - {cron: '0 18 * * 8', duration: 1h, min: 3}")],
  ["cron W alone", pool("schedules:\n  - {cron: '0 18 W * *', duration: 1h, min: 3}")],
  ["cron long day name", pool("schedules:\n  - {cron: '0 18 * * friday', duration: 1h, min: 3}")],
  ["cron @reboot", pool("schedules:\n  - {cron: '@reboot', duration: 1h, min: 3}")],
  ["cron step 0", pool("schedules:\n  - {cron: '*/0 * * * *', duration: 1h, min: 3}")],
  [
    "selector In without values",
    pool("selector:\n  matchExpressions:\n    - {key: a, operator: In}"),
  ],
  [
    "selector NotIn with []",
    pool("selector:\n  matchExpressions:\n    - {key: a, operator: NotIn, values: []}"),
  ],
  [
    "selector Exists with values",
    pool("selector:\n  matchExpressions:\n    - {key: a, operator: Exists, values: [b]}"),
  ],
  ["target file ../x.tfvars", pool("", "file: ../x.tfvars\npath: n")],
  ["target file a/../x.tfvars", pool("", "file: a/../x.tfvars\npath: n")],
  ["target file /abs.tfvars", pool("", "file: /abs.tfvars\npath: n")],
  ["target file with a backslash", pool("", "file: 'a\\x.tfvars'\npath: n")],
  ["target file .hcl without format", pool("", "file: workers.hcl\npath: n")],
  ["target document in tfvars", pool("", "file: a.tfvars\npath: n\ndocument: 0")],
  [
    "target document, format tfvars",
    pool("", "file: a.yaml\npath: n\nformat: tfvars\ndocument: 0"),
  ],
  ["target path a..b", pool("", "file: a.tfvars\npath: 'a..b'")],
  ["target path empty", pool("", "file: a.tfvars\npath: ''")],
  ["target path unclosed bracket", pool("", "file: a.tfvars\npath: 'a[0'")],
  ["host {}", pool("host: {}")],
  ["host memory without node memory", pool("host:\n  memory: 64Gi")],
  ["host cpu with node memory only", pool("host:\n  cpu: 16\n  node: {memory: 16Gi}")],
  [
    "window with both forms",
    "automerge:\n  notDuring:\n    - {cron: '0 19 * * 5', duration: 4h, days: fri}\n",
  ],
  ["window with nothing", "automerge:\n  notDuring:\n    - name: x\n"],
  ["window cron without duration", "automerge:\n  notDuring:\n    - cron: '0 19 * * 5'\n"],
  ["window duration without cron", "automerge:\n  notDuring:\n    - duration: 4h\n"],
  ["window duration 0", "automerge:\n  notDuring:\n    - {cron: '0 19 * * 5', duration: 0}\n"],
  [
    "window duration 0m0s",
    "automerge:\n  notDuring:\n    - {cron: '0 19 * * 5', duration: 0m0s}\n",
  ],
  ["window days misspelt", "automerge:\n  notDuring:\n    - days: monday-fryday\n"],
  ["window days []", "automerge:\n  notDuring:\n    - days: []\n"],
  ["window hours 8-25", "automerge:\n  notDuring:\n    - hours: '8-25'\n"],
  ["window hours from 24:00", "automerge:\n  notDuring:\n    - hours: '24:00-06:00'\n"],
  ["review rule with minAge", "automerge:\n  rules:\n    - {action: review, minAge: 10m}\n"],
  [
    "merge rule with reviewers",
    "automerge:\n  rules:\n    - {action: merge, reviewers: [octocat]}\n",
  ],
  [
    "nodes rule with maxChange",
    "automerge:\n  rules:\n    - {action: merge, match: {kind: nodes, maxChange: 10}}\n",
  ],
  [
    "[resources] rule with pool",
    "automerge:\n  rules:\n    - {action: merge, match: {kind: [resources], pool: w}}\n",
  ],
  ["extended resource without a domain", pool("newNode:\n  extendedResources: {gpu: 1}")],
  [
    "extended resource of kubernetes.io",
    pool("newNode:\n  extendedResources: {kubernetes.io/gpu: 1}"),
  ],
  ["extended resource of 0", pool("newNode:\n  extendedResources: {nvidia.com/gpu: 0}")],
  ["replicated kind with an apiVersion", pool("scaleDown:\n  replicatedKinds: [cnpg.io/Cluster]")],
  [
    "replicated kind with a group in capitals",
    pool("scaleDown:\n  replicatedKinds: [Cluster.CNPG.io]"),
  ],
  ["replicated kind with an empty group", pool("scaleDown:\n  replicatedKinds: ['Cluster.']")],
  [
    "replicated kind with a group over 253",
    pool(`scaleDown:\n  replicatedKinds: [Cluster.${"a.".repeat(126)}ab]`),
  ],
  ["replicated kind ending in -", pool("scaleDown:\n  replicatedKinds: [Cluster-]")],
  ["deleteEmptyDirData as a string", pool("scaleDown:\n  deleteEmptyDirData: 'true'")],
  ["extends preset:", "automerge:\n  extends: 'preset:'\n"],
  ["extends .github/../x.yml", "automerge:\n  extends: .github/../x.yml\n"],
  ["extends infra:../x.yml", "automerge:\n  extends: infra:../x.yml\n"],
];

const TAKEN_BY_BOTH: [string, string][] = [
  ["pool named all-workers", pool("").replace("name: workers", "name: all-workers")],
  ["pool named small", pool("").replace("name: workers", "name: small")],
  ["unneededTime 0", pool("scaleDown:\n  unneededTime: 0")],
  ["unneededTime 0s", pool("scaleDown:\n  unneededTime: 0s")],
  ["unneededTime 1m", pool("scaleDown:\n  unneededTime: 1m")],
  ["unneededTime 60s", pool("scaleDown:\n  unneededTime: 60s")],
  ["schedule duration 365d", pool("schedules:\n  - {cron: '0 18 * * 5', duration: 365d, min: 3}")],
  ["cron @daily", pool("schedules:\n  - {cron: '@DAILY', duration: 1h, min: 3}")],
  ["cron names", pool("schedules:\n  - {cron: '0 8 * JAN-mar MON-FRI', duration: 1h, min: 3}")],
  ["cron L, 15W, 5#2", pool("schedules:\n  - {cron: '0 18 L,15W * 5#2', duration: 1h, min: 3}")],
  ["cron ? and steps", pool("schedules:\n  - {cron: '*/30 2 ? * 1-5/2', duration: 1h, min: 3}")],
  [
    "selector Exists with []",
    pool("selector:\n  matchExpressions:\n    - {key: a, operator: Exists, values: []}"),
  ],
  [
    "selector In with values",
    pool("selector:\n  matchExpressions:\n    - {key: a, operator: In, values: [b]}"),
  ],
  ["target file a..b.tfvars", pool("", "file: a..b.tfvars\npath: n")],
  ["target .hcl with format", pool("", "file: workers.hcl\npath: n\nformat: tfvars")],
  ["target .YAML document", pool("", "file: a.YAML\npath: n\ndocument: 1")],
  ["target path forms", pool("", `file: a.yaml\npath: 'a["b.c"]."d e"[0][name= "x]"]'`)],
  ["host maxNodes", pool("host:\n  maxNodes: 4")],
  ["deleteEmptyDirData true", pool("scaleDown:\n  deleteEmptyDirData: true")],
  [
    "replicated kinds",
    pool("scaleDown:\n  replicatedKinds: [Cluster, my-Kind2, '*', Cluster.postgresql.cnpg.io]"),
  ],
  [
    "replicated kind with a group of 253",
    pool(`scaleDown:\n  replicatedKinds: [Cluster.${"a.".repeat(125)}abc]`),
  ],
  [
    "extended resources",
    pool("newNode:\n  extendedResources: {nvidia.com/gpu: 1, example.com/fpga: '2k'}"),
  ],
  ["host memory with node memory", pool("host:\n  memory: 64Gi\n  node: {memory: 16Gi}")],
  [
    "window days and hours",
    "automerge:\n  notDuring:\n    - {days: [Mon, 'wed - FRI'], hours: '22:00-6'}\n",
  ],
  ["window every day", "automerge:\n  notDuring:\n    - {days: 'every day', hours: '0-23:30'}\n"],
  ["window cron", "automerge:\n  notDuring:\n    - {cron: '0 19 * * 5', duration: 4h}\n"],
  [
    "rule of two kinds",
    "automerge:\n  rules:\n    - {action: merge, match: {kind: [nodes, resources], maxChange: 10, pool: w}}\n",
  ],
  ["extends forms", "automerge:\n  extends: ' my-org/infra:policies/a.yml '\n"],
];

describe("the JSON Schema's rules and the app's validator agree", () => {
  it.each(REFUSED_BY_BOTH)("%s: the schema refuses it, and so does the app", (_label, text) => {
    expect(verdicts(text)).toEqual({ schema: false, app: false });
  });

  it.each(TAKEN_BY_BOTH)("%s: both take it", (_label, text) => {
    expect(verdicts(text)).toEqual({ schema: true, app: true });
  });
});

/** A compiled subschema of the committed schema, to try values against. */
function valueSchema(path: string): (value: unknown) => boolean {
  const check = ajv.compile(subschema(path));
  return (value) => check(value) as boolean;
}

/** The `pattern` of a subschema, or of its text branch when it is text or a number. */
function patternAt(path: string): RegExp {
  const node = subschema(path);
  const text = (node.anyOf as { type: string; pattern?: string }[] | undefined)?.find(
    (option) => option.type === "string",
  );
  const pattern = (text ?? node).pattern;
  if (typeof pattern !== "string") throw new Error(`no pattern at ${path}`);
  return new RegExp(pattern, "u");
}

const RUNS = { numRuns: 3000 };

describe("patterns match what the loader reads", () => {
  it("durations: exactly, but for a sum of parts each within 365d that goes over it", () => {
    const pattern = patternAt(`${POOL}.cooldown`);
    const unit = fc.constantFrom(..."0123569dhms .-x\t");
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 12 }), (text) => {
        const loaded = Duration.safeParse(text);
        const over = (loaded.error?.issues[0]?.message ?? "").includes("must be at most 365d");
        if (!(over && pattern.test(text))) expect(pattern.test(text)).toBe(loaded.success);
      }),
      RUNS,
    );
    expect(pattern.test("366d")).toBe(false);
    expect(pattern.test("365d1h")).toBe(true);
    expect(Duration.safeParse("365d1h").success).toBe(false);
  });

  it.each([
    ["unneededTime: 0 or at least 1m", `${POOL}.scaleDown.properties.unneededTime`, true],
    ["a schedule's duration: at least 1m", `${POOL}.schedules.items.properties.duration`, false],
  ])("%s", (_label, path, zeroTaken) => {
    const matches = valueSchema(path);
    const minute = zeroTaken ? zeroOrMinuteDuration("test") : minuteDuration("test");
    const unit = fc.constantFrom(..."01569dhms ");
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 7 }), (text) => {
        expect({ text, schema: matches(text) }).toEqual({
          text,
          schema: minute.safeParse(text).success,
        });
      }),
      RUNS,
    );
    expect([
      matches(0),
      matches("0m0s"),
      matches("59s"),
      matches("60s"),
      matches("0d0h1m"),
    ]).toEqual([zeroTaken, zeroTaken, false, true, true]);
  });

  it("an automerge window's duration: more than 0", () => {
    const policy = committed(POLICY_SCHEMA_FILE) as { properties: Record<string, unknown> };
    const windows = policy.properties.notDuring as { items: { properties: { duration: object } } };
    const matches = new Ajv({ strict: true }).compile(windows.items.properties.duration);
    expect(["0", 0, "0s", "00m000s", " 0 "].map((value) => matches(value))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(["1s", "4h", "365d"].map((value) => matches(value))).toEqual([true, true, true]);
  });

  it("cron expressions: what croner takes, and what it refuses but for some ranges", () => {
    const pattern = patternAt(`${POOL}.schedules.items.properties.cron`);
    const value = fc.constantFrom(
      ..."0 1 05 5 7 8 12 23 24 31 32 59 60 fri SUN jan Dec friday".split(" "),
    );
    const suffix = fc.constantFrom("", "", "", "L", "W", "#2", "#6", "#L", "l");
    const item = fc.oneof(
      fc.constantFrom("*", "?", "L", "LW", "W", "+1", ""),
      fc.tuple(value, suffix).map(([v, s]) => v + s),
      fc.tuple(value, value, suffix).map(([a, b, s]) => `${a}-${b}${s}`),
      fc.tuple(value, suffix).map(([step, s]) => `*/${step}${s}`),
      fc.tuple(value, value, value).map(([a, b, step]) => `${a}-${b}/${step}`),
      fc.tuple(value, value).map(([a, step]) => `${a}/${step}`),
    );
    const list = fc.array(item, { minLength: 1, maxLength: 3 }).map((items) => items.join(","));
    // Mostly `*`, so that the other fields' mistakes do not hide what one field's pattern takes.
    const field = fc.oneof(
      { weight: 3, arbitrary: fc.constant("*") },
      { weight: 2, arbitrary: list },
    );
    const expression = fc
      .oneof(
        { weight: 8, arbitrary: fc.array(field, { minLength: 5, maxLength: 5 }) },
        { weight: 1, arbitrary: fc.array(field, { minLength: 4, maxLength: 6 }) },
      )
      .map((fields) => fields.join(" "));
    const macro = fc.constantFrom(
      "@daily",
      "@Weekly",
      " @hourly ",
      "@reboot",
      "@often",
      "0 @daily",
    );
    const taken = fc
      .sample(expression, 2000)
      .filter((text) => CronExpression.safeParse(text).success);
    expect(taken.length).toBeGreaterThan(100);
    fc.assert(
      fc.property(fc.oneof(expression, macro), (text) => {
        const loaded = CronExpression.safeParse(text);
        const message = loaded.error?.issues[0]?.message ?? "";
        // What the pattern leaves to croner: `5-1`, a stepped range landing past the field, and
        // days no month named has (`30 2`).
        const overlong = /Invalid value for/.test(message) && /\w-\w+\/\d/.test(text);
        const never = message.includes("never starts");
        const leftToApp =
          message.includes("From value is larger than to value") || overlong || never;
        if (!(leftToApp && pattern.test(text)))
          expect({ text, matches: pattern.test(text) }).toEqual({
            text,
            matches: loaded.success,
          });
      }),
      { numRuns: 20000 },
    );
  });

  it("value PATHs: exactly", () => {
    const pattern = patternAt(`${POOL}.target.properties.path`);
    const unit = fc.constantFrom(...'ab0.[]"=\\ n');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 10 }), (text) => {
        expect({ text, matches: pattern.test(text) }).toEqual({
          text,
          matches: ValuePath.safeParse(text).success,
        });
      }),
      { numRuns: 10000 },
    );
  });

  it("extended resource names: exactly", () => {
    const names = subschema(`${POOL}.newNode.properties.extendedResources.propertyNames`);
    const pattern = new RegExp(names.pattern as string, "u");
    const token = fc.constantFrom(
      ..."a Z 0 - _ . / .. // kubernetes.io/ requests. nvidia.com/gpu cpu".split(" "),
      "a".repeat(62),
      "b".repeat(240),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 6 }), (tokens) => {
        const text = tokens.join("");
        expect({ text, matches: pattern.test(text) }).toEqual({
          text,
          matches: ExtendedResourceName.safeParse(text).success,
        });
      }),
      RUNS,
    );
  });

  it("label keys and values: exactly, wherever a pool names a label or a taint", () => {
    const selector = `${POOL}.selector.properties`;
    const expression = `${selector}.matchExpressions.items.properties`;
    const newNode = `${POOL}.newNode.properties`;
    const taint = `${newNode}.taints.items.properties`;
    const keys = [
      `${selector}.matchLabels.propertyNames`,
      `${expression}.key`,
      `${newNode}.labels.propertyNames`,
      `${taint}.key`,
    ].map((path) => subschema(path).pattern);
    const values = [
      `${selector}.matchLabels.additionalProperties`,
      `${expression}.values.items`,
      `${newNode}.labels.additionalProperties`,
      `${taint}.value`,
    ].map((path) => subschema(path).pattern);
    expect(new Set(keys).size).toBe(1);
    expect(new Set(values).size).toBe(1);
    const token = fc.constantFrom(
      ..."a Z 0 - _ . / // * \u0020 é node.kubernetes.io/ Example.com/ pool".split(" "),
      "a".repeat(62),
      "b".repeat(250),
    );
    for (const [pattern, schema] of [
      [keys[0], LabelKey],
      [values[0], LabelValue],
    ] as const) {
      const regex = new RegExp(String(pattern), "u");
      fc.assert(
        fc.property(fc.array(token, { maxLength: 6 }), (tokens) => {
          const text = tokens.join("");
          expect({ text, matches: regex.test(text) }).toEqual({
            text,
            matches: schema.safeParse(text).success,
          });
        }),
        RUNS,
      );
    }
  });

  it("repository file paths: exactly", () => {
    const pattern = patternAt(`${POOL}.target.properties.file`);
    const unit = fc.constantFrom(..."a./\\\n ");
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 8 }), (text) => {
        expect({ text, matches: text !== "" && pattern.test(text) }).toEqual({
          text,
          matches: RepoFilePath.safeParse(text).success,
        });
      }),
      RUNS,
    );
  });

  it("extends references: exactly", () => {
    const pattern = patternAt("properties.automerge.properties.extends");
    const token = fc.constantFrom(
      ..."a b - -- . .. / : preset: preset .github .github/ x.yml .yaml A _ \t".split(" "),
    );
    const text = fc.array(token, { maxLength: 6 }).map((parts) => parts.join(""));
    fc.assert(
      fc.property(text, (value) => {
        expect({ value, matches: pattern.test(value) }).toEqual({
          value,
          matches: typeof parsePolicyReference(value) !== "string",
        });
      }),
      { numRuns: 10000 },
    );
  });

  const WINDOW = "properties.automerge.properties.notDuring.items.properties";

  it("window days: exactly", () => {
    const pattern = patternAt(`${WINDOW}.days`);
    const token = fc.constantFrom(
      ..."mon Fri SUNDAY sat tue daily every\u0020day all * - , \u0020 x mo".split(" "),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 5 }), (parts) => {
        const text = parts.join("");
        expect({ text, matches: pattern.test(text) }).toEqual({
          text,
          matches: WeekDays.safeParse(text).success,
        });
      }),
      RUNS,
    );
  });

  it("window hours: exactly, but for a range that starts where it ends", () => {
    const pattern = patternAt(`${WINDOW}.hours`);
    const time = fc.constantFrom(
      "0",
      "8",
      "08",
      "008",
      "23",
      "24",
      "25",
      "8:00",
      "08:30",
      "8:5",
      "24:00",
      "24:01",
      "23:59",
      "23:60",
      "",
    );
    const space = fc.constantFrom("", "", " ", "\t");
    const structured = fc
      .tuple(space, time, space, fc.constantFrom("-", "-", "--", ":", ""), space, time, space)
      .map((parts) => parts.join(""));
    const loose = fc.string({ unit: fc.constantFrom(..."0124569:- x"), maxLength: 12 });
    fc.assert(
      fc.property(fc.oneof(structured, loose), (text) => {
        const loaded = HoursRange.safeParse(text);
        const empty = (loaded.error?.issues[0]?.message ?? "").includes("empty or the whole day");
        if (!empty)
          expect({ text, matches: pattern.test(text) }).toEqual({ text, matches: loaded.success });
      }),
      RUNS,
    );
  });
});

/** Keys (dotted, `[]` for list items) whose schema has no description. */
function undescribed(node: unknown, path = ""): string[] {
  if (typeof node !== "object" || node === null) return [];
  const schemaNode = node as Record<string, unknown>;
  const found: string[] = [];
  for (const [key, child] of Object.entries((schemaNode.properties ?? {}) as object)) {
    // `true` only names a key that a rule requires; the key itself is described where it is defined.
    if (child === true) continue;
    const childPath = path ? `${path}.${key}` : key;
    if ((child as Record<string, unknown>).description === undefined) found.push(childPath);
    found.push(...undescribed(child, childPath));
  }
  if (schemaNode.items) found.push(...undescribed(schemaNode.items, `${path}[]`));
  for (const option of (schemaNode.anyOf ?? []) as unknown[])
    found.push(...undescribed(option, path));
  return found;
}

describe("every key says what it is for", () => {
  it.each([REPO_CONFIG_SCHEMA_FILE, POLICY_SCHEMA_FILE])("%s", (file) => {
    const keys = undescribed(committed(file));
    expect(keys).toEqual([]);
  });

  it("names the limits only the loader checks: time zone names, at least 1m", () => {
    const timezone = subschema(`${POOL}.schedules.items.properties.timezone`);
    expect(timezone.description).toMatch(/IANA/);
    expect(subschema(`${POOL}.scaleDown.properties.unneededTime`).description).toMatch(
      /0 or at least 1m/,
    );
  });
});
