import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { parseDocument } from "yaml";
import {
  blockScalarText,
  doubleQuoted,
  plainTexts,
  singleQuoted,
} from "../../../src/editors/yaml/yaml-scalar-text.ts";

function readBoth(text: string): [unknown, unknown] {
  const read = (version: "1.1" | "1.2") => {
    const document = parseDocument(`k: ${text}`, { version });
    if (document.errors.length > 0) throw new Error(document.errors[0]?.message);
    return (document.toJS() as { k: unknown }).k;
  };
  return [read("1.2"), read("1.1")];
}

describe("plainTexts", () => {
  it.each(["100m", "2Gi", "nginx:1.25", "hello world", "talos-aws:workerCount", "ünï"])(
    "keeps %s plain",
    (value) => {
      expect(plainTexts(value, false)).toEqual([value]);
    },
  );

  it.each([
    "yes",
    "on",
    "Off",
    "y",
    "0755",
    "12:30",
    "1e3",
    "true",
    "null",
    "~",
    "",
    " a",
    "a: b",
    "a #b",
    "- a",
    "[a]",
    "'a'",
    "&a",
    "*a",
    "!a",
    "%a",
    "@a",
  ])("refuses to write %j plain", (value) => {
    expect(plainTexts(value, false)).toEqual([]);
  });

  it("refuses flow indicators inside flow collections only", () => {
    expect(plainTexts("a,b", false)).toEqual(["a,b"]);
    expect(plainTexts("a,b", true)).toEqual([]);
  });

  it("writes numbers so both schemas read the same number", () => {
    expect(plainTexts(1e21, false)).toContain("1.0e+21");
    expect(plainTexts(0.5, false)).toEqual(["0.5"]);
    expect(plainTexts(Number.POSITIVE_INFINITY, false)).toEqual([]);
  });

  it("only ever offers texts that read back as the value under YAML 1.2 and 1.1", () => {
    const values = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
    );
    fc.assert(
      fc.property(values, fc.boolean(), (value, inFlow) => {
        // Strict equality: the same type and value (and 0 reads back for -0, which is fine).
        for (const text of plainTexts(value, inFlow))
          for (const read of readBoth(text)) expect(read === value).toBe(true);
      }),
    );
  });
});

describe("quoted scalars", () => {
  it("double quotes any string so that both schemas read it back", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (value) => {
        expect(readBoth(doubleQuoted(value))).toEqual([value, value]);
      }),
    );
  });

  it("escapes only what needs it", () => {
    expect(doubleQuoted('say "hi"\\ 🦞\n')).toBe('"say \\"hi\\"\\\\ 🦞\\n"');
  });

  it("single quotes printable one-line strings", () => {
    expect(singleQuoted("it's")).toBe("'it''s'");
    expect(singleQuoted("two\nlines")).toBeUndefined();
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (value) => {
        const text = singleQuoted(value);
        if (text !== undefined) expect(readBoth(text)).toEqual([value, value]);
      }),
    );
  });
});

describe("blockScalarText", () => {
  const site = { inFlow: false, lineEnding: "\n", blockIndent: "    " };

  it("keeps the header comment and content indentation", () => {
    expect(blockScalarText("| # note\n      old\n", "new\ntext\n", site)).toBe(
      "| # note\n      new\n      text\n",
    );
  });

  it("chooses chomping from the trailing newlines", () => {
    expect(blockScalarText("|\n  a\n", "b", site)).toBe("|-\n  b\n");
    expect(blockScalarText("|\n  a\n", "b\n\n", site)).toBe("|+\n  b\n\n");
  });

  it("keeps folded style for one line and switches to literal for several", () => {
    expect(blockScalarText(">\n  a\n", "b\n", site)).toBe(">\n  b\n");
    expect(blockScalarText(">\n  a\n", "b\nc\n", site)).toBe("|\n  b\n  c\n");
  });

  it("declines what a block scalar cannot hold without an indentation indicator", () => {
    expect(blockScalarText("|\n  a\n", " leading space", site)).toBeUndefined();
    expect(blockScalarText("|\n  a\n", "", site)).toBeUndefined();
  });
});
