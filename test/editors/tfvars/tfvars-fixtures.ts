import { readdirSync, readFileSync } from "node:fs";
import type { PathSegment } from "../../../src/editors/path.ts";
import { parseWithReference } from "../../../src/editors/tfvars/hcl-reference.ts";
import type {
  LiteralNode,
  Span,
  TfvarsDocument,
  TfvarsNode,
} from "../../../src/editors/tfvars/tfvars-syntax.ts";

const FIXTURES = new URL("../../fixtures/editors/tfvars/", import.meta.url);

/** The fixture files, by name, as stored (byte for byte). */
export function corpusFileNames(): string[] {
  return readdirSync(FIXTURES)
    .filter((name) => name.endsWith(".tfvars"))
    .sort();
}

export function readFixture(name: string): string {
  return readFileSync(new URL(name, FIXTURES), "utf8");
}

export function toCrlf(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}

/**
 * One literal token as HCL writes it: a (possibly negative) number, a quoted string without
 * interpolation, true, false or null. A span matching this holds no comment, whitespace run or
 * other syntax, so replacing it changes only a value's bytes.
 */
export const LITERAL_TOKEN =
  /^(?:-[ \t]*)?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$|^"(?:[^"\\\r\n$%]|\\.|\$\$\{|%%\{|\$(?!\{)|%(?!\{))*"$|^(?:true|false|null)$/;

export interface LiteralAt {
  path: PathSegment[];
  node: LiteralNode;
}

/** Every literal reachable by a PATH (static keys that appear once, list indexes). */
export function literalsOf(document: TfvarsDocument): LiteralAt[] {
  const found: LiteralAt[] = [];
  for (const attribute of document.attributes) {
    collect(attribute.value, [{ kind: "key", key: attribute.name }], found);
  }
  return found;
}

function collect(node: TfvarsNode, path: PathSegment[], found: LiteralAt[]): void {
  if (node.kind === "literal") found.push({ path, node });
  else if (node.kind === "tuple") {
    node.items.forEach((item, index) => {
      collect(item, [...path, { kind: "index", index }], found);
    });
  } else if (node.kind === "object") {
    for (const item of node.items) {
      if (item.key.kind !== "static") continue;
      const name = item.key.name;
      const same = node.items.filter(
        (other) => other.key.kind === "static" && other.key.name === name,
      );
      if (same.length === 1) collect(item.value, [...path, { kind: "key", key: name }], found);
    }
  }
}

export function spanText(text: string, span: Span): string {
  return text.slice(span.start, span.end);
}

const referenceCache = new Map<string, unknown>();

/** HashiCorp's parser's data for a text that must parse (remembered: the parser is slow). */
export function referenceData(text: string): unknown {
  if (referenceCache.has(text)) return referenceCache.get(text);
  const parsed = parseWithReference(text);
  if (!parsed.ok) throw new Error(`HashiCorp's parser rejects the text: ${parsed.reason}\n${text}`);
  referenceCache.set(text, parsed.data);
  return parsed.data;
}
