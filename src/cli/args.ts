import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import { didYouMean } from "../policy/did-you-mean.ts";
import { counted } from "../util/plural.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * A node:util parseArgs error as a usage error (exit 2). An unknown option is named with the
 * option likely meant; node's own advice, to put "a positional argument starting with a '-'"
 * after `--`, is kept (in plain words) only for a command that takes arguments, where it is the
 * way to pass a negative VALUE, and only when no option is a likely match.
 */
export function parseArgsUsageError(
  error: unknown,
  options: Options,
  takesArguments: boolean,
): UsageError {
  const message = (error as Error).message;
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if ((error as { code?: string }).code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION" || !unknown)
    return new UsageError(message);
  const option = unknown[1] as string;
  const name = option.replace(/^--?/, "").split("=")[0] as string;
  const guess = option.startsWith("--")
    ? didYouMean(name, [...Object.keys(options), "help"])
    : undefined;
  if (guess) return new UsageError(`Unknown option '${option}'; did you mean --${guess}?`);
  const dash = takesArguments
    ? `; an argument that starts with '-' goes after --, as in: -- ${option}`
    : "";
  return new UsageError(`Unknown option '${option}' (--help lists the options)${dash}`);
}

/** node:util parseArgs in strict mode, with its errors turned into usage errors (exit 2). */
export function parseCommandArgs<T extends Options>(
  args: string[],
  options: T,
  positionals: { min: number; max: number; names: string },
) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw parseArgsUsageError(error, options, positionals.max > 0);
  }
  // An empty value is a mistake (a variable the script left unset), never a choice: `--repo ""`
  // would otherwise read the current directory, `--snapshot ""` the directory itself.
  for (const [name, value] of Object.entries(parsed.values)) {
    if ((Array.isArray(value) ? value : [value]).includes(""))
      throw new UsageError(`--${name} expects a value, got an empty one`);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min || count > positionals.max) {
    throw new UsageError(`expected ${positionals.names}, got ${counted(count, "argument")}`);
  }
  return parsed;
}

/** A non-negative integer flag value, or a usage error naming the flag. */
export function integerFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new UsageError(`${flag} expects a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}
