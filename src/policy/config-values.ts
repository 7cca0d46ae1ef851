import { Cron } from "croner";
import { z } from "zod";
import { parsePath } from "../editors/path.ts";
import {
  parseBytes,
  parseCpu,
  parseQuantity,
  QuantityError,
  quantitiesEqual,
  scaleQuantity,
} from "../planning/quantity.ts";
import { CRON_MACROS, CRON_PATTERN } from "./cron-pattern.ts";
import { didYouMean } from "./did-you-mean.ts";
import {
  LABEL_KEY_PATTERN,
  LABEL_VALUE_PATTERN,
  labelKeyProblem,
  labelValueProblem,
} from "./label-syntax.ts";
import { numberPattern } from "./number-pattern.ts";
import { parseDuration } from "./parse-duration.ts";
import { EXTENDED_RESOURCE_NAME_PATTERN, extendedResourceNameProblem } from "./resource-name.ts";

/**
 * A percentage, 1 ≤ p ≤ 100. Below 1 it is refused as the fraction it most likely is
 * (cluster-autoscaler writes its thresholds as fractions, `0.5`): no key means a share under 1 %.
 */
export const Percent = z
  .number({ error: "expected a percentage such as 80" })
  .gt(0, { error: "must be more than 0 %", abort: true })
  .gte(1, {
    error: (issue) =>
      `must be at least 1 %: ${issue.input} reads as ${issue.input} %, not as a fraction; write ${fractionAsPercent(Number(issue.input))} for ${fractionAsPercent(Number(issue.input))} %`,
  })
  .lte(100, { error: "must be at most 100 %" });

/** A fraction written as the percentage it means, without float noise (0.07 is 7, not 7.000000000000001). */
function fractionAsPercent(fraction: number): number {
  return Number((fraction * 100).toPrecision(12));
}

/** The longest duration any key takes: a year is more than any wait the app could mean. */
export const MAX_DURATION_MS = 365 * 86_400_000;
const MAX_DURATION_TEXT = "365d";

/**
 * The duration texts {@link Duration} takes, for the JSON Schema: `0`, or days, hours, minutes
 * and seconds in that order, each at most once and each at most 365d on its own (`365d`,
 * `8760h`), with whitespace around (it trims). A sum over 365d (`365d1h`) is left to the loader.
 */
export const DURATION_PATTERN = durationPattern([
  numberPattern(0, 365),
  numberPattern(0, 365 * 24),
  numberPattern(0, 365 * 24 * 60),
  numberPattern(0, 365 * 24 * 60 * 60),
]);

/** Duration texts (and the number 0) under a minute, which keys of at least 1m refuse. */
const UNDER_A_MINUTE = {
  anyOf: [
    { const: 0 },
    { type: "string", pattern: durationPattern(["0+", "0+", "0+", "0*[1-5]?\\d"]) },
  ],
};

/** Duration texts (and the number 0) that are zero, which keys longer than 0 refuse. */
export const ZERO_DURATION = {
  anyOf: [{ const: 0 }, { type: "string", pattern: durationPattern(["0+", "0+", "0+", "0+"]) }],
};

