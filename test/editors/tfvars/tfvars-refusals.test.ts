// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold HCL templates, not JavaScript ones
import { describe, expect, it } from "@jest/globals";
import { parsePath } from "../../../src/editors/path.ts";
import { editTfvars, readTfvarsValue } from "../../../src/editors/tfvars/tfvars-editor.ts";
import { parseTfvars } from "../../../src/editors/tfvars/tfvars-parser.ts";
import { verifyTfvarsEdit } from "../../../src/editors/tfvars/tfvars-verify.ts";
import type { ScalarValue } from "../../../src/editors/value.ts";
import { formatLocated, InputError, RefusedError } from "../../../src/errors.ts";
import { readFixture } from "./tfvars-fixtures.ts";

/** The error `act` throws, which must be an InputError. */
function errorOf(act: () => unknown): InputError {
  try {
    act();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error("expected an InputError, but nothing was thrown");
}

function editError(
  text: string,
  path: string,
  value: ScalarValue,
  file = "terraform.tfvars",
): InputError {
  return errorOf(() => editTfvars(text, parsePath(path), value, file));
}

describe("editTfvars refuses a PATH that does not exist", () => {
  const file = "talos-proxmox-dynamic.tfvars";
  const text = readFixture(file);

  it("names a missing variable, suggests the close one and lists what the file sets", () => {
    const error = editError(text, "worker_cont", 3, file);
    expect(error.exitCode).toBe(2);
    expect(error.location).toEqual({ file, line: 1, column: 1 });
    expect(error.message).toContain('the file does not set the variable "worker_cont"');
    expect(error.message).toContain('did you mean "worker_count"?');
    expect(error.message).toContain("It sets: cluster_name, environment, ha_enabled");
    expect(error.message).toContain("add the line by hand");
  });

  it("names the missing key, the object it was looked up in and that object's keys", () => {
    const error = editError(text, "sizing.worker.vcpus", 12, file);
    expect(error.location).toEqual({ file, line: 21, column: 19 });
    expect(error.message).toBe(
      'no key "vcpus" in sizing.worker (the object starting at line 21); did you mean "vcpu"? Its keys: vcpu, memory, disk. Keys are not created in tfvars files: add it by hand',
    );
    expect(formatLocated(error.message, error.location)).toMatch(
      /^talos-proxmox-dynamic\.tfvars:21:19: no key "vcpus"/,
    );
  });

  it("says which step of a longer path is missing", () => {
    const error = editError(text, "pve_capacity.pve9.vcpu", 1, file);
    expect(error.location).toEqual({ file, line: 24, column: 16 });
    expect(error.message).toContain('no key "pve9" in pve_capacity');
    expect(error.message).toContain("Its keys: pve1, pve2, pve3");
  });

  it("names a [field=value] selector that matches no item, with the values that exist", () => {
    const nodes = readFixture("proxmox-node-list.tfvars");
    const error = editError(nodes, "nodes[vm_name=k8s-node-200].cpu_cores", 4, "node.tfvars");
    expect(error.location).toEqual({ file: "node.tfvars", line: 5, column: 9 });
    expect(error.message).toContain('no item of nodes has vm_name = "k8s-node-200"');
    expect(error.message).toContain(
      "The vm_name values there: k8s-node-171, k8s-node-172, k8s-node-181, k8s-node-182",
    );
  });

  it("refuses an index past the end of a list", () => {
    const nodes = readFixture("proxmox-node-list.tfvars");
    const error = editError(nodes, "nodes[4].cpu_cores", 4, "node.tfvars");
    expect(error.location).toEqual({ file: "node.tfvars", line: 5, column: 9 });
    expect(error.message).toBe("index 4 is out of range: nodes has 4 items");
  });

  it("refuses a key on a list, an index on an object and a key on a literal", () => {
    const onList = editError(text, "proxmox.target_nodes.first", "x", file);
    expect(onList.message).toBe(
      'proxmox.target_nodes is a list of 3 items, which has no key "first"; pick an item with [N] or [field=value]',
    );
    expect(onList.location).toEqual({ file, line: 10, column: 18 });

    const onObject = editError(text, "proxmox[0]", "x", file);
    expect(onObject.message).toBe(
      "proxmox is an object, not a list, so [0] cannot pick an item of it; name one of its keys with .key",
    );
    expect(onObject.location).toEqual({ file, line: 7, column: 11 });

    const onLiteral = editError(text, "worker_count.max", 1, file);
    expect(onLiteral.message).toBe('worker_count is the number 8, which has no key "max"');
    expect(onLiteral.location).toEqual({ file, line: 5, column: 24 });
  });

  it("refuses a PATH that starts with a list index", () => {
    const error = editError(text, "[0]", 1, file);
    expect(error.message).toContain("must start with a variable name");
    expect(error.location).toEqual({ file, line: 1, column: 1 });
  });

  it("refuses a key that appears twice in one object, naming both lines", () => {
    const error = editError("pool = {\n  size = 1\n  size = 2\n}\n", "pool.size", 3);
    expect(error.message).toContain('key "size" appears 2 times in pool (lines 2, 3)');
    expect(error.location).toEqual({ file: "terraform.tfvars", line: 3, column: 3 });
  });

  it("refuses a [field=value] selector that matches two items", () => {
    const twice = 'pools = [\n  { name = "a", n = 1 },\n  { name = "a", n = 2 },\n]\n';
    const error = editError(twice, "pools[name=a].n", 3);
    expect(error.message).toBe('2 items of pools have name = "a" (lines 2, 3); pick one with [N]');
    expect(error.location).toEqual({ file: "terraform.tfvars", line: 3, column: 3 });
  });

  it("reading reports a missing PATH the same way", () => {
    const error = errorOf(() => readTfvarsValue(text, parsePath("sizing.gpu"), file));
    expect(error.message).toContain('no key "gpu" in sizing');
    expect(error.location).toEqual({ file, line: 19, column: 10 });
  });
});

describe("editTfvars refuses a target that is not a literal", () => {
  const file = "handwritten-templates-heredocs.tfvars";
  const text = readFixture(file);

  it.each([
    ["disk_gb", 24, 17, "an operation (`1024 * 2`)"],
    ["enabled", 32, 17, "an operation (`!false`)"],
    ["pick", 25, 17, 'a conditional expression (`worker_count > 2 ? "large" : "small"`)'],
    ["greeting", 20, 17, 'a string template with interpolation (`"hello ${upper("world")}!"`)'],
    ["nested_braces", 23, 17, 'a string template with interpolation (`"a${ { x = "}" }.x }b"`)'],
    ["machine_patch", 7, 17, "a heredoc (`<<EOF ...`)"],
    ["flush_patch", 14, 15, "a heredoc (`<<-EOT ...`)"],
    ["names", 46, 14, 'a for expression (`[for p in ["a", "b"] : upper(p)]`)'],
    ["by_name", 47, 14, 'a for expression (`{ for p in ["a", "b"] : p => length(p) }`)'],
    ["first_pool", 48, 14, "a reference (`pools[0].name`)"],
    ["all_sizes", 49, 14, "a reference (`pools[*].size`)"],
  ])("%s at line %d is refused", (path, line, column, what) => {
    const error = editError(text, path, 1, file);
    expect(error.exitCode).toBe(2);
    expect(error.location).toEqual({ file, line, column });
    expect(error.message).toBe(
      `${path} is ${what}, not a literal value; only a literal number, string, bool or null can be edited; change this value by hand`,
    );
  });

  it("refuses a function call", () => {
    const error = editError("max_nodes = max(3, 5)\n", "max_nodes", 4);
    expect(error.message).toContain(
      "max_nodes is a function call (`max(3, 5)`), not a literal value",
    );
    expect(error.location).toEqual({ file: "terraform.tfvars", line: 1, column: 13 });
  });

  it("refuses a multiplication in a real file", () => {
    const vms = readFixture("talos-vms.auto.tfvars");
    const error = editError(vms, "vms.talos-ctrl-02.ram_mb", 8192, "variables.auto.tfvars");
    expect(error.location).toEqual({ file: "variables.auto.tfvars", line: 23, column: 20 });
    expect(error.message).toContain("vms.talos-ctrl-02.ram_mb is an operation (`1024 * 4`)");
  });

  it("refuses a whole object or list, asking for a key or an item", () => {
    const object = editError(text, "labels", "x", file);
    expect(object.message).toBe(
      "labels is an object, not a literal value; it holds several values: name one of its keys in PATH",
    );
    expect(object.location).toEqual({ file, line: 39, column: 10 });
    const list = editError(text, "pools", "x", file);
    expect(list.message).toContain("pools is a list of 2 items, not a literal value");
    expect(list.message).toContain("name one of its items in PATH");
  });
});

describe("editTfvars refuses a file that does not parse, saying where", () => {
  it.each<[string, string, number, number, string]>([
    ["unclosed string", 'a = 1\nb = "abc\nc = 2\n', 2, 5, "this string is not closed on its line"],
    ["missing =", "a = 1\nb 2\n", 2, 3, "expected '=' after b but found '2'"],
    [
      "block",
      'a = 1\nresource "x" "y" {\n}\n',
      2,
      1,
      "resource starts a block, and blocks are not valid in a tfvars file",
    ],
    ["block without labels", "a = 1\nlocals {\n  b = 1\n}\n", 2, 1, "locals starts a block"],
    ["variable set twice", "a = 1\nb = 2\na = 3\n", 3, 1, "a is assigned twice (first at line 1)"],
    [
      "two variables on a line",
      "a = 1 b = 2\n",
      1,
      7,
      "expected a line break after the value of a but found 'b'",
    ],
    ["unclosed object", "a = {\n  b = 1\n", 1, 5, "this object is never closed with '}'"],
    ["unclosed list at the end", "a = [1,\n  2\n", 1, 5, "this list is never closed with ']'"],
    ["unclosed call", "a = max(1,\n", 1, 8, "these arguments are never closed with ')'"],
    [
      "object items on one line without commas",
      "a = { b = 1 c = 2 }\n",
      1,
      13,
      "expected ',', a line break or '}' after the value of \"b\"",
    ],
    [
      "unclosed list",
      "a = [1, 2\nb = 3\n",
      2,
      1,
      "expected ',' or ']' in the list items that start at line 1 but found 'b'",
    ],
    ["invalid escape", 'a = "x\\qy"\n', 1, 7, "invalid escape sequence \\q in a string"],
    [
      "unclosed heredoc",
      "a = <<EOT\nhello\n",
      1,
      5,
      "this heredoc is never closed: no line holds just EOT",
    ],
    [
      "heredoc closing marker at end of file",
      "a = <<EOT\nhello\nEOT",
      3,
      1,
      "must be followed by a line break",
    ],
    [
      "lone carriage return",
      "a = 1\rb = 2\n",
      1,
      6,
      "a carriage return (CR) that is not part of a CRLF line break",
    ],
    ["unclosed block comment", "a = 1\n/* note\n", 2, 1, "this /* comment is never closed with */"],
    [
      "value missing",
      "a =\nb = 1\n",
      1,
      4,
      "expected a value (number, string, bool, null, object, list or expression) but found a line break",
    ],
    ["operator at line end", "a = 1 +\n  2\n", 1, 8, "but found a line break"],
    [
      "unclosed interpolation",
      'a = "${var.x"\n',
      1,
      13,
      "expected '}' to close the interpolation that starts at line 1 but found '\"'",
    ],
    [
      "unclosed directive",
      'a = "%{ if x }y"\n',
      1,
      6,
      "this template directive is never closed with %{ endif }",
    ],
    ["quoted variable name", '"a" = 1\n', 1, 1, "a variable name cannot be quoted"],
    [
      "stray character",
      "a = 1\n@\n",
      2,
      1,
      "expected a variable name (name = value) but found '@'",
    ],
    ["absurd nesting", `a = ${"[".repeat(5000)}`, 1, 205, "nested more than 200 levels deep"],
    [
      "absurd chain of operators",
      `a = ${"!".repeat(5000)}true\n`,
      1,
      205,
      "nested more than 200 levels deep",
    ],
  ])("%s", (_, text, line, column, reason) => {
    const error = editError(text, "a", 1);
    expect(error.exitCode).toBe(2);
    expect(error.location).toEqual({ file: "terraform.tfvars", line, column });
    expect(error.message).toContain("not valid HCL: ");
    expect(error.message).toContain(reason);
  });

  it("counts lines and columns the same in a CRLF file", () => {
    const error = editError("a = 1\r\nb = {\r\n  c = 1 d = 2\r\n}\r\n", "a", 2);
    expect(error.location).toEqual({ file: "terraform.tfvars", line: 3, column: 9 });
  });

  it("reading refuses the same file with the same location", () => {
    const error = errorOf(() => readTfvarsValue("a = 1\nb 2\n", parsePath("a"), "x.tfvars"));
    expect(error.location).toEqual({ file: "x.tfvars", line: 2, column: 3 });
  });
});

describe("editTfvars refuses when HashiCorp's parser cannot check the edit", () => {
  it("refuses a file HashiCorp's parser rejects even though the target is fine", () => {
    // A `null` object key: HashiCorp's converter fails on it, so nothing can be verified.
    const text = "odd = { null = 1 }\nworkers = 2\n";
    const error = editError(text, "workers", 3);
    expect(error).not.toBeInstanceOf(RefusedError);
    expect(error.exitCode).toBe(2);
    expect(error.location).toEqual({ file: "terraform.tfvars" });
    expect(error.message).toContain("HashiCorp's HCL parser does not accept this file");
  });
});

describe("verifyTfvarsEdit", () => {
  const before = parseTfvars('a = 1\nb = "x" # keep\nc = [1, 2]\n', "v.tfvars");

  it("passes the edit that changes only PATH", () => {
    expect(() =>
      verifyTfvarsEdit({
        before,
        edited: 'a = 5\nb = "x" # keep\nc = [1, 2]\n',
        path: parsePath("a"),
        value: 5,
      }),
    ).not.toThrow();
  });

  it("refuses an edited text that also changes another value, naming where", () => {
    const error = errorOf(() =>
      verifyTfvarsEdit({
        before,
        edited: 'a = 5\nb = "x" # keep\nc = [1, 3]\n',
        path: parsePath("a"),
        value: 5,
      }),
    );
    expect(error).toBeInstanceOf(RefusedError);
    expect(error.exitCode).toBe(1);
    expect(error.location).toEqual({ file: "v.tfvars" });
    expect(error.message).toBe(
      "refusing to edit a: after the edit the file reads different data at c[1] than intended; the file was not changed",
    );
  });

  it("refuses an edited text that does not hold VALUE at PATH", () => {
    const error = errorOf(() =>
      verifyTfvarsEdit({
        before,
        edited: 'a = 6\nb = "x" # keep\nc = [1, 2]\n',
        path: parsePath("a"),
        value: 5,
      }),
    );
    expect(error.message).toContain("at a than intended");
  });

  it("refuses a string written as a template, which HashiCorp's converter alone would not notice", () => {
    const edited = 'a = 1\nb = "${x}" # keep\nc = [1, 2]\n';
    const error = errorOf(() =>
      verifyTfvarsEdit({ before, edited, path: parsePath("b"), value: "${x}" }),
    );
    expect(error).toBeInstanceOf(RefusedError);
    expect(error.message).toContain("at b than intended");
  });

  it("refuses an edited text that no longer parses", () => {
    const error = errorOf(() =>
      verifyTfvarsEdit({
        before,
        edited: 'a = 5 5\nb = "x"\nc = [1, 2]\n',
        path: parsePath("a"),
        value: 5,
      }),
    );
    expect(error).toBeInstanceOf(RefusedError);
    expect(error.message).toContain(
      "the edited text would not parse (not valid HCL: expected a line break",
    );
  });
});

describe("editTfvars refuses a VALUE HCL cannot hold as written", () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY])("refuses the number %p", (value) => {
    const error = editError("a = 1\n", "a", value);
    expect(error.message).toContain("is not a finite number");
    expect(error.location).toBeUndefined();
  });

  it("refuses a string that is not in Unicode NFC form, giving the NFC form", () => {
    const error = editError('a = "x"\n', "a", "e\u0301");
    expect(error.message).toContain("is not in Unicode NFC form");
    expect(error.message).toContain('give "é" instead');
  });

  it("refuses a string with an unpaired surrogate", () => {
    const error = editError('a = "x"\n', "a", "\uD800");
    expect(error.message).toContain("unpaired UTF-16 surrogate");
  });
});
