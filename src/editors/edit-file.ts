import { InputError, type SourceLocation } from "../errors.ts";
import { parsePath } from "./path.ts";
import { editTfvars, readTfvarsValueLocated } from "./tfvars/tfvars-editor.ts";
import type { ScalarValue } from "./value.ts";
import { editYaml, readYamlValueLocated } from "./yaml/yaml-editor.ts";

export type FileFormat = "tfvars" | "yaml";

export const FILE_FORMATS: readonly FileFormat[] = ["tfvars", "yaml"];

export interface EditOptions {
  format?: FileFormat;
  /** 0-based document of a multi-document YAML file. */
  document?: number;
}

/**
 * Picks the editor from the file name: `*.tfvars` (also `*.auto.tfvars`), `*.yaml`, `*.yml`, and
 * `*.json` (`terraform.tfvars.json`), which the YAML editor reads and edits as the JSON it is.
 */
export function detectFormat(file: string, how = "pass --format tfvars|yaml"): FileFormat {
  const format = formatFromName(file);
  if (format) return format;
  throw new InputError(unknownFormatMessage(file, how));
}

/** The editor a file's name tells, if it tells one. */
export function formatFromName(file: string): FileFormat | undefined {
  const name = file.toLowerCase();
  if (name.endsWith(".tfvars")) return "tfvars";
  if (name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json")) return "yaml";
  return undefined;
}

/** Why a file's format cannot be told, and `how` to say it. */
export function unknownFormatMessage(file: string, how: string): string {
  return `cannot tell the format of ${file} from its name (expected *.tfvars, *.yaml, *.yml or *.json); ${how}`;
}

/** What a pool's target sets to say its file's format. */
export const TARGET_FORMAT_HINT = "set the target's format: tfvars or yaml";

/** The value at PATH in a file's text. */
export function readValue(
  text: string,
  path: string,
  file: string,
  options: EditOptions = {},
): unknown {
  return readValueLocated(text, path, file, options).value;
}

/** The value at PATH in a file's text, and where it is written, for messages about it. */
export function readValueLocated(
  text: string,
  path: string,
  file: string,
  options: EditOptions = {},
): { value: unknown; location: SourceLocation } {
  const segments = parsePath(path);
  const format = options.format ?? detectFormat(file);
  if (format === "tfvars") {
    rejectDocument(options, file);
    return readTfvarsValueLocated(text, segments, file);
  }
  return readYamlValueLocated(text, segments, file, documentOption(options));
}

/**
 * The whole file with PATH set to VALUE. Only the value's bytes change (or lines are added for
 * keys the YAML editor creates); the editors re-parse the result and refuse any other difference.
 */
export function editValue(
  text: string,
  path: string,
  value: ScalarValue,
  file: string,
  options: EditOptions = {},
): string {
  const segments = parsePath(path);
  const format = options.format ?? detectFormat(file);
  if (format === "tfvars") {
    rejectDocument(options, file);
    return editTfvars(text, segments, value, file);
  }
  return editYaml(text, segments, value, file, documentOption(options));
}

/** Where a configured count lives: its file, PATH, and how the file is read when it must be said. */
export interface CountTarget {
  file: string;
  path: string;
  format?: FileFormat;
  document?: number;
}

/**
 * How a configured target's file is read and edited: its format (from the config, else the
 * file name, refused with what to set) and document.
 */
export function targetEditOptions(target: CountTarget): EditOptions {
  const options: EditOptions = {
    format: target.format ?? detectFormat(target.file, TARGET_FORMAT_HINT),
  };
  if (target.document !== undefined) options.document = target.document;
  return options;
}

function documentOption(options: EditOptions): { document?: number } {
  return options.document === undefined ? {} : { document: options.document };
}

function rejectDocument(options: EditOptions, file: string): void {
  if (options.document !== undefined) {
    throw new InputError(`--document applies to YAML files only, and ${file} is a tfvars file`);
  }
}
