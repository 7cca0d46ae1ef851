/**
 * Kubernetes resource quantities (`250m`, `1.5Gi`, `1e3`, `129e-6`), parsed exactly.
 *
 * A quantity is kept as `coefficient × 10^exponent` with a bigint coefficient: every valid
 * quantity is a finite decimal (binary suffixes only multiply by powers of two), so no value is
 * ever rounded until it is converted to the integer units the snapshot uses. Conversion rounds
 * away from zero, as Kubernetes' `Quantity.MilliValue()` and `Value()` do, so `1n` of cpu is
 * `1` millicore and `0.5` bytes is `1` byte.
 */

/** An exact quantity: `coefficient × 10^exponent`. */
export interface Quantity {
  coefficient: bigint;
  exponent: number;
}

/** A quantity string that Kubernetes would reject. */
export class QuantityError extends Error {
  readonly text: string;

  constructor(text: string, reason: string) {
    super(`invalid quantity ${JSON.stringify(text)}: ${reason}`);
    this.name = "QuantityError";
    this.text = text;
  }
}

const decimalSuffixes: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

const binarySuffixes: Record<string, number> = {
  Ki: 10,
  Mi: 20,
  Gi: 30,
  Ti: 40,
  Pi: 50,
  Ei: 60,
};

/** Larger exponents cannot come from a real cluster and would make bigint arithmetic slow. */
const maxExponent = 1000;

const quantityPattern = /^([+-]?)(\d*)(?:\.(\d*))?(?:([eE])([+-]?\d+)|([numkMGTPE]|[KMGTPE]i))?$/;

/**
 * Parses a quantity string exactly.
 * @throws QuantityError when the text is not a valid Kubernetes quantity.
 */
export function parseQuantity(text: string): Quantity {
  const match = quantityPattern.exec(text);
  if (!match) throw new QuantityError(text, describeSyntaxError(text));
  const [, sign = "", whole = "", fraction, e, exponentText, suffix = ""] = match;
  if (whole === "" && (fraction === undefined || fraction === "")) {
    throw new QuantityError(
      text,
      text === "" ? "empty" : "expected a number such as 100m, 0.5, 1Gi or 1e3",
    );
  }
  const digits = `${whole}${fraction ?? ""}`;
  let coefficient = BigInt(digits === "" ? "0" : digits);
  let exponent = -(fraction?.length ?? 0);
  if (e !== undefined) {
    const value = Number(exponentText);
    if (!Number.isSafeInteger(value) || Math.abs(value) > maxExponent) {
      throw new QuantityError(text, `exponent out of range (at most ±${maxExponent})`);
    }
    exponent += value;
  } else if (suffix in binarySuffixes) {
    coefficient <<= BigInt(binarySuffixes[suffix] as number);
  } else {
    exponent += decimalSuffixes[suffix] as number;
  }
  return { coefficient: sign === "-" ? -coefficient : coefficient, exponent };
}

function describeSyntaxError(text: string): string {
  if (text === "") return "empty";
  if (/\s/.test(text)) return "contains whitespace";
  const suffix = /[a-zA-Z]+$/.exec(text)?.[0];
  if (suffix) {
    return `unknown suffix ${JSON.stringify(suffix)} (use n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent such as e3)`;
  }
  return "expected a number with an optional suffix, such as 100m, 0.5, 1Gi or 1e3";
}

/** `value × 10^scale`, rounded away from zero to an integer. */
export function scaleQuantity(quantity: Quantity, scale: number): bigint {
  const exponent = quantity.exponent + scale;
  if (exponent >= 0) return quantity.coefficient * 10n ** BigInt(exponent);
  const divisor = 10n ** BigInt(-exponent);
  const truncated = quantity.coefficient / divisor;
  if (truncated * divisor === quantity.coefficient) return truncated;
  return quantity.coefficient > 0n ? truncated + 1n : truncated - 1n;
}

/** True when both quantities denote the same number (`1Ki` and `1024`, `0.1` and `100m`). */
export function quantitiesEqual(a: Quantity, b: Quantity): boolean {
  const exponent = Math.min(a.exponent, b.exponent);
  return (
    a.coefficient * 10n ** BigInt(a.exponent - exponent) ===
    b.coefficient * 10n ** BigInt(b.exponent - exponent)
  );
}

