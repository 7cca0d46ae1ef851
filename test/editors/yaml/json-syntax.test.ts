import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { parsePath } from "../../../src/editors/path.ts";
import { jsonProblem } from "../../../src/editors/yaml/json-syntax.ts";
import { editYaml, readYamlValue } from "../../../src/editors/yaml/yaml-editor.ts";
import { inputErrorOf } from "./yaml-test-helpers.ts";

describe("jsonProblem", () => {
  it("finds nothing wrong with any text JSON.stringify writes, compact or indented", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2, "\t"), (value, indent) => {
        expect(jsonProblem(JSON.stringify(value, null, indent))).toBeUndefined();
      }),
    );
  });

  it.each([
    [
      '{\n  // workers\n  "worker_count": 3\n}\n',
      4,
      "expected a key in double quotes but found '/' (JSON has no comments)",
    ],
    [
      '{\n  "worker_count": 3,\n}\n',
      23,
      "expected a value after ',' (JSON has no trailing commas) but found '}'",
    ],
    [
      "{'worker_count': 3}",
      1,
      "expected a key in double quotes but found ''' (JSON strings take double quotes)",
    ],
    [
      "worker_count: 3\n",
      0,
      "expected a value (a string, number, object, list, true, false or null) but found 'w'",
    ],
    [
      '{"a": 1}\nworker_count: 3\n',
      9,
      "expected the end of the file after the JSON value but found 'w'",
    ],
    ['{"a": 01}', 7, "expected ',' or '}' but found '1'"],
    [
      '{"a": "x\ty"}',
      8,
      "expected the string to be closed with '\"' but found the control character U+0009",
    ],
    ['{"a": "\\q"}', 7, "expected an escape such as \\n, \\\" or \\u00e9 but found '\\'"],
    ['{"a" 1}', 5, "expected ':' after the key but found '1'"],
    [
      '{"a": tru}',
      6,
      "expected a value (a string, number, object, list, true, false or null) but found 't'",
    ],
    ['{"a": 1', 7, "expected ',' or '}' but found the end of the file"],
  ])("places what breaks JSON in %j", (text, offset, message) => {
    expect(jsonProblem(text)).toEqual({ offset, message });
  });

  it("finds a key written twice in one object, escapes decoded, and names it", () => {
    expect(jsonProblem('{"worker_count": 3,\n "worker_count": 4}')).toEqual({
      offset: 21,
      message: 'the key "worker_count" is written twice in one object',
      duplicateKey: "worker_count",
    });
    expect(jsonProblem('{"x": {"a": 1, "\\u0061": 2}}')?.duplicateKey).toBe("a");
    // One key in sibling objects, in list items or inside a string is no duplicate.
    expect(
      jsonProblem('{"a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 1}, {"k": 2}]}'),
    ).toBeUndefined();
    expect(jsonProblem('{"a": "{\\"a\\": 1}", "b": "a"}')).toBeUndefined();
  });

  it("leaves a byte order mark at the start to the YAML reader", () => {
    expect(jsonProblem('\ufeff{"worker_count": 3}\r\n')).toBeUndefined();
  });
});

describe("a *.json file is held to JSON", () => {
  const file = "terraform/terraform.tfvars.json";

  it("refuses to read a count from text YAML takes but JSON does not, at its line", () => {
    const error = inputErrorOf(() =>
      readYamlValue('{\n  "worker_count": 3,\n}\n', parsePath("worker_count"), file),
    );
    expect(error.location).toEqual({ file, line: 3, column: 1 });
    expect(error.message).toBe(
      "the file is not valid JSON: expected a value after ',' (JSON has no trailing commas) but found '}'; fix it first",
    );
    // The same text under a YAML name is YAML, and is read.
    expect(readYamlValue('{\n  "worker_count": 3,\n}\n', parsePath("worker_count"), "w.yaml")).toBe(
      3,
    );
  });

  it("refuses an edit whose result would not be JSON", () => {
    const text = '{\n  "worker_count": 3\n}\n';
    expect(editYaml(text, parsePath("worker_count"), 4, file)).toBe('{\n  "worker_count": 4\n}\n');
    const error = inputErrorOf(() => editYaml(text, parsePath("gpu_count"), 1, file));
    expect(error.message).toContain("the result would not be valid JSON (line 2, column 22:");
  });
});
