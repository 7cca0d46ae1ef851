import { InputError, type SourceLocation } from "../../errors.ts";
import { formatPath, type PathSegment } from "../path.ts";
import { scalarText } from "../verify.ts";
import { closestName } from "./closest-name.ts";
import { locationOf } from "./tfvars-cursor.ts";
import type { ObjectNode, TfvarsDocument, TfvarsNode, TupleNode } from "./tfvars-syntax.ts";

/**
 * Finds the value PATH names in a parsed tfvars file. Throws an InputError located in the file
 * saying which step is missing (with the keys that do exist and the likely one meant), which
 * step is ambiguous, or which value cannot be looked into.
 */
export function resolveTfvarsPath(
  document: TfvarsDocument,
  path: readonly PathSegment[],
): TfvarsNode {
  const [first, ...rest] = path;
  if (first === undefined) throw new InputError("PATH is empty: name the variable to read or edit");
  if (first.kind !== "key") {
    throw new InputError(
      `PATH ${formatPath(path)} must start with a variable name: a tfvars file assigns variables (name = value)`,
      fileStart(document),
    );
  }
  let node = findAttribute(document, first.key);
  rest.forEach((segment, i) => {
    node = step(document, node, segment, path.slice(0, i + 1));
  });
  return node;
}

function fileStart(document: TfvarsDocument): SourceLocation {
  return { file: document.file, line: 1, column: 1 };
}

function at(document: TfvarsDocument, node: TfvarsNode): SourceLocation {
  return locationOf(document.text, document.file, node.span.start);
}

function lineAt(document: TfvarsDocument, offset: number): number {
  return locationOf(document.text, document.file, offset).line ?? 1;
}

function findAttribute(document: TfvarsDocument, name: string): TfvarsNode {
  const attribute = document.attributes.find((candidate) => candidate.name === name);
  if (attribute) return attribute.value;
  const names = document.attributes.map((candidate) => candidate.name);
  throw new InputError(
    sentences(
      `the file does not set the variable ${JSON.stringify(name)}${suggestion(name, names)}`,
      listNames("It sets", names, "It sets no variables"),
      "A tfvars file does not gain new variables this way: add the line by hand",
    ),
    fileStart(document),
  );
}

/** Joins sentences with ". ", or just a space after one that ends in a question mark. */
function sentences(...parts: string[]): string {
  return parts.reduce((text, part) => `${text}${text.endsWith("?") ? " " : ". "}${part}`);
}

function suggestion(name: string, names: readonly string[]): string {
  const closest = closestName(name, names);
  return closest === undefined ? "" : `; did you mean ${JSON.stringify(closest)}?`;
}

function listNames(lead: string, names: readonly string[], none: string): string {
  if (names.length === 0) return none;
  const shown = names.slice(0, 12).join(", ");
  return `${lead}: ${shown}${names.length > 12 ? `, and ${names.length - 12} more` : ""}`;
}

function step(
  document: TfvarsDocument,
  node: TfvarsNode,
  segment: PathSegment,
  here: readonly PathSegment[],
): TfvarsNode {
  if (segment.kind === "key") return stepKey(document, node, segment.key, here);
  const tuple = requireTuple(document, node, segment, here);
  if (segment.kind === "index") return stepIndex(document, tuple, segment.index, here);
  return stepMatch(document, tuple, segment.field, segment.value, here);
}

function stepKey(
  document: TfvarsDocument,
  node: TfvarsNode,
  key: string,
  here: readonly PathSegment[],
): TfvarsNode {
  if (node.kind !== "object") {
    const hint = node.kind === "tuple" ? "; pick an item with [N] or [field=value]" : "";
    throw new InputError(
      `${formatPath(here)} is ${describeNode(document, node)}, which has no key ${JSON.stringify(key)}${hint}`,
      at(document, node),
    );
  }
  const matches = node.items.filter((item) => item.key.kind === "static" && item.key.name === key);
  const [match, second] = matches;
  if (match === undefined) throw missingKey(document, node, key, here);
  if (second !== undefined) {
    const lines = matches.map((item) => lineAt(document, item.key.span.start)).join(", ");
    throw new InputError(
      `key ${JSON.stringify(key)} appears ${matches.length} times in ${formatPath(here)} (lines ${lines}), so which one PATH means is unclear; remove the duplicate by hand`,
      locationOf(document.text, document.file, second.key.span.start),
    );
  }
  return match.value;
}

