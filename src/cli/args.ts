import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import { counted } from "../util/plural.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

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
    throw new UsageError((error as Error).message);
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
