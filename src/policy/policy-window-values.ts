import { z } from "zod";
import { didYouMean } from "./did-you-mean.ts";
import { caseless } from "./number-pattern.ts";

/** Day numbers as JavaScript counts them: 0 is Sunday, 6 is Saturday. */
const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const LONG_DAY_NAMES = [
  "sunday",
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
];
/** Spellings of "every day". */
const EVERY_DAY = new Set(["daily", "every day", "everyday", "all", "*"]);

/**
 * The days texts {@link WeekDays} reads, for the JSON Schema: comma-separated parts, each a day
 * (`mon`, `Monday`), a range of days (`fri-mon`) or a word for every day, any letter case.
 */
export const WEEK_DAYS_PATTERN = weekDaysPattern();

function weekDaysPattern(): string {
  const day = `(?:${[...LONG_DAY_NAMES, ...DAY_NAMES].map(caseless).join("|")})`;
  const every = [...EVERY_DAY].map(caseless).join("|");
  const part = String.raw`\s*(?:${every}|${day}(?:\s*-\s*${day})?)\s*`;
  return `^${part}(?:,${part})*$`;
}

/**
 * The hours texts {@link HoursRange} reads, for the JSON Schema: `H[:MM]-H[:MM]`, hours to 23
 * (24:00 may end a range), with whitespace around the parts. A range that starts where it ends
 * (`08:00-8`) is left to the loader.
 */
export const HOURS_RANGE_PATTERN = hoursRangePattern();

function hoursRangePattern(): string {
  const time = String.raw`(?:[01]?\d|2[0-3])(?::[0-5]\d)?`;
  return String.raw`^\s*${time}\s*-\s*(?:${time}|24(?::00)?)\s*$`;
}

/** A time of day range in minutes after midnight; `end` ≤ `start` means it runs past midnight. */
export interface HourRange {
  start: number;
  end: number;
}

/**
 * Week days written `mon-fri`, `sat,sun`, `daily`, or a list (`[mon, wed, fri-sun]`); ranges may
 * wrap (`fri-mon`). Parsed to sorted day numbers, 0 = Sunday.
 */
export const WeekDays = z
  .union(
    [
      z.string().meta({ pattern: WEEK_DAYS_PATTERN }),
      z.array(z.string().meta({ pattern: WEEK_DAYS_PATTERN })).meta({ minItems: 1 }),
    ],
    {
      error: "expected week days such as mon-fri, sat,sun or a list [mon, wed]",
    },
  )
  .transform((input, ctx) => {
    const parts = (Array.isArray(input) ? input : [input]).flatMap((item) => item.split(","));
    const days = new Set<number>();
    for (const part of parts) {
      const parsed = parseDayPart(part.trim().toLowerCase());
      if (typeof parsed === "string") {
        ctx.addIssue({ code: "custom", message: parsed });
        return z.NEVER;
      }
      for (const day of parsed) days.add(day);
    }
    if (days.size === 0) {
      ctx.addIssue({ code: "custom", message: "names no day: write e.g. mon-fri" });
      return z.NEVER;
    }
    return [...days].sort((a, b) => a - b);
  });

/**
 * A time of day range `HH:MM-HH:MM` (or `H-H`) in the window's time zone; `22:00-06:00` runs past
 * midnight and belongs to the day it starts on; `24:00` may end a range.
 */
export const HoursRange = z
  .string({ error: "expected hours such as 08:00-18:00" })
  .meta({ pattern: HOURS_RANGE_PATTERN })
  .transform((text, ctx): HourRange => {
    const parsed = parseHourRange(text);
    if (typeof parsed === "string") {
      ctx.addIssue({ code: "custom", message: parsed });
      return z.NEVER;
    }
    return parsed;
  });

/** Day numbers for one part of a days value, or a message saying what is wrong. */
function parseDayPart(part: string): number[] | string {
  if (EVERY_DAY.has(part)) return [0, 1, 2, 3, 4, 5, 6];
  const [from, to, ...rest] = part.split("-").map((name) => name.trim());
  if (from === undefined || from === "" || rest.length > 0)
    return `"${part}" is not a day or range of days: write e.g. mon-fri`;
  const start = dayNumber(from);
  if (typeof start === "string") return start;
  if (to === undefined) return [start];
  const end = dayNumber(to);
  if (typeof end === "string") return end;
  const days: number[] = [];
  for (let day = start; ; day = (day + 1) % 7) {
    days.push(day);
    if (day === end) return days;
  }
}

function dayNumber(name: string): number | string {
  const short = DAY_NAMES.indexOf(name as (typeof DAY_NAMES)[number]);
  if (short >= 0) return short;
  const long = LONG_DAY_NAMES.indexOf(name);
  if (long >= 0) return long;
  const suggestion = didYouMean(name, [...DAY_NAMES, ...LONG_DAY_NAMES]);
  const hint = suggestion ? `; did you mean "${suggestion}"?` : "";
  return `"${name}" is not a day: use mon, tue, wed, thu, fri, sat, sun${hint}`;
}

const TIME = /^(\d{1,2})(?::(\d{2}))?$/;

function parseHourRange(text: string): HourRange | string {
  const usage = `${JSON.stringify(text)} is not a range of hours: write it like 08:00-18:00 or 22:00-06:00`;
  const [from, to, ...rest] = text.split("-").map((part) => part.trim());
  if (from === undefined || to === undefined || rest.length > 0) return usage;
  const start = minutesOf(from);
  const end = minutesOf(to);
  if (start === undefined || end === undefined) return usage;
  if (start === 24 * 60) return `${JSON.stringify(text)} starts at 24:00: start at 00:00 instead`;
  if (start === end % (24 * 60))
    return `${JSON.stringify(text)} is empty or the whole day: leave hours out for the whole day`;
  return { start, end };
}

function minutesOf(text: string): number | undefined {
  const match = TIME.exec(text);
  if (!match) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2] ?? 0);
  if (minutes > 59 || hours > 24 || (hours === 24 && minutes > 0)) return undefined;
  return hours * 60 + minutes;
}