function missingKey(
  document: TfvarsDocument,
  object: ObjectNode,
  key: string,
  here: readonly PathSegment[],
): InputError {
  const names = object.items.flatMap((item) => (item.key.kind === "static" ? [item.key.name] : []));
  const computed =
    object.items.length > names.length ? "; some of its keys are computed by expressions" : "";
  return new InputError(
    sentences(
      `no key ${JSON.stringify(key)} in ${formatPath(here)} (the object starting at line ${lineAt(document, object.span.start)})${suggestion(key, names)}`,
      `${listNames("Its keys", names, "It is empty")}${computed}`,
      "Keys are not created in tfvars files: add it by hand",
    ),
    at(document, object),
  );
}

function requireTuple(
  document: TfvarsDocument,
  node: TfvarsNode,
  segment: PathSegment,
  here: readonly PathSegment[],
): TupleNode {
  if (node.kind === "tuple") return node;
  const wanted = formatPath([segment]);
  const hint = node.kind === "object" ? "; name one of its keys with .key" : "";
  throw new InputError(
    `${formatPath(here)} is ${describeNode(document, node)}, not a list, so ${wanted} cannot pick an item of it${hint}`,
    at(document, node),
  );
}

function stepIndex(
  document: TfvarsDocument,
  tuple: TupleNode,
  index: number,
  here: readonly PathSegment[],
): TfvarsNode {
  const item = tuple.items[index];
  if (item !== undefined) return item;
  throw new InputError(
    `index ${index} is out of range: ${formatPath(here)} has ${tuple.items.length} item${tuple.items.length === 1 ? "" : "s"}`,
    at(document, tuple),
  );
}

function stepMatch(
  document: TfvarsDocument,
  tuple: TupleNode,
  field: string,
  value: string,
  here: readonly PathSegment[],
): TfvarsNode {
  const fieldValues = tuple.items.map((item) => fieldText(item, field));
  const matches = tuple.items.filter((_, i) => fieldValues[i] === value);
  const [match, second] = matches;
  const selector = `${field} = ${JSON.stringify(value)}`;
  if (match === undefined) {
    const present = fieldValues.filter((text) => text !== undefined);
    const listed = listNames(
      `The ${field} values there`,
      present,
      `None of its items has a literal ${field}`,
    );
    throw new InputError(
      sentences(
        `no item of ${formatPath(here)} has ${selector}${suggestion(value, present)}`,
        listed,
      ),
      at(document, tuple),
    );
  }
  if (second !== undefined) {
    const lines = matches.map((item) => lineAt(document, item.span.start)).join(", ");
    throw new InputError(
      `${matches.length} items of ${formatPath(here)} have ${selector} (lines ${lines}); pick one with [N]`,
      at(document, second),
    );
  }
  return match;
}

/** The text a `[field=value]` selector compares: the item's literal `field`, if it has one. */
function fieldText(item: TfvarsNode, field: string): string | undefined {
  if (item.kind !== "object") return undefined;
  const values = item.items.filter(
    (entry) => entry.key.kind === "static" && entry.key.name === field,
  );
  const [only, extra] = values;
  if (only === undefined || extra !== undefined || only.value.kind !== "literal") return undefined;
  return scalarText(only.value.value);
}

/** Names a value for a message: "an object", "the number 4", "a function call (`max(1, 2)`)". */
export function describeNode(document: TfvarsDocument, node: TfvarsNode): string {
  switch (node.kind) {
    case "object":
      return "an object";
    case "tuple":
      return `a list of ${node.items.length} item${node.items.length === 1 ? "" : "s"}`;
    case "literal":
      return describeLiteral(node.value);
    case "expression": {
      const article = /^[aeiou]/.test(node.form) ? "an" : "a";
      return `${article} ${node.form} (${sourceExcerpt(document.text.slice(node.span.start, node.span.end))})`;
    }
  }
}

function describeLiteral(value: string | number | boolean | null): string {
  if (value === null) return "null";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `the ${typeof value === "number" ? "number" : "bool"} ${String(value)}`;
}

function sourceExcerpt(source: string): string {
  const firstLine = source.split(/\r?\n/)[0] ?? "";
  const short = firstLine.length > 60 ? `${firstLine.slice(0, 57)}...` : firstLine;
  return `\`${short}${firstLine === source || short !== firstLine ? "" : " ..."}\``;
}
