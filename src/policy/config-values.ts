import { Cron } from "croner";
import { z } from "zod";
import { parsePath } from "../editors/path.ts";
import { parseBytes, parseCpu } from "../planning/quantity.ts";
import { didYouMean } from "./did-you-mean.ts";
import { parseDuration } from "./parse-duration.ts";

/** A percentage of allocatable, 0 < p ≤ 100. */
export const Percent = z
  .number({ error: "expected a percentage such as 80" })
  .gt(0, { error: "must be more than 0 %" })
  .lte(100, { error: "must be at most 100 %" });

/**
 * The duration texts {@link parseDuration} reads, for the JSON Schema: `0`, or days, hours,
 * minutes and seconds in that order, each at most once, with whitespace around (it trims).
 */
export const DURATION_PATTERN =
  /^\s*(?:0|\d+d(?:\d+h)?(?:\d+m)?(?:\d+s)?|\d+h(?:\d+m)?(?:\d+s)?|\d+m(?:\d+s)?|\d+s)\s*$/.source;

/**
 * The positive quantity texts the loader reads, for the JSON Schema: an unsigned (or `+`) number
 * with a non-zero digit, then an exponent (`e3`) or one suffix (`m`, `k`, `Gi`…), with whitespace
 * around. The loader also refuses values too large to hold exactly (`1e400`, `8Ei` bytes), which
 * the pattern leaves to it.
 */
export const QUANTITY_PATTERN =
  /^\s*\+?(?:\d*[1-9]\d*(?:\.\d*)?|\d*\.\d*[1-9]\d*)(?:[eE][+-]?\d+|[numkMGTPE]|[KMGTPE]i)?\s*$/
    .source;

// The patterns and the minimum below only reach the JSON Schema, for editors: the loader checks
// the text itself, with a message that says more than a pattern mismatch would.
const DurationText = z.string().meta({ pattern: DURATION_PATTERN });
const QuantityText = z.string().meta({ pattern: QUANTITY_PATTERN });
const QuantityNumber = z.number().meta({ exclusiveMinimum: 0 });

/**
 * A duration written like `90s`, `10m`, `1h30m`, `2d`, or `0`; parsed to milliseconds. A bare
 * number other than 0 is refused: seconds or minutes would be a guess.
 */
export const Duration = z
  .union([DurationText, z.literal(0)], { error: "expected a duration such as 10m or 1h30m" })
  .transform((value, ctx) => {
    if (value === 0) return 0;
    const text = value;
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(text)} is not a duration: write it like 90s, 10m, 1h30m or 2d`,
      });
      return z.NEVER;
    }
    return ms;
  });

/** CPU as a Kubernetes quantity (`4`, `3500m`, `0.5`); parsed to millicores. */
export const CpuQuantity = z
  .union([QuantityText, QuantityNumber], { error: "expected a CPU quantity such as 4 or 3500m" })
  .transform((text, ctx) => positiveQuantity(text, "CPU", "4, 3.5 or 3500m", parseCpu, ctx));

/** Memory as a Kubernetes quantity (`16Gi`, `512Mi`, `8G`); parsed to bytes. */
export const MemoryQuantity = z
  .union([QuantityText, QuantityNumber], { error: "expected a memory quantity such as 16Gi" })
  .transform((text, ctx) => positiveQuantity(text, "memory", "16Gi, 512Mi or 8G", parseBytes, ctx));

function positiveQuantity(
  text: string | number,
  what: string,
  examples: string,
  parse: (text: string) => number,
  ctx: z.RefinementCtx,
): number {
  let value: number | undefined;
  let reason = "";
  try {
    value = parse(String(text).trim());
  } catch (error) {
    reason = ` (${(error as Error).message.replace(/^invalid quantity "[^"]*": /, "")})`;
  }
  if (value !== undefined && value > 0) return value;
  ctx.addIssue({
    code: "custom",
    message: `${JSON.stringify(text)} is not a positive ${what} quantity${reason}: write it like ${examples}`,
  });
  return z.NEVER;
}

/** A value PATH in the editors' syntax (`worker_count`, `nodes["w-1"].count`). */
export const ValuePath = z
  .string({ error: "expected a PATH such as worker_count" })
  .superRefine((text, ctx) => {
    try {
      parsePath(text);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  });

/** A path inside the repository, relative to its root. */
export const RepoFilePath = z
  .string({ error: "expected a file path such as terraform/terraform.tfvars" })
  .min(1, { error: "must not be empty" })
  .superRefine((text, ctx) => {
    const parts = text.split("/");
    if (text.startsWith("/") || text.includes("\\") || parts.includes(".."))
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(text)} must be relative to the repository root, with '/' and no '..'`,
      });
  });

/** An IANA time zone name such as `Europe/Berlin`. */
export const TimeZone = z
  .string({ error: "expected a time zone such as Europe/Berlin" })
  .superRefine((text, ctx) => {
    if (isTimeZone(text)) return;
    const hint = timeZoneHint(text);
    ctx.addIssue({
      code: "custom",
      message: `unknown time zone ${JSON.stringify(text)}${hint}: use an IANA name such as Europe/Berlin or UTC`,
    });
  });

/** A five-field cron expression (minute hour day-of-month month day-of-week). */
export const CronExpression = z
  .string({ error: "expected a cron expression such as 0 18 * * 5" })
  .superRefine((text, ctx) => {
    try {
      new Cron(text, { mode: "5-part", paused: true });
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(text)} is not a valid cron expression (${(error as Error).message}); write five fields: minute hour day-of-month month day-of-week`,
      });
    }
  });

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function timeZoneHint(name: string): string {
  const suggestion = didYouMean(name, Intl.supportedValuesOf("timeZone"));
  return suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : "";
}
