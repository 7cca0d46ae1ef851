import { InputError } from "../../errors.ts";
import { formatPath, type PathSegment } from "../path.ts";
import type { ScalarValue } from "../value.ts";
import { dataEqual, valueAt, withValueAt } from "../verify.ts";
import { jsonProblem } from "./json-syntax.ts";
import {
  computeLineStarts,
  documentData,
  isJsonFile,
  locationAt,
  parseStream,
  type YamlFile,
  type YamlSchemaName,
} from "./yaml-file.ts";

const SCHEMAS: readonly YamlSchemaName[] = ["1.2", "1.1"];

/** What every document of a file must read as after an edit, under each schema. */
export interface ExpectedData {
  readonly documentIndex: number;
  readonly path: readonly PathSegment[];
  readonly value: ScalarValue;
  readonly documents: Record<YamlSchemaName, readonly unknown[]>;
}

/**
 * The data FILE must hold once PATH in document DOCUMENTINDEX is set to VALUE: the original
 * data of every document, under both schemas, with only that one value changed (and any
 * missing mappings on the way added).
 */
export function expectedData(
  file: YamlFile,
  documentIndex: number,
  path: readonly PathSegment[],
  value: ScalarValue,
): ExpectedData {
  const documents = {} as Record<YamlSchemaName, unknown[]>;
  for (const schema of SCHEMAS) {
    const parsed = schema === "1.2" ? file.documents : file.documents11;
    documents[schema] = parsed.map((document, i) => {
      const data = documentData(document, file.file);
      if (i !== documentIndex) return data;
      try {
        return withValueAt(data, path, value);
      } catch (error) {
        if (!(error instanceof InputError) || schema === "1.2") throw error;
        throw new InputError(
          `${formatPath(path)} reads differently under YAML 1.1 (as Helm reads it): ${error.message}; edit it by hand`,
          { file: file.file },
        );
      }
    });
  }
  return { documentIndex, path, value, documents };
}

/**
 * Re-parses EDITED under both schemas and compares it with EXPECTED. Returns undefined when
 * it matches, otherwise why not.
 */
export function checkEdited(
  file: YamlFile,
  expected: ExpectedData,
  edited: string,
): string | undefined {
  const notJson = isJsonFile(file.file) ? jsonProblem(edited) : undefined;
  if (notJson) {
    const at = locationAt(computeLineStarts(edited), notJson.offset, file.file);
    return `the result would not be valid JSON (line ${at.line}, column ${at.column}: ${notJson.message})`;
  }
  for (const schema of SCHEMAS) {
    let documents: ReturnType<typeof parseStream>;
    try {
      documents = parseStream(edited, schema, file.file);
    } catch (error) {
      return `the result would not parse as YAML ${schema} (${(error as Error).message})`;
    }
    const wanted = expected.documents[schema];
    if (documents.length !== wanted.length)
      return `the result would hold ${documents.length} documents instead of ${wanted.length}`;
    for (const [i, document] of documents.entries()) {
      const data = documentData(document, file.file);
      if (!dataEqual(data, wanted[i])) return describeDifference(expected, i, data, schema);
    }
  }
  return undefined;
}

function describeDifference(
  expected: ExpectedData,
  index: number,
  data: unknown,
  schema: YamlSchemaName,
): string {
  const under = `under YAML ${schema}${schema === "1.1" ? " (as Helm reads it)" : ""}`;
  if (index === expected.documentIndex) {
    const actual = valueAt(data, expected.path);
    if (!dataEqual(actual, expected.value))
      return `${formatPath(expected.path)} would read as ${show(actual)} ${under}, not ${show(expected.value)}`;
  }
  return `other values in document ${index} would change ${under}`;
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const type = value === null ? "null" : Array.isArray(value) ? "list" : typeof value;
  return `${JSON.stringify(value)} (${type})`;
}
