/**
 * Hostile values and the checks every result must pass, shared by the input families.
 * Generators are fast-check arbitraries sampled with a fixed seed, so a case id always names
 * the same input.
 */
import fc from "fast-check";

/** Strings that parsers and number conversions commonly get wrong. */
export const trickyStrings: readonly string[] = [
  "",
  " ",
  "NaN",
  "nan",
  ".nan",
  "Infinity",
  "-Infinity",
  "+Inf",
  "-Inf",
  ".inf",
  "-.inf",
  "1e400",
  "-1e400",
  "1e-400",
  "-1",
  "-0",
  "0x10",
  "0b11",
  "0o17",
  " 1",
  "1 ",
  "1,5",
  "1_000",
  "1.5.5",
  "١٢٣",
  "½",
  "1\u00a0Gi",
  "\u0000",
  "\u202e1",
  "🙂",
  "null",
  "undefined",
  "true",
  "yes",
  "on",
  "0755",
  "~",
  "[]",
  "{}",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL interpolation, as written in a file
  "${var.x}",
  "$${x}",
  "%{ if true }",
  "\\",
  '"',
  "'",
  "\n",
  "\r\n",
  "\t",
  "a: b",
  "- x",
  "&anchor",
  "*alias",
  "!!binary",
  "<<",
  "__proto__",
  "constructor",
  "9007199254740993",
  "99999999999999999999999999999",
  "x".repeat(5000),
];

/** Strings in Kubernetes quantity positions: valid, nearly valid and garbage. */
export const quantityText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "250m",
    "1",
    "0",
    "1.5Gi",
    "129e6",
    "1e3",
    "0.5",
    "1.",
    ".5",
    "+1",
    "-1",
    "-250m",
    "-0",
    "1Qi",
    "1KiB",
    "1gi",
    "1GB",
    "Gi",
    "m",
    "1e",
    "e3",
    "1e1.5",
    "1e999",
    "1e308",
    "9223372036854775807",
    "9223372036854775808Ei",
    "1..5",
    "١",
    "0x1F",
    "12 Mi",
    "NaN",
    "Infinity",
    "",
    " ",
  ),
  fc
    .tuple(
      fc.constantFrom("", "", "", "-", "+"),
      fc.stringMatching(/^\d{0,25}$/),
      fc.option(fc.stringMatching(/^\.\d{0,6}$/), { nil: "" }),
      fc.constantFrom(
        "",
        "n",
        "u",
        "m",
        "k",
        "M",
        "G",
        "T",
        "P",
        "E",
        "Ki",
        "Mi",
        "Gi",
        "Ti",
        "Pi",
        "Ei",
        "e3",
        "e-3",
        "e40",
        "E+2",
        "x",
        "KB",
        "mi",
        "µ",
      ),
    )
    .map((parts) => parts.join("")),
  fc.constantFrom(...trickyStrings),
);

/** Any JSON value with a hostile bent: tricky strings, extreme numbers, wrong shapes. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...trickyStrings) },
  { weight: 3, arbitrary: quantityText },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      0,
      -1,
      -0.5,
      0.1,
      1.5,
      -2147483649,
      2147483648,
      Number.MAX_SAFE_INTEGER + 2,
      1e21,
      -1e21,
      1e308,
      5e-324,
    ),
  },
  { weight: 2, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30, unit: "binary" }) },
  { weight: 1, arbitrary: fc.constantFrom([], {}, [null], [[]], { "": "" }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { __proto__: null, constructor: "x" },
      JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
      nested(200),
      Array.from({ length: 2000 }, (_, index) => index),
    ),
  },
);

/** Damage done to a file before the edit. */
export interface Mutation {
  kind: "none" | "insert" | "delete" | "duplicate-line" | "truncate" | "replace";
  /** Where, as a fraction of the text's length. */
  at: number;
  length: number;
  text: string;
}

/** Text damage: insertions of syntax characters, deletions, duplicated lines, truncation. */
export const mutation = (syntax: string[]): fc.Arbitrary<Mutation> =>
  fc.record({
    kind: fc.constantFrom(
      "none",
      "none",
      "insert",
      "delete",
      "duplicate-line",
      "truncate",
      "replace",
    ),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    length: fc.integer({ min: 1, max: 40 }),
    text: fc.oneof(fc.constantFrom(...syntax), fc.constantFrom(...trickyStrings.slice(0, 40))),
  });

/** Applies a text damage. */
export function mutate(text: string, change: Mutation): string {
  const at = Math.floor(change.at * text.length);
  switch (change.kind) {
    case "none":
      return text;
    case "insert":
      return text.slice(0, at) + change.text + text.slice(at);
    case "delete":
      return text.slice(0, at) + text.slice(at + change.length);
    case "replace":
      return text.slice(0, at) + change.text + text.slice(at + change.text.length);
    case "truncate":
      return text.slice(0, at);
    case "duplicate-line": {
      const start = text.lastIndexOf("\n", at) + 1;
      const end = text.indexOf("\n", at);
      const line = text.slice(start, end === -1 ? text.length : end + 1);
      return text.slice(0, start) + line + text.slice(start);
    }
  }
}

