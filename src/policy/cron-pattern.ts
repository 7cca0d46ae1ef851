import { caseless, numberPattern } from "./number-pattern.ts";

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
/** The @ macros croner takes, by the name after the `@`. */
export const CRON_MACROS = [
  "yearly",
  "annually",
  "monthly",
  "weekly",
  "daily",
  "midnight",
  "hourly",
];

/**
 * The cron expressions the config accepts (croner in 5-part mode), as a JSON Schema pattern for
 * editors: five whitespace-separated fields, each a list of `*` (or `?`), `*` with a step
 * (every 15 minutes), a value, a range `a-b` or `a-b` with a step, with values in the field's
 * range; month and day names (`JAN`, `fri`, any case); `L`, `LW` and `15W` in day-of-month; `5L`,
 * `5#2` and a leading `+` in day-of-week; or one of the @ macros. What a pattern cannot compare
 * is left to the loader: a range whose start is after its end (`5-1`), and a stepped range whose
 * step lands past the field's last value (`50-70/15`).
 */
export const CRON_PATTERN = cronPattern();

interface FieldShape {
  min: 0 | 1;
  max: number;
  /** Largest step croner takes: the number of slots of the field. */
  steps: number;
  names?: readonly string[];
}

function cronPattern(): string {
  const fields = [
    listOf(items({ min: 0, max: 59, steps: 60 })),
    listOf(items({ min: 0, max: 23, steps: 24 })),
    dayOfMonth(),
    listOf(items({ min: 1, max: 12, steps: 12, names: MONTHS })),
    dayOfWeek(),
  ];
  const macro = `@(?:${CRON_MACROS.map(caseless).join("|")})`;
  return `^\\s*(?:${macro}|${fields.join("\\s+")})\\s*$`;
}

function listOf(item: string): string {
  return `(?:${item})(?:,(?:${item}))*`;
}

function value(shape: FieldShape): string {
  const number = numberPattern(shape.min, shape.max);
  return shape.names ? `(?:${number}|${shape.names.map(caseless).join("|")})` : number;
}

/**
 * `*`, `*` with a step, a value, `a-b` or `a-b` with a step; `suffix` may follow all but `*`.
 * With a step, croner checks only the values the step lands on, so the end of the range may lie
 * past the field's last value (`12-60/23` is 12, 35 and 58).
 */
function items(shape: FieldShape, suffix = ""): string {
  const step = `/${numberPattern(1, shape.steps)}`;
  const one = value(shape);
  const end = shape.names ? `(?:\\d+|${shape.names.map(caseless).join("|")})` : "\\d+";
  return `[*?]|(?:[*?]${step}|${one}(?:-${one}|-${end}${step})?)${suffix}`;
}

function dayOfMonth(): string {
  const day = numberPattern(1, 31);
  const item = `${items({ min: 1, max: 31, steps: 31 })}|[Ll]|${day}[Ww]`;
  return `(?:[Ll][Ww]|${listOf(item)})`;
}

function dayOfWeek(): string {
  const nth = `(?:#(?:${numberPattern(1, 5)}|[Ll])|[Ll])?`;
  return `\\+?${listOf(items({ min: 0, max: 7, steps: 7, names: DAYS }, nth))}`;
}
