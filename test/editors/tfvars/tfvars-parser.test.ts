// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold HCL templates, not JavaScript ones
import { describe, expect, it } from "@jest/globals";
import { parseWithReference } from "../../../src/editors/tfvars/hcl-reference.ts";
import { documentData, READ_STYLE } from "../../../src/editors/tfvars/tfvars-data.ts";
import { parseTfvars } from "../../../src/editors/tfvars/tfvars-parser.ts";
import type { TfvarsNode } from "../../../src/editors/tfvars/tfvars-syntax.ts";
import { InputError } from "../../../src/errors.ts";
import { spanText } from "./tfvars-fixtures.ts";

function accepts(text: string): boolean {
  try {
    parseTfvars(text, "t.tfvars");
    return true;
  } catch (error) {
    if (error instanceof InputError) return false;
    throw error;
  }
}

function attributeValue(text: string, name: string): TfvarsNode {
  const attribute = parseTfvars(text, "t.tfvars").attributes.find((a) => a.name === name);
  if (!attribute) throw new Error(`no attribute ${name}`);
  return attribute.value;
}

/** Snippets HashiCorp's parser accepts or rejects, and so must ours. */
const SYNTAX: Array<[string, string, boolean]> = [
  ["empty file", "", true],
  ["only comments", "# a\n// b\n/* c */", true],
  ["byte order mark", "\uFEFFa = 1\n", true],
  ["tabs around =", "a\t=\t1\n", true],
  ["no final newline", "a = 1", true],
  ["comment at the end without newline", "a = 1 // x", true],
  ["CRLF everywhere", "a = 1\r\nb = {\r\n  c = 2\r\n}\r\n", true],
  ["dashes and underscores in names", "_a-b = 1\nc- = 2\n", true],
  ["unicode identifier", "é = 1\n", true],
  ["object with = and :", 'a = { "k": "v", x = 1 }\n', true],
  ["object trailing comma", "a = { x = 1, }\n", true],
  ["object items on lines", "a = {\n  x = 1\n  y = 2, z = 3\n}\n", true],
  ["empty object over lines", "a = {\n}\n", true],
  ["object with only a comment", "a = {\n # nothing\n}\n", true],
  ["comment after a comma", "a = { b = 1, # c\n d = 2 }\n", true],
  ["nested tuples and objects", "a = [{ b = 1 }, { c = [1, { d = 2 }] }]\n", true],
  ["tuple trailing comma", "a = [1, 2, 3,]\n", true],
  ["comments inside a tuple", "a = [ # c\n 1, // d\n /* e */ 2\n]\n", true],
  ["numbers", "a = 1.50\nb = 1E5\nc = 1e-5\nd = 1e+5\ne = 01\n", true],
  ["negative numbers", "a = -5\nb = - 5\nc = - /* c */ 5\n", true],
  ["strings with escapes", 'a = "\\n\\r\\t\\"\\\\\\u00e9\\U0001F600"\n', true],
  ["raw tab and control character in a string", 'a = "x\ty\u0001"\n', true],
  ["template escapes", 'a = "$${x} %%{y} $$ %% $ %"\n', true],
  ["templates", 'a = "x${var.y}z"\nb = "${ {a="}"}["a"] }"\nc = "${\n1}"\n', true],
  [
    "directives",
    'a = "%{ if x }y%{ else }z%{ endif }"\nb = "%{~ for k, v in m ~}${k}%{~ endfor ~}"\n',
    true,
  ],
  ["nested template in interpolation", 'a = "x${ "y${z}" }w"\n', true],
  ["heredoc", "a = <<EOF\nhello ${x}\nEOF\n", true],
  ["flush heredoc", "a = <<-EOT\n  x\n  EOT\n", true],
  ["heredoc with indented closing marker", "a = <<EOF\nx\n  EOF\n", true],
  ["heredoc with spaces after the closing marker", "a = <<EOF\nx\nEOF  \n", true],
  ["empty heredoc", "a = <<EOF\nEOF\n", true],
  ["heredoc in an object", "a = {\n b = <<EOF\nx\nEOF\n c = 1\n}\n", true],
  ["heredoc in a tuple", "a = [<<EOF\nx\nEOF\n, 2]\n", true],
  ["heredoc with CRLF", "a = <<EOF\r\nx\r\nEOF\r\n", true],
  ["heredoc directive over lines", "a = <<EOT\n%{ if x }\nEOF\n%{ endif }\nEOT\n", true],
  ["references", "a = var.x\nb = x.0.y\nc = x[*].y\nd = x.*.y\ne = x [0]\n", true],
  ["function calls", "a = max(1, 2)\nb = f([1]...)\nc = f(\n1,\n2,\n)\nd = f (1)\n", true],
  ["operators", "a = 1 == 2\nb = !true\nc = 1 + 2 * 3 % 4\nd = a && b || c\n", true],
  ["conditionals", "a = x ? y ? 1 : 2 : 3\n", true],
  [
    "for expressions",
    "a = [for x in [1,2] : x * 2 if x > 1]\nb = {for k, v in {a=1} : k => v...}\n",
    true,
  ],
  ["for expression over lines", "a = {\n for k, v in {a=1} :\n k => v\n}\n", true],
  ["parentheses over lines", "a = (\n1\n+\n2\n)\n", true],
  ["operator over lines in a tuple", "a = [1 +\n 2]\n", true],
  ["computed keys", 'a = { (x) = 1, a.b = 2, "${x}" = 3, 1.5 = 4 }\n', true],
  ["blank lines and block comments between", "a = 1 /* x */\n\n\n/* y\n */\nb = 2\n", true],
  ["missing value", "a = \n", false],
  ["variable set twice", "p = 1\np = 2\n", false],
  ["invalid escape", 'b = "\\x"\n', false],
  ["surrogate escape", 'a = "\\uD800"\n', false],
  ["short unicode escape", 'a = "\\u12"\n', false],
  ["escaped dollar", 'a = "\\${x}"\n', false],
  ["object items without separator", "a = {x = 1 y = 2}\n", false],
  ["string over two lines", 'a = "multi\nline"\n', false],
  ["empty tuple item", "a = [1,,2]\n", false],
  ["leading comma", "a = [,]\n", false],
  ["unclosed interpolation", 'a = "${var.x"\n', false],
  ["two attributes on a line", "a = 1 b = 2\n", false],
  ["comma between attributes", "a = 1, b = 2\n", false],
  ["unclosed heredoc", "a = <<EOF\nx\n", false],
  ["space after heredoc marker", "a = <<EOF \nx\nEOF\n", false],
  ["heredoc closing marker at end of file", "a = <<EOF\nx\nEOF", false],
  ["lone CR", "a = 1\rb = 2\n", false],
  ["lone CR in a heredoc", "a = <<EOT\nx\ry\nEOT\n", false],
  ["lone CR in a comment", "a = 1 # x\ry\n", true],
  ["operator at end of line", "a = 1 +\n 2\n", false],
  ["operator at start of line", "a = 1\n+ 2\n", false],
  ["operator over lines in an object", "a = { b = 1 +\n 2 }\n", false],
  ["block comment over lines between attributes", "a = 1 /*\n*/ b = 2\n", false],
  ["comma on the next line", "a = { x = 1\n , y = 2 }\n", false],
  ["unclosed directive", 'a = "%{ if true }x"\n', false],
  ["else without if", 'a = "%{ else }"\n', false],
  ["for as the first object key", "a = { for = 1 }\n", false],
  ["=> in an object", "a = { b => 1 }\n", false],
  ["number then letters", "a = { 1a = 2 }\n", false],
  ["number ending in a dot", "a = 1.\n", false],
  ["number starting with a dot", "a = .5\n", false],
  ["quoted attribute name", '"a" = 1\n', false],
  ["non-breaking space", "a\u00a0= 1\n", false],
  ["unterminated block comment", "a = 1 /* x\n", false],
  ["value after a heredoc on its closing line", "a = <<EOF\nx\nEOF\n+ 1\n", false],
];