function durationPattern(parts: readonly [string, string, string, string]): string {
  const [d, h, m, s] = parts.map((part, i) => `(?:${part})${"dhms"[i]}`);
  const forms = [`${d}(?:${h})?(?:${m})?(?:${s})?`, `${h}(?:${m})?(?:${s})?`, `${m}(?:${s})?`, s];
  return `^\\s*(?:0|${forms.join("|")})\\s*$`;
}

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
 * A duration written like `90s`, `10m`, `1h30m`, `2d`, or `0`, at most 365d; parsed to
 * milliseconds. A bare number other than 0 is refused: seconds or minutes would be a guess.
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
    if (ms > MAX_DURATION_MS) {
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(text)} is too long: must be at most ${MAX_DURATION_TEXT}`,
      });
      return z.NEVER;
    }
    return ms;
  });

/** A {@link Duration} of at least a minute; `reason` says why in the refusal of a shorter one. */
export function minuteDuration(reason: string) {
  return Duration.refine((ms) => ms >= 60_000, { error: `must be at least 1m: ${reason}` }).meta({
    not: UNDER_A_MINUTE,
  });
}

/**
 * A {@link Duration} that is 0 (no window: the current value decides) or at least a minute;
 * `reason` says why in the refusal of a duration in between.
 */
export function zeroOrMinuteDuration(reason: string) {
  return Duration.refine((ms) => ms === 0 || ms >= 60_000, {
    error: `must be 0 or at least 1m: ${reason}`,
  }).meta({ not: { allOf: [UNDER_A_MINUTE, { not: ZERO_DURATION }] } });
}

/** CPU as a Kubernetes quantity (`4`, `3500m`, `0.5`); parsed to millicores. */
export const CpuQuantity = z
  .union([QuantityText, QuantityNumber], { error: "expected a CPU quantity such as 4 or 3500m" })
  .transform((text, ctx) => positiveQuantity(text, "CPU", "4, 3.5 or 3500m", parseCpu, ctx));

/** Memory as a Kubernetes quantity (`16Gi`, `512Mi`, `8G`); parsed to bytes. */
export const MemoryQuantity = z
  .union([QuantityText, QuantityNumber], { error: "expected a memory quantity such as 16Gi" })
  .transform((text, ctx) => positiveQuantity(text, "memory", "16Gi, 512Mi or 8G", parseBytes, ctx));

/**
 * How many of an extended resource (`nvidia.com/gpu`) a node has: a whole number above zero,
 * written as a number or a quantity (`2`, `1k`), as a device plugin reports it.
 */
export const ExtendedResourceCount = z
  .union([QuantityText, z.number().meta({ type: "integer", exclusiveMinimum: 0 })], {
    error: "expected a whole number such as 1",
  })
  .transform((text, ctx) =>
    positiveQuantity(text, "extended resource", "1 or 2", parseWholeUnits, ctx),
  );

/** A quantity that is a whole number of units, else a QuantityError. */
function parseWholeUnits(text: string): number {
  const quantity = parseQuantity(text);
  if (!quantitiesEqual(quantity, { coefficient: scaleQuantity(quantity, 0), exponent: 0 }))
    throw new QuantityError(text, "not a whole number: extended resources come in whole units");
  return parseBytes(text);
}

/**
 * Text that `problem` finds nothing wrong with; for the JSON Schema, `pattern` takes the same
 * texts. `error` is the message for a value that is no text.
 */
function checkedText(
  problem: (text: string) => string | undefined,
  pattern: string,
  error?: string,
) {
  return z
    .string(error === undefined ? undefined : { error })
    .superRefine((text, ctx) => {
      const found = problem(text);
      if (found) ctx.addIssue({ code: "custom", message: found });
    })
    .meta({ pattern });
}

/** A label or taint key (`node.kubernetes.io/pool`), checked as Kubernetes checks it. */
export const LabelKey = checkedText(
  labelKeyProblem,
  LABEL_KEY_PATTERN,
  "expected a label key such as node.kubernetes.io/pool",
);

/** A label or taint value (`workers`, or empty), checked as Kubernetes checks it. */
export const LabelValue = checkedText(
  labelValueProblem,
  LABEL_VALUE_PATTERN,
  "expected a label value such as workers (quote true, false and numbers)",
);

/** An extended resource's name (`nvidia.com/gpu`), checked as Kubernetes checks it. */
export const ExtendedResourceName = checkedText(
  extendedResourceNameProblem,
  EXTENDED_RESOURCE_NAME_PATTERN,
);

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

/** A key of a PATH in double quotes: a JSON string, escapes and all. */
const QUOTED_KEY = String.raw`"(?:[^"\\\u0000-\u001F]|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*"`;
const PATH_KEY = String.raw`(?:[^.[\]"\s]+|${QUOTED_KEY})`;
/** `[0]`, `["key"]`, or `[field=value]` with the value bare or quoted. */
const PATH_BRACKET = String.raw`\[(?:\d+|${QUOTED_KEY}|(?!")[^=\]]*[^=\]\s][^=\]]*=(?:\s*${QUOTED_KEY}|(?!\s*")[^\]]*))\]`;

