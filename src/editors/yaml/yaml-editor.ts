import { isAlias, isMap } from "yaml";
import { InputError, type SourceLocation } from "../../errors.ts";
import { formatPath, type PathSegment } from "../path.ts";
import type { ScalarValue } from "../value.ts";
import { valueAt } from "../verify.ts";
import { selectDocument } from "./yaml-documents.ts";
import { planYamlEdit } from "./yaml-edit-plan.ts";
import { documentData, locationAt, parseYamlFile, type YamlFile } from "./yaml-file.ts";
import { describeNode, nodeStart, refusal, stopRefusal } from "./yaml-messages.ts";
import { applySplices } from "./yaml-splice.ts";
import { detectYamlStyle } from "./yaml-style.ts";
import { checkEdited, expectedData } from "./yaml-verify.ts";
import { mappingKeys, resolveAlias, walkPath } from "./yaml-walk.ts";

export { parseYamlFile, type YamlFile } from "./yaml-file.ts";
export { detectYamlStyle, type YamlStyle } from "./yaml-style.ts";

export interface YamlEditOptions {
  /** 0-based document index in a multi-document file */
  document?: number;
}

/** One value to set, for {@link applyYamlEdits}. */
export interface YamlEdit {
  path: PathSegment[];
  value: ScalarValue;
}

/**
 * Value at PATH as plain data (scalars, plain objects, arrays), following aliases and merge
 * keys; throws InputError when it is missing.
 */
export function readYamlValue(
  text: string,
  path: PathSegment[],
  file: string,
  options: YamlEditOptions = {},
): unknown {
  return readYamlFileValue(parseYamlFile(text, file), path, options);
}

/** {@link readYamlValue} on an already parsed file. */
export function readYamlFileValue(
  yaml: YamlFile,
  path: readonly PathSegment[],
  options: YamlEditOptions = {},
): unknown {
  return readYamlFileValueLocated(yaml, path, options).value;
}

/** {@link readYamlValue}, with where the value is written (the file alone when it has no place). */
export function readYamlValueLocated(
  text: string,
  path: PathSegment[],
  file: string,
  options: YamlEditOptions = {},
): { value: unknown; location: SourceLocation } {
  return readYamlFileValueLocated(parseYamlFile(text, file), path, options);
}

function readYamlFileValueLocated(
  yaml: YamlFile,
  path: readonly PathSegment[],
  options: YamlEditOptions,
): { value: unknown; location: SourceLocation } {
  const index = selectDocument(yaml, path, options.document);
  const document = yaml.documents[index];
  if (!document) throw new InputError("the file holds no document", { file: yaml.file });
  const walk = walkPath(document, path, { follow: true });
  if (walk.stop) throw stopRefusal(yaml, document, path, walk.stop, "read");
  const offset = nodeStart(walk.steps.at(-1)?.node);
  return {
    value: valueAt(documentData(document, yaml.file), path),
    location:
      offset === undefined ? { file: yaml.file } : locationAt(yaml.lineStarts, offset, yaml.file),
  };
}

/** The keys of the mapping at PATH (its own, then those merged in), in file order. */
export function listYamlKeys(
  text: string,
  path: PathSegment[],
  file: string,
  options: YamlEditOptions = {},
): string[] {
  const yaml = parseYamlFile(text, file);
  const index = selectDocument(yaml, path, options.document);
  const document = yaml.documents[index];
  if (!document) throw new InputError("the file holds no document", { file });
  const walk = walkPath(document, path, { follow: true });
  if (walk.stop) throw stopRefusal(yaml, document, path, walk.stop, "read");
  const found = walk.steps[walk.steps.length - 1]?.node ?? null;
  const node = isAlias(found) ? resolveAlias(document, found) : found;
  if (!isMap(node))
    throw refusal(
      yaml,
      nodeStart(node),
      `${formatPath(path) || "the document root"} is ${describeNode(node)}, not a mapping`,
    );
  return mappingKeys(document, node);
}

/**
 * Returns the whole edited file with PATH set to VALUE. Only the target's bytes change, or
 * lines are added for missing mappings; the result is re-parsed under YAML 1.2 and 1.1 and
 * must read exactly as before except at PATH. Throws InputError (exit code 2, located at
 * file, line and column) when the edit is refused.
 */
export function editYaml(
  text: string,
  path: PathSegment[],
  value: ScalarValue,
  file: string,
  options: YamlEditOptions = {},
): string {
  return editYamlFile(parseYamlFile(text, file), path, value, options);
}

/** {@link editYaml} on an already parsed file. */
export function editYamlFile(
  yaml: YamlFile,
  path: readonly PathSegment[],
  value: ScalarValue,
  options: YamlEditOptions = {},
): string {
  if (path.length === 0)
    throw new InputError("PATH is empty: name the value to edit", { file: yaml.file });
  if (typeof value === "number" && !Number.isFinite(value))
    throw new InputError(`VALUE ${value} is not a finite number`, { file: yaml.file });
  const index = selectDocument(yaml, path, options.document);
  const document = yaml.documents[index];
  if (!document) throw new InputError("the file holds no document", { file: yaml.file });
  const style = detectYamlStyle(yaml);
  const plan = planYamlEdit({ file: yaml, index, document, path, value, style });
  const expected = expectedData(yaml, index, path, value);
  let reason = "there is no way to write it";
  for (const splices of plan.candidates) {
    const edited = applySplices(yaml.text, splices);
    const problem = checkEdited(yaml, expected, edited);
    if (problem === undefined) return edited;
    reason = problem;
  }
  const tagged = plan.tag ? ` (the value is tagged ${plan.tag})` : "";
  throw refusal(
    yaml,
    plan.at,
    `cannot set ${formatPath(path)} to ${JSON.stringify(value)}${tagged}: ${reason}`,
  );
}

/**
 * Applies EDITS one after another, each verified on the result of the previous one.
 * Nothing is returned unless every edit succeeds.
 */
export function applyYamlEdits(
  text: string,
  edits: readonly YamlEdit[],
  file: string,
  options: YamlEditOptions = {},
): string {
  return edits.reduce(
    (current, edit) => editYaml(current, edit.path, edit.value, file, options),
    text,
  );
}
