import { InputError, RefusedError } from "../../errors.ts";
import { formatPath, type PathSegment } from "../path.ts";
import type { ScalarValue } from "../value.ts";
import { dataEqual, isPlainObject, withValueAt } from "../verify.ts";
import { parseWithReference } from "./hcl-reference.ts";
import { documentData, VERIFY_STYLE } from "./tfvars-data.ts";
import { parseTfvars } from "./tfvars-parser.ts";
import type { TfvarsDocument } from "./tfvars-syntax.ts";

/** What an edit is checked against: the file before, the text after, and the intended change. */
export interface TfvarsEdit {
  before: TfvarsDocument;
  edited: string;
  path: readonly PathSegment[];
  value: ScalarValue;
}

/**
 * Checks an edited tfvars text twice: with our own parser (which tells literals, templates and
 * expressions apart) and with HashiCorp's parser (independent of ours). Each time the data after
 * must equal the data before with VALUE at PATH and nothing else changed. Throws a RefusedError
 * (nothing is to be written) when either check fails.
 */
export function verifyTfvarsEdit(edit: TfvarsEdit): void {
  verifyWithOwnParser(edit);
  verifyWithReference(edit);
}

function verifyWithOwnParser({ before, edited, path, value }: TfvarsEdit): void {
  let after: TfvarsDocument;
  try {
    after = parseTfvars(edited, before.file);
  } catch (error) {
    throw refusal(before.file, path, `the edited text would not parse (${messageOf(error)})`);
  }
  const expected = withValueAt(documentData(before, VERIFY_STYLE), path, value);
  const actual = documentData(after, VERIFY_STYLE);
  if (!dataEqual(actual, expected)) {
    throw refusal(before.file, path, `the file ${differenceReason("", expected, actual)}`);
  }
}

function verifyWithReference({ before, edited, path, value }: TfvarsEdit): void {
  const original = parseWithReference(before.text);
  if (!original.ok) {
    throw new InputError(
      `HashiCorp's HCL parser does not accept this file (${original.reason}), so no edit of it can be verified; check it with \`terraform validate\` or \`tofu validate\``,
      { file: before.file },
    );
  }
  const after = parseWithReference(edited);
  if (!after.ok) {
    throw refusal(
      before.file,
      path,
      `HashiCorp's HCL parser rejects the edited text (${after.reason})`,
    );
  }
  let expected: unknown;
  try {
    expected = withValueAt(original.data, path, value);
  } catch {
    throw refusal(before.file, path, "HashiCorp's HCL parser does not find PATH in this file");
  }
  if (!dataEqual(after.data, expected)) {
    throw refusal(
      before.file,
      path,
      `HashiCorp's HCL parser ${differenceReason("", expected, after.data)}`,
    );
  }
}

function refusal(file: string, path: readonly PathSegment[], reason: string): RefusedError {
  return new RefusedError(
    `refusing to edit ${formatPath(path)}: after the edit ${reason}; the file was not changed`,
    { file },
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function differenceReason(where: string, expected: unknown, actual: unknown): string {
  const at = firstDifference(where, expected, actual) || "the top level";
  return `reads different data at ${at} than intended`;
}

/** The path (in PATH syntax) of the first place two data values differ, or undefined. */
export function firstDifference(where: string, a: unknown, b: unknown): string | undefined {
  if (dataEqual(a, b)) return undefined;
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    const i = a.findIndex((item, index) => !dataEqual(item, b[index]));
    return firstDifference(`${where}[${i}]`, a[i], b[i]);
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const step = formatPath([{ kind: "key", key }]);
      const child = where === "" ? step : step.startsWith("[") ? where + step : `${where}.${step}`;
      if (!Object.hasOwn(a, key) || !Object.hasOwn(b, key)) return child;
      if (!dataEqual(a[key], b[key])) return firstDifference(child, a[key], b[key]);
    }
  }
  return where;
}
