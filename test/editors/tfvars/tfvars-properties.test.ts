import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { parseWithReference } from "../../../src/editors/tfvars/hcl-reference.ts";
import { editTfvars, readTfvarsValue } from "../../../src/editors/tfvars/tfvars-editor.ts";
import { parseTfvars } from "../../../src/editors/tfvars/tfvars-parser.ts";
import type { ScalarValue } from "../../../src/editors/value.ts";
import { dataEqual, valueAt, withValueAt } from "../../../src/editors/verify.ts";
import { InputError } from "../../../src/errors.ts";
import { tfvarsFile } from "./tfvars-arbitrary.ts";
import {
  corpusFileNames,
  LITERAL_TOKEN,
  literalsOf,
  readFixture,
  referenceData,
} from "./tfvars-fixtures.ts";

const newValue: fc.Arbitrary<ScalarValue> = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
  fc.string({
    unit: fc.constantFrom(
      "a",
      "Z",
      "9",
      " ",
      '"',
      "\\",
      "$",
      "{",
      "}",
      "%",
      "\n",
      "\t",
      "é",
      "🚀",
      "\u0001",
    ),
    maxLength: 10,
  }),
  fc.boolean(),
);

describe("generated tfvars files", () => {
  it("read back as the data they were generated from, by our parser and by HashiCorp's", () => {
    fc.assert(
      fc.property(tfvarsFile, ({ text, data, literals }) => {
        for (const [name, expected] of Object.entries(data)) {
          expect(readTfvarsValue(text, [{ kind: "key", key: name }], "gen.tfvars")).toEqual(
            expected,
          );
        }
        const reference = referenceData(text);
        for (const literal of literals) {
          expect(valueAt(reference, literal.path)).toEqual(literal.value);
          expect(readTfvarsValue(text, literal.path, "gen.tfvars")).toEqual(literal.value);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("edit any literal to any VALUE, changing only that literal's bytes", () => {
    const withTarget = tfvarsFile
      .filter((file) => file.literals.length > 0)
      .chain((file) =>
        fc.record({
          file: fc.constant(file),
          target: fc.constantFrom(...file.literals),
          value: newValue,
        }),
      );
    fc.assert(
      fc.property(withTarget, ({ file: { text }, target, value }) => {
        const edited = editTfvars(text, target.path, value, "gen.tfvars");
        const suffix = text.slice(target.end);
        expect(edited.slice(0, target.start)).toBe(text.slice(0, target.start));
        expect(edited.endsWith(suffix)).toBe(true);
        expect(edited.slice(target.start, edited.length - suffix.length)).toMatch(LITERAL_TOKEN);
        expect(
          dataEqual(referenceData(edited), withValueAt(referenceData(text), target.path, value)),
        ).toBe(true);
        expect(readTfvarsValue(edited, target.path, "gen.tfvars")).toEqual(value);
      }),
      { numRuns: 60 },
    );
  });
});

/** Text that looks a little like HCL, most of it invalid. */
const PIECES = [
  "a",
  "b1",
  " ",
  "=",
  ":",
  ",",
  "\n",
  "\r\n",
  "\r",
  "{",
  "}",
  "[",
  "]",
  "(",
  ")",
  '"',
  "\\",
  "${",
  "%{",
  "$${",
  "#",
  "//",
  "/*",
  "*/",
  "<<EOT\n",
  "EOT\n",
  "<<-",
  "-",
  "1",
  "2.5e3",
  "!",
  "?",
  ".",
  "...",
  "=>",
  "for ",
  " in ",
  "true",
  "null",
  "é",
  "\t",
  "\u0000",
];
const garbage = fc.string({ unit: fc.constantFrom(...PIECES), maxLength: 40 });

/** A real file with a few pieces inserted or characters deleted. */
const mutatedCorpusFile = fc
  .record({
    name: fc.constantFrom(...corpusFileNames()),
    mutations: fc.array(
      fc.record({
        at: fc.double({ min: 0, max: 1, noNaN: true }),
        insert: fc.option(fc.constantFrom(...PIECES)),
        remove: fc.nat({ max: 4 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ name, mutations }) => {
    const original = readFixture(name);
    let text = original;
    for (const { at, insert, remove } of mutations) {
      const offset = Math.floor(at * text.length);
      text =
        text.slice(0, offset) +
        (insert ?? "") +
        text.slice(offset + (insert === null ? remove + 1 : 0));
    }
    return { text, paths: literalsOf(parseTfvars(original, name)).map((literal) => literal.path) };
  });

/** Runs `act`; anything thrown must be an InputError. */
function outcome<T>(act: () => T): T | InputError {
  try {
    return act();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
}

describe("invalid and damaged files", () => {
  it("never crash: reading and editing garbage either works or throws an InputError", () => {
    fc.assert(
      fc.property(garbage, fc.constantFrom("a", "b1", "a.b", "a[0]"), (text, pathText) => {
        const path =
          pathText === "a.b"
            ? [
                { kind: "key" as const, key: "a" },
                { kind: "key" as const, key: "b" },
              ]
            : pathText === "a[0]"
              ? [
                  { kind: "key" as const, key: "a" },
                  { kind: "index" as const, index: 0 },
                ]
              : [{ kind: "key" as const, key: pathText }];
        outcome(() => readTfvarsValue(text, path, "garbage.tfvars"));
        const edited = outcome(() => editTfvars(text, path, 7, "garbage.tfvars"));
        if (!(edited instanceof InputError)) {
          // Output only ever comes from a file both parsers accept.
          expect(parseWithReference(text).ok).toBe(true);
          expect(() => parseTfvars(text, "garbage.tfvars")).not.toThrow();
        }
      }),
      { numRuns: 400 },
    );
  });

  it("a damaged real file is edited correctly or refused, never half-edited", () => {
    fc.assert(
      fc.property(mutatedCorpusFile, fc.nat(), newValue, ({ text, paths }, pick, value) => {
        const path = paths[pick % paths.length] ?? [{ kind: "key" as const, key: "x" }];
        const edited = outcome(() => editTfvars(text, path, value, "damaged.tfvars"));
        if (edited instanceof InputError) {
          expect(edited.exitCode === 1 || edited.exitCode === 2).toBe(true);
          return;
        }
        const before = parseWithReference(text);
        expect(before.ok).toBe(true);
        if (!before.ok) return;
        expect(dataEqual(referenceData(edited), withValueAt(before.data, path, value))).toBe(true);
      }),
      { numRuns: 80 },
    );
  });
});
