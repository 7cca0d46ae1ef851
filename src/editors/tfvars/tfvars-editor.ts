import { InputError, type SourceLocation } from "../../errors.ts";
import { formatPath, type PathSegment } from "../path.ts";
import type { ScalarValue } from "../value.ts";
import { formatHclLiteral } from "./hcl-literal.ts";
import { locationOf } from "./tfvars-cursor.ts";
import { nodeData, READ_STYLE } from "./tfvars-data.ts";
import { parseTfvars } from "./tfvars-parser.ts";
import { describeNode, resolveTfvarsPath } from "./tfvars-path.ts";
import type { LiteralNode, TfvarsDocument, TfvarsNode } from "./tfvars-syntax.ts";
import { verifyTfvarsEdit } from "./tfvars-verify.ts";

export { parseTfvars } from "./tfvars-parser.ts";
export type { TfvarsDocument, TfvarsNode } from "./tfvars-syntax.ts";

/**
 * The value at PATH in a tfvars file: literals as JS values (objects as plain objects, tuples as
 * arrays); an expression, reference, function call, template or heredoc as
 * `{ expression: "<source text>" }`. Throws an InputError (located in FILE) when the file does
 * not parse or PATH does not exist.
 */
export function readTfvarsValue(text: string, path: PathSegment[], file: string): unknown {
  return readTfvarsValueLocated(text, path, file).value;
}

/** {@link readTfvarsValue}, with where the value is written. */
export function readTfvarsValueLocated(
  text: string,
  path: PathSegment[],
  file: string,
): { value: unknown; location: SourceLocation } {
  const document = parseTfvars(text, file);
  const node = resolveTfvarsPath(document, path);
  return {
    value: nodeData(text, node, READ_STYLE),
    location: locationOf(document.text, file, node.span.start),
  };
}

/**
 * Sets the literal at PATH to VALUE and returns the whole edited file, in which only the bytes
 * of that literal changed. The result is parsed again, by our parser and by HashiCorp's, and
 * must hold the same data with only PATH changed. Throws an InputError (exit code 2, located in
 * FILE) when the file does not parse, PATH does not exist or names something that is not a
 * literal, and a RefusedError when the verification fails.
 */
export function editTfvars(
  text: string,
  path: PathSegment[],
  value: ScalarValue,
  file: string,
): string {
  const document = parseTfvars(text, file);
  const target = editableLiteral(document, resolveTfvarsPath(document, path), path);
  const replacement = formatHclLiteral(value);
  const edited = text.slice(0, target.span.start) + replacement + text.slice(target.span.end);
  verifyTfvarsEdit({ before: document, edited, path, value });
  return edited;
}

function editableLiteral(
  document: TfvarsDocument,
  node: TfvarsNode,
  path: readonly PathSegment[],
): LiteralNode {
  if (node.kind === "literal") return node;
  const what = describeNode(document, node);
  const why =
    node.kind === "expression"
      ? "only a literal number, string, bool or null can be edited; change this value by hand"
      : `it holds several values: name one of its ${node.kind === "object" ? "keys" : "items"} in PATH`;
  throw new InputError(
    `${formatPath(path)} is ${what}, not a literal value; ${why}`,
    locationOf(document.text, document.file, node.span.start),
  );
}
