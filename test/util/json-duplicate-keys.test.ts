import { describe, expect, it } from "@jest/globals";
import { firstDuplicateKey } from "../../src/util/json-duplicate-keys.ts";

describe("firstDuplicateKey", () => {
  it("finds a key written twice in one object, with the line of the second", () => {
    expect(firstDuplicateKey('{\n  "a": 1,\n  "b": 2,\n  "a": 3\n}')).toEqual({
      key: "a",
      line: 4,
    });
    expect(firstDuplicateKey('{"x": {"a": 1, "a": 2}}')).toEqual({ key: "a", line: 1 });
  });

  it("compares keys as JSON reads them, escapes decoded", () => {
    expect(firstDuplicateKey('{"a": 1, "\\u0061": 2}')).toEqual({ key: "a", line: 1 });
  });

  it("takes the same key in sibling objects, array items and string values as no duplicate", () => {
    expect(firstDuplicateKey('{"a": {"k": 1}, "b": {"k": 2}}')).toBeUndefined();
    expect(firstDuplicateKey('[{"k": 1}, {"k": 2}]')).toBeUndefined();
    expect(
      firstDuplicateKey('{"a": "a", "b": ["a", "a"], "c": "{\\"a\\": 1, \\"a\\": 2}"}'),
    ).toBeUndefined();
    expect(firstDuplicateKey('{"a": "x:", "b": "y"}')).toBeUndefined();
  });
});