describe("parseTfvars accepts exactly what HashiCorp's parser accepts", () => {
  it.each(SYNTAX)("%s", (_, text, accepted) => {
    expect(parseWithReference(text).ok).toBe(accepted);
    expect(accepts(text)).toBe(accepted);
  });

  it.each<[string, string]>([
    ["blocks, which HCL allows but tfvars files do not", 'a = 1\nresource "x" "y" {\n}\n'],
    ["a block without labels", "a = 1\nb {\n}\n"],
  ])("but refuses %s", (_, text) => {
    expect(parseWithReference(text).ok).toBe(true);
    expect(accepts(text)).toBe(false);
  });

  it.each<[string, string]>([
    [
      "provider-namespaced functions (newer HCL than the reference parser)",
      'a = provider::aws::arn_parse("x")\n',
    ],
    ["a null object key (the reference parser's converter fails on it)", "a = { null = 1 }\n"],
    ["! on a number (an evaluation error, not a syntax error)", "a = !3072\n"],
  ])("and accepts %s", (_, text) => {
    expect(parseWithReference(text).ok).toBe(false);
    expect(accepts(text)).toBe(true);
  });
});

describe("parseTfvars reads literals as HashiCorp's parser does", () => {
  it.each<[string, string]>([
    ["escapes", 'a = "tab\\there \\"q\\" back\\\\slash \\u00e9 \\U0001F680 \\r\\n"\n'],
    ["template escapes", 'a = "$${x} %%{y} $$ %% $ % $$${z}"\n'],
    ["non-ASCII text", 'a = "Größe 中文 😀"\n'],
    ["NFC normalization", 'a = "e\u0301"\n'],
    ["numbers", "a = [0, 01, 1.50, 1E5, 2.5e-3, 1e+21, 12345678901234567890, -7, - 4]\n"],
    ["bools and null", "a = [true, false, null]\n"],
    [
      "objects with keys of every kind",
      'a = { b = 1, "c d" = 2, e: 3, "f": 4, 5 = 6, 1.50 = 7, true = 8 }\n',
    ],
    ["nesting", 'a = { b = [ { c = [1, [2, { d = "x" }]] } ] }\n'],
    ["CRLF", 'a = {\r\n  b = "x"\r\n}\r\n'],
  ])("%s", (_, text) => {
    expect(documentData(parseTfvars(text, "t.tfvars"), READ_STYLE)).toEqual(
      (parseWithReference(text) as { data: unknown }).data,
    );
  });
});

