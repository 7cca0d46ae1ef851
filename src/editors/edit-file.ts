import { InputError } from "../errors.ts";
import { parsePath } from "./path.ts";
import { editTfvars, readTfvarsValue } from "./tfvars/tfvars-editor.ts";
import type { ScalarValue } from "./value.ts";
import { editYaml, readYamlValue } from "./yaml/yaml-editor.ts";

export type FileFormat = "tfvars" | "yaml";

export const FILE_FORMATS: readonly FileFormat[] = ["tfvars", "yaml"];

export interface EditOptions {
  format?: FileFormat;
  /** 0-based document of a multi-document YAML file. */
  document?: number;
}

/** Picks the editor from the file name: `*.tfvars` (also `*.auto.tfvars`), `*.yaml`, `*.yml`. */
export function detectFormat(file: string): FileFormat {
  const name = file.toLowerCase();
  if (name.endsWith(".tfvars")) return "tfvars";
  if (name.endsWith(".yaml") || name.endsWith(".yml")) return "yaml";
  throw new InputError(
    `cannot tell the format of ${file} from its name (expected *.tfvars, *.yaml or *.yml); pass --format tfvars|yaml`,
  );
}

/** The value at PATH in a file's text. */
export function readValue(
  text: string,
  path: string,
  file: string,
  options: EditOptions = {},
): unknown {
  const segments = parsePath(path);
  const format = options.format ?? detectFormat(file);
  if (format === "tfvars") {
    rejectDocument(options, file);
    return readTfvarsValue(text, segments, file);
  }
  return readYamlValue(text, segments, file, documentOption(options));
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

function documentOption(options: EditOptions): { document?: number } {
  return options.document === undefined ? {} : { document: options.document };
}

function rejectDocument(options: EditOptions, file: string): void {
  if (options.document !== undefined) {
    throw new InputError(`--document applies to YAML files only, and ${file} is a tfvars file`);
  }
}
