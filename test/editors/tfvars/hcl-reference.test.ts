// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold HCL templates, not JavaScript ones
import { describe, expect, it } from "@jest/globals";
import { parseWithReference } from "../../../src/editors/tfvars/hcl-reference.ts";

describe("parseWithReference", () => {
  it("returns hcl2json's data: literals as values, expressions as ${source}, heredocs as text", () => {
    const parsed = parseWithReference('a = 1\nb = "x"\nc = var.y\nd = <<EOF\nhi\nEOF\n');
    expect(parsed).toEqual({ ok: true, data: { a: 1, b: "x", c: "${var.y}", d: "hi\n" } });
  });

  it("reports a syntax error as not ok instead of throwing", () => {
    expect(parseWithReference("a = = 1\n")).toEqual({
      ok: false,
      reason: "it reports a syntax error",
    });
  });

  it("reports a crash inside the parser as not ok instead of throwing", () => {
    const parsed = parseWithReference("a = { null = 1 }\n");
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain("internal error");
  });

  it("leaves the process's globals as they were after loading and parsing", () => {
    const limit = Error.stackTraceLimit;
    parseWithReference("a = 1\n");
    expect(Error.stackTraceLimit).toBe(limit);
    expect(Object.hasOwn(globalThis, "require")).toBe(false);
  });
});