function toSafeNumber(value: bigint, text: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new QuantityError(text, "too large to represent exactly");
  }
  return Number(value);
}

// The fast path covers what clusters actually contain (`100m`, `128Mi`, `2`, `487558164n`)
// with exact integer double arithmetic; anything else takes the bigint path.
const simplePattern = /^(\d{1,15})(n|u|m|k|M|G|Ki|Mi|Gi|Ti|)$/;

const millisScale: Record<string, number> = {
  n: -6,
  u: -3,
  m: 0,
  "": 3,
  k: 6,
  M: 9,
  G: 12,
};

const unitMultiplier: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

const unitDivisor: Record<string, number> = { n: 1e9, u: 1e6, m: 1e3 };

/** Divides a non-negative safe integer, rounding up, without floating-point error. */
function divideUp(value: number, divisor: number): number {
  const remainder = value % divisor;
  return (value - remainder) / divisor + (remainder > 0 ? 1 : 0);
}

function fastScaled(text: string, scaleTable: Record<string, number>): number | undefined {
  const match = simplePattern.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  const scale = scaleTable[match[2] as string];
  if (scale === undefined) return undefined;
  const result = scale >= 0 ? value * 10 ** scale : divideUp(value, 10 ** -scale);
  return Number.isSafeInteger(result) ? result : undefined;
}

function fastUnits(text: string): number | undefined {
  const match = simplePattern.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  const suffix = match[2] as string;
  const divisor = unitDivisor[suffix];
  if (divisor !== undefined) return divideUp(value, divisor);
  const multiplier = unitMultiplier[suffix];
  if (multiplier === undefined) return undefined;
  const result = value * multiplier;
  return Number.isSafeInteger(result) ? result : undefined;
}

/**
 * Parses a cpu quantity into millicores, rounding up (`1n` → 1, `0.5` → 500, `2` → 2000).
 * @throws QuantityError when malformed or beyond 2^53.
 */
export function parseCpu(text: string): number {
  return fastScaled(text, millisScale) ?? toSafeNumber(scaleQuantity(parseQuantity(text), 3), text);
}

/**
 * Parses a quantity counted in whole units (memory and storage in bytes, pods, devices),
 * rounding up (`1Ki` → 1024, `1.5` → 2, `100m` → 1).
 * @throws QuantityError when malformed or beyond 2^53.
 */
export function parseUnits(text: string): number {
  return fastUnits(text) ?? toSafeNumber(scaleQuantity(parseQuantity(text), 0), text);
}

/** Memory and storage: bytes. Same as {@link parseUnits}. */
export const parseBytes = parseUnits;

/**
 * Parses the quantity of a named resource into the snapshot's unit: millicores for `cpu`,
 * whole units (bytes, counts) for everything else.
 */
export function parseResourceQuantity(resource: string, text: string): number {
  return resource === "cpu" ? parseCpu(text) : parseUnits(text);
}

/** Canonical cpu text: whole cores when exact (`"2"`), else millicores (`"250m"`). */
export function formatCpu(millicores: number): string {
  assertInteger(millicores, "millicores");
  if (millicores % 1000 === 0) return String(millicores / 1000);
  return `${millicores}m`;
}

const binaryFormats: [string, number][] = [
  ["Ei", 2 ** 60],
  ["Pi", 2 ** 50],
  ["Ti", 2 ** 40],
  ["Gi", 2 ** 30],
  ["Mi", 2 ** 20],
  ["Ki", 2 ** 10],
];

const decimalFormats: [string, number][] = [
  ["P", 1e15],
  ["T", 1e12],
  ["G", 1e9],
  ["M", 1e6],
  ["k", 1e3],
];

/**
 * Canonical memory text: the largest binary suffix that divides exactly (`"512Mi"`, `"1Gi"`),
 * else the largest decimal one (`"1G"`, `"500M"`), else plain bytes.
 */
export function formatMemory(bytes: number): string {
  assertInteger(bytes, "bytes");
  if (bytes === 0) return "0";
  const magnitude = Math.abs(bytes);
  for (const [suffix, size] of [...binaryFormats, ...decimalFormats]) {
    if (magnitude >= size && magnitude % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}

function assertInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${what} must be a safe integer, got ${value}`);
  }
}
