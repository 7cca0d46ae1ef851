import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import {
  detectFormat,
  type EditOptions,
  editValue,
  FILE_FORMATS,
  type FileFormat,
  readValue,
} from "../editors/edit-file.ts";
import { decodeUtf8 } from "../editors/text.ts";
import { parseValueArgument } from "../editors/value.ts";
import { UsageError } from "../errors.ts";
import { writeFileAtomic } from "../util/atomic-write.ts";
import { fileReadError } from "../util/read-failure.ts";
import { integerFlag, parseCommandArgs } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";

const formatOptions = {
  format: { type: "string" },
  document: { type: "string" },
} as const;

const PATH_HELP = `PATH syntax (the same for tfvars and YAML):
  worker_count                  a top-level key
  worker_pools.general.count    keys inside maps/objects
  nodes["k3s-worker-1"].cores   a key that needs quoting (dots, dashes, colons)
  config."talos-aws:workerCount"  the same, quoted with a dot
  args[0]                       a list item by index
  containers[name=app]          the list item whose "name" is "app"
`;

export const getCommand: Command = {
  name: "get",
  usage: `Usage: pr-autoscaler get FILE PATH [--format tfvars|yaml] [--document N]

Prints the current value at PATH: scalars as they read, maps and lists as JSON.
An expression in a tfvars file prints as its source text.

Options:
  --format tfvars|yaml  override the format chosen from the file name
  --document N          0-based document of a multi-document YAML file

${PATH_HELP}`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, formatOptions, {
      min: 2,
      max: 2,
      names: "FILE PATH",
    });
    const [file, path] = positionals as [string, string];
    const text = await readInput(io, file);
    const options = editOptions(values, file);
    const value = readValue(text, path, file, options);
    io.stdout(`${renderValue(value, options.format)}\n`);
    return 0;
  },
};

export const editCommand: Command = {
  name: "edit",
  usage: `Usage: pr-autoscaler edit FILE PATH VALUE [--write] [--format tfvars|yaml] [--document N]

Prints the whole edited file to stdout, or with --write replaces FILE atomically and prints
nothing. Only the bytes of the value change (YAML: missing mappings on the way are added as
new lines). The result is parsed again and must equal the original everywhere but PATH;
otherwise nothing is written and the command exits 2 with the file, line and reason.

VALUE: true/false are booleans, numbers are numbers, "..." (with the quotes) is a string,
anything else is a string as written (500m, 2Gi).

Options:
  --write               replace FILE instead of printing
  --format tfvars|yaml  override the format chosen from the file name
  --document N          0-based document of a multi-document YAML file

${PATH_HELP}`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      { ...formatOptions, write: { type: "boolean" } },
      { min: 3, max: 3, names: "FILE PATH VALUE" },
    );
    const [file, path, rawValue] = positionals as [string, string, string];
    const text = await readInput(io, file);
    const edited = editValue(
      text,
      path,
      parseValueArgument(rawValue),
      file,
      editOptions(values, file),
    );
    if (values.write) await writeFileAtomic(resolve(io.cwd, file), edited);
    else io.stdout(edited);
    return 0;
  },
};

function editOptions(values: { format?: string; document?: string }, file: string): EditOptions {
  const format = values.format ?? detectFormat(file);
  if (!FILE_FORMATS.includes(format as FileFormat)) {
    throw new UsageError(
      `--format must be one of ${FILE_FORMATS.join(", ")}, got ${JSON.stringify(format)}`,
    );
  }
  const document = integerFlag(values.document, "--document");
  return { format: format as FileFormat, ...(document === undefined ? {} : { document }) };
}

async function readInput(io: CliIo, file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(io.cwd, file));
  } catch (error) {
    throw fileReadError(file, error);
  }
  return decodeUtf8(bytes, file);
}

/** Scalars print as they read; a tfvars expression prints as its source; the rest as JSON. */
export function renderValue(value: unknown, format?: FileFormat): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || value === null)
    return String(value);
  if (format === "tfvars" && isExpression(value)) return value.expression;
  return JSON.stringify(value, null, 2);
}

function isExpression(value: unknown): value is { expression: string } {
  return (
    typeof value === "object" &&
    value !== null &&
    Object.keys(value).length === 1 &&
    typeof (value as { expression?: unknown }).expression === "string"
  );
}
