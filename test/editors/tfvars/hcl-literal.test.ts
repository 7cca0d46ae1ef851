// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold HCL templates, not JavaScript ones
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { formatHclLiteral, quoteHclString } from "../../../src/editors/tfvars/hcl-literal.ts";
import { parseWithReference } from "../../../src/editors/tfvars/hcl-reference.ts";
import { parseTfvars } from "../../../src/editors/tfvars/tfvars-parser.ts";

/** What HashiCorp's parser reads from `v = <literal>`. */
function referenceRead(literal: string): unknown {
  const parsed = parseWithReference(`v = ${literal}\n`);
  if (!parsed.ok) throw new Error(`HashiCorp's parser rejects v = ${literal}: ${parsed.reason}`);
  return (parsed.data as { v: unknown }).v;
}

function ownRead(literal: string): unknown {
  const value = parseTfvars(`v = ${literal}\n`, "t.tfvars").attributes[0]?.value;
  return value?.kind === "literal" ? value.value : value;
}

describe("quoteHclString", () => {
  it.each<[string, string]>([
    ["plain", '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["back\\slash", '"back\\\\slash"'],
    ["a\nb\r\tc", '"a\\nb\\r\\tc"'],
    ["${var.x}", '"$${var.x}"'],
    ["%{ if x }", '"%%{ if x }"'],
    ["$${x}", '"$$${x}"'],
    ["cost: $5, 100%", '"cost: $5, 100%"'],
    ["\u0001\u007f", '"\\u0001\\u007f"'],
    ["Größe 中文 🚀", '"Größe 中文 🚀"'],
  ])("writes %j as %s", (text, literal) => {
    expect(quoteHclString(text)).toBe(literal);
  });

  it("writes strings that both parsers read back unchanged, never as a template", () => {
    const text = fc
      .string({
        unit: fc.constantFrom(
          "a",
          " ",
          '"',
          "\\",
          "$",
          "{",
          "}",
          "%",
          "\n",
          "\r",
          "\t",
          "\u0001",
          "é",
          "😀",
          "~",
        ),
        maxLength: 16,
      })
      .filter((candidate) => candidate.normalize("NFC") === candidate);
    fc.assert(
      fc.property(text, (value) => {
        const literal = quoteHclString(value);
        expect(referenceRead(literal)).toBe(value);
        expect(ownRead(literal)).toBe(value);
      }),
      { numRuns: 150 },
    );
  });
});

describe("formatHclLiteral", () => {
  it("writes numbers and bools as HCL literals", () => {
    expect(formatHclLiteral(3)).toBe("3");
    expect(formatHclLiteral(-2.5)).toBe("-2.5");
    expect(formatHclLiteral(1e21)).toBe("1e+21");
    expect(formatHclLiteral(true)).toBe("true");
  });

  it("writes numbers that both parsers read back as the same number", () => {
    const number = fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .map((n) => (Object.is(n, -0) ? 0 : n));
    fc.assert(
      fc.property(number, (value) => {
        const literal = formatHclLiteral(value);
        expect(referenceRead(literal)).toBe(value);
        expect(ownRead(literal)).toBe(value);
      }),
      { numRuns: 150 },
    );
  });
});