describe("parseTfvars positions", () => {
  const text = [
    "\uFEFFcount = 3 # three",
    "neg   = - 4",
    'name  = "a${b}c" // template',
    "doc = <<-EOT",
    "  hello",
    "  EOT",
    "list = [1, { k = 2 }]",
    "",
  ].join("\n");

  it("give each value's exact span, without the comments around it", () => {
    expect(spanText(text, attributeValue(text, "count").span)).toBe("3");
    expect(spanText(text, attributeValue(text, "neg").span)).toBe("- 4");
    expect(spanText(text, attributeValue(text, "name").span)).toBe('"a${b}c"');
    expect(spanText(text, attributeValue(text, "doc").span)).toBe("<<-EOT\n  hello\n  EOT");
    const list = attributeValue(text, "list");
    expect(spanText(text, list.span)).toBe("[1, { k = 2 }]");
    if (list.kind !== "tuple") throw new Error("expected a tuple");
    const object = list.items[1];
    if (object?.kind !== "object") throw new Error("expected an object");
    expect(spanText(text, object.items[0]?.value.span ?? { start: 0, end: 0 })).toBe("2");
  });

  it("classify every non-literal value", () => {
    const forms = `a = var.x
b = max(1, 2)
c = 1 + 2
d = x ? 1 : 2
e = [for v in l : v]
f = (1)
g = "\${x}"
h = <<EOF
x
EOF
i = x[0]
j = !true
k = --5
`;
    const formOf = (name: string) => {
      const node = attributeValue(forms, name);
      return node.kind === "expression" ? node.form : node.kind;
    };
    expect(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"].map(formOf)).toEqual([
      "reference",
      "function call",
      "operation",
      "conditional expression",
      "for expression",
      "parenthesized expression",
      "string template with interpolation",
      "heredoc",
      "reference",
      "operation",
      "operation",
    ]);
  });
});
