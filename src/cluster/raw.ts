/**
 * Lenient accessors for objects decoded from the Kubernetes API. The adapters read only the
 * fields they use and never trust a field's type: a wrong type reads as absent.
 *
 * These replace zod on the hot path on purpose: a snapshot of a large cluster converts
 * hundreds of thousands of pods, and schema validation of each would cost more than the
 * JSON parsing itself (see docs/performance.md).
 */

export type Raw = Record<string, unknown>;

const emptyRecord: Raw = Object.freeze({}) as Raw;
const emptyArray: readonly unknown[] = Object.freeze([]);

/** The value when it is a plain object, else an empty one. */
export function record(value: unknown): Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Raw)
    : emptyRecord;
}

/** The value when it is an array, else an empty one. */
export function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : emptyArray;
}

export function string(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * An ISO 8601 time with its offset, as the API server writes them (`2026-11-20T08:00:00Z`),
 * else undefined: a value that is not one is unknown (without an offset it would be read in the
 * machine's own time zone), never a date a lenient parser makes of it (`"1 "` is not
 * the year 2001, `2026-02-30` not the 2nd of March, `24:00:00` not midnight of the next day:
 * RFC 3339 hours run from 00 to 23), and a saved snapshot would refuse it.
 */
export function time(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const date = TIME_WITH_OFFSET.exec(value);
  return date !== null &&
    !Number.isNaN(Date.parse(value)) &&
    isCalendarDay(date) &&
    Number(date[4]) <= 23
    ? value
    : undefined;
}

const TIME_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}).*(?:Z|[+-]\d{2}:?\d{2})$/i;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether the date of a time names a day the calendar has: `Date.parse` takes any day up to 31
 * and rolls it over (`2026-02-30` is read as the 2nd of March, `2026-02-29` as the 1st).
 */
function isCalendarDay(date: RegExpExecArray): boolean {
  const year = Number(date[1]);
  const month = Number(date[2]);
  const day = Number(date[3]);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return day >= 1 && day <= days;
}

export function number(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A count (replicas, allowed disruptions): a whole number ≥ 0, or undefined. */
export function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** A map of string values (labels, annotations, nodeSelector); other values are dropped. */
export function stringMap(value: unknown, intern: Intern = same): Record<string, string> {
  const source = record(value);
  const result: Record<string, string> = {};
  for (const key in source) {
    const item = source[key];
    if (typeof item === "string") result[key] = intern(item);
  }
  return result;
}

/** Returns one shared copy of equal strings. */
export type Intern = (text: string) => string;

function same(text: string): string {
  return text;
}

/**
 * An interner for one read. JSON.parse gives every occurrence of a value its own string, so
 * 150,000 pods would hold 150,000 copies of their namespaces, node names and label values;
 * sharing them is a large part of what keeps a big snapshot small.
 */
export function createInterner(): Intern {
  const strings = new Map<string, string>();
  return (text) => {
    const known = strings.get(text);
    if (known !== undefined) return known;
    strings.set(text, text);
    return text;
  };
}

/** Only the string entries of a list. */
export function stringList(value: unknown): string[] {
  return list(value).filter((item): item is string => typeof item === "string");
}

/** The entry of `allowed` equal to `value` (a shared string), else undefined. */
export function oneOf<T extends string>(value: unknown, allowed: readonly T[]): T | undefined {
  if (typeof value !== "string") return undefined;
  const index = (allowed as readonly string[]).indexOf(value);
  return index === -1 ? undefined : allowed[index];
}
