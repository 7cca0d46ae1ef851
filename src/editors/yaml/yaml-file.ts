import {
  type Document,
  type DocumentOptions,
  type ParseOptions,
  parseAllDocuments,
  parseDocument,
  type SchemaOptions,
  type YAMLError,
} from "yaml";
import { InputError, type SourceLocation } from "../../errors.ts";
import { jsonProblem } from "./json-syntax.ts";

/** The two ways a YAML file is read: YAML 1.2 core (most tools) and YAML 1.1 (Helm, go-yaml). */
export type YamlSchemaName = "1.2" | "1.1";

/** A parsed YAML stream, kept with its text so edits can splice by node range. */
export interface YamlFile {
  readonly file: string;
  readonly text: string;
  /** Documents read with the YAML 1.2 core schema (merge keys on, as Helm applies them). */
  readonly documents: readonly Document.Parsed[];
  /** The same documents read with the YAML 1.1 schema. */
  readonly documents11: readonly Document.Parsed[];
  /** Offsets where each line starts, for turning offsets into line and column. */
  readonly lineStarts: readonly number[];
}

type YamlOptions = ParseOptions & DocumentOptions & SchemaOptions;

const OPTIONS: Record<YamlSchemaName, YamlOptions> = {
  "1.2": { version: "1.2", merge: true, prettyErrors: true },
  "1.1": { version: "1.1", merge: true, prettyErrors: true },
};

/**
 * Parses TEXT under both schemas. Throws InputError naming the line and column of the first
 * syntax error; a file that only YAML 1.1 rejects (e.g. `yes:` and `true:` as keys of one
 * mapping) is refused too, since Helm would reject it.
 */
export function parseYamlFile(text: string, file: string): YamlFile {
  const lineStarts = computeLineStarts(text);
  const notJson = isJsonFile(file) ? jsonProblem(text) : undefined;
  if (notJson) {
    throw new InputError(
      `the file is not valid JSON: ${notJson.message}; fix it first`,
      locationAt(lineStarts, notJson.offset, file),
    );
  }
  const documents = parseStream(text, "1.2", file, lineStarts);
  const documents11 = parseStream(text, "1.1", file, lineStarts);
  return { file, text, documents, documents11, lineStarts };
}

/** Parses TEXT under one schema; an empty stream becomes one empty document. */
export function parseStream(
  text: string,
  schema: YamlSchemaName,
  file: string,
  lineStarts: readonly number[] = computeLineStarts(text),
): Document.Parsed[] {
  const parsed = parseAllDocuments(text, OPTIONS[schema]);
  const documents = Array.isArray(parsed) ? parsed : [];
  const all = documents.length > 0 ? documents : [parseDocument(text, OPTIONS[schema])];
  for (const document of all) {
    const error = document.errors[0];
    if (error) throw syntaxError(error, schema, file, lineStarts);
  }
  return all;
}

function syntaxError(
  error: YAMLError,
  schema: YamlSchemaName,
  file: string,
  lineStarts: readonly number[],
): InputError {
  const where = locationAt(lineStarts, error.pos[0], file);
  const reason = error.message.split(" at line ")[0] ?? error.message;
  const under = schema === "1.1" ? " when read as YAML 1.1 (as Helm reads it)" : "";
  // JSON files (terraform.tfvars.json) are read as the YAML they also are; their authors know JSON.
  const language = isJsonFile(file) ? "JSON" : "YAML";
  return new InputError(
    `the file is not valid ${language}${under}: ${reason}; fix it first`,
    where,
  );
}

/**
 * A `*.json` file (`terraform.tfvars.json`): read as the YAML it also is, but held to JSON, which
 * is all Terraform reads in it.
 */
export function isJsonFile(file: string): boolean {
  return /\.json$/i.test(file);
}

/** Offsets where each line of TEXT starts. */
export function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return starts;
}

/** 1-based line and column of OFFSET. */
export function locationAt(
  lineStarts: readonly number[],
  offset: number,
  file: string,
): Required<SourceLocation> {
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((lineStarts[mid] ?? 0) <= offset) low = mid;
    else high = mid - 1;
  }
  return { file, line: low + 1, column: offset - (lineStarts[low] ?? 0) + 1 };
}

/** 1-based line of OFFSET in FILE. */
export function lineAt(file: YamlFile, offset: number): number {
  return locationAt(file.lineStarts, offset, file.file).line;
}

/** 0-based column of OFFSET in FILE, not counting a byte order mark at its start. */
export function columnAt(file: YamlFile, offset: number): number {
  const column = locationAt(file.lineStarts, offset, file.file).column - 1;
  const bom =
    file.text.startsWith("\ufeff") && offset > 0 && offset < (file.lineStarts[1] ?? Infinity);
  return bom ? column - 1 : column;
}

/**
 * The plain data of one document. Aliases expand; `!!set` and `!!omap` (YAML 1.1) become
 * arrays so that the structural comparison sees their content.
 */
export function documentData(document: Document.Parsed, file: string): unknown {
  try {
    return plainData(document.toJS({ maxAliasCount: 10_000 }));
  } catch (error) {
    throw new InputError(`the file cannot be read as data: ${(error as Error).message}`, { file });
  }
}

function plainData(value: unknown): unknown {
  if (value instanceof Set) return [...value].map(plainData);
  if (value instanceof Map)
    return [...value.entries()].map(([k, v]) => [plainData(k), plainData(v)]);
  if (Array.isArray(value)) return value.map(plainData);
  if (value instanceof Date || value instanceof Uint8Array) return value;
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    // defineProperty keeps a key named "__proto__" as data instead of setting the prototype.
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: plainData(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/** The line ending a file uses: CRLF when most of its line breaks are CRLF. */
export function lineEndingOf(text: string): "\n" | "\r\n" {
  const crlf = text.split("\r\n").length - 1;
  const lf = text.split("\n").length - 1 - crlf;
  return crlf > lf ? "\r\n" : "\n";
}