/** An object nested `depth` levels deep. */
export function nested(depth: number): unknown {
  let value: unknown = "deep";
  for (let level = 0; level < depth; level++) value = { a: value };
  return value;
}

/** Samples `count` values; the first k of a larger count are the values of count k. */
export function sample<T>(arbitrary: fc.Arbitrary<T>, count: number, seed: number): T[] {
  return count <= 0 ? [] : fc.sample(arbitrary, { seed, numRuns: count });
}

/** A distinct seed per family, so families do not draw the same random stream. */
export function familySeed(seed: number, family: string): number {
  let hash = seed | 0;
  for (const char of family) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash;
}

export type PathKey = string | number;

/** Every path into a JSON value, the root (`[]`) included, in a stable order. */
export function allPaths(
  value: unknown,
  prefix: PathKey[] = [],
  into: PathKey[][] = [],
): PathKey[][] {
  into.push(prefix);
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      allPaths(item, [...prefix, index], into);
    });
  } else if (value !== null && typeof value === "object") {
    for (const key of Object.keys(value)) {
      allPaths((value as Record<string, unknown>)[key], [...prefix, key], into);
    }
  }
  return into;
}

/** A copy of `root` with the value at `path` replaced (or removed when `value` is undefined). */
export function withAt(root: unknown, path: readonly PathKey[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<PathKey, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<PathKey, unknown>;
  const last = path.at(-1) as PathKey;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    Object.defineProperty(parent, last, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

export function formatPathKeys(path: readonly PathKey[]): string {
  return path.map((key) => (typeof key === "number" ? `[${key}]` : `.${key}`)).join("") || "(root)";
}

/** How a quantity text should be read: a usable amount, or something that must stay unknown. */
export type QuantityVerdict = "valid" | "negative" | "too-large" | "garbage";

const quantityGrammar =
  /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE]))?$/;
const binaryPowers: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalPowers: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

/**
 * Judges a value found where Kubernetes expects a quantity, by the grammar in the Kubernetes
 * documentation (independently of pr-autoscaler's parser): numbers are read as their text,
 * anything else is garbage; negative amounts and amounts beyond 2^53 of the snapshot's unit
 * (millicores for cpu) cannot be represented and must stay unknown.
 */
export function judgeQuantity(value: unknown, resource: string): QuantityVerdict {
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string") return "garbage";
  const match = quantityGrammar.exec(text);
  if (!match) return "garbage";
  const [, sign, digits, exponent, binary, decimal] = match;
  const mantissa = Number(digits);
  let power10 =
    exponent !== undefined ? Number(exponent) : decimal ? (decimalPowers[decimal] ?? 0) : 0;
  if (resource === "cpu") power10 += 3;
  const amount = mantissa * 2 ** (binary ? (binaryPowers[binary] ?? 0) : 0) * 10 ** power10;
  if (sign === "-" && amount > 0) return "negative";
  // A margin above 2^53 leaves the boundary itself unjudged (this estimate is a float).
  if (!Number.isFinite(amount) || amount > 2 ** 53 * 1.01) return "too-large";
  return "valid";
}

const amountKeys = new Set(["cpu", "memory", "pods", "ephemeralStorage"]);
const countKeys = new Set(["disruptionsAllowed", "minReplicas", "maxReplicas", "currentReplicas"]);

/**
 * What is wrong with a snapshot-shaped result: a number that is not finite anywhere; an amount
 * (cpu, memory, pods, storage, extended resources) or a count that is negative or fractional;
 * a window that is negative; a percentile outside (0, 100].
 */
export function invariantViolations(value: unknown, path = ""): string[] {
  const problems: string[] = [];
  walk(value, path, undefined, problems);
  return problems;
}

function walk(value: unknown, path: string, key: string | undefined, problems: string[]): void {
  if (typeof value === "number") {
    checkNumber(value, path, key, problems);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      walk(item, `${path}[${index}]`, undefined, problems);
    });
    return;
  }
  if (value instanceof Map) {
    for (const [name, item] of value)
      walk(item, `${path}[${JSON.stringify(name)}]`, undefined, problems);
    return;
  }
  if (value !== null && typeof value === "object") {
    for (const [name, item] of Object.entries(value)) {
      const itemKey = key === "extended" ? "extended-amount" : name;
      walk(item, `${path}.${name}`, itemKey, problems);
    }
  }
}

function checkNumber(
  value: number,
  path: string,
  key: string | undefined,
  problems: string[],
): void {
  if (!Number.isFinite(value)) {
    problems.push(`${path} is ${value}`);
    return;
  }
  const amount = key !== undefined && (amountKeys.has(key) || key === "extended-amount");
  if (
    (amount || (key !== undefined && countKeys.has(key))) &&
    (value < 0 || !Number.isInteger(value))
  ) {
    problems.push(`${path} is ${value}, not a whole number ≥ 0`);
  }
  if (key === "windowSeconds" && value < 0) problems.push(`${path} is ${value}, a negative window`);
  if (key === "percentile" && (value <= 0 || value > 100)) {
    problems.push(`${path} is ${value}, not a percentile in (0, 100]`);
  }
}