/** The texts {@link parsePath} reads, for the JSON Schema; a `.` may also precede a bracket. */
export const VALUE_PATH_PATTERN = `^(?:${PATH_KEY}|${PATH_BRACKET})(?:\\.${PATH_KEY}|\\.?${PATH_BRACKET})*$`;

/** A value PATH in the editors' syntax (`worker_count`, `nodes["w-1"].count`). */
export const ValuePath = z
  .string({
    // `path: ["worker_count"]` is a YAML list: the bracket needs quotes to be a PATH.
    error: (issue) =>
      Array.isArray(issue.input)
        ? `expected a PATH such as worker_count, got a YAML list: quote a PATH that starts with "[" (path: '${pathOfList(issue.input)}')`
        : "expected a PATH such as worker_count",
  })
  .superRefine((text, ctx) => {
    try {
      parsePath(text);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  })
  .meta({ pattern: VALUE_PATH_PATTERN });

/** The PATH a YAML list such as `["worker_count"]` was probably meant to be, for the message. */
function pathOfList(items: readonly unknown[]): string {
  return items.map((item) => `[${JSON.stringify(item)}]`).join("");
}

/** Repository paths the loader takes: not absolute, no `\\`, no empty, `.` or `..` part. */
export const REPO_FILE_PATTERN = String.raw`^(?!/)(?![\s\S]*//)(?![\s\S]*/$)(?!(?:[\s\S]*/)?\.\.?(?:/|$))[^\\]+$`;

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
    // One spelling a file: two pools naming it differently are still caught scaling the same count.
    else if (parts.some((part) => part === "" || part === "."))
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(text)} must be written from the repository root without '.' or empty parts, like ${JSON.stringify(parts.filter((part) => part !== "" && part !== ".").join("/"))}`,
      });
  })
  .meta({ pattern: REPO_FILE_PATTERN });

/**
 * An IANA time zone name such as `Europe/Berlin`. The JSON Schema leaves the name to the loader
 * (the list runs to hundreds and differs between runtimes); each key's description says so.
 */
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

/**
 * Where the search for an expression's first start begins. A five-field expression repeats
 * within 400 years of the calendar, so one that starts never after it never starts at all.
 */
const CRON_SEARCH_FROM = new Date(Date.UTC(2000, 0, 1));

/**
 * A five-field cron expression (minute hour day-of-month month day-of-week) that starts at
 * some time: one naming only days no month has (`0 0 30 2 *`) would open no window, silently.
 */
export const CronExpression = z
  .string({ error: "expected a cron expression such as 0 18 * * 5" })
  .superRefine((text, ctx) => {
    let cron: Cron;
    try {
      cron = new Cron(text, { mode: "5-part", paused: true });
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(text)} is not a valid cron expression (${cronProblem(text, error as Error)}); write five fields: minute hour day-of-month month day-of-week`,
      });
      return;
    }
    if (cron.nextRun(CRON_SEARCH_FROM) === null)
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(text)} never starts: the months it names have none of the days it names (as February has no 30th)`,
      });
  })
  .meta({ pattern: CRON_PATTERN });

/**
 * Why croner refused `text`. Its own words for a wrong number of fields name six and seven
 * fields too, which the config does not take, so the count of fields is said instead; and for a
 * macro it does not know, the macros it does.
 */
function cronProblem(text: string, error: Error): string {
  const fields = text.trim().split(/\s+/).filter(Boolean).length;
  if (text.trim().startsWith("@"))
    return `the macros are ${CRON_MACROS.map((macro) => `@${macro}`).join(", ")}`;
  if (fields === 5) return error.message;
  return `it has ${fields} field${fields === 1 ? "" : "s"}, not 5`;
}

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
